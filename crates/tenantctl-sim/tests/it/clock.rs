//! The simulator's clock (`GET`/`POST /_sim/clock`) and the seeded fault schedule.

use crate::common::*;
use serde_json::{json, Value};
use tenantctl_sim::{Clock, RunningSim, SimConfig};

async fn clock(sim: &RunningSim, body: Option<Value>) -> (u16, Value) {
    let url = format!("{}/_sim/clock", sim.base_url);
    let rb = match body {
        Some(b) => client().post(url).json(&b),
        None => client().get(url),
    };
    let r = rb.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn manual_sim() -> RunningSim {
    let mut c = SimConfig::new(1, 1);
    c.fleet.users_per_tenant = Some(3);
    c.fleet.anchor = ANCHOR;
    c.throttle.enabled = false;
    c.clock = Clock::manual_at(ANCHOR);
    start_with(c).await
}

#[tokio::test]
async fn the_control_api_reads_and_moves_the_clock() {
    let sim = manual_sim().await;
    let (s, v) = clock(&sim, None).await;
    assert_eq!(s, 200);
    assert_eq!(v["now"], "2025-11-25T00:00:00Z");
    assert_eq!(v["manual"], true);
    let (s, v) = clock(&sim, Some(json!({"advanceSeconds": 3600}))).await;
    assert_eq!(s, 200);
    assert_eq!(v["now"], "2025-11-25T01:00:00Z");
    let (_, v) = clock(&sim, Some(json!({"now": "2026-01-02T03:04:05Z"}))).await;
    assert_eq!(v["now"], "2026-01-02T03:04:05Z");
    assert_eq!(sim.sim.clock().now_unix(), 1_767_323_045);
    assert_eq!(clock(&sim, Some(json!({"now": "yesterday"}))).await.0, 400);
    // Reset returns to the start-up clock.
    client()
        .post(format!("{}/_sim/reset", sim.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(clock(&sim, None).await.1["now"], "2025-11-25T00:00:00Z");
}

#[tokio::test]
async fn a_created_user_is_dated_by_the_simulators_clock() {
    let sim = manual_sim().await;
    let t = healthy(&sim, 0);
    clock(&sim, Some(json!({"now": "2026-03-01T12:00:00Z"}))).await;
    let r = client()
        .post(format!("{}/graph/v1.0/users", sim.base_url))
        .bearer_auth(delegated_graph_token(&sim, &t))
        .json(&json!({
            "accountEnabled": true, "displayName": "Dated", "mailNickname": "dated",
            "userPrincipalName": format!("dated@{}", t.initial_domain),
            "passwordProfile": {"password": "xWwvJ]6NMw+bWH-d"}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let tok = delegated_graph_token(&sim, &t);
    let path = format!("/graph/v1.0/users/dated@{}?$select=createdDateTime", t.initial_domain);
    let (_, _, v) = get_json(&sim, &tok, &path, &[]).await;
    assert_eq!(v["createdDateTime"], "2026-03-01T12:00:00Z");
}

/// Which of 40 Partner Center calls get an injected 429, as a string of 0/1.
async fn fault_pattern(sim: &RunningSim) -> String {
    let mut out = String::new();
    for _ in 0..40 {
        let r = client()
            .get(format!("{}/partnercenter/v1/customers", sim.base_url))
            .send()
            .await
            .unwrap();
        out.push(if r.status() == 429 { '1' } else { '0' });
    }
    out
}

#[tokio::test]
async fn the_same_fault_seed_replays_the_same_faults() {
    let sim = manual_sim().await;
    let set = |body: Value| {
        let url = format!("{}/_sim/faults", sim.base_url);
        async move { client().post(url).json(&body).send().await.unwrap() }
    };
    assert_eq!(set(json!({"fault_429": 0.5, "seed": 42})).await.status(), 200);
    let first = fault_pattern(&sim).await;
    set(json!({"seed": 42})).await;
    let again = fault_pattern(&sim).await;
    assert_eq!(first, again, "same seed, same schedule");
    assert!(first.contains('1') && first.contains('0'), "{first}");
    set(json!({"seed": 43})).await;
    assert_ne!(fault_pattern(&sim).await, first, "another seed, another schedule");
    let v: Value = client()
        .get(format!("{}/_sim/faults", sim.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["seed"], 43);
}
