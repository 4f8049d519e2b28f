//! The change feed on PostgreSQL (issue 12, item 4): writers in two
//! institutes on one database commit concurrently while a reader follows
//! the feed; the reader sees every entry exactly once, in order, although
//! numbers are taken before commits finish. Without the feed's
//! transaction-scoped lock a later number could commit first and a reader
//! that had passed it would skip the earlier one for good.
//!
//! Needs a server, as `conformance.rs` says.

mod common;

use common::{fresh_schema, on, server};
use roster::store::backend::RowVisitor;
use roster::store::{Reader, Writer};
use roster::{Backend, BatchInput, Config, GroupInput, Institute};
use roster_postgres::{Options, PgBackend};
use std::collections::BTreeSet;
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[test]
fn a_reader_following_concurrent_writers_skips_nothing_and_sees_nothing_twice() {
    let Some(url) = server() else { return };
    let schema = fresh_schema(&url);
    let institutes = [on(&schema), on(&schema)];
    let (writers, each) = (4, 40);
    let done = AtomicBool::new(false);
    let read: Vec<u64> = std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let admin = institutes[0].operator();
            let (mut since, mut seen) = (0, Vec::new());
            loop {
                // Read the flag first: a page read after every writer is
                // done holds everything that is left.
                let last_round = done.load(Ordering::SeqCst);
                let page = admin.changes_since(since, 50).expect("page");
                seen.extend(page.changes.iter().map(|c| c.seq));
                since = page.next;
                if last_round && !page.more {
                    return seen;
                }
            }
        });
        let handles: Vec<_> = (0..writers)
            .map(|w| {
                let i = &institutes[w % 2];
                scope.spawn(move || {
                    (0..each)
                        .filter_map(|n| {
                            let name = Some(format!("w{w}-{n}"));
                            i.operator().create_batch(BatchInput { name }).err()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let failed: Vec<_> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect();
        // Set however the writers ended, so the reader always stops.
        done.store(true, Ordering::SeqCst);
        let read = reader.join().expect("reader");
        assert!(failed.is_empty(), "every write succeeds: {failed:?}");
        read
    });
    let all: Vec<u64> = institutes[1]
        .operator()
        .changes_since(0, 1000)
        .expect("the whole feed")
        .changes
        .iter()
        .map(|c| c.seq)
        .collect();
    assert_eq!(all.len(), writers * each, "one entry per batch");
    assert!(read.windows(2).all(|p| p[0] < p[1]), "in order, none twice");
    let (read, all): (BTreeSet<u64>, BTreeSet<u64>) =
        (read.into_iter().collect(), all.into_iter().collect());
    assert_eq!(read, all, "the reader saw exactly what the feed holds");
    assert_eq!(
        institutes[0].check_integrity().expect("check"),
        Vec::<String>::new()
    );
}

#[test]
fn purging_trims_only_old_entries_and_moves_the_floor() {
    let Some(url) = server() else { return };
    let schema = fresh_schema(&url);
    let clock = Arc::new(roster::FixedClock::new(
        "2024-01-01T00:00:00Z".parse().expect("instant"),
    ));
    let mut config = Config::default().with_clock(clock.clone());
    config.change_retention = chrono::Duration::days(1);
    let backend = PgBackend::with_config(schema, Options::default()).expect("backend");
    let i = Institute::open_with(Arc::new(backend), config).expect("institute");
    let admin = i.operator();
    for n in 0..3 {
        admin
            .create_batch(BatchInput {
                name: Some(format!("old {n}")),
            })
            .expect("batch");
    }
    let old = admin.changes_since(0, 10).expect("feed").next;
    clock.set("2024-01-03T00:00:00Z".parse().expect("instant"));
    admin
        .create_batch(BatchInput {
            name: Some("new".into()),
        })
        .expect("batch");
    // PostgreSQL trims only when asked (no write contends for the oldest
    // rows): the feed is whole until then.
    assert_eq!(admin.changes_since(0, 10).expect("feed").changes.len(), 4);
    assert_eq!(admin.purge_changes().expect("purge"), 3);
    let behind = admin.changes_since(0, 10).expect_err("behind the floor");
    assert!(behind.fields().has("since"), "{behind:?}");
    let page = admin.changes_since(old, 10).expect("from the floor");
    assert_eq!(page.changes.len(), 1);
}

/// A backend whose writes dawdle for `hold` after taking their feed
/// numbers, before committing: the widest window for a later write to
/// commit first. Test code only; every call goes to the real backend.
#[derive(Debug)]
struct Dawdling {
    inner: PgBackend,
    hold: std::time::Duration,
}

struct DawdlingWriter<'a> {
    inner: &'a dyn Writer,
    hold: std::time::Duration,
}

impl Reader for DawdlingWriter<'_> {
    fn get(&self, table: &str, key: &[u8]) -> roster::Result<Option<Vec<u8>>> {
        self.inner.get(table, key)
    }
    fn get_many(&self, table: &str, keys: &[&[u8]]) -> roster::Result<Vec<Option<Vec<u8>>>> {
        self.inner.get_many(table, keys)
    }
    fn scan(
        &self,
        table: &str,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        reverse: bool,
        visit: &mut RowVisitor<'_>,
    ) -> roster::Result<()> {
        self.inner.scan(table, lower, upper, reverse, visit)
    }
    fn len(&self, table: &str) -> roster::Result<u64> {
        self.inner.len(table)
    }
    fn table_names(&self) -> roster::Result<Vec<String>> {
        self.inner.table_names()
    }
}

impl Writer for DawdlingWriter<'_> {
    fn put(&self, table: &str, key: &[u8], value: &[u8]) -> roster::Result<()> {
        self.inner.put(table, key, value)
    }
    fn delete(&self, table: &str, key: &[u8]) -> roster::Result<bool> {
        self.inner.delete(table, key)
    }
    fn delete_many(&self, table: &str, keys: &[&[u8]]) -> roster::Result<u64> {
        self.inner.delete_many(table, keys)
    }
    fn change_seqs(&self, count: u64) -> roster::Result<Option<u64>> {
        let first = self.inner.change_seqs(count)?;
        std::thread::sleep(self.hold);
        Ok(first)
    }
}

impl Backend for Dawdling {
    fn read(&self, f: &mut dyn FnMut(&dyn Reader) -> roster::Result<()>) -> roster::Result<()> {
        self.inner.read(f)
    }
    fn write(&self, f: &mut dyn FnMut(&dyn Writer) -> roster::Result<()>) -> roster::Result<()> {
        let hold = self.hold;
        self.inner
            .write(&mut |w| f(&DawdlingWriter { inner: w, hold }))
    }
    fn engine(&self) -> &'static str {
        self.inner.engine()
    }
    fn own_id_blocks(&self) -> bool {
        self.inner.own_id_blocks()
    }
}

/// The race the feed's lock exists for, made certain: a write takes its
/// number and dawdles before committing; a second write, begun meanwhile in
/// another institute and sharing no row with the first, takes the next
/// number. Were the second to commit first, a reader between the two
/// commits would read past the first number before it was visible, and
/// never see it (or, where PostgreSQL then refuses the first write for the
/// race, see it after the second). Neither happens: the second write waits
/// for the first to commit. (Without the lock this test fails.)
#[test]
fn a_later_number_never_commits_before_an_earlier_one() {
    let Some(url) = server() else { return };
    let schema = fresh_schema(&url);
    let hold = std::time::Duration::from_millis(400);
    let slow = Dawdling {
        inner: PgBackend::with_config(schema.clone(), Options::default()).expect("backend"),
        hold,
    };
    let slow = Institute::open_with(Arc::new(slow), Config::default()).expect("institute");
    let fast = on(&schema);
    // Different kinds of record: the two writes share no row, so nothing
    // but the feed's lock orders their commits.
    let group = |i: &Institute, name: &str| {
        i.operator()
            .create_group(GroupInput {
                name: Some(name.into()),
                permissions: None,
            })
            .expect("group");
    };
    let batch = |i: &Institute, name: &str| {
        i.operator()
            .create_batch(BatchInput {
                name: Some(name.into()),
            })
            .expect("batch");
    };
    let seen = std::thread::scope(|scope| {
        let first = scope.spawn(|| group(&slow, "first"));
        // Well inside the first write's dawdle, after it took its number.
        std::thread::sleep(hold / 2);
        batch(&fast, "second");
        // A reader right after the second write returned.
        let page = fast.operator().changes_since(0, 10).expect("feed");
        first.join().expect("first write");
        let mut seen: Vec<String> = page
            .changes
            .iter()
            .map(|c| c.record.clone().unwrap_or_default())
            .collect();
        let rest = fast.operator().changes_since(page.next, 10).expect("feed");
        seen.extend(
            rest.changes
                .iter()
                .map(|c| c.record.clone().unwrap_or_default()),
        );
        seen
    });
    assert_eq!(seen.len(), 2, "the reader saw both entries: {seen:?}");
    assert!(
        seen[0].contains("\"first\"") && seen[1].contains("\"second\""),
        "{seen:?}"
    );
}

/// A handle seals its entries with the numbers it predicts from its last
/// write and claims them with its `COMMIT`; when another handle took them
/// in between, the claim is refused and the write runs again with numbers
/// asked for. Two institutes on one database take turns, with small
/// writes and with one too large to go in the `COMMIT`'s message: every
/// entry is kept, in the order of the writes, none sealed with a number
/// another holds. (Were the claim not checked, the second handle's entry
/// would be overwritten by the first's, sealed with the same number.)
#[test]
fn a_write_whose_predicted_numbers_were_taken_runs_again() {
    let Some(url) = server() else { return };
    let schema = fresh_schema(&url);
    let (a, b) = (on(&schema), on(&schema));
    let batch = |i: &Institute, name: String| {
        i.operator()
            .create_batch(BatchInput { name: Some(name) })
            .expect("batch");
    };
    let mut written = Vec::new();
    for round in 0..3 {
        for (i, side) in [(&a, "a"), (&b, "b")] {
            let name = format!("{side}{round}");
            batch(i, name.clone());
            written.push(name);
        }
    }
    // A write of many rows: its rows go after the claim, in messages of
    // their own. A handle asks for its numbers for two seconds after a
    // refusal; past them, the first one predicts again (and the second
    // has taken those numbers).
    std::thread::sleep(std::time::Duration::from_millis(2100));
    batch(&b, "b-last".into());
    let rows: Vec<roster::ImportRow> = (0..300).map(|i| common::learner(i, Vec::new())).collect();
    let report = a.operator().import_rows(rows).expect("import");
    assert_eq!(report.created, 300);
    batch(&b, "b-after".into());
    let feed = a.operator().changes_since(0, 1000).expect("the whole feed");
    assert!(!feed.more);
    let seqs: Vec<u64> = feed.changes.iter().map(|c| c.seq).collect();
    assert!(seqs.windows(2).all(|p| p[0] < p[1]), "in order: {seqs:?}");
    let batches: Vec<String> = feed
        .changes
        .iter()
        .filter(|c| c.entity == roster::Entity::Batch)
        .map(|c| {
            let record: serde_json::Value =
                serde_json::from_str(c.record.as_deref().unwrap_or("{}")).expect("JSON");
            record["name"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    written.extend(["b-last", "b-after"].map(String::from));
    assert_eq!(
        batches, written,
        "every batch's entry, in the order written"
    );
    let users = feed
        .changes
        .iter()
        .filter(|c| c.entity == roster::Entity::User)
        .count();
    assert_eq!(users, 300, "an entry per imported user");
    assert_eq!(a.check_integrity().expect("check"), Vec::<String>::new());
}
