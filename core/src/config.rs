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

/// Failed sign-ins in a row that lock an account (Keycloak's and Moodle's
/// default lock-out threshold is of this order; OWASP Authentication Cheat
/// Sheet: lock after a small number of failures, for a limited time).
pub const LOCKOUT_FAILURES: u32 = 5;
/// How long a locked account stays locked, in minutes (Keycloak's default
/// wait increment is 1 minute, Moodle's lock-out window 30; OWASP suggests
/// minutes, not a permanent lock that invites denial of service).
pub const LOCKOUT_MINUTES: i64 = 15;
/// Session lifetime in hours (SPEC 2).
pub const SESSION_HOURS: i64 = 24;
/// Bytes of randomness in a session token: 256 bits (SPEC A1; OWASP Session
/// Management Cheat Sheet asks for at least 64 bits of entropy).
pub const TOKEN_BYTES: usize = 32;

/// When repeated failed sign-ins lock an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures in a row that lock the account (0: never lock).
    pub max_failures: u32,
    /// How long the lock lasts.
    pub duration: chrono::Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy {
            max_failures: LOCKOUT_FAILURES,
            duration: chrono::Duration::minutes(LOCKOUT_MINUTES),
        }
    }
}

/// The institute's default time zone: India Standard Time, UTC+05:30.
pub const INDIA_OFFSET_SECONDS: i32 = 5 * 3600 + 30 * 60;

/// argon2id cost parameters used for new password hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
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
    /// Lock-out after failed sign-ins.
    pub lockout: LockoutPolicy,
    /// How long a session token is valid.
    pub session_lifetime: chrono::Duration,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
    /// Password hashes and checks (argon2, legacy hashes) run at once; each
    /// holds `argon2.m_kib` of memory while it runs. Default: one per core
    /// (1 on wasm).
    pub hash_concurrency: usize,
    /// Password checks that may wait for a turn; one more is refused at once
    /// with `busy` before anything is looked up or written. Default
    /// [`HASH_QUEUE`].
    pub hash_queue: usize,
}

/// Default of [`Config::hash_queue`]: with one check per core of about
/// 50 ms, the last in the queue waits about a second on two cores.
pub const HASH_QUEUE: usize = 32;
/// Largest [`Config::hash_concurrency`] accepted.
pub const MAX_HASH_CONCURRENCY: usize = 1024;
/// Largest [`Config::hash_queue`] accepted.
pub const MAX_HASH_QUEUE: usize = 65_536;

/// One password check per core: argon2id with p = 1 uses one core fully.
pub fn default_hash_concurrency() -> usize {
    #[cfg(target_arch = "wasm32")]
    {
        1
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
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
            lockout: LockoutPolicy::default(),
            session_lifetime: chrono::Duration::hours(SESSION_HOURS),
            clock: Arc::new(SystemClock),
            hash_concurrency: default_hash_concurrency(),
            hash_queue: HASH_QUEUE,
        }
    }
}

impl Config {
    /// This configuration with another clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Fails when a setting cannot work: argon2 costs argon2 refuses, a page
    /// size of 0 or above the maximum, a lifetime or lock-out duration that
    /// is not positive, a hashing concurrency of 0 or a gate beyond its
    /// bounds.
    pub fn check(&self) -> crate::Result<()> {
        let mut errors = crate::FieldErrors::new();
        let a = self.argon2;
        if argon2::Params::new(a.m_kib, a.t, a.p, None).is_err() {
            errors.add(
                "argon2",
                format!("argon2 refuses m={} KiB, t={}, p={}", a.m_kib, a.t, a.p),
            );
        }
        if self.page_size == 0 || self.max_page_size < self.page_size {
            errors.add(
                "page_size",
                "The page size must be at least 1 and at most the maximum.",
            );
        }
        if self.session_lifetime <= chrono::Duration::zero() {
            errors.add("session_lifetime", "The session lifetime must be positive.");
        }
        if self.lockout.max_failures > 0 && self.lockout.duration <= chrono::Duration::zero() {
            errors.add("lockout", "A lock-out must last a positive time.");
        }
        if !(1..=MAX_HASH_CONCURRENCY).contains(&self.hash_concurrency) {
            errors.add(
                "hash_concurrency",
                format!("The hashing concurrency must be 1 to {MAX_HASH_CONCURRENCY}."),
            );
        }
        if self.hash_queue > MAX_HASH_QUEUE {
            errors.add(
                "hash_queue",
                format!("The hashing queue must be at most {MAX_HASH_QUEUE}."),
            );
        }
        errors.into_result()
    }

    /// This configuration with another base URL (trailing slashes dropped).
    pub fn with_base_url(mut self, base_url: &str) -> Self {
        self.base_url = base_url.trim_end_matches('/').to_string();
        self
    }
}
