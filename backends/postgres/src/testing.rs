//! The test server, for the tests of this crate and of the crates that run
//! their suites on PostgreSQL (feature `testing`): its URL, and fresh,
//! empty schemas on it.

use postgres::{Client, Config, NoTls};
use std::sync::atomic::{AtomicU32, Ordering};

/// The test server's URL (`ROSTER_TEST_DB`; tests/run's `rust_tests`
/// section starts one). Without it: `None`, after saying the test is
/// skipped, unless `ROSTER_REQUIRE_POSTGRES=1` (set by tests/run), which
/// makes a missing server a failure.
pub fn server() -> Option<String> {
    match std::env::var("ROSTER_TEST_DB") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("ROSTER_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "ROSTER_TEST_DB is not set: run tests/run rust_tests, which starts a server"
            );
            eprintln!("skipped: no PostgreSQL server (set ROSTER_TEST_DB)");
            None
        }
    }
}

/// A name no other test of this process or another has used: `prefix`,
/// the process id and a counter.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{}_{n}", std::process::id())
}

/// Runs `sql` on the server of `url`.
pub fn execute(url: &str, sql: &str) {
    let mut admin = Client::connect(url, NoTls).expect("connect to the test server");
    admin.batch_execute(sql).expect("run on the test server");
}

/// A driver configuration for a new, empty schema on the server of `url`.
pub fn fresh_schema(url: &str) -> Config {
    let schema = unique_name("t");
    execute(url, &format!("CREATE SCHEMA {schema}"));
    let mut config: Config = url.parse().expect("the test server's URL");
    config.options(&format!("-c search_path={schema}"));
    config
}
