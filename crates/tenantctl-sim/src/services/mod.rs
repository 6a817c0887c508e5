//! The simulated services, one module and one route table each. They read and change the
//! [`World`](crate::world::World) and render it in their own wire shapes.

pub mod exchange;
pub mod graph;
pub mod partner_center;
