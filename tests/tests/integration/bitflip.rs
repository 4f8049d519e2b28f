//! Bit flips at many offsets of a realistic store (issue 9, item 3). Each
//! damaged copy is probed by the `bitflip` binary in a child process with a
//! memory limit (`ulimit -v`), a CPU limit (`ulimit -t`) and a wall-clock
//! kill, so a panic, a hang or an allocation from a corrupt length fails the
//! test instead of the test process. For every flip: the child exits by
//! itself with status 0; no read answers wrong data; a store `check` calls
//! sound reads exactly as the original; `recover` writes a sound store that
//! keeps the records that could be read.

use roster_tests::splitmix64;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const USERS: u64 = 1000;
const FLIPS: u64 = 16;
const SEED: u64 = 0x5eed_f11b;
/// Generous: a probe takes a few seconds in a debug build.
const WALL: Duration = Duration::from_secs(300);

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_bitflip")
}

/// Runs the probe on `db` under limits; the facts it printed.
fn probe(db: &Path, expect: &Path, work: &Path) -> Result<Value, String> {
    std::fs::create_dir_all(work).expect("work dir");
    let mut child = Command::new("bash")
        .arg("-c")
        // 2 GiB of address space, 240 s of CPU.
        .arg(r#"ulimit -v 2097152; ulimit -t 240; exec "$0" "$@""#)
        .arg(bin())
        .arg("probe")
        .arg(db)
        .arg(expect)
        .arg(work)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > WALL {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("hung: killed after {WALL:?}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = child.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !status.success() {
        // A signal (abort on allocation failure, a limit) or 101 (a panic
        // that escaped).
        return Err(format!("{status}: {stderr}"));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.trim()).map_err(|e| format!("{e}: {stdout}"))
}

#[test]
fn flipped_bits_are_found_never_read_as_data_and_salvaged_without_a_panic() {
    let dir = tempfile::tempdir().expect("dir");
    let original = dir.path().join("original.redb");
    let expect = dir.path().join("expect.json");
    let built = Command::new(bin())
        .arg("build")
        .arg(&original)
        .arg(&expect)
        .args(["--users", &USERS.to_string()])
        .status()
        .expect("build");
    assert!(built.success());
    let bytes = std::fs::read(&original).expect("read");

    // The undamaged store: sound, read whole, recovered whole.
    let sound = probe(&original, &expect, &dir.path().join("w0")).expect("probe");
    assert_eq!(sound["sound"], true, "{sound}");
    assert_eq!(sound["export"], "ok", "{sound}");
    assert_eq!(sound["saved_users"], USERS, "{sound}");

    // One flip per stretch of the file, at a seeded offset within it.
    let mut state = SEED;
    let stretch = bytes.len() as u64 / FLIPS;
    let flips: Vec<(usize, u8)> = (0..FLIPS)
        .map(|k| {
            let at = k * stretch + splitmix64(&mut state) % stretch;
            (at as usize, 1u8 << (splitmix64(&mut state) % 8))
        })
        .collect();
    let jobs: Vec<(usize, u8, PathBuf)> = flips
        .iter()
        .enumerate()
        .map(|(n, &(at, bit))| {
            let mut damaged = bytes.clone();
            damaged[at] ^= bit;
            let path = dir.path().join(format!("damaged-{n}.redb"));
            std::fs::write(&path, &damaged).expect("write");
            (at, bit, path)
        })
        .collect();
    // Two children at a time.
    let results: Vec<(usize, u8, Result<Value, String>)> = std::thread::scope(|s| {
        let mut out = Vec::new();
        for pair in jobs.chunks(2) {
            let handles: Vec<_> = pair
                .iter()
                .map(|(at, bit, path)| {
                    let work = path.with_extension("work");
                    let expect = expect.clone();
                    s.spawn(move || (*at, *bit, probe(path, &expect, &work)))
                })
                .collect();
            out.extend(handles.into_iter().map(|h| h.join().expect("thread")));
        }
        out
    });

    let (mut detected, mut saved, mut failures) = (0, 0, Vec::new());
    for (at, bit, result) in results {
        let facts = match result {
            Ok(facts) => facts,
            Err(why) => {
                failures.push(format!("flip {bit:#04x} at {at}: {why}"));
                continue;
            }
        };
        let mut fail =
            |what: &str| failures.push(format!("flip {bit:#04x} at {at}: {what}: {facts}"));
        if facts["wrong"] != 0 {
            fail("a read answered wrong data");
        }
        if facts["sound"] == true {
            // Free or unused bytes: everything reads as before.
            if facts["open"] != "ok" || facts["export"] != "ok" || facts["read_errors"] != 0 {
                fail("check called it sound but reads failed");
            }
        } else {
            detected += 1;
        }
        if facts["recover"] != "ok" || facts["recovered_sound"] != true {
            fail("recover did not write a sound store");
        }
        if facts["saved_users"].as_u64().unwrap_or(0)
            < facts["readable_users"].as_u64().unwrap_or(0)
        {
            fail("recover saved fewer users than could be read");
        }
        saved += facts["saved_users"].as_u64().unwrap_or(0);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        detected > 0,
        "no flip was detected: the seed hits only free space?"
    );
    // One flip damages at most a page: nearly every user is saved.
    assert!(
        saved * 100 >= USERS * FLIPS * 95,
        "recover saved {saved} of {} users",
        USERS * FLIPS
    );
}

#[test]
fn a_store_killed_mid_write_opens_checks_sound_and_recovers_every_committed_user() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("killed.redb");
    let mut child = Command::new(bin())
        .arg("writer")
        .arg(&db)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut committed = 0u64;
    while committed < 40 {
        let line = lines.next().expect("a line").expect("utf-8");
        committed = line
            .strip_prefix("done ")
            .and_then(|n| n.parse().ok())
            .expect("done n");
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    // The writer may have committed more after the last line read.
    let report = roster::store::recover::check(&db).expect("check");
    assert!(report.is_sound(), "{report:?}");
    let to = dir.path().join("recovered.redb");
    let recovered = roster::store::recover::recover(&db, &to).expect("recover");
    let users = recovered
        .entities
        .iter()
        .find(|e| e.entity == "users")
        .expect("users");
    assert!(
        users.saved >= committed && users.lost == Some(0),
        "{recovered:?}"
    );
    let (config, _) = roster_tests::config(roster_tests::SEED_NOW);
    let i = roster::Institute::open(&db, config).expect("opens after kill -9");
    assert!(i.check_integrity().expect("check").is_empty());
    assert!(i.operator().get_user(committed).is_ok());
}
