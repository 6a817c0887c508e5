//! tenantctl's transport and auth: clouds and endpoints, credentials and a single-flight
//! token cache, one retry classifier with a global retry budget, and paging streams.

pub mod api;
pub mod assertion;
pub mod clock;
pub mod cloud;
pub mod http;
pub mod retry;
pub mod token;

pub use api::{graph_pages, partner_center_pages, Api, ApiError, ErrorDetail, Page, Service};
pub use assertion::{ClientCertificate, JWT_BEARER};
pub use clock::{Clock, FixedJitter, Jitter, ManualClock, MonoTime, RandomJitter, SharedClock, SystemClock};
pub use cloud::{CloudName, Endpoints, Resource};
pub use http::{Executor, ExecutorBuilder, FailureKind, Request, Response, RetryPolicy, TransportError};
pub use token::{AadKind, AccessToken, Credential, RefreshTokenStore, Secret, TokenError, TokenProvider};
