//! Passwords and (from Step 2) sessions, lock-out and permissions.

pub(crate) mod gate;
pub(crate) mod legacy;
pub mod password;
pub mod permissions;
