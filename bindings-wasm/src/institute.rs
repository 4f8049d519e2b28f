//! The `Institute` class: opening a store, host-level operations, sign-in,
//! and the REST facade.

use crate::admin::Admin;
use crate::convert::{JsResult, config, error, from_js, text, to_js, usage};
use serde_json::json;
use wasm_bindgen::prelude::*;

/// An institute: one roster store.
#[wasm_bindgen]
pub struct Institute(roster::Institute);

#[wasm_bindgen]
impl Institute {
    /// An institute kept in memory (lost when the page goes).
    #[wasm_bindgen(js_name = inMemory)]
    pub fn in_memory(
        #[wasm_bindgen(js_name = config, unchecked_optional_param_type = "Config")]
        config_object: JsValue,
    ) -> JsResult<Institute> {
        let config = config(config_object)?;
        roster::Institute::in_memory(config)
            .map(Institute)
            .map_err(error)
    }

    /// An institute persisted in the browser's Origin Private File System
    /// under `name`. Only inside a dedicated Web Worker (the synchronous OPFS
    /// handle exists only there). Rejects with code `storage_unavailable`
    /// where OPFS is missing (fall back to `inMemory`), and `store_locked`
    /// when another tab or worker holds the store.
    #[wasm_bindgen(js_name = openPersistent)]
    pub async fn open_persistent(
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        #[wasm_bindgen(js_name = config, unchecked_optional_param_type = "Config")]
        config_object: JsValue,
    ) -> JsResult<Institute> {
        let name = text(&name, "name")?;
        let config = config(config_object)?;
        let backend = crate::opfs::OpfsBackend::open(&name).await?;
        roster::Institute::open_host_file(backend, config)
            .map(Institute)
            .map_err(error)
    }

    /// Creates an active staff superuser, or makes an existing user one with
    /// this password. A trusted host operation (SPEC A6): whoever runs this
    /// code owns the store; never expose it to a page's users.
    #[wasm_bindgen(js_name = createSuperuser)]
    pub fn create_superuser(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] username: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] password: JsValue,
    ) -> JsResult<f64> {
        let username = text(&username, "username")?;
        let password = text(&password, "password")?;
        self.0
            .create_superuser(&username, &password)
            .map(|id| id as f64)
            .map_err(error)
    }

    /// Signs in by username or email: `{token, expires, user}`. Every failure
    /// is the same `unauthenticated` error.
    #[wasm_bindgen(unchecked_return_type = "Login")]
    pub fn login(
        &self,
        #[wasm_bindgen(js_name = usernameOrEmail, unchecked_param_type = "string")]
        username_or_email: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] password: JsValue,
    ) -> JsResult<JsValue> {
        let username_or_email = text(&username_or_email, "usernameOrEmail")?;
        let password = text(&password, "password")?;
        let login = self.0.login(&username_or_email, &password).map_err(error)?;
        Ok(to_js(&roster::json::login(&login)))
    }

    /// Ends the session of `token`.
    pub fn logout(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
    ) -> JsResult<()> {
        self.0.logout(&text(&token, "token")?).map_err(error)
    }

    /// The handle of trusted host code: every permission (SPEC A6). Every
    /// `Admin` shares this institute's store: a persistent store's file is
    /// released only when the `Institute` and all its `Admin`s are freed.
    pub fn operator(&self) -> Admin {
        Admin::from(self.0.operator())
    }

    /// The handle of the signed-in user of `token`.
    pub fn session(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
    ) -> JsResult<Admin> {
        self.0
            .session(&text(&token, "token")?)
            .map(Admin::from)
            .map_err(error)
    }

    /// Serves one request of the documented HTTP surface, authenticating it
    /// like a server: `{status, headers, body}`.
    #[wasm_bindgen(unchecked_return_type = "HttpResponse")]
    pub fn handle(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] method: JsValue,
        #[wasm_bindgen(js_name = pathWithQuery, unchecked_param_type = "string")]
        path_with_query: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "Record<string, string> | null")]
        headers: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "string | null")] body: JsValue,
    ) -> JsResult<JsValue> {
        let method = text(&method, "method")?;
        let path_with_query = text(&path_with_query, "pathWithQuery")?;
        let mut request = roster::rest::Request::new(&method, &path_with_query);
        if let serde_json::Value::Object(map) = from_js(headers)? {
            for (name, value) in map {
                let value = value
                    .as_str()
                    .ok_or_else(|| usage("header values must be strings"))?
                    .to_string();
                request = request.with_header(&name, &value);
            }
        }
        if body.is_string() {
            request = request.with_body(text(&body, "body")?);
        } else if !body.is_undefined() && !body.is_null() {
            return Err(usage("the body must be a string or null"));
        }
        let response = roster::rest::handle(&self.0, request);
        let headers: serde_json::Map<String, serde_json::Value> = response
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        Ok(to_js(
            &json!({"status": response.status, "headers": headers, "body": response.body}),
        ))
    }

    /// Every inconsistency of the store (none for a sound one).
    #[wasm_bindgen(js_name = checkIntegrity)]
    pub fn check_integrity(&self) -> JsResult<Vec<String>> {
        self.0.check_integrity().map_err(error)
    }

    /// The store format version of this build.
    #[wasm_bindgen(js_name = schemaVersion)]
    pub fn schema_version() -> f64 {
        roster::Institute::schema_version() as f64
    }
}
