//! The scale harness (Step 5): builds an institute of N realistic users in
//! roster and, in the same run, in SQLite, times the same operations on both
//! and prints one table with each roster figure against its bar.
//!
//! `cargo run --release -p roster-tests --bin scale -- --users N`

#[path = "scale/data.rs"]
mod data;
#[path = "scale/sqlite.rs"]
mod sqlite;

use chrono::{TimeZone, Utc};
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
/// Rows per import transaction.
const CHUNK: u64 = 10_000;
/// Lookups timed per kind.
const LOOKUPS: usize = 10_000;
/// "Today" of the measurements (the import runs on 2026-01-01).
const TODAY: &str = "2026-11-22";

/// The bars of the 1M-user store.
const IMPORT_SECONDS_AT_1M: f64 = 5.0;
const LOOKUP_P50_US: f64 = 5.0;
const PAGE_US: f64 = 20.0;
const Q_P50_MS: f64 = 1.0;
const PURGE_MS_PER_500K: f64 = 50.0;
const BYTES_PER_USER: f64 = 500.0;

/// One line of the table.
struct Line {
    operation: String,
    roster: f64,
    sqlite: Option<f64>,
    /// Whether larger is better (rates): the ratio is then roster/SQLite,
    /// so that the ratio always reads "SQLite's cost over roster's".
    higher_is_better: bool,
    /// The bar and whether roster meets it.
    bar: Option<(String, bool)>,
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
    fn bar(mut self, text: String, meets: bool) -> Line {
        self.bar = Some((text, meets));
        self
    }

    fn at_most(self, limit: f64, unit: &str) -> Line {
        let meets = self.roster <= limit;
        self.bar(format!("≤ {} {unit}", fmt(limit)), meets)
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

/// Times `f` `n` times.
fn time_each(
    n: usize,
    mut f: impl FnMut(usize) -> Result<(), Failure>,
) -> Result<Vec<Duration>, Failure> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let start = Instant::now();
        f(i)?;
        out.push(start.elapsed());
    }
    Ok(out)
}

fn users_arg() -> Result<u64, Failure> {
    let args: Vec<String> = std::env::args().collect();
    let mut users = 1000;
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "--users" => {
                users = args.get(i + 1).ok_or("--users needs a number")?.parse()?;
                i += 2;
            }
            other => return Err(format!("unknown argument {other}; usage: scale --users N").into()),
        }
    }
    if users < 100 {
        return Err("--users must be at least 100".into());
    }
    Ok(users)
}

fn progress(what: &str) {
    eprintln!("[scale] {what}");
}

/// The median time of write+fsync of a small file, 100 times.
fn fsync_time(dir: &Path) -> Result<Duration, Failure> {
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path)?;
    let block = [0x5au8; 4096];
    let samples = time_each(100, |_| {
        file.write_all(&block)?;
        file.sync_all()?;
        Ok(())
    })?;
    let (p50, _) = percentiles(samples);
    std::fs::remove_file(path)?;
    Ok(Duration::from_secs_f64(p50 / 1e6))
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

/// Durable commits of one small insert each on two new redb files, one
/// opened in `ExclusiveWriter` mode and one in `MultiWriter` (roster's, so
/// that other processes can work beside it), taken in turns so that a load
/// change on the machine weighs on both alike: what the mode alone costs
/// per write.
fn redb_commits(dir: &Path, n: usize) -> Result<(Vec<Duration>, Vec<Duration>), Failure> {
    const TABLE: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("t");
    let open = |mode: redb::ConcurrencyMode| {
        redb::Database::builder()
            .set_concurrency_mode(mode)
            .create(dir.join(format!("mode-{mode:?}.redb")))
    };
    let exclusive = open(redb::ConcurrencyMode::ExclusiveWriter)?;
    let multi = open(redb::ConcurrencyMode::MultiWriter)?;
    let value = [0x5au8; 100];
    let commit = |db: &redb::Database, k: usize| -> Result<Duration, Failure> {
        let start = Instant::now();
        let txn = db.begin_write()?;
        txn.open_table(TABLE)?.insert(k as u64, &value[..])?;
        txn.commit()?;
        Ok(start.elapsed())
    };
    let (mut e, mut m) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for k in 0..n {
        e.push(commit(&exclusive, k)?);
        m.push(commit(&multi, k)?);
    }
    Ok((e, m))
}

/// Row `i` of the roster import.
fn import_row(i: u64, hash: &str) -> ImportRow {
    let p = data::person(SEED, i);
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
    let n = users_arg()?;
    let dir = tempfile::tempdir()?;
    progress(&format!("{n} users; stores in {}", dir.path().display()));
    let fsync = fsync_time(dir.path())?;
    let (hash, argon2_time) = argon2_default("a-shared-pre-made-password")?;

    // roster on a file with default durability, its clock on the import day.
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 1, 1, 6, 0, 0).unwrap(),
    ));
    let roster_path = dir.path().join("roster.redb");
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

    // Bulk import.
    progress("importing into roster");
    let start = Instant::now();
    let mut from = 0;
    while from < n {
        let to = (from + CHUNK).min(n);
        let rows = (from..to).map(|i| import_row(i, &hash)).collect();
        let report = admin.import_rows(rows)?;
        if let Some(r) = report.rejected.first() {
            return Err(format!("roster refused row {}: {}", r.line, r.reason).into());
        }
        from = to;
    }
    let roster_import = start.elapsed();
    progress(&format!(
        "roster import {:.2?}; importing into SQLite",
        roster_import
    ));
    let start = Instant::now();
    let mut from = 0;
    while from < n {
        let to = (from + CHUNK).min(n);
        db.import(SEED, from, to, &hash)?;
        from = to;
    }
    let sqlite_import = start.elapsed();
    progress(&format!("SQLite import {:.2?}", sqlite_import));
    let check = admin.get_user(n)?;
    if check.username != data::person(SEED, n - 1).username {
        return Err("roster's user ids are not 1..=N in import order".into());
    }

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
    let r_id = time_each(LOOKUPS, |k| {
        admin.get_user(picks[k] + 1)?;
        Ok(())
    })?;
    let s_id = time_each(LOOKUPS, |k| {
        db.get(picks[k] + 1)?.ok_or("missing")?;
        Ok(())
    })?;
    let r_name = time_each(LOOKUPS, |k| {
        admin.find_user(&people[k].username)?;
        Ok(())
    })?;
    let s_name = time_each(LOOKUPS, |k| {
        db.find(&people[k].username)?.ok_or("missing")?;
        Ok(())
    })?;
    let r_email = time_each(LOOKUPS, |k| {
        let query = UserQuery {
            email: Some(people[k].email.clone()),
            ..Default::default()
        };
        if admin.list_users(&query)?.items.len() != 1 {
            return Err("email lookup found no user".into());
        }
        Ok(())
    })?;
    let s_email = time_each(LOOKUPS, |k| {
        db.by_email(&people[k].email)?.ok_or("missing")?;
        Ok(())
    })?;

    // Pages.
    progress("pages");
    let last_page = n.div_ceil(20);
    let page_query = |page: u64| UserQuery {
        page: PageRequest::page(page),
        ..Default::default()
    };
    let reps = 1000;
    let deep_reps = if n >= 1_000_000 { 20 } else { 100 };
    let r_first = time_each(reps, |_| {
        admin.list_users(&page_query(1))?;
        Ok(())
    })?;
    let s_first = time_each(reps, |_| {
        db.page(1)?;
        Ok(())
    })?;
    let r_deep = time_each(deep_reps, |_| {
        admin.list_users(&page_query(last_page))?;
        Ok(())
    })?;
    let s_deep = time_each(deep_reps, |_| {
        db.page(last_page)?;
        Ok(())
    })?;

    // q search.
    progress("q search");
    let q_reps = if n >= 1_000_000 { 30 } else { 100 };
    let fragments: Vec<String> = (0..q_reps)
        .map(|_| data::fragment(&mut rng, SEED, n))
        .collect();
    let mut q_counts = (0u64, 0u64);
    let r_q = time_each(q_reps, |k| {
        let query = UserQuery {
            q: Some(fragments[k].clone()),
            ..Default::default()
        };
        q_counts.0 += admin.list_users(&query)?.count;
        Ok(())
    })?;
    let s_q = time_each(q_reps, |k| {
        q_counts.1 += db.search(&fragments[k])?.0;
        Ok(())
    })?;
    if q_counts.0 != q_counts.1 {
        progress(&format!(
            "warning: q matched {} users in roster, {} in SQLite",
            q_counts.0, q_counts.1
        ));
    }

    // Durable single writes, on the measurements' day.
    progress("durable writes");
    clock.set(Utc.with_ymd_and_hms(2026, 11, 22, 6, 30, 0).unwrap());
    let writes = 200;
    let targets: Vec<(u64, usize)> = (0..writes)
        .map(|_| (1 + rng.below(n), rng.below(data::BATCHES as u64) as usize))
        .collect();
    let r_sub = time_each(writes, |k| {
        let (user, b) = targets[k];
        admin.add_user_subscriptions(user, &[batch_ids[b]], Some("2027-12-31"))?;
        Ok(())
    })?;
    let s_sub = time_each(writes, |k| {
        let (user, b) = targets[k];
        db.subscribe(user, b as u64 + 1, "2027-12-31")?;
        Ok(())
    })?;

    // The same durable commit in each of redb's concurrency modes.
    progress("redb concurrency modes");
    let (exclusive, multi) = redb_commits(dir.path(), writes)?;

    // Purge.
    progress("purge");
    let start = Instant::now();
    let r_purged = admin.purge_expired()?;
    let r_purge = start.elapsed();
    let start = Instant::now();
    let s_purged = db.purge(TODAY)?;
    let s_purge = start.elapsed();
    if r_purged != s_purged {
        progress(&format!(
            "warning: roster purged {r_purged}, SQLite {s_purged}"
        ));
    }

    // The table.
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let r_rate = n as f64 / roster_import.as_secs_f64();
    let s_rate = n as f64 / sqlite_import.as_secs_f64();
    let rate_bar = 1_000_000.0 / IMPORT_SECONDS_AT_1M;
    let mut lines = vec![
        Line {
            higher_is_better: true,
            ..line("bulk import, pre-hashed (users/s)", r_rate, Some(s_rate))
        }
        .bar(
            format!("≥ {} and ≥ 2× SQLite", fmt(rate_bar)),
            r_rate >= rate_bar && r_rate >= 2.0 * s_rate,
        ),
    ];
    let lookups = [
        ("get by id", r_id, s_id),
        ("get by username", r_name, s_name),
        ("get by email", r_email, s_email),
    ];
    for (what, r, s) in lookups {
        let (r50, r99) = percentiles(r);
        let (s50, s99) = percentiles(s);
        lines.push(line(&format!("{what} p50 (µs)"), r50, Some(s50)).at_most(LOOKUP_P50_US, "µs"));
        lines.push(line(&format!("{what} p99 (µs)"), r99, Some(s99)));
    }
    let (r50, r99) = percentiles(r_first);
    let (s50, s99) = percentiles(s_first);
    lines.push(line("list page 1 p50 (µs)", r50, Some(s50)).at_most(PAGE_US, "µs"));
    lines.push(line("list page 1 p99 (µs)", r99, Some(s99)).at_most(PAGE_US, "µs"));
    let (r50, r99) = percentiles(r_deep);
    let (s50, s99) = percentiles(s_deep);
    lines.push(
        line(
            &format!("list page {last_page} (last) p50 (µs)"),
            r50,
            Some(s50),
        )
        .at_most(PAGE_US, "µs"),
    );
    lines.push(
        line(
            &format!("list page {last_page} (last) p99 (µs)"),
            r99,
            Some(s99),
        )
        .at_most(PAGE_US, "µs"),
    );
    let (r50, r99) = percentiles(r_q);
    let (s50, s99) = percentiles(s_q);
    lines.push(
        line(
            "q search, 3-4 chars, page 1 p50 (ms)",
            r50 / 1e3,
            Some(s50 / 1e3),
        )
        .at_most(Q_P50_MS, "ms"),
    );
    lines.push(line(
        "q search, 3-4 chars, page 1 p99 (ms)",
        r99 / 1e3,
        Some(s99 / 1e3),
    ));
    let (r50, r99) = percentiles(r_sub);
    let (s50, s99) = percentiles(s_sub);
    let write_bar = 3.0 * us(fsync);
    lines.push(
        line("add subscription, durable p50 (µs)", r50, Some(s50)).bar(
            format!("≤ 3× fsync = {} µs", fmt(write_bar)),
            r50 <= write_bar,
        ),
    );
    lines.push(line("add subscription, durable p99 (µs)", r99, Some(s99)));
    for (mode, times) in [("ExclusiveWriter", exclusive), ("MultiWriter", multi)] {
        let (p50, p99) = percentiles(times);
        lines.push(line(
            &format!("redb durable commit, {mode} p50 (µs)"),
            p50,
            None,
        ));
        lines.push(line(
            &format!("redb durable commit, {mode} p99 (µs)"),
            p99,
            None,
        ));
    }
    let purge_bar = PURGE_MS_PER_500K * r_purged.max(1) as f64 / 500_000.0;
    lines.push(
        line(
            &format!("purge {r_purged} expired (ms)"),
            ms(r_purge),
            Some(ms(s_purge)),
        )
        .bar(
            format!("≤ {} ms (50 ms per 500k)", fmt(purge_bar)),
            ms(r_purge) <= purge_bar,
        ),
    );
    lines.push(
        line(
            "file size per user (bytes)",
            roster_bytes,
            Some(sqlite_bytes),
        )
        .at_most(BYTES_PER_USER, "bytes"),
    );
    lines.push(line(
        "argon2id per hash, defaults (ms)",
        ms(argon2_time),
        None,
    ));
    lines.push(line("fsync of a small file, p50 (µs)", us(fsync), None));
    print_table(n, &lines);
    Ok(())
}

fn print_table(n: u64, lines: &[Line]) {
    println!();
    println!("{n} users; ratio = SQLite cost / roster cost (> 1: roster is faster or smaller)");
    println!();
    println!("| operation | roster | SQLite | ratio (SQLite/roster) | bar | roster |");
    println!("|---|---:|---:|---:|---|---|");
    for l in lines {
        let sqlite = l.sqlite.map_or("—".into(), fmt);
        let ratio = match l.sqlite {
            Some(s) if l.higher_is_better => format!("{:.2}", l.roster / s),
            Some(s) => format!("{:.2}", s / l.roster),
            None => "—".into(),
        };
        let (bar, verdict) = match &l.bar {
            Some((text, true)) => (text.as_str(), "meets"),
            Some((text, false)) => (text.as_str(), "misses"),
            None => ("", ""),
        };
        println!(
            "| {} | {} | {sqlite} | {ratio} | {bar} | {verdict} |",
            l.operation,
            fmt(l.roster)
        );
    }
}
