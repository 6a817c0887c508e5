//! `POST …/$batch` (CIPP `New-ExoBulkRequest`, contract §1.5) [C CIPP]:
//! `{"requests":[{"id","method":"POST","url":"https://…/adminapi/beta/<tid>/InvokeCommand?","body":{…},"headers":{…}}]}`
//! → `{"responses":[{"id","status","body"}]}`, answered by id, every item run
//! (`odata.continue-on-error` behaviour: a failed item carries `body.error`, the others succeed).
//!
//! At most [`MAX_REQUESTS`] items (CIPP's chunking; no documented service limit — more is
//! refused with 400 [I]). Items run with the batch's own authorisation and tenant; an item's
//! `url` may be absolute (any host; the path decides) or relative, and may carry `$select` and a
//! `$skiptoken` (CIPP follows an item's nextLink by sending it as the next batch's `url`).
//! An item's `Prefer` header sets its page size, else the batch's.

use super::access::authorize;
use super::errors::ExoError;
use super::invoke::{ok, prefer_page_size, run};
use crate::state::Sim;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::sync::Arc;

/// Largest batch accepted.
pub const MAX_REQUESTS: usize = 10;

/// Splits an item's `url` into (tenant segment, query) when it names `InvokeCommand`.
fn target(url: &str) -> Option<(String, Option<String>)> {
    let url = url.trim();
    let rest = match url.find("://") {
        Some(i) => {
            let after = &url[i + 3..];
            &after[after.find('/')?..]
        }
        None => url,
    };
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, (!q.is_empty()).then(|| q.to_owned())),
        None => (rest, None),
    };
    let path = path.trim_start_matches('/');
    let path = path.strip_prefix("outlook/").unwrap_or(path);
    let path = path.strip_prefix("adminapi/beta/")?;
    let (tenant, op) = path.split_once('/')?;
    op.eq_ignore_ascii_case("InvokeCommand")
        .then(|| (tenant.to_owned(), query))
}

/// The axum handler.
pub async fn handler(State(sim): State<Arc<Sim>>, Path(tenant): Path<String>, parts: Parts, body: Bytes) -> Response {
    let base = crate::origin::Origin::from_parts(&parts.headers, &parts.extensions, &parts.uri).base();
    let ctx = match authorize(&sim, &parts.headers, &tenant, base) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let batch_page = prefer_page_size(&parts.headers);
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return ExoError::bad_body(format!("The batch body is not valid JSON: {e}")).into_response(),
    };
    let Some(items) = parsed.get("requests").and_then(Value::as_array) else {
        return ExoError::bad_body("The batch body must contain a 'requests' array.").into_response();
    };
    if items.len() > MAX_REQUESTS {
        return ExoError::bad_body(format!(
            "A batch may contain at most {MAX_REQUESTS} requests; this one has {}.",
            items.len()
        ))
        .into_response();
    }
    let mut responses = Vec::with_capacity(items.len());
    for item in items {
        let id = match item.get("id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let answer = (|| {
            if id.is_empty() {
                return Err(ExoError::bad_body("Each batch request needs an 'id'."));
            }
            let method = item.get("method").and_then(Value::as_str).unwrap_or("POST");
            if !method.eq_ignore_ascii_case("POST") {
                return Err(ExoError::bad_body(format!(
                    "The method '{method}' is not supported in a batch."
                )));
            }
            let url = item.get("url").and_then(Value::as_str).unwrap_or_default();
            let (seg, query) = target(url)
                .ok_or_else(|| ExoError::bad_body(format!("The batch request url '{url}' is not supported.")))?;
            let same_tenant =
                seg.eq_ignore_ascii_case(&tenant) || sim.fleet.find_tenant(&seg).is_some_and(|t| t.idx == ctx.tenant);
            if !same_tenant {
                return Err(ExoError::bad_body(format!(
                    "The batch request url names tenant '{seg}', not the batch's tenant '{tenant}'."
                )));
            }
            let page = item
                .get("headers")
                .and_then(Value::as_object)
                .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case("prefer")))
                .and_then(|(_, v)| v.as_str())
                .and_then(|v| {
                    let mut h = axum::http::HeaderMap::new();
                    h.insert("prefer", v.parse().ok()?);
                    prefer_page_size(&h)
                })
                .or(batch_page);
            let body = match item.get("body") {
                Some(Value::String(s)) => s.clone().into_bytes(),
                Some(v) => serde_json::to_vec(v).unwrap_or_default(),
                None => Vec::new(),
            };
            run(&ctx, query.as_deref(), &body, page)
        })();
        responses.push(match answer {
            Ok(body) => json!({"id": id, "status": 200, "body": body}),
            Err(e) => json!({"id": id, "status": e.status.as_u16(), "body": e.body()}),
        });
    }
    ok(json!({ "responses": responses }))
}

#[cfg(test)]
mod tests {
    use super::target;

    #[test]
    fn item_urls_are_read_as_cipp_writes_them() {
        assert_eq!(
            target("https://outlook.office365.com/adminapi/beta/abc/InvokeCommand?"),
            Some(("abc".into(), None))
        );
        assert_eq!(
            target("http://127.0.0.1:9/outlook/adminapi/beta/abc/InvokeCommand?$select=A&$skiptoken=x"),
            Some(("abc".into(), Some("$select=A&$skiptoken=x".into())))
        );
        assert_eq!(target("/adminapi/beta/abc/InvokeCommand"), Some(("abc".into(), None)));
        assert_eq!(target("https://x/adminapi/beta/abc/Mailbox"), None);
    }
}
