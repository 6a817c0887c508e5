//! Graph's collection envelope: `@odata.context`, `@odata.count`, `@odata.nextLink` with an
//! opaque `$skiptoken`, `value`; plus the single-entity envelope and Graph's date and etag
//! formats.
//!
//! A page is built from each entity's full JSON ([`page`]: `$filter`, `$search` and `$orderby`
//! work on it), or, when nothing narrows or sorts, written straight to the answer by entities
//! that write their own properties ([`Fields`], [`page_direct`]): the same bytes.

use crate::ids::hash;
use crate::odata::{self, EntitySpec, Query};
use crate::platform::errors::GraphError;
use crate::platform::extract::GraphCall;
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;

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
    let (spec, q) = (l.spec, l.q);
    let (fpr, start) = position(call, &l)?;
    let n = q.page_size(spec) as u64;
    let hit = |v: &Value| !v.is_null() && q.hit(v);
    let want_count = wants_count(&l);
    let (value, next, total) = match &q.orderby {
        Some((prop, desc)) => sorted_page(q, spec, len, item, &hit, prop, *desc, start, n),
        None => {
            let (value, next) = scan_page(q, spec, len, item, &hit, start, n);
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
    let body = Envelope {
        ctx: &l.ctx,
        count: want_count.then_some(total),
        next_link: next.map(|pos| next_link(call, &l, pos, fpr)),
        value,
    };
    Ok(call.ok(body, l.cost))
}

/// The fingerprint skiptokens of this listing carry, and the position the page starts at.
fn position<S>(call: &GraphCall<S>, l: &Listing<'_>) -> Result<(u64, u64), GraphError> {
    let q = l.q;
    let fpr = q.fingerprint(hash(&[call.t().idx as u64, odata::hash_str(l.path)]));
    let start = match &q.skiptoken {
        Some(tok) => {
            odata::read_skiptoken(tok, fpr).map_err(|e| call.error(StatusCode::BAD_REQUEST, e.code, e.message))?
        }
        None => 0,
    };
    Ok((fpr, start))
}

/// Whether `@odata.count` is written: `$count=true` on a first page (directory objects: with
/// `ConsistencyLevel: eventual` only).
fn wants_count(l: &Listing<'_>) -> bool {
    let q = l.q;
    q.count && (q.eventual || !l.spec.directory) && q.skiptoken.is_none()
}

/// `@odata.nextLink` to the page starting at `pos`: the options as sent plus a `$skiptoken`.
fn next_link<S>(call: &GraphCall<S>, l: &Listing<'_>, pos: u64, fpr: u64) -> String {
    let tok = odata::make_skiptoken(pos, fpr);
    let carried = l.q.carried_query();
    let sep = if carried.is_empty() { "" } else { "&" };
    format!("{}/graph/v1.0/{}?{carried}{sep}$skiptoken={tok}", call.base, l.path)
}

/// [`page`] for a query that neither filters, searches nor sorts, written straight to the
/// answer: `listed(i)` says whether entity `i` is listed (not gone) and `item(i)` renders it,
/// already projected (`Some` exactly when listed). The bytes `page` answers, without a `Value`
/// per entity; each entity is rendered as the answer is written.
pub fn page_direct<S, T: Serialize>(
    call: &GraphCall<S>,
    l: Listing<'_>,
    len: u64,
    listed: &dyn Fn(u64) -> bool,
    item: &dyn Fn(u64) -> Option<T>,
    sparse: bool,
) -> Result<Response, GraphError> {
    let q = l.q;
    debug_assert!(!q.narrows() && q.orderby.is_none());
    let (fpr, start) = position(call, &l)?;
    let n = q.page_size(l.spec) as u64;
    let mut on_page = Vec::new();
    let mut i = start;
    while i < len && (on_page.len() as u64) < n {
        if listed(i) {
            on_page.push(i);
        }
        i += 1;
    }
    // The next page starts at the next listed entity, so no page is empty but the only one.
    let next = (i..len).find(|&i| listed(i));
    let count = wants_count(&l).then(|| match sparse {
        false => len,
        true => (0..len).filter(|&i| listed(i)).count() as u64,
    });
    // About what an entity of a users page takes, so that the buffer grows once at most.
    let capacity = 1_024 + 384 * on_page.len();
    let body = Envelope {
        ctx: &l.ctx,
        count,
        next_link: next.map(|pos| next_link(call, &l, pos, fpr)),
        value: Rendered { on_page, item },
    };
    Ok(call.json_sized(StatusCode::OK, body, capacity, l.cost))
}

/// A page's body in Graph's order: `@odata.context`, `@odata.count`, `@odata.nextLink`, `value`.
struct Envelope<'a, V> {
    ctx: &'a str,
    count: Option<u64>,
    next_link: Option<String>,
    value: V,
}

impl<V: Serialize> Serialize for Envelope<'_, V> {
    fn serialize<Z: Serializer>(&self, s: Z) -> Result<Z::Ok, Z::Error> {
        let n = 2 + self.count.is_some() as usize + self.next_link.is_some() as usize;
        let mut m = s.serialize_map(Some(n))?;
        m.serialize_entry("@odata.context", self.ctx)?;
        if let Some(c) = self.count {
            m.serialize_entry("@odata.count", &c)?;
        }
        if let Some(link) = &self.next_link {
            m.serialize_entry("@odata.nextLink", link)?;
        }
        m.serialize_entry("value", &self.value)?;
        m.end()
    }
}

/// The entities of a page, each rendered as it is written.
struct Rendered<'a, T> {
    on_page: Vec<u64>,
    item: &'a dyn Fn(u64) -> Option<T>,
}

impl<T: Serialize> Serialize for Rendered<'_, T> {
    fn serialize<Z: Serializer>(&self, s: Z) -> Result<Z::Ok, Z::Error> {
        let mut seq = s.serialize_seq(Some(self.on_page.len()))?;
        for &i in &self.on_page {
            let v = (self.item)(i);
            debug_assert!(v.is_some(), "entity {i} is listed");
            if let Some(v) = v {
                seq.serialize_element(&v)?;
            }
        }
        seq.end()
    }
}

/// An entity that writes its own JSON properties: what `odata::project` keeps of its full JSON,
/// written without building that JSON.
pub trait Fields {
    /// The properties of its full JSON, in order (annotations, `@…`, first).
    const NAMES: &'static [&'static str];
    /// Writes property `NAMES[i]` (under that name).
    fn write<M: SerializeMap>(&self, m: &mut M, i: usize) -> Result<(), M::Error>;
}

impl<F: Fields> Fields for &F {
    const NAMES: &'static [&'static str] = F::NAMES;
    fn write<M: SerializeMap>(&self, m: &mut M, i: usize) -> Result<(), M::Error> {
        (*self).write(m, i)
    }
}

/// The properties `odata::project(full, q, spec)` keeps, in its order: (name, position in
/// [`Fields::NAMES`]; `None`, a property the full JSON lacks, is written `null`).
pub struct Projection<'a>(Vec<(&'a str, Option<usize>)>);

impl<'a> Projection<'a> {
    /// Every property (the full JSON).
    pub fn all(names: &'static [&'static str]) -> Projection<'static> {
        Projection(names.iter().enumerate().map(|(i, n)| (*n, Some(i))).collect())
    }

    /// Annotations first, then the `$select`ed properties in `$select` order, else the
    /// default ones in the entity's order, else everything.
    pub fn of(names: &'static [&'static str], q: &'a Query, spec: &EntitySpec) -> Projection<'a> {
        let named = |(i, n): (usize, &&'static str)| (*n, Some(i));
        let mut out: Vec<(&'a str, Option<usize>)> = names
            .iter()
            .enumerate()
            .filter(|(_, n)| n.starts_with('@'))
            .map(named)
            .collect();
        match (&q.select, spec.default_select) {
            (Some(sel), _) => {
                out.extend(sel.iter().map(|k| (k.as_str(), names.iter().position(|n| n == k))));
            }
            (None, Some(keep)) => out.extend(names.iter().enumerate().filter(|(_, n)| keep.contains(n)).map(named)),
            (None, None) => return Projection::all(names),
        }
        Projection(out)
    }
}

/// An entity written with the properties of a [`Projection`]; with `context`,
/// `@odata.context` comes first (a single entity, as [`entity`] writes it).
pub struct Projected<'a, E> {
    pub entity: E,
    pub props: &'a Projection<'a>,
    pub context: Option<&'a str>,
}

impl<E: Fields> Serialize for Projected<'_, E> {
    fn serialize<Z: Serializer>(&self, s: Z) -> Result<Z::Ok, Z::Error> {
        let mut m = s.serialize_map(Some(self.props.0.len() + self.context.is_some() as usize))?;
        if let Some(c) = self.context {
            m.serialize_entry("@odata.context", c)?;
        }
        for &(k, i) in &self.props.0 {
            match i {
                Some(i) => self.entity.write(&mut m, i)?,
                None => m.serialize_entry(k, &())?,
            }
        }
        m.end()
    }
}

/// The full JSON of an entity (what `$filter`, `$search` and `$orderby` work on).
pub fn full_json<E: Fields>(entity: E) -> Value {
    let props = Projection::all(E::NAMES);
    let p = Projected {
        entity,
        props: &props,
        context: None,
    };
    serde_json::to_value(p).expect("an entity is JSON")
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
) -> (Vec<Value>, Option<u64>) {
    let mut value = Vec::new();
    let mut i = start;
    while i < len && (value.len() as u64) < n {
        let v = item(i);
        if hit(&v) {
            value.push(odata::project(&v, q, spec));
        }
        i += 1;
    }
    // The next page starts at the next match, so no page is empty but the only one.
    let next = (i..len).find(|&i| hit(&item(i)));
    (value, next)
}

/// `2021-04-06T13:12:26` (UTC).
fn write_ymd_hms(f: &mut fmt::Formatter<'_>, ts: i64) -> fmt::Result {
    let d = time::OffsetDateTime::from_unix_timestamp(ts).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let (y, mo, day, h, mi, s) = (d.year(), d.month() as u8, d.day(), d.hour(), d.minute(), d.second());
    if !(0..=9999).contains(&y) {
        return write!(f, "{y:04}-{mo:02}-{day:02}T{h:02}:{mi:02}:{s:02}");
    }
    let mut b = *b"0000-00-00T00:00:00";
    let y = y as u32;
    for (k, digit) in [y / 1000, y / 100 % 10, y / 10 % 10, y % 10].into_iter().enumerate() {
        b[k] = b'0' + digit as u8;
    }
    for (at, v) in [(5, mo), (8, day), (11, h), (14, mi), (17, s)] {
        b[at] = b'0' + v / 10;
        b[at + 1] = b'0' + v % 10;
    }
    f.write_str(std::str::from_utf8(&b).expect("ASCII"))
}

/// A directory date, `2021-04-06T13:12:26Z`: written (as text or a JSON string) without a
/// `String` of its own.
#[derive(Clone, Copy)]
pub struct Date(pub i64);

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_ymd_hms(f, self.0)?;
        f.write_str("Z")
    }
}

impl Serialize for Date {
    fn serialize<Z: Serializer>(&self, s: Z) -> Result<Z::Ok, Z::Error> {
        s.collect_str(self)
    }
}

/// A GDAP date, with seven fractional digits: `2022-02-10T11:24:42.0000000Z`.
#[derive(Clone, Copy)]
pub struct Date7(pub i64);

impl fmt::Display for Date7 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_ymd_hms(f, self.0)?;
        f.write_str(".0000000Z")
    }
}

impl Serialize for Date7 {
    fn serialize<Z: Serializer>(&self, s: Z) -> Result<Z::Ok, Z::Error> {
        s.collect_str(self)
    }
}

/// Directory dates: `2021-04-06T13:12:26Z`.
pub fn date(ts: i64) -> String {
    Date(ts).to_string()
}

/// GDAP dates carry seven fractional digits: `2022-02-10T11:24:42.0000000Z`.
pub fn date7(ts: i64) -> String {
    Date7(ts).to_string()
}

/// A weak etag as Graph's GDAP resources carry them.
pub fn etag(parts: &[u64]) -> String {
    let h = hash(parts);
    let inner = format!("'\"{:08x}-0000-0200-0000-{:012x}\"'", h >> 32, h & 0xFFFF_FFFF_FFFF);
    format!("W/\"{}\"", base64::engine::general_purpose::STANDARD.encode(inner))
}

/// A writer's [`Fields::NAMES`], annotations apart, are its entity's selectable properties
/// (but `elsewhere`, written by another path): the two lists name the same properties, so that
/// neither can drift from the other.
#[cfg(test)]
pub(crate) fn assert_names_are_the_specs(
    names: &[&str],
    spec: &crate::platform::odata::EntitySpec,
    elsewhere: &[&str],
) {
    let mut written: Vec<&str> = names.iter().copied().filter(|n| !n.starts_with('@')).collect();
    let mut selectable: Vec<&str> = spec
        .selectable
        .iter()
        .copied()
        .filter(|n| !elsewhere.contains(n))
        .collect();
    written.sort_unstable();
    selectable.sort_unstable();
    assert_eq!(written, selectable, "{}", spec.type_name);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The former formatting, through `time` and `format!`.
    fn formatted(ts: i64) -> String {
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

    #[test]
    fn dates_are_written_as_they_were_formatted() {
        let mut stamps = vec![
            0,
            -1,
            59,
            86_399,
            951_782_400,
            1_764_028_800,
            253_402_300_799,
            -62_167_219_200,
        ];
        stamps.extend([-62_167_219_201, 253_402_300_800, i64::MAX, i64::MIN]);
        stamps.extend((0..5_000).map(|k| -2_000_000_000 + k * 987_654_321 % 9_000_000_000));
        for ts in stamps {
            assert_eq!(date(ts), format!("{}Z", formatted(ts)), "{ts}");
            assert_eq!(date7(ts), format!("{}.0000000Z", formatted(ts)), "{ts}");
            assert_eq!(serde_json::to_string(&Date(ts)).unwrap(), format!("\"{}\"", date(ts)));
        }
    }
}
