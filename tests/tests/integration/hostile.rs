//! Hostile store files: B-trees rewired so that reads miss or repeat rows,
//! files crafted to make `recover`'s carving slow, and a `recover --to`
//! that is a link. Each is a clear error or a bounded, reported salvage;
//! nothing is written over the damage, and nothing leaks through a link.

use roster::store::{Backend, ModelBackend, Reader, Writer, recover};
use roster::{Config, ErrorCode, Institute, NewUser, ProfileInput};
use roster_tests::passwordless_row;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The users of the hostile stores.
const USERS: usize = 3000;

/// A store file at `path` with [`USERS`] users, written in one import (one
/// transaction, so few stale pages) as the `roster` command writes (the
/// file shared), then closed.
fn many_users(path: &Path) {
    let i = Institute::open_shared(path, Config::default()).expect("create");
    let rows = (0..USERS)
        .map(|n| {
            let user = NewUser {
                username: Some(format!("user{n}")),
                profile: ProfileInput {
                    email: Some(format!("user{n}@example.com")),
                    first_name: Some(format!("First{n}")),
                    ..Default::default()
                },
                ..Default::default()
            };
            passwordless_row(n as u64 + 1, user)
        })
        .collect();
    let report = i.operator().import_rows(rows).expect("import");
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    drop(i);
}

// The redb page layout the crafted files rewrite (as the auditor's
// dag2.py reads it): 4 KiB pages, page index `i` at `(i + 1) * 4096`; a
// page's first byte is 1 for a leaf and 2 for a branch; a branch holds its
// key count (u16) at 2, then one 16-byte checksum and one 8-byte child
// page number per child. Checksums are not recomputed: a plain read does
// not verify them.
const PAGE: usize = 4096;
const LEAF: u8 = 1;
const BRANCH: u8 = 2;

fn at(index: u64) -> usize {
    (index as usize + 1) * PAGE
}

fn children(file: &[u8], index: u64) -> Vec<u64> {
    let o = at(index);
    let keys = u16::from_le_bytes([file[o + 2], file[o + 3]]) as usize;
    let first = o + 8 + 16 * (keys + 1);
    (0..=keys)
        .map(|c| {
            let b = &file[first + 8 * c..first + 8 * c + 8];
            u64::from_le_bytes(b.try_into().unwrap()) & 0xF_FFFF
        })
        .collect()
}

fn set_child(file: &mut [u8], index: u64, child: usize, to: u64) {
    let o = at(index);
    let keys = u16::from_le_bytes([file[o + 2], file[o + 3]]) as usize;
    let slot = o + 8 + 16 * (keys + 1) + 8 * child;
    file[slot..slot + 8].copy_from_slice(&to.to_le_bytes());
}

fn kind_of(file: &[u8], index: u64) -> Option<u8> {
    file.get(at(index)).copied()
}

/// Whether page `index` is a leaf holding a user record frame.
fn user_leaf(file: &[u8], index: u64) -> bool {
    if kind_of(file, index) != Some(LEAF) {
        return false;
    }
    let page = &file[at(index)..at(index) + PAGE];
    page.windows(5).any(|w| w == b"RfR3\x01")
}

/// The branch pages of `file`.
fn branches(file: &[u8]) -> Vec<u64> {
    (0..(file.len() / PAGE).saturating_sub(1) as u64)
        .filter(|i| kind_of(file, *i) == Some(BRANCH))
        .filter(|i| {
            children(file, *i)
                .iter()
                .all(|c| at(*c) + PAGE <= file.len())
        })
        .collect()
}

/// The auditor's file: every child of the data tree's root (a branch whose
/// children are branches) points at one leaf of users, so every read
/// finds that leaf whatever key it seeks: the catalog, the format version
/// and every other record are hidden, and the store looked new and empty.
fn rewire_root(file: &mut [u8]) {
    let all = branches(file);
    let roots: Vec<u64> = all
        .iter()
        .copied()
        .filter(|b| {
            children(file, *b)
                .iter()
                .all(|c| kind_of(file, *c) == Some(BRANCH))
        })
        .collect();
    assert!(!roots.is_empty(), "the data tree has height 3");
    let leaf = all
        .iter()
        .flat_map(|b| children(file, *b))
        .find(|c| user_leaf(file, *c))
        .expect("a leaf of users");
    for root in roots {
        for child in 0..children(file, root).len() {
            set_child(file, root, child, leaf);
        }
    }
}

/// A subtler file: in every branch over leaves of users, one child points
/// at its right neighbour, so that leaf's rows are read twice and the ones
/// of the leaf it replaced never; the catalog and every other table read
/// as before.
fn repeat_a_leaf(file: &mut [u8]) {
    let mut changed = 0;
    for branch in branches(file) {
        let kids = children(file, branch);
        if let Some(i) = (0..kids.len().saturating_sub(1))
            .find(|i| user_leaf(file, kids[*i]) && user_leaf(file, kids[*i + 1]))
        {
            set_child(file, branch, i, kids[i + 1]);
            changed += 1;
        }
    }
    assert!(changed > 0, "a branch over leaves of users");
}

fn crafted(dir: &Path, name: &str, craft: fn(&mut [u8])) -> std::path::PathBuf {
    let path = dir.join(format!("{name}.redb"));
    many_users(&path);
    let mut file = std::fs::read(&path).expect("read");
    craft(&mut file);
    std::fs::write(&path, &file).expect("write");
    path
}

/// The crafted root: every way in is a clear `corrupt_store` error (the
/// store is never taken for a new, empty one and written over), `check`
/// names the damage, and `recover` carves every user out of the file.
#[test]
fn a_rewired_root_is_corrupt_never_a_new_empty_store() {
    let dir = tempfile::tempdir().expect("dir");
    let path = crafted(dir.path(), "root", rewire_root);
    for shared in [false, true] {
        let opened = match shared {
            true => Institute::open_shared(&path, Config::default()),
            false => Institute::open(&path, Config::default()),
        };
        let err = opened
            .map(|_| ())
            .expect_err("the store looked new or empty");
        assert_eq!(err.code(), ErrorCode::Corrupt, "{err}");
    }
    let report = recover::check(&path).expect("check");
    assert!(!report.is_sound());
    assert!(
        report.problems.iter().any(|p| p.contains("catalog")),
        "{report:?}"
    );
    let target = carves_every_user(&path, dir.path());
    let saved = Institute::open(&target, Config::default()).expect("saved");
    assert!(saved.check_integrity().expect("check").is_empty());
}

/// The repeated leaf: the store opens (its catalog reads), but a full read
/// walks the rows against the table's stored length: `check` reports it,
/// `export` refuses, `recover` reads what it can and carves the rest.
#[test]
fn rows_a_damaged_branch_repeats_or_hides_are_found_by_every_full_read() {
    let dir = tempfile::tempdir().expect("dir");
    let path = crafted(dir.path(), "repeat", repeat_a_leaf);
    let report = recover::check(&path).expect("check");
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("out of order") || p.contains("rows")),
        "{report:?}"
    );
    let i = Institute::open_shared(&path, Config::default()).expect("opens");
    let mut out = Vec::new();
    let err = roster::transfer::export(&i.operator(), &mut out).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Corrupt, "{err}");
    assert!(out.is_empty(), "no partial backup");
    assert!(!i.check_integrity().expect("check").is_empty());
    drop(i);
    carves_every_user(&path, dir.path());
}

/// Recovers `path` into a new store in `dir`: every user is carved back.
/// The new store's path.
fn carves_every_user(path: &Path, dir: &Path) -> std::path::PathBuf {
    let target = dir.join("saved.redb");
    let report = recover::recover(path, &target).expect("recover");
    assert!(report.carved, "{report:?}");
    let users = report
        .entities
        .iter()
        .find(|e| e.entity == "users")
        .unwrap();
    assert_eq!(users.saved, USERS as u64, "{report:?}");
    target
}

/// A backend that counts the write transactions begun on it.
#[derive(Debug)]
struct Counted(ModelBackend, AtomicU64);

impl Backend for Counted {
    fn read(&self, f: &mut dyn FnMut(&dyn Reader) -> roster::Result<()>) -> roster::Result<()> {
        self.0.read(f)
    }
    fn write(&self, f: &mut dyn FnMut(&dyn Writer) -> roster::Result<()>) -> roster::Result<()> {
        self.1.fetch_add(1, Ordering::SeqCst);
        self.0.write(f)
    }
    fn engine(&self) -> &'static str {
        "counted"
    }
}

/// Opening a store of the current format writes nothing: only a new store
/// (or an older format) is written as it opens.
#[test]
fn opening_a_current_store_writes_nothing() {
    let backend = Arc::new(Counted(ModelBackend::new(), AtomicU64::new(0)));
    let first = Institute::open_with(backend.clone(), Config::default()).expect("new");
    assert_eq!(backend.1.load(Ordering::SeqCst), 1, "a new store is made");
    drop(first);
    let again = Institute::open_with(backend.clone(), Config::default()).expect("again");
    assert_eq!(backend.1.load(Ordering::SeqCst), 1, "nothing written");
    again
        .operator()
        .list_users(&Default::default())
        .expect("list");
    assert_eq!(backend.1.load(Ordering::SeqCst), 1, "a read writes nothing");
}

/// A store of a newer format is refused before any write transaction
/// begins (a newer roster's file is not this build's to write).
#[test]
fn a_store_of_a_newer_format_is_refused_before_any_write() {
    use roster::store::testing::{text_bytes, u64_bytes};
    let newer = roster::store::schema::CURRENT_VERSION + 1;
    for version in [newer, u64::MAX] {
        let backend = Arc::new(Counted(ModelBackend::new(), AtomicU64::new(0)));
        let (key, value) = (text_bytes("schema_version"), u64_bytes(version));
        backend
            .0
            .write(&mut |w| w.put("meta", &key, &value))
            .expect("a row");
        let err = Institute::open_with(backend.clone(), Config::default()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::SchemaTooNew, "{err}");
        assert_eq!(backend.1.load(Ordering::SeqCst), 0, "a write began");
    }
}

/// A backend on which a newer roster upgrades the store between the
/// opening's read and its write (another process sharing the file).
#[derive(Debug)]
struct UpgradedMeanwhile(ModelBackend);

impl Backend for UpgradedMeanwhile {
    fn read(&self, f: &mut dyn FnMut(&dyn Reader) -> roster::Result<()>) -> roster::Result<()> {
        self.0.read(f)
    }
    fn write(&self, f: &mut dyn FnMut(&dyn Writer) -> roster::Result<()>) -> roster::Result<()> {
        use roster::store::testing::{text_bytes, u64_bytes};
        let newer = u64_bytes(roster::store::schema::CURRENT_VERSION + 1);
        self.0
            .write(&mut |w| w.put("meta", &text_bytes("schema_version"), &newer))?;
        self.0.write(f)
    }
    fn engine(&self) -> &'static str {
        "upgraded meanwhile"
    }
}

/// The format read as a store opens is read again inside the write that
/// prepares it: a newer roster that upgraded the store in between is not
/// undone (its version written back down, its data read as this
/// format's).
#[test]
fn a_store_upgraded_while_it_opens_is_refused() {
    let backend = Arc::new(UpgradedMeanwhile(ModelBackend::new()));
    let err = Institute::open_with(backend.clone(), Config::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::SchemaTooNew, "{err}");
}

/// A file of frame headers every 29 bytes, each claiming a length to the
/// end of the file (the auditor's carve.py): carving checksums at most a
/// few times the file's size, stops, and says so.
#[test]
fn carving_a_file_crafted_to_be_slow_is_bounded_and_reported() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("carve.redb");
    let size = 1 << 20;
    let mut file = vec![0u8; PAGE];
    while file.len() + 29 <= size {
        let claimed = (size - file.len() - 29) as u32;
        file.extend_from_slice(b"RfR3\x01");
        file.extend_from_slice(&1u64.to_le_bytes());
        file.extend_from_slice(&0u64.to_le_bytes());
        file.extend_from_slice(&claimed.to_le_bytes());
    }
    file.resize(size, 0);
    std::fs::write(&path, &file).expect("write");
    let report = recover::recover(&path, &dir.path().join("saved.redb")).expect("recover");
    assert!(report.carving_stopped, "{report:?}");
    // Four times the size plus one largest frame (32 MiB and its header).
    let bound = 4 * size as u64 + (32 << 20) + 29;
    assert!(
        report.checksummed <= bound,
        "{} bytes checksummed",
        report.checksummed
    );
    assert!(
        report.notes.iter().any(|n| n.contains("carving stopped")),
        "{report:?}"
    );
}

/// `recover --to` a link, dangling or not, is refused, and nothing is
/// created where it points; so is a link where the new store's journal
/// would be.
#[cfg(unix)]
#[test]
fn recover_never_writes_through_a_link() {
    let dir = tempfile::tempdir().expect("dir");
    let source = dir.path().join("source.redb");
    let i = Institute::open(&source, Config::default()).expect("create");
    drop(i);
    let elsewhere = dir.path().join("elsewhere.redb");
    let link = dir.path().join("link.redb");
    std::os::unix::fs::symlink(&elsewhere, &link).expect("link");
    let err = recover::recover(&source, &link).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict, "{err}");
    assert!(!elsewhere.exists(), "nothing created through the link");
    // The journal beside the new store.
    let target = dir.path().join("new.redb");
    let journal = dir.path().join("new.redb-journal");
    std::os::unix::fs::symlink(&elsewhere, &journal).expect("link");
    let err = recover::recover(&source, &target).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict, "{err}");
    assert!(!elsewhere.exists(), "nothing created through the link");
    assert!(!target.exists());
    // A plain new path: the store is the owner's only.
    std::fs::remove_file(&journal).expect("unlink");
    recover::recover(&source, &target).expect("recover");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&target)
        .expect("made")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}
