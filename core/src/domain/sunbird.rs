//! The Sunbird user lifecycle's records (SPEC 6): what a user has beside the
//! shared record when Sunbird paths touched it, organisations, the role
//! catalogue, and the rules that need no store (user names, masking,
//! completeness, terms).
//!
//! A user's Sunbird-only fields live in one side record ([`SunbirdUser`])
//! under the user's id, written in the same transaction as the user; a user
//! Sunbird never touched has none and reads as [`SunbirdUser::default`].
//! Values the documents leave free-form (address, education, job profile,
//! declaration info, framework) are kept as JSON text, checked to be JSON
//! of the documented kind on input, so the record stays postcard-encodable.

use super::Micros;
use serde::{Deserialize, Serialize};

/// The surface that created a user: restore applies that surface's rules
/// (a Sunbird `userName` may hold a space; a Testpress one may not).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub enum Origin {
    /// Testpress or Django paths, an import, the typed API.
    #[default]
    Roster,
    /// A Sunbird create, signup or managed create.
    Sunbird,
    /// A Sunbird SSO create (format 10 on): a shadow account that its
    /// owner may claim (S11) until it signs in. Users that earlier formats
    /// created through SSO are `Sunbird`: nothing told them apart, so they
    /// cannot be claimed.
    Sso,
}

/// An external id: unique per `(provider, id_type, id)`, all lower-case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct ExternalId {
    /// Who issued it (an organisation's channel, usually).
    pub provider: String,
    /// Its kind at that provider.
    pub id_type: String,
    /// The id itself.
    pub id: String,
}

impl ExternalId {
    /// The key of the external-id index: the three parts, each
    /// length-prefixed so no two triples share a key.
    pub fn key(&self) -> String {
        let mut key = String::new();
        for part in [&self.provider, &self.id_type, &self.id] {
            key.push_str(&part.len().to_string());
            key.push(':');
            key.push_str(part);
        }
        key
    }
}

/// A location the user gave (`profileLocation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct Location {
    /// Location code.
    pub code: String,
    /// `state`, `district`, ...
    pub kind: String,
}

/// A user type (`profileUserType(s)`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct UserType {
    /// `teacher`, `administrator`, ...
    pub kind: String,
    /// Its sub-type, possibly empty.
    pub sub_kind: String,
}

/// A role held with its scope: the organisations it applies in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct RoleGrant {
    /// A role id of the catalogue.
    pub role: String,
    /// Organisation ids, ascending, at least one.
    pub scope: Vec<u64>,
    /// When first granted.
    pub created: Micros,
    /// Last change of its scope.
    pub modified: Micros,
}

/// A self-declaration to an organisation (S10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct Declaration {
    /// The organisation it is made to, as sent.
    pub org_id: String,
    /// The persona (`volunteer`, `teacher`, ...).
    pub persona: String,
    /// The declared values, a JSON object's text.
    pub info: String,
    /// `SUBMITTED` until an organisation acts on it.
    pub status: String,
    /// Why it was refused, when it was.
    pub error_type: String,
}

/// A terms acceptance: which version, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct Acceptance {
    /// The terms type (`termsAndCondition` by default).
    pub kind: String,
    /// The version accepted, as the latest was spelt then.
    pub version: String,
    /// When.
    pub on: Micros,
}

/// A migration claim on this shadow account (S11).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct Claim {
    /// Wrong `userExtId` attempts so far.
    pub failed: u8,
    /// The shadow was rejected by its claimant.
    pub rejected: bool,
}

/// A user's Sunbird-only fields (SPEC 6), kept beside the user record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct SunbirdUser {
    /// The surface that created the user.
    pub origin: Origin,
    /// `emailVerified`.
    pub email_verified: bool,
    /// `phoneVerified`.
    pub phone_verified: bool,
    /// The managing user's id (S3); never changed once set.
    pub managed_by: Option<u64>,
    /// The user who created this one.
    pub created_by: Option<u64>,
    /// The root organisation (tenant) the user belongs to.
    pub root_org: Option<u64>,
    /// Organisations the user is a member of (the root one included),
    /// ascending.
    pub organisations: Vec<u64>,
    /// External ids, sorted.
    pub external_ids: Vec<ExternalId>,
    /// `profileLocation`.
    pub locations: Vec<Location>,
    /// `profileUserTypes`.
    pub user_types: Vec<UserType>,
    /// `framework`: a JSON object of lists, as text (empty: none).
    pub framework: String,
    /// `language`.
    pub language: Vec<String>,
    /// `grade`.
    pub grade: Vec<String>,
    /// `subject`.
    pub subject: Vec<String>,
    /// `profileSummary`.
    pub profile_summary: String,
    /// `address`: a JSON list's text (empty: none).
    pub address: String,
    /// `education`: a JSON list's text (empty: none).
    pub education: String,
    /// `jobProfile`: a JSON list's text (empty: none).
    pub job_profile: String,
    /// Roles with scope, sorted by role.
    pub roles: Vec<RoleGrant>,
    /// Terms accepted, one per type.
    pub accepted: Vec<Acceptance>,
    /// Declarations, one per (organisation, persona).
    pub declarations: Vec<Declaration>,
    /// The email before the last change (or a merge).
    pub prev_used_email: String,
    /// The phone before the last change (or a merge).
    pub prev_used_phone: String,
    /// `recoveryEmail`.
    pub recovery_email: String,
    /// `recoveryPhone`.
    pub recovery_phone: String,
    /// Merged away (S12): kept, inactive, identifiers freed.
    pub deleted: bool,
    /// A migration claim in progress.
    pub claim: Option<Claim>,
}

/// An organisation (S13).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    /// Integer id, never reused, below 2^53.
    pub id: u64,
    /// Random UUID.
    #[serde(with = "crate::domain::uuid_serde")]
    pub uuid: u128,
    /// `orgName`.
    pub name: String,
    /// `organisationType` (`school`, `board`, ...).
    pub org_type: String,
    /// `channel`, lower-case; unique; empty for none.
    pub channel: String,
    /// Whether it is a tenant (a root organisation).
    pub is_tenant: bool,
    /// The institute's own root organisation (users created without a
    /// channel belong to it).
    pub is_default: bool,
    /// The tenant it belongs to (itself for a tenant).
    pub root_org: u64,
    /// Contact email, possibly empty.
    pub email: String,
    /// `externalId`, possibly empty.
    pub external_id: String,
    /// Creation instant.
    pub created: Micros,
    /// Last change.
    pub modified: Micros,
}

/// A Sunbird user's fields as a create or an update gives them (S1, S5):
/// `None` leaves a field as it is (on create: absent). Text is as sent; the
/// operations trim, lower-case and check it.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "uniffi", uniffi::export(Debug, Display))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct SunbirdInput {
    /// `firstName` (`firstname` on v3).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub first_name: Option<String>,
    /// `lastName` (`lastname` on v3).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub last_name: Option<String>,
    /// `userName`; generated on create when absent.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub user_name: Option<String>,
    /// `email`; `""` on create means absent.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub email: Option<String>,
    /// `phone` (a JSON number is its digits).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub phone: Option<String>,
    /// `password`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub password: Option<String>,
    /// `dob`: `YYYY-MM-DD`, or `YYYY` (stored as `YYYY-12-31`).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub dob: Option<String>,
    /// `gender`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub gender: Option<String>,
    /// `avatar`: an image URL.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub avatar: Option<String>,
    /// `emailVerified`: wins over the rules that would set it.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub email_verified: Option<bool>,
    /// `phoneVerified`: wins over the rules that would set it.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub phone_verified: Option<bool>,
    /// `recoveryEmail`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub recovery_email: Option<String>,
    /// `recoveryPhone`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub recovery_phone: Option<String>,
    /// `language`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub language: Option<Vec<String>>,
    /// `grade`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub grade: Option<Vec<String>>,
    /// `subject`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub subject: Option<Vec<String>>,
    /// `profileSummary`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub profile_summary: Option<String>,
    /// `framework`: a JSON object of lists, as text.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub framework: Option<String>,
    /// `address`: a JSON list of objects, as text.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub address: Option<String>,
    /// `education`: a JSON list of objects, as text.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub education: Option<String>,
    /// `jobProfile`: a JSON list of objects, as text.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub job_profile: Option<String>,
    /// `profileLocation`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub locations: Option<Vec<Location>>,
    /// `profileUserTypes` (or `profileUserType`, one).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub user_types: Option<Vec<UserType>>,
    /// `externalIds`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub external_ids: Option<Vec<ExternalId>>,
    /// `channel`: the root organisation's channel.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub channel: Option<String>,
    /// `orgExternalId`: an organisation of that channel, by external id.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub org_external_id: Option<String>,
    /// `managedBy`: the managing user's `userId`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub managed_by: Option<String>,
}

crate::text::debug_without_secrets!(SunbirdInput {
    first_name,
    last_name,
    user_name,
    email,
    phone,
    password secret,
    dob,
    gender,
    avatar,
    email_verified,
    phone_verified,
    recovery_email,
    recovery_phone,
    language,
    grade,
    subject,
    profile_summary,
    framework,
    address,
    education,
    job_profile,
    locations,
    user_types,
    external_ids,
    channel,
    org_external_id,
    managed_by,
});

/// How a user is being created (S1-S3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub enum CreateRoute {
    /// `POST /v1|v2|v3/create`.
    Create,
    /// `POST /v1|v2/signup`.
    Signup,
    /// `POST /v1/sso/create`.
    Sso,
    /// `POST /v4/create`, `/v1/managed/create`.
    Managed,
}

/// The extra parts a read can ask for (`fields=`, S6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct ReadParts {
    /// `organisations`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub organisations: bool,
    /// `roles`: the role catalogue as `roleList`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub roles: bool,
    /// `locations`: `userLocations`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub locations: bool,
    /// `declarations`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub declarations: bool,
    /// `externalIds`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub external_ids: bool,
    /// `topic`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub topic: bool,
    /// `completeness`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub completeness: bool,
    /// `missingFields`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub missing_fields: bool,
}

impl ReadParts {
    /// The parts named by a `fields=` list (unknown names ignored, as the
    /// reference does).
    pub fn parse(fields: &str) -> ReadParts {
        let mut parts = ReadParts::default();
        for name in fields.split(',').map(str::trim) {
            match name.to_ascii_lowercase().as_str() {
                "organisations" => parts.organisations = true,
                "roles" => parts.roles = true,
                "locations" => parts.locations = true,
                "declarations" => parts.declarations = true,
                "externalids" => parts.external_ids = true,
                "topic" => parts.topic = true,
                "completeness" => parts.completeness = true,
                "missingfields" => parts.missing_fields = true,
                _ => {}
            }
        }
        parts
    }
}

/// A user as the Sunbird surface shows it (S6): the shared record's fields
/// under Sunbird's names, contact data masked, the side record, and what
/// the read asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct SunbirdView {
    /// `userId`: the UUID.
    pub user_id: String,
    /// `userName`.
    pub user_name: String,
    /// `firstName`.
    pub first_name: String,
    /// `lastName` (empty: none).
    pub last_name: String,
    /// `email`, masked (empty: none).
    pub email: String,
    /// `phone`, masked (empty: none).
    pub phone: String,
    /// `dob` as `YYYY-MM-DD`, if known.
    pub dob: Option<String>,
    /// `gender`.
    pub gender: Option<String>,
    /// `avatar` (empty: none).
    pub avatar: String,
    /// `status`: 1 active, 0 blocked (or merged away).
    pub status: u8,
    /// When created.
    pub created: Micros,
    /// Last change.
    pub modified: Micros,
    /// Last sign-in.
    pub last_login: Option<Micros>,
    /// `managedBy`: the manager's `userId`.
    pub managed_by: Option<String>,
    /// `createdBy`: the creator's `userId`.
    pub created_by: Option<String>,
    /// The side record, contact data in it masked.
    pub side: SunbirdUser,
    /// The root organisation.
    pub root_org: Option<OrgView>,
    /// Every organisation the user belongs to (the root one included).
    pub organisations: Vec<OrgView>,
    /// The latest terms version and URL, when set.
    pub tnc_latest: Option<Terms>,
    /// Whether the user must accept the latest terms.
    pub prompt_tnc: bool,
    /// Profile completeness in percent, when asked for.
    pub completeness: Option<u32>,
    /// The empty profile attributes, when asked for.
    pub missing_fields: Option<Vec<String>>,
    /// What the read asked for.
    pub parts: ReadParts,
}

/// The Sunbird reference's failures (its `ResponseMessage` numbers and
/// sentences), as roster errors carrying the number
/// ([`crate::Error::reference`]); the Sunbird surface prefixes it with
/// `UOS_` and the operation's code.
pub mod fault {
    use crate::error::{Error, ErrorCode, FieldErrors};

    /// A validation error about `param` whose message is the reference's.
    fn about(number: &'static str, param: &str, message: String) -> Error {
        Error::new(ErrorCode::Validation, message.clone())
            .with_fields(FieldErrors::one(param, message))
            .numbered(number)
    }

    /// `0030`: "Mandatory parameter {0} is missing."
    pub fn missing(param: &str) -> Error {
        about(
            "0030",
            param,
            format!("Mandatory parameter {param} is missing."),
        )
    }

    /// `0031`: "Mandatory parameter {0} is empty."
    pub fn empty(param: &str) -> Error {
        about(
            "0031",
            param,
            format!("Mandatory parameter {param} is empty."),
        )
    }

    /// `0009`: "Invalid format for given {0}."
    pub fn invalid(param: &str) -> Error {
        about("0009", param, format!("Invalid format for given {param}."))
    }

    /// `0019`: "Please provide valid {0}."
    pub fn not_valid(param: &str) -> Error {
        about("0019", param, format!("Please provide valid {param}."))
    }

    /// `0017`: "Invalid value {0} for parameter {1}. Please provide a valid
    /// value."
    pub fn invalid_value(value: &str, param: &str) -> Error {
        let value = crate::text::clip(value);
        about(
            "0017",
            param,
            format!("Invalid value {value} for parameter {param}. Please provide a valid value."),
        )
    }

    /// `0018`: "Invalid {0}: {1}. Valid values are: {2}."
    pub fn invalid_key(what: &str, value: &str, valid: &str) -> Error {
        let value = crate::text::clip(value);
        about(
            "0018",
            what,
            format!("Invalid {what}: {value}. Valid values are: {valid}."),
        )
    }

    /// `0021`: "Invalid parameter {0} in request." (a field this path
    /// does not take).
    pub fn not_allowed(param: &str) -> Error {
        about(
            "0021",
            param,
            format!("Invalid parameter {param} in request."),
        )
    }

    /// `0024`: a password the institute's policy refuses (`why`: the
    /// policy's words).
    pub fn weak_password(why: &str) -> Error {
        about("0024", "password", why.to_string())
    }

    /// `0011`: contact data sent for a managed user.
    pub fn only_one_contact() -> Error {
        about(
            "0011",
            "managedBy",
            "Please provide only email or phone or managed by".into(),
        )
    }

    /// `0041`: "Missing parameter {0} which is dependent on {1}."
    pub fn dependent(param: &str, on: &str) -> Error {
        about(
            "0041",
            param,
            format!("Missing parameter {param} which is dependent on {on}."),
        )
    }

    /// `0045`: "Mismatch of given parameters: {0}."
    pub fn mismatch(params: &str) -> Error {
        about(
            "0045",
            params,
            format!("Mismatch of given parameters: {params}."),
        )
    }

    /// `0002`: "{0} already exists" (`userName`, `email`, `phone`, an
    /// external id's description).
    pub fn exists(what: &str) -> Error {
        about("0002", what, format!("{what} already exists"))
    }

    /// `0004`: "Value {0} for {1} is already in use."
    pub fn in_use(value: &str, param: &str) -> Error {
        let value = crate::text::clip(value);
        about(
            "0004",
            param,
            format!("Value {value} for {param} is already in use."),
        )
    }

    /// `0013`: "Requested {0} resource not found" (404).
    pub fn not_found(what: &str) -> Error {
        Error::new(
            ErrorCode::NotFound,
            format!("Requested {what} resource not found"),
        )
        .numbered("0013")
    }

    /// `0013` as block and unblock word it: the bare `user` (404).
    pub fn no_such_user() -> Error {
        Error::new(ErrorCode::NotFound, "user").numbered("0013")
    }

    /// `0006`: "User account has been blocked ." (as the reference spells it).
    pub fn blocked() -> Error {
        about("0006", "userId", "User account has been blocked .".into())
    }

    /// `0073`: the user was merged away (deleted).
    pub fn inactive() -> Error {
        about(
            "0073",
            "userId",
            "User is Inactive. Please make it active to proceed.".into(),
        )
    }

    /// `0008`: "User is already {0}." (`inactive` or `active`).
    pub fn already(state: &str) -> Error {
        about("0008", "userId", format!("User is already {state}."))
    }

    /// `0065`: "managedBy cannot be updated."
    pub fn managed_by_fixed() -> Error {
        about("0065", "managedBy", "managedBy cannot be updated.".into())
    }

    /// `0066`: the manager has as many managed users as allowed (the
    /// managed-create paths answer it as `MANAGED_USER_LIMIT_EXCEEDED`).
    pub fn managed_limit() -> Error {
        about(
            "0066",
            "managedBy",
            "Managed user creation limit exceeded".into(),
        )
    }

    /// `0060`: "User migration failed."
    pub fn migration_failed() -> Error {
        about("0060", "userExtId", "User migration failed.".into())
    }
}

/// One condition of a search filter (S4).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub enum Condition {
    /// Equal, ignoring case, to one of these (a string is a list of one).
    AnyOf(Vec<String>),
    /// Within bounds (dates as text, numbers as text compared as numbers).
    Range {
        /// `<`.
        #[serde(default)]
        lt: Option<String>,
        /// `<=`.
        #[serde(default)]
        le: Option<String>,
        /// `>`.
        #[serde(default)]
        gt: Option<String>,
        /// `>=`.
        #[serde(default)]
        ge: Option<String>,
    },
    /// Starts with this, ignoring case.
    StartsWith(String),
    /// Ends with this, ignoring case.
    EndsWith(String),
}

/// One filter of a search: a key of [`SEARCH_KEYS`] and its condition.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct Filter {
    /// The key (`email`, `roles.role`, ...).
    pub key: String,
    /// What its value must be.
    pub condition: Condition,
}

impl Filter {
    /// `key` equal (ignoring case) to one of `values`.
    pub fn any_of(key: &str, values: &[&str]) -> Filter {
        Filter {
            key: key.to_string(),
            condition: Condition::AnyOf(values.iter().map(|v| v.to_string()).collect()),
        }
    }
}

/// A group of filters that must all hold (one member of `$or`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct FilterGroup {
    /// The filters, ANDed.
    pub all: Vec<Filter>,
}

/// A search's filters: every `all` condition holds, and (when there are
/// any) at least one `any` group's conditions all hold (`$or`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct Filters {
    /// ANDed.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub all: Vec<Filter>,
    /// `$or`: groups, each ANDed, ORed together.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub any: Vec<FilterGroup>,
}

/// The order of a search's answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct SortBy {
    /// A key of [`SEARCH_KEYS`].
    pub key: String,
    /// Descending (else ascending).
    pub descending: bool,
}

/// A user search (S4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct SearchRequest {
    /// The filters.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub filters: Filters,
    /// Free text: a substring of firstName, lastName, userName, email or
    /// phone, ignoring case.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub query: Option<String>,
    /// At most this many (default 250, capped by the configuration).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub limit: Option<u64>,
    /// From this match on.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub offset: u64,
    /// The order (default: creation order).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub sort_by: Option<SortBy>,
}

/// The keys a search may filter or sort on (S4's allow-list).
pub const SEARCH_KEYS: [&str; 22] = [
    "userId",
    "id",
    "userName",
    "firstName",
    "lastName",
    "email",
    "phone",
    "status",
    "managedBy",
    "channel",
    "rootOrgId",
    "organisations.organisationId",
    "roles.role",
    "profileUserType.type",
    "profileLocation.code",
    "externalIds.id",
    "createdDate",
    "dob",
    "gender",
    "language",
    "grade",
    "subject",
];

/// An organisation as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct OrgView {
    /// Integer id, below 2^53.
    pub id: u64,
    /// Its UUID, hyphenated.
    pub uuid: String,
    /// `orgName`.
    pub name: String,
    /// `organisationType`.
    pub org_type: String,
    /// `channel` (empty for none).
    pub channel: String,
    /// Whether it is a tenant.
    pub is_tenant: bool,
    /// Whether it is the institute's default organisation.
    pub is_default: bool,
    /// Its tenant.
    pub root_org: u64,
    /// Contact email (empty for none).
    pub email: String,
    /// `externalId` (empty for none).
    pub external_id: String,
    /// Creation instant.
    pub created: Micros,
    /// Last change.
    pub modified: Micros,
}

impl From<&Organisation> for OrgView {
    fn from(o: &Organisation) -> OrgView {
        OrgView {
            id: o.id,
            uuid: super::uuid_string(o.uuid),
            name: o.name.clone(),
            org_type: o.org_type.clone(),
            channel: o.channel.clone(),
            is_tenant: o.is_tenant,
            is_default: o.is_default,
            root_org: o.root_org,
            email: o.email.clone(),
            external_id: o.external_id.clone(),
            created: o.created,
            modified: o.modified,
        }
    }
}

/// The default terms type: the system setting that holds its latest
/// version.
pub const TERMS_AND_CONDITIONS: &str = "tncConfig";

/// The latest version of a terms type and its URL, as a system setting
/// states them: `{"latestVersion":"v4","v4":{"url":"..."}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct Terms {
    /// The latest version.
    pub latest: String,
    /// Its URL (empty when the setting gives none).
    pub url: String,
}

impl Terms {
    /// The terms of a setting's value, or `None` when it is not a terms
    /// setting's JSON (an object with a non-empty `latestVersion`).
    pub fn parse(value: &str) -> Option<Terms> {
        let v: serde_json::Value = serde_json::from_str(value).ok()?;
        let latest = v.get("latestVersion")?.as_str()?.trim().to_string();
        if latest.is_empty() {
            return None;
        }
        let url = v
            .get(&latest)
            .and_then(|t| t.get("url"))
            .and_then(|u| u.as_str())
            .unwrap_or_default()
            .to_string();
        Some(Terms { latest, url })
    }
}

/// Whether setting `id` holds a terms type's versions (`tncConfig`, or a
/// type like `groupsTnc`).
pub fn is_terms_setting(id: &str) -> bool {
    id == TERMS_AND_CONDITIONS || id.ends_with("Tnc")
}

/// What a role change does (S13 v2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub enum RoleOperation {
    /// Unites the scopes (the default).
    Add,
    /// Subtracts the scopes; a role left without one goes.
    Remove,
    /// Replaces the role's scopes.
    Edit,
}

/// One role change of a v2 assignment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct RoleChange {
    /// The role id.
    pub role: String,
    /// What to do.
    pub operation: RoleOperation,
    /// Organisation ids.
    pub scope: Vec<u64>,
}

/// What a declaration change does (S10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub enum DeclarationOperation {
    /// Adds it, replacing one with the same organisation and persona.
    Add,
    /// Inserts or replaces it.
    Edit,
    /// Removes it.
    Remove,
}

/// One declaration change.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct DeclarationChange {
    /// What to do.
    pub operation: DeclarationOperation,
    /// Whose declaration (`userId`).
    pub user_id: String,
    /// To which organisation.
    pub org_id: String,
    /// The persona.
    pub persona: String,
    /// The declared values, a JSON object's text.
    pub info: String,
}

/// The answer to a migration claim (S11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub enum Migrated {
    /// Accepted: the shadow's data is the caller's now.
    Accepted,
    /// Rejected: the shadow is marked so.
    Rejected,
    /// A wrong `userExtId`: attempts left (of [`MIGRATION_ATTEMPTS`]).
    WrongId {
        /// Attempts left before the claim closes.
        remaining: u8,
        /// The id given.
        given: String,
    },
}

/// Wrong `userExtId` attempts a claim allows.
pub const MIGRATION_ATTEMPTS: u8 = 2;

/// An instant as Sunbird writes it, in UTC (`2020-11-23 07:02:36:155+0000`).
pub fn timestamp(micros: Micros) -> String {
    super::instant(micros)
        .format("%Y-%m-%d %H:%M:%S:%3f%z")
        .to_string()
}

/// The role every user has without a grant.
pub const PUBLIC_ROLE: &str = "PUBLIC";

/// The role catalogue: the roles of the seed's `roleList` (de-duplicated,
/// trimmed), then `PROGRAM_MANAGER` and `PROGRAM_DESIGNER`, as (id, name).
pub const ROLES: [(&str, &str); 25] = [
    ("CONTENT_CURATION", "Content Curation"),
    ("CONTENT_CREATOR", "Content Creator"),
    (
        "OFFICIAL_TEXTBOOK_BADGE_ISSUER",
        "Official TextBook Badge Issuer",
    ),
    ("ADMIN", "Admin"),
    ("COURSE_MENTOR", "Course Mentor"),
    ("ORG_ADMIN", "Org Admin"),
    ("CONTENT_REVIEW", "Content Review"),
    ("FLAG_REVIEWER", "Flag Reviewer"),
    ("ANNOUNCEMENT_SENDER", "Announcement Sender"),
    ("SYSTEM_ADMINISTRATION", "System Administration"),
    ("BOOK_CREATOR", "Book Creator"),
    ("COURSE_CREATOR", "Course Creator"),
    ("REPORT_VIEWER", "Report Viewer"),
    ("MEMBERSHIP_MANAGEMENT", "Membership Management"),
    ("CONTENT_CREATION", "Content Creation"),
    ("BOOK_REVIEWER", "Book Reviewer"),
    ("TEACHER_BADGE_ISSUER", "Teacher Badge Issuer"),
    ("ORG_MANAGEMENT", "Org Management"),
    ("COURSE_ADMIN", "Course Admin"),
    ("ORG_MODERATOR", "Org Moderator"),
    ("PUBLIC", "Public"),
    ("CONTENT_REVIEWER", "Content Reviewer"),
    ("REPORT_ADMIN", "Report Admin"),
    ("PROGRAM_MANAGER", "Program Manager"),
    ("PROGRAM_DESIGNER", "Program Designer"),
];

/// The catalogue's id for `role` (trimmed, any case); `None` when unknown.
pub fn role_id(role: &str) -> Option<&'static str> {
    let role = role.trim();
    ROLES
        .iter()
        .find(|(id, _)| id.eq_ignore_ascii_case(role))
        .map(|(id, _)| *id)
}

/// The user name generated from a first and last name (S1), before its
/// random suffix: transliterated to ASCII, lower-cased, everything but
/// letters, digits, `_`, `-` and `.` dropped.
pub fn username_stem(first: &str, last: &str) -> String {
    let mut ascii = String::new();
    for c in format!("{first} {last}").chars() {
        ascii_of(c, &mut ascii);
    }
    ascii.retain(|a| a.is_ascii_alphanumeric() || matches!(a, '_' | '-' | '.'));
    ascii
}

/// An ASCII spelling of `c`, lower-case: itself when ASCII, the base
/// letters of a Latin-1 or Latin Extended-A letter (its marks dropped:
/// `é` -> `e`, `ß` -> `ss`), else nothing (other scripts have no spelling
/// here; a name in them gets the generated name's fallback stem).
fn ascii_of(c: char, out: &mut String) {
    /// U+00C0 to U+017F, lower-cased, marks dropped.
    const LATIN: [&str; 192] = [
        "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i", "d", "n",
        "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "ss", "a", "a", "a", "a",
        "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i", "d", "n", "o", "o", "o", "o",
        "o", "", "o", "u", "u", "u", "u", "y", "th", "y", "a", "a", "a", "a", "a", "a", "c", "c",
        "c", "c", "c", "c", "c", "c", "d", "d", "d", "d", "e", "e", "e", "e", "e", "e", "e", "e",
        "e", "e", "g", "g", "g", "g", "g", "g", "g", "g", "h", "h", "h", "h", "i", "i", "i", "i",
        "i", "i", "i", "i", "i", "i", "ij", "ij", "j", "j", "k", "k", "k", "l", "l", "l", "l", "l",
        "l", "l", "l", "l", "l", "n", "n", "n", "n", "n", "n", "n", "ng", "ng", "o", "o", "o", "o",
        "o", "o", "oe", "oe", "r", "r", "r", "r", "r", "r", "s", "s", "s", "s", "s", "s", "s", "s",
        "t", "t", "t", "t", "t", "t", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u",
        "w", "w", "y", "y", "y", "z", "z", "z", "z", "z", "z", "s",
    ];
    let cp = c as u32;
    match cp {
        0..=0x7F => out.push(c.to_ascii_lowercase()),
        0xC0..=0x17F => out.push_str(LATIN[(cp - 0xC0) as usize]),
        _ => {}
    }
}

/// An email as Sunbird shows another person's: the first two characters
/// of the local part, the rest of it `*`, the domain as it is
/// (`se*************@yopmail.com`). A value that is not an email is shown
/// as it is.
pub fn mask_email(email: &str) -> String {
    // Most users have no recovery or previous email: no validation for
    // what cannot be one.
    let Some((local, domain)) = email
        .rsplit_once('@')
        .filter(|_| crate::domain::rules::is_email(email))
    else {
        return email.to_string();
    };
    let mut masked = String::with_capacity(email.len());
    let mut chars = local.chars();
    masked.extend(chars.by_ref().take(2));
    masked.extend(chars.map(|_| '*'));
    masked.push('@');
    masked.push_str(domain);
    masked
}

/// A phone number as Sunbird shows another person's: its last four
/// characters, the rest `*` (`******7890`). One shorter than ten
/// characters is shown as it is.
pub fn mask_phone(phone: &str) -> String {
    let n = phone.chars().count();
    if n < 10 {
        return phone.to_string();
    }
    let mut masked = String::with_capacity(phone.len());
    masked.extend(std::iter::repeat_n('*', n - 4));
    masked.extend(phone.chars().skip(n - 4));
    masked
}

/// The longest `orgId`, `persona`, `status` or `errorType` of a declaration
/// (S10): an organisation's id or a persona is a name.
pub const DECLARATION_TEXT_MAX: usize = super::rules::NAME_MAX;

/// The most bytes of a declaration's `info` (its JSON object's text), as
/// for the other JSON values of a Sunbird user (`framework`, `address`,
/// ...): with up to 100 declarations a user, a side record stays under a
/// megabyte, and so does each of its change-feed entries.
pub const DECLARATION_INFO_MAX: usize = 10_000;

/// `text` as roster stores a Sunbird JSON value: compact, a JSON object
/// (`object`: `framework`, a declaration's `info`) or a list of objects
/// (`address`, `education`, `jobProfile`), of at most
/// [`DECLARATION_INFO_MAX`] bytes as given and as stored (a number is
/// written back longer than it may be sent: `1e15` is stored as
/// `1000000000000000.0`); blank is empty. `None` for anything else.
pub(crate) fn json_text(text: &str, object: bool) -> Option<String> {
    if text.trim().is_empty() {
        return Some(String::new());
    }
    if text.len() > DECLARATION_INFO_MAX {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let fits = match &value {
        serde_json::Value::Object(_) => object,
        serde_json::Value::Array(items) => {
            !object && items.iter().all(serde_json::Value::is_object)
        }
        _ => false,
    };
    let stored = fits.then(|| value.to_string())?;
    (stored.len() <= DECLARATION_INFO_MAX).then_some(stored)
}

/// The longest terms type of an acceptance: a system setting's id (S14).
pub const TERMS_KIND_MAX: usize = 100;
/// Longest part of an external id (provider, idType, id), in bytes.
pub const EXTERNAL_ID_PART_MAX: usize = 200;

/// The most declarations, accepted terms and external ids (one per
/// provider and id type) a user's side record holds.
pub const SIDE_LIST_MAX: usize = 100;

/// The most organisations one role of a user is scoped to: a role may
/// span a tenant's schools, so many more than [`SIDE_LIST_MAX`], but not
/// without bound (each change unites or subtracts scopes entry by entry).
pub const ROLE_SCOPE_MAX: usize = 1_000;

/// The first of `side`'s bounded lists that holds more than its bound
/// ([`SIDE_LIST_MAX`]; a role's `scope`, [`ROLE_SCOPE_MAX`]), by its
/// Sunbird name: each write path bounds the list it is given, and a merge
/// or a claim, which unite two users' lists, is held to the same bound by
/// this check, as a restore and the integrity check are.
pub fn overfull_list(side: &SunbirdUser) -> Option<&'static str> {
    let widest_scope = side.roles.iter().map(|g| g.scope.len()).max().unwrap_or(0);
    [
        ("declarations", side.declarations.len(), SIDE_LIST_MAX),
        ("externalIds", side.external_ids.len(), SIDE_LIST_MAX),
        ("tncAccepted", side.accepted.len(), SIDE_LIST_MAX),
        ("scope", widest_scope, ROLE_SCOPE_MAX),
    ]
    .into_iter()
    .find(|(_, len, max)| len > max)
    .map(|(name, ..)| name)
}

/// Whether `part` (a user's external id's provider, idType or id, in its
/// looked-up form) is within [`EXTERNAL_ID_PART_MAX`] bytes and free of
/// control characters.
pub fn external_id_part_ok(part: &str) -> bool {
    part.len() <= EXTERNAL_ID_PART_MAX && !part.chars().any(char::is_control)
}

/// Whether `id` may be an organisation's external id as stored: in its
/// looked-up form (trimmed, lower case) and held as a part of a user's
/// external id is ([`external_id_part_ok`]). Empty is none.
pub fn org_external_id_ok(id: &str) -> bool {
    id == id.trim().to_lowercase() && external_id_part_ok(id)
}

/// The longest terms version of an acceptance: a version is read from a
/// system setting's value, which holds at most this many bytes.
pub const TERMS_VERSION_MAX: usize = 10_000;

/// Whether `text` is a short line as a declaration or an acceptance keeps
/// it: [`super::rules::text`] leaves it as it is (trimmed, within `max`
/// characters, without control characters).
fn short_line(text: &str, max: usize, blank_ok: bool) -> bool {
    (blank_ok || !text.is_empty()) && super::rules::text(text, max).as_deref() == Ok(text)
}

/// The manager `side` counts toward (S3): its `managedBy`, unless it was
/// merged away (it keeps its `managedBy` as a record of what it was).
pub(crate) fn counted_manager(side: &SunbirdUser) -> Option<u64> {
    side.managed_by.filter(|_| !side.deleted)
}

/// The managers that manage more than `limit` users among `sides` (every
/// user's side record), with their counts ([`counted_manager`]).
pub(crate) fn over_managed_limit<'a>(
    sides: impl IntoIterator<Item = &'a SunbirdUser>,
    limit: u32,
) -> Vec<String> {
    let mut per_manager: std::collections::BTreeMap<u64, u64> = Default::default();
    for manager in sides.into_iter().filter_map(counted_manager) {
        *per_manager.entry(manager).or_default() += 1;
    }
    per_manager
        .into_iter()
        .filter(|(_, n)| *n > u64::from(limit))
        .map(|(manager, n)| format!("user {manager} manages {n} users, above the limit of {limit}"))
        .collect()
}

/// The problems of the side record of user `id` that need no other record
/// (a restore's check and the integrity check share them): the values the
/// API paths write, each by the rule of the path that writes it.
///
/// - `prevUsedEmail`/`prevUsedPhone` held the user's email or phone, so
///   they meet the email and phone rules, in the form roster stores them;
/// - `createdBy` names a user created before this one (ids are given in
///   order; the creator may have been deleted since);
/// - one grant per role, sorted by role;
/// - declarations: one per (organisation, persona), their texts short
///   lines ([`DECLARATION_TEXT_MAX`]), their `info` within
///   [`DECLARATION_INFO_MAX`];
/// - acceptances: one per terms type, the type a setting's id
///   ([`TERMS_KIND_MAX`]), the version within [`TERMS_VERSION_MAX`];
/// - a claim's failures within [`MIGRATION_ATTEMPTS`].
pub(crate) fn stored_side_problems(id: u64, side: &SunbirdUser) -> Vec<String> {
    let mut problems = Vec::new();
    let clip = crate::text::clip;
    let contact = crate::domain::user::ProfileInput {
        email: Some(side.prev_used_email.clone()),
        phone: Some(side.prev_used_phone.clone()),
        ..Default::default()
    };
    let mut profile = crate::domain::user::Profile::default();
    let mut errors = crate::error::FieldErrors::new();
    let ctx = crate::domain::user::Context {
        today: chrono::NaiveDate::default(),
        fields: &[],
    };
    crate::domain::user::apply_profile(&mut profile, &contact, ctx, false, &mut errors);
    for (field, name) in [("email", "prevUsedEmail"), ("phone", "prevUsedPhone")] {
        if !errors.messages(field).is_empty() {
            let messages: Vec<String> = errors.messages(field).iter().map(|m| clip(m)).collect();
            problems.push(format!("{name}: {}", messages.join(" ")));
        }
    }
    if errors.is_empty()
        && (profile.email != side.prev_used_email || profile.phone != side.prev_used_phone)
    {
        problems.push("prevUsedEmail or prevUsedPhone: not in the form roster stores".into());
    }
    // Not "created before this one": with ids handed out in blocks, one
    // per process, a creator's id may be above its user's. (Ids stop
    // below 2^53.)
    if let Some(creator) = side.created_by
        && (creator == 0 || creator == id || creator >= 1 << 53)
    {
        problems.push(format!("createdBy {creator} names no other user"));
    }
    if let Some(list) = overfull_list(side) {
        problems.push(format!("{list}: more than {SIDE_LIST_MAX} entries"));
    }
    // Every path puts the root among the organisations (the search index
    // and its filter both count on it).
    if let Some(root) = side.root_org
        && !side.organisations.contains(&root)
    {
        problems.push(format!("rootOrgId {root} is not among its organisations"));
    }
    if side.roles.windows(2).any(|w| w[0].role >= w[1].role) {
        problems
            .push("roles: one grant per role, sorted by role, is how roster stores them".into());
    }
    let mut declared = std::collections::BTreeSet::new();
    for d in &side.declarations {
        let lines = [
            (&d.org_id, false),
            (&d.persona, false),
            (&d.status, false),
            (&d.error_type, true),
        ];
        if !lines
            .iter()
            .all(|(t, blank_ok)| short_line(t, DECLARATION_TEXT_MAX, *blank_ok))
            || d.persona.to_lowercase() != d.persona
        {
            problems.push(format!(
                "a declaration's orgId, persona, status or errorType is not a short line \
                 (at most {DECLARATION_TEXT_MAX} characters) as roster stores it"
            ));
        }
        if d.info.len() > DECLARATION_INFO_MAX {
            problems.push(format!(
                "a declaration's info holds {} bytes, more than {DECLARATION_INFO_MAX}",
                d.info.len()
            ));
        } else if json_text(&d.info, true).as_deref() != Some(d.info.as_str()) {
            problems.push("a declaration's info is not a JSON object".into());
        }
        if !declared.insert((d.org_id.as_str(), d.persona.as_str())) {
            problems.push("two declarations to one organisation as one persona".into());
        }
    }
    let mut kinds = std::collections::BTreeSet::new();
    for a in &side.accepted {
        if !short_line(&a.kind, TERMS_KIND_MAX, false)
            || a.version.trim().is_empty()
            || a.version.len() > TERMS_VERSION_MAX
        {
            problems.push(format!(
                "an acceptance's terms type (at most {TERMS_KIND_MAX} characters) or version \
                 (at most {TERMS_VERSION_MAX} bytes) is not as roster stores it"
            ));
        }
        if !kinds.insert(a.kind.as_str()) {
            problems.push("two acceptances of one terms type".into());
        }
    }
    if side
        .claim
        .as_ref()
        .is_some_and(|c| c.failed > MIGRATION_ATTEMPTS)
    {
        problems.push("a claim counts more failures than it allows".into());
    }
    problems
}

/// The problems of a managed user's own record (S3): a managed user has no
/// email, no phone and no usable password (roster stores an empty hash; `!`
/// marks an unusable one), so it signs in only through its manager's
/// tokens.
pub(crate) fn managed_user_problems(user: &super::user::User) -> Vec<&'static str> {
    let mut problems = Vec::new();
    if user.has_contact() {
        problems.push("a managed user has no email or phone");
    }
    if !user.password_hash.is_empty() && !user.password_hash.starts_with('!') {
        problems.push("a managed user has no password");
    }
    problems
}

/// The channel of the institute's default root organisation.
pub const DEFAULT_CHANNEL: &str = "default";

/// Whether `org` may be stored as it is as far as the default organisation
/// goes: one that is not the default is, and the default is the tenant of
/// channel [`DEFAULT_CHANNEL`], its own root (as roster creates it). The
/// channel is unique, so at most one organisation fits as the default.
pub(crate) fn fits_as_default(org: &Organisation) -> bool {
    !org.is_default || (org.channel == DEFAULT_CHANNEL && org.is_tenant && org.root_org == org.id)
}

/// The institute's default organisation among `orgs`, which the store's
/// `default_org` pointer must name (a Sunbird create without a channel puts
/// the user there): the one organisation marked default, or none. More than
/// one, or one not shaped as roster creates it, is an error in words.
pub(crate) fn default_org_of<'a>(
    orgs: impl IntoIterator<Item = &'a Organisation>,
) -> std::result::Result<Option<u64>, String> {
    let defaults: Vec<&Organisation> = orgs.into_iter().filter(|o| o.is_default).collect();
    match defaults.as_slice() {
        [] => Ok(None),
        [org] if fits_as_default(org) => Ok(Some(org.id)),
        [org] => Err(format!(
            "organisation {} is marked the default organisation but is not the tenant of \
             channel {DEFAULT_CHANNEL:?}",
            org.id
        )),
        [a, b, ..] => Err(format!(
            "organisations {} and {} are both marked the default organisation",
            a.id, b.id
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bound holds for the text stored, not only the text sent: a
    /// number may be written back longer than it came (`1e15`).
    #[test]
    fn a_json_text_is_bounded_as_it_is_stored() {
        let numbers = |n: usize| format!("{{\"a\":[{}]}}", vec!["1e15"; n].join(","));
        let sent = numbers(700);
        assert!(sent.len() < DECLARATION_INFO_MAX, "{}", sent.len());
        assert_eq!(json_text(&sent, true), None);
        let fits = numbers(100);
        let stored = json_text(&fits, true).expect("stored");
        assert!(stored.contains("1000000000000000.0"), "{stored}");
        assert_eq!(json_text(&stored, true).as_deref(), Some(stored.as_str()));
    }

    #[test]
    fn a_fields_list_names_parts_in_any_case_and_ignores_the_rest() {
        let flags = |p: ReadParts| {
            [
                p.organisations,
                p.roles,
                p.locations,
                p.declarations,
                p.external_ids,
                p.topic,
                p.completeness,
                p.missing_fields,
            ]
        };
        let names = [
            "organisations",
            "roles",
            "locations",
            "declarations",
            "externalIds",
            "topic",
            "completeness",
            "missingFields",
        ];
        // Each name sets its own part and no other.
        for (k, name) in names.into_iter().enumerate() {
            let set: Vec<usize> = (0..names.len())
                .filter(|&j| flags(ReadParts::parse(name))[j])
                .collect();
            assert_eq!(set, [k], "{name}");
        }
        assert_eq!(
            flags(ReadParts::parse(
                "organisations, Roles ,LOCATIONS,declarations,externalIds,topic,\
                 Completeness,missingFields,password,"
            )),
            [true; 8]
        );
        assert_eq!(ReadParts::parse(""), ReadParts::default());
        assert_eq!(ReadParts::parse("roles;topic,x"), ReadParts::default());
    }

    #[test]
    fn terms_are_read_from_a_settings_latest_version() {
        let terms = |latest: &str, url: &str| {
            Some(Terms {
                latest: latest.into(),
                url: url.into(),
            })
        };
        assert_eq!(
            Terms::parse(r#"{"latestVersion":"v4","v4":{"url":"https://x.in/t4.html"}}"#),
            terms("v4", "https://x.in/t4.html")
        );
        // Trimmed; the URL of another version is not this one's.
        assert_eq!(
            Terms::parse(r#"{"latestVersion":" v2 ","v1":{"url":"https://x.in/t1.html"}}"#),
            terms("v2", "")
        );
        for not_terms in [
            r#"{"latestVersion":""}"#,
            r#"{"latestVersion":"  "}"#,
            r#"{"latestVersion":4}"#,
            r#"{"v4":{"url":"https://x.in"}}"#,
            "v4",
            "",
        ] {
            assert_eq!(Terms::parse(not_terms), None, "{not_terms}");
        }
    }

    #[test]
    fn terms_settings_are_tnc_config_and_types_ending_in_tnc() {
        for id in ["tncConfig", "groupsTnc", "orgAdminTnc"] {
            assert!(is_terms_setting(id), "{id}");
        }
        for id in ["tncconfig", "groupsTNC", "groupsTncs", "custodianOrgId", ""] {
            assert!(!is_terms_setting(id), "{id}");
        }
    }

    #[test]
    fn sunbird_timestamps_are_utc_to_the_millisecond() {
        // Seed 004's shape: 2020-11-23 07:02:36:155+0000.
        let at = chrono::NaiveDate::from_ymd_opt(2020, 11, 23)
            .and_then(|d| d.and_hms_micro_opt(7, 2, 36, 155_999))
            .map(|t| t.and_utc().timestamp_micros())
            .unwrap();
        assert_eq!(timestamp(at), "2020-11-23 07:02:36:155+0000");
        assert_eq!(timestamp(0), "1970-01-01 00:00:00:000+0000");
    }

    #[test]
    fn generated_names_keep_letters_digits_and_three_marks() {
        assert_eq!(username_stem("Ajoy", "Maity"), "ajoymaity");
        assert_eq!(username_stem("José", "Nuñez-Ortiz"), "josenunez-ortiz");
        assert_eq!(username_stem("a.b", "c_d!"), "a.bc_d");
        assert_eq!(username_stem("Straße", ""), "strasse");
        assert_eq!(username_stem("अजय", ""), "");
    }

    #[test]
    fn emails_keep_two_characters_and_the_domain() {
        // Seed 004's masked email: a local part of 15 characters.
        assert_eq!(
            mask_email("selfdeclaredev5@yopmail.com"),
            "se*************@yopmail.com"
        );
        assert_eq!(mask_email("ab@x.in"), "ab@x.in");
        assert_eq!(mask_email("a@x.in"), "a@x.in");
        assert_eq!(
            mask_email("ravi.kumar@example.com"),
            "ra********@example.com"
        );
        // Not an email by roster's rule (ASCII local parts): as it is.
        for not_an_email in ["", "plain", "@x.in", "a@", "a b@x.in", "élodie@example.fr"] {
            assert_eq!(mask_email(not_an_email), not_an_email);
        }
    }

    #[test]
    fn a_stored_declaration_info_is_held_to_the_write_bound() {
        let declared = |info: String| SunbirdUser {
            declarations: vec![Declaration {
                org_id: "org".into(),
                persona: "teacher".into(),
                info,
                status: "SUBMITTED".into(),
                error_type: String::new(),
            }],
            ..SunbirdUser::default()
        };
        let fits = format!("{{\"a\":\"{}\"}}", "x".repeat(DECLARATION_INFO_MAX - 8));
        assert_eq!(fits.len(), DECLARATION_INFO_MAX);
        assert!(stored_side_problems(1, &declared(fits)).is_empty());
        let over = format!("{{\"a\":\"{}\"}}", "x".repeat(DECLARATION_INFO_MAX - 7));
        assert_eq!(
            stored_side_problems(1, &declared(over)),
            vec![format!(
                "a declaration's info holds {} bytes, more than {DECLARATION_INFO_MAX}",
                DECLARATION_INFO_MAX + 1
            )]
        );
        // What a write stores: a compact object, or nothing.
        for fine in ["", "{}", "{\"a\":[1]}"] {
            assert!(
                stored_side_problems(1, &declared(fine.into())).is_empty(),
                "{fine}"
            );
        }
        for odd in ["[1]", "[{}]", "not json", "{ }", "{\"a\": 1}", "\"text\""] {
            assert_eq!(
                stored_side_problems(1, &declared(odd.into())),
                vec!["a declaration's info is not a JSON object".to_string()],
                "{odd}"
            );
        }
    }

    /// Each rule of a stored side record, at its edge: what the write paths
    /// store passes, one step past it is named.
    #[test]
    fn a_stored_side_record_is_held_to_what_the_paths_write() {
        let problems = |side: &SunbirdUser| stored_side_problems(10, side);
        let fine = SunbirdUser {
            prev_used_email: "ravi@example.com".into(),
            prev_used_phone: "9876543210".into(),
            created_by: Some(9),
            accepted: vec![
                Acceptance {
                    kind: TERMS_AND_CONDITIONS.into(),
                    version: "v".repeat(TERMS_VERSION_MAX),
                    on: 0,
                },
                Acceptance {
                    kind: "groupsTnc".into(),
                    version: "v1".into(),
                    on: 0,
                },
            ],
            claim: Some(Claim {
                failed: MIGRATION_ATTEMPTS,
                rejected: false,
            }),
            ..SunbirdUser::default()
        };
        assert_eq!(problems(&fine), Vec::<String>::new());
        let named = |change: &dyn Fn(&mut SunbirdUser), expected: &str| {
            let mut side = fine.clone();
            change(&mut side);
            let found = problems(&side);
            assert!(
                found.len() == 1 && found[0].contains(expected),
                "{expected}: {found:?}"
            );
        };
        // One of the two contacts not as roster stores it is enough.
        named(
            &|s| s.prev_used_email = "ravi@example.com ".into(),
            "not in the form roster stores",
        );
        named(
            &|s| s.prev_used_phone = "98765 43210".into(),
            "prevUsedPhone",
        );
        for creator in [0, 10, 1 << 53] {
            named(&|s| s.created_by = Some(creator), "names no other user");
        }
        // A creator above its user: ids come in blocks, one per process.
        let later = SunbirdUser {
            created_by: Some(11),
            ..fine.clone()
        };
        assert_eq!(problems(&later), Vec::<String>::new());
        named(
            &|s| s.accepted[0].version.push('v'),
            "is not as roster stores it",
        );
        named(
            &|s| s.accepted[1].kind = TERMS_AND_CONDITIONS.into(),
            "two acceptances of one terms type",
        );
        named(
            &|s| {
                s.claim = Some(Claim {
                    failed: MIGRATION_ATTEMPTS + 1,
                    rejected: false,
                })
            },
            "more failures than it allows",
        );
        let teacher = Declaration {
            org_id: "org".into(),
            persona: "teacher".into(),
            info: "{}".into(),
            status: "SUBMITTED".into(),
            error_type: String::new(),
        };
        named(
            &|s| {
                s.declarations = vec![Declaration {
                    persona: "Teacher".into(),
                    ..teacher.clone()
                }]
            },
            "a declaration's orgId, persona, status or errorType",
        );
        named(
            &|s| s.declarations = vec![teacher.clone(), teacher.clone()],
            "two declarations to one organisation as one persona",
        );
    }

    #[test]
    fn the_default_organisation_is_the_tenant_of_the_default_channel_and_one_at_most() {
        let org = |id: u64, channel: &str, is_tenant: bool, is_default: bool, root_org: u64| {
            Organisation {
                id,
                uuid: u128::from(id),
                name: format!("Org {id}"),
                org_type: "school".into(),
                channel: channel.into(),
                is_tenant,
                is_default,
                root_org,
                email: String::new(),
                external_id: String::new(),
                created: 0,
                modified: 0,
            }
        };
        let default = org(1, DEFAULT_CHANNEL, true, true, 1);
        let other = org(2, "ntp", true, false, 2);
        // Any organisation not marked default fits; the default only as
        // roster makes it.
        assert!(fits_as_default(&other));
        assert!(fits_as_default(&org(3, "", false, false, 2)));
        assert!(fits_as_default(&default));
        for bad in [
            org(1, "ntp", true, true, 1),
            org(1, DEFAULT_CHANNEL, false, true, 1),
            org(1, DEFAULT_CHANNEL, true, true, 2),
        ] {
            assert!(!fits_as_default(&bad), "{bad:?}");
            assert!(default_org_of([&bad, &other]).is_err());
        }
        assert_eq!(default_org_of([]), Ok(None));
        assert_eq!(default_org_of([&other]), Ok(None));
        assert_eq!(default_org_of([&other, &default]), Ok(Some(1)));
        let second = org(4, "x", true, true, 4);
        let two = default_org_of([&default, &second]).unwrap_err();
        assert!(two.contains("1 and 4 are both"), "{two}");
    }

    #[test]
    fn phones_keep_their_last_four() {
        assert_eq!(mask_phone("9876547890"), "******7890");
        assert_eq!(mask_phone("+919876547890"), "*********7890");
        for short in ["", "123", "987654789"] {
            assert_eq!(mask_phone(short), short);
        }
    }

    #[test]
    fn the_catalogue_has_every_seed_role_once() {
        let mut ids: Vec<&str> = ROLES.iter().map(|(id, _)| *id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), ROLES.len());
        assert_eq!(role_id(" flag_reviewer "), Some("FLAG_REVIEWER"));
        assert_eq!(role_id("NOPE"), None);
    }

    #[test]
    fn external_id_keys_do_not_collide_across_parts() {
        let a = ExternalId {
            provider: "ab".into(),
            id_type: "c".into(),
            id: "d".into(),
        };
        let b = ExternalId {
            provider: "a".into(),
            id_type: "bc".into(),
            id: "d".into(),
        };
        assert_ne!(a.key(), b.key());
    }
}
