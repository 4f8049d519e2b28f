//! The storage seam: a transactional, ordered key-value store of named
//! tables, which every roster backend implements (redb on a file or in
//! memory, the [`ModelBackend`](super::ModelBackend) of the tests, and the
//! PostgreSQL backend of a later step, in its own crate).
//!
//! Everything above this trait — records, indexes, relations, every rule —
//! is roster's own code in `store/` and above, written once. A backend only
//! stores bytes: keys are compared as unsigned byte strings (`store::keys`
//! encodes every key so that this order is the order roster needs) and
//! values are opaque.
//!
//! # The contract
//!
//! - **Tables** are named by short ASCII strings. A table that was never
//!   written reads as empty; there is no "create table" step.
//! - **A read** ([`Backend::read`]) sees one consistent snapshot: nothing
//!   committed after it began is visible, however long it runs. It begins
//!   when the call does, or, where [`Backend::snapshot_at_first_read`]
//!   says so, at the read's first access of the store (PostgreSQL's
//!   snapshot is taken by the transaction's first statement, and a lookup
//!   goes in the message that begins it); a read inside roster's closures
//!   never tells the two apart, since nothing they do before it writes.
//!   A read's closure runs once.
//! - **A write** ([`Backend::write`]) is one all-or-nothing transaction:
//!   committed when the closure returns `Ok`, rolled back when it returns
//!   `Err` (the error is returned as is). Reads inside it see its own
//!   writes. A backend may run the closure **more than once** (PostgreSQL
//!   retries a transaction that failed serialization); each run starts from
//!   a fresh transaction, and the closure has no effect outside it, so a
//!   retry gives the same result as a first run.
//! - **No global hot key.** roster never writes a key that every insert
//!   writes (no global counter row or count): ids come from per-block
//!   counters (`store::ids`), and counts from counts kept per block of ids
//!   (`store::positions`). Under serializable isolation such a key would
//!   make every concurrent write conflict. [`Reader::len`] may count the
//!   rows one by one (it does on redb); roster uses it only where that is
//!   cheap.
//! - **Scans** run a callback over the rows of a key range, ascending or
//!   descending, until it returns `false`. A callback must not write to
//!   the table it scans (redb lends the table to the scan); roster collects
//!   first and writes after.
//! - Errors are roster [`Error`]s: a backend maps its own failures with
//!   [`Error::storage`] (which keeps the source for logs and shows no
//!   dependency text), a damaged store with
//!   [`ErrorCode::Corrupt`](crate::ErrorCode::Corrupt).
//!
//! # Mapping to PostgreSQL (the backend of Step 9)
//!
//! - One SQL table per logical table: `CREATE TABLE roster_<name> (key bytea
//!   PRIMARY KEY, value bytea NOT NULL)`. `bytea` compares bytewise
//!   (`memcmp`, then length), exactly the order of this trait.
//! - [`Reader::get`] is `SELECT value … WHERE key = $1` ([`Reader::get_with`]
//!   keeps its default: a get, the row's bytes lent to the visitor);
//!   [`Reader::get_many`] is one `… WHERE key = ANY($1)`, and
//!   [`Reader::get_many_with`] visits what it answers;
//!   [`Reader::get_and_follow`] is one `SELECT` of the entry with the
//!   record it names joined to it; [`Reader::scan`]
//!   is `… WHERE key >= $1 AND key < $2 ORDER BY key [DESC]`, fetched in
//!   bounded chunks (a cursor or keyset pages of a few hundred rows) so the
//!   callback can stop early; [`Reader::len`] is `SELECT count(*)`.
//! - [`Writer::put`] is `INSERT … ON CONFLICT (key) DO UPDATE`,
//!   [`Writer::delete`] a `DELETE … RETURNING 1`.
//! - [`Backend::write`] runs `BEGIN ISOLATION LEVEL SERIALIZABLE`, the
//!   closure, `COMMIT`; on SQLSTATE `40001` (serialization failure) or
//!   `40P01` (deadlock) it rolls back and runs the closure again, a bounded
//!   number of times. [`Backend::read`] runs `BEGIN ISOLATION LEVEL
//!   REPEATABLE READ, READ ONLY` (a snapshot, which PostgreSQL takes at
//!   the read's first statement).
//! - Everything is synchronous: the PostgreSQL backend blocks on its
//!   connection, as redb blocks on its file.

use crate::error::{Error, Result};
use std::fmt::Debug;
use std::ops::Bound;

/// One row as a scan callback sees it: key and value bytes.
pub type RowVisitor<'a> = dyn FnMut(&[u8], &[u8]) -> Result<bool> + 'a;

/// What [`Reader::get_with`] calls with a value.
pub type ValueVisitor<'a> = dyn FnMut(&[u8]) -> Result<()> + 'a;

/// What [`Reader::get_and_follow`] answers: the entry, and the row it
/// names.
pub type Followed = (Option<Vec<u8>>, Option<Vec<u8>>);

/// What [`Reader::get_many_with`] calls with each value found: the index
/// of its key among the keys asked, and the value.
pub type ManyVisitor<'a> = dyn FnMut(usize, &[u8]) -> Result<()> + 'a;

/// Reads of a snapshot or of a write transaction.
pub trait Reader {
    /// The value under `key` in `table`.
    fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// Calls `visit` with the value under `key` in `table`, lent where the
    /// backend can lend it (no copy), and tells whether there was one. The
    /// default reads it with [`Reader::get`]. `visit` must not read the
    /// store.
    fn get_with(&self, table: &str, key: &[u8], visit: &mut ValueVisitor<'_>) -> Result<bool> {
        match self.get(table, key)? {
            Some(value) => visit(&value).map(|()| true),
            None => Ok(false),
        }
    }

    /// The values under several keys of `table`, in the order of `keys`.
    fn get_many(&self, table: &str, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
        keys.iter().map(|k| self.get(table, k)).collect()
    }

    /// The value under `key` in `table`, and the value in `then` under the
    /// key that value begins with: its bytes but the last `trim` (an
    /// index entry and the record it names, a sealed entry's seal left
    /// out); `None` for the second when the first is missing or shorter
    /// than `trim`. The default reads one, then the other; a backend whose
    /// reads cross a network reads both in one round trip.
    fn get_and_follow(&self, table: &str, key: &[u8], then: &str, trim: usize) -> Result<Followed> {
        get_then_follow(self, table, key, then, trim)
    }

    /// Calls `visit` with the index in `keys` and the value of each key
    /// that has one, in any order, each index once; the values lent where
    /// the backend can lend them. The default asks [`Reader::get_with`] key
    /// by key; a backend whose reads cross a network answers all at once.
    /// `visit` must not read the store.
    fn get_many_with(
        &self,
        table: &str,
        keys: &[&[u8]],
        visit: &mut ManyVisitor<'_>,
    ) -> Result<()> {
        for (i, key) in keys.iter().enumerate() {
            self.get_with(table, key, &mut |value| visit(i, value))?;
        }
        Ok(())
    }

    /// Calls `visit` on every row of `table` whose key is within `lower` and
    /// `upper`, in ascending key order (descending when `reverse`), until
    /// `visit` returns `false` or the range ends.
    fn scan(
        &self,
        table: &str,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        reverse: bool,
        visit: &mut RowVisitor<'_>,
    ) -> Result<()>;

    /// Says that the next [`Reader::scan`] will likely stop after about
    /// `rows` rows: a backend that fetches a range a page at a time (a
    /// round trip each) sizes its first page by it. Only a hint: the scan
    /// still visits as many rows as its visitor asks for. The default
    /// ignores it.
    fn scan_hint(&self, rows: usize) {
        let _ = rows;
    }

    /// How many rows `table` holds: by default counted one by one.
    fn len(&self, table: &str) -> Result<u64> {
        let mut n = 0;
        self.scan(
            table,
            Bound::Unbounded,
            Bound::Unbounded,
            false,
            &mut |_, _| {
                n += 1;
                Ok(true)
            },
        )?;
        Ok(n)
    }

    /// Every row of `table`, keys ascending, copied out.
    fn rows(&self, table: &str) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut out = Vec::new();
        self.scan(
            table,
            Bound::Unbounded,
            Bound::Unbounded,
            false,
            &mut |k, v| {
                out.push((k.to_vec(), v.to_vec()));
                Ok(true)
            },
        )?;
        Ok(out)
    }

    /// The names of the tables that hold (or held) rows: to tell a roster
    /// store from another database in the same file.
    fn table_names(&self) -> Result<Vec<String>>;

    /// Whether the backend's own bookkeeping says it stores any row at all,
    /// in any table, found without reading the rows where the backend can
    /// (redb keeps its tables' lengths): a store with rows but no format
    /// version is damaged, not new, even when damage hides the rows from
    /// [`Reader::table_names`]. The default knows only the table names.
    fn stores_rows(&self) -> Result<bool> {
        Ok(!self.table_names()?.is_empty())
    }

    /// Walks everything the backend stores once, against its own
    /// bookkeeping: on redb, every row of its one table, keys strictly
    /// ascending, as many as the table's stored length says. Damage that
    /// hides rows from reads (a B-tree whose branches skip or repeat
    /// pages) is a [`Corrupt`](crate::ErrorCode::Corrupt) error. A full
    /// read of the store (`check`, `recover`, `export`) runs it; the
    /// default checks nothing (a database that checks its own pages).
    fn verify_rows(&self) -> Result<()> {
        Ok(())
    }
}

/// A write transaction: its own writes are visible to its reads.
pub trait Writer: Reader {
    /// Stores `value` under `key` in `table`, replacing any value.
    fn put(&self, table: &str, key: &[u8], value: &[u8]) -> Result<()>;

    /// Removes `key` from `table`; whether it was there.
    fn delete(&self, table: &str, key: &[u8]) -> Result<bool>;

    /// Removes `key` from `table` if it is there, without saying whether
    /// it was. A backend that would need a round trip for the answer
    /// (PostgreSQL) holds it with the write's other rows instead; the
    /// default is [`Writer::delete`].
    fn remove(&self, table: &str, key: &[u8]) -> Result<()> {
        self.delete(table, key).map(drop)
    }

    /// Stores every `(key, value)` of `rows` in `table` (keys distinct),
    /// replacing any values. A backend that can store many rows at once
    /// does (PostgreSQL's is one `INSERT … SELECT … FROM unnest(…)`).
    fn put_many(&self, table: &str, rows: &[(&[u8], &[u8])]) -> Result<()> {
        for (key, value) in rows {
            self.put(table, key, value)?;
        }
        Ok(())
    }

    /// Removes every key of `keys` (in any order) from `table`: how many
    /// were there. A backend that can remove many rows of one range at once
    /// does (redb rewrites each page once, not once per row; PostgreSQL's
    /// is one `DELETE … WHERE key = ANY($1)`).
    fn delete_many(&self, table: &str, keys: &[&[u8]]) -> Result<u64> {
        delete_each(self, table, keys)
    }

    /// A hint: this transaction is about to read `rows` (each a table and
    /// a key, in any tables, repeats allowed), one by one. It changes no
    /// answer. A backend that pays a round trip per read (PostgreSQL)
    /// fetches them all in one and answers the reads from what it fetched
    /// (and from its own writes since); the default does nothing, since a
    /// local store reads a key about as fast as it would find it in what it
    /// fetched.
    fn will_read(&self, rows: &[(&str, &[u8])]) -> Result<()> {
        let _ = rows;
        Ok(())
    }

    /// A hint: this transaction is about to read `tables` whole (small
    /// tables, such as the custom field definitions). It changes no answer.
    /// A backend that pays a round trip per read (PostgreSQL) fetches them
    /// with the transaction's first reads, when [`Writer::will_read`]
    /// begins it, and answers their reads and scans from what it fetched
    /// and the transaction's own writes since; the default does nothing.
    fn will_scan(&self, tables: &[&str]) -> Result<()> {
        let _ = tables;
        Ok(())
    }

    /// A hint: this write will scan the rows of each table whose keys
    /// begin with the prefix named with it. A backend may read them whole
    /// with the transaction's next [`Writer::will_read`] (begun or not)
    /// and answer the scans that stay within a prefix from what it fetched
    /// and the transaction's own writes; a scan that reaches past a prefix
    /// is read as without the hint. The default does nothing.
    fn will_scan_prefixes(&self, prefixes: &[(&str, &[u8])]) -> Result<()> {
        let _ = prefixes;
        Ok(())
    }

    /// Whether [`Writer::will_read`] saves this backend anything (true
    /// where each read costs a round trip). A hint that costs work of its
    /// own to make (the search postings of new users) is made only then;
    /// the default, false, skips it.
    fn takes_hints(&self) -> bool {
        false
    }

    /// Takes `count` consecutive numbers of the change feed for this
    /// transaction, as its last step before committing, and returns the
    /// first; or `None` (the default), which says the backend commits one
    /// write at a time, so roster numbers the feed from a counter of its
    /// own in the same transaction.
    ///
    /// A backend that commits writes concurrently must hand the numbers out
    /// in commit order: a number given to one transaction is smaller than
    /// every number given to a transaction that commits after it, so that a
    /// snapshot always sees a prefix of the feed (less the numbers of
    /// transactions that failed) and a reader that continues from the last
    /// number it saw skips nothing. PostgreSQL's takes a transaction-scoped
    /// lock, held until the commit, and then a sequence's next values. A
    /// backend may instead give the numbers it expects to get and take them
    /// as it commits, refusing the transaction (and running the write
    /// again) when they are not the ones it gave.
    fn change_seqs(&self, count: u64) -> Result<Option<u64>> {
        let _ = count;
        Ok(None)
    }

    /// Asked of a write's second run and later: whether an earlier run
    /// lost a race with another writer (then the handle takes its ids from
    /// a block of its own from here on, so that the two stop colliding on
    /// one counter row). The default, true, fits a backend that runs a
    /// write again only after a race; PostgreSQL's also runs one again
    /// when the feed numbers it expected were taken (which shows another
    /// writer, not a collision).
    fn after_race(&self) -> bool {
        true
    }
}

/// [`Writer::delete_many`] one key at a time.
pub(crate) fn delete_each<W: Writer + ?Sized>(w: &W, table: &str, keys: &[&[u8]]) -> Result<u64> {
    let mut n = 0;
    for key in keys {
        n += u64::from(w.delete(table, key)?);
    }
    Ok(n)
}

/// A transactional, ordered key-value store of named tables: the one seam
/// between roster and its storage engines. See the module documentation
/// for the contract and the PostgreSQL mapping.
pub trait Backend: Send + Sync + Debug {
    /// Runs `f` on one consistent snapshot.
    fn read(&self, f: &mut dyn FnMut(&dyn Reader) -> Result<()>) -> Result<()>;

    /// Runs `f` in one all-or-nothing write transaction (possibly more than
    /// once, each time from a fresh transaction).
    fn write(&self, f: &mut dyn FnMut(&dyn Writer) -> Result<()>) -> Result<()>;

    /// A short name of the engine, for reports (`redb`, `model`, …).
    fn engine(&self) -> &'static str;

    /// Whether a read's snapshot is taken at its first access of the store
    /// rather than when the read begins (see the module's contract).
    fn snapshot_at_first_read(&self) -> bool {
        false
    }

    /// Whether damage to the store can make its engine panic (a store
    /// file's engine reading a damaged page): a panic contained on it is
    /// then `corrupt_store`, with the advice to check and recover the
    /// file. False where the store's rows come through a server's checks,
    /// so that a panic can only be a bug of roster's (`internal`).
    fn damage_panics(&self) -> bool {
        true
    }

    /// Whether each handle on this store takes blocks of ids of its own
    /// (`store::ids`): true where several processes insert into one store
    /// at once (PostgreSQL), so that their inserts never write one counter
    /// row. The default, false, keeps ids consecutive (one block at a
    /// time), which is what a store file's users see.
    fn own_id_blocks(&self) -> bool {
        false
    }

    /// Tables each read snapshot may read whole as it begins: small tables
    /// that most reads consult (the custom field definitions), named once
    /// when the store opens. A backend that pays a round trip per statement
    /// (PostgreSQL) fetches them in the message that begins the snapshot and
    /// answers their reads from what it fetched, as of that snapshot. The
    /// default ignores it.
    fn prefetch(&self, tables: &[&str]) {
        let _ = tables;
    }

    /// A number that changes whenever a write transaction begins and again
    /// when it ends (committed or not), odd while one is under way; `None`
    /// unless every write to the store goes through this backend (no other
    /// process can write it). A snapshot that began between two equal, even
    /// readings sees the store as it was at that generation, so roster may
    /// keep decoded copies of small tables between transactions. The
    /// default, `None`, is always safe.
    fn generation(&self) -> Option<u64> {
        None
    }
}

/// Keeps a backend's [`Backend::generation`] odd while a write is under
/// way: one step up when made, one when dropped (the write ended, however).
pub(crate) struct Writing<'a>(&'a std::sync::atomic::AtomicU64);

impl<'a> Writing<'a> {
    pub(crate) fn begin(generation: &'a std::sync::atomic::AtomicU64) -> Writing<'a> {
        generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Writing(generation)
    }
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Bytes of the host's (a browser's OPFS file): what a host implements to
/// keep a redb store where roster cannot open files itself
/// ([`Institute::open_host_file`](crate::Institute::open_host_file)). The
/// host gives the institute exclusive access to the bytes.
pub trait HostFile: Send + Sync + Debug + 'static {
    /// The length in bytes.
    fn len(&self) -> std::io::Result<u64>;
    /// Whether there are no bytes yet.
    fn is_empty(&self) -> std::io::Result<bool> {
        Ok(self.len()? == 0)
    }
    /// Fills `out` from `offset`; an error if that reads past the end.
    fn read_at(&self, offset: u64, out: &mut [u8]) -> std::io::Result<()>;
    /// Writes `data` at `offset`, growing the bytes if needed.
    fn write_at(&self, offset: u64, data: &[u8]) -> std::io::Result<()>;
    /// Sets the length (new bytes read as zero).
    fn set_len(&self, len: u64) -> std::io::Result<()>;
    /// Makes everything written durable.
    fn sync(&self) -> std::io::Result<()>;
}

/// Bounds of a scan by prefix: every key that starts with `prefix`.
pub(crate) fn prefix_bounds(prefix: &[u8]) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let lower = Bound::Included(prefix.to_vec());
    match prefix_end(prefix) {
        Some(upper) => (lower, Bound::Excluded(upper)),
        None => (lower, Bound::Unbounded),
    }
}

/// The smallest key above every key that starts with `prefix`; `None`
/// when there is none (a prefix of 0xff bytes only, or an empty one).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut upper = prefix.to_vec();
    // Drop trailing 0xff bytes and increment the last byte left.
    while let Some(last) = upper.pop() {
        if last < 0xff {
            upper.push(last + 1);
            return Some(upper);
        }
    }
    None
}

/// [`Reader::get_and_follow`] by two gets, one after the other: its
/// default, for a backend that overrides it only at times.
pub fn get_then_follow<R: Reader + ?Sized>(
    r: &R,
    table: &str,
    key: &[u8],
    then: &str,
    trim: usize,
) -> Result<Followed> {
    let Some(first) = r.get(table, key)? else {
        return Ok((None, None));
    };
    let next = match first.len().checked_sub(trim) {
        Some(len) => r.get(then, &first[..len])?,
        None => None,
    };
    Ok((Some(first), next))
}

/// Borrows owned bounds as the slices [`Reader::scan`] takes.
pub(crate) fn as_slices(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(v) => Bound::Included(v.as_slice()),
        Bound::Excluded(v) => Bound::Excluded(v.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

impl Error {
    /// A failure of a storage engine: the public message says what failed
    /// in roster's words; `source` is kept for logs (`Error::source`).
    pub fn storage(what: &str, source: impl std::error::Error + Send + Sync + 'static) -> Error {
        crate::error::Internal::Engine {
            what: what.to_string(),
            source: Box::new(source),
        }
        .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_bounds_cover_exactly_the_prefix() {
        let (lo, hi) = prefix_bounds(&[1, 0xff]);
        assert_eq!(lo, Bound::Included(vec![1, 0xff]));
        assert_eq!(hi, Bound::Excluded(vec![2]));
        let (_, hi) = prefix_bounds(&[0xff, 0xff]);
        assert_eq!(hi, Bound::Unbounded);
        let (_, hi) = prefix_bounds(b"ab");
        assert_eq!(hi, Bound::Excluded(b"ac".to_vec()));
    }
}
