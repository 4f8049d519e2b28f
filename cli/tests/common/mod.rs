//! What the `roster serve` test files share: starting the real binary on a
//! free loopback port and reading its address and log.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A started `roster serve`.
pub struct Spawned {
    pub child: Child,
    pub addr: SocketAddr,
    /// Lines the server wrote on stderr so far.
    pub log: Arc<Mutex<Vec<String>>>,
}

/// Starts `roster --db DB --now NOW serve --port 0 --bind 127.0.0.1` with
/// `env` (and none of the serve variables inherited), collects its stderr,
/// and reads the address from its first line.
pub fn spawn_serve(db: &Path, now: &str, env: &[(&str, &str)]) -> Spawned {
    spawn_serve_limited(db, now, env, None)
}

/// [`spawn_serve`] with its open-file limit (soft and hard) set to
/// `nofile` first, by the shell's `ulimit -n`.
pub fn spawn_serve_limited(
    db: &Path,
    now: &str,
    env: &[(&str, &str)],
    nofile: Option<u64>,
) -> Spawned {
    let roster = env!("CARGO_BIN_EXE_roster");
    let mut command = match nofile {
        None => Command::new(roster),
        Some(n) => {
            let mut sh = Command::new("sh");
            sh.args([
                "-c",
                &format!("ulimit -n {n} && exec \"$0\" \"$@\""),
                roster,
            ]);
            sh
        }
    };
    command
        .arg("--db")
        .arg(db)
        .args(["--now", now, "serve", "--port", "0", "--bind", "127.0.0.1"])
        .env_remove("ROSTER_DB")
        .env_remove("ROSTER_SERVE_IDLE_SECS")
        .env_remove("ROSTER_SERVE_MAX_CONNECTIONS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("start roster serve");
    let log = Arc::new(Mutex::new(Vec::new()));
    let stderr = child.stderr.take().expect("stderr");
    let sink = Arc::clone(&log);
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            sink.lock().unwrap().push(line);
        }
    });
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("read the first line");
    let Some(addr) = line
        .trim_end()
        .strip_prefix("roster serve: listening on http://")
    else {
        std::thread::sleep(Duration::from_millis(200));
        panic!(
            "unexpected first line {line:?}; stderr: {:#?}",
            log.lock().unwrap()
        );
    };
    let addr = addr.parse().expect("a socket address");
    // Keep stdout open (and drained) so the server never sees a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    Spawned { child, addr, log }
}
