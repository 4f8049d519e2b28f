//! What the test files share: the test server, and fresh schemas on it.

#![allow(dead_code, reason = "each test file uses a different subset")]

use postgres::{Client, NoTls};
use roster_postgres::{Options, PgBackend};
use std::sync::atomic::{AtomicU32, Ordering};

/// The test server's URL, when there is one.
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

/// A driver configuration for a new, empty schema of the test server.
pub fn fresh_schema(url: &str) -> postgres::Config {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let schema = format!(
        "t{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = Client::connect(url, NoTls).expect("connect");
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .expect("schema");
    let mut config: postgres::Config = url.parse().expect("url");
    config.options(&format!("-c search_path={schema}"));
    config
}

/// A backend in a new, empty schema of the test server.
pub fn fresh(url: &str, options: Options) -> PgBackend {
    PgBackend::with_config(fresh_schema(url), options).expect("backend")
}
