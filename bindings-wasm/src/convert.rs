//! Crossing the boundary: JS values to and from the documented JSON forms,
//! core errors to JS `Error`s, JS arguments to ids and text (checked as JS
//! values, before anything converts them), and the JS config and options
//! objects (read into the core's own shapes).

use roster::Config;
use wasm_bindgen::JsCast;
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
///
/// A value that is not null but that `JSON.stringify` writes as `null` (a
/// number that is not finite, a `Number` object holding one, an invalid
/// `Date`, an object whose `toJSON` is null) is refused, naming where it
/// is: `null` clears a field, so `{email: NaN}` would erase the email,
/// `{birth_date: new Date("x")}` the birth date, and `{lockoutMaxFailures:
/// NaN}` would quietly give the default.
pub(crate) fn from_js(value: JsValue) -> JsResult<serde_json::Value> {
    if value.is_undefined() || value.is_null() {
        return Ok(serde_json::Value::Null);
    }
    let json = parse(stringify(&value)?)?;
    // A value that is not null but crosses as null (`NaN`, `Infinity`, a
    // `Number` object holding one, an invalid `Date`, an object whose
    // `toJSON` answers null) would clear the field it is in. Without a
    // null in the JSON there is none; with one, the JSON is walked beside
    // the JS value (at most 128 levels: it parsed) to find a null whose
    // JS value is something else.
    if !has_null(&json) {
        return Ok(json);
    }
    match converted_null(&value, "", &json, &mut String::new()) {
        None => Ok(json),
        Some((place, what)) => {
            let place = if place.is_empty() {
                "the value".to_string()
            } else {
                place
            };
            Err(usage(&format!(
                "{place} is not a value JSON can carry ({what}): it would cross as null, \
                 which clears a field (roster takes only finite numbers and valid dates)"
            )))
        }
    }
}

/// Where in `json` (written from `js`, under `key`, by `JSON.stringify`)
/// the first null is whose JS value is neither `null` nor `undefined`, as
/// `a.b[2]`, and what that value was (`NaN`, `Infinity`, `-Infinity`, a
/// `Number` object that is not finite, an invalid `Date`, or a value whose
/// `toJSON` is null). A value's children are read from what its `toJSON`
/// answers, as `JSON.stringify` read them. A JS value that cannot be read
/// back (a getter that throws) is passed over: `JSON.stringify` read it
/// once already.
fn converted_null(
    js: &JsValue,
    key: &str,
    json: &serde_json::Value,
    place: &mut String,
) -> Option<(String, String)> {
    if json.is_null() {
        return match js.is_null() || js.is_undefined() {
            true => None,
            false => Some((place.clone(), what_crossed_as_null(js))),
        };
    }
    let read = as_json_reads(js, key);
    match json {
        serde_json::Value::Array(items) if read.is_array() => {
            items.iter().enumerate().find_map(|(i, item)| {
                if !has_null(item) {
                    return None;
                }
                let child = js_sys::Reflect::get_u32(&read, i as u32).ok()?;
                let len = place.len();
                place.push_str(&format!("[{i}]"));
                let found = converted_null(&child, &i.to_string(), item, place);
                place.truncate(len);
                found
            })
        }
        serde_json::Value::Object(map) if read.is_object() => map.iter().find_map(|(key, item)| {
            if !has_null(item) {
                return None;
            }
            let child = js_sys::Reflect::get(&read, &JsValue::from_str(key)).ok()?;
            let len = place.len();
            if !place.is_empty() {
                place.push('.');
            }
            place.push_str(key);
            let found = converted_null(&child, key, item, place);
            place.truncate(len);
            found
        }),
        _ => None,
    }
}

/// `value` as `JSON.stringify` reads it under `key`: what its `toJSON`
/// answers when it has one (a `Date`, an `Immutable.Map`, a host's own
/// class), else itself, so that the walk follows the shape the JSON was
/// written from. A `Date` is kept: an invalid one is named as such. A
/// `toJSON` that throws is passed over (`JSON.stringify` ran it already).
fn as_json_reads(value: &JsValue, key: &str) -> JsValue {
    if !value.is_object() || value.is_instance_of::<js_sys::Date>() {
        return value.clone();
    }
    let to_json = js_sys::Reflect::get(value, &JsValue::from_str("toJSON")).ok();
    match to_json
        .as_ref()
        .and_then(|f| f.dyn_ref::<js_sys::Function>())
    {
        Some(f) => f
            .call1(value, &JsValue::from_str(key))
            .unwrap_or_else(|_| value.clone()),
        None => value.clone(),
    }
}

/// What `value`, written by `JSON.stringify` as null, was.
fn what_crossed_as_null(value: &JsValue) -> String {
    if let Some(n) = value.as_f64() {
        return match n {
            f64::INFINITY => "Infinity",
            f64::NEG_INFINITY => "-Infinity",
            _ => "NaN",
        }
        .into();
    }
    if value.is_instance_of::<js_sys::Number>() {
        return "a Number object that is not finite".into();
    }
    if value.is_instance_of::<js_sys::Date>() {
        return "an invalid Date".into();
    }
    "a value whose JSON form is null".into()
}

/// `JSON.stringify(value)`, its failures as usage errors.
fn stringify(value: &JsValue) -> JsResult<String> {
    // The engine's own limits hold while it writes: a cycle, a BigInt or a
    // nesting too deep for its stack is an exception, caught here.
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|text| text.as_string())
        .ok_or_else(|| usage("not a plain object: it has no JSON form"))
}

fn parse(text: String) -> JsResult<serde_json::Value> {
    serde_json::from_str(&text).map_err(|e| usage(&format!("not a plain object: {e}")))
}

/// Whether `json` holds a `null` anywhere (at most 128 levels deep: parsed).
fn has_null(json: &serde_json::Value) -> bool {
    match json {
        serde_json::Value::Null => true,
        serde_json::Value::Array(items) => items.iter().any(has_null),
        serde_json::Value::Object(map) => map.values().any(has_null),
        _ => false,
    }
}

/// A core result, converted.
pub(crate) fn out<T, J: serde::Serialize>(
    result: roster::Result<T>,
    f: impl FnOnce(T) -> J,
) -> JsResult<JsValue> {
    result.map(|v| to_js(&f(v))).map_err(error)
}

/// A validation error about argument or key `field`: `fields` is
/// `{field: [problem]}`, the message `field: problem`.
pub(crate) fn field_error(field: &str, problem: &str) -> JsValue {
    field_error_saying(&format!("{field}: {problem}"), field, problem)
}

/// A validation error with `message` and the `fields` `{field: [problem]}`.
fn field_error_saying(message: &str, field: &str, problem: &str) -> JsValue {
    let fields = serde_json::json!({ field: [problem] });
    crate::error::roster_error(
        roster::ErrorCode::Validation.as_str(),
        message,
        &to_js(&fields),
    )
}

/// What kind of JS value `value` is, for a message (never the value itself:
/// it may be a password passed in the wrong place).
fn kind(value: &JsValue) -> &'static str {
    if value.is_null() {
        return "null";
    }
    if js_sys::Array::is_array(value) {
        return "an array";
    }
    match value.js_typeof().as_string().as_deref() {
        Some("undefined") => "undefined",
        Some("boolean") => "a boolean",
        Some("number") => "a number",
        Some("bigint") => "a BigInt",
        Some("string") => "a string",
        Some("symbol") => "a symbol",
        Some("function") => "a function",
        _ => "an object",
    }
}

/// Argument `name` as an id: a JS number (never a string, a boolean or
/// `null`, which wasm-bindgen's glue would convert: `true` to 1, `"7"` to 7,
/// `null` to 0) that is a whole number from 0 to 2^53 - 1.
pub(crate) fn id(value: &JsValue, name: &str) -> JsResult<u64> {
    number(value, name, "an id")
}

/// Argument `name` as a count or a limit: a JS number that is a whole
/// number from 0 to 2^53 - 1 (where a `u32` argument would wrap `-1` or
/// `2**32` silently).
pub(crate) fn number(value: &JsValue, name: &str, what: &str) -> JsResult<u64> {
    let n = value.as_f64().ok_or_else(|| {
        field_error(
            name,
            &format!("expected a number ({what}), got {}", kind(value)),
        )
    })?;
    if n.fract() == 0.0 && (0.0..9_007_199_254_740_992.0).contains(&n) {
        Ok(n as u64)
    } else {
        Err(field_error(
            name,
            &format!("{n} is not {what}: a whole number from 0 to 2^53 - 1"),
        ))
    }
}

/// Argument `name`, a list of ids: a JS `Array` of numbers, each an [`id`]
/// (wasm-bindgen's glue for a `Vec<f64>` took any array-like: the string
/// `"12"` was the ids 1 and 2, a number an empty list).
pub(crate) fn ids(value: &JsValue, name: &str) -> JsResult<Vec<u64>> {
    list_of(value, name, "ids (numbers)", id)
}

/// Argument `name` as a JS `Array` whose items (`of`, for a message) each
/// read by `item`, named `name[i]`.
fn list_of<T>(
    value: &JsValue,
    name: &str,
    of: &str,
    item: fn(&JsValue, &str) -> JsResult<T>,
) -> JsResult<Vec<T>> {
    if !js_sys::Array::is_array(value) {
        return Err(field_error(
            name,
            &format!("expected an array of {of}, got {}", kind(value)),
        ));
    }
    let list: &js_sys::Array = value.unchecked_ref();
    list.iter()
        .enumerate()
        .map(|(i, each)| item(&each, &format!("{name}[{i}]")))
        .collect()
}

/// Argument `name` as text: a JS string that is valid UTF-16. wasm-bindgen's
/// glue for `&str` and `String` encodes with `TextEncoder`, which turns a
/// lone surrogate into U+FFFD: `"pa\uD800ss"` would be stored as the
/// password `"pa\uFFFDss"`, and `"pa\uDFFFss"` would then sign in with it.
/// (Objects refuse such strings already: JSON carries them as escapes that
/// `serde_json` refuses.) A value that is not a string is refused too,
/// where the glue would have read its bytes from nowhere.
pub(crate) fn text(value: &JsValue, name: &str) -> JsResult<String> {
    let Some(string) = value.dyn_ref::<js_sys::JsString>() else {
        return Err(field_error(
            name,
            &format!("expected a string, got {}", kind(value)),
        ));
    };
    let text = String::from(string);
    // A lone surrogate came out as U+FFFD: only then is the string read
    // again, a code unit at a time.
    if text.contains('\u{FFFD}') && !string.is_valid_utf16() {
        return Err(field_error(
            name,
            "not valid Unicode text (it has a lone surrogate)",
        ));
    }
    Ok(text)
}

/// Optional argument `name` as a flag: `undefined` and `null` are `None`,
/// `true` and `false` themselves; anything else is refused, where the glue
/// for `Option<bool>` would have taken any truthy value (`"no"`) for
/// `true`.
pub(crate) fn opt_flag(value: &JsValue, name: &str) -> JsResult<Option<bool>> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    flag(value, name).map(Some)
}

/// Argument `name` as a flag: `true` or `false` only.
pub(crate) fn flag(value: &JsValue, name: &str) -> JsResult<bool> {
    value
        .as_bool()
        .ok_or_else(|| field_error(name, &format!("expected a boolean, got {}", kind(value))))
}

/// Optional argument `name` as text: `undefined` and `null` are `None`,
/// anything else is [`text`].
pub(crate) fn opt_text(value: &JsValue, name: &str) -> JsResult<Option<String>> {
    if value.is_undefined() || value.is_null() {
        Ok(None)
    } else {
        text(value, name).map(Some)
    }
}

/// Argument `name` as a list of texts: a JS `Array` of strings, each a
/// [`text`].
pub(crate) fn texts(value: &JsValue, name: &str) -> JsResult<Vec<String>> {
    list_of(value, name, "strings", text)
}

/// A JS options object as `T`, every key optional, unknown keys refused
/// (read through JSON, [`from_js`]).
pub(crate) fn options<T: Default + serde::de::DeserializeOwned>(
    value: JsValue,
    what: &str,
) -> JsResult<T> {
    match from_js(value)? {
        serde_json::Value::Null => Ok(T::default()),
        json => read(&json, what),
    }
}

/// `json` as `T`. A failure names the key or item at fault (found by
/// reading `json` again without each, only when it fails), never the value:
/// serde's own message quotes it (``invalid type: integer `12345678` ``,
/// for a password given as a number).
pub(crate) fn read<T: serde::de::DeserializeOwned>(
    json: &serde_json::Value,
    what: &str,
) -> JsResult<T> {
    T::deserialize(json).map_err(|e| {
        let said = e.to_string();
        let problem = without_value(&said);
        match culprit::<T>(json, &said) {
            Some(place) => {
                field_error_saying(&format!("bad {what}: {place}: {problem}"), &place, &problem)
            }
            None => usage(&format!("bad {what}: {problem}")),
        }
    })
}

/// serde's message `said` without the value it quotes: ``invalid type:
/// integer `5`, expected a string`` is `invalid type, expected a string`.
/// Messages that quote only a key (`unknown field`, `missing field`) stay.
fn without_value(said: &str) -> String {
    for (prefix, name) in [
        ("invalid type: ", "invalid type"),
        ("invalid value: ", "invalid value"),
        ("unknown variant ", "unknown variant"),
    ] {
        if said.starts_with(prefix) {
            // The last one: the value, before it, may hold the words too.
            return match said.rfind(", expected ") {
                Some(at) => format!("{name}{}", &said[at..]),
                None => name.to_string(),
            };
        }
    }
    said.to_string()
}

/// The key of object `json` (or `[index]` of array `json`) without which
/// reading it as `T` no longer fails with `said`: the one at fault.
fn culprit<T: serde::de::DeserializeOwned>(json: &serde_json::Value, said: &str) -> Option<String> {
    let changes = |without: serde_json::Value| match T::deserialize(&without) {
        Ok(_) => true,
        Err(e) => e.to_string() != said,
    };
    match json {
        serde_json::Value::Object(map) => map
            .keys()
            .find(|key| {
                let mut rest = map.clone();
                rest.remove(key.as_str());
                changes(serde_json::Value::Object(rest))
            })
            .cloned(),
        serde_json::Value::Array(items) => (0..items.len())
            .find(|&i| {
                let mut rest = items.clone();
                rest.remove(i);
                changes(serde_json::Value::Array(rest))
            })
            .map(|i| format!("[{i}]")),
        _ => None,
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
