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
