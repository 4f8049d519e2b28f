//! roster's storage seam ([`roster::Backend`]) on PostgreSQL: the same
//! core, with every rule and index written once above the seam, keeping
//! its rows in a PostgreSQL database instead of a redb file. [`open`] gives
//! an [`Institute`] on it (issue 12's first part; the CLI's `--db`, id
//! blocks per process and the change feed come next).
//!
//! ```no_run
//! let institute = roster_postgres::open(
//!     "postgres://roster@db.example.com/roster",
//!     roster::Config::default(),
//!     roster_postgres::Options::default(),
//! )?;
//! # Ok::<(), roster::Error>(())
//! ```
//!
//! # Layout
//!
//! One SQL table holds every logical table:
//! `roster_rows (tab text, key bytea, value bytea, PRIMARY KEY (tab, key))`.
//! It is equivalent to a table per logical table (the primary key orders
//! the rows of one `tab` by key, and `bytea` compares bytewise, the order
//! of the seam) and keeps the seam's rule that a table never written reads
//! as empty, with no DDL while roster runs: the one table is created when
//! the backend connects.
//!
//! # Transactions
//!
//! Writes through one backend run one at a time (they would only collide
//! with each other); a read runs beside a write. A read is one
//! `REPEATABLE READ, READ ONLY` transaction (a snapshot,
//! taken when the read begins: PostgreSQL would take it at the first
//! statement, so the backend runs one at once). A
//! write is one `SERIALIZABLE` transaction; when PostgreSQL refuses it for
//! a race with another transaction (SQLSTATE `40001`, `40P01`, or `23505`)
//! the closure runs again from a fresh transaction, up to
//! [`Options::retries`] times, so the process that lost the race gets the
//! answer it would have had coming second. Only exhausted retries are a
//! `conflict`.
//!
//! Scans fetch [`CHUNK`] rows at a time (keyset pages), so a callback that
//! stops early does not pay for the rest of the range.
//!
//! # Connections
//!
//! A pool of up to [`Options::pool_size`] connections: a call waits for a
//! free one when all are busy; a connection the server closed is dropped
//! and replaced on the next call. The connection string's password never
//! appears in an error or in this type's `Debug` output.
//!
//! # TLS
//!
//! `sslmode` in the connection string: `disable` (plain TCP), `prefer`
//! (the default: TLS when the server offers it) or `require` (TLS, or no
//! connection). TLS is rustls; the server's certificate must chain to one
//! of the public roots (webpki-roots) or of the PEM file named by
//! `sslrootcert=PATH`, and name the host connected to, whatever the mode:
//! a certificate that does not verify fails the connection.

use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, Config, IsolationLevel, Transaction};
use roster::store::backend::RowVisitor;
use roster::store::{Backend, Reader, Writer};
use roster::{Error, ErrorCode, Institute, Result};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::{Condvar, Mutex};
use tokio_postgres_rustls::MakeRustlsConnect;

#[cfg(feature = "testing")]
pub mod testing;
mod tls;

/// Rows fetched per round trip of a scan.
pub const CHUNK: i64 = 256;

/// How the backend connects and retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Most connections open at once (at least 2: a read may run beside
    /// the write that is under way on the same backend).
    pub pool_size: usize,
    /// Most times a write is run again after losing a race.
    pub retries: u32,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            pool_size: 8,
            retries: 10,
        }
    }
}

/// An institute on the PostgreSQL database of `url`: roster's table is
/// created when missing, and a store of an older format is migrated, as a
/// store file is. Several processes may open the same database.
pub fn open(url: &str, config: roster::Config, options: Options) -> Result<Institute> {
    let backend = PgBackend::connect(url, options)?;
    Institute::open_with(std::sync::Arc::new(backend), config)
}

/// The table of every row.
const CREATE: &str = "CREATE TABLE IF NOT EXISTS roster_rows (\
    tab text NOT NULL, key bytea NOT NULL, value bytea NOT NULL, \
    PRIMARY KEY (tab, key))";

/// roster's storage on a PostgreSQL database.
pub struct PgBackend {
    config: Config,
    /// Used when `sslmode` is not `disable`.
    tls: MakeRustlsConnect,
    options: Options,
    pool: Mutex<Pool>,
    freed: Condvar,
    /// One write at a time from this handle: writes of one process would
    /// only collide with each other (they share its id block and the rows
    /// that follow from it), so they queue here, as on a store file, and
    /// serializable isolation arbitrates between processes.
    writing: Mutex<()>,
}

/// The idle connections and how many are open in all.
struct Pool {
    idle: Vec<Client>,
    open: usize,
}

impl std::fmt::Debug for PgBackend {
    /// The engine and the pool, never the connection string.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgBackend")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// A failure of PostgreSQL, in roster's words (the driver's text stays in
/// the source, for logs).
fn storage(e: postgres::Error) -> Error {
    Error::storage("the PostgreSQL database failed", e)
}

/// Whether `e` is PostgreSQL refusing a transaction for a race with
/// another one: running it again may succeed.
fn is_race(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE
            || *c == SqlState::T_R_DEADLOCK_DETECTED
            || *c == SqlState::UNIQUE_VIOLATION
    )
}

impl PgBackend {
    /// Connects to the database of `url` (`postgres://user:password@host:port/db`
    /// or the key-value form) and creates roster's table when missing. An
    /// invalid string is refused without echoing it. Besides the driver's
    /// parameters (`sslmode`, `connect_timeout`, …) it may hold
    /// `sslrootcert=PATH`: a PEM file of certificate authorities trusted
    /// besides the public ones.
    pub fn connect(url: &str, options: Options) -> Result<PgBackend> {
        let (url, root_cert) = tls::take_root_cert(url);
        let config: Config = url.parse().map_err(|_| {
            Error::new(
                ErrorCode::Validation,
                "the PostgreSQL connection string is not valid",
            )
        })?;
        PgBackend::with_config_tls(config, options, root_cert.as_deref())
    }

    /// Connects with a driver configuration (for settings a URL cannot
    /// carry, e.g. a `search_path` in `options`), trusting the public
    /// roots when the connection uses TLS.
    pub fn with_config(config: Config, options: Options) -> Result<PgBackend> {
        PgBackend::with_config_tls(config, options, None)
    }

    /// [`PgBackend::with_config`], trusting the certificate authorities of
    /// the PEM file `root_cert` as well.
    pub fn with_config_tls(
        config: Config,
        options: Options,
        root_cert: Option<&Path>,
    ) -> Result<PgBackend> {
        let mut config = config;
        if config.get_application_name().is_none() {
            // How the sessions show in pg_stat_activity and the server's log.
            config.application_name("roster");
        }
        let backend = PgBackend {
            tls: tls::connector(root_cert)?,
            config,
            options: Options {
                pool_size: options.pool_size.max(2),
                ..options
            },
            pool: Mutex::new(Pool {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
            writing: Mutex::new(()),
        };
        backend.with_client(|client| {
            // Two processes creating the table at once: one of them sees
            // a unique violation on the catalogue, and then the table.
            match client.batch_execute(CREATE) {
                Err(e) if is_race(&e) => client.batch_execute(CREATE),
                other => other,
            }
            .map_err(storage)
        })?;
        Ok(backend)
    }

    /// Runs `f` on a pooled connection, waiting for one when all are busy.
    fn with_client<T>(&self, f: impl FnOnce(&mut Client) -> Result<T>) -> Result<T> {
        let mut client = self.take()?;
        let out = f(&mut client);
        self.give_back(client);
        out
    }

    fn take(&self) -> Result<Client> {
        let unavailable = || Error::new(ErrorCode::Internal, "the connection pool is unusable");
        let mut pool = self.pool.lock().map_err(|_| unavailable())?;
        loop {
            if let Some(client) = pool.idle.pop() {
                return Ok(client);
            }
            if pool.open < self.options.pool_size {
                pool.open += 1;
                drop(pool);
                return self.config.connect(self.tls.clone()).map_err(|e| {
                    if let Ok(mut pool) = self.pool.lock() {
                        pool.open -= 1;
                    }
                    self.freed.notify_one();
                    self.cannot_connect(e)
                });
            }
            pool = self.freed.wait(pool).map_err(|_| unavailable())?;
        }
    }

    /// A failed connection in words that say what to fix: the driver's
    /// text (which never holds the password; it is masked all the same,
    /// should a server echo it), and what the TLS verification refused.
    fn cannot_connect(&self, e: postgres::Error) -> Error {
        let mut text = match tls::tls_failure(&e) {
            Some(refused) => format!(
                "the TLS handshake with the PostgreSQL server failed: {refused} \
                 (its certificate must chain to a public root or to sslrootcert's)"
            ),
            None => format!("cannot connect to the PostgreSQL server: {e}"),
        };
        if let Some(password) = self.config.get_password()
            && !password.is_empty()
        {
            text = text.replace(&*String::from_utf8_lossy(password), "***");
        }
        Error::storage(&text, e)
    }

    fn give_back(&self, client: Client) {
        if let Ok(mut pool) = self.pool.lock() {
            if client.is_closed() {
                pool.open -= 1;
            } else {
                pool.idle.push(client);
            }
        }
        self.freed.notify_one();
    }
}

/// One transaction as the seam sees it; `raced` records that PostgreSQL
/// refused a statement for a race (the closure's error then means "run
/// again", whatever the closure made of it).
struct Tx<'a> {
    tx: RefCell<Transaction<'a>>,
    raced: Cell<bool>,
}

impl Tx<'_> {
    fn fail(&self, e: postgres::Error) -> Error {
        if is_race(&e) {
            self.raced.set(true);
        }
        storage(e)
    }

    fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<postgres::Row>> {
        self.tx
            .borrow_mut()
            .query(sql, params)
            .map_err(|e| self.fail(e))
    }
}

impl Reader for Tx<'_> {
    fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let rows = self.query(
            "SELECT value FROM roster_rows WHERE tab = $1 AND key = $2",
            &[&table, &key],
        )?;
        Ok(rows.first().map(|r| r.get(0)))
    }

    /// One round trip for every key.
    fn get_many(&self, table: &str, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
        let rows = self.query(
            "SELECT key, value FROM roster_rows WHERE tab = $1 AND key = ANY($2)",
            &[&table, &keys],
        )?;
        let mut found: HashMap<Vec<u8>, Vec<u8>> =
            rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        Ok(keys.iter().map(|k| found.remove(*k)).collect())
    }

    fn scan(
        &self,
        table: &str,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        reverse: bool,
        visit: &mut RowVisitor<'_>,
    ) -> Result<()> {
        let mut lower: Bound<Vec<u8>> = lower.map(<[u8]>::to_vec);
        let mut upper: Bound<Vec<u8>> = upper.map(<[u8]>::to_vec);
        loop {
            let mut sql = String::from("SELECT key, value FROM roster_rows WHERE tab = $1");
            let mut params: Vec<&(dyn ToSql + Sync)> = vec![&table];
            for (bound, inclusive, exclusive) in [(&lower, ">=", ">"), (&upper, "<=", "<")] {
                let (op, key) = match bound {
                    Bound::Included(k) => (inclusive, k),
                    Bound::Excluded(k) => (exclusive, k),
                    Bound::Unbounded => continue,
                };
                params.push(key);
                sql.push_str(&format!(" AND key {op} ${}", params.len()));
            }
            let order = if reverse { "DESC" } else { "ASC" };
            sql.push_str(&format!(" ORDER BY key {order} LIMIT {CHUNK}"));
            let rows = self.query(&sql, &params)?;
            let mut last = None;
            for row in &rows {
                let key: &[u8] = row.get(0);
                let value: &[u8] = row.get(1);
                if !visit(key, value)? {
                    return Ok(());
                }
                last = Some(key.to_vec());
            }
            match last {
                Some(key) if rows.len() as i64 == CHUNK => {
                    // The next page starts past the last row seen.
                    if reverse {
                        upper = Bound::Excluded(key);
                    } else {
                        lower = Bound::Excluded(key);
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn len(&self, table: &str) -> Result<u64> {
        let rows = self.query("SELECT count(*) FROM roster_rows WHERE tab = $1", &[&table])?;
        let n: i64 = rows.first().map_or(0, |r| r.get(0));
        Ok(u64::try_from(n).unwrap_or_default())
    }

    fn table_names(&self) -> Result<Vec<String>> {
        let rows = self.query("SELECT DISTINCT tab FROM roster_rows ORDER BY tab", &[])?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}

impl Writer for Tx<'_> {
    fn put(&self, table: &str, key: &[u8], value: &[u8]) -> Result<()> {
        self.query(
            "INSERT INTO roster_rows (tab, key, value) VALUES ($1, $2, $3) \
             ON CONFLICT (tab, key) DO UPDATE SET value = EXCLUDED.value",
            &[&table, &key, &value],
        )?;
        Ok(())
    }

    fn delete(&self, table: &str, key: &[u8]) -> Result<bool> {
        let rows = self.query(
            "DELETE FROM roster_rows WHERE tab = $1 AND key = $2 RETURNING 1",
            &[&table, &key],
        )?;
        Ok(!rows.is_empty())
    }

    /// One statement for every key.
    fn delete_many(&self, table: &str, keys: &[&[u8]]) -> Result<u64> {
        let rows = self.query(
            "DELETE FROM roster_rows WHERE tab = $1 AND key = ANY($2) RETURNING 1",
            &[&table, &keys],
        )?;
        Ok(rows.len() as u64)
    }
}

impl Backend for PgBackend {
    fn read(&self, f: &mut dyn FnMut(&dyn Reader) -> Result<()>) -> Result<()> {
        self.with_client(|client| {
            let mut tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(storage)?;
            // PostgreSQL takes the snapshot at the first statement, not at
            // BEGIN: the seam's snapshot begins when the read does.
            tx.batch_execute("SELECT 1").map_err(storage)?;
            let tx = Tx {
                tx: RefCell::new(tx),
                raced: Cell::new(false),
            };
            f(&tx)?;
            tx.tx.into_inner().commit().map_err(storage)
        })
    }

    fn write(&self, f: &mut dyn FnMut(&dyn Writer) -> Result<()>) -> Result<()> {
        let _one_at_a_time = self
            .writing
            .lock()
            .map_err(|_| Error::new(ErrorCode::Internal, "a write panicked on this backend"))?;
        self.with_client(|client| {
            for attempt in 0..=self.options.retries {
                if attempt > 0 {
                    // Another process won the last race: give it time to
                    // finish before running again.
                    std::thread::sleep(std::time::Duration::from_millis(u64::from(
                        attempt.min(20),
                    )));
                }
                let tx = client
                    .build_transaction()
                    .isolation_level(IsolationLevel::Serializable)
                    .start()
                    .map_err(storage)?;
                let tx = Tx {
                    tx: RefCell::new(tx),
                    raced: Cell::new(false),
                };
                let outcome = f(&tx);
                let raced = tx.raced.get();
                let tx = tx.tx.into_inner();
                match outcome {
                    Ok(()) => match tx.commit() {
                        Ok(()) => return Ok(()),
                        Err(e) if is_race(&e) => continue,
                        Err(e) => return Err(storage(e)),
                    },
                    // Dropping the transaction rolls it back.
                    Err(_) if raced => continue,
                    Err(e) => return Err(e),
                }
            }
            Err(Error::new(
                ErrorCode::Conflict,
                "the write kept colliding with concurrent writes; try again",
            ))
        })
    }

    fn engine(&self) -> &'static str {
        "postgres"
    }

    /// Several processes insert at once: each handle takes id blocks of its
    /// own, so no counter row is written by all of them.
    fn own_id_blocks(&self) -> bool {
        true
    }
}
