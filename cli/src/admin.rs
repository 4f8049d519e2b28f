//! Host-level commands on the store file: `superuser`, `unlock`, `import`,
//! `export`. They run as the local operator: whoever can open the file owns
//! it (SPEC A6).

use crate::db::Missing;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use roster::transfer::{self, ImportOptions};
use roster::{Config, Institute};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::{EXIT_FAILURE, EXIT_USAGE};

/// `roster superuser`.
#[derive(Debug, Args)]
pub struct SuperuserArgs {
    /// The administrator's username (an existing user becomes one).
    #[arg(long)]
    username: String,
    /// The password (visible to other local users in the process list: prefer --password-stdin).
    #[arg(
        long,
        conflicts_with = "password_stdin",
        required_unless_present = "password_stdin"
    )]
    password: Option<String>,
    /// Read the password from the first line of standard input (typed at a
    /// terminal, with echo off).
    #[arg(long)]
    password_stdin: bool,
}

/// `roster changes`.
#[derive(Debug, Args)]
pub struct ChangesArgs {
    /// Print the entries after this one (0: from the start of the feed).
    #[arg(long, default_value_t = 0)]
    since: u64,
    /// Print at most this many (1 to 1000).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: u32,
    /// Instead, remove the entries older than the retention window and say
    /// how many went.
    #[arg(long, conflicts_with_all = ["since", "limit"])]
    purge: bool,
}

/// `roster unlock`.
#[derive(Debug, Args)]
pub struct UnlockArgs {
    /// The locked account's username (or email).
    username: String,
}

/// `roster import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A CSV or JSON Lines file of users, or a `roster export` file.
    file: PathBuf,
    /// A batch (by name) every imported user joins.
    #[arg(long)]
    batch: Option<String>,
    /// Create the batches that --batch and the rows name and that do not
    /// exist yet, before the first row is imported. Without it, such a
    /// batch is an error naming it, and nothing is imported.
    #[arg(long)]
    create_batches: bool,
    /// Expiry (yyyy-mm-dd) of the --batch membership.
    #[arg(long, requires = "batch")]
    expires: Option<String>,
    /// Restore an export written before exports had a trailer (format 1):
    /// a file cut short cannot be detected, so check the result.
    #[arg(long)]
    legacy_export: bool,
    /// Rows per transaction, 1 to 100000 (default 1000). Each transaction
    /// is a durable commit that rewrites the index pages its rows touched,
    /// so rows that carry password hashes (an export, users from another
    /// system) import about twice as fast with 10000; rows with passwords
    /// are bound by hashing them either way. A storage error keeps the
    /// chunks committed before it.
    #[arg(long, value_name = "ROWS")]
    chunk_size: Option<u32>,
}

/// `roster export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Where to write the JSON Lines (it holds password hashes: keep it safe).
    file: PathBuf,
}

fn open(db: &Path, config: Config, missing: Missing) -> Result<Institute, ExitCode> {
    match crate::db::open_for(db, config, missing) {
        Ok((institute, note)) => {
            if let Some(note) = note {
                eprintln!("{note}");
            }
            Ok(institute)
        }
        Err(message) => {
            eprintln!("{message}");
            Err(ExitCode::from(EXIT_FAILURE))
        }
    }
}

fn fail(err: roster::Error) -> ExitCode {
    fail_with(err, EXIT_FAILURE)
}

/// Prints `err` with its code and exits with `code`.
fn fail_with(err: roster::Error, code: u8) -> ExitCode {
    eprintln!(
        "error: {err} ({}){}",
        err.code().as_str(),
        crate::db::cause_note(&err)
    );
    ExitCode::from(code)
}

/// The first line of standard input, without its line ending; `None` when
/// there is none or it is empty. Typed at a terminal, it is read with echo
/// off, as `passwd` reads one, so the password never shows on the screen.
fn password_from_stdin() -> Option<String> {
    use std::io::IsTerminal;
    let line = if std::io::stdin().is_terminal() {
        eprint!("Password: ");
        rpassword::read_password().ok()?
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).ok()?;
        line
    };
    let password = line.trim_end_matches(['\r', '\n']);
    (!password.is_empty()).then(|| password.to_string())
}

/// Creates or resets an administrator.
pub fn superuser(db: &Path, config: Config, args: &SuperuserArgs) -> ExitCode {
    let password = match (&args.password, args.password_stdin) {
        (Some(p), false) => p.clone(),
        _ => match password_from_stdin() {
            Some(password) => password,
            None => {
                eprintln!("error: no password on standard input");
                return ExitCode::from(EXIT_USAGE);
            }
        },
    };
    let institute = match open(db, config, Missing::Create) {
        Ok(i) => i,
        Err(code) => return code,
    };
    match institute.create_superuser(&args.username, &password) {
        Ok(id) => {
            println!("superuser {} (id {id}) is ready", args.username);
            ExitCode::SUCCESS
        }
        Err(err) => fail(err),
    }
}

/// Ends a lock-out at once.
pub fn unlock(db: &Path, config: Config, args: &UnlockArgs) -> ExitCode {
    let institute = match open(db, config, Missing::Refuse) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let admin = institute.operator();
    let found = admin.find_user(&args.username);
    match found.and_then(|id| admin.unlock_user(id)) {
        Ok(()) => {
            println!("{} is unlocked", args.username);
            ExitCode::SUCCESS
        }
        Err(err) => fail(err),
    }
}

/// Prints entries of the change feed as JSON Lines (the REST path's
/// entries); on stderr, the `--since` of the next call and whether more
/// are waiting. Or purges the feed.
pub fn changes(db: &Path, config: Config, args: &ChangesArgs) -> ExitCode {
    let institute = match open(db, config, Missing::Refuse) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let admin = institute.operator();
    if args.purge {
        return match admin.purge_changes() {
            Ok(n) => {
                println!("{n} entries of the change feed removed");
                ExitCode::SUCCESS
            }
            Err(err) => fail(err),
        };
    }
    let page = match admin.changes_since(args.since, args.limit) {
        Ok(page) => roster::json::testpress::ChangeFeed::new(page),
        Err(err) => return fail(err),
    };
    let mut out = std::io::stdout().lock();
    for entry in &page.results {
        let line = serde_json::to_string(entry).unwrap_or_default();
        if writeln!(out, "{line}").is_err() {
            return ExitCode::from(EXIT_FAILURE);
        }
    }
    eprintln!("next: {} (more: {})", page.next, page.more);
    ExitCode::SUCCESS
}

/// The end of `roster import --help`: the CSV columns, from the list the
/// importer reads (so the help cannot drift from it).
pub fn import_help() -> String {
    format!(
        "CSV columns (a header row names them, in any order): {}, and \
         custom_fields.<Name> for a custom field. `batches` is a ;-separated \
         list of batch names. JSON Lines rows are create-user bodies with the \
         same keys.",
        transfer::CSV_COLUMNS.join(", ")
    )
}

/// `names` in double quotes, comma-separated.
/// The first [`QUOTED_MAX`] of `names`, quoted, and how many more there
/// are: a file may name thousands, and a message is read by a person.
fn quoted(names: &[String]) -> String {
    let mut text = names
        .iter()
        .take(QUOTED_MAX)
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > QUOTED_MAX {
        text.push_str(&format!(" and {} more", names.len() - QUOTED_MAX));
    }
    text
}

/// The most names a message quotes.
const QUOTED_MAX: usize = 10;

/// Imports users (or restores an export), with a progress bar and a report.
///
/// Before any row: the file is surveyed (its rows and the batches they
/// name), and the batches `--batch` and the rows name must exist, or be
/// created with `--create-batches`; a missing store is not created for an
/// import that would stop there.
pub fn import(db: &Path, config: Config, args: &ImportArgs) -> ExitCode {
    let options = match ImportOptions::try_from(roster::ImportSettings {
        batches: args.batch.iter().cloned().collect(),
        expires: args.expires.clone(),
        chunk_size: args.chunk_size,
        legacy_export: args.legacy_export,
    }) {
        Ok(options) => options,
        // A bad option is a usage error: nothing read, no store made.
        Err(err) => return fail_with(err, EXIT_USAGE),
    };
    // The file is read twice, as a stream each time (a survey, then the
    // import), never held whole in memory: through one handle, rewound in
    // between, so both passes read the same file. A pipe cannot be read
    // twice (the import would find it drained after the survey had
    // created its batches): only a regular file is taken.
    let mut file = match std::fs::File::open(&args.file) {
        Ok(file) => file,
        Err(e) => {
            eprintln!("error: cannot read '{}': {e}", args.file.display());
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match file.metadata() {
        Ok(m) if m.is_file() => {}
        Ok(_) => {
            eprintln!(
                "error: '{}' is not a regular file (a pipe or a device): an import reads \
                 its file twice, a survey then the rows; save it to a file first",
                args.file.display()
            );
            return ExitCode::from(EXIT_USAGE);
        }
        Err(e) => {
            eprintln!("error: cannot read '{}': {e}", args.file.display());
            return ExitCode::from(EXIT_USAGE);
        }
    }
    let survey = match transfer::survey(&file) {
        Ok(survey) => survey,
        Err(err) => return fail(err),
    };
    if survey.export && (args.batch.is_some() || args.create_batches) {
        eprintln!(
            "error: '{}' is a roster export, restored as it is: --batch and \
             --create-batches do not apply to it",
            args.file.display()
        );
        return ExitCode::from(EXIT_USAGE);
    }
    // Each name once, ignoring case, found by hashing (a file may name
    // many batches).
    let mut batches: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for name in args.batch.iter().cloned().chain(survey.batches) {
        if seen.insert(name.trim().to_ascii_lowercase()) {
            batches.push(name);
        }
    }
    // A store that is not there has no batch: refuse before creating it.
    if !batches.is_empty() && !args.create_batches && crate::db::existing(db).is_err() {
        return missing_batches(&batches);
    }
    let institute = match open(db, config, Missing::Create) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let admin = institute.operator();
    let missing = match admin.missing_batches(&batches) {
        Ok(missing) => missing,
        Err(err) => return fail(err),
    };
    if !missing.is_empty() {
        if !args.create_batches {
            return missing_batches(&missing);
        }
        let mut created = Vec::new();
        for name in &missing {
            let input = roster::BatchInput {
                name: Some(name.trim().to_string()),
            };
            if let Err(err) = admin.create_batch(input) {
                eprintln!(
                    "error: cannot create the batch \"{}\": {err} ({}); nothing was imported{}",
                    name.trim(),
                    err.code().as_str(),
                    if created.is_empty() {
                        String::new()
                    } else {
                        format!(" (created before it: {})", quoted(&created))
                    }
                );
                return ExitCode::from(EXIT_FAILURE);
            }
            eprintln!("created the batch \"{}\"", name.trim());
            created.push(name.trim().to_string());
        }
    }
    let bar = ProgressBar::new(survey.rows.max(1));
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} {bar:40} {pos}/{len} rows {per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    // The bar moves as each password is hashed; the tick keeps the clock
    // and rate moving while a chunk commits.
    bar.enable_steady_tick(Duration::from_millis(100));
    let began = Instant::now();
    if let Err(e) = std::io::Seek::rewind(&mut file) {
        eprintln!("error: cannot read '{}' again: {e}", args.file.display());
        return ExitCode::from(EXIT_FAILURE);
    }
    let file = std::io::BufReader::new(file);
    // Each refused row is printed as its chunk is done, not kept: a file of
    // millions of bad rows costs the report's first rows, no more. Standard
    // output that cannot be written (a closed pipe, a full disk) stops the
    // printing, not the import, and is reported at the end.
    let mut unprinted: Option<std::io::Error> = None;
    let result = transfer::import_hearing(
        &admin,
        file,
        &options,
        &mut |done| bar.set_position(done),
        &mut |r| {
            if unprinted.is_some() {
                return;
            }
            bar.suspend(|| {
                let name = if r.username.is_empty() {
                    "-"
                } else {
                    &r.username
                };
                let mut out = std::io::stdout().lock();
                if let Err(e) = writeln!(out, "line {}: {name}: {}", r.line, r.reason) {
                    unprinted = Some(e);
                }
            });
        },
    );
    if let Some(e) = &unprinted {
        eprintln!(
            "error: the rejected rows could not all be written to standard output ({e}); \
             the import went on"
        );
    }
    let took = began.elapsed();
    bar.finish_and_clear();
    if let Ok(report) = &result {
        for warning in &report.warnings {
            eprintln!("warning: {warning}");
        }
    }
    match result {
        Ok(report) if report.restored => {
            let said = writeln!(
                std::io::stdout(),
                "restored the export '{}': {} users in {}",
                args.file.display(),
                report.created,
                timing(report.created, took)
            );
            match said {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::from(EXIT_FAILURE),
            }
        }
        Ok(report) => {
            let said = writeln!(
                std::io::stdout(),
                "imported {} users in {}, {} rows rejected",
                report.created,
                timing(report.created, took),
                report.rejected_count
            );
            if report.rejected_count == 0 && unprinted.is_none() && said.is_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_FAILURE)
            }
        }
        Err(err) => fail(err),
    }
}

/// `X s (Y users/s)` for `users` in `took`.
fn timing(users: u64, took: Duration) -> String {
    let secs = took.as_secs_f64();
    let rate = if secs > 0.0 { users as f64 / secs } else { 0.0 };
    format!("{secs:.2} s ({rate:.1} users/s)")
}

/// The error of batches that do not exist: nothing was imported.
fn missing_batches(names: &[String]) -> ExitCode {
    eprintln!(
        "error: {} {} not exist: nothing was imported (create {} first, or pass \
         --create-batches)",
        if names.len() == 1 {
            "the batch"
        } else {
            "the batches"
        },
        if names.len() == 1 {
            format!("{} does", quoted(names))
        } else {
            format!("{} do", quoted(names))
        },
        if names.len() == 1 { "it" } else { "them" }
    );
    ExitCode::from(EXIT_FAILURE)
}

/// Whether `a` and `b` name one existing file (through links, `..` or
/// another spelling).
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        #[cfg(unix)]
        (Ok(x), Ok(y)) => {
            use std::os::unix::fs::MetadataExt;
            (x.dev(), x.ino()) == (y.dev(), y.ino())
        }
        #[cfg(not(unix))]
        (Ok(_), Ok(_)) => match (a.canonicalize(), b.canonicalize()) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        },
        _ => false,
    }
}

/// Writes the whole store as JSON Lines, replacing the file atomically (a
/// failure leaves an older file as it was); a new file is 0600 on Unix.
pub fn export(db: &Path, config: Config, args: &ExportArgs) -> ExitCode {
    // The export replaces its file: never the store it reads, nor the
    // store's journal.
    let journal = roster::store::journal_path(db);
    if [db, journal.as_path()]
        .into_iter()
        .any(|store| same_file(store, &args.file))
    {
        eprintln!(
            "error: '{}' is the store itself: an export is written to another file",
            args.file.display()
        );
        return ExitCode::from(EXIT_FAILURE);
    }
    let institute = match open(db, config, Missing::Refuse) {
        Ok(i) => i,
        Err(code) => return code,
    };
    match transfer::export_file(&institute.operator(), &args.file) {
        Ok(lines) => {
            println!(
                "exported {lines} lines to '{}' (it contains password hashes)",
                args.file.display()
            );
            ExitCode::SUCCESS
        }
        Err(err) => fail(err),
    }
}
