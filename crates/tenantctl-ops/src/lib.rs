//! tenantctl's application library: what the CLI (and later an inventory sync or a dashboard)
//! does, without clap and without printing. `cargo` splits `ops` from its CLI the same way.
//!
//! - [`connect`]: profiles, credentials, endpoints, the sandbox;
//! - [`session`]: a connected [`Session`](session::Session) with the partner's customer list;
//! - [`targets`]: `--tenant`/`--all-tenants`/`--exclude` resolved to fan-out targets;
//! - one module per operation: [`list`], [`import`], [`licences`], [`domains`], [`login`],
//!   [`exchange`];
//! - [`errors`]: how a service error ends a tenant (the fan-out's classifier).
//!
//! Planners are pure and live in `tenantctl_core::plan`; the apply phases live here.

pub mod connect;
pub mod domains;
pub mod errors;
pub mod exchange;
pub mod files;
pub mod import;
pub mod licences;
pub mod list;
pub mod login;
pub mod reports;
pub mod session;
pub mod sizes;
pub mod targets;

pub use session::{RunOptions, Session};
pub use tenantctl_fanout::{Flow, Limits, Stop, Summary, Target, TenantResult};
