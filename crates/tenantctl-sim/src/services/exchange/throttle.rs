//! Exchange's throttling: a cap on concurrent requests per tenant.
//!
//! The answer over the cap is the plain text ExoHelper (`Invoke-ExoCommand.ps1`) retries on,
//! whatever the status: "You have reached the maximum number of concurrent requests per
//! tenant. Please wait and try again" [C ExoHelper], with `Rate-Limit-Remaining` /
//! `Rate-Limit-Reset` headers [C ExoHelper reads them] and no `Retry-After` [O graph2otel].
//! Status 429 [I: ExoHelper's retry list is 429-centred; graph2otel saw no other]. Microsoft
//! publishes no figure for the REST admin API; remote PowerShell allowed 3 sessions per account
//! (microsoft365dsc#135). Default cap: [`DEFAULT_MAX_CONCURRENT`] per tenant [I], configurable
//! (`SimConfig::exchange_max_concurrent`, `POST /_sim/exchange {"max_concurrent": N}`).
//! A `$batch` holds one slot for all its sub-requests [I]. Off when throttling is disabled.

use crate::state::Sim;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// The throttling answer's text [C ExoHelper].
pub const THROTTLED_TEXT: &str =
    "You have reached the maximum number of concurrent requests per tenant. Please wait and try again";

/// Concurrent Exchange requests allowed per tenant by default [I].
pub const DEFAULT_MAX_CONCURRENT: u32 = 10;

/// Requests in flight per tenant, and the cap.
pub struct ExchangeThrottle {
    max: AtomicU32,
    in_flight: Arc<Mutex<HashMap<u32, u32>>>,
}

/// A held slot; released on drop.
pub struct Slot {
    tenant: u32,
    in_flight: Arc<Mutex<HashMap<u32, u32>>>,
    /// Slots left for the tenant after this one was taken.
    pub remaining: u32,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut m = self.in_flight.lock();
        if let Some(n) = m.get_mut(&self.tenant) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                m.remove(&self.tenant);
            }
        }
    }
}

impl ExchangeThrottle {
    pub fn new(max: u32) -> Self {
        ExchangeThrottle {
            max: AtomicU32::new(max),
            in_flight: Arc::default(),
        }
    }

    pub fn max_concurrent(&self) -> u32 {
        self.max.load(Ordering::Relaxed)
    }

    /// Sets the cap (0: no cap).
    pub fn set_max_concurrent(&self, n: u32) {
        self.max.store(n, Ordering::Relaxed);
    }

    /// Takes a slot for tenant `idx`, or None when the tenant is at the cap.
    pub fn try_acquire(&self, tenant: u32) -> Option<Slot> {
        let max = self.max_concurrent();
        let mut m = self.in_flight.lock();
        let n = m.entry(tenant).or_insert(0);
        if max > 0 && *n >= max {
            return None;
        }
        *n += 1;
        let remaining = max.saturating_sub(*n);
        Some(Slot {
            tenant,
            in_flight: self.in_flight.clone(),
            remaining,
        })
    }

    /// Requests of tenant `idx` in flight now.
    pub fn in_flight(&self, tenant: u32) -> u32 {
        self.in_flight.lock().get(&tenant).copied().unwrap_or(0)
    }
}

fn set(r: &mut Response, name: &'static str, v: &str) {
    if let Ok(v) = HeaderValue::from_str(v) {
        r.headers_mut().insert(HeaderName::from_static(name), v);
    }
}

/// The tenant index a `/outlook/adminapi/beta/{tenant}/…` path names.
fn path_tenant(sim: &Sim, path: &str) -> Option<u32> {
    let rest = path.strip_prefix(super::PREFIX)?.trim_start_matches('/');
    let seg = rest.split('/').next()?;
    sim.fleet.find_tenant(seg).map(|t| t.idx)
}

/// Middleware in front of the Exchange routes (outside the latency of the faults layer, so a
/// slow request holds its slot): over the cap, the plain-text 429.
pub async fn middleware(State(sim): State<Arc<Sim>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !path.starts_with("/outlook/") || !sim.throttle.config().enabled {
        return next.run(req).await;
    }
    let Some(tenant) = path_tenant(&sim, path) else {
        return next.run(req).await;
    };
    let reset = crate::platform::clock::rfc3339(sim.clock.now() + std::time::Duration::from_secs(1));
    match sim.exchange.try_acquire(tenant) {
        Some(slot) => {
            let remaining = slot.remaining;
            let mut r = next.run(req).await;
            drop(slot);
            set(&mut r, "rate-limit-remaining", &remaining.to_string());
            set(&mut r, "rate-limit-reset", &reset);
            r
        }
        None => {
            let mut r = (StatusCode::TOO_MANY_REQUESTS, THROTTLED_TEXT).into_response();
            set(&mut r, "rate-limit-remaining", "0");
            set(&mut r, "rate-limit-reset", &reset);
            r
        }
    }
}

/// An injected fault (`/_sim/faults`) in Exchange's words: 429 is the throttling text (with
/// `Rate-Limit-*`, no `Retry-After`), anything else Exchange's error body [I].
pub fn injected(status: StatusCode) -> Response {
    if status == StatusCode::TOO_MANY_REQUESTS {
        let mut r = (StatusCode::TOO_MANY_REQUESTS, THROTTLED_TEXT).into_response();
        set(&mut r, "rate-limit-remaining", "0");
        return r;
    }
    super::errors::ExoError::new(
        status,
        "ServiceUnavailable",
        super::errors::exceptions::ODATA_SERVICE,
        "The service is temporarily unavailable. Please try again later.",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_counts_slots_per_tenant_and_frees_them_on_drop() {
        let th = ExchangeThrottle::new(2);
        let a = th.try_acquire(1).unwrap();
        assert_eq!(a.remaining, 1);
        let b = th.try_acquire(1).unwrap();
        assert_eq!(b.remaining, 0);
        assert!(th.try_acquire(1).is_none());
        // Another tenant has its own slots.
        assert!(th.try_acquire(2).is_some());
        drop(a);
        assert_eq!(th.in_flight(1), 1);
        assert!(th.try_acquire(1).is_some());
        th.set_max_concurrent(0);
        let _many: Vec<Slot> = (0..50).map(|_| th.try_acquire(1).unwrap()).collect();
    }
}
