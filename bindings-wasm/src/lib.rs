//! roster for browsers and Node, through wasm-bindgen.
//!
//! Placeholder: Step 3 fills this crate with thin newtypes over
//! [`roster::Institute`]. It depends on the core only, so the workspace
//! checks that the core keeps building for it.

/// The core's store format version, re-exported so this crate links it.
pub fn schema_version() -> u64 {
    roster::Institute::schema_version()
}
