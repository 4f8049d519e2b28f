//! A panic of the storage engine inside any api read is contained: the call
//! answers `corrupt_store` and the institute answers it until reopened.
//! The panics are injected by [`crate::store::fault`] where a table is
//! opened through a snapshot, before that opening's own guard, so only the
//! guard around the whole read ([`crate::store::Store::reading`]) or a read
//! function's own catches them.

use super::Institute;
use crate::domain::PageRequest;
use crate::error::{ErrorCode, Result};
use crate::store::fault;

/// An institute with one user, `ada` (password `right-pass-1`), and a
/// token of a session of hers.
fn institute() -> (Institute, u64, String) {
    let config = crate::Config {
        argon2: crate::Argon2Params::insecure_fast(),
        ..Default::default()
    };
    let (institute, id) = super::with_ada(config);
    let token = institute.login("ada", "right-pass-1").unwrap().token;
    (institute, id, token)
}

/// Arms a panic at the next opening of `table` (or `"drop"`: the end of a
/// snapshot), runs `call`, and asserts that the panic fired, that the call
/// answered `corrupt_store`, and that the institute answers it from then on
/// (reads, writes, sign-ins, sessions, the integrity check).
fn contained<T: std::fmt::Debug>(
    table: &'static str,
    call: impl FnOnce(&Institute, u64, &str) -> Result<T>,
) {
    let (institute, id, token) = institute();
    fault::arm(table);
    let out = call(&institute, id, &token);
    let fired = fault::fired();
    fault::disarm();
    assert!(fired, "{table}: the injected panic did not fire");
    let err = out.expect_err(table);
    assert_eq!(err.code(), ErrorCode::Corrupt, "{table}: {err:?}");
    let admin = institute.operator();
    assert_eq!(admin.get_user(id).unwrap_err().code(), ErrorCode::Corrupt);
    assert_eq!(
        admin.unlock_user(id).unwrap_err().code(),
        ErrorCode::Corrupt
    );
    assert_eq!(
        institute.session(&token).unwrap_err().code(),
        ErrorCode::Corrupt
    );
    assert_eq!(
        institute.login("ada", "right-pass-1").unwrap_err().code(),
        ErrorCode::Corrupt
    );
    assert_eq!(
        institute.check_integrity().unwrap_err().code(),
        ErrorCode::Corrupt
    );
}

#[test]
fn a_panic_reading_a_session_is_contained() {
    // `live_user` reads SESSIONS itself, outside the read functions.
    contained("sessions", |i, _, token| i.session(token).map(|_| ()));
}

#[test]
fn a_panic_in_a_signed_in_callers_permission_check_is_contained() {
    contained("sessions", |i, _, token| {
        fault::disarm();
        let ada = i.session(token)?;
        fault::arm("sessions");
        ada.list_batches(None, PageRequest::default())
    });
}

#[test]
fn a_panic_reading_the_callers_own_user_is_contained() {
    contained("sessions", |i, _, token| {
        fault::disarm();
        let ada = i.session(token)?;
        fault::arm("sessions");
        ada.me()
    });
}

#[test]
fn a_panic_in_a_sign_in_lookup_is_contained() {
    contained("user_by_username", |i, _, _| i.login("ada", "right-pass-1"));
}

#[test]
fn a_panic_checking_integrity_is_contained() {
    contained("users", |i, _, _| i.check_integrity());
}

#[test]
fn a_panic_listing_users_is_contained() {
    contained("users", |i, _, _| {
        i.operator().list_users(&Default::default())
    });
}

#[test]
fn a_panic_searching_users_is_contained() {
    contained("grams", |i, _, _| {
        let query = super::UserQuery {
            q: Some("ad".into()),
            ..Default::default()
        };
        i.operator().list_users(&query)
    });
}

#[test]
fn a_panic_reading_a_user_before_an_update_is_contained() {
    contained("users", |i, id, _| {
        i.operator().update_user(id, Default::default())
    });
}

#[test]
fn a_panic_listing_batches_is_contained() {
    contained("batches", |i, _, _| {
        i.operator().list_batches(None, PageRequest::default())
    });
}

#[test]
fn a_panic_listing_courses_is_contained() {
    contained("courses", |i, _, _| {
        i.operator().list_courses(None, PageRequest::default())
    });
}

#[test]
fn a_panic_listing_custom_fields_is_contained() {
    contained("custom_fields", |i, _, _| {
        i.operator().list_custom_fields(PageRequest::default())
    });
}

#[test]
fn a_panic_listing_groups_is_contained() {
    contained("groups", |i, _, _| {
        i.operator().list_groups(None, PageRequest::default())
    });
}

#[test]
fn a_panic_reading_memberships_is_contained() {
    contained("memberships", |i, id, _| {
        i.operator().user_batches(id, PageRequest::default())
    });
}

#[test]
fn a_panic_in_an_export_is_contained() {
    contained("memberships", |i, _, _| i.operator().dump());
}

#[test]
fn a_panic_ending_a_snapshot_is_contained() {
    // redb's `Drop` of the read transaction, at the end of an api call.
    contained("drop", |i, id, _| i.operator().get_user(id));
}
