//! Service clients: what tenantctl asks Microsoft Graph and Partner Center, and how the answers
//! become the core crate's models. Wire types live here (never shared with the simulator).

pub mod customers;
pub mod graph;
pub mod graph_writes;
pub mod partner_center;
mod wire;

pub use graph::Graph;
pub use partner_center::PartnerCenter;
