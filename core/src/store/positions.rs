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
//! Users, courses, groups and (from format 14) organisations count every
//! record. Batches count only the
//! ordinary ones, the batches their list shows: a course's hidden batch is
//! in the table but never listed ([`crate::domain::Batch::is_local`]).

use super::keys::Def;
use super::tables::{BATCHES, COURSES, GROUPS, ORGANISATIONS, Records, USERS};
use super::{Reads, Snapshot, Txn};
use crate::error::{Error, ErrorCode, Result};
use std::ops::Bound;

/// (table, level, block) -> records in the block.
pub(crate) const COUNTS: Def<(u8, u8, u64), u64> = Def::new("counts");

/// Id bits per block at each level, lowest first.
const SHIFT: [u32; 4] = [4, 8, 12, 16];

/// The tag of a counted table, `None` for one without positions.
pub(crate) fn tag(def: Records) -> Option<u8> {
    [USERS, BATCHES, COURSES, GROUPS, ORGANISATIONS]
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
    let changes = counts_of(tag, ids.iter().copied());
    // One read for every count (a round trip on a server backend).
    let keys: Vec<&(u8, u8, u64)> = changes.keys().collect();
    let nows = txn.get_many(COUNTS, &keys)?;
    for ((key, n), now) in changes.iter().zip(nows) {
        let (key, n, now) = (*key, *n, now.unwrap_or(0));
        // A stored count is only ever as large as the ids of its block: one
        // that overflows, or is below the records counted out, is damage.
        let next = match delta > 0 {
            true => now.checked_add(n),
            false => now.checked_sub(n),
        }
        .ok_or_else(|| {
            Error::new(
                ErrorCode::Corrupt,
                "the store is damaged: a record count disagrees with its records; run `roster check`",
            )
        })?;
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
fn counts_of(
    tag: u8,
    ids: impl Iterator<Item = u64>,
) -> std::collections::BTreeMap<(u8, u8, u64), u64> {
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
        Some(tag) => counts_of(tag, ids.iter().copied())
            .keys()
            .fold(reads, |r, key| r.of(COUNTS, key)),
        None => reads,
    }
}

/// A table's size and its top-level counts, read once for a page: its
/// count and where it starts come from the same rows (on a server backend,
/// one round trip where they took two, and none for each further seek of
/// [`crate::store::read::records_page_except`]'s search).
#[derive(Debug)]
pub(crate) struct Counted {
    def: Records,
    /// The table's tag and its top-level `(block, count)` rows, ascending;
    /// `None` for a table without positions.
    top: Option<(u8, Vec<(u64, u64)>)>,
    total: u64,
}

impl Counted {
    /// The table counted.
    pub(crate) fn def(&self) -> Records {
        self.def
    }

    /// How many records the table holds (listed ones, for batches).
    pub(crate) fn total(&self) -> u64 {
        self.total
    }
}

/// [`Counted`] of `def`: the sum of its top-level counts (a few rows), or
/// the backend's count of a table without positions.
pub(crate) fn counted(s: &Snapshot<'_>, def: Records) -> Result<Counted> {
    let Some(tag) = tag(def) else {
        return Ok(Counted {
            def,
            top: None,
            total: s.len(def)?,
        });
    };
    let top = (SHIFT.len() - 1) as u8;
    let mut rows = Vec::new();
    let mut total = 0u64;
    s.scan(
        COUNTS,
        Bound::Included(&(tag, top, 0)),
        Bound::Included(&(tag, top, u64::MAX)),
        false,
        |(_, _, block), n| {
            total = total.saturating_add(n);
            rows.push((block, n));
            Ok(true)
        },
    )?;
    Ok(Counted {
        def,
        top: Some((tag, rows)),
        total,
    })
}

/// Where the record at position `offset` (from 0, ascending id) of the
/// table `counted` counts is: the lowest id to scan from, how many counted
/// records to skip there, and the id below which those and the record
/// itself lie ([`Seek`]).
pub(crate) fn seek(s: &Snapshot<'_>, counted: &Counted, offset: u64) -> Result<Seek> {
    let anywhere = |from, skip| Seek {
        from,
        skip,
        end: u64::MAX,
    };
    let Some((tag, top)) = &counted.top else {
        return Ok(anywhere(0, offset));
    };
    if offset == 0 {
        // The first record: a scan from the lowest id finds it, with no
        // count read (a list's first page, the one asked most).
        return Ok(anywhere(0, 0));
    }
    let mut left = offset;
    let levels = SHIFT.len() - 1;
    // The top level from the rows already read; past the end, nothing to
    // show.
    let mut found = None;
    for &(block, n) in top {
        if left < n {
            found = Some((block, n));
            break;
        }
        left -= n;
    }
    let Some((block, mut parent)) = found else {
        return Ok(anywhere(u64::MAX, 0));
    };
    let mut from = block << SHIFT[levels];
    for level in (0..levels).rev() {
        let shift = SHIFT[level];
        let first = from >> shift;
        // Within the block found a level up: every one of its (at most
        // 16) counts is read, so that their sum is checked against the
        // block's own. A count too high or too low anywhere before the
        // record would otherwise move the page by that much, repeating or
        // skipping records without a word.
        let last = first | ((1 << (SHIFT[level + 1] - shift)) - 1);
        let mut found = None;
        let mut sum = 0u64;
        s.scan(
            COUNTS,
            Bound::Included(&(*tag, level as u8, first)),
            Bound::Included(&(*tag, level as u8, last)),
            false,
            |(_, _, block), n| {
                // More records than the block has ids: damage.
                if n > 1 << shift {
                    return Err(short_counts());
                }
                sum = sum.saturating_add(n);
                if found.is_none() {
                    if left < n {
                        found = Some((block, n));
                    } else {
                        left -= n;
                    }
                }
                Ok(true)
            },
        )?;
        // Counts that do not add up to the level above's.
        match found {
            Some((block, n)) if sum == parent => {
                from = block << shift;
                parent = n;
            }
            _ => return Err(short_counts()),
        }
    }
    Ok(Seek {
        from,
        skip: left,
        end: from.saturating_add(1 << SHIFT[0]),
    })
}

/// Where a page starts ([`seek`]): scan from `from`, pass over `skip`
/// counted records, and the next is the one asked for. Where counts found
/// the block, `end` bounds it: those records all lie below it, or the
/// counts are damaged (one too high would repeat a record on the next page,
/// one too low skip one), and the scan says so rather than show a wrong
/// page ([`Seek::pass`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seek {
    pub(crate) from: u64,
    pub(crate) skip: u64,
    end: u64,
}

impl Seek {
    /// Whether the counted record `id`, the next a page's scan reaches, is
    /// passed over; an error where it lies past the block the counts gave
    /// while it still should be in it (passed over, or the first shown).
    pub(crate) fn pass(&mut self, id: u64) -> Result<bool> {
        if self.end != u64::MAX {
            if id >= self.end {
                return Err(short_counts());
            }
            if self.skip == 0 {
                // The record asked for is in the block: the rest of the
                // scan goes past it freely.
                self.end = u64::MAX;
            }
        }
        if self.skip > 0 {
            self.skip -= 1;
            return Ok(true);
        }
        Ok(false)
    }
}

/// A level's counts summing to less than the count of their block a level
/// up.
fn short_counts() -> Error {
    Error::new(
        ErrorCode::Corrupt,
        "the store is damaged: record counts disagree with each other; run `roster check`",
    )
}

/// The counts a table should have, from the ids of its counted records.
pub(crate) fn expected(def: Records, ids: impl Iterator<Item = u64>) -> Vec<((u8, u8, u64), u64)> {
    match tag(def) {
        Some(tag) => counts_of(tag, ids).into_iter().collect(),
        None => Vec::new(),
    }
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
                let users = read::counted(s, USERS)?;
                assert_eq!(users.total(), kept.len() as u64);
                for (offset, want) in kept.iter().enumerate() {
                    let page: Vec<User> = read::records_page(s, &users, offset as u64, 3)?;
                    let got: Vec<u64> = page.iter().map(|u| u.id).collect();
                    let expect: Vec<u64> = kept.iter().skip(offset).take(3).copied().collect();
                    assert_eq!(got, expect, "offset {offset} (id {want})");
                }
                let past: Vec<User> = read::records_page(s, &users, kept.len() as u64, 3)?;
                assert!(past.is_empty());
                Ok(())
            })
            .unwrap();
    }

    /// A count that a record would take past `u64::MAX`, or below 0, is
    /// damage, said as such: not a panic, not a count that wraps around.
    #[test]
    fn a_count_out_of_its_range_is_damage() {
        let tag = tag(USERS).unwrap();
        for (level, count, ids) in [
            (0u8, u64::MAX, 2u64..=2),
            (3, u64::MAX, 2..=2),
            (1, 0, 1..=1),
        ] {
            let store = Store::in_memory().unwrap();
            store.write(|txn| put_users(txn, &[1])).unwrap();
            store
                .write(|txn| txn.put(COUNTS, &(tag, level, 0), &count))
                .unwrap();
            let e = store
                .write(|txn| {
                    let ids: Vec<u64> = ids.clone().collect();
                    match count {
                        0 => count_many(txn, USERS, &ids, -1),
                        _ => put_users(txn, &ids),
                    }
                })
                .expect_err("damage");
            assert_eq!(e.code(), ErrorCode::Corrupt, "{e:?}");
            assert!(e.message().contains("a record count disagrees"), "{e:?}");
        }
    }

    /// Counts of one level that add up to less than their block's count a
    /// level up are damage, said as such, not an empty page.
    #[test]
    fn counts_that_disagree_between_levels_are_damage() {
        let store = Store::in_memory().unwrap();
        // Forty users in the first top-level block, twenty in the second:
        // the search within the first must not run on into the second's
        // counts.
        let ids: Vec<u64> = (1..=40).chain(65_537..65_557).collect();
        store.write(|txn| put_users(txn, &ids)).unwrap();
        let tag = tag(USERS).unwrap();
        store
            .write(|txn| txn.put(COUNTS, &(tag, 3, 0), &100))
            .unwrap();
        let e = store
            .reading(|s| {
                let users = read::counted(s, USERS)?;
                assert_eq!(users.total(), 120);
                read::records_page::<User>(s, &users, 50, 3)
            })
            .expect_err("a page past the lower levels' counts");
        assert_eq!(e.code(), ErrorCode::Corrupt, "{e:?}");
        // Past the top level's count: nothing to show, as before.
        let past = store
            .reading(|s| read::records_page::<User>(s, &read::counted(s, USERS)?, 120, 3))
            .unwrap();
        assert!(past.is_empty());
    }

    /// A block's count one too high puts the record asked for past the
    /// block the counts chose: the page would repeat the last record of
    /// the page before. The scan finds the record past the block and says
    /// so; so does a count above the block's number of ids.
    #[test]
    fn a_page_that_counts_put_past_their_block_is_damage() {
        let store = Store::in_memory().unwrap();
        let ids: Vec<u64> = (1..=40).collect();
        store.write(|txn| put_users(txn, &ids)).unwrap();
        let tag = tag(USERS).unwrap();
        let page = |offset: u64| {
            store.reading(|s| {
                let users = read::counted(s, USERS)?;
                let page = read::records_page::<User>(s, &users, offset, 20)?;
                Ok(page.iter().map(|u| u.id).collect::<Vec<_>>())
            })
        };
        assert_eq!(page(20).unwrap(), (21..=40).collect::<Vec<_>>());
        // Ids 1-15 are block 0: it counts 16.
        store
            .write(|txn| txn.put(COUNTS, &(tag, 0, 0), &16))
            .unwrap();
        let e = page(20).expect_err("a page that would repeat id 20");
        assert_eq!(e.code(), ErrorCode::Corrupt, "{e:?}");
        // More than a block has ids.
        store
            .write(|txn| txn.put(COUNTS, &(tag, 0, 0), &17))
            .unwrap();
        let e = page(20).expect_err("a count above the block's ids");
        assert_eq!(e.code(), ErrorCode::Corrupt, "{e:?}");
        // The first page needs no count, and reads as before.
        assert_eq!(page(0).unwrap(), (1..=20).collect::<Vec<_>>());
        // Two counts wrong by the same amount keep their sum: the record
        // asked for is then sought past the records of its block. With
        // users further on, the scan meets one of them still skipping.
        store.write(|txn| put_users(txn, &[100, 101, 102])).unwrap();
        store
            .write(|txn| {
                txn.put(COUNTS, &(tag, 0, 0), &15)?;
                txn.put(COUNTS, &(tag, 0, 1), &13)?;
                txn.put(COUNTS, &(tag, 0, 2), &12)
            })
            .unwrap();
        let e = page(38).expect_err("a record sought past its block");
        assert_eq!(e.code(), ErrorCode::Corrupt, "{e:?}");
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
                let batches = read::counted(s, BATCHES)?;
                assert_eq!(batches.total(), listed.len() as u64);
                let counts: Vec<((u8, u8, u64), u64)> = s
                    .rows(COUNTS)?
                    .into_iter()
                    .filter(|((t, _, _), _)| Some(*t) == tag(BATCHES))
                    .collect();
                assert_eq!(counts, expected(BATCHES, listed.iter().copied()));
                for offset in 0..=listed.len() + 1 {
                    let page: Vec<Batch> =
                        read::listed_page(s, &batches, offset as u64, 4, |b: &Batch| {
                            !b.is_local()
                        })?;
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
                let users = read::counted(s, USERS)?;
                for except in &leave_out {
                    let kept: Vec<u64> = ids
                        .iter()
                        .copied()
                        .filter(|id| except.binary_search(id).is_err())
                        .collect();
                    for offset in 0..=kept.len() as u64 + 1 {
                        for limit in [1, 4] {
                            let page: Vec<User> =
                                read::records_page_except(s, &users, offset, limit, except)?;
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
