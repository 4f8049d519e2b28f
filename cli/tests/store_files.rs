//! Which commands create a store file, which refuse a missing one, what a
//! file that is no store gives, and `roster import`'s checks before its
//! first row (batches, columns in `--help`, the closing timing line).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use tempfile::TempDir;

mod common;

const NOW: &str = "2023-01-12T11:06:19+05:30";

fn roster(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_roster"))
        .arg("--db")
        .arg(db)
        .args(["--now", NOW])
        .args(args)
        .env_remove("ROSTER_DB")
        .stdin(Stdio::null())
        .output()
        .expect("run roster")
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The commands that never create a store: each with its arguments
/// (`OUT` stands for a path in the test's folder that must not exist).
fn refusing() -> Vec<Vec<&'static str>> {
    vec![
        vec!["export", "OUT"],
        vec!["changes"],
        vec!["changes", "--purge"],
        vec!["unlock", "ravi"],
        vec!["check"],
        vec!["recover", "--to", "OUT"],
        vec!["api", "GET", "/api/v2.5/admin/users/"],
        vec!["api", "get", "/api/v2.5/admin/users/"],
        vec!["api", "HEAD", "/api/v2.5/admin/users/"],
    ]
}

fn with_out(args: &[&'static str], out: &Path) -> Vec<String> {
    args.iter()
        .map(|a| {
            if *a == "OUT" {
                out.to_str().expect("path").to_string()
            } else {
                a.to_string()
            }
        })
        .collect()
}

#[test]
fn a_command_that_only_reads_never_creates_a_store() {
    for args in refusing() {
        let dir = TempDir::new().expect("temp dir");
        let db = dir.path().join("mistyped.redb");
        let args = with_out(&args, &dir.path().join("out"));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = roster(&db, &args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", err(&o));
        let e = err(&o);
        assert!(
            e.contains("mistyped.redb") && e.contains("no such file"),
            "{args:?}: the error names the path: {e}"
        );
        assert!(!e.contains("HTTP "), "{args:?}: no request was sent: {e}");
        assert_eq!(
            names(dir.path()),
            Vec::<String>::new(),
            "{args:?}: nothing was created"
        );
    }
}

#[test]
fn a_command_that_only_reads_refuses_an_empty_file_and_leaves_it_empty() {
    for args in refusing() {
        let dir = TempDir::new().expect("temp dir");
        let db = dir.path().join("empty.redb");
        std::fs::write(&db, b"").expect("write");
        let args = with_out(&args, &dir.path().join("out"));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = roster(&db, &args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", err(&o));
        assert!(
            err(&o).contains("empty.redb") && err(&o).contains("empty, not a roster store"),
            "{args:?}: {}",
            err(&o)
        );
        assert_eq!(std::fs::read(&db).expect("read"), b"", "{args:?}");
        assert_eq!(names(dir.path()), vec!["empty.redb"], "{args:?}");
    }
}

/// The one stderr line that says a store was created.
fn created_line(e: &str, db: &Path) -> usize {
    let line = format!("roster: created the store '{}'", db.display());
    e.lines().filter(|l| *l == line).count()
}

#[test]
fn a_command_that_writes_creates_the_store_and_says_so_once() {
    let dir = TempDir::new().expect("temp dir");
    let csv = dir.path().join("users.csv");
    std::fs::write(&csv, "username,password\nravi,Secret-pass-1\n").expect("write");
    let csv = csv.to_str().expect("path");
    let commands: Vec<Vec<&str>> = vec![
        vec![
            "superuser",
            "--username",
            "admin",
            "--password",
            "Adm1n-Pass!-long",
        ],
        vec!["import", csv],
        vec![
            "api",
            "POST",
            "/api/v2.5/admin/batches/",
            "--data",
            r#"{"name": "A"}"#,
        ],
    ];
    for (i, args) in commands.iter().enumerate() {
        let db = dir.path().join(format!("new-{i}.redb"));
        let o = roster(&db, args);
        assert!(o.status.success(), "{args:?}: {}", err(&o));
        assert_eq!(created_line(&err(&o), &db), 1, "{args:?}: {}", err(&o));
        assert!(db.is_file(), "{args:?}");
        // The second time the store is there: no such line.
        let o = roster(&db, &["api", "GET", "/api/v2.5/admin/users/"]);
        assert!(o.status.success(), "{}", err(&o));
        assert_eq!(created_line(&err(&o), &db), 0, "{}", err(&o));
    }
    // `api` keeps `HTTP <status>` the first line on stderr.
    let db = dir.path().join("api.redb");
    let o = roster(&db, &["api", "DELETE", "/api/v2.5/admin/users/7/"]);
    let e = err(&o);
    assert_eq!(e.lines().next(), Some("HTTP 404"), "{e}");
    assert_eq!(created_line(&e, &db), 1, "{e}");
    // An empty file is a store not yet written: a write command makes it one.
    let db = dir.path().join("touched.redb");
    std::fs::write(&db, b"").expect("write");
    let o = roster(
        &db,
        &[
            "superuser",
            "--username",
            "admin",
            "--password",
            "Adm1n-Pass!-long",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(created_line(&err(&o), &db), 1, "{}", err(&o));
}

#[test]
fn serve_creates_a_missing_store_and_says_so() {
    let dir = TempDir::new().expect("temp dir");
    let db = dir.path().join("served.redb");
    let mut served = common::spawn_serve(&db, NOW, &[]);
    assert!(served.addr.ip().is_loopback());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let said = loop {
        let log = served.log.lock().expect("log").clone();
        if created_line(&log.join("\n"), &db) == 1 {
            break true;
        }
        if std::time::Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = served.child.kill();
    let _ = served.child.wait();
    assert!(said, "{:?}", served.log.lock().expect("log"));
    assert!(db.is_file());
}

/// Files that are no roster store.
fn not_stores() -> Vec<(&'static str, Vec<u8>)> {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let random: Vec<u8> = (0..8192)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect();
    let mut sqlite = b"SQLite format 3\0".to_vec();
    sqlite.resize(4096, 0);
    vec![
        ("random bytes", random),
        ("a text file", b"name,email\nravi,ravi@x.in\n".to_vec()),
        ("a SQLite database", sqlite),
        ("two bytes", vec![0x00, 0xFF]),
    ]
}

#[test]
fn a_file_that_is_no_store_is_corrupt_store_for_every_command_and_is_not_written() {
    let dir = TempDir::new().expect("temp dir");
    let csv = dir.path().join("users.csv");
    std::fs::write(&csv, "username,password\nravi,Secret-pass-1\n").expect("write");
    let csv = csv.to_str().expect("path").to_string();
    let out_file = dir.path().join("out.jsonl");
    let out_file = out_file.to_str().expect("path").to_string();
    let commands: Vec<Vec<&str>> = vec![
        vec!["api", "GET", "/api/v2.5/admin/users/"],
        vec![
            "api",
            "POST",
            "/api/v2.5/admin/batches/",
            "-d",
            r#"{"name":"A"}"#,
        ],
        vec![
            "superuser",
            "--username",
            "admin",
            "--password",
            "Adm1n-Pass!-long",
        ],
        vec!["import", &csv],
        vec!["export", &out_file],
        vec!["changes"],
        vec!["unlock", "ravi"],
    ];
    for (what, bytes) in not_stores() {
        let db = dir.path().join("not-a-store");
        std::fs::write(&db, &bytes).expect("write");
        for args in &commands {
            let o = roster(&db, args);
            assert_eq!(o.status.code(), Some(1), "{what} {args:?}: {}", err(&o));
            let e = err(&o);
            assert!(
                e.contains("not a roster store") && e.contains("(corrupt_store)"),
                "{what} {args:?}: {e}"
            );
            assert!(!e.contains("panicked"), "{what} {args:?}: {e}");
            assert!(
                std::fs::read(&db).expect("read") == bytes,
                "{what} {args:?}: the file was written"
            );
        }
        let o = roster(&db, &["check"]);
        assert_eq!(o.status.code(), Some(1), "{what}: {}", err(&o));
        assert!(
            out(&o).contains("is not a roster store"),
            "{what}: {}",
            out(&o)
        );
        assert!(std::fs::read(&db).expect("read") == bytes, "{what}");
        assert!(!Path::new(&out_file).exists(), "{what}");
        std::fs::remove_file(&db).expect("remove");
    }
}

/// A store with batch "Morning" and an administrator.
fn store_with_batch(dir: &Path) -> PathBuf {
    let db = dir.join("x.redb");
    let o = roster(
        &db,
        &[
            "api",
            "POST",
            "/api/v2.5/admin/batches/",
            "--data",
            r#"{"name": "Morning"}"#,
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    db
}

/// The store's export (its records, ids and counters) as text.
fn export(db: &Path, to: &Path) -> String {
    let o = roster(db, &["export", to.to_str().expect("path")]);
    assert!(o.status.success(), "{}", err(&o));
    std::fs::read_to_string(to).expect("read")
}

fn count_users(db: &Path) -> u64 {
    let o = roster(db, &["api", "GET", "/api/v2.5/admin/users/"]);
    assert!(o.status.success(), "{}", err(&o));
    let page: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    page["count"].as_u64().expect("count")
}

fn batch_names(db: &Path) -> Vec<String> {
    let o = roster(db, &["api", "GET", "/api/v2.5/admin/batches/"]);
    let page: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|b| b["name"].as_str().expect("name").to_string())
        .collect()
}

#[test]
fn import_names_every_missing_batch_before_any_row_and_changes_nothing() {
    let dir = TempDir::new().expect("temp dir");
    let db = store_with_batch(dir.path());
    let csv = dir.path().join("users.csv");
    std::fs::write(
        &csv,
        "username,password,batches\n\
         ravi,Secret-pass-1,morning;Evening\n\
         asha,Secret-pass-1,Weekend; evening\n",
    )
    .expect("write");
    let csv = csv.to_str().expect("path");
    let before = export(&db, &dir.path().join("before.jsonl"));
    let o = roster(&db, &["import", csv, "--batch", "Typo Batch"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let e = err(&o);
    assert!(
        e.contains(r#"the batches "Typo Batch", "Evening", "Weekend" do not exist"#),
        "one error names every missing batch, each once: {e}"
    );
    assert!(e.contains("nothing was imported") && e.contains("--create-batches"));
    let after = export(&db, &dir.path().join("after.jsonl"));
    assert!(after == before, "the store is unchanged");
    assert_eq!(count_users(&db), 0);

    // JSON Lines rows' batches are checked the same way.
    let jsonl = dir.path().join("users.jsonl");
    std::fs::write(
        &jsonl,
        "{\"username\": \"kiran\", \"password\": \"Secret-pass-1\", \"batches\": [\"Night\"]}\n",
    )
    .expect("write");
    let o = roster(&db, &["import", jsonl.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains(r#"the batch "Night" does not exist"#),
        "{}",
        err(&o)
    );
    assert_eq!(count_users(&db), 0);

    // --create-batches makes them, then imports.
    let o = roster(
        &db,
        &["import", csv, "--batch", "Typo Batch", "--create-batches"],
    );
    assert!(o.status.success(), "{}", err(&o));
    let mut batches = batch_names(&db);
    batches.sort();
    assert_eq!(batches, ["Evening", "Morning", "Typo Batch", "Weekend"]);
    assert_eq!(count_users(&db), 2);
}

#[test]
fn a_file_naming_many_missing_batches_gets_a_message_a_person_can_read() {
    let dir = TempDir::new().expect("temp dir");
    let db = store_with_batch(dir.path());
    let csv = dir.path().join("users.csv");
    let names: Vec<String> = (0..5000).map(|i| format!("b{i:04}")).collect();
    std::fs::write(
        &csv,
        format!(
            "username,password,batches\nravi,Secret-pass-1,{}\n",
            names.join(";")
        ),
    )
    .expect("write");
    let o = roster(&db, &["import", csv.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1));
    let e = err(&o);
    assert!(
        e.contains(r#""b0008", "b0009" and 4990 more do not exist"#),
        "{e}"
    );
    assert!(e.len() < 500, "{} bytes", e.len());
    assert_eq!(count_users(&db), 0);
}

#[test]
fn import_into_a_missing_store_with_missing_batches_creates_no_store() {
    let dir = TempDir::new().expect("temp dir");
    let db = dir.path().join("new.redb");
    let csv = dir.path().join("users.csv");
    std::fs::write(&csv, "username,password\nravi,Secret-pass-1\n").expect("write");
    let o = roster(
        &db,
        &["import", csv.to_str().expect("path"), "--batch", "A"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(
        err(&o).contains(r#"the batch "A" does not exist"#),
        "{}",
        err(&o)
    );
    assert!(!db.exists(), "no store was created");
}

#[test]
fn import_says_how_long_it_took_and_how_fast() {
    let dir = TempDir::new().expect("temp dir");
    let db = store_with_batch(dir.path());
    let csv = dir.path().join("users.csv");
    std::fs::write(
        &csv,
        "username,password\nravi,Secret-pass-1\nasha,Secret-pass-1\nbad name,Secret-pass-1\n",
    )
    .expect("write");
    let o = roster(&db, &["import", csv.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1));
    // The rejected row first, then the summary, last.
    let printed = out(&o);
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 2, "{printed}");
    assert!(lines[0].starts_with("line 4: bad name: "), "{printed}");
    let first = lines[1].to_string();
    let rest = first
        .strip_prefix("imported 2 users in ")
        .unwrap_or_else(|| panic!("{first}"));
    let (secs, rest) = rest.split_once(" s (").unwrap_or_else(|| panic!("{first}"));
    let (rate, rest) = rest
        .split_once(" users/s)")
        .unwrap_or_else(|| panic!("{first}"));
    let secs: f64 = secs.parse().unwrap_or_else(|_| panic!("{first}"));
    let rate: f64 = rate.parse().unwrap_or_else(|_| panic!("{first}"));
    assert!(secs >= 0.0 && rate >= 0.0, "{first}");
    assert_eq!(rest, ", 1 rows rejected", "{first}");
}

#[test]
fn import_help_lists_the_columns_the_importer_reads() {
    let o = Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(["import", "--help"])
        .output()
        .expect("run");
    assert!(o.status.success());
    let help = out(&o);
    let listed = help
        .lines()
        .find(|l| l.starts_with("CSV columns"))
        .unwrap_or_else(|| panic!("{help}"));
    let expected = roster::transfer::CSV_COLUMNS.join(", ");
    assert!(listed.contains(&expected), "{listed}");
    assert!(listed.contains("custom_fields.<Name>"), "{listed}");
    assert!(help.contains("--create-batches"), "{help}");
}

#[test]
fn batch_flags_do_not_apply_to_restoring_an_export() {
    let dir = TempDir::new().expect("temp dir");
    let db = store_with_batch(dir.path());
    let export = dir.path().join("all.jsonl");
    let o = roster(&db, &["export", export.to_str().expect("path")]);
    assert!(o.status.success(), "{}", err(&o));
    let target = dir.path().join("restored.redb");
    let o = roster(
        &target,
        &[
            "import",
            export.to_str().expect("path"),
            "--batch",
            "Morning",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("--batch"), "{}", err(&o));
    assert!(!target.exists());
}

#[test]
fn a_batch_create_batches_cannot_make_is_named_and_no_row_is_imported() {
    let dir = TempDir::new().expect("temp dir");
    let db = store_with_batch(dir.path());
    let long = "L".repeat(151);
    let csv = dir.path().join("users.csv");
    std::fs::write(
        &csv,
        format!("username,password,batches\nravi,Secret-pass-1,Evening;{long}\n"),
    )
    .expect("write");
    let o = roster(
        &db,
        &["import", csv.to_str().expect("path"), "--create-batches"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let e = err(&o);
    assert!(e.contains("cannot create the batch"), "{e}");
    assert!(e.contains(r#"(created before it: "Evening")"#), "{e}");
    assert!(!e.contains("panicked"), "{e}");
    assert_eq!(count_users(&db), 0);
}

#[test]
fn serve_refuses_a_file_that_is_no_store_and_exits_1() {
    let dir = TempDir::new().expect("temp dir");
    let db = dir.path().join("notes.txt");
    std::fs::write(&db, "not a store\n").expect("write");
    let o = roster(&db, &["serve", "--port", "0", "--bind", "127.0.0.1"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(
        err(&o).contains("not a roster store") && err(&o).contains("(corrupt_store)"),
        "{}",
        err(&o)
    );
    assert!(out(&o).is_empty(), "it never listened: {}", out(&o));
    assert_eq!(std::fs::read(&db).expect("read"), b"not a store\n");
}
