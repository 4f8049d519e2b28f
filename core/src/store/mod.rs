//! Persistence on redb: tables, indexes, the format version.
//!
//! Reads go through [`Source`], implemented by both transaction kinds, so one
//! read function serves plain reads and the checks inside a write. Writes go
//! through the functions of [`write`], one per entity, which keep every index
//! in the same transaction as its record.

pub(crate) mod integrity;
pub(crate) mod migrate_nfkc;
pub(crate) mod read;
pub mod schema;
pub(crate) mod tables;
pub(crate) mod write;

use crate::error::{Error, ErrorCode, Internal, Result};
use redb::{
    Database, Key, ReadableDatabase, ReadableTable, TableDefinition, Value, WriteTransaction,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::Path;

/// A roster store: one redb database.
#[derive(Debug)]
pub(crate) struct Store {
    db: Database,
}

impl Store {
    /// Opens the store file at `path`, creating it if absent.
    pub(crate) fn open(path: &Path) -> Result<Store> {
        let db = Database::create(path).map_err(|e| match e {
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

    fn prepared(db: Database) -> Result<Store> {
        let store = Store { db };
        store.write(schema::prepare)?;
        Ok(store)
    }

    /// A snapshot to read from.
    pub(crate) fn read(&self) -> Result<redb::ReadTransaction> {
        Ok(self.db.begin_read()?)
    }

    /// Runs `f` in one write transaction: committed when it returns `Ok`,
    /// rolled back (nothing written) when it returns `Err`.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&WriteTransaction) -> Result<T>) -> Result<T> {
        let txn = self.db.begin_write()?;
        let out = f(&txn)?;
        txn.commit()?;
        Ok(out)
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
}

impl Source for redb::ReadTransaction {
    type Table<'a, K: Key + 'static, V: Value + 'static> = redb::ReadOnlyTable<K, V>;

    fn table<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<Self::Table<'_, K, V>> {
        Ok(self.open_table(def)?)
    }
}

impl Source for WriteTransaction {
    type Table<'a, K: Key + 'static, V: Value + 'static> = redb::Table<'a, K, V>;

    fn table<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<Self::Table<'_, K, V>> {
        Ok(self.open_table(def)?)
    }
}

/// Encodes a record.
pub(crate) fn encode<T: Serialize>(record: &T) -> Result<Vec<u8>> {
    Ok(postcard::to_allocvec(record).map_err(Internal::from)?)
}

/// Decodes a record.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    Ok(postcard::from_bytes(bytes).map_err(Internal::from)?)
}
