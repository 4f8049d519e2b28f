//! `Admin`: groups and permissions, self-service, sessions, the outbox,
//! import and export.

use crate::admin::{Admin, page};
use crate::convert::{JsResult, error, from_js, id, opt_text, out, text, to_js};
use roster::json;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
impl Admin {
    /// Creates a group: `{name, permissions?}`.
    #[wasm_bindgen(js_name = createGroup, unchecked_return_type = "Group")]
    pub fn create_group(
        &self,
        #[wasm_bindgen(unchecked_param_type = "GroupInput")] input: JsValue,
    ) -> JsResult<JsValue> {
        out(
            self.0
                .create_group(json::group_input(from_js(input)?).map_err(error)?),
            |g| json::group(&g),
        )
    }

    /// Groups, filtered by exact name ignoring case.
    #[wasm_bindgen(js_name = listGroups, unchecked_return_type = "Page<Group>")]
    pub fn list_groups(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | null | undefined")] name: JsValue,
        #[wasm_bindgen(js_name = which, unchecked_optional_param_type = "PageArg")] which: JsValue,
    ) -> JsResult<JsValue> {
        let name = opt_text(&name, "name")?;
        out(self.0.list_groups(name.as_deref(), page(which)?), |p| {
            json::page(&p, json::group)
        })
    }

    /// Group `id`.
    #[wasm_bindgen(js_name = getGroup, unchecked_return_type = "Group")]
    pub fn get_group(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] group: JsValue,
    ) -> JsResult<JsValue> {
        out(self.0.get_group(id(&group, "group")?), |g| json::group(&g))
    }

    /// Changes group `id`.
    #[wasm_bindgen(js_name = updateGroup, unchecked_return_type = "Group")]
    pub fn update_group(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] group: JsValue,
        #[wasm_bindgen(unchecked_param_type = "GroupInput")] input: JsValue,
    ) -> JsResult<JsValue> {
        out(
            self.0.update_group(
                id(&group, "group")?,
                json::group_input(from_js(input)?).map_err(error)?,
            ),
            |g| json::group(&g),
        )
    }

    /// Deletes group `id`.
    #[wasm_bindgen(js_name = deleteGroup)]
    pub fn delete_group(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] group: JsValue,
    ) -> JsResult<()> {
        self.0.delete_group(id(&group, "group")?).map_err(error)
    }

    /// The permission catalogue.
    #[wasm_bindgen(unchecked_return_type = "Permission[]")]
    pub fn permissions(&self) -> JsResult<JsValue> {
        out(self.0.permissions(), |v| {
            v.iter().map(json::permission).collect::<Vec<_>>()
        })
    }

    /// Whether user `id` has permission `name` (`roster.view_user`).
    #[wasm_bindgen(js_name = hasPerm)]
    pub fn has_perm(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] user: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
    ) -> JsResult<bool> {
        let user = id(&user, "user")?;
        self.0.has_perm(user, &text(&name, "name")?).map_err(error)
    }

    /// The caller's own user.
    #[wasm_bindgen(unchecked_return_type = "User")]
    pub fn me(&self) -> JsResult<JsValue> {
        out(self.0.me(), |u| json::user(&u))
    }

    /// Changes the caller's own profile (flags and password are ignored).
    #[wasm_bindgen(js_name = updateMe, unchecked_return_type = "User")]
    pub fn update_me(
        &self,
        #[wasm_bindgen(unchecked_param_type = "UserPatch")] patch: JsValue,
    ) -> JsResult<JsValue> {
        out(
            self.0
                .update_me(json::user_patch(from_js(patch)?).map_err(error)?),
            |u| json::user(&u),
        )
    }

    /// Changes the caller's own password; this session goes on.
    #[wasm_bindgen(js_name = changeMyPassword)]
    pub fn change_my_password(
        &self,
        #[wasm_bindgen(js_name = oldPassword, unchecked_param_type = "string")]
        old_password: JsValue,
        #[wasm_bindgen(js_name = newPassword, unchecked_param_type = "string")]
        new_password: JsValue,
    ) -> JsResult<()> {
        let old_password = text(&old_password, "oldPassword")?;
        let new_password = text(&new_password, "newPassword")?;
        self.0
            .change_my_password(&old_password, &new_password)
            .map_err(error)
    }

    /// Ends every session of user `id`; returns how many.
    #[wasm_bindgen(js_name = logoutEverywhere)]
    pub fn logout_everywhere(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] user: JsValue,
    ) -> JsResult<f64> {
        self.0
            .logout_everywhere(id(&user, "user")?)
            .map(|n| n as f64)
            .map_err(error)
    }

    /// Ends the lock-out of user `id` at once (needs `change_user` and
    /// every permission the user holds).
    #[wasm_bindgen(js_name = unlockUser)]
    pub fn unlock_user(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] user: JsValue,
    ) -> JsResult<()> {
        self.0.unlock_user(id(&user, "user")?).map_err(error)
    }

    /// Signs this handle's session out; its token stops working.
    #[wasm_bindgen(js_name = signOut)]
    pub fn sign_out(&self) -> JsResult<()> {
        self.0.sign_out().map_err(error)
    }

    /// Takes every queued message (credentials) once. The operator only.
    #[wasm_bindgen(js_name = takeOutbox, unchecked_return_type = "OutboxMessage[]")]
    pub fn take_outbox(&self) -> JsResult<JsValue> {
        out(self.0.take_outbox(), |v| {
            v.iter().map(json::outbox_message).collect::<Vec<_>>()
        })
    }

    /// Imports users from CSV or JSON Lines text (or restores an export
    /// into an empty store): `{created, rejected: [{line, username, reason}],
    /// rejected_count, restored, warnings}` (`rejected` lists the first 1,000
    /// refused rows, `rejected_count` counts them all).
    /// `options`: `{batches?: string[], expires?: "yyyy-mm-dd", chunkSize?}`;
    /// every row joins `batches` besides its own, until `expires`.
    /// `chunkSize` is rows per transaction (default 1000): a large import
    /// into an OPFS store runs about 2.4 times faster with 10000.
    #[wasm_bindgen(js_name = importUsers, unchecked_return_type = "ImportReport")]
    pub fn import_users(
        &self,
        #[wasm_bindgen(js_name = text, unchecked_param_type = "string")] text_arg: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ImportOptions")] options: JsValue,
    ) -> JsResult<JsValue> {
        let text = text(&text_arg, "text")?;
        let options = crate::convert::import_options(options)?;
        let report = roster::transfer::import(&self.0, text.as_bytes(), &options, &mut |_| {})
            .map_err(error)?;
        Ok(to_js(&report))
    }

    /// The whole store as JSON Lines, password hashes included. The
    /// operator only (a host-level operation).
    #[wasm_bindgen(js_name = exportText)]
    pub fn export_text(&self) -> JsResult<String> {
        let mut bytes = Vec::new();
        roster::transfer::export(&self.0, &mut bytes).map_err(error)?;
        String::from_utf8(bytes).map_err(|e| crate::convert::usage(&e.to_string()))
    }
}
