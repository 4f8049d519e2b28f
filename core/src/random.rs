//! The one source of randomness (ARCHITECTURE convention 6): the operating
//! system's CSPRNG through `getrandom` (the browser's `crypto.getRandomValues`
//! on wasm32).

use crate::error::Internal;

/// `N` random bytes.
pub(crate) fn bytes<const N: usize>() -> Result<[u8; N], Internal> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|e| Internal::Random(e.to_string()))?;
    Ok(out)
}

/// A uniformly random number below `bound` (rejection sampling, no bias).
pub(crate) fn below(bound: u32) -> Result<u32, Internal> {
    assert!(bound > 0, "bound must be positive");
    let zone = u32::MAX - (u32::MAX % bound);
    loop {
        let n = u32::from_le_bytes(bytes()?);
        if n < zone {
            return Ok(n % bound);
        }
    }
}

/// A random version-4 UUID.
pub(crate) fn uuid() -> Result<u128, Internal> {
    Ok(uuid_v4(bytes()?))
}

/// A version-4 UUID from 16 random bytes.
pub fn uuid_v4(random: [u8; 16]) -> u128 {
    let mut b = random;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    u128::from_be_bytes(b)
}
