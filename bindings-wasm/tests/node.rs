//! roster-wasm in Node (wasm-bindgen-test's default runtime): the exported
//! classes called from Rust as JS calls them, with JS values in and out, on
//! Node's clock and `crypto.getRandomValues`.
//!
//! ```sh
//! CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=~/.cache/roster-tools/bin/wasm-bindgen-test-runner \
//!     cargo test -p roster-wasm --target wasm32-unknown-unknown --test node
//! ```
//!
//! The JS-side tests of the built package are `tests/js/*.test.js`.

#![cfg(target_arch = "wasm32")]

mod common;
use common::*;

use roster_wasm::Institute;
use serde_json::{Value, json};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

/// Sends one request through `handle`: (status, parsed body).
fn call(
    institute: &Institute,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut headers = serde_json::Map::new();
    if let Some(token) = token {
        headers.insert("Authorization".into(), json!(format!("JWT {token}")));
    }
    if body.is_some() {
        headers.insert("content-type".into(), json!("application/json"));
    }
    let response = institute
        .handle(
            method.into(),
            path.into(),
            js(&Value::Object(headers)),
            body.map_or(JsValue::NULL, |b| JsValue::from(b.to_string())),
        )
        .unwrap();
    let status = prop(&response, "status").as_f64().unwrap() as u16;
    let body = prop(&response, "body")
        .as_string()
        .map_or(Value::Null, |b| serde_json::from_str(&b).unwrap());
    (status, body)
}

#[wasm_bindgen_test]
fn runs_in_node() {
    let process = prop(&js_sys::global(), "process");
    assert!(
        !process.is_undefined(),
        "wasm-bindgen-test should run this file in Node"
    );
    assert!(
        prop(&js_sys::global(), "window").is_undefined(),
        "not in a browser"
    );
}

#[wasm_bindgen_test]
fn rest_flow_with_sign_in() {
    let institute = Institute::in_memory(cheap()).unwrap();
    assert_eq!(
        institute
            .create_superuser("admin".into(), "Adm1n-Pass!".into())
            .unwrap(),
        1.0
    );
    let (status, body) = call(
        &institute,
        "POST",
        "/api/v2.5/auth-token/",
        None,
        Some(json!({"username": "admin", "password": "Adm1n-Pass!"})),
    );
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().unwrap().to_string();
    assert_eq!(token.len(), 64);
    let t = Some(token.as_str());

    let (status, body) = call(
        &institute,
        "POST",
        "/api/v2.5/admin/batches/",
        t,
        Some(json!({"name": "Morning"})),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = call(
        &institute,
        "POST",
        "/api/v2.5/admin/users/",
        t,
        Some(json!({"username": "ravi", "password": "ravi-pass-1", "batches": ["Morning"]})),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = call(&institute, "GET", "/api/v2.5/admin/users/?q=rav", t, None);
    assert_eq!((status, body["count"].clone()), (200, json!(1)), "{body}");

    let (status, body) = call(
        &institute,
        "POST",
        "/api/v2.5/admin/users/",
        t,
        Some(json!({"username": "ravi", "password": "12345678"})),
    );
    assert_eq!(status, 400);
    assert_eq!(
        body["password"],
        json!(["This password is entirely numeric."])
    );
    assert!(body["username"].is_array(), "{body}");

    let (status, body) = call(&institute, "GET", "/api/v2.5/admin/users/", None, None);
    assert_eq!(
        (status, body),
        (
            401,
            json!({"detail": "Authentication credentials were not provided."})
        )
    );
}

#[wasm_bindgen_test]
fn typed_errors_are_js_errors_with_code_and_fields() {
    let institute = Institute::in_memory(cheap()).unwrap();
    let operator = institute.operator();
    let error = operator
        .create_user(
            js(&json!({"username": "", "password": "1"})),
            JsValue::UNDEFINED,
        )
        .unwrap_err();
    assert_eq!(code(&error), "validation_failed");
    let fields = rs(&prop(&error, "fields"));
    assert!(fields["username"].is_array(), "{fields}");
    assert!(fields["password"].is_array(), "{fields}");

    assert_eq!(
        code(&operator.get_user(42.0.into()).unwrap_err()),
        "not_found"
    );
    assert_eq!(
        code(
            &institute
                .login("nobody".into(), "x-pass-1".into())
                .unwrap_err()
        ),
        "unauthenticated"
    );
    assert_eq!(
        code(&institute.session("not-a-token".into()).err().unwrap()),
        "unauthenticated"
    );
    assert_eq!(
        code(
            &Institute::in_memory(js(&json!({"now": "soon"})))
                .err()
                .unwrap()
        ),
        "validation_failed"
    );
}

#[wasm_bindgen_test]
fn default_config_signs_in_with_random_tokens() {
    // No config: the default argon2 parameters, the system clock, and
    // tokens from Node's crypto.getRandomValues.
    let institute = Institute::in_memory(JsValue::UNDEFINED).unwrap();
    institute
        .create_superuser("admin".into(), "Adm1n-Pass!".into())
        .unwrap();
    let a = rs(&institute
        .login("admin".into(), "Adm1n-Pass!".into())
        .unwrap());
    let b = rs(&institute
        .login("admin".into(), "Adm1n-Pass!".into())
        .unwrap());
    assert_ne!(a["token"], b["token"]);
    let expires = chrono::DateTime::parse_from_rfc3339(a["expires"].as_str().unwrap()).unwrap();
    let now = js_sys::Date::now() / 1000.0;
    let lifetime = expires.timestamp() as f64 - now;
    assert!(
        (86_300.0..=86_400.0).contains(&lifetime),
        "a 24-hour session, got {lifetime} s"
    );
    assert!(institute.check_integrity().unwrap().is_empty());
}

#[wasm_bindgen_test]
async fn open_persistent_is_unavailable_in_node() {
    // Node has no Origin Private File System: hosts fall back to inMemory.
    let error = Institute::open_persistent("school".into(), cheap())
        .await
        .err()
        .expect("no OPFS in Node");
    assert_eq!(code(&error), "storage_unavailable");
}

/// roster-wasm is built without roster's NFKC tables: the JS engine's
/// `String.prototype.normalize("NFKC")` normalises names instead, to the
/// forms the native build stores (core's `rules` tests).
#[wasm_bindgen_test]
fn usernames_and_emails_are_nfkc_normalised() {
    let institute = Institute::in_memory(cheap()).unwrap();
    let operator = institute.operator();
    let create = |username: &str, email: &str| {
        operator
            .create_user(
                js(&json!({"username": username, "password": "Sh4red-pass", "email": email})),
                JsValue::UNDEFINED,
            )
            .map(|created| rs(&created)["user"].clone())
    };
    // Fullwidth letters and `＠`, a decomposed umlaut, a ligature.
    let user = create("ＡＬＩＣＥ", "ｒａｖｉ＠ｅｘａｍｐｌｅ．ｃｏｍ").unwrap();
    assert_eq!(
        (&user["username"], &user["email"]),
        (&json!("ALICE"), &json!("ravi@example.com"))
    );
    let user = create("U\u{308}nal", "").unwrap();
    assert_eq!(user["username"], json!("\u{dc}nal"));
    let user = create("ﬁsh", "").unwrap();
    assert_eq!(user["username"], json!("fish"));

    // One key for the fullwidth, plain and lower-case forms.
    let error = create("alice", "").unwrap_err();
    assert_eq!(code(&error), "validation_failed");
    assert!(rs(&prop(&error, "fields"))["username"].is_array());
    assert!(
        institute
            .login("ａｌｉｃｅ".into(), "Sh4red-pass".into())
            .is_ok()
    );
    assert!(
        institute
            .login("RAVI@example.com".into(), "Sh4red-pass".into())
            .is_ok()
    );
    assert!(
        institute
            .login("\u{fc}nal".into(), "Sh4red-pass".into())
            .is_ok()
    );
    // The character rule runs on the NFKC form: a fullwidth space is a space.
    assert!(create("a\u{3000}b", "").is_err());
}

/// roster-wasm is built without roster's `extra-hashers`: Django's
/// `bcrypt_sha256` and `scrypt` hashes are refused on import with a reason
/// saying so; pbkdf2 (Django's default) still imports and signs in.
#[wasm_bindgen_test]
fn bcrypt_and_scrypt_hashes_are_not_in_this_build() {
    let institute = Institute::in_memory(cheap()).unwrap();
    let rows = [
        json!({"username": "bee", "password_hash":
            "bcrypt_sha256$$2b$04$/A/7wjiiUj5ePK7SqJDzxuMdTzn81tjYnpX6QWKMbyjyXPiQIyGrW"}),
        json!({"username": "ess", "password_hash":
            "scrypt$1024$eV75SsdPRoV7OtovKaarNe$8$1$jMooVbCTntzhq2pppmdQB8zg0eSWz54j5GPEndkkZx9is6tLp3IGC0m7EUWcHU+Y/4VX7gFdGlqqPPtP2cBeIQ=="}),
        json!({"username": "pea", "password_hash":
            "pbkdf2_sha256$1$salt$VawEblbjCJ/sFpHCJUS2BflBhSFt3gRl5oudV8INrLw="}),
    ];
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    let report = rs(&institute
        .operator()
        .import_users(text.into(), JsValue::UNDEFINED)
        .unwrap());
    assert_eq!(report["created"], json!(1), "{report}");
    let reasons: Vec<&str> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons.len(), 2, "{report}");
    for (reason, algorithm) in reasons.iter().zip(["bcrypt_sha256", "scrypt"]) {
        assert!(
            reason.contains(&format!("unsupported: {algorithm} hashes"))
                && reason.contains("not be checked by this build"),
            "{reason}"
        );
    }
    assert!(institute.login("pea".into(), "passwd".into()).is_ok());
}
