//! The commit journal of a store file opened for one process: what makes a
//! small durable write cost one short sequential write and one sync.
//!
//! A redb commit that must be durable writes every B-tree page the
//! transaction changed (a leaf and its branches, in each table touched, and
//! redb's allocator state) and syncs them: a membership touches five tables,
//! some twenty pages. Instead, a small write transaction appends its
//! changes, as bytes (table, key, value or deletion), to the journal file
//! beside the store, syncs that one record, and only then commits to redb
//! without a sync. A larger transaction, a full journal, or the close of the
//! store commits to redb durably: a *checkpoint*, after which the journal
//! starts over. On open, the records written since the last checkpoint are
//! applied to the store again and checkpointed; SQLite's write-ahead log
//! works the same way.
//!
//! Which records belong to the store's present state: each checkpoint draws
//! a new random *epoch* and keeps it in the store (in the same durable
//! commit); every record carries the epoch it was written in and a sequence
//! number from 1. On open, the records of the store's epoch with sequence
//! numbers 1, 2, 3, … from the start of the file are applied, up to the
//! first that is torn, of another epoch or out of sequence. Applying a
//! record is writing absolute values, so a record whose changes already
//! reached the store (redb may make a non-durable commit durable) is
//! applied again to the same effect.
//!
//! The file is written in place (its blocks allocated once, zeros), so a
//! sync writes one data block and no file metadata.
//!
//! Record: magic `RJNL`, payload length (u32), epoch (u64), sequence (u64),
//! CRC-32 of those 24 bytes and the payload (u32), then the payload: per
//! change, 1 (put) or 2 (delete), the table name's length (u8) and name, the
//! key's length (u32) and key, and for a put the value's length (u32) and
//! value. Integers are big-endian.

use crate::error::{Error, ErrorCode, Result};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The redb table (hidden from the backend's table list) that keeps the
/// epoch of the last checkpoint.
pub(crate) const TABLE: &str = "roster.journal";
/// The key of the epoch in [`TABLE`].
pub(crate) const EPOCH_KEY: &[u8] = b"epoch";

const MAGIC: &[u8; 4] = b"RJNL";
pub(crate) const HEADER: usize = 28;
/// The journal's size: a record that would pass it makes a checkpoint.
const CAPACITY: u64 = 1 << 20;
/// The changes of one transaction above this size are committed durably to
/// the store instead (a bulk import, a purge).
pub(crate) const MAX_PAYLOAD: usize = 256 * 1024;

const PUT: u8 = 1;
const DELETE: u8 = 2;

/// The path of the journal of the store file at `store` (public as
/// `roster::store::journal_path`: the CLI keeps its exports off it).
///
/// The journal belongs to the file, not to the name it was opened by: the
/// path is the file's own (links followed), so a store opened through a
/// link and later by its real name (or through another link) finds its
/// commits. A store that does not exist yet is taken as spelt.
pub fn path_of(store: &Path) -> PathBuf {
    let file = std::fs::canonicalize(store).unwrap_or_else(|_| store.to_path_buf());
    spelt(&file)
}

/// The journal's path beside `store` as spelt (how roster named it before
/// links were followed).
fn spelt(store: &Path) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push("-journal");
    PathBuf::from(name)
}

/// The records of `epoch` in the journal of the store file at `store`
/// ([`records`]), or, where it has none and the store was named through a
/// link, in a journal beside the link (where an earlier roster kept it).
pub(crate) fn records_beside(store: &Path, epoch: u64) -> Result<Found> {
    let (own, as_named) = (path_of(store), spelt(store));
    let found = records(&own, epoch)?;
    // Another file only: a relative or linked-folder spelling of the same
    // journal is not read twice.
    let elsewhere = || std::fs::canonicalize(&as_named).is_ok_and(|other| other != own);
    if found.commits.is_empty() && !found.damaged && elsewhere() {
        return records(&as_named, epoch);
    }
    Ok(found)
}

/// What a journal holds for an epoch.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Found {
    /// The payloads of its records, in order: the commits since the
    /// store's last checkpoint, up to the first record that does not read.
    pub(crate) commits: Vec<Vec<u8>>,
    /// Whether a record of the epoch that reads follows the one that does
    /// not, where that one's length puts it: the record in between was
    /// written whole (records are written one after the other, each synced
    /// before the next, so only the last can be torn) and damaged since,
    /// and the commits from it on are lost.
    pub(crate) damaged: bool,
}

/// The error of a journal damaged in the middle ([`Found::damaged`]).
pub(crate) fn damaged_in_the_middle(store: &Path, readable: usize) -> Error {
    Error::new(
        ErrorCode::Corrupt,
        format!(
            "the journal of {} is damaged: after {readable} commits that read, a record \
             that does not is followed by others that do, so commits are lost; nothing was \
             applied. Run `roster recover` (it keeps the commits before the damage)",
            store.display()
        ),
    )
}

/// One change of a record.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Change<'a> {
    Put(&'a str, &'a [u8], &'a [u8]),
    Delete(&'a str, &'a [u8]),
}

/// The changes of one write transaction, encoded as it runs; `None` once
/// they outgrow [`MAX_PAYLOAD`] (the transaction then checkpoints).
#[derive(Debug, Default)]
pub(crate) struct Changes(Option<Vec<u8>>);

impl Changes {
    /// A list that records.
    pub(crate) fn recording() -> Changes {
        Changes(Some(Vec::new()))
    }

    /// A list that records nothing (no journal).
    pub(crate) fn off() -> Changes {
        Changes(None)
    }

    /// Whether changes are still recorded (a journal, and not outgrown).
    pub(crate) fn is_recording(&self) -> bool {
        self.0.is_some()
    }

    /// Adds a change.
    pub(crate) fn add(&mut self, change: Change<'_>) {
        let Some(out) = self.0.as_mut() else {
            return;
        };
        let (tag, table, key, value) = match change {
            Change::Put(t, k, v) => (PUT, t, k, Some(v)),
            Change::Delete(t, k) => (DELETE, t, k, None),
        };
        let size = 2 + table.len() + 4 + key.len() + value.map_or(0, |v| 4 + v.len());
        if table.len() > usize::from(u8::MAX) || out.len() + size > MAX_PAYLOAD {
            self.0 = None;
            return;
        }
        out.push(tag);
        out.push(table.len() as u8);
        out.extend_from_slice(table.as_bytes());
        out.extend_from_slice(&(key.len() as u32).to_be_bytes());
        out.extend_from_slice(key);
        if let Some(v) = value {
            out.extend_from_slice(&(v.len() as u32).to_be_bytes());
            out.extend_from_slice(v);
        }
    }

    /// The encoded changes, `None` when they outgrew the journal.
    pub(crate) fn into_payload(self) -> Option<Vec<u8>> {
        self.0
    }
}

/// Calls `f` on each change of a payload; `None` when it is malformed.
pub(crate) fn each_change(
    mut payload: &[u8],
    mut f: impl FnMut(Change<'_>) -> Result<()>,
) -> Result<Option<()>> {
    fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        if bytes.len() < n {
            return None;
        }
        let (head, rest) = bytes.split_at(n);
        *bytes = rest;
        Some(head)
    }
    fn len(bytes: &mut &[u8]) -> Option<usize> {
        let b = take(bytes, 4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }
    while !payload.is_empty() {
        let parsed = (|| {
            let tag = take(&mut payload, 1)?[0];
            let n = take(&mut payload, 1)?[0] as usize;
            let table = std::str::from_utf8(take(&mut payload, n)?).ok()?;
            let k = len(&mut payload)?;
            let key = take(&mut payload, k)?;
            match tag {
                PUT => {
                    let v = len(&mut payload)?;
                    Some(Change::Put(table, key, take(&mut payload, v)?))
                }
                DELETE => Some(Change::Delete(table, key)),
                _ => None,
            }
        })();
        match parsed {
            Some(change) => f(change)?,
            None => return Ok(None),
        }
    }
    Ok(Some(()))
}

/// The journal file of a store opened for one process.
#[derive(Debug)]
pub(crate) struct Journal {
    file: File,
    /// The epoch of the last checkpoint.
    epoch: u64,
    /// The sequence number of the last record (0 right after a checkpoint).
    seq: u64,
    /// Where the next record goes.
    end: u64,
    /// A journal write failed: the next commit is a checkpoint.
    failed: bool,
    /// No record may be written in `epoch` (the store's epoch when it was
    /// opened, whose journal may hold an earlier opening's records): the
    /// next commit is a checkpoint, which starts a new one.
    unstarted: bool,
    /// Tests: the next append writes its record, then fails as a sync
    /// that reports an error does.
    #[cfg(test)]
    pub(crate) fail_next_sync: bool,
    /// Tests: the next erasure of a record fails before it writes.
    #[cfg(test)]
    pub(crate) fail_next_erase: bool,
}

fn io_error(what: &'static str) -> impl FnOnce(std::io::Error) -> Error {
    move |e| Error::storage(what, e)
}

/// A new random epoch.
pub(crate) fn new_epoch() -> Result<u64> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| {
        Error::new(
            ErrorCode::Internal,
            format!("the system gave no random bytes ({e})"),
        )
    })?;
    Ok(u64::from_be_bytes(bytes))
}

impl Journal {
    /// Opens (or creates, owner-only) the journal at `path`, its blocks
    /// allocated, for a store checkpointed in `epoch`.
    pub(crate) fn open(path: &Path, epoch: u64) -> Result<Journal> {
        crate::private_file::ensure(path).map_err(io_error("creating the journal"))?;
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(io_error("opening the journal"))?;
        let len = file
            .metadata()
            .map_err(io_error("reading the journal"))?
            .len();
        if len < CAPACITY {
            file.seek(SeekFrom::Start(len))
                .map_err(io_error("preparing the journal"))?;
            file.write_all(&vec![0u8; (CAPACITY - len) as usize])
                .map_err(io_error("preparing the journal"))?;
            file.sync_all().map_err(io_error("preparing the journal"))?;
        }
        Ok(Journal {
            file,
            epoch,
            seq: 0,
            end: 0,
            failed: false,
            unstarted: false,
            #[cfg(test)]
            fail_next_sync: false,
            #[cfg(test)]
            fail_next_erase: false,
        })
    }

    /// This journal, its first commit a checkpoint (see `unstarted`).
    pub(crate) fn unstarted(mut self) -> Journal {
        self.unstarted = true;
        self
    }

    /// Whether a record of `payload` bytes may go to the journal now (else
    /// the commit is a checkpoint).
    pub(crate) fn takes(&self, payload: usize) -> bool {
        !self.failed && !self.unstarted && self.end + (HEADER + payload) as u64 <= CAPACITY
    }

    /// Whether commits since the last checkpoint live only in the journal.
    pub(crate) fn is_dirty(&self) -> bool {
        self.seq > 0
    }

    /// Whether a journal write failed since the last checkpoint (the next
    /// commit checkpoints).
    pub(crate) fn has_failed(&self) -> bool {
        self.failed
    }

    /// Appends the record of `payload` and syncs it. The commit it stands
    /// for must follow; [`Journal::committed`] or [`Journal::abandon`] says
    /// how that went.
    pub(crate) fn append(&mut self, payload: &[u8]) -> Result<()> {
        let record = encode(self.epoch, self.seq + 1, payload);
        let written = (|| {
            self.file.seek(SeekFrom::Start(self.end))?;
            self.file.write_all(&record)?;
            #[cfg(test)]
            if std::mem::take(&mut self.fail_next_sync) {
                return Err(std::io::Error::other("injected sync failure"));
            }
            self.file.sync_data()
        })();
        if let Err(e) = written {
            self.failed = true;
            return Err(Error::storage("writing the journal", e));
        }
        Ok(())
    }

    /// The commit of the record just appended succeeded.
    pub(crate) fn committed(&mut self, payload: usize) {
        self.seq += 1;
        self.end += (HEADER + payload) as u64;
    }

    /// The commit of the record just appended failed: the record is erased
    /// so that no reopening applies it, and the next commit checkpoints.
    pub(crate) fn abandon(&mut self) {
        self.failed = true;
        let _ = (|| {
            #[cfg(test)]
            if std::mem::take(&mut self.fail_next_erase) {
                return Err(std::io::Error::other("injected write failure"));
            }
            self.file.seek(SeekFrom::Start(self.end))?;
            self.file.write_all(&[0u8; HEADER])?;
            self.file.sync_data()
        })();
    }

    /// A checkpoint committed durably in `epoch`: the journal starts over.
    pub(crate) fn restart(&mut self, epoch: u64) {
        self.epoch = epoch;
        self.seq = 0;
        self.end = 0;
        self.failed = false;
        self.unstarted = false;
    }
}

/// A record's bytes.
fn encode(epoch: u64, seq: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(&epoch.to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(&out);
    crc.update(payload);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// The payloads of the records of `epoch` in the journal at `path`, in
/// order: the commits made after the store's last checkpoint. A missing
/// file has none. Only its first [`CAPACITY`] bytes are read: no record is
/// written past them, and a file made larger (by hand, or to exhaust
/// memory) is no bigger to read.
pub(crate) fn records(path: &Path, epoch: u64) -> Result<Found> {
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(f) => {
            f.take(CAPACITY)
                .read_to_end(&mut bytes)
                .map_err(io_error("reading the journal"))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found::default()),
        Err(e) => return Err(Error::storage("opening the journal", e)),
    }
    Ok(read(&bytes, epoch))
}

/// The records of `epoch` numbered 1, 2, 3, … from the start of `bytes`, up
/// to the first record that is not, and whether that one is followed by
/// the next of the sequence ([`Found::damaged`]).
fn read(bytes: &[u8], epoch: u64) -> Found {
    let mut commits = Vec::new();
    let mut at = 0usize;
    while let Some(record) = record_at(bytes, at, epoch, commits.len() as u64 + 1) {
        match record {
            Ok(payload) => {
                at += HEADER + payload.len();
                commits.push(payload.to_vec());
            }
            Err(Some(len)) => {
                // A whole-looking record of this epoch and place whose
                // bytes do not check: damage if the next one reads.
                let next = commits.len() as u64 + 2;
                let damaged = matches!(
                    record_at(bytes, at + HEADER + len, epoch, next),
                    Some(Ok(_))
                );
                return Found { commits, damaged };
            }
            Err(None) => break,
        }
    }
    Found {
        commits,
        damaged: false,
    }
}

/// The record at `at`, if it is record `seq` of `epoch`: `None` where
/// `bytes` end; its payload where it reads; where it does not, the payload
/// length its header gives when the record fails its checksum (its length
/// in bounds and within `bytes`: it may have been damaged), else nothing
/// (a whole record of another epoch or number, a length out of bounds).
fn record_at(
    bytes: &[u8],
    at: usize,
    epoch: u64,
    seq: u64,
) -> Option<Result<&[u8], Option<usize>>> {
    let header = bytes.get(at..at.checked_add(HEADER)?)?;
    let n = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
    let word = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&header[i..i + 8]);
        u64::from_be_bytes(b)
    };
    let (e, number) = (word(8), word(16));
    let crc = u32::from_be_bytes([header[24], header[25], header[26], header[27]]);
    // Bounded before it is added: on a 32-bit target a length near 2^32
    // would wrap the sum.
    if n > MAX_PAYLOAD {
        return Some(Err(None));
    }
    let Some(payload) = bytes.get(at + HEADER..at + HEADER + n) else {
        return Some(Err(None));
    };
    let mut check = crc32fast::Hasher::new();
    check.update(&header[..24]);
    check.update(payload);
    if check.finalize() != crc {
        // Whatever its header says (the checksum covers the magic, the
        // epoch and the number too): the caller looks for the next record
        // where this one's length puts it.
        return Some(Err(Some(n)));
    }
    if &header[..4] != MAGIC || e != epoch || number != seq {
        // Whole, and not the next of this epoch: a stale record, or
        // another store's.
        return Some(Err(None));
    }
    Some(Ok(payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The commits [`read`] finds.
    fn parse(bytes: &[u8], epoch: u64) -> Vec<Vec<u8>> {
        read(bytes, epoch).commits
    }

    fn payload(changes: &[Change<'_>]) -> Vec<u8> {
        let mut c = Changes::recording();
        for change in changes {
            c.add(match change {
                Change::Put(t, k, v) => Change::Put(t, k, v),
                Change::Delete(t, k) => Change::Delete(t, k),
            });
        }
        c.into_payload().expect("small")
    }

    #[test]
    fn changes_read_back_as_written() {
        let p = payload(&[
            Change::Put("users", b"\x00\x01", b"ravi"),
            Change::Delete("by_email", b"a@b.c"),
            Change::Put("t", b"", b""),
        ]);
        let mut seen = Vec::new();
        let whole = each_change(&p, |c| {
            seen.push(format!("{c:?}"));
            Ok(())
        })
        .unwrap();
        assert_eq!(whole, Some(()));
        assert_eq!(seen.len(), 3);
        assert!(seen[1].contains("Delete"));
        // A cut payload is malformed, not a shorter list.
        assert_eq!(each_change(&p[..p.len() - 1], |_| Ok(())).unwrap(), None);
        assert_eq!(each_change(&[9, 0, 0, 0, 0, 0], |_| Ok(())).unwrap(), None);
    }

    #[test]
    fn changes_past_the_limit_stop_recording() {
        let mut c = Changes::recording();
        let big = vec![7u8; MAX_PAYLOAD / 2];
        c.add(Change::Put("t", b"k", &big));
        assert!(c.0.is_some());
        c.add(Change::Put("t", b"k", &big));
        assert!(c.into_payload().is_none());
    }

    /// A payload of exactly [`MAX_PAYLOAD`] bytes is recorded, one byte
    /// more is not; so is a table name of 255 bytes, and one of 256 not.
    #[test]
    fn the_limits_are_exact() {
        // A put of table `t`, key `k`: 12 bytes besides its value.
        let mut c = Changes::recording();
        let value = vec![1u8; MAX_PAYLOAD - 12 - 7];
        c.add(Change::Put("t", b"k", &value));
        // A delete of table `t`, no key: 7 bytes.
        c.add(Change::Delete("t", b""));
        assert_eq!(c.0.as_ref().map(Vec::len), Some(MAX_PAYLOAD));
        c.add(Change::Delete("", b""));
        assert!(!c.is_recording());
        let mut c = Changes::recording();
        let value = vec![1u8; MAX_PAYLOAD - 12 - 6];
        c.add(Change::Put("t", b"k", &value));
        c.add(Change::Delete("t", b""));
        assert!(c.into_payload().is_none());

        let name = "n".repeat(255);
        let p = payload(&[Change::Put(&name, b"k", b"v")]);
        assert_eq!(p.len(), 2 + 255 + 4 + 1 + 4 + 1);
        let mut c = Changes::recording();
        c.add(Change::Delete(&"n".repeat(256), b"k"));
        assert!(c.into_payload().is_none());
    }

    #[test]
    fn records_are_read_in_sequence_up_to_the_first_torn_or_stale_one() {
        let mut bytes = Vec::new();
        bytes.extend(encode(5, 1, b"one"));
        bytes.extend(encode(5, 2, b"two"));
        let two = bytes.len();
        bytes.extend(encode(5, 3, b"three"));
        assert_eq!(
            parse(&bytes, 5),
            vec![b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]
        );
        // Another epoch's records are not this store's.
        assert!(parse(&bytes, 6).is_empty());
        // A torn last record ends the list.
        assert_eq!(parse(&bytes[..bytes.len() - 1], 5).len(), 2);
        // A flipped bit ends it too.
        let mut flipped = bytes.clone();
        flipped[two + HEADER] ^= 1;
        assert_eq!(parse(&flipped, 5).len(), 2);
        // An old record after the new ones (a restart wrote over the start
        // of a longer run) is out of sequence.
        let mut old = encode(5, 1, b"new").to_vec();
        old.extend(encode(5, 7, b"old"));
        assert_eq!(parse(&old, 5).len(), 1);
        // Zeros (a fresh file) hold nothing.
        assert!(parse(&[0u8; 4096], 0).is_empty());
        // A record of the largest payload a transaction records is read;
        // a larger one was not written by roster.
        let largest = vec![3u8; MAX_PAYLOAD];
        assert_eq!(parse(&encode(5, 1, &largest), 5), vec![largest.clone()]);
        let larger = [largest.as_slice(), &[3]].concat();
        assert!(parse(&encode(5, 1, &larger), 5).is_empty());
    }

    /// A record that does not check, followed where its length says by the
    /// next record of the sequence, was damaged after it was written:
    /// the commits before it are found and the damage is named. A torn
    /// or damaged last record, a stale record after the last, or a length
    /// that was itself damaged (the next record is not where it says) end
    /// the list as before.
    #[test]
    fn a_record_damaged_before_others_that_read_is_damage() {
        let mut bytes = Vec::new();
        for (seq, p) in [(1, b"one".as_slice()), (2, b"two"), (3, b"three")] {
            bytes.extend(encode(5, seq, p));
        }
        let second = encode(5, 1, b"one").len();
        let third = second + encode(5, 2, b"two").len();
        let sound = read(&bytes, 5);
        assert_eq!((sound.commits.len(), sound.damaged), (3, false));
        let mut flipped = bytes.clone();
        flipped[second + HEADER + 1] ^= 4;
        assert_eq!(
            read(&flipped, 5),
            Found {
                commits: vec![b"one".to_vec()],
                damaged: true
            }
        );
        // The same flip in the last record: it may be torn, nothing after.
        let mut last = bytes.clone();
        last[third + HEADER + 1] ^= 4;
        assert_eq!(read(&last, 5).commits.len(), 2);
        assert!(!read(&last, 5).damaged);
        assert!(!read(&bytes[..bytes.len() - 1], 5).damaged);
        // A bit of a middle record's header (its epoch) flipped: the
        // checksum covers it, and the next record reads.
        let mut header = bytes.clone();
        header[second + 9] ^= 1;
        assert_eq!(read(&header, 5).commits.len(), 1);
        assert!(read(&header, 5).damaged);
        // A damaged length: the next record is not where it says.
        let mut length = bytes.clone();
        length[second + 7] ^= 1;
        assert_eq!(read(&length, 5).commits.len(), 1);
        assert!(!read(&length, 5).damaged);
        // A stale record of an earlier run after the end is not damage.
        let mut stale = encode(5, 1, b"new").to_vec();
        stale.extend(encode(5, 7, b"old"));
        assert!(!read(&stale, 5).damaged);
    }

    /// Opening allocates the whole journal, so appending a record never
    /// changes the file's size (a sync of its data alone makes it
    /// durable); a larger file is left as it is.
    #[test]
    fn the_journal_is_allocated_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let size = |p: &Path| std::fs::metadata(p).unwrap().len();
        let mut j = Journal::open(&path, 1).unwrap();
        assert_eq!(size(&path), CAPACITY);
        j.append(b"payload").unwrap();
        j.committed(7);
        assert_eq!(size(&path), CAPACITY);
        assert_eq!(
            records(&path, 1).unwrap().commits,
            vec![b"payload".to_vec()]
        );
        std::fs::write(&path, vec![1u8; 100]).unwrap();
        Journal::open(&path, 1).unwrap();
        assert_eq!(size(&path), CAPACITY);
        std::fs::write(&path, vec![1u8; CAPACITY as usize + 5]).unwrap();
        Journal::open(&path, 1).unwrap();
        assert_eq!(size(&path), CAPACITY + 5);
    }

    /// A record whose commit failed is erased (no reopening applies a
    /// write that returned an error), and the journal takes nothing more
    /// until a checkpoint starts it over.
    #[test]
    fn an_abandoned_record_is_erased() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let mut j = Journal::open(&path, 4).unwrap();
        assert!(!j.is_dirty());
        j.append(b"one").unwrap();
        j.committed(3);
        assert!(j.is_dirty());
        j.append(b"two").unwrap();
        assert_eq!(records(&path, 4).unwrap().commits.len(), 2);
        j.abandon();
        assert_eq!(records(&path, 4).unwrap().commits, vec![b"one".to_vec()]);
        assert!(!j.takes(1));
        j.restart(5);
        assert!(j.takes(1) && !j.is_dirty());
        j.append(b"three").unwrap();
        j.committed(5);
        assert_eq!(records(&path, 5).unwrap().commits, vec![b"three".to_vec()]);
        assert!(records(&path, 4).unwrap().commits.is_empty());
    }

    /// A missing journal holds nothing; one that cannot be opened is an
    /// error, never taken for an empty one (its commits would be lost).
    #[cfg(unix)]
    #[test]
    fn a_journal_that_cannot_be_read_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        assert!(records(&path, 1).unwrap().commits.is_empty());
        std::os::unix::fs::symlink(&path, &path).unwrap();
        assert!(records(&path, 1).is_err());
    }

    /// A record that ends past the journal's capacity was not written by
    /// roster (a full journal makes a checkpoint instead): the file is
    /// read only that far, however large it is.
    #[test]
    fn nothing_past_the_capacity_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let payload = vec![9u8; 250_000];
        let mut bytes = Vec::new();
        for seq in 1..=5 {
            bytes.extend(encode(3, seq, &payload));
        }
        assert!(bytes.len() as u64 > CAPACITY);
        assert_eq!(parse(&bytes, 3).len(), 5);
        bytes.extend(vec![0u8; 1 << 20]);
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(records(&path, 3).unwrap().commits.len(), 4);
    }
}
