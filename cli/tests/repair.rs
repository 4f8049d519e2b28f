//! `roster check` and `roster recover`: exit codes, the report, and the
//! source file never written.

use std::path::Path;
use std::process::{Command, Output};

fn roster(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_roster"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("ROSTER_DB")
        .output()
        .expect("run roster")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Flips a bit inside every stored frame of user `id` (the live one and
/// any older copy redb has not reused yet).
fn damage_user(db: &Path, id: u64) {
    let mut bytes = std::fs::read(db).expect("read");
    let mut key = vec![1u8];
    key.extend_from_slice(&id.to_le_bytes());
    let mut hits = 0;
    let mut at = 0;
    while let Some(found) = bytes[at..].windows(4).position(|w| w == b"RfR3") {
        let start = at + found;
        if bytes[start + 4..start + 13] == key[..] {
            bytes[start + 30] ^= 0x08;
            hits += 1;
        }
        at = start + 4;
    }
    assert!(hits > 0, "no frame of user {id} found");
    std::fs::write(db, bytes).expect("write");
}

#[test]
fn check_and_recover_report_damage_and_never_write_the_source() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("school.redb");
    for name in ["first", "second"] {
        let o = roster(
            &db,
            &[
                "superuser",
                "--username",
                name,
                "--password",
                "long-password-1",
            ],
        );
        assert!(o.status.success(), "{o:?}");
    }
    let o = roster(&db, &["check"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(out(&o).contains("sound"));

    damage_user(&db, 1);
    let before = std::fs::read(&db).expect("read");
    let o = roster(&db, &["check"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(out(&o).contains("user 1"), "{}", out(&o));

    let new = dir.path().join("saved.redb");
    let o = roster(&db, &["recover", "--to", new.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let report = out(&o);
    let users = report
        .lines()
        .find(|l| l.starts_with("users"))
        .expect("users line");
    let figures: Vec<&str> = users.split_whitespace().collect();
    assert_eq!(figures[1..3], ["1", "1"], "{report}");
    assert!(
        std::fs::read(&db).expect("read") == before,
        "source written"
    );

    let o = roster(&new, &["check"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    // A second recover refuses to overwrite.
    let o = roster(&db, &["recover", "--to", new.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    // A missing file is an error, and check does not create it.
    let missing = dir.path().join("missing.redb");
    assert_eq!(roster(&missing, &["check"]).status.code(), Some(1));
    assert!(!missing.exists());
}
