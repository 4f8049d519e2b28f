//! Checking and salvaging a store file: the logic of `roster check` and
//! `roster recover`, usable by any host.
//!
//! Neither function ever writes the file it is given: both work on a
//! temporary copy, because redb's repair (and even a plain open after a
//! crash) writes in place.
//!
//! [`check`] reports what is wrong: whether the storage engine can open the
//! file, its own page checksums ([`redb::Database::check_integrity`]), and
//! roster's invariants (every record frame verified, every index entry
//! against its record, relations, id counters).
//!
//! [`recover`] copies every record that can be read into a new store,
//! through the normal write functions (so every index is rebuilt), and
//! reports per entity how many were saved and lost. Records are read through
//! the storage engine where it can; where it cannot (the file does not open,
//! or a table cannot be read to its end), record frames are carved out of
//! the file's raw bytes: every frame names its kind and key and carries a
//! checksum, so a frame found anywhere is either sound or refused.

use super::Backend;
use super::engine_redb::{RedbBackend, bytes_table, walk_whole};
use super::frame::{self, FrameKey};
use super::keys::Col;
use super::tables::*;
use super::{Store, ids, integrity, read, schema, write};
use crate::domain::course::Course;
use crate::domain::custom_field::{self, CustomField};
use crate::domain::group::Group;
use crate::domain::outbox::Message;
use crate::domain::sunbird::{Organisation, SunbirdUser};
use crate::domain::user::User;
use crate::domain::{Batch, Subscription};
use crate::error::{Error, ErrorCode, Result};
use crate::text::fold;
use redb::{
    Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition, TableError,
};
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::ops::Bound;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// What [`check`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Everything wrong, in words; empty when the store is sound.
    pub problems: Vec<String>,
    /// Observations that are not damage (e.g. the file was not closed
    /// cleanly and redb will repair it on the next open).
    pub notes: Vec<String>,
}

impl CheckReport {
    /// Whether the store is sound.
    pub fn is_sound(&self) -> bool {
        self.problems.is_empty()
    }
}

/// How many records of one entity [`recover`] saved and lost.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntityRecovery {
    /// The entity: `users`, `batches`, `courses`, `custom_fields`, `groups`,
    /// `memberships` or `outbox`.
    pub entity: String,
    /// Records copied into the new store.
    pub saved: u64,
    /// Records known to exist that could not be saved (damaged, or in
    /// conflict with a saved record); `None` when the source's table could
    /// not be counted (the file did not open).
    pub lost: Option<u64>,
    /// Of the saved records, how many were carved out of raw bytes.
    pub carved: u64,
}

/// What [`recover`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// One line per entity, in a fixed order.
    pub entities: Vec<EntityRecovery>,
    /// Whether the storage engine could open the copy at all.
    pub opened: bool,
    /// Whether raw carving was used (some table could not be read whole).
    pub carved: bool,
    /// Observations in words (what could not be read, what was dropped).
    pub notes: Vec<String>,
    /// Bytes the carving checksummed (0 when it did not run): at most a
    /// few times the file's size, however the file was made.
    pub checksummed: u64,
    /// Whether carving stopped before the end of the file, having spent
    /// its bound on frame markers that did not check out.
    pub carving_stopped: bool,
}

impl RecoveryReport {
    /// Records saved in all.
    pub fn saved(&self) -> u64 {
        self.entities.iter().map(|e| e.saved).sum()
    }
}

/// A temporary copy of a file, removed when dropped.
struct TempCopy {
    path: PathBuf,
}

impl TempCopy {
    fn of(source: &Path) -> Result<TempCopy> {
        let mut from = std::fs::File::open(source).map_err(|e| io_error(source, &e))?;
        let name: [u8; 8] = crate::random::bytes().map_err(Error::from)?;
        let hex: String = name.iter().map(|b| format!("{b:02x}")).collect();
        let path = std::env::temp_dir().join(format!("roster-copy-{hex}.redb"));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut to = options.open(&path).map_err(|e| io_error(&path, &e))?;
        let copy = TempCopy { path };
        std::io::copy(&mut from, &mut to).map_err(|e| io_error(&copy.path, &e))?;
        to.sync_all().map_err(|e| io_error(&copy.path, &e))?;
        Ok(copy)
    }
}

impl Drop for TempCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn io_error(path: &Path, e: &std::io::Error) -> Error {
    Error::new(ErrorCode::Storage, format!("{}: {e}", path.display()))
}

/// Words for a panic payload.
fn panic_words(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into())
}

/// Opens `path` with redb (repairing it in place if it was not closed
/// cleanly), a panic contained: the database and whether it needed repair.
fn open_db(path: &Path) -> std::result::Result<(Database, bool), String> {
    let repaired = Arc::new(AtomicBool::new(false));
    let flag = repaired.clone();
    let opened = catch_unwind(AssertUnwindSafe(|| {
        Database::builder()
            .set_repair_callback(move |_| flag.store(true, Ordering::SeqCst))
            .create(path)
    }));
    match opened {
        Ok(Ok(db)) => Ok((db, repaired.load(Ordering::SeqCst))),
        Ok(Err(e)) => Err(e.to_string()),
        Err(p) => Err(format!("the storage engine panicked: {}", panic_words(&*p))),
    }
}

/// Applies to the copy `backend` of the store at `source` the commits its
/// journal holds (they were committed: a store opened for one process
/// keeps its latest commits there until it closes), saying so in `notes`.
/// Whether the journal is damaged after the commits applied (the later
/// ones are lost).
fn with_journal(backend: &RedbBackend, source: &Path, notes: &mut Vec<String>) -> Result<bool> {
    match backend.replay(source, true) {
        Ok((0, false)) => Ok(false),
        Ok((n, damaged)) => {
            if n > 0 {
                notes.push(format!(
                    "{n} commits were read from the journal beside the store (it was not closed)"
                ));
            }
            if damaged {
                notes.push(format!(
                    "the journal is damaged after those {n} commits: the commits after the \
                     damage could not be read and are lost"
                ));
            }
            Ok(damaged)
        }
        Err(e) => {
            notes.push(format!("the journal could not be applied: {}", e.message()));
            Err(e)
        }
    }
}

/// A redb failure that stopped a read of the copy, in words.
fn stopped(e: impl Into<redb::Error>) -> Error {
    Error::new(ErrorCode::Corrupt, e.into().to_string())
}

/// Every row of table `name` of a format-4 store (none when it was never
/// written).
fn rows_of(backend: &RedbBackend, name: &str) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut out = Vec::new();
    backend.read(&mut |r| {
        out = r.rows(name)?;
        Ok(())
    })?;
    Ok(out)
}

/// The format of the store and whether its tables are still typed
/// (formats 1-3), or `None` when it has no version.
fn version_of(backend: &RedbBackend) -> Result<Option<(u64, bool)>> {
    let txn = backend.db().begin_read().map_err(stopped)?;
    let typed: TableDefinition<&str, u64> = TableDefinition::new(META.name);
    match txn.open_table(typed) {
        Ok(t) => Ok(t
            .get("schema_version")
            .map_err(stopped)?
            .map(|v| (v.value(), true))),
        Err(TableError::TableDoesNotExist(_) | TableError::TableTypeMismatch { .. }) => {
            drop(txn);
            let mut version = None;
            backend.read(&mut |r| {
                version = r.get(META.name, b"schema_version")?;
                Ok(())
            })?;
            if version.is_none() && backend.is_legacy() {
                // Format 4's first layout: a bytes table of its own.
                let txn = backend.db().begin_read().map_err(stopped)?;
                let t = txn.open_table(bytes_table(META.name)).map_err(stopped)?;
                version = t
                    .get("schema_version".as_bytes())
                    .map_err(stopped)?
                    .map(|v| v.value().to_vec());
            }
            Ok(version.and_then(|v| u64::take(&v)).map(|v| (v, false)))
        }
        Err(e) => Err(stopped(e)),
    }
}

/// The rows of typed table `table` (formats 1-3) as [`walk_whole`] takes
/// them: keys and values as their bytes.
fn typed_rows<'t, K, V>(
    table: &'t redb::ReadOnlyTable<K, V>,
) -> Result<impl Iterator<Item = Result<(Vec<u8>, Vec<u8>)>> + 't>
where
    K: redb::Key + 'static,
    V: redb::Value + 'static,
    for<'a> K::SelfType<'a>: Col,
    for<'a> V::SelfType<'a>: Col,
{
    Ok(table.iter().map_err(stopped)?.map(|row| {
        let (k, v) = row.map_err(stopped)?;
        Ok((k.value().bytes(), v.value().bytes()))
    }))
}

/// Next ids by counter name, and course links.
type CountersAndLinks = (BTreeMap<String, u64>, BTreeSet<(u64, u64)>);

/// The next id of every kind and the course links of the store in `db`,
/// read from its typed (formats 1-3) or byte (format 4) tables.
fn counters_and_links(backend: &RedbBackend, typed: bool) -> Result<CountersAndLinks> {
    let txn = backend.db().begin_read().map_err(stopped)?;
    let mut counters: BTreeMap<String, u64> = BTreeMap::new();
    let mut links = BTreeSet::new();
    if typed {
        let damaged = || Error::new(ErrorCode::Corrupt, "a damaged row");
        let def: TableDefinition<&str, u64> = TableDefinition::new("counters");
        let table = txn.open_table(def).map_err(stopped)?;
        let stored = table.len().map_err(stopped)?;
        walk_whole(stored, typed_rows(&table)?, &mut |k, v| {
            let (Some(name), Some(next)) = (str::take(k), u64::take(v)) else {
                return Err(damaged());
            };
            // A counter past every id roster gives is damage (sound ones
            // are read from the rows' ids below).
            if next <= ids::MAX_ID + 1 {
                counters.insert(name, next);
            }
            Ok(())
        })?;
        let def: TableDefinition<(u64, u64), ()> = TableDefinition::new(COURSE_BATCHES.name);
        let table = txn.open_table(def).map_err(stopped)?;
        let stored = table.len().map_err(stopped)?;
        walk_whole(stored, typed_rows(&table)?, &mut |k, _| {
            links.insert(<(u64, u64)>::take(k).ok_or_else(damaged)?);
            Ok(())
        })?;
    } else {
        let kinds = ENTITIES.map(|(_, k)| k);
        for (k, v) in rows_of(backend, ID_BLOCKS.name)? {
            let (Some((kind, block)), Some(next)) = (<(u8, u64)>::take(&k), u64::take(&v)) else {
                continue;
            };
            if let Some(kind) = kinds.iter().find(|k| **k as u8 == kind)
                && ids::sound(*kind, block, next).is_ok()
            {
                let slot = counters.entry(kind.counter().to_string()).or_insert(0);
                *slot = (*slot).max(next);
            }
        }
        for (k, _) in rows_of(backend, COURSE_BATCHES.name)? {
            if let Some(pair) = <(u64, u64)>::take(&k) {
                links.insert(pair);
            }
        }
    }
    Ok((counters, links))
}

/// Checks the store file at `source` without writing it: the storage
/// engine's own checks and roster's invariants, each on a fresh temporary
/// copy. Errors only when the file cannot be copied.
pub fn check(source: &Path) -> Result<CheckReport> {
    let mut report = CheckReport::default();
    // 0. A file that is no roster store at all, said as the store's open says it.
    if let Err(e) = super::engine_redb::not_a_store(source) {
        report.problems.push(e.message().to_string());
        return Ok(report);
    }
    // 1. redb's page checksums, on a copy (the check may repair in place).
    {
        let copy = TempCopy::of(source)?;
        match open_db(&copy.path) {
            Err(why) => {
                report
                    .problems
                    .push(format!("the storage engine cannot open the file: {why}"));
                return Ok(report);
            }
            Ok((mut db, repaired)) => {
                if repaired {
                    report.notes.push(
                        "the file was not closed cleanly; redb repairs it when it is next opened"
                            .into(),
                    );
                }
                match catch_unwind(AssertUnwindSafe(|| db.check_integrity())) {
                    Ok(Ok(true)) => {}
                    Ok(Ok(false)) => report.problems.push(
                        "the storage engine found damaged pages (it could fall back to an earlier commit, losing the latest writes)".into(),
                    ),
                    Ok(Err(e)) => report
                        .problems
                        .push(format!("the storage engine's integrity check failed: {e}")),
                    Err(p) => report.problems.push(format!(
                        "the storage engine panicked checking the file: {}",
                        panic_words(&*p)
                    )),
                }
            }
        }
    }
    // 2. roster's invariants, on a fresh copy opened as the source would be.
    let copy = TempCopy::of(source)?;
    let store = match open_db(&copy.path) {
        Ok((db, _)) => RedbBackend::on(db).and_then(|b| {
            if with_journal(&b, source, &mut report.notes)? {
                report.problems.push(
                    "the journal beside the store is damaged: commits after the damage are \
                     lost, and the store does not open; `roster recover` keeps the commits \
                     before it"
                        .to_string(),
                );
            }
            Store::on(Arc::new(b))
        }),
        Err(why) => Err(Error::new(ErrorCode::Corrupt, why)),
    };
    match store.and_then(|store| store.reading(integrity::check)) {
        Ok(problems) => report.problems.extend(problems),
        Err(e) => report
            .problems
            .push(format!("roster cannot read the store: {}", e.message())),
    }
    Ok(report)
}

/// The record entities, in report order, with their tables.
const ENTITIES: [(&str, Kind); 9] = [
    ("organisations", Kind::Organisation),
    ("users", Kind::User),
    ("sunbird_users", Kind::SunbirdUser),
    ("batches", Kind::Batch),
    ("courses", Kind::Course),
    ("custom_fields", Kind::CustomField),
    ("groups", Kind::Group),
    ("memberships", Kind::Subscription),
    ("outbox", Kind::Message),
];

fn table_of(kind: Kind) -> Option<Records> {
    Some(match kind {
        Kind::User => USERS,
        Kind::Batch => BATCHES,
        Kind::Course => COURSES,
        Kind::CustomField => CUSTOM_FIELDS,
        Kind::Group => GROUPS,
        Kind::Message => OUTBOX,
        Kind::Organisation => ORGANISATIONS,
        Kind::SunbirdUser => SUNBIRD_USERS,
        Kind::Subscription | Kind::Change => return None,
    })
}

/// Whether every row of the copy `backend` is where its table's stored
/// length says ([`super::Reader::verify_rows`]); when not, says so in
/// `notes`.
fn verified(backend: &RedbBackend, notes: &mut Vec<String>) -> bool {
    let walked = catch_unwind(AssertUnwindSafe(|| backend.read(&mut |r| r.verify_rows())));
    let why = match walked {
        Ok(Ok(())) => return true,
        Ok(Err(e)) => e.message().to_string(),
        Err(p) => format!("the storage engine panicked: {}", panic_words(&*p)),
    };
    notes.push(format!(
        "{why}; every table is read as far as it goes and the file is carved for the rest"
    ));
    false
}

/// The frames read from one table of the copy.
#[derive(Default)]
struct TableRead {
    /// Sound frames by their own key.
    frames: BTreeMap<FrameKey, Vec<u8>>,
    /// Rows whose frame did not verify.
    damaged: u64,
    /// Rows the table says it holds, when it could say.
    expected: Option<u64>,
    /// Whether every row was read.
    complete: bool,
}

/// Reads every row of the record table of `kind`, keeping what was read
/// before an error or a panic. `legacy`: the copy is still of this older
/// format (its migration failed), so rows are bare records to re-frame.
fn read_table(
    backend: &RedbBackend,
    kind: Kind,
    legacy: Option<u64>,
    typed: bool,
    notes: &mut Vec<String>,
) -> TableRead {
    let mut out = TableRead::default();
    if typed && matches!(kind, Kind::Organisation | Kind::SunbirdUser) {
        // Formats 1-3 had no Sunbird tables.
        out.expected = Some(0);
        out.complete = true;
        return out;
    }
    let result = catch_unwind(AssertUnwindSafe(|| -> Result<()> {
        let txn = backend.db().begin_read().map_err(stopped)?;
        let mut keep = |key: FrameKey, bytes: &[u8]| match frame::parse(bytes) {
            // A sound frame of the right kind is kept under its own key,
            // even when the table's key was damaged.
            Ok((parts, total)) if total == bytes.len() && parts.kind == kind as u8 => {
                out.frames.insert(parts.key, bytes.to_vec());
            }
            _ => match legacy.and_then(|v| schema::legacy_frame(v, kind, key, bytes)) {
                Some(framed) => {
                    out.frames.insert(key, framed);
                }
                None => out.damaged += 1,
            },
        };
        let name = table_of(kind).map_or(MEMBERSHIPS.name, |def| def.name);
        let damaged = || Error::new(ErrorCode::Corrupt, "a damaged key");
        match (table_of(kind), typed) {
            // Format 4 (and an older one re-encoded): every table is bytes.
            (record, false) => {
                drop(txn);
                let mut expected = 0;
                backend.read(&mut |r| {
                    expected = r.len(name)?;
                    Ok(())
                })?;
                out.expected = Some(expected);
                backend.read(&mut |r| {
                    r.scan(
                        name,
                        Bound::Unbounded,
                        Bound::Unbounded,
                        false,
                        &mut |k, v| {
                            let key = match record {
                                Some(_) => u64::take(k).map(frame::id),
                                None => <(u64, u64)>::take(k),
                            };
                            keep(key.ok_or_else(damaged)?, v);
                            Ok(true)
                        },
                    )
                })?;
            }
            // Formats 1-3: typed tables.
            (Some(_), true) => {
                let def: TableDefinition<u64, &[u8]> = TableDefinition::new(name);
                let table = txn.open_table(def).map_err(stopped)?;
                let expected = table.len().map_err(stopped)?;
                out.expected = Some(expected);
                walk_whole(expected, typed_rows(&table)?, &mut |k, v| {
                    keep(u64::take(k).map(frame::id).ok_or_else(damaged)?, v);
                    Ok(())
                })?;
            }
            (None, true) => {
                let def: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new(name);
                let table = txn.open_table(def).map_err(stopped)?;
                let expected = table.len().map_err(stopped)?;
                out.expected = Some(expected);
                walk_whole(expected, typed_rows(&table)?, &mut |k, v| {
                    keep(<(u64, u64)>::take(k).ok_or_else(damaged)?, v);
                    Ok(())
                })?;
            }
        }
        Ok(())
    }));
    let name = ENTITIES
        .iter()
        .find(|(_, k)| *k == kind)
        .map_or("?", |(n, _)| n);
    match result {
        Ok(Ok(())) => out.complete = true,
        Ok(Err(e)) => notes.push(format!("{name}: read stopped: {}", e.message())),
        Err(p) => notes.push(format!(
            "{name}: the storage engine panicked: {}",
            panic_words(&*p)
        )),
    }
    out
}

/// How many times the file's size (plus one largest frame) carving may
/// checksum in all: a sound file costs about once its size (each frame is
/// checksummed once, and a damaged one once more), while a crafted file
/// whose frame headers every few bytes each claim a length to the end of
/// the file would cost its size squared.
const CARVE_BUDGET: u64 = 4;

/// What carving cost, and whether it stopped before the end of the file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Carving {
    /// Bytes checksummed.
    checksummed: u64,
    /// Where it stopped, its budget spent, when it did.
    stopped_at: Option<usize>,
}

/// Every sound frame in `bytes`, by kind and key. Of several versions of a
/// record (redb keeps freed pages until reused), the one found last wins,
/// except users, where the latest `modified` wins. The bytes checksummed
/// are bounded ([`CARVE_BUDGET`]): past that, carving stops and says where.
fn carve(bytes: &[u8]) -> (BTreeMap<(u8, FrameKey), Vec<u8>>, Carving) {
    let mut out: BTreeMap<(u8, FrameKey), Vec<u8>> = BTreeMap::new();
    // The `modified` of each user version kept, for every later version
    // to be compared with without reading the kept one again (a crafted
    // file repeats a small version of a large user a million times).
    let mut modified: BTreeMap<FrameKey, i64> = BTreeMap::new();
    let budget = CARVE_BUDGET
        .saturating_mul(bytes.len() as u64)
        .saturating_add(frame::MAX_FRAME as u64);
    let mut cost = Carving::default();
    let mut at = 0;
    while at + frame::HEADER <= bytes.len() {
        let Some(found) = bytes[at..]
            .windows(frame::MAGIC.len())
            .position(|w| w == frame::MAGIC)
        else {
            break;
        };
        let start = at + found;
        // What the checksum of this candidate would cost: nothing when its
        // claimed length is impossible (refused before any checksum).
        let claimed = frame::claimed(&bytes[start..]).unwrap_or(usize::MAX);
        let fits =
            claimed <= frame::MAX_PAYLOAD && start + frame::HEADER + claimed + 4 <= bytes.len();
        if fits {
            let hashed = (frame::HEADER + claimed) as u64;
            if cost.checksummed + hashed > budget {
                cost.stopped_at = Some(start);
                break;
            }
            cost.checksummed += hashed;
        }
        match frame::parse(&bytes[start..]) {
            Ok((parts, total)) => {
                let newer = match parts.kind == Kind::User as u8 {
                    false => true,
                    true => {
                        let this = modified_of(parts.payload);
                        let kept = modified.entry(parts.key).or_insert(i64::MIN);
                        let newer = *kept <= this;
                        if newer {
                            *kept = this;
                        }
                        newer
                    }
                };
                if newer {
                    out.insert(
                        (parts.kind, parts.key),
                        bytes[start..start + total].to_vec(),
                    );
                }
                at = start + total;
            }
            Err(_) => at = start + 1,
        }
    }
    (out, cost)
}

/// The `modified` of the user a frame's payload holds (the oldest
/// possible when it does not decode).
fn modified_of(payload: &[u8]) -> i64 {
    postcard::from_bytes::<User>(payload).map_or(i64::MIN, |u| u.modified)
}

type Saved = BTreeMap<u8, BTreeSet<FrameKey>>;

fn keep(saved: &mut Saved, kind: Kind, key: FrameKey) {
    saved.entry(kind as u8).or_default().insert(key);
}

/// The records a recovery leaves out although their frames are sound.
#[derive(Default)]
struct LeftOut {
    /// Contents that do not decode.
    undecodable: u64,
    /// Keys (or a membership's id) no store of roster's holds: an id 0 or
    /// past [`ids::MAX_ID`] (counters above them could not be kept), or a
    /// record's key with a second part (two records would share an id).
    out_of_range: u64,
}

/// Whether `id` is one roster gives.
fn in_range(id: u64) -> bool {
    (1..=ids::MAX_ID).contains(&id)
}

/// Decodes the frames of `kind` into records, counting what is left out.
fn decode_all<T: DeserializeOwned>(
    kind: Kind,
    frames: &BTreeMap<FrameKey, Vec<u8>>,
    left_out: &mut LeftOut,
) -> BTreeMap<FrameKey, T> {
    let mut out = BTreeMap::new();
    for (key, bytes) in frames {
        // A record's key is (its id, 0); a membership's (user, batch).
        // Another second part would give two records one id.
        let second = match kind {
            Kind::Subscription => in_range(key.1),
            _ => key.1 == 0,
        };
        if !in_range(key.0) || !second {
            left_out.out_of_range += 1;
            continue;
        }
        match frame::decode(kind, *key, bytes) {
            Ok(record) => {
                out.insert(*key, record);
            }
            Err(_) => left_out.undecodable += 1,
        }
    }
    out
}

/// Copies every record of the store at `source` that can be read into a
/// new store at `target` (which must not exist), rebuilding every index.
/// Never writes `source`. Sessions are not copied (users sign in again).
pub fn recover(source: &Path, target: &Path) -> Result<RecoveryReport> {
    // Any entry at all, a dangling link included: the new store holds
    // password hashes, and opening through a link would write them
    // wherever it points, with that file's mode.
    let journal = super::journal::path_of(target);
    for path in [target, journal.as_path()] {
        if std::fs::symlink_metadata(path).is_ok() {
            return Err(Error::new(
                ErrorCode::Conflict,
                format!("{} exists: recover writes a new store", path.display()),
            ));
        }
    }
    let mut report = RecoveryReport::default();
    let copy = TempCopy::of(source)?;
    let mut reads: BTreeMap<u8, TableRead> = BTreeMap::new();
    let mut counters: BTreeMap<String, u64> = BTreeMap::new();
    let mut links: Option<BTreeSet<(u64, u64)>> = None;
    match open_db(&copy.path) {
        Ok((db, repaired)) => {
            report.opened = true;
            if repaired {
                report
                    .notes
                    .push("the file was not closed cleanly; redb repaired the copy".into());
            }
            // Older formats are migrated in the copy first.
            let backend = RedbBackend::on(db).map(Arc::new);
            if let Err(e) = &backend {
                report.notes.push(format!(
                    "the copy cannot be read as a store ({}); its records are carved from the raw file",
                    e.message()
                ));
            }
            let found = match &backend {
                Ok(b) => match catch_unwind(AssertUnwindSafe(|| version_of(b))) {
                    Ok(Ok(found)) => found,
                    _ => None,
                },
                Err(_) => None,
            };
            // A legacy store's journal goes to its own tables, before the
            // migration below moves them (`replay`).
            if let Ok(b) = &backend {
                let _ = with_journal(b, source, &mut report.notes);
            }
            let mut legacy = None;
            if let (Some((v, typed)), Ok(backend)) = (found, &backend)
                && (v < schema::CURRENT_VERSION || typed)
            {
                let migrated = catch_unwind(AssertUnwindSafe(|| {
                    Store::on(backend.clone() as Arc<dyn super::Backend>).map(|_| ())
                }));
                if !matches!(migrated, Ok(Ok(()))) {
                    legacy = Some(v);
                    report.notes.push(format!(
                        "the store has format {v} and could not be migrated whole; its records are read one by one (format {v} has no checksums: a damaged record that still decodes cannot be told from a sound one)"
                    ));
                }
            }
            if let Ok(backend) = &backend {
                let typed = backend.is_legacy();
                // Rows hidden (or repeated) by damaged branch pages make a
                // read of a table look whole: walked against the table's
                // stored length first, and on a mismatch every table is
                // read as far as it goes and carved.
                let whole = typed || verified(backend, &mut report.notes);
                for (_, kind) in ENTITIES {
                    let mut read = read_table(backend, kind, legacy, typed, &mut report.notes);
                    read.complete &= whole;
                    reads.insert(kind as u8, read);
                }
                if let Ok(Ok((c, l))) =
                    catch_unwind(AssertUnwindSafe(|| counters_and_links(backend, typed)))
                {
                    counters = c;
                    links = Some(l);
                }
            }
        }
        Err(why) => report
            .notes
            .push(format!("the storage engine cannot open the file: {why}")),
    }
    // Carve when some table could not be read whole.
    let incomplete: Vec<u8> = ENTITIES
        .iter()
        .map(|(_, k)| *k as u8)
        .filter(|k| !reads.get(k).is_some_and(|r| r.complete))
        .collect();
    let mut carved_keys: BTreeSet<(u8, FrameKey)> = BTreeSet::new();
    if !incomplete.is_empty() {
        report.carved = true;
        let bytes = std::fs::read(source).map_err(|e| io_error(source, &e))?;
        let (frames, cost) = carve(&bytes);
        report.checksummed = cost.checksummed;
        if let Some(at) = cost.stopped_at {
            report.carving_stopped = true;
            report.notes.push(format!(
                "carving stopped at byte {at} of {}: it had checksummed {} bytes ({CARVE_BUDGET} \
                 times the file's size and one largest record), mostly on frame markers whose \
                 lengths do not check out (a file crafted to make carving slow); records after \
                 that point were not carved",
                bytes.len(),
                cost.checksummed
            ));
        }
        for ((kind, key), frame_bytes) in frames {
            if !incomplete.contains(&kind) {
                continue;
            }
            let read = reads.entry(kind).or_default();
            if let std::collections::btree_map::Entry::Vacant(slot) = read.frames.entry(key) {
                slot.insert(frame_bytes);
                carved_keys.insert((kind, key));
            }
        }
        if links.is_none() {
            report
                .notes
                .push("links of courses to ordinary batches could not be read and are lost".into());
        }
    }
    drop(copy);

    let take = |kind: Kind| reads.get(&(kind as u8)).map(|r| &r.frames);
    let empty = BTreeMap::new();
    let mut left_out = LeftOut::default();
    let users: BTreeMap<FrameKey, User> = decode_all(
        Kind::User,
        take(Kind::User).unwrap_or(&empty),
        &mut left_out,
    );
    let batches: BTreeMap<FrameKey, Batch> = decode_all(
        Kind::Batch,
        take(Kind::Batch).unwrap_or(&empty),
        &mut left_out,
    );
    let courses: BTreeMap<FrameKey, Course> = decode_all(
        Kind::Course,
        take(Kind::Course).unwrap_or(&empty),
        &mut left_out,
    );
    let fields: BTreeMap<FrameKey, CustomField> = decode_all(
        Kind::CustomField,
        take(Kind::CustomField).unwrap_or(&empty),
        &mut left_out,
    );
    let groups: BTreeMap<FrameKey, Group> = decode_all(
        Kind::Group,
        take(Kind::Group).unwrap_or(&empty),
        &mut left_out,
    );
    let mut memberships: BTreeMap<FrameKey, Subscription> = decode_all(
        Kind::Subscription,
        take(Kind::Subscription).unwrap_or(&empty),
        &mut left_out,
    );
    memberships.retain(|_, m| {
        left_out.out_of_range += u64::from(!in_range(m.id));
        in_range(m.id)
    });
    let messages: BTreeMap<FrameKey, Message> = decode_all(
        Kind::Message,
        take(Kind::Message).unwrap_or(&empty),
        &mut left_out,
    );
    let organisations: BTreeMap<FrameKey, Organisation> = decode_all(
        Kind::Organisation,
        take(Kind::Organisation).unwrap_or(&empty),
        &mut left_out,
    );
    let sides: BTreeMap<FrameKey, SunbirdUser> = decode_all(
        Kind::SunbirdUser,
        take(Kind::SunbirdUser).unwrap_or(&empty),
        &mut left_out,
    );
    if left_out.undecodable > 0 {
        report.notes.push(format!(
            "{} records had sound frames but undecodable contents",
            left_out.undecodable
        ));
    }
    if left_out.out_of_range > 0 {
        report.notes.push(format!(
            "{} records have keys no store gives (an id 0 or past 2^53, or a second part \
             to a record's key) and were left out",
            left_out.out_of_range
        ));
    }

    // The new store is built under a name of its own beside the target
    // and linked to the target only once whole: a recovery killed outright
    // leaves that name (`.<target>.recovering-<random>`), never a store
    // at the target that would open and look sound. Both of its files are
    // made here, owner-only, never through a link (`create_new` refuses
    // any entry, a link included, and follows none): the store's open
    // then finds them made. Both go again when the recovery ends, whole
    // or failed; `made` is declared before the store, so dropped after.
    let work = working_name(target)?;
    let work_journal = super::journal::path_of(&work);
    let mut made = Made(Vec::new());
    for path in [work.as_path(), work_journal.as_path()] {
        crate::private_file::create_new(path).map_err(|e| {
            Error::new(
                match e.kind() {
                    std::io::ErrorKind::AlreadyExists => ErrorCode::Conflict,
                    _ => ErrorCode::Storage,
                },
                format!("cannot create {}: {e}", path.display()),
            )
        })?;
        made.0.push(path.to_path_buf());
    }
    // Shared, so every commit goes to the file itself: the store is whole
    // when the last write returns, with no journal to checkpoint at the
    // close (whose failure would go unseen, and the working journal is
    // removed with the recovery).
    let store = Store::open(&work, true)?;
    let saved = store.write(|txn| {
        let mut saved: Saved = BTreeMap::new();
        let mut uuids: HashSet<u128> = HashSet::new();
        for (key, f) in &fields {
            let name = custom_field::name_key(&f.name);
            if f.id != key.0
                || read::lookup(txn, CUSTOM_FIELD_BY_NAME, &name)?.is_some()
                || !uuids.insert(f.uuid)
            {
                continue;
            }
            write::put_custom_field(txn, None, f)?;
            keep(&mut saved, Kind::CustomField, *key);
        }
        let mut org_ok: BTreeSet<u64> = BTreeSet::new();
        for (key, o) in &organisations {
            if o.id != key.0
                || !crate::domain::sunbird::fits_as_default(o)
                || (!o.channel.is_empty()
                    && read::lookup(txn, ORG_BY_CHANNEL, &fold(&o.channel))?.is_some())
                || !uuids.insert(o.uuid)
            {
                continue;
            }
            write::put_organisation(txn, None, o)?;
            keep(&mut saved, Kind::Organisation, *key);
            org_ok.insert(o.id);
        }
        write::point_default_org(txn)?;
        for (key, g) in &groups {
            if g.id != key.0
                || read::lookup(txn, GROUP_BY_NAME, &fold(&g.name))?.is_some()
                || !uuids.insert(g.uuid)
            {
                continue;
            }
            write::put_group(txn, None, g)?;
            keep(&mut saved, Kind::Group, *key);
        }
        // A course and its hidden batch are saved together or not at all.
        let whole_course = |c: &Course| {
            batches
                .get(&frame::id(c.local_batch))
                .is_some_and(|b| b.course == Some(c.id))
        };
        let mut course_ok: BTreeSet<u64> = BTreeSet::new();
        let mut slugs: HashSet<String> = HashSet::new();
        for (key, c) in &courses {
            if c.id == key.0 && whole_course(c) && slugs.insert(c.slug.clone()) {
                course_ok.insert(c.id);
            }
        }
        let mut batch_ok: BTreeSet<u64> = BTreeSet::new();
        let mut names: HashSet<String> = HashSet::new();
        for (key, b) in &batches {
            let fits = match b.course {
                Some(c) => course_ok.contains(&c),
                None => names.insert(fold(&b.name)),
            };
            if b.id == key.0 && fits && uuids.insert(b.uuid) {
                write::put_batch(txn, None, b)?;
                keep(&mut saved, Kind::Batch, *key);
                batch_ok.insert(b.id);
            }
        }
        for (key, c) in &courses {
            if course_ok.contains(&c.id) && batch_ok.contains(&c.local_batch) && uuids.insert(c.uuid)
            {
                write::put_course(txn, None, c)?;
                write::link_course_batch(txn, c.id, c.local_batch, true)?;
                keep(&mut saved, Kind::Course, *key);
            } else {
                course_ok.remove(&c.id);
            }
        }
        let kept = links.iter().flatten().filter(|(course, batch)| {
            let saved_course = saved
                .get(&(Kind::Course as u8))
                .is_some_and(|s| s.contains(&frame::id(*course)));
            saved_course && batch_ok.contains(batch)
        });
        write::link_course_pairs(txn, kept)?;
        let field_ids: BTreeSet<u64> = saved
            .get(&(Kind::CustomField as u8))
            .map(|s| s.iter().map(|k| k.0).collect())
            .unwrap_or_default();
        let group_ids: BTreeSet<u64> = saved
            .get(&(Kind::Group as u8))
            .map(|s| s.iter().map(|k| k.0).collect())
            .unwrap_or_default();
        let mut user_ok: BTreeSet<u64> = BTreeSet::new();
        let mut dropped_values = 0u64;
        for (key, u) in &users {
            if u.id != key.0 {
                continue;
            }
            let mut user = u.clone();
            let before = user.groups.len() + user.profile.custom.len();
            user.groups.retain(|g| group_ids.contains(g));
            user.profile.custom.retain(|(f, _)| field_ids.contains(f));
            dropped_values += (before - user.groups.len() - user.profile.custom.len()) as u64;
            let taken = |def: Unique, k: &str| -> Result<bool> {
                Ok(!k.is_empty() && read::lookup(txn, def, k)?.is_some())
            };
            if taken(USER_BY_USERNAME, &fold(&user.username))?
                || taken(USER_BY_EMAIL, &fold(&user.profile.email))?
                || taken(USER_BY_PHONE, &user.profile.phone)?
                || !uuids.insert(user.uuid)
            {
                continue;
            }
            write::put_user(txn, None, &user)?;
            keep(&mut saved, Kind::User, *key);
            user_ok.insert(user.id);
        }
        // Ids the damage took leave groups that never end: every saved
        // user goes into the search index now.
        super::search::merge_all(txn)?;
        if dropped_values > 0 {
            report.notes.push(format!(
                "{dropped_values} group memberships or custom values named lost records and were dropped"
            ));
        }
        // Side records of saved users, without what names lost records.
        for (key, side) in &sides {
            if !user_ok.contains(&key.0) {
                continue;
            }
            let mut side = side.clone();
            side.managed_by = side.managed_by.filter(|m| user_ok.contains(m));
            side.created_by = side.created_by.filter(|m| user_ok.contains(m));
            side.root_org = side.root_org.filter(|o| org_ok.contains(o));
            side.organisations.retain(|o| org_ok.contains(o));
            for grant in &mut side.roles {
                grant.scope.retain(|o| org_ok.contains(o));
            }
            side.roles.retain(|g| !g.scope.is_empty());
            let mut free = Vec::new();
            for e in std::mem::take(&mut side.external_ids) {
                if read::lookup(txn, EXTERNAL_IDS, &e.key())?.is_none() {
                    free.push(e);
                }
            }
            side.external_ids = free;
            write::put_sunbird(txn, key.0, None, Some(&side))?;
            keep(&mut saved, Kind::SunbirdUser, *key);
        }
        let mut sub_ids: HashSet<u64> = HashSet::new();
        for ((user, batch), sub) in &memberships {
            if user_ok.contains(user)
                && batch_ok.contains(batch)
                && sub_ids.insert(sub.id)
                && uuids.insert(sub.uuid)
            {
                write::put_membership(txn, *user, *batch, None, sub)?;
                keep(&mut saved, Kind::Subscription, (*user, *batch));
            }
        }
        for (key, m) in &messages {
            if m.id == key.0 && user_ok.contains(&m.user) {
                write::put_message(txn, m)?;
                keep(&mut saved, Kind::Message, *key);
            }
        }
        // Ids: above every id the source gave out, as far as known.
        {
            for (_, kind) in ENTITIES {
                if kind == Kind::SunbirdUser {
                    continue;
                }
                // Every sound frame's id, saved or not: a record lost to a
                // clash had its id given too.
                let top = match kind {
                    Kind::Subscription => memberships.values().map(|s| s.id).max(),
                    _ => take(kind).and_then(|frames| {
                        frames.keys().map(|k| k.0).filter(|id| in_range(*id)).max()
                    }),
                }
                .unwrap_or(0);
                let next = counters
                    .get(kind.counter())
                    .copied()
                    .unwrap_or(1)
                    .max(top + 1);
                ids::raise(txn, kind, next)?;
            }
        }
        // What the saved records themselves break (a record a tampered
        // restore planted before the rules refused it, say) is reported,
        // not a reason to save nothing: `roster check` names it again.
        let problems = integrity::check(txn)?;
        Ok((saved, problems))
    })?;
    let (saved, problems) = saved;
    let shown = problems.len().min(20);
    for problem in &problems[..shown] {
        report
            .notes
            .push(format!("the recovered store breaks a rule: {problem}"));
    }
    if problems.len() > shown {
        report.notes.push(format!(
            "and {} more problems: run `roster check` on the new store",
            problems.len() - shown
        ));
    }

    for (name, kind) in ENTITIES {
        let read = reads.get(&(kind as u8));
        let kept = saved.get(&(kind as u8));
        let n = kept.map_or(0, |s| s.len() as u64);
        let carved = kept.map_or(0, |s| {
            s.iter()
                .filter(|k| carved_keys.contains(&(kind as u8, **k)))
                .count() as u64
        });
        let seen = read.map_or(0, |r| r.frames.len() as u64 + r.damaged);
        let lost = match read.and_then(|r| r.expected) {
            Some(expected) if read.is_some_and(|r| r.complete) => {
                Some(expected.max(seen).saturating_sub(n))
            }
            _ if report.opened => read.and_then(|r| r.expected).map(|e| e.saturating_sub(n)),
            _ => None,
        };
        report.entities.push(EntityRecovery {
            entity: name.to_string(),
            saved: n,
            lost,
            carved,
        });
    }
    drop(store);
    publish(&work, target)?;
    Ok(report)
}

/// A name for the store a recovery to `target` builds: beside it (one
/// file system, so a link or rename reaches it), hidden, and random.
fn working_name(target: &Path) -> Result<std::path::PathBuf> {
    let name = target.file_name().ok_or_else(|| {
        Error::new(
            ErrorCode::Validation,
            format!("{} names no file", target.display()),
        )
    })?;
    let random: [u8; 8] = crate::random::bytes()?;
    let mut hidden = std::ffi::OsString::from(".");
    hidden.push(name);
    hidden.push(format!(".recovering-{:016x}", u64::from_le_bytes(random)));
    Ok(target.with_file_name(hidden))
}

/// Gives the whole store at `work` the name `target`, which must still be
/// free: a hard link never replaces an entry (one made at the target
/// since the recovery began is a conflict); where the file system has no
/// links, a rename once the target is seen free.
fn publish(work: &Path, target: &Path) -> Result<()> {
    let taken = || {
        Error::new(
            ErrorCode::Conflict,
            format!(
                "{} exists: it was made while the recovery ran, and is left as it is",
                target.display()
            ),
        )
    };
    match std::fs::hard_link(work, target) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(taken()),
        Err(_) if std::fs::symlink_metadata(target).is_ok() => return Err(taken()),
        Err(_) => std::fs::rename(work, target).map_err(|e| {
            Error::new(
                ErrorCode::Storage,
                format!("cannot name the recovered store {}: {e}", target.display()),
            )
        })?,
    }
    // The new name durable before the working one goes.
    crate::private_file::sync_folder(target);
    Ok(())
}

/// Files a recovery made under their working names (the new store and its
/// journal), removed when it ends: after a failure, or once the store is
/// linked to its target.
struct Made(Vec<std::path::PathBuf>);

impl Drop for Made {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::sunbird::SunbirdUser;
    use crate::domain::user::User;
    use crate::store::write;

    /// The recovered store gets its name by a link that never replaces an
    /// entry: a target made while the recovery ran is left as it was, and
    /// the working name is hidden, beside the target, and random.
    #[test]
    fn the_recovered_store_is_named_without_replacing_anything() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("new.redb");
        let work = working_name(&target).unwrap();
        assert_eq!(work.parent(), target.parent());
        let name = work.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(".new.redb.recovering-"), "{name}");
        assert_ne!(work, working_name(&target).unwrap());
        std::fs::write(&work, b"store").unwrap();
        std::fs::write(&target, b"theirs").unwrap();
        assert_eq!(
            publish(&work, &target).unwrap_err().code(),
            ErrorCode::Conflict
        );
        assert_eq!(std::fs::read(&target).unwrap(), b"theirs");
        std::fs::remove_file(&target).unwrap();
        publish(&work, &target).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"store");
    }

    /// Asserts that `report` saved `saved` users and has a note starting
    /// with `note`.
    #[track_caller]
    fn users_saved_and_noted(report: &RecoveryReport, saved: u64, note: &str) {
        let users = report
            .entities
            .iter()
            .find(|e| e.entity == "users")
            .unwrap();
        assert_eq!(users.saved, saved, "{report:?}");
        assert!(
            report.notes.iter().any(|n| n.starts_with(note)),
            "{note}: {report:?}"
        );
    }

    /// Ids no store of roster's holds (0, past 2^53), in a record's key or
    /// an id counter, are damage: the records are left out and counted,
    /// the counters read from the sound rows only, and the new store is
    /// sound and gives the next id in range.
    #[test]
    fn ids_out_of_range_are_left_out_and_the_counters_stay_sound() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("source.redb");
        {
            let store = Store::open(&source, false).unwrap();
            store
                .write(|txn| {
                    crate::store::ids::raise(txn, Kind::User, 2)?;
                    for id in [1, crate::store::ids::MAX_ID + 1, u64::MAX] {
                        let mut user = User::blank(id, &format!("u{}", id % 1000));
                        user.uuid = u128::from(id % 1000);
                        write::put_user(txn, None, &user)?;
                    }
                    // A membership whose own id is past them, and one in a
                    // batch past them.
                    crate::store::ids::raise(txn, Kind::Batch, 2)?;
                    let batch = Batch {
                        id: 1,
                        uuid: 500,
                        name: "Morning".into(),
                        course: None,
                        created: 0,
                        modified: 0,
                    };
                    write::put_batch(txn, None, &batch)?;
                    let sub = |id, uuid| Subscription {
                        id,
                        uuid,
                        expires: None,
                        created: 0,
                        modified: 0,
                    };
                    let past = crate::store::ids::MAX_ID + 1;
                    write::put_membership(txn, 1, 1, None, &sub(past, 600))?;
                    write::put_membership(txn, 1, past, None, &sub(1, 601))?;
                    // A counter row far past every block, as a crafted file
                    // could hold, and one in the last block past the
                    // highest id.
                    txn.put(
                        crate::store::tables::ID_BLOCKS,
                        &(Kind::User as u8, u64::MAX),
                        &u64::MAX,
                    )?;
                    let last = crate::store::ids::MAX_ID / crate::store::ids::BLOCK;
                    txn.put(
                        crate::store::tables::ID_BLOCKS,
                        &(Kind::Batch as u8, last),
                        &(crate::store::ids::MAX_ID + 2),
                    )
                })
                .unwrap();
        }
        let target = dir.path().join("new.redb");
        let report = recover(&source, &target).unwrap();
        users_saved_and_noted(&report, 1, "4 records have keys no store gives");
        let store = Store::open(&target, false).unwrap();
        assert_eq!(
            store.reading(integrity::check).unwrap(),
            Vec::<String>::new()
        );
        let next = store
            .write(|txn| crate::store::ids::next(txn, Kind::User))
            .unwrap();
        assert_eq!(next, 2);
        let next = store
            .write(|txn| crate::store::ids::next(txn, Kind::Batch))
            .unwrap();
        assert_eq!(next, 2);
    }

    fn batch(id: u64, uuid: u128, name: &str) -> Batch {
        Batch {
            id,
            uuid,
            name: name.into(),
            course: None,
            created: 0,
            modified: 0,
        }
    }

    /// A record's frame keyed with a second part (`(id, n)`, a
    /// membership's shape), under another row or carved, would give two
    /// records one id: it is left out and counted, and the rest saved (the
    /// second record's create failed the whole recovery).
    #[test]
    fn a_record_keyed_like_a_membership_is_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("source.redb");
        {
            let store = Store::open(&source, false).unwrap();
            store
                .write(|txn| {
                    ids::raise(txn, Kind::User, 2)?;
                    ids::raise(txn, Kind::Batch, 2)?;
                    let mut ann = User::blank(1, "ann");
                    ann.uuid = 1;
                    write::put_user(txn, None, &ann)?;
                    write::put_batch(txn, None, &batch(1, 2, "Morning"))?;
                    let mut bob = User::blank(1, "bob");
                    bob.uuid = 3;
                    let bob = frame::encode(Kind::User, (1, 7), &bob)?;
                    txn.put(USERS, &2, bob.as_slice())?;
                    let evening = frame::encode(Kind::Batch, (1, 7), &batch(1, 4, "Evening"))?;
                    txn.put(BATCHES, &2, evening.as_slice())
                })
                .unwrap();
        }
        let target = dir.path().join("new.redb");
        let report = recover(&source, &target).unwrap();
        users_saved_and_noted(&report, 1, "2 records have keys no store gives");
        let batches = report.entities.iter().find(|e| e.entity == "batches");
        assert_eq!(batches.unwrap().saved, 1, "{report:?}");
        let store = Store::open(&target, false).unwrap();
        assert_eq!(
            store.reading(integrity::check).unwrap(),
            Vec::<String>::new()
        );
        let ann = store.reading(|s| read::user(s, 1)).unwrap().unwrap();
        let morning = store.reading(|s| read::batch(s, 1)).unwrap().unwrap();
        assert_eq!((&*ann.username, &*morning.name), ("ann", "Morning"));
    }

    /// A file the storage engine cannot open (its first page zeroed),
    /// holding `frames` after it.
    fn carved_file(path: &Path, frames: &[Vec<u8>]) {
        let mut file = vec![0u8; 4096];
        for f in frames {
            file.extend_from_slice(f);
        }
        std::fs::write(path, file).unwrap();
    }

    /// Ids a carved source gave to records lost to a clash are not given
    /// again: the new counters are above every id a sound frame holds,
    /// saved or not.
    #[test]
    fn ids_of_records_lost_to_a_clash_are_not_given_again() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("source.redb");
        let frames: Vec<Vec<u8>> = [(1, "ann"), (2, "bob"), (3, "ANN")]
            .into_iter()
            .map(|(id, name)| {
                let mut user = User::blank(id, name);
                user.uuid = u128::from(id);
                frame::encode(Kind::User, frame::id(id), &user).unwrap()
            })
            .collect();
        carved_file(&source, &frames);
        let target = dir.path().join("new.redb");
        let report = recover(&source, &target).unwrap();
        let users = report.entities.iter().find(|e| e.entity == "users");
        assert_eq!(users.unwrap().saved, 2, "{report:?}");
        let store = Store::open(&target, false).unwrap();
        let next = store.write(|txn| ids::next(txn, Kind::User)).unwrap();
        assert_eq!(next, 4, "user 3 was lost, its id not free");
    }

    /// A crafted file that repeats a small version of a large user many
    /// times costs carving each version once: the kept version is not read
    /// again for each (20,000 reads of a 2 MiB record here, minutes of
    /// checksums and decoding). The latest `modified` wins.
    #[test]
    fn versions_of_a_large_user_are_each_read_once() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("source.redb");
        let mut large = User::blank(1, "ann");
        large.uuid = 1;
        large.modified = 5;
        large.profile.first_name = "a".repeat(2 << 20);
        let mut small = User::blank(1, "ann");
        small.uuid = 1;
        small.modified = 4;
        let small = frame::encode(Kind::User, frame::id(1), &small).unwrap();
        let mut frames = vec![frame::encode(Kind::User, frame::id(1), &large).unwrap()];
        frames.resize(20_001, small);
        carved_file(&source, &frames);
        let target = dir.path().join("new.redb");
        let report = recover(&source, &target).unwrap();
        assert!(!report.carving_stopped, "{report:?}");
        let store = Store::open(&target, false).unwrap();
        let ann = store.reading(|s| read::user(s, 1)).unwrap().unwrap();
        assert_eq!((ann.modified, ann.profile.first_name.len()), (5, 2 << 20));
    }

    /// A source whose records break a rule the API enforces (a managed user
    /// with a phone, as a tampered restore could plant before restores
    /// checked it) is still salvaged whole; the problem is reported.
    #[test]
    fn records_that_break_a_rule_are_saved_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("source.redb");
        {
            let store = Store::open(&source, false).unwrap();
            let mut manager = User::blank(1, "mgr");
            manager.uuid = 11;
            manager.profile.email = "mgr@example.com".into();
            let mut kid = User::blank(2, "kid");
            kid.uuid = 12;
            kid.profile.phone = "9876543210".into();
            let side = SunbirdUser {
                managed_by: Some(1),
                ..SunbirdUser::default()
            };
            store
                .write(|txn| {
                    crate::store::ids::raise(txn, Kind::User, 3)?;
                    write::put_user(txn, None, &manager)?;
                    write::put_user(txn, None, &kid)?;
                    write::put_sunbird(txn, 2, None, Some(&side))
                })
                .unwrap();
        }
        let report = recover(&source, &dir.path().join("new.redb")).unwrap();
        users_saved_and_noted(&report, 2, "the recovered store breaks a rule: user 2");
    }
}
