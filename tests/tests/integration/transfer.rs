//! Bulk import, export and restore (X1, X2), and legacy hashes arriving
//! by import (A4).

use roster::transfer::{self, ImportOptions};
use roster::{ErrorCode, Institute};
use roster_tests::{SEED_NOW, expect, institute, passwordless_row, snapshot};
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
    // The quoted address of `bad name` spans two lines of the file.
    let csv = "username,password,email,address1,batches,custom_fields.Year\n\
               ravi,secret-1,ravi@x.in,\"12 Main Road, Chennai\",Test Batch,2020\n\
               bad name,secret-1,,\"two\nlines\",,\n\
               asha,secret-1,asha@x.in,,Nope,nineteen\n\
               ravi2,secret-1,RAVI@X.IN,,,\n\
               meena,secret-1,,,test batch,\n";
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
    // The quoted cell spans lines 3-4, so the rows after it start one later.
    assert_eq!(lines, [(3, "bad name"), (5, "asha"), (6, "ravi2")]);
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

/// Rows of one transaction are checked against the store and against the
/// rows before them (the bulk path keeps their keys in memory instead of
/// reading back what it wrote): every uniqueness rule holds inside a chunk.
#[test]
fn rows_of_one_transaction_are_checked_against_each_other() {
    let (i, _) = institute(SEED_NOW);
    let csv = "username,password,email,phone\n\
               ravi,secret-1,ravi@x.in,9876543210\n\
               RAVI,secret-1,other@x.in,\n\
               asha,secret-1,RAVI@X.IN,\n\
               ravi@x.in,secret-1,,\n\
               sam@y.in,secret-1,sam.k@y.in,\n\
               meena,secret-1,Sam@Y.in,\n\
               kumar,secret-1,kumar@x.in,9876543210\n\
               ok,secret-1,ok@x.in,9876543211\n";
    let report = import(&i, csv, &ImportOptions::default());
    let lines: Vec<(u64, &str)> = report
        .rejected
        .iter()
        .map(|r| (r.line, r.username.as_str()))
        .collect();
    assert_eq!(
        lines,
        [
            (3, "RAVI"),
            (4, "asha"),
            (5, "ravi@x.in"),
            (7, "meena"),
            (8, "kumar")
        ],
        "{report:?}"
    );
    let reasons: Vec<&str> = report.rejected.iter().map(|r| r.reason.as_str()).collect();
    assert!(reasons[0].contains("username"), "{}", reasons[0]);
    assert!(reasons[1].contains("email"), "{}", reasons[1]);
    assert!(reasons[2].contains("email address"), "{}", reasons[2]);
    assert!(reasons[3].contains("username"), "{}", reasons[3]);
    assert!(reasons[4].contains("phone"), "{}", reasons[4]);
    assert_eq!(report.created, 3);
    assert!(i.check_integrity().expect("check").is_empty());
    // The same rows one transaction each give the same answers.
    let (j, _) = institute(SEED_NOW);
    let one_by_one = ImportOptions {
        chunk_size: 1,
        ..Default::default()
    };
    let again = import(&j, csv, &one_by_one);
    assert_eq!(again.created, report.created);
    assert_eq!(again.rejected, report.rejected);
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

/// A row's own `expires` is the expiry of the batches it names; the
/// import's batches keep the import's expiry (a row that names no batch
/// gives its expiry to them). A row's date no longer stretches the
/// import's trial batch.
#[test]
fn a_rows_expiry_is_of_its_own_batches_and_the_imports_of_the_imports() {
    let (i, _) = institute(SEED_NOW);
    for name in ["Trial", "Paid"] {
        expect(
            &i,
            "POST",
            "/api/v2.5/admin/batches/",
            Some(json!({ "name": name })),
            201,
        );
    }
    let jsonl = [
        r#"{"username": "own", "password": "secret-1", "batches": ["Paid"], "expires": "2030-12-31"}"#,
        r#"{"username": "none", "password": "secret-1", "batches": ["Paid"]}"#,
        r#"{"username": "bare", "password": "secret-1", "expires": "2029-06-30"}"#,
        r#"{"username": "both", "password": "secret-1", "batches": ["trial"], "expires": "2028-01-01"}"#,
    ]
    .join("\n");
    let options = ImportOptions {
        batches: vec!["Trial".into()],
        expires: Some("2023-02-01".into()),
        ..Default::default()
    };
    let report = import(&i, &jsonl, &options);
    assert_eq!(
        (report.created, report.rejected_count),
        (4, 0),
        "{report:?}"
    );
    let admin = i.operator();
    let of = |name: &str| -> Vec<(String, Option<String>)> {
        let id = admin.find_user(name).unwrap();
        let mut subs: Vec<_> = admin
            .user_subscriptions(id, Default::default())
            .unwrap()
            .items
            .into_iter()
            .map(|s| (s.batch.name, s.expires.map(|d| d.to_string())))
            .collect();
        subs.sort();
        subs
    };
    let at = |batch: &str, date: &str| (batch.to_string(), Some(date.to_string()));
    assert_eq!(
        of("own"),
        [at("Paid", "2030-12-31"), at("Trial", "2023-02-01")]
    );
    assert_eq!(
        of("none"),
        [at("Paid", "2023-02-01"), at("Trial", "2023-02-01")]
    );
    assert_eq!(of("bare"), [at("Trial", "2029-06-30")]);
    assert_eq!(of("both"), [at("Trial", "2028-01-01")]);
    // Without the import's batches, an expiry needs a batch of the row's.
    let report = import(
        &i,
        r#"{"username": "lone", "password": "secret-1", "expires": "2029-06-30"}"#,
        &ImportOptions::default(),
    );
    assert_eq!(report.rejected_count, 1, "{report:?}");
    assert!(
        report.rejected[0].reason.contains("needs batches"),
        "{report:?}"
    );
}

/// A CSV cell is text: only a number field's cells are read as numbers,
/// so a roll number in a text field and a digit choice stay text, and a
/// number field's cell that is no number is refused as one.
#[test]
fn csv_cells_are_numbers_only_in_number_fields() {
    let (i, _) = institute(SEED_NOW);
    let admin = i.operator();
    for (name, kind, choices) in [
        ("Roll No", "text", vec![]),
        ("Group", "choice", vec!["1", "2"]),
        ("Score", "number", vec![]),
    ] {
        let input = roster::CustomFieldInput {
            name: Some(name.into()),
            kind: Some(kind.into()),
            choices: Some(choices.into_iter().map(String::from).collect()),
            ..Default::default()
        };
        admin.create_custom_field(input).unwrap();
    }
    let csv = "username,password,custom_fields.Roll No,custom_fields.group,custom_fields.Score\n\
               ravi,secret-1,2020,2,7.50\n\
               asha,secret-1,02020,1,abc\n";
    let report = import(&i, csv, &ImportOptions::default());
    assert_eq!(
        (report.created, report.rejected_count),
        (1, 1),
        "{report:?}"
    );
    assert_eq!(report.rejected[0].line, 3, "{report:?}");
    assert!(
        report.rejected[0]
            .reason
            .contains("Score: A valid number is required."),
        "{report:?}"
    );
    let ravi = admin.get_user(admin.find_user("ravi").unwrap()).unwrap();
    use roster::CustomValue::{Number, Text};
    let mut fields = ravi.custom_fields.clone();
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    let named = |name: &str, value| (name.to_string(), value);
    assert_eq!(
        fields,
        [
            named("Group", Text("2".into())),
            named("Roll No", Text("2020".into())),
            named("Score", Number("7.5".into())),
        ],
        "{ravi:?}"
    );
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

/// SPEC X1: every refused row is reported. A caller hears each, in file
/// order, whether the file's reader or the rules refused it and whatever
/// chunk it fell in; the report lists the first `REJECTED_LISTED` and
/// counts them all.
#[test]
fn every_refused_row_is_heard_in_file_order_and_the_report_lists_the_first() {
    let (i, _) = institute(SEED_NOW);
    let listed = transfer::REJECTED_LISTED;
    // Per group of five lines: a good row, a line that is no JSON, a row
    // the rules refuse, an array, a row refused by its batch.
    let groups = listed / 2;
    let mut jsonl = String::new();
    for n in 0..groups {
        jsonl.push_str(&format!(
            "{{\"username\": \"user{n}\", \"password_hash\": \"!\"}}\n"
        ));
        jsonl.push_str("{oops\n");
        jsonl.push_str(&format!("{{\"username\": \"bad name {n}\"}}\n"));
        jsonl.push_str("[1]\n");
        jsonl.push_str(&format!(
            "{{\"username\": \"nobatch{n}\", \"batches\": [\"None\"]}}\n"
        ));
    }
    let refused = 4 * groups as u64;
    for chunk_size in [1, 3, 7, 1000] {
        let (i, _) = institute(SEED_NOW);
        let options = ImportOptions {
            chunk_size,
            ..Default::default()
        };
        let mut heard = Vec::new();
        let report = transfer::import_hearing(
            &i.operator(),
            jsonl.as_bytes(),
            &options,
            &mut |_| {},
            &mut |r| heard.push(r.clone()),
        )
        .expect("import runs");
        assert_eq!(report.created, groups as u64, "chunks of {chunk_size}");
        assert_eq!(report.rejected_count, refused, "chunks of {chunk_size}");
        assert_eq!(heard.len() as u64, refused, "chunks of {chunk_size}");
        let lines: Vec<u64> = heard.iter().map(|r| r.line).collect();
        let expected: Vec<u64> = (0..groups as u64)
            .flat_map(|g| [2, 3, 4, 5].map(|k| 5 * g + k))
            .collect();
        assert_eq!(lines, expected, "chunks of {chunk_size}");
        assert_eq!(report.rejected, heard[..listed], "chunks of {chunk_size}");
    }
    // `import` reports the same, hearing nothing.
    let report = import(&i, &jsonl, &ImportOptions::default());
    assert_eq!(report.rejected_count, refused);
    assert_eq!(report.rejected.len(), listed);
    assert!(
        report.rejected[1].reason.contains("username"),
        "{:?}",
        report.rejected[1]
    );
    assert!(
        report.rejected[3].reason.contains("None"),
        "{:?}",
        report.rejected[3]
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

/// X2 at a size where a restore writes by slices and merges the search
/// index (more than one slice of users, memberships in batches): the
/// restored store passes the whole check, the search index included, and
/// answers searches, pages and sign-ins as its source does.
#[test]
fn a_large_restore_is_sound_and_searchable() {
    let (source, _) = institute(SEED_NOW);
    for name in ["Morning", "Evening"] {
        expect(
            &source,
            "POST",
            "/api/v2.5/admin/batches/",
            Some(json!({"name": name})),
            201,
        );
    }
    let mut rows = String::new();
    for n in 0..10_050 {
        let batch = if n % 3 == 0 { "Morning" } else { "Evening" };
        rows.push_str(&format!(
            "{{\"username\": \"learner{n}\", \"password_hash\": \"!\", \
             \"email\": \"l{n}@example.com\", \"first_name\": \"Name{n}\", \
             \"batches\": [\"{batch}\"], \"expires\": \"2099-01-01\"}}\n"
        ));
    }
    let options = ImportOptions {
        chunk_size: 10_000,
        ..Default::default()
    };
    assert_eq!(import(&source, &rows, &options).created, 10_050);
    source
        .create_superuser("admin", "admin-pass-1")
        .expect("superuser");
    let text = export(&source);
    let (target, _) = institute(SEED_NOW);
    let report = import(&target, &text, &ImportOptions::default());
    assert!(report.restored);
    assert_eq!(report.created, 10_051);
    assert_eq!(
        target.check_integrity().expect("check"),
        Vec::<String>::new()
    );
    assert_eq!(export(&target), text);
    for path in [
        "/api/v2.5/admin/users/?q=ner100",
        "/api/v2.5/admin/users/?q=l9999@",
        "/api/v2.5/admin/users/?q=1004@ex",
        "/api/v2.5/admin/users/?email=l77@example.com",
        "/api/v2.5/admin/users/?page=400",
        "/api/v2.5/admin/users/10000/subscriptions/",
    ] {
        let there = expect(&target, "GET", path, None, 200);
        assert_eq!(there, expect(&source, "GET", path, None, 200), "{path}");
        assert!(
            there["count"].as_u64().is_some_and(|c| c > 0),
            "{path}: {there}"
        );
    }
    target.login("admin", "admin-pass-1").expect("sign-in");
}

/// An export writes each record as it reads it: a writer of the host's
/// that panics mid-read panics the host's call, and does not poison the
/// store (a panic inside a read is otherwise taken for a damaged store's).
#[test]
fn a_panicking_export_writer_is_the_callers_panic_not_a_damaged_store() {
    struct Panics;
    impl std::io::Write for Panics {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            panic!("the host's writer failed");
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let (i, _) = institute(SEED_NOW);
    let rows: String = (0..200)
        .map(|n| format!("{{\"username\": \"learner{n}\", \"password_hash\": \"!\"}}\n"))
        .collect();
    assert_eq!(import(&i, &rows, &ImportOptions::default()).created, 200);
    let admin = i.operator();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        transfer::export(&admin, Panics)
    }));
    let payload = caught.expect_err("the writer's panic reaches the caller");
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"the host's writer failed")
    );
    // The store is as it was, and answers.
    assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
    let listed = expect(&i, "GET", "/api/v2.5/admin/users/?q=learner19", None, 200);
    assert_eq!(listed["count"], 11, "{listed}");
    assert!(export(&i).lines().count() > 200);
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
    // Nor restore: refused before the file past its header is read (all of
    // it is held at once), so what follows does not matter.
    let mut backup = Vec::new();
    transfer::export(&i.operator(), &mut backup).expect("export");
    let header = backup.split(|b| *b == b'\n').next().expect("a header");
    let mut file = header.to_vec();
    file.extend_from_slice(b"\n{\"type\": \"user\", \"record\": 1}\nnot json\n");
    let err = transfer::import(
        &superuser,
        file.as_slice(),
        &ImportOptions::default(),
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden, "{err}");
    let err = transfer::import(
        &i.operator(),
        file.as_slice(),
        &ImportOptions::default(),
        &mut |_| {},
    )
    .unwrap_err();
    assert_ne!(err.code(), ErrorCode::Forbidden, "{err}");
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
    assert_eq!(
        seen,
        (1..=40).collect::<Vec<u64>>(),
        "progress row by row, each chunk's end once it is committed"
    );
    for n in [0, 17, 39] {
        i.login(&format!("user{n}"), &format!("password-{n}"))
            .expect("signs in");
    }
}

fn try_import(
    i: &Institute,
    text: impl AsRef<[u8]>,
    options: &ImportOptions,
) -> roster::Result<roster::ImportReport> {
    transfer::import(&i.operator(), text.as_ref(), options, &mut |_| {})
}

/// Whether the store holds no records at all (a refused restore wrote
/// nothing).
fn is_empty(i: &Institute) -> bool {
    let d = i.operator().dump().expect("dump");
    d.users.is_empty()
        && d.batches.is_empty()
        && d.groups.is_empty()
        && d.courses.is_empty()
        && d.custom_fields.is_empty()
        && d.memberships.is_empty()
}

/// A store with one of everything and nine users.
fn nine_users() -> Institute {
    let i = populated();
    let rows: String = (1..=7)
        .map(|n| format!("{{\"username\": \"user{n}\", \"password\": \"secret-{n}x\", \"batches\": [\"Test Batch\"]}}\n"))
        .collect();
    let report = import(&i, &rows, &ImportOptions::default());
    assert_eq!(report.created, 7, "{report:?}");
    i
}

pub(super) use roster_tests::reseal;

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}

#[test]
fn an_export_starts_with_a_header_and_ends_with_a_trailer_that_matches_it() {
    let text = export(&nine_users());
    let all = lines(&text);
    let header: serde_json::Value = serde_json::from_str(&all[0]).expect("header");
    assert_eq!(header["type"], "roster-export");
    assert_eq!(header["format"], 3);
    let trailer: serde_json::Value =
        serde_json::from_str(all.last().expect("trailer")).expect("JSON");
    assert_eq!(trailer["type"], "roster-export-end");
    assert_eq!(trailer["counts"]["user"], 9);
    assert_eq!(trailer["counts"]["membership"], 8);
    assert_eq!(trailer["lines"], all.len() - 1);
    assert_eq!(trailer["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(reseal(&all), text, "the trailer is what reseal computes");
}

#[test]
fn an_export_cut_at_any_line_is_refused_and_nothing_is_written() {
    let text = export(&nine_users());
    let all = lines(&text);
    // Every cut at a line boundary, and one in the middle of a line.
    for keep in 1..all.len() {
        let cut: String = all[..keep].iter().map(|l| format!("{l}\n")).collect();
        let (target, _) = institute(SEED_NOW);
        let err = try_import(&target, &cut, &ImportOptions::default()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Corrupt, "{keep} lines: {err}");
        assert!(
            err.message().contains("trailer") && err.message().contains("nothing was restored"),
            "{err}"
        );
        assert!(is_empty(&target), "{keep} lines: nothing written");
        // The legacy option does not switch the check off.
        let legacy = ImportOptions {
            legacy_export: true,
            ..ImportOptions::default()
        };
        assert!(try_import(&target, &cut, &legacy).is_err());
    }
    let half = &text[..text.len() - 40];
    let (target, _) = institute(SEED_NOW);
    let err = try_import(&target, half, &ImportOptions::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Corrupt, "{err}");
    assert!(is_empty(&target));
    // The whole file restores, with a count.
    let report = try_import(&target, &text, &ImportOptions::default()).expect("restore");
    assert!(report.restored && report.warnings.is_empty());
    assert_eq!(report.created, 9);
}

#[test]
fn a_trailer_that_does_not_match_is_refused() {
    let text = export(&nine_users());
    let all = lines(&text);
    let user_line = all
        .iter()
        .position(|l| l.contains("\"username\":\"user3\""))
        .expect("user3");
    let trailer_at = all.len() - 1;
    let mut cases: Vec<(&str, Vec<String>, &str)> = Vec::new();
    let mut dropped = all.clone();
    dropped.remove(user_line);
    cases.push((
        "a user line removed",
        dropped,
        "9 user records listed, 8 found",
    ));
    let mut edited = all.clone();
    edited[user_line] = edited[user_line].replace("\"user3\"", "\"user33\"");
    cases.push(("a record edited", edited, "checksum"));
    let mut doubled = all.clone();
    doubled.insert(user_line, all[user_line].clone());
    cases.push(("a line repeated", doubled, "user records"));
    let mut counts = all.clone();
    counts[trailer_at] = counts[trailer_at].replace("\"user\":9", "\"user\":10");
    cases.push(("a count edited", counts, "10 user records listed, 9 found"));
    let mut blank = all.clone();
    blank.insert(user_line, String::new());
    cases.push(("a blank line", blank, "blank line"));
    let mut after = all.clone();
    after.push(all[user_line].clone());
    cases.push(("a line after the trailer", after, "after the trailer"));
    let mut header = all.clone();
    header[0] = header[0].replace("\"format\":3", "\"format\":4");
    cases.push(("a newer format", header, "unknown export format 4"));
    let mut schema = all.clone();
    schema[0] = schema[0].replace("\"schema\":", "\"schema\":1,\"was\":");
    cases.push(("a format-1 store", schema, "store format 1"));
    for (what, lines, expected) in cases {
        let file: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let (target, _) = institute(SEED_NOW);
        let err = try_import(&target, &file, &ImportOptions::default()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Corrupt, "{what}: {err}");
        assert!(err.message().contains(expected), "{what}: {err}");
        assert!(is_empty(&target), "{what}: nothing written");
    }
    // CRLF line ends (a file passed through a Windows tool) still match.
    let crlf = text.replace('\n', "\r\n");
    let (target, _) = institute(SEED_NOW);
    assert!(try_import(&target, &crlf, &ImportOptions::default()).is_ok_and(|r| r.restored));
}

#[test]
fn exports_without_a_trailer_restore_only_with_legacy_export_and_a_warning() {
    let source = nine_users();
    let all = lines(&export(&source));
    // What the roster before this format wrote: format 1, no trailer.
    let mut old = all[..all.len() - 1].to_vec();
    old[0] = old[0].replace("\"format\":3", "\"format\":1");
    let file: String = old.iter().map(|l| format!("{l}\n")).collect();
    let (target, _) = institute(SEED_NOW);
    let err = try_import(&target, &file, &ImportOptions::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Validation, "{err}");
    assert!(err.message().contains("legacy"), "{err}");
    assert!(is_empty(&target));
    let legacy = ImportOptions {
        legacy_export: true,
        ..ImportOptions::default()
    };
    let report = try_import(&target, &file, &legacy).expect("restores");
    assert!(report.restored);
    assert_eq!(report.created, 9);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("cannot be detected")),
        "{report:?}"
    );
    assert_eq!(snapshot(&target), snapshot(&source));
    // A legacy export is still checked record by record.
    let mut bad = old.clone();
    let at = bad
        .iter()
        .position(|l| l.contains("\"user1\""))
        .expect("user1");
    bad[at] = bad[at].replace("\"user1\"", "\"user 1\"");
    let file: String = bad.iter().map(|l| format!("{l}\n")).collect();
    let (target, _) = institute(SEED_NOW);
    let err = try_import(&target, &file, &legacy).unwrap_err();
    assert!(err.message().contains("username"), "{err}");
    assert!(is_empty(&target));
}

#[test]
fn an_export_is_recognised_by_its_first_line_only() {
    let text = export(&nine_users());
    let header = lines(&text)[0].clone();
    // A header on the second line is a row like any other (and a bad one).
    let file = format!("{{\"username\": \"a\", \"password\": \"secret-1\"}}\n{header}\n");
    let (target, _) = institute(SEED_NOW);
    let report = try_import(&target, &file, &ImportOptions::default()).expect("import");
    assert!(!report.restored);
    assert_eq!(report.created, 1);
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].line, 2);
    // Nor after a line that is not JSON.
    let file = format!("{{oops\n{text}");
    let (target, _) = institute(SEED_NOW);
    let report = try_import(&target, &file, &ImportOptions::default()).expect("import");
    assert!(!report.restored);
    assert_eq!(report.created, 0);
    // A row with a `type` field is a row.
    let row = json!({"type": "user", "username": "b", "password": "secret-1"});
    let report =
        try_import(&target, format!("{row}\n"), &ImportOptions::default()).expect("import");
    assert_eq!((report.created, report.restored), (1, false));
}

/// Each edit, resealed so the trailer matches, is refused whole by the
/// record checks.
#[test]
fn tampered_exports_are_refused_whole_with_a_clear_error() {
    let text = export(&nine_users());
    let all = lines(&text);
    let edit = |kind: &str, nth: usize, f: &dyn Fn(&mut serde_json::Value)| -> Vec<String> {
        let mut out = all.clone();
        let at = out
            .iter()
            .enumerate()
            .filter(|(_, l)| l.contains(&format!("\"type\":\"{kind}\"")))
            .nth(nth)
            .map(|(i, _)| i)
            .unwrap_or_else(|| panic!("no {kind} {nth}"));
        let mut v: serde_json::Value = serde_json::from_str(&out[at]).expect("JSON");
        f(&mut v["record"]);
        out[at] = v.to_string();
        out
    };
    let tail = "c29tZXNhbHRzb21lc2FsdA$YC9+jJCrQhs5R6db7LlN8Q";
    let huge = "x".repeat(100_000);
    let cases: Vec<(&str, Vec<String>, &str)> = vec![
        (
            "an argon2 hash of 2 GiB",
            edit("user", 2, &|u| {
                u["password_hash"] = json!(format!("$argon2id$v=19$m=2097152,t=1,p=1${tail}"))
            }),
            "argon2 memory 2097152 KiB exceeds the cap",
        ),
        (
            "argon2 time cost 50",
            edit("user", 2, &|u| {
                u["password_hash"] = json!(format!("argon2$argon2id$v=19$m=64,t=50,p=1${tail}"))
            }),
            "cap of 10",
        ),
        (
            "pbkdf2 of 5M iterations",
            edit("user", 2, &|u| {
                u["password_hash"] =
                    json!("pbkdf2_sha256$5000000$salt$ipNrjQCWNOAmdFsHWPHHZ1i1+5hxF5LxHZ+VfFZ9mrM=")
            }),
            "exceed the cap",
        ),
        (
            "an md5 hash",
            edit("user", 2, &|u| u["password_hash"] = json!("md5$salt$abc")),
            "unsupported",
        ),
        (
            "an invalid username",
            edit("user", 0, &|u| u["username"] = json!("no spaces allowed")),
            "username",
        ),
        (
            "a huge first name",
            edit("user", 1, &|u| u["profile"]["first_name"] = json!(huge)),
            "first_name",
        ),
        (
            "an invalid email",
            edit("user", 1, &|u| {
                u["profile"]["email"] = json!("not-an-email")
            }),
            "email",
        ),
        (
            "a permission outside the catalogue",
            edit("user", 1, &|u| u["permissions"] = json!([99999])),
            "99999",
        ),
        (
            "a group permission outside the catalogue",
            edit("group", 0, &|g| g["permissions"] = json!([1, 77777])),
            "77777",
        ),
        (
            "a group of a missing group",
            edit("user", 1, &|u| u["groups"] = json!([42])),
            "missing group 42",
        ),
        (
            "a duplicate user id",
            edit("user", 3, &|u| u["id"] = json!(3)),
            "the id is used twice",
        ),
        (
            "a duplicate username",
            edit("user", 3, &|u| u["username"] = json!("USER1")),
            "share the name \"user1\"",
        ),
        (
            "a membership of a missing user",
            edit("membership", 0, &|m| m["user"] = json!(999)),
            "missing user 999",
        ),
        (
            "a counter at the top of u64",
            edit("counters", 0, &|c| c["user"] = json!(u64::MAX)),
            "out of range",
        ),
        (
            "a counter past the id after the highest",
            edit("counters", 0, &|c| c["user"] = json!((1u64 << 53) + 2)),
            "out of range",
        ),
        (
            "an unknown counter",
            edit("counters", 0, &|c| c["sessions"] = json!(5)),
            "unknown counter",
        ),
        (
            "a batch name with a control character",
            edit("batch", 0, &|b| b["name"] = json!("Test\u{7}Batch")),
            "Control characters",
        ),
        (
            "a course slug that is no slug",
            edit("course", 0, &|c| c["slug"] = json!("Not A Slug")),
            "slug",
        ),
        (
            "a huge custom text value",
            edit("user", 0, &|u| {
                u["profile"]["custom"] = json!([[1, {"Text": "y".repeat(20_000)}]])
            }),
            "no more than 10000 characters",
        ),
        (
            "failed sign-ins at the end of u32",
            edit("user", 1, &|u| u["failed_logins"] = json!(u32::MAX)),
            "failed_logins 4294967295 is above the largest lock-out threshold",
        ),
        (
            "a credential generation at the end of u64",
            edit("user", 1, &|u| u["credential_generation"] = json!(u64::MAX)),
            "credential_generation 18446744073709551615 is out of range",
        ),
        (
            "a lock until the end of time",
            edit("user", 1, &|u| u["locked_until"] = json!(i64::MAX)),
            "locked_until 9223372036854775807 is not an instant",
        ),
        (
            "a creation before the calendar",
            edit("user", 1, &|u| u["created"] = json!(i64::MIN)),
            "created -9223372036854775808 is not an instant",
        ),
        (
            "a custom field definition without choices",
            edit("custom_field", 0, &|f| f["choices"] = json!([])),
            "choice",
        ),
        (
            "a user id of 0",
            edit("user", 3, &|u| u["id"] = json!(0)),
            "user 0: the id is out of range",
        ),
        (
            "a batch id past 2^53",
            edit("batch", 0, &|b| b["id"] = json!((1u64 << 53) + 1)),
            "batch 9007199254740993: the id is out of range",
        ),
        (
            "a subscription id of 0",
            edit("membership", 1, &|m| m["subscription"]["id"] = json!(0)),
            "subscription 0: the id is out of range",
        ),
        (
            "a group holding more permissions than the catalogue has",
            edit("group", 0, &|g| {
                g["permissions"] =
                    json!((1..=roster::Permission::all().count() + 1).collect::<Vec<_>>())
            }),
            "permissions, more than the catalogue's",
        ),
        (
            "a batch with an empty name",
            edit("batch", 0, &|b| b["name"] = json!("")),
            "name: This field may not be blank.",
        ),
        (
            "a batch name with spaces around it",
            edit("batch", 0, &|b| b["name"] = json!(" Test Batch ")),
            "name: not in the form roster stores",
        ),
        (
            "a custom text with spaces around it",
            edit("user", 0, &|u| {
                u["profile"]["custom"] = json!([[1, {"Text": " padded "}]])
            }),
            "not in the form roster stores",
        ),
        (
            "a custom number of 65 characters",
            edit("user", 0, &|u| {
                u["profile"]["custom"] = json!([[1, {"Number": "1".repeat(65)}]])
            }),
            "A valid number is required.",
        ),
    ];
    for (what, lines, expected) in cases {
        let file = reseal(&lines);
        let (target, _) = institute(SEED_NOW);
        let err = try_import(&target, &file, &ImportOptions::default()).unwrap_err();
        // Names that are one name (NFKC, ignoring case) are a conflict: an
        // export of an older format may hold them honestly.
        let code = match what {
            "a duplicate username" => ErrorCode::Conflict,
            _ => ErrorCode::Corrupt,
        };
        assert_eq!(err.code(), code, "{what}: {err}");
        assert!(err.message().contains(expected), "{what}: {err}");
        assert!(
            err.message().len() < 2000,
            "{what}: the message echoes at most a little of the value ({} bytes)",
            err.message().len()
        );
        assert!(is_empty(&target), "{what}: nothing written");
    }
    // Flags are data the operator owns: a restore keeps them as exported.
    let (target, _) = institute(SEED_NOW);
    assert!(try_import(&target, reseal(&all), &ImportOptions::default()).is_ok());
    // What the rules keep, at their edges.
    let every: Vec<u32> = roster::Permission::all().map(|p| p.id()).collect();
    let long = format!("1{}", "0".repeat(63));
    for (what, lines) in [
        (
            "a number of 64 characters",
            edit("user", 0, &|u| {
                u["profile"]["custom"] = json!([[1, {"Number": long}]])
            }),
        ),
        (
            "a short number",
            edit("user", 0, &|u| {
                u["profile"]["custom"] = json!([[1, {"Number": "7"}]])
            }),
        ),
        (
            "a group holding the whole catalogue",
            edit("group", 0, &|g| g["permissions"] = json!(every)),
        ),
    ] {
        let (target, _) = institute(SEED_NOW);
        let restored = try_import(&target, reseal(&lines), &ImportOptions::default());
        assert!(restored.is_ok(), "{what}: {restored:?}");
    }
}

#[test]
fn every_way_a_hash_enters_the_store_applies_the_cost_caps() {
    // Import rows: argon2 in roster's own PHC form over the cap.
    let (i, _) = institute(SEED_NOW);
    let tail = "c29tZXNhbHRzb21lc2FsdA$YC9+jJCrQhs5R6db7LlN8Q";
    let row = json!({"username": "x", "password_hash": format!("$argon2id$v=19$m=2097152,t=1,p=1${tail}")});
    let report = import(&i, &format!("{row}\n"), &ImportOptions::default());
    assert_eq!(report.created, 0);
    assert!(report.rejected[0].reason.contains("cap"), "{report:?}");
    // Restore: covered record by record above; the Dump API too.
    let mut dump = nine_users().operator().dump().expect("dump");
    dump.users[0].password_hash = format!("$argon2id$v=19$m=2097152,t=1,p=1${tail}");
    let err = i.operator().restore(dump).unwrap_err();
    assert!(err.message().contains("cap"), "{err}");
}

#[test]
fn a_byte_order_mark_is_skipped_in_json_lines_and_csv() {
    let (i, _) = institute(SEED_NOW);
    let jsonl = "\u{feff}{\"username\": \"bom1\", \"password\": \"secret-1\"}\n";
    let report = import(&i, jsonl, &ImportOptions::default());
    assert_eq!(
        (report.created, report.rejected.len()),
        (1, 0),
        "{report:?}"
    );
    let csv = "\u{feff}username,password\r\nbom2,secret-1\r\n";
    let report = import(&i, csv, &ImportOptions::default());
    assert_eq!(
        (report.created, report.rejected.len()),
        (1, 0),
        "{report:?}"
    );
    i.login("bom2", "secret-1")
        .expect("the username has no BOM");
    // A BOM before an export's header: still an export.
    let text = format!("\u{feff}{}", export(&populated()));
    let (target, _) = institute(SEED_NOW);
    assert!(import(&target, &text, &ImportOptions::default()).restored);
    // UTF-16 is named.
    let err = try_import(&target, [0xFF, 0xFE, b'u', 0], &ImportOptions::default()).unwrap_err();
    assert!(err.to_string().contains("UTF-16"), "{err}");
}

#[test]
fn unknown_csv_columns_refuse_the_file_before_anything_is_imported() {
    let (i, _) = institute(SEED_NOW);
    let csv = "username,password,emial,phnoe\nravi,secret-1,ravi@x.in,\nasha,secret-1,,\n";
    let err = try_import(&i, csv, &ImportOptions::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Validation);
    let text = err.to_string();
    assert!(
        text.contains("\"emial\"") && text.contains("\"phnoe\""),
        "every unknown column is named: {text}"
    );
    assert!(
        text.contains("email") && text.contains("custom_fields.<Name>"),
        "{text}"
    );
    assert!(is_empty(&i), "nothing imported");
    for header in ["username,password,username", "username,password,"] {
        let err = try_import(
            &i,
            format!("{header}\nx,secret-1,y\n"),
            &ImportOptions::default(),
        )
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Validation, "{header}");
    }
    assert!(is_empty(&i));
}

#[test]
fn odd_files_each_get_a_clear_answer() {
    let (i, _) = institute(SEED_NOW);
    let options = ImportOptions::default();
    for (what, text, expected) in [
        ("empty", "", "empty"),
        ("only spaces", "  \n\n", "empty"),
        ("only a header", "username,password\n", "no rows"),
        ("blank JSON lines", "{\"username\": \"x\"}\n", ""),
        ("a JSON array", "[{\"username\": \"x\"}]\n", "JSON array"),
    ] {
        match try_import(&i, text, &options) {
            Err(e) => assert!(e.to_string().contains(expected), "{what}: {e}"),
            Ok(r) => assert!(
                expected.is_empty() && r.rejected.len() == 1,
                "{what}: {r:?}"
            ),
        }
    }
    // Blank lines before the first row count in the line numbers.
    let report = import(&i, "\n\n{\"username\": \"bad name\"}\n", &options);
    assert_eq!(report.rejected[0].line, 3, "{report:?}");
    let report = import(
        &i,
        "\r\n\r\nusername,password\nbad name,secret-1\n",
        &options,
    );
    assert_eq!(report.rejected[0].line, 4, "{report:?}");
    // Keys that are no field are ignored, as in a request body, and named.
    let report = import(
        &i,
        "{\"username\": \"k1\", \"password\": \"secret-1\", \"emial\": \"k1@x.in\"}\n",
        &options,
    );
    assert_eq!(report.created, 1);
    assert!(
        report.warnings.len() == 1
            && report.warnings[0].contains("\"emial\" (1 rows, first on line 1)"),
        "{report:?}"
    );
    // CRLF line ends in both formats.
    let report = import(&i, "username,password\r\ncr1,secret-1\r\n", &options);
    assert_eq!(report.created, 1, "{report:?}");
    let report = import(
        &i,
        "{\"username\": \"cr2\", \"password\": \"secret-1\"}\r\n",
        &options,
    );
    assert_eq!(report.created, 1, "{report:?}");
    // Lines that are JSON but not objects say what they are.
    let report = import(
        &i,
        "{\"username\": \"j1\", \"password\": \"secret-1\"}\n[1,2]\n7\n\"x\"\n",
        &options,
    );
    let reasons: Vec<&str> = report.rejected.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "a row must be a JSON object, not an array",
            "a row must be a JSON object, not a number",
            "a row must be a JSON object, not a string"
        ]
    );
    // A huge value: rejected, and at most ~200 characters of it echoed.
    let huge = "é".repeat(50_000);
    let row = json!({"username": huge, "password": "secret-1", "gender_code": huge});
    let report = import(&i, &format!("{row}\n"), &options);
    assert_eq!(report.created, 0);
    let r = &report.rejected[0];
    assert!(r.username.chars().count() < 260, "{}", r.username.len());
    assert!(r.username.contains("more characters"), "the cut is marked");
    assert!(r.reason.chars().count() < 800, "{}", r.reason.len());
    assert!(r.reason.contains("gender_code"), "{}", r.reason);
    let csv = format!("username,password,city\nbig,secret-1,{huge}\n");
    let report = import(&i, &csv, &options);
    assert!(report.rejected[0].reason.contains("city"), "{report:?}");
    // A line longer than a request body is rejected without being read whole.
    let long = format!("{{\"username\": \"{}\"}}\n", "z".repeat(2 << 20));
    let report = import(&i, &long, &options);
    assert!(
        report.rejected[0].reason.contains("longer than"),
        "{report:?}"
    );
    // A CSV row holds no more than a request body either, even when its
    // cell runs over many lines inside quotes: the file stops there with a
    // clear error, and the rows before it are kept.
    let cell = "x\n".repeat(1 << 20);
    let csv = format!(
        "username,password,city\nfirst,secret-1,A\nsecond,secret-1,B\nbig,secret-1,\"{cell}\"\nlast,secret-1,C\n"
    );
    let survey = transfer::survey(csv.as_bytes()).expect_err("the survey stops too");
    assert!(
        survey.to_string().contains("longer than 1048576 bytes"),
        "{survey}"
    );
    let e = try_import(&i, &csv, &options).expect_err("the file stops");
    assert!(e.to_string().contains("longer than 1048576 bytes"), "{e}");
    assert!(e.to_string().contains("2 users were created"), "{e}");
    let o = i.operator();
    assert!(o.find_user("second").is_ok());
    assert!(o.find_user("last").is_err());
    // A quote inside an unquoted cell is a character of it, as `csv` reads
    // it (not the start of quotes): the quoted cell after it is still
    // measured, and an ordinary file with an `O"Brien` in it is read to its
    // end (more than a request body of rows after it).
    let csv = format!(
        "username,password,city\nob\"rien,secret-1,A\nbig,secret-1,\"{cell}\"\nlast,secret-1,C\n"
    );
    let e = transfer::survey(csv.as_bytes()).expect_err("the survey stops");
    assert!(e.to_string().contains("longer than 1048576 bytes"), "{e}");
    let mut csv = String::from("username,password,city\nobrien,secret-1,O\"Brien\n");
    for n in 0..40_000 {
        csv.push_str(&format!("row{n},secret-1,a city of some thirty bytes\n"));
    }
    assert!(csv.len() > 1 << 20);
    let survey = transfer::survey(csv.as_bytes()).expect("read to its end");
    assert_eq!(survey.rows, 40_001, "{survey:?}");
    // Quoted line breaks and doubled quotes under the cap stay in their
    // row: a city with a line break is one rejected row, not two.
    let csv = "username,password,city\nq1,secret-1,\"a\"\"b\nc\"\nq2,secret-1,\"d\"\"e,f\"\n";
    let report = import(&i, csv, &options);
    assert_eq!(
        (report.created, report.rejected.len()),
        (1, 1),
        "{report:?}"
    );
    assert!(report.rejected[0].reason.contains("city"), "{report:?}");
    assert_eq!(
        o.get_user(o.find_user("q2").unwrap()).unwrap().city,
        "d\"e,f"
    );
}

/// Bytes in memory that fail every write once `broken` is set.
#[derive(Debug, Clone, Default)]
struct Breakable {
    inner: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    broken: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Breakable {
    fn check(&self) -> std::io::Result<()> {
        if self.broken.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(std::io::Error::other("injected: the disk is gone"));
        }
        Ok(())
    }
}

impl roster::HostFile for Breakable {
    fn len(&self) -> std::io::Result<u64> {
        Ok(self.inner.lock().expect("lock").len() as u64)
    }
    fn read_at(&self, offset: u64, out: &mut [u8]) -> std::io::Result<()> {
        let bytes = self.inner.lock().expect("lock");
        let start = offset as usize;
        let part = bytes
            .get(start..start + out.len())
            .ok_or_else(|| std::io::Error::other("read past the end"))?;
        out.copy_from_slice(part);
        Ok(())
    }
    fn set_len(&self, len: u64) -> std::io::Result<()> {
        self.check()?;
        self.inner.lock().expect("lock").resize(len as usize, 0);
        Ok(())
    }
    fn sync(&self) -> std::io::Result<()> {
        self.check()
    }
    fn write_at(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        self.check()?;
        let mut bytes = self.inner.lock().expect("lock");
        let end = offset as usize + data.len();
        if bytes.len() < end {
            bytes.resize(end, 0);
        }
        bytes[offset as usize..end].copy_from_slice(data);
        Ok(())
    }
}

#[test]
fn a_storage_error_reports_the_rows_committed_before_it() {
    let backend = Breakable::default();
    let (config, _) = roster_tests::config(SEED_NOW);
    let i = Institute::open_host_file(backend.clone(), config.clone()).expect("open");
    let rows: String = (0..5)
        .map(|n| format!("{{\"username\": \"s{n}\", \"password\": \"secret-{n}x\"}}\n"))
        .collect();
    let options = ImportOptions {
        chunk_size: 2,
        ..ImportOptions::default()
    };
    let broken = backend.broken.clone();
    let err = transfer::import(&i.operator(), rows.as_bytes(), &options, &mut |done| {
        // The disk goes after the first chunk is committed.
        if done == 2 {
            broken.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    })
    .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("2 users were created and committed"),
        "{message}"
    );
    assert!(message.contains("line 3"), "{message}");
    drop(i);
    backend
        .broken
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let reopened = Institute::open_host_file(backend, config).expect("reopen");
    let users = reopened.operator().dump().expect("dump").users;
    let names: Vec<&str> = users.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["s0", "s1"], "what the error said was committed");
}

/// A failed chunk's error counts the rows refused before it (a line that
/// is no JSON), and the caller has heard them.
#[test]
fn a_storage_error_counts_the_rows_refused_before_the_failed_chunk() {
    let backend = Breakable::default();
    let (config, _) = roster_tests::config(SEED_NOW);
    let i = Institute::open_host_file(backend.clone(), config).expect("open");
    let rows = "{\"username\": \"s0\", \"password_hash\": \"!\"}\n\
                {\"username\": \"s1\", \"password_hash\": \"!\"}\n\
                {oops\n\
                {\"username\": \"s2\", \"password_hash\": \"!\"}\n\
                {\"username\": \"s3\", \"password_hash\": \"!\"}\n";
    let options = ImportOptions {
        chunk_size: 2,
        ..ImportOptions::default()
    };
    let broken = backend.broken.clone();
    let mut heard = Vec::new();
    let err = transfer::import_hearing(
        &i.operator(),
        rows.as_bytes(),
        &options,
        &mut |done| {
            if done == 2 {
                broken.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        },
        &mut |r| heard.push(r.line),
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("line 4: 2 users were created and committed before it (1 rows rejected)"),
        "{message}"
    );
    assert_eq!(heard, [3]);
}

/// A file that cannot be read on (a disk, a pipe failing) stops the import
/// there, in CSV and JSON Lines alike: the rows read before it are
/// imported, a chunk that was full and one that was not, and the error
/// says how many.
#[test]
fn a_file_that_fails_part_way_keeps_the_rows_read_before_it() {
    struct Fails;
    impl std::io::Read for Fails {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("the disk went away"))
        }
    }
    let csv = "username,password_hash\nr0,!\nr1,!\nr2,!\n".to_string();
    let jsonl: String = (0..3)
        .map(|n| format!("{{\"username\": \"r{n}\", \"password_hash\": \"!\"}}\n"))
        .collect();
    for text in [csv, jsonl] {
        let (i, _) = institute(SEED_NOW);
        let options = ImportOptions {
            chunk_size: 2,
            ..ImportOptions::default()
        };
        let reader = std::io::Read::chain(text.as_bytes(), Fails);
        let err = transfer::import(&i.operator(), reader, &options, &mut |_| {}).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("the disk went away"), "{message}");
        assert!(
            message.contains("3 users were created before it (0 rows rejected)"),
            "{message}"
        );
        let users = i.operator().dump().expect("dump").users;
        let names: Vec<&str> = users.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(names, ["r0", "r1", "r2"], "{text}");
    }
}

/// The typed import lists and counts each refused row with its line. A
/// row its caller may not write at all (a superuser, asked for by an
/// administrator who is none) is no bad row: the chunk is refused whole
/// as forbidden, and nothing of it is written.
#[test]
fn a_typed_import_counts_bad_rows_and_refuses_a_forbidden_one_whole() {
    use super::auth::{perm, staff};
    use roster::{AccessInput, Action, Model, NewUser};
    let (i, _) = institute(SEED_NOW);
    let row = |line, name: &str, is_superuser| {
        let user = NewUser {
            username: Some(name.into()),
            access: AccessInput {
                is_superuser,
                ..Default::default()
            },
            ..Default::default()
        };
        passwordless_row(line, user)
    };
    let report = i
        .operator()
        .import_rows(vec![
            row(7, "good", None),
            row(8, "", None),
            row(9, "no way!", None),
        ])
        .unwrap();
    let lines: Vec<u64> = report.rejected.iter().map(|r| r.line).collect();
    assert_eq!(
        (report.created, report.rejected_count, lines),
        (1, 2, vec![8, 9])
    );
    assert!(
        report
            .rejected
            .iter()
            .all(|r| r.reason.contains("username"))
    );
    let (_, token) = staff(&i, "importer", &[perm(Action::Add, Model::User)]);
    let importer = i.session(&token).unwrap();
    let before = snapshot(&i);
    let chunk = vec![
        row(1, "plain", None),
        row(2, "root", Some(true)),
        row(3, "", None),
    ];
    let err = importer.import_rows(chunk).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden, "{err}");
    assert_eq!(snapshot(&i), before, "nothing written");
    let report = importer
        .import_rows(vec![row(1, "plain", Some(false))])
        .unwrap();
    assert_eq!((report.created, report.rejected_count), (1, 0));
}

/// Reports of chunks add up: the rows one lists and those it only counts;
/// a chunk restored makes the whole import one that restored.
#[test]
fn absorbed_reports_keep_every_count() {
    let row = |line| roster::Rejected {
        line,
        username: String::new(),
        reason: "r".into(),
    };
    let full = || roster::ImportReport {
        created: 1,
        rejected: (0..transfer::REJECTED_LISTED as u64).map(row).collect(),
        rejected_count: 1_500,
        ..Default::default()
    };
    let mut total = roster::ImportReport::default();
    total.absorb(full());
    assert_eq!((total.rejected.len(), total.rejected_count), (1_000, 1_500));
    total.absorb(full());
    assert_eq!(
        (total.created, total.rejected.len(), total.rejected_count),
        (2, 1_000, 3_000)
    );
    assert!(!total.restored);
    let restored = roster::ImportReport {
        restored: true,
        warnings: vec!["w".into()],
        ..Default::default()
    };
    total.absorb(restored);
    total.absorb(roster::ImportReport::default());
    assert_eq!((total.restored, total.warnings.len()), (true, 1));
}

#[test]
fn survey_counts_rows_and_names_each_batch_once_before_anything_is_imported() {
    let csv = "username,password,batches\n\
               ravi,Secret-pass-1,Morning; evening\n\
               asha,Secret-pass-1,morning;;Weekend\n\
               kiran,Secret-pass-1,\n";
    let survey = transfer::survey(csv.as_bytes()).expect("survey");
    assert!(!survey.export);
    assert_eq!(survey.rows, 3);
    assert_eq!(survey.batches, ["Morning", "evening", "Weekend"]);

    let jsonl = "{\"username\": \"a\", \"batches\": [\"X\", \"x\"]}\n\n\
                 not json\n\
                 {\"username\": \"b\", \"batches\": \"Y\"}\n";
    let survey = transfer::survey(jsonl.as_bytes()).expect("survey");
    assert_eq!(
        survey.rows, 3,
        "blank lines are no rows; unreadable ones are"
    );
    assert_eq!(survey.batches, ["X"]);

    // The file errors of an import are the survey's.
    for bad in ["", "[{}]", "username,emial\nravi,x\n"] {
        let err = transfer::survey(bad.as_bytes()).expect_err(bad);
        assert_eq!(err.code(), ErrorCode::Validation, "{bad:?}");
    }

    // An export is surveyed as one, without its rows.
    let (i, _) = institute(SEED_NOW);
    let survey = transfer::survey(export(&i).as_bytes()).expect("survey");
    assert!(survey.export);
    assert_eq!((survey.rows, survey.batches.len()), (0, 0));
}

#[test]
fn missing_batches_are_named_ignoring_case_and_nothing_is_written() {
    let (i, _) = institute(SEED_NOW);
    expect(
        &i,
        "POST",
        "/api/v2.5/admin/batches/",
        Some(json!({"name": "Morning"})),
        201,
    );
    let before = snapshot(&i);
    let names: Vec<String> = [
        "MORNING",
        " Evening ",
        "Weekend",
        "ÉVENING",
        "évening",
        "EVENING",
    ]
    .map(String::from)
    .to_vec();
    let missing = i.operator().missing_batches(&names).expect("missing");
    assert_eq!(missing, [" Evening ", "Weekend", "ÉVENING"]);
    assert_eq!(snapshot(&i), before);
}

#[test]
fn progress_moves_row_by_row_within_a_chunk() {
    let (i, _) = institute(SEED_NOW);
    let mut csv = String::from("username,password\n");
    for n in 0..6 {
        csv.push_str(&format!("user{n},Secret-pass-{n}\n"));
    }
    let mut heard = Vec::new();
    let report = transfer::import(
        &i.operator(),
        csv.as_bytes(),
        &ImportOptions::default(),
        &mut |done| heard.push(done),
    )
    .expect("import");
    assert_eq!(report.created, 6);
    // One chunk of 1,000 rows: the bar hears every hashed password, not
    // only the chunk's end.
    assert_eq!(heard, [1, 2, 3, 4, 5, 6], "{heard:?}");
}

#[test]
fn host_bytes_that_are_no_store_are_corrupt_store_and_left_as_they_were() {
    for bytes in [
        b"name,email\nravi,ravi@x.in\n".to_vec(),
        [b"SQLite format 3\0".as_slice(), &[0u8; 4080]].concat(),
        vec![0xA5; 4096],
    ] {
        let host = Breakable::default();
        *host.inner.lock().expect("lock") = bytes.clone();
        let (config, _) = roster_tests::config(SEED_NOW);
        let err = Institute::open_host_file(host.clone(), config).expect_err("not a store");
        assert_eq!(err.code(), ErrorCode::Corrupt, "{err:?}");
        assert!(err.message().contains("not a roster store"), "{err}");
        assert!(*host.inner.lock().expect("lock") == bytes, "written");
    }
    // Empty bytes are a new store.
    let (config, _) = roster_tests::config(SEED_NOW);
    Institute::open_host_file(Breakable::default(), config).expect("a new store");
}

/// F3: more custom values than fields are refused before any value is
/// looked up, and each lookup is in a set: an export of many fields and a
/// user with many values is refused at once, the count of its problems
/// right.
#[test]
fn a_user_with_more_custom_values_than_fields_is_refused_at_once() {
    let text = export(&populated());
    let mut all = lines(&text);
    let i = all
        .iter()
        .position(|l| l.contains("\"type\":\"user\""))
        .expect("a user");
    let mut v: serde_json::Value = serde_json::from_str(&all[i]).expect("JSON");
    let values: Vec<serde_json::Value> = (0..200_000u64)
        .map(|k| json!([1000 + k, {"Date": "2020-01-01"}]))
        .collect();
    v["record"]["profile"]["custom"] = json!(values);
    all[i] = v.to_string();
    let (target, _) = institute(SEED_NOW);
    let started = std::time::Instant::now();
    let err = try_import(&target, reseal(&all), &ImportOptions::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Corrupt, "{err}");
    assert!(
        err.message()
            .contains("user 1: holds 200000 custom values, more than the 1 custom fields defined"),
        "{err}"
    );
    assert!(is_empty(&target));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );

    // Values of missing fields, fewer than the fields: each found in a set,
    // every one counted though only the first are kept in words.
    let fields: Vec<String> = (2..=3000u64)
        .map(|id| {
            json!({"type": "custom_field", "record": {"id": id,
                "uuid": format!("00000000-0000-4000-8000-{id:012}"),
                "name": format!("F{id}"), "kind": "Date", "choices": [], "required": false,
                "created": 0, "modified": 0}})
            .to_string()
        })
        .collect();
    let mut all = lines(&text);
    let f = all
        .iter()
        .position(|l| l.contains("\"type\":\"custom_field\""))
        .expect("a field");
    for (n, line) in fields.into_iter().enumerate() {
        all.insert(f + 1 + n, line);
    }
    let c = all
        .iter()
        .position(|l| l.contains("\"type\":\"counters\""))
        .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&all[c]).unwrap();
    v["record"]["custom_field"] = json!(5000);
    all[c] = v.to_string();
    let i = all
        .iter()
        .position(|l| l.contains("\"type\":\"user\""))
        .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&all[i]).unwrap();
    let values: Vec<serde_json::Value> = (0..2000u64)
        .map(|k| json!([100_000 + k, {"Date": "2020-01-01"}]))
        .collect();
    v["record"]["profile"]["custom"] = json!(values);
    all[i] = v.to_string();
    let (target, _) = institute(SEED_NOW);
    let err = try_import(&target, reseal(&all), &ImportOptions::default()).unwrap_err();
    assert!(
        err.message()
            .contains("holds a value of missing custom field 100000"),
        "{err}"
    );
    assert!(err.message().ends_with("(and 1995 more)"), "{err}");
}

/// A store with a Sunbird manager (user 1, created without a channel, so
/// the default organisation exists) and its managed user (2).
fn managed_world() -> Institute {
    use roster::domain::sunbird::{CreateRoute, SunbirdInput};
    let (i, _) = institute(SEED_NOW);
    let admin = i.operator();
    let manager = admin
        .sunbird_create(
            SunbirdInput {
                first_name: Some("Mgr".into()),
                email: Some("mgr@example.com".into()),
                password: Some("Pass@1word".into()),
                ..Default::default()
            },
            CreateRoute::Create,
        )
        .expect("manager");
    admin
        .sunbird_create(
            SunbirdInput {
                first_name: Some("Kid".into()),
                managed_by: Some(manager),
                ..Default::default()
            },
            CreateRoute::Managed,
        )
        .expect("managed user");
    i
}

/// X2: an honest export restores the same state, the default organisation's
/// pointer included: a Sunbird create without a channel works after it (it
/// answered 400 "an organisation holds the channel \"default\"..." when the
/// pointer was lost).
#[test]
fn a_restored_store_keeps_its_default_organisation() {
    use roster::domain::sunbird::{CreateRoute, SunbirdInput};
    let text = export(&managed_world());
    let (target, _) = institute(SEED_NOW);
    let report = import(&target, &text, &ImportOptions::default());
    assert!(report.restored);
    assert_eq!(
        target.check_integrity().expect("check"),
        Vec::<String>::new()
    );
    target
        .operator()
        .sunbird_create(
            SunbirdInput {
                first_name: Some("Later".into()),
                email: Some("later@example.com".into()),
                ..Default::default()
            },
            CreateRoute::Create,
        )
        .expect("a create without a channel finds the default organisation");
    assert_eq!(
        target.operator().dump().expect("dump").organisations.len(),
        1,
        "no second default organisation"
    );
}

/// S3 on the Testpress path too: a managed user is given no password (a
/// Sunbird update refuses one), so no honest store holds a managed user
/// that signs in on its own; given an email as well, it stands alone and
/// may have one.
#[test]
fn a_managed_user_gets_no_password_through_the_admin_api() {
    let i = managed_world();
    let admin = i.operator();
    let patch = |email: Option<&str>| roster::UserPatch {
        password: Some("Kid-pass-1x".into()),
        profile: roster::ProfileInput {
            email: email.map(str::to_string),
            ..Default::default()
        },
        ..Default::default()
    };
    let err = admin.update_user(2, patch(None)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Validation, "{err}");
    assert!(!err.fields().messages("password").is_empty(), "{err:?}");
    assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
    admin
        .update_user(2, patch(Some("kid@example.com")))
        .expect("standing alone, it may have a password");
    assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
    i.login("kid@example.com", "Kid-pass-1x").expect("signs in");
}

/// Edits of a Sunbird export that break S3 (managed users), the side
/// records' rules or the default organisation,
/// resealed so the trailer matches: refused whole.
#[test]
fn tampered_sunbird_exports_are_refused_whole() {
    let text = export(&managed_world());
    let all = lines(&text);
    let at = |kind: &str, nth: usize| -> usize {
        all.iter()
            .enumerate()
            .filter(|(_, l)| l.contains(&format!("\"type\":\"{kind}\"")))
            .nth(nth)
            .map(|(i, _)| i)
            .unwrap_or_else(|| panic!("no {kind} {nth}"))
    };
    let record = |i: usize| -> serde_json::Value {
        serde_json::from_str::<serde_json::Value>(&all[i]).expect("JSON")["record"].clone()
    };
    let edit = |kind: &str, nth: usize, f: &dyn Fn(&mut serde_json::Value)| -> Vec<String> {
        let mut out = all.clone();
        let i = at(kind, nth);
        let mut v: serde_json::Value = serde_json::from_str(&out[i]).expect("JSON");
        f(&mut v["record"]);
        out[i] = v.to_string();
        out
    };
    let manager_hash = record(at("user", 0))["password_hash"].clone();
    assert!(
        manager_hash
            .as_str()
            .is_some_and(|h| h.starts_with("$argon2id$"))
    );
    // 30 more managed users of the manager: 31, above the limit of 30.
    let many = {
        let mut out = all.clone();
        let (kid, kid_side) = (record(at("user", 1)), record(at("sunbird_user", 1)));
        for n in 0..30u64 {
            let id = 10 + n;
            let mut u = kid.clone();
            u["id"] = json!(id);
            u["uuid"] = json!(format!("00000000-0000-4000-8000-{id:012}"));
            u["username"] = json!(format!("kid_{id}"));
            let mut side = kid_side.clone();
            side["user"] = json!(id);
            out.insert(
                at("user", 1) + 1,
                json!({"type": "user", "record": u}).to_string(),
            );
            out.push(json!({"type": "sunbird_user", "record": side}).to_string());
        }
        let c = out
            .iter()
            .position(|l| l.contains("\"type\":\"counters\""))
            .unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&out[c]).unwrap();
        v["record"]["user"] = json!(100);
        out[c] = v.to_string();
        // Users before their side records, as an export writes them.
        let (mut users, mut rest): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
        for l in out {
            match l.contains("\"type\":\"sunbird_user\"") || l.contains("roster-export-end") {
                true => rest.push(l),
                false => users.push(l),
            }
        }
        users.extend(rest);
        users
    };
    let second_default = {
        let mut out = all.clone();
        let i = at("organisation", 0);
        let mut org = record(i);
        org["id"] = json!(5);
        org["uuid"] = json!("00000000-0000-4000-8000-000000000005");
        org["channel"] = json!("other");
        org["root_org"] = json!(5);
        out.insert(
            i + 1,
            json!({"type": "organisation", "record": org}).to_string(),
        );
        let c = out
            .iter()
            .position(|l| l.contains("\"type\":\"counters\""))
            .unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&out[c]).unwrap();
        v["record"]["organisation"] = json!(6);
        out[c] = v.to_string();
        out
    };
    let huge = "x".repeat(100_000);
    let grant = json!({"role": "ADMIN", "scope": [1], "created": 0, "modified": 0});
    // Each input field of a side record, in a form a Sunbird write would
    // have changed (trimmed, folded, compacted, deduplicated, normalised).
    let unformed = [
        ("language", json!([" Tamil"])),
        ("grade", json!(["5", "5"])),
        ("subject", json!(["Maths", ""])),
        ("profileSummary", json!(" a summary ")),
        ("framework", json!("{ \"board\": \"cbse\" }")),
        ("address", json!("[ {\"city\": \"Pune\"} ]")),
        ("education", json!("[{\"degree\": \"BSc\"}]")),
        ("jobProfile", json!("[{\"title\": \"Tutor\"} ]")),
        ("recoveryEmail", json!("Kid@Example.com")),
        ("recoveryPhone", json!("+91 97872-31006")),
        ("locations", json!([{"code": "c1", "kind": "State"}])),
        ("userTypes", json!([{"kind": "Teacher", "subKind": ""}])),
        (
            "externalIds",
            json!([{"provider": "Board", "idType": "roll", "id": "7"}]),
        ),
    ];
    // `n` declarations and `n` acceptances of terms.
    let declared = |n: usize| {
        edit("sunbird_user", 0, &|s| {
            s["fields"]["declarations"] = (0..n)
                .map(|k| {
                    json!({"orgId": "1", "persona": format!("p{k}"), "info": "",
                    "status": "SUBMITTED", "errorType": ""})
                })
                .collect();
            s["fields"]["accepted"] = (0..n)
                .map(|k| json!({"kind": format!("t{k}"), "version": "v1", "on": 0}))
                .collect();
        })
    };
    let at_most = declared(100);
    let mut cases: Vec<(&str, Vec<String>, &str)> = unformed
        .iter()
        .map(|(field, value)| {
            let lines = edit("sunbird_user", 1, &|s| s["fields"][*field] = value.clone());
            (*field, lines, "not in the form roster stores (edited?)")
        })
        .collect();
    cases.extend(vec![
        (
            "a managed user with a password",
            edit("user", 1, &|u| u["password_hash"] = manager_hash.clone()),
            "a managed user has no password",
        ),
        (
            "a managed user with an email",
            edit("user", 1, &|u| {
                u["profile"]["email"] = json!("kid@example.com")
            }),
            "a managed user has no email or phone",
        ),
        (
            "31 managed users of one manager",
            many,
            "manages 31 users, above the limit of 30",
        ),
        (
            "a huge prevUsedEmail",
            edit("sunbird_user", 0, &|s| {
                s["fields"]["prevUsedEmail"] = json!(huge)
            }),
            "prevUsedEmail:",
        ),
        (
            "a prevUsedPhone that is no phone",
            edit("sunbird_user", 0, &|s| {
                s["fields"]["prevUsedPhone"] = json!("1".repeat(1000))
            }),
            "prevUsedPhone:",
        ),
        (
            "a huge declaration persona",
            edit("sunbird_user", 0, &|s| {
                s["fields"]["declarations"] = json!([{"orgId": "1", "persona": huge,
                    "info": "", "status": "SUBMITTED", "errorType": ""}])
            }),
            "a declaration's orgId, persona, status or errorType",
        ),
        (
            "a huge terms type",
            edit("sunbird_user", 0, &|s| {
                s["fields"]["accepted"] = json!([{"kind": huge, "version": "v1", "on": 0}])
            }),
            "an acceptance's terms type",
        ),
        (
            "one role granted twice",
            edit("sunbird_user", 0, &|s| {
                s["fields"]["roles"] = json!([grant, grant])
            }),
            "one grant per role",
        ),
        (
            "101 declarations and acceptances",
            declared(101),
            "declarations: more than 100 entries",
        ),
        (
            "a declaration's info that is no JSON object",
            edit("sunbird_user", 0, &|s| {
                s["fields"]["declarations"] = json!([{"orgId": "1", "persona": "p",
                    "info": "[1]", "status": "SUBMITTED", "errorType": ""}])
            }),
            "a declaration's info is not a JSON object",
        ),
        (
            "a role outside the catalogue",
            edit("sunbird_user", 0, &|s| {
                s["fields"]["roles"] = json!([{"role": "WIZARD", "scope": [1],
                    "created": 0, "modified": 0}])
            }),
            "role \"WIZARD\" is not in the catalogue",
        ),
        (
            "the PUBLIC role granted",
            edit("sunbird_user", 0, &|s| {
                s["fields"]["roles"] = json!([{"role": "PUBLIC", "scope": [1],
                    "created": 0, "modified": 0}])
            }),
            "role \"PUBLIC\" is not in the catalogue",
        ),
        (
            "a role without a scope",
            edit("sunbird_user", 0, &|s| {
                s["fields"]["roles"] = json!([{"role": "ADMIN", "scope": [],
                    "created": 0, "modified": 0}])
            }),
            "role ADMIN: its scope is not in the form roster stores",
        ),
        (
            "a scope naming an organisation twice",
            edit("sunbird_user", 0, &|s| {
                s["fields"]["roles"] = json!([{"role": "ADMIN", "scope": [1, 1],
                    "created": 0, "modified": 0}])
            }),
            "role ADMIN: its scope is not in the form roster stores",
        ),
        (
            "a creator that never was",
            edit("sunbird_user", 0, &|s| s["fields"]["createdBy"] = json!(0)),
            "createdBy 0 names no other user",
        ),
        (
            // (Capitals alone are a Testpress username, which an admin
            // rename gives a user of any origin; with a space they are
            // neither surface's.)
            "a Sunbird userName in capitals, with a space",
            edit("user", 0, &|u| {
                let name = u["username"].as_str().expect("a name").to_uppercase();
                u["username"] = json!(format!("{name} X"))
            }),
            "userName: not in the form roster stores",
        ),
        (
            "two default organisations",
            second_default,
            "organisations 1 and 5 are both marked the default organisation",
        ),
    ]);
    for (what, lines, expected) in cases {
        let file = reseal(&lines);
        let (target, _) = institute(SEED_NOW);
        let err = try_import(&target, &file, &ImportOptions::default()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Corrupt, "{what}: {err}");
        assert!(
            err.message()
                .starts_with("the export breaks roster's rules, so nothing was restored: "),
            "{what}: {err}"
        );
        assert!(err.message().contains(expected), "{what}: {err}");
        assert!(
            !err.message().contains(" (and "),
            "{what}, one problem: {err}"
        );
        assert!(err.message().len() < 2000, "{what}: {err}");
        assert!(is_empty(&target), "{what}: nothing written");
    }
    let (target, _) = institute(SEED_NOW);
    assert!(try_import(&target, reseal(&all), &ImportOptions::default()).is_ok());
    // As many declarations and acceptances as a user may have.
    let (target, _) = institute(SEED_NOW);
    let restored = try_import(&target, reseal(&at_most), &ImportOptions::default());
    assert!(restored.is_ok(), "{restored:?}");
}

/// A declaration's orgId and persona are names (at most 150 characters,
/// no control characters), as the restore and integrity checks hold
/// stored ones to; one within the caps is kept and the store stays sound.
#[test]
fn a_declaration_takes_names_within_the_cap() {
    use roster::domain::sunbird::{
        CreateRoute, DeclarationChange, DeclarationOperation, SunbirdInput,
    };
    let (i, _) = institute(SEED_NOW);
    let admin = i.operator();
    let user = admin
        .sunbird_create(
            SunbirdInput {
                first_name: Some("Asha".into()),
                email: Some("asha@example.com".into()),
                ..Default::default()
            },
            CreateRoute::Create,
        )
        .expect("user");
    let change = |org: &str, persona: &str| DeclarationChange {
        operation: DeclarationOperation::Add,
        user_id: user.clone(),
        org_id: org.into(),
        persona: persona.into(),
        info: "{}".into(),
    };
    for (org, persona) in [
        ("x".repeat(151), "teacher".to_string()),
        ("1".into(), "p".repeat(151)),
        ("1".into(), "tea\u{7}cher".into()),
    ] {
        let err = admin
            .update_declarations(&[change(&org, &persona)])
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Validation, "{err}");
    }
    admin
        .update_declarations(&[change(&"x".repeat(150), "Teacher")])
        .expect("within the caps");
    // An info is a JSON object (kept compact) or nothing, of at most
    // 10,000 bytes as given: what restore takes back.
    let with_info = |persona: &str, info: &str| DeclarationChange {
        info: info.into(),
        ..change("2", persona)
    };
    let fits = format!("{{\"a\":\"{}\"}}", "x".repeat(10_000 - 8));
    let over = format!("{{\"a\":\"{}\"}}", "x".repeat(10_000 - 7));
    for info in [
        "not json { at all",
        "[1]",
        "[{}]",
        "\"text\"",
        "7",
        over.as_str(),
    ] {
        let err = admin
            .update_declarations(&[with_info("parent", info)])
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Validation, "{info}: {err}");
        assert!(err.message().contains("info"), "{info}: {err}");
    }
    for (persona, info) in [
        ("parent", " { \"a\" : 1 } "),
        ("guide", ""),
        ("other", &fits),
    ] {
        admin
            .update_declarations(&[with_info(persona, info)])
            .unwrap_or_else(|e| panic!("{persona}: {e}"));
    }
    let declared = admin.sunbird_read(
        &user,
        roster::domain::sunbird::ReadParts {
            declarations: true,
            ..Default::default()
        },
    );
    let infos: Vec<String> = declared
        .expect("the user")
        .side
        .declarations
        .iter()
        .map(|d| d.info.clone())
        .collect();
    assert!(infos.contains(&"{\"a\":1}".to_string()), "{infos:?}");
    assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
    let text = export(&i);
    let (target, _) = institute(SEED_NOW);
    assert!(import(&target, &text, &ImportOptions::default()).restored);
}

/// A record line must be one JSON object with one `type` and one `record`:
/// the same record as an array, a repeated key (which of the two would be
/// restored?), or a bare value is refused whole, naming the line. A
/// trailer's counts may carry keys of no record kind; they change nothing.
#[test]
fn a_record_line_is_one_object_with_each_key_once() {
    let all = lines(&export(&nine_users()));
    let at = all
        .iter()
        .position(|l| l.contains("\"type\":\"user\""))
        .expect("a user line");
    let line_no = at + 1;
    let record =
        serde_json::from_str::<serde_json::Value>(&all[at]).expect("JSON")["record"].to_string();
    let with = |line: String| {
        let mut out = all.clone();
        out[at] = line;
        out
    };
    let cases = [
        (
            "an array of the type and the record",
            with(format!("[\"user\",{record}]")),
            "not a JSON object".to_string(),
        ),
        (
            "a string",
            with("\"user\"".into()),
            "not a JSON object".to_string(),
        ),
        (
            "the record twice",
            with(format!(
                "{{\"type\":\"user\",\"record\":{record},\"record\":{record}}}"
            )),
            "duplicate field `record`".to_string(),
        ),
        (
            "the type twice",
            with(format!(
                "{{\"type\":\"user\",\"type\":\"group\",\"record\":{record}}}"
            )),
            "duplicate field `type`".to_string(),
        ),
    ];
    for (what, lines, expected) in cases {
        let (target, _) = institute(SEED_NOW);
        let err = try_import(&target, reseal(&lines), &ImportOptions::default()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Corrupt, "{what}: {err}");
        assert!(
            err.message()
                .contains(&format!("line {line_no}: {expected}")),
            "{what}: {err}"
        );
        assert!(is_empty(&target), "{what}: nothing written");
    }
    // Keys of no record kind in the trailer's counts, and a record's
    // parse error without serde's position inside the record.
    let sealed = reseal(&all);
    let mut file: Vec<String> = lines(&sealed);
    let last = file.len() - 1;
    let mut trailer: serde_json::Value = serde_json::from_str(&file[last]).expect("JSON");
    trailer["counts"]["notes"] = json!(["anything", {"at": 1}]);
    file[last] = trailer.to_string();
    let (target, _) = institute(SEED_NOW);
    let report = try_import(&target, file.join("\n"), &ImportOptions::default()).expect("restored");
    assert!(report.restored);
    let mut broken = all.clone();
    broken[at] = "{\"type\":\"user\",\"record\":{\"id\":\"seven\"}}".to_string();
    let (target, _) = institute(SEED_NOW);
    let err = try_import(&target, reseal(&broken), &ImportOptions::default()).unwrap_err();
    assert!(
        err.message().contains(&format!(
            "line {line_no}: invalid type: string \"seven\", expected u64"
        )),
        "{err}"
    );
    assert!(!err.message().contains("column"), "{err}");
}

/// A chunk of an import ends at `chunk_size` rows or once its rows' text
/// passes 4 MiB, whichever comes first: rows are held parsed until their
/// chunk is written. A row naming one batch many times joins it once.
#[test]
fn long_rows_make_short_chunks() {
    let i = populated();
    let rows: String = (0..10)
        .map(|k| {
            let row = json!({"username": format!("bulk{k}"), "password_hash": "!",
                "batches": vec!["Test Batch"; 60_000]});
            format!("{row}\n")
        })
        .collect();
    assert!(rows.len() > 7 << 20, "{} bytes", rows.len());
    let mut heard = Vec::new();
    let report = transfer::import(
        &i.operator(),
        rows.as_bytes(),
        &ImportOptions::default(),
        &mut |n| heard.push(n),
    )
    .expect("import runs");
    assert_eq!(report.created, 10, "{report:?}");
    assert!(
        heard.len() >= 2 && heard[0] < 10 && heard.last() == Some(&10),
        "one chunk per 4 MiB of rows: {heard:?}"
    );
    let admin = i.operator();
    let id = admin.find_user("bulk3").unwrap();
    let joined = admin.user_batches(id, Default::default()).unwrap();
    assert_eq!(joined.count, 1);
}

/// `text` with `records` (each a type and a record) added after its
/// counters, and each counter of `counters` set: resealed.
fn with_records(
    text: &str,
    records: &[(&str, serde_json::Value)],
    counters: &[(&str, u64)],
) -> String {
    let mut all = lines(text);
    let c = all
        .iter()
        .position(|l| l.contains("\"type\":\"counters\""))
        .expect("a counters line");
    let mut v: serde_json::Value = serde_json::from_str(&all[c]).expect("JSON");
    for (name, next) in counters {
        v["record"][*name] = json!(next);
    }
    all[c] = v.to_string();
    for (k, (kind, record)) in records.iter().enumerate() {
        let line = json!({"type": kind, "record": record}).to_string();
        all.insert(c + 1 + k, line);
    }
    reseal(&all)
}

/// A restore holds settings and organisations to the forms roster writes
/// them in, and names unique where roster keeps them so (ordinary batch
/// names, organisation channels); the edges those rules allow restore.
#[test]
fn restored_settings_organisations_and_names_keep_their_rules() {
    use roster::CourseInput;
    let plain = export(&nine_users());
    let sunbird = export(&managed_world());
    let record = |text: &str, kind: &str| -> serde_json::Value {
        let line = lines(text)
            .into_iter()
            .find(|l| l.contains(&format!("\"type\":\"{kind}\"")))
            .unwrap_or_else(|| panic!("no {kind}"));
        serde_json::from_str::<serde_json::Value>(&line).expect("JSON")["record"].clone()
    };
    let setting = |id: &str, value: &str| ("setting", json!({"id": id, "value": value}));
    let terms = r#"{"latestVersion":"v1","v1":{"url":"https://example.com/tnc"}}"#;
    let org = |id: u64, edit: &dyn Fn(&mut serde_json::Value)| {
        let mut o = record(&sunbird, "organisation");
        o["id"] = json!(id);
        o["uuid"] = json!(format!("00000000-0000-4000-8000-{id:012}"));
        o["is_default"] = json!(false);
        o["is_tenant"] = json!(false);
        o["channel"] = json!("");
        edit(&mut o);
        ("organisation", o)
    };
    let orgs = |records: &[(&str, serde_json::Value)]| {
        with_records(&sunbird, records, &[("organisation", 10)])
    };
    let batch = {
        let mut b = record(&plain, "batch");
        b["id"] = json!(50);
        b["uuid"] = json!("00000000-0000-4000-8000-000000000050");
        b["name"] = json!("TEST batch");
        b
    };
    // Two courses; a link of the first to the second's hidden batch (which
    // would give the second course to every member of the first).
    let two_courses = {
        let i = nine_users();
        for title in ["Algebra", "Geometry"] {
            let input = CourseInput {
                title: Some(title.into()),
                ..Default::default()
            };
            i.operator().create_course(input).expect("course");
        }
        export(&i)
    };
    let courses: Vec<serde_json::Value> = lines(&two_courses)
        .iter()
        .filter(|l| l.contains("\"type\":\"course\""))
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON")["record"].clone())
        .collect();
    let stray_link = json!({"course": courses[0]["id"], "batch": courses[1]["local_batch"]});
    // Names too long to be names, which NFKC makes 11 times longer: refused
    // by their length, without being normalised or folded first.
    let long = "\u{FDFA}".repeat(300_000);
    let long_user = {
        let mut u = record(&plain, "user");
        u["id"] = json!(50);
        u["uuid"] = json!("00000000-0000-4000-8000-000000000051");
        u["username"] = json!(long);
        u["profile"]["email"] = json!(format!("{long}@example.com"));
        u
    };
    let long_batch = {
        let mut b = batch.clone();
        b["name"] = json!(long);
        b
    };
    let cases = [
        (
            "a blank setting id",
            with_records(&plain, &[setting(" ", "v")], &[]),
            "setting \" \": not in the form roster stores",
        ),
        (
            "a setting id of 101 characters",
            with_records(&plain, &[setting(&"s".repeat(101), "v")], &[]),
            "not in the form roster stores",
        ),
        (
            "a setting id with a control character",
            with_records(&plain, &[setting("a\u{1}b", "v")], &[]),
            "not in the form roster stores",
        ),
        (
            "a setting value of 10,001 bytes",
            with_records(&plain, &[setting("s", &"v".repeat(10_001))], &[]),
            "setting \"s\": not in the form roster stores",
        ),
        (
            "terms that are no terms",
            with_records(&plain, &[setting("orgTnc", "{}")], &[]),
            "setting \"orgTnc\": not in the form roster stores",
        ),
        (
            "two batches of one name",
            with_records(&plain, &[("batch", batch)], &[("batch", 60)]),
            "batch 1: the name is used twice",
        ),
        (
            "a channel twice",
            orgs(&[org(5, &|o| o["channel"] = json!("default"))]),
            "organisation 1: the channel is used twice",
        ),
        (
            "a channel in capitals",
            orgs(&[org(5, &|o| o["channel"] = json!("Other"))]),
            "organisation 5: not in the form roster stores",
        ),
        (
            "a channel of 151 characters",
            orgs(&[org(5, &|o| o["channel"] = json!("c".repeat(151)))]),
            "organisation 5: not in the form roster stores",
        ),
        (
            "a channel with a control character",
            orgs(&[org(5, &|o| o["channel"] = json!("a\u{7}b"))]),
            "organisation 5: not in the form roster stores",
        ),
        (
            "a blank organisation type",
            orgs(&[org(5, &|o| o["org_type"] = json!(" "))]),
            "organisation 5: not in the form roster stores",
        ),
        (
            "an organisation name with spaces around it",
            orgs(&[org(5, &|o| o["name"] = json!(" Org "))]),
            "organisation 5: not in the form roster stores",
        ),
        (
            "an organisation email the rules refuse",
            orgs(&[org(5, &|o| {
                o["email"] = json!("not an email");
            })]),
            "organisation 5: not in the form roster stores",
        ),
        (
            "an external id in capitals",
            orgs(&[org(5, &|o| {
                o["external_id"] = json!("ABC");
            })]),
            "organisation 5: not in the form roster stores",
        ),
        (
            "an organisation type with spaces around it",
            orgs(&[org(5, &|o| {
                o["org_type"] = json!(" school ");
            })]),
            "organisation 5: not in the form roster stores",
        ),
        (
            "an organisation type longer than a name",
            orgs(&[org(5, &|o| {
                o["org_type"] = json!("t".repeat(151));
            })]),
            "organisation 5: not in the form roster stores",
        ),
        (
            "an organisation type with a control character",
            orgs(&[org(5, &|o| {
                o["org_type"] = json!("sch\u{7}ool");
            })]),
            "organisation 5: not in the form roster stores",
        ),
        (
            "an external id longer than a create takes",
            orgs(&[org(5, &|o| {
                o["external_id"] = json!("e".repeat(201));
            })]),
            "organisation 5: not in the form roster stores",
        ),
        (
            "an external id with a control character",
            orgs(&[org(5, &|o| {
                o["external_id"] = json!("e\u{0}1");
            })]),
            "organisation 5: not in the form roster stores",
        ),
        (
            "a sub-organisation with a channel",
            orgs(&[org(5, &|o| {
                o["channel"] = json!("sub");
            })]),
            "organisation 5: not in the form roster stores",
        ),
        (
            "a sub-organisation under no tenant",
            orgs(&[org(5, &|o| {
                o["root_org"] = json!(77);
            })]),
            "organisation 5: not in the form roster stores",
        ),
        (
            "a tenant without a channel",
            orgs(&[org(5, &|o| {
                o["is_tenant"] = json!(true);
                o["root_org"] = json!(5);
            })]),
            "organisation 5: not in the form roster stores",
        ),
        (
            "a tenant under another root",
            orgs(&[org(5, &|o| {
                o["is_tenant"] = json!(true);
                o["channel"] = json!("t");
            })]),
            "organisation 5: not in the form roster stores",
        ),
        (
            "a username a megabyte long, in NFKC 11 times that",
            with_records(&plain, &[("user", long_user)], &[("user", 60)]),
            "user 50: username: Ensure this field has no more than 150 characters",
        ),
        (
            "a batch name a megabyte long",
            with_records(&plain, &[("batch", long_batch)], &[("batch", 60)]),
            "batch 50: ",
        ),
        (
            "a course linked to another course's hidden batch",
            with_records(&two_courses, &[("course_batch", stray_link)], &[]),
            "is linked to batch",
        ),
    ];
    for (what, text, expected) in cases {
        let (target, _) = institute(SEED_NOW);
        let err = try_import(&target, &text, &ImportOptions::default()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Corrupt, "{what}: {err}");
        assert!(err.message().contains(expected), "{what}: {err}");
        assert!(is_empty(&target), "{what}: nothing written");
    }
    let hidden_namesake = {
        let i = nine_users();
        let title = Some("Test Batch".to_string());
        i.operator()
            .create_course(CourseInput {
                title,
                ..Default::default()
            })
            .expect("course");
        export(&i)
    };
    let restored = [
        (
            "settings at their edges",
            with_records(
                &plain,
                &[
                    setting(&"s".repeat(100), &"v".repeat(10_000)),
                    setting("orgTnc", terms),
                    setting("plain", "not JSON"),
                ],
                &[],
            ),
        ),
        (
            "a counter at the top of the range",
            with_records(&plain, &[], &[("user", 1 << 53)]),
        ),
        (
            // What the export of a store that gave id 2^53 holds.
            "a counter past the highest id",
            with_records(&plain, &[], &[("user", (1 << 53) + 1)]),
        ),
        (
            "organisations without a channel",
            orgs(&[org(5, &|_| {}), org(6, &|_| {})]),
        ),
        (
            "a tenant and its sub-organisation, with an email and an external id",
            orgs(&[
                org(5, &|o| {
                    o["is_tenant"] = json!(true);
                    o["channel"] = json!("t");
                    o["root_org"] = json!(5);
                }),
                org(6, &|o| {
                    o["root_org"] = json!(5);
                    o["email"] = json!("office@example.com");
                    o["external_id"] = json!("abc");
                }),
            ]),
        ),
        ("a hidden batch named as an ordinary one", hidden_namesake),
    ];
    for (what, text) in restored {
        let (target, _) = institute(SEED_NOW);
        let report = try_import(&target, &text, &ImportOptions::default());
        assert!(report.is_ok_and(|r| r.restored), "{what}");
    }
}
