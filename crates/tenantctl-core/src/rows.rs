//! Output rows. Each row type declares its columns **once** with [`define_row!`] (name, kind,
//! field); every writer (table, csv, json, jsonl, xlsx, and later the SQLite inventory)
//! renders the typed [`Cell`]s in that order. A misspelt column cannot silently become an
//! empty one: the macro generates both the column list and the cells from the same lines.

use crate::ids::{ObjectId, SkuId, TenantId};
use serde_json::Value;
use time::OffsetDateTime;

/// What a column holds: decides alignment, table visibility and xlsx cell types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Free text (names, UPNs, statuses).
    Text,
    /// A GUID or opaque id: kept in json/csv/xlsx, hidden from the default table.
    Id,
    /// A whole number (right-aligned, numeric in xlsx and JSON).
    Int,
    Bool,
    /// A point in time (RFC 3339 in csv/json; minutes in the table; a date cell in xlsx).
    DateTime,
    /// A calendar day (`YYYY-MM-DD` in csv/json/table; a date cell in xlsx), as usage
    /// reports give their dates.
    Date,
    /// Several values: an array in JSON, `; `-joined in csv and the table.
    List,
}

/// One column of a row type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Column {
    /// The name in csv headers and JSON keys (camelCase, as Graph names things).
    pub name: &'static str,
    pub kind: Kind,
}

/// One typed value of a row.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Text(String),
    Int(i64),
    Bool(bool),
    DateTime(OffsetDateTime),
    Date(time::Date),
    List(Vec<String>),
}

impl Cell {
    /// The JSON value: lists stay arrays, numbers numbers, absent values `null`.
    pub fn to_json(&self) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::Text(s) => Value::from(s.as_str()),
            Cell::Int(i) => Value::from(*i),
            Cell::Bool(b) => Value::from(*b),
            Cell::DateTime(d) => Value::from(crate::models::format_date(*d)),
            Cell::Date(d) => Value::from(format_day(*d)),
            Cell::List(v) => Value::from(v.clone()),
        }
    }

    /// The text in a csv cell: lists joined with `; `, dates RFC 3339, null empty.
    pub fn to_text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Bool(b) => b.to_string(),
            Cell::DateTime(d) => crate::models::format_date(*d),
            Cell::Date(d) => format_day(*d),
            Cell::List(v) => v.join("; "),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Cell::Null)
    }
}

/// `YYYY-MM-DD`.
pub fn format_day(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

/// A `YYYY-MM-DD` day (exactly that form), as usage reports write dates.
pub fn parse_day(s: &str) -> Option<time::Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i32> {
        let part = s.get(r)?;
        part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
    };
    let month = time::Month::try_from(u8::try_from(num(5..7)?).ok()?).ok()?;
    time::Date::from_calendar_date(num(0..4)?, month, u8::try_from(num(8..10)?).ok()?).ok()
}

/// A row type: its columns (declared once) and its cells in that order.
pub trait Row: Send + 'static {
    fn columns() -> &'static [Column];
    fn cells(&self) -> Vec<Cell>;

    /// The row as a JSON object keyed by column name (multi-valued fields as arrays).
    fn to_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        for (c, v) in Self::columns().iter().zip(self.cells()) {
            m.insert(c.name.to_owned(), v.to_json());
        }
        Value::Object(m)
    }
}

/// How a field becomes a [`Cell`].
pub trait ToCell {
    fn to_cell(&self) -> Cell;
}

impl ToCell for String {
    fn to_cell(&self) -> Cell {
        Cell::Text(self.clone())
    }
}
/// Short strings (a display name, a country code) held inline: no allocation of their own.
impl ToCell for compact_str::CompactString {
    fn to_cell(&self) -> Cell {
        Cell::Text(self.to_string())
    }
}
impl ToCell for &'static str {
    fn to_cell(&self) -> Cell {
        Cell::Text((*self).to_owned())
    }
}
impl ToCell for i64 {
    fn to_cell(&self) -> Cell {
        Cell::Int(*self)
    }
}
impl ToCell for u64 {
    fn to_cell(&self) -> Cell {
        Cell::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}
impl ToCell for u32 {
    fn to_cell(&self) -> Cell {
        Cell::Int(i64::from(*self))
    }
}
impl ToCell for usize {
    fn to_cell(&self) -> Cell {
        Cell::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}
impl ToCell for bool {
    fn to_cell(&self) -> Cell {
        Cell::Bool(*self)
    }
}
impl ToCell for OffsetDateTime {
    fn to_cell(&self) -> Cell {
        Cell::DateTime(*self)
    }
}
impl ToCell for time::Date {
    fn to_cell(&self) -> Cell {
        Cell::Date(*self)
    }
}
impl ToCell for std::sync::Arc<[String]> {
    fn to_cell(&self) -> Cell {
        Cell::List(self.to_vec())
    }
}
impl ToCell for Vec<String> {
    fn to_cell(&self) -> Cell {
        Cell::List(self.clone())
    }
}
impl ToCell for TenantId {
    fn to_cell(&self) -> Cell {
        Cell::Text(self.to_string())
    }
}
impl ToCell for ObjectId {
    fn to_cell(&self) -> Cell {
        Cell::Text(self.to_string())
    }
}
impl ToCell for SkuId {
    fn to_cell(&self) -> Cell {
        Cell::Text(self.to_string())
    }
}
impl<T: ToCell> ToCell for Option<T> {
    fn to_cell(&self) -> Cell {
        match self {
            Some(v) => v.to_cell(),
            None => Cell::Null,
        }
    }
}

/// Declares a row struct and its [`Row`] impl from one list of `"column": Kind => field: Type`.
///
/// ```text
/// tenantctl_core::define_row! {
///     /// A thing.
///     #[derive(Clone, Debug)]
///     pub struct ThingRow {
///         "name": Text => pub name: String,
///         "count": Int => pub count: i64,
///     }
/// }
/// use tenantctl_core::rows::Row;
/// assert_eq!(ThingRow::columns()[1].name, "count");
/// ```
#[macro_export]
macro_rules! define_row {
    (
        $(#[$m:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fm:meta])* $col:literal : $kind:ident => $fvis:vis $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$m])*
        $vis struct $name {
            $( $(#[$fm])* $fvis $field: $ty, )*
        }
        impl $crate::rows::Row for $name {
            fn columns() -> &'static [$crate::rows::Column] {
                const COLUMNS: &[$crate::rows::Column] = &[
                    $( $crate::rows::Column { name: $col, kind: $crate::rows::Kind::$kind }, )*
                ];
                COLUMNS
            }
            fn cells(&self) -> Vec<$crate::rows::Cell> {
                vec![ $( $crate::rows::ToCell::to_cell(&self.$field), )* ]
            }
        }
    };
}

/// The two columns the fan-out puts in front of every per-tenant row.
pub const TENANT_COLUMNS: &[Column] = &[
    Column {
        name: "tenantId",
        kind: Kind::Id,
    },
    Column {
        name: "tenantName",
        kind: Kind::Text,
    },
];

/// A per-tenant row with its tenant: the shape a fan-out emits.
#[derive(Clone, Debug, PartialEq)]
pub struct Tenanted<R> {
    pub tenant_id: TenantId,
    pub tenant_name: String,
    pub row: R,
}

impl<R: Row> Tenanted<R> {
    /// `tenantId`, `tenantName`, then the row's own columns.
    pub fn schema() -> Vec<Column> {
        TENANT_COLUMNS.iter().chain(R::columns()).copied().collect()
    }

    pub fn cells(&self) -> Vec<Cell> {
        Tenanted::cells_of(&self.tenant_id.to_string(), &self.tenant_name, &self.row)
    }

    /// The cells of `row` under a tenant whose id is already text (written once per tenant,
    /// not once per row).
    pub fn cells_of(tenant_id: &str, tenant_name: &str, row: &R) -> Vec<Cell> {
        let mut v = Vec::with_capacity(2 + R::columns().len());
        v.push(Cell::Text(tenant_id.to_owned()));
        v.push(Cell::Text(tenant_name.to_owned()));
        v.extend(row.cells());
        v
    }
}

/// The schema of a row type that carries its tenant columns itself, or of a plain row.
pub fn schema_of<R: Row>() -> Vec<Column> {
    R::columns().to_vec()
}

/// Checks a schema: names unique and non-empty. Row-type tests call it.
pub fn check_schema(cols: &[Column]) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for c in cols {
        if c.name.is_empty() || c.name.contains(',') || c.name.contains(' ') {
            return Err(format!("bad column name {:?}", c.name));
        }
        if !seen.insert(c.name) {
            return Err(format!("column {:?} declared twice", c.name));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    define_row! {
        #[derive(Clone, Debug)]
        struct Sample {
            "name": Text => name: String,
            "count": Int => count: i64,
            "tags": List => tags: Vec<String>,
            "when": DateTime => when: Option<OffsetDateTime>,
        }
    }

    #[test]
    fn cells_follow_the_declared_columns() {
        let s = Sample {
            name: "a".into(),
            count: 3,
            tags: vec!["x".into(), "y".into()],
            when: None,
        };
        let names: Vec<_> = Sample::columns().iter().map(|c| c.name).collect();
        assert_eq!(names, ["name", "count", "tags", "when"]);
        assert_eq!(s.cells().len(), names.len());
        let j = s.to_json();
        assert_eq!(j["tags"], serde_json::json!(["x", "y"]));
        assert_eq!(j["count"], serde_json::json!(3));
        assert!(j["when"].is_null());
        assert_eq!(s.cells()[2].to_text(), "x; y");
    }

    #[test]
    fn tenanted_rows_put_the_tenant_first() {
        let t = Tenanted {
            tenant_id: "52eaad04-13a2-4a2f-9ce8-93a294fadf36".parse().unwrap(),
            tenant_name: "Contoso".into(),
            row: Sample {
                name: "a".into(),
                count: 1,
                tags: vec![],
                when: None,
            },
        };
        let schema = Tenanted::<Sample>::schema();
        assert_eq!(schema[0].name, "tenantId");
        assert_eq!(schema[2].name, "name");
        assert_eq!(t.cells().len(), schema.len());
        assert_eq!(t.cells()[1], Cell::Text("Contoso".into()));
        check_schema(&schema).unwrap();
    }
}
