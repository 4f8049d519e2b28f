//! `Admin`: groups and permissions, self-service, sessions, the outbox,
//! import and export (D1-D4, A1-A2, X1-X3).

use crate::admin::Admin;
use crate::config::ImportOptions;
use crate::error::Result;
use crate::pages::GroupPage;
use roster::{GroupInput, GroupView, ImportReport, OutboxMessage, PageRequest};
use roster::{PermissionView, UserPatch, UserView};

#[uniffi::export]
impl Admin {
    /// Creates a group; the name is required and unique ignoring case.
    pub fn create_group(&self, input: GroupInput) -> Result<GroupView> {
        Ok(self.core().create_group(input)?)
    }

    /// Groups by id, filtered by exact name ignoring case.
    #[uniffi::method(default(name = None, page))]
    pub fn list_groups(&self, name: Option<String>, page: PageRequest) -> Result<GroupPage> {
        Ok(self.core().list_groups(name.as_deref(), page)?.into())
    }

    /// Group `id`.
    pub fn get_group(&self, id: u64) -> Result<GroupView> {
        Ok(self.core().get_group(id)?)
    }

    /// Changes group `id`: absent fields stay as they are.
    pub fn update_group(&self, id: u64, input: GroupInput) -> Result<GroupView> {
        Ok(self.core().update_group(id, input)?)
    }

    /// Deletes group `id`; its members lose its permissions at once.
    pub fn delete_group(&self, id: u64) -> Result<()> {
        Ok(self.core().delete_group(id)?)
    }

    /// The permission catalogue, by id (`view_user` = 1 ...).
    pub fn permissions(&self) -> Result<Vec<PermissionView>> {
        Ok(self.core().permissions()?)
    }

    /// Whether user `id` has permission `name` (`roster.view_user`).
    pub fn has_perm(&self, id: u64, name: String) -> Result<bool> {
        Ok(self.core().has_perm(id, &name)?)
    }

    /// The caller's own user (a signed-in caller only).
    pub fn me(&self) -> Result<UserView> {
        Ok(self.core().me()?)
    }

    /// Changes the caller's own profile; username, password, flags, groups
    /// and permissions in `patch` are ignored.
    pub fn update_me(&self, patch: UserPatch) -> Result<UserView> {
        Ok(self.core().update_me(patch)?)
    }

    /// Changes the caller's own password; this session goes on, the
    /// others end.
    pub fn change_my_password(&self, old_password: String, new_password: String) -> Result<()> {
        Ok(self
            .core()
            .change_my_password(&old_password, &new_password)?)
    }

    /// Ends every session of user `id`; returns how many.
    pub fn logout_everywhere(&self, id: u64) -> Result<u64> {
        Ok(self.core().logout_everywhere(id)?)
    }

    /// Ends the lock-out of user `id` at once (needs `change_user` and
    /// every permission the user holds).
    pub fn unlock_user(&self, id: u64) -> Result<()> {
        Ok(self.core().unlock_user(id)?)
    }

    /// Signs this handle's session out; its token stops working.
    pub fn sign_out(&self) -> Result<()> {
        Ok(self.core().sign_out()?)
    }

    /// Takes every queued message (credentials to deliver), oldest first,
    /// and deletes them. The operator only.
    pub fn take_outbox(&self) -> Result<Vec<OutboxMessage>> {
        Ok(self.core().take_outbox()?)
    }

    /// Imports users from CSV or JSON Lines text, or restores a full export
    /// into an empty store. Every row joins `options.batches` (names)
    /// besides its own, until `options.expires` (`yyyy-mm-dd`; a row's own
    /// `expires` is that of the batches it names). Each row is
    /// applied whole or not at all; rejected ones are reported.
    #[uniffi::method(default(options))]
    pub fn import_users(&self, text: String, options: ImportOptions) -> Result<ImportReport> {
        Ok(roster::transfer::import(
            self.core(),
            text.as_bytes(),
            &options.try_into()?,
            &mut |_| {},
        )?)
    }

    /// The whole store as JSON Lines, password hashes included: treat it
    /// like the store file. The operator only.
    pub fn export_text(&self) -> Result<String> {
        let mut bytes = Vec::new();
        roster::transfer::export(self.core(), &mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}
