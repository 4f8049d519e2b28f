//! Institute configuration (SPEC 2).

use crate::clock::{Clock, SystemClock};
use chrono::FixedOffset;
use std::sync::Arc;

/// Default page size of every paginated list (Django REST Framework setting of
/// the documents' examples: `"per_page": 20`).
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// Largest `per_page` a caller may ask for.
pub const MAX_PAGE_SIZE: u32 = 100;

/// argon2id memory cost in KiB. OWASP Password Storage Cheat Sheet, first
/// recommended configuration: m=19 MiB, t=2, p=1.
pub const ARGON2_DEFAULT_M_KIB: u32 = 19 * 1024;
/// argon2id iterations (OWASP, as above).
pub const ARGON2_DEFAULT_T: u32 = 2;
/// argon2id parallelism (OWASP, as above).
pub const ARGON2_DEFAULT_P: u32 = 1;

/// The institute's default time zone: India Standard Time, UTC+05:30.
pub const INDIA_OFFSET_SECONDS: i32 = 5 * 3600 + 30 * 60;

/// argon2id cost parameters used for new password hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Iterations.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl Default for Argon2Params {
    fn default() -> Self {
        Argon2Params {
            m_kib: ARGON2_DEFAULT_M_KIB,
            t: ARGON2_DEFAULT_T,
            p: ARGON2_DEFAULT_P,
        }
    }
}

impl Argon2Params {
    /// Cheap parameters for tests and examples: the same code path as
    /// production, a fraction of the cost. Never use for real passwords.
    pub fn insecure_fast() -> Self {
        Argon2Params {
            m_kib: 64,
            t: 1,
            p: 1,
        }
    }
}

/// Rules a new password must meet (SPEC 3 `password`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Fewest characters.
    pub min_length: usize,
    /// Most characters (bounds the hashing work an input can cause).
    pub max_length: usize,
    /// Refuse passwords made only of digits.
    pub forbid_all_digits: bool,
    /// Refuse a password equal to the username, ignoring case.
    pub forbid_username: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 6,
            max_length: 1024,
            forbid_all_digits: true,
            forbid_username: true,
        }
    }
}

/// Everything an institute can be configured with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Prefix of the `url` fields: `https://demo.testpress.in` gives
    /// `https://demo.testpress.in/api/v2.5/admin/users/7/`. Empty (the
    /// default) gives paths.
    pub base_url: String,
    /// The institute's time zone: "today" for expiry is the date there.
    pub time_zone: FixedOffset,
    /// Default page size.
    pub page_size: u32,
    /// Largest page size a caller may ask for.
    pub max_page_size: u32,
    /// Password rules.
    pub password_policy: PasswordPolicy,
    /// argon2id parameters for new hashes.
    pub argon2: Argon2Params,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            base_url: String::new(),
            time_zone: FixedOffset::east_opt(INDIA_OFFSET_SECONDS).expect("valid offset"),
            page_size: DEFAULT_PAGE_SIZE,
            max_page_size: MAX_PAGE_SIZE,
            password_policy: PasswordPolicy::default(),
            argon2: Argon2Params::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

impl Config {
    /// This configuration with another clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// This configuration with another base URL (trailing slashes dropped).
    pub fn with_base_url(mut self, base_url: &str) -> Self {
        self.base_url = base_url.trim_end_matches('/').to_string();
        self
    }
}
