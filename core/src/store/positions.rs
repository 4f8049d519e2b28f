//! Positions in a record table: page N of a list in a few reads instead of
//! walking N pages.
//!
//! The backends have no "the k-th key" operation, so roster keeps counts of
//! the listed records per block of ids at four levels: per 16, 256, 4,096
//! and 65,536 ids (`counts[(table, level, block)]`). Finding the record at
//! position `k` sums the top-level counts to the right 65,536-block, then
//! at most 16 counts on each level below, then skips fewer than 16 listed
//! records: at a million users, under 80 rows read for any page. Counts
//! live per block of ids, so concurrent inserts in different id blocks
//! (Step 9's per-process blocks) write different rows.
//!
//! Users, courses and groups count every record. Batches count only the
//! ordinary ones, the batches their list shows: a course's hidden batch is
//! in the table but never listed ([`crate::domain::Batch::is_local`]).

use super::keys::Def;
use super::tables::{BATCHES, COURSES, GROUPS, Records, USERS};
use super::{Reads, Snapshot, Txn};
use crate::error::{Error, ErrorCode, Result};
use std::ops::Bound;

/// (table, level, block) -> records in the block.
pub(crate) const COUNTS: Def<(u8, u8, u64), u64> = Def::new("counts");

/// Id bits per block at each level, lowest first.
const SHIFT: [u32; 4] = [4, 8, 12, 16];

/// The tag of a counted table, `None` for one without positions.
pub(crate) fn tag(def: Records) -> Option<u8> {
    [USERS, BATCHES, COURSES, GROUPS]
        .iter()
        .position(|t| t.name == def.name)
        .map(|i| i as u8 + 1)
}

/// Whether the counts of `def` count every record of it (all but batches,
/// which count only the listed ones).
pub(crate) fn counts_every_record(def: Records) -> bool {
    tag(def).is_some() && def.name != BATCHES.name
}

/// Counts record `id` of `def` in (`delta` = 1) or out (`delta` = -1).
pub(crate) fn count(txn: &Txn<'_>, def: Records, id: u64, delta: i8) -> Result<()> {
    count_many(txn, def, &[id], delta)
}

/// Counts records `ids` of `def` in (`delta` = 1) or out (`delta` = -1):
/// each count changed once, however many of the ids share its block.
pub(crate) fn count_many(txn: &Txn<'_>, def: Records, ids: &[u64], delta: i8) -> Result<()> {
    let Some(tag) = tag(def) else { return Ok(()) };
    let changes = counts_of(tag, ids);
    // One read for every count (a round trip on a server backend).
    let keys: Vec<&(u8, u8, u64)> = changes.keys().collect();
    let nows = txn.get_many(COUNTS, &keys)?;
    for ((key, n), now) in changes.iter().zip(nows) {
        let (key, n, now) = (*key, *n, now.unwrap_or(0));
        let next = if delta > 0 {
            now + n
        } else {
            now.checked_sub(n).ok_or_else(|| {
                Error::new(
                    ErrorCode::Corrupt,
                    "the store is damaged: a record count is below its records; run `roster check`",
                )
            })?
        };
        if next == 0 {
            txn.remove(COUNTS, &key)?;
        } else {
            txn.put(COUNTS, &key, &next)?;
        }
    }
    Ok(())
}

/// The count rows that `ids` of the table tagged `tag` fall in, each with
/// how many of them it holds.
fn counts_of(tag: u8, ids: &[u64]) -> std::collections::BTreeMap<(u8, u8, u64), u64> {
    let mut changes: std::collections::BTreeMap<(u8, u8, u64), u64> = Default::default();
    for id in ids {
        for (level, shift) in SHIFT.iter().enumerate() {
            *changes.entry((tag, level as u8, id >> shift)).or_default() += 1;
        }
    }
    changes
}

/// `reads` with the count rows [`count_many`] reads for `ids` of `def`
/// ([`Txn::will_read`]).
pub(crate) fn will_count(def: Records, ids: &[u64], reads: Reads) -> Reads {
    match tag(def) {
        Some(tag) => counts_of(tag, ids)
            .keys()
            .fold(reads, |r, key| r.of(COUNTS, key)),
        None => reads,
    }
}

/// How many records `def` holds: the sum of its top-level counts (a few
/// rows), `None` for a table without positions.
pub(crate) fn total(s: &Snapshot<'_>, def: Records) -> Result<Option<u64>> {
    let Some(tag) = tag(def) else {
        return Ok(None);
    };
    let top = (SHIFT.len() - 1) as u8;
    let mut total = 0u64;
    s.scan(
        COUNTS,
        Bound::Included(&(tag, top, 0)),
        Bound::Included(&(tag, top, u64::MAX)),
        false,
        |_, n| {
            total = total.saturating_add(n);
            Ok(true)
        },
    )?;
    Ok(Some(total))
}

/// Where the record at position `offset` (from 0, ascending id) of `def`
/// is: the lowest id to scan from and how many counted records to skip there.
pub(crate) fn seek(s: &Snapshot<'_>, def: Records, offset: u64) -> Result<(u64, u64)> {
    let Some(tag) = tag(def) else {
        return Ok((0, offset));
    };
    if offset == 0 {
        // The first record: a scan from the lowest id finds it, with no
        // count read (a list's first page, the one asked most).
        return Ok((0, 0));
    }
    let mut left = offset;
    let mut from = 0u64;
    for level in (0..SHIFT.len()).rev() {
        let shift = SHIFT[level];
        let first = from >> shift;
        let last = match SHIFT.get(level + 1) {
            None => u64::MAX >> shift,
            // Within the block found a level up.
            Some(up) => first | ((1 << (up - shift)) - 1),
        };
        let level = level as u8;
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

/// The counts a table should have, from the ids of its counted records.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::user::User;
    use crate::store::{Store, Txn, read, write};

    /// Stores a blank user under each of `ids`.
    fn put_users(txn: &Txn<'_>, ids: &[u64]) -> Result<()> {
        for id in ids {
            let mut user = User::blank(*id, &format!("u{id}"));
            user.uuid = u128::from(*id);
            write::put_user(txn, None, &user)?;
        }
        Ok(())
    }

    /// Every offset of a table whose ids spread over blocks of every level
    /// (and with holes) finds the record a plain walk finds.
    #[test]
    fn every_position_is_found_across_blocks_of_every_level() {
        let store = Store::in_memory().unwrap();
        let ids: Vec<u64> = (1..=300)
            .chain(4090..4100)
            .chain(65_530..65_545)
            .chain([70_000, 200_000, 1 << 20])
            .collect();
        store
            .write(|txn| {
                put_users(txn, &ids)?;
                for id in [5u64, 256, 4095, 65_536] {
                    if let Some(user) = read::user(txn, id)? {
                        write::delete_user(txn, &user)?;
                    }
                }
                Ok(())
            })
            .unwrap();
        let kept: Vec<u64> = ids
            .iter()
            .copied()
            .filter(|id| ![5, 256, 4095, 65_536].contains(id))
            .collect();
        store
            .reading(|s| {
                for (offset, want) in kept.iter().enumerate() {
                    let page: Vec<User> = read::records_page(s, USERS, offset as u64, 3)?;
                    let got: Vec<u64> = page.iter().map(|u| u.id).collect();
                    let expect: Vec<u64> = kept.iter().skip(offset).take(3).copied().collect();
                    assert_eq!(got, expect, "offset {offset} (id {want})");
                }
                let past: Vec<User> = read::records_page(s, USERS, kept.len() as u64, 3)?;
                assert!(past.is_empty());
                Ok(())
            })
            .unwrap();
    }

    /// Batches count only the listed ones: a page of them starts at the
    /// right batch for every offset, with course batches between them and
    /// batches of both kinds deleted, and the count is of listed batches.
    #[test]
    fn listed_pages_pass_over_the_batches_a_list_does_not_show() {
        use crate::domain::Batch;
        use crate::store::tables::BATCHES;
        let store = Store::in_memory().unwrap();
        let ids: Vec<u64> = (1..=300).chain(4090..4120).chain([70_000]).collect();
        let batch = |id: u64| Batch {
            id,
            uuid: u128::from(id),
            name: format!("b{id}"),
            // Every third one is a course's hidden batch.
            course: id.is_multiple_of(3).then_some(id),
            created: 0,
            modified: 0,
        };
        let gone = [6u64, 7, 4095, 4096, 70_000];
        store
            .write(|txn| {
                for id in &ids {
                    write::put_batch(txn, None, &batch(*id))?;
                }
                for id in gone {
                    write::delete_batch(txn, &batch(id))?;
                }
                Ok(())
            })
            .unwrap();
        let listed: Vec<u64> = ids
            .iter()
            .copied()
            .filter(|id| !id.is_multiple_of(3) && !gone.contains(id))
            .collect();
        store
            .reading(|s| {
                assert_eq!(read::count(s, BATCHES)?, listed.len() as u64);
                let counts: Vec<((u8, u8, u64), u64)> = s
                    .rows(COUNTS)?
                    .into_iter()
                    .filter(|((t, _, _), _)| Some(*t) == tag(BATCHES))
                    .collect();
                assert_eq!(counts, expected(BATCHES, listed.iter().copied()));
                for offset in 0..=listed.len() + 1 {
                    let page: Vec<Batch> =
                        read::listed_page(s, BATCHES, offset as u64, 4, |b: &Batch| !b.is_local())?;
                    let got: Vec<u64> = page.iter().map(|b| b.id).collect();
                    let want: Vec<u64> = listed.iter().skip(offset).take(4).copied().collect();
                    assert_eq!(got, want, "offset {offset}");
                }
                Ok(())
            })
            .unwrap();
    }

    /// A page that leaves some records out starts at the right record for
    /// every offset, whatever is left out: none, every 7th, a long run, the
    /// first and the last, or everything.
    #[test]
    fn pages_that_leave_records_out_start_where_a_plain_walk_does() {
        let store = Store::in_memory().unwrap();
        let ids: Vec<u64> = (1..=400).chain(65_530..65_545).chain([1 << 20]).collect();
        store.write(|txn| put_users(txn, &ids)).unwrap();
        let leave_out: Vec<Vec<u64>> = vec![
            Vec::new(),
            ids.iter().copied().filter(|id| id % 7 == 0).collect(),
            (100..=250).collect(),
            vec![1, 1 << 20],
            ids.clone(),
        ];
        store
            .reading(|s| {
                for except in &leave_out {
                    let kept: Vec<u64> = ids
                        .iter()
                        .copied()
                        .filter(|id| except.binary_search(id).is_err())
                        .collect();
                    for offset in 0..=kept.len() as u64 + 1 {
                        for limit in [1, 4] {
                            let page: Vec<User> =
                                read::records_page_except(s, USERS, offset, limit, except)?;
                            let got: Vec<u64> = page.iter().map(|u| u.id).collect();
                            let expect: Vec<u64> = kept
                                .iter()
                                .skip(offset as usize)
                                .take(limit)
                                .copied()
                                .collect();
                            assert_eq!(got, expect, "offset {offset}, {} left out", except.len());
                        }
                    }
                }
                Ok(())
            })
            .unwrap();
    }
}
