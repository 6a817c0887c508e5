//! Interim writer with the output crate's interface (replaced when `tenantctl-output` lands).

use std::io::Write;
use std::path::PathBuf;
use tenantctl_core::rows::{Cell, Column, Kind};
use tenantctl_core::TenantOutcome;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Jsonl,
    Csv,
    Xlsx,
}

#[allow(dead_code)]
#[derive(Clone, Debug, Default)]
pub struct OutputSpec {
    pub format: Option<Format>,
    pub out: Option<PathBuf>,
    pub select: Vec<String>,
    pub sort: Vec<String>,
    pub default_sort: Vec<&'static str>,
    pub bom: bool,
    pub terminal_width: Option<usize>,
}

#[derive(Debug)]
pub struct OutputError(pub String);
impl std::fmt::Display for OutputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for OutputError {}

pub trait Sink: Send {
    fn write_row(&mut self, cells: Vec<Cell>) -> std::io::Result<()>;
    fn flush(&mut self) -> std::io::Result<()>;
    fn finish(self: Box<Self>, statuses: &[TenantOutcome]) -> std::io::Result<()>;
}

pub fn is_broken_pipe(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::BrokenPipe
}

struct Simple {
    format: Format,
    columns: Vec<Column>,
    keep: Vec<usize>,
    w: Box<dyn Write + Send>,
    table: Vec<Vec<String>>,
    rows: u64,
}

pub fn open(spec: &OutputSpec, schema: Vec<Column>, stdout_is_terminal: bool) -> Result<Box<dyn Sink>, OutputError> {
    let format = spec.format.unwrap_or(
        match spec.out.as_ref().and_then(|p| p.extension()).and_then(|e| e.to_str()) {
            Some("json") => Format::Json,
            Some("jsonl" | "ndjson") => Format::Jsonl,
            Some("csv") => Format::Csv,
            Some(e) => {
                return Err(OutputError(format!(
                    "--out: unknown extension '.{e}' (use .csv, .json, .jsonl or .xlsx)"
                )))
            }
            None if stdout_is_terminal => Format::Table,
            None => Format::Csv,
        },
    );
    if format == Format::Xlsx {
        return Err(OutputError("xlsx is not available in this build".into()));
    }
    let keep: Vec<usize> = if spec.select.is_empty() {
        (0..schema.len())
            .filter(|&i| format != Format::Table || schema[i].kind != Kind::Id)
            .collect()
    } else {
        let mut v = vec![];
        for s in &spec.select {
            match schema.iter().position(|c| c.name.eq_ignore_ascii_case(s.trim())) {
                Some(i) => v.push(i),
                None => {
                    return Err(OutputError(format!(
                        "--select: no column '{s}' (columns: {})",
                        schema.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
                    )))
                }
            }
        }
        v
    };
    let w: Box<dyn Write + Send> = match &spec.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| OutputError(format!("--out {}: {e}", p.display())))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let mut s = Simple {
        format,
        columns: schema,
        keep,
        w,
        table: vec![],
        rows: 0,
    };
    let header: Vec<&str> = s.keep.iter().map(|&i| s.columns[i].name).collect();
    match format {
        Format::Csv => {
            let line = csv_line(header.iter().map(|h| h.to_string()));
            let bom = if spec.bom { "\u{feff}" } else { "" };
            s.w.write_all(format!("{bom}{line}").as_bytes())
                .map_err(|e| OutputError(e.to_string()))?;
        }
        Format::Json => s.w.write_all(b"[").map_err(|e| OutputError(e.to_string()))?,
        _ => {}
    }
    Ok(Box::new(s))
}

fn csv_line(fields: impl Iterator<Item = String>) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(vec![]);
    w.write_record(fields.collect::<Vec<_>>()).expect("memory");
    String::from_utf8(w.into_inner().expect("memory")).expect("utf-8")
}

impl Sink for Simple {
    fn write_row(&mut self, cells: Vec<Cell>) -> std::io::Result<()> {
        let picked: Vec<(&Column, &Cell)> = self.keep.iter().map(|&i| (&self.columns[i], &cells[i])).collect();
        match self.format {
            Format::Csv => {
                let line = csv_line(picked.iter().map(|(_, c)| c.to_text()));
                self.w.write_all(line.as_bytes())?;
            }
            Format::Json | Format::Jsonl => {
                let obj: serde_json::Map<String, serde_json::Value> =
                    picked.iter().map(|(c, v)| (c.name.to_owned(), v.to_json())).collect();
                let text = serde_json::to_string(&obj).map_err(std::io::Error::other)?;
                if self.format == Format::Json {
                    self.w.write_all(if self.rows == 0 { b"\n  " } else { b",\n  " })?;
                    self.w.write_all(text.as_bytes())?;
                } else {
                    self.w.write_all(text.as_bytes())?;
                    self.w.write_all(b"\n")?;
                }
            }
            _ => self.table.push(picked.iter().map(|(_, c)| c.to_text()).collect()),
        }
        self.rows += 1;
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.w.flush()
    }

    fn finish(mut self: Box<Self>, _statuses: &[TenantOutcome]) -> std::io::Result<()> {
        match self.format {
            Format::Json => self.w.write_all(if self.rows == 0 { b"]\n" } else { b"\n]\n" })?,
            Format::Table => {
                let header: Vec<&str> = self.keep.iter().map(|&i| self.columns[i].name).collect();
                let text = render_table(&header, &self.table);
                self.w.write_all(text.as_bytes())?;
            }
            _ => {}
        }
        self.w.flush()
    }
}

fn render_table(columns: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
            + "\n"
    };
    let mut out = line(columns.iter().map(|s| s.to_string()).collect());
    out += &line(widths.iter().map(|w| "-".repeat(*w)).collect());
    for r in rows {
        out += &line(r.clone());
    }
    out
}

/// Not-ok tenants grouped by status: the hint once, then the tenants.
pub fn render_status_report(outcomes: &[TenantOutcome], _width: usize, verbose: bool) -> String {
    let mut groups: std::collections::BTreeMap<tenantctl_core::TenantStatus, Vec<&TenantOutcome>> = Default::default();
    for o in outcomes.iter().filter(|o| !o.status.is_ok()) {
        groups.entry(o.status).or_default().push(o);
    }
    let mut out = String::new();
    for (status, list) in groups {
        out += &format!("{} {status}: {}\n", list.len(), status.hint());
        for o in list {
            if verbose {
                out += &format!("  {} ({}): {}\n", o.tenant_name, o.tenant_id, o.detail);
            } else {
                out += &format!("  {}\n", o.tenant_name);
            }
        }
    }
    out
}
