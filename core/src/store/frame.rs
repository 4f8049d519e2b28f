//! Record frames (store format 3): every record value is stored as a
//! self-describing frame, verified on every read.
//!
//! ```text
//! offset  size  field
//! 0       4     magic b"RfR3"
//! 4       1     entity kind (tables::Kind)
//! 5       8     first key  (record id; user id for memberships), little-endian
//! 13      8     second key (0; batch id for memberships), little-endian
//! 21      4     payload length n, little-endian
//! 25      n     postcard payload
//! 25+n    4     CRC-32 (IEEE) of bytes 0..25+n, little-endian
//! ```
//!
//! The frame names its kind and key, so a record read from the wrong place
//! (or carved out of a damaged file's raw bytes by `recover`) is recognised,
//! and the checksum is verified before postcard sees the payload, so a
//! damaged length inside the payload cannot make the decoder allocate
//! absurdly. A CRC-32 detects every error burst up to 32 bits long, so any
//! single flipped bit (or byte) in a frame is always caught.

use super::tables::Kind;
use crate::error::{Error, ErrorCode, Internal, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The first bytes of every frame.
pub(crate) const MAGIC: [u8; 4] = *b"RfR3";
/// Bytes before the payload.
pub(crate) const HEADER: usize = 25;
/// Bytes after the payload.
const TRAILER: usize = 4;
/// The largest payload a frame holds: no record of roster's comes near it
/// (a record must fit one line of an export, at most 16 MiB of JSON, and
/// its postcard encoding is no longer than its JSON; the change feed entry
/// that carries a record adds a few dozen bytes). [`encode`] refuses more
/// and [`parse`] takes a longer claimed length for damage, so neither a
/// read nor `recover`'s carving checksums more than this for one frame.
pub(crate) const MAX_PAYLOAD: usize = 32 << 20;
/// The longest frame.
pub(crate) const MAX_FRAME: usize = HEADER + MAX_PAYLOAD + TRAILER;

/// A record's key: its id, or (user, batch) for a membership.
pub(crate) type FrameKey = (u64, u64);

/// The key of record `id`.
pub(crate) fn id(id: u64) -> FrameKey {
    (id, 0)
}

/// Words for an entity and key in an error message.
pub(crate) fn describe(kind: Kind, key: FrameKey) -> String {
    match kind {
        Kind::Subscription => format!("membership of user {} in batch {}", key.0, key.1),
        other => format!("{} {}", other.counter().replace('_', " "), key.0),
    }
}

/// The error for a record that cannot be read as stored.
pub(crate) fn corrupt(kind: Kind, key: FrameKey, why: &str) -> Error {
    Error::new(
        ErrorCode::Corrupt,
        format!(
            "the store is damaged: {} cannot be read ({why}); run `roster check`",
            describe(kind, key)
        ),
    )
}

/// Encodes `record` as the frame of `kind` under `key`.
pub(crate) fn encode<T: Serialize>(kind: Kind, key: FrameKey, record: &T) -> Result<Vec<u8>> {
    let payload = postcard::to_allocvec(record).map_err(Internal::from)?;
    if payload.len() > MAX_PAYLOAD {
        return Err(Error::new(
            ErrorCode::Validation,
            format!(
                "the record is too large to store ({} bytes; at most {MAX_PAYLOAD})",
                payload.len()
            ),
        ));
    }
    let len = u32::try_from(payload.len())
        .map_err(|_| Error::new(ErrorCode::Internal, "record too large to store"))?;
    let mut out = Vec::with_capacity(HEADER + payload.len() + TRAILER);
    out.extend_from_slice(&MAGIC);
    out.push(kind as u8);
    out.extend_from_slice(&key.0.to_le_bytes());
    out.extend_from_slice(&key.1.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&payload);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// A frame's parts, checksum verified.
#[derive(Debug)]
pub(crate) struct Parts<'a> {
    /// The entity kind byte.
    pub kind: u8,
    /// The key.
    pub key: FrameKey,
    /// The postcard payload.
    pub payload: &'a [u8],
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(b)
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}

/// The payload length the frame header at the start of `bytes` claims.
pub(crate) fn claimed(bytes: &[u8]) -> Option<usize> {
    let field = bytes.get(21..HEADER)?;
    Some(u32_at(field, 0) as usize)
}

/// Parses the frame at the start of `bytes` (which may continue past it):
/// the parts and the frame's total length, or why it is not a sound frame.
pub(crate) fn parse(bytes: &[u8]) -> std::result::Result<(Parts<'_>, usize), &'static str> {
    if bytes.len() < HEADER + TRAILER {
        return Err("too short for a record frame");
    }
    if bytes[..4] != MAGIC {
        return Err("no record frame marker");
    }
    let len = claimed(bytes).ok_or("too short for a record frame")?;
    if len > MAX_PAYLOAD {
        return Err("impossible length");
    }
    let total = HEADER
        .checked_add(len)
        .and_then(|n| n.checked_add(TRAILER))
        .ok_or("impossible length")?;
    if total > bytes.len() {
        return Err("length runs past the end");
    }
    let end = HEADER + len;
    if crc32fast::hash(&bytes[..end]) != u32_at(bytes, end) {
        return Err("checksum mismatch");
    }
    Ok((
        Parts {
            kind: bytes[4],
            key: (u64_at(bytes, 5), u64_at(bytes, 13)),
            payload: &bytes[HEADER..end],
        },
        total,
    ))
}

/// Decodes the frame `bytes` stored under `key` as a record of `kind`:
/// checksum, kind and key verified first, then the payload decoded. Any
/// mismatch is a `corrupt_store` error naming the record.
pub(crate) fn decode<T: DeserializeOwned>(kind: Kind, key: FrameKey, bytes: &[u8]) -> Result<T> {
    decode_borrowed(kind, key, bytes)
}

/// [`decode`] into a type that may borrow from `bytes` (a record's first
/// fields as `&str`, without copying them; postcard reads a prefix of a
/// struct's fields and ignores the rest).
pub(crate) fn decode_borrowed<'a, T: serde::Deserialize<'a>>(
    kind: Kind,
    key: FrameKey,
    bytes: &'a [u8],
) -> Result<T> {
    let (parts, total) = parse(bytes).map_err(|why| corrupt(kind, key, why))?;
    if total != bytes.len() {
        return Err(corrupt(kind, key, "bytes after the frame"));
    }
    if parts.kind != kind as u8 {
        return Err(corrupt(kind, key, "the frame holds another kind of record"));
    }
    if parts.key != key {
        return Err(corrupt(kind, key, "the frame holds another record"));
    }
    postcard::from_bytes(parts.payload).map_err(|_| corrupt(kind, key, "undecodable contents"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_round_trips_and_every_flipped_bit_is_caught() {
        let record = (7u64, "alice".to_string(), vec![1u32, 2, 3]);
        let bytes = encode(Kind::User, id(7), &record).unwrap();
        let back: (u64, String, Vec<u32>) = decode(Kind::User, id(7), &bytes).unwrap();
        assert_eq!(back, record);
        for bit in 0..bytes.len() * 8 {
            let mut damaged = bytes.clone();
            damaged[bit / 8] ^= 1 << (bit % 8);
            let err = decode::<(u64, String, Vec<u32>)>(Kind::User, id(7), &damaged).unwrap_err();
            assert_eq!(err.code(), ErrorCode::Corrupt, "bit {bit}");
            assert!(err.message().contains("user 7"), "{}", err.message());
        }
    }

    #[test]
    fn a_frame_under_another_key_or_kind_is_refused() {
        let bytes = encode(Kind::Batch, id(3), &1u8).unwrap();
        assert!(decode::<u8>(Kind::Batch, id(4), &bytes).is_err());
        assert!(decode::<u8>(Kind::Group, id(3), &bytes).is_err());
        let m = encode(Kind::Subscription, (1, 2), &1u8).unwrap();
        let err = decode::<u8>(Kind::Subscription, (2, 1), &m).unwrap_err();
        assert!(err.message().contains("membership of user 2 in batch 1"));
    }

    #[test]
    fn a_record_above_the_largest_frame_is_refused_not_stored() {
        let err = encode(Kind::User, id(1), &vec![0u8; MAX_PAYLOAD]).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Validation, "{err:?}");
        assert!(encode(Kind::User, id(1), &vec![0u8; MAX_PAYLOAD - 8]).is_ok());
    }

    /// The smallest frame (an empty payload) and the largest (a payload of
    /// exactly [`MAX_PAYLOAD`]) are sound; anything shorter than a header
    /// and a trailer is too short, whatever length it claims.
    #[test]
    fn the_edges_of_a_frame_are_sound() {
        let empty = encode(Kind::Group, id(2), &()).unwrap();
        assert_eq!(empty.len(), HEADER + TRAILER);
        let (parts, total) = parse(&empty).unwrap();
        assert_eq!(
            (parts.kind, parts.key, parts.payload.len(), total),
            (6, (2, 0), 0, 29)
        );
        for cut in 0..empty.len() {
            assert_eq!(
                parse(&empty[..cut]).unwrap_err(),
                "too short for a record frame",
                "{cut}"
            );
        }
        // A length prefix of four bytes brings the payload to the limit.
        let largest = vec![7u8; MAX_PAYLOAD - 4];
        let bytes = encode(Kind::User, id(1), &largest).unwrap();
        assert_eq!(bytes.len(), MAX_FRAME);
        let back: Vec<u8> = decode(Kind::User, id(1), &bytes).unwrap();
        assert!(back == largest);
    }

    #[test]
    fn a_huge_length_in_a_damaged_payload_is_refused_before_decoding() {
        // A postcard Vec length of u64::MAX-ish inside a frame whose
        // checksum no longer matches: refused without decoding.
        let mut bytes = encode(Kind::User, id(1), &vec![0u8; 4]).unwrap();
        bytes[HEADER] = 0xff;
        assert!(decode::<Vec<u8>>(Kind::User, id(1), &bytes).is_err());
        // A length above the largest record, even with the bytes there.
        let mut bytes = encode(Kind::User, id(1), &vec![0u8; 4]).unwrap();
        bytes[21..25].copy_from_slice(&(MAX_PAYLOAD as u32 + 1).to_le_bytes());
        bytes.resize(MAX_FRAME + 1, 0);
        assert_eq!(parse(&bytes).unwrap_err(), "impossible length");
        // A length field pointing past the end.
        let mut bytes = encode(Kind::User, id(1), &vec![0u8; 4]).unwrap();
        bytes[21..25].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode::<Vec<u8>>(Kind::User, id(1), &bytes).is_err());
    }
}
