//! What one wrong sign-in costs for each kind of stored hash, at Django's
//! defaults and at roster's import caps, beside roster's own argon2id
//! (issue 9 item 9e: the price of keeping Django passwords). Prints a
//! Markdown table; run with
//! `cargo run --release -p roster --example legacy_timing`.
use argon2::password_hash::PasswordHasher;
use base64ct::{Base64, Encoding};
use roster::transfer::{ImportOptions, import};
use roster::{Config, Institute, Settings};
use sha2::Digest;
use std::time::Instant;

fn pbkdf2(pw: &str, it: u32) -> String {
    let mut key = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(pw.as_bytes(), b"saltsaltsalt", it, &mut key);
    format!(
        "pbkdf2_sha256${it}$saltsaltsalt${}",
        Base64::encode_string(&key)
    )
}
fn bcrypt_sha256(pw: &str, cost: u32) -> String {
    let hex: String = sha2::Sha256::digest(pw.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let parts = bcrypt::hash_with_salt(hex.as_bytes(), cost, [7u8; 16]).unwrap();
    format!(
        "bcrypt_sha256${}",
        parts.format_for_version(bcrypt::Version::TwoB)
    )
}
fn scrypt_h(pw: &str, log_n: u8, r: u32, p: u32) -> String {
    let mut key = [0u8; 64];
    scrypt::scrypt(
        pw.as_bytes(),
        b"saltsalt",
        &scrypt::Params::new(log_n, r, p).unwrap(),
        &mut key,
    )
    .unwrap();
    format!(
        "scrypt${}$saltsalt${r}${p}${}",
        1u64 << log_n,
        Base64::encode_string(&key)
    )
}
fn argon2_h(pw: &str, m: u32, t: u32, p: u32) -> String {
    let a = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(m, t, p, None).unwrap(),
    );
    format!("argon2{}", a.hash_password(pw.as_bytes()).unwrap())
}

fn main() {
    let config = Config::try_from(Settings {
        lockout_max_failures: Some(0),
        ..Default::default()
    })
    .unwrap();
    let i = Institute::in_memory(config).unwrap();
    let pw = "welcome-pass";
    let cases: Vec<(&str, String)> = vec![
        (
            "pbkdf2_sha256 Django 5.2 default (1,000,000)",
            pbkdf2(pw, 1_000_000),
        ),
        ("pbkdf2_sha256 cap (2,000,000)", pbkdf2(pw, 2_000_000)),
        (
            "argon2 Django default (m=102400,t=2,p=8)",
            argon2_h(pw, 102400, 2, 8),
        ),
        (
            "argon2 cap (m=262144,t=10,p=1)",
            argon2_h(pw, 262144, 10, 1),
        ),
        (
            "bcrypt_sha256 Django default (cost 12)",
            bcrypt_sha256(pw, 12),
        ),
        ("bcrypt_sha256 cap (cost 14)", bcrypt_sha256(pw, 14)),
        (
            "scrypt Django 5.2 default (n=2^14,r=8,p=5)",
            scrypt_h(pw, 14, 8, 5),
        ),
        (
            "scrypt cap, memory (n=2^18,r=8,p=1)",
            scrypt_h(pw, 18, 8, 1),
        ),
        (
            "scrypt cap, work (n=2^14,r=8,p=16)",
            scrypt_h(pw, 14, 8, 16),
        ),
    ];
    let mut text = String::new();
    for (n, (_, h)) in cases.iter().enumerate() {
        text.push_str(
            &serde_json::json!({"username": format!("u{n}"), "password_hash": h}).to_string(),
        );
        text.push('\n');
    }
    let r = import(
        &i.operator(),
        text.as_bytes(),
        &ImportOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(r.created as usize, cases.len(), "{r:?}");
    i.create_superuser("native", pw).unwrap();
    let time = |user: &str| {
        let mut v: Vec<f64> = (0..5)
            .map(|_| {
                let t = Instant::now();
                let _ = i.login(user, "wrong-guess");
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[2]
    };
    println!(
        "| roster argon2id default (m=19456,t=2,p=1) | {:.0} ms |",
        time("native")
    );
    for (n, (name, _)) in cases.iter().enumerate() {
        println!("| {name} | {:.0} ms |", time(&format!("u{n}")));
    }
    println!("| unknown user (decoy) | {:.0} ms |", time("nobody"));
}
