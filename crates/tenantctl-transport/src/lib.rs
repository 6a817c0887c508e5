//! tenantctl's transport and auth: clouds and endpoints, credentials (secret, refresh token,
//! certificate and federated assertions) and a single-flight token cache, one retry classifier
//! with a global retry budget, typed service errors, typed paging streams, and the injected
//! [`clock`] everything above (and the fan-out) takes its time from.

pub mod adaptive;
pub mod api;
pub mod assertion;
pub mod clock;
pub mod cloud;
pub mod download;
pub mod http;
pub mod retry;
pub mod token;
pub mod token_cache;

pub use api::{graph_pages, partner_center_pages, Api, ApiError, ErrorDetail, Page, Service};
pub use assertion::{ClientCertificate, JWT_BEARER};
pub use clock::{Clock, FixedJitter, Jitter, ManualClock, MonoTime, RandomJitter, SharedClock, SystemClock};
pub use cloud::{CloudName, Endpoints, Resource};
pub use http::{Executor, ExecutorBuilder, FailureKind, Request, Response, RetryPolicy, TransportError};
pub use token::{
    app_credential_from_env, AadKind, AccessToken, Credential, RefreshTokenStore, Secret, TokenError, TokenProvider,
};
