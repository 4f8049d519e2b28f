//! The n-gram index of users: substring search (`q`, Sunbird's `query`)
//! from the index, not by reading every name.
//!
//! Every searchable text is folded (its [`fold`] key) and cut into
//! *grams*: one gram starting at each character, four characters long,
//! padded with NUL past the end (`"ravi"` gives `ravi`, `avi␀`, `vi␀␀`,
//! `i␀␀␀`). A text holds a needle of one to four characters exactly when
//! one of its grams starts with the needle, so needles up to a gram's
//! length are answered by the index alone and keep their substring meaning
//! (never a prefix match of the whole text); a longer needle's
//! four-character pieces must all be there, and the candidates are then
//! checked against the texts themselves. (Format 5 cut grams of three
//! characters, which left the common four-character needle to be checked
//! user by user.)
//!
//! Postings are grouped by block of 4,096 user ids: the key is
//! `(field, gram, id / 4096)` and the value the set of the ids' low 12 bits
//! in that block that have the gram, as a sorted list of 16-bit numbers
//! (up to 256 of them) or as a bitmap of 4,096 bits (512 bytes), whichever
//! is smaller: a gram most users share (`.com`, `gmai`) costs one bit a
//! user. Postings are read into [`IdSet`]s, one bitmap a block, so the union
//! of a short needle's grams (and of several fields) is an OR, with no
//! sorting. Fields: `q` (username and email together, what Testpress's `q`
//! searches), first name, last name, phone (what Sunbird's `query` adds).
//!
//! A new user's grams are not written at once (format 13). A create writes
//! one row, [`UNMERGED`]: the user's folded texts under its id. The create
//! of the last id of an aligned group of [`GROUP`] ids ([`SHARED_GROUP`]
//! where several processes write) moves the group's
//! unmerged users into the postings, each posting read and written once
//! for the whole group, not once a user. So a create reads and rewrites no
//! shared posting (some fifty before), and two processes creating at
//! once no longer collide on the postings of common grams (a serializable
//! backend's conflicts). A search reads the unmerged rows beside the
//! postings and tests their texts directly: the users created since the
//! last merge, fewer than a group in one process (a process that claimed
//! a block of ids of its own, [`super::ids`], and stopped leaves at most
//! a group behind, until a handle goes on in that block or the daily
//! purge merges it). Changing or deleting an unmerged user
//! rewrites or removes its row. A write of many users (a bulk import), a
//! purge, a recovery and a rebuild merge every unmerged user.

use super::keys::Def;
use super::tables::USERS;
use super::{Reads, Snapshot, Txn};
use crate::domain::user::User;
use crate::error::Result;
use crate::text::fold;
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

/// (field, gram, id block) -> the set of the ids' low bits ([`Lows`]).
pub(crate) const GRAMS: Def<[u8], [u8]> = Def::new("grams");

/// User id -> the user's folded texts ([`encode_texts`]), for a user whose
/// grams are not in [`GRAMS`] yet.
pub(crate) const UNMERGED: Def<u64, [u8]> = Def::new("grams_unmerged");

/// Ids per merge group where one process writes (a store file): creating
/// the last id of an aligned group merges the group's unmerged users.
/// Smaller groups make each merge shorter but merge more often, each
/// posting rewritten for fewer users; larger ones leave more waiting rows
/// for every search to read (at 100,000 users, a search on a store file
/// 46 µs with none waiting, 221 µs with 949).
pub(crate) const GROUP: u64 = 256;

/// Ids per merge group where several processes write at once
/// ([`super::Backend::own_id_blocks`]: PostgreSQL). A merge is long and
/// reads many pages of the index, and two processes collide at merges:
/// at 100,000 users two processes made 1.2 times the users of one with
/// groups of 256, 1.9 times with these (BENCHMARKS.md; 16 gave fewer
/// creates a second and more refusals than 64).
pub(crate) const SHARED_GROUP: u64 = 1024;

/// The merge group of `txn`'s store ([`GROUP`], [`SHARED_GROUP`]).
fn group(txn: &Txn<'_>) -> u64 {
    match txn.blocks.is_some() {
        true => SHARED_GROUP,
        false => GROUP,
    }
}

/// The most users one transaction creates as unmerged rows; a write that
/// creates more (a bulk import) writes their postings, and merges every
/// unmerged user with them.
pub(crate) const FEW: usize = 16;

/// Id bits below the block number.
const SHIFT: u32 = 12;
/// The low bits of an id.
const LOW: u64 = (1 << SHIFT) - 1;
/// A list longer than this is stored as a bitmap.
const MAX_LIST: usize = 256;
const BITMAP_BYTES: usize = 1 << (SHIFT - 3);

/// The set of low bits of one posting value, decoded: ascending, each
/// once. A sorted list, not a tree or a bitmap: a posting holds up to 4,096
/// lows, a create or an update changes one or two of them, and the
/// integrity check holds every posting of the store at once.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Lows(Vec<u16>);

impl FromIterator<u16> for Lows {
    fn from_iter<I: IntoIterator<Item = u16>>(lows: I) -> Lows {
        let mut lows: Vec<u16> = lows.into_iter().collect();
        lows.sort_unstable();
        lows.dedup();
        Lows(lows)
    }
}

impl Lows {
    /// Decodes a stored value: `0, n × u16` (a list) or `1, bitmap`.
    fn decode(bytes: &[u8]) -> Option<Lows> {
        let mut lows = Vec::with_capacity(bytes.len() / 2);
        // Both forms give their lows ascending.
        each_low(bytes, |low| lows.push(low))?;
        Some(Lows(lows))
    }

    /// Adds (`present`) or removes `low`.
    fn set(&mut self, low: u16, present: bool) {
        match (self.0.binary_search(&low), present) {
            (Err(at), true) => self.0.insert(at, low),
            (Ok(at), false) => {
                self.0.remove(at);
            }
            _ => {}
        }
    }

    /// The stored form: the smaller of a list and a bitmap.
    fn encode(&self) -> Vec<u8> {
        if self.0.len() <= MAX_LIST {
            let mut out = Vec::with_capacity(1 + 2 * self.0.len());
            out.push(0);
            for low in &self.0 {
                out.extend_from_slice(&low.to_be_bytes());
            }
            out
        } else {
            let mut out = vec![0u8; 1 + BITMAP_BYTES];
            out[0] = 1;
            for low in &self.0 {
                out[1 + (*low as usize) / 8] |= 1 << (low % 8);
            }
            out
        }
    }
}

/// Characters per gram: needles up to this long are answered exactly.
pub(crate) const GRAM: usize = 4;
/// Padding past the end of a text (control characters are never stored).
const PAD: char = '\0';

/// A searchable field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub(crate) enum Field {
    /// Username and email (Testpress's `q`).
    Q = 1,
    /// First name.
    FirstName = 2,
    /// Last name.
    LastName = 3,
    /// Phone.
    Phone = 4,
}

/// The texts of `user` the index is made of, as stored.
fn sources(user: &User) -> [&str; 5] {
    let p = &user.profile;
    [
        &user.username,
        &p.email,
        &p.first_name,
        &p.last_name,
        &p.phone,
    ]
}

/// Every field, in key order.
const FIELDS: [Field; 4] = [Field::Q, Field::FirstName, Field::LastName, Field::Phone];

/// The folded texts of `user`, in the order of [`sources`].
fn folded(user: &User) -> [String; 5] {
    sources(user).map(fold)
}

/// The texts of `field` among folded texts in the order of [`sources`].
fn of_field<'t>(field: Field, texts: &'t [&'t str; 5]) -> &'t [&'t str] {
    match field {
        Field::Q => &texts[..2],
        Field::FirstName => &texts[2..3],
        Field::LastName => &texts[3..4],
        Field::Phone => &texts[4..],
    }
}

/// An [`UNMERGED`] value: each folded text as its length (u32, big-endian)
/// and its bytes.
fn encode_texts(texts: &[String; 5]) -> Vec<u8> {
    let mut out = Vec::with_capacity(texts.iter().map(|t| 4 + t.len()).sum());
    for text in texts {
        out.extend_from_slice(&(text.len() as u32).to_be_bytes());
        out.extend_from_slice(text.as_bytes());
    }
    out
}

/// The texts of an [`UNMERGED`] value; `None` when it is malformed.
fn decode_texts(bytes: &[u8]) -> Option<[&str; 5]> {
    let mut out = [""; 5];
    let mut rest = bytes;
    for slot in &mut out {
        let (len, tail) = rest.split_first_chunk::<4>()?;
        let len = u32::from_be_bytes(*len) as usize;
        if tail.len() < len {
            return None;
        }
        let (text, tail) = tail.split_at(len);
        *slot = std::str::from_utf8(text).ok()?;
        rest = tail;
    }
    rest.is_empty().then_some(out)
}

/// One gram: up to [`GRAM`] characters of up to four bytes, inline (a user
/// has some seventy; none allocates).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Gram {
    len: u8,
    bytes: [u8; 4 * GRAM],
}

impl Gram {
    fn of(chars: impl Iterator<Item = char>) -> Gram {
        let mut g = Gram {
            len: 0,
            bytes: [0; 4 * GRAM],
        };
        for c in chars {
            let n = c.encode_utf8(&mut g.bytes[g.len as usize..]).len();
            g.len += n as u8;
        }
        g
    }

    fn as_str(&self) -> &str {
        // Only whole characters are ever written.
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or_default()
    }
}

impl Ord for Gram {
    /// The order of the texts (UTF-8's byte order is its characters').
    fn cmp(&self, other: &Gram) -> std::cmp::Ordering {
        self.bytes[..self.len as usize].cmp(&other.bytes[..other.len as usize])
    }
}

impl PartialOrd for Gram {
    fn partial_cmp(&self, other: &Gram) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Debug for Gram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_str().fmt(f)
    }
}

/// The grams of the texts, padded, ascending, without repeats.
fn grams_of<S: AsRef<str>>(texts: &[S]) -> Vec<Gram> {
    let mut out = Vec::new();
    for text in texts.iter().map(AsRef::as_ref) {
        let chars: Vec<char> = text.chars().collect();
        for i in 0..chars.len() {
            out.push(Gram::of(
                (0..GRAM).map(|k| chars.get(i + k).copied().unwrap_or(PAD)),
            ));
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Every (field, gram) of `user`, ascending, without repeats.
fn all_grams(user: &User) -> Vec<(Field, Gram)> {
    let folded = folded(user);
    all_grams_in(&folded.each_ref().map(String::as_str))
}

/// Every (field, gram) of folded texts in the order of [`sources`],
/// ascending, without repeats.
fn all_grams_in(texts: &[&str; 5]) -> Vec<(Field, Gram)> {
    let mut out: Vec<(Field, Gram)> = FIELDS
        .iter()
        .flat_map(|&field| {
            grams_of(of_field(field, texts))
                .into_iter()
                .map(move |g| (field, g))
        })
        .collect();
    out.sort_unstable();
    out
}

/// The key of the postings of `gram` in `field` for the ids of `block`.
fn key(field: Field, gram: &str, block: u64) -> Vec<u8> {
    key_in(&mut [0u8; KEY_MAX], field, gram, block).to_vec()
}

/// The longest posting key: a field, a gram of up to four bytes a
/// character, a block.
const KEY_MAX: usize = 1 + 4 * GRAM + 8;

/// [`key`], written into `buf`.
fn key_in<'b>(buf: &'b mut [u8; KEY_MAX], field: Field, gram: &str, block: u64) -> &'b [u8] {
    let g = gram.len();
    buf[0] = field as u8;
    buf[1..1 + g].copy_from_slice(gram.as_bytes());
    buf[1 + g..1 + g + 8].copy_from_slice(&block.to_be_bytes());
    &buf[..1 + g + 8]
}

/// `reads` with what creating `users` reads of the index
/// ([`Txn::will_read`]): nothing for a few ([`FEW`]: they are kept
/// unmerged), the postings of their texts for more. Added only where the
/// backend takes hints, and only when they are no more than one chunk of
/// [`apply_all`] (a bulk import's postings are read a chunk at a time as
/// they are written).
pub(crate) fn will_index(txn: &Txn<'_>, users: &[User], reads: Reads) -> Reads {
    if users.len() <= FEW {
        return reads;
    }
    will_read_postings(txn, users, reads)
}

/// `reads` with what deleting `user` reads of the index: its unmerged
/// row, and the postings of its texts.
pub(crate) fn will_unindex(txn: &Txn<'_>, user: &User, reads: Reads) -> Reads {
    will_read_postings(
        txn,
        std::slice::from_ref(user),
        reads.of(UNMERGED, &user.id),
    )
}

/// `reads` with the postings of `users`' texts as they are (where the
/// backend takes hints, up to one chunk of [`apply_all`]).
fn will_read_postings(txn: &Txn<'_>, users: &[User], reads: Reads) -> Reads {
    if !txn.takes_hints() {
        return reads;
    }
    let mut keys: Vec<Vec<u8>> = Vec::new();
    for user in users {
        for (field, gram) in all_grams(user) {
            keys.push(key(field, gram.as_str(), user.id >> SHIFT));
        }
        if keys.len() > APPLY_CHUNK {
            return reads;
        }
    }
    keys.sort_unstable();
    keys.dedup();
    keys.iter().fold(reads, |r, k| r.of(GRAMS, k.as_slice()))
}

/// Keeps `user`'s grams in step with it (`old`: the stored version, if any;
/// `new`: `None` when the user is deleted).
pub(crate) fn reindex(
    txn: &Txn<'_>,
    id: u64,
    old: Option<&User>,
    new: Option<&User>,
) -> Result<()> {
    // Most rewrites of a user (a sign-in, a flag) leave its texts alone.
    if let (Some(o), Some(n)) = (old, new)
        && sources(o) == sources(n)
    {
        return Ok(());
    }
    if let Some(held) = txn.deferred.borrow_mut().as_mut()
        && (old.is_none() || held.created.contains_key(&id))
    {
        // Created by this transaction: its texts are written at the end
        // ([`flush`]).
        match new {
            Some(n) => held.created.insert(id, folded(n)),
            None => held.created.remove(&id),
        };
        return Ok(());
    }
    let Some(old) = old else {
        // A new user: one row, merged with its group later.
        let Some(new) = new else {
            return Ok(());
        };
        txn.put(UNMERGED, &id, encode_texts(&folded(new)).as_slice())?;
        return merge_groups_ending(txn, [id]);
    };
    if txn.get(UNMERGED, &id)?.is_some() {
        // Not merged yet: its postings do not name it.
        return match new {
            Some(n) => txn.put(UNMERGED, &id, encode_texts(&folded(n)).as_slice()),
            None => txn.delete(UNMERGED, &id).map(drop),
        };
    }
    let before = all_grams(old);
    let after = new.map(all_grams).unwrap_or_default();
    let gone = before
        .iter()
        .filter(|g| after.binary_search(g).is_err())
        .map(|g| (g, false));
    let came = after
        .iter()
        .filter(|g| before.binary_search(g).is_err())
        .map(|g| (g, true));
    let low = (id & LOW) as u16;
    let mut changes: Vec<(Vec<u8>, Changes)> = Vec::new();
    let mut buf = [0u8; KEY_MAX];
    let mut deferred = txn.deferred.borrow_mut();
    for ((field, gram), present) in gone.chain(came) {
        let k = key_in(&mut buf, *field, gram.as_str(), id >> SHIFT);
        match deferred.as_mut() {
            // Held back to the end of the transaction ([`flush`]).
            Some(held) => match held.postings.get_mut(k) {
                Some(changes) => changes.push((low, present)),
                None => {
                    held.postings.insert(k.to_vec(), vec![(low, present)]);
                }
            },
            None => changes.push((k.to_vec(), vec![(low, present)])),
        }
    }
    drop(deferred);
    apply_all(txn, changes)
}

/// Adds to `postings` the grams of the user `id` with folded `texts`.
fn add_postings(postings: &mut Postings, id: u64, texts: &[&str; 5]) {
    let low = (id & LOW) as u16;
    let mut buf = [0u8; KEY_MAX];
    for (field, gram) in all_grams_in(texts) {
        let k = key_in(&mut buf, field, gram.as_str(), id >> SHIFT);
        match postings.get_mut(k) {
            Some(changes) => changes.push((low, true)),
            None => {
                postings.insert(k.to_vec(), vec![(low, true)]);
            }
        }
    }
}

/// Moves the unmerged users with ids within the bounds into `postings`,
/// removing their rows.
fn take_unmerged(
    txn: &Txn<'_>,
    lower: Bound<&u64>,
    upper: Bound<&u64>,
    postings: &mut Postings,
) -> Result<()> {
    let mut ids = Vec::new();
    txn.scan(UNMERGED, lower, upper, false, |id, bytes| {
        let texts = decode_texts(&bytes).ok_or_else(|| super::keys::malformed(UNMERGED.name))?;
        add_postings(postings, id, &texts);
        ids.push(id);
        Ok(true)
    })?;
    if !ids.is_empty() {
        txn.delete_many(UNMERGED, &ids)?;
    }
    Ok(())
}

/// Merges the unmerged users of the group of each of `ids` that is the
/// last id of its group. Only that group: a scan from lower down would
/// pass the rows earlier merges deleted (on PostgreSQL, index entries that
/// stay until a vacuum) and the waiting users of another process's block,
/// whose own merges it would then collide with (BENCHMARKS.md: two
/// processes made fewer users than one). A group whose last id never
/// comes (a block a stopped process claimed) waits for a handle that goes
/// on in that block, or for the daily purge.
fn merge_groups_ending(txn: &Txn<'_>, ids: impl IntoIterator<Item = u64>) -> Result<()> {
    let mut postings = Postings::new();
    let group = group(txn);
    for last in ids.into_iter().filter(|id| id % group == group - 1) {
        let first = last - (group - 1);
        take_unmerged(
            txn,
            Bound::Included(&first),
            Bound::Included(&last),
            &mut postings,
        )?;
    }
    apply_all(txn, postings.into_iter().collect())
}

/// Merges every unmerged user into the postings (the daily purge, a
/// recovery: what groups that never ended left).
pub(crate) fn merge_all(txn: &Txn<'_>) -> Result<()> {
    let mut postings = Postings::new();
    take_unmerged(txn, Bound::Unbounded, Bound::Unbounded, &mut postings)?;
    apply_all(txn, postings.into_iter().collect())
}

/// Calls `f` on every low of a stored posting value, ascending; `None` when
/// the value is malformed (a list out of order included).
fn each_low(bytes: &[u8], mut f: impl FnMut(u16)) -> Option<()> {
    let (&tag, rest) = bytes.split_first()?;
    match tag {
        0 if rest.len() % 2 == 0 => {
            let mut last = None;
            for pair in rest.chunks_exact(2) {
                let low = u16::from_be_bytes([pair[0], pair[1]]);
                if last.is_some_and(|l| l >= low) || u64::from(low) > LOW {
                    return None;
                }
                last = Some(low);
                f(low);
            }
        }
        1 if rest.len() == BITMAP_BYTES => {
            for (i, chunk) in rest.chunks_exact(8).enumerate() {
                let mut word = u64::from_le_bytes(chunk.try_into().ok()?);
                while word != 0 {
                    let bit = word.trailing_zeros();
                    f((i as u32 * 64 + bit) as u16);
                    word &= word - 1;
                }
            }
        }
        _ => return None,
    }
    Some(())
}

/// Changes held back by [`Txn::defer_search_index`] to the end of the
/// transaction ([`flush`]).
#[derive(Debug, Default)]
pub(crate) struct Pending {
    /// Per posting key, the low bits to add or remove.
    postings: Postings,
    /// The users the transaction created, by id: their folded texts as
    /// last set.
    created: BTreeMap<u64, [String; 5]>,
}

/// Per posting key, the low bits to add (`true`) or remove (`false`), in
/// the order they came (the last change of a low wins). A hash map: a bulk
/// import adds some seventy grams a user, and ordering the keys once at
/// the flush is cheaper than keeping them ordered.
type Postings = HashMap<Vec<u8>, Changes>;

/// Low bits to add (`true`) or remove (`false`) in one posting, in order.
type Changes = Vec<(u16, bool)>;

/// How many postings [`apply_all`] reads and writes at once: one round
/// trip each way on a backend that batches, a bounded amount of memory on
/// one that does not.
const APPLY_CHUNK: usize = 1024;

/// Applies changes to many postings (a key, and its low bits to add or
/// remove in order: the last change of a low wins), in key order, a chunk
/// at a time: the chunk's postings read at once, the changed ones written
/// at once and the emptied ones removed at once.
fn apply_all(txn: &Txn<'_>, mut changes: Vec<(Vec<u8>, Changes)>) -> Result<()> {
    // In key order: neighbouring postings share the B-tree's pages.
    changes.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for chunk in changes.chunks(APPLY_CHUNK) {
        let keys: Vec<&[u8]> = chunk.iter().map(|(k, _)| k.as_slice()).collect();
        let stored = txn.get_many(GRAMS, &keys)?;
        let (mut puts, mut gone) = (Vec::new(), Vec::new());
        for ((k, changes), bytes) in chunk.iter().zip(stored) {
            let stored = match bytes {
                Some(bytes) => {
                    Lows::decode(&bytes).ok_or_else(|| super::keys::malformed(GRAMS.name))?
                }
                None => Lows::default(),
            };
            let mut lows = stored.clone();
            for &(low, present) in changes {
                lows.set(low, present);
            }
            if lows == stored {
                continue;
            }
            match lows.0.is_empty() {
                true => gone.push(k.as_slice()),
                false => puts.push((k.as_slice(), lows.encode())),
            }
        }
        let rows: Vec<(&[u8], &[u8])> = puts.iter().map(|(k, v)| (*k, v.as_slice())).collect();
        txn.put_many(GRAMS, &rows)?;
        if !gone.is_empty() {
            txn.w.delete_many(GRAMS.name, &gone)?;
        }
    }
    Ok(())
}

/// Writes the changes held back in `txn` (called before every commit):
/// a few new users as unmerged rows, more with their postings (and every
/// unmerged user's).
pub(crate) fn flush(txn: &Txn<'_>) -> Result<()> {
    let Some(Pending {
        mut postings,
        created,
    }) = txn.deferred.borrow_mut().take()
    else {
        return Ok(());
    };
    let few = created.len() <= FEW;
    if few {
        for (id, texts) in &created {
            txn.put(UNMERGED, id, encode_texts(texts).as_slice())?;
        }
    } else {
        for (id, texts) in &created {
            add_postings(&mut postings, *id, &texts.each_ref().map(String::as_str));
        }
        take_unmerged(txn, Bound::Unbounded, Bound::Unbounded, &mut postings)?;
    }
    apply_all(txn, postings.into_iter().collect())?;
    match few {
        true => merge_groups_ending(txn, created.into_keys()),
        false => Ok(()),
    }
}

/// Bitmap words of one block.
const WORDS: usize = 1 << (SHIFT - 6);

/// A set of user ids read from postings: a bitmap of 4,096 bits per block
/// that has any, so unions and intersections are word by word.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct IdSet(BTreeMap<u64, Box<[u64; WORDS]>>);

impl IdSet {
    /// Adds the ids of a stored posting value of `block`; `None` when the
    /// value is malformed.
    fn add(&mut self, block: u64, bytes: &[u8]) -> Option<()> {
        let words = self.0.entry(block).or_insert_with(|| Box::new([0; WORDS]));
        match bytes.split_first() {
            // A bitmap is ORed in whole.
            Some((1, rest)) if rest.len() == BITMAP_BYTES => {
                for (word, chunk) in words.iter_mut().zip(rest.chunks_exact(8)) {
                    *word |= u64::from_le_bytes(chunk.try_into().ok()?);
                }
                Some(())
            }
            _ => each_low(bytes, |low| words[low as usize / 64] |= 1 << (low % 64)),
        }
    }

    /// Adds every id of `other`.
    pub(crate) fn union(&mut self, other: IdSet) {
        for (block, theirs) in other.0 {
            match self.0.get_mut(&block) {
                Some(mine) => mine
                    .iter_mut()
                    .zip(theirs.iter())
                    .for_each(|(m, t)| *m |= t),
                None => {
                    self.0.insert(block, theirs);
                }
            }
        }
    }

    /// Keeps only the ids `other` has too.
    pub(crate) fn intersect(&mut self, other: &IdSet) {
        self.0.retain(|block, mine| match other.0.get(block) {
            Some(theirs) => {
                mine.iter_mut()
                    .zip(theirs.iter())
                    .for_each(|(m, t)| *m &= t);
                mine.iter().any(|w| *w != 0)
            }
            None => false,
        });
    }

    /// Adds the ids of `ids` (in any order).
    pub(crate) fn extend(&mut self, ids: impl IntoIterator<Item = u64>) {
        for id in ids {
            let words = self
                .0
                .entry(id >> SHIFT)
                .or_insert_with(|| Box::new([0; WORDS]));
            let low = id & LOW;
            words[(low / 64) as usize] |= 1 << (low % 64);
        }
    }

    /// Adds every id of `other`, which is kept.
    pub(crate) fn union_with(&mut self, other: &IdSet) {
        for (block, theirs) in &other.0 {
            let mine = self.0.entry(*block).or_insert_with(|| Box::new([0; WORDS]));
            mine.iter_mut()
                .zip(theirs.iter())
                .for_each(|(m, t)| *m |= t);
        }
    }

    /// How many ids.
    pub(crate) fn len(&self) -> usize {
        self.0
            .values()
            .map(|w| w.iter().map(|x| x.count_ones() as usize).sum::<usize>())
            .sum()
    }

    /// The ids, ascending.
    pub(crate) fn into_vec(self) -> Vec<u64> {
        let mut out = Vec::with_capacity(self.len());
        for (block, words) in self.0 {
            for (i, word) in words.iter().enumerate() {
                let mut word = *word;
                while word != 0 {
                    out.push((block << SHIFT) | (i as u64 * 64 + u64::from(word.trailing_zeros())));
                    word &= word - 1;
                }
            }
        }
        out
    }
}

/// The ids whose `field` has a gram starting with `prefix` (one to
/// [`GRAM`] characters).
fn with_prefix(s: &Snapshot<'_>, field: Field, prefix: &str) -> Result<IdSet> {
    let mut start = vec![field as u8];
    start.extend_from_slice(prefix.as_bytes());
    let mut ids = IdSet::default();
    s.scan_prefix(GRAMS, start.as_slice(), false, |k, value| {
        block_of(&k, start.len())
            .and_then(|block| ids.add(block, &value))
            .ok_or_else(|| super::keys::malformed(GRAMS.name))?;
        Ok(true)
    })?;
    Ok(ids)
}

/// The block of a posting key that starts with `prefix_len` bytes of field
/// and gram, `None` for a key too short or too long to be one (damage).
fn block_of(key: &[u8], prefix_len: usize) -> Option<u64> {
    if key.len() < prefix_len + 8 || key.len() > KEY_MAX {
        return None;
    }
    let block: [u8; 8] = key[key.len() - 8..].try_into().ok()?;
    Some(u64::from_be_bytes(block))
}

/// Whether the index answers `needle` (folded) exactly: it is no longer
/// than a gram. Longer needles give candidates to check.
pub(crate) fn exact(needle: &str) -> bool {
    needle.chars().count() <= GRAM
}

/// A folded needle cut once into what the index is asked (for every field
/// it is looked up in): itself when it is no longer than a gram, else its
/// distinct four-character pieces, inline ([`Gram`]: no heap string a
/// window), ascending.
pub(crate) struct Needle<'a> {
    text: &'a str,
    /// No stored text can hold it (empty, or holding the padding).
    none: bool,
    /// The pieces of a needle longer than a gram (empty otherwise).
    pieces: Vec<Gram>,
}

impl<'a> Needle<'a> {
    /// `needle` (folded by the caller), cut.
    pub(crate) fn new(needle: &'a str) -> Needle<'a> {
        // No stored text holds a control character (the padding is one).
        let none = needle.is_empty() || needle.contains(PAD);
        let mut pieces = Vec::new();
        if !none && !exact(needle) {
            let chars: Vec<char> = needle.chars().collect();
            pieces = chars
                .windows(GRAM)
                .map(|w| Gram::of(w.iter().copied()))
                .collect();
            pieces.sort_unstable();
            pieces.dedup();
        }
        Needle {
            text: needle,
            none,
            pieces,
        }
    }
}

/// The users whose `field` may hold `needle`: exactly those when
/// [`exact`] (on a sound store), else a superset, each candidate to be
/// checked against its texts.
pub(crate) fn set_of(s: &Snapshot<'_>, field: Field, needle: &Needle<'_>) -> Result<IdSet> {
    set_in(s, &[field], needle)
}

/// The users any of `fields` may hold `needle` in (as [`set_of`]).
fn set_in(s: &Snapshot<'_>, fields: &[Field], needle: &Needle<'_>) -> Result<IdSet> {
    if needle.none {
        return Ok(IdSet::default());
    }
    let mut all = IdSet::default();
    for field in fields {
        all.union(posted(s, *field, needle)?);
    }
    // The users not merged yet, by their texts (exactly, whatever the
    // needle's length): every row, read in one go where a backend reads a
    // range a page at a time (fewer than a group's per process that
    // creates; more after an interrupted run).
    let mut found = Vec::new();
    s.scan_hint(usize::MAX);
    s.scan(
        UNMERGED,
        Bound::Unbounded,
        Bound::Unbounded,
        false,
        |id, bytes| {
            let texts =
                decode_texts(&bytes).ok_or_else(|| super::keys::malformed(UNMERGED.name))?;
            if fields
                .iter()
                .any(|f| of_field(*f, &texts).iter().any(|t| t.contains(needle.text)))
            {
                found.push(id);
            }
            Ok(true)
        },
    )?;
    all.extend(found);
    Ok(all)
}

/// The users whose `field` may hold `needle` by the postings.
fn posted(s: &Snapshot<'_>, field: Field, needle: &Needle<'_>) -> Result<IdSet> {
    if needle.pieces.is_empty() {
        return with_prefix(s, field, needle.text);
    }
    let mut out: Option<IdSet> = None;
    for piece in &needle.pieces {
        let ids = with_prefix(s, field, piece.as_str())?;
        match out.as_mut() {
            Some(all) => all.intersect(&ids),
            None => out = Some(ids),
        }
        if out.as_ref().is_some_and(|o| o.0.is_empty()) {
            break;
        }
    }
    Ok(out.unwrap_or_default())
}

/// [`set_of`] as ids, ascending (`needle` folded by the caller).
pub(crate) fn candidates(s: &Snapshot<'_>, field: Field, needle: &str) -> Result<Vec<u64>> {
    Ok(set_of(s, field, &Needle::new(needle))?.into_vec())
}

/// The users any of `fields` may hold `needle` in (as [`candidates`]),
/// ascending: the needle is cut once for all the fields.
pub(crate) fn candidates_in(s: &Snapshot<'_>, fields: &[Field], needle: &str) -> Result<Vec<u64>> {
    Ok(set_in(s, fields, &Needle::new(needle))?.into_vec())
}

/// The intersection of ascending id lists, shortest first (each merge is
/// one pass over both); `None` for no lists.
pub(crate) fn intersect(mut lists: Vec<Vec<u64>>) -> Option<Vec<u64>> {
    if lists.is_empty() {
        return None;
    }
    lists.sort_by_key(Vec::len);
    let mut out = lists.remove(0);
    for list in &lists {
        let mut other = list.iter().peekable();
        out.retain(|id| {
            while other.next_if(|o| *o < id).is_some() {}
            other.peek() == Some(&id)
        });
    }
    Some(out)
}

/// Whether a user with this username and email holds the folded `needle`
/// in field [`Field::Q`] (what [`texts`] makes of them).
pub(crate) fn q_holds(username: &str, email: &str, needle: &str) -> bool {
    fold(username).contains(needle) || fold(email).contains(needle)
}

/// Every posting the users should have (all of them merged).
pub(crate) fn expected<'a>(users: impl Iterator<Item = &'a User>) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut sets: BTreeMap<Vec<u8>, Lows> = BTreeMap::new();
    for user in users {
        for (field, gram) in all_grams(user) {
            sets.entry(key(field, gram.as_str(), user.id >> SHIFT))
                .or_default()
                .set((user.id & LOW) as u16, true);
        }
    }
    sets.into_iter()
        .map(|(k, lows)| (k, lows.encode()))
        .collect()
}

/// Whether the index agrees with `users` (the integrity check): each
/// unmerged row names a user and holds its texts, and the postings are
/// those of every other user.
///
/// One block of ids at a time: a block's postings are all of its keys, so
/// each is looked up and compared, and the table holds no other row when
/// its length is the sum of theirs. Only one block's postings are built at
/// once (all of them at once took 100 MB of a 100,000-user store's check).
pub(crate) fn agrees(s: &Snapshot<'_>, users: &BTreeMap<u64, &User>) -> Result<bool> {
    let unmerged = s.rows(UNMERGED)?;
    for (id, bytes) in &unmerged {
        match users.get(id) {
            Some(user) if *bytes == encode_texts(&folded(user)) => {}
            _ => return Ok(false),
        }
    }
    let mut merged = users
        .values()
        .copied()
        .filter(|u| unmerged.binary_search_by_key(&u.id, |(id, _)| *id).is_err())
        .peekable();
    let mut rows = 0u64;
    while let Some(block) = merged.peek().map(|u| u.id >> SHIFT) {
        let mut of_block = Vec::new();
        while let Some(user) = merged.next_if(|u| u.id >> SHIFT == block) {
            of_block.push(user);
        }
        let wanted: Vec<(Vec<u8>, Vec<u8>)> = expected(of_block.into_iter()).into_iter().collect();
        let keys: Vec<&[u8]> = wanted.iter().map(|(k, _)| k.as_slice()).collect();
        let mut same = 0usize;
        s.get_many_with(GRAMS, &keys, &mut |i, stored| {
            if stored == wanted[i].1.as_slice() {
                same += 1;
            }
            Ok(())
        })?;
        if same != wanted.len() {
            return Ok(false);
        }
        rows += wanted.len() as u64;
    }
    Ok(s.len(GRAMS)? == rows)
}

/// Rebuilds the whole index from the stored users (format 6's migration),
/// one block of ids at a time: a block's postings are all of its keys, so
/// only one block's users and postings are in memory (a million users
/// would otherwise hold every posting at once).
pub(crate) fn build(txn: &Txn<'_>) -> Result<()> {
    txn.clear(GRAMS)?;
    txn.clear(UNMERGED)?;
    let mut from = 0;
    loop {
        // The first block from `from` that holds a user.
        let mut first = None;
        txn.scan_keys(USERS, Bound::Included(&from), Bound::Unbounded, |id| {
            first = Some(id);
            Ok(false)
        })?;
        let Some(first) = first else {
            return Ok(());
        };
        let block = first >> SHIFT;
        let end = (block + 1).saturating_mul(1 << SHIFT);
        let users: Vec<User> = super::read::records_within(
            txn,
            USERS,
            Bound::Included(&first),
            Bound::Excluded(&end),
        )?;
        for (k, value) in expected(users.iter()) {
            txn.put(GRAMS, k.as_slice(), value.as_slice())?;
        }
        if end == u64::MAX {
            return Ok(());
        }
        from = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grams_are_padded_so_short_needles_keep_substring_meaning() {
        let grams: Vec<String> = grams_of(&["ravi"])
            .iter()
            .map(|g| g.as_str().to_string())
            .collect();
        assert_eq!(grams, ["avi\0", "i\0\0\0", "ravi", "vi\0\0"]);
        // "v" is inside "ravi": a gram starts with it.
        assert!(grams.iter().any(|g| g.starts_with('v')));
        // Wide characters fit: four of four bytes each.
        let wide = grams_of(&["𝔞𝔟𝔠𝔡𝔢"]);
        assert_eq!(wide[0].as_str(), "𝔞𝔟𝔠𝔡");
        assert!(grams_of(&[""]).is_empty());
    }

    #[test]
    fn a_needle_is_cut_once_into_distinct_inline_pieces() {
        let n = Needle::new("ravi");
        assert!(n.pieces.is_empty() && !n.none);
        let n = Needle::new("aaaaaaab");
        let pieces: Vec<&str> = n.pieces.iter().map(Gram::as_str).collect();
        assert_eq!(pieces, ["aaaa", "aaab"]);
        assert!(Needle::new("").none);
        assert!(Needle::new("ra\0vi").none);
        let mut ids = IdSet::default();
        ids.extend([4097, 3, 3]);
        let mut all = IdSet::default();
        all.union_with(&ids);
        all.extend([1]);
        assert_eq!(all.into_vec(), [1, 3, 4097]);
        assert_eq!(ids.into_vec(), [3, 4097]);
    }

    /// A stored value holding `ids` (all in one block).
    fn value(ids: &[u16]) -> Vec<u8> {
        ids.iter().copied().collect::<Lows>().encode()
    }

    #[test]
    fn id_sets_read_lists_and_bitmaps_and_combine_word_by_word() {
        let mut a = IdSet::default();
        a.add(0, &value(&[1, 5, 4095])).unwrap();
        let many: Vec<u16> = (0..300).map(|n| n * 7).collect();
        a.add(2, &value(&many)).unwrap();
        assert_eq!(a.len(), 3 + 300);
        let mut b = IdSet::default();
        b.add(0, &value(&[5, 6])).unwrap();
        b.add(1, &value(&[9])).unwrap();
        let mut union = a.clone();
        union.union(b.clone());
        let ids = union.into_vec();
        assert_eq!(&ids[..5], &[1, 5, 6, 4095, 4096 + 9]);
        assert_eq!(ids[5], 2 * 4096);
        assert_eq!(ids.len(), 3 + 300 + 2);
        a.intersect(&b);
        assert_eq!(a.into_vec(), [5]);
        // A malformed value is refused, not read.
        assert_eq!(IdSet::default().add(0, &[0, 1]), None);
        assert_eq!(IdSet::default().add(0, &[1, 0]), None);
        // So is a list out of order, or naming a low twice, or one past
        // a block's 4,096 (each alone: the first low has nothing before
        // it).
        for list in [&[5u16, 3][..], &[3, 3], &[4096], &[1, 4096], &[u16::MAX]] {
            let bytes: Vec<u8> = std::iter::once(0)
                .chain(list.iter().flat_map(|l| l.to_be_bytes()))
                .collect();
            assert_eq!(IdSet::default().add(0, &bytes), None, "{list:?}");
            assert_eq!(Lows::decode(&bytes), None, "{list:?}");
        }
    }

    /// A user of id `id` whose first name is `first`.
    fn user(id: u64, first: &str) -> User {
        let mut u = User::blank(id, &format!("user{id}"));
        u.uuid = u128::from(id);
        u.profile.first_name = first.to_string();
        u
    }

    /// The ids waiting unmerged in `store`.
    fn unmerged(store: &crate::store::Store) -> Vec<u64> {
        let rows = store.reading(|s| s.rows(UNMERGED)).unwrap();
        rows.into_iter().map(|(id, _)| id).collect()
    }

    /// Whether the index of `store` agrees with its users.
    fn agreeing(store: &crate::store::Store) -> bool {
        store
            .reading(|s| {
                let users: BTreeMap<u64, User> = crate::store::read::records_within(
                    s,
                    USERS,
                    Bound::Unbounded,
                    Bound::Unbounded,
                )?
                .into_iter()
                .map(|u: User| (u.id, u))
                .collect();
                agrees(s, &users.iter().map(|(id, u)| (*id, u)).collect())
            })
            .unwrap()
    }

    /// The ids whose first name holds `needle`, and whether the index
    /// agrees with the users.
    fn search(store: &crate::store::Store, needle: &str) -> (Vec<u64>, bool) {
        let found = store
            .reading(|s| candidates(s, Field::FirstName, needle))
            .unwrap();
        (found, agreeing(store))
    }

    #[test]
    fn the_index_is_rebuilt_block_by_block_as_writes_keep_it() {
        use crate::store::{Store, write};
        let store = Store::in_memory().unwrap();
        let ids = [1, 4095, 4096, 9000, 1 << 30, (1 << 30) + 1];
        let users: Vec<User> = ids
            .iter()
            .map(|&id| user(id, &format!("Ravi{}", id % 7)))
            .collect();
        store
            .write(|txn| {
                for u in &users {
                    write::put_user(txn, None, u)?;
                }
                Ok(())
            })
            .unwrap();
        // 4,095 ends its group of ids (4,032-4,095): merged at once; 1's
        // group never ended.
        assert_eq!(unmerged(&store), [1, 4096, 9000, 1 << 30, (1 << 30) + 1]);
        assert_eq!(search(&store, "ravi"), (ids.to_vec(), true));
        // A rebuild indexes every user, the waiting ones included.
        store.write(build).unwrap();
        assert!(unmerged(&store).is_empty());
        assert_eq!(search(&store, "ravi"), (ids.to_vec(), true));
        let rebuilt = store.reading(|s| s.rows(GRAMS)).unwrap();
        let wanted: Vec<(Vec<u8>, Vec<u8>)> = expected(users.iter()).into_iter().collect();
        assert_eq!(rebuilt, wanted);
        // As the writes keep it: the postings merged from waiting users
        // are those a rebuild makes.
        store
            .write(|txn| write::delete_user(txn, &users[5]))
            .unwrap();
        store
            .write(|txn| write::put_user(txn, None, &users[5]))
            .unwrap();
        assert_eq!(unmerged(&store), [(1 << 30) + 1]);
        store.write(merge_all).unwrap();
        assert_eq!(store.reading(|s| s.rows(GRAMS)).unwrap(), wanted);
    }

    #[test]
    fn the_daily_purge_merges_every_waiting_user() {
        use crate::store::{Store, write};
        let store = Store::in_memory().unwrap();
        for id in [3, 70] {
            store
                .write(|txn| write::put_user(txn, None, &user(id, "Asha")))
                .unwrap();
        }
        assert_eq!(unmerged(&store), [3, 70]);
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        store.write(|txn| write::purge_expired(txn, today)).unwrap();
        assert!(unmerged(&store).is_empty());
        assert_eq!(search(&store, "sha"), (vec![3, 70], true));
    }

    #[test]
    fn where_several_processes_write_groups_are_larger() {
        use crate::store::{Store, write};
        // A server's store: several processes write it.
        let store = Store::on(std::sync::Arc::new(crate::store::model::Served::default())).unwrap();
        let put = |id: u64| {
            store
                .write(|txn| write::put_user(txn, None, &user(id, "Asha")))
                .unwrap();
        };
        // The end of a store file's group merges nothing here.
        for id in [1, GROUP - 1, GROUP, SHARED_GROUP - 2] {
            put(id);
        }
        assert_eq!(unmerged(&store), [1, GROUP - 1, GROUP, SHARED_GROUP - 2]);
        put(SHARED_GROUP - 1);
        assert!(unmerged(&store).is_empty());
        assert_eq!(search(&store, "sha").0.len(), 5);
        assert!(agreeing(&store));
    }

    #[test]
    fn new_users_wait_unmerged_until_their_group_of_ids_ends() {
        use crate::store::{Store, write};
        let store = Store::in_memory().unwrap();
        // Ids 1 to GROUP - 2, of the first group (0 to GROUP - 1).
        for id in 1..GROUP - 1 {
            store
                .write(|txn| write::put_user(txn, None, &user(id, "Asha")))
                .unwrap();
        }
        assert_eq!(unmerged(&store), (1..GROUP - 1).collect::<Vec<u64>>());
        assert!(store.reading(|s| s.rows(GRAMS)).unwrap().is_empty());
        let (found, agrees) = search(&store, "sha");
        assert_eq!((found.len() as u64, agrees), (GROUP - 2, true));
        store
            .write(|txn| write::put_user(txn, None, &user(GROUP - 1, "Asha")))
            .unwrap();
        assert!(unmerged(&store).is_empty());
        let all: Vec<u64> = (1..GROUP).collect();
        assert_eq!(search(&store, "sha"), (all.clone(), true));
        // A longer needle is answered the same way from either side.
        assert_eq!(search(&store, "asha"), (all, true));
        store
            .write(|txn| write::put_user(txn, None, &user(GROUP, "Asha")))
            .unwrap();
        assert_eq!(unmerged(&store), [GROUP]);
        assert_eq!(search(&store, "ash").0.len() as u64, GROUP);
        // A group merges its own users only: one whose last id never came
        // keeps its users waiting (for the daily purge).
        let later = 3 * GROUP - 1;
        store
            .write(|txn| write::put_user(txn, None, &user(later, "Asha")))
            .unwrap();
        assert_eq!(unmerged(&store), [GROUP]);
        let (found, agrees) = search(&store, "ash");
        assert_eq!((found.len() as u64, agrees), (GROUP + 1, true));
    }

    #[test]
    fn a_write_that_ends_two_groups_merges_both() {
        use crate::store::{Store, write};
        let store = Store::in_memory().unwrap();
        let early: Vec<User> = (1..=5).map(|id| user(id, "Asha")).collect();
        let ends: Vec<User> = [GROUP - 1, 2 * GROUP - 1, 2 * GROUP + 2]
            .map(|id| user(id, "Asha"))
            .to_vec();
        for users in [&early, &ends] {
            store
                .write(|txn| {
                    txn.defer_search_index();
                    write::put_new_users(txn, users)
                })
                .unwrap();
        }
        assert_eq!(unmerged(&store), [2 * GROUP + 2]);
        let (found, agrees) = search(&store, "sha");
        assert_eq!((found.len(), agrees), (8, true));
    }

    #[test]
    fn an_unmerged_user_changed_or_deleted_changes_its_row() {
        use crate::store::{Store, write};
        let store = Store::in_memory().unwrap();
        let (asha, ravi) = (user(5, "Asha"), user(5, "Ravi"));
        store
            .write(|txn| write::put_user(txn, None, &asha))
            .unwrap();
        store
            .write(|txn| write::put_user(txn, Some(&asha), &ravi))
            .unwrap();
        assert_eq!(unmerged(&store), [5]);
        assert_eq!(search(&store, "asha"), (vec![], true));
        assert_eq!(search(&store, "avi"), (vec![5], true));
        store.write(|txn| write::delete_user(txn, &ravi)).unwrap();
        assert!(unmerged(&store).is_empty());
        assert_eq!(search(&store, "avi"), (vec![], true));
        assert!(store.reading(|s| s.rows(GRAMS)).unwrap().is_empty());
    }

    #[test]
    fn searches_agree_with_a_plain_model_through_many_merges() {
        use crate::store::{Store, write};
        let store = Store::in_memory().unwrap();
        // id -> first name, as a plain map.
        let mut model: BTreeMap<u64, String> = BTreeMap::new();
        let names = ["Asha", "Ravi", "Mina", "Arun", "Sam", "Ravindra"];
        let needles = ["a", "ra", "avi", "sha", "ravin", "min", "x"];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut id = 0u64;
        for step in 0..1500 {
            let r = next();
            let name = names[(r >> 8) as usize % names.len()];
            match r % 10 {
                // A create; now and then ids a stopped process abandoned.
                0..=3 => {
                    id += 1 + u64::from(r % 97 == 0) * (r >> 20) % 80;
                    store
                        .write(|txn| write::put_user(txn, None, &user(id, name)))
                        .unwrap();
                    model.insert(id, name.to_string());
                }
                // A write of a few or of many users at once.
                4 => {
                    let n = if r % 3 == 0 {
                        FEW + 4
                    } else {
                        1 + (r >> 12) as usize % FEW
                    };
                    let users: Vec<User> = (1..=n as u64).map(|k| user(id + k, name)).collect();
                    id += n as u64;
                    store
                        .write(|txn| {
                            txn.defer_search_index();
                            write::put_new_users(txn, &users)
                        })
                        .unwrap();
                    for u in &users {
                        model.insert(u.id, name.to_string());
                    }
                }
                // A rename or a deletion of someone.
                5 | 6 => {
                    let Some((&who, old)) =
                        model.iter().nth((r >> 16) as usize % model.len().max(1))
                    else {
                        continue;
                    };
                    let before = user(who, old);
                    if r % 10 == 5 {
                        let after = user(who, name);
                        store
                            .write(|txn| write::put_user(txn, Some(&before), &after))
                            .unwrap();
                        model.insert(who, name.to_string());
                    } else {
                        store.write(|txn| write::delete_user(txn, &before)).unwrap();
                        model.remove(&who);
                    }
                }
                _ => {
                    let needle = needles[(r >> 24) as usize % needles.len()];
                    let found = store
                        .reading(|s| candidates(s, Field::FirstName, needle))
                        .unwrap();
                    let holding: Vec<u64> = model
                        .iter()
                        .filter(|(_, n)| fold(n).contains(needle))
                        .map(|(id, _)| *id)
                        .collect();
                    match exact(needle) {
                        true => assert_eq!(found, holding, "step {step}: {needle}"),
                        false => assert!(
                            holding.iter().all(|h| found.contains(h)),
                            "step {step}: {needle}"
                        ),
                    }
                }
            }
            if step % 100 == 99 {
                assert!(agreeing(&store), "step {step}");
                // A group's end merges its group: with few ids skipped,
                // fewer than two groups' users ever wait.
                let waiting = unmerged(&store);
                assert!(
                    waiting.len() < 2 * GROUP as usize,
                    "step {step}: {waiting:?}"
                );
            }
        }
        assert!(agreeing(&store));
    }

    #[test]
    fn a_write_of_few_users_leaves_them_unmerged_and_of_many_merges_all() {
        use crate::store::{Store, write};
        let store = Store::in_memory().unwrap();
        let few: Vec<User> = (1..=FEW as u64).map(|id| user(id, "Mina")).collect();
        store
            .write(|txn| {
                txn.defer_search_index();
                write::put_new_users(txn, &few)
            })
            .unwrap();
        assert_eq!(unmerged(&store).len(), FEW);
        assert_eq!(search(&store, "min").0.len(), FEW);
        let start = FEW as u64 + 1;
        let many: Vec<User> = (start..start + FEW as u64 + 1)
            .map(|id| user(id, "Mina"))
            .collect();
        store
            .write(|txn| {
                txn.defer_search_index();
                write::put_new_users(txn, &many)
            })
            .unwrap();
        assert!(unmerged(&store).is_empty());
        let (found, agrees) = search(&store, "mina");
        assert_eq!((found.len(), agrees), (2 * FEW + 1, true));
    }

    /// A store with search rows but no users is not empty for a restore:
    /// its check does not compare the index it builds, which would take
    /// the leftover rows in.
    #[test]
    fn leftover_search_rows_keep_a_store_from_counting_as_empty() {
        use crate::store::{Store, read};
        let store = Store::in_memory().unwrap();
        let empty = |store: &Store| store.reading(read::holds_no_records).unwrap();
        assert!(empty(&store));
        let asha = encode_texts(&folded(&user(5, "Asha")));
        for (table, key) in [
            (GRAMS.name, key(Field::FirstName, "asha", 0)),
            (UNMERGED.name, 5u64.to_be_bytes().to_vec()),
        ] {
            store.write(|txn| txn.w.put(table, &key, &asha)).unwrap();
            assert!(!empty(&store), "{table}");
            store
                .write(|txn| {
                    txn.clear(GRAMS)?;
                    txn.clear(UNMERGED)
                })
                .unwrap();
            assert!(empty(&store));
        }
    }

    /// The check compares one block of ids at a time: a posting missing,
    /// changed or added, in a block of users or in one without, is found.
    #[test]
    fn the_check_finds_every_posting_that_disagrees_with_the_users() {
        use crate::store::{Store, write};
        let store = Store::in_memory().unwrap();
        // Users in blocks 0 and 2, none in block 1.
        let users = [user(5, "Asha"), user(9000, "Ravi"), user(9001, "Mina")];
        store
            .write(|txn| {
                for u in &users {
                    write::put_user(txn, None, u)?;
                }
                build(txn)
            })
            .unwrap();
        assert!(unmerged(&store).is_empty());
        assert!(agreeing(&store));
        let posting = key(Field::FirstName, "asha", 0);
        let stored = store
            .reading(|s| s.get(GRAMS, posting.as_slice()))
            .unwrap()
            .expect("Asha's posting");
        let mut flipped = stored.clone();
        *flipped.last_mut().unwrap() ^= 1;
        let damage: [(Vec<u8>, Option<Vec<u8>>); 4] = [
            (posting.clone(), None),
            (posting.clone(), Some(flipped)),
            (key(Field::FirstName, "zzzz", 1), Some(stored.clone())),
            (key(Field::FirstName, "zzzz", 2), Some(stored.clone())),
        ];
        for (k, value) in damage {
            store
                .write(|txn| match &value {
                    Some(v) => txn.put(GRAMS, k.as_slice(), v.as_slice()),
                    None => txn.delete(GRAMS, k.as_slice()).map(drop),
                })
                .unwrap();
            assert!(!agreeing(&store), "{k:?} {value:?}");
            store.write(build).unwrap();
            assert!(agreeing(&store));
        }
    }

    #[test]
    fn the_check_finds_unmerged_rows_that_disagree_with_their_users() {
        use crate::store::{Store, write};
        let store = Store::in_memory().unwrap();
        let asha = user(5, "Asha");
        store
            .write(|txn| write::put_user(txn, None, &asha))
            .unwrap();
        assert!(agreeing(&store));
        let other = encode_texts(&folded(&user(5, "Ravi")));
        for (id, bytes) in [(5, other.clone()), (6, other), (5, vec![0, 0, 0, 9])] {
            store
                .write(|txn| {
                    txn.put(UNMERGED, &5, encode_texts(&folded(&asha)).as_slice())?;
                    txn.put(UNMERGED, &id, bytes.as_slice())
                })
                .unwrap();
            assert!(!agreeing(&store), "{id} {bytes:?}");
            store
                .write(|txn| txn.delete(UNMERGED, &id).map(drop))
                .unwrap();
        }
        // A user both unmerged and in the postings.
        store.write(build).unwrap();
        store
            .write(|txn| txn.put(UNMERGED, &5, encode_texts(&folded(&asha)).as_slice()))
            .unwrap();
        assert!(!agreeing(&store));
        // A malformed row is an error of a search, not a panic.
        store
            .write(|txn| txn.put(UNMERGED, &5, [1u8].as_slice()))
            .unwrap();
        let err = store
            .reading(|s| candidates(s, Field::FirstName, "ash"))
            .unwrap_err();
        assert!(err.to_string().contains("grams_unmerged"), "{err}");
    }

    /// A posting key too short (or too long) to hold a gram and a block,
    /// met by a short needle's prefix scan, is damage: an error naming the
    /// index, not a panic or a block made of the gram's bytes.
    #[test]
    fn a_malformed_posting_key_is_damage() {
        use crate::store::Store;
        let field = Field::FirstName as u8;
        let mut long = vec![field];
        long.extend_from_slice(b"abcd");
        long.extend_from_slice(&[0; KEY_MAX - 4]);
        for key in [vec![field, b'a'], vec![field, b'a', b'b', 0, 0, 0, 0], long] {
            let store = Store::in_memory().unwrap();
            store
                .write(|txn| txn.put(GRAMS, key.as_slice(), [0u8, 0, 1].as_slice()))
                .unwrap();
            let err = store
                .reading(|s| candidates(s, Field::FirstName, "a"))
                .expect_err("damage");
            assert_eq!(err.code(), crate::error::ErrorCode::Corrupt, "{key:?}");
            assert!(err.to_string().contains("grams"), "{err}");
        }
        // The shortest and the longest sound keys are read.
        let store = Store::in_memory().unwrap();
        let mut longest = vec![field];
        longest.extend_from_slice("𝔞𝔟𝔠𝔡".as_bytes());
        longest.extend_from_slice(&2u64.to_be_bytes());
        let mut shortest = vec![field, b'a'];
        shortest.extend_from_slice(&0u64.to_be_bytes());
        assert_eq!(longest.len(), KEY_MAX);
        store
            .write(|txn| {
                txn.put(GRAMS, shortest.as_slice(), [0u8, 0, 1].as_slice())?;
                txn.put(GRAMS, longest.as_slice(), [0u8, 0, 2].as_slice())
            })
            .unwrap();
        let found = store
            .reading(|s| candidates(s, Field::FirstName, "a"))
            .unwrap();
        assert_eq!(found, [1]);
        let found = store
            .reading(|s| candidates(s, Field::FirstName, "𝔞"))
            .unwrap();
        assert_eq!(found, [(2 << SHIFT) | 2]);
    }

    #[test]
    fn a_posting_adds_and_removes_lows_in_order_once_each() {
        let mut lows: Lows = [9, 3, 3, 4095].into_iter().collect();
        assert_eq!(lows.0, [3, 9, 4095]);
        lows.set(5, true);
        lows.set(9, true);
        lows.set(0, true);
        lows.set(3, false);
        lows.set(7, false);
        assert_eq!(lows.0, [0, 5, 9, 4095]);
        assert_eq!(Lows::decode(&lows.encode()), Some(lows));
    }

    #[test]
    fn postings_are_a_list_or_a_bitmap_whichever_is_smaller() {
        let few: Lows = (0..MAX_LIST as u16).map(|n| n * 3).collect();
        let bytes = few.encode();
        assert_eq!(bytes.len(), 1 + 2 * MAX_LIST);
        assert_eq!(Lows::decode(&bytes), Some(few));
        let many: Lows = (0..=MAX_LIST as u16).chain([4095]).collect();
        let bytes = many.encode();
        assert_eq!(bytes.len(), 1 + BITMAP_BYTES);
        assert_eq!(Lows::decode(&bytes), Some(many));
        assert_eq!(Lows::decode(&[0, 1]), None);
        assert_eq!(Lows::decode(&[1, 0]), None);
        assert_eq!(Lows::decode(&[]), None);
    }
}
