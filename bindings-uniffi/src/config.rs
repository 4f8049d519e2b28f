//! The configuration record of an institute: every field optional, each
//! absent one keeps the core's default ([`roster::Config::default`]).

use crate::error::{Result, RosterError};
use roster::{Argon2Params, FixedClock, LockoutPolicy};
use std::sync::Arc;
use std::time::SystemTime;

/// How to run an institute. `Config()` is the default configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct Config {
    /// Prefix of the `url` fields of REST answers, e.g.
    /// `https://school.example`. Default: paths (`/api/v2.5/...`).
    #[uniffi(default)]
    pub base_url: Option<String>,
    /// The institute's time zone, minutes east of UTC: "today" for expiry
    /// is the date there. Default 330 (+05:30, India).
    #[uniffi(default)]
    pub time_zone_offset_minutes: Option<i32>,
    /// Default page size of lists. Default 20.
    #[uniffi(default)]
    pub page_size: Option<u32>,
    /// Largest page size a caller may ask for. Default 100.
    #[uniffi(default)]
    pub max_page_size: Option<u32>,
    /// argon2id cost of new password hashes. Default OWASP's m = 19456 KiB,
    /// t = 2, p = 1.
    #[uniffi(default)]
    pub argon2: Option<Argon2Params>,
    /// Fewest characters of a password. Default 6.
    #[uniffi(default)]
    pub password_min_length: Option<u32>,
    /// Most characters of a password. Default 1024.
    #[uniffi(default)]
    pub password_max_length: Option<u32>,
    /// How long a session token is valid, in seconds. Default 86400.
    #[uniffi(default)]
    pub session_lifetime_seconds: Option<i64>,
    /// Failed sign-ins in a row that lock an account (0: never). Default 5.
    #[uniffi(default)]
    pub lockout_max_failures: Option<u32>,
    /// How long a lock lasts, in seconds. Default 900.
    #[uniffi(default)]
    pub lockout_seconds: Option<i64>,
    /// A fixed clock standing at this instant (tests, demos). Default: the
    /// system clock.
    #[uniffi(default)]
    pub now: Option<SystemTime>,
}

impl TryFrom<Config> for roster::Config {
    type Error = RosterError;

    fn try_from(c: Config) -> Result<roster::Config> {
        let mut config = roster::Config::default();
        if let Some(base) = c.base_url {
            config = config.with_base_url(&base);
        }
        if let Some(minutes) = c.time_zone_offset_minutes {
            config.time_zone = minutes
                .checked_mul(60)
                .and_then(chrono::FixedOffset::east_opt)
                .ok_or_else(|| {
                    RosterError::argument("time_zone_offset_minutes", "Out of range.")
                })?;
        }
        if let Some(n) = c.page_size {
            config.page_size = n;
        }
        if let Some(n) = c.max_page_size {
            config.max_page_size = n;
        }
        if let Some(params) = c.argon2 {
            config.argon2 = params;
        }
        if let Some(n) = c.password_min_length {
            config.password_policy.min_length = n as usize;
        }
        if let Some(n) = c.password_max_length {
            config.password_policy.max_length = n as usize;
        }
        if let Some(s) = c.session_lifetime_seconds {
            config.session_lifetime = seconds("session_lifetime_seconds", s)?;
        }
        let defaults = LockoutPolicy::default();
        config.lockout = LockoutPolicy {
            max_failures: c.lockout_max_failures.unwrap_or(defaults.max_failures),
            duration: match c.lockout_seconds {
                Some(s) => seconds("lockout_seconds", s)?,
                None => defaults.duration,
            },
        };
        if let Some(at) = c.now {
            config = config.with_clock(Arc::new(FixedClock::new(at.into())));
        }
        Ok(config)
    }
}

fn seconds(field: &str, s: i64) -> Result<chrono::Duration> {
    chrono::Duration::try_seconds(s)
        .filter(|d| *d >= chrono::Duration::zero())
        .ok_or_else(|| RosterError::argument(field, "Out of range."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_config_is_the_core_default() {
        let config = roster::Config::try_from(Config::default()).unwrap();
        let core = roster::Config::default();
        assert_eq!(config.page_size, core.page_size);
        assert_eq!(config.argon2, core.argon2);
        assert_eq!(config.lockout, core.lockout);
        assert_eq!(config.time_zone, core.time_zone);
        assert_eq!(config.session_lifetime, core.session_lifetime);
    }

    #[test]
    fn fields_override_and_bad_values_are_validation_errors() {
        let config = roster::Config::try_from(Config {
            time_zone_offset_minutes: Some(0),
            lockout_max_failures: Some(3),
            argon2: Some(Argon2Params::insecure_fast()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(config.time_zone.local_minus_utc(), 0);
        assert_eq!(config.lockout.max_failures, 3);
        assert_eq!(config.argon2, Argon2Params::insecure_fast());
        let bad = roster::Config::try_from(Config {
            time_zone_offset_minutes: Some(100_000),
            ..Default::default()
        });
        assert!(matches!(bad, Err(RosterError::Validation { .. })));
    }
}
