//! The control API under `/_sim/`: tests, demos and benchmarks steer the simulator here.
//! A client never needs it. It bypasses latency, faults, throttling and statistics.
//!
//! | Call | Effect |
//! |---|---|
//! | `GET /_sim/health` | `{"status":"ok"}` |
//! | `GET /_sim/info` | the ready line (`base_url`, `partner_tenant_id`, credentials...) |
//! | `GET`/`POST /_sim/faults` | read / merge fault settings (`latency_ms`, `fault_429`...) |
//! | `GET`/`POST /_sim/throttle` | read / merge `{"enabled","scale"}` |
//! | `GET`/`POST /_sim/exchange` | read / set `{"max_concurrent": N}` (Exchange requests in flight per tenant; 0: no cap) |
//! | `GET`/`POST /_sim/token-lifetime` | read / set `{"seconds"}` |
//! | `GET /_sim/stats`, `DELETE /_sim/stats` | request counts by method, route and status / reset them |
//! | `POST /_sim/reset` | back to the start-up settings: faults, throttle, trouble, stats, identity |
//! | `GET /_sim/tenants` | every tenant with its kind, trouble, user count and Exchange role (`exchangeRole`) |
//! | `PUT /_sim/tenants/{id}/trouble` | `{"trouble":"relationship_expired"}` (or `none`, `consent_missing`, `read_only_roles`) |
//! | `PUT /_sim/tenants/{id}/roles` | `{"roles":["<role template id>",…]}`: the partner's GDAP roles there from now on (`null`: as generated) |
//! | `GET /_sim/identity/device` | user codes waiting for sign-in |
//! | `POST /_sim/identity/device/approve`, `.../decline` | `{"user_code":"..."}` |
//! | `POST /_sim/identity/refresh-tokens/revoke`, `.../expire` | AADSTS50173 / AADSTS700082 from now on |
//! | `GET`/`POST`/`DELETE /_sim/dns` | the simulated public DNS (the registrar): `{"name","type","value"}` |
//! | `GET`/`POST /_sim/reports` | usage report counters (`downloads_served`, `downloads_refused_authorization`…) / `{"quota_enabled": true\|false\|null}` |
//! | `GET /_sim/reports/{tenant}/{call}` | the ground-truth CSV of a report call, e.g. `getMailboxUsageDetail(period='D30')` |
//! | `PUT /_sim/tenants/{id}/global-admin` | `{"granted": true\|false\|null}`: Global Administrator in the main GDAP relationship |
//! | `GET`/`POST /_sim/clock` | the simulator's now / move it: `{"advanceSeconds": 3600}` or `{"now": "RFC 3339"}` |
//!
//! `POST /_sim/faults` also takes `"seed"`: the fault schedule starts again from it.
//! Every error answers `{"error": "..."}`.

mod dns;
mod identity;
mod reports;
mod settings;

use crate::platform::errors::ControlError;
use crate::state::Sim;
use axum::extract::{FromRequest, Request};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/_sim/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/_sim/info", get(settings::info))
        .route("/_sim/faults", get(settings::get_faults).post(settings::set_faults))
        .route(
            "/_sim/throttle",
            get(settings::get_throttle).post(settings::set_throttle),
        )
        .route(
            "/_sim/exchange",
            get(settings::get_exchange).post(settings::set_exchange),
        )
        .route(
            "/_sim/token-lifetime",
            get(settings::get_lifetime).post(settings::set_lifetime),
        )
        .route("/_sim/stats", get(settings::stats).delete(settings::reset_stats))
        .route("/_sim/reset", post(settings::reset))
        .route("/_sim/clock", get(settings::get_clock).post(settings::set_clock))
        .route("/_sim/tenants", get(settings::tenants))
        .route(
            "/_sim/tenants/{id}/trouble",
            put(settings::set_trouble).post(settings::set_trouble),
        )
        .route(
            "/_sim/tenants/{id}/roles",
            put(settings::set_roles).post(settings::set_roles),
        )
        .route("/_sim/identity/device", get(identity::pending_devices))
        .route("/_sim/identity/device/approve", post(identity::approve))
        .route("/_sim/identity/device/decline", post(identity::decline))
        .route("/_sim/identity/refresh-tokens/revoke", post(identity::revoke))
        .route("/_sim/identity/refresh-tokens/expire", post(identity::expire))
        .route("/_sim/reports", get(reports::get_reports).post(reports::set_reports))
        .route("/_sim/reports/{tenant}/{call}", get(reports::ground_truth))
        .route(
            "/_sim/tenants/{id}/global-admin",
            put(reports::set_global_admin).post(reports::set_global_admin),
        )
        .route(
            "/_sim/dns",
            get(dns::dns_list).post(dns::dns_publish).delete(dns::dns_remove),
        )
}

/// A JSON request body whose rejection is the control API's `{"error": …}` 400.
pub struct Body<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ControlError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ControlError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(e) => Err(ControlError::bad(e.body_text())),
        }
    }
}
