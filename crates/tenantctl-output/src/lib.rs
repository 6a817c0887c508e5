//! tenantctl's output writers. A command declares its typed [`Column`]s, opens a [`Sink`] with
//! [`open`] from the user's flags ([`OutputSpec`]), hands it one row of [`Cell`]s at a time and
//! ends it with [`Sink::finish`].
//!
//! | format  | rows                         | lists        | numbers/bools | dates                |
//! |---------|------------------------------|--------------|---------------|----------------------|
//! | `table` | buffered, sorted, fitted     | `, `-joined  | right-aligned, yes/no | `YYYY-MM-DD HH:MM` UTC |
//! | `csv`   | streamed (RFC 4180, CRLF)    | `; `-joined  | text          | RFC 3339             |
//! | `json`  | streamed as one array        | arrays       | numbers/bools | RFC 3339             |
//! | `jsonl` | streamed, one object a line  | arrays       | numbers/bools | RFC 3339             |
//! | `xlsx`  | buffered, sorted; sheets "Data" and "Tenants" | `; `-joined  | typed cells   | Excel date cells     |
//!
//! - `--select` keeps the named columns in that order, in every format.
//! - `--sort` applies to every format; csv/json/jsonl then buffer every row until `finish`
//!   (without `--sort` they stream in arrival order). The table and xlsx, made for people,
//!   are always sorted: by `--sort`, else by the command's natural order.
//! - `--query` (JMESPath) runs over the rows as one JSON array and prints its JSON result.
//! - A file (`--out`) is written to a temporary file beside it and renamed on `finish`: the
//!   final name only ever holds a complete output. Rows reach the destination whole.

mod columns;
mod dest;
pub mod dynamic;
mod format;
mod query;
mod status_report;
mod streams;
mod table;
mod text;
mod xlsx;

use std::path::PathBuf;

pub use dynamic::{open_dynamic, open_dynamic_with_stdout, DynamicError, DynamicSink};
pub use format::{resolve_format, Format};
pub use status_report::render_status_report;
pub use table::render_table;
pub use tenantctl_core::rows::{Cell, Column, Kind};
pub use tenantctl_core::status::TenantOutcome;
pub use xlsx::{DATA_SHEET, TENANTS_SHEET};

/// What the user asked for: the output flags of every list command.
#[derive(Clone, Debug, Default)]
pub struct OutputSpec {
    /// `-o`: `None` chooses by `--out`'s extension, else json with `query`, else `table` on a
    /// terminal, else `csv`.
    pub format: Option<Format>,
    /// `--out`: `None` is stdout.
    pub out: Option<PathBuf>,
    /// `--select`: the columns to keep, in this order (case-insensitive; an entry may hold
    /// several, comma-separated).
    pub select: Vec<String>,
    /// `--sort`: columns to sort by (comma-separated allowed); a leading `-` sorts descending.
    pub sort: Vec<String>,
    /// The command's natural order for the table and xlsx (e.g. `tenantName`,
    /// `userPrincipalName`), used when `sort` is empty.
    pub default_sort: Vec<&'static str>,
    /// `--bom`: start a csv with a UTF-8 byte order mark (Excel on Windows needs it).
    pub bom: bool,
    /// `--excel-safe`: csv text cells that a spreadsheet would run as a formula (starting with
    /// `=`, `+`, `-`, `@`, tab or carriage return) get a leading `'` (OWASP "CSV injection").
    pub excel_safe: bool,
    /// `Some(width)` when the table goes to a terminal that wide: cells are then truncated
    /// to fit. `None` (a file or a pipe): nothing is truncated.
    pub terminal_width: Option<usize>,
    /// `--query`: a JMESPath expression over the rows as one JSON array; the output is its
    /// JSON result (`-o json`, the default with a query, or `-o jsonl`).
    pub query: Option<String>,
}

/// A flag combination that cannot work; the message names the flag and the fix.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("--out {}: unknown extension '.{ext}'; name the file .csv, .json, .jsonl (or .ndjson), .xlsx or .txt (table)", path.display())]
    UnknownExtension { path: PathBuf, ext: String },
    #[error("--out {}: no extension to tell the format; name the file .csv, .json, .jsonl, .xlsx or .txt, or give -o FORMAT", path.display())]
    NoExtension { path: PathBuf },
    #[error("-o {format} contradicts --out {} (a .{ext} file is {implied}); drop -o or rename the file", path.display())]
    FormatContradictsExtension {
        format: Format,
        path: PathBuf,
        ext: String,
        implied: Format,
    },
    #[error("-o xlsx writes a binary workbook, not for a terminal; give --out FILE.xlsx")]
    XlsxToTerminal,
    #[error("--bom applies to csv only, and the output is {format}; drop --bom")]
    BomWithoutCsv { format: Format },
    #[error("--excel-safe applies to csv only (xlsx cells are never formulas), and the output is {format}; drop --excel-safe")]
    ExcelSafeWithoutCsv { format: Format },
    #[error("{flag}: no column '{name}'{suggestion}; the columns are: {}", valid.join(", "))]
    UnknownColumn {
        flag: &'static str,
        name: String,
        /// `"; did you mean 'x'?"` or empty.
        suggestion: String,
        valid: Vec<String>,
    },
    #[error("--query gives JSON, and the output is {format}; use -o json or -o jsonl (or drop -o)")]
    QueryNeedsJson { format: Format },
    #[error("--query: {message}")]
    Query { message: String },
    #[error("--out {}: cannot create a file there: {source}", path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Where rows go. Every format implements it; [`open`] picks one.
pub trait Sink: Send {
    /// One row, its cells in the order of the schema given to [`open`].
    fn write_row(&mut self, cells: Vec<Cell>) -> std::io::Result<()>;
    /// Pushes the rows written so far to the destination (csv/json/jsonl when not sorting;
    /// a no-op for buffering formats). Callers flush after each tenant's rows.
    fn flush(&mut self) -> std::io::Result<()>;
    /// Ends the output: the table and xlsx render here, sorted formats write their rows, a
    /// file gets its final name. `statuses` holds every tenant's outcome (the xlsx
    /// "Tenants" sheet). Dropping a sink without `finish` leaves no file behind (and on
    /// stdout drops the rows not yet flushed).
    fn finish(self: Box<Self>, statuses: &[TenantOutcome]) -> std::io::Result<()>;
}

/// Opens the sink the flags ask for, writing to `--out` or to stdout. Fails before anything
/// is written on a bad flag combination or an uncreatable file.
pub fn open(spec: &OutputSpec, schema: Vec<Column>, stdout_is_terminal: bool) -> Result<Box<dyn Sink>, OutputError> {
    open_with_stdout(spec, schema, stdout_is_terminal, Box::new(std::io::stdout()))
}

/// [`open`] with `stdout` standing for the process's standard output (tests, embedding).
pub fn open_with_stdout(
    spec: &OutputSpec,
    schema: Vec<Column>,
    stdout_is_terminal: bool,
    stdout: Box<dyn std::io::Write + Send>,
) -> Result<Box<dyn Sink>, OutputError> {
    let format = resolve_format(spec, stdout_is_terminal)?;
    if spec.bom && format != Format::Csv {
        return Err(OutputError::BomWithoutCsv { format });
    }
    if spec.excel_safe && format != Format::Csv {
        return Err(OutputError::ExcelSafeWithoutCsv { format });
    }
    let plan = columns::Plan::new(schema, spec)?;
    if let Some(q) = &spec.query {
        if !matches!(format, Format::Json | Format::Jsonl) {
            return Err(OutputError::QueryNeedsJson { format });
        }
        query::check(q)?;
        let dest = dest::Dest::open(spec.out.as_deref(), stdout)?;
        let jsonl = format == Format::Jsonl;
        return Ok(Box::new(query::QuerySink::new(plan, dest, q.clone(), jsonl)));
    }
    let dest = dest::Dest::open(spec.out.as_deref(), stdout)?;
    Ok(match format {
        Format::Table => {
            let width = (spec.out.is_none() && stdout_is_terminal)
                .then_some(spec.terminal_width)
                .flatten();
            Box::new(table::TableSink::new(plan, dest, width))
        }
        Format::Csv => Box::new(streams::StreamSink::csv(plan, dest, spec.bom, spec.excel_safe)),
        Format::Json => Box::new(streams::StreamSink::json(plan, dest)),
        Format::Jsonl => Box::new(streams::StreamSink::jsonl(plan, dest)),
        Format::Xlsx => Box::new(xlsx::XlsxSink::new(plan, dest)),
    })
}

/// True when writing failed because the reader went away (`| head`): the run should stop
/// quietly and exit 0, as other Unix tools do. Looks through wrapped errors.
pub fn is_broken_pipe(e: &std::io::Error) -> bool {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return true;
    }
    let mut source = e.get_ref().map(|s| s as &(dyn std::error::Error + 'static));
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::BrokenPipe {
                return true;
            }
        }
        source = s.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_pipe_is_recognised_even_when_wrapped() {
        let direct = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert!(is_broken_pipe(&direct));
        let wrapped = std::io::Error::other(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(is_broken_pipe(&wrapped));
        assert!(!is_broken_pipe(&std::io::Error::from(
            std::io::ErrorKind::PermissionDenied
        )));
        assert!(
            !is_broken_pipe(&std::io::Error::other("broken pipe")),
            "no message matching"
        );
    }
}
