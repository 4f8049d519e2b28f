//! roster-wasm in a dedicated Web Worker (headless Chromium through
//! wasm-bindgen-test): a store persisted in the Origin Private File System
//! survives closing and reopening, a second opener is refused with
//! `store_locked`, and one sign-in with the default argon2 cost is timed.
//!
//! ```sh
//! CHROMEDRIVER=/usr/bin/chromedriver cargo test -p roster-wasm \
//!     --target wasm32-unknown-unknown --test worker -- --nocapture
//! ```

#![cfg(target_arch = "wasm32")]

mod common;
use common::*;

use roster_wasm::Institute;
use serde_json::json;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

/// A fresh store name, so runs never meet each other's files.
fn fresh_name(prefix: &str) -> String {
    format!("{prefix}-{:x}", (js_sys::Math::random() * 1e15) as u64)
}

async fn opfs_root() -> web_sys::FileSystemDirectoryHandle {
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    JsFuture::from(scope.navigator().storage().get_directory())
        .await
        .unwrap()
        .unchecked_into()
}

/// The size of the store's OPFS file, as the browser sees it.
async fn file_size(name: &str) -> f64 {
    let file: web_sys::FileSystemFileHandle =
        JsFuture::from(opfs_root().await.get_file_handle(&format!("{name}.redb")))
            .await
            .unwrap()
            .unchecked_into();
    let blob: web_sys::Blob = JsFuture::from(file.get_file())
        .await
        .unwrap()
        .unchecked_into();
    blob.size()
}

async fn remove(name: &str) {
    JsFuture::from(opfs_root().await.remove_entry(&format!("{name}.redb")))
        .await
        .unwrap();
}

#[wasm_bindgen_test]
async fn a_persistent_store_survives_reopening() {
    let name = fresh_name("t");
    {
        let institute = Institute::open_persistent(name.clone().into(), cheap())
            .await
            .unwrap();
        let operator = institute.operator();
        operator
            .create_batch(js(&json!({"name": "Morning"})))
            .unwrap();
        institute
            .create_superuser("admin".into(), "a-long-passphrase".into())
            .unwrap();
        for i in 0..20 {
            operator
                .create_user(
                    js(&json!({"username": format!("student{i}"), "password": format!("pass-{i}-word"),
                               "email": format!("s{i}@example.com"), "batches": ["Morning"]})),
                    JsValue::UNDEFINED,
                )
                .unwrap();
        }
        assert!(institute.check_integrity().unwrap().is_empty());
        // Dropped here: redb closes the backend, releasing the sync handle.
    }
    assert!(file_size(&name).await > 0.0);

    let institute = Institute::open_persistent(name.clone().into(), cheap())
        .await
        .unwrap();
    assert!(institute.check_integrity().unwrap().is_empty());
    let operator = institute.operator();
    let page = rs(&operator
        .list_users(js(&json!({"perPage": 100, "withBatches": true})))
        .unwrap());
    assert_eq!(page["count"], 21, "{page}");
    let s7 = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "student7")
        .unwrap();
    assert_eq!(s7["email"], "s7@example.com");
    assert_eq!(s7["batches"][0]["name"], "Morning");

    // The hashes came back too: the users sign in.
    let login = rs(&institute
        .login("student7".into(), "pass-7-word".into())
        .unwrap());
    let admin_login = rs(&institute
        .login("admin".into(), "a-long-passphrase".into())
        .unwrap());
    let admin = institute
        .session(admin_login["token"].as_str().unwrap().into())
        .unwrap();
    assert_eq!(
        rs(&admin
            .get_user(login["user"].as_f64().unwrap().into())
            .unwrap())["username"],
        "student7"
    );

    // Sessions are stored too: a token outlives the reopening. Every Admin
    // handle shares the store, so all of them go before it closes.
    let token = login["token"].as_str().unwrap().to_string();
    drop((admin, operator, institute));
    let institute = Institute::open_persistent(name.clone().into(), cheap())
        .await
        .unwrap();
    let student = institute.session(token.as_str().into()).unwrap();
    assert_eq!(rs(&student.me().unwrap())["username"], "student7");
    drop((student, institute));
    remove(&name).await;
}

#[wasm_bindgen_test]
async fn a_second_opener_is_refused_while_the_first_is_open() {
    let name = fresh_name("lock");
    let first = Institute::open_persistent(name.clone().into(), cheap())
        .await
        .unwrap();
    first
        .operator()
        .create_batch(js(&json!({"name": "Morning"})))
        .unwrap();

    let e = Institute::open_persistent(name.clone().into(), cheap())
        .await
        .err()
        .unwrap();
    assert_eq!(code(&e), "store_locked");

    // The first is unharmed, and once it closes the store opens again.
    assert_eq!(
        rs(&first
            .operator()
            .list_batches(JsValue::UNDEFINED, JsValue::UNDEFINED)
            .unwrap())["count"],
        1
    );
    drop(first);
    let second = Institute::open_persistent(name.clone().into(), cheap())
        .await
        .unwrap();
    assert_eq!(
        rs(&second
            .operator()
            .list_batches(JsValue::UNDEFINED, JsValue::UNDEFINED)
            .unwrap())["count"],
        1
    );
    drop(second);
    remove(&name).await;
}

#[wasm_bindgen_test]
async fn bad_store_names_are_refused() {
    let e = Institute::open_persistent("../escape".into(), cheap())
        .await
        .err()
        .unwrap();
    assert_eq!(code(&e), "validation_failed");
    let e = Institute::open_persistent(String::new().into(), cheap())
        .await
        .err()
        .unwrap();
    assert_eq!(code(&e), "validation_failed");
}

#[wasm_bindgen_test]
async fn sign_in_with_the_default_argon2_cost() {
    let name = fresh_name("argon2");
    let institute = Institute::open_persistent(name.clone().into(), JsValue::UNDEFINED)
        .await
        .unwrap();

    let start = js_sys::Date::now();
    institute
        .create_superuser("admin".into(), "a-long-passphrase".into())
        .unwrap();
    let hashed = js_sys::Date::now() - start;

    let start = js_sys::Date::now();
    let login = rs(&institute
        .login("admin".into(), "a-long-passphrase".into())
        .unwrap());
    let signed_in = js_sys::Date::now() - start;
    assert_eq!(login["token"].as_str().unwrap().len(), 64);

    console_log!(
        "argon2id m=19456 KiB t=2 p=1 in a dedicated worker on OPFS: \
         create_superuser {hashed:.0} ms, one sign-in {signed_in:.0} ms"
    );
    drop(institute);
    remove(&name).await;
}

fn sync_handle_prototype() -> JsValue {
    prop(
        &prop(&js_sys::global(), "FileSystemSyncAccessHandle"),
        "prototype",
    )
}

/// Makes every sync access handle's `getSize()` answer `size`, as a broken
/// browser (or a polyfill) might; returns the browser's own `getSize`.
fn fake_get_size(size: JsValue) -> JsValue {
    let prototype = sync_handle_prototype();
    let original = prop(&prototype, "getSize");
    let fake = Closure::<dyn FnMut() -> JsValue>::new(move || size.clone()).into_js_value();
    js_sys::Reflect::set(&prototype, &"getSize".into(), &fake).unwrap();
    original
}

fn restore_get_size(original: &JsValue) {
    js_sys::Reflect::set(&sync_handle_prototype(), &"getSize".into(), original).unwrap();
}

#[wasm_bindgen_test]
async fn a_size_that_is_not_a_size_is_an_io_error_and_the_store_is_kept() {
    let name = fresh_name("size");
    {
        let institute = Institute::open_persistent(name.clone().into(), cheap())
            .await
            .unwrap();
        institute
            .operator()
            .create_batch(js(&json!({"name": "Morning"})))
            .unwrap();
    }
    let size = file_size(&name).await;
    assert!(size > 0.0);
    let bad = [
        JsValue::from(f64::NAN),
        JsValue::from(-1.0),
        JsValue::from(0.5),
        JsValue::from(f64::INFINITY),
        JsValue::from(format!("{size}")),
        JsValue::UNDEFINED,
        JsValue::NULL,
    ];
    for value in bad {
        let shown = format!("{value:?}");
        let original = fake_get_size(value);
        let opened = Institute::open_persistent(name.clone().into(), cheap()).await;
        restore_get_size(&original);
        let e = opened
            .err()
            .unwrap_or_else(|| panic!("opened with getSize() = {shown}"));
        // An I/O failure, not a damaged store (`corrupt_store`, "run roster
        // check", as a NaN read as 0 made it) nor a size taken from a string.
        assert_eq!(code(&e), "storage_error", "{shown}");
        // Nothing was written: the file is as it was.
        assert_eq!(file_size(&name).await, size, "{shown}");
    }
    let institute = Institute::open_persistent(name.clone().into(), cheap())
        .await
        .unwrap();
    assert_eq!(
        rs(&institute
            .operator()
            .list_batches(JsValue::UNDEFINED, JsValue::UNDEFINED)
            .unwrap())["count"],
        1
    );
    assert!(institute.check_integrity().unwrap().is_empty());
    drop(institute);
    remove(&name).await;
}
