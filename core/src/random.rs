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
    Ok(crate::domain::uuid_v4(bytes()?))
}
