//! Cmdlet parameters as `InvokeCommand` carries them (contract §1.3): names case-insensitive
//! (PowerShell), values strings, JSON booleans for switches, arrays, or null.

use super::errors::ExoError;
use serde_json::{Map, Value};

/// PowerShell's common parameters: every cmdlet accepts them (and the simulator ignores them).
const COMMON: &[&str] = &[
    "ErrorAction",
    "WarningAction",
    "InformationAction",
    "ErrorVariable",
    "WarningVariable",
    "InformationVariable",
    "OutVariable",
    "OutBuffer",
    "PipelineVariable",
    "Verbose",
    "Debug",
    "Confirm",
    "WhatIf",
];

/// A cmdlet's parameters.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, Value)>);

impl Params {
    pub fn from_map(m: &Map<String, Value>) -> Params {
        Params(m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    }

    /// Refuses a parameter the cmdlet does not have, then missing mandatory ones.
    pub fn check(&self, known: &[&str], mandatory: &[&str]) -> Result<(), ExoError> {
        for (k, _) in &self.0 {
            let k = k.trim_start_matches('-');
            if !known.iter().chain(COMMON).any(|n| n.eq_ignore_ascii_case(k)) {
                return Err(ExoError::unknown_parameter(k));
            }
        }
        let missing: Vec<&str> = mandatory
            .iter()
            .copied()
            .filter(|m| self.get(m).is_none_or(Value::is_null))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(ExoError::missing_mandatory(&missing))
        }
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0
            .iter()
            .find(|(k, _)| k.trim_start_matches('-').eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Whether the parameter was sent (a null counts: `ForwardingAddress = $null`).
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// A string parameter (numbers and booleans are converted as PowerShell would).
    pub fn string(&self, name: &str) -> Result<Option<String>, ExoError> {
        match self.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(if *b { "True" } else { "False" }.into())),
            Some(v) => Err(ExoError::bad_value(
                name,
                &v.to_string(),
                "System.String",
                "Specified method is not supported.",
            )),
        }
    }

    /// A boolean or switch: JSON booleans, or the texts `True`/`False`/`$true`/`$false`/`1`/`0`.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ExoError> {
        match self.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => {
                let s = match v {
                    Value::String(s) => s.trim().trim_start_matches('$').to_ascii_lowercase(),
                    other => other.to_string(),
                };
                match s.as_str() {
                    "true" | "1" => Ok(Some(true)),
                    "false" | "0" => Ok(Some(false)),
                    _ => Err(ExoError::bad_value(
                        name,
                        &display(v),
                        "System.Boolean",
                        "Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0.",
                    )),
                }
            }
        }
    }

    /// A multi-valued parameter: one string or an array of strings.
    pub fn strings(&self, name: &str) -> Result<Option<Vec<String>>, ExoError> {
        match self.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    other => Err(ExoError::bad_value(
                        name,
                        &other.to_string(),
                        "System.String[]",
                        "Specified method is not supported.",
                    )),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Ok(self.string(name)?.map(|s| vec![s])),
        }
    }

    /// `-ResultSize`: a positive number or `Unlimited` (`Unlimited<UInt32>`). None when absent.
    pub fn result_size(&self) -> Result<Option<ResultSize>, ExoError> {
        let Some(v) = self.get("ResultSize") else {
            return Ok(None);
        };
        let text = display(v);
        if text.trim().eq_ignore_ascii_case("unlimited") {
            return Ok(Some(ResultSize::Unlimited));
        }
        match text.trim().parse::<u32>() {
            Ok(n) if n > 0 => Ok(Some(ResultSize::Limit(n as usize))),
            _ => Err(ExoError::bad_value(
                "ResultSize",
                &text,
                "Microsoft.Exchange.Data.Unlimited`1[System.UInt32]",
                &format!("Input string was not in a correct format. (\"{text}\")"),
            )),
        }
    }
}

/// How many rows `-ResultSize` allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultSize {
    Limit(usize),
    Unlimited,
}

impl ResultSize {
    pub fn limit(self) -> usize {
        match self {
            ResultSize::Limit(n) => n,
            ResultSize::Unlimited => usize::MAX,
        }
    }
}

/// A value as PowerShell would print it in an error.
pub fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(v: Value) -> Params {
        Params::from_map(v.as_object().unwrap())
    }

    #[test]
    fn names_are_case_insensitive_and_common_parameters_are_accepted() {
        let ps = p(json!({"forwardingSMTPAddress": "a@b.c", "ErrorAction": "Stop", "-Identity": "x"}));
        assert!(ps.check(&["Identity", "ForwardingSmtpAddress"], &["Identity"]).is_ok());
        assert_eq!(ps.string("ForwardingSmtpAddress").unwrap().as_deref(), Some("a@b.c"));
        let e = ps.check(&["Identity"], &[]).unwrap_err();
        assert_eq!(
            e.text,
            "A parameter cannot be found that matches parameter name 'forwardingSMTPAddress'."
        );
        let e = p(json!({})).check(&["Identity"], &["Identity"]).unwrap_err();
        assert!(e.text.ends_with("missing mandatory parameters: Identity."));
    }

    #[test]
    fn result_size_is_a_number_or_unlimited() {
        assert_eq!(
            p(json!({"ResultSize": "Unlimited"})).result_size().unwrap(),
            Some(ResultSize::Unlimited)
        );
        assert_eq!(
            p(json!({"resultsize": 5})).result_size().unwrap(),
            Some(ResultSize::Limit(5))
        );
        assert_eq!(
            p(json!({"ResultSize": "7"})).result_size().unwrap(),
            Some(ResultSize::Limit(7))
        );
        let e = p(json!({"ResultSize": "abc"})).result_size().unwrap_err();
        assert!(e.text.contains("Cannot convert value \"abc\""), "{}", e.text);
    }

    #[test]
    fn switches_take_json_booleans_or_their_texts() {
        assert_eq!(p(json!({"Archive": true})).bool("archive").unwrap(), Some(true));
        assert_eq!(p(json!({"Archive": "$false"})).bool("Archive").unwrap(), Some(false));
        assert!(p(json!({"Archive": "maybe"})).bool("Archive").is_err());
    }
}
