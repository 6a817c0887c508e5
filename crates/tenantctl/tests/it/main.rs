//! The CLI's end-to-end tests, one binary (one link) with a module per area: the `tenantctl`
//! binary against a simulator on 127.0.0.1 (ephemeral port).
// These tests drive real processes over real sockets: they wait in real time.
#![allow(clippy::disallowed_methods)]

mod common;

mod e2e;
mod e2e_adaptive;
mod e2e_exchange;
mod e2e_promises;
mod e2e_reliability;
mod e2e_reports;
mod e2e_simulator_modes;
mod e2e_sizes;
mod e2e_token_cache;
mod e2e_writes;
