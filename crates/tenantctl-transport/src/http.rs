//! The HTTP executor: sends a request, and retries it as [`crate::retry::classify`] says,
//! within the global [`RetryBudget`]. Every service client (and the OAuth flows) goes
//! through it, so there is one retry behaviour in the whole product.

use crate::clock::{Jitter, RandomJitter, SharedClock, SystemClock};
use crate::retry::{classify, Attempt, Backoff, Decision, RetryBudget, RetryClass};
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde::de::DeserializeOwned;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

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
    /// The body as JSON. A decode failure is the caller's to wrap (e.g. in
    /// [`crate::api::ApiError::Decode`]): it is never a transport error.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The start of the body for an error message: one line (control characters and runs of
    /// whitespace become one space), at most 120 characters, what kind of content it is
    /// when that is not JSON (`text/html`...).
    pub fn body_start(&self) -> String {
        let text = String::from_utf8_lossy(&self.body[..self.body.len().min(480)]);
        let mut one_line = String::new();
        for c in text.chars() {
            let c = if c.is_control() || c.is_whitespace() { ' ' } else { c };
            if c == ' ' && one_line.ends_with(' ') {
                continue;
            }
            one_line.push(c);
        }
        let mut out: String = one_line.trim().chars().take(120).collect();
        if one_line.trim().chars().count() > 120 {
            out.push('…');
        }
        match self.header("content-type") {
            Some(ct) if !ct.contains("json") => format!("[{ct}, {} bytes] {out}", self.body.len()),
            _ if self.body.is_empty() => "[empty body]".to_owned(),
            _ => out,
        }
    }
}

/// Why no response could be had. Told apart by walking the error's source chain (as uv's
/// `retryable_on_request_failure` does): `reqwest`'s flags, then hyper's, then `io::ErrorKind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The request could not even be built (bad URL, bad header): never sent, never retried.
    Build,
    /// No connection could be made (refused, DNS, TLS handshake, connect timeout): the request
    /// never left.
    Connect,
    /// The server's certificate was refused (unknown CA, wrong name, expired): the request never
    /// left, and trying again cannot help.
    Certificate,
    /// The request or its answer timed out: the request may have reached the server.
    Timeout,
    /// The connection was reset or closed before the whole answer arrived: the request may
    /// have reached the server.
    Reset,
    /// Another failure after sending (e.g. a protocol error): the request may have reached the
    /// server.
    Other,
}

impl FailureKind {
    /// True when the server may have received (and acted on) the request although no answer
    /// came: a caller of a non-idempotent write must look before writing again.
    pub fn request_may_have_arrived(self) -> bool {
        !matches!(
            self,
            FailureKind::Build | FailureKind::Connect | FailureKind::Certificate
        )
    }

    /// Classifies an error by walking its source chain.
    pub fn of(err: &(dyn std::error::Error + 'static)) -> FailureKind {
        if Self::certificate_refused(err) {
            return FailureKind::Certificate;
        }
        let mut current = Some(err);
        while let Some(e) = current {
            if let Some(r) = e.downcast_ref::<reqwest::Error>() {
                if r.is_builder() {
                    return FailureKind::Build;
                }
                if r.is_connect() {
                    return FailureKind::Connect;
                }
                if r.is_timeout() {
                    return FailureKind::Timeout;
                }
            } else if let Some(h) = e.downcast_ref::<hyper::Error>() {
                if h.is_timeout() {
                    return FailureKind::Timeout;
                }
                if h.is_incomplete_message() || h.is_canceled() || h.is_closed() {
                    return FailureKind::Reset;
                }
            } else if let Some(io) = e.downcast_ref::<std::io::Error>() {
                use std::io::ErrorKind as K;

                match io.kind() {
                    K::ConnectionRefused | K::AddrNotAvailable | K::NotConnected => return FailureKind::Connect,
                    K::TimedOut => return FailureKind::Timeout,
                    K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
                        return FailureKind::Reset
                    }
                    _ => {}
                }
            }
            current = e.source();
        }
        FailureKind::Other
    }
}

impl FailureKind {
    /// rustls refused the server's certificate somewhere in the chain (its verdict sits inside
    /// an `io::Error`, whose `source` skips it).
    fn certificate_refused(err: &(dyn std::error::Error + 'static)) -> bool {
        let mut current = Some(err);
        while let Some(e) = current {
            let t = e.downcast_ref::<rustls::Error>().or_else(|| {
                e.downcast_ref::<std::io::Error>()?
                    .get_ref()?
                    .downcast_ref::<rustls::Error>()
            });
            // Some connectors re-wrap rustls' error; its Display is then all that is left.
            if matches!(t, Some(rustls::Error::InvalidCertificate(_)))
                || e.to_string().starts_with("invalid peer certificate")
            {
                return true;
            }
            current = e.source();
        }
        false
    }
}

impl std::fmt::Display for FailureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FailureKind::Build => "invalid request",
            FailureKind::Connect => "connection failed",
            FailureKind::Certificate => {
                "the server's certificate is not trusted (for a private CA, e.g. the simulator's, give --ca-file)"
            }
            FailureKind::Timeout => "timed out",
            FailureKind::Reset => "connection reset before the answer",
            FailureKind::Other => "request failed",
        })
    }
}

/// No (whole) response: what kind of failure, with the underlying error as its source.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    #[error("{method} {url}: {kind} after {retries} retries: {cause}")]
    Send {
        method: Method,
        /// Without its query string.
        url: String,
        retries: u32,
        kind: FailureKind,
        /// The innermost cause's message, and what to check (`; …`) when there is advice.
        cause: String,
        #[source]
        source: Arc<reqwest::Error>,
    },
    /// The executor could not be set up (e.g. an unreadable `ca_file`).
    #[error("HTTP client setup: {message}")]
    Setup {
        message: String,
        #[source]
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    },
}

impl TransportError {
    /// The kind of failure (`None` for setup errors).
    pub fn kind(&self) -> Option<FailureKind> {
        match self {
            TransportError::Send { kind, .. } => Some(*kind),
            TransportError::Setup { .. } => None,
        }
    }
    pub fn is_timeout(&self) -> bool {
        self.kind() == Some(FailureKind::Timeout)
    }
    pub fn is_connect(&self) -> bool {
        self.kind() == Some(FailureKind::Connect)
    }
    pub fn is_reset(&self) -> bool {
        self.kind() == Some(FailureKind::Reset)
    }
    /// The request may have reached the server although no answer came (see
    /// [`FailureKind::request_may_have_arrived`]).
    pub fn answer_lost(&self) -> bool {
        self.kind().is_some_and(FailureKind::request_may_have_arrived)
    }
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
    /// No retry starts once this long has passed since the first attempt (with the wait
    /// before it): a request gives up in bounded time, whatever the server does.
    pub max_total: Duration,
    /// Longest `Retry-After` honoured; a longer one ends the retries.
    pub max_retry_after: Duration,
    /// Attempts for a 429 with `Retry-After` while an adaptive fan-out paces the fleet
    /// (see [`crate::adaptive::attempts_allowed`]): many, as `max_total` is what bounds them
    /// (tenants already in flight when the limit is cut still compete for the app's budget).
    pub max_throttled_attempts: u32,
    pub backoff: Backoff,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            max_total: Duration::from_secs(180),
            max_retry_after: Duration::from_secs(300),
            max_throttled_attempts: 1000,
            backoff: Backoff::default(),
        }
    }
}

/// Builds an [`Executor`]: retry policy, clock, jitter, extra trusted roots, timeouts.
#[derive(Debug)]
pub struct ExecutorBuilder {
    policy: RetryPolicy,
    clock: SharedClock,
    jitter: Arc<dyn Jitter>,
    ca_files: Vec<PathBuf>,
    connect_timeout: Duration,
    timeout: Duration,
}

impl ExecutorBuilder {
    pub fn policy(mut self, p: RetryPolicy) -> Self {
        self.policy = p;
        self
    }
    /// The clock for backoff sleeps and `Retry-After` dates (and, through the executor, the
    /// token cache).
    pub fn clock(mut self, c: SharedClock) -> Self {
        self.clock = c;
        self
    }
    /// The randomness of backoff jitter.
    pub fn jitter(mut self, j: Arc<dyn Jitter>) -> Self {
        self.jitter = j;
        self
    }
    /// A PEM file of CA certificates trusted in addition to the built-in roots (e.g. the
    /// simulator's throwaway CA). Certificates are still verified: never "accept any".
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_files.push(path.into());
        self
    }
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }
    /// Whole-request timeout (per attempt).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    pub fn build(self) -> Result<Executor, TransportError> {
        let setup = |message: String, e: Option<Arc<dyn std::error::Error + Send + Sync>>| TransportError::Setup {
            message,
            source: e,
        };
        let mut roots = vec![];
        for path in &self.ca_files {
            let pem = std::fs::read(path)
                .map_err(|e| setup(format!("cannot read CA file {}", path.display()), Some(Arc::new(e))))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                setup(
                    format!("CA file {}: not PEM certificates", path.display()),
                    Some(Arc::new(e)),
                )
            })?;
            if certs.is_empty() {
                return Err(setup(format!("CA file {}: no certificate in it", path.display()), None));
            }
            roots.extend(certs);
        }
        let make = || {
            let mut b = reqwest::Client::builder()
                .user_agent(concat!("tenantctl/", env!("CARGO_PKG_VERSION")))
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(self.connect_timeout)
                .timeout(self.timeout)
                .pool_max_idle_per_host(256);
            for c in &roots {
                b = b.add_root_certificate(c.clone());
            }
            b.build()
                .map_err(|e| setup("cannot build the HTTP client".into(), Some(Arc::new(e))))
        };
        // Token requests get connections of their own. Against Microsoft they go to another
        // host (login.microsoftonline.com) anyway; against one address (the simulator, a
        // proxy) a shared pool would hand a token request a connection whose read buffer grew
        // to a 400 KB page, and at 10,000 tenants the 256 token requests in flight beside the
        // lanes held 20 MB that way (issue 13).
        let (client, token_client) = (make()?, make()?);
        Ok(Executor {
            client,
            token_client,
            timeout: self.timeout,
            policy: self.policy,
            budget: Arc::new(RetryBudget::new(500.0)),
            stats: Arc::new(TransportStats::default()),
            clock: self.clock,
            jitter: self.jitter,
        })
    }
}

#[derive(Clone)]
pub struct Executor {
    pub(crate) client: reqwest::Client,
    /// For the identity platform's token requests ([`Executor::oauth_http`]).
    token_client: reqwest::Client,
    /// Per-attempt timeout (for messages).
    timeout: Duration,
    pub policy: RetryPolicy,
    pub budget: Arc<RetryBudget>,
    pub stats: Arc<TransportStats>,
    clock: SharedClock,
    pub(crate) jitter: Arc<dyn Jitter>,
}

impl Executor {
    /// An executor with the system clock, random jitter and the built-in roots.
    pub fn new(policy: RetryPolicy) -> Executor {
        Executor::builder()
            .policy(policy)
            .build()
            .expect("the default HTTP client builds")
    }

    pub fn builder() -> ExecutorBuilder {
        ExecutorBuilder {
            policy: RetryPolicy::default(),
            clock: SystemClock::shared(),
            jitter: Arc::new(RandomJitter),
            ca_files: vec![],
            // A connection is made within seconds or not at all; an answer within a minute
            // (Graph's own gateway gives up sooner). Probe D6: a server that accepted and never
            // answered held a run for 16 minutes of 120-second attempts.
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
        }
    }

    /// The clock this executor (and the token cache and fan-out built on it) uses.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// Sends `req`, retrying per the classifier; returns the final response whatever its
    /// status, or a transport error when no response could be had.
    pub async fn send(&self, req: &Request) -> Result<Response, TransportError> {
        let made = self
            .send_each(|| std::future::ready(Ok::<_, std::convert::Infallible>((req.clone(), ()))))
            .await;
        match made {
            Ok((r, ())) => Ok(r),
            Err(SendError::Transport(e)) => Err(e),
            Err(SendError::Make(never)) => match never {},
        }
    }

    /// [`Executor::send`] with the request made afresh for every attempt by `make`, so that a
    /// retry carries what is current then (a token that expired while waiting out
    /// `Retry-After` is replaced, never resent). `make` also hands back a value of its own
    /// (e.g. the token used), returned with the final response. A failure of `make` ends the
    /// request.
    pub async fn send_each<T, E, F, Fut>(&self, mut make: F) -> Result<(Response, T), SendError<E>>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<(Request, T), E>>,
    {
        let mut attempt: u32 = 0;
        let started = self.clock.now_mono();
        loop {
            let (req, extra) = make().await.map_err(SendError::Make)?;
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let sent_at = self.clock.now_mono();
            let outcome = self.attempt(&req).await;
            let now = self.clock.now_system();
            if let Ok(r) = &outcome {
                crate::adaptive::report(sent_at, crate::adaptive::Signal::of(effective_status(r), r, now));
            }
            let decision = match &outcome {
                Ok(r) => classify(
                    Attempt::Status(effective_status(r), r.header("retry-after")),
                    req.idempotent,
                    now,
                ),
                Err(e) => match FailureKind::of(e) {
                    FailureKind::Build | FailureKind::Certificate => Decision::Done,
                    // Nothing listens there: trying again will not help (probe D19: 54 s of
                    // retries against a closed port).
                    FailureKind::Connect if connection_refused(e) => Decision::Done,
                    FailureKind::Connect => classify(Attempt::ConnectFailed, req.idempotent, now),
                    _ => classify(Attempt::Broken, req.idempotent, now),
                },
            };
            let (class, after) = match decision {
                Decision::Done => {
                    return match outcome {
                        Ok(mut r) => {
                            if r.status.is_success() {
                                self.budget.deposit_success();
                            }
                            r.retries = attempt;
                            Ok((r, extra))
                        }
                        Err(e) => Err(SendError::Transport(self.connection_error(&req, attempt, e))),
                    }
                }
                Decision::Retry { class, after } => (class, after),
            };
            if class == RetryClass::Throttled {
                self.stats.throttled.fetch_add(1, Ordering::Relaxed);
            }
            let delay = after.unwrap_or_else(|| self.policy.backoff.delay(attempt, self.jitter.unit()));
            let (max_attempts, max_throttled) = (self.policy.max_attempts, self.policy.max_throttled_attempts);
            let give_up = attempt + 1 >= crate::adaptive::attempts_allowed(max_attempts, max_throttled, class, after)
                || delay > self.policy.max_retry_after
                || self.clock.elapsed(started) + delay > self.policy.max_total
                || !(crate::adaptive::free_retry(class, after) || self.budget.try_withdraw(class));
            if give_up {
                return match outcome {
                    Ok(mut r) => {
                        r.retries = attempt;
                        r.retries_exhausted = true;
                        Ok((r, extra))
                    }
                    Err(e) => Err(SendError::Transport(self.connection_error(&req, attempt, e))),
                };
            }
            tracing::debug!(url = %redact_url(&req.url), ?class, ?delay, attempt, "retrying");
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            self.clock.sleep(delay).await;
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

    pub(crate) fn connection_error(&self, req: &Request, retries: u32, e: reqwest::Error) -> TransportError {
        self.stats.failed_connections.fetch_add(1, Ordering::Relaxed);
        let kind = FailureKind::of(&e);
        let e = e.without_url();
        let mut cause = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            cause = s.to_string();
            src = s.source();
        }
        let hint = match kind {
            FailureKind::Connect => {
                "; check that the host is reachable (network, proxy, firewall) and the cloud or --endpoint is right"
                    .to_owned()
            }
            FailureKind::Timeout => format!(
                "; no answer within {} s: check the network or proxy, or the service's health",
                self.timeout.as_secs()
            ),
            _ => String::new(),
        };
        TransportError::Send {
            method: req.method.clone(),
            url: redact_url(&req.url),
            retries,
            kind,
            cause: format!("{cause}{hint}"),
            source: Arc::new(e),
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
        let tokens = Executor {
            client: self.token_client.clone(),
            ..self.clone()
        };
        let resp = tokens.send(&r).await?;
        let mut out = http::Response::builder().status(resp.status);
        if let Some(h) = out.headers_mut() {
            *h = resp.headers;
        }
        Ok(out.body(resp.body.to_vec()).expect("response parts are valid"))
    }
}

/// A connection actively refused (nothing listens on that port).
pub(crate) fn connection_refused(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
        {
            return true;
        }
        current = e.source();
    }
    false
}

/// Exchange's answer when a tenant has too many requests in flight: plain text, no
/// `Retry-After` (GreyCorbel/ExoHelper `Invoke-ExoCommand` retries on this text whatever the
/// status; graph2otel saw no `Retry-After`). It is throttling, so it is classified as 429.
pub const EXCHANGE_CONCURRENCY_TEXT: &str = "You have reached the maximum number of concurrent requests per tenant";

/// The status the retry classifier judges: Exchange's concurrency answer counts as a 429.
fn effective_status(r: &Response) -> u16 {
    let status = r.status.as_u16();
    if status >= 400 && r.body.len() < 1024 && r.body.starts_with(EXCHANGE_CONCURRENCY_TEXT.as_bytes()) {
        429
    } else {
        status
    }
}

/// Why [`Executor::send_each`] produced no response.
#[derive(Debug)]
pub enum SendError<E> {
    /// Making the request failed (e.g. no token could be had).
    Make(E),
    Transport(TransportError),
}

/// A URL without its query string (which may carry skip tokens; never secrets, but long).
pub fn redact_url(u: &str) -> String {
    u.split('?').next().unwrap_or(u).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{FixedJitter, ManualClock};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    fn once() -> Executor {
        Executor::builder()
            .policy(RetryPolicy {
                max_attempts: 1,
                ..RetryPolicy::default()
            })
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap()
    }

    /// A server on 127.0.0.1:0 that reads one request and then does `then` with the socket.
    async fn server<F, Fut>(then: F) -> String
    where
        F: FnOnce(tokio::net::TcpStream) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/x?secret=1", l.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            then(s).await;
        });
        url
    }

    fn answer(status: u16, body: &str) -> Response {
        Response {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: Bytes::from(body.to_owned()),
            retries: 0,
            retries_exhausted: false,
        }
    }

    /// GreyCorbel/ExoHelper `Invoke-ExoCommand`: this text means "wait and retry", whatever
    /// the status it comes with.
    #[test]
    fn exchanges_concurrency_answer_is_throttling_whatever_its_status() {
        let text = "You have reached the maximum number of concurrent requests per tenant. Please wait and try again";
        assert_eq!(effective_status(&answer(429, text)), 429);
        assert_eq!(effective_status(&answer(503, text)), 429);
        assert_eq!(effective_status(&answer(400, text)), 429);
        assert_eq!(effective_status(&answer(400, "{\"error\":{}}")), 400);
        assert_eq!(
            effective_status(&answer(200, text)),
            200,
            "a success is never reclassified"
        );
    }

    #[tokio::test]
    async fn a_refused_connection_is_connect_and_the_request_never_arrived() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", l.local_addr().unwrap());
        drop(l);
        let e = once().send(&Request::get(url)).await.unwrap_err();
        assert_eq!(e.kind(), Some(FailureKind::Connect), "{e}");
        assert!(e.is_connect() && !e.answer_lost());
        assert!(
            std::error::Error::source(&e).is_some(),
            "the reqwest error is kept as the source"
        );
    }

    #[tokio::test]
    async fn a_connection_closed_before_the_answer_is_a_reset_and_the_answer_is_lost() {
        let url = server(|s| async move { drop(s) }).await;
        let e = once().send(&Request::get(url)).await.unwrap_err();
        assert_eq!(e.kind(), Some(FailureKind::Reset), "{e}");
        assert!(e.answer_lost());
        assert!(!e.to_string().contains("secret"), "no query string in {e}");
    }

    #[tokio::test]
    async fn a_body_cut_short_is_a_reset() {
        let url = server(|mut s| async move {
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\ncontent-type: application/json\r\n\r\n{\"va")
                .await;
            let _ = s.flush().await;
        })
        .await;
        let e = once().send(&Request::get(url)).await.unwrap_err();
        assert_eq!(e.kind(), Some(FailureKind::Reset), "{e}");
        assert!(e.answer_lost());
    }

    #[tokio::test]
    async fn a_silent_server_is_a_timeout_and_the_answer_is_lost() {
        let url = server(|s| async move {
            // Hold the connection open past the client's 300 ms timeout.
            let mut s = s;
            let mut buf = [0u8; 1];
            let _ = s.read(&mut buf).await;
        })
        .await;
        let e = once().send(&Request::get(url)).await.unwrap_err();
        assert_eq!(e.kind(), Some(FailureKind::Timeout), "{e}");
        assert!(e.is_timeout() && e.answer_lost());
    }

    #[tokio::test]
    async fn a_bad_url_is_not_sent_nor_retried() {
        let e = once().send(&Request::get("http://")).await.unwrap_err();
        assert_eq!(e.kind(), Some(FailureKind::Build), "{e}");
        assert!(!e.answer_lost());
    }

    #[tokio::test]
    async fn retries_sleep_on_the_injected_clock_with_the_injected_jitter() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", l.local_addr().unwrap());
        // 503 without Retry-After twice, then 200.
        tokio::spawn(async move {
            for i in 0..3 {
                let (mut s, _) = l.accept().await.unwrap();
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let r: &[u8] = if i < 2 {
                    b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                } else {
                    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}"
                };
                let _ = s.write_all(r).await;
            }
        });
        let clock = ManualClock::new(std::time::SystemTime::UNIX_EPOCH);
        let exec = Executor::builder()
            .clock(clock.shared())
            .jitter(Arc::new(FixedJitter(0.5)))
            .build()
            .unwrap();
        let send = tokio::spawn({
            let exec = exec.clone();
            async move { exec.send(&Request::get(url)).await }
        });
        clock.wait_for_sleepers(1).await;
        clock.advance(Duration::from_secs(60));
        clock.wait_for_sleeps_started(2).await;
        clock.advance(Duration::from_secs(60));
        let r = send.await.unwrap().unwrap();
        assert_eq!((r.status.as_u16(), r.retries), (200, 2));
        // Default backoff 400 ms · 2^attempt at half jitter.
        assert_eq!(
            clock.sleep_log(),
            vec![Duration::from_millis(200), Duration::from_millis(400)]
        );
    }

    /// An HTTPS server on 127.0.0.1 whose certificate a throwaway CA (tests/data/test-ca.pem)
    /// signed; answers every connection with 200.
    async fn tls_server() -> String {
        use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
        let cert = pem::parse(include_str!("../tests/data/server-cert.pem")).unwrap();
        let key = pem::parse(include_str!("../tests/data/server-key.pem")).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(cert.contents().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.contents().to_vec())),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://127.0.0.1:{}/", l.local_addr().unwrap().port());
        tokio::spawn(async move {
            loop {
                let (s, _) = l.accept().await.unwrap();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(s).await else { return };
                    let mut buf = [0u8; 4096];
                    let _ = tls.read(&mut buf).await;
                    let _ = tls
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
                        .await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        url
    }

    #[tokio::test]
    async fn a_ca_file_is_trusted_in_addition_to_the_built_in_roots() {
        let url = tls_server().await;
        // Without the CA the certificate is refused: nothing sent, and not worth retrying.
        let e = once().send(&Request::get(url.clone())).await.unwrap_err();
        assert_eq!(e.kind(), Some(FailureKind::Certificate), "{e}");
        assert!(!FailureKind::Certificate.request_may_have_arrived());
        let ca = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/test-ca.pem");
        let exec = Executor::builder().ca_file(ca).build().unwrap();
        let r = exec.send(&Request::get(url)).await.unwrap();
        assert_eq!(r.status.as_u16(), 200);
        // The CA is an extra root, not "accept anything": a certificate it did not sign (the
        // app certificate, self-signed) is still refused.
        let other = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/app-cert.pem");
        let strict = Executor::builder()
            .ca_file(other)
            .policy(RetryPolicy {
                max_attempts: 1,
                ..RetryPolicy::default()
            })
            .build()
            .unwrap();
        assert!(strict.send(&Request::get(tls_server().await)).await.is_err());
    }

    #[test]
    fn a_ca_file_that_is_missing_or_not_pem_is_a_setup_error() {
        let e = Executor::builder()
            .ca_file("/nonexistent/ca.pem")
            .build()
            .err()
            .unwrap();
        assert!(matches!(e, TransportError::Setup { .. }), "{e}");
        let dir = std::env::temp_dir().join(format!("tenantctl-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("ca.pem");
        std::fs::write(&f, "not a certificate").unwrap();
        assert!(Executor::builder().ca_file(&f).build().is_err());
        std::fs::write(&f, include_str!("../tests/data/app-cert.pem")).unwrap();
        assert!(Executor::builder().ca_file(&f).build().is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
