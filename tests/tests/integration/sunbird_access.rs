//! Access rules on the Sunbird surface (SPEC A1, A3, A7, D4 and S2, S5,
//! S10-S13): a weaker administrator cannot take over a stronger account
//! through the Sunbird paths; callers without the permission an operation
//! needs are refused in the Sunbird envelope (`UOS_<OP>0071`) and change
//! nothing; signup needs a session unless self-signup is configured;
//! session tokens are not stored as such; no Sunbird answer carries a
//! password hash.

use roster::rest::{Request, Response};
use roster::{
    AccessInput, Action, GroupInput, Institute, Model, ProfileInput, UserPatch, UserView,
};
use roster_tests::{SEED_NOW, institute};
use serde_json::{Value, json};

use super::auth::{PASSWORD, perm, sign_in, user};
use super::escalation::{staff_access, strong_perms, view, weak_perms};

/// The message of every `UOS_<OP>0071`.
const FORBIDDEN: &str = "You are forbidden from accessing specified resource.";
/// The password of the users created through the Sunbird create path.
const SB_PASSWORD: &str = "Pass@1word";
/// Every part a read can be asked for.
const ALL_PARTS: &str =
    "organisations,roles,locations,declarations,externalIds,topic,completeness,missingFields";

// ---------------------------------------------------------------------
// Requests and envelopes (the minimal pieces of sunbird.rs's helpers).
// ---------------------------------------------------------------------

/// One Sunbird request as `token`, sent as the seed sends it (the caller's
/// token in `x-authenticated-user-token`, the gateway's key in
/// `Authorization`); `None`: no credentials at all.
fn send(
    i: &Institute,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Response {
    let mut request = Request::new(method, path).with_header("Content-Type", "application/json");
    if let Some(token) = token {
        request = request
            .with_header("Authorization", "Bearer the-gateway-key")
            .with_header("x-authenticated-user-token", token);
    }
    if let Some(body) = body {
        request = request.with_body(body.to_string());
    }
    roster::rest::handle(i, request)
}

/// Asserts `r` is a Sunbird failure envelope of `status` and `err`; its
/// message.
#[track_caller]
fn failure(r: &Response, status: u16, err: &str, what: &str) -> String {
    assert_eq!(r.status, status, "{what}: {:?}", r.body);
    assert_eq!(r.json()["params"]["err"], err, "{what}: {:?}", r.body);
    super::sunbird::failure(r, status, err)
}

/// Asserts `r` is the 403 of operation code `op` (`UOS_<op>0071`).
#[track_caller]
fn forbidden(r: &Response, op: &str, what: &str) {
    let message = failure(r, 403, &format!("UOS_{op}0071"), what);
    assert_eq!(message, FORBIDDEN, "{what}");
    assert_eq!(r.json()["responseCode"], "FORBIDDEN", "{what}");
}

/// Asserts `r` is a success envelope; its `result`.
#[track_caller]
fn ok(r: &Response, what: &str) -> Value {
    assert_eq!(r.status, 200, "{what}: {:?}", r.body);
    let v = r.json();
    assert_eq!(v["responseCode"], "OK", "{what}: {v}");
    assert_eq!(v["params"]["status"], "success", "{what}: {v}");
    v["result"].clone()
}

/// Creates a user through `/api/user/v1/create` as `admin` (password
/// [`SB_PASSWORD`]); its `userId`.
fn sb_user(i: &Institute, admin: &str, first: &str, email: &str) -> String {
    let body = json!({"request": {"firstName": first, "email": email, "password": SB_PASSWORD}});
    let r = send(i, Some(admin), "POST", "/api/user/v1/create", Some(body));
    ok(&r, "create")["userId"]
        .as_str()
        .expect("a userId")
        .to_string()
}

/// Creates a tenant organisation as `admin`; its id.
fn org(i: &Institute, admin: &str, channel: &str) -> u64 {
    let body = json!({"request": {"orgName": channel, "organisationType": "school",
        "channel": channel, "isTenant": true}});
    let r = send(i, Some(admin), "POST", "/api/org/v1/create", Some(body));
    ok(&r, "org create")["organisationId"]
        .as_u64()
        .expect("an id")
}

/// The Sunbird record of `user_id` as a superuser reads it, every part
/// asked for (`None` when the read is refused, e.g. a blocked user).
fn record(i: &Institute, admin: &str, user_id: &str) -> Option<Value> {
    let path = format!("/api/user/v1/read/{user_id}?fields={ALL_PARTS}");
    let r = send(i, Some(admin), "GET", &path, None);
    (r.status == 200).then(|| r.json()["result"]["response"].clone())
}

fn uuid(i: &Institute, id: u64) -> String {
    view(i, id).uuid
}

/// A user's memberships: (batch name, expiry).
fn memberships(i: &Institute, id: u64) -> Vec<(String, Option<String>)> {
    let all = roster::PageRequest {
        page: 1,
        per_page: Some(100),
    };
    i.operator()
        .user_subscriptions(id, all)
        .expect("subscriptions")
        .items
        .into_iter()
        .map(|s| (s.batch.name, s.expires.map(|d| d.to_string())))
        .collect()
}

/// A staff member holding exactly `permissions`, signed in: (id, token).
fn staff(i: &Institute, name: &str, permissions: &[u64]) -> (u64, String) {
    let id = user(i, name, staff_access(permissions));
    (id, sign_in(i, name))
}

// ---------------------------------------------------------------------
// 1. SPEC A7 on the Sunbird surface (escalation.rs's weak/strong world).
// ---------------------------------------------------------------------

/// A weaker administrator, stronger targets and weaker or equal ones.
struct World {
    i: Institute,
    /// A superuser's token (set-up and reads).
    admin: String,
    /// Staff holding view/change/delete user, signed in.
    weak: String,
    /// Staff holding the weaker set and `delete_batch` directly.
    strong: u64,
    /// Staff holding the weaker set directly and `delete_batch` through a
    /// group.
    grouped: u64,
    /// A superuser.
    root: u64,
    /// Staff holding exactly what the weaker administrator holds.
    peer: u64,
    /// No permission at all.
    student: u64,
}

/// Every user of the world has a phone and a first name besides the email
/// `name@example.com` and the password [`PASSWORD`].
fn world() -> World {
    let (i, _) = institute(SEED_NOW);
    let admin = roster_tests::superuser(&i);
    let op = i.operator();
    let deleters = op
        .create_group(GroupInput {
            name: Some("Deleters".into()),
            permissions: Some(vec![perm(Action::Delete, Model::Batch)]),
        })
        .expect("group")
        .id;
    user(&i, "weak", staff_access(&weak_perms()));
    let strong = user(&i, "strong", staff_access(&strong_perms()));
    let grouped = user(
        &i,
        "grouped",
        AccessInput {
            groups: Some(vec![deleters]),
            ..staff_access(&weak_perms())
        },
    );
    let root = user(
        &i,
        "root",
        AccessInput {
            is_superuser: Some(true),
            is_staff: Some(true),
            ..Default::default()
        },
    );
    let peer = user(&i, "peer", staff_access(&weak_perms()));
    let student = user(&i, "student", AccessInput::default());
    for (n, (id, first)) in [
        (strong, "Strong"),
        (grouped, "Grouped"),
        (root, "Root"),
        (peer, "Peer"),
        (student, "Student"),
    ]
    .into_iter()
    .enumerate()
    {
        let patch = UserPatch {
            profile: ProfileInput {
                first_name: Some(first.into()),
                phone: Some(format!("98765000{n:02}")),
                ..Default::default()
            },
            ..Default::default()
        };
        op.update_user(id, patch).expect("profile");
    }
    let weak = sign_in(&i, "weak");
    World {
        i,
        admin,
        weak,
        strong,
        grouped,
        root,
        peer,
        student,
    }
}

impl World {
    fn send(&self, token: &str, method: &str, path: &str, body: Value) -> Response {
        send(&self.i, Some(token), method, path, Some(body))
    }

    /// What "unchanged" compares: the shared record and the Sunbird one.
    fn state(&self, id: u64) -> (UserView, Option<Value>) {
        (
            view(&self.i, id),
            record(&self.i, &self.admin, &uuid(&self.i, id)),
        )
    }

    /// The stronger targets: (id, username).
    fn stronger(&self) -> [(u64, &'static str); 3] {
        [
            (self.strong, "strong"),
            (self.grouped, "grouped"),
            (self.root, "root"),
        ]
    }
}

/// Block and unblock of a stronger account by a weaker administrator: 403
/// before anything about the target is told (not "already active"), and
/// the target goes on: not blocked, its session live, still signing in.
#[test]
fn a_weaker_administrator_cannot_block_or_unblock_a_stronger_account() {
    let w = world();
    for (target, name) in w.stronger() {
        let session = sign_in(&w.i, name);
        let before = w.state(target);
        let body = json!({"request": {"userId": uuid(&w.i, target)}});
        let r = w.send(&w.weak, "POST", "/api/user/v1/block", body.clone());
        forbidden(&r, "USRBLOK", &format!("block {name}"));
        let r = w.send(&w.weak, "POST", "/api/user/v1/unblock", body);
        forbidden(&r, "USRUNBLOK", &format!("unblock {name}"));
        assert_eq!(w.state(target), before, "{name} unchanged");
        assert!(!view(&w.i, target).is_blocked, "{name} not blocked");
        assert!(w.i.session(&session).is_ok(), "{name}'s session goes on");
        assert!(w.i.login(name, PASSWORD).is_ok(), "{name} still signs in");
    }
    // A stronger account an administrator blocked stays blocked.
    let body = json!({"request": {"userId": uuid(&w.i, w.grouped)}});
    ok(
        &w.send(&w.admin, "POST", "/api/user/v1/block", body.clone()),
        "block by a superuser",
    );
    let r = w.send(&w.weak, "POST", "/api/user/v1/unblock", body.clone());
    forbidden(&r, "USRUNBLOK", "unblock of a blocked stronger account");
    let r = w.send(&w.weak, "POST", "/api/user/v1/block", body.clone());
    forbidden(&r, "USRBLOK", "block of a blocked stronger account");
    assert!(view(&w.i, w.grouped).is_blocked);
    assert!(w.i.login("grouped", PASSWORD).is_err(), "still blocked");
    ok(
        &w.send(&w.admin, "POST", "/api/user/v1/unblock", body),
        "unblock by a superuser",
    );
    // The weaker administrator may block an equal: the 403s above are A7's.
    let peer_session = sign_in(&w.i, "peer");
    let body = json!({"request": {"userId": uuid(&w.i, w.peer)}});
    ok(
        &w.send(&w.weak, "POST", "/api/user/v1/block", body.clone()),
        "block of an equal",
    );
    assert!(
        w.i.session(&peer_session).is_err(),
        "an equal's sessions end"
    );
    ok(
        &w.send(&w.weak, "POST", "/api/user/v1/unblock", body),
        "unblock of an equal",
    );
    assert_eq!(w.i.check_integrity().unwrap(), Vec::<String>::new());
}

/// Sunbird update (v1, v2, v3) of a stronger account's email, phone or
/// password by a weaker administrator, alone or mixed with a harmless
/// field, addressed by `userId` or `id`: 403, and nothing changes.
#[test]
fn a_weaker_administrator_cannot_change_a_stronger_accounts_email_phone_or_password() {
    let w = world();
    let changes = [
        json!({"email": "attacker@example.com"}),
        json!({"phone": "9000000001"}),
        json!({"password": "Taken-over-9"}),
        json!({"firstName": "Mallory", "email": "attacker@example.com"}),
        json!({"phone": "9000000001", "phoneVerified": true}),
        json!({"email": "attacker@example.com", "password": "Taken-over-9"}),
    ];
    for (target, name) in w.stronger() {
        let session = sign_in(&w.i, name);
        let before = w.state(target);
        for version in ["v1", "v2", "v3"] {
            let path = format!("/api/user/{version}/update");
            for change in &changes {
                for key in ["userId", "id"] {
                    let mut request = change.clone();
                    request[key] = json!(uuid(&w.i, target));
                    let body = json!({ "request": request });
                    let r = w.send(&w.weak, "PATCH", &path, body.clone());
                    forbidden(&r, "USRUPD", &format!("PATCH {path} {body} ({name})"));
                }
            }
        }
        assert_eq!(w.state(target), before, "{name} unchanged");
        assert!(w.i.session(&session).is_ok(), "{name}'s session goes on");
        let email = format!("{name}@example.com");
        assert_eq!(
            w.i.login(&email, PASSWORD).map(|l| l.user).ok(),
            Some(target)
        );
        assert!(w.i.login(name, "Taken-over-9").is_err(), "{name}");
    }
    assert!(w.i.login("attacker@example.com", PASSWORD).is_err());
    // The same change of an equal goes through: the 403s above are A7's.
    let body = json!({"request": {"userId": uuid(&w.i, w.peer), "email": "peer2@example.com"}});
    ok(
        &w.send(&w.weak, "PATCH", "/api/user/v1/update", body),
        "update of an equal",
    );
    assert_eq!(view(&w.i, w.peer).email, "peer2@example.com");
}

/// Role assignment (v1, v2) and declarations (S10, S13) for a stronger
/// account by a weaker administrator: 403, and nothing changes. The same for
/// an equal goes through.
#[test]
fn a_weaker_administrator_cannot_change_a_stronger_accounts_roles_or_declarations() {
    let w = world();
    let tenant = org(&w.i, &w.admin, "springfield");
    let v1 = |user_id: &str| json!({"request": {"userId": user_id, "organisationId": tenant, "roles": ["ORG_ADMIN"]}});
    let v2 = |user_id: &str| {
        json!({"request": {"userId": user_id, "roles": [
            {"role": "ORG_ADMIN", "operation": "add", "scope": [{"organisationId": tenant}]}]}})
    };
    let declare = |user_id: &str| {
        json!({"request": {"declarations": [
            declaration("add", user_id, "teacher", "mallory@example.com")]}})
    };
    for (target, name) in w.stronger() {
        let before = w.state(target);
        let id = uuid(&w.i, target);
        for (path, body) in [
            ("/api/user/v1/role/assign", v1(&id)),
            ("/api/user/v2/role/assign", v2(&id)),
        ] {
            let r = w.send(&w.weak, "POST", path, body);
            forbidden(&r, "ROLUPD", &format!("POST {path} ({name})"));
        }
        let r = w.send(&w.weak, "PATCH", "/api/user/v1/declarations", declare(&id));
        forbidden(&r, "UDECLUPD", name);
        assert_eq!(w.state(target), before, "{name} unchanged");
        assert_eq!(declarations_of(&w.i, &w.admin, &id), json!([]), "{name}");
    }
    // An equal: the 403s above are A7's.
    let peer = uuid(&w.i, w.peer);
    let r = w.send(&w.weak, "POST", "/api/user/v1/role/assign", v1(&peer));
    ok(&r, "roles of an equal");
    let r = w.send(
        &w.weak,
        "PATCH",
        "/api/user/v1/declarations",
        declare(&peer),
    );
    ok(&r, "a declaration for an equal");
    let declared = declarations_of(&w.i, &w.admin, &peer);
    assert_eq!(declared.as_array().map(Vec::len), Some(1), "{declared}");
}

/// SPEC 7: the permission is checked before the target is validated, so a
/// refused caller learns nothing. An identifier another user holds, sent
/// for a stronger account, must be the same 403 as a free one, not
/// "already exists".
#[test]
fn a_weaker_administrators_taken_identifier_for_a_stronger_account_is_a_403_not_a_conflict() {
    let w = world();
    let before = w.state(w.strong);
    let peer_phone = view(&w.i, w.peer).phone;
    // The Testpress surface answers so (escalation.rs); same rule on every
    // surface (A7).
    let path = format!("/api/v2.5/admin/users/{}/", w.strong);
    for body in [
        json!({"email": "peer@example.com"}),
        json!({"phone": peer_phone}),
    ] {
        let r = roster_tests::call_as(&w.i, &w.weak, "PATCH", &path, Some(body.clone()));
        assert_eq!(r.status, 403, "PATCH {path} {body}: {:?}", r.body);
    }
    for version in ["v1", "v2", "v3"] {
        let path = format!("/api/user/{version}/update");
        for change in [
            json!({"email": "peer@example.com"}),
            json!({"phone": peer_phone}),
        ] {
            let mut request = change;
            request["userId"] = json!(uuid(&w.i, w.strong));
            let body = json!({ "request": request });
            let r = w.send(&w.weak, "PATCH", &path, body.clone());
            forbidden(&r, "USRUPD", &format!("PATCH {path} {body}"));
        }
    }
    assert_eq!(w.state(w.strong), before);
}

/// A user name cannot be changed through a Sunbird update by anyone; a
/// weaker administrator sending one for a stronger account gets the
/// answer a superuser gets, and the account keeps its name.
#[test]
fn a_user_name_change_of_a_stronger_account_is_refused_and_changes_nothing() {
    let w = world();
    for (target, name) in w.stronger() {
        let before = w.state(target);
        for version in ["v1", "v2", "v3"] {
            let path = format!("/api/user/{version}/update");
            let body = json!({"request": {"userId": uuid(&w.i, target), "userName": "renamed"}});
            // Refused for anyone: no caller may rename through this path.
            let as_admin = w.send(&w.admin, "PATCH", &path, body.clone());
            let m = failure(&as_admin, 400, "UOS_USRUPD0021", &format!("{path} as root"));
            assert_eq!(m, "Invalid parameter userName in request.");
            // The weaker administrator: that same answer, or A7's 403.
            let r = w.send(&w.weak, "PATCH", &path, body.clone());
            let what = format!("PATCH {path} {body} ({name})");
            match r.status {
                403 => forbidden(&r, "USRUPD", &what),
                _ => assert_eq!(failure(&r, 400, "UOS_USRUPD0021", &what), m),
            }
        }
        assert_eq!(w.state(target), before, "{name} unchanged");
        assert_eq!(w.i.login(name, PASSWORD).map(|l| l.user).ok(), Some(target));
        assert!(w.i.login("renamed", PASSWORD).is_err());
    }
}

/// Merge with a stronger account on either side, by a weaker
/// administrator holding `change_user` and `delete_user`: 403, nothing
/// moves, both accounts go on.
#[test]
fn a_weaker_administrator_cannot_merge_a_stronger_account_either_way() {
    let w = world();
    let op = w.i.operator();
    let tenant = org(&w.i, &w.admin, "springfield");
    let mut batches = Vec::new();
    for name in ["Morning", "Evening", "Weekend"] {
        let b = op
            .create_batch(roster::BatchInput {
                name: Some(name.into()),
            })
            .unwrap();
        batches.push(b.id);
    }
    op.add_user_subscriptions(w.strong, &[batches[0]], Some("2030-01-01"))
        .unwrap();
    op.add_user_subscriptions(w.peer, &[batches[1]], None)
        .unwrap();
    op.add_user_subscriptions(w.student, &[batches[2]], Some("2031-01-01"))
        .unwrap();
    let assign = json!({"request": {"userId": uuid(&w.i, w.strong),
        "organisationId": tenant, "roles": ["ORG_ADMIN"]}});
    ok(
        &w.send(&w.admin, "POST", "/api/user/v1/role/assign", assign),
        "roles",
    );
    let everyone = [w.strong, w.grouped, w.root, w.peer, w.student];
    let sessions: Vec<String> = ["strong", "grouped", "root", "peer", "student"]
        .iter()
        .map(|n| sign_in(&w.i, n))
        .collect();
    let before: Vec<_> = everyone
        .iter()
        .map(|&id| (w.state(id), memberships(&w.i, id)))
        .collect();
    for (target, name) in w.stronger() {
        for other in [w.peer, w.student] {
            for (from, to) in [(target, other), (other, target)] {
                let body = json!({"request": {"fromAccountId": uuid(&w.i, from),
                    "toAccountId": uuid(&w.i, to)}});
                let r = w.send(&w.weak, "PATCH", "/api/user/v1/account/merge", body);
                forbidden(&r, "USRMRG", &format!("merge {from} -> {to} ({name})"));
            }
        }
    }
    let after: Vec<_> = everyone
        .iter()
        .map(|&id| (w.state(id), memberships(&w.i, id)))
        .collect();
    assert_eq!(after, before, "nothing moved");
    for token in &sessions {
        assert!(w.i.session(token).is_ok(), "every session goes on");
    }
    for name in ["strong", "grouped", "root", "peer", "student"] {
        assert!(w.i.login(name, PASSWORD).is_ok(), "{name} still signs in");
    }
    // A merge of a weaker account into an equal goes through.
    let body = json!({"request": {"fromAccountId": uuid(&w.i, w.student),
        "toAccountId": uuid(&w.i, w.peer)}});
    ok(
        &w.send(&w.weak, "PATCH", "/api/user/v1/account/merge", body),
        "merge of weaker accounts",
    );
    let moved = memberships(&w.i, w.peer);
    assert_eq!(moved.len(), 2, "{moved:?}");
    assert_eq!(w.i.check_integrity().unwrap(), Vec::<String>::new());
}

// ---------------------------------------------------------------------
// 2. Permission refusals of S5, S10, S11, S12, S13 and D4.
// ---------------------------------------------------------------------

/// A superuser's token and a Sunbird world's institute.
fn sunbird_world() -> (Institute, String) {
    let (i, _) = institute(SEED_NOW);
    let admin = roster_tests::superuser(&i);
    (i, admin)
}

fn sb_login(i: &Institute, email: &str) -> String {
    i.login(email, SB_PASSWORD)
        .unwrap_or_else(|e| panic!("sign-in of {email}: {e}"))
        .token
}

/// S5: a signed-in user without `change_user` updating another user (v1,
/// v2, v3; any field) is refused, as is one naming a user that does not
/// exist (the refusal tells nothing); the target is unchanged.
#[test]
fn a_plain_user_cannot_update_another_user() {
    let (i, admin) = sunbird_world();
    let victim = sb_user(&i, &admin, "Victim", "victim@example.com");
    let victim_session = sb_login(&i, "victim@example.com");
    let me = sb_user(&i, &admin, "Plain", "plain@example.com");
    let plain = sb_login(&i, "plain@example.com");
    let before = record(&i, &admin, &victim).expect("readable");
    let nobody = "00000000-0000-4000-8000-000000000000";
    for version in ["v1", "v2", "v3"] {
        let path = format!("/api/user/{version}/update");
        for target in [victim.as_str(), nobody] {
            for change in [
                json!({"firstName": "Mallory"}),
                json!({"email": "mallory@example.com"}),
                json!({"phone": "9000000002"}),
                json!({"lastName": "X", "language": ["English"]}),
            ] {
                let mut request = change;
                request["userId"] = json!(target);
                let body = json!({ "request": request });
                let r = send(&i, Some(&plain), "PATCH", &path, Some(body.clone()));
                forbidden(&r, "USRUPD", &format!("PATCH {path} {body}"));
            }
        }
    }
    assert_eq!(record(&i, &admin, &victim), Some(before), "unchanged");
    assert!(i.session(&victim_session).is_ok());
    assert!(i.login("victim@example.com", SB_PASSWORD).is_ok());
    assert!(i.login("mallory@example.com", SB_PASSWORD).is_err());
    // The same change of itself goes through.
    let body = json!({"request": {"userId": me, "firstName": "Plainer"}});
    let r = send(&i, Some(&plain), "PATCH", "/api/user/v1/update", Some(body));
    ok(&r, "own update");
    let mine = record(&i, &admin, &me).unwrap();
    assert_eq!(mine["firstName"], "Plainer");
}

fn declaration(op: &str, user_id: &str, persona: &str, email: &str) -> Value {
    json!({"operation": op, "userId": user_id, "orgId": "0126796199493140480",
        "persona": persona, "info": {"declared-email": email}})
}

fn declarations_of(i: &Institute, admin: &str, user_id: &str) -> Value {
    let path = format!("/api/user/v1/read/{user_id}?fields=declarations");
    let r = send(i, Some(admin), "GET", &path, None);
    ok(&r, "read")["response"]["declarations"].clone()
}

/// S10: a stranger's declarations for another user (add, edit, remove;
/// alone or with one of its own) are refused whole; the other user's
/// declarations are as they were, and the stranger's own are not added.
#[test]
fn a_stranger_cannot_declare_for_another_user() {
    let (i, admin) = sunbird_world();
    let victim = sb_user(&i, &admin, "Victim", "victim@example.com");
    let me = sb_user(&i, &admin, "Stranger", "stranger@example.com");
    let stranger = sb_login(&i, "stranger@example.com");
    let body = json!({"request": {"declarations": [
        declaration("add", &victim, "teacher", "victim@example.com")]}});
    let r = send(
        &i,
        Some(&admin),
        "PATCH",
        "/api/user/v1/declarations",
        Some(body),
    );
    ok(&r, "an administrator's declaration");
    let before = declarations_of(&i, &admin, &victim);
    assert_eq!(before.as_array().map(Vec::len), Some(1), "{before}");
    let nobody = "00000000-0000-4000-8000-000000000000";
    for changes in [
        json!([declaration(
            "add",
            &victim,
            "volunteer",
            "mallory@example.com"
        )]),
        json!([declaration(
            "add",
            &victim,
            "teacher",
            "mallory@example.com"
        )]),
        json!([declaration(
            "edit",
            &victim,
            "teacher",
            "mallory@example.com"
        )]),
        json!([declaration("remove", &victim, "teacher", "")]),
        json!([declaration("add", nobody, "teacher", "mallory@example.com")]),
        json!([
            declaration("add", &me, "teacher", "stranger@example.com"),
            declaration("add", &victim, "teacher", "mallory@example.com")
        ]),
    ] {
        let body = json!({"request": {"declarations": changes}});
        let r = send(
            &i,
            Some(&stranger),
            "PATCH",
            "/api/user/v1/declarations",
            Some(body.clone()),
        );
        forbidden(&r, "UDECLUPD", &format!("{body}"));
    }
    assert_eq!(declarations_of(&i, &admin, &victim), before, "unchanged");
    assert_eq!(declarations_of(&i, &admin, &me), json!([]), "all or none");
    // Its own declaration goes through.
    let body = json!({"request": {"declarations": [
        declaration("add", &me, "teacher", "stranger@example.com")]}});
    let r = send(
        &i,
        Some(&stranger),
        "PATCH",
        "/api/user/v1/declarations",
        Some(body),
    );
    ok(&r, "own declaration");
    assert_eq!(
        declarations_of(&i, &admin, &me).as_array().map(Vec::len),
        Some(1)
    );
}

/// S13: a signed-in user who is not an administrator assigning itself (or
/// another user) `ORG_ADMIN` through role assign v1 or v2 is refused; so
/// is a user holding `change_user` without being staff (D4). No role is
/// given. A superuser's same request goes through.
#[test]
fn a_non_administrator_cannot_assign_itself_org_admin() {
    let (i, admin) = sunbird_world();
    let tenant = org(&i, &admin, "springfield");
    let me = sb_user(&i, &admin, "Climber", "climber@example.com");
    let other = sb_user(&i, &admin, "Other", "other@example.com");
    let climber = sb_login(&i, "climber@example.com");
    // Not staff, but holding change_user: D4 gives it nothing.
    let dormant_id = user(
        &i,
        "dormant",
        AccessInput {
            user_permissions: Some(vec![perm(Action::Change, Model::User)]),
            ..Default::default()
        },
    );
    let dormant = sign_in(&i, "dormant");
    let dormant_uuid = uuid(&i, dormant_id);
    let v1 = |user_id: &str| json!({"request": {"userId": user_id, "organisationId": tenant, "roles": ["ORG_ADMIN"]}});
    let v2 = |user_id: &str| {
        json!({"request": {"userId": user_id, "roles": [
            {"role": "ORG_ADMIN", "operation": "add", "scope": [{"organisationId": tenant}]}]}})
    };
    let attempts = [
        (&climber, me.as_str()),
        (&climber, other.as_str()),
        (&dormant, dormant_uuid.as_str()),
        (&dormant, me.as_str()),
    ];
    for (token, target) in attempts {
        for (path, body) in [
            ("/api/user/v1/role/assign", v1(target)),
            ("/api/user/v2/role/assign", v2(target)),
        ] {
            let r = send(&i, Some(token), "POST", path, Some(body.clone()));
            forbidden(&r, "ROLUPD", &format!("POST {path} {body}"));
        }
    }
    let roles = |user_id: &str| {
        let r = send(
            &i,
            Some(&admin),
            "GET",
            &format!("/api/user/v5/read/{user_id}"),
            None,
        );
        ok(&r, "v5 read")["response"]["roles"].clone()
    };
    for target in [&me, &other, &dormant_uuid] {
        assert_eq!(roles(target), json!([]), "{target}: no role");
    }
    let r = send(
        &i,
        Some(&climber),
        "GET",
        &format!("/api/user/v4/read/{me}"),
        None,
    );
    assert_eq!(ok(&r, "own read")["response"]["roles"], json!(["PUBLIC"]));
    // The same bodies from a superuser: the refusals were the caller's.
    let r = send(
        &i,
        Some(&admin),
        "POST",
        "/api/user/v1/role/assign",
        Some(v1(&me)),
    );
    ok(&r, "v1 by a superuser");
    let r = send(
        &i,
        Some(&admin),
        "POST",
        "/api/user/v2/role/assign",
        Some(v2(&other)),
    );
    ok(&r, "v2 by a superuser");
    assert_eq!(roles(&me)[0]["role"], "ORG_ADMIN");
    assert_eq!(roles(&other)[0]["role"], "ORG_ADMIN");
}

/// S12: merge needs `change_user` and `delete_user`: staff holding only
/// one of them is refused and nothing moves; staff holding both merges.
#[test]
fn merge_needs_both_change_user_and_delete_user() {
    let (i, admin) = sunbird_world();
    let from = sb_user(&i, &admin, "From", "from@example.com");
    let to = sb_user(&i, &admin, "To", "to@example.com");
    let from_session = sb_login(&i, "from@example.com");
    let op = i.operator();
    let from_id = op.find_user("from@example.com").unwrap();
    let to_id = op.find_user("to@example.com").unwrap();
    let batch = op
        .create_batch(roster::BatchInput {
            name: Some("Morning".into()),
        })
        .unwrap()
        .id;
    op.add_user_subscriptions(from_id, &[batch], Some("2030-01-01"))
        .unwrap();
    let (_, changer) = staff(&i, "changer", &[perm(Action::Change, Model::User)]);
    let (_, deleter) = staff(&i, "deleter", &[perm(Action::Delete, Model::User)]);
    let before = (
        record(&i, &admin, &from),
        record(&i, &admin, &to),
        memberships(&i, from_id),
        memberships(&i, to_id),
    );
    let body = json!({"request": {"fromAccountId": from, "toAccountId": to}});
    for (token, who) in [
        (&changer, "change_user only"),
        (&deleter, "delete_user only"),
    ] {
        let r = send(
            &i,
            Some(token),
            "PATCH",
            "/api/user/v1/account/merge",
            Some(body.clone()),
        );
        forbidden(&r, "USRMRG", who);
    }
    let after = (
        record(&i, &admin, &from),
        record(&i, &admin, &to),
        memberships(&i, from_id),
        memberships(&i, to_id),
    );
    assert_eq!(after, before, "nothing moved");
    assert!(after.0.is_some(), "the source is not merged away");
    assert!(i.session(&from_session).is_ok());
    assert!(i.login("from@example.com", SB_PASSWORD).is_ok());
    // Both permissions: the merge goes through.
    let (_, both) = staff(
        &i,
        "merger",
        &[
            perm(Action::Change, Model::User),
            perm(Action::Delete, Model::User),
        ],
    );
    let r = send(
        &i,
        Some(&both),
        "PATCH",
        "/api/user/v1/account/merge",
        Some(body),
    );
    ok(&r, "merge with both permissions");
    assert_eq!(memberships(&i, to_id).len(), 1);
    assert!(i.session(&from_session).is_err());
}

/// S11: user B's token claiming a shadow account for user A (`userId` =
/// A), accepting, rejecting or with a wrong id, is refused; the shadow is
/// untouched and A's attempts are not counted, so A claims it after.
#[test]
fn a_user_cannot_migrate_for_another_user() {
    let (i, admin) = sunbird_world();
    org(&i, &admin, "state1");
    let body = json!({"request": {"firstName": "Shadow", "phone": "9876500001", "channel": "state1",
        "externalIds": [{"id": "roll-17", "provider": "state1", "idType": "state1"}]}});
    let r = send(
        &i,
        Some(&admin),
        "POST",
        "/api/user/v1/sso/create",
        Some(body),
    );
    let shadow = ok(&r, "sso create")["userId"].as_str().unwrap().to_string();
    let a = sb_user(&i, &admin, "Alice", "alice@example.com");
    let a_token = sb_login(&i, "alice@example.com");
    sb_user(&i, &admin, "Bob", "bob@example.com");
    let b_token = sb_login(&i, "bob@example.com");
    let shadow_before = record(&i, &admin, &shadow).expect("the shadow");
    let a_before = record(&i, &admin, &a).expect("A");
    let claim = |action: &str, ext: &str| {
        json!({"request": {"userId": a, "channel": "state1", "action": action,
            "userExtId": ext, "feedId": "feed-1"}})
    };
    for path in ["/api/user/v1/migrate", "/api/user/v1/migration"] {
        for body in [
            claim("accept", "wrong-id"),
            claim("accept", "wrong-id"),
            claim("accept", "roll-17"),
            claim("reject", "roll-17"),
        ] {
            let r = send(&i, Some(&b_token), "POST", path, Some(body.clone()));
            forbidden(&r, "USRMIG", &format!("POST {path} {body}"));
        }
    }
    assert_eq!(record(&i, &admin, &shadow), Some(shadow_before), "shadow");
    assert_eq!(record(&i, &admin, &a), Some(a_before), "A");
    // A's own claim goes through: not rejected, not counted, not taken.
    let r = send(
        &i,
        Some(&a_token),
        "POST",
        "/api/user/v1/migrate",
        Some(claim("accept", "roll-17")),
    );
    ok(&r, "A's claim");
    let mine = record(&i, &admin, &a).unwrap();
    assert_eq!(
        mine["externalIds"],
        json!([{"id": "roll-17", "idType": "state1", "provider": "state1"}])
    );
}

/// D4: organisations need `add_organisation` (create) and
/// `view_organisation` (read), as active staff. A student is refused both
/// (an unknown organisation alike), as is a non-staff holder; staff
/// holding exactly the one permission does exactly that one thing.
#[test]
fn organisations_need_their_own_permissions() {
    let (i, admin) = sunbird_world();
    let existing = org(&i, &admin, "springfield");
    user(&i, "student", AccessInput::default());
    let student = sign_in(&i, "student");
    user(
        &i,
        "dormant",
        AccessInput {
            user_permissions: Some(vec![
                perm(Action::Add, Model::Organisation),
                perm(Action::View, Model::Organisation),
            ]),
            ..Default::default()
        },
    );
    let dormant = sign_in(&i, "dormant");
    let (_, adder) = staff(&i, "adder", &[perm(Action::Add, Model::Organisation)]);
    let (_, viewer) = staff(&i, "viewer", &[perm(Action::View, Model::Organisation)]);
    let create = json!({"request": {"orgName": "Shelbyville", "organisationType": "school",
        "channel": "shelbyville", "isTenant": true}});
    let read = |id: u64| json!({"request": {"organisationId": id}});
    for (token, who) in [(&student, "student"), (&dormant, "non-staff holder")] {
        let r = send(
            &i,
            Some(token),
            "POST",
            "/api/org/v1/create",
            Some(create.clone()),
        );
        forbidden(&r, "ORGCRT", &format!("create by a {who}"));
        for id in [existing, 1_297_544_481_264_435_200] {
            let r = send(&i, Some(token), "POST", "/api/org/v1/read", Some(read(id)));
            forbidden(&r, "ORGRED", &format!("read {id} by a {who}"));
        }
    }
    let r = send(
        &i,
        Some(&viewer),
        "POST",
        "/api/org/v1/create",
        Some(create.clone()),
    );
    forbidden(&r, "ORGCRT", "create by a viewer");
    let r = send(
        &i,
        Some(&adder),
        "POST",
        "/api/org/v1/read",
        Some(read(existing)),
    );
    forbidden(&r, "ORGRED", "read by an adder");
    // Nothing was created: the channel is still free.
    let r = send(&i, Some(&adder), "POST", "/api/org/v1/create", Some(create));
    let created = ok(&r, "create by an adder")["organisationId"]
        .as_u64()
        .expect("an id");
    let r = send(
        &i,
        Some(&viewer),
        "POST",
        "/api/org/v1/read",
        Some(read(created)),
    );
    let got = ok(&r, "read by a viewer")["response"].clone();
    assert_eq!(got["orgName"], "Shelbyville");
    assert_eq!(got["channel"], "shelbyville");
    let r = send(
        &i,
        Some(&viewer),
        "POST",
        "/api/org/v1/read",
        Some(read(existing)),
    );
    assert_eq!(
        ok(&r, "read by a viewer")["response"]["channel"],
        "springfield"
    );
}

// ---------------------------------------------------------------------
// 3. S2 signup.
// ---------------------------------------------------------------------

fn signup_body(n: usize) -> Value {
    json!({"request": {"firstName": format!("Signer{n}"), "email": format!("signer{n}@example.com"),
        "password": SB_PASSWORD}})
}

/// Whether a user has `email`, asked as a superuser.
fn exists(i: &Institute, admin: &str, email: &str) -> bool {
    let r = send(
        i,
        Some(admin),
        "GET",
        &format!("/api/user/v1/exists/email/{email}"),
        None,
    );
    ok(&r, "exists")["exists"].as_bool().expect("a flag")
}

/// S2 with the default configuration: signup needs a session holding
/// `add_user`: none is 401, one without `add_user` 403, and no user is
/// made; one with it creates.
#[test]
fn signup_needs_add_user_by_default() {
    let (i, admin) = sunbird_world();
    assert!(!i.config().sunbird.self_signup, "the default is off");
    user(&i, "student", AccessInput::default());
    let student = sign_in(&i, "student");
    let (_, viewer) = staff(
        &i,
        "viewer",
        &[
            perm(Action::View, Model::User),
            perm(Action::Change, Model::User),
        ],
    );
    let (_, adder) = staff(&i, "adder", &[perm(Action::Add, Model::User)]);
    for (n, version) in ["v1", "v2"].into_iter().enumerate() {
        let path = format!("/api/user/{version}/signup");
        let r = send(&i, None, "POST", &path, Some(signup_body(n)));
        let m = failure(&r, 401, "UOS_0070", &format!("{path} without a token"));
        assert_eq!(m, "You are not authorized.");
        assert_eq!(r.json()["responseCode"], "UNAUTHORIZED");
        for (token, who) in [(&student, "student"), (&viewer, "view/change user")] {
            let r = send(&i, Some(token), "POST", &path, Some(signup_body(n)));
            forbidden(&r, "USRCRT", &format!("{path} by a {who}"));
        }
        assert!(!exists(&i, &admin, &format!("signer{n}@example.com")));
        let r = send(&i, Some(&adder), "POST", &path, Some(signup_body(n)));
        let id = ok(&r, &format!("{path} by an adder"))["userId"].clone();
        assert!(id.is_string(), "{id}");
        assert!(exists(&i, &admin, &format!("signer{n}@example.com")));
    }
}

/// S2 with `config.sunbird.self_signup`: signup without any credentials
/// creates a user that signs in.
#[test]
fn signup_needs_no_session_with_self_signup() {
    let (mut config, _) = roster_tests::config(SEED_NOW);
    config.sunbird.self_signup = true;
    let i = roster_tests::store(config);
    let admin = roster_tests::superuser(&i);
    for (n, version) in ["v1", "v2"].into_iter().enumerate() {
        let path = format!("/api/user/{version}/signup");
        let r = send(&i, None, "POST", &path, Some(signup_body(n)));
        let result = ok(&r, &format!("{path} without a token"));
        assert_eq!(r.json()["id"], "api.user.signup");
        let id = result["userId"].as_str().expect("a userId").to_string();
        let user = record(&i, &admin, &id).expect("the new user");
        assert_eq!(user["firstName"], json!(format!("Signer{n}")));
        let login = i.login(&format!("signer{n}@example.com"), SB_PASSWORD);
        assert!(login.is_ok(), "the new user signs in");
    }
    // A signed-in caller without `add_user` signs up as anyone may.
    user(&i, "student", AccessInput::default());
    let student = sign_in(&i, "student");
    let r = send(
        &i,
        Some(&student),
        "POST",
        "/api/user/v2/signup",
        Some(signup_body(7)),
    );
    ok(&r, "signup by a signed-in student");
    assert!(exists(&i, &admin, "signer7@example.com"));
    // Create itself still needs a session.
    let r = send(
        &i,
        None,
        "POST",
        "/api/user/v1/create",
        Some(signup_body(9)),
    );
    failure(&r, 401, "UOS_0070", "create without a token");
}

// ---------------------------------------------------------------------
// 4. A1: a session token is stored only as a hash.
// ---------------------------------------------------------------------

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn unhex(token: &str) -> Vec<u8> {
    (0..token.len())
        .step_by(2)
        .map(|k| u8::from_str_radix(&token[k..k + 2], 16).expect("hex"))
        .collect()
}

/// After sign-ins (typed, REST, and a managed user's token from the
/// managed list) on a file store, no row of the file holds a token's text
/// (either case) or its decoded bytes, nor half of them; the sessions
/// are there, and still open the store after it is reopened.
#[test]
fn session_tokens_are_stored_only_as_hashes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("institute.redb");
    let open = || {
        let (config, _) = roster_tests::config(SEED_NOW);
        Institute::open(&path, config).expect("open the file store")
    };
    let tokens = {
        let i = open();
        let admin = roster_tests::superuser(&i);
        let manager = sb_user(&i, &admin, "Parent", "parent@example.com");
        let body = json!({"request": {"firstName": "Kid", "managedBy": manager}});
        let r = send(&i, Some(&admin), "POST", "/api/user/v4/create", Some(body));
        ok(&r, "managed create");
        let typed = sb_login(&i, "parent@example.com");
        let body = json!({"username": "parent@example.com", "password": SB_PASSWORD});
        let r = roster_tests::call(&i, "POST", "/api/v2.5/auth-token/", Some(body));
        assert_eq!(r.status, 200, "{:?}", r.body);
        let rest = r.json()["token"].as_str().expect("a token").to_string();
        let path = format!("/api/user/v1/managed/{manager}?withTokens=true");
        let r = send(&i, Some(&typed), "GET", &path, None);
        let list = ok(&r, "managed list");
        let managed = list["response"]["content"][0]["managedToken"]
            .as_str()
            .expect("a managed token")
            .to_string();
        vec![admin, typed, rest, managed]
    };
    let needles: Vec<Vec<u8>> = tokens
        .iter()
        .flat_map(|token| {
            assert_eq!(token.len(), 64, "{token}");
            let bytes = unhex(token);
            [
                token.as_bytes().to_vec(),
                token.to_uppercase().into_bytes(),
                bytes.clone(),
                bytes[..16].to_vec(),
                bytes[16..].to_vec(),
            ]
        })
        .collect();
    for table in ["sessions", "user_sessions"] {
        let rows = roster::store::testing::raw_rows(&path, table).expect("raw read");
        assert!(rows.len() >= tokens.len(), "{table}: {} rows", rows.len());
        for (key, value) in &rows {
            for needle in &needles {
                assert!(
                    !contains(key, needle) && !contains(value, needle),
                    "a row of {table} holds (part of) a token"
                );
            }
        }
    }
    // Nor anywhere else in the file, in any table or free page.
    let file = std::fs::read(&path).expect("the file");
    for needle in &needles {
        assert!(!contains(&file, needle), "the file holds (part of) a token");
    }
    let i = open();
    for token in &tokens {
        assert!(i.session(token).is_ok(), "the session survives a reopen");
    }
}

// ---------------------------------------------------------------------
// 5. A3: no Sunbird answer carries a password hash.
// ---------------------------------------------------------------------

/// Every Sunbird read, search, profile, get, exists and managed-list path,
/// for a user with an argon2id hash and one with an imported PBKDF2 hash,
/// as a superuser and as the user itself: no body holds a hash.
#[test]
fn no_sunbird_answer_carries_a_password_hash() {
    let (i, admin) = sunbird_world();
    let tenant = org(&i, &admin, "springfield");
    let body = json!({"request": {"firstName": "Keeper", "lastName": "Hash",
        "userName": "keeper", "email": "keeper@example.com", "phone": "9876543210",
        "password": SB_PASSWORD, "externalIds": [{"id": "k-1", "provider": "springfield",
        "idType": "springfield"}]}});
    let r = send(&i, Some(&admin), "POST", "/api/user/v1/create", Some(body));
    let keeper = ok(&r, "create")["userId"].as_str().unwrap().to_string();
    let token = sb_login(&i, "keeper@example.com");
    let body =
        json!({"request": {"userId": keeper, "organisationId": tenant, "roles": ["ORG_ADMIN"]}});
    ok(
        &send(
            &i,
            Some(&admin),
            "POST",
            "/api/user/v1/role/assign",
            Some(body),
        ),
        "roles",
    );
    let body = json!({"request": {"declarations": [
        declaration("add", &keeper, "teacher", "keeper@example.com")]}});
    ok(
        &send(
            &i,
            Some(&admin),
            "PATCH",
            "/api/user/v1/declarations",
            Some(body),
        ),
        "declaration",
    );
    let body = json!({"request": {"firstName": "Kid", "managedBy": keeper}});
    let r = send(&i, Some(&admin), "POST", "/api/user/v4/create", Some(body));
    let kid = ok(&r, "managed create")["userId"]
        .as_str()
        .unwrap()
        .to_string();
    // An imported Django hash (never signed in, so never replaced).
    let row = json!({"username": "legacy", "first_name": "Legacy", "email": "legacy@example.com",
        "phone": "9876543211",
        "password_hash": "pbkdf2_sha256$12000$zaz1v370q51a$ipNrjQCWNOAmdFsHWPHHZ1i1+5hxF5LxHZ+VfFZ9mrM="});
    let report = roster::transfer::import(
        &i.operator(),
        format!("{row}\n").as_bytes(),
        &Default::default(),
        &mut |_| {},
    )
    .expect("import");
    assert_eq!(report.created, 1, "{report:?}");
    let legacy = uuid(&i, i.operator().find_user("legacy").unwrap());
    // The hashes are there to leak: the full export (X2) holds them.
    let mut dump = Vec::new();
    roster::transfer::export(&i.operator(), &mut dump).expect("export");
    let dump = String::from_utf8(dump).unwrap();
    assert!(
        dump.contains("$argon2id$v=19$"),
        "an argon2id hash is stored"
    );
    assert!(
        dump.contains("pbkdf2_sha256$12000$"),
        "a PBKDF2 hash is stored"
    );

    // (as the user itself, method, path, body)
    let mut requests: Vec<(bool, &str, String, Option<Value>)> = Vec::new();
    let mut get = |own: bool, path: String| requests.push((own, "GET", path, None));
    for (own, user_id) in [
        (false, keeper.as_str()),
        (true, keeper.as_str()),
        (false, legacy.as_str()),
        (false, kid.as_str()),
    ] {
        for v in 1..=5 {
            get(own, format!("/api/user/v{v}/read/{user_id}"));
            get(
                own,
                format!("/api/user/v{v}/read/{user_id}?fields={ALL_PARTS}"),
            );
        }
        let path = format!("/api/user/v3/read/{user_id}?withTokens=true&fields={ALL_PARTS}");
        get(own, path);
    }
    get(true, format!("/api/user/v3/read/{kid}?withTokens=true"));
    for (own, email, phone, name) in [
        (false, "keeper@example.com", "9876543210", "keeper"),
        (true, "keeper@example.com", "9876543210", "keeper"),
        (false, "legacy@example.com", "9876543211", "legacy"),
    ] {
        for (kind, value) in [
            ("email", email),
            ("phone", phone),
            ("loginId", name),
            ("loginId", email),
            ("userName", name),
        ] {
            get(own, format!("/api/user/v1/get/{kind}/{value}"));
        }
        for v in 1..=2 {
            for (kind, value) in [("email", email), ("phone", phone), ("userName", name)] {
                get(own, format!("/api/user/v{v}/exists/{kind}/{value}"));
            }
        }
    }
    for own in [false, true] {
        get(own, format!("/api/user/v1/managed/{keeper}"));
    }
    get(
        true,
        format!("/api/user/v1/managed/{keeper}?withTokens=true"),
    );
    let mut post = |own: bool, path: String, body: Value| {
        requests.push((own, "POST", path, Some(body)));
    };
    for (own, login) in [
        (false, "keeper"),
        (false, "keeper@example.com"),
        (false, "9876543210"),
        (true, "keeper"),
        (false, "legacy"),
        (false, "legacy@example.com"),
    ] {
        for fields in [
            "",
            "?fields=organisations,roles,locations,declarations,externalIds",
        ] {
            let path = format!("/api/user/v1/profile/read{fields}");
            post(own, path, json!({"request": {"loginId": login}}));
        }
    }
    for v in 1..=3 {
        let path = format!("/api/user/v{v}/search");
        for search in [
            json!({"filters": {}}),
            json!({"filters": {}, "query": "keeper"}),
            json!({"filters": {"userName": ["keeper", "legacy"]}}),
            json!({"filters": {}, "fields": ["password", "passwordHash", "password_hash",
                "hash", "userName", "id"]}),
        ] {
            post(false, path.clone(), json!({ "request": search }));
        }
    }
    let mut seen = 0;
    for (own, method, path, body) in requests {
        let (caller, who) = match own {
            true => (&token, "the user"),
            false => (&admin, "a superuser"),
        };
        let r = send(&i, Some(caller), method, &path, body.clone());
        assert_eq!(r.status, 200, "{method} {path} as {who}: {:?}", r.body);
        let text = r.body.clone().unwrap_or_default().to_ascii_lowercase();
        for needle in ["argon2", "$v=19$", "pbkdf2"] {
            assert!(
                !text.contains(needle),
                "{method} {path} {body:?} as {who} shows {needle}: {text}"
            );
        }
        if path.contains("/search")
            && body
                .as_ref()
                .is_some_and(|b| b["request"]["query"].is_null())
        {
            let count = r.json()["result"]["response"]["count"]
                .as_u64()
                .unwrap_or(0);
            assert!(count >= 2, "{path}: {count}");
        }
        seen += 1;
    }
    assert!(seen > 100, "{seen} answers looked at");
}

/// The permission a role change needs is checked again inside its write:
/// an administrator whose `change_user` is taken away between the check
/// and the write does not give itself a role (it ran on the permission
/// read before, in another transaction).
#[test]
fn a_role_change_is_refused_once_its_permission_is_taken_away_meanwhile() {
    let (i, other, backend) = roster_tests::with_meanwhile(SEED_NOW);
    let tenant = i
        .operator()
        .create_organisation(roster::api::sunbird::OrgInput {
            name: Some("Springfield".into()),
            org_type: Some("school".into()),
            is_tenant: Some(true),
            channel: Some("springfield".into()),
            ..Default::default()
        })
        .expect("tenant");
    let id = user(
        &i,
        "climber",
        staff_access(&[perm(Action::Change, Model::User)]),
    );
    let climber = i.session(&sign_in(&i, "climber")).expect("session");
    let uuid = uuid(&i, id);
    let taken_away = move || {
        let patch = UserPatch {
            access: AccessInput {
                user_permissions: Some(Vec::new()),
                ..Default::default()
            },
            ..Default::default()
        };
        other.operator().update_user(id, patch).expect("taken away");
    };
    backend.arm(taken_away);
    let change = roster::domain::sunbird::RoleChange {
        role: "ORG_ADMIN".into(),
        operation: roster::domain::sunbird::RoleOperation::Add,
        scope: vec![tenant],
    };
    let err = climber.change_roles(&uuid, &[change]).unwrap_err();
    assert_eq!(err.code(), roster::ErrorCode::Forbidden, "{err}");
    assert!(backend.ran(), "it ran meanwhile");
    let admin = roster_tests::superuser(&i);
    let path = format!("/api/user/v5/read/{uuid}");
    let read = send(&i, Some(&admin), "GET", &path, None);
    assert_eq!(ok(&read, "v5 read")["response"]["roles"], json!([]));
}

/// Ending one's own sessions is done by a session live in that write: a
/// session ended meanwhile (a password reset) ends no later one.
#[test]
fn a_session_ended_meanwhile_ends_no_later_one() {
    let (i, other, backend) = roster_tests::with_meanwhile(SEED_NOW);
    let id = user(&i, "ravi", AccessInput::default());
    let first = i.session(&sign_in(&i, "ravi")).expect("session");
    let later = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let kept = later.clone();
    let reset = move || {
        let patch = UserPatch {
            password: Some("another-pass-2".into()),
            ..Default::default()
        };
        other.operator().update_user(id, patch).expect("reset");
        let token = other.login("ravi", "another-pass-2").expect("sign in");
        *kept.lock().unwrap() = token.token;
    };
    backend.arm(reset);
    let err = first.logout_everywhere(id).unwrap_err();
    assert_eq!(err.code(), roster::ErrorCode::Unauthenticated, "{err}");
    let token = later.lock().unwrap().clone();
    let again = i.session(&token).expect("the later session");
    assert_eq!(again.logout_everywhere(id).expect("still live"), 1);
}
