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
