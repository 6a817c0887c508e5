//! `tenantctl-sim`: a local, faithful emulation of the Microsoft services a CSP partner uses
//! (identity platform, Graph, Partner Center), holding one partner and many customer tenants.
//! It shares no code or models with the tenantctl client: it follows Microsoft's published
//! contracts on its own, so a typo on one side cannot hide on both.
//!
//! Layout: [`world`] (the generated fleet plus a typed overlay of changes, persisted on
//! request), [`platform`] (auth extractor, error bodies, throttling, seeded faults, clock,
//! OData), [`services`] (one module and route table per service), [`control`] (`/_sim/`), and
//! [`server`] (router assembly and start). Use it as a library ([`start`]) or as the
//! `tenantctl-sim` binary.

// Handlers return `Result<_, Response>`-like errors that are as large as a response.
#![allow(clippy::result_large_err)]

pub mod auth;
pub mod batch;
pub mod cli;
pub mod control;
pub mod identity;
pub mod ids;
pub mod origin;
pub mod platform;
pub mod server;
pub mod services;
pub mod state;
pub mod tls;
pub mod world;

// The paths modules had before the split, kept for callers (and identity.rs).
pub use platform::{errors, faults, odata, throttle};
pub use world::{fleet, names, skus};

pub use platform::clock::Clock;
pub use server::{start, RunningSim, Sim, SimConfig};
pub use world::persist::{StateError, STATE_FILE};

/// Deletes the saved state in `dir` (`<dir>/state.json`): the next start with that state
/// directory begins with the generated fleet alone. No state is not an error.
pub fn reset_state(dir: &std::path::Path) -> std::io::Result<()> {
    world::persist::reset_state(dir)
}
