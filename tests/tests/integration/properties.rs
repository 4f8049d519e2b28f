//! Model-free property tests of the typed API (SPEC 2, 3, A5): random
//! sequences of operations, drawn from small pools of names so that clashes,
//! unknown ids and expiries happen often, must keep the store sound after
//! every single operation, and an operation that fails must change nothing.

use chrono::Duration;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use roster::{
    BatchInput, CourseInput, CreateOptions, CustomFieldInput, CustomFieldView, CustomInput,
    FieldKind, FixedClock, Institute, NewUser, Page, PageRequest, ProfileInput, UserPatch,
    UserQuery,
};
use roster_tests::{SEED_NOW, institute, snapshot};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Usernames: case variants of one another clash; `""` and `"bad name"` are
/// invalid.
const USERNAMES: &[&str] = &[
    "alice", "ALICE", "Alice", "bob", "Bob", "carol", "dave_1", "e.f+g-h", "frank", "grace",
    "heidi", "ivan", "", "bad name",
];
/// Emails: case variants clash; one is invalid; `""` clears.
const EMAILS: &[&str] = &[
    "a@x.com",
    "A@X.COM",
    "b@y.in",
    "c@z.org",
    "d@w.net",
    "not-an-email",
    "",
];
/// Phones: the first two are the same number; `"123"` is invalid; `""` clears.
const PHONES: &[&str] = &[
    "9876543210",
    "+91 98765 43210",
    "9123456789",
    "+14155550123",
    "123",
    "",
];
/// Batch names: case and space variants clash; `Physics` is also a course
/// title (its hidden batch must not take the name).
const BATCH_NAMES: &[&str] = &["Alpha", "alpha", "Beta", " beta ", "Gamma", "Physics"];
/// A batch name that is never created.
const UNKNOWN_BATCH: &str = "Nope";
/// Course titles: `!!!` has no slug characters; case variants share a slug.
const COURSE_TITLES: &[&str] = &["Physics", "physics", "Chemistry", "!!!"];
/// Custom field names: the first two are the same name.
const FIELD_NAMES: &[&str] = &["Graduation Year", " graduation year ", "Stream", "Joined"];
/// Custom field types with their choices (`colour` is not a type).
const FIELD_KINDS: &[(&str, &[&str])] = &[
    ("number", &[]),
    ("text", &[]),
    ("choice", &["Science", "Arts"]),
    ("date", &[]),
    ("colour", &[]),
];
/// Ids that may or may not exist: small ones hit course hidden batches too.
const STRAY_IDS: &[u64] = &[0, 1, 2, 5, 1_000_000, u64::MAX];

/// A password: valid most of the time, else all digits, too short or absent.
fn password(sel: u8) -> Option<String> {
    match sel % 20 {
        0 => Some("12345678".into()),
        1 => Some("abc".into()),
        2 => None,
        n => Some(format!("s3cret-pass-{n}")),
    }
}

/// A value for a field of type `kind`: a valid one most of the time, else
/// anything (often of the wrong type), a clearing `null` or a blank.
fn custom_value(kind: FieldKind, sel: u8) -> CustomInput {
    if sel.is_multiple_of(6) {
        return match (sel / 6) % 8 {
            0 => CustomInput::Number("2020".into()),
            1 => CustomInput::Number("7.5".into()),
            2 => CustomInput::Text("Science".into()),
            3 => CustomInput::Text("2023-01-20".into()),
            4 => CustomInput::Text("Delhi University".into()),
            5 => CustomInput::Null,
            6 => CustomInput::Text(String::new()),
            _ => CustomInput::Bool(true),
        };
    }
    match kind {
        FieldKind::Number => CustomInput::Number(format!("{}", 2000 + u32::from(sel % 30))),
        FieldKind::Text => CustomInput::Text(format!("University {sel}")),
        FieldKind::Choice => CustomInput::Text(["Science", "arts"][usize::from(sel % 2)].into()),
        FieldKind::Date => CustomInput::Text(format!("2023-01-{:02}", 1 + sel % 28)),
    }
}

fn pool<T: Copy>(items: &[T], sel: u8) -> T {
    items[sel as usize % items.len()]
}

/// One of `known` most of the time, else an id that may not exist.
fn pick(known: &[u64], sel: u8) -> u64 {
    if known.is_empty() || sel.is_multiple_of(6) {
        STRAY_IDS[(sel / 6) as usize % STRAY_IDS.len()]
    } else {
        known[sel as usize % known.len()]
    }
}

/// One operation of the typed API; selectors index the pools above or the
/// ids created so far.
#[derive(Debug, Clone)]
enum Op {
    CreateUser {
        username: u8,
        password: u8,
        generate: bool,
        email: Option<u8>,
        phone: Option<u8>,
        batches: Vec<u8>,
        expires: Option<u8>,
        custom: Option<u8>,
    },
    UpdateUser {
        user: u8,
        username: Option<u8>,
        email: Option<u8>,
        phone: Option<u8>,
        custom: Option<(u8, u8)>,
    },
    DeleteUser {
        user: u8,
    },
    CreateBatch {
        name: u8,
    },
    RenameBatch {
        batch: u8,
        name: u8,
    },
    DeleteBatch {
        batch: u8,
    },
    AddUserBatches {
        user: u8,
        batches: Vec<u8>,
    },
    RemoveUserBatches {
        user: u8,
        batches: Vec<u8>,
    },
    AddSubscriptions {
        user: u8,
        batches: Vec<u8>,
        expires: Option<u8>,
    },
    CreateCourse {
        title: u8,
    },
    RenameCourse {
        course: u8,
        title: u8,
    },
    DeleteCourse {
        course: u8,
    },
    LinkCourse {
        course: u8,
        batches: Vec<u8>,
        linked: bool,
    },
    AddUserCourses {
        user: u8,
        courses: Vec<u8>,
    },
    RemoveUserCourses {
        user: u8,
        courses: Vec<u8>,
    },
    CreateField {
        name: u8,
        kind: u8,
        required: bool,
    },
    UpdateField {
        field: u8,
        name: Option<u8>,
        kind: Option<u8>,
        required: Option<bool>,
    },
    DeleteField {
        field: u8,
    },
    Advance {
        hours: u8,
    },
    Purge,
}

fn sels(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..=max)
}

fn op() -> impl Strategy<Value = Op> {
    let s = any::<u8>;
    prop_oneof![
        10 => (
            s(),
            s(),
            prop::bool::weighted(0.1),
            prop::option::weighted(0.6, s()),
            prop::option::weighted(0.4, s()),
            sels(2),
            prop::option::weighted(0.4, s()),
            prop::option::weighted(0.8, s()),
        )
            .prop_map(
                |(username, password, generate, email, phone, batches, expires, custom)| {
                    Op::CreateUser {
                        username,
                        password,
                        generate,
                        email,
                        phone,
                        batches,
                        expires,
                        custom,
                    }
                }
            ),
        3 => (
            s(),
            prop::option::of(s()),
            prop::option::of(s()),
            prop::option::of(s()),
            prop::option::of((s(), s())),
        )
            .prop_map(|(user, username, email, phone, custom)| Op::UpdateUser {
                user,
                username,
                email,
                phone,
                custom,
            }),
        2 => s().prop_map(|user| Op::DeleteUser { user }),
        3 => s().prop_map(|name| Op::CreateBatch { name }),
        1 => (s(), s()).prop_map(|(batch, name)| Op::RenameBatch { batch, name }),
        1 => s().prop_map(|batch| Op::DeleteBatch { batch }),
        3 => (s(), sels(3)).prop_map(|(user, batches)| Op::AddUserBatches { user, batches }),
        2 => (s(), sels(2)).prop_map(|(user, batches)| Op::RemoveUserBatches { user, batches }),
        3 => (s(), sels(3), prop::option::weighted(0.8, s())).prop_map(
            |(user, batches, expires)| Op::AddSubscriptions {
                user,
                batches,
                expires
            }
        ),
        2 => s().prop_map(|title| Op::CreateCourse { title }),
        1 => (s(), s()).prop_map(|(course, title)| Op::RenameCourse { course, title }),
        1 => s().prop_map(|course| Op::DeleteCourse { course }),
        1 => (s(), sels(2), any::<bool>()).prop_map(|(course, batches, linked)| {
            Op::LinkCourse {
                course,
                batches,
                linked,
            }
        }),
        2 => (s(), sels(2)).prop_map(|(user, courses)| Op::AddUserCourses { user, courses }),
        1 => (s(), sels(2)).prop_map(|(user, courses)| Op::RemoveUserCourses { user, courses }),
        2 => (s(), s(), prop::bool::weighted(0.15)).prop_map(|(name, kind, required)| {
            Op::CreateField {
                name,
                kind,
                required,
            }
        }),
        1 => (
            s(),
            prop::option::of(s()),
            prop::option::of(s()),
            prop::option::weighted(0.3, prop::bool::weighted(0.2)),
        )
            .prop_map(|(field, name, kind, required)| Op::UpdateField {
                field,
                name,
                kind,
                required
            }),
        1 => s().prop_map(|field| Op::DeleteField { field }),
        2 => (0u8..=72).prop_map(|hours| Op::Advance { hours }),
        2 => Just(Op::Purge),
    ]
}

fn fail(context: &str, e: roster::Error) -> TestCaseError {
    TestCaseError::fail(format!("{context}: {e}"))
}

/// Every item of a paginated list, 100 at a time.
fn all_pages<T>(
    what: &str,
    mut fetch: impl FnMut(PageRequest) -> roster::Result<Page<T>>,
) -> Result<Vec<T>, TestCaseError> {
    let mut out = Vec::new();
    for n in 1.. {
        let page = fetch(PageRequest {
            page: n,
            per_page: Some(100),
        })
        .map_err(|e| fail(&format!("{what}, page {n}"), e))?;
        let more = page.has_next();
        out.extend(page.items);
        if !more {
            break;
        }
    }
    Ok(out)
}

/// An institute being driven, and every id its creates have returned.
struct World {
    inst: Institute,
    clock: Arc<FixedClock>,
    users: Vec<u64>,
    deleted: BTreeSet<u64>,
    batches: Vec<u64>,
    courses: Vec<u64>,
    fields: Vec<u64>,
}

impl World {
    /// A world that starts with two batches, a course and an optional
    /// number field, so that early creates have something to name.
    fn new() -> World {
        let (inst, clock) = institute(SEED_NOW);
        let mut world = World {
            inst,
            clock,
            users: Vec::new(),
            deleted: BTreeSet::new(),
            batches: Vec::new(),
            courses: Vec::new(),
            fields: Vec::new(),
        };
        for op in [
            Op::CreateBatch { name: 0 },
            Op::CreateBatch { name: 2 },
            Op::CreateCourse { title: 0 },
            Op::CreateField {
                name: 0,
                kind: 0,
                required: false,
            },
        ] {
            let failed = world.apply(&op).expect("seed operation");
            assert!(!failed, "seed operation {op:?} failed");
        }
        world
    }

    /// `yyyy-mm-dd` from today to five days ahead most of the time, else
    /// yesterday or a bad date.
    fn expires(&self, sel: u8) -> String {
        let today = self.inst.operator().today();
        let date = |days: i64| {
            (today + Duration::days(days))
                .format("%Y-%m-%d")
                .to_string()
        };
        match sel % 16 {
            0 => "2023-02-30".into(),
            1 => "tomorrow".into(),
            2 => date(-1),
            n => date(i64::from((n - 3) % 6)),
        }
    }

    /// The current ordinary batch names (read from the store, so that
    /// creates name existing batches most of the time).
    fn batch_names(&self) -> Vec<String> {
        let page = PageRequest {
            page: 1,
            per_page: Some(100),
        };
        let batches = self.inst.operator().list_batches(None, page);
        batches
            .map(|p| p.items.into_iter().map(|b| b.name).collect())
            .unwrap_or_default()
    }

    /// The current custom field definitions.
    fn field_defs(&self) -> Vec<CustomFieldView> {
        let page = PageRequest {
            page: 1,
            per_page: Some(100),
        };
        let fields = self.inst.operator().list_custom_fields(page);
        fields.map(|p| p.items).unwrap_or_default()
    }

    /// Batch names for a create: existing ones (in any case) most of the
    /// time, else one that does not exist.
    fn names_of_batches(&self, sels: &[u8]) -> Vec<String> {
        let names = self.batch_names();
        sels.iter()
            .map(|&s| match names.is_empty() || s % 8 == 0 {
                true => UNKNOWN_BATCH.to_string(),
                false if s % 3 == 0 => names[s as usize % names.len()].to_uppercase(),
                false => names[s as usize % names.len()].clone(),
            })
            .collect()
    }

    /// Custom values for a create: every required field and some others.
    fn create_custom(&self, sel: Option<u8>) -> Vec<(String, CustomInput)> {
        let Some(sel) = sel else {
            return Vec::new();
        };
        self.field_defs()
            .iter()
            .enumerate()
            .filter(|(i, f)| f.required || (sel >> (i % 8)) & 1 == 1)
            .map(|(i, f)| {
                let name = match sel % 5 {
                    0 => format!(" {} ", f.name.to_lowercase()),
                    _ => f.name.clone(),
                };
                (name, custom_value(f.kind, sel.wrapping_add(i as u8 * 37)))
            })
            .collect()
    }

    /// One custom value for an update: of a defined field most of the time.
    fn update_custom(&self, c: Option<(u8, u8)>) -> Vec<(String, CustomInput)> {
        let Some((name, value)) = c else {
            return Vec::new();
        };
        let defs = self.field_defs();
        if defs.is_empty() || name % 6 == 0 {
            let name = pool(FIELD_NAMES, name / 6).to_string();
            return vec![(name, custom_value(FieldKind::Text, value))];
        }
        let field = &defs[name as usize % defs.len()];
        vec![(field.name.clone(), custom_value(field.kind, value))]
    }

    fn ids(known: &[u64], sels: &[u8]) -> Vec<u64> {
        sels.iter().map(|&s| pick(known, s)).collect()
    }

    /// Applies `op`, recording the ids it creates; returns whether it
    /// failed. A create that succeeds must return an id never seen before.
    fn apply(&mut self, op: &Op) -> Result<bool, TestCaseError> {
        let admin = self.inst.operator();
        let result: roster::Result<()> = match op.clone() {
            Op::CreateUser {
                username,
                password: password_sel,
                generate,
                email,
                phone,
                batches,
                expires,
                custom,
            } => {
                let batches = self.names_of_batches(&batches);
                let expires = expires
                    .filter(|e| !batches.is_empty() || e % 5 == 0)
                    .map(|e| self.expires(e));
                let input = NewUser {
                    username: Some(pool(USERNAMES, username).to_string()),
                    password: match generate {
                        true => None,
                        false => password(password_sel),
                    },
                    profile: ProfileInput {
                        email: email.map(|e| pool(EMAILS, e).to_string()),
                        phone: phone.map(|p| pool(PHONES, p).to_string()),
                        custom_fields: self.create_custom(custom),
                        ..ProfileInput::default()
                    },
                    batches,
                    expires,
                    ..NewUser::default()
                };
                let options = CreateOptions {
                    auto_generate_password: generate,
                    notify_credential: false,
                    ..Default::default()
                };
                admin.create_user(input, options).map(|created| {
                    let id = created.user.id;
                    assert!(
                        !self.users.contains(&id),
                        "create returned user id {id} again (ids so far {:?})",
                        self.users
                    );
                    assert_eq!(
                        created.generated_password.is_some(),
                        generate,
                        "a password is returned exactly when one is generated"
                    );
                    self.users.push(id);
                })
            }
            Op::UpdateUser {
                user,
                username,
                email,
                phone,
                custom,
            } => {
                let patch = UserPatch {
                    username: username.map(|u| pool(USERNAMES, u).to_string()),
                    profile: ProfileInput {
                        email: email.map(|e| pool(EMAILS, e).to_string()),
                        phone: phone.map(|p| pool(PHONES, p).to_string()),
                        custom_fields: self.update_custom(custom),
                        ..ProfileInput::default()
                    },
                    ..UserPatch::default()
                };
                admin.update_user(pick(&self.users, user), patch).map(drop)
            }
            Op::DeleteUser { user } => {
                let id = pick(&self.users, user);
                admin.delete_user(id).map(|()| {
                    self.deleted.insert(id);
                })
            }
            Op::CreateBatch { name } => admin
                .create_batch(BatchInput {
                    name: Some(pool(BATCH_NAMES, name).to_string()),
                })
                .map(|b| {
                    assert!(!self.batches.contains(&b.id), "batch id {} reused", b.id);
                    self.batches.push(b.id);
                }),
            Op::RenameBatch { batch, name } => admin
                .update_batch(
                    pick(&self.batches, batch),
                    BatchInput {
                        name: Some(pool(BATCH_NAMES, name).to_string()),
                    },
                )
                .map(drop),
            Op::DeleteBatch { batch } => admin.delete_batch(pick(&self.batches, batch)),
            Op::AddUserBatches { user, batches } => admin
                .add_user_batches(pick(&self.users, user), &Self::ids(&self.batches, &batches))
                .map(drop),
            Op::RemoveUserBatches { user, batches } => admin
                .remove_user_batches(pick(&self.users, user), &Self::ids(&self.batches, &batches)),
            Op::AddSubscriptions {
                user,
                batches,
                expires,
            } => {
                let expires = expires.map(|e| self.expires(e));
                admin
                    .add_user_subscriptions(
                        pick(&self.users, user),
                        &Self::ids(&self.batches, &batches),
                        expires.as_deref(),
                    )
                    .map(drop)
            }
            Op::CreateCourse { title } => admin
                .create_course(CourseInput {
                    title: Some(pool(COURSE_TITLES, title).to_string()),
                    ..CourseInput::default()
                })
                .map(|c| {
                    assert!(!self.courses.contains(&c.id), "course id {} reused", c.id);
                    self.courses.push(c.id);
                }),
            Op::RenameCourse { course, title } => admin
                .update_course(
                    pick(&self.courses, course),
                    CourseInput {
                        title: Some(pool(COURSE_TITLES, title).to_string()),
                        ..CourseInput::default()
                    },
                )
                .map(drop),
            Op::DeleteCourse { course } => admin.delete_course(pick(&self.courses, course)),
            Op::LinkCourse {
                course,
                batches,
                linked,
            } => {
                let (course, batches) = (
                    pick(&self.courses, course),
                    Self::ids(&self.batches, &batches),
                );
                match linked {
                    true => admin.add_course_batches(course, &batches).map(drop),
                    false => admin.remove_course_batches(course, &batches),
                }
            }
            Op::AddUserCourses { user, courses } => admin
                .add_user_courses(pick(&self.users, user), &Self::ids(&self.courses, &courses))
                .map(drop),
            Op::RemoveUserCourses { user, courses } => admin
                .remove_user_courses(pick(&self.users, user), &Self::ids(&self.courses, &courses)),
            Op::CreateField {
                name,
                kind,
                required,
            } => {
                let (kind, choices) = pool(FIELD_KINDS, kind);
                admin
                    .create_custom_field(CustomFieldInput {
                        name: Some(pool(FIELD_NAMES, name).to_string()),
                        kind: Some(kind.to_string()),
                        choices: (!choices.is_empty())
                            .then(|| choices.iter().map(|c| c.to_string()).collect()),
                        required: Some(required),
                    })
                    .map(|f| {
                        assert!(!self.fields.contains(&f.id), "field id {} reused", f.id);
                        self.fields.push(f.id);
                    })
            }
            Op::UpdateField {
                field,
                name,
                kind,
                required,
            } => {
                let kind = kind.map(|k| pool(FIELD_KINDS, k));
                admin
                    .update_custom_field(
                        pick(&self.fields, field),
                        CustomFieldInput {
                            name: name.map(|n| pool(FIELD_NAMES, n).to_string()),
                            kind: kind.map(|(k, _)| k.to_string()),
                            choices: kind.map(|(_, c)| c.iter().map(|c| c.to_string()).collect()),
                            required,
                        },
                    )
                    .map(drop)
            }
            Op::DeleteField { field } => admin.delete_custom_field(pick(&self.fields, field)),
            Op::Advance { hours } => {
                self.clock.advance(Duration::hours(i64::from(hours)));
                Ok(())
            }
            Op::Purge => admin.purge_expired().map(drop),
        };
        Ok(result.is_err())
    }

    /// The invariants that hold after every operation.
    fn check(&self, op: &Op) -> Result<(), TestCaseError> {
        let problems = self
            .inst
            .check_integrity()
            .map_err(|e| fail("integrity check", e))?;
        prop_assert!(
            problems.is_empty(),
            "integrity after {:?}: {:?}",
            op,
            problems
        );
        let admin = self.inst.operator();
        let today = admin.today();
        let users = all_pages("users", |page| {
            admin.list_users(&UserQuery {
                page,
                with_batches: true,
                ..UserQuery::default()
            })
        })?;
        let (mut names, mut emails, mut phones) =
            (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
        let mut last_id = 0;
        for u in &users {
            prop_assert!(u.id > last_id, "users not listed by id after {:?}", op);
            last_id = u.id;
            if let Some(other) = names.insert(u.username.to_lowercase(), u.id) {
                prop_assert!(
                    false,
                    "users {} and {} share username {:?} after {:?}",
                    other,
                    u.id,
                    u.username,
                    op
                );
            }
            if !u.email.is_empty()
                && let Some(other) = emails.insert(u.email.to_lowercase(), u.id)
            {
                prop_assert!(
                    false,
                    "users {} and {} share email {:?} after {:?}",
                    other,
                    u.id,
                    u.email,
                    op
                );
            }
            if !u.phone.is_empty()
                && let Some(other) = phones.insert(u.phone.clone(), u.id)
            {
                prop_assert!(
                    false,
                    "users {} and {} share phone {:?} after {:?}",
                    other,
                    u.id,
                    u.phone,
                    op
                );
            }
            let batches = all_pages("user batches", |page| admin.user_batches(u.id, page))?;
            let subs = all_pages("user subscriptions", |page| {
                admin.user_subscriptions(u.id, page)
            })?;
            for s in &subs {
                prop_assert!(
                    s.expires.is_none_or(|e| e >= today),
                    "user {} shows subscription {} that expired on {:?} (today {}) after {:?}",
                    u.id,
                    s.id,
                    s.expires,
                    today,
                    op
                );
            }
            let listed: BTreeSet<u64> = batches.iter().map(|b| b.id).collect();
            let subscribed: BTreeSet<u64> = subs
                .iter()
                .filter(|s| !s.batch.is_local)
                .map(|s| s.batch.id)
                .collect();
            prop_assert_eq!(
                &listed,
                &subscribed,
                "user {}'s batches and live subscriptions disagree after {:?}",
                u.id,
                op
            );
            let embedded: BTreeSet<u64> = u
                .batches
                .as_deref()
                .unwrap_or_default()
                .iter()
                .map(|b| b.id)
                .collect();
            prop_assert_eq!(
                &listed,
                &embedded,
                "user {}'s embedded batches disagree after {:?}",
                u.id,
                op
            );
        }
        let listed: BTreeSet<u64> = users.iter().map(|u| u.id).collect();
        let live: BTreeSet<u64> = self
            .users
            .iter()
            .filter(|id| !self.deleted.contains(id))
            .copied()
            .collect();
        prop_assert_eq!(
            listed,
            live,
            "listed users are not the created minus the deleted after {:?}",
            op
        );
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// After every operation: the store is sound, usernames, emails and
    /// phones are unique, no expired membership is visible, and no id is
    /// ever given twice.
    #[test]
    fn every_operation_keeps_the_store_sound(ops in vec(op(), 5..=40)) {
        let mut world = World::new();
        world.check(&Op::Purge)?;
        for op in &ops {
            world.apply(op)?;
            world.check(op)?;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// An operation that returns an error leaves everything the API shows
    /// exactly as it was.
    #[test]
    fn a_failed_operation_changes_nothing(ops in vec(op(), 1..=15)) {
        let mut world = World::new();
        let mut before = snapshot(&world.inst);
        for op in &ops {
            let failed = world.apply(op)?;
            let after = snapshot(&world.inst);
            if failed {
                prop_assert_eq!(&after, &before, "{:?} failed but changed the store", op);
            }
            before = after;
        }
    }
}
