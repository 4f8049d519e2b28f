//! The one encoding of keys and values as bytes (store format 4).
//!
//! Keys are encoded so that comparing the bytes (unsigned, then by length,
//! as every backend does) orders them as roster needs: integers big-endian
//! (signed ones with the sign bit flipped), tuples as the concatenation of
//! fixed-width parts, a string as its UTF-8 bytes when it is a whole key.
//! Values use
//! the same encodings; records are frames ([`super::frame`]).
//!
//! A table is a [`Def`]: its name and the Rust types of its keys and
//! values. Everything above `store/` sees only typed defs; the backends see
//! only bytes.

use crate::error::{Error, ErrorCode};
use std::marker::PhantomData;

/// A table: its name and the types of its keys `K` and values `V`.
pub(crate) struct Def<K: ?Sized, V: ?Sized> {
    /// The table's name in the backend.
    pub(crate) name: &'static str,
    /// Whether each value carries a [`seal`] over its table, key and value
    /// (format 12's unique indexes).
    pub(crate) sealed: bool,
    types: PhantomData<fn(&K, &V)>,
}

impl<K: ?Sized, V: ?Sized> Def<K, V> {
    /// The table `name`.
    pub(crate) const fn new(name: &'static str) -> Self {
        Def {
            name,
            sealed: false,
            types: PhantomData,
        }
    }

    /// The table `name`, each value stored with its [`seal`].
    pub(crate) const fn sealed(name: &'static str) -> Self {
        Def {
            name,
            sealed: true,
            types: PhantomData,
        }
    }

    /// The same table read as it is stored: values as bytes, seals
    /// included and unchecked (for a migration or a check that must see a
    /// damaged row instead of failing on it).
    pub(crate) const fn stored(self) -> Def<K, [u8]> {
        Def {
            name: self.name,
            sealed: false,
            types: PhantomData,
        }
    }
}

/// How many bytes a seal adds to a value.
pub(crate) const SEAL_LEN: usize = 4;

/// The seal of `value` under `key` in table `table`: a CRC-32 of the three.
/// A unique index entry is a short key and an id, outside any record frame;
/// its seal lets a read trust the entry without reading the record it
/// names (a flipped bit in the key or the id no longer matches).
fn seal_of(table: &str, key: &[u8], value: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(table.as_bytes());
    h.update(&[0]);
    h.update(&(key.len() as u64).to_le_bytes());
    h.update(key);
    h.update(value);
    h.finalize()
}

/// Appends the seal of `value` (the bytes of `value` so far) under `key`
/// in `table`.
pub(crate) fn seal(table: &str, key: &[u8], value: &mut Vec<u8>) {
    let crc = seal_of(table, key, value);
    value.extend_from_slice(&crc.to_le_bytes());
}

/// The id a sealed unique index entry `stored` holds under `key` in
/// `table`, or `None` when it is damaged (for readers of the stored bytes:
/// a migration, a check).
pub(crate) fn sealed_id(table: &str, key: &str, stored: &[u8]) -> Option<u64> {
    unseal(table, key.as_bytes(), stored).and_then(u64::take)
}

/// The value a sealed `stored` holds under `key` in `table`, or `None`
/// when its seal does not match (damage).
pub(crate) fn unseal<'a>(table: &str, key: &[u8], stored: &'a [u8]) -> Option<&'a [u8]> {
    let at = stored.len().checked_sub(SEAL_LEN)?;
    let (value, crc) = stored.split_at(at);
    let crc = u32::from_le_bytes(crc.try_into().ok()?);
    (seal_of(table, key, value) == crc).then_some(value)
}

impl<K: ?Sized, V: ?Sized> Clone for Def<K, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K: ?Sized, V: ?Sized> Copy for Def<K, V> {}

impl<K: ?Sized, V: ?Sized> std::fmt::Debug for Def<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// A type stored as bytes: `put` appends its encoding, `take` reads one
/// whole encoding back (`None`: malformed).
pub(crate) trait Col {
    /// What decoding gives.
    type Owned;
    /// Appends the encoding of `self` to `out`.
    fn put(&self, out: &mut Vec<u8>);
    /// Decodes exactly `bytes`.
    fn take(bytes: &[u8]) -> Option<Self::Owned>;

    /// [`Col::take`] of bytes the caller owns: a value that is bytes or
    /// text keeps them instead of copying (a record frame is read once).
    fn take_vec(bytes: Vec<u8>) -> Option<Self::Owned> {
        Self::take(&bytes)
    }

    /// The encoding of `self`.
    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.put(&mut out);
        out
    }
}

/// The error of a malformed key or value in table `table`.
pub(crate) fn malformed(table: &str) -> Error {
    Error::new(
        ErrorCode::Corrupt,
        format!(
            "the store is damaged: the {table} table holds a malformed entry; run `roster check`"
        ),
    )
}

/// A borrowed key or value encodes as what it borrows.
impl<T: Col + ?Sized> Col for &T {
    type Owned = T::Owned;
    fn put(&self, out: &mut Vec<u8>) {
        (**self).put(out);
    }
    fn take(bytes: &[u8]) -> Option<T::Owned> {
        T::take(bytes)
    }
    fn take_vec(bytes: Vec<u8>) -> Option<T::Owned> {
        T::take_vec(bytes)
    }
}

fn fixed<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    bytes.try_into().ok()
}

impl Col for u64 {
    type Owned = u64;
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_be_bytes());
    }
    fn take(bytes: &[u8]) -> Option<u64> {
        fixed(bytes).map(u64::from_be_bytes)
    }
}

impl Col for u128 {
    type Owned = u128;
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_be_bytes());
    }
    fn take(bytes: &[u8]) -> Option<u128> {
        fixed(bytes).map(u128::from_be_bytes)
    }
}

impl Col for u8 {
    type Owned = u8;
    fn put(&self, out: &mut Vec<u8>) {
        out.push(*self);
    }
    fn take(bytes: &[u8]) -> Option<u8> {
        fixed::<1>(bytes).map(|[b]| b)
    }
}

/// Signed integers: the sign bit flipped, so that bytes order as numbers.
impl Col for i32 {
    type Owned = i32;
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&((*self as u32) ^ 0x8000_0000).to_be_bytes());
    }
    fn take(bytes: &[u8]) -> Option<i32> {
        fixed(bytes).map(|b| (u32::from_be_bytes(b) ^ 0x8000_0000) as i32)
    }
}

impl Col for i64 {
    type Owned = i64;
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&((*self as u64) ^ (1 << 63)).to_be_bytes());
    }
    fn take(bytes: &[u8]) -> Option<i64> {
        fixed(bytes).map(|b| (u64::from_be_bytes(b) ^ (1 << 63)) as i64)
    }
}

impl Col for [u8; 32] {
    type Owned = [u8; 32];
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
    fn take(bytes: &[u8]) -> Option<[u8; 32]> {
        fixed(bytes)
    }
}

/// A whole key or value of text: its UTF-8 bytes, which order as `str`s do.
impl Col for str {
    type Owned = String;
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
    fn take(bytes: &[u8]) -> Option<String> {
        String::from_utf8(bytes.to_vec()).ok()
    }
    fn take_vec(bytes: Vec<u8>) -> Option<String> {
        String::from_utf8(bytes).ok()
    }
}

/// A whole value of bytes (a record frame).
impl Col for [u8] {
    type Owned = Vec<u8>;
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
    fn take(bytes: &[u8]) -> Option<Vec<u8>> {
        Some(bytes.to_vec())
    }
    fn take_vec(bytes: Vec<u8>) -> Option<Vec<u8>> {
        Some(bytes)
    }
}

/// Nothing (a relation's value).
impl Col for () {
    type Owned = ();
    fn put(&self, _: &mut Vec<u8>) {}
    fn take(bytes: &[u8]) -> Option<()> {
        bytes.is_empty().then_some(())
    }
}

/// A tuple of fixed-width parts (every integer and array encoding above is
/// one), concatenated: `tuple!(A: width, B: width, ...)`. Decoding needs
/// exactly the sum of the widths.
macro_rules! tuple {
    ($($t:ty : $w:expr => $i:tt),+) => {
        impl Col for ($($t),+) {
            type Owned = ($($t),+);
            fn put(&self, out: &mut Vec<u8>) {
                $(self.$i.put(out);)+
            }
            fn take(bytes: &[u8]) -> Option<Self::Owned> {
                if bytes.len() != 0 $(+ $w)+ {
                    return None;
                }
                let rest = &mut &bytes[..];
                Some(($({
                    let (part, tail) = rest.split_at($w);
                    *rest = tail;
                    <$t as Col>::take(part)?
                }),+))
            }
        }
    };
}

tuple!(u64: 8 => 0, u64: 8 => 1);
tuple!(u64: 8 => 0, [u8; 32]: 32 => 1);
tuple!(i32: 4 => 0, u64: 8 => 1);
tuple!(u8: 1 => 0, u64: 8 => 1);
// An expiry's key: day, user, batch.
tuple!(i32: 4 => 0, u64: 8 => 1, u64: 8 => 2);
// A position count's key: table, level, block.
tuple!(u8: 1 => 0, u8: 1 => 1, u64: 8 => 2);
// A session row: user, credential generation, began, ends.
tuple!(u64: 8 => 0, u64: 8 => 1, i64: 8 => 2, i64: 8 => 3);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_order_as_bytes() {
        let mut signed: Vec<i64> = vec![i64::MIN, -5, -1, 0, 1, 7, i64::MAX];
        let encoded: Vec<Vec<u8>> = signed.iter().map(|v| v.bytes()).collect();
        let mut sorted = encoded.clone();
        sorted.sort();
        assert_eq!(sorted, encoded);
        signed.reverse();
        for v in signed {
            assert_eq!(i64::take(&v.bytes()), Some(v));
        }
        for v in [i32::MIN, -1, 0, 3, i32::MAX] {
            assert_eq!(i32::take(&v.bytes()), Some(v));
        }
        assert!((1u64, 2u64).bytes() < (1u64, 3u64).bytes());
        assert!((1u64, u64::MAX).bytes() < (2u64, 0u64).bytes());
        assert!((-1i32, 9u64).bytes() < (0i32, 0u64).bytes());
    }

    #[test]
    fn malformed_bytes_do_not_decode() {
        assert_eq!(u64::take(&[1, 2, 3]), None);
        assert_eq!(<(u64, u64)>::take(&[0; 15]), None);
        assert_eq!(<()>::take(&[0]), None);
        assert_eq!(str::take(&[0xff]), None);
        assert_eq!(<(u64, u64, i64, i64)>::take(&[0; 31]), None);
    }

    #[test]
    fn a_seal_fails_on_any_flipped_bit_and_in_another_table() {
        let key = b"alice";
        let mut stored = 7u64.bytes();
        seal("user_by_username", key, &mut stored);
        assert_eq!(stored.len(), 8 + SEAL_LEN);
        let opened = unseal("user_by_username", key, &stored).and_then(u64::take);
        assert_eq!(opened, Some(7));
        for bit in 0..stored.len() * 8 {
            let mut flipped = stored.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(unseal("user_by_username", key, &flipped), None, "bit {bit}");
        }
        for bit in 0..key.len() * 8 {
            let mut other = key.to_vec();
            other[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(
                unseal("user_by_username", &other, &stored),
                None,
                "key bit {bit}"
            );
        }
        // The same key and id in another index, a longer key that begins
        // the same, and values too short to hold a seal.
        assert_eq!(unseal("user_by_email", key, &stored), None);
        assert_eq!(unseal("user_by_username", b"alice7", &stored), None);
        for len in 0..SEAL_LEN {
            assert_eq!(unseal("user_by_username", key, &stored[..len]), None);
        }
    }
}
