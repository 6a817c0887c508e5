//! Graph's collection envelope: `@odata.context`, `@odata.count`, `@odata.nextLink` with an
//! opaque `$skiptoken`, `value`; plus the single-entity envelope and Graph's date and etag
//! formats.

use crate::ids::hash;
use crate::odata::{self, EntitySpec, Query};
use crate::platform::errors::GraphError;
use crate::platform::extract::GraphCall;
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use serde_json::{json, Map, Value};

/// `@odata.context` base of Graph v1.0 (the real service's host, like Graph answers).
pub const CTX: &str = "https://graph.microsoft.com/v1.0/$metadata#";
/// `@odata.context` base of the GDAP resources.
pub const GDAP_CTX: &str = "https://graph.microsoft.com/v1.0/tenantRelationships/$metadata#";

/// `@odata.context` for a collection (`#users` or `#users(id,displayName)`).
pub fn context(base: &str, q: &Query) -> String {
    match &q.select {
        Some(s) => format!("{base}({})", s.join(",")),
        None => base.to_owned(),
    }
}

/// A single entity with `@odata.context` `…/$entity` first.
pub fn entity(base: &str, q: &Query, v: Value) -> Value {
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        Value::String(format!("{}/$entity", context(base, q))),
    );
    if let Value::Object(mut o) = v {
        body.append(&mut o);
    }
    Value::Object(body)
}

/// What a page is of: the spec, the parsed options, the path (for nextLink) and the context.
pub struct Listing<'a> {
    pub spec: &'a EntitySpec,
    pub q: &'a Query,
    pub path: &'a str,
    pub ctx: String,
    pub cost: u32,
}

/// A page of a materialised collection.
pub fn vec_page<S>(call: &GraphCall<S>, l: Listing<'_>, items: Vec<Value>) -> Result<Response, GraphError> {
    let len = items.len() as u64;
    page(call, l, len, &|i| items[i as usize].clone(), false)
}

/// One page of a collection of `len` entities produced on demand by `item(i)` (full JSON;
/// `Value::Null` marks an entity that is gone, never listed or counted). `sparse` says that
/// some may be gone, so an unfiltered count must be computed. Skiptoken positions are raw
/// indices, or ranks in the sorted order with `$orderby`.
pub fn page<S>(
    call: &GraphCall<S>,
    l: Listing<'_>,
    len: u64,
    item: &dyn Fn(u64) -> Value,
    sparse: bool,
) -> Result<Response, GraphError> {
    page_of(call, l, len, item, sparse, false)
}

/// [`page`] with `item(i)` already projected (`$select` or the default properties applied),
/// for a query that neither filters, searches nor sorts: what `page` would answer, without
/// building the properties a page does not keep.
pub fn page_projected<S>(
    call: &GraphCall<S>,
    l: Listing<'_>,
    len: u64,
    item: &dyn Fn(u64) -> Value,
    sparse: bool,
) -> Result<Response, GraphError> {
    debug_assert!(!l.q.narrows() && l.q.orderby.is_none());
    page_of(call, l, len, item, sparse, true)
}

fn page_of<S>(
    call: &GraphCall<S>,
    l: Listing<'_>,
    len: u64,
    item: &dyn Fn(u64) -> Value,
    sparse: bool,
    projected: bool,
) -> Result<Response, GraphError> {
    let (spec, q) = (l.spec, l.q);
    let fpr = q.fingerprint(hash(&[call.t().idx as u64, odata::hash_str(l.path)]));
    let start = match &q.skiptoken {
        Some(tok) => {
            odata::read_skiptoken(tok, fpr).map_err(|e| call.error(StatusCode::BAD_REQUEST, e.code, e.message))?
        }
        None => 0,
    };
    let n = q.page_size(spec) as u64;
    let hit = |v: &Value| !v.is_null() && q.hit(v);
    let want_count = q.count && (q.eventual || !spec.directory) && q.skiptoken.is_none();
    let (value, next, total) = match &q.orderby {
        Some((prop, desc)) => sorted_page(q, spec, len, item, &hit, prop, *desc, start, n),
        None => {
            let (value, next) = scan_page(q, spec, len, item, &hit, start, n, projected);
            let total = if !want_count {
                0
            } else if !q.narrows() && !sparse {
                len
            } else {
                (0..len).filter(|&i| hit(&item(i))).count() as u64
            };
            (value, next, total)
        }
    };
    let mut body = Map::new();
    body.insert("@odata.context".into(), Value::String(l.ctx));
    if want_count {
        body.insert("@odata.count".into(), json!(total));
    }
    if let Some(pos) = next {
        let tok = odata::make_skiptoken(pos, fpr);
        let carried = q.carried_query();
        let sep = if carried.is_empty() { "" } else { "&" };
        body.insert(
            "@odata.nextLink".into(),
            Value::String(format!(
                "{}/graph/v1.0/{}?{carried}{sep}$skiptoken={tok}",
                call.base, l.path
            )),
        );
    }
    body.insert("value".into(), Value::Array(value));
    Ok(call.ok(Value::Object(body), l.cost))
}

#[allow(clippy::too_many_arguments)]
fn sorted_page(
    q: &Query,
    spec: &EntitySpec,
    len: u64,
    item: &dyn Fn(u64) -> Value,
    hit: &dyn Fn(&Value) -> bool,
    prop: &str,
    desc: bool,
    start: u64,
    n: u64,
) -> (Vec<Value>, Option<u64>, u64) {
    let mut keyed: Vec<(String, u64)> = (0..len)
        .filter_map(|i| {
            let v = item(i);
            hit(&v).then(|| (odata::sort_key(&v, prop), i))
        })
        .collect();
    keyed.sort();
    if desc {
        keyed.reverse();
    }
    let from = (start as usize).min(keyed.len());
    let to = (from + n as usize).min(keyed.len());
    let value = keyed[from..to]
        .iter()
        .map(|(_, i)| odata::project(&item(*i), q, spec))
        .collect();
    let next = (to < keyed.len()).then_some(to as u64);
    (value, next, keyed.len() as u64)
}

#[allow(clippy::too_many_arguments)]
fn scan_page(
    q: &Query,
    spec: &EntitySpec,
    len: u64,
    item: &dyn Fn(u64) -> Value,
    hit: &dyn Fn(&Value) -> bool,
    start: u64,
    n: u64,
    projected: bool,
) -> (Vec<Value>, Option<u64>) {
    let mut value = Vec::new();
    let mut i = start;
    while i < len && (value.len() as u64) < n {
        let v = item(i);
        if hit(&v) {
            value.push(if projected { v } else { odata::project(&v, q, spec) });
        }
        i += 1;
    }
    // The next page starts at the next match, so no page is empty but the only one.
    let next = (i..len).find(|&i| hit(&item(i)));
    (value, next)
}

fn ymd_hms(ts: i64) -> String {
    let d = time::OffsetDateTime::from_unix_timestamp(ts).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        d.year(),
        d.month() as u8,
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    )
}

/// Directory dates: `2021-04-06T13:12:26Z`.
pub fn date(ts: i64) -> String {
    format!("{}Z", ymd_hms(ts))
}

/// GDAP dates carry seven fractional digits: `2022-02-10T11:24:42.0000000Z`.
pub fn date7(ts: i64) -> String {
    format!("{}.0000000Z", ymd_hms(ts))
}

/// A weak etag as Graph's GDAP resources carry them.
pub fn etag(parts: &[u64]) -> String {
    let h = hash(parts);
    let inner = format!("'\"{:08x}-0000-0200-0000-{:012x}\"'", h >> 32, h & 0xFFFF_FFFF_FFFF);
    format!("W/\"{}\"", base64::engine::general_purpose::STANDARD.encode(inner))
}
