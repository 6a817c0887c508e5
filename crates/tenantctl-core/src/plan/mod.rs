//! Pure planners: what a write will do, decided from the input and what the tenants hold,
//! without any I/O. One role check ([`access`]), one problem type
//! ([`RowError`](crate::bulk::RowError)), one way of naming fields (the input's own
//! [`Style`](crate::bulk::Style)).

pub mod access;
pub mod licences;
pub mod users;
