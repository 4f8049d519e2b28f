//! The redb backend: every table is one redb table of `&[u8] -> &[u8]`
//! (one instantiation of redb's B-tree code for all of them), on a file, in
//! memory, or on a host's bytes ([`HostFile`]).
//!
//! Stores written before format 4 hold typed redb tables (`u64 -> &[u8]`,
//! `&str -> u64`, …). Opening one marks it legacy; the first write
//! transaction (the schema preparation of [`super::Store::prepared`])
//! re-encodes every legacy table as bytes before anything else, so the
//! re-encoding and the migrations that follow commit together or not at
//! all.

use super::backend::{Backend, HostFile, Reader, RowVisitor, Writer};
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
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

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
}

impl Drop for RedbBackend {
    /// Closing checkpoints the commits that live only in the journal, so a
    /// closed store is whole without it.
    fn drop(&mut self) {
        let dirty = self
            .journal
            .as_ref()
            .and_then(|j| j.lock().ok().map(|j| j.is_dirty()))
            .unwrap_or(false);
        if dirty {
            let _ = catch_unwind(AssertUnwindSafe(|| self.checkpoint(&[])));
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
        let db = builder.create(path).map_err(|e| match e {
            redb::DatabaseError::Storage(redb::StorageError::Corrupted(what)) => Error::new(
                ErrorCode::Corrupt,
                format!("{} is not a readable roster store: {what}", path.display()),
            ),
            other => engine("opening the store file")(other),
        })?;
        let mut backend = RedbBackend::on(db)?;
        if backend.is_legacy() {
            // Format 4 and its journal come with the migration; the next
            // opening keeps one.
            return Ok(backend);
        }
        let journal_path = journal::path_of(path);
        if shared {
            backend.replay(&journal_path)?;
            return Ok(backend);
        }
        // A new epoch at every opening: the records of the last one were
        // applied, and none written from now on can be mistaken for them.
        let records = match backend.epoch()? {
            Some(epoch) => journal::records(&journal_path, epoch)?,
            None => Vec::new(),
        };
        let epoch = backend.checkpoint(&records)?;
        backend.journal = match Journal::open(&journal_path, epoch) {
            Ok(j) => Some(Mutex::new(j)),
            // Where no journal can be kept (a read-only folder), every
            // commit goes to the store.
            Err(_) => None,
        };
        Ok(backend)
    }

    /// Applies the commits the journal at `journal_path` holds for this
    /// store (a copy of a store file, beside the original's journal, as
    /// `roster check` and `recover` read it): how many.
    pub(crate) fn replay(&self, journal_path: &Path) -> Result<usize> {
        let Some(epoch) = self.epoch()? else {
            return Ok(0);
        };
        let records = journal::records(journal_path, epoch)?;
        if !records.is_empty() {
            self.checkpoint(&records)?;
        }
        Ok(records.len())
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

    /// Applies `records` (journal payloads) and commits durably in a new
    /// epoch, which it returns.
    fn checkpoint(&self, records: &[Vec<u8>]) -> Result<u64> {
        let epoch = journal::new_epoch()?;
        let txn = self
            .db()
            .begin_write()
            .map_err(engine("writing the store"))?;
        {
            let w = WriteTxn::new(&txn, Changes::off());
            for payload in records {
                journal::each_change(payload, |change| match change {
                    Change::Put(t, k, v) => w.put(t, k, v),
                    Change::Delete(t, k) => w.delete(t, k).map(|_| ()),
                })?
                .ok_or_else(damaged_journal)?;
            }
        }
        set_epoch(&txn, epoch)?;
        txn.commit().map_err(engine("committing a write"))?;
        Ok(epoch)
    }

    /// A store on the host's bytes.
    pub(crate) fn host(file: impl HostFile) -> Result<RedbBackend> {
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
        let txn = db.begin_read().map_err(engine("reading the store"))?;
        let legacy = match txn.open_table(bytes_table("meta")) {
            Err(TableError::TableTypeMismatch { .. }) => true,
            Ok(_) | Err(TableError::TableDoesNotExist(_)) => false,
            Err(e) => return Err(engine("reading the store")(e)),
        };
        drop(txn);
        Ok(RedbBackend {
            db: Db(Some(db)),
            legacy: AtomicBool::new(legacy),
            journal: None,
        })
    }

    /// Compacts the file until redb finds nothing more to reclaim.
    #[cfg(feature = "testing")]
    pub(crate) fn compact(mut self) -> Result<()> {
        let db = self.db.0.as_mut().expect("open until dropped");
        while db.compact().map_err(engine("compacting the store"))? {}
        Ok(())
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
        let txn = self
            .db()
            .begin_read()
            .map_err(engine("reading the store"))?;
        f(&ReadTxn {
            txn,
            open: RefCell::default(),
        })
    }

    fn write(&self, f: &mut dyn FnMut(&dyn Writer) -> Result<()>) -> Result<()> {
        let mut txn = self
            .db()
            .begin_write()
            .map_err(engine("writing the store"))?;
        let legacy = self.legacy.load(Ordering::SeqCst);
        if legacy {
            legacy::retype(&txn)?;
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
        let changes = {
            // Every table handle opened by `f` is dropped before the commit.
            let w = WriteTxn::new(
                &txn,
                match journal.is_some() {
                    true => Changes::recording(),
                    false => Changes::off(),
                },
            );
            f(&w)?;
            w.changes.into_inner().into_payload()
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
                // makes it visible.
                j.append(&payload)?;
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
        if legacy {
            self.legacy.store(false, Ordering::SeqCst);
        }
        Ok(())
    }

    fn engine(&self) -> &'static str {
        "redb"
    }
}

/// A read transaction and the tables it has opened (opening a table is a
/// lookup of its own: each is opened once per transaction).
struct ReadTxn {
    txn: redb::ReadTransaction,
    open: RefCell<Vec<(String, Rc<ReadTable>)>>,
}

type ReadTable = redb::ReadOnlyTable<&'static [u8], &'static [u8]>;
type WriteTable<'t> = redb::Table<'t, &'static [u8], &'static [u8]>;

impl ReadTxn {
    /// Table `name`, `None` when it was never written.
    fn table(&self, name: &str) -> Result<Option<Rc<ReadTable>>> {
        if let Some((_, t)) = self.open.borrow().iter().find(|(n, _)| n == name) {
            return Ok(Some(t.clone()));
        }
        match self.txn.open_table(bytes_table(name)) {
            Ok(t) => {
                let t = Rc::new(t);
                self.open.borrow_mut().push((name.to_string(), t.clone()));
                Ok(Some(t))
            }
            Err(TableError::TableDoesNotExist(_)) => Ok(None),
            Err(e) => Err(engine("opening a table")(e)),
        }
    }
}

/// A write transaction and the tables it has opened. redb lends one handle
/// per table: a handle is borrowed shared to read (a scan, and the reads
/// its callback makes) and exclusively to write, so a write to a table
/// being scanned is refused, as the backend contract says.
struct WriteTxn<'t> {
    txn: &'t redb::WriteTransaction,
    open: RefCell<Vec<(String, Rc<RefCell<WriteTable<'t>>>)>>,
    /// The changes made, for the journal.
    changes: RefCell<Changes>,
}

impl<'t> WriteTxn<'t> {
    fn new(txn: &'t redb::WriteTransaction, changes: Changes) -> WriteTxn<'t> {
        WriteTxn {
            txn,
            open: RefCell::default(),
            changes: RefCell::new(changes),
        }
    }
}

/// Keeps `epoch` as the store's checkpoint epoch in `txn`.
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
    let mut step = |row: std::result::Result<Row<'_>, redb::StorageError>| -> Result<bool> {
        let (k, v) = row.map_err(engine("reading a range"))?;
        visit(k.value(), v.value())
    };
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

/// The value under `key` in table `t`, copied out.
fn get_in<T: ReadableTable<&'static [u8], &'static [u8]>>(
    t: &T,
    key: &[u8],
) -> Result<Option<Vec<u8>>> {
    Ok(t.get(key)
        .map_err(engine("reading a record"))?
        .map(|v| v.value().to_vec()))
}

/// The names of the tables a transaction lists.
fn names_of<H: TableHandle>(
    tables: std::result::Result<impl Iterator<Item = H>, redb::StorageError>,
) -> Result<Vec<String>> {
    Ok(tables
        .map_err(engine("listing tables"))?
        .map(|t| t.name().to_string())
        .filter(|name| name != journal::TABLE)
        .collect())
}

impl Reader for ReadTxn {
    fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.table(table)? {
            Some(t) => get_in(&*t, key),
            None => Ok(None),
        }
    }

    fn get_many(&self, table: &str, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
        match self.table(table)? {
            Some(t) => keys.iter().map(|k| get_in(&*t, k)).collect(),
            None => Ok(vec![None; keys.len()]),
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
        match self.table(table)? {
            Some(t) => scan_table(&*t, lower, upper, reverse, visit),
            None => Ok(()),
        }
    }

    fn len(&self, table: &str) -> Result<u64> {
        match self.table(table)? {
            Some(t) => t.len().map_err(engine("counting rows")),
            None => Ok(0),
        }
    }

    fn table_names(&self) -> Result<Vec<String>> {
        names_of(self.txn.list_tables())
    }
}

impl<'t> WriteTxn<'t> {
    fn table(&self, name: &str) -> Result<Rc<RefCell<WriteTable<'t>>>> {
        if let Some((_, t)) = self.open.borrow().iter().find(|(n, _)| n == name) {
            return Ok(t.clone());
        }
        if name == journal::TABLE {
            return Err(reserved_table());
        }
        let t = Rc::new(RefCell::new(
            self.txn
                .open_table(bytes_table(name))
                .map_err(engine("opening a table"))?,
        ));
        self.open.borrow_mut().push((name.to_string(), t.clone()));
        Ok(t)
    }
}

impl Reader for WriteTxn<'_> {
    fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let t = self.table(table)?;
        let t = t.try_borrow().map_err(|_| busy_table(table))?;
        get_in(&*t, key)
    }

    fn get_many(&self, table: &str, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
        let t = self.table(table)?;
        let t = t.try_borrow().map_err(|_| busy_table(table))?;
        keys.iter().map(|k| get_in(&*t, k)).collect()
    }

    fn scan(
        &self,
        table: &str,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        reverse: bool,
        visit: &mut RowVisitor<'_>,
    ) -> Result<()> {
        let t = self.table(table)?;
        let t = t.try_borrow().map_err(|_| busy_table(table))?;
        scan_table(&*t, lower, upper, reverse, visit)
    }

    fn len(&self, table: &str) -> Result<u64> {
        let t = self.table(table)?;
        let t = t.try_borrow().map_err(|_| busy_table(table))?;
        t.len().map_err(engine("counting rows"))
    }

    fn table_names(&self) -> Result<Vec<String>> {
        names_of(self.txn.list_tables())
    }
}

impl Writer for WriteTxn<'_> {
    fn put(&self, table: &str, key: &[u8], value: &[u8]) -> Result<()> {
        let t = self.table(table)?;
        let mut t = t.try_borrow_mut().map_err(|_| busy_table(table))?;
        t.insert(key, value).map_err(engine("writing a record"))?;
        self.changes
            .borrow_mut()
            .add(Change::Put(table, key, value));
        Ok(())
    }

    fn delete(&self, table: &str, key: &[u8]) -> Result<bool> {
        let t = self.table(table)?;
        let mut t = t.try_borrow_mut().map_err(|_| busy_table(table))?;
        let removed = t
            .remove(key)
            .map_err(engine("removing a record"))?
            .is_some();
        if removed {
            self.changes.borrow_mut().add(Change::Delete(table, key));
        }
        Ok(removed)
    }
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
        let rows: Vec<(Vec<u8>, Vec<u8>)> = {
            let table = txn.open_table(def).map_err(engine("reading a table"))?;
            let mut rows = Vec::new();
            for row in table.iter().map_err(engine("reading a table"))? {
                let (k, v) = row.map_err(engine("reading a table"))?;
                rows.push((k.value().bytes(), v.value().bytes()));
            }
            rows
        };
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
