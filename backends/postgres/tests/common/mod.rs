//! What the test files share: fresh backends on the test server
//! ([`roster_postgres::testing`]).

#![allow(
    dead_code,
    unused_imports,
    reason = "each test file uses a different subset"
)]

use roster::{Argon2Params, Config, Institute};
pub use roster_postgres::testing::{fresh_schema, server};
use roster_postgres::{Options, PgBackend};
use std::sync::Arc;

/// A backend in a new, empty schema of the test server.
pub fn fresh(url: &str, options: Options) -> PgBackend {
    PgBackend::with_config(fresh_schema(url), options).expect("backend")
}

/// A configuration with cheap password hashing: the tests sign in and
/// create users by the hundred.
pub fn config() -> Config {
    Config {
        argon2: Argon2Params::insecure_fast(),
        ..Config::default()
    }
}

/// An institute on `schema` of the test server, with [`config`].
pub fn on(schema: &postgres::Config) -> Institute {
    let backend = PgBackend::with_config(schema.clone(), Options::default()).expect("backend");
    Institute::open_with(Arc::new(backend), config()).expect("institute")
}

/// An institute on the database at `url` (its own server's), with
/// [`config`], and `n` batches named `Batch 0`, `Batch 1`, …: their ids.
pub fn with_batches(url: &str, n: u64) -> (Institute, Vec<u64>) {
    with_batches_and(url, n, Options::default())
}

/// [`with_batches`] on a backend with `options`.
pub fn with_batches_and(url: &str, n: u64, options: Options) -> (Institute, Vec<u64>) {
    let backend = PgBackend::connect(url, options).expect("backend");
    let institute = Institute::open_with(Arc::new(backend), config()).expect("institute");
    let admin = institute.operator();
    let batches = (0..n)
        .map(|b| {
            let name = Some(format!("Batch {b}"));
            admin
                .create_batch(roster::BatchInput { name })
                .expect("batch")
                .id
        })
        .collect();
    (institute, batches)
}

/// Row `i` of an import: `learner{i}`, with an email and names, in
/// `batches`.
pub fn learner(i: u64, batches: Vec<String>) -> roster::ImportRow {
    roster::ImportRow {
        line: i + 1,
        user: roster::NewUser {
            username: Some(format!("learner{i}")),
            profile: roster::ProfileInput {
                email: Some(format!("learner{i}@example.com")),
                first_name: Some(format!("First{}", i % 97)),
                last_name: Some(format!("Last{}", i % 89)),
                ..Default::default()
            },
            batches,
            ..Default::default()
        },
        password_hash: Some("!".into()),
        errors: roster::FieldErrors::new(),
    }
}
