//! The fan-out engine: runs one per-tenant operation over a set of tenants.
//!
//! - At most `tenants` tenants run at once (the global limit); within a tenant an operation
//!   takes a [`TenantCtx::permit`] for each concurrent request (the per-tenant limit).
//! - A tenant's items are collected while it runs and handed to the caller, with the tenant's
//!   one [`TenantOutcome`], as soon as it ends: output streams tenant by tenant, each tenant's
//!   items together, and memory is bounded by the tenants in flight, not the fleet.
//! - Every tenant ends with exactly one status; an error is classified by the caller's
//!   classifier (the engine knows no service); a tenant that failed after producing items is
//!   `partial`. None is ever dropped.
//! - A failure that concerns the whole run (bad client secret, refresh token revoked) stops the
//!   run: the remaining tenants end `error` with the same cause, and [`Summary::fatal`] is set.
//! - The run stops early when the caller says so ([`Flow::Stop`] from `on_done`, e.g. a closed
//!   pipe) or when the [`Stop`] handle fires (Ctrl-C): no further request starts, tenants in
//!   flight are dropped, and every unfinished tenant ends `cancelled`.

use futures::StreamExt;
use parking_lot::Mutex;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tenantctl_core::{TenantId, TenantOutcome, TenantStatus};
use tenantctl_transport::clock::SharedClock;
use tokio::sync::{Notify, Semaphore, SemaphorePermit};

/// A tenant to run in.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub id: TenantId,
    pub name: String,
    /// GDAP status known from the customer list (`active`, `expired`, `none`...), used to tell
    /// `relationship_expired` from `no_relationship`.
    pub relationship_status: Option<String>,
}

impl Target {
    pub fn relationship_expired(&self) -> bool {
        self.relationship_status.as_deref() == Some("expired")
    }
}

/// Concurrency limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Tenants in flight.
    pub tenants: usize,
    /// Requests in flight within one tenant.
    pub per_tenant: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            tenants: 64,
            per_tenant: 4,
        }
    }
}

/// How an error ends a tenant: its status, and whether it stops the whole run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub status: TenantStatus,
    pub fatal: bool,
}

impl Verdict {
    pub fn tenant(status: TenantStatus) -> Verdict {
        Verdict { status, fatal: false }
    }
    pub fn fatal() -> Verdict {
        Verdict {
            status: TenantStatus::Error,
            fatal: true,
        }
    }
}

/// A stop signal shared with whoever may interrupt the run (a Ctrl-C handler).
#[derive(Clone, Debug, Default)]
pub struct Stop(Arc<StopInner>);

#[derive(Debug, Default)]
struct StopInner {
    fired: AtomicBool,
    notify: Notify,
}

impl Stop {
    pub fn new() -> Stop {
        Stop::default()
    }

    /// Fires the signal: no tenant starts any more and those in flight are dropped.
    pub fn fire(&self) {
        self.0.fired.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    pub fn is_fired(&self) -> bool {
        self.0.fired.load(Ordering::SeqCst)
    }

    /// Completes once the signal has fired.
    pub async fn fired(&self) {
        loop {
            let n = self.0.notify.notified();
            if self.is_fired() {
                return;
            }
            n.await;
        }
    }
}

/// What the caller wants after a tenant ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// Stop the run quietly (e.g. the reader of the output went away).
    Stop,
}

/// What an operation sees of its tenant.
pub struct TenantCtx<T> {
    pub target: Target,
    items: Mutex<Vec<T>>,
    limit: Semaphore,
}

impl<T> TenantCtx<T> {
    /// Adds an output item of this tenant.
    pub fn emit(&self, item: T) {
        self.items.lock().push(item);
    }

    /// Waits for a per-tenant request slot.
    pub async fn permit(&self) -> SemaphorePermit<'_> {
        self.limit.acquire().await.expect("semaphore never closed")
    }

    pub fn items_so_far(&self) -> usize {
        self.items.lock().len()
    }
}

/// One finished tenant.
pub struct TenantResult<T> {
    pub outcome: TenantOutcome,
    pub target: Target,
    pub items: Vec<T>,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Summary {
    pub outcomes: Vec<TenantOutcome>,
    /// The run-wide failure that stopped it, if any.
    pub fatal: Option<String>,
    /// The run was stopped early (by [`Stop`] or [`Flow::Stop`]).
    pub stopped: bool,
}

impl Summary {
    /// 0 all ok, 1 fatal, 3 some tenants not ok. (An interrupted run's 130 is the CLI's.)
    pub fn exit_code(&self) -> i32 {
        if self.fatal.is_some() {
            1
        } else if self.outcomes.iter().all(|o| o.status.is_ok()) {
            0
        } else {
            3
        }
    }

    pub fn count(&self, status: TenantStatus) -> usize {
        self.outcomes.iter().filter(|o| o.status == status).count()
    }
}

/// Runs `op` in every target; calls `on_done` as each tenant ends (in completion order),
/// including the tenants cancelled by a stop, so every target gets exactly one outcome.
pub async fn run<T, E, F, Fut, C>(
    targets: Vec<Target>,
    limits: Limits,
    clock: &SharedClock,
    classify: C,
    stop: &Stop,
    op: F,
    mut on_done: impl FnMut(TenantResult<T>) -> Flow,
) -> Summary
where
    E: std::fmt::Display,
    F: Fn(Arc<TenantCtx<T>>) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    C: Fn(&E, &Target) -> Verdict,
{
    // An internal stop so that `Flow::Stop` does not fire the caller's handle.
    let inner = Stop::new();
    let fatal: Mutex<Option<String>> = Mutex::new(None);
    let per_tenant = limits.per_tenant.max(1);
    let (op, classify, fatal_ref, inner_ref) = (&op, &classify, &fatal, &inner);
    let stopped = || stop.is_fired() || inner_ref.is_fired();
    let mut results = futures::stream::iter(targets)
        .map(|target| async move {
            let started = clock.now_mono();
            let ctx = Arc::new(TenantCtx {
                target: target.clone(),
                items: Mutex::new(Vec::new()),
                limit: Semaphore::new(per_tenant),
            });
            let earlier_fatal = fatal_ref.lock().clone();
            let (status, detail) = if stopped() {
                (TenantStatus::Cancelled, "not started: the run was stopped".to_owned())
            } else if let Some(cause) = earlier_fatal {
                (TenantStatus::Error, format!("not run: {cause}"))
            } else {
                let outcome = tokio::select! {
                    biased;
                    _ = stop.fired() => None,
                    _ = inner_ref.fired() => None,
                    r = op(ctx.clone()) => Some(r),
                };
                match outcome {
                    None => {
                        ctx.items.lock().clear();
                        (TenantStatus::Cancelled, "stopped before it finished".to_owned())
                    }
                    Some(Ok(())) => (TenantStatus::Ok, String::new()),
                    Some(Err(e)) => {
                        let v = classify(&e, &target);
                        if v.fatal {
                            fatal_ref.lock().get_or_insert_with(|| e.to_string());
                        }
                        tracing::debug!(tenant = %target.id, error = %e, "tenant failed");
                        let rows = ctx.items_so_far();
                        if rows > 0 && !v.fatal {
                            (TenantStatus::Partial, format!("{} after {rows} rows: {e}", v.status))
                        } else {
                            (v.status, e.to_string())
                        }
                    }
                }
            };
            let items = std::mem::take(&mut *ctx.items.lock());
            TenantResult {
                outcome: TenantOutcome {
                    tenant_id: target.id,
                    tenant_name: target.name.clone(),
                    status,
                    detail,
                    rows: items.len() as u64,
                    elapsed_ms: clock.elapsed(started).as_millis() as u64,
                },
                target,
                items,
            }
        })
        .buffer_unordered(limits.tenants.max(1));
    let mut outcomes = vec![];
    while let Some(r) = results.next().await {
        outcomes.push(r.outcome.clone());
        let cancelled = r.outcome.status == TenantStatus::Cancelled;
        if on_done(r) == Flow::Stop && !cancelled {
            inner.fire();
        }
    }
    drop(results);
    Summary {
        outcomes,
        fatal: fatal.into_inner(),
        stopped: stop.is_fired() || inner.is_fired(),
    }
}

#[cfg(test)]
// The engine's tests run on tokio's paused time (its sleeps are the "requests").
#[allow(clippy::disallowed_methods)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    #[derive(Debug)]
    enum E {
        Forbidden,
        Throttled,
        BadSecret,
    }
    impl std::fmt::Display for E {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{self:?}")
        }
    }
    fn classify(e: &E, t: &Target) -> Verdict {
        match e {
            E::Forbidden if t.relationship_expired() => Verdict::tenant(TenantStatus::RelationshipExpired),
            E::Forbidden => Verdict::tenant(TenantStatus::RoleMissing),
            E::Throttled => Verdict::tenant(TenantStatus::Throttled),
            E::BadSecret => Verdict::fatal(),
        }
    }

    fn clock() -> SharedClock {
        tenantctl_transport::clock::SystemClock::shared()
    }

    fn targets(n: u32) -> Vec<Target> {
        (0..n)
            .map(|i| Target {
                id: format!("00000000-0000-0000-0000-{:012}", i).parse().unwrap(),
                name: format!("T{i}"),
                relationship_status: Some(if i == 3 { "expired" } else { "active" }.into()),
            })
            .collect()
    }

    fn index(ctx: &TenantCtx<u32>) -> u32 {
        ctx.target.name[1..].parse().unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn every_tenant_ends_once_with_its_items_and_both_limits_are_reached_not_exceeded() {
        let in_flight = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let req_in_flight = AtomicUsize::new(0);
        let req_peak = AtomicUsize::new(0);
        let mut seen = vec![];
        let summary = run(
            targets(40),
            Limits {
                tenants: 5,
                per_tenant: 2,
            },
            &clock(),
            classify,
            &Stop::new(),
            |ctx: Arc<TenantCtx<u32>>| {
                let (in_flight, peak, req_in_flight, req_peak) = (&in_flight, &peak, &req_in_flight, &req_peak);
                async move {
                    let n = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(n, Ordering::SeqCst);
                    // Four "requests" at once; the per-tenant limit lets two through.
                    futures::future::join_all((0..4).map(|_| async {
                        let _p = ctx.permit().await;
                        let r = req_in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                        req_peak.fetch_max(r, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        req_in_flight.fetch_sub(1, Ordering::SeqCst);
                    }))
                    .await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    let i = index(&ctx);
                    for k in 0..(i % 4) {
                        ctx.emit(k);
                    }
                    match i % 10 {
                        7 => Err(E::Forbidden),
                        9 if i % 4 > 0 => Err(E::Throttled),
                        _ => Ok(()),
                    }
                }
            },
            |r| {
                seen.push((r.outcome.tenant_name.clone(), r.outcome.status, r.items));
                Flow::Continue
            },
        )
        .await;
        assert_eq!(peak.load(Ordering::SeqCst), 5, "the global limit is used, not exceeded");
        assert_eq!(req_peak.load(Ordering::SeqCst), 10, "5 tenants x 2 requests");
        assert_eq!(summary.outcomes.len(), 40);
        assert_eq!(seen.len(), 40);
        let mut names: Vec<_> = seen.iter().map(|s| s.0.clone()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 40, "each tenant once");
        for (name, status, items) in &seen {
            let i: u32 = name[1..].parse().unwrap();
            assert_eq!(items.len() as u32, i % 4);
            let expected = match i % 10 {
                7 if i % 4 > 0 => TenantStatus::Partial,
                7 => TenantStatus::RoleMissing,
                9 if i % 4 > 0 => TenantStatus::Partial,
                _ => TenantStatus::Ok,
            };
            assert_eq!(*status, expected, "{name}");
        }
        assert_eq!(summary.exit_code(), 3);
        assert!(!summary.stopped);
    }

    #[tokio::test]
    async fn a_run_wide_failure_stops_the_run_and_names_the_cause_for_every_tenant() {
        let summary = run(
            targets(10),
            Limits {
                tenants: 1,
                per_tenant: 1,
            },
            &clock(),
            classify,
            &Stop::new(),
            |_ctx: Arc<TenantCtx<u32>>| async { Err(E::BadSecret) },
            |_| Flow::Continue,
        )
        .await;
        assert_eq!(summary.outcomes.len(), 10);
        assert_eq!(summary.fatal.as_deref(), Some("BadSecret"));
        assert!(summary.outcomes[1..].iter().all(|o| o.detail.starts_with("not run:")));
        assert_eq!(summary.exit_code(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn flow_stop_starts_no_further_tenant_and_cancels_those_in_flight() {
        let started = AtomicUsize::new(0);
        let mut done = 0;
        let summary = run(
            targets(100),
            Limits {
                tenants: 4,
                per_tenant: 1,
            },
            &clock(),
            classify,
            &Stop::new(),
            |ctx: Arc<TenantCtx<u32>>| {
                let started = &started;
                async move {
                    started.fetch_add(1, Ordering::SeqCst);
                    // Tenant i takes i ms: T0 ends first.
                    tokio::time::sleep(Duration::from_millis(1 + u64::from(index(&ctx)))).await;
                    ctx.emit(1);
                    Ok::<(), E>(())
                }
            },
            |r| {
                if r.outcome.status == TenantStatus::Ok {
                    done += 1;
                }
                Flow::Stop
            },
        )
        .await;
        assert_eq!(done, 1, "only the first tenant finished");
        assert_eq!(started.load(Ordering::SeqCst), 4, "no tenant started after the stop");
        assert_eq!(summary.outcomes.len(), 100, "every tenant still has a status");
        assert_eq!(summary.count(TenantStatus::Cancelled), 99);
        assert!(summary.stopped);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stop_signal_cancels_unfinished_tenants_and_keeps_finished_ones() {
        let stop = Stop::new();
        let stopper = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(25)).await;
            stopper.fire();
        });
        let mut rows = 0;
        let summary = run(
            targets(10),
            Limits {
                tenants: 10,
                per_tenant: 1,
            },
            &clock(),
            classify,
            &stop,
            |ctx: Arc<TenantCtx<u32>>| async move {
                ctx.emit(1);
                tokio::time::sleep(Duration::from_millis(10 * (1 + u64::from(index(&ctx))))).await;
                Ok::<(), E>(())
            },
            |r| {
                rows += r.items.len();
                Flow::Continue
            },
        )
        .await;
        // T0 (10 ms) and T1 (20 ms) finished before the signal at 25 ms.
        assert_eq!(summary.count(TenantStatus::Ok), 2);
        assert_eq!(summary.count(TenantStatus::Cancelled), 8);
        assert_eq!(rows, 2, "a cancelled tenant hands over no half of its rows");
        assert!(summary.stopped);
    }

    #[tokio::test]
    async fn all_ok_exits_zero() {
        let s = run(
            targets(3),
            Limits::default(),
            &clock(),
            classify,
            &Stop::new(),
            |_c: Arc<TenantCtx<u32>>| async { Ok::<(), E>(()) },
            |_| Flow::Continue,
        )
        .await;
        assert_eq!(s.exit_code(), 0);
    }
}
