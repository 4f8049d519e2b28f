//! Seed 003, the Django-style admin API (`/api/admin/users/`,
//! `/api/admin/groups/`, `/api/admin/permissions/`): every example of
//! `tests/fixtures/documents/django_admin.json` replayed through `rest::handle` as a
//! signed-in superuser ("This API can only be used by admin users"), and the
//! rules of SPEC D1-D3 and 7 that the document states without examples.
//!
//! The document's representations (`Example User`, `Example Group`) fix the
//! keys of every answer, but for `password`, which SPEC A3 makes write-only:
//! it is never output. Its ids (groups `[1]`, permissions 53, 54, 76...)
//! belong to one Django instance; roster's catalogue is its own (D3).

use roster::Institute;
use roster::rest::{Request, Response};
use roster_tests::{SEED_NOW, at, call, institute};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;

const USERS: &str = "/api/admin/users/";
const GROUPS: &str = "/api/admin/groups/";
const PERMISSIONS: &str = "/api/admin/permissions/";
const ROOT_PASSWORD: &str = "root-pass-1";
/// SPEC 3: the document's obfuscated address stands for a plain one.
const OBFUSCATED: &str = "[email\u{a0}protected]";
const PLAIN: &str = "admin@example.com";

fn examples() -> Vec<Value> {
    let path = roster_tests::document_fixtures().join("django_admin.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: Value = serde_json::from_str(&text).expect("fixture JSON");
    doc["examples"].as_array().expect("examples").clone()
}

fn example(name: &str) -> Value {
    examples()
        .into_iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no example {name}"))
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

/// The keys of a user answer: the document's, without the write-only
/// `password`.
fn user_keys() -> BTreeSet<String> {
    let mut k = keys(&example("Example User")["response_body"]);
    assert!(k.remove("password"), "the document shows a password");
    k
}

fn group_keys() -> BTreeSet<String> {
    keys(&example("Example Group")["response_body"])
}

fn envelope_keys() -> BTreeSet<String> {
    ["count", "next", "previous", "per_page", "results"]
        .into_iter()
        .map(String::from)
        .collect()
}

/// A world with a signed-in superuser `root` (not `admin`: the example user
/// is called that).
struct World {
    i: Institute,
    clock: Arc<roster::FixedClock>,
    token: String,
}

fn world() -> World {
    let (i, clock) = institute(SEED_NOW);
    i.create_superuser("root", ROOT_PASSWORD)
        .expect("superuser");
    let token = i.login("root", ROOT_PASSWORD).expect("sign-in").token;
    World { i, clock, token }
}

impl World {
    /// One request as `root`, through the authenticating facade.
    fn send(&self, method: &str, path: &str, body: Option<Value>) -> Response {
        send_as(&self.i, &self.token, method, path, body)
    }

    /// One request that must answer `status`; its JSON body. Every answer
    /// is checked for secrets.
    #[track_caller]
    fn expect(&self, method: &str, path: &str, body: Option<Value>, status: u16) -> Value {
        let r = self.send(method, path, body);
        assert_eq!(
            r.status, status,
            "{method} {path} answered {}: {:?}",
            r.status, r.body
        );
        no_secrets(&r);
        r.json()
    }

    /// Creates a user through the API; its id.
    fn user(&self, username: &str, extra: Value) -> u64 {
        let mut body =
            json!({"username": username, "password": "ipsum1$", "last_name": "Appleseed"});
        merge(&mut body, extra);
        id(&self.expect("POST", USERS, Some(body), 201))
    }

    fn group(&self, name: &str, permissions: Value) -> u64 {
        let body = json!({"name": name, "permissions": permissions});
        id(&self.expect("POST", GROUPS, Some(body), 201))
    }
}

fn send_as(i: &Institute, token: &str, method: &str, path: &str, body: Option<Value>) -> Response {
    let mut request = Request::new(method, path)
        .with_header("Content-Type", "application/json")
        .with_header("Authorization", &format!("JWT {token}"));
    if let Some(body) = body {
        request = request.with_body(body.to_string());
    }
    roster::rest::handle(i, request)
}

fn merge(body: &mut Value, extra: Value) {
    if let Value::Object(extra) = extra {
        body.as_object_mut().expect("object").extend(extra);
    }
}

fn id(v: &Value) -> u64 {
    v["id"].as_u64().unwrap_or_else(|| panic!("no id in {v}"))
}

/// No answer carries a password or a hash (SPEC A3: write-only).
#[track_caller]
fn no_secrets(r: &Response) {
    let body = r.body.as_deref().unwrap_or_default();
    for secret in ["\"password\"", "pbkdf2", "argon2", "$v=19$", "ipsum1$"] {
        assert!(!body.contains(secret), "{secret} in {body}");
    }
}

/// RFC 3339 UTC with microseconds.
#[track_caller]
fn assert_timestamp(v: &Value) {
    let s = v.as_str().unwrap_or_else(|| panic!("not a timestamp: {v}"));
    assert!(
        s.len() == 27 && s.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(s).is_ok(),
        "{s}"
    );
}

/// `path` of an example with `{id}` replaced.
fn path_of(example: &Value, id: u64) -> String {
    example["path"]
        .as_str()
        .expect("path")
        .replace("{id}", &id.to_string())
}

mod examples {
    use super::*;

    /// Each example, in document order, replayed in a world of its own.
    #[test]
    fn every_example_of_seed_003_replays() {
        let all = examples();
        assert_eq!(all.len(), 14, "seed 003 has 14 examples");
        let mut replayed = Vec::new();
        for e in &all {
            let name = e["name"].as_str().expect("name");
            match name {
                "Example User" => example_user(e),
                "POST /api/admin/users/" => create_user(e),
                "PUT /api/admin/users/{id}/" => update_user(e),
                "DELETE /api/admin/users/{id}/" => delete_user(e),
                "GET /api/admin/users/{id}/" => view_user(e),
                "GET /api/admin/users/" => list_users(e),
                n if n.starts_with("GET /api/admin/users/") => users_by_email(e),
                "Example Group" => example_group(e),
                "POST /api/admin/groups/" => create_group(e),
                "PUT /api/admin/groups/{id}/" => update_group(e),
                "DELETE /api/admin/groups/{id}/" => delete_group(e),
                "GET /api/admin/groups/{id}/" => view_group(e),
                "GET /api/admin/groups/" => list_groups(e),
                "GET /api/admin/groups/?name=Xyz" => groups_by_name(e),
                other => panic!("an example this test does not know: {other}"),
            }
            replayed.push(name);
        }
        assert_eq!(replayed.len(), 14);
    }

    /// The document's user, made through the API and read back: the same
    /// keys but `password`, the same values but the instance's ids, times
    /// and the obfuscated address.
    fn example_user(e: &Value) {
        let w = world();
        let doc = &e["response_body"];
        // The world it assumes: a group to be its `groups: [1]`.
        let staff = w.group("Staff", json!([]));
        let mut body = doc.clone();
        let object = body.as_object_mut().unwrap();
        for k in ["id", "last_login", "date_joined"] {
            object.remove(k);
        }
        object.insert("password".into(), json!("admin-example-1"));
        object.insert("email".into(), json!(PLAIN));
        object.insert("groups".into(), json!([staff]));
        // last_name is required on create; the document's admin has none,
        // so it is cleared afterwards (PUT is partial).
        object.insert("last_name".into(), json!("Temporary"));
        let created = w.expect("POST", USERS, Some(body), 201);
        assert_eq!(keys(&created), user_keys());
        let user = id(&created);
        let cleared = w.expect(
            "PUT",
            &format!("{USERS}{user}/"),
            Some(json!({"last_name": ""})),
            200,
        );
        assert_eq!(cleared["last_name"], "");
        // It signed in once, as the document's admin had.
        w.clock.advance(chrono::Duration::minutes(1));
        assert!(w.i.login("admin", "admin-example-1").is_ok());
        let got = w.expect("GET", &format!("{USERS}{user}/"), None, 200);
        assert_eq!(keys(&got), user_keys());
        for (k, v) in doc.as_object().unwrap() {
            let expected = match k.as_str() {
                "password" => continue,
                "id" => json!(user),
                "groups" => json!([staff]),
                "email" => {
                    assert_eq!(v, OBFUSCATED);
                    json!(PLAIN)
                }
                "last_login" | "date_joined" => {
                    assert_timestamp(&got[k]);
                    continue;
                }
                _ => v.clone(),
            };
            assert_eq!(got[k], expected, "{k}");
        }
        assert_eq!(got["date_joined"], "2023-01-12T05:36:19.298526Z");
        assert_eq!(got["last_login"], "2023-01-12T05:37:19.298526Z");
        // user_permissions [9, 10, 11, 12] are this catalogue's course
        // permissions, and hold.
        let admin = w.i.operator();
        for p in [
            "view_course",
            "add_course",
            "change_course",
            "delete_course",
        ] {
            assert!(admin.has_perm(user, &format!("roster.{p}")).unwrap(), "{p}");
        }
    }

    /// POST with the documented parameters at their defaults (and the
    /// required ones given).
    fn create_user(e: &Value) {
        let w = world();
        let mut body = serde_json::Map::new();
        for f in e["fields"].as_array().expect("fields") {
            body.insert(f["name"].as_str().unwrap().into(), f["default"].clone());
        }
        assert_eq!(body.len(), 10);
        body.insert("password".into(), json!("ipsum1$"));
        body.insert("username".into(), json!("lorem"));
        body.insert("last_name".into(), json!("Appleseed"));
        let r = w.expect(
            e["method"].as_str().unwrap(),
            &path_of(e, 0),
            Some(Value::Object(body)),
            201,
        );
        assert_eq!(keys(&r), user_keys());
        assert_eq!(
            r,
            json!({
                "id": r["id"], "last_login": null, "is_superuser": false, "username": "lorem",
                "first_name": "", "last_name": "Appleseed", "email": "", "is_staff": false,
                "is_active": false, "date_joined": "2023-01-12T05:36:19.298526Z",
                "groups": [], "user_permissions": []
            })
        );
    }

    fn update_user(e: &Value) {
        let w = world();
        let user = w.user("lorem", json!({}));
        let r = w.expect(
            e["method"].as_str().unwrap(),
            &path_of(e, user),
            Some(json!({"first_name": "John", "is_active": true, "email": "john@example.com"})),
            200,
        );
        assert_eq!(keys(&r), user_keys());
        assert_eq!(
            (
                &r["first_name"],
                &r["is_active"],
                &r["email"],
                &r["last_name"]
            ),
            (
                &json!("John"),
                &json!(true),
                &json!("john@example.com"),
                &json!("Appleseed")
            )
        );
    }

    fn delete_user(e: &Value) {
        let w = world();
        let user = w.user("lorem", json!({}));
        let r = w.send(e["method"].as_str().unwrap(), &path_of(e, user), None);
        assert_eq!((r.status, &r.body), (204, &None));
        let r = w.send("GET", &path_of(e, user), None);
        assert_eq!((r.status, r.json()), (404, json!({"detail": "Not found."})));
        // Username and email are free again.
        w.user("lorem", json!({}));
    }

    fn view_user(e: &Value) {
        let w = world();
        let user = w.user("lorem", json!({"email": "lorem@example.com"}));
        let r = w.expect("GET", &path_of(e, user), None, 200);
        assert_eq!(keys(&r), user_keys());
        assert_eq!(
            (&r["id"], &r["email"]),
            (&json!(user), &json!("lorem@example.com"))
        );
        let r = w.send("GET", &path_of(e, 999), None);
        assert_eq!(r.status, 404);
    }

    fn list_users(e: &Value) {
        let w = world();
        w.user("lorem", json!({}));
        let r = w.expect("GET", &path_of(e, 0), None, 200);
        assert_eq!(keys(&r), envelope_keys());
        assert_eq!((&r["count"], &r["per_page"]), (&json!(2), &json!(20)));
        let results = r["results"].as_array().unwrap();
        assert_eq!(results[0]["username"], "root");
        for u in results {
            assert_eq!(keys(u), user_keys());
        }
    }

    /// The document's line is `GET /api/admin/users/[email protected]`: the
    /// address was obfuscated away, so the path as written names nothing;
    /// by analogy with `?name=Xyz` it is the `email` filter.
    fn users_by_email(e: &Value) {
        let w = world();
        assert!(e["path"].as_str().unwrap().contains(OBFUSCATED));
        let user = w.user("admin", json!({"email": PLAIN}));
        let r = w.send("GET", e["path"].as_str().unwrap(), None);
        assert_eq!((r.status, r.json()), (404, json!({"detail": "Not found."})));
        let r = w.expect("GET", &format!("{USERS}?email={PLAIN}"), None, 200);
        assert_eq!(keys(&r), envelope_keys());
        assert_eq!(r["count"], 1);
        assert_eq!(r["results"][0]["id"], user);
        assert_eq!(keys(&r["results"][0]), user_keys());
    }

    /// The document's group: its permission ids are another instance's
    /// (53, 54, ... 76 are past this catalogue's 28), so it is refused,
    /// naming the first (DRF's `ManyRelatedField` stops there); with ids of
    /// this catalogue it is made.
    fn example_group(e: &Value) {
        let w = world();
        let doc = &e["response_body"];
        let mut body = doc.clone();
        body.as_object_mut().unwrap().remove("id");
        let r = w.send("POST", GROUPS, Some(body.clone()));
        let first = &doc["permissions"][0];
        assert!(first.as_u64().is_some_and(|p| p > 28), "{doc}");
        let message = format!("Invalid pk \"{first}\" - object does not exist.");
        assert_eq!(
            (r.status, r.json()),
            (400, json!({"permissions": [message]}))
        );
        assert_eq!(w.expect("GET", GROUPS, None, 200)["count"], 0);
        // The same shape with this catalogue's ids: user, batch, course
        // permissions and view_group (documented order: 4 per model).
        body["permissions"] = json!([5, 6, 7, 8, 1, 2, 3, 4, 9, 10, 11, 12, 17]);
        let r = w.expect("POST", GROUPS, Some(body), 201);
        assert_eq!(keys(&r), group_keys());
        assert_eq!(r["name"], doc["name"]);
        assert_eq!(
            r["permissions"],
            json!([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 17])
        );
        let got = w.expect("GET", &format!("{GROUPS}{}/", id(&r)), None, 200);
        assert_eq!(got, r);
    }

    fn create_group(e: &Value) {
        let w = world();
        let mut body = serde_json::Map::new();
        for f in e["fields"].as_array().expect("fields") {
            body.insert(f["name"].as_str().unwrap().into(), f["default"].clone());
        }
        // The default name "" is blank, and name is required.
        let r = w.send("POST", GROUPS, Some(Value::Object(body.clone())));
        assert_eq!(
            (r.status, r.json()),
            (400, json!({"name": ["This field may not be blank."]}))
        );
        body.insert("name".into(), json!("Xyz"));
        let r = w.expect("POST", &path_of(e, 0), Some(Value::Object(body)), 201);
        assert_eq!(keys(&r), group_keys());
        assert_eq!((&r["name"], &r["permissions"]), (&json!("Xyz"), &json!([])));
    }

    fn update_group(e: &Value) {
        let w = world();
        let group = w.group("Xyz", json!([1]));
        let r = w.expect(
            "PUT",
            &path_of(e, group),
            Some(json!({"name": "Abc", "permissions": [2, 1]})),
            200,
        );
        assert_eq!(keys(&r), group_keys());
        assert_eq!(
            r,
            json!({"id": group, "name": "Abc", "permissions": [1, 2]})
        );
    }

    fn delete_group(e: &Value) {
        let w = world();
        let group = w.group("Xyz", json!([1]));
        let member = w.user("lorem", json!({"groups": [group]}));
        let r = w.send("DELETE", &path_of(e, group), None);
        assert_eq!((r.status, &r.body), (204, &None));
        assert_eq!(w.send("GET", &path_of(e, group), None).status, 404);
        let user = w.expect("GET", &format!("{USERS}{member}/"), None, 200);
        assert_eq!(user["groups"], json!([]));
        // The name is free again.
        w.group("Xyz", json!([]));
    }

    fn view_group(e: &Value) {
        let w = world();
        let group = w.group("Xyz", json!([3, 1]));
        let r = w.expect("GET", &path_of(e, group), None, 200);
        assert_eq!(
            r,
            json!({"id": group, "name": "Xyz", "permissions": [1, 3]})
        );
        assert_eq!(w.send("GET", &path_of(e, group + 1), None).status, 404);
    }

    fn list_groups(e: &Value) {
        let w = world();
        w.group("Xyz", json!([]));
        w.group("Abc", json!([]));
        let r = w.expect("GET", &path_of(e, 0), None, 200);
        assert_eq!(keys(&r), envelope_keys());
        let names: Vec<&str> = r["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Xyz", "Abc"], "by id");
        for g in r["results"].as_array().unwrap() {
            assert_eq!(keys(g), group_keys());
        }
    }

    fn groups_by_name(e: &Value) {
        let w = world();
        let xyz = w.group("Xyz", json!([]));
        w.group("Xyzz", json!([]));
        let query = e["query"].as_object().unwrap();
        assert_eq!(query.get("name"), Some(&json!("Xyz")));
        let r = w.expect("GET", &format!("{}?name=Xyz", path_of(e, 0)), None, 200);
        assert_eq!(keys(&r), envelope_keys());
        assert_eq!(
            (&r["count"], &r["results"][0]["id"]),
            (&json!(1), &json!(xyz))
        );
    }
}

mod users {
    use super::*;

    #[test]
    fn create_requires_username_password_and_last_name() {
        let w = world();
        let required = json!(["This field is required."]);
        let r = w.send("POST", USERS, Some(json!({})));
        assert_eq!(
            (r.status, r.json()),
            (
                400,
                json!({"username": required, "password": required, "last_name": required})
            )
        );
        let r = w.send(
            "POST",
            USERS,
            Some(json!({"username": "lorem", "password": "ipsum1$", "last_name": "  "})),
        );
        assert_eq!((r.status, r.json()), (400, json!({"last_name": required})));
        let r = w.send(
            "POST",
            USERS,
            Some(json!({"username": "lorem", "password": "123456", "last_name": "L"})),
        );
        assert_eq!(r.status, 400);
        assert_eq!(keys(&r.json()), BTreeSet::from(["password".to_string()]));
        assert_eq!(w.expect("GET", USERS, None, 200)["count"], 1, "only root");
        // Usernames are unique ignoring case.
        w.user("lorem", json!({}));
        let r = w.send(
            "POST",
            USERS,
            Some(json!({"username": "LOREM", "password": "ipsum1$", "last_name": "L"})),
        );
        assert_eq!(
            (r.status, r.json()),
            (
                400,
                json!({"username": ["A user with that username already exists."]})
            )
        );
    }

    #[test]
    fn defaults_make_an_inactive_plain_user() {
        let w = world();
        let r = w.expect(
            "POST",
            USERS,
            Some(json!({"username": "lorem", "password": "ipsum1$", "last_name": "Appleseed"})),
            201,
        );
        assert_eq!(
            (
                &r["is_active"],
                &r["is_staff"],
                &r["is_superuser"],
                &r["groups"],
                &r["user_permissions"],
                &r["last_login"],
                &r["first_name"],
                &r["email"]
            ),
            (
                &json!(false),
                &json!(false),
                &json!(false),
                &json!([]),
                &json!([]),
                &Value::Null,
                &json!(""),
                &json!("")
            )
        );
        // Inactive: cannot sign in until activated.
        assert!(w.i.login("lorem", "ipsum1$").is_err());
        w.expect(
            "PUT",
            &format!("{USERS}{}/", id(&r)),
            Some(json!({"is_active": true})),
            200,
        );
        assert!(w.i.login("lorem", "ipsum1$").is_ok());
        // The Testpress paths keep their own default (active).
        let r = call(
            &w.i,
            "POST",
            "/api/v2.5/admin/users/",
            Some(json!({"username": "ipsum", "password": "ipsum1$"})),
        );
        assert_eq!(r.json()["is_active"], true);
    }

    #[test]
    fn put_and_patch_are_partial() {
        let w = world();
        let group = w.group("Xyz", json!([1]));
        let user = w.user(
            "lorem",
            json!({"first_name": "John", "email": "john@example.com", "is_active": true,
                "is_staff": true, "groups": [group], "user_permissions": [5, 6]}),
        );
        let path = format!("{USERS}{user}/");
        let before = w.expect("GET", &path, None, 200);
        for (method, body) in [
            ("PUT", json!({"first_name": "Jack"})),
            ("PATCH", json!({"first_name": "John"})),
            ("PUT", json!({})),
        ] {
            let after = w.expect(method, &path, Some(body.clone()), 200);
            for k in user_keys() {
                if body.get(&k).is_none() {
                    assert_eq!(after[&k], before[&k], "{method} {body}: {k}");
                }
            }
        }
        // Fields present change; lists replace; the password changes too.
        let r = w.expect(
            "PUT",
            &path,
            Some(
                json!({"groups": [], "user_permissions": [2, 1, 2], "is_staff": false,
                "password": "new-secret-2"}),
            ),
            200,
        );
        assert_eq!(
            (
                &r["groups"],
                &r["user_permissions"],
                &r["is_staff"],
                &r["is_active"]
            ),
            (&json!([]), &json!([1, 2]), &json!(false), &json!(true))
        );
        assert!(w.i.login("lorem", "new-secret-2").is_ok());
        // Rules still apply to what is sent.
        let r = w.send("PUT", &path, Some(json!({"email": "not an address"})));
        assert_eq!(r.status, 400);
        let r = w.send("PUT", &path, Some(json!({"is_active": "maybe"})));
        assert_eq!(
            (r.status, r.json()),
            (400, json!({"is_active": ["Must be a valid boolean."]}))
        );
        let r = w.send("PUT", &format!("{USERS}999/"), Some(json!({})));
        assert_eq!(r.status, 404);
    }

    #[test]
    fn date_joined_is_created_and_last_login_the_last_sign_in() {
        let mut w = world();
        let user = w.user("lorem", json!({"is_active": true}));
        let path = format!("{USERS}{user}/");
        let testpress = call(&w.i, "GET", &format!("/api/v2.5/admin/users/{user}/"), None).json();
        let got = w.expect("GET", &path, None, 200);
        assert_eq!(got["date_joined"], testpress["created"]);
        assert_eq!(got["date_joined"], "2023-01-12T05:36:19.298526Z");
        assert_eq!(got["last_login"], Value::Null);
        // Later changes and sign-ins move neither `date_joined` nor each other.
        w.clock.set(at("2023-02-01T10:00:00.000001Z"));
        w.token = w.i.login("root", ROOT_PASSWORD).unwrap().token;
        w.expect("PUT", &path, Some(json!({"first_name": "John"})), 200);
        assert!(w.i.login("lorem", "ipsum1$").is_ok());
        w.clock.set(at("2023-02-02T10:00:00Z"));
        assert!(w.i.login("lorem", "wrong-password").is_err());
        w.token = w.i.login("root", ROOT_PASSWORD).unwrap().token;
        let got = w.expect("GET", &path, None, 200);
        assert_eq!(got["date_joined"], "2023-01-12T05:36:19.298526Z");
        assert_eq!(got["last_login"], "2023-02-01T10:00:00.000001Z");
        let testpress = call(&w.i, "GET", &format!("/api/v2.5/admin/users/{user}/"), None).json();
        assert_eq!(testpress["modified"], "2023-02-01T10:00:00.000001Z");
    }

    #[test]
    fn the_email_filter_is_exact_ignoring_case_in_the_envelope() {
        let w = world();
        let a = w.user("a", json!({"email": "Lorem@Example.com"}));
        w.user("b", json!({"email": "lorem@example.co"}));
        w.user("c", json!({"email": "xlorem@example.com"}));
        for email in [
            "lorem@example.com",
            "LOREM@EXAMPLE.COM",
            "Lorem%40Example.com",
        ] {
            let r = w.expect("GET", &format!("{USERS}?email={email}"), None, 200);
            assert_eq!(keys(&r), envelope_keys());
            assert_eq!(
                (&r["count"], &r["next"], &r["previous"], &r["per_page"]),
                (&json!(1), &Value::Null, &Value::Null, &json!(20)),
                "{email}"
            );
            assert_eq!(r["results"][0]["id"], a);
        }
        for email in ["lorem@example", "orem@example.com", "nobody@example.com"] {
            let r = w.expect("GET", &format!("{USERS}?email={email}"), None, 200);
            assert_eq!(
                (&r["count"], &r["results"]),
                (&json!(0), &json!([])),
                "{email}"
            );
        }
        // An empty filter filters nothing.
        assert_eq!(
            w.expect("GET", &format!("{USERS}?email="), None, 200)["count"],
            4
        );
    }

    #[test]
    fn lists_are_pages_of_twenty_with_links() {
        let w = world();
        for k in 0..24 {
            w.user(&format!("user{k:02}"), json!({}));
        }
        let first = w.expect("GET", USERS, None, 200);
        assert_eq!(
            (&first["count"], &first["next"], &first["previous"]),
            (&json!(25), &json!("/api/admin/users/?page=2"), &Value::Null)
        );
        assert_eq!(first["results"].as_array().unwrap().len(), 20);
        let second = w.expect("GET", "/api/admin/users/?page=2", None, 200);
        assert_eq!(
            (&second["next"], &second["previous"]),
            (&Value::Null, &json!("/api/admin/users/"))
        );
        assert_eq!(second["results"].as_array().unwrap().len(), 5);
        let r = w.send("GET", "/api/admin/users/?page=3", None);
        assert_eq!(
            (r.status, r.json()),
            (404, json!({"detail": "Invalid page."}))
        );
    }

    #[test]
    fn the_documents_permission_ids_are_refused_and_nothing_is_made() {
        let w = world();
        let r = w.send(
            "POST",
            USERS,
            Some(
                json!({"username": "lorem", "password": "ipsum1$", "last_name": "L",
                "user_permissions": [53, 54, 76], "groups": [1]}),
            ),
        );
        assert_eq!(
            (r.status, r.json()),
            (
                400,
                json!({
                    "user_permissions": ["Invalid pk \"53\" - object does not exist."],
                    "groups": ["Invalid pk \"1\" - object does not exist."]
                })
            )
        );
        assert_eq!(w.expect("GET", USERS, None, 200)["count"], 1);
        let user = w.user("lorem", json!({}));
        let r = w.send(
            "PUT",
            &format!("{USERS}{user}/"),
            Some(json!({"user_permissions": [30]})),
        );
        assert_eq!(r.status, 400);
        let r = w.send(
            "PUT",
            &format!("{USERS}{user}/"),
            Some(json!({"user_permissions": ["view_user"], "groups": [-1]})),
        );
        assert_eq!(
            (r.status, r.json()),
            (
                400,
                json!({
                    "user_permissions": ["Incorrect type. Expected pk value, received str."],
                    "groups": ["Invalid pk \"-1\" - object does not exist."]
                })
            )
        );
    }

    #[test]
    fn only_admin_users_may_use_it() {
        let w = world();
        let user = w.user("lorem", json!({"is_active": true}));
        let anonymous = roster::rest::handle(&w.i, Request::new("GET", USERS));
        assert_eq!(
            (anonymous.status, anonymous.json()),
            (
                401,
                json!({"detail": "Authentication credentials were not provided."})
            )
        );
        let token = w.i.login("lorem", "ipsum1$").unwrap().token;
        for (method, path) in [
            ("GET", USERS.to_string()),
            ("GET", format!("{USERS}{user}/")),
            ("DELETE", format!("{USERS}{user}/")),
            ("GET", GROUPS.to_string()),
            ("POST", GROUPS.to_string()),
            ("GET", PERMISSIONS.to_string()),
        ] {
            let r = send_as(&w.i, &token, method, &path, Some(json!({"name": "X"})));
            assert_eq!(r.status, 403, "{method} {path}");
        }
        // Authentication comes before the method check, as in DRF.
        let r = roster::rest::handle(&w.i, Request::new("DELETE", PERMISSIONS));
        assert_eq!(r.status, 401);
        let r = w.send("DELETE", PERMISSIONS, None);
        assert_eq!((r.status, r.header("allow")), (405, Some("GET")));
    }
}

mod groups {
    use super::*;

    #[test]
    fn names_are_required_unique_ignoring_case_and_at_most_150() {
        let w = world();
        let r = w.send("POST", GROUPS, Some(json!({"permissions": [1]})));
        assert_eq!(
            (r.status, r.json()),
            (400, json!({"name": ["This field is required."]}))
        );
        for blank in ["", "   "] {
            let r = w.send("POST", GROUPS, Some(json!({"name": blank})));
            assert_eq!(
                (r.status, r.json()),
                (400, json!({"name": ["This field may not be blank."]})),
                "{blank:?}"
            );
        }
        let r = w.send("POST", GROUPS, Some(json!({"name": "x".repeat(151)})));
        assert_eq!(r.status, 400);
        assert_eq!(keys(&r.json()), BTreeSet::from(["name".to_string()]));
        w.group(&"x".repeat(150), json!([]));
        let xyz = w.group("Xyz", json!([]));
        for taken in ["Xyz", "XYZ", " xyz "] {
            let r = w.send("POST", GROUPS, Some(json!({"name": taken})));
            assert_eq!(
                (r.status, r.json()),
                (
                    400,
                    json!({"name": ["A group with this name already exists."]})
                ),
                "{taken:?}"
            );
        }
        let abc = w.group("Abc", json!([]));
        let r = w.send(
            "PUT",
            &format!("{GROUPS}{abc}/"),
            Some(json!({"name": "xYZ"})),
        );
        assert_eq!(r.status, 400, "renaming onto another's name");
        // Its own name in another case is fine.
        let r = w.expect(
            "PUT",
            &format!("{GROUPS}{xyz}/"),
            Some(json!({"name": "XYZ"})),
            200,
        );
        assert_eq!(r["name"], "XYZ");
        let r = w.send("POST", GROUPS, Some(json!({"name": 5})));
        assert_eq!(
            (r.status, r.json()),
            (400, json!({"name": ["Not a valid string."]}))
        );
    }

    #[test]
    fn the_name_filter_is_exact_ignoring_case() {
        let w = world();
        let xyz = w.group("Xyz", json!([]));
        w.group("Xyzz", json!([]));
        w.group("Abc", json!([]));
        for name in ["Xyz", "xyz", "XYZ", "%58yz", "+Xyz+"] {
            let r = w.expect("GET", &format!("{GROUPS}?name={name}"), None, 200);
            assert_eq!(
                (&r["count"], &r["results"][0]["id"]),
                (&json!(1), &json!(xyz)),
                "{name}"
            );
        }
        for name in ["Xy", "yz", "Xyz z", "nothing"] {
            let r = w.expect("GET", &format!("{GROUPS}?name={name}"), None, 200);
            assert_eq!(
                (&r["count"], &r["results"]),
                (&json!(0), &json!([])),
                "{name}"
            );
        }
        assert_eq!(
            w.expect("GET", &format!("{GROUPS}?name="), None, 200)["count"],
            3
        );
    }

    #[test]
    fn put_is_partial_and_permissions_are_replaced() {
        let w = world();
        let g = w.group("Xyz", json!([4, 2, 2]));
        let path = format!("{GROUPS}{g}/");
        assert_eq!(
            w.expect("GET", &path, None, 200)["permissions"],
            json!([2, 4])
        );
        let r = w.expect("PUT", &path, Some(json!({"permissions": [28]})), 200);
        assert_eq!(r, json!({"id": g, "name": "Xyz", "permissions": [28]}));
        let r = w.expect("PATCH", &path, Some(json!({"name": "Abc"})), 200);
        assert_eq!(r, json!({"id": g, "name": "Abc", "permissions": [28]}));
        let r = w.expect("PUT", &path, Some(json!({})), 200);
        assert_eq!(r, json!({"id": g, "name": "Abc", "permissions": [28]}));
        let r = w.send("PUT", &path, Some(json!({"permissions": [53, 54, 76]})));
        assert_eq!(r.status, 400);
        assert_eq!(
            w.expect("GET", &path, None, 200)["permissions"],
            json!([28])
        );
        assert_eq!(w.send("DELETE", &format!("{GROUPS}999/"), None).status, 404);
    }
}

mod permissions {
    use super::*;

    #[test]
    fn the_catalogue_lists_29_permissions_in_the_documented_order() {
        let w = world();
        let r = w.expect("GET", PERMISSIONS, None, 200);
        let list = r.as_array().expect("a bare list");
        assert_eq!(list.len(), 29);
        let models = [
            ("user", "user"),
            ("batch", "batch"),
            ("course", "course"),
            ("subscription", "subscription"),
            ("group", "group"),
            ("customfield", "custom field"),
            ("organisation", "organisation"),
        ];
        let actions = ["view", "add", "change", "delete"];
        let mut expected = Vec::new();
        for (model, words) in models {
            for action in actions {
                expected.push(json!({
                    "id": expected.len() + 1,
                    "codename": format!("{action}_{model}"),
                    "name": format!("Can {action} {words}"),
                }));
            }
        }
        // Appended in Step 9: reading the change feed.
        expected.push(json!({"id": 29, "codename": "view_change", "name": "Can view change"}));
        assert_eq!(list, &expected);
        // The same as the typed catalogue, and every id is grantable.
        let typed = w.i.operator().permissions().unwrap();
        for (p, v) in typed.iter().zip(list) {
            assert_eq!(
                (json!(p.id), json!(p.codename), json!(p.name)),
                (v["id"].clone(), v["codename"].clone(), v["name"].clone())
            );
            assert_eq!(
                roster::Permission::parse(&format!("roster.{}", p.codename)).map(|x| x.id()),
                Some(p.id)
            );
        }
        let all: Vec<u64> = (1..=29).collect();
        let g = w.group("All", json!(all));
        let got = w.expect("GET", &format!("{GROUPS}{g}/"), None, 200);
        assert_eq!(got["permissions"], json!(all));
        // v2.5 / query parameters change nothing; the list is not paginated.
        assert_eq!(
            w.expect("GET", "/api/admin/permissions/?page=2", None, 200),
            r
        );
        assert_eq!(w.expect("GET", "/api/admin/permissions", None, 200), r);
    }
}
