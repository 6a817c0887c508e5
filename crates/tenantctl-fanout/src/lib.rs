//! The fan-out engine: runs one per-tenant operation over a set of tenants.
//!
//! - At most `tenants` tenants run at once (the global limit, a ceiling: with
//!   [`Limits::adaptive`] the number in flight follows the answers, AIMD as TCP does, see
//!   [`tenantctl_transport::adaptive`]); within a tenant an operation takes a
//!   [`TenantCtx::permit`] for each concurrent request (the per-tenant limit).
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
use tenantctl_transport::adaptive::{self, AdaptiveConfig, AdaptiveLimit, AdaptiveStats};
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

/// The tenants of a run: a list known in advance, or a stream naming them as the partner's
/// customer list is read (the first tenants start while later pages are still on their way).
pub struct Targets {
    stream: futures::stream::BoxStream<'static, Target>,
    count: Arc<TargetCount>,
}

/// How many tenants a run has been given so far, and whether that is all (for progress).
#[derive(Debug, Default)]
pub struct TargetCount {
    named: std::sync::atomic::AtomicUsize,
    complete: AtomicBool,
    /// Set by the engine when the run stops: whoever feeds the targets stops preparing them
    /// (e.g. fetching their tokens ahead); the rest are still taken, and end `cancelled`.
    stopped: AtomicBool,
}

impl TargetCount {
    /// A count that is complete from the start.
    pub fn known(n: usize) -> TargetCount {
        TargetCount {
            named: n.into(),
            complete: true.into(),
            stopped: false.into(),
        }
    }
    pub fn add(&self, n: usize) {
        self.named.fetch_add(n, Ordering::Relaxed);
    }
    pub fn set_complete(&self) {
        self.complete.store(true, Ordering::Release);
    }
    /// Whether the run has stopped (Ctrl-C, a closed pipe, a fatal error).
    pub fn run_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }
    /// Tenants named so far and whether the list is complete.
    pub fn get(&self) -> (usize, bool) {
        let complete = self.complete.load(Ordering::Acquire);
        (self.named.load(Ordering::Relaxed), complete)
    }
}

impl Targets {
    /// Tenants arriving on `stream`; whoever feeds it keeps `count` up to date.
    pub fn streamed(stream: impl futures::Stream<Item = Target> + Send + 'static, count: Arc<TargetCount>) -> Targets {
        Targets {
            stream: stream.boxed(),
            count,
        }
    }
    pub fn count(&self) -> Arc<TargetCount> {
        self.count.clone()
    }
    /// The tenants as a stream (to put a stage in front of the fan-out).
    pub fn into_stream(self) -> futures::stream::BoxStream<'static, Target> {
        self.stream
    }
}

impl From<Vec<Target>> for Targets {
    fn from(v: Vec<Target>) -> Targets {
        let count = Arc::new(TargetCount::known(v.len()));
        Targets {
            stream: futures::stream::iter(v).boxed(),
            count,
        }
    }
}

/// Concurrency limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Tenants in flight: exactly this many when not adaptive, at most this many when adaptive.
    pub tenants: usize,
    /// Requests in flight within one tenant.
    pub per_tenant: usize,
    /// The tenants in flight adapt to the answers: start at a quarter of `tenants` (at most 16),
    /// grow while answers come back clean, halve on an app-wide 429 or a 503.
    pub adaptive: bool,
}

impl Limits {
    /// The tenant limiter's configuration.
    pub fn tenant_limit(&self) -> AdaptiveConfig {
        if self.adaptive {
            AdaptiveConfig::up_to(self.tenants)
        } else {
            AdaptiveConfig::fixed(self.tenants)
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            tenants: 64,
            per_tenant: 4,
            adaptive: true,
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

    /// Makes room for exactly `n` more items: an operation that knows a page's size says so,
    /// and the tenant's items, held until it ends, carry no growth slack (up to half of them
    /// with doubling; at 10,000 tenants ≈5 MB of the rows in flight, issue 13).
    pub fn reserve_exact(&self, n: usize) {
        self.items.lock().reserve_exact(n);
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
    /// What the tenant limiter did (peak in flight, cuts...).
    pub concurrency: AdaptiveStats,
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
    targets: impl Into<Targets>,
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
    let limiter = AdaptiveLimit::new(limits.tenant_limit(), clock.clone());
    let (op, classify, fatal_ref, inner_ref, limiter_ref) = (&op, &classify, &fatal, &inner, &limiter);
    let stopped = || stop.is_fired() || inner_ref.is_fired();
    let targets: Targets = targets.into();
    let count = targets.count();
    let count_ref = &count;
    // A tenant is taken from the targets only once a slot under the current limit is free,
    // so whoever feeds them decides which goes next at the last moment (the biggest first,
    // `tenantctl_ops::targets::prefetch_tokens`). After a stop, the rest are still taken, each
    // without a slot, and end `cancelled`.
    let admitted = futures::stream::unfold(targets.stream, move |mut stream| async move {
        let slot = tokio::select! {
            biased;
            _ = stop.fired() => None,
            _ = inner_ref.fired() => None,
            s = limiter_ref.acquire() => Some(s),
        };
        let target = stream.next().await?;
        Some(((slot, target), stream))
    });
    let results = admitted
        .map(|(slot, target)| async move {
            let started = clock.now_mono();
            let ctx = Arc::new(TenantCtx {
                target: target.clone(),
                items: Mutex::new(Vec::new()),
                limit: Semaphore::new(per_tenant),
            });
            let earlier_fatal = fatal_ref.lock().clone();
            if stopped() || slot.is_none() || earlier_fatal.is_some() {
                count_ref.stopped.store(true, Ordering::Release);
            }
            let (status, detail) = if stopped() || slot.is_none() {
                (TenantStatus::Cancelled, "not started: the run was stopped".to_owned())
            } else if let Some(cause) = earlier_fatal {
                (TenantStatus::Error, format!("not run: {cause}"))
            } else {
                let outcome = tokio::select! {
                    biased;
                    _ = stop.fired() => None,
                    _ = inner_ref.fired() => None,
                    r = adaptive::scoped(limiter_ref.clone(), op(ctx.clone())) => Some(r),
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
            drop(slot);
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
    let mut results = Box::pin(results);
    let mut outcomes = vec![];
    while let Some(r) = results.next().await {
        outcomes.push(r.outcome.clone());
        let cancelled = r.outcome.status == TenantStatus::Cancelled;
        if on_done(r) == Flow::Stop && !cancelled {
            inner.fire();
            count.stopped.store(true, Ordering::Release);
        }
    }
    drop(results);
    let concurrency = limiter.stats();
    tracing::info!(
        adaptive = limits.adaptive,
        ceiling = limits.tenants,
        peak_in_flight = concurrency.peak_in_flight,
        limit = concurrency.limit,
        min_limit = concurrency.min_limit,
        cuts = concurrency.cuts,
        tenant_throttles = concurrency.tenant_throttles,
        fleet_throttles = concurrency.fleet_throttles,
        "tenants in flight"
    );
    Summary {
        outcomes,
        fatal: fatal.into_inner(),
        stopped: stop.is_fired() || inner.is_fired(),
        concurrency,
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
                adaptive: false,
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
                adaptive: false,
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
                adaptive: false,
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
                adaptive: false,
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

    /// The clock of tokio's paused time (a `SystemClock` reads the real monotonic clock).
    #[derive(Debug)]
    struct PausedClock(tokio::time::Instant);
    impl tenantctl_transport::clock::Clock for PausedClock {
        fn now_system(&self) -> std::time::SystemTime {
            std::time::SystemTime::UNIX_EPOCH + self.0.elapsed()
        }
        fn now_mono(&self) -> tenantctl_transport::clock::MonoTime {
            tenantctl_transport::clock::MonoTime::ZERO + self.0.elapsed()
        }
        fn sleep(&self, d: Duration) -> tenantctl_transport::clock::Sleep {
            Box::pin(tokio::time::sleep(d))
        }
    }

    /// A server with Graph's app-wide token bucket (`rate` requests a second, `burst` at once):
    /// an empty bucket answers 429 `Retry-After: 1` (scope `Application/...`, or
    /// `Tenant_Application/...` when `per_tenant`).
    struct Bucket {
        tokens: f64,
        at: Duration,
        rate: f64,
        burst: f64,
    }

    struct Fleet {
        wall: Duration,
        throttles: usize,
        failed: usize,
        stats: AdaptiveStats,
    }

    /// 300 tenants of 3 requests each (30 ms), a 429 waited out and retried up to 32 times.
    async fn fleet(limits: Limits, scope: adaptive::Scope) -> Fleet {
        use tenantctl_transport::adaptive::Signal;
        let clock: SharedClock = Arc::new(PausedClock(tokio::time::Instant::now()));
        let bucket = Mutex::new(Bucket {
            tokens: 40.0,
            at: Duration::ZERO,
            rate: 100.0,
            burst: 40.0,
        });
        let throttles = AtomicUsize::new(0);
        let summary = run(
            targets(300),
            limits,
            &clock,
            classify,
            &Stop::new(),
            |_ctx: Arc<TenantCtx<u32>>| {
                let (clock, bucket, throttles) = (clock.clone(), &bucket, &throttles);
                async move {
                    for _ in 0..3 {
                        let mut tries = 0;
                        loop {
                            let sent = clock.now_mono();
                            tokio::time::sleep(Duration::from_millis(30)).await;
                            let now = clock.now_mono().since_origin();
                            let ok = {
                                let mut b = bucket.lock();
                                b.tokens = (b.tokens + (now - b.at).as_secs_f64() * b.rate).min(b.burst);
                                b.at = now;
                                let ok = b.tokens >= 1.0;
                                if ok {
                                    b.tokens -= 1.0;
                                }
                                ok
                            };
                            if ok {
                                adaptive::report(sent, Signal::Clean);
                                break;
                            }
                            throttles.fetch_add(1, Ordering::SeqCst);
                            let after = Some(Duration::from_secs(1));
                            adaptive::report(sent, Signal::Throttled { scope, after });
                            tries += 1;
                            if tries >= 32 {
                                return Err(E::Throttled);
                            }
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                    Ok(())
                }
            },
            |_| Flow::Continue,
        )
        .await;
        Fleet {
            wall: clock.now_mono().since_origin(),
            throttles: throttles.load(Ordering::SeqCst),
            failed: summary.outcomes.iter().filter(|o| !o.status.is_ok()).count(),
            stats: summary.concurrency,
        }
    }

    fn limits(tenants: usize, adaptive: bool) -> Limits {
        Limits {
            tenants,
            per_tenant: 1,
            adaptive,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn under_an_app_wide_limit_the_adaptive_fleet_backs_off_and_keeps_pace_with_the_best_fixed_one() {
        let app = adaptive::Scope::App;
        let best_fixed = {
            let mut best: Option<Fleet> = None;
            for n in [2, 4, 8, 16] {
                let f = fleet(limits(n, false), app).await;
                assert_eq!(f.failed, 0);
                if best.as_ref().is_none_or(|b| f.wall < b.wall) {
                    best = Some(f);
                }
            }
            best.unwrap()
        };
        let wide = fleet(limits(500, false), app).await;
        let adaptive = fleet(limits(500, true), app).await;
        assert_eq!(adaptive.failed, 0, "every tenant completes");
        assert!(
            adaptive.stats.cuts > 0 && adaptive.stats.min_limit < 16,
            "{:?}",
            adaptive.stats
        );
        assert!(
            adaptive.throttles * 4 < wide.throttles,
            "far fewer 429s than a fixed 500: {} vs {}",
            adaptive.throttles,
            wide.throttles
        );
        assert!(
            adaptive.wall.as_secs_f64() <= 1.5 * best_fixed.wall.as_secs_f64(),
            "adaptive {:?} {} {:?}, best fixed {:?} {}, wide {:?} {}",
            adaptive.wall,
            adaptive.throttles,
            adaptive.stats,
            best_fixed.wall,
            best_fixed.throttles,
            wide.wall,
            wide.throttles
        );
        assert!(adaptive.stats.peak_in_flight < 500);
    }

    #[tokio::test(start_paused = true)]
    async fn a_tenant_scoped_throttle_does_not_shrink_the_fleet() {
        let f = fleet(limits(64, true), adaptive::Scope::Tenant).await;
        assert!(f.throttles > 0);
        assert_eq!(f.stats.cuts, 0, "{:?}", f.stats);
        assert_eq!(f.stats.min_limit, 16, "started at 64/4 and never cut");
        assert_eq!(f.stats.limit, 64, "grew to the ceiling on the clean answers");
        assert_eq!(f.failed, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_fixed_limit_runs_exactly_that_many_and_adaptive_grows_to_the_ceiling_when_all_is_clean() {
        let (c, stop) = (clock(), Stop::new());
        let clean = |limits: Limits| {
            run(
                targets(400),
                limits,
                &c,
                classify,
                &stop,
                |_c: Arc<TenantCtx<u32>>| async {
                    let sent = tenantctl_transport::clock::MonoTime::ZERO;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    adaptive::report(sent, adaptive::Signal::Clean);
                    Ok::<(), E>(())
                },
                |_| Flow::Continue,
            )
        };
        let fixed = clean(limits(50, false)).await;
        assert_eq!(fixed.concurrency.peak_in_flight, 50);
        let adaptive = clean(limits(50, true)).await;
        assert_eq!(adaptive.concurrency.peak_in_flight, 50);
        assert_eq!(adaptive.concurrency.min_limit, 12);
        assert_eq!(adaptive.count(TenantStatus::Ok), 400);
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

    /// Issue 13: tenants named by a stream (the customer list, page by page) start as they
    /// arrive, not when the stream ends, and each ends once.
    #[tokio::test(start_paused = true)]
    async fn streamed_targets_start_as_they_are_named_and_each_ends_once() {
        let all = targets(30);
        let count = Arc::new(TargetCount::default());
        let (feed, named) = (count.clone(), all.clone());
        // Three "pages" of ten, 100 ms apart.
        let stream = futures::stream::iter(0..3)
            .then(move |page| {
                let (feed, named) = (feed.clone(), named.clone());
                async move {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    feed.add(10);
                    if page == 2 {
                        feed.set_complete();
                    }
                    futures::stream::iter(named[page * 10..page * 10 + 10].to_vec())
                }
            })
            .flatten();
        let t0 = tokio::time::Instant::now();
        let first_started: Mutex<Option<Duration>> = Mutex::new(None);
        let summary = run(
            Targets::streamed(stream, count.clone()),
            Limits {
                tenants: 64,
                per_tenant: 1,
                adaptive: false,
            },
            &clock(),
            classify,
            &Stop::new(),
            |ctx: Arc<TenantCtx<u32>>| {
                let first_started = &first_started;
                async move {
                    first_started.lock().get_or_insert(t0.elapsed());
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    ctx.emit(index(&ctx));
                    Ok::<(), E>(())
                }
            },
            |_| Flow::Continue,
        )
        .await;
        assert_eq!(
            first_started.lock().unwrap(),
            Duration::from_millis(100),
            "the first tenant starts with the first page, not after the third"
        );
        assert_eq!(
            t0.elapsed(),
            Duration::from_millis(350),
            "the last page's tenants end 50 ms after it"
        );
        assert_eq!(summary.outcomes.len(), 30);
        let mut ids: Vec<_> = summary.outcomes.iter().map(|o| o.tenant_id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 30, "each tenant once");
        assert_eq!(count.get(), (30, true));
    }
}
