//! `POST …/InvokeCommand`: body, cmdlet dispatch, `$select`, paging (contract §1.3, §1.4).
//!
//! Paging: `Prefer: odata.maxpagesize=N` sets the page size; without it a page holds up to
//! [`DEFAULT_PAGE_SIZE`] rows [I: CIPP always sends 1000; the service's own default for
//! InvokeCommand is unknown]. `@odata.nextLink` is absolute on the request's origin, keeps the
//! `$select` and carries a `$skiptoken`; the client re-POSTs the same body and headers to it
//! (CIPP `New-ExoRequest`). A page with a nextLink carries the ResultSize warning in
//! `@adminapi.warnings` [O graph2otel]. A token replayed with another body, for another tenant, or more
//! than 30 minutes (simulator clock) after it was issued answers 400 "Expired or Invalid
//! pagination request. Default Expiry time is 00:30:00" [O graph2otel].

use super::access::{authorize, ExoCtx};
use super::cmdlets::mailbox::MORE_RESULTS_WARNING;
use super::cmdlets::{self, Output};
use super::errors::ExoError;
use super::params::Params;
use crate::odata::hash_str;
use crate::state::Sim;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// Rows per page without `Prefer: odata.maxpagesize` [I].
pub const DEFAULT_PAGE_SIZE: usize = 1000;
/// How long a nextLink stays valid [O graph2otel: "Default Expiry time is 00:30:00"].
pub const PAGE_EXPIRY_SECS: i64 = 30 * 60;

/// The axum handler.
pub async fn handler(
    State(sim): State<Arc<Sim>>,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
    parts: Parts,
    body: Bytes,
) -> Response {
    let base = crate::origin::Origin::from_parts(&parts.headers, &parts.extensions, &parts.uri).base();
    let ctx = match authorize(&sim, &parts.headers, &tenant, base) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let prefer = prefer_page_size(&parts.headers);
    match run(&ctx, query.as_deref(), &body, prefer) {
        Ok(v) => ok(v),
        Err(e) => e.into_response(),
    }
}

/// A 200 JSON answer as the service sends it.
pub fn ok(v: Value) -> Response {
    let mut r = (StatusCode::OK, axum::Json(v)).into_response();
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(
            "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8",
        ),
    );
    r
}

/// `odata.maxpagesize` from `Prefer` (CIPP writes `odata.maxpagesize = 1000;odata.continue-on-error`).
pub fn prefer_page_size(h: &HeaderMap) -> Option<usize> {
    h.get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([';', ',']))
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("odata.maxpagesize"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
}

/// Query options: `$select` and `$skiptoken` (both percent-decoded).
#[derive(Debug, Default)]
pub struct QueryOptions {
    pub select: Option<Vec<String>>,
    pub skiptoken: Option<String>,
    /// The raw `$select` value, for the nextLink.
    raw_select: Option<String>,
}

pub fn parse_query(q: Option<&str>) -> QueryOptions {
    let mut o = QueryOptions::default();
    for pair in q.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = percent_encoding::percent_decode_str(k).decode_utf8_lossy().to_string();
        let v = percent_encoding::percent_decode_str(&v.replace('+', " "))
            .decode_utf8_lossy()
            .to_string();
        match k.to_ascii_lowercase().as_str() {
            "$select" => {
                o.select = Some(
                    v.split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect(),
                );
                o.raw_select = Some(v);
            }
            "$skiptoken" => o.skiptoken = Some(v),
            _ => {}
        }
    }
    o
}

struct Token {
    offset: usize,
    body: u64,
    issued: i64,
    tenant: u32,
}

fn encode_token(t: &Token) -> String {
    let raw = format!("{}.{:x}.{}.{}", t.offset, t.body, t.issued, t.tenant);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_token(s: &str) -> Option<Token> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s.trim()).ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let mut it = raw.split('.');
    let t = Token {
        offset: it.next()?.parse().ok()?,
        body: u64::from_str_radix(it.next()?, 16).ok()?,
        issued: it.next()?.parse().ok()?,
        tenant: it.next()?.parse().ok()?,
    };
    it.next().is_none().then_some(t)
}

/// Parses `{"CmdletInput":{"CmdletName":…,"Parameters":{…}}}`.
pub fn parse_body(body: &[u8]) -> Result<(String, Params, u64), ExoError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| ExoError::bad_body(format!("The request body is not valid JSON: {e}")))?;
    let input = v
        .get("CmdletInput")
        .and_then(Value::as_object)
        .ok_or_else(|| ExoError::bad_body("The request body must contain 'CmdletInput'."))?;
    let name = input
        .get("CmdletName")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ExoError::bad_body("'CmdletInput.CmdletName' is required."))?;
    let params = match input.get("Parameters") {
        None | Some(Value::Null) => Params::default(),
        Some(Value::Object(m)) => Params::from_map(m),
        Some(_) => return Err(ExoError::bad_body("'CmdletInput.Parameters' must be an object.")),
    };
    // The identity of a paged request: the body as canonical JSON.
    let key = hash_str(&serde_json::to_string(&v).unwrap_or_default());
    Ok((name.trim().to_owned(), params, key))
}

/// Runs one InvokeCommand: the answer body, or Exchange's error.
pub fn run(ctx: &ExoCtx, query: Option<&str>, body: &[u8], page_size: Option<usize>) -> Result<Value, ExoError> {
    let (name, params, body_key) = parse_body(body)?;
    let q = parse_query(query);
    let offset = match &q.skiptoken {
        None => 0,
        Some(s) => {
            let t = decode_token(s).ok_or_else(ExoError::expired_page)?;
            if t.body != body_key
                || t.tenant != ctx.tenant
                || ctx.now - t.issued > PAGE_EXPIRY_SECS
                || ctx.now < t.issued
            {
                return Err(ExoError::expired_page());
            }
            t.offset
        }
    };
    let Output { rows, mut warnings } = cmdlets::dispatch(ctx, &name, &params)?;
    let page = page_size.unwrap_or(DEFAULT_PAGE_SIZE);
    let end = (offset + page).min(rows.len());
    let more = end < rows.len();
    // A page cut short carries the truncation warning with its nextLink [O graph2otel:
    // "N rows plus the truncation warning", the text naming ResultSize].
    if more && !warnings.iter().any(|w| w == MORE_RESULTS_WARNING) {
        warnings.push(MORE_RESULTS_WARNING.to_owned());
    }
    let mut value: Vec<Value> = Vec::with_capacity(end.saturating_sub(offset));
    for r in rows.into_iter().skip(offset).take(page) {
        value.push(Value::Object(select(r, q.select.as_deref())));
    }
    let root = format!("{}{}/{}", ctx.base, super::PREFIX, ctx.tenant_segment);
    let mut out = json!({
        "@odata.context": format!("{root}/$metadata#Collection(Exchange.GenericHashTable)"),
        "adminapi.warnings@odata.type": "#Collection(String)",
        "@adminapi.warnings": warnings,
        "value": value,
    });
    if more {
        let token = encode_token(&Token {
            offset: end,
            body: body_key,
            issued: if q.skiptoken.is_some() {
                ctx.now.min(issued_of(&q))
            } else {
                ctx.now
            },
            tenant: ctx.tenant,
        });
        let select = q
            .raw_select
            .as_deref()
            .map(|s| format!("$select={}&", percent_encoding::utf8_percent_encode(s, QUERY)))
            .unwrap_or_default();
        out["@odata.nextLink"] = Value::String(format!("{root}/InvokeCommand?{select}$skiptoken={token}"));
    }
    Ok(out)
}

/// A follow-up page keeps the first page's issue time: the 30 minutes run from the first call.
fn issued_of(q: &QueryOptions) -> i64 {
    q.skiptoken
        .as_deref()
        .and_then(decode_token)
        .map(|t| t.issued)
        .unwrap_or(i64::MAX)
}

const QUERY: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'&')
    .add(b'+')
    .add(b'<')
    .add(b'>');

/// Keeps the selected properties (names case-insensitive, output spelled as the row has them).
pub fn select(row: Map<String, Value>, select: Option<&[String]>) -> Map<String, Value> {
    match select {
        None => row,
        Some(names) => row
            .into_iter()
            .filter(|(k, _)| names.iter().any(|n| n.eq_ignore_ascii_case(k)))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn prefer_is_read_in_cipps_spellings() {
        let mut h = HeaderMap::new();
        h.insert(
            "prefer",
            HeaderValue::from_static("odata.maxpagesize = 1000;odata.continue-on-error"),
        );
        assert_eq!(prefer_page_size(&h), Some(1000));
        h.insert("prefer", HeaderValue::from_static("odata.maxpagesize=25"));
        assert_eq!(prefer_page_size(&h), Some(25));
        h.insert("prefer", HeaderValue::from_static("odata.continue-on-error"));
        assert_eq!(prefer_page_size(&h), None);
    }

    #[test]
    fn skiptokens_round_trip_and_garbage_is_refused() {
        let t = Token {
            offset: 40,
            body: 0xabc,
            issued: 1_764_028_800,
            tenant: 3,
        };
        let d = decode_token(&encode_token(&t)).unwrap();
        assert_eq!((d.offset, d.body, d.issued, d.tenant), (40, 0xabc, 1_764_028_800, 3));
        assert!(decode_token("not-a-token").is_none());
    }

    #[test]
    fn bodies_need_a_cmdlet_name() {
        assert!(parse_body(br#"{"CmdletInput":{"CmdletName":"Get-Mailbox"}}"#).is_ok());
        assert!(parse_body(br#"{"CmdletInput":{}}"#).is_err());
        assert!(parse_body(b"nope").is_err());
        let q = parse_query(Some("$select=UserPrincipalName,PrimarySmtpAddress&$skiptoken=abc"));
        assert_eq!(q.select.unwrap(), vec!["UserPrincipalName", "PrimarySmtpAddress"]);
        assert_eq!(q.skiptoken.as_deref(), Some("abc"));
    }
}
