//! Injected time and randomness (smithy-rs `TimeSource`/`AsyncSleep` style).
//!
//! Library code never reads the wall clock, the monotonic clock or sleeps directly: it asks a
//! [`Clock`]. [`SystemClock`] is the one place that calls `SystemTime::now`, `Instant::now` and
//! `tokio::time::sleep` (clippy's `disallowed-methods` keeps it so). Tests use [`ManualClock`]:
//! its time moves only when the test calls [`ManualClock::advance`], and a sleep ends when the
//! clock has been advanced past its deadline — so a 30 s `Retry-After` costs no real time and
//! the test decides exactly when each waiting request goes on.
//!
//! Chosen over tokio's paused time because the tests talk to a real server over TCP: paused
//! time auto-advances whenever the runtime is idle, which would also fire the HTTP client's
//! timeouts while a request is merely waiting for the network.

use parking_lot::Mutex;
use std::fmt;
use std::future::Future;
use std::ops::{Add, Sub};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::watch;

/// A point on a clock's monotonic scale: time since the clock's own origin. Comparable only
/// with stamps of the same clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MonoTime(Duration);

impl MonoTime {
    /// The clock's origin.
    pub const ZERO: MonoTime = MonoTime(Duration::ZERO);

    /// Time from `earlier` to `self`, zero when `earlier` is later.
    pub fn saturating_since(self, earlier: MonoTime) -> Duration {
        self.0.saturating_sub(earlier.0)
    }

    /// Time since the clock's origin.
    pub fn since_origin(self) -> Duration {
        self.0
    }
}

impl Add<Duration> for MonoTime {
    type Output = MonoTime;
    fn add(self, d: Duration) -> MonoTime {
        MonoTime(self.0 + d)
    }
}

impl Sub<MonoTime> for MonoTime {
    type Output = Duration;
    fn sub(self, rhs: MonoTime) -> Duration {
        self.saturating_since(rhs)
    }
}

/// A future that completes after a sleep.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The source of time for the transport, the token cache and the fan-out.
pub trait Clock: fmt::Debug + Send + Sync {
    /// Wall-clock time (for `Retry-After` dates, JWT `nbf`/`exp`).
    fn now_system(&self) -> SystemTime;
    /// Monotonic time (for expiry, durations, memories of failures).
    fn now_mono(&self) -> MonoTime;
    /// Completes after `d` on this clock.
    fn sleep(&self, d: Duration) -> Sleep;
    /// Time elapsed since `since` (a stamp of this clock).
    fn elapsed(&self, since: MonoTime) -> Duration {
        self.now_mono().saturating_since(since)
    }
}

/// A shared clock, as the executor, token provider and fan-out hold it.
pub type SharedClock = Arc<dyn Clock>;

/// The real clock: the only code that reads the system clocks and sleeps on tokio's timer.
#[derive(Debug, Clone)]
pub struct SystemClock {
    origin: std::time::Instant,
}

#[allow(clippy::disallowed_methods)]
impl SystemClock {
    pub fn new() -> SystemClock {
        SystemClock {
            origin: std::time::Instant::now(),
        }
    }

    /// A shared [`SystemClock`].
    pub fn shared() -> SharedClock {
        Arc::new(SystemClock::new())
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

#[allow(clippy::disallowed_methods)]
impl Clock for SystemClock {
    fn now_system(&self) -> SystemTime {
        SystemTime::now()
    }
    fn now_mono(&self) -> MonoTime {
        MonoTime(self.origin.elapsed())
    }
    fn sleep(&self, d: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(d))
    }
}

/// A clock that moves only when told. Sleeps complete once the clock is advanced past their
/// deadline; [`ManualClock::wait_for_sleepers`] lets a test wait until the code under test is
/// asleep (e.g. a retry waiting out a `Retry-After`).
#[derive(Clone)]
pub struct ManualClock {
    inner: Arc<ManualInner>,
}

struct ManualInner {
    start: SystemTime,
    /// Time since the start; sleepers watch it.
    now: watch::Sender<Duration>,
    /// Sleeps waiting now, and sleeps started so far.
    sleepers: watch::Sender<(usize, u64)>,
    /// Every sleep asked for, in order.
    log: Mutex<Vec<Duration>>,
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock")
            .field("elapsed", &*self.inner.now.borrow())
            .finish_non_exhaustive()
    }
}

impl ManualClock {
    /// A clock whose wall time starts at `start`.
    pub fn new(start: SystemTime) -> ManualClock {
        ManualClock {
            inner: Arc::new(ManualInner {
                start,
                now: watch::channel(Duration::ZERO).0,
                sleepers: watch::channel((0, 0)).0,
                log: Mutex::new(Vec::new()),
            }),
        }
    }

    /// A shared handle to this clock, for the executor.
    pub fn shared(&self) -> SharedClock {
        Arc::new(self.clone())
    }

    /// Moves time forward; wakes every sleep whose deadline has passed.
    pub fn advance(&self, d: Duration) {
        self.inner.now.send_modify(|n| *n += d);
    }

    /// Sleeps waiting right now.
    pub fn sleepers(&self) -> usize {
        self.inner.sleepers.borrow().0
    }

    /// Sleeps started since the clock was made.
    pub fn sleeps_started(&self) -> u64 {
        self.inner.sleepers.borrow().1
    }

    /// The durations of every sleep asked for so far, in order.
    pub fn sleep_log(&self) -> Vec<Duration> {
        self.inner.log.lock().clone()
    }

    /// Waits (without real time passing) until at least `n` sleeps are waiting.
    pub async fn wait_for_sleepers(&self, n: usize) {
        let mut rx = self.inner.sleepers.subscribe();
        // The sender lives as long as `self`, so `wait_for` cannot fail.
        let _ = rx.wait_for(|(waiting, _)| *waiting >= n).await;
    }

    /// Waits until `n` sleeps in total have started.
    pub async fn wait_for_sleeps_started(&self, n: u64) {
        let mut rx = self.inner.sleepers.subscribe();
        let _ = rx.wait_for(|(_, started)| *started >= n).await;
    }
}

/// Decrements the waiting count when a sleep ends or is dropped.
struct SleeperGuard(Arc<ManualInner>);

impl Drop for SleeperGuard {
    fn drop(&mut self) {
        self.0.sleepers.send_modify(|s| s.0 -= 1);
    }
}

impl Clock for ManualClock {
    fn now_system(&self) -> SystemTime {
        self.inner.start + *self.inner.now.borrow()
    }
    fn now_mono(&self) -> MonoTime {
        MonoTime(*self.inner.now.borrow())
    }
    fn sleep(&self, d: Duration) -> Sleep {
        let inner = self.inner.clone();
        let deadline = *inner.now.borrow() + d;
        let mut rx = inner.now.subscribe();
        inner.log.lock().push(d);
        inner.sleepers.send_modify(|s| {
            s.0 += 1;
            s.1 += 1;
        });
        let guard = SleeperGuard(inner);
        Box::pin(async move {
            let _guard = guard;
            let _ = rx.wait_for(|now| *now >= deadline).await;
        })
    }
}

/// The source of jitter for backoff: a number in `[0, 1]`.
pub trait Jitter: fmt::Debug + Send + Sync {
    fn unit(&self) -> f64;
}

/// Uniform random jitter (`fastrand`).
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomJitter;

#[allow(clippy::disallowed_methods)]
impl Jitter for RandomJitter {
    fn unit(&self) -> f64 {
        fastrand::f64()
    }
}

/// Always the same value: deterministic backoff in tests (1.0 = the full exponential delay).
#[derive(Debug, Clone, Copy)]
pub struct FixedJitter(pub f64);

impl Jitter for FixedJitter {
    fn unit(&self) -> f64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_028_800)
    }

    #[tokio::test]
    async fn a_manual_sleep_ends_only_when_the_clock_passes_its_deadline() {
        let clock = ManualClock::new(start());
        let c = clock.clone();
        let sleeper = tokio::spawn(async move { c.sleep(Duration::from_secs(30)).await });
        clock.wait_for_sleepers(1).await;
        clock.advance(Duration::from_secs(29));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        assert_eq!(clock.sleepers(), 1);
        clock.advance(Duration::from_secs(1));
        sleeper.await.unwrap();
        assert_eq!(clock.sleepers(), 0);
        assert_eq!(clock.sleeps_started(), 1);
        assert_eq!(clock.sleep_log(), vec![Duration::from_secs(30)]);
        assert_eq!(clock.now_system(), start() + Duration::from_secs(30));
        assert_eq!(clock.now_mono().since_origin(), Duration::from_secs(30));
    }

    #[tokio::test]
    async fn a_zero_sleep_completes_at_once_and_a_dropped_sleep_stops_waiting() {
        let clock = ManualClock::new(start());
        clock.sleep(Duration::ZERO).await;
        let s = clock.sleep(Duration::from_secs(5));
        assert_eq!(clock.sleepers(), 1);
        drop(s);
        assert_eq!(clock.sleepers(), 0);
        assert_eq!(clock.elapsed(MonoTime::ZERO), Duration::ZERO);
    }

    #[test]
    fn mono_time_arithmetic_saturates() {
        let a = MonoTime::ZERO + Duration::from_secs(5);
        let b = a + Duration::from_secs(3);
        assert_eq!(b - a, Duration::from_secs(3));
        assert_eq!(a - b, Duration::ZERO);
    }
}
