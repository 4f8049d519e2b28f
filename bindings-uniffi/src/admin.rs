//! The `Admin` object: the administration API as seen by one caller. This
//! file: users and their batches, courses and subscriptions (T1-T10).

use crate::error::{Result, field_messages};
use crate::pages::{BatchRefPage, CoursePage, SubscriptionPage, UserPage};
use roster::{BatchRef, CreateOptions, Created, NewUser, PageRequest, SubscriptionView};
use roster::{ChangePage, UserPatch, UserQuery, UserView};
use std::collections::HashMap;

/// The administration API as seen by one caller: `institute.operator()`
/// (trusted host code) or `institute.session(token)` (a signed-in user,
/// whose permissions every call checks). Thread-safe; calls block.
#[derive(Debug, uniffi::Object)]
pub struct Admin(roster::Admin);

impl From<roster::Admin> for Admin {
    fn from(admin: roster::Admin) -> Self {
        Admin(admin)
    }
}

impl Admin {
    /// The core handle.
    pub(crate) fn core(&self) -> &roster::Admin {
        &self.0
    }
}

#[uniffi::export]
impl Admin {
    /// Creates a user (T1, T2): every field error at once; with `batches`
    /// (names) the user joins them, optionally until `expires`. The
    /// generated password, when asked for, is returned this once.
    #[uniffi::method(default(options))]
    pub fn create_user(&self, input: NewUser, options: CreateOptions) -> Result<Created> {
        Ok(self.0.create_user(input, options)?)
    }

    /// Every problem [`create_user`](Admin::create_user) of `input` would
    /// report, as messages by field, without writing anything (empty: it
    /// would pass). For forms that check as they go.
    #[uniffi::method(default(options))]
    pub fn check_new_user(
        &self,
        input: NewUser,
        options: CreateOptions,
    ) -> Result<HashMap<String, Vec<String>>> {
        Ok(field_messages(&self.0.check_new_user(&input, options)?))
    }

    /// Every problem [`update_user`](Admin::update_user) of `patch` would
    /// report, as messages by field, without writing anything.
    pub fn check_user_patch(
        &self,
        id: u64,
        patch: UserPatch,
    ) -> Result<HashMap<String, Vec<String>>> {
        Ok(field_messages(&self.0.check_user_patch(id, &patch)?))
    }

    /// Users by id, filtered by `q` (username or email substring) and
    /// `email` (exact, ignoring case) (T3).
    #[uniffi::method(default(query))]
    pub fn list_users(&self, query: UserQuery) -> Result<UserPage> {
        Ok(self.0.list_users(&query)?.into())
    }

    /// User `id` (T4).
    pub fn get_user(&self, id: u64) -> Result<UserView> {
        Ok(self.0.get_user(id)?)
    }

    /// The id of the user with this username (ignoring case) or email.
    pub fn find_user(&self, username_or_email: String) -> Result<u64> {
        Ok(self.0.find_user(&username_or_email)?)
    }

    /// Changes user `id` (T5): present fields change, absent ones stay.
    pub fn update_user(&self, id: u64, patch: UserPatch) -> Result<UserView> {
        Ok(self.0.update_user(id, patch)?)
    }

    /// Deletes user `id` and everything related to it (T6). Irreversible.
    pub fn delete_user(&self, id: u64) -> Result<()> {
        Ok(self.0.delete_user(id)?)
    }

    /// The user's batches, newest first (T7).
    #[uniffi::method(default(page))]
    pub fn user_batches(&self, user: u64, page: PageRequest) -> Result<BatchRefPage> {
        Ok(self.0.user_batches(user, page)?.into())
    }

    /// Adds the user to batches by id (T7); returns all the user's batches.
    pub fn add_user_batches(&self, user: u64, batches: Vec<u64>) -> Result<Vec<BatchRef>> {
        Ok(self.0.add_user_batches(user, &batches)?)
    }

    /// Removes the user from batches by id (T7).
    pub fn remove_user_batches(&self, user: u64, batches: Vec<u64>) -> Result<()> {
        Ok(self.0.remove_user_batches(user, &batches)?)
    }

    /// The user's courses: those of all their active batches (T8).
    #[uniffi::method(default(page))]
    pub fn user_courses(&self, user: u64, page: PageRequest) -> Result<CoursePage> {
        Ok(self.0.user_courses(user, page)?.into())
    }

    /// Grants courses directly (T8); returns the first page of the user's
    /// courses.
    pub fn add_user_courses(&self, user: u64, courses: Vec<u64>) -> Result<CoursePage> {
        Ok(self.0.add_user_courses(user, &courses)?.into())
    }

    /// Ends direct grants of courses (T8).
    pub fn remove_user_courses(&self, user: u64, courses: Vec<u64>) -> Result<()> {
        Ok(self.0.remove_user_courses(user, &courses)?)
    }

    /// The user's subscriptions that have not expired, newest first (T9).
    #[uniffi::method(default(page))]
    pub fn user_subscriptions(&self, user: u64, page: PageRequest) -> Result<SubscriptionPage> {
        Ok(self.0.user_subscriptions(user, page)?.into())
    }

    /// Subscribes the user to batches by id until `expires` (`yyyy-mm-dd`,
    /// today or later; `None`: no expiry) (T9); returns the subscriptions.
    #[uniffi::method(default(expires = None))]
    pub fn add_user_subscriptions(
        &self,
        user: u64,
        batches: Vec<u64>,
        expires: Option<String>,
    ) -> Result<Vec<SubscriptionView>> {
        Ok(self
            .0
            .add_user_subscriptions(user, &batches, expires.as_deref())?)
    }

    /// Deletes every expired subscription (T10); returns how many.
    pub fn purge_expired(&self) -> Result<u64> {
        Ok(self.0.purge_expired()?)
    }

    /// Up to `limit` (1-1000; 0: 100) entries of the change feed after entry
    /// `since` (X4), oldest first; pass the page's `next` as the next
    /// `since`. Needs `view_change`.
    pub fn changes_since(&self, since: u64, limit: u32) -> Result<ChangePage> {
        Ok(self.0.changes_since(since, limit)?)
    }

    /// Removes the change feed's entries older than the retention window;
    /// how many went (the operator only).
    pub fn purge_changes(&self) -> Result<u64> {
        Ok(self.0.purge_changes()?)
    }
}
