//! The Sunbird request bodies (seed 004): `{"request": {...}}` with
//! camelCase keys, read without failing. A value of the wrong type is kept
//! as its expected type's name, so the surface can answer with the
//! reference's "Data type of {0} should be {1}." for the first one.
//!
//! The seed's leniencies are kept: `phone` may be a number, `firstname`
//! and `lastname` are the v3 spellings of `firstName` and `lastName` (every
//! version accepts both), `externalIds` may be one object instead of a
//! list, `profileUserType` is one user type and `profileUserTypes` a list,
//! and an organisation id may be a number or a digit string.

use crate::domain::sunbird::{ExternalId, Location, SunbirdInput, UserType};
use serde_json::{Map, Value};

/// A field of a Sunbird body: absent, read, or of the wrong type (the
/// name of the type expected).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Part<T> {
    /// Not sent.
    #[default]
    Absent,
    /// Sent and read.
    Read(T),
    /// Sent with another type than `&str` names (`String`, `List`, ...).
    Wrong(&'static str),
}

impl<T> Part<T> {
    /// The value read, if any.
    pub fn value(self) -> Option<T> {
        match self {
            Part::Read(v) => Some(v),
            _ => None,
        }
    }

    /// Whether the key was sent (even with a value of the wrong type).
    pub fn is_sent(&self) -> bool {
        !matches!(self, Part::Absent)
    }
}

/// The body's problem: the first field of the wrong type, as
/// (field, expected type).
pub type TypeError = (String, &'static str);

/// Reads the keys of one body object, remembering the first field of the
/// wrong type.
#[derive(Debug)]
pub struct Reader {
    map: Map<String, Value>,
    /// The first type error met.
    pub error: Option<TypeError>,
}

impl Reader {
    /// A reader of `map`.
    pub fn new(map: Map<String, Value>) -> Reader {
        Reader { map, error: None }
    }

    fn take<T>(
        &mut self,
        key: &str,
        read: impl FnOnce(Value) -> Option<T>,
        kind: &'static str,
    ) -> Part<T> {
        match self.map.remove(key) {
            None => Part::Absent,
            Some(v) => match read(v) {
                Some(out) => Part::Read(out),
                None => {
                    if self.error.is_none() {
                        self.error = Some((key.to_string(), kind));
                    }
                    Part::Wrong(kind)
                }
            },
        }
    }

    /// A string under `key` (`null` reads as `""`; a number as its digits,
    /// for phones and ids sent as numbers).
    pub fn text(&mut self, key: &str) -> Part<String> {
        self.take(key, text, "String")
    }

    /// The first of `keys` sent, as text (`firstName` or `firstname`).
    pub fn text_of(&mut self, keys: &[&str]) -> Part<String> {
        let mut out = Part::Absent;
        for key in keys {
            let part = self.text(key);
            if !out.is_sent() {
                out = part;
            }
        }
        out
    }

    /// A boolean (or `"true"`/`"false"`).
    pub fn flag(&mut self, key: &str) -> Part<bool> {
        self.take(
            key,
            |v| match v {
                Value::Bool(b) => Some(b),
                Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
                Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
                _ => None,
            },
            "Boolean",
        )
    }

    /// A list of strings (one string reads as a list of it).
    pub fn texts(&mut self, key: &str) -> Part<Vec<String>> {
        self.take(
            key,
            |v| match v {
                Value::Array(items) => items.into_iter().map(text).collect(),
                Value::String(s) => Some(vec![s]),
                Value::Null => Some(Vec::new()),
                _ => None,
            },
            "List",
        )
    }

    /// A JSON object, as its text.
    pub fn object_text(&mut self, key: &str) -> Part<String> {
        self.take(
            key,
            |v| match v {
                Value::Object(_) => Some(v.to_string()),
                Value::Null => Some(String::new()),
                _ => None,
            },
            "Map",
        )
    }

    /// A list of JSON objects, as its text.
    pub fn objects_text(&mut self, key: &str) -> Part<String> {
        self.take(
            key,
            |v| match &v {
                Value::Array(items) if items.iter().all(Value::is_object) => Some(v.to_string()),
                Value::Null => Some(String::new()),
                _ => None,
            },
            "List",
        )
    }

    /// An object, or a list of objects, each read by `item`.
    fn objects<T>(&mut self, key: &str, item: fn(Map<String, Value>) -> Option<T>) -> Part<Vec<T>> {
        self.take(
            key,
            |v| match v {
                Value::Array(items) => items
                    .into_iter()
                    .map(|i| match i {
                        Value::Object(m) => item(m),
                        _ => None,
                    })
                    .collect(),
                Value::Object(m) => Some(vec![item(m)?]),
                Value::Null => Some(Vec::new()),
                _ => None,
            },
            "List",
        )
    }

    /// `profileLocation`: `[{code, type}]`.
    pub fn locations(&mut self, key: &str) -> Part<Vec<Location>> {
        self.objects(key, |m| {
            Some(Location {
                code: text(m.get("code")?.clone())?,
                kind: text(m.get("type")?.clone())?,
            })
        })
    }

    /// `profileUserType(s)`: `{type, subType}` or a list of them.
    pub fn user_types(&mut self, key: &str) -> Part<Vec<UserType>> {
        self.objects(key, |m| {
            Some(UserType {
                kind: text(m.get("type")?.clone())?,
                sub_kind: m
                    .get("subType")
                    .cloned()
                    .map_or(Some(String::new()), text)?,
            })
        })
    }

    /// `externalIds`: `{id, provider, idType}` or a list of them.
    pub fn external_ids(&mut self, key: &str) -> Part<Vec<ExternalId>> {
        self.objects(key, |m| {
            Some(ExternalId {
                id: text(m.get("id")?.clone())?,
                provider: text(m.get("provider")?.clone())?,
                id_type: text(m.get("idType")?.clone())?,
            })
        })
    }

    /// An organisation id: a whole number, or its digits as text. A number
    /// beyond roster's ids (2^53 and above, like the seed's
    /// `1297544481264435200`) reads as `u64::MAX`, which names no
    /// organisation.
    pub fn org_id(&mut self, key: &str) -> Part<u64> {
        self.take(key, org_id, "String")
    }

    /// A nested object.
    pub fn object(&mut self, key: &str) -> Part<Map<String, Value>> {
        self.take(
            key,
            |v| match v {
                Value::Object(m) => Some(m),
                _ => None,
            },
            "Map",
        )
    }

    /// A nested list of objects.
    pub fn maps(&mut self, key: &str) -> Part<Vec<Map<String, Value>>> {
        self.take(
            key,
            |v| match v {
                Value::Array(items) => items
                    .into_iter()
                    .map(|i| match i {
                        Value::Object(m) => Some(m),
                        _ => None,
                    })
                    .collect(),
                _ => None,
            },
            "List",
        )
    }

    /// Whether `key` is still in the object (not taken yet).
    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }
}

/// Text: a string, a whole number's digits, or `""` for `null`.
fn text(v: Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s),
        Value::Number(n) if n.is_u64() => Some(n.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

/// An organisation id (see [`Reader::org_id`]).
pub fn org_id(v: Value) -> Option<u64> {
    const LIMIT: u64 = 1 << 53;
    let digits = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => return None,
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(match digits.parse::<u64>() {
        Ok(n) if n < LIMIT => n,
        _ => u64::MAX,
    })
}

/// A user body of create or update (S1-S3, S5) as the typed input; `v1`
/// update ignores `profileLocation` and the user types.
pub fn user_input(r: &mut Reader, locations_and_types: bool) -> SunbirdInput {
    let mut types = r.user_types("profileUserTypes");
    let one = r.user_types("profileUserType");
    if !types.is_sent() {
        types = one;
    }
    let mut input = SunbirdInput {
        first_name: r.text_of(&["firstName", "firstname"]).value(),
        last_name: r.text_of(&["lastName", "lastname"]).value(),
        user_name: r.text("userName").value(),
        email: r.text("email").value(),
        phone: r.text("phone").value(),
        password: r.text("password").value(),
        dob: r.text("dob").value(),
        gender: r.text("gender").value(),
        avatar: r.text("avatar").value(),
        email_verified: r.flag("emailVerified").value(),
        phone_verified: r.flag("phoneVerified").value(),
        recovery_email: r.text("recoveryEmail").value(),
        recovery_phone: r.text("recoveryPhone").value(),
        language: r.texts("language").value(),
        grade: r.texts("grade").value(),
        subject: r.texts("subject").value(),
        profile_summary: r.text("profileSummary").value(),
        framework: r.object_text("framework").value(),
        address: r.objects_text("address").value(),
        education: r.objects_text("education").value(),
        job_profile: r.objects_text("jobProfile").value(),
        locations: r.locations("profileLocation").value(),
        user_types: types.value(),
        external_ids: r.external_ids("externalIds").value(),
        channel: r.text("channel").value(),
        org_external_id: r.text("orgExternalId").value(),
        managed_by: r.text("managedBy").value(),
    };
    if !locations_and_types {
        input.locations = None;
        input.user_types = None;
    }
    input
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reader(v: Value) -> Reader {
        match v {
            Value::Object(m) => Reader::new(m),
            _ => unreachable!(),
        }
    }

    #[test]
    fn the_seed_spellings_read() {
        let mut r = reader(json!({
            "firstname": "first name", "lastname": "last name", "phone": 8888888888u64,
            "externalIds": {"id": "2176105,", "provider": "P", "idType": "T"},
            "profileUserType": {"type": "administrator", "subType": "deo"},
        }));
        let input = user_input(&mut r, true);
        assert_eq!(input.first_name.as_deref(), Some("first name"));
        assert_eq!(input.last_name.as_deref(), Some("last name"));
        assert_eq!(input.phone.as_deref(), Some("8888888888"));
        assert_eq!(input.external_ids.unwrap()[0].id, "2176105,");
        assert_eq!(input.user_types.unwrap()[0].sub_kind, "deo");
        assert_eq!(r.error, None);
    }

    #[test]
    fn the_first_wrong_type_is_kept() {
        let mut r = reader(json!({"firstName": ["x"], "language": 3}));
        let input = user_input(&mut r, true);
        assert_eq!(input.first_name, None);
        assert_eq!(r.error, Some(("firstName".into(), "String")));
    }

    #[test]
    fn organisation_ids_beyond_roster_name_none() {
        assert_eq!(org_id(json!(12)), Some(12));
        assert_eq!(org_id(json!("12")), Some(12));
        assert_eq!(org_id(json!(1297544481264435200u64)), Some(u64::MAX));
        assert_eq!(org_id(json!(-1)), None);
        assert_eq!(org_id(json!("x")), None);
    }
}
