//! Damaged stores: a damaged record or index entry is a `corrupt_store`
//! error naming it, never wrong data and never a sign-in as someone else;
//! `check` finds it and `recover` saves everything else.

use roster::store::recover;
use roster::store::testing::{self, text_bytes, u64_bytes};
use roster::{ErrorCode, Institute, NewUser, ProfileInput};
use roster_tests::{SEED_NOW, config, ids_of_every_page};
use std::path::Path;

fn new_user(name: &str) -> NewUser {
    NewUser {
        username: Some(name.into()),
        password: Some(format!("{name}-secret-1")),
        profile: ProfileInput {
            email: Some(format!("{name}@example.com")),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A store file with alice (1) and bob (2).
fn two_users(path: &Path) {
    let (config, _) = config(SEED_NOW);
    let i = Institute::open(path, config).expect("create");
    let admin = i.operator();
    for name in ["alice", "bob"] {
        admin
            .create_user(new_user(name), Default::default())
            .expect("user");
    }
}

fn open(path: &Path) -> Institute {
    let (config, _) = config(SEED_NOW);
    Institute::open(path, config).expect("open")
}

/// The stored bytes of user `id`.
fn user_bytes(path: &Path, id: u64) -> Vec<u8> {
    testing::raw_rows(path, "users")
        .expect("raw read")
        .into_iter()
        .find(|(k, _)| *k == u64_bytes(id))
        .expect("the user")
        .1
}

/// Points `key` of index `table` at `id`, bypassing every rule: a sound
/// entry (its seal matches) that disagrees with the records, as a bug in
/// a write or a deliberate edit of the file would leave it.
fn raw_index(path: &Path, table: &str, key: &str, id: u64) {
    let value = testing::index_value(table, key, id);
    testing::raw_put(path, table, &text_bytes(key), &value).expect("raw write");
}

/// The stored value of `key` in unique index `table`.
fn index_bytes(path: &Path, table: &str, key: &str) -> Vec<u8> {
    testing::raw_rows(path, table)
        .expect("raw read")
        .into_iter()
        .find(|(k, _)| *k == text_bytes(key))
        .expect("the entry")
        .1
}

/// A flipped bit anywhere in a unique index entry (its id, its key, its
/// seal), or an entry of the wrong length, is damage: the lookup that
/// meets it is a `corrupt_store` error naming the index, never the id of
/// another user, and `check` names the entry. The lookup no longer reads
/// the record the entry names: the seal is what tells.
#[test]
fn a_flipped_bit_in_a_unique_index_entry_is_damage_not_another_user() {
    let dir = tempfile::tempdir().expect("dir");
    let clean = dir.path().join("clean.redb");
    two_users(&clean);
    let sound = index_bytes(&clean, "user_by_username", "alice");
    assert_eq!(sound.len(), 12, "an id and its seal");
    assert_eq!(sound[..8], u64_bytes(1));
    let mut id_flipped = sound.clone();
    // 1 -> 3: an id that exists nowhere would be caught anyway; 2 is bob.
    id_flipped[7] ^= 0b11;
    let mut seal_flipped = sound.clone();
    seal_flipped[10] ^= 0x20;
    let cases: [(&str, &str, Vec<u8>); 4] = [
        ("the id", "alice", id_flipped),
        ("the seal", "alice", seal_flipped),
        ("a bare id", "alice", u64_bytes(1)),
        // Alice's sound value under a key two bits away from hers.
        ("the key", "alicg", sound.clone()),
    ];
    for (what, key, value) in cases {
        let path = dir.path().join(format!("{what}.redb"));
        std::fs::copy(&clean, &path).expect("copy");
        if key != "alice" {
            testing::raw_delete(&path, "user_by_username", &text_bytes("alice"))
                .expect("raw delete");
        }
        testing::raw_put(&path, "user_by_username", &text_bytes(key), &value).expect("raw write");
        let i = open(&path);
        let admin = i.operator();
        let err = admin.find_user(key).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Corrupt, "{what}: {err}");
        assert!(err.message().contains("user_by_username"), "{what}: {err}");
        let err = i.login(key, "bob-secret-1").unwrap_err();
        assert_eq!(err.code(), ErrorCode::Corrupt, "{what}: {err}");
        // A create that must know whether the name is taken stops too,
        // and writes nothing.
        let err = admin
            .create_user(new_user(key), Default::default())
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Corrupt, "{what}: {err}");
        assert_eq!(
            admin.list_users(&Default::default()).expect("list").count,
            2
        );
        // The other indexes still answer.
        assert_eq!(admin.find_user("alice@example.com").expect("email"), 1);
        assert_eq!(admin.find_user("bob").expect("bob"), 2);
        let problems = i.check_integrity().expect("check");
        assert!(
            problems
                .iter()
                .any(|p| p == &format!("user_by_username: the entry {key:?} is damaged")),
            "{what}: {problems:?}"
        );
        drop(i);
        let report = recover::check(&path).expect("check");
        assert!(!report.is_sound(), "{what}");
        // `recover` rebuilds the indexes from the records.
        let to = dir.path().join(format!("{what}-recovered.redb"));
        recover::recover(&path, &to).expect("recover");
        let saved = open(&to);
        assert_eq!(
            saved.operator().find_user("alice").expect("alice"),
            1,
            "{what}"
        );
        assert_eq!(
            saved.login("alice", "alice-secret-1").expect("alice").user,
            1
        );
        assert_eq!(
            saved.check_integrity().expect("check"),
            Vec::<String>::new()
        );
    }
}

/// The same for the indexes of other records: a batch name whose entry is
/// damaged is refused, not taken for another batch.
#[test]
fn a_damaged_batch_name_entry_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.redb");
    {
        let i = Institute::open(&path, config(SEED_NOW).0).expect("create");
        for name in ["Morning", "Evening"] {
            i.operator()
                .create_batch(roster::BatchInput {
                    name: Some(name.into()),
                })
                .expect("batch");
        }
    }
    let mut value = index_bytes(&path, "batch_by_name", "morning");
    value[7] ^= 0b11;
    testing::raw_put(&path, "batch_by_name", &text_bytes("morning"), &value).expect("raw write");
    let i = open(&path);
    let err = i
        .operator()
        .create_batch(roster::BatchInput {
            name: Some("MORNING".into()),
        })
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Corrupt, "{err}");
    assert_eq!(
        i.operator()
            .list_batches(None, Default::default())
            .expect("list")
            .count,
        2
    );
    let problems = i.check_integrity().expect("check");
    assert!(
        problems.contains(&"batch_by_name: the entry \"morning\" is damaged".to_string()),
        "{problems:?}"
    );
}

#[test]
fn an_email_index_entry_pointing_at_another_user_signs_no_one_in() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.redb");
    two_users(&path);
    // A flipped bit in the index: alice's email now names bob.
    raw_index(&path, "user_by_email", "alice@example.com", 2);
    let i = open(&path);
    let err = i.login("alice@example.com", "bob-secret-1").unwrap_err();
    assert_eq!(err.code(), ErrorCode::Corrupt, "{err}");
    assert!(err.message().contains("user_by_email"), "{err}");
    let err = i.login("alice@example.com", "alice-secret-1").unwrap_err();
    assert_eq!(err.code(), ErrorCode::Corrupt, "{err}");
    // Bob by his own name still signs in; check names the damage.
    assert_eq!(i.login("bob", "bob-secret-1").expect("bob").user, 2);
    assert!(!i.check_integrity().expect("check").is_empty());
    drop(i);
    let report = recover::check(&path).expect("check");
    assert!(!report.is_sound());
    assert!(
        report.problems.iter().any(|p| p.contains("email index")),
        "{report:?}"
    );
}

#[test]
fn a_damaged_record_is_corrupt_store_naming_it_and_recover_saves_the_rest() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.redb");
    two_users(&path);
    let mut bytes = user_bytes(&path, 1);
    let at = bytes.len() / 2;
    bytes[at] ^= 0x10;
    testing::raw_put(&path, "users", &u64_bytes(1), &bytes).expect("raw write");
    let i = open(&path);
    let err = i.operator().get_user(1).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Corrupt);
    assert!(err.message().contains("user 1"), "{err}");
    assert_eq!(i.operator().get_user(2).expect("bob").username, "bob");
    let err = i.login("alice", "alice-secret-1").unwrap_err();
    assert_eq!(err.code(), ErrorCode::Corrupt, "{err}");
    drop(i);
    let before = std::fs::read(&path).expect("read");

    let report = recover::check(&path).expect("check");
    assert!(
        report.problems.iter().any(|p| p.contains("user 1")),
        "{report:?}"
    );
    let to = dir.path().join("new.redb");
    let report = recover::recover(&path, &to).expect("recover");
    let users = report
        .entities
        .iter()
        .find(|e| e.entity == "users")
        .expect("users line");
    assert_eq!((users.saved, users.lost), (1, Some(1)), "{report:?}");
    // The source was never written; the new store is sound and signs bob in.
    assert!(std::fs::read(&path).expect("read") == before);
    // Its users are in the search index, none waiting (ids the damage
    // took would leave groups that never end).
    let waiting = testing::raw_rows(&to, "grams_unmerged").expect("raw read");
    assert!(waiting.is_empty(), "{waiting:?}");
    let saved = open(&to);
    let query = roster::UserQuery {
        q: Some("bob".into()),
        ..Default::default()
    };
    assert_eq!(
        saved.operator().list_users(&query).expect("search").count,
        1
    );
    assert!(saved.check_integrity().expect("check").is_empty());
    assert_eq!(saved.login("bob", "bob-secret-1").expect("bob").user, 2);
    assert!(recover::check(&to).expect("check").is_sound());
    // Recover refuses to overwrite.
    assert_eq!(
        recover::recover(&path, &to).unwrap_err().code(),
        ErrorCode::Conflict
    );
}

#[test]
fn a_sound_store_checks_sound_and_recovers_whole() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.redb");
    two_users(&path);
    assert_eq!(
        recover::check(&path).expect("check").problems,
        Vec::<String>::new()
    );
    let to = dir.path().join("new.redb");
    let report = recover::recover(&path, &to).expect("recover");
    assert!(!report.carved);
    assert!(
        report.entities.iter().all(|e| e.lost == Some(0)),
        "{report:?}"
    );
    assert_eq!(report.saved(), 2);
    // The store was built under a working name and linked to `new.redb`;
    // nothing of the working name is left.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("s.redb"))
        .collect();
    names.sort();
    assert_eq!(names, ["new.redb"]);
    assert_eq!(
        open(&to)
            .operator()
            .list_users(&Default::default())
            .expect("list")
            .count,
        2
    );
}

#[test]
fn a_file_redb_cannot_open_is_carved() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.redb");
    two_users(&path);
    // Wipe the header pages: redb cannot open the file at all.
    let mut bytes = std::fs::read(&path).expect("read");
    for b in bytes.iter_mut().take(4096) {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).expect("write");
    let report = recover::check(&path).expect("check");
    assert!(!report.is_sound());
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("header is damaged") && p.contains("roster recover")),
        "{report:?}"
    );
    let to = dir.path().join("new.redb");
    let report = recover::recover(&path, &to).expect("recover");
    assert!(report.carved && !report.opened, "{report:?}");
    let users = report
        .entities
        .iter()
        .find(|e| e.entity == "users")
        .expect("users");
    assert_eq!(users.saved, 2, "{report:?}");
    let saved = open(&to);
    assert_eq!(
        saved.login("alice", "alice-secret-1").expect("alice").user,
        1
    );
}

/// What searches answer when the search index says alice (1) holds
/// "mal": a needle the index answers alone finds the damage, a longer one
/// checks every candidate against its record, and alice is no hit; the
/// integrity check reports it.
fn alice_is_no_mallory(i: &Institute) {
    let query = roster::UserQuery {
        q: Some("mal".into()),
        ..Default::default()
    };
    let err = i.operator().list_users(&query).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Corrupt, "{err}");
    let query = roster::UserQuery {
        q: Some("mallory".into()),
        ..Default::default()
    };
    assert_eq!(i.operator().list_users(&query).expect("search").count, 0);
    assert!(!i.check_integrity().expect("check").is_empty());
}

#[test]
fn a_search_hit_from_a_damaged_index_entry_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.redb");
    two_users(&path);
    raw_index(&path, "user_by_username", "mallory", 1);
    // The search index says alice (1) holds "mal": the key is the field
    // (1: username and email), the gram, the block of 4,096 ids (0); the
    // value a list (0) of the ids' low bits, two bytes each.
    let mut key = vec![1u8];
    key.extend_from_slice(b"mal");
    key.extend_from_slice(&0u64.to_be_bytes());
    testing::raw_put(&path, "grams", &key, &[0, 0, 1]).expect("raw write");
    let i = open(&path);
    alice_is_no_mallory(&i);
    // Signing in as "mallory" finds alice's record under another name.
    assert_eq!(
        i.login("mallory", "alice-secret-1").unwrap_err().code(),
        ErrorCode::Corrupt
    );
}

/// The texts of a user waiting unmerged in the search index (format 13):
/// username, email, first name, last name and phone, folded, each after
/// its length (four bytes, big-endian).
fn waiting_texts(texts: [&str; 5]) -> Vec<u8> {
    let mut out = Vec::new();
    for text in texts {
        out.extend_from_slice(&(text.len() as u32).to_be_bytes());
        out.extend_from_slice(text.as_bytes());
    }
    out
}

#[test]
fn a_search_hit_from_a_damaged_waiting_user_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.redb");
    two_users(&path);
    // Both users wait unmerged; alice's row now says she is "mallory".
    let rows = testing::raw_rows(&path, "grams_unmerged").expect("raw read");
    assert_eq!(rows.len(), 2);
    let texts = waiting_texts(["mallory", "", "", "", ""]);
    testing::raw_put(&path, "grams_unmerged", &u64_bytes(1), &texts).expect("raw write");
    let i = open(&path);
    alice_is_no_mallory(&i);
    drop(i);
    // A row that is not texts is damage too, never a panic.
    testing::raw_put(&path, "grams_unmerged", &u64_bytes(1), &[0, 0, 9]).expect("raw write");
    let i = open(&path);
    let query = roster::UserQuery {
        q: Some("ali".into()),
        ..Default::default()
    };
    let err = i.operator().list_users(&query).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Corrupt, "{err}");
    assert!(!i.check_integrity().expect("check").is_empty());
}

#[test]
fn a_damaged_format_2_store_that_cannot_migrate_is_still_recovered() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("v2.redb");
    std::fs::copy(roster_tests::own_fixtures().join("store-v2.redb"), &path).expect("fixture");
    // Cut user 2's record short: format 2 cannot decode it, so the
    // migration to format 3 (all or nothing) fails.
    let bytes = user_bytes(&path, 2);
    testing::raw_put(&path, "users", &u64_bytes(2), &bytes[..3]).expect("raw write");
    let (config, _) = config(SEED_NOW);
    let err = Institute::open(&path, config).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Corrupt, "{err}");
    let to = dir.path().join("new.redb");
    let report = recover::recover(&path, &to).expect("recover");
    let users = report
        .entities
        .iter()
        .find(|e| e.entity == "users")
        .expect("users");
    assert_eq!((users.saved, users.lost), (2, Some(1)), "{report:?}");
    let saved = open(&to);
    assert!(saved.check_integrity().expect("check").is_empty());
    assert!(saved.login("registrar", "registrar-1").is_ok());
    assert_eq!(
        saved.operator().get_user(1).expect("lorem").username,
        "lorem"
    );
    // The other records of format 2 (no frames either) are saved too.
    let a = saved.operator();
    let page = roster::PageRequest::default();
    let batches: Vec<String> = a
        .list_batches(None, page)
        .expect("batches")
        .items
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(batches, ["Test Batch", "UPSC Morning Batch"]);
    assert_eq!(a.list_courses(None, page).expect("courses").items.len(), 1);
    assert_eq!(a.list_custom_fields(page).expect("fields").items.len(), 1);
    assert_eq!(a.user_subscriptions(1, page).expect("subs").items.len(), 2);
    // A format-2 user is read as format 2 (format 1 had no access
    // fields): the staff member keeps its flag, group and permission.
    let registrar = a
        .list_users(&roster::UserQuery {
            q: Some("registrar".into()),
            ..Default::default()
        })
        .expect("list");
    let r = &registrar.items[0];
    assert!(r.is_staff && r.last_login.is_some(), "{r:?}");
    assert_eq!((r.groups.len(), r.user_permissions.clone()), (1, vec![5]));
}

/// Position counts that disagree with the batches, courses or groups are
/// named by `check`, and `recover` writes a store whose counts and lists
/// are whole again.
#[test]
fn damaged_position_counts_of_batches_courses_and_groups_are_found_and_rebuilt() {
    let dir = tempfile::tempdir().expect("dir");
    let sound = dir.path().join("sound.redb");
    let want = {
        let i = Institute::open(&sound, config(SEED_NOW).0).expect("create");
        let admin = i.operator();
        for name in ["b1", "b2"] {
            let name = Some(name.to_string());
            admin
                .create_batch(roster::BatchInput { name })
                .expect("batch");
        }
        let title = Some("Course".to_string());
        let course = roster::CourseInput {
            title,
            ..Default::default()
        };
        admin.create_course(course).expect("course");
        let name = Some("g".to_string());
        let group = roster::GroupInput {
            name,
            ..Default::default()
        };
        admin.create_group(group).expect("group");
        lists(&i)
    };
    assert_eq!((want.0.len(), want.1.len(), want.2.len()), (2, 1, 1));
    // The tag of each table's counts is the first byte of their keys.
    for (tag, what) in [(2u8, "batches"), (3, "courses"), (4, "groups")] {
        let path = dir.path().join(format!("{what}.redb"));
        std::fs::copy(&sound, &path).expect("copy");
        let rows = testing::raw_rows(&path, "counts").expect("raw read");
        let mut damaged = 0;
        for (key, _) in rows.iter().filter(|(k, _)| k.first() == Some(&tag)) {
            testing::raw_delete(&path, "counts", key).expect("raw delete");
            damaged += 1;
        }
        assert_eq!(damaged, 4, "one count per level for {what}");
        let report = recover::check(&path).expect("check");
        let named = format!("{what} position counts disagree");
        assert!(
            report.problems.iter().any(|p| p.contains(&named)),
            "{report:?}"
        );
        let to = dir.path().join(format!("{what}-saved.redb"));
        recover::recover(&path, &to).expect("recover");
        let saved = open(&to);
        assert_eq!(
            saved.check_integrity().expect("check"),
            Vec::<String>::new()
        );
        assert_eq!(lists(&saved), want, "{what}");
    }
}

/// The ids of the unfiltered batch, course and group lists, one per page.
fn lists(i: &Institute) -> (Vec<u64>, Vec<u64>, Vec<u64>) {
    let admin = i.operator();
    (
        ids_of_every_page(1, |p| admin.list_batches(None, p), |b| b.id).0,
        ids_of_every_page(1, |p| admin.list_courses(None, p), |c| c.id).0,
        ids_of_every_page(1, |p| admin.list_groups(None, p), |g| g.id).0,
    )
}

/// `recover --to` keeps the default organisation's row (it is no record,
/// so it was lost): a Sunbird create without a channel works in the new
/// store, where it answered "an organisation holds the channel
/// \"default\"..." before.
#[test]
fn a_recovered_store_keeps_its_default_organisation() {
    use roster::domain::sunbird::{CreateRoute, SunbirdInput};
    let create = |i: &Institute, name: &str| {
        i.operator().sunbird_create(
            SunbirdInput {
                first_name: Some(name.into()),
                email: Some(format!("{name}@example.com")),
                ..Default::default()
            },
            CreateRoute::Create,
        )
    };
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.redb");
    create(&open(&path), "first").expect("the default organisation is made");
    let to = dir.path().join("new.redb");
    recover::recover(&path, &to).expect("recover");
    assert_eq!(
        recover::check(&to).expect("check").problems,
        Vec::<String>::new()
    );
    let saved = open(&to);
    create(&saved, "second").expect("a create without a channel");
    assert_eq!(
        saved.operator().dump().expect("dump").organisations.len(),
        1
    );
}

/// Makes a store file at `path` with one batch and closes it; the number
/// of the feed's last entry.
fn with_one_batch(path: &Path) -> u64 {
    let i = Institute::open(path, config(SEED_NOW).0).expect("create");
    let admin = i.operator();
    admin
        .create_batch(roster::BatchInput {
            name: Some("Morning".into()),
        })
        .expect("batch");
    admin.changes_since(0, 10).expect("feed").next
}

/// A store written before the feed's numbers followed its last entry keeps
/// a counter in `meta`: the next write numbers its entry from the counter
/// (never below it, never reusing a number) and removes it.
#[test]
fn a_kept_feed_counter_is_followed_once_and_removed() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.redb");
    let head = with_one_batch(&path);
    let counter = text_bytes("change_next");
    let has_counter = || {
        testing::raw_rows(&path, "meta")
            .expect("rows")
            .iter()
            .any(|(k, _)| *k == counter)
    };
    assert!(!has_counter(), "a new store keeps no counter");
    // As an older roster left it: numbers up to head + 4 given (their
    // writes' entries since trimmed or never kept).
    testing::raw_put(&path, "meta", &counter, &testing::u64_bytes(head + 5)).expect("raw write");
    let numbers = {
        let i = open(&path);
        let admin = i.operator();
        for name in ["Noon", "Evening"] {
            admin
                .create_batch(roster::BatchInput {
                    name: Some(name.into()),
                })
                .expect("batch");
        }
        assert!(i.check_integrity().expect("check").is_empty());
        let page = admin.changes_since(head, 10).expect("feed");
        page.changes.iter().map(|c| c.seq).collect::<Vec<_>>()
    };
    assert_eq!(numbers, [head + 5, head + 6]);
    assert!(!has_counter(), "the counter went with the first write");
}

/// The change feed's numbering rows are checked where they are read: an
/// origin above every origin drawn, or a floor or (in a store written
/// before numbers followed the last entry) a counter at its end, is a
/// `corrupt_store` error for the write that would number entries from it
/// (the store unchanged), and `check` names it.
/// An id counter row outside its block (or of a block past every id roster
/// gives) is damage: a create is refused naming it and writes nothing,
/// where it would have given id 0, an id of another block, or overflowed.
#[test]
fn a_damaged_id_counter_is_refused_and_named() {
    for (block, next) in [(0, 0), (0, u64::MAX), (1, 5), (u64::MAX, 5)] {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("s.redb");
        two_users(&path);
        let key = testing::id_counter_key("user", block);
        testing::raw_put(&path, "id_blocks", &key, &u64_bytes(next)).expect("raw write");
        let i = open(&path);
        let err = i
            .operator()
            .create_user(new_user("carol"), Default::default())
            .unwrap_err();
        let said = format!("the user id counter of block {block} is {next}, outside its block");
        assert_eq!(err.code(), ErrorCode::Corrupt, "{said}: {err}");
        assert!(err.message().contains(&said), "{err}");
        let users = i.operator().list_users(&Default::default()).expect("list");
        assert_eq!(users.count, 2, "{said}: nothing written");
        assert_eq!(i.check_integrity().expect("check"), [said]);
    }
}

#[test]
fn a_damaged_feed_counter_is_refused_and_named() {
    // Each case: the rows written, and the one the error names.
    let top = (1u64 << 40) + (1 << 51);
    for (rows, named) in [
        (vec![("change_origin", u64::MAX)], "origin"),
        (vec![("change_origin", top)], "origin"),
        (vec![("change_next", u64::MAX)], "counter"),
        (vec![("change_floor", u64::MAX)], "floor"),
        (
            vec![("change_next", 1), ("change_floor", u64::MAX)],
            "floor",
        ),
    ] {
        let row = format!("{rows:?}");
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("s.redb");
        with_one_batch(&path);
        for (key, value) in rows {
            testing::raw_put(&path, "meta", &text_bytes(key), &testing::u64_bytes(value))
                .expect("raw write");
        }
        let i = open(&path);
        let err = i
            .operator()
            .create_batch(roster::BatchInput {
                name: Some("Evening".into()),
            })
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Corrupt, "{row}: {err}");
        let says = format!("the change feed's {named} is out of range");
        assert!(err.message().contains(&says), "{row}: {err}");
        let batches = i
            .operator()
            .list_batches(None, Default::default())
            .expect("list");
        assert_eq!(batches.count, 1, "{row}: nothing written");
        let problems = i.check_integrity().expect("check");
        assert!(
            problems.iter().any(|p| p.contains("change feed")),
            "{row}: {problems:?}"
        );
    }
    // The largest origin a new store draws is no damage.
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.redb");
    with_one_batch(&path);
    let origin = testing::u64_bytes(top - 1);
    testing::raw_put(&path, "meta", &text_bytes("change_origin"), &origin).expect("raw write");
    let batch = roster::BatchInput {
        name: Some("Evening".into()),
    };
    open(&path).operator().create_batch(batch).expect("a write");
}

/// `check` reads the whole change feed: a damaged entry after good ones is
/// named, as the first would be.
#[test]
fn a_damaged_change_entry_past_the_first_is_named() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.redb");
    let head = with_one_batch(&path);
    {
        let i = open(&path);
        for name in ["Noon", "Evening"] {
            let batch = roster::BatchInput {
                name: Some(name.into()),
            };
            i.operator().create_batch(batch).expect("batch");
        }
        assert!(i.check_integrity().expect("check").is_empty());
    }
    let rows = testing::raw_rows(&path, "changes").expect("rows");
    let keys: Vec<u64> = rows
        .iter()
        .filter_map(|(k, _)| testing::u64_of(k))
        .collect();
    assert_eq!(keys, [head, head + 1, head + 2]);
    let (last, _) = rows.last().expect("an entry");
    testing::raw_put(&path, "changes", last, &[0xff; 3]).expect("raw write");
    let problems = open(&path).check_integrity().expect("check");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains(&(head + 2).to_string()),
        "{problems:?}"
    );
}

/// A damaged entry at the front of the feed does not stop the writes
/// whose entries reach a trim, nor a purge: the trim ends at it (its age
/// cannot be read), the writes go on, and `check` still names it.
#[test]
fn a_damaged_oldest_change_entry_stops_no_write() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.redb");
    let (mut config, clock) = config(SEED_NOW);
    config.change_retention = chrono::Duration::days(1);
    {
        let i = Institute::open(&path, config.clone()).expect("create");
        let batch = roster::BatchInput {
            name: Some("First".into()),
        };
        i.operator().create_batch(batch).expect("batch");
    }
    let rows = testing::raw_rows(&path, "changes").expect("rows");
    let (oldest, _) = rows.first().expect("an entry");
    let head = testing::u64_of(oldest).expect("a number");
    testing::raw_put(&path, "changes", oldest, &[0xff; 3]).expect("raw write");
    clock.set(roster_tests::at("2023-01-20T00:00:00Z"));
    let i = Institute::open(&path, config).expect("open");
    for n in 0..130 {
        let batch = roster::BatchInput {
            name: Some(format!("Later {n}")),
        };
        i.operator()
            .create_batch(batch)
            .unwrap_or_else(|e| panic!("write {n}: {e}"));
    }
    i.operator().purge_changes().expect("purge");
    let problems = i.check_integrity().expect("check");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains(&head.to_string()), "{problems:?}");
}

/// An id counter lowered within its block (damage, or an edit of the
/// file) gives an id a record already holds: the create that takes it is
/// refused as damage, where it would overwrite the record and leave the
/// old one's index entries behind. Every kind roster creates records of
/// by a counter: users, batches, courses, groups, custom fields,
/// organisations and outbox messages. `check` names the counter.
#[test]
fn a_lowered_id_counter_overwrites_no_record() {
    use roster::api::sunbird::OrgInput;
    use roster::{BatchInput, CourseInput, CreateOptions, CustomFieldInput, GroupInput};
    fn batch(i: &Institute, name: &str) -> roster::Result<()> {
        let input = BatchInput {
            name: Some(name.into()),
        };
        i.operator().create_batch(input).map(drop)
    }
    fn course(i: &Institute, title: &str) -> roster::Result<()> {
        let input = CourseInput {
            title: Some(title.into()),
            ..Default::default()
        };
        i.operator().create_course(input).map(drop)
    }
    fn group(i: &Institute, name: &str) -> roster::Result<()> {
        let input = GroupInput {
            name: Some(name.into()),
            permissions: Some(vec![1]),
        };
        i.operator().create_group(input).map(drop)
    }
    fn field(i: &Institute, name: &str) -> roster::Result<()> {
        let input = CustomFieldInput {
            name: Some(name.into()),
            kind: Some("text".into()),
            choices: None,
            required: Some(false),
        };
        i.operator().create_custom_field(input).map(drop)
    }
    fn org(i: &Institute, name: &str) -> roster::Result<()> {
        let input = OrgInput {
            name: Some(name.into()),
            org_type: Some("school".into()),
            channel: Some(name.to_lowercase()),
            is_tenant: Some(true),
            ..Default::default()
        };
        i.operator().create_organisation(input).map(drop)
    }
    /// A user whose credentials are queued: a message.
    fn notified(i: &Institute, name: &str) -> roster::Result<()> {
        let options = CreateOptions {
            notify_credential: true,
            ..Default::default()
        };
        i.operator().create_user(new_user(name), options).map(drop)
    }
    let dir = tempfile::tempdir().expect("dir");
    let clean = dir.path().join("clean.redb");
    two_users(&clean);
    {
        let i = open(&clean);
        batch(&i, "Morning").expect("batch");
        course(&i, "Algebra").expect("course");
        group(&i, "Tutors").expect("group");
        field(&i, "Stream").expect("field");
        org(&i, "OrgA").expect("organisation");
        notified(&i, "carol").expect("a message");
    }
    type Create = fn(&Institute) -> roster::Result<()>;
    let cases: [(&str, Create); 7] = [
        ("user", |i| {
            i.operator()
                .create_user(new_user("dave"), Default::default())
                .map(drop)
        }),
        ("batch", |i| batch(i, "Evening")),
        ("course", |i| course(i, "Botany")),
        ("group", |i| group(i, "Clerks")),
        ("custom_field", |i| field(i, "House")),
        ("organisation", |i| org(i, "OrgB")),
        ("message", |i| notified(i, "erin")),
    ];
    // Every record table's rows.
    let records = |path: &Path| -> Vec<Vec<testing::RawRow>> {
        let tables = [
            "users",
            "batches",
            "courses",
            "groups",
            "custom_fields",
            "organisations",
            "outbox",
        ];
        tables
            .iter()
            .map(|t| testing::raw_rows(path, t).expect("rows"))
            .collect()
    };
    for (entity, create) in cases {
        let path = dir.path().join(format!("{entity}.redb"));
        std::fs::copy(&clean, &path).expect("copy");
        let key = testing::id_counter_key(entity, 0);
        testing::raw_put(&path, "id_blocks", &key, &u64_bytes(1)).expect("raw write");
        let before = records(&path);
        let i = open(&path);
        let err = create(&i).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Corrupt, "{entity}: {err}");
        let table = match entity {
            "message" => "outbox".to_string(),
            "batch" => "batches".to_string(),
            other => format!("{other}s"),
        };
        let said = format!("a new row of {table} would take id 1, which a stored one holds");
        assert!(
            err.message().contains(&said) && err.message().contains("id counter is behind"),
            "{entity}: {err}"
        );
        drop(i);
        let after = records(&path);
        assert!(before == after, "{entity}: no record changed");
        let problems = open(&path).check_integrity().expect("check");
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with(&format!("{entity} counter 1 is not above id"))),
            "{entity}: {problems:?}"
        );
    }
    // A course takes its hidden batch's id from the batch counter: that
    // batch would overwrite batch 1 ("Morning") as well.
    let path = dir.path().join("hidden.redb");
    std::fs::copy(&clean, &path).expect("copy");
    let key = testing::id_counter_key("batch", 0);
    testing::raw_put(&path, "id_blocks", &key, &u64_bytes(1)).expect("raw write");
    let before = records(&path);
    let err = course(&open(&path), "Botany").unwrap_err();
    assert_eq!(err.code(), ErrorCode::Corrupt, "{err}");
    assert!(
        err.message()
            .contains("a new row of batches would take id 1, which a stored one holds"),
        "{err}"
    );
    assert!(before == records(&path), "no record changed");
}
