//! Output formats shared by every command: `table` (default on a terminal), `json`, `jsonl`,
//! `csv` (RFC 4180, UTF-8, header once, the command's stable column order).
//!
//! Rows stream: `json`, `jsonl` and `csv` write each row as it comes; `table` needs every row
//! to size its columns, so it holds them until the end.

use serde_json::Value;
use std::io::Write;
use tenantctl_core::Record;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Jsonl,
    Csv,
}

/// Writes records in one format to one destination.
pub struct Output {
    format: Format,
    columns: Vec<&'static str>,
    w: Box<dyn Write + Send>,
    csv: Option<csv::Writer<Box<dyn Write + Send>>>,
    table: Vec<Vec<String>>,
    rows: u64,
}

/// A cell as text: strings as they are, null empty, the rest as JSON.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Output {
    /// `columns` is the command's column list; every record is written in that order.
    pub fn new(format: Format, columns: Vec<&'static str>, w: Box<dyn Write + Send>) -> std::io::Result<Output> {
        let mut o = Output {
            format,
            columns,
            w,
            csv: None,
            table: vec![],
            rows: 0,
        };
        match format {
            Format::Csv => {
                let w = std::mem::replace(&mut o.w, Box::new(std::io::sink()));
                let mut c = csv::WriterBuilder::new()
                    .terminator(csv::Terminator::CRLF)
                    .from_writer(w);
                c.write_record(&o.columns).map_err(std::io::Error::other)?;
                o.csv = Some(c);
            }
            Format::Json => o.w.write_all(b"[")?,
            _ => {}
        }
        Ok(o)
    }

    fn ordered(&self, r: &Record) -> Vec<Value> {
        self.columns
            .iter()
            .map(|c| r.get(c).cloned().unwrap_or(Value::Null))
            .collect()
    }

    pub fn write(&mut self, r: &Record) -> std::io::Result<()> {
        let values = self.ordered(r);
        match self.format {
            Format::Csv => {
                let c = self.csv.as_mut().expect("csv writer");
                c.write_record(values.iter().map(cell)).map_err(std::io::Error::other)?;
            }
            Format::Json | Format::Jsonl => {
                let obj: serde_json::Map<String, Value> =
                    self.columns.iter().map(|c| c.to_string()).zip(values).collect();
                let text = serde_json::to_string(&Value::Object(obj)).map_err(std::io::Error::other)?;
                if self.format == Format::Json {
                    let sep = if self.rows == 0 { "\n  " } else { ",\n  " };
                    self.w.write_all(sep.as_bytes())?;
                    self.w.write_all(text.as_bytes())?;
                } else {
                    self.w.write_all(text.as_bytes())?;
                    self.w.write_all(b"\n")?;
                }
            }
            Format::Table => self.table.push(values.iter().map(cell).collect()),
        }
        self.rows += 1;
        Ok(())
    }

    pub fn finish(mut self) -> std::io::Result<()> {
        match self.format {
            Format::Csv => {
                let mut c = self.csv.take().expect("csv writer");
                c.flush()?;
            }
            Format::Json => {
                let end: &[u8] = if self.rows == 0 { b"]\n" } else { b"\n]\n" };
                self.w.write_all(end)?;
            }
            Format::Jsonl => {}
            Format::Table => {
                let text = render_table(&self.columns, &self.table);
                self.w.write_all(text.as_bytes())?;
            }
        }
        self.w.flush()
    }
}

/// A plain text table: header, a rule, rows; columns as wide as their widest cell.
pub fn render_table(columns: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut s = String::new();
        for (i, c) in cells.enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            s.push_str(c);
            if i + 1 < widths.len() {
                s.extend(std::iter::repeat_n(' ', widths[i] - c.chars().count()));
            }
        }
        s.truncate(s.trim_end().len());
        s.push('\n');
        s
    };
    let mut out = line(&mut columns.iter().copied());
    out.push_str(&line(
        &mut widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str),
    ));
    for r in rows {
        out.push_str(&line(&mut r.iter().map(String::as_str)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn render(format: Format, records: &[Record]) -> String {
        let buf = Buf::default();
        let mut o = Output::new(format, vec!["name", "note", "n"], Box::new(buf.clone())).unwrap();
        for r in records {
            o.write(r).unwrap();
        }
        o.finish().unwrap();
        let bytes = buf.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    fn tricky() -> Vec<Record> {
        vec![
            Record::new()
                .with("n", 1)
                .with("name", "Müller, Jürgen")
                .with("note", "says \"hi\""),
            Record::new()
                .with("name", "two\nlines")
                .with("note", Value::Null)
                .with("n", 2),
        ]
    }

    #[test]
    fn csv_is_rfc4180_quoted_utf8_with_the_header_once_in_column_order() {
        assert_eq!(
            render(Format::Csv, &tricky()),
            "name,note,n\r\n\"Müller, Jürgen\",\"says \"\"hi\"\"\",1\r\n\"two\nlines\",,2\r\n"
        );
        assert_eq!(render(Format::Csv, &[]), "name,note,n\r\n", "header even without rows");
    }

    #[test]
    fn json_is_one_array_and_jsonl_one_object_per_line() {
        let j: Value = serde_json::from_str(&render(Format::Json, &tricky())).unwrap();
        assert_eq!(j[0]["name"], "Müller, Jürgen");
        assert_eq!(j[1]["note"], Value::Null);
        assert_eq!(
            j[0].as_object().unwrap().keys().collect::<Vec<_>>(),
            ["name", "note", "n"],
            "stable column order"
        );
        let empty: Value = serde_json::from_str(&render(Format::Json, &[])).unwrap();
        assert_eq!(empty, Value::Array(vec![]));
        let l = render(Format::Jsonl, &tricky());
        assert_eq!(l.lines().count(), 2);
        assert_eq!(
            serde_json::from_str::<Value>(l.lines().nth(1).unwrap()).unwrap()["n"],
            2
        );
    }

    #[test]
    fn table_aligns_columns() {
        let t = render(
            Format::Table,
            &[Record::new().with("name", "a").with("note", "long note").with("n", 10)],
        );
        assert_eq!(t, "name  note       n\n----  ---------  --\na     long note  10\n");
    }
}
