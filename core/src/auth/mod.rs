//! Passwords and (from Step 2) sessions, lock-out and permissions.

pub mod password;
pub(crate) mod legacy;
