//! The password gate seen from a whole institute: sign-ins, password
//! changes and the REST sign-in while the gate is full. (The gate's own
//! tests are next to it in `auth/gate.rs`; these need `api/` and `rest/`,
//! which sit above `auth/`.)

use crate::auth::gate::BUSY;
use crate::error::ErrorCode;

/// An institute whose gate lets one check run and none wait, with one
/// user `ada` (password `right-pass-1`) and a lock-out after 2 failures.
fn institute() -> (crate::Institute, u64) {
    let config = crate::Config {
        argon2: crate::Argon2Params::insecure_fast(),
        hash_concurrency: 1,
        hash_queue: 0,
        lockout: crate::LockoutPolicy {
            max_failures: 2,
            ..Default::default()
        },
        ..Default::default()
    };
    crate::api::with_ada(config)
}

/// The stored user `id`.
fn stored(institute: &crate::Institute, id: u64) -> crate::domain::user::User {
    institute
        .store()
        .reading(|txn| crate::store::read::user(txn, id))
        .unwrap()
        .unwrap()
}

#[test]
fn a_busy_sign_in_writes_nothing_and_counts_no_failure() {
    let (institute, id) = institute();
    let before = stored(&institute, id);
    let turn = institute.hashing_turn().unwrap();
    // Known user with a wrong password, known user with the right one,
    // unknown user: the same answer, from other threads as from this one.
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|i| {
                let institute = &institute;
                scope.spawn(move || {
                    let (name, password) = match i % 3 {
                        0 => ("ada", "wrong-pass"),
                        1 => ("ada", "right-pass-1"),
                        _ => ("nobody", "wrong-pass"),
                    };
                    institute.login(name, password).unwrap_err()
                })
            })
            .collect();
        for handle in handles {
            let err = handle.join().unwrap();
            assert_eq!(err.code(), ErrorCode::Busy);
            assert_eq!(err.message(), BUSY);
        }
    });
    drop(turn);
    assert_eq!(stored(&institute, id), before, "nothing written");
    // Not locked: the right password signs in now.
    institute.login("ada", "right-pass-1").unwrap();
}

#[test]
fn password_changes_wait_for_the_gate_too() {
    let (institute, id) = institute();
    let admin = institute.operator();
    let turn = institute.hashing_turn().unwrap();
    let patch = crate::UserPatch {
        password: Some("other-pass-2".into()),
        ..Default::default()
    };
    assert_eq!(
        admin.update_user(id, patch).unwrap_err().code(),
        ErrorCode::Busy
    );
    let input = crate::NewUser {
        username: Some("bob".into()),
        password: Some("right-pass-1".into()),
        ..Default::default()
    };
    assert_eq!(
        admin
            .create_user(input, Default::default())
            .unwrap_err()
            .code(),
        ErrorCode::Busy
    );
    drop(turn);
    assert!(admin.find_user("bob").is_err(), "bob was not created");
    institute.login("ada", "right-pass-1").unwrap();
}

#[test]
fn concurrent_sign_ins_are_busy_or_counted_never_both() {
    let config = crate::Config {
        hash_concurrency: 1,
        hash_queue: 0,
        lockout: crate::LockoutPolicy {
            max_failures: 1000,
            ..Default::default()
        },
        ..Default::default()
    };
    let (institute, id) = crate::api::with_ada(config);
    let barrier = std::sync::Barrier::new(8);
    let codes: Vec<ErrorCode> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (institute, barrier) = (&institute, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    institute.login("ada", "wrong-pass").unwrap_err().code()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let counted = codes
        .iter()
        .filter(|c| **c == ErrorCode::Unauthenticated)
        .count();
    assert!(
        codes
            .iter()
            .all(|c| matches!(c, ErrorCode::Unauthenticated | ErrorCode::Busy)),
        "{codes:?}"
    );
    assert!(counted >= 1, "the first one always gets a turn");
    assert_eq!(stored(&institute, id).failed_logins as usize, counted);
    assert_eq!(institute.gate().load(), (0, 0));
}

#[test]
fn a_busy_sign_in_over_rest_is_503_with_retry_after() {
    let (institute, _) = institute();
    let turn = institute.hashing_turn().unwrap();
    for username in ["ada", "nobody"] {
        let mut request = crate::rest::Request::new("POST", "/api/v2.5/auth-token/");
        request.headers = vec![("Content-Type".into(), "application/json".into())];
        let body = serde_json::json!({"username": username, "password": "wrong-pass"});
        request.body = Some(body.to_string().into_bytes());
        let response = crate::rest::handle(&institute, request);
        assert_eq!(response.status, 503, "{:?}", response.body);
        let header = |name: &str| {
            response
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(header("Retry-After"), Some("1"));
        let body: serde_json::Value =
            serde_json::from_str(response.body.as_deref().unwrap()).unwrap();
        assert_eq!(body, serde_json::json!({ "detail": BUSY }));
    }
    drop(turn);
}

#[test]
fn an_import_hashes_on_as_many_threads_as_the_gate_lets_run() {
    let config = crate::Config {
        argon2: crate::Argon2Params::insecure_fast(),
        hash_concurrency: 3,
        hash_queue: 0,
        ..Default::default()
    };
    let (institute, _) = crate::api::with_ada(config);
    let admin = institute.operator();
    let rows = |names: &[&str]| -> Vec<crate::ImportRow> {
        names
            .iter()
            .map(|name| crate::ImportRow {
                line: 1,
                user: crate::NewUser {
                    username: Some((*name).into()),
                    password: Some("right-pass-1".into()),
                    ..Default::default()
                },
                password_hash: None,
                errors: Default::default(),
            })
            .collect()
    };
    // Seven passwords on three threads (3 + 3 + 1); each thread is new.
    let before = institute.gate().threads();
    let report = admin
        .import_rows(rows(&["u1", "u2", "u3", "u4", "u5", "u6", "u7"]))
        .unwrap();
    assert_eq!(report.created, 7, "{report:?}");
    assert_eq!(institute.gate().threads(), before + 3);
    // Two passwords: two threads, not three.
    admin.import_rows(rows(&["u8", "u9"])).unwrap();
    assert_eq!(institute.gate().threads(), before + 5);
    assert_eq!(institute.gate().load(), (0, 0));
    institute.login("u9", "right-pass-1").unwrap();
}
