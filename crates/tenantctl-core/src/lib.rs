//! tenantctl's core types: typed ids, typed output rows, the licence and role
//! name tables, and per-tenant statuses. No I/O lives here.

pub mod bulk;
pub mod csvin;
pub mod exchange;
pub mod ids;
pub mod licences;
pub mod models;
pub mod plan;
pub mod pwsh;
pub mod reports;
pub mod roles;
pub mod rows;
pub mod status;
pub mod tables;

pub use ids::{ObjectId, ParseIdError, SkuId, TenantId, TenantSelector};
pub use status::{TenantOutcome, TenantStatus};
