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

#[test]
fn an_outbox_messages_body_is_redacted() {
    use crate::domain::outbox::{Channel, OutboxMessage};
    let message = OutboxMessage {
        id: 7,
        user: 3,
        channel: Channel::Email,
        to: "ravi@example.com".into(),
        subject: "Your account".into(),
        body: format!("Your password is {SECRET}"),
        created: chrono::DateTime::UNIX_EPOCH,
    };
    check(&message, r#"to: "ravi@example.com""#);
}
