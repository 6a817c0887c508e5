//! `tenantctl-sim`: a local, faithful emulation of the Microsoft services a CSP partner uses
//! (identity platform, Graph, Partner Center), holding one partner and many customer tenants.
//! It shares no code or models with the tenantctl client: it follows Microsoft's published
//! contracts on its own, so a typo on one side cannot hide on both.
//!
//! Use it as a library (`server::start`) or as the `tenantctl-sim` binary.

// Handlers return `Result<_, Response>` so errors short-circuit into HTTP answers.
#![allow(clippy::result_large_err)]

pub mod auth;
pub mod batch;
pub mod cli;
pub mod control;
pub mod errors;
pub mod faults;
pub mod fleet;
pub mod graph;
pub mod graph_writes;
pub mod identity;
pub mod ids;
pub mod names;
pub mod odata;
pub mod origin;
pub mod overlay;
pub mod partner_center;
pub mod server;
pub mod skus;
pub mod throttle;
pub mod tls;

pub use server::{start, RunningSim, Sim, SimConfig};
