//! A simulator that remembers: with a state directory, every change written through HTTP
//! (users, licences, domains, published DNS) survives a restart; a state file of another fleet
//! or a corrupt one is refused with a message saying so.

use crate::common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use tenantctl_sim::{RunningSim, SimConfig};

fn state_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "tenantctl-sim-state-{name}-{}-{}",
        std::process::id(),
        tenantctl_sim::ids::random_guid()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn config(dir: &Path, seed: u64, tenants: u32) -> SimConfig {
    let mut c = SimConfig::new(seed, tenants);
    c.fleet.users_per_tenant = Some(4);
    c.fleet.anchor = ANCHOR;
    c.throttle.enabled = false;
    c.state_dir = Some(dir.to_owned());
    c
}

async fn graph(
    sim: &RunningSim,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut rb = client()
        .request(method, format!("{}/graph/v1.0/{path}", sim.base_url))
        .bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.unwrap();
    let s = r.status().as_u16();
    (s, serde_json::from_str(&r.text().await.unwrap()).unwrap_or(Value::Null))
}

#[tokio::test]
async fn changes_survive_a_restart_with_the_same_state_directory() {
    let dir = state_dir("restart");
    let sim = start_with(config(&dir, 7, 2)).await;
    let t = healthy(&sim, 0);
    let tok = delegated_graph_token(&sim, &t);
    let upn = format!("kept@{}", t.initial_domain);
    let user = json!({
        "accountEnabled": true, "displayName": "Kept", "mailNickname": "kept",
        "userPrincipalName": upn, "usageLocation": "US",
        "passwordProfile": {"password": "xWwvJ]6NMw+bWH-d"}
    });
    assert_eq!(
        graph(&sim, &tok, reqwest::Method::POST, "users", Some(user)).await.0,
        201
    );
    let renamed = sim.sim.fleet.user(&t, 0).user_principal_name;
    let patch = json!({"jobTitle": "Remembered"});
    assert_eq!(
        graph(
            &sim,
            &tok,
            reqwest::Method::PATCH,
            &format!("users/{renamed}"),
            Some(patch)
        )
        .await
        .0,
        204
    );
    let (s, _) = graph(
        &sim,
        &tok,
        reqwest::Method::POST,
        "domains",
        Some(json!({"id": "remembered.example"})),
    )
    .await;
    assert_eq!(s, 201);
    // The registrar's record, published in-process as the CLI's sandbox does.
    let txt = sim
        .sim
        .verification_txt(&t.id.to_string(), "remembered.example")
        .unwrap();
    sim.publish_dns("remembered.example", &txt).unwrap();
    assert!(dir.join(tenantctl_sim::STATE_FILE).exists());
    sim.stop().await;

    let sim = start_with(config(&dir, 7, 2)).await;
    let t = healthy(&sim, 0);
    let tok = delegated_graph_token(&sim, &t);
    let (s, u) = graph(&sim, &tok, reqwest::Method::GET, &format!("users/{upn}"), None).await;
    assert_eq!(s, 200, "the created user is still there");
    assert_eq!(u["displayName"], "Kept");
    let (_, u) = graph(
        &sim,
        &tok,
        reqwest::Method::GET,
        &format!("users/{renamed}?$select=jobTitle"),
        None,
    )
    .await;
    assert_eq!(u["jobTitle"], "Remembered");
    // Added before the restart, verified after it with the DNS record published before it.
    let (s, d) = graph(
        &sim,
        &tok,
        reqwest::Method::POST,
        "domains/remembered.example/verify",
        None,
    )
    .await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["isVerified"], true);
    sim.stop().await;

    // Reset forgets everything.
    tenantctl_sim::reset_state(&dir).unwrap();
    tenantctl_sim::reset_state(&dir).unwrap(); // nothing left: not an error
    let sim = start_with(config(&dir, 7, 2)).await;
    let t = healthy(&sim, 0);
    let tok = delegated_graph_token(&sim, &t);
    assert_eq!(
        graph(&sim, &tok, reqwest::Method::GET, &format!("users/{upn}"), None)
            .await
            .0,
        404
    );
    sim.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_state_file_of_another_fleet_is_refused() {
    let dir = state_dir("alien");
    let sim = start_with(config(&dir, 7, 2)).await;
    sim.publish_dns("x.example", "MS=ms1").unwrap();
    sim.stop().await;
    let err = match tenantctl_sim::start(config(&dir, 8, 2)).await {
        Ok(_) => panic!("a state of seed 7 loaded into seed 8"),
        Err(e) => e,
    };
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    let msg = err.to_string();
    assert!(
        msg.contains("another fleet") && msg.contains("seed 7") && msg.contains("seed 8"),
        "{msg}"
    );
    assert!(tenantctl_sim::start(config(&dir, 7, 3)).await.is_err(), "another size");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_corrupt_state_file_is_refused_and_saving_leaves_no_temporary_files() {
    let dir = state_dir("corrupt");
    std::fs::write(dir.join(tenantctl_sim::STATE_FILE), b"{\"format\": \"tenantctl-sim-st").unwrap();
    let err = match tenantctl_sim::start(config(&dir, 7, 2)).await {
        Ok(_) => panic!("a torn state file loaded"),
        Err(e) => e,
    };
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert!(err.to_string().contains("is not valid"), "{err}");

    tenantctl_sim::reset_state(&dir).unwrap();
    let sim = start_with(config(&dir, 7, 2)).await;
    for i in 0..5 {
        sim.publish_dns(&format!("d{i}.example"), "MS=ms1").unwrap();
    }
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec![tenantctl_sim::STATE_FILE.to_owned()], "only the state file");
    let saved: Value = serde_json::from_slice(&std::fs::read(dir.join(tenantctl_sim::STATE_FILE)).unwrap()).unwrap();
    assert_eq!(saved["dns"].as_object().unwrap().len(), 5);
    sim.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
