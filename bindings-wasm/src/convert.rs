//! Crossing the boundary: JS values to and from the documented JSON forms,
//! core errors to JS `Error`s, JS numbers to ids, and the JS config object.

use roster::{Argon2Params, Config, FixedClock, LockoutPolicy};
use serde::Deserialize;
use std::sync::Arc;
use wasm_bindgen::prelude::*;

/// The result type of every exported method: a thrown JS value on failure.
pub(crate) type JsResult<T> = Result<T, JsValue>;

/// A core error as a JS `Error` with `code` and, for validation, `fields`
/// (`{field: [messages]}`, nested for custom fields).
pub(crate) fn error(e: roster::Error) -> JsValue {
    let err = js_sys::Error::new(e.message());
    let json = roster::json::error(&e);
    let _ = js_sys::Reflect::set(&err, &"code".into(), &e.code().as_str().into());
    let _ = js_sys::Reflect::set(&err, &"fields".into(), &to_js(&json["fields"]));
    err.into()
}

/// An error of this crate's own (bad arguments), shaped like a core one.
pub(crate) fn usage(message: &str) -> JsValue {
    error(roster::Error::new(roster::ErrorCode::Validation, message))
}

/// A JSON value as a plain JS value (objects, not Maps).
pub(crate) fn to_js(value: &serde_json::Value) -> JsValue {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    serde::Serialize::serialize(value, &serializer).unwrap_or(JsValue::NULL)
}

/// A JS value as JSON (`undefined` and `null` as `null`).
pub(crate) fn from_js(value: JsValue) -> JsResult<serde_json::Value> {
    if value.is_undefined() || value.is_null() {
        return Ok(serde_json::Value::Null);
    }
    serde_wasm_bindgen::from_value(value).map_err(|e| usage(&format!("not a plain object: {e}")))
}

/// A core result, converted.
pub(crate) fn out<T>(
    result: roster::Result<T>,
    f: impl FnOnce(T) -> serde_json::Value,
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

/// The JS configuration object (every key optional).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct JsConfig {
    base_url: Option<String>,
    time_zone_offset_minutes: Option<i32>,
    page_size: Option<u32>,
    max_page_size: Option<u32>,
    argon2: Option<JsArgon2>,
    session_lifetime_seconds: Option<i64>,
    lockout: Option<JsLockout>,
    /// RFC 3339: a fixed clock (tests, demos).
    now: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct JsArgon2 {
    m_kib: u32,
    t: u32,
    p: u32,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct JsLockout {
    max_failures: u32,
    duration_seconds: i64,
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

/// The core configuration a JS config object asks for.
pub(crate) fn config(value: JsValue) -> JsResult<Config> {
    let js: JsConfig = options(value, "config")?;
    let mut config = Config::default();
    if let Some(base) = js.base_url {
        config = config.with_base_url(&base);
    }
    if let Some(minutes) = js.time_zone_offset_minutes {
        config.time_zone = chrono::FixedOffset::east_opt(minutes * 60)
            .ok_or_else(|| usage("timeZoneOffsetMinutes is out of range"))?;
    }
    if let Some(n) = js.page_size {
        config.page_size = n;
    }
    if let Some(n) = js.max_page_size {
        config.max_page_size = n;
    }
    if let Some(a) = js.argon2 {
        config.argon2 = Argon2Params {
            m_kib: a.m_kib,
            t: a.t,
            p: a.p,
        };
    }
    if let Some(s) = js.session_lifetime_seconds {
        config.session_lifetime = chrono::Duration::seconds(s);
    }
    if let Some(l) = js.lockout {
        config.lockout = LockoutPolicy {
            max_failures: l.max_failures,
            duration: chrono::Duration::seconds(l.duration_seconds),
        };
    }
    if let Some(now) = js.now {
        let at = chrono::DateTime::parse_from_rfc3339(&now)
            .map_err(|e| usage(&format!("now is not RFC 3339: {e}")))?;
        config = config.with_clock(Arc::new(FixedClock::new(at.into())));
    }
    Ok(config)
}
