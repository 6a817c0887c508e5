//! Which format: `-o`, else `--out`'s extension, else table on a terminal, else csv.

use crate::{OutputError, OutputSpec};
use std::fmt;
use std::path::Path;

/// An output format (`-o`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Format {
    /// Aligned columns fitted to the terminal, for people.
    Table,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// RFC 4180 csv.
    Csv,
    /// An Excel workbook: the rows, and every tenant's status on a second sheet.
    Xlsx,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    /// The format a file extension stands for (case-insensitive, without the dot).
    pub fn from_extension(ext: &str) -> Option<Format> {
        Some(match ext.to_ascii_lowercase().as_str() {
            "csv" => Format::Csv,
            "json" => Format::Json,
            "jsonl" | "ndjson" => Format::Jsonl,
            "xlsx" => Format::Xlsx,
            "txt" => Format::Table,
            _ => return None,
        })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s.to_ascii_lowercase().as_str() {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "jsonl" | "ndjson" => Ok(Format::Jsonl),
            "csv" => Ok(Format::Csv),
            "xlsx" => Ok(Format::Xlsx),
            _ => Err(format!("unknown format '{s}' (table, json, jsonl, csv, xlsx)")),
        }
    }
}

/// The format [`crate::open`] will use for these flags, or why the flags cannot work.
pub fn resolve_format(spec: &OutputSpec, stdout_is_terminal: bool) -> Result<Format, OutputError> {
    let format = match &spec.out {
        Some(path) => match (by_extension(path)?, spec.format) {
            (Some((ext, implied)), Some(format)) if implied != format => {
                return Err(OutputError::FormatContradictsExtension {
                    format,
                    path: path.clone(),
                    ext,
                    implied,
                })
            }
            (Some((_, implied)), _) => implied,
            (None, Some(format)) => format,
            (None, None) => return Err(OutputError::NoExtension { path: path.clone() }),
        },
        None => match spec.format {
            Some(format) => format,
            // A query's result is JSON, whatever the terminal.
            None if spec.query.is_some() => Format::Json,
            None if stdout_is_terminal => Format::Table,
            None => Format::Csv,
        },
    };
    if format == Format::Xlsx && spec.out.is_none() && stdout_is_terminal {
        return Err(OutputError::XlsxToTerminal);
    }
    Ok(format)
}

/// `Ok(None)` when the file name has no extension; an unknown extension is an error.
fn by_extension(path: &Path) -> Result<Option<(String, Format)>, OutputError> {
    let Some(ext) = path.extension().map(|e| e.to_string_lossy().into_owned()) else {
        return Ok(None);
    };
    match Format::from_extension(&ext) {
        Some(f) => Ok(Some((ext, f))),
        None => Err(OutputError::UnknownExtension {
            path: path.to_owned(),
            ext,
        }),
    }
}
