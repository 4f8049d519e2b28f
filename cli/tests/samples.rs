//! The HTTP client samples of `tests/samples/` (curl, Python `requests`,
//! Node `http`) against the real `roster serve`: with each tool, sign in,
//! create a user in two batches until an expiry date, and find that user by
//! email. The test then stops the server, opens the store and checks what
//! the samples wrote.
//!
//! A tool that is not installed is skipped with a note, unless
//! `ROSTER_REQUIRE_SAMPLES` is set (the project's test command sets it and
//! installs the tools): then it fails. A missing sample file always fails.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use roster::{BatchInput, Config, FixedClock, Institute, PageRequest};
use serde_json::Value;
use tempfile::TempDir;

mod common;

const ADMIN: &str = "admin";
const ADMIN_PASSWORD: &str = "secret-pass-1";
/// The server's clock: the samples' expiry date must not be in the past.
const NOW: &str = "2023-01-12T11:06:19+05:30";
const EXPIRES: &str = "2023-01-13";
const BATCHES: [&str; 2] = ["Test Batch", "UPSC Morning Batch"];

/// The folder of the samples.
fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/samples")
}

fn clock() -> Config {
    let now = chrono::DateTime::parse_from_rfc3339(NOW).unwrap().to_utc();
    Config::default().with_clock(Arc::new(FixedClock::new(now)))
}

/// A running `roster serve` on a store that holds the superuser [`ADMIN`]
/// and the two batches the samples join.
struct Server {
    child: Child,
    url: String,
    log: Arc<Mutex<Vec<String>>>,
    db: PathBuf,
    _dir: TempDir,
}

impl Server {
    fn start() -> Server {
        let dir = TempDir::new().expect("temporary folder");
        let db = dir.path().join("x.redb");
        let institute = Institute::open(&db, clock()).expect("create the store");
        institute
            .create_superuser(ADMIN, ADMIN_PASSWORD)
            .expect("create the superuser");
        for name in BATCHES {
            institute
                .operator()
                .create_batch(BatchInput {
                    name: Some(name.into()),
                })
                .expect("create a batch");
        }
        // The file can be open once: the server opens it next.
        drop(institute);

        let common::Spawned { child, addr, log } = common::spawn_serve(&db, NOW, &[]);
        let url = format!("http://{addr}");
        Server {
            child,
            url,
            log,
            db,
            _dir: dir,
        }
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Stops the server with SIGINT and waits for it to exit cleanly, so
    /// that the store can be opened again.
    fn stop(&mut self) {
        let status = Command::new("kill")
            .arg("-INT")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -INT failed");
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for roster serve") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "roster serve did not stop; log: {:#?}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "{status}; log: {:#?}", self.log());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One way of running the samples.
struct Tool {
    /// The samples' file extension.
    ext: &'static str,
    /// The program that runs a sample file.
    program: &'static str,
    /// A command that succeeds when the program (and its libraries) are
    /// installed.
    probe: &'static [&'static str],
}

const TOOLS: [Tool; 3] = [
    Tool {
        ext: "sh",
        program: "sh",
        probe: &["curl", "--version"],
    },
    Tool {
        ext: "py",
        program: "python3",
        probe: &["python3", "-c", "import requests"],
    },
    Tool {
        ext: "js",
        program: "node",
        probe: &["node", "--version"],
    },
];

impl Tool {
    fn installed(&self) -> bool {
        Command::new(self.probe[0])
            .args(&self.probe[1..])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Runs sample `name` with `args` and `env` (and `ROSTER_URL`) within
    /// 20 s, and returns its output.
    fn run(&self, name: &str, server: &Server, args: &[&str], env: &[(&str, &str)]) -> Output {
        let file = samples().join(format!("{name}.{}", self.ext));
        assert!(file.is_file(), "missing sample {}", file.display());
        let mut command = Command::new(self.program);
        command
            .arg(&file)
            .args(args)
            .env("ROSTER_URL", &server.url)
            .env_remove("ROSTER_TOKEN")
            .env_remove("ROSTER_USERNAME")
            .env_remove("ROSTER_PASSWORD")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start the sample");
        let deadline = Instant::now() + Duration::from_secs(20);
        while child.try_wait().expect("wait").is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{} did not finish within 20 s", file.display());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output().expect("sample output")
    }

    /// Runs sample `name`, asserts that it succeeded, and returns the JSON
    /// it printed.
    fn json(&self, name: &str, server: &Server, args: &[&str], env: &[(&str, &str)]) -> Value {
        let out = self.run(name, server, args, env);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{name}.{}: {}\nstdout: {stdout}\nstderr: {}",
            self.ext,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("{name}.{} printed no JSON ({e}): {stdout}", self.ext))
    }
}

/// Notes a tool that is not installed, or fails when
/// `ROSTER_REQUIRE_SAMPLES` is set.
fn skipped(note: &str) {
    assert!(
        std::env::var_os("ROSTER_REQUIRE_SAMPLES").is_none(),
        "{note}, but ROSTER_REQUIRE_SAMPLES is set"
    );
    eprintln!("note: {note}; its samples are skipped");
}

#[test]
fn every_sample_is_there_for_every_tool() {
    for name in ["sign_in", "create_user", "view_user"] {
        for tool in &TOOLS {
            let file = samples().join(format!("{name}.{}", tool.ext));
            assert!(file.is_file(), "missing sample {}", file.display());
        }
    }
}

#[test]
fn the_samples_sign_in_create_a_user_and_find_it() {
    let mut server = Server::start();
    // (username, email, id) of each user a sample created.
    let mut created = Vec::new();
    for tool in &TOOLS {
        if !tool.installed() {
            skipped(&format!("{} is not installed", tool.probe[0]));
            continue;
        }
        let ext = tool.ext;
        let signed_in = tool.json(
            "sign_in",
            &server,
            &[],
            &[
                ("ROSTER_USERNAME", ADMIN),
                ("ROSTER_PASSWORD", ADMIN_PASSWORD),
            ],
        );
        let token = signed_in["token"]
            .as_str()
            .unwrap_or_else(|| panic!("sign_in.{ext}: no token: {signed_in}"));
        assert!(signed_in["expires"].is_string(), "{signed_in}");

        let username = format!("lorem_{ext}");
        let email = format!("{ext}@example.com");
        let user = tool.json(
            "create_user",
            &server,
            &[&username, &email, EXPIRES],
            &[("ROSTER_TOKEN", token)],
        );
        assert_eq!(user["username"], username.as_str(), "{user}");
        assert_eq!(user["email"], email.as_str(), "{user}");
        assert_eq!(user["first_name"], "John", "{user}");
        assert_eq!(user["state_code"], "IN-TN", "{user}");
        let id = user["id"].as_u64().expect("an id");
        assert_eq!(
            user["url"],
            format!("{}/api/v2.5/admin/users/{id}/", server.url),
            "{user}"
        );

        let page = tool.json("view_user", &server, &[&email], &[("ROSTER_TOKEN", token)]);
        assert_eq!(page["count"], 1, "{page}");
        let found = &page["results"][0];
        assert_eq!(found["id"], id, "{page}");
        assert_eq!(found["username"], username.as_str(), "{page}");
        let mut batches: Vec<&str> = found["batches"]
            .as_array()
            .unwrap_or_else(|| panic!("view_user.{ext}: no batches: {page}"))
            .iter()
            .map(|b| b["name"].as_str().expect("a batch name"))
            .collect();
        batches.sort_unstable();
        assert_eq!(batches, BATCHES, "{page}");

        // A refused request is a failure the caller can see: exit status 1,
        // the server's answer on stdout.
        let out = tool.run(
            "create_user",
            &server,
            &[
                &format!("refused_{ext}"),
                &format!("refused.{ext}@example.com"),
                EXPIRES,
            ],
            &[("ROSTER_TOKEN", &"0".repeat(64))],
        );
        assert!(
            !out.status.success(),
            "create_user.{ext} with a bad token succeeded"
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let refusal: Value = serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("create_user.{ext} printed no JSON ({e}): {stdout}"));
        assert_eq!(refusal["detail"], "Invalid token.", "{stdout}");

        created.push((username, email, id));
    }
    server.stop();

    // What the samples wrote: each user, in both batches until the expiry
    // date; nothing from the refused requests.
    let institute = Institute::open(&server.db, clock()).expect("reopen the store");
    let admin = institute.operator();
    for (username, email, id) in &created {
        assert_eq!(admin.find_user(username).expect("created"), *id);
        let user = admin.get_user(*id).expect("created");
        assert_eq!(user.email, *email);
        let subscriptions = admin
            .user_subscriptions(*id, PageRequest::default())
            .expect("subscriptions")
            .items;
        let mut joined: Vec<(String, String)> = subscriptions
            .iter()
            .map(|s| {
                let expires = s.expires.map(|d| d.to_string()).unwrap_or_default();
                (s.batch.name.clone(), expires)
            })
            .collect();
        joined.sort();
        let expected: Vec<(String, String)> = BATCHES
            .iter()
            .map(|b| (b.to_string(), EXPIRES.to_string()))
            .collect();
        assert_eq!(joined, expected, "{username}");
    }
    for tool in &TOOLS {
        let refused = admin.find_user(&format!("refused_{}", tool.ext));
        assert!(refused.is_err(), "a refused request created a user");
    }
    let everyone = admin
        .list_users(&roster::UserQuery::default())
        .expect("list");
    assert_eq!(everyone.count, 1 + created.len() as u64);
}
