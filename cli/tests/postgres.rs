//! `roster --db postgres://…`: the commands on a PostgreSQL database, the
//! password kept out of every message and of `--help`, and two
//! `roster serve` processes sharing one institute.
//!
//! Needs a server: `ROSTER_TEST_DB=postgres://...` (tests/run's
//! `rust_tests` section starts one). Without it the tests say so and pass,
//! unless `ROSTER_REQUIRE_POSTGRES=1` (set by tests/run).

mod common;

use common::spawn_serve;
use roster_postgres::testing;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Output};

const NOW: &str = "2026-11-22T10:00:00+05:30";

/// A new, empty database on the test server: its URL.
fn fresh_database() -> Option<String> {
    let url = testing::server()?;
    let name = testing::unique_name("cli_");
    testing::execute(&url, &format!("CREATE DATABASE {name}"));
    let (base, _) = url.rsplit_once('/').expect("a database in the URL");
    Some(format!("{base}/{name}"))
}

fn roster(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(["--db", db, "--now", NOW])
        .args(args)
        .env_remove("ROSTER_DB")
        .output()
        .expect("run roster")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// One HTTP/1.1 request on a new connection: (status, JSON body).
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let auth = token
        .map(|t| format!("Authorization: JWT {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut reply = String::new();
    stream.read_to_string(&mut reply).expect("read");
    let status = reply
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    let json = reply
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, json)
}

#[test]
fn the_commands_work_on_a_postgres_database() {
    let Some(db) = fresh_database() else { return };
    let created = roster(
        &db,
        &[
            "api",
            "POST",
            "/api/v2.5/admin/users/",
            "-d",
            r#"{"username": "asha", "password": "asha-pass-1", "email": "asha@example.com"}"#,
        ],
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    let listed = roster(&db, &["api", "GET", "/api/v2.5/admin/users/?q=asha"]);
    assert!(
        text(&listed.stdout).contains("asha@example.com"),
        "{}",
        text(&listed.stdout)
    );
    let checked = roster(&db, &["check"]);
    assert!(checked.status.success(), "{}", text(&checked.stderr));
    assert!(text(&checked.stdout).contains(": sound"));
    let feed = roster(&db, &["changes", "--since", "0"]);
    assert!(feed.status.success(), "{}", text(&feed.stderr));
    let entry: serde_json::Value =
        serde_json::from_str(text(&feed.stdout).lines().next().unwrap_or("")).expect("a JSON line");
    assert_eq!(
        (&entry["entity"], &entry["op"]),
        (&"user".into(), &"create".into())
    );
    assert_eq!(entry["record"]["username"], "asha");
    let recovered = roster(&db, &["recover", "--to", "x.redb"]);
    assert_eq!(recovered.status.code(), Some(2));
    assert!(!Path::new("x.redb").exists());
}

#[test]
fn the_password_of_the_url_is_never_shown() {
    if fresh_database().is_none() {
        return;
    }
    let secret = "s3cret-Passw0rd";
    let db = format!("postgres://roster:{secret}@127.0.0.1:1/none?connect_timeout=2");
    for args in [
        &["api", "GET", "/api/v2.5/me/"][..],
        &["check"],
        &["export", "out.jsonl"],
    ] {
        let o = roster(&db, args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let all = text(&o.stdout) + &text(&o.stderr);
        assert!(!all.contains(secret), "{args:?}: {all}");
        assert!(all.contains("roster:***@127.0.0.1"), "{args:?}: {all}");
        // Why, in roster's words, and the driver's below them.
        assert!(
            all.contains("the connection was refused"),
            "{args:?}: {all}"
        );
        assert!(all.contains("\n  cause: "), "{args:?}: {all}");
    }
    // A connection string the command line does not read as one (the
    // key-value form, a scheme in capitals) is refused: never taken for a
    // file name, so no store file is made and named after the password.
    let dir = tempfile::tempdir().unwrap();
    for db in [
        format!("host=127.0.0.1 port=1 user=roster password={secret} dbname=none"),
        format!("password = {secret} host=127.0.0.1"),
        format!("POSTGRES://roster:{secret}@127.0.0.1:1/none"),
        format!("PostgreSQL://roster:{secret}@127.0.0.1:1/none"),
    ] {
        for args in [
            &["superuser", "--username", "a", "--password", "p"][..],
            &["serve"],
        ] {
            let o = Command::new(env!("CARGO_BIN_EXE_roster"))
                .arg("--db")
                .arg(&db)
                .args(args)
                .env_remove("ROSTER_DB")
                .current_dir(dir.path())
                .output()
                .expect("run roster");
            assert_eq!(o.status.code(), Some(2), "{args:?}");
            let all = text(&o.stdout) + &text(&o.stderr);
            assert!(!all.contains(secret), "{args:?}: {all}");
            assert!(all.contains("--db"), "{args:?}: {all}");
        }
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let help = Command::new(env!("CARGO_BIN_EXE_roster"))
        .arg("--help")
        .env("ROSTER_DB", &db)
        .output()
        .expect("help");
    assert!(help.status.success());
    assert!(!text(&help.stdout).contains(secret));
}

#[test]
fn two_servers_share_one_institute() {
    let Some(db) = fresh_database() else { return };
    let made = roster(
        &db,
        &[
            "superuser",
            "--username",
            "root",
            "--password",
            "a-long-passphrase",
        ],
    );
    assert!(made.status.success(), "{}", text(&made.stderr));
    let mut a = spawn_serve(Path::new(&db), NOW, &[]);
    let mut b = spawn_serve(Path::new(&db), NOW, &[]);
    // Signed in on one server, the token works on the other; a user made
    // through one is read through the other, and its name is taken on both.
    let (status, login) = http(
        a.addr,
        "POST",
        "/api/v2.5/auth-token/",
        None,
        Some(json!({"username": "root", "password": "a-long-passphrase"})),
    );
    assert_eq!(status, 200, "{login}");
    let token = login["token"].as_str().expect("token").to_string();
    let user = json!({"username": "ravi", "password": "ravi-pass-1", "email": "ravi@example.com"});
    let (status, body) = http(
        b.addr,
        "POST",
        "/api/v2.5/admin/users/",
        Some(&token),
        Some(user.clone()),
    );
    assert_eq!(status, 201, "{body}");
    let (status, page) = http(
        a.addr,
        "GET",
        "/api/v2.5/admin/users/?q=ravi",
        Some(&token),
        None,
    );
    assert_eq!((status, &page["count"]), (200, &json!(1)), "{page}");
    let (status, body) = http(
        a.addr,
        "POST",
        "/api/v2.5/admin/users/",
        Some(&token),
        Some(user),
    );
    assert_eq!(status, 400, "{body}");
    for server in [&mut a, &mut b] {
        server.child.kill().expect("stop");
        let _ = server.child.wait();
        let log = server.log.lock().unwrap();
        assert!(
            log.iter().any(|l| l.contains("store postgres://roster@")),
            "{log:#?}"
        );
    }
}

#[test]
fn the_pool_size_comes_from_db_pool() {
    let Some(db) = fresh_database() else { return };
    let admin = testing::server().expect("the test server");
    let name = db.rsplit_once('/').expect("a database").1.to_string();

    // A store file has no pool: refused as a usage error, nothing created.
    let file = std::env::temp_dir().join(testing::unique_name("pool-") + ".redb");
    let o = Command::new(env!("CARGO_BIN_EXE_roster"))
        .arg("--db")
        .arg(&file)
        .args(["--db-pool", "4", "check"])
        .env_remove("ROSTER_DB")
        .output()
        .expect("run roster");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("--db-pool"), "{}", text(&o.stderr));
    assert!(!file.exists());
    // Fewer than two connections cannot run a read beside a write.
    let o = roster(&db, &["--db-pool", "1", "check"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    // The help names the option and its variable.
    let help = roster(&db, &["--help"]);
    assert!(text(&help.stdout).contains("--db-pool <N>"));
    assert!(text(&help.stdout).contains("ROSTER_DB_POOL"));

    let made = roster(
        &db,
        &[
            "--db-pool",
            "3",
            "superuser",
            "--username",
            "root",
            "--password",
            "a-long-passphrase",
        ],
    );
    assert!(made.status.success(), "{}", text(&made.stderr));

    // roster serve with ROSTER_DB_POOL=2: many requests at once never hold
    // more than two sessions on the database, and all are answered.
    let mut server = spawn_serve(Path::new(&db), NOW, &[("ROSTER_DB_POOL", "2")]);
    let (status, login) = http(
        server.addr,
        "POST",
        "/api/v2.5/auth-token/",
        None,
        Some(json!({"username": "root", "password": "a-long-passphrase"})),
    );
    assert_eq!(status, 200, "{login}");
    let token = login["token"].as_str().expect("token").to_string();
    let sessions = format!(
        "SELECT count(*) FROM pg_stat_activity \
         WHERE datname = '{name}' AND application_name = 'roster'"
    );
    let done = std::sync::atomic::AtomicBool::new(false);
    let most = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            let mut most = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                most = most.max(testing::number(&admin, &sessions));
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            most
        });
        let clients: Vec<_> = (0..12)
            .map(|_| {
                scope.spawn(|| {
                    for _ in 0..10 {
                        let (status, page) = http(
                            server.addr,
                            "GET",
                            "/api/v2.5/admin/users/?q=root",
                            Some(&token),
                            None,
                        );
                        assert_eq!((status, &page["count"]), (200, &json!(1)), "{page}");
                    }
                })
            })
            .collect();
        for client in clients {
            client.join().expect("a client");
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        watcher.join().expect("the watcher")
    });
    assert!((1..=2).contains(&most), "{most} sessions at once");
    server.child.kill().expect("stop");
    let _ = server.child.wait();
    let log = server.log.lock().unwrap();
    assert!(
        log.iter().any(|l| l.contains("(pool of 2 connections)")),
        "{log:#?}"
    );
}

#[test]
fn a_command_that_only_reads_creates_no_table_in_a_database() {
    let Some(db) = fresh_database() else { return };
    for args in [
        &["api", "GET", "/api/v2.5/admin/users/"][..],
        &["export", "never.jsonl"],
        &["changes"],
        &["unlock", "ravi"],
        &["check"],
    ] {
        let o = roster(&db, args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains("holds no roster store"),
            "{args:?}: {}",
            text(&o.stderr)
        );
    }
    assert!(!Path::new("never.jsonl").exists());
    // A command that writes creates the table, and says so once.
    let o = roster(
        &db,
        &[
            "api",
            "POST",
            "/api/v2.5/admin/batches/",
            "-d",
            r#"{"name": "A"}"#,
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("roster: created the store"),
        "{}",
        text(&o.stderr)
    );
    let o = roster(&db, &["api", "GET", "/api/v2.5/admin/batches/"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(!text(&o.stderr).contains("created"), "{}", text(&o.stderr));
}
