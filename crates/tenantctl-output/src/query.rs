//! `--query`: a JMESPath expression over the rows as one JSON array (as `az` and `m365`
//! have it). The result is JSON: `-o json` prints it whole, `-o jsonl` one element of a
//! resulting array per line. Rows are held until `finish`; `--select` and `--sort` apply
//! first, so the query sees exactly what `-o json` would have printed.

use crate::columns::{sort_rows, Plan};
use crate::dest::Dest;
use crate::{OutputError, Sink, TenantOutcome};
use serde_json::{Map, Value};
use tenantctl_core::rows::Cell;

/// Compiles `expr`, or says what is wrong with it.
pub(crate) fn check(expr: &str) -> Result<(), OutputError> {
    jmespath::compile(expr)
        .map(drop)
        .map_err(|e| OutputError::Query { message: e.to_string() })
}

pub(crate) struct QuerySink {
    plan: Plan,
    dest: Dest,
    /// Kept as text: a compiled expression is not `Send`.
    expr: String,
    jsonl: bool,
    rows: Vec<Vec<Cell>>,
}

impl QuerySink {
    pub fn new(plan: Plan, dest: Dest, expr: String, jsonl: bool) -> QuerySink {
        QuerySink {
            plan,
            dest,
            expr,
            jsonl,
            rows: Vec::new(),
        }
    }
}

impl Sink for QuerySink {
    fn write_row(&mut self, cells: Vec<Cell>) -> std::io::Result<()> {
        self.plan.check(&cells)?;
        self.rows.push(cells);
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }

    fn finish(mut self: Box<Self>, _statuses: &[TenantOutcome]) -> std::io::Result<()> {
        sort_rows(&mut self.rows, &self.plan.sort);
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                let obj: Map<String, Value> = self
                    .plan
                    .selected
                    .iter()
                    .map(|&i| (self.plan.schema[i].name.to_owned(), r[i].to_json()))
                    .collect();
                Value::Object(obj)
            })
            .collect();
        let result = run(&self.expr, Value::Array(rows))?;
        let mut text = String::new();
        match (&result, self.jsonl) {
            (Value::Array(items), true) => {
                for item in items {
                    text.push_str(&serde_json::to_string(item)?);
                    text.push('\n');
                }
            }
            (v, true) => {
                text.push_str(&serde_json::to_string(v)?);
                text.push('\n');
            }
            (v, false) => {
                text.push_str(&serde_json::to_string_pretty(v)?);
                text.push('\n');
            }
        }
        self.dest.write(text.as_bytes())?;
        self.dest.finish()
    }
}

/// Evaluates `expr` over `data`.
fn run(expr: &str, data: Value) -> std::io::Result<Value> {
    let err =
        |e: jmespath::JmespathError| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("--query: {e}"));
    let compiled = jmespath::compile(expr).map_err(err)?;
    let result = compiled.search(data).map_err(err)?;
    Ok(serde_json::to_value(&*result)?)
}
