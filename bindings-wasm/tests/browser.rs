//! roster-wasm in a page's main thread (headless Chromium through
//! wasm-bindgen-test): the typed API, the REST facade, errors with codes,
//! and `openPersistent` refusing where OPFS sync handles do not exist.
//!
//! ```sh
//! CHROMEDRIVER=/usr/bin/chromedriver cargo test -p roster-wasm \
//!     --target wasm32-unknown-unknown --test browser
//! ```

#![cfg(target_arch = "wasm32")]

mod common;
use common::*;

use roster_wasm::Institute;
use serde_json::{Value, json};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A store with a batch, an administrator and a plain user.
fn institute() -> Institute {
    let institute = Institute::in_memory(cheap()).unwrap();
    let operator = institute.operator();
    operator
        .create_batch(js(&json!({"name": "Morning"})))
        .unwrap();
    institute
        .create_superuser("admin".into(), "a-long-passphrase".into())
        .unwrap();
    let created = operator
        .create_user(
            js(
                &json!({"username": "ravi", "password": "ravi-pass1", "email": "ravi@example.com",
                       "first_name": "Ravi", "batches": ["Morning"]}),
            ),
            JsValue::UNDEFINED,
        )
        .unwrap();
    assert_eq!(rs(&created)["user"]["username"], "ravi");
    institute
}

#[wasm_bindgen_test]
fn typed_api_signs_in_and_checks_the_caller() {
    let institute = institute();
    let login = rs(&institute
        .login("admin".into(), "a-long-passphrase".into())
        .unwrap());
    let token = login["token"].as_str().unwrap();
    assert_eq!(token.len(), 64);
    assert!(login["expires"].is_string());

    let admin = institute.session(token.into()).unwrap();
    let created = rs(&admin
        .create_user(
            js(
                &json!({"username": "meena", "password": "meena-pass1", "first_name": "Meena",
                       "last_name": "K", "email": "meena@example.com", "birth_date": "03/07/2001",
                       "batches": ["Morning"]}),
            ),
            JsValue::UNDEFINED,
        )
        .unwrap());
    assert_eq!(created["user"]["display_name"], "Meena K");
    assert_eq!(created["user"]["birth_date"], "03/07/2001");
    assert_eq!(created["generatedPassword"], Value::Null);

    let page = rs(&admin.list_users(js(&json!({"withBatches": true}))).unwrap());
    assert_eq!(page["count"], 3);
    let meena = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "meena")
        .unwrap();
    assert_eq!(meena["batches"][0]["name"], "Morning");

    // A plain user signs in but holds no admin permission.
    let ravi = rs(&institute
        .login("ravi@example.com".into(), "ravi-pass1".into())
        .unwrap());
    let ravi = institute
        .session(ravi["token"].as_str().unwrap().into())
        .unwrap();
    assert_eq!(
        code(&ravi.list_users(JsValue::UNDEFINED).unwrap_err()),
        "forbidden"
    );

    // Logging out ends the session at once.
    institute.logout(token.into()).unwrap();
    assert_eq!(
        code(&admin.list_users(JsValue::UNDEFINED).unwrap_err()),
        "unauthenticated"
    );
    assert_eq!(
        code(&institute.session(token.into()).err().unwrap()),
        "unauthenticated"
    );
}

#[wasm_bindgen_test]
fn errors_carry_codes_and_fields() {
    let institute = institute();
    let operator = institute.operator();

    let e = operator
        .create_user(
            js(
                &json!({"username": "ravi", "password": "123456", "birth_date": "31/02/2000",
                       "batches": ["Evening"]}),
            ),
            JsValue::UNDEFINED,
        )
        .unwrap_err();
    assert_eq!(code(&e), "validation_failed");
    let fields = rs(&prop(&e, "fields"));
    for field in ["username", "password", "birth_date", "batches"] {
        assert!(
            fields[field].as_array().is_some_and(|m| !m.is_empty()),
            "no {field} error in {fields}"
        );
    }
    assert!(!prop(&e, "message").as_string().unwrap().is_empty());

    assert_eq!(
        code(&operator.get_user(999.0.into()).unwrap_err()),
        "not_found"
    );
    assert_eq!(
        code(&operator.get_user(1.5.into()).unwrap_err()),
        "validation_failed"
    );
    assert_eq!(
        code(&institute.login("admin".into(), "wrong".into()).unwrap_err()),
        "unauthenticated"
    );
    assert_eq!(
        code(
            &institute
                .login("nobody".into(), "wrong".into())
                .unwrap_err()
        ),
        "unauthenticated"
    );
}

#[wasm_bindgen_test]
fn handle_serves_the_http_surface() {
    let institute = institute();
    let no_headers = JsValue::UNDEFINED;

    let answer = institute
        .handle(
            "GET".into(),
            "/api/v2.5/admin/users/".into(),
            no_headers.clone(),
            JsValue::NULL,
        )
        .unwrap();
    assert_eq!(rs(&prop(&answer, "status")), 401);

    let json_type = js(&json!({"Content-Type": "application/json"}));
    let answer = institute
        .handle(
            "POST".into(),
            "/api/v2.5/auth-token/".into(),
            json_type,
            JsValue::from(
                json!({"username": "admin", "password": "a-long-passphrase"}).to_string(),
            ),
        )
        .unwrap();
    let answer = rs(&answer);
    assert_eq!(answer["status"], 200, "{answer}");
    let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    let token = body["token"].as_str().unwrap();

    let auth =
        js(&json!({"Authorization": format!("JWT {token}"), "Content-Type": "application/json"}));
    let answer = rs(&institute
        .handle(
            "POST".into(),
            "/api/v2.5/admin/users/".into(),
            auth.clone(),
            JsValue::from(
                json!({"username": "asha", "password": "asha-pass1", "birth_date": "31/02/2000"})
                    .to_string(),
            ),
        )
        .unwrap());
    assert_eq!(answer["status"], 400, "{answer}");
    assert!(answer["body"].as_str().unwrap().contains("birth_date"));

    let answer = rs(&institute
        .handle(
            "GET".into(),
            "/api/v2.5/admin/users/?q=ravi".into(),
            auth,
            JsValue::NULL,
        )
        .unwrap());
    assert_eq!(answer["status"], 200, "{answer}");
    let page: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(page["count"], 1);
    assert_eq!(page["results"][0]["username"], "ravi");

    let bad = js(&json!({"Authorization": 7}));
    assert_eq!(
        code(
            &institute
                .handle("GET".into(), "/api/v2.5/me/".into(), bad, JsValue::NULL)
                .unwrap_err()
        ),
        "validation_failed"
    );
}

#[wasm_bindgen_test]
async fn open_persistent_needs_a_dedicated_worker() {
    let name = format!("main-{}", (js_sys::Math::random() * 1e9) as u64);
    let e = Institute::open_persistent(name.clone().into(), cheap())
        .await
        .err()
        .unwrap();
    assert_eq!(code(&e), "storage_unavailable");
    assert!(prop(&e, "message").as_string().unwrap().contains("Worker"));

    // Refused before touching OPFS: no file was made.
    let storage = web_sys::window().unwrap().navigator().storage();
    let root: web_sys::FileSystemDirectoryHandle = JsFuture::from(storage.get_directory())
        .await
        .unwrap()
        .into();
    let missing = JsFuture::from(root.get_file_handle(&format!("{name}.redb")))
        .await
        .unwrap_err();
    assert_eq!(prop(&missing, "name").as_string().unwrap(), "NotFoundError");

    let e = Institute::open_persistent("a/b".into(), cheap())
        .await
        .err()
        .unwrap();
    assert_eq!(code(&e), "validation_failed");
}

#[wasm_bindgen_test]
fn a_sunbird_flow_runs_in_the_page() {
    let institute = institute();
    let login = rs(&institute
        .login("admin".into(), "a-long-passphrase".into())
        .unwrap());
    let token = login["token"].as_str().unwrap().to_string();
    let admin = institute.session(token.as_str().into()).unwrap();

    // A user through the typed Sunbird API, shown masked, found by its
    // real email ignoring case.
    let asha = admin
        .sunbird_create(
            js(
                &json!({"firstName": "Asha", "lastName": "Nair", "email": "asha.nair@example.com",
                       "phone": "9876543210", "password": "asha-pass-123"}),
            ),
            "create".into(),
        )
        .unwrap();
    let view = rs(&admin
        .sunbird_read(asha.clone().into(), JsValue::UNDEFINED)
        .unwrap());
    assert_eq!(view["email"], "as*******@example.com");
    assert_eq!(view["phone"], "******3210");
    let found = rs(&admin
        .sunbird_search(js(&json!({
            "filters": {"all": [{"key": "email", "condition": {"anyOf": ["ASHA.NAIR@example.com"]}}]},
            "query": "nair"
        })))
        .unwrap());
    assert_eq!(found["count"], 1, "{found}");
    assert_eq!(found["content"][0]["userId"], asha.as_str());

    // The user manages a child and acts as it with a read's token.
    let me_token = rs(&institute
        .login("asha.nair@example.com".into(), "asha-pass-123".into())
        .unwrap());
    let me = institute
        .session(me_token["token"].as_str().unwrap().into())
        .unwrap();
    let kid = me
        .sunbird_create(
            js(&json!({"firstName": "Kiran", "managedBy": asha})),
            "managed".into(),
        )
        .unwrap();
    let child_token = me
        .sunbird_managed_token(kid.clone().into())
        .unwrap()
        .unwrap();
    let child = me.acting_for(child_token.into()).unwrap();
    let read = rs(&child
        .sunbird_read(kid.clone().into(), JsValue::UNDEFINED)
        .unwrap());
    assert_eq!(read["managedBy"], asha.as_str());
    assert_eq!(admin.sunbird_managed_token(kid.into()).unwrap(), None);

    // The same record through handle: the Sunbird envelope, and its codes
    // on a failure.
    let headers =
        js(&json!({"x-authenticated-user-token": token, "Content-Type": "application/json"}));
    let answer = rs(&institute
        .handle(
            "GET".into(),
            format!("/api/user/v5/read/{asha}").into(),
            headers.clone(),
            JsValue::NULL,
        )
        .unwrap());
    assert_eq!(answer["status"], 200, "{answer}");
    let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        (&body["id"], &body["ver"]),
        (&json!("api.user.read"), &json!("v5"))
    );
    assert_eq!(body["result"]["response"]["userName"], view["userName"]);
    let answer = rs(&institute
        .handle(
            "POST".into(),
            "/api/user/v1/search".into(),
            headers,
            JsValue::from("{not json"),
        )
        .unwrap());
    assert_eq!(answer["status"], 400, "{answer}");
    let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["params"]["status"], "FAILED");
    assert_eq!(body["responseCode"], "CLIENT_ERROR");
}
