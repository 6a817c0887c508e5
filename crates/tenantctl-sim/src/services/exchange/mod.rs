//! Exchange Online's admin API (the REST API behind the EXO V3 module and CIPP) under
//! `/outlook/adminapi/beta/{tenantId}/...` (contract §1, docs/simulator-exchange.md):
//!
//! * `POST …/InvokeCommand[?$select=A,B]` — `{"CmdletInput":{"CmdletName","Parameters"}}`, rows
//!   in `value`, `@adminapi.warnings`, paging by re-POSTing to `@odata.nextLink`;
//! * `POST …/$batch` — up to 10 `InvokeCommand` sub-requests with absolute `url`s.
//!
//! Modules: [`access`] (token, tenant and role checks), [`throttle`] (concurrent requests per
//! tenant), [`invoke`] (body, paging, `$select`), [`cmdlets`] (one module per concern),
//! [`render`] (wire rows), [`filter`] (OPATH), [`params`], [`errors`], [`batch`].

pub mod access;
pub mod batch;
pub mod cmdlets;
pub mod errors;
pub mod filter;
pub mod invoke;
pub mod params;
pub mod render;
pub mod throttle;

use crate::state::Sim;
use axum::routing::post;
use axum::Router;
use std::sync::Arc;

pub use throttle::{ExchangeThrottle, DEFAULT_MAX_CONCURRENT, THROTTLED_TEXT};

/// The path prefix of every Exchange admin API route (the real host serves `/adminapi/...`).
pub const PREFIX: &str = "/outlook/adminapi/beta";

/// Exchange's route table.
pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/outlook/adminapi/beta/{tenant}/InvokeCommand", post(invoke::handler))
        .route("/outlook/adminapi/beta/{tenant}/$batch", post(batch::handler))
}

/// An unmatched path under `/outlook`: Exchange's error body.
pub fn unmatched(path: &str) -> axum::response::Response {
    errors::unmatched(path)
}

/// A known path with another method than POST.
pub fn method_not_allowed(method: &str) -> axum::response::Response {
    errors::method_not_allowed(method)
}
