//! Seed 004, the Sunbird user API: the examples of
//! `tests/fixtures/documents/sunbird.json` replayed through `rest::handle`
//! as a signed-in superuser, and the rules of SPEC 6-7 the examples do not
//! show (codes, masking, blocking, the one record behind three surfaces).
//!
//! The seed's obfuscated addresses (`[email protected]`) stand for plain
//! ones; its ids (`userId`s, organisation ids above 2^53) belong to one
//! Sunbird instance, so ids are taken from roster's own answers.

use roster::Institute;
use roster::rest::{Request, Response};
use roster_tests::{SEED_NOW, institute};
use serde_json::{Value, json};
use std::collections::BTreeSet;

const OBFUSCATED: &str = "[email\u{a0}protected]";
const ROOT_PASSWORD: &str = "root-pass-1";

fn examples() -> Vec<Value> {
    let path = roster_tests::document_fixtures().join("sunbird.json");
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

/// A world with a signed-in superuser.
struct World {
    i: Institute,
    token: String,
}

fn world() -> World {
    let (i, _clock) = institute(SEED_NOW);
    i.create_superuser("root", ROOT_PASSWORD)
        .expect("superuser");
    let token = i.login("root", ROOT_PASSWORD).expect("sign-in").token;
    World { i, token }
}

impl World {
    /// One request with the caller's token in `x-authenticated-user-token`
    /// (and the gateway's key in `Authorization`, as the seed sends it).
    fn send(&self, method: &str, path: &str, body: Option<Value>) -> Response {
        self.send_as(&self.token.clone(), method, path, body)
    }

    fn send_as(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> Response {
        let mut request = Request::new(method, path)
            .with_header("Content-Type", "application/json")
            .with_header("Authorization", "Bearer the-gateway-key")
            .with_header("x-authenticated-user-token", token);
        if let Some(body) = body {
            request = request.with_body(body.to_string());
        }
        roster::rest::handle(&self.i, request)
    }

    /// A request that must succeed: its `result`.
    #[track_caller]
    fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let r = self.send(method, path, body);
        assert_eq!(r.status, 200, "{method} {path}: {:?}", r.body);
        let v = r.json();
        assert_eq!(v["responseCode"], "OK", "{v}");
        assert_eq!(v["params"]["status"], "success");
        v["result"].clone()
    }

    /// A request that must fail with `status` and `err`: its message.
    #[track_caller]
    fn fails(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        status: u16,
        err: &str,
    ) -> String {
        let r = self.send(method, path, body);
        failure(&r, status, err)
    }

    /// Creates an organisation; its id.
    fn org(&self, name: &str, channel: &str, tenant: bool) -> u64 {
        let result = self.ok(
            "POST",
            "/api/org/v1/create",
            Some(
                json!({"request": {"orgName": name, "organisationType": "school",
                "channel": channel, "isTenant": tenant}}),
            ),
        );
        result["organisationId"].as_u64().expect("an id")
    }

    /// Creates a user through v1; its `userId`.
    fn user(&self, first: &str, email: &str) -> String {
        let result = self.ok(
            "POST",
            "/api/user/v1/create",
            Some(
                json!({"request": {"firstName": first, "email": email, "password": "Pass@1word"}}),
            ),
        );
        result["userId"].as_str().expect("a userId").to_string()
    }
}

/// Asserts `r` is a failure envelope of `status` and `err`; its message.
#[track_caller]
fn failure(r: &Response, status: u16, err: &str) -> String {
    assert_eq!(r.status, status, "{:?}", r.body);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v = r.json();
    assert_eq!(
        keys(&v),
        keys(&json!({"id":0,"ver":0,"ts":0,"params":0,"responseCode":0,"result":0})),
        "{v}"
    );
    assert_eq!(v["params"]["status"], "FAILED", "{v}");
    assert_eq!(v["params"]["err"], err, "{v}");
    assert_eq!(v["result"], json!({}), "{v}");
    v["params"]["errmsg"].as_str().expect("errmsg").to_string()
}

/// The request body of example `name`, its obfuscated addresses replaced
/// by `email`.
fn body_of(name: &str, email: &str) -> Value {
    let text = example(name)["request_body"].to_string();
    serde_json::from_str(&text.replace(OBFUSCATED, email)).expect("JSON")
}

/// The example's envelope as roster must answer it: the same keys, `id`,
/// `responseCode` and `params.status`.
#[track_caller]
fn same_envelope(answer: &Value, documented: &Value) {
    assert_eq!(keys(answer), keys(documented), "{answer}");
    assert_eq!(keys(&answer["params"]), keys(&documented["params"]));
    assert_eq!(answer["responseCode"], documented["responseCode"]);
    assert_eq!(answer["params"]["status"], documented["params"]["status"]);
}

#[test]
fn every_create_example_creates_a_user_with_the_documented_answer() {
    let w = world();
    // The SSO example's channel and organisation.
    let tenant = w.org("ft org", "ft_channel_new_9497168926", true);
    let sub = w.ok(
        "POST",
        "/api/org/v1/create",
        Some(
            json!({"request": {"orgName": "ft sub", "organisationType": "school",
            "channel": "ft_channel_new_9497168926", "isTenant": false,
            "externalId": "ft_org_external_1591465322456"}}),
        ),
    )["organisationId"]
        .as_u64()
        .unwrap();
    for (n, name) in [
        "Create User V1",
        "Create User V2",
        "Create User V3",
        "Create SsoUser V1",
        "User Signup V1",
        "User Signup V2",
    ]
    .into_iter()
    .enumerate()
    {
        let e = example(name);
        let mut body = body_of(name, &format!("user{n}@example.com"));
        // One user name per example (V3, SSO and signup share theirs).
        if body["request"].get("userName").is_some() {
            body["request"]["userName"] = json!(format!("username{n}"));
        }
        let path = e["path"].as_str().unwrap();
        let r = w.send("POST", path, Some(body));
        assert_eq!(r.status, 200, "{name}: {:?}", r.body);
        let v = r.json();
        same_envelope(&v, &e["response_body"]);
        assert_eq!(
            keys(&v["result"]),
            keys(&e["response_body"]["result"]),
            "{name}"
        );
        let user_id = v["result"]["userId"].as_str().unwrap().to_string();
        let read = w.ok("GET", &format!("/api/user/v1/read/{user_id}"), None);
        let user = &read["response"];
        assert_eq!(user["id"], json!(user_id));
        if name == "Create SsoUser V1" {
            assert_eq!(user["rootOrgId"], json!(tenant));
            assert_eq!(user["channel"], "ft_channel_new_9497168926");
            let orgs: Vec<u64> = user["organisations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["organisationId"].as_u64().unwrap())
                .collect();
            assert_eq!(orgs, vec![tenant, sub]);
        }
    }
}

#[test]
fn read_answers_carry_every_documented_key() {
    let w = world();
    let id = w.user("first name", "selfdeclaredev5@yopmail.com");
    for (name, path) in [
        ("Read User V1", "v1"),
        ("Read User V2", "v2"),
        ("Read User V3", "v3"),
        ("Read User V4", "v4"),
        ("Read User V5", "v5"),
    ] {
        let e = example(name);
        let documented = &e["response_body"]["result"]["response"];
        let fields = if path == "v3" {
            "?fields=roles,locations"
        } else {
            ""
        };
        let got = w.ok("GET", &format!("/api/user/{path}/read/{id}{fields}"), None);
        let got = &got["response"];
        let missing: Vec<String> = keys(documented).difference(&keys(got)).cloned().collect();
        // v1 and v2's `locationIds` is v3's `userLocations` (asked for).
        let missing: Vec<String> = missing
            .into_iter()
            .filter(|k| !(path == "v3" && k == "locationIds"))
            .collect();
        assert!(missing.is_empty(), "{name}: missing {missing:?}");
        assert_eq!(got["email"], "se*************@yopmail.com", "{name}");
        assert_eq!(got["maskedEmail"], got["email"]);
        let roles = &got["roles"];
        match path {
            "v5" => assert_eq!(roles, &json!([])),
            _ => assert_eq!(roles, &json!(["PUBLIC"])),
        }
    }
}

#[test]
fn update_examples_change_the_shared_record() {
    let w = world();
    let id = w.user("someone", "someone@example.com");
    for name in ["Update User V1", "Update User V2", "Update User V3"] {
        let mut body = body_of(name, "someone@example.com");
        body["request"]["userId"] = json!(id);
        let e = example(name);
        w.ok("PATCH", e["path"].as_str().unwrap(), Some(body));
    }
    let user = w.ok("GET", &format!("/api/user/v4/read/{id}"), None)["response"].clone();
    assert_eq!(user["phone"], "******8888");
    assert_eq!(
        user["profileUserTypes"],
        json!([{"type": "administrator", "subType": "deo"}])
    );
    assert_eq!(
        user["userLocations"],
        json!([{"code": "32,", "type": "state"}, {"code": "3210,", "type": "district"}])
    );
    // The same user on the Testpress surface.
    let admin = w.i.operator();
    let found = admin
        .list_users(&roster::UserQuery {
            email: Some("someone@example.com".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(found.items[0].phone, "8888888888");
}

#[test]
fn block_and_unblock_follow_the_examples_and_end_sessions() {
    let w = world();
    let id = w.user("blocky", "blocky@example.com");
    let token = w.i.login("blocky@example.com", "Pass@1word").unwrap().token;
    let mut body = example("Block user")["request_body"].clone();
    body["request"]["userId"] = json!(id);
    let result = w.ok("POST", "/api/user/v1/block", Some(body.clone()));
    assert_eq!(result, example("Block user")["response_body"]["result"]);
    let r = w.send_as(&token, "GET", &format!("/api/user/v1/read/{id}"), None);
    failure(&r, 401, "UOS_0070");
    let m = w.fails(
        "POST",
        "/api/user/v1/block",
        Some(body.clone()),
        400,
        "UOS_USRBLOK0008",
    );
    assert_eq!(m, "User is already inactive.");
    let m = w.fails(
        "GET",
        &format!("/api/user/v1/read/{id}"),
        None,
        400,
        "UOS_USRRED0006",
    );
    assert_eq!(m, "User account has been blocked .");
    // The seed's unblock example sends an empty userId.
    let m = w.fails(
        "POST",
        "/api/user/v1/unblock",
        Some(example("Unblock user")["request_body"].clone()),
        400,
        "UOS_USRUNBLOK0030",
    );
    assert_eq!(m, "Mandatory parameter userId is missing.");
    w.ok("POST", "/api/user/v1/unblock", Some(body.clone()));
    let m = w.fails(
        "POST",
        "/api/user/v1/unblock",
        Some(body),
        400,
        "UOS_USRUNBLOK0008",
    );
    assert_eq!(m, "User is already active.");
    assert!(w.i.login("blocky@example.com", "Pass@1word").is_ok());
}

#[test]
fn exists_and_get_match_real_values_and_mask_them() {
    let w = world();
    let id = w.user("Ravi", "Ravi.Kumar@example.com");
    let r = w.ok(
        "GET",
        "/api/user/v1/exists/email/ravi.kumar@EXAMPLE.com",
        None,
    );
    assert_eq!(r, json!({"exists": true}));
    let r = w.ok(
        "GET",
        "/api/user/v2/exists/email/ravi.kumar%40example.com",
        None,
    );
    assert_eq!(r, json!({"exists": true, "id": id, "name": "Ravi"}));
    let r = w.ok("GET", "/api/user/v1/exists/phone/9999999999", None);
    assert_eq!(r, json!({"exists": false}));
    let user =
        w.ok("GET", "/api/user/v1/get/email/ravi.kumar@example.com", None)["response"].clone();
    assert_eq!(user["id"], json!(id));
    assert_eq!(user["email"], "ra********@example.com");
    w.fails(
        "GET",
        "/api/user/v1/get/shoesize/9",
        None,
        400,
        "UOS_USRRED0018",
    );
    w.fails(
        "GET",
        "/api/user/v1/get/email/nobody@example.com",
        None,
        404,
        "UOS_USRRED0013",
    );
}

#[test]
fn every_failure_class_is_an_envelope_with_its_code() {
    let w = world();
    // Malformed JSON, a missing `request`, a field of the wrong type.
    let r = roster::rest::handle(
        &w.i,
        Request::new("POST", "/api/user/v1/create")
            .with_header("x-authenticated-user-token", &w.token)
            .with_body("{not json"),
    );
    failure(&r, 400, "UOS_USRCRT0028");
    let m = w.fails(
        "POST",
        "/api/user/v1/create",
        Some(json!({"firstName": "x"})),
        400,
        "UOS_USRCRT0030",
    );
    assert_eq!(m, "Mandatory parameter request is missing.");
    let m = w.fails(
        "POST",
        "/api/user/v1/create",
        Some(json!({"request": {"firstName": ["x"]}})),
        400,
        "UOS_USRCRT0003",
    );
    assert_eq!(m, "Data type of firstName should be String.");
    let m = w.fails(
        "POST",
        "/api/user/v1/create",
        Some(json!({"request": {"email": "a@b.in"}})),
        400,
        "UOS_USRCRT0030",
    );
    assert_eq!(m, "Mandatory parameter firstName is missing.");
    let m = w.fails(
        "POST",
        "/api/user/v1/create",
        Some(json!({"request": {"firstName": "a"}})),
        400,
        "UOS_USRCRT0019",
    );
    assert_eq!(m, "Please provide valid email or phone.");
    // Wrong method, no token, a bad token.
    w.fails(
        "GET",
        "/api/user/v1/create",
        None,
        405,
        "METHOD_NOT_ALLOWED",
    );
    let r = roster::rest::handle(&w.i, Request::new("GET", "/api/user/v1/read/x"));
    assert_eq!(failure(&r, 401, "UOS_0070"), "You are not authorized.");
    let r = w.send_as("not-a-token", "GET", "/api/user/v1/read/x", None);
    failure(&r, 401, "UOS_0070");
    // Not found, and a refused caller who learns nothing about the target.
    w.fails(
        "GET",
        "/api/user/v1/read/00000000-0000-4000-8000-000000000000",
        None,
        404,
        "UOS_USRRED0013",
    );
    let id = w.user("plain", "plain@example.com");
    let plain = w.i.login("plain@example.com", "Pass@1word").unwrap().token;
    let other = w.user("other", "other@example.com");
    for target in [other.as_str(), "00000000-0000-4000-8000-000000000000"] {
        let r = w.send_as(&plain, "GET", &format!("/api/user/v1/read/{target}"), None);
        failure(&r, 403, "UOS_USRRED0071");
    }
    // The user reads itself, masked as anyone else would see it.
    let r = w.send_as(&plain, "GET", &format!("/api/user/v1/read/{id}"), None);
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.json()["result"]["response"]["email"], "pl***@example.com");
    // Taken identifiers.
    let m = w.fails(
        "POST",
        "/api/user/v1/create",
        Some(json!({"request": {"firstName": "x", "email": "PLAIN@example.com"}})),
        400,
        "UOS_USRCRT0002",
    );
    assert_eq!(m, "email already exists");
}

#[test]
fn generated_user_names_are_the_names_with_a_suffix() {
    let w = world();
    let id = w.ok(
        "POST",
        "/api/user/v2/create",
        Some(json!({"request": {"firstName": "Ajoy", "lastName": "Maity", "phone": "9876543210"}})),
    )["userId"]
        .as_str()
        .unwrap()
        .to_string();
    let user = w.ok("GET", &format!("/api/user/v1/read/{id}"), None)["response"].clone();
    let name = user["userName"].as_str().unwrap();
    assert!(name.starts_with("ajoymaity_"), "{name}");
    assert_eq!(name.len(), "ajoymaity_".len() + 4);
    assert!(
        name.bytes()
            .skip(10)
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    );
    assert_eq!(user["phone"], "******3210");
    // A Sunbird user name may hold a space, and is kept lower-case.
    let id = w.ok(
        "POST",
        "/api/user/v1/create",
        Some(json!({"request": {"firstName": "A", "userName": "  UserName 2 ", "phone": "9876543211"}})),
    )["userId"]
        .as_str()
        .unwrap()
        .to_string();
    let user = w.ok("GET", &format!("/api/user/v1/read/{id}"), None)["response"].clone();
    assert_eq!(user["userName"], "username 2");
    let m = w.fails(
        "POST",
        "/api/user/v1/create",
        Some(
            json!({"request": {"firstName": "B", "userName": "USERNAME 2", "phone": "9876543212"}}),
        ),
        400,
        "UOS_USRCRT0002",
    );
    assert_eq!(m, "userName already exists");
}

#[test]
fn organisations_are_created_and_read() {
    let w = world();
    let id = w.org("Springfield", "springfield", true);
    let org = w.ok(
        "POST",
        "/api/org/v1/read",
        Some(json!({"request": {"organisationId": id.to_string()}})),
    )["response"]
        .clone();
    assert_eq!(org["orgName"], "Springfield");
    assert_eq!(org["channel"], "springfield");
    assert_eq!(org["isTenant"], true);
    let m = w.fails(
        "POST",
        "/api/org/v1/create",
        Some(json!({"request": {"orgName": "x", "organisationType": "school", "channel": "Springfield", "isTenant": true}})),
        400,
        "UOS_ORGCRT0004",
    );
    assert_eq!(m, "Value springfield for channel is already in use.");
    let m = w.fails(
        "POST",
        "/api/org/v1/read",
        Some(json!({"request": {"organisationId": 1297544481264435200u64}})),
        404,
        "UOS_ORGRED0013",
    );
    assert_eq!(m, "Requested organisation resource not found");
}
