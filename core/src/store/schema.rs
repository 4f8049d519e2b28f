//! The on-disk format's version and its migrations, in one place
//! (ARCHITECTURE convention 5).
//!
//! Version 1 is the first format (Step 1). Version 2 (Step 2) adds the
//! access fields of users (flags, groups, permissions, sign-in history) and
//! the tables of groups, sessions and the outbox. Version 3 (Step 6) stores
//! every record as a verified frame (`frame`) and gives users their
//! credential generation. Version 4 (Step 7) stores every table as bytes
//! behind the backend seam ([`super::backend`]) and replaces the global id
//! counters by per-block ones (`ids`). Version 5 (Step 8) adds the
//! Sunbird tables (empty in an older store). Version 6 (Step 8) settles
//! [`crate::text::fold`] and cuts the n-gram index in grams of four
//! characters, so every index keyed by either is rebuilt
//! (`migrate_nfkc::refold_v5_to_v6`). Version 7 (Step 9) adds the
//! change feed (empty in an older store: what happened before was not
//! recorded). Version 8 gives a new redb store's change feed the last
//! table id, so that the feed, which grows only at its end, fills its
//! B-tree pages (`engine_redb`); an older store keeps its ids (nothing to
//! migrate), and a roster of format 7, which numbers a new table one past
//! the highest id, refuses the file instead of running out of ids.
//! Version 9 keeps position counts for batches, courses and groups too, as
//! format 4 began to for users, so any page of their lists is a few reads,
//! and indexes organisations by (tenant, external id), so a Sunbird user's
//! `orgExternalId` is one prefix read (`v8_to_v9` builds both for an older
//! store). Version 10 records which users an SSO create made (claimable
//! shadow accounts). Version 11 folds case fully in
//! [`crate::text::fold`] (`ß` and `ss`, `ς` and `σ` are one key), so every
//! index keyed by it is rebuilt again (`migrate_nfkc::refold_v5_to_v6`).
//! Version 12 seals every unique index entry (`keys::seal`): a
//! lookup trusts an entry whose seal matches instead of reading the record
//! it names to check it (`v11_to_v12` seals the entries of an older store).
//! Version 13 lets a new user's grams wait in `grams_unmerged` until its
//! group of ids is merged into the postings (`store::search`); an older
//! store has none waiting (nothing to migrate), and an older roster would
//! not find the waiting users in a search. Version 14 keeps position
//! counts for organisations, so a page of their list is a few reads
//! (`v13_to_v14` counts an older store's).
//! A store written by a newer roster
//! is refused; an older one is migrated in place, inside the same write
//! transaction that opens it, so a crash mid-migration leaves the old format.
//! Every version has a store file under `tests/fixtures/` that the tests open.

use super::frame::FrameKey;
use super::keys::{Col, Def};
use super::tables::*;
use super::{Snapshot, Txn, ids, positions};
use super::{encode, encode_membership};
use crate::domain::Subscription;
use crate::domain::course::Course;
use crate::domain::custom_field::CustomField;
use crate::domain::group::Group;
use crate::domain::outbox::Message;
use crate::domain::user::{Profile, User};
use crate::domain::{Batch, Micros};
use crate::error::{Error, ErrorCode, Result};

/// The format this build writes.
pub const CURRENT_VERSION: u64 = 14;
/// The id counters of formats 1-3: entity name -> next id.
const COUNTERS: Def<str, u64> = Def::new("counters");
/// The subscription ids of formats 1-3: id -> (user, batch).
const SUBSCRIPTIONS: Def<u64, (u64, u64)> = Def::new("subscriptions");
/// The expiries of formats 1-3: (day, subscription id).
const EXPIRIES_BY_ID: Def<(i32, u64), ()> = Def::new("expiries");
const VERSION_KEY: &str = "schema_version";

/// What opening a store must do about its format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// The store is of [`CURRENT_VERSION`]: nothing to write.
    Current,
    /// The store is new, or of an older format (or a layout only a write
    /// transaction can read): [`prepare`] it.
    Prepare,
}

/// Reads, without writing, what opening the store in `s` must do: the
/// format version it holds. A newer format is refused; so is a store with
/// rows but no version (damaged, never new: the first write over damaged
/// pages can make the damage permanent).
pub(crate) fn inspect(s: &Snapshot<'_>) -> Result<Format> {
    match s.get(META, VERSION_KEY)? {
        Some(CURRENT_VERSION) => Ok(Format::Current),
        Some(v) if v > CURRENT_VERSION => Err(too_new(v)),
        Some(_) => Ok(Format::Prepare),
        // Formats 1-3 keep their tables (and version) where only the write
        // that re-encodes them reads: `prepare` tells them from damage.
        None if s.stores_rows()? && s.table_names()?.is_empty() => Err(unversioned()),
        None => Ok(Format::Prepare),
    }
}

/// The error of a store of format `v`, newer than this build's.
fn too_new(v: u64) -> Error {
    Error::new(
        ErrorCode::SchemaTooNew,
        format!(
            "the store has format version {v}; this roster reads versions up to {CURRENT_VERSION}: upgrade roster"
        ),
    )
}

/// The error of a store that holds rows but no format version.
fn unversioned() -> Error {
    Error::new(
        ErrorCode::Corrupt,
        "the store is damaged: it holds records but no format version (damaged \
         pages may hide part of it); nothing was written to it. Run `roster check`, \
         then `roster recover`",
    )
}

/// Brings the store in `txn` to [`CURRENT_VERSION`], creating every table.
/// Only for a store that [`inspect`] did not find current: a new one, or
/// an older format to migrate.
pub(crate) fn prepare(txn: &Txn<'_>) -> Result<()> {
    let found = txn.get(META, VERSION_KEY)?;
    match found {
        Some(CURRENT_VERSION) => return Ok(()),
        None => {
            let foreign: Vec<String> = txn
                .table_names()?
                .into_iter()
                .filter(|n| n != META.name)
                .collect();
            if !foreign.is_empty() {
                return Err(Error::new(
                    ErrorCode::Corrupt,
                    "this file is a redb database but not a roster store",
                ));
            }
            // No version and no table of roster's in sight, yet rows: a
            // store whose damage hides its records, never a new one.
            if txn.stores_rows()? {
                return Err(unversioned());
            }
            super::feed::begin(txn)?;
        }
        Some(v) if v > CURRENT_VERSION => return Err(too_new(v)),
        Some(v) => migrate(txn, v)?,
    }
    txn.put(META, VERSION_KEY, &CURRENT_VERSION)
}

/// Runs the migrations from `from` up to the current version, one step at a
/// time.
fn migrate(txn: &Txn<'_>, from: u64) -> Result<()> {
    let mut version = from;
    while version < CURRENT_VERSION {
        match version {
            1 => v1_to_v2(txn)?,
            2 => v2_to_v3(txn)?,
            3 => v3_to_v4(txn)?,
            // The Sunbird tables start empty: nothing to change.
            4 => {}
            5 => super::migrate_nfkc::refold_v5_to_v6(txn)?,
            // The change feed starts empty, numbered from 1.
            6 => {}
            // Only new stores place their feed last: nothing to change.
            7 => {}
            8 => v8_to_v9(txn)?,
            // Side records may now say a user came from an SSO create (a
            // claimable shadow); the ones stored keep what they say.
            9 => {}
            // Names equal ignoring case now share their key: every index
            // keyed by `fold` is rebuilt (names that now collide are kept
            // and reported by `check`, as format 3 did).
            10 => super::migrate_nfkc::refold_v5_to_v6(txn)?,
            11 => v11_to_v12(txn)?,
            // New users' grams may now wait, unmerged, in their own table:
            // an older store has none waiting.
            12 => {}
            13 => v13_to_v14(txn)?,
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
        // Formats 1 and 2 had neither.
        Kind::Organisation | Kind::SunbirdUser | Kind::Change => None,
    }
}

/// Format 2 gives every user the access fields: no flags, groups or
/// permissions, no sign-in yet, the password set when the user was created.
fn v1_to_v2(txn: &Txn<'_>) -> Result<()> {
    let mut upgraded = Vec::new();
    for (id, bytes) in txn.rows(USERS)? {
        let old: UserV1 = unframed("user", id, &bytes)?;
        upgraded.push(from_v1(old));
    }
    for user in upgraded {
        // Written as format 2 wrote it; v2_to_v3 frames it.
        let bytes = postcard::to_allocvec(&user).map_err(crate::error::Internal::from)?;
        txn.put(USERS, &user.id, bytes.as_slice())?;
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
fn v2_to_v3(txn: &Txn<'_>) -> Result<()> {
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
fn reframe_users(txn: &Txn<'_>) -> Result<()> {
    let mut framed = Vec::new();
    for (id, bytes) in txn.rows(USERS)? {
        let old: UserV2 = unframed("user", id, &bytes)?;
        let user = User::from(old);
        framed.push((id, encode(USERS, id, &user)?));
    }
    for (id, bytes) in framed {
        txn.put(USERS, &id, bytes.as_slice())?;
    }
    Ok(())
}

/// Frames every record of table `def` (unchanged contents).
fn reframe<T: serde::Serialize + serde::de::DeserializeOwned>(
    txn: &Txn<'_>,
    def: Records,
    what: &str,
) -> Result<()> {
    let mut framed = Vec::new();
    for (id, bytes) in txn.rows(def)? {
        let record: T = unframed(what, id, &bytes)?;
        framed.push((id, encode(def, id, &record)?));
    }
    for (id, bytes) in framed {
        txn.put(def, &id, bytes.as_slice())?;
    }
    Ok(())
}

/// Frames every membership under its (user, batch) key.
fn reframe_memberships(txn: &Txn<'_>) -> Result<()> {
    let mut framed: Vec<(FrameKey, Vec<u8>)> = Vec::new();
    for (key, bytes) in txn.rows(MEMBERSHIPS)? {
        let sub: Subscription = unframed("membership", key.0, &bytes)?;
        framed.push((key, encode_membership(key, &sub)?));
    }
    for (key, bytes) in framed {
        txn.put(MEMBERSHIPS, &key, bytes.as_slice())?;
    }
    Ok(())
}

/// Format 4: the global id counters become per-block ones, expiries name
/// their membership (no subscription-id table), and the users
/// get their position counts ([`super::positions`]) and their n-gram
/// index ([`super::search`]) (the
/// re-encoding of every table as bytes was done by the redb backend, in
/// the same transaction, before this migration ran).
fn v3_to_v4(txn: &Txn<'_>) -> Result<()> {
    for (name, next) in txn.rows(COUNTERS)? {
        match ids::kind_named(&name) {
            Some(kind) => ids::raise(txn, kind, next)?,
            None => {
                return Err(Error::new(
                    ErrorCode::Corrupt,
                    format!("the store is damaged: unknown id counter {name:?}"),
                ));
            }
        }
    }
    txn.clear(COUNTERS)?;
    // Expiries name the membership itself, so the subscription-id table
    // (which only a purge read) goes.
    let owners: std::collections::BTreeMap<u64, (u64, u64)> =
        txn.rows(SUBSCRIPTIONS)?.into_iter().collect();
    let old_expiries = txn.rows(EXPIRIES_BY_ID)?;
    txn.clear(EXPIRIES_BY_ID)?;
    for ((day, id), ()) in old_expiries {
        let (user, batch) = owners.get(&id).copied().ok_or_else(|| {
            Error::new(
                ErrorCode::Corrupt,
                format!("the store is damaged: expiry of unknown subscription {id}"),
            )
        })?;
        txn.put(EXPIRIES, &(day, user, batch), &())?;
    }
    txn.clear(SUBSCRIPTIONS)?;
    // Memberships leave the uuid index (see `write::put_new_memberships`).
    let mut membership_uuids = Vec::new();
    txn.scan(
        UUIDS,
        std::ops::Bound::Unbounded,
        std::ops::Bound::Unbounded,
        false,
        |uuid, (kind, _)| {
            if kind == Kind::Subscription as u8 {
                membership_uuids.push(uuid);
            }
            Ok(true)
        },
    )?;
    txn.delete_many(UUIDS, &membership_uuids)?;
    let mut users = Vec::new();
    txn.scan(
        USERS,
        std::ops::Bound::Unbounded,
        std::ops::Bound::Unbounded,
        false,
        |id, _| {
            users.push(id);
            Ok(true)
        },
    )?;
    for (key, n) in positions::expected(USERS, users.into_iter()) {
        txn.put(positions::COUNTS, &key, &n)?;
    }
    // The n-gram index is built by format 6's step, which every store
    // migrating from here runs next, in this transaction.
    Ok(())
}

/// Format 9: position counts for the listed batches (not a course's hidden
/// one), the courses and the groups an older store holds, and the index of
/// its organisations' external ids.
fn v8_to_v9(txn: &Txn<'_>) -> Result<()> {
    let mut listed = Vec::new();
    for batch in super::read::records::<Batch>(txn, BATCHES)? {
        if !batch.is_local() {
            listed.push(batch.id);
        }
    }
    let counts = positions::expected(BATCHES, listed.into_iter())
        .into_iter()
        .chain(positions::expected(
            COURSES,
            super::read::ids(txn, COURSES)?.into_iter(),
        ))
        .chain(positions::expected(
            GROUPS,
            super::read::ids(txn, GROUPS)?.into_iter(),
        ));
    for (key, n) in counts {
        txn.put(positions::COUNTS, &key, &n)?;
    }
    for org in super::read::records::<crate::domain::sunbird::Organisation>(txn, ORGANISATIONS)? {
        if let Some(key) = super::read::org_external_key(&org) {
            txn.put(ORG_BY_EXTERNAL_ID, key.as_slice(), &())?;
        }
    }
    Ok(())
}

/// Format 14 keeps position counts for the organisations, so that a page
/// of their list is a few reads at any depth: a format-13 store gains them
/// from its organisations' ids.
fn v13_to_v14(txn: &Txn<'_>) -> Result<()> {
    let ids = super::read::ids(txn, ORGANISATIONS)?;
    for (key, n) in positions::expected(ORGANISATIONS, ids.into_iter()) {
        txn.put(positions::COUNTS, &key, &n)?;
    }
    Ok(())
}

/// Format 12: every unique index entry gains its seal. An entry an earlier
/// step of this migration rebuilt has it already (it was written through
/// the sealed table); one that holds a bare id (the eight bytes of formats
/// 4-11) is sealed as it is. Anything else is damage, refused as such:
/// the migration writes no seal over it.
fn v11_to_v12(txn: &Txn<'_>) -> Result<()> {
    for def in UNIQUE_INDEXES {
        let mut bare = Vec::new();
        let mut damaged = false;
        txn.scan(
            def.stored(),
            std::ops::Bound::Unbounded,
            std::ops::Bound::Unbounded,
            false,
            |key: String, stored: Vec<u8>| {
                if let Some(id) = u64::take(&stored) {
                    bare.push((key, id));
                } else if super::keys::sealed_id(def.name, &key, &stored).is_none() {
                    damaged = true;
                    return Ok(false);
                }
                Ok(true)
            },
        )?;
        if damaged {
            return Err(super::keys::malformed(def.name));
        }
        for (key, id) in bare {
            // A seal makes reads trust the entry; before format 12 each
            // hit was checked against its record. So each is checked once
            // here, rather than a damaged one sealed as sound.
            if !record_holds(txn, def, &key, id)? {
                return Err(Error::new(
                    ErrorCode::Corrupt,
                    format!(
                        "the store is damaged: the {} entry {:?} names record {id}, which does \
                         not hold it; run `roster recover` (it rebuilds every index)",
                        def.name,
                        crate::text::clip(&key)
                    ),
                ));
            }
            txn.put(def, key.as_str(), &id)?;
        }
    }
    Ok(())
}

/// Whether record `id` of unique index `def`'s table holds `key` (its own
/// key in that index, as the index keys it). A user's external id entries
/// (keyed by provider, type and id, in the side record) are taken as they
/// are.
fn record_holds(txn: &Txn<'_>, def: Unique, key: &str, id: u64) -> Result<bool> {
    use crate::text::fold;
    Ok(match def.name {
        "user_by_username" | "user_by_email" | "user_by_phone" => {
            super::read::user(txn, id)?.is_some_and(|u| super::read::holds_key(&u, def, key))
        }
        "batch_by_name" => {
            super::read::batch(txn, id)?.is_some_and(|b| !b.is_local() && fold(&b.name) == key)
        }
        "course_by_slug" => super::read::course(txn, id)?.is_some_and(|c| c.slug == key),
        "custom_field_by_name" => super::read::custom_field(txn, id)?
            .is_some_and(|f| crate::domain::custom_field::name_key(&f.name) == key),
        "group_by_name" => super::read::group(txn, id)?.is_some_and(|g| fold(&g.name) == key),
        "org_by_channel" => {
            super::read::organisation(txn, id)?.is_some_and(|o| fold(&o.channel) == key)
        }
        _ => true,
    })
}
