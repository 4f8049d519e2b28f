//! roster for Kotlin, Swift and Python, through uniffi.
//!
//! Thin by design (ARCHITECTURE convention 1): [`Institute`] and [`Admin`]
//! are newtypes over the core's, and every method is one delegation. The
//! records and enums that cross the boundary are the core's own
//! (`roster` with its `uniffi` feature: namespace `roster` in the
//! bindings); this crate adds only what is binding-specific: the
//! [`HttpResponse`] of `handle`, concrete page
//! records for the core's generic `Page<T>`, and the typed [`RosterError`].
//! Calls are blocking and both objects are thread-safe. No unsafe code is
//! written here (uniffi's macros generate the `extern "C"` scaffolding, and
//! the workspace's `unsafe_code = "deny"` holds).
//!
//! Bindings are generated from the built library by this crate's
//! `uniffi-bindgen` binary (see the README).

mod access;
mod admin;
mod catalogue;
mod config;
mod error;
mod institute;
mod pages;
mod rest;
mod sunbird;

pub use admin::Admin;
pub use config::{Config, ImportOptions};
pub use error::RosterError;
pub use institute::{HttpResponse, Institute, schema_version};
pub use pages::{
    BatchPage, BatchRefPage, CoursePage, CustomFieldPage, GroupPage, SubscriptionPage, UserPage,
};

uniffi::setup_scaffolding!();
