//! The bodies of roster's fuzz targets, as plain functions of the input
//! bytes: `fuzz_targets/*.rs` hand them to libFuzzer (`cargo fuzz run`), and
//! `src/bin/smoke.rs` feeds them seeded random and mutated inputs on a stable
//! toolchain. Each panics when an invariant breaks.

pub mod rest;
pub mod validators;

/// Reads the input as a sequence of fields, one byte at a time or a
/// NUL-separated chunk at a time; past the end everything is zero or empty.
pub(crate) struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Bytes { data }
    }

    pub(crate) fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// The bytes up to the next NUL (consumed), or all that is left.
    pub(crate) fn chunk(&mut self) -> &'a [u8] {
        match self.data.iter().position(|&b| b == 0) {
            Some(i) => {
                let (chunk, rest) = self.data.split_at(i);
                self.data = &rest[1..];
                chunk
            }
            None => std::mem::take(&mut self.data),
        }
    }

    pub(crate) fn text(&mut self) -> String {
        String::from_utf8_lossy(self.chunk()).into_owned()
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }
}
