//! Sign-in, sessions, lock-out and permissions (SPEC 4 D1-D4, 5 A1-A4, 7 and
//! 10 X3): every rule of Step 2, through the REST facade authenticated as a
//! server does it (`rest::handle` with `Authorization: JWT <token>`) and
//! through the typed API.

use roster::rest::{Request, Response};
use roster::{
    AccessInput, Action, Argon2Params, Channel, CreateOptions, Error, ErrorCode, GroupInput,
    Institute, LockoutPolicy, Model, NewUser, Permission, ProfileInput, UserPatch,
};
use roster_tests::{SEED_NOW, call, call_as, config, institute, superuser};
use serde_json::{Value, json};
use std::collections::BTreeSet;

const USERS: &str = "/api/v2.5/admin/users/";
const ME: &str = "/api/v2.5/me/";
/// The password of every user these tests create.
pub(super) const PASSWORD: &str = "secret-pass-1";

const NO_CREDENTIALS: &str = "Authentication credentials were not provided.";
const INVALID_TOKEN: &str = "Invalid token.";
pub(super) const NO_PERMISSION: &str = "You do not have permission to perform this action.";
const LOGIN_FAILED: &str = "Unable to log in with provided credentials.";

/// The catalogue id of `action` on `model`.
pub(super) fn perm(action: Action, model: Model) -> u64 {
    u64::from(Permission::new(action, model).id())
}

/// Creates an active user `name` (email `name@example.com`) with `access`.
pub(super) fn user(i: &Institute, name: &str, access: AccessInput) -> u64 {
    let input = NewUser {
        username: Some(name.into()),
        password: Some(PASSWORD.into()),
        profile: ProfileInput {
            email: Some(format!("{name}@example.com")),
            ..Default::default()
        },
        access,
        ..Default::default()
    };
    i.operator()
        .create_user(input, CreateOptions::default())
        .unwrap_or_else(|e| panic!("create {name}: {e}"))
        .user
        .id
}

/// Signs `name` in with [`PASSWORD`].
pub(super) fn sign_in(i: &Institute, name: &str) -> String {
    i.login(name, PASSWORD)
        .unwrap_or_else(|e| panic!("sign-in of {name}: {e}"))
        .token
}

/// An active user who is not staff, signed in.
fn student(i: &Institute, name: &str) -> (u64, String) {
    let id = user(i, name, AccessInput::default());
    (id, sign_in(i, name))
}

/// An active staff member holding exactly `permissions`, signed in.
pub(super) fn staff(i: &Institute, name: &str, permissions: &[u64]) -> (u64, String) {
    let access = AccessInput {
        is_staff: Some(true),
        user_permissions: Some(permissions.to_vec()),
        ..Default::default()
    };
    let id = user(i, name, access);
    (id, sign_in(i, name))
}

/// One request with a raw `Authorization` header value (or none).
fn send(
    i: &Institute,
    authorization: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Response {
    let mut request = Request::new(method, path).with_header("Content-Type", "application/json");
    if let Some(value) = authorization {
        request = request.with_header("Authorization", value);
    }
    if let Some(body) = body {
        request = request.with_body(body.to_string());
    }
    roster::rest::handle(i, request)
}

#[track_caller]
fn assert_401(r: &Response, detail: &str, what: &str) {
    assert_eq!(
        (r.status, r.json()),
        (401, json!({ "detail": detail })),
        "{what}"
    );
    assert_eq!(
        r.header("www-authenticate"),
        Some("JWT realm=\"api\""),
        "{what}"
    );
}

#[track_caller]
fn assert_403(r: &Response, what: &str) {
    assert_eq!(
        (r.status, r.json()),
        (403, json!({ "detail": NO_PERMISSION })),
        "{what}"
    );
}

#[track_caller]
fn assert_ok(r: &Response, status: u16, what: &str) {
    assert_eq!(r.status, status, "{what}: {:?}", r.body);
}

/// Whether `token` opens a session: `GET /me/` answers 200, or 401
/// "Invalid token." (anything else fails the test).
#[track_caller]
fn alive(i: &Institute, token: &str) -> bool {
    let r = call_as(i, token, "GET", ME, None);
    if r.status == 200 {
        return true;
    }
    assert_401(&r, INVALID_TOKEN, "a refused session");
    let e = i.session(token).expect_err("the typed API refuses it too");
    assert_eq!(
        (e.code(), e.message()),
        (ErrorCode::Unauthenticated, INVALID_TOKEN)
    );
    false
}

/// The typed API's one sign-in failure.
#[track_caller]
fn login_fails(i: &Institute, name: &str, password: &str) -> Error {
    let e = i.login(name, password).expect_err("sign-in must fail");
    assert_eq!(
        (e.code(), e.message()),
        (ErrorCode::Unauthenticated, LOGIN_FAILED)
    );
    e
}

mod permission_matrix {
    use super::*;

    /// An endpoint, the permission D4 maps it to, and its success status.
    struct Endpoint {
        method: &'static str,
        path: String,
        /// The body of the `n`th call (names stay unique).
        body: fn(usize) -> Option<Value>,
        needs: Permission,
        ok: u16,
    }

    fn none(_: usize) -> Option<Value> {
        None
    }

    fn endpoints(target: u64) -> Vec<Endpoint> {
        let e = |method: &'static str,
                 path: &str,
                 body: fn(usize) -> Option<Value>,
                 action: Action,
                 model: Model,
                 ok: u16| Endpoint {
            method,
            path: path.to_string(),
            body,
            needs: Permission::new(action, model),
            ok,
        };
        use Action::*;
        vec![
            e("GET", USERS, none, View, Model::User, 200),
            e(
                "POST",
                USERS,
                |n| Some(json!({"username": format!("new{n}"), "password": "ipsum1$"})),
                Add,
                Model::User,
                201,
            ),
            e(
                "GET",
                &format!("/api/admin/users/{target}/"),
                none,
                View,
                Model::User,
                200,
            ),
            e(
                "GET",
                &format!("{USERS}{target}/batches/"),
                none,
                Change,
                Model::User,
                200,
            ),
            e(
                "GET",
                &format!("/api/v2.2/admin/users/{target}/subscriptions/"),
                none,
                Change,
                Model::User,
                200,
            ),
            e(
                "POST",
                "/api/v2.5/admin/batches/",
                |n| Some(json!({"name": format!("Batch {n}")})),
                Add,
                Model::Batch,
                201,
            ),
            e(
                "GET",
                "/api/v2.2/admin/courses/",
                none,
                View,
                Model::Course,
                200,
            ),
            e(
                "POST",
                "/api/v2.5/admin/custom-fields/",
                |n| Some(json!({"name": format!("Field {n}"), "type": "text"})),
                Add,
                Model::CustomField,
                201,
            ),
            e(
                "POST",
                "/api/v2.5/admin/subscriptions/purge-expired/",
                none,
                Delete,
                Model::Subscription,
                200,
            ),
            e("GET", "/api/admin/groups/", none, View, Model::Group, 200),
            e(
                "GET",
                "/api/admin/permissions/",
                none,
                View,
                Model::Group,
                200,
            ),
        ]
    }

    #[test]
    fn every_caller_against_every_endpoint() {
        let (i, _) = institute(SEED_NOW);
        let target = user(&i, "target", AccessInput::default());
        let admin = superuser(&i);
        let (_, pupil) = student(&i, "pupil");
        let unknown = "ab".repeat(32);
        let mut n = 0;
        for (k, ep) in endpoints(target).iter().enumerate() {
            let what = |who: &str| format!("{who}: {} {}", ep.method, ep.path);
            let mut send_ep = |authorization: Option<&str>| {
                n += 1;
                send(&i, authorization, ep.method, &ep.path, (ep.body)(n))
            };
            assert_401(&send_ep(None), NO_CREDENTIALS, &what("anonymous"));
            assert_401(
                &send_ep(Some("Token abc")),
                NO_CREDENTIALS,
                &what("another scheme"),
            );
            for bad in [
                "JWT not-a-token".to_string(),
                format!("JWT {unknown}"),
                format!("Bearer {unknown}"),
                format!("JWT {}zz", &admin[..62]),
                format!("JWT {admin}{admin}"),
            ] {
                assert_401(&send_ep(Some(&bad)), INVALID_TOKEN, &what(&bad));
            }
            assert_403(&send_ep(Some(&format!("JWT {pupil}"))), &what("student"));

            let needed = u64::from(ep.needs.id());
            // Changing a model also grants viewing it (Django's admin):
            // "every other permission" leaves that one out too.
            let change_too =
                (ep.needs.action == Action::View).then(|| perm(Action::Change, ep.needs.model));
            let others: Vec<u64> = (1..=28)
                .filter(|p| *p != needed && Some(*p) != change_too)
                .collect();
            let (_, all_but) = staff(&i, &format!("allbut{k}"), &others);
            assert_403(
                &send_ep(Some(&format!("JWT {all_but}"))),
                &what("staff with every other permission"),
            );
            let not_staff = user(
                &i,
                &format!("notstaff{k}"),
                AccessInput {
                    user_permissions: Some(vec![needed]),
                    ..Default::default()
                },
            );
            let token = sign_in(&i, &format!("notstaff{k}"));
            assert_403(
                &send_ep(Some(&format!("JWT {token}"))),
                &what("the permission without staff status"),
            );
            assert!(
                i.operator()
                    .has_perm(not_staff, &ep.needs.full_name())
                    .unwrap()
            );

            let (_, exact) = staff(&i, &format!("exact{k}"), &[needed]);
            assert_ok(
                &send_ep(Some(&format!("JWT {exact}"))),
                ep.ok,
                &what("staff with exactly the permission"),
            );
            if let Some(change) = change_too {
                let (_, changer) = staff(&i, &format!("changer{k}"), &[change]);
                assert_ok(
                    &send_ep(Some(&format!("JWT {changer}"))),
                    ep.ok,
                    &what("staff changing the model"),
                );
            }
            assert_ok(
                &send_ep(Some(&format!("Bearer {exact}"))),
                ep.ok,
                &what("Bearer"),
            );
            let group = i
                .operator()
                .create_group(GroupInput {
                    name: Some(format!("Group {k}")),
                    permissions: Some(vec![needed]),
                })
                .expect("group");
            let member = AccessInput {
                is_staff: Some(true),
                groups: Some(vec![group.id]),
                ..Default::default()
            };
            user(&i, &format!("member{k}"), member);
            let token = sign_in(&i, &format!("member{k}"));
            assert_ok(
                &send_ep(Some(&format!("JWT {token}"))),
                ep.ok,
                &what("staff holding it through a group"),
            );
            assert_ok(
                &send_ep(Some(&format!("JWT {admin}"))),
                ep.ok,
                &what("superuser"),
            );
            assert_ok(
                &send_ep(Some(&format!("jwt  {admin} "))),
                ep.ok,
                &what("scheme in lower case, extra spaces"),
            );
            assert_ok(
                &send_ep(Some(&format!("Bearer {admin}"))),
                ep.ok,
                &what("superuser, Bearer"),
            );
        }
    }

    #[test]
    fn an_inactive_superuser_is_refused_and_its_sessions_end() {
        let (i, _) = institute(SEED_NOW);
        let target = user(&i, "target", AccessInput::default());
        let boss = i.create_superuser("boss", PASSWORD).expect("superuser");
        let token = sign_in(&i, "boss");
        assert!(i.operator().has_perm(boss, "roster.delete_group").unwrap());
        let patch = UserPatch {
            is_active: Some(false),
            ..Default::default()
        };
        i.operator().update_user(boss, patch).expect("deactivate");
        assert!(!i.operator().has_perm(boss, "roster.view_user").unwrap());
        for (k, ep) in endpoints(target).iter().enumerate() {
            let r = call_as(&i, &token, ep.method, &ep.path, (ep.body)(k));
            assert_401(&r, INVALID_TOKEN, &ep.path);
        }
        login_fails(&i, "boss", PASSWORD);
        // Active again: the old session stays ended; a new one works.
        let patch = UserPatch {
            is_active: Some(true),
            ..Default::default()
        };
        i.operator().update_user(boss, patch).expect("reactivate");
        assert!(!alive(&i, &token));
        assert!(alive(&i, &sign_in(&i, "boss")));
    }

    #[test]
    fn expired_sessions_are_refused_everywhere() {
        let (i, clock) = institute(SEED_NOW);
        let target = user(&i, "target", AccessInput::default());
        let token = superuser(&i);
        clock.advance(i.config().session_lifetime - chrono::Duration::microseconds(1));
        assert!(alive(&i, &token));
        clock.advance(chrono::Duration::microseconds(1));
        for (k, ep) in endpoints(target).iter().enumerate() {
            let r = call_as(&i, &token, ep.method, &ep.path, (ep.body)(k));
            assert_401(&r, INVALID_TOKEN, &ep.path);
        }
    }

    #[test]
    fn d4_maps_relations_purge_and_the_catalogue_to_their_own_permissions() {
        let (i, _) = institute(SEED_NOW);
        let target = user(&i, "target", AccessInput::default());
        use Action::*;
        // Reading a user's batches is changing the user, not viewing it or
        // its batches or subscriptions.
        let (_, viewer) = staff(
            &i,
            "viewer",
            &[
                perm(View, Model::User),
                perm(View, Model::Batch),
                perm(View, Model::Subscription),
            ],
        );
        let batches = format!("{USERS}{target}/batches/");
        assert_ok(&call_as(&i, &viewer, "GET", USERS, None), 200, "view_user");
        assert_403(&call_as(&i, &viewer, "GET", &batches, None), "batches");
        let (_, changer) = staff(&i, "changer", &[perm(Change, Model::User)]);
        assert_ok(&call_as(&i, &changer, "GET", &batches, None), 200, "change");
        // Changing users lets it view them (Django's admin).
        assert_ok(&call_as(&i, &changer, "GET", USERS, None), 200, "change");
        // The view by email embeds the batches for a caller that may read
        // them, and leaves them out for one with `view_user` alone.
        let by_email = format!("{USERS}?email=target@example.com");
        let found = |token: &str| {
            let r = call_as(&i, token, "GET", &by_email, None);
            assert_eq!(r.status, 200);
            r.json()["results"][0].clone()
        };
        assert_eq!(found(&changer)["batches"], json!([]));
        let seen = found(&viewer);
        assert_eq!(seen["username"], "target");
        assert!(seen.get("batches").is_none(), "{seen}");
        // Purging is deleting subscriptions.
        let purge = "/api/v2.5/admin/subscriptions/purge-expired/";
        let (_, purger) = staff(&i, "purger", &[perm(Delete, Model::Subscription)]);
        let r = call_as(&i, &purger, "POST", purge, None);
        assert_eq!((r.status, r.json()), (200, json!({"removed": 0})));
        assert_403(&call_as(&i, &viewer, "POST", purge, None), "purge");
        // Groups and the permission list are `*_group`.
        let (_, grouper) = staff(&i, "grouper", &[perm(View, Model::Group)]);
        for path in ["/api/admin/groups/", "/api/admin/permissions/"] {
            assert_ok(&call_as(&i, &grouper, "GET", path, None), 200, path);
            assert_403(&call_as(&i, &viewer, "GET", path, None), path);
        }
        let body = json!({"name": "Tutors"});
        let r = call_as(
            &i,
            &grouper,
            "POST",
            "/api/admin/groups/",
            Some(body.clone()),
        );
        assert_403(&r, "add_group missing");
        let (_, adder) = staff(&i, "adder", &[perm(Add, Model::Group)]);
        let r = call_as(&i, &adder, "POST", "/api/admin/groups/", Some(body));
        assert_ok(&r, 201, "add_group");
    }

    /// As Django REST Framework, a caller who is not active staff (and so
    /// may use no admin operation) is refused before the request's method,
    /// parameters and body are read: it learns nothing of how they would
    /// be judged. Before, a malformed body was 400, a wrong method 405 and
    /// a bad page 400 for anyone signed in. Active staff still see those
    /// answers (each operation checks its own permission after).
    #[test]
    fn a_caller_who_is_not_staff_is_refused_before_the_request_is_read() {
        let (i, _) = institute(SEED_NOW);
        let (_, pupil) = student(&i, "pupil");
        let holder = user(
            &i,
            "holder",
            AccessInput {
                user_permissions: Some(vec![perm(Action::Add, Model::User)]),
                ..Default::default()
            },
        );
        let holder = sign_in(&i, &i.operator().get_user(holder).unwrap().username);
        let (_, clerk) = staff(&i, "clerk", &[perm(Action::Add, Model::User)]);
        let raw = |token: &str, method: &str, path: &str, body: Option<&str>| {
            let mut request = Request::new(method, path)
                .with_header("Content-Type", "application/json")
                .with_header("Authorization", &format!("JWT {token}"));
            if let Some(body) = body {
                request = request.with_body(body.to_string());
            }
            roster::rest::handle(&i, request)
        };
        let probes: [(&str, &str, Option<&str>, u16); 6] = [
            ("POST", USERS, Some("{not json"), 400),
            ("POST", USERS, Some(r#"{"username": 7}"#), 400),
            ("PUT", USERS, None, 405),
            ("GET", "/api/v2.5/admin/batches/?page=abc", None, 404),
            ("POST", "/api/admin/users/", Some("[1, 2"), 400),
            ("PATCH", "/api/admin/permissions/", Some("{}"), 405),
        ];
        for (method, path, body, staff_sees) in probes {
            let what = format!("{method} {path} {body:?}");
            assert_403(
                &raw(&pupil, method, path, body),
                &format!("student: {what}"),
            );
            assert_403(
                &raw(&holder, method, path, body),
                &format!("a permission without staff status: {what}"),
            );
            let r = raw(&clerk, method, path, body);
            assert_eq!(r.status, staff_sees, "staff: {what}: {:?}", r.body);
        }
    }

    #[test]
    fn the_typed_api_checks_the_same_way() {
        let (i, _) = institute(SEED_NOW);
        let target = user(&i, "target", AccessInput::default());
        let (_, pupil) = student(&i, "pupil");
        let pupil = i.session(&pupil).expect("session");
        let e = pupil.get_user(target).expect_err("a student");
        assert_eq!(
            (e.code(), e.message()),
            (ErrorCode::Forbidden, NO_PERMISSION)
        );
        let e = pupil
            .has_perm(target, "roster.view_user")
            .expect_err("needs view_user");
        assert_eq!(e.code(), ErrorCode::Forbidden);
        let (_, viewer) = staff(&i, "viewer", &[perm(Action::View, Model::User)]);
        let viewer = i.session(&viewer).expect("session");
        assert_eq!(viewer.get_user(target).expect("view").username, "target");
        assert!(!viewer.has_perm(target, "roster.view_user").unwrap());
        assert!(!viewer.has_perm(target, "roster.fly").unwrap());
        let e = viewer.delete_user(target).expect_err("no delete_user");
        assert_eq!(e.code(), ErrorCode::Forbidden);
    }
}

mod sign_in {
    use super::*;

    fn token_call(i: &Institute, version: &str, body: Value) -> Response {
        send(
            i,
            None,
            "POST",
            &format!("/api/{version}/auth-token/"),
            Some(body),
        )
    }

    #[test]
    fn answers_a_token_and_its_expiry_on_both_versions() {
        let (i, _) = institute(SEED_NOW);
        user(&i, "lorem", AccessInput::default());
        let mut tokens = BTreeSet::new();
        for version in ["v2.5", "v2.2"] {
            let r = token_call(
                &i,
                version,
                json!({"username": "lorem", "password": PASSWORD}),
            );
            assert_eq!(r.status, 200, "{version}: {:?}", r.body);
            let body = r.json();
            let keys: BTreeSet<&str> = body
                .as_object()
                .expect("object")
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(keys, BTreeSet::from(["expires", "token"]));
            // 24 hours after SEED_NOW, in UTC with microseconds.
            assert_eq!(body["expires"], "2023-01-13T05:36:19.298526Z");
            let token = body["token"].as_str().expect("token").to_string();
            assert_eq!(token.len(), 64);
            assert!(
                token
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                "{token}"
            );
            assert!(alive(&i, &token));
            tokens.insert(token);
        }
        assert_eq!(tokens.len(), 2, "every sign-in is a new session");
        // Without the trailing slash, and the typed API's answer.
        let r = send(
            &i,
            None,
            "POST",
            "/api/v2.5/auth-token",
            Some(json!({"username": "lorem", "password": PASSWORD})),
        );
        assert_eq!(r.status, 200);
        let login = i.login("lorem", PASSWORD).expect("sign-in");
        assert_eq!(
            login.expires,
            roster_tests::at("2023-01-13T05:36:19.298526Z")
        );
        assert_eq!(
            Some(login.user),
            i.session(&login.token).unwrap().me().ok().map(|m| m.id)
        );
    }

    #[test]
    fn the_username_ignores_case_and_the_email_signs_in_too() {
        let (i, _) = institute(SEED_NOW);
        let id = user(&i, "Lorem", AccessInput::default());
        for name in [
            "Lorem",
            "lorem",
            "LOREM",
            " lorem ",
            "Lorem@example.com",
            "LOREM@EXAMPLE.COM",
        ] {
            assert_eq!(
                i.login(name, PASSWORD).map(|l| l.user).ok(),
                Some(id),
                "{name}"
            );
            let r = token_call(&i, "v2.5", json!({"username": name, "password": PASSWORD}));
            assert_eq!(r.status, 200, "{name}");
        }
        // The password is exact.
        login_fails(&i, "lorem", &PASSWORD.to_uppercase());
        login_fails(&i, "lorem", &format!("{PASSWORD} "));
    }

    #[test]
    fn missing_blank_or_mistyped_fields_are_field_errors() {
        let (i, _) = institute(SEED_NOW);
        let cases = [
            (
                json!({}),
                json!({"username": ["This field is required."], "password": ["This field is required."]}),
            ),
            (
                json!({"username": "lorem"}),
                json!({"password": ["This field is required."]}),
            ),
            (
                json!({"username": "", "password": ""}),
                json!({"username": ["This field may not be blank."], "password": ["This field may not be blank."]}),
            ),
            (
                json!({"username": 5, "password": "x"}),
                json!({"username": ["Not a valid string."]}),
            ),
        ];
        for (body, errors) in cases {
            let r = token_call(&i, "v2.5", body.clone());
            assert_eq!((r.status, r.json()), (400, errors), "{body}");
        }
        let r = send(&i, None, "GET", "/api/v2.5/auth-token/", None);
        assert_eq!((r.status, r.header("allow")), (405, Some("POST, DELETE")));
    }

    #[test]
    fn every_failure_gives_the_same_answer() {
        let (i, _) = institute(SEED_NOW);
        user(&i, "right", AccessInput::default());
        let inactive = user(&i, "inactive", AccessInput::default());
        let blocked = user(&i, "blocked", AccessInput::default());
        let deleted = user(&i, "deleted", AccessInput::default());
        user(&i, "locked", AccessInput::default());
        let admin = i.operator();
        let off = |active, blocked| UserPatch {
            is_active: active,
            is_blocked: blocked,
            ..Default::default()
        };
        admin.update_user(inactive, off(Some(false), None)).unwrap();
        admin.update_user(blocked, off(None, Some(true))).unwrap();
        admin.delete_user(deleted).unwrap();
        for _ in 0..5 {
            login_fails(&i, "locked", "wrong-password");
        }
        let attempts = [
            ("nobody", PASSWORD),
            ("nobody@example.com", PASSWORD),
            ("right", "wrong-password"),
            ("locked", PASSWORD),
            ("inactive", PASSWORD),
            ("blocked", PASSWORD),
            ("deleted", PASSWORD),
        ];
        let expected = token_call(&i, "v2.5", json!({"username": "nobody", "password": "x"}));
        assert_eq!(
            (expected.status, expected.json()),
            (400, json!({"non_field_errors": [LOGIN_FAILED]}))
        );
        let typed = login_fails(&i, "nobody", "x");
        for (name, password) in attempts {
            let r = token_call(&i, "v2.5", json!({"username": name, "password": password}));
            assert_eq!(r, expected, "REST: {name}");
            assert_eq!(login_fails(&i, name, password), typed, "typed: {name}");
        }
        // The right password still works for the one whose password was wrong.
        assert!(i.login("right", PASSWORD).is_ok());
    }
}

mod lockout {
    use super::*;

    #[test]
    fn five_failures_in_a_row_lock_for_fifteen_minutes() {
        let (i, clock) = institute(SEED_NOW);
        user(&i, "lorem", AccessInput::default());
        for _ in 0..5 {
            login_fails(&i, "lorem", "wrong-password");
        }
        login_fails(&i, "lorem", PASSWORD);
        login_fails(&i, "lorem@example.com", PASSWORD);
        clock.advance(chrono::Duration::minutes(15) - chrono::Duration::seconds(1));
        login_fails(&i, "lorem", PASSWORD);
        clock.advance(chrono::Duration::seconds(1));
        assert!(
            i.login("lorem", PASSWORD).is_ok(),
            "unlocked after 15 minutes"
        );
        // A fresh count: four failures do not lock again.
        for _ in 0..4 {
            login_fails(&i, "lorem", "wrong-password");
        }
        assert!(i.login("lorem", PASSWORD).is_ok());
    }

    /// Proving the password by changing it ends the run of failures, as a
    /// sign-in does: four failures, a change, then one more failure does
    /// not lock the account.
    #[test]
    fn a_password_change_with_the_right_old_password_ends_a_run_of_failures() {
        let (i, _) = institute(SEED_NOW);
        let (_, token) = student(&i, "lorem");
        for _ in 0..4 {
            login_fails(&i, "lorem", "wrong-password");
        }
        i.session(&token)
            .unwrap()
            .change_my_password(PASSWORD, "new-secret-2")
            .unwrap();
        login_fails(&i, "lorem", "wrong-password");
        assert!(i.login("lorem", "new-secret-2").is_ok(), "not locked");
    }

    #[test]
    fn at_the_instant_a_lock_ends_failures_count_toward_the_next() {
        let (i, clock) = institute(SEED_NOW);
        user(&i, "lorem", AccessInput::default());
        for _ in 0..5 {
            login_fails(&i, "lorem", "wrong-password");
        }
        // Exactly fifteen minutes on, the lock is over: five failures at
        // that instant, the first included, lock the account again.
        clock.advance(chrono::Duration::minutes(15));
        for _ in 0..5 {
            login_fails(&i, "lorem", "wrong-password");
        }
        login_fails(&i, "lorem", PASSWORD);
        clock.advance(chrono::Duration::minutes(15));
        assert!(i.login("lorem", PASSWORD).is_ok());
    }

    #[test]
    fn a_success_resets_the_count_and_other_users_are_not_affected() {
        let (i, _) = institute(SEED_NOW);
        user(&i, "lorem", AccessInput::default());
        user(&i, "other", AccessInput::default());
        for _ in 0..3 {
            for _ in 0..4 {
                login_fails(&i, "lorem", "wrong-password");
            }
            assert!(i.login("lorem", PASSWORD).is_ok());
        }
        // Failures by username and by email count together.
        for name in ["lorem", "LOREM", "lorem@example.com", "Lorem", "lorem"] {
            login_fails(&i, name, "wrong-password");
        }
        login_fails(&i, "lorem", PASSWORD);
        assert!(i.login("other", PASSWORD).is_ok());
        // Failures for unknown names lock nothing.
        for _ in 0..10 {
            login_fails(&i, "nobody", "wrong-password");
        }
    }

    #[test]
    fn unlock_user_ends_the_lock_at_once() {
        let (i, _) = institute(SEED_NOW);
        let id = user(&i, "lorem", AccessInput::default());
        for _ in 0..5 {
            login_fails(&i, "lorem", "wrong-password");
        }
        login_fails(&i, "lorem", PASSWORD);
        // Only with change_user.
        let (_, viewer) = staff(&i, "viewer", &[perm(Action::View, Model::User)]);
        let e = i
            .session(&viewer)
            .unwrap()
            .unlock_user(id)
            .expect_err("403");
        assert_eq!(e.code(), ErrorCode::Forbidden);
        login_fails(&i, "lorem", PASSWORD);
        let (_, changer) = staff(&i, "changer", &[perm(Action::Change, Model::User)]);
        i.session(&changer)
            .unwrap()
            .unlock_user(id)
            .expect("unlock");
        assert!(i.login("lorem", PASSWORD).is_ok());
        // The operator too, and unlocking an unlocked user is fine.
        for _ in 0..5 {
            login_fails(&i, "lorem", "wrong-password");
        }
        i.operator().unlock_user(id).expect("unlock");
        i.operator().unlock_user(id).expect("unlock again");
        assert!(i.login("lorem", PASSWORD).is_ok());
        // Unlocking also starts the count afresh: four failures before it
        // and four after lock nothing.
        for _ in 0..4 {
            login_fails(&i, "lorem", "wrong-password");
        }
        i.operator().unlock_user(id).expect("unlock");
        for _ in 0..4 {
            login_fails(&i, "lorem", "wrong-password");
        }
        assert!(i.login("lorem", PASSWORD).is_ok());
        let e = i.operator().unlock_user(9999).expect_err("unknown");
        assert_eq!(e.code(), ErrorCode::NotFound);
    }

    #[test]
    fn the_threshold_and_the_duration_are_configurable() {
        let (mut config, clock) = config(SEED_NOW);
        config.lockout = LockoutPolicy {
            max_failures: 2,
            duration: chrono::Duration::minutes(1),
        };
        let i = roster_tests::store(config);
        user(&i, "lorem", AccessInput::default());
        login_fails(&i, "lorem", "wrong-password");
        assert!(
            i.login("lorem", PASSWORD).is_ok(),
            "one failure does not lock"
        );
        login_fails(&i, "lorem", "wrong-password");
        login_fails(&i, "lorem", "wrong-password");
        login_fails(&i, "lorem", PASSWORD);
        clock.advance(chrono::Duration::seconds(59));
        login_fails(&i, "lorem", PASSWORD);
        clock.advance(chrono::Duration::seconds(1));
        assert!(i.login("lorem", PASSWORD).is_ok());

        let (mut config, _) = roster_tests::config(SEED_NOW);
        config.lockout.max_failures = 0;
        let i = roster_tests::store(config);
        user(&i, "lorem", AccessInput::default());
        for _ in 0..12 {
            login_fails(&i, "lorem", "wrong-password");
        }
        assert!(i.login("lorem", PASSWORD).is_ok(), "0 never locks");
    }

    #[test]
    fn a_lock_leaves_open_sessions_alone_and_the_superuser_reset_unlocks() {
        let (i, _) = institute(SEED_NOW);
        let token = superuser(&i);
        for _ in 0..5 {
            login_fails(&i, "admin", "wrong-password");
        }
        login_fails(&i, "admin", roster_tests::ADMIN_PASSWORD);
        assert!(alive(&i, &token), "a lock stops sign-ins, not sessions");
        // `roster superuser` resets the account, unlocked.
        let again = superuser(&i);
        assert!(alive(&i, &again));
    }

    #[test]
    fn the_superuser_reset_reactivates_unblocks_and_unlocks_an_account() {
        let (i, _) = institute(SEED_NOW);
        let id = user(&i, "keeper", AccessInput::default());
        for _ in 0..5 {
            login_fails(&i, "keeper", "wrong-password");
        }
        let patch = UserPatch {
            is_active: Some(false),
            is_blocked: Some(true),
            ..Default::default()
        };
        i.operator()
            .update_user(id, patch)
            .expect("deactivate, block");
        // Each of the three alone would keep the account out.
        assert_eq!(i.create_superuser("KEEPER", "made-root-1"), Ok(id));
        let view = i.operator().get_user(id).expect("the same user");
        assert!(view.is_active && !view.is_blocked, "{view:?}");
        assert!(view.is_superuser && view.is_staff, "{view:?}");
        let token = i.login("keeper", "made-root-1").expect("signs in").token;
        assert!(alive(&i, &token));
        login_fails(&i, "keeper", PASSWORD);
    }
}

mod sessions {
    use super::*;

    /// A user holds at most `SESSIONS_PER_USER` live sessions: a new one
    /// ends the oldest (every sign-in, and every token a manager is given,
    /// is a stored row until it expires).
    #[test]
    fn a_new_session_past_the_bound_ends_the_oldest() {
        let (i, clock) = institute(SEED_NOW);
        let (_, first) = student(&i, "lorem");
        let mut tokens = vec![first];
        for _ in 1..roster::config::SESSIONS_PER_USER {
            clock.advance(chrono::Duration::milliseconds(1));
            tokens.push(sign_in(&i, "lorem"));
        }
        assert!(tokens.iter().all(|t| alive(&i, t)), "the bound is not hit");
        clock.advance(chrono::Duration::milliseconds(1));
        let newest = sign_in(&i, "lorem");
        assert!(alive(&i, &newest));
        assert!(!alive(&i, &tokens[0]), "the oldest ended");
        assert!(
            tokens[1..].iter().all(|t| alive(&i, t)),
            "the others live on"
        );
        assert!(i.check_integrity().unwrap().is_empty());
    }

    #[test]
    fn a_password_change_ends_every_session_and_the_old_password() {
        let (i, clock) = institute(SEED_NOW);
        let (id, first) = student(&i, "lorem");
        let second = sign_in(&i, "lorem");
        clock.advance(chrono::Duration::seconds(1));
        let patch = UserPatch {
            password: Some("new-secret-2".into()),
            ..Default::default()
        };
        i.operator().update_user(id, patch).expect("update");
        assert!(!alive(&i, &first));
        assert!(!alive(&i, &second));
        login_fails(&i, "lorem", PASSWORD);
        let fresh = i
            .login("lorem", "new-secret-2")
            .expect("new password")
            .token;
        assert!(alive(&i, &fresh));
        // The same through REST (Testpress PUT), by a superuser.
        let admin = superuser(&i);
        let r = call_as(
            &i,
            &admin,
            "PUT",
            &format!("{USERS}{id}/"),
            Some(json!({"password": "third-secret-3"})),
        );
        assert_eq!(r.status, 200);
        assert!(!alive(&i, &fresh));
        assert!(alive(&i, &admin), "the caller's own session goes on");
        // Changing other fields leaves sessions alone.
        let current = i.login("lorem", "third-secret-3").unwrap().token;
        let r = call_as(
            &i,
            &admin,
            "PUT",
            &format!("{USERS}{id}/"),
            Some(json!({"first_name": "John"})),
        );
        assert_eq!(r.status, 200);
        assert!(alive(&i, &current));
    }

    #[test]
    fn deactivation_block_and_delete_end_sessions() {
        let (i, _) = institute(SEED_NOW);
        let admin = superuser(&i);
        for (k, body) in [
            json!({"is_active": false}),
            json!({"is_active": "false"}),
            json!({"is_blocked": true}),
        ]
        .into_iter()
        .enumerate()
        {
            let (id, token) = student(&i, &format!("user{k}"));
            let r = call_as(
                &i,
                &admin,
                "PUT",
                &format!("{USERS}{id}/"),
                Some(body.clone()),
            );
            assert_eq!(r.status, 200, "{body}");
            assert!(!alive(&i, &token), "{body}");
            login_fails(&i, &format!("user{k}"), PASSWORD);
            // Undoing it does not bring the old session back.
            let undo = json!({"is_active": true, "is_blocked": false});
            let r = call_as(&i, &admin, "PUT", &format!("{USERS}{id}/"), Some(undo));
            assert_eq!(r.status, 200);
            assert!(!alive(&i, &token), "{body}");
            assert!(alive(&i, &sign_in(&i, &format!("user{k}"))));
        }
        let (id, token) = student(&i, "doomed");
        let r = call_as(&i, &admin, "DELETE", &format!("{USERS}{id}/"), None);
        assert_eq!(r.status, 204);
        assert!(!alive(&i, &token));
        // A new user of the same name does not inherit the session.
        student(&i, "doomed");
        assert!(!alive(&i, &token));
    }

    #[test]
    fn logout_ends_one_session_and_logout_everywhere_all() {
        let (i, _) = institute(SEED_NOW);
        let (id, a) = student(&i, "lorem");
        let b = sign_in(&i, "lorem");
        let c = sign_in(&i, "lorem");
        i.logout(&a).expect("logout");
        assert!(!alive(&i, &a));
        assert!(alive(&i, &b) && alive(&i, &c));
        i.logout(&a).expect("logging out twice is fine");
        i.logout("garbage").expect("so is a token that is none");
        // A user may end their own sessions; others need change_user.
        let (_, viewer) = staff(&i, "viewer", &[perm(Action::View, Model::User)]);
        let e = i
            .session(&viewer)
            .unwrap()
            .logout_everywhere(id)
            .expect_err("403");
        assert_eq!(e.code(), ErrorCode::Forbidden);
        assert!(alive(&i, &b));
        let ended = i.session(&b).unwrap().logout_everywhere(id).expect("own");
        assert_eq!(ended, 2);
        assert!(!alive(&i, &b) && !alive(&i, &c));
        let d = sign_in(&i, "lorem");
        let (_, changer) = staff(&i, "changer", &[perm(Action::Change, Model::User)]);
        assert_eq!(
            i.session(&changer).unwrap().logout_everywhere(id).unwrap(),
            1
        );
        assert!(!alive(&i, &d));
        assert_eq!(i.operator().logout_everywhere(id).unwrap(), 0);
        let e = i
            .operator()
            .logout_everywhere(9999)
            .expect_err("unknown user");
        assert_eq!(e.code(), ErrorCode::NotFound);
    }

    #[test]
    fn my_password_keeps_this_session_and_ends_the_others() {
        let (i, clock) = institute(SEED_NOW);
        let (_, current) = student(&i, "lorem");
        let other = sign_in(&i, "lorem");
        clock.advance(chrono::Duration::minutes(1));
        let r = call_as(
            &i,
            &current,
            "POST",
            "/api/v2.5/me/password/",
            Some(json!({"old_password": PASSWORD, "new_password": "new-secret-2"})),
        );
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert!(alive(&i, &current), "this session goes on");
        assert!(!alive(&i, &other), "the others end");
        login_fails(&i, "lorem", PASSWORD);
        assert!(alive(&i, &i.login("lorem", "new-secret-2").unwrap().token));
        // Later calls on the kept session still work, and at the same
        // instant as the change.
        clock.advance(chrono::Duration::minutes(1));
        assert!(alive(&i, &current));
        // The typed API does the same.
        let again = i.login("lorem", "new-secret-2").unwrap().token;
        i.session(&current)
            .unwrap()
            .change_my_password("new-secret-2", "third-secret-3")
            .expect("typed");
        assert!(alive(&i, &current));
        assert!(!alive(&i, &again));
        let e = i
            .operator()
            .change_my_password("x", "y")
            .expect_err("the operator has no password");
        assert_eq!(e.code(), ErrorCode::Forbidden);
    }

    #[test]
    fn sessions_last_the_configured_lifetime() {
        let (mut config, clock) = config(SEED_NOW);
        config.session_lifetime = chrono::Duration::hours(1);
        let i = roster_tests::store(config);
        user(&i, "lorem", AccessInput::default());
        let login = i.login("lorem", PASSWORD).unwrap();
        assert_eq!(
            login.expires,
            roster_tests::at(SEED_NOW) + chrono::Duration::hours(1)
        );
        clock.advance(chrono::Duration::minutes(59));
        assert!(alive(&i, &login.token));
        clock.advance(chrono::Duration::minutes(1));
        assert!(!alive(&i, &login.token));
        // A sign-in after that is a new session with a new expiry.
        let again = i.login("lorem", PASSWORD).unwrap();
        assert!(alive(&i, &again.token));
    }
}

/// SPEC A8: sessions end through a per-user credential generation, never
/// by comparing instants, so a clock that moves either way neither ends a
/// session early nor revives an ended one; and `DELETE auth-token` signs the
/// current session out.
mod generations {
    use super::*;
    use chrono::Duration;

    const HOUR: fn() -> Duration = || Duration::hours(1);

    fn set_password(i: &Institute, id: u64, password: &str) {
        let patch = UserPatch {
            password: Some(password.into()),
            ..Default::default()
        };
        i.operator().update_user(id, patch).expect("password");
    }

    #[test]
    fn a_clock_moved_back_after_a_password_set_ends_no_session() {
        let (i, clock) = institute(SEED_NOW);
        let (id, _) = student(&i, "lorem");
        set_password(&i, id, PASSWORD);
        let token = sign_in(&i, "lorem");
        // The device clock goes back an hour: the session goes on, and a
        // sign-in then gives a working session too.
        clock.advance(-HOUR());
        assert!(alive(&i, &token), "an hour back");
        let earlier = sign_in(&i, "lorem");
        assert!(alive(&i, &earlier), "a session begun before the password");
        // And forward again.
        clock.advance(HOUR() * 2);
        assert!(alive(&i, &token) && alive(&i, &earlier), "an hour ahead");
        // A superuser made on one clock signs in on an earlier one.
        i.create_superuser("root", "root-pass-1")
            .expect("superuser");
        clock.advance(-HOUR() * 24);
        let root = i.login("root", "root-pass-1").expect("sign-in").token;
        assert!(alive(&i, &root));
    }

    #[test]
    fn ended_sessions_stay_ended_whichever_way_the_clock_moves() {
        type Change = fn(&Institute, u64);
        let changes: [(&str, Change); 4] = [
            ("password", |i, id| set_password(i, id, "new-secret-2")),
            ("block", |i, id| {
                let patch = UserPatch {
                    is_blocked: Some(true),
                    ..Default::default()
                };
                i.operator().update_user(id, patch).expect("block");
            }),
            ("deactivate", |i, id| {
                let patch = UserPatch {
                    is_active: Some(false),
                    ..Default::default()
                };
                i.operator().update_user(id, patch).expect("deactivate");
            }),
            ("delete", |i, id| {
                i.operator().delete_user(id).expect("delete")
            }),
        ];
        for (what, change) in changes {
            for direction in [-1, 1] {
                let (i, clock) = institute(SEED_NOW);
                let (id, token) = student(&i, "lorem");
                let other = sign_in(&i, "lorem");
                clock.advance(HOUR() * direction);
                change(&i, id);
                for shift in [-3, 1, 1, 2] {
                    clock.advance(HOUR() * shift);
                    assert!(!alive(&i, &token), "{what}, clock {direction} then {shift}");
                    assert!(!alive(&i, &other), "{what}, clock {direction} then {shift}");
                }
                if what == "block" || what == "deactivate" {
                    // Undoing it does not revive them either.
                    let patch = UserPatch {
                        is_active: Some(true),
                        is_blocked: Some(false),
                        ..Default::default()
                    };
                    i.operator().update_user(id, patch).expect("undo");
                    assert!(!alive(&i, &token), "{what} undone");
                }
            }
        }
    }

    #[test]
    fn changing_ones_own_password_through_the_admin_api_keeps_this_session() {
        let (i, clock) = institute(SEED_NOW);
        let (id, current) = staff(&i, "clerk", &[perm(Action::Change, Model::User)]);
        let other = sign_in(&i, "clerk");
        clock.advance(-HOUR());
        for (k, path) in [format!("{USERS}{id}/"), format!("/api/admin/users/{id}/")]
            .iter()
            .enumerate()
        {
            let password = format!("new-secret-{k}x");
            let r = call_as(
                &i,
                &current,
                "PATCH",
                path,
                Some(json!({ "password": password })),
            );
            assert_eq!(r.status, 200, "{path}: {:?}", r.body);
            assert!(alive(&i, &current), "this session goes on");
            assert!(!alive(&i, &other), "the others end");
            clock.advance(HOUR() * 2);
            assert!(alive(&i, &current), "and on, whatever the clock");
        }
        // The typed API does the same.
        let next = sign_in_as(&i, "clerk", "new-secret-1x");
        i.session(&current)
            .unwrap()
            .update_user(
                id,
                UserPatch {
                    password: Some("third-secret-3".into()),
                    ..Default::default()
                },
            )
            .expect("typed");
        assert!(alive(&i, &current) && !alive(&i, &next));
        // Blocking oneself keeps nothing.
        let r = call_as(
            &i,
            &current,
            "PATCH",
            &format!("{USERS}{id}/"),
            Some(json!({"is_blocked": true})),
        );
        assert_eq!(r.status, 200);
        assert!(!alive(&i, &current));
    }

    fn sign_in_as(i: &Institute, name: &str, password: &str) -> String {
        i.login(name, password).expect("sign-in").token
    }

    #[test]
    fn a_legacy_rehash_at_sign_in_ends_no_session() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("institute.redb");
        let open = |m_kib: u32| {
            let (mut config, clock) = config(SEED_NOW);
            config.argon2 = Argon2Params { m_kib, t: 1, p: 1 };
            (Institute::open(&path, config).expect("open"), clock)
        };
        let token = {
            let (i, _) = open(64);
            user(&i, "lorem", AccessInput::default());
            sign_in(&i, "lorem")
        };
        let (i, _) = open(128);
        // This sign-in replaces the hash by a stronger one of the same
        // password: not a password change.
        let again = sign_in(&i, "lorem");
        assert!(alive(&i, &token) && alive(&i, &again));
    }

    #[test]
    fn delete_auth_token_signs_this_session_out() {
        let (i, _) = institute(SEED_NOW);
        let (_, a) = student(&i, "lorem");
        let b = sign_in(&i, "lorem");
        for version in ["v2.5", "v2.2"] {
            let path = format!("/api/{version}/auth-token/");
            let token = sign_in(&i, "lorem");
            let r = call_as(&i, &token, "DELETE", &path, None);
            assert_eq!((r.status, r.body.as_deref()), (204, None), "{path}");
            assert!(!alive(&i, &token));
            // A second time, the token is no longer one.
            assert_401(
                &call_as(&i, &token, "DELETE", &path, None),
                INVALID_TOKEN,
                "again",
            );
            assert_401(
                &send(&i, None, "DELETE", &path, None),
                NO_CREDENTIALS,
                "no token",
            );
            assert_401(
                &send(&i, Some("JWT nonsense"), "DELETE", &path, None),
                INVALID_TOKEN,
                "not a token",
            );
        }
        assert!(alive(&i, &a) && alive(&i, &b), "the other sessions go on");
        // The typed API.
        i.session(&a).unwrap().sign_out().expect("typed");
        assert!(!alive(&i, &a) && alive(&i, &b));
        let e = i
            .operator()
            .sign_out()
            .expect_err("the operator has no session");
        assert_eq!(e.code(), ErrorCode::Unauthenticated);
        // GET is no sign-out.
        let r = call_as(&i, &b, "GET", "/api/v2.5/auth-token/", None);
        assert_eq!(r.status, 405);
        assert!(alive(&i, &b));
    }

    /// A format-2 store's sessions (rows without a generation) end at the
    /// upgrade: the fixture's signed-in registrar has none left, signs in
    /// again, and the new session works.
    #[test]
    fn the_format_2_sessions_end_at_the_upgrade() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("v2.redb");
        std::fs::copy(roster_tests::own_fixtures().join("store-v2.redb"), &path)
            .expect("fixture present");
        let (config, _) = config(SEED_NOW);
        let i = Institute::open(&path, config).expect("open v2");
        let id = i.operator().find_user("registrar").expect("registrar");
        assert_eq!(i.operator().logout_everywhere(id).unwrap(), 0);
        let token = i.login("registrar", "registrar-1").expect("sign-in").token;
        assert!(alive(&i, &token));
        assert_eq!(i.check_integrity().unwrap(), Vec::<String>::new());
    }

    /// Expired sessions do not accumulate: one seen expired is removed, a
    /// sign-in removes the user's expired ones, and so does the purge. Each
    /// is observed by moving the clock back before the expiry: a row left
    /// behind would open again.
    #[test]
    fn expired_sessions_are_removed_when_seen_at_sign_in_and_by_the_purge() {
        let lifetime = || roster::Config::default().session_lifetime;
        let (i, clock) = institute(SEED_NOW);
        let (_, token) = student(&i, "lorem");
        let admin = superuser(&i);
        let past = || lifetime() + Duration::minutes(1);
        // Seen expired.
        clock.advance(past());
        assert!(i.session(&token).is_err());
        clock.advance(-past());
        assert!(i.session(&token).is_err(), "removed when seen");
        // At sign-in.
        let token = sign_in(&i, "lorem");
        clock.advance(past());
        let fresh = sign_in(&i, "lorem");
        clock.advance(-past());
        assert!(i.session(&token).is_err(), "removed at sign-in");
        let _ = fresh;
        // By the purge (the typed operation and its REST path).
        for via_rest in [false, true] {
            let token = sign_in(&i, "lorem");
            clock.advance(past());
            let admin = superuser(&i);
            if via_rest {
                let r = call_as(
                    &i,
                    &admin,
                    "POST",
                    "/api/v2.5/admin/subscriptions/purge-expired/",
                    None,
                );
                assert_eq!((r.status, r.json()), (200, json!({"removed": 0})));
            } else {
                assert_eq!(i.operator().purge_expired().unwrap(), 0, "memberships only");
            }
            clock.advance(-past());
            assert!(i.session(&token).is_err(), "removed by the purge");
        }
        let _ = admin;
        // A live session is left alone by all three.
        let live = sign_in(&i, "lorem");
        i.operator().purge_expired().unwrap();
        sign_in(&i, "lorem");
        assert!(alive(&i, &live));
        assert_eq!(i.check_integrity().unwrap(), Vec::<String>::new());
    }
}

mod hashes {
    use super::*;

    /// The stored record of `username`, read from the file directly: the
    /// public API never shows a hash (A3), so this is the one way to see it.
    fn stored_record(path: &std::path::Path, username: &str) -> Vec<u8> {
        // postcard keeps strings as they are: the record holds the username
        // and, after it, the PHC string.
        for (_, bytes) in roster::store::testing::raw_rows(path, "users").expect("raw read") {
            if contains(&bytes, username) && contains(&bytes, "$argon2id$") {
                return bytes;
            }
        }
        panic!("no record of {username}");
    }

    fn contains(haystack: &[u8], needle: &str) -> bool {
        haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    }

    #[test]
    fn weaker_hashes_are_upgraded_at_sign_in_and_never_downgraded() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("institute.redb");
        let cheap = "$argon2id$v=19$m=64,t=1,p=1$";
        let stronger = Argon2Params {
            m_kib: 256,
            t: 2,
            p: 1,
        };
        let strong = "$argon2id$v=19$m=256,t=2,p=1$";
        let open = |params: Option<Argon2Params>| {
            let (mut config, _) = config(SEED_NOW);
            if let Some(p) = params {
                config.argon2 = p;
            }
            Institute::open(&path, config).expect("open")
        };
        {
            let i = open(None);
            user(&i, "lorem", AccessInput::default());
            user(&i, "ipsum", AccessInput::default());
        }
        assert!(contains(&stored_record(&path, "lorem"), cheap));
        {
            let i = open(Some(stronger));
            // A failed sign-in changes no hash.
            login_fails(&i, "ipsum", "wrong-password");
            assert!(i.login("lorem", PASSWORD).is_ok());
            assert!(i.login("lorem", PASSWORD).is_ok(), "the new hash verifies");
        }
        let lorem = stored_record(&path, "lorem");
        assert!(contains(&lorem, strong) && !contains(&lorem, cheap));
        assert!(contains(&stored_record(&path, "ipsum"), cheap));
        {
            // Back on cheaper parameters: the stronger hash stays.
            let i = open(None);
            assert!(i.login("lorem", PASSWORD).is_ok());
        }
        assert!(contains(&stored_record(&path, "lorem"), strong));
    }

    #[test]
    fn no_output_ever_carries_a_hash() {
        let (i, _) = institute(SEED_NOW);
        let admin = superuser(&i);
        let created = call_as(
            &i,
            &admin,
            "POST",
            USERS,
            Some(json!({"username": "lorem", "password": PASSWORD, "email": "lorem@example.com"})),
        );
        assert_eq!(created.status, 201);
        let id = created.json()["id"].as_u64().unwrap();
        let mut bodies = vec![created.body.clone().unwrap_or_default()];
        for (path, body) in [
            (
                format!("/api/admin/users/{id}/"),
                json!({"password": "new-secret-2"}),
            ),
            (format!("{USERS}{id}/"), json!({"password": PASSWORD})),
        ] {
            let r = call_as(&i, &admin, "PUT", &path, Some(body));
            assert_eq!(r.status, 200, "PUT {path}");
            bodies.push(r.body.unwrap_or_default());
        }
        let token = sign_in(&i, "lorem");
        for (who, path) in [
            (&admin, USERS.to_string()),
            (&admin, format!("{USERS}{id}/")),
            (&admin, format!("{USERS}?email=lorem@example.com")),
            (&admin, format!("{USERS}?q=lorem")),
            (&admin, "/api/admin/users/".to_string()),
            (&admin, format!("/api/admin/users/{id}/")),
            (
                &admin,
                "/api/admin/users/?email=LOREM@example.com".to_string(),
            ),
            (&admin, ME.to_string()),
            (&token, ME.to_string()),
        ] {
            let r = call_as(&i, who, "GET", &path, None);
            assert_eq!(r.status, 200, "GET {path}");
            bodies.push(r.body.unwrap_or_default());
        }
        let r = send(
            &i,
            None,
            "POST",
            "/api/v2.5/auth-token/",
            Some(json!({"username": "lorem", "password": PASSWORD})),
        );
        bodies.push(r.body.unwrap_or_default());
        for body in &bodies {
            for secret in ["argon2", "pbkdf2", "$v=19$", "\"password\"", PASSWORD] {
                assert!(!body.contains(secret), "{secret} in {body}");
            }
        }
        let view = i.operator().get_user(id).unwrap();
        assert!(!format!("{view:?}").contains("argon2"));
    }
}

mod groups {
    use super::*;

    #[test]
    fn a_groups_permissions_come_and_go_with_it() {
        let (i, _) = institute(SEED_NOW);
        let admin = i.operator();
        let group = admin
            .create_group(GroupInput {
                name: Some("Viewers".into()),
                permissions: Some(vec![perm(Action::View, Model::User)]),
            })
            .unwrap();
        let access = AccessInput {
            is_staff: Some(true),
            groups: Some(vec![group.id]),
            ..Default::default()
        };
        let id = user(&i, "member", access);
        let token = sign_in(&i, "member");
        assert_ok(
            &call_as(&i, &token, "GET", USERS, None),
            200,
            "through the group",
        );
        assert!(admin.has_perm(id, "roster.view_user").unwrap());
        // Taking the permission from the group takes it from the member.
        let none = GroupInput {
            permissions: Some(vec![]),
            ..Default::default()
        };
        admin.update_group(group.id, none).unwrap();
        assert_403(&call_as(&i, &token, "GET", USERS, None), "emptied group");
        let back = GroupInput {
            permissions: Some(vec![perm(Action::View, Model::User)]),
            ..Default::default()
        };
        admin.update_group(group.id, back).unwrap();
        assert_ok(&call_as(&i, &token, "GET", USERS, None), 200, "restored");
        // Deleting the group: at once, through REST.
        let root = superuser(&i);
        let r = call_as(
            &i,
            &root,
            "DELETE",
            &format!("/api/admin/groups/{}/", group.id),
            None,
        );
        assert_eq!(r.status, 204);
        assert_403(&call_as(&i, &token, "GET", USERS, None), "deleted group");
        assert!(!admin.has_perm(id, "roster.view_user").unwrap());
        assert_eq!(admin.get_user(id).unwrap().groups, Vec::<u64>::new());
        assert!(alive(&i, &token), "the member's session itself goes on");
        assert_eq!(i.check_integrity().unwrap(), Vec::<String>::new());
    }

    #[test]
    fn own_and_group_permissions_add_up() {
        let (i, _) = institute(SEED_NOW);
        let admin = i.operator();
        let group = admin
            .create_group(GroupInput {
                name: Some("Batchers".into()),
                permissions: Some(vec![perm(Action::Add, Model::Batch)]),
            })
            .unwrap();
        let access = AccessInput {
            is_staff: Some(true),
            groups: Some(vec![group.id]),
            user_permissions: Some(vec![perm(Action::View, Model::Batch)]),
            ..Default::default()
        };
        user(&i, "both", access);
        let token = sign_in(&i, "both");
        let batches = "/api/v2.5/admin/batches/";
        let r = call_as(
            &i,
            &token,
            "POST",
            batches,
            Some(json!({"name": "Morning"})),
        );
        assert_ok(&r, 201, "the group's add_batch");
        assert_ok(
            &call_as(&i, &token, "GET", batches, None),
            200,
            "own view_batch",
        );
        let r = call_as(&i, &token, "DELETE", &format!("{batches}1/"), None);
        assert_403(&r, "neither has delete_batch");
    }

    #[test]
    fn unknown_permission_ids_are_refused() {
        let (i, _) = institute(SEED_NOW);
        let root = superuser(&i);
        let r = call_as(
            &i,
            &root,
            "POST",
            "/api/admin/groups/",
            Some(json!({"name": "Bad", "permissions": [1, 0, 30, 99]})),
        );
        assert_eq!(
            (r.status, r.json()),
            (
                400,
                // The first unknown id in the order sent, as DRF's
                // `ManyRelatedField` answers.
                json!({"permissions": ["Invalid pk \"0\" - object does not exist."]})
            )
        );
        let e = i
            .operator()
            .create_group(GroupInput {
                name: Some("Bad".into()),
                permissions: Some(vec![29, 30]),
            })
            .expect_err("30 is not a permission");
        assert_eq!(e.code(), ErrorCode::Validation);
        assert_eq!(
            e.fields().messages("permissions"),
            ["Invalid pk \"30\" - object does not exist."]
        );
        assert_eq!(
            i.operator()
                .list_groups(None, Default::default())
                .unwrap()
                .count,
            0,
            "nothing was created"
        );
        // On a user too.
        let r = call_as(
            &i,
            &root,
            "POST",
            "/api/admin/users/",
            Some(
                json!({"username": "lorem", "password": PASSWORD, "last_name": "L",
                "user_permissions": [4, 40], "groups": [7]}),
            ),
        );
        assert_eq!(
            (r.status, r.json()),
            (
                400,
                json!({
                    "user_permissions": ["Invalid pk \"40\" - object does not exist."],
                    "groups": ["Invalid pk \"7\" - object does not exist."]
                })
            )
        );
    }
}

mod escalation {
    use super::*;

    fn manager(i: &Institute) -> (u64, String) {
        use Action::*;
        staff(
            i,
            "manager",
            &[
                perm(View, Model::User),
                perm(Add, Model::User),
                perm(Change, Model::User),
            ],
        )
    }

    #[test]
    fn only_a_superuser_makes_superusers() {
        let (i, _) = institute(SEED_NOW);
        let (me, token) = manager(&i);
        let root = superuser(&i);
        let root_id = i.login("admin", roster_tests::ADMIN_PASSWORD).unwrap().user;
        let users = "/api/admin/users/";
        let body = |name: &str, extra: Value| {
            let mut b = json!({"username": name, "password": PASSWORD, "last_name": "L"});
            b.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            b
        };
        let r = call_as(
            &i,
            &token,
            "POST",
            users,
            Some(body("boss", json!({"is_superuser": true}))),
        );
        assert_403(&r, "create a superuser");
        let query = roster::UserQuery {
            q: Some("boss".into()),
            ..Default::default()
        };
        assert_eq!(
            i.operator().list_users(&query).unwrap().count,
            0,
            "nothing created"
        );
        assert!(i.login("boss", PASSWORD).is_err());
        // Staff, with groups and permissions, is within reach.
        let r = call_as(
            &i,
            &token,
            "POST",
            users,
            Some(body(
                "helper",
                json!({"is_staff": true, "is_active": true, "is_superuser": false, "user_permissions": [1]}),
            )),
        );
        assert_eq!(r.status, 201, "{:?}", r.body);
        let helper = r.json();
        assert_eq!(
            (&helper["is_staff"], &helper["is_superuser"]),
            (&json!(true), &json!(false))
        );
        let helper = helper["id"].as_u64().unwrap();
        // Making an existing user, or oneself, a superuser.
        for id in [helper, me] {
            let r = call_as(
                &i,
                &token,
                "PUT",
                &format!("{users}{id}/"),
                Some(json!({"is_superuser": true})),
            );
            assert_403(&r, "make a superuser");
            assert!(!i.operator().get_user(id).unwrap().is_superuser);
        }
        // Unmaking one.
        let r = call_as(
            &i,
            &token,
            "PUT",
            &format!("{users}{root_id}/"),
            Some(json!({"is_superuser": false})),
        );
        assert_403(&r, "unmake a superuser");
        assert!(i.operator().get_user(root_id).unwrap().is_superuser);
        // The typed API agrees.
        let session = i.session(&token).unwrap();
        let input = NewUser {
            username: Some("boss".into()),
            password: Some(PASSWORD.into()),
            access: AccessInput {
                is_superuser: Some(true),
                ..Default::default()
            },
            ..Default::default()
        };
        let e = session
            .create_user(input, CreateOptions::default())
            .expect_err("403");
        assert_eq!(
            (e.code(), e.message()),
            (ErrorCode::Forbidden, NO_PERMISSION)
        );
        // A superuser may.
        let r = call_as(
            &i,
            &root,
            "PUT",
            &format!("{users}{helper}/"),
            Some(json!({"is_superuser": true})),
        );
        assert_eq!((r.status, &r.json()["is_superuser"]), (200, &json!(true)));
    }
}

mod outbox {
    use super::*;

    fn with_contacts(name: &str, password: Option<&str>) -> NewUser {
        NewUser {
            username: Some(name.into()),
            password: password.map(str::to_string),
            profile: ProfileInput {
                email: Some(format!("{name}@example.com")),
                phone: Some("98765 43210".into()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn a_generated_password_is_sent_once_by_email_and_sms() {
        let (i, _) = institute(SEED_NOW);
        let admin = i.operator();
        let options = CreateOptions {
            auto_generate_password: true,
            ..Default::default()
        };
        let created = admin
            .create_user(with_contacts("lorem", None), options)
            .unwrap();
        let password = created.generated_password.expect("generated");
        let messages = admin.take_outbox().unwrap();
        let channels: Vec<Channel> = messages.iter().map(|m| m.channel).collect();
        assert_eq!(channels, [Channel::Email, Channel::Sms]);
        assert_eq!(messages[0].to, "lorem@example.com");
        assert_eq!(messages[1].to, created.user.phone);
        assert!(messages[1].to.ends_with("9876543210"), "{}", messages[1].to);
        for m in &messages {
            assert_eq!(m.user, created.user.id);
            assert!(
                m.body.contains("lorem") && m.body.contains(&password),
                "{}",
                m.body
            );
            assert_eq!(m.created, roster_tests::at(SEED_NOW));
        }
        assert!(
            i.login("lorem", &password).is_ok(),
            "the password sent works"
        );
        assert_eq!(admin.take_outbox().unwrap(), vec![], "handed out once");
    }

    #[test]
    fn rest_queues_the_password_and_never_answers_it() {
        let (i, _) = institute(SEED_NOW);
        let root = superuser(&i);
        let r = call_as(
            &i,
            &root,
            "POST",
            &format!("{USERS}?auto_generate_password=true"),
            Some(json!({"username": "lorem", "email": "lorem@example.com", "phone": "9876543210"})),
        );
        assert_eq!(r.status, 201, "{:?}", r.body);
        let body = r.body.clone().unwrap_or_default();
        let messages = i.operator().take_outbox().unwrap();
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].body, messages[1].body);
        // The password is the one word of the message that is neither a
        // label nor the username: it signs in, and the answer lacks it.
        let words: Vec<&str> = messages[0]
            .body
            .split_whitespace()
            .filter(|w| *w != "lorem" && !w.ends_with(':'))
            .collect();
        assert_eq!(words.len(), 1, "{}", messages[0].body);
        assert!(i.login("lorem", words[0]).is_ok());
        assert!(
            !body.contains(words[0]) && !body.contains("password"),
            "{body}"
        );
    }

    #[test]
    fn notify_credential_sends_the_given_password_and_nothing_is_sent_otherwise() {
        let (i, _) = institute(SEED_NOW);
        let admin = i.operator();
        let notify = CreateOptions {
            notify_credential: true,
            ..Default::default()
        };
        admin
            .create_user(with_contacts("lorem", Some("given-pass-1")), notify)
            .unwrap();
        let messages = admin.take_outbox().unwrap();
        assert_eq!(messages.len(), 2);
        assert!(messages.iter().all(|m| m.body.contains("given-pass-1")));
        // Through REST.
        let r = call(
            &i,
            "POST",
            &format!("{USERS}?notify_credential=true"),
            Some(json!({"username": "ipsum", "password": "given-pass-2"})),
        );
        assert_eq!(r.status, 201);
        let messages = admin.take_outbox().unwrap();
        assert_eq!(messages.len(), 2);
        assert!(messages.iter().all(|m| m.body.contains("given-pass-2")));
        // Without a flag, nothing: typed, Testpress and seed 003 creates.
        admin
            .create_user(
                NewUser {
                    username: Some("dolor".into()),
                    password: Some("given-pass-3".into()),
                    ..Default::default()
                },
                CreateOptions::default(),
            )
            .unwrap();
        let r = call(
            &i,
            "POST",
            USERS,
            Some(json!({"username": "sit", "password": "given-pass-4"})),
        );
        assert_eq!(r.status, 201);
        let r = call(
            &i,
            "POST",
            "/api/admin/users/",
            Some(json!({"username": "amet", "password": "given-pass-5", "last_name": "A"})),
        );
        assert_eq!(r.status, 201);
        assert_eq!(admin.take_outbox().unwrap(), vec![]);
    }

    #[test]
    fn deleting_a_user_removes_their_queued_messages() {
        let (i, _) = institute(SEED_NOW);
        let admin = i.operator();
        let notify = CreateOptions {
            notify_credential: true,
            ..Default::default()
        };
        let gone = admin
            .create_user(with_contacts("gone", Some("given-pass-1")), notify)
            .unwrap()
            .user
            .id;
        let mut other = with_contacts("stays", Some("given-pass-2"));
        other.profile.phone = Some("91234 56789".into());
        let stays = admin.create_user(other, notify).unwrap().user.id;
        admin.delete_user(gone).unwrap();
        let messages = admin.take_outbox().unwrap();
        assert_eq!(messages.len(), 2);
        assert!(messages.iter().all(|m| m.user == stays));
        assert_eq!(i.check_integrity().unwrap(), Vec::<String>::new());
    }

    #[test]
    fn only_the_operator_takes_the_outbox() {
        let (i, _) = institute(SEED_NOW);
        let options = CreateOptions {
            auto_generate_password: true,
            ..Default::default()
        };
        i.operator()
            .create_user(with_contacts("lorem", None), options)
            .unwrap();
        let root = superuser(&i);
        let e = i.session(&root).unwrap().take_outbox().expect_err("403");
        assert_eq!(e.code(), ErrorCode::Forbidden);
        assert_eq!(i.operator().take_outbox().unwrap().len(), 2, "still queued");
    }
}

mod self_service {
    use super::*;

    #[test]
    fn a_student_reads_their_own_profile() {
        let (i, _) = institute(SEED_NOW);
        let (id, token) = student(&i, "lorem");
        for version in ["v2.5", "v2.2"] {
            let r = call_as(&i, &token, "GET", &format!("/api/{version}/me/"), None);
            assert_eq!(r.status, 200, "{version}");
            let me = r.json();
            assert_eq!(
                (me["id"].as_u64(), me["username"].as_str()),
                (Some(id), Some("lorem"))
            );
            assert!(me.get("password").is_none());
        }
        assert_eq!(i.session(&token).unwrap().me().unwrap().id, id);
        assert_401(
            &send(&i, None, "GET", ME, None),
            NO_CREDENTIALS,
            "anonymous",
        );
        let r = call_as(&i, &token, "DELETE", ME, None);
        assert_eq!(r.status, 405);
    }

    #[test]
    fn put_me_changes_the_profile_and_ignores_everything_else() {
        let (i, _) = institute(SEED_NOW);
        let (id, token) = student(&i, "lorem");
        let group = i
            .operator()
            .create_group(GroupInput {
                name: Some("All".into()),
                permissions: Some((1..=28).collect()),
            })
            .unwrap();
        let r = call_as(
            &i,
            &token,
            "PUT",
            ME,
            Some(json!({
                "first_name": "John", "city": "Chennai", "state": "IN-TN",
                "is_staff": true, "is_superuser": true, "username": "hacker",
                "password": "hijack-pass-1", "groups": [group.id], "user_permissions": [1, 2],
                "is_active": false, "is_blocked": true
            })),
        );
        assert_eq!(r.status, 200, "{:?}", r.body);
        let me = r.json();
        assert_eq!(
            (
                &me["first_name"],
                &me["city"],
                &me["state"],
                &me["username"]
            ),
            (
                &json!("John"),
                &json!("Chennai"),
                &json!("Tamil Nadu"),
                &json!("lorem")
            )
        );
        let view = i.operator().get_user(id).unwrap();
        assert!(!view.is_staff && !view.is_superuser && view.is_active && !view.is_blocked);
        assert!(view.groups.is_empty() && view.user_permissions.is_empty());
        assert!(alive(&i, &token), "the session goes on");
        assert!(
            i.login("lorem", PASSWORD).is_ok(),
            "the password is unchanged"
        );
        login_fails(&i, "lorem", "hijack-pass-1");
        assert_403(&call_as(&i, &token, "GET", USERS, None), "still a student");
        // PATCH is the same; rules still apply.
        let r = call_as(
            &i,
            &token,
            "PATCH",
            ME,
            Some(json!({"last_name": "Appleseed"})),
        );
        assert_eq!((r.status, &r.json()["first_name"]), (200, &json!("John")));
        user(&i, "other", AccessInput::default());
        let r = call_as(
            &i,
            &token,
            "PUT",
            ME,
            Some(json!({"email": "OTHER@example.com"})),
        );
        assert_eq!(
            (r.status, r.json()),
            (
                400,
                json!({"email": ["A user with that email already exists."]})
            )
        );
        let r = call_as(&i, &token, "PUT", ME, Some(json!({"zip": "012345"})));
        assert_eq!(r.status, 400);
        // Read-only fields are ignored whatever their type, as DRF does.
        let odd = json!({"first_name": "Jo", "is_active": "maybe", "username": 5,
            "password": 123, "is_blocked": [1]});
        let r = call_as(&i, &token, "PUT", ME, Some(odd));
        assert_eq!(
            (r.status, &r.json()["first_name"]),
            (200, &json!("Jo")),
            "{:?}",
            r.body
        );
        // The typed API ignores the same fields.
        let session = i.session(&token).unwrap();
        let patch = UserPatch {
            username: Some("hacker".into()),
            access: AccessInput {
                is_superuser: Some(true),
                ..Default::default()
            },
            profile: ProfileInput {
                city: Some("Madurai".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let me = session.update_me(patch).unwrap();
        assert_eq!(
            (me.username.as_str(), me.city.as_str()),
            ("lorem", "Madurai")
        );
        assert!(!me.is_superuser);
    }

    /// A profile update, one's own or a group's, stamps `modified` only
    /// when it changes something.
    #[test]
    fn my_profile_and_a_group_are_stamped_only_when_they_change() {
        let (i, clock) = institute(SEED_NOW);
        let (_, token) = student(&i, "lorem");
        let now = roster_tests::seed_plus_hours;
        let hour = roster_tests::HOUR;
        let session = i.session(&token).unwrap();
        let city = |city: &str| UserPatch {
            profile: ProfileInput {
                city: Some(city.into()),
                ..Default::default()
            },
            ..Default::default()
        };
        clock.advance(hour);
        let moved = session.update_me(city("Madurai")).unwrap();
        assert_eq!(moved.modified, now(1), "a change");
        clock.advance(hour);
        let same = session.update_me(city("Madurai")).unwrap();
        assert_eq!(same.modified, now(1), "the same city again");
        let admin = i.operator();
        let named = |name: &str| GroupInput {
            name: Some(name.into()),
            ..Default::default()
        };
        let group = admin.create_group(named("Readers")).unwrap();
        assert_eq!(group.modified, now(2));
        clock.advance(hour);
        let same = admin.update_group(group.id, named("Readers")).unwrap();
        assert_eq!(same.modified, now(2), "the same name again");
        let renamed = admin.update_group(group.id, named("Writers")).unwrap();
        assert_eq!(renamed.modified, now(3), "a new name");
    }

    /// A new password of one's own is stamped (`modified`, and
    /// `password_changed`, which the full export alone shows), and raises
    /// the credential generation: another session's rows put back into the
    /// file after the change (a copy of the file taken before) stay dead.
    #[test]
    fn my_new_password_is_stamped_and_no_older_session_comes_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("institute.redb");
        let (config, clock) = config(SEED_NOW);
        let open = || Institute::open(&path, config.clone()).expect("open");
        let (id, mine, other) = {
            let i = open();
            let (id, mine) = student(&i, "lorem");
            (id, mine, sign_in(&i, "lorem"))
        };
        let rows = |table| roster::store::testing::raw_rows(&path, table).expect("raw read");
        let before = [
            ("sessions", rows("sessions")),
            ("user_sessions", rows("user_sessions")),
        ];
        clock.advance(roster_tests::HOUR);
        let changed_at = roster_tests::seed_plus_hours(1);
        {
            let i = open();
            let me = i.session(&mine).unwrap();
            me.change_my_password(PASSWORD, "a-new-pass-2").unwrap();
            assert_eq!(me.me().unwrap().modified, changed_at);
            let record = roster_tests::exported_user(&i, id);
            assert_eq!(record["password_changed"], changed_at.timestamp_micros());
            assert!(!alive(&i, &other), "ended");
        }
        // The rows the change removed (the changing session's own was
        // restamped and stays) come back as they were.
        for (table, old_rows) in before {
            let now: Vec<Vec<u8>> = rows(table).into_iter().map(|(k, _)| k).collect();
            for (key, value) in old_rows.into_iter().filter(|(k, _)| !now.contains(k)) {
                roster::store::testing::raw_put(&path, table, &key, &value).expect("raw write");
            }
        }
        let i = open();
        assert!(alive(&i, &mine), "the changing session goes on");
        assert!(
            !alive(&i, &other),
            "put back, still of the older generation"
        );
    }

    #[test]
    fn my_password_checks_the_old_and_the_new() {
        let (i, _) = institute(SEED_NOW);
        let (_, token) = student(&i, "lorem");
        let path = "/api/v2.5/me/password/";
        let cases = [
            (
                json!({"old_password": "wrong-password", "new_password": "new-secret-2"}),
                json!({"old_password": ["Your old password was entered incorrectly."]}),
            ),
            (
                json!({}),
                json!({"old_password": ["This field is required."], "new_password": ["This field is required."]}),
            ),
            (
                json!({"old_password": 5, "new_password": "new-secret-2"}),
                json!({"old_password": ["Not a valid string."]}),
            ),
        ];
        for (body, errors) in cases {
            let r = call_as(&i, &token, "POST", path, Some(body.clone()));
            assert_eq!((r.status, r.json()), (400, errors), "{body}");
        }
        for bad in ["123456789", "abc", "lorem"] {
            let r = call_as(
                &i,
                &token,
                "POST",
                path,
                Some(json!({"old_password": PASSWORD, "new_password": bad})),
            );
            let body = r.json();
            assert_eq!(r.status, 400, "{bad}");
            let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["new_password"], "{bad}: {body}");
        }
        let r = call_as(
            &i,
            &token,
            "POST",
            path,
            Some(json!({"old_password": "wrong-password", "new_password": "123"})),
        );
        let body = r.json();
        let keys: BTreeSet<&String> = body.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 2, "both problems at once: {body}");
        assert!(i.login("lorem", PASSWORD).is_ok(), "nothing changed yet");
        let r = call_as(
            &i,
            &token,
            "POST",
            "/api/v2.2/me/password/",
            Some(json!({"old_password": PASSWORD, "new_password": "new-secret-2"})),
        );
        assert_eq!(
            (r.status, r.json()),
            (200, json!({"detail": "Password changed."}))
        );
        assert!(i.login("lorem", "new-secret-2").is_ok());
        let r = send(&i, None, "POST", path, Some(json!({})));
        assert_401(&r, NO_CREDENTIALS, "anonymous");
    }
}

/// Behaviours chosen where the documents are silent (see the closing note of
/// Step 2), each pinned here.
mod choices {
    use super::*;

    /// T5: "the user's other sessions end" — a user who changes their own
    /// password through the admin API keeps the session doing it.
    #[test]
    fn changing_ones_own_password_keeps_this_session() {
        let (i, _) = institute(SEED_NOW);
        let (me, token) = staff(&i, "keeper", &[perm(Action::Change, Model::User)]);
        let other = sign_in(&i, "keeper");
        let r = call_as(
            &i,
            &token,
            "PUT",
            &format!("/api/admin/users/{me}/"),
            Some(json!({"password": "brand-new-9"})),
        );
        assert_ok(&r, 200, "own password change");
        assert!(alive(&i, &token), "the session that changed it goes on");
        assert!(!alive(&i, &other), "the others end");
        i.login("keeper", "brand-new-9")
            .expect("the new password signs in");
    }

    /// A2 extended: guesses of the old password on `me/password` count
    /// toward the lock-out, so a stolen session cannot guess without end.
    #[test]
    fn old_password_guesses_count_toward_the_lock_out() {
        let (i, clock) = institute(SEED_NOW);
        let (_, token) = student(&i, "guessed");
        for _ in 0..5 {
            let r = call_as(
                &i,
                &token,
                "POST",
                "/api/v2.5/me/password/",
                Some(json!({"old_password": "nope-nope", "new_password": "brand-new-9"})),
            );
            assert_eq!(r.status, 400);
        }
        let r = call_as(
            &i,
            &token,
            "POST",
            "/api/v2.5/me/password/",
            Some(json!({"old_password": PASSWORD, "new_password": "brand-new-9"})),
        );
        assert_eq!(
            r.status, 400,
            "locked: even the right old password is refused"
        );
        assert!(
            r.json()["old_password"][0]
                .as_str()
                .is_some_and(|m| m.contains("Too many"))
        );
        assert_eq!(
            i.login("guessed", PASSWORD).unwrap_err().code(),
            ErrorCode::Unauthenticated,
            "sign-in is locked too"
        );
        assert!(alive(&i, &token), "a lock-out does not end open sessions");
        clock.advance(chrono::Duration::minutes(15));
        let r = call_as(
            &i,
            &token,
            "POST",
            "/api/v2.5/me/password/",
            Some(json!({"old_password": PASSWORD, "new_password": "brand-new-9"})),
        );
        assert_ok(&r, 200, "after the lock-out");
    }

    /// The lock-out is decided again in the write that changes the
    /// password: a right guess that raced wrong ones (checked before they
    /// locked the account) changes nothing once the account is locked.
    /// (Decided only before, a stolen session sending many guesses at once
    /// had as many as the hashing queue holds.) A password changed
    /// meanwhile ended the session, which then changes nothing either.
    #[test]
    fn a_password_change_is_decided_again_in_its_write() {
        let (i, other, backend) = roster_tests::with_meanwhile(SEED_NOW);
        user(&i, "guessed", AccessInput::default());
        let me = i.session(&sign_in(&i, "guessed")).expect("session");
        // Wrong guesses of others lock the account meanwhile.
        backend.arm(move || {
            for _ in 0..5 {
                other.login("guessed", "nope-nope").unwrap_err();
            }
        });
        let err = me.change_my_password(PASSWORD, "brand-new-9").unwrap_err();
        assert!(backend.ran());
        assert!(err.to_string().contains("Too many"), "{err}");
        assert!(i.login("guessed", "brand-new-9").is_err(), "not changed");

        // The password changed meanwhile (by an administrator).
        let (i, other, backend) = roster_tests::with_meanwhile(SEED_NOW);
        let id = user(&i, "reset", AccessInput::default());
        let me = i.session(&sign_in(&i, "reset")).expect("session");
        backend.arm(move || {
            let patch = UserPatch {
                password: Some("set-by-admin-3".into()),
                ..Default::default()
            };
            other.operator().update_user(id, patch).expect("reset");
        });
        let err = me.change_my_password(PASSWORD, "brand-new-9").unwrap_err();
        assert_eq!(err.code(), ErrorCode::Unauthenticated, "{err}");
        assert!(backend.ran());
        i.login("reset", "set-by-admin-3")
            .expect("the administrator's stands");
    }
}

/// Bugs found while writing this file, fixed; kept as regression tests.
mod core_bugs {
    use super::*;

    /// D4: updating a user is `change_user`. `Admin::update_user` reads the
    /// user through `get_user`, which checks `view_user` too.
    #[test]
    fn updating_a_user_needs_only_change_user() {
        let (i, _) = institute(SEED_NOW);
        let target = user(&i, "target", AccessInput::default());
        let (_, token) = staff(&i, "changer", &[perm(Action::Change, Model::User)]);
        for path in [
            format!("{USERS}{target}/"),
            format!("/api/admin/users/{target}/"),
        ] {
            let r = call_as(&i, &token, "PUT", &path, Some(json!({"first_name": "X"})));
            assert_ok(&r, 200, &path);
        }
        let patch = UserPatch {
            is_active: Some(true),
            ..Default::default()
        };
        assert!(
            i.session(&token)
                .unwrap()
                .update_user(target, patch)
                .is_ok()
        );
    }

    /// A1: a user signs in with their email. A username equal to that email
    /// (usernames may hold `@` and `.`, and nothing checks usernames against
    /// emails) is looked up first, so the email's owner can no longer sign
    /// in by email, and their attempts count towards the other account's
    /// lock-out.
    #[test]
    fn a_username_cannot_capture_another_users_email_sign_in() {
        let (i, _) = institute(SEED_NOW);
        let alice = user(&i, "alice", AccessInput::default());
        // Refusing this username would be one fix; accepting it and still
        // signing alice in by her email another.
        let _ = i.operator().create_user(
            NewUser {
                username: Some("Alice@example.com".into()),
                password: Some("other-pass-1".into()),
                ..Default::default()
            },
            CreateOptions::default(),
        );
        assert_eq!(
            i.login("alice@example.com", PASSWORD).map(|l| l.user).ok(),
            Some(alice)
        );
    }

    /// `apply_access` refuses non-superusers making superusers "since anyone
    /// else with change_user could otherwise raise themselves to every
    /// permission", yet the same staff member may set a superuser's
    /// password and sign in as it.
    #[test]
    fn a_non_superuser_cannot_take_over_a_superuser() {
        let (i, _) = institute(SEED_NOW);
        superuser(&i);
        let root = i.login("admin", roster_tests::ADMIN_PASSWORD).unwrap().user;
        let (_, token) = staff(
            &i,
            "manager",
            &[
                perm(Action::View, Model::User),
                perm(Action::Change, Model::User),
            ],
        );
        let r = call_as(
            &i,
            &token,
            "PUT",
            &format!("/api/admin/users/{root}/"),
            Some(json!({"password": "stolen-pass-1"})),
        );
        assert_403(&r, "a superuser's password");
        assert!(i.login("admin", "stolen-pass-1").is_err());
    }

    /// The same escalation by permissions: a staff member with
    /// `change_user` grants itself all 28 permissions (or a group holding
    /// them), which is every power but making superusers.
    #[test]
    fn a_non_superuser_cannot_grant_permissions_it_does_not_hold() {
        let (i, _) = institute(SEED_NOW);
        let all = i
            .operator()
            .create_group(GroupInput {
                name: Some("All".into()),
                permissions: Some((1..=28).collect()),
            })
            .unwrap();
        let (me, token) = staff(
            &i,
            "manager",
            &[
                perm(Action::View, Model::User),
                perm(Action::Change, Model::User),
            ],
        );
        let path = format!("/api/admin/users/{me}/");
        let all_ids: Vec<u64> = (1..=28).collect();
        let r = call_as(
            &i,
            &token,
            "PUT",
            &path,
            Some(json!({"user_permissions": all_ids})),
        );
        assert_403(&r, "granting itself every permission");
        let r = call_as(&i, &token, "PUT", &path, Some(json!({"groups": [all.id]})));
        assert_403(&r, "joining a group of every permission");
        assert!(!i.operator().has_perm(me, "roster.delete_group").unwrap());
    }

    /// D4: every operation checks the caller's live session. A handle whose
    /// session has ended may still end all of its user's other sessions:
    /// `logout_everywhere` skips the check when the caller is the target.
    #[test]
    fn a_handle_whose_session_ended_can_do_nothing() {
        let (i, _) = institute(SEED_NOW);
        let (id, first) = student(&i, "lorem");
        let second = sign_in(&i, "lorem");
        let handle = i.session(&first).unwrap();
        i.logout(&first).unwrap();
        let e = handle.logout_everywhere(id).expect_err("the session ended");
        assert_eq!(e.code(), ErrorCode::Unauthenticated);
        assert!(alive(&i, &second));
    }
}

/// A write answers from its own transaction: linking batches to a course
/// needs `change_course` alone, and its answer (the course's batches) is
/// never a second call that could be refused after the links were made.
#[test]
fn linking_batches_with_change_course_alone_answers_with_the_links_it_made() {
    let (i, _clock) = institute(SEED_NOW);
    let o = i.operator();
    let batch = o
        .create_batch(roster::BatchInput {
            name: Some("B1".into()),
        })
        .unwrap();
    let course = o
        .create_course(roster::CourseInput {
            title: Some("Maths".into()),
            ..Default::default()
        })
        .unwrap();
    let (_, token) = staff(&i, "linker", &[perm(Action::Change, Model::Course)]);
    let linker = i.session(&token).unwrap();
    let page = linker.add_course_batches(course.id, &[batch.id]).unwrap();
    let ids: Vec<u64> = page.items.iter().map(|b| b.id).collect();
    assert_eq!(ids, [batch.id]);
    // Without change_course: refused, nothing linked.
    let (_, token) = staff(&i, "viewer", &[perm(Action::View, Model::Course)]);
    let viewer = i.session(&token).unwrap();
    let other = o
        .create_batch(roster::BatchInput {
            name: Some("B2".into()),
        })
        .unwrap();
    assert!(viewer.add_course_batches(course.id, &[other.id]).is_err());
    let linked = o.course_batches(course.id, Default::default()).unwrap();
    assert_eq!(linked.items.len(), 1);
}

/// Changing a model lets a caller view its records, as in Django's admin:
/// an update answers with the changed record, so `change_user` without
/// `view_user` would otherwise read what the view permission guards through
/// updates that change nothing. `has_perm` stays literal (D3), and adding
/// or deleting grants no view.
#[test]
fn changing_a_model_lets_its_records_be_viewed_and_has_perm_stays_literal() {
    let (i, _) = institute(SEED_NOW);
    let target = user(&i, "target", AccessInput::default());
    let (changer, token) = staff(&i, "changer", &[perm(Action::Change, Model::User)]);
    let path = format!("{USERS}{target}/");
    let get = call_as(&i, &token, "GET", &path, None);
    assert_eq!(get.status, 200, "{:?}", get.body);
    let patch = call_as(&i, &token, "PATCH", &path, Some(json!({})));
    assert_eq!(patch.status, 200, "{:?}", patch.body);
    assert_eq!(patch.json(), get.json());
    assert_eq!(call_as(&i, &token, "GET", USERS, None).status, 200);
    let dj = call_as(
        &i,
        &token,
        "GET",
        &format!("/api/admin/users/{target}/"),
        None,
    );
    assert_eq!(dj.status, 200, "{:?}", dj.body);
    let o = i.operator();
    assert!(!o.has_perm(changer, "roster.view_user").unwrap());
    assert!(o.has_perm(changer, "roster.change_user").unwrap());
    // The same for every model: change_batch reads batches.
    let batch = o
        .create_batch(roster::BatchInput {
            name: Some("B1".into()),
        })
        .unwrap();
    let (_, token) = staff(&i, "batcher", &[perm(Action::Change, Model::Batch)]);
    let batches = i.session(&token).unwrap();
    assert_eq!(batches.get_batch(batch.id).unwrap().id, batch.id);
    assert_eq!(
        batches.get_user(target).unwrap_err().code(),
        ErrorCode::Forbidden
    );
    // Adding or deleting users is not viewing them.
    for (name, action) in [("adder", Action::Add), ("deleter", Action::Delete)] {
        let (_, token) = staff(&i, name, &[perm(action, Model::User)]);
        let r = call_as(&i, &token, "GET", &path, None);
        assert_eq!(r.status, 403, "{name}: {:?}", r.body);
    }
}

/// D4 is decided in the write's own transaction: an administrator whose
/// staff status and permissions are taken away while its request hashes a
/// new password (the slow part, done before the transaction) does not
/// finish the write, whichever commits first.
#[test]
fn a_revoked_administrator_does_not_finish_a_write_begun_before() {
    let (mut config, _) = config(SEED_NOW);
    // A slow hash (about a second) leaves the revocation room to land
    // between the early check and the write.
    config.argon2 = Argon2Params {
        m_kib: 64 * 1024,
        t: 8,
        p: 1,
    };
    let i = roster_tests::store(config);
    let (admin_id, token) = staff(
        &i,
        "admin1",
        &[
            perm(Action::Change, Model::User),
            perm(Action::View, Model::User),
        ],
    );
    let target = user(&i, "target", AccessInput::default());
    let session = i.session(&token).unwrap();
    let worker = std::thread::spawn(move || {
        session.update_user(
            target,
            UserPatch {
                password: Some("brand-new-pass-1".into()),
                ..Default::default()
            },
        )
    });
    std::thread::sleep(std::time::Duration::from_millis(100));
    i.operator()
        .update_user(
            admin_id,
            UserPatch {
                access: AccessInput {
                    is_staff: Some(false),
                    user_permissions: Some(vec![]),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .unwrap();
    let outcome = worker.join().unwrap();
    assert_eq!(
        outcome.map(|u| u.id).unwrap_err().code(),
        ErrorCode::Forbidden
    );
    assert!(i.login("target", "brand-new-pass-1").is_err());
    assert!(i.login("target", PASSWORD).is_ok());
}

/// Every failed sign-in commits one durable write, whatever it names: an
/// unknown name, a counted failure, a locked account, lock-out switched
/// off. A failure that committed nothing (no sync) would answer sooner and
/// tell which accounts exist (A2). Counted as records of the store's
/// journal (magic `RJNL`), not timed.
#[test]
fn every_failed_sign_in_commits_the_same_durable_write() {
    let dir = tempfile::tempdir().expect("temp dir");
    for max_failures in [5, 0] {
        let path = dir.path().join(format!("lockout-{max_failures}.redb"));
        let (mut config, _clock) = config(SEED_NOW);
        config.lockout = LockoutPolicy {
            max_failures,
            ..Default::default()
        };
        let i = Institute::open(&path, config).expect("open");
        user(&i, "ada", AccessInput::default());
        user(&i, "bob", AccessInput::default());
        let journal = {
            let mut name = path.clone().into_os_string();
            name.push("-journal");
            std::path::PathBuf::from(name)
        };
        let records = || {
            let bytes = std::fs::read(&journal).unwrap_or_default();
            bytes.windows(4).filter(|w| *w == b"RJNL").count()
        };
        let written = |name: &str| {
            let before = records();
            let e = i.login(name, "wrong-pass-x").unwrap_err();
            assert_eq!(e.code(), ErrorCode::Unauthenticated);
            records() - before
        };
        for _ in 0..5 {
            assert_eq!(written("ada"), 1, "ada, lock-out {max_failures}");
        }
        for name in ["nobody", "bob", "ada", "nobody@example.com", "BOB"] {
            assert_eq!(written(name), 1, "{name}, lock-out {max_failures}");
        }
    }
}
