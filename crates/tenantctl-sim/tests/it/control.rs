//! The `/_sim/` control API: fault injection, statistics, trouble, reset. The client never needs
//! it; tests and demos steer the simulator with it.

use crate::common::*;
use serde_json::{json, Value};

async fn post(sim: &tenantctl_sim::RunningSim, path: &str, body: Value) -> (u16, Value) {
    let r = client()
        .post(format!("{}{path}", sim.base_url))
        .json(&body)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn get(sim: &tenantctl_sim::RunningSim, path: &str) -> Value {
    client()
        .get(format!("{}{path}", sim.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn pc_count(stats: &Value, status: u16) -> u64 {
    stats["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["route"] == "/partnercenter/v1/customers" && r["status"] == status)
        .map(|r| r["count"].as_u64().unwrap())
        .sum()
}

#[tokio::test]
async fn faults_merge_validate_and_inject_429s_with_retry_after_counted_by_route_and_status() {
    let sim = start_sim(3, Some(2)).await;
    let (s, f) = post(&sim, "/_sim/faults", json!({"fault_429": 1.0, "retry_after_secs": 7})).await;
    assert_eq!(s, 200);
    assert_eq!(f["fault_429"], 1.0);
    assert_eq!(f["latency_ms"], 0, "other settings kept");
    assert_eq!(post(&sim, "/_sim/faults", json!({"fault_429": 2.0})).await.0, 400);
    let (s, b) = post(&sim, "/_sim/faults", json!({"fault_42": 0.5})).await;
    assert_eq!(s, 400);
    assert!(b["error"].as_str().unwrap().contains("fault_42"));

    let tok = delegated_graph_token(&sim, sim.sim.fleet.partner_tenant());
    for _ in 0..3 {
        let r = client()
            .get(format!("{}/partnercenter/v1/customers", sim.base_url))
            .bearer_auth(&tok)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "7");
        let b: Value = r.json().await.unwrap();
        assert!(
            b["code"].is_number() && b["description"].is_string(),
            "Partner Center's body: {b}"
        );
    }
    let stats = get(&sim, "/_sim/stats").await;
    assert_eq!(pc_count(&stats, 429), 3);

    // Reset restores the start-up settings and clears the counts.
    let r = client()
        .post(format!("{}/_sim/reset", sim.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(get(&sim, "/_sim/faults").await["fault_429"], 0.0);
    assert_eq!(get(&sim, "/_sim/stats").await["total"], 0);
    let r = client()
        .get(format!("{}/partnercenter/v1/customers", sim.base_url))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        401,
        "served again (a Graph token is refused by Partner Center)"
    );
    assert_eq!(pc_count(&get(&sim, "/_sim/stats").await, 401), 1);
}

/// Latency waits on the simulator's clock: on a manual clock a service call moves it by exactly
/// the latency, a control call not at all.
#[tokio::test]
async fn latency_delays_service_calls_but_not_the_control_api() {
    let mut c = tenantctl_sim::SimConfig::new(1, 1);
    c.fleet.users_per_tenant = Some(2);
    c.fleet.anchor = ANCHOR;
    c.clock = tenantctl_sim::Clock::manual_at(ANCHOR);
    let sim = start_with(c).await;
    post(&sim, "/_sim/faults", json!({"latency_ms": 300, "token_latency_ms": 0})).await;
    let now = |v: Value| v["unix"].as_f64().unwrap();
    let t0 = now(get(&sim, "/_sim/clock").await);
    let _ = client()
        .get(format!("{}/partnercenter/v1/customers", sim.base_url))
        .send()
        .await
        .unwrap();
    let t1 = now(get(&sim, "/_sim/clock").await);
    assert!((t1 - t0 - 0.3).abs() < 1e-6, "a service call waited {}s", t1 - t0);
    let _ = get(&sim, "/_sim/health").await;
    assert_eq!(now(get(&sim, "/_sim/clock").await), t1, "the control API does not wait");
}

#[tokio::test]
async fn reset_connections_are_cut_before_a_complete_response() {
    let sim = start_sim(1, Some(2)).await;
    post(&sim, "/_sim/faults", json!({"fault_reset": 1.0})).await;
    let r = client()
        .get(format!("{}/partnercenter/v1/customers", sim.base_url))
        .send()
        .await;
    let failed = match r {
        Err(_) => true,
        Ok(resp) => resp.bytes().await.is_err(),
    };
    assert!(failed, "the client sees a transport error, not a status");
}

#[tokio::test]
async fn tenants_list_and_trouble_can_be_set_per_tenant() {
    let sim = start_sim(4, Some(3)).await;
    let list = get(&sim, "/_sim/tenants").await;
    let tenants = list["tenants"].as_array().unwrap();
    assert_eq!(tenants.len(), 5);
    assert_eq!(tenants[0]["kind"], "partner");
    let target = &sim.sim.fleet.customers()[1];
    let r = client()
        .put(format!(
            "{}/_sim/tenants/{}/trouble",
            sim.base_url, target.initial_domain
        ))
        .json(&json!({"trouble": "consent_missing"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let list = get(&sim, "/_sim/tenants").await;
    let row = list["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == target.id.to_string())
        .unwrap()
        .clone();
    assert_eq!(row["trouble"], "consent_missing");
    let (s, b) = sam_token(&sim, &target.id.to_string(), "https://graph.microsoft.com/.default").await;
    assert_eq!(s, 400);
    assert_eq!(b["error_codes"][0], 65001);
    let r = client()
        .put(format!("{}/_sim/tenants/{}/trouble", sim.base_url, target.id))
        .json(&json!({"trouble": "on_fire"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn info_is_the_ready_line() {
    let sim = start_sim(2, Some(2)).await;
    let info = get(&sim, "/_sim/info").await;
    let line: Value = serde_json::from_str(&sim.ready_line()).unwrap();
    assert_eq!(info, line);
    for k in [
        "base_url",
        "partner_tenant_id",
        "partner_domain",
        "client_id",
        "client_secret",
        "refresh_token",
    ] {
        assert!(line[k].as_str().is_some_and(|v| !v.is_empty()), "{k}");
    }
}
