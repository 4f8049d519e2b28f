//! The Sunbird request bodies (seed 004): `{"request": {...}}` with
//! camelCase keys, one type per documented body, read without failing. A
//! value of the wrong type is kept as its expected type's name, so the
//! surface can answer with the reference's "Data type of {0} should be
//! {1}." for the first one, in the order the fields are declared. Unknown
//! keys are ignored.
//!
//! The seed's leniencies are kept: a phone, a `loginId`, a location code
//! and an external id may be a number (no other text field: SPEC A5),
//! `firstname` and `lastname` are the v3 spellings of `firstName`
//! and `lastName` (every version accepts both), `externalIds` may be one
//! object instead of a list, `profileUserType` is one user type and
//! `profileUserTypes` a list, and an organisation id may be a number or a
//! digit string.
//!
//! Each field is a [`Field`] of `json::request`, read by a Sunbird rule
//! ([`rule`]) whose one message is the name of the type it expects
//! (`String`, `Boolean`, `List`, `Map`). With the cargo feature `tsify` the
//! bodies declare themselves in TypeScript under their wire names.

use super::request::{Field, Rule};
use crate::domain::sunbird::{
    Condition, DeclarationChange, DeclarationOperation, Filter, FilterGroup, Filters, RoleChange,
    RoleOperation, SearchRequest, SortBy, SunbirdInput, fault,
};
use crate::error::{Error, ErrorCode};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// The rules of the Sunbird fields: what each accepts, and the type name
/// the reference's message gives when it is something else.
pub mod rule {
    use super::Body;
    use crate::domain::sunbird::{ExternalId, Location, UserType};
    use crate::json::request::{Rule, rule::Phone};
    use serde_json::{Map, Value};
    use std::marker::PhantomData;

    /// The one message of a value of the wrong type: the type expected.
    fn wrong<T>(kind: &str) -> Result<T, Vec<String>> {
        Err(vec![kind.to_string()])
    }

    /// Text: a string, or `""` for `null`. A number is not text (SPEC A5:
    /// types are not coerced), but where the documents send one: see
    /// [`code`].
    pub(super) fn text(value: Value) -> Option<String> {
        match value {
            Value::String(s) => Some(s),
            Value::Null => Some(String::new()),
            _ => None,
        }
    }

    /// A code: text, or a whole number's digits, as `json::request`'s phone
    /// rule reads it. The fields the documents send as numbers: phones
    /// (A5), location codes, external ids, and a `loginId` (a phone).
    pub(super) fn code(value: Value) -> Option<String> {
        Phone::read(value).ok()
    }

    /// A text field (`String`).
    #[derive(Debug, Clone, PartialEq)]
    pub struct Text;
    impl Rule for Text {
        type Out = String;
        fn read(value: Value) -> Result<String, Vec<String>> {
            text(value).map_or_else(|| wrong("String"), Ok)
        }
    }

    /// A code field: text, or a whole number's digits (`String`).
    #[derive(Debug, Clone, PartialEq)]
    pub struct Code;
    impl Rule for Code {
        type Out = String;
        fn read(value: Value) -> Result<String, Vec<String>> {
            code(value).map_or_else(|| wrong("String"), Ok)
        }
    }

    /// A boolean, or `"true"`/`"false"` in any case (`Boolean`).
    #[derive(Debug, Clone, PartialEq)]
    pub struct Flag;
    impl Rule for Flag {
        type Out = bool;
        fn read(value: Value) -> Result<bool, Vec<String>> {
            match value {
                Value::Bool(b) => Ok(b),
                Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
                Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
                _ => wrong("Boolean"),
            }
        }
    }

    /// A list of texts; one string reads as a list of it, `null` as the
    /// empty list (`List`).
    #[derive(Debug, Clone, PartialEq)]
    pub struct Texts;
    impl Rule for Texts {
        type Out = Vec<String>;
        fn read(value: Value) -> Result<Vec<String>, Vec<String>> {
            let out = match value {
                Value::Array(items) => items.into_iter().map(text).collect(),
                Value::String(s) => Some(vec![s]),
                Value::Null => Some(Vec::new()),
                _ => None,
            };
            out.map_or_else(|| wrong("List"), Ok)
        }
    }

    /// A JSON object, kept as its text; `null` is `""` (`Map`).
    #[derive(Debug, Clone, PartialEq)]
    pub struct MapText;
    impl Rule for MapText {
        type Out = String;
        fn read(value: Value) -> Result<String, Vec<String>> {
            match value {
                Value::Object(_) => Ok(value.to_string()),
                Value::Null => Ok(String::new()),
                _ => wrong("Map"),
            }
        }
    }

    /// A list of JSON objects, kept as its text; `null` is `""` (`List`).
    #[derive(Debug, Clone, PartialEq)]
    pub struct MapsText;
    impl Rule for MapsText {
        type Out = String;
        fn read(value: Value) -> Result<String, Vec<String>> {
            match &value {
                Value::Array(items) if items.iter().all(Value::is_object) => Ok(value.to_string()),
                Value::Null => Ok(String::new()),
                _ => wrong("List"),
            }
        }
    }

    /// A JSON object as it is: the open objects (`filters`, `sort_by`)
    /// (`Map`; `null` is of the wrong type).
    #[derive(Debug, Clone, PartialEq)]
    pub struct Object;
    impl Rule for Object {
        type Out = Map<String, Value>;
        fn read(value: Value) -> Result<Self::Out, Vec<String>> {
            match value {
                Value::Object(m) => Ok(m),
                _ => wrong("Map"),
            }
        }
    }

    /// A whole number, or its digits as text (`String`). A number beyond
    /// roster's ids (2^53 and above, like the seed's
    /// `1297544481264435200`) names no organisation; one beyond 64 bits
    /// reads as `u64::MAX`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Number;
    impl Rule for Number {
        type Out = u64;
        fn read(value: Value) -> Result<u64, Vec<String>> {
            super::org_id(value).map_or_else(|| wrong("String"), Ok)
        }
    }

    /// A list of objects, each read as the body type `T`, whose own fields
    /// are checked by the operation (`List`; `null` is of the wrong type).
    #[derive(Debug, Clone, PartialEq)]
    pub struct Items<T>(PhantomData<T>);
    impl<T: Body> Rule for Items<T> {
        type Out = Vec<T>;
        fn read(value: Value) -> Result<Vec<T>, Vec<String>> {
            let items = match value {
                Value::Array(items) => items,
                _ => return wrong("List"),
            };
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::Object(mut m) => out.push(T::take(&mut m)),
                    _ => return wrong("List"),
                }
            }
            Ok(out)
        }
    }

    /// One object or a list of them, each read whole by `item` (any item
    /// that does not read makes the field `List`); `null` is the empty
    /// list.
    fn objects<T>(
        value: Value,
        item: fn(&Map<String, Value>) -> Option<T>,
    ) -> Result<Vec<T>, Vec<String>> {
        let out = match value {
            Value::Array(items) => items.iter().map(|i| i.as_object().and_then(item)).collect(),
            Value::Object(m) => item(&m).map(|one| vec![one]),
            Value::Null => Some(Vec::new()),
            _ => None,
        };
        out.map_or_else(|| wrong("List"), Ok)
    }

    /// The text under `key` of `m`, which must be there.
    fn key(m: &Map<String, Value>, key: &str) -> Option<String> {
        text(m.get(key)?.clone())
    }

    /// The code under `key` of `m` ([`code`]), which must be there.
    fn code_at(m: &Map<String, Value>, key: &str) -> Option<String> {
        code(m.get(key)?.clone())
    }

    /// `profileLocation`: `{code, type}` or a list of them.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Locations;
    impl Rule for Locations {
        type Out = Vec<Location>;
        fn read(value: Value) -> Result<Self::Out, Vec<String>> {
            objects(value, |m| {
                Some(Location {
                    code: code_at(m, "code")?,
                    kind: key(m, "type")?,
                })
            })
        }
    }

    /// `profileUserType(s)`: `{type, subType}` or a list of them (`subType`
    /// may be left out).
    #[derive(Debug, Clone, PartialEq)]
    pub struct UserTypes;
    impl Rule for UserTypes {
        type Out = Vec<UserType>;
        fn read(value: Value) -> Result<Self::Out, Vec<String>> {
            objects(value, |m| {
                Some(UserType {
                    kind: key(m, "type")?,
                    sub_kind: match m.get("subType") {
                        None => String::new(),
                        Some(v) => text(v.clone())?,
                    },
                })
            })
        }
    }

    /// `externalIds`: `{id, provider, idType}` or a list of them.
    #[derive(Debug, Clone, PartialEq)]
    pub struct ExternalIds;
    impl Rule for ExternalIds {
        type Out = Vec<ExternalId>;
        fn read(value: Value) -> Result<Self::Out, Vec<String>> {
            objects(value, |m| {
                Some(ExternalId {
                    id: code_at(m, "id")?,
                    provider: key(m, "provider")?,
                    id_type: key(m, "idType")?,
                })
            })
        }
    }
}

/// A text field: a string, or `null` (`""`).
pub type SunbirdText = Field<rule::Text>;
/// A code field (phones, external ids, a `loginId`): a string, a whole
/// number (its digits), or `null` (`""`).
pub type SunbirdCode = Field<rule::Code>;
/// A boolean, or `"true"`/`"false"` in any case.
pub type SunbirdFlag = Field<rule::Flag>;
/// A list of texts, one string, or `null` (none).
pub type SunbirdTexts = Field<rule::Texts>;
/// A JSON object, kept as its text.
pub type SunbirdMap = Field<rule::MapText>;
/// A list of JSON objects, kept as its text.
pub type SunbirdMaps = Field<rule::MapsText>;
/// A whole number, or its digits as text (organisation ids, `limit`).
pub type SunbirdNumber = Field<rule::Number>;
/// The filters of a search: an open object (see [`SunbirdSearch`]).
pub type SunbirdFilters = Field<rule::Object>;
/// The order of a search: `{field: "asc" | "desc"}`.
pub type SunbirdSortBy = Field<rule::Object>;
/// `profileLocation`.
pub type SunbirdLocations = Field<rule::Locations>;
/// `profileUserType(s)`.
pub type SunbirdUserTypes = Field<rule::UserTypes>;
/// `externalIds`.
pub type SunbirdExternalIds = Field<rule::ExternalIds>;
/// A list of objects, each read as the body type `T`.
pub type Items<T> = Field<rule::Items<T>>;

// The TypeScript of the field types above (tsify declares the bodies).
#[cfg(feature = "tsify")]
#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const FIELD_TYPES: &'static str = r#"
/** Sunbird text: a string; `null` is `""`. */
export type SunbirdText = string | null;
/** A Sunbird code (a phone, an external id, a `loginId`): a string, or a whole number (its digits); `null` is `""`. */
export type SunbirdCode = string | number | null;
/** A boolean, or `"true"`/`"false"` in any case. */
export type SunbirdFlag = boolean | "true" | "false" | "True" | "False" | "TRUE" | "FALSE";
/** A list of texts; one string is a list of it, `null` none. */
export type SunbirdTexts = (string | null)[] | string | null;
/** A JSON object. */
export type SunbirdMap = Record<string, unknown> | null;
/** A list of JSON objects. */
export type SunbirdMaps = Record<string, unknown>[] | null;
/** A whole number, or its digits as text. */
export type SunbirdNumber = number | string;
/** A scalar a search filter compares with. */
export type SunbirdScalar = string | number | boolean;
/** One filter: a value, a list of values (any of them), a prefix, a suffix, or a range. */
export type SunbirdCondition =
  | SunbirdScalar
  | SunbirdScalar[]
  | { startsWith: SunbirdScalar }
  | { endsWith: SunbirdScalar }
  | { "<"?: SunbirdScalar; "<="?: SunbirdScalar; ">"?: SunbirdScalar; ">="?: SunbirdScalar };
/**
 * The filters of a search: field name to its condition, every one must
 * hold; `$or` holds groups (`{field: condition}`, or a list of such
 * objects), any one of which must hold.
 */
export type SunbirdFilters = {
  [field: string]: SunbirdCondition | Record<string, SunbirdCondition> | Record<string, SunbirdCondition>[];
};
/** The order of a search: `{field: "asc" | "desc"}` (any case; the first key counts). */
export type SunbirdSortBy = Record<string, string>;
/** A location of a user's profile. */
export interface SunbirdLocation { code: SunbirdCode; type: SunbirdText }
/** `profileLocation`: one location or a list of them. */
export type SunbirdLocations = SunbirdLocation | SunbirdLocation[] | null;
/** A user type and its subtype. */
export interface SunbirdUserType { type: SunbirdText; subType?: SunbirdText }
/** `profileUserType(s)`: one user type or a list of them. */
export type SunbirdUserTypes = SunbirdUserType | SunbirdUserType[] | null;
/** An id of the user at a provider. */
export interface SunbirdExternalId { id: SunbirdCode; provider: SunbirdText; idType: SunbirdText }
/** `externalIds`: one id or a list of them. */
export type SunbirdExternalIds = SunbirdExternalId | SunbirdExternalId[] | null;
"#;

/// A Sunbird body type: read from a JSON object without failing, its first
/// field of the wrong type reported by [`Body::first_wrong`].
pub trait Body: for<'de> Deserialize<'de> + Default {
    /// Takes this type's fields out of `map` (the rest stay for the body
    /// types it is flattened beside).
    fn take(map: &mut Map<String, Value>) -> Self;
    /// The first field of the wrong type, in the order the fields are
    /// declared: its wire name and the name of the type expected.
    fn first_wrong(&self) -> Option<(&'static str, &str)>;
}

/// The reference's answer to a field of the wrong type: "Data type of
/// {field} should be {kind}.", numbered `0003`.
pub fn type_error(field: &str, kind: &str) -> Error {
    let field = crate::text::clip(field);
    Error::new(
        ErrorCode::Validation,
        format!("Data type of {field} should be {kind}."),
    )
    .numbered("0003")
}

/// Fails with [`type_error`] when `body` has a field of the wrong type.
pub fn check<T: Body>(body: &T) -> Result<(), Error> {
    match body.first_wrong() {
        Some((field, kind)) => Err(type_error(field, kind)),
        None => Ok(()),
    }
}

/// Reads `map` as the body `T`: its first field of the wrong type is the
/// error.
pub fn read<T: Body>(mut map: Map<String, Value>) -> Result<T, Error> {
    let body = T::take(&mut map);
    check(&body)?;
    Ok(body)
}

/// Declares a Sunbird body type: its fields (`name ("wireName"): Kind`,
/// read in that order; `name ("wire" unless other): Kind` is read only
/// when the field `other` was not sent), and those of other body types it
/// takes in (`..name: Type`, flattened, read after). A key is read once.
macro_rules! body {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident ($wire:literal $(unless $other:ident)?) : $kind:ty, )*
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
                #[cfg_attr(any(feature = "tsify", feature = "openapi"), serde(rename = $wire))]
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
                Ok(<$name as Body>::take(&mut map))
            }
        }

        impl Body for $name {
            fn take(map: &mut Map<String, Value>) -> Self {
                $(
                    let $field: $kind = $( if $other.is_sent() { Field::default() } else )? {
                        Field::of(map.remove($wire))
                    };
                )*
                $( let $flat = <$fty as Body>::take(map); )*
                $name { $( $field, )* $( $flat, )* }
            }

            fn first_wrong(&self) -> Option<(&'static str, &str)> {
                $(
                    if let Some(kind) = self.$field.problem() {
                        return Some(($wire, kind));
                    }
                )*
                $(
                    if let Some(found) = self.$flat.first_wrong() {
                        return Some(found);
                    }
                )*
                None
            }
        }
    };
}

body! {
    /// A user as the create routes take it (S1-S3: `/api/user/v1-v3/create`,
    /// `v4/create`, `v1/managed/create`, `v1/sso/create`, `v1-v2/signup`),
    /// and the user fields of an update (S5).
    pub struct SunbirdUserBody {
        /// A list of user types (wins over `profileUserType` when sent).
        profile_user_types ("profileUserTypes"): SunbirdUserTypes,
        /// One user type (a list is accepted too).
        profile_user_type ("profileUserType"): SunbirdUserTypes,
        /// First name (wins over `firstname` when sent).
        first_name ("firstName"): SunbirdText,
        /// First name, the v3 spelling.
        firstname ("firstname"): SunbirdText,
        /// Last name (wins over `lastname` when sent).
        last_name ("lastName"): SunbirdText,
        /// Last name, the v3 spelling.
        lastname ("lastname"): SunbirdText,
        /// User name; generated on create when absent.
        user_name ("userName"): SunbirdText,
        /// Email; `""` on create means absent.
        email ("email"): SunbirdText,
        /// Phone (a number is its digits).
        phone ("phone"): SunbirdCode,
        /// Password.
        password ("password"): SunbirdText,
        /// Birth date: `YYYY-MM-DD`, or `YYYY`.
        dob ("dob"): SunbirdText,
        /// Gender.
        gender ("gender"): SunbirdText,
        /// Image URL.
        avatar ("avatar"): SunbirdText,
        /// Email verified.
        email_verified ("emailVerified"): SunbirdFlag,
        /// Phone verified.
        phone_verified ("phoneVerified"): SunbirdFlag,
        /// Recovery email.
        recovery_email ("recoveryEmail"): SunbirdText,
        /// Recovery phone.
        recovery_phone ("recoveryPhone"): SunbirdCode,
        /// Languages.
        language ("language"): SunbirdTexts,
        /// Grades.
        grade ("grade"): SunbirdTexts,
        /// Subjects.
        subject ("subject"): SunbirdTexts,
        /// Profile summary.
        profile_summary ("profileSummary"): SunbirdText,
        /// Framework (an object, kept as sent).
        framework ("framework"): SunbirdMap,
        /// Addresses (objects, kept as sent).
        address ("address"): SunbirdMaps,
        /// Education (objects, kept as sent).
        education ("education"): SunbirdMaps,
        /// Job profile (objects, kept as sent).
        job_profile ("jobProfile"): SunbirdMaps,
        /// Locations.
        profile_location ("profileLocation"): SunbirdLocations,
        /// Ids at providers: one object or a list.
        external_ids ("externalIds"): SunbirdExternalIds,
        /// The tenant's channel.
        channel ("channel"): SunbirdText,
        /// The organisation's external id.
        org_external_id ("orgExternalId"): SunbirdCode,
        /// The managing user (managed create).
        managed_by ("managedBy"): SunbirdText,
    }
}

/// The first sent of two spellings of a field (even one of the wrong
/// type, which then reads as nothing).
fn first_sent<R: Rule>(one: Field<R>, other: Field<R>) -> Option<R::Out> {
    match one.is_sent() {
        true => one.into_value(),
        false => other.into_value(),
    }
}

impl SunbirdUserBody {
    /// The typed input; without `locations_and_types` (v1 update)
    /// `profileLocation` and the user types are left out.
    pub fn into_input(self, locations_and_types: bool) -> SunbirdInput {
        let user_types = first_sent(self.profile_user_types, self.profile_user_type);
        let locations = self.profile_location.into_value();
        let (locations, user_types) = match locations_and_types {
            true => (locations, user_types),
            false => (None, None),
        };
        SunbirdInput {
            first_name: first_sent(self.first_name, self.firstname),
            last_name: first_sent(self.last_name, self.lastname),
            user_name: self.user_name.into_value(),
            email: self.email.into_value(),
            phone: self.phone.into_value(),
            password: self.password.into_value(),
            dob: self.dob.into_value(),
            gender: self.gender.into_value(),
            avatar: self.avatar.into_value(),
            email_verified: self.email_verified.into_value(),
            phone_verified: self.phone_verified.into_value(),
            recovery_email: self.recovery_email.into_value(),
            recovery_phone: self.recovery_phone.into_value(),
            language: self.language.into_value(),
            grade: self.grade.into_value(),
            subject: self.subject.into_value(),
            profile_summary: self.profile_summary.into_value(),
            framework: self.framework.into_value(),
            address: self.address.into_value(),
            education: self.education.into_value(),
            job_profile: self.job_profile.into_value(),
            locations,
            user_types,
            external_ids: self.external_ids.into_value(),
            channel: self.channel.into_value(),
            org_external_id: self.org_external_id.into_value(),
            managed_by: self.managed_by.into_value(),
        }
    }
}

body! {
    /// An update of a user (S5: `/api/user/v1-v3/update`): whose, and the
    /// user fields (v1 ignores `profileLocation` and the user types).
    pub struct SunbirdUserUpdate {
        /// The user (wins over `id`).
        user_id ("userId"): SunbirdText,
        /// The user, when `userId` is not sent.
        id ("id" unless user_id): SunbirdText,
        ..
        /// The fields that change.
        user: SunbirdUserBody,
    }
}

impl SunbirdUserUpdate {
    /// The user addressed (`userId`, else `id`) and the typed input (see
    /// [`SunbirdUserBody::into_input`]).
    pub fn into_parts(self, locations_and_types: bool) -> (Option<String>, SunbirdInput) {
        let user_id = self.user_id.into_value().or(self.id.into_value());
        (user_id, self.user.into_input(locations_and_types))
    }
}

body! {
    /// A profile read by login (`/api/user/v1/profile/read`).
    #[cfg_attr(feature = "openapi", schemars(transform = crate::json::schema::required::login_id))]
    pub struct SunbirdProfileRead {
        /// The login: email, phone or user name. Required.
        login_id ("loginId"): SunbirdCode,
    }
}

body! {
    /// A block or unblock (`/api/user/v1/block`, `/api/user/v1/unblock`).
    pub struct SunbirdBlock {
        /// The user.
        user_id ("userId"): SunbirdText,
    }
}

body! {
    /// A new organisation (`/api/org/v1/create`).
    #[cfg_attr(feature = "openapi", schemars(transform = crate::json::schema::required::org_create))]
    pub struct SunbirdOrgCreate {
        /// Name, required.
        org_name ("orgName"): SunbirdText,
        /// Type, required.
        organisation_type ("organisationType"): SunbirdText,
        /// Channel: required and unique for a tenant.
        channel ("channel"): SunbirdText,
        /// Whether it is a tenant, required.
        is_tenant ("isTenant"): SunbirdFlag,
        /// Email.
        email ("email"): SunbirdText,
        /// External id.
        external_id ("externalId"): SunbirdCode,
    }
}

impl SunbirdOrgCreate {
    /// The typed input.
    pub fn into_input(self) -> crate::api::sunbird::OrgInput {
        crate::api::sunbird::OrgInput {
            name: self.org_name.into_value(),
            org_type: self.organisation_type.into_value(),
            channel: self.channel.into_value(),
            is_tenant: self.is_tenant.into_value(),
            email: self.email.into_value(),
            external_id: self.external_id.into_value(),
        }
    }
}

body! {
    /// An organisation read (`/api/org/v1/read`).
    #[cfg_attr(feature = "openapi", schemars(transform = crate::json::schema::required::organisation_id))]
    pub struct SunbirdOrgRead {
        /// The organisation, required: a number or its digits.
        organisation_id ("organisationId"): SunbirdNumber,
    }
}

body! {
    /// An organisation search (S13's listing: `/api/org/v1/search`).
    #[cfg_attr(feature = "openapi", schemars(transform = crate::json::schema::required::filters))]
    pub struct SunbirdOrgSearch {
        /// The filters, required (`{}`: every organisation).
        filters ("filters"): SunbirdFilters,
        /// At most this many organisations.
        limit ("limit"): SunbirdNumber,
        /// Organisations skipped first (default 0).
        offset ("offset"): SunbirdNumber,
    }
}

impl SunbirdOrgSearch {
    /// The typed request.
    pub fn into_request(self) -> Result<crate::api::sunbird::OrgSearch, Error> {
        let filters = match self.filters.into_value() {
            Some(map) => filters_of(map)?,
            None => return Err(fault::missing("filters")),
        };
        Ok(crate::api::sunbird::OrgSearch {
            filters,
            limit: self.limit.into_value(),
            offset: self.offset.into_value().unwrap_or(0),
        })
    }
}

body! {
    /// A search (S4: `/api/user/v1-v3/search`).
    #[cfg_attr(feature = "openapi", schemars(transform = crate::json::schema::required::filters))]
    pub struct SunbirdSearch {
        /// The filters, required.
        filters ("filters"): SunbirdFilters,
        /// Free text matched against names, user names and contacts.
        query ("query"): SunbirdText,
        /// The keys of each user answered (all when absent or empty).
        fields ("fields"): SunbirdTexts,
        /// The order.
        sort_by ("sort_by"): SunbirdSortBy,
        /// At most this many users.
        limit ("limit"): SunbirdNumber,
        /// Users skipped first (default 0).
        offset ("offset"): SunbirdNumber,
    }
}

impl SunbirdSearch {
    /// The typed request, and the keys to answer (`None`: all).
    pub fn into_request(self) -> Result<(SearchRequest, Option<Vec<String>>), Error> {
        let filters = match self.filters.into_value() {
            Some(map) => filters_of(map)?,
            None => return Err(fault::missing("filters")),
        };
        let sort_by = match self.sort_by.into_value() {
            None => None,
            Some(map) => match map.into_iter().next() {
                None => None,
                Some((key, order)) => {
                    let descending = match order.as_str().map(str::to_ascii_lowercase).as_deref() {
                        Some("asc") => false,
                        Some("desc") => true,
                        _ => return Err(fault::invalid_value(&order.to_string(), "sort_by")),
                    };
                    Some(SortBy { key, descending })
                }
            },
        };
        let request = SearchRequest {
            filters,
            query: self.query.into_value(),
            limit: self.limit.into_value(),
            offset: self.offset.into_value().unwrap_or(0),
            sort_by,
        };
        let fields = self.fields.into_value().filter(|f| !f.is_empty());
        Ok((request, fields))
    }
}

/// The filters of a search body: each key's condition, `$or` as groups.
fn filters_of(map: Map<String, Value>) -> Result<Filters, Error> {
    let or_type = || type_error("$or", "Map");
    let mut filters = Filters::default();
    for (key, value) in map {
        if key == "$or" {
            let groups = match value {
                Value::Object(m) => m
                    .into_iter()
                    .map(|(k, v)| Map::from_iter([(k, v)]))
                    .collect(),
                Value::Array(items) => items
                    .into_iter()
                    .map(|i| match i {
                        Value::Object(m) => Ok(m),
                        _ => Err(or_type()),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                _ => return Err(or_type()),
            };
            for group in groups {
                let mut all = Vec::new();
                for (k, v) in group {
                    let condition = condition(&k, v)?;
                    all.push(Filter { key: k, condition });
                }
                filters.any.push(FilterGroup { all });
            }
            continue;
        }
        let condition = condition(&key, value)?;
        filters.all.push(Filter { key, condition });
    }
    Ok(filters)
}

/// One filter's condition.
fn condition(key: &str, value: Value) -> Result<Condition, Error> {
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let null = || fault::invalid_value("null", key);
    match value {
        Value::Null => Err(null()),
        Value::Array(items) => Ok(Condition::AnyOf(
            items
                .iter()
                .map(text)
                .collect::<Option<Vec<_>>>()
                .ok_or_else(null)?,
        )),
        Value::Object(ops) => {
            let (mut lt, mut le, mut gt, mut ge) = (None, None, None, None);
            let mut out = None;
            for (op, v) in ops {
                let v = text(&v).ok_or_else(null)?;
                match op.as_str() {
                    "<" => lt = Some(v),
                    "<=" => le = Some(v),
                    ">" => gt = Some(v),
                    ">=" => ge = Some(v),
                    "startsWith" => out = Some(Condition::StartsWith(v)),
                    "endsWith" => out = Some(Condition::EndsWith(v)),
                    other => return Err(fault::invalid_value(other, key)),
                }
            }
            Ok(
                match (out, [&lt, &le, &gt, &ge].iter().any(|b| b.is_some())) {
                    (Some(c), false) => c,
                    (None, true) => Condition::Range { lt, le, gt, ge },
                    _ => return Err(fault::invalid_value("{...}", key)),
                },
            )
        }
        other => Ok(Condition::AnyOf(vec![text(&other).ok_or_else(null)?])),
    }
}

body! {
    /// A role assignment of v1 (`/api/user/v1/role/assign`): the user's
    /// roles at one organisation (or at the root one), replaced.
    #[cfg_attr(feature = "openapi", schemars(transform = crate::json::schema::required::roles))]
    pub struct SunbirdAssignRoles {
        /// The user.
        user_id ("userId"): SunbirdText,
        /// The organisation: a number or its digits.
        organisation_id ("organisationId"): SunbirdNumber,
        /// The roles, required.
        roles ("roles"): SunbirdTexts,
    }
}

body! {
    /// A role assignment of v2 (`/api/user/v2/role/assign`): changes, each
    /// adding, removing or editing one role's scope.
    #[cfg_attr(feature = "openapi", schemars(transform = crate::json::schema::required::roles))]
    pub struct SunbirdAssignRolesV2 {
        /// The user.
        user_id ("userId"): SunbirdText,
        /// The changes, required.
        #[cfg_attr(feature = "tsify", tsify(type = "SunbirdRoleChange[]"))]
        roles ("roles"): Items<SunbirdRoleChange>,
    }
}

body! {
    /// One change of a v2 role assignment.
    #[cfg_attr(feature = "openapi", schemars(transform = crate::json::schema::required::role))]
    pub struct SunbirdRoleChange {
        /// The role, required.
        role ("role"): SunbirdText,
        /// `add` (the default), `remove` or `edit`, any case.
        #[cfg_attr(
            feature = "tsify",
            tsify(type = "\"add\" | \"remove\" | \"edit\" | \"ADD\" | \"REMOVE\" | \"EDIT\" | \"\" | null")
        )]
        operation ("operation"): SunbirdText,
        /// The organisations the role holds at.
        #[cfg_attr(feature = "tsify", tsify(type = "SunbirdRoleScope[]"))]
        scope ("scope"): Items<SunbirdRoleScope>,
    }
}

body! {
    /// One organisation of a role's scope.
    pub struct SunbirdRoleScope {
        /// The organisation: a number or its digits.
        organisation_id ("organisationId"): SunbirdNumber,
    }
}

impl SunbirdRoleChange {
    /// The typed change, checked in order: its types, its role, its
    /// operation, then each scope's organisation.
    pub fn into_change(self) -> Result<RoleChange, Error> {
        check(&self)?;
        let role = self.role.into_value().filter(|x| !x.trim().is_empty());
        let role = role.ok_or_else(|| fault::missing("role"))?;
        let operation = match self
            .operation
            .into_value()
            .map(|o| o.trim().to_ascii_lowercase())
        {
            None => RoleOperation::Add,
            Some(o) if o.is_empty() || o == "add" => RoleOperation::Add,
            Some(o) if o == "remove" => RoleOperation::Remove,
            Some(o) if o == "edit" => RoleOperation::Edit,
            Some(o) => return Err(fault::invalid_value(&o, "operation")),
        };
        let mut scope = Vec::new();
        for s in self.scope.into_value().unwrap_or_default() {
            check(&s)?;
            let id = s.organisation_id.into_value();
            scope.push(id.ok_or_else(|| fault::invalid_value("null", "scope.organisationId"))?);
        }
        Ok(RoleChange {
            role,
            operation,
            scope,
        })
    }
}

body! {
    /// An acceptance of terms (`/api/user/v1/tnc/accept`).
    pub struct SunbirdAcceptTerms {
        /// The version accepted.
        version ("version"): SunbirdText,
        /// The user accepting (default: the caller).
        user_id ("userId"): SunbirdText,
        /// The kind of terms (default: the platform's).
        tnc_type ("tncType"): SunbirdText,
    }
}

body! {
    /// Changes of self-declarations (`/api/user/v1/declarations`).
    pub struct SunbirdDeclarations {
        /// The changes.
        #[cfg_attr(feature = "tsify", tsify(type = "SunbirdDeclaration[]"))]
        declarations ("declarations"): Items<SunbirdDeclaration>,
    }
}

body! {
    /// One self-declaration change.
    pub struct SunbirdDeclaration {
        /// `add` (the default), `edit` or `remove`, any case.
        #[cfg_attr(
            feature = "tsify",
            tsify(type = "\"add\" | \"edit\" | \"remove\" | \"ADD\" | \"EDIT\" | \"REMOVE\" | null")
        )]
        operation ("operation"): SunbirdText,
        /// The user declaring.
        user_id ("userId"): SunbirdText,
        /// The organisation declared to.
        org_id ("orgId"): SunbirdCode,
        /// The persona (`teacher`, ...).
        persona ("persona"): SunbirdText,
        /// What is declared (an object, kept as sent).
        info ("info"): SunbirdMap,
    }
}

impl SunbirdDeclaration {
    /// The typed change, checked in order: its types, then its operation.
    pub fn into_change(self) -> Result<DeclarationChange, Error> {
        check(&self)?;
        let operation = match self
            .operation
            .into_value()
            .map(|o| o.trim().to_ascii_lowercase())
        {
            None => DeclarationOperation::Add,
            Some(o) if o == "add" => DeclarationOperation::Add,
            Some(o) if o == "edit" => DeclarationOperation::Edit,
            Some(o) if o == "remove" => DeclarationOperation::Remove,
            Some(o) => return Err(fault::invalid_value(&o, "operation")),
        };
        Ok(DeclarationChange {
            operation,
            user_id: self.user_id.into_value().unwrap_or_default(),
            org_id: self.org_id.into_value().unwrap_or_default(),
            persona: self.persona.into_value().unwrap_or_default(),
            info: self.info.into_value().unwrap_or_default(),
        })
    }
}

body! {
    /// A merge of two accounts (`/api/user/v1/account/merge`).
    pub struct SunbirdMerge {
        /// The account merged away.
        from_account_id ("fromAccountId"): SunbirdText,
        /// The account kept.
        to_account_id ("toAccountId"): SunbirdText,
    }
}

body! {
    /// A migration claim answered (`/api/user/v1/migrate`).
    #[cfg_attr(feature = "openapi", schemars(transform = crate::json::schema::required::action))]
    pub struct SunbirdMigrate {
        /// The user.
        user_id ("userId"): SunbirdText,
        /// The tenant's channel.
        channel ("channel"): SunbirdText,
        /// `accept` or `reject`, any case; required.
        #[cfg_attr(
            feature = "tsify",
            tsify(type = "\"accept\" | \"reject\" | \"ACCEPT\" | \"REJECT\" | string")
        )]
        action ("action"): SunbirdText,
        /// The user's id at the tenant, to confirm the claim.
        user_ext_id ("userExtId"): SunbirdCode,
        /// The notification the claim came from (kept by no one in
        /// process).
        feed_id ("feedId"): SunbirdText,
    }
}

body! {
    /// A system setting set (`/api/data/v1/system/settings/set`).
    pub struct SunbirdSystemSetting {
        /// The setting.
        id ("id"): SunbirdText,
        /// Its field.
        field ("field"): SunbirdText,
        /// The value.
        value ("value"): SunbirdText,
    }
}

/// An organisation id: a whole number, or its digits as text. A number
/// beyond roster's ids (2^53 and above) names no organisation, and keeps
/// its value, so that a refusal names the number sent (the seed's
/// `1297544481264435200`); one beyond 64 bits reads as `u64::MAX`, which
/// names none either.
pub fn org_id(v: Value) -> Option<u64> {
    let digits = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => return None,
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse::<u64>().unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    /// The body read whole (none of its fields checked).
    fn take<T: Body>(v: Value) -> T {
        T::take(&mut map(v))
    }

    /// The message and number of the body's type error.
    fn refused<T: Body + std::fmt::Debug>(v: Value) -> (String, Option<String>) {
        let e = read::<T>(map(v)).expect_err("a type error");
        (e.message().to_string(), e.reference().map(str::to_string))
    }

    #[test]
    fn the_seed_spellings_read() {
        let body: SunbirdUserBody = read(map(json!({
            "firstname": "first name", "lastname": "last name", "phone": 8888888888u64,
            "externalIds": {"id": "2176105,", "provider": "P", "idType": "T"},
            "profileUserType": {"type": "administrator", "subType": "deo"},
        })))
        .expect("read");
        let input = body.into_input(true);
        assert_eq!(input.first_name.as_deref(), Some("first name"));
        assert_eq!(input.last_name.as_deref(), Some("last name"));
        assert_eq!(input.phone.as_deref(), Some("8888888888"));
        assert_eq!(input.external_ids.unwrap()[0].id, "2176105,");
        assert_eq!(input.user_types.unwrap()[0].sub_kind, "deo");
    }

    #[test]
    fn the_camel_case_spelling_and_the_list_win() {
        let body: SunbirdUserBody = take(json!({
            "firstName": "A", "firstname": "B", "lastname": "C",
            "profileUserTypes": [{"type": "teacher"}, {"type": "parent", "subType": null}],
            "profileUserType": {"type": "administrator"},
            "externalIds": [{"id": 7, "provider": "P", "idType": "T"}],
            "profileLocation": {"code": "29", "type": "state"},
        }));
        let input = body.into_input(true);
        assert_eq!(input.first_name.as_deref(), Some("A"));
        assert_eq!(input.last_name.as_deref(), Some("C"));
        let kinds: Vec<_> = input
            .user_types
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect();
        assert_eq!(kinds, ["teacher", "parent"]);
        assert_eq!(input.external_ids.unwrap()[0].id, "7");
        assert_eq!(input.locations.unwrap()[0].code, "29");
    }

    #[test]
    fn a_spelling_sent_with_the_wrong_type_still_wins() {
        let body: SunbirdUserBody = take(json!({"firstName": 1.5, "firstname": "B"}));
        assert_eq!(body.first_wrong(), Some(("firstName", "String")));
        assert_eq!(body.into_input(true).first_name, None);
        // The other spelling is checked too.
        let body: SunbirdUserBody = take(json!({"firstName": "A", "firstname": [1]}));
        assert_eq!(body.first_wrong(), Some(("firstname", "String")));
    }

    #[test]
    fn the_first_wrong_type_in_reading_order_is_the_answer() {
        let (message, number) =
            refused::<SunbirdUserBody>(json!({"language": 3, "firstName": ["x"]}));
        assert_eq!(message, "Data type of firstName should be String.");
        assert_eq!(number.as_deref(), Some("0003"));
        let cases = [
            (json!({"emailVerified": "yes"}), "emailVerified", "Boolean"),
            (json!({"grade": {"a": 1}}), "grade", "List"),
            (json!({"framework": []}), "framework", "Map"),
            (json!({"address": [1]}), "address", "List"),
            (
                json!({"profileLocation": [{"code": "1"}]}),
                "profileLocation",
                "List",
            ),
            (
                json!({"profileUserTypes": "teacher"}),
                "profileUserTypes",
                "List",
            ),
            (
                json!({"externalIds": [{"id": "1", "provider": "p"}]}),
                "externalIds",
                "List",
            ),
            (json!({"phone": -5}), "phone", "String"),
            (
                json!({"phone": true, "profileUserType": 1}),
                "profileUserType",
                "List",
            ),
        ];
        for (body, field, kind) in cases {
            let body: SunbirdUserBody = take(body);
            assert_eq!(body.first_wrong(), Some((field, kind)), "{field}");
        }
    }

    /// SPEC A5: a number is not text, but in the fields the documents send
    /// as numbers (phones, location codes, external ids, a `loginId`, a
    /// declaration's `orgId`).
    #[test]
    fn numbers_are_text_only_where_the_documents_send_them() {
        for field in [
            "firstName",
            "lastName",
            "userName",
            "email",
            "password",
            "channel",
        ] {
            let body: SunbirdUserBody = take(json!({ field: 12345 }));
            assert_eq!(body.first_wrong(), Some((field, "String")), "{field}");
        }
        let body: SunbirdUserBody = take(json!({"subject": ["Maths", 5]}));
        assert_eq!(body.first_wrong(), Some(("subject", "List")));
        let body: SunbirdUserBody = take(json!({
            "phone": 9876543210u64, "recoveryPhone": 9876543211u64, "orgExternalId": 77,
            "profileLocation": [{"code": 29, "type": "state"}],
            "externalIds": [{"id": 101010, "provider": "p", "idType": "t"}],
        }));
        assert_eq!(body.first_wrong(), None);
        let input = body.into_input(true);
        assert_eq!(input.phone.as_deref(), Some("9876543210"));
        assert_eq!(input.locations.unwrap()[0].code, "29");
        assert_eq!(input.external_ids.unwrap()[0].id, "101010");
        // A location's type and an external id's provider are text.
        let body: SunbirdUserBody = take(json!({"profileLocation": [{"code": 29, "type": 1}]}));
        assert_eq!(body.first_wrong(), Some(("profileLocation", "List")));
    }

    #[test]
    fn the_lenient_values_read() {
        let body: SunbirdUserBody = take(json!({
            "emailVerified": "TRUE", "phoneVerified": "False", "language": "English",
            "grade": null, "subject": ["Maths", "5"], "email": null,
            "framework": {"board": ["CBSE"]}, "address": null, "education": [{"degree": "BA"}],
        }));
        assert_eq!(body.first_wrong(), None);
        let input = body.into_input(true);
        assert_eq!(input.email_verified, Some(true));
        assert_eq!(input.phone_verified, Some(false));
        assert_eq!(input.language, Some(vec!["English".to_string()]));
        assert_eq!(input.grade, Some(vec![]));
        assert_eq!(
            input.subject,
            Some(vec!["Maths".to_string(), "5".to_string()])
        );
        assert_eq!(input.email.as_deref(), Some(""));
        assert_eq!(input.framework.as_deref(), Some(r#"{"board":["CBSE"]}"#));
        assert_eq!(input.address.as_deref(), Some(""));
        assert_eq!(input.education.as_deref(), Some(r#"[{"degree":"BA"}]"#));
    }

    #[test]
    fn unknown_keys_are_ignored() {
        let body: SunbirdUserBody = read(map(json!({
            "userName": "u", "organisationId": [1], "roles": 3, "whatever": {"x": 1},
        })))
        .expect("read");
        assert_eq!(body.into_input(true).user_name.as_deref(), Some("u"));
        let merge: SunbirdMerge = read(map(json!({"fromAccountId": "a", "extra": []}))).unwrap();
        assert_eq!(merge.from_account_id.into_value().as_deref(), Some("a"));
    }

    #[test]
    fn an_update_addresses_user_id_else_id() {
        let update: SunbirdUserUpdate = read(map(json!({"userId": "u1", "id": [1]}))).unwrap();
        assert_eq!(update.into_parts(true).0.as_deref(), Some("u1"));
        let update: SunbirdUserUpdate = read(map(json!({"id": "u2"}))).unwrap();
        assert_eq!(update.into_parts(true).0.as_deref(), Some("u2"));
        let (message, _) = refused::<SunbirdUserUpdate>(json!({"id": [1], "firstName": 1.5}));
        assert_eq!(message, "Data type of id should be String.");
        let (message, _) = refused::<SunbirdUserUpdate>(json!({"firstName": [], "userId": {}}));
        assert_eq!(message, "Data type of userId should be String.");
    }

    #[test]
    fn v1_update_leaves_out_locations_and_types_but_checks_them() {
        let body = json!({"userId": "u", "profileLocation": [{"code": "1", "type": "state"}],
                          "profileUserType": {"type": "teacher"}});
        let update: SunbirdUserUpdate = take(body);
        let (_, input) = update.into_parts(false);
        assert_eq!((input.locations, input.user_types), (None, None));
        let (message, _) = refused::<SunbirdUserUpdate>(json!({"profileLocation": 1}));
        assert_eq!(message, "Data type of profileLocation should be List.");
    }

    #[test]
    fn organisation_ids_beyond_roster_name_none() {
        assert_eq!(org_id(json!(12)), Some(12));
        assert_eq!(org_id(json!(" 12 ")), Some(12));
        assert_eq!(
            org_id(json!(1297544481264435200u64)),
            Some(1297544481264435200)
        );
        assert_eq!(org_id(json!("99999999999999999999")), Some(u64::MAX));
        assert_eq!(org_id(json!(-1)), None);
        assert_eq!(org_id(json!("x")), None);
        let read: SunbirdOrgRead = take(json!({"organisationId": "0123"}));
        assert_eq!(read.organisation_id.into_value(), Some(123));
        let (message, _) = refused::<SunbirdOrgRead>(json!({"organisationId": null}));
        assert_eq!(message, "Data type of organisationId should be String.");
    }

    #[test]
    fn a_search_reads_its_filters_and_order() {
        let search: SunbirdSearch = read(map(json!({
            "filters": {"firstName": {"startsWith": "Ra"}, "status": 1, "roles": ["A", "B"],
                        "createdDate": {">=": "2020", "<": "2021"},
                        "$or": [{"email": "a@x"}, {"phone": 98}]},
            "query": "ravi", "fields": [], "sort_by": {"createdDate": "DESC", "x": "asc"},
            "limit": "20", "offset": 5,
        })))
        .unwrap();
        let (request, fields) = search.into_request().unwrap();
        assert_eq!(fields, None);
        assert_eq!(request.limit, Some(20));
        assert_eq!(request.offset, 5);
        assert_eq!(request.query.as_deref(), Some("ravi"));
        let sort = request.sort_by.unwrap();
        assert_eq!((sort.key.as_str(), sort.descending), ("createdDate", true));
        assert_eq!(request.filters.all.len(), 4);
        assert_eq!(
            request.filters.all[0].condition,
            Condition::StartsWith("Ra".into())
        );
        assert_eq!(request.filters.any.len(), 2);
    }

    #[test]
    fn a_search_refuses_as_the_reference() {
        let (message, _) = refused::<SunbirdSearch>(json!({"filters": {}, "limit": 2.5}));
        assert_eq!(message, "Data type of limit should be String.");
        let (message, _) = refused::<SunbirdSearch>(json!({"filters": [], "limit": 2.5}));
        assert_eq!(message, "Data type of filters should be Map.");
        let (message, _) = refused::<SunbirdSearch>(json!({"filters": {}, "sort_by": "x"}));
        assert_eq!(message, "Data type of sort_by should be Map.");
        let missing = take::<SunbirdSearch>(json!({"query": "x"}));
        assert_eq!(
            missing.into_request().unwrap_err().reference(),
            Some("0030")
        );
        let or = take::<SunbirdSearch>(json!({"filters": {"$or": [1]}}));
        let e = or.into_request().unwrap_err();
        assert_eq!(e.message(), "Data type of $or should be Map.");
        assert_eq!(e.reference(), Some("0003"));
        let order = take::<SunbirdSearch>(json!({"filters": {}, "sort_by": {"a": "up"}}));
        assert_eq!(order.into_request().unwrap_err().reference(), Some("0017"));
    }

    #[test]
    fn role_changes_are_checked_one_by_one() {
        let body: SunbirdAssignRolesV2 = read(map(json!({"userId": "u", "roles": [
            {"role": "BOOK_CREATOR", "operation": "REMOVE", "scope": [{"organisationId": "7"}]},
            {"role": "PUBLIC"},
        ]})))
        .unwrap();
        let changes: Vec<_> = body
            .roles
            .into_value()
            .unwrap()
            .into_iter()
            .map(SunbirdRoleChange::into_change)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(changes[0].operation, RoleOperation::Remove);
        assert_eq!(changes[0].scope, [7]);
        assert_eq!(changes[1].operation, RoleOperation::Add);
        let (message, _) = refused::<SunbirdAssignRolesV2>(json!({"roles": [1]}));
        assert_eq!(message, "Data type of roles should be List.");
        let (message, _) = refused::<SunbirdAssignRolesV2>(json!({"roles": null}));
        assert_eq!(message, "Data type of roles should be List.");
        let item =
            take::<SunbirdRoleChange>(json!({"role": "R", "scope": [{"organisationId": []}]}));
        let e = item.into_change().unwrap_err();
        assert_eq!(e.message(), "Data type of organisationId should be String.");
        let item = take::<SunbirdRoleChange>(json!({"role": " ", "operation": 5.5}));
        let e = item.into_change().unwrap_err();
        assert_eq!(e.message(), "Data type of operation should be String.");
        // v1: one role as a string, the organisation as digits.
        let v1: SunbirdAssignRoles = read(map(
            json!({"userId": "u", "organisationId": "9", "roles": "PUBLIC"}),
        ))
        .unwrap();
        assert_eq!(v1.roles.into_value(), Some(vec!["PUBLIC".to_string()]));
        assert_eq!(v1.organisation_id.into_value(), Some(9));
    }

    #[test]
    fn declarations_and_the_small_bodies_read() {
        let body: SunbirdDeclarations = read(map(json!({"declarations": [
            {"operation": "edit", "userId": "u", "orgId": 5, "persona": "teacher",
             "info": {"declared-email": "a@x"}},
        ]})))
        .unwrap();
        let item = body.declarations.into_value().unwrap().pop().unwrap();
        let change = item.into_change().unwrap();
        assert_eq!(change.operation, DeclarationOperation::Edit);
        assert_eq!(change.org_id, "5");
        assert_eq!(change.info, r#"{"declared-email":"a@x"}"#);
        let item = take::<SunbirdDeclaration>(json!({"info": "x"}));
        assert_eq!(
            item.into_change().unwrap_err().message(),
            "Data type of info should be Map."
        );
        let (message, _) = refused::<SunbirdOrgCreate>(json!({"orgName": "o", "isTenant": 1}));
        assert_eq!(message, "Data type of isTenant should be Boolean.");
        let (message, _) = refused::<SunbirdMigrate>(json!({"action": "accept", "feedId": {}}));
        assert_eq!(message, "Data type of feedId should be String.");
        let org: SunbirdOrgCreate = read(map(
            json!({"orgName": "o", "isTenant": "true", "channel": "c"}),
        ))
        .unwrap();
        let input = org.into_input();
        assert_eq!(
            (input.name.as_deref(), input.is_tenant),
            (Some("o"), Some(true))
        );
    }

    #[test]
    fn bodies_deserialize_without_failing() {
        let body: SunbirdSystemSetting =
            serde_json::from_value(json!({"id": "s", "value": "3", "field": [1]})).unwrap();
        assert_eq!(body.first_wrong(), Some(("field", "String")));
        assert_eq!(body.value.into_value().as_deref(), Some("3"));
    }
}
