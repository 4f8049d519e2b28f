//! Criterion benchmarks of roster's hot operations on a store of 10,000
//! users (a redb file, default durability).
//!
//! `cargo bench -p roster --bench hot_paths [-- FILTER]`
//!
//! Each group builds its own store once, by bulk import
//! ([`roster::transfer::import`], JSON Lines) with one pre-made argon2id PHC
//! string reused for every row. In criterion's test mode (`cargo test
//! --benches`, or `cargo bench -- --test`), which runs every benchmark once,
//! the store holds 1,000 users so that an unoptimised build stays quick.
//! `ROSTER_BENCH_USERS=N` overrides the size in either mode.
//!
//! New passwords in this file are hashed with
//! [`Argon2Params::insecure_fast`](roster::Argon2Params::insecure_fast): the
//! create benchmarks that hash say so in their names; the default parameters
//! cost about 28 ms a hash on their own (see BENCHMARKS.md).

use chrono::{TimeZone, Utc};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use roster::rest::{Request, handle};
use roster::transfer::ImportOptions;
use roster::{
    Argon2Params, BatchInput, Config, CreateOptions, FieldErrors, FixedClock, ImportRow, Institute,
    NewUser, PageRequest, ProfileInput, UserQuery,
};
use serde_json::json;
use std::hint::black_box;
use std::sync::Arc;
use tempfile::TempDir;

/// Users in the store when measuring.
const USERS: u64 = 10_000;
/// Users in the store in criterion's test mode.
const TEST_USERS: u64 = 1_000;
/// Batches every user is spread over.
const BATCHES: u64 = 20;
/// Rows per import transaction.
const CHUNK: usize = 10_000;
/// The superuser the REST benchmarks sign in as.
const ADMIN: (&str, &str) = ("bench-admin", "bench-admin-password");
/// A `q` fragment: the first four letters of one of the surnames below.
const Q: &str = "shar";

const FIRST: [&str; 16] = [
    "Aarav", "Vivaan", "Aditya", "Vihaan", "Arjun", "Sai", "Reyansh", "Krishna", "Ananya", "Diya",
    "Aadhya", "Saanvi", "Pari", "Anika", "Meera", "Ishita",
];
const LAST: [&str; 12] = [
    "Sharma", "Verma", "Iyer", "Nair", "Reddy", "Patel", "Gupta", "Singh", "Das", "Menon", "Khan",
    "Joshi",
];

/// Whether criterion runs in test mode (every benchmark once): `cargo bench`
/// passes `--bench`, and `--test` asks for test mode explicitly.
fn test_mode() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--test") || !args.iter().any(|a| a == "--bench")
}

/// How many users the store holds.
fn store_size() -> u64 {
    std::env::var("ROSTER_BENCH_USERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(if test_mode() { TEST_USERS } else { USERS })
}

/// User `i`'s username and email (ids are `i + 1`: import order).
fn person(i: u64) -> (String, String) {
    let first = FIRST[(i % 16) as usize].to_lowercase();
    let last = LAST[(i / 16 % 12) as usize].to_lowercase();
    (
        format!("{first}.{last}{i}"),
        format!("{first}.{last}.{i}@example.in"),
    )
}

/// A stable spread of `0..n` (for lookups that do not walk the keys in order).
fn spread(k: u64, n: u64) -> u64 {
    k.wrapping_mul(7_654_321).wrapping_add(12_345) % n
}

fn config() -> Config {
    Config {
        argon2: Argon2Params::insecure_fast(),
        ..Config::default()
    }
    .with_clock(Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 1, 1, 6, 0, 0).unwrap(),
    )))
}

/// One argon2id PHC string, made the way a real store makes it: create a
/// user in a throw-away institute and read the hash back from its export.
fn premade_hash() -> String {
    let scratch = Institute::in_memory(config()).expect("in-memory institute");
    scratch
        .operator()
        .create_user(
            NewUser {
                username: Some("hash-donor".into()),
                password: Some("a-shared-pre-made-password".into()),
                ..Default::default()
            },
            CreateOptions::default(),
        )
        .expect("create the hash donor");
    let mut file = Vec::new();
    roster::transfer::export(&scratch.operator(), &mut file).expect("export");
    String::from_utf8(file)
        .expect("UTF-8 export")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["type"] == "user")
        .and_then(|v| v["record"]["password_hash"].as_str().map(str::to_string))
        .expect("a user line with a password hash")
}

/// A store of `n` users in a temporary folder, with a superuser to sign in as.
struct Store {
    institute: Institute,
    n: u64,
    hash: String,
    _dir: TempDir,
}

impl Store {
    fn build() -> Store {
        let n = store_size();
        let hash = premade_hash();
        let dir = tempfile::tempdir().expect("temporary folder");
        let institute =
            Institute::open(dir.path().join("bench.redb"), config()).expect("open the store");
        let admin = institute.operator();
        for b in 0..BATCHES {
            let name = Some(format!("Batch {b:02}"));
            admin.create_batch(BatchInput { name }).expect("batch");
        }
        let mut lines = String::new();
        for i in 0..n {
            let (username, email) = person(i);
            let row = json!({
                "username": username,
                "email": email,
                "phone": format!("9{:09}", spread(i, 1_000_000_000)),
                "first_name": FIRST[(i % 16) as usize],
                "last_name": LAST[(i / 16 % 12) as usize],
                "batches": [format!("Batch {:02}", i % BATCHES)],
                "password_hash": hash,
            });
            lines.push_str(&row.to_string());
            lines.push('\n');
        }
        let options = ImportOptions {
            chunk_size: CHUNK,
            ..ImportOptions::default()
        };
        let start = std::time::Instant::now();
        let report = roster::transfer::import(&admin, lines.as_bytes(), &options, &mut |_| {})
            .expect("import");
        assert!(report.rejected.is_empty(), "{:?}", report.rejected.first());
        assert_eq!(report.created, n);
        eprintln!(
            "store of {n} users imported in {:.2?} ({:.0} users/s)",
            start.elapsed(),
            n as f64 / start.elapsed().as_secs_f64()
        );
        institute
            .create_superuser(ADMIN.0, ADMIN.1)
            .expect("superuser");
        Store {
            institute,
            n,
            hash,
            _dir: dir,
        }
    }
}

fn lookups(c: &mut Criterion) {
    let store = Store::build();
    let (admin, n) = (store.institute.operator(), store.n);
    let mut g = c.benchmark_group(format!("lookups_{n}_users"));
    let mut k = 0u64;
    g.bench_function("get_by_id", |b| {
        b.iter(|| {
            k += 1;
            black_box(admin.get_user(spread(k, n) + 1).expect("get"))
        })
    });
    let people: Vec<(String, String)> = (0..1024).map(|k| person(spread(k, n))).collect();
    let mut k = 0usize;
    g.bench_function("get_by_username_find_user", |b| {
        b.iter(|| {
            k = (k + 1) % people.len();
            black_box(admin.find_user(&people[k].0).expect("find"))
        })
    });
    let mut k = 0usize;
    g.bench_function("get_by_email_list_users", |b| {
        b.iter(|| {
            k = (k + 1) % people.len();
            let query = UserQuery {
                email: Some(people[k].1.clone()),
                ..Default::default()
            };
            let page = admin.list_users(&query).expect("by email");
            assert_eq!(page.items.len(), 1);
            black_box(page)
        })
    });
    g.finish();
}

fn creates(c: &mut Criterion) {
    let store = Store::build();
    let (admin, n) = (store.institute.operator(), store.n);
    let mut g = c.benchmark_group(format!("create_{n}_users"));
    let mut next = 0u64;
    let mut fresh = move || {
        next += 1;
        let i = 1_000_000 + next;
        NewUser {
            username: Some(format!("new.user{i}")),
            profile: ProfileInput {
                email: Some(format!("new.user.{i}@example.in")),
                first_name: Some("New".into()),
                last_name: Some("User".into()),
                ..Default::default()
            },
            batches: vec!["Batch 00".into()],
            ..Default::default()
        }
    };
    g.bench_function("import_rows_one_prehashed_row_durable", |b| {
        b.iter_batched(
            || ImportRow {
                line: 1,
                user: fresh(),
                password_hash: Some(store.hash.clone()),
                errors: FieldErrors::new(),
            },
            |row| {
                let report = admin.import_rows(vec![row]).expect("import");
                assert_eq!(report.created, 1, "{:?}", report.rejected);
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("create_user_argon2_insecure_fast_durable", |b| {
        b.iter_batched(
            || NewUser {
                password: Some("a-fresh-password-1".into()),
                ..fresh()
            },
            |user| {
                black_box(
                    admin
                        .create_user(user, CreateOptions::default())
                        .expect("create"),
                )
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn pages(c: &mut Criterion) {
    let store = Store::build();
    let (admin, n) = (store.institute.operator(), store.n);
    let mut g = c.benchmark_group(format!("pages_{n}_users"));
    let page = |page: u64| UserQuery {
        page: PageRequest::page(page),
        ..Default::default()
    };
    let last = n.div_ceil(20);
    g.bench_function("list_page_1", |b| {
        b.iter(|| black_box(admin.list_users(&page(1)).expect("page 1")))
    });
    g.bench_function(format!("list_page_{last}_last"), |b| {
        b.iter(|| black_box(admin.list_users(&page(last)).expect("last page")))
    });
    let query = UserQuery {
        q: Some(Q.into()),
        ..Default::default()
    };
    assert!(!admin.list_users(&query).expect("q").items.is_empty());
    g.bench_function(format!("q_{Q}_page_1"), |b| {
        b.iter(|| black_box(admin.list_users(&query).expect("q search")))
    });
    g.finish();
}

fn rest(c: &mut Criterion) {
    let store = Store::build();
    let (institute, n) = (&store.institute, store.n);
    let token = institute.login(ADMIN.0, ADMIN.1).expect("sign in").token;
    let auth = format!("JWT {token}");
    let mut g = c.benchmark_group(format!("rest_{n}_users"));
    let mut k = 0u64;
    let get = |id: u64| {
        Request::new("GET", &format!("/api/v2.5/admin/users/{id}/"))
            .with_header("Authorization", &auth)
    };
    assert_eq!(handle(institute, get(1)).status, 200);
    g.bench_function("get_user_jwt", |b| {
        b.iter_batched(
            || {
                k += 1;
                get(spread(k, n) + 1)
            },
            |request| {
                let response = handle(institute, request);
                assert_eq!(response.status, 200);
                black_box(response)
            },
            BatchSize::SmallInput,
        )
    });
    let mut next = 0u64;
    g.bench_function("post_create_user_jwt_argon2_insecure_fast_durable", |b| {
        b.iter_batched(
            || {
                next += 1;
                let i = 2_000_000 + next;
                let body = json!({
                    "username": format!("rest.user{i}"),
                    "password": "a-fresh-password-1",
                    "email": format!("rest.user.{i}@example.in"),
                    "first_name": "Rest",
                    "last_name": "User",
                });
                Request::new("POST", "/api/v2.5/admin/users/")
                    .with_header("Authorization", &auth)
                    .with_header("Content-Type", "application/json")
                    .with_body(body.to_string())
            },
            |request| {
                let response = handle(institute, request);
                assert_eq!(response.status, 201, "{:?}", response.body);
                black_box(response)
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, lookups, creates, pages, rest);
criterion_main!(benches);
