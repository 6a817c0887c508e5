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
