//! The JSON forms of the typed API, for hosts that speak JSON (the
//! WebAssembly and uniffi bindings): inputs are read from the request bodies
//! of the documents (snake_case keys, the same mapping as the REST routes),
//! and views are written as the documents' representations, so an object
//! means the same through `handle()` and through a typed call.
//!
//! Reading never coerces types (SPEC A5): a wrong type is a
//! `validation_failed` error naming the field. Rules are checked by the
//! operation the input is given to, not here.
//!
//! Its submodules are the wire types every surface shares, one type per
//! documented shape: `request` (the request bodies, read the way Django
//! REST Framework reads them, and turned into typed inputs), `testpress`,
//! `django` and `sunbird` (each surface's representations), `records`
//! (what the bindings hand to JSON hosts), `views` (URLs, timestamps, field
//! errors), `body` (a body's bytes as a JSON object). `rest/` (the HTTP
//! surfaces) and `transfer` (import rows) use them from here, below them;
//! nothing here uses `rest/`. With the cargo feature `tsify` the types
//! declare themselves in TypeScript.

use crate::api::PermissionView;
use crate::domain::course::{CourseInput, CourseView};
use crate::domain::custom_field::{CustomFieldInput, CustomFieldView};
use crate::domain::group::{GroupInput, GroupView};
use crate::domain::outbox::OutboxMessage;
use crate::domain::user::{BatchRef, NewUser, UserPatch, UserView};
use crate::domain::{BatchInput, BatchView, Page, SubscriptionView};
use crate::error::{Error, Result};
use serde_json::Value;
use views::Urls;

pub(crate) mod body;
pub mod django;
pub mod records;
pub mod request;
#[cfg(feature = "openapi")]
mod schema;
pub mod sunbird;
pub mod sunbird_request;
pub mod sunbird_views;
pub mod testpress;
pub mod views;

/// URLs in views point at the v2.5 API, as paths (no host).
fn urls() -> Urls<'static> {
    Urls {
        base: "",
        prefix: "/api/v2.5/admin".to_string(),
        path: "",
        query: &[],
    }
}

/// Reads `value` (a JSON object) as body type `T`; a field of the wrong
/// type is an error.
fn input<T: request::Shape>(value: Value) -> Result<T> {
    let map = match value {
        Value::Object(map) => map,
        Value::Null => serde_json::Map::new(),
        other => {
            return Err(Error::field(
                crate::error::NON_FIELD_ERRORS,
                format!(
                    "Invalid data. Expected a dictionary, but got {}.",
                    request::type_name(&other)
                ),
            ));
        }
    };
    let (shape, errors) = request::read::<T>(map);
    errors.into_result()?;
    Ok(shape)
}

/// A new user: the create-user body, plus seed 003's access fields
/// (`is_superuser`, `is_staff`, `groups`, `user_permissions`).
pub fn new_user(value: Value) -> Result<NewUser> {
    input::<request::NewUser>(value).map(request::NewUser::into_input)
}

/// A change to a user: the update body, plus seed 003's access fields.
pub fn user_patch(value: Value) -> Result<UserPatch> {
    input::<request::UserPatch>(value).map(request::UserPatch::into_input)
}

/// A batch: `{name}`.
pub fn batch_input(value: Value) -> Result<BatchInput> {
    input::<request::BatchInput>(value).map(request::BatchInput::into_input)
}

/// A course: `{title, slug, description, image, is_public, ...}`.
pub fn course_input(value: Value) -> Result<CourseInput> {
    input::<request::CourseInput>(value).map(request::CourseInput::into_input)
}

/// A custom field definition: `{name, type, choices, required}`.
pub fn custom_field_input(value: Value) -> Result<CustomFieldInput> {
    input::<request::CustomFieldInput>(value).map(request::CustomFieldInput::into_input)
}

/// A group: `{name, permissions}`.
pub fn group_input(value: Value) -> Result<GroupInput> {
    input::<request::GroupInput>(value).map(request::GroupInput::into_input)
}

/// A user: the Testpress representation, plus the access fields of
/// seed 003 (`is_superuser`, `is_staff`, `groups`, `user_permissions`,
/// `last_login`, `date_joined`). Never a password or a hash.
pub fn user(u: &UserView) -> records::User {
    records::User::new(u, &urls())
}

/// A batch: `{id, name, url, created, modified, is_local}`.
pub fn batch(b: &BatchView) -> testpress::Batch {
    testpress::Batch::new(b, &urls())
}

/// A batch among a user's: `{id, name}`.
pub fn batch_ref(b: &BatchRef) -> testpress::BatchName {
    testpress::BatchName::new(b)
}

/// A subscription: `{id, batch, expires}`.
pub fn subscription(s: &SubscriptionView) -> testpress::Subscription {
    testpress::Subscription::new(s, &urls())
}

/// A course, with the seed's fields.
pub fn course(c: &CourseView) -> testpress::Course {
    testpress::Course::new(c, &urls())
}

/// A custom field definition.
pub fn custom_field(f: &CustomFieldView) -> testpress::CustomField {
    testpress::CustomField::new(f, &urls())
}

/// A group: `{id, name, permissions}`.
pub fn group(g: &GroupView) -> django::Group {
    django::Group::new(g)
}

/// A sign-in: `{token, expires, user}`, `expires` as the REST answer writes it.
pub fn login(l: &crate::api::Login) -> records::Login {
    records::Login::new(l)
}

/// A permission: `{id, codename, name}`.
pub fn permission(p: &PermissionView) -> django::Permission {
    django::Permission::new(p)
}

/// An outbox message: `{id, user, channel, to, subject, body, created}`.
pub fn outbox_message(m: &OutboxMessage) -> records::OutboxMessage {
    records::OutboxMessage::new(m)
}

/// A page: `{count, page, per_page, next, previous, results}`, with `next`
/// and `previous` as page numbers (or null).
pub fn page<V, T>(page: &Page<V>, item: impl Fn(&V) -> T) -> records::Page<T> {
    records::Page::new(page, item)
}

/// An error: `{code, message, fields}`, `fields` in Django REST Framework's
/// shape (`{"field": ["message"]}`, nested for custom fields).
pub fn error(e: &Error) -> records::ErrorBody<'_> {
    records::ErrorBody::new(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_refuse_wrong_types_and_non_objects() {
        use serde_json::json;
        let e = new_user(json!({"username": 5})).unwrap_err();
        assert_eq!(e.fields().messages("username"), vec!["Not a valid string."]);
        assert!(new_user(json!([1])).is_err());
        let user =
            new_user(json!({"username": "u", "is_staff": true, "groups": [1]})).expect("read");
        assert_eq!(user.access.is_staff, Some(true));
        assert_eq!(user.access.groups, Some(vec![1]));
    }

    #[test]
    fn errors_carry_code_message_and_fields() {
        let e = Error::field("zip", "bad");
        assert_eq!(
            serde_json::to_value(error(&e)).unwrap(),
            serde_json::json!({"code": "validation_failed", "message": "invalid input: zip", "fields": {"zip": ["bad"]}})
        );
    }
}
