//! The yardstick: the same institute in SQLite (WAL, `synchronous=FULL`,
//! foreign keys, the indexes a competent engineer would add and an FTS5
//! trigram table for `q`), kept like for like with roster:
//!
//! - UNIQUE indexes on the keys roster keeps unique: `lower(username)`,
//!   `lower(email)`, `phone`, the user's and the batch's `uuid` (and
//!   `lower(name)` of batches);
//! - an index on `subscriptions (batch_id, user_id)`, roster's
//!   `batch_members`: the members of a batch in order (and the index
//!   SQLite's foreign-key documentation asks for on a child key);
//! - the FTS5 table covers the fields roster's n-gram index covers
//!   (username, email, first name, last name, phone), and a `q` search is
//!   restricted to the columns roster's `q` searches (username, email);
//! - every write transaction is durable (`synchronous=FULL`, as roster's
//!   default durability);
//! - the page cache has the budget of roster's store ([`CACHE_KIB`]);
//! - Sunbird's `managedBy` is a column with an index (roster keeps the
//!   managed-user pairs), searched by the manager's `uuid` as roster is, and Sunbird's `query` searches all five FTS5
//!   columns.

use crate::data::{self, Person};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;

/// Timestamp written on every row (2026-01-01T00:00:00Z, microseconds).
const NOW: i64 = 1_767_225_600_000_000;

/// SQLite's page cache in KiB: the 1 GiB that roster's store (redb's
/// default cache) may hold, so that neither store reads from the file what
/// the other keeps in memory. Change it with roster's store.
pub const CACHE_KIB: u64 = 1024 * 1024;

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA foreign_keys = ON;
CREATE TABLE batches (
    id INTEGER PRIMARY KEY, uuid TEXT NOT NULL, name TEXT NOT NULL, created INTEGER NOT NULL);
CREATE UNIQUE INDEX batches_name ON batches (lower(name));
CREATE UNIQUE INDEX batches_uuid ON batches (uuid);
CREATE TABLE users (
    id INTEGER PRIMARY KEY, uuid TEXT NOT NULL, username TEXT NOT NULL,
    password_hash TEXT NOT NULL, email TEXT, phone TEXT,
    first_name TEXT NOT NULL, last_name TEXT NOT NULL, birth_date TEXT, state TEXT,
    gender TEXT, custom_fields TEXT, is_active INTEGER NOT NULL,
    created INTEGER NOT NULL, modified INTEGER NOT NULL,
    managed_by INTEGER REFERENCES users (id));
CREATE UNIQUE INDEX users_uuid ON users (uuid);
CREATE UNIQUE INDEX users_username ON users (lower(username));
CREATE UNIQUE INDEX users_email ON users (lower(email));
CREATE UNIQUE INDEX users_phone ON users (phone) WHERE phone IS NOT NULL;
CREATE INDEX users_managed_by ON users (managed_by) WHERE managed_by IS NOT NULL;
CREATE VIRTUAL TABLE users_fts USING fts5 (
    username, email, first_name, last_name, phone,
    content = 'users', content_rowid = 'id', tokenize = 'trigram');
CREATE TABLE subscriptions (
    id INTEGER PRIMARY KEY, uuid TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    batch_id INTEGER NOT NULL REFERENCES batches (id),
    expires TEXT, created INTEGER NOT NULL, modified INTEGER NOT NULL,
    UNIQUE (user_id, batch_id));
CREATE INDEX subscriptions_batch ON subscriptions (batch_id, user_id);
CREATE INDEX subscriptions_expires ON subscriptions (expires) WHERE expires IS NOT NULL;
";

const USER_COLUMNS: &str = "id, uuid, username, email, phone, first_name, last_name, \
    birth_date, state, gender, custom_fields, is_active, created, modified";

/// A user row as read back (what a view would be built from).
#[derive(Debug)]
#[allow(dead_code, reason = "read to do the work of a lookup, not inspected")]
pub struct Row {
    /// Id (compared with roster's pages).
    pub id: i64,
    /// Its own UUID (a manager's names it to Sunbird's `managedBy`).
    pub uuid: String,
    /// Login name (compared with roster's `userName`s).
    pub username: String,
    email: Option<String>,
    phone: Option<String>,
    first_name: String,
    last_name: String,
    birth_date: Option<String>,
    state: Option<String>,
    gender: Option<String>,
    custom_fields: Option<String>,
    is_active: bool,
    created: i64,
    modified: i64,
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        id: r.get(0)?,
        uuid: r.get(1)?,
        username: r.get(2)?,
        email: r.get(3)?,
        phone: r.get(4)?,
        first_name: r.get(5)?,
        last_name: r.get(6)?,
        birth_date: r.get(7)?,
        state: r.get(8)?,
        gender: r.get(9)?,
        custom_fields: r.get(10)?,
        is_active: r.get(11)?,
        created: r.get(12)?,
        modified: r.get(13)?,
    })
}

/// A UUID-shaped string from `rng` (the rows carry one, as roster's do).
fn uuid(rng: &mut data::Rng) -> String {
    let (a, b) = (rng.next_u64(), rng.next_u64());
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

/// The SQLite store.
pub struct Sqlite {
    conn: Connection,
    rng: data::Rng,
}

impl Sqlite {
    /// Creates the database at `path` with its 50 batches.
    pub fn create(path: &Path) -> rusqlite::Result<Sqlite> {
        let conn = Connection::open(path)?;
        conn.execute_batch(SCHEMA)?;
        conn.execute_batch(&format!("PRAGMA cache_size = -{CACHE_KIB};"))?;
        let mut db = Sqlite {
            conn,
            rng: data::Rng::new(7),
        };
        let tx = db.conn.transaction()?;
        for i in 0..data::BATCHES {
            tx.execute(
                "INSERT INTO batches (id, uuid, name, created) VALUES (?1, ?2, ?3, ?4)",
                params![i as i64 + 1, uuid(&mut db.rng), data::batch_name(i), NOW],
            )?;
        }
        tx.commit()?;
        Ok(db)
    }

    /// Imports `people` in one transaction.
    pub fn import(&mut self, people: &[Person], hash: &str) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut user = tx.prepare_cached(
                "INSERT INTO users (uuid, username, password_hash, email, phone, first_name, \
                 last_name, birth_date, state, gender, custom_fields, is_active, created, \
                 modified) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1, ?12, ?12)",
            )?;
            let mut fts = tx.prepare_cached(
                "INSERT INTO users_fts (rowid, username, email, first_name, last_name, phone) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            let mut sub = tx.prepare_cached(
                "INSERT INTO subscriptions (uuid, user_id, batch_id, expires, created, modified) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            )?;
            for p in people {
                let custom = format!("{{\"Stream\":\"{}\"}}", p.stream);
                user.execute(params![
                    uuid(&mut self.rng),
                    p.username,
                    hash,
                    p.email,
                    p.phone,
                    p.first_name,
                    p.last_name,
                    p.birth_iso,
                    p.state,
                    p.gender,
                    custom,
                    NOW
                ])?;
                let id = tx.last_insert_rowid();
                fts.execute(params![
                    id,
                    p.username,
                    p.email,
                    p.first_name,
                    p.last_name,
                    p.phone
                ])?;
                for b in &p.batches {
                    sub.execute(params![
                        uuid(&mut self.rng),
                        id,
                        *b as i64 + 1,
                        p.expires,
                        NOW
                    ])?;
                }
            }
        }
        tx.commit()
    }

    /// User `id`.
    pub fn get(&self, id: u64) -> rusqlite::Result<Option<Row>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        stmt.query_row([id as i64], row).optional()
    }

    /// The id of the user named `username`, ignoring case.
    pub fn find(&self, username: &str) -> rusqlite::Result<Option<i64>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM users WHERE lower(username) = lower(?1)")?;
        stmt.query_row([username], |r| r.get(0)).optional()
    }

    /// The user with this email, ignoring case.
    pub fn by_email(&self, email: &str) -> rusqlite::Result<Option<Row>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE lower(email) = lower(?1)");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        stmt.query_row([email], row).optional()
    }

    /// Page `page` (from 1) of 20 users by id, and the count (as a DRF page).
    pub fn page(&self, page: u64) -> rusqlite::Result<(u64, Vec<Row>)> {
        let count: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM users")?
            .query_row([], |r| r.get(0))?;
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY id LIMIT 20 OFFSET ?1");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt
            .query_map([(page as i64 - 1) * 20], row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok((count as u64, rows))
    }

    /// The first page of users whose username or email contains `q`, and
    /// the count: the FTS5 query is restricted to those two columns, as
    /// roster's `q` is (its index covers the other three for Sunbird's
    /// `query`).
    pub fn search(&self, q: &str) -> rusqlite::Result<(u64, Vec<Row>)> {
        let phrase = format!("{{username email}} : \"{}\"", q.replace('"', "\"\""));
        let count: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM users_fts WHERE users_fts MATCH ?1")?
            .query_row([&phrase], |r| r.get(0))?;
        // FTS5 yields rowids in order, so the first 20 stop the match early
        // (a LIMIT outside the subquery would collect every match first).
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id IN \
             (SELECT rowid FROM users_fts WHERE users_fts MATCH ?1 ORDER BY rowid LIMIT 20) \
             ORDER BY id"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt
            .query_map([&phrase], row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok((count as u64, rows))
    }

    /// Subscribes `user` to `batch` until `expires` (one durable transaction).
    pub fn subscribe(&mut self, user: u64, batch: u64, expires: &str) -> rusqlite::Result<()> {
        let id = uuid(&mut self.rng);
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO subscriptions (uuid, user_id, batch_id, expires, created, modified) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (user_id, batch_id) \
             DO UPDATE SET expires = excluded.expires, modified = excluded.modified",
        )?;
        stmt.execute(params![id, user as i64, batch as i64, expires, NOW])?;
        Ok(())
    }

    /// Deletes every subscription that expired before `today`; how many.
    pub fn purge(&mut self, today: &str) -> rusqlite::Result<u64> {
        let tx = self.conn.transaction()?;
        let n = tx.execute(
            "DELETE FROM subscriptions WHERE expires IS NOT NULL AND expires < ?1",
            [today],
        )?;
        tx.commit()?;
        Ok(n as u64)
    }

    /// Adds managed users (first name only) of `manager`, in one
    /// transaction; their ids.
    pub fn add_managed(&mut self, manager: u64, names: &[String]) -> rusqlite::Result<Vec<i64>> {
        let tx = self.conn.transaction()?;
        let mut ids = Vec::new();
        {
            let mut user = tx.prepare_cached(
                "INSERT INTO users (uuid, username, password_hash, first_name, last_name, \
                 is_active, created, modified, managed_by) \
                 VALUES (?1, ?2, '', ?3, '', 1, ?4, ?4, ?5)",
            )?;
            let mut fts = tx.prepare_cached(
                "INSERT INTO users_fts (rowid, username, email, first_name, last_name, phone) \
                 VALUES (?1, ?2, '', ?3, '', '')",
            )?;
            for name in names {
                let username = format!("{}_{}", name.to_lowercase(), uuid(&mut self.rng));
                user.execute(params![
                    uuid(&mut self.rng),
                    username,
                    name,
                    NOW,
                    manager as i64
                ])?;
                let id = tx.last_insert_rowid();
                fts.execute(params![id, username, name])?;
                ids.push(id);
            }
        }
        tx.commit()?;
        Ok(ids)
    }

    /// The count and first page of 20 (by id) of the users `filter`
    /// selects, with its parameters.
    fn first_page(
        &self,
        filter: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> rusqlite::Result<(u64, Vec<Row>)> {
        let count: i64 = self
            .conn
            .prepare_cached(&format!("SELECT count(*) FROM users WHERE {filter}"))?
            .query_row(args, |r| r.get(0))?;
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {filter} ORDER BY id LIMIT 20");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt
            .query_map(args, row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok((count as u64, rows))
    }

    /// Sunbird's `filters: {email}`.
    pub fn search_email(&self, email: &str) -> rusqlite::Result<(u64, Vec<Row>)> {
        self.first_page("lower(email) = lower(?1)", &[&email])
    }

    /// Sunbird's `filters: {managedBy}`: the manager named by its `uuid`, as
    /// Sunbird's `managedBy` names it (and roster is given it).
    pub fn search_managed(&self, manager_uuid: &str) -> rusqlite::Result<(u64, Vec<Row>)> {
        self.first_page(
            "managed_by = (SELECT id FROM users WHERE uuid = ?1)",
            &[&manager_uuid],
        )
    }

    /// Sunbird's `filters: {$or: {email, phone}}`.
    pub fn search_email_or_phone(
        &self,
        email: &str,
        phone: &str,
    ) -> rusqlite::Result<(u64, Vec<Row>)> {
        self.first_page("lower(email) = lower(?1) OR phone = ?2", &[&email, &phone])
    }

    /// Sunbird's `query`: a substring of any of the five columns.
    pub fn search_query(&self, q: &str) -> rusqlite::Result<(u64, Vec<Row>)> {
        let phrase = format!("\"{}\"", q.replace('"', "\"\""));
        let count: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM users_fts WHERE users_fts MATCH ?1")?
            .query_row([&phrase], |r| r.get(0))?;
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id IN \
             (SELECT rowid FROM users_fts WHERE users_fts MATCH ?1 ORDER BY rowid LIMIT 20) \
             ORDER BY id"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt
            .query_map([&phrase], row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok((count as u64, rows))
    }

    /// Folds the WAL into the database file (before measuring its size).
    pub fn checkpoint(&self) -> rusqlite::Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
    }
}
