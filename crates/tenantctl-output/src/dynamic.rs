//! Rows whose columns are known only at the end: a few fixed typed cells (tenantId,
//! tenantName, ...) plus an open set of named JSON properties (Exchange cmdlet results, usage
//! report rows whose columns differ by tenant).
//!
//! [`open_dynamic`] checks the flags at once, then rows are spooled to an anonymous temporary
//! file (in `$TMPDIR`; memory stays flat however many rows) while the union of property names
//! and each column's kind are collected. [`DynamicSink::finish`] builds the schema (fixed
//! columns, then properties in first-seen order) and writes it through the same sinks as
//! [`crate::open`], so every format and flag behaves as for the typed commands.
//!
//! - **Kinds**, inferred per column over all rows (nulls and missing properties ignored):
//!   integers → `Int`; booleans → `Bool`; strings that all are RFC 3339 / ISO 8601 date-times
//!   with an offset, or .NET's `/Date(ms)/` → `DateTime`; strings that all are GUIDs → `Id`
//!   (kept in csv/json/xlsx, hidden from the default table like other ids); arrays of scalars
//!   → `List`; strings that all are plain days `YYYY-MM-DD` (usage reports' dates) → `Date`;
//!   anything else or a mix (objects, fractions,
//!   date-times without an offset) → `Text`, non-strings as compact JSON.
//! - **Names**: properties are matched case-insensitively; the first spelling seen names the
//!   column. A property whose name is a fixed column's (case-insensitively) is kept under
//!   `name_1` (`_2`, ... if that is taken too): nothing is dropped.
//! - Column names must be `&'static str`: each distinct name is interned, one small leak per
//!   distinct name per process (a few hundred for Exchange objects).
//! - **Streaming**: `-o jsonl` without `--select`, `--sort` or `--query` writes each row at once
//!   (no spool): the fixed cells and the row's own properties, values as received.

use crate::columns::Plan;
use crate::dest::Dest;
use crate::{query, resolve_format, Format, OutputError, OutputSpec, Sink, TenantOutcome};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, Write};
use std::sync::{Mutex, OnceLock};
use tenantctl_core::rows::{parse_day, Cell, Column, Kind};
use time::format_description::well_known::{Iso8601, Rfc3339};
use time::{OffsetDateTime, UtcOffset};

/// Why a dynamic output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum DynamicError {
    /// A flag that only the final columns could check (`--select`/`--sort` naming a column no
    /// row had).
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Opens a sink for rows = fixed typed cells (e.g. tenantId, tenantName, defaultDomain) + an open set
/// of named properties. Validates the flag combination now (same errors as `open`), spools rows to an
/// anonymous temp file (memory stays flat for 100k+ rows), and on `finish` writes the real output
/// (every format of `open`: table/csv/json/jsonl/xlsx incl. the Tenants sheet, --select/--sort/--query,
/// --bom) with schema = fixed columns + the union of property names in first-seen order.
pub fn open_dynamic(
    spec: &OutputSpec,
    fixed: Vec<Column>,
    stdout_is_terminal: bool,
) -> Result<DynamicSink, OutputError> {
    open_dynamic_with_stdout(spec, fixed, stdout_is_terminal, Box::new(std::io::stdout()))
}

/// [`open_dynamic`] with `stdout` standing for the process's standard output (tests, embedding).
pub fn open_dynamic_with_stdout(
    spec: &OutputSpec,
    fixed: Vec<Column>,
    stdout_is_terminal: bool,
    stdout: Box<dyn Write + Send>,
) -> Result<DynamicSink, OutputError> {
    let format = resolve_format(spec, stdout_is_terminal)?;
    if spec.bom && format != Format::Csv {
        return Err(OutputError::BomWithoutCsv { format });
    }
    if spec.excel_safe && format != Format::Csv {
        return Err(OutputError::ExcelSafeWithoutCsv { format });
    }
    if let Some(q) = &spec.query {
        if !matches!(format, Format::Json | Format::Jsonl) {
            return Err(OutputError::QueryNeedsJson { format });
        }
        query::check(q)?;
    }
    // `--select`/`--sort` may name properties not seen yet: checked at `finish`.
    let dest = Dest::open(spec.out.as_deref(), stdout)?;
    let stream = format == Format::Jsonl && spec.query.is_none() && spec.select.is_empty() && spec.sort.is_empty();
    let props = Props::new(&fixed);
    Ok(DynamicSink {
        spec: spec.clone(),
        format,
        terminal: stdout_is_terminal,
        fixed,
        props,
        dest,
        stream,
        spool: None,
        rows: 0,
    })
}

/// A sink for fixed cells + named properties; see the module documentation.
pub struct DynamicSink {
    spec: OutputSpec,
    format: Format,
    terminal: bool,
    fixed: Vec<Column>,
    props: Props,
    dest: Dest,
    /// `-o jsonl` without select/sort/query: rows go straight to `dest`.
    stream: bool,
    /// Created at the first row.
    spool: Option<BufWriter<File>>,
    rows: u64,
}

impl DynamicSink {
    /// One row: cells for the fixed columns (in their order) and the row's properties.
    pub fn write_row(&mut self, fixed: Vec<Cell>, props: &Map<String, Value>) -> std::io::Result<()> {
        if fixed.len() != self.fixed.len() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "a row has {} fixed cells for {} fixed columns",
                    fixed.len(),
                    self.fixed.len()
                ),
            ));
        }
        if self.stream {
            let mut obj = Map::new();
            for (c, cell) in self.fixed.iter().zip(&fixed) {
                obj.insert(c.name.to_owned(), cell.to_json());
            }
            for (k, v) in props {
                let i = self.props.register(k);
                let p = &mut self.props.cols[i];
                p.kind.observe(v);
                if !obj.contains_key(&p.name) {
                    obj.insert(p.name.clone(), v.clone());
                }
            }
            let mut line = serde_json::to_vec(&Value::Object(obj))?;
            line.push(b'\n');
            self.dest.write(&line)?;
        } else {
            if self.spool.is_none() {
                self.spool = Some(BufWriter::new(tempfile::tempfile()?));
            }
            let w = self.spool.as_mut().expect("spool created above");
            // One line a row: [[fixed cells], [[property index, value], ...]].
            w.write_all(b"[")?;
            serde_json::to_writer(&mut *w, &Value::Array(fixed.iter().map(spool_cell).collect()))?;
            w.write_all(b",[")?;
            let mut seen: Vec<usize> = Vec::with_capacity(props.len());
            for (k, v) in props {
                let i = self.props.register(k);
                if seen.contains(&i) {
                    continue; // the same name in another case: the first wins
                }
                seen.push(i);
                self.props.cols[i].kind.observe(v);
                if v.is_null() {
                    continue;
                }
                if seen.len() > 1 {
                    w.write_all(b",")?;
                }
                write!(w, "[{i},")?;
                serde_json::to_writer(&mut *w, v)?;
                w.write_all(b"]")?;
            }
            w.write_all(b"]]\n")?;
        }
        self.rows += 1;
        Ok(())
    }

    /// Declares property columns before (or without) any row that has them, in this order:
    /// a report's header, so that an empty report still prints its columns.
    pub fn declare(&mut self, names: &[String]) {
        for n in names {
            self.props.register(n);
        }
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The columns so far: the fixed ones, then every property seen, with the kinds inferred
    /// from the rows up to now (interns the names).
    pub fn columns(&self) -> Vec<Column> {
        self.fixed
            .iter()
            .copied()
            .chain(self.props.cols.iter().map(|p| Column {
                name: intern(&p.name),
                kind: p.kind.kind(),
            }))
            .collect()
    }

    /// Pushes streamed rows to the destination (call after each tenant's rows); a no-op while
    /// spooling.
    pub fn flush(&mut self) -> std::io::Result<()> {
        if self.stream {
            self.dest.flush()
        } else {
            Ok(())
        }
    }

    /// Writes the output. A `--select`/`--sort` naming a column no row had is OutputError::UnknownColumn
    /// (listing the columns seen).
    pub fn finish(mut self, statuses: &[TenantOutcome]) -> Result<(), DynamicError> {
        if self.stream {
            self.dest.finish()?;
            return Ok(());
        }
        let mut schema = self.columns();
        if self.rows == 0 {
            // No row to learn the columns from: the columns `--select` names are the header
            // (an empty result is not a misspelt column).
            for name in self.spec.select.iter().flat_map(|s| s.split(',')).map(str::trim) {
                if !name.is_empty() && !schema.iter().any(|c| c.name.eq_ignore_ascii_case(name)) {
                    schema.push(Column {
                        name: intern(name),
                        kind: Kind::Text,
                    });
                }
            }
        }
        let kinds: Vec<Kind> = schema.iter().map(|c| c.kind).collect();
        // The natural order may name properties that never came (no rows): skip those.
        let mut spec = self.spec.clone();
        spec.default_sort
            .retain(|n| schema.iter().any(|c| c.name.eq_ignore_ascii_case(n)));
        let plan = Plan::new(schema, &spec)?;
        let mut sink = inner_sink(plan, self.dest, self.format, &spec, self.terminal);
        if let Some(spool) = self.spool.take() {
            let mut file = spool.into_inner().map_err(|e| e.into_error())?;
            file.rewind()?;
            let nfixed = self.fixed.len();
            for line in BufReader::new(file).lines() {
                sink.write_row(unspool_row(&line?, &kinds, nfixed)?)?;
            }
        }
        sink.finish(statuses)?;
        Ok(())
    }
}

/// The sink [`crate::open`] would give for these flags, on an already opened destination.
fn inner_sink(plan: Plan, dest: Dest, format: Format, spec: &OutputSpec, terminal: bool) -> Box<dyn Sink> {
    if let Some(q) = &spec.query {
        return Box::new(query::QuerySink::new(plan, dest, q.clone(), format == Format::Jsonl));
    }
    match format {
        Format::Table => {
            let width = (spec.out.is_none() && terminal)
                .then_some(spec.terminal_width)
                .flatten();
            Box::new(crate::table::TableSink::new(plan, dest, width))
        }
        Format::Csv => Box::new(crate::streams::StreamSink::csv(plan, dest, spec.bom, spec.excel_safe)),
        Format::Json => Box::new(crate::streams::StreamSink::json(plan, dest)),
        Format::Jsonl => Box::new(crate::streams::StreamSink::jsonl(plan, dest)),
        Format::Xlsx => Box::new(crate::xlsx::XlsxSink::new(plan, dest)),
    }
}

/// The property columns: display names (unique against the fixed columns and each other,
/// case-insensitively) and kinds.
struct Props {
    cols: Vec<Prop>,
    /// Lower-cased property name → index in `cols`.
    by_name: HashMap<String, usize>,
    /// Lower-cased names taken (fixed columns and display names).
    taken: HashSet<String>,
}

struct Prop {
    name: String,
    kind: Infer,
}

impl Props {
    fn new(fixed: &[Column]) -> Props {
        Props {
            cols: Vec::new(),
            by_name: HashMap::new(),
            taken: fixed.iter().map(|c| c.name.to_lowercase()).collect(),
        }
    }

    fn register(&mut self, name: &str) -> usize {
        if let Some(&i) = self.by_name.get(name) {
            return i; // the common case: the same spelling again
        }
        let lower = name.to_lowercase();
        if let Some(&i) = self.by_name.get(&lower) {
            self.by_name.insert(name.to_owned(), i);
            return i;
        }
        let mut display = name.to_owned();
        let mut n = 0;
        while self.taken.contains(&display.to_lowercase()) {
            n += 1;
            display = format!("{name}_{n}");
        }
        self.taken.insert(display.to_lowercase());
        let i = self.cols.len();
        self.cols.push(Prop {
            name: display,
            kind: Infer::Empty,
        });
        self.by_name.insert(lower, i);
        self.by_name.insert(name.to_owned(), i);
        i
    }
}

/// A column's kind so far.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Infer {
    /// Only nulls (or nothing) yet.
    Empty,
    Int,
    Bool,
    DateTime,
    Date,
    Guid,
    List,
    Text,
}

impl Infer {
    fn observe(&mut self, v: &Value) {
        if *self == Infer::Text || v.is_null() {
            return;
        }
        let k = match v {
            Value::Number(n) if n.as_i64().is_some() => Infer::Int,
            Value::Bool(_) => Infer::Bool,
            Value::String(s) => match *self {
                Infer::Empty if parse_day(s).is_some() => Infer::Date,
                Infer::Date if parse_day(s).is_some() => Infer::Date,
                Infer::Empty if parse_datetime(s).is_some() => Infer::DateTime,
                Infer::Empty if is_guid(s) => Infer::Guid,
                Infer::DateTime if parse_datetime(s).is_some() => Infer::DateTime,
                Infer::Guid if is_guid(s) => Infer::Guid,
                _ => Infer::Text,
            },
            Value::Array(items) if items.iter().all(is_scalar) => Infer::List,
            _ => Infer::Text,
        };
        *self = if *self == Infer::Empty || *self == k {
            k
        } else {
            Infer::Text
        };
    }

    fn kind(self) -> Kind {
        match self {
            Infer::Empty | Infer::Text => Kind::Text,
            Infer::Int => Kind::Int,
            Infer::Bool => Kind::Bool,
            Infer::DateTime => Kind::DateTime,
            Infer::Date => Kind::Date,
            Infer::Guid => Kind::Id,
            Infer::List => Kind::List,
        }
    }
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Array(_) | Value::Object(_))
}

fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// RFC 3339 / ISO 8601 with an offset, or .NET JSON's `/Date(ms)/` (`/Date(ms+hhmm)/`; the
/// milliseconds are UTC either way).
fn parse_datetime(s: &str) -> Option<OffsetDateTime> {
    if let Some(inner) = s.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")) {
        let digits_end = inner
            .char_indices()
            .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && c == '-')))
            .map_or(inner.len(), |(i, _)| i);
        let (ms, zone) = inner.split_at(digits_end);
        let zone_ok = zone.is_empty()
            || (zone.len() == 5 && zone.starts_with(['+', '-']) && zone[1..].bytes().all(|b| b.is_ascii_digit()));
        if !zone_ok {
            return None;
        }
        let ms: i128 = ms.parse().ok()?;
        return OffsetDateTime::from_unix_timestamp_nanos(ms.checked_mul(1_000_000)?).ok();
    }
    // Cheap pre-check: date-times start with a digit and are short.
    if !s.starts_with(|c: char| c.is_ascii_digit()) || s.len() > 40 {
        return None;
    }
    OffsetDateTime::parse(s, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(s, &Iso8601::DEFAULT))
        .ok()
}

/// A property value as a cell of its column's kind.
fn to_cell(v: Value, kind: Kind) -> Cell {
    match (kind, v) {
        (_, Value::Null) => Cell::Null,
        (Kind::Int, Value::Number(n)) if n.as_i64().is_some() => Cell::Int(n.as_i64().unwrap_or_default()),
        (Kind::Bool, Value::Bool(b)) => Cell::Bool(b),
        (Kind::DateTime, Value::String(s)) => match parse_datetime(&s) {
            Some(d) => Cell::DateTime(d),
            None => Cell::Text(s),
        },
        (Kind::Date, Value::String(s)) => match parse_day(&s) {
            Some(d) => Cell::Date(d),
            None => Cell::Text(s),
        },
        (Kind::List, Value::Array(items)) => Cell::List(
            items
                .into_iter()
                .filter_map(|i| match i {
                    Value::Null => None,
                    Value::String(s) => Some(s),
                    other => Some(other.to_string()),
                })
                .collect(),
        ),
        (_, Value::String(s)) => Cell::Text(s),
        (_, v) => Cell::Text(v.to_string()),
    }
}

/// A fixed cell in the spool: JSON as is, a date-time as `{"t":secs,"n":nanos,"o":offset}`
/// and a day as `{"d":"YYYY-MM-DD"}` (the only objects, so text that looks like a date stays
/// text).
fn spool_cell(c: &Cell) -> Value {
    match c {
        Cell::Null => Value::Null,
        Cell::Text(s) => Value::from(s.as_str()),
        Cell::Int(i) => Value::from(*i),
        Cell::Bool(b) => Value::from(*b),
        Cell::List(v) => Value::from(v.clone()),
        Cell::DateTime(d) => serde_json::json!({
            "t": d.unix_timestamp(),
            "n": d.nanosecond(),
            "o": d.offset().whole_seconds(),
        }),
        Cell::Date(d) => serde_json::json!({ "d": tenantctl_core::rows::format_day(*d) }),
    }
}

fn unspool_cell(v: Value) -> std::io::Result<Cell> {
    Ok(match v {
        Value::Null => Cell::Null,
        Value::String(s) => Cell::Text(s),
        Value::Bool(b) => Cell::Bool(b),
        Value::Number(n) => Cell::Int(n.as_i64().ok_or_else(|| bad_spool("an integer"))?),
        Value::Array(items) => Cell::List(
            items
                .into_iter()
                .map(|i| match i {
                    Value::String(s) => s,
                    other => other.to_string(),
                })
                .collect(),
        ),
        Value::Object(o) if o.contains_key("d") => {
            let day = o.get("d").and_then(Value::as_str).and_then(parse_day);
            Cell::Date(day.ok_or_else(|| bad_spool("a day"))?)
        }
        Value::Object(o) => {
            let field = |k: &str| o.get(k).and_then(Value::as_i64).ok_or_else(|| bad_spool("a date-time"));
            let (t, n) = (field("t")?, field("n")?);
            let d = OffsetDateTime::from_unix_timestamp(t)
                .and_then(|d| d.replace_nanosecond(u32::try_from(n).unwrap_or(u32::MAX)))
                .map_err(|_| bad_spool("a date-time"))?;
            let offset = UtcOffset::from_whole_seconds(i32::try_from(field("o")?).unwrap_or(i32::MAX))
                .map_err(|_| bad_spool("an offset"))?;
            Cell::DateTime(d.to_offset(offset))
        }
    })
}

fn unspool_row(line: &str, kinds: &[Kind], nfixed: usize) -> std::io::Result<Vec<Cell>> {
    let Value::Array(mut parts) = serde_json::from_str::<Value>(line)? else {
        return Err(bad_spool("a row"));
    };
    let (Some(Value::Array(props)), Some(Value::Array(fixed))) = (parts.pop(), parts.pop()) else {
        return Err(bad_spool("a row"));
    };
    let mut cells = Vec::with_capacity(kinds.len());
    for c in fixed {
        cells.push(unspool_cell(c)?);
    }
    cells.resize(kinds.len(), Cell::Null);
    for pair in props {
        let Value::Array(mut pair) = pair else {
            return Err(bad_spool("a property"));
        };
        let v = pair.pop().ok_or_else(|| bad_spool("a property"))?;
        let i = pair
            .pop()
            .and_then(|i| i.as_u64())
            .map(|i| nfixed + i as usize)
            .filter(|&i| i < kinds.len())
            .ok_or_else(|| bad_spool("a property index"))?;
        cells[i] = to_cell(v, kinds[i]);
    }
    Ok(cells)
}

fn bad_spool(what: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("the row spool holds an unreadable {what}"),
    )
}

/// A `&'static str` for a column name: each distinct name is leaked once per process.
fn intern(name: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut set = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(s) = set.get(name) {
        return s;
    }
    let s: &'static str = Box::leak(name.to_owned().into_boxed_str());
    set.insert(s);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn infer(values: &[Value]) -> Kind {
        let mut k = Infer::Empty;
        for v in values {
            k.observe(v);
        }
        k.kind()
    }

    #[test]
    fn kinds_are_inferred_over_every_value_of_a_column() {
        assert_eq!(infer(&[json!(1), json!(null), json!(-7)]), Kind::Int);
        assert_eq!(infer(&[json!(1), json!(1.5)]), Kind::Text, "a fraction");
        assert_eq!(infer(&[json!(1), json!("2")]), Kind::Text, "a mix");
        assert_eq!(infer(&[json!(true), json!(false)]), Kind::Bool);
        assert_eq!(
            infer(&[
                json!("2024-01-15T10:00:00Z"),
                json!("2021-03-04T10:20:30.1234567+01:00")
            ]),
            Kind::DateTime
        );
        assert_eq!(
            infer(&[json!("/Date(1700000000000)/"), json!("/Date(1700000000000+0100)/")]),
            Kind::DateTime
        );
        assert_eq!(infer(&[json!("2024-01-15")]), Kind::Date, "a plain day is a date");
        assert_eq!(
            infer(&[json!("2024-01-15"), json!("2024-13-01")]),
            Kind::Text,
            "not a day: text"
        );
        assert_eq!(infer(&[json!("2024-01-15"), json!("2024-01-15T10:00:00Z")]), Kind::Text);
        assert_eq!(
            infer(&[json!("2024-01-15T10:00:00")]),
            Kind::Text,
            "no offset: the zone is unknown"
        );
        assert_eq!(infer(&[json!("2024-01-15T10:00:00Z"), json!("soon")]), Kind::Text);
        assert_eq!(infer(&[json!("00000000-0000-0000-0000-000000000000")]), Kind::Id);
        assert_eq!(infer(&[json!(["a", 1, true]), json!([])]), Kind::List);
        assert_eq!(infer(&[json!([{"a": 1}])]), Kind::Text, "an array of objects");
        assert_eq!(infer(&[json!({"a": 1})]), Kind::Text);
        assert_eq!(infer(&[json!(null)]), Kind::Text, "only nulls");
        assert_eq!(infer(&[]), Kind::Text);
    }

    #[test]
    fn values_become_cells_of_their_columns_kind() {
        assert_eq!(to_cell(json!(5), Kind::Int), Cell::Int(5));
        assert_eq!(to_cell(json!(5), Kind::Text), Cell::Text("5".into()));
        assert_eq!(to_cell(json!(true), Kind::Text), Cell::Text("true".into()));
        assert_eq!(to_cell(json!({"a":[1]}), Kind::Text), Cell::Text(r#"{"a":[1]}"#.into()));
        assert_eq!(
            to_cell(json!(["x", 2, null]), Kind::List),
            Cell::List(vec!["x".into(), "2".into()])
        );
        assert_eq!(
            to_cell(json!("/Date(0)/"), Kind::DateTime),
            Cell::DateTime(OffsetDateTime::UNIX_EPOCH)
        );
        assert_eq!(to_cell(Value::Null, Kind::Int), Cell::Null);
    }

    #[test]
    fn fixed_cells_survive_the_spool_exactly() {
        let d = time::macros::datetime!(2026-11-25 19:30:01.123456789 +02:00);
        let cells = vec![
            Cell::Null,
            Cell::Text("2026-11-25T00:00:00Z".into()),
            Cell::Int(-3),
            Cell::Bool(false),
            Cell::List(vec!["a".into(), "b".into()]),
            Cell::DateTime(d),
        ];
        let line = format!(
            "[{},[]]",
            serde_json::to_string(&Value::Array(cells.iter().map(spool_cell).collect())).unwrap()
        );
        let back = unspool_row(&line, &[Kind::Text; 6], 6).unwrap();
        assert_eq!(back, cells);
        assert!(
            unspool_row("[[],[[9,1]]]", &[Kind::Text], 0).is_err(),
            "index out of range"
        );
    }

    #[test]
    fn a_property_named_like_a_fixed_column_gets_a_suffix() {
        let fixed = [Column {
            name: "tenantName",
            kind: Kind::Text,
        }];
        let mut p = Props::new(&fixed);
        assert_eq!(p.register("TenantName"), 0);
        assert_eq!(p.register("tenantname_1"), 1);
        assert_eq!(p.register("tenantNAME"), 0);
        assert_eq!(p.register("DisplayName"), 2);
        assert_eq!(p.register("displayname"), 2);
        let names: Vec<&str> = p.cols.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["TenantName_1", "tenantname_1_1", "DisplayName"]);
    }

    #[test]
    fn the_sink_can_move_to_another_thread() {
        fn send<T: Send>() {}
        send::<DynamicSink>();
    }

    #[test]
    fn names_are_interned_once() {
        let a = intern("SomeExchangeProperty");
        let b = intern(&String::from("SomeExchangeProperty"));
        assert!(std::ptr::eq(a, b));
    }
}
