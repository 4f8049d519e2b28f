//! The plans PostgreSQL gives the backend's statements while the table's
//! statistics lag behind its rows: what a new institute in the middle of
//! its first import looks like to the planner until the next `ANALYZE`.
//! Each read and delete must still go by the primary key's index (one
//! probe per key; key order for a range), never read a whole logical
//! table to find a few of its rows.
//!
//! On a private server that loads `auto_explain` into every session and
//! logs the plan of every statement with its actual rows; it needs the
//! server binaries, as `fault.rs` does.

mod common;

use roster::ImportRow;
use roster_postgres::testing::{PrivateServer, execute};

/// Row `i` of the import: a user in two of the ten batches.
fn row(i: u64) -> ImportRow {
    let batches = [i % 10, (i + 3) % 10];
    common::learner(i, batches.iter().map(|b| format!("Batch {b}")).collect())
}

#[test]
fn an_import_probes_the_key_index_while_statistics_lag() {
    let Some(server) = PrivateServer::start_with(
        &[],
        &[
            ("session_preload_libraries", "auto_explain"),
            ("auto_explain.log_min_duration", "0"),
            ("auto_explain.log_analyze", "on"),
            // Statistics only when the test takes them.
            ("autovacuum", "off"),
        ],
    ) else {
        return;
    };
    let url = server.url();
    let (institute, batches) = common::with_batches(&url, 10);
    let admin = institute.operator();
    // The statistics of an institute before its first users.
    execute(&url, "ANALYZE roster_rows");
    let import = |from: u64, to: u64| {
        let report = admin
            .import_rows((from..to).map(row).collect())
            .expect("import");
        assert!(report.rejected.is_empty(), "{:?}", report.rejected.first());
    };
    import(0, 2_000);

    // The next chunks and a delete: the search index's postings and the
    // other rows they read are thousands the statistics never saw.
    let log = server.dir().join("log");
    let seen = std::fs::metadata(&log).expect("the server's log").len() as usize;
    for chunk in 0..6 {
        import(2_000 + chunk * 100, 2_100 + chunk * 100);
    }
    // A batch's hundreds of memberships deleted at once.
    admin.delete_batch(batches[0]).expect("delete a batch");
    let text = std::fs::read_to_string(&log).expect("the server's log");
    let plans: Vec<&str> = text
        .get(seen..)
        .expect("the log only grew")
        .split("plan:")
        .filter(|p| p.contains("roster_rows"))
        .collect();
    assert!(
        plans.len() >= 6,
        "auto_explain logged the backend's statements"
    );
    for plan in &plans {
        for wrong in [
            "Seq Scan",
            "Bitmap",
            "Hash",
            "Merge Join",
            "Sort",
            "Rows Removed by Filter",
        ] {
            assert!(
                !plan.contains(wrong),
                "a plan with {wrong} while the statistics lag:\n{plan}"
            );
        }
    }
}

/// A prepared statement is planned once per connection, not at every run.
/// Left to itself, the server plans a statement's first five runs for
/// their values and keeps planning it so while its generic plan looks
/// dearer: `roster_fetch` takes its keys as arrays, whose generic plan is
/// costed for ten elements, so a connection whose first writes read a few
/// rows planned every write's read again (about 55 µs of a subscription's
/// 350). The server's planner statistics log each planning, with its
/// statement; its log of every statement, each run.
#[test]
fn a_write_s_read_is_planned_once_per_connection() {
    let Some(server) = PrivateServer::start_with(
        &[],
        &[("log_planner_stats", "on"), ("log_statement", "all")],
    ) else {
        return;
    };
    let url = server.url();
    let (institute, batches) = common::with_batches(&url, 4);
    let report = institute
        .operator()
        .import_rows((0..40).map(|i| common::learner(i, Vec::new())).collect())
        .expect("import");
    assert_eq!(report.created, 40);
    drop(institute);
    // A new process: its connections' first writes read a few rows.
    let options = roster_postgres::Options {
        pool_size: 1,
        ..Default::default()
    };
    let backend = roster_postgres::PgBackend::connect(&url, options).expect("backend");
    let institute =
        roster::Institute::open_with(std::sync::Arc::new(backend), common::config()).expect("open");
    let admin = institute.operator();
    let log = server.dir().join("log");
    let seen = std::fs::metadata(&log).expect("the server's log").len() as usize;
    for k in 0..20u64 {
        let user = admin.find_user(&format!("learner{k}")).expect("a learner");
        admin
            .add_user_subscriptions(user, &[batches[(k % 4) as usize]], Some("2099-12-31"))
            .expect("subscribe");
    }
    let text = std::fs::read_to_string(&log).expect("the server's log");
    let text = text.get(seen..).expect("the log only grew");
    let plannings = text
        .split("PLANNER STATISTICS")
        .skip(1)
        .filter(|entry| {
            entry
                .lines()
                .find(|l| l.contains("STATEMENT:"))
                .is_some_and(|l| l.contains("EXECUTE roster_fetch"))
        })
        .count();
    let runs = text
        .lines()
        .filter(|l| l.contains("LOG:  statement: ") && l.contains("EXECUTE roster_fetch"))
        .count();
    assert!(runs >= 20, "the writes read through roster_fetch: {runs}");
    // The log names the message, not which of its statements was planned
    // (its `LOCK TABLE` is not planned).
    assert!(
        plannings <= 1,
        "roster_fetch planned {plannings} times in 20 writes"
    );
}
