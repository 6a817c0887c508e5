//! A cmdlet call written in PowerShell's parameter syntax, turned into the body of Exchange
//! Online's admin API `InvokeCommand` (`{"CmdletInput":{"CmdletName":..,"Parameters":{..}}}`,
//! see /work/shared/reference/exchange-and-reports-contract.md §1.3: parameter values are JSON
//! strings, booleans for switches, numbers, arrays, null, and hashtables tagged
//! `"@odata.type":"#Exchange.GenericHashTable"`).
//!
//! Three ways in: [`parse_args`] (argv as the user's shell split it), [`parse_line`] (one
//! PowerShell command line) and [`from_json`] (`--params-json`). The accepted syntax is
//! documented for users in docs/powershell-syntax.md.

use serde_json::{Map, Value};

/// The `@odata.type` Exchange's admin API gives every hashtable parameter (`@{Add=..}`).
pub const HASHTABLE_ODATA_TYPE: &str = "#Exchange.GenericHashTable";

/// Verbs whose cmdlets change nothing. Exchange's view-only RBAC roles (View-Only Recipients,
/// View-Only Configuration, View-Only Audit Logs) hold `Get-*` cmdlets plus the audit
/// `Search-*AuditLog` searches and connectivity `Test-*` checks.
const READ_ONLY_VERBS: &[&str] = &["Get", "Search", "Test"];
/// Cmdlets with a read-only verb that still act: `Search-Mailbox -DeleteContent` deletes mail,
/// `Test-Message` sends a report message. `Export-*` is not read-only either (it hands out
/// message content and is granted by its own roles).
const NOT_READ_ONLY: &[&str] = &["Search-Mailbox", "Test-Message"];

/// One cmdlet call, ready for InvokeCommand's `CmdletInput`.
#[derive(Clone, Debug, PartialEq)]
pub struct CmdletCall {
    /// The cmdlet name as typed (`Get-Mailbox`).
    pub name: String,
    /// Parameter names as typed (without the dash) and their JSON values, in order given.
    pub parameters: Map<String, Value>,
}

impl CmdletCall {
    /// `{"CmdletInput":{"CmdletName":..,"Parameters":{..}}}` (`Parameters` is `{}` when none).
    pub fn to_body(&self) -> Value {
        serde_json::json!({
            "CmdletInput": {
                "CmdletName": self.name,
                "Parameters": Value::Object(self.parameters.clone()),
            }
        })
    }

    /// Verb before the dash, as typed ("Get", "Set"...).
    pub fn verb(&self) -> &str {
        self.name.split_once('-').map_or(self.name.as_str(), |(v, _)| v)
    }

    /// True for cmdlets that change nothing: the verbs Get, Search and Test (Exchange's
    /// view-only roles), except `Search-Mailbox` and `Test-Message`. Case-insensitive.
    pub fn is_read_only(&self) -> bool {
        READ_ONLY_VERBS.iter().any(|v| v.eq_ignore_ascii_case(self.verb()))
            && !NOT_READ_ONLY.iter().any(|c| c.eq_ignore_ascii_case(&self.name))
    }

    /// Parameter lookup, case-insensitive.
    pub fn param(&self, name: &str) -> Option<&Value> {
        self.parameters
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

/// Why a command could not be read; each message names the token and the fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PwshError {
    #[error("no cmdlet given; write one, e.g. Get-Mailbox -ResultSize Unlimited")]
    Empty,
    #[error("'{name}' is not a cmdlet name: cmdlets are Verb-Noun, letters and digits around one dash (e.g. Get-Mailbox){hint}")]
    BadCmdletName {
        name: String,
        /// Extra advice, empty or starting with `; `.
        hint: String,
    },
    #[error(
        "'{token}' comes before the cmdlet name; the cmdlet comes first, then its parameters (Get-Mailbox {token} ...)"
    )]
    ParameterBeforeCmdlet { token: String },
    #[error("'{token}' is not a cmdlet parameter: options with two dashes belong to tenantctl and go before the cmdlet name (tenantctl strips the ones it knows); cmdlet parameters take one dash, e.g. -Identity")]
    LongOption { token: String },
    #[error("'{token}' is not a parameter name: after the dash come letters, digits or _ (e.g. -ResultSize), then optionally :value")]
    BadParameterName { token: String },
    #[error("value '{value}' has no parameter name before it; positional parameters are not supported: name the parameter, e.g. -Identity {value}")]
    Positional { value: String },
    #[error("parameter -{name} is given twice (names are case-insensitive); give it once, with a list for several values: -{name} a,b")]
    Duplicate { name: String },
    #[error("-{name}: no value after the colon; write -{name}:value or -{name}:$false (in bash or zsh quote it: '-{name}:$false')")]
    MissingColonValue { name: String },
    #[error("{what} in '{near}' is not closed; add the closing {close}")]
    Unterminated {
        what: &'static str,
        near: String,
        close: char,
    },
    #[error("'${name}': variables do not exist here (only $true, $false and $null); write the value itself")]
    Variable { name: String },
    #[error("'{token}' is not supported: {fix}")]
    Unsupported { token: String, fix: &'static str },
    #[error("in '{near}': {problem}")]
    Syntax { near: String, problem: String },
    #[error("hashtable @{{..}}: {problem}; write it as @{{Add='a@contoso.com'; Remove='b@contoso.com'}}")]
    Hashtable { problem: String },
    #[error("--params-json: {problem}; give one JSON object of parameters, e.g. '{{\"Identity\":\"john@contoso.com\",\"ResultSize\":\"Unlimited\"}}'")]
    Json { problem: String },
}

/// argv after tenantctl's own options: `["Get-Mailbox", "-ResultSize", "Unlimited", "-Archive"]`.
/// A single element holding whitespace (`["Get-Mailbox -Identity 'john doe'"]`) is tokenised as one
/// PowerShell command line.
///
/// Elements are not re-split (the shell did that), except values that are PowerShell forms:
/// `$true`/`$false`/`$null`, `@(..)`, `@{..}`, a quoted value (`'10'`), and a comma list
/// (`a,b`; an element that does not read whole as a list, such as `Name -like 'a,b'`, stays
/// one string).
pub fn parse_args(args: &[String]) -> Result<CmdletCall, PwshError> {
    let Some(first) = args.first() else {
        return Err(PwshError::Empty);
    };
    if args.len() == 1 && first.trim().contains(char::is_whitespace) {
        return parse_line(first);
    }
    let name = cmdlet_name(first, args.len() == 1)?;
    let mut items = Vec::new();
    for arg in &args[1..] {
        if let Some(p) = param_token(arg)? {
            let (name, value) = match p.split_once(':') {
                Some((n, v)) => {
                    if v.is_empty() {
                        return Err(PwshError::MissingColonValue { name: n.to_owned() });
                    }
                    (n, Some(argv_value(v)?))
                }
                None => (p, None),
            };
            check_param_name(name, arg)?;
            items.push(Item::Param {
                name: name.to_owned(),
                value,
            });
        } else {
            items.push(Item::Value {
                value: argv_value(arg)?,
                text: arg.clone(),
            });
        }
    }
    assemble(name, items)
}

/// One PowerShell command line: `Get-Mailbox -Identity 'john doe' -ResultSize Unlimited`.
pub fn parse_line(line: &str) -> Result<CmdletCall, PwshError> {
    let mut lx = Lexer::new(line);
    lx.skip_ws();
    if lx.at_end() {
        return Err(PwshError::Empty);
    }
    let start = lx.pos;
    while lx.peek().is_some_and(|c| !c.is_whitespace()) {
        lx.pos += 1;
    }
    let name = cmdlet_name(&lx.text(start, lx.pos), false)?;
    let mut items = Vec::new();
    loop {
        lx.skip_ws();
        let Some(c) = lx.peek() else { break };
        match c {
            '#' => break, // a comment runs to the end of the line
            '|' => {
                return Err(unsupported(
                    "|",
                    "pipelines; run one cmdlet, then filter with --select, --sort or --query",
                ))
            }
            ';' => return Err(unsupported(";", "several commands; run one cmdlet per call")),
            '>' | '<' => return Err(unsupported(&c.to_string(), "redirection; use --out FILE")),
            ')' | '}' | ',' => {
                return Err(PwshError::Syntax {
                    near: lx.rest(),
                    problem: format!("unexpected '{c}'"),
                })
            }
            _ if lx.is_param_start() => {
                let start = lx.pos;
                lx.pos += 1;
                while lx.peek().is_some_and(|c| !c.is_whitespace() && c != ':') {
                    lx.pos += 1;
                }
                let token = lx.text(start, lx.pos);
                if token.starts_with("--") {
                    return Err(PwshError::LongOption { token });
                }
                let name: String = token.chars().skip(1).collect();
                check_param_name(&name, &token)?;
                let value = if lx.peek() == Some(':') {
                    lx.pos += 1;
                    // `-Name:value`, and as in PowerShell `-Name: value`.
                    lx.skip_ws();
                    if lx.at_end() || lx.is_param_start() {
                        return Err(PwshError::MissingColonValue { name });
                    }
                    Some(lx.value_expr(Ctx::Top)?)
                } else {
                    None
                };
                items.push(Item::Param { name, value });
            }
            _ => {
                let start = lx.pos;
                let value = lx.value_expr(Ctx::Top)?;
                items.push(Item::Value {
                    value,
                    text: lx.text(start, lx.pos),
                });
            }
        }
    }
    assemble(name, items)
}

/// `--params-json '{"Identity":"x"}'`: an object of parameters (any JSON values).
pub fn from_json(cmdlet: &str, json: &str) -> Result<CmdletCall, PwshError> {
    let name = cmdlet_name(cmdlet, false)?;
    let value: Value = serde_json::from_str(json).map_err(|e| PwshError::Json {
        problem: format!("not valid JSON ({e})"),
    })?;
    let Value::Object(obj) = value else {
        return Err(PwshError::Json {
            problem: format!("a JSON {} instead of an object", json_type(&value)),
        });
    };
    let mut items = Vec::new();
    for (k, v) in obj {
        if k.starts_with('-') {
            return Err(PwshError::Json {
                problem: format!("the key '{k}' starts with a dash; write parameter names without it"),
            });
        }
        check_param_name(&k, &k)?;
        items.push(Item::Param {
            name: k,
            value: Some(v),
        });
    }
    assemble(name, items)
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn unsupported(token: &str, fix: &'static str) -> PwshError {
    PwshError::Unsupported {
        token: token.to_owned(),
        fix,
    }
}

/// A parameter name, or a value (with its source text for messages).
enum Item {
    Param { name: String, value: Option<Value> },
    Value { value: Value, text: String },
}

/// Pairs names with values: `-Name value`, `-Switch` (true when no value follows).
fn assemble(name: String, items: Vec<Item>) -> Result<CmdletCall, PwshError> {
    let mut parameters = Map::new();
    let mut items = items.into_iter().peekable();
    while let Some(item) = items.next() {
        let (pname, value) = match item {
            Item::Value { text, .. } => return Err(PwshError::Positional { value: text }),
            Item::Param { name, value: Some(v) } => (name, v),
            Item::Param { name, value: None } => match items.next_if(|i| matches!(i, Item::Value { .. })) {
                Some(Item::Value { value, .. }) => (name, value),
                _ => (name, Value::Bool(true)),
            },
        };
        if parameters.keys().any(|k| k.eq_ignore_ascii_case(&pname)) {
            return Err(PwshError::Duplicate { name: pname });
        }
        parameters.insert(pname, value);
    }
    Ok(CmdletCall { name, parameters })
}

/// Checks Verb-Noun (ASCII letters and digits, one dash, each side starting with a letter).
fn cmdlet_name(token: &str, only: bool) -> Result<String, PwshError> {
    let token = token.trim();
    if token.starts_with("--") {
        return Err(PwshError::LongOption {
            token: token.to_owned(),
        });
    }
    if token.starts_with(is_dash) {
        return Err(PwshError::ParameterBeforeCmdlet {
            token: token.to_owned(),
        });
    }
    let part_ok = |p: &str| {
        p.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && p.chars().all(|c| c.is_ascii_alphanumeric())
    };
    match token.split_once('-') {
        Some((verb, noun)) if part_ok(verb) && part_ok(noun) => Ok(token.to_owned()),
        _ => {
            let hint = if token.contains(char::is_whitespace) && !only {
                "; to pass a whole command line, give it as the only argument".to_owned()
            } else if !token.contains('-') && token.chars().all(|c| c.is_ascii_alphanumeric()) {
                format!("; did you mean Get-{token}?")
            } else {
                String::new()
            };
            Err(PwshError::BadCmdletName {
                name: token.to_owned(),
                hint,
            })
        }
    }
}

/// `Some(name[:value])` when an argv element is a parameter (`-Name`, `-Name:value`).
fn param_token(arg: &str) -> Result<Option<&str>, PwshError> {
    if arg.starts_with("--") && arg.len() > 2 {
        return Err(PwshError::LongOption { token: arg.to_owned() });
    }
    let mut chars = arg.chars();
    match (chars.next(), chars.next()) {
        (Some(d), Some(c)) if is_dash(d) && (c.is_alphabetic() || c == '_') => Ok(Some(&arg[d.len_utf8()..])),
        _ => Ok(None),
    }
}

fn check_param_name(name: &str, token: &str) -> Result<(), PwshError> {
    let ok = name.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(PwshError::BadParameterName {
            token: token.to_owned(),
        })
    }
}

/// A value from argv: PowerShell forms are read as PowerShell, everything else is literal
/// (an integer becomes a number).
fn argv_value(arg: &str) -> Result<Value, PwshError> {
    if let Some(v) = constant(arg) {
        return Ok(v);
    }
    if arg.starts_with("@(") || arg.starts_with("@{") {
        return whole_value(arg);
    }
    if arg.starts_with(|c| is_single_quote(c) || is_double_quote(c)) || arg.contains(',') {
        // A list or a quoted value when it reads whole, else the text as given.
        return Ok(whole_value(arg).unwrap_or_else(|_| Value::String(arg.to_owned())));
    }
    Ok(bare_word(arg))
}

/// Reads all of `text` as one PowerShell value expression.
fn whole_value(text: &str) -> Result<Value, PwshError> {
    let mut lx = Lexer::new(text);
    lx.skip_ws();
    let v = lx.value_expr(Ctx::Top)?;
    lx.skip_ws();
    if lx.at_end() {
        Ok(v)
    } else {
        Err(PwshError::Syntax {
            near: lx.rest(),
            problem: format!("'{text}' does not read as one value; quote the items of a list: 'a b','c'"),
        })
    }
}

/// `$true`, `$false`, `$null` (any case).
fn constant(word: &str) -> Option<Value> {
    match word.to_ascii_lowercase().as_str() {
        "$true" => Some(Value::Bool(true)),
        "$false" => Some(Value::Bool(false)),
        "$null" => Some(Value::Null),
        _ => None,
    }
}

/// An unquoted word: an integer (optionally with a KB/MB/GB/TB/PB multiplier, as in
/// PowerShell) becomes a number; anything else, including `007` (a leading zero would be
/// lost) and numbers beyond 64 bits, stays a string.
fn bare_word(word: &str) -> Value {
    integer(word).map_or_else(|| Value::String(word.to_owned()), Value::from)
}

fn integer(word: &str) -> Option<i64> {
    let lower = word.to_ascii_lowercase();
    let (digits, mult) = [
        ("kb", 1i64 << 10),
        ("mb", 1 << 20),
        ("gb", 1 << 30),
        ("tb", 1 << 40),
        ("pb", 1 << 50),
    ]
    .iter()
    .find_map(|(s, m)| lower.strip_suffix(s).map(|d| (d, *m)))
    .unwrap_or((&lower, 1));
    let unsigned = digits.strip_prefix(['-', '+']).unwrap_or(digits);
    if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if unsigned.len() > 1 && unsigned.starts_with('0') {
        return None;
    }
    digits.parse::<i64>().ok()?.checked_mul(mult)
}

/// Where a value sits: words end at different characters inside `@(..)` and `@{..}`.
#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Top,
    Array,
    Hash,
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
}

impl Lexer {
    fn new(s: &str) -> Lexer {
        Lexer {
            chars: s.chars().collect(),
            pos: 0,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn text(&self, from: usize, to: usize) -> String {
        self.chars[from..to.min(self.chars.len())].iter().collect()
    }

    /// The rest of the input (for messages), at most 40 characters.
    fn rest(&self) -> String {
        let s = self.text(self.pos, self.pos + 40);
        if self.pos + 40 < self.chars.len() {
            format!("{s}…")
        } else {
            s
        }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// Spaces and tabs only (inside `@(..)`/`@{..}` newlines separate items).
    fn skip_blank(&mut self) {
        while self.peek().is_some_and(|c| c.is_whitespace() && c != '\n') {
            self.pos += 1;
        }
    }

    /// `-Name` (a dash then a letter or `_`), or `--something`.
    fn is_param_start(&self) -> bool {
        self.peek().is_some_and(is_dash)
            && self
                .peek_at(1)
                .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '-')
    }

    /// `elem (, elem)*`: two or more elements make an array.
    fn value_expr(&mut self, ctx: Ctx) -> Result<Value, PwshError> {
        let first = self.element(ctx)?;
        let save = self.pos;
        self.skip_blank();
        if self.peek() != Some(',') {
            self.pos = save;
            return Ok(first);
        }
        let mut items = vec![first];
        while self.peek() == Some(',') {
            self.pos += 1;
            self.skip_ws();
            if self.at_end() || matches!(self.peek(), Some(',' | ';' | ')' | '}')) {
                return Err(PwshError::Syntax {
                    near: self.rest(),
                    problem: "a list has an empty item (a comma with nothing after it)".to_owned(),
                });
            }
            items.push(self.element(ctx)?);
            let save = self.pos;
            self.skip_blank();
            if self.peek() != Some(',') {
                self.pos = save;
            }
        }
        Ok(Value::Array(items))
    }

    /// One element: a word (with quoted parts), `$constant`, `@(..)`, `@{..}` or `{script}`.
    fn element(&mut self, ctx: Ctx) -> Result<Value, PwshError> {
        match (self.peek(), self.peek_at(1)) {
            (Some('@'), Some('(')) => self.array(),
            (Some('@'), Some('{')) => self.hashtable(),
            (Some('{'), _) => self.script_block(),
            (Some('$'), _) => self.dollar(ctx),
            _ => self.word(ctx),
        }
    }

    fn dollar(&mut self, ctx: Ctx) -> Result<Value, PwshError> {
        if self.peek_at(1) == Some('(') {
            return Err(unsupported(
                "$(",
                "subexpressions are not evaluated; write the value itself",
            ));
        }
        let start = self.pos;
        self.pos += 1;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.pos += 1;
        }
        let name = self.text(start, self.pos);
        let value = constant(&name).ok_or_else(|| PwshError::Variable {
            name: name[1..].to_owned(),
        })?;
        if self.peek().is_some_and(|c| !self.ends_word(c, ctx)) {
            return Err(PwshError::Syntax {
                near: self.rest(),
                problem: format!("'{name}' is followed by more text; quote the whole value"),
            });
        }
        Ok(value)
    }

    fn ends_word(&self, c: char, ctx: Ctx) -> bool {
        c.is_whitespace() || matches!(c, ',' | ';' | '|' | '>' | '<' | ')' | '}') || (ctx == Ctx::Hash && c == '=')
    }

    /// Unquoted text and quoted parts glued together (`john' 'doe` is `john doe`). Only an
    /// entirely unquoted word can be a number.
    fn word(&mut self, ctx: Ctx) -> Result<Value, PwshError> {
        let start = self.pos;
        let mut out = String::new();
        let mut quoted = false;
        while let Some(c) = self.peek() {
            match c {
                c if is_single_quote(c) => {
                    quoted = true;
                    self.single_quoted(&mut out)?;
                }
                c if is_double_quote(c) => {
                    quoted = true;
                    self.double_quoted(&mut out)?;
                }
                '`' => {
                    self.pos += 1;
                    match self.peek() {
                        Some(e) => {
                            out.push(backtick(e));
                            quoted = true;
                            self.pos += 1;
                        }
                        None => {
                            return Err(PwshError::Syntax {
                                near: self.text(start, self.pos),
                                problem: "a backtick at the end escapes nothing".to_owned(),
                            })
                        }
                    }
                }
                c if self.ends_word(c, ctx) => break,
                c => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
        if self.pos == start {
            let c = self.peek().map(String::from).unwrap_or_default();
            return Err(PwshError::Syntax {
                near: self.rest(),
                problem: format!("expected a value, found '{c}'"),
            });
        }
        Ok(if quoted { Value::String(out) } else { bare_word(&out) })
    }

    /// `'...'`: literal; `''` is one quote.
    fn single_quoted(&mut self, out: &mut String) -> Result<(), PwshError> {
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.peek() {
                None => {
                    return Err(PwshError::Unterminated {
                        what: "a single-quoted string",
                        near: self.text(start, self.pos),
                        close: '\'',
                    })
                }
                Some(c) if is_single_quote(c) && self.peek_at(1).is_some_and(is_single_quote) => {
                    out.push(c);
                    self.pos += 2;
                }
                Some(c) if is_single_quote(c) => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// `"..."`: backtick escapes (`` `n ``, `` `" ``, ...), `""` is one quote; `$` is literal
    /// (no variables to expand).
    fn double_quoted(&mut self, out: &mut String) -> Result<(), PwshError> {
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.peek() {
                None => {
                    return Err(PwshError::Unterminated {
                        what: "a double-quoted string",
                        near: self.text(start, self.pos),
                        close: '"',
                    })
                }
                Some('`') => match self.peek_at(1) {
                    Some(e) => {
                        out.push(backtick(e));
                        self.pos += 2;
                    }
                    None => {
                        self.pos += 1;
                    }
                },
                Some(c) if is_double_quote(c) && self.peek_at(1).is_some_and(is_double_quote) => {
                    out.push(c);
                    self.pos += 2;
                }
                Some(c) if is_double_quote(c) => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// `@( a, b; c )`: items separated by commas, semicolons or newlines.
    fn array(&mut self) -> Result<Value, PwshError> {
        let start = self.pos;
        self.pos += 2;
        let mut items = Vec::new();
        loop {
            self.skip_separators();
            match self.peek() {
                None => {
                    return Err(PwshError::Unterminated {
                        what: "an array @(",
                        near: self.text(start, self.pos),
                        close: ')',
                    })
                }
                Some(')') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                Some(_) => match self.value_expr(Ctx::Array)? {
                    Value::Array(v) => items.extend(v),
                    v => items.push(v),
                },
            }
        }
    }

    /// `@{ Key = value; 'Other Key' = a,b }` as an Exchange GenericHashTable.
    fn hashtable(&mut self) -> Result<Value, PwshError> {
        let start = self.pos;
        self.pos += 2;
        let mut map = Map::new();
        map.insert("@odata.type".to_owned(), Value::from(HASHTABLE_ODATA_TYPE));
        loop {
            self.skip_separators();
            let key = match self.peek() {
                None => {
                    return Err(PwshError::Unterminated {
                        what: "a hashtable @{",
                        near: self.text(start, self.pos),
                        close: '}',
                    })
                }
                Some('}') => {
                    self.pos += 1;
                    return Ok(Value::Object(map));
                }
                Some(_) => match self.word(Ctx::Hash)? {
                    Value::String(s) => s,
                    v => v.to_string(),
                },
            };
            self.skip_blank();
            if self.peek() != Some('=') {
                return Err(PwshError::Hashtable {
                    problem: format!("the key '{key}' has no '=' and value after it"),
                });
            }
            self.pos += 1;
            self.skip_blank();
            if self.at_end() || matches!(self.peek(), Some(';' | '}' | '\n')) {
                return Err(PwshError::Hashtable {
                    problem: format!("the key '{key}' has no value after '='"),
                });
            }
            let value = self.value_expr(Ctx::Hash)?;
            if map.keys().any(|k| k.eq_ignore_ascii_case(&key)) {
                return Err(PwshError::Hashtable {
                    problem: format!("the key '{key}' is given twice"),
                });
            }
            map.insert(key, value);
            self.skip_blank();
            if !matches!(self.peek(), None | Some(';' | '\n' | '\r' | '}')) {
                return Err(PwshError::Hashtable {
                    problem: format!(
                        "expected ';' or '}}' after the value of '{}'",
                        map.keys().next_back().map_or("", |k| k)
                    ),
                });
            }
        }
    }

    fn skip_separators(&mut self) {
        while self.peek().is_some_and(|c| c.is_whitespace() || c == ';') {
            self.pos += 1;
        }
    }

    /// `{ Name -like 'j*' }`: a filter script block, passed as its text (Exchange's `-Filter`
    /// takes the OPATH string either way).
    fn script_block(&mut self) -> Result<Value, PwshError> {
        let start = self.pos;
        self.pos += 1;
        let mut depth = 1;
        let mut scratch = String::new();
        while depth > 0 {
            match self.peek() {
                None => {
                    return Err(PwshError::Unterminated {
                        what: "a script block {",
                        near: self.text(start, self.pos),
                        close: '}',
                    })
                }
                Some(c) if is_single_quote(c) => self.single_quoted(&mut scratch)?,
                Some(c) if is_double_quote(c) => self.double_quoted(&mut scratch)?,
                Some('{') => {
                    depth += 1;
                    self.pos += 1;
                }
                Some('}') => {
                    depth -= 1;
                    self.pos += 1;
                }
                Some(_) => self.pos += 1,
            }
        }
        Ok(Value::String(self.text(start + 1, self.pos - 1).trim().to_owned()))
    }
}

/// PowerShell's backtick escapes; any other character stands for itself.
fn backtick(c: char) -> char {
    match c {
        '0' => '\0',
        'a' => '\u{7}',
        'b' => '\u{8}',
        'e' => '\u{1b}',
        'f' => '\u{c}',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\u{b}',
        c => c,
    }
}

/// PowerShell takes typographic quotes as quotes (text pasted from documents).
fn is_single_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}')
}

fn is_double_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201c}' | '\u{201d}' | '\u{201e}')
}

/// PowerShell takes en dash, em dash and horizontal bar as the dash before a parameter.
fn is_dash(c: char) -> bool {
    matches!(c, '-' | '\u{2013}' | '\u{2014}' | '\u{2015}')
}
