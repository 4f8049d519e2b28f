//! The on-disk format: files written by earlier versions open (and migrate),
//! files of a newer version or of another program are refused clearly.

use roster::{ErrorCode, Institute};
use roster_tests::{SEED_NOW, config, expect, own_fixtures};
use serde_json::json;
use std::path::{Path, PathBuf};

const V1: &str = "store-v1.redb";
const V2: &str = "store-v2.redb";
const V3: &str = "store-v3.redb";
const V4: &str = "store-v4.redb";
const V5: &str = "store-v5.redb";
const V6: &str = "store-v6.redb";
const V7: &str = "store-v7.redb";
const V8: &str = "store-v8.redb";
const V9: &str = "store-v9.redb";
const V10: &str = "store-v10.redb";
const V11: &str = "store-v11.redb";
const V12: &str = "store-v12.redb";
const V13: &str = "store-v13.redb";
const V14: &str = "store-v14.redb";

fn copy_of(fixture: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(fixture);
    std::fs::copy(own_fixtures().join(fixture), &path).expect("fixture present");
    (dir, path)
}

/// What the v1 fixture holds (see `write_v1_fixture`).
fn fill(i: &Institute) {
    let post = |path: &str, body: serde_json::Value| {
        expect(
            i,
            "POST",
            &format!("/api/v2.5/admin/{path}"),
            Some(body),
            201,
        )
    };
    post("batches/", json!({"name": "Test Batch"}));
    post("batches/", json!({"name": "UPSC Morning Batch"}));
    post(
        "custom-fields/",
        json!({"name": "Graduation Year", "type": "number"}),
    );
    post(
        "courses/",
        json!({"title": "Language training", "is_public": true}),
    );
    post("courses/1/batches/", json!({"batches": [1]}));
    post(
        "users/",
        json!({"username": "lorem", "password": "ipsum1$", "first_name": "John", "last_name": "Appleseed",
        "email": "test@example.com", "birth_date": "03/07/2016", "state": "IN-TN", "phone": "9787231006",
        "batches": ["Test Batch", "UPSC Morning Batch"], "expires": "2023-01-13", "custom_fields": {"Graduation Year": 2020}}),
    );
    post(
        "users/",
        json!({"username": "goodboy", "password": "welcome1"}),
    );
    post("users/2/courses/", json!({"courses": [1]}));
}

/// What the v2 fixture adds: a group, a staff member holding it, a
/// session, queued credentials.
fn fill_v2(i: &Institute) {
    let admin = i.operator();
    let group = admin
        .create_group(roster::GroupInput {
            name: Some("Registrars".into()),
            permissions: Some(vec![1, 2, 3]),
        })
        .expect("group");
    let staff = roster::NewUser {
        username: Some("registrar".into()),
        password: Some("registrar-1".into()),
        profile: roster::ProfileInput {
            email: Some("registrar@example.com".into()),
            ..Default::default()
        },
        access: roster::AccessInput {
            is_staff: Some(true),
            groups: Some(vec![group.id]),
            user_permissions: Some(vec![5]),
            ..Default::default()
        },
        ..Default::default()
    };
    let options = roster::CreateOptions {
        notify_credential: true,
        ..Default::default()
    };
    admin.create_user(staff, options).expect("staff");
    i.login("registrar", "registrar-1").expect("sign-in");
}

/// A Sunbird request as the operator, which must succeed: its `result`.
fn sunbird(i: &Institute, method: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
    let request = roster::rest::Request::new(method, path)
        .with_header("Content-Type", "application/json")
        .with_body(body.to_string());
    let r = roster::rest::handle_as(&i.operator(), request);
    assert_eq!(r.status, 200, "{method} {path}: {:?}", r.body);
    r.json()["result"].clone()
}

/// What the v5 fixture adds: an organisation, a Sunbird user with external
/// ids, a location, a role, a declaration and accepted terms, and a user it
/// manages.
fn fill_v5(i: &Institute) {
    sunbird(
        i,
        "POST",
        "/api/data/v1/system/settings/set",
        json!({"request": {"id": "tncConfig", "field": "tncConfig", "value": "{\"latestVersion\":\"v1\"}"}}),
    );
    let org = sunbird(
        i,
        "POST",
        "/api/org/v1/create",
        json!({"request": {"orgName": "State Board", "organisationType": "board", "channel": "state1", "isTenant": true}}),
    )["organisationId"]
        .clone();
    let parent = sunbird(
        i,
        "POST",
        "/api/user/v1/sso/create",
        json!({"request": {"firstName": "Sunita", "lastName": "Rao", "userName": "sunita rao",
            "email": "sunita@example.com", "password": "sunita-pass-1", "channel": "state1",
            "externalIds": [{"id": "S-1", "provider": "state1", "idType": "state1"}],
            "profileLocation": [{"code": "29", "type": "state"}], "language": ["kn"]}}),
    )["userId"]
        .clone();
    sunbird(
        i,
        "POST",
        "/api/user/v1/role/assign",
        json!({"request": {"userId": parent, "organisationId": org, "roles": ["ORG_ADMIN"]}}),
    );
    sunbird(
        i,
        "PATCH",
        "/api/user/v1/declarations",
        json!({"request": {"declarations": [{"operation": "add", "userId": parent, "orgId": "state1",
            "persona": "teacher", "info": {"school": "GHS"}}]}}),
    );
    sunbird(
        i,
        "POST",
        "/api/user/v4/create",
        json!({"request": {"firstName": "Kid", "managedBy": parent}}),
    );
    let token = i
        .login("sunita rao", "sunita-pass-1")
        .expect("sign-in")
        .token;
    let accept = roster::rest::Request::new("POST", "/api/user/v1/tnc/accept")
        .with_header("x-authenticated-user-token", &token)
        .with_body(json!({"request": {"version": "v1"}}).to_string());
    assert_eq!(roster::rest::handle(i, accept).status, 200);
}

/// What the v10 fixture adds: a shadow account, an SSO user of channel
/// `state1` with external id `H-1` that has never signed in (S11).
fn fill_v10(i: &Institute) {
    sunbird(
        i,
        "POST",
        "/api/user/v1/sso/create",
        json!({"request": {"firstName": "Hari", "phone": "9876500001", "channel": "state1",
            "externalIds": [{"id": "H-1", "provider": "state1", "idType": "state1"}]}}),
    );
}

/// Writes the fixture of the current format, `store-v<N>.redb`. Run by hand
/// only when adding a format version:
/// `cargo test -p roster-tests --test integration write_current_fixture -- --ignored`
/// Never regenerate an older version's file: it must stay as that version
/// wrote it.
#[test]
#[ignore = "writes tests/fixtures/store-v<current>.redb"]
fn write_current_fixture() {
    let path = own_fixtures().join(format!("store-v{}.redb", Institute::schema_version()));
    let _ = std::fs::remove_file(&path);
    let (config, _) = config(SEED_NOW);
    let i = Institute::open(&path, config).expect("create");
    fill(&i);
    fill_v2(&i);
    fill_v5(&i);
    fill_v10(&i);
    drop(i);
    roster::store::testing::compact(&path).expect("compact");
    // Closed stores need no journal: the fixture is the one file.
    let mut journal = path.clone().into_os_string();
    journal.push("-journal");
    let _ = std::fs::remove_file(journal);
}

#[test]
fn the_v1_fixture_opens_with_everything_in_it() {
    let (_dir, path) = copy_of(V1);
    let (config, _) = config(SEED_NOW);
    let i = Institute::open(&path, config).expect("open v1");
    assert!(i.check_integrity().expect("check").is_empty());
    let user = expect(
        &i,
        "GET",
        "/api/v2.5/admin/users/?email=TEST@example.com",
        None,
        200,
    );
    let u = &user["results"][0];
    assert_eq!(
        (
            u["username"].as_str(),
            u["state"].as_str(),
            u["birth_date"].as_str()
        ),
        (Some("lorem"), Some("Tamil Nadu"), Some("03/07/2016"))
    );
    assert_eq!(u["custom_fields"], json!({"Graduation Year": 2020}));
    assert_eq!(u["batches"].as_array().map(Vec::len), Some(2));
    let subs = expect(
        &i,
        "GET",
        "/api/v2.5/admin/users/1/subscriptions/",
        None,
        200,
    );
    assert_eq!(subs["results"][0]["expires"], "2023-01-13");
    let courses = expect(&i, "GET", "/api/v2.5/admin/users/2/courses/", None, 200);
    assert_eq!(courses["results"][0]["slug"], "language-training");
    // The counters carried over: new ids continue after the old ones.
    let created = expect(
        &i,
        "POST",
        "/api/v2.5/admin/users/",
        Some(json!({"username": "new", "password": "ipsum1$"})),
        201,
    );
    assert_eq!(created["id"], 3);
}

#[test]
fn the_v1_fixture_migrates_to_users_without_access() {
    let (_dir, path) = copy_of(V1);
    let (config, _) = config(SEED_NOW);
    let i = Institute::open(&path, config).expect("open v1");
    let admin = i.operator();
    let lorem = admin.get_user(1).expect("user 1");
    assert!(
        !lorem.is_staff
            && !lorem.is_superuser
            && lorem.groups.is_empty()
            && lorem.last_login.is_none()
    );
    // The v1 password still signs in after the migration.
    assert_eq!(i.login("lorem", "ipsum1$").expect("sign-in").user, 1);
}

#[test]
fn the_v2_fixture_opens_with_groups_sessions_and_outbox() {
    let (_dir, path) = copy_of(V2);
    let (config, _) = config(SEED_NOW);
    let i = Institute::open(&path, config).expect("open v2");
    assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
    let admin = i.operator();
    let groups = admin
        .list_groups(Some("registrars"), roster::PageRequest::default())
        .expect("groups");
    assert_eq!(groups.items[0].permissions, vec![1, 2, 3]);
    let registrar = admin
        .list_users(&roster::UserQuery {
            q: Some("registrar".into()),
            ..Default::default()
        })
        .expect("list");
    let r = &registrar.items[0];
    assert!(r.is_staff && r.last_login.is_some());
    assert_eq!(r.user_permissions, vec![5]);
    assert_eq!(admin.take_outbox().expect("outbox").len(), 2);
    assert!(i.login("registrar", "registrar-1").is_ok());
}

fn set_version(path: &Path, version: u64) {
    use roster::store::testing::{raw_put, text_bytes, u64_bytes};
    raw_put(
        path,
        "meta",
        &text_bytes("schema_version"),
        &u64_bytes(version),
    )
    .expect("raw write");
}

#[test]
fn a_store_of_a_newer_format_is_refused_untouched() {
    let (_dir, path) = copy_of(V1);
    set_version(&path, Institute::schema_version() + 1);
    let (config, _) = config(SEED_NOW);
    let err = Institute::open(&path, config).unwrap_err();
    assert_eq!(err.code(), ErrorCode::SchemaTooNew);
    assert!(err.message().contains("upgrade roster"), "{err}");
    // Nothing was migrated or written: the version and the data are as they were.
    use roster::store::testing::{raw_rows, u64_of};
    let meta = raw_rows(&path, "meta").expect("meta");
    let version = meta.iter().find(|(k, _)| k == b"schema_version");
    assert_eq!(
        version.and_then(|(_, v)| u64_of(v)),
        Some(Institute::schema_version() + 1)
    );
    assert_eq!(raw_rows(&path, "users").expect("users").len(), 2);
}

#[test]
fn a_redb_file_of_another_program_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("other.redb");
    roster::store::testing::foreign_database(&path).expect("create");
    let (config, _) = config(SEED_NOW);
    let err = Institute::open(&path, config).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Corrupt);
    assert!(err.message().contains("not a roster store"), "{err}");
}

/// Files that are no roster store: random bytes, a text file, a SQLite
/// database, a few bytes, redb's header cut short, and redb's magic number
/// followed by garbage.
fn not_stores() -> Vec<(&'static str, Vec<u8>)> {
    // Bytes that look random, the same on every run.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let random: Vec<u8> = (0..20_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let mut sqlite = b"SQLite format 3\0".to_vec();
    sqlite.extend_from_slice(&[0x10, 0x00, 0x01, 0x01]);
    sqlite.resize(8192, 0);
    let magic = [b'r', b'e', b'd', b'b', 0x1A, 0x0A, 0xA9, 0x0D, 0x0A];
    let mut magic_then_garbage = magic.to_vec();
    magic_then_garbage.extend_from_slice(&random[..4096]);
    vec![
        ("random bytes", random),
        (
            "a text file",
            "these are not the bytes you are looking for\n"
                .repeat(200)
                .into_bytes(),
        ),
        ("a SQLite database", sqlite),
        ("three bytes", vec![0xFF, 0x00, 0x7F]),
        ("redb's header cut short", magic[..5].to_vec()),
        ("redb's magic number, then garbage", magic_then_garbage),
    ]
}

#[test]
fn a_file_that_is_not_a_store_is_corrupt_store_and_is_left_as_it_was() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (i, (what, bytes)) in not_stores().into_iter().enumerate() {
        for shared in [false, true] {
            let path = dir.path().join(format!("not-a-store-{i}-{shared}"));
            std::fs::write(&path, &bytes).expect("write");
            let (config, _) = config(SEED_NOW);
            let opened = if shared {
                Institute::open_shared(&path, config)
            } else {
                Institute::open(&path, config)
            };
            let err = opened.expect_err(what);
            assert_eq!(err.code(), ErrorCode::Corrupt, "{what}: {err:?}");
            assert!(
                err.message().contains("not a") && err.message().contains("roster store"),
                "{what}: {err}"
            );
            assert_eq!(
                std::fs::read(&path).expect("read"),
                bytes,
                "{what}: the file was written"
            );
        }
    }
}

#[test]
fn a_text_or_sqlite_file_is_named_for_what_it_looks_like() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (what, words) in [
        ("a text file", "looks like text"),
        ("a SQLite database", "SQLite database"),
    ] {
        let bytes = not_stores()
            .into_iter()
            .find(|(w, _)| *w == what)
            .expect("kind")
            .1;
        let path = dir.path().join("file");
        std::fs::write(&path, bytes).expect("write");
        let (config, _) = config(SEED_NOW);
        let err = Institute::open(&path, config).unwrap_err();
        assert!(err.message().contains(words), "{what}: {err}");
    }
}

#[test]
fn an_empty_file_becomes_a_new_store() {
    // What `mktemp` leaves: opened for writing, it is a missing file's twin.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("empty.redb");
    std::fs::write(&path, b"").expect("write");
    let (config, _) = config(SEED_NOW);
    let institute = Institute::open(&path, config).expect("open");
    assert!(institute.check_integrity().expect("check").is_empty());
}

/// What a store holds, as the API shows it, without what differs between
/// two fills (UUIDs, password hashes, instants).
fn contents(i: &Institute) -> serde_json::Value {
    let admin = i.operator();
    let all = roster::PageRequest {
        page: 1,
        per_page: Some(1000),
    };
    let users: Vec<_> = admin
        .list_users(&roster::UserQuery::default())
        .expect("users")
        .items
        .into_iter()
        .map(|u| {
            let batches: Vec<String> = u.batches.iter().flatten().map(|b| b.name.clone()).collect();
            json!([
                u.id,
                u.username,
                u.email,
                u.is_staff,
                u.groups,
                u.user_permissions,
                batches
            ])
        })
        .collect();
    let batches: Vec<_> = admin
        .list_batches(None, all)
        .expect("batches")
        .items
        .into_iter()
        .map(|b| json!([b.id, b.name]))
        .collect();
    let subs: Vec<_> = (1..=3)
        .map(|u| {
            expect(
                i,
                "GET",
                &format!("/api/v2.5/admin/users/{u}/subscriptions/"),
                None,
                200,
            )["results"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|s| json!([s["batch"], s["expires"]]))
                        .collect::<Vec<_>>()
                })
        })
        .collect();
    let groups: Vec<_> = admin
        .list_groups(None, all)
        .expect("groups")
        .items
        .into_iter()
        .map(|g| json!([g.id, g.name, g.permissions]))
        .collect();
    json!({"users": users, "batches": batches, "subscriptions": subs, "groups": groups})
}

#[test]
fn the_v3_fixture_opens_sound_and_signs_in() {
    let (_dir, path) = copy_of(V3);
    let (config, _) = config(SEED_NOW);
    let i = Institute::open(&path, config).expect("open v3");
    assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
    assert!(i.login("registrar", "registrar-1").is_ok());
    assert_eq!(i.login("lorem", "ipsum1$").expect("sign-in").user, 1);
    assert_eq!(i.operator().take_outbox().expect("outbox").len(), 2);
}

#[test]
fn the_v4_fixture_opens_sound_and_signs_in() {
    let (_dir, path) = copy_of(V4);
    let (config, _) = config(SEED_NOW);
    let i = Institute::open(&path, config).expect("open v4");
    assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
    assert!(i.login("registrar", "registrar-1").is_ok());
    assert_eq!(i.login("lorem", "ipsum1$").expect("sign-in").user, 1);
    assert_eq!(i.operator().take_outbox().expect("outbox").len(), 2);
}

#[test]
fn the_v5_fixture_opens_with_its_sunbird_records() {
    let (_dir, path) = copy_of(V5);
    let (config, _) = config(SEED_NOW);
    let i = Institute::open(&path, config).expect("open v5");
    assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
    assert_eq!(i.login("lorem", "ipsum1$").expect("sign-in").user, 1);
    let found = sunbird(
        &i,
        "POST",
        "/api/user/v3/search",
        json!({"request": {"filters": {"externalIds.id": "s-1", "channel": "STATE1"}}}),
    );
    let user = &found["response"]["content"][0];
    assert_eq!(user["userName"], "sunita rao");
    assert_eq!(user["roles"][0]["role"], "ORG_ADMIN");
    assert_eq!(
        user["userLocations"],
        json!([{"code": "29", "type": "state"}])
    );
    let id = user["id"].as_str().expect("id").to_string();
    let read = sunbird(
        &i,
        "GET",
        &format!("/api/user/v1/read/{id}?fields=declarations"),
        json!({}),
    );
    let read = &read["response"];
    assert_eq!(read["tncAcceptedVersion"], "v1");
    assert_eq!(read["promptTnC"], false);
    assert_eq!(read["declarations"][0]["info"], json!({"school": "GHS"}));
    let managed = sunbird(&i, "GET", &format!("/api/user/v1/managed/{id}"), json!({}));
    assert_eq!(managed["response"]["count"], 1);
}

/// Searches of four characters, which format 6's grams answer from the
/// index alone: Testpress's `q` and Sunbird's `query` (first name).
fn four_character_searches_find_sunita(i: &Institute) {
    let listed = expect(i, "GET", "/api/v2.5/admin/users/?q=NITA", None, 200);
    assert_eq!(listed["count"], 1, "{listed}");
    assert_eq!(listed["results"][0]["username"], "sunita rao");
    let found = sunbird(
        i,
        "POST",
        "/api/user/v1/search",
        json!({"request": {"filters": {}, "query": "unit"}}),
    );
    assert_eq!(found["response"]["count"], 1, "{found}");
    let none = sunbird(
        i,
        "POST",
        "/api/user/v1/search",
        json!({"request": {"filters": {}, "query": "unix"}}),
    );
    assert_eq!(none["response"]["count"], 0, "{none}");
}

#[test]
fn a_v5_store_gets_four_character_grams_and_settled_keys() {
    let (_dir, path) = copy_of(V5);
    let (config, _) = config(SEED_NOW);
    let i = Institute::open(&path, config).expect("open v5");
    assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
    four_character_searches_find_sunita(&i);
    // Every key is its own key now: a name that lower-cases into a
    // composable pair and its composed form are one name.
    let body = json!({"name": "Team Y\u{30a}"});
    expect(&i, "POST", "/api/admin/groups/", Some(body), 201);
    let body = json!({"name": "team \u{1e99}"});
    expect(&i, "POST", "/api/admin/groups/", Some(body), 400);
}

#[test]
fn the_v6_fixture_opens_sound_and_searches_from_its_grams() {
    let (_dir, path) = copy_of(V6);
    let (config, _) = config(SEED_NOW);
    let i = Institute::open(&path, config).expect("open v6");
    assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
    assert_eq!(i.login("lorem", "ipsum1$").expect("sign-in").user, 1);
    four_character_searches_find_sunita(&i);
}

#[test]
fn a_v6_store_gets_an_empty_change_feed_numbered_from_one() {
    let (_dir, path) = copy_of(V6);
    let (config, _) = config(SEED_NOW);
    let i = Institute::open(&path, config).expect("open v6");
    let admin = i.operator();
    // What happened before format 7 was not recorded.
    let page = admin.changes_since(0, 100).expect("feed");
    assert!(page.changes.is_empty());
    assert_eq!(page.next, 0);
    admin
        .create_batch(roster::BatchInput {
            name: Some("After".into()),
        })
        .expect("batch");
    let page = admin.changes_since(0, 100).expect("feed");
    assert_eq!(page.changes.len(), 1);
    assert_eq!(page.changes[0].seq, 1);
    assert_eq!(page.changes[0].entity, roster::Entity::Batch);
    assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
}

#[test]
fn the_v7_fixture_opens_with_its_change_feed() {
    opens_with_its_change_feed(V7);
}

#[test]
fn the_v8_fixture_opens_with_its_change_feed() {
    opens_with_its_change_feed(V8);
}

#[test]
fn the_v9_fixture_opens_with_its_change_feed() {
    opens_with_its_change_feed(V9);
}

#[test]
fn the_v10_fixture_opens_with_its_change_feed() {
    opens_with_its_change_feed(V10);
}

#[test]
fn the_v11_fixture_opens_with_its_change_feed() {
    opens_with_its_change_feed(V11);
}

#[test]
fn the_v12_fixture_opens_with_its_change_feed() {
    opens_with_its_change_feed(V12);
}

#[test]
fn the_v13_fixture_opens_with_its_change_feed() {
    opens_with_its_change_feed(V13);
}

#[test]
fn the_v14_fixture_opens_with_its_change_feed() {
    opens_with_its_change_feed(V14);
}

/// Page `offset`, `limit` of the organisations.
fn org_page(
    admin: &roster::Admin,
    offset: u64,
    limit: u64,
) -> roster::api::sunbird::OrgSearchResult {
    admin
        .search_organisations(&roster::api::sunbird::OrgSearch {
            offset,
            limit: Some(limit),
            ..Default::default()
        })
        .expect("a page")
}

/// The organisations in one page of 100, after checking that a page of
/// one at every offset gives the same organisation and the same count.
fn org_pages_of_one_walk_the_whole(admin: &roster::Admin) -> roster::api::sunbird::OrgSearchResult {
    let whole = org_page(admin, 0, 100);
    assert_eq!(whole.count, whole.content.len() as u64);
    for n in 0..whole.count {
        let one = org_page(admin, n, 1);
        assert_eq!(one.count, whole.count);
        assert_eq!(
            one.content,
            vec![whole.content[n as usize].clone()],
            "offset {n}"
        );
    }
    whole
}

/// A tenant organisation named `name` of channel `channel`.
fn tenant(name: &str, channel: &str) -> roster::api::sunbird::OrgInput {
    roster::api::sunbird::OrgInput {
        name: Some(name.into()),
        org_type: Some("board".into()),
        channel: Some(channel.into()),
        is_tenant: Some(true),
        ..Default::default()
    }
}

/// Format 14's step on a store with organisations in several blocks of
/// ids: their position counts are removed and the store marked format 13;
/// opened, it counts them again, and a page of one at every offset gives
/// the organisation a page of all gives there.
#[test]
fn format_14_counts_the_organisations_of_a_format_13_store() {
    use roster::store::testing::{raw_delete, raw_rows};
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.redb");
    let (config, _) = config(SEED_NOW);
    let i = Institute::open(&path, config.clone()).expect("create");
    for n in 0..40 {
        i.operator()
            .create_organisation(tenant(&format!("Board {n}"), &format!("board{n}")))
            .expect("an organisation");
    }
    drop(i);
    let mut removed = 0;
    for (key, _) in raw_rows(&path, "counts").expect("raw read") {
        if key[0] == 5 {
            raw_delete(&path, "counts", &key).expect("raw delete");
            removed += 1;
        }
    }
    assert!(removed >= 3, "{removed} rows");
    set_version(&path, 13);
    let i = Institute::open(&path, config).expect("open");
    assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
    let admin = i.operator();
    let whole = org_pages_of_one_walk_the_whole(&admin);
    assert_eq!(whole.count, 40);
    assert_eq!(
        org_page(&admin, 17, 5).content,
        whole.content[17..22].to_vec()
    );
}

/// Format 14's step on the format-13 fixture: the organisations gain their
/// position counts (`check` finds them right), and paging them one by one
/// walks the list as one big page does.
#[test]
fn a_v13_store_counts_its_organisations_for_paging() {
    let (_dir, path) = copy_of(V13);
    let (config, _) = config(SEED_NOW);
    let i = Institute::open(&path, config).expect("open");
    assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
    let admin = i.operator();
    let whole = org_pages_of_one_walk_the_whole(&admin);
    assert_eq!(whole.count, 1, "the fixture's one organisation: {whole:?}");
    let ids: Vec<u64> = whole.content.iter().map(|o| o.id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    // The counts follow a new organisation.
    admin
        .create_organisation(tenant("New", "new1"))
        .expect("a new organisation");
    assert_eq!(org_page(&admin, 0, 100).count, whole.count + 1);
    assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
}

/// Format 13 lets new users' grams wait, unmerged, in their own table: the
/// v13 fixture's users all wait (their group of ids never ended), a v12
/// store of the same users has none waiting, and searches of both find the
/// same users.
#[test]
fn format_13_finds_users_whose_grams_wait_unmerged() {
    use roster::store::testing::raw_rows;
    let found = |fixture: &str| {
        let (_dir, path) = copy_of(fixture);
        let waiting = raw_rows(&path, "grams_unmerged").expect("raw read").len();
        let (config, _) = config(SEED_NOW);
        let i = Institute::open(&path, config).expect("open");
        assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
        let results: Vec<serde_json::Value> = ["e", "EXAMPLE.COM", "sunita rao", "lorem"]
            .iter()
            .map(|q| {
                let page = format!("/api/v2.5/admin/users/?q={}", q.replace(' ', "%20"));
                expect(&i, "GET", &page, None, 200)["results"].clone()
            })
            .collect();
        (waiting, results)
    };
    let (none, v12) = found(V12);
    let (some, v13) = found(V13);
    assert_eq!((none, some), (0, 6));
    assert_eq!(v12, v13);
    assert!(
        v13.iter()
            .all(|r| !r.as_array().expect("a list").is_empty())
    );
}

/// The unique indexes of a store file, as stored: (table, key, value).
fn index_rows(path: &Path) -> Vec<(&'static str, Vec<u8>, Vec<u8>)> {
    let tables = [
        "user_by_username",
        "user_by_email",
        "user_by_phone",
        "batch_by_name",
        "course_by_slug",
        "custom_field_by_name",
        "group_by_name",
        "external_ids",
        "org_by_channel",
    ];
    let mut out = Vec::new();
    for table in tables {
        for (key, value) in roster::store::testing::raw_rows(path, table).expect("raw read") {
            out.push((table, key, value));
        }
    }
    out
}

/// Format 12 seals every unique index entry: a format-11 store's entries
/// (bare ids) gain their seals when it is opened, each the same id under
/// the same key, and the store checks sound.
#[test]
fn format_12_seals_the_index_entries_of_a_format_11_store() {
    use roster::store::testing::{index_value, u64_of};
    let (_dir, path) = copy_of(V11);
    let before = index_rows(&path);
    let tables: std::collections::BTreeSet<&str> = before.iter().map(|r| r.0).collect();
    assert_eq!(tables.len(), 9, "every index holds an entry: {tables:?}");
    assert!(before.iter().all(|(_, _, v)| v.len() == 8), "bare ids");
    // `roster check` reads an older store as opening would migrate it.
    assert!(
        roster::store::recover::check(&path)
            .expect("check")
            .is_sound()
    );
    let (config, _) = config(SEED_NOW);
    let i = Institute::open(&path, config).expect("open");
    assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
    assert_eq!(i.operator().find_user("TEST@example.com").expect("find"), 1);
    drop(i);
    let after = index_rows(&path);
    assert_eq!(after.len(), before.len());
    for ((table, key, bare), (t, k, sealed)) in before.iter().zip(&after) {
        assert_eq!((table, key), (t, k));
        let key = std::str::from_utf8(key).expect("text key");
        let id = u64_of(bare).expect("an id");
        assert_eq!(*sealed, index_value(table, key, id), "{table} {key}");
    }
}

/// A format-11 store whose index entry is not an id (damaged) is not
/// migrated: the open is a `corrupt_store` error naming the index, and the
/// file keeps its format and its entry, for `check` and `recover`.
#[test]
fn a_format_11_store_with_a_damaged_index_entry_is_refused_unmigrated() {
    use roster::store::testing::{raw_put, raw_rows, text_bytes, u64_of};
    let (_dir, path) = copy_of(V11);
    raw_put(
        &path,
        "course_by_slug",
        &text_bytes("language-training"),
        &[0, 0, 1],
    )
    .expect("raw write");
    let (config, _) = config(SEED_NOW);
    let err = Institute::open(&path, config).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Corrupt, "{err}");
    assert!(err.message().contains("course_by_slug"), "{err}");
    let report = roster::store::recover::check(&path).expect("check");
    assert!(
        report.problems.iter().any(|p| p.contains("course_by_slug")),
        "{report:?}"
    );
    let meta = raw_rows(&path, "meta").expect("meta");
    let version = meta.iter().find(|(k, _)| k == b"schema_version");
    assert_eq!(version.and_then(|(_, v)| u64_of(v)), Some(11));
    assert!(index_rows(&path).iter().all(|(t, _, v)| match *t {
        "course_by_slug" => v == &[0, 0, 1],
        _ => v.len() == 8,
    }));
}

/// A format-11 index entry that is a well-formed id of another record
/// (two users' username entries swapped) is not sealed as sound: format
/// 12 makes reads trust sealed entries, so the migration checks each entry
/// against its record and refuses the open, leaving the file unmigrated.
#[test]
fn a_format_11_index_entry_naming_another_record_is_refused_unmigrated() {
    use roster::store::testing::{raw_put, raw_rows, u64_of};
    let (_dir, path) = copy_of(V11);
    let rows = raw_rows(&path, "user_by_username").expect("raw read");
    assert!(rows.len() >= 2, "{rows:?}");
    let ((a, a_id), (b, b_id)) = (rows[0].clone(), rows[1].clone());
    raw_put(&path, "user_by_username", &a, &b_id).expect("raw write");
    raw_put(&path, "user_by_username", &b, &a_id).expect("raw write");
    let (config, _) = config(SEED_NOW);
    let err = Institute::open(&path, config).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Corrupt, "{err}");
    assert!(err.message().contains("user_by_username"), "{err}");
    let meta = raw_rows(&path, "meta").expect("meta");
    let version = meta.iter().find(|(k, _)| k == b"schema_version");
    assert_eq!(version.and_then(|(_, v)| u64_of(v)), Some(11));
}

/// Format 11 folds case fully: a format-10 store, whose username index
/// holds `straße` under its plain lower case, has its indexes rebuilt when
/// opened, and `STRASSE` then names the user (before, it named no one).
#[test]
fn format_11_refolds_the_name_indexes_of_a_format_10_store() {
    use roster::store::testing::{raw_delete, raw_put, raw_rows, text_bytes};
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.redb");
    let (config, _) = config(SEED_NOW);
    let i = Institute::open(&path, config.clone()).expect("create");
    fill(&i);
    expect(
        &i,
        "POST",
        "/api/v2.5/admin/users/",
        Some(json!({"username": "Straße", "password": "ipsum1$"})),
        201,
    );
    drop(i);
    // The index entry as format 10 keyed it.
    let rows = raw_rows(&path, "user_by_username").expect("raw read");
    let (_, id) = rows
        .iter()
        .find(|(key, _)| *key == text_bytes("strasse"))
        .expect("format 11's key")
        .clone();
    raw_delete(&path, "user_by_username", &text_bytes("strasse")).expect("raw delete");
    raw_put(&path, "user_by_username", &text_bytes("straße"), &id).expect("raw put");
    set_version(&path, 10);
    let i = Institute::open(&path, config).expect("open");
    assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
    assert!(i.login("STRASSE", "ipsum1$").is_ok());
    assert!(i.login("straße", "ipsum1$").is_ok());
    let taken = roster_tests::call(
        &i,
        "POST",
        "/api/v2.5/admin/users/",
        Some(json!({"username": "strasse", "password": "ipsum1$"})),
    );
    assert_eq!(taken.status, 400, "{:?}", taken.body);
}

/// Format 10 keeps which users an SSO create made: the fixture's shadow
/// account is claimed by a user who signs in and names its external id.
#[test]
fn the_shadow_account_of_the_v10_fixture_is_claimed() {
    let (_dir, path) = copy_of(V10);
    let (config, _) = config(SEED_NOW);
    let i = Institute::open(&path, config).expect("open");
    let claimant = sunbird(
        &i,
        "POST",
        "/api/user/v1/create",
        json!({"request": {"firstName": "Hari", "email": "hari@example.com", "password": "Pass@1word"}}),
    )["userId"]
        .clone();
    let token = i
        .login("hari@example.com", "Pass@1word")
        .expect("sign-in")
        .token;
    let claim = roster::rest::Request::new("POST", "/api/user/v1/migrate")
        .with_header("x-authenticated-user-token", &token)
        .with_body(
            json!({"request": {"userId": claimant, "channel": "state1", "action": "accept",
                "userExtId": "h-1", "feedId": "f"}})
            .to_string(),
        );
    let r = roster::rest::handle(&i, claim);
    assert_eq!(r.json()["responseCode"], "OK", "{:?}", r.body);
    assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
}

/// A format-8 store gains the position counts of its batches, courses and
/// groups: `check` finds them right, and paging one by one walks the lists
/// as one big page does, course batches left out.
#[test]
fn a_v8_store_counts_its_batches_courses_and_groups_for_paging() {
    let (_dir, path) = copy_of(V8);
    let (config, _) = config(SEED_NOW);
    let i = Institute::open(&path, config).expect("open");
    assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
    let admin = i.operator();
    let batches = pages_of_one_walk_the_whole(|p| admin.list_batches(None, p));
    assert!(batches.len() >= 2 && batches.iter().all(|b| !b.is_local));
    assert!(!pages_of_one_walk_the_whole(|p| admin.list_courses(None, p)).is_empty());
    assert!(!pages_of_one_walk_the_whole(|p| admin.list_groups(None, p)).is_empty());
}

/// Format 9's step on a store that lacks what it adds: the rows of the
/// organisations' external-id index and the position counts of batches,
/// courses and groups are removed from a store, which is marked format 8;
/// opened, it gets them back, and `orgExternalId` finds the organisation.
#[test]
fn format_9_indexes_external_ids_and_counts_lists_of_a_format_8_store() {
    use roster::store::testing::{raw_delete, raw_rows};
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.redb");
    let (config, _) = config(SEED_NOW);
    let i = Institute::open(&path, config.clone()).expect("create");
    fill(&i);
    fill_v2(&i);
    let tenant = json!({"request": {"orgName": "Board", "organisationType": "board",
        "channel": "board1", "isTenant": true}});
    sunbird(&i, "POST", "/api/org/v1/create", tenant);
    let school = json!({"request": {"orgName": "School", "organisationType": "school",
        "channel": "board1", "isTenant": false, "externalId": "SCH-9"}});
    let school = sunbird(&i, "POST", "/api/org/v1/create", school)["organisationId"].clone();
    let before = contents(&i);
    drop(i);
    let mut removed = 0;
    for (key, _) in raw_rows(&path, "org_by_external_id").expect("raw read") {
        raw_delete(&path, "org_by_external_id", &key).expect("raw delete");
        removed += 1;
    }
    // Counts of tables 2-4 (batches, courses, groups); the users' (1) stay.
    for (key, _) in raw_rows(&path, "counts").expect("raw read") {
        if key[0] != 1 {
            raw_delete(&path, "counts", &key).expect("raw delete");
            removed += 1;
        }
    }
    assert!(removed > 8, "{removed} rows");
    set_version(&path, 8);
    let i = Institute::open(&path, config).expect("open");
    assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
    assert_eq!(contents(&i), before);
    let user = json!({"request": {"firstName": "Asha", "email": "asha@example.com",
        "password": "Pass@1word", "channel": "board1", "orgExternalId": "sch-9"}});
    let user = sunbird(&i, "POST", "/api/user/v1/create", user)["userId"].clone();
    let read = sunbird(
        &i,
        "GET",
        &format!("/api/user/v1/read/{}", user.as_str().unwrap()),
        json!({}),
    );
    let orgs = read["response"]["organisations"]
        .as_array()
        .expect("organisations")
        .clone();
    assert!(
        orgs.iter().any(|o| o["organisationId"] == school),
        "{orgs:?}"
    );
}

/// The items of `list` in one page of 100, after checking that pages of
/// one item each give the same items and the same count.
fn pages_of_one_walk_the_whole<T: PartialEq + Clone + std::fmt::Debug>(
    list: impl Fn(roster::PageRequest) -> roster::Result<roster::Page<T>>,
) -> Vec<T> {
    let page = |n: u64, per_page: u32| roster::PageRequest {
        page: n,
        per_page: Some(per_page),
    };
    let whole = list(page(1, 100)).expect("a page");
    for n in 1..=whole.count {
        let one = list(page(n, 1)).expect("a page of one");
        let want = vec![whole.items[n as usize - 1].clone()];
        assert_eq!((one.count, one.items), (whole.count, want), "page {n}");
    }
    whole.items
}

/// The store `fixture` (format 7 or later) opens sound, with the feed its
/// making wrote, and records a new write after them.
fn opens_with_its_change_feed(fixture: &str) {
    let (_dir, path) = copy_of(fixture);
    let (config, _) = config(SEED_NOW);
    let i = Institute::open(&path, config).expect("open");
    assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
    assert_eq!(i.login("lorem", "ipsum1$").expect("sign-in").user, 1);
    four_character_searches_find_sunita(&i);
    let page = i.operator().changes_since(0, 1000).expect("feed");
    assert!(!page.more);
    let seqs: Vec<u64> = page.changes.iter().map(|c| c.seq).collect();
    // From 1 up to format 12's fixture; a store made later numbers its
    // feed from a random origin.
    let first = seqs.first().copied().unwrap_or(1);
    assert_eq!(
        seqs,
        (first..first + seqs.len() as u64).collect::<Vec<_>>(),
        "one writer: no gaps"
    );
    let entities: std::collections::BTreeSet<&str> =
        page.changes.iter().map(|c| c.entity.as_str()).collect();
    for kind in [
        "user",
        "batch",
        "course",
        "subscription",
        "custom_field",
        "group",
    ] {
        assert!(entities.contains(kind), "{kind} in {entities:?}");
    }
    for c in &page.changes {
        let record = c.record.as_deref().unwrap_or("");
        assert!(!record.contains("argon2") && !record.contains("password_hash"));
    }
    let last = *seqs.last().expect("entries");
    i.operator()
        .create_batch(roster::BatchInput {
            name: Some("Appended".into()),
        })
        .expect("a new batch");
    let next = i.operator().changes_since(last, 10).expect("feed");
    assert_eq!(
        next.changes
            .iter()
            .map(|c| (c.seq, c.entity.as_str()))
            .collect::<Vec<_>>(),
        vec![(last + 1, "batch")]
    );
    assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
}

#[test]
fn a_v4_store_gains_the_sunbird_tables_and_takes_sunbird_users() {
    let (_dir, path) = copy_of(V4);
    let (config, _) = config(SEED_NOW);
    let i = Institute::open(&path, config).expect("open v4");
    fill_v5(&i);
    assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
    // The Testpress users are Sunbird users too, without side records.
    let found = sunbird(
        &i,
        "POST",
        "/api/user/v1/search",
        json!({"request": {"filters": {"userName": "LOREM"}}}),
    );
    assert_eq!(found["response"]["content"][0]["email"], "te**@example.com");
}

#[test]
fn v3_migrated_to_format_4_reads_the_same_as_a_v4_store() {
    let (_d3, p3) = copy_of(V3);
    let (_d4, p4) = copy_of(V4);
    let (config3, _) = config(SEED_NOW);
    let (config4, _) = config(SEED_NOW);
    let v3 = Institute::open(&p3, config3).expect("open v3");
    let v4 = Institute::open(&p4, config4).expect("open v4");
    assert_eq!(v3.check_integrity().expect("check"), Vec::<String>::new());
    assert_eq!(contents(&v3), contents(&v4));
    // The search index was built by the migration: the same answers.
    let q = |i: &Institute| {
        let query = roster::UserQuery {
            q: Some("ore".into()),
            ..Default::default()
        };
        let page = i.operator().list_users(&query).expect("q");
        (
            page.count,
            page.items.iter().map(|u| u.id).collect::<Vec<_>>(),
        )
    };
    assert_eq!(q(&v3), q(&v4));
    assert_eq!(q(&v4).0, 1);
}

#[test]
fn v2_migrated_to_format_3_reads_the_same_as_a_v3_store() {
    let (_d2, p2) = copy_of(V2);
    let (_d3, p3) = copy_of(V3);
    let (config2, _) = config(SEED_NOW);
    let (config3, _) = config(SEED_NOW);
    let v2 = Institute::open(&p2, config2).expect("open v2");
    let v3 = Institute::open(&p3, config3).expect("open v3");
    assert_eq!(v2.check_integrity().expect("check"), Vec::<String>::new());
    assert_eq!(contents(&v2), contents(&v3));
    // Every user of the migrated store starts at credential generation 0
    // and every record is now a verified frame: a raw read of a user shows
    // the frame marker.
    drop(v2);
    for (_, v) in roster::store::testing::raw_rows(&p2, "users").expect("users") {
        assert_eq!(&v[..4], b"RfR3");
    }
}

#[test]
fn v1_migrated_to_format_3_is_sound_and_framed() {
    let (_d1, p1) = copy_of(V1);
    let (config1, _) = config(SEED_NOW);
    let v1 = Institute::open(&p1, config1).expect("open v1");
    assert_eq!(v1.check_integrity().expect("check"), Vec::<String>::new());
    let users = v1
        .operator()
        .list_users(&roster::UserQuery::default())
        .expect("users");
    let names: Vec<_> = users.items.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["lorem", "goodboy"]);
}
