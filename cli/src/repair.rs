//! `roster check` and `roster recover`: the store file is only ever read;
//! both work on a temporary copy (redb's repair writes in place).

use clap::Args;
use roster::store::recover;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::EXIT_FAILURE;

/// `roster recover`.
#[derive(Debug, Args)]
pub struct RecoverArgs {
    /// The new store to write (must not exist).
    #[arg(long, value_name = "NEW")]
    to: PathBuf,
}

/// Checks the store: exit 0 when sound, 1 with the list of problems. On
/// PostgreSQL, roster's own invariants (every index against its records,
/// relations, counters); the database checks its pages itself.
pub fn check(db: &Path) -> ExitCode {
    if let Err(message) = crate::db::existing(db) {
        eprintln!("{message}");
        return ExitCode::from(EXIT_FAILURE);
    }
    if crate::db::postgres_url(db).is_some() {
        let problems = crate::db::open_existing(db, roster::Config::default())
            .and_then(|institute| institute.check_integrity());
        return match problems {
            Err(err) => {
                eprintln!(
                    "error: cannot check '{}': {err}{}",
                    crate::db::shown(db),
                    crate::db::cause_note(&err)
                );
                ExitCode::from(EXIT_FAILURE)
            }
            Ok(problems) if problems.is_empty() => {
                println!("{}: sound", crate::db::shown(db));
                ExitCode::SUCCESS
            }
            Ok(problems) => {
                println!("{}: {} problem(s)", crate::db::shown(db), problems.len());
                for problem in &problems {
                    println!("  {problem}");
                }
                ExitCode::from(EXIT_FAILURE)
            }
        };
    }
    let report = match recover::check(db) {
        Ok(report) => report,
        Err(err) => {
            eprintln!(
                "error: cannot check '{}': {err}{}",
                db.display(),
                crate::db::cause_note(&err)
            );
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    for note in &report.notes {
        println!("note: {note}");
    }
    if report.is_sound() {
        println!("{}: sound", db.display());
        return ExitCode::SUCCESS;
    }
    println!(
        "{}: {} problem(s); `roster recover --to NEW` copies what can be read into a new store",
        db.display(),
        report.problems.len()
    );
    for problem in &report.problems {
        println!("  {problem}");
    }
    ExitCode::from(EXIT_FAILURE)
}

/// Copies every readable record into a new store and reports per entity.
/// A store file only: a PostgreSQL database is repaired with its own tools.
pub fn recover(db: &Path, args: &RecoverArgs) -> ExitCode {
    if crate::db::postgres_url(db).is_some() {
        eprintln!(
            "error: `roster recover` salvages a store file; a PostgreSQL database is restored with its own tools (or `roster export` / `import`)"
        );
        return ExitCode::from(crate::EXIT_USAGE);
    }
    if let Err(message) = crate::db::existing(db) {
        eprintln!("{message}");
        return ExitCode::from(EXIT_FAILURE);
    }
    let report = match recover::recover(db, &args.to) {
        Ok(report) => report,
        Err(err) => {
            eprintln!(
                "error: cannot recover '{}': {err} ({}){}",
                db.display(),
                err.code().as_str(),
                crate::db::cause_note(&err)
            );
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    for note in &report.notes {
        println!("note: {note}");
    }
    if report.carved {
        println!(
            "note: records were carved out of the raw file: a carved record may be an older version, or one deleted since"
        );
    }
    println!(
        "{:<14} {:>8} {:>8} {:>8}",
        "entity", "saved", "lost", "carved"
    );
    for e in &report.entities {
        let lost = e.lost.map_or("unknown".to_string(), |n| n.to_string());
        println!(
            "{:<14} {:>8} {:>8} {:>8}",
            e.entity, e.saved, lost, e.carved
        );
    }
    println!(
        "wrote {} (sessions are not copied: users sign in again)",
        args.to.display()
    );
    ExitCode::SUCCESS
}
