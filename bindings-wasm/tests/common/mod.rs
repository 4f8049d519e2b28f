//! Helpers shared by the wasm-bindgen test files (Node, page, worker):
//! JSON <-> JS values and the parts of thrown errors.

#![allow(dead_code, reason = "each test file uses a different subset")]

use serde_json::{Value, json};
use wasm_bindgen::prelude::*;

/// A config with cheap argon2 (about a millisecond a hash): tests sign in
/// many times.
pub fn cheap() -> JsValue {
    js(&json!({"argon2": {"mKib": 64, "t": 1, "p": 1}}))
}

/// A JSON value as a plain JS value.
pub fn js(value: &Value) -> JsValue {
    js_sys::JSON::parse(&value.to_string()).unwrap()
}

/// A JS value as JSON (`undefined` as `null`).
pub fn rs(value: &JsValue) -> Value {
    if value.is_undefined() {
        return Value::Null;
    }
    serde_json::from_str(&String::from(js_sys::JSON::stringify(value).unwrap())).unwrap()
}

/// Property `key` of a JS object.
pub fn prop(value: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(value, &key.into()).unwrap()
}

/// The `code` of a thrown value, checking that it is a JS `Error`.
pub fn code(e: &JsValue) -> String {
    assert!(e.is_instance_of::<js_sys::Error>(), "not an Error: {e:?}");
    prop(e, "code").as_string().unwrap_or_default()
}
