//! Reading request bodies the way Django REST Framework does: a JSON object,
//! unknown keys ignored, wrong types reported per field with DRF's words,
//! never coerced (but for the documented exceptions: booleans sent as
//! `"true"`/`"false"`, phone numbers sent as numbers).

use crate::domain::custom_field::CustomInput;
use crate::error::FieldErrors;
use serde_json::{Map, Value};

/// The largest body accepted, in bytes.
pub(crate) const MAX_BODY: usize = 1 << 20;

/// Python's name of a JSON value's type, as DRF's messages use it.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// A request body being read, with the type errors found so far.
#[derive(Debug, Default)]
pub(crate) struct Body {
    map: Map<String, Value>,
    errors: FieldErrors,
}

/// Why a body could not be read at all.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Not JSON: the parser's message.
    Parse(String),
    /// JSON, but not an object: the type found.
    NotObject(&'static str),
}

impl Body {
    /// Parses `bytes`; an empty body is an empty object.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Body, BodyError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Body::default());
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(Body {
                map,
                errors: FieldErrors::new(),
            }),
            Ok(other) => Err(BodyError::NotObject(type_name(&other))),
            Err(e) => Err(BodyError::Parse(e.to_string())),
        }
    }

    /// A body of an already parsed object (an import row).
    pub(crate) fn from_map(map: Map<String, Value>) -> Body {
        Body {
            map,
            errors: FieldErrors::new(),
        }
    }

    /// Whether `key` is present (even as `null`).
    pub(crate) fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// The type errors found.
    pub(crate) fn errors(&self) -> &FieldErrors {
        &self.errors
    }

    /// A text field: absent -> `None`; `null` -> `Some("")` (clears).
    pub(crate) fn string(&mut self, key: &str) -> Option<String> {
        match self.map.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => Some(String::new()),
            _ => {
                self.errors.add(key, "Not a valid string.");
                None
            }
        }
    }

    /// A phone number: text, or a number (Sunbird sends numbers).
    pub(crate) fn phone(&mut self, key: &str) -> Option<String> {
        match self.map.get(key)? {
            Value::Number(n) if n.is_u64() => Some(n.to_string()),
            _ => self.string(key),
        }
    }

    /// A boolean: `true`/`false`, or DRF's accepted spellings of them.
    pub(crate) fn bool(&mut self, key: &str) -> Option<bool> {
        let value = self.map.get(key)?;
        let parsed = match value {
            Value::Bool(b) => Some(*b),
            Value::String(s) => match s.as_str() {
                "true" | "True" | "TRUE" | "1" | "yes" | "on" => Some(true),
                "false" | "False" | "FALSE" | "0" | "no" | "off" => Some(false),
                _ => None,
            },
            Value::Number(n) => match n.as_u64() {
                Some(1) => Some(true),
                Some(0) => Some(false),
                _ => None,
            },
            _ => None,
        };
        if parsed.is_none() {
            self.errors.add(key, "Must be a valid boolean.");
        }
        parsed
    }

    /// An integer.
    pub(crate) fn int(&mut self, key: &str) -> Option<i64> {
        let value = self.map.get(key)?;
        match value.as_i64() {
            Some(n) => Some(n),
            None => {
                self.errors.add(key, "A valid integer is required.");
                None
            }
        }
    }

    /// The items of list field `key`; anything else is a type error.
    fn list(&mut self, key: &str) -> Option<Vec<Value>> {
        match self.map.get(key)? {
            Value::Array(items) => Some(items.clone()),
            other => {
                let message = format!(
                    "Expected a list of items but got type \"{}\".",
                    type_name(other)
                );
                self.errors.add(key, message);
                None
            }
        }
    }

    /// A list of strings (batch names, choices).
    pub(crate) fn strings(&mut self, key: &str) -> Option<Vec<String>> {
        let items = self.list(key)?;
        let strings: Vec<String> = items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect();
        if strings.len() == items.len() {
            return Some(strings);
        }
        self.errors.add(key, "Not a valid string.");
        None
    }

    /// A list of ids (primary keys). Ids that cannot exist (negative, too
    /// large) are reported as not existing, as DRF does.
    pub(crate) fn ids(&mut self, key: &str) -> Option<Vec<u64>> {
        if !self.has(key) {
            self.errors.add(key, crate::domain::rules::REQUIRED);
            return None;
        }
        let items = self.list(key)?;
        let mut out = Vec::with_capacity(items.len());
        let mut problems = Vec::new();
        for item in &items {
            match item {
                Value::Number(n) => match n.as_u64() {
                    Some(id) => out.push(id),
                    None => problems.push(format!("Invalid pk \"{n}\" - object does not exist.")),
                },
                other => problems.push(format!(
                    "Incorrect type. Expected pk value, received {}.",
                    type_name(other)
                )),
            }
        }
        for p in &problems {
            self.errors.add(key, p.clone());
        }
        problems.is_empty().then_some(out)
    }

    /// A map of custom field values.
    pub(crate) fn custom_fields(&mut self, key: &str) -> Vec<(String, CustomInput)> {
        let Some(value) = self.map.get(key) else {
            return Vec::new();
        };
        let Value::Object(map) = value else {
            if !value.is_null() {
                let message = format!(
                    "Expected a dictionary of items but got type \"{}\".",
                    type_name(value)
                );
                self.errors.add(key, message);
            }
            return Vec::new();
        };
        map.iter()
            .map(|(name, v)| {
                let input = match v {
                    Value::Null => CustomInput::Null,
                    Value::String(s) => CustomInput::Text(s.clone()),
                    Value::Number(n) => CustomInput::Number(n.to_string()),
                    Value::Bool(b) => CustomInput::Bool(*b),
                    Value::Array(_) | Value::Object(_) => CustomInput::Compound,
                };
                (name.clone(), input)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> Body {
        Body::parse(json.as_bytes()).unwrap()
    }

    #[test]
    fn types_are_not_coerced() {
        let mut b =
            body(r#"{"username": 5, "first_name": ["x"], "is_active": "maybe", "order": "1"}"#);
        assert_eq!(b.string("username"), None);
        assert_eq!(b.string("first_name"), None);
        assert_eq!(b.bool("is_active"), None);
        assert_eq!(b.int("order"), None);
        assert_eq!(b.errors().messages("username"), vec!["Not a valid string."]);
        assert_eq!(
            b.errors().messages("is_active"),
            vec!["Must be a valid boolean."]
        );
    }

    #[test]
    fn documented_leniencies() {
        let mut b = body(r#"{"is_active": "false", "phone": 9787231006, "city": null}"#);
        assert_eq!(b.bool("is_active"), Some(false));
        assert_eq!(b.phone("phone"), Some("9787231006".into()));
        assert_eq!(b.string("city"), Some(String::new()));
        assert!(b.errors().is_empty());
    }

    #[test]
    fn ids_follow_drf() {
        let mut b = body(r#"{"batches": [1, -1, 1e30, "2", 18446744073709551616]}"#);
        assert_eq!(b.ids("batches"), None);
        let messages = b.errors().messages("batches");
        assert_eq!(messages.len(), 4, "{messages:?}");
        assert!(messages[0].contains("\"-1\""));
        assert!(messages.iter().any(|m| m.contains("received str")));
        let mut b = body(r#"{"batches": "1"}"#);
        assert_eq!(b.ids("batches"), None);
        assert_eq!(
            b.errors().messages("batches"),
            vec!["Expected a list of items but got type \"str\"."]
        );
        let mut b = body("{}");
        assert_eq!(b.ids("batches"), None);
        assert_eq!(
            b.errors().messages("batches"),
            vec!["This field is required."]
        );
    }

    #[test]
    fn bodies_must_be_objects() {
        assert!(matches!(
            Body::parse(b"[1]"),
            Err(BodyError::NotObject("list"))
        ));
        assert!(matches!(Body::parse(b"{\"a\":"), Err(BodyError::Parse(_))));
        assert!(Body::parse(b"  ").is_ok());
    }
}
