//! The commit journal of a store opened for one process: a write that
//! returned is there after the process is killed, whether its commit
//! reached the store file or only the journal; a damaged or foreign journal
//! never brings back what was not committed.

use roster::{BatchInput, Config, Institute, PageRequest};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const CHILD: &str = "ROSTER_JOURNAL_TEST_CHILD";

fn journal_of(store: &Path) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push("-journal");
    PathBuf::from(name)
}

fn batch_names(store: &Path) -> Vec<String> {
    let institute = Institute::open(store, Config::default()).expect("reopen");
    let admin = institute.operator();
    let mut names = Vec::new();
    let mut page = 1;
    loop {
        let got = admin
            .list_batches(None, PageRequest::page(page))
            .expect("list batches");
        let more = got.has_next();
        names.extend(got.items.into_iter().map(|b| b.name));
        if !more {
            return names;
        }
        page += 1;
    }
}

/// The child: creates batches one by one, printing each name once its
/// write returned, then waits to be killed.
fn child(store: &str, from: usize, count: usize) -> ! {
    let institute = Institute::open(store, Config::default()).expect("child opens");
    let admin = institute.operator();
    for i in from..from + count {
        let name = format!("batch {i:04}");
        admin
            .create_batch(BatchInput {
                name: Some(name.clone()),
            })
            .expect("create batch");
        println!("done {name}");
    }
    println!("all done");
    loop {
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
}

/// Runs the child on `store` until it reported `count` writes, then kills
/// it (SIGKILL on Unix: no destructor runs, nothing is checkpointed).
fn write_then_kill(store: &Path, from: usize, count: usize) -> Vec<String> {
    let mut process = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "integration::journal::acknowledged_writes_survive_a_kill",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, format!("{}\n{from}\n{count}", store.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the child");
    let out = BufReader::new(process.stdout.take().expect("stdout"));
    let mut done = Vec::new();
    for line in out.lines() {
        let line = line.expect("child output");
        if line == "all done" {
            break;
        }
        // libtest may print the test's name on the same line first.
        if let Some(at) = line.find("done batch ") {
            done.push(line[at + "done ".len()..].to_string());
        }
    }
    process.kill().expect("kill the child");
    process.wait().expect("reap the child");
    done
}

#[test]
fn acknowledged_writes_survive_a_kill() {
    if let Ok(args) = std::env::var(CHILD) {
        let parts: Vec<&str> = args.split('\n').collect();
        let number = |i: usize| parts[i].parse().expect("a number");
        child(parts[0], number(1), number(2));
    }
    let dir = tempfile::tempdir().expect("dir");
    let store = dir.path().join("roster.redb");
    let done = write_then_kill(&store, 0, 40);
    assert_eq!(done.len(), 40);
    // The commits live in the journal only: the store file alone (the
    // journal moved aside) has none of them...
    let journal = journal_of(&store);
    assert!(journal.exists(), "a journal beside the store");
    let copy = dir.path().join("copy.redb");
    std::fs::copy(&store, &copy).expect("copy the store");
    assert!(
        batch_names(&copy).len() < done.len(),
        "the kill left commits that only the journal holds"
    );
    // ...and the store with its journal has every one.
    assert_eq!(batch_names(&store), done);
    // Applied once: opening again (and again after more writes and a
    // kill) neither loses nor repeats anything.
    assert_eq!(batch_names(&store), done);
    let more = write_then_kill(&store, 40, 45);
    assert_eq!(more.len(), 45);
    let mut all = done.clone();
    all.extend(more.iter().cloned());
    assert_eq!(batch_names(&store), all);
}

#[test]
fn a_damaged_or_foreign_journal_brings_back_nothing_uncommitted() {
    let dir = tempfile::tempdir().expect("dir");
    let store = dir.path().join("roster.redb");
    {
        let institute = Institute::open(&store, Config::default()).expect("open");
        institute
            .operator()
            .create_batch(BatchInput {
                name: Some("kept".into()),
            })
            .expect("create");
    }
    let journal = journal_of(&store);
    // Garbage in the journal (a foreign file, a damaged disk): the store
    // opens with what it committed, and works.
    let mut junk = vec![0u8; 4096];
    for (i, b) in junk.iter_mut().enumerate() {
        *b = (i * 131 % 251) as u8;
    }
    junk[..4].copy_from_slice(b"RJNL");
    std::fs::write(&journal, &junk).expect("write junk");
    assert_eq!(batch_names(&store), vec!["kept".to_string()]);
    // A journal from another store: not applied.
    let other = dir.path().join("other.redb");
    assert_eq!(write_then_kill(&other, 0, 3).len(), 3);
    std::fs::copy(journal_of(&other), &journal).expect("copy the journal");
    assert_eq!(batch_names(&store), vec!["kept".to_string()]);
    // No journal at all: the store is whole without it after a close.
    std::fs::remove_file(&journal).expect("remove");
    assert_eq!(batch_names(&store), vec!["kept".to_string()]);
}

/// A journal damaged in the middle (a record that does not read, followed
/// by records that do) loses acknowledged commits: opening refuses the
/// store rather than cut the journal short in silence, `check` names the
/// damage, and `recover` keeps what the store and the journal before the
/// damage hold, saying that the rest is lost.
#[test]
fn a_journal_damaged_in_the_middle_is_named_not_cut_short() {
    let dir = tempfile::tempdir().expect("dir");
    let store = dir.path().join("roster.redb");
    assert_eq!(write_then_kill(&store, 0, 4).len(), 4);
    let journal = journal_of(&store);
    let mut bytes = std::fs::read(&journal).expect("journal");
    // The payload of the first record (after its 28-byte header).
    bytes[28 + 2] ^= 0x40;
    std::fs::write(&journal, &bytes).expect("write");
    let Err(e) = Institute::open(&store, Config::default()) else {
        panic!("a journal damaged in the middle must be refused");
    };
    assert_eq!(e.code(), roster::ErrorCode::Corrupt);
    assert!(e.message().contains("journal"), "{}", e.message());
    let report = roster::store::recover::check(&store).expect("check");
    assert!(
        report.problems.iter().any(|p| p.contains("journal")),
        "{report:?}"
    );
    let target = dir.path().join("recovered.redb");
    let recovered = roster::store::recover::recover(&store, &target).expect("recover");
    assert!(
        recovered.notes.iter().any(|n| n.contains("damaged")),
        "{:?}",
        recovered.notes
    );
    let kept = batch_names(&target);
    assert!(kept.len() < 4, "{kept:?}");
}
