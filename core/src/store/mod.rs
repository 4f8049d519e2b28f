//! Persistence on redb: tables, indexes, the format version.
//!
//! Reads go through a `Snapshot`, which a write transaction (`Txn`)
//! dereferences to, so one read function serves plain reads and the checks
//! inside a write. Writes go
//! through the functions of [`write`], one per entity, which keep every index
//! in the same transaction as its record.

pub mod backend;
#[cfg(any(test, feature = "testing"))]
pub mod conformance;
pub(crate) mod engine_redb;
pub(crate) mod feed;
pub(crate) mod frame;
pub(crate) mod ids;
pub(crate) mod integrity;
pub(crate) mod journal;
pub(crate) mod keys;
pub(crate) mod migrate_nfkc;
pub(crate) mod migrate_sessions;
mod model;
pub(crate) mod positions;
pub(crate) mod read;
pub mod recover;
pub mod schema;
pub(crate) mod search;
pub(crate) mod tables;
pub(crate) mod terms;
#[cfg(feature = "testing")]
pub mod testing;
pub(crate) mod write;

pub use backend::{Backend, HostFile, Reader, Writer};
pub use journal::path_of as journal_path;
pub use model::{INTERRUPT_CYCLE, ModelBackend};

/// A redb store file at `path` as a [`Backend`], created if absent, for
/// this process alone (what [`Institute::open`](crate::Institute::open)
/// opens).
pub fn redb_file(path: &Path) -> Result<Arc<dyn Backend>> {
    Ok(Arc::new(engine_redb::RedbBackend::open(path, false)?))
}

/// A redb store in memory as a [`Backend`] (what
/// [`Institute::in_memory`](crate::Institute::in_memory) opens).
pub fn redb_in_memory() -> Result<Arc<dyn Backend>> {
    Ok(Arc::new(engine_redb::RedbBackend::memory()?))
}

use crate::error::{Error, ErrorCode, Result};
use keys::{Col, Def, malformed};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::ops::Bound;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tables::{Kind, Records};

/// A roster store: one backend, and whether its engine panicked.
#[derive(Debug)]
pub(crate) struct Store {
    backend: Arc<dyn Backend>,
    /// Set when the storage engine panicked on this store: from then on
    /// every access answers `corrupt_store` until the store is reopened.
    poisoned: Arc<Poison>,
    /// Decoded custom field definitions kept between transactions
    /// ([`FieldsCache`]).
    fields: FieldsCache,
    /// This handle's id block of each kind, where the backend gives each
    /// handle its own ([`Backend::own_id_blocks`]; [`ids`]).
    blocks: Option<Arc<std::sync::Mutex<ids::OwnBlocks>>>,
}

/// The custom field definitions (read by every user view and every create)
/// kept decoded between transactions, as of a backend generation
/// ([`Backend::generation`]): a snapshot that began while the generation
/// was `g`, even, and still was once it had begun, sees the store as of `g`
/// and may use what was read from another such snapshot. A backend with no
/// generation (other processes may write) keeps nothing.
#[derive(Debug, Default)]
struct FieldsCache {
    kept: std::sync::Mutex<Option<(u64, Arc<[crate::domain::custom_field::CustomField]>)>>,
    /// Other values derived from one generation of the store, by name
    /// ([`Snapshot::derived`]).
    derived: std::sync::Mutex<Option<(u64, Derived)>>,
}

/// Values derived from one generation of the store, by name.
type Derived = std::collections::HashMap<&'static str, Arc<dyn std::any::Any + Send + Sync>>;

/// Whether roster panicked on a store, and what a panic means there: on a
/// store file, the storage engine tripping over a damaged page; on a
/// server's store (whose rows reach roster through the server's checks and
/// roster's verified frames), a bug of roster's.
#[derive(Debug)]
pub(crate) struct Poison {
    set: AtomicBool,
    /// Whether damage to the store can make its engine panic.
    damage: bool,
}

impl Poison {
    fn new(damage: bool) -> Poison {
        Poison {
            set: AtomicBool::new(false),
            damage,
        }
    }

    /// Whether a panic was contained on this store.
    fn is_set(&self) -> bool {
        self.set.load(Ordering::SeqCst)
    }

    /// Records a panic, contained, and gives its error.
    fn panicked(&self) -> Error {
        self.set.store(true, Ordering::SeqCst);
        match self.damage {
            true => Error::new(
                ErrorCode::Corrupt,
                "the store is damaged: the storage engine failed while reading it; \
                 run `roster check`, then `roster recover`",
            ),
            false => Error::new(
                ErrorCode::Internal,
                "roster failed inside this operation and nothing of it was committed; \
                 the institute must be reopened",
            ),
        }
    }

    /// The error of every access after a panic.
    fn error(&self) -> Error {
        match self.damage {
            true => Error::new(
                ErrorCode::Corrupt,
                "the store was found damaged earlier; it must be reopened (run `roster check`)",
            ),
            false => Error::new(
                ErrorCode::Internal,
                "roster failed inside an earlier operation; the institute must be reopened",
            ),
        }
    }
}

/// Runs `f`, turning a panic inside it (a storage engine tripping over a
/// damaged page) into a `corrupt_store` error and poisoning the store `s`
/// reads from. On wasm32 panics abort, so there this cannot help.
pub(crate) fn contain<T>(s: &Snapshot<'_>, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(out) => out,
        Err(_) => Err(s.poisoned.panicked()),
    }
}

impl Store {
    /// Opens the store file at `path` (redb), creating it if absent. A panic
    /// of the storage engine on a damaged file is a `corrupt_store` error.
    pub(crate) fn open(path: &Path, shared: bool) -> Result<Store> {
        catch_unwind(|| Store::on(Arc::new(engine_redb::RedbBackend::open(path, shared)?)))
            .unwrap_or_else(|_| Err(Poison::new(true).panicked()))
    }

    /// A redb store on bytes of the host's (OPFS in a browser).
    pub(crate) fn host(file: impl HostFile) -> Result<Store> {
        Store::on(Arc::new(engine_redb::RedbBackend::host(file)?))
    }

    /// A redb store that lives in memory only.
    pub(crate) fn in_memory() -> Result<Store> {
        Store::on(redb_in_memory()?)
    }

    /// A store on `backend`, its format prepared (created or migrated).
    /// A store already of the current format is only read: opening it
    /// writes nothing (a read-only command, or `check` on its copy, never
    /// changes the file, and a damaged file is not written over).
    pub(crate) fn on(backend: Arc<dyn Backend>) -> Result<Store> {
        let store = Store {
            blocks: backend.own_id_blocks().then(Default::default),
            poisoned: Arc::new(Poison::new(backend.damage_panics())),
            backend,
            fields: FieldsCache::default(),
        };
        // Read by every view of a user: a backend that pays a round trip
        // per statement fetches them with each snapshot.
        store.backend.prefetch(&[tables::CUSTOM_FIELDS.name]);
        if store.reading(schema::inspect)? == schema::Format::Prepare {
            store.write(schema::prepare)?;
        }
        Ok(store)
    }

    /// Whether the storage engine panicked on this store.
    pub(crate) fn is_poisoned(&self) -> bool {
        self.poisoned.is_set()
    }

    /// Runs `f` on a snapshot of the store, the one way to read outside a
    /// write: the snapshot's start, everything `f` does with it and the
    /// snapshot's end run inside the panic guard. A panic anywhere in there
    /// (the storage engine on a damaged page) is `corrupt_store` and poisons
    /// the store, like one in [`Store::write`].
    pub(crate) fn reading<T>(&self, f: impl FnOnce(&Snapshot<'_>) -> Result<T>) -> Result<T> {
        let mut f = Some(f);
        let mut out = None;
        self.read_once(&mut |snapshot| {
            let f = f
                .take()
                .ok_or_else(|| Error::new(ErrorCode::Internal, "a read ran twice"))?;
            out = Some(f(snapshot)?);
            Ok(())
        })?;
        out.ok_or_else(|| Error::new(ErrorCode::Internal, "a read did not run"))
    }

    /// [`Store::reading`] without its type: compiled once, not once for
    /// each of the dozens of closures the API reads with (the WebAssembly
    /// module's size).
    fn read_once(&self, f: &mut dyn FnMut(&Snapshot<'_>) -> Result<()>) -> Result<()> {
        if self.is_poisoned() {
            return Err(self.poisoned.error());
        }
        let before = self.backend.generation();
        let run = || {
            self.backend.read(&mut |r| {
                let fields = match before {
                    Some(g) if g % 2 == 0 && self.backend.generation() == Some(g) => {
                        Some((&self.fields, g))
                    }
                    _ => None,
                };
                let snapshot = Snapshot {
                    r,
                    poisoned: &self.poisoned,
                    fields,
                };
                f(&snapshot)?;
                #[cfg(test)]
                fault::trip_named("drop");
                Ok(())
            })
        };
        catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|_| Err(self.poisoned.panicked()))
    }

    /// Runs `f` in one write transaction: committed when it returns `Ok`,
    /// rolled back (nothing written) when it returns `Err`. A backend may
    /// run `f` more than once (each run from a fresh transaction), so `f`
    /// has no effect outside the transaction. A panic inside (the storage
    /// engine on a damaged page) is contained: nothing is committed, the
    /// store is poisoned and the answer is `corrupt_store`.
    pub(crate) fn write<T>(&self, f: impl FnMut(&Txn<'_>) -> Result<T>) -> Result<T> {
        let at = chrono::Utc::now().timestamp_micros();
        let author = feed::Author { actor: None, at };
        self.write_by(author, None, f)
    }

    /// [`Store::write`], its feed entries stamped by `author`; where the
    /// backend commits one write at a time, entries older than `retention`
    /// (microseconds) are trimmed as new ones come ([`feed`]).
    pub(crate) fn write_by<T>(
        &self,
        author: feed::Author,
        retention: Option<i64>,
        mut f: impl FnMut(&Txn<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut out = None;
        self.write_runs(author, retention, &mut |txn| {
            out = Some(f(txn)?);
            Ok(())
        })?;
        out.ok_or_else(|| Error::new(ErrorCode::Internal, "a write did not run"))
    }

    /// [`Store::write_by`] without its type: compiled once, not once for
    /// each of the dozens of closures the API writes with (the WebAssembly
    /// module's size).
    fn write_runs(
        &self,
        author: feed::Author,
        retention: Option<i64>,
        f: &mut dyn FnMut(&Txn<'_>) -> Result<()>,
    ) -> Result<()> {
        if self.is_poisoned() {
            return Err(self.poisoned.error());
        }
        let mut claimed = ids::OwnBlocks::default();
        let mut runs = 0;
        let run = || {
            self.backend.write(&mut |w| {
                // A second run: the backend refused the first, for a race
                // unless it says otherwise.
                runs += 1;
                let txn = Txn {
                    contended: runs > 1 && w.after_race(),
                    snapshot: Snapshot {
                        r: w,
                        poisoned: &self.poisoned,
                        fields: None,
                    },
                    w,
                    deferred: std::cell::RefCell::new(None),
                    feed: Default::default(),
                    blocks: self.blocks.as_ref().map(|b| {
                        std::cell::RefCell::new(b.lock().map(|b| b.clone()).unwrap_or_default())
                    }),
                    drawn: Default::default(),
                };
                f(&txn)?;
                search::flush(&txn)?;
                feed::flush(&txn, author, retention)?;
                if self.is_poisoned() {
                    // A read inside panicked and a caller swallowed the
                    // error: commit nothing.
                    return Err(self.poisoned.error());
                }
                // The blocks as this run left them (a run the backend
                // repeats starts again from the handle's).
                claimed = txn.blocks.map(|b| b.into_inner()).unwrap_or_default();
                Ok(())
            })
        };
        catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|_| Err(self.poisoned.panicked()))?;
        // Committed: the blocks this write claimed are the handle's now.
        if let Some(blocks) = &self.blocks
            && let Ok(mut blocks) = blocks.lock()
        {
            *blocks = claimed;
        }
        Ok(())
    }
}

/// A consistent view of a store: a snapshot, or the view of a write
/// transaction ([`Txn`] dereferences to one). Only [`Store::reading`] and
/// [`Store::write`] hand one out, and only by reference; every read goes
/// through its typed methods.
pub(crate) struct Snapshot<'a> {
    r: &'a dyn Reader,
    poisoned: &'a Poison,
    /// The cache of custom field definitions this snapshot may use, and the
    /// generation it holds.
    fields: Option<(&'a FieldsCache, u64)>,
}

impl std::fmt::Debug for Snapshot<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Snapshot")
    }
}

fn encoded_bound<K: Col + ?Sized>(b: Bound<&K>) -> Bound<Vec<u8>> {
    match b {
        Bound::Included(k) => Bound::Included(k.bytes()),
        Bound::Excluded(k) => Bound::Excluded(k.bytes()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

impl Snapshot<'_> {
    /// The custom field definitions, from the cache when it holds this
    /// snapshot's, else read by `load` (and kept when this snapshot may).
    pub(crate) fn custom_fields_with(
        &self,
        load: impl FnOnce() -> Result<Vec<crate::domain::custom_field::CustomField>>,
    ) -> Result<Arc<[crate::domain::custom_field::CustomField]>> {
        let Some((cache, generation)) = self.fields else {
            return Ok(load()?.into());
        };
        if let Ok(kept) = cache.kept.lock()
            && let Some((g, fields)) = kept.as_ref()
            && *g == generation
        {
            return Ok(fields.clone());
        }
        let fields: Arc<[_]> = load()?.into();
        if let Ok(mut kept) = cache.kept.lock() {
            *kept = Some((generation, fields.clone()));
        }
        Ok(fields)
    }

    /// The value `name` derives from the store by `load` (the same `T` for
    /// the same name): kept with the custom field definitions, under the
    /// same rule, so every snapshot of one generation shares it.
    pub(crate) fn derived<T: std::any::Any + Send + Sync>(
        &self,
        name: &'static str,
        load: impl FnOnce() -> Result<T>,
    ) -> Result<Arc<T>> {
        let Some((cache, generation)) = self.fields else {
            return Ok(Arc::new(load()?));
        };
        if let Ok(kept) = cache.derived.lock()
            && let Some((g, values)) = kept.as_ref()
            && *g == generation
            && let Some(value) = values
                .get(name)
                .and_then(|v| v.clone().downcast::<T>().ok())
        {
            return Ok(value);
        }
        let value = Arc::new(load()?);
        if let Ok(mut kept) = cache.derived.lock() {
            if kept.as_ref().is_none_or(|(g, _)| *g != generation) {
                *kept = Some((generation, Derived::new()));
            }
            if let Some((_, values)) = kept.as_mut() {
                values.insert(name, value.clone() as Arc<dyn std::any::Any + Send + Sync>);
            }
        }
        Ok(value)
    }

    /// The value under `key` in `def`.
    pub(crate) fn get<K: Col + ?Sized, V: Col + ?Sized>(
        &self,
        def: Def<K, V>,
        key: &K,
    ) -> Result<Option<V::Owned>> {
        #[cfg(test)]
        fault::trip_named(def.name);
        let key = key.bytes();
        match self.r.get(def.name, &key)? {
            Some(bytes) => V::take_vec(unsealed(def.name, def.sealed, &key, bytes)?)
                .map(Some)
                .ok_or_else(|| malformed(def.name)),
            None => Ok(None),
        }
    }

    /// Calls `visit` with the bytes under `key` in `def`, lent by the
    /// backend where it can (a record decoded without copying it first);
    /// whether there were any. Not generic over what `visit` makes, so the
    /// WebAssembly build holds one copy per key type.
    pub(crate) fn get_with<K: Col + ?Sized>(
        &self,
        def: Def<K, [u8]>,
        key: &K,
        visit: &mut backend::ValueVisitor<'_>,
    ) -> Result<bool> {
        #[cfg(test)]
        fault::trip_named(def.name);
        let key = key.bytes();
        if def.sealed {
            return self.r.get_with(def.name, &key, &mut |stored| {
                visit(opened(def.name, true, &key, stored)?)
            });
        }
        self.r.get_with(def.name, &key, visit)
    }

    /// Calls `visit` with the index in `keys` and the bytes of each key of
    /// `def` that has a row, in any order (keys near each other walked
    /// together on redb, all asked at once where reads cross a network),
    /// lent where the backend can. Not generic over what `visit` makes, as
    /// [`Snapshot::get_with`].
    pub(crate) fn get_many_with<K: Col + ?Sized>(
        &self,
        def: Def<K, [u8]>,
        keys: &[&K],
        visit: &mut backend::ManyVisitor<'_>,
    ) -> Result<()> {
        #[cfg(test)]
        fault::trip_named(def.name);
        let encoded: Vec<Vec<u8>> = keys.iter().map(|k| k.bytes()).collect();
        let slices: Vec<&[u8]> = encoded.iter().map(Vec::as_slice).collect();
        if def.sealed {
            return self.r.get_many_with(def.name, &slices, &mut |i, stored| {
                visit(i, opened(def.name, true, slices[i], stored)?)
            });
        }
        self.r.get_many_with(def.name, &slices, visit)
    }

    /// The id under `key` in unique index `def` (its seal checked), with
    /// the bytes of the record of `target` it names, read together: one
    /// round trip where reads cross a network
    /// ([`backend::Reader::get_and_follow`]). `None` when there is no
    /// entry; no bytes when the record is missing.
    pub(crate) fn id_and_record(
        &self,
        def: tables::Unique,
        key: &str,
        target: tables::Records,
    ) -> Result<Option<(u64, Option<Vec<u8>>)>> {
        #[cfg(test)]
        fault::trip_named(def.name);
        let key = Col::bytes(key);
        let key = key.as_slice();
        let trim = if def.sealed { keys::SEAL_LEN } else { 0 };
        let (entry, record) = self.r.get_and_follow(def.name, key, target.name, trim)?;
        let Some(entry) = entry else {
            return Ok(None);
        };
        // The record was read under the entry's bytes less its seal: the
        // value unsealed here, so the key of the id it holds.
        let value = unsealed(def.name, def.sealed, key, entry)?;
        let id = u64::take(&value).ok_or_else(|| malformed(def.name))?;
        let record = record
            .map(|bytes| unsealed(target.name, target.sealed, &value, bytes))
            .transpose()?;
        Ok(Some((id, record)))
    }

    /// The values under `keys` in `def`, in their order.
    pub(crate) fn get_many<K: Col + ?Sized, V: Col + ?Sized>(
        &self,
        def: Def<K, V>,
        keys: &[&K],
    ) -> Result<Vec<Option<V::Owned>>> {
        #[cfg(test)]
        fault::trip_named(def.name);
        let encoded: Vec<Vec<u8>> = keys.iter().map(|k| k.bytes()).collect();
        let slices: Vec<&[u8]> = encoded.iter().map(Vec::as_slice).collect();
        self.r
            .get_many(def.name, &slices)?
            .into_iter()
            .zip(&slices)
            .map(|(v, key)| match v {
                Some(bytes) => V::take_vec(unsealed(def.name, def.sealed, key, bytes)?)
                    .map(Some)
                    .ok_or_else(|| malformed(def.name)),
                None => Ok(None),
            })
            .collect()
    }

    /// Calls `visit` on the rows of `def` between `lower` and `upper`,
    /// ascending (descending when `reverse`), until it returns `false`.
    pub(crate) fn scan<K: Col + ?Sized, V: Col + ?Sized>(
        &self,
        def: Def<K, V>,
        lower: Bound<&K>,
        upper: Bound<&K>,
        reverse: bool,
        mut visit: impl FnMut(K::Owned, V::Owned) -> Result<bool>,
    ) -> Result<()> {
        let bounds = (encoded_bound(lower), encoded_bound(upper));
        self.scan_encoded(def, bounds, reverse, |k, v| {
            let key = K::take(k).ok_or_else(|| malformed(def.name))?;
            let value =
                V::take(opened(def.name, def.sealed, k, v)?).ok_or_else(|| malformed(def.name))?;
            visit(key, value)
        })
    }

    /// Calls `visit` on the raw rows of `def` between encoded bounds: the
    /// one place a typed scan reaches the backend.
    fn scan_encoded<K: ?Sized, V: ?Sized>(
        &self,
        def: Def<K, V>,
        (lo, hi): (Bound<Vec<u8>>, Bound<Vec<u8>>),
        reverse: bool,
        mut visit: impl FnMut(&[u8], &[u8]) -> Result<bool>,
    ) -> Result<()> {
        #[cfg(test)]
        fault::trip_named(def.name);
        self.r.scan(
            def.name,
            backend::as_slices(&lo),
            backend::as_slices(&hi),
            reverse,
            &mut visit,
        )
    }

    /// The next scan will likely stop after about `rows` rows
    /// ([`Reader::scan_hint`]).
    pub(crate) fn scan_hint(&self, rows: usize) {
        self.r.scan_hint(rows);
    }

    /// Calls `visit` on the keys of `def` from `lower` to `upper`,
    /// ascending, until it returns `false` (values are not decoded).
    pub(crate) fn scan_keys<K: Col + ?Sized, V: Col + ?Sized>(
        &self,
        def: Def<K, V>,
        lower: Bound<&K>,
        upper: Bound<&K>,
        mut visit: impl FnMut(K::Owned) -> Result<bool>,
    ) -> Result<()> {
        let bounds = (encoded_bound(lower), encoded_bound(upper));
        self.scan_encoded(def, bounds, false, |k, _| {
            visit(K::take(k).ok_or_else(|| malformed(def.name))?)
        })
    }

    /// Calls `visit` on every row of `def` whose key starts with the
    /// encoding of `prefix`, ascending, until it returns `false`.
    pub(crate) fn scan_prefix<K: Col + ?Sized, V: Col + ?Sized, P: Col + ?Sized>(
        &self,
        def: Def<K, V>,
        prefix: &P,
        reverse: bool,
        mut visit: impl FnMut(K::Owned, V::Owned) -> Result<bool>,
    ) -> Result<()> {
        let bounds = backend::prefix_bounds(&prefix.bytes());
        self.scan_encoded(def, bounds, reverse, |k, v| {
            let key = K::take(k).ok_or_else(|| malformed(def.name))?;
            let value =
                V::take(opened(def.name, def.sealed, k, v)?).ok_or_else(|| malformed(def.name))?;
            visit(key, value)
        })
    }

    /// Every row of `def`, ascending.
    pub(crate) fn rows<K: Col + ?Sized, V: Col + ?Sized>(
        &self,
        def: Def<K, V>,
    ) -> Result<Vec<(K::Owned, V::Owned)>> {
        let mut out = Vec::new();
        self.scan(def, Bound::Unbounded, Bound::Unbounded, false, |k, v| {
            out.push((k, v));
            Ok(true)
        })?;
        Ok(out)
    }

    /// How many rows `def` holds.
    pub(crate) fn len<K: ?Sized, V: ?Sized>(&self, def: Def<K, V>) -> Result<u64> {
        #[cfg(test)]
        fault::trip_named(def.name);
        self.r.len(def.name)
    }

    /// The names of the tables the store holds.
    pub(crate) fn table_names(&self) -> Result<Vec<String>> {
        self.r.table_names()
    }

    /// Whether the backend says it stores any row ([`Reader::stores_rows`]).
    pub(crate) fn stores_rows(&self) -> Result<bool> {
        self.r.stores_rows()
    }

    /// Walks every stored row against the backend's own bookkeeping
    /// ([`Reader::verify_rows`]): a full read of the store runs it first.
    pub(crate) fn verify_rows(&self) -> Result<()> {
        self.r.verify_rows()
    }
}

/// The value stored as `bytes` under `key` in table `table`, its seal
/// checked and taken off when the table is `sealed`. Not generic: one
/// copy in the WebAssembly module, whatever the table's types.
fn unsealed(table: &str, sealed: bool, key: &[u8], mut bytes: Vec<u8>) -> Result<Vec<u8>> {
    let len = opened(table, sealed, key, &bytes)?.len();
    bytes.truncate(len);
    Ok(bytes)
}

/// The value stored as `stored` under `key` in table `table`: its seal
/// checked and taken off when the table is `sealed`.
fn opened<'a>(table: &str, sealed: bool, key: &[u8], stored: &'a [u8]) -> Result<&'a [u8]> {
    if !sealed {
        return Ok(stored);
    }
    keys::unseal(table, key, stored).ok_or_else(|| malformed(table))
}

/// `value` as table `table` stores it under `key`: with its seal when the
/// table is `sealed`.
fn stored_value(table: &str, sealed: bool, key: &[u8], mut value: Vec<u8>) -> Vec<u8> {
    if sealed {
        keys::seal(table, key, &mut value);
    }
    value
}

/// A write transaction: a [`Snapshot`] that sees its own writes, and the
/// typed writes.
pub(crate) struct Txn<'a> {
    snapshot: Snapshot<'a>,
    w: &'a dyn Writer,
    /// Search-index changes held back to the end of the transaction (a
    /// bulk import's: one write per posting block instead of one per user).
    deferred: std::cell::RefCell<Option<search::Pending>>,
    /// The entities this transaction changed so far, for the change feed.
    feed: std::cell::RefCell<feed::Pending>,
    /// The handle's id blocks as this transaction sees them, when it may
    /// have blocks of its own ([`ids`]).
    pub(crate) blocks: Option<std::cell::RefCell<ids::OwnBlocks>>,
    /// Whether this is a run again of a write the backend refused for a
    /// race with another process ([`ids`] then claims a block).
    pub(crate) contended: bool,
    /// UUIDs drawn ahead for the records this transaction creates
    /// ([`Txn::draw_uuids`]), in the order they are to be taken.
    drawn: std::cell::RefCell<std::collections::VecDeque<u128>>,
}

impl<'a> std::ops::Deref for Txn<'a> {
    type Target = Snapshot<'a>;

    fn deref(&self) -> &Snapshot<'a> {
        &self.snapshot
    }
}

impl std::fmt::Debug for Txn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Txn")
    }
}

impl Txn<'_> {
    /// Holds the search index's changes back until the end of this
    /// transaction (nothing in it may search meanwhile).
    pub(crate) fn defer_search_index(&self) {
        let mut deferred = self.deferred.borrow_mut();
        if deferred.is_none() {
            *deferred = Some(search::Pending::default());
        }
    }

    /// Writes the search index's changes held back so far by
    /// [`Txn::defer_search_index`], so that what follows in this
    /// transaction (a check of the whole store) reads them; later changes
    /// are written as they come.
    pub(crate) fn write_deferred_search_index(&self) -> Result<()> {
        search::flush(self)
    }

    /// Stores `value` under `key` in `def`.
    pub(crate) fn put<K: Col + ?Sized, V: Col + ?Sized>(
        &self,
        def: Def<K, V>,
        key: &K,
        value: &V,
    ) -> Result<()> {
        let key = key.bytes();
        let value = stored_value(def.name, def.sealed, &key, value.bytes());
        self.w.put(def.name, &key, &value)
    }

    /// Tells the backend that this transaction is about to read `reads`
    /// (rows of any tables) one by one ([`Writer::will_read`]: one round
    /// trip for them all where reads cost one each; nothing on a local
    /// store).
    pub(crate) fn will_read(&self, reads: &Reads) -> Result<()> {
        let rows: Vec<(&str, &[u8])> = reads.0.iter().map(|(t, k)| (*t, k.as_slice())).collect();
        self.w.will_read(&rows)
    }

    /// Tells the backend this transaction will read `defs` whole
    /// ([`super::Writer::will_scan`]); call it before the first
    /// [`Txn::will_read`], whose message carries them.
    pub(crate) fn will_scan(&self, defs: &[&'static str]) -> Result<()> {
        self.w.will_scan(defs)
    }

    /// Hints that this write will scan the rows of `def` under `prefix`
    /// ([`super::Writer::will_scan_prefixes`]): read with its next
    /// [`Txn::will_read`] where reads cost a round trip.
    pub(crate) fn will_scan_prefix<K: Col + ?Sized, V: Col + ?Sized, P: Col + ?Sized>(
        &self,
        def: Def<K, V>,
        prefix: &P,
    ) -> Result<()> {
        self.w.will_scan_prefixes(&[(def.name, &prefix.bytes())])
    }

    /// Whether the backend takes hints ([`super::Writer::takes_hints`]).
    pub(crate) fn takes_hints(&self) -> bool {
        self.w.takes_hints()
    }

    /// Draws `n` random UUIDs now, for the next records this transaction
    /// creates ([`Txn::new_uuid`] hands them out in order), so that a hint
    /// can name their index entries before the records exist.
    pub(crate) fn draw_uuids(&self, n: usize) -> Result<Vec<u128>> {
        let uuids = (0..n)
            .map(|_| crate::random::uuid())
            .collect::<Result<Vec<_>, _>>()?;
        self.drawn.borrow_mut().extend(uuids.iter().copied());
        Ok(uuids)
    }

    /// A random UUID for a new record: the next drawn ahead
    /// ([`Txn::draw_uuids`]), or a new one.
    pub(crate) fn new_uuid(&self) -> Result<u128> {
        match self.drawn.borrow_mut().pop_front() {
            Some(uuid) => Ok(uuid),
            None => Ok(crate::random::uuid()?),
        }
    }

    /// Stores every `(key, value)` of `rows` in `def` (keys distinct), at
    /// once where the backend can.
    pub(crate) fn put_many<K: Col + ?Sized, V: Col + ?Sized>(
        &self,
        def: Def<K, V>,
        rows: &[(&K, &V)],
    ) -> Result<()> {
        let bytes: Vec<(Vec<u8>, Vec<u8>)> = rows
            .iter()
            .map(|(k, v)| {
                let key = k.bytes();
                let value = stored_value(def.name, def.sealed, &key, v.bytes());
                (key, value)
            })
            .collect();
        let slices: Vec<(&[u8], &[u8])> = bytes
            .iter()
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
            .collect();
        self.w.put_many(def.name, &slices)
    }

    /// Removes `key` from `def`; whether it was there.
    pub(crate) fn delete<K: Col + ?Sized, V: Col + ?Sized>(
        &self,
        def: Def<K, V>,
        key: &K,
    ) -> Result<bool> {
        self.w.delete(def.name, &key.bytes())
    }

    /// Removes `key` from `def` if it is there, without asking whether it
    /// was ([`Writer::remove`]: no round trip where the answer costs one).
    pub(crate) fn remove<K: Col + ?Sized, V: Col + ?Sized>(
        &self,
        def: Def<K, V>,
        key: &K,
    ) -> Result<()> {
        self.w.remove(def.name, &key.bytes())
    }

    /// Removes `key` from `def`, returning what it held.
    pub(crate) fn take<K: Col + ?Sized, V: Col + ?Sized>(
        &self,
        def: Def<K, V>,
        key: &K,
    ) -> Result<Option<V::Owned>> {
        let old = self.get(def, key)?;
        if old.is_some() {
            self.delete(def, key)?;
        }
        Ok(old)
    }

    /// Removes every key of `keys` from `def`: how many were there.
    pub(crate) fn delete_many<K: Col, V: Col + ?Sized>(
        &self,
        def: Def<K, V>,
        keys: &[K],
    ) -> Result<u64> {
        let bytes: Vec<Vec<u8>> = keys.iter().map(Col::bytes).collect();
        let slices: Vec<&[u8]> = bytes.iter().map(Vec::as_slice).collect();
        self.w.delete_many(def.name, &slices)
    }

    /// Removes every row of `def`.
    pub(crate) fn clear<K: Col + ?Sized, V: Col + ?Sized>(&self, def: Def<K, V>) -> Result<()> {
        let mut keys = Vec::new();
        self.w.scan(
            def.name,
            Bound::Unbounded,
            Bound::Unbounded,
            false,
            &mut |k, _| {
                keys.push(k.to_vec());
                Ok(true)
            },
        )?;
        for key in keys {
            self.w.delete(def.name, &key)?;
        }
        Ok(())
    }
}

/// A test-only panic trigger: the next read of an armed table through a
/// [`Snapshot`] on this thread panics, as redb does on a damaged page. It
/// fires before the backend is asked, so only the guard of the caller (the
/// read function's, or [`Store::reading`]'s) can contain it.
#[cfg(test)]
pub(crate) mod fault {
    use std::cell::Cell;

    thread_local! {
        static ARMED: Cell<Option<&'static str>> = const { Cell::new(None) };
    }

    /// Makes the next read of table `name` on this thread panic.
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

    /// Panics if `name` is armed.
    pub(super) fn trip_named(name: &str) {
        if ARMED.with(|a| a.get()) == Some(name) {
            disarm();
            panic!("injected: the storage engine tripped over a damaged page ({name})");
        }
    }
}

/// The entity kind of record table `def`.
pub(crate) fn kind_of(def: Records) -> Kind {
    match def.name {
        "users" => Kind::User,
        "batches" => Kind::Batch,
        "courses" => Kind::Course,
        "custom_fields" => Kind::CustomField,
        "groups" => Kind::Group,
        "organisations" => Kind::Organisation,
        "sunbird_users" => Kind::SunbirdUser,
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

/// Encodes change `seq` of the feed as its frame.
pub(crate) fn encode_change(seq: u64, entry: &crate::domain::feed::Entry) -> Result<Vec<u8>> {
    frame::encode(Kind::Change, frame::id(seq), entry)
}

/// Decodes the frame of change `seq`, verified.
pub(crate) fn decode_change(seq: u64, bytes: &[u8]) -> Result<crate::domain::feed::Entry> {
    frame::decode(Kind::Change, frame::id(seq), bytes)
}

/// The instant of change `seq`, its frame verified: the entry's first
/// field, read without decoding the rest (trimming reads only this).
pub(crate) fn change_instant(seq: u64, bytes: &[u8]) -> Result<crate::domain::Micros> {
    let (at,): (crate::domain::Micros,) =
        frame::decode_borrowed(Kind::Change, frame::id(seq), bytes)?;
    Ok(at)
}

/// Encodes the membership of `key` = (user, batch) as its frame.
pub(crate) fn encode_membership<T: Serialize>(key: (u64, u64), sub: &T) -> Result<Vec<u8>> {
    frame::encode(Kind::Subscription, key, sub)
}

/// Decodes the membership frame stored under `key` = (user, batch).
pub(crate) fn decode_membership<T: DeserializeOwned>(key: (u64, u64), bytes: &[u8]) -> Result<T> {
    frame::decode(Kind::Subscription, key, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_instant_is_the_entry_instant_and_is_verified() {
        use crate::domain::feed::{ChangeOp, Entity, Entry};
        for at in [0, -5, 1_764_000_000_000_000, i64::MAX, i64::MIN] {
            let entry = Entry {
                at,
                actor: Some(7),
                entity: Entity::User,
                uuid: 9,
                name: String::new(),
                op: ChangeOp::Update,
                record: Some(vec![1, 2, 3]),
            };
            let bytes = encode_change(42, &entry).unwrap();
            assert_eq!(change_instant(42, &bytes).unwrap(), at);
            assert_eq!(decode_change(42, &bytes).unwrap().at, at);
            assert!(change_instant(43, &bytes).is_err(), "another entry's key");
            let mut damaged = bytes.clone();
            damaged[frame::HEADER] ^= 1;
            let err = change_instant(42, &damaged).unwrap_err();
            assert_eq!(err.code(), ErrorCode::Corrupt);
        }
    }

    #[test]
    fn a_panic_in_a_read_is_corrupt_store_and_poisons_the_store() {
        let store = Store::in_memory().unwrap();
        let err = store
            .reading(|s| contain(s, || -> Result<()> { panic!("a damaged page") }))
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Corrupt);
        assert_eq!(
            store.reading(|_| Ok(())).unwrap_err().code(),
            ErrorCode::Corrupt
        );
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
                txn.put(tables::META, "probe", &99)?;
                panic!("a damaged page")
            })
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Corrupt);
        assert!(store.is_poisoned());
        assert_eq!(
            store.reading(|_| Ok(())).unwrap_err().code(),
            ErrorCode::Corrupt
        );
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

    /// Where damage cannot make the engine panic, a panic is roster's own
    /// failure: `internal`, not a damaged store to check and recover. The
    /// handle still refuses everything after it (what the panic left in
    /// memory is not trusted), and nothing of the write is committed.
    #[test]
    fn a_panic_on_a_servers_store_is_an_internal_error_not_damage() {
        let backend = Arc::new(model::Served::default());
        let store = Store::on(backend.clone()).unwrap();
        let err = store
            .write(|txn| -> Result<()> {
                txn.put(tables::META, "probe", &99)?;
                contain(txn, || -> Result<()> { panic!("a bug") })
            })
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Internal, "{err:?}");
        assert!(!err.message().contains("recover"), "{err:?}");
        let after = store.reading(|_| Ok(())).unwrap_err();
        assert_eq!(after.code(), ErrorCode::Internal, "{after:?}");
        assert!(after.message().contains("reopened"), "{after:?}");
        let reopened = Store::on(backend).unwrap();
        let probe: Option<u64> = reopened.reading(|s| s.get(tables::META, "probe")).unwrap();
        assert_eq!(probe, None, "nothing of the write committed");
        let err = reopened
            .reading(|_| -> Result<()> { panic!("a bug") })
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Internal, "{err:?}");
    }
}

/// Rows a write is about to read, in any tables ([`Txn::will_read`]).
#[derive(Debug, Default)]
pub(crate) struct Reads(Vec<(&'static str, Vec<u8>)>);

impl Reads {
    /// With the row under `key` in `def`.
    pub(crate) fn of<K: Col + ?Sized, V: Col + ?Sized>(mut self, def: Def<K, V>, key: &K) -> Self {
        self.0.push((def.name, key.bytes()));
        self
    }
}
