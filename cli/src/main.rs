//! `roster`: the command-line tool of roster.
//!
//! It opens a roster store (a redb file, `--db`, default `./institute.redb`)
//! and sends one request through the in-process REST facade (`roster api`),
//! serves that facade over HTTP (`roster serve`), runs the host-level
//! commands (`superuser`, `unlock`, `import`, `export`, `check`,
//! `recover`, `changes`), or walks through the
//! documented Testpress scenario on a throw-away store (`roster demo`).
//!
//! Exit codes: 0 success (HTTP status below 400), 1 failure (HTTP status 400
//! or above, a store that cannot be opened, a demo step that went wrong),
//! 2 usage error (bad arguments; clap's own parse errors exit 2 as well).

mod admin;
mod api;
mod db;
mod demo;
mod repair;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use roster::{Config, FixedClock};

/// Exit code of a usage error (bad arguments), as clap uses for its own.
pub const EXIT_USAGE: u8 = 2;
/// Exit code of a request or operation that failed.
pub const EXIT_FAILURE: u8 = 1;

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(
    name = "roster",
    version,
    about = "User administration for an education institute, on one redb file.",
    long_about = "User administration for an education institute, on one redb file.\n\n\
                  Exit codes: 0 success, 1 request failed (HTTP status >= 400) or the \
                  store could not be opened, 2 usage error."
)]
struct Cli {
    /// The store file, or a PostgreSQL database:
    /// `postgres://user:password@host:port/database`. A missing store file
    /// (or a database without roster's table) is created, saying so on
    /// stderr, by `superuser`, `import`, `serve` and `api` with a method
    /// other than GET or HEAD; every other command refuses it, naming the
    /// path. The value of ROSTER_DB is never shown.
    #[arg(
        long,
        global = true,
        env = "ROSTER_DB",
        hide_env_values = true,
        default_value = "./institute.redb",
        value_name = "PATH|URL"
    )]
    db: PathBuf,

    /// PostgreSQL only: most connections this process opens to the
    /// database at once (at least 2: a read may run beside a write; default
    /// 8). Refused with a store file, which has no connection pool.
    #[arg(
        long,
        global = true,
        env = "ROSTER_DB_POOL",
        value_name = "N",
        value_parser = clap::value_parser!(u16).range(2..)
    )]
    db_pool: Option<u16>,

    /// Fix the clock at this instant for this invocation (RFC 3339, e.g.
    /// 2023-01-12T11:06:19+05:30). Without it the system clock is used.
    #[arg(long, global = true, value_name = "RFC3339", value_parser = parse_now)]
    now: Option<DateTime<Utc>>,

    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Send one request through the REST facade and print the response body.
    ///
    /// `HTTP <status>` is the first line on stderr. Without --token the
    /// request runs as the local operator (full rights: whoever can open the
    /// store file owns it); with --token the normal permission checks apply.
    Api(api::ApiArgs),
    /// Print the OpenAPI 3.1 document of every path `roster serve` serves
    /// (`roster serve` also serves it, without a token, at
    /// /api/openapi.json). The --db store is not opened.
    Openapi,
    /// Walk through the documented scenario on a new temporary store,
    /// printing every request and response (the --db file is not touched).
    Demo,
    /// Serve the REST facade over HTTP/1.1 until Ctrl-C (every request is
    /// authenticated; there is no operator shortcut over the network).
    ///
    /// The first line on stdout is `roster serve: listening on http://ADDR`;
    /// each request is logged on stderr as `METHOD path status duration`.
    Serve(serve::ServeArgs),
    /// Create an administrator (an active staff superuser), or make an
    /// existing user one with a new password.
    Superuser(admin::SuperuserArgs),
    /// End an account's lock-out after failed sign-ins at once.
    Unlock(admin::UnlockArgs),
    /// Import users from CSV or JSON Lines (rows applied whole or not at
    /// all; each rejected row is printed as its chunk is done), or
    /// restore a `roster export`
    /// into an empty store.
    #[command(after_help = admin::import_help())]
    Import(admin::ImportArgs),
    /// Write the whole store as JSON Lines. The file contains password
    /// hashes (so a restore keeps passwords): keep it as safe as the store.
    Export(admin::ExportArgs),
    /// Check the store without writing it: the storage engine's checks and
    /// roster's invariants. Exit 0 when sound, 1 with a list of problems.
    Check,
    /// Copy every record that can be read into a new store (indexes
    /// rebuilt) and report per entity how many were saved and lost. The
    /// --db file is never written.
    Recover(repair::RecoverArgs),
    /// Print the change feed (every administrative change, numbered in
    /// commit order, secrets left out) as JSON Lines, from --since on; or
    /// --purge the entries older than the retention window.
    Changes(admin::ChangesArgs),
}

/// Parses `--now`: an RFC 3339 date-time with an offset.
fn parse_now(text: &str) -> Result<DateTime<Utc>, String> {
    let at = DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|e| {
            format!("not an RFC 3339 date-time ({e}); example: 2023-01-12T11:06:19+05:30")
        })?;
    match roster::clock::in_range(at) {
        true => Ok(at),
        false => Err("the clock must stand between 1970-01-01 and 9998-12-31".into()),
    }
}

/// The store configuration for this invocation: defaults, with a fixed clock
/// when `--now` was given.
fn config(now: Option<DateTime<Utc>>) -> Config {
    let config = Config::default();
    match now {
        Some(at) => config.with_clock(Arc::new(FixedClock::new(at))),
        None => config,
    }
}

/// `roster openapi`: the document on stdout (a closed pipe, as with
/// `| head`, ends it quietly).
fn print_openapi() -> ExitCode {
    use std::io::Write;
    let document = roster::rest::openapi::document();
    match writeln!(std::io::stdout().lock(), "{document}") {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("roster: cannot write the document: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// Prints a usage error in clap's style and returns the usage exit code.
pub fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_USAGE)
}

fn main() -> ExitCode {
    // `parse` exits 2 on a parse error and 0 for --help / --version.
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Demo | Command::Openapi)
        && let Err(why) = db::usable(&cli.db)
    {
        return usage_error(&why);
    }
    if let Some(pool) = cli.db_pool {
        if db::postgres_url(&cli.db).is_none()
            && !matches!(cli.command, Command::Demo | Command::Openapi)
        {
            return usage_error(&format!(
                "--db-pool (ROSTER_DB_POOL) sizes the connection pool of a PostgreSQL \
                 database; '{}' is a store file, which has none",
                db::shown(&cli.db)
            ));
        }
        db::set_pool(usize::from(pool));
    }
    match cli.command {
        Command::Api(args) => api::run(&cli.db, config(cli.now), &args),
        Command::Demo => demo::run(cli.now),
        Command::Openapi => print_openapi(),
        Command::Serve(args) => serve::run(&cli.db, config(cli.now), &args),
        Command::Superuser(args) => admin::superuser(&cli.db, config(cli.now), &args),
        Command::Unlock(args) => admin::unlock(&cli.db, config(cli.now), &args),
        Command::Import(args) => admin::import(&cli.db, config(cli.now), &args),
        Command::Export(args) => admin::export(&cli.db, config(cli.now), &args),
        Command::Check => repair::check(&cli.db),
        Command::Recover(args) => repair::recover(&cli.db, &args),
        Command::Changes(args) => admin::changes(&cli.db, config(cli.now), &args),
    }
}
