//! The HTTP executor: sends a request, and retries it as [`crate::retry::classify`] says,
//! within the global [`RetryBudget`]. Every service client (and the OAuth flows) goes
//! through it, so there is one retry behaviour in the whole product.

use crate::retry::{classify, Attempt, Backoff, Decision, RetryBudget, RetryClass};
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde::de::DeserializeOwned;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A request that can be sent again (the body is bytes, not a stream).
#[derive(Clone, Debug)]
pub struct Request {
    pub method: Method,
    pub url: String,
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
    /// Safe to send twice (GET, or a write the caller made idempotent).
    pub idempotent: bool,
}

impl Request {
    pub fn get(url: impl Into<String>) -> Request {
        Request {
            method: Method::GET,
            url: url.into(),
            headers: HeaderMap::new(),
            body: None,
            idempotent: true,
        }
    }

    pub fn post_json(url: impl Into<String>, body: &serde_json::Value) -> Request {
        let mut r = Request {
            method: Method::POST,
            url: url.into(),
            headers: HeaderMap::new(),
            body: Some(Bytes::from(serde_json::to_vec(body).unwrap_or_default())),
            idempotent: false,
        };
        r.headers
            .insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        r
    }

    /// `PATCH` with a JSON body (Graph's updates are idempotent: same body, same result).
    pub fn patch_json(url: impl Into<String>, body: &serde_json::Value) -> Request {
        let mut r = Request::post_json(url, body);
        r.method = Method::PATCH;
        r.idempotent = true;
        r
    }

    /// `DELETE` (idempotent: a repeat finds nothing to delete).
    pub fn delete(url: impl Into<String>) -> Request {
        Request {
            method: Method::DELETE,
            ..Request::get(url)
        }
    }

    /// Marks a write as safe to send twice (e.g. `assignLicense` with the same body).
    pub fn idempotent(mut self) -> Request {
        self.idempotent = true;
        self
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Request {
        // Header names are case-insensitive; `http` stores them lowercase.
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()),
            HeaderValue::from_str(value),
        ) {
            self.headers.insert(n, v);
        }
        self
    }

    pub fn bearer(mut self, token: &str) -> Request {
        if let Ok(mut v) = HeaderValue::from_str(&format!("Bearer {token}")) {
            v.set_sensitive(true);
            self.headers.insert(http::header::AUTHORIZATION, v);
        }
        self
    }
}

/// A whole response (bodies are small: one page at a time).
#[derive(Clone, Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// How many times this request was retried before this response.
    pub retries: u32,
    /// The response is still a retryable failure: attempts or the retry budget ran out.
    pub retries_exhausted: bool,
}

impl Response {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, TransportError> {
        serde_json::from_slice(&self.body).map_err(|e| TransportError::Decode {
            status: self.status.as_u16(),
            message: format!(
                "{e}; body starts: {}",
                String::from_utf8_lossy(&self.body[..self.body.len().min(200)])
            ),
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("{method} {url}: connection failed after {retries} retries: {message}")]
    Connection {
        method: Method,
        url: String,
        retries: u32,
        message: String,
    },
    #[error("unexpected response (HTTP {status}): {message}")]
    Decode { status: u16, message: String },
}

/// Counters for a run: what was sent and retried.
#[derive(Default, Debug)]
pub struct TransportStats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub throttled: AtomicU64,
    pub failed_connections: AtomicU64,
}

impl TransportStats {
    pub fn snapshot(&self) -> (u64, u64, u64) {
        (
            self.requests.load(Ordering::Relaxed),
            self.retries.load(Ordering::Relaxed),
            self.throttled.load(Ordering::Relaxed),
        )
    }
}

#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts per request, first included.
    pub max_attempts: u32,
    /// Longest `Retry-After` honoured; a longer one ends the retries.
    pub max_retry_after: Duration,
    pub backoff: Backoff,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            max_retry_after: Duration::from_secs(300),
            backoff: Backoff::default(),
        }
    }
}

#[derive(Clone)]
pub struct Executor {
    client: reqwest::Client,
    pub policy: RetryPolicy,
    pub budget: Arc<RetryBudget>,
    pub stats: Arc<TransportStats>,
}

impl Executor {
    pub fn new(policy: RetryPolicy) -> Executor {
        let client = reqwest::Client::builder()
            .user_agent(concat!("tenantctl/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(20))
            .timeout(Duration::from_secs(120))
            .pool_max_idle_per_host(256)
            .build()
            .expect("HTTP client");
        Executor {
            client,
            policy,
            budget: Arc::new(RetryBudget::new(500.0)),
            stats: Arc::new(TransportStats::default()),
        }
    }

    /// Sends `req`, retrying per the classifier; returns the final response whatever its
    /// status, or a connection error when no response could be had.
    pub async fn send(&self, req: &Request) -> Result<Response, TransportError> {
        let mut attempt: u32 = 0;
        loop {
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let outcome = self.attempt(req).await;
            let decision = match &outcome {
                Ok(r) => classify(
                    Attempt::Status(r.status.as_u16(), r.header("retry-after")),
                    req.idempotent,
                    SystemTime::now(),
                ),
                Err(e) => classify(
                    if e.is_connect() {
                        Attempt::ConnectFailed
                    } else {
                        Attempt::Broken
                    },
                    req.idempotent,
                    SystemTime::now(),
                ),
            };
            let (class, after) = match decision {
                Decision::Done => {
                    return match outcome {
                        Ok(mut r) => {
                            if r.status.is_success() {
                                self.budget.deposit_success();
                            }
                            r.retries = attempt;
                            Ok(r)
                        }
                        Err(e) => Err(self.connection_error(req, attempt, &e)),
                    }
                }
                Decision::Retry { class, after } => (class, after),
            };
            if class == RetryClass::Throttled {
                self.stats.throttled.fetch_add(1, Ordering::Relaxed);
            }
            let delay = after.unwrap_or_else(|| self.policy.backoff.delay(attempt, fastrand::f64()));
            let give_up = attempt + 1 >= self.policy.max_attempts
                || delay > self.policy.max_retry_after
                || !self.budget.try_withdraw(class);
            if give_up {
                return match outcome {
                    Ok(mut r) => {
                        r.retries = attempt;
                        r.retries_exhausted = true;
                        Ok(r)
                    }
                    Err(e) => Err(self.connection_error(req, attempt, &e)),
                };
            }
            tracing::debug!(url = %redact_url(&req.url), ?class, ?delay, attempt, "retrying");
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    async fn attempt(&self, req: &Request) -> Result<Response, reqwest::Error> {
        let mut b = self
            .client
            .request(req.method.clone(), &req.url)
            .headers(req.headers.clone());
        if let Some(body) = &req.body {
            b = b.body(body.clone());
        }
        let r = b.send().await?;
        let status = r.status();
        let headers = r.headers().clone();
        let body = r.bytes().await?;
        Ok(Response {
            status,
            headers,
            body,
            retries: 0,
            retries_exhausted: false,
        })
    }

    fn connection_error(&self, req: &Request, retries: u32, e: &reqwest::Error) -> TransportError {
        self.stats.failed_connections.fetch_add(1, Ordering::Relaxed);
        let mut message = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(s) = src {
            message.push_str(": ");
            message.push_str(&s.to_string());
            src = s.source();
        }
        TransportError::Connection {
            method: req.method.clone(),
            url: redact_url(&req.url),
            retries,
            message,
        }
    }

    /// The HTTP client the `oauth2` crate's flows use: token requests get the same retries.
    pub async fn oauth_http(&self, req: oauth2::HttpRequest) -> Result<oauth2::HttpResponse, TransportError> {
        let (parts, body) = req.into_parts();
        let r = Request {
            method: parts.method,
            url: parts.uri.to_string(),
            headers: parts.headers,
            body: Some(Bytes::from(body)),
            // Redeeming a grant twice is harmless: at worst a second token is minted.
            idempotent: true,
        };
        let resp = self.send(&r).await?;
        let mut out = http::Response::builder().status(resp.status);
        if let Some(h) = out.headers_mut() {
            *h = resp.headers;
        }
        Ok(out.body(resp.body.to_vec()).expect("response parts are valid"))
    }
}

/// A URL without its query string (which may carry skip tokens; never secrets, but long).
pub fn redact_url(u: &str) -> String {
    u.split('?').next().unwrap_or(u).to_owned()
}
