//! Writes: one function per entity that stores the record and updates every
//! index it appears in, in the caller's transaction (ARCHITECTURE
//! convention 4). Callers check uniqueness first, so a clash found here is a
//! bug and is reported as one.

use super::keys::{Col, Def};
use super::read;
use super::tables::*;
use super::{Reads, Txn, feed, ids, positions, search};
use super::{decode_membership, encode, encode_membership};
use crate::domain::course::Course;
use crate::domain::custom_field::{self, CustomField};
use crate::domain::feed::{Entity, LinkedCourse, MembershipRecord, Record, SettingRecord};
use crate::domain::group::Group;
use crate::domain::outbox::Message;
use crate::domain::sunbird::{Organisation, SunbirdUser};
use crate::domain::user::User;
use crate::domain::{Batch, Subscription};
use crate::error::{Error, ErrorCode, Result};
use crate::text::fold;
use chrono::Datelike;
use std::collections::BTreeSet;
use std::ops::Bound;

/// The next id of `kind`; ids are never reused.
pub(crate) fn next_id(txn: &Txn<'_>, kind: Kind) -> Result<u64> {
    ids::next(txn, kind)
}

/// The next `n` ids of `kind`, ascending.
pub(crate) fn next_ids(txn: &Txn<'_>, kind: Kind, n: usize) -> Result<Vec<u64>> {
    ids::next_n(txn, kind, n)
}

/// An index that disagrees with the records: the store is damaged (the
/// callers checked uniqueness first, so a sound store never gets here).
fn clash(what: &str) -> Error {
    Error::new(
        ErrorCode::Corrupt,
        format!(
            "the store is damaged: the {what} index disagrees with the records; run `roster check`"
        ),
    )
}

/// Moves `id`'s entry in unique index `def` from `old` to `new` (empty: none).
fn reindex(txn: &Txn<'_>, def: Unique, old: &str, new: &str, id: u64) -> Result<()> {
    if old == new {
        return Ok(());
    }
    // Only `id`'s own entry: a key shared by records the NFKC migration
    // kept points to another record.
    if !old.is_empty() && txn.get(def, old)? == Some(id) {
        match super::migrate_nfkc::next_holder(txn, def, old, id)? {
            Some(other) => txn.put(def, old, &other)?,
            None => txn.remove(def, old)?,
        }
    }
    if !new.is_empty() {
        if txn.get(def, new)?.is_some_and(|other| other != id) {
            return Err(clash(def_name(def)));
        }
        txn.put(def, new, &id)?;
    }
    Ok(())
}

/// What unique index `def` holds, in an error's words (a table that gains
/// no words here is named by its table name, never as another index).
fn def_name(def: Unique) -> &'static str {
    match def.name {
        "user_by_username" => "username",
        "user_by_email" => "email",
        "user_by_phone" => "phone",
        "batch_by_name" => "batch name",
        "course_by_slug" => "course slug",
        "external_ids" => "external id",
        "org_by_channel" => "organisation channel",
        "custom_field_by_name" => "custom field name",
        "group_by_name" => "group name",
        other => other,
    }
}

fn put_uuid(txn: &Txn<'_>, uuid: u128, kind: Kind, id: u64) -> Result<()> {
    if txn
        .get(UUIDS, &uuid)?
        .is_some_and(|v| v != (kind as u8, id))
    {
        return Err(clash("uuid"));
    }
    txn.put(UUIDS, &uuid, &(kind as u8, id))
}

/// Refuses a new record `id` of `def` where a record is stored under that
/// id already: ids are never reused, so only a damaged id counter gives
/// one again, and the new record would overwrite the old, its index
/// entries left behind.
fn ensure_new(txn: &Txn<'_>, def: Records, id: u64) -> Result<()> {
    match txn.get(def, &id)? {
        Some(_) => Err(id_taken(def, id)),
        None => Ok(()),
    }
}

/// The error of a new record `id` of `def` that a stored one holds.
fn id_taken(def: Records, id: u64) -> Error {
    Error::new(
        ErrorCode::Corrupt,
        format!(
            "the store is damaged: a new row of {} would take id {id}, which a stored \
             one holds (its id counter is behind the records); run `roster check`",
            def.name
        ),
    )
}

/// Counts a new record `id` of `def` into its positions; a record already
/// under that id is a clash ([`ensure_new`]; it is counted already).
fn count_new(txn: &Txn<'_>, def: Records, id: u64) -> Result<()> {
    ensure_new(txn, def, id)?;
    positions::count(txn, def, id, 1)
}

fn set_pair(txn: &Txn<'_>, def: Pairs, pair: (u64, u64), present: bool) -> Result<()> {
    if present {
        txn.put(def, &pair, &())
    } else {
        txn.remove(def, &pair)
    }
}

/// Stores `user` (replacing `old`, the stored version, if any) and its indexes.
pub(crate) fn put_user(txn: &Txn<'_>, old: Option<&User>, user: &User) -> Result<()> {
    let Some(old) = old else {
        return put_new_users(txn, std::slice::from_ref(user));
    };
    reindex(
        txn,
        USER_BY_USERNAME,
        &fold(&old.username),
        &fold(&user.username),
        user.id,
    )?;
    reindex(
        txn,
        USER_BY_EMAIL,
        &fold(&old.profile.email),
        &fold(&user.profile.email),
        user.id,
    )?;
    reindex(
        txn,
        USER_BY_PHONE,
        &old.profile.phone,
        &user.profile.phone,
        user.id,
    )?;
    let held = |u: &User| -> Vec<u64> { u.profile.custom.iter().map(|(f, _)| *f).collect() };
    let (before, after) = (held(old), held(user));
    for f in before.iter().filter(|f| !after.contains(f)) {
        set_pair(txn, FIELD_USERS, (*f, user.id), false)?;
    }
    for f in after.iter().filter(|f| !before.contains(f)) {
        set_pair(txn, FIELD_USERS, (*f, user.id), true)?;
    }
    for g in old.groups.iter().filter(|g| !user.groups.contains(g)) {
        set_pair(txn, GROUP_USERS, (*g, user.id), false)?;
    }
    for g in user.groups.iter().filter(|g| !old.groups.contains(g)) {
        set_pair(txn, GROUP_USERS, (*g, user.id), true)?;
    }
    search::reindex(txn, user.id, Some(old), Some(user))?;
    txn.put(USERS, &user.id, encode(USERS, user.id, user)?.as_slice())?;
    feed::changed(txn, Some(old), Some(user))
}

/// `reads` with what storing `new` users reads ([`Txn::will_read`]): the
/// id counters of users and memberships the handle takes ids from, and the
/// feed's origin; and, where the handle expects the new users' ids
/// ([`ids::expected`]), what [`put_new_users`] reads for them: their ids'
/// records (none), their UUIDs' entries (drawn now, [`Txn::draw_uuids`])
/// and their counts. (No search postings: up to [`search::FEW`] new users
/// are kept unmerged, and a caller hints no more.) A create then
/// reads everything in one round trip where reads cost one each; where
/// the ids turn out others (another process took them), the rows are read
/// as without the hint.
pub(crate) fn will_create_users(txn: &Txn<'_>, reads: Reads, new: usize) -> Result<Reads> {
    let reads = ids::will_take(txn, Kind::User, reads);
    let reads = feed::will_append(ids::will_take(txn, Kind::Subscription, reads));
    if new == 0 || !txn.takes_hints() {
        return Ok(reads);
    }
    let Some(ids) = ids::expected(txn, Kind::User, new) else {
        return Ok(reads);
    };
    let uuids = txn.draw_uuids(new)?;
    let reads = uuids.iter().fold(reads, |r, uuid| r.of(UUIDS, uuid));
    let reads = ids.iter().fold(reads, |r, id| r.of(USERS, id));
    Ok(positions::will_count(USERS, &ids, reads))
}

/// Tells the backend what a change (or the deletion) of user `id` reads
/// first ([`Txn::will_read`]): its record, side record and waiting search
/// row, the feed's origin, and the custom field definitions, whole
/// ([`Txn::will_scan`]).
pub(crate) fn will_change_user(txn: &Txn<'_>, id: u64) -> Result<()> {
    txn.will_scan(&[CUSTOM_FIELDS.name])?;
    txn.will_read(&feed::will_append(user_and_side(id)))
}

/// Tells the backend what the deletion of user `id` reads first: what a
/// change does ([`will_change_user`]), and every row it holds under its
/// id, read whole ([`Txn::will_scan_prefix`]): the users it manages, its
/// memberships, sessions and messages.
pub(crate) fn will_delete_user(txn: &Txn<'_>, id: u64) -> Result<()> {
    txn.will_scan_prefix(MANAGED_USERS, &id)?;
    txn.will_scan_prefix(MEMBERSHIPS, &id)?;
    txn.will_scan_prefix(USER_SESSIONS, &id)?;
    txn.will_scan_prefix(USER_OUTBOX, &id)?;
    will_change_user(txn, id)
}

/// Tells the backend what a sign-in of user `id` reads first: its record,
/// and its sessions, read whole ([`Txn::will_scan_prefix`]).
pub(crate) fn will_sign_in(txn: &Txn<'_>, id: u64) -> Result<()> {
    txn.will_scan_prefix(USER_SESSIONS, &id)?;
    txn.will_read(&Reads::default().of(USERS, &id))
}

/// The reads of user `id`'s record and side record, of its row in the
/// search index's waiting users (which a change of its texts rewrites),
/// and of the marks of names a migration left shared (which a change of
/// its username or email reads).
fn user_and_side(id: u64) -> Reads {
    let shared = |def| super::migrate_nfkc::shared_mark(def).unwrap_or_default();
    Reads::default()
        .of(USERS, &id)
        .of(SUNBIRD_USERS, &id)
        .of(search::UNMERGED, &id)
        .of(META, shared(USER_BY_USERNAME))
        .of(META, shared(USER_BY_EMAIL))
}

/// Tells the backend what a change of the user of `uuid` reads first
/// ([`Txn::will_read`]): the UUID's entry and the feed's origin, then, once
/// the entry names a user, its record, side record and waiting search row.
pub(crate) fn will_change_user_by_uuid(txn: &Txn<'_>, uuid: u128) -> Result<()> {
    txn.will_read(&feed::will_append(Reads::default().of(UUIDS, &uuid)))?;
    if let Some((kind, id)) = txn.get(UUIDS, &uuid)?
        && kind == Kind::User as u8
    {
        txn.will_read(&user_and_side(id))?;
    }
    Ok(())
}

/// Stores new users and their indexes: one table at a time, each in its
/// key order, so that a bulk import's rows land on neighbouring pages (the
/// one way a user is created, one or many).
pub(crate) fn put_new_users(txn: &Txn<'_>, users: &[User]) -> Result<()> {
    let mut by_id: Vec<&User> = users.iter().collect();
    by_id.sort_unstable_by_key(|u| u.id);
    let mut uuids: Vec<(u128, u64)> = users.iter().map(|u| (u.uuid, u.id)).collect();
    uuids.sort_unstable();
    // The checks, counts and search postings read their keys at once (one
    // round trip where reads cost one each).
    let ids: Vec<u64> = by_id.iter().map(|u| u.id).collect();
    let reads = uuids
        .iter()
        .fold(Reads::default(), |r, (uuid, _)| r.of(UUIDS, uuid));
    let reads = ids.iter().fold(reads, |r, id| r.of(USERS, id));
    let reads = search::will_index(txn, users, reads);
    txn.will_read(&positions::will_count(USERS, &ids, reads))?;
    for (uuid, id) in uuids {
        put_uuid(txn, uuid, Kind::User, id)?;
    }
    let keys: Vec<&u64> = ids.iter().collect();
    let stored = txn.get_many(USERS, &keys)?;
    if let Some((id, _)) = ids.iter().zip(stored).find(|(_, s)| s.is_some()) {
        return Err(id_taken(USERS, *id));
    }
    positions::count_many(txn, USERS, &ids, 1)?;
    let keyed = |def: Unique, key: fn(&User) -> String| -> Result<()> {
        let mut keys: Vec<(String, u64)> = users.iter().map(|u| (key(u), u.id)).collect();
        keys.sort_unstable();
        for (k, id) in keys {
            reindex(txn, def, "", &k, id)?;
        }
        Ok(())
    };
    keyed(USER_BY_USERNAME, |u| fold(&u.username))?;
    keyed(USER_BY_EMAIL, |u| fold(&u.profile.email))?;
    keyed(USER_BY_PHONE, |u| u.profile.phone.clone())?;
    let pairs = |def: Pairs, of: fn(&User) -> Vec<u64>| -> Result<()> {
        let mut pairs: Vec<(u64, u64)> = users
            .iter()
            .flat_map(|u| of(u).into_iter().map(|first| (first, u.id)))
            .collect();
        pairs.sort_unstable();
        for pair in pairs {
            set_pair(txn, def, pair, true)?;
        }
        Ok(())
    };
    pairs(FIELD_USERS, |u| {
        u.profile.custom.iter().map(|(f, _)| *f).collect()
    })?;
    pairs(GROUP_USERS, |u| u.groups.clone())?;
    for user in &by_id {
        search::reindex(txn, user.id, None, Some(user))?;
    }
    for user in by_id {
        txn.put(USERS, &user.id, encode(USERS, user.id, user)?.as_slice())?;
        feed::changed(txn, None, Some(user))?;
    }
    Ok(())
}

/// Removes `user` and everything that refers to it.
pub(crate) fn delete_user(txn: &Txn<'_>, user: &User) -> Result<()> {
    // The index entries, postings and count it changes, and its
    // memberships' index entries, read at once.
    let memberships = read::memberships_of(txn, user.id)?;
    let mut reads = Reads::default()
        .of(USER_BY_USERNAME, fold(&user.username).as_str())
        .of(USER_BY_EMAIL, fold(&user.profile.email).as_str())
        .of(USER_BY_PHONE, user.profile.phone.as_str());
    for (batch, sub) in &memberships {
        reads = reads.of(BATCH_MEMBERS, &(*batch, user.id));
        if let Some(expires) = sub.expires {
            reads = reads.of(EXPIRIES, &(day(expires), user.id, *batch));
        }
    }
    let reads = search::will_unindex(txn, user, reads);
    txn.will_read(&positions::will_count(USERS, &[user.id], reads))?;
    for (batch, sub) in memberships {
        delete_membership(txn, user.id, batch, &sub)?;
    }
    for (field, _) in &user.profile.custom {
        set_pair(txn, FIELD_USERS, (*field, user.id), false)?;
    }
    for group in &user.groups {
        set_pair(txn, GROUP_USERS, (*group, user.id), false)?;
    }
    end_sessions(txn, user.id, None)?;
    if let Some(side) = read::sunbird(txn, user.id)? {
        put_sunbird(txn, user.id, Some(&side), None)?;
    }
    for message in read::related(txn, USER_OUTBOX, user.id)? {
        delete_message(txn, user.id, message)?;
    }
    reindex(txn, USER_BY_USERNAME, &fold(&user.username), "", user.id)?;
    reindex(txn, USER_BY_EMAIL, &fold(&user.profile.email), "", user.id)?;
    reindex(txn, USER_BY_PHONE, &user.profile.phone, "", user.id)?;
    txn.remove(UUIDS, &user.uuid)?;
    search::reindex(txn, user.id, Some(user), None)?;
    if txn.delete(USERS, &user.id)? {
        positions::count(txn, USERS, user.id, -1)?;
    }
    feed::changed(txn, Some(user), None)
}

/// Stores `batch` (replacing `old`) and its name index (ordinary batches only).
pub(crate) fn put_batch(txn: &Txn<'_>, old: Option<&Batch>, batch: &Batch) -> Result<()> {
    let key = |b: &Batch| {
        if b.is_local() {
            String::new()
        } else {
            fold(&b.name)
        }
    };
    let old_key = match old {
        Some(o) => key(o),
        None => {
            // A course's hidden batch too: it would overwrite a batch.
            ensure_new(txn, BATCHES, batch.id)?;
            put_uuid(txn, batch.uuid, Kind::Batch, batch.id)?;
            String::new()
        }
    };
    reindex(txn, BATCH_BY_NAME, &old_key, &key(batch), batch.id)?;
    // Positions count the listed (ordinary) batches only.
    match (old.is_some_and(|o| !o.is_local()), !batch.is_local()) {
        (false, true) if old.is_none() => positions::count(txn, BATCHES, batch.id, 1)?,
        (false, true) => positions::count(txn, BATCHES, batch.id, 1)?,
        (true, false) => positions::count(txn, BATCHES, batch.id, -1)?,
        _ => {}
    }
    txn.put(
        BATCHES,
        &batch.id,
        encode(BATCHES, batch.id, batch)?.as_slice(),
    )?;
    feed::changed(txn, old, Some(batch))
}

/// Removes `batch`, its memberships and its course links.
pub(crate) fn delete_batch(txn: &Txn<'_>, batch: &Batch) -> Result<()> {
    for user in read::related(txn, BATCH_MEMBERS, batch.id)? {
        if let Some(sub) = read::membership(txn, user, batch.id)? {
            delete_membership(txn, user, batch.id, &sub)?;
        }
    }
    for course in read::related(txn, BATCH_COURSES, batch.id)? {
        link_course_batch(txn, course, batch.id, false)?;
    }
    if !batch.is_local() {
        reindex(txn, BATCH_BY_NAME, &fold(&batch.name), "", batch.id)?;
    }
    txn.remove(UUIDS, &batch.uuid)?;
    if txn.delete(BATCHES, &batch.id)? && !batch.is_local() {
        positions::count(txn, BATCHES, batch.id, -1)?;
    }
    feed::changed(txn, Some(batch), None)
}

/// Links (or unlinks) `course` and `batch`.
pub(crate) fn link_course_batch(
    txn: &Txn<'_>,
    course: u64,
    batch: u64,
    linked: bool,
) -> Result<()> {
    link_course_batches(txn, course, &[batch], linked)
}

/// Links (or unlinks) `course` and each of `batches`, and tells the feed
/// once how the course's batches changed (the links are read once, so
/// linking many batches costs no more per batch than linking one).
pub(crate) fn link_course_batches(
    txn: &Txn<'_>,
    course: u64,
    batches: &[u64],
    linked: bool,
) -> Result<()> {
    let record = read::course(txn, course)?;
    let before = record
        .as_ref()
        .map(|c| linked_batches(txn, c))
        .transpose()?;
    for &batch in batches {
        set_pair(txn, COURSE_BATCHES, (course, batch), linked)?;
        set_pair(txn, BATCH_COURSES, (batch, course), linked)?;
    }
    let (Some(c), Some(before)) = (record, before) else {
        return Ok(());
    };
    let mut after = before.clone();
    for &batch in batches.iter().filter(|&&b| b != c.local_batch) {
        if linked {
            after.insert(batch);
        } else {
            after.remove(&batch);
        }
    }
    note_course(txn, &c, Some((&c, &before)), Some((&c, &after)))
}

/// Links each (course, batch) of `pairs` (a restore's or a recovery's),
/// each course's batches at once: one read of its links, one feed entry.
pub(crate) fn link_course_pairs<'p>(
    txn: &Txn<'_>,
    pairs: impl IntoIterator<Item = &'p (u64, u64)>,
) -> Result<()> {
    let mut by_course: std::collections::BTreeMap<u64, Vec<u64>> = Default::default();
    for (course, batch) in pairs {
        by_course.entry(*course).or_default().push(*batch);
    }
    for (course, batches) in &by_course {
        link_course_batches(txn, *course, batches, true)?;
    }
    Ok(())
}

/// The ordinary batches linked to `course` (not its hidden one).
fn linked_batches(txn: &Txn<'_>, course: &Course) -> Result<BTreeSet<u64>> {
    let mut batches: BTreeSet<u64> = read::related(txn, COURSE_BATCHES, course.id)?
        .into_iter()
        .collect();
    batches.remove(&course.local_batch);
    Ok(batches)
}

/// Tells the feed that `course` was `before` and is `after` (each the
/// course and its ordinary batches; `None`: absent).
fn note_course(
    txn: &Txn<'_>,
    course: &Course,
    before: Option<(&Course, &BTreeSet<u64>)>,
    after: Option<(&Course, &BTreeSet<u64>)>,
) -> Result<()> {
    let kept = |(c, batches): (&Course, &BTreeSet<u64>)| {
        Record::LinkedCourse(LinkedCourse {
            course: c.clone(),
            batches: batches.iter().copied().collect(),
        })
    };
    feed::note(
        txn,
        Entity::Course,
        course.id,
        Some(course.uuid),
        before.map(kept).as_ref(),
        after.map(kept).as_ref(),
    )
}

/// Stores `course` (replacing `old`) and its slug index.
pub(crate) fn put_course(txn: &Txn<'_>, old: Option<&Course>, course: &Course) -> Result<()> {
    let old_slug = match old {
        Some(o) => o.slug.clone(),
        None => {
            put_uuid(txn, course.uuid, Kind::Course, course.id)?;
            count_new(txn, COURSES, course.id)?;
            String::new()
        }
    };
    reindex(txn, COURSE_BY_SLUG, &old_slug, &course.slug, course.id)?;
    txn.put(
        COURSES,
        &course.id,
        encode(COURSES, course.id, course)?.as_slice(),
    )?;
    // A course's own change leaves its links as they are.
    let batches = linked_batches(txn, course)?;
    note_course(
        txn,
        course,
        old.map(|o| (o, &batches)),
        Some((course, &batches)),
    )
}

/// Removes `course`, its hidden batch (with its memberships) and its links.
pub(crate) fn delete_course(txn: &Txn<'_>, course: &Course) -> Result<()> {
    let before = linked_batches(txn, course)?;
    if let Some(local) = read::batch(txn, course.local_batch)? {
        delete_batch(txn, &local)?;
    }
    // The hidden batch's link went with it; the others go now.
    let linked: Vec<u64> = before.iter().copied().collect();
    link_course_batches(txn, course.id, &linked, false)?;
    reindex(txn, COURSE_BY_SLUG, &course.slug, "", course.id)?;
    txn.remove(UUIDS, &course.uuid)?;
    if txn.delete(COURSES, &course.id)? {
        positions::count(txn, COURSES, course.id, -1)?;
    }
    note_course(txn, course, Some((course, &before)), None)
}

fn day(date: chrono::NaiveDate) -> i32 {
    date.num_days_from_ce()
}

/// Tells the backend that the write is about to read `user`, each of
/// `batches`, the user's membership of each, and what a new membership's
/// id and feed entry read ([`Txn::will_read`]: one round trip for them
/// all where reads cost one each).
pub(crate) fn will_grant(txn: &Txn<'_>, user: u64, batches: &[u64]) -> Result<()> {
    let reads = batches
        .iter()
        .fold(Reads::default().of(USERS, &user), |r, b| {
            r.of(BATCHES, b).of(MEMBERSHIPS, &(user, *b))
        });
    let reads = ids::will_take(txn, Kind::Subscription, feed::will_append(reads));
    txn.will_read(&reads)
}

/// Stores the membership of `user` in `batch` (replacing `old`) and its
/// mirror and expiry indexes.
pub(crate) fn put_membership(
    txn: &Txn<'_>,
    user: u64,
    batch: u64,
    old: Option<&Subscription>,
    sub: &Subscription,
) -> Result<()> {
    let Some(old) = old else {
        return put_new_memberships(txn, &[(user, batch, sub.clone())]);
    };
    if let Some(e) = old.expires {
        txn.remove(EXPIRIES, &(day(e), user, batch))?;
    }
    if let Some(e) = sub.expires {
        txn.put(EXPIRIES, &(day(e), user, batch), &())?;
    }
    txn.put(
        MEMBERSHIPS,
        &(user, batch),
        encode_membership((user, batch), sub)?.as_slice(),
    )?;
    note_membership(txn, user, batch, Some(old), Some(sub))
}

/// Tells the change feed that the membership of `user` in `batch` was
/// `before` and is `after` (at least one of them given).
fn note_membership(
    txn: &Txn<'_>,
    user: u64,
    batch: u64,
    before: Option<&Subscription>,
    after: Option<&Subscription>,
) -> Result<()> {
    let Some(either) = after.or(before) else {
        return Ok(());
    };
    let kept = |sub: &Subscription| {
        Record::Subscription(MembershipRecord {
            user,
            batch,
            subscription: sub.clone(),
        })
    };
    let (b, a) = (before.map(kept), after.map(kept));
    let (id, uuid) = (either.id, Some(either.uuid));
    feed::note(txn, Entity::Subscription, id, uuid, b.as_ref(), a.as_ref())
}

/// Stores new memberships (user, batch, membership) and their index
/// entries, one table at a time in key order (the one way a membership is
/// created, one or many).
///
/// A membership's uuid is not in the uuid index: nothing looks a membership
/// up by it, a new one is drawn from the system's random source, and a
/// restore checks the uuids of everything it restores against each other
/// before writing (`restore_check`). Two random inserts and a random delete
/// a membership fewer.
pub(crate) fn put_new_memberships(txn: &Txn<'_>, new: &[(u64, u64, Subscription)]) -> Result<()> {
    let mut members: Vec<(u64, u64)> = new.iter().map(|(u, b, _)| (*b, *u)).collect();
    members.sort_unstable();
    for pair in members {
        set_pair(txn, BATCH_MEMBERS, pair, true)?;
    }
    let mut expiries: Vec<(i32, u64, u64)> = new
        .iter()
        .filter_map(|(u, b, s)| s.expires.map(|e| (day(e), *u, *b)))
        .collect();
    expiries.sort_unstable();
    for key in &expiries {
        txn.put(EXPIRIES, key, &())?;
    }
    let mut by_key: Vec<&(u64, u64, Subscription)> = new.iter().collect();
    by_key.sort_unstable_by_key(|(u, b, _)| (*u, *b));
    for (user, batch, sub) in by_key {
        txn.put(
            MEMBERSHIPS,
            &(*user, *batch),
            encode_membership((*user, *batch), sub)?.as_slice(),
        )?;
        note_membership(txn, *user, *batch, None, Some(sub))?;
    }
    Ok(())
}

/// Removes the membership of `user` in `batch` and its indexes.
pub(crate) fn delete_membership(
    txn: &Txn<'_>,
    user: u64,
    batch: u64,
    sub: &Subscription,
) -> Result<()> {
    delete_memberships(txn, &[(user, batch, sub)])
}

/// Removes memberships (user, batch, the day of their expiry if any) and
/// their index entries: one table at a time, all of a table's keys at once
/// (a backend rewrites each page once). Each must be in every table: one
/// missing is a damaged store, and nothing is removed.
fn delete_memberships(txn: &Txn<'_>, gone: &[(u64, u64, &Subscription)]) -> Result<()> {
    let keys: Vec<(u64, u64)> = gone.iter().map(|(u, b, _)| (*u, *b)).collect();
    remove_all(txn, MEMBERSHIPS, &keys, "membership")?;
    let members: Vec<(u64, u64)> = gone.iter().map(|(u, b, _)| (*b, *u)).collect();
    remove_all(txn, BATCH_MEMBERS, &members, "batch member")?;
    let expiries: Vec<(i32, u64, u64)> = gone
        .iter()
        .filter_map(|(u, b, sub)| sub.expires.map(|e| (day(e), *u, *b)))
        .collect();
    remove_all(txn, EXPIRIES, &expiries, "expiry index")?;
    for (user, batch, sub) in gone {
        note_membership(txn, *user, *batch, Some(sub), None)?;
    }
    Ok(())
}

/// Removes every key of `keys` from `def`; one missing is a damaged store.
fn remove_all<K: Col, V: Col + ?Sized>(
    txn: &Txn<'_>,
    def: Def<K, V>,
    keys: &[K],
    what: &str,
) -> Result<()> {
    match txn.delete_many(def, keys)? == keys.len() as u64 {
        true => Ok(()),
        false => Err(clash(what)),
    }
}

/// Removes every membership whose expiry is before `today`; returns how
/// many. The expiry index names them (day, user, batch); their records are
/// read all at once, for the feed's tombstones.
pub(crate) fn purge_expired(txn: &Txn<'_>, today: chrono::NaiveDate) -> Result<u64> {
    let mut expired: Vec<(u64, u64)> = Vec::new();
    txn.scan(
        EXPIRIES,
        Bound::Included(&(i32::MIN, 0, 0)),
        Bound::Excluded(&(day(today), 0, 0)),
        false,
        |(_, user, batch), ()| {
            expired.push((user, batch));
            Ok(true)
        },
    )?;
    // In key order: each B-tree page is then met once, not once per key.
    expired.sort_unstable();
    let mut subs = Vec::with_capacity(expired.len());
    let keys: Vec<&(u64, u64)> = expired.iter().collect();
    for (key, bytes) in expired.iter().zip(txn.get_many(MEMBERSHIPS, &keys)?) {
        let bytes = bytes.ok_or_else(|| clash("expiry index"))?;
        subs.push(decode_membership::<Subscription>(*key, &bytes)?);
    }
    let gone: Vec<(u64, u64, &Subscription)> = expired
        .iter()
        .zip(&subs)
        .map(|((user, batch), sub)| (*user, *batch, sub))
        .collect();
    delete_memberships(txn, &gone)?;
    // The daily upkeep also merges the search index's unmerged users
    // (groups whose ids were abandoned never merge by themselves).
    search::merge_all(txn)?;
    Ok(gone.len() as u64)
}

/// Stores definition `field` (replacing `old`) and its name index.
pub(crate) fn put_custom_field(
    txn: &Txn<'_>,
    old: Option<&CustomField>,
    field: &CustomField,
) -> Result<()> {
    let old_key = match old {
        Some(o) => custom_field::name_key(&o.name),
        None => {
            ensure_new(txn, CUSTOM_FIELDS, field.id)?;
            put_uuid(txn, field.uuid, Kind::CustomField, field.id)?;
            String::new()
        }
    };
    reindex(
        txn,
        CUSTOM_FIELD_BY_NAME,
        &old_key,
        &custom_field::name_key(&field.name),
        field.id,
    )?;
    txn.put(
        CUSTOM_FIELDS,
        &field.id,
        encode(CUSTOM_FIELDS, field.id, field)?.as_slice(),
    )?;
    feed::changed(txn, old, Some(field))
}

/// Removes definition `field` and every user's value of it.
pub(crate) fn delete_custom_field(txn: &Txn<'_>, field: &CustomField) -> Result<()> {
    for user_id in read::related(txn, FIELD_USERS, field.id)? {
        let old = read::user(txn, user_id)?.ok_or_else(|| clash("field_users"))?;
        let mut user = old.clone();
        user.profile.custom.retain(|(f, _)| *f != field.id);
        put_user(txn, Some(&old), &user)?;
    }
    reindex(
        txn,
        CUSTOM_FIELD_BY_NAME,
        &custom_field::name_key(&field.name),
        "",
        field.id,
    )?;
    txn.remove(UUIDS, &field.uuid)?;
    txn.remove(CUSTOM_FIELDS, &field.id)?;
    feed::changed(txn, Some(field), None)
}

/// Stores `group` (replacing `old`) and its name index.
pub(crate) fn put_group(txn: &Txn<'_>, old: Option<&Group>, group: &Group) -> Result<()> {
    let old_key = match old {
        Some(o) => fold(&o.name),
        None => {
            put_uuid(txn, group.uuid, Kind::Group, group.id)?;
            count_new(txn, GROUPS, group.id)?;
            String::new()
        }
    };
    reindex(txn, GROUP_BY_NAME, &old_key, &fold(&group.name), group.id)?;
    txn.put(
        GROUPS,
        &group.id,
        encode(GROUPS, group.id, group)?.as_slice(),
    )?;
    feed::changed(txn, old, Some(group))
}

/// Removes `group`; its members lose it, and with it its permissions.
pub(crate) fn delete_group(txn: &Txn<'_>, group: &Group) -> Result<()> {
    for user_id in read::related(txn, GROUP_USERS, group.id)? {
        let old = read::user(txn, user_id)?.ok_or_else(|| clash("group_users"))?;
        let mut user = old.clone();
        user.groups.retain(|g| *g != group.id);
        put_user(txn, Some(&old), &user)?;
    }
    reindex(txn, GROUP_BY_NAME, &fold(&group.name), "", group.id)?;
    txn.remove(UUIDS, &group.uuid)?;
    if txn.delete(GROUPS, &group.id)? {
        positions::count(txn, GROUPS, group.id, -1)?;
    }
    feed::changed(txn, Some(group), None)
}

/// Stores a session under the hash of its token.
pub(crate) fn put_session(txn: &Txn<'_>, hash: [u8; 32], row: SessionRow) -> Result<()> {
    txn.put(SESSIONS, &hash, &row)?;
    txn.put(USER_SESSIONS, &(row.0, hash), &())
}

/// Ends one session.
pub(crate) fn end_session(txn: &Txn<'_>, hash: [u8; 32]) -> Result<bool> {
    let row = txn.take(SESSIONS, &hash)?;
    if let Some((user, _, _, _)) = row {
        txn.remove(USER_SESSIONS, &(user, hash))?;
    }
    Ok(row.is_some())
}

/// Ends every session of `user` but `keep`, and every session of the
/// users it manages (their sessions are tokens it was given, S3: whatever
/// ends its sessions, a new password, a block, ends those); returns how
/// many of `user`'s own ended.
pub(crate) fn end_sessions(txn: &Txn<'_>, user: u64, keep: Option<[u8; 32]>) -> Result<u64> {
    let hashes = sessions_of(txn, user)?;
    let mut ended = 0;
    for hash in hashes.into_iter().filter(|h| Some(*h) != keep) {
        end_session(txn, hash)?;
        ended += 1;
    }
    for managed in read::related(txn, MANAGED_USERS, user)? {
        for hash in sessions_of(txn, managed)? {
            end_session(txn, hash)?;
        }
    }
    Ok(ended)
}

/// The token hashes of every session of `user`.
fn sessions_of(txn: &Txn<'_>, user: u64) -> Result<Vec<[u8; 32]>> {
    let mut out = Vec::new();
    txn.scan_prefix(USER_SESSIONS, &user, false, |(_, hash), ()| {
        out.push(hash);
        Ok(true)
    })?;
    Ok(out)
}

/// Gives session `hash` its user's new credential `generation` (after the
/// user's own password change, which ends every other session).
pub(crate) fn restamp_session(txn: &Txn<'_>, hash: [u8; 32], generation: u64) -> Result<()> {
    let row = txn.get(SESSIONS, &hash)?;
    if let Some((user, _, began, ends)) = row {
        put_session(txn, hash, (user, generation, began, ends))?;
    }
    Ok(())
}

/// Ends every session of `user` that expired before `now`, and then the
/// oldest of the others until at most `keep` are left.
pub(crate) fn end_sessions_beyond(txn: &Txn<'_>, user: u64, now: i64, keep: usize) -> Result<()> {
    let hashes = sessions_of(txn, user)?;
    let keys: Vec<&[u8; 32]> = hashes.iter().collect();
    let mut ended = Vec::new();
    let mut live = Vec::new();
    // The session rows read at once: a message to a server, not one each.
    for (hash, row) in hashes.iter().zip(txn.get_many(SESSIONS, &keys)?) {
        match row {
            Some(r) if r.3 > now => live.push((r.2, *hash)),
            _ => ended.push(*hash),
        }
    }
    if live.len() > keep {
        live.sort_unstable();
        ended.extend(live[..live.len() - keep].iter().map(|(_, hash)| *hash));
    }
    for hash in ended {
        end_session(txn, hash)?;
    }
    Ok(())
}

/// Ends every session of every user that expired before `now`; returns how
/// many ended. Reads the whole session table: for the purge, not for hot
/// paths.
pub(crate) fn end_all_expired_sessions(txn: &Txn<'_>, now: i64) -> Result<u64> {
    let mut expired: Vec<[u8; 32]> = Vec::new();
    txn.scan(
        SESSIONS,
        Bound::Unbounded,
        Bound::Unbounded,
        false,
        |hash, row| {
            if row.3 <= now {
                expired.push(hash);
            }
            Ok(true)
        },
    )?;
    for hash in &expired {
        end_session(txn, *hash)?;
    }
    Ok(expired.len() as u64)
}

/// Queues `message`, a new one.
pub(crate) fn put_message(txn: &Txn<'_>, message: &Message) -> Result<()> {
    ensure_new(txn, OUTBOX, message.id)?;
    txn.put(
        OUTBOX,
        &message.id,
        encode(OUTBOX, message.id, message)?.as_slice(),
    )?;
    set_pair(txn, USER_OUTBOX, (message.user, message.id), true)
}

/// Removes message `id` of `user`.
pub(crate) fn delete_message(txn: &Txn<'_>, user: u64, id: u64) -> Result<()> {
    txn.remove(OUTBOX, &id)?;
    set_pair(txn, USER_OUTBOX, (user, id), false)
}

/// Stores user `id`'s Sunbird side record `new` (`None`: removes it),
/// replacing `old`, the stored one, and keeps the external-id and
/// managed-user indexes.
pub(crate) fn put_sunbird(
    txn: &Txn<'_>,
    id: u64,
    old: Option<&SunbirdUser>,
    new: Option<&SunbirdUser>,
) -> Result<()> {
    let keys = |side: Option<&SunbirdUser>| -> Vec<String> {
        side.map(|s| s.external_ids.iter().map(|e| e.key()).collect())
            .unwrap_or_default()
    };
    let (before, after) = (keys(old), keys(new));
    for key in before.iter().filter(|k| !after.contains(k)) {
        reindex(txn, EXTERNAL_IDS, key, "", id)?;
    }
    for key in after.iter().filter(|k| !before.contains(k)) {
        reindex(txn, EXTERNAL_IDS, "", key, id)?;
    }
    let manager = |side: Option<&SunbirdUser>| side.and_then(|s| s.managed_by);
    if manager(old) != manager(new) {
        if let Some(m) = manager(old) {
            set_pair(txn, MANAGED_USERS, (m, id), false)?;
        }
        if let Some(m) = manager(new) {
            set_pair(txn, MANAGED_USERS, (m, id), true)?;
        }
    }
    super::terms::reindex(txn, id, old, new)?;
    match new {
        Some(side) => txn.put(
            SUNBIRD_USERS,
            &id,
            encode(SUNBIRD_USERS, id, side)?.as_slice(),
        )?,
        None => {
            txn.remove(SUNBIRD_USERS, &id)?;
        }
    }
    // The UUID is the user's, filled in at the end of the write.
    let before = old.map(Record::sunbird);
    let after = new.map(Record::sunbird);
    feed::note(
        txn,
        Entity::SunbirdUser,
        id,
        None,
        before.as_ref(),
        after.as_ref(),
    )
}

/// The `meta` row naming the institute's default root organisation (set
/// with it, on a Sunbird create's first use, and by restore and recover).
pub(crate) const DEFAULT_ORG: &str = "default_org";

/// Points the `default_org` row at the organisation marked default, as
/// [`crate::domain::sunbird::default_org_of`] finds it among the stored
/// ones: what restore and recover call once the organisations are written
/// (the row is no record, so an export does not carry it).
pub(crate) fn point_default_org(txn: &Txn<'_>) -> Result<()> {
    let orgs: Vec<Organisation> = read::records(txn, ORGANISATIONS)?;
    match crate::domain::sunbird::default_org_of(&orgs) {
        Ok(Some(id)) => txn.put(META, DEFAULT_ORG, &id),
        Ok(None) => Ok(()),
        Err(why) => Err(Error::new(ErrorCode::Corrupt, why)),
    }
}

/// Stores organisation `org` (replacing `old`) and its channel index.
pub(crate) fn put_organisation(
    txn: &Txn<'_>,
    old: Option<&Organisation>,
    org: &Organisation,
) -> Result<()> {
    let channel = |o: Option<&Organisation>| o.map(|o| fold(&o.channel)).unwrap_or_default();
    reindex(
        txn,
        ORG_BY_CHANNEL,
        &channel(old),
        &channel(Some(org)),
        org.id,
    )?;
    if old.is_none() {
        count_new(txn, ORGANISATIONS, org.id)?;
        put_uuid(txn, org.uuid, Kind::Organisation, org.id)?;
    }
    let (was, is) = (
        old.and_then(read::org_external_key),
        read::org_external_key(org),
    );
    if was != is {
        if let Some(key) = was {
            txn.remove(ORG_BY_EXTERNAL_ID, key.as_slice())?;
        }
        if let Some(key) = is {
            txn.put(ORG_BY_EXTERNAL_ID, key.as_slice(), &())?;
        }
    }
    txn.put(
        ORGANISATIONS,
        &org.id,
        encode(ORGANISATIONS, org.id, org)?.as_slice(),
    )?;
    feed::changed(txn, old, Some(org))
}

/// Stores system setting `id` as `value`.
pub(crate) fn put_setting(txn: &Txn<'_>, id: &str, value: &str) -> Result<()> {
    let old = txn.get(SETTINGS, id)?;
    txn.put(SETTINGS, id, value.as_bytes())?;
    let record = |value: &[u8]| {
        Record::Setting(SettingRecord {
            id: id.to_string(),
            value: String::from_utf8_lossy(value).into_owned(),
        })
    };
    let before = old.as_deref().map(record);
    feed::note_setting(txn, id, before.as_ref(), Some(&record(value.as_bytes())))
}
