//! The `Institute` object: opening a store, host-level operations, sign-in,
//! and the REST facade.

use crate::admin::Admin;
use crate::config::Config;
use crate::error::Result;
use std::collections::HashMap;
use std::sync::Arc;

/// An institute: one roster store. Thread-safe; every call blocks until it
/// is done, so call from a background thread (a Kotlin `Dispatchers.IO`
/// coroutine, a Swift background queue or `Task`), never the UI thread.
#[derive(Debug, uniffi::Object)]
pub struct Institute(roster::Institute);

/// A REST answer: the status, the headers, and the JSON body (`None` for 204).
/// Printed (Kotlin's `toString`, Python's `repr`, Swift's `description`),
/// the body is `<redacted>`: a sign-in's answer carries a session token, a
/// create's a generated password. Read `body` itself.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response headers (`Content-Type`, `Allow`, `WWW-Authenticate`).
    pub headers: HashMap<String, String>,
    /// The body, JSON text; `None` when there is none.
    pub body: Option<String>,
}

impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        struct Redacted;
        impl std::fmt::Debug for Redacted {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("<redacted>")
            }
        }
        let HttpResponse {
            status,
            headers,
            body,
        } = self;
        let mut headers: Vec<_> = headers.iter().collect();
        headers.sort();
        f.debug_struct("HttpResponse")
            .field("status", status)
            .field("headers", &headers)
            .field("body", &body.as_ref().map(|_| Redacted))
            .finish()
    }
}

impl std::fmt::Display for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

#[uniffi::export]
impl Institute {
    /// Opens the store file at `path`, creating it when absent and migrating
    /// it when an older roster wrote it. One handle per file: a second open
    /// of the same file fails with a storage error until the first is gone.
    #[uniffi::constructor(default(config))]
    pub fn open(path: String, config: Config) -> Result<Arc<Self>> {
        Ok(Arc::new(Institute(roster::Institute::open(
            path,
            config.try_into()?,
        )?)))
    }

    /// Opens the store file at `path` shared with other processes and
    /// handles that open it shared (what the `roster` commands do): each
    /// sees the others' commits; a durable write costs a second sync.
    #[uniffi::constructor(default(config))]
    pub fn open_shared(path: String, config: Config) -> Result<Arc<Self>> {
        Ok(Arc::new(Institute(roster::Institute::open_shared(
            path,
            config.try_into()?,
        )?)))
    }

    /// An institute kept in memory only, lost when the object goes.
    #[uniffi::constructor(default(config))]
    pub fn in_memory(config: Config) -> Result<Arc<Self>> {
        Ok(Arc::new(Institute(roster::Institute::in_memory(
            config.try_into()?,
        )?)))
    }

    /// Creates an active staff superuser, or makes an existing user (by
    /// username) one with this password, unlocked; returns its id. A
    /// host-level operation: whoever holds this object owns the store.
    pub fn create_superuser(&self, username: String, password: String) -> Result<u64> {
        Ok(self.0.create_superuser(&username, &password)?)
    }

    /// Signs in by username (ignoring case) or email. Every failure (unknown
    /// user, wrong password, locked, inactive or blocked account) is the same
    /// `RosterError.Unauthenticated`.
    pub fn login(&self, username_or_email: String, password: String) -> Result<roster::Login> {
        Ok(self.0.login(&username_or_email, &password)?)
    }

    /// Ends the session of `token` (no error if it had ended).
    pub fn logout(&self, token: String) -> Result<()> {
        Ok(self.0.logout(&token)?)
    }

    /// The handle of the signed-in user of `token`: every call on it checks
    /// that session and the user's permissions again.
    pub fn session(&self, token: String) -> Result<Arc<Admin>> {
        Ok(Arc::new(Admin::from(self.0.session(&token)?)))
    }

    /// The handle of trusted host code (the app's own logic): every
    /// permission. Never hand it to code acting for a signed-in user.
    pub fn operator(&self) -> Arc<Admin> {
        Arc::new(Admin::from(self.0.operator()))
    }

    /// Serves one request of the documented REST API in process, as a
    /// server would, authenticating it: every path but sign-in
    /// (`POST /api/v2.5/auth-token/`) needs `Authorization: JWT <token>`.
    /// `path` may carry a query string. Failures are statuses, not errors.
    #[uniffi::method(default(body = None, headers))]
    pub fn handle(
        &self,
        method: String,
        path: String,
        headers: HashMap<String, String>,
        body: Option<String>,
    ) -> HttpResponse {
        match crate::rest::request(&method, &path, headers, body) {
            Ok(request) => crate::rest::response(roster::rest::handle(&self.0, request)),
            Err(refused) => refused,
        }
    }

    /// Every inconsistency of the store (none for a sound one). Reads
    /// everything: for tests and repair tools.
    pub fn check_integrity(&self) -> Result<Vec<String>> {
        Ok(self.0.check_integrity()?)
    }
}

/// The store format version of this build.
#[uniffi::export]
pub fn schema_version() -> u64 {
    roster::Institute::schema_version()
}
