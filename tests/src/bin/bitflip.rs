//! The bit-flip harness (issue 9, item 3): damaged stores never panic,
//! never hang, never allocate without bound, never answer wrong data; the
//! damage is found by `check` and what can be read is saved by `recover`.
//!
//! `bitflip build <db> <expect.json> [--users N]` builds a realistic store
//! (users with batches, subscriptions, custom values, groups, courses) and
//! writes what a sound read of it answers.
//!
//! `bitflip probe <db> <expect.json> <workdir>` runs, on a damaged copy,
//! `check`, opens it, exports it (compared with the sound export), reads a
//! sample of users (by id, by email, by signing in), and runs `recover` into
//! `<workdir>`; it prints one JSON line of facts and exits 0. The
//! integration test `bitflip` runs it as a child under memory and time
//! limits.
//!
//! `bitflip writer <db>` creates users in `<db>` one transaction each,
//! printing `done <n>` after each commit, until it is killed.
//!
//! `bitflip measure <db> --flips K [--seed S]` (release, for the notes)
//! flips K bits of a copy of `<db>` and prints what `recover` saved.

use roster::store::recover;
use roster::{ErrorCode, GroupInput, Institute, NewUser, ProfileInput};
use roster_tests::{SEED_NOW, call, config, splitmix64};
use serde_json::{Value, json};
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    let flag = |name: &str, default: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    match arg(0) {
        "build" => build(Path::new(arg(1)), Path::new(arg(2)), flag("--users", 2000)),
        "probe" => probe(Path::new(arg(1)), Path::new(arg(2)), Path::new(arg(3))),
        "measure" => measure(Path::new(arg(1)), flag("--flips", 8), flag("--seed", 1)),
        "writer" => writer(Path::new(arg(1))),
        _ => {
            eprintln!("usage: bitflip build|probe|measure ...");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

fn password(i: u64) -> String {
    format!("pw-{i}-secret")
}

/// A store in memory whose bytes are kept: the store is built without a
/// sync per commit, then written to the file once.
#[derive(Debug, Clone, Default)]
struct Bytes(Arc<Mutex<Vec<u8>>>);

impl roster::HostFile for Bytes {
    fn len(&self) -> std::io::Result<u64> {
        Ok(self.0.lock().expect("lock").len() as u64)
    }
    fn read_at(&self, offset: u64, out: &mut [u8]) -> std::io::Result<()> {
        let bytes = self.0.lock().expect("lock");
        let start = offset as usize;
        out.copy_from_slice(&bytes[start..start + out.len()]);
        Ok(())
    }
    fn set_len(&self, len: u64) -> std::io::Result<()> {
        self.0.lock().expect("lock").resize(len as usize, 0);
        Ok(())
    }
    fn sync(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn write_at(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        let mut bytes = self.0.lock().expect("lock");
        let start = offset as usize;
        if bytes.len() < start + data.len() {
            bytes.resize(start + data.len(), 0);
        }
        bytes[start..start + data.len()].copy_from_slice(data);
        Ok(())
    }
}

/// Builds the store and writes the expectations: what a sound store's
/// export holds, and how it shows every user.
fn build(db: &Path, expect: &Path, users: u64) {
    let (config, _) = config(SEED_NOW);
    let memory = Bytes::default();
    let i = Institute::open_host_file(memory.clone(), config).expect("create");
    let admin = i.operator();
    let post = |path: &str, body: Value| {
        let r = call(&i, "POST", &format!("/api/v2.5/admin/{path}"), Some(body));
        assert!(r.status < 300, "{path}: {} {:?}", r.status, r.body);
    };
    for b in 0..20 {
        post("batches/", json!({"name": format!("Batch {b}")}));
    }
    post(
        "custom-fields/",
        json!({"name": "Graduation Year", "type": "number"}),
    );
    post("custom-fields/", json!({"name": "College", "type": "text"}));
    for c in 0..5 {
        post(
            "courses/",
            json!({"title": format!("Course {c}"), "is_public": true}),
        );
    }
    let groups: Vec<u64> = (0..5)
        .map(|g| {
            admin
                .create_group(GroupInput {
                    name: Some(format!("Group {g}")),
                    permissions: Some(vec![1 + g]),
                })
                .expect("group")
                .id
        })
        .collect();
    for n in 1..=users {
        if n % 10 == 0 {
            let user = NewUser {
                username: Some(format!("user{n}")),
                password: Some(password(n)),
                profile: ProfileInput {
                    email: Some(format!("user{n}@example.com")),
                    first_name: Some(format!("First{n}")),
                    ..Default::default()
                },
                access: roster::AccessInput {
                    is_staff: Some(true),
                    groups: Some(vec![groups[(n as usize / 10) % groups.len()]]),
                    ..Default::default()
                },
                ..Default::default()
            };
            admin.create_user(user, Default::default()).expect("staff");
        } else {
            post(
                "users/",
                json!({"username": format!("user{n}"), "password": password(n),
                    "email": format!("user{n}@example.com"), "phone": format!("9{:09}", n),
                    "first_name": format!("First{n}"), "last_name": "Appleseed", "city": "Chennai",
                    "batches": [format!("Batch {}", n % 20), format!("Batch {}", (n * 7) % 20)],
                    "expires": "2027-01-13",
                    "custom_fields": {"Graduation Year": 2000 + n % 25, "College": format!("College {}", n % 40)}}),
            );
        }
    }
    let views: Vec<Value> = (1..=users).map(|id| user_json(&i, id).1).collect();
    let mut export = Vec::new();
    roster::transfer::export(&admin, &mut export).expect("export");
    drop(admin);
    drop(i);
    std::fs::write(db, memory.0.lock().expect("lock").as_slice()).expect("write store");
    // Once opened and closed as a file, the store is marked clean, as a
    // store in use is.
    let (again, _) = roster_tests::config(SEED_NOW);
    drop(Institute::open(db, again).expect("reopen"));
    let export = String::from_utf8(export).expect("utf-8");
    let expected = json!({"users": users, "views": views, "export": export});
    std::fs::write(expect, expected.to_string()).expect("write expectations");
}

fn user_json(i: &Institute, id: u64) -> (u16, Value) {
    let r = call(i, "GET", &format!("/api/v2.5/admin/users/{id}/"), None);
    (r.status, r.json())
}

/// The facts about one damaged copy, as one JSON line.
fn probe(db: &Path, expect: &Path, work: &Path) {
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(expect).expect("expectations"))
            .expect("json");
    let users = expected["users"].as_u64().expect("users");
    let views = expected["views"].as_array().expect("views");
    let mut facts = serde_json::Map::new();
    let report = recover::check(db).expect("copy");
    facts.insert("sound".into(), json!(report.is_sound()));
    facts.insert("problems".into(), json!(report.problems.len()));
    facts.insert(
        "first_problem".into(),
        json!(report.problems.first().cloned().unwrap_or_default()),
    );
    // Reads happen on a copy: opening writes (the version stamp, a repair).
    let copy = work.join("read.redb");
    std::fs::copy(db, &copy).expect("copy");
    let (config, _) = config(SEED_NOW);
    let (mut ok, mut errors, mut wrong, mut misses) = (0u64, 0u64, 0u64, 0u64);
    let mut readable_users = 0u64;
    match Institute::open(&copy, config) {
        Err(e) => {
            facts.insert("open".into(), json!(e.code().as_str()));
        }
        Ok(i) => {
            facts.insert("open".into(), json!("ok"));
            // The export reads everything: when it succeeds it must hold
            // exactly what the sound store held (before the sign-ins below).
            let mut out = Vec::new();
            let verdict = match roster::transfer::export(&i.operator(), &mut out) {
                Err(e) => e.code().as_str().to_string(),
                Ok(_) if out == expected["export"].as_str().unwrap_or("").as_bytes() => "ok".into(),
                Ok(_) => {
                    wrong += 1;
                    "differs".into()
                }
            };
            facts.insert("export".into(), json!(verdict));
            for id in (1..=users).filter(|id| id % 7 == 1) {
                let (status, body) = user_json(&i, id);
                if status == 200 {
                    ok += 1;
                    readable_users += 1;
                    if body != views[id as usize - 1] {
                        wrong += 1;
                    }
                } else {
                    errors += 1;
                }
                if id % 49 == 1 {
                    // By email (an index hit, checked against the record).
                    let r = call(
                        &i,
                        "GET",
                        &format!("/api/v2.5/admin/users/?email=user{id}@example.com"),
                        None,
                    );
                    if r.status == 200 {
                        match r.json()["results"].as_array().map(Vec::as_slice) {
                            Some([one]) if one["id"] == json!(id) => ok += 1,
                            Some([]) => misses += 1,
                            _ => wrong += 1,
                        }
                    } else {
                        errors += 1;
                    }
                }
                if id % 245 == 1 {
                    match i.login(&format!("user{id}"), &password(id)) {
                        Ok(login) if login.user == id => ok += 1,
                        Ok(_) => wrong += 1,
                        Err(e) if e.code() == ErrorCode::Unauthenticated => misses += 1,
                        Err(_) => errors += 1,
                    }
                }
            }
            let r = call(
                &i,
                "GET",
                "/api/v2.5/admin/users/?per_page=100&page=3",
                None,
            );
            if r.status == 200 {
                ok += 1;
            } else {
                errors += 1;
            }
        }
    }
    facts.insert("reads_ok".into(), json!(ok));
    facts.insert("read_errors".into(), json!(errors));
    facts.insert("misses".into(), json!(misses));
    facts.insert("wrong".into(), json!(wrong));
    facts.insert("readable_users".into(), json!(readable_users));
    let to = work.join("recovered.redb");
    let _ = std::fs::remove_file(&to);
    match recover::recover(db, &to) {
        Err(e) => {
            facts.insert("recover".into(), json!(e.code().as_str()));
        }
        Ok(r) => {
            facts.insert("recover".into(), json!("ok"));
            facts.insert("carved".into(), json!(r.carved));
            let saved_users = r
                .entities
                .iter()
                .find(|e| e.entity == "users")
                .map_or(0, |e| e.saved);
            facts.insert("saved_users".into(), json!(saved_users));
            facts.insert("saved".into(), json!(r.saved()));
            facts.insert(
                "recovered_sound".into(),
                json!(recover::check(&to).is_ok_and(|c| c.is_sound())),
            );
        }
    }
    println!("{}", Value::Object(facts));
}

/// Flips `flips` seeded bits of a copy of `db` and prints what recover saved.
fn measure(db: &Path, flips: u64, seed: u64) {
    let dir = tempfile::tempdir().expect("dir");
    let damaged = dir.path().join("damaged.redb");
    let mut bytes = std::fs::read(db).expect("read");
    let mut state = seed;
    for _ in 0..flips {
        let at = (splitmix64(&mut state) % bytes.len() as u64) as usize;
        bytes[at] ^= 1 << (splitmix64(&mut state) % 8);
    }
    std::fs::write(&damaged, &bytes).expect("write");
    let started = std::time::Instant::now();
    let check = recover::check(&damaged).expect("check");
    println!(
        "check: {} problem(s) in {:.1?}",
        check.problems.len(),
        started.elapsed()
    );
    let started = std::time::Instant::now();
    let report = recover::recover(&damaged, &dir.path().join("new.redb")).expect("recover");
    println!(
        "recover in {:.1?}: opened {}, carved {}",
        started.elapsed(),
        report.opened,
        report.carved
    );
    for e in &report.entities {
        println!(
            "  {:<14} saved {:>7} lost {:?} carved {}",
            e.entity, e.saved, e.lost, e.carved
        );
    }
    for n in &report.notes {
        println!("  note: {n}");
    }
}

/// Creates users until killed, printing `done <n>` after each commit.
fn writer(db: &Path) {
    use std::io::Write;
    let (config, _) = config(SEED_NOW);
    let i = Institute::open(db, config).expect("open");
    let admin = i.operator();
    let mut out = std::io::stdout();
    for n in 1.. {
        let user = NewUser {
            username: Some(format!("user{n}")),
            password: Some(password(n)),
            ..Default::default()
        };
        admin.create_user(user, Default::default()).expect("create");
        writeln!(out, "done {n}").expect("stdout");
        out.flush().expect("flush");
    }
}
