//! The simulator's integration tests, one binary (one link) with a module per area.
// They talk to a real server over real sockets (and spawn its binary): they wait in real time.
#![allow(clippy::disallowed_methods)]

mod common;

mod batch;
mod binary;
mod clock;
mod contract;
mod control;
mod exchange;
mod exchange_access;
mod exchange_world;
mod graph_auth;
mod graph_odata;
mod graph_paging;
mod graph_shapes;
mod graph_throttle;
mod graph_writes;
mod identity;
mod identity_v2;
mod listings;
mod partner_center;
mod persistence;
mod reports;
mod security;
mod tls;
mod user_bytes;
