//! (being written)
use crate::fleet::Fleet;
use crate::server::Sim;
use axum::Router;
use std::sync::Arc;

pub struct IdentityState {}

impl IdentityState {
    pub fn new(_fleet: &Fleet) -> IdentityState {
        IdentityState {}
    }
}

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
}
