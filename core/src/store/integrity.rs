//! A full consistency check of a store: every index entry matches its record
//! and every record has its index entries; relations point at records that
//! exist; id counters are above every id. Used by tests, the crash loop and
//! `Institute::check_integrity`.

use super::tables::*;
use super::{Snapshot, contain, decode, decode_membership};
use crate::domain::course::Course;
use crate::domain::custom_field::{self, CustomField};
use crate::domain::group::Group;
use crate::domain::outbox::Message;
use crate::domain::sunbird::{Organisation, SunbirdUser};
use crate::domain::user::User;
use crate::domain::{Batch, Subscription};
use crate::error::Result;
use crate::text::fold;
use chrono::Datelike;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, BTreeSet};

/// The most entries a problem lists of what an index holds wrongly or
/// lacks (a whole index lost at a million users is one line, not a
/// million entries).
const SHOWN: usize = 5;

/// `items`, the first [`SHOWN`] of them as `show` writes each, and how many
/// more there are.
fn listed<T>(items: impl Iterator<Item = T>, show: impl Fn(T) -> String) -> String {
    let mut shown = Vec::new();
    let mut more = 0usize;
    for item in items {
        match shown.len() < SHOWN {
            true => shown.push(show(item)),
            false => more += 1,
        }
    }
    let mut out = format!("[{}]", shown.join(", "));
    if more > 0 {
        out.push_str(&format!(" (and {more} more)"));
    }
    out
}

/// What `index` holds that `wanted` does not, and what it lacks, as a
/// problem of `what`; `None` when they agree.
fn differences<K: Ord, V: PartialEq>(
    what: &str,
    index: &BTreeMap<K, V>,
    wanted: &BTreeMap<K, V>,
    show: impl Fn((&K, &V)) -> String,
) -> Option<String> {
    if index == wanted {
        return None;
    }
    let extra = index.iter().filter(|(k, v)| wanted.get(*k) != Some(*v));
    let missing = wanted.iter().filter(|(k, v)| index.get(*k) != Some(*v));
    Some(format!(
        "{what} index: extra {}, missing {}",
        listed(extra, &show),
        listed(missing, &show)
    ))
}

/// Every readable record of `def`; each damaged one is a problem.
fn all<T: DeserializeOwned>(
    s: &Snapshot<'_>,
    def: Records,
    problems: &mut Vec<String>,
) -> Result<BTreeMap<u64, T>> {
    let mut out = BTreeMap::new();
    for (id, bytes) in s.rows(def)? {
        match decode(def, id, &bytes) {
            Ok(record) => {
                out.insert(id, record);
            }
            Err(e) => problems.push(e.message().to_string()),
        }
    }
    Ok(out)
}

/// Every sound entry of unique index `def`; each one whose seal does not
/// match (damage) is a problem, and missing from the map.
fn unique(
    s: &Snapshot<'_>,
    def: Unique,
    problems: &mut Vec<String>,
) -> Result<BTreeMap<String, u64>> {
    let mut out = BTreeMap::new();
    for (key, stored) in s.rows(def.stored())? {
        match super::keys::sealed_id(def.name, &key, &stored) {
            Some(id) => {
                out.insert(key, id);
            }
            None => problems.push(format!("{}: the entry {key:?} is damaged", def.name)),
        }
    }
    Ok(out)
}

/// The keys several records of `what` share (the NFKC migrations keep
/// both; lookups find the lowest id), in words, so that an administrator
/// renames all but one.
fn shared_names(
    (what, whats): (&str, &str),
    keyed: impl Iterator<Item = (String, u64)>,
) -> Vec<String> {
    let mut pairs: Vec<(String, u64)> = keyed.filter(|(k, _)| !k.is_empty()).collect();
    pairs.sort_unstable();
    pairs
        .chunk_by(|a, b| a.0 == b.0)
        .filter(|run| run.len() > 1)
        .map(|run| {
            let ids: Vec<String> = run.iter().map(|(_, id)| id.to_string()).collect();
            format!(
                "{whats} {} share the name {:?} (the same in Unicode NFKC, ignoring case): \
                 lookups find {what} {}; rename the others",
                ids.join(", "),
                run[0].0,
                ids[0]
            )
        })
        .collect()
}

fn pairs(s: &Snapshot<'_>, def: Pairs) -> Result<BTreeSet<(u64, u64)>> {
    Ok(s.rows(def)?.into_iter().map(|(k, ())| k).collect())
}

/// Every inconsistency found, in words; empty when the store is sound.
/// Every record frame is verified; a panic of the storage engine on the way
/// is a `corrupt_store` error.
pub(crate) fn check(s: &Snapshot<'_>) -> Result<Vec<String>> {
    check_with(s, None)
}

/// [`check`], and, given the configured `managed_limit` (S3), that no user
/// manages more users than it. A store alone does not know the limit its
/// institute configures, so [`check`] leaves that out.
pub(crate) fn check_with(s: &Snapshot<'_>, managed_limit: Option<u32>) -> Result<Vec<String>> {
    check_in(s, managed_limit, Users::Stored)
}

/// [`check_with`] of a store that a restore has just written, in its own
/// transaction, from `users` (and the other records of its export). The
/// users are taken as given rather than read back, and the search index
/// is not compared with them: it holds nothing of the export's own (an
/// export carries no search rows) and was built from these users by the
/// code every write uses. Reading the users back and rebuilding every
/// posting at once would test that code and the encoding, not the file:
/// it took nearly a third of a 100,000-user restore's time and a quarter
/// of its memory. `roster check` does both.
pub(crate) fn check_restored(
    s: &Snapshot<'_>,
    managed_limit: u32,
    users: &[User],
) -> Result<Vec<String>> {
    check_in(s, Some(managed_limit), Users::Written(users))
}

/// Where a check takes the users from.
#[derive(Clone, Copy)]
enum Users<'a> {
    /// Read from the store, and the search index compared with them.
    Stored,
    /// Just written, in the same transaction.
    Written(&'a [User]),
}

fn check_in(s: &Snapshot<'_>, managed_limit: Option<u32>, from: Users<'_>) -> Result<Vec<String>> {
    contain(s, || {
        // The storage's own count first: where its pages hide or repeat
        // rows, nothing read from it below would be the whole truth.
        if let Err(e) = s.verify_rows() {
            return Ok(vec![e.message().to_string()]);
        }
        check_all(s, managed_limit, from)
    })
}

fn check_all(s: &Snapshot<'_>, managed_limit: Option<u32>, from: Users<'_>) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let stored: BTreeMap<u64, User>;
    let users: BTreeMap<u64, &User> = match from {
        Users::Written(users) => users.iter().map(|u| (u.id, u)).collect(),
        Users::Stored => {
            stored = all(s, USERS, &mut problems)?;
            stored.iter().map(|(id, u)| (*id, u)).collect()
        }
    };
    let batches: BTreeMap<u64, Batch> = all(s, BATCHES, &mut problems)?;
    let courses: BTreeMap<u64, Course> = all(s, COURSES, &mut problems)?;
    let fields: BTreeMap<u64, CustomField> = all(s, CUSTOM_FIELDS, &mut problems)?;
    let groups: BTreeMap<u64, Group> = all(s, GROUPS, &mut problems)?;
    let messages: BTreeMap<u64, Message> = all(s, OUTBOX, &mut problems)?;
    let orgs: BTreeMap<u64, Organisation> = all(s, ORGANISATIONS, &mut problems)?;
    let sides: BTreeMap<u64, SunbirdUser> = all(s, SUNBIRD_USERS, &mut problems)?;
    // Each record under its own id: a change reads the record under one id
    // and writes it under the id it holds, so a record that says another
    // id would overwrite that one.
    let under_its_id = |what: &str, pairs: &mut dyn Iterator<Item = (u64, u64)>| {
        pairs
            .filter(|(key, id)| key != id)
            .map(|(key, id)| format!("{what} {key}: its record says id {id}"))
            .collect::<Vec<_>>()
    };
    for mismatched in [
        under_its_id("user", &mut users.iter().map(|(k, u)| (*k, u.id))),
        under_its_id("batch", &mut batches.iter().map(|(k, b)| (*k, b.id))),
        under_its_id("course", &mut courses.iter().map(|(k, c)| (*k, c.id))),
        under_its_id("custom field", &mut fields.iter().map(|(k, f)| (*k, f.id))),
        under_its_id("group", &mut groups.iter().map(|(k, g)| (*k, g.id))),
        under_its_id("message", &mut messages.iter().map(|(k, m)| (*k, m.id))),
        under_its_id("organisation", &mut orgs.iter().map(|(k, o)| (*k, o.id))),
    ] {
        problems.extend(mismatched);
    }
    let mut memberships: BTreeMap<(u64, u64), Subscription> = BTreeMap::new();
    for (k, v) in s.rows(MEMBERSHIPS)? {
        match decode_membership(k, &v) {
            Ok(sub) => {
                memberships.insert(k, sub);
            }
            Err(e) => problems.push(e.message().to_string()),
        }
    }

    // Damaged index entries, found while `expect` holds `problems`.
    let mut damaged = Vec::new();
    let mut expect = |what: &str, index: BTreeMap<String, u64>, wanted: BTreeMap<String, u64>| {
        problems.extend(differences(what, &index, &wanted, |(k, v)| {
            format!("({k:?}, {v})")
        }));
    };
    // A key several records share (kept by the NFKC migration) points to
    // the lowest id: collected in reverse so the lowest is inserted last.
    let keyed = |f: &dyn Fn(&User) -> String| -> BTreeMap<String, u64> {
        users
            .values()
            .rev()
            .map(|u| (f(u), u.id))
            .filter(|(k, _)| !k.is_empty())
            .collect()
    };
    expect(
        "username",
        unique(s, USER_BY_USERNAME, &mut damaged)?,
        keyed(&|u| fold(&u.username)),
    );
    expect(
        "email",
        unique(s, USER_BY_EMAIL, &mut damaged)?,
        keyed(&|u| fold(&u.profile.email)),
    );
    expect(
        "phone",
        unique(s, USER_BY_PHONE, &mut damaged)?,
        keyed(&|u| u.profile.phone.clone()),
    );
    let names = batches
        .values()
        .rev()
        .filter(|b| !b.is_local())
        .map(|b| (fold(&b.name), b.id))
        .collect();
    expect("batch name", unique(s, BATCH_BY_NAME, &mut damaged)?, names);
    let slugs = courses.values().map(|c| (c.slug.clone(), c.id)).collect();
    expect(
        "course slug",
        unique(s, COURSE_BY_SLUG, &mut damaged)?,
        slugs,
    );
    let field_names = fields
        .values()
        .rev()
        .map(|f| (custom_field::name_key(&f.name), f.id))
        .collect();
    expect(
        "custom field name",
        unique(s, CUSTOM_FIELD_BY_NAME, &mut damaged)?,
        field_names,
    );
    let group_names = groups
        .values()
        .rev()
        .map(|g| (fold(&g.name), g.id))
        .collect();
    expect(
        "group name",
        unique(s, GROUP_BY_NAME, &mut damaged)?,
        group_names,
    );
    problems.append(&mut damaged);
    problems.extend(super::migrate_nfkc::collisions(users.values().copied()));
    // Names a migration left shared (users': `collisions`).
    problems.extend(shared_names(
        ("batch", "batches"),
        batches
            .values()
            .filter(|b| !b.is_local())
            .map(|b| (fold(&b.name), b.id)),
    ));
    problems.extend(shared_names(
        ("group", "groups"),
        groups.values().map(|g| (fold(&g.name), g.id)),
    ));
    problems.extend(shared_names(
        ("custom field", "custom fields"),
        fields
            .values()
            .map(|f| (custom_field::name_key(&f.name), f.id)),
    ));

    // Id blocks are above every id ever stored: the last block's counter
    // above every id, and every other block's above the ids of its own
    // block (a handle goes on in the block it took its last ids from).
    // The kinds that take ids from counters, and the ids they took.
    let ids_of = |kind: Kind| -> Option<Vec<u64>> {
        Some(match kind {
            Kind::User => users.keys().copied().collect(),
            Kind::Batch => batches.keys().copied().collect(),
            Kind::Course => courses.keys().copied().collect(),
            Kind::CustomField => fields.keys().copied().collect(),
            Kind::Subscription => memberships.values().map(|m| m.id).collect(),
            Kind::Group => groups.keys().copied().collect(),
            Kind::Message => messages.keys().copied().collect(),
            Kind::Organisation => orgs.keys().copied().collect(),
            Kind::SunbirdUser | Kind::Change => return None,
        })
    };
    let damaged_ids = super::ids::problems(s)?;
    for kind in Kind::ALL {
        if damaged_ids.iter().any(|(k, _)| *k == kind) {
            // Named below; its counter cannot be read.
            continue;
        }
        let Some(ids) = ids_of(kind) else {
            continue;
        };
        let top = ids.iter().copied().max().unwrap_or(0);
        let next = super::ids::given(s, kind)?;
        if top >= next {
            problems.push(format!(
                "{} counter {next} is not above id {top}",
                kind.counter()
            ));
        }
        problems.extend(super::ids::behind_in_their_blocks(s, kind, ids)?);
    }
    problems.extend(damaged_ids.into_iter().map(|(_, problem)| problem));

    // Sign-in takes a username or an email, looking the username up first:
    // a username that is another user's email would take that user's
    // sign-ins (SPEC A7). The API refuses it; a restored or migrated store
    // must not bring it in.
    // Sunbird's `loginId` takes a phone after both: a username that is
    // another user's phone would be found for it.
    let emails = keyed(&|u| fold(&u.profile.email));
    let phones = keyed(&|u| fold(&u.profile.phone));
    for u in users.values() {
        let name = fold(&u.username);
        if let Some(other) = emails.get(&name).filter(|o| **o != u.id) {
            problems.push(format!(
                "user {}'s username is user {other}'s email: one would sign in as the other",
                u.id
            ));
        }
        if let Some(other) = phones.get(&name).filter(|o| **o != u.id) {
            problems.push(format!(
                "user {}'s username is user {other}'s phone: a lookup of the phone would find \
                 the other",
                u.id
            ));
        }
    }

    // UUIDs: one entry per record, pointing back at it, and no two records
    // sharing one (a lookup by UUID would find only one of them).
    // Memberships' uuids are not indexed (see `write::put_new_memberships`).
    let mut wanted_uuids = BTreeMap::new();
    let mut shared = Vec::new();
    let records = users
        .values()
        .map(|u| (u.uuid, Kind::User, u.id))
        .chain(batches.values().map(|b| (b.uuid, Kind::Batch, b.id)))
        .chain(courses.values().map(|c| (c.uuid, Kind::Course, c.id)))
        .chain(fields.values().map(|f| (f.uuid, Kind::CustomField, f.id)))
        .chain(groups.values().map(|g| (g.uuid, Kind::Group, g.id)))
        .chain(orgs.values().map(|o| (o.uuid, Kind::Organisation, o.id)));
    for (uuid, kind, id) in records {
        if let Some(first) = wanted_uuids.insert(uuid, (kind as u8, id)) {
            shared.push((uuid, first, (kind as u8, id)));
        }
    }
    let named = |(kind, id): (u8, u64)| {
        let kind = Kind::ALL.into_iter().find(|k| *k as u8 == kind);
        format!("{} {id}", kind.map_or("record", |k| k.counter()))
    };
    if !shared.is_empty() {
        problems.push(format!(
            "records share a uuid: {}",
            listed(shared.into_iter(), |(uuid, a, b)| format!(
                "{} of {} and {}",
                crate::domain::uuid_string(uuid),
                named(a),
                named(b)
            ))
        ));
    }
    let uuids: BTreeMap<u128, (u8, u64)> = s.rows(UUIDS)?.into_iter().collect();
    problems.extend(differences("uuid", &uuids, &wanted_uuids, |(uuid, to)| {
        format!("{} -> {}", crate::domain::uuid_string(*uuid), named(*to))
    }));

    // Memberships: both ends exist; mirrors and indexes agree.
    let mut wanted_members = BTreeSet::new();
    let mut wanted_subs = BTreeMap::new();
    let mut wanted_expiries = BTreeSet::new();
    for (&(user, batch), sub) in &memberships {
        if !users.contains_key(&user) {
            problems.push(format!("membership of missing user {user}"));
        }
        if !batches.contains_key(&batch) {
            problems.push(format!("membership in missing batch {batch}"));
        }
        wanted_members.insert((batch, user));
        if wanted_subs.insert(sub.id, (user, batch)).is_some() {
            problems.push(format!("subscription id {} used twice", sub.id));
        }
        if let Some(e) = sub.expires {
            wanted_expiries.insert((e.num_days_from_ce(), user, batch));
        }
    }
    if pairs(s, BATCH_MEMBERS)? != wanted_members {
        problems.push("batch_members does not mirror memberships".into());
    }
    let expiries: BTreeSet<(i32, u64, u64)> =
        s.rows(EXPIRIES)?.into_iter().map(|(k, ())| k).collect();
    if expiries != wanted_expiries {
        problems.push("expiries index does not match memberships".into());
    }

    // Courses and batches.
    let course_batches = pairs(s, COURSE_BATCHES)?;
    let mirrored: BTreeSet<(u64, u64)> = pairs(s, BATCH_COURSES)?
        .into_iter()
        .map(|(b, c)| (c, b))
        .collect();
    if course_batches != mirrored {
        problems.push("batch_courses does not mirror course_batches".into());
    }
    for &(course, batch) in &course_batches {
        let Some(b) = batches
            .get(&batch)
            .filter(|_| courses.contains_key(&course))
        else {
            problems.push(format!(
                "link of course {course} and batch {batch} names a missing record"
            ));
            continue;
        };
        // A course's batches are ordinary ones and its own hidden batch;
        // another course's would give that course to every member of this.
        if let Some(owner) = b.course.filter(|owner| *owner != course) {
            problems.push(format!(
                "course {course} is linked to batch {batch}, the hidden batch of course {owner}"
            ));
        }
    }
    for c in courses.values() {
        match batches.get(&c.local_batch) {
            Some(b) if b.course == Some(c.id) => {}
            _ => problems.push(format!(
                "course {} lacks its hidden batch {}",
                c.id, c.local_batch
            )),
        }
        if !course_batches.contains(&(c.id, c.local_batch)) {
            problems.push(format!("course {} is not linked to its hidden batch", c.id));
        }
    }
    for b in batches.values() {
        if let Some(c) = b.course
            && courses.get(&c).map(|c| c.local_batch) != Some(b.id)
        {
            problems.push(format!("hidden batch {} belongs to no course", b.id));
        }
    }

    // Password hashes: within the caps every way a hash enters the store
    // applies (SPEC A4), so one wrong sign-in cannot cost seconds and
    // gigabytes. A store restored before restore checked them may hold one.
    for u in users.values() {
        if let Err(why) = u.stored_hash_is_acceptable() {
            problems.push(format!(
                "user {}: its password hash is refused: {why}",
                u.id
            ));
        }
        // Counters and instants every sign-in computes with.
        for why in u.sign_in_state_problems() {
            problems.push(format!("user {}: {why}", u.id));
        }
    }

    // Custom values: defined fields only, mirrored by field_users.
    let mut wanted_field_users = BTreeSet::new();
    for u in users.values() {
        for (f, _) in &u.profile.custom {
            if !fields.contains_key(f) {
                problems.push(format!("user {} holds a value of missing field {f}", u.id));
            }
            wanted_field_users.insert((*f, u.id));
        }
    }
    if pairs(s, FIELD_USERS)? != wanted_field_users {
        problems.push("field_users does not match users' custom values".into());
    }

    // Groups: members mirror users' lists; permissions are in the catalogue.
    let mut wanted_group_users = BTreeSet::new();
    for u in users.values() {
        for g in &u.groups {
            if !groups.contains_key(g) {
                problems.push(format!("user {} is in missing group {g}", u.id));
            }
            wanted_group_users.insert((*g, u.id));
        }
        for p in &u.permissions {
            if !crate::domain::group::is_known_permission(*p) {
                problems.push(format!("user {} holds unknown permission {p}", u.id));
            }
        }
    }
    if pairs(s, GROUP_USERS)? != wanted_group_users {
        problems.push("group_users does not match users' groups".into());
    }
    for g in groups.values() {
        if g.permissions
            .iter()
            .any(|p| !crate::domain::group::is_known_permission(*p))
        {
            problems.push(format!("group {} holds an unknown permission", g.id));
        }
    }

    // Sessions and messages belong to existing users, mirrored per user.
    let mut wanted_user_sessions = BTreeSet::new();
    for (hash, (user, _, _, _)) in s.rows(SESSIONS)? {
        if !users.contains_key(&user) {
            problems.push(format!("session of missing user {user}"));
        }
        wanted_user_sessions.insert((user, hash));
    }
    let user_sessions: BTreeSet<(u64, [u8; 32])> = s
        .rows(USER_SESSIONS)?
        .into_iter()
        .map(|(k, ())| k)
        .collect();
    if user_sessions != wanted_user_sessions {
        problems.push("user_sessions does not mirror sessions".into());
    }
    let wanted_user_outbox: BTreeSet<(u64, u64)> =
        messages.values().map(|m| (m.user, m.id)).collect();
    for (user, id) in &wanted_user_outbox {
        if !users.contains_key(user) {
            problems.push(format!("message {id} of missing user {user}"));
        }
    }
    if pairs(s, USER_OUTBOX)? != wanted_user_outbox {
        problems.push("user_outbox does not mirror the outbox".into());
    }

    sunbird(s, &users, &orgs, &sides, managed_limit, &mut problems)?;

    if matches!(from, Users::Stored) && !super::search::agrees(s, &users)? {
        problems.push("the user search index disagrees with the users".into());
    }
    let counts: Vec<((u8, u8, u64), u64)> = s.rows(super::positions::COUNTS)?;
    let listed_batches = batches.values().filter(|b| !b.is_local()).map(|b| b.id);
    let mut checked = 0;
    for (def, ids, what) in [
        (USERS, users.keys().copied().collect::<Vec<u64>>(), "users"),
        (BATCHES, listed_batches.collect(), "batches"),
        (COURSES, courses.keys().copied().collect(), "courses"),
        (GROUPS, groups.keys().copied().collect(), "groups"),
        (
            ORGANISATIONS,
            orgs.keys().copied().collect(),
            "organisations",
        ),
    ] {
        let tag = super::positions::tag(def);
        let kept: Vec<((u8, u8, u64), u64)> = counts
            .iter()
            .copied()
            .filter(|((t, _, _), _)| Some(*t) == tag)
            .collect();
        checked += kept.len();
        if kept != super::positions::expected(def, ids.into_iter()) {
            problems.push(format!("{what} position counts disagree with the {what}"));
        }
    }
    if checked != counts.len() {
        problems.push("position counts of an unknown table".into());
    }
    if s.len(USERS)? != users.len() as u64 {
        problems.push("users table length disagrees with its rows".into());
    }
    problems.extend(super::feed::check(s)?);
    Ok(problems)
}

/// The Sunbird records: side records belong to users, name organisations
/// and managers that exist, and agree with the external-id, managed-user
/// and channel indexes.
fn sunbird(
    s: &Snapshot<'_>,
    users: &BTreeMap<u64, &User>,
    orgs: &BTreeMap<u64, Organisation>,
    sides: &BTreeMap<u64, SunbirdUser>,
    managed_limit: Option<u32>,
    problems: &mut Vec<String>,
) -> Result<()> {
    let mut wanted_ids = BTreeMap::new();
    let mut wanted_managed = BTreeSet::new();
    for (id, side) in sides {
        match users.get(id) {
            None => problems.push(format!("Sunbird fields of missing user {id}")),
            // A managed user signs in only through its manager (S3).
            Some(user) if side.managed_by.is_some() => {
                for why in crate::domain::sunbird::managed_user_problems(user) {
                    problems.push(format!("user {id}: {why}"));
                }
            }
            Some(_) => {}
        }
        for why in crate::domain::sunbird::stored_side_problems(*id, side) {
            problems.push(format!("Sunbird fields of user {id}: {why}"));
        }
        for e in &side.external_ids {
            if let Some(other) = wanted_ids.insert(e.key(), *id) {
                problems.push(format!("users {other} and {id} hold the same external id"));
            }
        }
        if let Some(manager) = side.managed_by {
            wanted_managed.insert((manager, *id));
            let managed_manager = sides.get(&manager).is_some_and(|m| m.managed_by.is_some());
            if !users.contains_key(&manager) || managed_manager {
                problems.push(format!(
                    "user {id} is managed by {manager}, which is missing or managed itself"
                ));
            }
        }
        let named = side
            .root_org
            .iter()
            .chain(&side.organisations)
            .chain(side.roles.iter().flat_map(|r| &r.scope));
        for org in named {
            if !orgs.contains_key(org) {
                problems.push(format!("user {id} names missing organisation {org}"));
            }
        }
    }
    let terms: BTreeSet<Vec<u8>> = s
        .rows(super::terms::TERMS)?
        .into_iter()
        .map(|(k, ())| k)
        .collect();
    if terms != super::terms::expected(sides.iter()) {
        problems.push("the Sunbird filter index disagrees with the side records".into());
    }
    if unique(s, EXTERNAL_IDS, problems)? != wanted_ids {
        problems.push("external_ids does not match users' external ids".into());
    }
    if let Some(limit) = managed_limit {
        problems.extend(crate::domain::sunbird::over_managed_limit(
            sides.values(),
            limit,
        ));
    }
    if pairs(s, MANAGED_USERS)? != wanted_managed {
        problems.push("managed_users does not match users' managers".into());
    }
    let channels: BTreeMap<String, u64> = orgs
        .values()
        .filter(|o| !o.channel.is_empty())
        .map(|o| (fold(&o.channel), o.id))
        .collect();
    if unique(s, ORG_BY_CHANNEL, problems)? != channels {
        problems.push("org_by_channel does not match the organisations".into());
    }
    let external: BTreeSet<Vec<u8>> = orgs
        .values()
        .filter_map(super::read::org_external_key)
        .collect();
    let rows: Vec<(Vec<u8>, ())> = s.rows(ORG_BY_EXTERNAL_ID)?;
    if rows.into_iter().map(|(k, ())| k).collect::<BTreeSet<_>>() != external {
        problems.push("org_by_external_id does not match the organisations".into());
    }
    // The default organisation: at most one, shaped as roster creates it,
    // and the `default_org` row names it (a Sunbird create without a
    // channel puts users there; without the row it would try to create
    // another and find the channel taken).
    let pointer: Option<u64> = s.get(META, super::write::DEFAULT_ORG)?;
    match crate::domain::sunbird::default_org_of(orgs.values()) {
        Err(why) => problems.push(why),
        Ok(default) if default != pointer => problems.push(format!(
            "the default organisation is {}, but the store's default_org row names {}",
            default.map_or("none".to_string(), |id| id.to_string()),
            pointer.map_or("none".to_string(), |id| id.to_string()),
        )),
        Ok(_) => {}
    }
    for o in orgs.values() {
        if !orgs.contains_key(&o.root_org) {
            problems.push(format!(
                "organisation {} has a missing root {}",
                o.id, o.root_org
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, conformance, write};

    /// An index that lost many entries is one problem naming the first
    /// few and counting the rest; records that share a UUID are named,
    /// though the index holds one of them as it should.
    #[test]
    fn index_problems_are_bounded_and_shared_uuids_are_named() {
        let store = Store::in_memory().unwrap();
        store
            .write(|txn| {
                crate::store::ids::raise(txn, Kind::User, 10)?;
                for id in 1..=8 {
                    let mut user = User::blank(id, &format!("u{id}"));
                    user.uuid = u128::from(id);
                    write::put_user(txn, None, &user)?;
                }
                let mut batch = conformance::batch(1, "Morning");
                let own = batch.uuid;
                crate::store::ids::raise(txn, Kind::Batch, 2)?;
                write::put_batch(txn, None, &batch)?;
                // The batch's record edited to hold user 3's UUID (a write
                // refuses it), its own entry gone with it.
                batch.uuid = 3;
                let frame = crate::store::frame::encode(Kind::Batch, (1, 0), &batch)?;
                txn.put(BATCHES, &1, frame.as_slice())?;
                txn.remove(UUIDS, &own)?;
                txn.clear(USER_BY_USERNAME)
            })
            .unwrap();
        let problems = store.reading(check).unwrap();
        let wanted = [
            "username index: extra [], missing [(\"u1\", 1), (\"u2\", 2), (\"u3\", 3), \
             (\"u4\", 4), (\"u5\", 5)] (and 3 more)",
            "records share a uuid: [00000000-0000-0000-0000-000000000003 of user 3 and batch 1]",
        ];
        for problem in wanted {
            assert!(
                problems.iter().any(|p| p == problem),
                "{problem}: {problems:?}"
            );
        }
    }

    /// A hash above the caps (here argon2 with m = 2 GiB, as an edited
    /// export carried before restore checked hashes) is reported; an
    /// ordinary one is not.
    #[test]
    fn a_password_hash_above_the_caps_is_a_problem() {
        let store = Store::in_memory().unwrap();
        let mut user = User::blank(1, "ravi");
        user.uuid = 7;
        user.password_hash =
            "$argon2id$v=19$m=2097152,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA"
                .into();
        store
            .write(|txn| {
                crate::store::ids::raise(txn, Kind::User, 2)?;
                write::put_user(txn, None, &user)
            })
            .unwrap();
        let problems = store.reading(check).unwrap();
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("user 1: its password hash is refused")),
            "{problems:?}"
        );
        assert!(
            problems.iter().all(|p| !p.contains("c2FsdHNhbHRzYWx0")),
            "no hash text in a report: {problems:?}"
        );

        user.password_hash = "!unusable".into();
        store
            .write(|txn| {
                let old = crate::store::read::user(txn, 1)?;
                write::put_user(txn, old.as_ref(), &user)
            })
            .unwrap();
        assert_eq!(store.reading(check).unwrap(), Vec::<String>::new());
    }

    /// Every block's counter is above the ids of its block, not only the
    /// last block's above every id: a handle that goes on in block 0 after
    /// another claimed block 1 would otherwise give a user's id again.
    #[test]
    fn a_counter_behind_the_ids_of_its_own_block_is_named() {
        use crate::store::ids::BLOCK;
        let store = Store::in_memory().unwrap();
        store
            .write(|txn| {
                for id in [1, 2, 5, BLOCK] {
                    let mut user = User::blank(id, &format!("u{id}"));
                    user.uuid = u128::from(id);
                    write::put_user(txn, None, &user)?;
                }
                txn.put(ID_BLOCKS, &(Kind::User as u8, 0), &6)?;
                txn.put(ID_BLOCKS, &(Kind::User as u8, 1), &(BLOCK + 1))
            })
            .unwrap();
        assert_eq!(store.reading(check).unwrap(), Vec::<String>::new());
        store
            .write(|txn| txn.put(ID_BLOCKS, &(Kind::User as u8, 0), &3))
            .unwrap();
        assert_eq!(
            store.reading(check).unwrap(),
            ["the user id counter of block 0 is 3, not above id 5 of its block"]
        );
    }

    /// A record framed under one id that says another (a crafted or
    /// damaged file: its frame checks) is named: a change would read it
    /// under the one and write it over the other.
    #[test]
    fn a_record_that_says_another_id_is_named() {
        let store = Store::in_memory().unwrap();
        let mut user = User::blank(1, "ravi");
        user.uuid = 7;
        store
            .write(|txn| {
                crate::store::ids::raise(txn, Kind::User, 3)?;
                write::put_user(txn, None, &user)
            })
            .unwrap();
        assert_eq!(store.reading(check).unwrap(), Vec::<String>::new());
        let liar = User { id: 2, ..user };
        store
            .write(|txn| {
                let bytes = crate::store::encode(USERS, 1, &liar)?;
                txn.put(USERS, &1, bytes.as_slice())
            })
            .unwrap();
        let problems = store.reading(check).unwrap();
        assert!(
            problems.iter().any(|p| p == "user 1: its record says id 2"),
            "{problems:?}"
        );
    }

    /// A username that is another user's phone (which no path writes) is
    /// named: Sunbird's `loginId` lookup would find the one for the other.
    #[test]
    fn a_username_that_is_another_users_phone_is_a_problem() {
        let store = Store::in_memory().unwrap();
        let mut pia = User::blank(1, "pia");
        pia.uuid = 7;
        pia.profile.phone = "9876543210".into();
        let mut quinn = User::blank(2, "9876543210");
        quinn.uuid = 8;
        store
            .write(|txn| {
                crate::store::ids::raise(txn, Kind::User, 3)?;
                write::put_user(txn, None, &pia)?;
                write::put_user(txn, None, &quinn)
            })
            .unwrap();
        assert_eq!(
            store.reading(check).unwrap(),
            ["user 2's username is user 1's phone: a lookup of the phone would find the other"]
        );
    }

    /// A store with a manager (1) and its managed user (2), the default
    /// organisation (1) and its `default_org` row: sound.
    fn managed_store() -> (Store, User, User, SunbirdUser) {
        use crate::domain::sunbird::Organisation;
        let store = Store::in_memory().unwrap();
        let mut manager = User::blank(1, "mgr");
        manager.uuid = 11;
        manager.profile.email = "mgr@example.com".into();
        let mut kid = User::blank(2, "kid");
        kid.uuid = 12;
        let org = Organisation {
            id: 1,
            uuid: 21,
            name: "Default organisation".into(),
            org_type: "institute".into(),
            channel: "default".into(),
            is_tenant: true,
            is_default: true,
            root_org: 1,
            email: String::new(),
            external_id: String::new(),
            created: 0,
            modified: 0,
        };
        let side = SunbirdUser {
            managed_by: Some(1),
            root_org: Some(1),
            organisations: vec![1],
            ..SunbirdUser::default()
        };
        store
            .write(|txn| {
                crate::store::ids::raise(txn, Kind::User, 3)?;
                crate::store::ids::raise(txn, Kind::Organisation, 2)?;
                write::put_organisation(txn, None, &org)?;
                write::point_default_org(txn)?;
                write::put_user(txn, None, &manager)?;
                write::put_user(txn, None, &kid)?;
                write::put_sunbird(txn, 2, None, Some(&side))
            })
            .unwrap();
        assert_eq!(store.reading(check).unwrap(), Vec::<String>::new());
        (store, manager, kid, side)
    }

    /// A managed user that could sign in on its own (a password, a phone)
    /// and more managed users than the limit are problems (S3).
    #[test]
    fn managed_users_sign_in_only_through_their_manager() {
        let (store, _, kid, _) = managed_store();
        let mut changed = kid.clone();
        changed.password_hash =
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA"
                .into();
        changed.profile.phone = "9876543210".into();
        store
            .write(|txn| write::put_user(txn, Some(&kid), &changed))
            .unwrap();
        let problems = store.reading(check).unwrap();
        for expected in [
            "user 2: a managed user has no password",
            "user 2: a managed user has no email or phone",
        ] {
            assert!(
                problems.iter().any(|p| p.starts_with(expected)),
                "{expected}: {problems:?}"
            );
        }
        // One managed user: within a limit of 1, above a limit of 0.
        let (store, ..) = managed_store();
        assert_eq!(
            store.reading(|s| check_with(s, Some(1))).unwrap(),
            Vec::<String>::new()
        );
        let problems = store.reading(|s| check_with(s, Some(0))).unwrap();
        assert!(
            problems
                .iter()
                .any(|p| p == "user 1 manages 1 users, above the limit of 0"),
            "{problems:?}"
        );
    }

    /// Side-record fields hold what the paths that write them allow.
    #[test]
    fn side_record_fields_are_held_to_their_paths_rules() {
        use crate::domain::sunbird::{Acceptance, Declaration, RoleGrant};
        let (store, _, _, side) = managed_store();
        let grant = RoleGrant {
            role: "ADMIN".into(),
            scope: vec![1],
            created: 0,
            modified: 0,
        };
        let changed = SunbirdUser {
            prev_used_email: "a".repeat(100_000),
            prev_used_phone: "1".repeat(1_000),
            created_by: Some(0),
            roles: vec![grant.clone(), grant],
            declarations: vec![Declaration {
                org_id: "x".repeat(100_000),
                persona: "teacher".into(),
                info: String::new(),
                status: "SUBMITTED".into(),
                error_type: String::new(),
            }],
            accepted: vec![Acceptance {
                kind: "k".repeat(100_000),
                version: "v1".into(),
                on: 0,
            }],
            ..side.clone()
        };
        store
            .write(|txn| write::put_sunbird(txn, 2, Some(&side), Some(&changed)))
            .unwrap();
        let problems = store.reading(check).unwrap();
        for expected in [
            "Sunbird fields of user 2: prevUsedEmail:",
            "Sunbird fields of user 2: prevUsedPhone:",
            "Sunbird fields of user 2: createdBy 0",
            "Sunbird fields of user 2: roles: one grant per role",
            "Sunbird fields of user 2: a declaration's orgId",
            "Sunbird fields of user 2: an acceptance's terms type",
        ] {
            assert!(
                problems.iter().any(|p| p.starts_with(expected)),
                "{expected}: {problems:?}"
            );
        }
        assert!(problems.iter().all(|p| p.len() < 1000), "{problems:?}");
    }

    /// A sign-in state no path writes (a failure count or a credential
    /// generation at the end of its type, an instant outside the calendar)
    /// is a problem: the next sign-in computes with it.
    #[test]
    fn a_sign_in_state_at_the_end_of_its_types_is_a_problem() {
        let (store, manager, ..) = managed_store();
        let changed = User {
            failed_logins: u32::MAX,
            credential_generation: u64::MAX,
            locked_until: Some(i64::MAX),
            created: i64::MIN,
            ..manager.clone()
        };
        store
            .write(|txn| write::put_user(txn, Some(&manager), &changed))
            .unwrap();
        let problems = store.reading(check).unwrap();
        assert_eq!(
            problems,
            vec![
                "user 1: failed_logins 4294967295 is above the largest lock-out threshold 1000000",
                "user 1: credential_generation 18446744073709551615 is out of range",
                "user 1: created -9223372036854775808 is not an instant roster stores",
                "user 1: locked_until 9223372036854775807 is not an instant roster stores",
            ]
        );
        // The bounds themselves are within (2^53 shared with ids), one more
        // is not.
        let within = User {
            failed_logins: 1_000_000,
            credential_generation: 9_007_199_254_740_992,
            ..manager.clone()
        };
        store
            .write(|txn| write::put_user(txn, Some(&changed), &within))
            .unwrap();
        assert_eq!(store.reading(check).unwrap(), Vec::<String>::new());
        let beyond = User {
            failed_logins: 1_000_001,
            credential_generation: 9_007_199_254_740_993,
            ..manager.clone()
        };
        store
            .write(|txn| write::put_user(txn, Some(&within), &beyond))
            .unwrap();
        assert_eq!(
            store.reading(check).unwrap(),
            vec![
                "user 1: failed_logins 1000001 is above the largest lock-out threshold 1000000",
                "user 1: credential_generation 9007199254740993 is out of range",
            ]
        );
    }

    /// Each cross-check names what breaks it, and only that: an index
    /// entry no record has is listed as extra; a username that is another
    /// user's email is one problem, while one's own email as a username is
    /// none; a course link naming a missing course beside a batch that
    /// exists is one.
    #[test]
    fn each_cross_check_names_only_what_breaks_it() {
        let (store, manager, kid, _) = managed_store();
        let own = User {
            username: "mgr@example.com".into(),
            ..manager.clone()
        };
        store
            .write(|txn| write::put_user(txn, Some(&manager), &own))
            .unwrap();
        assert_eq!(store.reading(check).unwrap(), Vec::<String>::new());

        let (store, ..) = managed_store();
        let taken = User {
            username: "MGR@example.com".into(),
            ..kid.clone()
        };
        let batch = conformance::batch(1, "Morning");
        store
            .write(|txn| {
                write::put_user(txn, Some(&kid), &taken)?;
                txn.put(USER_BY_USERNAME, "ghost", &1)?;
                crate::store::ids::raise(txn, Kind::Batch, 2)?;
                crate::store::ids::raise(txn, Kind::Course, 100)?;
                write::put_batch(txn, None, &batch)?;
                write::link_course_batch(txn, 99, 1, true)
            })
            .unwrap();
        assert_eq!(
            store.reading(check).unwrap(),
            vec![
                "username index: extra [(\"ghost\", 1)], missing []",
                "users 1, 2 share the name \"mgr@example.com\" (the same in Unicode NFKC, \
                 ignoring case): sign-in finds user 1; rename the others",
                "user 2's username is user 1's email: one would sign in as the other",
                "link of course 99 and batch 1 names a missing record",
            ]
        );

        // A course whose hidden batch is an ordinary batch, linked to it.
        let (store, ..) = managed_store();
        let course = Course {
            id: 5,
            uuid: 41,
            title: "Algebra".into(),
            slug: "algebra".into(),
            description: String::new(),
            image: String::new(),
            is_public: false,
            enable_progressive_lock: false,
            order: 0,
            local_batch: 1,
            created: 0,
            modified: 0,
        };
        store
            .write(|txn| {
                crate::store::ids::raise(txn, Kind::Batch, 2)?;
                crate::store::ids::raise(txn, Kind::Course, 6)?;
                write::put_batch(txn, None, &batch)?;
                write::put_course(txn, None, &course)?;
                write::link_course_batch(txn, 5, 1, true)
            })
            .unwrap();
        assert_eq!(
            store.reading(check).unwrap(),
            vec!["course 5 lacks its hidden batch 1"]
        );

        // Two sound courses, one linked to the other's hidden batch.
        let (store, ..) = managed_store();
        let other = Course {
            id: 6,
            uuid: 42,
            slug: "geometry".into(),
            local_batch: 2,
            ..course.clone()
        };
        store
            .write(|txn| {
                crate::store::ids::raise(txn, Kind::Batch, 3)?;
                crate::store::ids::raise(txn, Kind::Course, 7)?;
                for (c, id) in [(&course, 1), (&other, 2)] {
                    let hidden = Batch {
                        course: Some(c.id),
                        uuid: 50 + u128::from(id),
                        ..conformance::batch(id, &c.slug)
                    };
                    write::put_batch(txn, None, &hidden)?;
                    write::put_course(txn, None, c)?;
                    write::link_course_batch(txn, c.id, id, true)?;
                }
                write::link_course_batch(txn, 5, 2, true)
            })
            .unwrap();
        assert_eq!(
            store.reading(check).unwrap(),
            vec!["course 5 is linked to batch 2, the hidden batch of course 6"]
        );

        // A manager that is missing, and one that is managed itself.
        let (store, _, _, side) = managed_store();
        let mut third = User::blank(3, "kid2");
        third.uuid = 13;
        let orphan = SunbirdUser {
            managed_by: Some(99),
            ..side.clone()
        };
        let by_kid = SunbirdUser {
            managed_by: Some(2),
            ..side.clone()
        };
        store
            .write(|txn| {
                crate::store::ids::raise(txn, Kind::User, 4)?;
                write::put_user(txn, None, &third)?;
                write::put_sunbird(txn, 3, None, Some(&by_kid))
            })
            .unwrap();
        assert_eq!(
            store.reading(check).unwrap(),
            vec!["user 3 is managed by 2, which is missing or managed itself"]
        );
        store
            .write(|txn| {
                write::put_sunbird(txn, 3, Some(&by_kid), None)?;
                write::put_sunbird(txn, 2, Some(&side), Some(&orphan))
            })
            .unwrap();
        assert_eq!(
            store.reading(check).unwrap(),
            vec!["user 2 is managed by 99, which is missing or managed itself"]
        );
    }

    /// The default organisation is one at most, and the `default_org` row
    /// names it.
    #[test]
    fn the_default_organisation_is_one_and_named_by_its_row() {
        let (store, ..) = managed_store();
        store
            .write(|txn| txn.delete(META, super::super::write::DEFAULT_ORG).map(drop))
            .unwrap();
        let problems = store.reading(check).unwrap();
        assert_eq!(
            problems,
            vec!["the default organisation is 1, but the store's default_org row names none"]
        );
        let (store, ..) = managed_store();
        let org = store
            .reading(|s| crate::store::read::organisation(s, 1))
            .unwrap()
            .unwrap();
        let second = Organisation {
            id: 2,
            uuid: 22,
            channel: "other".into(),
            root_org: 2,
            ..org
        };
        store
            .write(|txn| {
                crate::store::ids::raise(txn, Kind::Organisation, 3)?;
                write::put_organisation(txn, None, &second)
            })
            .unwrap();
        let problems = store.reading(check).unwrap();
        assert_eq!(
            problems,
            vec!["organisations 1 and 2 are both marked the default organisation"]
        );
    }
}
