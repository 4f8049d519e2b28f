//! libFuzzer entry of `rest_handle`; the body is `roster_fuzz::rest`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| roster_fuzz::rest::rest_handle(data));
