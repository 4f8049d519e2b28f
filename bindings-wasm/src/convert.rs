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

/// A JS value as JSON (`undefined` and `null` as `null`; a property whose
/// value is `undefined` is left out, as `JSON.stringify` leaves it out).
///
/// The value crosses as JSON text written by the JS engine and read by
/// `serde_json`, the REST body's parser, with its nesting limit (128 levels).
/// Converting the object property by property recursed once per level
/// without a bound: an object nested some thousands of levels deep (which
/// `JSON.parse` builds without complaint) overflowed the module's stack
/// and left every later call of the instance failing.
pub(crate) fn from_js(value: JsValue) -> JsResult<serde_json::Value> {
    if value.is_undefined() || value.is_null() {
        return Ok(serde_json::Value::Null);
    }
    // The engine's own limits hold while it writes: a cycle, a BigInt or a
    // nesting too deep for its stack is an exception, caught here.
    let text = js_sys::JSON::stringify(&value)
        .ok()
        .and_then(|text| text.as_string())
        .ok_or_else(|| usage("not a plain object: it has no JSON form"))?;
    serde_json::from_str(&text).map_err(|e| usage(&format!("not a plain object: {e}")))
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
    whole(n, "an id")
}

/// A JS number as a count or a limit: a whole number from 0 to 2^53 - 1
/// (where a `u32` argument would wrap `-1` or `2**32` silently).
pub(crate) fn whole(n: f64, what: &str) -> JsResult<u64> {
    if n.fract() == 0.0 && (0.0..9_007_199_254_740_992.0).contains(&n) {
        Ok(n as u64)
    } else {
        Err(usage(&format!("{n} is not {what}")))
    }
}

/// A JS array of numbers as ids.
pub(crate) fn ids(list: Vec<f64>) -> JsResult<Vec<u64>> {
    list.into_iter().map(id).collect()
}

/// A JS options object as `T`, every key optional, unknown keys refused
/// (read through JSON, [`from_js`]).
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
