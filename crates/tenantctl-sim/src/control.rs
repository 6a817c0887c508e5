//! The control API under `/_sim/`: tests, demos and benchmarks steer the simulator here.
//! A client never needs it. It bypasses latency, faults, throttling and statistics.
//!
//! | Call | Effect |
//! |---|---|
//! | `GET /_sim/health` | `{"status":"ok"}` |
//! | `GET /_sim/info` | the ready line (`base_url`, `partner_tenant_id`, credentials...) |
//! | `GET`/`POST /_sim/faults` | read / merge fault settings (`latency_ms`, `fault_429`...) |
//! | `GET`/`POST /_sim/throttle` | read / merge `{"enabled","scale"}` |
//! | `GET`/`POST /_sim/token-lifetime` | read / set `{"seconds"}` |
//! | `GET /_sim/stats`, `DELETE /_sim/stats` | request counts by method, route and status / reset them |
//! | `POST /_sim/reset` | back to the start-up settings: faults, throttle, trouble, stats, identity |
//! | `GET /_sim/tenants` | every tenant with its kind, trouble and user count |
//! | `PUT /_sim/tenants/{id}/trouble` | `{"trouble":"relationship_expired"}` (or `none`, `consent_missing`, `read_only_roles`) |
//! | `GET /_sim/identity/device` | user codes waiting for sign-in |
//! | `POST /_sim/identity/device/approve`, `.../decline` | `{"user_code":"..."}` |
//! | `POST /_sim/identity/refresh-tokens/revoke`, `.../expire` | AADSTS50173 / AADSTS700082 from now on |
//! | `GET`/`POST`/`DELETE /_sim/dns` | the simulated public DNS (the registrar): `{"name","type","value"}` |

use crate::faults::Faults;
use crate::fleet::{TenantKind, Trouble};
use crate::server::Sim;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/_sim/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/_sim/info", get(info))
        .route("/_sim/faults", get(get_faults).post(set_faults))
        .route("/_sim/throttle", get(get_throttle).post(set_throttle))
        .route("/_sim/token-lifetime", get(get_lifetime).post(set_lifetime))
        .route("/_sim/stats", get(stats).delete(reset_stats))
        .route("/_sim/reset", post(reset))
        .route("/_sim/tenants", get(tenants))
        .route("/_sim/tenants/{id}/trouble", put(set_trouble).post(set_trouble))
        .route("/_sim/identity/device", get(pending_devices))
        .route("/_sim/identity/device/approve", post(approve))
        .route("/_sim/identity/device/decline", post(decline))
        .route("/_sim/identity/refresh-tokens/revoke", post(revoke))
        .route("/_sim/identity/refresh-tokens/expire", post(expire))
        .route("/_sim/dns", get(dns_list).post(dns_publish).delete(dns_remove))
}

fn bad(msg: impl Into<String>) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": msg.into()}))).into_response()
}

async fn info(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(sim.ready_info())
}

async fn get_faults(State(sim): State<Arc<Sim>>) -> Json<Faults> {
    Json(sim.faults.read().clone())
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

async fn set_faults(State(sim): State<Arc<Sim>>, Json(patch): Json<Value>) -> Response {
    let cur = sim.faults.read().clone();
    match merge(&cur, patch) {
        Ok(f) => {
            let f: Faults = f;
            for p in [f.fault_429, f.fault_503, f.fault_reset] {
                if !(0.0..=1.0).contains(&p) {
                    return bad(format!("fault probabilities are between 0 and 1, got {p}"));
                }
            }
            *sim.faults.write() = f.clone();
            Json(f).into_response()
        }
        Err(e) => bad(e),
    }
}

async fn get_throttle(State(sim): State<Arc<Sim>>) -> Response {
    Json(sim.throttle.config()).into_response()
}

async fn set_throttle(State(sim): State<Arc<Sim>>, Json(patch): Json<Value>) -> Response {
    match merge(&sim.throttle.config(), patch) {
        Ok(c) => {
            let c: crate::throttle::ThrottleConfig = c;
            if c.scale <= 0.0 {
                return bad("scale must be > 0");
            }
            sim.throttle.set_config(c.clone());
            Json(c).into_response()
        }
        Err(e) => bad(e),
    }
}

async fn get_lifetime(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(json!({"seconds": sim.token_lifetime()}))
}

async fn set_lifetime(State(sim): State<Arc<Sim>>, Json(v): Json<Value>) -> Response {
    match v.get("seconds").and_then(Value::as_i64) {
        Some(s) if s > 0 => {
            sim.token_lifetime_secs.store(s, Ordering::Relaxed);
            Json(json!({"seconds": s})).into_response()
        }
        _ => bad("expected {\"seconds\": <positive integer>}"),
    }
}

async fn stats(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(json!({"total": sim.stats.total(), "requests": sim.stats.rows()}))
}

async fn reset_stats(State(sim): State<Arc<Sim>>) -> StatusCode {
    sim.stats.reset();
    StatusCode::NO_CONTENT
}

async fn reset(State(sim): State<Arc<Sim>>) -> StatusCode {
    sim.reset();
    StatusCode::NO_CONTENT
}

async fn tenants(State(sim): State<Arc<Sim>>) -> Json<Value> {
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
            })
        })
        .collect();
    Json(json!({ "tenants": list }))
}

async fn set_trouble(State(sim): State<Arc<Sim>>, Path(id): Path<String>, Json(v): Json<Value>) -> Response {
    let Some(t) = sim.fleet.find_tenant(&id) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("no tenant '{id}'")})),
        )
            .into_response();
    };
    if t.kind != TenantKind::Customer {
        return bad("trouble applies to customer tenants only");
    }
    let Some(tr) = v.get("trouble").and_then(Value::as_str).and_then(Trouble::parse) else {
        return bad(
            "expected {\"trouble\": \"none\"|\"relationship_expired\"|\"consent_missing\"|\"read_only_roles\"}",
        );
    };
    sim.trouble_overrides.write().insert(t.idx, tr);
    Json(json!({"id": t.id.to_string(), "trouble": tr.as_str()})).into_response()
}

async fn pending_devices(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(json!({"user_codes": sim.identity.pending_user_codes()}))
}

fn user_code(v: &Value) -> Option<&str> {
    v.get("user_code").and_then(Value::as_str)
}

async fn approve(State(sim): State<Arc<Sim>>, Json(v): Json<Value>) -> Response {
    complete(&sim, &v, true)
}

async fn decline(State(sim): State<Arc<Sim>>, Json(v): Json<Value>) -> Response {
    complete(&sim, &v, false)
}

fn complete(sim: &Sim, v: &Value, approve: bool) -> Response {
    let Some(code) = user_code(v) else {
        return bad("expected {\"user_code\": \"...\"}");
    };
    if sim.identity.complete_device_code(code, approve) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("no pending device code with user code '{code}'")})),
        )
            .into_response()
    }
}

async fn revoke(State(sim): State<Arc<Sim>>) -> StatusCode {
    sim.identity.revoke_refresh_tokens();
    StatusCode::NO_CONTENT
}

async fn expire(State(sim): State<Arc<Sim>>) -> StatusCode {
    sim.identity.expire_refresh_tokens();
    StatusCode::NO_CONTENT
}

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

async fn dns_list(State(sim): State<Arc<Sim>>) -> Json<Value> {
    let dns = sim.writes.dns.read();
    let mut records: Vec<Value> = dns
        .iter()
        .flat_map(|(n, v)| v.iter().map(move |(k, x)| json!({"name": n, "type": k, "value": x})))
        .collect();
    records.sort_by_key(|r| r.to_string());
    Json(json!({ "records": records }))
}

/// Publishes a record, as the customer's registrar would.
async fn dns_publish(State(sim): State<Arc<Sim>>, Json(v): Json<Value>) -> Response {
    let Some((name, kind, value)) = dns_record(&v) else {
        return bad("expected {\"name\": \"contoso.com\", \"type\": \"TXT\", \"value\": \"MS=ms12345678\"}");
    };
    let mut dns = sim.writes.dns.write();
    let list = dns.entry(name.clone()).or_default();
    if !list.iter().any(|(k, x)| *k == kind && *x == value) {
        list.push((kind.clone(), value.clone()));
    }
    (
        StatusCode::CREATED,
        Json(json!({"name": name, "type": kind, "value": value})),
    )
        .into_response()
}

async fn dns_remove(State(sim): State<Arc<Sim>>, Json(v): Json<Value>) -> Response {
    let Some((name, kind, value)) = dns_record(&v) else {
        return bad("expected {\"name\", \"type\", \"value\"}");
    };
    if let Some(list) = sim.writes.dns.write().get_mut(&name) {
        list.retain(|(k, x)| !(*k == kind && *x == value));
    }
    StatusCode::NO_CONTENT.into_response()
}
