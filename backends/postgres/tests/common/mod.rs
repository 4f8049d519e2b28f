//! What the test files share: fresh backends on the test server
//! ([`roster_postgres::testing`]).

#![allow(dead_code, reason = "each test file uses a different subset")]

pub use roster_postgres::testing::{fresh_schema, server};
use roster_postgres::{Options, PgBackend};

/// A backend in a new, empty schema of the test server.
pub fn fresh(url: &str, options: Options) -> PgBackend {
    PgBackend::with_config(fresh_schema(url), options).expect("backend")
}
