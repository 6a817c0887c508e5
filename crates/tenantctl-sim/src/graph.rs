//! Microsoft Graph v1.0 under `/graph/v1.0/...`: the partner-side discovery endpoints (contracts,
//! GDAP relationships and customers) and the customer-side directory reads (organization, domains,
//! users, subscribedSkus), with Graph's paging, OData options, errors, auth and throttling.
//!
//! Shapes follow the example responses of the learn.microsoft.com/graph/api pages named at each
//! builder. `@odata.context` uses graph.microsoft.com like the real service; `@odata.nextLink`
//! points at this simulator and carries the original options plus an opaque `$skiptoken`.

#![allow(clippy::result_large_err)] // handlers return ready `Response`s as errors

use crate::auth::{authenticate, Caller, AUD_GRAPH};
use crate::errors::{graph_error, graph_json, RequestIds};
use crate::fleet::{Relationship, Tenant, TenantKind, User};
use crate::ids::hash;
use crate::odata::{self, fp, EntitySpec, FilterProp, Query};
use crate::server::Sim;
use crate::skus::Catalog;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use serde_json::{json, Map, Value};
use std::sync::Arc;

pub(crate) const CTX: &str = "https://graph.microsoft.com/v1.0/$metadata#";
pub(crate) const DENIED: &str = "Insufficient privileges to complete the operation.";

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/graph/v1.0/contracts", get(contracts))
        .route(
            "/graph/v1.0/tenantRelationships/delegatedAdminRelationships",
            get(relationships),
        )
        .route(
            "/graph/v1.0/tenantRelationships/delegatedAdminRelationships/{id}",
            get(relationship),
        )
        .route(
            "/graph/v1.0/tenantRelationships/delegatedAdminRelationships/{id}/accessAssignments",
            get(access_assignments),
        )
        .route(
            "/graph/v1.0/tenantRelationships/delegatedAdminCustomers",
            get(gdap_customers),
        )
        .route("/graph/v1.0/organization", get(organization))
        .route(
            "/graph/v1.0/domains",
            get(domains).post(crate::graph_writes::add_domain),
        )
        .route(
            "/graph/v1.0/domains/{id}",
            get(domain).delete(crate::graph_writes::delete_domain),
        )
        .route("/graph/v1.0/users", get(users).post(crate::graph_writes::create_user))
        .route(
            "/graph/v1.0/users/{id}",
            get(user)
                .patch(crate::graph_writes::update_user)
                .delete(crate::graph_writes::delete_user),
        )
        .merge(crate::graph_writes::routes())
        .route("/graph/v1.0/subscribedSkus", get(subscribed_skus))
}

// ---------- entity specs ----------

const USER_DEFAULT: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

/// learn.microsoft.com/graph/api/user-list: `$top` 1–999 (default 100), `$orderby` displayName and
/// userPrincipalName by default, createdDateTime with advanced parameters (aad-advanced-queries).
pub static USERS: EntitySpec = EntitySpec {
    context: "users",
    resource: "User",
    type_name: "microsoft.graph.user",
    selectable: &[
        "businessPhones",
        "displayName",
        "givenName",
        "jobTitle",
        "mail",
        "mobilePhone",
        "officeLocation",
        "preferredLanguage",
        "surname",
        "userPrincipalName",
        "id",
        "accountEnabled",
        "assignedLicenses",
        "city",
        "country",
        "createdDateTime",
        "department",
        "mailNickname",
        "usageLocation",
        "userType",
    ],
    default_select: Some(USER_DEFAULT),
    filterable: &[
        fp("id", false),
        fp("displayName", true),
        fp("givenName", true),
        fp("surname", true),
        FilterProp {
            name: "userPrincipalName",
            starts_with: true,
            ends_with: true,
            any_field: None,
        },
        FilterProp {
            name: "mail",
            starts_with: true,
            ends_with: true,
            any_field: None,
        },
        fp("mailNickname", true),
        fp("jobTitle", true),
        fp("department", true),
        fp("city", true),
        fp("country", true),
        fp("usageLocation", true),
        fp("preferredLanguage", true),
        fp("accountEnabled", false),
        fp("userType", false),
        FilterProp {
            name: "assignedLicenses",
            starts_with: false,
            ends_with: false,
            any_field: Some("skuId"),
        },
    ],
    searchable: &[
        "displayName",
        "givenName",
        "surname",
        "mail",
        "userPrincipalName",
        "mailNickname",
        "jobTitle",
        "department",
    ],
    orderby_default: &["displayName", "userPrincipalName"],
    orderby_advanced: &["createdDateTime"],
    default_top: 100,
    max_top: 999,
    supports_filter: true,
    directory: true,
};

/// learn.microsoft.com/graph/api/contract-list: `$filter` on customerId, defaultDomainName, displayName.
pub static CONTRACTS: EntitySpec = EntitySpec {
    context: "contracts",
    resource: "Contract",
    type_name: "microsoft.graph.contract",
    selectable: &["id", "contractType", "customerId", "defaultDomainName", "displayName"],
    default_select: None,
    filterable: &[
        fp("id", false),
        fp("customerId", false),
        fp("defaultDomainName", true),
        fp("displayName", true),
    ],
    searchable: &[],
    orderby_default: &[],
    orderby_advanced: &[],
    default_top: 100,
    max_top: 999,
    supports_filter: true,
    directory: true,
};

/// learn.microsoft.com/graph/api/tenantrelationship-list-delegatedadminrelationships: `$top` ≤ 300.
pub static RELATIONSHIPS: EntitySpec = EntitySpec {
    context: "delegatedAdminRelationships",
    resource: "DelegatedAdminRelationship",
    type_name: "microsoft.graph.delegatedAdminRelationship",
    selectable: &[
        "id",
        "displayName",
        "duration",
        "customer",
        "accessDetails",
        "status",
        "autoExtendDuration",
        "createdDateTime",
        "lastModifiedDateTime",
        "activatedDateTime",
        "endDateTime",
    ],
    default_select: None,
    filterable: &[
        fp("id", false),
        fp("displayName", true),
        fp("status", false),
        fp("customer/tenantId", false),
        fp("customer/displayName", true),
        fp("autoExtendDuration", false),
    ],
    searchable: &[],
    orderby_default: &["displayName", "createdDateTime", "endDateTime", "status"],
    orderby_advanced: &[],
    default_top: 300,
    max_top: 300,
    supports_filter: true,
    directory: false,
};

/// learn.microsoft.com/graph/api/delegatedadminrelationship-list-accessassignments.
pub static ASSIGNMENTS: EntitySpec = EntitySpec {
    context: "accessAssignments",
    resource: "DelegatedAdminAccessAssignment",
    type_name: "microsoft.graph.delegatedAdminAccessAssignment",
    selectable: &[
        "id",
        "status",
        "createdDateTime",
        "lastModifiedDateTime",
        "accessContainer",
        "accessDetails",
    ],
    default_select: None,
    filterable: &[
        fp("id", false),
        fp("status", false),
        fp("accessContainer/accessContainerId", false),
    ],
    searchable: &[],
    orderby_default: &["createdDateTime", "status"],
    orderby_advanced: &[],
    default_top: 300,
    max_top: 300,
    supports_filter: true,
    directory: false,
};

/// learn.microsoft.com/graph/api/tenantrelationship-list-delegatedadmincustomers.
pub static GDAP_CUSTOMERS: EntitySpec = EntitySpec {
    context: "delegatedAdminCustomers",
    resource: "DelegatedAdminCustomer",
    type_name: "microsoft.graph.delegatedAdminCustomer",
    selectable: &["id", "tenantId", "displayName"],
    default_select: None,
    filterable: &[fp("id", false), fp("tenantId", false), fp("displayName", true)],
    searchable: &[],
    orderby_default: &["displayName"],
    orderby_advanced: &[],
    default_top: 300,
    max_top: 300,
    supports_filter: true,
    directory: false,
};

/// learn.microsoft.com/graph/api/domain-list (`$select` only).
pub static DOMAINS: EntitySpec = EntitySpec {
    context: "domains",
    resource: "Domain",
    type_name: "microsoft.graph.domain",
    selectable: &[
        "authenticationType",
        "availabilityStatus",
        "id",
        "isAdminManaged",
        "isDefault",
        "isInitial",
        "isRoot",
        "isVerified",
        "supportedServices",
        "passwordValidityPeriodInDays",
        "passwordNotificationWindowInDays",
        "state",
    ],
    default_select: None,
    filterable: &[],
    searchable: &[],
    orderby_default: &[],
    orderby_advanced: &[],
    default_top: 999,
    max_top: 999,
    supports_filter: false,
    directory: true,
};

/// learn.microsoft.com/graph/api/subscribedsku-list: "This method supports only the $select".
pub static SKUS: EntitySpec = EntitySpec {
    context: "subscribedSkus",
    resource: "SubscribedSku",
    type_name: "microsoft.graph.subscribedSku",
    selectable: &[
        "accountName",
        "accountId",
        "appliesTo",
        "capabilityStatus",
        "consumedUnits",
        "id",
        "prepaidUnits",
        "servicePlans",
        "skuId",
        "skuPartNumber",
        "subscriptionIds",
    ],
    default_select: None,
    filterable: &[],
    searchable: &[],
    orderby_default: &[],
    orderby_advanced: &[],
    default_top: 999,
    max_top: 999,
    supports_filter: false,
    directory: true,
};

/// learn.microsoft.com/graph/api/organization-list (`$select` only).
pub static ORGANIZATION: EntitySpec = EntitySpec {
    context: "organization",
    resource: "Organization",
    type_name: "microsoft.graph.organization",
    selectable: &[
        "id",
        "deletedDateTime",
        "businessPhones",
        "city",
        "country",
        "countryLetterCode",
        "createdDateTime",
        "defaultUsageLocation",
        "displayName",
        "marketingNotificationEmails",
        "onPremisesLastSyncDateTime",
        "onPremisesSyncEnabled",
        "partnerTenantType",
        "postalCode",
        "preferredLanguage",
        "securityComplianceNotificationMails",
        "securityComplianceNotificationPhones",
        "state",
        "street",
        "technicalNotificationMails",
        "tenantType",
        "directorySizeQuota",
        "privacyProfile",
        "assignedPlans",
        "provisionedPlans",
        "verifiedDomains",
    ],
    default_select: None,
    filterable: &[],
    searchable: &[],
    orderby_default: &[],
    orderby_advanced: &[],
    default_top: 999,
    max_top: 999,
    supports_filter: false,
    directory: true,
};

// ---------- request plumbing ----------

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// Needs the partner tenant.
    Partner,
    /// A tenant's own directory; customer tenants need GDAP access or consent.
    Directory,
}

pub(crate) struct Req<'a> {
    pub sim: &'a Sim,
    pub t: &'a Tenant,
    pub caller: Caller,
    pub ids: RequestIds,
    pub eventual: bool,
}

fn unauthorized(msg: &str, ids: &RequestIds) -> Response {
    graph_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", msg, ids)
}

pub(crate) fn denied(ids: &RequestIds) -> Response {
    graph_error(StatusCode::FORBIDDEN, "Authorization_RequestDenied", DENIED, ids)
}

/// Authenticates, resolves the token's tenant and authorises the caller there.
pub(crate) fn begin<'a>(sim: &'a Sim, headers: &HeaderMap, side: Side) -> Result<Req<'a>, Response> {
    let ids = RequestIds::from_headers(headers);
    let caller = authenticate(&sim.keys, headers, AUD_GRAPH).map_err(|e| unauthorized(e.graph_message(), &ids))?;
    let Some(t) = sim.fleet.tenant_by_id(caller.tenant_id) else {
        return Err(unauthorized("Access token validation failure.", &ids));
    };
    match side {
        Side::Partner => {
            if t.kind != TenantKind::Partner {
                return Err(denied(&ids));
            }
        }
        Side::Directory => {
            if t.kind == TenantKind::Customer {
                let a = sim.access(t);
                let ok = if caller.delegated {
                    a.active_relationship && a.consent && !a.roles.is_empty()
                } else {
                    a.consent
                };
                if !ok {
                    return Err(denied(&ids));
                }
            }
        }
    }
    let eventual = headers
        .get("consistencylevel")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("eventual"));
    Ok(Req {
        sim,
        t,
        caller,
        ids,
        eventual,
    })
}

impl Req<'_> {
    pub(crate) fn query(&self, raw: &Option<String>, spec: &EntitySpec) -> Result<Query, Response> {
        odata::parse(raw.as_deref(), spec, self.eventual)
            .map_err(|e| graph_error(StatusCode::BAD_REQUEST, e.code, &e.message, &self.ids))
    }

    /// Charges the request's resource units (learn.microsoft.com/graph/throttling-limits).
    pub(crate) fn charge(&self, base: u32, q: Option<&Query>) -> Result<u32, Response> {
        let cost = crate::throttle::graph_cost(
            base,
            q.is_some_and(|q| q.select.is_some()),
            false,
            q.and_then(|q| q.top),
        );
        match self.sim.throttle.charge(self.caller.app_id, self.t, cost, false) {
            Ok(()) => Ok(cost),
            Err(th) => {
                let mut r = graph_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "TooManyRequests",
                    "Please retry again later.",
                    &self.ids,
                );
                let h = r.headers_mut();
                set(h, "retry-after", &th.retry_after_secs.to_string());
                set(h, "x-ms-throttle-scope", &th.scope);
                set(h, "x-ms-throttle-information", th.information);
                set(h, "x-ms-resource-unit", &cost.to_string());
                Err(r)
            }
        }
    }

    pub(crate) fn ok(&self, body: Value, cost: u32) -> Response {
        let mut r = graph_json(StatusCode::OK, body, &self.ids);
        set(r.headers_mut(), "x-ms-resource-unit", &cost.to_string());
        r
    }

    pub(crate) fn not_found(&self, key: &str) -> Response {
        graph_error(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!(
                "Resource '{key}' does not exist or one of its queried reference-property objects are not present."
            ),
            &self.ids,
        )
    }
}

pub(crate) fn set(h: &mut HeaderMap, name: &'static str, v: &str) {
    if let Ok(v) = HeaderValue::from_str(v) {
        h.insert(HeaderName::from_static(name), v);
    }
}

pub(crate) type Out = Result<Response, Response>;

pub(crate) fn done(r: Out) -> Response {
    r.unwrap_or_else(|e| e)
}

/// `@odata.context` for a collection (`#users` or `#users(id,displayName)`).
pub(crate) fn context(base: &str, q: &Query) -> String {
    match &q.select {
        Some(s) => format!("{base}({})", s.join(",")),
        None => base.to_owned(),
    }
}

/// One page of a collection of `len` entities produced on demand by `item(i)` (full JSON).
/// Positions in the skiptoken are raw indices, or ranks in the sorted order with `$orderby`.
#[allow(clippy::too_many_arguments)]
fn page(
    r: &Req<'_>,
    spec: &EntitySpec,
    q: &Query,
    path: &str,
    ctx: String,
    len: u64,
    item: &dyn Fn(u64) -> Value,
    sparse: bool,
    cost: u32,
) -> Out {
    let fpr = q.fingerprint(hash(&[r.t.idx as u64, odata::hash_str(path)]));
    let start = match &q.skiptoken {
        Some(tok) => odata::read_skiptoken(tok, fpr)
            .map_err(|e| graph_error(StatusCode::BAD_REQUEST, e.code, &e.message, &r.ids))?,
        None => 0,
    };
    let n = q.page_size(spec) as u64;
    // `Value::Null` marks an entity that is gone (a deleted user): never listed or counted.
    let hit = |v: &Value| !v.is_null() && q.hit(v);
    let mut value = Vec::new();
    let next;
    let total;
    let want_count = q.count && (q.eventual || !spec.directory) && q.skiptoken.is_none();
    if let Some((prop, desc)) = &q.orderby {
        let mut keyed: Vec<(String, u64)> = (0..len)
            .filter_map(|i| {
                let v = item(i);
                hit(&v).then(|| (odata::sort_key(&v, prop), i))
            })
            .collect();
        keyed.sort();
        if *desc {
            keyed.reverse();
        }
        let from = (start as usize).min(keyed.len());
        let to = (from + n as usize).min(keyed.len());
        for (_, i) in &keyed[from..to] {
            value.push(odata::project(&item(*i), q, spec));
        }
        next = (to < keyed.len()).then_some(to as u64);
        total = keyed.len() as u64;
    } else {
        let mut i = start;
        while i < len && (value.len() as u64) < n {
            let v = item(i);
            if hit(&v) {
                value.push(odata::project(&v, q, spec));
            }
            i += 1;
        }
        // The next page starts at the next match, so no page is empty but the only one.
        let mut nx = None;
        while i < len {
            if hit(&item(i)) {
                nx = Some(i);
                break;
            }
            i += 1;
        }
        next = nx;
        total = if !want_count {
            0
        } else if !q.narrows() && !sparse {
            len
        } else {
            (0..len).filter(|&i| hit(&item(i))).count() as u64
        };
    }
    let mut body = Map::new();
    body.insert("@odata.context".into(), Value::String(ctx));
    if want_count {
        body.insert("@odata.count".into(), json!(total));
    }
    if let Some(pos) = next {
        let tok = odata::make_skiptoken(pos, fpr);
        let carried = q.carried_query();
        let sep = if carried.is_empty() { "" } else { "&" };
        body.insert(
            "@odata.nextLink".into(),
            Value::String(format!(
                "{}/graph/v1.0/{path}?{carried}{sep}$skiptoken={tok}",
                r.sim.base_url
            )),
        );
    }
    body.insert("value".into(), Value::Array(value));
    Ok(r.ok(Value::Object(body), cost))
}

// ---------- dates ----------

fn ymd_hms(ts: i64) -> String {
    let d = time::OffsetDateTime::from_unix_timestamp(ts).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        d.year(),
        d.month() as u8,
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    )
}

/// Directory dates: `2021-04-06T13:12:26Z`.
pub fn date(ts: i64) -> String {
    format!("{}Z", ymd_hms(ts))
}

/// GDAP dates carry seven fractional digits: `2022-02-10T11:24:42.0000000Z`.
pub fn date7(ts: i64) -> String {
    format!("{}.0000000Z", ymd_hms(ts))
}

fn etag(parts: &[u64]) -> String {
    let h = hash(parts);
    let inner = format!("'\"{:08x}-0000-0200-0000-{:012x}\"'", h >> 32, h & 0xFFFF_FFFF_FFFF);
    format!("W/\"{}\"", base64::engine::general_purpose::STANDARD.encode(inner))
}

// ---------- JSON builders ----------

/// learn.microsoft.com/graph/api/resources/user (property names), user-list example order.
pub(crate) fn user_json(sim: &Sim, t: &Tenant, u: &User) -> Value {
    let cat = Catalog::get();
    let licenses: Vec<Value> = u
        .licenses
        .iter()
        .map(|&s| json!({"disabledPlans": [], "skuId": cat.skus[t.subscriptions[s].sku].id.to_string()}))
        .collect();
    let _ = sim;
    json!({
        "businessPhones": u.business_phones,
        "displayName": u.display_name,
        "givenName": u.given_name,
        "jobTitle": u.job_title,
        "mail": u.mail,
        "mobilePhone": u.mobile_phone,
        "officeLocation": u.office_location,
        "preferredLanguage": u.preferred_language,
        "surname": u.surname,
        "userPrincipalName": u.user_principal_name,
        "id": u.id.to_string(),
        "accountEnabled": u.account_enabled,
        "assignedLicenses": licenses,
        "city": u.city,
        "country": u.country,
        "createdDateTime": date(u.created),
        "department": u.department,
        "mailNickname": u.mail_nickname,
        "usageLocation": u.usage_location,
        "userType": "Member",
    })
}

/// learn.microsoft.com/graph/api/resources/domain.
pub(crate) fn domain_json(d: &crate::fleet::Domain) -> Value {
    json!({
        "authenticationType": d.authentication_type,
        "availabilityStatus": null,
        "id": d.name,
        "isAdminManaged": true,
        "isDefault": d.is_default,
        "isInitial": d.is_initial,
        "isRoot": true,
        "isVerified": d.is_verified,
        "supportedServices": d.supported_services,
        "passwordValidityPeriodInDays": 90,
        "passwordNotificationWindowInDays": 14,
        "state": null,
    })
}

/// The `service` of an assigned plan, from the plan name's family.
fn plan_service(name: &str) -> &'static str {
    let n = name.to_ascii_uppercase();
    if n.starts_with("EXCHANGE") {
        "exchange"
    } else if n.starts_with("SHAREPOINT") || n.starts_with("ONEDRIVE") {
        "SharePoint"
    } else if n.starts_with("MCO") {
        "MicrosoftCommunicationsOnline"
    } else if n.starts_with("TEAMS") {
        "TeamspaceAPI"
    } else if n.contains("OFFICE") || n.starts_with("O365") {
        "MicrosoftOffice"
    } else if n.starts_with("INTUNE") {
        "SCO"
    } else if n.starts_with("AAD") {
        "AADPremiumService"
    } else if n.starts_with("FLOW") {
        "ProcessSimple"
    } else if n.starts_with("POWERAPPS") {
        "PowerAppsService"
    } else {
        "MicrosoftOffice"
    }
}

/// learn.microsoft.com/graph/api/organization-list example.
fn organization_json(t: &Tenant, domains: &[crate::fleet::Domain]) -> Value {
    let cat = Catalog::get();
    let mut assigned = Vec::new();
    for s in &t.subscriptions {
        for p in &cat.skus[s.sku].plans {
            assigned.push(json!({
                "assignedDateTime": date(s.created),
                "capabilityStatus": if s.capability_status == "Suspended" { "Suspended" } else { "Enabled" },
                "service": plan_service(&p.name),
                "servicePlanId": p.id.to_string(),
            }));
        }
    }
    let verified: Vec<Value> = domains
        .iter()
        .filter(|d| d.is_verified)
        .map(|d| {
            let caps = if d.supported_services.is_empty() {
                "None".to_owned()
            } else {
                d.supported_services
                    .iter()
                    .filter(|s| matches!(**s, "Email" | "OfficeCommunicationsOnline"))
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            json!({
                "capabilities": if caps.is_empty() { "None".to_owned() } else { caps },
                "isDefault": d.is_default,
                "isInitial": d.is_initial,
                "name": d.name,
                "type": d.authentication_type,
            })
        })
        .collect();
    json!({
        "id": t.id.to_string(),
        "deletedDateTime": null,
        "businessPhones": [],
        "city": t.city,
        "country": null,
        "countryLetterCode": t.country,
        "createdDateTime": date(t.created),
        "defaultUsageLocation": t.country,
        "displayName": t.display_name,
        "marketingNotificationEmails": [],
        "onPremisesLastSyncDateTime": null,
        "onPremisesSyncEnabled": null,
        "partnerTenantType": if t.kind == TenantKind::Partner { Value::from("ResellerPartnerDelegatedAdmin") } else { Value::Null },
        "postalCode": null,
        "preferredLanguage": "en",
        "securityComplianceNotificationMails": [],
        "securityComplianceNotificationPhones": [],
        "state": null,
        "street": null,
        "technicalNotificationMails": [format!("admin@{}", t.initial_domain)],
        "tenantType": "AAD",
        "directorySizeQuota": {"used": t.user_count as u64 + 50, "total": 300000},
        "privacyProfile": null,
        "assignedPlans": assigned,
        "provisionedPlans": [],
        "verifiedDomains": verified,
    })
}

/// learn.microsoft.com/graph/api/subscribedsku-list example; one entry per SKU.
pub(crate) fn skus_json(t: &Tenant, o: Option<&crate::overlay::TenantOverlay>) -> Vec<Value> {
    let cat = Catalog::get();
    let mut order: Vec<usize> = Vec::new();
    for s in &t.subscriptions {
        if !order.contains(&s.sku) {
            order.push(s.sku);
        }
    }
    order
        .into_iter()
        .map(|k| {
            let subs: Vec<_> = t.subscriptions.iter().filter(|s| s.sku == k).collect();
            let sku = &cat.skus[k];
            let sum = |f: fn(&crate::fleet::Subscription) -> u32| subs.iter().map(|s| f(s)).sum::<u32>();
            let status = subs[0].capability_status;
            json!({
                "accountName": t.display_name,
                "accountId": t.id.to_string(),
                "appliesTo": "User",
                "capabilityStatus": status,
                "consumedUnits": sum(|s| s.consumed) as i64
                    + o.and_then(|o| o.consumed_delta.get(&sku.id)).copied().unwrap_or(0),
                "id": format!("{}_{}", t.id, sku.id),
                "prepaidUnits": {
                    "enabled": sum(|s| s.enabled),
                    "suspended": sum(|s| s.suspended),
                    "warning": sum(|s| s.warning),
                    "lockedOut": sum(|s| s.locked_out),
                },
                "servicePlans": sku.plans.iter().map(|p| json!({
                    "servicePlanId": p.id.to_string(),
                    "servicePlanName": p.name,
                    "provisioningStatus": if status == "Suspended" { "Disabled" } else { "Success" },
                    "appliesTo": "User",
                })).collect::<Vec<_>>(),
                "skuId": sku.id.to_string(),
                "skuPartNumber": sku.part_number,
                "subscriptionIds": subs.iter().map(|s| s.subscription_id.to_string()).collect::<Vec<_>>(),
            })
        })
        .collect()
}

fn roles_json(roles: &[&str]) -> Value {
    json!({"unifiedRoles": roles.iter().map(|r| json!({"roleDefinitionId": r})).collect::<Vec<_>>()})
}

/// learn.microsoft.com/graph/api/tenantrelationship-list-delegatedadminrelationships example.
fn relationship_json(t: &Tenant, r: &Relationship) -> Value {
    // Not yet activated relationships have null activation and end dates (list example, third item);
    // ended ones were last modified when they ended.
    let pending = matches!(r.status, "created" | "approvalPending" | "approved" | "activating");
    let ended = matches!(r.status, "expired" | "terminated");
    let last_modified = if ended { r.end } else { r.activated.max(r.created) };
    let opt = |on: bool, ts: i64| if on { Value::from(date7(ts)) } else { Value::Null };
    json!({
        "@odata.type": "#microsoft.graph.delegatedAdminRelationship",
        "@odata.etag": etag(&[t.idx as u64, odata::hash_str(&r.id), odata::hash_str(r.status)]),
        "id": r.id,
        "displayName": r.display_name,
        "duration": format!("P{}D", r.duration_days),
        "customer": {"tenantId": t.id.to_string(), "displayName": t.display_name},
        "accessDetails": roles_json(&r.roles),
        "status": r.status,
        "autoExtendDuration": r.auto_extend,
        "createdDateTime": date7(r.created),
        "lastModifiedDateTime": date7(if pending { r.created } else { last_modified }),
        "activatedDateTime": opt(!pending && r.activated > 0, r.activated),
        "endDateTime": opt(!pending, r.end),
    })
}

/// learn.microsoft.com/graph/api/delegatedadminrelationship-list-accessassignments example.
fn assignment_json(a: &crate::fleet::AccessAssignment) -> Value {
    json!({
        "@odata.etag": etag(&[a.id.tail_u32() as u64, odata::hash_str(a.status)]),
        "id": a.id.to_string(),
        "status": a.status,
        "createdDateTime": date7(a.created),
        "lastModifiedDateTime": date7(a.created),
        "accessContainer": {"accessContainerId": a.group_id.to_string(), "accessContainerType": "securityGroup"},
        "accessDetails": roles_json(&a.roles),
    })
}

fn vec_page(r: &Req<'_>, spec: &EntitySpec, q: &Query, path: &str, ctx: String, items: Vec<Value>, cost: u32) -> Out {
    page(
        r,
        spec,
        q,
        path,
        ctx,
        items.len() as u64,
        &|i| items[i as usize].clone(),
        false,
        cost,
    )
}

// ---------- partner side ----------

async fn contracts(State(sim): State<Arc<Sim>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    done((|| {
        let r = begin(&sim, &headers, Side::Directory)?;
        let q = r.query(&raw, &CONTRACTS)?;
        let cost = r.charge(3, Some(&q))?;
        // Contracts exist only in partner tenants (contract-list).
        let items: Vec<Value> = if r.t.kind == TenantKind::Partner {
            sim.fleet
                .customers()
                .iter()
                .filter_map(|t| {
                    t.contract.as_ref().map(|c| {
                        json!({
                            "id": c.id.to_string(),
                            "contractType": c.contract_type,
                            "customerId": t.id.to_string(),
                            "defaultDomainName": c.default_domain_name,
                            "displayName": c.display_name,
                        })
                    })
                })
                .collect()
        } else {
            vec![]
        };
        vec_page(
            &r,
            &CONTRACTS,
            &q,
            "contracts",
            context(&format!("{CTX}contracts"), &q),
            items,
            cost,
        )
    })())
}

fn all_relationships(sim: &Sim) -> Vec<Value> {
    let mut out = Vec::new();
    for t in sim.fleet.customers() {
        for rel in sim.relationships(t) {
            out.push(relationship_json(t, &rel));
        }
    }
    out
}

const GDAP_CTX: &str = "https://graph.microsoft.com/v1.0/tenantRelationships/$metadata#";

async fn relationships(State(sim): State<Arc<Sim>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    done((|| {
        let r = begin(&sim, &headers, Side::Partner)?;
        let q = r.query(&raw, &RELATIONSHIPS)?;
        let cost = r.charge(1, Some(&q))?;
        let items = all_relationships(&sim);
        let ctx = context(&format!("{GDAP_CTX}delegatedAdminRelationships"), &q);
        vec_page(
            &r,
            &RELATIONSHIPS,
            &q,
            "tenantRelationships/delegatedAdminRelationships",
            ctx,
            items,
            cost,
        )
    })())
}

fn find_relationship(sim: &Sim, id: &str) -> Option<(u32, Relationship)> {
    sim.fleet.customers().iter().find_map(|t| {
        if !t.relationships.iter().any(|r| r.id.eq_ignore_ascii_case(id)) {
            return None;
        }
        sim.relationships(t)
            .into_iter()
            .find(|r| r.id.eq_ignore_ascii_case(id))
            .map(|r| (t.idx, r))
    })
}

async fn relationship(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    done((|| {
        let r = begin(&sim, &headers, Side::Partner)?;
        let q = r.query(&raw, &RELATIONSHIPS)?;
        let cost = r.charge(1, Some(&q))?;
        let Some((ti, rel)) = find_relationship(&sim, &id) else {
            return Err(r.not_found(&id));
        };
        let t = &sim.fleet.tenants[ti as usize];
        let mut v = odata::project(&relationship_json(t, &rel), &q, &RELATIONSHIPS);
        let mut body = Map::new();
        body.insert(
            "@odata.context".into(),
            Value::String(format!(
                "{}/$entity",
                context(&format!("{GDAP_CTX}delegatedAdminRelationships"), &q)
            )),
        );
        if let Some(o) = v.as_object_mut() {
            body.append(o);
        }
        Ok(r.ok(Value::Object(body), cost))
    })())
}

async fn access_assignments(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    done((|| {
        let r = begin(&sim, &headers, Side::Partner)?;
        let q = r.query(&raw, &ASSIGNMENTS)?;
        let cost = r.charge(1, Some(&q))?;
        let Some((_, rel)) = find_relationship(&sim, &id) else {
            return Err(r.not_found(&id));
        };
        let items: Vec<Value> = rel.assignments.iter().map(assignment_json).collect();
        let ctx = context(
            &format!("{GDAP_CTX}delegatedAdminRelationships('{}')/accessAssignments", rel.id),
            &q,
        );
        let path = format!(
            "tenantRelationships/delegatedAdminRelationships/{}/accessAssignments",
            rel.id
        );
        vec_page(&r, &ASSIGNMENTS, &q, &path, ctx, items, cost)
    })())
}

async fn gdap_customers(State(sim): State<Arc<Sim>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    done((|| {
        let r = begin(&sim, &headers, Side::Partner)?;
        let q = r.query(&raw, &GDAP_CUSTOMERS)?;
        let cost = r.charge(1, Some(&q))?;
        // Customers with at least one active relationship.
        let items: Vec<Value> = sim
            .fleet
            .customers()
            .iter()
            .filter(|t| sim.relationships(t).iter().any(|rel| rel.status == "active"))
            .map(|t| {
                json!({
                    "@odata.type": "#microsoft.graph.delegatedAdminCustomer",
                    "@odata.etag": etag(&[t.idx as u64, 0xC0]),
                    "id": t.id.to_string(),
                    "tenantId": t.id.to_string(),
                    "displayName": t.display_name,
                })
            })
            .collect();
        let ctx = context(&format!("{GDAP_CTX}delegatedAdminCustomers"), &q);
        vec_page(
            &r,
            &GDAP_CUSTOMERS,
            &q,
            "tenantRelationships/delegatedAdminCustomers",
            ctx,
            items,
            cost,
        )
    })())
}

// ---------- customer side ----------

async fn organization(State(sim): State<Arc<Sim>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    done((|| {
        let r = begin(&sim, &headers, Side::Directory)?;
        let q = r.query(&raw, &ORGANIZATION)?;
        let cost = r.charge(1, Some(&q))?;
        let ov = sim.writes.tenants.read();
        let items = vec![organization_json(r.t, &tenant_domains(r.t, ov.get(&r.t.idx)))];
        vec_page(
            &r,
            &ORGANIZATION,
            &q,
            "organization",
            context(&format!("{CTX}organization"), &q),
            items,
            cost,
        )
    })())
}

async fn domains(State(sim): State<Arc<Sim>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    done((|| {
        let r = begin(&sim, &headers, Side::Directory)?;
        let q = r.query(&raw, &DOMAINS)?;
        let cost = r.charge(1, Some(&q))?;
        let ov = sim.writes.tenants.read();
        let items = tenant_domains(r.t, ov.get(&r.t.idx)).iter().map(domain_json).collect();
        vec_page(
            &r,
            &DOMAINS,
            &q,
            "domains",
            context(&format!("{CTX}domains"), &q),
            items,
            cost,
        )
    })())
}

async fn domain(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    done((|| {
        let r = begin(&sim, &headers, Side::Directory)?;
        let q = r.query(&raw, &DOMAINS)?;
        let cost = r.charge(1, Some(&q))?;
        let ov = sim.writes.tenants.read();
        let all = tenant_domains(r.t, ov.get(&r.t.idx));
        let Some(d) = all.iter().find(|d| d.name.eq_ignore_ascii_case(&id)) else {
            return Err(r.not_found(&id));
        };
        Ok(r.ok(
            entity(
                &format!("{CTX}domains"),
                &q,
                odata::project(&domain_json(d), &q, &DOMAINS),
            ),
            cost,
        ))
    })())
}

/// A user by object id or UPN, after writes: its index and full JSON.
pub(crate) fn find_user(
    sim: &Sim,
    t: &Tenant,
    o: Option<&crate::overlay::TenantOverlay>,
    key: &str,
) -> Option<(u64, Value)> {
    let generated = |i: u64| user_json(sim, t, &sim.fleet.user(t, i as u32));
    let matches = |v: &Value| {
        v["id"].as_str().is_some_and(|x| x.eq_ignore_ascii_case(key))
            || v["userPrincipalName"]
                .as_str()
                .is_some_and(|x| x.eq_ignore_ascii_case(key))
    };
    if let Some(o) = o {
        let base = t.user_count as u64;
        for (k, v) in o.created.iter().enumerate() {
            if let Some(v) = v.as_ref().filter(|v| matches(v)) {
                return Some((base + k as u64, v.clone()));
            }
        }
        for (i, v) in &o.replaced {
            if !o.deleted.contains(i) && matches(v) {
                return Some((*i, v.clone()));
            }
        }
    }
    let i = match key.parse::<crate::ids::Guid>() {
        Ok(g) => sim.fleet.user_index_by_id(t, g),
        Err(_) => sim.fleet.user_index_by_upn(t, key),
    }? as u64;
    match o {
        None => Some((i, generated(i))),
        Some(o) => {
            let v = o.user(t, i, &generated)?;
            matches(&v).then_some((i, v))
        }
    }
}

/// The tenant's domains after writes.
pub(crate) fn tenant_domains(t: &Tenant, o: Option<&crate::overlay::TenantOverlay>) -> Vec<crate::fleet::Domain> {
    let mut out: Vec<crate::fleet::Domain> = t
        .domains
        .iter()
        .filter(|d| o.is_none_or(|o| !o.removed_domains.contains(&d.name.to_ascii_lowercase())))
        .cloned()
        .collect();
    if let Some(o) = o {
        for d in &o.domains {
            out.push(crate::fleet::Domain {
                name: d.name.clone(),
                is_verified: d.verified,
                is_default: false,
                is_initial: false,
                authentication_type: "Managed",
                supported_services: if d.verified {
                    vec!["Email", "OfficeCommunicationsOnline"]
                } else {
                    vec![]
                },
            });
        }
    }
    out
}

pub(crate) fn entity(base: &str, q: &Query, v: Value) -> Value {
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        Value::String(format!("{}/$entity", context(base, q))),
    );
    if let Value::Object(mut o) = v {
        body.append(&mut o);
    }
    Value::Object(body)
}

async fn users(State(sim): State<Arc<Sim>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    done((|| {
        let r = begin(&sim, &headers, Side::Directory)?;
        let q = r.query(&raw, &USERS)?;
        let cost = r.charge(2, Some(&q))?;
        let t = r.t;
        let ov = sim.writes.tenants.read();
        let o = ov.get(&t.idx);
        let generated = |i: u64| user_json(&sim, t, &sim.fleet.user(t, i as u32));
        let item = |i: u64| match o {
            None => generated(i),
            Some(o) => o.user(t, i, &generated).unwrap_or(Value::Null),
        };
        let len = o.map(|o| o.len(t)).unwrap_or(t.user_count as u64);
        page(
            &r,
            &USERS,
            &q,
            "users",
            context(&format!("{CTX}users"), &q),
            len,
            &item,
            o.is_some(),
            cost,
        )
    })())
}

async fn user(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(key): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    done((|| {
        let r = begin(&sim, &headers, Side::Directory)?;
        let t = r.t;
        if key == "$count" {
            // aad-advanced-queries: `/$count` needs ConsistencyLevel: eventual.
            if !r.eventual {
                return Err(graph_error(
                    StatusCode::BAD_REQUEST,
                    "Request_BadRequest",
                    "$count is not currently supported.",
                    &r.ids,
                ));
            }
            // `$count=true` is implied for the advanced filters on this segment.
            let mut raw2 = raw.clone().unwrap_or_default();
            if !raw2.to_ascii_lowercase().contains("$count=") {
                raw2 = if raw2.is_empty() {
                    "$count=true".into()
                } else {
                    format!("{raw2}&$count=true")
                };
            }
            let q = r.query(&Some(raw2), &USERS)?;
            let cost = r.charge(2, Some(&q))?;
            let ov = sim.writes.tenants.read();
            let o = ov.get(&t.idx);
            let generated = |i: u64| user_json(&sim, t, &sim.fleet.user(t, i as u32));
            let n = match o {
                None if !q.narrows() => t.user_count as u64,
                None => (0..t.user_count)
                    .filter(|&i| q.hit(&user_json(&sim, t, &sim.fleet.user(t, i))))
                    .count() as u64,
                Some(o) => (0..o.len(t))
                    .filter_map(|i| o.user(t, i, &generated))
                    .filter(|v| q.hit(v))
                    .count() as u64,
            };
            let mut resp = (StatusCode::OK, n.to_string()).into_response();
            let h = resp.headers_mut();
            h.insert(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain;charset=utf-8"),
            );
            crate::errors::graph_headers(h, &r.ids);
            set(h, "x-ms-resource-unit", &cost.to_string());
            return Ok(resp);
        }
        let q = r.query(&raw, &USERS)?;
        let cost = r.charge(1, Some(&q))?;
        let ov = sim.writes.tenants.read();
        let Some(v) = find_user(&sim, t, ov.get(&t.idx), &key).map(|(_, v)| v) else {
            return Err(r.not_found(&key));
        };
        Ok(r.ok(entity(&format!("{CTX}users"), &q, odata::project(&v, &q, &USERS)), cost))
    })())
}

async fn subscribed_skus(State(sim): State<Arc<Sim>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    done((|| {
        let r = begin(&sim, &headers, Side::Directory)?;
        let q = r.query(&raw, &SKUS)?;
        let cost = r.charge(3, Some(&q))?;
        let ov = sim.writes.tenants.read();
        let items = skus_json(r.t, ov.get(&r.t.idx));
        vec_page(
            &r,
            &SKUS,
            &q,
            "subscribedSkus",
            context(&format!("{CTX}subscribedSkus"), &q),
            items,
            cost,
        )
    })())
}
