//! The transport against odd and hostile servers (issue 12 items 4 and 5; probe D6, D9, D10,
//! D11): a local server on 127.0.0.1:0 plays the token endpoint and a service, and the
//! executor runs on a manual clock (its waits advance the clock instead of sleeping).

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tenantctl_transport::api::Api;
use tenantctl_transport::clock::ManualClock;
use tenantctl_transport::cloud::{Endpoints, Resource};
use tenantctl_transport::http::{Executor, Request};
use tenantctl_transport::token::{Credential, Secret, TokenProvider};

const TENANT: &str = "contoso.onmicrosoft.com";

/// How the service answers its n-th request (1-based).
type Answer = Box<dyn Fn(usize) -> Response + Send>;

/// What the server saw and how it answers.
#[derive(Default)]
struct Server {
    /// Tokens minted so far (`at-1`, `at-2`...).
    minted: Mutex<u32>,
    /// Token lifetime in seconds.
    lifetime: Mutex<u64>,
    /// The bearer of every service request, in order.
    bearers: Mutex<Vec<String>>,
    /// How `/graph/v1.0/thing` answers: a closure over the request number.
    thing: Mutex<Option<Answer>>,
}

async fn token(State(s): State<Arc<Server>>, Form(_f): Form<HashMap<String, String>>) -> Json<Value> {
    let n = {
        let mut m = s.minted.lock();
        *m += 1;
        *m
    };
    let lifetime = *s.lifetime.lock();
    Json(json!({"token_type": "Bearer", "expires_in": lifetime, "access_token": format!("at-{n}")}))
}

async fn thing(State(s): State<Arc<Server>>, headers: HeaderMap) -> Response {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let n = {
        let mut b = s.bearers.lock();
        b.push(bearer);
        b.len()
    };
    match &*s.thing.lock() {
        Some(f) => f(n),
        None => Json(json!({"value": []})).into_response(),
    }
}

async fn start(s: Arc<Server>) -> String {
    let app = Router::new()
        .route("/login/{tenant}/oauth2/v2.0/token", post(token))
        .route("/graph/v1.0/thing", get(thing))
        .with_state(s);
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    base
}

fn api(base: &str, clock: &ManualClock) -> Api {
    let exec = Executor::builder().clock(clock.shared()).build().unwrap();
    let credential = Credential::ClientSecret {
        client_id: "11111111-2222-3333-4444-555555555555".into(),
        secret: Secret::new("s3cret"),
    };
    let tokens = TokenProvider::new(Endpoints::custom(base).unwrap(), credential, exec.clone());
    Api::new(exec, Arc::new(tokens))
}

fn clock() -> ManualClock {
    ManualClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_028_800))
}

/// Probe D11: a token that expired while the client waited out `Retry-After` was resent and
/// refused with 401 ("Lifetime validation failed, the token is expired"). A retry must ask
/// the token cache again, so the second attempt already carries a fresh token.
#[tokio::test]
async fn a_retry_after_a_long_retry_after_carries_a_fresh_token() {
    let s = Arc::new(Server::default());
    *s.lifetime.lock() = 60;
    *s.thing.lock() = Some(Box::new(|n| {
        if n == 1 {
            // Longer than the token has left to live.
            (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "90")], "{}").into_response()
        } else {
            Json(json!({"value": [1]})).into_response()
        }
    }));
    let base = start(s.clone()).await;
    let c = clock();
    let api = api(&base, &c);
    let url = format!("{base}/graph/v1.0/thing");
    let call = tokio::spawn(async move { api.send(TENANT, Resource::Graph, Request::get(url)).await });
    // The 429's Retry-After: 90 s pass on the manual clock.
    c.wait_for_sleepers(1).await;
    c.advance(Duration::from_secs(90));
    let r = call.await.unwrap().unwrap();
    assert_eq!(r.status.as_u16(), 200);
    assert_eq!(
        *s.bearers.lock(),
        ["Bearer at-1", "Bearer at-2"],
        "the retry after 90 s must not resend the 60-second token"
    );
}
