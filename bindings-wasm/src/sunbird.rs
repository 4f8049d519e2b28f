//! The Sunbird user lifecycle (seed 004) on the `Admin` class: one
//! delegation per operation, the core's records in and out (camelCase
//! keys, TypeScript declared from the Rust types).

use crate::admin::Admin;
use crate::convert::{JsResult, error, from_js, id, opt_text, out, read, text, texts, usage};
use roster::api::sunbird::{IdType, OrgInput, OrgSearch};
use roster::domain::sunbird::{
    CreateRoute, DeclarationChange, ReadParts, RoleChange, SearchRequest, SunbirdInput,
};
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;

/// A JS object as the core record `T` (unknown keys refused; a refusal
/// names the key at fault, never its value, which may be a password).
fn record<T: DeserializeOwned>(value: JsValue, what: &str) -> JsResult<T> {
    let json = match from_js(value)? {
        serde_json::Value::Null => serde_json::Value::Object(Default::default()),
        json => json,
    };
    read(&json, what)
}

/// JS string argument `name` as the core enum `T` (`"create"`, `"email"`, ...).
fn choice<T: DeserializeOwned>(value: &JsValue, name: &str) -> JsResult<T> {
    let value = text(value, name)?;
    serde_json::from_value(serde_json::Value::String(value.clone()))
        .map_err(|_| usage(&format!("bad {name}: {value:?}")))
}

#[wasm_bindgen]
impl Admin {
    /// Creates a user through a Sunbird route (`"create"`, `"signup"`,
    /// `"sso"`, `"managed"`): its `userId`.
    #[wasm_bindgen(js_name = sunbirdCreate)]
    pub fn sunbird_create(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SunbirdInput")] input: JsValue,
        #[wasm_bindgen(unchecked_param_type = "CreateRoute")] route: JsValue,
    ) -> JsResult<String> {
        let input: SunbirdInput = record(input, "Sunbird user")?;
        let route: CreateRoute = choice(&route, "route")?;
        self.0.sunbird_create(input, route).map_err(error)
    }

    /// A user as Sunbird shows it (S6), contact data masked.
    #[wasm_bindgen(js_name = sunbirdRead, unchecked_return_type = "SunbirdView")]
    pub fn sunbird_read(
        &self,
        #[wasm_bindgen(js_name = userId, unchecked_param_type = "string")] user_id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ReadParts")] parts: JsValue,
    ) -> JsResult<JsValue> {
        let user_id = text(&user_id, "userId")?;
        let parts: ReadParts = record(parts, "read parts")?;
        out(self.0.sunbird_read(&user_id, parts), |v| v)
    }

    /// A user by user name, email or phone (S9), as `sunbirdRead` shows it.
    #[wasm_bindgen(js_name = sunbirdReadLogin, unchecked_return_type = "SunbirdView")]
    pub fn sunbird_read_login(
        &self,
        #[wasm_bindgen(js_name = loginId, unchecked_param_type = "string")] login_id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ReadParts")] parts: JsValue,
    ) -> JsResult<JsValue> {
        let login_id = text(&login_id, "loginId")?;
        let parts: ReadParts = record(parts, "read parts")?;
        out(self.0.sunbird_read_login(&login_id, parts), |v| v)
    }

    /// Updates a user (S5).
    #[wasm_bindgen(js_name = sunbirdUpdate)]
    pub fn sunbird_update(
        &self,
        #[wasm_bindgen(js_name = userId, unchecked_param_type = "string")] user_id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "SunbirdInput")] patch: JsValue,
    ) -> JsResult<()> {
        let user_id = text(&user_id, "userId")?;
        let patch: SunbirdInput = record(patch, "Sunbird user")?;
        self.0.sunbird_update(&user_id, patch).map_err(error)
    }

    /// Searches users (S4): `{count, content}`.
    #[wasm_bindgen(js_name = sunbirdSearch, unchecked_return_type = "SearchResult")]
    pub fn sunbird_search(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SearchRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        let request: SearchRequest = record(request, "search")?;
        out(self.0.sunbird_search(&request), |r| r)
    }

    /// Whether a user has `id` as its `idType` (`"email"`, `"phone"`,
    /// `"userName"`): `{userId, name}`, or `null`.
    #[wasm_bindgen(js_name = sunbirdExists, unchecked_return_type = "Found | null")]
    pub fn sunbird_exists(
        &self,
        #[wasm_bindgen(js_name = idType, unchecked_param_type = "IdType")] id_type: JsValue,
        #[wasm_bindgen(js_name = id, unchecked_param_type = "string")] id_arg: JsValue,
    ) -> JsResult<JsValue> {
        let kind: IdType = choice(&id_type, "idType")?;
        let id = text(&id_arg, "id")?;
        out(self.0.sunbird_exists(kind, &id), |f| f)
    }

    /// The user with `id` as its `idType` (S7), masked as `sunbirdRead`
    /// shows it.
    #[wasm_bindgen(js_name = sunbirdGet, unchecked_return_type = "SunbirdView")]
    pub fn sunbird_get(
        &self,
        #[wasm_bindgen(js_name = idType, unchecked_param_type = "IdType")] id_type: JsValue,
        #[wasm_bindgen(js_name = id, unchecked_param_type = "string")] id_arg: JsValue,
    ) -> JsResult<JsValue> {
        let kind: IdType = choice(&id_type, "idType")?;
        let id = text(&id_arg, "id")?;
        out(self.0.sunbird_get(kind, &id), |v| v)
    }

    /// Blocks a user (S8): its sessions end.
    #[wasm_bindgen(js_name = sunbirdBlock)]
    pub fn sunbird_block(
        &self,
        #[wasm_bindgen(js_name = userId, unchecked_param_type = "string")] user_id: JsValue,
    ) -> JsResult<()> {
        self.0
            .sunbird_block(&text(&user_id, "userId")?)
            .map_err(error)
    }

    /// Unblocks a user (S8).
    #[wasm_bindgen(js_name = sunbirdUnblock)]
    pub fn sunbird_unblock(
        &self,
        #[wasm_bindgen(js_name = userId, unchecked_param_type = "string")] user_id: JsValue,
    ) -> JsResult<()> {
        self.0
            .sunbird_unblock(&text(&user_id, "userId")?)
            .map_err(error)
    }

    /// The users `managerId` manages (S3); tokens for the manager only.
    #[wasm_bindgen(js_name = managedUsers, unchecked_return_type = "ManagedEntry[]")]
    pub fn managed_users(
        &self,
        #[wasm_bindgen(js_name = managerId, unchecked_param_type = "string")] manager_id: JsValue,
        #[wasm_bindgen(js_name = withTokens, unchecked_param_type = "boolean | undefined")]
        with_tokens: JsValue,
    ) -> JsResult<JsValue> {
        let manager_id = text(&manager_id, "managerId")?;
        let with_tokens = crate::convert::opt_flag(&with_tokens, "withTokens")?;
        out(
            self.0
                .managed_users(&manager_id, with_tokens.unwrap_or(false)),
            |m| m,
        )
    }

    /// A token acting as managed user `userId`, for its manager only
    /// (`withTokens` on a read, S6); `undefined` for anyone else.
    #[wasm_bindgen(js_name = sunbirdManagedToken)]
    pub fn sunbird_managed_token(
        &self,
        #[wasm_bindgen(js_name = userId, unchecked_param_type = "string")] user_id: JsValue,
    ) -> JsResult<Option<String>> {
        self.0
            .sunbird_managed_token(&text(&user_id, "userId")?)
            .map_err(error)
    }

    /// Replaces a user's roles in one organisation (S13 v1).
    #[wasm_bindgen(js_name = assignRoles)]
    pub fn assign_roles(
        &self,
        #[wasm_bindgen(js_name = userId, unchecked_param_type = "string")] user_id: JsValue,
        #[wasm_bindgen(js_name = organisationId, unchecked_param_type = "number")]
        organisation_id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string[]")] roles: JsValue,
    ) -> JsResult<()> {
        let user_id = text(&user_id, "userId")?;
        let org = id(&organisation_id, "organisationId")?;
        let roles = texts(&roles, "roles")?;
        self.0
            .assign_roles(&user_id, Some(org), &roles)
            .map_err(error)
    }

    /// Adds, removes or edits roles with scope (S13 v2).
    #[wasm_bindgen(js_name = changeRoles)]
    pub fn change_roles(
        &self,
        #[wasm_bindgen(js_name = userId, unchecked_param_type = "string")] user_id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "RoleChange[]")] changes: JsValue,
    ) -> JsResult<()> {
        let user_id = text(&user_id, "userId")?;
        let changes: Vec<RoleChange> = record(changes, "role changes")?;
        self.0.change_roles(&user_id, &changes).map_err(error)
    }

    /// Accepts the latest terms (S14).
    #[wasm_bindgen(js_name = acceptTerms)]
    pub fn accept_terms(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] version: JsValue,
        #[wasm_bindgen(js_name = userId, unchecked_optional_param_type = "string | null")]
        user_id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "string | null")] kind: JsValue,
    ) -> JsResult<()> {
        let version = text(&version, "version")?;
        let user_id = opt_text(&user_id, "userId")?;
        let kind = opt_text(&kind, "kind")?;
        self.0
            .accept_terms(&version, user_id.as_deref(), kind.as_deref())
            .map_err(error)
    }

    /// Sets a system setting (`tncConfig`, ...): superusers only.
    #[wasm_bindgen(js_name = setSystemSetting)]
    pub fn set_system_setting(
        &self,
        #[wasm_bindgen(js_name = id, unchecked_param_type = "string")] id_arg: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] value: JsValue,
    ) -> JsResult<()> {
        let id = text(&id_arg, "id")?;
        let value = text(&value, "value")?;
        self.0.set_system_setting(&id, &id, &value).map_err(error)
    }

    /// Applies declaration changes (S10).
    #[wasm_bindgen(js_name = updateDeclarations)]
    pub fn update_declarations(
        &self,
        #[wasm_bindgen(unchecked_param_type = "DeclarationChange[]")] changes: JsValue,
    ) -> JsResult<()> {
        let changes: Vec<DeclarationChange> = record(changes, "declarations")?;
        self.0.update_declarations(&changes).map_err(error)
    }

    /// Merges account `from` into `to` (S12).
    #[wasm_bindgen(js_name = mergeAccounts)]
    pub fn merge_accounts(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] from: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] to: JsValue,
    ) -> JsResult<()> {
        let from = text(&from, "from")?;
        let to = text(&to, "to")?;
        self.0.merge_accounts(&from, &to).map_err(error)
    }

    /// Claims (`accept`) or rejects a shadow account (S11): `"accepted"`,
    /// `"rejected"`, or `{wrongId: {remaining, given}}` for a wrong
    /// `userExtId` while attempts remain.
    #[wasm_bindgen(js_name = migrate, unchecked_return_type = "Migrated")]
    pub fn migrate(
        &self,
        #[wasm_bindgen(js_name = userId, unchecked_param_type = "string")] user_id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] channel: JsValue,
        #[wasm_bindgen(unchecked_param_type = "boolean")] accept: JsValue,
        #[wasm_bindgen(js_name = userExtId, unchecked_param_type = "string")] user_ext_id: JsValue,
    ) -> JsResult<JsValue> {
        let user_id = text(&user_id, "userId")?;
        let channel = text(&channel, "channel")?;
        let accept = crate::convert::flag(&accept, "accept")?;
        let user_ext_id = text(&user_ext_id, "userExtId")?;
        out(
            self.0.migrate(&user_id, &channel, accept, &user_ext_id),
            |m| m,
        )
    }

    /// Creates an organisation (S13): its id.
    #[wasm_bindgen(js_name = createOrganisation)]
    pub fn create_organisation(
        &self,
        #[wasm_bindgen(unchecked_param_type = "OrgInput")] input: JsValue,
    ) -> JsResult<f64> {
        let input: OrgInput = record(input, "organisation")?;
        self.0
            .create_organisation(input)
            .map(|id| id as f64)
            .map_err(error)
    }

    /// The handle acting as the managed user of `managedToken` (from
    /// `managedUsers(.., true)`), for its manager only: what
    /// `x-authenticated-for` does on the REST surface (S3).
    #[wasm_bindgen(js_name = actingFor)]
    pub fn acting_for(
        &self,
        #[wasm_bindgen(js_name = managedToken, unchecked_param_type = "string")]
        managed_token: JsValue,
    ) -> JsResult<Admin> {
        self.0
            .acting_for(&text(&managed_token, "managedToken")?)
            .map(Admin::from)
            .map_err(error)
    }

    /// Organisations by ascending id, filtered or not (S13): `{count,
    /// content}`, every match's count and the page `offset`, `limit`.
    #[wasm_bindgen(js_name = searchOrganisations, unchecked_return_type = "OrgSearchResult")]
    pub fn search_organisations(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "OrgSearch")] request: JsValue,
    ) -> JsResult<JsValue> {
        let request: OrgSearch = record(request, "organisation search")?;
        out(self.0.search_organisations(&request), |r| r)
    }

    /// Organisation `id`.
    #[wasm_bindgen(js_name = organisation, unchecked_return_type = "OrgView")]
    pub fn organisation(
        &self,
        #[wasm_bindgen(js_name = id, unchecked_param_type = "number")] id_arg: JsValue,
    ) -> JsResult<JsValue> {
        out(self.0.organisation(id(&id_arg, "id")?), |o| o)
    }
}
