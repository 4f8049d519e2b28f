//! The Sunbird user lifecycle (seed 004) on the `Admin` object: one
//! delegation per operation; the records are the core's.

use crate::admin::Admin;
use crate::error::Result;
use roster::api::sunbird::{
    Found, IdType, ManagedEntry, OrgInput, OrgSearch, OrgSearchResult, SearchResult,
};
use roster::domain::sunbird::{
    CreateRoute, DeclarationChange, Migrated, OrgView, ReadParts, RoleChange, SearchRequest,
    SunbirdInput, SunbirdView,
};

#[uniffi::export]
impl Admin {
    /// Creates a user through a Sunbird route (S1-S3): its `userId`.
    pub fn sunbird_create(&self, input: SunbirdInput, route: CreateRoute) -> Result<String> {
        Ok(self.core().sunbird_create(input, route)?)
    }

    /// A user as Sunbird shows it (S6), contact data masked.
    #[uniffi::method(default(parts))]
    pub fn sunbird_read(&self, user_id: String, parts: ReadParts) -> Result<SunbirdView> {
        Ok(self.core().sunbird_read(&user_id, parts)?)
    }

    /// A user by user name, email or phone (S9).
    #[uniffi::method(default(parts))]
    pub fn sunbird_read_login(&self, login_id: String, parts: ReadParts) -> Result<SunbirdView> {
        Ok(self.core().sunbird_read_login(&login_id, parts)?)
    }

    /// Updates a user (S5).
    pub fn sunbird_update(&self, user_id: String, patch: SunbirdInput) -> Result<()> {
        Ok(self.core().sunbird_update(&user_id, patch)?)
    }

    /// Searches users (S4).
    pub fn sunbird_search(&self, request: SearchRequest) -> Result<SearchResult> {
        Ok(self.core().sunbird_search(&request)?)
    }

    /// Whether a user has `id` as its `id_type` (S7).
    pub fn sunbird_exists(&self, id_type: IdType, id: String) -> Result<Option<Found>> {
        Ok(self.core().sunbird_exists(id_type, &id)?)
    }

    /// The user with `id` as its `id_type` (S7), masked.
    pub fn sunbird_get(&self, id_type: IdType, id: String) -> Result<SunbirdView> {
        Ok(self.core().sunbird_get(id_type, &id)?)
    }

    /// Blocks a user (S8): its sessions end.
    pub fn sunbird_block(&self, user_id: String) -> Result<()> {
        Ok(self.core().sunbird_block(&user_id)?)
    }

    /// Unblocks a user (S8).
    pub fn sunbird_unblock(&self, user_id: String) -> Result<()> {
        Ok(self.core().sunbird_unblock(&user_id)?)
    }

    /// The users `manager_id` manages (S3); tokens for the manager only.
    #[uniffi::method(default(with_tokens = false))]
    pub fn managed_users(
        &self,
        manager_id: String,
        with_tokens: bool,
    ) -> Result<Vec<ManagedEntry>> {
        Ok(self.core().managed_users(&manager_id, with_tokens)?)
    }

    /// A token acting as managed user `user_id`, for its manager only
    /// (`withTokens` on a read, S6); `None` for anyone else.
    pub fn sunbird_managed_token(&self, user_id: String) -> Result<Option<String>> {
        Ok(self.core().sunbird_managed_token(&user_id)?)
    }

    /// Replaces a user's roles in one organisation (S13 v1).
    pub fn assign_roles(
        &self,
        user_id: String,
        organisation_id: u64,
        roles: Vec<String>,
    ) -> Result<()> {
        Ok(self
            .core()
            .assign_roles(&user_id, Some(organisation_id), &roles)?)
    }

    /// Adds, removes or edits roles with scope (S13 v2).
    pub fn change_roles(&self, user_id: String, changes: Vec<RoleChange>) -> Result<()> {
        Ok(self.core().change_roles(&user_id, &changes)?)
    }

    /// Accepts the latest terms (S14).
    #[uniffi::method(default(user_id = None, kind = None))]
    pub fn accept_terms(
        &self,
        version: String,
        user_id: Option<String>,
        kind: Option<String>,
    ) -> Result<()> {
        Ok(self
            .core()
            .accept_terms(&version, user_id.as_deref(), kind.as_deref())?)
    }

    /// Sets a system setting (`tncConfig`, ...): superusers only.
    pub fn set_system_setting(&self, id: String, value: String) -> Result<()> {
        Ok(self.core().set_system_setting(&id, &id, &value)?)
    }

    /// Applies declaration changes (S10).
    pub fn update_declarations(&self, changes: Vec<DeclarationChange>) -> Result<()> {
        Ok(self.core().update_declarations(&changes)?)
    }

    /// Merges account `from` into `to` (S12).
    pub fn merge_accounts(&self, from: String, to: String) -> Result<()> {
        Ok(self.core().merge_accounts(&from, &to)?)
    }

    /// Claims (or rejects) a shadow account (S11).
    pub fn migrate(
        &self,
        user_id: String,
        channel: String,
        accept: bool,
        user_ext_id: String,
    ) -> Result<Migrated> {
        Ok(self
            .core()
            .migrate(&user_id, &channel, accept, &user_ext_id)?)
    }

    /// Creates an organisation (S13): its id.
    pub fn create_organisation(&self, input: OrgInput) -> Result<u64> {
        Ok(self.core().create_organisation(input)?)
    }

    /// Organisation `id`.
    pub fn organisation(&self, id: u64) -> Result<OrgView> {
        Ok(self.core().organisation(id)?)
    }

    /// Organisations by ascending id, filtered or not (S13): every match's
    /// count and the page `offset`, `limit`.
    #[uniffi::method(default(request))]
    pub fn search_organisations(&self, request: OrgSearch) -> Result<OrgSearchResult> {
        Ok(self.core().search_organisations(&request)?)
    }

    /// The handle acting as the managed user of `managed_token` (a token
    /// from `managed_users(.., with_tokens = true)`), for its manager only:
    /// what `x-authenticated-for` does on the REST surface (S3).
    pub fn acting_for(&self, managed_token: String) -> Result<std::sync::Arc<Admin>> {
        Ok(std::sync::Arc::new(Admin::from(
            self.core().acting_for(&managed_token)?,
        )))
    }
}
