//! Shared harness for the simulator's HTTP tests: a simulator on 127.0.0.1, port 0.
#![allow(dead_code)]

use reqwest::header::HeaderMap;
use serde_json::Value;
use tenantctl_sim::auth::{mint, TokenRequest, AUD_GRAPH};
use tenantctl_sim::fleet::{Tenant, Trouble};
use tenantctl_sim::{RunningSim, SimConfig};

/// 2025-11-25T00:00:00Z: a fixed anchor so generated dates are stable in assertions.
pub const ANCHOR: i64 = 1_764_028_800;

/// Starts a simulator with `tenants` customers (fixed users per tenant when given), no latency,
/// no faults and throttling off (tests that want throttling turn it on).
pub async fn start_sim(tenants: u32, users_per_tenant: Option<u32>) -> RunningSim {
    let mut c = SimConfig::new(1, tenants);
    c.fleet.users_per_tenant = users_per_tenant;
    c.fleet.anchor = ANCHOR;
    c.throttle.enabled = false;
    tenantctl_sim::start(c).await.expect("simulator starts")
}

/// [`start_sim`] with the simulator's clock standing still an hour after the anchor: for
/// tests that compare two reads of data that follows the clock (sign-in activity times).
pub async fn start_sim_frozen(tenants: u32, users_per_tenant: Option<u32>) -> RunningSim {
    let mut c = SimConfig::new(1, tenants);
    c.fleet.users_per_tenant = users_per_tenant;
    c.fleet.anchor = ANCHOR;
    c.throttle.enabled = false;
    c.clock = tenantctl_sim::Clock::manual_at(ANCHOR + 3600);
    tenantctl_sim::start(c).await.expect("simulator starts")
}

pub async fn start_with(c: SimConfig) -> RunningSim {
    tenantctl_sim::start(c).await.expect("simulator starts")
}

/// A delegated Graph token for tenant `t` minted with the simulator's own key (as if the
/// identity endpoint issued it to the partner's service account).
pub fn delegated_graph_token(sim: &RunningSim, t: &Tenant) -> String {
    let f = &sim.sim.fleet;
    mint(
        &sim.sim.keys,
        &TokenRequest {
            tenant_id: t.id,
            audience: AUD_GRAPH,
            app_id: f.partner.client_id,
            user: Some((f.partner.service_account_id, &f.partner.service_account_upn)),
            lifetime_secs: 3600,
        },
    )
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Posts a form to `/login/{tenant}/oauth2/v2.0/{endpoint}`; returns status and JSON body.
pub async fn post_login(
    sim: &RunningSim,
    tenant: &str,
    endpoint: &str,
    form: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let r = client()
        .post(format!("{}/login/{tenant}/oauth2/v2.0/{endpoint}", sim.base_url))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

/// The claims of a JWT, without verifying it.
pub fn jwt_claims(token: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("three JWT parts");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&raw).unwrap()
}

/// The partner's refresh token redeemed for `scope` in `tenant` (Secure Application Model).
pub async fn sam_token(sim: &RunningSim, tenant: &str, scope: &str) -> (u16, serde_json::Value) {
    let p = &sim.sim.fleet.partner;
    let client_id = p.client_id.to_string();
    post_login(
        sim,
        tenant,
        "token",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &client_id),
            ("client_secret", &p.client_secret),
            ("refresh_token", &p.initial_refresh_token),
            ("scope", scope),
        ],
    )
    .await
}

// ---- Graph request helpers shared by the graph_* tests ----

/// GET `path` (relative to the simulator) with a bearer token and extra headers.
pub async fn get(sim: &RunningSim, token: &str, path: &str, extra: &[(&str, &str)]) -> (u16, HeaderMap, String) {
    let mut rb = client().get(format!("{}{path}", sim.base_url)).bearer_auth(token);
    for (k, v) in extra {
        rb = rb.header(*k, *v);
    }
    let resp = rb.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}

pub async fn get_json(sim: &RunningSim, token: &str, path: &str, extra: &[(&str, &str)]) -> (u16, HeaderMap, Value) {
    let (s, h, b) = get(sim, token, path, extra).await;
    (s, h, serde_json::from_str(&b).unwrap_or(Value::Null))
}

/// A customer tenant the partner can read (trouble forced to none).
pub fn healthy(sim: &RunningSim, n: usize) -> Tenant {
    let t = sim.sim.fleet.customers()[n].clone();
    sim.sim.trouble_overrides.write().insert(t.idx, Trouble::None);
    t
}

pub fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// Strips the absolute simulator origin from a nextLink.
pub fn rel(sim: &RunningSim, link: &str) -> String {
    link.strip_prefix(&sim.base_url)
        .expect("nextLink points at the simulator")
        .to_owned()
}
