//! The redb backend, on a file, in memory, or on a host's bytes
//! ([`HostFile`]).
//!
//! Every logical table lives in one redb table of `&[u8] -> &[u8]`
//! ([`DATA`]): a row of table `t` under `[id of t] ++ key`, the ids kept in
//! a catalog in the same table (under id 0) and cached once committed. So a
//! transaction opens one redb table however many logical tables it reads
//! (a lookup reads an index and a record), every commit rewrites one tree's
//! branch pages, and redb's B-tree code is instantiated once.
//!
//! Stores written before (typed tables of formats 1-3, or the bytes tables
//! of format 4's first layout) are marked legacy when opened; the first
//! write transaction (the schema preparation of [`super::Store::on`])
//! re-encodes every such table as bytes and moves it into the data table
//! before anything else, so the move and the migrations that follow commit
//! together or not at all.

use super::backend::{
    Backend, HostFile, ManyVisitor, Reader, RowVisitor, ValueVisitor, Writer, as_slices,
};
use super::journal::{self, Change, Changes, Journal};
use super::keys::Col;
use crate::error::{Error, ErrorCode, Internal, Result};
use redb::{
    Database, Key, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
    TableError, TableHandle, Value,
};
use std::cell::RefCell;
use std::ops::Bound;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The redb table `name`: every roster table has this one type.
pub(crate) fn bytes_table(name: &str) -> TableDefinition<'_, &'static [u8], &'static [u8]> {
    TableDefinition::new(name)
}

/// Maps a redb failure while doing `what` to roster's error.
fn engine<E>(what: &'static str) -> impl FnOnce(E) -> Error
where
    E: Into<redb::Error>,
{
    move |e| {
        let e: redb::Error = e.into();
        match e {
            redb::Error::DatabaseAlreadyOpen => Internal::AlreadyOpen.into(),
            redb::Error::Corrupted(ref why) => Error::new(
                ErrorCode::Corrupt,
                format!("the store file is damaged ({why}); run `roster check`"),
            )
            .caused_by(std::sync::Arc::new(e) as std::sync::Arc<_>),
            redb::Error::UpgradeRequired(_) => Error::new(
                ErrorCode::SchemaTooNew,
                "the file was written by an incompatible storage engine version",
            ),
            other => Error::storage(what, other),
        }
    }
}

/// The redb database, closed inside a panic guard when dropped: closing
/// writes the file's header, which on a damaged store could panic in the
/// host's drop of an `Institute`.
#[derive(Debug)]
struct Db(Option<Database>);

impl Drop for Db {
    fn drop(&mut self) {
        if let Some(db) = self.0.take() {
            let _ = catch_unwind(AssertUnwindSafe(move || drop(db)));
        }
    }
}

/// A roster store on redb.
#[derive(Debug)]
pub(crate) struct RedbBackend {
    db: Db,
    /// The file holds typed tables of a format before 4, re-encoded by the
    /// next write transaction.
    legacy: AtomicBool,
    /// The commit journal of a file opened for this process alone.
    journal: Option<Mutex<Journal>>,
    /// Whether every write to the store goes through this backend (not a
    /// shared file): then it counts them ([`Backend::generation`]).
    sole: bool,
    /// Odd while a write is under way.
    generation: std::sync::atomic::AtomicU64,
    /// The last read snapshot and the generation it shows, reused by the
    /// reads that follow until a write begins ([`RedbBackend::snapshot`]).
    kept: Mutex<Option<(u64, Arc<Snapshot>)>>,
    /// The ids of the tables ([`DATA`]).
    ids: Ids,
}

impl Drop for RedbBackend {
    /// Closing checkpoints the commits that live only in the journal, so a
    /// closed store is whole without it, and after a failed journal write,
    /// so that a record its erasure may have missed names an old epoch.
    fn drop(&mut self) {
        self.forget_snapshot();
        let dirty = self
            .journal
            .as_ref()
            .and_then(|j| j.lock().ok().map(|j| j.is_dirty() || j.has_failed()))
            .unwrap_or(false);
        if dirty {
            let _ = catch_unwind(AssertUnwindSafe(|| self.checkpoint(&[], None)));
        }
    }
}

impl RedbBackend {
    /// The store file at `path`, created if absent: for this process alone
    /// (`shared` false: one sync per durable commit), or shared with other
    /// processes where the platform has byte-range locks.
    ///
    /// Commits that an earlier opening left in the journal (it stopped
    /// without closing) are applied first. Opened for this process alone,
    /// the store keeps a journal from then on ([`journal`]); shared, every
    /// commit goes to the store itself.
    pub(crate) fn open(path: &Path, shared: bool) -> Result<RedbBackend> {
        let mut builder = Database::builder();
        if shared {
            builder = multi_process();
        }
        // Every store file this opens is created 0600, whoever asks
        // (an institute, `recover --to`, the test tools): it holds
        // password hashes (A3). Its errors are the engine's, below.
        crate::private_file::ensure(path)
            .map_err(|e| Error::new(ErrorCode::Storage, e.to_string()))?;
        not_a_store(path)?;
        let db = builder.create(path).map_err(|e| match e {
            redb::DatabaseError::Storage(redb::StorageError::Corrupted(what)) => Error::new(
                ErrorCode::Corrupt,
                format!("{} is not a readable roster store: {what}", path.display()),
            ),
            // redb's words for a file whose header is not its own.
            redb::DatabaseError::Storage(redb::StorageError::Io(io))
                if io.kind() == std::io::ErrorKind::InvalidData =>
            {
                Error::new(
                    ErrorCode::Corrupt,
                    format!("{} is not a roster store: {io}", path.display()),
                )
            }
            other => engine("opening the store file")(other),
        })?;
        let mut backend = RedbBackend::on(db)?;
        // Other processes may write a shared file.
        backend.sole = !shared;
        if shared || backend.is_legacy() {
            // A legacy store's journal (format 4's first layout kept one)
            // is applied to its own tables; the journal of today's layout
            // comes with the migration, and the next opening keeps one.
            backend.replay(path, false)?;
            return Ok(backend);
        }
        // The commits the last opening left in the journal are applied,
        // in a new epoch; with none, nothing is written now (an opening
        // that reads, or a file the format check then refuses, is left as
        // it was) and the first write of this opening changes the epoch,
        // so that no record written from then on can be mistaken for one
        // of the last opening's.
        let read_at = backend.epoch()?;
        let found = match read_at {
            Some(epoch) => journal::records_beside(path, epoch)?,
            None => journal::Found::default(),
        };
        if found.damaged {
            return Err(journal::damaged_in_the_middle(path, found.commits.len()));
        }
        let records = found.commits;
        let journal_path = journal::path_of(path);
        let opened = if records.is_empty() {
            Journal::open(&journal_path, read_at.unwrap_or(0)).map(Journal::unstarted)
        } else {
            let epoch = backend.checkpoint(&records, read_at)?;
            Journal::open(&journal_path, epoch)
        };
        backend.journal = match opened {
            Ok(j) => Some(Mutex::new(j)),
            // Where no journal can be kept (a read-only folder), every
            // commit goes to the store.
            Err(_) => None,
        };
        Ok(backend)
    }

    /// Applies the commits the journal of the store file at `store` holds
    /// for this store (this store's own, or a copy's of `store`, as
    /// `roster check` and `recover` read it): how many, and whether the
    /// journal is damaged after them ([`journal::Found::damaged`]). Such a
    /// journal is refused unless `salvage` (`recover`, `check`) takes the
    /// commits before the damage.
    pub(crate) fn replay(&self, store: &Path, salvage: bool) -> Result<(usize, bool)> {
        let Some(epoch) = self.epoch()? else {
            return Ok((0, false));
        };
        let found = journal::records_beside(store, epoch)?;
        if found.damaged && !salvage {
            return Err(journal::damaged_in_the_middle(store, found.commits.len()));
        }
        let records = &found.commits;
        match (records.is_empty(), self.is_legacy()) {
            (true, _) => {}
            (false, true) => self.checkpoint_legacy(records, epoch)?,
            (false, false) => drop(self.checkpoint(records, Some(epoch))?),
        }
        Ok((records.len(), found.damaged))
    }

    /// [`RedbBackend::checkpoint`] of a store of format 4's first layout:
    /// the journal's records were commits to its bytes tables of their
    /// own, so they are applied to those tables (the migration then moves
    /// them whole), and the epoch changes with them. Applied to the data
    /// table instead, the tables the migration gathers later would write
    /// their older rows back over them; left for a later opening, they
    /// would be applied then, over everything written since.
    fn checkpoint_legacy(&self, records: &[Vec<u8>], read_at: u64) -> Result<()> {
        let txn = self
            .db()
            .begin_write()
            .map_err(engine("writing the store"))?;
        let _writing = self.begin_writing();
        if epoch_in(&txn)? != Some(read_at) {
            txn.abort().map_err(engine("writing the store"))?;
            return Ok(());
        }
        for payload in records {
            journal::each_change(payload, |change| {
                let name = match change {
                    Change::Put(t, ..) | Change::Delete(t, _) => t,
                };
                if name == journal::TABLE || name == DATA {
                    return Err(damaged_journal());
                }
                let mut table = txn
                    .open_table(bytes_table(name))
                    .map_err(engine("applying the journal"))?;
                match change {
                    Change::Put(_, k, v) => table.insert(k, v).map(drop),
                    Change::Delete(_, k) => table.remove(k).map(drop),
                }
                .map_err(engine("applying the journal"))
            })?
            .ok_or_else(damaged_journal)?;
        }
        set_epoch(&txn, journal::new_epoch()?)?;
        txn.commit().map_err(engine("committing a write"))
    }

    /// The epoch of the store's last checkpoint, if it ever kept a journal.
    fn epoch(&self) -> Result<Option<u64>> {
        let txn = self
            .db()
            .begin_read()
            .map_err(engine("reading the store"))?;
        let table = match txn.open_table(bytes_table(journal::TABLE)) {
            Ok(t) => t,
            Err(TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(engine("reading the store")(e)),
        };
        let Some(value) = get_in(&table, journal::EPOCH_KEY)? else {
            return Ok(None);
        };
        Ok(Some(
            u64::take(&value).ok_or_else(|| super::keys::malformed(journal::TABLE))?,
        ))
    }

    /// Applies `records` (journal payloads, read for the store's epoch
    /// `read_at`) and commits durably in a new epoch, which it returns.
    ///
    /// Processes that open a file shared after a crash may all read the
    /// journal before any applies it: the epoch is read again inside the
    /// write, and records read for an epoch the store no longer has (one of
    /// them applied them, and may have written since) are not applied
    /// twice; that store's epoch is returned, nothing written.
    fn checkpoint(&self, records: &[Vec<u8>], read_at: Option<u64>) -> Result<u64> {
        let epoch = journal::new_epoch()?;
        let txn = self
            .db()
            .begin_write()
            .map_err(engine("writing the store"))?;
        let _writing = self.begin_writing();
        if !records.is_empty() {
            let now = epoch_in(&txn)?;
            if now != read_at {
                txn.abort().map_err(engine("writing the store"))?;
                return now.ok_or_else(damaged_journal);
            }
        }
        let new_ids = {
            let w = WriteTxn::new(&txn, &self.ids, Changes::off());
            for payload in records {
                journal::each_change(payload, |change| match change {
                    Change::Put(t, k, v) => w.put(t, k, v),
                    Change::Delete(t, k) => w.delete(t, k).map(|_| ()),
                })?
                .ok_or_else(damaged_journal)?;
            }
            w.finish().0
        };
        set_epoch(&txn, epoch)?;
        txn.commit().map_err(engine("committing a write"))?;
        keep_ids(&self.ids, new_ids);
        Ok(epoch)
    }

    /// A store on the host's bytes.
    pub(crate) fn host(file: impl HostFile) -> Result<RedbBackend> {
        host_not_a_store(&file)?;
        let db = Database::builder()
            .create_with_backend(HostBytes(file))
            .map_err(engine("opening the store"))?;
        RedbBackend::on(db)
    }

    /// A store in memory.
    pub(crate) fn memory() -> Result<RedbBackend> {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(engine("creating the store in memory"))?;
        RedbBackend::on(db)
    }

    /// A store on an open database (`recover` opens copies itself).
    pub(crate) fn on(db: Database) -> Result<RedbBackend> {
        // Tables of their own (typed ones of formats 1-3, or bytes tables
        // of format 4's first layout) move into the data table at the first
        // write.
        let txn = db.begin_read().map_err(engine("reading the store"))?;
        let legacy = !other_tables(txn.list_tables())?.is_empty();
        match txn.open_table(bytes_table(DATA)) {
            Ok(data) => check_catalog(&data)?,
            Err(TableError::TableDoesNotExist(_)) => {}
            Err(e) => return Err(engine("opening the store's table")(e)),
        }
        drop(txn);
        Ok(RedbBackend {
            db: Db(Some(db)),
            legacy: AtomicBool::new(legacy),
            journal: None,
            sole: true,
            generation: Default::default(),
            kept: Mutex::default(),
            ids: Ids::default(),
        })
    }

    /// Compacts the file until redb finds nothing more to reclaim.
    #[cfg(feature = "testing")]
    pub(crate) fn compact(mut self) -> Result<()> {
        self.forget_snapshot();
        let db = self.db.0.as_mut().expect("open until dropped");
        while db.compact().map_err(engine("compacting the store"))? {}
        Ok(())
    }

    /// A read snapshot of the store. Beginning a redb read transaction and
    /// opening its table is a fifth of a lookup by key, so while no write
    /// happens, reads share one: a snapshot begun at an even generation
    /// that was still that generation once it had begun shows every commit
    /// up to it and none after, and is kept for the reads of that
    /// generation. Only where every write goes through this backend (not a
    /// shared file); a write forgets it as it begins, so no kept snapshot
    /// holds pages that later commits free.
    fn snapshot(&self) -> Result<Arc<Snapshot>> {
        if !self.sole {
            return Snapshot::begin(self.db()).map(Arc::new);
        }
        let before = self.generation.load(Ordering::SeqCst);
        let even = before.is_multiple_of(2);
        if even
            && let Ok(kept) = self.kept.lock()
            && let Some((g, snap)) = kept.as_ref()
            && *g == before
        {
            return Ok(snap.clone());
        }
        let snap = Arc::new(Snapshot::begin(self.db())?);
        // The generation is checked again under the lock a writer takes to
        // forget the kept snapshot.
        if even
            && let Ok(mut kept) = self.kept.lock()
            && self.generation.load(Ordering::SeqCst) == before
        {
            *kept = Some((before, snap.clone()));
        }
        Ok(snap)
    }

    /// Drops the kept snapshot.
    fn forget_snapshot(&self) {
        if let Ok(mut kept) = self.kept.lock() {
            *kept = None;
        }
    }

    /// Marks a write under way ([`Backend::generation`]) and forgets the
    /// kept snapshot, in that order ([`RedbBackend::snapshot`]).
    fn begin_writing(&self) -> super::backend::Writing<'_> {
        let writing = super::backend::Writing::begin(&self.generation);
        self.forget_snapshot();
        writing
    }

    /// Whether the file still holds the typed tables of a format before 4.
    pub(crate) fn is_legacy(&self) -> bool {
        self.legacy.load(Ordering::SeqCst)
    }

    /// The redb database.
    pub(crate) fn db(&self) -> &Database {
        self.db.0.as_ref().expect("open until dropped")
    }
}

impl Backend for RedbBackend {
    fn read(&self, f: &mut dyn FnMut(&dyn Reader) -> Result<()>) -> Result<()> {
        let snap = self.snapshot()?;
        f(&ReadTxn {
            snap: &snap,
            ids: &self.ids,
        })
    }

    fn write(&self, f: &mut dyn FnMut(&dyn Writer) -> Result<()>) -> Result<()> {
        let mut txn = self
            .db()
            .begin_write()
            .map_err(engine("writing the store"))?;
        let _writing = self.begin_writing();
        let legacy = self.legacy.load(Ordering::SeqCst);
        let mut gathered = Vec::new();
        if legacy {
            legacy::retype(&txn)?;
            gathered = legacy::gather(&txn, &self.ids)?;
        }
        // Taken after the write transaction began: writers reach the
        // journal in the order they commit.
        let mut journal =
            match &self.journal {
                Some(j) => Some(j.lock().map_err(|_| {
                    Error::new(ErrorCode::Internal, "a write to the journal panicked")
                })?),
                None => None,
            };
        let (new_ids, changes) = {
            // Every table handle opened by `f` is dropped before the commit.
            let w = WriteTxn::new(
                &txn,
                &self.ids,
                match journal.is_some() {
                    true => Changes::recording(),
                    false => Changes::off(),
                },
            );
            f(&w)?;
            w.finish()
        };
        match (journal.as_deref_mut(), changes) {
            (Some(_), Some(payload)) if payload.is_empty() => {
                // Nothing changed: nothing to make durable.
                txn.set_durability(redb::Durability::None)
                    .map_err(engine("committing a write"))?;
                txn.commit().map_err(engine("committing a write"))?;
            }
            (Some(j), Some(payload)) if j.takes(payload.len()) => {
                txn.set_durability(redb::Durability::None)
                    .map_err(engine("committing a write"))?;
                // Durable once the record is: the commit that follows only
                // makes it visible. A record that failed to be written may
                // still reach the disk whole (its sync failed, not its
                // write): it is erased as a failed commit's is.
                if let Err(e) = j.append(&payload) {
                    j.abandon();
                    return Err(e);
                }
                match txn.commit() {
                    Ok(()) => j.committed(payload.len()),
                    Err(e) => {
                        j.abandon();
                        return Err(engine("committing a write")(e));
                    }
                }
            }
            (Some(j), _) => {
                // Too large for the journal, or the journal is full: a
                // checkpoint.
                let epoch = journal::new_epoch()?;
                set_epoch(&txn, epoch)?;
                txn.commit().map_err(engine("committing a write"))?;
                j.restart(epoch);
            }
            (None, _) => txn.commit().map_err(engine("committing a write"))?,
        }
        keep_ids(&self.ids, gathered);
        keep_ids(&self.ids, new_ids);
        if legacy {
            self.legacy.store(false, Ordering::SeqCst);
        }
        Ok(())
    }

    fn engine(&self) -> &'static str {
        "redb"
    }

    fn generation(&self) -> Option<u64> {
        self.sole.then(|| self.generation.load(Ordering::SeqCst))
    }
}

/// The one redb table every logical table lives in: a row of table `t` is
/// stored under `[id of t] ++ key`. One table to open per transaction (a
/// lookup that reads an index and a record opens one, not two), one tree
/// whose branch pages every commit shares.
pub(crate) const DATA: &str = "roster";
/// The id byte under which the catalog maps table names to their ids.
const CATALOG: u8 = 0;

/// The catalog key of table `name`.
fn catalog_key(name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + name.len());
    k.push(CATALOG);
    k.extend_from_slice(name.as_bytes());
    k
}

/// The id a new store gives [`APPENDED`]: the last, so that its keys are
/// the last of the data table. redb fills a leaf before starting the next
/// only for an insert past the table's last key (elsewhere it splits the
/// leaf in halves, and a table that grows at its end keeps every left half
/// half full), and the change feed, which only grows at its end, is the
/// largest table of a store.
const LAST_ID: u8 = u8::MAX;
/// The table that gets [`LAST_ID`].
const APPENDED: &str = "changes";

/// `key` of the table with id `id`.
fn prefixed(id: u8, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + key.len());
    k.push(id);
    k.extend_from_slice(key);
    k
}

/// `key` of the table with id `id` for one point read or write: on the
/// stack when it is short, as nearly every key is (no allocation).
enum PointKey {
    Short([u8; 64], usize),
    Long(Vec<u8>),
}

impl PointKey {
    fn new(id: u8, key: &[u8]) -> PointKey {
        let mut buf = [0u8; 64];
        match buf.get_mut(1..=key.len()) {
            Some(room) => {
                room.copy_from_slice(key);
                buf[0] = id;
                PointKey::Short(buf, 1 + key.len())
            }
            None => PointKey::Long(prefixed(id, key)),
        }
    }

    fn as_slice(&self) -> &[u8] {
        match self {
            PointKey::Short(buf, len) => &buf[..*len],
            PointKey::Long(k) => k,
        }
    }
}

/// The bounds of a range of the table with id `id`.
fn prefixed_bounds(
    id: u8,
    lower: Bound<&[u8]>,
    upper: Bound<&[u8]>,
) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let lower = match lower {
        Bound::Included(k) => Bound::Included(prefixed(id, k)),
        Bound::Excluded(k) => Bound::Excluded(prefixed(id, k)),
        Bound::Unbounded => Bound::Included(vec![id]),
    };
    let upper = match upper {
        Bound::Included(k) => Bound::Included(prefixed(id, k)),
        Bound::Excluded(k) => Bound::Excluded(prefixed(id, k)),
        Bound::Unbounded if id < u8::MAX => Bound::Excluded(vec![id + 1]),
        Bound::Unbounded => Bound::Unbounded,
    };
    (lower, upper)
}

/// The ids of the tables, as committed (an id once given never changes).
type Ids = std::sync::RwLock<
    std::collections::HashMap<String, u8, std::hash::BuildHasherDefault<NameHasher>>,
>;

/// FNV-1a over a table's name, looked up on every read and write: at most
/// 255 names, so a keyed hash (std's SipHash, a fifth of a point read's own
/// time) would buy no protection.
pub(crate) struct NameHasher(u64);

impl Default for NameHasher {
    fn default() -> NameHasher {
        NameHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The committed id of table `name`, if this backend has seen it.
fn cached_id(ids: &Ids, name: &str) -> Option<u8> {
    ids.read().ok().and_then(|ids| ids.get(name).copied())
}

/// The id in a catalog value.
fn catalog_id(value: &[u8]) -> Result<u8> {
    match value {
        [id] if *id != CATALOG => Ok(*id),
        _ => Err(super::keys::malformed("catalog")),
    }
}

/// A redb read transaction and its data table, opened once.
#[derive(Debug)]
struct Snapshot {
    txn: redb::ReadTransaction,
    /// `None` in a store never written.
    data: Option<ReadTable>,
}

impl Snapshot {
    fn begin(db: &Database) -> Result<Snapshot> {
        let txn = db.begin_read().map_err(engine("reading the store"))?;
        let data = match txn.open_table(bytes_table(DATA)) {
            Ok(t) => Some(t),
            Err(TableError::TableDoesNotExist(_)) => None,
            Err(e) => return Err(engine("opening the store's table")(e)),
        };
        Ok(Snapshot { txn, data })
    }
}

/// A read of one snapshot.
struct ReadTxn<'b> {
    snap: &'b Snapshot,
    ids: &'b Ids,
}

type ReadTable = redb::ReadOnlyTable<&'static [u8], &'static [u8]>;
type WriteTable<'t> = redb::Table<'t, &'static [u8], &'static [u8]>;

impl ReadTxn<'_> {
    /// The data table and the id of table `name`, `None` when that table
    /// was never written.
    fn table(&self, name: &str) -> Result<Option<(&ReadTable, u8)>> {
        let Some(data) = self.snap.data.as_ref() else {
            return Ok(None);
        };
        if let Some(id) = cached_id(self.ids, name) {
            return Ok(Some((data, id)));
        }
        let Some(value) = get_in(data, &catalog_key(name))? else {
            return Ok(None);
        };
        let id = catalog_id(&value)?;
        if let Ok(mut ids) = self.ids.write() {
            ids.insert(name.to_string(), id);
        }
        Ok(Some((data, id)))
    }
}

/// A write transaction and the data table, opened once. redb lends the
/// table to a scan (shared) or a write (exclusive), so a write while a scan
/// of any table runs is refused, as the backend contract says.
struct WriteTxn<'t> {
    txn: &'t redb::WriteTransaction,
    data: RefCell<Option<Rc<RefCell<WriteTable<'t>>>>>,
    ids: &'t Ids,
    /// Tables first written by this transaction, with their new ids.
    new_ids: RefCell<Vec<(String, u8)>>,
    /// The changes made, for the journal.
    changes: RefCell<Changes>,
}

impl<'t> WriteTxn<'t> {
    fn new(txn: &'t redb::WriteTransaction, ids: &'t Ids, changes: Changes) -> WriteTxn<'t> {
        WriteTxn {
            txn,
            data: RefCell::default(),
            ids,
            new_ids: RefCell::default(),
            changes: RefCell::new(changes),
        }
    }

    /// Ends the transaction's use of the tables: the ids it gave, to keep
    /// once it commits, and its changes.
    fn finish(self) -> (Vec<(String, u8)>, Option<Vec<u8>>) {
        (
            self.new_ids.into_inner(),
            self.changes.into_inner().into_payload(),
        )
    }
}

/// Keeps the ids a committed transaction gave.
fn keep_ids(ids: &Ids, new: Vec<(String, u8)>) {
    if let Ok(mut ids) = ids.write() {
        ids.extend(new);
    }
}

/// Keeps `epoch` as the store's checkpoint epoch in `txn`.
/// The epoch `txn` sees, if the store ever kept a journal.
fn epoch_in(txn: &redb::WriteTransaction) -> Result<Option<u64>> {
    let table = txn
        .open_table(bytes_table(journal::TABLE))
        .map_err(engine("opening a table"))?;
    match get_in(&table, journal::EPOCH_KEY)? {
        Some(value) => Ok(Some(
            u64::take(&value).ok_or_else(|| super::keys::malformed(journal::TABLE))?,
        )),
        None => Ok(None),
    }
}

fn set_epoch(txn: &redb::WriteTransaction, epoch: u64) -> Result<()> {
    txn.open_table(bytes_table(journal::TABLE))
        .map_err(engine("opening a table"))?
        .insert(journal::EPOCH_KEY, epoch.bytes().as_slice())
        .map_err(engine("writing a record"))?;
    Ok(())
}

/// The error of a journal record that passed its checksum but does not
/// decode: the file was written by something else.
fn damaged_journal() -> Error {
    Error::new(
        ErrorCode::Corrupt,
        "the store's journal file is damaged; move it aside to open the store \
         without its last commits",
    )
}

/// The error of a use of the table the journal keeps its epoch in.
fn reserved_table() -> Error {
    Error::new(
        ErrorCode::Internal,
        format!("the {} table is the storage engine's own", journal::TABLE),
    )
}

/// The error of a write to a table while a scan of it runs.
fn busy_table(name: &str) -> Error {
    Error::new(
        ErrorCode::Internal,
        format!("the {name} table was written while it was being scanned"),
    )
}

/// A row of a bytes table.
type Row<'a> = (
    redb::AccessGuard<'a, &'static [u8]>,
    redb::AccessGuard<'a, &'static [u8]>,
);

/// Runs `visit` over a range of `table`.
fn scan_table<T: ReadableTable<&'static [u8], &'static [u8]>>(
    table: &T,
    lower: Bound<&[u8]>,
    upper: Bound<&[u8]>,
    reverse: bool,
    visit: &mut RowVisitor<'_>,
) -> Result<()> {
    if let (Bound::Included(lo) | Bound::Excluded(lo), Bound::Included(hi) | Bound::Excluded(hi)) =
        (lower, upper)
        && (lo > hi
            || (lo == hi && !matches!((lower, upper), (Bound::Included(_), Bound::Included(_)))))
    {
        // redb panics on an inverted range: an empty one reads nothing.
        return Ok(());
    }
    let range = table
        .range::<&[u8]>((lower, upper))
        .map_err(engine("reading a range"))?;
    // The key of the row before, kept to check the order: a damaged tree
    // whose branches repeat or skip pages hands out keys out of order (and
    // may repeat a page exponentially often), never a sound one.
    let mut before = None;
    let mut step = |row| step_in_order(row, &mut before, reverse, visit);
    if reverse {
        for row in range.rev() {
            if !step(row)? {
                break;
            }
        }
    } else {
        for row in range {
            if !step(row)? {
                break;
            }
        }
    }
    Ok(())
}

/// Calls `visit` on `row` of a scan, after the row `before` (updated),
/// refusing a key that is not past the one before in the scan's direction.
fn step_in_order<'r>(
    row: std::result::Result<Row<'r>, redb::StorageError>,
    before: &mut Option<redb::AccessGuard<'r, &'static [u8]>>,
    reverse: bool,
    visit: &mut RowVisitor<'_>,
) -> Result<bool> {
    let (k, v) = row.map_err(engine("reading a range"))?;
    if let Some(b) = before.as_ref() {
        let in_order = match reverse {
            true => b.value() > k.value(),
            false => b.value() < k.value(),
        };
        if !in_order {
            return Err(out_of_order());
        }
    }
    let more = visit(k.value(), v.value())?;
    *before = Some(k);
    Ok(more)
}

/// The error of a B-tree that hands out keys out of order.
fn out_of_order() -> Error {
    Error::new(
        ErrorCode::Corrupt,
        "the store is damaged: its B-tree hands out keys out of order (damaged \
         branch pages); run `roster check`, then `roster recover`",
    )
}

/// Walks every row of the data table `t` once ([`Reader::verify_rows`]):
/// keys strictly ascending, and as many rows as redb's stored length of the
/// table says (which it keeps in the table's root, apart from the pages a
/// walk reads). Stops at the first row past that length, so a damaged tree
/// that repeats pages costs no more than a sound one.
fn verify_table<T: ReadableTable<&'static [u8], &'static [u8]>>(t: &T) -> Result<()> {
    let stored = t.len().map_err(engine("reading the store"))?;
    let mut seen = 0u64;
    let mut before: Option<redb::AccessGuard<'_, &'static [u8]>> = None;
    for row in t.iter().map_err(engine("reading the store"))? {
        let (k, _) = row.map_err(engine("reading the store"))?;
        if before.as_ref().is_some_and(|b| b.value() >= k.value()) {
            return Err(out_of_order());
        }
        seen += 1;
        if seen > stored {
            break;
        }
        before = Some(k);
    }
    match seen == stored {
        true => Ok(()),
        false => Err(rows_disagree(stored, seen)),
    }
}

/// The error of a table whose walk found `seen` rows (one more: more than
/// it says) where its stored length says `stored`.
fn rows_disagree(stored: u64, seen: u64) -> Error {
    let found = match seen > stored {
        true => format!("more than {stored}"),
        false => seen.to_string(),
    };
    Error::new(
        ErrorCode::Corrupt,
        format!(
            "the store is damaged: its table says it holds {stored} rows, but a walk \
             of its pages finds {found} (damaged branch pages hide or repeat rows); \
             run `roster recover`"
        ),
    )
}

/// What [`walk_whole`] calls with each row: its key's and value's bytes.
pub(crate) type RowsVisitor<'a> = dyn FnMut(&[u8], &[u8]) -> Result<()> + 'a;

/// Visits every row of a table once, as `rows` hands them out (each key as
/// its order-preserving bytes, [`Col`]), checking what [`verify_table`]
/// checks of a whole read: keys strictly ascending, and as many rows as
/// the table's stored length `stored` says. It stops at the first row out
/// of order or past that length: a damaged branch that repeats pages would
/// hand out rows exponentially often. For the tables no scan reads (an
/// older format's, before they are migrated).
pub(crate) fn walk_whole(
    stored: u64,
    rows: impl Iterator<Item = Result<(Vec<u8>, Vec<u8>)>>,
    visit: &mut RowsVisitor<'_>,
) -> Result<()> {
    let mut seen = 0u64;
    let mut before: Option<Vec<u8>> = None;
    for row in rows {
        let (k, v) = row?;
        if before.as_ref().is_some_and(|b| *b >= k) {
            return Err(out_of_order());
        }
        seen += 1;
        if seen > stored {
            break;
        }
        visit(&k, &v)?;
        before = Some(k);
    }
    match seen == stored {
        true => Ok(()),
        false => Err(rows_disagree(stored, seen)),
    }
}

/// Calls `visit` with the value under `key` in table `t`, lent; whether
/// there was one.
fn get_with_in<T: ReadableTable<&'static [u8], &'static [u8]>>(
    t: &T,
    key: &[u8],
    visit: &mut ValueVisitor<'_>,
) -> Result<bool> {
    match t.get(key).map_err(engine("reading a record"))? {
        Some(v) => visit(v.value()).map(|()| true),
        None => Ok(false),
    }
}

/// How far apart (as big-endian numbers) two keys of one length may be for
/// [`get_many_in`] to read the rows between them rather than walk the tree
/// again: ids a few apart share a leaf page.
const NEAR: u128 = 8;

/// Rows [`get_many_in`] steps over between two wanted keys before it gives
/// up the walk and seeks the next key from the root (keys of other lengths
/// may sort between two near ones).
const SKIP_LIMIT: usize = 4 * NEAR as usize;

/// Whether `b` (sorting after `a`) is near `a`: both of one length that
/// fits a `u128`, at most [`NEAR`] apart as big-endian numbers.
fn near(a: &[u8], b: &[u8]) -> bool {
    let number = |k: &[u8]| k.iter().fold(0u128, |n, &byte| n << 8 | u128::from(byte));
    a.len() == b.len() && a.len() <= 16 && number(b) - number(a) <= NEAR
}

/// The values under `keys` of the table with id `id` in data table `t`, in
/// the order of `keys`, copied out.
fn get_many_in<T: ReadableTable<&'static [u8], &'static [u8]>>(
    t: &T,
    id: u8,
    keys: &[&[u8]],
) -> Result<Vec<Option<Vec<u8>>>> {
    let mut out = vec![None; keys.len()];
    get_many_with_in(t, id, keys, &mut |i, v| {
        out[i] = Some(v.to_vec());
        Ok(())
    })?;
    Ok(out)
}

/// Calls `visit` with the index in `keys` and the value, lent, of each key
/// of the table with id `id` in data table `t` that has one. A point read
/// walks the tree from its root (a microsecond or two with every page
/// cached), where stepping to the next row costs tens of nanoseconds; so
/// keys near each other (ids a few apart: a manager's managed users, a
/// page of a list) are read in one forward walk over the rows between
/// them, and every other key by a point read.
fn get_many_with_in<T: ReadableTable<&'static [u8], &'static [u8]>>(
    t: &T,
    id: u8,
    keys: &[&[u8]],
    visit: &mut ManyVisitor<'_>,
) -> Result<()> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_unstable_by_key(|&i| keys[i]);
    let mut next = 0;
    while next < order.len() {
        let first = keys[order[next]];
        // The last key of the run of near keys that starts at `first`.
        let mut end = next;
        while end + 1 < order.len() && near(keys[order[end]], keys[order[end + 1]]) {
            end += 1;
        }
        if end == next {
            get_with_in(t, PointKey::new(id, first).as_slice(), &mut |v| {
                visit(order[next], v)
            })?;
            next += 1;
            continue;
        }
        let (lo, hi) = (
            PointKey::new(id, first),
            PointKey::new(id, keys[order[end]]),
        );
        let mut skipped = 0;
        let mut stopped = false;
        scan_table(
            t,
            Bound::Included(lo.as_slice()),
            Bound::Included(hi.as_slice()),
            false,
            &mut |k, v| {
                let k = &k[1..];
                // Wanted keys sorting before this row have no row.
                while next <= end && keys[order[next]] < k {
                    next += 1;
                }
                if next <= end && keys[order[next]] == k {
                    while next <= end && keys[order[next]] == k {
                        visit(order[next], v)?;
                        next += 1;
                    }
                    skipped = 0;
                } else {
                    skipped += 1;
                    if skipped > SKIP_LIMIT {
                        stopped = true;
                        return Ok(false);
                    }
                }
                Ok(next <= end)
            },
        )?;
        if !stopped {
            // The walk covered the run: what it did not meet has no row.
            next = end + 1;
        }
    }
    Ok(())
}

/// The value under `key` in table `t`, copied out.
fn get_in<T: ReadableTable<&'static [u8], &'static [u8]>>(
    t: &T,
    key: &[u8],
) -> Result<Option<Vec<u8>>> {
    Ok(t.get(key)
        .map_err(engine("reading a record"))?
        .map(|v| v.value().to_vec()))
}

impl Reader for ReadTxn<'_> {
    fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.table(table)? {
            Some((t, id)) => get_in(t, PointKey::new(id, key).as_slice()),
            None => Ok(None),
        }
    }

    fn get_with(&self, table: &str, key: &[u8], visit: &mut ValueVisitor<'_>) -> Result<bool> {
        match self.table(table)? {
            Some((t, id)) => get_with_in(t, PointKey::new(id, key).as_slice(), visit),
            None => Ok(false),
        }
    }

    fn get_many(&self, table: &str, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
        match self.table(table)? {
            Some((t, id)) => get_many_in(t, id, keys),
            None => Ok(vec![None; keys.len()]),
        }
    }

    fn get_many_with(
        &self,
        table: &str,
        keys: &[&[u8]],
        visit: &mut ManyVisitor<'_>,
    ) -> Result<()> {
        match self.table(table)? {
            Some((t, id)) => get_many_with_in(t, id, keys, visit),
            None => Ok(()),
        }
    }

    fn scan(
        &self,
        table: &str,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        reverse: bool,
        visit: &mut RowVisitor<'_>,
    ) -> Result<()> {
        let Some((t, id)) = self.table(table)? else {
            return Ok(());
        };
        let (lo, hi) = prefixed_bounds(id, lower, upper);
        scan_table(t, as_slices(&lo), as_slices(&hi), reverse, &mut |k, v| {
            visit(&k[1..], v)
        })
    }

    fn table_names(&self) -> Result<Vec<String>> {
        let mut names = match self.snap.data.as_ref() {
            Some(t) => catalog_names(t)?,
            None => Vec::new(),
        };
        names.extend(other_tables(self.snap.txn.list_tables())?);
        Ok(names)
    }

    fn stores_rows(&self) -> Result<bool> {
        if let Some(t) = self.snap.data.as_ref()
            && t.len().map_err(engine("reading the store"))? > 0
        {
            return Ok(true);
        }
        Ok(!other_tables(self.snap.txn.list_tables())?.is_empty())
    }

    fn verify_rows(&self) -> Result<()> {
        match self.snap.data.as_ref() {
            Some(t) => verify_table(t),
            None => Ok(()),
        }
    }
}

impl<'t> WriteTxn<'t> {
    /// The data table.
    fn data(&self) -> Result<Rc<RefCell<WriteTable<'t>>>> {
        if let Some(t) = self.data.borrow().as_ref() {
            return Ok(t.clone());
        }
        let t = Rc::new(RefCell::new(
            self.txn
                .open_table(bytes_table(DATA))
                .map_err(engine("opening the store's table"))?,
        ));
        *self.data.borrow_mut() = Some(t.clone());
        Ok(t)
    }

    /// The id of table `name`, given now (in this transaction) when it has
    /// none and `give`; `None` when it has none and not `give`.
    fn id(&self, name: &str, give: bool) -> Result<Option<u8>> {
        if let Some(id) = cached_id(self.ids, name) {
            return Ok(Some(id));
        }
        if let Some((_, id)) = self.new_ids.borrow().iter().find(|(n, _)| n == name) {
            return Ok(Some(*id));
        }
        if name == journal::TABLE {
            return Err(reserved_table());
        }
        let data = self.data()?;
        let data = data.try_borrow().map_err(|_| busy_table(name))?;
        if let Some(value) = get_in(&*data, &catalog_key(name))? {
            return Ok(Some(catalog_id(&value)?));
        }
        if !give {
            return Ok(None);
        }
        let (mut last, mut top_taken) = (CATALOG, false);
        each_catalog_row(&*data, &mut |_, id| {
            match id {
                LAST_ID => top_taken = true,
                id => last = last.max(id),
            }
            Ok(())
        })?;
        drop(data);
        // Never an id the catalog already gives (a file written elsewhere
        // may give the last one to another table).
        let id = match name == APPENDED && !top_taken {
            true => LAST_ID,
            false => last
                .checked_add(1)
                .filter(|id| *id != LAST_ID)
                .ok_or_else(|| Error::new(ErrorCode::Internal, "the store has too many tables"))?,
        };
        self.data()?
            .try_borrow_mut()
            .map_err(|_| busy_table(name))?
            .insert(catalog_key(name).as_slice(), [id].as_slice())
            .map_err(engine("writing a record"))?;
        self.new_ids.borrow_mut().push((name.to_string(), id));
        Ok(Some(id))
    }
}

impl Reader for WriteTxn<'_> {
    fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let Some(id) = self.id(table, false)? else {
            return Ok(None);
        };
        let t = self.data()?;
        let t = t.try_borrow().map_err(|_| busy_table(table))?;
        get_in(&*t, PointKey::new(id, key).as_slice())
    }

    fn get_with(&self, table: &str, key: &[u8], visit: &mut ValueVisitor<'_>) -> Result<bool> {
        let Some(id) = self.id(table, false)? else {
            return Ok(false);
        };
        let t = self.data()?;
        let t = t.try_borrow().map_err(|_| busy_table(table))?;
        get_with_in(&*t, PointKey::new(id, key).as_slice(), visit)
    }

    fn get_many(&self, table: &str, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
        let Some(id) = self.id(table, false)? else {
            return Ok(vec![None; keys.len()]);
        };
        let t = self.data()?;
        let t = t.try_borrow().map_err(|_| busy_table(table))?;
        get_many_in(&*t, id, keys)
    }

    fn get_many_with(
        &self,
        table: &str,
        keys: &[&[u8]],
        visit: &mut ManyVisitor<'_>,
    ) -> Result<()> {
        let Some(id) = self.id(table, false)? else {
            return Ok(());
        };
        let t = self.data()?;
        let t = t.try_borrow().map_err(|_| busy_table(table))?;
        get_many_with_in(&*t, id, keys, visit)
    }

    fn scan(
        &self,
        table: &str,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        reverse: bool,
        visit: &mut RowVisitor<'_>,
    ) -> Result<()> {
        let Some(id) = self.id(table, false)? else {
            return Ok(());
        };
        let t = self.data()?;
        let t = t.try_borrow().map_err(|_| busy_table(table))?;
        let (lo, hi) = prefixed_bounds(id, lower, upper);
        scan_table(&*t, as_slices(&lo), as_slices(&hi), reverse, &mut |k, v| {
            visit(&k[1..], v)
        })
    }

    fn table_names(&self) -> Result<Vec<String>> {
        let t = self.data()?;
        let t = t.try_borrow().map_err(|_| busy_table("catalog"))?;
        let mut names = catalog_names(&*t)?;
        names.extend(other_tables(self.txn.list_tables())?);
        Ok(names)
    }

    fn stores_rows(&self) -> Result<bool> {
        let t = self.data()?;
        let t = t.try_borrow().map_err(|_| busy_table("data"))?;
        if t.len().map_err(engine("reading the store"))? > 0 {
            return Ok(true);
        }
        Ok(!other_tables(self.txn.list_tables())?.is_empty())
    }

    fn verify_rows(&self) -> Result<()> {
        let t = self.data()?;
        let t = t.try_borrow().map_err(|_| busy_table("data"))?;
        verify_table(&*t)
    }
}

impl Writer for WriteTxn<'_> {
    fn put(&self, table: &str, key: &[u8], value: &[u8]) -> Result<()> {
        let id = self.id(table, true)?.ok_or_else(reserved_table)?;
        let t = self.data()?;
        let mut t = t.try_borrow_mut().map_err(|_| busy_table(table))?;
        t.insert(PointKey::new(id, key).as_slice(), value)
            .map_err(engine("writing a record"))?;
        self.changes
            .borrow_mut()
            .add(Change::Put(table, key, value));
        Ok(())
    }

    fn delete(&self, table: &str, key: &[u8]) -> Result<bool> {
        let Some(id) = self.id(table, false)? else {
            return Ok(false);
        };
        let t = self.data()?;
        let mut t = t.try_borrow_mut().map_err(|_| busy_table(table))?;
        let removed = t
            .remove(PointKey::new(id, key).as_slice())
            .map_err(engine("removing a record"))?
            .is_some();
        if removed {
            self.changes.borrow_mut().add(Change::Delete(table, key));
        }
        Ok(removed)
    }

    fn delete_many(&self, table: &str, keys: &[&[u8]]) -> Result<u64> {
        if keys.len() < DELETE_RUN {
            return super::backend::delete_each(self, table, keys);
        }
        let Some(id) = self.id(table, false)? else {
            return Ok(0);
        };
        let mut doomed: Vec<Vec<u8>> = keys.iter().map(|k| prefixed(id, k)).collect();
        doomed.sort_unstable();
        doomed.dedup();
        let t = self.data()?;
        let mut t = t.try_borrow_mut().map_err(|_| busy_table(table))?;
        // The removed keys are kept only while the journal still records
        // this transaction's changes.
        let recording = self.changes.borrow().is_recording();
        let mut count = 0u64;
        let mut removed: Vec<Vec<u8>> = Vec::new();
        // Each run judged first (reads only); then consecutive dense runs
        // removed in one pass over their rows, each page rewritten once,
        // and the keys of sparse runs found one by one from the root.
        // Two dense runs share a pass only when the rows between them are
        // few too.
        let mut spans: Vec<(std::ops::Range<usize>, bool)> = Vec::new();
        for (i, run) in doomed.chunks(DELETE_RUN).enumerate() {
            let at = i * DELETE_RUN..i * DELETE_RUN + run.len();
            let close = dense(&t, run)?;
            let joined = match spans.last_mut() {
                Some((span, true)) if close => {
                    let near = within(&t, &doomed[span.end - 1], &run[0], DENSE_GAP)?;
                    if near {
                        span.end = at.end;
                    }
                    near
                }
                Some((span, false)) if !close => {
                    span.end = at.end;
                    true
                }
                _ => false,
            };
            if !joined {
                spans.push((at, close));
            }
        }
        let mut gone = |k: &[u8]| {
            count += 1;
            if recording {
                removed.push(k.to_vec());
            }
        };
        for (span, close) in spans {
            let part = &doomed[span];
            if close {
                let mut next = 0;
                let (first, last) = (part[0].as_slice(), part[part.len() - 1].as_slice());
                t.retain_in::<&[u8], _>(first..=last, |k, _| {
                    // Rows come in key order, as the keys do: one
                    // comparison a row once the keys have caught up.
                    while let Some(d) = part.get(next) {
                        match d.as_slice().cmp(k) {
                            std::cmp::Ordering::Less => next += 1,
                            std::cmp::Ordering::Equal => {
                                next += 1;
                                gone(k);
                                return false;
                            }
                            std::cmp::Ordering::Greater => return true,
                        }
                    }
                    true
                })
                .map_err(engine("removing records"))?;
            } else {
                for k in part {
                    if t.remove(k.as_slice())
                        .map_err(engine("removing a record"))?
                        .is_some()
                    {
                        gone(k);
                    }
                }
            }
        }
        let mut changes = self.changes.borrow_mut();
        for k in &removed {
            changes.add(Change::Delete(table, &k[1..]));
        }
        Ok(count)
    }
}

/// How many keys [`Writer::delete_many`] removes by one rule: fewer are
/// removed one by one; more, in runs of this many sorted keys.
const DELETE_RUN: usize = 128;
/// A run of keys to remove is dense when its sampled keys are at most
/// this many rows apart on average.
const DENSE_GAP: usize = 16;
/// How many neighbouring keys of a run each sample spans.
const SAMPLE: usize = 8;

/// Whether the sorted keys of `run` lie close together in `t`: a pass
/// over the rows from the first to the last then costs less than finding
/// each from the root. Judged on two samples of [`SAMPLE`] neighbouring
/// keys (at the run's start and middle), each counted to [`DENSE_GAP`]
/// rows a key at most: a run costs a few row reads a key to judge, and
/// keys far apart (a daily purge's few memberships, spread over every
/// user's) are not passed over. A wide gap the samples miss is passed over
/// once, in its run's pass (as every removal of many keys once was).
fn dense(t: &WriteTable<'_>, run: &[Vec<u8>]) -> Result<bool> {
    if run.len() <= SAMPLE {
        return Ok(false);
    }
    for start in [0, (run.len() - 1 - SAMPLE) / 2] {
        if !within(t, &run[start], &run[start + SAMPLE], SAMPLE * DENSE_GAP)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether `t` holds at most `rows` rows from `from` to `to` (inclusive),
/// counting no further than that.
fn within(t: &WriteTable<'_>, from: &[u8], to: &[u8], rows: usize) -> Result<bool> {
    let range = t
        .range::<&[u8]>(from..=to)
        .map_err(engine("reading records"))?;
    let mut seen = 0;
    for row in range {
        row.map_err(engine("reading records"))?;
        seen += 1;
        if seen > rows {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Calls `f` with each catalog row of data table `t`: the name's bytes and
/// the table id the row gives.
fn each_catalog_row<T: ReadableTable<&'static [u8], &'static [u8]>>(
    t: &T,
    f: &mut dyn FnMut(&[u8], u8) -> Result<()>,
) -> Result<()> {
    scan_table(
        t,
        Bound::Included(&[CATALOG][..]),
        Bound::Excluded(&[CATALOG + 1][..]),
        false,
        &mut |k, v| {
            f(&k[1..], catalog_id(v)?)?;
            Ok(true)
        },
    )
}

/// Refuses, as `corrupt_store`, a catalog that gives one table id to two
/// tables (their rows would be one key range) or holds a malformed id: no
/// write of roster's makes either, so the file was damaged or made
/// elsewhere.
///
/// It also refuses rows under a table id the catalog does not give: a
/// damaged tree that hides the catalog (or part of it) would otherwise show
/// a store of records as new or empty, and the first write would be made
/// over the damage. One lookup per table id present, not a read of the rows.
fn check_catalog<T: ReadableTable<&'static [u8], &'static [u8]>>(t: &T) -> Result<()> {
    let mut given = [false; 256];
    given[usize::from(CATALOG)] = true;
    each_catalog_row(
        t,
        &mut |_, id| match std::mem::replace(&mut given[usize::from(id)], true) {
            true => Err(Error::new(
                ErrorCode::Corrupt,
                format!("the store is damaged: its catalog gives table id {id} to two tables"),
            )),
            false => Ok(()),
        },
    )?;
    // The first row at or after each id: its id must be one the catalog
    // gives, and at least the one sought.
    let mut from: u16 = u16::from(CATALOG) + 1;
    while let Ok(seek) = u8::try_from(from) {
        let lower = [seek];
        let mut range = t
            .range::<&[u8]>(&lower[..]..)
            .map_err(engine("reading the store"))?;
        let Some(row) = range.next() else {
            break;
        };
        let (k, _) = row.map_err(engine("reading the store"))?;
        let id = match k.value().first() {
            Some(id) if *id >= seek => *id,
            _ => return Err(out_of_order()),
        };
        if !given[usize::from(id)] {
            return Err(Error::new(
                ErrorCode::Corrupt,
                format!(
                    "the store is damaged: it holds rows under table id {id}, which its \
                     catalog does not name (damaged pages hide its records); run \
                     `roster check`, then `roster recover`"
                ),
            ));
        }
        from = u16::from(id) + 1;
    }
    Ok(())
}

/// The names in the catalog of a data table.
fn catalog_names<T: ReadableTable<&'static [u8], &'static [u8]>>(t: &T) -> Result<Vec<String>> {
    let mut names = Vec::new();
    each_catalog_row(t, &mut |name, _| {
        let name = std::str::from_utf8(name).map_err(|_| super::keys::malformed("catalog"))?;
        names.push(name.to_string());
        Ok(())
    })?;
    Ok(names)
}

/// The first bytes of every redb file (and so of every roster store file).
const REDB_MAGIC: [u8; 9] = [b'r', b'e', b'd', b'b', 0x1A, 0x0A, 0xA9, 0x0D, 0x0A];

/// Refuses, as `corrupt_store`, a file at `path` that has bytes but does not
/// begin as a redb file does: random bytes, a text file, a SQLite database.
/// Nothing is written to it. A missing or empty file is no such error: the
/// store is created in it (an empty file is what `mktemp` leaves). Reading
/// the first bytes needs no lock; a file that cannot be read is left to
/// redb, whose error says why.
pub(crate) fn not_a_store(path: &Path) -> Result<()> {
    use std::io::Read;
    let Ok(mut file) = std::fs::File::open(path) else {
        return Ok(());
    };
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Ok(());
    }
    let mut head = [0u8; HEAD];
    let mut len = 0;
    while len < head.len() {
        match file.read(&mut head[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return Ok(()),
        }
    }
    refuse_unlike(&path.display().to_string(), &head[..len])
}

/// [`not_a_store`] for a host's bytes (OPFS in a browser).
fn host_not_a_store(file: &impl HostFile) -> Result<()> {
    let Ok(len) = file.len() else {
        return Ok(());
    };
    let mut head = [0u8; HEAD];
    let n = usize::try_from(len).unwrap_or(HEAD).min(HEAD);
    if file.read_at(0, &mut head[..n]).is_err() {
        return Ok(());
    }
    refuse_unlike("the host's file", &head[..n])
}

/// How many first bytes tell a store from other files.
const HEAD: usize = 16;

/// `corrupt_store` naming `what`, unless `head` (a file's first bytes) is
/// empty or begins as a redb file does.
fn refuse_unlike(what: &str, head: &[u8]) -> Result<()> {
    if head.is_empty() || head.starts_with(&REDB_MAGIC) {
        return Ok(());
    }
    let text = std::str::from_utf8(head).map_or_else(|e| e.error_len().is_none(), |_| true);
    let looks = if head.starts_with(b"SQLite format 3\0") {
        "it is a SQLite database"
    } else if head.len() < REDB_MAGIC.len() && REDB_MAGIC.starts_with(head) {
        "it is cut short before the end of its header"
    } else if text {
        "it looks like text"
    } else {
        "it does not begin as a roster store does (if it was one, its header \
         is damaged: `roster recover` carves records out of such a file)"
    };
    Err(Error::new(
        ErrorCode::Corrupt,
        format!("{what} is not a roster store: {looks} (nothing was written to it)"),
    ))
}

/// The redb tables of a file other than roster's own: none in a roster
/// store (a file of another program has them).
fn other_tables<H: TableHandle>(
    tables: std::result::Result<impl Iterator<Item = H>, redb::StorageError>,
) -> Result<Vec<String>> {
    Ok(tables
        .map_err(engine("listing tables"))?
        .map(|t| t.name().to_string())
        .filter(|name| name != journal::TABLE && name != DATA)
        .collect())
}

/// How a shared store file is opened: redb's `MultiWriter` mode (every
/// process may read and write, one write transaction at a time across
/// them, each sees the others' commits), so that `roster unlock`, `api` or
/// `export` work beside a running `roster serve` as `sqlite3` does beside an
/// app. It needs byte-range file locks, which redb has on Linux, the Apple
/// platforms and Windows; elsewhere the file is opened for this process
/// alone. The price: two syncs per durable commit, and lock calls on every
/// transaction.
fn multi_process() -> redb::Builder {
    let mut builder = Database::builder();
    if cfg!(any(target_os = "linux", target_vendor = "apple", windows)) {
        builder.set_concurrency_mode(redb::ConcurrencyMode::MultiWriter);
    }
    builder
}

/// A host's bytes as redb's storage.
#[derive(Debug)]
struct HostBytes<F>(F);

impl<F: HostFile> redb::StorageBackend for HostBytes<F> {
    fn len(&self) -> std::io::Result<u64> {
        self.0.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> std::io::Result<()> {
        self.0.read_at(offset, out)
    }
    fn set_len(&self, len: u64) -> std::io::Result<()> {
        self.0.set_len(len)
    }
    fn sync_data(&self) -> std::io::Result<()> {
        self.0.sync()
    }
    fn write(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        self.0.write_at(offset, data)
    }
}

/// The typed tables of formats 1-3 and their re-encoding as bytes.
pub(crate) mod legacy {
    use super::*;

    /// Re-encodes `name`, a typed table of `K -> V`, as a bytes table of
    /// the same name and contents.
    fn one<K, V>(txn: &redb::WriteTransaction, name: &str) -> Result<()>
    where
        K: Key + 'static,
        V: Value + 'static,
        for<'a> K::SelfType<'a>: Col,
        for<'a> V::SelfType<'a>: Col,
    {
        let def: TableDefinition<K, V> = TableDefinition::new(name);
        let mut rows: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        {
            let table = txn.open_table(def).map_err(engine("reading a table"))?;
            let stored = table.len().map_err(engine("reading a table"))?;
            let walk = table.iter().map_err(engine("reading a table"))?.map(|row| {
                let (k, v) = row.map_err(engine("reading a table"))?;
                Ok((k.value().bytes(), v.value().bytes()))
            });
            walk_whole(stored, walk, &mut |k, v| {
                rows.push((k.to_vec(), v.to_vec()));
                Ok(())
            })?;
        }
        txn.delete_table(def).map_err(engine("replacing a table"))?;
        let mut table = txn
            .open_table(bytes_table(name))
            .map_err(engine("replacing a table"))?;
        for (k, v) in rows {
            table
                .insert(k.as_slice(), v.as_slice())
                .map_err(engine("replacing a table"))?;
        }
        Ok(())
    }

    /// Every typed table of the store in `txn`, re-encoded as bytes. A table
    /// of a name roster never used is left alone (the schema check then
    /// refuses the file).
    pub(crate) fn retype(txn: &redb::WriteTransaction) -> Result<()> {
        let names: Vec<String> = txn
            .list_tables()
            .map_err(engine("listing tables"))?
            .map(|t| t.name().to_string())
            .collect();
        // Typed tables are formats 1-3's: a version row of such a file
        // that claims a later format is damage (or a crafted file), and
        // re-encoding under it would label old records current.
        if names.iter().any(|n| n == "meta") {
            let meta: TableDefinition<&str, u64> = TableDefinition::new("meta");
            if let Ok(table) = txn.open_table(meta) {
                let version = table
                    .get("schema_version")
                    .map_err(engine("reading a table"))?
                    .map(|v| v.value());
                if let Some(v) = version.filter(|v| *v > 3) {
                    return Err(Error::new(
                        ErrorCode::Corrupt,
                        format!(
                            "the store is damaged: its tables are of formats 1-3, but its \
                             version row says format {v}; nothing was written to it. Run \
                             `roster recover`"
                        ),
                    ));
                }
            }
        }
        for name in &names {
            match name.as_str() {
                "meta" | "counters" => one::<&str, u64>(txn, name)?,
                "users" | "batches" | "courses" | "custom_fields" | "groups" | "outbox" => {
                    one::<u64, &[u8]>(txn, name)?
                }
                "user_by_username"
                | "user_by_email"
                | "user_by_phone"
                | "batch_by_name"
                | "course_by_slug"
                | "custom_field_by_name"
                | "group_by_name" => one::<&str, u64>(txn, name)?,
                "uuids" => one::<u128, (u8, u64)>(txn, name)?,
                "course_batches" | "batch_courses" | "batch_members" | "field_users"
                | "group_users" | "user_outbox" => one::<(u64, u64), ()>(txn, name)?,
                "memberships" => one::<(u64, u64), &[u8]>(txn, name)?,
                "subscriptions" => one::<u64, (u64, u64)>(txn, name)?,
                "expiries" => one::<(i32, u64), ()>(txn, name)?,
                "sessions" => retype_sessions(txn)?,
                "user_sessions" => one::<(u64, [u8; 32]), ()>(txn, name)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// Moves every bytes table of its own into the data table (after
    /// [`retype`]): the ids it gave. A table of another type (a file of
    /// another program) is left where it is, for the schema check to refuse.
    pub(crate) fn gather(txn: &redb::WriteTransaction, ids: &Ids) -> Result<Vec<(String, u8)>> {
        let names = other_tables(txn.list_tables())?;
        let w = WriteTxn::new(txn, ids, Changes::off());
        for name in names {
            {
                let source = match txn.open_table(bytes_table(&name)) {
                    Ok(t) => t,
                    Err(TableError::TableTypeMismatch { .. }) => continue,
                    Err(e) => return Err(engine("reading a table")(e)),
                };
                let stored = source.len().map_err(engine("reading a table"))?;
                let walk = source
                    .iter()
                    .map_err(engine("reading a table"))?
                    .map(|row| {
                        let (k, v) = row.map_err(engine("reading a table"))?;
                        Ok((k.value().to_vec(), v.value().to_vec()))
                    });
                walk_whole(stored, walk, &mut |k, v| w.put(&name, k, v))?;
            }
            txn.delete_table(bytes_table(&name))
                .map_err(engine("replacing a table"))?;
        }
        Ok(w.finish().0)
    }

    /// Sessions changed type within format 2 (see `migrate_sessions`): a
    /// table whose rows are not today's type is dropped (format 3 ended
    /// every format-2 session anyway).
    fn retype_sessions(txn: &redb::WriteTransaction) -> Result<()> {
        type Row = (u64, u64, i64, i64);
        let def: TableDefinition<[u8; 32], Row> = TableDefinition::new("sessions");
        match txn.open_table(def) {
            Ok(t) => {
                drop(t);
                one::<[u8; 32], Row>(txn, "sessions")
            }
            Err(TableError::TableTypeMismatch { .. }) => {
                let names: Vec<_> = txn
                    .list_tables()
                    .map_err(engine("listing tables"))?
                    .filter(|t| t.name() == "sessions")
                    .collect();
                for handle in names {
                    txn.delete_table(handle)
                        .map_err(engine("replacing a table"))?;
                }
                Ok(())
            }
            Err(e) => Err(engine("reading a table")(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::backend::Backend;

    /// A whole walk of an older format's table (what its migration and
    /// `recover` read) stops where a damaged tree shows: a key not past the
    /// one before (a repeated page, which could repeat without end), more
    /// rows than the table's stored length, or fewer. A sound table's rows
    /// are each visited once.
    #[test]
    fn a_whole_walk_stops_where_the_tree_is_damaged() {
        let row = |k: u8| Ok((vec![k], vec![k, k]));
        let walk = |stored: u64, rows: &mut dyn Iterator<Item = Result<(Vec<u8>, Vec<u8>)>>| {
            let mut seen = Vec::new();
            let result = walk_whole(stored, rows, &mut |k, v| {
                assert_eq!(v, [k[0], k[0]]);
                seen.push(k[0]);
                Ok(())
            });
            (result.map_err(|e| e.message().to_string()), seen)
        };
        assert_eq!(
            walk(3, &mut [1, 2, 5].map(row).into_iter()),
            (Ok(()), vec![1, 2, 5])
        );
        // A page handed out again, without end.
        let (err, seen) = walk(2, &mut [1, 2].into_iter().cycle().map(row));
        assert!(err.unwrap_err().contains("out of order"));
        assert_eq!(seen, [1, 2]);
        // A key handed out twice in a row.
        let (err, _) = walk(3, &mut [1, 1, 2].map(row).into_iter());
        assert!(err.unwrap_err().contains("out of order"));
        // Keys in order, but more of them than the table holds: the walk
        // ends one row past the stored length.
        let (err, seen) = walk(3, &mut (0..=u8::MAX).map(row));
        assert!(
            err.unwrap_err()
                .contains("holds 3 rows, but a walk of its pages finds more than 3")
        );
        assert_eq!(seen, [0, 1, 2]);
        // Rows hidden.
        let (err, _) = walk(4, &mut [1, 2].map(row).into_iter());
        assert!(
            err.unwrap_err()
                .contains("holds 4 rows, but a walk of its pages finds 2")
        );
        // A row the engine cannot read.
        let failed = Err(Error::new(ErrorCode::Storage, "unreadable"));
        let (err, _) = walk(2, &mut [row(1), failed].into_iter());
        assert_eq!(err.unwrap_err(), "unreadable");
    }

    /// The table id of every row of the data table but the catalog's, in
    /// the table's order.
    fn row_ids(db: &Database) -> Vec<u8> {
        let txn = db.begin_read().unwrap();
        let t = txn.open_table(bytes_table(DATA)).unwrap();
        let mut ids = Vec::new();
        for row in t.iter().unwrap() {
            let id = row.unwrap().0.value()[0];
            if id != CATALOG {
                ids.push(id);
            }
        }
        ids
    }

    /// Writes catalog rows giving each name its id, as a file made
    /// elsewhere (or by an older roster) would hold them.
    fn catalog(db: &Database, rows: &[(&str, u8)]) {
        let txn = db.begin_write().unwrap();
        {
            let mut t = txn.open_table(bytes_table(DATA)).unwrap();
            for (name, id) in rows {
                t.insert(catalog_key(name).as_slice(), [*id].as_slice())
                    .unwrap();
            }
        }
        txn.commit().unwrap();
    }

    /// What `t` holds at `k`, read through the backend.
    fn value_of(b: &RedbBackend, t: &str, k: &[u8]) -> Option<Vec<u8>> {
        let mut out = None;
        b.read(&mut |r| {
            out = r.get(t, k)?;
            Ok(())
        })
        .unwrap();
        out
    }

    /// The rows of table `t` in the store file at `path` as a crash now
    /// leaves it: a copy of the file, and beside it a copy of its journal
    /// when `with_journal`, opened.
    fn after_a_crash(path: &Path, with_journal: bool) -> Vec<(Vec<u8>, Vec<u8>)> {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("copy.redb");
        std::fs::copy(path, &copy).unwrap();
        if with_journal {
            std::fs::copy(journal::path_of(path), journal::path_of(&copy)).unwrap();
        }
        rows_of_t(&RedbBackend::open(&copy, false).unwrap())
    }

    /// The rows of table `t` of `b`.
    fn rows_of_t(b: &RedbBackend) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut rows = Vec::new();
        b.read(&mut |r| {
            rows = r.rows("t")?;
            Ok(())
        })
        .unwrap();
        rows
    }

    /// A file with formats 1-3's typed tables whose version row claims a
    /// later format is refused before anything is re-encoded: the write
    /// fails and the file keeps its tables and its row.
    #[test]
    fn typed_tables_under_a_later_version_are_refused_unwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let meta: TableDefinition<&str, u64> = TableDefinition::new("meta");
        let users: TableDefinition<u64, &[u8]> = TableDefinition::new("users");
        {
            let db = Database::create(&path).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(meta)
                .unwrap()
                .insert("schema_version", 13)
                .unwrap();
            txn.open_table(users)
                .unwrap()
                .insert(1, b"an unframed record".as_slice())
                .unwrap();
            txn.commit().unwrap();
        }
        let b = RedbBackend::open(&path, false).unwrap();
        assert!(b.is_legacy());
        let e = b.write(&mut |_| Ok(())).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Corrupt, "{e:?}");
        assert!(e.message().contains("format 13"), "{}", e.message());
        drop(b);
        let db = Database::open(&path).unwrap();
        let txn = db.begin_read().unwrap();
        let version = txn.open_table(meta).unwrap().get("schema_version").unwrap();
        assert_eq!(version.map(|v| v.value()), Some(13));
        assert!(txn.open_table(users).unwrap().get(1).unwrap().is_some());
    }

    /// A store of format 4's first layout (bytes tables of their own)    /// A store of format 4's first layout (bytes tables of their own)
    /// that stopped with commits in its journal: they are applied to its
    /// tables at the next opening, before the migration moves them, and
    /// never again after it (not over the writes that followed).
    #[test]
    fn a_first_layout_store_applies_its_journal_once_before_migrating() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let epoch = 77;
        {
            let db = Database::create(&path).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(bytes_table("t"))
                .unwrap()
                .insert(b"one".as_slice(), b"1".as_slice())
                .unwrap();
            set_epoch(&txn, epoch).unwrap();
            txn.commit().unwrap();
        }
        let mut j = Journal::open(&journal::path_of(&path), epoch).unwrap();
        let mut changes = Changes::recording();
        changes.add(Change::Put("t", b"two", b"2"));
        changes.add(Change::Delete("t", b"one"));
        let payload = changes.into_payload().unwrap();
        j.append(&payload).unwrap();
        j.committed(payload.len());
        drop(j);
        let b = RedbBackend::open(&path, false).unwrap();
        assert!(b.is_legacy());
        // The migration's write: the tables move, and this write follows.
        b.write(&mut |w| w.put("t", b"two", b"22")).unwrap();
        assert!(!b.is_legacy());
        assert_eq!(rows_of_t(&b), [(b"two".to_vec(), b"22".to_vec())]);
        drop(b);
        let b = RedbBackend::open(&path, false).unwrap();
        assert_eq!(rows_of_t(&b), [(b"two".to_vec(), b"22".to_vec())]);
    }

    /// Opening a store file (for this process alone) whose journal holds
    /// nothing of its epoch commits nothing to it: the epoch an earlier
    /// opening left is still the store's after an opening that only read
    /// (so is everything else: nothing is written), as after one that the
    /// format check then refuses. The first write starts a new epoch.
    #[test]
    fn an_opening_that_only_reads_commits_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let b = RedbBackend::open(&path, false).unwrap();
        b.write(&mut |w| w.put("t", b"k", b"v")).unwrap();
        drop(b);
        let epoch = |b: &RedbBackend| b.epoch().unwrap();
        let b = RedbBackend::open(&path, false).unwrap();
        let left = epoch(&b);
        assert!(left.is_some());
        let rows = rows_of_t(&b);
        assert_eq!(rows.len(), 1);
        drop(b);
        let b = RedbBackend::open(&path, false).unwrap();
        assert_eq!(epoch(&b), left, "an opening that read committed nothing");
        b.write(&mut |w| w.put("t", b"k2", b"v")).unwrap();
        assert_ne!(epoch(&b), left);
        b.write(&mut |w| w.put("t", b"k3", b"v")).unwrap();
        assert_eq!(after_a_crash(&path, true).len(), 3);
    }

    /// A journal damaged in the middle (a record that does not read,
    /// followed by ones that do) is refused at opening, not cut short in
    /// silence: the commits after the damage were acknowledged. `replay`
    /// for `check` and `recover` applies the commits before it and says
    /// that the rest are lost.
    #[test]
    fn a_journal_damaged_in_the_middle_is_refused_and_salvaged_on_request() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let b = RedbBackend::open(&path, false).unwrap();
        for key in [b"a", b"b", b"c"] {
            b.write(&mut |w| w.put("t", key, b"v")).unwrap();
        }
        let copy = dir.path().join("copy.redb");
        std::fs::copy(&path, &copy).unwrap();
        let mut journal = std::fs::read(journal::path_of(&path)).unwrap();
        drop(b);
        // The first write went to the store; "b" and "c" are the journal's
        // two records. A byte of the first one's payload is flipped.
        journal[journal::HEADER + 2] ^= 0x40;
        std::fs::write(journal::path_of(&copy), &journal).unwrap();
        let Err(e) = RedbBackend::open(&copy, false) else {
            panic!("a journal damaged in the middle must be refused");
        };
        assert_eq!(e.code(), ErrorCode::Corrupt);
        assert!(e.message().contains("damaged"), "{}", e.message());
        let db = Database::open(&copy).unwrap();
        let c = RedbBackend::on(db).unwrap();
        assert_eq!(c.replay(&copy, true).unwrap(), (0, true));
        assert!(c.replay(&copy, false).is_err());
    }

    /// A write whose journal record was written but failed to sync
    /// returns an error, and no later opening applies it: not after a
    /// crash (the record was erased), nor after the store is closed.
    #[test]
    fn a_write_whose_record_failed_to_sync_is_never_applied() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let b = RedbBackend::open(&path, false).unwrap();
        b.write(&mut |w| w.put("t", b"kept", b"v")).unwrap();
        let fail = |b: &RedbBackend, erase_too: bool| {
            let mut j = b.journal.as_ref().unwrap().lock().unwrap();
            j.fail_next_sync = true;
            j.fail_next_erase = erase_too;
        };
        fail(&b, false);
        assert!(b.write(&mut |w| w.put("t", b"failed", b"v")).is_err());
        let keys = |rows: Vec<(Vec<u8>, Vec<u8>)>| -> Vec<Vec<u8>> {
            rows.into_iter().map(|(k, _)| k).collect()
        };
        assert_eq!(keys(after_a_crash(&path, true)), [b"kept".to_vec()]);
        // The next write checkpoints, and is kept.
        b.write(&mut |w| w.put("t", b"later", b"v")).unwrap();
        assert_eq!(
            keys(after_a_crash(&path, true)),
            [b"kept".to_vec(), b"later".to_vec()]
        );
        // A failure just before closing, whose erasure failed too: the
        // close checkpoints, so the record names an epoch the store no
        // longer has.
        fail(&b, true);
        assert!(b.write(&mut |w| w.put("t", b"failed", b"v")).is_err());
        drop(b);
        let b = RedbBackend::open(&path, false).unwrap();
        let rows = rows_of_t(&b);
        assert_eq!(keys(rows), [b"kept".to_vec(), b"later".to_vec()]);
    }

    /// A store opened through a link keeps its journal beside the file it
    /// names, so its commits are found when the file is next opened by its
    /// own name; a journal an earlier roster kept beside the link is still
    /// read.
    #[cfg(unix)]
    #[test]
    fn the_journal_of_a_store_opened_through_a_link_is_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let (real, link) = (dir.path().join("real.redb"), dir.path().join("live.redb"));
        let b = RedbBackend::open(&real, false).unwrap();
        drop(b);
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let b = RedbBackend::open(&link, false).unwrap();
        // The opening's first write goes to the store; the second lives
        // in the journal alone.
        b.write(&mut |w| w.put("t", b"k", b"v")).unwrap();
        b.write(&mut |w| w.put("t", b"k2", b"v")).unwrap();
        assert!(journal::path_of(&real).exists());
        assert_eq!(journal::path_of(&link), journal::path_of(&real));
        assert!(!dir.path().join("live.redb-journal").exists());
        let both = [
            (b"k".to_vec(), b"v".to_vec()),
            (b"k2".to_vec(), b"v".to_vec()),
        ];
        assert_eq!(after_a_crash(&real, false).len(), 1, "k2 is the journal's");
        assert_eq!(after_a_crash(&real, true), both);
        // As an earlier roster left it: the store crashed with its
        // journal beside the link.
        let old = tempfile::tempdir().unwrap();
        let (real2, link2) = (old.path().join("real.redb"), old.path().join("live.redb"));
        std::fs::copy(&real, &real2).unwrap();
        std::fs::copy(
            journal::path_of(&real),
            old.path().join("live.redb-journal"),
        )
        .unwrap();
        std::os::unix::fs::symlink(&real2, &link2).unwrap();
        let c = RedbBackend::open(&link2, false).unwrap();
        let rows = rows_of_t(&c);
        assert_eq!(rows, both);
    }

    /// Commits that fill the journal: each lives in the journal alone
    /// until one would not fit, which commits to the store and starts the
    /// journal over (a new epoch); every one is there after a crash,
    /// whichever of the two holds it.
    #[test]
    fn a_full_journal_starts_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let b = RedbBackend::open(&path, false).unwrap();
        let value = vec![7u8; 100_000];
        let mut in_the_store = 0;
        for n in 0..25u64 {
            b.write(&mut |w| w.put("t", &n.to_be_bytes(), &value))
                .unwrap();
            let durable = after_a_crash(&path, false).len();
            let whole = after_a_crash(&path, true);
            assert_eq!(whole.len() as u64, n + 1, "after write {n}");
            assert!(whole.iter().all(|(_, v)| *v == value));
            if durable == whole.len() {
                in_the_store += 1;
            }
        }
        // The first write of an opening goes to the store (it starts the
        // opening's epoch); ten records of 100 kB then fill the journal's
        // MiB: the twelfth write goes to the store, and so does the 23rd;
        // the others live in the journal until then.
        assert_eq!(in_the_store, 3);
    }

    /// A removal of many rows at once (dense runs taken in one pass,
    /// sparse ones key by key) committed to the journal only is in the
    /// journal whole: a copy of the store file as a crash leaves it,
    /// beside its journal, opens without those rows.
    #[test]
    fn many_rows_removed_at_once_are_journaled() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let b = RedbBackend::open(&path, false).unwrap();
        let key = |n: u64| n.to_be_bytes();
        // Rows 0-999; every one of 0-299 removed (dense), and every tenth
        // of 300-999 (sparse).
        b.write(&mut |w| (0..1000).try_for_each(|n| w.put("t", &key(n), b"v")))
            .unwrap();
        let doomed: Vec<[u8; 8]> = (0..300).chain((300..1000).step_by(10)).map(key).collect();
        assert!(doomed.len() > 2 * DELETE_RUN);
        let refs: Vec<&[u8]> = doomed.iter().map(|k| k.as_slice()).collect();
        let mut removed = 0;
        b.write(&mut |w| {
            removed = w.delete_many("t", &refs)?;
            Ok(())
        })
        .unwrap();
        assert_eq!(removed, 370);
        let left = after_a_crash(&path, true);
        let expected: Vec<u64> = (300..1000).filter(|n| n % 10 != 0).collect();
        let left: Vec<u64> = left
            .iter()
            .map(|(k, _)| u64::from_be_bytes(k.as_slice().try_into().unwrap()))
            .collect();
        assert_eq!(left, expected);
    }

    /// Two processes open a shared file after a crash; both read the
    /// journal's records for the same epoch, one applies them and writes
    /// on. The other's records, read for an epoch the store no longer has,
    /// are not applied over that later write.
    #[test]
    fn journal_records_read_for_an_old_epoch_are_not_applied_twice() {
        let b = RedbBackend::memory().unwrap();
        let first = b.checkpoint(&[], None).unwrap();
        let mut changes = journal::Changes::recording();
        changes.add(journal::Change::Put("users", b"k", b"from the journal"));
        let records = vec![changes.into_payload().unwrap()];
        // The first process applies them, then writes on.
        let second = b.checkpoint(&records, Some(first)).unwrap();
        assert_ne!(second, first);
        assert_eq!(
            value_of(&b, "users", b"k").as_deref(),
            Some(&b"from the journal"[..])
        );
        b.write(&mut |w| w.put("users", b"k", b"written after"))
            .unwrap();
        // The second process's copy of the same records, read at `first`.
        assert_eq!(b.checkpoint(&records, Some(first)).unwrap(), second);
        assert_eq!(
            value_of(&b, "users", b"k").as_deref(),
            Some(&b"written after"[..])
        );
    }

    #[test]
    fn the_change_feed_is_the_last_table_and_the_others_count_up() {
        let b = RedbBackend::memory().unwrap();
        b.write(&mut |w| {
            w.put("first", b"k", b"1")?;
            w.put(APPENDED, &7u64.to_be_bytes(), b"entry")?;
            w.put("second", b"k", b"2")
        })
        .unwrap();
        // A later transaction, a new table: still below the feed's id.
        b.write(&mut |w| w.put("third", b"k", b"3")).unwrap();
        assert_eq!(
            row_ids(b.db()),
            vec![1, 2, 3, LAST_ID],
            "first, second, third, then the feed"
        );
        b.read(&mut |r| {
            assert_eq!(
                r.get(APPENDED, &7u64.to_be_bytes())?,
                Some(b"entry".to_vec())
            );
            assert_eq!(r.get("third", b"k")?, Some(b"3".to_vec()));
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn the_feed_never_shares_the_last_id_with_another_table() {
        // A file whose catalog gives the last id to another table.
        let b = RedbBackend::memory().unwrap();
        catalog(b.db(), &[("sessions", LAST_ID)]);
        b.write(&mut |w| {
            w.put("sessions", b"s", b"session")?;
            w.put(APPENDED, &1u64.to_be_bytes(), b"entry")
        })
        .unwrap();
        assert_eq!(
            row_ids(b.db()),
            vec![1, LAST_ID],
            "the feed takes the next id"
        );
        b.read(&mut |r| {
            assert_eq!(r.get("sessions", b"s")?, Some(b"session".to_vec()));
            assert_eq!(
                r.get(APPENDED, &1u64.to_be_bytes())?,
                Some(b"entry".to_vec())
            );
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn a_catalog_giving_one_id_to_two_tables_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let db = Database::create(&path).unwrap();
        catalog(&db, &[("users", 3), ("batches", 3)]);
        let err = RedbBackend::on(db).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Corrupt, "{err:?}");
        assert!(err.message().contains("table id 3"), "{err:?}");
        // One id each, and the catalog's own id is no table's.
        for ids in [[3u8, 4], [0, 4]] {
            let path = dir.path().join(format!("store-{}.redb", ids[0]));
            let db = Database::create(&path).unwrap();
            catalog(&db, &[("users", ids[0]), ("batches", ids[1])]);
            assert_eq!(RedbBackend::on(db).is_ok(), ids[0] != 0, "{ids:?}");
        }
    }

    /// Writes `key` -> `value` straight into the data table, no catalog
    /// row: what damage that hides the catalog leaves readable.
    fn raw(db: &Database, key: &[u8], value: &[u8]) {
        let txn = db.begin_write().unwrap();
        txn.open_table(bytes_table(DATA))
            .unwrap()
            .insert(key, value)
            .unwrap();
        txn.commit().unwrap();
    }

    /// The rows of the data table, catalog included.
    fn all_rows(db: &Database) -> u64 {
        let txn = db.begin_read().unwrap();
        txn.open_table(bytes_table(DATA)).unwrap().len().unwrap()
    }

    #[test]
    fn rows_under_an_id_the_catalog_does_not_give_are_refused() {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .unwrap();
        catalog(&db, &[("users", 3)]);
        raw(&db, &[3, 1], b"a user");
        raw(&db, &[7, 1], b"a row of a table the catalog hides");
        let err = RedbBackend::on(db).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Corrupt, "{err:?}");
        assert!(err.message().contains("table id 7"), "{err:?}");
    }

    /// A store whose rows its damage hides from every read (no catalog, no
    /// version in sight) is `corrupt_store`, not a new store: opening it
    /// writes nothing.
    #[test]
    fn rows_without_a_version_are_a_damaged_store_not_a_new_one() {
        let b = Arc::new(RedbBackend::memory().unwrap());
        raw(b.db(), &[9, 1], b"a record whose catalog row is hidden");
        let err = crate::store::Store::on(b.clone()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Corrupt, "{err:?}");
        assert!(err.message().contains("no format version"), "{err:?}");
        assert_eq!(all_rows(b.db()), 1, "nothing written");
        // A new store is still made, and then opened without a write.
        let b = Arc::new(RedbBackend::memory().unwrap());
        crate::store::Store::on(b.clone()).unwrap();
        let before = b.generation();
        crate::store::Store::on(b.clone()).unwrap();
        assert_eq!(b.generation(), before, "no write transaction");
    }

    #[test]
    fn a_feed_given_an_id_before_keeps_it() {
        // A store of format 7 gave the feed the next id, like any table.
        let b = RedbBackend::memory().unwrap();
        catalog(b.db(), &[(APPENDED, 1)]);
        b.write(&mut |w| {
            w.put(APPENDED, &1u64.to_be_bytes(), b"entry")?;
            w.put("other", b"k", b"v")
        })
        .unwrap();
        assert_eq!(row_ids(b.db()), vec![1, 2]);
    }
}
