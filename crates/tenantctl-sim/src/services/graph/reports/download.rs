//! The pre-authenticated download host. Graph's report call answers `302 Found` with a
//! `Location` on reports.office.com; the simulator keeps one origin and gives that host the
//! prefix `/reports-download`: `{origin}/reports-download/data/download/{opaque}`.
//!
//! "Preauthenticated download URLs are only valid for a short period of time (a few minutes)
//! and do not require an Authorization header" (every learn.microsoft.com/graph/api/reportroot-*
//! page). Here a link lives [`LINK_TTL_SECS`] (5 minutes [I]) on the simulator clock; its id
//! is 24 random bytes (base64url), mapped to what it renders, so it cannot be guessed or moved
//! to another tenant. A link can be fetched again while valid [I]; an expired or unknown one
//! answers `404` with a plain-text body [I]. A download that carries an `Authorization` header
//! is refused with `400` and a plain explanation [I, the simulator's own rule: a client must
//! never send its bearer token to the download host] and counted (`GET /_sim/reports`).
//!
//! The body streams: the BOM and header first, then the rows in chunks of user slots.

use super::render::Job;
use crate::state::Sim;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// How long a download URL is valid.
pub const LINK_TTL_SECS: f64 = 300.0;
/// At most this many live links are kept (the oldest go first).
const MAX_LINKS: usize = 100_000;
/// The download host's path prefix.
pub const PREFIX: &str = "/reports-download/data/download";

struct Link {
    job: Job,
    expires: f64,
}

#[derive(Default)]
struct Inner {
    map: HashMap<String, Link>,
    /// Issue order, for expiry.
    order: VecDeque<(f64, String)>,
}

/// Issued download links.
#[derive(Default)]
pub struct Links(Mutex<Inner>);

fn random_id() -> String {
    use base64::Engine;
    use ring::rand::SecureRandom;
    let mut b = [0u8; 24];
    if ring::rand::SystemRandom::new().fill(&mut b).is_err() {
        // No system entropy: fall back to the non-cryptographic id generator.
        let g = crate::ids::random_guid();
        b[..16].copy_from_slice(&g.0);
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

impl Links {
    /// A new link for `job`, valid until `now + LINK_TTL_SECS`.
    pub fn issue(&self, job: Job, now: f64) -> String {
        let id = random_id();
        let mut g = self.0.lock();
        let expires = now + LINK_TTL_SECS;
        // Expire from the front; cap the live set.
        while let Some((at, _)) = g.order.front() {
            if *at > now && g.order.len() < MAX_LINKS {
                break;
            }
            let (_, old) = g.order.pop_front().expect("front");
            g.map.remove(&old);
        }
        g.map.insert(id.clone(), Link { job, expires });
        g.order.push_back((expires, id.clone()));
        id
    }

    /// The job of a live link.
    pub fn get(&self, id: &str, now: f64) -> Option<Job> {
        let g = self.0.lock();
        g.map.get(id).filter(|l| l.expires > now).map(|l| l.job.clone())
    }

    pub fn live(&self, now: f64) -> usize {
        self.0.lock().map.values().filter(|l| l.expires > now).count()
    }

    pub fn clear(&self) {
        let mut g = self.0.lock();
        g.map.clear();
        g.order.clear();
    }
}

fn plain(status: StatusCode, text: &str) -> Response {
    let mut r = (status, text.to_owned()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// A streamed CSV answer of `job` (BOM and header, then chunk by chunk).
pub fn csv_response(sim: Arc<Sim>, job: Job) -> Response {
    let now = sim.clock.now_unix();
    let n = job.chunks(&sim);
    let etag = job.etag.clone();
    let head = futures::stream::once(futures::future::ready(Ok::<Bytes, std::io::Error>(Bytes::from(
        job.header(),
    ))));
    let rows = futures::stream::unfold((sim, job, 0u64), move |(sim, job, k)| async move {
        if k >= n {
            return None;
        }
        let chunk = job.chunk(&sim, k, now);
        Some((Ok(Bytes::from(chunk)), (sim, job, k + 1)))
    })
    .filter(|r: &Result<Bytes, std::io::Error>| futures::future::ready(!matches!(r, Ok(b) if b.is_empty())));
    let mut r = Response::new(Body::from_stream(head.chain(rows)));
    super::set_etag(r.headers_mut(), &etag);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    r
}

/// `GET /reports-download/data/download/{opaque}`: no Authorization header allowed.
pub async fn download(State(sim): State<Arc<Sim>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let counters = &sim.reports;
    if headers.contains_key(header::AUTHORIZATION) {
        counters.refused_authorization.fetch_add(1, Ordering::Relaxed);
        return plain(
            StatusCode::BAD_REQUEST,
            "This is a pre-authenticated report download URL: request it without an Authorization header. \
             (tenantctl-sim refuses it so that tests can prove the bearer token never leaves Graph.)",
        );
    }
    let Some(job) = counters.links.get(&id, sim.clock.now_secs_f64()) else {
        counters.not_found.fetch_add(1, Ordering::Relaxed);
        return plain(
            StatusCode::NOT_FOUND,
            "The report download URL has expired or does not exist. Request the report again.",
        );
    };
    counters.served.fetch_add(1, Ordering::Relaxed);
    csv_response(sim.clone(), job)
}
