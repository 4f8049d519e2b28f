//! Persistence on redb: tables, indexes, the format version.
//!
//! Reads go through [`Source`], implemented by both transaction kinds, so one
//! read function serves plain reads and the checks inside a write. Writes go
//! through the functions of [`write`], one per entity, which keep every index
//! in the same transaction as its record.

pub(crate) mod frame;
pub(crate) mod integrity;
pub(crate) mod migrate_nfkc;
pub(crate) mod migrate_sessions;
pub(crate) mod read;
pub mod recover;
pub mod schema;
pub(crate) mod tables;
pub(crate) mod write;

use crate::error::{Error, ErrorCode, Result};
use redb::{
    Database, Key, ReadableDatabase, ReadableTable, TableDefinition, Value, WriteTransaction,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tables::{Kind, Records};

/// A roster store: one redb database.
#[derive(Debug)]
pub(crate) struct Store {
    db: Db,
    /// Set when the storage engine panicked on this store's file: from then
    /// on every access answers `corrupt_store` until the file is reopened.
    poisoned: Arc<AtomicBool>,
}

/// The redb database, closed inside a panic guard when the store is
/// dropped: closing writes the file's header, which on a damaged store could
/// panic in the host's drop of an `Institute`.
#[derive(Debug)]
struct Db(Option<Database>);

impl std::ops::Deref for Db {
    type Target = Database;

    fn deref(&self) -> &Database {
        // Taken only by `drop`.
        self.0
            .as_ref()
            .expect("the database is open until the store drops")
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some(db) = self.0.take() {
            let _ = catch_unwind(AssertUnwindSafe(move || drop(db)));
        }
    }
}

thread_local! {
    /// Set when a panic was contained inside a write transaction on this
    /// thread; [`Store::write`] poisons its store when it sees it.
    static WRITE_PANICKED: Cell<bool> = const { Cell::new(false) };
}

/// The error for a panic of the storage engine, contained.
fn panicked() -> Error {
    Error::new(
        ErrorCode::Corrupt,
        "the store is damaged: the storage engine failed while reading it; \
         run `roster check`, then `roster recover`",
    )
}

/// The error of a store that panicked before.
fn poisoned() -> Error {
    Error::new(
        ErrorCode::Corrupt,
        "the store was found damaged earlier; it must be reopened (run `roster check`)",
    )
}

/// Runs `f`, turning a panic inside it (a storage engine tripping over a
/// damaged page) into a `corrupt_store` error and poisoning the store `s`
/// reads from. On wasm32 panics abort, so there this cannot help.
pub(crate) fn contain<S: Source + ?Sized, T>(s: &S, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(out) => out,
        Err(_) => {
            s.poison();
            Err(panicked())
        }
    }
}

impl Store {
    /// Opens the store file at `path`, creating it if absent. A panic of
    /// the storage engine on a damaged file is a `corrupt_store` error.
    pub(crate) fn open(path: &Path) -> Result<Store> {
        catch_unwind(|| Store::open_file(path)).unwrap_or_else(|_| Err(panicked()))
    }

    fn open_file(path: &Path) -> Result<Store> {
        let db = multi_process().create(path).map_err(|e| match e {
            redb::DatabaseError::Storage(redb::StorageError::Corrupted(what)) => Error::new(
                ErrorCode::Corrupt,
                format!("{} is not a readable roster store: {what}", path.display()),
            ),
            redb::DatabaseError::UpgradeRequired(_) => Error::new(
                ErrorCode::SchemaTooNew,
                "the file was written by an incompatible redb version",
            ),
            other => other.into(),
        })?;
        Store::prepared(db)
    }

    /// A store on a storage backend of the host's (OPFS in a browser).
    pub(crate) fn with_backend(backend: impl redb::StorageBackend) -> Result<Store> {
        let db = Database::builder().create_with_backend(backend)?;
        Store::prepared(db)
    }

    /// A store that lives in memory only.
    pub(crate) fn in_memory() -> Result<Store> {
        let db = Database::builder().create_with_backend(redb::backends::InMemoryBackend::new())?;
        Store::prepared(db)
    }

    pub(crate) fn prepared(db: Database) -> Result<Store> {
        let store = Store {
            db: Db(Some(db)),
            poisoned: Arc::new(AtomicBool::new(false)),
        };
        store.write(schema::prepare)?;
        Ok(store)
    }

    /// Whether the storage engine panicked on this store.
    pub(crate) fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::SeqCst)
    }

    /// Runs `f` on a snapshot of the store, the one way to read outside a
    /// write: the snapshot's start, everything `f` does with it and the
    /// snapshot's end (redb's `Drop` of the read transaction) run inside
    /// the panic guard. A panic anywhere in there (the storage engine on a
    /// damaged page) is `corrupt_store` and poisons the store, like one in
    /// [`Store::write`].
    pub(crate) fn reading<T>(&self, f: impl FnOnce(&Snapshot) -> Result<T>) -> Result<T> {
        if self.is_poisoned() {
            return Err(poisoned());
        }
        let run = || -> Result<T> {
            let snapshot = self.snapshot()?;
            let out = f(&snapshot);
            drop(snapshot);
            out
        };
        catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|_| {
            self.poisoned.store(true, Ordering::SeqCst);
            Err(panicked())
        })
    }

    /// A snapshot to read from. Private to `store` on purpose: a snapshot
    /// used outside [`Store::reading`] would read without the panic guard.
    fn snapshot(&self) -> Result<Snapshot> {
        if self.is_poisoned() {
            return Err(poisoned());
        }
        let txn = catch_unwind(AssertUnwindSafe(|| self.db.begin_read())).map_err(|_| {
            self.poisoned.store(true, Ordering::SeqCst);
            panicked()
        })??;
        Ok(Snapshot {
            txn,
            poisoned: self.poisoned.clone(),
        })
    }

    /// Runs `f` in one write transaction: committed when it returns `Ok`,
    /// rolled back (nothing written) when it returns `Err`. A panic inside
    /// (the storage engine on a damaged page) is contained: nothing is
    /// committed, the store is poisoned and the answer is `corrupt_store`.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&WriteTransaction) -> Result<T>) -> Result<T> {
        if self.is_poisoned() {
            return Err(poisoned());
        }
        WRITE_PANICKED.with(|p| p.set(false));
        let run = || -> Result<T> {
            let txn = self.db.begin_write()?;
            let out = f(&txn)?;
            txn.commit()?;
            Ok(out)
        };
        let out = catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|_| {
            WRITE_PANICKED.with(|p| p.set(true));
            Err(panicked())
        });
        if WRITE_PANICKED.with(|p| p.replace(false)) {
            self.poisoned.store(true, Ordering::SeqCst);
        }
        out
    }
}

/// A read snapshot of a [`Store`]: a redb read transaction that poisons its
/// store when a read through it panics. Only [`Store::reading`] hands one
/// out, and only by reference; tables are opened through [`Source::table`]
/// (there is no way to the redb transaction itself).
#[derive(Debug)]
pub(crate) struct Snapshot {
    txn: redb::ReadTransaction,
    poisoned: Arc<AtomicBool>,
}

impl Source for Snapshot {
    type Table<'a, K: Key + 'static, V: Value + 'static> = redb::ReadOnlyTable<K, V>;

    fn table<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<Self::Table<'_, K, V>> {
        #[cfg(test)]
        fault::trip(def);
        contain(self, || Ok(self.txn.open_table(def)?))
    }

    fn poison(&self) {
        self.poisoned.store(true, Ordering::SeqCst);
    }
}

/// Something tables can be read from: a read or a write transaction.
pub(crate) trait Source {
    /// The table type this source opens.
    type Table<'a, K: Key + 'static, V: Value + 'static>: ReadableTable<K, V>
    where
        Self: 'a;

    /// Opens table `def` for reading.
    fn table<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<Self::Table<'_, K, V>>;

    /// Marks the store behind this source as damaged (a read panicked).
    fn poison(&self);
}

impl Source for redb::ReadTransaction {
    type Table<'a, K: Key + 'static, V: Value + 'static> = redb::ReadOnlyTable<K, V>;

    fn table<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<Self::Table<'_, K, V>> {
        Ok(self.open_table(def)?)
    }

    fn poison(&self) {}
}

impl Source for WriteTransaction {
    type Table<'a, K: Key + 'static, V: Value + 'static> = redb::Table<'a, K, V>;

    fn table<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<Self::Table<'_, K, V>> {
        Ok(self.open_table(def)?)
    }

    fn poison(&self) {
        WRITE_PANICKED.with(|p| p.set(true));
    }
}

/// The end of a snapshot may panic in tests ([`fault::arm`] `"drop"`), as
/// redb's `Drop` of a read transaction could on a damaged store.
#[cfg(test)]
impl Drop for Snapshot {
    fn drop(&mut self) {
        fault::trip_named("drop");
    }
}

/// A test-only panic trigger: the next opening of an armed table through a
/// [`Snapshot`] on this thread panics, as redb does on a damaged page. It
/// fires before [`Snapshot::table`]'s own guard, so only the guard of the
/// caller (the read function's, or [`Store::reading`]'s) can contain it.
#[cfg(test)]
pub(crate) mod fault {
    use std::cell::Cell;

    thread_local! {
        static ARMED: Cell<Option<&'static str>> = const { Cell::new(None) };
    }

    /// Makes the next opening of table `name` on this thread panic.
    pub(crate) fn arm(name: &'static str) {
        ARMED.with(|a| a.set(Some(name)));
    }

    /// Disarms the trigger (it disarms itself when it fires).
    pub(crate) fn disarm() {
        ARMED.with(|a| a.set(None));
    }

    /// Whether the trigger fired (or was never armed).
    pub(crate) fn fired() -> bool {
        ARMED.with(|a| a.get()).is_none()
    }

    /// Panics if `def` is armed.
    pub(super) fn trip(def: impl redb::TableHandle) {
        trip_named(def.name());
    }

    /// Panics if `name` is armed.
    pub(super) fn trip_named(name: &str) {
        if ARMED.with(|a| a.get()) == Some(name) {
            disarm();
            panic!("injected: redb tripped over a damaged page ({name})");
        }
    }
}

/// The entity kind of record table `def`.
pub(crate) fn kind_of(def: Records) -> Kind {
    use redb::TableHandle;
    match def.name() {
        "users" => Kind::User,
        "batches" => Kind::Batch,
        "courses" => Kind::Course,
        "custom_fields" => Kind::CustomField,
        "groups" => Kind::Group,
        _ => Kind::Message,
    }
}

/// Encodes record `id` of table `def` as its frame.
pub(crate) fn encode<T: Serialize>(def: Records, id: u64, record: &T) -> Result<Vec<u8>> {
    frame::encode(kind_of(def), frame::id(id), record)
}

/// Decodes the frame stored under `id` in table `def`, verified.
pub(crate) fn decode<T: DeserializeOwned>(def: Records, id: u64, bytes: &[u8]) -> Result<T> {
    frame::decode(kind_of(def), frame::id(id), bytes)
}

/// Decodes a row of record table `def`.
pub(crate) fn decode_row<T: DeserializeOwned>(
    def: Records,
    row: (redb::AccessGuard<'_, u64>, redb::AccessGuard<'_, &[u8]>),
) -> Result<T> {
    decode(def, row.0.value(), row.1.value())
}

/// Encodes the membership of `key` = (user, batch) as its frame.
pub(crate) fn encode_membership<T: Serialize>(key: (u64, u64), sub: &T) -> Result<Vec<u8>> {
    frame::encode(Kind::Subscription, key, sub)
}

/// Decodes the membership frame stored under `key` = (user, batch).
pub(crate) fn decode_membership<T: DeserializeOwned>(key: (u64, u64), bytes: &[u8]) -> Result<T> {
    frame::decode(Kind::Subscription, key, bytes)
}

/// How a store file is opened: shared with other processes (redb's
/// `MultiWriter` mode: every process may read and write, one write
/// transaction at a time across them, each sees the others' commits), so
/// that `roster unlock`, `api` or `export` work beside a running `roster
/// serve` as `sqlite3` does beside an app. It needs byte-range file locks,
/// which redb has on Linux, the Apple platforms and Windows; elsewhere the
/// file is opened for this process alone, as before.
fn multi_process() -> redb::Builder {
    let mut builder = Database::builder();
    if cfg!(any(target_os = "linux", target_vendor = "apple", windows)) {
        builder.set_concurrency_mode(redb::ConcurrencyMode::MultiWriter);
    }
    builder
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_a_read_is_corrupt_store_and_poisons_the_store() {
        let store = Store::in_memory().unwrap();
        let snapshot = store.snapshot().unwrap();
        let err = contain(&snapshot, || -> Result<()> { panic!("a damaged page") }).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Corrupt);
        drop(snapshot);
        assert_eq!(store.snapshot().unwrap_err().code(), ErrorCode::Corrupt);
        assert_eq!(
            store.write(|_| Ok(())).unwrap_err().code(),
            ErrorCode::Corrupt
        );
    }

    #[test]
    fn a_panic_in_a_write_commits_nothing_and_poisons_the_store() {
        let store = Store::in_memory().unwrap();
        let err = store
            .write(|txn| -> Result<()> {
                txn.open_table(tables::COUNTERS)?.insert("user", 99)?;
                panic!("a damaged page")
            })
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Corrupt);
        assert!(store.is_poisoned());
        assert_eq!(store.snapshot().unwrap_err().code(), ErrorCode::Corrupt);
    }

    #[test]
    fn a_panic_contained_by_a_read_inside_a_write_poisons_the_store() {
        let store = Store::in_memory().unwrap();
        let err = store
            .write(|txn| contain(txn, || -> Result<()> { panic!("a damaged page") }))
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Corrupt);
        assert!(store.is_poisoned());
    }
}
