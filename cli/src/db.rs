//! Where `--db` points: a store file (the default), or a PostgreSQL database
//! when the value is a `postgres://` or `postgresql://` URL. Every command
//! opens its institute here, and shows the place it names with
//! [`shown`], which never prints a password. On PostgreSQL the pool holds
//! up to `--db-pool` connections ([`set_pool`]).

use roster::{Config, Institute};
use std::path::Path;
use std::sync::OnceLock;

/// `--db-pool` (`ROSTER_DB_POOL`), set once by `main` before any command
/// opens the institute.
static POOL: OnceLock<usize> = OnceLock::new();

/// Most connections the PostgreSQL backend opens at once in this process
/// (`--db-pool`); without it, [`roster_postgres::Options`]'s default.
pub fn set_pool(connections: usize) {
    let _ = POOL.set(connections);
}

/// The options of the PostgreSQL backend for this process: roster's table
/// is created when missing only if `create`.
pub fn options(create: bool) -> roster_postgres::Options {
    let defaults = roster_postgres::Options::default();
    roster_postgres::Options {
        pool_size: POOL.get().copied().unwrap_or(defaults.pool_size),
        create,
        ..defaults
    }
}

/// The PostgreSQL URL `db` holds, if it is one.
pub fn postgres_url(db: &Path) -> Option<&str> {
    let text = db.to_str()?;
    ["postgres://", "postgresql://"]
        .iter()
        .any(|scheme| text.starts_with(scheme))
        .then_some(text)
}

/// Refuses a `--db` value that is meant for PostgreSQL but is not a URL
/// this command line reads: libpq's key-value form (`host=db user=roster
/// password=...`) and a scheme not in lower case. Taken for a file name,
/// either would become a new store file named after the connection string,
/// password included, and be printed in messages. The message does not
/// echo the value.
pub fn usable(db: &Path) -> Result<(), String> {
    let text = db.to_string_lossy();
    let scheme = text.split_once("://").map(|(scheme, _)| scheme);
    if scheme.is_some_and(|s| {
        (s.eq_ignore_ascii_case("postgres") || s.eq_ignore_ascii_case("postgresql"))
            && s != "postgres"
            && s != "postgresql"
    }) {
        return Err(
            "the --db URL's scheme must be written in lower case: postgres:// or \
                    postgresql://"
                .into(),
        );
    }
    // libpq's keywords; a file name rarely starts with one and `=`.
    const KEYWORDS: [&str; 12] = [
        "host",
        "hostaddr",
        "port",
        "dbname",
        "user",
        "password",
        "sslmode",
        "sslrootcert",
        "connect_timeout",
        "application_name",
        "options",
        "target_session_attrs",
    ];
    let key_value = text
        .split_once('=')
        .is_some_and(|(key, _)| KEYWORDS.contains(&key.trim()));
    if key_value {
        return Err(
            "--db looks like a key-value connection string (host=... user=...); \
                    the command line takes the URL form: \
                    postgres://user:password@host:port/database?sslmode=..."
                .into(),
        );
    }
    Ok(())
}

/// What a command does with a store file that is not there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// The command only reads (or can only succeed on a store that has
    /// records): a missing or empty file is an error naming the path, and
    /// no file is created, so a mistyped `--db` never leaves a new store
    /// behind.
    Refuse,
    /// The command writes: a missing (or empty) file becomes a new store,
    /// and one line on stderr says so.
    Create,
}

/// Whether the store file `db` is not there yet: missing, or empty (what
/// `touch` or `mktemp` leaves; roster makes a store in it).
fn absent(db: &Path) -> bool {
    match std::fs::metadata(db) {
        Ok(meta) => meta.is_file() && meta.len() == 0,
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}

/// Refuses a store file `db` that is not there (missing or empty) with an
/// error naming it, for the commands that never create one.
pub fn existing(db: &Path) -> Result<(), String> {
    if postgres_url(db).is_some() || !absent(db) {
        return Ok(());
    }
    let what = if db.exists() {
        "the file is empty, not a roster store"
    } else {
        "no such file"
    };
    Err(format!(
        "error: cannot open the store '{}': {what} (check --db or ROSTER_DB; only \
         `superuser`, `import`, `serve` and `api` with a method other than GET or \
         HEAD create a store)",
        shown(db)
    ))
}

/// Opens the institute `db` names for a command, as `missing` says: the
/// institute, and the line that says a store was created (the caller
/// prints it on stderr, `roster api` after its `HTTP <status>` line), or
/// the `error: ...` line that says why it cannot (the caller exits 1).
/// On PostgreSQL the same holds for roster's table: created when missing
/// only for a command that creates (a mistyped database name fails to
/// connect in any case).
pub fn open_for(
    db: &Path,
    config: Config,
    missing: Missing,
) -> Result<(Institute, Option<String>), String> {
    let mut new = postgres_url(db).is_none() && absent(db);
    if missing == Missing::Refuse {
        existing(db)?;
    }
    let failed = |err: roster::Error| {
        format!(
            "error: cannot open the store '{}': {err} ({}){}",
            shown(db),
            err.code().as_str(),
            cause_note(&err)
        )
    };
    let opened = match (postgres_url(db), missing) {
        // A database without roster's table: created, and said so.
        (Some(_), Missing::Create) => match open_existing(db, config.clone()) {
            Err(err) if err.code() == roster::ErrorCode::NotFound => {
                new = true;
                open_creating(db, config, true)
            }
            other => other,
        },
        (_, missing) => open_creating(db, config, missing == Missing::Create),
    };
    let institute = opened.map_err(failed)?;
    let note = new.then(|| format!("roster: created the store '{}'", shown(db)));
    Ok((institute, note))
}

/// Opens the institute `db` names without creating anything: a PostgreSQL
/// database without roster's table is refused (a store file's absence is
/// checked by [`existing`]).
pub fn open_existing(db: &Path, config: Config) -> roster::Result<Institute> {
    open_creating(db, config, false)
}

/// Opens the institute `db` names: a store file, shared with the other
/// `roster` processes, or a PostgreSQL database, whose roster table is
/// created when missing only if `create` (a store file's absence is
/// checked before this).
fn open_creating(db: &Path, config: Config, create: bool) -> roster::Result<Institute> {
    match postgres_url(db) {
        Some(url) => roster_postgres::open(url, config, options(create)),
        None => Institute::open_shared(db, config),
    }
}

/// The failure below `err` in its own words, on a line of its own (empty
/// when there is none): what the storage engine or the PostgreSQL server
/// said. A public message leaves it out (it may reach an HTTP client); the
/// person at the command line is the operator, who needs it.
pub fn cause_note(err: &roster::Error) -> String {
    let mut deepest = None;
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        deepest = Some(cause);
        source = cause.source();
    }
    deepest.map_or_else(String::new, |cause| format!("\n  cause: {cause}"))
}

/// `db` as messages show it: a URL's password replaced by `***`, wherever
/// the driver would read one (tokio-postgres takes the user information up
/// to the first `@`, whatever comes before it, so a password may hold `/`
/// or `?`; and a `password` query parameter).
pub fn shown(db: &Path) -> String {
    let Some(url) = postgres_url(db) else {
        return db.display().to_string();
    };
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let rest = match rest.split_once('@') {
        Some((credentials, after)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{user}:***@{after}"),
            None => rest.to_string(),
        },
        None => rest.to_string(),
    };
    let rest = match rest.split_once('?') {
        Some((before, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _))
                        if roster::rest::query_decoded(key).eq_ignore_ascii_case("password") =>
                    {
                        format!("{key}=***")
                    }
                    _ => pair.to_string(),
                })
                .collect();
            format!("{before}?{}", query.join("&"))
        }
        None => rest,
    };
    format!("{scheme}://{rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_postgres_and_their_passwords_are_hidden() {
        let p = |s: &str| shown(Path::new(s));
        assert_eq!(p("./institute.redb"), "./institute.redb");
        assert_eq!(
            p("postgres://roster:s3cret@db:5432/roster?sslmode=require"),
            "postgres://roster:***@db:5432/roster?sslmode=require"
        );
        assert_eq!(p("postgresql://a:b:c@h/d"), "postgresql://a:***@h/d");
        assert_eq!(
            p("postgres://roster@db/roster"),
            "postgres://roster@db/roster"
        );
        assert_eq!(p("postgres://db/roster"), "postgres://db/roster");
        // A password holding `/`, `?` or `#` (base64 passwords do), and
        // one given as a query parameter.
        assert_eq!(
            p("postgres://roster:Ab3/xY+z9Q@127.0.0.1:1/roster?connect_timeout=2"),
            "postgres://roster:***@127.0.0.1:1/roster?connect_timeout=2"
        );
        assert_eq!(
            p("postgres://roster:a?b#c@h/d"),
            "postgres://roster:***@h/d"
        );
        assert_eq!(
            p("postgres://roster@h/d?sslmode=require&password=S3cret&x=1"),
            "postgres://roster@h/d?sslmode=require&password=***&x=1"
        );
        assert_eq!(
            p("postgres://roster@h/d?PASSWORD=S3cret"),
            "postgres://roster@h/d?PASSWORD=***"
        );
        assert_eq!(
            p("postgres://roster@h/d?%70assword=S3cret"),
            "postgres://roster@h/d?%70assword=***"
        );
        assert!(postgres_url(Path::new("postgres.redb")).is_none());
    }
}
