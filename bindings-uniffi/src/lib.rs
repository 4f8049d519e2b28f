//! roster for Kotlin, Swift and Python, through uniffi.
//!
//! Placeholder: Step 4 fills this crate with thin newtypes over
//! [`roster::Institute`] and a `uniffi-bindgen` binary.

/// The core's store format version, re-exported so this crate links it.
pub fn schema_version() -> u64 {
    roster::Institute::schema_version()
}
