//! The usage reports' own quota (learn.microsoft.com/graph/throttling-limits, "Microsoft 365
//! usage reports"; contract microsoft-api-contracts.md §2.3): CSV reports allow **14 requests
//! per 10 minutes per app per tenant, per report API**, and **40 per 10 minutes per tenant**
//! across apps. Sliding windows on the simulator clock. Only report calls are charged, not the
//! downloads.
//!
//! On while Graph throttling is on (`SimConfig.throttle.enabled`, `/_sim/throttle`), unless the
//! control API forces it on or off (`POST /_sim/reports {"quota_enabled": true|false|null}`).

use crate::ids::Guid;
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};

pub const WINDOW_SECS: f64 = 600.0;
pub const PER_APP_REPORT: usize = 14;
pub const PER_TENANT: usize = 40;

#[derive(Hash, PartialEq, Eq, Clone)]
enum Key {
    AppReport(Guid, u32, &'static str),
    Tenant(u32),
}

#[derive(Default)]
pub struct Quota {
    windows: Mutex<HashMap<Key, VecDeque<f64>>>,
    /// `None`: follow Graph throttling; `Some(x)`: forced.
    pub forced: Mutex<Option<bool>>,
}

impl Quota {
    pub fn reset(&self) {
        self.windows.lock().clear();
        *self.forced.lock() = None;
    }

    pub fn enabled(&self, throttling: bool) -> bool {
        self.forced.lock().unwrap_or(throttling)
    }

    /// Charges one report request at `now`; `Err(retry_after_secs)` when a window is full.
    pub fn charge(&self, app: Guid, tenant: u32, report: &'static str, now: f64) -> Result<(), u64> {
        let mut w = self.windows.lock();
        // Bounded memory: forget windows whose requests all left.
        if w.len() > 50_000 {
            w.retain(|_, q| q.back().is_some_and(|&t| t > now - WINDOW_SECS));
        }
        let keys = [
            (Key::AppReport(app, tenant, report), PER_APP_REPORT),
            (Key::Tenant(tenant), PER_TENANT),
        ];
        let mut wait = 0.0f64;
        for (k, limit) in &keys {
            let q = w.entry(k.clone()).or_default();
            while q.front().is_some_and(|&t| t <= now - WINDOW_SECS) {
                q.pop_front();
            }
            if q.len() >= *limit {
                wait = wait.max(q[q.len() - limit] + WINDOW_SECS - now);
            }
        }
        if wait > 0.0 {
            return Err(wait.ceil().max(1.0) as u64);
        }
        for (k, _) in keys {
            w.get_mut(&k).expect("window").push_back(now);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fourteen_per_report_then_a_retry_after_until_the_oldest_leaves() {
        let q = Quota::default();
        let app = Guid::from_parts(&[1]);
        for i in 0..14 {
            assert!(q.charge(app, 1, "getA", i as f64).is_ok());
        }
        assert_eq!(q.charge(app, 1, "getA", 20.0), Err(580));
        // Another report has its own 14; another tenant its own 40.
        assert!(q.charge(app, 1, "getB", 20.0).is_ok());
        assert!(q.charge(app, 2, "getA", 20.0).is_ok());
        assert!(q.charge(app, 1, "getA", 600.5).is_ok());
    }

    #[test]
    fn forty_per_tenant_across_apps_and_reports() {
        let q = Quota::default();
        for i in 0..40u64 {
            let app = Guid::from_parts(&[i / 10]);
            let report = ["getA", "getB", "getC"][(i % 3) as usize];
            assert!(q.charge(app, 1, report, 1.0).is_ok(), "request {i}");
        }
        assert!(q.charge(Guid::from_parts(&[99]), 1, "getZ", 2.0).is_err());
    }
}
