//! The change feed's storage (SPEC X4): what a write transaction changed,
//! gathered as [`super::write`]'s functions change it and appended as
//! entries when the transaction's work is done, in the same transaction.
//!
//! Every function of [`super::write`] that stores or removes an entity's
//! record tells [`note`] what the entity was before and is after, both as
//! the feed keeps records ([`Record`]: no secret, no sign-in bookkeeping).
//! At the end of the write ([`flush`]), every entity whose kept record
//! differs from what it was when the transaction first touched it gets one
//! entry: created, updated or deleted (a tombstone). So a sign-in, which
//! changes only bookkeeping, makes none, and an entity changed twice in one
//! operation makes one.
//!
//! Entries are numbered in commit order: after the feed's head (its last
//! entry, or its floor when every entry was trimmed) where the backend
//! commits one write at a time (redb), else by the backend
//! ([`super::Writer::change_seqs`]). Trimming ([`trim`]) removes entries
//! older than the retention window and raises the feed's floor: a reader
//! asking for entries after a number below the floor is told so, never
//! handed a feed with a hole in it.

use super::tables::{CHANGES, META};
use super::{Reads, Snapshot, Txn, read};
use crate::domain::Micros;
use crate::domain::feed::{ChangeOp, Entity, Entry, Record};
use crate::error::{Error, ErrorCode, Result};
use std::collections::HashMap;
use std::ops::Bound;

/// `meta`: the number the next entry gets, in stores written before
/// numbers followed the last entry (backends that commit one write at a
/// time); removed by the next write that appends.
const NEXT_SEQ: &str = "change_next";
/// `meta`: the largest number trimmed away; the feed holds every entry
/// after it.
const FLOOR: &str = "change_floor";
/// `meta`: the number before this feed's first entry, drawn at random when
/// the store was made (absent, 0, in a store made before it was kept).
const ORIGIN: &str = "change_origin";
/// The origins a new feed draws from: 2^40 up to 2^40 + 2^51, so that
/// every number stays below 2^53 (exact in a JavaScript number) after
/// 2^51 entries.
const ORIGIN_LOW: u64 = 1 << 40;
const ORIGIN_SPAN: u64 = 1 << 51;

/// Who wrote, and when: stamped on the entries of one write.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Author {
    /// The signed-in user's UUID; `None` for host code.
    pub actor: Option<u128>,
    /// The instant of the write.
    pub at: Micros,
}

/// The identity of an entity within one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    /// A record under an integer id (a subscription's own id).
    Id(Entity, u64),
    /// A setting, by its id.
    Setting(String),
}

/// One entity a transaction touched.
#[derive(Debug)]
struct Touched {
    key: Key,
    /// The UUID, once known (a Sunbird profile learns its user's at the end).
    uuid: Option<u128>,
    /// The kept record when the transaction first touched the entity.
    before: Option<Vec<u8>>,
    /// The kept record now.
    after: Option<Vec<u8>>,
}

/// What a transaction changed so far, in the order it first touched each
/// entity.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    touched: Vec<Touched>,
    at: HashMap<Key, usize>,
}

fn encoded(record: Option<&Record>) -> Result<Option<Vec<u8>>> {
    record
        .map(|r| {
            postcard::to_allocvec(r)
                .map_err(|e| Error::new(ErrorCode::Internal, format!("a feed record: {e}")))
        })
        .transpose()
}

/// Records that the entity `entity` `id` (UUID `uuid` if known) was
/// `before` and is now `after` (`None`: absent).
pub(crate) fn note(
    txn: &Txn<'_>,
    entity: Entity,
    id: u64,
    uuid: Option<u128>,
    before: Option<&Record>,
    after: Option<&Record>,
) -> Result<()> {
    touch(txn, Key::Id(entity, id), uuid, before, after)
}

/// A record of an entity the feed follows under its own id and UUID.
pub(crate) trait Fed {
    /// The kind of entity.
    const ENTITY: Entity;
    /// Its id.
    fn id(&self) -> u64;
    /// Its UUID.
    fn uuid(&self) -> u128;
    /// The record as the feed keeps it.
    fn kept(&self) -> Record;
}

/// Records that an entity was `before` and is now `after` (`None`: absent;
/// at least one of them is given).
pub(crate) fn changed<T: Fed>(txn: &Txn<'_>, before: Option<&T>, after: Option<&T>) -> Result<()> {
    let Some(either) = after.or(before) else {
        return Ok(());
    };
    let (b, a) = (before.map(Fed::kept), after.map(Fed::kept));
    note(
        txn,
        T::ENTITY,
        either.id(),
        Some(either.uuid()),
        b.as_ref(),
        a.as_ref(),
    )
}

macro_rules! fed {
    ($($ty:ty => $entity:ident, $kept:expr;)*) => {$(
        impl Fed for $ty {
            const ENTITY: Entity = Entity::$entity;
            fn id(&self) -> u64 {
                self.id
            }
            fn uuid(&self) -> u128 {
                self.uuid
            }
            fn kept(&self) -> Record {
                $kept(self)
            }
        }
    )*};
}

fed! {
    crate::domain::user::User => User, Record::user;
    crate::domain::Batch => Batch, |b: &crate::domain::Batch| Record::Batch(b.clone());
    crate::domain::custom_field::CustomField => CustomField,
        |f: &crate::domain::custom_field::CustomField| Record::CustomField(f.clone());
    crate::domain::group::Group => Group, |g: &crate::domain::group::Group| Record::Group(g.clone());
    crate::domain::sunbird::Organisation => Organisation,
        |o: &crate::domain::sunbird::Organisation| Record::Organisation(o.clone());
}

/// Records that setting `name` was `before` and is now `after`.
pub(crate) fn note_setting(
    txn: &Txn<'_>,
    name: &str,
    before: Option<&Record>,
    after: Option<&Record>,
) -> Result<()> {
    touch(txn, Key::Setting(name.to_string()), Some(0), before, after)
}

fn touch(
    txn: &Txn<'_>,
    key: Key,
    uuid: Option<u128>,
    before: Option<&Record>,
    after: Option<&Record>,
) -> Result<()> {
    let after = encoded(after)?;
    let mut pending = txn.feed.borrow_mut();
    match pending.at.get(&key) {
        Some(&i) => {
            let t = &mut pending.touched[i];
            t.after = after;
            t.uuid = t.uuid.or(uuid);
        }
        None => {
            let before = encoded(before)?;
            let i = pending.touched.len();
            pending.at.insert(key.clone(), i);
            pending.touched.push(Touched {
                key,
                uuid,
                before,
                after,
            });
        }
    }
    Ok(())
}

/// Appends the entries of everything `txn` changed, stamped by `author`;
/// then, where the backend commits one write at a time, trims what the
/// retention window (`retention`, microseconds) lets go: in steps, by the
/// write whose entries reach a multiple of [`TRIM_STEP`], up to twice the
/// entries appended since the last step.
pub(crate) fn flush(txn: &Txn<'_>, author: Author, retention: Option<i64>) -> Result<()> {
    let pending = std::mem::take(&mut *txn.feed.borrow_mut());
    let mut changed: Vec<Touched> = pending
        .touched
        .into_iter()
        .filter(|t| t.before != t.after)
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    resolve_uuids(txn, &mut changed)?;
    let count = changed.len() as u64;
    let given = txn.w.change_seqs(count)?;
    let serial = given.is_none();
    // The origin is read (and checked) by every write that appends: a
    // damaged one is found before numbers are counted from it.
    let first = match given {
        // The backend counts from 1.
        Some(first) => origin(txn)?.saturating_add(first),
        // Numbers follow the feed's head: no row is written for them. A
        // store written before keeps a counter in `meta`, read once more
        // and removed.
        None => {
            let head = bounds(txn)?.head;
            let counted: Option<u64> = txn.get(META, NEXT_SEQ)?;
            if counted.is_some() {
                txn.remove(META, NEXT_SEQ)?;
            }
            let next = counted.unwrap_or(0).max(head.saturating_add(1));
            if next.checked_add(count).is_none() {
                let row = match counted {
                    Some(n) if n == next => "counter",
                    _ => "floor",
                };
                return Err(damaged_counter(row));
            }
            next
        }
    };
    let mut rows: Vec<(u64, Vec<u8>)> = Vec::with_capacity(changed.len());
    for (seq, t) in (first..).zip(changed) {
        let op = match (&t.before, &t.after) {
            (None, _) => ChangeOp::Create,
            (Some(_), None) => ChangeOp::Delete,
            (Some(_), Some(_)) => ChangeOp::Update,
        };
        let (entity, name) = match t.key {
            Key::Id(entity, _) => (entity, String::new()),
            Key::Setting(name) => (Entity::Setting, name),
        };
        let entry = Entry {
            at: author.at,
            actor: author.actor,
            entity,
            uuid: t.uuid.unwrap_or(0),
            name,
            op,
            record: t.after,
        };
        rows.push((seq, super::encode_change(seq, &entry)?));
    }
    let rows: Vec<(&u64, &[u8])> = rows.iter().map(|(k, v)| (k, v.as_slice())).collect();
    txn.put_many(CHANGES, &rows)?;
    if serial
        && let Some(window) = retention
        && reaches_step(first, count)
    {
        let at_most = count.saturating_add(TRIM_STEP).saturating_mul(2);
        trim_some(txn, author.at.saturating_sub(window), at_most)?;
    }
    Ok(())
}

/// Entries are trimmed as they are appended, but not by every write: by
/// the one whose entries reach a multiple of this. A trim dirties the
/// feed's first pages and the floor's; one in this many writes does it,
/// for the entries of all of them.
const TRIM_STEP: u64 = 64;

/// Whether entries `first .. first + count` hold a multiple of
/// [`TRIM_STEP`].
fn reaches_step(first: u64, count: u64) -> bool {
    let last = first.saturating_add(count.saturating_sub(1));
    last / TRIM_STEP != first.saturating_sub(1) / TRIM_STEP
}

/// Fills in the UUID of every Sunbird profile from its user's record (the
/// user's own entry of this transaction, else the stored user).
fn resolve_uuids(txn: &Txn<'_>, changed: &mut [Touched]) -> Result<()> {
    let users: HashMap<u64, u128> = changed
        .iter()
        .filter_map(|t| match (&t.key, t.uuid) {
            (Key::Id(Entity::User, id), Some(uuid)) => Some((*id, uuid)),
            _ => None,
        })
        .collect();
    for t in changed.iter_mut().filter(|t| t.uuid.is_none()) {
        if let Key::Id(_, id) = t.key {
            t.uuid = match users.get(&id) {
                Some(uuid) => Some(*uuid),
                None => read::user(txn, id)?.map(|u| u.uuid),
            };
        }
    }
    Ok(())
}

/// Removes up to `at_most` of the oldest entries made before `horizon`,
/// raising the floor past them; how many went. A damaged entry ends the
/// trim where it is, without failing the write that trims: its age cannot
/// be read, so it and the entries after it stay, for `check` to name and
/// a reader to be refused. (Failing would fail every later write that
/// numbers entries, as each would reach the same trim.)
fn trim_some(txn: &Txn<'_>, horizon: Micros, at_most: u64) -> Result<u64> {
    let mut gone: Vec<u64> = Vec::new();
    txn.scan(
        CHANGES,
        Bound::Unbounded,
        Bound::Unbounded,
        false,
        |seq, bytes| {
            if gone.len() as u64 >= at_most {
                return Ok(false);
            }
            match super::change_instant(seq, &bytes) {
                Ok(at) if at < horizon => {
                    gone.push(seq);
                    Ok(true)
                }
                Ok(_) | Err(_) => Ok(false),
            }
        },
    )?;
    let Some(&last) = gone.last() else {
        return Ok(0);
    };
    txn.delete_many(CHANGES, &gone)?;
    if txn.get(META, FLOOR)?.unwrap_or(0) < last {
        txn.put(META, FLOOR, &last)?;
    }
    Ok(gone.len() as u64)
}

/// Removes every entry made before `horizon` (a purge); how many went.
pub(crate) fn trim(txn: &Txn<'_>, horizon: Micros) -> Result<u64> {
    let mut total = 0;
    loop {
        let n = trim_some(txn, horizon, 4096)?;
        total += n;
        if n < 4096 {
            return Ok(total);
        }
    }
}

/// Starts the feed of a new store at a random number: a reader's number
/// from another feed (the store this one was restored or recovered from,
/// or any other) is then below this feed's origin or above its head, and
/// refused, rather than taken for one of this feed's (a chance of about
/// the feed's length in 2^51).
pub(crate) fn begin(txn: &Txn<'_>) -> Result<()> {
    let drawn = u64::from_le_bytes(crate::random::bytes()?) % ORIGIN_SPAN;
    begin_at(txn, ORIGIN_LOW + drawn)
}

/// Starts the feed of a new store after `origin` ([`begin`]'s draw; the
/// conformance suite gives two stores one origin to compare them).
pub(crate) fn begin_at(txn: &Txn<'_>, origin: u64) -> Result<()> {
    txn.put(META, ORIGIN, &origin)
}

/// `reads` with what appending to the feed reads ([`Txn::will_read`]):
/// a write that hints its reads and changes a record adds it.
pub(crate) fn will_append(reads: Reads) -> Reads {
    reads.of(META, ORIGIN)
}

/// The number before this feed's first entry: a reader's `since` of 0
/// means it.
pub(crate) fn origin(s: &Snapshot<'_>) -> Result<u64> {
    match s.get(META, ORIGIN)?.unwrap_or(0) {
        // Above every origin drawn: the row is damaged, and numbers counted
        // from it could run past the largest.
        origin if origin >= ORIGIN_LOW + ORIGIN_SPAN => Err(damaged_counter("origin")),
        origin => Ok(origin),
    }
}

/// A `meta` row of the feed's numbering that cannot be right.
fn damaged_counter(what: &str) -> Error {
    Error::new(
        ErrorCode::Corrupt,
        format!(
            "the store is damaged: the change feed's {what} is out of range; run `roster check`"
        ),
    )
}

/// The feed's floor: every entry after it is still there (its origin,
/// until entries are trimmed).
pub(crate) fn floor(s: &Snapshot<'_>) -> Result<u64> {
    floor_above(s, origin(s)?)
}

/// [`floor`], given the feed's `origin`.
fn floor_above(s: &Snapshot<'_>, origin: u64) -> Result<u64> {
    Ok(s.get(META, FLOOR)?.unwrap_or(0).max(origin))
}

/// The numbers a feed has given ([`bounds`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    /// The number before its first entry ([`origin`]).
    pub origin: u64,
    /// Every entry after it is still there ([`floor`]).
    pub floor: u64,
    /// The highest number it has shown or trimmed: its last entry's, or
    /// its floor when every entry was trimmed (its origin: none yet). A
    /// reader's `since` is never above it, unless it read another feed (a
    /// store restored or recovered starts a new one).
    pub head: u64,
}

/// This feed's [`Bounds`], each `meta` row read once.
pub(crate) fn bounds(s: &Snapshot<'_>) -> Result<Bounds> {
    let origin = origin(s)?;
    let floor = floor_above(s, origin)?;
    Ok(Bounds {
        origin,
        floor,
        head: head_above(s, floor)?,
    })
}

/// [`Bounds::head`], given the feed's `floor`: its last entry's number,
/// or the floor when no entry is above it.
fn head_above(s: &Snapshot<'_>, floor: u64) -> Result<u64> {
    let mut last = 0;
    s.scan(
        CHANGES,
        Bound::Unbounded,
        Bound::Unbounded,
        true,
        |seq, _| {
            last = seq;
            Ok(false)
        },
    )?;
    Ok(last.max(floor))
}

/// The stored bytes of entries one page of the feed holds at most (the
/// first entry of a page always goes in, however large): an entry carries
/// its record whole (a user with many long custom values, a course linked
/// to many batches), so a page of `limit` entries is bounded by size too,
/// and a reader goes on from its `next`.
pub(crate) const PAGE_BYTES: usize = 8 << 20;

/// Up to `limit` entries after `since` (fewer where their records reach
/// [`PAGE_BYTES`]), oldest first, and whether more follow.
pub(crate) fn since(
    s: &Snapshot<'_>,
    since: u64,
    limit: usize,
) -> Result<(Vec<(u64, Entry)>, bool)> {
    let mut out = Vec::new();
    let mut more = false;
    let mut damaged = None;
    let mut bytes_read = 0usize;
    s.scan(
        CHANGES,
        Bound::Excluded(&since),
        Bound::Unbounded,
        false,
        |seq, bytes| {
            bytes_read = bytes_read.saturating_add(bytes.len());
            if out.len() >= limit || (!out.is_empty() && bytes_read > PAGE_BYTES) {
                more = true;
                return Ok(false);
            }
            match super::decode_change(seq, &bytes) {
                Ok(entry) => {
                    out.push((seq, entry));
                    Ok(true)
                }
                Err(e) => {
                    damaged = Some(e);
                    Ok(false)
                }
            }
        },
    )?;
    match damaged {
        Some(e) => Err(e),
        None => Ok((out, more)),
    }
}

/// The feed's problems: entries that do not decode (or whose record does
/// not), entries at or below the floor, and, in a store that still keeps
/// the counter of its next number, entries at or above it. Streams the
/// feed.
pub(crate) fn check(s: &Snapshot<'_>) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let floor = floor(s).unwrap_or_else(|e| {
        problems.push(e.message().to_string());
        0
    });
    let next = s.get(META, NEXT_SEQ)?;
    // The next number must be above the floor, with room for one more.
    if floor == u64::MAX {
        problems.push(damaged_counter("floor").message().to_string());
    }
    if next.is_some_and(|n| n <= floor || n == u64::MAX) {
        problems.push(damaged_counter("counter").message().to_string());
    }
    s.scan(
        CHANGES,
        Bound::Unbounded,
        Bound::Unbounded,
        false,
        |seq, bytes| {
            match super::decode_change(seq, &bytes) {
                Ok(entry) => {
                    if let Some(record) = &entry.record
                        && let Err(e) = self::record(seq, record)
                    {
                        problems.push(e.message().to_string());
                    }
                }
                Err(e) => problems.push(e.message().to_string()),
            }
            if seq <= floor {
                problems.push(format!(
                    "change {seq} is at or below the feed's floor {floor}"
                ));
            }
            if next.is_some_and(|n| seq >= n) {
                problems.push(format!("change {seq} is beyond the feed's counter"));
            }
            Ok(problems.len() < 1000)
        },
    )?;
    Ok(problems)
}

/// The decoded record of an entry.
pub(crate) fn record(seq: u64, bytes: &[u8]) -> Result<Record> {
    postcard::from_bytes(bytes).map_err(|_| {
        Error::new(
            ErrorCode::Corrupt,
            format!("the store is damaged: change {seq} cannot be read; run `roster check`"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check names every damaged entry, the first as the later ones,
    /// up to a thousand problems (a feed damaged throughout is not a
    /// million lines).
    #[test]
    fn the_check_names_damaged_entries_up_to_a_thousand() {
        let store = super::super::Store::in_memory().unwrap();
        let origin = store.reading(origin).unwrap();
        let put = |seqs: std::ops::RangeInclusive<u64>| {
            store
                .write(|txn| {
                    for seq in seqs.clone() {
                        txn.put(CHANGES, &(origin + seq), [0xffu8; 3].as_slice())?;
                    }
                    Ok(())
                })
                .unwrap();
        };
        put(1..=2);
        let problems = store.reading(check).unwrap();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[1].contains(&(origin + 2).to_string()));
        put(3..=1500);
        assert_eq!(store.reading(check).unwrap().len(), 1000);
    }

    /// The write whose entries take in a multiple of [`TRIM_STEP`] trims,
    /// and no other: one write in that many dirties the feed's first pages.
    #[test]
    fn the_write_holding_a_multiple_of_the_step_trims() {
        let s = TRIM_STEP;
        for (first, count, trims) in [
            (1, 1, false),
            (s - 1, 1, false),
            (s, 1, true),
            (s + 1, 1, false),
            (1, s - 1, false),
            (1, s, true),
            (s + 1, s - 1, false),
            (s + 1, s, true),
            (2 * s - 1, 2, true),
            (3, 5 * s, true),
            (5 * s + 1, s - 1, false),
        ] {
            assert_eq!(reaches_step(first, count), trims, "{first} + {count}");
        }
    }
}
