//! Records that carry a password or a token never print it: their `Debug`
//! and `Display` (exported to Kotlin, Swift and Python) write
//! `<redacted>` in its place, and every other field as derived `Debug` would.

use crate::api::Login;
use crate::domain::sunbird::SunbirdInput;
use crate::domain::user::{NewUser, UserPatch};

const SECRET: &str = "Hunter2-Secret-Pass";

/// The texts of `value` (`Debug`, `Display`, pretty `Debug`): the secret is
/// gone, `<redacted>` is there, and so is `shown` (on one line).
fn check(value: &(impl std::fmt::Debug + std::fmt::Display), shown: &str) {
    let pretty = format!("{value:#?}");
    for text in [format!("{value:?}"), format!("{value}"), pretty.clone()] {
        assert!(!text.contains(SECRET), "the secret leaks: {text}");
        assert!(text.contains("<redacted>"), "no stand-in: {text}");
        assert!(
            text == pretty || text.contains(shown),
            "{shown} missing: {text}"
        );
    }
}

#[test]
fn a_new_users_password_is_redacted() {
    let user = NewUser {
        username: Some("ravi".into()),
        password: Some(SECRET.into()),
        ..Default::default()
    };
    check(&user, r#"username: Some("ravi")"#);
    assert!(format!("{user:?}").contains("password: Some(<redacted>)"));
    // An absent password reads as absent.
    let text = format!("{:?}", NewUser::default());
    assert!(text.contains("password: None"), "{text}");
}

#[test]
fn a_patchs_password_is_redacted() {
    let patch = UserPatch {
        password: Some(SECRET.into()),
        is_active: Some(false),
        ..Default::default()
    };
    check(&patch, "is_active: Some(false)");
}

#[test]
fn a_sunbird_inputs_password_is_redacted() {
    let input = SunbirdInput {
        first_name: Some("Asha".into()),
        password: Some(SECRET.into()),
        ..Default::default()
    };
    check(&input, r#"first_name: Some("Asha")"#);
}

#[test]
fn a_logins_token_is_redacted() {
    let login = Login {
        token: SECRET.into(),
        expires: chrono::DateTime::UNIX_EPOCH,
        user: 7,
    };
    check(&login, "user: 7");
    assert!(format!("{login:?}").starts_with("Login { token: <redacted>, expires: "));
}

/// An outbox message whose body holds the secret.
fn credentials_message() -> crate::domain::outbox::OutboxMessage {
    crate::domain::outbox::OutboxMessage {
        id: 7,
        user: 3,
        channel: crate::domain::outbox::Channel::Email,
        to: "ravi@example.com".into(),
        subject: "Your account".into(),
        body: format!("Your password is {SECRET}"),
        created: chrono::DateTime::UNIX_EPOCH,
    }
}

#[test]
fn an_outbox_messages_body_is_redacted() {
    let message = credentials_message();
    check(&message, r#"to: "ravi@example.com""#);
}

/// The JSON records the REST surface and the WebAssembly binding answer
/// with hide the same secrets as the records they are made of.
#[test]
fn the_json_records_of_a_login_a_token_and_a_message_hide_them_too() {
    let login = Login {
        token: SECRET.into(),
        expires: chrono::DateTime::UNIX_EPOCH,
        user: 7,
    };
    check(&crate::json::login(&login), "user: 7");
    let token = crate::json::testpress::Token {
        token: SECRET.into(),
        expires: "2030-01-01".into(),
    };
    check(&token, r#"expires: "2030-01-01""#);
    check(
        &crate::json::outbox_message(&credentials_message()),
        r#"to: "ravi@example.com""#,
    );
}

/// An import row hides its password hash, and its user its password.
#[test]
fn an_import_rows_hash_and_password_are_redacted() {
    let row = crate::ImportRow {
        line: 3,
        user: NewUser {
            username: Some("ravi".into()),
            password: Some(SECRET.into()),
            ..Default::default()
        },
        password_hash: Some(format!("$argon2id$v=19$m=19456,t=2,p=1${SECRET}")),
        errors: Default::default(),
    };
    check(&row, "line: 3");
}

/// A request's body and credential headers, and a response's body, are
/// left out of their Debug: a host that logs them logs no password or
/// token.
#[test]
fn requests_and_responses_print_no_credentials_or_bodies() {
    let request = crate::rest::Request::new("POST", "/api/v2.5/auth-token/")
        .with_header("Content-Type", "application/json")
        .with_header("AUTHORIZATION", &format!("JWT {SECRET}"))
        .with_header("x-authenticated-user-token", SECRET)
        .with_body(format!(r#"{{"password": "{SECRET}"}}"#));
    let text = format!("{request:?}");
    assert!(!text.contains(SECRET), "{text}");
    assert!(
        text.contains(r#"("Content-Type", "application/json")"#),
        "{text}"
    );
    assert!(
        text.contains(r#"("AUTHORIZATION", "<redacted>")"#),
        "{text}"
    );
    assert!(text.contains("<35 bytes>"), "{text}");
    let response = crate::rest::Response {
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: Some(format!(r#"{{"token": "{SECRET}"}}"#)),
    };
    let text = format!("{response:?}");
    assert!(!text.contains(SECRET), "{text}");
    assert!(
        text.contains("status: 200") && text.contains("bytes>"),
        "{text}"
    );
}

/// Request bodies as parsed hold passwords: their Debug names the type
/// alone.
#[test]
fn parsed_request_bodies_print_no_values() {
    let body: crate::json::request::SignIn = serde_json::from_str(&format!(
        r#"{{"username": "ravi", "password": "{SECRET}"}}"#
    ))
    .unwrap();
    assert_eq!(format!("{body:?}"), "SignIn { .. }");
}
