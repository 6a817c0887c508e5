//! xlsx: a workbook with the rows ("Data": typed cells, bold frozen header, autofilter) and
//! every tenant's status ("Tenants"). Rows are held and sorted like the table, then written
//! in one go at `finish` (the data sheet in rust_xlsxwriter's constant-memory mode).

use crate::columns::{sort_rows, Plan};
use crate::dest::Dest;
use crate::{Sink, TenantOutcome};
use rust_xlsxwriter::{ExcelDateTime, Format as XFormat, Workbook, Worksheet, XlsxError};
use tenantctl_core::rows::{Cell, Column, Kind};

/// Name of the sheet with the rows.
pub const DATA_SHEET: &str = "Data";
/// Name of the sheet with every tenant's status.
pub const TENANTS_SHEET: &str = "Tenants";

/// Excel's limits: rows per sheet (with the header) and characters per cell.
const MAX_ROWS: usize = 1_048_576;
const MAX_CELL_UTF16: usize = 32_767;
/// Column widths, in characters.
const MIN_WIDTH: f64 = 8.0;
const MAX_WIDTH: f64 = 60.0;

const DATE_FORMAT: &str = "yyyy-mm-dd hh:mm";
/// Calendar days (usage reports' dates).
const DAY_FORMAT: &str = "yyyy-mm-dd";

/// The columns of the "Tenants" sheet.
const STATUS_COLUMNS: &[Column] = &[
    Column {
        name: "tenantName",
        kind: Kind::Text,
    },
    Column {
        name: "tenantId",
        kind: Kind::Id,
    },
    Column {
        name: "status",
        kind: Kind::Text,
    },
    Column {
        name: "detail",
        kind: Kind::Text,
    },
    Column {
        name: "rows",
        kind: Kind::Int,
    },
    Column {
        name: "elapsedMs",
        kind: Kind::Int,
    },
    Column {
        name: "whatToDo",
        kind: Kind::Text,
    },
];

pub(crate) struct XlsxSink {
    plan: Plan,
    dest: Dest,
    rows: Vec<Vec<Cell>>,
}

impl XlsxSink {
    pub fn new(plan: Plan, dest: Dest) -> XlsxSink {
        XlsxSink {
            plan,
            dest,
            rows: Vec::new(),
        }
    }
}

impl Sink for XlsxSink {
    fn write_row(&mut self, cells: Vec<Cell>) -> std::io::Result<()> {
        self.plan.check(&cells)?;
        if self.rows.len() + 1 >= MAX_ROWS {
            return Err(std::io::Error::other(format!(
                "an xlsx sheet holds at most {} rows; write csv instead (-o csv)",
                MAX_ROWS - 1
            )));
        }
        self.rows.push(cells);
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }

    fn finish(mut self: Box<Self>, statuses: &[TenantOutcome]) -> std::io::Result<()> {
        sort_rows(&mut self.rows, &self.plan.display_sort);
        let columns: Vec<Column> = self.plan.selected.iter().map(|&i| self.plan.schema[i]).collect();
        let selected = self.plan.selected.clone();
        let rows = std::mem::take(&mut self.rows).into_iter().map(|mut r| {
            selected
                .iter()
                .map(|&i| std::mem::replace(&mut r[i], Cell::Null))
                .collect()
        });
        let mut wb = Workbook::new();
        let data = wb.add_worksheet_with_constant_memory();
        data.set_name(DATA_SHEET).map_err(io)?;
        write_sheet(data, &columns, rows).map_err(io)?;
        let tenants = wb.add_worksheet();
        tenants.set_name(TENANTS_SHEET).map_err(io)?;
        write_sheet(tenants, STATUS_COLUMNS, status_rows(statuses)).map_err(io)?;
        self.dest.finish_with(|w| wb.save_to_writer(w).map_err(io))
    }
}

fn io(e: XlsxError) -> std::io::Error {
    match e {
        XlsxError::IoError(e) => e,
        e => std::io::Error::other(e),
    }
}

/// Every tenant's outcome as a row of [`STATUS_COLUMNS`], by tenant name.
fn status_rows(statuses: &[TenantOutcome]) -> impl Iterator<Item = Vec<Cell>> {
    let mut v: Vec<&TenantOutcome> = statuses.iter().collect();
    v.sort_by_key(|o| o.tenant_name.to_lowercase());
    let rows: Vec<Vec<Cell>> = v
        .into_iter()
        .map(|o| {
            vec![
                Cell::Text(o.tenant_name.clone()),
                Cell::Text(o.tenant_id.to_string()),
                Cell::Text(o.status.as_str().to_owned()),
                Cell::Text(o.detail.clone()),
                Cell::Int(i64::try_from(o.rows).unwrap_or(i64::MAX)),
                Cell::Int(i64::try_from(o.elapsed_ms).unwrap_or(i64::MAX)),
                Cell::Text(o.status.hint().to_owned()),
            ]
        })
        .collect();
    rows.into_iter()
}

/// Header (bold, frozen, with an autofilter), typed rows, column widths from the content.
fn write_sheet(ws: &mut Worksheet, columns: &[Column], rows: impl Iterator<Item = Vec<Cell>>) -> Result<(), XlsxError> {
    let bold = XFormat::new().set_bold();
    let date = (
        XFormat::new().set_num_format(DATE_FORMAT),
        XFormat::new().set_num_format(DAY_FORMAT),
    );
    // Header width plus room for the autofilter button.
    let mut widths: Vec<f64> = columns.iter().map(|c| c.name.chars().count() as f64 + 3.0).collect();
    for (c, col) in columns.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, col.name, &bold)?;
    }
    let mut last = 0u32;
    for (r, row) in rows.enumerate() {
        let r = r as u32 + 1;
        last = r;
        for (c, cell) in row.iter().enumerate() {
            let shown = write_cell(ws, r, c as u16, cell, &date)?;
            widths[c] = widths[c].max(shown as f64 + 1.0);
        }
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, w.clamp(MIN_WIDTH, MAX_WIDTH))?;
    }
    if !columns.is_empty() {
        ws.autofilter(0, 0, last, columns.len() as u16 - 1)?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

/// Writes one typed cell; returns about how many characters it shows.
/// `date`: the formats of date-times and of days.
fn write_cell(ws: &mut Worksheet, r: u32, c: u16, cell: &Cell, date: &(XFormat, XFormat)) -> Result<usize, XlsxError> {
    match cell {
        Cell::Null => return Ok(0),
        Cell::Int(i) => {
            ws.write_number(r, c, *i as f64)?;
            return Ok(i.to_string().len());
        }
        Cell::Bool(b) => {
            ws.write_boolean(r, c, *b)?;
            return Ok(5);
        }
        Cell::DateTime(d) => {
            // Excel has no time zones: UTC, as everywhere else in tenantctl's output.
            if let Ok(x) = ExcelDateTime::from_timestamp(d.unix_timestamp()) {
                ws.write_datetime_with_format(r, c, x, &date.0)?;
                return Ok(DATE_FORMAT.len());
            }
        }
        Cell::Date(d) => {
            if let Ok(x) = ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day()) {
                ws.write_datetime_with_format(r, c, x, &date.1)?;
                return Ok(DAY_FORMAT.len());
            }
        }
        Cell::Text(_) | Cell::List(_) => {}
    }
    let text = cell.to_text();
    let text = cap(&text);
    ws.write_string(r, c, text)?;
    Ok(crate::text::width(text))
}

/// At most Excel's 32,767 characters (UTF-16 units) in a cell.
fn cap(s: &str) -> &str {
    let mut units = 0;
    for (i, ch) in s.char_indices() {
        units += ch.len_utf16();
        if units > MAX_CELL_UTF16 {
            return &s[..i];
        }
    }
    s
}
