//! Microsoft Graph v1.0: partner-side discovery (`/contracts`, GDAP relationships) and the
//! customer-tenant reads (`/domains`, `/users`, `/subscribedSkus`).

use crate::wire;
use futures::{Stream, StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;
use tenantctl_core::models::{DomainInfo, GdapRelationship, SkuUsage, UserInfo};
use tenantctl_core::{ObjectId, SkuId, TenantId};
use tenantctl_transport::api::{graph_pages, Api, ApiError};
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

fn bad_data(what: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::Transport(format!("unexpected {what} from Graph: {e}"))
}

fn parse<T: DeserializeOwned>(what: &str, v: serde_json::Value) -> Result<T, ApiError> {
    serde_json::from_value(v).map_err(|e| bad_data(what, e))
}

fn date(s: &Option<String>) -> Option<OffsetDateTime> {
    s.as_deref().and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

impl Graph {
    pub fn new(api: Api) -> Graph {
        Graph { api }
    }

    /// Every item of a Graph collection, all pages.
    async fn collect<T: DeserializeOwned>(&self, tenant: &str, what: &str, path: &str) -> Result<Vec<T>, ApiError> {
        let url = self.api.endpoints().graph_v1(path);
        let pages: Vec<_> = graph_pages(self.api.clone(), tenant.to_owned(), url, vec![])
            .try_collect()
            .await?;
        pages
            .into_iter()
            .flat_map(|p| p.items)
            .map(|v| parse(what, v))
            .collect()
    }

    /// `GET /contracts` in the partner tenant: the customers of a reseller/syndication partner.
    pub async fn contracts(&self, partner: &str) -> Result<Vec<wire::Contract>, ApiError> {
        // Default page 100; ask for the largest page so 1,000 customers take one request.
        self.collect(partner, "contract", "contracts?$top=999").await
    }

    /// `GET /tenantRelationships/delegatedAdminRelationships` in the partner tenant.
    pub async fn relationships(&self, partner: &str) -> Result<Vec<GdapRelationship>, ApiError> {
        let raw: Vec<wire::Relationship> = self
            .collect(
                partner,
                "delegatedAdminRelationship",
                // The largest page GDAP lists allow (tenantrelationship-list-delegatedadminrelationships).
                "tenantRelationships/delegatedAdminRelationships?$top=300",
            )
            .await?;
        raw.into_iter()
            .map(|r| {
                let c = r.customer.as_ref();
                let tid = c
                    .and_then(|c| c.tenant_id.as_deref())
                    .ok_or_else(|| bad_data("relationship", format!("relationship {} has no customer", r.id)))?;
                Ok(GdapRelationship {
                    customer_tenant_id: tid.parse().map_err(|e| bad_data("relationship", e))?,
                    customer_name: c.and_then(|c| c.display_name.clone()).unwrap_or_default(),
                    display_name: r.display_name.clone().unwrap_or_default(),
                    status: r.status.clone(),
                    role_ids: r
                        .access_details
                        .as_ref()
                        .map(|a| a.unified_roles.iter().map(|u| u.role_definition_id.clone()).collect())
                        .unwrap_or_default(),
                    created: date(&r.created_date_time),
                    end: date(&r.end_date_time),
                    auto_extend_duration: r.auto_extend_duration.clone().unwrap_or_default(),
                    id: r.id,
                })
            })
            .collect()
    }

    /// `GET /domains` in a customer tenant.
    pub async fn domains(&self, tenant: &str) -> Result<Vec<DomainInfo>, ApiError> {
        let raw: Vec<wire::Domain> = self.collect(tenant, "domain", "domains").await?;
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
        let raw: Vec<wire::SubscribedSku> = self.collect(tenant, "subscribedSku", "subscribedSkus").await?;
        raw.into_iter()
            .map(|s| {
                let p = s.prepaid_units.unwrap_or_default();
                Ok(SkuUsage {
                    sku_id: s.sku_id.parse::<SkuId>().map_err(|e| bad_data("subscribedSku", e))?,
                    part_number: s.sku_part_number,
                    capability_status: s.capability_status.unwrap_or_default(),
                    enabled: p.enabled,
                    suspended: p.suspended,
                    warning: p.warning,
                    locked_out: p.locked_out,
                    consumed: s.consumed_units,
                })
            })
            .collect()
    }

    /// `GET /users` in a customer tenant, page by page (999 per page).
    pub fn users(&self, tenant: &str, q: &UserQuery) -> impl Stream<Item = Result<Vec<UserInfo>, ApiError>> {
        let mut path = format!("users?$select={USER_SELECT}&$top={USERS_PAGE}");
        let mut headers = vec![];
        if let Some(f) = &q.filter {
            path.push_str(&format!("&$filter={}", enc(f)));
            // Advanced queries (ne, not, endsWith, $count...) need eventual consistency
            // (learn.microsoft.com/graph/aad-advanced-queries); harmless for the rest.
            path.push_str("&$count=true");
            headers.push(("consistencylevel", "eventual".to_owned()));
        }
        let url = self.api.endpoints().graph_v1(&path);
        graph_pages(self.api.clone(), tenant.to_owned(), url, headers).map(|page| {
            let page = page?;
            page.items
                .into_iter()
                .map(|v| {
                    let u: wire::User = parse("user", v)?;
                    Ok(UserInfo {
                        id: u.id.parse::<ObjectId>().map_err(|e| bad_data("user", e))?,
                        user_principal_name: u.user_principal_name.unwrap_or_default(),
                        display_name: u.display_name.unwrap_or_default(),
                        account_enabled: u.account_enabled,
                        usage_location: u.usage_location,
                        created: u.created_date_time,
                        licences: u
                            .assigned_licenses
                            .iter()
                            .map(|l| l.sku_id.parse::<SkuId>().map_err(|e| bad_data("assignedLicenses", e)))
                            .collect::<Result<_, _>>()?,
                    })
                })
                .collect()
        })
    }
}

/// The tenant id a partner-side record names, parsed.
pub fn tenant_id(s: &str) -> Result<TenantId, ApiError> {
    s.parse().map_err(|e| bad_data("tenant id", e))
}
