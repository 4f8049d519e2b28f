//! Seed 004, the Sunbird user API: the examples of
//! `tests/fixtures/documents/sunbird.json` replayed through `rest::handle`
//! as a signed-in superuser, and the rules of SPEC 6-7 the examples do not
//! show (codes, masking, blocking, the one record behind three surfaces).
//!
//! The seed's obfuscated addresses (`[email protected]`) stand for plain
//! ones; its ids (`userId`s, organisation ids above 2^53) belong to one
//! Sunbird instance, so ids are taken from roster's own answers.

use roster::Institute;
use roster::api::sunbird::{
    MAX_FILTER_VALUES, MAX_ID_FILTER_VALUES, MAX_OR_GROUPS, MAX_RANGE_BOUND,
};
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

/// The keys of a JSON object.
pub(super) fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

/// A world with a signed-in superuser.
pub(super) struct World {
    /// The institute.
    pub(super) i: Institute,
    /// The superuser's session token.
    pub(super) token: String,
}

/// A new in-memory world on the seed's clock, its superuser signed in.
pub(super) fn world() -> World {
    world_and_clock().0
}

/// [`world`] and the clock it runs on, for a test that moves time.
pub(super) fn world_and_clock() -> (World, std::sync::Arc<roster::FixedClock>) {
    let (i, clock) = institute(SEED_NOW);
    i.create_superuser("root", ROOT_PASSWORD)
        .expect("superuser");
    let token = i.login("root", ROOT_PASSWORD).expect("sign-in").token;
    (World { i, token }, clock)
}

impl World {
    /// One request with the caller's token in `x-authenticated-user-token`
    /// (and the gateway's key in `Authorization`, as the seed sends it).
    pub(super) fn send(&self, method: &str, path: &str, body: Option<Value>) -> Response {
        self.send_as(&self.token.clone(), method, path, body)
    }

    /// [`World::send`] with `token` as the caller's.
    pub(super) fn send_as(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Response {
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
    pub(super) fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let r = self.send(method, path, body);
        assert_eq!(r.status, 200, "{method} {path}: {:?}", r.body);
        let v = r.json();
        assert_eq!(v["responseCode"], "OK", "{v}");
        assert_eq!(v["params"]["status"], "success");
        v["result"].clone()
    }

    /// A `POST` of `body` that must succeed and create a user: its `userId`.
    #[track_caller]
    pub(super) fn created(&self, path: &str, body: Value) -> String {
        self.ok("POST", path, Some(body))["userId"]
            .as_str()
            .expect("a userId")
            .to_string()
    }

    /// A request that must fail with `status` and `err`: its message.
    #[track_caller]
    pub(super) fn fails(
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
    pub(super) fn org(&self, name: &str, channel: &str, tenant: bool) -> u64 {
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

    /// A signed-in manager ("Parent", parent@example.com) and its managed
    /// users of first names `kids`: its `userId` and token.
    fn manager_of(&self, kids: &[&str]) -> (String, String) {
        let parent = self.user("Parent", "parent@example.com");
        let token = self
            .i
            .login("parent@example.com", "Pass@1word")
            .unwrap()
            .token;
        for first in kids {
            self.ok(
                "POST",
                "/api/user/v4/create",
                Some(json!({"request": {"firstName": first, "managedBy": parent}})),
            );
        }
        (parent, token)
    }

    /// The managed list of `manager` with tokens, as `token` asks for it:
    /// each managed user's first name and the token it was given.
    fn managed_tokens(&self, manager: &str, token: &str) -> Vec<(String, Option<String>)> {
        let path = format!("/api/user/v1/managed/{manager}?withTokens=true");
        let r = self.send_as(token, "GET", &path, None);
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.json()["result"]["response"]["content"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["firstName"].as_str().unwrap().to_string(),
                    e["managedToken"].as_str().map(str::to_string),
                )
            })
            .collect()
    }

    /// The token `manager`'s list gives its managed user `first`.
    fn managed_token(&self, manager: &str, token: &str, first: &str) -> Option<String> {
        self.managed_tokens(manager, token)
            .into_iter()
            .find(|(f, _)| f == first)
            .and_then(|(_, t)| t)
    }

    /// Creates a user through v1; its `userId`.
    pub(super) fn user(&self, first: &str, email: &str) -> String {
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
pub(super) fn failure(r: &Response, status: u16, err: &str) -> String {
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
    // So is a read by login id; a lookup (S7) shows the status.
    let m = w.fails(
        "POST",
        "/api/user/v1/profile/read",
        Some(json!({"request": {"loginId": "blocky@example.com"}})),
        400,
        "UOS_USRRED0006",
    );
    assert_eq!(m, "User account has been blocked .");
    let got = w.ok("GET", "/api/user/v1/get/email/blocky@example.com", None);
    assert_eq!(got["response"]["status"], 0, "{got}");
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
    let got = w.ok("GET", "/api/user/v1/get/email/blocky@example.com", None);
    assert_eq!(got["response"]["status"], 1, "{got}");
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
    // A phone someone holds: found by its entry, checked against the record.
    let body =
        json!({"request": {"firstName": "Phani", "phone": "9876543210", "password": "Pass@1word"}});
    let phani = w.ok("POST", "/api/user/v1/create", Some(body))["userId"].clone();
    let r = w.ok("GET", "/api/user/v2/exists/phone/9876543210", None);
    assert_eq!(r, json!({"exists": true, "id": phani, "name": "Phani"}));
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
    let r = w.send("GET", "/api/user/v1/create", None);
    assert_eq!(r.header("Allow"), Some("POST"));
    let r = w.send("DELETE", "/api/user/v1/read/x", None);
    assert_eq!((r.status, r.header("Allow")), (405, Some("GET")));
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
    let id = w.created(
        "/api/user/v2/create",
        json!({"request": {"firstName": "Ajoy", "lastName": "Maity", "phone": "9876543210"}}),
    );
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
    // Long names leave room for the suffix within 150 characters; a name
    // with no Latin letters gets the stem `user`.
    for (n, (first, last, stem)) in [
        ("a".repeat(150), "b".repeat(150), "a".repeat(145)),
        ("अजय".to_string(), String::new(), "user".to_string()),
    ]
    .into_iter()
    .enumerate()
    {
        let id = w.created(
            "/api/user/v1/create",
            json!({"request": {"firstName": first, "lastName": last,
                "email": format!("long{n}@example.com")}}),
        );
        let user = w.ok("GET", &format!("/api/user/v1/read/{id}"), None)["response"].clone();
        let name = user["userName"].as_str().unwrap();
        assert_eq!(name.len(), stem.len() + 5, "{name}");
        assert!(name.starts_with(&format!("{stem}_")), "{name}");
    }
    // A Sunbird user name may hold a space, and is kept lower-case.
    let id = w.created(
        "/api/user/v1/create",
        json!({"request": {"firstName": "A", "userName": "  UserName 2 ", "phone": "9876543211"}}),
    );
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

/// S13: organisations are listed, by ascending id, in pages of any depth,
/// filtered on their fields ignoring case; the typed API and the REST
/// search agree; a caller without `view_organisation` is refused before
/// anything is read; a bad body is a clear 400.
#[test]
fn organisations_are_listed_filtered_and_paged() {
    let w = world();
    let state = w.org("State Board", "state1", true);
    let mut schools = Vec::new();
    for n in 0..7 {
        let body = json!({"request": {"orgName": format!("School {n}"), "organisationType": "school",
            "channel": "state1", "isTenant": false, "externalId": format!("SCH-{n}"),
            "email": format!("office{n}@school.example")}});
        schools.push(
            w.ok("POST", "/api/org/v1/create", Some(body))["organisationId"]
                .as_u64()
                .unwrap(),
        );
    }
    let other = w.org("Other Board", "other", true);
    let search = |request: Value| -> (u64, Vec<u64>) {
        let r = w.ok(
            "POST",
            "/api/org/v1/search",
            Some(json!({ "request": request })),
        );
        let listing = &r["response"];
        let ids = listing["content"]
            .as_array()
            .expect("content")
            .iter()
            .map(|o| o["id"].as_u64().expect("an id"))
            .collect();
        (listing["count"].as_u64().expect("count"), ids)
    };
    let mut every = vec![state];
    every.extend(&schools);
    every.push(other);
    every.sort_unstable();
    // Unfiltered: every organisation, by id; every page of one agrees.
    assert_eq!(search(json!({"filters": {}})), (9, every.clone()));
    for (n, id) in every.iter().enumerate() {
        assert_eq!(
            search(json!({"filters": {}, "offset": n, "limit": 1})),
            (9, vec![*id]),
            "offset {n}"
        );
    }
    assert_eq!(search(json!({"filters": {}, "offset": 9})), (9, vec![]));
    assert_eq!(
        search(json!({"filters": {}, "offset": u64::MAX})),
        (9, vec![])
    );
    assert_eq!(search(json!({"filters": {}, "limit": 0})), (9, vec![]));
    // Filters, ignoring case; the count is every match's, the page a part.
    assert_eq!(search(json!({"filters": {"isTenant": true}})).1, {
        let mut t = vec![state, other];
        t.sort_unstable();
        t
    });
    assert_eq!(
        search(json!({"filters": {"channel": "STATE1"}})),
        (1, vec![state])
    );
    assert_eq!(
        search(json!({"filters": {"rootOrgId": state, "isTenant": "false"}})),
        (7, schools.clone())
    );
    assert_eq!(
        search(
            json!({"filters": {"rootOrgId": state.to_string(), "isTenant": false}, "offset": 2, "limit": 2})
        ),
        (7, schools[2..4].to_vec())
    );
    assert_eq!(
        search(json!({"filters": {"externalId": ["sch-3", "SCH-5", "none"]}})),
        (2, vec![schools[3], schools[5]])
    );
    assert_eq!(
        search(json!({"filters": {"orgName": {"startsWith": "school"}}})).0,
        7
    );
    assert_eq!(
        search(
            json!({"filters": {"id": {">=": schools[5]}, "organisationType": "School", "isTenant": false}})
        ),
        (2, schools[5..].to_vec())
    );
    assert_eq!(
        search(json!({"filters": {"$or": [{"channel": "other"}, {"externalId": "sch-0"}]}})).1,
        {
            let mut t = vec![schools[0], other];
            t.sort_unstable();
            t
        }
    );
    // Ids compare as numbers, as a read takes them; other text as sent.
    assert_eq!(
        search(json!({"filters": {"id": format!("00{state}")}})),
        (1, vec![state])
    );
    assert_eq!(
        search(json!({"filters": {"rootOrgId": [format!("0{state}")], "isTenant": false}})).0,
        7
    );
    assert_eq!(search(json!({"filters": {"id": "1e3"}})), (0, vec![]));
    assert_eq!(
        search(json!({"filters": {"orgName": {"endsWith": " BOARD"}}})).0,
        2
    );
    assert_eq!(
        search(json!({"filters": {"orgName": {"startsWith": "   "}}})),
        (0, vec![])
    );
    assert_eq!(
        search(json!({"filters": {"orgName": {"startsWith": "School "}}})).0,
        7
    );
    // A text range, folded: "school 5", "school 6" and "state board".
    assert_eq!(
        search(json!({"filters": {"orgName": {">=": "SCHOOL 5"}}})).0,
        3
    );
    // A value or prefix longer than any field holds matches none, unfolded.
    let long = "ß".repeat(300);
    assert_eq!(search(json!({"filters": {"orgName": long}})), (0, vec![]));
    assert_eq!(
        search(json!({"filters": {"orgName": {"startsWith": long}}})),
        (0, vec![])
    );
    assert_eq!(
        search(json!({"filters": {"email": "OFFICE2@school.example"}})),
        (1, vec![schools[2]])
    );
    // A key organisations do not have matches none (as in the user search).
    assert_eq!(search(json!({"filters": {"shoeSize": 9}})), (0, vec![]));
    assert_eq!(
        search(json!({"filters": {"shoeSize": 9, "isTenant": true}})),
        (0, vec![])
    );
    // The typed API gives the same.
    let admin = w.i.operator();
    let typed = admin
        .search_organisations(&roster::api::sunbird::OrgSearch {
            offset: 1,
            limit: Some(3),
            ..Default::default()
        })
        .expect("typed list");
    assert_eq!(typed.count, 9);
    assert_eq!(
        typed.content.iter().map(|o| o.id).collect::<Vec<_>>(),
        every[1..4].to_vec()
    );
    assert_eq!(
        typed.content[0],
        admin.organisation(every[1]).expect("read")
    );
    // Bad bodies: a clear 400 naming what is wrong, the store unchanged.
    let m = w.fails(
        "POST",
        "/api/org/v1/search",
        Some(json!({"request": {}})),
        400,
        "UOS_ORGSRCH0030",
    );
    assert_eq!(m, "Mandatory parameter filters is missing.");
    w.fails(
        "POST",
        "/api/org/v1/search",
        Some(json!({"request": {"filters": [], "limit": 1}})),
        400,
        "UOS_ORGSRCH0003",
    );
    w.fails(
        "POST",
        "/api/org/v1/search",
        Some(json!({"request": {"filters": {}, "limit": -1}})),
        400,
        "UOS_ORGSRCH0003",
    );
    w.fails(
        "POST",
        "/api/org/v1/search",
        Some(json!({"request": {"filters": {"id": null}}})),
        400,
        "UOS_ORGSRCH0017",
    );
    let many: Vec<String> = (0..1001).map(|n| format!("x{n}")).collect();
    w.fails(
        "POST",
        "/api/org/v1/search",
        Some(json!({"request": {"filters": {"orgName": many}}})),
        400,
        "UOS_ORGSRCH0017",
    );
    w.fails("GET", "/api/org/v1/search", None, 405, "METHOD_NOT_ALLOWED");
    // Bounds on what one request may ask for: a range bound's length, the
    // distinct groups of an `$or`, the distinct ids of a list.
    let bound = "9".repeat(257);
    let m = w.fails(
        "POST",
        "/api/org/v1/search",
        Some(json!({"request": {"filters": {"id": {"<": bound}}}})),
        400,
        "UOS_ORGSRCH0017",
    );
    assert!(m.contains("more than 256 characters"), "{m}");
    let within = "9".repeat(256);
    assert_eq!(search(json!({"filters": {"id": {"<": within}}})).0, 9);
    let groups: Vec<Value> = (0..101)
        .map(|n| json!({"orgName": format!("g{n}")}))
        .collect();
    w.fails(
        "POST",
        "/api/org/v1/search",
        Some(json!({"request": {"filters": {"$or": groups}}})),
        400,
        "UOS_ORGSRCH0017",
    );
    let groups: Vec<Value> = (0..101).map(|_| json!({"orgName": "same"})).collect();
    assert_eq!(search(json!({"filters": {"$or": groups}})), (0, vec![]));
    let ids: Vec<u64> = (0..10_001).collect();
    w.fails(
        "POST",
        "/api/org/v1/search",
        Some(json!({"request": {"filters": {"id": ids}}})),
        400,
        "UOS_ORGSRCH0017",
    );
    let ids: Vec<u64> = (0..10_000).collect();
    assert_eq!(search(json!({"filters": {"id": ids}})).0, 9);
    assert_eq!(search(json!({"filters": {}})).0, 9);
    // A signed-in user without view_organisation learns nothing.
    w.user("Plain", "plain@example.com");
    let plain =
        w.i.login("plain@example.com", "Pass@1word")
            .expect("sign-in")
            .token;
    let r = w.send_as(
        &plain,
        "POST",
        "/api/org/v1/search",
        Some(json!({"request": {"filters": {}}})),
    );
    failure(&r, 403, "UOS_ORGSRCH0071");
    // The user went to the default organisation, made on first use: the
    // one `isDefault` finds, and the tenth of the list.
    let default = search(json!({"filters": {"isDefault": "TRUE"}}));
    assert_eq!(default.0, 1);
    assert_eq!(search(json!({"filters": {}})).0, 10);
    assert_eq!(search(json!({"filters": {"channel": "default"}})), default);
    assert_eq!(w.i.check_integrity().expect("check"), Vec::<String>::new());
}

/// The managed-user example bodies, `managedBy` set to `manager`.
fn managed_body(name: &str, manager: &str) -> Value {
    let mut body = body_of(name, "unused@example.com");
    body["request"]["managedBy"] = json!(manager);
    body
}

#[test]
fn managed_users_are_created_listed_and_acted_for() {
    let w = world();
    let manager = w.user("Parent", "parent@example.com");
    let parent = w.i.login("parent@example.com", "Pass@1word").unwrap().token;
    let mut children = Vec::new();
    for name in ["Create User V4", "Create ManagedUser V1"] {
        let e = example(name);
        let r = w.send_as(
            &parent,
            "POST",
            e["path"].as_str().unwrap(),
            Some(managed_body(name, &manager)),
        );
        assert_eq!(r.status, 200, "{name}: {:?}", r.body);
        let v = r.json();
        assert_eq!(v["id"], "api.manageduser.create");
        assert_eq!(
            keys(&v["result"]),
            keys(&json!({"userId": 0, "response": 0}))
        );
        children.push(v["result"]["userId"].as_str().unwrap().to_string());
    }
    // Contact data or a password is refused for a managed user.
    let mut body = managed_body("Create User V4", &manager);
    body["request"]["email"] = json!("kid@example.com");
    let r = w.send_as(&parent, "POST", "/api/user/v4/create", Some(body));
    assert_eq!(
        failure(&r, 400, "UOS_USRCRT0011"),
        "Please provide only email or phone or managed by"
    );
    // Another user may not create for this manager, nor list its users.
    let other = w.user("Other", "other@example.com");
    let stranger = w.i.login("other@example.com", "Pass@1word").unwrap().token;
    let r = w.send_as(
        &stranger,
        "POST",
        "/api/user/v4/create",
        Some(managed_body("Create User V4", &manager)),
    );
    failure(&r, 403, "UOS_USRCRT0071");
    let r = w.send_as(
        &stranger,
        "GET",
        &format!("/api/user/v1/managed/{manager}"),
        None,
    );
    failure(&r, 403, "UOS_USRRED0071");
    // A managed user cannot manage.
    let r = w.send_as(
        &parent,
        "POST",
        "/api/user/v4/create",
        Some(managed_body("Create User V4", &children[0])),
    );
    failure(&r, 403, "UOS_USRCRT0071");
    let r = w.send(
        "POST",
        "/api/user/v4/create",
        Some(managed_body("Create User V4", &children[0])),
    );
    failure(&r, 404, "UOS_USRCRT0013");
    let _ = other;

    let e = example("Get Managed Users Details");
    let documented = &e["response_body"]["result"]["response"]["content"][0];
    let r = w.send_as(
        &parent,
        "GET",
        &format!("/api/user/v1/managed/{manager}?withTokens=true"),
        None,
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let v = r.json();
    assert_eq!(v["id"], "api.user.managed");
    let list = &v["result"]["response"];
    assert_eq!(list["count"], 2);
    let first = &list["content"][0];
    let mut want = keys(documented);
    want.insert("managedToken".into());
    assert_eq!(keys(first), want, "{first}");
    assert_eq!(first["managedBy"], json!(manager));
    let child_token = first["managedToken"].as_str().unwrap().to_string();
    // An administrator sees the list without tokens, and may not ask for them.
    let admin_list = w.ok("GET", &format!("/api/user/v1/managed/{manager}"), None);
    assert!(
        admin_list["response"]["content"][0]
            .get("managedToken")
            .is_none()
    );
    w.fails(
        "GET",
        &format!("/api/user/v1/managed/{manager}?withTokens=true"),
        None,
        403,
        "UOS_USRRED0071",
    );
    // The manager acts as its child with x-authenticated-for.
    let request = Request::new("POST", "/api/user/v1/tnc/accept")
        .with_header("x-authenticated-user-token", &parent)
        .with_header("x-authenticated-for", &child_token)
        .with_body(json!({"request": {"version": "v4"}}).to_string());
    let r = roster::rest::handle(&w.i, request);
    // No terms are set yet: the version is not the latest.
    assert_eq!(
        failure(&r, 400, "UOS_TNCACCPT0017"),
        "Invalid value v4 for parameter version. Please provide a valid value."
    );
    let request = Request::new("GET", &format!("/api/user/v1/read/{}", children[0]))
        .with_header("x-authenticated-user-token", &stranger)
        .with_header("x-authenticated-for", &child_token);
    failure(&roster::rest::handle(&w.i, request), 401, "UOS_0070");
    // The manager reads its child; the child's update with an email makes it its own.
    let r = w.send_as(
        &parent,
        "GET",
        &format!("/api/user/v1/read/{}", children[0]),
        None,
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r.json()["result"]["response"].get("managedToken").is_none());
    // With withTokens (read v3-v5), the manager gets a token acting as the
    // child; an administrator reading the same user gets none.
    for version in ["v3", "v4", "v5"] {
        let path = format!("/api/user/{version}/read/{}?withTokens=true", children[0]);
        let r = w.send_as(&parent, "GET", &path, None);
        assert_eq!(r.status, 200, "{:?}", r.body);
        let token = r.json()["result"]["response"]["managedToken"]
            .as_str()
            .expect("a managed token")
            .to_string();
        let request = Request::new("GET", &format!("/api/user/v1/read/{}", children[0]))
            .with_header("x-authenticated-user-token", &parent)
            .with_header("x-authenticated-for", &token);
        let r = roster::rest::handle(&w.i, request);
        assert_eq!(r.status, 200, "{:?}", r.body);
        let read = w.ok("GET", &path, None);
        assert!(read["response"].get("managedToken").is_none(), "{read}");
    }
    // v1 and v2 take no withTokens (S6): the manager reads without one.
    for version in ["v1", "v2"] {
        let path = format!("/api/user/{version}/read/{}?withTokens=true", children[0]);
        let r = w.send_as(&parent, "GET", &path, None);
        assert_eq!(r.status, 200, "{:?}", r.body);
        let read = r.json();
        assert!(
            read["result"]["response"].get("managedToken").is_none(),
            "{version}: {read}"
        );
    }
    // The manager's own record is not managed: no token.
    let own = w.send_as(
        &parent,
        "GET",
        &format!("/api/user/v3/read/{manager}?withTokens=true"),
        None,
    );
    assert!(
        own.json()["result"]["response"]
            .get("managedToken")
            .is_none()
    );
    w.ok(
        "PATCH",
        "/api/user/v1/update",
        Some(json!({"request": {"userId": children[0], "email": "grown@example.com"}})),
    );
    let read = w.ok("GET", &format!("/api/user/v1/read/{}", children[0]), None);
    assert_eq!(read["response"]["managedBy"], Value::Null);
    let m = w.fails(
        "PATCH",
        "/api/user/v1/update",
        Some(json!({"request": {"userId": children[1], "managedBy": manager}})),
        400,
        "UOS_USRUPD0065",
    );
    assert_eq!(m, "managedBy cannot be updated.");
    // A manager still managing users cannot be deleted through any surface.
    let admin = w.i.operator();
    let id = admin.find_user("parent@example.com").unwrap();
    assert_eq!(
        admin.delete_user(id).unwrap_err().code(),
        roster::ErrorCode::Conflict
    );
}

#[test]
fn the_managed_limit_is_answered_as_the_seed_names_it() {
    let (mut config, _) = roster_tests::config(SEED_NOW);
    config.sunbird.managed_limit = 2;
    let i = roster_tests::store(config);
    i.create_superuser("root", ROOT_PASSWORD).unwrap();
    let token = i.login("root", ROOT_PASSWORD).unwrap().token;
    let w = World { i, token };
    let manager = w.user("Parent", "parent@example.com");
    for _ in 0..2 {
        w.ok(
            "POST",
            "/api/user/v4/create",
            Some(managed_body("Create User V4", &manager)),
        );
    }
    for path in ["/api/user/v4/create", "/api/user/v1/managed/create"] {
        let r = w.send("POST", path, Some(managed_body("Create User V4", &manager)));
        assert_eq!(
            failure(&r, 400, "MANAGED_USER_LIMIT_EXCEEDED"),
            "Managed user creation limit exceeded"
        );
    }
}

/// The seed's organisation id (above 2^53) in `body`, replaced by `org`.
fn with_org(body: Value, org: u64) -> Value {
    serde_json::from_str(
        &body
            .to_string()
            .replace("1297544481264435200", &org.to_string()),
    )
    .expect("JSON")
}

#[test]
fn roles_are_replaced_in_v1_and_changed_by_operation_in_v2() {
    let w = world();
    let org = w.org("Springfield", "springfield", true);
    let other = w.org("Shelbyville", "shelbyville", true);
    let id = w.user("Teacher", "teacher@example.com");
    let roles_v5 = |w: &World| {
        w.ok("GET", &format!("/api/user/v5/read/{id}"), None)["response"]["roles"].clone()
    };
    // The seed's organisation id fits no organisation here.
    let mut v1 = example("Assign Role V1")["request_body"].clone();
    v1["request"]["userId"] = json!(id);
    let m = w.fails(
        "POST",
        "/api/user/v1/role/assign",
        Some(v1.clone()),
        400,
        "UOS_ROLUPD0017",
    );
    // Named as sent, not by a stand-in for a number beyond roster's ids.
    assert_eq!(
        m,
        "Invalid value 1297544481264435200 for parameter organisationId. \
         Please provide a valid value."
    );
    let result = w.ok("POST", "/api/user/v1/role/assign", Some(with_org(v1, org)));
    assert_eq!(result, example("Assign Role V1")["response_body"]["result"]);
    let roles = roles_v5(&w);
    assert_eq!(roles[0]["role"], "COURSE_CREATOR");
    assert_eq!(roles[0]["scope"], json!([{"organisationId": org}]));
    let mut v2 = example("Assign Role V2")["request_body"].clone();
    v2["request"]["userId"] = json!(id);
    w.ok(
        "POST",
        "/api/user/v2/role/assign",
        Some(with_org(v2, other)),
    );
    let roles = roles_v5(&w);
    let course = roles
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == "COURSE_CREATOR")
        .unwrap();
    assert_eq!(
        course["scope"],
        json!([{"organisationId": org}, {"organisationId": other}])
    );
    // A role named twice (in any case) is one grant; PUBLIC, which every
    // user has, is none.
    let second = w.user("Second", "second@example.com");
    w.ok(
        "POST",
        "/api/user/v1/role/assign",
        Some(json!({"request": {"userId": second, "organisationId": org,
            "roles": ["ORG_ADMIN", "public", "org_admin", "COURSE_CREATOR", "PUBLIC"]}})),
    );
    let read = w.ok("GET", &format!("/api/user/v5/read/{second}"), None);
    let granted: Vec<(Value, Value)> = read["response"]["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["role"].clone(), r["scope"].clone()))
        .collect();
    let scope = json!([{ "organisationId": org }]);
    assert_eq!(
        granted,
        [
            (json!("COURSE_CREATOR"), scope.clone()),
            (json!("ORG_ADMIN"), scope)
        ]
    );
    // `"roles": null` is no roles sent (refused as missing), never the
    // empty list: the user keeps its roles.
    let before = roles_v5(&w);
    w.fails(
        "POST",
        "/api/user/v1/role/assign",
        Some(json!({"request": {"userId": id, "organisationId": other, "roles": null}})),
        400,
        "UOS_ROLUPD0030",
    );
    assert_eq!(roles_v5(&w), before);
    // v1 replaces the roles of one organisation; an empty list removes them.
    w.ok(
        "POST",
        "/api/user/v1/role/assign",
        Some(json!({"request": {"userId": id, "organisationId": other, "roles": []}})),
    );
    let roles = roles_v5(&w);
    assert_eq!(roles.as_array().unwrap().len(), 1, "{roles}");
    assert_eq!(roles[0]["scope"], json!([{"organisationId": org}]));
    // v2 remove and edit.
    w.ok(
        "POST",
        "/api/user/v2/role/assign",
        Some(json!({"request": {"userId": id, "roles": [
            {"role": "COURSE_CREATOR", "operation": "edit", "scope": [{"organisationId": other}]},
            {"role": "ORG_ADMIN", "operation": "add", "scope": [{"organisationId": org}]},
            {"role": "ORG_ADMIN", "operation": "remove", "scope": [{"organisationId": org}]}]}})),
    );
    let roles = roles_v5(&w);
    assert_eq!(
        roles,
        json!([{"role": "COURSE_CREATOR", "userId": id, "scope": [{"organisationId": other}],
        "createdDate": roles[0]["createdDate"], "updatedDate": roles[0]["updatedDate"]}])
    );
    // v1-v4 show role ids, PUBLIC first.
    let read = w.ok("GET", &format!("/api/user/v4/read/{id}"), None);
    assert_eq!(
        read["response"]["roles"],
        json!(["PUBLIC", "COURSE_CREATOR"])
    );
    let m = w.fails(
        "POST",
        "/api/user/v2/role/assign",
        Some(json!({"request": {"userId": id, "roles": [{"role": "WIZARD", "scope": [{"organisationId": org}]}]}})),
        400,
        "UOS_ROLUPD0019",
    );
    assert_eq!(m, "Please provide valid role.");
    // An add or an edit needs a scope; a remove without one ends the role
    // in every organisation.
    for operation in ["add", "edit"] {
        let m = w.fails(
            "POST",
            "/api/user/v2/role/assign",
            Some(json!({"request": {"userId": id, "roles": [
                {"role": "ORG_ADMIN", "operation": operation, "scope": []}]}})),
            400,
            "UOS_ROLUPD0030",
        );
        assert_eq!(m, "Mandatory parameter scope is missing.", "{operation}");
    }
    w.ok(
        "POST",
        "/api/user/v2/role/assign",
        Some(json!({"request": {"userId": id, "roles": [
            {"role": "COURSE_CREATOR", "operation": "add", "scope": [{"organisationId": org}]}]}})),
    );
    assert_eq!(roles_v5(&w)[0]["scope"].as_array().map(Vec::len), Some(2));
    // Remove subtracts the scope sent (S13): an empty one, nothing.
    let before = roles_v5(&w);
    w.ok(
        "POST",
        "/api/user/v2/role/assign",
        Some(json!({"request": {"userId": id, "roles": [
            {"role": "COURSE_CREATOR", "operation": "remove", "scope": []}]}})),
    );
    assert_eq!(roles_v5(&w), before);
    w.ok(
        "POST",
        "/api/user/v2/role/assign",
        Some(json!({"request": {"userId": id, "roles": [
            {"role": "COURSE_CREATOR", "operation": "remove",
             "scope": [{"organisationId": org}, {"organisationId": other}]}]}})),
    );
    assert_eq!(roles_v5(&w), json!([]));
    w.ok(
        "POST",
        "/api/user/v2/role/assign",
        Some(json!({"request": {"userId": id, "roles": [
            {"role": "COURSE_CREATOR", "operation": "add", "scope": [{"organisationId": other}]}]}})),
    );
    // Roles grant no roster permission.
    let token =
        w.i.login("teacher@example.com", "Pass@1word")
            .unwrap()
            .token;
    let r = w.send_as(
        &token,
        "POST",
        "/api/user/v1/block",
        Some(json!({"request": {"userId": id}})),
    );
    failure(&r, 403, "UOS_USRBLOK0071");
}

#[test]
fn terms_are_set_accepted_and_prompted() {
    let (w, clock) = world_and_clock();
    let id = w.user("Reader", "reader@example.com");
    let token = w.i.login("reader@example.com", "Pass@1word").unwrap().token;
    let read = |w: &World| {
        let r = w.send_as(&token, "GET", &format!("/api/user/v1/read/{id}"), None);
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.json()["result"]["response"].clone()
    };
    assert_eq!(read(&w)["promptTnC"], false);
    assert_eq!(read(&w)["tncLatestVersion"], Value::Null);
    let setting = json!({"request": {"id": "tncConfig", "field": "tncConfig",
        "value": "{\"latestVersion\":\"v4\",\"v4\":{\"url\":\"https://example.com/terms-v4.html\"}}"}});
    // Superusers only.
    let r = w.send_as(
        &token,
        "POST",
        "/api/data/v1/system/settings/set",
        Some(setting.clone()),
    );
    failure(&r, 403, "UOS_SYSCRT0071");
    w.ok("POST", "/api/data/v1/system/settings/set", Some(setting));
    let user = read(&w);
    assert_eq!(user["promptTnC"], true);
    assert_eq!(user["tncLatestVersion"], "v4");
    assert_eq!(
        user["tncLatestVersionUrl"],
        "https://example.com/terms-v4.html"
    );
    // The seed's example, for the caller itself (its userId is the caller's).
    let mut body = example("Accept User Tnc")["request_body"].clone();
    body["request"]["userId"] = json!(id);
    body["request"]["version"] = json!("V4");
    let r = w.send_as(
        &token,
        "POST",
        "/api/user/v1/tnc/accept",
        Some(body.clone()),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let user = read(&w);
    assert_eq!(user["promptTnC"], false);
    assert_eq!(user["tncAcceptedVersion"], "v4");
    assert!(user["tncAcceptedOn"].as_i64().is_some());
    // Again, later: a no-op that keeps the first acceptance's time.
    // Another user's id: refused. An old version: refused.
    let first = read(&w)["tncAcceptedOn"].clone();
    clock.advance(chrono::Duration::minutes(5));
    let r = w.send_as(&token, "POST", "/api/user/v1/tnc/accept", Some(body));
    assert_eq!(r.status, 200);
    assert_eq!(read(&w)["tncAcceptedOn"], first);
    let other = w.user("Other", "other@example.com");
    let r = w.send_as(
        &token,
        "POST",
        "/api/user/v1/tnc/accept",
        Some(json!({"request": {"version": "v4", "userId": other}})),
    );
    let refused = failure(&r, 400, "UOS_TNCACCPT0017");
    // An id no user has answers alike: the answer tells nothing of who exists.
    let nobody = "c0ffee00-0000-4000-8000-000000000000";
    let r = w.send_as(
        &token,
        "POST",
        "/api/user/v1/tnc/accept",
        Some(json!({"request": {"version": "v4", "userId": nobody}})),
    );
    assert_eq!(
        failure(&r, 400, "UOS_TNCACCPT0017"),
        refused.replace(other.as_str(), nobody)
    );
    let r = w.send_as(
        &token,
        "POST",
        "/api/user/v1/tnc/accept",
        Some(json!({"request": {"version": "v3"}})),
    );
    failure(&r, 400, "UOS_TNCACCPT0017");
    let r = w.send_as(
        &token,
        "POST",
        "/api/user/v1/tnc/accept",
        Some(json!({"request": {}})),
    );
    failure(&r, 400, "UOS_TNCACCPT0030");
    // A new version prompts again.
    w.ok(
        "POST",
        "/api/data/v1/system/settings/set",
        Some(json!({"request": {"id": "tncConfig", "field": "tncConfig", "value": "{\"latestVersion\":\"v5\"}"}})),
    );
    assert_eq!(read(&w)["promptTnC"], true);
    // Accepting it replaces the acceptance of v4.
    let r = w.send_as(
        &token,
        "POST",
        "/api/user/v1/tnc/accept",
        Some(json!({"request": {"version": "v5"}})),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let user = read(&w);
    assert_eq!(user["promptTnC"], false, "{user}");
    assert_eq!(user["tncAcceptedVersion"], "v5", "{user}");
    assert_ne!(user["tncAcceptedOn"], first, "{user}");
    // A user keeps at most 100 acceptances (the store's bound on a user's
    // lists): any setting with a latestVersion is a terms type, so the
    // 101st type is refused, and the store stays sound.
    for n in 0..100 {
        w.ok(
            "POST",
            "/api/data/v1/system/settings/set",
            Some(
                json!({"request": {"id": format!("t{n}Tnc"), "field": format!("t{n}Tnc"),
                "value": "{\"latestVersion\":\"v1\"}"}}),
            ),
        );
        let r = w.send_as(
            &token,
            "POST",
            "/api/user/v1/tnc/accept",
            Some(json!({"request": {"version": "v1", "tncType": format!("t{n}Tnc")}})),
        );
        assert_eq!(
            r.status,
            200 + 200 * u16::from(n == 99),
            "{n}: {:?}",
            r.body
        );
    }
    assert_eq!(w.i.check_integrity().unwrap(), Vec::<String>::new());
    // A setting that is not a terms setting's JSON is refused.
    w.fails(
        "POST",
        "/api/data/v1/system/settings/set",
        Some(json!({"request": {"id": "tncConfig", "field": "tncConfig", "value": "v6"}})),
        400,
        "UOS_SYSCRT0017",
    );
}

#[test]
fn declarations_are_added_edited_and_removed() {
    let w = world();
    let id = w.user("Declarer", "declarer@example.com");
    let mut body = body_of("Update User Declarations", "declared@example.com");
    body["request"]["declarations"][0]["userId"] = json!(id);
    let result = w.ok("PATCH", "/api/user/v1/declarations", Some(body.clone()));
    assert_eq!(
        result,
        example("Update User Declarations")["response_body"]["result"]
    );
    let read = |w: &World| {
        w.ok(
            "GET",
            &format!("/api/user/v1/read/{id}?fields=declarations"),
            None,
        )["response"]["declarations"]
            .clone()
    };
    let d = read(&w);
    assert_eq!(d.as_array().unwrap().len(), 1);
    // `topic` answers an empty `topics`, as the reference does; without it
    // there is no such key.
    let path = format!("/api/user/v1/read/{id}?fields=topic,declarations");
    assert_eq!(w.ok("GET", &path, None)["response"]["topics"], json!([]));
    let path = format!("/api/user/v1/read/{id}?fields=declarations");
    assert!(w.ok("GET", &path, None)["response"].get("topics").is_none());
    assert_eq!(d[0]["status"], "SUBMITTED");
    assert_eq!(d[0]["persona"], "teacher");
    assert_eq!(d[0]["orgId"], "1297544481264435200");
    assert_eq!(d[0]["info"]["declared-email"], "declared@example.com");
    // add with the same (org, persona) replaces; edit too; remove deletes.
    body["request"]["declarations"][0]["info"] = json!({"declared-school-name": "other"});
    w.ok("PATCH", "/api/user/v1/declarations", Some(body.clone()));
    assert_eq!(
        read(&w)[0]["info"],
        json!({"declared-school-name": "other"})
    );
    // An info of more than 10,000 bytes (the other Sunbird JSON values'
    // bound) is refused, and nothing changes.
    let mut big = body.clone();
    big["request"]["declarations"][0]["info"] = json!({"declared-school-name": "x".repeat(10_000)});
    let message = w.fails(
        "PATCH",
        "/api/user/v1/declarations",
        Some(big),
        400,
        "UOS_UDECLUPD0009",
    );
    assert!(message.contains("info"), "{message}");
    assert_eq!(
        read(&w)[0]["info"],
        json!({"declared-school-name": "other"})
    );
    // Many changes naming one user in one request: applied in order.
    let mut many = body.clone();
    let change = body["request"]["declarations"][0].clone();
    let mut changes = Vec::new();
    for k in 0..500 {
        let mut c = change.clone();
        c["info"] = json!({"declared-school-name": format!("school {k}")});
        changes.push(c);
    }
    many["request"]["declarations"] = json!(changes);
    w.ok("PATCH", "/api/user/v1/declarations", Some(many));
    assert_eq!(
        read(&w)[0]["info"],
        json!({"declared-school-name": "school 499"})
    );
    body["request"]["declarations"][0]["operation"] = json!("remove");
    w.ok("PATCH", "/api/user/v1/declarations", Some(body));
    assert_eq!(read(&w), json!([]));
}

#[test]
fn merge_moves_everything_to_the_target_and_frees_the_source() {
    let w = world();
    let org = w.org("Springfield", "springfield", true);
    let from = w.user("From", "from@example.com");
    let to = w.user("To", "to@example.com");
    let admin = w.i.operator();
    // Memberships: the later expiry wins, none beats any.
    let mut batches = std::collections::HashMap::new();
    for name in ["Early", "Late", "Open", "Only"] {
        let b = admin
            .create_batch(roster::BatchInput {
                name: Some(name.into()),
            })
            .unwrap();
        batches.insert(name, b.id);
    }
    let from_id = admin.find_user("from@example.com").unwrap();
    let to_id = admin.find_user("to@example.com").unwrap();
    let grant = |user, batch: &str, expires: Option<&str>| {
        admin
            .add_user_subscriptions(user, &[batches[batch]], expires)
            .unwrap();
    };
    grant(from_id, "Early", Some("2030-01-01"));
    grant(to_id, "Early", Some("2031-01-01"));
    grant(from_id, "Late", Some("2032-01-01"));
    grant(to_id, "Late", Some("2030-06-01"));
    grant(from_id, "Open", None);
    grant(to_id, "Open", Some("2030-06-01"));
    grant(from_id, "Only", Some("2030-02-02"));
    w.ok(
        "POST",
        "/api/user/v1/role/assign",
        Some(json!({"request": {"userId": from, "organisationId": org, "roles": ["ORG_ADMIN"]}})),
    );
    let token = w.i.login("from@example.com", "Pass@1word").unwrap().token;
    let mut body = example("User Merge")["request_body"].clone();
    body["request"]["fromAccountId"] = json!(from);
    body["request"]["toAccountId"] = json!(to);
    let r = w.send("PATCH", "/api/user/v1/account/merge", Some(body.clone()));
    assert_eq!(r.status, 200, "{:?}", r.body);
    let v = r.json();
    assert_eq!(
        (v["id"].clone(), v["ver"].clone()),
        (json!("api.user.account.merge"), json!("v1"))
    );
    assert_eq!(v["result"], json!({"response": "SUCCESS"}));
    let all = roster::PageRequest {
        page: 1,
        per_page: Some(100),
    };
    let subs = admin.user_subscriptions(to_id, all).unwrap().items;
    let expiry = |name: &str| {
        subs.iter()
            .find(|s| s.batch.name == name)
            .map(|s| s.expires.map(|d| d.to_string()))
            .unwrap_or_else(|| panic!("no {name}"))
    };
    assert_eq!(expiry("Early"), Some("2031-01-01".into()));
    assert_eq!(expiry("Late"), Some("2032-01-01".into()));
    assert_eq!(expiry("Open"), None);
    assert_eq!(expiry("Only"), Some("2030-02-02".into()));
    assert!(
        admin
            .user_subscriptions(from_id, all)
            .unwrap()
            .items
            .is_empty()
    );
    let roles = w.ok("GET", &format!("/api/user/v4/read/{to}"), None)["response"]["roles"].clone();
    assert_eq!(roles, json!(["PUBLIC", "ORG_ADMIN"]));
    // The source: deactivated, its sessions ended, its identifiers free.
    assert!(w.i.session(&token).is_err());
    w.fails(
        "GET",
        &format!("/api/user/v1/read/{from}"),
        None,
        400,
        "UOS_USRRED0006",
    );
    w.user("Again", "from@example.com");
    w.fails(
        "PATCH",
        "/api/user/v1/account/merge",
        Some(body),
        400,
        "UOS_USRMRG0017",
    );
    assert_eq!(w.i.check_integrity().unwrap(), Vec::<String>::new());
}

#[test]
fn migration_claims_a_shadow_account_in_two_attempts() {
    let w = world();
    w.org("State", "state1", true);
    // The shadow: an SSO user of the channel with an external id.
    let shadow = w.created(
        "/api/user/v1/sso/create",
        json!({"request": {"firstName": "Shadow", "phone": "9876500001", "channel": "state1",
            "externalIds": [{"id": "StagingHari9", "provider": "state1", "idType": "state1"}]}}),
    );
    let claimant = w.user("Claimant", "claimant@example.com");
    let token =
        w.i.login("claimant@example.com", "Pass@1word")
            .unwrap()
            .token;
    let mut body = example("User Migrate")["request_body"].clone();
    body["request"]["userId"] = json!(claimant);
    body["request"]["channel"] = json!("state1");
    // An id far longer than any external id can be (a megabyte of `ﷺ`,
    // 18 characters each once folded) is a wrong one, found unfolded.
    body["request"]["userExtId"] = json!("\u{FDFA}".repeat(300_000));
    let r = w.send_as(&token, "POST", "/api/user/v1/migrate", Some(body.clone()));
    assert_eq!(r.status, 200, "{:?}", r.body);
    let v = r.json();
    assert_eq!(v["responseCode"], "SERVER_ERROR");
    assert_eq!(v["result"]["remainingAttempt"], 1);
    assert!(v["result"]["message"].as_str().unwrap().len() < 2_000);
    // The attempt counted; a second claimant tries the wrong id below.
    let claimant = w.user("Claimant Two", "claimant2@example.com");
    let token =
        w.i.login("claimant2@example.com", "Pass@1word")
            .unwrap()
            .token;
    body["request"]["userId"] = json!(claimant);
    body["request"]["userExtId"] = json!("wrong-id");
    let r = w.send_as(&token, "POST", "/api/user/v1/migrate", Some(body.clone()));
    assert_eq!(r.status, 200, "{:?}", r.body);
    let v = r.json();
    assert_eq!(v["responseCode"], "SERVER_ERROR");
    assert_eq!(v["params"]["status"], "success");
    assert_eq!(
        v["result"],
        json!({"maxAttempt": 2, "remainingAttempt": 1, "err": true, "message": "provided ext user id wrong-id is incorrect"})
    );
    // The right id, through the alias path: the shadow's data is the caller's.
    body["request"]["userExtId"] = json!("stagingHARI9");
    let r = w.send_as(&token, "POST", "/api/user/v1/migration", Some(body.clone()));
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.json()["responseCode"], "OK");
    w.fails(
        "GET",
        &format!("/api/user/v1/read/{shadow}"),
        None,
        404,
        "UOS_USRRED0013",
    );
    let me = w.ok("GET", &format!("/api/user/v4/read/{claimant}"), None)["response"].clone();
    assert_eq!(
        me["externalIds"],
        json!([{"id": "staginghari9", "idType": "state1", "provider": "state1"}])
    );
    // A second claimant fails twice and the claim closes.
    let late = w.user("Late", "late@example.com");
    let late_token = w.i.login("late@example.com", "Pass@1word").unwrap().token;
    body["request"]["userId"] = json!(late);
    let r = w.send_as(
        &late_token,
        "POST",
        "/api/user/v1/migrate",
        Some(body.clone()),
    );
    assert_eq!(r.json()["result"]["remainingAttempt"], 1);
    let r = w.send_as(
        &late_token,
        "POST",
        "/api/user/v1/migrate",
        Some(body.clone()),
    );
    assert_eq!(failure(&r, 400, "UOS_USRMIG0060"), "User migration failed.");
    let r = w.send_as(&late_token, "POST", "/api/user/v1/migrate", Some(body));
    failure(&r, 400, "UOS_USRMIG0060");
    assert_eq!(w.i.check_integrity().unwrap(), Vec::<String>::new());
}

#[test]
fn a_claim_closed_by_its_second_wrong_id_refuses_the_right_one() {
    // S11: the second wrong attempt closes the claim, and the closing
    // failure is kept although the request answers with an error.
    let w = world();
    w.org("State", "state1", true);
    let shadow = w.created(
        "/api/user/v1/sso/create",
        json!({"request": {"firstName": "Shadow", "phone": "9876500002", "channel": "state1",
            "externalIds": [{"id": "H-9", "provider": "state1", "idType": "state1"}]}}),
    );
    let claimant = w.user("Guesser", "guesser@example.com");
    let token =
        w.i.login("guesser@example.com", "Pass@1word")
            .unwrap()
            .token;
    let mut body = example("User Migrate")["request_body"].clone();
    body["request"]["userId"] = json!(claimant);
    body["request"]["channel"] = json!("state1");
    let mut attempt = |ext: &str| {
        body["request"]["userExtId"] = json!(ext);
        w.send_as(&token, "POST", "/api/user/v1/migrate", Some(body.clone()))
    };
    assert_eq!(attempt("w1").json()["result"]["remainingAttempt"], 1);
    for wrong in ["w2", "w3", "w4"] {
        failure(&attempt(wrong), 400, "UOS_USRMIG0060");
    }
    let r = attempt("h-9");
    assert_eq!(failure(&r, 400, "UOS_USRMIG0060"), "User migration failed.");
    // The shadow is untouched and still its own account.
    let read = w.ok("GET", &format!("/api/user/v1/read/{shadow}"), None);
    assert_eq!(read["response"]["firstName"], "Shadow");
    assert_eq!(w.i.check_integrity().unwrap(), Vec::<String>::new());
}

/// S11: an accepted claim gives the claimant the shadow's external ids,
/// within the hundred an update takes: one more is refused, and nothing
/// moves.
#[test]
fn a_claim_that_would_pass_a_hundred_external_ids_is_refused() {
    let w = world();
    w.org("State", "state1", true);
    w.created(
        "/api/user/v1/sso/create",
        json!({"request": {"firstName": "Shadow", "phone": "9876500003", "channel": "state1",
            "externalIds": [{"id": "H-7", "provider": "state1", "idType": "state1"}]}}),
    );
    let ids: Vec<Value> = (0..100)
        .map(|k| json!({"id": format!("x{k}"), "provider": format!("p{k}"), "idType": "t"}))
        .collect();
    let claimant = w.created(
        "/api/user/v1/create",
        json!({"request": {"firstName": "Many", "email": "many@example.com",
            "password": "Pass@1word", "externalIds": ids}}),
    );
    let token = w.i.login("many@example.com", "Pass@1word").unwrap().token;
    let mut body = example("User Migrate")["request_body"].clone();
    body["request"]["userId"] = json!(claimant);
    body["request"]["channel"] = json!("state1");
    body["request"]["userExtId"] = json!("h-7");
    let before = export_of(&w.i);
    let r = w.send_as(&token, "POST", "/api/user/v1/migrate", Some(body));
    assert_eq!(
        failure(&r, 400, "UOS_USRMIG0009"),
        "Invalid format for given externalIds."
    );
    assert_eq!(export_of(&w.i), before, "a refused claim wrote");
}

#[test]
fn search_examples_find_by_email_with_every_documented_key() {
    let w = world();
    let id = w.user("first name", "selfdeclaredev5@yopmail.com");
    w.user("someone else", "else@yopmail.com");
    for (name, path) in [
        ("Search User V1", "/api/user/v1/search"),
        ("Search User V2", "/api/user/v2/search"),
        ("Search User V3", "/api/user/v3/search"),
    ] {
        let e = example(name);
        let body = body_of(name, "SelfDeclareDev5@YOPmail.com");
        let r = w.send("POST", path, Some(body));
        assert_eq!(r.status, 200, "{name}: {:?}", r.body);
        let v = r.json();
        same_envelope(&v, &e["response_body"]);
        let list = &v["result"]["response"];
        assert_eq!(list["count"], 1, "{name}");
        let got = &list["content"][0];
        assert_eq!(got["id"], json!(id));
        assert_eq!(got["email"], "se*************@yopmail.com");
        let documented = &e["response_body"]["result"]["response"]["content"][0];
        let missing: Vec<String> = keys(documented).difference(&keys(got)).cloned().collect();
        assert!(missing.is_empty(), "{name}: missing {missing:?}");
        match path {
            "/api/user/v3/search" => {
                assert!(got["roles"].is_array() && got["roles"].as_array().unwrap().is_empty())
            }
            _ => assert_eq!(got["roles"], json!(["PUBLIC"])),
        }
    }
}

/// A world of users with Sunbird fields to search.
fn search_world() -> (World, Vec<String>, u64, u64) {
    let w = world();
    let a = w.org("Org A", "chan-a", true);
    let b = w.org("Org B", "chan-b", true);
    let mut ids = Vec::new();
    let people = [
        (
            "Asha",
            "Nair",
            "chan-a",
            "asha@x.in",
            "9000000001",
            "teacher",
            ["en", "hi"],
            "1990-05-01",
        ),
        (
            "Ravi",
            "Nair",
            "chan-b",
            "ravi@y.in",
            "9000000002",
            "student",
            ["en", "ta"],
            "2001-01-20",
        ),
        (
            "Kiran",
            "Rao",
            "chan-a",
            "kiran@x.in",
            "9000000003",
            "student",
            ["kn", "en"],
            "1985-12-31",
        ),
        (
            "Meena",
            "Iyer",
            "chan-b",
            "meena@z.org",
            "9000000004",
            "parent",
            ["ta", "ta"],
            "1979-07-07",
        ),
        (
            "Anil",
            "Nairobi",
            "chan-a",
            "anil@z.org",
            "9000000005",
            "teacher",
            ["hi", "en"],
            "2003-03-03",
        ),
    ];
    for (first, last, channel, email, phone, kind, langs, dob) in people {
        let id = w.created(
            "/api/user/v1/sso/create",
            json!({"request": {"firstName": first, "lastName": last, "channel": channel,
                "email": email, "phone": phone, "language": langs, "dob": dob,
                "externalIds": [{"id": format!("ext-{first}"), "provider": channel, "idType": channel}],
                "profileLocation": [{"code": format!("loc-{channel}"), "type": "state"}]}}),
        );
        w.ok(
            "PATCH",
            "/api/user/v3/update",
            Some(json!({"request": {"userId": id, "profileUserTypes": [{"type": kind}]}})),
        );
        ids.push(id);
    }
    w.ok(
        "POST",
        "/api/user/v1/role/assign",
        Some(json!({"request": {"userId": ids[1], "organisationId": b, "roles": ["ORG_ADMIN"]}})),
    );
    (w, ids, a, b)
}

/// What a search (v1) with `request` answers: its count and the ids of its
/// page, in order.
fn searched(w: &World, request: Value) -> (Value, Vec<String>) {
    searched_for(w, request, "id")
}

/// [`searched`], each user of the page given by its text `field`.
fn searched_for(w: &World, request: Value, field: &str) -> (Value, Vec<String>) {
    let r = w.ok(
        "POST",
        "/api/user/v1/search",
        Some(json!({"request": request})),
    );
    let ids = r["response"]["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u[field].as_str().unwrap().to_string())
        .collect();
    (r["response"]["count"].clone(), ids)
}

/// The ids a search with `request` finds, checked to be all it counts.
#[track_caller]
fn found(w: &World, request: Value) -> Vec<String> {
    let (count, ids) = searched(w, request);
    assert_eq!(count, json!(ids.len()));
    ids
}

#[test]
fn search_filters_are_exact_lists_ranges_prefixes_and_ors() {
    let (w, ids, a, _b) = search_world();
    let find = |body: Value| -> Vec<String> {
        let r = w.ok(
            "POST",
            "/api/user/v2/search",
            Some(json!({"request": body})),
        );
        let content = r["response"]["content"].as_array().unwrap().clone();
        assert_eq!(r["response"]["count"], json!(content.len()), "{r}");
        content
            .iter()
            .map(|u| u["id"].as_str().unwrap().to_string())
            .collect()
    };
    let pick = |n: &[usize]| -> Vec<String> { n.iter().map(|i| ids[*i].clone()).collect() };
    // Exact, ignoring case; any of a list.
    assert_eq!(
        find(json!({"filters": {"lastName": "NAIR"}})),
        pick(&[0, 1])
    );
    assert_eq!(
        find(json!({"filters": {"firstName": ["asha", "MEENA", "nobody"]}})),
        pick(&[0, 3])
    );
    assert_eq!(
        find(json!({"filters": {"email": "KIRAN@x.in"}})),
        pick(&[2])
    );
    assert_eq!(
        find(json!({"filters": {"phone": 9000000004u64}})),
        pick(&[3])
    );
    assert_eq!(find(json!({"filters": {"userId": ids[4]}})), pick(&[4]));
    assert_eq!(
        find(json!({"filters": {"channel": "CHAN-A"}})),
        pick(&[0, 2, 4])
    );
    assert_eq!(find(json!({"filters": {"rootOrgId": a}})), pick(&[0, 2, 4]));
    assert_eq!(
        find(json!({"filters": {"organisations.organisationId": a.to_string()}})),
        pick(&[0, 2, 4])
    );
    assert_eq!(
        find(json!({"filters": {"roles.role": "org_admin"}})),
        pick(&[1])
    );
    assert_eq!(find(json!({"filters": {"roles.role": "PUBLIC"}})).len(), 6);
    assert_eq!(
        find(json!({"filters": {"profileUserType.type": "student"}})),
        pick(&[1, 2])
    );
    assert_eq!(
        find(json!({"filters": {"profileLocation.code": "loc-chan-b"}})),
        pick(&[1, 3])
    );
    assert_eq!(
        find(json!({"filters": {"externalIds.id": "EXT-Kiran"}})),
        pick(&[2])
    );
    assert_eq!(find(json!({"filters": {"language": "ta"}})), pick(&[1, 3]));
    assert_eq!(
        find(json!({"filters": {"status": 1, "lastName": "nair"}})),
        pick(&[0, 1])
    );
    // AND across keys.
    assert_eq!(
        find(json!({"filters": {"language": "en", "channel": "chan-a"}})),
        pick(&[0, 2, 4])
    );
    assert_eq!(
        find(json!({"filters": {"language": "en", "profileUserType.type": "teacher"}})),
        pick(&[0, 4])
    );
    // Ranges, prefixes and suffixes.
    assert_eq!(
        find(json!({"filters": {"dob": {">=": "1985-01-01", "<": "2001-01-01"}}})),
        pick(&[0, 2])
    );
    assert_eq!(
        find(json!({"filters": {"lastName": {"startsWith": "Nai"}}})),
        pick(&[0, 1, 4])
    );
    assert_eq!(
        find(json!({"filters": {"email": {"endsWith": "@z.org"}}})),
        pick(&[3, 4])
    );
    // $or of two fields, with another condition beside it.
    assert_eq!(
        find(json!({"filters": {"$or": {"email": "asha@x.in", "phone": "9000000004"}}})),
        pick(&[0, 3])
    );
    assert_eq!(
        find(
            json!({"filters": {"channel": "chan-b", "$or": {"firstName": "ravi", "lastName": "rao"}}})
        ),
        pick(&[1])
    );
    // An unknown key matches nothing; an empty filter matches everyone.
    assert_eq!(
        find(json!({"filters": {"shoeSize": "9"}})),
        Vec::<String>::new()
    );
    assert_eq!(find(json!({"filters": {}})).len(), 6);
    // query: a substring of the names, userName, email or phone.
    assert_eq!(
        find(json!({"filters": {}, "query": "NAIR"})),
        pick(&[0, 1, 4])
    );
    assert_eq!(find(json!({"filters": {}, "query": "00003"})), pick(&[2]));
    assert_eq!(
        find(json!({"filters": {"channel": "chan-a"}, "query": "ir"})),
        pick(&[0, 2, 4])
    );
    // limit, offset, sort_by, fields.
    let r = w.ok(
        "POST",
        "/api/user/v1/search",
        Some(json!({"request": {"filters": {"lastName": {"startsWith": "n"}}, "limit": 2, "offset": 1,
            "sort_by": {"firstName": "desc"}, "fields": ["firstName", "id"]}})),
    );
    assert_eq!(r["response"]["count"], 3);
    assert_eq!(
        r["response"]["content"],
        json!([{"firstName": "Asha", "id": ids[0]}, {"firstName": "Anil", "id": ids[4]}])
    );
    w.fails(
        "POST",
        "/api/user/v1/search",
        Some(json!({"request": {}})),
        400,
        "UOS_USRSER0030",
    );
    w.fails(
        "POST",
        "/api/user/v1/search",
        Some(json!({"request": {"filters": []}})),
        400,
        "UOS_USRSER0003",
    );
    w.fails(
        "POST",
        "/api/user/v1/search",
        Some(json!({"request": {"filters": {"email": null}}})),
        400,
        "UOS_USRSER0017",
    );
}

/// `gender` and `createdDate`, which no index answers, are checked on each
/// user's record: alone, beside an indexed key, and as a range.
#[test]
fn gender_and_created_date_are_checked_on_the_records() {
    let (w, ids, _a, _b) = search_world();
    for (i, gender) in [(0, "female"), (3, "female"), (1, "male")] {
        w.ok(
            "PATCH",
            "/api/user/v3/update",
            Some(json!({"request": {"userId": ids[i], "gender": gender}})),
        );
    }
    let find = |filters: Value| found(&w, json!({"filters": filters}));
    let pick = |n: &[usize]| -> Vec<String> { n.iter().map(|i| ids[*i].clone()).collect() };
    assert_eq!(find(json!({"gender": "female"})), pick(&[0, 3]));
    assert_eq!(find(json!({"gender": ["MALE", "trans"]})), pick(&[1]));
    assert_eq!(
        find(json!({"gender": "female", "lastName": "nair"})),
        pick(&[0])
    );
    // Every user here was created on the seed's day (the superuser too).
    let day = &SEED_NOW[..10];
    assert_eq!(find(json!({"createdDate": {">=": day}})).len(), 6);
    assert_eq!(
        find(json!({"createdDate": {"<": day}})),
        Vec::<String>::new()
    );
    assert_eq!(
        find(json!({"createdDate": {">=": day}, "channel": "chan-b"})),
        pick(&[1, 3])
    );
}

/// The checks a search makes on the user record's texts alone (a name
/// filter's candidates), on ranges and on numbers: each key beside a name,
/// a `userId` in any of its forms, every range bound, numbers compared as
/// numbers, and a long query checked with full case folding.
#[test]
fn record_checks_beside_a_name_ranges_and_numbers_match_as_the_values_say() {
    let (w, ids, _a, _b) = search_world();
    let find = |request: Value| found(&w, request);
    let filters = |f: Value| find(json!({"filters": f}));
    let pick = |n: &[usize]| -> Vec<String> { n.iter().map(|i| ids[*i].clone()).collect() };
    let read = w.ok("GET", &format!("/api/user/v4/read/{}", ids[0]), None);
    let username = read["response"]["userName"].as_str().unwrap().to_string();
    // Beside a name (whose index gives candidates), each key is checked on
    // the candidate's texts.
    let bare = ids[0].replace('-', "").to_uppercase();
    for id in [&ids[0], &bare] {
        assert_eq!(filters(json!({"userId": id})), pick(&[0]));
        assert_eq!(filters(json!({"lastName": "nair", "id": id})), pick(&[0]));
    }
    assert_eq!(
        filters(json!({"lastName": "nair", "userId": ids[2]})),
        Vec::<String>::new()
    );
    assert_eq!(
        filters(json!({"lastName": "nair", "userName": username.to_uppercase()})),
        pick(&[0])
    );
    assert_eq!(
        filters(json!({"lastName": "nair", "phone": "+91 90000-00002"})),
        pick(&[1])
    );
    assert_eq!(
        filters(json!({"lastName": {"startsWith": "nai"}, "email": "ANIL@z.org"})),
        pick(&[4])
    );
    // Every bound of a range: 1985-12-31 < dob <= 1990-05-01.
    assert_eq!(
        filters(json!({"dob": {">": "1985-12-31", "<=": "1990-05-01"}})),
        pick(&[0])
    );
    assert_eq!(
        filters(json!({"dob": {">=": "1985-12-31", "<": "1990-05-01"}})),
        pick(&[2])
    );
    // The same bounds on a text of the user record (folded): asha < name
    // <= ravi, kiran <= name < meena.
    assert_eq!(
        filters(json!({"firstName": {">": "ASHA", "<=": "ravi"}})),
        pick(&[1, 2, 3])
    );
    assert_eq!(
        filters(json!({"firstName": {">=": "kiran", "<": "meena"}})),
        pick(&[2])
    );
    // Numbers as numbers (grade 10 is above grade 9), other text as text.
    for (i, grade) in [(0, "9"), (1, "10"), (2, "class-3")] {
        w.ok(
            "PATCH",
            "/api/user/v3/update",
            Some(json!({"request": {"userId": ids[i], "grade": [grade]}})),
        );
    }
    assert_eq!(filters(json!({"grade": {">": "9"}})), pick(&[1, 2]));
    assert_eq!(filters(json!({"grade": {"<": "10"}})), pick(&[0]));
    // A query longer than a gram, checked on merged users' texts with full
    // case folding: `Straße` holds `strasse`.
    let strasse = w.created(
        "/api/user/v1/create",
        json!({"request": {"firstName": "Straßenbahn", "userName": "tram_one",
            "email": "tram@example.com", "password": "Pass@1word"}}),
    );
    w.i.operator().purge_expired().unwrap();
    assert_eq!(
        find(json!({"filters": {}, "query": "STRASSE"})),
        std::slice::from_ref(&strasse)
    );
    assert_eq!(
        find(json!({"filters": {"firstName": {"startsWith": "strasse"}}, "query": "bahn"})),
        [strasse]
    );
}

/// Every filter an index answers is answered by that index, not by reading
/// every user (issue 10: searches on indexes): once the user's rows of the
/// terms index, the unique indexes, the managed-user pairs and the search
/// grams are taken out of the store file, a filter on the key no longer
/// finds the user, while the same filter beside a condition no index
/// answers (an `$or` with `status`), checked on the records, still does.
#[test]
fn each_indexed_filter_is_answered_by_its_index() {
    use roster::store::testing;
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.redb");
    let open = || {
        let (config, _) = roster_tests::config(SEED_NOW);
        Institute::open(&path, config).expect("open")
    };
    let w = {
        let i = open();
        i.create_superuser("root", ROOT_PASSWORD)
            .expect("superuser");
        let token = i.login("root", ROOT_PASSWORD).expect("sign-in").token;
        World { i, token }
    };
    let org = w.org("Org Z", "chan-z", true);
    let zohra = w.created(
        "/api/user/v1/sso/create",
        json!({"request": {"firstName": "Zohra", "lastName": "Qureshi", "channel": "chan-z",
            "userName": "zohra_q", "email": "zohra@x.in", "phone": "9000000009",
            "language": ["ta"],
            "externalIds": [{"id": "ext-z", "provider": "chan-z", "idType": "chan-z"}],
            "profileLocation": [{"code": "loc-z", "type": "state"}]}}),
    );
    w.ok(
        "PATCH",
        "/api/user/v3/update",
        Some(
            json!({"request": {"userId": zohra, "profileUserTypes": [{"type": "teacher"}],
            "grade": ["grade-5"], "subject": ["maths"]}}),
        ),
    );
    w.ok(
        "POST",
        "/api/user/v1/role/assign",
        Some(json!({"request": {"userId": zohra, "organisationId": org, "roles": ["ORG_ADMIN"]}})),
    );
    let mentor = w.user("Mentor", "mentor@example.com");
    let kid = w.created(
        "/api/user/v4/create",
        json!({"request": {"firstName": "Kid", "managedBy": mentor}}),
    );
    let filters = [
        ("rootOrgId", json!(org), &zohra),
        (
            "organisations.organisationId",
            json!(org.to_string()),
            &zohra,
        ),
        ("channel", json!("chan-z"), &zohra),
        ("roles.role", json!("org_admin"), &zohra),
        ("profileUserType.type", json!("teacher"), &zohra),
        ("profileLocation.code", json!("loc-z"), &zohra),
        ("externalIds.id", json!("ext-z"), &zohra),
        ("language", json!("ta"), &zohra),
        ("grade", json!("grade-5"), &zohra),
        ("subject", json!("maths"), &zohra),
        ("userName", json!("zohra_q"), &zohra),
        ("email", json!("zohra@x.in"), &zohra),
        ("phone", json!("9000000009"), &zohra),
        ("firstName", json!("zohra"), &zohra),
        ("lastName", json!("qureshi"), &zohra),
        ("firstName", json!({"startsWith": "Zoh"}), &zohra),
        ("lastName", json!({"startsWith": "Qur"}), &zohra),
        ("userName", json!({"startsWith": "zohra_"}), &zohra),
        ("email", json!({"endsWith": "a@x.in"}), &zohra),
        ("phone", json!({"startsWith": "9000000"}), &zohra),
        ("managedBy", json!(mentor), &kid),
    ];
    let found = |w: &World, filters: Value| found(w, json!({"filters": filters}));
    for (key, value, who) in &filters {
        assert_eq!(
            found(&w, json!({*key: value})),
            [(*who).clone()],
            "{key} {value}"
        );
    }
    let ids = [&zohra, &kid].map(|u| {
        let read = w.ok("GET", &format!("/api/user/v4/read/{u}"), None);
        let username = read["response"]["userName"].as_str().expect("a userName");
        w.i.operator().find_user(username).expect("id")
    });
    drop(w);
    // Every index row of the two users goes.
    let ends_with_id = |key: &[u8]| ids.iter().any(|id| key.ends_with(&id.to_be_bytes()));
    for table in ["sunbird_terms", "managed_users", "grams_unmerged"] {
        let rows = testing::raw_rows(&path, table).expect("raw read");
        let theirs: Vec<_> = rows.iter().filter(|(k, _)| ends_with_id(k)).collect();
        assert!(!theirs.is_empty(), "{table}");
        for (key, _) in theirs {
            testing::raw_delete(&path, table, key).expect("raw delete");
        }
    }
    for table in ["user_by_username", "user_by_email", "user_by_phone"] {
        for (key, _) in testing::raw_rows(&path, table).expect("raw read") {
            if key != b"root" {
                testing::raw_delete(&path, table, &key).expect("raw delete");
            }
        }
    }
    let i = open();
    let token = i.login("root", ROOT_PASSWORD).expect("sign-in").token;
    let w = World { i, token };
    for (key, value, who) in &filters {
        assert_eq!(
            found(&w, json!({*key: value})),
            Vec::<String>::new(),
            "{key}"
        );
        let checked = json!({"$or": {*key: value, "status": 0}});
        assert_eq!(found(&w, checked), [(*who).clone()], "{key} on the records");
    }
}

/// `managedBy` finds a manager's managed users by the managed-user pairs,
/// alone (the index's answer is the count) or beside conditions no index
/// answers, in an `$or` and in an order; its value is a `userId` in any
/// case.
#[test]
fn a_search_by_managed_by_finds_each_managers_users() {
    let w = world();
    let (parent, _) = w.manager_of(&["Kid A", "Kid B"]);
    let other = w.user("Other", "other@example.com");
    w.ok(
        "POST",
        "/api/user/v4/create",
        Some(json!({"request": {"firstName": "Kid C", "managedBy": other}})),
    );
    let names = |filters: Value, sort: Option<Value>| -> (Value, Vec<String>) {
        let mut request = json!({"filters": filters});
        if let Some(sort) = sort {
            request["sort_by"] = sort;
        }
        searched_for(&w, request, "firstName")
    };
    let kids = |n: &[&str]| -> (Value, Vec<String>) {
        (json!(n.len()), n.iter().map(|s| s.to_string()).collect())
    };
    assert_eq!(
        names(json!({"managedBy": parent}), None),
        kids(&["Kid A", "Kid B"])
    );
    assert_eq!(
        names(json!({"managedBy": parent.to_uppercase()}), None),
        kids(&["Kid A", "Kid B"])
    );
    assert_eq!(
        names(json!({"managedBy": parent, "status": 1}), None),
        kids(&["Kid A", "Kid B"])
    );
    assert_eq!(
        names(json!({"managedBy": [parent, other]}), None),
        kids(&["Kid A", "Kid B", "Kid C"])
    );
    assert_eq!(
        names(
            json!({"managedBy": [parent, other]}),
            Some(json!({"firstName": "desc"}))
        ),
        kids(&["Kid C", "Kid B", "Kid A"])
    );
    assert_eq!(
        names(
            json!({"$or": {"managedBy": other, "firstName": "kid a"}}),
            None
        ),
        kids(&["Kid A", "Kid C"])
    );
    assert_eq!(
        names(json!({"$or": {"managedBy": other, "status": 0}}), None),
        kids(&["Kid C"])
    );
    // A manager of no one, and no user id at all, manage no one.
    assert_eq!(
        names(
            json!({"managedBy": w.user("Lone", "lone@example.com")}),
            None
        ),
        kids(&[])
    );
    assert_eq!(names(json!({"managedBy": "nobody"}), None), kids(&[]));
}

/// The name index and a `query` longer than a gram give candidates, not
/// answers: every one is checked before it is counted, inside an `$or`
/// group as outside it (a count taken from such candidates would count
/// `Nairobi` for `nair`, or `Aaaa` for `aaaaa`).
#[test]
fn candidates_of_the_name_index_and_of_long_queries_are_checked_before_they_count() {
    let (w, ids, _a, _b) = search_world();
    let aaaa = w.user("Aaaa", "aaaa@x.in");
    let find = |body: Value| searched(&w, body);
    let pick = |n: &[usize]| -> Vec<String> { n.iter().map(|i| ids[*i].clone()).collect() };
    // New users' texts are tested as they are; a purge merges them into the
    // grams, which only name candidates.
    for merged in [false, true] {
        if merged {
            w.i.operator().purge_expired().unwrap();
        }
        // `nair` is held in `Nairobi` (user 4) but is not its last name.
        assert_eq!(
            find(json!({"filters": {"$or": {"lastName": "nair", "email": "meena@z.org"}}})),
            (json!(3), pick(&[0, 1, 3]))
        );
        assert_eq!(
            find(json!({"filters": {"$or": {"lastName": "nair"}, "channel": "chan-a"}})),
            (json!(1), pick(&[0]))
        );
        // `aaaaa`'s one gram is in `Aaaa`, which does not hold it.
        assert_eq!(
            find(json!({"filters": {}, "query": "aaaaa"})),
            (json!(0), vec![])
        );
        // Beside a condition on the side record, and in an order.
        assert_eq!(
            find(json!({"filters": {"status": 1}, "query": "aaaaa"})),
            (json!(0), vec![])
        );
        assert_eq!(
            find(json!({"filters": {}, "query": "aaaaa", "sort_by": {"firstName": "asc"}})),
            (json!(0), vec![])
        );
        assert_eq!(
            find(json!({"filters": {}, "query": "aaaa"})),
            (json!(1), vec![aaaa.clone()])
        );
        assert_eq!(
            find(json!({"filters": {"channel": "chan-a"}, "query": "nairo"})),
            (json!(1), pick(&[4]))
        );
    }
}

#[test]
fn one_record_three_views() {
    let w = world();
    // Created through Sunbird, seen by Testpress and Django.
    let id = w.user("Uma", "uma@example.com");
    let admin = w.i.operator();
    let pk = admin.find_user("uma@example.com").unwrap();
    let testpress =
        roster_tests::call(&w.i, "GET", &format!("/api/v2.5/admin/users/{pk}/"), None).json();
    assert_eq!(testpress["first_name"], "Uma");
    assert_eq!(admin.get_user(pk).unwrap().uuid, id);
    let django = roster_tests::call(&w.i, "GET", &format!("/api/admin/users/{pk}/"), None).json();
    assert_eq!(django["email"], "uma@example.com");
    // Changed through Testpress, seen by Sunbird.
    let r = roster_tests::call(
        &w.i,
        "PUT",
        &format!("/api/v2.5/admin/users/{pk}/"),
        Some(json!({"last_name": "Devi", "phone": "9123456789"})),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let user = w.ok("GET", &format!("/api/user/v1/read/{id}"), None)["response"].clone();
    assert_eq!(user["lastName"], "Devi");
    assert_eq!(user["phone"], "******6789");
    // A Testpress user read through Sunbird, and deleted there.
    let t = roster_tests::call(
        &w.i,
        "POST",
        "/api/v2.5/admin/users/",
        Some(json!({"username": "tp", "password": "tp-pass-123", "email": "tp@example.com", "first_name": "Tee"})),
    )
    .json();
    let tid = admin.get_user(t["id"].as_u64().unwrap()).unwrap().uuid;
    let user = w.ok("GET", &format!("/api/user/v1/read/{tid}"), None)["response"].clone();
    assert_eq!(user["userName"], "tp");
    assert_eq!(user["roles"], json!(["PUBLIC"]));
    let found = w.ok(
        "POST",
        "/api/user/v1/search",
        Some(json!({"request": {"filters": {"userName": "TP"}}})),
    );
    assert_eq!(found["response"]["count"], 1);
    let r = roster_tests::call(
        &w.i,
        "DELETE",
        &format!("/api/v2.5/admin/users/{pk}/"),
        None,
    );
    assert_eq!(r.status, 204);
    w.fails(
        "GET",
        &format!("/api/user/v1/read/{id}"),
        None,
        404,
        "UOS_USRRED0013",
    );
    assert_eq!(w.i.check_integrity().unwrap(), Vec::<String>::new());
}

/// The full export (JSON Lines) of `i`.
pub(super) fn export_of(i: &Institute) -> String {
    let mut out = Vec::new();
    roster::transfer::export(&i.operator(), &mut out).expect("export");
    String::from_utf8(out).expect("UTF-8")
}

fn restore(text: &str) -> roster::Result<Institute> {
    let (i, _) = institute(SEED_NOW);
    roster::transfer::import(
        &i.operator(),
        text.as_bytes(),
        &roster::transfer::ImportOptions::default(),
        &mut |_| {},
    )?;
    Ok(i)
}

/// X2: a store's export restores, whichever surface last named its users
/// and whoever created them: a Sunbird user renamed through the admin API
/// (a Testpress username keeps its case), a userName that NFKC gave a
/// space at its start (a spacing accent), and a user whose creator's id
/// is above its own (ids come in blocks, one per process).
#[test]
fn users_named_by_either_surface_and_created_by_a_later_id_restore() {
    let w = world();
    let ravi = w.created(
        "/api/user/v1/create",
        json!({"request": {"firstName": "Ravi", "userName": "ravi", "email": "ravi@example.com"}}),
    );
    let admin = w.i.operator();
    let id = admin.find_user("ravi@example.com").unwrap();
    let patch = roster::UserPatch {
        username: Some("Ravi.K".into()),
        ..Default::default()
    };
    admin.update_user(id, patch).unwrap();
    let accent = w.created(
        "/api/user/v1/create",
        json!({"request": {"firstName": "Acc", "userName": "\u{B4}ravi",
            "email": "acc@example.com"}}),
    );
    let read = w.ok("GET", &format!("/api/user/v1/read/{accent}"), None);
    assert_eq!(read["response"]["userName"], "\u{301}ravi");
    // A creator above its user: Ravi's side record names one, resealed.
    let mut lines: Vec<String> = export_of(&w.i).lines().map(str::to_string).collect();
    let line = lines
        .iter_mut()
        .find(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["type"] == "sunbird_user" && v["record"]["user"] == json!(id)
        })
        .expect("Ravi's side record");
    let mut v: Value = serde_json::from_str(line).unwrap();
    v["record"]["fields"]["createdBy"] = json!(id + 1000);
    *line = v.to_string();
    let restored = restore(&roster_tests::reseal(&lines)).expect("the export restores");
    let r = restored.operator();
    assert_eq!(r.get_user(id).unwrap().username, "Ravi.K");
    assert!(r.find_user("acc@example.com").is_ok(), "{ravi}");
}

/// A side record holds its root organisation among its organisations (the
/// search index and its filter count on it): a dump whose record leaves it
/// out is refused.
#[test]
fn a_side_record_without_its_root_among_its_organisations_is_refused() {
    let w = world();
    let org = w.org("State", "state1", true);
    w.created(
        "/api/user/v1/create",
        json!({"request": {"firstName": "Rooted", "email": "rooted@example.com",
            "channel": "state1"}}),
    );
    let mut lines: Vec<String> = export_of(&w.i).lines().map(str::to_string).collect();
    let line = lines
        .iter_mut()
        .find(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["type"] == "sunbird_user" && v["record"]["fields"]["rootOrg"] == json!(org)
        })
        .expect("the side record");
    let mut v: Value = serde_json::from_str(line).unwrap();
    v["record"]["fields"]["organisations"] = json!([]);
    *line = v.to_string();
    let err = restore(&roster_tests::reseal(&lines))
        .map(drop)
        .unwrap_err();
    assert!(
        err.message()
            .contains(&format!("rootOrgId {org} is not among its organisations")),
        "{err}"
    );
}

#[test]
fn sunbird_records_are_exported_restored_and_checked_as_their_surface_made_them() {
    let (w, ids, _a, _b) = search_world();
    w.ok(
        "POST",
        "/api/data/v1/system/settings/set",
        Some(json!({"request": {"id": "tncConfig", "field": "tncConfig", "value": "{\"latestVersion\":\"v2\"}"}})),
    );
    let spaced = w.created(
        "/api/user/v1/create",
        json!({"request": {"firstName": "Sp", "userName": "with space", "phone": "9111111111"}}),
    );
    w.ok(
        "POST",
        "/api/user/v4/create",
        Some(managed_body("Create User V4", &ids[0])),
    );
    let text = export_of(&w.i);
    assert!(
        text.contains("\"type\":\"sunbird_user\"") && text.contains("\"type\":\"organisation\"")
    );
    let restored = restore(&text).expect("restores");
    assert_eq!(export_of(&restored), text);
    assert_eq!(restored.check_integrity().unwrap(), Vec::<String>::new());
    let r = World {
        token: {
            restored.create_superuser("root2", ROOT_PASSWORD).unwrap();
            restored.login("root2", ROOT_PASSWORD).unwrap().token
        },
        i: restored,
    };
    let user = r.ok("GET", &format!("/api/user/v5/read/{}", ids[1]), None)["response"].clone();
    assert_eq!(user["roles"][0]["role"], "ORG_ADMIN");
    assert_eq!(user["tncLatestVersion"], "v2");
    let found = r.ok(
        "POST",
        "/api/user/v1/search",
        Some(json!({"request": {"filters": {"language": "ta"}}})),
    );
    assert_eq!(found["response"]["count"], 2);
    let user = r.ok("GET", &format!("/api/user/v1/read/{spaced}"), None)["response"].clone();
    assert_eq!(user["userName"], "with space");

    // The same space in a Testpress user's name is refused: each user is
    // checked by the rules of the surface that created it.
    let tampered = text.replace("\"origin\":\"Sunbird\"", "\"origin\":\"Roster\"");
    let tampered =
        super::transfer::reseal(&tampered.lines().map(str::to_string).collect::<Vec<_>>());
    let Err(err) = restore(&tampered) else {
        panic!("refused")
    };
    assert!(err.message().contains("username"), "{err}");
    // An edited side record (an upper-case external id) is refused.
    let edited = text.replacen("\"id\":\"ext-asha\"", "\"id\":\"EXT-Asha\"", 1);
    assert_ne!(edited, text);
    let edited = super::transfer::reseal(&edited.lines().map(str::to_string).collect::<Vec<_>>());
    let Err(err) = restore(&edited) else {
        panic!("refused")
    };
    assert!(err.message().contains("Sunbird fields of user"), "{err}");
}

#[test]
fn format_2_exports_without_sunbird_records_still_restore() {
    let (i, _) = institute(SEED_NOW);
    roster_tests::call(
        &i,
        "POST",
        "/api/v2.5/admin/users/",
        Some(json!({"username": "old", "password": "old-pass-1"})),
    );
    let text = export_of(&i);
    // What the roster before this format wrote: format 2, no Sunbird kinds.
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[0] = lines[0].replace("\"format\":3", "\"format\":2");
    let body: Vec<String> = lines[..lines.len() - 1].to_vec();
    let resealed = super::transfer::reseal(&body);
    let trailer_at = resealed.trim_end().rfind('\n').unwrap();
    let mut trailer: Value = serde_json::from_str(&resealed[trailer_at + 1..]).unwrap();
    for kind in ["setting", "organisation", "sunbird_user"] {
        trailer["counts"].as_object_mut().unwrap().remove(kind);
    }
    let old = format!("{}\n{}\n", &resealed[..trailer_at], trailer);
    let restored = restore(&old).expect("a format-2 export restores");
    assert!(restored.login("old", "old-pass-1").is_ok());
}

#[test]
fn every_class_of_bad_input_is_refused_in_the_envelope_and_changes_nothing() {
    let (w, ids, org, _b) = search_world();
    let mut before = export_of(&w.i);
    let huge = "x".repeat(200_000);
    let values = [
        json!(null),
        json!(true),
        json!(-1),
        json!(1e308),
        json!(18446744073709551615u64),
        json!([1, [2]]),
        json!({"a": {"b": {}}}),
        json!(huge),
        json!("bell\u{7}ring"),
        json!("\u{0}"),
        json!(""),
    ];
    let fields = [
        "firstName",
        "lastName",
        "userName",
        "email",
        "phone",
        "password",
        "dob",
        "gender",
        "avatar",
        "language",
        "framework",
        "address",
        "profileLocation",
        "externalIds",
        "profileUserTypes",
        "channel",
        "managedBy",
        "emailVerified",
        "recoveryEmail",
    ];
    let paths: [(&str, &str, Value); 5] = [
        (
            "POST",
            "/api/user/v1/create",
            json!({"firstName": "Base", "phone": "9222222222"}),
        ),
        ("PATCH", "/api/user/v3/update", json!({"userId": ids[0]})),
        (
            "POST",
            "/api/user/v2/role/assign",
            json!({"userId": ids[0], "roles": [{"role": "ORG_ADMIN", "scope": [{"organisationId": org}]}]}),
        ),
        (
            "POST",
            "/api/org/v1/create",
            json!({"orgName": "O", "organisationType": "school", "channel": "bad-input", "isTenant": true}),
        ),
        (
            "PATCH",
            "/api/user/v1/declarations",
            json!({"declarations": [{"userId": ids[0], "orgId": "o", "persona": "p"}]}),
        ),
    ];
    let mut refused = 0;
    for (method, path, base) in &paths {
        for field in fields
            .iter()
            .chain(["userId", "roles", "orgName", "isTenant", "declarations"].iter())
        {
            for value in &values {
                let mut body = base.clone();
                body[*field] = value.clone();
                let r = w.send(method, path, Some(json!({"request": body})));
                assert!(
                    r.status < 500,
                    "{method} {path} {field}={value}: {:?}",
                    r.body
                );
                let v = r.json();
                assert!(
                    v.get("params").is_some(),
                    "{method} {path}: not an envelope: {v}"
                );
                let after = export_of(&w.i);
                if r.status == 200 {
                    // Accepted: a value the rules allow.
                    before = after;
                    continue;
                }
                assert_eq!(
                    after, before,
                    "{method} {path} {field}={value} was refused but wrote"
                );
                refused += 1;
                assert_eq!(v["params"]["status"], "FAILED");
                assert!(v["params"]["err"].as_str().is_some_and(|e| !e.is_empty()));
                assert!(
                    v["params"]["errmsg"]
                        .as_str()
                        .is_some_and(|m| m.len() < 2000),
                    "{v}"
                );
            }
        }
    }
    assert!(refused > 500, "only {refused} refusals");
    // Bodies that are not what a Sunbird path reads.
    for body in [
        "",
        "null",
        "[]",
        "\"request\"",
        "{\"request\": []}",
        "{\"request\": null}",
        "{",
        "\u{0}",
    ] {
        let r = roster::rest::handle(
            &w.i,
            Request::new("POST", "/api/user/v1/create")
                .with_header("x-authenticated-user-token", &w.token)
                .with_body(body),
        );
        assert_eq!(r.status, 400, "{body:?}: {:?}", r.body);
    }
    assert_eq!(export_of(&w.i), before, "a refused body wrote");
    assert_eq!(w.i.check_integrity().unwrap(), Vec::<String>::new());
}

#[test]
fn lookup_examples_by_user_name_and_login_id_answer_as_documented() {
    let w = world();
    let id = w.created(
        "/api/user/v1/create",
        json!({"request": {"firstName": "first name", "userName": "username1",
            "email": "seed@example.com"}}),
    );
    // The get and exists examples, with the idType their answers name.
    for (name, path) in [
        ("Get User by ID Type", "/api/user/v1/get/userName/UserName1"),
        (
            "Check User Exists by ID Type",
            "/api/user/v1/exists/userName/username1",
        ),
    ] {
        let e = example(name);
        let r = w.send("GET", path, None);
        assert_eq!(r.status, 200, "{name}: {:?}", r.body);
        let v = r.json();
        same_envelope(&v, &e["response_body"]);
        assert_eq!(v["id"], e["response_body"]["id"], "{name}");
        assert_eq!(
            keys(&v["result"]),
            keys(&e["response_body"]["result"]),
            "{name}"
        );
    }
    let got = w.ok("GET", "/api/user/v1/get/userName/username1", None);
    let documented = example("Get User by ID Type")["response_body"]["result"]["response"].clone();
    let missing: Vec<String> = keys(&documented)
        .difference(&keys(&got["response"]))
        .cloned()
        .collect();
    assert!(missing.is_empty(), "missing {missing:?}");
    let v2 = w.ok("GET", "/api/user/v2/exists/userName/username1", None);
    assert_eq!(v2, json!({"exists": true, "id": id, "name": "first name"}));
    // Get User by Login ID: the example's body, with fields=roles.
    let e = example("Get User by Login ID");
    let read = w.ok(
        "POST",
        &format!("{}?fields=roles", e["path"].as_str().unwrap()),
        Some(e["request_body"].clone()),
    );
    assert_eq!(read["response"]["id"], json!(id));
    assert!(
        read["response"]["roleList"]
            .as_array()
            .is_some_and(|l| l.len() == 25)
    );
    w.fails(
        "POST",
        "/api/user/v1/profile/read",
        Some(json!({"request": {"loginId": "nobody"}})),
        404,
        "UOS_USRRED0013",
    );
}

#[test]
fn a_plain_search_pages_over_merged_away_users_by_position() {
    // Merged-away users are records that search leaves out: a search with
    // no filter counts and pages every other user, in creation order,
    // whatever the offset, however they lie (the first, a run, the last).
    let w = world();
    let admin = w.i.operator();
    let people: Vec<String> = (0..24)
        .map(|k| w.user(&format!("Person{k}"), &format!("p{k}@example.com")))
        .collect();
    let gone: BTreeSet<&str> = [0, 8, 9, 10, 14, 16, 23]
        .iter()
        .map(|&k| people[k].as_str())
        .collect();
    let plain = |offset: u64, limit: u64| {
        admin
            .sunbird_search(&roster::domain::sunbird::SearchRequest {
                offset,
                limit: Some(limit),
                ..Default::default()
            })
            .unwrap()
    };
    let everyone = plain(0, 1000);
    for from in &gone {
        admin.merge_accounts(from, &people[5]).unwrap();
    }
    let kept: Vec<String> = everyone
        .content
        .into_iter()
        .map(|v| v.user_id)
        .filter(|u| !gone.contains(u.as_str()))
        .collect();
    assert_eq!(kept.len() as u64, everyone.count - gone.len() as u64);
    for offset in 0..=kept.len() as u64 + 1 {
        for limit in [1, 2, 5, 1000] {
            let r = plain(offset, limit);
            assert_eq!(r.count, kept.len() as u64, "offset {offset}");
            let got: Vec<String> = r.content.into_iter().map(|v| v.user_id).collect();
            let want: Vec<String> = kept
                .iter()
                .skip(offset as usize)
                .take(limit as usize)
                .cloned()
                .collect();
            assert_eq!(got, want, "offset {offset}, limit {limit}");
        }
    }
}

/// `orgExternalId` names an organisation of the user's tenant, by its
/// external id ignoring case, through the index: another tenant's
/// organisation with the same external id is not it, the lowest id wins
/// among several, and one that names nothing is refused. (An external id
/// holding a NUL, which could start with another's key, is refused at
/// create; the store's own test covers a stored one.)
#[test]
fn org_external_id_finds_the_organisation_of_the_users_tenant() {
    let w = world();
    let sub = |channel: &str, external_id: &str| -> u64 {
        let body = json!({"request": {"orgName": "school", "organisationType": "school",
            "channel": channel, "isTenant": false, "externalId": external_id}});
        let result = w.ok("POST", "/api/org/v1/create", Some(body));
        result["organisationId"].as_u64().expect("an id")
    };
    let a = w.org("A", "a-chan", true);
    let b = w.org("B", "b-chan", true);
    let a1 = sub("a-chan", "SCH-1");
    let nul = json!({"request": {"orgName": "school", "organisationType": "school",
        "channel": "b-chan", "isTenant": false, "externalId": "sch-1\u{0}x"}});
    assert_eq!(w.send("POST", "/api/org/v1/create", Some(nul)).status, 400);
    let b1 = sub("b-chan", "sch-1");
    // One organisation of a tenant per external id, in any case.
    let again = json!({"request": {"orgName": "school", "organisationType": "school",
        "channel": "b-chan", "isTenant": false, "externalId": "SCH-1"}});
    assert_eq!(
        w.send("POST", "/api/org/v1/create", Some(again)).status,
        400
    );
    sub("b-chan", "sch-10");
    let orgs_of = |n: u32, channel: &str, external_id: &str| -> Vec<u64> {
        let body = json!({"request": {"firstName": format!("u{n}"),
            "email": format!("u{n}@example.com"), "password": "Pass@1word",
            "channel": channel, "orgExternalId": external_id}});
        let user = w.ok("POST", "/api/user/v1/create", Some(body))["userId"].clone();
        let read = w.ok(
            "GET",
            &format!("/api/user/v1/read/{}", user.as_str().unwrap()),
            None,
        );
        let orgs = read["response"]["organisations"]
            .as_array()
            .expect("organisations");
        orgs.iter()
            .map(|o| o["organisationId"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(orgs_of(1, "b-chan", "Sch-1"), vec![b, b1]);
    assert_eq!(orgs_of(2, "a-chan", " SCH-1 "), vec![a, a1]);
    let body = json!({"request": {"firstName": "u3", "email": "u3@example.com",
        "password": "Pass@1word", "channel": "a-chan", "orgExternalId": "sch-10"}});
    assert_eq!(
        w.send("POST", "/api/user/v1/create", Some(body)).status,
        400
    );
    assert_eq!(w.i.check_integrity().expect("check"), Vec::<String>::new());
}

/// The numeric id of the user whose first name is `first`.
fn id_named(w: &World, first: &str) -> u64 {
    let users = w.i.operator().list_users(&Default::default()).unwrap();
    users
        .items
        .iter()
        .find(|u| u.first_name == first)
        .unwrap_or_else(|| panic!("no user {first}"))
        .id
}

/// `(sign-in works, the user still exists)` for `login` with `password`.
fn signs_in(w: &World, login: &str, password: &str) -> bool {
    w.i.login(login, password).is_ok()
}

#[test]
fn only_an_sso_shadow_can_be_claimed_never_a_managed_or_fresh_account() {
    let w = world();
    w.org("State", "state1", true);
    let ext = |id: &str| json!([{"id": id, "idType": "roll", "provider": "state1"}]);
    let parent = w.user("Parent", "parent@example.com");
    // A managed user (managed users never sign in) and a user an
    // administrator has just created: both carry an external id of the
    // channel and have never signed in. Neither is a shadow (S11).
    w.ok(
        "POST",
        "/api/user/v4/create",
        Some(json!({"request": {"firstName": "Kid", "managedBy": parent, "externalIds": ext("roll-17")}})),
    );
    let fresh = w.created(
        "/api/user/v1/create",
        json!({"request": {"firstName": "Fresh", "email": "fresh@example.com",
            "password": "Pass@1word", "externalIds": ext("emp-5")}}),
    );
    let mallory = w.user("Mallory", "mallory@example.com");
    let token =
        w.i.login("mallory@example.com", "Pass@1word")
            .unwrap()
            .token;
    let claim = |id: &str| {
        json!({"request": {"userId": mallory, "channel": "state1", "action": "accept",
            "userExtId": id, "feedId": "x"}})
    };
    let r = w.send_as(
        &token,
        "POST",
        "/api/user/v1/migrate",
        Some(claim("roll-17")),
    );
    assert_eq!(r.json()["result"]["err"], true, "{:?}", r.body);
    let r = w.send_as(&token, "POST", "/api/user/v1/migrate", Some(claim("emp-5")));
    failure(&r, 400, "UOS_USRMIG0060");
    // Both accounts are untouched, the kid still its parent's.
    let managed = w.ok("GET", &format!("/api/user/v1/managed/{parent}"), None);
    assert_eq!(managed["response"]["count"], 1);
    w.ok("GET", &format!("/api/user/v1/read/{fresh}"), None);
    // An SSO user of the channel is a shadow: another claimant takes it.
    w.ok(
        "POST",
        "/api/user/v1/sso/create",
        Some(
            json!({"request": {"firstName": "Shadow", "phone": "9876500001",
            "channel": "state1", "externalIds": ext("sso-1")}}),
        ),
    );
    let owner = w.user("Owner", "owner@example.com");
    let owner_token = w.i.login("owner@example.com", "Pass@1word").unwrap().token;
    let mut body = claim("sso-1");
    body["request"]["userId"] = json!(owner);
    let r = w.send_as(&owner_token, "POST", "/api/user/v1/migrate", Some(body));
    assert_eq!(r.json()["responseCode"], "OK", "{:?}", r.body);
    assert_eq!(w.i.check_integrity().unwrap(), Vec::<String>::new());
}

#[test]
fn a_sunbird_update_sets_a_password_only_as_an_administrator_for_an_unmanaged_user() {
    let w = world();
    let victim = w.user("Victor", "victor@example.com");
    let stolen = w.i.login("victor@example.com", "Pass@1word").unwrap().token;
    let other_device = w.i.login("victor@example.com", "Pass@1word").unwrap().token;
    // The user itself: the old password is asked for by /me/password only.
    let own = json!({"request": {"userId": victim, "password": "Owned-pass-9"}});
    let r = w.send_as(&stolen, "PATCH", "/api/user/v1/update", Some(own));
    assert_eq!(
        failure(&r, 400, "UOS_USRUPD0021"),
        "Invalid parameter password in request."
    );
    assert!(w.i.session(&other_device).is_ok());
    assert!(signs_in(&w, "victor@example.com", "Pass@1word"));
    // A manager holds no credential of its managed user (S3).
    let (_, parent_token) = w.manager_of(&["Kid"]);
    let kid = w.i.operator().get_user(id_named(&w, "Kid")).unwrap().uuid;
    let set = json!({"request": {"userId": kid, "password": "Kid-pass-123"}});
    let r = w.send_as(
        &parent_token,
        "PATCH",
        "/api/user/v1/update",
        Some(set.clone()),
    );
    failure(&r, 400, "UOS_USRUPD0021");
    // Nor an administrator while the user stays managed.
    w.fails(
        "PATCH",
        "/api/user/v1/update",
        Some(set),
        400,
        "UOS_USRUPD0021",
    );
    // An administrator sets one for another user, by the whole policy:
    // a password equal to the username is refused.
    let name = w.ok("GET", &format!("/api/user/v1/read/{victim}"), None)["response"]["userName"]
        .as_str()
        .unwrap()
        .to_string();
    let same = json!({"request": {"userId": victim, "password": name}});
    w.fails(
        "PATCH",
        "/api/user/v1/update",
        Some(same),
        400,
        "UOS_USRUPD0024",
    );
    // Any other change leaves the user's sessions alone.
    let renamed = json!({"request": {"userId": victim, "firstName": "Victoria"}});
    w.ok("PATCH", "/api/user/v1/update", Some(renamed));
    assert!(w.i.session(&other_device).is_ok());
    let reset = json!({"request": {"userId": victim, "password": "Reset-pass-77"}});
    w.ok("PATCH", "/api/user/v1/update", Some(reset));
    assert!(signs_in(&w, "victor@example.com", "Reset-pass-77"));
    assert!(w.i.session(&other_device).is_err());
    assert!(
        w.i.session(&w.token).is_ok(),
        "the administrator's own stays"
    );
    assert_eq!(w.i.check_integrity().unwrap(), Vec::<String>::new());
}

/// A managed user blocked, or deactivated, through the admin API is still
/// listed to its manager, without a token; back to normal, it gets one.
#[test]
fn a_blocked_or_inactive_managed_user_is_given_no_token() {
    let w = world();
    let (parent, parent_token) = w.manager_of(&["Kid"]);
    let kid = id_named(&w, "Kid");
    let patch = |is_blocked, is_active| roster::UserPatch {
        is_blocked: Some(is_blocked),
        is_active: Some(is_active),
        ..Default::default()
    };
    let admin = w.i.operator();
    for (blocked, active) in [(true, true), (false, false), (true, false)] {
        admin.update_user(kid, patch(blocked, active)).unwrap();
        let list = w.managed_tokens(&parent, &parent_token);
        assert_eq!(list, [("Kid".to_string(), None)], "{blocked} {active}");
        admin.update_user(kid, patch(false, true)).unwrap();
    }
    assert!(w.managed_token(&parent, &parent_token, "Kid").is_some());
}

#[test]
fn a_manager_gets_no_session_of_a_stronger_managed_user_and_its_tokens_end_with_it() {
    let w = world();
    let (parent, parent_token) = w.manager_of(&["Kid", "Strong"]);
    let perms: Vec<u64> = ["view_user", "change_user"]
        .iter()
        .map(|p| u64::from(roster::Permission::parse(p).unwrap().id()))
        .collect();
    let strong = id_named(&w, "Strong");
    w.i.operator()
        .update_user(
            strong,
            roster::UserPatch {
                access: roster::AccessInput {
                    is_staff: Some(true),
                    user_permissions: Some(perms),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .unwrap();
    let list = w.managed_tokens(&parent, &parent_token);
    let token_of = |first: &str| list.iter().find(|(f, _)| f == first).unwrap().1.clone();
    // The kid holds nothing the parent lacks: a token. The strong one
    // holds permissions the parent lacks: none, on the read path too.
    assert!(token_of("Strong").is_none(), "{list:?}");
    let kid_token = token_of("Kid").expect("a token for the kid");
    // The typed list's records never print a token (Debug, Display: the
    // bindings' toString, str and description).
    let manager = w.i.session(&parent_token).unwrap();
    for entry in manager.managed_users(&parent, true).unwrap() {
        for text in [format!("{entry:?}"), format!("{entry}")] {
            let token = entry.token.as_deref().unwrap_or("no token");
            assert!(!text.contains(token), "{text}");
        }
    }
    let strong_uuid = w.i.operator().get_user(strong).unwrap().uuid;
    let path = format!("/api/user/v3/read/{strong_uuid}?withTokens=true");
    let r = w.send_as(&parent_token, "GET", &path, None);
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r.json()["result"]["response"].get("managedToken").is_none());
    assert!(w.i.session(&kid_token).is_ok());
    // A token given earlier holds only while the kid stays no stronger
    // than its manager: made stronger, the kid's session is refused, on
    // its own and through x-authenticated-for.
    let kid = id_named(&w, "Kid");
    let grant = |permissions: Vec<u64>| {
        let access = roster::AccessInput {
            user_permissions: Some(permissions),
            ..Default::default()
        };
        let patch = roster::UserPatch {
            access,
            ..Default::default()
        };
        w.i.operator().update_user(kid, patch).unwrap();
    };
    grant(vec![u64::from(
        roster::Permission::parse("view_user").unwrap().id(),
    )]);
    assert!(w.i.session(&kid_token).is_err());
    let request = Request::new("GET", &format!("/api/user/v1/read/{parent}"))
        .with_header("x-authenticated-user-token", &parent_token)
        .with_header("x-authenticated-for", &kid_token);
    failure(&roster::rest::handle(&w.i, request), 401, "UOS_0070");
    grant(Vec::new());
    assert!(w.i.session(&kid_token).is_ok());
    // Blocking the manager ends the tokens it was given.
    let blocked = json!({"request": {"userId": parent}});
    w.ok("POST", "/api/user/v1/block", Some(blocked.clone()));
    assert!(w.i.session(&parent_token).is_err());
    assert!(w.i.session(&kid_token).is_err());
    w.ok("POST", "/api/user/v1/unblock", Some(blocked));
    let parent_token = w.i.login("parent@example.com", "Pass@1word").unwrap().token;
    let kid_token = w.managed_token(&parent, &parent_token, "Kid").unwrap();
    assert!(w.i.session(&kid_token).is_ok());
    // So does a new password of the manager's (a reset after a theft).
    let parent_id = id_named(&w, "Parent");
    let reset = roster::UserPatch {
        password: Some("Reset-pass-123".into()),
        ..Default::default()
    };
    w.i.operator().update_user(parent_id, reset).unwrap();
    assert!(w.i.session(&parent_token).is_err());
    assert!(w.i.session(&kid_token).is_err());
    let parent_token =
        w.i.login("parent@example.com", "Reset-pass-123")
            .unwrap()
            .token;
    let kid_token = w.managed_token(&parent, &parent_token, "Kid").unwrap();
    assert!(w.i.session(&kid_token).is_ok());
    // The manager blocked, or deactivated, through the admin API: the same.
    for (blocked, active) in [(true, true), (false, false)] {
        let patch = |is_blocked, is_active| roster::UserPatch {
            is_blocked: Some(is_blocked),
            is_active: Some(is_active),
            ..Default::default()
        };
        let admin = w.i.operator();
        admin
            .update_user(parent_id, patch(blocked, active))
            .unwrap();
        assert!(w.i.session(&kid_token).is_err(), "{blocked} {active}");
        admin.update_user(parent_id, patch(false, true)).unwrap();
        assert!(w.i.session(&kid_token).is_err(), "ended, not paused");
    }
    let parent_token =
        w.i.login("parent@example.com", "Reset-pass-123")
            .unwrap()
            .token;
    let kid_token = w.managed_token(&parent, &parent_token, "Kid").unwrap();
    // A managed user that gets an email stands on its own: the tokens its
    // manager was given end.
    let kid = id_named(&w, "Kid");
    let kid_uuid = w.i.operator().get_user(kid).unwrap().uuid;
    w.ok(
        "PATCH",
        "/api/user/v1/update",
        Some(json!({"request": {"userId": kid_uuid, "email": "grown@example.com"}})),
    );
    assert!(w.i.session(&kid_token).is_err());
    assert_eq!(w.i.check_integrity().unwrap(), Vec::<String>::new());
}

#[test]
fn search_conditions_with_thousands_of_values_match_as_with_the_few_that_match() {
    let w = world();
    let asha = w.user("Asha", "asha@example.com");
    w.user("Bala", "bala@example.com");
    let chen = w.user("Chen", "chen@example.com");
    let count = |filters: Value| -> u64 {
        let body = json!({"request": {"filters": filters}});
        w.ok("POST", "/api/user/v1/search", Some(body))["response"]["count"]
            .as_u64()
            .unwrap()
    };
    // Every value is normalised once per search, not once per candidate;
    // a list may hold MAX_FILTER_VALUES distinct values.
    let junk = |n: usize| -> Vec<Value> { (0..n).map(|i| json!(format!("nobody-{i}"))).collect() };
    let mut names = junk(MAX_FILTER_VALUES - 2);
    names.extend([json!("ASHA"), json!(" bala ")]);
    assert_eq!(count(json!({"firstName": names})), 2);
    // A condition no index answers (status), checked on each candidate.
    let mut statuses = junk(MAX_FILTER_VALUES - 1);
    statuses.push(json!("1"));
    assert_eq!(count(json!({"status": statuses, "firstName": "chen"})), 1);
    // UUIDs among values that are none.
    let mut ids = junk(5000);
    ids.extend([json!(chen.to_uppercase()), json!(asha)]);
    assert_eq!(count(json!({"userId": ids})), 2);
    let mut ids = junk(10);
    ids.push(json!(chen));
    assert_eq!(count(json!({"userId": ids, "status": ["0", "1"]})), 1);
}

#[test]
fn search_lists_and_or_groups_count_distinct_values_and_are_bounded() {
    let w = world();
    let asha = w.user("Asha", "asha@example.com");
    w.user("Bala", "bala@example.com");
    let chen = w.user("Chen", "chen@example.com");
    let search = |filters: Value| {
        w.send(
            "POST",
            "/api/user/v1/search",
            Some(json!({"request": {"filters": filters}})),
        )
    };
    let count = |filters: Value| -> u64 {
        let r = search(filters);
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.json()["result"]["response"]["count"].as_u64().unwrap()
    };
    // Copies of one value are that value, however many (and however
    // spelt: the checks' normalisation decides what is a copy).
    assert_eq!(count(json!({"firstName": "asha"})), 1);
    assert_eq!(count(json!({"firstName": vec!["asha"; 5000]})), 1);
    let spellings: Vec<Value> = (0..5000)
        .map(|i| json!(if i % 2 == 0 { " ASHA " } else { "Asha" }))
        .collect();
    assert_eq!(count(json!({"firstName": spellings})), 1);
    assert_eq!(count(json!({"email": vec!["CHEN@example.com"; 5000]})), 1);
    assert_eq!(
        count(json!({"status": vec!["1"; 5000], "firstName": "bala"})),
        1
    );
    // One distinct value over the bound is refused, whatever the key.
    let junk = |n: usize| -> Vec<Value> { (0..n).map(|i| json!(format!("nobody-{i}"))).collect() };
    for key in ["firstName", "email", "status", "roles.role", "language"] {
        let r = search(json!({key: junk(MAX_FILTER_VALUES + 1)}));
        let message = failure(&r, 400, "UOS_USRSER0017");
        assert!(message.contains("at most 1000"), "{message}");
        assert_eq!(count(json!({key: junk(MAX_FILTER_VALUES)})), 0, "{key}");
    }
    // User ids are point reads: ten times as many.
    let uuids = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| json!(format!("00000000-0000-4000-8000-{i:012}")))
            .collect()
    };
    let mut ids = uuids(MAX_ID_FILTER_VALUES - 2);
    ids.extend([json!(asha), json!(chen.to_uppercase())]);
    assert_eq!(count(json!({"userId": ids})), 2);
    ids.push(json!(chen));
    assert_eq!(count(json!({"id": ids})), 2);
    let mut ids = uuids(MAX_ID_FILTER_VALUES);
    ids.push(json!(asha));
    failure(&search(json!({"userId": ids})), 400, "UOS_USRSER0017");
    // A range's bound is held to MAX_RANGE_BOUND characters: each
    // candidate is compared with it (no index answers a range on a name).
    let at = |n: usize| json!({"firstName": {"<": "z".repeat(n)}, "status": "1"});
    assert!(count(at(MAX_RANGE_BOUND)) >= 2);
    let message = failure(&search(at(MAX_RANGE_BOUND + 1)), 400, "UOS_USRSER0017");
    assert!(message.contains("more than 256 characters"), "{message}");
    // Identical `$or` groups are one group.
    let one = count(json!({"$or": [{"firstName": "asha"}]}));
    assert_eq!(one, 1);
    let same = vec![json!({"firstName": "asha"}); 5000];
    assert_eq!(count(json!({"$or": same})), one);
    // Groups no index answers, identical: every user once.
    let all = count(json!({"status": "1"}));
    assert_eq!(
        count(json!({"$or": vec![json!({"status": "1"}); 5000]})),
        all
    );
    // A value in several groups (looked up once) answers in each.
    let shared = json!({"$or": [
        {"firstName": ["asha", "chen"], "status": "0"},
        {"firstName": ["chen", "asha"], "status": "1"},
        {"firstName": "asha", "email": "nobody@example.com"},
    ]});
    assert_eq!(count(shared), 2);
    // At most MAX_OR_GROUPS distinct groups.
    let groups = |n: usize| -> Vec<Value> {
        let mut g: Vec<Value> = (0..n - 1)
            .map(|i| json!({"firstName": format!("nobody-{i}")}))
            .collect();
        g.push(json!({"firstName": "chen"}));
        g
    };
    assert_eq!(count(json!({"$or": groups(MAX_OR_GROUPS)})), 1);
    let r = search(json!({"$or": groups(MAX_OR_GROUPS + 1)}));
    let message = failure(&r, 400, "UOS_USRSER0017");
    assert!(message.contains("$or"), "{message}");
}

#[test]
fn search_fields_project_as_a_set() {
    let w = world();
    let asha = w.user("Asha", "asha@example.com");
    let content = |fields: Value| -> Value {
        let body = json!({"request": {"filters": {"firstName": "asha"}, "fields": fields}});
        w.ok("POST", "/api/user/v1/search", Some(body))["response"]["content"].clone()
    };
    let one = content(json!(["id"]));
    assert_eq!(one, json!([{"id": asha}]));
    // 90,000 copies of one name (within the body's bound of 100,000
    // values) are that name.
    assert_eq!(content(json!(vec!["id"; 90_000])), one);
    // Unknown names keep nothing; a known one among them still counts.
    let mut many: Vec<Value> = (0..50_000).map(|i| json!(format!("x{i}"))).collect();
    many.push(json!("id"));
    assert_eq!(content(json!(many)), one);
}

#[test]
fn search_needles_longer_than_any_stored_text_match_nothing_and_shorter_ones_still_match() {
    let w = world();
    // A name is stored as given: U+FDFA folds to 18 characters, so this
    // name's fold has 2,700.
    let long_name = "\u{FDFA}".repeat(150);
    let long = w.user(&long_name, "long@example.com");
    let asha = w.user("Asha", "asha@example.com");
    let search = |request: Value| -> Value {
        w.ok(
            "POST",
            "/api/user/v1/search",
            Some(json!({"request": request})),
        )["response"]
            .clone()
    };
    let ids = |r: &Value| -> Vec<String> {
        r["content"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_str().unwrap().to_string())
            .collect()
    };
    let huge = "\u{FDFA}".repeat(100_000);
    for request in [
        json!({"filters": {}, "query": huge}),
        json!({"filters": {"firstName": {"startsWith": huge}}}),
        json!({"filters": {"lastName": {"endsWith": huge}}}),
        json!({"filters": {"firstName": huge}}),
        json!({"filters": {"email": [huge, "asha@example.com"]}}),
        json!({"filters": {}, "query": "a".repeat(100_000)}),
    ] {
        let r = search(request.clone());
        let want = u64::from(request["filters"]["email"].is_array());
        assert_eq!(r["count"], json!(want), "{request}");
    }
    // The stored name's whole fold, as raw text (2,700 characters, more
    // than 16 per stored character), still finds it: as a query, an exact
    // value, a prefix.
    let expanded: String = long_name.chars().flat_map(expand).collect();
    assert_eq!(expanded.chars().count(), 2700);
    for request in [
        json!({"filters": {}, "query": expanded}),
        json!({"filters": {"firstName": expanded}}),
        json!({"filters": {"firstName": [expanded, "nobody"]}}),
        json!({"filters": {"firstName": {"startsWith": expanded}}}),
        json!({"filters": {"firstName": {"endsWith": expanded}}}),
        json!({"filters": {}, "query": long_name}),
    ] {
        let r = search(request.clone());
        assert_eq!(ids(&r), vec![long.clone()], "{request}");
    }
    // One character more than the fold holds finds no one.
    let more = format!("{expanded}x");
    assert_eq!(
        search(json!({"filters": {}, "query": more}))["count"],
        json!(0)
    );
    // An ordinary long name still matches in full.
    let name = "Alexandrina-Victoria Saxe-Coburg and Gotha of the United Kingdom";
    let victoria = w.user(name, "victoria@example.com");
    let r = search(json!({"filters": {}, "query": name.to_uppercase()}));
    assert_eq!(ids(&r), vec![victoria.clone()]);
    let r = search(json!({"filters": {"firstName": {"startsWith": name}}}));
    assert_eq!(ids(&r), vec![victoria]);
    assert_eq!(
        ids(&search(json!({"filters": {}, "query": "ASHA"}))),
        vec![asha]
    );
    // A phone filter is looked up as it is checked: fullwidth digits are
    // no phone number, so they match no one (not an index mismatch).
    let phoned = w.created(
        "/api/user/v1/create",
        json!({"request": {"firstName": "Pia", "phone": "9876543210"}}),
    );
    let r = search(json!({"filters": {"phone": ["+91 98765-43210", "nobody"]}}));
    assert_eq!(ids(&r), vec![phoned]);
    let r = search(json!({"filters": {"phone": "\u{FF19}876543210"}}));
    assert_eq!(r["count"], json!(0));
}

/// U+FDFA's NFKC form (18 characters); other characters as they are.
fn expand(c: char) -> Vec<char> {
    match c {
        '\u{FDFA}' => "\u{0635}\u{0644}\u{0649} \u{0627}\u{0644}\u{0644}\u{0647} \u{0639}\u{0644}\u{064A}\u{0647} \u{0648}\u{0633}\u{0644}\u{0645}"
            .chars()
            .collect(),
        c => vec![c],
    }
}

#[test]
fn search_orders_by_a_key_as_before() {
    let w = world();
    for (first, email) in [
        ("chen", "c@example.com"),
        ("Asha", "a@example.com"),
        ("bala", "b@example.com"),
        ("Asha", "a2@example.com"),
    ] {
        w.user(first, email);
    }
    let names = |order: &str, limit: u64| -> Vec<(String, String)> {
        let body =
            json!({"request": {"filters": {}, "sort_by": {"firstName": order}, "limit": limit}});
        w.ok("POST", "/api/user/v1/search", Some(body))["response"]["content"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                (
                    u["firstName"].as_str().unwrap_or_default().to_string(),
                    u["id"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let asc = names("asc", 100);
    let firsts: Vec<&str> = asc.iter().map(|(f, _)| f.as_str()).collect();
    // The superuser has no first name: none sorts first.
    assert_eq!(firsts, ["", "Asha", "Asha", "bala", "chen"]);
    let mut desc = names("desc", 100);
    desc.reverse();
    assert_eq!(desc, asc);
    assert_eq!(names("asc", 1), asc[..1].to_vec());
    assert_eq!(names("desc", 1), asc[4..].to_vec());
}

/// A sort over numbers and text is a total order: numbers first, by
/// value, then text (`1x`, `nan`, `inf`, which parse as floats, among
/// it). Compared as numbers or as text pair by pair, `2 < 10 < 1x < 2`
/// went round and `nan` was equal to every number: pages disagreed, and
/// past 20 users the standard library's sort may panic on such an order.
#[test]
fn a_sort_over_numbers_and_text_is_one_order() {
    let w = world();
    for n in 0..30u32 {
        let first = match n % 4 {
            0 | 1 => n.to_string(),
            2 => format!("{n}x"),
            _ => ["NaN", "inf", "-0"][(n as usize / 4) % 3].to_string(),
        };
        w.user(&first, &format!("u{n}@example.com"));
    }
    let names = |order: &str| -> Vec<(String, String)> {
        let body =
            json!({"request": {"filters": {}, "sort_by": {"firstName": order}, "limit": 100}});
        w.ok("POST", "/api/user/v1/search", Some(body))["response"]["content"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                let first = u["firstName"].as_str().unwrap_or_default().to_lowercase();
                (first, u["id"].as_str().unwrap().to_string())
            })
            .collect()
    };
    let asc = names("asc");
    let mut desc = names("desc");
    desc.reverse();
    assert_eq!(desc, asc, "one order, either way");
    let number = |v: &str| v.parse::<f64>().ok().filter(|x| x.is_finite());
    // The superuser has no first name: it sorts first.
    let values: Vec<&str> = asc[1..].iter().map(|(f, _)| f.as_str()).collect();
    let numbers = values.iter().take_while(|v| number(v).is_some()).count();
    assert!(
        values[numbers..].iter().all(|v| number(v).is_none()),
        "numbers, then text: {values:?}"
    );
    let by_value: Vec<f64> = values[..numbers].iter().filter_map(|v| number(v)).collect();
    assert!(by_value.is_sorted_by(|a, b| a <= b), "{values:?}");
    assert!(values[numbers..].is_sorted(), "{values:?}");
}

/// A filter value ending in NUL (the terms index's separator) matches no
/// one, on a sound store: it read the ids of the value it begins with as
/// malformed keys, and answered "the store is damaged".
#[test]
fn a_filter_value_ending_in_nul_matches_no_one() {
    let w = world();
    let id = w.user("Asha", "asha@example.com");
    let read = w.ok("GET", &format!("/api/user/v1/read/{id}"), None);
    let root = match &read["response"]["rootOrgId"] {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    for (key, value) in [("roles.role", "PUBLIC"), ("rootOrgId", root.as_str())] {
        let body = json!({"request": {"filters": {key: value}}});
        let found = w.ok("POST", "/api/user/v1/search", Some(body));
        assert!(found["response"]["count"].as_u64() > Some(0), "{key}");
    }
    for filters in [
        json!({"roles.role": "PUBLIC\u{0}"}),
        json!({"roles.role": "PUBLIC\u{0}\u{0}"}),
        json!({"rootOrgId": format!("{root}\u{0}")}),
        json!({"$or": {"roles.role": ["PUBLIC\u{0}"]}}),
    ] {
        let body = json!({"request": {"filters": filters}});
        let found = w.ok("POST", "/api/user/v1/search", Some(body));
        assert_eq!(found["response"]["count"], 0, "{filters}");
    }
}

#[test]
fn a_users_sunbird_lists_hold_at_most_a_hundred_entries() {
    let w = world();
    let id = w.user("Asha", "asha@example.com");
    let before = w.ok("GET", &format!("/api/user/v3/read/{id}"), None);
    let many = |n: usize| -> Vec<Value> { (0..n).map(|i| json!(format!("v{i}"))).collect() };
    // Duplicates count once: 150 entries naming 100 languages are taken.
    let mut languages = many(100);
    languages.extend(many(50));
    w.ok(
        "PATCH",
        "/api/user/v1/update",
        Some(json!({"request": {"userId": id, "language": languages}})),
    );
    let read = w.ok("GET", &format!("/api/user/v3/read/{id}"), None);
    assert_eq!(read["response"]["language"].as_array().unwrap().len(), 100);
    w.ok(
        "PATCH",
        "/api/user/v1/update",
        Some(json!({"request": {"userId": id, "language": []}})),
    );
    // 101 distinct, or a hostile hundred thousand, are refused at once.
    let ids = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| json!({"id": format!("e{i}"), "idType": format!("t{i}"), "provider": "p"}))
            .collect()
    };
    let locations = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| json!({"code": format!("{i}"), "type": "district"}))
            .collect()
    };
    for (key, value) in [
        ("language", json!(many(101))),
        ("grade", json!(many(100_000))),
        ("subject", json!(many(101))),
        ("externalIds", json!(ids(101))),
        (
            "profileUserTypes",
            json!(vec![json!({"type": "teacher"}); 101]),
        ),
        ("profileLocation", json!(locations(101))),
    ] {
        let r = w.send(
            "PATCH",
            "/api/user/v3/update",
            Some(json!({"request": {"userId": id, key: value}})),
        );
        assert_eq!(r.status, 400, "{key}: {:?}", r.body);
    }
    // A hundred of each is taken.
    let types: Vec<Value> = (0..100)
        .map(|i| json!({"type": format!("t{i}"), "subType": ""}))
        .collect();
    for (key, value, shown) in [
        ("externalIds", json!(ids(100)), "externalIds"),
        ("profileUserTypes", json!(types), "profileUserTypes"),
        ("profileLocation", json!(locations(100)), "userLocations"),
    ] {
        w.ok(
            "PATCH",
            "/api/user/v3/update",
            Some(json!({"request": {"userId": id, key: value}})),
        );
        let read = w.ok("GET", &format!("/api/user/v4/read/{id}"), None);
        let n = read["response"][shown].as_array().map(Vec::len);
        assert_eq!(n, Some(100), "{key}: {read}");
    }
    // 150 external ids of one (provider, idType) are one: taken.
    let same: Vec<Value> = (0..150)
        .map(|i| json!({"id": format!("e{i}"), "idType": "roll", "provider": "p"}))
        .collect();
    w.ok(
        "PATCH",
        "/api/user/v3/update",
        Some(json!({"request": {"userId": id, "externalIds": same}})),
    );
    let read = w.ok("GET", &format!("/api/user/v4/read/{id}"), None);
    assert_eq!(
        read["response"]["externalIds"],
        json!([{"id": "e149", "idType": "roll", "provider": "p"}])
    );
    w.ok(
        "PATCH",
        "/api/user/v3/update",
        Some(json!({"request": {"userId": id, "externalIds": []}})),
    );
    let after = w.ok("GET", &format!("/api/user/v3/read/{id}"), None);
    assert_eq!(
        after["response"]["language"],
        before["response"]["language"]
    );
    assert_eq!(
        after["response"]["externalIds"],
        before["response"]["externalIds"]
    );
    assert_eq!(w.i.check_integrity().unwrap(), Vec::<String>::new());
}

#[test]
fn a_managed_user_given_an_email_on_any_surface_stands_on_its_own() {
    let w = world();
    let (parent, parent_token) = w.manager_of(&["Kid", "Tot"]);
    let token_of = |first: &str| w.managed_token(&parent, &parent_token, first).unwrap();
    let testpress = |token: &str, method: &str, path: &str, body: Value| {
        let request = Request::new(method, path)
            .with_header("Content-Type", "application/json")
            .with_header("Authorization", &format!("JWT {token}"))
            .with_body(body.to_string());
        roster::rest::handle(&w.i, request)
    };
    // The kid edits its own profile (Testpress /me/) with its manager's
    // token; an administrator gives the other one a phone (Testpress admin).
    let kid_token = token_of("Kid");
    let r = testpress(
        &kid_token,
        "PUT",
        "/api/v2.5/me/",
        json!({"email": "kid@example.com"}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let tot_token = token_of("Tot");
    let tot = id_named(&w, "Tot");
    let path = format!("/api/v2.5/admin/users/{tot}/");
    let r = testpress(&w.token, "PATCH", &path, json!({"phone": "9876500002"}));
    assert_eq!(r.status, 200, "{:?}", r.body);
    // Both stand on their own: no longer in the list, their tokens ended.
    let managed = w.ok("GET", &format!("/api/user/v1/managed/{parent}"), None);
    assert_eq!(managed["response"]["count"], 0);
    assert!(w.i.session(&kid_token).is_err());
    assert!(w.i.session(&tot_token).is_err());
    assert_eq!(w.i.check_integrity().unwrap(), Vec::<String>::new());
}

#[test]
fn path_ids_versions_and_blank_tokens_are_read_as_written() {
    let w = world();
    w.user("Tom", "tom&jerry@example.com");
    // A raw `&` (or `+`) in a path segment is part of the id, as `%26` is.
    for path in [
        "/api/user/v2/exists/email/tom&jerry@example.com",
        "/api/user/v2/exists/email/tom%26jerry@example.com",
    ] {
        assert_eq!(w.ok("GET", path, None)["exists"], true, "{path}");
    }
    w.ok("GET", "/api/user/v1/get/email/tom&jerry@example.com", None);
    // What follows an `&` names nothing else: this asks for `nobody&x=root`.
    let r = w.ok("GET", "/api/user/v2/exists/userName/nobody&x=root", None);
    assert_eq!(r["exists"], false, "{r}");
    // Versions as written: v01 and v+1 are not v1.
    for v in ["v01", "v+1", "v1.0"] {
        let r = w.send(
            "GET",
            &format!("/api/user/{v}/exists/email/x@example.com"),
            None,
        );
        assert_eq!(r.status, 404, "{v}: {:?}", r.body);
    }
    // A blank x-authenticated-user-token is absent: Authorization is read.
    let request = Request::new("POST", "/api/user/v1/search")
        .with_header("Content-Type", "application/json")
        .with_header("x-authenticated-user-token", "  ")
        .with_header("Authorization", &format!("Bearer {}", w.token))
        .with_body(json!({"request": {"filters": {}}}).to_string());
    let r = roster::rest::handle(&w.i, request);
    assert_eq!(r.status, 200, "{:?}", r.body);
    // Every path parameter is percent-decoded, the id type and the user
    // ids of read and the managed list included.
    let tom = w.user("Tom", "tom2@example.com");
    let escaped: String = tom.chars().map(|c| format!("%{:02X}", c as u32)).collect();
    let read = w.ok("GET", &format!("/api/user/v1/read/{escaped}"), None);
    assert_eq!(read["response"]["id"], tom.as_str(), "{read}");
    let managed = w.ok("GET", &format!("/api/user/v1/managed/{escaped}"), None);
    assert_eq!(managed["response"]["count"], 0, "{managed}");
    let r = w.ok("GET", "/api/user/v2/exists/%65mail/tom2@example.com", None);
    assert_eq!(r["exists"], true, "{r}");
}

/// From a review of the Sunbird writes: what a merge, a migration and an
/// update may not be made to do.
mod review {
    use super::*;

    /// A merged-away account keeps nothing to sign in or act with: an
    /// administrator making it active again does not bring its password,
    /// staff flag or permissions back.
    #[test]
    fn a_merged_away_account_cannot_sign_in_again() {
        let w = world();
        let from = w.user("From", "from@example.com");
        let to = w.user("To", "to@example.com");
        let admin = w.i.operator();
        let from_id = admin.find_user("from@example.com").unwrap();
        let view_user = super::super::auth::perm(
            roster::auth::permissions::Action::View,
            roster::auth::permissions::Model::User,
        );
        let group = admin
            .create_group(roster::GroupInput {
                name: Some("Clerks".into()),
                permissions: Some(vec![view_user]),
            })
            .unwrap();
        admin
            .update_user(
                from_id,
                roster::UserPatch {
                    access: roster::AccessInput {
                        is_staff: Some(true),
                        is_superuser: Some(true),
                        groups: Some(vec![group.id]),
                        user_permissions: Some(vec![view_user]),
                    },
                    ..Default::default()
                },
            )
            .unwrap();
        let body = json!({"request": {"fromAccountId": from, "toAccountId": to}});
        w.ok("PATCH", "/api/user/v1/account/merge", Some(body));
        let merged = admin.get_user(from_id).unwrap();
        assert_eq!(merged.username, format!("merged-{from}"));
        admin
            .update_user(
                from_id,
                roster::UserPatch {
                    is_active: Some(true),
                    ..Default::default()
                },
            )
            .unwrap();
        let e = w.i.login(&merged.username, "Pass@1word").unwrap_err();
        assert_eq!(e.code(), roster::ErrorCode::Unauthenticated, "{e:?}");
        let after = admin.get_user(from_id).unwrap();
        assert_eq!(
            (
                after.is_staff,
                after.is_superuser,
                after.groups.len(),
                after.user_permissions.len()
            ),
            (false, false, 0, 0),
            "nothing to act with"
        );
        assert_eq!(w.i.check_integrity().unwrap(), Vec::<String>::new());
    }

    /// A user named `merged-<another's userId>` does not keep that user
    /// from being merged away: the merged account takes a name with a
    /// random suffix instead, and the store stays sound.
    #[test]
    fn a_taken_merged_name_does_not_stop_a_merge() {
        let w = world();
        let from = w.user("From", "from@example.com");
        let to = w.user("To", "to@example.com");
        let squatter = format!("merged-{from}");
        w.created(
            "/api/user/v1/create",
            json!({"request": {"firstName": "Squat", "userName": squatter, "phone": "9876500002"}}),
        );
        let body = json!({"request": {"fromAccountId": from, "toAccountId": to}});
        w.ok("PATCH", "/api/user/v1/account/merge", Some(body));
        let admin = w.i.operator();
        let from_id = admin.get_user(admin.find_user(&squatter).unwrap()).unwrap();
        assert_eq!(from_id.first_name, "Squat", "the squatter keeps its name");
        let merged = admin
            .list_users(&roster::UserQuery {
                q: Some(format!("merged-{from}-")),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(merged.count, 1, "{merged:?}");
        assert_eq!(w.i.check_integrity().unwrap(), Vec::<String>::new());
    }

    /// A user without `change_user` may not set or drop its own external
    /// ids (an administrator's, as in a create): it could take another's
    /// unique id and keep that user's SSO create out.
    #[test]
    fn external_ids_are_an_administrators_to_change() {
        let w = world();
        w.org("Tenant A", "tenanta", true);
        let user = w.user("Plain", "plain@example.com");
        let token = w.i.login("plain@example.com", "Pass@1word").unwrap().token;
        let ids = json!([{"id": "emp-1001", "provider": "tenanta", "idType": "tenanta"}]);
        let body = json!({"request": {"userId": user, "externalIds": ids}});
        let r = w.send_as(&token, "PATCH", "/api/user/v1/update", Some(body.clone()));
        let m = failure(&r, 400, "UOS_USRUPD0021");
        assert_eq!(m, "Invalid parameter externalIds in request.");
        let body_empty = json!({"request": {"userId": user, "externalIds": []}});
        let r = w.send_as(&token, "PATCH", "/api/user/v1/update", Some(body_empty));
        failure(&r, 400, "UOS_USRUPD0021");
        // Its other fields are its own; an administrator sets the ids.
        let own = json!({"request": {"userId": user, "lastName": "Person"}});
        let r = w.send_as(&token, "PATCH", "/api/user/v1/update", Some(own));
        assert_eq!(r.status, 200, "{:?}", r.body);
        w.ok("PATCH", "/api/user/v1/update", Some(body));
        let view =
            w.i.operator()
                .sunbird_read(&user, Default::default())
                .unwrap();
        let held: Vec<&str> = view
            .side
            .external_ids
            .iter()
            .map(|e| e.id.as_str())
            .collect();
        assert_eq!(held, ["emp-1001"]);
    }

    /// A user name that reads as a phone number is malformed, not taken.
    #[test]
    fn a_phone_shaped_user_name_is_invalid_not_taken() {
        let w = world();
        let m = w.fails(
            "POST",
            "/api/user/v1/create",
            Some(json!({"request": {"firstName": "A", "userName": "+91 98765 43210", "phone": "9876543219"}})),
            400,
            "UOS_USRCRT0017",
        );
        assert!(m.contains("a phone number is written as 9876543210"), "{m}");
    }

    /// A shadow account that manages a user merged away from it is not
    /// deleted by a claim: the merged-away user would name a manager that
    /// no longer exists, and the store would fail its check.
    #[test]
    fn a_claim_keeps_a_shadow_that_a_merged_away_user_names() {
        let w = world();
        w.org("State", "state1", true);
        let shadow = w.created(
            "/api/user/v1/sso/create",
            json!({"request": {"firstName": "Shadow", "phone": "9876500001", "channel": "state1",
                "externalIds": [{"id": "H-9", "provider": "state1", "idType": "state1"}]}}),
        );
        let kid = w.created(
            "/api/user/v4/create",
            json!({"request": {"firstName": "Kid", "managedBy": shadow}}),
        );
        let other = w.user("Other", "other@example.com");
        let body = json!({"request": {"fromAccountId": kid, "toAccountId": other}});
        w.ok("PATCH", "/api/user/v1/account/merge", Some(body));
        let claimant = w.user("Claimant", "claimant@example.com");
        let token =
            w.i.login("claimant@example.com", "Pass@1word")
                .unwrap()
                .token;
        let claim = json!({"request": {"userId": claimant, "channel": "state1", "action": "accept",
            "userExtId": "H-9"}});
        let r = w.send_as(&token, "POST", "/api/user/v1/migrate", Some(claim));
        assert_eq!(failure(&r, 400, "UOS_USRMIG0060"), "User migration failed.");
        assert_eq!(w.i.check_integrity().unwrap(), Vec::<String>::new());
    }
}
