//! Record ids: never reused, and never from one key every insert writes.
//!
//! Ids of each entity kind are handed out from blocks of [`BLOCK`] ids; the
//! row `id_blocks[(kind, block)]` holds the next id of that block. An
//! insert writes only its block's row, and a store has one block in use
//! per kind today, so ids run 1, 2, 3… as before. The PostgreSQL backend
//! (Step 9) gives each process a block of its own, so concurrent inserts
//! from different processes write different rows and do not conflict.

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

/// The next `n` ids of `kind`, ascending (a bulk import's): one read, and
/// one write per block they come from.
pub(crate) fn next_n(txn: &Txn<'_>, kind: Kind, n: usize) -> Result<Vec<u64>> {
    let mut at = last_block(txn, kind)?;
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        let (block, id) = match at {
            None => (0, 1),
            Some((block, next)) if next < (block + 1) * BLOCK => (block, next),
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
