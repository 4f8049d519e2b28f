//! Tests that cross layers: they see the crate's private items (so they
//! cannot live in `tests/`) and use modules above the one they test (so
//! they do not live next to it; see [`layers`] for which module may use
//! which).

mod gate;
mod layers;
mod secrets;
