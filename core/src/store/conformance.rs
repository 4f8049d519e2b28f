//! The backend-conformance suite: what every [`Backend`] must do, written
//! once and run against each backend by one line per backend
//! (`tests/tests/integration/backends.rs`; the PostgreSQL backend's crate
//! runs it the same way).
//!
//! Two levels: the raw contract of the trait (ordering, bounds, snapshots,
//! all-or-nothing writes, readers beside a writer), and the entity
//! functions of `store/` on top of it (every index consistent with its
//! records after each kind of write, rollback of a failed write, a write
//! closure run again giving the same result).

use super::backend::{Backend, Reader, Writer};
use super::tables::*;
use super::{Store, ids, integrity, read, write};
use crate::domain::user::User;
use crate::domain::{Batch, Subscription};
use crate::error::{Error, ErrorCode, Result};
use std::ops::Bound;
use std::sync::Arc;

/// Makes a new, empty backend each time it is called.
pub type Factory<'a> = &'a dyn Fn() -> Arc<dyn Backend>;

/// One check of the suite.
type Check = fn(Factory<'_>) -> Result<()>;
/// Every row of every table that has rows, by table name.
type Tables = Vec<(String, Vec<(Vec<u8>, Vec<u8>)>)>;

/// Runs every check against backends from `make`; panics naming the first
/// check that fails.
pub fn run(make: Factory<'_>) {
    let checks: [(&str, Check); 18] = [
        ("get, put, delete and len", basics),
        ("get of many keys at once", get_many),
        ("an entry and the row it names", follow),
        ("a read hint and a removal without an answer", read_hints),
        ("a hint to read tables whole", scan_hints),
        ("a hint to read key prefixes whole", prefix_hints),
        ("delete of many keys at once", delete_many),
        ("put of many rows at once", put_many),
        ("scans in order, both ways, with bounds", ordered_scans),
        (
            "long scans, as a read's first access, hinted or not",
            long_scans,
        ),
        ("prefix scans", prefix_scans),
        ("a failed write leaves nothing", raw_rollback),
        (
            "a snapshot is unchanged by a later write",
            snapshot_isolation,
        ),
        (
            "readers during a write see the last commit",
            readers_during_a_write,
        ),
        ("entity writes keep every index", entity_indexes),
        ("a failed entity write changes nothing", entity_rollback),
        ("a write run again gives the same result", rerun),
        ("ids are never reused", fresh_ids),
    ];
    for (name, check) in checks {
        if let Err(e) = check(make) {
            panic!("backend conformance: {name}: {e}");
        }
    }
}

fn fail(what: impl Into<String>) -> Error {
    Error::new(ErrorCode::Internal, what)
}

fn ensure(ok: bool, what: &str) -> Result<()> {
    if ok { Ok(()) } else { Err(fail(what)) }
}

fn rows(
    r: &dyn Reader,
    table: &str,
    lo: Bound<&[u8]>,
    hi: Bound<&[u8]>,
    rev: bool,
) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    r.scan(table, lo, hi, rev, &mut |k, _| {
        out.push(k.to_vec());
        Ok(true)
    })?;
    Ok(out)
}

fn read_all<T>(b: &dyn Backend, mut f: impl FnMut(&dyn Reader) -> Result<T>) -> Result<T> {
    let mut out = None;
    b.read(&mut |r| {
        out = Some(f(r)?);
        Ok(())
    })?;
    out.ok_or_else(|| fail("the read did not run"))
}

fn write_all(b: &dyn Backend, mut f: impl FnMut(&dyn Writer) -> Result<()>) -> Result<()> {
    b.write(&mut |w| f(w))
}

/// Runs the checks `f` in a write, then rolls it back: their failure is
/// the answer, and the write must not commit.
fn rolled_back(b: &dyn Backend, mut f: impl FnMut(&dyn Writer) -> Result<()>) -> Result<()> {
    let mut checked = Ok(());
    let rolled = write_all(b, |w| {
        checked = f(w);
        Err(fail("rolled back"))
    });
    checked?;
    ensure(rolled.is_err(), "the write rolls back")
}

fn basics(make: Factory<'_>) -> Result<()> {
    let b = make();
    let b = &*b;
    read_all(b, |r| {
        ensure(
            r.get("t", b"k")?.is_none(),
            "a missing table reads as empty",
        )?;
        ensure(
            !r.get_with("t", b"k", &mut |_| Err(fail("visited")))?,
            "get_with of a missing table visits nothing",
        )?;
        ensure(r.len("t")? == 0, "a missing table has no rows")
    })?;
    write_all(b, |w| {
        w.put("t", b"k", b"v1")?;
        w.put("t", b"k", b"v2")?;
        w.put("t", b"", b"empty key")?;
        w.put("u", b"k", b"")?;
        ensure(
            w.get("t", b"k")?.as_deref() == Some(&b"v2"[..]),
            "a write sees its own put",
        )?;
        ensure(
            lent(w, "t", b"k")? == Some(b"v2".to_vec()),
            "a write's get_with lends its own put",
        )?;
        ensure(w.delete("u", b"k")?, "delete says the key was there")?;
        ensure(!w.delete("u", b"k")?, "delete of a missing key says so")?;
        w.put("u", b"k", b"")
    })?;
    read_all(b, |r| {
        ensure(
            r.get("t", b"k")?.as_deref() == Some(&b"v2"[..]),
            "the last put wins",
        )?;
        ensure(
            r.get("t", b"")?.as_deref() == Some(&b"empty key"[..]),
            "an empty key is a key",
        )?;
        ensure(
            r.get("u", b"k")?.as_deref() == Some(&b""[..]),
            "an empty value is a value",
        )?;
        ensure(r.len("t")? == 2, "len counts rows")?;
        for key in [&b"k"[..], b"", b"nope"] {
            ensure(
                lent(r, "t", key)? == r.get("t", key)?,
                "get_with lends what get reads",
            )?;
        }
        ensure(
            lent(r, "u", b"k")? == Some(Vec::new()),
            "get_with lends an empty value",
        )?;
        let err = r.get_with("t", b"k", &mut |_| Err(fail("refused")));
        ensure(
            err.is_err_and(|e| e.to_string().contains("refused")),
            "get_with passes the visitor's error on",
        )?;
        let many = r.get_many("t", &[b"k", b"nope", b""])?;
        ensure(
            many == vec![Some(b"v2".to_vec()), None, Some(b"empty key".to_vec())],
            "get_many answers in the order asked",
        )?;
        let names = r.table_names()?;
        ensure(
            names.iter().any(|n| n == "t") && names.iter().any(|n| n == "u"),
            "table_names lists the tables written",
        )
    })
}

/// The value `get_with` lends under `key`, copied.
fn lent(r: &dyn Reader, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
    let mut out = None;
    let found = r.get_with(table, key, &mut |v| {
        out = Some(v.to_vec());
        Ok(())
    })?;
    ensure(found == out.is_some(), "get_with says whether it visited")?;
    Ok(out)
}

/// `get_and_follow` answers as two gets do: an entry and the row under
/// its bytes less `trim`, an entry too short for `trim`, a missing entry
/// or row, in a snapshot and in a write that changed them.
fn follow(make: Factory<'_>) -> Result<()> {
    let b = make();
    let b = &*b;
    write_all(b, |w| {
        w.put("i", b"ann", b"k1seal")?;
        w.put("i", b"bob", b"k9seal")?;
        w.put("i", b"cy", b"se")?;
        w.put("i", b"k1", b"k1")?;
        w.put("t", b"k1", b"record one")
    })?;
    let both = |a: &[u8], b: &[u8]| (Some(a.to_vec()), Some(b.to_vec()));
    let check = |r: &dyn Reader| -> Result<()> {
        ensure(
            r.get_and_follow("i", b"ann", "t", 4)? == both(b"k1seal", b"record one"),
            "an entry and its row",
        )?;
        ensure(
            r.get_and_follow("i", b"bob", "t", 4)? == (Some(b"k9seal".to_vec()), None),
            "an entry whose row is missing",
        )?;
        ensure(
            r.get_and_follow("i", b"cy", "t", 4)? == (Some(b"se".to_vec()), None),
            "an entry shorter than its seal",
        )?;
        ensure(
            r.get_and_follow("i", b"k1", "t", 0)? == both(b"k1", b"record one"),
            "nothing trimmed",
        )?;
        ensure(
            r.get_and_follow("i", b"dan", "t", 4)? == (None, None),
            "no entry",
        )
    };
    read_all(b, |r| check(r))?;
    rolled_back(b, |w| {
        check(w)?;
        w.put("t", b"k9", b"record nine")?;
        w.delete("t", b"k1")?;
        ensure(
            w.get_and_follow("i", b"bob", "t", 4)? == both(b"k9seal", b"record nine")
                && w.get_and_follow("i", b"ann", "t", 4)? == (Some(b"k1seal".to_vec()), None),
            "a write follows its own rows",
        )
    })?;
    read_all(b, |r| check(r))
}

/// What `get_many_with` lends under `keys`, copied, by the index it names;
/// each index visited once at most.
fn lent_many(r: &dyn Reader, table: &str, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
    let mut out = vec![None; keys.len()];
    let mut twice = false;
    r.get_many_with(table, keys, &mut |i, v| {
        twice |= out[i].replace(v.to_vec()).is_some();
        Ok(())
    })?;
    ensure(!twice, "get_many_with visits each key once")?;
    Ok(out)
}

/// `get_many` answers as `get` does, key by key, in the order asked (and
/// `get_many_with` lends the same values by the keys' indexes): keys
/// near each other and far apart, repeated, missing inside and outside the
/// table's range, with many longer keys sorting between two near ones, and
/// with the next table's rows right after the last key.
fn get_many(make: Factory<'_>) -> Result<()> {
    let b = make();
    let b = &*b;
    let id = |n: u64| n.to_be_bytes().to_vec();
    let stored: Vec<u64> = (1..=200).filter(|n| n % 7 != 0).collect();
    let longer: Vec<Vec<u8>> = (0u8..100).map(|i| [id(50), vec![i]].concat()).collect();
    write_all(b, |w| {
        for n in &stored {
            w.put("t", &id(*n), format!("v{n}").as_bytes())?;
        }
        for k in &longer {
            w.put("t", k, b"longer")?;
        }
        for n in 0..300 {
            w.put("u", &id(n), b"next table")?;
        }
        Ok(())
    })?;
    let asked: Vec<u64> = vec![
        5,
        3,
        4,
        4,
        7,
        50,
        52,
        51,
        0,
        1000,
        199,
        201,
        200,
        14,
        13,
        15,
        120,
        8,
        9,
        10,
        11,
        12,
        2,
        u64::MAX,
        1,
        6,
        49,
        56,
        63,
        64,
        62,
    ];
    let keys: Vec<Vec<u8>> = asked.iter().map(|&n| id(n)).collect();
    let slices: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
    let check = |r: &dyn Reader| -> Result<()> {
        ensure(r.get_many("t", &[])?.is_empty(), "no keys, no values")?;
        ensure(
            r.get_many("t", &[&id(3)])? == vec![Some(b"v3".to_vec())],
            "one key",
        )?;
        let many = r.get_many("t", &slices)?;
        ensure(many.len() == asked.len(), "a value or None per key asked")?;
        ensure(
            lent_many(r, "t", &slices)? == many,
            "get_many_with lends what get_many answers",
        )?;
        let err = r.get_many_with("t", &slices, &mut |_, _| Err(fail("refused")));
        ensure(
            err.is_err_and(|e| e.to_string().contains("refused")),
            "get_many_with passes the visitor's error on",
        )?;
        for ((n, key), got) in asked.iter().zip(&slices).zip(&many) {
            let want = stored.contains(n).then(|| format!("v{n}").into_bytes());
            ensure(*got == want, &format!("get_many's value of {n}"))?;
            ensure(
                *got == r.get("t", key)?,
                &format!("get_many and get agree on {n}"),
            )?;
        }
        let (k51, k50) = (id(51), id(50));
        let shuffled: Vec<&[u8]> = vec![&longer[7], &k51, &longer[99], &k50];
        ensure(
            r.get_many("t", &shuffled)?
                == vec![
                    Some(b"longer".to_vec()),
                    Some(b"v51".to_vec()),
                    Some(b"longer".to_vec()),
                    Some(b"v50".to_vec()),
                ],
            "keys of other lengths among near ones",
        )?;
        ensure(
            lent_many(r, "t", &shuffled)? == r.get_many("t", &shuffled)?,
            "get_many_with among keys of other lengths",
        )?;
        ensure(
            r.get_many("none", &slices)? == vec![None; slices.len()]
                && lent_many(r, "none", &slices)? == vec![None; slices.len()],
            "a table that does not exist has no values",
        )
    };
    read_all(b, |r| check(r))?;
    write_all(b, |w| {
        w.put("t", &id(4), b"written")?;
        ensure(
            w.get_many("t", &[&id(5), &id(4), &id(3)])?
                == vec![
                    Some(b"v5".to_vec()),
                    Some(b"written".to_vec()),
                    Some(b"v3".to_vec()),
                ],
            "get_many in a write sees its own rows",
        )?;
        w.put("t", &id(4), b"v4")?;
        check(w)
    })?;
    // Pairs (16-byte keys, as memberships are): near within one first
    // member, far across two.
    let pair = |a: u64, b: u64| [id(a), id(b)].concat();
    write_all(b, |w| {
        for a in 1..=20u64 {
            for b in [1u64, 2, 5, 9, 30] {
                if (a + b) % 4 != 0 {
                    w.put("p", &pair(a, b), format!("{a}:{b}").as_bytes())?;
                }
            }
        }
        Ok(())
    })?;
    let asked: Vec<(u64, u64)> = vec![
        (3, 5),
        (3, 1),
        (3, 2),
        (3, 9),
        (4, 1),
        (3, 30),
        (5, 9),
        (6, 1),
        (6, 2),
        (20, 30),
        (21, 1),
        (0, 9),
        (7, 1),
        (7, 9),
        (7, 5),
        (7, 2),
    ];
    let keys: Vec<Vec<u8>> = asked.iter().map(|&(a, b)| pair(a, b)).collect();
    let slices: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
    read_all(b, |r| {
        let many = r.get_many("p", &slices)?;
        for ((&(a, c), key), got) in asked.iter().zip(&slices).zip(&many) {
            let want = ((1..=20).contains(&a) && [1, 2, 5, 9, 30].contains(&c) && (a + c) % 4 != 0)
                .then(|| format!("{a}:{c}").into_bytes());
            ensure(*got == want, &format!("get_many's value of ({a}, {c})"))?;
            ensure(
                *got == r.get("p", key)?,
                &format!("get_many and get agree on ({a}, {c})"),
            )?;
        }
        ensure(
            lent_many(r, "p", &slices)? == many,
            "get_many_with lends what get_many answers, of pairs",
        )
    })
}

fn read_hints(make: Factory<'_>) -> Result<()> {
    let b = make();
    let b = &*b;
    let id = |n: u64| n.to_be_bytes().to_vec();
    write_all(b, |w| {
        (1..=9).try_for_each(|n| w.put("t", &id(n), format!("v{n}").as_bytes()))
    })?;
    write_all(b, |w| {
        // Hinted after this write's own changes, and before later ones:
        // every read answers as without the hint.
        w.put("t", &id(4), b"written")?;
        w.delete("t", &id(5))?;
        let keys: Vec<Vec<u8>> = [3, 4, 5, 10, 3].iter().map(|&n| id(n)).collect();
        let keys: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        let hint = |table| keys.iter().map(move |k| (table, *k));
        w.will_read(&hint("t").collect::<Vec<_>>())?;
        w.will_read(&hint("none").chain(hint("t")).collect::<Vec<_>>())?;
        w.will_read(&[])?;
        let want = |v: &[u8]| Some(v.to_vec());
        ensure(w.get("t", &id(3))? == want(b"v3"), "a hinted key")?;
        ensure(
            w.get("t", &id(4))? == want(b"written"),
            "a key written before its hint",
        )?;
        ensure(
            w.get("t", &id(5))?.is_none(),
            "a key deleted before its hint",
        )?;
        ensure(
            w.get("t", &id(10))?.is_none(),
            "a hinted key that is not there",
        )?;
        ensure(
            w.get("none", &id(3))?.is_none(),
            "a hinted table that does not exist",
        )?;
        w.put("t", &id(3), b"after")?;
        w.remove("t", &id(4))?;
        w.put("t", &id(10), b"new")?;
        // Removed without asking: a row there, one not there, one written
        // by this write.
        w.remove("t", &id(6))?;
        w.remove("t", &id(11))?;
        w.put("t", &id(12), b"brief")?;
        w.remove("t", &id(12))?;
        ensure(
            w.get("t", &id(6))?.is_none() && w.get("t", &id(12))?.is_none(),
            "a removed key reads as absent",
        )?;
        ensure(
            w.get_many("t", &keys)?
                == vec![want(b"after"), None, None, want(b"new"), want(b"after")],
            "writes after a hint are read back",
        )
    })?;
    read_all(b, |r| {
        let all = rows(r, "t", Bound::Unbounded, Bound::Unbounded, false)?;
        let want: Vec<Vec<u8>> = [1, 2, 3, 7, 8, 9, 10].iter().map(|&n| id(n)).collect();
        ensure(all == want, "a hinted write commits what it wrote")?;
        ensure(r.len("none")? == 0, "a hint makes no table")
    })
}

fn scan_hints(make: Factory<'_>) -> Result<()> {
    let b = make();
    let b = &*b;
    let id = |n: u64| n.to_be_bytes().to_vec();
    let ids = |ns: &[u64]| ns.iter().map(|&n| id(n)).collect::<Vec<_>>();
    write_all(b, |w| {
        (1..=5).try_for_each(|n| w.put("w", &id(n), format!("v{n}").as_bytes()))?;
        w.put("t", &id(1), b"t1")
    })?;
    write_all(b, |w| {
        // A write held before the hints, which then begin the write.
        w.put("w", &id(8), b"early")?;
        w.will_scan(&["w", "none", "not a 'name'"])?;
        w.will_read(&[("t", &id(1)), ("w", &id(2))])?;
        let all = |w: &dyn Writer, rev| rows(w, "w", Bound::Unbounded, Bound::Unbounded, rev);
        ensure(
            all(w, false)? == ids(&[1, 2, 3, 4, 5, 8]),
            "a table read whole",
        )?;
        ensure(w.get("t", &id(1))? == Some(b"t1".to_vec()), "a hinted key")?;
        ensure(w.get("w", &id(9))?.is_none(), "a key the table lacks")?;
        ensure(
            rows(w, "none", Bound::Unbounded, Bound::Unbounded, false)?.is_empty(),
            "a table that does not exist, read whole",
        )?;
        w.put("w", &id(6), b"six")?;
        ensure(w.delete("w", &id(2))?, "a delete of a row there")?;
        ensure(!w.delete("w", &id(7))?, "a delete of a row not there")?;
        w.remove("w", &id(3))?;
        ensure(
            all(w, false)? == ids(&[1, 4, 5, 6, 8]) && all(w, true)? == ids(&[8, 6, 5, 4, 1]),
            "the write's own changes, both ways",
        )?;
        let two = rows(
            w,
            "w",
            Bound::Included(&id(2)),
            Bound::Excluded(&id(6)),
            false,
        )?;
        ensure(two == ids(&[4, 5]), "a bounded scan")?;
        let keys = ids(&[1, 2, 6]);
        let keys: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        ensure(
            w.get_many("w", &keys)? == vec![Some(b"v1".to_vec()), None, Some(b"six".to_vec())],
            "keys of a table read whole",
        )?;
        ensure(w.len("w")? == 5, "its length")
    })?;
    read_all(b, |r| {
        let all = rows(r, "w", Bound::Unbounded, Bound::Unbounded, false)?;
        ensure(
            all == ids(&[1, 4, 5, 6, 8]),
            "the write commits what it wrote",
        )
    })
}

/// Pairs keyed (a, b): the hint names the rows of one `a`, in a write
/// begun before it and in one it begins; scans within the prefix and past
/// it, both ways, with the write's changes laid over them.
fn prefix_hints(make: Factory<'_>) -> Result<()> {
    let b = make();
    let b = &*b;
    let key = |a: u8, n: u8| vec![a, n];
    write_all(b, |w| {
        for a in [1u8, 2, 3, 0xff] {
            (1..=3).try_for_each(|n| w.put("p", &key(a, n), &[a, n]))?;
        }
        w.put("q", &key(2, 1), b"q")
    })?;
    for begun in [false, true] {
        rolled_back(b, |w| hinted_prefixes(w, begun))?;
    }
    read_all(b, |r| {
        ensure(
            rows(r, "p", Bound::Unbounded, Bound::Unbounded, false)?.len() == 12,
            "a write rolled back leaves the rows as they were",
        )
    })
}

/// [`prefix_hints`]' checks inside one write (`begun` by a read before the
/// hint, or begun by it).
fn hinted_prefixes(w: &dyn Writer, begun: bool) -> Result<()> {
    let key = |a: u8, n: u8| vec![a, n];
    let keys = |ks: &[(u8, u8)]| ks.iter().map(|&(a, n)| key(a, n)).collect::<Vec<_>>();
    if begun {
        ensure(w.get("q", &key(2, 1))?.is_some(), "a read begins it")?;
    }
    // A write held before the hint.
    w.put("p", &key(2, 9), b"early")?;
    w.will_scan_prefixes(&[("p", &[2]), ("p", &[0xff]), ("not a 'name'", &[1])])?;
    w.will_read(&[("q", &key(2, 1))])?;
    let scan = |lower: Bound<&[u8]>, upper: Bound<&[u8]>, rev| rows(w, "p", lower, upper, rev);
    let (two, three) = ([2u8], [3u8]);
    ensure(
        scan(Bound::Included(&two), Bound::Excluded(&three), false)?
            == keys(&[(2, 1), (2, 2), (2, 3), (2, 9)]),
        "the rows under a prefix",
    )?;
    ensure(
        scan(Bound::Included(&[0xff]), Bound::Unbounded, true)?
            == keys(&[(0xff, 3), (0xff, 2), (0xff, 1)]),
        "the rows under a last prefix, backwards",
    )?;
    ensure(w.get("p", &key(2, 7))?.is_none(), "a key the prefix lacks")?;
    ensure(w.delete("p", &key(2, 2))?, "a delete of a row there")?;
    ensure(!w.delete("p", &key(2, 8))?, "a delete of a row not there")?;
    w.put("p", &key(2, 5), b"five")?;
    ensure(
        scan(Bound::Included(&two), Bound::Excluded(&three), true)?
            == keys(&[(2, 9), (2, 5), (2, 3), (2, 1)]),
        "the write's own changes, backwards",
    )?;
    // Past the prefix: the rows around it too.
    ensure(
        scan(
            Bound::Included(&key(1, 3)),
            Bound::Included(&key(3, 1)),
            false,
        )? == keys(&[(1, 3), (2, 1), (2, 3), (2, 5), (2, 9), (3, 1)]),
        "a scan past the prefix",
    )?;
    ensure(
        scan(Bound::Excluded(&key(2, 1)), Bound::Unbounded, false)?
            == keys(&[(2, 3), (2, 5), (2, 9), (3, 1), (3, 2), (3, 3)])
                .into_iter()
                .chain(keys(&[(0xff, 1), (0xff, 2), (0xff, 3)]))
                .collect::<Vec<_>>(),
        "a scan from within the prefix past its end",
    )?;
    ensure(
        scan(Bound::Unbounded, Bound::Unbounded, false)?.len() == 13,
        "every row",
    )
}

fn delete_many(make: Factory<'_>) -> Result<()> {
    let b = make();
    let b = &*b;
    // Keys to remove close together (every 3rd row, then every 2nd) and
    // far apart (every 20th), so that a backend that removes close keys in
    // one pass and far ones one by one does both in one call, among keys
    // that stay, with neighbours in other tables.
    write_all(b, |w| {
        for n in 0u16..6000 {
            w.put("t", &n.to_be_bytes(), b"v")?;
        }
        for n in 0u16..300 {
            w.put("s", &n.to_be_bytes(), b"v")?;
        }
        Ok(())
    })?;
    let doomed_at = |n: u16| match n {
        0..900 => n.is_multiple_of(3),
        900..4900 => n.is_multiple_of(20),
        4900..5500 => n.is_multiple_of(2),
        _ => n == 5999,
    };
    let doomed: Vec<[u8; 2]> = (0u16..6000)
        .rev()
        .filter(|&n| doomed_at(n))
        .map(u16::to_be_bytes)
        .collect();
    let mut keys: Vec<&[u8]> = doomed.iter().map(|k| &k[..]).collect();
    let missing = [6001u16.to_be_bytes(), 60000u16.to_be_bytes()];
    keys.extend(missing.iter().map(|k| &k[..]));
    keys.push(&doomed[0]);
    write_all(b, |w| {
        let n = w.delete_many("t", &keys)?;
        ensure(
            n == doomed.len() as u64,
            &format!("delete_many counts what it removed ({n})"),
        )?;
        ensure(
            w.delete_many("t", &[])? == 0 && w.delete_many("none", &keys)? == 0,
            "delete_many of nothing, or in a missing table, removes nothing",
        )
    })?;
    read_all(b, |r| {
        let left = rows(r, "t", Bound::Unbounded, Bound::Unbounded, false)?;
        let want: Vec<Vec<u8>> = (0u16..6000)
            .filter(|&n| !doomed_at(n))
            .map(|n| n.to_be_bytes().to_vec())
            .collect();
        ensure(left == want, "delete_many removes exactly its keys")?;
        ensure(r.len("s")? == 300, "delete_many leaves other tables alone")?;
        ensure(r.len("none")? == 0, "delete_many makes no table")
    })
}

fn put_many(make: Factory<'_>) -> Result<()> {
    let b = make();
    let b = &*b;
    write_all(b, |w| {
        w.put("t", b"b", b"old")?;
        w.put("s", b"a", b"other table")
    })?;
    let keys: Vec<[u8; 2]> = (0u16..300).rev().map(u16::to_be_bytes).collect();
    write_all(b, |w| {
        let mut rows: Vec<(&[u8], &[u8])> = keys.iter().map(|k| (&k[..], &b"v"[..])).collect();
        rows.push((b"b", b"new"));
        w.put_many("t", &rows)?;
        w.put_many("t", &[])?;
        ensure(
            w.get("t", b"b")?.as_deref() == Some(b"new"),
            "put_many replaces a value, and its rows are read back in the same write",
        )
    })?;
    read_all(b, |r| {
        ensure(r.len("t")? == 301, "put_many stores every row")?;
        let first = rows(r, "t", Bound::Unbounded, Bound::Unbounded, false)?;
        ensure(
            first.first().map(Vec::as_slice) == Some(&[0u8, 0][..]),
            "in key order",
        )?;
        ensure(
            r.get("s", b"a")?.as_deref() == Some(b"other table"),
            "put_many leaves other tables alone",
        )
    })
}

fn ordered_scans(make: Factory<'_>) -> Result<()> {
    let b = make();
    let b = &*b;
    let keys: [&[u8]; 6] = [b"", b"\x00", b"a", b"a\x00", b"ab", b"\xff\xff"];
    write_all(b, |w| {
        // Put in an order that is not the sorted one.
        for k in keys.iter().rev() {
            w.put("t", k, k)?;
        }
        Ok(())
    })?;
    let sorted: Vec<Vec<u8>> = keys.iter().map(|k| k.to_vec()).collect();
    read_all(b, |r| {
        let all = rows(r, "t", Bound::Unbounded, Bound::Unbounded, false)?;
        ensure(all == sorted, "keys ascend bytewise, shorter first")?;
        let mut desc = sorted.clone();
        desc.reverse();
        ensure(
            rows(r, "t", Bound::Unbounded, Bound::Unbounded, true)? == desc,
            "a reverse scan descends",
        )?;
        ensure(
            rows(r, "t", Bound::Included(b"a"), Bound::Excluded(b"ab"), false)?
                == vec![b"a".to_vec(), b"a\x00".to_vec()],
            "an included lower and excluded upper bound",
        )?;
        ensure(
            rows(r, "t", Bound::Excluded(b"a"), Bound::Included(b"ab"), true)?
                == vec![b"ab".to_vec(), b"a\x00".to_vec()],
            "an excluded lower and included upper bound, reversed",
        )?;
        ensure(
            rows(r, "t", Bound::Included(b"b"), Bound::Included(b"a"), false)?.is_empty(),
            "an inverted range is empty",
        )?;
        ensure(
            rows(r, "t", Bound::Excluded(b"a"), Bound::Excluded(b"a"), false)?.is_empty(),
            "an empty range is empty",
        )?;
        let mut first_two = Vec::new();
        r.scan(
            "t",
            Bound::Unbounded,
            Bound::Unbounded,
            true,
            &mut |k, v| {
                ensure(k == v, "a scan gives each key its own value")?;
                first_two.push(k.to_vec());
                Ok(first_two.len() < 2)
            },
        )?;
        ensure(first_two == desc[..2].to_vec(), "a scan stops when told")
    })
}

/// Scans of more rows than a backend fetches at once (PostgreSQL: 256
/// rows, or as many as hinted, then twice as many),
/// each the first thing its read does, both ways, with and without a
/// hint, and with a hint that falls short.
fn long_scans(make: Factory<'_>) -> Result<()> {
    let b = make();
    let b = &*b;
    let keys: Vec<Vec<u8>> = (0u32..1_500)
        .map(|n| (n * 3).to_be_bytes().to_vec())
        .collect();
    write_all(b, |w| {
        for k in &keys {
            w.put("t", k, &[k.as_slice(), b"value"].concat())?;
        }
        Ok(())
    })?;
    let mut desc = keys.clone();
    desc.reverse();
    for hint in [None, Some(5), Some(2_000)] {
        let scan = |lo: Bound<&[u8]>, hi: Bound<&[u8]>, rev: bool| {
            read_all(b, |r| {
                if let Some(rows) = hint {
                    r.scan_hint(rows);
                }
                let mut out = Vec::new();
                r.scan("t", lo, hi, rev, &mut |k, v| {
                    ensure(v == [k, b"value"].concat(), "each key its own value")?;
                    out.push(k.to_vec());
                    Ok(true)
                })?;
                Ok(out)
            })
        };
        let what = |s: &str| format!("{s} (hint {hint:?})");
        ensure(
            scan(Bound::Unbounded, Bound::Unbounded, false)? == keys,
            &what("every row, ascending"),
        )?;
        ensure(
            scan(Bound::Unbounded, Bound::Unbounded, true)? == desc,
            &what("every row, descending"),
        )?;
        let (lo, hi) = (&keys[10][..], &keys[1_400][..]);
        ensure(
            scan(Bound::Excluded(lo), Bound::Included(hi), false)? == keys[11..=1_400],
            &what("between bounds, ascending"),
        )?;
        ensure(
            scan(Bound::Included(lo), Bound::Excluded(hi), true)?
                == desc[desc.len() - 1_400..desc.len() - 10],
            &what("between bounds, descending"),
        )?;
    }
    Ok(())
}

fn prefix_scans(make: Factory<'_>) -> Result<()> {
    let b = make();
    let b = &*b;
    write_all(b, |w| {
        for user in [1u64, 2, 3] {
            for batch in [1u64, 7, u64::MAX] {
                w.put(MEMBERSHIPS.name, &keyed(user, batch), b"")?;
            }
        }
        Ok(())
    })?;
    read_all(b, |r| {
        let (lo, hi) = super::backend::prefix_bounds(&2u64.to_be_bytes());
        let found = rows(
            r,
            MEMBERSHIPS.name,
            super::backend::as_slices(&lo),
            super::backend::as_slices(&hi),
            false,
        )?;
        ensure(
            found == vec![keyed(2, 1), keyed(2, 7), keyed(2, u64::MAX)],
            "a prefix scan finds exactly the prefix's keys",
        )
    })
}

fn keyed(a: u64, b: u64) -> Vec<u8> {
    let mut out = a.to_be_bytes().to_vec();
    out.extend_from_slice(&b.to_be_bytes());
    out
}

fn raw_rollback(make: Factory<'_>) -> Result<()> {
    let b = make();
    let b = &*b;
    write_all(b, |w| w.put("t", b"kept", b"1"))?;
    let err = b
        .write(&mut |w| {
            w.put("t", b"lost", b"2")?;
            w.delete("t", b"kept")?;
            Err(Error::new(ErrorCode::Conflict, "the caller's own error"))
        })
        .expect_err("a write returning an error fails");
    ensure(
        err.code() == ErrorCode::Conflict,
        "the closure's error comes back as is",
    )?;
    read_all(b, |r| {
        ensure(
            r.get("t", b"lost")?.is_none(),
            "a failed write's put is gone",
        )?;
        ensure(
            r.get("t", b"kept")?.is_some(),
            "a failed write's delete is undone",
        )
    })
}

fn snapshot_isolation(make: Factory<'_>) -> Result<()> {
    let b = make();
    let b = &*b;
    write_all(b, |w| w.put("t", b"k", b"old"))?;
    read_all(b, |r| {
        if b.snapshot_at_first_read() {
            // Its snapshot begins here.
            ensure(
                r.get("t", b"k")?.as_deref() == Some(&b"old"[..]),
                "a snapshot sees the last commit",
            )?;
        }
        write_all(b, |w| {
            w.put("t", b"k", b"new")?;
            w.put("t", b"k2", b"new")
        })?;
        ensure(
            r.get("t", b"k")?.as_deref() == Some(&b"old"[..]),
            "a snapshot keeps the value it began with",
        )?;
        ensure(
            r.get("t", b"k2")?.is_none(),
            "a snapshot does not see a later key",
        )?;
        ensure(r.len("t")? == 1, "a snapshot's count is its own")
    })?;
    read_all(b, |r| {
        ensure(r.len("t")? == 2, "a new snapshot sees the commit")
    })
}

fn readers_during_a_write(make: Factory<'_>) -> Result<()> {
    let b = make();
    let b = &*b;
    write_all(b, |w| w.put("t", b"k", b"old"))?;
    write_all(b, |w| {
        w.put("t", b"k", b"new")?;
        read_all(b, |r| {
            ensure(
                r.get("t", b"k")?.as_deref() == Some(&b"old"[..]),
                "a reader beside a write sees the last commit",
            )
        })
    })?;
    read_all(b, |r| {
        ensure(
            r.get("t", b"k")?.as_deref() == Some(&b"new"[..]),
            "the write is visible after its commit",
        )
    })
}

fn user(id: u64, name: &str, email: &str) -> User {
    let mut u = User::blank(id, name);
    u.uuid = 0x1000 + id as u128;
    u.profile.email = email.into();
    u
}

/// An ordinary batch `id` named `name` (its UUID derived from the id).
pub(crate) fn batch(id: u64, name: &str) -> Batch {
    Batch {
        id,
        uuid: 0x2000 + id as u128,
        name: name.into(),
        created: 0,
        modified: 0,
        course: None,
    }
}

fn subscription(id: u64, expires: Option<&str>) -> Subscription {
    Subscription {
        id,
        uuid: 0x3000 + id as u128,
        expires: expires.map(|d| d.parse().expect("a date")),
        created: 0,
        modified: 0,
    }
}

fn sound(store: &Store, after: &str) -> Result<()> {
    let problems = store.reading(integrity::check)?;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(fail(format!("after {after}: {problems:?}")))
    }
}

fn entity_indexes(make: Factory<'_>) -> Result<()> {
    let store = Store::on(make())?;
    store.write(|txn| {
        ids::raise(txn, Kind::User, 10)?;
        ids::raise(txn, Kind::Batch, 10)?;
        ids::raise(txn, Kind::Subscription, 10)?;
        write::put_user(txn, None, &user(1, "asha", "asha@example.com"))?;
        write::put_user(txn, None, &user(2, "ravi", ""))?;
        write::put_batch(txn, None, &batch(1, "Alpha"))?;
        write::put_membership(txn, 1, 1, None, &subscription(1, Some("2026-01-01")))?;
        write::put_membership(txn, 2, 1, None, &subscription(2, None))?;
        Ok(())
    })?;
    sound(&store, "creating users, a batch and memberships")?;
    store.reading(|s| {
        ensure(
            read::lookup(s, USER_BY_EMAIL, "asha@example.com")? == Some(1),
            "the email index finds its user",
        )?;
        ensure(
            read::related(s, BATCH_MEMBERS, 1)? == vec![1, 2],
            "the members of a batch, ascending",
        )?;
        ensure(
            read::memberships_of(s, 1)?.len() == 1,
            "a user's memberships",
        )
    })?;
    store.write(|txn| {
        let old = read::user(txn, 1)?.ok_or_else(|| fail("user 1"))?;
        let mut new = old.clone();
        new.username = "asha.k".into();
        new.profile.email = "ASHA.K@example.com".into();
        write::put_user(txn, Some(&old), &new)
    })?;
    sound(&store, "renaming a user")?;
    // Joining a group and leaving it: the group's members follow.
    let group = crate::domain::group::Group {
        id: 1,
        uuid: 0x4001,
        name: "Tutors".into(),
        permissions: vec![1],
        created: 0,
        modified: 0,
    };
    let regroup = |groups: Vec<u64>| {
        store.write(|txn| {
            let old = read::user(txn, 1)?.ok_or_else(|| fail("user 1"))?;
            let new = User {
                groups: groups.clone(),
                ..old.clone()
            };
            write::put_user(txn, Some(&old), &new)
        })?;
        store.reading(|s| read::related(s, GROUP_USERS, 1))
    };
    store.write(|txn| {
        ids::raise(txn, Kind::Group, 2)?;
        write::put_group(txn, None, &group)
    })?;
    ensure(regroup(vec![1])? == vec![1], "a user joins a group")?;
    sound(&store, "joining a group")?;
    ensure(regroup(Vec::new())?.is_empty(), "a user leaves a group")?;
    sound(&store, "leaving a group")?;
    store.reading(|s| {
        ensure(
            read::lookup(s, USER_BY_USERNAME, "asha")?.is_none(),
            "the old username is gone from the index",
        )?;
        ensure(
            read::lookup(s, USER_BY_EMAIL, "asha.k@example.com")? == Some(1),
            "the new email is in the index, folded",
        )
    })?;
    let purged =
        store.write(|txn| write::purge_expired(txn, "2026-06-01".parse().expect("date")))?;
    ensure(purged == 1, "purge removes exactly the expired membership")?;
    sound(&store, "purging")?;
    store.write(|txn| {
        write::put_session(txn, [7; 32], (2, 0, 0, 100))?;
        write::put_session(txn, [8; 32], (2, 0, 0, 5))?;
        write::put_session(txn, [9; 32], (2, 0, 1, 100))?;
        write::put_session(txn, [6; 32], (2, 0, 2, 100))?;
        // Ends at the very instant: over.
        write::put_session(txn, [5; 32], (2, 0, 3, 50))?;
        write::end_sessions_beyond(txn, 2, 50, 2)?;
        // Three live sessions of user 1, one kept: the newest.
        for (n, began) in [(1u8, 0), (2, 1), (3, 2)] {
            write::put_session(txn, [n; 32], (1, 0, began, 100))?;
        }
        write::end_sessions_beyond(txn, 1, 50, 1)
    })?;
    store.reading(|s| {
        ensure(read::session(s, [9; 32])?.is_some(), "a live session stays")?;
        ensure(read::session(s, [6; 32])?.is_some(), "a live session stays")?;
        ensure(
            read::session(s, [8; 32])?.is_none() && read::session(s, [5; 32])?.is_none(),
            "an expired session ends",
        )?;
        ensure(
            read::session(s, [7; 32])?.is_none(),
            "the oldest live session beyond the number kept ends",
        )?;
        ensure(
            read::session(s, [1; 32])?.is_none()
                && read::session(s, [2; 32])?.is_none()
                && read::session(s, [3; 32])?.is_some(),
            "the two oldest of three live sessions end when one is kept",
        )
    })?;
    store.write(|txn| {
        let u = read::user(txn, 2)?.ok_or_else(|| fail("user 2"))?;
        write::delete_user(txn, &u)
    })?;
    sound(&store, "deleting a user with a membership and a session")?;
    store.reading(|s| {
        ensure(
            read::related(s, BATCH_MEMBERS, 1)?.is_empty(),
            "the batch lost its member",
        )?;
        ensure(
            read::session(s, [9; 32])?.is_none() && read::session(s, [6; 32])?.is_none(),
            "the user's sessions ended",
        )
    })?;
    store.write(|txn| {
        let b = read::batch(txn, 1)?.ok_or_else(|| fail("batch 1"))?;
        write::delete_batch(txn, &b)
    })?;
    sound(&store, "deleting a batch")
}

fn entity_rollback(make: Factory<'_>) -> Result<()> {
    let store = Store::on(make())?;
    store.write(|txn| {
        ids::raise(txn, Kind::User, 10)?;
        write::put_user(txn, None, &user(1, "asha", "asha@example.com"))
    })?;
    let before = store.reading(|s| Ok(format!("{:?}", dump(s)?)))?;
    let err = store
        .write(|txn| -> Result<()> {
            write::put_user(txn, None, &user(2, "ravi", "ravi@example.com"))?;
            let old = read::user(txn, 1)?.ok_or_else(|| fail("user 1"))?;
            write::delete_user(txn, &old)?;
            ids::next(txn, Kind::User)?;
            Err(Error::new(ErrorCode::Conflict, "refused"))
        })
        .expect_err("the write fails");
    ensure(err.code() == ErrorCode::Conflict, "the write's own error")?;
    let after = store.reading(|s| Ok(format!("{:?}", dump(s)?)))?;
    ensure(
        before == after,
        "a failed write leaves every table as it was",
    )?;
    sound(&store, "a failed write")
}

/// Every row of every table, for comparisons.
fn dump(s: &super::Snapshot<'_>) -> Result<Tables> {
    let mut out = Vec::new();
    for name in s.table_names()? {
        let mut rows = Vec::new();
        s.r.scan(
            &name,
            Bound::Unbounded,
            Bound::Unbounded,
            false,
            &mut |k, v| {
                rows.push((k.to_vec(), v.to_vec()));
                Ok(true)
            },
        )?;
        if !rows.is_empty() {
            out.push((name, rows));
        }
    }
    Ok(out)
}

fn rerun(make: Factory<'_>) -> Result<()> {
    // The same writes on two stores, one of them running every closure
    // twice (the first run thrown away, as after a serialization failure):
    // the stores end up identical.
    let once = Store::on(make())?;
    let twice = Store::on(Arc::new(Twice(make())))?;
    // One instant for both, so that their feeds' entries match too.
    let at = super::feed::Author { actor: None, at: 1 };
    // Each new store's feed starts at its own random number: one for both.
    let origin = once.reading(super::feed::origin)?;
    twice.write_by(at, None, |txn| super::feed::begin_at(txn, origin))?;
    for store in [&once, &twice] {
        let id = store.write_by(at, None, |txn| ids::next(txn, Kind::User))?;
        store.write_by(at, None, |txn| {
            write::put_user(txn, None, &user(id, "asha", "asha@example.com"))?;
            let b = ids::next(txn, Kind::Batch)?;
            write::put_batch(txn, None, &batch(b, "Alpha"))?;
            let s = ids::next(txn, Kind::Subscription)?;
            write::put_membership(txn, id, b, None, &subscription(s, Some("2026-01-01")))
        })?;
        store.write_by(at, None, |txn| {
            write::purge_expired(txn, "2026-06-01".parse().expect("date"))
        })?;
    }
    // The feed's entries compare by content, in order: a backend that
    // numbers them itself (PostgreSQL's sequence) may have spent numbers
    // on the thrown-away runs.
    let feed = |s: &super::Snapshot<'_>| -> Result<Vec<crate::domain::feed::Entry>> {
        let mut out = Vec::new();
        s.scan(
            super::tables::CHANGES,
            Bound::Unbounded,
            Bound::Unbounded,
            false,
            |seq, bytes| {
                out.push(super::decode_change(seq, &bytes)?);
                Ok(true)
            },
        )?;
        Ok(out)
    };
    let others = |s: &super::Snapshot<'_>| -> Result<Tables> {
        let mut tables = dump(s)?;
        tables.retain(|(name, _)| name != super::tables::CHANGES.name);
        Ok(tables)
    };
    ensure(
        once.reading(others)? == twice.reading(others)?,
        "a write run twice leaves the store as one run does",
    )?;
    let (a, b) = (once.reading(feed)?, twice.reading(feed)?);
    ensure(
        a.len() == 4 && a == b,
        "a write run twice appends the change feed's entries once",
    )
}

/// A backend that runs every write closure twice, rolling the first run
/// back: what a retrying backend may do.
#[derive(Debug)]
struct Twice(Arc<dyn Backend>);

impl Backend for Twice {
    fn read(&self, f: &mut dyn FnMut(&dyn Reader) -> Result<()>) -> Result<()> {
        self.0.read(f)
    }
    fn write(&self, f: &mut dyn FnMut(&dyn Writer) -> Result<()>) -> Result<()> {
        let rolled_back = self.0.write(&mut |w| {
            f(w)?;
            Err(Error::new(ErrorCode::Busy, "first run thrown away"))
        });
        match rolled_back {
            Err(e) if e.code() == ErrorCode::Busy => self.0.write(f),
            other => other,
        }
    }
    fn engine(&self) -> &'static str {
        self.0.engine()
    }
}

fn fresh_ids(make: Factory<'_>) -> Result<()> {
    let store = Store::on(make())?;
    let first = store.write(|txn| ids::next(txn, Kind::User))?;
    let second = store.write(|txn| ids::next(txn, Kind::User))?;
    ensure(first == 1 && second == 2, "ids start at 1 and count up")?;
    let _ = store.write(|txn| -> Result<u64> {
        ids::next(txn, Kind::User)?;
        Err(fail("rolled back"))
    });
    ensure(
        store.write(|txn| ids::next(txn, Kind::User))? == 3,
        "a rolled-back id is given again (it was never seen)",
    )?;
    store.write(|txn| ids::raise(txn, Kind::User, ids::BLOCK - 1))?;
    let a = store.write(|txn| ids::next(txn, Kind::User))?;
    let b = store.write(|txn| ids::next(txn, Kind::User))?;
    ensure(
        a == ids::BLOCK - 1 && b == ids::BLOCK,
        "ids cross into the next block without a gap or a repeat",
    )?;
    ensure(
        store.reading(|s| ids::given(s, Kind::User))? == ids::BLOCK + 1,
        "the next id is above every id given",
    )?;
    ensure(
        store.write(|txn| ids::next(txn, Kind::Batch))? == 1,
        "each kind counts on its own",
    )
}
