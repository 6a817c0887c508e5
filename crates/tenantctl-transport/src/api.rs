//! Authorised requests and paging: a token from the cache, the executor's retries, a second
//! chance on 401 with a fresh token, and the services' error bodies parsed into [`ApiError`].
//! Paging follows Graph's `@odata.nextLink` verbatim (learn.microsoft.com/graph/paging) and
//! Partner Center's `continuationToken` with the `MS-ContinuationToken` header; pages are
//! deserialised straight from the response bytes into typed items.

use crate::cloud::{Endpoints, Resource};
use crate::http::{Executor, Request, Response, TransportError};
use crate::token::{TokenError, TokenProvider};
use futures::Stream;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

/// The service that answered (or failed to).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    Graph,
    PartnerCenter,
    /// The Microsoft identity platform (token, discovery endpoints).
    Identity,
    Exchange,
}

impl Service {
    pub fn of(r: Resource) -> Service {
        match r {
            Resource::Graph => Service::Graph,
            Resource::PartnerCenter => Service::PartnerCenter,
            Resource::Exchange => Service::Exchange,
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::Graph => "Graph",
            Service::PartnerCenter => "Partner Center",
            Service::Identity => "identity platform",
            Service::Exchange => "Exchange",
        })
    }
}

/// One entry of Graph's/Exchange's `error.details`
/// (`{"code":"ObjectConflict","target":"userPrincipalName"}`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ErrorDetail {
    pub code: String,
    pub target: String,
    pub message: String,
}

/// Graph's detail code for a unique property already taken (see [`ApiError::is_already_exists`]).
pub const OBJECT_CONFLICT: &str = "ObjectConflict";

/// A failed call, with what the service said. Decide with the predicates
/// ([`ApiError::is_not_found`], [`ApiError::is_already_exists`], ...), never with message text.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The service answered with an error status. `code` is Graph's/Exchange's `error.code`,
    /// Partner Center's numeric `code` as text, or the identity platform's `error`.
    #[error("{service} HTTP {status} {code}: {message}")]
    Http {
        service: Service,
        status: u16,
        code: String,
        message: String,
        /// Graph's `error.details` (code and target of each).
        details: Vec<ErrorDetail>,
        /// `request-id` (Graph), `MS-RequestId` (Partner Center), `trace_id` (identity).
        request_id: Option<String>,
        /// The identity platform's first `error_codes` entry (AADSTS code).
        aadsts: Option<u32>,
        retries_exhausted: bool,
    },
    /// No (whole) answer: see [`TransportError::answer_lost`].
    #[error("{0}")]
    Transport(#[from] TransportError),
    /// An answer arrived but is not what the contract says.
    #[error("unexpected {what} from {service} (HTTP {status}): {source}; body starts: {body_start}")]
    Decode {
        service: Service,
        what: String,
        status: u16,
        #[source]
        source: Arc<serde_json::Error>,
        body_start: String,
    },
    /// The service broke its paging protocol (a next link without a token, a link seen before).
    #[error("{service}: {message}")]
    Protocol { service: Service, message: String },
}

impl ApiError {
    /// An `Http` error with only the basic fields (tests, callers that synthesise one).
    pub fn http(service: Service, status: u16, code: &str, message: &str) -> ApiError {
        ApiError::Http {
            service,
            status,
            code: code.to_owned(),
            message: message.to_owned(),
            details: vec![],
            request_id: None,
            aadsts: None,
            retries_exhausted: false,
        }
    }

    /// A decode failure of an answer.
    pub fn decode(service: Service, what: impl Into<String>, r: &Response, e: serde_json::Error) -> ApiError {
        ApiError::Decode {
            service,
            what: what.into(),
            status: r.status.as_u16(),
            source: Arc::new(e),
            body_start: r.body_start(),
        }
    }

    /// A decode failure found after parsing (a field with an impossible value).
    pub fn bad_data(service: Service, what: impl Into<String>, message: impl fmt::Display) -> ApiError {
        ApiError::Decode {
            service,
            what: what.into(),
            status: 200,
            source: Arc::new(<serde_json::Error as serde::de::Error>::custom(message)),
            body_start: String::new(),
        }
    }

    /// Parses a service's error body (Graph/Exchange `{"error":{code,message,details,
    /// innerError}}`, Partner Center `{code,description}`, identity `{error,
    /// error_description,error_codes}`; learn.microsoft.com/graph/errors,
    /// partner-center/developer/error-codes, entra/identity-platform/reference-error-codes).
    pub fn from_response(service: Service, r: &Response) -> ApiError {
        let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        let mut details = vec![];
        let mut aadsts = None;
        let mut request_id = r
            .header("request-id")
            .or_else(|| r.header("ms-requestid"))
            .map(str::to_owned);
        let (code, message) = if let Some(e) = body.get("error").filter(|e| e.is_object()) {
            if let Some(ds) = e.get("details").and_then(Value::as_array) {
                details = ds
                    .iter()
                    .map(|d| ErrorDetail {
                        code: s(d.get("code")).unwrap_or_default(),
                        target: s(d.get("target")).unwrap_or_default(),
                        message: s(d.get("message")).unwrap_or_default(),
                    })
                    .collect();
            }
            let inner = e.get("innerError").or_else(|| e.get("innererror"));
            request_id = request_id.or_else(|| s(inner.and_then(|i| i.get("request-id"))));
            let mut message = s(e.get("message")).unwrap_or_default();
            if service == Service::Exchange {
                // Exchange's admin API: `details[0].message`, else
                // `innererror.internalexception.message`, else `message` (microsoft-api-contracts.md §6.2).
                let internal = s(inner.and_then(|i| i.pointer("/internalexception/message")));
                if let Some(m) = details
                    .first()
                    .map(|d| d.message.clone())
                    .filter(|m| !m.is_empty())
                    .or(internal)
                {
                    message = m;
                }
            }
            (s(e.get("code")).unwrap_or_default(), message)
        } else if let Some(err) = body.get("error").and_then(Value::as_str) {
            aadsts = body
                .get("error_codes")
                .and_then(Value::as_array)
                .and_then(|c| c.first())
                .and_then(Value::as_u64)
                .and_then(|c| u32::try_from(c).ok());
            request_id = request_id.or_else(|| s(body.get("trace_id")));
            let desc = s(body.get("error_description")).unwrap_or_default();
            (err.to_owned(), crate::token::first_sentence(&desc))
        } else if let Some(d) = body.get("description").and_then(Value::as_str) {
            (
                body.get("code")
                    .map(|c| c.to_string().trim_matches('"').to_owned())
                    .unwrap_or_default(),
                d.to_owned(),
            )
        } else {
            (String::new(), r.body_start())
        };
        ApiError::Http {
            service,
            status: r.status.as_u16(),
            code,
            message,
            details,
            request_id,
            aadsts,
            retries_exhausted: r.retries_exhausted,
        }
    }

    /// The HTTP status of a service error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The service of a service, decode or protocol error.
    pub fn service(&self) -> Option<Service> {
        match self {
            ApiError::Http { service, .. } | ApiError::Decode { service, .. } | ApiError::Protocol { service, .. } => {
                Some(*service)
            }
            ApiError::Token(_) => Some(Service::Identity),
            ApiError::Transport(_) => None,
        }
    }

    /// 429: throttled even after the retries.
    pub fn is_throttled(&self) -> bool {
        match self {
            ApiError::Http { status: 429, .. } => true,
            // Exchange's plain-text concurrency answer (see `http::EXCHANGE_CONCURRENCY_TEXT`).
            ApiError::Http {
                service: Service::Exchange,
                message,
                ..
            } => message.starts_with(crate::http::EXCHANGE_CONCURRENCY_TEXT),
            _ => false,
        }
    }

    /// 403: the caller lacks a role or permission here.
    pub fn is_forbidden(&self) -> bool {
        self.status() == Some(403)
    }

    /// 404: no such resource.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// 5xx: the service failed (a write may or may not have been applied).
    pub fn is_server_error(&self) -> bool {
        self.status().is_some_and(|s| (500..600).contains(&s))
    }

    /// 409, or a Graph error whose details name an `ObjectConflict`.
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(409) || self.has_detail(OBJECT_CONFLICT)
    }

    /// Graph refused a create because a unique property (`userPrincipalName`, a domain's
    /// `id`) is taken: 400 `Request_BadRequest` with an `ObjectConflict` detail, e.g. "Another
    /// object with the same value for property userPrincipalName already exists." with
    /// `details: [{"target":"userPrincipalName","code":"ObjectConflict"}]` (the body Microsoft
    /// posted in github.com/microsoftgraph/microsoft-graph-docs/issues/1508).
    pub fn is_already_exists(&self) -> bool {
        matches!(self, ApiError::Http { service: Service::Graph, status: 400, code, .. } if code == "Request_BadRequest")
            && self.has_detail(OBJECT_CONFLICT)
    }

    /// True when a Graph error detail has this code.
    pub fn has_detail(&self, code: &str) -> bool {
        matches!(self, ApiError::Http { details, .. } if details.iter().any(|d| d.code == code))
    }

    /// Graph's (or Exchange's) `error.code`.
    pub fn graph_code(&self) -> Option<&str> {
        match self {
            ApiError::Http {
                service: Service::Graph | Service::Exchange,
                code,
                ..
            } if !code.is_empty() => Some(code),
            _ => None,
        }
    }

    /// The AADSTS code of a token failure or an identity-platform error answer.
    pub fn aadsts_code(&self) -> Option<u32> {
        match self {
            ApiError::Token(TokenError::Aad { code, .. }) => *code,
            ApiError::Http { aadsts, .. } => *aadsts,
            _ => None,
        }
    }

    /// The service's request id, for support cases.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            ApiError::Http { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// No answer arrived although the request may have reached the server (timeout, reset).
    pub fn answer_lost(&self) -> bool {
        matches!(self, ApiError::Transport(t) if t.answer_lost())
    }

    /// A write's outcome is unknown: the answer was lost or the service failed (5xx). Read
    /// back before writing again.
    pub fn outcome_unknown(&self) -> bool {
        self.answer_lost() || self.is_server_error()
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

    /// The clock the executor (and so the token cache) uses; hand it to the fan-out.
    pub fn clock(&self) -> &crate::clock::SharedClock {
        self.executor.clock()
    }

    /// Sends `req` with a token for (`tenant`, `resource`); on 401 fetches a new token once.
    pub async fn send(&self, tenant: &str, resource: Resource, req: Request) -> Result<Response, ApiError> {
        self.send_built(tenant, resource, |token| req.clone().bearer(token))
            .await
    }

    /// [`Api::send`] for a request that carries the token in more places than the
    /// `Authorization` header (Exchange's `$batch` repeats it in every sub-request): `build`
    /// makes the request from the token, again after a 401.
    pub async fn send_built(
        &self,
        tenant: &str,
        resource: Resource,
        build: impl Fn(&str) -> Request,
    ) -> Result<Response, ApiError> {
        self.send_inner(tenant, resource, build, false).await
    }

    /// Sends `req` and returns the `Location` of its `302 Found`: how Graph's usage reports
    /// answer, with a pre-authenticated download URL (learn.microsoft.com/graph/api/reportroot-getmailboxusagedetail).
    /// Redirects are never followed by the executor: the URL is for [`Api::download`], which
    /// sends no token.
    pub async fn redirect_location(&self, tenant: &str, resource: Resource, req: Request) -> Result<String, ApiError> {
        let service = Service::of(resource);
        let r = self
            .send_inner(tenant, resource, |token| req.clone().bearer(token), true)
            .await?;
        if !r.status.is_redirection() {
            return Err(ApiError::Protocol {
                service,
                message: format!(
                    "expected a redirect to the download ({} answered {} instead)",
                    crate::http::redact_url(&req.url),
                    r.status.as_u16()
                ),
            });
        }
        let location = r.header("location").unwrap_or_default();
        let base = url::Url::parse(&req.url).ok();
        let absolute = base
            .and_then(|b| b.join(location).ok())
            .filter(|u| !location.is_empty() && matches!(u.scheme(), "http" | "https"));
        absolute.map(String::from).ok_or_else(|| ApiError::Protocol {
            service,
            message: format!(
                "the redirect of {} names no usable download URL",
                crate::http::redact_url(&req.url)
            ),
        })
    }

    /// Streams a pre-authenticated download (no token is sent, whatever its host). An error
    /// answer is `service`'s [`ApiError`]; the body's chunks come as they arrive.
    pub async fn download(&self, service: Service, url: &str) -> Result<crate::download::Download, ApiError> {
        match self.executor.download(url).await {
            Ok(d) => Ok(d),
            Err(crate::download::DownloadError::Transport(e)) => Err(e.into()),
            Err(crate::download::DownloadError::Status(r)) => {
                let mut e = ApiError::from_response(service, &r);
                if let ApiError::Http { message, .. } = &mut e {
                    *message = format!("download from {}: {message}", crate::download::redact_download_url(url));
                }
                Err(e)
            }
        }
    }

    async fn send_inner(
        &self,
        tenant: &str,
        resource: Resource,
        build: impl Fn(&str) -> Request,
        accept_redirect: bool,
    ) -> Result<Response, ApiError> {
        let service = Service::of(resource);
        let mut second_chance = true;
        let build = &build;
        loop {
            // Every attempt asks the token cache again: a retry after a long `Retry-After`
            // must not resend a token that expired meanwhile (probe D11).
            let made = self
                .executor
                .send_each(|| async move {
                    let t = self.tokens.token(tenant, resource).await?;
                    let req = build(t.token.expose());
                    if !self.endpoints().is_origin_of(resource, &req.url) {
                        // The token for a service only ever goes to that service's host
                        // (probe D9: a next link to another host once received it).
                        return Err(ApiError::Protocol {
                            service,
                            message: format!(
                                "refusing to send the {service} token to {}: not {service}'s host ({})",
                                crate::http::redact_url(&req.url),
                                self.endpoints().base_of(resource)
                            ),
                        });
                    }
                    Ok::<_, ApiError>((req, t))
                })
                .await;
            let (r, token) = match made {
                Ok(x) => x,
                Err(crate::http::SendError::Make(e)) => return Err(e),
                Err(crate::http::SendError::Transport(e)) => return Err(e.into()),
            };
            if r.status.as_u16() == 401 && second_chance {
                second_chance = false;
                self.tokens.invalidate(tenant, resource, &token.token).await;
                continue;
            }
            let wanted = r.status.is_success() || (accept_redirect && r.status.is_redirection());
            if !wanted {
                return Err(ApiError::from_response(Service::of(resource), &r));
            }
            return Ok(r);
        }
    }

    /// Sends `req` and deserialises the answer (`what` names it in a decode error). A success
    /// status carrying a service error body (`{"error":{…}}`) is that error, not a decode
    /// failure.
    pub async fn get<T: DeserializeOwned>(
        &self,
        tenant: &str,
        resource: Resource,
        req: Request,
        what: &str,
    ) -> Result<T, ApiError> {
        let r = self.send(tenant, resource, req).await?;
        r.json::<T>().map_err(|e| {
            let service = Service::of(resource);
            let is_error_body = serde_json::from_slice::<Value>(&r.body)
                .ok()
                .is_some_and(|v| v.get("error").is_some());
            if is_error_body {
                ApiError::from_response(service, &r)
            } else {
                ApiError::decode(service, what, &r, e)
            }
        })
    }

    pub async fn get_json(&self, tenant: &str, resource: Resource, req: Request) -> Result<Value, ApiError> {
        self.get(tenant, resource, req, "JSON").await
    }
}

/// One page of a collection, its items typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub value: Vec<T>,
    /// The next page's URL (Graph `@odata.nextLink`; Partner Center `links.next.uri`).
    pub next_link: Option<String>,
    /// `@odata.count` (Graph, first page with `$count=true`) or `totalCount` (Partner Center).
    pub count: Option<u64>,
}

/// A Graph collection page as sent (learn.microsoft.com/graph/paging).
#[derive(Deserialize)]
#[serde(bound(deserialize = "T: DeserializeOwned"))]
struct GraphPage<T> {
    value: Vec<T>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
    #[serde(rename = "@odata.count")]
    count: Option<u64>,
}

/// Streams the pages of a Graph collection starting with `first`, following `@odata.nextLink`
/// verbatim; `first`'s headers (e.g. `ConsistencyLevel`) are resent on every page, as Graph
/// requires. A next link seen before ends the stream with [`ApiError::Protocol`].
pub fn graph_pages<T: DeserializeOwned>(
    api: Api,
    tenant: String,
    first: Request,
) -> impl Stream<Item = Result<Page<T>, ApiError>> {
    async_stream::try_stream! {
        let headers = first.headers.clone();
        let mut seen: HashSet<String> = HashSet::from([first.url.clone()]);
        let mut req = Some(first);
        while let Some(r) = req.take() {
            let page: GraphPage<T> = api.get(&tenant, Resource::Graph, r, "collection page").await?;
            if let Some(next) = &page.next_link {
                if !seen.insert(next.clone()) {
                    Err(ApiError::Protocol {
                        service: Service::Graph,
                        message: format!("@odata.nextLink repeats a page already read ({})", crate::http::redact_url(next)),
                    })?;
                }
                let mut n = Request::get(next.clone());
                n.headers = headers.clone();
                req = Some(n);
            }
            yield Page { value: page.value, next_link: page.next_link, count: page.count };
        }
    }
}

/// A Partner Center collection page as sent
/// (learn.microsoft.com/partner-center/developer/get-a-list-of-customers).
#[derive(Deserialize)]
#[serde(bound(deserialize = "T: DeserializeOwned"), rename_all = "camelCase")]
struct PcPage<T> {
    #[serde(default = "Vec::new")]
    items: Vec<T>,
    total_count: Option<u64>,
    continuation_token: Option<String>,
    #[serde(default)]
    links: PcLinks,
}

#[derive(Deserialize, Default)]
struct PcLinks {
    next: Option<PcLink>,
}

#[derive(Deserialize)]
struct PcLink {
    #[serde(default)]
    uri: String,
    #[serde(default)]
    headers: Vec<PcHeader>,
}

#[derive(Deserialize)]
struct PcHeader {
    key: String,
    value: String,
}

/// The request for the page after `page`, or `None` at the end. A `links.next` without a uri
/// or a continuation token is an error, not the end: ending there would silently truncate.
fn pc_next_request<T>(endpoints: &Endpoints, page: &PcPage<T>) -> Result<Option<(Request, String)>, ApiError> {
    let Some(next) = &page.links.next else {
        return Ok(None);
    };
    let protocol = |message: &str| ApiError::Protocol {
        service: Service::PartnerCenter,
        message: message.to_owned(),
    };
    if next.uri.is_empty() {
        return Err(protocol(
            "links.next has no uri: the rest of the collection cannot be read",
        ));
    }
    let token = next
        .headers
        .iter()
        .find(|h| h.key.eq_ignore_ascii_case("MS-ContinuationToken"))
        .map(|h| h.value.clone())
        .or_else(|| page.continuation_token.clone())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| protocol("links.next has no continuation token: the rest of the collection cannot be read"))?;
    let abs = if next.uri.starts_with("http") {
        next.uri.clone()
    } else {
        format!("{}{}", endpoints.partner_center, next.uri)
    };
    let req = Request::get(abs)
        .header("accept", "application/json")
        .header("ms-continuationtoken", &token);
    Ok(Some((req, token)))
}

/// Streams the pages of a Partner Center collection (`items`, `continuationToken`,
/// `links.next` with the `MS-ContinuationToken` header). Partner Center calls are made in the
/// partner tenant. A continuation token seen before ends the stream with an error.
pub fn partner_center_pages<T: DeserializeOwned>(
    api: Api,
    partner_tenant: String,
    url: String,
) -> impl Stream<Item = Result<Page<T>, ApiError>> {
    async_stream::try_stream! {
        let mut seen: HashSet<String> = HashSet::new();
        let mut req = Some(Request::get(url).header("accept", "application/json"));
        while let Some(r) = req.take() {
            let page: PcPage<T> = api.get(&partner_tenant, Resource::PartnerCenter, r, "collection page").await?;
            let next = pc_next_request(api.endpoints(), &page)?;
            let mut next_link = None;
            if let Some((n, token)) = next {
                if !seen.insert(token) {
                    Err(ApiError::Protocol {
                        service: Service::PartnerCenter,
                        message: "a continuation token repeats a page already read".into(),
                    })?;
                }
                next_link = Some(n.url.clone());
                req = Some(n);
            }
            yield Page { value: page.items, next_link, count: page.total_count };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http::{HeaderMap, StatusCode};
    use serde_json::json;

    fn response(status: u16, body: Value, headers: &[(&'static str, &str)]) -> Response {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(*k, v.parse().unwrap());
        }
        Response {
            status: StatusCode::from_u16(status).unwrap(),
            headers: h,
            body: Bytes::from(serde_json::to_vec(&body).unwrap()),
            retries: 0,
            retries_exhausted: false,
        }
    }

    /// The duplicate-UPN answer Microsoft posted in microsoftgraph/microsoft-graph-docs#1508.
    fn duplicate_upn() -> Response {
        response(
            400,
            json!({"error": {
                "code": "Request_BadRequest",
                "message": "Another object with the same value for property userPrincipalName already exists.",
                "innerError": {"request-id": "462649d3-a124-42bc-b046-815fb41aae76", "date": "2018-05-08T04:49:55"},
                "details": [{"target": "userPrincipalName", "code": "ObjectConflict"}]
            }}),
            &[],
        )
    }

    #[test]
    fn graphs_duplicate_upn_answer_is_already_exists_and_a_conflict() {
        let e = ApiError::from_response(Service::Graph, &duplicate_upn());
        assert!(e.is_already_exists());
        assert!(e.is_conflict());
        assert!(!e.is_not_found() && !e.is_throttled() && !e.is_forbidden());
        assert_eq!(e.graph_code(), Some("Request_BadRequest"));
        assert_eq!(e.request_id(), Some("462649d3-a124-42bc-b046-815fb41aae76"));
        assert_eq!(e.status(), Some(400));
        // The same words without the ObjectConflict detail are another bad request.
        let plain = ApiError::http(
            Service::Graph,
            400,
            "Request_BadRequest",
            "Another object with the same value for property userPrincipalName already exists.",
        );
        assert!(!plain.is_already_exists());
    }

    #[test]
    fn each_services_error_body_is_parsed() {
        let g = ApiError::from_response(
            Service::Graph,
            &response(
                404,
                json!({"error": {"code": "Request_ResourceNotFound", "message": "Resource 'x' does not exist."}}),
                &[("request-id", "rid-1")],
            ),
        );
        assert!(g.is_not_found());
        assert_eq!(g.graph_code(), Some("Request_ResourceNotFound"));
        assert_eq!(g.request_id(), Some("rid-1"));

        let pc = ApiError::from_response(
            Service::PartnerCenter,
            &response(
                403,
                json!({"code": 3000, "description": "Denied.", "data": [], "source": "PartnerFD"}),
                &[("ms-requestid", "pc-1")],
            ),
        );
        assert!(matches!(&pc, ApiError::Http { code, message, .. } if code == "3000" && message == "Denied."));
        assert!(pc.is_forbidden());
        assert_eq!(pc.graph_code(), None);
        assert_eq!(pc.request_id(), Some("pc-1"));

        let id = ApiError::from_response(
            Service::Identity,
            &response(
                400,
                json!({"error": "invalid_tenant", "error_description": "AADSTS90002: Tenant 'x' not found. Trace ID: t",
                       "error_codes": [90002], "trace_id": "t"}),
                &[],
            ),
        );
        assert_eq!(id.aadsts_code(), Some(90002));
        assert!(matches!(&id, ApiError::Http { message, .. } if !message.contains("Trace ID")));

        let exo = ApiError::from_response(
            Service::Exchange,
            &response(
                400,
                json!({"error": {"code": "BadRequest", "message": "|Outer|text",
                    "details": [{"code": "Context", "target": "", "message": "Ex6F9304|NotFound|object 'nobody@contoso.com' couldn't be found."}],
                    "innererror": {"internalexception": {"message": "internal"}}}}),
                &[],
            ),
        );
        assert!(
            matches!(&exo, ApiError::Http { message, .. } if message.starts_with("Ex6F9304")),
            "{exo}"
        );
        assert_eq!(exo.graph_code(), Some("BadRequest"));

        let throttled = ApiError::from_response(
            Service::Graph,
            &response(
                429,
                json!({"error": {"code": "TooManyRequests", "message": "Please retry again later."}}),
                &[],
            ),
        );
        assert!(throttled.is_throttled());
        let text = ApiError::from_response(Service::Graph, &response(502, json!("<html>"), &[]));
        assert!(text.is_server_error() && text.outcome_unknown());
        assert!(!text.answer_lost());
    }

    fn pc_page(v: Value) -> PcPage<Value> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn partner_center_next_link_without_a_token_or_uri_is_an_error_not_the_end() {
        let e = Endpoints::custom("http://127.0.0.1:1").unwrap();
        let last = pc_page(json!({"totalCount": 1, "items": [{}], "links": {"self": {"uri": "/v1/customers"}}}));
        assert!(pc_next_request(&e, &last).unwrap().is_none());

        let no_token = pc_page(
            json!({"items": [], "links": {"next": {"uri": "/v1/customers?seekOperation=Next", "headers": []}}}),
        );
        assert!(matches!(pc_next_request(&e, &no_token), Err(ApiError::Protocol { .. })));

        let empty_uri = pc_page(json!({"items": [], "continuationToken": "t",
            "links": {"next": {"uri": "", "headers": [{"key": "MS-ContinuationToken", "value": "t"}]}}}));
        assert!(matches!(
            pc_next_request(&e, &empty_uri),
            Err(ApiError::Protocol { .. })
        ));

        let good = pc_page(json!({"items": [], "continuationToken": "ignored",
            "links": {"next": {"uri": "/v1/customers?size=3&seekOperation=Next", "method": "GET",
                "headers": [{"key": "MS-ContinuationToken", "value": "tok-2"}]}}}));
        let (req, token) = pc_next_request(&e, &good).unwrap().unwrap();
        assert_eq!(token, "tok-2");
        assert_eq!(
            req.url,
            "http://127.0.0.1:1/partnercenter/v1/customers?size=3&seekOperation=Next"
        );
        assert_eq!(req.headers["ms-continuationtoken"], "tok-2");

        // The top-level continuationToken serves when the link carries no header.
        let top = pc_page(json!({"items": [], "continuationToken": "tok-3",
            "links": {"next": {"uri": "/v1/customers?seekOperation=Next"}}}));
        assert_eq!(pc_next_request(&e, &top).unwrap().unwrap().1, "tok-3");
    }

    /// A token endpoint and a Graph `/users` whose second page links to itself.
    async fn looping_graph() -> (Api, Arc<parking_lot::Mutex<Vec<Option<String>>>>) {
        use axum::extract::{Query, State};
        use axum::http::HeaderMap as Headers;
        use axum::routing::{get, post};
        use axum::{Json, Router};
        use std::collections::HashMap;
        type Seen = Arc<parking_lot::Mutex<Vec<Option<String>>>>;
        let seen: Seen = Default::default();
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        let next = format!("{base}/graph/v1.0/users?$skiptoken=page2");
        let app = Router::new()
            .route(
                "/login/{tenant}/oauth2/v2.0/token",
                post(|| async { Json(json!({"token_type": "Bearer", "expires_in": 3600, "access_token": "at"})) }),
            )
            .route(
                "/graph/v1.0/users",
                get(
                    move |State(seen): State<Seen>, h: Headers, Query(q): Query<HashMap<String, String>>| {
                        let next = next.clone();
                        async move {
                            seen.lock()
                                .push(h.get("consistencylevel").map(|v| v.to_str().unwrap().to_owned()));
                            let id = if q.contains_key("$skiptoken") { "b" } else { "a" };
                            Json(json!({"value": [{"id": id}], "@odata.nextLink": next}))
                        }
                    },
                ),
            )
            .with_state(seen.clone());
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        let exec = Executor::new(Default::default());
        let tokens = TokenProvider::new(
            Endpoints::custom(&base).unwrap(),
            crate::token::Credential::ClientSecret {
                client_id: "c".into(),
                secret: crate::token::Secret::new("s"),
            },
            exec.clone(),
        );
        (Api::new(exec, Arc::new(tokens)), seen)
    }

    #[tokio::test]
    async fn a_next_link_seen_before_ends_graph_paging_with_an_error_and_headers_are_resent() {
        use futures::StreamExt;
        #[derive(Deserialize, Debug)]
        struct U {
            id: String,
        }
        let (api, seen) = looping_graph().await;
        let first = Request::get(api.endpoints().graph_v1("users")).header("ConsistencyLevel", "eventual");
        let pages: Vec<Result<Page<U>, ApiError>> = graph_pages(api, "t".into(), first).collect().await;
        assert_eq!(pages.len(), 2, "{pages:?}");
        assert_eq!(pages[0].as_ref().unwrap().value[0].id, "a");
        assert!(
            matches!(&pages[1], Err(ApiError::Protocol { service: Service::Graph, message }) if message.contains("repeats"))
        );
        // Page 2 was read once; the repeat was not requested again.
        assert_eq!(*seen.lock(), vec![Some("eventual".to_owned()); 2]);
    }

    #[test]
    fn a_graph_page_is_typed_from_the_bytes() {
        #[derive(Deserialize, Debug, PartialEq)]
        struct U {
            id: String,
        }
        let p: GraphPage<U> = serde_json::from_slice(
            br#"{"@odata.context":"x","value":[{"id":"a"},{"id":"b","extra":1}],"@odata.nextLink":"https://g/next","@odata.count":2}"#,
        )
        .unwrap();
        assert_eq!(p.value, vec![U { id: "a".into() }, U { id: "b".into() }]);
        assert_eq!(p.next_link.as_deref(), Some("https://g/next"));
        assert_eq!(p.count, Some(2));
        assert!(
            serde_json::from_slice::<GraphPage<U>>(br#"{"items":[]}"#).is_err(),
            "value is required"
        );
    }
}
