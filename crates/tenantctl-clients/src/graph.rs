//! Microsoft Graph v1.0: partner-side discovery (`/contracts`, GDAP relationships) and the
//! customer-tenant reads (`/domains`, `/users`, `/subscribedSkus`).

use crate::wire;
use futures::{Stream, TryStreamExt};
use serde::de::DeserializeOwned;
use tenantctl_core::models::{Customer, DomainInfo, GdapRelationship, SkuUsage, UserInfo};
use tenantctl_core::TenantId;
use tenantctl_transport::api::{graph_pages, Api, ApiError, Service};
use tenantctl_transport::cloud::Endpoints;
use tenantctl_transport::http::Request;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The largest `$top` Graph accepts for `/users` (learn.microsoft.com/graph/paging).
pub const USERS_PAGE: u32 = 999;

/// The properties `users list` needs; `$select` keeps pages small.
const USER_SELECT: &str =
    "id,userPrincipalName,displayName,accountEnabled,usageLocation,createdDateTime,assignedLicenses";

/// How to filter `/users`.
#[derive(Clone, Debug, Default)]
pub struct UserQuery {
    /// An OData `$filter`, passed through (e.g. `accountEnabled eq false`).
    pub filter: Option<String>,
}

#[derive(Clone)]
pub struct Graph {
    pub api: Api,
}

/// Data that parsed as JSON but breaks the contract (e.g. an id that is not a GUID).
fn bad_data(what: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::bad_data(Service::Graph, what, e)
}

fn date(s: &Option<String>) -> Option<OffsetDateTime> {
    s.as_deref().and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// `GET /users` with the properties `users list` needs, 999 per page; a `$filter` adds
/// `$count=true` and `ConsistencyLevel: eventual` (learn.microsoft.com/graph/aad-advanced-queries).
pub fn users_request(endpoints: &Endpoints, q: &UserQuery) -> Request {
    let mut path = format!("users?$select={USER_SELECT}&$top={USERS_PAGE}");
    let mut req_headers = vec![];
    if let Some(f) = &q.filter {
        path.push_str(&format!("&$filter={}", enc(f)));
        // Advanced queries (ne, not, endsWith, $count...) need eventual consistency; harmless
        // for the rest.
        path.push_str("&$count=true");
        req_headers.push(("consistencylevel", "eventual"));
    }
    let mut r = Request::get(endpoints.graph_v1(&path));
    for (k, v) in req_headers {
        r = r.header(k, v);
    }
    r
}

/// `GET /contracts?$top=999` (default page 100; the largest page lists 1,000 customers in one).
pub fn contracts_request(endpoints: &Endpoints) -> Request {
    Request::get(endpoints.graph_v1("contracts?$top=999"))
}

/// `GET /tenantRelationships/delegatedAdminRelationships?$top=300`, the largest page GDAP
/// lists allow (tenantrelationship-list-delegatedadminrelationships).
pub fn relationships_request(endpoints: &Endpoints) -> Request {
    Request::get(endpoints.graph_v1("tenantRelationships/delegatedAdminRelationships?$top=300"))
}

impl Graph {
    pub fn new(api: Api) -> Graph {
        Graph { api }
    }

    /// Every item of a Graph collection, all pages.
    async fn collect<T: DeserializeOwned>(&self, tenant: &str, first: Request) -> Result<Vec<T>, ApiError> {
        let mut out = vec![];
        let mut pages = std::pin::pin!(graph_pages::<T>(self.api.clone(), tenant.to_owned(), first));
        while let Some(p) = pages.try_next().await? {
            out.extend(p.value);
        }
        Ok(out)
    }

    /// `GET /contracts` in the partner tenant: the customers of a reseller/syndication partner.
    pub async fn contracts(&self, partner: &str) -> Result<Vec<Customer>, ApiError> {
        let mut out = vec![];
        let mut pages = std::pin::pin!(self.contract_pages(partner));
        while let Some(p) = pages.try_next().await? {
            out.extend(p);
        }
        Ok(out)
    }

    /// `GET /contracts`, page by page, each contract as a customer (`sources: ["contracts"]`).
    pub fn contract_pages(&self, partner: &str) -> impl Stream<Item = Result<Vec<Customer>, ApiError>> {
        graph_pages::<wire::Contract>(
            self.api.clone(),
            partner.to_owned(),
            contracts_request(self.api.endpoints()),
        )
        .and_then(|page| async move { page.value.into_iter().map(contract_customer).collect() })
    }

    /// `GET /tenantRelationships/delegatedAdminRelationships` in the partner tenant.
    pub async fn relationships(&self, partner: &str) -> Result<Vec<GdapRelationship>, ApiError> {
        let mut out = vec![];
        let mut pages = std::pin::pin!(self.relationship_pages(partner));
        while let Some(p) = pages.try_next().await? {
            out.extend(p);
        }
        Ok(out)
    }

    /// The GDAP relationships page by page (300 a page), each parsed into a small typed
    /// record as it arrives.
    pub fn relationship_pages(&self, partner: &str) -> impl Stream<Item = Result<Vec<GdapRelationship>, ApiError>> {
        graph_pages::<wire::Relationship>(
            self.api.clone(),
            partner.to_owned(),
            relationships_request(self.api.endpoints()),
        )
        .and_then(|page| async move { page.value.into_iter().map(relationship).collect() })
    }

    /// `GET /domains` in a customer tenant.
    pub async fn domains(&self, tenant: &str) -> Result<Vec<DomainInfo>, ApiError> {
        let raw: Vec<wire::Domain> = self
            .collect(tenant, Request::get(self.api.endpoints().graph_v1("domains")))
            .await?;
        Ok(raw
            .into_iter()
            .map(|d| DomainInfo {
                name: d.id,
                is_default: d.is_default,
                is_initial: d.is_initial,
                is_verified: d.is_verified,
                authentication_type: d.authentication_type.unwrap_or_default(),
                supported_services: d.supported_services,
            })
            .collect())
    }

    /// `GET /subscribedSkus` in a customer tenant.
    pub async fn subscribed_skus(&self, tenant: &str) -> Result<Vec<SkuUsage>, ApiError> {
        let raw: Vec<wire::SubscribedSku> = self
            .collect(tenant, Request::get(self.api.endpoints().graph_v1("subscribedSkus")))
            .await?;
        Ok(raw
            .into_iter()
            .map(|s| {
                let p = s.prepaid_units.unwrap_or_default();
                SkuUsage {
                    sku_id: s.sku_id,
                    part_number: s.sku_part_number,
                    capability_status: s.capability_status.unwrap_or_default(),
                    enabled: p.enabled,
                    suspended: p.suspended,
                    warning: p.warning,
                    locked_out: p.locked_out,
                    consumed: s.consumed_units,
                }
            })
            .collect())
    }

    /// `GET /users` in a customer tenant, page by page (999 per page).
    pub fn users(&self, tenant: &str, q: &UserQuery) -> impl Stream<Item = Result<Vec<UserInfo>, ApiError>> {
        let first = users_request(self.api.endpoints(), q);
        graph_pages::<wire::User>(self.api.clone(), tenant.to_owned(), first).map_ok(|page| {
            page.value
                .into_iter()
                .map(|u| UserInfo {
                    id: u.id,
                    user_principal_name: u.user_principal_name.unwrap_or_default(),
                    display_name: u.display_name.unwrap_or_default(),
                    account_enabled: u.account_enabled,
                    usage_location: u.usage_location,
                    created: u.created_date_time,
                    licences: u.assigned_licenses.into_iter().map(|l| l.sku_id).collect(),
                })
                .collect()
        })
    }
}

/// A contract as a customer of the partner.
fn contract_customer(c: wire::Contract) -> Result<Customer, ApiError> {
    Ok(Customer {
        tenant_id: tenant_id(&c.customer_id)?,
        name: c.display_name.unwrap_or_default(),
        default_domain: c.default_domain_name,
        contract_type: c.contract_type,
        relationship_status: "none".into(),
        relationship_end: None,
        sources: vec!["contracts"],
    })
}

/// A relationship as sent, typed; one without a customer breaks the contract.
fn relationship(r: wire::Relationship) -> Result<GdapRelationship, ApiError> {
    let c = r.customer.as_ref();
    let tid = c
        .and_then(|c| c.tenant_id)
        .ok_or_else(|| bad_data("relationship", format!("relationship {} has no customer", r.id)))?;
    Ok(GdapRelationship {
        customer_tenant_id: tid,
        customer_name: c.and_then(|c| c.display_name.clone()).unwrap_or_default(),
        display_name: r.display_name.unwrap_or_default(),
        status: r.status,
        role_ids: r
            .access_details
            .map(|a| a.unified_roles.into_iter().map(|u| u.role_definition_id).collect())
            .unwrap_or_default(),
        created: date(&r.created_date_time),
        end: date(&r.end_date_time),
        auto_extend_duration: r.auto_extend_duration.unwrap_or_default(),
        id: r.id,
    })
}

/// The tenant id a partner-side record names, parsed.
pub fn tenant_id(s: &str) -> Result<TenantId, ApiError> {
    s.parse().map_err(|e| bad_data("tenant id", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e() -> Endpoints {
        Endpoints::for_cloud(tenantctl_transport::cloud::CloudName::Global).unwrap()
    }

    #[test]
    fn users_request_selects_pages_of_999_and_adds_eventual_consistency_only_with_a_filter() {
        let r = users_request(&e(), &UserQuery::default());
        assert_eq!(
            r.url,
            "https://graph.microsoft.com/v1.0/users?$select=id,userPrincipalName,displayName,accountEnabled,usageLocation,createdDateTime,assignedLicenses&$top=999"
        );
        assert!(r.headers.get("consistencylevel").is_none());
        assert!(r.idempotent);

        let f = users_request(
            &e(),
            &UserQuery {
                filter: Some("accountEnabled eq false".into()),
            },
        );
        assert!(
            f.url
                .ends_with("&$top=999&$filter=accountEnabled%20eq%20false&$count=true"),
            "{}",
            f.url
        );
        assert_eq!(f.headers["consistencylevel"], "eventual");
    }

    #[test]
    fn partner_side_requests_ask_for_the_largest_pages() {
        assert_eq!(
            contracts_request(&e()).url,
            "https://graph.microsoft.com/v1.0/contracts?$top=999"
        );
        assert_eq!(
            relationships_request(&e()).url,
            "https://graph.microsoft.com/v1.0/tenantRelationships/delegatedAdminRelationships?$top=300"
        );
    }
}
