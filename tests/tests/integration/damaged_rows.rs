//! Damaged rows: every table of a store holding every kind of record, each
//! row in turn given a hostile key or value (cut short, grown, a byte
//! changed, a number at its edge), as a crafted file or a bug could leave
//! it below the storage engine's own checks. The store is then used through
//! the typed API and both REST surfaces. Every answer is a value or a clear
//! error; none may come from a panic. (The store turns a panic inside a
//! transaction into a `storage engine failed` error and closes the handle:
//! a backstop, counted here as a failure, since in the browser a panic ends
//! the module.)

use roster::rest::{Request, Response};
use roster::store::{Backend, ModelBackend};
use roster::{
    AccessInput, BatchInput, CourseInput, CustomFieldInput, CustomInput, GroupInput, Institute,
    NewUser, PageRequest, ProfileInput, UserQuery,
};
use roster_tests::{SEED_NOW, call, config, splitmix64};
use serde_json::{Value, json};
use std::sync::Arc;

const API: &str = "/api/v2.5/admin";
const SEARCH: &str = "/api/user/v1/search";
const PASSWORD: &str = "Pass@1word";

/// One row of a table.
type Row = (String, Vec<u8>, Vec<u8>);

/// The words of the store's panic backstop: an error that says them came
/// from a panic.
const FROM_A_PANIC: [&str; 2] = [
    "the storage engine failed while reading it",
    "roster failed inside this operation",
];

fn sunbird(i: &Institute, path: &str, body: Value) -> Response {
    let request = Request::new("POST", path)
        .with_header("Content-Type", "application/json")
        .with_body(body.to_string());
    roster::rest::handle_as(&i.operator(), request)
}

/// A store with users (some Sunbird ones, one managed), batches with
/// expiring and lasting subscriptions, a course, a group, a custom field,
/// an organisation, a session and change-feed entries: every row of it,
/// and the Sunbird manager's `userId`.
fn world() -> (Vec<Row>, String) {
    let backend = Arc::new(ModelBackend::new());
    let (config, _) = config(SEED_NOW);
    let i = Institute::open_with(backend.clone(), config).expect("store");
    let a = i.operator();
    a.create_custom_field(CustomFieldInput {
        name: Some("Stream".into()),
        kind: Some("text".into()),
        choices: None,
        required: Some(false),
    })
    .expect("field");
    let batches: Vec<u64> = ["Morning", "Evening", "Weekend"]
        .iter()
        .map(|n| {
            a.create_batch(BatchInput {
                name: Some((*n).into()),
            })
            .expect("batch")
            .id
        })
        .collect();
    let course = a
        .create_course(CourseInput {
            title: Some("Algebra".into()),
            ..Default::default()
        })
        .expect("course")
        .id;
    a.add_course_batches(course, &batches[..1]).expect("link");
    let group = a
        .create_group(GroupInput {
            name: Some("Tutors".into()),
            permissions: Some(vec![1, 2]),
        })
        .expect("group")
        .id;
    for (n, first) in ["Asha", "Ravi", "Kiran"].iter().enumerate() {
        let user = NewUser {
            username: Some(first.to_lowercase()),
            password: Some(PASSWORD.into()),
            profile: ProfileInput {
                email: Some(format!("{}@x.in", first.to_lowercase())),
                phone: Some(format!("900000000{n}")),
                first_name: Some((*first).into()),
                last_name: Some("Nair".into()),
                custom_fields: vec![("Stream".into(), CustomInput::Text("Science".into()))],
                ..Default::default()
            },
            access: AccessInput {
                groups: Some(vec![group]),
                ..Default::default()
            },
            ..Default::default()
        };
        let id = a
            .create_user(user, Default::default())
            .expect("user")
            .user
            .id;
        a.add_user_subscriptions(id, &batches[..2], Some("2023-01-20"))
            .expect("expiring");
        a.add_user_subscriptions(id, &batches[2..], None)
            .expect("lasting");
    }
    i.login("asha", PASSWORD).expect("a session");
    let r = sunbird(
        &i,
        "/api/org/v1/create",
        json!({"request": {"orgName": "Org A", "organisationType": "school",
            "channel": "chan-a", "isTenant": true}}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = sunbird(
        &i,
        "/api/user/v1/sso/create",
        json!({"request": {"firstName": "Meena", "lastName": "Iyer", "channel": "chan-a",
            "email": "meena@z.org", "phone": "9100000001", "language": ["ta"],
            "externalIds": [{"id": "ext-1", "provider": "chan-a", "idType": "chan-a"}],
            "profileLocation": [{"code": "loc-1", "type": "state"}]}}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let manager = r.json()["result"]["userId"]
        .as_str()
        .expect("id")
        .to_string();
    let r = sunbird(
        &i,
        "/api/user/v4/create",
        json!({"request": {"firstName": "Tara", "managedBy": manager}}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    drop(i);
    let mut rows = Vec::new();
    backend
        .read(&mut |r| {
            for table in r.table_names()? {
                for (k, v) in r.rows(&table)? {
                    rows.push((table.clone(), k, v));
                }
            }
            Ok(())
        })
        .expect("rows");
    (rows, manager)
}

/// `bytes` made hostile in one of several ways, chosen by `pick`.
fn damage(bytes: &[u8], pick: u64, random: u64) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let at = |len: usize| (random as usize) % len.max(1);
    match pick % 9 {
        // Cut short: empty, or at some byte.
        0 => out.clear(),
        1 => out.truncate(at(bytes.len())),
        // Grown by a byte, or by eight.
        2 => out.push(random as u8),
        3 => out.extend_from_slice(&random.to_be_bytes()),
        // A byte changed.
        4 if !out.is_empty() => {
            let i = at(out.len());
            out[i] ^= (random >> 8) as u8 | 1;
        }
        // Its last eight bytes (an id, a count, a counter) at an edge.
        5..=7 if out.len() >= 8 => {
            let edge = [0u64, u64::MAX, 1 << 53][(pick % 9 - 5) as usize];
            let n = out.len();
            out[n - 8..].copy_from_slice(&edge.to_be_bytes());
        }
        // Its first byte at its largest.
        _ if !out.is_empty() => out[0] = 0xff,
        _ => out.push(0),
    }
    out
}

/// A store holding `rows`, opened.
fn store_of(rows: &[Row]) -> roster::Result<Institute> {
    let backend = Arc::new(ModelBackend::new());
    backend
        .write(&mut |w| {
            for (table, k, v) in rows {
                w.put(table, k, v)?;
            }
            Ok(())
        })
        .expect("copy");
    let (config, _) = config(SEED_NOW);
    Institute::open_with(backend, config)
}

/// A copy of `rows` with row `which` damaged (its key when `key`), opened.
fn damaged(rows: &[Row], which: usize, key: bool, pick: u64, random: u64) -> Option<Institute> {
    let mut rows = rows.to_vec();
    if let Some((_, k, v)) = rows.get_mut(which) {
        let part = if key { k } else { v };
        *part = damage(part, pick, random);
    }
    match store_of(&rows) {
        Ok(i) => Some(i),
        Err(e) => {
            assert!(
                !FROM_A_PANIC.iter().any(|w| e.message().contains(w)),
                "open: {e}"
            );
            None
        }
    }
}

/// Uses `i` every way the store is read and written: what each use was,
/// and its error if it failed.
fn use_every_way(i: &Institute, manager: &str) -> Vec<(String, String)> {
    let a = i.operator();
    let mut said: Vec<(String, String)> = Vec::new();
    let mut note = |what: &str, message: Option<String>| {
        if let Some(m) = message {
            said.push((what.to_string(), m));
        }
    };
    let err = |r: roster::Result<()>| r.err().map(|e| e.message().to_string());
    for q in [None, Some("a"), Some("as"), Some("nai"), Some("x.in")] {
        let query = UserQuery {
            q: q.map(str::to_string),
            ..Default::default()
        };
        note("list users", err(a.list_users(&query).map(drop)));
    }
    let last = PageRequest {
        page: 3,
        per_page: Some(2),
    };
    let page = PageRequest::default();
    note(
        "last page",
        err(a
            .list_users(&UserQuery {
                page: last,
                ..Default::default()
            })
            .map(drop)),
    );
    for id in 1..=5 {
        note("get user", err(a.get_user(id).map(drop)));
        note(
            "subscriptions",
            err(a.user_subscriptions(id, page).map(drop)),
        );
        note("batches of", err(a.user_batches(id, page).map(drop)));
        note("courses of", err(a.user_courses(id, page).map(drop)));
    }
    let second = PageRequest {
        page: 2,
        per_page: Some(2),
    };
    note("batches", err(a.list_batches(None, second).map(drop)));
    note("courses", err(a.list_courses(Some("alg"), page).map(drop)));
    note("groups", err(a.list_groups(None, page).map(drop)));
    note("course batches", err(a.course_batches(1, page).map(drop)));
    note("find", err(a.find_user("ravi@x.in").map(drop)));
    note("sign-in", err(i.login("kiran", PASSWORD).map(drop)));
    note("changes", err(a.changes_since(0, 100).map(drop)));
    let new = NewUser {
        username: Some("zoya".into()),
        password: Some(PASSWORD.into()),
        profile: ProfileInput {
            email: Some("zoya@x.in".into()),
            first_name: Some("Zoya".into()),
            ..Default::default()
        },
        batches: vec!["Morning".into()],
        ..Default::default()
    };
    note(
        "create",
        err(a.create_user(new, Default::default()).map(drop)),
    );
    note(
        "subscribe",
        err(a
            .add_user_subscriptions(2, &[3], Some("2024-01-01"))
            .map(drop)),
    );
    note(
        "update",
        err(a.update_user(3, Default::default()).map(drop)),
    );
    note("delete", err(a.delete_user(1)));
    note("purge", err(a.purge_expired().map(drop)));
    note("purge changes", err(a.purge_changes().map(drop)));
    note(
        "export",
        err(roster::transfer::export(&a, Vec::new()).map(drop)),
    );
    note("check", err(i.check_integrity().map(drop)));
    for filters in [
        json!({"firstName": "meena"}),
        json!({"roles.role": "PUBLIC", "channel": "chan-a"}),
        json!({"externalIds.id": "ext-1", "language": "ta"}),
        json!({"managedBy": manager}),
    ] {
        let r = sunbird(i, SEARCH, json!({"request": {"filters": filters}}));
        note(SEARCH, (r.status != 200).then(|| format!("{:?}", r.body)));
    }
    let r = sunbird(
        i,
        SEARCH,
        json!({"request": {"query": "nai", "filters": {}}}),
    );
    note(SEARCH, (r.status != 200).then(|| format!("{:?}", r.body)));
    for path in [
        format!("/api/user/v5/read/{manager}"),
        format!("/api/user/v1/managed/{manager}"),
        "/api/user/v1/exists/email/meena@z.org".to_string(),
    ] {
        let request = Request::new("GET", &path);
        let r = roster::rest::handle_as(&i.operator(), request);
        note(&path, (r.status != 200).then(|| format!("{:?}", r.body)));
    }
    for path in [
        "/users/",
        "/users/?q=ash",
        "/batches/",
        "/courses/",
        "/users/2/",
    ] {
        let r = call(i, "GET", &format!("{API}{path}"), None);
        note(path, (r.status != 200).then(|| format!("{:?}", r.body)));
    }
    said
}

/// The first of `said` that came from a panic, if any.
fn from_a_panic(said: Vec<(String, String)>) -> Option<String> {
    said.into_iter()
        .find(|(_, m)| FROM_A_PANIC.iter().any(|w| m.contains(w)))
        .map(|(what, m)| format!("{what}: {m}"))
}

/// The indexes of `rows` by table.
fn rows_by_table(rows: &[Row]) -> std::collections::BTreeMap<&str, Vec<usize>> {
    let mut of_table: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for (n, (table, _, _)) in rows.iter().enumerate() {
        of_table.entry(table).or_default().push(n);
    }
    of_table
}

/// What damaging rows did: the stores that opened, those refused, and each
/// use that came from a panic.
#[derive(Default)]
struct Tally {
    opened: usize,
    refused: usize,
    failures: Vec<String>,
}

impl Tally {
    /// Row `which` of `rows`, its key and then its value damaged each of
    /// the nine ways (the random bytes from `state`), each store opened and
    /// used by `uses`.
    fn damage(
        &mut self,
        rows: &[Row],
        which: usize,
        state: &mut u64,
        uses: impl Fn(&Institute) -> Vec<(String, String)>,
    ) {
        for (key, pick) in [true, false]
            .into_iter()
            .flat_map(|k| (0..9).map(move |p| (k, p)))
        {
            let random = splitmix64(state);
            let Some(i) = damaged(rows, which, key, pick, random) else {
                self.refused += 1;
                continue;
            };
            self.opened += 1;
            if let Some(failure) = from_a_panic(uses(&i)) {
                let (table, k, _) = &rows[which];
                let part = if key { "key" } else { "value" };
                self.failures.push(format!(
                    "{table} {k:?}, its {part} damaged ({pick}): {failure}"
                ));
            }
        }
    }
}

/// Three rows of every table (its first, a middle and its last), its key
/// and its value each damaged every way (the random bytes from a fixed
/// seed): no use of the store panics.
#[test]
fn no_damaged_row_makes_roster_panic() {
    let (rows, manager) = world();
    // Undamaged, every use succeeds: each reaches what it is meant to.
    let sound = damaged(&rows, usize::MAX, false, 0, 0).expect("a sound copy");
    assert_eq!(use_every_way(&sound, &manager), []);
    let of_table = rows_by_table(&rows);
    assert!(of_table.len() >= 25, "{:?}", of_table.keys());
    let mut state = 0xda3a_9ed5_u64;
    let mut tally = Tally::default();
    for rows_of in of_table.values() {
        let picked: std::collections::BTreeSet<usize> = [0, rows_of.len() / 2, rows_of.len() - 1]
            .into_iter()
            .map(|at| rows_of[at])
            .collect();
        for which in picked {
            tally.damage(&rows, which, &mut state, |i| use_every_way(i, &manager));
        }
    }
    let Tally {
        opened, failures, ..
    } = tally;
    assert!(opened > 1000, "{opened} damaged stores opened");
    assert!(failures.is_empty(), "{}\n{failures:#?}", failures.len());
}

/// A user's record rewritten with sound framing (what a file's author can
/// do, checksum and all): each edit that breaks a rule is named by
/// `check`, and no use of the store panics on any of them. (A custom
/// value of another type than its field's, and a birth date far off, are
/// allowed: a definition may change after values were written.)
#[test]
fn crafted_user_records_are_named_by_check_and_never_panic() {
    use roster::CustomValue;
    use roster::domain::user::User;
    use roster::store::testing;
    let (rows, manager) = world();
    let at = rows.iter().position(|r| r.0 == "users").expect("a user");
    let id = testing::u64_of(&rows[at].1).expect("an id");
    let user: User = testing::decode_record("user", id, &rows[at].2).expect("a record");
    type Edit = Box<dyn Fn(&mut User)>;
    let edits: Vec<(&str, Edit)> = vec![
        (
            "missing group",
            Box::new(|u| u.groups = vec![999, u64::MAX]),
        ),
        (
            "unknown permission",
            Box::new(|u| u.permissions = vec![u32::MAX]),
        ),
        (
            "missing field",
            Box::new(|u| {
                u.profile.custom = vec![(999, CustomValue::Text("x".into()))];
            }),
        ),
        (
            "",
            Box::new(|u| {
                u.profile.custom = vec![(1, CustomValue::Date(chrono::NaiveDate::MAX))];
            }),
        ),
        ("username index", Box::new(|u| u.username = String::new())),
        (
            "username index",
            Box::new(|u| u.username = "x".repeat(100_000)),
        ),
        (
            "not an instant",
            Box::new(|u| {
                (u.created, u.modified) = (i64::MIN, i64::MAX);
                (u.last_login, u.password_changed) = (Some(i64::MAX), i64::MIN);
            }),
        ),
        (
            "not an instant",
            Box::new(|u| u.locked_until = Some(i64::MAX)),
        ),
        (
            "password hash",
            Box::new(|u| u.password_hash = "garbage$$$".into()),
        ),
        (
            "credential_generation",
            Box::new(|u| u.credential_generation = u64::MAX),
        ),
        ("failed_logins", Box::new(|u| u.failed_logins = u32::MAX)),
        ("uuid index", Box::new(|u| u.uuid = 0)),
        (
            "",
            Box::new(|u| u.profile.birth_date = Some(chrono::NaiveDate::MAX)),
        ),
        (
            "email index",
            Box::new(|u| u.profile.email = "\u{0}x".into()),
        ),
        ("username index", Box::new(|u| u.id = 99)),
    ];
    for (named, edit) in edits {
        let mut edited = user.clone();
        edit(&mut edited);
        let mut rows = rows.clone();
        rows[at].2 = testing::encode_record("user", id, &edited).expect("framed");
        let i = store_of(&rows).expect("open");
        let problems = i.check_integrity().expect("check");
        match named {
            "" => assert_eq!(problems, Vec::<String>::new()),
            _ => assert!(
                problems.iter().any(|p| p.contains(named)),
                "{named}: {problems:?}"
            ),
        }
        let mut said = vec![("bad sign-in".to_string(), i.login("asha", "wrong").err())];
        said.push(("sign-in".into(), i.login("asha", PASSWORD).err()));
        let said = said
            .into_iter()
            .filter_map(|(what, e)| Some((what, e?.message().to_string())))
            .chain(use_every_way(&i, &manager))
            .collect();
        assert_eq!(from_a_panic(said), None, "{named}");
    }
}

/// The rows of the format-`version` store fixture, as bytes (a format
/// before 4 re-encoded, as opening it would before migrating it).
fn rows_of_fixture(version: u64) -> Vec<Row> {
    let dir = tempfile::tempdir().expect("temp dir");
    let name = format!("store-v{version}.redb");
    let path = dir.path().join(&name);
    std::fs::copy(roster_tests::own_fixtures().join(&name), &path).expect("fixture present");
    let tables = roster::store::testing::raw_tables(&path).expect("rows");
    tables
        .into_iter()
        .flat_map(|(table, rows)| rows.into_iter().map(move |(k, v)| (table.clone(), k, v)))
        .collect()
}

/// What reads every table a migration wrote: the check, a search, a list
/// and the export (the rest of the uses are those of
/// [`no_damaged_row_makes_roster_panic`]); what each use was, and its error
/// if it failed.
fn use_after_migrating(i: &Institute) -> Vec<(String, String)> {
    let a = i.operator();
    let uses: [(&str, roster::Result<()>); 4] = [
        ("check", i.check_integrity().map(drop)),
        (
            "search",
            a.list_users(&UserQuery {
                q: Some("o".into()),
                ..Default::default()
            })
            .map(drop),
        ),
        (
            "batches",
            a.list_batches(None, PageRequest::default()).map(drop),
        ),
        ("export", roster::transfer::export(&a, Vec::new()).map(drop)),
    ];
    uses.into_iter()
        .filter_map(|(what, r)| Some((what.to_string(), r.err()?.message().to_string())))
        .collect()
}

/// A store of every older format, a row of each table (picked from a
/// fixed seed) damaged every way as above before roster opens it: the
/// migration that runs on opening reads what it finds, and neither it nor
/// any later use panics.
#[test]
fn no_damaged_row_of_an_older_format_makes_roster_panic() {
    let mut state = 0x01d_f0a7_u64;
    let mut tally = Tally::default();
    for version in 1..roster::store::schema::CURRENT_VERSION {
        let rows = rows_of_fixture(version);
        let sound = damaged(&rows, usize::MAX, false, 0, 0).expect("a sound copy");
        assert_eq!(use_after_migrating(&sound), [], "format {version}");
        let failed = tally.failures.len();
        for rows_of in rows_by_table(&rows).values() {
            let which = rows_of[splitmix64(&mut state) as usize % rows_of.len()];
            tally.damage(&rows, which, &mut state, use_after_migrating);
        }
        for failure in &mut tally.failures[failed..] {
            *failure = format!("format {version}: {failure}");
        }
    }
    let Tally {
        opened,
        refused,
        failures,
    } = tally;
    // Both paths are walked (4,954 and 2,012 on 2026-12-07, once format
    // 12 checked each index entry against its record before sealing it).
    assert!(
        opened > 4500 && refused > 1000,
        "{opened} opened, {refused} refused"
    );
    assert!(failures.is_empty(), "{}\n{failures:#?}", failures.len());
}

/// A restore's target that holds no record but rows outside its record
/// tables (what damage or an edit of the file leaves) is refused, with
/// nothing restored: an index entry naming an id no record has is met by
/// the write of its key, refused as damage naming the index (each of the
/// nine unique indexes, its entry sealed, and the UUID index); a stray
/// relation row (a group member, a field holder, a batch member, a
/// managed user, a course link) by the check a restore runs over the
/// store it has written, naming the table. The same export restores into
/// a sound empty store.
#[test]
fn a_restore_into_a_store_holding_stray_rows_is_refused() {
    let (rows, _) = world();
    let dump = || {
        store_of(&rows)
            .expect("open")
            .operator()
            .dump()
            .expect("dump")
    };
    // Each case: the table, its stray row, and what the refusal says.
    let mut cases: Vec<(&str, Vec<u8>, Vec<u8>, String)> = Vec::new();
    for (table, named) in [
        ("user_by_username", "username"),
        ("user_by_email", "email"),
        ("user_by_phone", "phone"),
        ("batch_by_name", "batch name"),
        ("course_by_slug", "course slug"),
        ("custom_field_by_name", "custom field name"),
        ("group_by_name", "group name"),
        ("external_ids", "external id"),
        ("org_by_channel", "organisation channel"),
        ("uuids", "uuid"),
    ] {
        let (_, key, value) = rows
            .iter()
            .find(|(t, ..)| t == table)
            .unwrap_or_else(|| panic!("an entry of {table}"));
        let stray = match table {
            // The record's kind, and id 999.
            "uuids" => [&value[..1], &999u64.to_be_bytes()].concat(),
            _ => {
                let text = std::str::from_utf8(key).expect("a text key");
                roster::store::testing::index_value(table, text, 999)
            }
        };
        let said = format!("the {named} index disagrees with the records");
        cases.push((table, key.clone(), stray, said));
    }
    for (table, named) in [
        ("group_users", "group_users does not match"),
        ("field_users", "field_users does not match"),
        ("batch_members", "batch_members does not mirror"),
        ("managed_users", "managed_users does not match"),
        (
            "course_batches",
            "batch_courses does not mirror course_batches",
        ),
    ] {
        // A pair of ids no record of the export makes.
        let pair = [900u64.to_be_bytes(), 901u64.to_be_bytes()].concat();
        let said = format!("the export is inconsistent: {named}");
        cases.push((table, pair, Vec::new(), said));
    }
    for (table, key, value, said) in cases {
        let backend = Arc::new(ModelBackend::new());
        let (config, _) = config(SEED_NOW);
        let i = Institute::open_with(backend.clone(), config).expect("empty store");
        backend
            .write(&mut |w| w.put(table, &key, &value))
            .expect("stray row");
        let err = i.operator().restore(dump()).unwrap_err();
        assert_eq!(err.code(), roster::ErrorCode::Corrupt, "{table}: {err}");
        assert!(err.message().contains(&said), "{table}: {err}");
        assert_eq!(
            i.operator()
                .list_users(&Default::default())
                .expect("list")
                .count,
            0,
            "{table}: nothing restored"
        );
    }
    let (config, _) = config(SEED_NOW);
    let i = Institute::open_with(Arc::new(ModelBackend::new()), config).expect("empty store");
    i.operator().restore(dump()).expect("restore");
}

/// A username two users share, as the NFKC migration keeps them (both
/// users, the key to the lower id): the other user still changes its
/// other fields. The key it keeps unchanged is its own, not another's.
#[test]
fn a_user_sharing_a_kept_username_still_changes_its_other_fields() {
    use roster::domain::user::User;
    use roster::store::testing;
    let backend = Arc::new(ModelBackend::new());
    let (config, _) = config(SEED_NOW);
    let i = Institute::open_with(backend.clone(), config.clone()).expect("store");
    let create_in = |i: &Institute, name: &str| {
        let input = roster::NewUser {
            username: Some(name.into()),
            password: Some(format!("{name}-pass-1")),
            ..Default::default()
        };
        let created = i.operator().create_user(input, Default::default());
        created.expect("user").user.id
    };
    let create = |name: &str| create_in(&i, name);
    let (asha, ravi) = (create("asha"), create("ravi"));
    drop(i);
    let key = testing::u64_bytes(ravi);
    backend
        .write(&mut |w| {
            let bytes = w.get("users", &key)?.expect("ravi's record");
            let mut user: User = testing::decode_record("user", ravi, &bytes)?;
            user.username = "ASHA".into();
            w.put("users", &key, &testing::encode_record("user", ravi, &user)?)?;
            w.delete("user_by_username", &testing::text_bytes("ravi"))?;
            Ok(())
        })
        .expect("the migrated shape");
    let i = Institute::open_with(backend, config).expect("reopened");
    assert_eq!(i.operator().find_user("asha").expect("asha"), asha);
    // Its whole form sent back, the username as it is (as a PUT does).
    let patch = roster::UserPatch {
        username: Some("ASHA".into()),
        profile: ProfileInput {
            first_name: Some("Ravi".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let changed = i.operator().update_user(ravi, patch).expect("changed");
    assert_eq!(changed.first_name, "Ravi");
    // Another user may not take the name, in any case.
    let patch = roster::UserPatch {
        username: Some("Asha".into()),
        ..Default::default()
    };
    let third = create_in(&i, "kiran");
    let err = i.operator().update_user(third, patch).unwrap_err();
    assert_eq!(err.code(), roster::ErrorCode::Validation, "{err}");
}
