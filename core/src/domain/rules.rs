//! Field rules of SPEC 3, one function per kind of field. Each returns the
//! normalised value to store, or the message to show next to the field.
//! Callers collect the messages of all fields before failing.

use chrono::{Datelike, NaiveDate};

// The name forms live in `text` (below every layer) and the password policy
// in `auth` (domain uses auth, never the reverse); their names here stay.
pub use crate::auth::password::check_policy as password;
pub use crate::text::{NFKC_MISSING, fold, install_nfkc, nfkc, nfkc_available, try_nfkc};

/// Longest username (Django's `max_length`).
pub const USERNAME_MAX: usize = 150;
/// Longest first or last name, and batch or group name.
pub const NAME_MAX: usize = 150;
/// Longest address line or city.
pub const ADDRESS_MAX: usize = 255;
/// Longest email address (RFC 5321 path limit).
pub const EMAIL_MAX: usize = 254;
/// Longest URL accepted for `photo` or a course `image`.
pub const URL_MAX: usize = 2048;
/// Longest free text (descriptions, custom text values).
pub const TEXT_MAX: usize = 10_000;

/// Message of a missing required field.
pub const REQUIRED: &str = "This field is required.";
/// Message of a blank required field.
pub const BLANK: &str = "This field may not be blank.";

fn too_long(max: usize) -> String {
    format!("Ensure this field has no more than {max} characters.")
}

/// Trimmed text without control characters, at most `max` characters.
pub fn text(value: &str, max: usize) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.chars().any(char::is_control) {
        return Err("Control characters are not allowed.".into());
    }
    if trimmed.chars().count() > max {
        return Err(too_long(max));
    }
    Ok(trimmed.to_string())
}

/// Free text that may span lines: tabs and line breaks allowed, other
/// control characters not.
pub fn multiline_text(value: &str, max: usize) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err("Control characters are not allowed.".into());
    }
    if trimmed.chars().count() > max {
        return Err(too_long(max));
    }
    Ok(trimmed.to_string())
}

/// 1-150 characters: letters, digits and `@ . + - _` (Django's username
/// rule), checked on and stored in NFKC form ([`nfkc`]).
pub fn username(value: &str) -> Result<String, String> {
    // Measured before NFKC, which shortens text at most threefold.
    if !crate::text::may_fold_to(value, USERNAME_MAX) {
        return Err(too_long(USERNAME_MAX));
    }
    let value = try_nfkc(value)?;
    if value.is_empty() {
        return Err(BLANK.into());
    }
    if value.chars().count() > USERNAME_MAX {
        return Err(too_long(USERNAME_MAX));
    }
    if !value
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '@' | '.' | '+' | '-' | '_'))
    {
        return Err("Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.".into());
    }
    Ok(value.to_string())
}

/// A valid address: `local@domain`, the local part a dot-atom of RFC 5322
/// characters, the domain dot-separated labels of letters, digits and
/// hyphens with a top-level label of two or more letters. Checked on and
/// stored in NFKC form ([`nfkc`]: a fullwidth address is its ASCII one),
/// trimmed, case as given.
pub fn email(value: &str) -> Result<String, String> {
    if !crate::text::may_fold_to(value, EMAIL_MAX) {
        return Err(too_long(EMAIL_MAX));
    }
    let value = try_nfkc(value)?;
    let value = value.trim();
    if value.chars().count() > EMAIL_MAX {
        return Err(too_long(EMAIL_MAX));
    }
    match email_shaped(value) {
        true => Ok(value.to_string()),
        false => Err("Enter a valid email address.".into()),
    }
}

/// Whether [`email`] takes `value`, without building its stored form when
/// `value` is ASCII (its own NFKC form): the Sunbird views ask it of every
/// address they mask.
pub fn is_email(value: &str) -> bool {
    if !value.is_ascii() {
        return email(value).is_ok();
    }
    let trimmed = value.trim();
    crate::text::may_fold_to(value, EMAIL_MAX)
        && trimmed.len() <= EMAIL_MAX
        && email_shaped(trimmed)
}

/// The shape [`email`] checks, on a trimmed NFKC text.
fn email_shaped(value: &str) -> bool {
    let Some((local, domain)) = value.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let (mut labels, mut last) = (0, "");
    let labels_ok = domain.split('.').all(|l| {
        labels += 1;
        last = l;
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    local_ok
        && labels_ok
        && labels >= 2
        && last.len() >= 2
        && last.chars().all(|c| c.is_ascii_alphabetic())
}

/// Digits with an optional `+country` prefix; spaces, dashes, dots and
/// brackets are dropped. Indian numbers (no prefix, or `+91`) are 10 digits
/// not starting with 0 and are stored as those 10 digits, so `+91 98765
/// 43210` and `9876543210` are one number. Other countries are stored as
/// `+<digits>`, 8 to 15 digits in all (E.164).
pub fn phone(value: &str) -> Result<String, String> {
    const INVALID: &str = "Enter a valid phone number.";
    let trimmed = value.trim();
    let (plus, rest) = match trimmed.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return Err(INVALID.into()),
        }
    }
    let national = if plus {
        match digits.strip_prefix("91") {
            Some(national) => national.to_string(),
            None => {
                return if (8..=15).contains(&digits.len()) && !digits.starts_with('0') {
                    Ok(format!("+{digits}"))
                } else {
                    Err(INVALID.into())
                };
            }
        }
    } else {
        digits
    };
    if national.len() != 10 {
        return Err("Indian phone numbers have 10 digits.".into());
    }
    if national.starts_with('0') {
        return Err(INVALID.into());
    }
    Ok(national)
}

/// Indian PIN code: 6 digits, the first not 0.
pub fn zip(value: &str) -> Result<String, String> {
    let value = value.trim();
    let ok =
        value.len() == 6 && value.bytes().all(|b| b.is_ascii_digit()) && !value.starts_with('0');
    if ok {
        Ok(value.to_string())
    } else {
        Err("Enter a valid PIN code: 6 digits, the first not 0.".into())
    }
}

/// Parses `DD/MM/YYYY` (two-digit day and month, four-digit year) into a
/// real calendar date.
pub fn parse_dmy(value: &str) -> Option<NaiveDate> {
    let bytes = value.as_bytes();
    if bytes.len() != 10 || bytes[2] != b'/' || bytes[5] != b'/' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = &value[range];
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (day, month, year) = (number(0..2)?, number(3..5)?, number(6..10)?);
    if year == 0 {
        return None;
    }
    NaiveDate::from_ymd_opt(year as i32, month, day)
}

/// `DD/MM/YYYY` of `date`.
pub fn format_dmy(date: NaiveDate) -> String {
    format!("{:02}/{:02}/{:04}", date.day(), date.month(), date.year())
}

/// A birth date: `DD/MM/YYYY`, a real calendar date, not after `today`.
pub fn birth_date(value: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let value = value.trim();
    let Some(date) = parse_dmy(value) else {
        return Err(if looks_like_dmy(value) {
            "Enter a real calendar date.".into()
        } else {
            "Date has wrong format. Use one of these formats instead: DD/MM/YYYY.".into()
        });
    };
    if date > today {
        return Err("Birth date cannot be in the future.".into());
    }
    Ok(date)
}

fn looks_like_dmy(value: &str) -> bool {
    value.len() == 10
        && value.bytes().enumerate().all(|(i, b)| {
            if i == 2 || i == 5 {
                b == b'/'
            } else {
                b.is_ascii_digit()
            }
        })
}

/// Parses `yyyy-mm-dd` strictly (the documents' format for `expires`).
pub fn parse_ymd(value: &str) -> Option<NaiveDate> {
    let bytes = value.as_bytes();
    if bytes.len() != 10
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || !bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit())
    {
        return None;
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .filter(|d| d.year() >= 1)
}

/// An expiry date: `yyyy-mm-dd`, today or later.
pub fn expires(value: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let Some(date) = parse_ymd(value.trim()) else {
        return Err("Date has wrong format. Use one of these formats instead: YYYY-MM-DD.".into());
    };
    if date < today {
        return Err("Expiry date cannot be in the past.".into());
    }
    Ok(date)
}

/// An `http` or `https` URL without spaces or control characters.
pub fn url(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.chars().count() > URL_MAX {
        return Err(too_long(URL_MAX));
    }
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.is_empty()
                && !rest.starts_with('/')
                && !value.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Ok(value.to_string())
        }
        _ => Err("Enter a valid URL.".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn birth_dates_are_real_calendar_dates_in_dd_mm_yyyy() {
        let today = d(2026, 11, 22);
        assert_eq!(birth_date("03/07/2016", today), Ok(d(2016, 7, 3)));
        assert_eq!(birth_date("29/02/2016", today), Ok(d(2016, 2, 29)));
        assert_eq!(birth_date("29/02/2000", today), Ok(d(2000, 2, 29)));
        assert!(
            birth_date("29/02/2015", today).is_err(),
            "2015 is not a leap year"
        );
        assert!(
            birth_date("29/02/1900", today).is_err(),
            "1900 is not a leap year"
        );
        assert!(
            birth_date("31/04/2016", today).is_err(),
            "April has 30 days"
        );
        assert!(birth_date("31/02/2016", today).is_err());
        assert!(birth_date("00/01/2016", today).is_err());
        assert!(birth_date("01/13/2016", today).is_err());
        assert!(birth_date("01/01/0000", today).is_err());
        for wrong in [
            "2016-07-03",
            "3/7/2016",
            "03-07-2016",
            "03/07-2016",
            "03-07/2016",
            "03/07/16",
            "",
            "aa/bb/cccc",
            "03/07/2016x",
        ] {
            let message = birth_date(wrong, today).unwrap_err();
            assert!(message.contains("DD/MM/YYYY"), "{wrong}: {message}");
        }
        assert_eq!(
            birth_date("31/04/2016", today).unwrap_err(),
            "Enter a real calendar date."
        );
    }

    #[test]
    fn birth_dates_cannot_be_in_the_future() {
        let today = d(2026, 11, 22);
        assert!(birth_date("22/11/2026", today).is_ok());
        assert_eq!(
            birth_date("23/11/2026", today).unwrap_err(),
            "Birth date cannot be in the future."
        );
    }

    #[test]
    fn dmy_round_trips() {
        assert_eq!(format_dmy(d(987, 8, 17)), "17/08/0987");
        assert_eq!(parse_dmy(&format_dmy(d(1987, 8, 17))), Some(d(1987, 8, 17)));
    }

    #[test]
    fn expiry_is_yyyy_mm_dd_today_or_later() {
        let today = d(2023, 1, 12);
        assert_eq!(expires("2023-01-13", today), Ok(d(2023, 1, 13)));
        assert_eq!(expires("2023-01-12", today), Ok(d(2023, 1, 12)));
        assert!(expires("2023-01-11", today).unwrap_err().contains("past"));
        for wrong in [
            "13/01/2023",
            "2023-1-13",
            "2023-02-30",
            "20230113",
            "+2023-01-13",
            // Dates chrono's `%Y-%m-%d` would take: short fields, spaces,
            // a sign.
            "2023-01-1",
            "2023-01- 3",
            "2023- 1-13",
            "+023-01-13",
        ] {
            assert!(
                expires(wrong, today).unwrap_err().contains("YYYY-MM-DD"),
                "{wrong}"
            );
        }
    }

    #[test]
    fn pin_codes_are_six_digits_not_starting_with_zero() {
        assert_eq!(zip("560075"), Ok("560075".into()));
        assert_eq!(zip(" 600001 "), Ok("600001".into()));
        for bad in [
            "060075",
            "56007",
            "5600751",
            "56 075",
            "abcdef",
            "",
            "５６００７５",
        ] {
            assert!(zip(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones_are_normalised() {
        assert_eq!(phone("9787231006"), Ok("9787231006".into()));
        assert_eq!(phone("+91 97872-31006"), Ok("9787231006".into()));
        assert_eq!(phone("+91-978-723-1006"), Ok("9787231006".into()));
        assert_eq!(phone("(978) 723 1006"), Ok("9787231006".into()));
        assert_eq!(phone("+1 415 555 0100"), Ok("+14155550100".into()));
        assert_eq!(phone("+44 20 7946 0958"), Ok("+442079460958".into()));
        for bad in [
            "978723100",
            "97872310061",
            "0787231006",
            "+91 0787231006",
            "phone",
            "+",
            "",
            "98765x3210",
            "+0123456789",
            "+1234567",
            "+1234567890123456",
            "919787231006",
        ] {
            assert!(phone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        for good in [
            "test@example.com",
            "bharathwaaj.s@gmail.com",
            "a+b@x.co.in",
            "O'Neil@Example.ORG",
            "x_y-z@sub-domain.example.com",
        ] {
            assert_eq!(email(good), Ok(good.to_string()), "{good}");
        }
        assert_eq!(email(" test@example.com "), Ok("test@example.com".into()));
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@b.c",
            "a@-b.com",
            "a@b-.com",
            "a..b@x.com",
            ".a@x.com",
            "a.@x.com",
            "a b@x.com",
            "a@b..com",
            "a@b.c0m",
            "[email\u{a0}protected]",
            "a@@b.com",
            "ü@x.com",
        ] {
            assert!(email(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(email(&long).is_err());
        // The length rule alone: well-shaped addresses of 254 and 255
        // characters (a 64-character local part, labels of 63).
        let sized = |last: usize| {
            let (b, c, d) = ("b".repeat(63), "c".repeat(63), "d".repeat(last));
            format!("{}@{b}.{c}.{d}.com", "a".repeat(64))
        };
        let (longest, one_more) = (sized(57), sized(58));
        assert_eq!(longest.len(), EMAIL_MAX);
        assert_eq!(email(&longest), Ok(longest.clone()));
        assert_eq!(email(&one_more), Err(too_long(EMAIL_MAX)));
        assert!(is_email(&longest) && !is_email(&one_more));
    }

    #[test]
    fn is_email_answers_as_email_does() {
        let padded = format!("{}a@x.com{}", " ".repeat(200), " ".repeat(200));
        let longest = format!("{}@{}.com", "a".repeat(64), "b".repeat(63));
        let too_long = format!(
            "{}@{}.{}.{}.com",
            "a".repeat(64),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(63)
        );
        for value in [
            "test@example.com",
            " test@example.com\t",
            "a@b.c",
            "a@b",
            "a@b.c0m",
            "a@b..com",
            "a@.b.com",
            "@x.com",
            "a..b@x.com",
            "ｒａｖｉ＠ｅｘａｍｐｌｅ．ｃｏｍ",
            "ü@x.com",
            "[email\u{a0}protected]",
            "\u{3000}a@x.com",
            "",
            &padded,
            &longest,
            &too_long,
        ] {
            assert_eq!(is_email(value), email(value).is_ok(), "{value:?}");
        }
    }

    #[test]
    fn usernames() {
        for good in [
            "lorem",
            "a",
            "john.doe+1@x-y_z",
            "ராஜா",
            "Ünal",
            &"u".repeat(150),
        ] {
            assert!(username(good).is_ok(), "{good}");
        }
        assert_eq!(username("").unwrap_err(), BLANK);
        assert!(username(&"u".repeat(151)).unwrap_err().contains("150"));
        for bad in [
            "john doe",
            "john!",
            "a/b",
            "tab\t",
            "nul\0",
            "semi;colon",
            "emoji😀",
        ] {
            assert!(
                username(bad).unwrap_err().contains("letters, numbers"),
                "{bad:?}"
            );
        }
    }

    #[test]
    #[cfg(feature = "unicode-tables")]
    fn usernames_and_emails_are_nfkc_and_keyed_by_its_lower_case() {
        // Fullwidth letters, a decomposed umlaut, a ligature: stored in
        // their compatibility form.
        assert_eq!(username("ＡＬＩＣＥ"), Ok("ALICE".into()));
        assert_eq!(username("U\u{308}nal"), Ok("\u{dc}nal".into()));
        assert_eq!(username("ﬁsh"), Ok("fish".into()));
        assert_eq!(fold("ＡＬＩＣＥ"), fold("alice"));
        assert_eq!(fold("ＡＬＩＣＥ"), "alice");
        assert_eq!(fold("U\u{308}NAL"), fold("\u{fc}nal"));
        // The character rule runs on the NFKC form: a fullwidth `@` is `@`
        // (allowed), a fullwidth space is a space (refused).
        assert_eq!(username("ａ＠ｂ"), Ok("a@b".into()));
        assert!(username("a\u{3000}b").is_err());
        // The length rule too (U+FDFA expands to 18 characters with spaces).
        assert!(username(&"ｕ".repeat(150)).is_ok());
        assert!(username(&"ｕ".repeat(151)).is_err());
        assert_eq!(
            email("ｒａｖｉ＠ｅｘａｍｐｌｅ．ｃｏｍ"),
            Ok("ravi@example.com".into())
        );
        assert_eq!(fold("Ｒａｖｉ＠Example.com"), "ravi@example.com");
        assert!(email("ü@x.com").is_err());
    }

    #[test]
    fn text_is_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(text("  John ", NAME_MAX), Ok("John".into()));
        assert!(
            text(&"x".repeat(151), NAME_MAX)
                .unwrap_err()
                .contains("150")
        );
        assert!(
            text(&"é".repeat(150), NAME_MAX).is_ok(),
            "characters, not bytes"
        );
        assert!(text("a\u{7}b", NAME_MAX).is_err());
        assert!(text("line\nbreak", NAME_MAX).is_err());
        assert!(multiline_text("line\nbreak", TEXT_MAX).is_ok());
        assert!(multiline_text("bell\u{7}", TEXT_MAX).is_err());
        let longest = format!("{}\n{}", "é".repeat(4_999), "x".repeat(5_000));
        assert_eq!(multiline_text(&longest, TEXT_MAX), Ok(longest.clone()));
        assert_eq!(
            multiline_text(&format!("{longest}y"), TEXT_MAX),
            Err(too_long(TEXT_MAX))
        );
        assert_eq!(
            multiline_text(&format!("  {longest}\n"), TEXT_MAX),
            Ok(longest),
            "measured after trimming"
        );
    }

    #[test]
    fn urls() {
        assert!(
            url("https://s3-ap-southeast-1.amazonaws.com/media.testpress.in/png/3a.png").is_ok()
        );
        assert!(url("http://x.in/a.png").is_ok());
        for bad in [
            "ftp://x",
            "x.png",
            "https://",
            "https:///x",
            "https://a b",
            "javascript:alert(1)",
            "https://a\u{7}b",
        ] {
            assert!(url(bad).is_err(), "{bad}");
        }
        let longest = format!("https://x.in/{}", "é".repeat(URL_MAX - 13));
        assert_eq!(url(&format!(" {longest} ")), Ok(longest.clone()));
        assert_eq!(url(&format!("{longest}e")), Err(too_long(URL_MAX)));
    }

    /// Without the tables: ASCII needs no normaliser, other text fails
    /// closed until one is installed, then goes through it. (Run with
    /// `cargo test -p roster --lib --no-default-features without_tables`;
    /// the rest of the suite needs a normaliser.)
    #[test]
    #[cfg(not(feature = "unicode-tables"))]
    fn without_tables_nfkc_needs_an_installed_normaliser() {
        assert!(!nfkc_available());
        assert_eq!(username("alice.b"), Ok("alice.b".into()));
        assert_eq!(email("ravi@example.com"), Ok("ravi@example.com".into()));
        assert_eq!(try_nfkc("Ａ"), Err(NFKC_MISSING));
        assert_eq!(username("ＡＬＩＣＥ"), Err(NFKC_MISSING.into()));
        assert_eq!(email("ｒａｖｉ@example.com"), Err(NFKC_MISSING.into()));
        let missing = std::panic::catch_unwind(|| nfkc("ﬁsh")).unwrap_err();
        assert_eq!(missing.downcast_ref::<String>().unwrap(), NFKC_MISSING);
        assert!(crate::Config::default().check().is_err());

        // A stand-in normaliser (no tables here): fullwidth A to A.
        fn stand_in(value: &str) -> String {
            value.replace('Ａ', "A")
        }
        assert!(install_nfkc(stand_in));
        assert!(!install_nfkc(|v| v.to_owned()), "the first one stays");
        assert!(nfkc_available());
        assert!(crate::Config::default().check().is_ok());
        assert_eq!(username("ＡＡ"), Ok("AA".into()));
        assert_eq!(fold("ＡＡ"), "aa");
        // ASCII never reaches the normaliser.
        assert_eq!(nfkc("plain"), "plain");
    }
}
