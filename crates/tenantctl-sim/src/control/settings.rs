//! Settings of the running simulator: faults (and the fault schedule's seed), throttling, token
//! lifetime, statistics, reset, the clock, and per-tenant trouble.

use super::Body;
use crate::fleet::{TenantKind, Trouble};
use crate::platform::clock::{parse_rfc3339, rfc3339};
use crate::platform::errors::ControlError;
use crate::platform::faults::Faults;
use crate::platform::throttle::ThrottleConfig;
use crate::state::Sim;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

type Res<T> = Result<T, ControlError>;

pub async fn info(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(sim.ready_info())
}

fn faults_json(sim: &Sim) -> Value {
    let mut v = serde_json::to_value(sim.faults.read().clone()).unwrap_or_default();
    v["seed"] = json!(sim.dice.seed());
    v
}

pub async fn get_faults(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(faults_json(&sim))
}

/// Merges the given keys into the current settings; unknown keys are an error.
fn merge<T: serde::Serialize + serde::de::DeserializeOwned>(current: &T, patch: Value) -> Result<T, String> {
    let mut cur = serde_json::to_value(current).map_err(|e| e.to_string())?;
    let Value::Object(patch) = patch else {
        return Err("expected a JSON object".into());
    };
    let obj = cur.as_object_mut().expect("settings serialize as an object");
    for (k, v) in patch {
        if !obj.contains_key(&k) {
            let known: Vec<&String> = obj.keys().collect();
            return Err(format!("unknown setting '{k}'; known: {known:?}"));
        }
        obj.insert(k, v);
    }
    serde_json::from_value(cur).map_err(|e| e.to_string())
}

/// Merges fault settings; `"seed"` restarts the fault schedule from that seed.
pub async fn set_faults(State(sim): State<Arc<Sim>>, Body(mut patch): Body<Value>) -> Res<Json<Value>> {
    let seed = match patch.as_object_mut().and_then(|o| o.remove("seed")) {
        None => None,
        Some(v) => Some(
            v.as_u64()
                .ok_or_else(|| ControlError::bad("seed is a non-negative integer"))?,
        ),
    };
    let cur = sim.faults.read().clone();
    let f: Faults = merge(&cur, patch).map_err(ControlError::bad)?;
    for p in [f.fault_429, f.fault_503, f.fault_reset] {
        if !(0.0..=1.0).contains(&p) {
            return Err(ControlError::bad(format!(
                "fault probabilities are between 0 and 1, got {p}"
            )));
        }
    }
    *sim.faults.write() = f;
    if let Some(s) = seed {
        sim.dice.reseed(s);
    }
    Ok(Json(faults_json(&sim)))
}

pub async fn get_throttle(State(sim): State<Arc<Sim>>) -> Json<ThrottleConfig> {
    Json(sim.throttle.config())
}

pub async fn set_throttle(State(sim): State<Arc<Sim>>, Body(patch): Body<Value>) -> Res<Json<ThrottleConfig>> {
    let c: ThrottleConfig = merge(&sim.throttle.config(), patch).map_err(ControlError::bad)?;
    if c.scale <= 0.0 {
        return Err(ControlError::bad("scale must be > 0"));
    }
    sim.throttle.set_config(c.clone());
    Ok(Json(c))
}

pub async fn get_exchange(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(json!({"max_concurrent": sim.exchange.max_concurrent()}))
}

pub async fn set_exchange(State(sim): State<Arc<Sim>>, Body(v): Body<Value>) -> Res<Json<Value>> {
    match v.get("max_concurrent").and_then(Value::as_u64) {
        Some(n) if n <= u32::MAX as u64 => {
            sim.exchange.set_max_concurrent(n as u32);
            Ok(Json(json!({"max_concurrent": n})))
        }
        _ => Err(ControlError::bad("expected {\"max_concurrent\": <integer >= 0>}")),
    }
}

pub async fn get_lifetime(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(json!({"seconds": sim.token_lifetime()}))
}

pub async fn set_lifetime(State(sim): State<Arc<Sim>>, Body(v): Body<Value>) -> Res<Json<Value>> {
    match v.get("seconds").and_then(Value::as_i64) {
        Some(s) if s > 0 => {
            sim.token_lifetime_secs.store(s, Ordering::Relaxed);
            Ok(Json(json!({"seconds": s})))
        }
        _ => Err(ControlError::bad("expected {\"seconds\": <positive integer>}")),
    }
}

pub async fn stats(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(json!({"total": sim.stats.total(), "requests": sim.stats.rows()}))
}

pub async fn reset_stats(State(sim): State<Arc<Sim>>) -> StatusCode {
    sim.stats.reset();
    StatusCode::NO_CONTENT
}

pub async fn reset(State(sim): State<Arc<Sim>>) -> StatusCode {
    sim.reset();
    StatusCode::NO_CONTENT
}

fn clock_json(sim: &Sim) -> Value {
    let c = sim.clock();
    json!({
        "now": rfc3339(c.now()),
        "unix": c.now_secs_f64(),
        "manual": c.is_manual(),
    })
}

pub async fn get_clock(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(clock_json(&sim))
}

/// Moves the clock: `{"advanceSeconds": 3600}` (may be fractional or negative) or
/// `{"now": "2025-11-26T09:00:00Z"}`.
pub async fn set_clock(State(sim): State<Arc<Sim>>, Body(v): Body<Value>) -> Res<Json<Value>> {
    match (v.get("advanceSeconds"), v.get("now")) {
        (Some(a), None) => {
            let secs = a
                .as_f64()
                .filter(|s| s.is_finite())
                .ok_or_else(|| ControlError::bad("advanceSeconds is a number of seconds"))?;
            sim.clock().advance_secs(secs);
        }
        (None, Some(n)) => {
            let t = n
                .as_str()
                .and_then(parse_rfc3339)
                .ok_or_else(|| ControlError::bad("now is an RFC 3339 timestamp, e.g. 2025-11-26T09:00:00Z"))?;
            sim.clock().set(t);
        }
        _ => {
            return Err(ControlError::bad(
                "expected {\"advanceSeconds\": <seconds>} or {\"now\": \"<RFC 3339>\"}",
            ))
        }
    }
    Ok(Json(clock_json(&sim)))
}

pub async fn tenants(State(sim): State<Arc<Sim>>) -> Json<Value> {
    let list: Vec<Value> = sim
        .fleet
        .tenants
        .iter()
        .map(|t| {
            json!({
                "id": t.id.to_string(),
                "displayName": t.display_name,
                "defaultDomain": t.default_domain(),
                "kind": if t.kind == TenantKind::Partner { "partner" } else { "customer" },
                "trouble": sim.trouble(t).as_str(),
                "users": t.user_count,
                // The partner holds Global Administrator there now (may change reportSettings).
                "globalAdmin": super::reports::global_admin(&sim, t),
                // admin/reportSettings displayConcealedNames now.
                "displayConcealedNames": sim.world.tenant(t).display_concealed_names(),
                "guests": t.guest_count,
                // Exchange admin API access now: "full", "read_only" or null (no Exchange role).
                "exchangeRole": match sim.exchange_role(t) {
                    Some(crate::services::exchange::access::ExoRole::Full) => json!("full"),
                    Some(crate::services::exchange::access::ExoRole::ReadOnly) => json!("read_only"),
                    None => Value::Null,
                },
            })
        })
        .collect();
    Json(json!({ "tenants": list }))
}

pub async fn set_trouble(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    Body(v): Body<Value>,
) -> Res<Json<Value>> {
    let t = sim
        .fleet
        .find_tenant(&id)
        .ok_or_else(|| ControlError::not_found(format!("no tenant '{id}'")))?;
    if t.kind != TenantKind::Customer {
        return Err(ControlError::bad("trouble applies to customer tenants only"));
    }
    let Some(tr) = v.get("trouble").and_then(Value::as_str).and_then(Trouble::parse) else {
        return Err(ControlError::bad(
            "expected {\"trouble\": \"none\"|\"relationship_expired\"|\"consent_missing\"|\"read_only_roles\"}",
        ));
    };
    sim.trouble_overrides.write().insert(t.idx, tr);
    Ok(Json(json!({"id": t.id.to_string(), "trouble": tr.as_str()})))
}

/// `PUT /_sim/tenants/{id}/roles {"roles": ["<role template id>", …]}`: the Entra roles the
/// partner's GDAP relationships grant in that customer from now on (ids the simulator knows:
/// `GET /graph/v1.0/roleManagement/directory/roleDefinitions`); `{"roles": null}` restores
/// the generated ones.
pub async fn set_roles(State(sim): State<Arc<Sim>>, Path(id): Path<String>, Body(v): Body<Value>) -> Res<Json<Value>> {
    let t = sim
        .fleet
        .find_tenant(&id)
        .ok_or_else(|| ControlError::not_found(format!("no tenant '{id}'")))?;
    if t.kind != TenantKind::Customer {
        return Err(ControlError::bad("roles apply to customer tenants only"));
    }
    let expected = || ControlError::bad("expected {\"roles\": [\"<role template id>\", ...]} or {\"roles\": null}");
    match v.get("roles") {
        Some(Value::Null) => {
            sim.role_overrides.write().remove(&t.idx);
        }
        Some(Value::Array(list)) => {
            let mut roles: Vec<&'static str> = Vec::new();
            for r in list {
                let s = r.as_str().ok_or_else(expected)?;
                let def = crate::world::security::role_def(s)
                    .ok_or_else(|| ControlError::bad(format!("unknown role template id '{s}'")))?;
                if !roles.contains(&def.id) {
                    roles.push(def.id);
                }
            }
            sim.role_overrides.write().insert(t.idx, roles);
        }
        _ => return Err(expected()),
    }
    Ok(Json(json!({"id": t.id.to_string(), "roles": sim.access(t).roles})))
}
