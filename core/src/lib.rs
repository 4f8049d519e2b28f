#![doc = include_str!("../README.md")]

// Imports point down only (ARCHITECTURE.md): rest/ -> json, transfer, ffi
// -> api/ -> domain/ -> auth/ -> base (config, error, clock, random, text,
// private_file); store/ uses domain/'s records, no rule and no auth/. Only
// rest/ names rest/. `src/tests/layers.rs` states it in full and checks it.
pub mod api;
pub mod auth;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
#[cfg(feature = "uniffi")]
pub mod ffi;
pub mod json;
#[cfg(feature = "testing")]
pub mod model;
pub(crate) mod private_file;
mod random;
pub mod rest;
pub mod store;
#[cfg(test)]
mod tests;
mod text;
pub mod transfer;

pub use api::{Admin, Caller, Created, Institute, UserQuery};
pub use api::{Dump, ImportReport, ImportRow, Login, PermissionView, Rejected};
pub use auth::permissions::{Action, Model, Permission};
pub use clock::{Clock, FixedClock, SystemClock};
pub use config::{
    Argon2Params, CompletenessWeights, Config, LockoutPolicy, PasswordPolicy, SunbirdPolicy,
};
pub use config::{ImportSettings, Settings};
pub use domain::course::{CourseInput, CourseView};
pub use domain::custom_field::{
    CustomFieldInput, CustomFieldView, CustomInput, CustomValue, FieldKind,
};
pub use domain::feed::{Change, ChangeOp, ChangePage, Entity};
pub use domain::group::{GroupInput, GroupView};
pub use domain::outbox::{Channel, OutboxMessage};
pub use domain::user::{
    AccessInput, BatchRef, CreateOptions, Gender, NewUser, ProfileInput, UserPatch, UserView,
};
pub use domain::{BatchInput, BatchView, Page, PageRequest, SubscriptionView};
pub use error::{Error, ErrorCode, FieldErrors, FieldMessages, Result};
pub use store::{Backend, HostFile, ModelBackend};

// The uniffi namespace `roster` of the records and enums that derive uniffi's
// traits (feature `uniffi`, off by default; see `ffi`).
#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!("roster");
