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
