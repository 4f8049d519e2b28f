//! Injected time (ARCHITECTURE convention 6): every "now" of roster comes
//! from a [`Clock`], so tests and the CLI's `--now` are exact.

use chrono::{DateTime, Utc};
use std::sync::Mutex;

/// The first instant roster works with: 1970-01-01T00:00:00Z.
pub const EARLIEST_SECONDS: i64 = 0;
/// The last instant roster works with: 9998-12-31T00:00:00Z, so that
/// today's date in every time zone, and a year or so added to it (a
/// session's or a lock-out's end), is still a date of four digits, which
/// every date format roster reads and writes holds.
pub const LATEST_SECONDS: i64 = 253_370_678_400;

/// `at` if roster works with it, else the nearer of its first and last
/// instants ([`EARLIEST_SECONDS`], [`LATEST_SECONDS`]). Every reading of
/// a clock goes through it ([`Config::now`](crate::Config::now)): a host's
/// clock far out of range (an unset device clock, a custom [`Clock`]) must
/// not make a date conversion fail halfway through an operation.
pub fn within_range(at: DateTime<Utc>) -> DateTime<Utc> {
    let (first, last) = range();
    at.clamp(first, last)
}

/// Whether roster works with instant `at` as it is.
pub fn in_range(at: DateTime<Utc>) -> bool {
    within_range(at) == at
}

fn range() -> (DateTime<Utc>, DateTime<Utc>) {
    let at = |secs| DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::UNIX_EPOCH);
    (at(EARLIEST_SECONDS), at(LATEST_SECONDS))
}

/// A source of the current instant.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until it is [`set`](FixedClock::set) or
/// [`advance`](FixedClock::advance)d.
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    /// A clock stopped at `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        FixedClock(Mutex::new(at))
    }

    /// Moves the clock to `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_out_of_range_are_read_as_the_nearest_end() {
        let at = |secs| DateTime::from_timestamp(secs, 0).unwrap();
        let (first, last) = (at(EARLIEST_SECONDS), at(LATEST_SECONDS));
        assert_eq!(last.to_rfc3339(), "9998-12-31T00:00:00+00:00");
        assert_eq!(within_range(DateTime::<Utc>::MAX_UTC), last);
        assert_eq!(within_range(DateTime::<Utc>::MIN_UTC), first);
        assert_eq!(within_range(at(-1)), first);
        let now = at(1_673_501_779);
        assert_eq!(within_range(now), now);
        assert!(in_range(first) && in_range(last) && in_range(now));
        assert!(!in_range(at(LATEST_SECONDS + 1)));
    }
}
