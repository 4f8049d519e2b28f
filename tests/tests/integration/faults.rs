//! Storage faults: every operation, with the backend failing at each of its
//! writes, syncs and resizes in turn, leaves a store that opens, passes the
//! integrity check, and holds the operation whole or not at all.
//!
//! The backend is a byte vector. A fault either ends the "disk" (that call
//! and every later one fail: a crash at that point) or fails that one call
//! only. After each fault the store is reopened, with faults off, on two
//! images: the bytes as written (every write before the fault arrived) and
//! the bytes as of the last successful `sync_data` (a power cut that lost
//! everything not synced). redb may keep state in memory after a failed
//! write, so every check opens a fresh `Institute` on a copy of the bytes.

use chrono::{DateTime, Utc};
use roster::transfer::{self, ImportOptions};
use roster::{
    Admin, Argon2Params, BatchInput, Config, CourseInput, CreateOptions, CustomFieldInput,
    FixedClock, HostFile, Institute, NewUser, ProfileInput, UserPatch,
};
use serde_json::Value;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// How an injected fault behaves.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// The k-th call and every later one fail (the disk is gone).
    Crash,
    /// Only the k-th call fails.
    Once,
}

#[derive(Debug, Default)]
struct Shared {
    /// The bytes as written.
    live: Mutex<Vec<u8>>,
    /// The bytes as of the last successful sync.
    durable: Mutex<Vec<u8>>,
    /// Mutating calls (write, set_len, sync_data) since faults were armed.
    calls: AtomicU64,
    /// The call that fails (0: none).
    fail_at: AtomicU64,
    /// Whether `fail_at` counts: faults are armed after the store opened.
    armed: AtomicBool,
    /// Whether a fault has been injected.
    fired: AtomicBool,
    crash: AtomicBool,
}

#[derive(Debug, Clone)]
struct Faulty(Arc<Shared>);

impl Faulty {
    fn over(bytes: Vec<u8>) -> Faulty {
        Faulty(Arc::new(Shared {
            durable: Mutex::new(bytes.clone()),
            live: Mutex::new(bytes),
            ..Shared::default()
        }))
    }

    fn arm(&self, at: u64, mode: Mode) {
        self.0.calls.store(0, Ordering::SeqCst);
        self.0.fail_at.store(at, Ordering::SeqCst);
        self.0.crash.store(mode == Mode::Crash, Ordering::SeqCst);
        self.0.armed.store(true, Ordering::SeqCst);
    }

    fn calls(&self) -> u64 {
        self.0.calls.load(Ordering::SeqCst)
    }

    fn live(&self) -> Vec<u8> {
        self.0.live.lock().expect("lock").clone()
    }

    fn durable(&self) -> Vec<u8> {
        self.0.durable.lock().expect("lock").clone()
    }

    /// Counts a mutating call; `Err` when it is to fail.
    fn fault(&self) -> io::Result<()> {
        let s = &self.0;
        if !s.armed.load(Ordering::SeqCst) {
            return Ok(());
        }
        let n = s.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let at = s.fail_at.load(Ordering::SeqCst);
        let fails = at != 0 && (n == at || (n > at && s.crash.load(Ordering::SeqCst)));
        if fails {
            s.fired.store(true, Ordering::SeqCst);
            return Err(io::Error::other(format!("injected fault at call {n}")));
        }
        Ok(())
    }
}

impl HostFile for Faulty {
    fn len(&self) -> io::Result<u64> {
        Ok(self.0.live.lock().expect("lock").len() as u64)
    }

    fn read_at(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        let live = self.0.live.lock().expect("lock");
        let start = offset as usize;
        let end = start + out.len();
        if end > live.len() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "read past end",
            ));
        }
        out.copy_from_slice(&live[start..end]);
        Ok(())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.fault()?;
        self.0.live.lock().expect("lock").resize(len as usize, 0);
        Ok(())
    }

    fn sync(&self) -> io::Result<()> {
        self.fault()?;
        let live = self.live();
        *self.0.durable.lock().expect("lock") = live;
        Ok(())
    }

    fn write_at(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.fault()?;
        let mut live = self.0.live.lock().expect("lock");
        let start = offset as usize;
        let end = start + data.len();
        if end > live.len() {
            live.resize(end, 0);
        }
        live[start..end].copy_from_slice(data);
        Ok(())
    }
}

fn config(now: &str) -> Config {
    let now = DateTime::parse_from_rfc3339(now)
        .expect("RFC 3339")
        .with_timezone(&Utc);
    let mut config = Config::default().with_clock(Arc::new(FixedClock::new(now)));
    config.argon2 = Argon2Params::insecure_fast();
    config
}

/// When the store is built; its short subscriptions expire before [`LATER`].
const SETUP: &str = "2026-01-01T12:00:00Z";
/// When the operations run.
const LATER: &str = "2026-02-01T12:00:00Z";

fn open(backend: Faulty) -> Institute {
    Institute::open_host_file(backend, config(LATER)).expect("the store opens")
}

/// The store as export text, without what differs between two runs of the
/// same operation (random UUIDs and password salts).
fn snapshot(institute: &Institute) -> Vec<Value> {
    fn scrub(v: &mut Value) {
        match v {
            Value::Object(map) => {
                map.remove("uuid");
                map.remove("password_hash");
                map.remove("sha256"); // the export trailer's checksum covers both
                map.values_mut().for_each(scrub);
            }
            Value::Array(items) => items.iter_mut().for_each(scrub),
            _ => {}
        }
    }
    let mut out = Vec::new();
    transfer::export(&institute.operator(), &mut out).expect("export");
    String::from_utf8(out)
        .expect("UTF-8")
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).expect("JSON line");
            scrub(&mut v);
            v
        })
        .collect()
}

fn user(name: &str, batches: &[&str], expires: Option<&str>) -> NewUser {
    NewUser {
        username: Some(name.into()),
        password: Some(format!("{name}-pass-1")),
        profile: ProfileInput {
            first_name: Some(name.to_uppercase()),
            ..ProfileInput::default()
        },
        batches: batches.iter().map(|b| b.to_string()).collect(),
        expires: expires.map(str::to_string),
        ..NewUser::default()
    }
}

/// The store every operation starts from: batches 1-3, a course (with its
/// hidden batch 4), a custom field, users 1-3 with memberships, some of them
/// expiring before [`LATER`].
fn base() -> Vec<u8> {
    let backend = Faulty::over(Vec::new());
    {
        let i = Institute::open_host_file(backend.clone(), config(SETUP)).expect("new store");
        let a = i.operator();
        for name in ["Alpha", "Beta", "Gamma"] {
            a.create_batch(BatchInput {
                name: Some(name.into()),
            })
            .expect("batch");
        }
        a.create_course(CourseInput {
            title: Some("Physics".into()),
            ..CourseInput::default()
        })
        .expect("course");
        a.create_custom_field(CustomFieldInput {
            name: Some("Roll".into()),
            kind: Some("text".into()),
            ..CustomFieldInput::default()
        })
        .expect("field");
        let options = CreateOptions::default;
        a.create_user(
            user("ann", &["Alpha", "Beta"], Some("2026-01-05")),
            options(),
        )
        .expect("ann");
        a.create_user(user("bob", &["Beta"], None), options())
            .expect("bob");
        a.create_user(user("cyd", &["Gamma"], Some("2026-01-10")), options())
            .expect("cyd");
        a.add_user_courses(2, &[1]).expect("course grant");
        assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
    }
    backend.live()
}

type Op = fn(&Admin) -> roster::Result<()>;

fn operations() -> Vec<(&'static str, Op)> {
    vec![
        ("create user with batches", |a| {
            let u = user("dee", &["Alpha", "Gamma"], Some("2026-03-01"));
            a.create_user(u, CreateOptions::default()).map(drop)
        }),
        ("update user", |a| {
            let patch = UserPatch {
                profile: ProfileInput {
                    first_name: Some("Robert".into()),
                    email: Some("bob@example.com".into()),
                    ..ProfileInput::default()
                },
                ..UserPatch::default()
            };
            a.update_user(2, patch).map(drop)
        }),
        ("delete user", |a| a.delete_user(2)),
        ("add subscriptions", |a| {
            a.add_user_subscriptions(3, &[1, 2], Some("2026-04-01"))
                .map(drop)
        }),
        ("import a chunk", |a| {
            let text = concat!(
                "{\"username\": \"eve\", \"password\": \"eve-pass-1\", \"batches\": [\"Alpha\"]}\n",
                "{\"username\": \"fay\", \"password\": \"fay-pass-1\", \"batches\": [\"Beta\", \"Gamma\"], \"expires\": \"2026-05-01\"}\n",
                "{\"username\": \"gus\", \"password\": \"gus-pass-1\"}\n",
            );
            let report =
                transfer::import(a, text.as_bytes(), &ImportOptions::default(), &mut |_| {})?;
            assert_eq!(report.created, 3, "{report:?}");
            Ok(())
        }),
        ("create course", |a| {
            a.create_course(CourseInput {
                title: Some("Chemistry".into()),
                ..CourseInput::default()
            })
            .map(drop)
        }),
        ("purge expired", |a| {
            assert_eq!(a.purge_expired()?, 3);
            Ok(())
        }),
    ]
}

/// Runs `op` on a fresh copy of `base` with a fault at mutating call `at`
/// (0: none); returns the backend, the result, and how many calls the
/// operation made.
fn run(base: &[u8], op: Op, at: u64, mode: Mode) -> (Faulty, roster::Result<()>, u64) {
    let backend = Faulty::over(base.to_vec());
    let institute = open(backend.clone());
    backend.arm(at, mode);
    let result = op(&institute.operator());
    let calls = backend.calls();
    drop(institute);
    (backend, result, calls)
}

#[test]
fn every_operation_survives_a_fault_at_every_write() {
    let base = base();
    let before = snapshot(&open(Faulty::over(base.clone())));
    let mut checked = 0;
    for (name, op) in operations() {
        let (clean, result, calls) = run(&base, op, 0, Mode::Crash);
        result.unwrap_or_else(|e| panic!("{name} without faults: {e}"));
        let after = snapshot(&open(Faulty::over(clean.live())));
        assert_ne!(before, after, "{name} changes the store");
        assert!(calls > 0, "{name} writes");
        for mode in [Mode::Crash, Mode::Once] {
            for at in 1..=calls {
                let (backend, result, _) = run(&base, op, at, mode);
                assert!(
                    backend.0.fired.load(Ordering::SeqCst),
                    "{name}: fault {at} fired"
                );
                for (image, bytes) in [("written", backend.live()), ("synced", backend.durable())] {
                    let what =
                        format!("{name}, {mode:?} fault at call {at}/{calls}, {image} bytes");
                    let reopened = Institute::open_host_file(Faulty::over(bytes), config(LATER))
                        .unwrap_or_else(|e| panic!("{what}: the store does not open: {e}"));
                    let problems = reopened.check_integrity().expect("integrity check runs");
                    assert!(problems.is_empty(), "{what}: {problems:?}");
                    let now = snapshot(&reopened);
                    if result.is_ok() {
                        assert!(now == after, "{what}: reported done but not all there");
                    } else {
                        assert!(
                            now == before || now == after,
                            "{what}: half-applied ({} lines before, {} after, {} found)",
                            before.len(),
                            after.len(),
                            now.len()
                        );
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} faults checked");
}
