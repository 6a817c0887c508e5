//! OPATH `-Filter` (learn.microsoft.com/powershell/exchange/filter-properties): the common
//! forms `Property -eq 'Value'`, `-ne`, `-like` / `-notlike` (with `*`), `-and`, `-or`, `-not`,
//! parentheses, values in single or double quotes or bare (`$true`, `$false`, `$null`).
//! Operators and property names are case-insensitive. CIPP's three filters (contract §1.7) are
//! covered by the tests below. Evaluated against the rendered row, so every output property is
//! filterable [I: real Exchange filters a documented subset].

use super::errors::ExoError;
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Cmp {
        prop: String,
        op: Op,
        value: Option<String>,
    },
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Like,
    NotLike,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Dash(String),
    Open,
    Close,
}

fn syntax(filter: &str, why: &str) -> ExoError {
    // [I] text, after Exchange's "Invalid filter syntax" messages.
    ExoError::task_argument(format!(
        "Cannot bind parameter 'Filter' to the target. Exception setting \"Filter\": \"Invalid filter syntax. For a description of the filter parameter syntax see the command help.\n\"{filter}\" ({why})\""
    ))
}

fn lex(s: &str) -> Result<Vec<Tok>, ExoError> {
    let mut out = vec![];
    let cs: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            '\'' | '"' => {
                let mut v = String::new();
                i += 1;
                loop {
                    match cs.get(i) {
                        None => return Err(syntax(s, "unterminated string")),
                        // A doubled quote is a literal quote.
                        Some(&q) if q == c && cs.get(i + 1) == Some(&c) => {
                            v.push(c);
                            i += 2;
                        }
                        Some(&q) if q == c => {
                            i += 1;
                            break;
                        }
                        Some(&x) => {
                            v.push(x);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Quoted(v));
            }
            _ => {
                let start = i;
                while i < cs.len() && !cs[i].is_whitespace() && !matches!(cs[i], '(' | ')' | '\'' | '"') {
                    i += 1;
                }
                let w: String = cs[start..i].iter().collect();
                match w.strip_prefix('-') {
                    Some(op) if !op.is_empty() && op.chars().all(|c| c.is_ascii_alphabetic()) => {
                        out.push(Tok::Dash(op.to_ascii_lowercase()))
                    }
                    _ => out.push(Tok::Word(w)),
                }
            }
        }
    }
    Ok(out)
}

struct P<'a> {
    toks: Vec<Tok>,
    i: usize,
    src: &'a str,
}

impl P<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i)
    }
    fn or(&mut self) -> Result<Filter, ExoError> {
        let mut l = self.and()?;
        while self.peek() == Some(&Tok::Dash("or".into())) {
            self.i += 1;
            l = Filter::Or(Box::new(l), Box::new(self.and()?));
        }
        Ok(l)
    }
    fn and(&mut self) -> Result<Filter, ExoError> {
        let mut l = self.unary()?;
        while self.peek() == Some(&Tok::Dash("and".into())) {
            self.i += 1;
            l = Filter::And(Box::new(l), Box::new(self.unary()?));
        }
        Ok(l)
    }
    fn unary(&mut self) -> Result<Filter, ExoError> {
        match self.peek().cloned() {
            Some(Tok::Dash(op)) if op == "not" => {
                self.i += 1;
                Ok(Filter::Not(Box::new(self.unary()?)))
            }
            Some(Tok::Open) => {
                self.i += 1;
                let f = self.or()?;
                if self.peek() != Some(&Tok::Close) {
                    return Err(syntax(self.src, "missing ')'"));
                }
                self.i += 1;
                Ok(f)
            }
            Some(Tok::Word(prop)) => {
                self.i += 1;
                let op = match self.peek() {
                    Some(Tok::Dash(o)) => match o.as_str() {
                        "eq" => Op::Eq,
                        "ne" => Op::Ne,
                        "like" => Op::Like,
                        "notlike" => Op::NotLike,
                        _ => return Err(syntax(self.src, &format!("unsupported operator '-{o}'"))),
                    },
                    _ => return Err(syntax(self.src, "operator expected")),
                };
                self.i += 1;
                let value = match self.peek().cloned() {
                    Some(Tok::Quoted(v)) => Some(v),
                    Some(Tok::Word(w)) => match w.to_ascii_lowercase().as_str() {
                        "$null" => None,
                        "$true" => Some("True".into()),
                        "$false" => Some("False".into()),
                        _ => Some(w),
                    },
                    _ => return Err(syntax(self.src, "value expected")),
                };
                self.i += 1;
                Ok(Filter::Cmp { prop, op, value })
            }
            _ => Err(syntax(self.src, "property expected")),
        }
    }
}

/// Parses an OPATH filter.
pub fn parse(s: &str) -> Result<Filter, ExoError> {
    let toks = lex(s)?;
    let mut p = P { toks, i: 0, src: s };
    let f = p.or()?;
    if p.i != p.toks.len() {
        return Err(syntax(s, "unexpected text after the expression"));
    }
    Ok(f)
}

fn like(pattern: &str, s: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let s: Vec<char> = s.to_lowercase().chars().collect();
    let (mut pi, mut si, mut star, mut mark) = (0, 0, None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == s[si] || p[pi] == '?') {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

fn texts(v: &Value) -> Vec<Option<String>> {
    match v {
        Value::Null => vec![None],
        Value::Bool(b) => vec![Some(if *b { "True" } else { "False" }.into())],
        Value::String(s) => vec![Some(s.clone())],
        Value::Array(a) if a.is_empty() => vec![None],
        Value::Array(a) => a.iter().flat_map(texts).collect(),
        other => vec![Some(other.to_string())],
    }
}

impl Filter {
    /// Every property the filter names exists in `row` (else Exchange refuses the filter).
    pub fn check_props(&self, row: &Map<String, Value>) -> Result<(), ExoError> {
        match self {
            Filter::Cmp { prop, .. } => {
                if row.keys().any(|k| k.eq_ignore_ascii_case(prop)) {
                    Ok(())
                } else {
                    // [I] text.
                    Err(ExoError::task_argument(format!(
                        "Cannot bind parameter 'Filter' to the target. Exception setting \"Filter\": \"'{prop}' is not a recognized filterable property. For a list of filterable properties see the command help.\""
                    )))
                }
            }
            Filter::And(a, b) | Filter::Or(a, b) => {
                a.check_props(row)?;
                b.check_props(row)
            }
            Filter::Not(a) => a.check_props(row),
        }
    }

    pub fn matches(&self, row: &Map<String, Value>) -> bool {
        match self {
            Filter::And(a, b) => a.matches(row) && b.matches(row),
            Filter::Or(a, b) => a.matches(row) || b.matches(row),
            Filter::Not(a) => !a.matches(row),
            Filter::Cmp { prop, op, value } => {
                let v = row
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(prop))
                    .map(|(_, v)| v)
                    .unwrap_or(&Value::Null);
                // Multi-valued properties match when any value does.
                let vals = texts(v);
                let hit = |pos: bool| {
                    vals.iter().any(|x| match (x, value) {
                        (None, None) => true,
                        (Some(x), Some(want)) => {
                            if pos {
                                x.eq_ignore_ascii_case(want)
                            } else {
                                like(want, x)
                            }
                        }
                        _ => false,
                    })
                };
                match op {
                    Op::Eq => hit(true),
                    Op::Ne => !hit(true),
                    Op::Like => hit(false),
                    Op::NotLike => !hit(false),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn cipps_three_filters_parse_and_select() {
        // CIPP (contract §1.7): resource mailboxes, mailboxes without archive, not on hold.
        let room = row(
            json!({"RecipientTypeDetails": "RoomMailbox", "ArchiveGuid": "00000000-0000-0000-0000-000000000000", "LitigationHoldEnabled": false}),
        );
        let user = row(
            json!({"RecipientTypeDetails": "UserMailbox", "ArchiveGuid": "00000000-0000-0000-0000-000000000000", "LitigationHoldEnabled": true}),
        );
        let f =
            parse("RecipientTypeDetails -eq 'RoomMailbox' -or RecipientTypeDetails -eq 'EquipmentMailbox'").unwrap();
        assert!(f.matches(&room) && !f.matches(&user));
        let f = parse(
            r#"ArchiveGuid -Eq "00000000-0000-0000-0000-000000000000" -AND RecipientTypeDetails -Eq "UserMailbox""#,
        )
        .unwrap();
        assert!(f.matches(&user) && !f.matches(&room));
        let f = parse(r#"LitigationHoldEnabled -eq "False""#).unwrap();
        assert!(f.matches(&room) && !f.matches(&user));
    }

    #[test]
    fn like_not_parentheses_null_and_multivalued() {
        let r = row(
            json!({"UserPrincipalName": "Anna.Berg@contoso.com", "ForwardingSmtpAddress": null, "EmailAddresses": ["SMTP:a@x.com", "smtp:b@y.com"]}),
        );
        assert!(parse("UserPrincipalName -like 'anna*'").unwrap().matches(&r));
        assert!(parse("-not (UserPrincipalName -like '*@fabrikam.com')")
            .unwrap()
            .matches(&r));
        assert!(parse("ForwardingSmtpAddress -eq $null").unwrap().matches(&r));
        assert!(!parse("ForwardingSmtpAddress -ne $null").unwrap().matches(&r));
        assert!(parse("EmailAddresses -eq 'smtp:b@y.com'").unwrap().matches(&r));
        assert!(
            parse("(UserPrincipalName -eq 'x') -or (EmailAddresses -like '*@x.com')")
                .unwrap()
                .matches(&r)
        );
    }

    #[test]
    fn malformed_filters_and_unknown_properties_are_refused() {
        assert!(parse("UserPrincipalName 'x'").is_err());
        assert!(parse("UserPrincipalName -eq 'x").is_err());
        assert!(parse("(A -eq 'x'").is_err());
        assert!(parse("A -gt 'x'").is_err());
        let f = parse("Bogus -eq 'x'").unwrap();
        assert!(f.check_props(&row(json!({"A": 1}))).is_err());
    }
}
