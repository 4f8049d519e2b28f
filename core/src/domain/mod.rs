//! Domain rules: the records roster stores, the inputs it accepts and the
//! views it returns, and the validation that turns inputs into records. No
//! storage types and no JSON request shapes appear here.

pub mod course;
pub mod custom_field;
pub mod feed;
pub mod group;
pub mod outbox;
pub mod rules;
pub mod states;
pub mod sunbird;
pub mod user;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Microseconds since the Unix epoch, as records store instants.
pub type Micros = i64;

// The TypeScript of the alias above (tsify names it in the records).
#[cfg(feature = "tsify")]
#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const MICROS: &'static str = r#"
/** Microseconds since the Unix epoch. */
export type Micros = number;
"#;

/// The instant `micros` stands for.
pub fn instant(micros: Micros) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

/// A batch (cohort). Users reach courses through batches; a course's hidden
/// batch (`course` is `Some`) holds the users granted that course directly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// Integer id, never reused.
    pub id: u64,
    /// Random UUID.
    #[serde(with = "crate::domain::uuid_serde")]
    pub uuid: u128,
    /// Name, unique ignoring case among ordinary batches.
    pub name: String,
    /// The course whose hidden batch this is (`is_local` in the documents).
    pub course: Option<u64>,
    /// Creation instant.
    pub created: Micros,
    /// Last change.
    pub modified: Micros,
}

impl Batch {
    /// Whether this is a course's hidden batch (`is_local: true`).
    pub fn is_local(&self) -> bool {
        self.course.is_some()
    }
}

/// Input to create or change a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct BatchInput {
    /// Name: required on create, at most 150 characters.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub name: Option<String>,
}

/// A batch as returned.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct BatchView {
    /// Id.
    pub id: u64,
    /// UUID, hyphenated.
    pub uuid: String,
    /// Name (a hidden batch carries its course's title).
    pub name: String,
    /// Whether this is a course's hidden batch.
    pub is_local: bool,
    /// Creation instant.
    pub created: DateTime<Utc>,
    /// Last change.
    pub modified: DateTime<Utc>,
}

impl From<&Batch> for BatchView {
    fn from(b: &Batch) -> Self {
        BatchView {
            id: b.id,
            uuid: uuid_string(b.uuid),
            name: b.name.clone(),
            is_local: b.is_local(),
            created: instant(b.created),
            modified: instant(b.modified),
        }
    }
}

/// A membership of a user in a batch, which is also a subscription: it may
/// expire. Stored under the key (user id, batch id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    /// Subscription id, never reused.
    pub id: u64,
    /// Random UUID.
    #[serde(with = "crate::domain::uuid_serde")]
    pub uuid: u128,
    /// Last day on which it counts (institute zone); `None` never expires.
    #[serde(with = "crate::domain::date_serde")]
    pub expires: Option<NaiveDate>,
    /// Creation instant.
    pub created: Micros,
    /// Last change.
    pub modified: Micros,
}

impl Subscription {
    /// Whether it no longer counts on `today`: `expires` is before today.
    pub fn is_expired(&self, today: NaiveDate) -> bool {
        self.expires.is_some_and(|e| e < today)
    }
}

/// A subscription as returned.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SubscriptionView {
    /// Subscription id.
    pub id: u64,
    /// UUID, hyphenated.
    pub uuid: String,
    /// The batch.
    pub batch: BatchView,
    /// Expiry date, or `None`.
    pub expires: Option<NaiveDate>,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// Items in all pages.
    pub count: u64,
    /// This page's number, from 1.
    pub page: u64,
    /// Page size.
    pub per_page: u32,
    /// This page's items.
    pub items: Vec<T>,
}

impl<T> Page<T> {
    /// Whether a later page exists.
    pub fn has_next(&self) -> bool {
        self.page.saturating_mul(u64::from(self.per_page)) < self.count
    }

    /// Whether an earlier page exists.
    pub fn has_previous(&self) -> bool {
        self.page > 1
    }

    /// The same page with its items mapped.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            count: self.count,
            page: self.page,
            per_page: self.per_page,
            items: self.items.into_iter().map(f).collect(),
        }
    }
}

/// Which page to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PageRequest {
    /// Page number from 1.
    #[cfg_attr(feature = "uniffi", uniffi(default = 1))]
    pub page: u64,
    /// Page size; `None` for the configured default, capped at the maximum.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub per_page: Option<u32>,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            page: 1,
            per_page: None,
        }
    }
}

impl PageRequest {
    /// Page `page` of the default size.
    pub fn page(page: u64) -> Self {
        PageRequest {
            page,
            per_page: None,
        }
    }
}

/// Serde for UUID fields: the hyphenated string in human-readable formats
/// (JSON exports), the plain 128-bit number in the compact store encoding.
pub mod uuid_serde {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    /// Serializes a UUID.
    pub fn serialize<S: Serializer>(uuid: &u128, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&super::uuid_string(*uuid))
        } else {
            s.serialize_u128(*uuid)
        }
    }

    /// Deserializes a UUID.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        if d.is_human_readable() {
            let text = String::deserialize(d)?;
            super::parse_uuid(&text)
                .ok_or_else(|| D::Error::custom(format!("not a UUID: {text:?}")))
        } else {
            u128::deserialize(d)
        }
    }
}

/// Serde for stored dates (`Option<NaiveDate>`): written as chrono writes
/// them (`yyyy-mm-dd`), read with a fast path for that spelling, since
/// every user and membership read decodes one. Anything else is chrono's
/// to parse, so what is read is what chrono would read.
pub mod date_serde {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

    /// Serializes a date as chrono does.
    pub fn serialize<S: Serializer>(date: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
        date.serialize(s)
    }

    /// Deserializes a date.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        Ok(Option::<Date>::deserialize(d)?.map(|Date(date)| date))
    }

    /// `yyyy-mm-dd`: the digits read in place.
    fn parse(text: &str) -> Option<NaiveDate> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let number = |range: std::ops::Range<usize>| -> Option<u32> {
            b[range].iter().try_fold(0, |n, &c| {
                c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
            })
        };
        let year = i32::try_from(number(0..4)?).ok()?;
        NaiveDate::from_ymd_opt(year, number(5..7)?, number(8..10)?)
    }

    struct Date(NaiveDate);

    impl<'de> Deserialize<'de> for Date {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Visit;
            impl de::Visitor<'_> for Visit {
                type Value = NaiveDate;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a date")
                }
                fn visit_str<E: de::Error>(self, text: &str) -> Result<NaiveDate, E> {
                    match parse(text) {
                        Some(date) => Ok(date),
                        None => text.parse().map_err(E::custom),
                    }
                }
            }
            d.deserialize_str(Visit).map(Date)
        }
    }
}

/// Parses a hyphenated (or plain) hexadecimal UUID.
pub fn parse_uuid(text: &str) -> Option<u128> {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 {
        return None;
    }
    u128::from_str_radix(&hex, 16).ok()
}

/// The hyphenated lower-case form of a UUID.
pub fn uuid_string(uuid: u128) -> String {
    // Every user view formats one: digit by digit, without the formatter.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'-'; 36];
    let mut at = 0;
    for i in 0..32 {
        if matches!(i, 8 | 12 | 16 | 20) {
            at += 1;
        }
        out[at] = HEX[((uuid >> (124 - 4 * i)) & 0xf) as usize];
        at += 1;
    }
    // Hex digits and dashes: ASCII.
    String::from_utf8_lossy(&out).into_owned()
}

/// A date as `yyyy-mm-dd`, the documents' spelling (chrono's `%Y-%m-%d`).
pub fn iso_date(date: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    // Every Sunbird view writes a birth date: digit by digit for the
    // four-digit years a stored date has, the formatter otherwise.
    let Ok(year @ 0..=9999) = u32::try_from(date.year()) else {
        return date.format("%Y-%m-%d").to_string();
    };
    let mut out = *b"0000-00-00";
    for (at, value, digits) in [(0, year, 4), (5, date.month(), 2), (8, date.day(), 2)] {
        let mut value = value;
        for i in (at..at + digits).rev() {
            out[i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }
    // Digits and dashes: ASCII.
    String::from_utf8_lossy(&out).into_owned()
}

// Lives beside the random source it shapes (below domain); its name here stays.
pub use crate::random::uuid_v4;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_are_chronos_spelling() {
        for (y, m, d) in [
            (2026, 1, 5),
            (1, 2, 3),
            (0, 12, 31),
            (999, 10, 10),
            (9999, 12, 31),
            (10000, 1, 1),
            (-1, 6, 15),
        ] {
            let date = chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(iso_date(date), date.format("%Y-%m-%d").to_string());
        }
    }

    #[test]
    fn stored_dates_read_as_chrono_reads_them() {
        #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        struct Fast(#[serde(with = "date_serde")] Option<chrono::NaiveDate>);
        #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        struct Chrono(Option<chrono::NaiveDate>);
        let dates = [
            "2026-01-05",
            "0001-02-03",
            "9999-12-31",
            "+10000-01-01",
            "-0001-06-15",
        ];
        for text in dates {
            let date: chrono::NaiveDate = text.parse().unwrap();
            let fast = postcard::to_allocvec(&Fast(Some(date))).unwrap();
            assert_eq!(fast, postcard::to_allocvec(&Chrono(Some(date))).unwrap());
            assert_eq!(
                postcard::from_bytes::<Fast>(&fast).unwrap(),
                Fast(Some(date))
            );
        }
        let none = postcard::to_allocvec(&Fast(None)).unwrap();
        assert_eq!(postcard::from_bytes::<Fast>(&none).unwrap(), Fast(None));
        for text in [
            "2026-02-30",
            "2026-1-05",
            "2026-01-5x",
            "20260105",
            "",
            "２０２６-01-05",
            "2026-13-01",
        ] {
            let bytes = postcard::to_allocvec(&Some(text)).unwrap();
            let fast = postcard::from_bytes::<Fast>(&bytes).ok();
            let chrono = postcard::from_bytes::<Chrono>(&bytes).ok();
            assert_eq!(fast.map(|f| f.0), chrono.map(|c| c.0), "{text:?}");
        }
        let json = serde_json::to_string(&Fast(Some("2026-01-05".parse().unwrap()))).unwrap();
        assert_eq!(json, "\"2026-01-05\"");
        assert_eq!(
            serde_json::from_str::<Fast>(&json).unwrap().0,
            "2026-01-05".parse().ok()
        );
    }

    #[test]
    fn uuids_are_version_4_and_hyphenated() {
        let u = uuid_string(uuid_v4([0xff; 16]));
        assert_eq!(u, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(
            uuid_string(uuid_v4([0; 16])),
            "00000000-0000-4000-8000-000000000000"
        );
    }

    #[test]
    fn a_uuid_string_puts_every_digit_in_its_place() {
        let u = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210_u128;
        assert_eq!(uuid_string(u), "01234567-89ab-cdef-fedc-ba9876543210");
        assert_eq!(parse_uuid(&uuid_string(u)), Some(u));
    }

    #[test]
    fn pages_know_their_neighbours() {
        let page = |page, count| Page::<()> {
            count,
            page,
            per_page: 20,
            items: vec![],
        };
        assert!(!page(1, 20).has_next());
        assert!(page(1, 21).has_next());
        assert!(!page(1, 0).has_previous());
        assert!(page(2, 21).has_previous());
    }

    #[test]
    fn expiry_counts_through_its_last_day() {
        let sub = Subscription {
            id: 1,
            uuid: 0,
            expires: NaiveDate::from_ymd_opt(2023, 1, 13),
            created: 0,
            modified: 0,
        };
        assert!(!sub.is_expired(NaiveDate::from_ymd_opt(2023, 1, 13).unwrap()));
        assert!(sub.is_expired(NaiveDate::from_ymd_opt(2023, 1, 14).unwrap()));
    }
}
