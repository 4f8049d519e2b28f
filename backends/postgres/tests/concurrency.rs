//! Two institutes on one database (as two `roster serve` processes would
//! be), four threads each, all at once on the same names, users and
//! batches, in three bounded rounds:
//!
//! - creates of the same 24 usernames (in different letter cases): exactly
//!   one create per name succeeds; every other gets the answer of a taken
//!   username (a validation error on `username`), never a `conflict`;
//! - renames of 24 users to 6 target names (4 contenders for each), three
//!   times over: exactly one rename per target succeeds, the losers get the
//!   same validation error and keep their names, a winner's old name is
//!   free again;
//! - batch memberships of the same users added and removed from both
//!   institutes: every change lands (none lost to a concurrent one).
//!
//! After each round: no two users share a name, the counts match the
//! successes, and roster's integrity check is clean on both institutes.
//!
//! Needs the shared test server, as `conformance.rs` says.

mod common;

use common::{fresh_schema, on, server};
use roster::domain::{BatchInput, PageRequest};
use roster::{Error, ErrorCode, Institute, NewUser, UserPatch, UserQuery};
use std::collections::{BTreeSet, HashMap};
use std::sync::Barrier;
use std::time::{Duration, Instant};

const USERS: usize = 24;
const THREADS_EACH: usize = 4;
const TARGETS: usize = 6;

/// Runs `work(institute, thread)` on `2 * THREADS_EACH` threads, half on
/// each institute, released together: the results in thread order.
fn at_once<T: Send>(
    institutes: &[Institute; 2],
    work: impl Fn(&Institute, usize) -> T + Sync,
) -> Vec<T> {
    let threads = 2 * THREADS_EACH;
    let barrier = Barrier::new(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (barrier, work) = (&barrier, &work);
                scope.spawn(move || {
                    barrier.wait();
                    work(&institutes[t % 2], t)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a thread"))
            .collect()
    })
}

/// The answer to a taken username, whoever took it.
fn assert_taken(e: &Error, what: &str) {
    assert_eq!(e.code(), ErrorCode::Validation, "{what}: {e:?}");
    assert!(e.fields().has("username"), "{what}: {e:?}");
}

/// Every username (lower case), each once, and no duplicates; roster's
/// checks clean on both institutes.
fn sound(institutes: &[Institute; 2]) -> BTreeSet<String> {
    let page = institutes[0]
        .operator()
        .list_users(&UserQuery {
            page: PageRequest {
                page: 1,
                per_page: Some(100),
            },
            ..Default::default()
        })
        .unwrap();
    assert_eq!(page.count as usize, page.items.len(), "one page holds all");
    let names: BTreeSet<String> = page
        .items
        .iter()
        .map(|u| u.username.to_lowercase())
        .collect();
    assert_eq!(names.len(), page.items.len(), "a username twice: {names:?}");
    for institute in institutes {
        assert_eq!(institute.check_integrity().unwrap(), Vec::<String>::new());
    }
    names
}

/// The names of `user`'s batches.
fn batches_of(institute: &Institute, user: u64) -> BTreeSet<String> {
    let page = institute
        .operator()
        .user_batches(
            user,
            PageRequest {
                page: 1,
                per_page: Some(100),
            },
        )
        .unwrap();
    page.items.into_iter().map(|b| b.name).collect()
}

#[test]
fn two_institutes_hammer_the_same_names_users_and_batches() {
    let Some(url) = server() else { return };
    let started = Instant::now();
    let schema = fresh_schema(&url);
    let institutes = [on(&schema), on(&schema)];
    let batches: Vec<u64> = (0..4)
        .map(|k| {
            institutes[0]
                .operator()
                .create_batch(BatchInput {
                    name: Some(format!("b{k}")),
                })
                .unwrap()
                .id
        })
        .collect();

    // 1. Creates: every thread tries every name, starting at a different
    // one, odd threads in capitals (usernames are unique ignoring case).
    let tries = at_once(&institutes, |institute, t| {
        (0..USERS)
            .map(|i| {
                let k = (i + 3 * t) % USERS;
                let name = match t % 2 {
                    0 => format!("name{k}"),
                    _ => format!("NAME{k}"),
                };
                let made = institute.operator().create_user(
                    NewUser {
                        username: Some(name),
                        password: Some("pass-word-1".into()),
                        batches: vec!["b0".into()],
                        ..Default::default()
                    },
                    Default::default(),
                );
                (k, made.map(|c| c.user.id))
            })
            .collect::<Vec<_>>()
    });
    let mut winners: HashMap<usize, Vec<u64>> = HashMap::new();
    for (k, made) in tries.into_iter().flatten() {
        match made {
            Ok(id) => winners.entry(k).or_default().push(id),
            Err(e) => assert_taken(&e, &format!("create name{k}")),
        }
    }
    let ids: Vec<u64> = (0..USERS)
        .map(|k| match winners.get(&k).map(Vec::as_slice) {
            Some([id]) => *id,
            other => panic!("name{k} created {other:?}"),
        })
        .collect();
    let names = sound(&institutes);
    let expected: BTreeSet<String> = (0..USERS).map(|k| format!("name{k}")).collect();
    assert_eq!(names, expected);
    for &id in &ids {
        assert_eq!(
            batches_of(&institutes[1], id),
            BTreeSet::from(["b0".into()])
        );
    }

    // 2. Renames: in each round user k wants target k % TARGETS, so four
    // users want each target at once; thread t renames the users k with
    // k % 8 == t.
    let mut current: Vec<String> = (0..USERS).map(|k| format!("name{k}")).collect();
    for round in 0..3 {
        let target = |k: usize| match k % 2 {
            0 => format!("r{round}_t{}", k % TARGETS),
            _ => format!("R{round}_T{}", k % TARGETS),
        };
        let tries = at_once(&institutes, |institute, t| {
            (t..USERS)
                .step_by(2 * THREADS_EACH)
                .map(|k| {
                    let patch = UserPatch {
                        username: Some(target(k)),
                        ..Default::default()
                    };
                    (k, institute.operator().update_user(ids[k], patch))
                })
                .collect::<Vec<_>>()
        });
        let mut won = vec![Vec::new(); TARGETS];
        for (k, renamed) in tries.into_iter().flatten() {
            match renamed {
                Ok(user) => {
                    assert_eq!(user.username, target(k));
                    won[k % TARGETS].push(k);
                }
                Err(e) => assert_taken(&e, &format!("round {round}: rename user {k}")),
            }
        }
        let admin = institutes[0].operator();
        for (j, won) in won.iter().enumerate() {
            let [k] = won.as_slice() else {
                panic!("round {round}: target {j} taken by {won:?}");
            };
            assert_eq!(admin.find_user(&target(*k)).unwrap(), ids[*k]);
            // The winner's old name is free again.
            let old = admin.find_user(&current[*k]).unwrap_err();
            assert_eq!(old.code(), ErrorCode::NotFound, "{}", current[*k]);
            current[*k] = target(*k).to_lowercase();
        }
        let names = sound(&institutes);
        assert_eq!(names, current.iter().cloned().collect::<BTreeSet<_>>());
        for (k, name) in current.iter().enumerate() {
            assert_eq!(admin.find_user(name).unwrap(), ids[k], "{name}");
        }
    }

    // 3. Memberships: thread t, for every user k (starting at a different
    // one), adds batch 1 + (t + k) % 3 when t + k is even and removes b0
    // otherwise: both institutes change the same users' memberships at
    // once. Every change lands.
    let tries = at_once(&institutes, |institute, t| {
        (0..USERS)
            .map(|i| {
                let k = (i + 5 * t) % USERS;
                let admin = institute.operator();
                if (t + k).is_multiple_of(2) {
                    admin
                        .add_user_batches(ids[k], &[batches[1 + (t + k) % 3]])
                        .map(drop)
                } else {
                    admin.remove_user_batches(ids[k], &[batches[0]])
                }
            })
            .collect::<Vec<_>>()
    });
    for result in tries.into_iter().flatten() {
        result.expect("a membership change");
    }
    for (k, &id) in ids.iter().enumerate() {
        let expected: BTreeSet<String> = (0..2 * THREADS_EACH)
            .filter(|t| (t + k).is_multiple_of(2))
            .map(|t| format!("b{}", 1 + (t + k) % 3))
            .collect();
        assert_eq!(batches_of(&institutes[k % 2], id), expected, "user {k}");
    }
    assert_eq!(sound(&institutes).len(), USERS);
    // Bounded: a few seconds on a laptop; this only catches a hang.
    assert!(started.elapsed() < Duration::from_secs(300));
}

/// Two institutes (two processes' worth) create users as fast as they can,
/// two threads each, for two seconds, with few retries (ten). The creates
/// collide on the search postings' index pages, and a write that keeps
/// meeting the other institute's stream used to lose every run and give
/// up with `conflict`; now one that has lost several runs runs alone, and
/// every create succeeds.
#[test]
fn a_write_that_keeps_losing_races_runs_alone_and_succeeds() {
    let Some(url) = server() else { return };
    let schema = fresh_schema(&url);
    let options = roster_postgres::Options {
        retries: 10,
        ..Default::default()
    };
    let open = || {
        let backend =
            roster_postgres::PgBackend::with_config(schema.clone(), options).expect("backend");
        Institute::open_with(std::sync::Arc::new(backend), common::config()).expect("institute")
    };
    let institutes = [open(), open()];
    let stop = Instant::now() + Duration::from_secs(2);
    let outcomes: Vec<(usize, Vec<Error>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let institute = &institutes[t % 2];
                scope.spawn(move || {
                    let (mut made, mut failed) = (0, Vec::new());
                    while Instant::now() < stop {
                        let name = format!("racer{t}-{made}-{}", failed.len());
                        let input = NewUser {
                            username: Some(name.clone()),
                            password: Some("racer-pass-1".into()),
                            profile: roster::ProfileInput {
                                email: Some(format!("{name}@example.com")),
                                ..Default::default()
                            },
                            ..Default::default()
                        };
                        match institute.operator().create_user(input, Default::default()) {
                            Ok(_) => made += 1,
                            Err(e) => failed.push(e),
                        }
                    }
                    (made, failed)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let made: usize = outcomes.iter().map(|(m, _)| m).sum();
    let failed: Vec<&Error> = outcomes.iter().flat_map(|(_, f)| f).collect();
    assert!(made > 0);
    assert!(
        failed.is_empty(),
        "{} of {} creates failed: {:?}",
        failed.len(),
        made + failed.len(),
        failed.first()
    );
    assert_eq!(
        institutes[0].check_integrity().unwrap(),
        Vec::<String>::new()
    );
    // Every user is found by a search, whether its grams were merged
    // (by either handle's groups) or still wait.
    let query = roster::UserQuery {
        q: Some("racer".into()),
        ..Default::default()
    };
    let found = institutes[1].operator().list_users(&query).unwrap();
    assert_eq!(found.count, made as u64);
}
