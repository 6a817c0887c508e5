//! The `$filter` expression parser (the subset of OData Graph supports on directory objects).

use super::*;

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
                    "ge" => Ok(Filter::Cmp(w, CmpOp::Ge, self.literal()?)),
                    "le" => Ok(Filter::Cmp(w, CmpOp::Le, self.literal()?)),
                    "gt" => Ok(Filter::Cmp(w, CmpOp::Gt, self.literal()?)),
                    "lt" => Ok(Filter::Cmp(w, CmpOp::Lt, self.literal()?)),
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
