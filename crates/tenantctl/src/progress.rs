//! Progress on stderr while a fan-out runs (only when stderr is a terminal).

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tenantctl_fanout::TargetCount;

pub struct Progress {
    enabled: bool,
    /// Tenants named so far; while the customer list is still being read, shown as `N+`.
    total: Arc<TargetCount>,
    done: usize,
    failed: usize,
    rows: u64,
    last: Option<Instant>,
}

impl Progress {
    pub fn new(total: usize, quiet: bool) -> Progress {
        Progress::streamed(Arc::new(TargetCount::known(total)), quiet)
    }

    /// Progress over tenants still being named (see [`tenantctl_fanout::Targets`]).
    pub fn streamed(total: Arc<TargetCount>, quiet: bool) -> Progress {
        Progress {
            enabled: !quiet && std::io::stderr().is_terminal(),
            total,
            done: 0,
            failed: 0,
            rows: 0,
            last: None,
        }
    }

    pub fn tenant_done(&mut self, ok: bool, rows: u64) {
        self.done += 1;
        self.rows += rows;
        if !ok {
            self.failed += 1;
        }
        if !self.enabled {
            return;
        }
        // Repaint throttling is about a human's screen, not the run's logic: real time.
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        let (total, complete) = self.total.get();
        if (self.done < total || !complete) && self.last.is_some_and(|l| now - l < Duration::from_millis(100)) {
            return;
        }
        self.last = Some(now);
        let _ = write!(
            std::io::stderr(),
            "\r\x1b[2K{}/{}{} tenants, {} rows, {} not ok",
            self.done,
            total,
            if complete { "" } else { "+" },
            self.rows,
            self.failed
        );
    }

    pub fn finish(&self) {
        if self.enabled {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}
