//! What every simulated service stands on: token validation as an extractor, Microsoft's error
//! bodies as response types, throttling, injected faults on a seeded schedule, the clock, and
//! OData query options.

pub mod clock;
pub mod errors;
pub mod extract;
pub mod faults;
pub mod odata;
pub mod throttle;
