//! Test-only access to a store file's raw tables (feature `testing`, never
//! on in a release build of an application): what tests of damaged stores,
//! migrations and the file format need without naming the storage engine.
//! Keys and values are the bytes of the store's key encoding (`store::keys`); the helper
//! functions below encode the common ones.

use super::Backend;
use super::engine_redb::RedbBackend;
use super::keys::Col;
use crate::error::Result;
use std::path::Path;

/// A row's key and value, as the store keeps them.
pub type RawRow = (Vec<u8>, Vec<u8>);

/// The store file at `path`, opened, its tables bytes: those of a format
/// before 4 are typed, and are re-encoded as bytes first (what opening the
/// store would do before migrating it).
fn of_bytes(path: &Path) -> Result<RedbBackend> {
    let backend = RedbBackend::open(path, false)?;
    if backend.is_legacy() {
        backend.write(&mut |_| Ok(()))?;
    }
    Ok(backend)
}

/// Every row of table `table` of the store file at `path`, as raw bytes.
pub fn raw_rows(path: &Path, table: &str) -> Result<Vec<RawRow>> {
    let backend = of_bytes(path)?;
    let mut out = Vec::new();
    backend.read(&mut |r| {
        out = r.rows(table)?;
        Ok(())
    })?;
    Ok(out)
}

/// Every table of the store file at `path` with its rows, as raw bytes, by
/// name (a format before 4 re-encoded as bytes first): what a test copies into another backend to damage it there.
pub fn raw_tables(path: &Path) -> Result<Vec<(String, Vec<RawRow>)>> {
    let backend = of_bytes(path)?;
    let mut out = Vec::new();
    backend.read(&mut |r| {
        for table in r.table_names()? {
            let rows = r.rows(&table)?;
            out.push((table, rows));
        }
        Ok(())
    })?;
    Ok(out)
}

/// Stores `value` under `key` in table `table` of the store file at
/// `path`, bypassing every rule and index.
pub fn raw_put(path: &Path, table: &str, key: &[u8], value: &[u8]) -> Result<()> {
    RedbBackend::open(path, false)?.write(&mut |w| w.put(table, key, value))
}

/// Removes `key` from table `table` of the store file at `path`.
pub fn raw_delete(path: &Path, table: &str, key: &[u8]) -> Result<()> {
    RedbBackend::open(path, false)?.write(&mut |w| w.delete(table, key).map(|_| ()))
}

/// Compacts the store file at `path` (a fixture is kept small).
pub fn compact(path: &Path) -> Result<()> {
    RedbBackend::open(path, false)?.compact()
}

/// Writes a database file of another program at `path`: the storage
/// engine's format with a table roster never uses.
pub fn foreign_database(path: &Path) -> Result<()> {
    RedbBackend::open(path, false)?.write(&mut |w| w.put("theirs", &1u64.bytes(), &2u64.bytes()))
}

/// The key or value encoding of an id or count.
pub fn u64_bytes(v: u64) -> Vec<u8> {
    Col::bytes(&v)
}

/// The key or value encoding of a text that is a whole key.
pub fn text_bytes(v: &str) -> Vec<u8> {
    Col::bytes(v)
}

/// The value a unique index (`user_by_username`, ...) stores for `id`
/// under `key`: the id's encoding and its seal (format 12).
pub fn index_value(table: &str, key: &str, id: u64) -> Vec<u8> {
    let mut value = Col::bytes(&id);
    super::keys::seal(table, key.as_bytes(), &mut value);
    value
}

/// The key of the id counter row of `entity` (`"user"`, `"batch"`, ...;
/// an export's counter names) for block `block` in `id_blocks`.
pub fn id_counter_key(entity: &str, block: u64) -> Vec<u8> {
    let kind = super::ids::kind_named(entity).expect("an entity's counter name");
    Col::bytes(&(kind as u8, block))
}

/// The kind whose counter name is `entity` (`"user"`, `"sunbird_user"`,
/// ...).
fn kind_of(entity: &str) -> super::tables::Kind {
    super::tables::Kind::ALL
        .into_iter()
        .find(|k| k.counter() == entity)
        .expect("an entity's counter name")
}

/// The record `bytes` frames as `entity` `id` (a records table's value:
/// `users`, `sunbird_users`, ...), decoded.
pub fn decode_record<T: serde::de::DeserializeOwned>(
    entity: &str,
    id: u64,
    bytes: &[u8],
) -> Result<T> {
    super::frame::decode(kind_of(entity), super::frame::id(id), bytes)
}

/// `record` framed as the store keeps `entity` `id`, its checksum sound:
/// what a file's author who edits a record writes.
pub fn encode_record<T: serde::Serialize>(entity: &str, id: u64, record: &T) -> Result<Vec<u8>> {
    super::frame::encode(kind_of(entity), super::frame::id(id), record)
}

/// The value encoding of an id or count, decoded.
pub fn u64_of(bytes: &[u8]) -> Option<u64> {
    u64::take(bytes)
}
