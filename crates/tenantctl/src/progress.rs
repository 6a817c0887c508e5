//! Progress on stderr while a fan-out runs (only when stderr is a terminal).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub struct Progress {
    enabled: bool,
    total: usize,
    done: usize,
    failed: usize,
    rows: u64,
    last: Option<Instant>,
}

impl Progress {
    pub fn new(total: usize, quiet: bool) -> Progress {
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
        if self.done < self.total && self.last.is_some_and(|l| now - l < Duration::from_millis(100)) {
            return;
        }
        self.last = Some(now);
        let _ = write!(
            std::io::stderr(),
            "\r\x1b[2K{}/{} tenants, {} rows, {} not ok",
            self.done,
            self.total,
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
