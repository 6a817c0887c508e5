//! Evaluating a parsed `$filter` over an entity's JSON.

use super::*;

pub(super) fn get<'a>(v: &'a Value, path: &str) -> &'a Value {
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
        // A collection of strings equals a value when it holds it (`methodsRegistered eq 'email'`,
        // authenticationmethodsroot-list-userregistrationdetails).
        (Value::Array(a), Lit::Str(_)) => a.iter().any(|e| lit_eq(e, l)),
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
        Filter::Cmp(p, op, l) if op.ordered() => ordered(get(v, p), l).is_some_and(|o| match op {
            CmpOp::Ge => o.is_ge(),
            CmpOp::Le => o.is_le(),
            CmpOp::Gt => o.is_gt(),
            _ => o.is_lt(),
        }),
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

/// Unix seconds of a date literal or value: `2026-01-01T00:00:00Z` (RFC 3339) or `2026-01-01`.
fn timestamp(s: &str) -> Option<i128> {
    use time::format_description::well_known::Rfc3339;
    let full = if s.len() == 10 {
        format!("{s}T00:00:00Z")
    } else {
        s.to_owned()
    };
    time::OffsetDateTime::parse(&full, &Rfc3339)
        .ok()
        .map(|d| d.unix_timestamp_nanos())
}

/// How a value compares with a literal: dates as instants, numbers as numbers; null (and any
/// other mix) compares with nothing, so `le` and `ge` both miss it.
fn ordered(v: &Value, l: &Lit) -> Option<std::cmp::Ordering> {
    match (v, l) {
        (Value::String(s), Lit::Str(x)) => match (timestamp(s), timestamp(x)) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => Some(s.to_lowercase().cmp(&x.to_lowercase())),
        },
        (Value::Number(n), Lit::Num(x)) => n.as_i64().map(|n| n.cmp(x)),
        _ => None,
    }
}
