//! A record: one output row with named columns in a stable order. Every command produces
//! records; the CLI's formatters (table, csv, json, jsonl) render them.

use serde_json::Value;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record {
    pub fields: Vec<(&'static str, Value)>,
}

impl Record {
    pub fn new() -> Record {
        Record { fields: Vec::new() }
    }

    pub fn with(mut self, name: &'static str, v: impl Into<Value>) -> Record {
        self.fields.push((name, v.into()));
        self
    }

    pub fn push(&mut self, name: &'static str, v: impl Into<Value>) {
        self.fields.push((name, v.into()));
    }

    /// Puts columns in front (the fan-out's `tenantId`, `tenantName`).
    pub fn prefixed(mut self, front: Vec<(&'static str, Value)>) -> Record {
        let mut f = front;
        f.append(&mut self.fields);
        self.fields = f;
        self
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    pub fn columns(&self) -> Vec<&'static str> {
        self.fields.iter().map(|(n, _)| *n).collect()
    }

    /// A JSON object with the columns in order.
    pub fn to_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        for (n, v) in &self.fields {
            m.insert((*n).to_owned(), v.clone());
        }
        Value::Object(m)
    }
}
