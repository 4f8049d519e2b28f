//! uniffi glue (feature `uniffi`, off by default; `roster-ffi` turns it on).
//!
//! The records and enums that cross into Kotlin, Swift and Python derive
//! uniffi's traits where they are defined (`#[cfg_attr(feature = "uniffi",
//! derive(uniffi::Record))]`). The crate root sets up this crate's uniffi
//! namespace (`roster`); this module holds the custom types for the few
//! fields whose Rust types uniffi does not know, so that the views keep their
//! Rust shape:
//!
//! | Rust type | in the bindings |
//! | --- | --- |
//! | `chrono::DateTime<Utc>` ([`DateTime`]) | the platform's timestamp: `java.time.Instant`, `Date`, Python `datetime` (UTC) |
//! | `chrono::NaiveDate` ([`IsoDate`]) | a `yyyy-mm-dd` string |
//! | `&'static Subdivision` ([`SubdivisionRef`], a user's state) | a [`SubdivisionRecord`] record (`Subdivision`: code, name, kind) |
//! | `(String, CustomValue)` ([`CustomValueEntry`], a user's custom value) | a [`NamedCustomValue`] record |
//! | `(String, CustomInput)` ([`CustomInputEntry`], a custom value given) | a [`NamedCustomInput`] record |

use crate::domain::custom_field::{CustomInput, CustomValue};
use crate::domain::states::{self, Subdivision, SubdivisionKind};

/// An instant, as the platform's own timestamp type.
pub type DateTime = chrono::DateTime<chrono::Utc>;

uniffi::custom_type!(DateTime, std::time::SystemTime, {
    remote,
    lower: |at| at.into(),
    try_lift: |at| Ok(instant_of(at)?),
});

/// A platform timestamp as an instant; an error for one outside chrono's
/// range, where chrono's own conversion panics.
fn instant_of(at: std::time::SystemTime) -> crate::Result<DateTime> {
    let (secs, nanos) = match at.duration_since(std::time::UNIX_EPOCH) {
        Ok(after) => (i64::try_from(after.as_secs()).ok(), after.subsec_nanos()),
        Err(before) => {
            let before = before.duration();
            let secs = i64::try_from(before.as_secs()).ok().map(|s| -s);
            match before.subsec_nanos() {
                0 => (secs, 0),
                n => (secs.and_then(|s| s.checked_sub(1)), 1_000_000_000 - n),
            }
        }
    };
    secs.and_then(|s| DateTime::from_timestamp(s, nanos))
        .ok_or_else(|| {
            crate::Error::new(crate::ErrorCode::Validation, "The instant is out of range.")
        })
}

/// A calendar date, as `yyyy-mm-dd` text (`2024-03-31`).
pub type IsoDate = chrono::NaiveDate;

uniffi::custom_type!(IsoDate, String, {
    remote,
    lower: |date| date.format("%Y-%m-%d").to_string(),
    try_lift: |text| Ok(chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d")?),
});

/// A state or union territory of India as the bindings see it (a user's
/// `state`): named `Subdivision` there.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi(name = "Subdivision")]
pub struct SubdivisionRecord {
    /// Current ISO 3166-2 code, `IN-TN`.
    pub code: String,
    /// The name as commonly written, `Tamil Nadu`.
    pub name: String,
    /// State or union territory.
    pub kind: SubdivisionKind,
}

/// A user's state, as [`UserView::state`](crate::UserView::state) holds it.
pub type SubdivisionRef = &'static Subdivision;

uniffi::custom_type!(SubdivisionRef, SubdivisionRecord, {
    remote,
    lower: |s| SubdivisionRecord {
        code: s.code.to_string(),
        name: s.name.to_string(),
        kind: s.kind,
    },
    try_lift: |record| states::by_code(&record.code)
        .ok_or_else(|| uniffi::deps::anyhow::anyhow!("unknown subdivision {:?}", record.code)),
});

/// A user's value of a custom field, by the field's defined name.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct NamedCustomValue {
    /// The field's name as defined.
    pub name: String,
    /// The value.
    pub value: CustomValue,
}

/// One entry of [`UserView::custom_fields`](crate::UserView::custom_fields).
pub type CustomValueEntry = (String, CustomValue);

uniffi::custom_type!(CustomValueEntry, NamedCustomValue, {
    remote,
    lower: |entry| NamedCustomValue {
        name: entry.0,
        value: entry.1,
    },
    try_lift: |named| Ok((named.name, named.value)),
});

/// A value given for a custom field, by the field's name (matched ignoring
/// case and surrounding spaces).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct NamedCustomInput {
    /// The field's name.
    pub name: String,
    /// The value; [`CustomInput::Null`] clears it.
    pub value: CustomInput,
}

/// One entry of [`ProfileInput::custom_fields`](crate::ProfileInput::custom_fields).
pub type CustomInputEntry = (String, CustomInput);

uniffi::custom_type!(CustomInputEntry, NamedCustomInput, {
    remote,
    lower: |entry| NamedCustomInput {
        name: entry.0,
        value: entry.1,
    },
    try_lift: |named| Ok((named.name, named.value)),
});

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn platform_timestamps_convert_or_are_refused_never_panic() {
        let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        let cases = [
            (UNIX_EPOCH, at("1970-01-01T00:00:00Z")),
            (
                UNIX_EPOCH + Duration::new(1_673_501_779, 5),
                at("2023-01-12T05:36:19.000000005Z"),
            ),
            (
                UNIX_EPOCH - Duration::from_millis(1_500),
                at("1969-12-31T23:59:58.5Z"),
            ),
            (
                UNIX_EPOCH - Duration::from_secs(2),
                at("1969-12-31T23:59:58Z"),
            ),
        ];
        for (system, want) in cases {
            assert_eq!(instant_of(system).unwrap(), want);
        }
        for far in [
            UNIX_EPOCH + Duration::from_secs(10_000_000_000_000),
            UNIX_EPOCH - Duration::from_secs(10_000_000_000_000),
        ] {
            assert!(instant_of(far).is_err());
        }
    }
}
