//! Graph JSON batching over HTTP, per learn.microsoft.com/graph/json-batching ("Combine multiple
//! HTTP requests using JSON batching") and learn.microsoft.com/graph/throttling (a throttled
//! request inside a batch answers 429 with its own `Retry-After`; the batch itself is 200).

#[allow(unused_imports)]
use crate::common::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use tenantctl_sim::RunningSim;

async fn batch(sim: &RunningSim, token: &str, body: &Value) -> (u16, Value) {
    let r = client()
        .post(format!("{}/graph/v1.0/$batch", sim.base_url))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap())
}

/// Responses by id (Graph answers in any order).
fn by_id(b: &Value) -> HashMap<String, Value> {
    b["responses"]
        .as_array()
        .expect("responses")
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_owned(), r.clone()))
        .collect()
}

fn graph_bad_request(b: &Value) {
    assert_eq!(b["error"]["code"], "BadRequest", "{b}");
    assert!(b["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(b["error"]["innerError"]["request-id"].is_string());
}

/// 20 mixed steps (reads with and without `$select`/`$count`+`ConsistencyLevel`, a create with a
/// body, an update, a 404): every id answered once with its own status, headers and JSON body.
#[tokio::test]
async fn json_batching_twenty_mixed_steps_answer_each_with_status_headers_and_json_body() {
    let sim = start_sim(2, Some(6)).await;
    let t = healthy(&sim, 0);
    let token = delegated_graph_token(&sim, &t);
    let (_, _, users) = get_json(&sim, &token, "/graph/v1.0/users?$select=id", &[]).await;
    let uid = users["value"][0]["id"].as_str().unwrap().to_owned();
    let mut requests = vec![
        json!({"id": "1", "method": "GET", "url": "/users?$top=2"}),
        json!({"id": "2", "method": "GET", "url": "users?$select=id,displayName"}),
        json!({"id": "3", "method": "GET", "url": "/domains"}),
        json!({"id": "4", "method": "GET", "url": "/organization"}),
        json!({"id": "5", "method": "GET", "url": "/subscribedSkus"}),
        json!({"id": "6", "method": "GET", "url": format!("/users/{uid}")}),
        json!({"id": "7", "method": "GET", "url": "/users?$search=\"displayName:a\"&$count=true",
               "headers": {"ConsistencyLevel": "eventual"}}),
        // Without ConsistencyLevel the same advanced query fails, per step.
        json!({"id": "8", "method": "GET", "url": "/users?$search=\"displayName:a\"&$count=true"}),
        json!({"id": "9", "method": "GET", "url": "/users/00000000-0000-0000-0000-000000000000"}),
        json!({"id": "10", "method": "POST", "url": "/users",
               "headers": {"Content-Type": "application/json"},
               "body": {"accountEnabled": true, "displayName": "Batch Person", "mailNickname": "batchp",
                        "userPrincipalName": format!("batchp@{}", t.initial_domain),
                        "passwordProfile": {"password": "xWwvJ]6NMw+bWH-d"}}}),
        json!({"id": "11", "method": "PATCH", "url": format!("/users/{uid}"),
               "headers": {"Content-Type": "application/json"}, "body": {"jobTitle": "Batched"}}),
    ];
    for i in 12..=20 {
        requests.push(json!({"id": i.to_string(), "method": "GET", "url": format!("/users?$top={i}&$select=id")}));
    }
    assert_eq!(requests.len(), 20);
    let (s, b) = batch(&sim, &token, &json!({ "requests": requests })).await;
    assert_eq!(s, 200, "{b}");
    let r = by_id(&b);
    assert_eq!(r.len(), 20);
    for id in ["1", "2", "3", "4", "5", "6", "7", "12", "20"] {
        assert_eq!(r[id]["status"], 200, "step {id}: {}", r[id]);
        assert!(
            r[id]["headers"]["Content-Type"]
                .as_str()
                .is_some_and(|c| c.contains("application/json")),
            "{}",
            r[id]
        );
    }
    // JSON bodies are inlined as JSON, not strings.
    assert_eq!(r["1"]["body"]["value"].as_array().unwrap().len(), 2);
    assert!(r["1"]["body"]["@odata.nextLink"].is_string());
    assert_eq!(r["6"]["body"]["id"], uid);
    assert!(r["7"]["body"]["@odata.count"].is_number());
    assert_eq!(r["8"]["status"], 400, "{}", r["8"]);
    assert_eq!(r["9"]["status"], 404);
    assert_eq!(r["9"]["body"]["error"]["code"], "Request_ResourceNotFound");
    assert_eq!(r["10"]["status"], 201, "{}", r["10"]);
    assert_eq!(r["10"]["body"]["displayName"], "Batch Person");
    assert_eq!(r["11"]["status"], 204, "{}", r["11"]);
    assert!(r["11"].get("body").is_none());
    // The writes happened.
    let (_, _, u) = get_json(&sim, &token, &format!("/graph/v1.0/users/{uid}?$select=jobTitle"), &[]).await;
    assert_eq!(u["jobTitle"], "Batched");
}

/// json-batching: "If an individual request fails, any request that depends on that request
/// fails with status code 424 (Failed Dependency)"; `depends_on` (msgraph-core's spelling) too.
#[tokio::test]
async fn json_batching_depends_on_chain_with_a_failing_step_gives_424() {
    let sim = start_sim(1, Some(4)).await;
    let t = healthy(&sim, 0);
    let token = delegated_graph_token(&sim, &t);
    let body = json!({"requests": [
        {"id": "1", "method": "GET", "url": "/domains"},
        {"id": "2", "method": "GET", "url": "/users/not-a-user@nowhere.example", "dependsOn": ["1"]},
        {"id": "3", "method": "GET", "url": "/organization", "dependsOn": ["2"]},
        {"id": "4", "method": "GET", "url": "/organization", "depends_on": ["3"]},
        {"id": "5", "method": "GET", "url": "/users?$top=1", "dependsOn": ["1"]},
    ]});
    let (s, b) = batch(&sim, &token, &body).await;
    assert_eq!(s, 200, "{b}");
    let r = by_id(&b);
    assert_eq!(r["1"]["status"], 200);
    assert_eq!(r["2"]["status"], 404);
    assert_eq!(r["3"]["status"], 424, "{}", r["3"]);
    assert_eq!(r["4"]["status"], 424, "a failed dependency propagates down the chain");
    assert_eq!(r["5"]["status"], 200, "a step whose dependency succeeded runs");
    assert!(r["3"]["body"]["error"]["code"].is_string());
}

/// Microsoft's SDKs send absolute URLs (`https://graph.microsoft.com/v1.0/...`).
#[tokio::test]
async fn json_batching_accepts_absolute_urls_as_the_sdks_send_them() {
    let sim = start_sim(1, Some(4)).await;
    let t = healthy(&sim, 0);
    let token = delegated_graph_token(&sim, &t);
    let body = json!({"requests": [
        {"id": "a", "method": "GET", "url": "https://graph.microsoft.com/v1.0/users?$select=id,userPrincipalName"},
        {"id": "b", "method": "GET", "url": format!("{}/graph/v1.0/domains", sim.base_url)},
        {"id": "c", "method": "get", "url": "https://graph.microsoft.com/v1.0/organization"},
    ]});
    let (s, b) = batch(&sim, &token, &body).await;
    assert_eq!(s, 200, "{b}");
    let r = by_id(&b);
    for id in ["a", "b", "c"] {
        assert_eq!(r[id]["status"], 200, "{}", r[id]);
    }
    assert_eq!(r["a"]["body"]["value"].as_array().unwrap().len(), 4);
}

/// json-batching: up to 20 requests; ids unique (case-insensitive) "or the batch request fails
/// with a 400 error code"; `id`, `method`, `url` required; a body needs a Content-Type header.
#[tokio::test]
async fn json_batching_malformed_batches_are_graph_400s() {
    let sim = start_sim(1, Some(2)).await;
    let t = healthy(&sim, 0);
    let token = delegated_graph_token(&sim, &t);
    let over: Vec<Value> = (1..=21)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/domains"}))
        .collect();
    let (s, b) = batch(&sim, &token, &json!({ "requests": over })).await;
    assert_eq!(s, 400, "21 steps: {b}");
    graph_bad_request(&b);

    let dup = json!({"requests": [
        {"id": "x", "method": "GET", "url": "/domains"},
        {"id": "X", "method": "GET", "url": "/organization"},
    ]});
    let (s, b) = batch(&sim, &token, &dup).await;
    assert_eq!(s, 400, "duplicate ids: {b}");
    graph_bad_request(&b);

    for (what, step) in [
        ("no id", json!({"method": "GET", "url": "/domains"})),
        ("no method", json!({"id": "1", "url": "/domains"})),
        ("no url", json!({"id": "1", "method": "GET"})),
        (
            "body without Content-Type",
            json!({"id": "1", "method": "PATCH", "url": "/users/x", "body": {"a": 1}}),
        ),
        (
            "unknown dependency",
            json!({"id": "1", "method": "GET", "url": "/domains", "dependsOn": ["9"]}),
        ),
    ] {
        let (s, b) = batch(&sim, &token, &json!({ "requests": [step] })).await;
        assert_eq!(s, 400, "{what}: {b}");
        graph_bad_request(&b);
    }
    let (s, b) = batch(&sim, &token, &json!({"nope": []})).await;
    assert_eq!(s, 400);
    graph_bad_request(&b);
    // Exactly 20 is fine.
    let twenty: Vec<Value> = (1..=20)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/domains"}))
        .collect();
    let (s, b) = batch(&sim, &token, &json!({ "requests": twenty })).await;
    assert_eq!(s, 200, "{b}");
}

/// Steps carry the batch's token: without one, each step is Graph's 401, inside a 200 batch.
#[tokio::test]
async fn json_batching_steps_are_authorised_with_the_batch_token() {
    let sim = start_sim(1, Some(2)).await;
    let r = client()
        .post(format!("{}/graph/v1.0/$batch", sim.base_url))
        .json(&json!({"requests": [{"id": "1", "method": "GET", "url": "/domains"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let b: Value = r.json().await.unwrap();
    assert_eq!(by_id(&b)["1"]["status"], 401);
}

/// learn.microsoft.com/graph/throttling: each request in a batch is evaluated against the limits
/// on its own; a throttled one answers 429 with `Retry-After` inside the (200) batch.
#[tokio::test]
async fn json_batching_a_throttled_step_answers_429_with_retry_after_inside_the_batch() {
    let mut c = tenantctl_sim::SimConfig::new(1, 1);
    c.fleet.users_per_tenant = Some(4);
    c.fleet.anchor = ANCHOR;
    // Graph's limits scaled down: 3,500 RU × 0.002 = 7 RU per 10 s for this small tenant.
    c.throttle.enabled = true;
    c.throttle.scale = 0.002;
    let sim = start_with(c).await;
    let t = healthy(&sim, 0);
    let token = delegated_graph_token(&sim, &t);
    let steps: Vec<Value> = (1..=12)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/domains"}))
        .collect();
    let (s, b) = batch(&sim, &token, &json!({ "requests": steps })).await;
    assert_eq!(s, 200, "{b}");
    let r = by_id(&b);
    let ok = r.values().filter(|v| v["status"] == 200).count();
    let throttled: Vec<&Value> = r.values().filter(|v| v["status"] == 429).collect();
    assert!(ok >= 1, "{b}");
    assert!(!throttled.is_empty(), "some steps exceed the bucket: {b}");
    assert_eq!(ok + throttled.len(), 12);
    for th in throttled {
        let ra = th["headers"]["Retry-After"]
            .as_str()
            .expect("Retry-After on a throttled step");
        assert!(ra.parse::<u64>().unwrap() >= 1);
        assert_eq!(th["body"]["error"]["code"], "TooManyRequests");
    }
}
