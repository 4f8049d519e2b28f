//! The backend-conformance suite (`roster::store::conformance`) on
//! PostgreSQL, each backend in a schema of its own, and what this backend
//! adds: a race lost under serializable isolation is run again, not
//! returned; the connection string stays out of errors and `Debug`.
//!
//! Needs a server: `ROSTER_TEST_DB=postgres://...` (tests/run's
//! `rust_tests` section starts one). Without it the tests say so and pass,
//! unless `ROSTER_REQUIRE_POSTGRES=1` (set by tests/run), which makes a
//! missing server a failure.

mod common;

use common::{fresh, server};
use roster::store::{Backend, Writer};
use roster::{ErrorCode, Result};
use roster_postgres::{Options, PgBackend};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Barrier};

#[test]
fn the_backend_conforms() {
    let Some(url) = server() else { return };
    roster::store::conformance::run(&|| Arc::new(fresh(&url, Options::default())));
}

#[test]
fn a_lost_race_runs_the_write_again() {
    let Some(url) = server() else { return };
    // Eight processes' backends on one schema each read the counter and
    // write it plus one, all at once: serializable isolation refuses all
    // but one of each race, and the retries make every increment count.
    let schema = common::fresh_schema(&url);
    let writers = 8;
    let barrier = Arc::new(Barrier::new(writers));
    let runs = Arc::new(AtomicU32::new(0));
    let handles: Vec<_> = (0..writers)
        .map(|_| {
            let backend = PgBackend::with_config(schema.clone(), Options::default()).unwrap();
            let (barrier, runs) = (barrier.clone(), runs.clone());
            std::thread::spawn(move || {
                barrier.wait();
                backend.write(&mut |w: &dyn Writer| -> Result<()> {
                    runs.fetch_add(1, Ordering::Relaxed);
                    let n = w
                        .get("counter", b"n")?
                        .map_or(0, |v| u64::from_be_bytes(v.try_into().unwrap_or_default()));
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    w.put("counter", b"n", &(n + 1).to_be_bytes())
                })
            })
        })
        .collect();
    for h in handles {
        h.join().expect("writer").expect("write");
    }
    let backend = PgBackend::with_config(schema, Options::default()).unwrap();
    let mut n = 0;
    backend
        .read(&mut |r| {
            n = u64::from_be_bytes(r.get("counter", b"n")?.unwrap().try_into().unwrap());
            Ok(())
        })
        .unwrap();
    assert_eq!(n, writers as u64);
    assert!(
        runs.load(Ordering::Relaxed) > writers as u32,
        "no race was retried"
    );
}

#[test]
fn exhausted_retries_are_a_conflict() {
    let Some(url) = server() else { return };
    let options = Options {
        pool_size: 2,
        retries: 0,
        ..Options::default()
    };
    // Two processes' backends on one schema (one backend runs its own
    // writes one at a time): both read, then both write.
    let schema = common::fresh_schema(&url);
    let backends =
        [0, 1].map(|_| Arc::new(PgBackend::with_config(schema.clone(), options).unwrap()));
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = backends
        .iter()
        .map(|backend| {
            let (backend, barrier) = (backend.clone(), barrier.clone());
            std::thread::spawn(move || {
                backend.write(&mut |w: &dyn Writer| -> Result<()> {
                    let n = w.get("counter", b"n")?.map_or(0, |v| v.len());
                    barrier.wait();
                    w.put("counter", b"n", &vec![0; n + 1])
                })
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let conflicts = results
        .iter()
        .filter(|r| r.as_ref().is_err_and(|e| e.code() == ErrorCode::Conflict))
        .count();
    assert_eq!(conflicts, 1, "{results:?}");
}

#[test]
fn the_connection_string_stays_secret() {
    let Some(url) = server() else { return };
    let secret = "s3cret-Passw0rd";
    let bad = format!("postgres://roster:{secret}@127.0.0.1:1/none?connect_timeout=2");
    let e = PgBackend::connect(&bad, Options::default()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Storage, "{e:?}");
    assert!(!format!("{e} {e:?}").contains(secret));
    let e = PgBackend::connect(
        &format!("postgres://roster:{secret}@host:notaport/db"),
        Options::default(),
    )
    .unwrap_err();
    assert!(!format!("{e} {e:?}").contains(secret));
    let backend = fresh(&url, Options::default());
    assert!(!format!("{backend:?}").contains("roster@"));
    assert_eq!(backend.engine(), "postgres");
}

/// A write or read that panics (roster's store layer catches the panic and
/// calls the store damaged) gives its connection's place in the pool back
/// and leaves what the backend knows of the feed's numbers usable: with a
/// pool of two, three panics in a row, then a write and a read succeed.
/// (Before, each panic kept a place for good: the fourth call waited for
/// ever, and every write after the first panic was refused.)
#[test]
fn a_panicking_call_gives_its_connection_back() {
    let Some(url) = server() else { return };
    let backend = Arc::new(fresh(
        &url,
        Options {
            pool_size: 2,
            ..Options::default()
        },
    ));
    for _ in 0..3 {
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            backend.write(&mut |w| {
                w.put("t", b"k", b"v")?;
                panic!("a bug in the write");
            })
        }));
        assert!(panicked.is_err());
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            backend.read(&mut |_| panic!("a bug in the read"))
        }));
        assert!(panicked.is_err());
    }
    let (done, answer) = std::sync::mpsc::channel();
    let after = backend.clone();
    std::thread::spawn(move || {
        let wrote = after.write(&mut |w| w.put("t", b"k", b"v"));
        let mut found = None;
        let read = after.read(&mut |r| {
            found = r.get("t", b"k")?;
            Ok(())
        });
        let _ = done.send((wrote, read, found));
    });
    let (wrote, read, found) = answer
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the calls after the panics did not wait for a connection for ever");
    wrote.unwrap();
    read.unwrap();
    // Only the write after the panics committed its row.
    assert_eq!(found.as_deref(), Some(&b"v"[..]));
}

/// The feed's numbers come from the server's sequence: a sequence moved
/// below 1 (by hand, or by a hostile server) is refused as damage, and
/// nothing is written, rather than numbering entries from 2^64 down.
#[test]
fn a_feed_sequence_out_of_range_is_refused() {
    let Some(url) = server() else { return };
    let schema = common::fresh_schema(&url);
    let institute = common::on(&schema);
    let admin = institute.operator();
    admin
        .create_batch(roster::BatchInput {
            name: Some("Before".into()),
        })
        .unwrap();
    let mut client = schema.connect(postgres::NoTls).unwrap();
    client
        .batch_execute("ALTER SEQUENCE roster_change_seq MINVALUE -100 RESTART WITH -50")
        .unwrap();
    // A new handle knows nothing of the numbers: it asks the sequence.
    let fresh = common::on(&schema);
    let e = fresh
        .operator()
        .create_batch(roster::BatchInput {
            name: Some("After".into()),
        })
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Corrupt, "{e:?}");
    assert!(e.message().contains("roster_change_seq"), "{e}");
    let names: Vec<String> = fresh
        .operator()
        .list_batches(None, Default::default())
        .unwrap()
        .items
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(names, ["Before"]);
}

/// A failed connection says why in roster's words, naming nothing of the
/// server's (its message may become a 500's body); the server's own words
/// are the error's cause, for the operator.
#[test]
fn a_failed_connection_says_why_without_the_servers_words() {
    let Some(url) = server() else { return };
    let (base, _) = url.rsplit_once('/').expect("a database in the URL");
    let cases = [
        (
            format!("{base}/no_such_database_q7"),
            "the database does not exist",
            "no_such_database_q7",
        ),
        (
            "postgres://roster@127.0.0.1:1/none?connect_timeout=2".to_string(),
            "the connection was refused",
            "refused",
        ),
    ];
    for (text, public, detail) in cases {
        let e = PgBackend::connect(&text, Options::default()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Storage, "{e:?}");
        assert!(e.message().contains(public), "{e}");
        if detail != "refused" {
            assert!(!e.message().contains(detail), "{e}");
        }
        let mut deepest = String::new();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            deepest = s.to_string();
            source = s.source();
        }
        assert!(deepest.contains(detail), "{deepest}");
    }
}
