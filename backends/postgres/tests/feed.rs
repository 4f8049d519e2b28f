//! The change feed on PostgreSQL (issue 12, item 4): writers in two
//! institutes on one database commit concurrently while a reader follows
//! the feed; the reader sees every entry exactly once, in order, although
//! numbers are taken before commits finish. Without the feed's
//! transaction-scoped lock a later number could commit first and a reader
//! that had passed it would skip the earlier one for good.
//!
//! Needs a server, as `conformance.rs` says.

mod common;

use common::{fresh_schema, server};
use roster::{BatchInput, Config, Institute};
use roster_postgres::{Options, PgBackend};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

fn on(schema: &postgres::Config) -> Institute {
    let backend = PgBackend::with_config(schema.clone(), Options::default()).expect("backend");
    Institute::open_with(Arc::new(backend), Config::default()).expect("institute")
}

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
    let page = admin.changes_since(3, 10).expect("from the floor");
    assert_eq!(page.changes.len(), 1);
}
