//! The server restarted in the middle of a run: an institute on a private
//! server, writer threads creating users (each create also makes the
//! user's membership of a batch, in the same write) and a reader listing
//! them, while the server is restarted. Requests that were in flight, or
//! came while it was down, fail with `storage_error` and nothing else;
//! once it is back the same institute serves again, on new connections;
//! nothing is half-written (every user that exists has its membership, and
//! roster's integrity check is clean). Then, with every pooled connection
//! idle, another restart: the next requests succeed at once, as the pool
//! drops the connections the restart broke.
//!
//! Needs PostgreSQL's server binaries, as `private_server.rs` says.

mod common;

use common::config;
use roster::domain::BatchInput;
use roster::{ErrorCode, Institute, NewUser};
use roster_postgres::Options;
use roster_postgres::testing::PrivateServer;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Generous: the run takes a few seconds.
const DEADLINE: Duration = Duration::from_secs(90);

fn new_user(name: &str) -> NewUser {
    NewUser {
        username: Some(name.into()),
        password: Some("pass-word-1".into()),
        batches: vec!["cohort".into()],
        ..Default::default()
    }
}

/// Waits until `done` holds, failing the test after [`DEADLINE`].
fn wait_for(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Each user that exists is in the batch, and roster's checks are clean.
fn nothing_half_written(institute: &Institute, names: &[String]) -> usize {
    let admin = institute.operator();
    let mut existing = 0;
    for name in names {
        let id = match admin.find_user(name) {
            Ok(id) => id,
            Err(e) if e.code() == ErrorCode::NotFound => continue,
            Err(e) => panic!("{name}: {e:?}"),
        };
        existing += 1;
        let batches = admin.user_batches(id, Default::default()).unwrap();
        let names: Vec<&str> = batches.items.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["cohort"], "{name}'s membership");
    }
    assert_eq!(institute.check_integrity().unwrap(), Vec::<String>::new());
    existing
}

#[test]
fn a_restart_fails_requests_in_flight_and_then_serves_again() {
    let Some(mut server) = PrivateServer::start() else {
        return;
    };
    let options = Options {
        pool_size: 4,
        ..Options::default()
    };
    let institute = roster_postgres::open(&server.url(), config(), options).expect("institute");
    institute
        .operator()
        .create_batch(BatchInput {
            name: Some("cohort".into()),
        })
        .unwrap();

    let stop = AtomicBool::new(false);
    let succeeded = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    let reads_after_failure = AtomicUsize::new(0);
    // Every name a create was tried with, and those that succeeded.
    let tried = Mutex::new(Vec::new());
    let created = Mutex::new(Vec::new());
    let (writers, per_writer_cap) = (3, 2_000);
    std::thread::scope(|scope| {
        for w in 0..writers {
            let (institute, stop, succeeded, failed) = (&institute, &stop, &succeeded, &failed);
            let (tried, created) = (&tried, &created);
            scope.spawn(move || {
                for k in 0..per_writer_cap {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let name = format!("w{w}_{k}");
                    tried.lock().unwrap().push(name.clone());
                    match institute
                        .operator()
                        .create_user(new_user(&name), Default::default())
                    {
                        Ok(_) => {
                            created.lock().unwrap().push(name);
                            succeeded.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            assert_eq!(e.code(), ErrorCode::Storage, "{name}: {e:?}");
                            failed.fetch_add(1, Ordering::Relaxed);
                            // Not a spin while the server is down.
                            std::thread::sleep(Duration::from_millis(5));
                        }
                    }
                }
            });
        }
        {
            let (institute, stop, failed, reads_after_failure) =
                (&institute, &stop, &failed, &reads_after_failure);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match institute.operator().list_users(&Default::default()) {
                        Ok(_) if failed.load(Ordering::Relaxed) > 0 => {
                            reads_after_failure.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(_) => {}
                        Err(e) => {
                            assert_eq!(e.code(), ErrorCode::Storage, "a read: {e:?}");
                            std::thread::sleep(Duration::from_millis(5));
                        }
                    }
                }
            });
        }

        wait_for("writes before the restart", || {
            succeeded.load(Ordering::Relaxed) >= 30
        });
        server.restart();
        let back = succeeded.load(Ordering::Relaxed);
        wait_for("writes after the restart", || {
            succeeded.load(Ordering::Relaxed) >= back + 30
        });
        wait_for("reads after the restart", || {
            reads_after_failure.load(Ordering::Relaxed) >= 5
        });
        stop.store(true, Ordering::Relaxed);
    });

    let failed = failed.into_inner();
    eprintln!(
        "{} creates succeeded, {failed} failed during the restart",
        succeeded.load(Ordering::Relaxed)
    );
    assert!(failed > 0, "the restart failed no request");
    let tried = tried.into_inner().unwrap();
    let created = created.into_inner().unwrap();
    // Every create that succeeded is there; one that failed may be there
    // too (the server may have committed it as the connection broke), but
    // whole.
    let existing = nothing_half_written(&institute, &tried);
    assert!(
        existing >= created.len() && existing <= created.len() + failed,
        "{existing} users for {} successes and {failed} failures",
        created.len()
    );
    for name in &created {
        institute.operator().find_user(name).unwrap();
    }

    // Every connection of the pool idle, the server restarts: the next
    // requests do not fail for the connections it broke.
    let admin = institute.operator();
    let warm: Vec<String> = (0..4).map(|k| format!("warm{k}")).collect();
    for name in &warm {
        admin
            .create_user(new_user(name), Default::default())
            .unwrap();
        admin.list_users(&Default::default()).unwrap();
    }
    server.restart();
    for k in 0..8 {
        admin
            .list_users(&Default::default())
            .unwrap_or_else(|e| panic!("read {k} after the restart: {e:?}"));
        admin
            .create_user(new_user(&format!("after{k}")), Default::default())
            .unwrap_or_else(|e| panic!("write {k} after the restart: {e:?}"));
    }
    assert_eq!(nothing_half_written(&institute, &warm), warm.len());
}
