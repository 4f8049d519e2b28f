//! JSON Schemas of the request fields (feature `openapi`): what each rule
//! of [`super::request`] and [`super::sunbird_request`] accepts, written
//! beside the rule's own reading so the OpenAPI document
//! (`crate::rest::openapi`) says what the server reads. The bodies derive
//! theirs (`schemars::JsonSchema`); a [`Field`] is its rule's schema,
//! inlined. The representations that are not plain derives
//! (`testpress::CustomValues`, `views::Errors`) have theirs here too.

use super::request::{Field, Rule, rule as drf};
use super::sunbird_request::{Body, rule as sb};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use std::borrow::Cow;

impl<R: Rule + JsonSchema> JsonSchema for Field<R> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        R::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        R::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        R::json_schema(generator)
    }
}

/// Declares the schemas of rules, inlined wherever they are used: each
/// rule's schema made by a function of the generator.
macro_rules! rule_schema {
    ($($rule:ty => $name:literal: $make:expr;)*) => {$(
        impl JsonSchema for $rule {
            fn inline_schema() -> bool {
                true
            }
            fn schema_name() -> Cow<'static, str> {
                $name.into()
            }
            fn schema_id() -> Cow<'static, str> {
                concat!("roster::json::", $name).into()
            }
            fn json_schema(generator: &mut SchemaGenerator) -> Schema {
                let make: fn(&mut SchemaGenerator) -> Schema = $make;
                make(generator)
            }
        }
    )*};
}

/// DRF's spellings of a boolean ([`drf::Flag`]).
const DRF_BOOLEANS: [&str; 12] = [
    "true", "True", "TRUE", "1", "yes", "on", "false", "False", "FALSE", "0", "no", "off",
];

/// The schema of the Sunbird rules that read one object or a list of them
/// (`null`: none): the object is a definition of its own (`object`), each
/// key's text a string or a whole number.
fn one_or_many(
    generator: &mut SchemaGenerator,
    object: &str,
    keys: &[&str],
    required: &[&str],
) -> Schema {
    let text = json_schema!({
        "anyOf": [{ "type": "string" }, { "type": "integer", "minimum": 0 }]
    });
    let properties: serde_json::Map<String, serde_json::Value> = keys
        .iter()
        .map(|k| (k.to_string(), text.clone().to_value()))
        .collect();
    let schema = json_schema!({ "type": "object", "required": required, "properties": properties });
    generator
        .definitions_mut()
        .insert(object.to_string(), schema.to_value());
    let path = generator.settings().definitions_path.clone();
    let reference = format!("{}/{object}", path.trim_end_matches('/'));
    json_schema!({
        "anyOf": [
            { "$ref": reference },
            { "type": "array", "items": { "$ref": reference } },
            { "type": "null" }
        ]
    })
}

rule_schema! {
    drf::Text => "Text": |_| json_schema!({ "type": ["string", "null"] });
    drf::Phone => "Phone": |_| json_schema!({
        "anyOf": [{ "type": ["string", "null"] }, { "type": "integer", "minimum": 0 }]
    });
    drf::Int => "Int": |_| json_schema!({ "type": "integer", "minimum": -9_223_372_036_854_775_807_i64 });
    drf::Texts => "Texts": |_| json_schema!({ "type": "array", "items": { "type": "string" } });
    drf::Ids => "Ids": |_| json_schema!({ "type": "array", "items": { "type": "integer", "minimum": 0 } });
    drf::Custom => "CustomValues": |_| json_schema!({
        "type": ["object", "null"],
        "additionalProperties": { "type": ["string", "number", "boolean", "null"] }
    });
    sb::Text => "SunbirdText": |_| json_schema!({ "type": ["string", "null"] });
    sb::Code => "SunbirdCode": |_| json_schema!({
        "anyOf": [{ "type": ["string", "null"] }, { "type": "integer", "minimum": 0 }]
    });
    sb::Flag => "SunbirdFlag": |_| json_schema!({
        "anyOf": [
            { "type": "boolean" },
            { "enum": ["true", "false", "True", "False", "TRUE", "FALSE"] }
        ]
    });
    sb::Texts => "SunbirdTexts": |_| json_schema!({
        "anyOf": [
            {
                "type": "array",
                "items": { "type": ["string", "null"] }
            },
            { "type": ["string", "null"] }
        ]
    });
    sb::MapText => "SunbirdMap": |_| json_schema!({ "type": ["object", "null"] });
    sb::MapsText => "SunbirdMaps": |_| json_schema!({
        "anyOf": [{ "type": "array", "items": { "type": "object" } }, { "type": "null" }]
    });
    sb::Object => "SunbirdObject": |_| json_schema!({ "type": "object" });
    sb::Number => "SunbirdNumber": |_| json_schema!({
        "anyOf": [
            { "type": "integer", "minimum": 0 },
            { "type": "string", "pattern": "^[0-9]+$" }
        ]
    });
    drf::Flag => "Flag": |_| json_schema!({
        "anyOf": [{ "type": "boolean" }, { "enum": DRF_BOOLEANS }, { "enum": [0, 1] }]
    });
    sb::Locations => "SunbirdLocations":
        |g| one_or_many(g, "SunbirdLocation", &["code", "type"], &["code", "type"]);
    sb::UserTypes => "SunbirdUserTypes":
        |g| one_or_many(g, "SunbirdUserType", &["type", "subType"], &["type"]);
    sb::ExternalIds => "SunbirdExternalIds": |g| {
        let keys = ["id", "provider", "idType"];
        one_or_many(g, "SunbirdExternalId", &keys, &keys)
    };
}

impl<T: Body + JsonSchema> JsonSchema for sb::Items<T> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        format!("SunbirdItems_{}", T::schema_name()).into()
    }
    fn schema_id() -> Cow<'static, str> {
        format!("roster::json::SunbirdItems<{}>", T::schema_id()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "array", "items": generator.subschema_for::<T>() })
    }
}

/// The transforms that mark a body's required fields (named by the
/// bodies: `schemars(transform = required::sign_in)`).
pub(crate) mod required {
    use super::require;
    use schemars::Schema;

    macro_rules! required {
        ($($name:ident: [$($field:literal),*];)*) => {$(
            pub(crate) fn $name(schema: &mut Schema) {
                require(schema, &[$($field),*]);
            }
        )*};
    }

    required! {
        username: ["username"];
        sign_in: ["username", "password"];
        password_change: ["old_password", "new_password"];
        batches: ["batches"];
        courses: ["courses"];
        login_id: ["loginId"];
        org_create: ["orgName", "organisationType", "isTenant"];
        organisation_id: ["organisationId"];
        filters: ["filters"];
        roles: ["roles"];
        role: ["role"];
        action: ["action"];
    }
}

/// Marks `fields` of a body's schema required: the ones whose absence is
/// always refused (a rule's 400), as opposed to the fields an update may
/// leave out. (Every field of a body has a default, so none is required
/// unless said so here.)
pub(crate) fn require(schema: &mut Schema, fields: &[&str]) {
    if let Some(object) = schema.as_object_mut() {
        let list = object
            .entry("required")
            .or_insert_with(|| serde_json::Value::Array(Vec::new()));
        if let serde_json::Value::Array(list) = list {
            list.extend(fields.iter().map(|f| serde_json::Value::from(*f)));
        }
    }
}

impl JsonSchema for super::testpress::CustomValues {
    fn schema_name() -> Cow<'static, str> {
        "CustomValues".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "description": "Custom values by field name.",
            "additionalProperties": { "type": ["string", "number", "boolean", "null"] }
        })
    }
}

impl JsonSchema for super::views::Errors<'_> {
    fn schema_name() -> Cow<'static, str> {
        "FieldErrors".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "description": "Django REST Framework's validation errors: each field's messages (by name for a map-valued field, `custom_fields`); `non_field_errors` for the body as a whole.",
            "additionalProperties": {
                "anyOf": [
                    { "type": "array", "items": { "type": "string" } },
                    {
                        "type": "object",
                        "additionalProperties": { "type": "array", "items": { "type": "string" } }
                    }
                ]
            }
        })
    }
}
