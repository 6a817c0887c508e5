//! Contract details Microsoft's own SDKs depend on: `@odata.type` in bodies, and a JSON error
//! body (that the service's client can parse) for every error, unknown paths included.

use crate::common::*;
use serde_json::{json, Value};
use tenantctl_sim::RunningSim;

async fn send(
    sim: &RunningSim,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut rb = client().request(method, format!("{}{path}", sim.base_url));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.unwrap();
    let s = r.status().as_u16();
    let text = r.text().await.unwrap();
    if s == 204 {
        assert!(text.is_empty());
        return (s, Value::Null);
    }
    let v = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{s} body is not JSON: {text:?}"));
    (s, v)
}

/// msgraph-sdk serialises `"@odata.type": "#microsoft.graph.user"` into every user body
/// (learn.microsoft.com/graph/sdks/create-requests: update an entity); Graph accepts it.
#[tokio::test]
async fn patch_and_post_accept_the_sdks_odata_type() {
    let sim = start_sim(1, Some(3)).await;
    let t = healthy(&sim, 0);
    let tok = delegated_graph_token(&sim, &t);
    let upn = sim.sim.fleet.user(&t, 1).user_principal_name;
    let patch = json!({"@odata.type": "#microsoft.graph.user", "jobTitle": "Buyer"});
    let (s, v) = send(
        &sim,
        reqwest::Method::PATCH,
        &format!("/graph/v1.0/users/{upn}"),
        Some(&tok),
        Some(patch),
    )
    .await;
    assert_eq!(s, 204, "{v}");
    let (_, _, u) = get_json(&sim, &tok, &format!("/graph/v1.0/users/{upn}?$select=jobTitle"), &[]).await;
    assert_eq!(u["jobTitle"], "Buyer");
    assert!(u.get("@odata.type").is_none(), "not stored as a property");

    let create = json!({
        "@odata.type": "#microsoft.graph.user",
        "accountEnabled": true, "displayName": "Adele Vance", "mailNickname": "AdeleV",
        "userPrincipalName": format!("adele@{}", t.initial_domain),
        "passwordProfile": {"forceChangePasswordNextSignIn": true, "password": "xWwvJ]6NMw+bWH-d"}
    });
    let (s, v) = send(
        &sim,
        reqwest::Method::POST,
        "/graph/v1.0/users",
        Some(&tok),
        Some(create),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["displayName"], "Adele Vance");

    // Another type is not a user.
    let wrong = json!({"@odata.type": "#microsoft.graph.group", "jobTitle": "x"});
    let (s, v) = send(
        &sim,
        reqwest::Method::PATCH,
        &format!("/graph/v1.0/users/{upn}"),
        Some(&tok),
        Some(wrong),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(v["error"]["code"], "Request_BadRequest");
}

/// An unknown path under /graph: 400 `BadRequest` "Resource not found for the segment '…'."
/// (the text Graph sends, e.g. microsoft-graph-docs#21648), with the usual innerError.
#[tokio::test]
async fn an_unknown_graph_path_answers_graphs_json_error() {
    let sim = start_sim(1, Some(2)).await;
    let t = healthy(&sim, 0);
    let tok = delegated_graph_token(&sim, &t);
    let (s, h, body) = get(&sim, &tok, "/graph/v1.0/me/drive", &[("client-request-id", "abc-1")]).await;
    assert_eq!(s, 400);
    let v: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(v["error"]["code"], "BadRequest");
    assert_eq!(v["error"]["message"], "Resource not found for the segment 'me'.");
    assert_eq!(v["error"]["innerError"]["client-request-id"], "abc-1");
    assert_eq!(h["client-request-id"], "abc-1");
    let (s, v) = send(
        &sim,
        reqwest::Method::GET,
        "/graph/v1.0/users/x/manager",
        Some(&tok),
        None,
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(v["error"]["message"], "Resource not found for the segment 'manager'.");
    // A known path with a method Graph does not serve there.
    let (s, v) = send(&sim, reqwest::Method::PUT, "/graph/v1.0/organization", Some(&tok), None).await;
    assert_eq!(s, 405);
    assert!(v["error"]["code"].is_string() && v["error"]["innerError"]["request-id"].is_string());
}

#[tokio::test]
async fn every_service_answers_errors_in_its_own_json() {
    let sim = start_sim(1, Some(2)).await;
    // Partner Center: {"code","description","data","source"}.
    let (s, v) = send(&sim, reqwest::Method::GET, "/partnercenter/v1/nothing", None, None).await;
    assert_eq!(s, 404);
    assert!(v["code"].is_number() && v["description"].is_string(), "{v}");
    let (s, v) = send(&sim, reqwest::Method::DELETE, "/partnercenter/v1/customers", None, None).await;
    assert_eq!(s, 405);
    assert!(v["description"].is_string(), "{v}");
    // Identity: error, error_description with the AADSTS code, error_codes.
    let (s, v) = send(
        &sim,
        reqwest::Method::GET,
        "/login/common/oauth2/v2.0/nothing",
        None,
        None,
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(v["error"], "invalid_request");
    assert!(v["error_description"].as_str().unwrap().starts_with("AADSTS"), "{v}");
    assert!(v["error_codes"].is_array());
    // Control API: {"error": "..."} for unknown paths and for bodies it cannot read.
    let (s, v) = send(&sim, reqwest::Method::GET, "/_sim/nothing", None, None).await;
    assert_eq!(s, 404);
    assert!(v["error"].is_string());
    let r = client()
        .post(format!("{}/_sim/faults", sim.base_url))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.expect("JSON");
    assert!(v["error"].is_string());
    let (s, v) = send(
        &sim,
        reqwest::Method::POST,
        "/_sim/clock",
        None,
        Some(json!({"sideways": 1})),
    )
    .await;
    assert_eq!(s, 400);
    assert!(v["error"].as_str().unwrap().contains("advanceSeconds"));
}
