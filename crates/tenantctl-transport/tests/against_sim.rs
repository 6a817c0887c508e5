//! Transport and auth against the simulator on 127.0.0.1: one token request however many tasks
//! want it, refresh-token rotation, AADSTS errors mapped to what they mean for a run, retries
//! through injected faults, Partner Center continuation paging.

use futures::StreamExt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tenantctl_sim::fleet::Trouble;
use tenantctl_sim::{RunningSim, SimConfig};
use tenantctl_transport::api::{partner_center_pages, Api};
use tenantctl_transport::clock::{FixedJitter, ManualClock};
use tenantctl_transport::cloud::{Endpoints, Resource};
use tenantctl_transport::http::{Executor, RetryPolicy};
use tenantctl_transport::retry::Backoff;
use tenantctl_transport::token::{AadKind, Credential, RefreshTokenStore, Secret, TokenError, TokenProvider};

async fn sim(tenants: u32) -> RunningSim {
    let mut c = SimConfig::new(3, tenants);
    c.fleet.users_per_tenant = Some(3);
    c.throttle.enabled = false;
    c.device_code_interval_secs = 1;
    tenantctl_sim::start(c).await.unwrap()
}

fn policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 10,
        max_retry_after: Duration::from_secs(60),
        backoff: Backoff {
            base: Duration::from_millis(5),
            cap: Duration::from_millis(50),
            floor: Duration::from_millis(1),
        },
        ..RetryPolicy::default()
    }
}

fn fast_executor() -> Executor {
    Executor::new(policy())
}

/// An executor on a manual clock with full (deterministic) backoff jitter.
fn manual_executor(clock: &ManualClock) -> Executor {
    Executor::builder()
        .policy(policy())
        .clock(clock.shared())
        .jitter(Arc::new(FixedJitter(1.0)))
        .build()
        .unwrap()
}

fn manual_clock() -> ManualClock {
    ManualClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_028_800))
}

fn sam_provider(sim: &RunningSim, file: Option<std::path::PathBuf>) -> (Arc<TokenProvider>, Arc<RefreshTokenStore>) {
    sam_provider_on(sim, file, fast_executor())
}

fn sam_provider_on(
    sim: &RunningSim,
    file: Option<std::path::PathBuf>,
    exec: Executor,
) -> (Arc<TokenProvider>, Arc<RefreshTokenStore>) {
    let p = &sim.sim.fleet.partner;
    let store = Arc::new(RefreshTokenStore::new(
        Secret::new(p.initial_refresh_token.clone()),
        file,
    ));
    let cred = Credential::RefreshToken {
        client_id: p.client_id.to_string(),
        secret: Some(Secret::new(p.client_secret.clone())),
        store: store.clone(),
    };
    let endpoints = Endpoints::custom(&sim.base_url).unwrap();
    (Arc::new(TokenProvider::new(endpoints, cred, exec)), store)
}

fn token_posts(sim: &RunningSim, status: u16) -> u64 {
    sim.sim
        .stats
        .rows()
        .iter()
        .filter(|r| r.route == "/login/{tenant}/oauth2/v2.0/token" && r.status == status)
        .map(|r| r.count)
        .sum()
}

#[tokio::test]
async fn five_hundred_concurrent_callers_cause_one_token_request_counted_by_the_simulator() {
    let sim = sim(4).await;
    let (tokens, _) = sam_provider(&sim, None);
    let tenant = sim
        .sim
        .fleet
        .customers()
        .iter()
        .find(|t| t.trouble == Trouble::None)
        .unwrap()
        .id
        .to_string();
    let tasks: Vec<_> = (0..500)
        .map(|_| {
            let tokens = tokens.clone();
            let tenant = tenant.clone();
            tokio::spawn(async move { tokens.token(&tenant, Resource::Graph).await.map(|t| t.token) })
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    for t in tasks {
        seen.insert(t.await.unwrap().expect("token").expose().to_owned());
    }
    assert_eq!(seen.len(), 1, "all callers share one token");
    assert_eq!(tokens.token_requests(), 1);
    assert_eq!(token_posts(&sim, 200), 1, "the simulator saw one token request");

    // Another resource is another token.
    tokens.token(&tenant, Resource::PartnerCenter).await.unwrap();
    assert_eq!(token_posts(&sim, 200), 2);
}

#[tokio::test]
async fn a_definite_failure_is_shared_by_waiting_callers_and_says_what_it_means() {
    let sim = sim(3).await;
    let f = &sim.sim.fleet;
    let (a, b, c) = (&f.customers()[0], &f.customers()[1], &f.customers()[2]);
    sim.sim.trouble_overrides.write().insert(a.idx, Trouble::ConsentMissing);
    sim.sim
        .trouble_overrides
        .write()
        .insert(b.idx, Trouble::RelationshipExpired);
    let _ = c;
    let (tokens, _) = sam_provider(&sim, None);
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let tokens = tokens.clone();
            let tenant = a.id.to_string();
            tokio::spawn(async move { tokens.token(&tenant, Resource::Graph).await.map(|_| ()) })
        })
        .collect();
    for t in tasks {
        let e = t.await.unwrap().unwrap_err();
        assert_eq!(e.kind(), AadKind::ConsentMissing);
    }
    assert_eq!(token_posts(&sim, 400), 1);
    let e = tokens.token(&b.id.to_string(), Resource::Graph).await.unwrap_err();
    assert_eq!(e.kind(), AadKind::NoAccess);
    match &e {
        TokenError::Aad { code, summary, .. } => {
            assert_eq!(*code, Some(50020));
            assert!(!summary.contains("Trace ID"), "{summary}");
        }
        other => panic!("{other:?}"),
    }
    let e = tokens
        .token("nosuch.onmicrosoft.com", Resource::Graph)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), AadKind::TenantNotFound);
}

#[tokio::test]
async fn a_bad_secret_is_fatal_and_never_printed() {
    let sim = sim(1).await;
    let cred = Credential::ClientSecret {
        client_id: sim.sim.fleet.partner.client_id.to_string(),
        secret: Secret::new("wrong-secret-value"),
    };
    let tokens = TokenProvider::new(Endpoints::custom(&sim.base_url).unwrap(), cred, fast_executor());
    let e = tokens
        .token(&sim.sim.fleet.partner_tenant().id.to_string(), Resource::Graph)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), AadKind::BadCredentials);
    assert!(e.kind().is_fatal());
    assert!(!format!("{e} {e:?}").contains("wrong-secret-value"));
}

#[tokio::test]
async fn the_rotated_refresh_token_is_stored_in_a_private_file() {
    let sim = sim(2).await;
    let dir = std::env::temp_dir().join(format!("tenantctl-rt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("refresh-token");
    let (tokens, store) = sam_provider(&sim, Some(file.clone()));
    tokens
        .token(&sim.sim.fleet.partner_tenant().id.to_string(), Resource::Graph)
        .await
        .unwrap();
    let stored = std::fs::read_to_string(&file).unwrap();
    assert_ne!(stored.trim(), sim.sim.fleet.partner.initial_refresh_token);
    assert_eq!(stored.trim(), store.get().expose());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn injected_on_partner_center(sim: &RunningSim, status: u16) -> u64 {
    sim.sim
        .stats
        .rows()
        .iter()
        .filter(|r| r.route.starts_with("/partnercenter") && r.status == status)
        .map(|r| r.count)
        .sum()
}

/// One injected 429 (Retry-After 30 s), then one 503 (Retry-After 1 s), then one reset, each
/// for exactly one request: the faults are switched while the executor sleeps on the manual
/// clock, so every run injects the same three and no real time is waited.
#[tokio::test]
async fn partner_center_pages_survive_an_injected_429_503_and_reset_each_retried_once() {
    use tenantctl_sim::faults::Faults;
    let sim = sim(25).await;
    let clock = manual_clock();
    let exec = manual_executor(&clock);
    let (tokens, _) = sam_provider_on(&sim, None, exec.clone());
    let partner = sim.sim.fleet.partner_tenant().id.to_string();
    // The token first, fault-free: the faults below are Partner Center's.
    tokens.token(&partner, Resource::PartnerCenter).await.unwrap();
    let api = Api::new(exec, tokens);
    let url = api.endpoints().partner_center_v1("customers?size=3");
    let set = |f: Faults| *sim.sim.faults.write() = f;
    set(Faults {
        fault_429: 1.0,
        retry_after_secs: 30,
        ..Default::default()
    });
    let pages = tokio::spawn(partner_center_pages::<serde_json::Value>(api.clone(), partner, url).collect::<Vec<_>>());
    clock.wait_for_sleeps_started(1).await;
    set(Faults {
        fault_503: 1.0,
        ..Default::default()
    });
    clock.advance(Duration::from_secs(30));
    clock.wait_for_sleeps_started(2).await;
    set(Faults {
        fault_reset: 1.0,
        ..Default::default()
    });
    clock.advance(Duration::from_secs(1));
    clock.wait_for_sleeps_started(3).await;
    set(Faults::default());
    clock.advance(Duration::from_millis(20));
    let pages = pages.await.unwrap();

    let mut ids = vec![];
    for p in pages {
        ids.extend(
            p.expect("page")
                .value
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_owned()),
        );
    }
    let expected: Vec<String> = sim
        .sim
        .fleet
        .customers()
        .iter()
        .filter(|t| t.contract.is_some())
        .map(|t| t.id.to_string())
        .collect();
    assert_eq!(ids, expected);
    assert_eq!(injected_on_partner_center(&sim, 429), 1);
    assert_eq!(injected_on_partner_center(&sim, 503), 1);
    // Retry-After 30 s, Retry-After 1 s, then backoff attempt 2 at full jitter: 5 ms · 2².
    assert_eq!(
        clock.sleep_log(),
        vec![
            Duration::from_secs(30),
            Duration::from_secs(1),
            Duration::from_millis(20)
        ]
    );
    let (_, retries, throttled) = api.executor.stats.snapshot();
    assert_eq!((retries, throttled), (3, 1));
}

#[tokio::test]
async fn device_code_login_returns_the_refresh_token_once_the_admin_approves() {
    let sim = sim(1).await;
    let endpoints = Endpoints::custom(&sim.base_url).unwrap();
    let client_id = sim.sim.fleet.partner.client_id.to_string();
    let clock = manual_clock();
    let exec = manual_executor(&clock);
    let (shown_tx, shown_rx) = tokio::sync::oneshot::channel::<(String, String)>();
    let shown_tx = parking_lot::Mutex::new(Some(shown_tx));
    let mut login = tokio::spawn(async move {
        TokenProvider::device_code_login(&endpoints, &exec, &client_id, "organizations", |uri, code| {
            if let Some(tx) = shown_tx.lock().take() {
                let _ = tx.send((uri.to_owned(), code.to_owned()));
            }
        })
        .await
    });
    let (uri, code) = shown_rx.await.unwrap();
    assert!(uri.contains("/_sim/devicelogin"));
    let r = reqwest::Client::new()
        .post(format!("{}/_sim/identity/device/approve", sim.base_url))
        .json(&serde_json::json!({ "user_code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    // Each poll waits the interval on the manual clock: move it on until the login ends.
    let rt = loop {
        tokio::select! {
            r = &mut login => break r.unwrap().expect("signed in"),
            _ = clock.wait_for_sleepers(1) => {
                clock.advance(Duration::from_secs(1));
                tokio::task::yield_now().await;
            }
        }
    };
    assert!(rt.expose().starts_with("1.sim."));
}
