//! The on-disk format's version and its migrations, in one place
//! (ARCHITECTURE convention 5).
//!
//! Version 1 is the first format (Step 1). Version 2 (Step 2) adds the
//! access fields of users (flags, groups, permissions, sign-in history) and
//! the tables of groups, sessions and the outbox. Version 3 (Step 6) stores
//! every record as a verified frame ([`super::frame`]) and gives users their
//! credential generation. A store written by a newer roster
//! is refused; an older one is migrated in place, inside the same write
//! transaction that opens it, so a crash mid-migration leaves the old format.
//! Every version has a store file under `tests/fixtures/` that the tests open.

use super::frame::FrameKey;
use super::tables::*;
use super::{encode, encode_membership};
use crate::domain::Subscription;
use crate::domain::course::Course;
use crate::domain::custom_field::CustomField;
use crate::domain::group::Group;
use crate::domain::outbox::Message;
use crate::domain::user::{Profile, User};
use crate::domain::{Batch, Micros};
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
            2 => v2_to_v3(txn)?,
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

/// Decodes a record of format 1 or 2: bare postcard, no frame.
fn unframed<T: serde::de::DeserializeOwned>(what: &str, id: u64, bytes: &[u8]) -> Result<T> {
    postcard::from_bytes(bytes).map_err(|_| {
        Error::new(
            ErrorCode::Corrupt,
            format!("the store is damaged: {what} {id} cannot be read (undecodable contents); run `roster recover`"),
        )
    })
}

/// A format-1 user as format 2 has it.
fn from_v1(old: UserV1) -> UserV2 {
    UserV2 {
        id: old.id,
        uuid: old.uuid,
        username: old.username,
        password_hash: old.password_hash,
        profile: old.profile,
        is_active: old.is_active,
        is_blocked: old.is_blocked,
        created: old.created,
        modified: old.modified,
        is_superuser: false,
        is_staff: false,
        groups: Vec::new(),
        permissions: Vec::new(),
        last_login: None,
        password_changed: old.created,
        failed_logins: 0,
        locked_until: None,
    }
}

/// A record value of format `version` (1 or 2: bare postcard, no frame)
/// of `kind` under `key`, as a format-3 frame; `None` when it does not
/// decode. For `recover` of an old store that cannot be migrated whole:
/// without a checksum, a damaged old record that still decodes cannot be
/// told from a sound one.
pub(crate) fn legacy_frame(
    version: u64,
    kind: Kind,
    key: FrameKey,
    bytes: &[u8],
) -> Option<Vec<u8>> {
    fn again<T: serde::Serialize + serde::de::DeserializeOwned>(
        kind: Kind,
        key: FrameKey,
        bytes: &[u8],
    ) -> Option<Vec<u8>> {
        let record: T = postcard::from_bytes(bytes).ok()?;
        super::frame::encode(kind, key, &record).ok()
    }
    match kind {
        Kind::User => {
            let user = User::from(if version == 1 {
                from_v1(postcard::from_bytes::<UserV1>(bytes).ok()?)
            } else {
                postcard::from_bytes::<UserV2>(bytes).ok()?
            });
            super::frame::encode(kind, key, &user).ok()
        }
        Kind::Batch => again::<Batch>(kind, key, bytes),
        Kind::Course => again::<Course>(kind, key, bytes),
        Kind::CustomField => again::<CustomField>(kind, key, bytes),
        Kind::Group => again::<Group>(kind, key, bytes),
        Kind::Message => again::<Message>(kind, key, bytes),
        Kind::Subscription => again::<Subscription>(kind, key, bytes),
    }
}

/// Format 2 gives every user the access fields: no flags, groups or
/// permissions, no sign-in yet, the password set when the user was created.
fn v1_to_v2(txn: &WriteTransaction) -> Result<()> {
    let mut users = txn.open_table(USERS)?;
    let mut upgraded = Vec::new();
    for row in users.iter()? {
        let (_, bytes) = row?;
        let old: UserV1 = unframed("user", 0, bytes.value())?;
        upgraded.push(from_v1(old));
    }
    for user in upgraded {
        // Written as format 2 wrote it; v2_to_v3 frames it.
        let bytes = postcard::to_allocvec(&user).map_err(crate::error::Internal::from)?;
        users.insert(user.id, bytes.as_slice())?;
    }
    Ok(())
}

/// The user record of format 2: today's [`User`] without the credential
/// generation. Frozen: never change it.
#[derive(serde::Serialize, serde::Deserialize)]
struct UserV2 {
    id: u64,
    #[serde(with = "crate::domain::uuid_serde")]
    uuid: u128,
    username: String,
    password_hash: String,
    profile: Profile,
    is_active: bool,
    is_blocked: bool,
    created: Micros,
    modified: Micros,
    is_superuser: bool,
    is_staff: bool,
    groups: Vec<u64>,
    permissions: Vec<u32>,
    last_login: Option<Micros>,
    password_changed: Micros,
    failed_logins: u32,
    locked_until: Option<Micros>,
}

impl From<UserV2> for User {
    fn from(u: UserV2) -> User {
        User {
            id: u.id,
            uuid: u.uuid,
            username: u.username,
            password_hash: u.password_hash,
            profile: u.profile,
            is_active: u.is_active,
            is_blocked: u.is_blocked,
            created: u.created,
            modified: u.modified,
            is_superuser: u.is_superuser,
            is_staff: u.is_staff,
            groups: u.groups,
            permissions: u.permissions,
            last_login: u.last_login,
            password_changed: u.password_changed,
            failed_logins: u.failed_logins,
            locked_until: u.locked_until,
            credential_generation: 0,
        }
    }
}

/// Format 3: every record becomes a verified frame; users gain their
/// credential generation (0). Later sub-steps of the same migration go at
/// the end, one call each, after the re-framing (they read framed records).
fn v2_to_v3(txn: &WriteTransaction) -> Result<()> {
    reframe_users(txn)?;
    reframe::<Batch>(txn, BATCHES, "batch")?;
    reframe::<Course>(txn, COURSES, "course")?;
    reframe::<CustomField>(txn, CUSTOM_FIELDS, "custom field")?;
    reframe::<Group>(txn, GROUPS, "group")?;
    reframe::<Message>(txn, OUTBOX, "message")?;
    reframe_memberships(txn)?;
    super::migrate_sessions::sessions_v2_to_v3(txn)?;
    super::migrate_nfkc::nfkc_v2_to_v3(txn)?;
    Ok(())
}

/// Frames every user, decoded as [`UserV2`].
fn reframe_users(txn: &WriteTransaction) -> Result<()> {
    let mut table = txn.open_table(USERS)?;
    let mut framed = Vec::new();
    for row in table.iter()? {
        let (id, bytes) = row?;
        let old: UserV2 = unframed("user", id.value(), bytes.value())?;
        let user = User::from(old);
        framed.push((id.value(), encode(USERS, id.value(), &user)?));
    }
    for (id, bytes) in framed {
        table.insert(id, bytes.as_slice())?;
    }
    Ok(())
}

/// Frames every record of table `def` (unchanged contents).
fn reframe<T: serde::Serialize + serde::de::DeserializeOwned>(
    txn: &WriteTransaction,
    def: Records,
    what: &str,
) -> Result<()> {
    let mut table = txn.open_table(def)?;
    let mut framed = Vec::new();
    for row in table.iter()? {
        let (id, bytes) = row?;
        let record: T = unframed(what, id.value(), bytes.value())?;
        framed.push((id.value(), encode(def, id.value(), &record)?));
    }
    for (id, bytes) in framed {
        table.insert(id, bytes.as_slice())?;
    }
    Ok(())
}

/// Frames every membership under its (user, batch) key.
fn reframe_memberships(txn: &WriteTransaction) -> Result<()> {
    let mut table = txn.open_table(MEMBERSHIPS)?;
    let mut framed: Vec<(FrameKey, Vec<u8>)> = Vec::new();
    for row in table.iter()? {
        let (key, bytes) = row?;
        let sub: Subscription = unframed("membership", key.value().0, bytes.value())?;
        framed.push((key.value(), encode_membership(key.value(), &sub)?));
    }
    for (key, bytes) in framed {
        table.insert(key, bytes.as_slice())?;
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
