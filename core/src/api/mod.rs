//! The typed API: an [`Institute`] (the store and its configuration) hands out
//! [`Admin`] handles bound to a caller, and every operation runs on one of
//! those, in one store transaction.

mod auth;
mod batches;
mod changes;
#[cfg(test)]
mod contained;
mod courses;
mod custom_fields;
mod groups;
mod me;
mod outbox;
mod subscriptions;
pub mod sunbird;
mod transfer;
pub mod users;

pub use auth::{INVALID_TOKEN, LOGIN_FAILED, Login, NO_CREDENTIALS, NO_PERMISSION};
pub use changes::MAX_CHANGES;
pub use groups::PermissionView;
pub(crate) use transfer::Dumped;
pub use transfer::{Dump, ImportReport, ImportRow, REJECTED_LISTED, Rejected};
pub use users::{Created, UserQuery};

use crate::config::Config;
use crate::domain::{Page, PageRequest};
use crate::error::{Error, ErrorCode, Result};
use crate::store::{Snapshot, Store, read};
use chrono::{DateTime, NaiveDate, Utc};
use std::path::Path;
use std::sync::Arc;

/// An institute: one store and its configuration. Cheap to clone; `Send` and
/// `Sync`, so many threads may read while one writes.
#[derive(Clone, Debug)]
pub struct Institute {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    config: Config,
    /// The PHC string an unknown user's password is checked against: the
    /// configured argon2id costs, made without hashing (see
    /// [`crate::auth::password::decoy`]).
    decoy: String,
    /// Bounds the password hashing running and waiting.
    gate: crate::auth::gate::Gate,
}

impl Institute {
    /// Opens the store file at `path`, creating it if absent and migrating it
    /// if it was written by an older roster.
    ///
    /// The file is this process's alone: a second open of it, here or in
    /// another process, is refused (`storage_error`) until this institute
    /// is dropped. [`Institute::open_shared`] shares it instead.
    pub fn open(path: impl AsRef<Path>, config: Config) -> Result<Institute> {
        config.check()?;
        Ok(Institute::with_store(
            Store::open(path.as_ref(), false)?,
            config,
        ))
    }

    /// Opens the store file at `path` as [`Institute::open`] does, shared:
    /// any number of processes (and handles in one process) that open it
    /// shared may read and write it, one write at a time across them, each
    /// seeing the others' commits at once (what `roster serve` and the
    /// other `roster` commands do, so they work side by side). Needs
    /// byte-range file locks (Linux, macOS/iOS, Windows; elsewhere the file
    /// is this process's alone). Costs a second sync per durable write and
    /// lock calls on every read.
    pub fn open_shared(path: impl AsRef<Path>, config: Config) -> Result<Institute> {
        config.check()?;
        Ok(Institute::with_store(
            Store::open(path.as_ref(), true)?,
            config,
        ))
    }

    /// An institute whose store file is bytes the host keeps: in a browser,
    /// the `roster-wasm` package passes a file of the Origin Private File
    /// System. The host must give this institute exclusive access to them.
    pub fn open_host_file(file: impl crate::store::HostFile, config: Config) -> Result<Institute> {
        config.check()?;
        Ok(Institute::with_store(Store::host(file)?, config))
    }

    /// An institute on any storage backend (the model backend of the
    /// tests, or another engine's; see [`crate::store::Backend`]). A new
    /// backend's tables are created; an older format is migrated.
    pub fn open_with(
        backend: std::sync::Arc<dyn crate::store::Backend>,
        config: Config,
    ) -> Result<Institute> {
        config.check()?;
        Ok(Institute::with_store(Store::on(backend)?, config))
    }

    /// An institute kept in memory only.
    pub fn in_memory(config: Config) -> Result<Institute> {
        config.check()?;
        Ok(Institute::with_store(Store::in_memory()?, config))
    }

    fn with_store(store: Store, config: Config) -> Institute {
        debug_assert!(config.check().is_ok(), "checked by every constructor");
        let gate = crate::auth::gate::Gate::new(config.hash_concurrency, config.hash_queue);
        Institute {
            inner: Arc::new(Inner {
                store,
                decoy: crate::auth::password::decoy(config.argon2),
                config,
                gate,
            }),
        }
    }

    /// A turn at password hashing, or `busy` when the gate's queue is full.
    pub(crate) fn hashing_turn(&self) -> Result<crate::auth::gate::Permit<'_>> {
        self.inner.gate.enter()
    }

    /// The password gate itself (bulk import waits for turns on it).
    pub(crate) fn gate(&self) -> &crate::auth::gate::Gate {
        &self.inner.gate
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// A handle acting as the local operator: the trusted host code that owns
    /// the store file (SPEC A6). It may do everything.
    pub fn operator(&self) -> Admin {
        Admin {
            institute: self.clone(),
            caller: Caller::Operator,
            session: None,
            actor: None,
        }
    }

    /// Checks the whole store: every index against its records, every
    /// relation's ends, the id counters. Returns the problems found (none for
    /// a sound store), this configuration's managed-user limit (S3)
    /// included. Reads everything: meant for tests and repair tools.
    pub fn check_integrity(&self) -> Result<Vec<String>> {
        let limit = self.inner.config.sunbird.managed_limit;
        self.store()
            .reading(|s| crate::store::integrity::check_with(s, Some(limit)))
    }

    /// The store format version of this build.
    pub fn schema_version() -> u64 {
        crate::store::schema::CURRENT_VERSION
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }
}

/// Who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// Trusted host code (the CLI without `--token`, an app's own logic).
    Operator,
    /// A signed-in user, by id ([`Institute::session`]).
    User(u64),
}

/// The administration API as seen by one caller. Every operation of roster is
/// a method here, so none can run without a caller.
#[derive(Debug, Clone)]
pub struct Admin {
    institute: Institute,
    caller: Caller,
    /// The hash of the caller's session token, for a signed-in caller.
    session: Option<[u8; 32]>,
    /// The signed-in caller's UUID: the actor of the change feed's entries.
    actor: Option<u128>,
}

impl Admin {
    /// The caller this handle acts for.
    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// The institute.
    pub fn institute(&self) -> &Institute {
        &self.institute
    }

    fn config(&self) -> &Config {
        self.institute.config()
    }

    fn store(&self) -> &Store {
        self.institute.store()
    }

    /// Runs `f` in one write transaction ([`Store::write`]), its change
    /// feed entries stamped with this caller and the current instant.
    fn write<T>(&self, f: impl FnMut(&crate::store::Txn<'_>) -> Result<T>) -> Result<T> {
        let author = crate::store::feed::Author {
            actor: self.actor,
            at: self.now_micros(),
        };
        let retention = self.config().change_retention.num_microseconds();
        self.store().write_by(author, retention, f)
    }

    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        self.config().now()
    }

    /// Today in the institute's time zone.
    pub fn today(&self) -> NaiveDate {
        self.now()
            .with_timezone(&self.config().time_zone)
            .date_naive()
    }

    fn now_micros(&self) -> i64 {
        self.now().timestamp_micros()
    }

    /// The page size a request asks for: the default when absent or zero,
    /// the maximum when above it.
    fn per_page(&self, request: PageRequest) -> u32 {
        match request.per_page {
            None | Some(0) => self.config().page_size,
            Some(n) => n.min(self.config().max_page_size),
        }
    }

    /// Cuts page `request` out of `count` items, fetching only that page
    /// through `fetch(offset, limit)`.
    fn paginate<T>(
        &self,
        request: PageRequest,
        count: u64,
        fetch: impl FnOnce(u64, usize) -> Result<Vec<T>>,
    ) -> Result<Page<T>> {
        let per_page = self.per_page(request);
        let pages = count.div_ceil(u64::from(per_page)).max(1);
        if request.page == 0 || request.page > pages {
            return Err(invalid_page());
        }
        let offset = (request.page - 1) * u64::from(per_page);
        Ok(Page {
            count,
            page: request.page,
            per_page,
            items: fetch(offset, per_page as usize)?,
        })
    }

    /// Page `request` of the records of `def` a list shows (`listed`, as
    /// the table's position counts count them), found by position in a few
    /// reads, each shown as `view` makes it.
    fn listed_page_of<T: serde::de::DeserializeOwned, V>(
        &self,
        s: &Snapshot<'_>,
        request: PageRequest,
        def: crate::store::tables::Records,
        listed: impl Fn(&T) -> bool,
        view: impl Fn(&T) -> V,
    ) -> Result<Page<V>> {
        let counted = read::counted(s, def)?;
        let page = self.paginate(request, counted.total(), |offset, limit| {
            read::listed_page(s, &counted, offset, limit, listed)
        })?;
        page.try_map(|record| Ok(view(&record)))
    }

    /// A page of an in-memory list.
    fn page_of<T>(&self, request: PageRequest, all: Vec<T>) -> Result<Page<T>> {
        let count = all.len() as u64;
        self.paginate(request, count, |offset, limit| {
            Ok(all.into_iter().skip(offset as usize).take(limit).collect())
        })
    }
}

/// Django REST Framework's answer to a page that does not exist.
pub(crate) fn invalid_page() -> Error {
    Error::new(ErrorCode::NotFound, "Invalid page.")
}

/// The error for a list whose item `id` names nothing, in DRF's words: the
/// first such item in the order sent, as DRF's `ManyRelatedField` stops at
/// it.
pub(crate) fn invalid_pk(field: &str, id: u64) -> Error {
    let mut errors = crate::error::FieldErrors::new();
    errors.add(
        field,
        format!("Invalid pk \"{id}\" - object does not exist."),
    );
    Error::validation(errors)
}

/// Test support: an institute on `config` holding one user `ada` (password
/// `right-pass-1`), and that user's id.
#[cfg(test)]
pub(crate) fn with_ada(config: Config) -> (Institute, u64) {
    let institute = Institute::in_memory(config).unwrap();
    let input = crate::NewUser {
        username: Some("ada".into()),
        password: Some("right-pass-1".into()),
        ..Default::default()
    };
    let id = institute
        .operator()
        .create_user(input, Default::default())
        .unwrap()
        .user
        .id;
    (institute, id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_cross_threads() {
        fn shareable<T: Send + Sync + Clone + 'static>() {}
        shareable::<Institute>();
        shareable::<Admin>();
    }
}
