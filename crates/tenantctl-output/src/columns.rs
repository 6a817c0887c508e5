//! `--select` and `--sort` resolved against a schema, and the row order they define.

use crate::{OutputError, OutputSpec};
use std::cmp::Ordering;
use tenantctl_core::rows::{Cell, Column, Kind};

/// One sort key: a column index in the full schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SortKey {
    pub index: usize,
    pub descending: bool,
}

/// The columns to write and the order to sort in, for one schema and one set of flags.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub schema: Vec<Column>,
    /// Indices into `schema` of the columns written (csv/json/jsonl/xlsx): `--select`, else all.
    pub selected: Vec<usize>,
    /// Whether `--select` was given (the table then shows id columns it names).
    pub explicit_select: bool,
    /// `--sort`, empty when not given.
    pub sort: Vec<SortKey>,
    /// `--sort`, else the command's natural order.
    pub display_sort: Vec<SortKey>,
}

impl Plan {
    pub fn new(schema: Vec<Column>, spec: &OutputSpec) -> Result<Plan, OutputError> {
        let mut selected = Vec::new();
        for name in split(&spec.select) {
            let i = find(&schema, name, "--select")?;
            if !selected.contains(&i) {
                selected.push(i);
            }
        }
        let explicit_select = !selected.is_empty();
        if !explicit_select {
            selected = (0..schema.len()).collect();
        }
        let mut sort = Vec::new();
        for item in split(&spec.sort) {
            let (name, descending) = match item.strip_prefix('-') {
                Some(rest) => (rest.trim(), true),
                None => (item.strip_prefix('+').unwrap_or(item).trim(), false),
            };
            let index = find(&schema, name, "--sort")?;
            sort.push(SortKey { index, descending });
        }
        let display_sort = if sort.is_empty() {
            // The command's own names: a typo there is a programming error, caught in debug.
            spec.default_sort
                .iter()
                .filter_map(|name| {
                    let i = schema.iter().position(|c| c.name.eq_ignore_ascii_case(name));
                    debug_assert!(i.is_some(), "default sort column {name:?} is not in the schema");
                    i.map(|index| SortKey {
                        index,
                        descending: false,
                    })
                })
                .collect()
        } else {
            sort.clone()
        };
        Ok(Plan {
            schema,
            selected,
            explicit_select,
            sort,
            display_sort,
        })
    }

    /// Checks a row's width against the schema.
    pub fn check(&self, cells: &[Cell]) -> std::io::Result<()> {
        if cells.len() == self.schema.len() {
            Ok(())
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("a row has {} cells for {} columns", cells.len(), self.schema.len()),
            ))
        }
    }
}

/// Sorts rows (stable: ties keep their arrival order).
pub(crate) fn sort_rows(rows: &mut [Vec<Cell>], keys: &[SortKey]) {
    if keys.is_empty() {
        return;
    }
    rows.sort_by(|a, b| {
        for k in keys {
            let o = compare(&a[k.index], &b[k.index], k.descending);
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
}

/// Natural order of two cells of one column: numbers by value, dates by time, text
/// case-insensitively; empty cells last in either direction.
fn compare(a: &Cell, b: &Cell, descending: bool) -> Ordering {
    let o = match (a, b) {
        (Cell::Null, Cell::Null) => return Ordering::Equal,
        (Cell::Null, _) => return Ordering::Greater,
        (_, Cell::Null) => return Ordering::Less,
        (Cell::Int(x), Cell::Int(y)) => x.cmp(y),
        (Cell::Bool(x), Cell::Bool(y)) => x.cmp(y),
        (Cell::DateTime(x), Cell::DateTime(y)) => x.cmp(y),
        (Cell::Date(x), Cell::Date(y)) => x.cmp(y),
        (Cell::Text(x), Cell::Text(y)) => text_order(x, y),
        (x, y) => text_order(&x.to_text(), &y.to_text()),
    };
    if descending {
        o.reverse()
    } else {
        o
    }
}

fn text_order(x: &str, y: &str) -> Ordering {
    if x.is_ascii() && y.is_ascii() {
        return x
            .bytes()
            .map(|b| b.to_ascii_lowercase())
            .cmp(y.bytes().map(|b| b.to_ascii_lowercase()))
            .then_with(|| x.cmp(y));
    }
    x.chars()
        .flat_map(char::to_lowercase)
        .cmp(y.chars().flat_map(char::to_lowercase))
        .then_with(|| x.cmp(y))
}

fn split(items: &[String]) -> impl Iterator<Item = &str> {
    items
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn find(schema: &[Column], name: &str, flag: &'static str) -> Result<usize, OutputError> {
    schema
        .iter()
        .position(|c| c.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| OutputError::UnknownColumn {
            flag,
            name: name.to_owned(),
            suggestion: suggest(schema, name)
                .map(|s| format!("; did you mean '{s}'?"))
                .unwrap_or_default(),
            valid: schema.iter().map(|c| c.name.to_owned()).collect(),
        })
}

/// The column a typo most likely meant: one containing what was typed, else the closest by
/// edit distance (at most a third of the name wrong).
fn suggest(schema: &[Column], name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    if lower.len() >= 3 {
        if let Some(c) = schema.iter().find(|c| c.name.to_ascii_lowercase().contains(&lower)) {
            return Some(c.name);
        }
    }
    schema
        .iter()
        .map(|c| (edit_distance(&c.name.to_ascii_lowercase(), &lower), c.name))
        .filter(|(d, _)| *d <= lower.len().max(3) / 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Whether the table shows a column by default (id columns stay in csv/json/xlsx).
pub(crate) fn shown_by_default(c: &Column) -> bool {
    c.kind != Kind::Id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_get_a_suggestion() {
        let schema = [
            Column {
                name: "userPrincipalName",
                kind: Kind::Text,
            },
            Column {
                name: "displayName",
                kind: Kind::Text,
            },
        ];
        assert_eq!(suggest(&schema, "principal"), Some("userPrincipalName"));
        assert_eq!(suggest(&schema, "displayNmae"), Some("displayName"));
        assert_eq!(suggest(&schema, "zzz"), None);
    }

    #[test]
    fn empty_cells_sort_last_both_ways() {
        let mut rows = vec![vec![Cell::Null], vec![Cell::Int(2)], vec![Cell::Int(10)]];
        sort_rows(
            &mut rows,
            &[SortKey {
                index: 0,
                descending: false,
            }],
        );
        assert_eq!(rows, [vec![Cell::Int(2)], vec![Cell::Int(10)], vec![Cell::Null]]);
        sort_rows(
            &mut rows,
            &[SortKey {
                index: 0,
                descending: true,
            }],
        );
        assert_eq!(rows, [vec![Cell::Int(10)], vec![Cell::Int(2)], vec![Cell::Null]]);
    }
}
