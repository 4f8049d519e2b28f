//! The change feed (SPEC X4; issue 12, item 4): every administrative write
//! of every surface appears exactly once, in commit order, with no secret in
//! it; sign-in bookkeeping does not; readers need `view_change`; retention
//! trims and says so.

use roster::rest::{Request, Response};
use roster::{ErrorCode, Institute};
use roster_tests::{SEED_NOW, call_as, institute, passwordless_row};
use serde_json::{Value, json};

const API: &str = "/api/v2.5/admin";
const ROOT_PASSWORD: &str = "root-pass-1";

/// The feed after `since`, as the REST path gives it to `token`'s holder.
fn feed(i: &Institute, token: &str, since: u64) -> Value {
    let r = call_as(
        i,
        token,
        "GET",
        &format!("{API}/changes/?since={since}"),
        None,
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.json()
}

/// The world of one test: a superuser signed in, the feed read so far.
struct World {
    i: Institute,
    token: String,
    root_uuid: String,
    clock: std::sync::Arc<roster::FixedClock>,
    seen: u64,
    all: Vec<Value>,
}

impl World {
    fn new() -> World {
        let (i, clock) = institute(SEED_NOW);
        let root = i.create_superuser("root", ROOT_PASSWORD).expect("root");
        let token = i.login("root", ROOT_PASSWORD).expect("sign-in").token;
        let root_uuid = i.operator().get_user(root).expect("root").uuid;
        let mut w = World {
            i,
            token,
            root_uuid,
            clock,
            seen: 0,
            all: Vec::new(),
        };
        // The superuser's creation, by host code.
        let made = w.step();
        assert_eq!(kinds(&made), [("user", "create")]);
        assert_eq!(made[0]["actor"], Value::Null);
        w
    }

    /// The entries since the last step, which must follow it in order.
    fn step(&mut self) -> Vec<Value> {
        let page = feed(&self.i, &self.token, self.seen);
        assert_eq!(page["more"], false);
        let got = page["results"].as_array().expect("results").clone();
        for e in &got {
            let seq = e["seq"].as_u64().expect("seq");
            assert!(seq > self.seen, "in order: {seq} after {}", self.seen);
            self.seen = seq;
        }
        assert_eq!(page["next"], self.seen);
        self.all.extend(got.iter().cloned());
        got
    }

    /// A request as the superuser that must answer `status`.
    #[track_caller]
    fn send(&self, method: &str, path: &str, body: Option<Value>, status: u16) -> Value {
        let r = call_as(&self.i, &self.token, method, path, body);
        assert_eq!(r.status, status, "{method} {path}: {:?}", r.body);
        r.json_or_null()
    }

    /// A Sunbird request as the superuser that must succeed: its `result`.
    #[track_caller]
    fn sunbird(&self, path: &str, body: Value) -> Value {
        let request = Request::new("POST", path)
            .with_header("Content-Type", "application/json")
            .with_header("x-authenticated-user-token", &self.token)
            .with_body(json!({ "request": body }).to_string());
        let r = roster::rest::handle(&self.i, request);
        assert_eq!(r.status, 200, "{path}: {:?}", r.body);
        r.json()["result"].clone()
    }
}

trait OrNull {
    fn json_or_null(&self) -> Value;
}

impl OrNull for Response {
    fn json_or_null(&self) -> Value {
        match &self.body {
            Some(b) if !b.is_empty() => self.json(),
            _ => Value::Null,
        }
    }
}

/// (entity, op) of each entry, in order.
fn kinds(entries: &[Value]) -> Vec<(&str, &str)> {
    entries
        .iter()
        .map(|e| (e["entity"].as_str().unwrap(), e["op"].as_str().unwrap()))
        .collect()
}

/// The same, sorted (one operation's entries in first-touched order, which
/// the test need not pin).
fn sorted(entries: &[Value]) -> Vec<(&str, &str)> {
    let mut k = kinds(entries);
    k.sort_unstable();
    k
}

#[test]
fn every_administrative_write_of_every_surface_appears_once_in_order_without_secrets() {
    let mut w = World::new();

    // Sign-in and its bookkeeping are not administrative changes.
    w.i.login("root", ROOT_PASSWORD).expect("sign-in");
    assert!(w.i.login("root", "wrong-password").is_err());
    assert!(
        w.step().is_empty(),
        "sign-in, failed or not, makes no entry"
    );

    // Testpress.
    w.send(
        "POST",
        &format!("{API}/batches/"),
        Some(json!({"name": "B"})),
        201,
    );
    let made = w.step();
    assert_eq!(kinds(&made), [("batch", "create")]);
    assert_eq!(made[0]["actor"], w.root_uuid.as_str());
    assert_eq!(made[0]["record"]["name"], "B");
    w.send(
        "POST",
        &format!("{API}/custom-fields/"),
        Some(json!({"name": "Roll", "type": "text"})),
        201,
    );
    assert_eq!(kinds(&w.step()), [("custom_field", "create")]);
    let user = w.send(
        "POST",
        &format!("{API}/users/"),
        Some(
            json!({"username": "lorem", "password": "ipsum1$", "email": "t@x.in",
            "batches": ["B"], "expires": "2023-01-13", "custom_fields": {"roll": "R1"}}),
        ),
        201,
    );
    let uid = user["id"].as_u64().expect("id");
    let made = w.step();
    assert_eq!(
        sorted(&made),
        [("subscription", "create"), ("user", "create")]
    );
    let record = &made.iter().find(|e| e["entity"] == "user").unwrap()["record"];
    assert_eq!(record["username"], "lorem");
    assert_eq!(
        made[0]["uuid"],
        user["uuid"]
            .as_str()
            .unwrap_or(made[0]["uuid"].as_str().unwrap())
    );
    w.send(
        "PATCH",
        &format!("{API}/users/{uid}/"),
        Some(json!({"first_name": "Lo"})),
        200,
    );
    let made = w.step();
    assert_eq!(kinds(&made), [("user", "update")]);
    assert_eq!(made[0]["record"]["profile"]["first_name"], "Lo");
    // The same PATCH again changes nothing: no entry.
    w.send(
        "PATCH",
        &format!("{API}/users/{uid}/"),
        Some(json!({"first_name": "Lo"})),
        200,
    );
    assert!(w.step().is_empty(), "nothing changed");
    let course = w.send(
        "POST",
        &format!("{API}/courses/"),
        Some(json!({"title": "C"})),
        201,
    );
    assert_eq!(
        sorted(&w.step()),
        [("batch", "create"), ("course", "create")]
    );
    let c = course["id"].as_u64().expect("course id");
    w.send(
        "POST",
        &format!("{API}/users/{uid}/courses/"),
        Some(json!({"courses": [c]})),
        201,
    );
    assert_eq!(kinds(&w.step()), [("subscription", "create")]);
    // The password of a user: an update (its `password_changed`), without
    // the hash.
    w.clock.set(roster_tests::at("2023-01-12T12:00:00+05:30"));
    w.send(
        "PATCH",
        &format!("{API}/users/{uid}/"),
        Some(json!({"password": "another1$"})),
        200,
    );
    assert_eq!(kinds(&w.step()), [("user", "update")]);

    // Django-style.
    let group = w.send(
        "POST",
        "/api/admin/groups/",
        Some(json!({"name": "Staff", "permissions": [1, 29]})),
        201,
    );
    assert_eq!(kinds(&w.step()), [("group", "create")]);
    w.send(
        "DELETE",
        &format!("/api/admin/groups/{}/", group["id"]),
        None,
        204,
    );
    assert_eq!(kinds(&w.step()), [("group", "delete")]);

    // Sunbird.
    let org = w.sunbird(
        "/api/org/v1/create",
        json!({"orgName": "O", "organisationType": "school", "channel": "ch", "isTenant": true}),
    );
    assert!(org["organisationId"].is_u64());
    assert_eq!(kinds(&w.step()), [("organisation", "create")]);
    w.sunbird(
        "/api/user/v1/create",
        json!({"firstName": "Sun", "email": "sun@x.in", "password": "Pass@1word"}),
    );
    let made = w.step();
    // The user, its Sunbird profile, and the custodian organisation a user
    // created without a channel lands in (made on first use).
    assert_eq!(
        sorted(&made),
        [
            ("organisation", "create"),
            ("sunbird_user", "create"),
            ("user", "create")
        ]
    );
    let uuid_of =
        |entity: &str| made.iter().find(|e| e["entity"] == entity).unwrap()["uuid"].clone();
    assert_eq!(
        uuid_of("user"),
        uuid_of("sunbird_user"),
        "a Sunbird profile is its user's"
    );
    w.sunbird(
        "/api/data/v1/system/settings/set",
        json!({"id": "tncConfig", "field": "tncConfig", "value": "{\"latestVersion\":\"v2\"}"}),
    );
    let made = w.step();
    assert_eq!(kinds(&made), [("setting", "create")]);
    assert_eq!(made[0]["uuid"], "tncConfig");

    // Purging expired subscriptions: one tombstone each.
    let admin = w.i.operator();
    assert_eq!(admin.purge_expired().expect("purge"), 0);
    assert!(w.step().is_empty(), "nothing expired yet, nothing changed");
    w.clock.set(roster_tests::at("2023-02-01T00:00:00Z"));
    w.token = w.i.login("root", ROOT_PASSWORD).expect("sign-in").token;
    assert_eq!(admin.purge_expired().expect("purge"), 1);
    let made = w.step();
    assert_eq!(kinds(&made), [("subscription", "delete")]);
    assert_eq!(made[0]["actor"], Value::Null, "host code");

    // Deleting a user: the user and its memberships, as tombstones.
    w.send("DELETE", &format!("{API}/users/{uid}/"), None, 204);
    let made = w.step();
    assert_eq!(
        sorted(&made),
        [("subscription", "delete"), ("user", "delete")]
    );
    assert!(made.iter().all(|e| e["record"].is_null()));
    // A Sunbird user: its profile's tombstone carries the user's UUID,
    // though the user's record is gone by the time the entries are made.
    let found = w.send("GET", &format!("{API}/users/?q=sun%40x.in"), None, 200);
    let sun = found["results"][0]["id"]
        .as_u64()
        .expect("the Sunbird user");
    w.send("DELETE", &format!("{API}/users/{sun}/"), None, 204);
    let made = w.step();
    assert_eq!(
        sorted(&made),
        [("sunbird_user", "delete"), ("user", "delete")]
    );
    let uuid_of =
        |entity: &str| made.iter().find(|e| e["entity"] == entity).unwrap()["uuid"].clone();
    assert_eq!(uuid_of("sunbird_user"), uuid_of("user"));
    assert_ne!(uuid_of("user"), "00000000-0000-0000-0000-000000000000");

    // Nothing secret anywhere in the feed.
    let text = serde_json::to_string(&w.all).expect("json");
    for secret in [
        "password_hash",
        "$argon2",
        "argon2id",
        "last_login",
        "failed_logins",
        "credential_generation",
        w.token.as_str(),
    ] {
        assert!(!text.contains(secret), "{secret} in the feed: {text}");
    }
    // Every number once, in order.
    let seqs: Vec<u64> = w.all.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|p| p[0] < p[1]));
}

/// The batches a course entry's record names.
fn batches_of(entry: &Value) -> Vec<u64> {
    entry["record"]["batches"]
        .as_array()
        .expect("the course's batches")
        .iter()
        .map(|b| b.as_u64().expect("an id"))
        .collect()
}

/// Linking batches to a course changes who the course is given to: the
/// course's entry says which batches give it, once per operation, and
/// deleting a linked batch updates the course too.
#[test]
fn course_batch_links_are_course_updates() {
    let mut w = World::new();
    let course = w.send(
        "POST",
        &format!("{API}/courses/"),
        Some(json!({"title": "C"})),
        201,
    );
    let made = w.step();
    let entry = made
        .iter()
        .find(|e| e["entity"] == "course")
        .expect("course")
        .clone();
    assert_eq!(
        batches_of(&entry),
        Vec::<u64>::new(),
        "its hidden batch is not listed"
    );
    let c = course["id"].as_u64().expect("course id");
    let mut ids = Vec::new();
    for name in ["Morning", "Evening"] {
        let b = w.send(
            "POST",
            &format!("{API}/batches/"),
            Some(json!({"name": name})),
            201,
        );
        ids.push(b["id"].as_u64().expect("batch id"));
    }
    w.step();
    let path = format!("{API}/courses/{c}/batches/");
    w.send("POST", &path, Some(json!({"batches": ids})), 201);
    let linked = w.step();
    assert_eq!(kinds(&linked), [("course", "update")]);
    assert_eq!(batches_of(&linked[0]), ids);
    assert_eq!(linked[0]["uuid"], entry["uuid"]);
    // Linking them again changes nothing.
    w.send("POST", &path, Some(json!({"batches": ids})), 201);
    assert!(w.step().is_empty());
    w.send("DELETE", &path, Some(json!({"batches": [ids[0]]})), 204);
    let unlinked = w.step();
    assert_eq!(kinds(&unlinked), [("course", "update")]);
    assert_eq!(batches_of(&unlinked[0]), [ids[1]]);
    // Deleting a linked batch unlinks it: the course changes too.
    w.send("DELETE", &format!("{API}/batches/{}/", ids[1]), None, 204);
    let gone = w.step();
    assert_eq!(sorted(&gone), [("batch", "delete"), ("course", "update")]);
    let entry = gone
        .iter()
        .find(|e| e["entity"] == "course")
        .expect("course");
    assert_eq!(batches_of(entry), Vec::<u64>::new());
    // Deleting the course is one tombstone, its hidden batch another.
    w.send("POST", &path, Some(json!({"batches": [ids[0]]})), 201);
    w.step();
    w.send("DELETE", &format!("{API}/courses/{c}/"), None, 204);
    assert_eq!(
        sorted(&w.step()),
        [("batch", "delete"), ("course", "delete")]
    );
}

#[test]
fn reading_the_feed_needs_view_change_and_a_staff_caller() {
    let mut w = World::new();
    let i = &w.i;
    let make = |name: &str, permissions: Value| {
        w.send(
            "POST",
            &format!("{API}/users/"),
            Some(json!({"username": name, "password": "ipsum1$"})),
            201,
        );
        let found = i.operator().find_user(name).expect("made");
        let body = json!({"username": name, "password": "ipsum1$", "last_name": "X",
            "is_staff": true, "user_permissions": permissions});
        w.send(
            "PUT",
            &format!("/api/admin/users/{found}/"),
            Some(body),
            200,
        );
        i.login(name, "ipsum1$").expect("sign-in").token
    };
    let without = make("plain", json!([1, 2, 3, 4]));
    let with = make("auditor", json!([29]));
    let r = call_as(i, &without, "GET", &format!("{API}/changes/"), None);
    assert_eq!(r.status, 403, "{:?}", r.body);
    let page = feed(i, &with, 0);
    assert!(!page["results"].as_array().unwrap().is_empty());
    // The catalogue lists it, appended.
    let perms = w.send("GET", "/api/admin/permissions/", None, 200);
    let last = perms
        .as_array()
        .and_then(|a| a.last())
        .cloned()
        .unwrap_or(perms.clone());
    assert_eq!(last["id"], 29, "{perms}");
    assert_eq!(last["codename"], "view_change");
    // Only GET.
    let r = call_as(i, &with, "POST", &format!("{API}/changes/"), None);
    assert_eq!(r.status, 405);
    // A since that is not a number is a field error.
    let r = call_as(i, &with, "GET", &format!("{API}/changes/?since=x"), None);
    assert_eq!(r.status, 400);
    assert!(r.json()["since"].is_array(), "{:?}", r.body);
    w.step();
}

#[test]
fn pages_follow_on_and_limits_hold() {
    let w = World::new();
    for n in 0..25 {
        w.send(
            "POST",
            &format!("{API}/batches/"),
            Some(json!({"name": format!("B{n}")})),
            201,
        );
    }
    let admin = w.i.operator();
    let mut since = 0;
    let mut got = Vec::new();
    loop {
        let page = admin.changes_since(since, 7).expect("page");
        assert!(page.changes.len() <= 7);
        got.extend(page.changes.iter().map(|c| c.seq));
        since = page.next;
        if !page.more {
            break;
        }
    }
    assert_eq!(got.len(), 26, "the superuser and 25 batches");
    assert!(got.windows(2).all(|p| p[0] < p[1]));
    // Past the end: nothing, and `next` stays.
    let page = admin.changes_since(since, 7).expect("page");
    assert!(page.changes.is_empty());
    assert_eq!(page.next, since);
    assert!(admin.changes_since(0, 5000).expect("capped").changes.len() <= 1000);
}

/// A store keeping a day of changes, and three batches made at
/// `SEED_NOW`; its clock.
fn three_batches_and_a_day_kept() -> (Institute, std::sync::Arc<roster::FixedClock>) {
    let (mut config, clock) = roster_tests::config(SEED_NOW);
    config.change_retention = chrono::Duration::days(1);
    let i = roster_tests::store(config);
    for n in 0..3 {
        i.operator()
            .create_batch(roster::BatchInput {
                name: Some(format!("Old {n}")),
            })
            .expect("batch");
    }
    (i, clock)
}

/// An entry is kept through the retention window's last instant and
/// purged after it; a purge answers how many entries went.
#[test]
fn an_entry_lives_through_the_whole_window_and_a_purge_counts_what_went() {
    let (i, clock) = three_batches_and_a_day_kept();
    let admin = i.operator();
    assert_eq!(admin.changes_since(0, 10).expect("feed").changes.len(), 3);
    clock.advance(chrono::Duration::days(1));
    assert_eq!(admin.purge_changes().expect("purge"), 0, "the last instant");
    clock.advance(chrono::Duration::microseconds(1));
    assert_eq!(admin.purge_changes().expect("purge"), 3);
    assert_eq!(admin.purge_changes().expect("purge"), 0, "nothing left");
}

/// A purge removes every entry older than the window, however many: more
/// than one of its rounds of 4,096 here.
#[test]
fn a_purge_goes_on_past_one_round() {
    let (i, clock) = three_batches_and_a_day_kept();
    let rows = (0..4_200)
        .map(|n| {
            let user = roster::NewUser {
                username: Some(format!("user{n}")),
                ..Default::default()
            };
            passwordless_row(n + 1, user)
        })
        .collect();
    let admin = i.operator();
    assert_eq!(admin.import_rows(rows).expect("import").created, 4_200);
    clock.advance(chrono::Duration::days(2));
    assert_eq!(admin.purge_changes().expect("purge"), 4_203);
}

#[test]
fn retention_trims_old_entries_and_a_reader_behind_the_floor_is_told() {
    let (i, clock) = three_batches_and_a_day_kept();
    let admin = i.operator();
    let old = admin.changes_since(0, 10).expect("feed").next;
    clock.set(roster_tests::at("2023-01-20T00:00:00Z"));
    let removed = admin.purge_changes().expect("purge");
    // A store file trims as it goes; PostgreSQL only when purged.
    assert!(removed <= 3);
    admin
        .create_batch(roster::BatchInput {
            name: Some("New".into()),
        })
        .expect("batch");
    admin.purge_changes().expect("purge");
    let err = admin.changes_since(0, 10).expect_err("behind the floor");
    assert_eq!(err.code(), ErrorCode::Validation);
    assert!(err.fields().iter().any(|(f, _)| f == "since"), "{err:?}");
    let page = admin.changes_since(old, 10).expect("from the floor");
    assert_eq!(page.changes.len(), 1);
    assert_eq!(
        page.changes[0].record.as_deref().map(|r| r.contains("New")),
        Some(true)
    );
    // A user may not purge.
    assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
}

/// A store file trims as it goes, without `purge_changes`: writes made after
/// the window let go of every older entry, however many there were, and
/// never of their own. (PostgreSQL trims only when purged: the test above.)
#[test]
fn a_store_file_trims_what_the_window_lets_go_as_writes_go_on() {
    let (mut config, clock) = roster_tests::config(SEED_NOW);
    config.change_retention = chrono::Duration::days(1);
    let i = roster::Institute::in_memory(config).expect("store");
    let admin = i.operator();
    let create = |name: String| {
        admin
            .create_batch(roster::BatchInput { name: Some(name) })
            .expect("batch");
    };
    let start = admin.changes_since(0, 1).expect("feed").next;
    for n in 0..300 {
        create(format!("Old {n}"));
    }
    let old = admin.changes_since(start, 1000).expect("feed");
    assert_eq!(old.changes.len(), 300);
    let after_old = old.next;
    clock.set(roster_tests::at("2023-01-20T00:00:00Z"));
    for n in 0..200 {
        create(format!("New {n}"));
    }
    let err = admin
        .changes_since(after_old - 1, 10)
        .expect_err("every old entry trimmed");
    assert!(err.fields().iter().any(|(f, _)| f == "since"), "{err:?}");
    let new = admin
        .changes_since(after_old, 1000)
        .expect("the new entries");
    assert_eq!(new.changes.len(), 200);
    assert!(
        new.changes
            .iter()
            .all(|c| c.record.as_deref().is_some_and(|r| r.contains("New"))),
    );
    assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
}

/// Granting what a user already holds, as it holds it, writes nothing: no
/// entry. A new expiry is an update, stamped with its own time.
#[test]
fn granting_what_a_user_holds_as_it_holds_it_makes_no_entry() {
    let mut w = World::new();
    let batch = w.send(
        "POST",
        &format!("{API}/batches/"),
        Some(json!({"name": "B"})),
        201,
    );
    let b = batch["id"].as_u64().expect("batch id");
    let user = w.send(
        "POST",
        &format!("{API}/users/"),
        Some(
            json!({"username": "u", "password": "ipsum1$", "batches": ["B"],
            "expires": "2023-01-13"}),
        ),
        201,
    );
    let uid = user["id"].as_u64().expect("id");
    let made = w.step();
    let created = &made
        .iter()
        .find(|e| e["entity"] == "subscription")
        .expect("the subscription's entry")["record"];
    let subscriptions = format!("{API}/users/{uid}/subscriptions/");
    // Later, so that a rewrite would show in `modified`.
    w.clock.set(roster_tests::at("2023-01-12T12:00:00+05:30"));
    let same = w.send(
        "POST",
        &subscriptions,
        Some(json!({"batches": [b], "expires": "2023-01-13"})),
        201,
    );
    assert_eq!(same[0]["expires"], "2023-01-13");
    assert!(w.step().is_empty(), "the same expiry again changes nothing");
    w.send(
        "POST",
        &format!("{API}/users/{uid}/batches/"),
        Some(json!({"batches": [b]})),
        201,
    );
    assert!(w.step().is_empty(), "a batch the user is in, not expired");
    w.send(
        "POST",
        &subscriptions,
        Some(json!({"batches": [b], "expires": "2023-02-01"})),
        201,
    );
    let made = w.step();
    assert_eq!(kinds(&made), [("subscription", "update")]);
    // The update is stamped with its own time; created stays.
    let updated = &made[0]["record"]["subscription"];
    let at = roster_tests::at("2023-01-12T12:00:00+05:30").timestamp_micros();
    assert_eq!(updated["modified"], at);
    assert_eq!(updated["created"], created["subscription"]["created"]);
    assert_ne!(updated["created"], at);
}

/// A migration claim's failed attempts are bookkeeping, as failed sign-ins
/// are: a wrong `userExtId` makes no entry.
#[test]
fn a_failed_migration_claim_makes_no_entry() {
    let (i, _clock) = roster_tests::institute(SEED_NOW);
    i.create_superuser("root", ROOT_PASSWORD).expect("root");
    let token = i.login("root", ROOT_PASSWORD).expect("sign-in").token;
    let sunbird = |path: &str, body: Value| {
        let request = Request::new("POST", path)
            .with_header("Content-Type", "application/json")
            .with_header("x-authenticated-user-token", &token)
            .with_body(json!({ "request": body }).to_string());
        let r = roster::rest::handle(&i, request);
        assert_eq!(r.status, 200, "{path}: {:?}", r.body);
    };
    sunbird(
        "/api/org/v1/create",
        json!({"orgName": "State", "organisationType": "school", "channel": "state1", "isTenant": true}),
    );
    sunbird(
        "/api/user/v1/sso/create",
        json!({"firstName": "Shadow", "phone": "9876500001", "channel": "state1",
            "externalIds": [{"id": "H-9", "provider": "state1", "idType": "state1"}]}),
    );
    sunbird(
        "/api/user/v1/create",
        json!({"firstName": "Claimant", "userName": "claimant", "email": "c@example.in", "password": "Pass@1word"}),
    );
    let admin = i.operator();
    let id = admin.find_user("claimant").expect("claimant");
    let uuid = admin.get_user(id).expect("claimant").uuid;
    let head = admin.changes_since(0, 1000).expect("feed").next;
    let claimant = i.login("claimant", "Pass@1word").expect("sign-in").token;
    let session = i.session(&claimant).expect("session");
    // Answered with the attempts left; the shadow's side record counts it.
    let answer = session.migrate(&uuid, "state1", true, "wrong-id");
    assert!(format!("{answer:?}").contains("WrongId"), "{answer:?}");
    let after = admin.changes_since(head, 1000).expect("feed");
    assert!(after.changes.is_empty(), "{:?}", after.changes);
}

/// A number from another feed is refused: a validation error on `since`,
/// not a page of this feed's entries after it. Each new store's feed starts
/// at its own random number, so this holds even once the restored store's
/// feed is longer than the one the number came from.
#[test]
fn a_since_from_another_feed_is_refused() {
    let mut w = World::new();
    let mut ids = Vec::new();
    for name in ["A", "B", "C"] {
        let b = w.send(
            "POST",
            &format!("{API}/batches/"),
            Some(json!({"name": name})),
            201,
        );
        ids.push(b["id"].clone());
    }
    // History the restored store will not have.
    w.send("DELETE", &format!("{API}/batches/{}/", ids[2]), None, 204);
    w.send("DELETE", &format!("{API}/batches/{}/", ids[1]), None, 204);
    w.step();
    let old_head = w.seen;
    // The same data restored into a new store, which then takes more
    // writes than the old store's feed ever held.
    let dump = w.i.operator().dump().expect("dump");
    let (fresh, _clock) = roster_tests::institute(SEED_NOW);
    let admin = fresh.operator();
    admin.restore(dump).expect("restore");
    for n in 0..12 {
        admin
            .create_batch(roster::BatchInput {
                name: Some(format!("New {n}")),
            })
            .expect("batch");
    }
    let first = admin.changes_since(0, 1000).expect("feed");
    assert!(first.changes.len() > 12, "{}", first.changes.len());
    let head = first.next;
    // Numbers above 2^40, and not the old feed's.
    let start = first.changes[0].seq;
    assert!(start > 1 << 40, "{start}");
    assert!(head < (1 << 53), "{head}");
    assert!(
        !(start..=head).contains(&old_head),
        "{old_head} in {start}..={head}"
    );
    for since in [old_head, start - 2, u64::MAX] {
        let err = admin.changes_since(since, 10).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Validation, "{since}: {err}");
        assert!(
            err.to_string().contains("Start again from a full copy"),
            "{err}"
        );
    }
    // The numbers just before the first entry and at the head are this
    // feed's: a page from the start, and an empty page.
    let page = admin
        .changes_since(start - 1, 1000)
        .expect("before the first");
    assert_eq!(page.changes.len(), first.changes.len());
    let page = admin.changes_since(head, 10).expect("at the head");
    assert!(page.changes.is_empty());
    assert_eq!(page.next, head);
    // A new empty store's feed: 0 reads from its start, and the page's
    // `next` is a number of this feed.
    let (empty, _clock) = roster_tests::institute(SEED_NOW);
    let page = empty.operator().changes_since(0, 10).expect("empty feed");
    assert!(page.changes.is_empty());
    assert!(page.next > 1 << 40, "{}", page.next);
    // Drawn at random from 2^51 numbers: two feeds start far apart (a
    // chance of about 2^-30 of falling within 2^20 of each other).
    let (other, _clock) = roster_tests::institute(SEED_NOW);
    let other = other
        .operator()
        .changes_since(0, 10)
        .expect("empty feed")
        .next;
    assert!(
        page.next.abs_diff(other) > 1 << 20,
        "{} and {other}",
        page.next
    );
    assert!(empty.operator().changes_since(page.next, 10).is_ok());
    let err = w.i.operator().changes_since(u64::MAX, 10).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Validation, "{err}");
}

/// A page of the feed is bounded by size as well as by `limit`: each entry
/// carries its record whole, so a thousand entries of a user with a long
/// custom value would be a page of tens of megabytes. The page stops short,
/// says more follow, and the reader reads on from its `next` to the end.
#[test]
fn a_page_of_large_entries_stops_short_and_reads_on() {
    let (i, _) = institute(SEED_NOW);
    i.create_superuser("root", ROOT_PASSWORD).expect("root");
    let token = i.login("root", ROOT_PASSWORD).expect("sign-in").token;
    let send = |method: &str, path: &str, body: Value| {
        let r = call_as(&i, &token, method, path, Some(body));
        assert!(r.status < 300, "{method} {path}: {:?}", r.body);
        r.json()
    };
    let start = i.operator().changes_since(0, 1000).expect("feed").next;
    send(
        "POST",
        &format!("{API}/custom-fields/"),
        json!({"name": "Essay", "type": "text"}),
    );
    let essay = "e".repeat(9_000);
    let user = send(
        "POST",
        &format!("{API}/users/"),
        json!({"username": "writer", "password": "ipsum1$", "custom_fields": {"Essay": essay}}),
    );
    let path = format!("{API}/users/{}/", user["id"]);
    for n in 0..1000 {
        send("PATCH", &path, json!({"first_name": format!("W{n}")}));
    }
    let first = i.operator().changes_since(start, 1000).expect("feed");
    assert!(first.more, "more follow");
    assert!(
        (800..1000).contains(&first.changes.len()),
        "{} entries",
        first.changes.len()
    );
    let mut seen = first.changes.len();
    let mut next = first.next;
    loop {
        let page = i.operator().changes_since(next, 1000).expect("feed");
        seen += page.changes.len();
        next = page.next;
        if !page.more {
            break;
        }
    }
    assert_eq!(seen, 1002, "every entry, once");
}
