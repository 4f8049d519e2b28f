//! SPEC A5 through the REST facade (SPEC 7): every class of bad input gets a
//! clear error in Django REST Framework's shape, nothing panics, and the
//! store is left exactly as it was (compared with `snapshot()`, which also
//! runs the integrity check).

use roster::Institute;
use roster::rest::{Request, Response};
use roster_tests::{SEED_NOW, expect, institute, snapshot};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// Bad input is refused the same way whoever sends it: these requests run
/// as the operator, so that authentication is not what refuses them.
fn handle(institute: &roster::Institute, request: Request) -> Response {
    roster::rest::handle_as(&institute.operator(), request)
}

const API: &str = "/api/v2.5/admin";
const USERS: &str = "/api/v2.5/admin/users/";
const PASSWORD: &str = "s3cret-pass";

/// A populated institute: batches Alpha and Beta, course Physics, custom
/// fields "Graduation Year" (number) and "University" (text), and one user
/// in Alpha until 2023-02-01 with a direct grant of Physics and a year.
struct Fixture {
    inst: Institute,
    user: u64,
    alpha: u64,
    beta: u64,
    course: u64,
    hidden: u64,
    field: u64,
    before: Value,
}

impl Fixture {
    fn new() -> Fixture {
        let (inst, _clock) = institute(SEED_NOW);
        let post = |path: &str, body: Value| {
            expect(&inst, "POST", &format!("{API}{path}"), Some(body), 201)
        };
        let alpha = post("/batches/", json!({"name": "Alpha"}))["id"]
            .as_u64()
            .unwrap();
        let beta = post("/batches/", json!({"name": "Beta"}))["id"]
            .as_u64()
            .unwrap();
        let course = post("/courses/", json!({"title": "Physics"}))["id"]
            .as_u64()
            .unwrap();
        let field = post(
            "/custom-fields/",
            json!({"name": "Graduation Year", "type": "number"}),
        )["id"]
            .as_u64()
            .unwrap();
        post(
            "/custom-fields/",
            json!({"name": "University", "type": "text"}),
        );
        let user = post(
            "/users/",
            json!({
                "username": "goodboy",
                "password": PASSWORD,
                "email": "good@boy.in",
                "first_name": "Good",
                "city": "Chennai",
                "batches": ["Alpha"],
                "expires": "2023-02-01",
                "custom_fields": {"Graduation Year": 2020, "University": "Anna University"},
            }),
        )["id"]
            .as_u64()
            .unwrap();
        post(
            &format!("/users/{user}/courses/"),
            json!({"courses": [course]}),
        );
        let subs = inst
            .operator()
            .user_subscriptions(user, roster::PageRequest::default())
            .unwrap();
        let hidden = subs
            .items
            .iter()
            .find(|s| s.batch.is_local)
            .expect("hidden batch")
            .batch
            .id;
        let before = snapshot(&inst);
        assert_eq!(before["integrity"], json!([]), "the fixture is sound");
        Fixture {
            inst,
            user,
            alpha,
            beta,
            course,
            hidden,
            field,
            before,
        }
    }

    fn user_path(&self, tail: &str) -> String {
        format!("{USERS}{}/{tail}", self.user)
    }

    /// Sends `request`; asserts the status, a JSON error body and an
    /// unchanged store; returns the body.
    #[track_caller]
    fn refused(&self, request: Request, status: u16) -> Value {
        self.refused_response(request, status).json()
    }

    /// [`refused`](Fixture::refused), returning the whole response.
    #[track_caller]
    fn refused_response(&self, request: Request, status: u16) -> Response {
        let what = format!(
            "{} {}?{}",
            request.method,
            shorten(&request.path),
            shorten(&request.query)
        );
        let body = request
            .body
            .as_deref()
            .map(|b| shorten(&String::from_utf8_lossy(b)));
        let response = handle(&self.inst, request);
        assert_eq!(
            response.status,
            status,
            "{what} {body:?} answered {}: {:?}",
            response.status,
            response.body.as_deref().map(shorten)
        );
        assert_eq!(
            response.header("content-type"),
            Some("application/json"),
            "{what}: error bodies are JSON"
        );
        let json = response.json();
        assert!(
            json.is_object(),
            "{what}: the error body is a JSON object: {:?}",
            response.body
        );
        self.assert_unchanged(&what);
        response
    }

    /// [`refused`](Fixture::refused) with raw body bytes sent as JSON.
    #[track_caller]
    fn refused_bytes(&self, method: &str, path: &str, body: &[u8], status: u16) -> Value {
        self.refused(json_request(method, path, body), status)
    }

    /// [`refused`](Fixture::refused) with a JSON body.
    #[track_caller]
    fn refused_json(&self, method: &str, path: &str, body: &Value, status: u16) -> Value {
        self.refused_bytes(method, path, body.to_string().as_bytes(), status)
    }

    #[track_caller]
    fn assert_unchanged(&self, what: &str) {
        let after = snapshot(&self.inst);
        if after != self.before {
            panic!(
                "{what} changed the store:\nbefore: {}\nafter:  {}",
                self.before, after
            );
        }
    }

    /// Every route that reads a JSON body, with a method it accepts.
    fn body_routes(&self) -> Vec<(&'static str, String)> {
        let (u, b, c, f) = (self.user, self.alpha, self.course, self.field);
        vec![
            ("POST", USERS.to_string()),
            ("POST", "/api/v2.2/admin/users".to_string()),
            ("PUT", format!("{USERS}{u}/")),
            ("PATCH", format!("{USERS}{u}/")),
            ("POST", format!("{USERS}{u}/batches/")),
            ("DELETE", format!("{USERS}{u}/batches/")),
            ("POST", format!("{USERS}{u}/courses/")),
            ("DELETE", format!("{USERS}{u}/courses/")),
            ("POST", format!("{USERS}{u}/subscriptions/")),
            ("POST", format!("{API}/batches/")),
            ("PUT", format!("{API}/batches/{b}/")),
            ("POST", format!("{API}/courses/")),
            ("POST", format!("{API}/courses/create/")),
            ("PATCH", format!("{API}/courses/{c}/")),
            ("POST", format!("{API}/courses/{c}/batches/")),
            ("DELETE", format!("{API}/courses/{c}/batches/")),
            ("POST", format!("{API}/custom-fields/")),
            ("PUT", format!("{API}/custom-fields/{f}/")),
        ]
    }
}

/// A request with a JSON content type and `body`.
fn json_request(method: &str, path: &str, body: &[u8]) -> Request {
    Request::new(method, path)
        .with_header("Content-Type", "application/json")
        .with_body(body.to_vec())
}

/// `s` cut to a readable length for assertion messages.
fn shorten(s: &str) -> String {
    match s.char_indices().nth(120) {
        Some((i, _)) => format!("{}... ({} bytes)", &s[..i], s.len()),
        None => s.to_string(),
    }
}

/// Asserts `{"detail": "<prefix>..."}` and nothing else.
#[track_caller]
fn assert_detail(body: &Value, prefix: &str) {
    let object = body.as_object().expect("an object");
    assert_eq!(object.len(), 1, "only `detail`: {body}");
    let detail = object["detail"].as_str().expect("`detail` is text");
    assert!(
        detail.starts_with(prefix),
        "detail {detail:?} should start with {prefix:?}"
    );
}

/// Asserts DRF's field error shape (every value a list of messages, or for
/// `custom_fields` a map of lists) and returns the field names.
#[track_caller]
fn field_errors(body: &Value) -> BTreeSet<String> {
    let object = body.as_object().expect("an object");
    assert!(!object.is_empty(), "at least one field error");
    for (field, messages) in object {
        let lists: Vec<&Value> = match messages {
            Value::Object(nested) if field == "custom_fields" => nested.values().collect(),
            other => vec![other],
        };
        for list in lists {
            let list = list
                .as_array()
                .unwrap_or_else(|| panic!("{field}: a list of messages: {body}"));
            assert!(!list.is_empty(), "{field}: at least one message");
            for m in list {
                assert!(
                    m.as_str().is_some_and(|m| !m.is_empty()),
                    "{field}: messages are text: {body}"
                );
            }
        }
    }
    object.keys().cloned().collect()
}

fn keys(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// A valid create body with `field` set to `value`.
fn create_with(field: &str, value: Value) -> Value {
    let mut body = json!({"username": "newbie", "password": PASSWORD});
    body.as_object_mut()
        .unwrap()
        .insert(field.to_string(), value);
    body
}

#[test]
fn malformed_json_is_a_parse_error() {
    let f = Fixture::new();
    let bodies: &[&[u8]] = &[
        b"{\"username\":",
        b"{'a':1}",
        b"{\"username\": \"\xff\xfe\"}",
        b"\xc3\x28{}",
        b"{\"username\": \"x\"} garbage",
        b"{\"a\":1}{\"b\":2}",
        b"{\"a\":1,}",
        b"{a: 1}",
        b"{\"username\": \"\\ud800\"}",
        b"{\"username\": \"x\x01y\"}",
        b"\xef\xbb\xbf{}",
        b"NaN",
        b"{\"a\": 01}",
        b"{\"a\": 1e400}",
        b"}",
        b"\"unterminated",
    ];
    for (method, path) in f.body_routes() {
        for body in bodies {
            let answer = f.refused_bytes(method, &path, body, 400);
            assert_detail(&answer, "JSON parse error - ");
        }
    }
}

#[test]
fn json_that_is_not_an_object_is_refused() {
    let f = Fixture::new();
    let cases = [
        ("[]", "list"),
        ("[{\"username\": \"x\"}]", "list"),
        ("\"x\"", "str"),
        ("  \"x\"  ", "str"),
        ("42", "int"),
        ("-7", "int"),
        ("1.5", "float"),
        ("null", "NoneType"),
        ("true", "bool"),
    ];
    for (method, path) in f.body_routes() {
        for (body, kind) in cases {
            let answer = f.refused_bytes(method, &path, body.as_bytes(), 400);
            assert_eq!(
                answer,
                json!({"non_field_errors": [format!("Invalid data. Expected a dictionary, but got {kind}.")]}),
                "{method} {path} {body}"
            );
        }
    }
}

#[test]
fn wrong_types_name_the_field() {
    let f = Fixture::new();
    let list_of = |t: &str| format!("Expected a list of items but got type \"{t}\".");
    let cases: Vec<(&str, Value, String)> = vec![
        ("username", json!(5), "Not a valid string.".into()),
        ("username", json!(["goodboy"]), "Not a valid string.".into()),
        ("username", json!({"a": 1}), "Not a valid string.".into()),
        ("password", json!(123456789), "Not a valid string.".into()),
        ("first_name", json!([]), "Not a valid string.".into()),
        ("last_name", json!(false), "Not a valid string.".into()),
        ("email", json!(true), "Not a valid string.".into()),
        ("city", json!(1.5), "Not a valid string.".into()),
        (
            "is_active",
            json!("maybe"),
            "Must be a valid boolean.".into(),
        ),
        ("is_active", json!(2), "Must be a valid boolean.".into()),
        ("is_active", json!(-1), "Must be a valid boolean.".into()),
        (
            "is_active",
            json!([true]),
            "Must be a valid boolean.".into(),
        ),
        (
            "is_blocked",
            json!("sometimes"),
            "Must be a valid boolean.".into(),
        ),
        ("birth_date", json!(20160703), "Not a valid string.".into()),
        ("phone", json!(-9876543210i64), "Not a valid string.".into()),
        ("phone", json!(9876543210.5), "Not a valid string.".into()),
        (
            "phone",
            json!([9876543210u64]),
            "Not a valid string.".into(),
        ),
        (
            "custom_fields",
            json!([]),
            "Expected a dictionary of items but got type \"list\".".into(),
        ),
        (
            "custom_fields",
            json!("x"),
            "Expected a dictionary of items but got type \"str\".".into(),
        ),
        ("batches", json!("x"), list_of("str")),
        ("batches", json!({"Alpha": true}), list_of("dict")),
        ("batches", json!([1]), "Not a valid string.".into()),
        ("expires", json!(5), "Not a valid string.".into()),
    ];
    for (field, value, message) in &cases {
        let body = create_with(field, value.clone());
        let answer = f.refused_json("POST", USERS, &body, 400);
        assert_eq!(
            answer,
            json!({ *field: [message] }),
            "create with {field}: {value}"
        );
    }
    // The same type errors on update, where nothing else is wrong.
    for (field, value, message) in cases
        .iter()
        .filter(|(k, _, _)| !matches!(*k, "batches" | "expires"))
    {
        let body = json!({ "first_name": "Changed", *field: value });
        let answer = f.refused_json("PUT", &f.user_path(""), &body, 400);
        assert_eq!(
            answer,
            json!({ *field: [message] }),
            "update with {field}: {value}"
        );
    }
    // A repeated key: the last one counts, as in Python's json.
    let answer = f.refused_bytes(
        "POST",
        USERS,
        br#"{"username": "newbie", "password": "s3cret-pass", "username": 5}"#,
        400,
    );
    assert_eq!(answer, json!({"username": ["Not a valid string."]}));
}

#[test]
fn type_errors_come_with_the_other_fields_rule_errors() {
    let f = Fixture::new();
    let answer = f.refused_json(
        "POST",
        USERS,
        &json!({"username": 5, "password": PASSWORD, "zip": "012345"}),
        400,
    );
    assert_eq!(field_errors(&answer), keys(&["username", "zip"]));
    assert_eq!(answer["username"], json!(["Not a valid string."]));

    let answer = f.refused_json(
        "POST",
        USERS,
        &json!({
            "username": 5,
            "email": "not-an-email",
            "birth_date": "31/02/2016",
            "is_active": "maybe",
            "batches": ["Alpha", "Nope"],
            "custom_fields": {"Graduation Year": "abc", "Nope": 1},
        }),
        400,
    );
    assert_eq!(
        field_errors(&answer),
        keys(&[
            "username",
            "password",
            "email",
            "birth_date",
            "is_active",
            "batches",
            "custom_fields"
        ])
    );
    assert_eq!(answer["username"], json!(["Not a valid string."]));
    assert_eq!(answer["is_active"], json!(["Must be a valid boolean."]));
    assert_eq!(answer["password"], json!(["This field is required."]));
    let custom = answer["custom_fields"]
        .as_object()
        .expect("custom field errors are nested");
    assert_eq!(
        custom.keys().collect::<Vec<_>>(),
        ["Graduation Year", "Nope"]
    );

    // On update too: a type error does not hide the rule errors.
    let answer = f.refused_json(
        "PATCH",
        &f.user_path(""),
        &json!({"is_active": "maybe", "zip": "012345", "first_name": "Changed", "email": "x@"}),
        400,
    );
    assert_eq!(field_errors(&answer), keys(&["is_active", "zip", "email"]));

    // Without type errors, rule errors still come all at once.
    let answer = f.refused_json(
        "POST",
        USERS,
        &json!({"username": "goodboy", "password": "goodboy", "email": "GOOD@BOY.IN", "zip": "1"}),
        400,
    );
    assert_eq!(
        field_errors(&answer),
        keys(&["username", "password", "email", "zip"])
    );
}

#[test]
fn wrong_types_in_relation_and_definition_bodies() {
    let f = Fixture::new();
    let batches = f.user_path("batches/");
    let (alpha, beta) = (f.alpha, f.beta);
    let pk = |t: &str| format!("Incorrect type. Expected pk value, received {t}.");
    let cases: Vec<(String, Value, Value)> = vec![
        (
            batches.clone(),
            json!({"batches": [beta, "2"]}),
            json!({"batches": [pk("str")]}),
        ),
        (
            batches.clone(),
            json!({"batches": [true]}),
            json!({"batches": [pk("bool")]}),
        ),
        (
            batches.clone(),
            json!({"batches": [null]}),
            json!({"batches": [pk("NoneType")]}),
        ),
        (
            batches.clone(),
            json!({"batches": [[beta]]}),
            json!({"batches": [pk("list")]}),
        ),
        (
            batches.clone(),
            json!({"batches": "x"}),
            json!({"batches": ["Expected a list of items but got type \"str\"."]}),
        ),
        (
            batches.clone(),
            json!({"batches": beta}),
            json!({"batches": ["Expected a list of items but got type \"int\"."]}),
        ),
        (
            batches.clone(),
            json!({"batches": null}),
            json!({"batches": ["Expected a list of items but got type \"NoneType\"."]}),
        ),
        (
            batches.clone(),
            json!({}),
            json!({"batches": ["This field is required."]}),
        ),
        (
            f.user_path("courses/"),
            json!({"courses": ["Physics"]}),
            json!({"courses": [pk("str")]}),
        ),
        (
            f.user_path("courses/"),
            json!({"batches": [f.course]}),
            json!({"courses": ["This field is required."]}),
        ),
        (
            f.user_path("subscriptions/"),
            json!({"batches": [beta], "expires": 5}),
            json!({"expires": ["Not a valid string."]}),
        ),
        (
            f.user_path("subscriptions/"),
            json!({"batches": [alpha, "x"], "expires": "2023-02-01"}),
            json!({"batches": [pk("str")]}),
        ),
        (
            format!("{API}/batches/"),
            json!({"name": 5}),
            json!({"name": ["Not a valid string."]}),
        ),
        (
            format!("{API}/courses/"),
            json!({"title": ["Maths"]}),
            json!({"title": ["Not a valid string."]}),
        ),
        (
            format!("{API}/courses/"),
            json!({"title": "Maths", "order": "1"}),
            json!({"order": ["A valid integer is required."]}),
        ),
        (
            format!("{API}/courses/"),
            json!({"title": "Maths", "order": 1.5}),
            json!({"order": ["A valid integer is required."]}),
        ),
        (
            format!("{API}/courses/"),
            json!({"title": "Maths", "is_public": "maybe"}),
            json!({"is_public": ["Must be a valid boolean."]}),
        ),
        (
            format!("{API}/custom-fields/"),
            json!({"name": "Stream", "type": 5}),
            json!({"type": ["Not a valid string."]}),
        ),
        (
            format!("{API}/custom-fields/"),
            json!({"name": "Stream", "type": "choice", "choices": "A"}),
            json!({"choices": ["Expected a list of items but got type \"str\"."]}),
        ),
    ];
    for (path, body, expected) in cases {
        let answer = f.refused_json("POST", &path, &body, 400);
        assert_eq!(answer, expected, "POST {path} {body}");
    }
    // The same bodies on the removing and updating routes.
    let answer = f.refused_json("DELETE", &batches, &json!({"batches": [alpha, "1"]}), 400);
    assert_eq!(answer, json!({"batches": [pk("str")]}));
    let answer = f.refused_json(
        "PUT",
        &format!("{API}/batches/{alpha}/"),
        &json!({"name": []}),
        400,
    );
    assert_eq!(answer, json!({"name": ["Not a valid string."]}));
    // Custom values of the wrong type are rule errors, nested by field name.
    let answer = f.refused_json(
        "PUT",
        &f.user_path(""),
        &json!({"custom_fields": {"graduation year": "2021", "University": 5}}),
        400,
    );
    assert_eq!(
        answer,
        json!({"custom_fields": {
            "Graduation Year": ["A valid number is required."],
            "University": ["Not a valid string."],
        }})
    );
}

#[test]
fn numbers_out_of_every_range() {
    let f = Fixture::new();
    for body in [
        json!({"username": "newbie", "password": PASSWORD, "phone": 0}),
        json!({"username": "newbie", "password": PASSWORD, "phone": 12345}),
        json!({"username": "newbie", "password": PASSWORD, "phone": 18446744073709551615u64}),
        json!({"username": "newbie", "password": PASSWORD, "phone": 1.8446744073709552e19}),
    ] {
        let answer = f.refused_json("POST", USERS, &body, 400);
        assert_eq!(field_errors(&answer), keys(&["phone"]), "{body}");
    }
    let huge =
        br#"{"username": "newbie", "password": "s3cret-pass", "phone": 18446744073709551616}"#;
    let answer = f.refused_bytes("POST", USERS, huge, 400);
    assert_eq!(field_errors(&answer), keys(&["phone"]));
    let inf = br#"{"username": "newbie", "password": "s3cret-pass", "custom_fields": {"Graduation Year": 1e999}}"#;
    f.refused_bytes("POST", USERS, inf, 400);
    for order in [
        "99999999999999999999",
        "-99999999999999999999",
        "9223372036854775808",
        "1e400",
    ] {
        let body = format!(r#"{{"title": "Maths", "order": {order}}}"#);
        let answer = f.refused_bytes("POST", &format!("{API}/courses/"), body.as_bytes(), 400);
        if order != "1e400" {
            assert_eq!(
                answer,
                json!({"order": ["A valid integer is required."]}),
                "order {order}"
            );
        }
    }
}

#[test]
fn huge_strings_are_refused_field_by_field() {
    let f = Fixture::new();
    let big = "a".repeat(200 * 1024);
    let user_fields = [
        "username",
        "password",
        "first_name",
        "last_name",
        "display_name",
        "address1",
        "address2",
        "city",
        "email",
        "phone",
        "photo",
        "zip",
        "state",
        "gender_code",
        "birth_date",
    ];
    for field in user_fields {
        let answer = f.refused_json("POST", USERS, &create_with(field, json!(big)), 400);
        assert_eq!(
            field_errors(&answer),
            keys(&[field]),
            "create with a 200 KB {field}"
        );
        if field != "password" {
            let answer = f.refused_json("PUT", &f.user_path(""), &json!({ field: big }), 400);
            assert_eq!(
                field_errors(&answer),
                keys(&[field]),
                "update with a 200 KB {field}"
            );
        }
    }
    let answer = f.refused_json("PUT", &f.user_path(""), &json!({"password": big}), 400);
    assert_eq!(
        answer,
        json!({"password": ["This password is too long. It must contain at most 1024 characters."]})
    );
    // Over the limits by one.
    for (field, max) in [
        ("username", 150),
        ("first_name", 150),
        ("address1", 255),
        ("city", 255),
    ] {
        let answer = f.refused_json(
            "POST",
            USERS,
            &create_with(field, json!("b".repeat(max + 1))),
            400,
        );
        assert_eq!(
            answer,
            json!({ field: [format!("Ensure this field has no more than {max} characters.")] })
        );
    }
    let answer = f.refused_json(
        "POST",
        USERS,
        &create_with("password", json!("p".repeat(1025))),
        400,
    );
    assert_eq!(field_errors(&answer), keys(&["password"]));
    // Custom values and names, batch names.
    let answer = f.refused_json(
        "POST",
        USERS,
        &create_with("custom_fields", json!({"University": big})),
        400,
    );
    assert_eq!(field_errors(&answer), keys(&["custom_fields"]));
    assert!(
        answer["custom_fields"]["University"].is_array(),
        "{}",
        shorten(&answer.to_string())
    );
    let answer = f.refused_json(
        "POST",
        USERS,
        &create_with("custom_fields", json!({ big.clone(): 1 })),
        400,
    );
    assert_eq!(field_errors(&answer), keys(&["custom_fields"]));
    let answer = f.refused_json("POST", USERS, &create_with("batches", json!([big])), 400);
    assert_eq!(field_errors(&answer), keys(&["batches"]));
    // Definitions.
    let cases = [
        (format!("{API}/batches/"), json!({"name": big}), "name"),
        (
            format!("{API}/batches/{}/", f.alpha),
            json!({"name": big}),
            "name",
        ),
        (format!("{API}/courses/"), json!({"title": big}), "title"),
        (
            format!("{API}/courses/"),
            json!({"title": "Maths", "description": big}),
            "description",
        ),
        (
            format!("{API}/courses/"),
            json!({"title": "Maths", "slug": big}),
            "slug",
        ),
        (
            format!("{API}/courses/"),
            json!({"title": "Maths", "image": big}),
            "image",
        ),
        (
            format!("{API}/custom-fields/"),
            json!({"name": big, "type": "text"}),
            "name",
        ),
        (
            format!("{API}/custom-fields/"),
            json!({"name": "Stream", "type": big}),
            "type",
        ),
        (
            format!("{API}/custom-fields/"),
            json!({"name": "Stream", "type": "choice", "choices": [big]}),
            "choices",
        ),
    ];
    for (path, body, field) in cases {
        let method = if path.ends_with("s/") { "POST" } else { "PUT" };
        let answer = f.refused_json(method, &path, &body, 400);
        assert_eq!(
            field_errors(&answer),
            keys(&[field]),
            "{method} {path} with a 200 KB {field}"
        );
    }
    // Huge query parameters are just text that matches nothing.
    let answer = expect(&f.inst, "GET", &format!("{USERS}?q={big}"), None, 200);
    assert_eq!(answer["count"], 0);
    let answer = expect(&f.inst, "GET", &format!("{USERS}?email={big}"), None, 200);
    assert_eq!(answer["count"], 0);
    let answer = expect(
        &f.inst,
        "GET",
        &format!("{API}/batches/?search={big}"),
        None,
        200,
    );
    assert_eq!(answer["count"], 0);
    f.assert_unchanged("huge query parameters");
}

#[test]
fn bodies_over_the_size_limit_are_413() {
    let f = Fixture::new();
    let two_mb = "a".repeat(2 * 1024 * 1024);
    let body = json!({"username": two_mb, "password": PASSWORD});
    for (method, path) in f.body_routes() {
        let answer = f.refused_json(method, &path, &body, 413);
        assert_detail(&answer, "");
    }
    // Whitespace counts too; just under the limit it is read (and refused
    // for the field).
    let spaces = vec![b' '; 2 * 1024 * 1024];
    f.refused_bytes("POST", USERS, &spaces, 413);
    let near = json!({"username": "a".repeat(1000 * 1000), "password": PASSWORD});
    let answer = f.refused_json("POST", USERS, &near, 400);
    assert_eq!(field_errors(&answer), keys(&["username"]));
}

#[test]
fn control_characters_are_refused() {
    let f = Fixture::new();
    let controls = ['\u{0}', '\u{7}', '\u{1b}', '\u{7f}', '\u{9b}'];
    let fields = [
        "username",
        "first_name",
        "last_name",
        "display_name",
        "address1",
        "address2",
        "city",
        "email",
        "phone",
        "zip",
        "state",
        "photo",
    ];
    for c in controls {
        for field in fields {
            for value in [format!("ab{c}cd"), format!("abcd{c}"), format!("{c}")] {
                let answer = f.refused_json("POST", USERS, &create_with(field, json!(value)), 400);
                assert_eq!(
                    field_errors(&answer),
                    keys(&[field]),
                    "create: {field} = {value:?}"
                );
                let answer =
                    f.refused_json("PATCH", &f.user_path(""), &json!({ field: value }), 400);
                assert_eq!(
                    field_errors(&answer),
                    keys(&[field]),
                    "update: {field} = {value:?}"
                );
            }
        }
        let value = format!("Delhi{c}University");
        let answer = f.refused_json(
            "PUT",
            &f.user_path(""),
            &json!({"custom_fields": {"University": value}}),
            400,
        );
        assert_eq!(
            field_errors(&answer),
            keys(&["custom_fields"]),
            "custom text {value:?}"
        );
        let definitions = [
            (
                format!("{API}/batches/"),
                json!({"name": format!("Gam{c}ma")}),
                "name",
            ),
            (
                format!("{API}/batches/{}/", f.beta),
                json!({"name": format!("Gam{c}ma")}),
                "name",
            ),
            (
                format!("{API}/courses/"),
                json!({"title": format!("Ma{c}ths")}),
                "title",
            ),
            (
                format!("{API}/courses/{}/", f.course),
                json!({"title": format!("Ma{c}ths")}),
                "title",
            ),
            (
                format!("{API}/custom-fields/"),
                json!({"name": format!("Str{c}eam"), "type": "text"}),
                "name",
            ),
            (
                format!("{API}/custom-fields/"),
                json!({"name": "Stream", "type": "choice", "choices": [format!("A{c}")]}),
                "choices",
            ),
        ];
        for (path, body, field) in definitions {
            let method = if path.ends_with("s/") {
                "POST"
            } else {
                "PATCH"
            };
            let answer = f.refused_json(method, &path, &body, 400);
            assert_eq!(
                field_errors(&answer),
                keys(&[field]),
                "{method} {path} {body}"
            );
        }
    }
    let answer = f.refused_json(
        "POST",
        USERS,
        &create_with("password", json!("secret\u{0}pass")),
        400,
    );
    assert_eq!(
        answer,
        json!({"password": ["Null characters are not allowed."]})
    );
    let answer = f.refused_json(
        "PUT",
        &f.user_path(""),
        &json!({"password": "secret\u{0}pass"}),
        400,
    );
    assert_eq!(
        answer,
        json!({"password": ["Null characters are not allowed."]})
    );
}

#[test]
fn bad_ids_in_paths_are_not_found() {
    let f = Fixture::new();
    let ids = [
        "-1",
        "0",
        "abc",
        "999",
        "99999999999999999999999",
        "18446744073709551615",
        "18446744073709551616",
        "1.0",
        "+1",
        "1e3",
        "0x1",
        "1abc",
        "\u{0661}",
        "%00",
    ];
    let (alpha, beta, course) = (f.alpha, f.beta, f.course);
    for x in ids {
        let calls: Vec<(&str, String, Option<Value>)> = vec![
            ("GET", format!("{USERS}{x}/"), None),
            (
                "PUT",
                format!("{USERS}{x}/"),
                Some(json!({"first_name": "X"})),
            ),
            (
                "PATCH",
                format!("{USERS}{x}/"),
                Some(json!({"first_name": "X"})),
            ),
            ("DELETE", format!("{USERS}{x}/"), None),
            ("GET", format!("{USERS}{x}/batches/"), None),
            (
                "POST",
                format!("{USERS}{x}/batches/"),
                Some(json!({"batches": [beta]})),
            ),
            (
                "DELETE",
                format!("{USERS}{x}/batches/"),
                Some(json!({"batches": [alpha]})),
            ),
            ("GET", format!("{USERS}{x}/courses/"), None),
            (
                "POST",
                format!("{USERS}{x}/courses/"),
                Some(json!({"courses": [course]})),
            ),
            (
                "DELETE",
                format!("{USERS}{x}/courses/"),
                Some(json!({"courses": [course]})),
            ),
            ("GET", format!("{USERS}{x}/subscriptions/"), None),
            (
                "POST",
                format!("{USERS}{x}/subscriptions/"),
                Some(json!({"batches": [beta]})),
            ),
            ("GET", format!("{API}/batches/{x}/"), None),
            (
                "PUT",
                format!("{API}/batches/{x}/"),
                Some(json!({"name": "Gamma"})),
            ),
            ("DELETE", format!("{API}/batches/{x}/"), None),
            ("GET", format!("{API}/courses/{x}/"), None),
            (
                "PATCH",
                format!("{API}/courses/{x}/"),
                Some(json!({"title": "Maths"})),
            ),
            ("DELETE", format!("{API}/courses/{x}/"), None),
            ("GET", format!("{API}/courses/{x}/batches/"), None),
            (
                "POST",
                format!("{API}/courses/{x}/batches/"),
                Some(json!({"batches": [beta]})),
            ),
            (
                "DELETE",
                format!("{API}/courses/{x}/batches/"),
                Some(json!({"batches": [beta]})),
            ),
            ("GET", format!("{API}/custom-fields/{x}/"), None),
            (
                "PUT",
                format!("{API}/custom-fields/{x}/"),
                Some(json!({"name": "Stream"})),
            ),
            ("DELETE", format!("{API}/custom-fields/{x}/"), None),
        ];
        for (method, path, body) in calls {
            let body = body.map(|b| b.to_string()).unwrap_or_default();
            let answer = f.refused_bytes(method, &path, body.as_bytes(), 404);
            assert_eq!(answer, json!({"detail": "Not found."}), "{method} {path}");
        }
    }
    // An id that names a course's hidden batch is not an ordinary batch to
    // change, though it can be read.
    let answer = f.refused_json(
        "DELETE",
        &format!("{API}/batches/{}/", f.hidden),
        &json!({}),
        400,
    );
    field_errors(&answer);
    let answer = f.refused_json(
        "PUT",
        &format!("{API}/batches/{}/", f.hidden),
        &json!({"name": "X"}),
        400,
    );
    field_errors(&answer);
}

#[test]
fn bad_ids_in_bodies_are_invalid_pks() {
    let f = Fixture::new();
    let invalid = |id: &str| format!("Invalid pk \"{id}\" - object does not exist.");
    let (alpha, beta, hidden, course) = (f.alpha, f.beta, f.hidden, f.course);
    let routes = [
        ("POST", f.user_path("batches/"), "batches"),
        ("DELETE", f.user_path("batches/"), "batches"),
        ("POST", f.user_path("subscriptions/"), "batches"),
        ("POST", f.user_path("courses/"), "courses"),
        ("DELETE", f.user_path("courses/"), "courses"),
        (
            "POST",
            format!("{API}/courses/{course}/batches/"),
            "batches",
        ),
        (
            "DELETE",
            format!("{API}/courses/{course}/batches/"),
            "batches",
        ),
    ];
    for (method, path, key) in &routes {
        let exact: Vec<(Vec<u8>, Vec<String>)> = vec![
            (
                format!(r#"{{"{key}": [-1]}}"#).into_bytes(),
                vec![invalid("-1")],
            ),
            (
                format!(r#"{{"{key}": [0]}}"#).into_bytes(),
                vec![invalid("0")],
            ),
            (
                format!(r#"{{"{key}": [999]}}"#).into_bytes(),
                vec![invalid("999")],
            ),
            (
                format!(r#"{{"{key}": [18446744073709551615]}}"#).into_bytes(),
                vec![invalid("18446744073709551615")],
            ),
            (
                // The first bad item only, as DRF's `ManyRelatedField`.
                format!(r#"{{"{key}": [-1, -2]}}"#).into_bytes(),
                vec![invalid("-1")],
            ),
        ];
        for (body, messages) in exact {
            let answer = f.refused_bytes(method, path, &body, 400);
            assert_eq!(
                answer,
                json!({ *key: messages }),
                "{method} {path} {}",
                String::from_utf8_lossy(&body)
            );
        }
        for body in [
            format!(r#"{{"{key}": [1e30]}}"#),
            format!(r#"{{"{key}": [18446744073709551616]}}"#),
            format!(r#"{{"{key}": [-99999999999999999999999]}}"#),
            format!(r#"{{"{key}": [1.5]}}"#),
        ] {
            let answer = f.refused_bytes(method, path, body.as_bytes(), 400);
            assert_eq!(
                field_errors(&answer),
                keys(&[key]),
                "{method} {path} {body}"
            );
            let message = answer[*key][0].as_str().unwrap();
            assert!(
                message.starts_with("Invalid pk \"")
                    && message.ends_with("\" - object does not exist."),
                "{method} {path} {body}: {message}"
            );
        }
    }
    // One unknown id among good ones: nothing happens.
    for (method, path) in [
        ("POST", f.user_path("batches/")),
        ("DELETE", f.user_path("batches/")),
        ("POST", f.user_path("subscriptions/")),
        ("POST", format!("{API}/courses/{course}/batches/")),
    ] {
        let answer = f.refused_json(method, &path, &json!({"batches": [beta, alpha, 999]}), 400);
        assert_eq!(
            answer,
            json!({"batches": [invalid("999")]}),
            "{method} {path}"
        );
    }
    let answer = f.refused_json(
        "POST",
        &f.user_path("courses/"),
        &json!({"courses": [course, 999]}),
        400,
    );
    assert_eq!(answer, json!({"courses": [invalid("999")]}));
    // A course's hidden batch is not an ordinary batch to join or link.
    for (method, path) in [
        ("POST", f.user_path("batches/")),
        ("DELETE", f.user_path("batches/")),
        ("POST", format!("{API}/courses/{course}/batches/")),
    ] {
        let answer = f.refused_json(method, &path, &json!({"batches": [hidden]}), 400);
        assert_eq!(
            answer,
            json!({"batches": [invalid(&hidden.to_string())]}),
            "{method} {path}"
        );
    }
    // Fifty thousand bad ids, unknown or impossible, are one message:
    // the answer does not grow with the list sent.
    for many in [
        json!((1..=50_000).map(|i| -i).collect::<Vec<i64>>()),
        json!((1..=50_000).map(|i| 1_000_000 + i).collect::<Vec<i64>>()),
    ] {
        for (method, path, key) in [
            ("POST", f.user_path("batches/"), "batches"),
            ("POST", f.user_path("courses/"), "courses"),
            ("POST", "/api/admin/groups/".to_string(), "permissions"),
            ("POST", "/api/admin/users/".to_string(), "user_permissions"),
            ("POST", "/api/admin/users/".to_string(), "groups"),
        ] {
            let mut body = json!({"name": "G", "username": "g", "password": "a-long-passphrase"});
            body[key] = many.clone();
            let answer = f.refused_json(method, &path, &body, 400);
            assert_eq!(
                answer[key].as_array().map(Vec::len),
                Some(1),
                "{method} {path} {key}"
            );
        }
    }
    // Unknown batch names are each named (SPEC T1), once however often sent.
    let names: Vec<&str> = ["Nope", "Alpha", "NOPE", "Other"].repeat(20_000);
    let answer = f.refused_json("POST", USERS, &create_with("batches", json!(names)), 400);
    assert_eq!(
        answer,
        json!({"batches": [
            "Batch \"Nope\" does not exist.",
            "Batch \"Other\" does not exist."
        ]})
    );
    // Unknown batch names on create name them and create nothing.
    let answer = f.refused_json(
        "POST",
        USERS,
        &create_with("batches", json!(["Alpha", "Nope"])),
        400,
    );
    assert_eq!(
        answer,
        json!({"batches": ["Batch \"Nope\" does not exist."]})
    );
    // Expiry dates that are not dates, or are past.
    for expires in [
        "2023-13-01",
        "12/01/2023",
        "2023-1-20",
        "2020-01-01",
        "2023-01-11",
        "+275760-09-13",
        "tomorrow",
    ] {
        let answer = f.refused_json(
            "POST",
            &f.user_path("subscriptions/"),
            &json!({"batches": [beta], "expires": expires}),
            400,
        );
        assert_eq!(
            field_errors(&answer),
            keys(&["expires"]),
            "expires {expires}"
        );
        let answer = f.refused_json(
            "POST",
            USERS,
            &json!({"username": "newbie", "password": PASSWORD, "batches": ["Beta"], "expires": expires}),
            400,
        );
        assert_eq!(
            field_errors(&answer),
            keys(&["expires"]),
            "create with expires {expires}"
        );
    }
}

#[test]
fn unknown_paths_are_not_found() {
    let f = Fixture::new();
    let long = format!("{API}/{}/", "x".repeat(100 * 1024));
    let paths = [
        "/api/v2.5/admin/nope/",
        "/api/vx/admin/users/",
        "/api/v/admin/users/",
        "/",
        "",
        "/api/v2.5/admin/",
        "/api/v2.5/admin",
        "/api/v2.5/",
        "/api/",
        "/api/v2.5/users/",
        "/api/v2.5/admin/Users/",
        "/API/v2.5/admin/users/",
        "/api/v2.5/admin/users/1/nope/",
        "/api/v2.5/admin/users/1/batches/1/",
        "/api/v2.5/admin/users/../",
        "/api/v2.5/admin/users/1/../",
        "/api/v2.5/admin/courses/create/1/",
        "/api/v2.5/admin/subscriptions/",
        "/api/v2.5/admin/custom_fields/",
        "/api/v2.5/admin/batches/1/users/",
        "/api/v2.5/admin/users%2F",
        long.as_str(),
    ];
    let body =
        json!({"username": "newbie", "password": PASSWORD, "name": "Gamma", "title": "Maths"});
    for path in paths {
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            let answer = f.refused_json(method, path, &body, 404);
            assert_eq!(
                answer,
                json!({"detail": "Not found."}),
                "{method} {}",
                shorten(path)
            );
        }
    }
}

#[test]
fn a_version_roster_does_not_serve_is_404_naming_the_versions_it_serves() {
    let f = Fixture::new();
    let before = snapshot(&f.inst);
    let paths = [
        "/api/v9/admin/users/",
        "/api/v2/admin/users/",
        "/api/v2.4/admin/users/1/",
        "/api/v3/auth-token/",
        "/api/v1.0/me/",
        "/api/v10/admin/nothing/",
    ];
    for path in paths {
        for method in ["GET", "POST", "DELETE"] {
            // As the operator, and unauthenticated: the path is refused first.
            let answers = [
                handle(&f.inst, Request::new(method, path)),
                roster::rest::handle(&f.inst, Request::new(method, path)),
            ];
            for answer in answers {
                assert_eq!(answer.status, 404, "{method} {path}");
                let body: Value =
                    serde_json::from_str(answer.body.as_deref().unwrap_or("")).expect("JSON");
                let detail = body["detail"].as_str().unwrap_or_else(|| panic!("{body}"));
                assert_eq!(body.as_object().map(Map::len), Some(1), "{body}");
                let asked = path.split('/').nth(2).expect("version");
                for words in [
                    "Not found.",
                    &format!("no API version \"{asked}\""),
                    "/api/v2.5/",
                    "/api/v2.2/",
                    "/api/user/v1/ to /api/user/v5/",
                    "/api/org/v1/",
                ] {
                    assert!(detail.contains(words), "{method} {path}: {detail}");
                }
            }
        }
    }
    assert_eq!(snapshot(&f.inst), before);
}

#[test]
fn a_sunbird_path_under_a_version_it_lacks_names_the_versions_served() {
    let f = Fixture::new();
    let errmsg = |method: &str, path: &str| {
        let answer = handle(&f.inst, Request::new(method, path));
        assert_eq!(answer.status, 404, "{path}");
        let body: Value = serde_json::from_str(answer.body.as_deref().unwrap_or("")).expect("JSON");
        assert_eq!(body["responseCode"], "RESOURCE_NOT_FOUND", "{body}");
        assert_eq!(body["params"]["err"], "RESOURCE_NOT_FOUND", "{body}");
        body["params"]["errmsg"]
            .as_str()
            .expect("errmsg")
            .to_string()
    };
    assert_eq!(
        errmsg("GET", "/api/user/v9/read/x"),
        "Requested resource not found: this operation is served under v1, v2, v3, v4, v5, not v9"
    );
    assert_eq!(
        errmsg("POST", "/api/user/v4/search"),
        "Requested resource not found: this operation is served under v1, v2, v3, not v4"
    );
    assert_eq!(
        errmsg("POST", "/api/org/v2/create"),
        "Requested resource not found: this operation is served under v1, not v2"
    );
    let unknown = errmsg("POST", "/api/user/v9/nothing");
    for words in [
        "no API version \"v9\"",
        "/api/v2.5/",
        "/api/user/v1/ to /api/user/v5/",
    ] {
        assert!(unknown.contains(words), "{unknown}");
    }
    // A served version with an operation it lacks: the plain answer.
    assert_eq!(
        errmsg("POST", "/api/user/v3/nothing"),
        "Requested resource not found"
    );
}

#[test]
fn wrong_methods_are_405_with_allow() {
    let f = Fixture::new();
    let u = f.user;
    let list = ["GET", "POST"];
    let item = ["GET", "PUT", "PATCH", "DELETE"];
    let relation = ["GET", "POST", "DELETE"];
    let cases: Vec<(&str, String, &[&str])> = vec![
        ("PATCH", USERS.to_string(), &list),
        ("PUT", USERS.to_string(), &list),
        ("DELETE", USERS.to_string(), &list),
        ("POST", format!("{USERS}{u}/"), &item),
        ("PUT", format!("{USERS}{u}/batches/"), &relation),
        ("PATCH", format!("{USERS}{u}/courses/"), &relation),
        ("PUT", format!("{USERS}{u}/subscriptions/"), &list),
        ("DELETE", format!("{USERS}{u}/subscriptions/"), &list),
        (
            "GET",
            format!("{API}/subscriptions/purge-expired/"),
            &["POST"],
        ),
        (
            "DELETE",
            format!("{API}/subscriptions/purge-expired/"),
            &["POST"],
        ),
        ("GET", format!("{API}/courses/create/"), &["POST"]),
        ("DELETE", format!("{API}/batches/"), &list),
        ("POST", format!("{API}/batches/{}/", f.alpha), &item),
        (
            "PUT",
            format!("{API}/courses/{}/batches/", f.course),
            &relation,
        ),
        ("PATCH", format!("{API}/custom-fields/"), &list),
        ("BREW", USERS.to_string(), &list),
        ("", USERS.to_string(), &list),
    ];
    let body =
        json!({"username": "newbie", "password": PASSWORD, "batches": [f.beta], "name": "Gamma"});
    for (method, path, allowed) in cases {
        let request = json_request(method, &path, body.to_string().as_bytes());
        let response = f.refused_response(request, 405);
        let answer = response.json();
        assert_eq!(
            answer,
            json!({"detail": format!("Method \"{method}\" not allowed.")}),
            "{method} {path}"
        );
        let allow = response
            .header("Allow")
            .unwrap_or_else(|| panic!("{method} {path}: an Allow header"));
        let allow: BTreeSet<&str> = allow.split(',').map(str::trim).collect();
        assert_eq!(allow, allowed.iter().copied().collect(), "{method} {path}");
    }
    // Method names are case-sensitive (RFC 9110 9.1): `get` is not GET.
    for method in ["get", "Get", "post", "delete"] {
        let response = handle(&f.inst, Request::new(method, USERS));
        assert_eq!(response.status, 405, "{method}");
        assert_eq!(
            response.json(),
            json!({"detail": format!("Method \"{method}\" not allowed.")})
        );
    }
}

#[test]
fn content_types_other_than_json_are_415() {
    let f = Fixture::new();
    let body = json!({"username": "newbie", "password": PASSWORD}).to_string();
    for content_type in [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/jsonp",
        "json",
    ] {
        for (method, path) in f.body_routes() {
            let request = Request::new(method, &path)
                .with_header("Content-Type", content_type)
                .with_body(body.clone());
            let answer = f.refused(request, 415);
            assert_eq!(
                answer,
                json!({"detail": format!("Unsupported media type \"{content_type}\" in request.")}),
                "{method} {path} as {content_type}"
            );
        }
    }
    let form = Request::new("POST", USERS)
        .with_header("content-type", "application/x-www-form-urlencoded")
        .with_body("username=newbie&password=s3cret-pass");
    f.refused(form, 415);

    // JSON spelled in other ways, or no Content-Type at all, is read as
    // JSON: the field error proves the body was parsed.
    let bad = br#"{"username": 5, "password": "s3cret-pass"}"#;
    for content_type in [
        None,
        Some("application/json; charset=utf-8"),
        Some("Application/JSON"),
        Some("application/vnd.api+json"),
    ] {
        let mut request = Request::new("POST", USERS).with_body(bad.to_vec());
        if let Some(ct) = content_type {
            request = request.with_header("CONTENT-TYPE", ct);
        }
        let answer = f.refused(request, 400);
        assert_eq!(
            answer,
            json!({"username": ["Not a valid string."]}),
            "{content_type:?}"
        );
    }
    let response = handle(
        &f.inst,
        Request::new("POST", USERS)
            .with_body(br#"{"username": "newbie", "password": "s3cret-pass"}"#.to_vec()),
    );
    assert_eq!(
        response.status, 201,
        "no Content-Type means JSON: {:?}",
        response.body
    );
    let listed = expect(&f.inst, "GET", &format!("{USERS}?q=newbie"), None, 200);
    assert_eq!(listed["count"], 1);
    assert_eq!(f.inst.check_integrity().unwrap(), Vec::<String>::new());
}

#[test]
fn invalid_pages_are_404() {
    let f = Fixture::new();
    let lists = [
        USERS.to_string(),
        f.user_path("batches/"),
        f.user_path("courses/"),
        f.user_path("subscriptions/"),
        format!("{API}/batches/"),
        format!("{API}/courses/"),
        format!("{API}/custom-fields/"),
        format!("{API}/courses/{}/batches/", f.course),
    ];
    for list in &lists {
        for page in [
            "0",
            "-1",
            "abc",
            "1.5",
            "1e1",
            "99999999999999999999",
            "%00",
            "2",
            "3",
            "18446744073709551615",
        ] {
            let request = Request::new("GET", &format!("{list}?page={page}"));
            let answer = f.refused(request, 404);
            assert_eq!(
                answer,
                json!({"detail": "Invalid page."}),
                "{list}?page={page}"
            );
        }
        // Page 1 always exists, even of an empty list; and is still page 1
        // written as Python's `int` reads it (`+` in a query is a space).
        for page in ["1", "+1", "%2B1", "%201%20", "01", "1_"] {
            let answer = handle(&f.inst, Request::new("GET", &format!("{list}?page={page}")));
            match page {
                "1_" => assert_eq!(answer.status, 404, "{list}?page={page}"),
                _ => assert!(answer.json()["results"].is_array(), "{list}?page={page}"),
            }
        }
    }
    let answer = expect(
        &f.inst,
        "GET",
        &format!("{USERS}?q=nobody&page=1"),
        None,
        200,
    );
    assert_eq!(
        (answer["count"].clone(), answer["results"].clone()),
        (json!(0), json!([]))
    );
    let answer = f.refused(
        Request::new("GET", &format!("{USERS}?q=nobody&page=2")),
        404,
    );
    assert_eq!(answer, json!({"detail": "Invalid page."}));
}

/// 24 more users, for 25 in all.
fn crowd(f: &Fixture) {
    let admin = f.inst.operator();
    for i in 0..24 {
        let user = roster::NewUser {
            username: Some(format!("crowd{i:02}")),
            password: Some(PASSWORD.into()),
            ..roster::NewUser::default()
        };
        admin
            .create_user(user, roster::CreateOptions::default())
            .unwrap();
    }
}

#[test]
fn invalid_per_page_falls_back_and_huge_is_capped() {
    let f = Fixture::new();
    crowd(&f);
    let listed = |per_page: &str| {
        expect(
            &f.inst,
            "GET",
            &format!("{USERS}?per_page={per_page}"),
            None,
            200,
        )
    };
    for per_page in ["abc", "-1", "0", "1.5", "", "%00", "1e2"] {
        let answer = listed(per_page);
        assert_eq!(answer["per_page"], 20, "per_page={per_page}");
        assert_eq!(
            answer["results"].as_array().unwrap().len(),
            20,
            "per_page={per_page}"
        );
        assert!(answer["next"].is_string(), "per_page={per_page}");
    }
    for per_page in ["101", "1000", "4294967295"] {
        let answer = listed(per_page);
        assert_eq!(answer["per_page"], 100, "per_page={per_page}");
        assert_eq!(
            answer["results"].as_array().unwrap().len(),
            25,
            "per_page={per_page}"
        );
        assert!(answer["next"].is_null(), "per_page={per_page}");
    }
    // Read as Django REST Framework reads it, through Python's `int`.
    for per_page in ["+5", "%205", "0_5"] {
        let answer = listed(per_page);
        assert_eq!(answer["per_page"], 5, "per_page={per_page}");
    }
    let answer = expect(
        &f.inst,
        "GET",
        &format!("{USERS}?per_page=5&page=5"),
        None,
        200,
    );
    assert_eq!(answer["results"].as_array().unwrap().len(), 5);
    let answer = handle(
        &f.inst,
        Request::new("GET", &format!("{USERS}?per_page=5&page=6")),
    );
    assert_eq!(
        (answer.status, answer.json()),
        (404, json!({"detail": "Invalid page."}))
    );
}

/// SPEC T3: "above the maximum -> the maximum". A `per_page` too big for
/// 32 bits is still a number above the maximum (Django REST Framework reads
/// it with Python's unbounded `int` and cuts it to `max_page_size`).
#[test]
fn per_page_beyond_32_bits_is_capped_too() {
    let f = Fixture::new();
    crowd(&f);
    for per_page in ["4294967296", "99999999999999999999"] {
        let answer = expect(
            &f.inst,
            "GET",
            &format!("{USERS}?per_page={per_page}"),
            None,
            200,
        );
        assert_eq!(answer["per_page"], 100, "per_page={per_page}");
    }
}

#[test]
fn deeply_nested_json_is_refused_without_overflow() {
    let f = Fixture::new();
    let depth = 10_000;
    let open = "[".repeat(depth);
    let balanced = format!("{open}{}", "]".repeat(depth));
    let objects = "{\"a\":".repeat(depth);
    let bodies = [
        open.clone(),
        balanced.clone(),
        objects,
        format!("{{\"username\": {balanced}}}"),
        format!("{{\"custom_fields\": {{\"University\": {balanced}}}}}"),
        "[".repeat(100_000),
        // More values than a body may hold (100,000): refused unparsed.
        format!("{{\"batches\": [{}]}}", vec!["0"; 200_000].join(",")),
    ];
    for (method, path) in f.body_routes() {
        for body in &bodies {
            let answer = f.refused_bytes(method, &path, body.as_bytes(), 400);
            assert!(
                answer.get("detail").is_some() || answer.get("non_field_errors").is_some(),
                "{method} {path}: {answer}"
            );
        }
    }
    // Moderate nesting parses, and is a type error of the field.
    let nested = format!("{}2020{}", "[".repeat(100), "]".repeat(100));
    let body = format!("{{\"custom_fields\": {{\"Graduation Year\": {nested}}}}}");
    let answer = f.refused_bytes("PATCH", &f.user_path(""), body.as_bytes(), 400);
    assert_eq!(
        answer,
        json!({"custom_fields": {"Graduation Year": ["A valid number is required."]}})
    );
    let body = format!(
        "{{\"username\": \"newbie\", \"password\": \"s3cret-pass\", \"first_name\": {nested}}}"
    );
    let answer = f.refused_bytes("POST", USERS, body.as_bytes(), 400);
    assert_eq!(answer, json!({"first_name": ["Not a valid string."]}));
}

#[test]
fn bodies_of_reads_are_ignored() {
    let f = Fixture::new();
    for path in [
        USERS.to_string(),
        f.user_path(""),
        f.user_path("batches/"),
        format!("{API}/batches/"),
    ] {
        let request = Request::new("GET", &path)
            .with_header("Content-Type", "text/plain")
            .with_body(b"{\"username\":".to_vec());
        let response = handle(&f.inst, request);
        assert_eq!(response.status, 200, "GET {path}: {:?}", response.body);
    }
    f.assert_unchanged("reads with bodies");
}

#[test]
fn unknown_fields_and_many_keys_are_ignored_not_fatal() {
    let f = Fixture::new();
    let mut body = Map::new();
    for i in 0..20_000 {
        body.insert(format!("unknown{i}"), json!(i));
    }
    body.insert("username".into(), json!(5));
    let answer = f.refused_json("PUT", &f.user_path(""), &Value::Object(body), 400);
    assert_eq!(answer, json!({"username": ["Not a valid string."]}));
    // Read-only fields are ignored, not errors.
    let answer = expect(
        &f.inst,
        "PATCH",
        &f.user_path(""),
        Some(json!({"id": -5, "created": [], "url": 7, "gender": {}, "large_image": null})),
        200,
    );
    assert_eq!(answer["id"], f.user);
    f.assert_unchanged("a PATCH of read-only fields only");
}

mod fuzz {
    //! Random bodies on every route: whatever arrives, the answer is a
    //! client error or a success, never a 500 or a panic; a refused request
    //! changes nothing; the store stays sound.

    use super::*;
    use proptest::prelude::*;

    const KEYS: &[&str] = &[
        "username",
        "password",
        "email",
        "phone",
        "first_name",
        "last_name",
        "display_name",
        "address1",
        "city",
        "zip",
        "state",
        "state_code",
        "gender_code",
        "birth_date",
        "photo",
        "is_active",
        "is_blocked",
        "custom_fields",
        "batches",
        "courses",
        "expires",
        "name",
        "title",
        "slug",
        "description",
        "image",
        "is_public",
        "order",
        "type",
        "choices",
        "required",
    ];

    const TEXTS: &[&str] = &[
        "",
        " ",
        "newbie",
        "GOODBOY",
        "good@boy.in",
        "Alpha",
        "alpha",
        "Physics",
        "Graduation Year",
        "University",
        "2023-01-12",
        "2023-01-11",
        "2099-12-31",
        "03/07/2016",
        "31/02/2016",
        "9876543210",
        "+91 98765 43210",
        "600001",
        "IN-TN",
        "in-or",
        "male",
        "choice",
        "number",
        "https://example.com/a.png",
        "s3cret-pass",
        "true",
        "a\u{0}b",
        "\u{1b}[31m",
        "\u{202e}evil",
        "ǅemo",
        "\u{130}",
        "💥",
    ];

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            prop_oneof![
                Just(0i64),
                Just(1),
                Just(2),
                Just(-1),
                Just(i64::MIN),
                Just(2020)
            ]
            .prop_map(Value::from),
            prop_oneof![Just(u64::MAX), Just(1u64 << 53)].prop_map(Value::from),
            prop_oneof![Just(1.5f64), Just(-0.0), Just(1e300), Just(2020.0)].prop_map(Value::from),
            (0..TEXTS.len()).prop_map(|i| Value::from(TEXTS[i])),
            (1usize..400).prop_map(|n| Value::from("x".repeat(n))),
            (1u64..12).prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec(
                    ((0..TEXTS.len()).prop_map(|i| TEXTS[i].to_string()), inner),
                    0..3
                )
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    fn body() -> impl Strategy<Value = Value> {
        prop::collection::vec(
            ((0..KEYS.len()).prop_map(|i| KEYS[i].to_string()), value()),
            0..6,
        )
        .prop_map(|kv| Value::Object(kv.into_iter().collect()))
    }

    fn route(f: &Fixture, sel: usize) -> (&'static str, String) {
        let mut routes = f.body_routes();
        routes.push(("DELETE", format!("{USERS}{}/", f.user)));
        routes.push(("DELETE", format!("{API}/batches/{}/", f.beta)));
        routes.push(("POST", format!("{API}/subscriptions/purge-expired/")));
        routes.swap_remove(sel % routes.len())
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 48,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn random_bodies_never_break_anything(
            requests in prop::collection::vec((any::<usize>(), body()), 1..8)
        ) {
            let f = Fixture::new();
            let mut before = f.before.clone();
            for (sel, body) in requests {
                let (method, path) = route(&f, sel);
                let request = json_request(method, &path, body.to_string().as_bytes());
                let response = handle(&f.inst, request);
                prop_assert!(
                    matches!(response.status, 200 | 201 | 204 | 400 | 404 | 409),
                    "{} {} {} answered {}: {:?}", method, path, body, response.status, response.body
                );
                if let Some(text) = &response.body {
                    prop_assert!(serde_json::from_str::<Value>(text).is_ok(), "not JSON: {}", text);
                }
                let after = snapshot(&f.inst);
                prop_assert_eq!(&after["integrity"], &json!([]), "{} {} {}", method, path, body);
                if response.status >= 400 {
                    prop_assert_eq!(
                        &after, &before,
                        "{} {} {} answered {} but changed the store", method, path, body, response.status
                    );
                }
                before = after;
            }
        }
    }
}

/// A host's clock far outside the years roster works with (a custom
/// `Clock`, a device whose clock was never set) is read as the nearest
/// instant roster works with: no date conversion panics halfway through an
/// operation, and the store is never reported damaged for it.
#[test]
fn a_clock_out_of_range_neither_panics_nor_damages_the_store() {
    use chrono::{DateTime, Utc};
    for at in [DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MIN_UTC] {
        let (config, clock) = roster_tests::config("2023-01-12T11:06:19+05:30");
        clock.set(at);
        let inst = roster_tests::store(config);
        let token = roster_tests::superuser(&inst);
        let admin = inst.session(&token).unwrap();
        let batch = admin
            .create_batch(roster::BatchInput {
                name: Some("Morning".into()),
            })
            .unwrap();
        let id = new_user(&admin, "ravi", "ravi-pass-1");
        admin.add_user_batches(id, &[batch.id]).unwrap();
        admin.purge_expired().unwrap();
        inst.login("ravi", "ravi-pass-1").unwrap();
        let page = admin.changes_since(0, 10).unwrap();
        assert!(!page.changes.is_empty(), "{at}");
        let check = inst.check_integrity().unwrap();
        assert!(check.is_empty(), "{at}: {check:?}");
        let created = admin.get_user(id).unwrap().created;
        let bounds = (
            DateTime::from_timestamp(roster::clock::EARLIEST_SECONDS, 0).unwrap(),
            DateTime::from_timestamp(roster::clock::LATEST_SECONDS, 0).unwrap(),
        );
        assert!(
            created == bounds.0 || created == bounds.1,
            "{at}: {created}"
        );
    }
}

/// Request text far longer than any stored name is measured before it is
/// folded, and matches nothing: a megabyte of `ﷺ` (18 characters each in
/// NFKC) took half a second to fold, before anyone signed in. Text that
/// folds to a stored name still finds it, however it is written.
#[test]
fn overlong_names_match_nothing_without_being_folded() {
    let f = Fixture::new();
    let admin = f.inst.operator();
    let long = "\u{FDFA}".repeat(300_000);
    // Sign-in: the answer of an unknown name.
    let refused = f.inst.login(&long, "whatever-1").unwrap_err();
    assert_eq!(refused.code(), roster::ErrorCode::Unauthenticated);
    assert_eq!(
        admin.find_user(&long).unwrap_err().code(),
        roster::ErrorCode::NotFound
    );
    let by_email = admin
        .list_users(&roster::UserQuery {
            email: Some(long.clone()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(by_email.count, 0);
    let by_q = admin
        .list_users(&roster::UserQuery {
            q: Some(long.clone()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(by_q.count, 0);
    assert_eq!(
        admin
            .list_batches(Some(&long), roster::PageRequest::default())
            .unwrap()
            .count,
        0
    );
    assert_eq!(
        admin.missing_batches(std::slice::from_ref(&long)).unwrap(),
        vec![long.clone()]
    );
    assert_eq!(
        admin
            .list_groups(Some(&long), roster::PageRequest::default())
            .unwrap()
            .count,
        0
    );
    // A new username or password that long is refused as too long.
    let user = roster::NewUser {
        username: Some(long.clone()),
        password: Some(long.clone()),
        ..roster::NewUser::default()
    };
    let e = admin
        .create_user(user, roster::CreateOptions::default())
        .unwrap_err();
    let fields = e.fields();
    assert_eq!(
        fields.messages("username"),
        vec!["Ensure this field has no more than 150 characters.".to_string()]
    );
    assert!(
        !fields
            .messages("password")
            .iter()
            .any(|m| m.contains("similar")),
        "{:?}",
        fields.messages("password")
    );
    // So is a Sunbird userName, measured before its NFKC form is made.
    let input = roster::domain::sunbird::SunbirdInput {
        first_name: Some("Sun".into()),
        user_name: Some(long.clone()),
        email: Some("sun@example.com".into()),
        ..Default::default()
    };
    let e = admin
        .sunbird_create(input, roster::domain::sunbird::CreateRoute::Create)
        .unwrap_err();
    assert!(e.message().contains("userName"), "{e}");
    // Folding still joins what it joins: `ß` x 150 is `ss` x 150 as a key,
    // so its owner signs in as `SS` x 150 (300 characters), and `ﬃ` x 50
    // finds `ffi` x 50.
    for (name, typed) in [
        ("ß".repeat(150), "SS".repeat(150)),
        ("ffi".repeat(50), "\u{FB03}".repeat(50)),
    ] {
        let id = new_user(&admin, &name, "a-fine-pass-1");
        assert_eq!(f.inst.login(&typed, "a-fine-pass-1").unwrap().user, id);
        assert_eq!(admin.find_user(&typed).unwrap(), id);
    }
}

/// Creates user `username` with `password`; its id.
fn new_user(admin: &roster::Admin, username: &str, password: &str) -> u64 {
    let user = roster::NewUser {
        username: Some(username.into()),
        password: Some(password.into()),
        ..roster::NewUser::default()
    };
    admin
        .create_user(user, roster::CreateOptions::default())
        .unwrap()
        .user
        .id
}

/// Text a request names but the server does not serve (a method, a media
/// type, a Sunbird lookup type, an unknown Sunbird path) is echoed clipped,
/// however long it was sent: an answer never amplifies a request.
#[test]
fn unserved_request_text_is_echoed_clipped() {
    let (i, _) = institute(SEED_NOW);
    i.create_superuser("root", "root-pass-1")
        .expect("superuser");
    let token = i.login("root", "root-pass-1").expect("sign-in").token;
    let long = "x".repeat(60_000);
    let testpress = |method: &str, content_type: &str| {
        let request = Request::new(method, "/api/v2.5/admin/users/")
            .with_header("Authorization", &format!("JWT {token}"))
            .with_header("Content-Type", content_type)
            .with_body("{}");
        roster::rest::handle(&i, request)
    };
    let sunbird = |path: &str| {
        let request = Request::new("GET", path)
            .with_header("Authorization", "Bearer the-gateway-key")
            .with_header("x-authenticated-user-token", &token);
        roster::rest::handle(&i, request)
    };
    let answers = [
        (
            "a method",
            testpress(&long.to_uppercase(), "application/json"),
        ),
        ("a media type", testpress("POST", &format!("text/{long}"))),
        (
            "a lookup type",
            sunbird(&format!("/api/user/v1/get/{long}/x")),
        ),
        (
            "an exists type",
            sunbird(&format!("/api/user/v1/exists/{long}/x")),
        ),
        (
            "an unknown path",
            sunbird(&format!("/api/user/v1/{long}/x")),
        ),
    ];
    for (what, r) in answers {
        assert!(r.status >= 400, "{what}: {}", r.status);
        let body = r.body.unwrap_or_default();
        assert!(body.len() < 2_000, "{what}: {} bytes", body.len());
        assert!(
            body.contains("more characters"),
            "{what}: the cut is marked: {body}"
        );
    }
}
