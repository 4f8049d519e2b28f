//! Institute configuration (SPEC 2).

use crate::clock::{Clock, FixedClock, SystemClock};
use crate::error::FieldErrors;
use chrono::FixedOffset;
use serde::Deserialize;
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
/// Largest lock-out threshold a configuration may set, and so the most
/// failed sign-ins in a row a stored user may carry: a count a restore or an
/// edited store brings in above it can only be an edit, and the bound keeps
/// the count far from the end of its type.
pub const MAX_LOCKOUT_FAILURES: u32 = 1_000_000;
/// How long a locked account stays locked, in minutes (Keycloak's default
/// wait increment is 1 minute, Moodle's lock-out window 30; OWASP suggests
/// minutes, not a permanent lock that invites denial of service).
pub const LOCKOUT_MINUTES: i64 = 15;
/// Session lifetime in hours (SPEC 2).
pub const SESSION_HOURS: i64 = 24;
/// Bytes of randomness in a session token: 256 bits (SPEC A1; OWASP Session
/// Management Cheat Sheet asks for at least 64 bits of entropy).
pub const TOKEN_BYTES: usize = 32;
/// The most live sessions one user holds: a new one ends the oldest beyond
/// it. Every sign-in, and every managed user's token a manager is given
/// (Sunbird's `withTokens`), is a session row until it expires; without a
/// bound one request could add thirty of them, and each new session reads
/// the user's others.
pub const SESSIONS_PER_USER: usize = 1_000;

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

/// Largest `max_page_size` a configuration may set: a page is built in
/// memory, so the bound keeps one request's answer bounded.
pub const MAX_PAGE_SIZE_LIMIT: u32 = 10_000;
/// Largest Sunbird search cap (`sunbird.search_cap`) a configuration may
/// set: a search's page of records is built in memory (room for `limit`
/// of them is made before the first is read), so "no cap" is not a
/// setting.
pub const MAX_SEARCH_CAP: u32 = 100_000;
/// Longest session lifetime or lock-out a configuration may set: 366 days,
/// in seconds. Beyond a year a token is as good as a password (OWASP Session
/// Management Cheat Sheet: absolute timeouts of hours to days), and the bound
/// keeps every `now + duration` far from the range of a timestamp.
pub const MAX_DURATION_SECONDS: i64 = 366 * 24 * 3600;
/// Largest `password_max_length` a configuration may set: the maximum exists
/// to bound the hashing work one input can cause (OWASP: a limit of at least
/// 64 characters; 4096 leaves room for pass phrases).
pub const MAX_PASSWORD_LENGTH_LIMIT: usize = 4096;
/// Largest argon2 parallelism a configuration may set (each lane is a thread
/// of work on a sign-in; OWASP's configurations use 1).
pub const ARGON2_MAX_P: u32 = 16;
/// The largest argon2 memory cost accepted, in KiB (256 MiB): in a
/// configuration, and in an imported hash (SPEC A4).
pub(crate) const ARGON2_MAX_M_KIB: u32 = 256 * 1024;
/// The largest argon2 time cost (passes) accepted, as [`ARGON2_MAX_M_KIB`].
pub(crate) const ARGON2_MAX_T: u32 = 10;

/// The institute's default time zone: India Standard Time, UTC+05:30.
pub const INDIA_OFFSET_SECONDS: i32 = 5 * 3600 + 30 * 60;

/// argon2id cost parameters used for new password hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
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
    /// The Sunbird surface's limits and choices.
    pub sunbird: SunbirdPolicy,
    /// How long the change feed keeps an entry (SPEC X4): older ones are
    /// trimmed, as new ones come on a store file, and by
    /// [`crate::Admin::purge_changes`] everywhere. Default
    /// [`CHANGE_RETENTION_DAYS`] days; from 1 to 36500 days.
    pub change_retention: chrono::Duration,
}

/// How many days the change feed keeps an entry by default.
pub const CHANGE_RETENTION_DAYS: i64 = 90;
/// The longest retention of the change feed, in days (a hundred years).
const MAX_RETENTION_DAYS: i64 = 36_500;

/// The Sunbird surface's limits and choices (SPEC 6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SunbirdPolicy {
    /// Signup (`/api/user/v1/signup`, `/v2/signup`) needs no session.
    /// Default false: it needs `add_user`, like create.
    pub self_signup: bool,
    /// Managed users one user may have (S3). Default 30.
    pub managed_limit: u32,
    /// Largest `limit` of a search (S4). Default 10,000.
    pub search_cap: u32,
    /// How much each profile attribute weighs in a read's `completeness`
    /// (S6). Default: equal.
    pub completeness: CompletenessWeights,
}

impl Default for SunbirdPolicy {
    fn default() -> Self {
        SunbirdPolicy {
            self_signup: false,
            managed_limit: 30,
            search_cap: 10_000,
            completeness: CompletenessWeights::default(),
        }
    }
}

/// The weights of the fourteen profile attributes in a Sunbird user's
/// `completeness` (S6): the ceiling of the filled attributes' share of the
/// whole weight, in percent. Weights are relative: the default, 1 each, is
/// the documents' 100/14 an attribute. An attribute of weight 0 counts for
/// nothing and is never listed in `missingFields`; with every weight 0 a
/// profile is 100% complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletenessWeights {
    /// `firstName`.
    pub first_name: u32,
    /// `lastName`.
    pub last_name: u32,
    /// `dob`.
    pub dob: u32,
    /// `avatar`.
    pub avatar: u32,
    /// `gender`.
    pub gender: u32,
    /// `grade`.
    pub grade: u32,
    /// `language`.
    pub language: u32,
    /// `location` (`profileLocation`).
    pub location: u32,
    /// `profileSummary`.
    pub profile_summary: u32,
    /// `subject`.
    pub subject: u32,
    /// `userName`.
    pub user_name: u32,
    /// `address`.
    pub address: u32,
    /// `education`.
    pub education: u32,
    /// `jobProfile`.
    pub job_profile: u32,
}

impl Default for CompletenessWeights {
    fn default() -> Self {
        CompletenessWeights {
            first_name: 1,
            last_name: 1,
            dob: 1,
            avatar: 1,
            gender: 1,
            grade: 1,
            language: 1,
            location: 1,
            profile_summary: 1,
            subject: 1,
            user_name: 1,
            address: 1,
            education: 1,
            job_profile: 1,
        }
    }
}

impl CompletenessWeights {
    /// Each attribute's name as a read's `missingFields` gives it, with its
    /// weight, in the documents' order.
    pub(crate) fn named(&self) -> [(&'static str, u32); 14] {
        [
            ("firstName", self.first_name),
            ("lastName", self.last_name),
            ("dob", self.dob),
            ("avatar", self.avatar),
            ("gender", self.gender),
            ("grade", self.grade),
            ("language", self.language),
            ("location", self.location),
            ("profileSummary", self.profile_summary),
            ("subject", self.subject),
            ("userName", self.user_name),
            ("address", self.address),
            ("education", self.education),
            ("jobProfile", self.job_profile),
        ]
    }
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
            sunbird: SunbirdPolicy::default(),
            change_retention: chrono::Duration::days(CHANGE_RETENTION_DAYS),
        }
    }
}

impl Config {
    /// The current instant: the clock's, kept within the range roster works
    /// with ([`crate::clock::within_range`]). Every "now" of roster is read
    /// here.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        crate::clock::within_range(self.clock.now())
    }

    /// This configuration with another clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Fails when a setting cannot work or is out of its bounds (see
    /// [`Settings`] for the limits): argon2 costs argon2 refuses or above
    /// the import caps, a page size of 0 or above the maximum, a lifetime or
    /// lock-out duration that is not positive or longer than a year, a
    /// password length limit out of range, a hashing concurrency of 0 or a
    /// gate beyond its bounds; and, in a build without the cargo feature
    /// `unicode-tables`, when no NFKC normaliser is installed
    /// ([`crate::text::install_nfkc`]).
    pub fn check(&self) -> crate::Result<()> {
        let mut errors = FieldErrors::new();
        self.problems(&mut errors);
        errors.into_result()
    }

    fn problems(&self, errors: &mut FieldErrors) {
        if !crate::text::nfkc_available() {
            // A build without the cargo feature unicode-tables, before its
            // normaliser is installed: names could not be normalised.
            errors.add("unicode", crate::text::NFKC_MISSING);
        }
        let a = self.argon2;
        if argon2::Params::new(a.m_kib, a.t, a.p, None).is_err() {
            errors.add(
                "argon2",
                format!("argon2 refuses m={} KiB, t={}, p={}", a.m_kib, a.t, a.p),
            );
        } else if a.m_kib > ARGON2_MAX_M_KIB || a.t > ARGON2_MAX_T || a.p > ARGON2_MAX_P {
            errors.add(
                "argon2",
                format!(
                    "argon2 costs must be at most m={} KiB, t={}, p={ARGON2_MAX_P} \
                     (the caps an imported hash must meet).",
                    ARGON2_MAX_M_KIB, ARGON2_MAX_T,
                ),
            );
        }
        if self.page_size == 0 || self.max_page_size < self.page_size {
            errors.add(
                "page_size",
                "The page size must be at least 1 and at most the maximum.",
            );
        }
        if self.max_page_size > MAX_PAGE_SIZE_LIMIT {
            errors.add(
                "max_page_size",
                format!("The largest page size must be at most {MAX_PAGE_SIZE_LIMIT}."),
            );
        }
        if self.sunbird.search_cap > MAX_SEARCH_CAP {
            errors.add(
                "search_cap",
                format!("The Sunbird search cap must be at most {MAX_SEARCH_CAP}."),
            );
        }
        if self.change_retention < chrono::Duration::days(1)
            || self.change_retention > chrono::Duration::days(MAX_RETENTION_DAYS)
        {
            errors.add(
                "change_retention_days",
                format!("The change feed's retention must be from 1 to {MAX_RETENTION_DAYS} days."),
            );
        }
        let longest = chrono::Duration::seconds(MAX_DURATION_SECONDS);
        if self.session_lifetime <= chrono::Duration::zero() || self.session_lifetime > longest {
            errors.add(
                "session_lifetime_seconds",
                format!("The session lifetime must be from 1 to {MAX_DURATION_SECONDS} seconds."),
            );
        }
        if self.lockout.max_failures > MAX_LOCKOUT_FAILURES {
            errors.add(
                "lockout_max_failures",
                format!("The lock-out threshold must be at most {MAX_LOCKOUT_FAILURES}."),
            );
        }
        if self.lockout.max_failures > 0
            && (self.lockout.duration <= chrono::Duration::zero()
                || self.lockout.duration > longest)
        {
            errors.add(
                "lockout_seconds",
                format!("A lock-out must last from 1 to {MAX_DURATION_SECONDS} seconds."),
            );
        }
        let policy = &self.password_policy;
        if policy.max_length == 0
            || policy.max_length > MAX_PASSWORD_LENGTH_LIMIT
            || policy.min_length > policy.max_length
        {
            errors.add(
                "password_max_length",
                format!(
                    "The password length limits must satisfy min <= max, \
                     1 <= max <= {MAX_PASSWORD_LENGTH_LIMIT}."
                ),
            );
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
    }

    /// This configuration with another base URL (trailing slashes dropped).
    pub fn with_base_url(mut self, base_url: &str) -> Self {
        self.base_url = base_url.trim_end_matches('/').to_string();
        self
    }
}

/// The configuration as hosts and bindings give it: plain numbers, strings
/// and flags, every one optional (absent keeps [`Config::default`]'s
/// value). The one shape behind the `Config` of the uniffi bindings (Kotlin,
/// Swift, Python: snake_case or camelCase per language) and the config
/// object of the WebAssembly binding (camelCase keys, unknown keys refused).
/// [`Config::try_from`] checks it: every value out of range is a
/// `validation_failed` error naming the field, never a panic or an overflow.
///
/// Units and limits: durations in **seconds** (1 ..= [`MAX_DURATION_SECONDS`]),
/// the time zone in **minutes** east of UTC (-1439 ..= 1439), page sizes
/// 1 ..= [`MAX_PAGE_SIZE_LIMIT`], password lengths 0 ..= max, max 1 ..=
/// [`MAX_PASSWORD_LENGTH_LIMIT`], argon2 costs within argon2's own bounds and
/// the import caps (m ≤ 256 MiB, t ≤ 10, p ≤ [`ARGON2_MAX_P`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "uniffi", uniffi(name = "Config"))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct Settings {
    /// Prefix of the `url` fields of REST answers, e.g.
    /// `https://school.example`. Default: paths (`/api/v2.5/...`).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub base_url: Option<String>,
    /// The institute's time zone, minutes east of UTC: "today" for expiry
    /// is the date there. Default 330 (+05:30, India).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub time_zone_offset_minutes: Option<i32>,
    /// Default page size of lists, 1 ..= `max_page_size`. Default 20.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub page_size: Option<u32>,
    /// Largest page size a caller may ask for, at most 10000. Default 100.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub max_page_size: Option<u32>,
    /// argon2id cost of new password hashes. Default OWASP's m = 19456 KiB,
    /// t = 2, p = 1; at most m = 262144, t = 10, p = 16.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub argon2: Option<Argon2Params>,
    /// Fewest characters of a password. Default 6.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub password_min_length: Option<u32>,
    /// Most characters of a password, at most 4096. Default 1024.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub password_max_length: Option<u32>,
    /// Refuse passwords made only of digits. Default true.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub password_forbid_all_digits: Option<bool>,
    /// Refuse a password equal to the username, ignoring case. Default true.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub password_forbid_username: Option<bool>,
    /// How long a session token is valid, in seconds, 1 ..= 31622400 (366
    /// days). Default 86400.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub session_lifetime_seconds: Option<i64>,
    /// How many days the change feed keeps an entry, 1 ..= 36500. Default 90.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub change_retention_days: Option<u32>,
    /// Failed sign-ins in a row that lock an account (0: never). Default 5.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub lockout_max_failures: Option<u32>,
    /// How long a lock lasts, in seconds, 1 ..= 31622400. Default 900.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub lockout_seconds: Option<i64>,
    /// Password hashes and checks run at once, 1 ..= 1024. Default: one
    /// per core (1 on wasm32).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub hash_concurrency: Option<u32>,
    /// Hashes or checks that may wait for a turn; one more is answered
    /// `busy`. Default 32.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub hash_queue: Option<u32>,
    /// A fixed clock standing at this instant (tests, demos), from
    /// 1970-01-01 to 9998-12-31; in JS an RFC 3339 string. Default: the
    /// system clock.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional, type = "string"))]
    pub now: Option<chrono::DateTime<chrono::Utc>>,
}

/// The checked constructor: every problem of every field at once, as a
/// `validation_failed` error.
impl TryFrom<Settings> for Config {
    type Error = crate::Error;

    fn try_from(s: Settings) -> crate::Result<Config> {
        let mut errors = FieldErrors::new();
        let mut config = Config::default();
        if let Some(base) = s.base_url {
            config = config.with_base_url(&base);
        }
        if let Some(minutes) = s.time_zone_offset_minutes {
            match minutes.checked_mul(60).and_then(FixedOffset::east_opt) {
                Some(zone) => config.time_zone = zone,
                None => errors.add(
                    "time_zone_offset_minutes",
                    "The offset must be from -1439 to 1439 minutes.",
                ),
            }
        }
        if let Some(n) = s.page_size {
            config.page_size = n;
        }
        if let Some(n) = s.max_page_size {
            config.max_page_size = n;
        }
        if let Some(params) = s.argon2 {
            config.argon2 = params;
        }
        let policy = &mut config.password_policy;
        if let Some(n) = s.password_min_length {
            policy.min_length = n as usize;
        }
        if let Some(n) = s.password_max_length {
            policy.max_length = n as usize;
        }
        if let Some(b) = s.password_forbid_all_digits {
            policy.forbid_all_digits = b;
        }
        if let Some(b) = s.password_forbid_username {
            policy.forbid_username = b;
        }
        if let Some(n) = s.session_lifetime_seconds {
            match seconds(n) {
                Some(d) => config.session_lifetime = d,
                None => errors.add(
                    "session_lifetime_seconds",
                    format!(
                        "The session lifetime must be from 1 to {MAX_DURATION_SECONDS} seconds."
                    ),
                ),
            }
        }
        if let Some(days) = s.change_retention_days {
            config.change_retention = chrono::Duration::days(i64::from(days));
        }
        if let Some(n) = s.lockout_max_failures {
            config.lockout.max_failures = n;
        }
        if let Some(n) = s.lockout_seconds {
            match seconds(n) {
                Some(d) => config.lockout.duration = d,
                None => errors.add(
                    "lockout_seconds",
                    format!("A lock-out must last from 1 to {MAX_DURATION_SECONDS} seconds."),
                ),
            }
        }
        if let Some(n) = s.hash_concurrency {
            config.hash_concurrency = n as usize;
        }
        if let Some(n) = s.hash_queue {
            config.hash_queue = n as usize;
        }
        if let Some(at) = s.now {
            match crate::clock::in_range(at) {
                true => config = config.with_clock(Arc::new(FixedClock::new(at))),
                false => errors.add(
                    "now",
                    "The clock must stand between 1970-01-01 and 9998-12-31.",
                ),
            }
        }
        // Bounds of the values taken over as they are (a field already in
        // error keeps its first message).
        let mut bounds = FieldErrors::new();
        config.problems(&mut bounds);
        errors.merge_missing(bounds);
        errors.into_result().map(|()| config)
    }
}

/// `n` seconds as a duration, when 1 ..= [`MAX_DURATION_SECONDS`].
fn seconds(n: i64) -> Option<chrono::Duration> {
    (1..=MAX_DURATION_SECONDS)
        .contains(&n)
        .then(|| chrono::Duration::seconds(n))
}

/// How to import, as hosts and bindings give it (the uniffi
/// `ImportOptions` record, the WebAssembly `importUsers` options object).
/// `ImportOptions::try_from` (in [`crate::transfer`]) checks it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "uniffi", uniffi(name = "ImportOptions"))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct ImportSettings {
    /// Batch names every row joins besides its own.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub batches: Vec<String>,
    /// Expiry of those memberships, `yyyy-mm-dd`; also of a row's own
    /// batches when the row gives no `expires` (a row's `expires` is that
    /// of the batches it names, or of these when it names none).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub expires: Option<String>,
    /// Rows per transaction, 1 ..= [`MAX_IMPORT_CHUNK`]. Default 1000.
    /// Each transaction is a durable commit that rewrites the index pages
    /// its rows touched: rows with password hashes import about twice as
    /// fast (2.4 times in a browser store) in chunks of 10000.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub chunk_size: Option<u32>,
    /// Restore an export of format 1, which has no trailer: a file cut
    /// short cannot be told from a whole one (the report warns so).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub legacy_export: bool,
}

/// Most rows an import writes in one transaction (a chunk is held in
/// memory).
pub const MAX_IMPORT_CHUNK: u32 = 100_000;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    /// The lock-out threshold has a cap, so a stored failure count above it
    /// can only be an edit (restore and the integrity check refuse it).
    #[test]
    fn the_lockout_threshold_is_capped() {
        let mut config = Config::default();
        config.lockout.max_failures = MAX_LOCKOUT_FAILURES;
        assert!(config.check().is_ok());
        config.lockout.max_failures = MAX_LOCKOUT_FAILURES + 1;
        let err = config.check().unwrap_err();
        assert!(
            !err.fields().messages("lockout_max_failures").is_empty(),
            "{err:?}"
        );
    }

    /// The Sunbird search cap is bounded: a search makes room for `limit`
    /// records before reading one.
    #[test]
    fn the_search_cap_is_capped() {
        let mut config = Config::default();
        config.sunbird.search_cap = MAX_SEARCH_CAP;
        assert!(config.check().is_ok());
        config.sunbird.search_cap = u32::MAX;
        let err = config.check().unwrap_err();
        assert!(!err.fields().messages("search_cap").is_empty(), "{err:?}");
    }

    fn refused(settings: Settings) -> crate::Error {
        let e = Config::try_from(settings).expect_err("refused");
        assert_eq!(e.code(), ErrorCode::Validation, "{e}");
        e
    }

    #[test]
    fn empty_settings_are_the_default_config() {
        let config = Config::try_from(Settings::default()).unwrap();
        let core = Config::default();
        assert_eq!(config.page_size, core.page_size);
        assert_eq!(config.max_page_size, core.max_page_size);
        assert_eq!(config.argon2, core.argon2);
        assert_eq!(config.lockout, core.lockout);
        assert_eq!(config.time_zone, core.time_zone);
        assert_eq!(config.session_lifetime, core.session_lifetime);
        assert_eq!(config.password_policy, core.password_policy);
        assert!(core.check().is_ok());
    }

    #[test]
    fn every_setting_applies_in_its_unit() {
        let at = chrono::DateTime::parse_from_rfc3339("2023-01-12T11:06:19+05:30")
            .unwrap()
            .to_utc();
        let config = Config::try_from(Settings {
            base_url: Some("https://school.example/".into()),
            time_zone_offset_minutes: Some(-300),
            page_size: Some(5),
            max_page_size: Some(50),
            argon2: Some(Argon2Params::insecure_fast()),
            password_min_length: Some(10),
            password_max_length: Some(64),
            password_forbid_all_digits: Some(false),
            password_forbid_username: Some(false),
            session_lifetime_seconds: Some(3600),
            change_retention_days: Some(30),
            lockout_max_failures: Some(3),
            lockout_seconds: Some(60),
            hash_concurrency: Some(3),
            hash_queue: Some(7),
            now: Some(at),
        })
        .unwrap();
        assert_eq!((config.hash_concurrency, config.hash_queue), (3, 7));
        assert_eq!(config.base_url, "https://school.example");
        assert_eq!(config.time_zone.local_minus_utc(), -300 * 60);
        assert_eq!((config.page_size, config.max_page_size), (5, 50));
        assert_eq!(config.argon2, Argon2Params::insecure_fast());
        assert_eq!(
            config.password_policy,
            PasswordPolicy {
                min_length: 10,
                max_length: 64,
                forbid_all_digits: false,
                forbid_username: false
            }
        );
        assert_eq!(config.session_lifetime, chrono::Duration::hours(1));
        assert_eq!(config.change_retention, chrono::Duration::days(30));
        assert_eq!(config.lockout.max_failures, 3);
        assert_eq!(config.lockout.duration, chrono::Duration::minutes(1));
        assert_eq!(config.clock.now(), at);
    }

    #[test]
    fn overflowing_huge_negative_and_zero_values_are_field_errors() {
        // Each of these once overflowed (minutes * 60), panicked
        // (chrono::Duration::seconds) or was taken as it came.
        for (settings, field) in [
            (
                Settings {
                    time_zone_offset_minutes: Some(i32::MAX),
                    ..Default::default()
                },
                "time_zone_offset_minutes",
            ),
            (
                Settings {
                    time_zone_offset_minutes: Some(i32::MIN),
                    ..Default::default()
                },
                "time_zone_offset_minutes",
            ),
            (
                Settings {
                    time_zone_offset_minutes: Some(1440),
                    ..Default::default()
                },
                "time_zone_offset_minutes",
            ),
            (
                Settings {
                    session_lifetime_seconds: Some(i64::MAX),
                    ..Default::default()
                },
                "session_lifetime_seconds",
            ),
            (
                Settings {
                    session_lifetime_seconds: Some(i64::MIN),
                    ..Default::default()
                },
                "session_lifetime_seconds",
            ),
            (
                Settings {
                    session_lifetime_seconds: Some(0),
                    ..Default::default()
                },
                "session_lifetime_seconds",
            ),
            (
                Settings {
                    change_retention_days: Some(0),
                    ..Default::default()
                },
                "change_retention_days",
            ),
            (
                Settings {
                    change_retention_days: Some(36_501),
                    ..Default::default()
                },
                "change_retention_days",
            ),
            (
                Settings {
                    session_lifetime_seconds: Some(MAX_DURATION_SECONDS + 1),
                    ..Default::default()
                },
                "session_lifetime_seconds",
            ),
            (
                Settings {
                    lockout_seconds: Some(i64::MAX),
                    ..Default::default()
                },
                "lockout_seconds",
            ),
            (
                Settings {
                    lockout_seconds: Some(-1),
                    ..Default::default()
                },
                "lockout_seconds",
            ),
            (
                Settings {
                    page_size: Some(0),
                    ..Default::default()
                },
                "page_size",
            ),
            (
                Settings {
                    page_size: Some(101),
                    ..Default::default()
                },
                "page_size",
            ),
            (
                Settings {
                    max_page_size: Some(u32::MAX),
                    page_size: Some(u32::MAX),
                    ..Default::default()
                },
                "max_page_size",
            ),
            (
                Settings {
                    password_max_length: Some(u32::MAX),
                    ..Default::default()
                },
                "password_max_length",
            ),
            (
                Settings {
                    password_max_length: Some(0),
                    ..Default::default()
                },
                "password_max_length",
            ),
            (
                Settings {
                    password_min_length: Some(2000),
                    ..Default::default()
                },
                "password_max_length",
            ),
            (
                Settings {
                    argon2: Some(Argon2Params {
                        m_kib: u32::MAX,
                        t: 1,
                        p: 1,
                    }),
                    ..Default::default()
                },
                "argon2",
            ),
            (
                Settings {
                    argon2: Some(Argon2Params {
                        m_kib: 64,
                        t: 0,
                        p: 1,
                    }),
                    ..Default::default()
                },
                "argon2",
            ),
            (
                Settings {
                    argon2: Some(Argon2Params {
                        m_kib: 1024 * 1024,
                        t: 2,
                        p: 1,
                    }),
                    ..Default::default()
                },
                "argon2",
            ),
        ] {
            let e = refused(settings.clone());
            assert!(e.fields().has(field), "{settings:?}: {e}");
        }
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let e = refused(Settings {
            time_zone_offset_minutes: Some(i32::MAX),
            session_lifetime_seconds: Some(-5),
            lockout_seconds: Some(i64::MAX),
            ..Default::default()
        });
        for field in [
            "time_zone_offset_minutes",
            "session_lifetime_seconds",
            "lockout_seconds",
        ] {
            assert!(e.fields().has(field), "{e}");
        }
    }

    #[test]
    fn the_limits_themselves_are_accepted() {
        let config = Config::try_from(Settings {
            time_zone_offset_minutes: Some(-1439),
            session_lifetime_seconds: Some(MAX_DURATION_SECONDS),
            lockout_seconds: Some(MAX_DURATION_SECONDS),
            max_page_size: Some(MAX_PAGE_SIZE_LIMIT),
            password_max_length: Some(MAX_PASSWORD_LENGTH_LIMIT as u32),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            config.session_lifetime,
            chrono::Duration::seconds(MAX_DURATION_SECONDS)
        );
    }

    #[test]
    fn a_rust_config_is_held_to_the_same_bounds() {
        let config = Config {
            session_lifetime: chrono::Duration::MAX,
            ..Default::default()
        };
        assert!(
            config
                .check()
                .unwrap_err()
                .fields()
                .has("session_lifetime_seconds")
        );
    }

    #[test]
    fn settings_read_from_camel_case_json_and_refuse_unknown_keys() {
        let s: Settings = serde_json::from_value(serde_json::json!({
            "sessionLifetimeSeconds": 60,
            "lockoutMaxFailures": 2,
            "argon2": {"mKib": 64, "t": 1, "p": 1},
            "now": "2023-01-12T11:06:19+05:30",
        }))
        .unwrap();
        assert_eq!(s.session_lifetime_seconds, Some(60));
        assert_eq!(s.argon2, Some(Argon2Params::insecure_fast()));
        assert!(
            serde_json::from_value::<Settings>(serde_json::json!({"sessionLifeTimeSeconds": 1}))
                .is_err()
        );
    }
}
