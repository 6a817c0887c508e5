//! The one retry classifier, `Retry-After` parsing, backoff and the global retry budget.
//!
//! What is retried (design §2 "Transport"; Graph: learn.microsoft.com/graph/throttling and
//! learn.microsoft.com/graph/errors):
//! - 429: always (the request was not processed); wait `Retry-After`, else back off.
//! - 503, 504: wait `Retry-After` when present, else back off; idempotent requests only.
//! - 500, 502, 408: back off; idempotent requests only.
//! - connection failed before sending: always; reset/timeout mid-request: idempotent only.
//! - anything else (4xx): never.

use std::time::{Duration, SystemTime};

/// What happened to one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt<'a> {
    /// The server answered with this status and (maybe) a `Retry-After` header value.
    Status(u16, Option<&'a str>),
    /// No connection could be made: the request never left.
    ConnectFailed,
    /// The connection broke or timed out after the request was sent.
    Broken,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryClass {
    Throttled,
    Transient,
    Connection,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Done,
    /// Retry; `after` is the server's `Retry-After` when it gave one.
    Retry {
        class: RetryClass,
        after: Option<Duration>,
    },
}

/// Classifies one attempt. `idempotent` is true for GET/HEAD and for writes the caller has
/// made safe to repeat.
pub fn classify(attempt: Attempt<'_>, idempotent: bool, now: SystemTime) -> Decision {
    let retry = |class, after| Decision::Retry { class, after };
    match attempt {
        Attempt::Status(429, ra) => retry(RetryClass::Throttled, ra.and_then(|v| parse_retry_after(v, now))),
        Attempt::Status(503 | 504, ra) if idempotent => {
            retry(RetryClass::Transient, ra.and_then(|v| parse_retry_after(v, now)))
        }
        Attempt::Status(500 | 502 | 408, _) if idempotent => retry(RetryClass::Transient, None),
        Attempt::Status(..) => Decision::Done,
        Attempt::ConnectFailed => retry(RetryClass::Connection, None),
        Attempt::Broken if idempotent => retry(RetryClass::Connection, None),
        Attempt::Broken => Decision::Done,
    }
}

/// `Retry-After` as delay-seconds (integer or, as Exchange sends, fractional) or an HTTP date
/// (RFC 9110 §10.2.3). A date in the past means "now". Unparseable → `None`.
pub fn parse_retry_after(v: &str, now: SystemTime) -> Option<Duration> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Exponential backoff with full jitter: a random delay in `[0, min(cap, base·2^attempt)]`,
/// never below `floor`.
#[derive(Clone, Debug)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
    pub floor: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(400),
            cap: Duration::from_secs(30),
            floor: Duration::from_millis(50),
        }
    }
}

impl Backoff {
    pub fn delay(&self, attempt: u32, rand01: f64) -> Duration {
        let exp = self.base.as_secs_f64() * 2f64.powi(attempt.min(20) as i32);
        let max = exp.min(self.cap.as_secs_f64());
        Duration::from_secs_f64((max * rand01.clamp(0.0, 1.0)).max(self.floor.as_secs_f64()))
    }
}

/// A global retry budget (a token bucket shared by every request of a run, as smithy-rs and
/// Finagle do): each retry withdraws, each success deposits a little. When a storm of failures
/// empties it, further retries are refused and requests fail fast instead of piling on.
pub struct RetryBudget {
    state: parking_lot::Mutex<f64>,
    capacity: f64,
    retry_cost: f64,
    throttle_cost: f64,
    success_refund: f64,
}

impl RetryBudget {
    pub fn new(capacity: f64) -> RetryBudget {
        RetryBudget {
            state: parking_lot::Mutex::new(capacity),
            capacity,
            retry_cost: 5.0,
            throttle_cost: 1.0,
            success_refund: 1.0,
        }
    }

    /// Takes the cost of one retry; false when the budget is spent. Throttling is cheap (the
    /// server told us when to come back); transient errors and broken connections are not.
    pub fn try_withdraw(&self, class: RetryClass) -> bool {
        let cost = match class {
            RetryClass::Throttled => self.throttle_cost,
            _ => self.retry_cost,
        };
        let mut s = self.state.lock();
        if *s >= cost {
            *s -= cost;
            true
        } else {
            false
        }
    }

    pub fn deposit_success(&self) {
        let mut s = self.state.lock();
        *s = (*s + self.success_refund).min(self.capacity);
    }

    pub fn available(&self) -> f64 {
        *self.state.lock()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Attempt::*;
    use RetryClass::*;

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_028_800)
    }

    /// The table of what is retried. Columns: attempt, idempotent, expected decision.
    #[test]
    fn retry_classifier_table() {
        let s = |n| Some(Duration::from_secs(n));
        let cases: Vec<(Attempt, bool, Decision)> = vec![
            (Status(200, None), true, Decision::Done),
            (Status(201, None), false, Decision::Done),
            (Status(400, None), true, Decision::Done),
            (Status(401, None), true, Decision::Done),
            (Status(403, None), true, Decision::Done),
            (Status(404, None), true, Decision::Done),
            (
                Status(429, Some("7")),
                true,
                Decision::Retry {
                    class: Throttled,
                    after: s(7),
                },
            ),
            (
                Status(429, Some("7")),
                false,
                Decision::Retry {
                    class: Throttled,
                    after: s(7),
                },
            ),
            (
                Status(429, None),
                true,
                Decision::Retry {
                    class: Throttled,
                    after: None,
                },
            ),
            // An HTTP date 3 s after the fixed `now()` (2025-11-25T00:00:00Z).
            (
                Status(429, Some("Tue, 25 Nov 2025 00:00:03 GMT")),
                true,
                Decision::Retry {
                    class: Throttled,
                    after: s(3),
                },
            ),
            // A date already past means "now".
            (
                Status(429, Some("Mon, 24 Nov 2025 23:59:00 GMT")),
                true,
                Decision::Retry {
                    class: Throttled,
                    after: s(0),
                },
            ),
            (
                Status(503, Some("2")),
                true,
                Decision::Retry {
                    class: Transient,
                    after: s(2),
                },
            ),
            (Status(503, Some("2")), false, Decision::Done),
            (
                Status(504, None),
                true,
                Decision::Retry {
                    class: Transient,
                    after: None,
                },
            ),
            (
                Status(500, None),
                true,
                Decision::Retry {
                    class: Transient,
                    after: None,
                },
            ),
            (Status(500, None), false, Decision::Done),
            (
                Status(502, None),
                true,
                Decision::Retry {
                    class: Transient,
                    after: None,
                },
            ),
            (Status(501, None), true, Decision::Done),
            (
                Status(408, None),
                true,
                Decision::Retry {
                    class: Transient,
                    after: None,
                },
            ),
            (
                ConnectFailed,
                false,
                Decision::Retry {
                    class: Connection,
                    after: None,
                },
            ),
            (
                Broken,
                true,
                Decision::Retry {
                    class: Connection,
                    after: None,
                },
            ),
            (Broken, false, Decision::Done),
        ];
        for (attempt, idem, want) in cases {
            let got = classify(attempt, idem, now());
            assert_eq!(got, want, "{attempt:?} idempotent={idem}");
        }
    }

    /// Every status 100..=599, idempotent or not, without `Retry-After`: one table, compared
    /// whole. Retried: 429 always; 408, 500, 502, 503, 504 when idempotent; nothing else.
    #[test]
    fn every_status_times_idempotency_classifies_as_documented() {
        let mut got = vec![];
        let mut want = vec![];
        for status in 100u16..=599 {
            for idem in [false, true] {
                got.push((status, idem, classify(Status(status, None), idem, now())));
                let class = match status {
                    429 => Some(Throttled),
                    408 | 500 | 502 | 503 | 504 if idem => Some(Transient),
                    _ => None,
                };
                let d = class.map_or(Decision::Done, |class| Decision::Retry { class, after: None });
                want.push((status, idem, d));
            }
        }
        assert_eq!(got.len(), 1000);
        let retried: Vec<_> = got
            .iter()
            .filter(|g| g.2 != Decision::Done)
            .map(|g| (g.0, g.1))
            .collect();
        assert_eq!(
            retried,
            vec![
                (408, true),
                (429, false),
                (429, true),
                (500, true),
                (502, true),
                (503, true),
                (504, true)
            ]
        );
        assert_eq!(got, want);
    }

    #[test]
    fn retry_after_seconds_fractions_dates_and_garbage() {
        let n = now();
        assert_eq!(parse_retry_after("120", n), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0 ", n), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("1.5", n), Some(Duration::from_millis(1500)));
        let date = httpdate::fmt_http_date(n + Duration::from_secs(30));
        assert_eq!(parse_retry_after(&date, n), Some(Duration::from_secs(30)));
        let past = httpdate::fmt_http_date(n - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&past, n), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("", n), None);
        assert_eq!(parse_retry_after("-3", n), None);
        assert_eq!(parse_retry_after("soon", n), None);
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let b = Backoff::default();
        assert_eq!(b.delay(0, 1.0), Duration::from_millis(400));
        assert_eq!(b.delay(3, 1.0), Duration::from_millis(3200));
        assert_eq!(b.delay(30, 1.0), Duration::from_secs(30));
        assert_eq!(b.delay(3, 0.0), Duration::from_millis(50));
        assert!(b.delay(3, 0.5) < b.delay(3, 1.0));
    }

    #[test]
    fn retry_budget_stops_a_storm_and_refills_on_success() {
        let b = RetryBudget::new(20.0);
        let mut granted = 0;
        while b.try_withdraw(Transient) {
            granted += 1;
        }
        assert_eq!(granted, 4);
        for _ in 0..5 {
            b.deposit_success();
        }
        assert!(b.try_withdraw(Transient));
        assert!(!b.try_withdraw(Transient));
        assert!(!b.try_withdraw(Throttled));
        // Throttling, where the server says when to come back, costs less than a failure.
        let t = RetryBudget::new(20.0);
        let mut throttled = 0;
        while t.try_withdraw(Throttled) {
            throttled += 1;
        }
        assert_eq!(throttled, 20);
    }
}
