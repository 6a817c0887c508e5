//! Authorised requests and paging: a token from the cache, the executor's retries, a second
//! chance on 401 with a fresh token, and the services' error bodies parsed into [`ApiError`].
//! Paging follows Graph's `@odata.nextLink` verbatim (learn.microsoft.com/graph/paging) and
//! Partner Center's `continuationToken` with the `MS-ContinuationToken` header.

use crate::cloud::{Endpoints, Resource};
use crate::http::{Executor, Request, Response, TransportError};
use crate::token::{TokenError, TokenProvider};
use futures::Stream;
use serde_json::Value;
use std::sync::Arc;

/// A failed call, with what the service said.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The service answered with an error status; `code` is Graph's `error.code` (or Partner
    /// Center's numeric code as text).
    #[error("HTTP {status} {code}: {message}")]
    Http {
        status: u16,
        code: String,
        message: String,
        retries_exhausted: bool,
    },
    #[error("{0}")]
    Transport(String),
}

impl From<TransportError> for ApiError {
    fn from(e: TransportError) -> Self {
        ApiError::Transport(e.to_string())
    }
}

impl ApiError {
    fn from_response(r: &Response) -> ApiError {
        let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        let (code, message) = if let Some(e) = body.get("error").filter(|e| e.is_object()) {
            // Graph / Exchange: {"error":{"code","message",...}}
            (
                e.get("code").and_then(Value::as_str).unwrap_or("").to_owned(),
                e.get("message").and_then(Value::as_str).unwrap_or("").to_owned(),
            )
        } else if let Some(d) = body.get("description").and_then(Value::as_str) {
            // Partner Center: {"code":3000,"description":...}
            (
                body.get("code").map(|c| c.to_string()).unwrap_or_default(),
                d.to_owned(),
            )
        } else {
            (
                String::new(),
                String::from_utf8_lossy(&r.body[..r.body.len().min(200)]).into_owned(),
            )
        };
        ApiError::Http {
            status: r.status.as_u16(),
            code,
            message,
            retries_exhausted: r.retries_exhausted,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The product's door to the services.
#[derive(Clone)]
pub struct Api {
    pub executor: Executor,
    pub tokens: Arc<TokenProvider>,
}

impl Api {
    pub fn new(executor: Executor, tokens: Arc<TokenProvider>) -> Api {
        Api { executor, tokens }
    }

    pub fn endpoints(&self) -> &Endpoints {
        self.tokens.endpoints()
    }

    /// Sends `req` with a token for (`tenant`, `resource`); on 401 fetches a new token once.
    pub async fn send(&self, tenant: &str, resource: Resource, req: Request) -> Result<Response, ApiError> {
        let mut second_chance = true;
        loop {
            let token = self.tokens.token(tenant, resource).await?;
            let r = self.executor.send(&req.clone().bearer(token.token.expose())).await?;
            if r.status.as_u16() == 401 && second_chance {
                second_chance = false;
                self.tokens.invalidate(tenant, resource, &token.token).await;
                continue;
            }
            if !r.status.is_success() {
                return Err(ApiError::from_response(&r));
            }
            return Ok(r);
        }
    }

    pub async fn get_json(&self, tenant: &str, resource: Resource, req: Request) -> Result<Value, ApiError> {
        let r = self.send(tenant, resource, req).await?;
        r.json::<Value>().map_err(|e| ApiError::Transport(e.to_string()))
    }
}

/// One page of a Graph collection.
#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<Value>,
    /// `@odata.count` (first page, with `$count=true`).
    pub count: Option<u64>,
}

/// Streams the pages of a Graph collection starting at `url`, following `@odata.nextLink`
/// verbatim; `headers` (e.g. `ConsistencyLevel`) are resent on every page, as Graph requires.
pub fn graph_pages(
    api: Api,
    tenant: String,
    url: String,
    headers: Vec<(&'static str, String)>,
) -> impl Stream<Item = Result<Page, ApiError>> {
    async_stream::try_stream! {
        let mut next = Some(url);
        while let Some(u) = next.take() {
            let mut req = Request::get(u);
            for (k, v) in &headers {
                req = req.header(k, v);
            }
            let body = api.get_json(&tenant, Resource::Graph, req).await?;
            next = body.get("@odata.nextLink").and_then(Value::as_str).map(str::to_owned);
            let count = body.get("@odata.count").and_then(Value::as_u64);
            let items = match body.get("value") {
                Some(Value::Array(a)) => a.clone(),
                _ => Err(ApiError::Transport("Graph collection without a 'value' array".into()))?,
            };
            yield Page { items, count };
        }
    }
}

/// Streams the pages of a Partner Center collection (`items`, `continuationToken`,
/// `links.next` with the `MS-ContinuationToken` header). Partner Center calls are made in the
/// partner tenant.
pub fn partner_center_pages(
    api: Api,
    partner_tenant: String,
    url: String,
) -> impl Stream<Item = Result<Page, ApiError>> {
    async_stream::try_stream! {
        let mut req = Some(Request::get(url).header("accept", "application/json"));
        while let Some(r) = req.take() {
            let body = api.get_json(&partner_tenant, Resource::PartnerCenter, r).await?;
            let items = body.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
            let count = body.get("totalCount").and_then(Value::as_u64);
            if let Some(next) = body.pointer("/links/next") {
                let uri = next.get("uri").and_then(Value::as_str).unwrap_or_default();
                let token = next
                    .get("headers")
                    .and_then(Value::as_array)
                    .and_then(|hs| hs.iter().find(|h| h.get("key").and_then(Value::as_str).is_some_and(|k| k.eq_ignore_ascii_case("MS-ContinuationToken"))))
                    .and_then(|h| h.get("value").and_then(Value::as_str))
                    .map(str::to_owned)
                    .or_else(|| body.get("continuationToken").and_then(Value::as_str).map(str::to_owned));
                if let (false, Some(token)) = (uri.is_empty(), token) {
                    let abs = if uri.starts_with("http") { uri.to_owned() } else { format!("{}{}", api.endpoints().partner_center, uri) };
                    req = Some(Request::get(abs).header("accept", "application/json").header("ms-continuationtoken", &token));
                }
            }
            yield Page { items, count };
        }
    }
}
