//! Positions in a record table: page N of a list in a few reads instead of
//! walking N pages.
//!
//! The backends have no "the k-th key" operation, so roster keeps counts of
//! the records per block of ids at two levels: per 256 ids and per 65,536
//! ids (`counts[(table, level, block)]`). Finding the record at position
//! `k` sums the level-1 counts to the right 65,536-block, then its level-0
//! counts to the right 256-block, then skips fewer than 256 keys: at a
//! million users, under 600 rows read for any page. Counts live per block
//! of ids, so concurrent inserts in different id blocks (Step 9's
//! per-process blocks) write different rows.

use super::keys::Def;
use super::tables::{Records, USERS};
use super::{Snapshot, Txn};
use crate::error::{Error, ErrorCode, Result};
use std::ops::Bound;

/// (table, level, block) -> records in the block.
pub(crate) const COUNTS: Def<(u8, u8, u64), u64> = Def::new("counts");

/// Id bits per block at each level.
const SHIFT: [u32; 2] = [8, 16];

/// The tag of a counted table, `None` for one without positions.
pub(crate) fn tag(def: Records) -> Option<u8> {
    (def.name == USERS.name).then_some(1)
}

/// Counts record `id` of `def` in (`delta` = 1) or out (`delta` = -1).
pub(crate) fn count(txn: &Txn<'_>, def: Records, id: u64, delta: i8) -> Result<()> {
    let Some(tag) = tag(def) else { return Ok(()) };
    for (level, shift) in SHIFT.iter().enumerate() {
        let key = (tag, level as u8, id >> shift);
        let now = txn.get(COUNTS, &key)?.unwrap_or(0);
        let next = if delta > 0 {
            now + 1
        } else {
            now.checked_sub(1).ok_or_else(|| {
                Error::new(
                    ErrorCode::Corrupt,
                    "the store is damaged: a record count is below its records; run `roster check`",
                )
            })?
        };
        if next == 0 {
            txn.delete(COUNTS, &key)?;
        } else {
            txn.put(COUNTS, &key, &next)?;
        }
    }
    Ok(())
}

/// Where the record at position `offset` (from 0, ascending id) of `def`
/// is: the lowest id to scan from and how many records to skip there.
pub(crate) fn seek(s: &Snapshot<'_>, def: Records, offset: u64) -> Result<(u64, u64)> {
    let Some(tag) = tag(def) else {
        return Ok((0, offset));
    };
    let mut left = offset;
    let mut from = 0u64;
    for level in [1u8, 0] {
        let shift = SHIFT[level as usize];
        let first = from >> shift;
        let last = if level == 1 {
            u64::MAX >> shift
        } else {
            // Within the 65,536-block found above.
            first | ((1 << (SHIFT[1] - SHIFT[0])) - 1)
        };
        let mut found = None;
        s.scan(
            COUNTS,
            Bound::Included(&(tag, level, first)),
            Bound::Included(&(tag, level, last)),
            false,
            |(_, _, block), n| {
                if left < n {
                    found = Some(block);
                    return Ok(false);
                }
                left -= n;
                Ok(true)
            },
        )?;
        match found {
            Some(block) => from = block << shift,
            // Past the end: nothing to show.
            None => return Ok((u64::MAX, 0)),
        }
    }
    Ok((from, left))
}

/// The counts a table's records should have, from their ids.
pub(crate) fn expected(def: Records, ids: impl Iterator<Item = u64>) -> Vec<((u8, u8, u64), u64)> {
    let Some(tag) = tag(def) else {
        return Vec::new();
    };
    let mut out = std::collections::BTreeMap::new();
    for id in ids {
        for (level, shift) in SHIFT.iter().enumerate() {
            *out.entry((tag, level as u8, id >> shift)).or_insert(0) += 1;
        }
    }
    out.into_iter().collect()
}
