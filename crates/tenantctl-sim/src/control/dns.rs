//! The simulated public DNS (the customer's registrar): records published here are what
//! `POST /domains/{id}/verify` looks for. Saved with the state.

use super::Body;
use crate::platform::errors::ControlError;
use crate::state::Sim;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

fn dns_record(v: &Value) -> Option<(String, String, String)> {
    let name = v
        .get("name")?
        .as_str()?
        .trim()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let kind = v.get("type")?.as_str()?.trim().to_ascii_uppercase();
    let value = v.get("value")?.as_str()?.trim().to_owned();
    (!name.is_empty() && !kind.is_empty() && !value.is_empty()).then_some((name, kind, value))
}

pub async fn dns_list(State(sim): State<Arc<Sim>>) -> Json<Value> {
    let mut records: Vec<Value> = sim
        .world
        .dns()
        .iter()
        .flat_map(|(n, v)| {
            v.iter()
                .map(move |r| json!({"name": n, "type": r.kind, "value": r.value}))
        })
        .collect();
    records.sort_by_key(|r| r.to_string());
    Json(json!({ "records": records }))
}

fn save_error(e: std::io::Error) -> ControlError {
    ControlError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        message: format!("the simulator could not save its state: {e}"),
    }
}

/// Publishes a record, as the customer's registrar would.
pub async fn dns_publish(
    State(sim): State<Arc<Sim>>,
    Body(v): Body<Value>,
) -> Result<(StatusCode, Json<Value>), ControlError> {
    let (name, kind, value) = dns_record(&v).ok_or_else(|| {
        ControlError::bad("expected {\"name\": \"contoso.com\", \"type\": \"TXT\", \"value\": \"MS=ms12345678\"}")
    })?;
    sim.world.publish_dns(&name, &kind, &value);
    sim.clone().save_state().await.map_err(save_error)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"name": name, "type": kind, "value": value})),
    ))
}

pub async fn dns_remove(State(sim): State<Arc<Sim>>, Body(v): Body<Value>) -> Result<StatusCode, ControlError> {
    let (name, kind, value) =
        dns_record(&v).ok_or_else(|| ControlError::bad("expected {\"name\", \"type\", \"value\"}"))?;
    sim.world.unpublish_dns(&name, &kind, &value);
    sim.clone().save_state().await.map_err(save_error)?;
    Ok(StatusCode::NO_CONTENT)
}
