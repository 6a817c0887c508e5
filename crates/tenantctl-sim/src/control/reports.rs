//! Usage reports in the control API: counters and the quota switch (`/_sim/reports`), the
//! ground-truth CSV of any report (`/_sim/reports/{tenant}/{call}`), and Global Administrator
//! in a customer's main GDAP relationship (`/_sim/tenants/{id}/global-admin`).

use super::Body;
use crate::fleet::TenantKind;
use crate::platform::errors::ControlError;
use crate::state::Sim;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

type Res<T> = Result<T, ControlError>;

/// `GET /_sim/reports`: `quota_enabled`, `quota_forced`, `links_issued`, `links_live`,
/// `downloads_served`, `downloads_refused_authorization`, `downloads_not_found`,
/// `link_ttl_secs`, `refresh_lag_days`.
pub async fn get_reports(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(sim.reports.json(&sim))
}

/// `POST /_sim/reports {"quota_enabled": true|false|null}`: force the reports quota on or off,
/// or (`null`) let it follow Graph throttling again.
pub async fn set_reports(State(sim): State<Arc<Sim>>, Body(v): Body<Value>) -> Res<Json<Value>> {
    match v.get("quota_enabled") {
        Some(Value::Bool(b)) => *sim.reports.quota.forced.lock() = Some(*b),
        Some(Value::Null) => *sim.reports.quota.forced.lock() = None,
        _ => return Err(ControlError::bad("expected {\"quota_enabled\": true|false|null}")),
    }
    Ok(Json(sim.reports.json(&sim)))
}

/// `GET /_sim/reports/{tenant}/{call}`: exactly the CSV bytes a partner admin with full
/// reading rights would download now (BOM included; the tenant's concealed-names setting
/// honoured). Bypasses quota, latency and faults.
pub async fn ground_truth(State(sim): State<Arc<Sim>>, Path((tenant, call)): Path<(String, String)>) -> Res<Response> {
    let t = sim
        .fleet
        .find_tenant(&tenant)
        .ok_or_else(|| ControlError::not_found(format!("no tenant '{tenant}'")))?;
    let csv = crate::services::graph::reports::ground_truth(&sim, t.idx, &call)
        .map_err(|e| ControlError::bad(e.message()))?;
    let mut r = (StatusCode::OK, csv).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    Ok(r)
}

/// `PUT /_sim/tenants/{id}/global-admin {"granted": true|false|null}`: give or take Global
/// Administrator in the customer's main GDAP relationship (`null`: as generated).
pub async fn set_global_admin(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    Body(v): Body<Value>,
) -> Res<Json<Value>> {
    let t = sim
        .fleet
        .find_tenant(&id)
        .ok_or_else(|| ControlError::not_found(format!("no tenant '{id}'")))?;
    if t.kind != TenantKind::Customer {
        return Err(ControlError::bad("global-admin applies to customer tenants only"));
    }
    match v.get("granted") {
        Some(Value::Bool(b)) => {
            sim.global_admin_overrides.write().insert(t.idx, *b);
        }
        Some(Value::Null) => {
            sim.global_admin_overrides.write().remove(&t.idx);
        }
        _ => return Err(ControlError::bad("expected {\"granted\": true|false|null}")),
    }
    Ok(Json(
        json!({"id": t.id.to_string(), "globalAdmin": global_admin(&sim, t)}),
    ))
}

/// Whether the partner holds Global Administrator in tenant `t` now.
pub fn global_admin(sim: &Sim, t: &crate::fleet::Tenant) -> bool {
    sim.access(t).roles.contains(&crate::fleet::roles::GLOBAL_ADMINISTRATOR)
}
