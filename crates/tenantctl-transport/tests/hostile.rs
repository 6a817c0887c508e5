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

/// A raw server on 127.0.0.1:0 that answers every connection with `answer` (or never, when
/// `None`), after reading the request.
async fn raw_server(answer: Option<&'static str>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else { return };
            tokio::spawn(async move {
                let mut buf = [0u8; 8192];
                let _ = s.read(&mut buf).await;
                match answer {
                    Some(a) => {
                        let _ = s.write_all(a.as_bytes()).await;
                        let _ = s.shutdown().await;
                    }
                    // Accept, read, and never answer.
                    None => std::future::pending::<()>().await,
                }
            });
        }
    });
    base
}

/// Probe D9: a `@odata.nextLink` pointing at another host received the bearer token. The
/// token only goes to the service's own origin: the link is refused, the other host sees
/// nothing.
#[tokio::test]
async fn a_next_link_to_another_host_never_gets_the_token() {
    let foreign = Arc::new(Server::default());
    let foreign_base = start(foreign.clone()).await;
    let s = Arc::new(Server::default());
    *s.lifetime.lock() = 3600;
    let next = format!("{foreign_base}/graph/v1.0/thing?$skiptoken=x");
    *s.thing.lock() = Some(Box::new(move |_| {
        Json(json!({"value": [1], "@odata.nextLink": next})).into_response()
    }));
    let base = start(s.clone()).await;
    let c = clock();
    let api = api(&base, &c);
    use futures::TryStreamExt;
    let pages: Result<Vec<_>, _> = tenantctl_transport::api::graph_pages::<Value>(
        api,
        TENANT.into(),
        Request::get(format!("{base}/graph/v1.0/thing")),
    )
    .try_collect()
    .await;
    let e = pages.unwrap_err();
    assert!(e.to_string().contains("refusing to send the Graph token"), "{e}");
    assert!(foreign.bearers.lock().is_empty(), "the other host saw no request");
    assert_eq!(s.bearers.lock().len(), 1);
}

/// Probe D10: a next link to the page just read looped 2,332 times in a minute.
#[tokio::test]
async fn a_next_link_to_a_page_already_read_ends_the_paging_with_an_error() {
    let s = Arc::new(Server::default());
    *s.lifetime.lock() = 3600;
    let base = start(s.clone()).await;
    let me = format!("{base}/graph/v1.0/thing");
    *s.thing.lock() = Some(Box::new(move |_| {
        Json(json!({"value": [1], "@odata.nextLink": me})).into_response()
    }));
    let c = clock();
    use futures::TryStreamExt;
    let pages: Result<Vec<_>, _> = tenantctl_transport::api::graph_pages::<Value>(
        api(&base, &c),
        TENANT.into(),
        Request::get(format!("{base}/graph/v1.0/thing")),
    )
    .try_collect()
    .await;
    let e = pages.unwrap_err();
    assert!(e.to_string().contains("repeats a page already read"), "{e}");
    assert_eq!(s.bearers.lock().len(), 1, "the loop is caught at once");
}

/// Probe D6: a server that accepts and never answers held a run for over 300 s. Each attempt
/// times out and the retries stop within the request's total budget, with a message that
/// says what to check.
#[tokio::test]
async fn a_server_that_never_answers_gives_up_in_bounded_time() {
    let base = raw_server(None).await;
    let exec = Executor::builder()
        .timeout(Duration::from_millis(300))
        .policy(tenantctl_transport::http::RetryPolicy {
            max_total: Duration::from_secs(2),
            ..Default::default()
        })
        .build()
        .unwrap();
    #[allow(clippy::disallowed_methods)] // measuring a real socket's timeout
    let t0 = std::time::Instant::now();
    let e = exec.send(&Request::get(format!("{base}/x"))).await.unwrap_err();
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(6), "gave up after {took:?}");
    assert!(e.is_timeout(), "{e}");
    assert!(e.to_string().contains("no answer within"), "{e}");
}

/// Probe D19: a closed port was retried for 54 s. Nothing listens: said at once.
#[tokio::test]
async fn a_refused_connection_is_reported_at_once() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/x", l.local_addr().unwrap());
    drop(l);
    let c = clock();
    let exec = Executor::builder().clock(c.shared()).build().unwrap();
    let e = exec.send(&Request::get(url)).await.unwrap_err();
    assert!(e.is_connect(), "{e}");
    assert!(c.sleep_log().is_empty(), "no retry was waited for: {:?}", c.sleep_log());
    assert!(e.to_string().contains("check that the host is reachable"), "{e}");
}

/// HTML, truncated JSON and a 200 carrying an error body each give one clear line.
#[tokio::test]
async fn broken_answers_give_one_clear_line_each() {
    let cases: [(&'static str, &str); 3] = [
        (
            "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 47\r\n\r\n<html>\n<body>\n<h1>Sign in</h1>\n</body>\n</html>\n",
            "text/html",
        ),
        (
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 14\r\n\r\n{\"value\":[{\"id",
            "EOF while parsing",
        ),
        (
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 79\r\n\r\n{\"error\":{\"code\":\"UnknownError\",\"message\":\"The service is busy.\",\"details\":[]}}",
            "Graph HTTP 200 UnknownError: The service is busy.",
        ),
    ];
    for (answer, want) in cases {
        let graph = raw_server(Some(answer)).await;
        // Tokens from a token endpoint of our own; the service is the raw server.
        let s = Arc::new(Server::default());
        *s.lifetime.lock() = 3600;
        let login = start(s).await;
        let exec = Executor::builder().build().unwrap();
        let credential = Credential::ClientSecret {
            client_id: "11111111-2222-3333-4444-555555555555".into(),
            secret: Secret::new("s3cret"),
        };
        let mut e = Endpoints::custom(&graph).unwrap();
        e.authority = format!("{login}/login");
        let api = Api::new(exec.clone(), Arc::new(TokenProvider::new(e, credential, exec)));
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Page {
            value: Vec<Value>,
        }
        let r = api
            .get::<Page>(
                TENANT,
                Resource::Graph,
                Request::get(format!("{graph}/graph/v1.0/x")),
                "collection page",
            )
            .await;
        let msg = r.unwrap_err().to_string();
        assert!(msg.contains(want), "{msg}");
        assert!(!msg.contains('\n'), "one line: {msg:?}");
    }
}
