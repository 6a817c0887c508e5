//! Adaptive concurrency: how many tenants run at once, found by AIMD as TCP finds its window.
//!
//! - Every answer the executor gets is reported (see [`report`]) to the limiter of the fan-out
//!   the request belongs to (a task-local set by the fan-out around each tenant).
//! - A clean answer (the server processed the request) grows the limit: by 1 per answer up to
//!   a threshold (slow start; until the first congestion event the threshold is the ceiling,
//!   so a clean fleet doubles its tenants in flight every round of answers; after a cut it is
//!   the limit the cut left),
//!   then by `1/limit` per answer (about one more tenant per round of answers: congestion
//!   avoidance).
//! - A congestion event (a 429 whose `x-ms-throttle-scope` is app-wide or absent, or a 503)
//!   halves the limit, never below 1. One cut per event, not per failed request: an answer to
//!   a request sent before the last cut says nothing new (the cut has not acted on it yet,
//!   "once per round-trip time"), nor does one within half the `Retry-After` of the last cut.
//! - A 429 scoped to one tenant (`Tenant_Application/…`, `Tenant/…`, Exchange's per-tenant
//!   concurrency answer) leaves the fleet's limit alone: that tenant's own request waits out
//!   its `Retry-After`.
//!
//! `x-ms-throttle-scope` is `<Scope>/<Limit>/<ApplicationId>/<TenantId>`, scope one of
//! `Tenant_Application`, `Tenant`, `Application` (learn.microsoft.com/graph/throttling-limits,
//! "Identity and access service limits": "x-ms-throttle-scope … Tenant_Application/ReadWrite/
//! 9f5bb0b2-…/e4a5a1c1-…").

use crate::clock::{MonoTime, SharedClock};
use crate::http::{Response, EXCHANGE_CONCURRENCY_TEXT};
use crate::retry::{parse_retry_after, RetryClass};
use parking_lot::Mutex;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::Notify;

/// After a cut, no other cut for this share of the `Retry-After` that caused it: the fleet's
/// waiting requests come back together when it ends, and one event should not cut twice.
/// (Half, not all: a fan-out model with Graph's app bucket ran 13.6 s at ½, 16.3 s at 1,
/// 17.4 s at 0, best fixed limit 9.4 s; see the fan-out's tests.)
const QUIET: f64 = 0.5;

/// Whom a throttling answer concerns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// One tenant (or the app in one tenant): only that tenant backs off.
    Tenant,
    /// The app across tenants, or not said: the whole fleet backs off.
    App,
}

impl Scope {
    /// Reads `x-ms-throttle-scope`; an absent or unknown value counts as app-wide (the safe side).
    pub fn of_header(v: Option<&str>) -> Scope {
        match v.and_then(|v| v.split('/').next()).map(str::trim) {
            Some(s) if s.eq_ignore_ascii_case("Tenant_Application") || s.eq_ignore_ascii_case("Tenant") => {
                Scope::Tenant
            }
            _ => Scope::App,
        }
    }
}

/// What one answer says about congestion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// The server processed the request (2xx, 3xx, 4xx other than 429).
    Clean,
    /// 429 (or Exchange's concurrency answer), with its scope and `Retry-After`.
    Throttled { scope: Scope, after: Option<Duration> },
    /// 503: the service is overloaded or down.
    Unavailable { after: Option<Duration> },
    /// Anything else (500, 502, 504, broken connections): says nothing about our pace.
    Neutral,
}

impl Signal {
    /// The signal of a response; `status` is the status the retry classifier judged (an
    /// Exchange concurrency answer is a 429).
    pub fn of(status: u16, r: &Response, now: SystemTime) -> Signal {
        let after = r.header("retry-after").and_then(|v| parse_retry_after(v, now));
        match status {
            429 if r.body.starts_with(EXCHANGE_CONCURRENCY_TEXT.as_bytes()) => Signal::Throttled {
                scope: Scope::Tenant,
                after,
            },
            429 => Signal::Throttled {
                scope: Scope::of_header(r.header("x-ms-throttle-scope")),
                after,
            },
            503 => Signal::Unavailable { after },
            s if s < 500 => Signal::Clean,
            _ => Signal::Neutral,
        }
    }
}

/// How the limit starts and where it stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdaptiveConfig {
    /// The ceiling (`--concurrency`): never more tenants than this at once.
    pub max: usize,
    /// Where the limit starts.
    pub initial: usize,
    /// False: the limit stays at `max` whatever the answers (`--fixed-concurrency`).
    pub adaptive: bool,
}

impl AdaptiveConfig {
    /// Adaptive up to `max`, starting at a quarter of it (at least 1, at most 16).
    pub fn up_to(max: usize) -> AdaptiveConfig {
        let max = max.max(1);
        AdaptiveConfig {
            max,
            initial: (max / 4).clamp(1, 16).min(max),
            adaptive: true,
        }
    }

    /// Exactly `n` at once.
    pub fn fixed(n: usize) -> AdaptiveConfig {
        AdaptiveConfig {
            max: n.max(1),
            initial: n.max(1),
            adaptive: false,
        }
    }
}

/// What the limiter did in a run.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AdaptiveStats {
    /// The limit now.
    pub limit: usize,
    /// The lowest limit of the run.
    pub min_limit: usize,
    /// Most tenants in flight at once.
    pub peak_in_flight: usize,
    /// Congestion events (cuts).
    pub cuts: u32,
    /// 429s scoped to one tenant (no cut).
    pub tenant_throttles: u64,
    /// 429s app-wide or unscoped, and 503s (cut or part of an event already cut for).
    pub fleet_throttles: u64,
}

#[derive(Debug)]
struct State {
    limit: f64,
    in_flight: usize,
    /// When the last cut happened: answers to requests sent before it are not a new event.
    last_cut: Option<MonoTime>,
    /// No cut before this (the last cut's `Retry-After`).
    quiet_until: MonoTime,
    /// Below this, slow start (TCP's `ssthresh`).
    threshold: f64,
    /// After a cut, congestion avoidance grows the limit by at most one per this much time
    /// (the quiet time of the last cut's `Retry-After`), and last grew it then.
    growth_gap: Duration,
    last_growth: MonoTime,
    stats: AdaptiveStats,
}

/// The fleet's concurrency limit: a semaphore whose size follows the answers (AIMD).
#[derive(Debug)]
pub struct AdaptiveLimit {
    config: AdaptiveConfig,
    clock: SharedClock,
    state: Mutex<State>,
    changed: Notify,
}

/// A tenant's slot; dropping it frees the slot.
#[derive(Debug)]
pub struct Slot {
    limit: Arc<AdaptiveLimit>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.limit.state.lock().in_flight -= 1;
        // One slot freed: one waiter to wake (waking them all made every release cost a poll
        // of every tenant waiting, quadratic in a fleet of thousands). A woken waiter that was
        // dropped meanwhile passes the wake-up on (tokio's `Notified`).
        self.limit.changed.notify_one();
    }
}

impl AdaptiveLimit {
    pub fn new(config: AdaptiveConfig, clock: SharedClock) -> Arc<AdaptiveLimit> {
        let initial = config.initial.clamp(1, config.max.max(1));
        Arc::new(AdaptiveLimit {
            config,
            clock,
            state: Mutex::new(State {
                limit: initial as f64,
                in_flight: 0,
                last_cut: None,
                quiet_until: MonoTime::ZERO,
                // Slow start up to the ceiling until the first congestion event (TCP's initial
                // `ssthresh` is "arbitrarily high", RFC 5681 §3.1).
                threshold: config.max.max(1) as f64,
                growth_gap: Duration::ZERO,
                last_growth: MonoTime::ZERO,
                stats: AdaptiveStats {
                    limit: initial,
                    min_limit: initial,
                    ..AdaptiveStats::default()
                },
            }),
            changed: Notify::new(),
        })
    }

    pub fn config(&self) -> AdaptiveConfig {
        self.config
    }

    /// The number of tenants allowed in flight now.
    pub fn limit(&self) -> usize {
        self.state.lock().limit as usize
    }

    pub fn stats(&self) -> AdaptiveStats {
        let s = self.state.lock();
        AdaptiveStats {
            limit: s.limit as usize,
            ..s.stats
        }
    }

    /// Waits for a slot under the current limit.
    pub async fn acquire(self: &Arc<Self>) -> Slot {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut s = self.state.lock();
                if s.in_flight < s.limit as usize {
                    s.in_flight += 1;
                    s.stats.peak_in_flight = s.stats.peak_in_flight.max(s.in_flight);
                    return Slot { limit: self.clone() };
                }
            }
            notified.await;
        }
    }

    /// Takes one answer into account: `sent_at` is when its request was sent (this limiter's
    /// clock).
    pub fn on_answer(&self, sent_at: MonoTime, signal: Signal) {
        let now = self.clock.now_mono();
        let grew = {
            let mut s = self.state.lock();
            let max = self.config.max as f64;
            match signal {
                Signal::Neutral => false,
                Signal::Throttled {
                    scope: Scope::Tenant, ..
                } => {
                    s.stats.tenant_throttles += 1;
                    false
                }
                Signal::Clean => {
                    if !self.config.adaptive || s.limit >= max {
                        false
                    } else {
                        let before = s.limit as usize;
                        let step = if s.limit < s.threshold { 1.0 } else { 1.0 / s.limit };
                        let next = (s.limit + step).min(max);
                        // Congestion avoidance after a cut: one more at most per quiet time
                        // (half the cut's `Retry-After`). Answers to 30 ms requests otherwise
                        // undid a cut long before the app's budget refilled, and with every
                        // lane taken as soon as the limit allowed, the fleet over-ran it
                        // again at once (a cut every second, twice the 429s).
                        let one_more = next as usize > before;
                        let avoiding = s.limit >= s.threshold;
                        if one_more && avoiding && now < s.last_growth + s.growth_gap {
                            false
                        } else {
                            if one_more && avoiding {
                                s.last_growth = now;
                            }
                            s.limit = next;
                            one_more
                        }
                    }
                }
                Signal::Throttled {
                    scope: Scope::App,
                    after,
                }
                | Signal::Unavailable { after } => {
                    s.stats.fleet_throttles += 1;
                    let new_event = s.last_cut.is_none_or(|cut| sent_at >= cut) && now >= s.quiet_until;
                    if self.config.adaptive && new_event {
                        s.limit = (s.limit / 2.0).floor().max(1.0);
                        s.threshold = s.limit;
                        s.last_cut = Some(now);
                        let quiet = after.unwrap_or(Duration::ZERO).mul_f64(QUIET);
                        s.quiet_until = now + quiet;
                        s.growth_gap = quiet;
                        s.last_growth = now;
                        s.stats.cuts += 1;
                        s.stats.min_limit = s.stats.min_limit.min(s.limit as usize);
                        tracing::debug!(limit = s.limit as usize, ?signal, "congestion: tenants in flight cut");
                    }
                    false
                }
            }
        };
        if grew {
            // One more slot: one more waiter may start.
            self.changed.notify_one();
        }
    }

    /// True when this limiter paces the fleet on throttling (adaptive), so a throttled retry
    /// the server gave a `Retry-After` for need not draw on the retry budget.
    pub fn paces(&self) -> bool {
        self.config.adaptive
    }
}

tokio::task_local! {
    static CURRENT: Arc<AdaptiveLimit>;
}

/// Runs `f` with `limit` as the limiter its requests report to.
pub async fn scoped<F: Future>(limit: Arc<AdaptiveLimit>, f: F) -> F::Output {
    CURRENT.scope(limit, f).await
}

/// Reports one answer to the current task's limiter, if any.
pub fn report(sent_at: MonoTime, signal: Signal) {
    let _ = CURRENT.try_with(|l| l.on_answer(sent_at, signal));
}

/// True when an adaptive limiter paces the current task (see [`AdaptiveLimit::paces`]).
pub fn paced() -> bool {
    CURRENT.try_with(|l| l.paces()).unwrap_or(false)
}

/// Whether a retry of this class is free of the retry budget: a 429 with `Retry-After` while an
/// adaptive limiter paces the fleet (the server said when to come back, and the limiter slows
/// the fleet down). Everything else (503s, 5xx, broken connections, a 429 without
/// `Retry-After`, any retry outside an adaptive fan-out) draws on the budget as before: the
/// budget is for true outages.
pub fn free_retry(class: RetryClass, after: Option<Duration>) -> bool {
    class == RetryClass::Throttled && after.is_some() && paced()
}

/// Attempts a request may make: `max_throttled` for a paced 429 with `Retry-After` (each wait is
/// the server's; the policy's total time still bounds them), `max_attempts` otherwise.
pub fn attempts_allowed(max_attempts: u32, max_throttled: u32, class: RetryClass, after: Option<Duration>) -> u32 {
    if free_retry(class, after) {
        max_attempts.max(max_throttled)
    } else {
        max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};
    use bytes::Bytes;
    use http::{HeaderMap, HeaderValue, StatusCode};

    fn clock() -> ManualClock {
        ManualClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_028_800))
    }

    fn limiter(c: &ManualClock, max: usize, initial: usize) -> Arc<AdaptiveLimit> {
        AdaptiveLimit::new(
            AdaptiveConfig {
                max,
                initial,
                adaptive: true,
            },
            c.shared(),
        )
    }

    const APP: Signal = Signal::Throttled {
        scope: Scope::App,
        after: Some(Duration::from_secs(1)),
    };

    fn answer(status: u16, headers: &[(&'static str, &str)], body: &str) -> Response {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        Response {
            status: StatusCode::from_u16(status).unwrap(),
            headers: h,
            body: Bytes::from(body.to_owned()),
            retries: 0,
            retries_exhausted: false,
        }
    }

    /// learn.microsoft.com/graph/throttling-limits: `x-ms-throttle-scope` values.
    #[test]
    fn the_throttle_scope_header_tells_one_tenant_from_the_whole_app() {
        let t = "9f5bb0b2-0000-0000-0000-000000000001/e4a5a1c1-0000-0000-0000-000000000002";
        assert_eq!(
            Scope::of_header(Some(&format!("Tenant_Application/ReadWrite/{t}"))),
            Scope::Tenant
        );
        assert_eq!(Scope::of_header(Some(&format!("Tenant/Read/{t}"))), Scope::Tenant);
        assert_eq!(Scope::of_header(Some(&format!("Application/Read/{t}"))), Scope::App);
        assert_eq!(Scope::of_header(None), Scope::App, "unsaid: the safe side");
        assert_eq!(Scope::of_header(Some("garbage")), Scope::App);
        let now = SystemTime::UNIX_EPOCH;
        let r = answer(
            429,
            &[
                ("retry-after", "2"),
                ("x-ms-throttle-scope", "Tenant_Application/Read/a/b"),
            ],
            "{}",
        );
        assert_eq!(
            Signal::of(429, &r, now),
            Signal::Throttled {
                scope: Scope::Tenant,
                after: Some(Duration::from_secs(2))
            }
        );
        let exo = answer(400, &[], EXCHANGE_CONCURRENCY_TEXT);
        assert!(matches!(
            Signal::of(429, &exo, now),
            Signal::Throttled {
                scope: Scope::Tenant,
                ..
            }
        ));
        assert_eq!(
            Signal::of(503, &answer(503, &[], ""), now),
            Signal::Unavailable { after: None }
        );
        assert_eq!(Signal::of(404, &answer(404, &[], ""), now), Signal::Clean);
        assert_eq!(Signal::of(500, &answer(500, &[], ""), now), Signal::Neutral);
    }

    #[test]
    fn clean_answers_grow_the_limit_fast_then_by_one_per_round_never_past_the_ceiling() {
        let c = clock();
        let l = limiter(&c, 40, 4);
        let t0 = c.now_mono();
        for _ in 0..4 {
            l.on_answer(t0, Signal::Clean);
        }
        assert_eq!(l.limit(), 8, "slow start: one more per clean answer");
        for _ in 0..32 {
            l.on_answer(t0, Signal::Clean);
        }
        assert_eq!(l.limit(), 40, "until the first congestion event, up to the ceiling");
        let l = limiter(&c, 40, 4);
        for _ in 0..4 {
            l.on_answer(t0, Signal::Clean);
        }
        l.on_answer(t0, APP);
        assert_eq!(l.limit(), 4, "halved");
        c.advance(Duration::from_secs(2));
        // Congestion avoidance: about `limit` clean answers for one more.
        for _ in 0..4 {
            l.on_answer(c.now_mono(), Signal::Clean);
        }
        assert_eq!(l.limit(), 4, "1/4 + 1/4.25 + … < 1");
        l.on_answer(c.now_mono(), Signal::Clean);
        assert_eq!(l.limit(), 5);
        // After a cut for a 1 s `Retry-After`: one more at most per half second.
        for _ in 0..100 {
            l.on_answer(c.now_mono(), Signal::Clean);
        }
        assert_eq!(l.limit(), 5, "not within half a second of the last growth");
        c.advance(Duration::from_millis(500));
        for _ in 0..10 {
            l.on_answer(c.now_mono(), Signal::Clean);
        }
        assert_eq!(l.limit(), 6);
        for _ in 0..200 {
            c.advance(Duration::from_millis(500));
            for _ in 0..50 {
                l.on_answer(c.now_mono(), Signal::Clean);
            }
        }
        assert_eq!(l.limit(), 40, "the ceiling (--concurrency) holds");
    }

    #[test]
    fn a_burst_of_429s_is_one_congestion_event_and_one_cut() {
        let c = clock();
        let l = limiter(&c, 64, 32);
        let sent = c.now_mono();
        c.advance(Duration::from_millis(100));
        // 32 requests in flight all come back 429 at once: one event.
        for _ in 0..32 {
            l.on_answer(sent, APP);
        }
        assert_eq!(l.limit(), 16);
        assert_eq!(l.stats().cuts, 1);
        assert_eq!(l.stats().fleet_throttles, 32);
        // After the Retry-After, a request sent before the cut still says nothing new.
        c.advance(Duration::from_secs(2));
        l.on_answer(sent, APP);
        assert_eq!(l.limit(), 16, "sent before the cut");
        // Sent after the cut but answered within the cut's Retry-After: same event.
        let c2 = clock();
        let l2 = limiter(&c2, 64, 32);
        c2.advance(Duration::from_millis(100));
        l2.on_answer(MonoTime::ZERO, APP);
        c2.advance(Duration::from_millis(300));
        l2.on_answer(c2.now_mono(), APP);
        assert_eq!(l2.limit(), 16, "within half the Retry-After of the last cut");
        // A request sent after the cut and answered after its Retry-After: a new event.
        let after_cut = c.now_mono();
        c.advance(Duration::from_millis(50));
        l.on_answer(after_cut, Signal::Unavailable { after: None });
        assert_eq!(l.limit(), 8, "503 is congestion too");
        assert_eq!(l.stats().cuts, 2);
        assert_eq!(l.stats().min_limit, 8);
    }

    #[test]
    fn the_limit_never_goes_below_one() {
        let c = clock();
        let l = limiter(&c, 8, 2);
        for _ in 0..10 {
            c.advance(Duration::from_secs(5));
            l.on_answer(c.now_mono(), Signal::Unavailable { after: None });
        }
        assert_eq!(l.limit(), 1);
        assert_eq!(l.stats().min_limit, 1);
    }

    #[test]
    fn a_tenant_scoped_429_leaves_the_fleet_limit_alone() {
        let c = clock();
        let l = limiter(&c, 64, 16);
        for _ in 0..100 {
            c.advance(Duration::from_secs(2));
            l.on_answer(
                c.now_mono(),
                Signal::Throttled {
                    scope: Scope::Tenant,
                    after: Some(Duration::from_secs(1)),
                },
            );
        }
        assert_eq!(l.limit(), 16);
        assert_eq!(l.stats().cuts, 0);
        assert_eq!(l.stats().tenant_throttles, 100);
    }

    #[test]
    fn a_fixed_limit_does_not_move() {
        let c = clock();
        let l = AdaptiveLimit::new(AdaptiveConfig::fixed(500), c.shared());
        l.on_answer(c.now_mono(), APP);
        l.on_answer(c.now_mono(), Signal::Clean);
        assert_eq!(l.limit(), 500);
        assert!(!l.paces());
        assert_eq!(AdaptiveConfig::up_to(64).initial, 16);
        assert_eq!(AdaptiveConfig::up_to(8).initial, 2);
        assert_eq!(AdaptiveConfig::up_to(1).initial, 1);
        assert_eq!(AdaptiveConfig::up_to(1000).initial, 16);
    }

    #[tokio::test]
    async fn slots_follow_the_limit_and_a_cut_holds_new_tenants_back() {
        let c = clock();
        let l = limiter(&c, 8, 2);
        let a = l.acquire().await;
        let _b = l.acquire().await;
        let third = tokio::spawn({
            let l = l.clone();
            async move { l.acquire().await }
        });
        tokio::task::yield_now().await;
        assert!(!third.is_finished(), "the limit is 2");
        // A clean answer grows the limit: the waiting tenant starts without anyone leaving.
        l.on_answer(c.now_mono(), Signal::Clean);
        let _c = tokio::time::timeout(Duration::from_secs(5), third)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(l.stats().peak_in_flight, 3);
        // Cut to 1: with 3 in flight no one new starts until two have left.
        c.advance(Duration::from_secs(1));
        l.on_answer(c.now_mono(), APP);
        assert_eq!(l.limit(), 1);
        drop(a);
        let fourth = tokio::spawn({
            let l = l.clone();
            async move { l.acquire().await }
        });
        tokio::task::yield_now().await;
        assert!(!fourth.is_finished());
    }

    #[tokio::test]
    async fn the_budget_waiver_applies_only_to_paced_429s_with_retry_after() {
        let s = Some(Duration::from_secs(1));
        assert!(
            !free_retry(RetryClass::Throttled, s),
            "outside a fan-out: the budget as before"
        );
        let c = clock();
        let adaptive = limiter(&c, 8, 2);
        scoped(adaptive, async {
            assert!(free_retry(RetryClass::Throttled, s));
            assert!(!free_retry(RetryClass::Throttled, None), "no Retry-After: budget");
            assert!(!free_retry(RetryClass::Transient, s), "503: budget (true outages)");
            assert!(!free_retry(RetryClass::Connection, None));
            assert_eq!(attempts_allowed(8, 32, RetryClass::Throttled, s), 32);
            assert_eq!(attempts_allowed(8, 32, RetryClass::Transient, s), 8);
        })
        .await;
        let fixed = AdaptiveLimit::new(AdaptiveConfig::fixed(8), c.shared());
        scoped(fixed, async {
            assert!(!free_retry(RetryClass::Throttled, s), "a fixed limit does not pace");
            assert_eq!(attempts_allowed(8, 32, RetryClass::Throttled, s), 8);
        })
        .await;
    }
}
