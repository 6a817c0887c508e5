//! Microsoft Graph v1.0 writes in a tenant's directory: users (learn.microsoft.com/graph/api/
//! user-post-users, user-update, user-delete), licences (user-assignlicense) and domains
//! (domain-post-domains, domain-delete, domain-list-verificationdnsrecords, domain-verify,
//! domain-list-serviceconfigurationrecords). Changes go to the tenant's overlay
//! (`overlay.rs`), which every read merges.
//!
//! A delegated write needs the GDAP role (User Administrator for users, License Administrator
//! or User Administrator for licences, Domain Name Administrator for domains; Global
//! Administrator covers all), else 403 `Authorization_RequestDenied`. Writes are charged to
//! the (app, tenant) write bucket as well as the resource-unit buckets.
//!
//! Error texts: those marked `[I]` are inferred (no Microsoft page quoting them was found);
//! the others are Graph's observed messages.

use crate::errors::graph_error;
use crate::fleet::{roles, Tenant, TenantKind};
use crate::graph::{
    begin, denied, domain_json, done, entity, find_user, set, skus_json, tenant_domains, Out, Req, Side, CTX, USERS,
};
use crate::ids::{random_guid, Guid};
use crate::odata;
use crate::overlay::{verification_code, AddedDomain, TenantOverlay};
use crate::server::Sim;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use std::sync::Arc;

/// Routes of paths only writes use; `graph::routes` adds the write methods of shared paths
/// (`POST /users`, `PATCH`/`DELETE /users/{id}`, `POST /domains`, `DELETE /domains/{id}`).
pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/graph/v1.0/users/{id}/assignLicense", post(assign_license))
        .route(
            "/graph/v1.0/domains/{id}/verificationDnsRecords",
            get(verification_records),
        )
        .route("/graph/v1.0/domains/{id}/verify", post(verify_domain))
        .route(
            "/graph/v1.0/domains/{id}/serviceConfigurationRecords",
            get(service_records),
        )
}

fn bad_request(r: &Req<'_>, message: &str) -> Response {
    graph_error(StatusCode::BAD_REQUEST, "Request_BadRequest", message, &r.ids)
}

fn invalid_value(r: &Req<'_>, prop: &str, resource: &str) -> Response {
    bad_request(
        r,
        &format!("Invalid value specified for property '{prop}' of resource '{resource}'."),
    )
}

/// Authorises a write: the GDAP role (delegated) or an application permission (app-only).
fn authorize_write(r: &Req<'_>, any_role: &[&str], app_perms: &[&str]) -> Result<(), Response> {
    if r.t.kind != TenantKind::Customer {
        return Ok(());
    }
    let ok = if r.caller.delegated {
        let a = r.sim.access(r.t);
        a.active_relationship && any_role.iter().any(|role| a.has_role(role))
    } else {
        r.caller.roles.iter().any(|x| app_perms.contains(&x.as_str()))
    };
    if ok {
        Ok(())
    } else {
        Err(denied(&r.ids))
    }
}

/// Charges one write (learn.microsoft.com/graph/throttling-limits, identity and access writes).
fn charge_write(r: &Req<'_>) -> Result<u32, Response> {
    let cost = 1;
    match r.sim.throttle.charge(r.caller.app_id, r.t, cost, true) {
        Ok(()) => Ok(cost),
        Err(th) => {
            let mut resp = graph_error(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Please retry again later.",
                &r.ids,
            );
            let h = resp.headers_mut();
            set(h, "retry-after", &th.retry_after_secs.to_string());
            set(h, "x-ms-throttle-scope", &th.scope);
            set(h, "x-ms-throttle-information", th.information);
            Err(resp)
        }
    }
}

fn json_body(r: &Req<'_>, body: &Bytes) -> Result<serde_json::Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(graph_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
            &r.ids,
        )),
    }
}

fn with_status(mut resp: Response, status: StatusCode) -> Response {
    *resp.status_mut() = status;
    resp
}

fn no_content(r: &Req<'_>) -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    crate::errors::graph_headers(resp.headers_mut(), &r.ids);
    resp
}

/// Entra's rules for a cloud user's password: 8–256 characters, three of four classes.
fn password_ok(p: &str) -> bool {
    let n = p.chars().count();
    let classes = [
        p.chars().any(|c| c.is_ascii_lowercase()),
        p.chars().any(|c| c.is_ascii_uppercase()),
        p.chars().any(|c| c.is_ascii_digit()),
        p.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    (8..=256).contains(&n) && classes.iter().filter(|x| **x).count() >= 3
}

fn upn_local_ok(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "'.-_!#^~".contains(c))
}

fn is_country(code: &str) -> bool {
    code.len() == 2 && code.chars().all(|c| c.is_ascii_uppercase())
}

fn overlay_mut<'a>(map: &'a mut std::collections::HashMap<u32, TenantOverlay>, t: &Tenant) -> &'a mut TenantOverlay {
    map.entry(t.idx).or_default()
}

fn default_query() -> odata::Query {
    odata::parse(None, &USERS, false).expect("no options parse")
}

pub(crate) async fn create_user(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    done((|| -> Out {
        let r = begin(&sim, &headers, Side::Directory)?;
        authorize_write(
            &r,
            &[roles::USER_ADMINISTRATOR],
            &["User.ReadWrite.All", "Directory.ReadWrite.All"],
        )?;
        let cost = charge_write(&r)?;
        let b = json_body(&r, &body)?;
        let str_of = |k: &str| {
            b.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        for k in [
            "accountEnabled",
            "displayName",
            "mailNickname",
            "userPrincipalName",
            "passwordProfile",
        ] {
            if b.get(k).is_none_or(Value::is_null) {
                // [I] Graph's text for a missing required property on create.
                return Err(invalid_value(&r, k, "User"));
            }
        }
        let upn = str_of("userPrincipalName").ok_or_else(|| invalid_value(&r, "userPrincipalName", "User"))?;
        let display = str_of("displayName").ok_or_else(|| invalid_value(&r, "displayName", "User"))?;
        let nick = str_of("mailNickname").ok_or_else(|| invalid_value(&r, "mailNickname", "User"))?;
        let Some((local, domain)) = upn.split_once('@') else {
            return Err(invalid_value(&r, "userPrincipalName", "User"));
        };
        if !upn_local_ok(local) {
            return Err(invalid_value(&r, "userPrincipalName", "User"));
        }
        let password = b
            .get("passwordProfile")
            .and_then(|p| p.get("password"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !password_ok(password) {
            return Err(bad_request(
                &r,
                "The specified password does not comply with password complexity requirements. Please provide a different password.",
            ));
        }
        let usage = match b.get("usageLocation") {
            None | Some(Value::Null) => None,
            Some(Value::String(u)) if is_country(u) => Some(u.clone()),
            Some(_) => return Err(invalid_value(&r, "usageLocation", "User")),
        };
        let t = r.t;
        let mut all = sim.writes.tenants.write();
        {
            let o = all.get(&t.idx);
            let verified = tenant_domains(t, o)
                .iter()
                .any(|d| d.is_verified && d.name.eq_ignore_ascii_case(domain));
            if !verified {
                return Err(bad_request(
                    &r,
                    "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.",
                ));
            }
            if find_user(&sim, t, o, upn).is_some() {
                return Err(bad_request(
                    &r,
                    "Another object with the same value for property userPrincipalName already exists.",
                ));
            }
        }
        let id = random_guid();
        let opt = |k: &str| b.get(k).cloned().unwrap_or(Value::Null);
        let user = json!({
            "businessPhones": b.get("businessPhones").cloned().unwrap_or(json!([])),
            "displayName": display,
            "givenName": opt("givenName"),
            "jobTitle": opt("jobTitle"),
            "mail": Value::Null,
            "mobilePhone": opt("mobilePhone"),
            "officeLocation": opt("officeLocation"),
            "preferredLanguage": opt("preferredLanguage"),
            "surname": opt("surname"),
            "userPrincipalName": upn,
            "id": id.to_string(),
            "accountEnabled": b.get("accountEnabled").and_then(Value::as_bool).unwrap_or(true),
            "assignedLicenses": [],
            "city": opt("city"),
            "country": opt("country"),
            "createdDateTime": crate::graph::date(crate::auth::now_unix()),
            "department": opt("department"),
            "mailNickname": nick,
            "usageLocation": usage,
            "userType": "Member",
        });
        overlay_mut(&mut all, t).created.push(Some(user.clone()));
        let q = default_query();
        let resp = r.ok(
            entity(&format!("{CTX}users"), &q, odata::project(&user, &q, &USERS)),
            cost,
        );
        Ok(with_status(resp, StatusCode::CREATED))
    })())
}

/// Stores a changed user back at its index.
fn store_user(o: &mut TenantOverlay, t: &Tenant, i: u64, v: Option<Value>) {
    let base = t.user_count as u64;
    if i >= base {
        o.created[(i - base) as usize] = v;
    } else {
        match v {
            Some(v) => {
                o.replaced.insert(i, v);
            }
            None => {
                o.replaced.remove(&i);
                o.deleted.insert(i);
            }
        }
    }
}

const UPDATABLE: &[&str] = &[
    "accountEnabled",
    "businessPhones",
    "city",
    "country",
    "department",
    "displayName",
    "givenName",
    "jobTitle",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "usageLocation",
];

pub(crate) async fn update_user(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Bytes,
) -> Response {
    done((|| -> Out {
        let r = begin(&sim, &headers, Side::Directory)?;
        authorize_write(
            &r,
            &[roles::USER_ADMINISTRATOR],
            &["User.ReadWrite.All", "Directory.ReadWrite.All"],
        )?;
        charge_write(&r)?;
        let b = json_body(&r, &body)?;
        for (k, v) in &b {
            if !UPDATABLE.contains(&k.as_str()) {
                return Err(bad_request(&r, &format!("Invalid property '{k}'.")));
                // [I]
            }
            if k == "usageLocation" && !(v.is_null() || v.as_str().is_some_and(is_country)) {
                return Err(invalid_value(&r, "usageLocation", "User"));
            }
        }
        let t = r.t;
        let mut all = sim.writes.tenants.write();
        let Some((i, mut v)) = find_user(&sim, t, all.get(&t.idx), &key) else {
            return Err(r.not_found(&key));
        };
        for (k, x) in b {
            v[k.as_str()] = x;
        }
        store_user(overlay_mut(&mut all, t), t, i, Some(v));
        Ok(no_content(&r))
    })())
}

pub(crate) async fn delete_user(State(sim): State<Arc<Sim>>, headers: HeaderMap, Path(key): Path<String>) -> Response {
    done((|| -> Out {
        let r = begin(&sim, &headers, Side::Directory)?;
        authorize_write(
            &r,
            &[roles::USER_ADMINISTRATOR],
            &["User.ReadWrite.All", "Directory.ReadWrite.All"],
        )?;
        charge_write(&r)?;
        let t = r.t;
        let mut all = sim.writes.tenants.write();
        let Some((i, v)) = find_user(&sim, t, all.get(&t.idx), &key) else {
            return Err(r.not_found(&key));
        };
        let o = overlay_mut(&mut all, t);
        // A deleted user's licences return to the pool.
        for l in v["assignedLicenses"].as_array().into_iter().flatten() {
            if let Some(s) = l["skuId"].as_str().and_then(|s| s.parse::<Guid>().ok()) {
                *o.consumed_delta.entry(s).or_default() -= 1;
            }
        }
        store_user(o, t, i, None);
        Ok(no_content(&r))
    })())
}

async fn assign_license(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Bytes,
) -> Response {
    done((|| -> Out {
        let r = begin(&sim, &headers, Side::Directory)?;
        authorize_write(
            &r,
            &[roles::LICENSE_ADMINISTRATOR, roles::USER_ADMINISTRATOR],
            &[
                "User.ReadWrite.All",
                "Directory.ReadWrite.All",
                "LicenseAssignment.ReadWrite.All",
            ],
        )?;
        let cost = charge_write(&r)?;
        let b = json_body(&r, &body)?;
        // Both properties are required (use [] when empty).
        let (Some(Value::Array(add)), Some(Value::Array(remove))) = (b.get("addLicenses"), b.get("removeLicenses"))
        else {
            return Err(invalid_value(
                &r,
                if b.get("addLicenses").is_none() {
                    "addLicenses"
                } else {
                    "removeLicenses"
                },
                "Microsoft.DirectoryServices.User",
            ));
        };
        let mut adds: Vec<(Guid, Value)> = vec![];
        for a in add {
            let Some(s) = a
                .get("skuId")
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<Guid>().ok())
            else {
                return Err(invalid_value(&r, "skuId", "AssignedLicense"));
            };
            adds.push((s, a.get("disabledPlans").cloned().unwrap_or(json!([]))));
        }
        let mut removes: Vec<Guid> = vec![];
        for x in remove {
            let Some(s) = x.as_str().and_then(|s| s.parse::<Guid>().ok()) else {
                return Err(invalid_value(&r, "removeLicenses", "Microsoft.DirectoryServices.User"));
            };
            removes.push(s);
        }
        let t = r.t;
        let mut all = sim.writes.tenants.write();
        let Some((i, mut user)) = find_user(&sim, t, all.get(&t.idx), &key) else {
            return Err(r.not_found(&key));
        };
        let skus = skus_json(t, all.get(&t.idx));
        let holds = |u: &Value, s: Guid| {
            u["assignedLicenses"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|l| l["skuId"].as_str().and_then(|x| x.parse::<Guid>().ok()) == Some(s))
        };
        if !adds.is_empty() && user["usageLocation"].is_null() {
            // Observed text (CIPP#783, Partner-Center-DotNet-Samples#131).
            return Err(bad_request(
                &r,
                "License assignment cannot be done for user with invalid usage location.",
            ));
        }
        let mut delta: Vec<(Guid, i64)> = vec![];
        for (s, _) in &adds {
            let Some(sku) = skus
                .iter()
                .find(|x| x["skuId"].as_str().and_then(|v| v.parse::<Guid>().ok()) == Some(*s))
            else {
                // [I]
                return Err(bad_request(
                    &r,
                    &format!("License {s} does not correspond to a valid company License."),
                ));
            };
            if holds(&user, *s) {
                continue;
            }
            let free =
                sku["prepaidUnits"]["enabled"].as_i64().unwrap_or(0) - sku["consumedUnits"].as_i64().unwrap_or(0);
            if free < 1 {
                // [I]
                return Err(bad_request(
                    &r,
                    &format!("Subscription {s} does not have any available licenses."),
                ));
            }
            delta.push((*s, 1));
        }
        for s in &removes {
            if !holds(&user, *s) {
                // [I]
                return Err(bad_request(
                    &r,
                    &format!("User does not have a corresponding license {s}."),
                ));
            }
            delta.push((*s, -1));
        }
        let mut licences: Vec<Value> = user["assignedLicenses"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|l| {
                let s = l["skuId"].as_str().and_then(|x| x.parse::<Guid>().ok());
                !s.is_some_and(|s| removes.contains(&s))
            })
            .collect();
        for (s, disabled) in adds {
            match licences
                .iter_mut()
                .find(|l| l["skuId"].as_str().and_then(|x| x.parse::<Guid>().ok()) == Some(s))
            {
                // Assigning a held SKU again updates its disabled plans.
                Some(l) => l["disabledPlans"] = disabled,
                None => licences.push(json!({"disabledPlans": disabled, "skuId": s.to_string()})),
            }
        }
        user["assignedLicenses"] = Value::Array(licences);
        let o = overlay_mut(&mut all, t);
        for (s, d) in delta {
            *o.consumed_delta.entry(s).or_default() += d;
        }
        store_user(o, t, i, Some(user.clone()));
        let q = default_query();
        Ok(r.ok(
            entity(&format!("{CTX}users"), &q, odata::project(&user, &q, &USERS)),
            cost,
        ))
    })())
}

fn domain_ok(name: &str) -> bool {
    name.contains('.')
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

fn domain_role(r: &Req<'_>) -> Result<(), Response> {
    authorize_write(
        r,
        &[roles::DOMAIN_NAME_ADMINISTRATOR],
        &["Domain.ReadWrite.All", "Directory.ReadWrite.All"],
    )
}

pub(crate) async fn add_domain(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    done((|| -> Out {
        let r = begin(&sim, &headers, Side::Directory)?;
        domain_role(&r)?;
        let cost = charge_write(&r)?;
        let b = json_body(&r, &body)?;
        if let Some(k) = b.keys().find(|k| k.as_str() != "id") {
            // Only `id` may be given (domain-post-domains).
            return Err(bad_request(&r, &format!("Invalid property '{k}'."))); // [I]
        }
        let name = b
            .get("id")
            .and_then(Value::as_str)
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| domain_ok(s))
            .ok_or_else(|| invalid_value(&r, "id", "Domain"))?;
        let t = r.t;
        let mut all = sim.writes.tenants.write();
        if tenant_domains(t, all.get(&t.idx))
            .iter()
            .any(|d| d.name.eq_ignore_ascii_case(&name))
        {
            // [I]
            return Err(bad_request(
                &r,
                "Another object with the same value for property id already exists.",
            ));
        }
        let taken = sim.fleet.tenants.iter().filter(|o| o.idx != t.idx).any(|o| {
            tenant_domains(o, all.get(&o.idx))
                .iter()
                .any(|d| d.is_verified && d.name.eq_ignore_ascii_case(&name))
        });
        if taken {
            // [I]
            return Err(bad_request(
                &r,
                &format!("Domain '{name}' is already verified in another organization and cannot be added."),
            ));
        }
        overlay_mut(&mut all, t).domains.push(AddedDomain {
            name: name.clone(),
            verified: false,
        });
        let d = tenant_domains(t, all.get(&t.idx))
            .into_iter()
            .find(|d| d.name == name)
            .expect("just added");
        let mut v = domain_json(&d);
        v["isRoot"] = json!(true);
        let resp = r.ok(entity(&format!("{CTX}domains"), &odata::Query::default(), v), cost);
        Ok(with_status(resp, StatusCode::CREATED))
    })())
}

pub(crate) async fn delete_domain(State(sim): State<Arc<Sim>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    done((|| -> Out {
        let r = begin(&sim, &headers, Side::Directory)?;
        domain_role(&r)?;
        charge_write(&r)?;
        let t = r.t;
        let name = id.to_ascii_lowercase();
        let mut all = sim.writes.tenants.write();
        let Some(d) = tenant_domains(t, all.get(&t.idx))
            .into_iter()
            .find(|d| d.name.eq_ignore_ascii_case(&name))
        else {
            return Err(r.not_found(&id));
        };
        if d.is_initial || d.is_default {
            // [I]
            return Err(bad_request(
                &r,
                "The initial or default domain of an organization cannot be deleted.",
            ));
        }
        let o = overlay_mut(&mut all, t);
        let before = o.domains.len();
        o.domains.retain(|x| x.name != name);
        if o.domains.len() == before {
            o.removed_domains.insert(name);
        }
        Ok(no_content(&r))
    })())
}

fn dns_collection(r: &Req<'_>, path: &str, records: Vec<Value>, cost: u32) -> Response {
    r.ok(
        json!({
            "@odata.context": format!("{CTX}{path}"),
            "value": records,
        }),
        cost,
    )
}

/// `domainDnsRecord` ids are GUIDs; fixed per tenant, domain and record.
fn record_id(t: &Tenant, name: &str, n: u64) -> String {
    Guid::from_parts(&[t.idx as u64, odata::hash_str(name), n]).to_string()
}

async fn verification_records(State(sim): State<Arc<Sim>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    done((|| -> Out {
        let r = begin(&sim, &headers, Side::Directory)?;
        let cost = r.charge(1, None)?;
        let t = r.t;
        let all = sim.writes.tenants.read();
        let Some(d) = tenant_domains(t, all.get(&t.idx))
            .into_iter()
            .find(|d| d.name.eq_ignore_ascii_case(&id))
        else {
            return Err(r.not_found(&id));
        };
        let code = verification_code(t, &d.name);
        let records = vec![
            json!({
                "@odata.type": "#microsoft.graph.domainDnsTxtRecord",
                "id": record_id(t, &d.name, 1),
                "isOptional": false,
                "label": d.name,
                "recordType": "Txt",
                "supportedService": "None",
                "ttl": 3600,
                "text": format!("MS=ms{code}"),
            }),
            json!({
                "@odata.type": "#microsoft.graph.domainDnsMxRecord",
                "id": record_id(t, &d.name, 2),
                "isOptional": false,
                "label": d.name,
                "recordType": "Mx",
                "supportedService": "None",
                "ttl": 3600,
                "mailExchange": format!("ms{code}.msv1.invalid"),
                "preference": 32767,
            }),
        ];
        Ok(dns_collection(
            &r,
            &format!("domains('{}')/verificationDnsRecords", d.name),
            records,
            cost,
        ))
    })())
}

async fn verify_domain(State(sim): State<Arc<Sim>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    done((|| -> Out {
        let r = begin(&sim, &headers, Side::Directory)?;
        domain_role(&r)?;
        let cost = charge_write(&r)?;
        let t = r.t;
        let name = id.to_ascii_lowercase();
        let mut all = sim.writes.tenants.write();
        let Some(d) = tenant_domains(t, all.get(&t.idx)).into_iter().find(|d| d.name == name) else {
            return Err(r.not_found(&id));
        };
        if !d.is_verified {
            let txt = format!("MS=ms{}", verification_code(t, &name));
            if !(sim.initial.publish_dns || sim.writes.dns_has(&name, "TXT", &txt)) {
                // [I] the exact text of a failed verification is not documented.
                return Err(bad_request(
                    &r,
                    &format!(
                        "Domain verification failed. The DNS record required to verify '{name}' was not found: publish TXT {txt} and try again."
                    ),
                ));
            }
            let o = overlay_mut(&mut all, t);
            match o.domains.iter_mut().find(|x| x.name == name) {
                Some(x) => x.verified = true,
                None => o.domains.push(AddedDomain {
                    name: name.clone(),
                    verified: true,
                }),
            }
        }
        let d = tenant_domains(t, all.get(&t.idx))
            .into_iter()
            .find(|d| d.name == name)
            .expect("present");
        let mut v = domain_json(&d);
        v["availabilityStatus"] = json!("AvailableImmediately");
        Ok(r.ok(entity(&format!("{CTX}domains"), &odata::Query::default(), v), cost))
    })())
}

async fn service_records(State(sim): State<Arc<Sim>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    done((|| -> Out {
        let r = begin(&sim, &headers, Side::Directory)?;
        let cost = r.charge(1, None)?;
        let t = r.t;
        let all = sim.writes.tenants.read();
        let Some(d) = tenant_domains(t, all.get(&t.idx))
            .into_iter()
            .find(|d| d.name.eq_ignore_ascii_case(&id))
        else {
            return Err(r.not_found(&id));
        };
        let n = &d.name;
        // The docs' example: MX to <domain-with-dashes>.mail.protection.outlook.com, SPF TXT.
        let records = vec![
            json!({
                "@odata.type": "#microsoft.graph.domainDnsMxRecord",
                "id": record_id(t, n, 11), "isOptional": false, "label": n, "recordType": "Mx",
                "supportedService": "Email", "ttl": 3600,
                "mailExchange": format!("{}.mail.protection.outlook.com", n.replace('.', "-")), "preference": 0,
            }),
            json!({
                "@odata.type": "#microsoft.graph.domainDnsTxtRecord",
                "id": record_id(t, n, 12), "isOptional": false, "label": n, "recordType": "Txt",
                "supportedService": "Email", "ttl": 3600,
                "text": "v=spf1 include:spf.protection.outlook.com ~all",
            }),
            json!({
                "@odata.type": "#microsoft.graph.domainDnsCnameRecord",
                "id": record_id(t, n, 13), "isOptional": false, "label": format!("autodiscover.{n}"),
                "recordType": "CName", "supportedService": "Email", "ttl": 3600,
                "canonicalName": "autodiscover.outlook.com",
            }),
            json!({
                "@odata.type": "#microsoft.graph.domainDnsSrvRecord",
                "id": record_id(t, n, 14), "isOptional": false, "label": n, "recordType": "Srv",
                "supportedService": "OfficeCommunicationsOnline", "ttl": 3600,
                "nameTarget": "sipfed.online.lync.com", "port": 5061, "priority": 100,
                "protocol": "_tcp", "service": "_sipfederationtls", "weight": 1,
            }),
        ];
        Ok(dns_collection(
            &r,
            &format!("domains('{n}')/serviceConfigurationRecords"),
            records,
            cost,
        ))
    })())
}
