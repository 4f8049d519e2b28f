//! Django's other default hashers (`bcrypt_sha256`, `scrypt`) arriving by
//! import: they sign in and are replaced by argon2id, within cost caps; an
//! unsupported algorithm is named in the report (SPEC A4; issue 9 item 9d).

use roster::transfer::{self, ImportOptions};
use roster::{ErrorCode, Institute};
use roster_tests::{SEED_NOW, institute};
use serde_json::json;

/// Made by Django 5.2.19 (`make_password("welcome", hasher=...)`; the
/// bcrypt one with cost 4, the scrypt one with n = 1024, to keep the test
/// fast: the code path is the same).
const BCRYPT_SHA256: &str =
    "bcrypt_sha256$$2b$04$/A/7wjiiUj5ePK7SqJDzxuMdTzn81tjYnpX6QWKMbyjyXPiQIyGrW";
const SCRYPT: &str = "scrypt$1024$eV75SsdPRoV7OtovKaarNe$8$1$jMooVbCTntzhq2pppmdQB8zg0eSWz54j5GPEndkkZx9is6tLp3IGC0m7EUWcHU+Y/4VX7gFdGlqqPPtP2cBeIQ==";

fn import(i: &Institute, rows: &[serde_json::Value]) -> roster::ImportReport {
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    transfer::import(
        &i.operator(),
        text.as_bytes(),
        &ImportOptions::default(),
        &mut |_| {},
    )
    .expect("import runs")
}

fn export(i: &Institute) -> String {
    let mut out = Vec::new();
    transfer::export(&i.operator(), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn bcrypt_sha256_and_scrypt_sign_in_and_are_upgraded_to_argon2id() {
    let (i, _) = institute(SEED_NOW);
    let report = import(
        &i,
        &[
            json!({"username": "bee", "password_hash": BCRYPT_SHA256}),
            json!({"username": "ess", "password_hash": SCRYPT}),
        ],
    );
    assert_eq!(report.created, 2, "{report:?}");
    for (user, prefix) in [("bee", "bcrypt_sha256$"), ("ess", "scrypt$")] {
        assert!(export(&i).contains(prefix), "{user}");
        assert_eq!(
            i.login(user, "Welcome").unwrap_err().code(),
            ErrorCode::Unauthenticated
        );
        i.login(user, "welcome")
            .expect("the Django password signs in");
        assert!(!export(&i).contains(prefix), "{user}: replaced on sign-in");
        i.login(user, "welcome").expect("and still signs in");
    }
}

#[test]
fn over_the_caps_and_unsupported_algorithms_are_named() {
    let (i, _) = institute(SEED_NOW);
    let tail = &BCRYPT_SHA256["bcrypt_sha256$$2b$04$".len()..];
    let key = &SCRYPT[SCRYPT.rfind('$').unwrap() + 1..];
    let report = import(
        &i,
        &[
            json!({"username": "a", "password_hash": format!("bcrypt_sha256$$2b$15${tail}")}),
            json!({"username": "b", "password_hash": format!("scrypt$1048576$salt$8$1${key}")}),
            json!({"username": "c", "password_hash": "md5$seasalt$e4e6ec1e049f1729c2c222751e480ad4"}),
            json!({"username": "d", "password_hash": "5f4dcc3b5aa765d61d8327deb882cf99"}),
        ],
    );
    assert_eq!(report.created, 0, "{report:?}");
    let reasons: Vec<&str> = report.rejected.iter().map(|r| r.reason.as_str()).collect();
    assert!(
        reasons[0].contains("bcrypt cost 15") && reasons[0].contains("cap"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].contains("scrypt") && reasons[1].contains("cap"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].contains("unsupported password hash algorithm \"md5\""),
        "{reasons:?}"
    );
    assert!(reasons[3].contains("format"), "{reasons:?}");
}
