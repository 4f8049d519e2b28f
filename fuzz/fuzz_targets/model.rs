//! libFuzzer entry of `model`: the bytes are a sequence of user operations
//! (`roster::model::ops_from`), applied to the plain model of the rules and
//! to roster on three backends; any disagreement is a crash.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let config = roster::Config {
        argon2: roster::Argon2Params::insecure_fast(),
        ..roster::Config::default()
    };
    let ops = roster::model::ops_from(data);
    if let Err(why) = roster::model::check(&ops, &config) {
        panic!("roster and the model disagree: {why}");
    }
});
