//! roster for browsers and Node, through wasm-bindgen.
//!
//! Thin by design (ARCHITECTURE convention 1): its `Institute` and `Admin`
//! (wasm32 only) are newtypes over the core's [`roster::Institute`] and
//! [`roster::Admin`], and every method is one delegation plus
//! the conversion of its arguments and result. Objects cross as the
//! documented JSON shapes ([`roster::json`]); errors as JS `Error`s with
//! `code` and `fields`. No rule lives here.
//!
//! Only the wasm32 target has a JS side; on other targets this crate is
//! empty, so the workspace builds and tests everywhere.

#![cfg_attr(target_arch = "wasm32", allow(unsafe_code))]

#[cfg(target_arch = "wasm32")]
mod access;
#[cfg(target_arch = "wasm32")]
mod admin;
#[cfg(target_arch = "wasm32")]
mod catalogue;
#[cfg(target_arch = "wasm32")]
mod convert;
#[cfg(target_arch = "wasm32")]
mod error;
#[cfg(target_arch = "wasm32")]
mod institute;
#[cfg(target_arch = "wasm32")]
mod opfs;
#[cfg(target_arch = "wasm32")]
mod sunbird;
#[cfg(target_arch = "wasm32")]
mod types;
#[cfg(target_arch = "wasm32")]
mod unicode;

#[cfg(target_arch = "wasm32")]
pub use admin::Admin;
#[cfg(target_arch = "wasm32")]
pub use error::RosterError;
#[cfg(target_arch = "wasm32")]
pub use institute::Institute;
