//! The rules a restored export must meet before anything is written: every
//! record is put through the same rule functions as the path that creates
//! it (an edited export can carry anything: huge strings, invalid names,
//! hashes over the cost caps, unknown permissions), and ids, UUIDs and
//! unique keys are unique. Relations (dangling ids) are checked after the
//! write, inside the same transaction, by the integrity check.

use crate::auth::legacy::check_stored as check_hash;
use crate::domain::course::{self, Course, CourseInput};
use crate::domain::custom_field::{self, CustomField, CustomFieldInput, CustomInput, CustomValue};
use crate::domain::group::{self, Group, GroupInput};
use crate::domain::rules::{self, EMAIL_MAX, NAME_MAX, TEXT_MAX, USERNAME_MAX, fold};
use crate::domain::sunbird::Origin;
use crate::domain::user::{self, Context, Profile, ProfileInput, User};
use crate::domain::{Batch, Subscription};
use crate::error::FieldErrors;
use crate::store::ids::MAX_ID;
use crate::text::clip;
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};

/// The counters a store keeps.
const COUNTERS: [&str; 8] = [
    "organisation",
    "user",
    "batch",
    "course",
    "subscription",
    "custom_field",
    "group",
    "message",
];

fn flatten(errors: &FieldErrors) -> String {
    super::flatten(errors)
}

/// The most problems a check keeps in words: the error shows a few, and an
/// edited export can break a rule millions of times.
const KEPT: usize = 100;

/// Every rule a dump breaks: the first [`KEPT`] in words, and how many
/// there are in all.
#[derive(Debug, Default)]
pub(super) struct Report {
    /// The first problems found, in words.
    pub(super) shown: Vec<String>,
    /// How many problems were found.
    pub(super) total: usize,
}

/// Collects problems, naming the record each is about.
struct Problems(Report);

impl Problems {
    fn add(&mut self, what: String, problem: impl AsRef<str>) {
        self.0.total += 1;
        if self.0.shown.len() < KEPT {
            self.0
                .shown
                .push(format!("{what}: {}", clip(problem.as_ref())));
        }
    }

    /// Records a rule result: errors, or a value the rules would store
    /// differently (not in its normal form).
    fn rules(&mut self, what: String, errors: &FieldErrors, normal: bool) {
        if !errors.is_empty() {
            self.add(what, flatten(errors));
        } else if !normal {
            self.add(what, "not in the form roster stores (edited?)");
        }
    }

    fn unique<K: Ord>(&mut self, seen: &mut BTreeSet<K>, key: K, what: String, field: &str) {
        if !seen.insert(key) {
            self.add(what, format!("{field} is used twice"));
        }
    }

    /// [`unique`](Self::unique) of `key` of `text`, a stored text of at
    /// most `max` characters. Text too long to be one (its own rule refuses
    /// it) is not folded: NFKC makes some text 11 times longer.
    fn unique_text(
        &mut self,
        seen: &mut BTreeSet<String>,
        (text, max): (&str, usize),
        key: fn(&str) -> String,
        what: String,
        field: &str,
    ) {
        if crate::text::may_fold_to(text, max) {
            self.unique(seen, key(text), what, field);
        }
    }

    fn id(&mut self, id: u64, what: &str) {
        if id == 0 || id > MAX_ID {
            self.add(format!("{what} {id}"), "the id is out of range");
        }
    }
}

fn custom_field_ok(f: &CustomField, p: &mut Problems) {
    let mut copy = f.clone();
    let mut errors = FieldErrors::new();
    let input = CustomFieldInput {
        name: Some(f.name.clone()),
        kind: Some(f.kind.as_str().into()),
        choices: Some(f.choices.clone()),
        required: Some(f.required),
    };
    custom_field::apply(&mut copy, &input, true, &mut errors);
    p.rules(format!("custom field {}", f.id), &errors, copy == *f);
}

/// Whether a stored list of permission ids (ascending, each once) is
/// longer than the catalogue: then it is refused unread, before the rules
/// make copies of it.
fn over_catalogue(ids: &[u32]) -> bool {
    ids.len() > crate::auth::permissions::Permission::all().count()
}

fn group_ok(g: &Group, p: &mut Problems) {
    if over_catalogue(&g.permissions) {
        p.add(
            format!("group {}", g.id),
            format!(
                "holds {} permissions, more than the catalogue's",
                g.permissions.len()
            ),
        );
        return;
    }
    let mut copy = g.clone();
    let mut errors = FieldErrors::new();
    let input = GroupInput {
        name: Some(g.name.clone()),
        permissions: Some(g.permissions.iter().map(|&p| u64::from(p)).collect()),
    };
    group::apply(&mut copy, &input, true, &mut errors);
    p.rules(format!("group {}", g.id), &errors, copy == *g);
}

fn batch_ok(b: &Batch, p: &mut Problems) {
    // A course's hidden batch carries the course's title.
    let max = if b.is_local() {
        course::TITLE_MAX
    } else {
        NAME_MAX
    };
    let what = format!("batch {}", b.id);
    match rules::text(&b.name, max) {
        Ok(name) if name.is_empty() => p.add(what, "name: This field may not be blank."),
        Ok(name) if name != b.name => p.add(what, "name: not in the form roster stores"),
        Ok(_) => {}
        Err(m) => p.add(what, format!("name: {m}")),
    }
}

fn course_ok(c: &Course, p: &mut Problems) {
    let mut copy = c.clone();
    let mut errors = FieldErrors::new();
    let input = CourseInput {
        title: Some(c.title.clone()),
        slug: Some(c.slug.clone()),
        description: Some(c.description.clone()),
        image: Some(c.image.clone()),
        is_public: Some(c.is_public),
        enable_progressive_lock: Some(c.enable_progressive_lock),
        order: Some(c.order),
    };
    course::apply(&mut copy, &input, true, &mut errors);
    p.rules(format!("course {}", c.id), &errors, copy == *c);
}

/// A stored custom value checked as a value (a definition's type or choices
/// may have changed since it was written, which roster allows).
fn custom_value_ok(value: &CustomValue) -> Result<(), String> {
    match value {
        CustomValue::Text(t) => match rules::multiline_text(t, TEXT_MAX) {
            Ok(clean) if clean == *t => Ok(()),
            Ok(_) => Err("not in the form roster stores".into()),
            Err(m) => Err(m),
        },
        CustomValue::Number(n) => {
            let probe = CustomField {
                id: 0,
                uuid: 0,
                name: String::new(),
                kind: custom_field::FieldKind::Number,
                choices: Vec::new(),
                required: false,
                created: 0,
                modified: 0,
            };
            if n.len() > 64 {
                return Err("A valid number is required.".into());
            }
            custom_field::check(&probe, &CustomInput::Number(n.clone())).map(drop)
        }
        CustomValue::Date(_) => Ok(()),
    }
}

fn user_ok(u: &User, origin: Origin, fields: &BTreeSet<u64>, today: NaiveDate, p: &mut Problems) {
    let what = || format!("user {}", u.id);
    for why in u.sign_in_state_problems() {
        p.add(what(), why);
    }
    // Each user by the rules of the surfaces that may have named it: a
    // Sunbird userName may hold a space, a Testpress username may not, and
    // a Testpress or Django update renames a user of any origin.
    let testpress = rules::username(&u.username);
    match origin {
        _ if testpress.as_deref() == Ok(u.username.as_str()) => {}
        Origin::Roster => match testpress {
            Ok(_) => p.add(what(), "username: not in the form roster stores"),
            Err(m) => p.add(what(), format!("username: {m}")),
        },
        Origin::Sunbird | Origin::Sso => match crate::api::sunbird::check_user_name(&u.username) {
            Ok(name) if name == u.username => {}
            Ok(_) => p.add(what(), "userName: not in the form roster stores"),
            Err(e) => p.add(what(), format!("userName: {}", e.message())),
        },
    }
    if !u.password_hash.is_empty()
        && let Err(reason) = check_hash(&u.password_hash)
    {
        p.add(what(), format!("password_hash: {reason}"));
    }
    let old: &Profile = &u.profile;
    let input = ProfileInput {
        email: Some(old.email.clone()),
        phone: Some(old.phone.clone()),
        first_name: Some(old.first_name.clone()),
        last_name: Some(old.last_name.clone()),
        display_name: Some(old.display_name.clone()),
        photo: Some(old.photo.clone()),
        // A date read back is a real date; whether it is after the
        // restoring clock's today is not the export's fault.
        birth_date: None,
        address1: Some(old.address1.clone()),
        address2: Some(old.address2.clone()),
        city: Some(old.city.clone()),
        zip: Some(old.zip.clone()),
        state: Some(old.state.clone()),
        gender_code: None,
        custom_fields: Vec::new(),
        clear_custom_fields: false,
    };
    let mut copy = old.clone();
    let mut errors = FieldErrors::new();
    let ctx = Context { today, fields: &[] };
    user::apply_profile(&mut copy, &input, ctx, false, &mut errors);
    p.rules(what(), &errors, copy == *old);
    // One value per field: more values than fields is refused before any
    // is looked at, so the work is bounded by the fields defined.
    let mut held = BTreeSet::new();
    let custom: &[_] = match old.custom.len() > fields.len() {
        true => {
            p.add(
                what(),
                format!(
                    "holds {} custom values, more than the {} custom fields defined",
                    old.custom.len(),
                    fields.len()
                ),
            );
            &[]
        }
        false => &old.custom,
    };
    for (field, value) in custom {
        if !held.insert(*field) {
            p.add(what(), format!("custom field {field} holds two values"));
        }
        if !fields.contains(field) {
            p.add(
                what(),
                format!("holds a value of missing custom field {field}"),
            );
        }
        if let Err(m) = custom_value_ok(value) {
            p.add(what(), format!("custom field {field}: {m}"));
        }
    }
    if over_catalogue(&u.permissions) {
        p.add(
            what(),
            format!(
                "holds {} permissions, more than the catalogue's",
                u.permissions.len()
            ),
        );
    } else {
        let mut errors = FieldErrors::new();
        let ids: Vec<u64> = u.permissions.iter().map(|&p| u64::from(p)).collect();
        let normal = group::permission_ids("user_permissions", &ids, &mut errors);
        p.rules(what(), &errors, normal == u.permissions);
    }
    let mut groups = u.groups.clone();
    groups.sort_unstable();
    groups.dedup();
    if groups != u.groups {
        p.add(what(), "groups: not in the form roster stores");
    }
}

/// Every rule `dump` breaks, in words; empty when it may be restored.
/// `config` gives the limits an institute configures (managed users per
/// manager).
pub(super) fn check(
    dump: &super::Dump,
    today: NaiveDate,
    config: &crate::config::Config,
) -> Report {
    let mut p = Problems(Report::default());
    let mut uuids = BTreeSet::new();

    let mut names = BTreeSet::new();
    for (name, next) in &dump.counters {
        if !COUNTERS.contains(&name.as_str()) {
            p.add(format!("counter \"{}\"", clip(name)), "unknown counter");
        }
        // A counter is the next id to give: one past the highest id, once
        // that id is given.
        if *next > MAX_ID + 1 {
            p.add(format!("counter {name}"), "out of range");
        }
        p.unique(
            &mut names,
            name.clone(),
            format!("counter {name}"),
            "the name",
        );
    }

    let mut names = BTreeSet::new();
    for (id, value) in &dump.settings {
        let what = format!("setting \"{}\"", clip(id));
        p.unique(&mut names, id.clone(), what.clone(), "the id");
        let id_ok =
            !id.trim().is_empty() && id.chars().count() <= 100 && !id.chars().any(char::is_control);
        let terms_ok = !crate::domain::sunbird::is_terms_setting(id)
            || crate::domain::sunbird::Terms::parse(value).is_some();
        if !id_ok || !terms_ok || value.len() > 10_000 {
            p.add(what, "not in the form roster stores (edited?)");
        }
    }

    let mut ids = BTreeSet::new();
    let mut keys = BTreeSet::new();
    let field_ids: BTreeSet<u64> = dump.custom_fields.iter().map(|f| f.id).collect();
    for f in &dump.custom_fields {
        let what = format!("custom field {}", f.id);
        p.id(f.id, "custom field");
        p.unique(&mut ids, f.id, what.clone(), "the id");
        p.unique(&mut uuids, f.uuid, what.clone(), "the uuid");
        p.unique_text(
            &mut keys,
            (&f.name, NAME_MAX),
            custom_field::name_key,
            what,
            "the name",
        );
        custom_field_ok(f, &mut p);
    }

    let (mut ids, mut keys) = (BTreeSet::new(), BTreeSet::new());
    for g in &dump.groups {
        let what = format!("group {}", g.id);
        p.id(g.id, "group");
        p.unique(&mut ids, g.id, what.clone(), "the id");
        p.unique(&mut uuids, g.uuid, what.clone(), "the uuid");
        p.unique_text(&mut keys, (&g.name, NAME_MAX), fold, what, "the name");
        group_ok(g, &mut p);
    }

    let (mut ids, mut keys) = (BTreeSet::new(), BTreeSet::new());
    for b in &dump.batches {
        let what = format!("batch {}", b.id);
        p.id(b.id, "batch");
        p.unique(&mut ids, b.id, what.clone(), "the id");
        p.unique(&mut uuids, b.uuid, what.clone(), "the uuid");
        if !b.is_local() {
            p.unique_text(&mut keys, (&b.name, NAME_MAX), fold, what, "the name");
        }
        batch_ok(b, &mut p);
    }

    let (mut ids, mut keys, mut hidden) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for c in &dump.courses {
        let what = format!("course {}", c.id);
        p.id(c.id, "course");
        p.unique(&mut ids, c.id, what.clone(), "the id");
        p.unique(&mut uuids, c.uuid, what.clone(), "the uuid");
        p.unique(&mut keys, c.slug.clone(), what.clone(), "the slug");
        p.unique(&mut hidden, c.local_batch, what, "the hidden batch");
        course_ok(c, &mut p);
    }

    let mut links = BTreeSet::new();
    for &(course, batch) in &dump.course_batches {
        p.unique(
            &mut links,
            (course, batch),
            format!("link of course {course} and batch {batch}"),
            "the link",
        );
    }

    let (mut ids, mut keys) = (BTreeSet::new(), BTreeSet::new());
    let tenants: BTreeSet<u64> = dump
        .organisations
        .iter()
        .filter(|o| o.is_tenant)
        .map(|o| o.id)
        .collect();
    for o in &dump.organisations {
        let what = format!("organisation {}", o.id);
        p.id(o.id, "organisation");
        p.unique(&mut ids, o.id, what.clone(), "the id");
        p.unique(&mut uuids, o.uuid, what.clone(), "the uuid");
        if !o.channel.is_empty() {
            p.unique_text(
                &mut keys,
                (&o.channel, NAME_MAX),
                fold,
                what.clone(),
                "the channel",
            );
        }
        let name_ok = rules::text(&o.name, NAME_MAX).is_ok_and(|n| n == o.name);
        let channel_ok = o.channel == o.channel.to_lowercase()
            && !o.channel.chars().any(char::is_control)
            && o.channel.chars().count() <= NAME_MAX;
        // As the create makes them: a tenant has a channel and is its own
        // root; a sub-organisation has none and names a tenant; the type is
        // trimmed text as long as a name, the email one the rules take as it
        // is, the external id as the create bounds it.
        let shape_ok = match o.is_tenant {
            true => !o.channel.is_empty() && o.root_org == o.id,
            false => o.channel.is_empty() && tenants.contains(&o.root_org),
        };
        let type_ok = !o.org_type.is_empty()
            && rules::text(&o.org_type, NAME_MAX).is_ok_and(|t| t == o.org_type);
        let email_ok = o.email.is_empty() || rules::email(&o.email).is_ok_and(|e| e == o.email);
        let external_ok = crate::domain::sunbird::org_external_id_ok(&o.external_id);
        if !(name_ok && channel_ok && shape_ok && type_ok && email_ok && external_ok) {
            p.add(what, "not in the form roster stores (edited?)");
        }
    }
    // The store's default_org row is set from the organisation marked
    // default: there is one at most, shaped as roster creates it.
    if let Err(why) = crate::domain::sunbird::default_org_of(&dump.organisations) {
        p.add("organisations".into(), why);
    }

    let origins: BTreeMap<u64, Origin> = dump
        .sunbird_users
        .iter()
        .map(|(id, side)| (*id, side.origin))
        .collect();
    let (mut ids, mut names, mut emails, mut phones) = (
        BTreeSet::new(),
        BTreeSet::new(),
        BTreeSet::new(),
        BTreeSet::new(),
    );
    for u in &dump.users {
        let what = format!("user {}", u.id);
        p.id(u.id, "user");
        p.unique(&mut ids, u.id, what.clone(), "the id");
        p.unique(&mut uuids, u.uuid, what.clone(), "the uuid");
        p.unique_text(
            &mut names,
            (&u.username, USERNAME_MAX),
            fold,
            what.clone(),
            "the username",
        );
        if !u.profile.email.is_empty() {
            let email = (u.profile.email.as_str(), EMAIL_MAX);
            p.unique_text(&mut emails, email, fold, what.clone(), "the email");
        }
        if !u.profile.phone.is_empty() {
            p.unique(&mut phones, u.profile.phone.clone(), what, "the phone");
        }
        let origin = origins.get(&u.id).copied().unwrap_or_default();
        user_ok(u, origin, &field_ids, today, &mut p);
    }

    // Managed users (S3): no email, phone or password of their own, and no
    // more per manager than the configured limit. (That the manager exists
    // and is not managed itself is the integrity check's, after the write.)
    let users: BTreeMap<u64, &User> = dump.users.iter().map(|u| (u.id, u)).collect();
    let mut ids = BTreeSet::new();
    for (id, side) in &dump.sunbird_users {
        let what = format!("Sunbird fields of user {id}");
        p.unique(&mut ids, *id, what.clone(), "the user");
        for problem in crate::api::sunbird::side_problems(*id, side) {
            p.add(what.clone(), problem);
        }
        if side.managed_by.is_some()
            && let Some(user) = users.get(id)
        {
            for why in crate::domain::sunbird::managed_user_problems(user) {
                p.add(format!("user {id}"), why);
            }
        }
    }
    let sides = dump.sunbird_users.iter().map(|(_, side)| side);
    for why in crate::domain::sunbird::over_managed_limit(sides, config.sunbird.managed_limit) {
        p.add("managed users".into(), why);
    }

    let (mut pairs, mut ids) = (BTreeSet::new(), BTreeSet::new());
    for (user, batch, sub) in &dump.memberships {
        let Subscription { id, uuid, .. } = sub;
        let what = format!("membership of user {user} in batch {batch}");
        p.id(*id, "subscription");
        p.unique(&mut pairs, (*user, *batch), what.clone(), "the membership");
        p.unique(&mut ids, *id, what.clone(), "the subscription id");
        p.unique(&mut uuids, *uuid, what, "the uuid");
    }
    p.0
}
