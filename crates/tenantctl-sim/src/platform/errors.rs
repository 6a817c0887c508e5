//! Error bodies exactly as each Microsoft service sends them.

use crate::ids::{random_guid, Guid};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Graph's `Date`-like timestamp in `innerError.date` ("2025-02-13T10:17:06", no zone).
pub fn graph_error_date() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        now.year(),
        now.month() as u8,
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

/// Per-request ids: Graph echoes `client-request-id` when the caller sent one.
#[derive(Clone, Debug)]
pub struct RequestIds {
    pub request_id: Guid,
    pub client_request_id: String,
}

impl RequestIds {
    pub fn from_headers(h: &HeaderMap) -> RequestIds {
        let request_id = random_guid();
        let client_request_id = h
            .get("client-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_else(|| request_id.to_string());
        RequestIds {
            request_id,
            client_request_id,
        }
    }
}

/// Microsoft Graph error envelope (learn.microsoft.com/graph/errors):
/// `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`.
pub fn graph_error(status: StatusCode, code: &str, message: &str, ids: &RequestIds) -> Response {
    graph_error_with_details(status, code, message, &[], ids)
}

/// A Graph error with `details` entries (`{"code","message","target"}`), as Graph sends for a
/// unique property already taken: `ObjectConflict` on `userPrincipalName`
/// (github.com/microsoftgraph/microsoft-graph-docs/issues/1508).
pub fn graph_error_with_details(
    status: StatusCode,
    code: &str,
    message: &str,
    details: &[(String, String)],
    ids: &RequestIds,
) -> Response {
    let mut body = json!({
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": graph_error_date(),
                "request-id": ids.request_id.to_string(),
                "client-request-id": ids.client_request_id,
            }
        }
    });
    if !details.is_empty() {
        body["error"]["details"] = details
            .iter()
            .map(|(code, target)| json!({"code": code, "message": message, "target": target}))
            .collect();
    }
    let mut r = (status, axum::Json(body)).into_response();
    graph_headers(r.headers_mut(), ids);
    r
}

/// Headers Graph puts on every response.
pub fn graph_headers(h: &mut HeaderMap, ids: &RequestIds) {
    if let Ok(v) = HeaderValue::from_str(&ids.request_id.to_string()) {
        h.insert(HeaderName::from_static("request-id"), v);
    }
    if let Ok(v) = HeaderValue::from_str(&ids.client_request_id) {
        h.insert(HeaderName::from_static("client-request-id"), v);
    }
    h.insert(
        HeaderName::from_static("x-ms-ags-diagnostic"),
        HeaderValue::from_static(r#"{"ServerInfo":{"DataCenter":"Local","Slice":"E","Ring":"5","ScaleUnit":"000","RoleInstance":"tenantctl-sim"}}"#),
    );
}

/// A JSON 200 (or other) response with Graph's headers.
pub fn graph_json(status: StatusCode, body: impl serde::Serialize, ids: &RequestIds) -> Response {
    graph_json_sized(status, body, 128, ids)
}

/// [`graph_json`] written into a buffer of `capacity` bytes to start with (a large page then
/// grows it once or not at all). The answer `(status, axum::Json(body))` makes.
pub fn graph_json_sized(
    status: StatusCode,
    body: impl serde::Serialize,
    capacity: usize,
    ids: &RequestIds,
) -> Response {
    let mut buf = Vec::with_capacity(capacity);
    let mut r = match serde_json::to_writer(&mut buf, &body) {
        Ok(()) => (
            status,
            [(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            bytes::Bytes::from(buf),
        )
            .into_response(),
        // axum's answer to a body that does not serialize.
        Err(_) => (status, axum::Json(body)).into_response(),
    };
    graph_headers(r.headers_mut(), ids);
    r
}

/// Identity platform error (learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#error-response):
/// `error`, `error_description` (AADSTS code first, then Trace ID, Correlation ID, Timestamp),
/// `error_codes`, `timestamp`, `trace_id`, `correlation_id`, `error_uri`.
pub fn aad_error(status: StatusCode, error: &str, code: u32, text: &str) -> Response {
    let trace_id = random_guid().to_string();
    let correlation_id = random_guid().to_string();
    let now = time::OffsetDateTime::now_utc();
    let timestamp = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
        now.year(),
        now.month() as u8,
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let body = json!({
        "error": error,
        "error_description": format!(
            "AADSTS{code}: {text}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}"
        ),
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
    });
    (status, axum::Json(body)).into_response()
}

/// Partner Center error (`{"code","description","data","source"}`).
pub fn partner_center_error(status: StatusCode, code: u32, description: &str) -> Response {
    let body = json!({ "code": code, "description": description, "data": [], "source": "PartnerFD" });
    let mut r = (status, axum::Json(body)).into_response();
    let id = random_guid().to_string();
    if let Ok(v) = HeaderValue::from_str(&id) {
        r.headers_mut()
            .insert(HeaderName::from_static("ms-requestid"), v.clone());
        r.headers_mut().insert(HeaderName::from_static("ms-correlationid"), v);
    }
    r
}

/// A Graph error answer (learn.microsoft.com/graph/errors) as a value: handlers return it in
/// `Err` and axum renders it with Graph's envelope and headers.
#[derive(Debug, Clone)]
pub struct GraphError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub ids: RequestIds,
    /// Extra response headers (`Retry-After`, `x-ms-throttle-*`…).
    pub headers: Vec<(&'static str, String)>,
    /// `error.details` entries: (code, target).
    pub details: Vec<(String, String)>,
}

impl GraphError {
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>, ids: &RequestIds) -> Self {
        GraphError {
            status,
            code: code.into(),
            message: message.into(),
            ids: ids.clone(),
            headers: vec![],
            details: vec![],
        }
    }

    pub fn with_detail(mut self, code: &str, target: &str) -> Self {
        self.details.push((code.to_owned(), target.to_owned()));
        self
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let mut r = graph_error_with_details(self.status, &self.code, &self.message, &self.details, &self.ids);
        for (name, v) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&v) {
                r.headers_mut().insert(HeaderName::from_static(name), v);
            }
        }
        r
    }
}

/// A Partner Center error answer (`{"code","description","data","source"}`), echoing the
/// caller's `MS-RequestId`/`MS-CorrelationId` when it sent them.
#[derive(Debug, Clone)]
pub struct PartnerCenterError {
    pub status: StatusCode,
    pub code: u32,
    pub description: String,
    /// The request's headers whose ids are echoed.
    pub echo: HeaderMap,
    pub www_authenticate: bool,
}

impl PartnerCenterError {
    pub fn new(status: StatusCode, code: u32, description: impl Into<String>, request: &HeaderMap) -> Self {
        let mut echo = HeaderMap::new();
        for name in ["ms-requestid", "ms-correlationid"] {
            if let Some(v) = request.get(name) {
                echo.insert(HeaderName::from_static(name), v.clone());
            }
        }
        PartnerCenterError {
            status,
            code,
            description: description.into(),
            echo,
            www_authenticate: false,
        }
    }
}

impl IntoResponse for PartnerCenterError {
    fn into_response(self) -> Response {
        let mut r = partner_center_error(self.status, self.code, &self.description);
        partner_center_headers(r.headers_mut(), &self.echo);
        if self.www_authenticate {
            r.headers_mut()
                .insert(http::header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}

/// Headers Partner Center puts on every response: `MS-RequestId`, `MS-CorrelationId` (the
/// caller's when sent, else fresh) and `MS-CV`.
pub fn partner_center_headers(h: &mut HeaderMap, request: &HeaderMap) {
    for name in ["ms-requestid", "ms-correlationid"] {
        let v = request
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_else(|| random_guid().to_string());
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(HeaderName::from_static(name), v);
        }
    }
    h.insert(
        HeaderName::from_static("ms-cv"),
        HeaderValue::from_static("tenantctl-sim.0"),
    );
}

/// An error of the control API: `{"error": "..."}`.
#[derive(Debug, Clone)]
pub struct ControlError {
    pub status: StatusCode,
    pub message: String,
}

impl ControlError {
    pub fn bad(message: impl Into<String>) -> Self {
        ControlError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        ControlError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(json!({"error": self.message}))).into_response()
    }
}
