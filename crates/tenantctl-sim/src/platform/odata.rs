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
}

pub const fn fp(name: &'static str, starts_with: bool) -> FilterProp {
    FilterProp {
        name,
        starts_with,
        ends_with: false,
        any_field: None,
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
                Some(fp) if fp.any_field.is_none() => {}
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

// ---------- filter parser ----------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    LParen,
    RParen,
    Comma,
}

fn invalid_filter(detail: &str) -> QueryError {
    bad("BadRequest", format!("Invalid filter clause: {detail}"))
}

fn tokenize(s: &str) -> Result<Vec<Tok>, QueryError> {
    let mut out = Vec::new();
    let cs: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        match c {
            ' ' | '\t' => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1
            }
            '\'' => {
                let mut v = String::new();
                i += 1;
                loop {
                    if i >= cs.len() {
                        return Err(invalid_filter("There is an unterminated string literal."));
                    }
                    if cs[i] == '\'' {
                        if i + 1 < cs.len() && cs[i + 1] == '\'' {
                            v.push('\'');
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    v.push(cs[i]);
                    i += 1;
                }
                out.push(Tok::Str(v));
            }
            _ => {
                let start = i;
                while i < cs.len() && !matches!(cs[i], ' ' | '\t' | '(' | ')' | ',' | '\'') {
                    i += 1;
                }
                out.push(Tok::Word(cs[start..i].iter().collect()));
            }
        }
    }
    Ok(out)
}

struct P {
    toks: Vec<Tok>,
    at: usize,
}

impl P {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }
    fn peek_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w))
    }
    fn expect(&mut self, t: Tok) -> Result<(), QueryError> {
        match self.next() {
            Some(x) if x == t => Ok(()),
            _ => Err(invalid_filter("Syntax error.")),
        }
    }
    fn or(&mut self) -> Result<Filter, QueryError> {
        let mut l = self.and()?;
        while self.peek_word("or") {
            self.at += 1;
            let r = self.and()?;
            l = Filter::Or(Box::new(l), Box::new(r));
        }
        Ok(l)
    }
    fn and(&mut self) -> Result<Filter, QueryError> {
        let mut l = self.unary()?;
        while self.peek_word("and") {
            self.at += 1;
            let r = self.unary()?;
            l = Filter::And(Box::new(l), Box::new(r));
        }
        Ok(l)
    }
    fn unary(&mut self) -> Result<Filter, QueryError> {
        if self.peek_word("not") {
            self.at += 1;
            return Ok(Filter::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }
    fn literal(&mut self) -> Result<Lit, QueryError> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Lit::Str(s)),
            Some(Tok::Word(w)) => {
                let l = w.to_ascii_lowercase();
                if l == "true" || l == "false" {
                    Ok(Lit::Bool(l == "true"))
                } else if l == "null" {
                    Ok(Lit::Null)
                } else if let Ok(n) = w.parse::<i64>() {
                    Ok(Lit::Num(n))
                } else if let Ok(g) = w.parse::<Guid>() {
                    Ok(Lit::Guid(g))
                } else if w.len() >= 10 && w.as_bytes()[4] == b'-' && w[..4].bytes().all(|b| b.is_ascii_digit()) {
                    // Edm.Date / Edm.DateTimeOffset literal (2021-04-06 or 2021-04-06T13:12:26Z).
                    Ok(Lit::Str(w))
                } else {
                    Err(invalid_filter(&format!("Unrecognized literal '{w}'.")))
                }
            }
            _ => Err(invalid_filter("Expected a literal.")),
        }
    }
    fn primary(&mut self) -> Result<Filter, QueryError> {
        match self.next() {
            Some(Tok::LParen) => {
                let f = self.or()?;
                self.expect(Tok::RParen)?;
                Ok(f)
            }
            Some(Tok::Word(w)) => {
                let lw = w.to_ascii_lowercase();
                if (lw == "startswith" || lw == "endswith") && self.peek() == Some(&Tok::LParen) {
                    self.at += 1;
                    let prop = match self.next() {
                        Some(Tok::Word(p)) => p,
                        _ => return Err(invalid_filter("Expected a property.")),
                    };
                    self.expect(Tok::Comma)?;
                    let v = match self.next() {
                        Some(Tok::Str(s)) => s,
                        _ => return Err(invalid_filter("Expected a string literal.")),
                    };
                    self.expect(Tok::RParen)?;
                    return Ok(if lw == "startswith" {
                        Filter::StartsWith(prop, v)
                    } else {
                        Filter::EndsWith(prop, v)
                    });
                }
                if let Some(coll) = lw.strip_suffix("/any").map(|_| &w[..w.len() - 4]) {
                    // coll/any(x:x/field eq value)
                    self.expect(Tok::LParen)?;
                    let lam = match self.next() {
                        Some(Tok::Word(l)) => l,
                        _ => return Err(invalid_filter("Expected a lambda expression.")),
                    };
                    let (var, path) = lam
                        .split_once(':')
                        .ok_or_else(|| invalid_filter("Expected 'x:x/...'."))?;
                    let field = path
                        .strip_prefix(var)
                        .and_then(|p| p.strip_prefix('/'))
                        .ok_or_else(|| invalid_filter("Expected 'x:x/...'."))?;
                    if !self.peek_word("eq") {
                        return Err(invalid_filter("Only 'eq' is supported inside any()."));
                    }
                    self.at += 1;
                    let v = self.literal()?;
                    self.expect(Tok::RParen)?;
                    return Ok(Filter::Any(coll.to_owned(), field.to_owned(), v));
                }
                let op = match self.next() {
                    Some(Tok::Word(o)) => o.to_ascii_lowercase(),
                    _ => return Err(invalid_filter("Expected an operator.")),
                };
                if let Some(coll) = w.strip_suffix("/$count") {
                    let cmp = match op.as_str() {
                        "eq" => CmpOp::Eq,
                        "ne" => CmpOp::Ne,
                        _ => return Err(unsupported_op(&op)),
                    };
                    return match self.literal()? {
                        Lit::Num(n) => Ok(Filter::Count(coll.to_owned(), cmp, n)),
                        _ => Err(invalid_filter("Expected a number.")),
                    };
                }
                match op.as_str() {
                    "eq" => Ok(Filter::Cmp(w, CmpOp::Eq, self.literal()?)),
                    "ne" => Ok(Filter::Cmp(w, CmpOp::Ne, self.literal()?)),
                    "in" => {
                        self.expect(Tok::LParen)?;
                        let mut vals = vec![self.literal()?];
                        while self.peek() == Some(&Tok::Comma) {
                            self.at += 1;
                            vals.push(self.literal()?);
                        }
                        self.expect(Tok::RParen)?;
                        Ok(Filter::In(w, vals))
                    }
                    other => Err(unsupported_op(other)),
                }
            }
            _ => Err(invalid_filter("Syntax error.")),
        }
    }
}

fn unsupported_op(op: &str) -> QueryError {
    bad(
        "Request_UnsupportedQuery",
        format!("Unsupported Query. Operator '{op}' is not supported."),
    )
}

pub fn parse_filter(s: &str) -> Result<Filter, QueryError> {
    let toks = tokenize(s)?;
    if toks.is_empty() {
        return Err(invalid_filter("The filter is empty."));
    }
    let mut p = P { toks, at: 0 };
    let f = p.or()?;
    if p.at != p.toks.len() {
        return Err(invalid_filter("Syntax error: unexpected text at the end."));
    }
    Ok(f)
}

// ---------- $search ----------

fn invalid_search() -> QueryError {
    bad("Request_UnsupportedQuery", "Invalid $search clause.")
}

/// `"displayName:wa" OR "displayName:to" AND "mail:x"` (AND binds tighter).
fn parse_search(s: &str, spec: &EntitySpec) -> Result<Vec<Vec<(String, String)>>, QueryError> {
    let mut groups: Vec<Vec<(String, String)>> = vec![vec![]];
    let mut rest = s.trim();
    let mut expect_clause = true;
    while !rest.is_empty() {
        if expect_clause {
            let body = rest.strip_prefix('"').ok_or_else(invalid_search)?;
            let end = body.find('"').ok_or_else(invalid_search)?;
            let clause = &body[..end];
            rest = body[end + 1..].trim_start();
            let (prop, term) = clause.split_once(':').ok_or_else(invalid_search)?;
            let canon = spec
                .searchable
                .iter()
                .find(|p| p.eq_ignore_ascii_case(prop.trim()))
                .ok_or_else(|| {
                    bad(
                        "Request_UnsupportedQuery",
                        format!(
                            "Unsupported or invalid query search clause specified for property '{}' of resource '{}'.",
                            prop.trim(),
                            spec.resource
                        ),
                    )
                })?;
            groups
                .last_mut()
                .expect("a group")
                .push((canon.to_string(), term.trim().to_owned()));
            expect_clause = false;
        } else {
            let (word, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            match word {
                "AND" => {}
                "OR" => groups.push(vec![]),
                _ => return Err(invalid_search()),
            }
            rest = after.trim_start();
            expect_clause = true;
        }
    }
    if expect_clause {
        return Err(invalid_search());
    }
    Ok(groups)
}

/// Directory `$search` matches the start of any word of the value (tokenised on non-alphanumerics).
fn search_match(v: &Value, term: &str) -> bool {
    let Some(s) = v.as_str() else { return false };
    let term = term.to_lowercase();
    let s = s.to_lowercase();
    s.starts_with(&term) || s.split(|c: char| !c.is_alphanumeric()).any(|w| w.starts_with(&term))
}

// ---------- evaluation over the entity's JSON ----------

fn get<'a>(v: &'a Value, path: &str) -> &'a Value {
    let mut cur = v;
    for seg in path.split('/') {
        let found = cur
            .as_object()
            .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(seg)).map(|(_, v)| v));
        match found {
            Some(x) => cur = x,
            None => return &Value::Null,
        }
    }
    cur
}

fn lit_eq(v: &Value, l: &Lit) -> bool {
    match (v, l) {
        (Value::Null, Lit::Null) => true,
        (Value::String(s), Lit::Str(x)) => s.eq_ignore_ascii_case(x),
        (Value::String(s), Lit::Guid(g)) => s.eq_ignore_ascii_case(&g.to_string()),
        (Value::Bool(b), Lit::Bool(x)) => b == x,
        (Value::Number(n), Lit::Num(x)) => n.as_i64() == Some(*x),
        _ => false,
    }
}

fn starts_with_ci(s: &str, p: &str) -> bool {
    s.len() >= p.len() && s.is_char_boundary(p.len()) && s[..p.len()].eq_ignore_ascii_case(p)
}

fn ends_with_ci(s: &str, p: &str) -> bool {
    s.len() >= p.len() && s.is_char_boundary(s.len() - p.len()) && s[s.len() - p.len()..].eq_ignore_ascii_case(p)
}

/// Whether the entity (its full JSON) matches the filter.
pub fn matches(f: &Filter, v: &Value) -> bool {
    match f {
        Filter::And(a, b) => matches(a, v) && matches(b, v),
        Filter::Or(a, b) => matches(a, v) || matches(b, v),
        Filter::Not(a) => !matches(a, v),
        Filter::Cmp(p, op, l) => lit_eq(get(v, p), l) == (*op == CmpOp::Eq),
        Filter::In(p, ls) => {
            let x = get(v, p);
            ls.iter().any(|l| lit_eq(x, l))
        }
        Filter::StartsWith(p, s) => get(v, p).as_str().is_some_and(|x| starts_with_ci(x, s)),
        Filter::EndsWith(p, s) => get(v, p).as_str().is_some_and(|x| ends_with_ci(x, s)),
        Filter::Any(p, field, l) => get(v, p)
            .as_array()
            .is_some_and(|a| a.iter().any(|e| lit_eq(get(e, field), l))),
        Filter::Count(p, op, n) => {
            let len = get(v, p).as_array().map(|a| a.len() as i64).unwrap_or(0);
            (len == *n) == (*op == CmpOp::Eq)
        }
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
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_parse_and_evaluate() {
        let u = json!({"displayName": "Adele Vance", "accountEnabled": false,
            "assignedLicenses": [{"disabledPlans": [], "skuId": "c7df2760-2c81-4ef7-b578-5b5392b571df"}],
            "customer": {"tenantId": "x1"}});
        let t = |s: &str| matches(&parse_filter(s).unwrap(), &u);
        assert!(t("accountEnabled eq false"));
        assert!(!t("accountEnabled ne false"));
        assert!(t("startswith(displayName,'adele')"));
        assert!(t("displayName in ('X', 'Adele Vance')"));
        assert!(t(
            "assignedLicenses/any(x:x/skuId eq c7df2760-2c81-4ef7-b578-5b5392b571df)"
        ));
        assert!(t(
            "assignedLicenses/$count ne 0 and (displayName eq 'no' or customer/tenantId eq 'X1')"
        ));
        assert!(t("not startsWith(displayName,'B')"));
        assert!(parse_filter("displayName gt 'a'").is_err());
        assert!(parse_filter("displayName eq 'a").is_err());
    }

    #[test]
    fn skiptokens_are_bound_to_their_query() {
        let tok = make_skiptoken(300, 77);
        assert_eq!(read_skiptoken(&tok, 77).unwrap(), 300);
        assert!(read_skiptoken(&tok, 78).is_err());
        assert!(read_skiptoken("garbage", 77).is_err());
    }
}
