//! Record ids: never reused, and never from one key every insert writes.
//!
//! Ids of each entity kind are handed out from blocks of [`BLOCK`] ids; the
//! row `id_blocks[(kind, block)]` holds the next id of that block. An
//! insert writes only its block's row, and one block is in use per kind,
//! so ids run 1, 2, 3…. Where several processes insert into one store
//! ([`Backend::own_id_blocks`](super::Backend::own_id_blocks):
//! PostgreSQL), a handle whose insert lost a race with another process's
//! (the backend ran the write again) claims a block of its own, the one
//! after every block in use, and takes its ids from it from then on (a new
//! one when it is full): processes that insert at the same time then write
//! different counter rows and stop colliding, while a handle that never
//! meets another keeps consecutive ids. A claimed block's ids start at a
//! multiple of [`BLOCK`].

use super::tables::{ID_BLOCKS, Kind};
use super::{Reads, Snapshot, Txn};
use crate::error::{Error, ErrorCode, Result};
use std::ops::Bound;

/// Ids per block.
pub(crate) const BLOCK: u64 = 1 << 24;

/// The highest id roster gives, or takes from an export: ids reach
/// JavaScript as numbers, exact up to 2^53.
pub(crate) const MAX_ID: u64 = 1 << 53;

/// The last block a sound store has a row for: the one holding
/// [`MAX_ID`].
const LAST_BLOCK: u64 = MAX_ID / BLOCK;

/// A stored row `(kind, block) -> next` as it may be: its block at most
/// [`LAST_BLOCK`] and `next` within the block (its end when full; in the
/// last block, one past [`MAX_ID`], whose ids stop there). Any
/// other row is damage, and the arithmetic of the ids given from it would
/// overflow, or give id 0 or ids of another block: refused here, where
/// every row is read.
pub(crate) fn sound(kind: Kind, block: u64, next: u64) -> Result<u64> {
    let end = |block: u64| ((block + 1) * BLOCK).min(MAX_ID + 1);
    if block <= LAST_BLOCK && (first_of(block)..=end(block)).contains(&next) {
        return Ok(next);
    }
    Err(Error::new(
        ErrorCode::Corrupt,
        format!(
            "the store is damaged: {}; run `roster check`",
            unsound(kind, block, next)
        ),
    ))
}

/// What is wrong with the unsound row `(kind, block) -> next`.
fn unsound(kind: Kind, block: u64, next: u64) -> String {
    format!(
        "the {} id counter of block {block} is {next}, outside its block",
        kind.counter()
    )
}

/// Every unsound id-block row (`roster check`), with its kind, said as
/// [`sound`] says it.
pub(crate) fn problems(s: &Snapshot<'_>) -> Result<Vec<(Kind, String)>> {
    let mut out = Vec::new();
    for kind in Kind::ALL {
        rows(s, kind, false, |block, next| {
            if sound(kind, block, next).is_err() {
                out.push((kind, unsound(kind, block, next)));
            }
            Ok(true)
        })?;
    }
    Ok(out)
}

/// Every block of `kind` but the last whose counter is not above the ids
/// of its own block that `ids` holds, in words (`roster check`): a handle
/// that goes on in that block would give an id a record holds. (The last
/// block's counter is checked against every id by the caller; an unsound
/// row is [`problems`]'.)
pub(crate) fn behind_in_their_blocks(
    s: &Snapshot<'_>,
    kind: Kind,
    ids: impl IntoIterator<Item = u64>,
) -> Result<Vec<String>> {
    let mut top: std::collections::BTreeMap<u64, u64> = std::collections::BTreeMap::new();
    for id in ids {
        let highest = top.entry(id / BLOCK).or_insert(id);
        *highest = (*highest).max(id);
    }
    let mut counters = Vec::new();
    rows(s, kind, false, |block, next| {
        counters.push((block, next));
        Ok(true)
    })?;
    counters.pop();
    Ok(counters
        .into_iter()
        .filter(|&(block, next)| sound(kind, block, next).is_ok())
        .filter_map(|(block, next)| {
            let highest = *top.get(&block)?;
            (next <= highest).then(|| {
                format!(
                    "the {} id counter of block {block} is {next}, not above id {highest} of \
                     its block",
                    kind.counter()
                )
            })
        })
        .collect())
}

/// The last block of `kind` in use and its next id; `None` before the
/// first id of the kind.
fn last_block(s: &Snapshot<'_>, kind: Kind) -> Result<Option<(u64, u64)>> {
    let mut last = None;
    blocks(s, kind, true, |block, next| {
        last = Some((block, next));
        false
    })?;
    Ok(last)
}

/// Visits the blocks of `kind` in use, each with its next id, in block
/// order (`reverse`: last first) while `visit` says go on; an unsound row
/// is an error ([`sound`]).
fn blocks(
    s: &Snapshot<'_>,
    kind: Kind,
    reverse: bool,
    mut visit: impl FnMut(u64, u64) -> bool,
) -> Result<()> {
    rows(s, kind, reverse, |block, next| {
        Ok(visit(block, sound(kind, block, next)?))
    })
}

/// Visits the rows of `kind` as stored, (block, next), unchecked.
fn rows(
    s: &Snapshot<'_>,
    kind: Kind,
    reverse: bool,
    mut visit: impl FnMut(u64, u64) -> Result<bool>,
) -> Result<()> {
    s.scan(
        ID_BLOCKS,
        Bound::Included(&(kind as u8, 0)),
        Bound::Included(&(kind as u8, u64::MAX)),
        reverse,
        |(_, block), next| visit(block, next),
    )
}

/// The next id of `kind`; ids are never reused.
pub(crate) fn next(txn: &Txn<'_>, kind: Kind) -> Result<u64> {
    Ok(next_n(txn, kind, 1)?[0])
}

/// The block a handle took its last ids of each kind from (by the kind's
/// byte), and whether it claimed it ([`claim`]) or found it the last one in
/// use.
pub(crate) type OwnBlocks = std::collections::HashMap<u8, Taken>;

/// A block a handle takes ids from ([`OwnBlocks`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Taken {
    block: u64,
    /// Claimed by the handle: no other takes ids from it.
    own: bool,
    /// The id after the last the handle took from it (another process
    /// may have taken more since, from a block it shares).
    next: u64,
}

/// The first id of `block`.
fn first_of(block: u64) -> u64 {
    if block == 0 { 1 } else { block * BLOCK }
}

/// Where the next id of `kind` comes from: (block, next id), `None` before
/// the kind's first id.
fn start(txn: &Txn<'_>, kind: Kind) -> Result<Option<(u64, u64)>> {
    let Some(blocks) = &txn.blocks else {
        return last_block(txn, kind);
    };
    // The block the handle took ids from last, while it has room: its own,
    // or a shared one as long as no write of the handle lost a race on it.
    let mine = blocks.borrow().get(&(kind as u8)).copied();
    if let Some(Taken { block, own, .. }) = mine
        && (own || !txn.contended)
        && let Some(next) = txn.get(ID_BLOCKS, &(kind as u8, block))?
        && sound(kind, block, next)? < (block + 1) * BLOCK
    {
        return Ok(Some((block, next)));
    }
    match txn.contended {
        // This write lost a race: a block of the handle's own.
        true => Ok(Some(claim(txn, kind)?)),
        false => last_block(txn, kind),
    }
}

/// A new block of the handle's own for `kind`: the one after every block
/// in use (its row is written with the first id taken from it).
fn claim(txn: &Txn<'_>, kind: Kind) -> Result<(u64, u64)> {
    let block = last_block(txn, kind)?.map_or(0, |(b, _)| b + 1);
    if let Some(blocks) = &txn.blocks {
        blocks.borrow_mut().insert(
            kind as u8,
            Taken {
                block,
                own: true,
                next: first_of(block),
            },
        );
    }
    Ok((block, first_of(block)))
}

/// The next `n` ids of `kind`, ascending (a bulk import's): one read, and
/// one write per block they come from; none for none (a create without
/// memberships reads no counter of theirs).
pub(crate) fn next_n(txn: &Txn<'_>, kind: Kind, n: usize) -> Result<Vec<u64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let mut at = start(txn, kind)?;
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        let (block, id) = match at {
            None => (0, 1),
            Some((block, next)) if next < (block + 1) * BLOCK => (block, next),
            // A full block of the handle's own: the next free one.
            Some((block, next)) if txn.blocks.is_some() => {
                txn.put(ID_BLOCKS, &(kind as u8, block), &next)?;
                claim(txn, kind)?
            }
            Some((block, _)) => (block + 1, (block + 1) * BLOCK),
        };
        if id > MAX_ID {
            return Err(Error::new(ErrorCode::Internal, "no ids left"));
        }
        if at.is_some_and(|(b, _)| b != block) {
            // The block before is full: its row says so.
            let (full, next) = at.expect("checked");
            txn.put(ID_BLOCKS, &(kind as u8, full), &next)?;
        }
        ids.push(id);
        at = Some((block, id + 1));
    }
    if let Some((block, next)) = at {
        txn.put(ID_BLOCKS, &(kind as u8, block), &next)?;
        // The next ids come from here too while it has room: one point
        // read, which a write can hint ([`will_take`]), not a scan.
        if let Some(blocks) = &txn.blocks {
            let mut blocks = blocks.borrow_mut();
            let own = blocks
                .get(&(kind as u8))
                .is_some_and(|t| t.own && t.block == block);
            blocks.insert(kind as u8, Taken { block, own, next });
        }
    }
    Ok(ids)
}

/// `reads` with the row the next id of `kind` comes from when the handle
/// knows it ([`Txn::will_read`]).
pub(crate) fn will_take(txn: &Txn<'_>, kind: Kind, reads: Reads) -> Reads {
    let mine = txn
        .blocks
        .as_ref()
        .and_then(|blocks| blocks.borrow().get(&(kind as u8)).copied());
    match mine {
        Some(Taken { block, .. }) => reads.of(ID_BLOCKS, &(kind as u8, block)),
        None => reads,
    }
}

/// The `n` ids of `kind` the handle expects to take next, as far as it
/// knows (from the ids it took last; another process may have taken some
/// of them since): for hints ([`Txn::will_read`]) that cannot wait for the
/// id counter's row. `None` when the handle has taken none yet, or they
/// would not all come from that block.
pub(crate) fn expected(txn: &Txn<'_>, kind: Kind, n: usize) -> Option<Vec<u64>> {
    let Taken { block, next, .. } = *txn.blocks.as_ref()?.borrow().get(&(kind as u8))?;
    let end = next.checked_add(n as u64)?;
    (end <= (block + 1).saturating_mul(BLOCK)).then(|| (next..end).collect())
}

/// The next id of `kind` when no more are given: above every id given.
pub(crate) fn given(s: &Snapshot<'_>, kind: Kind) -> Result<u64> {
    Ok(last_block(s, kind)?.map_or(1, |(_, next)| next))
}

/// Whether `kind` has given any id.
pub(crate) fn has_given(s: &Snapshot<'_>, kind: Kind) -> Result<bool> {
    Ok(last_block(s, kind)?.is_some())
}

/// The kind whose counter is named `name` (an export's counters).
pub(crate) fn kind_named(name: &str) -> Option<Kind> {
    Kind::ALL.into_iter().find(|k| k.counter() == name)
}

/// Makes every later id of `kind` at least `next` (a restore's counters):
/// in every block, not only the last, since a handle goes on with the
/// block it took its last ids from (records restored with ids of that
/// block must not meet the ones it gives next).
pub(crate) fn raise(txn: &Txn<'_>, kind: Kind, next: u64) -> Result<()> {
    if next > MAX_ID + 1 {
        // A restore refuses such a counter first; a format 1-3 store's
        // counter past every id roster gives is damage.
        return Err(Error::new(
            ErrorCode::Corrupt,
            format!(
                "the store is damaged: the {} id counter {next} is past the highest id; run `roster check`",
                kind.counter()
            ),
        ));
    }
    let mut behind = Vec::new();
    blocks(txn, kind, false, |block, at| {
        let raised = next.min((block + 1).saturating_mul(BLOCK));
        if at < raised {
            behind.push((block, raised));
        }
        true
    })?;
    for (block, raised) in behind {
        txn.put(ID_BLOCKS, &(kind as u8, block), &raised)?;
    }
    if given(txn, kind)? < next {
        let block = next.saturating_sub(1) / BLOCK;
        txn.put(ID_BLOCKS, &(kind as u8, block), &next)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::backend::{Backend, Reader, Writer};
    use crate::store::{ModelBackend, Store};
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    /// A backend of several processes whose next write loses a race once
    /// when `race` is set: the closure runs, is rolled back, and runs again
    /// (what PostgreSQL's backend does on a serialization failure).
    #[derive(Debug, Default)]
    struct Racing {
        inner: ModelBackend,
        race: AtomicBool,
    }

    impl Backend for Racing {
        fn read(&self, f: &mut dyn FnMut(&dyn Reader) -> Result<()>) -> Result<()> {
            self.inner.read(f)
        }

        fn write(&self, f: &mut dyn FnMut(&dyn Writer) -> Result<()>) -> Result<()> {
            if self.race.swap(false, std::sync::atomic::Ordering::SeqCst) {
                let lost = self.inner.write(&mut |w| {
                    f(w)?;
                    Err(Error::new(ErrorCode::Conflict, "lost a race"))
                });
                assert!(lost.is_err());
            }
            self.inner.write(f)
        }

        fn engine(&self) -> &'static str {
            "racing"
        }

        fn own_id_blocks(&self) -> bool {
            true
        }
    }

    impl Racing {
        /// Makes the next write lose a race once.
        fn lose_next(&self) {
            self.race.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// A racing backend and two handles on it.
    fn two_handles() -> (Arc<Racing>, Store, Store) {
        let backend = Arc::new(Racing::default());
        let one = Store::on(backend.clone()).unwrap();
        let other = Store::on(backend.clone()).unwrap();
        (backend, one, other)
    }

    /// The next user id `store` takes, in a write of its own.
    fn id(store: &Store) -> u64 {
        store.write(|txn| next(txn, Kind::User)).unwrap()
    }

    #[test]
    fn a_handle_that_loses_a_race_takes_a_block_of_its_own() {
        let (backend, one, other) = two_handles();
        // Without a race, every handle goes on with the last block: 1, 2, 3.
        assert_eq!([id(&one), id(&other), id(&one)], [1, 2, 3]);
        // `other` loses one: it claims the next block and keeps to it.
        backend.lose_next();
        assert_eq!(id(&other), BLOCK);
        assert_eq!(id(&other), BLOCK + 1);
        // Losing another race there changes nothing: the block is its own.
        backend.lose_next();
        assert_eq!(id(&other), BLOCK + 2);
        // `one` goes on with the block it took its last id from, which has
        // room (not with `other`'s, the last in use), until it loses a race
        // there and claims the block after every block in use.
        assert_eq!(id(&one), 4);
        backend.lose_next();
        assert_eq!(id(&one), 2 * BLOCK);
        assert_eq!(id(&other), BLOCK + 3);
        // A handle that has taken no id yet starts with the last block.
        let third = Store::on(backend.clone()).unwrap();
        assert_eq!(id(&third), 2 * BLOCK + 1);
        assert_eq!(id(&one), 2 * BLOCK + 2);
        // A bulk take that fills a claimed block goes on in a new one.
        one.write(|txn| txn.put(ID_BLOCKS, &(Kind::User as u8, 2), &(3 * BLOCK - 1)))
            .unwrap();
        let ids = one.write(|txn| next_n(txn, Kind::User, 2)).unwrap();
        assert_eq!(ids, [3 * BLOCK - 1, 3 * BLOCK]);
        assert_eq!(id(&one), 3 * BLOCK + 1);
        // A full block of the handle's own below others in use: the next
        // ids come from a new block past them all, not from the block
        // after it (`one`'s).
        other
            .write(|txn| txn.put(ID_BLOCKS, &(Kind::User as u8, 1), &(2 * BLOCK - 1)))
            .unwrap();
        let ids = other.write(|txn| next_n(txn, Kind::User, 2)).unwrap();
        assert_eq!(ids, [2 * BLOCK - 1, 4 * BLOCK]);
        assert_eq!(id(&other), 4 * BLOCK + 1);
        assert_eq!(id(&one), 3 * BLOCK + 2);
    }

    /// A counter row outside its block, or of a block past every id, or
    /// past the highest id in the last block, is damage, named by the id it
    /// would give and by `roster check`: never id 0, an id of another
    /// block, an id past [`MAX_ID`], or arithmetic that overflows.
    #[test]
    fn an_unsound_counter_row_is_damage() {
        let user = Kind::User as u8;
        for (block, next) in [
            (0, 0),
            (0, BLOCK + 1),
            (0, u64::MAX),
            (2, BLOCK),
            (LAST_BLOCK + 1, (LAST_BLOCK + 1) * BLOCK + 1),
            (LAST_BLOCK, MAX_ID + 2),
            (u64::MAX, 5),
        ] {
            let store = Store::in_memory().unwrap();
            assert_eq!(id(&store), 1);
            store
                .write(|txn| txn.put(ID_BLOCKS, &(user, block), &next))
                .unwrap();
            let e = store
                .write(|txn| next_n(txn, Kind::User, 1))
                .expect_err("damage");
            let said = format!("the user id counter of block {block} is {next}, outside its block");
            assert_eq!(e.code(), ErrorCode::Corrupt, "{e:?}");
            assert!(e.message().contains(&said), "{e:?}");
            let problems = store.reading(problems).unwrap();
            assert_eq!(problems, [(Kind::User, said)]);
            let checked = store.reading(crate::store::integrity::check).unwrap();
            assert!(
                checked.iter().any(|p| p.contains("outside its block")),
                "{checked:?}"
            );
        }
        // The edges of a sound row: a block's first id, its end (full), and
        // the block holding the highest id, and that id given.
        let edges = [
            (0, 1),
            (0, BLOCK),
            (1, BLOCK),
            (LAST_BLOCK, MAX_ID),
            (LAST_BLOCK, MAX_ID + 1),
        ];
        for (block, next) in edges {
            assert_eq!(sound(Kind::User, block, next).ok(), Some(next));
        }
    }

    /// No id past [`MAX_ID`] is given, and no counter past it is taken.
    #[test]
    fn ids_stop_at_the_highest() {
        let store = Store::in_memory().unwrap();
        store.write(|txn| raise(txn, Kind::User, MAX_ID)).unwrap();
        assert_eq!(id(&store), MAX_ID);
        let e = store
            .write(|txn| next(txn, Kind::User))
            .expect_err("none left");
        assert_eq!(e.message(), "no ids left");
        let e = store
            .write(|txn| raise(txn, Kind::Batch, MAX_ID + 2))
            .expect_err("past the highest");
        assert_eq!(e.code(), ErrorCode::Corrupt, "{e:?}");
        store
            .write(|txn| raise(txn, Kind::Batch, MAX_ID + 1))
            .unwrap();
    }

    /// A restore's counters hold for every block a handle may go on with,
    /// not only the last one: no id below them is given again.
    #[test]
    fn raised_counters_hold_in_every_block() {
        let (backend, one, other) = two_handles();
        assert_eq!(id(&one), 1);
        backend.lose_next();
        assert_eq!(id(&other), BLOCK);
        // Restored records reach into `other`'s block.
        one.write(|txn| raise(txn, Kind::User, BLOCK + 10)).unwrap();
        assert_eq!(id(&other), BLOCK + 10);
        // `one`'s block is full below the counter: it goes on with the last.
        assert_eq!(id(&one), BLOCK + 11);
        // A lower counter changes nothing, and a block past it keeps its own.
        one.write(|txn| raise(txn, Kind::User, 5)).unwrap();
        assert_eq!(id(&other), BLOCK + 12);
        let rows = one
            .reading(|s| {
                let mut rows = Vec::new();
                s.scan(
                    ID_BLOCKS,
                    Bound::Unbounded,
                    Bound::Unbounded,
                    false,
                    |k, v| {
                        rows.push((k, v));
                        Ok(true)
                    },
                )?;
                Ok(rows)
            })
            .unwrap();
        let user = Kind::User as u8;
        assert_eq!(rows, [((user, 0), BLOCK), ((user, 1), BLOCK + 13)]);
    }
}
