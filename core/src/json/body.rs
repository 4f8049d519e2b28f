//! The bytes of a request body: JSON, and an object.

use super::request::type_name;
use serde_json::{Map, Value};

/// The largest body accepted, in bytes.
pub(crate) const MAX_BODY: usize = 1 << 20;

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
    fn bodies_must_be_objects() {
        assert!(matches!(parse(b"[1]"), Err(BodyError::NotObject("list"))));
        assert!(matches!(parse(b"{\"a\":"), Err(BodyError::Parse(_))));
        assert!(parse(b"  ").is_ok());
    }
}
