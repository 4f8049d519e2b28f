//! Reads of a [`Snapshot`]; a write transaction dereferences to one, so
//! writes use the same code for their checks.
//!
//! Every function here runs inside [`contain`] (a panic of the storage
//! engine on a damaged page becomes `corrupt_store`), decodes records through
//! their verified frames, and checks every index hit against the record it
//! points to: an index entry whose record is missing or carries another key
//! is `corrupt_store`, never someone else's record.

use super::positions::Counted;
use super::tables::*;
use super::{Snapshot, contain, decode, decode_membership};
use crate::domain::Batch;
use crate::domain::Subscription;
use crate::domain::course::Course;
use crate::domain::custom_field::CustomField;
use crate::domain::group::Group;
use crate::domain::sunbird::{Organisation, SunbirdUser};
use crate::domain::user::User;
use crate::error::{Error, ErrorCode, Result};
use crate::text::fold;
use serde::de::DeserializeOwned;
use std::ops::Bound;

/// The record `id` of table `def`.
pub(crate) fn record<T: DeserializeOwned>(
    s: &Snapshot<'_>,
    def: Records,
    id: u64,
) -> Result<Option<T>> {
    contain(s, || {
        let mut out = None;
        s.get_with(def, &id, &mut |bytes| {
            out = Some(decode(def, id, bytes)?);
            Ok(())
        })?;
        Ok(out)
    })
}

/// The records `ids` of table `def`, in the order of `ids` (`None` where
/// one does not exist), read with one `get_many`: ids near each other
/// share a walk of the tree.
pub(crate) fn records_of<T: DeserializeOwned>(
    s: &Snapshot<'_>,
    def: Records,
    ids: &[u64],
) -> Result<Vec<Option<T>>> {
    contain(s, || {
        let keys: Vec<&u64> = ids.iter().collect();
        let frames = s.get_many(def, &keys)?;
        try_map(frames.into_iter().zip(ids), |(frame, &id)| {
            frame.map(|f| decode(def, id, &f)).transpose()
        })
    })
}

/// `f` of each of `items`, in a vector of exactly their number, or the
/// first error. (`collect` into a `Result` cannot know the number: the
/// vector starts at four and grows, copying records of hundreds of bytes
/// each time.)
fn try_map<I: ExactSizeIterator, T>(
    items: I,
    mut f: impl FnMut(I::Item) -> Result<T>,
) -> Result<Vec<T>> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        out.push(f(item)?);
    }
    Ok(out)
}

/// Every record of table `def`, ascending id.
pub(crate) fn records<T: DeserializeOwned>(s: &Snapshot<'_>, def: Records) -> Result<Vec<T>> {
    records_within(s, def, Bound::Unbounded, Bound::Unbounded)
}

/// Every id of record table `def`, ascending (the keys alone: no record
/// is read).
pub(crate) fn ids(s: &Snapshot<'_>, def: Records) -> Result<Vec<u64>> {
    let mut out = Vec::new();
    s.scan_keys(def, Bound::Unbounded, Bound::Unbounded, |id| {
        out.push(id);
        Ok(true)
    })?;
    Ok(out)
}

/// Hands `each` every record of table `def`, by ascending id, one at a
/// time (none is kept here: an export of a million users holds one).
pub(crate) fn each_record<T: DeserializeOwned>(
    s: &Snapshot<'_>,
    def: Records,
    each: &mut dyn FnMut(T) -> Result<()>,
) -> Result<()> {
    contain(s, || {
        s.scan(
            def,
            Bound::Unbounded,
            Bound::Unbounded,
            false,
            |id, bytes| {
                each(decode(def, id, &bytes)?)?;
                Ok(true)
            },
        )
    })
}

/// The records of table `def` with ids within the bounds, ascending.
pub(crate) fn records_within<T: DeserializeOwned>(
    s: &Snapshot<'_>,
    def: Records,
    lower: Bound<&u64>,
    upper: Bound<&u64>,
) -> Result<Vec<T>> {
    contain(s, || {
        let mut out = Vec::new();
        s.scan(def, lower, upper, false, |id, bytes| {
            out.push(decode(def, id, &bytes)?);
            Ok(true)
        })?;
        Ok(out)
    })
}

/// Table `def`'s size and what a page of it needs to find its first record
/// ([`super::positions::Counted`]): read once, for the count a page shows
/// and the page itself.
pub(crate) fn counted(s: &Snapshot<'_>, def: Records) -> Result<Counted> {
    contain(s, || super::positions::counted(s, def))
}

/// At most `limit` records of the table `counted` counts from position
/// `offset`, by ascending id: a few reads wherever the page is when the
/// table keeps positions ([`super::positions`]); the records passed over
/// are skipped by key, the page's own read in one scan.
pub(crate) fn records_page<T: DeserializeOwned>(
    s: &Snapshot<'_>,
    counted: &Counted,
    offset: u64,
    limit: usize,
) -> Result<Vec<T>> {
    records_page_except(s, counted, offset, limit, &[])
}

/// [`records_page`] of the records but those with the ids of `except`
/// (ascending, each a record of the table): positions count only the
/// records kept. The first record shown is found by a binary search of
/// positions between `offset` and `offset` + the ids left out (each step
/// a few reads), so the cost grows with the logarithm of what is left out,
/// not with the table.
pub(crate) fn records_page_except<T: DeserializeOwned>(
    s: &Snapshot<'_>,
    counted: &Counted,
    offset: u64,
    limit: usize,
    except: &[u64],
) -> Result<Vec<T>> {
    let def = counted.def();
    contain(s, || {
        let mut out = Vec::with_capacity(limit);
        if limit == 0 {
            return Ok(out);
        }
        // Records kept at positions up to `p`: `p` + 1 less the ids left
        // out up to the record at `p`; it grows with `p`, and reaches
        // `offset` + 1 first at the record wanted, by `offset` + the ids
        // left out at the latest.
        let (mut low, mut high) = (offset, offset.saturating_add(except.len() as u64));
        while low < high {
            let mid = low + (high - low) / 2;
            let enough = match id_at(s, counted, mid)? {
                None => true,
                Some(id) => {
                    let left_out = except.partition_point(|&e| e <= id) as u64;
                    (mid + 1).saturating_sub(left_out) > offset
                }
            };
            match enough {
                true => high = mid,
                false => low = mid + 1,
            }
        }
        // From the record at position `low`: found as `id_at` finds it,
        // in the same scan as the records shown.
        let mut at = super::positions::seek(s, counted, low)?;
        s.scan_hint(hint(at.skip, limit.saturating_add(except.len())));
        let from = at.from;
        s.scan(
            def,
            Bound::Included(&from),
            Bound::Unbounded,
            false,
            |id, bytes| {
                if !at.pass(id)? && except.binary_search(&id).is_err() {
                    out.push(decode(def, id, &bytes)?);
                }
                Ok(out.len() < limit)
            },
        )?;
        Ok(out)
    })
}

/// At most `limit` of the listed records of the table `counted` counts
/// from position `offset`, by ascending id, where `listed` says which
/// records its counts count ([`super::positions`]): a few reads to find the
/// block, then the records from there, those not listed passed over.
pub(crate) fn listed_page<T: DeserializeOwned>(
    s: &Snapshot<'_>,
    counted: &Counted,
    offset: u64,
    limit: usize,
    listed: impl Fn(&T) -> bool,
) -> Result<Vec<T>> {
    let def = counted.def();
    contain(s, || {
        let mut out = Vec::with_capacity(limit);
        if limit == 0 {
            return Ok(out);
        }
        let mut at = super::positions::seek(s, counted, offset)?;
        // Records a list does not show may lie between (a course's batch).
        s.scan_hint(hint(at.skip, limit.saturating_mul(2)));
        let from = at.from;
        s.scan(
            def,
            Bound::Included(&from),
            Bound::Unbounded,
            false,
            |id, bytes| {
                let record: T = decode(def, id, &bytes)?;
                if !listed(&record) || at.pass(id)? {
                    return Ok(true);
                }
                out.push(record);
                Ok(out.len() < limit)
            },
        )?;
        Ok(out)
    })
}

/// The id of the record at position `position` (from 0, ascending id) of
/// the table `counted` counts, if it has that many records. Only for a
/// table whose counts count every record: the keys passed over are not
/// read.
fn id_at(s: &Snapshot<'_>, counted: &Counted, position: u64) -> Result<Option<u64>> {
    let def = counted.def();
    debug_assert!(super::positions::counts_every_record(def), "{}", def.name);
    let mut at = super::positions::seek(s, counted, position)?;
    s.scan_hint(hint(at.skip, 1));
    let mut found = None;
    let from = at.from;
    s.scan_keys(def, Bound::Included(&from), Bound::Unbounded, |id| {
        if at.pass(id)? {
            return Ok(true);
        }
        found = Some(id);
        Ok(false)
    })?;
    Ok(found)
}

/// The rows a scan of a page visits: the `skip` passed over, then `rows`.
fn hint(skip: u64, rows: usize) -> usize {
    usize::try_from(skip)
        .unwrap_or(usize::MAX)
        .saturating_add(rows)
}

/// User `id`.
pub(crate) fn user(s: &Snapshot<'_>, id: u64) -> Result<Option<User>> {
    record(s, USERS, id)
}

/// Batch `id`.
pub(crate) fn batch(s: &Snapshot<'_>, id: u64) -> Result<Option<Batch>> {
    record(s, BATCHES, id)
}

/// Course `id`.
pub(crate) fn course(s: &Snapshot<'_>, id: u64) -> Result<Option<Course>> {
    record(s, COURSES, id)
}

/// Custom field definition `id`.
pub(crate) fn custom_field(s: &Snapshot<'_>, id: u64) -> Result<Option<CustomField>> {
    record(s, CUSTOM_FIELDS, id)
}

/// The error for an index entry that does not match its record.
pub(crate) fn index_mismatch(index: &str, id: u64, why: &str) -> Error {
    Error::new(
        ErrorCode::Corrupt,
        format!(
            "the store is damaged: the {index} index names record {id}, {why}; run `roster check`"
        ),
    )
}

/// The first fields of a stored user, borrowed from its frame: what the
/// username, email and phone indexes are checked against, without decoding
/// (and copying) the whole record. Field order as in [`User`], which
/// postcard follows.
#[derive(serde::Deserialize)]
struct UserKeys<'a> {
    #[allow(dead_code)]
    id: u64,
    #[allow(dead_code)]
    uuid: u128,
    username: &'a str,
    #[allow(dead_code)]
    password_hash: &'a str,
    email: &'a str,
    phone: &'a str,
}

/// The texts of a stored user that search checks, borrowed from its frame
/// (field order as in [`User`] and its profile, which postcard follows).
#[derive(serde::Deserialize)]
pub(crate) struct UserTexts<'a> {
    #[allow(dead_code)]
    id: u64,
    /// The UUID.
    pub(crate) uuid: u128,
    /// The username.
    pub(crate) username: &'a str,
    #[allow(dead_code)]
    password_hash: &'a str,
    /// The email.
    pub(crate) email: &'a str,
    /// The phone.
    pub(crate) phone: &'a str,
    /// The first name.
    pub(crate) first_name: &'a str,
    /// The last name.
    pub(crate) last_name: &'a str,
}

/// Calls `f` with the texts of user `id` search checks, read without
/// decoding the rest of the record; `None` when the user does not exist.
pub(crate) fn with_user_texts<T>(
    s: &Snapshot<'_>,
    id: u64,
    f: impl FnOnce(&UserTexts<'_>) -> T,
) -> Result<Option<T>> {
    contain(s, || {
        let Some(bytes) = s.get(USERS, &id)? else {
            return Ok(None);
        };
        let texts: UserTexts<'_> =
            super::frame::decode_borrowed(Kind::User, super::frame::id(id), &bytes)?;
        Ok(Some(f(&texts)))
    })
}

/// User `id`'s UUID, if it exists.
pub(crate) fn user_uuid(s: &Snapshot<'_>, id: u64) -> Result<Option<u128>> {
    with_user_texts(s, id, |t| t.uuid)
}

/// Whether `text` folds to `key` (ASCII without allocating).
fn folds_to(text: &str, key: &str) -> bool {
    if text.is_ascii() && key.is_ascii() {
        text.len() == key.len()
            && text
                .bytes()
                .zip(key.bytes())
                .all(|(a, b)| a.to_ascii_lowercase() == b)
    } else {
        fold(text) == key
    }
}

/// How many users [`users_hold`] asks the backend for at once: a message
/// to a server each, and a bound on the rows it sends back.
const USERS_AT_ONCE: usize = 1024;

/// For each of users `ids`, in their order, what `f` says of its stored
/// frame; `None` for a user that does not exist. Read [`USERS_AT_ONCE`] at
/// a time, each frame lent where the backend can.
fn users_hold(
    s: &Snapshot<'_>,
    ids: &[u64],
    f: &mut dyn FnMut(u64, &[u8]) -> Result<bool>,
) -> Result<Vec<Option<bool>>> {
    contain(s, || {
        let mut out = vec![None; ids.len()];
        for (chunk, got) in ids.chunks(USERS_AT_ONCE).zip(out.chunks_mut(USERS_AT_ONCE)) {
            let keys: Vec<&u64> = chunk.iter().collect();
            s.get_many_with(USERS, &keys, &mut |i, bytes| {
                got[i] = Some(f(chunk[i], bytes)?);
                Ok(())
            })?;
        }
        Ok(out)
    })
}

/// For each of users `ids`, in their order, whether `f` holds of its
/// username, email and phone, read without decoding the rest of the
/// record (a search checks thousands of candidates); `None` for a user
/// that does not exist.
pub(crate) fn users_keys_hold(
    s: &Snapshot<'_>,
    ids: &[u64],
    mut f: impl FnMut([&str; 3]) -> bool,
) -> Result<Vec<Option<bool>>> {
    users_hold(s, ids, &mut |id, bytes| {
        let keys: UserKeys<'_> =
            super::frame::decode_borrowed(Kind::User, super::frame::id(id), bytes)?;
        Ok(f([keys.username, keys.email, keys.phone]))
    })
}

/// [`users_keys_hold`] of the texts search checks.
pub(crate) fn users_texts_hold(
    s: &Snapshot<'_>,
    ids: &[u64],
    mut f: impl FnMut(&UserTexts<'_>) -> bool,
) -> Result<Vec<Option<bool>>> {
    users_hold(s, ids, &mut |id, bytes| {
        let texts: UserTexts<'_> =
            super::frame::decode_borrowed(Kind::User, super::frame::id(id), bytes)?;
        Ok(f(&texts))
    })
}

/// Whether a user whose username, email and phone are `keys` belongs under
/// `key` in user index `def`.
fn own_key_is(def: Unique, [username, email, phone]: [&str; 3], key: &str) -> bool {
    match def.name {
        "user_by_username" => folds_to(username, key),
        "user_by_email" => folds_to(email, key),
        _ => phone == key,
    }
}

/// Whether `user`'s own key in user index `def` is `key`.
pub(crate) fn holds_key(user: &User, def: Unique, key: &str) -> bool {
    let keys = [
        user.username.as_str(),
        &user.profile.email,
        &user.profile.phone,
    ];
    own_key_is(def, keys, key)
}

/// The user under `key` in user index `def` (username, email or phone),
/// checked against its record: [`lookup`] for a caller that wants the
/// record itself, read once.
pub(crate) fn lookup_user(s: &Snapshot<'_>, def: Unique, key: &str) -> Result<Option<User>> {
    let Some((id, frame)) = contain(s, || s.id_and_record(def, key, USERS))? else {
        return Ok(None);
    };
    let frame = frame.ok_or_else(|| index_mismatch(def.name, id, "which does not exist"))?;
    let user: User = contain(s, || decode(USERS, id, &frame))?;
    let keys = [
        user.username.as_str(),
        &user.profile.email,
        &user.profile.phone,
    ];
    if !own_key_is(def, keys, key) {
        return Err(index_mismatch(
            def.name,
            id,
            "whose own key differs from the entry",
        ));
    }
    Ok(Some(user))
}

/// The id under `key` in unique index `def`. The entry's seal is its
/// check: a damaged entry is a `corrupt_store` error, and the record it
/// names is not read (a caller that wants the record checks its key
/// there, [`lookup_user`]; `check` compares every entry with its record).
pub(crate) fn lookup(s: &Snapshot<'_>, def: Unique, key: &str) -> Result<Option<u64>> {
    contain(s, || s.get(def, key))
}

/// Every custom field definition, by id.
pub(crate) fn custom_fields(s: &Snapshot<'_>) -> Result<std::sync::Arc<[CustomField]>> {
    s.custom_fields_with(|| records(s, CUSTOM_FIELDS))
}

/// The membership of `user` in `batch`, expired or not.
pub(crate) fn membership(s: &Snapshot<'_>, user: u64, batch: u64) -> Result<Option<Subscription>> {
    contain(s, || match s.get(MEMBERSHIPS, &(user, batch))? {
        Some(bytes) => Ok(Some(decode_membership((user, batch), &bytes)?)),
        None => Ok(None),
    })
}

/// Every membership of `user` as (batch id, subscription), ascending batch id,
/// expired ones included.
pub(crate) fn memberships_of(s: &Snapshot<'_>, user: u64) -> Result<Vec<(u64, Subscription)>> {
    contain(s, || {
        let mut out = Vec::new();
        s.scan_prefix(MEMBERSHIPS, &user, false, |key, bytes| {
            out.push((key.1, decode_membership(key, &bytes)?));
            Ok(true)
        })?;
        Ok(out)
    })
}

/// The record table the second members of relation `def` name.
fn target_of(def: Pairs) -> Records {
    match def.name {
        "course_batches" => BATCHES,
        "batch_courses" => COURSES,
        "user_outbox" => OUTBOX,
        "managed_users" => SUNBIRD_USERS,
        // batch_members, field_users, group_users
        _ => USERS,
    }
}

/// The second members of the pairs whose first member is `first`,
/// ascending; each must name an existing record (else `corrupt_store`).
pub(crate) fn related(s: &Snapshot<'_>, def: Pairs, first: u64) -> Result<Vec<u64>> {
    Ok(related_frames(s, def, first)?
        .into_iter()
        .map(|(id, _)| id)
        .collect())
}

/// [`related`] with each second member's record, decoded (read once: the
/// existence check reads it anyway).
pub(crate) fn related_records<T: DeserializeOwned>(
    s: &Snapshot<'_>,
    def: Pairs,
    first: u64,
) -> Result<Vec<(u64, T)>> {
    let target = target_of(def);
    try_map(related_frames(s, def, first)?.into_iter(), |(id, frame)| {
        Ok((id, contain(s, || decode(target, id, &frame))?))
    })
}

/// The second members of the pairs of `first` with their records' frames.
fn related_frames(s: &Snapshot<'_>, def: Pairs, first: u64) -> Result<Vec<(u64, Vec<u8>)>> {
    contain(s, || {
        let mut ids = Vec::new();
        s.scan_prefix(def, &first, false, |(_, id), ()| {
            ids.push(id);
            Ok(true)
        })?;
        let keys: Vec<&u64> = ids.iter().collect();
        let found = s.get_many(target_of(def), &keys)?;
        ids.into_iter()
            .zip(found)
            .map(|(id, record)| {
                record.map(|frame| (id, frame)).ok_or_else(|| {
                    Error::new(
                        ErrorCode::Corrupt,
                        format!(
                            "the store is damaged: {} links {first} to missing record {id}; run `roster check`",
                            def.name
                        ),
                    )
                })
            })
            .collect()
    })
}

/// User `id`'s Sunbird side record, if it has one.
pub(crate) fn sunbird(s: &Snapshot<'_>, id: u64) -> Result<Option<SunbirdUser>> {
    record(s, SUNBIRD_USERS, id)
}

/// Every system setting, by id.
pub(crate) fn settings(s: &Snapshot<'_>) -> Result<Vec<(String, String)>> {
    contain(s, || {
        Ok(s.rows(SETTINGS)?
            .into_iter()
            .map(|(id, value)| (id, String::from_utf8_lossy(&value).into_owned()))
            .collect())
    })
}

/// Every side record, by user id ascending.
pub(crate) fn sunbird_users(s: &Snapshot<'_>) -> Result<Vec<(u64, SunbirdUser)>> {
    let mut out = Vec::new();
    each_sunbird_user(s, &mut |id, side| {
        out.push((id, side));
        Ok(())
    })?;
    Ok(out)
}

/// Hands `each` every side record, by user id ascending, one at a time.
pub(crate) fn each_sunbird_user(
    s: &Snapshot<'_>,
    each: &mut dyn FnMut(u64, SunbirdUser) -> Result<()>,
) -> Result<()> {
    contain(s, || {
        s.scan(
            SUNBIRD_USERS,
            Bound::Unbounded,
            Bound::Unbounded,
            false,
            |id, bytes| {
                each(id, decode(SUNBIRD_USERS, id, &bytes)?)?;
                Ok(true)
            },
        )
    })
}

/// Organisation `id`.
pub(crate) fn organisation(s: &Snapshot<'_>, id: u64) -> Result<Option<Organisation>> {
    record(s, ORGANISATIONS, id)
}

/// The prefix of the `org_by_external_id` rows of (`root`, `external_id`):
/// the tenant big-endian, the external id, a NUL.
fn org_external_prefix(root: u64, external_id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(8 + external_id.len() + 1 + 8);
    k.extend_from_slice(&root.to_be_bytes());
    k.extend_from_slice(external_id.as_bytes());
    k.push(0);
    k
}

/// The `org_by_external_id` row of `org`, `None` when it has no external
/// id.
pub(crate) fn org_external_key(org: &Organisation) -> Option<Vec<u8>> {
    if org.external_id.is_empty() {
        return None;
    }
    let mut k = org_external_prefix(org.root_org, &org.external_id);
    k.extend_from_slice(&org.id.to_be_bytes());
    Some(k)
}

/// The organisation of tenant `root` whose external id is `external_id`
/// (stored lower-case): the lowest id when several share it. Each row read
/// is checked against its organisation; an external id holding a NUL can
/// share a prefix with a shorter one, and is passed over.
pub(crate) fn org_by_external_id(
    s: &Snapshot<'_>,
    root: u64,
    external_id: &str,
) -> Result<Option<u64>> {
    let wanted = external_id.to_lowercase();
    let mut found = None;
    let prefix = org_external_prefix(root, &wanted);
    s.scan_prefix(ORG_BY_EXTERNAL_ID, prefix.as_slice(), false, |key, ()| {
        let mut id = [0u8; 8];
        id.copy_from_slice(&key[key.len().saturating_sub(8)..]);
        let id = u64::from_be_bytes(id);
        let org = organisation(s, id)?
            .ok_or_else(|| index_mismatch(ORG_BY_EXTERNAL_ID.name, id, "which does not exist"))?;
        if org_external_key(&org).as_deref() != Some(key.as_slice()) {
            return Err(index_mismatch(
                ORG_BY_EXTERNAL_ID.name,
                id,
                "whose own key differs from the entry",
            ));
        }
        if org.root_org == root && org.external_id == wanted {
            found = Some(id);
            return Ok(false);
        }
        Ok(true)
    })?;
    Ok(found)
}

/// Group `id`.
pub(crate) fn group(s: &Snapshot<'_>, id: u64) -> Result<Option<Group>> {
    record(s, GROUPS, id)
}

/// Every queued message, oldest first.
pub(crate) fn messages(s: &Snapshot<'_>) -> Result<Vec<crate::domain::outbox::Message>> {
    records(s, OUTBOX)
}

/// The session under token hash `hash`.
pub(crate) fn session(s: &Snapshot<'_>, hash: [u8; 32]) -> Result<Option<SessionRow>> {
    contain(s, || s.get(SESSIONS, &hash))
}

/// The next id of every entity kind that has given one, by counter name
/// (an export's counters).
pub(crate) fn id_counters(s: &Snapshot<'_>) -> Result<Vec<(String, u64)>> {
    contain(s, || {
        let mut out = Vec::new();
        for kind in Kind::ALL {
            if super::ids::has_given(s, kind)? {
                out.push((kind.counter().to_string(), super::ids::given(s, kind)?));
            }
        }
        out.sort();
        Ok(out)
    })
}

/// Every link of a course to a batch, as (course, batch).
pub(crate) fn course_links(s: &Snapshot<'_>) -> Result<Vec<(u64, u64)>> {
    contain(s, || {
        Ok(s.rows(COURSE_BATCHES)?
            .into_iter()
            .map(|(k, ())| k)
            .collect())
    })
}

/// Hands `each` every membership as (user, batch, subscription), by user
/// then batch, one at a time.
pub(crate) fn each_membership(
    s: &Snapshot<'_>,
    each: &mut dyn FnMut(u64, u64, Subscription) -> Result<()>,
) -> Result<()> {
    contain(s, || {
        s.scan(
            MEMBERSHIPS,
            Bound::Unbounded,
            Bound::Unbounded,
            false,
            |key, bytes| {
                each(key.0, key.1, decode_membership(key, &bytes)?)?;
                Ok(true)
            },
        )
    })
}

/// Whether the store holds no record of any entity (a restore's target).
pub(crate) fn holds_no_records(s: &Snapshot<'_>) -> Result<bool> {
    contain(s, || {
        for def in [
            USERS,
            BATCHES,
            COURSES,
            CUSTOM_FIELDS,
            GROUPS,
            ORGANISATIONS,
        ] {
            if s.len(def)? > 0 {
                return Ok(false);
            }
        }
        // Nor search rows, which only users make: a restore's check does
        // not compare the index it builds, so rows left over by damage
        // would be merged into it.
        Ok(s.len(super::search::GRAMS)? == 0 && s.len(super::search::UNMERGED)? == 0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Kind, Store, ids, write};

    /// An organisation of tenant `root` with `external_id`.
    fn org(id: u64, root: u64, external_id: &str) -> Organisation {
        Organisation {
            id,
            uuid: u128::from(id),
            name: format!("org {id}"),
            org_type: "school".into(),
            channel: if id == root {
                format!("c{id}")
            } else {
                String::new()
            },
            is_tenant: id == root,
            is_default: false,
            root_org: root,
            email: String::new(),
            external_id: external_id.into(),
            created: 0,
            modified: 0,
        }
    }

    /// The create refuses an external id holding a NUL, but a store written
    /// before it did (or edited) may hold one: its key then starts with a
    /// shorter id's prefix, and the lookup passes it over.
    #[test]
    fn an_external_id_holding_a_nul_is_not_a_shorter_one() {
        let store = Store::in_memory().unwrap();
        store
            .write(|txn| {
                ids::raise(txn, Kind::Organisation, 4)?;
                write::put_organisation(txn, None, &org(1, 1, ""))?;
                write::put_organisation(txn, None, &org(2, 1, "sch-1\u{0}x"))?;
                write::put_organisation(txn, None, &org(3, 1, "sch-1"))
            })
            .unwrap();
        let found = |ext: &str| store.reading(|s| org_by_external_id(s, 1, ext)).unwrap();
        assert_eq!(found("SCH-1"), Some(3));
        assert_eq!(found("sch-1\u{0}x"), Some(2));
        assert_eq!(found("sch-1\u{0}"), None);
    }
}
