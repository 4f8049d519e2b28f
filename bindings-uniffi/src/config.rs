//! The configuration and import option records of the bindings: the core's
//! own shapes ([`roster::Settings`], named `Config` in the bindings, and
//! [`roster::ImportSettings`], named `ImportOptions`), checked by the core's
//! constructors, so that this binding and the WebAssembly one take the same
//! fields in the same units and refuse the same values.

/// How to run an institute. `Config()` is the default configuration; every
/// field is optional (see [`roster::Settings`] for units and limits).
pub use roster::Settings as Config;

/// How to import (see [`roster::ImportSettings`]).
pub use roster::ImportSettings as ImportOptions;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Institute, RosterError};
    use roster::Argon2Params;

    fn fast() -> Config {
        Config {
            argon2: Some(Argon2Params::insecure_fast()),
            ..Default::default()
        }
    }

    fn validation_field(result: crate::error::Result<std::sync::Arc<Institute>>) -> Vec<String> {
        match result {
            Err(RosterError::Validation { fields, code, .. }) => {
                assert_eq!(code, "validation_failed");
                fields.into_keys().collect()
            }
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn an_empty_config_opens_with_the_core_defaults() {
        Institute::in_memory(Config::default()).unwrap();
    }

    #[test]
    fn huge_durations_and_offsets_are_validation_errors_not_panics() {
        let fields = validation_field(Institute::in_memory(Config {
            session_lifetime_seconds: Some(i64::MAX),
            lockout_seconds: Some(i64::MIN),
            time_zone_offset_minutes: Some(i32::MAX),
            ..fast()
        }));
        for field in [
            "session_lifetime_seconds",
            "lockout_seconds",
            "time_zone_offset_minutes",
        ] {
            assert!(fields.iter().any(|f| f == field), "{fields:?}");
        }
        let fields = validation_field(Institute::in_memory(Config {
            password_max_length: Some(u32::MAX),
            ..fast()
        }));
        assert_eq!(fields, vec!["password_max_length".to_string()]);
    }

    #[test]
    fn a_clock_out_of_the_supported_years_is_a_validation_error() {
        let at = |secs| chrono::DateTime::from_timestamp(secs, 0).unwrap();
        for now in [
            chrono::DateTime::<chrono::Utc>::MAX_UTC,
            chrono::DateTime::<chrono::Utc>::MIN_UTC,
            at(-1),
            at(roster::clock::LATEST_SECONDS + 1),
        ] {
            let fields = validation_field(Institute::in_memory(Config {
                now: Some(now),
                ..fast()
            }));
            assert_eq!(fields, vec!["now".to_string()], "{now}");
        }
        for now in [at(0), at(roster::clock::LATEST_SECONDS)] {
            Institute::in_memory(Config {
                now: Some(now),
                ..fast()
            })
            .unwrap();
        }
    }

    #[test]
    fn import_honours_batches_expires_and_checks_them() {
        let institute = Institute::in_memory(fast()).unwrap();
        let operator = institute.operator();
        operator
            .create_batch(roster::BatchInput {
                name: Some("X".into()),
            })
            .unwrap();
        let text = "username,password\nravi,ravi-pass-1\nbad name,pass-word-2\n";
        let report = operator
            .import_users(
                text.into(),
                ImportOptions {
                    batches: vec!["X".into()],
                    expires: Some("2099-01-31".into()),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(report.created, 1, "{report:?}");
        assert_eq!(report.rejected_count, 1, "{report:?}");
        assert_eq!(report.rejected[0].line, 3, "{report:?}");
        let id = operator.find_user("ravi".into()).unwrap();
        let subscriptions = operator
            .user_subscriptions(id, roster::PageRequest::default())
            .unwrap();
        assert_eq!(subscriptions.items.len(), 1);
        assert_eq!(subscriptions.items[0].batch.name, "X");
        assert_eq!(
            subscriptions.items[0].expires,
            chrono::NaiveDate::from_ymd_opt(2099, 1, 31)
        );
        let bad = operator.import_users(
            text.into(),
            ImportOptions {
                expires: Some("soon".into()),
                ..Default::default()
            },
        );
        assert!(
            matches!(bad, Err(RosterError::Validation { ref fields, .. }) if fields.contains_key("expires")),
            "{bad:?}"
        );
    }
}
