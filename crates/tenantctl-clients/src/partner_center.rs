//! Partner Center v1: the partner's customer list
//! (learn.microsoft.com/partner-center/developer/get-a-list-of-customers).

use crate::wire;
use futures::TryStreamExt;
use tenantctl_core::models::Customer;
use tenantctl_transport::api::{partner_center_pages, Api, ApiError, Service};

/// Customers per page; Partner Center accepts up to 500 [I: largest size seen in clients].
pub const PAGE: u32 = 500;

#[derive(Clone)]
pub struct PartnerCenter {
    pub api: Api,
}

impl PartnerCenter {
    pub fn new(api: Api) -> PartnerCenter {
        PartnerCenter { api }
    }

    /// `GET /v1/customers`, every page (continuation tokens).
    pub async fn customers(&self, partner: &str) -> Result<Vec<Customer>, ApiError> {
        let url = self
            .api
            .endpoints()
            .partner_center_v1(&format!("customers?size={PAGE}"));
        let mut out = vec![];
        let mut pages = std::pin::pin!(partner_center_pages::<wire::PcCustomer>(
            self.api.clone(),
            partner.to_owned(),
            url
        ));
        while let Some(page) = pages.try_next().await? {
            for c in page.value {
                let profile = c.company_profile.as_ref();
                let tid = profile
                    .and_then(|p| p.tenant_id.clone())
                    .unwrap_or_else(|| c.id.clone());
                out.push(Customer {
                    tenant_id: tid
                        .parse()
                        .map_err(|e| ApiError::bad_data(Service::PartnerCenter, "customer tenant id", e))?,
                    name: profile.and_then(|p| p.company_name.clone()).unwrap_or_default(),
                    default_domain: profile.and_then(|p| p.domain.clone()),
                    contract_type: c.relationship_to_partner.clone(),
                    relationship_status: "none".into(),
                    relationship_end: None,
                    sources: vec!["partner-center"],
                });
            }
        }
        Ok(out)
    }
}
