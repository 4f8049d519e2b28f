//! Usernames and emails in Unicode NFKC form, unique by the lower case of
//! that form (SPEC 3; issue 9 item 9a): `ＡＬＩＣＥ` (fullwidth) and `alice`
//! are one name, on every path that creates, changes or looks one up.

use roster::{CreateOptions, ErrorCode, NewUser, ProfileInput, UserPatch};
use roster_tests::{SEED_NOW, call, institute, superuser};
use serde_json::json;

const PASSWORD: &str = "secret-pass-1";

fn new_user(name: &str, email: &str) -> NewUser {
    NewUser {
        username: Some(name.into()),
        password: Some(PASSWORD.into()),
        profile: ProfileInput {
            email: Some(email.into()),
            ..Default::default()
        },
        ..Default::default()
    }
}

#[test]
fn fullwidth_and_ascii_names_are_one_name() {
    let (i, _) = institute(SEED_NOW);
    let op = i.operator();
    let created = op
        .create_user(
            new_user("ＡＬＩＣＥ", "ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ"),
            CreateOptions::default(),
        )
        .unwrap()
        .user;
    // Stored in NFKC form.
    assert_eq!(created.username, "ALICE");
    assert_eq!(created.email, "alice@example.com");
    // Sign-in with either form, of the username or the email.
    for name in [
        "alice",
        "ＡＬＩＣＥ",
        "Alice",
        "ALICE@example.com",
        "ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ",
    ] {
        assert_eq!(i.login(name, PASSWORD).unwrap().user, created.id, "{name}");
    }
    assert_eq!(op.find_user("ａｌｉｃｅ").unwrap(), created.id);
    // Creating the other form clashes, as username and as email.
    for (name, email, field) in [
        ("alice", "other@example.com", "username"),
        ("ａｌｉｃｅ", "", "username"),
        ("carol", "ALICE@EXAMPLE.COM", "email"),
        ("dave", "ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", "email"),
    ] {
        let e = op
            .create_user(new_user(name, email), CreateOptions::default())
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Validation, "{name}: {e}");
        assert!(e.fields().has(field), "{name}: {e}");
    }
    // Renaming another user to a form of it clashes too.
    let bob = op
        .create_user(new_user("bob", "bob@example.com"), CreateOptions::default())
        .unwrap()
        .user;
    let e = op
        .update_user(
            bob.id,
            UserPatch {
                username: Some("Ａｌｉｃｅ".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(e.fields().has("username"), "{e}");
    assert_eq!(i.check_integrity().unwrap(), Vec::<String>::new());
}

#[test]
fn the_rest_facade_stores_and_matches_nfkc() {
    let (i, _) = institute(SEED_NOW);
    let token = superuser(&i);
    let auth = |method: &str, path: &str, body| {
        roster_tests::call_as(&i, &token, method, path, Some(body))
    };
    let r = auth(
        "POST",
        "/api/v2.5/admin/users/",
        json!({"username": "ｒａｖｉ", "password": PASSWORD, "email": "ｒａｖｉ＠ｅｘａｍｐｌｅ．ｃｏｍ"}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    let r = auth(
        "POST",
        "/api/v2.5/admin/users/",
        json!({"username": "Ravi", "password": PASSWORD}),
    );
    assert_eq!(r.status, 400, "{:?}", r.body);
    let r = call(
        &i,
        "POST",
        "/api/v2.5/auth-token/",
        Some(json!({"username": "RAVI", "password": PASSWORD})),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
}

fn export(i: &roster::Institute) -> String {
    let mut out = Vec::new();
    roster::transfer::export(&i.operator(), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn restore(text: &str) -> roster::Result<roster::Institute> {
    let (i, _) = institute(SEED_NOW);
    roster::transfer::import(
        &i.operator(),
        text.as_bytes(),
        &Default::default(),
        &mut |_| {},
    )?;
    Ok(i)
}

/// An export written before names were NFKC may hold other forms: restore
/// stores the NFKC form, and refuses (naming them) two users that are now
/// one name, rather than failing on the index.
#[test]
fn restore_normalises_old_exports_and_names_collisions() {
    let (i, _) = institute(SEED_NOW);
    let op = i.operator();
    for name in ["carol", "bob"] {
        op.create_user(new_user(name, ""), CreateOptions::default())
            .unwrap();
    }
    let text = export(&i);
    assert!(text.contains("\"carol\"") && text.contains("\"bob\""));

    // The edited exports are resealed (their trailer made to match): the
    // point is the names, not the checksum.
    let reseal =
        |t: String| super::transfer::reseal(&t.lines().map(str::to_string).collect::<Vec<_>>());
    let old_form = reseal(text.replace("\"carol\"", "\"ＣＡＲＯＬ\""));
    let restored = restore(&old_form).expect("restores");
    let carol = restored.operator().find_user("carol").unwrap();
    assert_eq!(
        restored.operator().get_user(carol).unwrap().username,
        "CAROL"
    );
    assert_eq!(restored.check_integrity().unwrap(), Vec::<String>::new());

    let colliding = reseal(text.replace("\"bob\"", "\"Ｃａｒｏｌ\""));
    let e = restore(&colliding).expect_err("refused");
    assert_eq!(e.code(), ErrorCode::Conflict, "{e}");
    assert!(e.message().contains("share the name \"carol\""), "{e}");
}
