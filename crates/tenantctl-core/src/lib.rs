//! tenantctl's core types: typed ids, the records every command emits, the licence and role
//! name tables, and per-tenant statuses. No I/O lives here.

pub mod bulk;
pub mod ids;
pub mod licences;
pub mod models;
pub mod record;
pub mod roles;
pub mod rows;
pub mod status;

pub use ids::{ObjectId, ParseIdError, SkuId, TenantId, TenantSelector};
pub use record::Record;
pub use status::{TenantOutcome, TenantStatus};
