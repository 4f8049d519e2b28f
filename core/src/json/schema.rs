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

/// Declares the schema of rules, inlined wherever they are used.
macro_rules! rule_schema {
    ($($rule:ty => $name:literal $schema:tt;)*) => {$(
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
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!($schema)
            }
        }
    )*};
}

/// DRF's spellings of a boolean ([`drf::Flag`]).
const DRF_BOOLEANS: [&str; 12] = [
    "true", "True", "TRUE", "1", "yes", "on", "false", "False", "FALSE", "0", "no", "off",
];

rule_schema! {
    drf::Text => "Text" { "type": ["string", "null"] };
    drf::Phone => "Phone" {
        "anyOf": [{ "type": ["string", "null"] }, { "type": "integer", "minimum": 0 }]
    };
    drf::Int => "Int" { "type": "integer", "minimum": -9_223_372_036_854_775_807_i64 };
    drf::Texts => "Texts" { "type": "array", "items": { "type": "string" } };
    drf::Ids => "Ids" { "type": "array", "items": { "type": "integer", "minimum": 0 } };
    drf::Custom => "CustomValues" {
        "type": ["object", "null"],
        "additionalProperties": { "type": ["string", "number", "boolean", "null"] }
    };
    sb::Text => "SunbirdText" {
        "anyOf": [{ "type": ["string", "null"] }, { "type": "integer", "minimum": 0 }]
    };
    sb::Flag => "SunbirdFlag" {
        "anyOf": [
            { "type": "boolean" },
            { "enum": ["true", "false", "True", "False", "TRUE", "FALSE"] }
        ]
    };
    sb::Texts => "SunbirdTexts" {
        "anyOf": [
            {
                "type": "array",
                "items": {
                    "anyOf": [{ "type": ["string", "null"] }, { "type": "integer", "minimum": 0 }]
                }
            },
            { "type": ["string", "null"] }
        ]
    };
    sb::MapText => "SunbirdMap" { "type": ["object", "null"] };
    sb::MapsText => "SunbirdMaps" {
        "anyOf": [{ "type": "array", "items": { "type": "object" } }, { "type": "null" }]
    };
    sb::Object => "SunbirdObject" { "type": "object" };
    sb::Number => "SunbirdNumber" {
        "anyOf": [
            { "type": "integer", "minimum": 0 },
            { "type": "string", "pattern": "^[0-9]+$" }
        ]
    };
}

impl JsonSchema for drf::Flag {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Flag".into()
    }
    fn schema_id() -> Cow<'static, str> {
        "roster::json::Flag".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                { "type": "boolean" },
                { "enum": DRF_BOOLEANS },
                { "enum": [0, 1] }
            ]
        })
    }
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

/// Declares the schema of the Sunbird rules that read one object or a
/// list of them (`null`: none): the object is a definition of its own,
/// each key's text a string or a whole number.
macro_rules! objects_schema {
    ($($rule:ty => $name:literal, $object:literal, [$($key:literal),*], [$($required:literal),*];)*) => {$(
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
                let text = json_schema!({
                    "anyOf": [{ "type": "string" }, { "type": "integer", "minimum": 0 }]
                });
                let object = json_schema!({
                    "type": "object",
                    "required": [$($required),*],
                    "properties": { $($key: text.clone()),* }
                });
                generator.definitions_mut().insert($object.into(), object.to_value());
                let path = generator.settings().definitions_path.clone();
                let reference = format!("{}{}", path.trim_end_matches('/'), concat!("/", $object));
                json_schema!({
                    "anyOf": [
                        { "$ref": reference },
                        { "type": "array", "items": { "$ref": reference } },
                        { "type": "null" }
                    ]
                })
            }
        }
    )*};
}

objects_schema! {
    sb::Locations => "SunbirdLocations", "SunbirdLocation", ["code", "type"], ["code", "type"];
    sb::UserTypes => "SunbirdUserTypes", "SunbirdUserType", ["type", "subType"], ["type"];
    sb::ExternalIds => "SunbirdExternalIds", "SunbirdExternalId",
        ["id", "provider", "idType"], ["id", "provider", "idType"];
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
