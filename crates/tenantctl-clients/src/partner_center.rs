//! Partner Center v1: the partner's customer list
//! (learn.microsoft.com/partner-center/developer/get-a-list-of-customers).

use crate::wire;
use futures::TryStreamExt;
use tenantctl_core::models::Customer;
use tenantctl_transport::api::{partner_center_pages, Api, ApiError};

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
        let pages: Vec<_> = partner_center_pages(self.api.clone(), partner.to_owned(), url)
            .try_collect()
            .await?;
        let mut out = vec![];
        for v in pages.into_iter().flat_map(|p| p.items) {
            let c: wire::PcCustomer = serde_json::from_value(v)
                .map_err(|e| ApiError::Transport(format!("unexpected customer from Partner Center: {e}")))?;
            let profile = c.company_profile.as_ref();
            let tid = profile
                .and_then(|p| p.tenant_id.clone())
                .unwrap_or_else(|| c.id.clone());
            out.push(Customer {
                tenant_id: crate::graph::tenant_id(&tid)?,
                name: profile.and_then(|p| p.company_name.clone()).unwrap_or_default(),
                default_domain: profile.and_then(|p| p.domain.clone()),
                contract_type: c.relationship_to_partner.clone(),
                relationship_status: "none".into(),
                relationship_end: None,
                sources: vec!["partner-center"],
            });
        }
        Ok(out)
    }
}
