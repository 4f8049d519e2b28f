//! The on-disk format's version and its migrations, in one place
//! (ARCHITECTURE convention 5).
//!
//! Version 1 is the first format (Step 1). Version 2 (Step 2) adds the
//! access fields of users (flags, groups, permissions, sign-in history) and
//! the tables of groups, sessions and the outbox. A store written by a newer roster
//! is refused; an older one is migrated in place, inside the same write
//! transaction that opens it, so a crash mid-migration leaves the old format.
//! Every version has a store file under `tests/fixtures/` that the tests open.

use super::tables::*;
use super::{decode, encode};
use crate::domain::user::{Profile, User};
use crate::error::{Error, ErrorCode, Result};
use redb::{ReadableTable, TableHandle, WriteTransaction};

/// The format this build writes.
pub const CURRENT_VERSION: u64 = 3;
const VERSION_KEY: &str = "schema_version";

/// Brings the store in `txn` to [`CURRENT_VERSION`], creating every table.
pub(crate) fn prepare(txn: &WriteTransaction) -> Result<()> {
    let found = txn.open_table(META)?.get(VERSION_KEY)?.map(|v| v.value());
    match found {
        None => {
            let foreign: Vec<String> = txn
                .list_tables()?
                .map(|t| t.name().to_string())
                .filter(|n| n != META.name())
                .collect();
            if !foreign.is_empty() {
                return Err(Error::new(
                    ErrorCode::Corrupt,
                    "this file is a redb database but not a roster store",
                ));
            }
        }
        Some(v) if v > CURRENT_VERSION => {
            return Err(Error::new(
                ErrorCode::SchemaTooNew,
                format!(
                    "the store has format version {v}; this roster reads versions up to {CURRENT_VERSION}: upgrade roster"
                ),
            ));
        }
        Some(v) => migrate(txn, v)?,
    }
    create_tables(txn)?;
    txn.open_table(META)?.insert(VERSION_KEY, CURRENT_VERSION)?;
    Ok(())
}

/// Runs the migrations from `from` up to the current version, one step at a
/// time.
fn migrate(txn: &WriteTransaction, from: u64) -> Result<()> {
    let mut version = from;
    while version < CURRENT_VERSION {
        match version {
            1 => v1_to_v2(txn)?,
            2 => super::migrate_sessions::sessions_v2_to_v3(txn)
                .and_then(|()| super::migrate_sessions::users_v2_to_v3(txn))?,
            other => {
                return Err(Error::new(
                    ErrorCode::Corrupt,
                    format!("unknown store format version {other}"),
                ));
            }
        }
        version += 1;
    }
    Ok(())
}

/// The user record of format 1.
#[derive(serde::Deserialize)]
struct UserV1 {
    id: u64,
    uuid: u128,
    username: String,
    password_hash: String,
    profile: Profile,
    is_active: bool,
    is_blocked: bool,
    created: i64,
    modified: i64,
}

/// Format 2 gives every user the access fields: no flags, groups or
/// permissions, no sign-in yet, the password set when the user was created.
fn v1_to_v2(txn: &WriteTransaction) -> Result<()> {
    let mut users = txn.open_table(USERS)?;
    let mut upgraded = Vec::new();
    for row in users.iter()? {
        let (_, bytes) = row?;
        let old: UserV1 = decode(bytes.value())?;
        upgraded.push(User {
            id: old.id,
            uuid: old.uuid,
            username: old.username,
            password_hash: old.password_hash,
            profile: old.profile,
            is_active: old.is_active,
            is_blocked: old.is_blocked,
            created: old.created,
            modified: old.modified,
            password_changed: old.created,
            ..User::blank(old.id, "")
        });
    }
    for user in upgraded {
        users.insert(user.id, encode(&user)?.as_slice())?;
    }
    Ok(())
}

fn create_tables(txn: &WriteTransaction) -> Result<()> {
    txn.open_table(COUNTERS)?;
    for def in [USERS, BATCHES, COURSES, CUSTOM_FIELDS, GROUPS, OUTBOX] {
        txn.open_table(def)?;
    }
    for def in [
        USER_BY_USERNAME,
        USER_BY_EMAIL,
        USER_BY_PHONE,
        BATCH_BY_NAME,
        COURSE_BY_SLUG,
        CUSTOM_FIELD_BY_NAME,
        GROUP_BY_NAME,
    ] {
        txn.open_table(def)?;
    }
    for def in [
        COURSE_BATCHES,
        BATCH_COURSES,
        BATCH_MEMBERS,
        FIELD_USERS,
        GROUP_USERS,
        USER_OUTBOX,
    ] {
        txn.open_table(def)?;
    }
    txn.open_table(UUIDS)?;
    txn.open_table(MEMBERSHIPS)?;
    txn.open_table(SUBSCRIPTIONS)?;
    txn.open_table(EXPIRIES)?;
    txn.open_table(SESSIONS)?;
    txn.open_table(USER_SESSIONS)?;
    Ok(())
}
