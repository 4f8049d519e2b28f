//! Rules of SPEC 6 (Sunbird, S1-S14) and 7 (the envelope) that no other
//! test asserts: merge and migration side effects, update side effects,
//! external ids and channels on create, password-less and managed creates,
//! organisation validation, completeness, v4's lean reads, the search
//! limit, masking of recovery and previous contacts, other terms types, and
//! the envelope's message ids.
//!
//! Requests travel through `rest::handle` as sunbird.rs sends them
//! ([`World`]); codes and messages are those of `domain::sunbird::fault`
//! and the project README's table.

use super::sunbird::{World, export_of, failure, keys, world, world_and_clock};
use roster::rest::{Request, Response};
use roster_tests::SEED_NOW;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The password [`World::user`] gives its users.
const PASSWORD: &str = "Pass@1word";

/// The `userId` of a create's `result`.
fn user_id(result: &Value) -> String {
    result["userId"]
        .as_str()
        .unwrap_or_else(|| panic!("no userId in {result}"))
        .to_string()
}

/// Creates a user through `path` as the superuser with `request`; its id.
fn create(w: &World, path: &str, request: Value) -> String {
    user_id(&w.ok("POST", path, Some(json!({ "request": request }))))
}

/// User `id` as the superuser reads it through `version` with `fields`.
fn read(w: &World, version: &str, id: &str, fields: &str) -> Value {
    let query = match fields {
        "" => String::new(),
        f => format!("?fields={f}"),
    };
    let path = format!("/api/user/{version}/read/{id}{query}");
    w.ok("GET", &path, None)["response"].clone()
}

/// A PATCH of `/api/user/v3/update` that must succeed.
fn update(w: &World, request: Value) {
    w.ok(
        "PATCH",
        "/api/user/v3/update",
        Some(json!({ "request": request })),
    );
}

/// The organisation ids of a read's `organisations`, in order.
fn org_ids(user: &Value) -> Vec<u64> {
    user["organisations"]
        .as_array()
        .unwrap_or_else(|| panic!("no organisations in {user}"))
        .iter()
        .map(|o| o["organisationId"].as_u64().expect("an organisation id"))
        .collect()
}

/// The exported side record (`fields`) of user `pk`.
fn exported_side(w: &World, pk: u64) -> Value {
    export_of(&w.i)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("an export line"))
        .find(|l| l["type"] == "sunbird_user" && l["record"]["user"] == json!(pk))
        .unwrap_or_else(|| panic!("no sunbird_user record of user {pk}"))["record"]["fields"]
        .clone()
}

/// A user's memberships: (batch name, expiry).
fn memberships(w: &World, pk: u64) -> Vec<(String, Option<String>)> {
    let all = roster::PageRequest {
        page: 1,
        per_page: Some(100),
    };
    w.i.operator()
        .user_subscriptions(pk, all)
        .expect("subscriptions")
        .items
        .into_iter()
        .map(|s| (s.batch.name, s.expires.map(|d| d.to_string())))
        .collect()
}

// ---------------------------------------------------------------------
// S12 merge
// ---------------------------------------------------------------------

#[test]
fn merging_an_account_into_itself_is_refused_and_leaves_it_active() {
    let w = world();
    let id = w.user("Selfie", "selfie@example.com");
    let token = w.i.login("selfie@example.com", PASSWORD).unwrap().token;
    let before = export_of(&w.i);
    // The same id, also spelt in upper case: one account.
    for to in [id.clone(), id.to_uppercase()] {
        let body = json!({"request": {"fromAccountId": id, "toAccountId": to}});
        let m = w.fails(
            "PATCH",
            "/api/user/v1/account/merge",
            Some(body),
            400,
            "UOS_USRMRG0045",
        );
        assert!(m.contains("fromAccountId"), "{m}");
    }
    assert_eq!(export_of(&w.i), before, "a refused merge wrote");
    let user = read(&w, "v1", &id, "");
    assert_eq!(user["status"], 1, "{user}");
    assert_eq!(user["isDeleted"], false, "{user}");
    assert_eq!(user["email"], "se****@example.com");
    assert!(w.i.session(&token).is_ok(), "its session ended");
    assert!(w.i.login("selfie@example.com", PASSWORD).is_ok());
}

#[test]
fn merge_moves_organisations_and_declarations_unites_role_scopes_and_frees_name_and_phone() {
    let w = world();
    let a = w.org("Org A", "chan-a", true);
    let b = w.org("Org B", "chan-b", true);
    let from = create(
        &w,
        "/api/user/v1/sso/create",
        json!({"firstName": "From", "userName": "from.user", "email": "from@example.com",
            "phone": "9876500011", "channel": "chan-a"}),
    );
    let to = w.user("To", "to@example.com");
    let to_orgs_before = org_ids(&read(&w, "v5", &to, ""));
    assert!(!to_orgs_before.contains(&a), "{to_orgs_before:?}");
    let assign = |user: &str, org: u64| {
        w.ok(
            "POST",
            "/api/user/v2/role/assign",
            Some(json!({"request": {"userId": user, "roles": [
                {"role": "COURSE_CREATOR", "operation": "add", "scope": [{"organisationId": org}]}]}})),
        );
    };
    assign(&from, a);
    assign(&to, b);
    // Both declare as a teacher of A (the target's stays); the source also
    // as a volunteer of A (it moves).
    let declare = |user: &str, persona: &str, email: &str| {
        w.ok(
            "PATCH",
            "/api/user/v1/declarations",
            Some(
                json!({"request": {"declarations": [{"operation": "add", "userId": user,
                "orgId": a.to_string(), "persona": persona,
                "info": {"declared-email": email}}]}}),
            ),
        );
    };
    declare(&from, "teacher", "from@example.com");
    declare(&from, "volunteer", "from@example.com");
    declare(&to, "teacher", "to@example.com");
    let from_pk = w.i.operator().find_user("from@example.com").unwrap();
    w.ok(
        "PATCH",
        "/api/user/v1/account/merge",
        Some(json!({"request": {"fromAccountId": from, "toAccountId": to}})),
    );

    let target = read(&w, "v5", &to, "declarations");
    // Roles: one COURSE_CREATOR whose scope is both organisations.
    let roles = target["roles"].as_array().expect("roles");
    assert_eq!(roles.len(), 1, "{roles:?}");
    assert_eq!(roles[0]["role"], "COURSE_CREATOR");
    assert_eq!(
        roles[0]["scope"],
        json!([{"organisationId": a}, {"organisationId": b}])
    );
    // Organisations: the target's own and the source's.
    let orgs: BTreeSet<u64> = org_ids(&target).into_iter().collect();
    let mut want: BTreeSet<u64> = to_orgs_before.into_iter().collect();
    want.insert(a);
    assert_eq!(orgs, want);
    // Declarations moved, but for the organisation and persona the target
    // had declared itself.
    let declarations: Vec<(Value, Value, Value)> = target["declarations"]
        .as_array()
        .expect("declarations")
        .iter()
        .map(|d| (d["orgId"].clone(), d["persona"].clone(), d["info"].clone()))
        .collect();
    let declared = |persona: &str, email: &str| {
        (
            json!(a.to_string()),
            json!(persona),
            json!({ "declared-email": email }),
        )
    };
    assert_eq!(
        declarations,
        [
            declared("teacher", "to@example.com"),
            declared("volunteer", "from@example.com")
        ]
    );

    // The source keeps its old email and phone as prevUsedEmail/Phone
    // (only the export shows a merged-away account's record).
    let side = exported_side(&w, from_pk);
    assert_eq!(side["deleted"], true, "{side}");
    assert_eq!(side["prevUsedEmail"], "from@example.com", "{side}");
    assert_eq!(side["prevUsedPhone"], "9876500011", "{side}");
    // Its userName and phone are free: a new user takes them.
    let again = create(
        &w,
        "/api/user/v1/create",
        json!({"firstName": "Again", "userName": "From.User", "phone": "9876500011"}),
    );
    let found = w.ok("GET", "/api/user/v2/exists/userName/from.user", None);
    assert_eq!(found["id"], json!(again), "{found}");
    let found = w.ok("GET", "/api/user/v2/exists/phone/9876500011", None);
    assert_eq!(found["id"], json!(again), "{found}");
    assert_eq!(w.i.check_integrity().unwrap(), Vec::<String>::new());
}

// ---------------------------------------------------------------------
// S11 migrate
// ---------------------------------------------------------------------

/// An SSO user of channel `state1` holding external id `ext`: its id.
fn shadow(w: &World, first: &str, email: &str, ext: &str) -> String {
    create(
        w,
        "/api/user/v1/sso/create",
        json!({"firstName": first, "email": email, "channel": "state1",
            "externalIds": [{"id": ext, "provider": "state1", "idType": "state1"}]}),
    )
}

/// After an accepted claim: shadow `sh` is read as no user, and the store
/// holds together.
fn shadow_is_gone(w: &World, sh: &str) {
    w.fails(
        "GET",
        &format!("/api/user/v1/read/{sh}"),
        None,
        404,
        "UOS_USRRED0013",
    );
    assert_eq!(w.i.check_integrity().unwrap(), Vec::<String>::new());
}

/// A migrate request body for `claimant`.
fn claim(claimant: &str, action: &str, ext: &str) -> Value {
    json!({"request": {"userId": claimant, "channel": "state1", "action": action,
        "feedId": "feed-1", "userExtId": ext}})
}

#[test]
fn an_accepted_migration_moves_memberships_organisations_roles_and_declarations() {
    let w = world();
    let state = w.org("State", "state1", true);
    let admin = w.i.operator();
    let sh = shadow(&w, "Shadow", "shadow@example.com", "ext-1");
    w.ok(
        "POST",
        "/api/user/v2/role/assign",
        Some(json!({"request": {"userId": sh, "roles": [
            {"role": "ORG_ADMIN", "scope": [{"organisationId": state}]}]}})),
    );
    w.ok(
        "PATCH",
        "/api/user/v1/declarations",
        Some(
            json!({"request": {"declarations": [{"operation": "add", "userId": sh,
            "orgId": state.to_string(), "persona": "volunteer", "info": {"k": "v"}}]}}),
        ),
    );
    let batch = admin
        .create_batch(roster::BatchInput {
            name: Some("Cohort".into()),
        })
        .unwrap();
    let shadow_pk = admin.find_user("shadow@example.com").unwrap();
    admin
        .add_user_subscriptions(shadow_pk, &[batch.id], Some("2030-01-01"))
        .unwrap();

    let claimant = w.user("Claimant", "claimant@example.com");
    let claimant_pk = admin.find_user("claimant@example.com").unwrap();
    let own_orgs = org_ids(&read(&w, "v5", &claimant, ""));
    assert!(!own_orgs.contains(&state));
    let token = w.i.login("claimant@example.com", PASSWORD).unwrap().token;
    let r = w.send_as(
        &token,
        "POST",
        "/api/user/v1/migrate",
        Some(claim(&claimant, "accept", "EXT-1")),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.json()["responseCode"], "OK", "{:?}", r.body);

    let me = read(&w, "v5", &claimant, "declarations");
    assert_eq!(me["roles"].as_array().unwrap().len(), 1, "{me}");
    assert_eq!(me["roles"][0]["role"], "ORG_ADMIN");
    assert_eq!(me["roles"][0]["scope"], json!([{"organisationId": state}]));
    let orgs: BTreeSet<u64> = org_ids(&me).into_iter().collect();
    let mut want: BTreeSet<u64> = own_orgs.into_iter().collect();
    want.insert(state);
    assert_eq!(orgs, want);
    assert_eq!(me["declarations"].as_array().unwrap().len(), 1, "{me}");
    assert_eq!(me["declarations"][0]["persona"], "volunteer");
    assert_eq!(me["declarations"][0]["orgId"], state.to_string());
    assert_eq!(
        memberships(&w, claimant_pk),
        vec![("Cohort".to_string(), Some("2030-01-01".to_string()))]
    );
    shadow_is_gone(&w, &sh);
}

/// A claim names its channel's shadow: the same id under another provider
/// is not it. Accepted, the claimant's id of the shadow's provider and type
/// is replaced by the shadow's; its ids of other providers stay.
#[test]
fn a_claim_takes_only_its_channels_shadow_and_its_id_of_that_type() {
    let w = world();
    w.org("State", "state1", true);
    w.org("Other State", "state2", true);
    let elsewhere = create(
        &w,
        "/api/user/v1/sso/create",
        json!({"firstName": "Elsewhere", "email": "elsewhere@example.com", "channel": "state2",
            "externalIds": [{"id": "ext-9", "provider": "state2", "idType": "state2"}]}),
    );
    let sh = shadow(&w, "Shadow", "shadow@example.com", "ext-1");
    let claimant = w.user("Claimant", "claimant@example.com");
    update(
        &w,
        json!({"userId": claimant, "externalIds": [
            {"id": "old-1", "provider": "state1", "idType": "state1"},
            {"id": "mine-2", "provider": "state2", "idType": "state2"}]}),
    );
    let token = w.i.login("claimant@example.com", PASSWORD).unwrap().token;
    let migrate = |action: &str, ext: &str| {
        let r = w.send_as(
            &token,
            "POST",
            "/api/user/v1/migrate",
            Some(claim(&claimant, action, ext)),
        );
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.json()
    };
    // ext-9 is held in state2 only: no shadow of state1 has it.
    let v = migrate("accept", "ext-9");
    assert_eq!(v["responseCode"], "SERVER_ERROR", "{v}");
    assert_eq!(v["result"]["remainingAttempt"], 1, "{v}");
    assert_eq!(read(&w, "v4", &elsewhere, "")["status"], 1);
    let v = migrate("accept", "ext-1");
    assert_eq!(v["responseCode"], "OK", "{v}");
    assert_eq!(
        read(&w, "v4", &claimant, "")["externalIds"],
        json!([{"id": "ext-1", "idType": "state1", "provider": "state1"},
            {"id": "mine-2", "idType": "state2", "provider": "state2"}])
    );
    shadow_is_gone(&w, &sh);
}

#[test]
fn a_rejected_shadow_is_marked_and_no_longer_claimed() {
    let w = world();
    w.org("State", "state1", true);
    let sh = shadow(&w, "Second", "second@example.com", "ext-2");
    let claimant = w.user("Claimant", "claimant@example.com");
    let token = w.i.login("claimant@example.com", PASSWORD).unwrap().token;
    let r = w.send_as(
        &token,
        "POST",
        "/api/user/v1/migrate",
        Some(claim(&claimant, "reject", "ext-2")),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let v = r.json();
    assert_eq!(v["responseCode"], "OK", "{v}");
    assert_eq!(v["result"], json!({"response": "SUCCESS"}));
    // Rejected, the shadow stays as it was.
    let kept = read(&w, "v4", &sh, "");
    assert_eq!(kept["status"], 1);
    // SPEC S11 says only that `reject` marks the shadow rejected. roster
    // reads it as: a rejected shadow is offered to no later claim, so an
    // accept with its (right) id finds no shadow and answers as a wrong
    // userExtId does (the seed's HTTP 200 SERVER_ERROR answer).
    let r = w.send_as(
        &token,
        "POST",
        "/api/user/v1/migrate",
        Some(claim(&claimant, "accept", "ext-2")),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let v = r.json();
    assert_eq!(v["responseCode"], "SERVER_ERROR", "{v}");
    assert_eq!(v["result"]["err"], true, "{v}");
    assert_eq!(v["result"]["remainingAttempt"], 1, "{v}");
    // Nothing moved: the shadow keeps its id, the claimant has none.
    assert_eq!(read(&w, "v4", &sh, ""), kept);
    assert_eq!(read(&w, "v4", &claimant, "")["externalIds"], json!([]));
}

// ---------------------------------------------------------------------
// S5 update side effects
// ---------------------------------------------------------------------

#[test]
fn a_changed_email_or_phone_loses_its_verified_flag_unless_sent_and_becomes_the_previous_one() {
    let w = world();
    let id = create(
        &w,
        "/api/user/v1/create",
        json!({"firstName": "Vera", "email": "vera.old@example.com", "phone": "9876511111",
            "emailVerified": true, "phoneVerified": true}),
    );
    let user = read(&w, "v1", &id, "");
    assert_eq!(
        (&user["emailVerified"], &user["phoneVerified"]),
        (&json!(true), &json!(true))
    );
    assert_eq!(user["prevUsedEmail"], Value::Null);
    assert_eq!(user["prevUsedPhone"], Value::Null);

    // A new email: unverified, the old one kept (masked in views).
    update(&w, json!({"userId": id, "email": "vera.newer@example.com"}));
    let user = read(&w, "v1", &id, "");
    assert_eq!(user["email"], "ve********@example.com");
    assert_eq!(user["emailVerified"], false, "{user}");
    assert_eq!(user["prevUsedEmail"], "ve******@example.com");
    assert_eq!(user["phoneVerified"], true, "the phone did not change");
    // A new email sent as verified stays verified.
    update(
        &w,
        json!({"userId": id, "email": "vera3@example.com", "emailVerified": true}),
    );
    let user = read(&w, "v1", &id, "");
    assert_eq!(user["email"], "ve***@example.com");
    assert_eq!(user["emailVerified"], true, "{user}");
    assert_eq!(user["prevUsedEmail"], "ve********@example.com");

    // The same for the phone.
    update(&w, json!({"userId": id, "phone": "9876522222"}));
    let user = read(&w, "v1", &id, "");
    assert_eq!(user["phone"], "******2222");
    assert_eq!(user["phoneVerified"], false, "{user}");
    assert_eq!(user["prevUsedPhone"], "******1111");
    assert_eq!(user["emailVerified"], true, "the email did not change");
    update(
        &w,
        json!({"userId": id, "phone": "9876533333", "phoneVerified": true}),
    );
    let user = read(&w, "v1", &id, "");
    assert_eq!(user["phone"], "******3333");
    assert_eq!(user["phoneVerified"], true, "{user}");
    assert_eq!(user["prevUsedPhone"], "******2222");
    // The real previous values are kept (masking is only a view).
    let pk = w.i.operator().find_user("vera3@example.com").unwrap();
    let side = exported_side(&w, pk);
    assert_eq!(side["prevUsedEmail"], "vera.newer@example.com");
    assert_eq!(side["prevUsedPhone"], "9876522222");
}

/// S5 holds whatever path changes a contact: an admin's Testpress update
/// and the user's own `/me/` clear the changed contact's verified flag and
/// keep the old value as the previous one, as a Sunbird update does; a
/// contact that did not change keeps its flag.
#[test]
fn a_contact_changed_through_the_testpress_paths_loses_its_verified_flag() {
    let w = world();
    let id = create(
        &w,
        "/api/user/v1/create",
        json!({"firstName": "Vera", "userName": "vera", "password": PASSWORD,
            "email": "vera.old@example.com", "phone": "9876511111",
            "emailVerified": true, "phoneVerified": true}),
    );
    let pk = w.i.operator().find_user("vera").unwrap();
    let r = roster_tests::call_as(
        &w.i,
        &w.token,
        "PATCH",
        &format!("/api/v2.5/admin/users/{pk}/"),
        Some(json!({"email": "vera.new@example.com"})),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let user = read(&w, "v1", &id, "");
    assert_eq!(user["emailVerified"], false, "{user}");
    assert_eq!(user["phoneVerified"], true, "{user}");
    let side = exported_side(&w, pk);
    assert_eq!(side["prevUsedEmail"], "vera.old@example.com");

    let token = w.i.login("vera", PASSWORD).unwrap().token;
    let r = roster_tests::call_as(
        &w.i,
        &token,
        "PUT",
        "/api/v2.5/me/",
        Some(json!({"phone": "9876522222"})),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let user = read(&w, "v1", &id, "");
    assert_eq!(user["phoneVerified"], false, "{user}");
    assert_eq!(exported_side(&w, pk)["prevUsedPhone"], "9876511111");
    // The user's own session outlives the change: nothing about who
    // manages it moved.
    let r = roster_tests::call_as(&w.i, &token, "GET", "/api/v2.5/me/", None);
    assert_eq!(r.status, 200);
}

/// S5: a verified flag sent in an update is taken as sent for a contact
/// the user has, and is false for one it has not; the user's
/// `updatedDate` moves when the update changes anything, its Sunbird-only
/// fields included, and not when it changes nothing.
#[test]
fn an_update_sets_verified_flags_as_sent_and_dates_only_a_change() {
    let (w, clock) = world_and_clock();
    let id = create(
        &w,
        "/api/user/v1/create",
        json!({"firstName": "Nora", "email": "nora@example.com", "emailVerified": true}),
    );
    let user = read(&w, "v1", &id, "");
    assert_eq!(user["emailVerified"], true, "{user}");
    assert_eq!(user["updatedDate"], Value::Null, "{user}");

    clock.advance(chrono::Duration::minutes(5));
    update(&w, json!({"userId": id, "firstName": "Nora"}));
    let user = read(&w, "v1", &id, "");
    assert_eq!(user["updatedDate"], Value::Null, "nothing changed: {user}");

    update(
        &w,
        json!({"userId": id, "emailVerified": false, "phoneVerified": true}),
    );
    let user = read(&w, "v1", &id, "");
    assert_eq!(user["emailVerified"], false, "as sent: {user}");
    assert_eq!(user["phoneVerified"], false, "no phone to verify: {user}");
    let first = user["updatedDate"].clone();
    assert!(first.is_string(), "the flag changed: {user}");

    clock.advance(chrono::Duration::minutes(5));
    update(&w, json!({"userId": id, "language": ["Tamil"]}));
    let user = read(&w, "v1", &id, "");
    assert_eq!(user["language"], json!(["Tamil"]), "{user}");
    assert!(
        user["updatedDate"].is_string() && user["updatedDate"] != first,
        "a Sunbird-only field changed: {user}"
    );
}

#[test]
fn an_empty_email_or_phone_in_an_update_is_refused_and_changes_nothing() {
    let w = world();
    let id = create(
        &w,
        "/api/user/v1/create",
        json!({"firstName": "Ema", "email": "ema@example.com", "phone": "9876512345"}),
    );
    let before = export_of(&w.i);
    for path in ["/api/user/v1/update", "/api/user/v3/update"] {
        for field in ["email", "phone"] {
            for blank in ["", "  "] {
                let body = json!({"request": {"userId": id, field: blank, "lastName": "Changed"}});
                let m = w.fails("PATCH", path, Some(body), 400, "UOS_USRUPD0017");
                assert!(m.contains(&format!("parameter {field}")), "{m}");
            }
        }
    }
    assert_eq!(export_of(&w.i), before, "a refused update wrote");
    let user = read(&w, "v1", &id, "");
    assert_eq!(user["email"], "em*@example.com");
    assert_eq!(user["phone"], "******2345");
    assert_eq!(user["lastName"], Value::Null);
}

// ---------------------------------------------------------------------
// S2 create: external ids, channels, taken phones
// ---------------------------------------------------------------------

#[test]
fn an_external_id_is_unique_per_provider_type_and_id_ignoring_case() {
    let w = world();
    w.org("State", "state1", true);
    let sso = |first: &str, email: &str, ext: Value| {
        w.send(
            "POST",
            "/api/user/v1/sso/create",
            Some(json!({"request": {"firstName": first, "email": email,
                "channel": "state1", "externalIds": ext}})),
        )
    };
    let r = sso(
        "A",
        "a@example.com",
        json!([{"id": "Roll-7", "provider": "State1", "idType": "Roll"}]),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let a = user_id(&r.json()["result"]);
    assert_eq!(
        read(&w, "v4", &a, "")["externalIds"],
        json!([{"id": "roll-7", "idType": "roll", "provider": "state1"}])
    );
    let before = export_of(&w.i);
    // The same triple in other cases is taken, on create and on update.
    let r = sso(
        "B",
        "b@example.com",
        json!([{"id": "ROLL-7", "provider": "STATE1", "idType": "roll"}]),
    );
    assert_eq!(
        failure(&r, 400, "UOS_USRCRT0002"),
        "externalId (id: roll-7, idType: roll, provider: state1) already exists"
    );
    assert_eq!(export_of(&w.i), before, "a refused create wrote");
    let c = w.user("C", "c@example.com");
    let before = export_of(&w.i);
    let m = w.fails(
        "PATCH",
        "/api/user/v3/update",
        Some(json!({"request": {"userId": c, "externalIds": [
            {"id": "roll-7", "provider": "state1", "idType": "ROLL"}]}})),
        400,
        "UOS_USRUPD0002",
    );
    assert!(m.ends_with("already exists"), "{m}");
    assert_eq!(export_of(&w.i), before, "a refused update wrote");
    // The same id of another type, or of another provider, is another id.
    let r = sso(
        "B",
        "b@example.com",
        json!([{"id": "roll-7", "provider": "state1", "idType": "admission"}]),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    update(
        &w,
        json!({"userId": c, "externalIds": [{"id": "roll-7", "provider": "other", "idType": "roll"}]}),
    );
}

#[test]
fn an_unknown_channel_is_refused_and_creates_no_user() {
    let w = world();
    w.org("State", "state1", true);
    w.user("Someone", "someone@example.com");
    let before = export_of(&w.i);
    for path in ["/api/user/v1/sso/create", "/api/user/v1/create"] {
        let body = json!({"request": {"firstName": "Lost", "email": "lost@example.com",
            "channel": "no-such-channel"}});
        // SPEC: "unknown channel is an error"; the number is roster's
        // (0017, an invalid value, as for an unknown organisation).
        let m = w.fails("POST", path, Some(body), 400, "UOS_USRCRT0017");
        assert!(
            m.contains("no-such-channel") && m.contains("channel"),
            "{m}"
        );
    }
    assert_eq!(export_of(&w.i), before, "a refused create wrote");
    let found = w.ok("GET", "/api/user/v1/exists/email/lost@example.com", None);
    assert_eq!(found, json!({"exists": false}));
}

/// S2: a blank `channel` on a create is no channel (the default
/// organisation), while an SSO create must name one.
#[test]
fn a_blank_channel_is_the_default_organisation_and_sso_needs_one() {
    let w = world();
    let id = create(
        &w,
        "/api/user/v1/create",
        json!({"firstName": "Blank", "email": "blank@example.com", "channel": "  "}),
    );
    let user = read(&w, "v1", &id, "");
    assert_eq!(user["rootOrg"]["channel"], "default", "{user}");
    let before = export_of(&w.i);
    for channel in [None, Some(""), Some("  ")] {
        let mut body = json!({"firstName": "Single", "email": "single@example.com"});
        if let Some(c) = channel {
            body["channel"] = json!(c);
        }
        let m = w.fails(
            "POST",
            "/api/user/v1/sso/create",
            Some(json!({ "request": body })),
            400,
            "UOS_USRCRT0030",
        );
        assert!(m.contains("channel"), "{channel:?}: {m}");
    }
    assert_eq!(export_of(&w.i), before, "a refused SSO create wrote");
}

/// S1: a create's blank email or phone is none, `Transgender` is a
/// gender, and a refused shared field is named as Sunbird names it.
#[test]
fn a_create_reads_shared_fields_as_sunbird_sends_them() {
    let w = world();
    let id = create(
        &w,
        "/api/user/v1/create",
        json!({"firstName": "Tara", "email": "  ", "phone": "9876500003",
            "gender": "Transgender"}),
    );
    let user = read(&w, "v1", &id, "");
    assert_eq!(user["email"], Value::Null, "{user}");
    assert_eq!(user["gender"], "trans", "{user}");
    let id = create(
        &w,
        "/api/user/v1/create",
        json!({"firstName": "Uma", "email": "uma@example.com", "phone": ""}),
    );
    let user = read(&w, "v1", &id, "");
    assert_eq!(user["phone"], Value::Null, "{user}");
    let before = export_of(&w.i);
    for (field, value) in [
        ("firstName", json!("A\u{1}")),
        ("lastName", json!("B\u{1}")),
        ("avatar", json!("x".repeat(100_000))),
        ("gender", json!("robot")),
        ("userName", json!("é".repeat(151))),
        ("userName", json!("tara\u{1}")),
    ] {
        let mut body = json!({"firstName": "Vik", "email": "vik@example.com"});
        body[field] = value;
        let m = w.fails(
            "POST",
            "/api/user/v1/create",
            Some(json!({ "request": body })),
            400,
            "UOS_USRCRT0009",
        );
        assert_eq!(m, format!("Invalid format for given {field}."));
    }
    assert_eq!(export_of(&w.i), before, "a refused create wrote");
    // A user name as long as one may be, in two-byte characters.
    let long = "é".repeat(150);
    let id = create(
        &w,
        "/api/user/v1/create",
        json!({"firstName": "Wen", "email": "wen@example.com", "userName": long}),
    );
    assert_eq!(read(&w, "v1", &id, "")["userName"], json!(long));
}

/// S1: a `dob` is a date from 1900 to today, or a year alone (its last
/// day, this year's included).
#[test]
fn a_dob_is_a_date_from_1900_to_today_or_a_year() {
    let w = world();
    // The seed's clock is on 2023-01-12.
    for (n, (dob, stored)) in [
        ("1990", "1990-12-31"),
        ("2023", "2023-12-31"),
        ("1900-01-01", "1900-01-01"),
        ("2023-01-12", "2023-01-12"),
    ]
    .into_iter()
    .enumerate()
    {
        let id = create(
            &w,
            "/api/user/v1/create",
            json!({"firstName": "Dee", "email": format!("dee{n}@example.com"), "dob": dob}),
        );
        assert_eq!(read(&w, "v1", &id, "")["dob"], stored, "{dob}");
    }
    let before = export_of(&w.i);
    for dob in ["1899-12-31", "1899", "2024", "2023-01-13", "19900", "199a"] {
        let body = json!({"firstName": "Dee", "email": "late@example.com", "dob": dob});
        let m = w.fails(
            "POST",
            "/api/user/v1/create",
            Some(json!({ "request": body })),
            400,
            "UOS_USRCRT0009",
        );
        assert_eq!(m, "Invalid format for given dob.", "{dob}");
    }
    assert_eq!(export_of(&w.i), before, "a refused create wrote");
}

/// Each entry of a user's Sunbird lists within its bounds: a name of at
/// most 150 characters without control characters; a location's code and
/// type, a user type's type and sub-type, at most 100 bytes, the type and
/// code never blank; an external id's parts at most 200 bytes, none blank
/// and none with a control character. Refused entries change nothing.
#[test]
fn each_entry_of_a_sunbird_list_is_checked_at_its_edges() {
    let w = world();
    let id = w.user("Edge", "edge@example.com");
    let x = |n: usize| "x".repeat(n);
    let location = |code: &str, kind: &str| json!([{"code": code, "type": kind}]);
    let user_type = |kind: &str, sub: &str| json!([{"type": kind, "subType": sub}]);
    let external = |id: &str, id_type: &str, provider: &str| json!([{"id": id, "idType": id_type, "provider": provider}]);
    let taken = [
        ("language", json!(["é".repeat(150)])),
        ("profileLocation", location(&x(100), &x(100))),
        ("profileUserTypes", user_type(&x(100), &x(100))),
        ("profileUserTypes", user_type("teacher", "")),
        ("externalIds", external(&x(200), &x(200), &x(200))),
    ];
    for (key, value) in taken {
        update(&w, json!({"userId": id, key: value.clone()}));
    }
    let before = export_of(&w.i);
    let refused = [
        ("language", json!(["é".repeat(151)]), "language"),
        ("grade", json!(["five\u{1}"]), "grade"),
        ("profileLocation", location("", "state"), "profileLocation"),
        ("profileLocation", location("c1", " "), "profileLocation"),
        (
            "profileLocation",
            location(&x(101), "state"),
            "profileLocation",
        ),
        (
            "profileLocation",
            location("c1", &x(101)),
            "profileLocation",
        ),
        ("profileUserTypes", user_type("", "sub"), "profileUserType"),
        (
            "profileUserTypes",
            user_type(&x(101), ""),
            "profileUserType",
        ),
        (
            "profileUserTypes",
            user_type("teacher", &x(101)),
            "profileUserType",
        ),
        ("externalIds", external("", "roll", "board"), "externalIds"),
        ("externalIds", external("7", " ", "board"), "externalIds"),
        ("externalIds", external("7", "roll", ""), "externalIds"),
        (
            "externalIds",
            external(&x(201), "roll", "board"),
            "externalIds",
        ),
        (
            "externalIds",
            external("7", &x(201), "board"),
            "externalIds",
        ),
        ("externalIds", external("7", "roll", &x(201)), "externalIds"),
        (
            "externalIds",
            external("7\u{1}", "roll", "board"),
            "externalIds",
        ),
    ];
    for (key, value, param) in refused {
        let m = w.fails(
            "PATCH",
            "/api/user/v3/update",
            Some(json!({"request": {"userId": id, key: value.clone()}})),
            400,
            "UOS_USRUPD0009",
        );
        assert_eq!(m, format!("Invalid format for given {param}."), "{value}");
    }
    assert_eq!(export_of(&w.i), before, "a refused update wrote");
}

/// `framework` is a JSON object (shown as a map); `address`, `education`
/// and `jobProfile` are lists of objects; each at most 10,000 bytes as
/// compact JSON. The REST surface types them; the typed API takes text
/// and holds it to the same shapes.
#[test]
fn sunbird_json_fields_are_an_object_or_a_list_of_objects_within_bounds() {
    let w = world();
    let id = w.user("Json", "json@example.com");
    // Exactly 10,000 bytes, as compact JSON.
    let framework = json!({"k": ["x".repeat(9_990)]});
    assert_eq!(framework.to_string().len(), 10_000);
    update(
        &w,
        json!({"userId": id, "framework": framework, "address": [{"city": "Pune"}]}),
    );
    let user = read(&w, "v1", &id, "");
    assert_eq!(user["framework"], framework, "{user}");
    let pk = w.i.operator().find_user("json@example.com").unwrap();
    assert_eq!(exported_side(&w, pk)["address"], "[{\"city\":\"Pune\"}]");
    let before = export_of(&w.i);
    let too_long = json!({"k": ["x".repeat(9_991)]});
    let m = w.fails(
        "PATCH",
        "/api/user/v3/update",
        Some(json!({"request": {"userId": id, "framework": too_long}})),
        400,
        "UOS_USRUPD0009",
    );
    assert_eq!(m, "Invalid format for given framework.");
    let admin = w.i.operator();
    for (key, value) in [
        ("framework", "[{\"k\": [\"x\"]}]"),
        ("framework", "[1]"),
        ("address", "[1]"),
        ("address", "{\"city\": \"Pune\"}"),
        ("education", "[{}, 2]"),
        ("jobProfile", "\"text\""),
        ("jobProfile", "[{]"),
    ] {
        let text = Some(value.to_string());
        let patch = match key {
            "framework" => roster::domain::sunbird::SunbirdInput {
                framework: text,
                ..Default::default()
            },
            "address" => roster::domain::sunbird::SunbirdInput {
                address: text,
                ..Default::default()
            },
            "education" => roster::domain::sunbird::SunbirdInput {
                education: text,
                ..Default::default()
            },
            _ => roster::domain::sunbird::SunbirdInput {
                job_profile: text,
                ..Default::default()
            },
        };
        let err = admin.sunbird_update(&id, patch).unwrap_err();
        assert_eq!(
            err.message(),
            format!("Invalid format for given {key}."),
            "{value}"
        );
    }
    assert_eq!(export_of(&w.i), before, "a refused update wrote");
}

/// A system setting's id is at most 100 characters without control
/// characters and its value at most 10,000 bytes; any signed-in caller
/// reads a setting back through the typed API.
#[test]
fn system_settings_are_bounded_and_read_back_by_any_signed_in_caller() {
    let w = world();
    w.user("Reader", "reader@example.com");
    let reader = w.i.login("reader@example.com", PASSWORD).unwrap().token;
    let set = |id: &str, value: &str| {
        w.send(
            "POST",
            "/api/data/v1/system/settings/set",
            Some(json!({"request": {"id": id, "field": id, "value": value}})),
        )
    };
    let id = "é".repeat(100);
    let value = "v".repeat(10_000);
    let r = set(&id, &value);
    assert_eq!(r.status, 200, "{:?}", r.body);
    let before = export_of(&w.i);
    for (id, value, param) in [
        ("é".repeat(101), "v".to_string(), "id"),
        ("page\u{1}".to_string(), "v".to_string(), "id"),
        ("page".to_string(), "v".repeat(10_001), "value"),
    ] {
        let r = set(&id, &value);
        let m = failure(&r, 400, "UOS_SYSCRT0009");
        assert_eq!(m, format!("Invalid format for given {param}."));
    }
    assert_eq!(export_of(&w.i), before, "a refused setting was written");
    let handle = w.i.session(&reader).expect("the reader's session");
    assert_eq!(handle.system_setting(&id).unwrap(), Some(value));
    assert_eq!(handle.system_setting("page").unwrap(), None);
}

/// S10: a removal takes only the declaration of its organisation and
/// persona; changes naming one user by its id in either case apply to
/// that user in order; a user holds at most a hundred declarations.
#[test]
fn declarations_are_kept_per_organisation_and_persona_up_to_a_hundred() {
    let w = world();
    let id = w.user("Declarer", "declarer@example.com");
    let change = |operation: &str, user: &str, org: &str, persona: &str| {
        json!({"operation": operation, "userId": user, "orgId": org, "persona": persona,
            "info": {"by": format!("{org}/{persona}")}})
    };
    let send = |changes: Vec<Value>| {
        w.send(
            "PATCH",
            "/api/user/v1/declarations",
            Some(json!({"request": {"declarations": changes}})),
        )
    };
    let declared = || -> BTreeSet<(String, String)> {
        let path = format!("/api/user/v1/read/{id}?fields=declarations");
        w.ok("GET", &path, None)["response"]["declarations"]
            .as_array()
            .expect("declarations")
            .iter()
            .map(|d| {
                let text = |k: &str| d[k].as_str().expect("text").to_string();
                (text("orgId"), text("persona"))
            })
            .collect()
    };
    let upper = id.to_uppercase();
    let r = send(vec![
        change("add", &id, "org1", "teacher"),
        change("add", &upper, "org2", "teacher"),
        change("add", &id, "org1", "parent"),
    ]);
    assert_eq!(r.status, 200, "{:?}", r.body);
    let pair = |o: &str, p: &str| (o.to_string(), p.to_string());
    assert_eq!(
        declared(),
        BTreeSet::from([
            pair("org1", "teacher"),
            pair("org2", "teacher"),
            pair("org1", "parent")
        ])
    );
    let r = send(vec![change("remove", &upper, "org1", "teacher")]);
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        declared(),
        BTreeSet::from([pair("org2", "teacher"), pair("org1", "parent")])
    );
    // 98 more make a hundred; one more is refused, and nothing changes.
    let more: Vec<Value> = (0..98)
        .map(|k| change("add", &id, &format!("o{k}"), "teacher"))
        .collect();
    assert_eq!(send(more).status, 200);
    assert_eq!(declared().len(), 100);
    let before = export_of(&w.i);
    let r = send(vec![change("add", &id, "o98", "teacher")]);
    let m = failure(&r, 400, "UOS_UDECLUPD0009");
    assert!(m.contains("declarations"), "{m}");
    assert_eq!(export_of(&w.i), before, "a refused change wrote");
}

/// S1: a create records its creator (`createdBy`), and a contact is
/// verified only when the create says so and the user has that contact.
#[test]
fn a_create_records_its_creator_and_verifies_only_what_it_is_told_to() {
    let w = world();
    let root = w.ok("GET", "/api/user/v1/get/userName/root", None)["response"]["id"].clone();
    assert!(root.is_string(), "{root}");
    let both = create(
        &w,
        "/api/user/v1/create",
        json!({"firstName": "Both", "email": "both@example.com", "phone": "9876500001"}),
    );
    let user = read(&w, "v1", &both, "");
    assert_eq!(user["createdBy"], root, "{user}");
    assert_eq!(
        (&user["emailVerified"], &user["phoneVerified"]),
        (&json!(false), &json!(false)),
        "nothing was said verified"
    );
    // Made now: created, last changed and its password set at one instant.
    assert_eq!(user["updatedDate"], Value::Null, "{user}");
    let pk = w.i.operator().find_user("both@example.com").unwrap();
    let record = roster_tests::exported_user(&w.i, pk);
    assert!(
        record["created"].as_i64().is_some_and(|t| t > 0),
        "{record}"
    );
    assert_eq!(record["modified"], record["created"], "{record}");
    assert_eq!(record["password_changed"], record["created"], "{record}");
    let phone_only = create(
        &w,
        "/api/user/v1/create",
        json!({"firstName": "Phone", "phone": "9876500002",
            "emailVerified": true, "phoneVerified": false}),
    );
    let user = read(&w, "v1", &phone_only, "");
    assert_eq!(
        (&user["emailVerified"], &user["phoneVerified"]),
        (&json!(false), &json!(false)),
        "no email to verify, and the phone said unverified"
    );
    let email_only = create(
        &w,
        "/api/user/v1/create",
        json!({"firstName": "Mail", "email": "mail@example.com",
            "emailVerified": false, "phoneVerified": true}),
    );
    let user = read(&w, "v1", &email_only, "");
    assert_eq!(
        (&user["emailVerified"], &user["phoneVerified"]),
        (&json!(false), &json!(false)),
        "no phone to verify, and the email said unverified"
    );
}

#[test]
fn a_taken_phone_is_already_exists_and_creates_no_user() {
    let w = world();
    create(
        &w,
        "/api/user/v1/create",
        json!({"firstName": "Pia", "phone": "9876543210"}),
    );
    let before = export_of(&w.i);
    for (path, phone) in [
        ("/api/user/v1/create", json!(9876543210u64)),
        ("/api/user/v2/create", json!("+91 98765-43210")),
        ("/api/user/v1/signup", json!("9876543210")),
    ] {
        let body = json!({"request": {"firstName": "Quinn", "phone": phone, "email": "quinn@example.com"}});
        let m = w.fails("POST", path, Some(body), 400, "UOS_USRCRT0002");
        assert_eq!(m, "phone already exists", "{path}");
    }
    assert_eq!(export_of(&w.i), before, "a refused create wrote");
}

/// A role's scope is bounded (1,000 organisations): a change that would
/// scope a role wider is refused and writes nothing.
#[test]
fn a_roles_scope_is_bounded() {
    use roster::api::sunbird::OrgInput;
    let w = world();
    w.org("Springfield", "springfield", true);
    let orgs: Vec<u64> = (0..1001)
        .map(|n| {
            let input = OrgInput {
                name: Some(format!("School {n}")),
                org_type: Some("school".into()),
                channel: Some("springfield".into()),
                is_tenant: Some(false),
                ..Default::default()
            };
            w.i.operator().create_organisation(input).expect("org")
        })
        .collect();
    let id = w.user("Teacher", "teacher@example.com");
    let assign = |orgs: &[u64]| {
        let scope: Vec<Value> = orgs.iter().map(|o| json!({"organisationId": o})).collect();
        json!({"request": {"userId": id, "roles": [
            {"role": "COURSE_CREATOR", "operation": "add", "scope": scope}]}})
    };
    w.ok(
        "POST",
        "/api/user/v2/role/assign",
        Some(assign(&orgs[..1000])),
    );
    let before = export_of(&w.i);
    w.fails(
        "POST",
        "/api/user/v2/role/assign",
        Some(assign(&orgs[1000..])),
        400,
        "UOS_ROLUPD0009",
    );
    assert_eq!(export_of(&w.i), before, "a refused change wrote");
}

/// An organisation's external id names one organisation of its tenant (an
/// SSO create joins the one its `orgExternalId` names): a second with the
/// same id, in any case, is refused; another tenant may use it.
#[test]
fn an_external_id_names_one_organisation_of_its_tenant() {
    let w = world();
    w.org("Springfield", "springfield", true);
    w.org("Shelbyville", "shelbyville", true);
    let sub = |channel: &str, external_id: &str| {
        json!({"request": {"orgName": "School", "organisationType": "school",
            "channel": channel, "isTenant": false, "externalId": external_id}})
    };
    w.ok("POST", "/api/org/v1/create", Some(sub("springfield", "s1")));
    let before = export_of(&w.i);
    w.fails(
        "POST",
        "/api/org/v1/create",
        Some(sub("springfield", "S1")),
        400,
        "UOS_ORGCRT0004",
    );
    assert_eq!(export_of(&w.i), before, "a refused create wrote");
    w.ok("POST", "/api/org/v1/create", Some(sub("shelbyville", "s1")));
}

/// `loginId` finds a user by username, then email, then phone: a username
/// may not be another user's phone, nor a phone another user's username,
/// on any path, or a lookup of the one would find the other.
#[test]
fn a_username_and_another_users_phone_are_one_namespace() {
    let w = world();
    let pia = create(
        &w,
        "/api/user/v1/create",
        json!({"firstName": "Pia", "phone": "9876543210", "userName": "pia"}),
    );
    let before = export_of(&w.i);
    let body = json!({"request": {"firstName": "Quinn", "userName": "9876543210",
        "email": "quinn@example.com"}});
    let m = w.fails(
        "POST",
        "/api/user/v1/create",
        Some(body),
        400,
        "UOS_USRCRT0002",
    );
    assert_eq!(m, "userName already exists");
    // Other spellings of the same number: a loginId reads them as it.
    for spelt in ["+919876543210", "98765-43210", "987.654.3210"] {
        let body = json!({"request": {"firstName": "Quinn", "userName": spelt,
            "email": "quinn@example.com"}});
        w.fails(
            "POST",
            "/api/user/v1/create",
            Some(body),
            400,
            "UOS_USRCRT0002",
        );
    }
    let body = json!({"request": {"firstName": "Quinn", "phone": "9123456789",
        "userName": "quinn"}});
    create(&w, "/api/user/v1/create", body["request"].clone());
    assert_ne!(export_of(&w.i), before);
    // A phone that is another user's username.
    let body = json!({"request": {"firstName": "Ravi", "phone": "9123456780"}});
    let ravi = create(&w, "/api/user/v1/create", body["request"].clone());
    let ravi_name = read(&w, "v1", &ravi, "")["userName"]
        .as_str()
        .unwrap()
        .to_string();
    let ravi_pk = w.i.operator().find_user(&ravi_name).unwrap();
    let r = roster_tests::call_as(
        &w.i,
        &w.token,
        "PATCH",
        &format!("/api/v2.5/admin/users/{ravi_pk}/"),
        Some(json!({"username": "9876543210"})),
    );
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert!(
        r.body.as_deref().unwrap_or("").contains("phone number"),
        "{:?}",
        r.body
    );
    let quinn_pk = w.i.operator().find_user("quinn").unwrap();
    let r = roster_tests::call_as(
        &w.i,
        &w.token,
        "PATCH",
        &format!("/api/v2.5/admin/users/{quinn_pk}/"),
        Some(json!({"phone": "pia"})),
    );
    assert_eq!(r.status, 400, "{:?}", r.body);
    // The lookup by phone finds Pia, whose phone it is.
    let found = w.ok("GET", "/api/user/v1/get/loginId/9876543210", None);
    assert_eq!(found["response"]["id"], json!(pia), "{found}");
}

// ---------------------------------------------------------------------
// S1 / S3 create: passwords and managers
// ---------------------------------------------------------------------

#[test]
fn a_user_created_without_a_password_cannot_sign_in_with_any_guess() {
    let w = world();
    create(
        &w,
        "/api/user/v1/create",
        json!({"firstName": "Nopass", "userName": "nopass", "email": "nopass@example.com"}),
    );
    let admin = w.i.operator();
    let pk = admin.find_user("nopass").unwrap();
    for login in ["nopass", "NOPASS", "nopass@example.com"] {
        for guess in ["", " ", "!", "nopass", PASSWORD, "password", "\u{0}"] {
            assert!(
                w.i.login(login, guess).is_err(),
                "{login} signed in with {guess:?}"
            );
            // The lock-out must not be what refuses the next guess.
            admin.unlock_user(pk).unwrap();
        }
        let r = roster::rest::handle(
            &w.i,
            Request::new("POST", "/api/v2.5/auth-token/")
                .with_header("Content-Type", "application/json")
                .with_body(json!({"username": login, "password": ""}).to_string()),
        );
        assert_eq!(r.status, 400, "{login}: {:?}", r.body);
        admin.unlock_user(pk).unwrap();
    }
    // Until an administrator sets one.
    let id = admin.get_user(pk).unwrap().uuid;
    update(&w, json!({"userId": id, "password": "Fresh@pass1"}));
    assert!(w.i.login("nopass", "Fresh@pass1").is_ok());
}

#[test]
fn a_managed_create_with_a_password_is_refused() {
    let w = world();
    let parent = w.user("Parent", "parent@example.com");
    let token = w.i.login("parent@example.com", PASSWORD).unwrap().token;
    let before = export_of(&w.i);
    for path in ["/api/user/v4/create", "/api/user/v1/managed/create"] {
        let body =
            json!({"request": {"firstName": "Kid", "managedBy": parent, "password": PASSWORD}});
        for caller in [w.token.as_str(), token.as_str()] {
            let r = w.send_as(caller, "POST", path, Some(body.clone()));
            assert_eq!(
                failure(&r, 400, "UOS_USRCRT0021"),
                "Invalid parameter password in request."
            );
        }
    }
    assert_eq!(export_of(&w.i), before, "a refused create wrote");
    let list = w.ok("GET", &format!("/api/user/v1/managed/{parent}"), None);
    assert_eq!(list["response"]["count"], 0);
}

#[test]
fn managed_by_a_deleted_or_merged_away_user_is_refused() {
    let w = world();
    let admin = w.i.operator();
    let gone = w.user("Gone", "gone@example.com");
    admin
        .delete_user(admin.find_user("gone@example.com").unwrap())
        .unwrap();
    let merged = w.user("Merged", "merged@example.com");
    let into = w.user("Into", "into@example.com");
    w.ok(
        "PATCH",
        "/api/user/v1/account/merge",
        Some(json!({"request": {"fromAccountId": merged, "toAccountId": into}})),
    );
    let before = export_of(&w.i);
    for manager in [&gone, &merged] {
        for path in ["/api/user/v4/create", "/api/user/v1/managed/create"] {
            let body = json!({"request": {"firstName": "Kid", "managedBy": manager}});
            let m = w.fails("POST", path, Some(body), 404, "UOS_USRCRT0013");
            assert_eq!(m, "Requested user resource not found");
        }
    }
    assert_eq!(export_of(&w.i), before, "a refused create wrote");
    // The one they merged into may manage.
    w.ok(
        "POST",
        "/api/user/v4/create",
        Some(json!({"request": {"firstName": "Kid", "managedBy": into}})),
    );
}

/// S12: a merge unites the two users' declarations, and the target keeps
/// to the hundred its own declarations path takes (an export of more
/// would not restore); the refused merge writes nothing.
#[test]
fn a_merge_that_would_leave_more_than_a_hundred_declarations_is_refused() {
    let w = world();
    let from = w.user("Many", "many@example.com");
    let to = w.user("One", "one@example.com");
    let declare = |user: &str, orgs: std::ops::Range<u32>| {
        let changes: Vec<Value> = orgs
            .map(|k| {
                json!({"operation": "add", "userId": user, "orgId": format!("o{k}"),
                "persona": "teacher", "info": {}})
            })
            .collect();
        w.ok(
            "PATCH",
            "/api/user/v1/declarations",
            Some(json!({"request": {"declarations": changes}})),
        );
    };
    declare(&from, 0..100);
    declare(&to, 100..101);
    let before = export_of(&w.i);
    let body = json!({"request": {"fromAccountId": from, "toAccountId": to}});
    let m = w.fails(
        "PATCH",
        "/api/user/v1/account/merge",
        Some(body),
        400,
        "UOS_USRMRG0009",
    );
    assert_eq!(m, "Invalid format for given declarations.");
    assert_eq!(export_of(&w.i), before, "a refused merge wrote");
    // One declaration the two share leaves a hundred: the merge goes on.
    w.ok(
        "PATCH",
        "/api/user/v1/declarations",
        Some(
            json!({"request": {"declarations": [{"operation": "remove", "userId": to,
            "orgId": "o100", "persona": "teacher"}]}}),
        ),
    );
    declare(&to, 0..1);
    w.ok(
        "PATCH",
        "/api/user/v1/account/merge",
        Some(json!({"request": {"fromAccountId": from, "toAccountId": to}})),
    );
    let path = format!("/api/user/v1/read/{to}?fields=declarations");
    let declared = &w.ok("GET", &path, None)["response"]["declarations"];
    assert_eq!(declared.as_array().map(Vec::len), Some(100));
    assert_eq!(w.i.check_integrity().unwrap(), Vec::<String>::new());
}

/// S3, S12: a user who manages others is not merged away (its managed
/// users sign in through it alone), and a managed user merged away no
/// longer counts toward its manager's limit.
#[test]
fn a_manager_is_not_merged_away_and_a_merged_away_managed_user_frees_its_place() {
    let (mut config, _) = roster_tests::config(SEED_NOW);
    config.sunbird.managed_limit = 1;
    let i = roster_tests::store(config);
    i.create_superuser("root", "root-pass-1").unwrap();
    let token = i.login("root", "root-pass-1").unwrap().token;
    let w = World { i, token };
    let manager = w.user("Parent", "parent@example.com");
    let other = w.user("Other", "other@example.com");
    let kid = create(
        &w,
        "/api/user/v4/create",
        json!({"firstName": "Kid", "managedBy": manager}),
    );
    let before = export_of(&w.i);
    let body = json!({"request": {"fromAccountId": manager, "toAccountId": other}});
    let m = w.fails(
        "PATCH",
        "/api/user/v1/account/merge",
        Some(body),
        400,
        "UOS_USRMRG0017",
    );
    assert!(m.contains("fromAccountId"), "{m}");
    assert_eq!(export_of(&w.i), before, "a refused merge wrote");
    // The managed user merged into another account: its place is free.
    w.ok(
        "PATCH",
        "/api/user/v1/account/merge",
        Some(json!({"request": {"fromAccountId": kid, "toAccountId": other}})),
    );
    create(
        &w,
        "/api/user/v4/create",
        json!({"firstName": "Second", "managedBy": manager}),
    );
    let r = w.send(
        "POST",
        "/api/user/v4/create",
        Some(json!({"request": {"firstName": "Third", "managedBy": manager}})),
    );
    failure(&r, 400, "MANAGED_USER_LIMIT_EXCEEDED");
    assert_eq!(w.i.check_integrity().unwrap(), Vec::<String>::new());
}

/// S2, S3: a manager creating its own managed user, and a self-signup,
/// choose no organisation and claim no external id (SSO create's fields,
/// an administrator's): an external id claimed so would keep its real
/// holder's SSO create out. An administrator's managed create may.
#[test]
fn creates_that_need_no_permission_take_no_channel_or_external_id() {
    let (mut config, _) = roster_tests::config(SEED_NOW);
    config.sunbird.self_signup = true;
    let i = roster_tests::store(config);
    i.create_superuser("root", "root-pass-1").unwrap();
    let token = i.login("root", "root-pass-1").unwrap().token;
    let w = World { i, token };
    w.org("State", "state1", true);
    let manager = w.user("Parent", "parent@example.com");
    let manager_token = w.i.login("parent@example.com", PASSWORD).unwrap().token;
    let ext = json!([{"id": "t-1", "provider": "state1", "idType": "state1"}]);
    let before = export_of(&w.i);
    for (field, value) in [
        ("channel", json!("state1")),
        ("orgExternalId", json!("school-9")),
        ("externalIds", ext.clone()),
    ] {
        let mut body = json!({"firstName": "Kid", "managedBy": manager});
        body[field] = value.clone();
        let r = w.send_as(
            &manager_token,
            "POST",
            "/api/user/v1/managed/create",
            Some(json!({ "request": body })),
        );
        let m = failure(&r, 400, "UOS_USRCRT0021");
        assert_eq!(m, format!("Invalid parameter {field} in request."));
        let mut body = json!({"firstName": "Self", "email": "self@example.com"});
        body[field] = value;
        let signup = Some(json!({ "request": body }));
        let r = w.send_as(&manager_token, "POST", "/api/user/v2/signup", signup);
        let m = failure(&r, 400, "UOS_USRCRT0021");
        assert_eq!(m, format!("Invalid parameter {field} in request."));
    }
    assert_eq!(export_of(&w.i), before, "a refused create wrote");
    // The administrator's SSO create of the id's holder goes through, and a
    // blank channel is no channel for a managed create.
    let by_admin = json!({"request": {"firstName": "Kid", "managedBy": manager,
        "externalIds": [{"id": "k-1", "provider": "state1", "idType": "state1"}]}});
    w.ok("POST", "/api/user/v1/managed/create", Some(by_admin));
    w.created(
        "/api/user/v1/sso/create",
        json!({"request": {"firstName": "Holder", "email": "holder@example.com",
            "channel": "state1", "externalIds": ext}}),
    );
    let r = w.send_as(
        &manager_token,
        "POST",
        "/api/user/v1/managed/create",
        Some(json!({"request": {"firstName": "Kid", "managedBy": manager, "channel": " "}})),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
}

// ---------------------------------------------------------------------
// S13 organisation create
// ---------------------------------------------------------------------

/// The default organisation's channel is kept for it, in any case or
/// Unicode form, and a tenant's channel is taken in every form that folds
/// to it: both are refused as a channel in use, not as a damaged store.
#[test]
fn channels_are_unique_in_every_form_and_default_is_kept() {
    let w = world();
    let before = export_of(&w.i);
    for channel in ["default", "DEFAULT", "\u{FF24}efault"] {
        let body = json!({"request": {"orgName": "Taker", "organisationType": "board",
            "channel": channel, "isTenant": true}});
        let m = w.fails(
            "POST",
            "/api/org/v1/create",
            Some(body),
            400,
            "UOS_ORGCRT0004",
        );
        assert!(m.contains("is already in use"), "{m}");
    }
    assert_eq!(
        export_of(&w.i),
        before,
        "a refused organisation was written"
    );
    // A create without a channel makes the default organisation.
    create(
        &w,
        "/api/user/v1/create",
        json!({"firstName": "Plain", "email": "plain@example.com"}),
    );
    let state = w.org("State", "state1", true);
    let body = json!({"request": {"orgName": "Again", "organisationType": "board",
        "channel": "\u{FF33}\u{FF34}\u{FF21}\u{FF34}\u{FF25}\u{FF11}", "isTenant": true}});
    let m = w.fails(
        "POST",
        "/api/org/v1/create",
        Some(body),
        400,
        "UOS_ORGCRT0004",
    );
    assert!(m.contains("is already in use"), "{m}");
    // A sub-organisation names its tenant in any form.
    let body = json!({"request": {"orgName": "School", "organisationType": "school",
        "channel": "\u{FF33}TATE1", "isTenant": false}});
    let sub = w.ok("POST", "/api/org/v1/create", Some(body))["organisationId"]
        .as_u64()
        .unwrap();
    let org = w.ok(
        "POST",
        "/api/org/v1/read",
        Some(json!({"request": {"organisationId": sub}})),
    );
    assert_eq!(org["response"]["rootOrgId"], json!(state), "{org}");
    assert_eq!(w.i.check_integrity().unwrap(), Vec::<String>::new());
}

#[test]
fn an_organisation_create_checks_name_type_tenant_channel_and_email() {
    let w = world();
    let base = json!({"orgName": "School", "organisationType": "school", "channel": "school-1",
        "isTenant": true, "email": "office@school.example.com"});
    let with = |edit: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut body = base.as_object().unwrap().clone();
        edit(&mut body);
        json!({ "request": body })
    };
    let before = export_of(&w.i);
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            with(&|b| {
                b.remove("orgName");
            }),
            "UOS_ORGCRT0030",
            "Mandatory parameter orgName is missing.",
        ),
        (
            with(&|b| {
                b.insert("orgName".into(), json!("   "));
            }),
            "UOS_ORGCRT0030",
            "Mandatory parameter orgName is missing.",
        ),
        (
            with(&|b| {
                b.remove("organisationType");
            }),
            "UOS_ORGCRT0030",
            "Mandatory parameter organisationType is missing.",
        ),
        (
            with(&|b| {
                b.remove("channel");
            }),
            "UOS_ORGCRT0041",
            "Missing parameter channel which is dependent on isTenant.",
        ),
        (
            with(&|b| {
                b.insert("channel".into(), json!(""));
            }),
            "UOS_ORGCRT0041",
            "Missing parameter channel which is dependent on isTenant.",
        ),
        (
            with(&|b| {
                b.insert("email".into(), json!("not-an-email"));
            }),
            "UOS_ORGCRT0009",
            "Invalid format for given email.",
        ),
        (
            with(&|b| {
                b.insert("email".into(), json!("office@"));
                b.insert("isTenant".into(), json!(false));
            }),
            "UOS_ORGCRT0009",
            "Invalid format for given email.",
        ),
        (
            with(&|b| {
                b.remove("channel");
                b.insert("isTenant".into(), json!(false));
            }),
            "UOS_ORGCRT0030",
            "Mandatory parameter channel is missing.",
        ),
        (
            with(&|b| {
                b.insert("channel".into(), json!("school\u{1}1"));
            }),
            "UOS_ORGCRT0009",
            "Invalid format for given channel.",
        ),
        (
            // One character more than a name may have (150).
            with(&|b| {
                b.insert("channel".into(), json!("é".repeat(151)));
            }),
            "UOS_ORGCRT0009",
            "Invalid format for given channel.",
        ),
        (
            // The type and the external id are bounded as a name and a
            // part of a user's external id are, control characters refused.
            with(&|b| {
                b.insert("organisationType".into(), json!("t".repeat(151)));
            }),
            "UOS_ORGCRT0009",
            "Invalid format for given organisationType.",
        ),
        (
            with(&|b| {
                b.insert("organisationType".into(), json!("sch\u{7}ool"));
            }),
            "UOS_ORGCRT0009",
            "Invalid format for given organisationType.",
        ),
        (
            with(&|b| {
                b.insert("externalId".into(), json!("e".repeat(201)));
            }),
            "UOS_ORGCRT0009",
            "Invalid format for given externalId.",
        ),
        (
            with(&|b| {
                b.insert("externalId".into(), json!("ext\u{0}1"));
            }),
            "UOS_ORGCRT0009",
            "Invalid format for given externalId.",
        ),
    ];
    for (body, err, message) in cases {
        let m = w.fails("POST", "/api/org/v1/create", Some(body.clone()), 400, err);
        assert_eq!(m, message, "{body}");
    }
    assert_eq!(
        export_of(&w.i),
        before,
        "a refused organisation was written"
    );
    let id = w.ok(
        "POST",
        "/api/org/v1/create",
        Some(json!({ "request": base })),
    )["organisationId"]
        .as_u64()
        .unwrap();
    let org = w.ok(
        "POST",
        "/api/org/v1/read",
        Some(json!({"request": {"organisationId": id}})),
    );
    assert_eq!(org["response"]["email"], "office@school.example.com");
    // A channel as long as a name may be, in two-byte characters.
    let long = "é".repeat(150);
    let id = w.org("Long", &long, true);
    let org = w.ok(
        "POST",
        "/api/org/v1/read",
        Some(json!({"request": {"organisationId": id}})),
    );
    assert_eq!(org["response"]["channel"], json!(long));
    // The longest type and external id a create takes.
    let body = json!({"request": {"orgName": "Longest", "organisationType": "é".repeat(150),
        "channel": "longest", "isTenant": true, "externalId": "e".repeat(200)}});
    let id = w.ok("POST", "/api/org/v1/create", Some(body))["organisationId"]
        .as_u64()
        .unwrap();
    let org = w.ok(
        "POST",
        "/api/org/v1/read",
        Some(json!({"request": {"organisationId": id}})),
    );
    assert_eq!(org["response"]["organisationType"], json!("é".repeat(150)));
    assert_eq!(org["response"]["externalId"], json!("e".repeat(200)));
}

// ---------------------------------------------------------------------
// S6 read
// ---------------------------------------------------------------------

#[test]
fn completeness_and_missing_fields_weigh_the_fourteen_attributes_equally() {
    let w = world();
    let id = create(
        &w,
        "/api/user/v1/create",
        json!({"firstName": "Asha", "lastName": "Rao", "userName": "asha.rao",
            "email": "asha.rao@example.com"}),
    );
    let measure = |w: &World| {
        let user = read(w, "v1", &id, "completeness,missingFields");
        (user["completeness"].clone(), user["missingFields"].clone())
    };
    // Blank text, empty lists count as empty.
    update(
        &w,
        json!({"userId": id, "dob": "1990-05-01", "language": ["en"], "profileSummary": "   ",
            "grade": [], "subject": [], "address": [], "education": [], "jobProfile": []}),
    );
    // firstName, lastName, dob, language, userName: ceil(5 * 100 / 14) = 36.
    assert_eq!(
        measure(&w),
        (
            json!(36),
            json!([
                "avatar",
                "gender",
                "grade",
                "location",
                "profileSummary",
                "subject",
                "address",
                "education",
                "jobProfile"
            ])
        )
    );
    // Three more: ceil(8 * 100 / 14) = 58.
    update(
        &w,
        json!({"userId": id, "gender": "female", "avatar": "https://example.com/a.png",
            "profileLocation": [{"code": "KA", "type": "state"}]}),
    );
    assert_eq!(
        measure(&w),
        (
            json!(58),
            json!([
                "grade",
                "profileSummary",
                "subject",
                "address",
                "education",
                "jobProfile"
            ])
        )
    );
    // Everything: 100, nothing missing.
    update(
        &w,
        json!({"userId": id, "grade": ["5"], "subject": ["maths"], "profileSummary": "Teacher",
            "address": [{"addressLine1": "1 Road"}], "education": [{"degree": "BSc"}],
            "jobProfile": [{"jobName": "teacher"}]}),
    );
    assert_eq!(measure(&w), (json!(100), json!([])));
    // Each only when asked for.
    let user = read(&w, "v1", &id, "completeness");
    assert_eq!(user["completeness"], 100);
    assert!(user.get("missingFields").is_none(), "{user}");
    let user = read(&w, "v1", &id, "");
    assert!(user.get("completeness").is_none(), "{user}");
}

#[test]
fn v4_and_v5_reads_leave_out_the_deprecated_keys() {
    // The deprecated keys: those of the seed's Read User V1 example that its
    // V4 example leaves out (SPEC S6: "v4 leaves out the deprecated fields").
    let path = roster_tests::document_fixtures().join("sunbird.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let example_keys = |name: &str| {
        let e = doc["examples"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("no example {name}"));
        keys(&e["response_body"]["result"]["response"])
    };
    let deprecated: BTreeSet<String> = example_keys("Read User V1")
        .difference(&example_keys("Read User V4"))
        .cloned()
        .collect();
    for key in [
        "avatar",
        "gender",
        "language",
        "lastLoginTime",
        "locationIds",
    ] {
        assert!(deprecated.contains(key), "{key}: {deprecated:?}");
    }
    let w = world();
    let id = create(
        &w,
        "/api/user/v1/create",
        json!({"firstName": "Old", "lastName": "Keys", "email": "old.keys@example.com",
            "gender": "male", "avatar": "https://example.com/a.png", "language": ["en"],
            "grade": ["5"], "subject": ["maths"], "profileSummary": "x"}),
    );
    let full = keys(&read(&w, "v1", &id, ""));
    let missing: Vec<&String> = deprecated.difference(&full).collect();
    assert!(missing.is_empty(), "v1 lacks {missing:?}");
    for version in ["v4", "v5"] {
        let lean = keys(&read(&w, version, &id, "roles,locations"));
        let kept: Vec<&String> = deprecated.intersection(&lean).collect();
        assert!(kept.is_empty(), "{version} still has {kept:?}");
    }
}

// ---------------------------------------------------------------------
// S4 search limit
// ---------------------------------------------------------------------

#[test]
fn a_search_without_a_limit_answers_250_users_and_counts_them_all() {
    let w = world();
    // No password: no argon2 work per user.
    for n in 0..260 {
        create(
            &w,
            "/api/user/v1/create",
            json!({"firstName": format!("Bulk{n}"), "email": format!("bulk{n}@example.com")}),
        );
    }
    let search = |request: Value| {
        w.ok(
            "POST",
            "/api/user/v1/search",
            Some(json!({ "request": request })),
        )["response"]
            .clone()
    };
    let page = search(json!({"filters": {}}));
    assert_eq!(page["count"], 261, "260 and the superuser");
    assert_eq!(page["content"].as_array().unwrap().len(), 250);
    let page = search(json!({"filters": {"firstName": {"startsWith": "bulk"}}}));
    assert_eq!(page["count"], 260);
    assert_eq!(page["content"].as_array().unwrap().len(), 250);
    let page = search(json!({"filters": {}, "offset": 250}));
    assert_eq!(page["content"].as_array().unwrap().len(), 11);
    let page = search(json!({"filters": {}, "limit": 300}));
    assert_eq!(page["content"].as_array().unwrap().len(), 261);
}

/// SPEC S6: the weights are configurable. Relative weights: a filled
/// attribute's share of the whole, rounded up; an attribute of weight 0
/// neither counts nor is listed as missing; all 0 is complete.
#[test]
fn completeness_follows_the_configured_weights() {
    let world_weighing = |weights: roster::CompletenessWeights| {
        let (mut config, _) = roster_tests::config(SEED_NOW);
        config.sunbird.completeness = weights;
        let i = roster_tests::store(config);
        i.create_superuser("root", "root-pass-1").unwrap();
        let token = i.login("root", "root-pass-1").unwrap().token;
        let w = World { i, token };
        let id = create(
            &w,
            "/api/user/v1/create",
            json!({"firstName": "Asha", "userName": "asha.w", "email": "asha.w@example.com"}),
        );
        let user = read(&w, "v1", &id, "completeness,missingFields");
        (user["completeness"].clone(), user["missingFields"].clone())
    };
    let none = roster::CompletenessWeights {
        first_name: 0,
        last_name: 0,
        dob: 0,
        avatar: 0,
        gender: 0,
        grade: 0,
        language: 0,
        location: 0,
        profile_summary: 0,
        subject: 0,
        user_name: 0,
        address: 0,
        education: 0,
        job_profile: 0,
    };
    // firstName 50 and userName 20 filled of 50 + 30 + 20 + 3: ceil(70 * 100 / 103) = 68.
    let weighed = roster::CompletenessWeights {
        first_name: 50,
        last_name: 30,
        user_name: 20,
        avatar: 3,
        ..none.clone()
    };
    assert_eq!(
        world_weighing(weighed),
        (json!(68), json!(["lastName", "avatar"]))
    );
    assert_eq!(world_weighing(none), (json!(100), json!([])));
    // The default: equal, firstName and userName of fourteen.
    assert_eq!(
        world_weighing(roster::CompletenessWeights::default()).0,
        json!(15)
    );
}

#[test]
fn the_configured_search_cap_bounds_the_page() {
    let (mut config, _) = roster_tests::config(SEED_NOW);
    config.sunbird.search_cap = 5;
    let i = roster_tests::store(config);
    i.create_superuser("root", "root-pass-1").unwrap();
    let token = i.login("root", "root-pass-1").unwrap().token;
    let w = World { i, token };
    for n in 0..8 {
        create(
            &w,
            "/api/user/v1/create",
            json!({"firstName": format!("Capped{n}"), "email": format!("capped{n}@example.com")}),
        );
    }
    // SPEC S4: `limit` is "at most a configurable cap": a larger one (or
    // the default 250) is cut to the cap, not refused.
    for (request, shown) in [
        (json!({"filters": {}, "limit": 7}), 5),
        (json!({"filters": {}}), 5),
        (json!({"filters": {}, "limit": 3}), 3),
        (json!({"filters": {}, "limit": 7, "offset": 6}), 3),
        (
            json!({"filters": {"firstName": {"startsWith": "capped"}}, "limit": 100}),
            5,
        ),
    ] {
        let page = w.ok(
            "POST",
            "/api/user/v2/search",
            Some(json!({ "request": request.clone() })),
        )["response"]
            .clone();
        assert_eq!(
            page["content"].as_array().unwrap().len(),
            shown,
            "{request}"
        );
        let all = if request["filters"]["firstName"].is_null() {
            9
        } else {
            8
        };
        assert_eq!(page["count"], all, "{request}");
    }
}

// ---------------------------------------------------------------------
// Masking
// ---------------------------------------------------------------------

#[test]
fn recovery_and_previous_contacts_are_masked_in_every_view() {
    let w = world();
    let id = create(
        &w,
        "/api/user/v1/create",
        json!({"firstName": "Mask", "email": "maskme@example.com", "phone": "9876544444",
            "password": PASSWORD}),
    );
    update(
        &w,
        json!({"userId": id, "recoveryEmail": "recover.me@example.org",
            "recoveryPhone": "9876555555", "email": "masked.new@example.com",
            "phone": "9876566666"}),
    );
    let want = [
        ("recoveryEmail", "re********@example.org"),
        ("recoveryPhone", "******5555"),
        ("prevUsedEmail", "ma****@example.com"),
        ("prevUsedPhone", "******4444"),
    ];
    let check = |what: &str, user: &Value| {
        for (key, masked) in want {
            assert_eq!(user[key], masked, "{what}: {key} in {user}");
        }
    };
    for version in ["v1", "v3", "v4", "v5"] {
        check(version, &read(&w, version, &id, ""));
    }
    for version in ["v1", "v2", "v3"] {
        let found = w.ok(
            "POST",
            &format!("/api/user/{version}/search"),
            Some(json!({"request": {"filters": {"userId": id}}})),
        );
        check(
            &format!("search {version}"),
            &found["response"]["content"][0],
        );
    }
    let got = w.ok("GET", "/api/user/v1/get/email/masked.new@example.com", None);
    check("get", &got["response"]);
    let profile = w.ok(
        "POST",
        "/api/user/v1/profile/read",
        Some(json!({"request": {"loginId": "masked.new@example.com"}})),
    );
    check("profile read", &profile["response"]);
    // The user reading itself sees them masked too.
    let token = w.i.login("masked.new@example.com", PASSWORD).unwrap().token;
    let r = w.send_as(&token, "GET", &format!("/api/user/v1/read/{id}"), None);
    assert_eq!(r.status, 200, "{:?}", r.body);
    check("own read", &r.json()["result"]["response"]);
    // Filters match the real values.
    let found = w.ok(
        "POST",
        "/api/user/v1/search",
        Some(json!({"request": {"filters": {"email": "masked.new@example.com"}}})),
    );
    assert_eq!(found["response"]["count"], 1);
}

// ---------------------------------------------------------------------
// S14 terms
// ---------------------------------------------------------------------

/// Sets terms setting `id`'s latest version to `version`.
fn set_terms(w: &World, id: &str, version: &str) {
    let value = json!({"latestVersion": version}).to_string();
    w.ok(
        "POST",
        "/api/data/v1/system/settings/set",
        Some(json!({"request": {"id": id, "field": id, "value": value}})),
    );
}

#[test]
fn another_terms_type_is_accepted_and_stored_apart() {
    let w = world();
    set_terms(&w, "tncConfig", "v4");
    set_terms(&w, "groupsTnc", "3.0");
    let id = w.user("Reader", "reader@example.com");
    let token = w.i.login("reader@example.com", PASSWORD).unwrap().token;
    let accept = |request: Value| {
        w.send_as(
            &token,
            "POST",
            "/api/user/v1/tnc/accept",
            Some(json!({ "request": request })),
        )
    };
    let own = |w: &World| {
        let r = w.send_as(&token, "GET", &format!("/api/user/v1/read/{id}"), None);
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.json()["result"]["response"].clone()
    };
    // The other type's latest is not the platform terms' version.
    let r = accept(json!({"version": "v4", "tncType": "groupsTnc"}));
    failure(&r, 400, "UOS_TNCACCPT0017");
    let r = accept(json!({"version": "3.0", "tncType": "groupsTnc"}));
    assert_eq!(r.status, 200, "{:?}", r.body);
    let user = own(&w);
    // Accepting the groups terms is not accepting the platform's.
    assert_eq!(user["tncAcceptedVersion"], Value::Null, "{user}");
    assert_eq!(user["promptTnC"], true);
    assert_eq!(user["allTncAccepted"]["groupsTnc"]["version"], "3.0");
    let r = accept(json!({"version": "V4"}));
    assert_eq!(r.status, 200, "{:?}", r.body);
    let user = own(&w);
    assert_eq!(user["tncAcceptedVersion"], "v4");
    assert_eq!(user["promptTnC"], false);
    assert_eq!(
        keys(&user["allTncAccepted"]),
        BTreeSet::from(["groupsTnc".to_string()])
    );
    assert_eq!(user["allTncAccepted"]["groupsTnc"]["version"], "3.0");
}

#[test]
fn a_manager_accepts_the_terms_for_its_managed_user_by_its_user_id() {
    let w = world();
    set_terms(&w, "tncConfig", "v4");
    let parent = w.user("Parent", "parent@example.com");
    let token = w.i.login("parent@example.com", PASSWORD).unwrap().token;
    let r = w.send_as(
        &token,
        "POST",
        "/api/user/v4/create",
        Some(json!({"request": {"firstName": "Kid", "managedBy": parent}})),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let kid = user_id(&r.json()["result"]);
    let r = w.send_as(
        &token,
        "POST",
        "/api/user/v1/tnc/accept",
        Some(json!({"request": {"version": "v4", "userId": kid}})),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let read_as_parent = |id: &str| {
        let r = w.send_as(&token, "GET", &format!("/api/user/v1/read/{id}"), None);
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.json()["result"]["response"].clone()
    };
    let child = read_as_parent(&kid);
    assert_eq!(child["tncAcceptedVersion"], "v4", "{child}");
    assert!(child["tncAcceptedOn"].as_i64().is_some(), "{child}");
    assert_eq!(child["promptTnC"], false);
    // For the kid, not for the manager.
    let me = read_as_parent(&parent);
    assert_eq!(me["tncAcceptedVersion"], Value::Null);
    assert_eq!(me["promptTnC"], true);
}

// ---------------------------------------------------------------------
// Section 7: the envelope's message ids
// ---------------------------------------------------------------------

/// Whether `text` is a UUID string (8-4-4-4-12 lower-case hex digits).
fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// A search as the superuser, with `X-msgid` when given (and `token` as
/// the caller's, none when `None`).
fn search_with(w: &World, token: Option<&str>, msgid: Option<(&str, &str)>) -> Response {
    let mut request = Request::new("POST", "/api/user/v1/search")
        .with_header("Content-Type", "application/json")
        .with_body(json!({"request": {"filters": {}}}).to_string());
    if let Some(token) = token {
        request = request.with_header("x-authenticated-user-token", token);
    }
    if let Some((name, value)) = msgid {
        request = request.with_header(name, value);
    }
    roster::rest::handle(&w.i, request)
}

#[test]
fn x_msgid_is_echoed_and_every_answer_has_fresh_uuids_otherwise() {
    let w = world();
    // Echoed, whatever the header's case, on success and on failure.
    for (name, token, status) in [
        ("X-msgid", Some(w.token.as_str()), 200),
        ("x-msgid", Some(w.token.as_str()), 200),
        ("X-MSGID", None, 401),
    ] {
        let r = search_with(&w, token, Some((name, "client-msg-0042")));
        assert_eq!(r.status, status, "{:?}", r.body);
        let params = r.json()["params"].clone();
        assert_eq!(params["msgid"], "client-msg-0042", "{name}: {params}");
        let resmsgid = params["resmsgid"].as_str().expect("a resmsgid");
        assert!(is_uuid(resmsgid), "{resmsgid}");
    }
    // Without it: a fresh UUID each time, and a fresh resmsgid.
    let ids: Vec<(String, String)> = (0..2)
        .map(|_| {
            let r = search_with(&w, Some(&w.token), None);
            assert_eq!(r.status, 200, "{:?}", r.body);
            let params = r.json()["params"].clone();
            let msgid = params["msgid"].as_str().expect("a msgid").to_string();
            let resmsgid = params["resmsgid"].as_str().expect("a resmsgid").to_string();
            assert!(is_uuid(&msgid), "{msgid}");
            assert!(is_uuid(&resmsgid), "{resmsgid}");
            assert_ne!(msgid, resmsgid);
            (msgid, resmsgid)
        })
        .collect();
    assert_ne!(ids[0].0, ids[1].0, "two requests, one msgid");
    assert_ne!(ids[0].1, ids[1].1, "two answers, one resmsgid");
    // A blank X-msgid is none: a fresh UUID too.
    let r = search_with(&w, Some(&w.token), Some(("X-msgid", "  ")));
    let msgid = r.json()["params"]["msgid"].as_str().unwrap().to_string();
    assert!(is_uuid(&msgid), "{msgid:?}");
    assert!(!ids.iter().any(|(m, _)| *m == msgid));
}
