//! Graph JSON batching: `POST /graph/v1.0/$batch` (learn.microsoft.com/graph/json-batching).
//!
//! Up to 20 steps, each `{id, method, url, headers?, body?, dependsOn?}`; `url` relative to the
//! version (`/users`, `users?$top=5`) as documented, or absolute
//! (`https://graph.microsoft.com/v1.0/users`) as Microsoft's SDKs send it. Every step is sent as
//! an internal request through the simulator's own router (`tower::ServiceExt::oneshot`), with
//! the batch's `Authorization` header: it is authorised, throttled (a throttled step answers 429
//! with its `Retry-After` inside the 200 batch — learn.microsoft.com/graph/throttling), faulted
//! and counted like the request itself. Steps without dependencies run concurrently; a step
//! whose dependency failed answers 424 Failed Dependency. The outer status is 200 whenever the
//! batch itself is well formed; a malformed batch (over 20 steps, duplicate or missing ids,
//! a step without `method`/`url`) is one Graph 400 `BadRequest`.

use crate::errors::{graph_error, graph_json, RequestIds};
use crate::server::Sim;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use base64::Engine;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tower::ServiceExt;

/// Graph's limit on requests per batch.
pub const MAX_STEPS: usize = 20;
/// Largest batch body accepted (Graph documents 4 MB for request payloads [I]).
const MAX_BODY: usize = 4 * 1024 * 1024;

pub fn routes() -> Router<Arc<Sim>> {
    Router::new().route("/graph/v1.0/$batch", post(batch))
}

/// One parsed step.
#[derive(Debug, Clone)]
struct Step {
    id: String,
    method: Method,
    /// Path and query under the simulator, e.g. `/graph/v1.0/users?$top=5`.
    target: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Option<Vec<u8>>,
    depends_on: Vec<String>,
}

fn bad_request(message: &str, ids: &RequestIds) -> Response {
    graph_error(StatusCode::BAD_REQUEST, "BadRequest", message, ids)
}

/// The step's `url` as a path under the simulator, or None if it is not a Graph v1.0 URL.
fn target_of(url: &str) -> Option<String> {
    let url = url.trim();
    if url.starts_with("http://") || url.starts_with("https://") {
        let parsed = url::Url::parse(url).ok()?;
        let path = parsed.path();
        let rest = path
            .strip_prefix("/graph/v1.0/")
            .or_else(|| path.strip_prefix("/v1.0/"))?;
        let query = parsed.query().map(|q| format!("?{q}")).unwrap_or_default();
        return Some(format!("/graph/v1.0/{rest}{query}"));
    }
    let rest = url.trim_start_matches('/');
    // A relative URL may still carry the version (`/v1.0/users`) [I]; Graph's docs use `/users`.
    let rest = rest.strip_prefix("v1.0/").unwrap_or(rest);
    if rest.is_empty() {
        return None;
    }
    // Steps are written as humans write them (`$filter=city eq null`): encode what a URI can't hold.
    Some(format!(
        "/graph/v1.0/{}",
        percent_encoding::utf8_percent_encode(rest, UNSAFE_IN_URI)
    ))
}

/// Characters a request target cannot carry literally (`%` stays: it may already be encoding).
const UNSAFE_IN_URI: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'\\')
    .add(b'^');

fn parse_steps(raw: &Value, ids: &RequestIds) -> Result<Vec<Step>, Response> {
    let Some(requests) = raw.get("requests").and_then(Value::as_array) else {
        // [I] text.
        return Err(bad_request("Invalid batch payload format.", ids));
    };
    if requests.len() > MAX_STEPS {
        // json-batching: "Microsoft Graph supports batching up to 20 requests"; [I] text.
        return Err(bad_request(
            &format!("Number of batch requests exceeds the limit of {MAX_STEPS}."),
            ids,
        ));
    }
    let mut steps = Vec::with_capacity(requests.len());
    let mut seen = HashSet::new();
    for r in requests {
        let Some(obj) = r.as_object() else {
            return Err(bad_request("Invalid batch payload format.", ids));
        };
        let id = match obj.get("id") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            // json-batching: `id` is required; [I] text.
            _ => return Err(bad_request("Each request in a batch must have an 'id'.", ids)),
        };
        // json-batching: ids are case-insensitive and "must be unique within a batch, or the
        // batch request fails with a 400 error code"; [I] text.
        if !seen.insert(id.to_ascii_lowercase()) {
            return Err(bad_request(&format!("Batch request id '{id}' is duplicated."), ids));
        }
        let Some(method) = obj
            .get("method")
            .and_then(Value::as_str)
            .and_then(|m| Method::from_bytes(m.trim().to_ascii_uppercase().as_bytes()).ok())
        else {
            return Err(bad_request(
                &format!("Request id '{id}' is missing a valid 'method'."),
                ids,
            ));
        };
        let Some(url) = obj.get("url").and_then(Value::as_str) else {
            return Err(bad_request(&format!("Request id '{id}' is missing 'url'."), ids));
        };
        let Some(target) = target_of(url) else {
            return Err(bad_request(&format!("Invalid request URL '{url}'."), ids));
        };
        if target.starts_with("/graph/v1.0/$batch") {
            return Err(bad_request("A batch request cannot contain a batch request.", ids));
        }
        let mut headers = Vec::new();
        let mut content_type = None;
        if let Some(h) = obj.get("headers").and_then(Value::as_object) {
            for (k, v) in h {
                let v = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let (Ok(name), Ok(value)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(&v)) else {
                    return Err(bad_request(
                        &format!("Request id '{id}' has an invalid header '{k}'."),
                        ids,
                    ));
                };
                if name == http::header::CONTENT_TYPE {
                    content_type = Some(v.to_ascii_lowercase());
                }
                headers.push((name, value));
            }
        }
        let body = match obj.get("body") {
            None | Some(Value::Null) => None,
            Some(b) => {
                // json-batching: "When a body is included with the request, the headers object
                // must contain a value for Content-Type."
                let Some(ct) = &content_type else {
                    return Err(bad_request(
                        &format!("Write request id : {id} does not contain Content-Type header or body."),
                        ids,
                    ));
                };
                Some(match b {
                    // A non-JSON body travels base64-encoded.
                    Value::String(s) if !ct.contains("json") => base64::engine::general_purpose::STANDARD
                        .decode(s)
                        .unwrap_or_else(|_| s.clone().into_bytes()),
                    other => serde_json::to_vec(other).unwrap_or_default(),
                })
            }
        };
        let deps = obj.get("dependsOn").or_else(|| obj.get("depends_on"));
        let depends_on = match deps {
            None | Some(Value::Null) => vec![],
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))
                .collect(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(_) => return Err(bad_request("Invalid batch payload format.", ids)),
        };
        steps.push(Step {
            id,
            method,
            target,
            headers,
            body,
            depends_on,
        });
    }
    for s in &steps {
        for d in &s.depends_on {
            if !seen.contains(&d.to_ascii_lowercase()) || d.eq_ignore_ascii_case(&s.id) {
                // [I] text.
                return Err(bad_request(
                    &format!(
                        "Request id '{}' depends on '{d}', which is not a request of this batch.",
                        s.id
                    ),
                    ids,
                ));
            }
        }
    }
    Ok(steps)
}

/// Headers of the outer request every step inherits.
const INHERITED: &[HeaderName] = &[http::header::AUTHORIZATION, http::header::HOST];

async fn batch(State(sim): State<Arc<Sim>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let ids = RequestIds::from_headers(&parts.headers);
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return bad_request("Invalid batch payload format.", &ids);
    };
    let Ok(raw) = serde_json::from_slice::<Value>(&bytes) else {
        return bad_request("Invalid batch payload format.", &ids);
    };
    let steps = match parse_steps(&raw, &ids) {
        Ok(s) => s,
        Err(r) => return r,
    };
    // The same router the request came through (with its middleware), plus the listener info
    // so steps see the batch's origin.
    let router = crate::server::router(sim.clone());
    let listener = parts.extensions.get::<crate::origin::ListenerInfo>().cloned();

    let mut done: HashMap<String, u16> = HashMap::new();
    let mut responses: Vec<Value> = Vec::with_capacity(steps.len());
    let mut pending: Vec<&Step> = steps.iter().collect();
    while !pending.is_empty() {
        let (ready, waiting): (Vec<&Step>, Vec<&Step>) = pending
            .into_iter()
            .partition(|s| s.depends_on.iter().all(|d| done.contains_key(&d.to_ascii_lowercase())));
        if ready.is_empty() {
            // A dependency cycle: nothing can run. [I] text.
            return bad_request("The batch request has a circular dependency between requests.", &ids);
        }
        let mut runs = Vec::new();
        for s in ready {
            let failed_dep = s.depends_on.iter().any(|d| {
                done.get(&d.to_ascii_lowercase())
                    .is_some_and(|st| !(200..300).contains(st))
            });
            if failed_dep {
                done.insert(s.id.to_ascii_lowercase(), 424);
                responses.push(failed_dependency(s, &ids));
                continue;
            }
            runs.push(run_step(router.clone(), s, &parts.headers, listener.clone()));
        }
        for (id, status, v) in futures::future::join_all(runs).await {
            done.insert(id.to_ascii_lowercase(), status);
            responses.push(v);
        }
        pending = waiting;
    }
    graph_json(StatusCode::OK, json!({ "responses": responses }), &ids)
}

/// 424 for a step whose dependency failed (json-batching: "If an individual request fails, any
/// request that depends on that request fails with status code 424 (Failed Dependency)").
fn failed_dependency(s: &Step, ids: &RequestIds) -> Value {
    json!({
        "id": s.id,
        "status": 424,
        "headers": { "Content-Type": "application/json" },
        "body": {
            "error": {
                "code": "FailedDependency",
                "message": "The request failed because it depended on another request that failed.",
                "innerError": {
                    "date": crate::errors::graph_error_date(),
                    "request-id": ids.request_id.to_string(),
                    "client-request-id": ids.client_request_id,
                }
            }
        }
    })
}

async fn run_step(
    router: Router,
    s: &Step,
    outer: &HeaderMap,
    listener: Option<crate::origin::ListenerInfo>,
) -> (String, u16, Value) {
    let mut b = http::Request::builder().method(s.method.clone()).uri(&s.target);
    for name in INHERITED {
        if let Some(v) = outer.get(name) {
            b = b.header(name, v);
        }
    }
    for (k, v) in &s.headers {
        // The batch's own token authorises every step.
        if k != http::header::AUTHORIZATION {
            b = b.header(k, v);
        }
    }
    let mut req = match b.body(Body::from(s.body.clone().unwrap_or_default())) {
        Ok(r) => r,
        Err(_) => {
            return (
                s.id.clone(),
                400,
                json!({ "id": s.id, "status": 400, "body": { "error": { "code": "BadRequest", "message": "Invalid request." } } }),
            )
        }
    };
    if let Some(l) = listener {
        req.extensions_mut().insert(l);
    }
    let resp = match router.oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let status = resp.status().as_u16();
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY).await.unwrap_or_default();
    let mut headers = Map::new();
    for (k, v) in &parts.headers {
        if matches!(k.as_str(), "content-length" | "transfer-encoding" | "connection") {
            continue;
        }
        if let Ok(v) = v.to_str() {
            headers.insert(canonical(k.as_str()), Value::String(v.to_owned()));
        }
    }
    let is_json = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let mut out = json!({ "id": s.id, "status": status, "headers": Value::Object(headers) });
    if !bytes.is_empty() {
        out["body"] = match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) if is_json => v,
            _ => Value::String(base64::engine::general_purpose::STANDARD.encode(&bytes)),
        };
    }
    (s.id.clone(), status, out)
}

/// `retry-after` → `Retry-After`, as Graph spells standard headers in batch responses
/// (its own `x-ms-*` headers stay lower-case).
fn canonical(name: &str) -> String {
    if name.starts_with("x-ms-") {
        return name.to_owned();
    }
    name.split('-')
        .map(|p| {
            let mut c = p.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_absolute_urls_map_to_the_simulators_graph() {
        assert_eq!(target_of("/users").unwrap(), "/graph/v1.0/users");
        assert_eq!(target_of("users?$top=5").unwrap(), "/graph/v1.0/users?$top=5");
        assert_eq!(
            target_of("/users?$filter=city eq null").unwrap(),
            "/graph/v1.0/users?$filter=city%20eq%20null"
        );
        assert_eq!(
            target_of("https://graph.microsoft.com/v1.0/users?$select=id").unwrap(),
            "/graph/v1.0/users?$select=id"
        );
        assert_eq!(
            target_of("https://127.0.0.1:8443/graph/v1.0/domains").unwrap(),
            "/graph/v1.0/domains"
        );
        assert_eq!(target_of("https://graph.microsoft.com/beta/users"), None);
        assert_eq!(canonical("retry-after"), "Retry-After");
        assert_eq!(canonical("x-ms-throttle-scope"), "x-ms-throttle-scope");
    }
}
