//! The one error of the bindings: a typed exception per kind of failure,
//! mapped from [`roster::Error`] in one place ([`From`] below).

use std::collections::HashMap;

/// The error every fallible call throws: one exception class per kind
/// (`RosterException.Validation` in Kotlin, `RosterError.Validation` in
/// Python and Swift). Every variant carries the stable `code` of
/// [`roster::ErrorCode::as_str`] and the human `message` (the exception's
/// message: `e.message` in Kotlin, `str(e)` in Python,
/// `localizedDescription` in Swift). No secrets or personal data beyond the
/// field names and the caller's own ids.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum RosterError {
    /// The input broke a rule (`validation_failed`). `fields` holds every
    /// offending field's messages at once; errors about the whole input are
    /// under `non_field_errors`, and custom field errors under
    /// `custom_fields` as `"<Field name>: <message>"`.
    #[error("{message}")]
    Validation {
        /// `validation_failed`.
        code: String,
        /// The human message, naming the fields and their messages.
        message: String,
        /// Messages by field name.
        fields: HashMap<String, Vec<String>>,
    },
    /// The addressed record does not exist (`not_found`), or a page past the
    /// end was asked for.
    #[error("{message}")]
    NotFound {
        /// `not_found`.
        code: String,
        /// The human message.
        message: String,
    },
    /// A clash with existing data that is no single field's fault
    /// (`conflict`), e.g. restoring an export into a store that is not empty.
    #[error("{message}")]
    Conflict {
        /// `conflict`.
        code: String,
        /// The human message.
        message: String,
    },
    /// No usable credentials (`unauthenticated`): every failed sign-in
    /// (unknown user, wrong password, locked, inactive or blocked account)
    /// is this one error with one message, and so is a token that is
    /// unknown, expired or no longer valid.
    #[error("{message}")]
    Unauthenticated {
        /// `unauthenticated`.
        code: String,
        /// The human message.
        message: String,
    },
    /// The caller is signed in but lacks the permission (`forbidden`).
    #[error("{message}")]
    Forbidden {
        /// `forbidden`.
        code: String,
        /// The human message.
        message: String,
    },
    /// The store cannot be used: `storage_error` (I/O, disk full, the file
    /// is open elsewhere), `corrupt_store` (not a roster store, or damaged)
    /// or `schema_too_new` (written by a newer roster).
    #[error("{message}")]
    Storage {
        /// `storage_error`, `corrupt_store` or `schema_too_new`.
        code: String,
        /// The human message.
        message: String,
    },
    /// A bug in roster: an invariant did not hold (`internal_error`).
    #[error("{message}")]
    Internal {
        /// `internal_error`.
        code: String,
        /// The human message.
        message: String,
    },
    /// Too many password checks are waiting already (`busy`): nothing was
    /// done or written; try again shortly. A busy sign-in does not count
    /// toward the lock-out.
    #[error("{message}")]
    Busy {
        /// `busy`.
        code: String,
        /// The human message.
        message: String,
    },
}

/// The one mapping point from the core's error.
impl From<roster::Error> for RosterError {
    fn from(e: roster::Error) -> Self {
        use roster::ErrorCode as C;
        let code = e.code().as_str().to_string();
        // The core's `Display`: the message, then each field's messages.
        let message = e.to_string();
        match e.code() {
            C::Validation => RosterError::Validation {
                code,
                message,
                fields: field_messages(e.fields()),
            },
            C::NotFound => RosterError::NotFound { code, message },
            C::Conflict => RosterError::Conflict { code, message },
            C::Unauthenticated => RosterError::Unauthenticated { code, message },
            C::Forbidden => RosterError::Forbidden { code, message },
            C::SchemaTooNew | C::Corrupt | C::Storage => RosterError::Storage { code, message },
            C::Internal => RosterError::Internal { code, message },
            C::Busy => RosterError::Busy { code, message },
        }
    }
}

/// Field errors as the bindings carry them: messages by field name, the
/// nested custom field messages flattened as `"<Field name>: <message>"`.
pub(crate) fn field_messages(fields: &roster::FieldErrors) -> HashMap<String, Vec<String>> {
    fields
        .iter()
        .map(|(field, _)| (field.to_string(), fields.messages(field)))
        .collect()
}

/// Result of every fallible call.
pub type Result<T, E = RosterError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_maps_to_a_kind_keeping_code_and_message() {
        for code in roster::ErrorCode::ALL {
            let mapped = RosterError::from(roster::Error::new(code, "something failed"));
            assert_eq!(mapped.to_string(), "something failed");
            let kept = match &mapped {
                RosterError::Validation { code, .. }
                | RosterError::NotFound { code, .. }
                | RosterError::Conflict { code, .. }
                | RosterError::Unauthenticated { code, .. }
                | RosterError::Forbidden { code, .. }
                | RosterError::Storage { code, .. }
                | RosterError::Internal { code, .. }
                | RosterError::Busy { code, .. } => code.clone(),
            };
            assert_eq!(kept, code.as_str());
        }
    }

    #[test]
    fn validation_flattens_custom_field_messages() {
        let mut fields = roster::FieldErrors::new();
        fields.add("username", "This field is required.");
        fields.add_nested(
            "custom_fields",
            "Graduation Year",
            "A valid number is required.",
        );
        let RosterError::Validation {
            fields, message, ..
        } = RosterError::from(roster::Error::validation(fields))
        else {
            panic!("not a validation error");
        };
        assert_eq!(fields["username"], vec!["This field is required."]);
        assert_eq!(
            fields["custom_fields"],
            vec!["Graduation Year: A valid number is required."]
        );
        assert!(
            message.contains("username: This field is required."),
            "{message}"
        );
    }
}
