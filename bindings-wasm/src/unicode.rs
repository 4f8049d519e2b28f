//! Unicode normalisation by the JS engine: roster-wasm builds roster
//! without its compiled-in NFKC tables (cargo feature `unicode-tables`)
//! and gives it `String.prototype.normalize("NFKC")` instead, the same
//! normal form at no cost in module size.

/// NFKC of `value` by the JS engine.
fn nfkc(value: &str) -> String {
    String::from(js_sys::JsString::from(value).normalize("NFKC"))
}

/// Installs the JS engine's normaliser in roster, once; called before any
/// institute is made (an institute cannot be made without one).
pub(crate) fn install_nfkc() {
    // false only when installed already: the same function.
    let _ = roster::domain::rules::install_nfkc(nfkc);
}
