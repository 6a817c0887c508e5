//! Service clients: what tenantctl asks Microsoft Graph, Partner Center and Exchange's admin API, and how the answers
//! become the core crate's models. Wire types live here (never shared with the simulator).

pub mod customers;
pub mod exchange;
pub mod graph;
pub mod graph_writes;
pub mod partner_center;
pub mod reports;
mod wire;

pub use exchange::Exchange;
pub use graph::Graph;
pub use partner_center::PartnerCenter;
