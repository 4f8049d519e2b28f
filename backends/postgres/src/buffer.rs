//! A write transaction's rows as it has them so far, kept on the client:
//! the rows it read (so a second read of a key costs no round trip) and the
//! rows it wrote and has not sent yet (so its writes go to the server in
//! one statement at the end instead of one statement each).
//!
//! Both are sound under the write's `SERIALIZABLE` snapshot: a key read
//! once reads the same for the rest of the transaction unless the
//! transaction itself writes it, and those writes are what [`Buffer`]
//! holds. PostgreSQL still sees every row the transaction read (when it
//! read it) and every row it writes (at the end, before `COMMIT`), so its
//! conflict checks are the same as with statements sent one by one.

use roster::Result;
use roster::store::backend::RowVisitor;
use std::collections::{BTreeMap, HashMap};
use std::ops::{Bound, RangeBounds};

/// One key's state in this transaction: `Some(value)`, or `None` for no
/// row.
pub type Row = Option<Vec<u8>>;

/// Rows of one table: keys and values.
pub type Rows = Vec<(Vec<u8>, Vec<u8>)>;

/// What a write transaction knows of its rows, by table then key.
#[derive(Debug, Default)]
pub struct Buffer {
    /// Rows as the server has them in this transaction (read, or written
    /// and already sent).
    seen: HashMap<String, HashMap<Vec<u8>, Row>>,
    /// Rows written and not sent yet, in key order for scans; tables in
    /// name order, so that every write sends (and locks) its rows in one
    /// order: two writers meeting on two rows then conflict at once,
    /// instead of deadlocking until the server's `deadlock_timeout`.
    pending: BTreeMap<String, BTreeMap<Vec<u8>, Row>>,
    /// Key ranges read whole, by table ([`Buffer::saw_prefix`]): a key in
    /// one that is not in `seen` or `pending` has no row.
    ranges: HashMap<String, Vec<KeyRange>>,
}

/// The keys from `.0` (included) up to `.1` (excluded; `None`: every key
/// after).
type KeyRange = (Vec<u8>, Option<Vec<u8>>);

/// The keys that begin with `prefix` (all keys for an empty one).
fn prefix_range(prefix: &[u8]) -> KeyRange {
    (prefix.to_vec(), roster::store::backend::prefix_end(prefix))
}

/// Whether `range` holds every key within `lower` and `upper`.
fn covers(range: &KeyRange, lower: Bound<&[u8]>, upper: Bound<&[u8]>) -> bool {
    let (from, to) = (range.0.as_slice(), range.1.as_deref());
    let low = match lower {
        Bound::Included(k) | Bound::Excluded(k) => from <= k,
        Bound::Unbounded => from.is_empty(),
    };
    let high = match (upper, to) {
        (_, None) => true,
        (Bound::Included(k), Some(to)) => k < to,
        (Bound::Excluded(k), Some(to)) => k <= to,
        (Bound::Unbounded, Some(_)) => false,
    };
    low && high
}

/// The writes a [`Buffer`] holds, as the columns of two array statements.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outgoing {
    /// Rows to store: tables, keys and values, row by row.
    pub put: (Vec<String>, Vec<Vec<u8>>, Vec<Vec<u8>>),
    /// Rows to remove: tables and keys, row by row.
    pub delete: (Vec<String>, Vec<Vec<u8>>),
}

impl Outgoing {
    /// Whether there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.put.0.is_empty() && self.delete.0.is_empty()
    }
}

impl Buffer {
    /// The row under `key` as this transaction has it, when known without
    /// asking the server.
    pub fn known(&self, table: &str, key: &[u8]) -> Option<Row> {
        if let Some(row) = self.pending.get(table).and_then(|t| t.get(key)) {
            return Some(row.clone());
        }
        match self.seen.get(table).and_then(|t| t.get(key)) {
            Some(row) => Some(row.clone()),
            None if self.read_whole(table, Bound::Included(key), Bound::Included(key)) => {
                Some(None)
            }
            None => None,
        }
    }

    /// Whether a range read whole holds every key of `table` within the
    /// bounds.
    fn read_whole(&self, table: &str, lower: Bound<&[u8]>, upper: Bound<&[u8]>) -> bool {
        self.ranges
            .get(table)
            .is_some_and(|ranges| ranges.iter().any(|r| covers(r, lower, upper)))
    }

    /// Records every row the server has in `table` whose key begins with
    /// `prefix` (every row for an empty one), rows the transaction has not
    /// seen yet: from now on the reads and scans within them need no round
    /// trip. A row it has seen (or written and sent) is as it has it.
    pub fn saw_prefix(&mut self, table: &str, prefix: &[u8], rows: Rows) {
        let seen = self.seen.entry(table.to_string()).or_default();
        for (key, value) in rows {
            seen.entry(key).or_insert(Some(value));
        }
        let ranges = self.ranges.entry(table.to_string()).or_default();
        ranges.push(prefix_range(prefix));
    }

    /// The server's rows of `table` within the bounds, in scan order, as
    /// this transaction has them (its sent writes included), when a range
    /// read whole holds the bounds; `None` otherwise.
    pub fn whole_in(
        &self,
        table: &str,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        reverse: bool,
    ) -> Option<Rows> {
        if !self.read_whole(table, lower, upper) {
            return None;
        }
        let mut rows: Rows = self
            .seen
            .get(table)
            .into_iter()
            .flatten()
            .filter(|(k, _)| RangeBounds::<[u8]>::contains(&(lower, upper), k.as_slice()))
            .filter_map(|(k, row)| Some((k.clone(), row.clone()?)))
            .collect();
        rows.sort_unstable();
        if reverse {
            rows.reverse();
        }
        Some(rows)
    }

    /// Records what the server answered for `key`.
    pub fn saw(&mut self, table: &str, key: &[u8], row: Row) {
        self.seen
            .entry(table.to_string())
            .or_default()
            .insert(key.to_vec(), row);
    }

    /// Holds a write (`None`: a delete) until [`Buffer::take`].
    pub fn write(&mut self, table: &str, key: &[u8], row: Row) {
        self.pending
            .entry(table.to_string())
            .or_default()
            .insert(key.to_vec(), row);
    }

    /// The waiting writes, to send; from now on they count as the server's
    /// rows (the caller sends them before anything else reads).
    pub fn take(&mut self) -> Outgoing {
        let mut out = Outgoing::default();
        for (table, rows) in std::mem::take(&mut self.pending) {
            let seen = self.seen.entry(table.clone()).or_default();
            for (key, row) in rows {
                match &row {
                    Some(value) => {
                        out.put.0.push(table.clone());
                        out.put.1.push(key.clone());
                        out.put.2.push(value.clone());
                    }
                    None => {
                        out.delete.0.push(table.clone());
                        out.delete.1.push(key.clone());
                    }
                }
                seen.insert(key, row);
            }
        }
        out
    }

    /// The waiting writes of `table` within the bounds, in scan order.
    pub fn pending_in(
        &self,
        table: &str,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        reverse: bool,
    ) -> Vec<(Vec<u8>, Row)> {
        let Some(rows) = self.pending.get(table) else {
            return Vec::new();
        };
        if empty_range(lower, upper) {
            return Vec::new();
        }
        let range = rows.range::<[u8], _>((lower, upper));
        let copy = |(k, v): (&Vec<u8>, &Row)| (k.clone(), v.clone());
        match reverse {
            true => range.rev().map(copy).collect(),
            false => range.map(copy).collect(),
        }
    }
}

/// The largest payload [`literal`] writes out (hex doubles it): past it,
/// the rows go as parameters of one prepared statement.
pub const LITERAL_MAX: usize = 64 * 1024;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Bytes from the server's hex text (`encode(…, 'hex')`); `None` for text
/// that is not hex.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let text = text.as_bytes();
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.chunks_exact(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

/// Whether `name` is a plain identifier (lower-case ASCII letters, digits,
/// `_`): roster's table names all are, and only such a name is ever written
/// into a statement's text.
pub(crate) fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// `bytes` as an expression of the simple protocol: a `bytea` constant in
/// hex (`E'\\x…'`, the same whatever `standard_conforming_strings` says).
/// A constant, not a call of `decode`: the server evaluates each call once
/// while it plans, and a write's seventy rows took about a fifth longer
/// with them.
fn bytea(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2 + 16);
    text.push_str("E'\\\\x");
    push_hex(&mut text, bytes);
    text.push_str("'::bytea");
    text
}

/// Appends `bytes` to `text` in hex.
fn push_hex(text: &mut String, bytes: &[u8]) {
    for b in bytes {
        text.push(char::from(HEX[usize::from(b >> 4)]));
        text.push(char::from(HEX[usize::from(b & 15)]));
    }
}

/// The statement of the simple protocol that runs `roster_fetch` (the
/// backend's `PREPARE_FETCH`) on `rows` (tables and keys), written out:
/// it reads them as the backend's `will_read` does, one probe of the index
/// per row, and answers each row found as its table, key and value in hex;
/// `None` when `rows` is empty, larger than [`LITERAL_MAX`] bytes, or
/// names a table that is not a plain identifier.
pub fn fetch_literal(rows: &[(&str, &[u8])]) -> Option<String> {
    let payload: usize = rows.iter().map(|(_, key)| key.len() + 8).sum();
    if rows.is_empty() || payload > LITERAL_MAX || !rows.iter().all(|(t, _)| plain_name(t)) {
        return None;
    }
    let tables: Vec<&str> = rows.iter().map(|(t, _)| *t).collect();
    let keys: Vec<&[u8]> = rows.iter().map(|(_, k)| *k).collect();
    Some(format!(
        "EXECUTE roster_fetch ({}, {})",
        text_array(&tables),
        bytea_array(&keys)
    ))
}

/// The statement of the simple protocol that runs `roster_follow` (the
/// backend's `PREPARE_FOLLOW`) on the entry `key` of `table` and the row of
/// `then` it names (its value less `trim` bytes), written out; `None` when
/// a table is not a plain identifier or the key is larger than
/// [`LITERAL_MAX`] bytes.
pub fn follow_literal(table: &str, key: &[u8], then: &str, trim: i32) -> Option<String> {
    if !plain_name(table) || !plain_name(then) || key.len() > LITERAL_MAX {
        return None;
    }
    Some(format!(
        "EXECUTE roster_follow ('{table}', {}, '{then}', {trim})",
        bytea(key)
    ))
}

/// The statement that reads `tables` whole, each row as its table, key and
/// value in hex, in table and key order (the caller passes only plain
/// identifiers).
pub fn whole_tables(tables: &[String]) -> String {
    let list: Vec<String> = tables.iter().map(|t| format!("'{t}'")).collect();
    format!(
        "SELECT tab, pg_catalog.encode(key, 'hex'), pg_catalog.encode(value, 'hex') FROM roster_rows \
         WHERE tab IN ({}) ORDER BY tab, key",
        list.join(", ")
    )
}

/// The statement that reads every row whose key begins with one of the
/// prefixes of `ranges` in its table (a whole table for an empty prefix),
/// each row as its table, key and value in hex: one index range scan per
/// prefix, joined by `UNION ALL` (the caller passes only plain
/// identifiers).
pub fn prefix_select(ranges: &[(String, Vec<u8>)]) -> String {
    let parts: Vec<String> = ranges
        .iter()
        .map(|(table, prefix)| {
            let (from, to) = prefix_range(prefix);
            let mut part = format!(
                "(SELECT tab, pg_catalog.encode(key, 'hex'), pg_catalog.encode(value, 'hex') FROM roster_rows \
                 WHERE tab = '{table}'"
            );
            if !from.is_empty() {
                part.push_str(&format!(" AND key >= {}", bytea(&from)));
            }
            if let Some(to) = to {
                part.push_str(&format!(" AND key < {}", bytea(&to)));
            }
            part.push(')');
            part
        })
        .collect();
    parts.join(" UNION ALL ")
}

/// A row of [`whole_tables`] or of `roster_fetch`, as the simple protocol
/// gives it: its table, key and value; `None` when it does not read back
/// (a row of another shape, text that is not UTF-8 or not hex).
pub fn hex_row(row: &postgres::SimpleQueryRow) -> Option<(&str, Vec<u8>, Vec<u8>)> {
    if row.len() != 3 {
        return None;
    }
    Some((
        text_at(row, 0)?,
        unhex(text_at(row, 1)?)?,
        unhex(text_at(row, 2)?)?,
    ))
}

/// Column `i` of a row of the simple protocol as text; `None` for NULL,
/// for a column the row does not have and for text that is not UTF-8. (The
/// driver's `get` panics on the last two: what the server sends is data,
/// never a reason to panic.)
pub fn text_at(row: &postgres::SimpleQueryRow, i: usize) -> Option<&str> {
    row.try_get(i).ok().flatten()
}

/// `out` as one statement of the simple protocol, to send in the same
/// message as the `COMMIT`: a run of a statement the backend prepares once
/// per connection (`roster_put`, or `roster_flush` when rows are removed),
/// its arrays written out as text, one constant each. The server then
/// parses a few strings and plans nothing, where a statement of its own per
/// write cost a parse of every row's constants and a plan (a subscription,
/// with its read's keys sent the same way: about 288 → 248 µs). `None`
/// when `out` is empty, larger than [`LITERAL_MAX`] bytes, or names a table
/// that is not a plain identifier (roster's table names all are: nothing
/// else is ever written into the statement).
pub fn literal(out: &Outgoing) -> Option<String> {
    let (put_tabs, put_keys, put_values) = &out.put;
    let (delete_tabs, delete_keys) = &out.delete;
    let payload: usize = [put_keys, put_values, delete_keys]
        .iter()
        .flat_map(|column| column.iter())
        .map(|bytes| bytes.len() + 8)
        .sum();
    let plain = |name: &String| plain_name(name);
    if out.is_empty() || payload > LITERAL_MAX || !put_tabs.iter().chain(delete_tabs).all(plain) {
        return None;
    }
    let puts = format!(
        "{}, {}, {}",
        text_array(put_tabs),
        bytea_array(put_keys),
        bytea_array(put_values)
    );
    Some(match delete_tabs.is_empty() {
        true => format!("EXECUTE roster_put ({puts})"),
        false => format!(
            "EXECUTE roster_flush ({puts}, {}, {})",
            text_array(delete_tabs),
            bytea_array(delete_keys)
        ),
    })
}

/// Plain identifiers as a `text[]` constant: `'{"users","meta"}'` (each
/// quoted, so that none reads as `NULL`).
fn text_array<S: AsRef<str>>(names: &[S]) -> String {
    let items: Vec<String> = names
        .iter()
        .map(|n| format!("\"{}\"", n.as_ref()))
        .collect();
    format!("'{{{}}}'", items.join(","))
}

/// Bytes as a `bytea[]` constant, each in hex: `E'{"\\\\x00ab"}'` (the
/// string's escapes, then the array's, leave `\x00ab` for the server's
/// `bytea` input; the same whatever `standard_conforming_strings` says).
fn bytea_array<B: AsRef<[u8]>>(items: &[B]) -> String {
    let size: usize = items.iter().map(|b| b.as_ref().len() * 2 + 8).sum();
    let mut text = String::with_capacity(size + 4);
    text.push_str("E'{");
    for (i, bytes) in items.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str("\"\\\\\\\\x");
        push_hex(&mut text, bytes.as_ref());
        text.push('"');
    }
    text.push_str("}'");
    text
}

/// Whether no key lies within the bounds (`BTreeMap::range` panics on
/// such bounds rather than giving nothing).
pub(crate) fn empty_range(lower: Bound<&[u8]>, upper: Bound<&[u8]>) -> bool {
    match (lower, upper) {
        (Bound::Included(l), Bound::Included(u)) => l > u,
        (Bound::Included(l), Bound::Excluded(u))
        | (Bound::Excluded(l), Bound::Included(u))
        | (Bound::Excluded(l), Bound::Excluded(u)) => l >= u,
        _ => false,
    }
}

/// A scan's rows with the waiting writes laid over them: `server` calls
/// its callback with the server's rows in scan order; a waiting write
/// replaces the server's row of its key, or removes it, or adds a row.
/// `pending` is [`Buffer::pending_in`] for the same bounds and direction.
pub fn merged_scan(
    pending: &[(Vec<u8>, Row)],
    reverse: bool,
    visit: &mut RowVisitor<'_>,
    server: impl FnOnce(&mut RowVisitor<'_>) -> Result<()>,
) -> Result<()> {
    // Whether `a` comes before `b` in scan order.
    let before = |a: &[u8], b: &[u8]| if reverse { a > b } else { a < b };
    let mut next = 0;
    let mut stopped = false;
    server(&mut |key, value| {
        while let Some((k, row)) = pending.get(next).filter(|(k, _)| before(k, key)) {
            next += 1;
            if let Some(v) = row
                && !visit(k, v)?
            {
                stopped = true;
                return Ok(false);
            }
        }
        let row = match pending.get(next) {
            Some((k, row)) if k.as_slice() == key => {
                next += 1;
                match row {
                    Some(v) => v.as_slice(),
                    None => return Ok(true),
                }
            }
            _ => value,
        };
        let go = visit(key, row)?;
        stopped = !go;
        Ok(go)
    })?;
    if stopped {
        return Ok(());
    }
    for (k, row) in &pending[next..] {
        if let Some(v) = row
            && !visit(k, v)?
        {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_from_the_server_reads_back() {
        assert_eq!(unhex(""), Some(Vec::new()));
        assert_eq!(unhex("00ff7fA0"), Some(vec![0, 0xff, 0x7f, 0xa0]));
        for bad in ["0", "0g", "\\x00", "zz", "0 "] {
            assert_eq!(unhex(bad), None, "{bad:?}");
        }
    }

    /// The merged scan of `server`'s rows and `writes` over bounds, both
    /// ways, as (key, value) bytes.
    fn merged(
        server: &[(&[u8], &[u8])],
        writes: &[(&[u8], Option<&[u8]>)],
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        reverse: bool,
        stop_after: usize,
    ) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut buffer = Buffer::default();
        for (k, v) in writes {
            buffer.write("t", k, v.map(<[u8]>::to_vec));
        }
        let pending = buffer.pending_in("t", lower, upper, reverse);
        let in_range = |k: &[u8]| {
            (match lower {
                Bound::Included(l) => k >= l,
                Bound::Excluded(l) => k > l,
                Bound::Unbounded => true,
            }) && (match upper {
                Bound::Included(u) => k <= u,
                Bound::Excluded(u) => k < u,
                Bound::Unbounded => true,
            })
        };
        let mut rows: Vec<(&[u8], &[u8])> = server
            .iter()
            .copied()
            .filter(|(k, _)| in_range(k))
            .collect();
        if reverse {
            rows.reverse();
        }
        let mut out = Vec::new();
        merged_scan(
            &pending,
            reverse,
            &mut |k, v| {
                out.push((k.to_vec(), v.to_vec()));
                Ok(out.len() < stop_after)
            },
            |visit| {
                for (k, v) in rows {
                    if !visit(k, v)? {
                        break;
                    }
                }
                Ok(())
            },
        )
        .expect("scan");
        out
    }

    /// The same rows from a plain map: what the merge must equal.
    fn model(
        server: &[(&[u8], &[u8])],
        writes: &[(&[u8], Option<&[u8]>)],
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        reverse: bool,
        stop_after: usize,
    ) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut map: BTreeMap<Vec<u8>, Vec<u8>> = server
            .iter()
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .collect();
        for (k, v) in writes {
            match v {
                Some(v) => map.insert(k.to_vec(), v.to_vec()),
                None => map.remove(*k),
            };
        }
        if empty_range(lower, upper) {
            return Vec::new();
        }
        let rows = map
            .range::<[u8], _>((lower, upper))
            .map(|(k, v)| (k.clone(), v.clone()));
        let rows: Vec<_> = match reverse {
            true => rows.rev().collect(),
            false => rows.collect(),
        };
        rows.into_iter().take(stop_after).collect()
    }

    #[test]
    fn a_merged_scan_reads_as_if_the_writes_had_been_sent() {
        let server: &[(&[u8], &[u8])] = &[(b"b", b"1"), (b"d", b"2"), (b"f", b"3"), (b"h", b"4")];
        let writes: &[(&[u8], Option<&[u8]>)] = &[
            (b"a", Some(b"new")),
            (b"d", None),
            (b"e", Some(b"5")),
            (b"f", Some(b"changed")),
            (b"g", None),
            (b"z", Some(b"last")),
        ];
        let keys: [&[u8]; 6] = [b"", b"b", b"c", b"f", b"h", b"zz"];
        let mut bounds = vec![Bound::Unbounded];
        for k in keys {
            bounds.push(Bound::Included(k));
            bounds.push(Bound::Excluded(k));
        }
        for lower in &bounds {
            for upper in &bounds {
                for reverse in [false, true] {
                    for stop in [1, 2, 3, 100] {
                        assert_eq!(
                            merged(server, writes, *lower, *upper, reverse, stop),
                            model(server, writes, *lower, *upper, reverse, stop),
                            "{lower:?}..{upper:?} reverse {reverse} stop {stop}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn few_rows_are_written_out_for_the_commit_message_and_many_are_not() {
        let mut buffer = Buffer::default();
        buffer.write("users", &[0, 1, 0xab], Some(b"it's".to_vec()));
        buffer.write("grams", b"", None);
        assert_eq!(
            literal(&buffer.take()).expect("few rows"),
            "EXECUTE roster_flush ('{\"users\"}', E'{\"\\\\\\\\x0001ab\"}', \
             E'{\"\\\\\\\\x69742773\"}', '{\"grams\"}', E'{\"\\\\\\\\x\"}')"
        );
        buffer.write("users", &[0xff], Some(Vec::new()));
        buffer.write("users", b"", Some(vec![0]));
        assert_eq!(
            literal(&buffer.take()).expect("rows stored, none removed"),
            "EXECUTE roster_put ('{\"users\",\"users\"}', \
             E'{\"\\\\\\\\x\",\"\\\\\\\\xff\"}', E'{\"\\\\\\\\x00\",\"\\\\\\\\x\"}')"
        );
        assert_eq!(literal(&Outgoing::default()), None, "nothing to send");
        buffer.write("users", b"k", Some(vec![7; LITERAL_MAX]));
        assert_eq!(
            literal(&buffer.take()),
            None,
            "too large: sent as parameters"
        );
        buffer.write("users'; DROP TABLE roster_rows; --", b"k", None);
        assert_eq!(literal(&buffer.take()), None, "not a plain table name");
    }

    #[test]
    fn a_writes_first_reads_are_written_out_for_the_message_that_begins_it() {
        assert_eq!(
            fetch_literal(&[("users", &[0, 0xab]), ("meta", b"")]).expect("few rows"),
            "EXECUTE roster_fetch ('{\"users\",\"meta\"}', \
             E'{\"\\\\\\\\x00ab\",\"\\\\\\\\x\"}')"
        );
        assert_eq!(fetch_literal(&[]), None, "nothing to read");
        let large = vec![7; LITERAL_MAX];
        assert_eq!(fetch_literal(&[("users", &large)]), None, "too large");
        let hostile = [
            ("users", &b"k"[..]),
            ("t'); DROP TABLE roster_rows; --", b"k"),
        ];
        assert_eq!(fetch_literal(&hostile), None, "not a plain table name");
    }

    #[test]
    fn taken_writes_become_the_rows_seen() {
        let mut buffer = Buffer::default();
        buffer.saw("t", b"k", Some(b"old".to_vec()));
        assert_eq!(buffer.known("t", b"k"), Some(Some(b"old".to_vec())));
        buffer.write("t", b"k", None);
        buffer.write("u", b"x", Some(b"v".to_vec()));
        assert_eq!(
            buffer.known("t", b"k"),
            Some(None),
            "a waiting delete hides the row"
        );
        let out = buffer.take();
        assert_eq!(
            out.put,
            (vec!["u".into()], vec![b"x".to_vec()], vec![b"v".to_vec()])
        );
        assert_eq!(out.delete, (vec!["t".into()], vec![b"k".to_vec()]));
        assert!(buffer.take().is_empty(), "nothing waits once taken");
        assert_eq!(buffer.known("t", b"k"), Some(None));
        assert_eq!(buffer.known("u", b"x"), Some(Some(b"v".to_vec())));
        assert_eq!(buffer.known("u", b"y"), None, "never read: unknown");
    }
}
