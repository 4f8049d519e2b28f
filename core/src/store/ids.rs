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
use super::{Snapshot, Txn};
use crate::error::{Error, ErrorCode, Result};
use std::ops::Bound;

/// Ids per block.
pub(crate) const BLOCK: u64 = 1 << 24;

/// The last block of `kind` in use and its next id; `None` before the
/// first id of the kind.
fn last_block(s: &Snapshot<'_>, kind: Kind) -> Result<Option<(u64, u64)>> {
    let mut last = None;
    s.scan(
        ID_BLOCKS,
        Bound::Included(&(kind as u8, 0)),
        Bound::Included(&(kind as u8, u64::MAX)),
        true,
        |(_, block), next| {
            last = Some((block, next));
            Ok(false)
        },
    )?;
    Ok(last)
}

/// The next id of `kind`; ids are never reused.
pub(crate) fn next(txn: &Txn<'_>, kind: Kind) -> Result<u64> {
    Ok(next_n(txn, kind, 1)?[0])
}

/// A handle's own id block of each kind (by the kind's byte).
pub(crate) type OwnBlocks = std::collections::HashMap<u8, u64>;

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
    let mine = blocks.borrow().get(&(kind as u8)).copied();
    if let Some(block) = mine
        && let Some(next) = txn.get(ID_BLOCKS, &(kind as u8, block))?
        && next < (block + 1) * BLOCK
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
        blocks.borrow_mut().insert(kind as u8, block);
    }
    Ok((block, first_of(block)))
}

/// The next `n` ids of `kind`, ascending (a bulk import's): one read, and
/// one write per block they come from.
pub(crate) fn next_n(txn: &Txn<'_>, kind: Kind, n: usize) -> Result<Vec<u64>> {
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
        if id == u64::MAX {
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
    if let Some((block, next)) = at
        && n > 0
    {
        txn.put(ID_BLOCKS, &(kind as u8, block), &next)?;
    }
    Ok(ids)
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

/// Makes every later id of `kind` at least `next` (a restore's counters).
pub(crate) fn raise(txn: &Txn<'_>, kind: Kind, next: u64) -> Result<()> {
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

    #[test]
    fn a_handle_that_loses_a_race_takes_a_block_of_its_own() {
        let backend = Arc::new(Racing::default());
        let one = Store::on(backend.clone()).unwrap();
        let other = Store::on(backend.clone()).unwrap();
        let id = |store: &Store| store.write(|txn| next(txn, Kind::User)).unwrap();
        // Without a race, every handle goes on with the last block: 1, 2, 3.
        assert_eq!([id(&one), id(&other), id(&one)], [1, 2, 3]);
        // `other` loses one: it claims the next block and keeps to it.
        backend
            .race
            .store(true, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(id(&other), BLOCK);
        assert_eq!(id(&other), BLOCK + 1);
        // `one` now goes on with the last block in use, `other`'s, until it
        // loses a race there too and claims the block after.
        assert_eq!(id(&one), BLOCK + 2);
        backend
            .race
            .store(true, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(id(&one), 2 * BLOCK);
        assert_eq!(id(&other), BLOCK + 3);
        // A bulk take that fills a claimed block goes on in a new one.
        one.write(|txn| txn.put(ID_BLOCKS, &(Kind::User as u8, 2), &(3 * BLOCK - 1)))
            .unwrap();
        let ids = one.write(|txn| next_n(txn, Kind::User, 2)).unwrap();
        assert_eq!(ids, [3 * BLOCK - 1, 3 * BLOCK]);
        assert_eq!(id(&one), 3 * BLOCK + 1);
    }
}
