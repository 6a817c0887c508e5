//! Latency, injected faults and request statistics: one middleware in front of every service.
//! The control API under `/_sim/` is exempt from all of it.
//!
//! Every random decision (jitter, whether to inject) is a roll of [`Dice`]: a counter hashed
//! with a seed (`SimConfig::fault_seed`, `POST /_sim/faults {"seed": N}`), so a run that failed
//! under faults can be replayed. Latency waits on the simulator's clock.

use crate::ids::{hash, unit};
use crate::platform::errors::{aad_error, graph_error, partner_center_error, RequestIds};
use crate::state::Sim;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Fault settings, by flag (`--latency 80ms ...`) or `POST /_sim/faults`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Faults {
    /// Added to every service request.
    pub latency_ms: u64,
    /// Uniform extra delay in `0..=jitter_ms`.
    pub jitter_ms: u64,
    /// Delay of the token and device-code endpoints (instead of `latency_ms`).
    pub token_latency_ms: u64,
    /// Probability of a 429 with `Retry-After` before the request is served.
    pub fault_429: f64,
    /// Probability of a 503 (with `Retry-After: 1`).
    pub fault_503: f64,
    /// Probability that the connection is cut before a complete response.
    pub fault_reset: f64,
    /// `Retry-After` seconds on injected 429s.
    pub retry_after_secs: u64,
    /// The next N Graph writes (POST/PATCH/DELETE) are applied, then their connection is cut
    /// before the response: the client cannot know whether the write happened.
    pub drop_write_responses: u32,
}

/// Request counts by (method, route template, status).
#[derive(Default)]
pub struct Stats {
    counts: Mutex<BTreeMap<(String, String, u16), u64>>,
    total: AtomicU64,
}

#[derive(Serialize)]
pub struct StatRow {
    pub method: String,
    pub route: String,
    pub status: u16,
    pub count: u64,
}

impl Stats {
    pub fn record(&self, method: &str, route: &str, status: u16) {
        self.total.fetch_add(1, Ordering::Relaxed);
        *self
            .counts
            .lock()
            .entry((method.to_owned(), route.to_owned(), status))
            .or_insert(0) += 1;
    }
    pub fn rows(&self) -> Vec<StatRow> {
        self.counts
            .lock()
            .iter()
            .map(|((m, r, s), c)| StatRow {
                method: m.clone(),
                route: r.clone(),
                status: *s,
                count: *c,
            })
            .collect()
    }
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }
    pub fn reset(&self) {
        self.counts.lock().clear();
        self.total.store(0, Ordering::Relaxed);
    }
}

/// The fault schedule: roll `n` is `unit(hash(seed, n))`.
pub struct Dice {
    seed: AtomicU64,
    n: AtomicU64,
}

impl Dice {
    pub fn new(seed: u64) -> Dice {
        Dice {
            seed: AtomicU64::new(seed),
            n: AtomicU64::new(0),
        }
    }

    /// Starts the schedule again from `seed`.
    pub fn reseed(&self, seed: u64) {
        self.seed.store(seed, Ordering::SeqCst);
        self.n.store(0, Ordering::SeqCst);
    }

    pub fn seed(&self) -> u64 {
        self.seed.load(Ordering::SeqCst)
    }

    /// The next roll in `[0, 1)`.
    pub fn roll(&self) -> f64 {
        let n = self.n.fetch_add(1, Ordering::SeqCst);
        unit(hash(&[self.seed.load(Ordering::SeqCst), n, 0xFA17]))
    }
}

enum Service {
    Identity,
    Graph,
    PartnerCenter,
    Exchange,
    Other,
}

fn service_of(path: &str) -> Service {
    if path.starts_with("/login") || crate::identity::is_identity_path(path) {
        Service::Identity
    } else if path.starts_with("/graph") {
        Service::Graph
    } else if path.starts_with("/partnercenter") {
        Service::PartnerCenter
    } else if path.starts_with("/outlook") {
        Service::Exchange
    } else {
        Service::Other
    }
}

pub async fn middleware(State(sim): State<Arc<Sim>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if path.starts_with("/_sim") {
        return next.run(req).await;
    }
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "(unmatched)".into());
    let faults = sim.faults.read().clone();
    let service = service_of(&path);
    let base = match service {
        Service::Identity => faults.token_latency_ms,
        _ => faults.latency_ms,
    };
    let jitter = if faults.jitter_ms > 0 {
        (sim.dice.roll() * (faults.jitter_ms + 1) as f64) as u64
    } else {
        0
    };
    if base + jitter > 0 {
        sim.clock.sleep(Duration::from_millis(base + jitter)).await;
    }
    let is_write = matches!(method.as_str(), "POST" | "PATCH" | "DELETE" | "PUT");
    let drop_after = matches!(service, Service::Graph) && is_write && faults.drop_write_responses > 0 && {
        let mut f = sim.faults.write();
        if f.drop_write_responses > 0 {
            f.drop_write_responses -= 1;
            true
        } else {
            false
        }
    };
    let resp = if drop_after {
        let applied = next.run(req).await;
        tracing::debug!(
            status = applied.status().as_u16(),
            "write applied; dropping its response"
        );
        reset_response()
    } else if faults.fault_reset > 0.0 && sim.dice.roll() < faults.fault_reset {
        reset_response()
    } else if faults.fault_429 > 0.0 && sim.dice.roll() < faults.fault_429 {
        injected(
            &service,
            StatusCode::TOO_MANY_REQUESTS,
            faults.retry_after_secs.max(1),
            req.headers(),
        )
    } else if faults.fault_503 > 0.0 && sim.dice.roll() < faults.fault_503 {
        injected(&service, StatusCode::SERVICE_UNAVAILABLE, 1, req.headers())
    } else {
        next.run(req).await
    };
    sim.stats.record(&method, &route, resp.status().as_u16());
    resp
}

/// A response whose body fails mid-stream: hyper aborts the connection, so the client sees a
/// reset / incomplete message rather than an HTTP status.
fn reset_response() -> Response {
    let stream = futures::stream::once(async {
        Err::<bytes::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected reset",
        ))
    });
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut()
        .insert(http::header::CONTENT_LENGTH, HeaderValue::from_static("1024"));
    r.headers_mut()
        .insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

fn injected(service: &Service, status: StatusCode, retry_after: u64, headers: &http::HeaderMap) -> Response {
    let mut r = match service {
        Service::Identity => aad_error(
            status,
            "temporarily_unavailable",
            90055,
            "The service is temporarily unavailable. Please retry.",
        ),
        Service::PartnerCenter => {
            partner_center_error(status, 15000, "The service is temporarily unavailable, please retry.")
        }
        // Exchange: its plain-text throttling answer (no Retry-After), or its error body.
        Service::Exchange => return crate::services::exchange::throttle::injected(status),
        _ => {
            let ids = RequestIds::from_headers(headers);
            if status == StatusCode::TOO_MANY_REQUESTS {
                // The sample throttled response of learn.microsoft.com/graph/throttling.
                graph_error(status, "TooManyRequests", "Please retry again later.", &ids)
            } else {
                graph_error(
                    status,
                    "serviceNotAvailable",
                    "The service is temporarily unavailable. Please retry later.",
                    &ids,
                )
            }
        }
    };
    r.headers_mut()
        .insert(http::header::RETRY_AFTER, HeaderValue::from(retry_after));
    r
}

#[cfg(test)]
mod tests {
    use super::Dice;

    #[test]
    fn the_same_seed_rolls_the_same_schedule() {
        let a = Dice::new(7);
        let b = Dice::new(7);
        let xs: Vec<f64> = (0..100).map(|_| a.roll()).collect();
        let ys: Vec<f64> = (0..100).map(|_| b.roll()).collect();
        assert_eq!(xs, ys);
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        let c = Dice::new(8);
        assert_ne!(xs[..10], (0..10).map(|_| c.roll()).collect::<Vec<_>>()[..]);
        a.reseed(7);
        assert_eq!(a.roll(), xs[0]);
    }
}
