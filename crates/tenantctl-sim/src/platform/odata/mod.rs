//! OData query options as Graph parses them for directory collections.
//!
//! Sources: learn.microsoft.com/graph/query-parameters, learn.microsoft.com/graph/filter-query-parameter and
//! learn.microsoft.com/graph/aad-advanced-queries (microsoftgraph/microsoft-graph-docs-contrib
//! `concepts/aad-advanced-queries.md`): `ne`, `not`, `endsWith` and `/$count` filters, `$orderby` on
//! non-default properties and `$filter` together with `$orderby` need `ConsistencyLevel: eventual` *and*
//! `$count=true`; `$count=true` without the header is silently ignored; `/$count` without it is a 400.

use crate::ids::{hash, Guid};
use base64::Engine;
use serde_json::Value;

mod eval;
mod filter;
mod search;
use eval::get;
pub use eval::matches;
pub use filter::parse_filter;
use search::{parse_search, search_match};

/// A 400 Graph would send: (code, message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub code: &'static str,
    pub message: String,
}

fn bad(code: &'static str, message: impl Into<String>) -> QueryError {
    QueryError {
        code,
        message: message.into(),
    }
}

/// `Request_UnsupportedQuery` for an operator that needs the advanced query parameters
/// (exact text from the advanced-queries page, "Error handling for advanced queries").
pub fn advanced_required(op: &str) -> QueryError {
    bad(
        "Request_UnsupportedQuery",
        format!(
            "Operator '{op}' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information"
        ),
    )
}

/// `Request_UnsupportedQuery` for a property that cannot be filtered this way (advanced-queries page).
pub fn unsupported_filter(prop: &str, resource: &str) -> QueryError {
    bad(
        "Request_UnsupportedQuery",
        format!("Unsupported or invalid query filter clause specified for property '{prop}' of resource '{resource}'."),
    )
}

#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Str(String),
    Bool(bool),
    Null,
    Num(i64),
    Guid(Guid),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    /// Ordered comparisons (`ge`, `le`, `gt`, `lt`): only on properties with `range` set.
    Ge,
    Le,
    Gt,
    Lt,
}

impl CmpOp {
    pub fn ordered(self) -> bool {
        matches!(self, CmpOp::Ge | CmpOp::Le | CmpOp::Gt | CmpOp::Lt)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Cmp(String, CmpOp, Lit),
    StartsWith(String, String),
    EndsWith(String, String),
    In(String, Vec<Lit>),
    /// `coll/any(x:x/field eq value)`
    Any(String, String, Lit),
    /// `coll/$count eq|ne n`
    Count(String, CmpOp, i64),
}

/// Which filter forms a property supports, per the directory-objects filter table.
#[derive(Debug, Clone, Copy)]
pub struct FilterProp {
    pub name: &'static str,
    pub starts_with: bool,
    /// `endsWith` (always advanced).
    pub ends_with: bool,
    /// A collection of objects filtered with `any(x:x/<field> eq ...)`; `$count` is advanced.
    pub any_field: Option<&'static str>,
    /// Ordered comparisons (`ge`, `le`, `gt`, `lt`) allowed (date properties).
    pub range: bool,
}

pub const fn fp(name: &'static str, starts_with: bool) -> FilterProp {
    FilterProp {
        name,
        starts_with,
        ends_with: false,
        any_field: None,
        range: false,
    }
}

/// A date property filterable with `eq`, `ne` and the ordered operators.
pub const fn fp_range(name: &'static str) -> FilterProp {
    FilterProp {
        name,
        starts_with: false,
        ends_with: false,
        any_field: None,
        range: true,
    }
}

impl Filter {
    /// Every property the filter names (lower case), in order, with repeats.
    pub fn props(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_props(&mut out);
        out
    }

    fn collect_props(&self, out: &mut Vec<String>) {
        match self {
            Filter::And(a, b) | Filter::Or(a, b) => {
                a.collect_props(out);
                b.collect_props(out);
            }
            Filter::Not(a) => a.collect_props(out),
            Filter::Cmp(p, _, _)
            | Filter::StartsWith(p, _)
            | Filter::EndsWith(p, _)
            | Filter::In(p, _)
            | Filter::Any(p, _, _)
            | Filter::Count(p, _, _) => out.push(p.to_ascii_lowercase()),
        }
    }
}

/// The query shape of one entity set.
pub struct EntitySpec {
    /// `$metadata#<entity_set>` in `@odata.context`.
    pub context: &'static str,
    /// The resource name Graph uses in filter errors ("User", "Domain").
    pub resource: &'static str,
    /// `microsoft.graph.<type>` in select errors.
    pub type_name: &'static str,
    pub selectable: &'static [&'static str],
    /// Returned when there is no `$select` (None: everything).
    pub default_select: Option<&'static [&'static str]>,
    pub filterable: &'static [FilterProp],
    /// Properties `$search="prop:term"` may name (directory objects; needs ConsistencyLevel).
    pub searchable: &'static [&'static str],
    /// Sortable without advanced parameters.
    pub orderby_default: &'static [&'static str],
    /// Sortable only with advanced parameters.
    pub orderby_advanced: &'static [&'static str],
    pub default_top: u32,
    pub max_top: u32,
    pub supports_filter: bool,
    /// Whether `ConsistencyLevel: eventual` + `$count=true` unlock advanced queries (directory objects).
    pub directory: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Query {
    pub select: Option<Vec<String>>,
    pub top: Option<u32>,
    pub skiptoken: Option<String>,
    pub filter: Option<Filter>,
    /// `$search`: OR of AND-groups of (property, term).
    pub search: Option<Vec<Vec<(String, String)>>>,
    pub count: bool,
    /// (property, descending)
    pub orderby: Option<(String, bool)>,
    pub eventual: bool,
    /// The options as sent, minus `$skiptoken`, in order (for `@odata.nextLink` and the token check).
    pub carried: Vec<(String, String)>,
}

impl Query {
    /// Advanced query parameters present: `ConsistencyLevel: eventual` and `$count=true`.
    pub fn advanced(&self) -> bool {
        self.eventual && self.count
    }

    /// Whether a filter or search narrows the collection.
    pub fn narrows(&self) -> bool {
        self.filter.is_some() || self.search.is_some()
    }

    /// Whether the entity (its full JSON) passes `$filter` and `$search`.
    pub fn hit(&self, v: &Value) -> bool {
        self.filter.as_ref().is_none_or(|f| matches(f, v))
            && self.search.as_ref().is_none_or(|groups| {
                groups
                    .iter()
                    .any(|g| g.iter().all(|(p, term)| search_match(get(v, p), term)))
            })
    }

    /// The page size to use.
    pub fn page_size(&self, spec: &EntitySpec) -> u32 {
        self.top.unwrap_or(spec.default_top)
    }

    /// A fingerprint of the carried options, bound into skiptokens.
    pub fn fingerprint(&self, scope: u64) -> u64 {
        let mut parts = vec![scope];
        for (k, v) in &self.carried {
            parts.push(hash_str(k));
            parts.push(hash_str(v));
        }
        hash(&parts)
    }

    /// The carried options as a query string (`$`-names kept literal, values percent-encoded).
    pub fn carried_query(&self) -> String {
        self.carried
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

pub fn hash_str(s: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

const VALUE_SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'$')
    .remove(b',')
    .remove(b'(')
    .remove(b')')
    .remove(b':')
    .remove(b'/')
    .remove(b'@');

pub fn encode(v: &str) -> String {
    percent_encoding::utf8_percent_encode(v, VALUE_SET).to_string()
}

/// Opaque `$skiptoken`: base64url of (position, fingerprint check).
pub fn make_skiptoken(pos: u64, fingerprint: u64) -> String {
    let mut b = Vec::with_capacity(17);
    b.push(1u8);
    b.extend_from_slice(&pos.to_le_bytes());
    b.extend_from_slice(&(fingerprint ^ hash(&[pos, 0x5C17])).to_le_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// The position a skiptoken stands for, if it was issued for this query.
pub fn read_skiptoken(token: &str, fingerprint: u64) -> Result<u64, QueryError> {
    let invalid = || bad("Request_BadRequest", "Invalid $skiptoken value.");
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| invalid())?;
    if b.len() != 17 || b[0] != 1 {
        return Err(invalid());
    }
    let pos = u64::from_le_bytes(b[1..9].try_into().expect("8 bytes"));
    let check = u64::from_le_bytes(b[9..17].try_into().expect("8 bytes"));
    if check != fingerprint ^ hash(&[pos, 0x5C17]) {
        return Err(invalid());
    }
    Ok(pos)
}

/// Parses the raw query string of a request for `spec`. `eventual`: the `ConsistencyLevel` header.
pub fn parse(raw: Option<&str>, spec: &EntitySpec, eventual: bool) -> Result<Query, QueryError> {
    let mut q = Query {
        eventual,
        ..Query::default()
    };
    let raw = raw.unwrap_or("");
    for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
        let key = k.to_string();
        let lower = key.to_ascii_lowercase();
        let name = lower.strip_prefix('$').unwrap_or(&lower);
        if !key.starts_with('$') {
            // Graph ignores non-OData parameters.
            continue;
        }
        match name {
            "skiptoken" => {
                q.skiptoken = Some(v.to_string());
                continue;
            }
            "select" => {
                let mut props = Vec::new();
                for p in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    let Some(canon) = spec.selectable.iter().find(|s| s.eq_ignore_ascii_case(p)) else {
                        return Err(bad(
                            "Request_BadRequest",
                            format!("Could not find a property named '{p}' on type '{}'.", spec.type_name),
                        ));
                    };
                    if !props.contains(&canon.to_string()) {
                        props.push(canon.to_string());
                    }
                }
                q.select = Some(props);
            }
            "top" => {
                let n: i64 = v.trim().parse().map_err(|_| {
                    bad(
                        "BadRequest",
                        format!("Invalid value '{v}' for $top query option found. The $top query option requires a non-negative integer value."),
                    )
                })?;
                if n < 1 || n > spec.max_top as i64 {
                    return Err(bad(
                        "Request_UnsupportedQuery",
                        format!(
                            "Invalid page size specified: '{n}'. Must be between 1 and {} inclusive.",
                            spec.max_top
                        ),
                    ));
                }
                q.top = Some(n as u32);
            }
            "count" => match v.trim().to_ascii_lowercase().as_str() {
                "true" => q.count = true,
                "false" => q.count = false,
                _ => {
                    return Err(bad(
                        "BadRequest",
                        format!("Invalid value '{v}' for $count query option found. Valid values are 'true', 'false'."),
                    ))
                }
            },
            "filter" => {
                if !spec.supports_filter {
                    return Err(bad(
                        "Request_UnsupportedQuery",
                        "The $filter query option is not supported.",
                    ));
                }
                q.filter = Some(parse_filter(&v)?);
            }
            "search" => {
                if spec.searchable.is_empty() {
                    return Err(bad(
                        "Request_UnsupportedQuery",
                        "Search is not supported for this resource.",
                    ));
                }
                if !eventual {
                    // Exact text: aad-advanced-queries, "Error handling for advanced queries".
                    return Err(bad(
                        "Request_UnsupportedQuery",
                        "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
                    ));
                }
                q.search = Some(parse_search(&v, spec)?);
            }
            "orderby" => {
                let mut parts = v.split_whitespace();
                let prop = parts.next().unwrap_or("");
                let desc = match parts.next().map(|d| d.to_ascii_lowercase()) {
                    None => false,
                    Some(d) if d == "asc" => false,
                    Some(d) if d == "desc" => true,
                    Some(_) => return Err(bad("BadRequest", format!("Invalid $orderby clause '{v}'."))),
                };
                let canon = spec
                    .orderby_default
                    .iter()
                    .chain(spec.orderby_advanced)
                    .find(|p| p.eq_ignore_ascii_case(prop))
                    .ok_or_else(|| bad("Request_UnsupportedQuery", "Sorting not supported for current query."))?;
                q.orderby = Some((canon.to_string(), desc));
            }
            other => {
                return Err(bad(
                    "Request_BadRequest",
                    format!("Query option '${other}' is not supported for this request."),
                ))
            }
        }
        q.carried.push((key, v.to_string()));
    }
    validate(&q, spec)?;
    Ok(q)
}

/// Checks the filter against the spec and the advanced-query rules.
fn validate(q: &Query, spec: &EntitySpec) -> Result<(), QueryError> {
    let adv = q.advanced() && spec.directory;
    if let Some(f) = &q.filter {
        check_filter(f, spec, adv)?;
    }
    if let Some((prop, _)) = &q.orderby {
        let needs_adv = spec.orderby_advanced.contains(&prop.as_str()) || q.filter.is_some();
        if needs_adv && !adv && spec.directory {
            return Err(bad(
                "Request_UnsupportedQuery",
                "Sorting not supported for current query.",
            ));
        }
    }
    Ok(())
}

fn check_filter(f: &Filter, spec: &EntitySpec, adv: bool) -> Result<(), QueryError> {
    let need = |op: &str| -> Result<(), QueryError> {
        if adv || !spec.directory {
            Ok(())
        } else {
            Err(advanced_required(op))
        }
    };
    let prop_of = |name: &str| {
        spec.filterable
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .copied()
    };
    match f {
        Filter::And(a, b) | Filter::Or(a, b) => {
            check_filter(a, spec, adv)?;
            check_filter(b, spec, adv)
        }
        Filter::Not(a) => {
            need("not")?;
            check_filter(a, spec, adv)
        }
        Filter::Cmp(p, op, _) => {
            match prop_of(p) {
                Some(fp) if fp.any_field.is_none() && (fp.range || !op.ordered()) => {}
                _ => return Err(unsupported_filter(p, spec.resource)),
            }
            if *op == CmpOp::Ne {
                need("ne")?;
            }
            Ok(())
        }
        Filter::In(p, _) => match prop_of(p) {
            Some(fp) if fp.any_field.is_none() => Ok(()),
            _ => Err(unsupported_filter(p, spec.resource)),
        },
        Filter::StartsWith(p, _) => match prop_of(p) {
            Some(fp) if fp.starts_with => Ok(()),
            _ => Err(unsupported_filter(p, spec.resource)),
        },
        Filter::EndsWith(p, _) => match prop_of(p) {
            Some(fp) if fp.ends_with => need("endsWith"),
            _ => Err(unsupported_filter(p, spec.resource)),
        },
        Filter::Any(p, field, _) => match prop_of(p) {
            Some(FilterProp {
                any_field: Some(af), ..
            }) if af.eq_ignore_ascii_case(field) => Ok(()),
            _ => Err(unsupported_filter(p, spec.resource)),
        },
        Filter::Count(p, _, _) => match prop_of(p) {
            Some(FilterProp { any_field: Some(_), .. }) => need("$count"),
            _ => Err(unsupported_filter(p, spec.resource)),
        },
    }
}

/// Keeps the selected properties (in `$select` order, like Graph), or the default set.
pub fn project(full: &Value, q: &Query, spec: &EntitySpec) -> Value {
    let Some(obj) = full.as_object() else {
        return full.clone();
    };
    let keep: Option<Vec<&str>> = match (&q.select, spec.default_select) {
        (Some(s), _) => Some(s.iter().map(String::as_str).collect()),
        (None, Some(d)) => Some(d.to_vec()),
        (None, None) => None,
    };
    let Some(keep) = keep else {
        return full.clone();
    };
    let mut out = serde_json::Map::new();
    // Annotations (@odata.type, @odata.etag) stay.
    for (k, v) in obj.iter().filter(|(k, _)| k.starts_with('@')) {
        out.insert(k.clone(), v.clone());
    }
    if q.select.is_none() {
        // Default set: in the entity's own order.
        for (k, v) in obj.iter().filter(|(k, _)| keep.contains(&k.as_str())) {
            out.insert(k.clone(), v.clone());
        }
    } else {
        for k in keep {
            out.insert(k.to_owned(), obj.get(k).cloned().unwrap_or(Value::Null));
        }
    }
    Value::Object(out)
}

/// A sort key of a property's value (case-insensitive strings; nulls first).
pub fn sort_key(v: &Value, prop: &str) -> String {
    match get(v, prop) {
        Value::String(s) => format!("1{}", s.to_lowercase()),
        Value::Null => "0".to_owned(),
        other => format!("1{other}"),
    }
}

#[cfg(test)]
mod tests;
