//! The public error of roster.
//!
//! Two tiers (ARCHITECTURE convention 2): storage and hashing failures are
//! `Internal` values (crate-private); everything that leaves the library is an [`Error`] with
//! a stable [`ErrorCode`], a human message and, for validation, the messages of
//! every offending field at once. [`Error::from`] on an internal error is the
//! one mapping point. Messages never carry secrets or personal data beyond the
//! field names and the caller's own ids.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Stable, machine-readable error kinds. The strings of [`ErrorCode::as_str`]
/// are part of the API: bindings and scripts match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// Input failed validation; see [`Error::fields`].
    Validation,
    /// The addressed record does not exist (or is not visible).
    NotFound,
    /// The request names something that clashes with existing data in a way
    /// that is not a single field's fault.
    Conflict,
    /// The caller could not be identified (Step 2: sign-in).
    Unauthenticated,
    /// The caller lacks the permission for the operation.
    Forbidden,
    /// The store file was written by a newer roster.
    SchemaTooNew,
    /// The store file is not a roster store, or its contents are damaged.
    Corrupt,
    /// The storage layer failed (I/O, out of space, another writer).
    Storage,
    /// A bug: an invariant of roster itself did not hold.
    Internal,
    /// Too many password checks are waiting already; nothing was done or
    /// written. Try again shortly (REST: 503 with `Retry-After`).
    Busy,
}

impl ErrorCode {
    /// The stable code string.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Validation => "validation_failed",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::SchemaTooNew => "schema_too_new",
            ErrorCode::Corrupt => "corrupt_store",
            ErrorCode::Storage => "storage_error",
            ErrorCode::Internal => "internal_error",
            ErrorCode::Busy => "busy",
        }
    }

    /// Every code, in declaration order (for documentation and tests).
    pub const ALL: [ErrorCode; 10] = [
        ErrorCode::Validation,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::SchemaTooNew,
        ErrorCode::Corrupt,
        ErrorCode::Storage,
        ErrorCode::Internal,
        ErrorCode::Busy,
    ];
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Messages of one field: either a list, or (for `custom_fields`) messages
/// per nested name, as Django REST Framework nests them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldMessages {
    /// Messages about the field itself.
    List(Vec<String>),
    /// Messages about members of a map-valued field, by member name.
    Nested(BTreeMap<String, Vec<String>>),
}

/// All the field errors of one request, by field name. The key
/// `non_field_errors` holds errors that belong to no single field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<String, FieldMessages>);

/// The key Django REST Framework uses for errors about the whole input.
pub const NON_FIELD_ERRORS: &str = "non_field_errors";

impl FieldErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// One message about `field`.
    pub fn one(field: &str, message: impl Into<String>) -> FieldErrors {
        let mut errors = FieldErrors::new();
        errors.add(field, message);
        errors
    }

    /// Adds a message about `field`.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        let entry = self
            .0
            .entry(field.to_string())
            .or_insert_with(|| FieldMessages::List(Vec::new()));
        match entry {
            FieldMessages::List(list) => list.push(message.into()),
            FieldMessages::Nested(map) => {
                map.entry(String::new()).or_default().push(message.into())
            }
        }
    }

    /// Adds a message about member `name` of the map-valued `field`.
    pub fn add_nested(&mut self, field: &str, name: &str, message: impl Into<String>) {
        let entry = self
            .0
            .entry(field.to_string())
            .or_insert_with(|| FieldMessages::Nested(BTreeMap::new()));
        if let FieldMessages::List(list) = entry {
            let old = std::mem::take(list);
            let mut map = BTreeMap::new();
            if !old.is_empty() {
                map.insert(String::new(), old);
            }
            *entry = FieldMessages::Nested(map);
        }
        if let FieldMessages::Nested(map) = entry {
            map.entry(name.to_string())
                .or_default()
                .push(message.into());
        }
    }

    /// Whether `field` already has a message.
    pub fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    /// Whether there are no errors.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Takes in every error of `other` whose field has none here yet (type
    /// errors found while parsing win over rule errors about the same field).
    pub fn merge_missing(&mut self, other: FieldErrors) {
        for (field, messages) in other.0 {
            self.0.entry(field).or_insert(messages);
        }
    }

    /// The errors by field name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &FieldMessages)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The messages of `field` as a flat list (nested ones prefixed by their name).
    pub fn messages(&self, field: &str) -> Vec<String> {
        match self.0.get(field) {
            None => Vec::new(),
            Some(FieldMessages::List(list)) => list.clone(),
            Some(FieldMessages::Nested(map)) => map
                .iter()
                .flat_map(|(name, list)| {
                    list.iter().map(move |m| {
                        if name.is_empty() {
                            m.clone()
                        } else {
                            format!("{name}: {m}")
                        }
                    })
                })
                .collect(),
        }
    }

    /// `Ok(())` when empty, else a validation [`Error`] carrying these.
    pub fn into_result(self) -> Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Error::validation(self))
        }
    }
}

/// The one error type of roster's public API.
#[derive(Debug, Clone)]
pub struct Error {
    code: ErrorCode,
    message: String,
    fields: FieldErrors,
    /// The number of the Sunbird reference's message this failure is
    /// (`0030`: a mandatory parameter is missing), for the Sunbird
    /// surface's `UOS_<OP><NNNN>` codes; `None` for the other surfaces'.
    reference: Option<&'static str>,
    /// The failure below roster that caused this one (a storage engine's,
    /// an I/O error), for logs: [`std::error::Error::source`]. Its text is
    /// never part of the public message.
    cause: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

/// Errors are equal when code, message and fields are: the cause is a log
/// detail.
impl PartialEq for Error {
    fn eq(&self, other: &Error) -> bool {
        self.code == other.code && self.message == other.message && self.fields == other.fields
    }
}

impl Eq for Error {}

/// Result with roster's public [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `code` with a human message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            fields: FieldErrors::new(),
            reference: None,
            cause: None,
        }
    }

    /// This error with the per-field messages `fields`.
    pub(crate) fn with_fields(mut self, fields: FieldErrors) -> Self {
        self.fields = fields;
        self
    }

    /// This error as the Sunbird reference's message number `number`.
    pub(crate) fn numbered(mut self, number: &'static str) -> Self {
        self.reference = Some(number);
        self
    }

    /// The number of the Sunbird reference's message this failure is
    /// (`0030`), when a Sunbird operation failed with one.
    pub fn reference(&self) -> Option<&'static str> {
        self.reference
    }

    /// This error with `cause` kept as its source.
    pub(crate) fn caused_by(
        mut self,
        cause: impl Into<Arc<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        self.cause = Some(cause.into());
        self
    }

    /// A validation error carrying per-field messages.
    pub fn validation(fields: FieldErrors) -> Self {
        let names: Vec<&str> = fields.iter().map(|(k, _)| k).collect();
        Error {
            code: ErrorCode::Validation,
            message: format!("invalid input: {}", names.join(", ")),
            fields,
            reference: None,
            cause: None,
        }
    }

    /// A validation error about one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut fields = FieldErrors::new();
        fields.add(field, message);
        Error::validation(fields)
    }

    /// `not_found` with Django REST Framework's message.
    pub fn not_found() -> Self {
        Error::new(ErrorCode::NotFound, "Not found.")
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The human message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Per-field messages (empty unless the code is `validation_failed`).
    pub fn fields(&self) -> &FieldErrors {
        &self.fields
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        for (field, _) in self.fields.iter() {
            write!(f, "; {field}: {}", self.fields.messages(field).join(" "))?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|c| c as &(dyn std::error::Error + 'static))
    }
}

/// Failures below the domain: storage, encoding, hashing. Never public:
/// [`From<Internal> for Error`] is the one place they become public errors.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Internal {
    /// A storage engine failed; `what` says what roster was doing, in its
    /// own words.
    #[error("{what}: {source}")]
    Engine {
        what: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The store is open elsewhere (another process or handle).
    #[error("the store is already open")]
    AlreadyOpen,
    #[error("record encoding: {0}")]
    Encoding(#[from] postcard::Error),
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("random number generator failed: {0}")]
    Random(String),
}

impl From<postcard::Error> for Error {
    fn from(e: postcard::Error) -> Self {
        Internal::from(e).into()
    }
}

/// The one mapping point from internal failures to public errors: the
/// public message is roster's; the internal failure is kept as the cause.
impl From<Internal> for Error {
    fn from(e: Internal) -> Self {
        let public = match &e {
            Internal::AlreadyOpen => Error::new(
                ErrorCode::Storage,
                "the store is already open in another process or handle",
            ),
            Internal::Engine { what, .. } => {
                Error::new(ErrorCode::Storage, format!("storage failure: {what}"))
            }
            Internal::Encoding(_) => {
                Error::new(ErrorCode::Corrupt, "a stored record could not be decoded")
            }
            Internal::Hashing(what) | Internal::Random(what) => {
                Error::new(ErrorCode::Internal, what.clone())
            }
        };
        public.caused_by(Arc::new(e) as Arc<dyn std::error::Error + Send + Sync>)
    }
}
