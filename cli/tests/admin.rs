//! Tests of the host-level commands: `superuser`, `unlock`, `import`,
//! `export`, and of `api --token` against the accounts they make.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// A fixed clock, so lock-outs and expiries do not depend on the day.
const NOW: &str = "2023-01-12T11:06:19+05:30";

fn roster(db: &Path, args: &[&str]) -> Output {
    roster_with_stdin(db, args, "")
}

fn roster_with_stdin(db: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_roster"))
        .arg("--db")
        .arg(db)
        .args(["--now", NOW])
        .args(args)
        .env_remove("ROSTER_DB")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run roster");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("roster finishes")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn token(db: &Path, username: &str, password: &str) -> String {
    let body = format!(r#"{{"username": "{username}", "password": "{password}"}}"#);
    let o = roster(
        db,
        &["api", "POST", "/api/v2.5/auth-token/", "--data", &body],
    );
    assert!(o.status.success(), "{}", err(&o));
    let reply: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    reply["token"].as_str().expect("token").to_string()
}

#[test]
fn superuser_signs_in_and_its_token_passes_the_checks() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("x.redb");
    let o = roster(
        &db,
        &[
            "superuser",
            "--username",
            "admin",
            "--password",
            "admin-pass-1",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("superuser admin"));
    let t = token(&db, "admin", "admin-pass-1");
    let o = roster(
        &db,
        &["api", "GET", "/api/v2.5/admin/users/", "--token", &t],
    );
    assert!(o.status.success(), "{}", err(&o));
    let o = roster(
        &db,
        &[
            "api",
            "GET",
            "/api/v2.5/admin/users/",
            "--token",
            &"0".repeat(64),
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).starts_with("HTTP 401"), "{}", err(&o));
    // Running it again resets the password.
    let o = roster_with_stdin(
        &db,
        &["superuser", "--username", "ADMIN", "--password-stdin"],
        "new-pass-22\n",
    );
    assert!(o.status.success(), "{}", err(&o));
    token(&db, "admin", "new-pass-22");
    let o = roster(
        &db,
        &["api", "GET", "/api/v2.5/admin/users/", "--token", &t],
    );
    assert!(
        err(&o).starts_with("HTTP 401"),
        "the old session ended with the old password"
    );
}

#[test]
fn api_sends_the_headers_given_with_h() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("x.redb");
    superuser(&db);
    let t = token(&db, "admin", "admin-pass-1");
    // A credential header authenticates, as --token does.
    let auth = format!("Authorization: JWT {t}");
    let o = roster(&db, &["api", "GET", "/api/v2.5/admin/users/", "-H", &auth]);
    assert!(o.status.success(), "{}", err(&o));
    let o = roster(
        &db,
        &[
            "api",
            "GET",
            "/api/v2.5/admin/users/",
            "--header",
            &format!("authorization: JWT {}", "0".repeat(64)),
        ],
    );
    assert!(err(&o).starts_with("HTTP 401"), "{}", err(&o));
    // Every header reaches the facade: a Content-Type given with -H
    // replaces the JSON one of --data.
    let o = roster(
        &db,
        &[
            "api",
            "POST",
            "/api/v2.5/admin/batches/",
            "--data",
            r#"{"name": "Morning"}"#,
            "-H",
            "X-msgid: 42",
            "-H",
            "Content-Type: text/plain",
        ],
    );
    assert!(err(&o).starts_with("HTTP 415"), "{}", err(&o));
    // A header that is not `Name: value` is a usage error.
    let o = roster(
        &db,
        &["api", "GET", "/api/v2.5/admin/users/", "-H", "NoColon"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("'Name: value'"), "{}", err(&o));
}

#[test]
fn superuser_needs_a_password_that_meets_the_policy() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("x.redb");
    let o = roster(
        &db,
        &["superuser", "--username", "admin", "--password", "123"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("password"), "{}", err(&o));
    let o = roster(&db, &["superuser", "--username", "admin"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "no password at all is a usage error"
    );
    let o = roster_with_stdin(
        &db,
        &["superuser", "--username", "admin", "--password-stdin"],
        "",
    );
    assert_eq!(o.status.code(), Some(2));
}

/// A password typed at a terminal for `--password-stdin` is not echoed:
/// the command runs on a pseudo-terminal (`script`, util-linux), and what
/// the terminal shows holds the prompt but not the password, which works.
#[cfg(target_os = "linux")]
#[test]
fn a_password_typed_at_a_terminal_is_not_echoed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("x.redb");
    let secret = "Typed-Secret-77";
    let command = format!(
        "{} --db {} --now {NOW} superuser --username admin --password-stdin",
        env!("CARGO_BIN_EXE_roster"),
        db.display()
    );
    let mut child = Command::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .env_remove("ROSTER_DB")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs");
    let mut stdin = child.stdin.take().expect("stdin");
    // After the prompt is up: typed ahead, a terminal echoes the line
    // before echo can be turned off.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    stdin
        .write_all(format!("{secret}\n").as_bytes())
        .expect("type");
    let o = child.wait_with_output().expect("wait");
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{shown}");
    assert!(shown.contains("Password:"), "{shown}");
    assert!(!shown.contains(secret), "the password was echoed: {shown}");
    token(&db, "admin", secret);
}

#[test]
fn unlock_ends_a_lock_out() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("x.redb");
    superuser(&db);
    for _ in 0..5 {
        let o = roster(
            &db,
            &[
                "api",
                "POST",
                "/api/v2.5/auth-token/",
                "--data",
                r#"{"username": "admin", "password": "wrong-one"}"#,
            ],
        );
        assert!(err(&o).starts_with("HTTP 400"));
    }
    let o = roster(
        &db,
        &[
            "api",
            "POST",
            "/api/v2.5/auth-token/",
            "--data",
            r#"{"username": "admin", "password": "admin-pass-1"}"#,
        ],
    );
    assert!(
        err(&o).starts_with("HTTP 400"),
        "locked: the right password is refused too"
    );
    assert_eq!(
        out(&o).trim_end(),
        r#"{"non_field_errors":["Unable to log in with provided credentials."]}"#
    );
    let o = roster(&db, &["unlock", "admin"]);
    assert!(o.status.success(), "{}", err(&o));
    token(&db, "admin", "admin-pass-1");
    let o = roster(&db, &["unlock", "nobody"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn changes_prints_the_feed_as_json_lines_and_purges_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("x.redb");
    let o = roster_with_stdin(
        &db,
        &["superuser", "--username", "admin", "--password-stdin"],
        "admin-pass-1\n",
    );
    assert!(o.status.success(), "{}", err(&o));
    // A sign-in changes nothing the feed records.
    token(&db, "admin", "admin-pass-1");
    let o = roster(
        &db,
        &[
            "api",
            "POST",
            "/api/v2.5/admin/batches/",
            "--data",
            r#"{"name": "B"}"#,
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    let o = roster(&db, &["changes"]);
    assert!(o.status.success(), "{}", err(&o));
    let lines: Vec<serde_json::Value> = out(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let kinds: Vec<(&str, &str)> = lines
        .iter()
        .map(|e| (e["entity"].as_str().unwrap(), e["op"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds, [("user", "create"), ("batch", "create")]);
    assert!(!out(&o).contains("argon2"), "no password hash: {}", out(&o));
    // A new store's feed starts at a random number: the second entry's.
    let second = lines[1]["seq"].as_u64().expect("seq");
    assert_eq!(lines[0]["seq"].as_u64(), Some(second - 1));
    assert_eq!(err(&o).trim_end(), format!("next: {second} (more: false)"));
    let first = (second - 1).to_string();
    let o = roster(&db, &["changes", "--since", &first, "--limit", "1"]);
    assert_eq!(out(&o).lines().count(), 1);
    // A number from before this feed's start is another feed's.
    let o = roster(&db, &["changes", "--since", "1"]);
    assert!(!o.status.success(), "{}", out(&o));
    assert!(
        err(&o).contains("Start again from a full copy"),
        "{}",
        err(&o)
    );
    let o = roster(&db, &["changes", "--limit", "0"]);
    assert_eq!(o.status.code(), Some(2), "a limit below 1 is a usage error");
    let o = roster(&db, &["changes", "--purge"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(
        out(&o).trim_end(),
        "0 entries of the change feed removed",
        "nothing is old yet"
    );
}

#[test]
fn import_reports_rejected_rows_and_export_restores() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("x.redb");
    let o = roster(
        &db,
        &[
            "api",
            "POST",
            "/api/v2.5/admin/batches/",
            "--data",
            r#"{"name": "Test Batch"}"#,
        ],
    );
    assert!(o.status.success());
    let csv = dir.path().join("users.csv");
    std::fs::write(&csv, "username,password,email\nravi,secret-1,ravi@x.in\nbad name,secret-1,\nasha,secret-1,asha@x.in\n").expect("write");
    let o = roster(
        &db,
        &[
            "import",
            csv.to_str().expect("path"),
            "--batch",
            "Test Batch",
            "--expires",
            "2023-02-01",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "a rejected row makes the exit code 1"
    );
    let report = out(&o);
    assert!(
        report
            .lines()
            .last()
            .is_some_and(|last| last.starts_with("imported 2 users in "))
            && report.contains(", 1 rows rejected"),
        "{report}"
    );
    assert!(report.contains("line 3: bad name: username:"), "{report}");
    let o = roster(
        &db,
        &["api", "GET", "/api/v2.5/admin/users/1/subscriptions/"],
    );
    assert!(
        out(&o).contains("\"expires\":\"2023-02-01\""),
        "{}",
        out(&o)
    );

    let export = dir.path().join("all.jsonl");
    let o = roster(&db, &["export", export.to_str().expect("path")]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("password hashes"));
    let copy = dir.path().join("copy.redb");
    let o = roster(&copy, &["import", export.to_str().expect("path")]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("restored"));
    let again = dir.path().join("again.jsonl");
    assert!(
        roster(&copy, &["export", again.to_str().expect("path")])
            .status
            .success()
    );
    assert_eq!(
        std::fs::read(&export).expect("read"),
        std::fs::read(&again).expect("read")
    );
    let o = roster(&copy, &["import", "/nonexistent/file.csv"]);
    assert_eq!(o.status.code(), Some(2));
    let o = roster(
        &copy,
        &[
            "import",
            csv.to_str().expect("path"),
            "--expires",
            "2023-02-01",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "--expires needs --batch");
}

#[test]
fn import_takes_a_chunk_size_and_checks_its_options_before_anything() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("roster.redb");
    let csv = dir.path().join("users.csv");
    let rows: String = (1..=5)
        .map(|i| format!("user{i},secret-{i}x,user{i}@x.in\n"))
        .collect();
    std::fs::write(&csv, format!("username,password,email\n{rows}")).expect("write");
    let file = csv.to_str().expect("path");
    for (args, says) in [
        (
            vec!["--chunk-size", "0"],
            "The chunk size must be from 1 to 100000.",
        ),
        (
            vec!["--chunk-size", "100001"],
            "The chunk size must be from 1 to 100000.",
        ),
        (
            vec!["--batch", "A", "--expires", "2024-13-01"],
            "The expiry must be a date, yyyy-mm-dd.",
        ),
    ] {
        let mut all = vec!["import", file, "--create-batches"];
        all.extend(&args);
        let o = roster(&db, &all);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", err(&o));
        assert!(err(&o).contains(says), "{args:?}: {}", err(&o));
        assert!(!db.exists(), "{args:?}: refused before the store is made");
    }
    // Five rows in chunks of two: three transactions, every row in.
    let o = roster(&db, &["import", file, "--chunk-size", "2"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).starts_with("imported 5 users in "), "{}", out(&o));
    let o = roster(&db, &["api", "GET", "/api/v2.5/admin/users/"]);
    assert!(out(&o).contains("\"count\":5"), "{}", out(&o));
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn superuser(db: &Path) {
    let o = roster(
        db,
        &[
            "superuser",
            "--username",
            "admin",
            "--password",
            "admin-pass-1",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
}

#[cfg(unix)]
#[test]
fn the_store_and_exports_are_created_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("x.redb");
    superuser(&db);
    assert_eq!(mode(&db), 0o600, "a new store file");
    let export = dir.path().join("all.jsonl");
    std::fs::write(&export, "an older backup\n").expect("write");
    std::fs::set_permissions(&export, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let o = roster(&db, &["export", export.to_str().expect("path")]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(mode(&export), 0o600, "the export replaced the old file");
    assert!(
        std::fs::read_to_string(&export)
            .expect("read")
            .contains("roster-export-end")
    );
    assert_eq!(
        names(dir.path()),
        ["all.jsonl", "x.redb"],
        "no temporary file left"
    );
    // A store `recover` writes holds the same hashes: 0600 too.
    let recovered = dir.path().join("recovered.redb");
    let o = roster(&db, &["recover", "--to", recovered.to_str().expect("path")]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(mode(&recovered), 0o600, "a recovered store");
    // An existing store keeps the mode its owner gave it.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    superuser(&db);
    assert_eq!(mode(&db), 0o640);
}

#[test]
fn a_failed_export_leaves_the_old_backup_as_it_was() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("x.redb");
    superuser(&db);
    // A target that is not a regular file (a folder holding a backup) is
    // refused before anything is written: the rename would replace it.
    let target = dir.path().join("backup");
    std::fs::create_dir(&target).expect("mkdir");
    std::fs::write(target.join("old.jsonl"), "old\n").expect("write");
    let o = roster(&db, &["export", target.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("is not a regular file"), "{}", err(&o));
    assert_eq!(
        std::fs::read_to_string(target.join("old.jsonl")).expect("read"),
        "old\n"
    );
    assert_eq!(
        names(dir.path()),
        ["backup", "x.redb"],
        "no temporary file left"
    );
}

/// An export never replaces the store it reads (nor its journal), by any
/// name of it.
#[test]
fn an_export_onto_the_store_itself_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("x.redb");
    superuser(&db);
    let before = std::fs::read(&db).expect("read");
    let link = dir.path().join("link.redb");
    std::os::unix::fs::symlink(&db, &link).expect("link");
    let spellings = [
        db.clone(),
        dir.path().join(".").join("x.redb"),
        link.clone(),
    ];
    for target in &spellings {
        let o = roster(&db, &["export", target.to_str().expect("path")]);
        assert_eq!(
            o.status.code(),
            Some(1),
            "{}: {}",
            target.display(),
            err(&o)
        );
        assert!(err(&o).contains("is the store itself"), "{}", err(&o));
    }
    assert_eq!(
        std::fs::read(&db).expect("read"),
        before,
        "the store was written"
    );
    let o = roster(&db, &["api", "GET", "/api/v2.5/admin/users/"]);
    assert!(o.status.success(), "{}", err(&o));
}

/// A store is never created through a link to a missing file: redb would
/// follow it and make the target with the default mode, where the link's
/// maker chose.
#[test]
fn no_store_is_created_through_a_dangling_link() {
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("elsewhere.redb");
    let link = dir.path().join("link.redb");
    std::os::unix::fs::symlink(&target, &link).expect("link");
    let o = roster_with_stdin(
        &link,
        &["superuser", "--username", "admin", "--password-stdin"],
        "admin-pass-1\n",
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(
        err(&o).contains("a link to a file that does not exist"),
        "{}",
        err(&o)
    );
    assert!(!target.exists(), "the link's target was created");
}

/// Standard output that cannot be written (here a full disk) stops the
/// report, never the import or the process: the good rows are kept, the
/// exit is 1 and says why, and `api` does not pass a lost answer for a
/// whole one.
#[test]
fn a_standard_output_that_cannot_be_written_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("x.redb");
    superuser(&db);
    let csv = dir.path().join("rows.csv");
    std::fs::write(
        &csv,
        "username,password\nbad name!,secret-pass-1\nokay1,secret-pass-1\nokay2,secret-pass-1\n",
    )
    .expect("write");
    let to_full_disk = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_roster"))
            .arg("--db")
            .arg(&db)
            .args(["--now", NOW])
            .args(args)
            .env_remove("ROSTER_DB")
            .stdout(std::fs::File::create("/dev/full").expect("/dev/full"))
            .stderr(Stdio::piped())
            .output()
            .expect("run roster")
    };
    let o = to_full_disk(&["import", "--chunk-size", "1", csv.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(!err(&o).contains("panicked"), "{}", err(&o));
    assert!(err(&o).contains("could not all be written"), "{}", err(&o));
    let o = roster(&db, &["api", "GET", "/api/v2.5/admin/users/?q=okay"]);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out(&o)).expect("JSON")["count"],
        2,
        "the good rows were kept"
    );
    let o = to_full_disk(&["api", "GET", "/api/v2.5/admin/users/"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("could not be written"), "{}", err(&o));
}

#[test]
fn a_cut_or_legacy_export_is_refused_and_legacy_export_restores_with_a_warning() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("x.redb");
    superuser(&db);
    for n in 0..8 {
        let body = format!(r#"{{"username": "u{n}", "password": "secret-{n}x"}}"#);
        let o = roster(
            &db,
            &["api", "POST", "/api/v2.5/admin/users/", "--data", &body],
        );
        assert!(o.status.success(), "{}", err(&o));
    }
    let export = dir.path().join("all.jsonl");
    assert!(
        roster(&db, &["export", export.to_str().expect("path")])
            .status
            .success()
    );
    let text = std::fs::read_to_string(&export).expect("read");
    let lines: Vec<&str> = text.lines().collect();
    // Cut after six of the nine users.
    let cut_at = lines
        .iter()
        .position(|l| l.contains("\"username\":\"u5\""))
        .expect("u5");
    let cut = dir.path().join("cut.jsonl");
    let cut_text: String = lines[..cut_at].iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&cut, &cut_text).expect("write");
    let copy = dir.path().join("copy.redb");
    let o = roster(&copy, &["import", cut.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("without its trailer"), "{}", err(&o));
    assert!(err(&o).contains("nothing was restored"), "{}", err(&o));
    let o = roster(&copy, &["api", "GET", "/api/v2.5/admin/users/"]);
    assert!(out(&o).contains("\"count\":0"), "{}", out(&o));
    // A format-1 export: only with --legacy-export, and with a warning.
    let old = dir.path().join("old.jsonl");
    let old_text: String = lines[..lines.len() - 1]
        .iter()
        .map(|l| format!("{}\n", l.replace("\"format\":3", "\"format\":1")))
        .collect();
    std::fs::write(&old, old_text).expect("write");
    let o = roster(&copy, &["import", old.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("--legacy-export"), "{}", err(&o));
    let o = roster(
        &copy,
        &["import", "--legacy-export", old.to_str().expect("path")],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("9 users"), "{}", out(&o));
    assert!(err(&o).starts_with("warning:"), "{}", err(&o));
    assert!(err(&o).contains("cannot be detected"), "{}", err(&o));
}

#[test]
fn import_refuses_unknown_columns_and_names_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("x.redb");
    let csv = dir.path().join("users.csv");
    std::fs::write(
        &csv,
        "\u{feff}username,password,emial\r\nravi,secret-1,ravi@x.in\r\n",
    )
    .expect("write");
    let o = roster(&db, &["import", csv.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("unknown column \"emial\""), "{}", err(&o));
    assert!(err(&o).contains("nothing was imported"), "{}", err(&o));
    assert!(!db.exists(), "a refused file creates no store");
    std::fs::write(
        &csv,
        "\u{feff}username,password,email\r\nravi,secret-1,ravi@x.in\r\n",
    )
    .expect("write");
    let o = roster(&db, &["import", csv.to_str().expect("path")]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        out(&o).starts_with("imported 1 users in ") && out(&o).contains(", 0 rows rejected"),
        "{}",
        out(&o)
    );
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").expect("write");
    let o = roster(&db, &["import", empty.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("empty"), "{}", err(&o));
}

/// SPEC A8: a superuser made on the real clock signs in, and its session
/// works, under `--now` in the past (sessions compare no instants but the
/// expiry).
#[test]
fn a_superuser_made_today_works_under_an_earlier_now() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("x.redb");
    let o = Command::new(env!("CARGO_BIN_EXE_roster"))
        .arg("--db")
        .arg(&db)
        .args([
            "superuser",
            "--username",
            "admin",
            "--password",
            "admin-pass-1",
        ])
        .env_remove("ROSTER_DB")
        .output()
        .expect("run roster");
    assert!(o.status.success(), "{}", err(&o));
    // `roster()` runs at NOW, years before the password was set.
    let t = token(&db, "admin", "admin-pass-1");
    let o = roster(
        &db,
        &["api", "GET", "/api/v2.5/admin/users/", "--token", &t],
    );
    assert!(o.status.success(), "{}", err(&o));
    // And signs out.
    let o = roster(
        &db,
        &["api", "DELETE", "/api/v2.5/auth-token/", "--token", &t],
    );
    assert!(o.status.success(), "{}", err(&o));
    let o = roster(
        &db,
        &["api", "GET", "/api/v2.5/admin/users/", "--token", &t],
    );
    assert!(err(&o).starts_with("HTTP 401"), "{}", err(&o));
}

/// An import reads its file twice (a survey, then the rows): a pipe, which
/// the survey would drain, is refused before anything is written; the
/// same rows from a file are imported, their batches created.
#[test]
fn import_refuses_a_pipe_before_writing_anything() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("x.redb");
    let rows = "username,password,batches\nravi,secret-1,Piped\n";
    let o = roster_with_stdin(&db, &["import", "--create-batches", "/dev/stdin"], rows);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let said = String::from_utf8_lossy(&o.stderr);
    assert!(said.contains("not a regular file"), "{said}");
    assert!(!db.exists(), "nothing was made");
    let csv = dir.path().join("users.csv");
    std::fs::write(&csv, rows).expect("write");
    let o = roster(
        &db,
        &["import", "--create-batches", csv.to_str().expect("path")],
    );
    assert!(o.status.success(), "{o:?}");
    let o = roster(&db, &["api", "GET", "/api/v2.5/admin/batches/"]);
    let batches: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(batches["count"], 1, "{batches}");
    let o = roster(&db, &["api", "GET", "/api/v2.5/admin/users/?q=ravi"]);
    let users: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(users["count"], 1, "{users}");
}
