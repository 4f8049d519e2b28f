//! Crossing the boundary: JS values to and from the documented JSON forms,
//! core errors to JS `Error`s, JS numbers to ids, and the JS config and
//! options objects (read into the core's own shapes).

use roster::Config;
use wasm_bindgen::prelude::*;

/// The result type of every exported method: a thrown JS value on failure.
pub(crate) type JsResult<T> = Result<T, JsValue>;

/// A core error as a `RosterError` (a JS `Error`) with `code` and, for validation, `fields`
/// (`{field: [messages]}`, nested for custom fields).
pub(crate) fn error(e: roster::Error) -> JsValue {
    let fields = roster::json::views::Errors(e.fields());
    crate::error::roster_error(e.code().as_str(), e.message(), &to_js(&fields))
}

/// An error of this crate's own (bad arguments), shaped like a core one.
pub(crate) fn usage(message: &str) -> JsValue {
    error(roster::Error::new(roster::ErrorCode::Validation, message))
}

/// A representation as a plain JS value (objects, not Maps): written as
/// JSON text here and parsed by the JS engine, one crossing of the boundary
/// where building the object would cross it for every property (a user
/// view has some thirty).
pub(crate) fn to_js<T: serde::Serialize + ?Sized>(value: &T) -> JsValue {
    match serde_json::to_string(value) {
        Ok(text) => js_sys::JSON::parse(&text).unwrap_or(JsValue::NULL),
        Err(_) => JsValue::NULL,
    }
}

/// A JS value as JSON (`undefined` and `null` as `null`).
pub(crate) fn from_js(value: JsValue) -> JsResult<serde_json::Value> {
    if value.is_undefined() || value.is_null() {
        return Ok(serde_json::Value::Null);
    }
    serde_wasm_bindgen::from_value(value).map_err(|e| usage(&format!("not a plain object: {e}")))
}

/// A core result, converted.
pub(crate) fn out<T, J: serde::Serialize>(
    result: roster::Result<T>,
    f: impl FnOnce(T) -> J,
) -> JsResult<JsValue> {
    result.map(|v| to_js(&f(v))).map_err(error)
}

/// A JS number as an id: a whole number from 0 to 2^53 - 1.
pub(crate) fn id(n: f64) -> JsResult<u64> {
    if n.fract() == 0.0 && (0.0..9_007_199_254_740_992.0).contains(&n) {
        Ok(n as u64)
    } else {
        Err(usage(&format!("{n} is not an id")))
    }
}

/// A JS array of numbers as ids.
pub(crate) fn ids(list: Vec<f64>) -> JsResult<Vec<u64>> {
    list.into_iter().map(id).collect()
}

/// A JS options object as `T`, every key optional, unknown keys refused
/// (read through JSON: `serde_wasm_bindgen` would skip unknown keys).
pub(crate) fn options<T: Default + serde::de::DeserializeOwned>(
    value: JsValue,
    what: &str,
) -> JsResult<T> {
    match from_js(value)? {
        serde_json::Value::Null => Ok(T::default()),
        json => serde_json::from_value(json).map_err(|e| usage(&format!("bad {what}: {e}"))),
    }
}

/// The core configuration a JS config object asks for: the core's own
/// [`roster::Settings`] (camelCase keys), checked by the core.
pub(crate) fn config(value: JsValue) -> JsResult<Config> {
    // Every institute is made from a config: the NFKC normaliser the core
    // needs is in place before the first one.
    crate::unicode::install_nfkc();
    Config::try_from(options::<roster::Settings>(value, "config")?).map_err(error)
}

/// The core import options a JS options object asks for: the core's own
/// [`roster::ImportSettings`] (camelCase keys), checked by the core.
pub(crate) fn import_options(value: JsValue) -> JsResult<roster::transfer::ImportOptions> {
    roster::transfer::ImportOptions::try_from(options::<roster::ImportSettings>(
        value,
        "import options",
    )?)
    .map_err(error)
}
