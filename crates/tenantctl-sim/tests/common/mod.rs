//! The shared harness for test files outside `tests/it/` that still say `mod common;`
//! (until they are folded into the one integration binary): the same helpers.
#![allow(dead_code, unused_imports)]

#[path = "../it/common.rs"]
mod shared;

pub use shared::*;
