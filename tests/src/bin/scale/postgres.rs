//! `scale --backend postgres --db URL`: roster on PostgreSQL
//! (`roster_postgres::open`, a fresh schema) beside the same work done
//! with hand-written SQL on the same server (another fresh schema, typed
//! tables and indexes, statements prepared once per connection), each
//! operation one transaction at the isolation roster's backend uses:
//! writes `SERIALIZABLE`, reads `REPEATABLE READ, READ ONLY`. Then the
//! write throughput of two processes on the one institute over one
//! process's (this program again, `--worker`).
//!
//! The native schema:
//!
//! - `users`: identity id, `uuid` (unique, `gen_random_uuid()`), typed
//!   columns, UNIQUE indexes on `lower(username)`, `lower(email)`, `phone`;
//!   with pg_trgm, a trigram GIN index on `username` and one on `email`
//!   (roster's `q`: a case-insensitive substring of either, `ILIKE`);
//! - `batches`: id, `uuid`, UNIQUE `lower(name)`;
//! - `memberships (user_id, batch_id)` primary key, foreign keys (`ON
//!   DELETE CASCADE` from users), `expires date` with a partial index,
//!   and an index on `(batch_id, user_id)` (roster's `batch_members`).

use crate::{
    Failure, Line, SEED, TODAY, argon2_default, data, import_in_turns, import_row, line,
    percentiles, print_table, progress, time_blocks,
};
use chrono::{TimeZone, Utc};
use postgres::error::SqlState;
use postgres::{Client, IsolationLevel, NoTls, Statement, Transaction};
use roster::{BatchInput, CustomFieldInput, FixedClock, PageRequest, UserQuery};
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Lookups timed per kind (each is a few round trips to the server).
const LOOKUPS: usize = 2_000;
/// Calls timed in a row on one side before the other's turn
/// ([`time_blocks`]).
const BLOCK: usize = 50;
/// First pages, last pages, `q` searches, single creates and
/// subscriptions timed.
const PAGES: usize = 300;
const LAST_PAGES: usize = 100;
const Q_SEARCHES: usize = 100;
const CREATES: usize = 300;
const WRITES: usize = 300;
/// Operations of each kind whose statements are counted.
const COUNTED: usize = 20;
/// Step 9's bars: every ratio (native cost / roster cost) at least this,
/// and two processes' write rate at least this times one process's.
const RATIO_BAR: f64 = 0.5;
const SCALING_BAR: f64 = 1.5;
/// How long each process of the throughput measurement writes, and how
/// many times each measurement runs (the figures are the means).
const WORKER_SECONDS: u64 = 20;
const ROUNDS: usize = 2;

/// The native tables (`CREATE EXTENSION pg_trgm` and its indexes are
/// separate: without the extension `q` is not measured).
const SCHEMA: &str = "
CREATE TABLE batches (
    id bigint PRIMARY KEY, uuid uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    name text NOT NULL, created timestamptz NOT NULL DEFAULT now());
CREATE UNIQUE INDEX batches_name ON batches (lower(name));
CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uuid uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    username text NOT NULL, password_hash text NOT NULL, email text, phone text,
    first_name text NOT NULL, last_name text NOT NULL, birth_date date, state text,
    gender text, custom_fields jsonb, is_active boolean NOT NULL DEFAULT true,
    created timestamptz NOT NULL, modified timestamptz NOT NULL);
CREATE UNIQUE INDEX users_username ON users (lower(username));
CREATE UNIQUE INDEX users_email ON users (lower(email));
CREATE UNIQUE INDEX users_phone ON users (phone);
CREATE TABLE memberships (
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    batch_id bigint NOT NULL REFERENCES batches (id),
    expires date, created timestamptz NOT NULL, modified timestamptz NOT NULL,
    PRIMARY KEY (user_id, batch_id));
CREATE INDEX memberships_batch ON memberships (batch_id, user_id);
CREATE INDEX memberships_expires ON memberships (expires) WHERE expires IS NOT NULL;
";

const TRIGRAMS: &str = "
CREATE INDEX users_username_trgm ON users USING gin (username gin_trgm_ops);
CREATE INDEX users_email_trgm ON users USING gin (email gin_trgm_ops);
";

const USER_COLUMNS: &str = "id, uuid::text, username, email, phone, first_name, last_name, \
    birth_date::text, state, gender, custom_fields::text, is_active, created, modified";

/// A user row as read back (what a view would be built from).
#[derive(Debug)]
#[allow(dead_code, reason = "read to do the work of a lookup, not inspected")]
pub struct Row {
    /// Id (compared with roster's pages).
    pub id: i64,
    uuid: String,
    username: String,
    email: Option<String>,
    phone: Option<String>,
    first_name: String,
    last_name: String,
    birth_date: Option<String>,
    state: Option<String>,
    gender: Option<String>,
    custom_fields: Option<String>,
    is_active: bool,
    created: SystemTime,
    modified: SystemTime,
}

fn row(r: &postgres::Row) -> Row {
    Row {
        id: r.get(0),
        uuid: r.get(1),
        username: r.get(2),
        email: r.get(3),
        phone: r.get(4),
        first_name: r.get(5),
        last_name: r.get(6),
        birth_date: r.get(7),
        state: r.get(8),
        gender: r.get(9),
        custom_fields: r.get(10),
        is_active: r.get(11),
        created: r.get(12),
        modified: r.get(13),
    }
}

/// The native side's statements, prepared once on its connection.
struct Statements {
    import_users: Statement,
    import_members: Statement,
    create: Statement,
    get: Statement,
    find: Statement,
    by_email: Statement,
    count: Statement,
    page: Statement,
    q: Option<(Statement, Statement)>,
    subscribe: Statement,
    purge: Statement,
}

/// The hand-written store.
pub struct Native {
    client: Client,
    st: Statements,
}

/// Whether PostgreSQL refused a transaction for a race (run it again).
fn is_race(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE
            || *c == SqlState::T_R_DEADLOCK_DETECTED
    )
}

impl Native {
    /// Creates the tables in a new schema on the server of `url`, with
    /// the 50 batches; whether `q` can be measured (pg_trgm) is in `st.q`.
    fn create(url: &str) -> Result<(Native, String), Failure> {
        let schema = roster_postgres::testing::unique_name("scale_native_");
        let mut admin = Client::connect(url, NoTls)?;
        admin.batch_execute(&format!("CREATE SCHEMA {schema}"))?;
        let trigrams = admin
            .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
            .is_ok();
        let mut client = Native::connect(url, &schema)?;
        client.batch_execute(SCHEMA)?;
        if trigrams {
            client.batch_execute(TRIGRAMS)?;
        } else {
            progress("pg_trgm is not available: q is not measured on PostgreSQL");
        }
        let batches: Vec<String> = (0..data::BATCHES).map(data::batch_name).collect();
        client.execute(
            "INSERT INTO batches (id, name) SELECT ord, name \
             FROM unnest($1::text[]) WITH ORDINALITY AS t(name, ord)",
            &[&batches],
        )?;
        Ok((Native::prepare(client, trigrams)?, schema))
    }

    /// A connection to `url` with the native `schema` first on its path.
    fn connect(url: &str, schema: &str) -> Result<Client, Failure> {
        let mut config: postgres::Config = url.parse()?;
        config.options(&format!("-c search_path={schema},public"));
        Ok(config.connect(NoTls)?)
    }

    /// The native store of `schema` (made by [`Native::create`]) on a new
    /// connection, without `q` (a worker's).
    fn open(url: &str, schema: &str) -> Result<Native, Failure> {
        Native::prepare(Native::connect(url, schema)?, false)
    }

    /// Prepares the statements on `client` (`q`'s with `trigrams`).
    fn prepare(mut client: Client, trigrams: bool) -> Result<Native, Failure> {
        let st = Statements {
            import_users: client.prepare(
                "INSERT INTO users (username, password_hash, email, phone, first_name, \
                 last_name, birth_date, state, gender, custom_fields, created, modified) \
                 SELECT u, $2::text, e, p, f, l, b::date, s, g, \
                 jsonb_build_object('Stream', st), now(), now() \
                 FROM unnest($1::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
                 $7::text[], $8::text[], $9::text[], $10::text[]) WITH ORDINALITY \
                 AS t(u, e, p, f, l, b, s, g, st, ord) ORDER BY ord \
                 RETURNING id, username",
            )?,
            import_members: client.prepare(
                "INSERT INTO memberships (user_id, batch_id, expires, created, modified) \
                 SELECT u, b, x::date, now(), now() \
                 FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS t(u, b, x)",
            )?,
            create: client.prepare(
                "WITH u AS (INSERT INTO users (username, password_hash, email, phone, \
                 first_name, last_name, birth_date, state, gender, custom_fields, created, \
                 modified) VALUES ($1, $2, $3, $4, $5, $6, $7::text::date, $8, $9, \
                 jsonb_build_object('Stream', $10::text), now(), now()) RETURNING id) \
                 INSERT INTO memberships (user_id, batch_id, expires, created, modified) \
                 SELECT u.id, b, $12::text::date, now(), now() FROM u, unnest($11::bigint[]) AS b",
            )?,
            get: client.prepare(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))?,
            find: client.prepare("SELECT id FROM users WHERE lower(username) = lower($1)")?,
            by_email: client.prepare(&format!(
                "SELECT {USER_COLUMNS} FROM users WHERE lower(email) = lower($1)"
            ))?,
            count: client.prepare("SELECT count(*) FROM users")?,
            page: client.prepare(&format!(
                "SELECT {USER_COLUMNS} FROM users ORDER BY id LIMIT 20 OFFSET $1"
            ))?,
            q: match trigrams {
                true => Some((
                    client.prepare(
                        "SELECT count(*) FROM users WHERE username ILIKE $1 OR email ILIKE $1",
                    )?,
                    client.prepare(&format!(
                        "SELECT {USER_COLUMNS} FROM users \
                         WHERE username ILIKE $1 OR email ILIKE $1 ORDER BY id LIMIT 20"
                    ))?,
                )),
                false => None,
            },
            subscribe: client.prepare(
                "INSERT INTO memberships (user_id, batch_id, expires, created, modified) \
                 VALUES ($1, $2, $3::text::date, now(), now()) ON CONFLICT (user_id, batch_id) \
                 DO UPDATE SET expires = EXCLUDED.expires, modified = EXCLUDED.modified",
            )?,
            purge: client.prepare("DELETE FROM memberships WHERE expires < $1::text::date")?,
        };
        Ok(Native { client, st })
    }

    /// `f` in one `REPEATABLE READ, READ ONLY` transaction, as roster reads.
    fn read<T>(
        &mut self,
        f: impl FnOnce(&mut Transaction<'_>, &Statements) -> Result<T, postgres::Error>,
    ) -> Result<T, Failure> {
        let mut tx = self
            .client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let out = f(&mut tx, &self.st)?;
        tx.commit()?;
        Ok(out)
    }

    /// `f` in one `SERIALIZABLE` transaction, run again after a race, as
    /// roster writes.
    fn write<T>(
        &mut self,
        mut f: impl FnMut(&mut Transaction<'_>, &Statements) -> Result<T, postgres::Error>,
    ) -> Result<T, Failure> {
        let mut attempt = 0;
        loop {
            let mut tx = self
                .client
                .build_transaction()
                .isolation_level(IsolationLevel::Serializable)
                .start()?;
            match f(&mut tx, &self.st).and_then(|out| tx.commit().map(|()| out)) {
                Ok(out) => return Ok(out),
                Err(e) if is_race(&e) && attempt < 10 => attempt += 1,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Imports `people` in one transaction: two statements (the users,
    /// then their memberships), each taking the chunk as arrays.
    fn import(&mut self, people: &[data::Person], hash: &str) -> Result<(), Failure> {
        let col = |f: fn(&data::Person) -> &str| people.iter().map(f).collect::<Vec<&str>>();
        let usernames = col(|p| &p.username);
        let emails = col(|p| &p.email);
        let phones = col(|p| &p.phone);
        let first = col(|p| &p.first_name);
        let last = col(|p| &p.last_name);
        let births = col(|p| &p.birth_iso);
        let states = col(|p| &p.state);
        let genders = col(|p| p.gender);
        let streams = col(|p| p.stream);
        self.write(|tx, st| {
            let rows = tx.query(
                &st.import_users,
                &[
                    &usernames, &hash, &emails, &phones, &first, &last, &births, &states, &genders,
                    &streams,
                ],
            )?;
            let ids: HashMap<&str, i64> = rows.iter().map(|r| (r.get(1), r.get(0))).collect();
            let (mut users, mut batches, mut expires) = (Vec::new(), Vec::new(), Vec::new());
            for p in people {
                for &b in &p.batches {
                    users.push(ids[p.username.as_str()]);
                    batches.push(b as i64 + 1);
                    expires.push(p.expires.clone());
                }
            }
            tx.execute(&st.import_members, &[&users, &batches, &expires])?;
            Ok(())
        })
    }

    /// Creates one user with its memberships (one statement).
    fn create_one(&mut self, p: &data::Person, hash: &str) -> Result<(), Failure> {
        let batches: Vec<i64> = p.batches.iter().map(|&b| b as i64 + 1).collect();
        self.write(|tx, st| {
            tx.execute(
                &st.create,
                &[
                    &p.username,
                    &hash,
                    &p.email,
                    &p.phone,
                    &p.first_name,
                    &p.last_name,
                    &p.birth_iso,
                    &p.state,
                    &p.gender,
                    &p.stream,
                    &batches,
                    &p.expires,
                ],
            )
            .map(|_| ())
        })
    }

    fn get(&mut self, id: u64) -> Result<Option<Row>, Failure> {
        self.read(|tx, st| Ok(tx.query_opt(&st.get, &[&(id as i64)])?.as_ref().map(row)))
    }

    fn find(&mut self, username: &str) -> Result<Option<i64>, Failure> {
        self.read(|tx, st| Ok(tx.query_opt(&st.find, &[&username])?.map(|r| r.get(0))))
    }

    fn by_email(&mut self, email: &str) -> Result<Option<Row>, Failure> {
        self.read(|tx, st| Ok(tx.query_opt(&st.by_email, &[&email])?.as_ref().map(row)))
    }

    /// Page `page` (from 1) of 20 users by id, and the count.
    fn page(&mut self, page: u64) -> Result<(u64, Vec<Row>), Failure> {
        self.read(|tx, st| {
            let count: i64 = tx.query_one(&st.count, &[])?.get(0);
            let offset = (page as i64 - 1) * 20;
            let rows = tx.query(&st.page, &[&offset])?;
            Ok((count as u64, rows.iter().map(row).collect()))
        })
    }

    /// The count and first page of users whose username or email contains
    /// `q`, ignoring case; `None` without pg_trgm.
    fn search(&mut self, q: &str) -> Result<Option<(u64, Vec<Row>)>, Failure> {
        if self.st.q.is_none() {
            return Ok(None);
        }
        let pattern = format!(
            "%{}%",
            q.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        self.read(|tx, st| {
            let (count, page) = st.q.as_ref().expect("checked above");
            let n: i64 = tx.query_one(count, &[&pattern])?.get(0);
            let rows = tx.query(page, &[&pattern])?;
            Ok(Some((n as u64, rows.iter().map(row).collect())))
        })
    }

    fn subscribe(&mut self, user: u64, batch: u64, expires: &str) -> Result<(), Failure> {
        self.write(|tx, st| {
            tx.execute(&st.subscribe, &[&(user as i64), &(batch as i64), &expires])
                .map(|_| ())
        })
    }

    fn purge(&mut self, today: &str) -> Result<u64, Failure> {
        self.write(|tx, st| tx.execute(&st.purge, &[&today]))
    }
}

/// `url` with `search_path` set to `schema` (the `options` parameter), so
/// that `roster_postgres::open` takes it as a host would.
fn with_schema(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

/// Statements per operation.
type PerOp = f64;

/// The statements of `reps` runs of `f`, per run, from pg_stat_statements
/// (`None` when it is not loaded). Not round trips: roster sends several
/// statements in one message (its reads with the `START TRANSACTION`, its
/// rows with the `COMMIT`), which the server's statistics do not show;
/// `backends/postgres/tests/round_trips.rs` counts its messages from the
/// server's log.
fn count_statements(
    what: &str,
    stats: &mut Option<Client>,
    reps: usize,
    mut f: impl FnMut(usize) -> Result<(), Failure>,
) -> Result<Option<PerOp>, Failure> {
    let Some(admin) = stats.as_mut() else {
        for k in 0..reps {
            f(k)?;
        }
        return Ok(None);
    };
    admin.batch_execute("SELECT pg_stat_statements_reset()")?;
    for k in 0..reps {
        f(k)?;
    }
    let calls: f64 = admin
        .query_one(
            "SELECT coalesce(sum(calls), 0)::float8 FROM pg_stat_statements \
             WHERE query NOT ILIKE '%pg_stat_statements%'",
            &[],
        )?
        .get(0);
    // The statements behind the figure, most called first (stderr: for
    // reading the misses, not part of the table).
    for r in admin.query(
        "SELECT calls, regexp_replace(left(query, 90), '\\s+', ' ', 'g') \
         FROM pg_stat_statements WHERE query NOT ILIKE '%pg_stat_statements%' \
         ORDER BY calls DESC LIMIT 8",
        &[],
    )? {
        let (calls, query): (i64, String) = (r.get(0), r.get(1));
        eprintln!(
            "[scale]     {what}: {:.2} × {query}",
            calls as f64 / reps as f64
        );
    }
    Ok(Some(calls / reps as f64))
}

/// pg_stat_statements on the server of `url`, when it is loaded (the
/// harness then counts statements per operation).
fn statement_counter(url: &str) -> Option<Client> {
    let mut admin = Client::connect(url, NoTls).ok()?;
    admin
        .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements SCHEMA public")
        .ok()?;
    admin
        .batch_execute("SELECT public.pg_stat_statements_reset()")
        .ok()?;
    admin
        .batch_execute("SET search_path = public")
        .ok()
        .map(|()| admin)
}

/// A new user of the throughput measurement: person `i` renamed for
/// worker `tag`, its `k`th (unique username, email and phone).
fn worker_person(tag: u64, k: u64) -> data::Person {
    let mut p = data::person(SEED ^ 0xF00D, k);
    p.username = format!("w{tag}_{k}");
    p.email = format!("w{tag}.{k}@example.org");
    p.phone = format!("8{tag:02}{k:07}");
    p.expires = None;
    p
}

/// The hidden `--worker URL SECONDS START_MS TAG SIDE` mode: opens the
/// institute at `URL` (SIDE `roster`) or the native schema SIDE
/// (`native:SCHEMA`) on the server at `URL`, waits for the common start,
/// then creates users (pre-hashed, one transaction each) for SECONDS and
/// prints how many, the time taken and how many writes gave up on a race.
pub fn worker(args: &[String]) -> Result<(), Failure> {
    let [url, seconds, start_ms, tag, side] = args else {
        return Err("--worker URL SECONDS START_MS TAG SIDE".into());
    };
    let (seconds, start_ms, tag): (u64, u64, u64) =
        (seconds.parse()?, start_ms.parse()?, tag.parse()?);
    let (hash, _) = argon2_default("a-shared-pre-made-password")?;
    if let Some(schema) = side.strip_prefix("native:") {
        let mut db = Native::open(url, schema)?;
        wait_for(start_ms, tag)?;
        let start = Instant::now();
        let (mut created, mut conflicts) = (0u64, 0u64);
        while start.elapsed() < Duration::from_secs(seconds) {
            match db.create_one(&worker_person(tag, created), &hash) {
                Ok(()) => created += 1,
                Err(e) if e.to_string().contains("could not serialize") => conflicts += 1,
                Err(e) => return Err(e),
            }
        }
        println!("{created} {} {conflicts}", start.elapsed().as_secs_f64());
        return Ok(());
    }
    let institute = roster_postgres::open(
        url,
        roster::Config::default(),
        roster_postgres::Options::default(),
    )?;
    let admin = institute.operator();
    wait_for(start_ms, tag)?;
    let start = Instant::now();
    let (mut created, mut conflicts) = (0u64, 0u64);
    while start.elapsed() < Duration::from_secs(seconds) {
        let row = import_row(created, &worker_person(tag, created), &hash);
        match admin.import_rows(vec![row]) {
            Ok(report) => {
                if let Some(r) = report.rejected.first() {
                    return Err(format!("worker {tag}: row refused: {}", r.reason).into());
                }
                created += 1;
            }
            // Retries exhausted: a host would try again; so does this
            // loop (with the same user), counting it.
            Err(e) if e.code() == roster::ErrorCode::Conflict => conflicts += 1,
            Err(e) => return Err(e.into()),
        }
    }
    println!("{created} {} {conflicts}", start.elapsed().as_secs_f64());
    Ok(())
}

/// Sleeps until `start_ms` (milliseconds since the epoch); a worker that
/// is ready after it fails (its measurement would be short).
fn wait_for(start_ms: u64, tag: u64) -> Result<(), Failure> {
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as u64;
    if now_ms > start_ms {
        return Err(format!("worker {tag} was ready {} ms late", now_ms - start_ms).into());
    }
    std::thread::sleep(Duration::from_millis(start_ms - now_ms));
    Ok(())
}

/// Users created per second by `procs` worker processes on the store
/// `side` (`roster`, the institute at `url`, or `native:SCHEMA` on the
/// server at `url`), each writing for [`WORKER_SECONDS`], and how many
/// writes per second gave up on a race (retries exhausted).
fn throughput(url: &str, side: &str, procs: u64, run: u64) -> Result<(f64, f64), Failure> {
    let start_ms = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as u64 + 10_000;
    let children = (0..procs)
        .map(|p| {
            Command::new(std::env::current_exe()?)
                .args([
                    "--worker",
                    url,
                    &WORKER_SECONDS.to_string(),
                    &start_ms.to_string(),
                    &(run * 10 + p + 1).to_string(),
                    side,
                ])
                .stdout(Stdio::piped())
                .spawn()
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    let (mut rate, mut conflicts) = (0.0, 0.0);
    for child in children {
        let out = child.wait_with_output()?;
        if !out.status.success() {
            return Err(format!("a worker failed ({})", out.status).into());
        }
        let text = String::from_utf8(out.stdout)?;
        let mut fields = text.split_whitespace();
        let created: f64 = fields.next().ok_or("worker printed nothing")?.parse()?;
        let seconds: f64 = fields.next().ok_or("worker printed no time")?.parse()?;
        let lost: f64 = fields
            .next()
            .ok_or("worker printed no conflicts")?
            .parse()?;
        rate += created / seconds;
        conflicts += lost / seconds;
    }
    Ok((rate, conflicts))
}

/// Bytes of the relations `names` (tables with their indexes and TOAST)
/// in `schema`.
fn relation_bytes(client: &mut Client, schema: &str, names: &[&str]) -> Result<f64, Failure> {
    let mut total = 0i64;
    for name in names {
        let row = client.query_one(
            &format!("SELECT pg_total_relation_size('{schema}.{name}')"),
            &[],
        )?;
        total += row.get::<_, i64>(0);
    }
    Ok(total as f64)
}

/// Times `roster` and `native` `n` times each, in blocks of [`BLOCK`].
fn pg_pairs(
    n: usize,
    roster: impl FnMut(usize) -> Result<(), Failure>,
    native: impl FnMut(usize) -> Result<(), Failure>,
) -> Result<(Vec<Duration>, Vec<Duration>), Failure> {
    time_blocks(n, BLOCK, roster, native)
}

/// The whole `--backend postgres` run on the server of `url`.
pub fn run(url: &str, n: u64) -> Result<(), Failure> {
    let (hash, _) = argon2_default("a-shared-pre-made-password")?;
    let mut admin_client = Client::connect(url, NoTls)?;
    let version: String = admin_client.query_one("SHOW server_version", &[])?.get(0);
    let fsync: String = admin_client.query_one("SHOW fsync", &[])?.get(0);
    let sync_commit: String = admin_client
        .query_one("SHOW synchronous_commit", &[])?
        .get(0);
    progress(&format!(
        "{n} users on PostgreSQL {version} (fsync={fsync}, synchronous_commit={sync_commit})"
    ));

    // roster on a fresh schema, its clock on the import day.
    let roster_schema = roster_postgres::testing::unique_name("scale_roster_");
    admin_client.batch_execute(&format!("CREATE SCHEMA {roster_schema}"))?;
    let roster_url = with_schema(url, &roster_schema);
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 1, 1, 6, 0, 0).unwrap(),
    ));
    let institute = roster_postgres::open(
        &roster_url,
        roster::Config::default().with_clock(clock.clone()),
        roster_postgres::Options::default(),
    )?;
    let placed: i64 = admin_client
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = 'roster_rows'",
            &[&roster_schema],
        )?
        .get(0);
    if placed != 1 {
        return Err("roster's table is not in its schema: the URL's options were ignored".into());
    }
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
    let (mut db, native_schema) = Native::create(url)?;
    progress(&format!(
        "schemas: roster {roster_schema}, native {native_schema}"
    ));

    // Bulk import, CHUNK rows per transaction on both sides, in turns.
    progress("importing");
    let (roster_import, native_import) =
        import_in_turns(&admin, n, &hash, |people| db.import(people, &hash))?;
    // Fresh planner statistics for both schemas (autovacuum would get
    // there; a DBA would not wait for it).
    admin_client.batch_execute(&format!(
        "ANALYZE {roster_schema}.roster_rows; ANALYZE {native_schema}.users; \
         ANALYZE {native_schema}.memberships; ANALYZE {native_schema}.batches"
    ))?;
    let roster_bytes =
        relation_bytes(&mut admin_client, &roster_schema, &["roster_rows"])? / n as f64;
    let native_bytes = relation_bytes(
        &mut admin_client,
        &native_schema,
        &["users", "memberships", "batches"],
    )? / n as f64;

    // Lookups.
    progress("lookups");
    let mut rng = data::Rng::new(SEED ^ 1);
    let picks: Vec<u64> = (0..LOOKUPS + COUNTED).map(|_| rng.below(n)).collect();
    let people: Vec<data::Person> = picks.iter().map(|&i| data::person(SEED, i)).collect();
    let roster_get = |k: usize| -> Result<(), Failure> {
        admin.get_user(picks[k] + 1)?;
        Ok(())
    };
    let roster_find = |k: usize| -> Result<(), Failure> {
        admin.find_user(&people[k].username)?;
        Ok(())
    };
    let roster_email = |k: usize| -> Result<(), Failure> {
        let query = UserQuery {
            email: Some(people[k].email.clone()),
            ..Default::default()
        };
        if admin.list_users(&query)?.items.len() != 1 {
            return Err("email lookup found no user".into());
        }
        Ok(())
    };
    let (r_id, s_id) = pg_pairs(LOOKUPS, roster_get, |k| {
        db.get(picks[k] + 1)?.ok_or("missing")?;
        Ok(())
    })?;
    let (r_name, s_name) = pg_pairs(LOOKUPS, roster_find, |k| {
        db.find(&people[k].username)?.ok_or("missing")?;
        Ok(())
    })?;
    let (r_email, s_email) = pg_pairs(LOOKUPS, roster_email, |k| {
        db.by_email(&people[k].email)?.ok_or("missing")?;
        Ok(())
    })?;

    // Pages: 20 users by id and the exact count.
    progress("pages");
    let last_page = n.div_ceil(20);
    let page_query = |page: u64| UserQuery {
        page: PageRequest::page(page),
        ..Default::default()
    };
    for page in [1, last_page] {
        let r = admin.list_users(&page_query(page))?;
        let (count, rows) = db.page(page)?;
        let r_ids: Vec<i64> = r.items.iter().map(|u| u.id as i64).collect();
        let s_ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
        if r.count != count || r_ids != s_ids {
            return Err(format!("page {page} differs between roster and native SQL").into());
        }
    }
    let roster_page = |page: u64| -> Result<(), Failure> {
        admin.list_users(&page_query(page))?;
        Ok(())
    };
    let (r_first, s_first) = pg_pairs(
        PAGES,
        |_| roster_page(1),
        |_| {
            db.page(1)?;
            Ok(())
        },
    )?;
    let (r_deep, s_deep) = pg_pairs(
        LAST_PAGES,
        |_| roster_page(last_page),
        |_| {
            db.page(last_page)?;
            Ok(())
        },
    )?;

    // q search, when pg_trgm is there.
    let fragments: Vec<String> = (0..Q_SEARCHES + COUNTED)
        .map(|_| data::fragment(&mut rng, SEED, n))
        .collect();
    let q_query = |k: usize| UserQuery {
        q: Some(fragments[k].clone()),
        ..Default::default()
    };
    let roster_q = |k: usize| -> Result<(), Failure> {
        admin.list_users(&q_query(k))?;
        Ok(())
    };
    let q_times = if db.st.q.is_some() {
        progress("q search");
        let mut differ = 0;
        for (k, fragment) in fragments.iter().enumerate().take(Q_SEARCHES) {
            let r = admin.list_users(&q_query(k))?;
            let (count, rows) = db.search(fragment)?.ok_or("no q")?;
            let r_ids: Vec<i64> = r.items.iter().map(|u| u.id as i64).collect();
            let s_ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
            if r.count != count || r_ids != s_ids {
                differ += 1;
            }
        }
        if differ > 0 {
            progress(&format!(
                "warning: {differ} of {Q_SEARCHES} q searches answered differently"
            ));
        }
        Some(pg_pairs(Q_SEARCHES, roster_q, |k| {
            db.search(&fragments[k])?;
            Ok(())
        })?)
    } else {
        None
    };

    // Writes, on the measurements' day: one user created (pre-hashed) per
    // transaction, then one subscription added per transaction.
    progress("single writes");
    clock.set(Utc.with_ymd_and_hms(2026, 11, 22, 6, 30, 0).unwrap());
    let fresh: Vec<data::Person> = (0..(CREATES + COUNTED) as u64)
        .map(|k| data::Person {
            // An expiry of the import's year would be in the past now.
            expires: None,
            ..data::person(SEED, n + k)
        })
        .collect();
    let roster_create = |k: usize| -> Result<(), Failure> {
        let row = import_row(n + k as u64, &fresh[k], &hash);
        let report = admin.import_rows(vec![row])?;
        if let Some(r) = report.rejected.first() {
            return Err(format!("roster refused a new user: {}", r.reason).into());
        }
        Ok(())
    };
    let (r_create, s_create) =
        pg_pairs(CREATES, roster_create, |k| db.create_one(&fresh[k], &hash))?;
    let targets: Vec<(u64, usize)> = (0..WRITES + COUNTED)
        .map(|_| (1 + rng.below(n), rng.below(data::BATCHES as u64) as usize))
        .collect();
    let roster_subscribe = |k: usize| -> Result<(), Failure> {
        let (user, b) = targets[k];
        admin.add_user_subscriptions(user, &[batch_ids[b]], Some("2027-12-31"))?;
        Ok(())
    };
    let (r_sub, s_sub) = pg_pairs(WRITES, roster_subscribe, |k| {
        let (user, b) = targets[k];
        db.subscribe(user, b as u64 + 1, "2027-12-31")
    })?;

    // Statements per operation (untimed, after the timed
    // runs, on the samples' spares).
    let mut stats = statement_counter(url);
    if stats.is_none() {
        progress("pg_stat_statements is not loaded: statements per operation are not counted");
    } else {
        progress("counting statements");
    }
    let off = |k: usize| LOOKUPS + k;
    let mut counts: Vec<(&str, Option<PerOp>, Option<PerOp>)> = Vec::new();
    let r = count_statements("roster get by id", &mut stats, COUNTED, |k| {
        roster_get(off(k))
    })?;
    let s = count_statements("native get by id", &mut stats, COUNTED, |k| {
        db.get(picks[off(k)] + 1).map(|_| ())
    })?;
    counts.push(("get by id", r, s));
    let r = count_statements("roster get by username", &mut stats, COUNTED, |k| {
        roster_find(off(k))
    })?;
    let s = count_statements("native get by username", &mut stats, COUNTED, |k| {
        db.find(&people[off(k)].username).map(|_| ())
    })?;
    counts.push(("get by username", r, s));
    let r = count_statements("roster get by email", &mut stats, COUNTED, |k| {
        roster_email(off(k))
    })?;
    let s = count_statements("native get by email", &mut stats, COUNTED, |k| {
        db.by_email(&people[off(k)].email).map(|_| ())
    })?;
    counts.push(("get by email", r, s));
    let r = count_statements("roster list page 1", &mut stats, COUNTED, |_| {
        roster_page(1)
    })?;
    let s = count_statements("native list page 1", &mut stats, COUNTED, |_| {
        db.page(1).map(|_| ())
    })?;
    counts.push(("list page 1", r, s));
    let r = count_statements("roster list last page", &mut stats, 5, |_| {
        roster_page(last_page)
    })?;
    let s = count_statements("native list last page", &mut stats, 5, |_| {
        db.page(last_page).map(|_| ())
    })?;
    counts.push(("list last page", r, s));
    if db.st.q.is_some() {
        let r = count_statements("roster q search", &mut stats, COUNTED, |k| {
            roster_q(Q_SEARCHES + k)
        })?;
        let s = count_statements("native q search", &mut stats, COUNTED, |k| {
            db.search(&fragments[Q_SEARCHES + k]).map(|_| ())
        })?;
        counts.push(("q search", r, s));
    }
    let r = count_statements("roster create user", &mut stats, COUNTED, |k| {
        roster_create(CREATES + k)
    })?;
    let s = count_statements("native create user", &mut stats, COUNTED, |k| {
        db.create_one(&fresh[CREATES + k], &hash)
    })?;
    counts.push(("create user", r, s));
    let r = count_statements("roster add subscription", &mut stats, COUNTED, |k| {
        roster_subscribe(WRITES + k)
    })?;
    let s = count_statements("native add subscription", &mut stats, COUNTED, |k| {
        let (user, b) = targets[WRITES + k];
        db.subscribe(user, b as u64 + 1, "2027-12-31")
    })?;
    counts.push(("add subscription", r, s));

    // Purge: once on each side, statements counted with it.
    progress("purge");
    let mut r_purged = 0;
    let mut r_purge = Duration::ZERO;
    let r = count_statements("roster purge", &mut stats, 1, |_| {
        let start = Instant::now();
        r_purged = admin.purge_expired()?;
        r_purge = start.elapsed();
        Ok(())
    })?;
    let mut s_purged = 0;
    let mut s_purge = Duration::ZERO;
    let s = count_statements("native purge", &mut stats, 1, |_| {
        let start = Instant::now();
        s_purged = db.purge(TODAY)?;
        s_purge = start.elapsed();
        Ok(())
    })?;
    counts.push(("purge", r, s));
    if r_purged != s_purged {
        progress(&format!(
            "warning: roster purged {r_purged}, native SQL {s_purged}"
        ));
    }

    // One process writing to the institute, then two, ROUNDS times in
    // turns (a change of load on the machine weighs on both); the same on
    // the native schema: what the machine and the server allow
    // hand-written SQL.
    progress(&format!(
        "write throughput: 1 process, then 2, {WORKER_SECONDS} s each, {ROUNDS} rounds"
    ));
    let native_side = format!("native:{native_schema}");
    let mut rates = [[(0.0, 0.0); 2]; 2];
    for round in 0..ROUNDS {
        for (side, (store, at)) in [("roster", roster_url.as_str()), (native_side.as_str(), url)]
            .into_iter()
            .enumerate()
        {
            for procs in [1, 2] {
                let run = 1 + 2 * round as u64 + (procs - 1);
                let (rate, lost) = throughput(at, store, procs, run)?;
                progress(&format!(
                    "  round {}: {store}, {procs} process(es): {rate:.1} users/s",
                    round + 1
                ));
                let sum = &mut rates[side][procs as usize - 1];
                sum.0 += rate / ROUNDS as f64;
                sum.1 += lost / ROUNDS as f64;
            }
        }
    }
    let [[one, two], [native_one, native_two]] = rates;

    // The table.
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mut lines = vec![
        Line {
            higher_is_better: true,
            ..line(
                "bulk import, pre-hashed (users/s)",
                n as f64 / roster_import.as_secs_f64(),
                Some(n as f64 / native_import.as_secs_f64()),
            )
        }
        .bar("import", RATIO_BAR),
    ];
    let mut timed = vec![
        ("get by id", "id", r_id, s_id),
        ("get by username", "username", r_name, s_name),
        ("get by email", "email", r_email, s_email),
        ("list page 1", "page 1", r_first, s_first),
        ("list last page", "last page", r_deep, s_deep),
    ];
    if let Some((r_q, s_q)) = q_times {
        timed.push(("q 3-4 chars, page 1 with count", "q", r_q, s_q));
    }
    timed.push((
        "create user, pre-hashed, 1 per transaction",
        "create",
        r_create,
        s_create,
    ));
    timed.push(("add subscription", "subscription", r_sub, s_sub));
    for (what, name, r, s) in timed {
        let (r50, r99) = percentiles(r);
        let (s50, s99) = percentiles(s);
        let what = match what {
            "list last page" => format!("list page {last_page} (last)"),
            other => other.to_string(),
        };
        lines.push(line(&format!("{what} p50 (µs)"), r50, Some(s50)).bar(name, RATIO_BAR));
        lines.push(line(&format!("{what} p99 (µs)"), r99, Some(s99)));
    }
    lines.push(
        line(
            &format!("purge {r_purged} expired (ms)"),
            ms(r_purge),
            Some(ms(s_purge)),
        )
        .bar("purge", RATIO_BAR),
    );
    lines.push(line(
        "table + index bytes per user",
        roster_bytes,
        Some(native_bytes),
    ));
    for (what, r, s) in counts {
        if let (Some(r), Some(s)) = (r, s) {
            lines.push(line(&format!("{what}: statements"), r, Some(s)));
        }
    }
    for (what, roster_rate, native_rate) in [
        ("create user, 1 process (users/s)", one.0, native_one.0),
        ("create user, 2 processes (users/s)", two.0, native_two.0),
    ] {
        lines.push(Line {
            higher_is_better: true,
            ..line(what, roster_rate, Some(native_rate))
        });
    }
    print_table(n, "native SQL", &lines);
    let scaling = two.0 / one.0;
    let verdict = if scaling >= SCALING_BAR {
        "meets"
    } else {
        "misses"
    };
    println!();
    println!(
        "two processes / one process, create user: {scaling:.2} (bar ≥ {SCALING_BAR}: {verdict}); \
         native SQL: {:.2}",
        native_two.0 / native_one.0
    );
    println!(
        "writes that gave up on a race (retries exhausted), 2 processes: roster {:.2}/s, \
         native SQL {:.2}/s",
        two.1, native_two.1
    );
    println!(
        "PostgreSQL {version}, fsync={fsync}, synchronous_commit={sync_commit}; \
         schemas {roster_schema} (roster) and {native_schema} (native), dropped"
    );
    // Leave the server as it was found (a failed run leaves its schemas,
    // for a look).
    drop((admin, institute, db));
    admin_client.batch_execute(&format!(
        "DROP SCHEMA {roster_schema} CASCADE; DROP SCHEMA {native_schema} CASCADE"
    ))?;
    Ok(())
}
