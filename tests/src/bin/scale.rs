//! The scale harness: builds an institute of N realistic users in roster
//! and, in the same run, in SQLite, times the same operations on both
//! (roster's and SQLite's samples taken in turns, so that a load change on
//! the shared machine weighs on both alike) and prints one table: each
//! figure, the ratio SQLite cost / roster cost (for rates roster/SQLite, so
//! that above 1 always means roster is ahead) and the ratio's bar (issue 10).
//!
//! `cargo run --release -p roster-tests --bin scale -- --users N`
//!
//! With `--backend postgres --db postgres://…` (module `postgres`): roster
//! on PostgreSQL beside hand-written SQL on the same server (ratio = native
//! SQL cost / roster cost), then the write throughput of two processes on
//! one institute over one process's (Step 9).
//!
//! With `--chart DIR` (module `chart`): the run's ratios are kept in DIR
//! beside those of other runs (other sizes, the other backend), and
//! `DIR/scale.svg` draws them all; `benchmarks/` holds the chart
//! BENCHMARKS.md shows.
//!
//! Only roster's public API is used: the harness times what a host sees,
//! whatever store is underneath.

#[path = "scale/chart.rs"]
mod chart;
#[path = "scale/data.rs"]
mod data;
#[path = "scale/postgres.rs"]
mod postgres;
#[path = "scale/sqlite.rs"]
mod sqlite;

use chrono::{TimeZone, Utc};
use roster::domain::sunbird::{
    CreateRoute, Filter, FilterGroup, Filters, SearchRequest, SunbirdInput,
};
use roster::{
    BatchInput, CustomFieldInput, CustomInput, FieldErrors, FixedClock, ImportRow, Institute,
    NewUser, PageRequest, ProfileInput, UserQuery,
};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

type Failure = Box<dyn std::error::Error>;

/// Seed of the population.
const SEED: u64 = 0x5EED_2026;
/// Rows per import transaction, in both stores.
const CHUNK: u64 = 10_000;
/// Lookups timed per kind.
const LOOKUPS: usize = 10_000;
/// "Today" of the measurements (the import runs on 2026-01-01).
const TODAY: &str = "2026-11-22";

/// The bars of issue 10: the least ratio (SQLite cost / roster cost) each
/// operation must reach.
const IMPORT_BAR: f64 = 2.0;
const GET_BAR: f64 = 1.0;
const LAST_PAGE_BAR: f64 = 20.0;
const Q_BAR: f64 = 1.0;
const SUBSCRIPTION_BAR: f64 = 1.0;
const PURGE_BAR: f64 = 1.0;
const SIZE_BAR: f64 = 1.0;
/// Issue 11's bar for each Sunbird search row.
const SUNBIRD_BAR: f64 = 1.0;
/// Managed users per manager in the Sunbird rows.
const MANAGED_EACH: u64 = 5;

/// One line of the table.
struct Line {
    operation: String,
    roster: f64,
    sqlite: Option<f64>,
    /// Whether larger is better (rates): the ratio is then roster/SQLite,
    /// so that the ratio always reads "SQLite's cost over roster's".
    higher_is_better: bool,
    /// The bar's short name and the least ratio roster must reach.
    bar: Option<(&'static str, f64)>,
}

fn line(operation: &str, roster: f64, sqlite: Option<f64>) -> Line {
    Line {
        operation: operation.into(),
        roster,
        sqlite,
        higher_is_better: false,
        bar: None,
    }
}

impl Line {
    /// Gives the line the bar `at_least` (a ratio), called `name`.
    fn bar(mut self, name: &'static str, at_least: f64) -> Line {
        self.bar = Some((name, at_least));
        self
    }

    /// SQLite's cost over roster's (for rates roster's over SQLite's).
    fn ratio(&self) -> Option<f64> {
        let s = self.sqlite?;
        Some(if self.higher_is_better {
            self.roster / s
        } else {
            s / self.roster
        })
    }

    /// Whether the line has a bar and whether roster meets it.
    fn verdict(&self) -> Option<bool> {
        let (_, bar) = self.bar?;
        Some(self.ratio().is_some_and(|r| r >= bar))
    }
}

fn fmt(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// p50 and p99 of `samples` in microseconds.
fn percentiles(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[i].as_secs_f64() * 1e6
    };
    (at(0.50), at(0.99))
}

/// Times `roster` and `sqlite` `n` times each, in turns (the first of a
/// pair alternating), so that a load change on the machine weighs on both
/// alike.
fn time_pairs(
    n: usize,
    roster: impl FnMut(usize) -> Result<(), Failure>,
    sqlite: impl FnMut(usize) -> Result<(), Failure>,
) -> Result<(Vec<Duration>, Vec<Duration>), Failure> {
    time_blocks(n, 1, roster, sqlite)
}

/// Times `roster` and `other` `n` times each, in turns of `block` calls
/// (the first of a pair of blocks alternating). Against a server, single
/// calls in turns measure the operating system as much as either side:
/// one of two server processes woken turn by turn stays quick to wake and
/// the other does not (a lookup by id 105 µs on one side and 260 µs on the
/// other, the sides swapping from run to run), so the PostgreSQL harness
/// takes blocks.
fn time_blocks(
    n: usize,
    block: usize,
    mut roster: impl FnMut(usize) -> Result<(), Failure>,
    mut other: impl FnMut(usize) -> Result<(), Failure>,
) -> Result<(Vec<Duration>, Vec<Duration>), Failure> {
    let (mut r, mut s) = (Vec::with_capacity(n), Vec::with_capacity(n));
    fn time(
        f: &mut dyn FnMut(usize) -> Result<(), Failure>,
        i: usize,
    ) -> Result<Duration, Failure> {
        let start = Instant::now();
        f(i)?;
        Ok(start.elapsed())
    }
    let block = block.max(1);
    for (b, first) in (0..n).step_by(block).enumerate() {
        let calls = first..(first + block).min(n);
        for turn in 0..2 {
            for i in calls.clone() {
                match (b + turn) % 2 == 0 {
                    true => r.push(time(&mut roster, i)?),
                    false => s.push(time(&mut other, i)?),
                }
            }
        }
    }
    Ok((r, s))
}

/// Which pair of stores the harness compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    /// roster on a redb file beside SQLite (the default).
    Redb,
    /// roster on PostgreSQL beside hand-written SQL on the same server.
    Postgres,
}

/// The command line.
struct Args {
    users: u64,
    backend: Backend,
    /// The server of `--backend postgres`.
    db: Option<String>,
    /// `--worker URL SECONDS START_MS TAG SIDE` (hidden): a child of the
    /// two-process write measurement.
    worker: Option<Vec<String>>,
    /// `--chart DIR`: keep the run's ratios there and redraw the chart
    /// ([`chart`]).
    chart: Option<std::path::PathBuf>,
}

/// The folder of `--chart`, for [`print_table`].
static CHART: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

const USAGE: &str =
    "usage: scale [--users N] [--backend redb|postgres] [--db postgres://…] [--chart DIR]";

fn parse_args() -> Result<Args, Failure> {
    let args: Vec<String> = std::env::args().collect();
    let mut parsed = Args {
        users: 1000,
        backend: Backend::Redb,
        db: None,
        worker: None,
        chart: None,
    };
    let mut i = 1;
    while i < args.len() {
        let value = |what: &str| -> Result<String, Failure> {
            Ok(args
                .get(i + 1)
                .ok_or(format!("{what} needs a value; {USAGE}"))?
                .clone())
        };
        match args[i].as_str() {
            "--users" => {
                parsed.users = value("--users")?.parse()?;
                i += 2;
            }
            "--backend" => {
                parsed.backend = match value("--backend")?.as_str() {
                    "redb" => Backend::Redb,
                    "postgres" => Backend::Postgres,
                    other => return Err(format!("unknown backend {other}; {USAGE}").into()),
                };
                i += 2;
            }
            "--db" => {
                parsed.db = Some(value("--db")?);
                i += 2;
            }
            "--chart" => {
                parsed.chart = Some(value("--chart")?.into());
                i += 2;
            }
            "--worker" => {
                let rest = args.get(i + 1..i + 6).ok_or("--worker needs 5 values")?;
                parsed.worker = Some(rest.to_vec());
                i += 6;
            }
            other => return Err(format!("unknown argument {other}; {USAGE}").into()),
        }
    }
    if parsed.worker.is_none() && parsed.users < 100 {
        return Err("--users must be at least 100".into());
    }
    if parsed.backend == Backend::Postgres && parsed.db.is_none() && parsed.worker.is_none() {
        return Err(format!("--backend postgres needs --db; {USAGE}").into());
    }
    Ok(parsed)
}

fn progress(what: &str) {
    eprintln!("[scale] {what}");
}

/// write+fsync of 4 KiB to a small file, 200 times: the floor of a durable
/// write on this disk (a reference, not compared).
fn fsync_times(dir: &Path) -> Result<Vec<Duration>, Failure> {
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path)?;
    let block = [0x5au8; 4096];
    let mut samples = Vec::with_capacity(200);
    for _ in 0..200 {
        let start = Instant::now();
        file.write_all(&block)?;
        file.sync_all()?;
        samples.push(start.elapsed());
    }
    std::fs::remove_file(path)?;
    Ok(samples)
}

/// The argon2id hash of `password` with roster's default parameters, and how
/// long one hash took (median of 5).
fn argon2_default(password: &str) -> Result<(String, Duration), Failure> {
    use argon2::password_hash::PasswordHasher;
    let p = roster::Argon2Params::default();
    let params = argon2::Params::new(p.m_kib, p.t, p.p, None).map_err(|e| e.to_string())?;
    let hasher = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut phc = String::new();
    let mut samples = Vec::new();
    for i in 0..5u8 {
        let salt = [i.wrapping_mul(37).wrapping_add(11); 16];
        let start = Instant::now();
        let hash = hasher
            .hash_password_with_salt(password.as_bytes(), &salt)
            .map_err(|e| e.to_string())?;
        samples.push(start.elapsed());
        phc = hash.to_string();
    }
    let (p50, _) = percentiles(samples);
    Ok((phc, Duration::from_secs_f64(p50 / 1e6)))
}

/// Imports the `n` generated users into roster (through `admin`) and into
/// a yardstick (`other`), [`CHUNK`] rows per transaction on each side, the
/// chunks in turns; the rows are made before the clock starts. Returns the
/// time each side took.
fn import_in_turns(
    admin: &roster::Admin,
    n: u64,
    hash: &str,
    mut other: impl FnMut(&[data::Person]) -> Result<(), Failure>,
) -> Result<(Duration, Duration), Failure> {
    let (mut roster_import, mut other_import) = (Duration::ZERO, Duration::ZERO);
    let mut from = 0;
    let mut chunk = 0;
    while from < n {
        let to = (from + CHUNK).min(n);
        let people: Vec<data::Person> = (from..to).map(|i| data::person(SEED, i)).collect();
        let mut roster_chunk = || -> Result<(), Failure> {
            let rows: Vec<ImportRow> = (from..to)
                .zip(&people)
                .map(|(i, p)| import_row(i, p, hash))
                .collect();
            let start = Instant::now();
            let report = admin.import_rows(rows)?;
            roster_import += start.elapsed();
            if let Some(r) = report.rejected.first() {
                return Err(format!("roster refused row {}: {}", r.line, r.reason).into());
            }
            Ok(())
        };
        let mut other_chunk = || -> Result<(), Failure> {
            let start = Instant::now();
            other(&people)?;
            other_import += start.elapsed();
            Ok(())
        };
        if chunk % 2 == 0 {
            roster_chunk()?;
            other_chunk()?;
        } else {
            other_chunk()?;
            roster_chunk()?;
        }
        progress(&format!(
            "  {to} rows: roster {roster_import:.1?}, the other {other_import:.1?}"
        ));
        from = to;
        chunk += 1;
    }
    let check = admin.get_user(n)?;
    if check.username != data::person(SEED, n - 1).username {
        return Err("roster's user ids are not 1..=N in import order".into());
    }
    Ok((roster_import, other_import))
}

/// Row `i` of the roster import: person `p`.
fn import_row(i: u64, p: &data::Person, hash: &str) -> ImportRow {
    let p = p.clone();
    ImportRow {
        line: i + 1,
        user: NewUser {
            username: Some(p.username),
            profile: ProfileInput {
                email: Some(p.email),
                phone: Some(p.phone),
                first_name: Some(p.first_name),
                last_name: Some(p.last_name),
                birth_date: Some(p.birth_date),
                state: Some(p.state),
                gender_code: Some(p.gender.into()),
                custom_fields: vec![("Stream".into(), CustomInput::Text(p.stream.into()))],
                ..Default::default()
            },
            batches: p.batches.iter().map(|&b| data::batch_name(b)).collect(),
            expires: p.expires,
            ..Default::default()
        },
        password_hash: Some(hash.to_string()),
        errors: FieldErrors::new(),
    }
}

fn main() -> Result<(), Failure> {
    let args = parse_args()?;
    if let Some(dir) = &args.chart {
        let _ = CHART.set(dir.clone());
    }
    if let Some(worker) = &args.worker {
        return postgres::worker(worker);
    }
    if args.backend == Backend::Postgres {
        let url = args.db.as_deref().ok_or("--backend postgres needs --db")?;
        return postgres::run(url, args.users);
    }
    let n = args.users;
    let dir = tempfile::tempdir()?;
    progress(&format!("{n} users; stores in {}", dir.path().display()));
    let fsync = fsync_times(dir.path())?;
    let (hash, argon2_time) = argon2_default("a-shared-pre-made-password")?;

    // roster on a file with default durability, its clock on the import day.
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 1, 1, 6, 0, 0).unwrap(),
    ));
    let roster_path = dir.path().join("roster.db");
    let institute = Institute::open(
        &roster_path,
        roster::Config::default().with_clock(clock.clone()),
    )?;
    let admin = institute.operator();
    admin.create_custom_field(CustomFieldInput {
        name: Some("Stream".into()),
        kind: Some("choice".into()),
        choices: Some(data::STREAMS.iter().map(|s| s.to_string()).collect()),
        required: Some(false),
    })?;
    let mut batch_ids = Vec::new();
    for i in 0..data::BATCHES {
        let name = Some(data::batch_name(i));
        batch_ids.push(admin.create_batch(BatchInput { name })?.id);
    }
    let sqlite_path = dir.path().join("sqlite.db");
    let mut db = sqlite::Sqlite::create(&sqlite_path)?;

    // Bulk import: the same CHUNK rows per transaction in both stores, the
    // chunks in turns; the rows are made before the clock starts.
    progress("importing");
    let (roster_import, sqlite_import) = import_in_turns(&admin, n, &hash, |people| {
        db.import(people, &hash)?;
        Ok(())
    })?;
    progress(&format!(
        "import: roster {roster_import:.2?}, SQLite {sqlite_import:.2?}"
    ));

    // File sizes, straight after the import.
    let roster_bytes = std::fs::metadata(&roster_path)?.len() as f64 / n as f64;
    db.checkpoint()?;
    let mut sqlite_size = std::fs::metadata(&sqlite_path)?.len();
    if let Ok(wal) = std::fs::metadata(dir.path().join("sqlite.db-wal")) {
        sqlite_size += wal.len();
    }
    let sqlite_bytes = sqlite_size as f64 / n as f64;

    // Lookups.
    progress("lookups");
    let mut rng = data::Rng::new(SEED ^ 1);
    let picks: Vec<u64> = (0..LOOKUPS).map(|_| rng.below(n)).collect();
    let people: Vec<data::Person> = picks.iter().map(|&i| data::person(SEED, i)).collect();
    let (r_id, s_id) = time_pairs(
        LOOKUPS,
        |k| {
            admin.get_user(picks[k] + 1)?;
            Ok(())
        },
        |k| {
            db.get(picks[k] + 1)?.ok_or("missing")?;
            Ok(())
        },
    )?;
    let (r_name, s_name) = time_pairs(
        LOOKUPS,
        |k| {
            admin.find_user(&people[k].username)?;
            Ok(())
        },
        |k| {
            db.find(&people[k].username)?.ok_or("missing")?;
            Ok(())
        },
    )?;
    let (r_email, s_email) = time_pairs(
        LOOKUPS,
        |k| {
            let query = UserQuery {
                email: Some(people[k].email.clone()),
                ..Default::default()
            };
            if admin.list_users(&query)?.items.len() != 1 {
                return Err("email lookup found no user".into());
            }
            Ok(())
        },
        |k| {
            db.by_email(&people[k].email)?.ok_or("missing")?;
            Ok(())
        },
    )?;

    // Pages: 20 users by id and the exact count.
    progress("pages");
    let last_page = n.div_ceil(20);
    let page_query = |page: u64| UserQuery {
        page: PageRequest::page(page),
        ..Default::default()
    };
    let same_page = |page: u64| -> Result<(), Failure> {
        let r = admin.list_users(&page_query(page))?;
        let (count, rows) = db.page(page)?;
        let r_ids: Vec<i64> = r.items.iter().map(|u| u.id as i64).collect();
        let s_ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
        if r.count != count || r_ids != s_ids {
            return Err(format!("page {page} differs between roster and SQLite").into());
        }
        Ok(())
    };
    same_page(1)?;
    same_page(last_page)?;
    let reps = 1000;
    let deep_reps = if n >= 1_000_000 { 40 } else { 200 };
    let (r_first, s_first) = time_pairs(
        reps,
        |_| {
            admin.list_users(&page_query(1))?;
            Ok(())
        },
        |_| {
            db.page(1)?;
            Ok(())
        },
    )?;
    let (r_deep, s_deep) = time_pairs(
        deep_reps,
        |_| {
            admin.list_users(&page_query(last_page))?;
            Ok(())
        },
        |_| {
            db.page(last_page)?;
            Ok(())
        },
    )?;

    // q search: the first page of 20 by id and the exact count.
    progress("q search");
    let q_reps = if n >= 1_000_000 { 40 } else { 100 };
    let fragments: Vec<String> = (0..q_reps)
        .map(|_| data::fragment(&mut rng, SEED, n))
        .collect();
    let q_query = |k: usize| UserQuery {
        q: Some(fragments[k].clone()),
        ..Default::default()
    };
    // Both stores give the same answer (count and first page) to each.
    let mut differ = 0;
    for (k, fragment) in fragments.iter().enumerate() {
        let r = admin.list_users(&q_query(k))?;
        let (count, rows) = db.search(fragment)?;
        let r_ids: Vec<i64> = r.items.iter().map(|u| u.id as i64).collect();
        let s_ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
        if r.count != count || r_ids != s_ids {
            differ += 1;
        }
    }
    if differ > 0 {
        progress(&format!(
            "warning: {differ} of {q_reps} q searches answered differently"
        ));
    }
    let (r_q, s_q) = time_pairs(
        q_reps,
        |k| {
            admin.list_users(&q_query(k))?;
            Ok(())
        },
        |k| {
            db.search(&fragments[k])?;
            Ok(())
        },
    )?;

    // Durable single writes, on the measurements' day.
    progress("durable writes");
    clock.set(Utc.with_ymd_and_hms(2026, 11, 22, 6, 30, 0).unwrap());
    let writes = 300;
    let targets: Vec<(u64, usize)> = (0..writes)
        .map(|_| (1 + rng.below(n), rng.below(data::BATCHES as u64) as usize))
        .collect();
    let (r_sub, s_sub) = time_pairs(
        writes,
        |k| {
            let (user, b) = targets[k];
            admin.add_user_subscriptions(user, &[batch_ids[b]], Some("2027-12-31"))?;
            Ok(())
        },
        |k| {
            let (user, b) = targets[k];
            db.subscribe(user, b as u64 + 1, "2027-12-31")?;
            Ok(())
        },
    )?;

    // Purge: once in each store (everything expired since the import),
    // then a day later (one day's expiries, spread over every user's
    // memberships: what a daily purge meets).
    progress("purge");
    let mut purge = |today: &str| -> Result<(u64, Duration, Duration), Failure> {
        let start = Instant::now();
        let r_purged = admin.purge_expired()?;
        let r_purge = start.elapsed();
        let start = Instant::now();
        let s_purged = db.purge(today)?;
        let s_purge = start.elapsed();
        if r_purged != s_purged {
            progress(&format!(
                "warning: roster purged {r_purged}, SQLite {s_purged}"
            ));
        }
        Ok((r_purged, r_purge, s_purge))
    };
    let (r_purged, r_purge, s_purge) = purge(TODAY)?;
    clock.set(Utc.with_ymd_and_hms(2026, 11, 23, 6, 30, 0).unwrap());
    let (r_daily, r_daily_purge, s_daily_purge) = purge("2026-11-23")?;

    // Sunbird search (S4), last so that its managed users (durable writes)
    // weigh on no other row: the first page of 20 and the count, as SQLite
    // answers the same with its indexes (and FTS5 for `query`).
    progress("sunbird search");
    let managers: Vec<u64> = {
        let m = (n / 1000).clamp(1, 1000);
        (0..m).map(|k| 1 + k * (n / m)).collect()
    };
    for (k, &manager) in managers.iter().enumerate() {
        let names: Vec<String> = (0..MANAGED_EACH).map(|j| format!("Ward{k}x{j}")).collect();
        let uuid = admin.get_user(manager)?.uuid;
        for name in &names {
            let input = SunbirdInput {
                first_name: Some(name.clone()),
                managed_by: Some(uuid.clone()),
                ..Default::default()
            };
            admin.sunbird_create(input, CreateRoute::Managed)?;
        }
        db.add_managed(manager, &names)?;
    }
    let sb_reps = if n >= 1_000_000 { 200 } else { 500 };
    let sb_people: Vec<data::Person> = (0..sb_reps)
        .map(|_| data::person(SEED, rng.below(n)))
        .collect();
    let others: Vec<data::Person> = (0..sb_reps)
        .map(|_| data::person(SEED, rng.below(n)))
        .collect();
    // Each manager's `uuid` in roster and in SQLite (each store drew its own).
    let sb_managers: Vec<(String, String)> = (0..sb_reps)
        .map(|_| {
            let m = managers[rng.below(managers.len() as u64) as usize];
            let theirs = db.get(m)?.ok_or("SQLite lost a manager")?.uuid;
            Ok((admin.get_user(m)?.uuid, theirs))
        })
        .collect::<Result<_, Failure>>()?;
    let sb_fragments: Vec<String> = (0..sb_reps.min(q_reps * 2))
        .map(|_| {
            loop {
                let f = data::fragment(&mut rng, SEED, n);
                if f.chars().count() == 4 {
                    break f;
                }
            }
        })
        .collect();
    let search = |filters: Filters, query: Option<String>| -> Result<(u64, Vec<String>), Failure> {
        let found = admin.sunbird_search(&SearchRequest {
            filters,
            query,
            limit: Some(20),
            ..Default::default()
        })?;
        Ok((
            found.count,
            found.content.into_iter().map(|v| v.user_name).collect(),
        ))
    };
    let exact = |key: &str, value: String| Filters {
        all: vec![Filter::any_of(key, &[&value])],
        ..Default::default()
    };
    let by_email = |k: usize| exact("email", sb_people[k].email.clone());
    let by_manager = |k: usize| exact("managedBy", sb_managers[k].0.clone());
    let either = |k: usize| Filters {
        any: vec![
            FilterGroup {
                all: vec![Filter::any_of("email", &[&sb_people[k].email])],
            },
            FilterGroup {
                all: vec![Filter::any_of("phone", &[&others[k].phone])],
            },
        ],
        ..Default::default()
    };
    // Both stores give the same answers.
    let mut differ = 0;
    for k in 0..sb_reps.min(50) {
        let names =
            |rows: Vec<sqlite::Row>| rows.into_iter().map(|r| r.username).collect::<Vec<_>>();
        let (c, u) = search(by_email(k), None)?;
        let (sc, su) = db.search_email(&sb_people[k].email)?;
        differ += usize::from(c != sc || u != names(su));
        let (c, _) = search(by_manager(k), None)?;
        let (sc, _) = db.search_managed(&sb_managers[k].1)?;
        differ += usize::from(c != sc || c != MANAGED_EACH);
        let (c, u) = search(either(k), None)?;
        let (sc, su) = db.search_email_or_phone(&sb_people[k].email, &others[k].phone)?;
        differ += usize::from(c != sc || u != names(su));
    }
    for f in &sb_fragments {
        let (c, _) = search(Filters::default(), Some(f.clone()))?;
        let (sc, _) = db.search_query(f)?;
        differ += usize::from(c != sc);
    }
    if differ > 0 {
        progress(&format!(
            "warning: {differ} Sunbird searches answered differently"
        ));
    }
    let (r_sb_email, s_sb_email) = time_pairs(
        sb_reps,
        |k| search(by_email(k), None).map(|_| ()),
        |k| {
            db.search_email(&sb_people[k].email)?;
            Ok(())
        },
    )?;
    let (r_sb_managed, s_sb_managed) = time_pairs(
        sb_reps,
        |k| search(by_manager(k), None).map(|_| ()),
        |k| {
            db.search_managed(&sb_managers[k].1)?;
            Ok(())
        },
    )?;
    let (r_sb_or, s_sb_or) = time_pairs(
        sb_reps,
        |k| search(either(k), None).map(|_| ()),
        |k| {
            db.search_email_or_phone(&sb_people[k].email, &others[k].phone)?;
            Ok(())
        },
    )?;
    let (r_sb_query, s_sb_query) = time_pairs(
        sb_fragments.len(),
        |k| search(Filters::default(), Some(sb_fragments[k].clone())).map(|_| ()),
        |k| {
            db.search_query(&sb_fragments[k])?;
            Ok(())
        },
    )?;

    // The table.
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let r_rate = n as f64 / roster_import.as_secs_f64();
    let s_rate = n as f64 / sqlite_import.as_secs_f64();
    let mut lines = vec![
        Line {
            higher_is_better: true,
            ..line("bulk import, pre-hashed (users/s)", r_rate, Some(s_rate))
        }
        .bar("import", IMPORT_BAR),
    ];
    let lookups = [
        ("get by id", "id", r_id, s_id),
        ("get by username", "username", r_name, s_name),
        ("get by email", "email", r_email, s_email),
    ];
    for (what, name, r, s) in lookups {
        let (r50, r99) = percentiles(r);
        let (s50, s99) = percentiles(s);
        lines.push(line(&format!("{what} p50 (µs)"), r50, Some(s50)).bar(name, GET_BAR));
        lines.push(line(&format!("{what} p99 (µs)"), r99, Some(s99)));
    }
    let (r50, r99) = percentiles(r_first);
    let (s50, s99) = percentiles(s_first);
    lines.push(line("list page 1 p50 (µs)", r50, Some(s50)));
    lines.push(line("list page 1 p99 (µs)", r99, Some(s99)));
    let (r50, r99) = percentiles(r_deep);
    let (s50, s99) = percentiles(s_deep);
    lines.push(
        line(
            &format!("list page {last_page} (last) p50 (µs)"),
            r50,
            Some(s50),
        )
        .bar("last page", LAST_PAGE_BAR),
    );
    lines.push(line(
        &format!("list page {last_page} (last) p99 (µs)"),
        r99,
        Some(s99),
    ));
    let (r50, r99) = percentiles(r_q);
    let (s50, s99) = percentiles(s_q);
    lines.push(
        line(
            "q 3-4 chars, page 1 with count p50 (ms)",
            r50 / 1e3,
            Some(s50 / 1e3),
        )
        .bar("q", Q_BAR),
    );
    lines.push(line(
        "q 3-4 chars, page 1 with count p99 (ms)",
        r99 / 1e3,
        Some(s99 / 1e3),
    ));
    let sunbird_rows = [
        ("sunbird search, email", "sb email", r_sb_email, s_sb_email),
        (
            "sunbird search, managedBy",
            "sb managedBy",
            r_sb_managed,
            s_sb_managed,
        ),
        (
            "sunbird search, query 4 chars",
            "sb query",
            r_sb_query,
            s_sb_query,
        ),
        (
            "sunbird search, $or email/phone",
            "sb $or",
            r_sb_or,
            s_sb_or,
        ),
    ];
    for (what, name, r, s) in sunbird_rows {
        let (r50, r99) = percentiles(r);
        let (s50, s99) = percentiles(s);
        lines.push(line(&format!("{what} p50 (µs)"), r50, Some(s50)).bar(name, SUNBIRD_BAR));
        lines.push(line(&format!("{what} p99 (µs)"), r99, Some(s99)));
    }
    let (r50, r99) = percentiles(r_sub);
    let (s50, s99) = percentiles(s_sub);
    lines.push(
        line("add subscription, durable p50 (µs)", r50, Some(s50))
            .bar("subscription", SUBSCRIPTION_BAR),
    );
    lines.push(line("add subscription, durable p99 (µs)", r99, Some(s99)));
    lines.push(
        line(
            &format!("purge {r_purged} expired (ms)"),
            ms(r_purge),
            Some(ms(s_purge)),
        )
        .bar("purge", PURGE_BAR),
    );
    lines.push(line(
        &format!("purge {r_daily} expired a day later (ms)"),
        ms(r_daily_purge),
        Some(ms(s_daily_purge)),
    ));
    lines.push(
        line(
            "file size per user (bytes)",
            roster_bytes,
            Some(sqlite_bytes),
        )
        .bar("size", SIZE_BAR),
    );
    lines.push(line(
        "argon2id per hash, defaults (ms)",
        ms(argon2_time),
        None,
    ));
    let (f50, f99) = percentiles(fsync);
    lines.push(line("fsync of 4 KiB to a small file, p50 (µs)", f50, None));
    lines.push(line("fsync of 4 KiB to a small file, p99 (µs)", f99, None));
    print_table(n, "SQLite", &lines);
    Ok(())
}

/// The table of `lines`, roster beside `other` (the yardstick's name).
fn print_table(n: u64, other: &str, lines: &[Line]) {
    println!();
    println!(
        "{n} users; ratio = {other} cost / roster cost (for rates roster/{other}; \
         > 1: roster is faster or smaller)"
    );
    println!();
    println!("| operation | roster | {other} | ratio | bar | |");
    println!("|---|---:|---:|---:|---:|---|");
    for l in lines {
        let sqlite = l.sqlite.map_or("—".into(), fmt);
        let ratio = l.ratio().map_or("—".into(), |r| format!("{r:.2}"));
        let bar = l.bar.map_or(String::new(), |(_, b)| format!("≥ {b}"));
        let verdict = match l.verdict() {
            Some(true) => "meets",
            Some(false) => "misses",
            None => "",
        };
        println!(
            "| {} | {} | {sqlite} | {ratio} | {bar} | {verdict} |",
            l.operation,
            fmt(l.roster)
        );
    }
    let barred: Vec<&Line> = lines.iter().filter(|l| l.bar.is_some()).collect();
    let met = barred.iter().filter(|l| l.verdict() == Some(true)).count();
    let missed: Vec<&str> = barred
        .iter()
        .filter(|l| l.verdict() != Some(true))
        .filter_map(|l| l.bar.map(|(name, _)| name))
        .collect();
    println!();
    if missed.is_empty() {
        println!("bars met: {met} of {} at {n} users", barred.len());
    } else {
        println!(
            "bars met: {met} of {} at {n} users; missed: {}",
            barred.len(),
            missed.join(", ")
        );
    }
    if let Some(dir) = CHART.get()
        && let Err(e) = chart::record(dir, n, other, lines)
    {
        eprintln!("[scale] the chart was not drawn: {e}");
    }
}
