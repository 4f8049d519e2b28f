//! `validators`: the field rules of `roster::domain::rules` and
//! `roster::domain::states::parse` on arbitrary strings.
//!
//! Input: byte 0 picks the `max` of `text`, bytes 1-2 a day for "today"; the
//! rest, read as UTF-8 (lossily), is the value, and after its first NUL the
//! username given to `password`. Every rule gets every input.

use crate::Bytes;
use chrono::{Datelike, NaiveDate};
use roster::PasswordPolicy;
use roster::domain::rules::{self, fold, format_dmy, parse_dmy, parse_ymd};
use roster::domain::states;

/// The fuzz target.
pub fn validators(data: &[u8]) {
    let mut input = Bytes::new(data);
    let max = usize::from(input.byte());
    let day = u16::from_le_bytes([input.byte(), input.byte()]);
    let today = NaiveDate::from_ymd_opt(2000, 1, 1).expect("date")
        + chrono::Duration::days(i64::from(day) * 3 - 40_000);
    let value = input.text();
    let username = input.text();
    check_all(&value, &username, max, today);
    // Padded forms reach the trimming paths.
    check_all(&format!("  {value}\t"), &username, max, today);
}

fn check_all(value: &str, username: &str, max: usize, today: NaiveDate) {
    check_text(value, max);
    check_username(value);
    check_email(value);
    check_phone(value);
    check_zip(value);
    check_dates(value, today);
    check_password(value, username);
    check_url(value);
    check_state(value);
    let folded = fold(value);
    assert_eq!(fold(&folded), folded, "fold is not idempotent on {value:?}");
}

fn check_text(value: &str, max: usize) {
    for max in [max, rules::NAME_MAX, rules::TEXT_MAX] {
        if let Ok(v) = rules::text(value, max) {
            assert_eq!(v, value.trim());
            assert!(v.chars().count() <= max);
            assert!(!v.chars().any(char::is_control), "{value:?}");
            assert_eq!(rules::text(&v, max), Ok(v.clone()), "text of {value:?}");
            assert_eq!(rules::multiline_text(&v, max), Ok(v.clone()));
        }
        if let Ok(v) = rules::multiline_text(value, max) {
            assert_eq!(v, value.trim());
            assert_eq!(rules::multiline_text(&v, max), Ok(v.clone()));
        }
    }
}

fn check_username(value: &str) {
    match rules::username(value) {
        Ok(v) => {
            // Stored in NFKC form (`ＡＬＩＣＥ` is `ALICE`).
            assert_eq!(v, rules::nfkc(value));
            assert!((1..=rules::USERNAME_MAX).contains(&v.chars().count()));
            assert_eq!(rules::username(&v), Ok(v.clone()));
        }
        Err(message) => assert!(!message.is_empty()),
    }
}

fn check_email(value: &str) {
    if let Ok(v) = rules::email(value) {
        assert_eq!(v, rules::nfkc(value).trim());
        assert!(v.is_ascii() && v.contains('@') && v.len() <= rules::EMAIL_MAX);
        assert_eq!(rules::email(&v), Ok(v.clone()), "email of {value:?}");
    }
}

fn check_phone(value: &str) {
    if let Ok(v) = rules::phone(value) {
        let digits = v.strip_prefix('+').unwrap_or(&v);
        assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{v:?}");
        assert!(!digits.starts_with('0'), "{v:?}");
        if v.starts_with('+') {
            assert!((8..=15).contains(&digits.len()), "{v:?}");
            assert!(!digits.starts_with("91"), "+91 is stored national: {v:?}");
        } else {
            assert_eq!(v.len(), 10, "{v:?}");
        }
        assert_eq!(rules::phone(&v), Ok(v.clone()), "phone of {value:?}");
    }
}

fn check_zip(value: &str) {
    if let Ok(v) = rules::zip(value) {
        assert_eq!(v, value.trim());
        assert_eq!(rules::zip(&v), Ok(v.clone()));
    }
}

fn check_dates(value: &str, today: NaiveDate) {
    if let Some(d) = parse_dmy(value) {
        assert_eq!(format_dmy(d), value, "parse_dmy/format_dmy of {value:?}");
    }
    if let Ok(d) = rules::birth_date(value, today) {
        assert!(d <= today);
        assert_eq!(format_dmy(d), value.trim());
    }
    if let Some(d) = parse_ymd(value) {
        assert_eq!(d.format("%Y-%m-%d").to_string(), value);
    }
    if let Ok(d) = rules::expires(value, today) {
        assert!(d >= today);
        assert_eq!(d.format("%Y-%m-%d").to_string(), value.trim());
    }
    // Every date of years 1-9999 round-trips through DD/MM/YYYY.
    let ordinal = value
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    let first = NaiveDate::from_ymd_opt(1, 1, 1).expect("date");
    let last = NaiveDate::from_ymd_opt(9999, 12, 31).expect("date");
    let span = (last - first).num_days() as u32 + 1;
    let d = first + chrono::Duration::days(i64::from(ordinal % span));
    assert!((1..=9999).contains(&d.year()));
    assert_eq!(parse_dmy(&format_dmy(d)), Some(d), "{d}");
}

fn check_password(value: &str, username: &str) {
    let strict = PasswordPolicy::default();
    let lax = PasswordPolicy {
        min_length: 0,
        forbid_all_digits: false,
        forbid_username: false,
        ..PasswordPolicy::default()
    };
    for policy in [&strict, &lax] {
        let length = value.chars().count();
        match rules::password(value, username, policy) {
            Ok(()) => {
                assert!((policy.min_length..=policy.max_length).contains(&length));
                assert!(!value.contains('\0'));
                if policy.forbid_all_digits && !value.is_empty() {
                    assert!(!value.chars().all(|c| c.is_ascii_digit()));
                }
            }
            Err(problems) => {
                assert!(!problems.is_empty() && problems.len() <= 4, "{problems:?}");
                assert!(problems.iter().all(|p| !p.is_empty()));
            }
        }
    }
}

fn check_url(value: &str) {
    if let Ok(v) = rules::url(value) {
        assert_eq!(v, value.trim());
        assert!(v.starts_with("http://") || v.starts_with("https://"));
        assert!(!v.chars().any(|c| c.is_whitespace() || c.is_control()));
        assert_eq!(rules::url(&v), Ok(v.clone()));
    }
}

fn check_state(value: &str) {
    if let Some(s) = states::parse(value) {
        assert_eq!(states::by_code(s.code), Some(s));
        assert_eq!(states::parse(s.code), Some(s), "{value:?}");
        assert_eq!(states::parse(s.name), Some(s), "{value:?}");
        assert_eq!(states::parse(&s.name.to_uppercase()), Some(s));
        assert_eq!(
            states::parse(&format!(" {} ", s.code.to_lowercase())),
            Some(s)
        );
    }
}
