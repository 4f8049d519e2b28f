//! The private test server ([`roster_postgres::testing::PrivateServer`]):
//! a cluster of the test's own that keeps its data across a restart,
//! refuses connections while stopped, and is gone after it is dropped.
//!
//! Needs PostgreSQL's server binaries (`/usr/lib/postgresql/*/bin`; tests/run
//! installs them). Without them the test says so and passes, unless
//! `ROSTER_REQUIRE_POSTGRES=1`.

use postgres::{Client, NoTls};
use roster_postgres::testing::PrivateServer;

fn count(url: &str) -> Result<i64, postgres::Error> {
    let mut client = Client::connect(url, NoTls)?;
    let row = client.query_one("SELECT count(*) FROM kept", &[])?;
    row.try_get(0)
}

#[test]
fn a_private_server_restarts_stops_and_cleans_up() {
    let Some(mut server) = PrivateServer::start() else {
        return;
    };
    let url = server.url();
    roster_postgres::testing::execute(
        &url,
        "CREATE TABLE kept (n int); INSERT INTO kept VALUES (1), (2)",
    );
    assert_eq!(count(&url).unwrap(), 2);

    server.restart();
    assert_eq!(server.url(), url, "the same port after a restart");
    assert_eq!(count(&url).unwrap(), 2, "the data outlives a restart");

    server.stop();
    let refused = count(&url).unwrap_err();
    assert!(refused.to_string().contains("connect"), "{refused}");
    server.start_again();
    assert_eq!(count(&url).unwrap(), 2);

    let folder = server.dir().to_path_buf();
    assert!(folder.join("data").is_dir());
    drop(server);
    assert!(count(&url).is_err(), "stopped when dropped");
    assert!(!folder.exists(), "{} removed", folder.display());
}
