//! The simulator's clock: every "now" and every wait of the platform goes through it, so tests
//! and demos can move time (`POST /_sim/clock`) instead of sleeping.
//!
//! A [`Clock`] is a source (the system clock, or a manual one frozen at a start time) plus an
//! offset the control API moves. With the manual source, `sleep` advances the clock and returns
//! at once; with the system source it waits for real.

use parking_lot::Mutex;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug)]
enum Source {
    System,
    Manual(SystemTime),
}

#[derive(Debug)]
struct Inner {
    source: Source,
    /// Signed offset from the source, in nanoseconds.
    offset_ns: Mutex<i128>,
}

/// A cloneable handle on one clock.
#[derive(Clone, Debug)]
pub struct Clock(Arc<Inner>);

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl Clock {
    /// The wall clock (moved only by `advance`/`set`).
    pub fn system() -> Clock {
        Clock::with(Source::System)
    }

    /// A clock frozen at `start`; it moves only by `advance`, `set` and `sleep`.
    pub fn manual(start: SystemTime) -> Clock {
        Clock::with(Source::Manual(start))
    }

    /// A manual clock at `unix` seconds.
    pub fn manual_at(unix: i64) -> Clock {
        Clock::manual(UNIX_EPOCH + Duration::from_secs(unix.max(0) as u64))
    }

    fn with(source: Source) -> Clock {
        Clock(Arc::new(Inner {
            source,
            offset_ns: Mutex::new(0),
        }))
    }

    pub fn is_manual(&self) -> bool {
        matches!(self.0.source, Source::Manual(_))
    }

    #[allow(clippy::disallowed_methods)] // the system clock's one reading site
    fn base(&self) -> SystemTime {
        match self.0.source {
            // The one place the simulator reads the wall clock.
            Source::System => SystemTime::now(),
            Source::Manual(t) => t,
        }
    }

    /// Now, as this clock sees it.
    pub fn now(&self) -> SystemTime {
        let off = *self.0.offset_ns.lock();
        shift(self.base(), off)
    }

    /// Seconds since the Unix epoch (fractional).
    pub fn now_secs_f64(&self) -> f64 {
        let d = self.now().duration_since(UNIX_EPOCH).unwrap_or_default();
        d.as_secs_f64()
    }

    /// Whole seconds since the Unix epoch.
    pub fn now_unix(&self) -> i64 {
        self.now_secs_f64().floor() as i64
    }

    /// Moves the clock forward (or back, for a negative `secs`).
    pub fn advance_secs(&self, secs: f64) {
        *self.0.offset_ns.lock() += (secs * 1e9) as i128;
    }

    pub fn advance(&self, d: Duration) {
        *self.0.offset_ns.lock() += d.as_nanos() as i128;
    }

    /// Sets "now" to `t`.
    pub fn set(&self, t: SystemTime) {
        let base = self.base();
        let diff = match t.duration_since(base) {
            Ok(d) => d.as_nanos() as i128,
            Err(e) => -(e.duration().as_nanos() as i128),
        };
        *self.0.offset_ns.lock() = diff;
    }

    /// Back to the source's own time.
    pub fn reset(&self) {
        *self.0.offset_ns.lock() = 0;
    }

    /// Waits `d`: for real on the system clock; a manual clock moves forward by `d` instead.
    pub async fn sleep(&self, d: Duration) {
        if self.is_manual() {
            self.advance(d);
            tokio::task::yield_now().await;
        } else {
            #[allow(clippy::disallowed_methods)] // the system clock's one sleeping site
            tokio::time::sleep(d).await;
        }
    }
}

fn shift(t: SystemTime, ns: i128) -> SystemTime {
    if ns >= 0 {
        t + Duration::from_nanos(ns.min(u64::MAX as i128) as u64)
    } else {
        t.checked_sub(Duration::from_nanos((-ns).min(u64::MAX as i128) as u64))
            .unwrap_or(UNIX_EPOCH)
    }
}

/// RFC 3339 with seconds and `Z`: `2025-11-25T10:00:00Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let ns = t.duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0) as i128;
    let dt = time::OffsetDateTime::from_unix_timestamp_nanos(ns).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    dt.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Parses an RFC 3339 timestamp.
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let dt = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339).ok()?;
    let ns = dt.unix_timestamp_nanos();
    Some(shift(UNIX_EPOCH, ns))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let c = Clock::manual_at(1_764_028_800);
        assert_eq!(c.now_unix(), 1_764_028_800);
        c.advance_secs(3600.0);
        assert_eq!(c.now_unix(), 1_764_032_400);
        c.set(parse_rfc3339("2025-11-25T00:00:10Z").unwrap());
        assert_eq!(c.now_unix(), 1_764_028_810);
        assert_eq!(rfc3339(c.now()), "2025-11-25T00:00:10Z");
        c.reset();
        assert_eq!(c.now_unix(), 1_764_028_800);
    }

    #[tokio::test]
    async fn sleeping_on_a_manual_clock_advances_it_at_once() {
        let c = Clock::manual_at(100);
        c.sleep(Duration::from_secs(30)).await;
        assert_eq!(c.now_unix(), 130);
    }

    #[test]
    fn the_system_clock_can_be_moved_too() {
        let c = Clock::system();
        let before = c.now_unix();
        c.advance_secs(86_400.0);
        assert!(c.now_unix() >= before + 86_400);
    }
}
