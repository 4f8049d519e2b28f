//! libFuzzer entry of `validators`; the body is `roster_fuzz::validators`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| roster_fuzz::validators::validators(data));
