//! Steering the identity platform: device codes waiting for sign-in, refresh-token revocation
//! and expiry.

use super::Body;
use crate::platform::errors::ControlError;
use crate::state::Sim;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

pub async fn pending_devices(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(json!({"user_codes": sim.identity.pending_user_codes()}))
}

pub async fn approve(State(sim): State<Arc<Sim>>, Body(v): Body<Value>) -> Result<StatusCode, ControlError> {
    complete(&sim, &v, true)
}

pub async fn decline(State(sim): State<Arc<Sim>>, Body(v): Body<Value>) -> Result<StatusCode, ControlError> {
    complete(&sim, &v, false)
}

fn complete(sim: &Sim, v: &Value, approve: bool) -> Result<StatusCode, ControlError> {
    let code = v
        .get("user_code")
        .and_then(Value::as_str)
        .ok_or_else(|| ControlError::bad("expected {\"user_code\": \"...\"}"))?;
    if sim.identity.complete_device_code(code, approve) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ControlError::not_found(format!(
            "no pending device code with user code '{code}'"
        )))
    }
}

pub async fn revoke(State(sim): State<Arc<Sim>>) -> StatusCode {
    sim.identity.revoke_refresh_tokens();
    StatusCode::NO_CONTENT
}

pub async fn expire(State(sim): State<Arc<Sim>>) -> StatusCode {
    sim.identity.expire_refresh_tokens();
    StatusCode::NO_CONTENT
}
