//! A protocol's parameters: the scenario's `[protocol]` table, read field by field so
//! that a missing, mistyped or unknown field is an error naming the field and the fix.

use std::collections::BTreeMap;

use crate::protocol::ConfigError;

/// The `[protocol]` table of a scenario. A protocol takes the fields it knows; whatever
/// is left over when it is done is reported as unknown by `finish`.
#[derive(Clone, Debug, Default)]
pub struct Params {
    fields: BTreeMap<String, toml::Value>,
}

impl Params {
    pub fn new(table: toml::Table) -> Params {
        Params {
            fields: table.into_iter().collect(),
        }
    }

    /// Take a non-negative integer field, or `default` when it is absent.
    pub fn take_u64(&mut self, field: &str, default: u64) -> Result<u64, ConfigError> {
        match self.fields.remove(field) {
            None => Ok(default),
            Some(toml::Value::Integer(value)) if value >= 0 => Ok(value as u64),
            Some(other) => Err(ConfigError {
                field: field.to_string(),
                message: format!("expected a non-negative integer, found {other}"),
                fix: format!("write e.g. `{field} = {default}`"),
            }),
        }
    }

    /// Take a `[min, max]` pair of non-negative integers, or `default` when absent.
    pub fn take_range(
        &mut self,
        field: &str,
        default: (u64, u64),
    ) -> Result<(u64, u64), ConfigError> {
        let bad = |found: &dyn std::fmt::Display| ConfigError {
            field: field.to_string(),
            message: format!("expected [min, max] with 0 <= min <= max, found {found}"),
            fix: format!("write e.g. `{field} = [{}, {}]`", default.0, default.1),
        };
        match self.fields.remove(field) {
            None => Ok(default),
            Some(toml::Value::Array(items)) => match items.as_slice() {
                [toml::Value::Integer(min), toml::Value::Integer(max)]
                    if 0 <= *min && min <= max =>
                {
                    Ok((*min as u64, *max as u64))
                }
                _ => Err(bad(&toml::Value::Array(items.clone()))),
            },
            Some(other) => Err(bad(&other)),
        }
    }

    pub fn take_bool(&mut self, field: &str, default: bool) -> Result<bool, ConfigError> {
        match self.fields.remove(field) {
            None => Ok(default),
            Some(toml::Value::Boolean(value)) => Ok(value),
            Some(other) => Err(ConfigError {
                field: field.to_string(),
                message: format!("expected true or false, found {other}"),
                fix: format!("write e.g. `{field} = {default}`"),
            }),
        }
    }

    /// Take a string field, or `default` when it is absent.
    pub fn take_string(&mut self, field: &str, default: &str) -> Result<String, ConfigError> {
        match self.fields.remove(field) {
            None => Ok(default.to_string()),
            Some(toml::Value::String(value)) => Ok(value),
            Some(other) => Err(ConfigError {
                field: field.to_string(),
                message: format!("expected a string, found {other}"),
                fix: format!("write e.g. `{field} = {default:?}`"),
            }),
        }
    }

    /// Take a finite, non-negative number (an integer is accepted too), or `default`.
    pub fn take_f64(&mut self, field: &str, default: f64) -> Result<f64, ConfigError> {
        let bad = |found: &dyn std::fmt::Display| ConfigError {
            field: field.to_string(),
            message: format!("expected a finite non-negative number, found {found}"),
            fix: format!("write e.g. `{field} = {default:?}`"),
        };
        match self.fields.remove(field) {
            None => Ok(default),
            Some(toml::Value::Float(value)) if value.is_finite() && value >= 0.0 => Ok(value),
            Some(toml::Value::Integer(value)) if value >= 0 => Ok(value as f64),
            Some(other) => Err(bad(&other)),
        }
    }

    /// Fail on any field the protocol did not take. `known` lists the fields it takes.
    pub fn finish(self, known: &[&str]) -> Result<(), ConfigError> {
        match self.fields.into_keys().next() {
            None => Ok(()),
            Some(field) => Err(ConfigError {
                message: "unknown protocol parameter".to_string(),
                fix: format!("remove it, or use one of: {}", known.join(", ")),
                field,
            }),
        }
    }
}
