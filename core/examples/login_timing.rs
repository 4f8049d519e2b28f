//! What one sign-in costs, by outcome, with the default configuration on a
//! store file (SPEC A2: every failure gives the same answer after the same
//! work). Interleaves the cases round by round and prints the median and
//! 90th percentile of each as a Markdown table; run with
//! `cargo run --release -p roster --example login_timing [ROUNDS]`.
use argon2::password_hash::PasswordHasher;
use roster::transfer::{ImportOptions, import};
use roster::{Config, Institute, NewUser, UserPatch};
use std::time::Instant;

const PASSWORD: &str = "welcome-pass-1";

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let dir = std::env::temp_dir().join(format!("roster-login-timing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("store.redb");

    // The first sign-in of a fresh institute, unknown user then known user,
    // each on its own institute: the one-off cost of anything made lazily.
    let mut first = Vec::new();
    for (label, user) in [
        ("first sign-in, unknown user", "nobody"),
        ("first sign-in, known user (wrong password)", "ada"),
    ] {
        let mut v = Vec::new();
        for n in 0..5 {
            let p = dir.join(format!("first-{user}-{n}.redb"));
            let i = Institute::open(&p, Config::default()).unwrap();
            i.create_superuser("ada", PASSWORD).unwrap();
            let t = Instant::now();
            let _ = i.login(user, "wrong-guess");
            v.push(ms(t));
            drop(i);
            std::fs::remove_file(&p).unwrap();
        }
        first.push((label, v));
    }

    let i = Institute::open(&path, Config::default()).unwrap();
    let admin = i.operator();
    let make = |name: &str| {
        let input = NewUser {
            username: Some(name.into()),
            password: Some(PASSWORD.into()),
            ..Default::default()
        };
        admin
            .create_user(input, Default::default())
            .unwrap()
            .user
            .id
    };
    let known = make("known");
    let right = make("right");
    let locked = make("locked");
    let inactive = make("inactive");
    let blocked = make("blocked");
    let patch = |is_active, is_blocked| UserPatch {
        is_active: Some(is_active),
        is_blocked: Some(is_blocked),
        ..Default::default()
    };
    admin.update_user(inactive, patch(false, false)).unwrap();
    admin.update_user(blocked, patch(true, true)).unwrap();
    // A Django argon2 hash at roster's own default costs, so the legacy path
    // is compared at equal argon2 work.
    let django = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(19456, 2, 1, None).unwrap(),
    )
    .hash_password(PASSWORD.as_bytes())
    .unwrap();
    let line =
        serde_json::json!({"username": "legacy", "password_hash": format!("argon2{django}")});
    let r = import(
        &admin,
        format!("{line}\n").as_bytes(),
        &ImportOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(r.created, 1, "{r:?}");
    let lock = |i: &Institute| {
        for _ in 0..i.config().lockout.max_failures {
            let _ = i.login("locked", "wrong-guess");
        }
    };
    lock(&i);

    let cases: [(&str, &str, &str); 8] = [
        ("unknown user", "nobody", "wrong-guess"),
        ("unknown email", "nobody@example.org", "wrong-guess"),
        ("known user, wrong password", "known", "wrong-guess"),
        ("known user, right password", "right", PASSWORD),
        ("locked user, right password", "locked", PASSWORD),
        ("inactive user, right password", "inactive", PASSWORD),
        ("blocked user, right password", "blocked", PASSWORD),
        (
            "Django argon2 hash, wrong password",
            "legacy",
            "wrong-guess",
        ),
    ];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    for round in 0..rounds {
        for k in 0..cases.len() {
            let c = (k + round) % cases.len();
            let (_, user, password) = cases[c];
            // Keep the known user below the lock-out, the locked one locked
            // (untimed).
            if user == "known" {
                admin.unlock_user(known).unwrap();
            }
            if user == "locked" {
                lock(&i);
            }
            let t = Instant::now();
            let r = i.login(user, password);
            times[c].push(ms(t));
            assert_eq!(r.is_ok(), user == "right", "{user}: {r:?}");
        }
    }
    let _ = (right, locked);
    let stats = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        (at(0.5), at(0.9), v.len())
    };
    println!("| case | median | p90 | n |\n|---|---|---|---|");
    for (c, (label, _, _)) in cases.iter().enumerate() {
        let (m, p, n) = stats(&mut times[c]);
        println!("| {label} | {m:.2} ms | {p:.2} ms | {n} |");
    }
    for (label, mut v) in first {
        let (m, p, n) = stats(&mut v);
        println!("| {label} | {m:.2} ms | {p:.2} ms | {n} |");
    }
    drop(i);
    std::fs::remove_dir_all(&dir).unwrap();
}
