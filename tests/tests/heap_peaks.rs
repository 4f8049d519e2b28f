//! What hostile files cost in memory, measured with dhat's heap profiler
//! (its testing mode): a binary of its own, its tests one at a time, since
//! the profiler counts every allocation of the process.
//!
//! An edited export's line may hold up to 16 MiB of small values. Parsed
//! as a JSON tree first, a line of numbers took some twenty times its size
//! (a 16.6 MB line of permission ids: 640 MB), so a file an attacker hands
//! to `roster import` cost the process that much before any rule could
//! refuse it. Each record is now parsed straight into its own type.
//!
//! An import's report listed every refused row: a CSV of three million
//! two-byte bad rows took 738 MB. It now lists the first
//! [`transfer::REJECTED_LISTED`] and counts the rest.

use roster::transfer::{self, ImportOptions};
use roster::{Config, ErrorCode, Institute};
use roster_tests::{SEED_NOW, reseal};

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

/// One profiler at a time: each test holds this while its profiler runs.
static PROFILING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// This test's turn: no other test runs a profiler (nor allocates under
/// one) until it ends.
fn turn() -> std::sync::MutexGuard<'static, ()> {
    PROFILING.lock().unwrap_or_else(|e| e.into_inner())
}

/// The profiler, in this test's turn. Its peak (`max_bytes`) is the
/// highest since it started: a test that sets up a store first starts it
/// after that.
fn profiler() -> dhat::Profiler {
    dhat::Profiler::builder().testing().build()
}

/// The profiler, once no other test runs one.
fn profile() -> (std::sync::MutexGuard<'static, ()>, dhat::Profiler) {
    let turn = turn();
    (turn, profiler())
}

/// The bytes a restore of `file` holds at its peak beyond what was held
/// before it, and the error it ends with.
fn restore_peak(file: &[u8]) -> (usize, roster::Error) {
    let target = Institute::in_memory(config()).expect("store");
    let admin = target.operator();
    let before = dhat::HeapStats::get();
    let err = transfer::import(&admin, file, &ImportOptions::default(), &mut |_| {})
        .expect_err("the edited export is refused");
    let after = dhat::HeapStats::get();
    (after.max_bytes.saturating_sub(before.curr_bytes), err)
}

/// The tests' configuration, in memory (the heap is what is measured).
fn config() -> Config {
    roster_tests::config(SEED_NOW).0
}

#[test]
fn a_long_line_of_an_export_costs_a_few_times_its_size() {
    let _profiling = profile();
    let source = Institute::in_memory(config()).expect("store");
    source
        .create_superuser("admin", "a-long-passphrase")
        .expect("admin");
    let mut text = Vec::new();
    transfer::export(&source.operator(), &mut text).expect("export");
    drop(source);
    let text = String::from_utf8(text).expect("UTF-8");
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !l.contains("\"roster-export-end\""))
        .map(str::to_string)
        .collect();
    drop(text);
    let user_at = lines
        .iter()
        .position(|l| l.starts_with("{\"type\":\"user\""))
        .expect("the admin's line");

    // A group of a million permission ids (2 MB of `1,`).
    let ids = vec!["1"; 1_000_000].join(",");
    let group = format!(
        "{{\"type\":\"group\",\"record\":{{\"id\":1,\
         \"uuid\":\"00000000-0000-0000-0000-000000000007\",\"name\":\"g\",\
         \"permissions\":[{ids}],\"created\":1,\"modified\":1}}}}"
    );
    drop(ids);
    let long = group.len();
    let mut body = lines.clone();
    body.push(group);
    refused_within_ten_times(body, long, "group 1", "permission ids");

    // The admin with 150,000 custom values (2.5 MB) of one field.
    let mut user: serde_json::Value = serde_json::from_str(&lines[user_at]).expect("JSON");
    user["record"]["profile"]["custom"] = serde_json::json!([]);
    let values = vec!["[1,{\"Text\":\"v\"}]"; 150_000].join(",");
    let user = user
        .to_string()
        .replace("\"custom\":[]", &format!("\"custom\":[{values}]"));
    drop(values);
    let long = user.len();
    let field = "{\"type\":\"custom_field\",\"record\":{\"id\":1,\
                 \"uuid\":\"00000000-0000-0000-0000-000000000009\",\"name\":\"f\",\"kind\":\"Text\",\
                 \"choices\":[],\"required\":false,\"created\":1,\"modified\":1}}";
    let mut body = lines.clone();
    body[user_at] = user;
    body.insert(user_at, field.to_string());
    refused_within_ten_times(body, long, "custom values", "custom values");
}

/// Restores the resealed export of `body`, whose edited line is `long`
/// bytes: refused as corrupt, naming `named`, and within ten times the
/// line's size at its peak.
fn refused_within_ten_times(body: Vec<String>, long: usize, named: &str, what: &str) {
    let file = reseal(&body).into_bytes();
    drop(body);
    let (peak, err) = restore_peak(&file);
    drop(file);
    assert_eq!(err.code(), ErrorCode::Corrupt, "{err}");
    assert!(err.message().contains(named), "{err}");
    eprintln!("a {long}-byte line of {what}: {peak} bytes at the peak");
    assert!(
        peak < 10 * long,
        "a {long}-byte line of {what} took {peak} bytes to restore"
    );
}

#[test]
fn an_import_of_many_bad_rows_holds_a_bounded_report() {
    let _profiling = profile();
    let target = Institute::in_memory(config()).expect("store");
    let admin = target.operator();
    // 50,000 rows whose username is refused, 2 bytes each (dhat makes
    // every allocation slow: more rows would only take longer).
    let rows = 50_000;
    let file = format!("username\n{}", "!\n".repeat(rows));
    let before = dhat::HeapStats::get();
    let mut heard = 0u64;
    let report = transfer::import_hearing(
        &admin,
        file.as_bytes(),
        &ImportOptions::default(),
        &mut |_| {},
        &mut |_| heard += 1,
    )
    .expect("import");
    let after = dhat::HeapStats::get();
    let peak = after.max_bytes.saturating_sub(before.curr_bytes);
    assert_eq!(report.created, 0);
    assert_eq!(report.rejected_count, rows as u64);
    assert_eq!(heard, rows as u64, "every refused row is heard");
    assert_eq!(report.rejected.len(), transfer::REJECTED_LISTED);
    eprintln!("{rows} refused rows: {peak} bytes at the peak");
    // Listing every row took about 150 bytes a row (some 10 MB here).
    assert!(
        peak < 5_000_000,
        "{rows} refused rows took {peak} bytes to import"
    );
}

#[test]
fn an_export_holds_one_record_at_a_time() {
    let _turn = turn();
    // The model backend: redb's page cache would fill with the store as
    // the export reads it, which is the cache's budget, not the export's.
    let backend = std::sync::Arc::new(roster::ModelBackend::new());
    let source = Institute::open_with(backend, config()).expect("store");
    source
        .create_superuser("admin", "a-long-passphrase")
        .expect("admin");
    let admin = source.operator();
    let users = 5_000;
    let rows: String = (0..users)
        .map(|n| {
            format!(
                "{{\"username\": \"learner{n}\", \"password_hash\": \"!\", \
                 \"email\": \"l{n}@example.com\", \"first_name\": \"Name{n}\"}}\n"
            )
        })
        .collect();
    let options = ImportOptions {
        chunk_size: users,
        ..Default::default()
    };
    let report = transfer::import(&admin, rows.as_bytes(), &options, &mut |_| {}).expect("import");
    assert_eq!(report.created, users as u64);
    drop(rows);
    // The lines go nowhere: what is measured is what the export holds.
    let mut written = Counting(0);
    let _profiler = profiler();
    let before = dhat::HeapStats::get();
    let lines = transfer::export(&admin, &mut written).expect("export");
    let after = dhat::HeapStats::get();
    let peak = after.max_bytes.saturating_sub(before.curr_bytes);
    assert_eq!(lines, users as u64 + 4, "header, counters, users, trailer");
    eprintln!(
        "an export of {users} users ({} bytes): {peak} bytes at the peak",
        written.0
    );
    // Holding every user first took about 850 bytes a user (4.3 MB here).
    assert!(
        peak < 500_000,
        "an export of {users} users took {peak} bytes"
    );
}

/// A writer that counts the bytes it is given and keeps none.
struct Counting(usize);

impl std::io::Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
