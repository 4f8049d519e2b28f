//! The bytes of a request body: JSON, and an object.

use super::request::type_name;
use serde_json::{Map, Value};

/// The largest body accepted, in bytes.
pub(crate) const MAX_BODY: usize = 1 << 20;

/// The most JSON values (keys counted) a body may hold. A body is parsed
/// whole into a tree before its fields are read, and a tree takes some
/// 30-80 bytes a value: a megabyte of `[0,0,...]` took 37 MB, so a server
/// reading 64 bodies at once could need gigabytes. Counted before the
/// parse; this bounds a body's tree to a few megabytes.
pub(crate) const MAX_VALUES: usize = 100_000;

/// About how many values and keys `bytes` holds, if it is JSON: its
/// separators (`,` and `:`) and openings (`[` and `{`) outside strings.
fn values_in(bytes: &[u8]) -> usize {
    let (mut count, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b',' | b':' | b'[' | b'{' => count += 1,
                _ => {}
            }
        }
    }
    count
}

/// Why a body could not be read at all.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Not JSON: the parser's message.
    Parse(String),
    /// JSON, but not an object: the type found.
    NotObject(&'static str),
}

/// Parses `bytes` as a JSON object; an empty body is an empty object. Its
/// fields are then read by a [`super::request`] type.
pub(crate) fn parse(bytes: &[u8]) -> Result<Map<String, Value>, BodyError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    if values_in(bytes) > MAX_VALUES {
        return Err(BodyError::Parse(format!(
            "the body holds more than {MAX_VALUES} values"
        )));
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(BodyError::NotObject(type_name(&other))),
        Err(e) => Err(BodyError::Parse(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::request::{self, BatchIds, CourseInput, NewUser, TestpressNewUser};

    fn read<T: request::Shape>(json: &str) -> (T, crate::error::FieldErrors) {
        request::read(parse(json.as_bytes()).unwrap())
    }

    #[test]
    fn types_are_not_coerced() {
        let (user, errors) =
            read::<NewUser>(r#"{"username": 5, "first_name": ["x"], "is_active": "maybe"}"#);
        let user = user.into_input();
        assert_eq!(user.username, None);
        assert_eq!(user.profile.first_name, None);
        assert_eq!(user.is_active, None);
        assert_eq!(errors.messages("username"), vec!["Not a valid string."]);
        assert_eq!(errors.messages("first_name"), vec!["Not a valid string."]);
        assert_eq!(
            errors.messages("is_active"),
            vec!["Must be a valid boolean."]
        );
        let (course, errors) = read::<CourseInput>(r#"{"order": "1"}"#);
        assert_eq!(course.into_input().order, None);
        assert_eq!(
            errors.messages("order"),
            vec!["A valid integer is required."]
        );
    }

    #[test]
    fn documented_leniencies() {
        let (user, errors) =
            read::<NewUser>(r#"{"is_active": "false", "phone": 9787231006, "city": null}"#);
        let user = user.into_input();
        assert_eq!(user.is_active, Some(false));
        assert_eq!(user.profile.phone, Some("9787231006".into()));
        assert_eq!(user.profile.city, Some(String::new()));
        assert!(errors.is_empty());
    }

    #[test]
    fn the_testpress_body_ignores_access_fields() {
        let (user, errors) = read::<TestpressNewUser>(r#"{"is_superuser": true, "groups": "x"}"#);
        assert!(errors.is_empty());
        assert_eq!(user.into_input().access, Default::default());
        let (user, errors) = read::<NewUser>(r#"{"is_superuser": true, "groups": "x"}"#);
        assert_eq!(
            errors.messages("groups"),
            vec!["Expected a list of items but got type \"str\"."]
        );
        assert_eq!(user.into_input().access.is_superuser, Some(true));
    }

    #[test]
    fn ids_follow_drf() {
        let (ids, errors) =
            read::<BatchIds>(r#"{"batches": [1, -1, 1e30, "2", 18446744073709551616]}"#);
        assert_eq!(ids.batches.into_value(), None);
        // The first bad item only, as DRF's `ManyRelatedField` stops there.
        assert_eq!(
            errors.messages("batches"),
            vec!["Invalid pk \"-1\" - object does not exist."]
        );
        let (_, errors) = read::<BatchIds>(r#"{"batches": [1, "2", -1]}"#);
        assert_eq!(
            errors.messages("batches"),
            vec!["Incorrect type. Expected pk value, received str."]
        );
        let (_, errors) = read::<BatchIds>(r#"{"batches": "1"}"#);
        assert_eq!(
            errors.messages("batches"),
            vec!["Expected a list of items but got type \"str\"."]
        );
        let (ids, mut errors) = read::<BatchIds>("{}");
        assert!(errors.is_empty());
        assert_eq!(
            request::required_ids(ids.batches, "batches", &mut errors),
            Vec::<u64>::new()
        );
        assert_eq!(errors.messages("batches"), vec!["This field is required."]);
    }

    #[test]
    fn a_body_of_more_values_than_the_bound_is_not_parsed() {
        let list = |n: usize| format!("{{\"batches\": [{}]}}", vec!["1"; n].join(","));
        // `{`, `:`, `[` and the commas: n + 2.
        assert_eq!(values_in(list(10).as_bytes()), 12);
        assert!(parse(list(MAX_VALUES - 2).as_bytes()).is_ok());
        match parse(list(MAX_VALUES - 1).as_bytes()) {
            Err(BodyError::Parse(m)) => assert!(m.contains("more than 100000 values"), "{m}"),
            other => panic!("{other:?}"),
        }
        // Separators inside strings, escaped quotes included, are text.
        let text = format!("{{\"a\": \"{}\\\",:[{{\"}}", ",".repeat(MAX_VALUES + 1));
        assert_eq!(values_in(text.as_bytes()), 2);
        assert!(parse(text.as_bytes()).is_ok());
    }

    #[test]
    fn bodies_must_be_objects() {
        assert!(matches!(parse(b"[1]"), Err(BodyError::NotObject("list"))));
        assert!(matches!(parse(b"{\"a\":"), Err(BodyError::Parse(_))));
        assert!(parse(b"  ").is_ok());
    }
}
