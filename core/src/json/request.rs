//! The request bodies of the documents, one type each, read the way Django
//! REST Framework reads them: a JSON object, unknown keys ignored, every
//! field of the wrong type reported at once with DRF's words, nothing
//! coerced but the documented leniencies (booleans sent as `"true"`, phone
//! numbers sent as numbers).
//!
//! Each field is a [`Field`] read by a [`Rule`]; reading a body never
//! fails ([`read`]): a field of the wrong type keeps its messages, and
//! [`Shape::report`] gathers them under the field's name. The same types
//! read the REST bodies, the bindings' JSON inputs and the import rows, and
//! their TypeScript declarations are generated from them (feature `tsify`).

use crate::domain::user::{AccessInput, ProfileInput};
use crate::domain::{self};
use crate::error::FieldErrors;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use std::marker::PhantomData;

/// Python's name of a JSON value's type, as DRF's messages use it.
pub(crate) fn type_name(v: &Value) -> &'static str {
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

/// How one kind of field is read from its JSON value.
pub trait Rule {
    /// What the field holds once read.
    type Out;
    /// The value read, or the messages about it: DRF's, or for the Sunbird
    /// rules (`json::sunbird_request`) the one name of the type expected.
    fn read(value: Value) -> Result<Self::Out, Vec<String>>;
}

/// One field of a body: absent, read, or of the wrong type.
#[derive(Debug, Clone, PartialEq)]
pub struct Field<R: Rule> {
    state: State<R::Out>,
    rule: PhantomData<R>,
}

#[derive(Debug, Clone, PartialEq)]
enum State<T> {
    Absent,
    Read(T),
    Wrong(Vec<String>),
}

impl<R: Rule> Default for Field<R> {
    fn default() -> Self {
        Field {
            state: State::Absent,
            rule: PhantomData,
        }
    }
}

impl<R: Rule> Field<R> {
    /// Whether the body has the key (even with a value of the wrong type).
    pub fn is_sent(&self) -> bool {
        !matches!(self.state, State::Absent)
    }

    /// The value read; `None` when absent or of the wrong type.
    pub fn into_value(self) -> Option<R::Out> {
        match self.state {
            State::Read(v) => Some(v),
            _ => None,
        }
    }

    /// The first message of a field of the wrong type (for the Sunbird
    /// rules, the name of the type expected); `None` when absent or read.
    pub(crate) fn problem(&self) -> Option<&str> {
        match &self.state {
            State::Wrong(messages) => messages.first().map(String::as_str),
            _ => None,
        }
    }

    /// Adds this field's messages to `errors` under `name`.
    fn report(&self, name: &str, errors: &mut FieldErrors) {
        if let State::Wrong(messages) = &self.state {
            for m in messages {
                errors.add(name, m.clone());
            }
        }
    }
}

/// The rules.
pub mod rule {
    use super::{Rule, type_name};
    use crate::domain::custom_field::CustomInput;
    use serde_json::Value;

    /// A string; `null` reads as `""` (it clears the field).
    #[derive(Debug, Clone, PartialEq)]
    pub struct Text;
    impl Rule for Text {
        type Out = String;
        fn read(value: Value) -> Result<String, Vec<String>> {
            match value {
                Value::String(s) => Ok(s),
                Value::Null => Ok(String::new()),
                _ => Err(vec!["Not a valid string.".into()]),
            }
        }
    }

    /// A phone number: text, or a whole number (Sunbird sends numbers).
    #[derive(Debug, Clone, PartialEq)]
    pub struct Phone;
    impl Rule for Phone {
        type Out = String;
        fn read(value: Value) -> Result<String, Vec<String>> {
            match value {
                Value::Number(n) if n.is_u64() => Ok(n.to_string()),
                other => Text::read(other),
            }
        }
    }

    /// A boolean: `true`/`false`, or DRF's accepted spellings of them.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Flag;
    impl Rule for Flag {
        type Out = bool;
        fn read(value: Value) -> Result<bool, Vec<String>> {
            let parsed = match &value {
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
            parsed.ok_or_else(|| vec!["Must be a valid boolean.".into()])
        }
    }

    /// A whole number.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Int;
    impl Rule for Int {
        type Out = i64;
        fn read(value: Value) -> Result<i64, Vec<String>> {
            value
                .as_i64()
                .ok_or_else(|| vec!["A valid integer is required.".into()])
        }
    }

    /// The items of a list; anything else is DRF's list error.
    fn list(value: Value) -> Result<Vec<Value>, Vec<String>> {
        match value {
            Value::Array(items) => Ok(items),
            other => Err(vec![format!(
                "Expected a list of items but got type \"{}\".",
                type_name(&other)
            )]),
        }
    }

    /// A list of strings (batch names, choices).
    #[derive(Debug, Clone, PartialEq)]
    pub struct Texts;
    impl Rule for Texts {
        type Out = Vec<String>;
        fn read(value: Value) -> Result<Vec<String>, Vec<String>> {
            list(value)?
                .into_iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s),
                    _ => Err(vec!["Not a valid string.".into()]),
                })
                .collect()
        }
    }

    /// A list of ids (primary keys). Ids that cannot exist (negative, too
    /// large) are reported as not existing, as DRF does; only the first bad
    /// item is reported, as DRF's `ManyRelatedField` stops at it (an answer
    /// never grows with the number of bad items sent).
    #[derive(Debug, Clone, PartialEq)]
    pub struct Ids;
    impl Rule for Ids {
        type Out = Vec<u64>;
        fn read(value: Value) -> Result<Vec<u64>, Vec<String>> {
            let items = list(value)?;
            let mut out = Vec::with_capacity(items.len());
            for item in &items {
                match item {
                    Value::Number(n) => match n.as_u64() {
                        Some(id) => out.push(id),
                        None => {
                            return Err(vec![format!(
                                "Invalid pk \"{n}\" - object does not exist."
                            )]);
                        }
                    },
                    other => {
                        return Err(vec![format!(
                            "Incorrect type. Expected pk value, received {}.",
                            type_name(other)
                        )]);
                    }
                }
            }
            Ok(out)
        }
    }

    /// Custom values by field name, in the order sent; `null` (`None`)
    /// clears every value. Each value is checked against its definition
    /// later.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Custom;
    impl Rule for Custom {
        type Out = Option<Vec<(String, CustomInput)>>;
        fn read(value: Value) -> Result<Self::Out, Vec<String>> {
            let map = match value {
                Value::Object(map) => map,
                Value::Null => return Ok(None),
                other => {
                    return Err(vec![format!(
                        "Expected a dictionary of items but got type \"{}\".",
                        type_name(&other)
                    )]);
                }
            };
            Ok(Some(
                map.into_iter()
                    .map(|(name, v)| {
                        let input = match v {
                            Value::Null => CustomInput::Null,
                            Value::String(s) => CustomInput::Text(s),
                            Value::Number(n) => CustomInput::Number(n.to_string()),
                            Value::Bool(b) => CustomInput::Bool(b),
                            Value::Array(_) | Value::Object(_) => CustomInput::Compound,
                        };
                        (name, input)
                    })
                    .collect(),
            ))
        }
    }
}

/// A string; `null` clears the field.
pub type Text = Field<rule::Text>;
/// A phone number, as text or a whole number.
pub type Phone = Field<rule::Phone>;
/// A boolean, or one of DRF's spellings of one.
pub type Flag = Field<rule::Flag>;
/// A whole number.
pub type Int = Field<rule::Int>;
/// A list of strings.
pub type Texts = Field<rule::Texts>;
/// A list of ids.
pub type Ids = Field<rule::Ids>;
/// Custom values by field name.
pub type CustomValues = Field<rule::Custom>;

// The TypeScript of the field types above (tsify declares the bodies).
#[cfg(feature = "tsify")]
#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const FIELD_TYPES: &'static str = r#"
/** A string; `null` clears the field. */
export type Text = string | null;
/** A phone number, as text or a whole number; `null` clears it. */
export type Phone = string | number | null;
/** A boolean, or one of Django REST Framework's spellings of one. */
export type Flag = boolean | "true" | "false" | "True" | "False" | "TRUE" | "FALSE" | "1" | "0" | "yes" | "no" | "on" | "off" | 0 | 1;
/** A whole number. */
export type Int = number;
/** A list of strings. */
export type Texts = string[];
/** A list of ids. */
export type Ids = number[];
/** Custom values by field name (`null` clears one); `null` for the whole map clears them all. */
export type CustomValues = Record<string, string | number | boolean | null> | null;
"#;

/// A request body type: read from a JSON object (never failing: [`read`]),
/// its fields' messages gathered by `report`.
pub trait Shape: for<'de> Deserialize<'de> + Default {
    /// Takes this type's fields out of `map` (the rest stay for the body
    /// types it is flattened beside).
    fn take(map: &mut Map<String, Value>) -> Self;
    /// Adds the messages of every field of the wrong type to `errors`.
    fn report(&self, errors: &mut FieldErrors);
}

/// Reads `map` as `T`, with the type errors of its fields.
pub fn read<T: Shape>(mut map: Map<String, Value>) -> (T, FieldErrors) {
    let shape = T::take(&mut map);
    let mut errors = FieldErrors::new();
    shape.report(&mut errors);
    (shape, errors)
}

impl<R: Rule> Field<R> {
    /// The field of a value taken from a body (`None`: absent).
    pub(crate) fn of(value: Option<Value>) -> Field<R> {
        Field {
            state: match value.map(R::read) {
                None => State::Absent,
                Some(Ok(v)) => State::Read(v),
                Some(Err(messages)) => State::Wrong(messages),
            },
            rule: PhantomData,
        }
    }
}

/// Declares a body type: its fields (`name: Kind`, the wire name being the
/// field's, without `r#`), and those of other body types it takes in
/// (`..name: Type`, flattened). Reading takes each field's key out of the
/// object, then hands the rest to the flattened types: a key is read once,
/// and no serde visitor is generated per type (module size in the
/// browser).
macro_rules! shape {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $kind:ty, )*
            $( .. $(#[$xmeta:meta])* $flat:ident : $fty:ty, )*
        }
    ) => {
        #[derive(Default)]
        #[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
        #[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
        #[cfg_attr(feature = "openapi", serde(default))]
        $(#[$meta])*
        pub struct $name {
            $(
                $(#[$fmeta])*
                #[cfg_attr(feature = "tsify", tsify(optional))]
                pub $field: $kind,
            )*
            $(
                $(#[$xmeta])*
                #[cfg_attr(any(feature = "tsify", feature = "openapi"), serde(flatten))]
                pub $flat: $fty,
            )*
        }

        // A body holds passwords: its Debug names the type alone, never a
        // value (no secret leaves through a log line).
        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let mut map = Map::<String, Value>::deserialize(d)?;
                Ok(<$name as Shape>::take(&mut map))
            }
        }

        impl Shape for $name {
            fn take(map: &mut Map<String, Value>) -> Self {
                $name {
                    $( $field: Field::of(map.remove(stringify!($field).trim_start_matches("r#"))), )*
                    $( $flat: <$fty as Shape>::take(map), )*
                }
            }

            fn report(&self, errors: &mut FieldErrors) {
                $( self.$field.report(stringify!($field).trim_start_matches("r#"), errors); )*
                $( self.$flat.report(errors); )*
            }
        }
    };
}

shape! {
    /// The profile fields of a user body. `state_code` wins over `state`:
    /// both are accepted, since the representation carries both.
    pub struct ProfileFields {
        /// Email.
        email: Text,
        /// Phone.
        phone: Phone,
        /// First name.
        first_name: Text,
        /// Last name.
        last_name: Text,
        /// Display name.
        display_name: Text,
        /// Photo URL.
        photo: Text,
        /// Birth date, `DD/MM/YYYY`.
        birth_date: Text,
        /// Address line 1.
        address1: Text,
        /// Address line 2.
        address2: Text,
        /// City.
        city: Text,
        /// PIN code.
        zip: Text,
        /// State name or code.
        state: Text,
        /// State code (wins over `state`, unless blank beside it).
        state_code: Text,
        /// `male`, `female`, `trans` or empty.
        #[cfg_attr(feature = "tsify", tsify(type = "\"male\" | \"female\" | \"trans\" | \"\" | null"))]
        gender_code: Text,
        /// Custom values by field name.
        custom_fields: CustomValues,
    }
}

impl ProfileFields {
    /// The typed input.
    pub fn into_input(self) -> ProfileInput {
        let state_code = self.state_code.into_value();
        let state = self.state.into_value();
        // The code wins over the name, unless it is blank beside a name: a
        // user read back carries `state_code: ""` when it has no state, and
        // a client sending it back with a new `state` changes the state.
        let state = match (state_code, state) {
            (Some(code), Some(name)) if code.trim().is_empty() && !name.trim().is_empty() => {
                Some(name)
            }
            (code, name) => code.or(name),
        };
        let custom = self.custom_fields.into_value();
        ProfileInput {
            email: self.email.into_value(),
            phone: self.phone.into_value(),
            first_name: self.first_name.into_value(),
            last_name: self.last_name.into_value(),
            display_name: self.display_name.into_value(),
            photo: self.photo.into_value(),
            birth_date: self.birth_date.into_value(),
            address1: self.address1.into_value(),
            address2: self.address2.into_value(),
            city: self.city.into_value(),
            zip: self.zip.into_value(),
            state,
            gender_code: self.gender_code.into_value(),
            clear_custom_fields: matches!(custom, Some(None)),
            custom_fields: custom.flatten().unwrap_or_default(),
        }
    }
}

shape! {
    /// The access fields of seed 003.
    pub struct AccessFields {
        /// Holds every permission.
        is_superuser: Flag,
        /// May use the admin API.
        is_staff: Flag,
        /// Group ids (replaces the user's).
        groups: Ids,
        /// Own permission ids (replaces the user's).
        user_permissions: Ids,
    }
}

impl AccessFields {
    fn into_input(self) -> AccessInput {
        AccessInput {
            is_superuser: self.is_superuser.into_value(),
            is_staff: self.is_staff.into_value(),
            groups: self.groups.into_value(),
            user_permissions: self.user_permissions.into_value(),
        }
    }
}

shape! {
    /// A new user as the Testpress API takes one (`POST /admin/users/`,
    /// seed 000; the import rows).
    #[cfg_attr(feature = "openapi", schemars(transform = crate::json::schema::required::username))]
    pub struct TestpressNewUser {
        /// Username: required.
        username: Text,
        /// Password; without one the user cannot sign in until it is set.
        password: Text,
        /// May sign in (default true).
        is_active: Flag,
        /// Blocked.
        is_blocked: Flag,
        /// Batch names to join.
        batches: Texts,
        /// Expiry of those memberships, `yyyy-mm-dd`.
        expires: Text,
        ..
        /// The profile.
        profile: ProfileFields,
    }
}

impl TestpressNewUser {
    /// The typed input (no access fields: the Testpress API has none).
    pub fn into_input(self) -> domain::user::NewUser {
        domain::user::NewUser {
            username: self.username.into_value(),
            password: self.password.into_value(),
            profile: self.profile.into_input(),
            is_active: self.is_active.into_value(),
            is_blocked: self.is_blocked.into_value(),
            access: AccessInput::default(),
            batches: self.batches.into_value().unwrap_or_default(),
            expires: self.expires.into_value().filter(|e| !e.is_empty()),
        }
    }
}

shape! {
    /// A new user with seed 003's access fields (`POST /api/admin/users/`,
    /// and the typed API's `createUser`).
    pub struct NewUser {
        ..
        /// The Testpress fields.
        user: TestpressNewUser,
        ..
        /// Seed 003's access fields.
        access: AccessFields,
    }
}

impl NewUser {
    /// The typed input.
    pub fn into_input(self) -> domain::user::NewUser {
        domain::user::NewUser {
            access: self.access.into_input(),
            ..self.user.into_input()
        }
    }
}

shape! {
    /// A change to a user as the Testpress API takes one (`PUT`/`PATCH` of
    /// a user or of `me`): present fields change.
    pub struct TestpressUserPatch {
        /// New username.
        username: Text,
        /// New password.
        password: Text,
        /// May sign in.
        is_active: Flag,
        /// Blocked.
        is_blocked: Flag,
        ..
        /// The profile.
        profile: ProfileFields,
    }
}

impl TestpressUserPatch {
    /// The typed input (no access fields).
    pub fn into_input(self) -> domain::user::UserPatch {
        domain::user::UserPatch {
            username: self.username.into_value(),
            password: self.password.into_value(),
            profile: self.profile.into_input(),
            is_active: self.is_active.into_value(),
            is_blocked: self.is_blocked.into_value(),
            access: AccessInput::default(),
        }
    }
}

shape! {
    /// A change to a user with seed 003's access fields (`PUT`/`PATCH` of
    /// `/api/admin/users/<id>/`, and the typed API's `updateUser`).
    pub struct UserPatch {
        ..
        /// The Testpress fields.
        patch: TestpressUserPatch,
        ..
        /// Seed 003's access fields.
        access: AccessFields,
    }
}

impl UserPatch {
    /// The typed input.
    pub fn into_input(self) -> domain::user::UserPatch {
        domain::user::UserPatch {
            access: self.access.into_input(),
            ..self.patch.into_input()
        }
    }
}

shape! {
    /// A batch: `{name}`.
    pub struct BatchInput {
        /// Name, unique ignoring case.
        name: Text,
    }
}

impl BatchInput {
    /// The typed input.
    pub fn into_input(self) -> domain::BatchInput {
        domain::BatchInput {
            name: self.name.into_value(),
        }
    }
}

shape! {
    /// A course (seed 002).
    pub struct CourseInput {
        /// Title.
        title: Text,
        /// Slug (made from the title when absent).
        slug: Text,
        /// Description.
        description: Text,
        /// Image URL.
        image: Text,
        /// Public.
        is_public: Flag,
        /// Chapters unlock in order.
        enable_progressive_lock: Flag,
        /// Position.
        order: Int,
    }
}

impl CourseInput {
    /// The typed input.
    pub fn into_input(self) -> domain::course::CourseInput {
        domain::course::CourseInput {
            title: self.title.into_value(),
            slug: self.slug.into_value(),
            description: self.description.into_value(),
            image: self.image.into_value(),
            is_public: self.is_public.into_value(),
            enable_progressive_lock: self.enable_progressive_lock.into_value(),
            order: self.order.into_value(),
        }
    }
}

shape! {
    /// A custom field definition: `{name, type, choices, required}`.
    pub struct CustomFieldInput {
        /// Name, unique ignoring case.
        name: Text,
        /// `text`, `number`, `date` or `choice`.
        #[cfg_attr(feature = "tsify", tsify(type = "\"text\" | \"number\" | \"date\" | \"choice\""))]
        r#type: Text,
        /// The choices of a `choice` field.
        choices: Texts,
        /// Every user must have a value.
        required: Flag,
    }
}

impl CustomFieldInput {
    /// The typed input.
    pub fn into_input(self) -> domain::custom_field::CustomFieldInput {
        domain::custom_field::CustomFieldInput {
            name: self.name.into_value(),
            kind: self.r#type.into_value(),
            choices: self.choices.into_value(),
            required: self.required.into_value(),
        }
    }
}

shape! {
    /// A group (seed 003): `{name, permissions}`.
    pub struct GroupInput {
        /// Name, unique.
        name: Text,
        /// Permission ids (replaces the group's).
        permissions: Ids,
    }
}

impl GroupInput {
    /// The typed input.
    pub fn into_input(self) -> domain::group::GroupInput {
        domain::group::GroupInput {
            name: self.name.into_value(),
            permissions: self.permissions.into_value(),
        }
    }
}

shape! {
    /// `{batches}` of a user's batches or subscriptions, or a course's
    /// batches (ids), with `expires` for subscriptions.
    #[cfg_attr(feature = "openapi", schemars(transform = crate::json::schema::required::batches))]
    pub struct BatchIds {
        /// Batch ids: required.
        batches: Ids,
        /// Expiry, `yyyy-mm-dd` (subscriptions).
        expires: Text,
    }
}

shape! {
    /// `{courses}` of a user's courses (ids).
    #[cfg_attr(feature = "openapi", schemars(transform = crate::json::schema::required::courses))]
    pub struct CourseIds {
        /// Course ids: required.
        courses: Ids,
    }
}

shape! {
    /// Sign-in: `{username, password}` (`username` may be an email).
    #[cfg_attr(feature = "openapi", schemars(transform = crate::json::schema::required::sign_in))]
    pub struct SignIn {
        /// Username or email.
        username: Text,
        /// Password.
        password: Text,
    }
}

shape! {
    /// A change of the caller's own password.
    #[cfg_attr(feature = "openapi", schemars(transform = crate::json::schema::required::password_change))]
    pub struct PasswordChange {
        /// The current password.
        old_password: Text,
        /// The new one.
        new_password: Text,
    }
}

shape! {
    /// An import row: a new user, and optionally its stored password hash.
    pub struct ImportRow {
        /// A password hash as stored by roster or Django (PHC or Django's
        /// `algorithm$...` form).
        password_hash: Text,
        ..
        /// The user.
        user: TestpressNewUser,
    }
}

/// A required list of ids: its value, with "This field is required." when
/// absent.
pub(crate) fn required_ids(field: Ids, name: &str, errors: &mut FieldErrors) -> Vec<u64> {
    if !field.is_sent() {
        errors.add(name, crate::domain::rules::REQUIRED);
    }
    field.into_value().unwrap_or_default()
}
