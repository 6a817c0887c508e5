//! Graph-style throttling: token buckets in resource units (RU).
//!
//! Source: learn.microsoft.com/graph/throttling-limits, "Identity and access service limits":
//! per app + tenant pair 3,500 / 5,000 / 8,000 RU per 10 s for tenants of size S (< 50 users),
//! M (50–500) and L (> 500); writes 3,000 per 2 min 30 s; per app across all tenants 150,000 RU
//! per 20 s. Base costs: GET users 2, GET subscribedSkus 3, GET contracts 3, other GET 1,
//! writes 1 RU plus a write; `$select` −1, `$expand` +1, `$top` < 20 −1, minimum 1.

use crate::fleet::Tenant;
use crate::ids::Guid;
use crate::platform::clock::Clock;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct ThrottleConfig {
    pub enabled: bool,
    /// Multiplies every documented limit (tests use small values to reach a limit quickly).
    pub scale: f64,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            enabled: true,
            scale: 1.0,
        }
    }
}

/// Why and for how long a request is throttled.
#[derive(Debug, Clone)]
pub struct Throttled {
    pub retry_after_secs: u64,
    /// `x-ms-throttle-scope`: `<Tenant_Application|Tenant|Application>/<Read|Write|ReadWrite>/<appId>/<tenantId>`.
    pub scope: String,
    /// `x-ms-throttle-information`: `ResourceUnitLimitExceeded` or `WriteLimitExceeded`.
    pub information: &'static str,
}

struct Bucket {
    tokens: f64,
    capacity: f64,
    per_sec: f64,
    /// Clock seconds of the last refill.
    at: f64,
}

impl Bucket {
    fn new(capacity: f64, window_secs: f64, now: f64) -> Bucket {
        Bucket {
            tokens: capacity,
            capacity,
            per_sec: capacity / window_secs,
            at: now,
        }
    }
    fn refill(&mut self, now: f64) {
        let dt = (now - self.at).max(0.0);
        self.tokens = (self.tokens + dt * self.per_sec).min(self.capacity);
        self.at = now;
    }
    /// Seconds until `cost` is available (0 if it is now).
    fn wait_for(&self, cost: f64) -> u64 {
        if self.tokens >= cost {
            0
        } else {
            ((cost - self.tokens) / self.per_sec).ceil().max(1.0) as u64
        }
    }
}

#[derive(Hash, PartialEq, Eq, Clone, Copy)]
enum Key {
    PairRead(Guid, u32),
    PairWrite(Guid, u32),
    App(Guid),
}

pub struct Throttle {
    config: Mutex<ThrottleConfig>,
    buckets: Mutex<HashMap<Key, Bucket>>,
    clock: Clock,
}

/// The RU cost of a Graph identity request (see module docs).
pub fn graph_cost(base: u32, has_select: bool, has_expand: bool, top: Option<u32>) -> u32 {
    let mut c = base as i64;
    if has_select {
        c -= 1;
    }
    if has_expand {
        c += 1;
    }
    if matches!(top, Some(t) if t < 20) {
        c -= 1;
    }
    c.max(1) as u32
}

impl Throttle {
    pub fn new(config: ThrottleConfig, clock: Clock) -> Throttle {
        Throttle {
            config: Mutex::new(config),
            buckets: Mutex::new(HashMap::new()),
            clock,
        }
    }

    pub fn config(&self) -> ThrottleConfig {
        self.config.lock().clone()
    }

    pub fn set_config(&self, c: ThrottleConfig) {
        *self.config.lock() = c;
        self.buckets.lock().clear();
    }

    pub fn reset(&self) {
        self.buckets.lock().clear();
    }

    /// Charges `ru` resource units (and one write when `write`) to the (app, tenant) pair and
    /// to the app's cross-tenant budget; all or nothing.
    pub fn charge(&self, app: Guid, tenant: &Tenant, ru: u32, write: bool) -> Result<(), Throttled> {
        let cfg = self.config();
        if !cfg.enabled {
            return Ok(());
        }
        let s = cfg.scale.max(1e-6);
        let pair_cap = match tenant.size_tier() {
            'S' => 3_500.0,
            'M' => 5_000.0,
            _ => 8_000.0,
        } * s;
        let now = self.clock.now_secs_f64();
        let mut b = self.buckets.lock();
        let cost = ru as f64;
        let pair = Key::PairRead(app, tenant.idx);
        let appk = Key::App(app);
        let wkey = Key::PairWrite(app, tenant.idx);
        b.entry(pair)
            .or_insert_with(|| Bucket::new(pair_cap, 10.0, now))
            .refill(now);
        b.entry(appk)
            .or_insert_with(|| Bucket::new(150_000.0 * s, 20.0, now))
            .refill(now);
        if write {
            b.entry(wkey)
                .or_insert_with(|| Bucket::new((3_000.0 * s).max(1.0), 150.0, now))
                .refill(now);
        }
        let scope = |kind: &str, rw: &str| format!("{kind}/{rw}/{app}/{}", tenant.id);
        let w = b[&pair].wait_for(cost);
        if w > 0 {
            return Err(Throttled {
                retry_after_secs: w,
                scope: scope("Tenant_Application", if write { "ReadWrite" } else { "Read" }),
                information: "ResourceUnitLimitExceeded",
            });
        }
        if write {
            let w = b[&wkey].wait_for(1.0);
            if w > 0 {
                return Err(Throttled {
                    retry_after_secs: w,
                    scope: scope("Tenant_Application", "Write"),
                    information: "WriteLimitExceeded",
                });
            }
        }
        let w = b[&appk].wait_for(cost);
        if w > 0 {
            return Err(Throttled {
                retry_after_secs: w,
                scope: format!(
                    "Application/{}/{app}/{}",
                    if write { "ReadWrite" } else { "Read" },
                    tenant.id
                ),
                information: "ResourceUnitLimitExceeded",
            });
        }
        b.get_mut(&pair).expect("pair bucket").tokens -= cost;
        b.get_mut(&appk).expect("app bucket").tokens -= cost;
        if write {
            b.get_mut(&wkey).expect("write bucket").tokens -= 1.0;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::{Fleet, FleetConfig};
    use crate::platform::clock::Clock;

    #[test]
    fn costs_follow_the_documented_table() {
        assert_eq!(graph_cost(2, false, false, None), 2); // GET users
        assert_eq!(graph_cost(2, true, false, Some(999)), 1); // $select -1
        assert_eq!(graph_cost(3, true, true, Some(5)), 2); // +1 expand, -1 select, -1 top<20
        assert_eq!(graph_cost(1, true, false, Some(1)), 1); // minimum 1
    }

    #[test]
    fn a_burst_over_the_pair_bucket_is_throttled_with_a_retry_after() {
        let mut c = FleetConfig::new(1, 2);
        c.users_per_tenant = Some(10); // size S: 3,500 RU / 10 s
        let f = Fleet::generate(c);
        let t = &f.customers()[0];
        let clock = Clock::manual_at(1_764_028_800);
        let th = Throttle::new(
            ThrottleConfig {
                enabled: true,
                scale: 0.01,
            },
            clock.clone(),
        ); // 35 RU / 10 s: 3.5 RU/s
        let app = Guid::from_parts(&[9]);
        let mut ok = 0;
        let err = loop {
            match th.charge(app, t, 2, false) {
                Ok(()) => ok += 1,
                Err(e) => break e,
            }
        };
        // 35 RU at 2 RU a request: 17 pass, 1 RU is left; 1 more RU comes in 1/3.5 s.
        assert_eq!(ok, 17);
        assert_eq!(err.retry_after_secs, 1);
        assert!(err.scope.starts_with("Tenant_Application/Read/"));
        // Another tenant has its own pair bucket.
        assert!(th.charge(app, &f.customers()[1], 2, false).is_ok());
        // Not a moment of refill yet: still throttled.
        assert!(th.charge(app, t, 2, false).is_err());
        // After Retry-After, 1 + 3.5 RU: two requests pass, the third waits again.
        clock.advance_secs(err.retry_after_secs as f64);
        assert!(th.charge(app, t, 2, false).is_ok());
        assert!(th.charge(app, t, 2, false).is_ok());
        assert!(th.charge(app, t, 2, false).is_err());
        // A full window refills the bucket, never beyond capacity.
        clock.advance_secs(100.0);
        let again = (0..40).take_while(|_| th.charge(app, t, 2, false).is_ok()).count();
        assert_eq!(again, 17);
    }
}
