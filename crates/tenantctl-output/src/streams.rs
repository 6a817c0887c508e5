//! csv, json and jsonl: streamed row by row, or, with `--sort`, held and sorted at the end.

use crate::columns::{sort_rows, Plan};
use crate::dest::Dest;
use crate::{Sink, TenantOutcome};
use serde_json::{Map, Value};
use tenantctl_core::rows::Cell;

enum Encoding {
    /// RFC 4180, CRLF; the header is written at open.
    Csv(Box<csv::Writer<Shared>>, Shared, bool),
    /// One array; `rows` says whether the opening `[` is out.
    Json,
    Jsonl,
}

/// A cell's csv text; with `excel_safe`, text that a spreadsheet would take for a formula gets
/// a leading `'` (numbers, dates and booleans are never touched).
fn csv_text(c: &Cell, excel_safe: bool) -> std::borrow::Cow<'_, str> {
    let t = match c {
        // Text as it is (most cells): no copy per row.
        Cell::Text(s) => std::borrow::Cow::Borrowed(s.as_str()),
        other => std::borrow::Cow::Owned(other.to_text()),
    };
    let formula_like = matches!(c, Cell::Text(_) | Cell::List(_)) && t.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if excel_safe && formula_like {
        std::borrow::Cow::Owned(format!("'{t}"))
    } else {
        t
    }
}

pub(crate) struct StreamSink {
    plan: Plan,
    dest: Dest,
    enc: Encoding,
    rows: u64,
    /// With `--sort`: every row until `finish`.
    held: Option<Vec<Vec<Cell>>>,
}

impl StreamSink {
    fn new(plan: Plan, dest: Dest, enc: Encoding) -> StreamSink {
        let held = (!plan.sort.is_empty()).then(Vec::new);
        StreamSink {
            plan,
            dest,
            enc,
            rows: 0,
            held,
        }
    }

    /// Header (and BOM) now: even an output without rows has them.
    pub fn csv(plan: Plan, mut dest: Dest, bom: bool, excel_safe: bool) -> StreamSink {
        if bom {
            // Queued, not written: nothing reaches stdout before the first flush.
            let _ = dest.write("\u{feff}".as_bytes());
        }
        let buf = Shared::default();
        let w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(buf.clone());
        let mut s = StreamSink::new(plan, dest, Encoding::Csv(Box::new(w), buf, excel_safe));
        let header: Vec<&str> = s.plan.selected.iter().map(|&i| s.plan.schema[i].name).collect();
        if let Encoding::Csv(w, _, _) = &mut s.enc {
            w.write_record(&header).expect("csv into memory");
        }
        s
    }

    pub fn json(plan: Plan, dest: Dest) -> StreamSink {
        StreamSink::new(plan, dest, Encoding::Json)
    }

    pub fn jsonl(plan: Plan, dest: Dest) -> StreamSink {
        StreamSink::new(plan, dest, Encoding::Jsonl)
    }

    /// Encodes one row completely, then hands it to the destination.
    fn emit(&mut self, cells: &[Cell]) -> std::io::Result<()> {
        let bytes = match &mut self.enc {
            Encoding::Csv(w, buf, excel_safe) => {
                let safe = *excel_safe;
                for &i in &self.plan.selected {
                    w.write_field(csv_text(&cells[i], safe).as_bytes())
                        .map_err(std::io::Error::other)?;
                }
                w.write_record(None::<&[u8]>).map_err(std::io::Error::other)?;
                w.flush()?;
                buf.take()
            }
            Encoding::Json | Encoding::Jsonl => {
                let obj: Map<String, Value> = self
                    .plan
                    .selected
                    .iter()
                    .map(|&i| (self.plan.schema[i].name.to_owned(), cells[i].to_json()))
                    .collect();
                let text = serde_json::to_string(&Value::Object(obj))?;
                match self.enc {
                    Encoding::Json if self.rows == 0 => format!("[\n  {text}").into_bytes(),
                    Encoding::Json => format!(",\n  {text}").into_bytes(),
                    _ => format!("{text}\n").into_bytes(),
                }
            }
        };
        self.rows += 1;
        self.dest.write(&bytes)
    }

    /// The header, when nothing has taken it yet.
    fn pending_header(&mut self) -> std::io::Result<()> {
        if let Encoding::Csv(w, buf, _) = &mut self.enc {
            w.flush()?;
            let header = buf.take();
            self.dest.write(&header)?;
        }
        Ok(())
    }
}

impl Sink for StreamSink {
    fn write_row(&mut self, cells: Vec<Cell>) -> std::io::Result<()> {
        self.plan.check(&cells)?;
        match &mut self.held {
            Some(held) => {
                held.push(cells);
                Ok(())
            }
            None => {
                if self.rows == 0 {
                    self.pending_header()?;
                }
                self.emit(&cells)
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.held.is_some() {
            return Ok(());
        }
        if self.rows == 0 {
            self.pending_header()?;
        }
        self.dest.flush()
    }

    fn finish(mut self: Box<Self>, _statuses: &[TenantOutcome]) -> std::io::Result<()> {
        if self.rows == 0 {
            self.pending_header()?;
        }
        if let Some(mut held) = self.held.take() {
            sort_rows(&mut held, &self.plan.sort);
            for r in &held {
                self.emit(r)?;
            }
        }
        if let Encoding::Json = self.enc {
            let end: &[u8] = if self.rows == 0 { b"[]\n" } else { b"\n]\n" };
            self.dest.write(end)?;
        }
        self.dest.finish()
    }
}

/// The csv writer's output, taken after each record so that rows reach the destination whole.
#[derive(Clone, Default)]
struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Shared {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl std::io::Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
