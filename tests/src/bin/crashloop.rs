//! The crash loop (Step 5): kills a writer at random moments and checks that
//! the store survives every kill whole.
//!
//! `cargo run --release -p roster-tests --bin crashloop -- --iterations N [--seed S] [--db PATH]`
//!
//! The parent spawns itself as a child (`--child <db> --seed <s> --day <d>`)
//! that opens the file store and performs random operations in a loop. Before
//! an operation the child prints the state every entity it touches will have
//! afterwards (`pre <n> <entity>`); after the commit it prints
//! `done <n> <kind> <id>` (flushed). The parent kills the child with SIGKILL
//! after a random delay, reopens the file, runs `check_integrity`, and
//! compares the store with its model: the state after the previous kill plus
//! every operation reported done. The one operation in flight at the kill
//! must be wholly applied or wholly absent. The same file is kept across
//! iterations, so the store grows. The last line is
//! `N iterations, K corruptions`; the exit status is non-zero when K > 0.

use chrono::{Days, NaiveDate, TimeZone, Utc};
use roster::transfer::{ImportOptions, import};
use roster::{
    Argon2Params, BatchInput, Config, CourseInput, CreateOptions, CustomFieldInput, FixedClock,
    Institute, NewUser, ProfileInput, UserPatch,
};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

type Failure = Box<dyn std::error::Error>;

/// The first "today" of the children; iteration `i` runs on day `i / 4`.
fn day(d: u64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).expect("date") + Days::new(d)
}

/// SplitMix64: small, seedable, good enough to pick operations.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        roster_tests::splitmix64(&mut self.0)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> Option<T> {
        match items.is_empty() {
            true => None,
            false => Some(items[self.below(items.len() as u64) as usize].clone()),
        }
    }
}

/// Expiry by batch id.
type Memberships = BTreeMap<u64, Option<NaiveDate>>;

/// What the loop knows of a user. `id` 0: not known yet (compared loosely).
#[derive(Debug, Clone, PartialEq)]
struct UserState {
    id: u64,
    first: String,
    memberships: Memberships,
}

impl UserState {
    fn same(&self, other: &UserState) -> bool {
        (self.id == 0 || other.id == 0 || self.id == other.id)
            && self.first == other.first
            && self.memberships == other.memberships
    }
}

/// The part of a store the loop models. Entities are keyed by their unique
/// names, known before the create that gives them an id.
#[derive(Debug, Clone, Default)]
struct State {
    users: BTreeMap<String, UserState>,
    /// Ordinary batches: name to id.
    batches: BTreeMap<String, u64>,
    /// Courses: title to (id, hidden batch).
    courses: BTreeMap<String, (u64, u64)>,
    /// Custom fields: name to id.
    fields: BTreeMap<String, u64>,
    /// The batch counter (the child predicts a new course's hidden batch
    /// with it; not compared).
    next_batch: u64,
}

impl State {
    fn of(institute: &Institute) -> Result<State, Failure> {
        let dump = institute.operator().dump()?;
        let mut state = State::default();
        let mut by_id = BTreeMap::new();
        for u in &dump.users {
            by_id.insert(u.id, u.username.clone());
            state.users.insert(
                u.username.clone(),
                UserState {
                    id: u.id,
                    first: u.profile.first_name.clone(),
                    memberships: Memberships::new(),
                },
            );
        }
        for (user, batch, sub) in &dump.memberships {
            let name = by_id.get(user).ok_or("a membership of no user")?;
            let u = state.users.get_mut(name).ok_or("a membership of no user")?;
            u.memberships.insert(*batch, sub.expires);
        }
        for b in dump.batches.iter().filter(|b| b.course.is_none()) {
            state.batches.insert(b.name.clone(), b.id);
        }
        for c in &dump.courses {
            state.courses.insert(c.title.clone(), (c.id, c.local_batch));
        }
        for f in &dump.custom_fields {
            state.fields.insert(f.name.clone(), f.id);
        }
        state.next_batch = dump
            .counters
            .iter()
            .find(|(k, _)| k == "batch")
            .map_or(1, |(_, v)| *v);
        Ok(state)
    }

    fn apply(&mut self, e: &Entity) {
        match e {
            Entity::User(name, u) => {
                self.users.insert(name.clone(), u.clone());
            }
            Entity::NoUser(name) => {
                self.users.remove(name);
            }
            Entity::Batch(name, id) => {
                self.batches.insert(name.clone(), *id);
            }
            Entity::Course(title, id, local) => {
                self.courses.insert(title.clone(), (*id, *local));
            }
            Entity::Field(name, id) => {
                self.fields.insert(name.clone(), *id);
            }
            Entity::NoField(name) => {
                self.fields.remove(name);
            }
            Entity::Purge(today) => {
                for u in self.users.values_mut() {
                    u.memberships.retain(|_, e| e.is_none_or(|e| e >= *today));
                }
            }
        }
    }
}

/// The state of one entity after an operation, as the child announces it.
#[derive(Debug, Clone, PartialEq)]
enum Entity {
    User(String, UserState),
    NoUser(String),
    Batch(String, u64),
    Course(String, u64, u64),
    Field(String, u64),
    NoField(String),
    /// Every membership expired before this day is gone.
    Purge(NaiveDate),
}

fn fmt_date(d: Option<NaiveDate>) -> String {
    d.map_or("none".into(), |d| d.to_string())
}

fn parse_date(s: &str) -> Result<Option<NaiveDate>, Failure> {
    Ok(match s {
        "none" => None,
        d => Some(d.parse()?),
    })
}

impl Entity {
    fn line(&self) -> String {
        match self {
            Entity::User(name, u) => {
                let m: Vec<String> = u
                    .memberships
                    .iter()
                    .map(|(b, e)| format!("{b}:{}", fmt_date(*e)))
                    .collect();
                let m = if m.is_empty() {
                    "-".into()
                } else {
                    m.join(",")
                };
                format!("user {name} {} {} {m}", u.id, u.first)
            }
            Entity::NoUser(name) => format!("nouser {name}"),
            Entity::Batch(name, id) => format!("batch {name} {id}"),
            Entity::Course(title, id, local) => format!("course {title} {id} {local}"),
            Entity::Field(name, id) => format!("field {name} {id}"),
            Entity::NoField(name) => format!("nofield {name}"),
            Entity::Purge(today) => format!("purge {today}"),
        }
    }

    fn parse(words: &[&str]) -> Result<Entity, Failure> {
        let word = |i: usize| words.get(i).copied().ok_or("short entity line");
        let num = |i: usize| -> Result<u64, Failure> { Ok(word(i)?.parse()?) };
        Ok(match word(0)? {
            "user" => {
                let mut memberships = Memberships::new();
                if word(4)? != "-" {
                    for m in word(4)?.split(',') {
                        let (b, e) = m.split_once(':').ok_or("bad membership")?;
                        memberships.insert(b.parse()?, parse_date(e)?);
                    }
                }
                Entity::User(
                    word(1)?.into(),
                    UserState {
                        id: num(2)?,
                        first: word(3)?.into(),
                        memberships,
                    },
                )
            }
            "nouser" => Entity::NoUser(word(1)?.into()),
            "batch" => Entity::Batch(word(1)?.into(), num(2)?),
            "course" => Entity::Course(word(1)?.into(), num(2)?, num(3)?),
            "field" => Entity::Field(word(1)?.into(), num(2)?),
            "nofield" => Entity::NoField(word(1)?.into()),
            "purge" => Entity::Purge(word(1)?.parse()?),
            other => return Err(format!("unknown entity {other}").into()),
        })
    }
}

fn config(today: NaiveDate) -> Config {
    let noon = Utc.from_utc_datetime(&today.and_hms_opt(12, 0, 0).expect("noon"));
    let mut config = Config::default().with_clock(Arc::new(FixedClock::new(noon)));
    config.argon2 = Argon2Params::insecure_fast();
    config
}

// ---------------------------------------------------------------- the child

fn out(line: &str) {
    let mut stdout = std::io::stdout().lock();
    // The parent may have gone: then there is nobody to tell.
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

/// One random operation: the entities it will leave, and how to run it
/// (returning the id the `done` line reports).
type Op = (
    &'static str,
    Vec<Entity>,
    Box<dyn FnOnce(&roster::Admin) -> Result<u64, Failure>>,
);

fn child(db: &Path, seed: u64, d: u64) -> Result<(), Failure> {
    let today = day(d);
    let institute = Institute::open(db, config(today))?;
    let admin = institute.operator();
    let mut state = State::of(&institute)?;
    let mut rng = Rng(seed);
    for n in 0u64.. {
        let Some((kind, entities, run)) = choose(&mut rng, &state, seed, n, today) else {
            continue;
        };
        for e in &entities {
            out(&format!("pre {n} {}", e.line()));
        }
        match run(&admin) {
            Ok(id) => {
                out(&format!("done {n} {kind} {id}"));
                for e in &entities {
                    state.apply(e);
                }
                learn_ids(&admin, &mut state, &entities, id)?;
            }
            Err(e) => out(&format!(
                "fail {n} {kind} {}",
                e.to_string().replace('\n', " ")
            )),
        }
    }
    Ok(())
}

/// Fills in the ids a create has just given (the `pre` lines had 0).
fn learn_ids(
    admin: &roster::Admin,
    state: &mut State,
    entities: &[Entity],
    id: u64,
) -> Result<(), Failure> {
    for e in entities {
        match e {
            Entity::User(name, u) if u.id == 0 => {
                let id = admin.find_user(name)?;
                if let Some(u) = state.users.get_mut(name) {
                    u.id = id;
                }
            }
            Entity::Batch(name, 0) => {
                state.batches.insert(name.clone(), id);
                state.next_batch = id + 1;
            }
            Entity::Field(name, 0) => {
                state.fields.insert(name.clone(), id);
            }
            Entity::Course(title, 0, 0) => {
                // The hidden batch takes the next batch id; the parent checks
                // the guess on its next comparison.
                state.courses.insert(title.clone(), (id, state.next_batch));
                state.next_batch += 1;
            }
            _ => {}
        }
    }
    Ok(())
}

/// A membership granted keeping the old expiry (adding batches or courses).
fn keep(m: &mut Memberships, batch: u64, today: NaiveDate) {
    match m.get(&batch) {
        Some(e) if e.is_none_or(|e| e >= today) => {}
        _ => {
            m.insert(batch, None);
        }
    }
}

fn choose(rng: &mut Rng, state: &State, seed: u64, n: u64, today: NaiveDate) -> Option<Op> {
    let users: Vec<(String, UserState)> = state
        .users
        .iter()
        .filter(|(name, _)| name.starts_with('u') || name.starts_with('i'))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let batches: Vec<(String, u64)> = state.batches.iter().map(|(k, v)| (k.clone(), *v)).collect();
    let tag = format!("{seed:x}_{n}");
    // An expiry needs batches to apply to.
    let expiry = |rng: &mut Rng, chosen: &[(String, u64)]| match rng.below(3) {
        0 => None,
        _ if chosen.is_empty() => None,
        _ => Some(today + Days::new(rng.below(15))),
    };
    let some_batches = |rng: &mut Rng, k: u64| -> Vec<(String, u64)> {
        let mut chosen = BTreeMap::new();
        for _ in 0..rng.below(k + 1) {
            if let Some((name, id)) = rng.pick(&batches) {
                chosen.insert(id, name);
            }
        }
        chosen.into_iter().map(|(id, name)| (name, id)).collect()
    };
    let op: Op = match rng.below(100) {
        0..5 => {
            let name = format!("b{tag}");
            (
                "create_batch",
                vec![Entity::Batch(name.clone(), 0)],
                Box::new(move |a| {
                    let input = BatchInput { name: Some(name) };
                    Ok(a.create_batch(input)?.id)
                }),
            )
        }
        5..30 => {
            let name = format!("u{tag}");
            let chosen = some_batches(rng, 3);
            let expires = expiry(rng, &chosen);
            let first = format!("c{n}");
            let memberships = chosen.iter().map(|(_, id)| (*id, expires)).collect();
            let user = UserState {
                id: 0,
                first: first.clone(),
                memberships,
            };
            (
                "create",
                vec![Entity::User(name.clone(), user)],
                Box::new(move |a| {
                    let input = NewUser {
                        username: Some(name),
                        password: Some(format!("pw-{n}-secret")),
                        profile: ProfileInput {
                            first_name: Some(first),
                            ..ProfileInput::default()
                        },
                        batches: chosen.into_iter().map(|(name, _)| name).collect(),
                        expires: expires.map(|e| e.to_string()),
                        ..NewUser::default()
                    };
                    Ok(a.create_user(input, CreateOptions::default())?.user.id)
                }),
            )
        }
        30..42 => {
            let (name, mut u) = rng.pick(&users)?;
            u.first = format!("p{n}");
            let (id, first) = (u.id, u.first.clone());
            (
                "update",
                vec![Entity::User(name, u)],
                Box::new(move |a| {
                    let patch = UserPatch {
                        profile: ProfileInput {
                            first_name: Some(first),
                            ..ProfileInput::default()
                        },
                        ..UserPatch::default()
                    };
                    Ok(a.update_user(id, patch)?.id)
                }),
            )
        }
        42..50 => {
            let (name, u) = rng.pick(&users)?;
            let id = u.id;
            (
                "delete",
                vec![Entity::NoUser(name)],
                Box::new(move |a| {
                    a.delete_user(id)?;
                    Ok(id)
                }),
            )
        }
        50..60 => {
            let (name, mut u) = rng.pick(&users)?;
            let chosen: Vec<u64> = some_batches(rng, 3).into_iter().map(|b| b.1).collect();
            for b in &chosen {
                keep(&mut u.memberships, *b, today);
            }
            let id = u.id;
            (
                "add_batches",
                vec![Entity::User(name, u)],
                Box::new(move |a| {
                    a.add_user_batches(id, &chosen)?;
                    Ok(id)
                }),
            )
        }
        60..67 => {
            let (name, mut u) = rng.pick(&users)?;
            let ordinary: BTreeSet<u64> = state.batches.values().copied().collect();
            let mine: Vec<u64> = u
                .memberships
                .keys()
                .copied()
                .filter(|b| ordinary.contains(b))
                .collect();
            let chosen: Vec<u64> = mine.into_iter().filter(|_| rng.below(2) == 0).collect();
            for b in &chosen {
                u.memberships.remove(b);
            }
            let id = u.id;
            (
                "remove_batches",
                vec![Entity::User(name, u)],
                Box::new(move |a| {
                    a.remove_user_batches(id, &chosen)?;
                    Ok(id)
                }),
            )
        }
        67..77 => {
            let (name, mut u) = rng.pick(&users)?;
            let chosen = some_batches(rng, 3);
            let expires = expiry(rng, &chosen);
            let chosen: Vec<u64> = chosen.into_iter().map(|b| b.1).collect();
            for b in &chosen {
                u.memberships.insert(*b, expires);
            }
            let id = u.id;
            (
                "subscriptions",
                vec![Entity::User(name, u)],
                Box::new(move |a| {
                    let e = expires.map(|e| e.to_string());
                    a.add_user_subscriptions(id, &chosen, e.as_deref())?;
                    Ok(id)
                }),
            )
        }
        77..80 => {
            let title = format!("k{tag}");
            (
                "create_course",
                vec![Entity::Course(title.clone(), 0, 0)],
                Box::new(move |a| {
                    let input = CourseInput {
                        title: Some(title),
                        ..CourseInput::default()
                    };
                    Ok(a.create_course(input)?.id)
                }),
            )
        }
        80..86 => {
            let (name, mut u) = rng.pick(&users)?;
            let courses: Vec<(u64, u64)> = state.courses.values().copied().collect();
            let (course, local) = rng.pick(&courses)?;
            keep(&mut u.memberships, local, today);
            let id = u.id;
            (
                "grant_course",
                vec![Entity::User(name, u)],
                Box::new(move |a| {
                    a.add_user_courses(id, &[course])?;
                    Ok(id)
                }),
            )
        }
        86..89 => {
            let name = format!("f{tag}");
            (
                "create_field",
                vec![Entity::Field(name.clone(), 0)],
                Box::new(move |a| {
                    let input = CustomFieldInput {
                        name: Some(name),
                        kind: Some("text".into()),
                        ..CustomFieldInput::default()
                    };
                    Ok(a.create_custom_field(input)?.id)
                }),
            )
        }
        89..91 => {
            let fields: Vec<(String, u64)> =
                state.fields.iter().map(|(k, v)| (k.clone(), *v)).collect();
            let (name, id) = rng.pick(&fields)?;
            (
                "delete_field",
                vec![Entity::NoField(name)],
                Box::new(move |a| {
                    a.delete_custom_field(id)?;
                    Ok(id)
                }),
            )
        }
        91..98 => {
            let rows = 1 + rng.below(5);
            let mut text = String::new();
            let mut entities = Vec::new();
            for k in 0..rows {
                let name = format!("i{tag}_{k}");
                let chosen = some_batches(rng, 2);
                let expires = expiry(rng, &chosen);
                let mut row = serde_json::json!({
                    "username": name,
                    "password": format!("pw-{n}-{k}-secret"),
                    "first_name": format!("m{n}"),
                    "batches": chosen.iter().map(|b| b.0.clone()).collect::<Vec<_>>(),
                });
                if let Some(e) = expires {
                    row["expires"] = e.to_string().into();
                }
                text.push_str(&row.to_string());
                text.push('\n');
                let memberships = chosen.iter().map(|(_, id)| (*id, expires)).collect();
                let user = UserState {
                    id: 0,
                    first: format!("m{n}"),
                    memberships,
                };
                entities.push(Entity::User(name, user));
            }
            (
                "import",
                entities,
                Box::new(move |a| {
                    let options = ImportOptions {
                        chunk_size: 1000,
                        ..ImportOptions::default()
                    };
                    let report = import(a, text.as_bytes(), &options, &mut |_| {})?;
                    match report.created == rows && report.rejected.is_empty() {
                        true => Ok(rows),
                        false => Err(format!("import refused rows: {:?}", report.rejected).into()),
                    }
                }),
            )
        }
        _ => (
            "purge",
            vec![Entity::Purge(today)],
            Box::new(|a| Ok(a.purge_expired()?)),
        ),
    };
    Some(op)
}

// --------------------------------------------------------------- the parent

/// What one child said, by operation number.
#[derive(Default)]
struct Report {
    pre: BTreeMap<u64, Vec<Entity>>,
    done: BTreeSet<u64>,
    failed: BTreeMap<u64, String>,
}

fn parse_report(lines: &[String]) -> Result<Report, Failure> {
    let mut report = Report::default();
    for line in lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        let n: u64 = match words.get(1) {
            Some(n) => n.parse()?,
            None => continue,
        };
        match words[0] {
            "pre" => report
                .pre
                .entry(n)
                .or_default()
                .push(Entity::parse(&words[2..])?),
            "done" => {
                report.done.insert(n);
            }
            "fail" => {
                report.failed.insert(n, words[2..].join(" "));
            }
            _ => return Err(format!("unexpected line from the child: {line}").into()),
        }
    }
    Ok(report)
}

/// Compares the model with the store, skipping the keys `skip` (those of the
/// operation in flight); returns the differences.
fn compare(model: &State, actual: &State, skip: &BTreeSet<String>, problems: &mut Vec<String>) {
    let keys: BTreeSet<&String> = model.users.keys().chain(actual.users.keys()).collect();
    for k in keys {
        if skip.contains(&format!("user {k}")) {
            continue;
        }
        match (model.users.get(k), actual.users.get(k)) {
            (Some(m), Some(a)) if m.same(a) => {}
            (m, a) => problems.push(format!("user {k}: expected {m:?}, found {a:?}")),
        }
    }
    fn plain<V: PartialEq + std::fmt::Debug>(
        what: &str,
        model: &BTreeMap<String, V>,
        actual: &BTreeMap<String, V>,
        loose: impl Fn(&V, &V) -> bool,
        skip: &BTreeSet<String>,
        problems: &mut Vec<String>,
    ) {
        let keys: BTreeSet<&String> = model.keys().chain(actual.keys()).collect();
        for k in keys {
            if skip.contains(&format!("{what} {k}")) {
                continue;
            }
            match (model.get(k), actual.get(k)) {
                (Some(m), Some(a)) if loose(m, a) => {}
                (m, a) => problems.push(format!("{what} {k}: expected {m:?}, found {a:?}")),
            }
        }
    }
    let id = |m: &u64, a: &u64| *m == 0 || m == a;
    plain("batch", &model.batches, &actual.batches, id, skip, problems);
    plain("field", &model.fields, &actual.fields, id, skip, problems);
    let course = |m: &(u64, u64), a: &(u64, u64)| m.0 == 0 || m == a;
    plain(
        "course",
        &model.courses,
        &actual.courses,
        course,
        skip,
        problems,
    );
}

/// The key an entity line is about.
fn key(e: &Entity) -> Option<String> {
    match e {
        Entity::User(n, _) | Entity::NoUser(n) => Some(format!("user {n}")),
        Entity::Batch(n, _) => Some(format!("batch {n}")),
        Entity::Course(n, _, _) => Some(format!("course {n}")),
        Entity::Field(n, _) | Entity::NoField(n) => Some(format!("field {n}")),
        Entity::Purge(_) => None,
    }
}

/// Whether `actual` shows `e` applied (`Some(true)`), not applied
/// (`Some(false)`, equal to `before`), or neither (`None`: half-applied).
fn applied(e: &Entity, before: &State, actual: &State) -> Option<bool> {
    let mut after = before.clone();
    after.apply(e);
    let mut none = BTreeSet::new();
    let mut problems_after = Vec::new();
    let mut problems_before = Vec::new();
    if let Entity::Purge(_) = e {
        // A purge touches many users: all of them are purged or none.
        compare(&after, actual, &none, &mut problems_after);
        compare(before, actual, &none, &mut problems_before);
    } else {
        // Only the entity itself (the rest is compared elsewhere).
        let k = key(e).expect("keyed");
        let (b, a, x) = (only(before, &k), only(&after, &k), only(actual, &k));
        none.clear();
        compare(&a, &x, &none, &mut problems_after);
        compare(&b, &x, &none, &mut problems_before);
    }
    match (problems_after.is_empty(), problems_before.is_empty()) {
        (true, _) => Some(true),
        (false, true) => Some(false),
        _ => None,
    }
}

/// The part of `state` that is the entity `k`.
fn only(state: &State, k: &str) -> State {
    let (what, name) = k.split_once(' ').expect("key");
    let mut out = State::default();
    match what {
        "user" => out.users.extend(state.users.get_key_value(name).map(cl)),
        "batch" => out
            .batches
            .extend(state.batches.get_key_value(name).map(cl)),
        "course" => out
            .courses
            .extend(state.courses.get_key_value(name).map(cl)),
        _ => out.fields.extend(state.fields.get_key_value(name).map(cl)),
    }
    out
}

fn cl<V: Clone>((k, v): (&String, &V)) -> (String, V) {
    (k.clone(), v.clone())
}

/// Checks the store after a kill against `model`; returns the problems and
/// the store's state (the next model).
fn check(
    db: &Path,
    today: NaiveDate,
    model: &mut State,
    report: &Report,
) -> Result<(Vec<String>, Option<State>), Failure> {
    let mut problems = Vec::new();
    let institute = match Institute::open(db, config(today)) {
        Ok(i) => i,
        Err(e) => return Ok((vec![format!("the store does not open: {e}")], None)),
    };
    problems.extend(institute.check_integrity()?);
    let actual = State::of(&institute)?;
    let mut skip = BTreeSet::new();
    for (n, entities) in &report.pre {
        if report.done.contains(n) {
            for e in entities {
                model.apply(e);
            }
        } else if !report.failed.contains_key(n) {
            // In flight at the kill: all applied or none.
            let verdicts: Vec<Option<bool>> = entities
                .iter()
                .map(|e| applied(e, model, &actual))
                .collect();
            let all = verdicts.iter().all(|v| *v == Some(true));
            let nothing = verdicts.iter().all(|v| *v == Some(false));
            IN_FLIGHT[usize::from(all)].fetch_add(1, Ordering::Relaxed);
            if !all && !nothing {
                let lines: Vec<String> = entities.iter().map(Entity::line).collect();
                problems.push(format!(
                    "operation {n} in flight is half-applied ({verdicts:?}): {lines:?}"
                ));
            }
            for e in entities {
                match key(e) {
                    Some(k) => {
                        skip.insert(k);
                    }
                    None => {
                        // A purge in flight: compare users modulo the purge.
                        let mut purged = actual.clone();
                        purged.apply(e);
                        model.apply(e);
                        compare(model, &purged, &skip, &mut problems);
                        return Ok((problems, Some(actual)));
                    }
                }
            }
        }
    }
    compare(model, &actual, &skip, &mut problems);
    Ok((problems, Some(actual)))
}

/// Operations in flight at a kill found absent (0) and applied (1).
static IN_FLIGHT: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

fn parent(iterations: u64, seed: u64, db: Option<PathBuf>) -> Result<u64, Failure> {
    let dir = tempfile::tempdir()?;
    let db = db.unwrap_or_else(|| dir.path().join("crashloop.redb"));
    let exe = std::env::current_exe()?;
    let mut rng = Rng(seed);
    let mut model = match db.exists() {
        true => State::of(&Institute::open(&db, config(day(0)))?)?,
        false => State::default(),
    };
    let (mut corruptions, mut done_ops, mut failed_ops) = (0u64, 0u64, 0u64);
    let started = Instant::now();
    println!("crash loop: seed {seed}, store {}", db.display());
    for i in 0..iterations {
        let child_seed = rng.next_u64();
        let d = i / 4;
        let delay = Duration::from_millis(5 + rng.below(196));
        let mut child = Command::new(&exe)
            .args(["--child", &db.display().to_string()])
            .args(["--seed", &child_seed.to_string(), "--day", &d.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let reader = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = std::io::Read::read_to_end(&mut BufReader::new(stdout), &mut bytes);
            bytes
        });
        std::thread::sleep(delay);
        let early = child.try_wait()?;
        child.kill()?;
        let output = child.wait_with_output()?;
        let bytes = reader.join().map_err(|_| "the reader thread panicked")?;
        let text = String::from_utf8_lossy(&bytes);
        // A line cut by the kill (no newline yet) is not a report.
        let whole = text.rfind('\n').map_or("", |end| &text[..end]);
        let lines: Vec<String> = whole.lines().map(str::to_string).collect();
        let report = parse_report(&lines)?;
        done_ops += report.done.len() as u64;
        failed_ops += report.failed.len() as u64;
        let mut problems = Vec::new();
        if let Some(status) = early {
            problems.push(format!(
                "the child exited before the kill ({status}): {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        for (n, why) in &report.failed {
            // Not a store problem, but the model and the store disagree.
            println!("iteration {i}: operation {n} was refused: {why}");
        }
        let (found, actual) = check(&db, day(d), &mut model, &report)?;
        problems.extend(found);
        if !problems.is_empty() {
            corruptions += 1;
            let keep = std::env::temp_dir().join(format!("crashloop-{seed}-{i}.redb"));
            let _ = std::fs::copy(&db, &keep);
            println!(
                "iteration {i} (child seed {child_seed}, day {d}, {} ops done): {} problems; store kept at {}",
                report.done.len(),
                problems.len(),
                keep.display()
            );
            for p in problems.iter().take(20) {
                println!("  {p}");
            }
        }
        match actual {
            Some(actual) => model = actual,
            None => break,
        }
        if (i + 1) % 50 == 0 {
            println!(
                "{} iterations, {done_ops} operations done, {} users, {:.1} s",
                i + 1,
                model.users.len(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    println!(
        "operations done: {done_ops}, refused: {failed_ops}; in flight at the kill: {} absent, {} applied; users: {}, batches: {}, {:.1} s",
        IN_FLIGHT[0].load(Ordering::Relaxed),
        IN_FLIGHT[1].load(Ordering::Relaxed),
        model.users.len(),
        model.batches.len(),
        started.elapsed().as_secs_f64()
    );
    println!("{iterations} iterations, {corruptions} corruptions");
    Ok(corruptions)
}

fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut iterations = 200;
    let mut seed = None;
    let mut child_db = None;
    let mut db = None;
    let mut d = 0;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--iterations" => iterations = value()?.parse()?,
            "--seed" => seed = Some(value()?.parse()?),
            "--child" => child_db = Some(PathBuf::from(value()?)),
            "--db" => db = Some(PathBuf::from(value()?)),
            "--day" => d = value()?.parse()?,
            other => {
                return Err(format!(
                    "unknown argument {other}; usage: crashloop --iterations N [--seed S] [--db PATH]"
                )
                .into());
            }
        }
    }
    if let Some(db) = child_db {
        return child(&db, seed.unwrap_or(0), d);
    }
    let seed = seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |t| t.as_nanos() as u64)
    });
    let corruptions = parent(iterations, seed, db)?;
    if corruptions > 0 {
        std::process::exit(1);
    }
    Ok(())
}
