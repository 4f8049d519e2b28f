//! Every example of the Testpress documents (seeds 000-002, as
//! `tests/fixtures/documents/testpress.json` holds them) replayed through
//! `rest::handle`. Each test builds the world the example assumes (its
//! batches, courses and users, created in the order that gives their ids the
//! same order as the document's), sends the document's request, and compares
//! the answer with the document's: the same keys, and the same values except
//! ids, timestamps and hosts, which belong to the document's instance, and the
//! departures SPEC 3 lists.

use roster::Institute;
use roster_tests::{SEED_NOW, config, expect};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

const BASE: &str = "http://demo.testpress.in";

fn fixtures() -> Value {
    let path = roster_tests::document_fixtures().join("testpress.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("fixture JSON")
}

/// The example called `name` taken from the seed whose file starts with `seed`.
fn example(name: &str, seed: &str) -> Value {
    fixtures()["examples"]
        .as_array()
        .expect("examples")
        .iter()
        .find(|e| e["name"] == name && e["seed"].as_str().is_some_and(|s| s.starts_with(seed)))
        .unwrap_or_else(|| panic!("no example {name} in seed {seed}"))
        .clone()
}

/// An institute whose URLs use the documents' host.
fn world() -> (Institute, Arc<roster::FixedClock>) {
    let (config, clock) = config(SEED_NOW);
    let institute = roster_tests::store(config.with_base_url(BASE));
    (institute, clock)
}

/// The path and query of an example, its placeholders and document ids
/// replaced by ours.
fn target(example: &Value, ids: &BTreeMap<&str, u64>) -> String {
    let mut path = example["path"].as_str().expect("path").to_string();
    for (from, to) in ids {
        path = path.replace(from, &to.to_string());
    }
    let query: Vec<String> = example["query"]
        .as_object()
        .map(|q| {
            q.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    if query.is_empty() {
        path
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// A URL reduced to what is not instance-specific: the path after the host,
/// with every id as `N`.
fn url_shape(url: &str) -> String {
    let path = url.find("/api/").map_or(url, |i| &url[i..]);
    let mut out = String::new();
    let mut in_digits = false;
    for c in path.chars() {
        if c.is_ascii_digit() && (in_digits || out.ends_with('/') || out.ends_with('=')) {
            if !in_digits {
                out.push('N');
            }
            in_digits = true;
        } else {
            in_digits = false;
            out.push(c);
        }
    }
    out
}

fn is_timestamp(v: &Value) -> bool {
    let Some(s) = v.as_str() else { return false };
    s.len() == 27
        && s.ends_with('Z')
        && chrono::DateTime::parse_from_rfc3339(s).is_ok()
        && s.as_bytes()[19] == b'.'
}

/// The names of the current ISO codes, for the `state` departure.
fn state_name(code: &str) -> Option<&'static str> {
    roster::domain::states::by_code(code).map(|s| s.name)
}

/// Compares our answer with the document's, recursively: every key of the
/// document is in ours (but `password_hash`, which must never be), values
/// equal except instance-specific ones.
fn same_shape(doc: &Value, ours: &Value, at: &str) {
    match (doc, ours) {
        (Value::Object(d), Value::Object(o)) => {
            for (k, dv) in d {
                let here = format!("{at}.{k}");
                if k == "password_hash" {
                    assert!(
                        !o.contains_key(k),
                        "{here}: a password hash must never be output"
                    );
                    continue;
                }
                let ov = o
                    .get(k)
                    .unwrap_or_else(|| panic!("{here} missing in {ours}"));
                match k.as_str() {
                    "id" => assert!(ov.is_u64(), "{here}: {ov}"),
                    "created" | "modified" => assert!(
                        is_timestamp(ov),
                        "{here}: {ov} is not RFC 3339 UTC with microseconds"
                    ),
                    "url" | "batches_url" | "chapters_url" | "contents_url" | "next"
                    | "previous" => match (dv, ov) {
                        (Value::Null, _) => assert!(ov.is_null(), "{here}: {ov}"),
                        (Value::String(d), Value::String(o)) => {
                            let version_free =
                                |s: String| s.replace("v2.2", "vX").replace("v2.5", "vX");
                            assert_eq!(
                                version_free(url_shape(o)),
                                version_free(url_shape(d)),
                                "{here}"
                            );
                        }
                        _ => panic!("{here}: {dv} vs {ov}"),
                    },
                    // SPEC 3 departure: `state` is always the name, the code
                    // is in `state_code`.
                    "state" if dv.as_str().is_some_and(|s| s.starts_with("IN-")) => {
                        assert_eq!(
                            ov.as_str(),
                            state_name(dv.as_str().unwrap_or_default()),
                            "{here}"
                        );
                    }
                    _ => same_shape(dv, ov, &here),
                }
            }
        }
        (Value::Array(d), Value::Array(o)) => {
            for (i, (dv, ov)) in d.iter().zip(o).enumerate() {
                same_shape(dv, ov, &format!("{at}[{i}]"));
            }
        }
        _ => assert_eq!(ours, doc, "{at}"),
    }
}

/// Replays `example` (with `ids` substituted) and returns our answer after
/// checking the status: the document's where it states one, else `status`.
fn replay(institute: &Institute, example: &Value, ids: &BTreeMap<&str, u64>, status: u16) -> Value {
    if let Some(documented) = example["response_status"].as_u64() {
        assert_eq!(
            u64::from(status),
            documented,
            "the test's status disagrees with the document"
        );
    }
    let body = remap_body(example["request_body"].clone(), ids);
    let method = example["method"].as_str().expect("method");
    // The document's own headers, with a real token in its `JWT <token>`.
    let token = roster_tests::superuser(institute);
    let mut request = roster::rest::Request::new(method, &target(example, ids));
    for (name, value) in example["request_headers"].as_object().into_iter().flatten() {
        let value = value
            .as_str()
            .unwrap_or_default()
            .replace("<token>", &token);
        request = request.with_header(name, &value);
    }
    // Examples without a sample (Delete User, the bare `?q=` URLs, seed
    // 001's truncated view by email) still need the admin token the document
    // requires of every admin API call.
    if request.header("authorization").is_none() {
        request = request.with_header("Authorization", &format!("JWT {token}"));
    }
    if !body.is_null() {
        request = request.with_body(body.to_string());
    }
    let response = roster::rest::handle(institute, request);
    assert_eq!(
        response.status, status,
        "{method} answered {:?}",
        response.body
    );
    if let Some(doc) = example.get("response_body").filter(|b| !b.is_null()) {
        same_shape(&deobfuscate(doc.clone()), &response.json(), "response");
    }
    response.json()
}

/// Ids in request bodies (`{"batches": [24, 22]}`) replaced by ours.
fn remap_body(body: Value, ids: &BTreeMap<&str, u64>) -> Value {
    match body {
        Value::Object(mut m) => {
            for key in ["batches", "courses"] {
                if let Some(Value::Array(list)) = m.get_mut(key) {
                    for item in list.iter_mut() {
                        if let Some(n) = item.as_u64() {
                            let ours = ids.get(n.to_string().as_str()).copied().unwrap_or(n);
                            *item = json!(ours);
                        }
                    }
                }
            }
            deobfuscate(Value::Object(m))
        }
        other => other,
    }
}

/// SPEC 3: seed 001's `[email protected]` stands for the plain address of
/// seeds 000/002.
fn deobfuscate(v: Value) -> Value {
    match v {
        Value::String(s) if s == "[email\u{a0}protected]" => json!("test@example.com"),
        Value::Object(m) => {
            Value::Object(m.into_iter().map(|(k, v)| (k, deobfuscate(v))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(deobfuscate).collect()),
        other => other,
    }
}

fn post(institute: &Institute, path: &str, body: Value) -> Value {
    expect(
        institute,
        "POST",
        &format!("/api/v2.5/admin/{path}"),
        Some(body),
        201,
    )
}

fn batch(institute: &Institute, name: &str) -> u64 {
    post(institute, "batches/", json!({ "name": name }))["id"]
        .as_u64()
        .expect("id")
}

/// The two custom fields of the create example.
fn graduation_fields(institute: &Institute) {
    post(
        institute,
        "custom-fields/",
        json!({"name": "Graduation University", "type": "text"}),
    );
    post(
        institute,
        "custom-fields/",
        json!({"name": "Graduation Year", "type": "number"}),
    );
}

fn user(institute: &Institute, body: Value) -> u64 {
    post(institute, "users/", body)["id"].as_u64().expect("id")
}

fn lorem(institute: &Institute) -> u64 {
    user(
        institute,
        json!({"username": "lorem", "password": "ipsum1$", "first_name": "John", "last_name": "Appleseed",
               "email": "test@example.com", "birth_date": "03/07/2016", "state": "IN-TN"}),
    )
}

fn no_ids() -> BTreeMap<&'static str, u64> {
    BTreeMap::new()
}

#[test]
fn create_user_in_each_seed() {
    for seed in ["000", "002", "001"] {
        let (institute, _) = world();
        batch(&institute, "UPSC Morning Batch");
        batch(&institute, "Test Batch");
        graduation_fields(&institute);
        let ex = example("Create User", seed);
        let ours = replay(&institute, &ex, &no_ids(), 201);
        assert_eq!(ours["state"], "Tamil Nadu");
        assert_eq!(ours["state_code"], "IN-TN");
        let id = ours["id"].as_u64().expect("id");
        // The user joined the named batches, until `expires` where given.
        let subs = expect(
            &institute,
            "GET",
            &format!("/api/v2.5/admin/users/{id}/subscriptions/"),
            None,
            200,
        );
        assert_eq!(subs["count"], 2, "seed {seed}");
        let expires = ex["request_body"]["expires"].clone();
        for s in subs["results"].as_array().expect("results") {
            assert_eq!(s["expires"], expires, "seed {seed}");
        }
    }
}

#[test]
fn view_all_users() {
    let (institute, _) = world();
    lorem(&institute);
    user(
        &institute,
        json!({"username": "lorem2", "password": "ipsum1$", "first_name": "John2", "last_name": "Appleseed",
               "display_name": "John Appleseed", "email": "test3@example.com", "birth_date": "23/07/2000", "state": "IN-TN"}),
    );
    // 755 here and the superuser the replay signs in as: the document's 756.
    for n in 3..=755 {
        institute
            .operator()
            .create_user(
                roster::NewUser {
                    username: Some(format!("user{n}")),
                    password: Some("ipsum1$".into()),
                    ..Default::default()
                },
                roster::CreateOptions::default(),
            )
            .expect("filler user");
    }
    let mut ex = example("View All Users", "000");
    assert!(ex["query"].as_object().is_none_or(|q| q.is_empty()));
    // The document's list answer gives each user the list's URL as `url` and
    // `/users/1/batches/` as `batches_url` for user 1889, where its View User
    // answer for the same user gives `/users/1889/` and
    // `/users/1889/batches/`. SPEC 3: one user representation; the per-user
    // URLs are the ones we check.
    for user in ex["response_body"]["results"]
        .as_array_mut()
        .expect("results")
    {
        let id = user["id"].clone();
        user["url"] = json!(format!("{BASE}/api/v2.5/admin/users/{id}/"));
        user["batches_url"] = json!(format!("{BASE}/api/v2.5/admin/users/{id}/batches/"));
    }
    let ours = replay(&institute, &ex, &no_ids(), 200);
    assert_eq!(ours["count"], 756);
    assert_eq!(ours["results"].as_array().map(Vec::len), Some(20));
    assert_eq!(ours["next"], format!("{BASE}/api/v2.5/admin/users/?page=2"));
}

#[test]
fn view_all_users_q_examples() {
    let (institute, _) = world();
    lorem(&institute);
    user(
        &institute,
        json!({"username": "johnny", "password": "ipsum1$"}),
    );
    user(
        &institute,
        json!({"username": "someone", "password": "ipsum1$", "email": "Test@Gmail.com"}),
    );
    user(
        &institute,
        json!({"username": "other", "password": "ipsum1$", "email": "ajohn@x.in"}),
    );
    let examples: Vec<Value> = fixtures()["examples"]
        .as_array()
        .expect("examples")
        .iter()
        .filter(|e| e["name"] == "View All Users" && e["query"]["q"].is_string())
        .cloned()
        .collect();
    assert_eq!(examples.len(), 2);
    let expected = [
        ("john", vec!["johnny", "other"]),
        ("test@gmail.com", vec!["someone"]),
    ];
    for (ex, (q, names)) in examples.iter().zip(expected) {
        assert_eq!(ex["query"]["q"], q);
        let ours = replay(&institute, ex, &no_ids(), 200);
        let got: Vec<&str> = ours["results"]
            .as_array()
            .expect("results")
            .iter()
            .filter_map(|u| u["username"].as_str())
            .collect();
        assert_eq!(got, names, "q={q}");
    }
}

#[test]
fn view_user_in_each_seed() {
    for seed in ["002", "001"] {
        let (institute, _) = world();
        let id = lorem(&institute);
        let ids = BTreeMap::from([("1889", id)]);
        let ours = replay(&institute, &example("View User", seed), &ids, 200);
        assert_eq!(ours["url"], format!("{BASE}/api/v2.5/admin/users/{id}/"));
        assert_eq!(
            ours["batches_url"],
            format!("{BASE}/api/v2.5/admin/users/{id}/batches/")
        );
    }
}

#[test]
fn update_user_in_each_seed() {
    for seed in ["000", "002", "001"] {
        let (institute, clock) = world();
        graduation_fields(&institute);
        let ex = example("Update User", seed);
        let doc = &ex["response_body"];
        let mut body = json!({"username": "goodboy", "password": "ipsum1$", "photo": doc["photo"]});
        if doc.get("custom_fields").is_some() {
            body["custom_fields"] = doc["custom_fields"].clone();
        }
        let id = user(&institute, body);
        let before = expect(
            &institute,
            "GET",
            &format!("/api/v2.5/admin/users/{id}/"),
            None,
            200,
        );
        clock.advance(chrono::Duration::minutes(4));
        let ours = replay(&institute, &ex, &BTreeMap::from([("2120", id)]), 200);
        assert!(ours.get("password").is_none() && ours.get("password_hash").is_none());
        assert_eq!(ours["created"], before["created"]);
        assert_ne!(
            ours["modified"], before["modified"],
            "a new password is a change"
        );
    }
}

#[test]
fn delete_user() {
    let (institute, _) = world();
    let id = lorem(&institute);
    let ex = example("Delete User", "002");
    assert_eq!(ex["path"], "/api/v2.2/admin/users/<:id>");
    replay(&institute, &ex, &BTreeMap::from([("<:id>", id)]), 204);
    expect(
        &institute,
        "GET",
        &format!("/api/v2.2/admin/users/{id}/"),
        None,
        404,
    );
}

#[test]
fn view_user_by_email() {
    let (institute, _) = world();
    let doc = example("View User By Email", "002")["response_body"]["results"][0].clone();
    let mut names: Vec<&str> = doc["batches"]
        .as_array()
        .expect("batches")
        .iter()
        .filter_map(|b| b["name"].as_str())
        .collect();
    names.reverse(); // create them oldest first, so our ids have the document's order
    for name in &names {
        batch(&institute, name);
    }
    let mut body = json!({"password": "ipsum1$", "batches": names});
    for key in [
        "username",
        "first_name",
        "last_name",
        "email",
        "photo",
        "birth_date",
        "gender_code",
        "address1",
        "address2",
        "city",
        "zip",
        "phone",
    ] {
        body[key] = doc[key].clone();
    }
    let id = user(&institute, body);
    let ours = replay(
        &institute,
        &example("View User By Email", "002"),
        &no_ids(),
        200,
    );
    assert_eq!(ours["count"], 1);
    assert_eq!(ours["results"][0]["id"], id);
    assert_eq!(
        ours["results"][0]["batches"].as_array().map(Vec::len),
        Some(names.len())
    );
    // The document's answer has v2.2 URLs for a v2.5 request; ours follow the
    // request (SPEC 3: URLs use the request's version).
    assert!(
        ours["results"][0]["url"]
            .as_str()
            .is_some_and(|u| u.contains("/api/v2.5/"))
    );

    // Seed 001's older rendering: v2.2, a placeholder for the address.
    let ids = BTreeMap::from([("<:email_id>", 0)]);
    let mut ex = example("View User By Email", "001");
    ex["query"]["email"] = json!("BHARATHWAAJ.S@gmail.com");
    let ours = replay(&institute, &ex, &ids, 200);
    assert_eq!(ours["results"][0]["username"], "bharath");
    assert!(
        ours["results"][0]["url"]
            .as_str()
            .is_some_and(|u| u.contains("/api/v2.2/"))
    );
}

/// The batches of the batch examples, created in the order of the
/// document's ids 22, 23, 24, 29.
fn batch_world() -> (Institute, u64, BTreeMap<&'static str, u64>) {
    let (institute, _) = world();
    let mut ids = BTreeMap::new();
    for (doc_id, name) in [
        ("22", "IBPS Morning Batch"),
        ("23", "UPSC Morning Batch"),
        ("24", "NEET Morning Batch"),
        ("29", "Test Batch"),
    ] {
        ids.insert(doc_id, batch(&institute, name));
    }
    let id = user(
        &institute,
        json!({"username": "lorem", "password": "ipsum1$", "batches": ["Test Batch", "UPSC Morning Batch"]}),
    );
    ids.insert("1892", id);
    (institute, id, ids)
}

#[test]
fn view_add_and_remove_batches() {
    let (institute, id, ids) = batch_world();
    let ours = replay(&institute, &example("View Batches", "002"), &ids, 200);
    assert_eq!(ours["count"], 2);
    let ours = replay(&institute, &example("Add Batches", "002"), &ids, 201);
    assert_eq!(ours.as_array().map(Vec::len), Some(4));
    replay(&institute, &example("Remove Batches", "002"), &ids, 204);
    let after = expect(
        &institute,
        "GET",
        &format!("/api/v2.5/admin/users/{id}/batches/"),
        None,
        200,
    );
    let names: Vec<&str> = after["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|b| b["name"].as_str())
        .collect();
    assert_eq!(names, ["Test Batch", "UPSC Morning Batch"]);
}

#[test]
fn add_and_remove_courses() {
    let (institute, id, mut ids) = batch_world();
    let add = example("Add Courses", "002");
    let docs = add["response_body"]["results"]
        .as_array()
        .expect("results")
        .clone();
    // Courses 278..283 of the document, 282 (absent from the answer) included.
    let doc_ids = ["278", "279", "280", "281", "282", "283"];
    for doc_id in doc_ids {
        let body = match docs
            .iter()
            .find(|c| c["id"].as_u64().map(|n| n.to_string()).as_deref() == Some(doc_id))
        {
            Some(c) => {
                json!({"title": c["title"], "description": c["description"], "image": c["image"],
                               "is_public": c["is_public"], "enable_progressive_lock": c["enable_progressive_lock"], "order": c["order"]})
            }
            None => json!({"title": "Unrelated"}),
        };
        ids.insert(
            doc_id,
            post(&institute, "courses/", body)["id"]
                .as_u64()
                .expect("id"),
        );
    }
    // The user reaches 280, 281 and 283 through Test Batch already.
    let test_batch = ids["29"];
    for doc_id in ["280", "281", "283"] {
        post(
            &institute,
            &format!("courses/{}/batches/", ids[doc_id]),
            json!({"batches": [test_batch]}),
        );
    }
    let ours = replay(&institute, &add, &ids, 201);
    assert_eq!(ours["count"], 5);

    // The remove example names ids 24 and 22 (its Go sample: 278 and 279).
    ids.insert("24", ids["278"]);
    ids.insert("22", ids["279"]);
    replay(&institute, &example("Remove Courses", "002"), &ids, 204);
    let after = expect(
        &institute,
        "GET",
        &format!("/api/v2.5/admin/users/{id}/courses/"),
        None,
        200,
    );
    assert_eq!(after["count"], 3);
}

#[test]
fn view_and_add_subscriptions() {
    let (institute, _) = world();
    let upsc = batch(&institute, "UPSC Batch");
    let test = batch(&institute, "Test Batch");
    let id = user(
        &institute,
        json!({"username": "lorem", "password": "ipsum1$"}),
    );
    let admin = institute.operator();
    admin
        .add_user_subscriptions(id, &[upsc], Some("2023-01-13"))
        .expect("subscribe");
    admin
        .add_user_subscriptions(id, &[test], Some("2023-01-13"))
        .expect("subscribe");
    let ids = BTreeMap::from([("1892", id), ("24", test), ("22", upsc)]);
    let ours = replay(
        &institute,
        &example("View User Subscriptions", "000"),
        &ids,
        200,
    );
    assert_eq!(ours["count"], 2);
    let ours = replay(
        &institute,
        &example("Add User Subscriptions", "000"),
        &ids,
        201,
    );
    assert_eq!(ours.as_array().map(Vec::len), Some(2));
}

/// Every request example of the fixtures is replayed by a test above.
#[test]
fn every_example_is_covered() {
    let covered = [
        ("Create User", "000"),
        ("Create User", "002"),
        ("Create User", "001"),
        ("View All Users", "000"),
        ("View User", "002"),
        ("View User", "001"),
        ("Update User", "000"),
        ("Update User", "002"),
        ("Update User", "001"),
        ("Delete User", "002"),
        ("View User By Email", "002"),
        ("View User By Email", "001"),
        ("View Batches", "002"),
        ("Add Batches", "002"),
        ("Remove Batches", "002"),
        ("Add Courses", "002"),
        ("Remove Courses", "002"),
        ("View User Subscriptions", "000"),
        ("Add User Subscriptions", "000"),
    ];
    for e in fixtures()["examples"].as_array().expect("examples") {
        let name = e["name"].as_str().unwrap_or_default();
        let seed = &e["seed"].as_str().unwrap_or_default()[..3];
        assert!(
            covered.contains(&(name, seed)) || name == "View All Users",
            "example {name} of seed {seed} is not replayed"
        );
    }
}
