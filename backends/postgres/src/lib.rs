//! roster's storage seam ([`roster::Backend`]) on PostgreSQL: the same
//! core, with every rule and index written once above the seam, keeping
//! its rows in a PostgreSQL database instead of a redb file. [`open`] gives
//! an [`Institute`] on it; several processes may share one database.
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
//! answer it would have had coming second. Each run waits a random time
//! first, under a ceiling that doubles with each lost race; after eight
//! lost races the write runs alone (every write begins by locking
//! `roster_rows` in `ROW EXCLUSIVE` mode; a run alone locks it in
//! `EXCLUSIVE` mode, which waits for the writes under way and holds off
//! new ones, not readers), so a write that keeps meeting another process's
//! stream of writes does not lose every run. Only exhausted retries are a
//! `conflict`.
//!
//! A read begins in the message of its first lookup (`START TRANSACTION
//! …; EXECUTE roster_fetch (…)`, sent together), where PostgreSQL takes
//! its snapshot ([`Backend::snapshot_at_first_read`]): a lookup by key,
//! or an index entry and the row it names, written out as the simple
//! protocol's text. A read that begins with a scan sends its beginning
//! on its own (a page of bulky rows costs more as text than the message
//! saved). The
//! tables roster names for it ([`Backend::prefetch`]: the custom field
//! definitions, which every view of a user reads) come whole in that
//! message too, as hex text, and the read answers from them. Their
//! `SELECT` and the lookups are `PREPARE`d once per connection (in a
//! round trip of their own, the first time) and run by `EXECUTE`, so they
//! are planned once, not at every read. A pooled connection found dead by
//! that first message is replaced and the message sent again: nothing of
//! the read had reached the server. A read's `COMMIT` cannot fail (it is
//! read-only) and is not waited for: it goes ahead of the next message on
//! the connection (`COMMIT; START TRANSACTION …`), or, when the connection
//! sits idle for [`Options::read_linger`] (10 ms), a thread of the backend
//! sends it. A lookup by id is then one round trip, two fewer than a
//! hand-written one.
//! Every statement is prepared once per
//! connection and kept, so each run of it is one round trip. A statement
//! that fails aborts the transaction in PostgreSQL: the backend then never
//! sends a `COMMIT` (which would roll back without a word), even should
//! roster's closure have swallowed the error.
//!
//! A write begins in the message of its first read: `START TRANSACTION
//! …; EXECUTE roster_fetch (…)`, a statement `PREPARE`d once per
//! connection that reads every row the write said it is about to need
//! ([`Writer::will_read`], rows of any tables) or the one it reads first.
//! A write that never needs the server sends nothing.
//!
//! A write keeps its rows on the client as it goes ([`buffer`]): a key it
//! has read or written reads again with no round trip, and its puts and
//! deletes (a delete of a key it knows) wait until the end, when they go in
//! the same message as the `COMMIT`: an `EXECUTE` of a statement `PREPARE`d
//! once per connection, given the rows as arrays written out as text (when
//! they exceed [`buffer::LITERAL_MAX`] bytes, the same statement's
//! parameters in a message of their own, then the `COMMIT`). The keys of
//! `roster_fetch` go the same way. The change feed's numbers for the
//! write's entries, which seal them, are the ones the handle's last write
//! left next, and are claimed at the head of that last message: a claim
//! that finds them taken by another writer refuses the transaction, which
//! runs again with its numbers asked for: in the message of its rows, after
//! them, so that the feed's lock is held for its entries alone. A scan
//! lays the waiting rows over the server's; a count sends them first.
//! PostgreSQL's conflict checks see the same reads and writes as with
//! statements sent one by one, only the writes later.
//!
//! Scans fetch keyset pages: [`CHUNK`] rows first, so a callback that
//! stops early does not pay for the rest of the range, then twice as many
//! with each page up to [`CHUNK_MAX`], so a long scan (a purge's expired
//! memberships, an export) takes few round trips.
//!
//! # Connections
//!
//! A pool of up to [`Options::pool_size`] connections: a call waits for a
//! free one when all are busy; a connection the server closed is dropped
//! and replaced on the next call. The connection string's password never
//! appears in an error or in this type's `Debug` output.
//!
//! When the server restarts, a call that was under way fails with
//! `storage_error` (its transaction is rolled back by the server: nothing
//! half-written; a failed `COMMIT` may, as with any database, have been
//! committed). Connections that sat idle in the pool through the restart
//! are found dead by the first statement of the next call, before it sent
//! anything of its own: they are dropped and the call runs on another, a
//! new one at the latest, so calls made once the server is back succeed.
//!
//! # Built-in functions
//!
//! Every built-in function roster's SQL calls is named with its schema
//! (`pg_catalog.nextval`, `pg_catalog.unnest`, ...), and a multi-array
//! `unnest` is written as `ROWS FROM` of one-array calls: a function that
//! another role plants in a schema of the search path under a built-in's
//! name, with argument types that fit the call better than the built-in's
//! (`name` for `current_schema()`, `text` for a sequence's name, an array
//! type for `anyarray`), is never what runs.
//!
//! # Schema
//!
//! roster's tables and sequence are in the first schema of the connection
//! string's `search_path` that exists when the backend makes its first
//! connection (`current_schema()`; none is refused, `not_found`). Every
//! connection then sets its `search_path` to that schema alone: a schema
//! created later ahead of it in the path, with tables of roster's names
//! in it, is not searched by this backend, reconnects included.
//!
//! # TLS
//!
//! `sslmode` in the connection string: `disable` (plain TCP), `prefer`
//! (the default: TLS when the server offers it) or `require` (TLS, or no
//! connection). Towards a host other than this machine `prefer` is
//! `require`: a `prefer` connection goes on in plain TCP when TLS is
//! declined, and whoever answers in the server's place on the network may
//! decline it and ask for the password in clear text.
//!
//! TLS is rustls; the server's certificate must chain to one of the public
//! roots (webpki-roots) or of the PEM file named by `sslrootcert=PATH`,
//! and name the host connected to, whatever the mode: a certificate that
//! does not verify fails the connection.

use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, Config, Statement};
use roster::store::backend::{Followed, ManyVisitor, RowVisitor, get_then_follow};
use roster::store::{Backend, Reader, Writer};
use roster::{Error, ErrorCode, Institute, Result};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use tokio_postgres_rustls::MakeRustlsConnect;

pub mod buffer;
#[cfg(feature = "testing")]
pub mod testing;
mod tls;

use buffer::Buffer;

/// Rows fetched by a scan's first round trip.
pub const CHUNK: i64 = 256;
/// The largest page of a long scan.
pub const CHUNK_MAX: i64 = 16_384;

/// How the backend connects and retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Most connections open at once (at least 2: a read may run beside
    /// the write that is under way on the same backend).
    pub pool_size: usize,
    /// Most times a write is run again after losing a race (default 30:
    /// a write that keeps losing to a stream of another process's writes
    /// waits about 1.5 s in all, 2 s at most, before it is a `conflict`).
    pub retries: u32,
    /// Create roster's table when the database has none (default). Off,
    /// a database without it is refused (`not_found`) and nothing is
    /// created: what a command that only reads wants, so a mistyped
    /// database name leaves no empty store behind.
    pub create: bool,
    /// How long a connection back in the pool may keep the read it ran
    /// open (default 10 ms). A read-only transaction's `COMMIT` cannot
    /// fail, so it goes ahead of the connection's next statement instead of
    /// costing a round trip of its own, and a thread of the backend sends
    /// it once the connection has sat idle this long: a snapshot held open
    /// keeps `VACUUM` from removing rows deleted since, and its lock holds
    /// off a change of the table's definition. Zero: every read commits
    /// before it answers.
    pub read_linger: Duration,
    /// How long one of roster's sessions may sit idle inside a transaction
    /// before the server ends it (PostgreSQL's
    /// `idle_in_transaction_session_timeout`, set on each connection;
    /// default 60 s, whole milliseconds). roster never waits on anything
    /// but the server inside a write, and inside a read only on what its
    /// caller does with each row (an export writes each record to its file
    /// as it reads it, so a file that takes longer than this to accept one
    /// page of rows ends the export with an error, the old backup left as
    /// it was); so
    /// only a process that has hung or been stopped mid-write sits there; its transaction holds its
    /// lock on `roster_rows` and the rows it wrote, and a write of another
    /// process that must run alone (and every write after that one), or
    /// one of the same rows, would wait for it without end. Keep it above
    /// [`Options::read_linger`] (a read left open that long is ended by the
    /// server, and its connection replaced). Zero leaves the server's
    /// setting.
    pub idle_transaction_timeout: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            pool_size: 8,
            retries: 30,
            create: true,
            read_linger: LINGER,
            idle_transaction_timeout: IDLE_TRANSACTION_TIMEOUT,
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

/// The table of every row and the feed's sequence (with
/// [`CREATE_WRITERS`], everything roster creates).
const CREATE: &str = "CREATE TABLE IF NOT EXISTS roster_rows (\
    tab text NOT NULL, key bytea NOT NULL, value bytea NOT NULL, \
    PRIMARY KEY (tab, key)); \
    CREATE SEQUENCE IF NOT EXISTS roster_change_seq";

/// Fails unless the change feed's sequence (when there is one) hands out
/// its numbers one at a time, in the order they are taken: increment 1, no
/// cache, no cycle, as [`CREATE`] makes it. A sequence made or altered
/// otherwise (`CACHE 20` gives each session its own run of numbers, ahead
/// of the others'; `setval` does not reach another session's cache) would
/// number the feed out of commit order, or twice, and its readers would
/// skip entries: refused at open, with the statement that mends it.
fn feed_sequence_counts_by_one(client: &mut Client) -> Result<()> {
    let found = client
        .query_opt(
            "SELECT seqincrement, seqcache, seqcycle FROM pg_catalog.pg_sequence \
             WHERE seqrelid = pg_catalog.to_regclass('roster_change_seq')",
            &[],
        )
        .map_err(storage)?;
    let Some(row) = found else { return Ok(()) };
    let (increment, cache, cycle): (i64, i64, bool) =
        (cell(&row, 0)?, cell(&row, 1)?, cell(&row, 2)?);
    if (increment, cache, cycle) == (1, 1, false) {
        return Ok(());
    }
    Err(Error::new(
        ErrorCode::Corrupt,
        format!(
            "the change feed's sequence roster_change_seq must count by 1, one number at a \
             time (it has increment {increment}, cache {cache}{}): its numbers would come out \
             of commit order. Mend it with `ALTER SEQUENCE roster_change_seq INCREMENT 1 \
             CACHE 1 NO CYCLE`",
            if cycle { ", cycle" } else { "" }
        ),
    ))
}

/// The writers' lock ([`WRITE_BEGIN`]): created with [`CREATE`], and in a
/// store made before it was by a handle that may not create roster's
/// table.
const CREATE_WRITERS: &str = "CREATE TABLE IF NOT EXISTS roster_writers ()";

/// Takes the change feed's lock for the rest of the transaction (one per
/// schema: its first key is roster's, its second the schema's), then the
/// next `$n` numbers of the feed's sequence under it, as `last`, the last
/// of them. Every transaction that appends to the feed does this as its
/// last statement before its rows and `COMMIT`, and holds the lock until
/// it has committed, so numbers are handed out in commit order. One number
/// (most writes) is `nextval` alone: `setval` writes to the server's log
/// every time, `nextval` once in 32 numbers. (A macro, so that
/// [`CHANGE_SEQS`] and [`PREPARE_ROWS`]'s `roster_claim` hold the same
/// text.)
macro_rules! seqs_sql {
    ($n:literal) => {
        concat!(
            "SELECT CASE WHEN ",
            $n,
            "::bigint = 1 THEN pg_catalog.nextval('roster_change_seq') \
            ELSE pg_catalog.setval('roster_change_seq', pg_catalog.nextval('roster_change_seq') + ",
            $n,
            " - 1) END AS last \
            FROM (SELECT pg_catalog.pg_advisory_xact_lock(1919905652, \
            pg_catalog.hashtext(pg_catalog.current_schema()::text))) \
            AS feed_lock"
        )
    };
}
/// [`seqs_sql`] asked for `$1` numbers, in a message of its own: a write
/// that does not know which numbers it will get ([`Numbering`]).
const CHANGE_SEQS: &str = seqs_sql!("$1");

/// How long a handle that found the feed's numbers taken by another
/// writer asks for them in a message of their own before it predicts them
/// again ([`Numbering`]).
const CONTENDED: Duration = Duration::from_secs(2);

/// What a handle knows of the feed's sequence, kept between its writes
/// (which run one at a time).
///
/// The entries a write appends are sealed with their numbers, so the
/// numbers must be known before its rows are sent. Taking them with
/// [`CHANGE_SEQS`] costs a round trip in the middle of the write. Instead,
/// a handle that knows the number its last write left next (its writes
/// ran alone since) seals its entries with that, and the message of the
/// rows and `COMMIT` begins with `roster_claim`: it takes the numbers as
/// [`CHANGE_SEQS`] does, under the same lock, and fails (a division by
/// zero, SQLSTATE `22012`, which nothing else of that message can raise)
/// unless they are the ones predicted. Then nothing of the write is
/// committed, and it runs again with its numbers asked for, as it would
/// have without the prediction; for [`CONTENDED`] after that the handle
/// does not predict (another process is writing too).
#[derive(Debug, Default)]
struct Numbering {
    /// The first number the sequence will give, as far as this handle
    /// knows; `None` when it does not.
    next: Option<i64>,
    /// Until when the handle asks for its numbers.
    ask_until: Option<Instant>,
}

impl Numbering {
    /// The numbers a write may assume (`None`: it must ask).
    fn predicted(&self) -> Option<i64> {
        match self.ask_until {
            Some(until) if Instant::now() < until => None,
            _ => self.next,
        }
    }

    /// Records how a write's attempt ended: `took` the numbers it took
    /// (or claimed), `committed` whether it committed.
    fn after(&mut self, took: Option<Took>, committed: bool) {
        match (took, committed) {
            (None, _) => {}
            (Some(took), true) => self.next = took.next(),
            // The sequence moved (a failed transaction leaves its numbers
            // unused), or another writer moved it.
            (Some(_), false) => self.next = None,
        }
    }

    /// Another writer took the numbers this handle predicted.
    fn contended(&mut self) {
        self.next = None;
        self.ask_until = Some(Instant::now() + CONTENDED);
    }
}

/// The feed numbers a write took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Took {
    /// Predicted ([`Numbering`]): `count` numbers from `first`, to be
    /// claimed with the `COMMIT`.
    Claimed { first: i64, count: i64 },
    /// Given by [`CHANGE_SEQS`]; `next` follows the last.
    Given { next: i64 },
}

impl Took {
    /// The number the sequence gives next once the write has committed
    /// (`None` past the largest number).
    fn next(self) -> Option<i64> {
        match self {
            Took::Claimed { first, count } => first.checked_add(count),
            Took::Given { next } => Some(next),
        }
    }
}

/// roster's storage on a PostgreSQL database.
pub struct PgBackend {
    config: Config,
    /// Used when `sslmode` is not `disable`.
    tls: MakeRustlsConnect,
    options: Options,
    /// The connections, shared with the thread that ends the reads left
    /// open on idle ones ([`reap`]).
    shared: Arc<Shared>,
    /// One write at a time from this handle: writes of one process would
    /// only collide with each other (they share its id block and the rows
    /// that follow from it), so they queue here, as on a store file, and
    /// serializable isolation arbitrates between processes. What they
    /// know of the feed's numbers goes from one to the next.
    writing: Mutex<Numbering>,
    /// How a read begins when roster asked for tables with the snapshot
    /// ([`Backend::prefetch`]); unset: [`READ_BEGIN`].
    read_begin: std::sync::OnceLock<Prefetch>,
    /// The schema roster's tables are in: the connection string's
    /// `search_path` resolved once, by the first connection, and then the
    /// whole `search_path` of every connection ([`session`]).
    schema: std::sync::OnceLock<String>,
}

/// The statements of a read that fetches tables whole with its snapshot.
struct Prefetch {
    /// `PREPARE`s [`PREFETCH_STATEMENT`], once per connection: planned
    /// there once, not at every read.
    prepare: String,
    /// Begins the read and runs the prepared statement: one round trip.
    begin: String,
    /// The tables it fetches.
    tables: Vec<String>,
}

/// The name of the prepared statement of a [`Prefetch`] on a connection.
const PREFETCH_STATEMENT: &str = "roster_prefetch";

/// Prepares, once per connection, the statement that reads the rows a
/// write is about to need when they go in the message that begins it
/// ([`buffer::fetch_literal`]): planned once, not at every write. Its rows
/// are tables, keys and values, in hex (the simple protocol's text).
const PREPARE_FETCH: (&str, &str) = (
    "roster_fetch",
    "PREPARE roster_fetch (text[], bytea[]) AS \
    SELECT k.tab, pg_catalog.encode(k.key, 'hex'), pg_catalog.encode(r.value, 'hex') \
    FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) AS k(tab, key) CROSS JOIN LATERAL \
    (SELECT value FROM roster_rows WHERE tab = k.tab AND key = k.key LIMIT 1) r",
);

/// Reads an index entry of table `$1` under key `$2` and the row of table
/// `$3` it names (its value less its last `$4` bytes, roster's seal), as
/// [`Reader::get_and_follow`], each value in hex: the first statement of a
/// read that starts with such a lookup, sent with its beginning.
const PREPARE_FOLLOW: (&str, &str) = (
    "roster_follow",
    "PREPARE roster_follow (text, bytea, text, int) AS \
    SELECT pg_catalog.encode(i.value, 'hex'), pg_catalog.encode(r.value, 'hex') FROM roster_rows i \
    LEFT JOIN LATERAL (SELECT value FROM roster_rows WHERE tab = $3 AND key = \
    CASE WHEN pg_catalog.length(i.value) >= $4 \
    THEN substring(i.value FROM 1 FOR pg_catalog.length(i.value) - $4) END \
    LIMIT 1) r ON true WHERE i.tab = $1 AND i.key = $2",
);

/// The place in the pool of a connection taken out of it: freed when this
/// is dropped while still `held`, which happens only when a panic unwinds
/// out of the call that held the connection (the unwinding drops the
/// connection itself). Otherwise a panic would leave the pool one place
/// short for good, and after `pool_size` of them every call would wait.
struct Place<'s> {
    shared: &'s Shared,
    held: bool,
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        if self.held {
            if let Ok(mut pool) = self.shared.pool.lock() {
                pool.open -= 1;
            }
            self.shared.freed.notify_one();
        }
    }
}

/// What the driver said about a failure, as text (its password masked):
/// the cause of a public error whose message leaves it out.
#[derive(Debug)]
struct Detail(String);

impl std::fmt::Display for Detail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Detail {}

/// Why a connection failed, in words that name nothing of the server's
/// (`detail`: the driver's text with its causes').
fn why_not(e: &postgres::Error, detail: &str) -> &'static str {
    if let Some(db) = e.as_db_error() {
        return match *db.code() {
            SqlState::INVALID_PASSWORD => "the password was refused",
            SqlState::INVALID_AUTHORIZATION_SPECIFICATION => {
                "the server refused this user, database or client address (pg_hba.conf)"
            }
            SqlState::INVALID_CATALOG_NAME => "the database does not exist",
            SqlState::TOO_MANY_CONNECTIONS => "the server has no connection to spare",
            SqlState::CANNOT_CONNECT_NOW => "the server is starting up or shutting down",
            _ => "the server refused the connection",
        };
    }
    if detail.contains("does not support TLS") {
        // `require`, said or taken for a host elsewhere ([`tls::effective_mode`]).
        return "the server does not offer TLS, which this connection requires \
                (sslmode=require, or a host other than this machine; \
                sslmode=disable connects in plain TCP)";
    }
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "the connection was refused",
                std::io::ErrorKind::TimedOut => "the connection timed out",
                std::io::ErrorKind::NotFound => "the host was not found",
                _ => "a network error",
            };
        }
        source = err.source();
    }
    if detail.contains("timeout") || detail.contains("timed out") {
        return "the connection timed out";
    }
    "the connection failed"
}

/// The pool and its signals.
struct Shared {
    pool: Mutex<Pool>,
    /// A connection came back (or a place for a new one came free).
    freed: Condvar,
    /// A connection came back with its read open, or the backend closes:
    /// wakes [`reap`].
    reap: Condvar,
}

/// The idle connections and how many are open in all.
struct Pool {
    idle: Vec<Conn>,
    open: usize,
    /// Whether [`reap`]'s thread runs (started by the first read left
    /// open).
    reaping: bool,
    /// Set when the backend is dropped: the thread stops.
    closing: bool,
    /// Whether that thread sleeps until woken (no read was left open):
    /// the next one left open wakes it. While it sleeps until a read's
    /// time is up, reads left open later need not wake it.
    asleep: bool,
}

/// [`Options::read_linger`]'s default.
const LINGER: Duration = Duration::from_millis(10);
/// [`Options::idle_transaction_timeout`]'s default.
const IDLE_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(60);

/// Ends the reads left open on idle connections once they have waited
/// `linger` ([`Options::read_linger`]): a thread of its own for each
/// backend, started by its first such read, asleep while none waits, and
/// gone when the backend is.
fn reap(shared: Arc<Shared>, linger: Duration) {
    let Ok(mut pool) = shared.pool.lock() else {
        return;
    };
    loop {
        if pool.closing {
            return;
        }
        let now = Instant::now();
        let due = |c: &Conn| c.pending.is_some_and(|t| now.duration_since(t) >= linger);
        if pool.idle.iter().any(due) {
            let (due, kept): (Vec<Conn>, Vec<Conn>) =
                std::mem::take(&mut pool.idle).into_iter().partition(due);
            pool.idle = kept;
            drop(pool);
            for mut conn in due {
                conn.pending = None;
                let ended = conn.client.batch_execute("COMMIT").is_ok();
                let Ok(mut pool) = shared.pool.lock() else {
                    return;
                };
                match ended && !conn.client.is_closed() {
                    true => pool.idle.push(conn),
                    false => pool.open -= 1,
                }
                drop(pool);
                shared.freed.notify_one();
            }
            pool = match shared.pool.lock() {
                Ok(pool) => pool,
                Err(_) => return,
            };
            continue;
        }
        let next = pool
            .idle
            .iter()
            .filter_map(|c| c.pending)
            .map(|t| (t + linger).saturating_duration_since(now))
            .min();
        pool = match next {
            Some(wait) => match shared.reap.wait_timeout(pool, wait) {
                Ok((pool, _)) => pool,
                Err(_) => return,
            },
            None => {
                pool.asleep = true;
                match shared.reap.wait(pool) {
                    Ok(mut pool) => {
                        pool.asleep = false;
                        pool
                    }
                    Err(_) => return,
                }
            }
        };
    }
}

/// A connection and the statements prepared on it, by their text: a
/// statement is parsed once per connection, and each run of it is then one
/// round trip (bind and execute), not two (parse, then bind and execute).
struct Conn {
    client: Client,
    statements: HashMap<String, Statement>,
    /// Whether [`Prefetch::prepare`] has run on it.
    prefetch_prepared: bool,
    /// The statements `PREPARE`d on it by name ([`PREPARE_FETCH`]).
    named: std::collections::HashSet<&'static str>,
    /// Since when the read it last ran is open: the read answered, and its
    /// `COMMIT` goes with the next message ([`Conn::lead`]) or from
    /// [`reap`].
    pending: Option<Instant>,
    /// A message of `PREPARE`s failed on it ([`Conn::prepare`]): the pool
    /// closes it instead of keeping it.
    broken: bool,
}

impl Conn {
    fn new(client: Client) -> Conn {
        Conn {
            client,
            statements: HashMap::new(),
            prefetch_prepared: false,
            named: Default::default(),
            pending: None,
            broken: false,
        }
    }

    /// Runs `message`, which holds `PREPARE`s. `PREPARE` is not undone by a
    /// rollback: a message that fails part-way leaves the names before the
    /// failure prepared, and every later try of it would fail on the first
    /// of them ("already exists") for as long as the connection lives. A
    /// failed one marks the connection broken instead, and the pool closes
    /// it; the next write prepares on a new one.
    fn prepare(&mut self, message: &str) -> std::result::Result<(), postgres::Error> {
        let done = self.client.batch_execute(message);
        self.broken |= done.is_err();
        done
    }

    /// What the next message must begin with: the `COMMIT` of the read
    /// left open, when there is one (then counted as sent). A read-only
    /// transaction's `COMMIT` cannot fail, so it may ride ahead of the next
    /// statement instead of costing a round trip of its own.
    fn lead(&mut self) -> &'static str {
        match self.pending.take() {
            Some(_) => "COMMIT; ",
            None => "",
        }
    }
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

/// What every session of the backend tells the planner: find rows by the
/// primary key's index, and join by probing it. Every statement of roster
/// reads by `(tab, key)` (one key, a few listed keys, or a range in key
/// order), so that index is the plan it wants at any size. The planner
/// judges by the table's statistics, which lag behind a table that grows
/// fast (a new institute, an import). Planned on the statistics of a few
/// rows, a lookup of one key scanned the whole table, a read of 40 keys
/// every row of their logical table, and a keyset page of a range read the
/// rest of the range and sorted it, page after page, until the next
/// `ANALYZE`; a prepared statement keeps its plan (tests/plans.rs). The
/// `enable_*` settings make the other plans cost more; they forbid none.
///
/// And plan a prepared statement once: `plan_cache_mode` (PostgreSQL 12
/// on). By default the server plans a statement's first five runs for
/// their values, then keeps its generic plan only if that is estimated no
/// dearer; roster's statements take keys as arrays, whose generic plan is
/// estimated for ten elements, so a read of four keys was planned again at
/// every run: `roster_fetch` of four rows took about 100 µs of the server's
/// time instead of 44 (tests/plans.rs). It is the last setting
/// ([`PLAN_ONCE`]): a server that does not know a setting (an engine with a
/// planner of its own, a PostgreSQL before 12) is left to its planner from
/// there on, the settings before it kept.
const PLANNER: &str = "SET enable_seqscan = off; SET enable_bitmapscan = off; \
    SET enable_hashjoin = off; SET enable_mergejoin = off";
/// [`PLANNER`]'s last setting (PostgreSQL 12 on).
const PLAN_ONCE: &str = "SET plan_cache_mode = force_generic_plan";

/// `client` with roster's session settings made: its `search_path` is
/// `schema` alone, unless `idle` is zero
/// `idle_in_transaction_session_timeout`
/// ([`Options::idle_transaction_timeout`]; PostgreSQL 9.6 on), then
/// [`PLANNER`]'s settings and [`PLAN_ONCE`]: one round trip, once per
/// connection.
fn session(
    client: Client,
    schema: &str,
    idle: Duration,
) -> std::result::Result<Client, postgres::Error> {
    session_with(client, schema, idle, PLAN_ONCE)
}

/// [`session`] with `last` as the last setting.
///
/// The settings go as one message, which the server runs as one implicit
/// transaction: a setting it does not know fails the message and undoes
/// every `SET` in it, the search path's too. On that failure the settings
/// roster relies on (the search path, the timeout) are made again alone,
/// and the planner's one by one, each a server may not know.
fn session_with(
    mut client: Client,
    schema: &str,
    idle: Duration,
    last: &str,
) -> std::result::Result<Client, postgres::Error> {
    // The server's limit, about 24 days.
    let ms = idle.as_millis().min(i32::MAX as u128);
    let required = match ms {
        0 => format!("SET search_path = {}", quoted(schema)),
        ms => format!(
            "SET search_path = {}; SET idle_in_transaction_session_timeout = {ms}",
            quoted(schema)
        ),
    };
    match client.batch_execute(&format!("{required}; {PLANNER}; {last}")) {
        Err(e) if e.code() == Some(&SqlState::UNDEFINED_OBJECT) => {
            client.batch_execute(&required)?;
            for optional in PLANNER.split("; ").chain([last]) {
                match client.batch_execute(optional) {
                    Err(e) if e.code() != Some(&SqlState::UNDEFINED_OBJECT) => return Err(e),
                    _ => {}
                }
            }
            Ok(client)
        }
        Err(e) => Err(e),
        Ok(()) => Ok(client),
    }
}

/// `name` as an SQL identifier: in double quotes, each one in it doubled.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The answer for a transaction whose closure succeeded although one of its
/// statements failed (and PostgreSQL aborted it): nothing was written.
fn aborted() -> Error {
    Error::new(
        ErrorCode::Storage,
        "the PostgreSQL database refused a statement of this operation; nothing was written",
    )
}

/// Column `i` of `row` as `T`: a storage error, not the driver's panic,
/// when the server sent a row of another shape. (A panic inside a read is
/// taken for a damaged store file and poisons the handle.)
fn cell<'a, T: postgres::types::FromSql<'a>>(row: &'a postgres::Row, i: usize) -> Result<T> {
    row.try_get(i)
        .map_err(|e| Error::storage("the server sent a row that does not read back", e))
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
        config.ssl_mode(tls::effective_mode(&config));
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
            shared: Arc::new(Shared {
                pool: Mutex::new(Pool {
                    idle: Vec::new(),
                    open: 0,
                    reaping: false,
                    closing: false,
                    asleep: false,
                }),
                freed: Condvar::new(),
                reap: Condvar::new(),
            }),
            writing: Mutex::new(Numbering::default()),
            read_begin: std::sync::OnceLock::new(),
            schema: std::sync::OnceLock::new(),
        };
        let create = backend.options.create;
        backend.with_client(|conn| {
            let client = &mut conn.client;
            if !create {
                let found = client
                    .query_one(
                        "SELECT pg_catalog.to_regclass('roster_rows') IS NOT NULL, \
                         pg_catalog.to_regclass('roster_writers') IS NOT NULL",
                        &[],
                    )
                    .map_err(storage)?;
                let (rows, writers): (bool, bool) = (cell(&found, 0)?, cell(&found, 1)?);
                if rows && !writers {
                    // A store from before the writers' lock. A role that
                    // may not create it cannot write either; its reads
                    // need nothing more.
                    let _ = client.batch_execute(CREATE_WRITERS);
                }
                return if rows {
                    feed_sequence_counts_by_one(client)
                } else {
                    Err(Error::new(
                        ErrorCode::NotFound,
                        "the database holds no roster store (no roster_rows table in its \
                         search path), and none was created",
                    ))
                };
            }
            // Two processes creating the table at once: one of them sees
            // a unique violation on the catalogue, and then the table.
            let create = format!("{CREATE}; {CREATE_WRITERS}");
            match client.batch_execute(&create) {
                Err(e) if is_race(&e) => client.batch_execute(&create),
                other => other,
            }
            .map_err(storage)?;
            feed_sequence_counts_by_one(client)
        })?;
        Ok(backend)
    }

    /// Runs `f` on a pooled connection, waiting for one when all are busy,
    /// the connection's last read ended first.
    fn with_client<T>(&self, mut f: impl FnMut(&mut Conn) -> Result<T>) -> Result<T> {
        self.on_connection(|conn| {
            if conn.pending.take().is_some()
                && let Err(e) = conn.client.batch_execute("COMMIT")
            {
                return match connection_lost(&e) {
                    true => Attempt::Stale(storage(e)),
                    false => Attempt::Done(Err(storage(e))),
                };
            }
            Attempt::Done(f(conn))
        })
    }

    /// Runs `f` on a pooled connection, waiting for one when all are busy.
    /// When `f` finds an idle connection dead before it sent anything of
    /// its own ([`Attempt::Stale`]: the server restarted, or ended the
    /// session, while it sat in the pool), the connection is dropped and
    /// `f` runs again on another one, a new one at the latest: a request
    /// that comes after the server is back is not failed by the
    /// connections an earlier outage broke.
    fn on_connection<T>(&self, mut f: impl FnMut(&mut Conn) -> Attempt<T>) -> Result<T> {
        // Every idle connection may be stale, then one new one is tried.
        let mut last = None;
        for _ in 0..=self.options.pool_size {
            let (mut client, reused) = self.take()?;
            let mut place = Place {
                shared: &self.shared,
                held: true,
            };
            let attempt = f(&mut client);
            place.held = false;
            match attempt {
                Attempt::Done(out) => {
                    self.give_back(client);
                    return out;
                }
                Attempt::Stale(e) => {
                    self.discard(client);
                    if !reused {
                        return Err(e);
                    }
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| Error::new(ErrorCode::Internal, "no connection was tried")))
    }

    /// A connection, and whether it was idle in the pool (else it is new);
    /// its place in the pool is taken until it is given back or discarded.
    fn take(&self) -> Result<(Conn, bool)> {
        let unavailable = || Error::new(ErrorCode::Internal, "the connection pool is unusable");
        let mut pool = self.shared.pool.lock().map_err(|_| unavailable())?;
        loop {
            if let Some(client) = pool.idle.pop() {
                return Ok((client, true));
            }
            if pool.open < self.options.pool_size {
                pool.open += 1;
                drop(pool);
                return match self.connect_one() {
                    Ok(conn) => Ok((conn, false)),
                    Err(e) => {
                        if let Ok(mut pool) = self.shared.pool.lock() {
                            pool.open -= 1;
                        }
                        self.shared.freed.notify_one();
                        Err(e)
                    }
                };
            }
            pool = self.shared.freed.wait(pool).map_err(|_| unavailable())?;
        }
    }

    /// A new connection, its session's settings made ([`session`]). The
    /// first one resolves the connection string's `search_path` to the
    /// schema it creates in (`current_schema()`), one more round trip; every
    /// connection then searches that schema alone, so one created later
    /// ahead of it in the connection string's path (a `"$user"` schema,
    /// say) cannot put tables of its own in place of roster's.
    fn connect_one(&self) -> Result<Conn> {
        let idle = self.options.idle_transaction_timeout;
        let mut client = self
            .config
            .connect(self.tls.clone())
            .map_err(|e| self.cannot_connect(e))?;
        let schema = match self.schema.get() {
            Some(schema) => schema,
            None => {
                let found = client
                    .query_one("SELECT pg_catalog.current_schema()::text", &[])
                    .map_err(|e| self.cannot_connect(e))?;
                let Some(schema) = cell::<Option<String>>(&found, 0)? else {
                    return Err(Error::new(
                        ErrorCode::NotFound,
                        "no schema of the connection's search_path exists to hold roster's \
                         tables (name one with options=-csearch_path=NAME in the connection \
                         string)",
                    ));
                };
                self.schema.get_or_init(|| schema)
            }
        };
        match session(client, schema, idle) {
            Ok(client) => Ok(Conn::new(client)),
            Err(e) => Err(self.cannot_connect(e)),
        }
    }

    /// Closes a connection that is no longer usable, making room for a new
    /// one.
    fn discard(&self, conn: Conn) {
        drop(conn);
        if let Ok(mut pool) = self.shared.pool.lock() {
            pool.open -= 1;
        }
        self.shared.freed.notify_one();
    }

    /// A failed connection in words that say what to fix, without the
    /// server's own words: a public message may reach an HTTP client (a
    /// 500's body), and the server's text names hosts, roles and databases
    /// (`no pg_hba.conf entry for host "10.0.0.5", user "roster", ...`).
    /// That text, the password masked, is the error's cause, for the
    /// operator's logs and the command line.
    fn cannot_connect(&self, e: postgres::Error) -> Error {
        // The driver's text and its causes' (a server's refusal is the
        // cause of a "db error", a declined TLS that of a handshake error).
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            detail = format!("{detail}: {cause}");
            source = cause.source();
        }
        if let Some(password) = self.config.get_password()
            && !password.is_empty()
        {
            detail = detail.replace(&*String::from_utf8_lossy(password), "***");
        }
        let public = match tls::tls_failure(&e) {
            Some(refused) => format!(
                "the TLS handshake with the PostgreSQL server failed: {}",
                tls::refusal(refused)
            ),
            None => format!(
                "cannot connect to the PostgreSQL server: {}",
                why_not(&e, &detail)
            ),
        };
        Error::storage(&public, Detail(detail))
    }

    /// A read on `conn`, begun by its first statement ([`Tx::begin_reading`]):
    /// nothing is sent yet.
    fn begin_read<'c>(&'c self, conn: &'c mut Conn) -> Tx<'c> {
        let (begin, prefetched) = match self.read_begin.get() {
            Some(prefetch) => (
                prefetch.begin.as_str(),
                prefetch
                    .tables
                    .iter()
                    .map(|t| (t.clone(), Default::default()))
                    .collect(),
            ),
            None => (READ_BEGIN, HashMap::new()),
        };
        let mut tx = Tx::opened(conn, None, prefetched);
        tx.open.set(false);
        tx.begin.set(Some(begin));
        tx.backend = Some(self);
        tx
    }

    fn give_back(&self, conn: Conn) {
        let mut wake = false;
        if let Ok(mut pool) = self.shared.pool.lock() {
            let pending = conn.pending.is_some();
            wake = pending && pool.asleep;
            if conn.client.is_closed() || conn.broken {
                pool.open -= 1;
            } else {
                pool.idle.push(conn);
                if pending && !pool.reaping {
                    let (shared, linger) = (self.shared.clone(), self.options.read_linger);
                    let started = std::thread::Builder::new()
                        .name("roster-postgres-reads".into())
                        .spawn(move || reap(shared, linger));
                    pool.reaping = started.is_ok();
                }
            }
        }
        self.shared.freed.notify_one();
        if wake {
            self.shared.reap.notify_one();
        }
    }
}

impl Drop for PgBackend {
    /// Stops the thread that ends reads left open, and closes the idle
    /// connections (a read left open on one ends with it).
    fn drop(&mut self) {
        if let Ok(mut pool) = self.shared.pool.lock() {
            pool.closing = true;
            pool.idle.clear();
        }
        self.shared.reap.notify_one();
    }
}

/// How long a write waits before its `attempt`th run: a random time up to
/// a ceiling that doubles with each lost race (1 ms, 2 ms, … 64 ms). The
/// randomness keeps two processes that collided from colliding again in
/// step; the doubling leaves a process that keeps losing to a stream of
/// another's writes ever longer gaps to win in.
fn backoff(attempt: u32) -> std::time::Duration {
    use std::hash::{BuildHasher, Hasher};
    let ceiling_us = 1000u64 << attempt.saturating_sub(1).min(6);
    // RandomState is seeded at random for each instance: enough jitter,
    // without a dependency for it.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(attempt);
    std::time::Duration::from_micros(ceiling_us / 4 + hasher.finish() % ceiling_us)
}

/// What a call on a pooled connection came to.
enum Attempt<T> {
    /// Its outcome.
    Done(Result<T>),
    /// The connection was dead before anything of the call was sent: run
    /// the call again on another one. (A write's only: a read replaces its
    /// connection itself, [`Tx::begin_reading`].)
    Stale(Error),
}

/// Whether `e` says the session is over: the connection closed or broke,
/// or the server ended the session (a `FATAL` error, e.g. `57P01` at a
/// shutdown).
fn connection_lost(e: &postgres::Error) -> bool {
    e.is_closed()
        || e.as_db_error().is_some_and(|db| db.severity() == "FATAL")
        || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
}

/// One transaction as the seam sees it; `raced` records that PostgreSQL
/// refused a statement for a race (the closure's error then means "run
/// again", whatever the closure made of it).
struct Tx<'a> {
    conn: RefCell<&'a mut Conn>,
    raced: Cell<bool>,
    /// Whether a statement failed: PostgreSQL has then aborted the
    /// transaction, and a `COMMIT` would roll it back without a word, so
    /// it is never sent (should the closure have swallowed the error).
    failed: Cell<bool>,
    /// Whether the transaction is still open (begun, and neither committed
    /// nor rolled back): dropping it open rolls it back.
    open: Cell<bool>,
    /// The statements that begin the transaction, until they are sent:
    /// with its first read when that can go in one message with them
    /// ([`buffer::fetch_literal`]), else on their own just before the first
    /// statement; a transaction that never needs the server sends nothing.
    begin: Cell<Option<&'a str>>,
    /// Whether the beginning is the first thing the call sends: a dead
    /// connection found there is [`Attempt::Stale`].
    first: bool,
    /// Set when the beginning found the connection dead and it was the
    /// call's first message (nothing of the call reached the server).
    stale: Cell<bool>,
    /// A write's rows as it has them ([`buffer`]): what it read, and what
    /// it wrote, sent in one statement before `COMMIT` (or before a
    /// statement that needs the server to have it). `None` for a read.
    buffer: Option<RefCell<Buffer>>,
    /// A read's prefetched tables, whole, as of its snapshot: their reads
    /// need no round trip. (Filled by the read's beginning: empty until
    /// then.)
    prefetched: RefCell<Prefetched>,
    /// The first page of the next scan ([`Reader::scan_hint`]).
    next_scan: Cell<Option<i64>>,
    /// A read's backend: its beginning may replace a connection found dead
    /// (nothing of the read reached the server) with a new one, once.
    backend: Option<&'a PgBackend>,
    /// Tables (an empty prefix) and key prefixes a write will read whole
    /// ([`Writer::will_scan`], [`Writer::will_scan_prefixes`]): fetched
    /// with its next reads, into its buffer.
    scans: RefCell<Vec<(String, Vec<u8>)>>,
    /// The first feed number a write may assume it gets ([`Numbering`]);
    /// `None`: it asks.
    predicted: Option<i64>,
    /// The feed numbers the write took or claimed.
    took: Cell<Option<Took>>,
    /// Whether an earlier run of the write lost a race
    /// ([`Writer::after_race`]).
    after_race: bool,
}

/// Tables read whole with a snapshot: each one's rows by key.
type Prefetched = HashMap<String, std::collections::BTreeMap<Vec<u8>, Vec<u8>>>;

/// Rows fetched by table and key (those absent have no row).
type Fetched = HashMap<(String, Vec<u8>), Vec<u8>>;

/// The error for a row of the simple protocol that does not decode.
fn unreadable() -> Error {
    Error::new(
        ErrorCode::Storage,
        "the server sent a row that does not read back",
    )
}

impl<'a> Tx<'a> {
    /// A transaction open on `conn`: a read just begun ([`Tx::unbegun`]
    /// turns it into a write not begun yet).
    fn opened(
        conn: &'a mut Conn,
        buffer: Option<RefCell<Buffer>>,
        prefetched: Prefetched,
    ) -> Tx<'a> {
        Tx {
            conn: RefCell::new(conn),
            raced: Cell::new(false),
            failed: Cell::new(false),
            open: Cell::new(true),
            begin: Cell::new(None),
            first: false,
            stale: Cell::new(false),
            buffer,
            prefetched: RefCell::new(prefetched),
            backend: None,
            next_scan: Cell::new(None),
            scans: RefCell::default(),
            predicted: None,
            took: Cell::new(None),
            after_race: false,
        }
    }

    /// A write on `conn`, begun by its first statement ([`Tx::begin`]);
    /// `first`: whether that is the call's first message; `predicted`: the
    /// first feed number it may assume ([`Numbering`]); `lost`: how many
    /// runs of it lost a race before this one.
    fn unbegun(conn: &'a mut Conn, first: bool, predicted: Option<i64>, lost: u32) -> Tx<'a> {
        let mut tx = Tx::opened(conn, Some(RefCell::default()), HashMap::new());
        tx.open.set(false);
        tx.begin.set(Some(match lost >= STARVED {
            true => ALONE_BEGIN,
            false => WRITE_BEGIN,
        }));
        tx.first = first;
        tx.predicted = predicted;
        tx.after_race = lost > 0;
        tx
    }
}

/// Starts a read, in the message of its first statement: PostgreSQL takes
/// the read's snapshot there ([`Backend::snapshot_at_first_read`]).
const READ_BEGIN: &str = "START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY";
/// Starts a write. It first takes the writers' lock in `ROW EXCLUSIVE`
/// mode, which writes share and a write that runs alone ([`ALONE_BEGIN`])
/// keeps them from. The lock is `roster_writers`, an empty table no
/// statement reads or writes, so that only roster's writes lock it, not a
/// `VACUUM` or `ANALYZE` of `roster_rows` (which would hold up a write
/// that runs alone, and every write behind it, for as long as they take).
/// `LOCK TABLE` takes no snapshot: a write that waits there for one that
/// runs alone takes its snapshot after the wait, and cannot lose its race
/// with it. Every write takes this lock before any other lock of its own
/// (the feed's comes last), so the two cannot deadlock.
const WRITE_BEGIN: &str = "START TRANSACTION ISOLATION LEVEL SERIALIZABLE; LOCK TABLE roster_writers IN ROW EXCLUSIVE MODE";
/// Starts a run of a write that has lost [`STARVED`] races: the writers'
/// lock in `EXCLUSIVE` mode waits until no other write is under way and
/// keeps new ones from beginning until this one's transaction ends; its
/// snapshot is taken after the wait, so no write runs beside it to lose
/// to. Readers are not held up. Everything is the transaction's: a process
/// that hangs inside it holds nothing past
/// [`Options::idle_transaction_timeout`].
const ALONE_BEGIN: &str =
    "START TRANSACTION ISOLATION LEVEL SERIALIZABLE; LOCK TABLE roster_writers IN EXCLUSIVE MODE";
/// Races a write loses before it runs alone ([`ALONE_BEGIN`]): without that, a
/// write that keeps meeting another process's stream of writes can lose
/// every run (its reads of index pages the others keep writing make it
/// the one PostgreSQL refuses) and give up with `conflict`.
const STARVED: u32 = 8;
/// Stores rows: `$1`-`$3` their tables, keys and values. (Macros, so that
/// [`FLUSH`] and the statements prepared by name hold the same text.)
macro_rules! put_sql {
    () => {
        "INSERT INTO roster_rows (tab, key, value) \
        SELECT t, k, v FROM ROWS FROM (pg_catalog.unnest($1::text[]), \
        pg_catalog.unnest($2::bytea[]), pg_catalog.unnest($3::bytea[])) AS p(t, k, v) \
        ON CONFLICT (tab, key) DO UPDATE SET value = EXCLUDED.value"
    };
}
/// Sends a write's buffered rows: `$1`-`$3` the rows to store ([`put_sql`]),
/// `$4`-`$5` the rows to remove (tables and keys). No key is in both, so
/// the two parts, which PostgreSQL runs on one snapshot, never meet.
macro_rules! flush_sql {
    () => {
        concat!(
            "WITH gone AS (\
            DELETE FROM roster_rows r USING ROWS FROM (pg_catalog.unnest($4::text[]), \
            pg_catalog.unnest($5::bytea[])) AS d(t, k) \
            WHERE r.tab = d.t AND r.key = d.k) ",
            put_sql!()
        )
    };
}
const FLUSH: &str = flush_sql!();

/// Prepares, once per connection (all in one message), the statements
/// that end a write in the message of its `COMMIT` ([`buffer::literal`]):
/// `roster_put` ([`put_sql`]) when nothing is removed (most writes), else
/// `roster_flush` ([`FLUSH`]); before either, `roster_claim ($1, $2)`
/// when the write predicted its `$2` feed numbers from `$1` ([`Numbering`]:
/// a division by zero unless the sequence gives those); `roster_seqs ($1)`,
/// [`CHANGE_SEQS`] for a message of the simple protocol.
const PREPARE_ROWS: (&str, &str) = (
    "roster_put",
    concat!(
        "PREPARE roster_put (text[], bytea[], bytea[]) AS ",
        put_sql!(),
        "; PREPARE roster_flush (text[], bytea[], bytea[], text[], bytea[]) AS ",
        flush_sql!(),
        "; PREPARE roster_claim (bigint, bigint) AS \
        SELECT 1 / (CASE WHEN last = $1 + $2 - 1 THEN 1 ELSE 0 END) FROM (",
        seqs_sql!("$2"),
        ") AS taken; PREPARE roster_seqs (bigint) AS ",
        seqs_sql!("$1")
    ),
);

/// The feed's sequence gave numbers out of its range (below 1, or past the
/// largest a `bigint` holds).
fn seqs_damaged() -> Error {
    Error::new(
        ErrorCode::Corrupt,
        "the change feed's sequence (roster_change_seq) gave a number out of range",
    )
}

/// The feed's sequence answered without a number.
fn seqs_missing() -> Error {
    Error::new(ErrorCode::Internal, "the feed's sequence gave nothing")
}

/// Whether `e`, from a message that began with `roster_claim`, says the
/// predicted numbers were not the sequence's ([`Numbering`]).
fn claim_refused(e: &postgres::Error) -> bool {
    e.code() == Some(&SqlState::DIVISION_BY_ZERO)
}

/// Why a commit failed.
enum Committing {
    /// Sending the buffered writes failed (the transaction is rolled back);
    /// `raced`: for a race.
    Flush { error: Error, raced: bool },
    /// The feed numbers the write predicted were taken by another writer
    /// (the transaction is rolled back).
    Unclaimed,
    /// The `COMMIT` failed.
    Commit(postgres::Error),
}

impl Tx<'_> {
    fn fail(&self, e: postgres::Error) -> Error {
        self.failed.set(true);
        if is_race(&e) {
            self.raced.set(true);
        }
        storage(e)
    }

    /// Sends the statements that begin the transaction, on their own, when
    /// they have not gone yet.
    fn begun(&self) -> Result<()> {
        if self.backend.is_some() {
            return self.begin_reading(None).map(drop);
        }
        let Some(begin) = self.begin.take() else {
            return Ok(());
        };
        let mut conn = self.conn.borrow_mut();
        let message = format!("{}{begin}", conn.lead());
        let sent = conn.client.batch_execute(&message);
        drop(conn);
        self.started(sent)
    }

    /// Begins a read that has not begun: its snapshot and its prefetched
    /// tables, with `first` (the read's first statement, when it can be
    /// written out) in the same message; the rows of `first`, each as its
    /// columns' text (`None` when there is no `first`, or the read had
    /// begun). A connection found dead there, where nothing of the read
    /// has reached the server, is replaced by a new one and the message
    /// sent again, once: the read's closure has run part of its way and
    /// cannot run again, as a write's can.
    fn begin_reading(&self, first: Option<First>) -> Result<Option<TextRows>> {
        let Some(begin) = self.begin.take() else {
            return Ok(None);
        };
        let mut renewed = false;
        loop {
            match self.try_begin_reading(begin, first.as_ref()) {
                Ok(rows) => {
                    self.open.set(true);
                    // Rows that do not decode fail the read (rolled back).
                    let rows = rows.inspect_err(|_| self.failed.set(true))?;
                    return Ok(first.is_some().then_some(rows));
                }
                Err(e) if connection_lost(&e) && !renewed => {
                    let backend = self.backend.ok_or_else(|| storage(e))?;
                    **self.conn.borrow_mut() = backend.connect_one()?;
                    renewed = true;
                }
                Err(e) => {
                    // Its `START` may have run: rolled back when dropped.
                    self.open.set(!connection_lost(&e));
                    return Err(self.fail(e));
                }
            }
        }
    }

    /// One try of [`Tx::begin_reading`]: the statements the connection has
    /// not prepared yet, then `begin` and `first` in one message. The
    /// server's failure, or what it sent, which may not decode.
    fn try_begin_reading(
        &self,
        begin: &str,
        first: Option<&First>,
    ) -> std::result::Result<Result<TextRows>, postgres::Error> {
        let prefetch = self.backend.and_then(|b| b.read_begin.get());
        let mut conn = self.conn.borrow_mut();
        let conn = &mut **conn;
        if let Some(prefetch) = prefetch
            && !conn.prefetch_prepared
        {
            let message = format!("{}{}", conn.lead(), prefetch.prepare);
            conn.prepare(&message)?;
            conn.prefetch_prepared = true;
        }
        if let Some((name, prepare)) = first.map(|f| f.prepared)
            && !conn.named.contains(name)
        {
            let message = format!("{}{prepare}", conn.lead());
            conn.prepare(&message)?;
            conn.named.insert(name);
        }
        let lead = conn.lead();
        let mut statements: Vec<&str> = begin.split("; ").collect();
        let begun = statements.len();
        statements.extend(first.map(|f| f.statement.as_str()));
        let message = format!("{lead}{}", statements.join("; "));
        let replies = conn.client.simple_query(&message)?;
        // Rows of the beginning's statements are the prefetched tables';
        // those after them, `first`'s.
        let mut rows = TextRows::new();
        let mut prefetched = self.prefetched.borrow_mut();
        for (at, row) in rows_by_statement(&replies, !lead.is_empty()) {
            if at >= begun {
                let Ok(cells) = (0..row.len())
                    .map(|i| row.try_get(i).map(|cell| cell.map(str::to_string)))
                    .collect::<std::result::Result<Vec<_>, _>>()
                else {
                    return Ok(Err(unreadable()));
                };
                rows.push(cells);
                continue;
            }
            let Some((table, key, value)) = buffer::hex_row(row) else {
                return Ok(Err(unreadable()));
            };
            let Some(table) = prefetched.get_mut(table) else {
                return Ok(Err(unreadable()));
            };
            table.insert(key, value);
        }
        Ok(Ok(rows))
    }

    /// Records how the message that began the write went: the transaction
    /// is open from there, unless the connection turned out dead (then
    /// nothing was begun; [`Tx::stale`] when the message was the call's
    /// first). Any other failure may have come after the `START`, so the
    /// transaction counts as open, and is rolled back when dropped.
    fn started<T>(&self, sent: std::result::Result<T, postgres::Error>) -> Result<T> {
        match sent {
            Ok(out) => {
                self.open.set(true);
                Ok(out)
            }
            Err(e) => {
                match connection_lost(&e) {
                    true => self.stale.set(self.first),
                    false => self.open.set(true),
                }
                Err(self.fail(e))
            }
        }
    }

    /// Runs a named `PREPARE` (its name, its text) on the connection
    /// unless it has run there: a round trip of its own, once per
    /// connection (outside any transaction when it is a write's first).
    fn prepare_named(&self, (name, sql): (&'static str, &str)) -> Result<()> {
        let mut conn = self.conn.borrow_mut();
        if conn.named.contains(name) {
            return Ok(());
        }
        let message = format!("{}{sql}", conn.lead());
        match conn.prepare(&message) {
            Ok(()) => {
                conn.named.insert(name);
                Ok(())
            }
            Err(e) => {
                self.stale.set(self.first && connection_lost(&e));
                Err(self.fail(e))
            }
        }
    }

    /// Runs `sql`, prepared once per connection and kept.
    fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<postgres::Row>> {
        self.begun()?;
        let mut conn = self.conn.borrow_mut();
        let conn = &mut **conn;
        let statement = match conn.statements.get(sql) {
            Some(statement) => statement.clone(),
            None => {
                let statement = conn.client.prepare(sql).map_err(|e| self.fail(e))?;
                conn.statements.insert(sql.to_string(), statement.clone());
                statement
            }
        };
        conn.client
            .query(&statement, params)
            .map_err(|e| self.fail(e))
    }

    /// What the buffer knows of `key`, without a round trip.
    fn known(&self, table: &str, key: &[u8]) -> Option<buffer::Row> {
        self.buffer.as_ref()?.borrow().known(table, key)
    }

    /// Records a row the server gave (a write's buffer only).
    fn saw(&self, table: &str, key: &[u8], row: &buffer::Row) {
        if let Some(buffer) = &self.buffer {
            buffer.borrow_mut().saw(table, key, row.clone());
        }
    }

    /// Holds a write in the buffer; `false` for a read, which cannot write.
    fn hold(&self, table: &str, key: &[u8], row: buffer::Row) -> bool {
        match &self.buffer {
            Some(buffer) => {
                buffer.borrow_mut().write(table, key, row);
                true
            }
            None => false,
        }
    }

    /// The writes waiting in the buffer, taken out to be sent (none for a
    /// read).
    fn take_waiting(&self) -> buffer::Outgoing {
        match &self.buffer {
            Some(buffer) => buffer.borrow_mut().take(),
            None => buffer::Outgoing::default(),
        }
    }

    /// Sends the buffer's waiting writes, all in one statement.
    fn flush(&self) -> Result<()> {
        self.send(&self.take_waiting())
    }

    /// Sends `out` in one statement (nothing when it is empty).
    fn send(&self, out: &buffer::Outgoing) -> Result<()> {
        if out.is_empty() {
            return Ok(());
        }
        let (put_tabs, put_keys, put_values) = &out.put;
        let (delete_tabs, delete_keys) = &out.delete;
        self.query(
            FLUSH,
            &[put_tabs, put_keys, put_values, delete_tabs, delete_keys],
        )?;
        Ok(())
    }

    /// Sends what is waiting, then commits; a refusal to commit (a race
    /// found at the end) is the driver's error.
    ///
    /// A write's waiting rows go in the same message as the `COMMIT` when
    /// they are few ([`buffer::literal`]): one round trip for both.
    /// A write that has sent nothing yet sends its beginning in the same
    /// message too; one that has nothing to send either sends nothing.
    ///
    /// A write that predicted its feed numbers claims them first, in the
    /// same message ([`Numbering`]).
    fn commit(self) -> std::result::Result<(), Committing> {
        let out = self.take_waiting();
        let literal = buffer::literal(&out);
        let claim = match self.took.get() {
            Some(Took::Claimed { first, count }) => {
                Some(format!("EXECUTE roster_claim ({first}, {count})"))
            }
            _ => None,
        };
        let flush_failed = |error| {
            let raced = self.raced.get();
            Committing::Flush { error, raced }
        };
        if (literal.is_some() || claim.is_some())
            && let Err(error) = self.prepare_named(PREPARE_ROWS)
        {
            return Err(flush_failed(error));
        }
        let begin = self.begin.take();
        let message = match (literal, begin) {
            (Some(statement), begin) => {
                let parts: Vec<&str> = [begin, claim.as_deref(), Some(&statement)]
                    .into_iter()
                    .flatten()
                    .collect();
                parts.join("; ") + "; COMMIT"
            }
            (None, Some(_)) if out.is_empty() => return Ok(()),
            (None, begin) => {
                self.begin.set(begin);
                if let Some(claim) = &claim {
                    self.begun().map_err(flush_failed)?;
                    let mut conn = self.conn.borrow_mut();
                    let sent = conn.client.batch_execute(claim);
                    drop(conn);
                    if let Err(e) = sent {
                        let refused = claim_refused(&e);
                        let error = self.fail(e);
                        return Err(match refused {
                            true => Committing::Unclaimed,
                            false => flush_failed(error),
                        });
                    }
                }
                self.send(&out).map_err(flush_failed)?;
                "COMMIT".to_string()
            }
        };
        self.open.set(false);
        let mut conn = self.conn.borrow_mut();
        let message = format!("{}{message}", conn.lead());
        let sent = conn.client.batch_execute(&message);
        drop(conn);
        // Should the rows have failed before the COMMIT, the transaction
        // is still open, aborted: dropping it rolls it back (after a failed
        // COMMIT the ROLLBACK only draws a warning).
        self.open.set(sent.is_err());
        match sent {
            Err(e) if claim.is_some() && claim_refused(&e) => Err(Committing::Unclaimed),
            sent => sent.map_err(Committing::Commit),
        }
    }
}

impl Tx<'_> {
    /// Sends the rows waiting in the buffer, then takes the next `wanted`
    /// numbers of the feed under its lock ([`CHANGE_SEQS`]), in one message
    /// when the rows can be written out ([`buffer::literal`]): the last
    /// number. The feed's lock is held from there to the `COMMIT`, and
    /// every writer that appends waits for it; the write's rows go before,
    /// so that it holds the lock for its entries alone, not for the rows of
    /// a user or a merge of the search index (two processes that write at
    /// once otherwise take turns).
    fn seqs_after_rows(&self, wanted: i64) -> Result<i64> {
        let out = self.take_waiting();
        let Some(rows) = buffer::literal(&out) else {
            self.send(&out)?;
            let rows = self.query(CHANGE_SEQS, &[&wanted])?;
            return match rows.first() {
                Some(row) => cell(row, 0),
                None => Err(seqs_missing()),
            };
        };
        self.begun()?;
        self.prepare_named(PREPARE_ROWS)?;
        let message = format!("{rows}; EXECUTE roster_seqs ({wanted})");
        let sent = self.conn.borrow_mut().client.simple_query(&message);
        let replies = sent.map_err(|e| self.fail(e))?;
        let last = rows_by_statement(&replies, false)
            .find(|(at, _)| *at == 1)
            .and_then(|(_, row)| buffer::text_at(row, 0)?.parse().ok());
        last.ok_or_else(seqs_missing)
    }

    /// Records what [`Writer::will_read`] fetched: each row `asked` as
    /// `found` has it (absent: no row), and the rows of each prefix of
    /// `scans` read whole.
    fn saw_fetched(
        &self,
        asked: &[(&str, &[u8])],
        found: &HashMap<(String, Vec<u8>), Vec<u8>>,
        scans: &[(String, Vec<u8>)],
        ranges: Vec<buffer::Rows>,
    ) -> Result<()> {
        for (table, key) in asked {
            let row = found.get(&(table.to_string(), key.to_vec())).cloned();
            self.saw(table, key, &row);
        }
        if let Some(buffer) = &self.buffer {
            let mut buffer = buffer.borrow_mut();
            for ((table, prefix), rows) in scans.iter().zip(ranges) {
                buffer.saw_prefix(table, prefix, rows);
            }
        }
        Ok(())
    }

    /// Leaves this read open, its `COMMIT` to lead the connection's next
    /// message ([`Conn::lead`]), or to be sent by [`reap`]. A read that
    /// sent nothing has nothing open.
    fn leave_open(self) {
        if self.open.replace(false) {
            self.conn.borrow_mut().pending = Some(Instant::now());
        }
    }

    /// Whether `table` is one this read fetched whole with its snapshot.
    fn is_prefetched(&self, table: &str) -> bool {
        self.prefetched.borrow().contains_key(table)
    }

    /// Whether this is a read that has not begun: its first statement goes
    /// with its beginning ([`Tx::begin_reading`]).
    fn unbegun_read(&self) -> bool {
        self.backend.is_some() && self.begin.get().is_some()
    }

    /// A read's first read, of rows of tables not prefetched: sent with its
    /// beginning. `None`: begun already, or the rows did not fit.
    fn first_fetch(&self, asked: &[(&str, &[u8])]) -> Result<Option<Fetched>> {
        if !self.unbegun_read() {
            return Ok(None);
        }
        let first = buffer::fetch_literal(asked).map(|statement| First {
            statement,
            prepared: PREPARE_FETCH,
        });
        let Some(rows) = self.begin_reading(first)? else {
            return Ok(None);
        };
        let mut found = Fetched::new();
        for row in rows {
            let [Some(table), Some(key), Some(value)] = &row[..] else {
                return Err(unreadable());
            };
            let (key, value) = buffer::unhex(key)
                .zip(buffer::unhex(value))
                .ok_or_else(unreadable)?;
            found.insert((table.clone(), key), value);
        }
        Ok(Some(found))
    }
}

/// The size of a scan's page after one of `chunk` rows: twice as many, a
/// [`CHUNK`] at least (a first page sized by a hint that fell short), up to
/// [`CHUNK_MAX`].
fn next_page(chunk: i64) -> i64 {
    chunk.saturating_mul(2).clamp(CHUNK, CHUNK_MAX)
}

/// The lookup a read sends with its beginning: written out, and the
/// statement it runs, prepared once per connection (its name and its
/// `PREPARE`).
struct First {
    statement: String,
    prepared: (&'static str, &'static str),
}

/// The rows of a message's replies, each with the number of the statement
/// that sent it (from 0, after the `COMMIT` a message led with when `led`):
/// statements are told apart by the ones completed before.
fn rows_by_statement(
    replies: &[postgres::SimpleQueryMessage],
    led: bool,
) -> impl Iterator<Item = (usize, &postgres::SimpleQueryRow)> {
    let mut done: usize = 0;
    replies.iter().filter_map(move |reply| match reply {
        postgres::SimpleQueryMessage::Row(row) => {
            done.checked_sub(usize::from(led)).map(|at| (at, row))
        }
        postgres::SimpleQueryMessage::CommandComplete(_) => {
            done += 1;
            None
        }
        _ => None,
    })
}

/// Rows of the simple protocol, each as its columns' text.
type TextRows = Vec<Vec<Option<String>>>;

impl Drop for Tx<'_> {
    /// Rolls back a transaction that was not committed. Should that fail
    /// too, the connection is broken, and the pool drops it.
    fn drop(&mut self) {
        if self.open.get() {
            let _ = self.conn.get_mut().client.batch_execute("ROLLBACK");
        }
    }
}

impl Reader for Tx<'_> {
    /// No round trip for a key this write has read or written before; a
    /// read's first goes with its beginning.
    fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if self.is_prefetched(table) {
            self.begun()?;
            return Ok(self.prefetched.borrow()[table].get(key).cloned());
        }
        if let Some(found) = self.first_fetch(&[(table, key)])? {
            return Ok(found.get(&(table.to_string(), key.to_vec())).cloned());
        }
        if let Some(row) = self.known(table, key) {
            return Ok(row);
        }
        if self.begin.get().is_some() {
            // A write's first read goes with its beginning.
            self.will_read(&[(table, key)])?;
            if let Some(row) = self.known(table, key) {
                return Ok(row);
            }
        }
        let rows = self.query(
            "SELECT value FROM roster_rows WHERE tab = $1 AND key = $2",
            &[&table, &key],
        )?;
        let row = rows.first().map(|r| cell(r, 0)).transpose()?;
        self.saw(table, key, &row);
        Ok(row)
    }

    /// One round trip for every key this write does not know yet; a
    /// read's first goes with its beginning.
    fn get_many(&self, table: &str, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
        if self.is_prefetched(table) {
            self.begun()?;
            let prefetched = self.prefetched.borrow();
            let rows = &prefetched[table];
            return Ok(keys.iter().map(|k| rows.get(*k).cloned()).collect());
        }
        let asked: Vec<(&str, &[u8])> = keys.iter().map(|k| (table, *k)).collect();
        if let Some(found) = self.first_fetch(&asked)? {
            let table = table.to_string();
            return Ok(keys
                .iter()
                .map(|k| found.get(&(table.clone(), k.to_vec())).cloned())
                .collect());
        }
        if self.begin.get().is_some() {
            // A write's first read goes with its beginning.
            let rows: Vec<(&str, &[u8])> = keys.iter().map(|k| (table, *k)).collect();
            self.will_read(&rows)?;
        }
        let mut out: Vec<Option<buffer::Row>> = keys.iter().map(|k| self.known(table, k)).collect();
        let asked: Vec<&[u8]> = keys
            .iter()
            .zip(&out)
            .filter(|(_, known)| known.is_none())
            .map(|(k, _)| *k)
            .collect();
        if !asked.is_empty() {
            // One probe of the index per key: as `key = ANY($2)`, the planner
            // may use the index for `tab` alone and filter every row of the
            // logical table. `LIMIT 1` keeps the subquery a subquery (a join
            // it could plan by hashing the whole logical table).
            let rows = self.query(
                "SELECT k.key, r.value FROM pg_catalog.unnest($2::bytea[]) AS k(key) CROSS JOIN LATERAL \
                 (SELECT value FROM roster_rows WHERE tab = $1 AND key = k.key LIMIT 1) r",
                &[&table, &asked],
            )?;
            let found: HashMap<Vec<u8>, Vec<u8>> = rows
                .iter()
                .map(|r| Ok((cell(r, 0)?, cell(r, 1)?)))
                .collect::<Result<_>>()?;
            for (key, slot) in keys.iter().zip(out.iter_mut()) {
                if slot.is_none() {
                    let row = found.get(*key).cloned();
                    self.saw(table, key, &row);
                    *slot = Some(row);
                }
            }
        }
        Ok(out.into_iter().map(Option::unwrap_or_default).collect())
    }

    /// A read's entry and the row it names in one round trip; a write's
    /// (which has its buffer, and its hints) and a prefetched table's as
    /// two gets.
    fn get_and_follow(&self, table: &str, key: &[u8], then: &str, trim: usize) -> Result<Followed> {
        let local = |t: &str| self.is_prefetched(t);
        let trim_len = i32::try_from(trim).ok();
        let (Some(trim_len), None, false, false) =
            (trim_len, &self.buffer, local(table), local(then))
        else {
            return get_then_follow(self, table, key, then, trim);
        };
        if let Some(statement) = buffer::follow_literal(table, key, then, trim_len)
            && self.unbegun_read()
        {
            // With the read's beginning.
            let first = First {
                statement,
                prepared: PREPARE_FOLLOW,
            };
            let rows = self.begin_reading(Some(first))?.unwrap_or_default();
            let Some(row) = rows.first() else {
                return Ok((None, None));
            };
            let [Some(entry), next] = &row[..] else {
                return Err(unreadable());
            };
            let entry = buffer::unhex(entry).ok_or_else(unreadable)?;
            let next = match next {
                Some(next) => Some(buffer::unhex(next).ok_or_else(unreadable)?),
                None => None,
            };
            return Ok((Some(entry), next));
        }
        let rows = self.query(
            "SELECT i.value, r.value FROM roster_rows i LEFT JOIN LATERAL \
             (SELECT value FROM roster_rows WHERE tab = $3 AND key = \
             CASE WHEN pg_catalog.length(i.value) >= $4 \
             THEN substring(i.value FROM 1 FOR pg_catalog.length(i.value) - $4) END \
             LIMIT 1) r ON true WHERE i.tab = $1 AND i.key = $2",
            &[&table, &key, &then, &trim_len],
        )?;
        Ok(match rows.first() {
            Some(row) => (Some(cell(row, 0)?), cell(row, 1)?),
            None => (None, None),
        })
    }

    /// One round trip for all the keys, as [`Reader::get_many`].
    fn get_many_with(
        &self,
        table: &str,
        keys: &[&[u8]],
        visit: &mut ManyVisitor<'_>,
    ) -> Result<()> {
        for (i, value) in self.get_many(table, keys)?.into_iter().enumerate() {
            if let Some(value) = value {
                visit(i, &value)?;
            }
        }
        Ok(())
    }

    /// Sizes the next scan's first page: the rows asked for, and one more
    /// (a visitor may look at the row after the last it keeps).
    fn scan_hint(&self, rows: usize) {
        let rows = i64::try_from(rows).unwrap_or(i64::MAX).saturating_add(1);
        self.next_scan.set(Some(rows.clamp(1, CHUNK_MAX)));
    }

    /// A write's waiting rows in the range are laid over the server's.
    fn scan(
        &self,
        table: &str,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        reverse: bool,
        visit: &mut RowVisitor<'_>,
    ) -> Result<()> {
        // The first page's size: as hinted, else a chunk.
        let first_page = self.next_scan.take().unwrap_or(CHUNK);
        if self.is_prefetched(table) {
            self.begun()?;
            let prefetched = self.prefetched.borrow();
            let rows = &prefetched[table];
            if buffer::empty_range(lower, upper) {
                return Ok(());
            }
            let range = rows.range::<[u8], _>((lower, upper));
            let rows: Box<dyn Iterator<Item = (&Vec<u8>, &Vec<u8>)>> = match reverse {
                true => Box::new(range.rev()),
                false => Box::new(range),
            };
            for (key, value) in rows {
                if !visit(key, value)? {
                    break;
                }
            }
            return Ok(());
        }
        if self.scans.borrow().iter().any(|(t, _)| t == table) {
            // Hinted: the hinted ranges fetched now, in one message.
            self.will_read(&[])?;
        }
        let (pending, whole) = match &self.buffer {
            Some(buffer) => {
                let buffer = buffer.borrow();
                let whole = buffer.whole_in(table, lower, upper, reverse);
                (buffer.pending_in(table, lower, upper, reverse), whole)
            }
            None => (Vec::new(), None),
        };
        if let Some(rows) = whole {
            // Read whole with the write's first reads: no round trip.
            return buffer::merged_scan(&pending, reverse, visit, |visit| {
                for (key, value) in &rows {
                    if !visit(key, value)? {
                        break;
                    }
                }
                Ok(())
            });
        }
        if pending.is_empty() {
            return self.server_scan(table, lower, upper, reverse, first_page, visit);
        }
        buffer::merged_scan(&pending, reverse, visit, |visit| {
            self.server_scan(table, lower, upper, reverse, first_page, visit)
        })
    }

    /// Counted by the server, after a write's waiting rows are sent.
    fn len(&self, table: &str) -> Result<u64> {
        if self.is_prefetched(table) {
            self.begun()?;
            return Ok(self.prefetched.borrow()[table].len() as u64);
        }
        self.flush()?;
        let rows = self.query(
            "SELECT pg_catalog.count(*) FROM roster_rows WHERE tab = $1",
            &[&table],
        )?;
        let n: i64 = rows.first().map_or(Ok(0), |r| cell(r, 0))?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    fn table_names(&self) -> Result<Vec<String>> {
        self.flush()?;
        let rows = self.query("SELECT DISTINCT tab FROM roster_rows ORDER BY tab", &[])?;
        rows.iter().map(|r| cell(r, 0)).collect()
    }
}

impl Tx<'_> {
    /// The server's rows of a range, in keyset pages (`chunk` rows, then
    /// [`next_page`]'s).
    fn server_scan(
        &self,
        table: &str,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        reverse: bool,
        chunk: i64,
        visit: &mut RowVisitor<'_>,
    ) -> Result<()> {
        let mut lower: Bound<Vec<u8>> = lower.map(<[u8]>::to_vec);
        let mut upper: Bound<Vec<u8>> = upper.map(<[u8]>::to_vec);
        let mut chunk = chunk;
        // The last key seen: each row must come strictly after it in the
        // scan's order (a server that answered otherwise could keep a scan
        // going round forever).
        let mut last: Option<Vec<u8>> = None;
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
            params.push(&chunk);
            sql.push_str(&format!(" ORDER BY key {order} LIMIT ${}", params.len()));
            let rows = self.query(&sql, &params)?;
            for row in &rows {
                let key: &[u8] = cell(row, 0)?;
                let value: &[u8] = cell(row, 1)?;
                let onward = last.as_deref().is_none_or(|before| match reverse {
                    true => key < before,
                    false => key > before,
                });
                if !onward {
                    return Err(Error::new(
                        ErrorCode::Storage,
                        "the PostgreSQL server answered a scan out of key order",
                    ));
                }
                if !visit(key, value)? {
                    return Ok(());
                }
                last = Some(key.to_vec());
            }
            match last.clone() {
                Some(key) if rows.len() as i64 == chunk => {
                    chunk = next_page(chunk);
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
}

impl Writer for Tx<'_> {
    /// Held until the end of the write (or until a statement needs it).
    fn put(&self, table: &str, key: &[u8], value: &[u8]) -> Result<()> {
        if self.hold(table, key, Some(value.to_vec())) {
            return Ok(());
        }
        self.query(
            "INSERT INTO roster_rows (tab, key, value) VALUES ($1, $2, $3) \
             ON CONFLICT (tab, key) DO UPDATE SET value = EXCLUDED.value",
            &[&table, &key, &value],
        )?;
        Ok(())
    }

    /// Held like a put when the write knows whether the row is there;
    /// sent at once otherwise (the answer needs the server).
    fn delete(&self, table: &str, key: &[u8]) -> Result<bool> {
        if let Some(row) = self.known(table, key) {
            self.hold(table, key, None);
            return Ok(row.is_some());
        }
        let rows = self.query(
            "DELETE FROM roster_rows WHERE tab = $1 AND key = $2 RETURNING 1",
            &[&table, &key],
        )?;
        self.saw(table, key, &None);
        Ok(!rows.is_empty())
    }

    /// Held like a put, known or not: the answer is not needed.
    fn remove(&self, table: &str, key: &[u8]) -> Result<()> {
        if self.hold(table, key, None) {
            return Ok(());
        }
        self.delete(table, key).map(drop)
    }

    /// Held like a put; in a read, one statement for every row.
    fn put_many(&self, table: &str, rows: &[(&[u8], &[u8])]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        if self.buffer.is_some() {
            for (key, value) in rows {
                self.hold(table, key, Some(value.to_vec()));
            }
            return Ok(());
        }
        let (keys, values): (Vec<&[u8]>, Vec<&[u8]>) = rows.iter().copied().unzip();
        self.query(
            "INSERT INTO roster_rows (tab, key, value) \
             SELECT $1, k, v FROM ROWS FROM (pg_catalog.unnest($2::bytea[]), \
             pg_catalog.unnest($3::bytea[])) AS r(k, v) \
             ON CONFLICT (tab, key) DO UPDATE SET value = EXCLUDED.value",
            &[&table, &keys, &values],
        )?;
        Ok(())
    }

    /// The keys whose rows the write knows are held like a delete; one
    /// statement for all the others.
    fn delete_many(&self, table: &str, keys: &[&[u8]]) -> Result<u64> {
        let mut gone = 0;
        let mut asked = Vec::new();
        for key in keys {
            match self.known(table, key) {
                Some(row) => {
                    gone += u64::from(row.is_some());
                    self.hold(table, key, None);
                }
                None => asked.push(*key),
            }
        }
        if !asked.is_empty() {
            // The rows found as `get_many` finds them, then deleted where
            // they are (a row changed by another transaction since this
            // one's snapshot is a serialization failure, and the write runs
            // again).
            let rows = self.query(
                "DELETE FROM roster_rows WHERE ctid = ANY(ARRAY(SELECT r.ctid \
                 FROM pg_catalog.unnest($2::bytea[]) AS k(key) CROSS JOIN LATERAL \
                 (SELECT ctid FROM roster_rows WHERE tab = $1 AND key = k.key LIMIT 1) r)) \
                 RETURNING key",
                &[&table, &asked],
            )?;
            gone += rows.len() as u64;
            for key in asked {
                self.saw(table, key, &None);
            }
        }
        Ok(gone)
    }

    fn takes_hints(&self) -> bool {
        true
    }

    /// Kept for the message that begins the write ([`Writer::will_read`]);
    /// a write begun already reads them as it comes to them.
    fn will_scan(&self, tables: &[&str]) -> Result<()> {
        if self.buffer.is_some() && self.begin.get().is_some() {
            let plain = tables.iter().filter(|t| buffer::plain_name(t));
            self.scans
                .borrow_mut()
                .extend(plain.map(|t| (t.to_string(), Vec::new())));
        }
        Ok(())
    }

    /// Kept for the write's next [`Writer::will_read`] (begun or not), or
    /// fetched by the first scan of their table.
    fn will_scan_prefixes(&self, prefixes: &[(&str, &[u8])]) -> Result<()> {
        if self.buffer.is_some() {
            let plain = prefixes.iter().filter(|(t, _)| buffer::plain_name(t));
            self.scans
                .borrow_mut()
                .extend(plain.map(|(t, p)| (t.to_string(), p.to_vec())));
        }
        Ok(())
    }

    /// The rows this write does not know yet, read in one round trip (one
    /// probe of the index per row, as [`Reader::get_many`] reads), so that
    /// the reads that follow find them in the write's buffer, with the
    /// ranges it said it will scan ([`Writer::will_scan`],
    /// [`Writer::will_scan_prefixes`]). A write that has not begun yet
    /// begins in the same message.
    fn will_read(&self, rows: &[(&str, &[u8])]) -> Result<()> {
        let asked: Vec<(&str, &[u8])> = rows
            .iter()
            .filter(|(table, key)| self.buffer.is_some() && self.known(table, key).is_none())
            .copied()
            .collect();
        let scans = std::mem::take(&mut *self.scans.borrow_mut());
        if asked.is_empty() && scans.is_empty() {
            return Ok(());
        }
        let mut found: HashMap<(String, Vec<u8>), Vec<u8>> = HashMap::new();
        let mut ranges: Vec<buffer::Rows> = vec![Vec::new(); scans.len()];
        let select = buffer::fetch_literal(&asked);
        if asked.is_empty() || select.is_some() {
            // One message: the `COMMIT` of a read left open, the `START`,
            // the rows, the ranges; the rows of each statement told apart
            // by the statements completed before them.
            if select.is_some() {
                self.prepare_named(PREPARE_FETCH)?;
            }
            let begin = self.begin.take();
            let mut conn = self.conn.borrow_mut();
            let lead = conn.lead();
            // The beginning is several statements ([`WRITE_BEGIN`]).
            let mut statements: Vec<String> = begin
                .iter()
                .flat_map(|b| b.split("; "))
                .map(str::to_string)
                .collect();
            statements.extend(select);
            let rows_at = (!asked.is_empty()).then(|| statements.len() - 1);
            if !scans.is_empty() {
                statements.push(buffer::prefix_select(&scans));
            }
            let ranges_at = (!scans.is_empty()).then(|| statements.len() - 1);
            let message = format!("{lead}{}", statements.join("; "));
            let led = !lead.is_empty();
            let sent = conn.client.simple_query(&message);
            drop(conn);
            let replies = match begin {
                Some(_) => self.started(sent)?,
                None => sent.map_err(|e| self.fail(e))?,
            };
            for (at, row) in rows_by_statement(&replies, led) {
                // Rows of the other statements (the beginning's) are not
                // roster's.
                let at = Some(at);
                if at != ranges_at && at != rows_at {
                    continue;
                }
                let Some((table, key, value)) = buffer::hex_row(row) else {
                    let what = "the server sent a row that does not read back";
                    return Err(Error::new(ErrorCode::Storage, what));
                };
                if at == ranges_at {
                    let hint = scans
                        .iter()
                        .position(|(t, p)| t == table && key.starts_with(p));
                    if let Some(i) = hint {
                        ranges[i].push((key, value));
                    }
                } else {
                    found.insert((table.to_string(), key), value);
                }
            }
        } else {
            // Too many rows to write out: the ranges on their own first.
            if !scans.is_empty() {
                self.scans.borrow_mut().extend(scans.iter().cloned());
                self.will_read(&[])?;
            }
            let (tables, keys): (Vec<&str>, Vec<&[u8]>) = asked.iter().copied().unzip();
            let rows = self.query(
                "SELECT k.tab, k.key, r.value FROM ROWS FROM (pg_catalog.unnest($1::text[]), \
                 pg_catalog.unnest($2::bytea[])) AS k(tab, key) CROSS JOIN LATERAL \
                 (SELECT value FROM roster_rows WHERE tab = k.tab AND key = k.key LIMIT 1) r",
                &[&tables, &keys],
            )?;
            for row in &rows {
                found.insert((cell(row, 0)?, cell(row, 1)?), cell(row, 2)?);
            }
            return self.saw_fetched(&asked, &found, &[], Vec::new());
        }
        self.saw_fetched(&asked, &found, &scans, ranges)
    }

    /// Under the feed's transaction-scoped lock ([`CHANGE_SEQS`]): a
    /// transaction that takes numbers after this one's waits until this
    /// one has committed (or failed), so a snapshot sees a prefix of the
    /// feed and a reader that goes on from the last number it read skips
    /// nothing. A failed transaction leaves its numbers unused.
    ///
    /// A write that may predict its numbers ([`Numbering`]) takes them with
    /// its `COMMIT` instead, and sends nothing here. One that asks for them
    /// sends its waiting rows first ([`Tx::seqs_after_rows`]).
    fn change_seqs(&self, count: u64) -> Result<Option<u64>> {
        let wanted = i64::try_from(count.max(1))
            .map_err(|_| Error::new(ErrorCode::Internal, "too many changes in one write"))?;
        // The numbers claimed so far by this write, if it predicts them.
        let claimed = match (self.took.get(), self.predicted) {
            (Some(Took::Claimed { first, count }), _) => Some((first, count)),
            (None, Some(first)) => Some((first, 0)),
            _ => None,
        };
        // The numbers come from the server: checked, never trusted to
        // stay in range.
        let first = match claimed {
            Some((first, count)) => {
                let total = count.checked_add(wanted).ok_or_else(seqs_damaged)?;
                self.took.set(Some(Took::Claimed {
                    first,
                    count: total,
                }));
                first.checked_add(count)
            }
            None => {
                let last = self.seqs_after_rows(wanted)?;
                let next = last.checked_add(1).ok_or_else(seqs_damaged)?;
                self.took.set(Some(Took::Given { next }));
                last.checked_sub(wanted - 1)
            }
        };
        match first.and_then(|first| u64::try_from(first).ok()) {
            Some(first) if first >= 1 => Ok(Some(first)),
            _ => Err(seqs_damaged()),
        }
    }

    fn after_race(&self) -> bool {
        self.after_race
    }
}

impl Backend for PgBackend {
    /// Each read then begins with a `SELECT` of those tables, whole, in hex
    /// (the simple protocol's text), in the message that starts it: a
    /// statement `PREPARE`d once per connection and run by `EXECUTE`, so it
    /// is not planned at every read. Names that are not plain identifiers
    /// are left out.
    fn prefetch(&self, tables: &[&str]) {
        let tables: Vec<String> = tables
            .iter()
            .filter(|t| buffer::plain_name(t))
            .map(|t| t.to_string())
            .collect();
        if tables.is_empty() {
            return;
        }
        let prepare = format!(
            "PREPARE {PREFETCH_STATEMENT} AS {}",
            buffer::whole_tables(&tables)
        );
        let begin = format!("{READ_BEGIN}; EXECUTE {PREFETCH_STATEMENT}");
        let _ = self.read_begin.set(Prefetch {
            prepare,
            begin,
            tables,
        });
    }

    fn read(&self, f: &mut dyn FnMut(&dyn Reader) -> Result<()>) -> Result<()> {
        self.on_connection(|conn| {
            let tx = self.begin_read(conn);
            let outcome = f(&tx);
            if tx.failed.get() {
                // Dropped, it rolls back.
                return Attempt::Done(outcome.and(Err(aborted())));
            }
            if self.options.read_linger.is_zero() {
                return Attempt::Done(outcome.and_then(|()| {
                    tx.commit().map_err(|e| match e {
                        Committing::Flush { error, .. } => error,
                        Committing::Commit(e) => storage(e),
                        // A read takes no feed numbers.
                        Committing::Unclaimed => aborted(),
                    })
                }));
            }
            // Its answer is complete: the `COMMIT` goes with the next
            // message on the connection.
            tx.leave_open();
            Attempt::Done(outcome)
        })
    }

    fn write(&self, f: &mut dyn FnMut(&dyn Writer) -> Result<()>) -> Result<()> {
        // A write that panicked left what it knew of the feed's numbers
        // unsure: forgotten, so the next write asks for them.
        let mut numbering = self.writing.lock().unwrap_or_else(|poisoned| {
            let mut numbering = poisoned.into_inner();
            *numbering = Numbering::default();
            numbering
        });
        self.writing.clear_poison();
        self.on_connection(|conn| self.runs(conn, &mut numbering, f))
    }

    fn engine(&self) -> &'static str {
        "postgres"
    }

    /// A damaged row is refused by its frame's check, never a panic.
    fn damage_panics(&self) -> bool {
        false
    }

    /// A read's `START` goes in the message of its first statement.
    fn snapshot_at_first_read(&self) -> bool {
        true
    }

    /// Several processes insert at once: each handle takes id blocks of its
    /// own, so no counter row is written by all of them.
    fn own_id_blocks(&self) -> bool {
        true
    }
}

impl PgBackend {
    /// The runs of one write on `conn`, until one commits, one fails for
    /// another reason than a race, or the retries are spent. From the
    /// [`STARVED`]th lost race on, a run runs alone ([`ALONE_BEGIN`]).
    fn runs(
        &self,
        conn: &mut Conn,
        numbering: &mut Numbering,
        f: &mut dyn FnMut(&dyn Writer) -> Result<()>,
    ) -> Attempt<()> {
        // Runs of this write that lost a race; whether the last did.
        let (mut lost, mut lost_race) = (0, false);
        for attempt in 0..=self.options.retries {
            if lost_race && lost < STARVED {
                // Another process won the last race: give it time to
                // finish before running again. (A run alone waits for
                // the writes under way at its lock instead.)
                std::thread::sleep(backoff(attempt));
            }
            let tx = Tx::unbegun(conn, attempt == 0, numbering.predicted(), lost);
            let outcome = f(&tx).and_then(|()| match tx.failed.get() {
                true => Err(aborted()),
                false => Ok(()),
            });
            let took = tx.took.get();
            if tx.stale.get() {
                numbering.after(took, false);
                return Attempt::Stale(outcome.err().unwrap_or_else(aborted));
            }
            let raced = tx.raced.get();
            let committed = match outcome {
                Ok(()) => tx.commit(),
                // Dropping the transaction rolls it back.
                Err(error) => Err(Committing::Flush { error, raced }),
            };
            numbering.after(took, committed.is_ok());
            lost_race = match committed {
                Ok(()) => return Attempt::Done(Ok(())),
                Err(Committing::Unclaimed) => {
                    // Not a race: another writer took the numbers
                    // between this handle's writes.
                    numbering.contended();
                    false
                }
                Err(Committing::Flush { raced: true, .. }) => true,
                Err(Committing::Flush { error, .. }) => return Attempt::Done(Err(error)),
                Err(Committing::Commit(e)) if is_race(&e) => true,
                Err(Committing::Commit(e)) => return Attempt::Done(Err(storage(e))),
            };
            lost += u32::from(lost_race);
        }
        Attempt::Done(Err(Error::new(
            ErrorCode::Conflict,
            "the write kept colliding with concurrent writes; try again",
        )))
    }
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use super::*;
    use postgres::NoTls;

    /// A setting the server does not know fails the settings' message,
    /// which undoes every `SET` in it: the search path and the timeout are
    /// made again, and the planner's settings it does know kept.
    #[test]
    fn an_unknown_setting_leaves_the_search_path_and_the_timeout_made() {
        let Some(url) = crate::testing::server() else {
            return;
        };
        let client = Client::connect(&url, NoTls).expect("connect");
        let schema = "roster \"odd\" schema";
        let idle = Duration::from_secs(7);
        let mut client =
            session_with(client, schema, idle, "SET roster_no_such_setting = 1").expect("settings");
        let show = |client: &mut Client, what: &str| -> String {
            client
                .query_one(&format!("SHOW {what}"), &[])
                .expect("show")
                .try_get(0)
                .expect("a text")
        };
        assert_eq!(show(&mut client, "search_path"), quoted(schema));
        assert_eq!(
            show(&mut client, "idle_in_transaction_session_timeout"),
            "7s"
        );
        assert_eq!(show(&mut client, "enable_seqscan"), "off");
    }
}
