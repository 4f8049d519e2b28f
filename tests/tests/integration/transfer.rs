//! Bulk import, export and restore (X1, X2), and legacy hashes arriving
//! by import (A4).

use roster::transfer::{self, ImportOptions};
use roster::{ErrorCode, Institute};
use roster_tests::{SEED_NOW, expect, institute, snapshot};
use serde_json::json;

fn import(i: &Institute, text: &str, options: &ImportOptions) -> roster::ImportReport {
    transfer::import(&i.operator(), text.as_bytes(), options, &mut |_| {}).expect("import runs")
}

fn export(i: &Institute) -> String {
    let mut out = Vec::new();
    transfer::export(&i.operator(), &mut out).expect("export");
    String::from_utf8(out).expect("UTF-8")
}

/// A Django `pbkdf2_sha256` hash of `password`, made here from the
/// documented format.
fn django_pbkdf2(password: &str, salt: &str, iterations: u32) -> String {
    use base64ct::Encoding;
    let mut key = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt.as_bytes(), iterations, &mut key);
    format!(
        "pbkdf2_sha256${iterations}${salt}${}",
        base64ct::Base64::encode_string(&key)
    )
}

#[test]
fn csv_rows_are_applied_whole_or_reported_with_their_line() {
    let (i, _) = institute(SEED_NOW);
    expect(
        &i,
        "POST",
        "/api/v2.5/admin/batches/",
        Some(json!({"name": "Test Batch"})),
        201,
    );
    expect(
        &i,
        "POST",
        "/api/v2.5/admin/custom-fields/",
        Some(json!({"name": "Year", "type": "number"})),
        201,
    );
    // `note` is no field: ignored, like unknown body fields. Its quoted
    // cell spans two lines of the file.
    let csv = "username,password,email,address1,batches,custom_fields.Year,note\n\
               ravi,secret-1,ravi@x.in,\"12 Main Road, Chennai\",Test Batch,2020,\"two\nlines\"\n\
               bad name,secret-1,,,,,\n\
               asha,secret-1,asha@x.in,,Nope,nineteen,\n\
               ravi2,secret-1,RAVI@X.IN,,,,\n\
               meena,secret-1,,,test batch,,\n";
    let options = ImportOptions {
        chunk_size: 2,
        ..Default::default()
    };
    let report = import(&i, csv, &options);
    assert_eq!(report.created, 2, "{report:?}");
    let lines: Vec<(u64, &str)> = report
        .rejected
        .iter()
        .map(|r| (r.line, r.username.as_str()))
        .collect();
    // The quoted cell spans lines 2-3, so the rows after it start one later.
    assert_eq!(lines, [(4, "bad name"), (5, "asha"), (6, "ravi2")]);
    let asha = &report.rejected[1].reason;
    assert!(
        asha.contains("batches") && asha.contains("custom_fields"),
        "every problem of the row: {asha}"
    );
    assert!(
        report.rejected[2].reason.contains("email"),
        "emails are unique ignoring case"
    );
    let ravi = expect(
        &i,
        "GET",
        "/api/v2.5/admin/users/?email=ravi@x.in",
        None,
        200,
    );
    assert_eq!(ravi["results"][0]["address1"], "12 Main Road, Chennai");
    assert_eq!(ravi["results"][0]["custom_fields"], json!({"Year": 2020}));
    assert_eq!(ravi["results"][0]["batches"][0]["name"], "Test Batch");
    assert!(i.check_integrity().expect("check").is_empty());
}

#[test]
fn a_batch_and_expiry_for_every_row() {
    let (i, _) = institute(SEED_NOW);
    expect(
        &i,
        "POST",
        "/api/v2.5/admin/batches/",
        Some(json!({"name": "Summer 2023"})),
        201,
    );
    let jsonl = "{\"username\": \"a\", \"password\": \"secret-1\"}\n\n{\"username\": \"b\", \"password\": \"secret-1\", \"expires\": \"2023-03-01\"}\n";
    let options = ImportOptions {
        batches: vec!["summer 2023".into()],
        expires: Some("2023-02-01".into()),
        ..Default::default()
    };
    let report = import(&i, jsonl, &options);
    assert_eq!(
        (report.created, report.rejected.len()),
        (2, 0),
        "{report:?}"
    );
    let admin = i.operator();
    for (id, expires) in [(1, "2023-02-01"), (2, "2023-03-01")] {
        let subs = admin
            .user_subscriptions(id, Default::default())
            .expect("subs");
        assert_eq!(
            subs.items[0].expires.map(|d| d.to_string()).as_deref(),
            Some(expires),
            "user {id}"
        );
    }
}

#[test]
fn json_lines_rows_that_are_not_objects_or_json_are_reported() {
    let (i, _) = institute(SEED_NOW);
    let jsonl = "{\"username\": \"a\", \"password\": \"secret-1\"}\n[1,2]\n{oops\n{\"username\": 5, \"password\": \"secret-1\", \"zip\": \"0\"}\n";
    let report = import(&i, jsonl, &ImportOptions::default());
    assert_eq!(report.created, 1);
    let lines: Vec<u64> = report.rejected.iter().map(|r| r.line).collect();
    assert_eq!(lines, [2, 3, 4]);
    let typed = &report.rejected[2].reason;
    assert!(
        typed.contains("username: Not a valid string.") && typed.contains("zip"),
        "{typed}"
    );
}

#[test]
fn django_hashes_sign_in_and_are_upgraded_to_argon2id() {
    let (i, _) = institute(SEED_NOW);
    let hash = django_pbkdf2("welcome", "zaz1v370q51a", 12000);
    let row = json!({"username": "goodboy", "password_hash": hash});
    let report = import(&i, &format!("{row}\n"), &ImportOptions::default());
    assert_eq!(report.created, 1, "{report:?}");
    assert!(export(&i).contains("pbkdf2_sha256$12000$"));
    assert_eq!(
        i.login("goodboy", "wrong").unwrap_err().code(),
        ErrorCode::Unauthenticated
    );
    i.login("goodboy", "welcome")
        .expect("the Django password signs in");
    let after = export(&i);
    assert!(!after.contains("pbkdf2_sha256"), "replaced on sign-in");
    assert!(after.contains("$argon2id$v=19$"));
    i.login("goodboy", "welcome").expect("and still signs in");
}

#[test]
fn hashes_above_the_cost_caps_and_unknown_kinds_are_refused() {
    let (i, _) = institute(SEED_NOW);
    let rows = [
        json!({"username": "a", "password_hash": "pbkdf2_sha256$2000001$salt$ipNrjQCWNOAmdFsHWPHHZ1i1+5hxF5LxHZ+VfFZ9mrM="}),
        json!({"username": "b", "password_hash": "argon2$argon2id$v=19$m=262145,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"}),
        json!({"username": "c", "password_hash": "md5$salt$abc"}),
        json!({"username": "d", "password_hash": "!", "password": "secret-1"}),
        json!({"username": "e", "password_hash": "!"}),
    ];
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    let report = import(&i, &text, &ImportOptions::default());
    assert_eq!(
        report.created, 1,
        "only the unusable-password row: {report:?}"
    );
    assert!(report.rejected[0].reason.contains("cap"));
    assert!(report.rejected[1].reason.contains("cap"));
    assert!(report.rejected[2].reason.contains("unsupported"));
    assert!(report.rejected[3].reason.contains("not both"));
    assert_eq!(
        i.login("e", "!").unwrap_err().code(),
        ErrorCode::Unauthenticated,
        "'!' never signs in"
    );
}

/// A store with one of everything.
fn populated() -> Institute {
    let (i, clock) = institute(SEED_NOW);
    let post = |path: &str, body: serde_json::Value| {
        expect(
            &i,
            "POST",
            &format!("/api/v2.5/admin/{path}"),
            Some(body),
            201,
        )
    };
    post("batches/", json!({"name": "Test Batch"}));
    post(
        "custom-fields/",
        json!({"name": "Stream", "type": "choice", "choices": ["Science", "Arts"]}),
    );
    post(
        "courses/",
        json!({"title": "Language training", "is_public": true}),
    );
    post("courses/1/batches/", json!({"batches": [1]}));
    post(
        "users/",
        json!({"username": "lorem", "password": "ipsum1$", "email": "t@x.in", "state": "IN-TN", "birth_date": "03/07/2016",
        "batches": ["Test Batch"], "expires": "2023-01-13", "custom_fields": {"stream": "arts"}}),
    );
    post(
        "users/2/courses/".replace("2", "1").as_str(),
        json!({"courses": [1]}),
    );
    i.operator()
        .create_group(roster::GroupInput {
            name: Some("Registrars".into()),
            permissions: Some(vec![1, 2]),
        })
        .expect("group");
    i.create_superuser("admin", "admin-pass-1")
        .expect("superuser");
    expect(
        &i,
        "DELETE",
        "/api/v2.5/admin/users/1/courses/",
        Some(json!({"courses": [1]})),
        204,
    );
    clock.advance(chrono::Duration::hours(1));
    i
}

#[test]
fn export_then_restore_then_export_is_identical() {
    let source = populated();
    let first = export(&source);
    assert!(
        first
            .lines()
            .next()
            .is_some_and(|l| l.contains("roster-export"))
    );
    assert!(
        first.contains("$argon2id$"),
        "hashes are exported, so a restore keeps passwords"
    );
    let (target, _) = institute(SEED_NOW);
    let report = import(&target, &first, &ImportOptions::default());
    assert!(report.restored);
    assert_eq!(export(&target), first);
    assert_eq!(snapshot(&target), snapshot(&source));
    target.login("lorem", "ipsum1$").expect("passwords survive");
    let created = expect(
        &target,
        "POST",
        "/api/v2.5/admin/users/",
        Some(json!({"username": "new", "password": "secret-1"})),
        201,
    );
    assert_eq!(created["id"], 3, "counters survive: ids are not reused");
}

#[test]
fn restore_needs_an_empty_store_and_a_consistent_file() {
    let source = populated();
    let file = export(&source);
    let err = transfer::import(
        &source.operator(),
        file.as_bytes(),
        &ImportOptions::default(),
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    // A membership of a user the file does not hold: refused whole.
    let (target, _) = institute(SEED_NOW);
    let before = snapshot(&target);
    let tampered: String = file
        .lines()
        .filter(|l| !l.contains("\"type\":\"user\""))
        .map(|l| format!("{l}\n"))
        .collect();
    let err = transfer::import(
        &target.operator(),
        tampered.as_bytes(),
        &ImportOptions::default(),
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Corrupt, "{err}");
    assert_eq!(snapshot(&target), before);
}

#[test]
fn host_level_operations_are_the_operators_only() {
    let i = populated();
    let token = i.login("admin", "admin-pass-1").expect("sign-in").token;
    let superuser = i.session(&token).expect("session");
    assert_eq!(
        transfer::export(&superuser, Vec::new()).unwrap_err().code(),
        ErrorCode::Forbidden
    );
    assert_eq!(
        superuser.take_outbox().unwrap_err().code(),
        ErrorCode::Forbidden
    );
    assert_eq!(superuser.dump().unwrap_err().code(), ErrorCode::Forbidden);
    // Importing users is an ordinary admin operation (add_user).
    let report = transfer::import(
        &superuser,
        "username,password\nx,secret-1\n".as_bytes(),
        &ImportOptions::default(),
        &mut |_| {},
    )
    .expect("import");
    assert_eq!(report.created, 1);
}

#[test]
fn many_plaintext_passwords_are_hashed_and_all_sign_in() {
    let (i, _) = institute(SEED_NOW);
    let mut csv = String::from("username,password\n");
    for n in 0..40 {
        csv.push_str(&format!("user{n},password-{n}\n"));
    }
    let mut seen = Vec::new();
    let report = transfer::import(
        &i.operator(),
        csv.as_bytes(),
        &ImportOptions {
            chunk_size: 16,
            ..Default::default()
        },
        &mut |done| seen.push(done),
    )
    .expect("import");
    assert_eq!(report.created, 40);
    assert_eq!(seen, [16, 32, 40], "progress after each chunk");
    for n in [0, 17, 39] {
        i.login(&format!("user{n}"), &format!("password-{n}"))
            .expect("signs in");
    }
}
