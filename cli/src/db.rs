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

/// The options of the PostgreSQL backend for this process.
pub fn options() -> roster_postgres::Options {
    let defaults = roster_postgres::Options::default();
    roster_postgres::Options {
        pool_size: POOL.get().copied().unwrap_or(defaults.pool_size),
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

/// Opens the institute `db` names: a store file, shared with the other
/// `roster` processes, or a PostgreSQL database.
pub fn open(db: &Path, config: Config) -> roster::Result<Institute> {
    match postgres_url(db) {
        Some(url) => roster_postgres::open(url, config, options()),
        None => Institute::open_shared(db, config),
    }
}

/// `db` as messages show it: a URL's password replaced by `***`.
pub fn shown(db: &Path) -> String {
    let Some(url) = postgres_url(db) else {
        return db.display().to_string();
    };
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    // The user information ends at the last `@` before the host's path.
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let user = &rest[..at];
            let user = user.split_once(':').map_or(user, |(name, _)| name);
            let masked = if rest[..at].contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{masked}{}", &rest[at..])
        }
        None => url.to_string(),
    }
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
        assert!(postgres_url(Path::new("postgres.redb")).is_none());
    }
}
