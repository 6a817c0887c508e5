//! Partner Center REST API v1 (`/partnercenter/v1/...`), the partner's commercial view.
//!
//! - `GET /v1/customers?size=N` (learn.microsoft.com/partner-center/developer/get-a-list-of-customers):
//!   `totalCount`, `items[]` (`id`, `companyProfile{tenantId,domain,companyName}`,
//!   `relationshipToPartner`), `links.self`, and while more remain `continuationToken` plus
//!   `links.next` carrying the `MS-ContinuationToken` header to send with the next GET
//!   (`seekOperation=Next`).
//! - `GET /v1/customers/{id}`, `GET /v1/customers/{id}/subscriptions`
//!   (.../get-all-of-a-customer-s-subscriptions).
//!
//! Only customers with a reseller relationship are listed; a GDAP-only customer is not a Partner
//! Center customer and answers 404 here, as Microsoft's does. Errors use Partner Center's body
//! (`code`, `description`, `data`, `source`); every response carries `MS-RequestId` and
//! `MS-CorrelationId` (the caller's, echoed, when it sent them).

pub mod customers;

use crate::auth::{authenticate, AUD_PARTNER_CENTER};
use crate::platform::errors::{partner_center_headers, PartnerCenterError};
use crate::state::Sim;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;
use std::sync::Arc;

/// Page size when `size` is absent, and the largest accepted.
pub const DEFAULT_PAGE: usize = 200;
pub const MAX_PAGE: usize = 500;

/// Partner Center's route table.
pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/partnercenter/v1/customers", get(customers::customers))
        .route("/partnercenter/v1/customers/{id}", get(customers::customer))
        .route(
            "/partnercenter/v1/customers/{id}/subscriptions",
            get(customers::subscriptions),
        )
}

/// An authenticated Partner Center call: a Partner Center token of the partner tenant.
pub struct PartnerCall {
    pub sim: Arc<Sim>,
    /// The request's headers (ids to echo, continuation token).
    pub headers: HeaderMap,
}

impl FromRequestParts<Arc<Sim>> for PartnerCall {
    type Rejection = PartnerCenterError;

    async fn from_request_parts(parts: &mut Parts, sim: &Arc<Sim>) -> Result<Self, PartnerCenterError> {
        let headers = &parts.headers;
        let caller = authenticate(&sim.keys, headers, AUD_PARTNER_CENTER).map_err(|e| {
            let mut err = PartnerCenterError::new(
                StatusCode::UNAUTHORIZED,
                900401,
                format!("Authentication failed: {}", e.graph_message()),
                headers,
            );
            err.www_authenticate = true;
            err
        })?;
        if caller.tenant_id != sim.fleet.partner_tenant().id {
            return Err(PartnerCenterError::new(
                StatusCode::FORBIDDEN,
                900403,
                "The caller is not a partner: the token's tenant has no partner account.",
                headers,
            ));
        }
        Ok(PartnerCall {
            sim: sim.clone(),
            headers: headers.clone(),
        })
    }
}

impl PartnerCall {
    pub fn error(&self, status: StatusCode, code: u32, description: impl Into<String>) -> PartnerCenterError {
        PartnerCenterError::new(status, code, description, &self.headers)
    }

    /// A JSON 200 with Partner Center's headers.
    pub fn ok(&self, body: Value) -> Response {
        let mut r = Json(body).into_response();
        partner_center_headers(r.headers_mut(), &self.headers);
        r
    }
}

/// An unmatched path under `/partnercenter`: Partner Center's 404 body. [I]
pub fn unmatched(path: &str, headers: &HeaderMap) -> PartnerCenterError {
    PartnerCenterError::new(
        StatusCode::NOT_FOUND,
        404,
        format!("The requested resource '{path}' was not found."),
        headers,
    )
}

/// A known path with another method: 405 with Partner Center's body. [I]
pub fn method_not_allowed(headers: &HeaderMap) -> PartnerCenterError {
    PartnerCenterError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        405,
        "The requested HTTP method is not supported by this resource.",
        headers,
    )
}
