//! Users (SPEC 3): the stored record, the inputs that create and change it,
//! the view that is returned, and the rules that connect them.

use super::custom_field::{self, CustomField, CustomInput, CustomValue};
use super::rules::{self, ADDRESS_MAX, NAME_MAX, REQUIRED};
use super::states::{self, Subdivision};
use super::{BatchView, Micros, instant, uuid_string};
use crate::config::PasswordPolicy;
use crate::error::FieldErrors;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Gender, as the documents code it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Gender {
    /// `male` / `Male`.
    Male,
    /// `female` / `Female`.
    Female,
    /// `trans` / `Transgender`.
    Trans,
}

impl Gender {
    /// The code: `male`, `female`, `trans`.
    pub fn code(self) -> &'static str {
        match self {
            Gender::Male => "male",
            Gender::Female => "female",
            Gender::Trans => "trans",
        }
    }

    /// The human-readable label: `Male`, `Female`, `Transgender`.
    pub fn label(self) -> &'static str {
        match self {
            Gender::Male => "Male",
            Gender::Female => "Female",
            Gender::Trans => "Transgender",
        }
    }

    /// Parses a code, ignoring case.
    pub fn parse(code: &str) -> Option<Self> {
        [Gender::Male, Gender::Female, Gender::Trans]
            .into_iter()
            .find(|g| g.code().eq_ignore_ascii_case(code.trim()))
    }
}

/// The editable profile of a user. Empty strings mean "not set".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Email as given; unique ignoring case when not empty.
    pub email: String,
    /// Normalised phone; unique when not empty.
    pub phone: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Display name as given (empty: derived, see [`User::display_name`]).
    pub display_name: String,
    /// Photo URL.
    pub photo: String,
    /// Birth date.
    #[serde(with = "crate::domain::date_serde")]
    pub birth_date: Option<NaiveDate>,
    /// Address line 1.
    pub address1: String,
    /// Address line 2.
    pub address2: String,
    /// City.
    pub city: String,
    /// PIN code.
    pub zip: String,
    /// Current ISO 3166-2:IN code.
    pub state: String,
    /// Gender.
    pub gender: Option<Gender>,
    /// Custom values by definition id, ascending.
    pub custom: Vec<(u64, CustomValue)>,
}

/// A stored user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Id, never reused.
    pub id: u64,
    /// Random UUID.
    #[serde(with = "crate::domain::uuid_serde")]
    pub uuid: u128,
    /// Username as given; unique ignoring case.
    pub username: String,
    /// argon2id PHC string (empty: no usable password).
    pub password_hash: String,
    /// Profile.
    pub profile: Profile,
    /// Whether the user may sign in.
    pub is_active: bool,
    /// Whether the user is blocked (Sunbird's block).
    pub is_blocked: bool,
    /// Creation instant.
    pub created: Micros,
    /// Last change.
    pub modified: Micros,
    /// Holds every permission (while active).
    pub is_superuser: bool,
    /// May use the admin API (with the permissions it holds).
    pub is_staff: bool,
    /// Group ids, ascending.
    pub groups: Vec<u64>,
    /// Own permission ids, ascending.
    pub permissions: Vec<u32>,
    /// Last successful sign-in.
    pub last_login: Option<Micros>,
    /// When the password last changed: sessions from before are refused.
    pub password_changed: Micros,
    /// Failed sign-ins in a row.
    pub failed_logins: u32,
    /// Sign-in is refused until then.
    pub locked_until: Option<Micros>,
    /// Raised whenever the password changes or the user is blocked,
    /// deactivated or deleted; a session is valid only while it carries
    /// the current value (SPEC A8).
    #[serde(default)]
    pub credential_generation: u64,
}

/// The largest credential generation a stored user may carry: one raise per
/// password change, block or deactivation never comes near it, and ids and
/// counters share the bound (they reach JavaScript as numbers).
pub(crate) const MAX_CREDENTIAL_GENERATION: u64 = 1 << 53;
/// The earliest instant a stored user may carry: 0001-01-01T00:00:00Z, in
/// microseconds (every instant from here to [`MAX_INSTANT`] is a date of
/// four digits and converts to a calendar time without loss).
pub(crate) const MIN_INSTANT: i64 = -62_135_596_800_000_000;
/// The latest instant a stored user may carry: 9999-12-31T23:59:59.999999Z.
pub(crate) const MAX_INSTANT: i64 = 253_402_300_799_999_999;

impl User {
    /// Whether the stored password hash is one roster accepts (parsed, and
    /// within the cost caps of SPEC A4); no password at all is.
    pub(crate) fn stored_hash_is_acceptable(&self) -> std::result::Result<(), String> {
        if self.password_hash.is_empty() {
            return Ok(());
        }
        crate::auth::legacy::check_stored(&self.password_hash)
    }

    /// The problems of the user's sign-in state, in words: a failure count
    /// above any lock-out threshold, a credential generation no sequence
    /// of changes reaches, an instant outside the calendar. None of these
    /// is written by roster; an edited export or store can carry them, and
    /// a count at the end of its type would overflow on the next failure.
    pub(crate) fn sign_in_state_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.failed_logins > crate::config::MAX_LOCKOUT_FAILURES {
            problems.push(format!(
                "failed_logins {} is above the largest lock-out threshold {}",
                self.failed_logins,
                crate::config::MAX_LOCKOUT_FAILURES
            ));
        }
        if self.credential_generation > MAX_CREDENTIAL_GENERATION {
            problems.push(format!(
                "credential_generation {} is out of range",
                self.credential_generation
            ));
        }
        let instants = [
            ("created", Some(self.created)),
            ("modified", Some(self.modified)),
            ("password_changed", Some(self.password_changed)),
            ("last_login", self.last_login),
            ("locked_until", self.locked_until),
        ];
        for (name, at) in instants {
            if let Some(at) = at
                && !(MIN_INSTANT..=MAX_INSTANT).contains(&at)
            {
                problems.push(format!("{name} {at} is not an instant roster stores"));
            }
        }
        problems
    }

    /// Whether the user has an email or a phone: a managed user has
    /// neither (S3), and one given either stands on its own.
    pub(crate) fn has_contact(&self) -> bool {
        !self.profile.email.is_empty() || !self.profile.phone.is_empty()
    }

    /// An active user with no password, profile, flags or history.
    pub fn blank(id: u64, username: &str) -> User {
        User {
            id,
            uuid: 0,
            username: username.to_string(),
            password_hash: String::new(),
            profile: Profile::default(),
            is_active: true,
            is_blocked: false,
            created: 0,
            modified: 0,
            is_superuser: false,
            is_staff: false,
            groups: Vec::new(),
            permissions: Vec::new(),
            last_login: None,
            password_changed: 0,
            failed_logins: 0,
            locked_until: None,
            credential_generation: 0,
        }
    }

    /// The given display name, else "first last" trimmed, else the username.
    pub fn display_name(&self) -> String {
        let p = &self.profile;
        if !p.display_name.is_empty() {
            return p.display_name.clone();
        }
        let mut full = String::with_capacity(p.first_name.len() + 1 + p.last_name.len());
        full.push_str(&p.first_name);
        full.push(' ');
        full.push_str(&p.last_name);
        match full.trim() {
            "" => self.username.clone(),
            trimmed if trimmed.len() == full.len() => full,
            trimmed => trimmed.to_string(),
        }
    }
}

/// Profile fields of an input. `None` leaves a field as it is; `Some("")`
/// clears it.
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ProfileInput {
    /// Email.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub email: Option<String>,
    /// Phone.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub phone: Option<String>,
    /// First name.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub first_name: Option<String>,
    /// Last name.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub last_name: Option<String>,
    /// Display name.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub display_name: Option<String>,
    /// Photo URL.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub photo: Option<String>,
    /// Birth date, `DD/MM/YYYY`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub birth_date: Option<String>,
    /// Address line 1.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub address1: Option<String>,
    /// Address line 2.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub address2: Option<String>,
    /// City.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub city: Option<String>,
    /// PIN code.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub zip: Option<String>,
    /// ISO 3166-2:IN code (current or withdrawn), or the state's name.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub state: Option<String>,
    /// `male`, `female` or `trans`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub gender_code: Option<String>,
    /// Custom values by field name (matched ignoring case and surrounding
    /// spaces); [`CustomInput::Null`] clears one.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub custom_fields: Vec<(String, CustomInput)>,
    /// Removes every custom value before `custom_fields` apply: the
    /// documents' `"custom_fields": null`. A required field then needs a
    /// value in `custom_fields`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub clear_custom_fields: bool,
}

/// Input to create a user (T1).
#[derive(Clone, Default, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "uniffi", uniffi::export(Debug, Display))]
pub struct NewUser {
    /// Username: required.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub username: Option<String>,
    /// Password: required unless one is generated.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub password: Option<String>,
    /// Profile fields.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub profile: ProfileInput,
    /// Default true.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub is_active: Option<bool>,
    /// Default false.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub is_blocked: Option<bool>,
    /// Staff, superuser, groups and own permissions.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub access: AccessInput,
    /// Names of batches to join, matched ignoring case.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub batches: Vec<String>,
    /// Expiry of those memberships, `yyyy-mm-dd`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub expires: Option<String>,
}

crate::text::debug_without_secrets!(NewUser {
    username,
    password secret,
    profile,
    is_active,
    is_blocked,
    access,
    batches,
    expires,
});

/// Input to change a user (T5): present fields change, absent ones stay.
#[derive(Clone, Default, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "uniffi", uniffi::export(Debug, Display))]
pub struct UserPatch {
    /// New username.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub username: Option<String>,
    /// New password.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub password: Option<String>,
    /// Profile fields.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub profile: ProfileInput,
    /// Activate or deactivate.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub is_active: Option<bool>,
    /// Block or unblock.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub is_blocked: Option<bool>,
    /// Staff, superuser, groups and own permissions.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub access: AccessInput,
}

crate::text::debug_without_secrets!(UserPatch {
    username,
    password secret,
    profile,
    is_active,
    is_blocked,
    access,
});

/// The access fields of seed 003: absent ones stay as they are (false and
/// empty on create).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AccessInput {
    /// Superuser flag.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub is_superuser: Option<bool>,
    /// Staff flag.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub is_staff: Option<bool>,
    /// Group ids (replacing the old list).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub groups: Option<Vec<u64>>,
    /// Own permission ids (replacing the old list).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub user_permissions: Option<Vec<u64>>,
}

/// Options of a create (T2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CreateOptions {
    /// Generate a password meeting the policy (the caller sends none).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub auto_generate_password: bool,
    /// Queue the credentials (the supplied password) in the outbox.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub notify_credential: bool,
    /// Require `last_name` (seed 003's create marks it required).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub last_name_required: bool,
}

/// A batch as listed among a user's batches.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct BatchRef {
    /// Batch id.
    pub id: u64,
    /// Batch name.
    pub name: String,
}

/// A user as returned.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct UserView {
    /// Id.
    pub id: u64,
    /// UUID, hyphenated.
    pub uuid: String,
    /// Username.
    pub username: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Display name (derived when not given).
    pub display_name: String,
    /// Email.
    pub email: String,
    /// Phone.
    pub phone: String,
    /// Photo URL.
    pub photo: Option<String>,
    /// Birth date.
    pub birth_date: Option<NaiveDate>,
    /// Gender.
    pub gender: Option<Gender>,
    /// Address line 1.
    pub address1: String,
    /// Address line 2.
    pub address2: String,
    /// City.
    pub city: String,
    /// PIN code.
    pub zip: String,
    /// State.
    pub state: Option<&'static Subdivision>,
    /// Custom values by defined name, in definition order.
    pub custom_fields: Vec<(String, CustomValue)>,
    /// Whether the user may sign in.
    pub is_active: bool,
    /// Whether the user is blocked.
    pub is_blocked: bool,
    /// Creation instant (`date_joined` in seed 003).
    pub created: DateTime<Utc>,
    /// Last change.
    pub modified: DateTime<Utc>,
    /// Whether the user holds every permission.
    pub is_superuser: bool,
    /// Whether the user may use the admin API.
    pub is_staff: bool,
    /// Group ids.
    pub groups: Vec<u64>,
    /// Own permission ids.
    pub user_permissions: Vec<u32>,
    /// Last successful sign-in.
    pub last_login: Option<DateTime<Utc>>,
    /// The user's ordinary batches, newest first, when asked for.
    pub batches: Option<Vec<BatchView>>,
}

impl UserView {
    /// The view of `user`, naming custom values by `fields`' spelling. It
    /// takes the record: a read moves its strings into the view instead of
    /// copying them.
    pub fn new(user: User, fields: &[CustomField]) -> Self {
        let display_name = user.display_name();
        let User {
            id,
            uuid,
            username,
            profile: p,
            is_active,
            is_blocked,
            created,
            modified,
            is_superuser,
            is_staff,
            groups,
            permissions,
            last_login,
            ..
        } = user;
        let custom_fields = fields
            .iter()
            .filter_map(|f| {
                p.custom
                    .iter()
                    .find(|(id, _)| *id == f.id)
                    .map(|(_, v)| (f.name.clone(), v.clone()))
            })
            .collect();
        UserView {
            id,
            uuid: uuid_string(uuid),
            username,
            first_name: p.first_name,
            last_name: p.last_name,
            display_name,
            email: p.email,
            phone: p.phone,
            photo: (!p.photo.is_empty()).then_some(p.photo),
            birth_date: p.birth_date,
            gender: p.gender,
            address1: p.address1,
            address2: p.address2,
            city: p.city,
            zip: p.zip,
            state: states::by_code(&p.state),
            custom_fields,
            is_active,
            is_blocked,
            created: instant(created),
            modified: instant(modified),
            is_superuser,
            is_staff,
            groups,
            user_permissions: permissions,
            last_login: last_login.map(instant),
            batches: None,
        }
    }
}

/// What the profile rules need to know besides the input.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Today in the institute's zone.
    pub today: NaiveDate,
    /// Every custom field definition.
    pub fields: &'a [CustomField],
}

/// Applies `input` to `profile`, collecting every problem in `errors`.
/// `creating` makes required custom fields required.
pub fn apply_profile(
    profile: &mut Profile,
    input: &ProfileInput,
    ctx: Context<'_>,
    creating: bool,
    errors: &mut FieldErrors,
) {
    fn set(
        errors: &mut FieldErrors,
        name: &str,
        value: &Option<String>,
        target: &mut String,
        rule: impl Fn(&str) -> Result<String, String>,
    ) {
        if let Some(value) = value {
            if value.trim().is_empty() {
                target.clear();
            } else {
                match rule(value) {
                    Ok(v) => *target = v,
                    Err(m) => errors.add(name, m),
                }
            }
        }
    }
    let name = |v: &str| rules::text(v, NAME_MAX);
    let address = |v: &str| rules::text(v, ADDRESS_MAX);
    set(
        errors,
        "email",
        &input.email,
        &mut profile.email,
        rules::email,
    );
    set(
        errors,
        "phone",
        &input.phone,
        &mut profile.phone,
        rules::phone,
    );
    set(
        errors,
        "first_name",
        &input.first_name,
        &mut profile.first_name,
        name,
    );
    set(
        errors,
        "last_name",
        &input.last_name,
        &mut profile.last_name,
        name,
    );
    set(
        errors,
        "display_name",
        &input.display_name,
        &mut profile.display_name,
        name,
    );
    set(
        errors,
        "photo",
        &input.photo,
        &mut profile.photo,
        rules::url,
    );
    set(
        errors,
        "address1",
        &input.address1,
        &mut profile.address1,
        address,
    );
    set(
        errors,
        "address2",
        &input.address2,
        &mut profile.address2,
        address,
    );
    set(errors, "city", &input.city, &mut profile.city, address);
    set(errors, "zip", &input.zip, &mut profile.zip, rules::zip);
    set(errors, "state", &input.state, &mut profile.state, |v| {
        states::parse(v)
            .map(|s| s.code.to_string())
            .ok_or_else(|| format!("\"{}\" is not a valid ISO 3166-2:IN code.", v.trim()))
    });
    if let Some(value) = &input.birth_date {
        if value.trim().is_empty() {
            profile.birth_date = None;
        } else {
            match rules::birth_date(value, ctx.today) {
                Ok(date) => profile.birth_date = Some(date),
                Err(m) => errors.add("birth_date", m),
            }
        }
    }
    if let Some(value) = &input.gender_code {
        if value.trim().is_empty() {
            profile.gender = None;
        } else {
            match Gender::parse(value) {
                Some(g) => profile.gender = Some(g),
                None => errors.add("gender_code", format!("\"{value}\" is not a valid choice.")),
            }
        }
    }
    if input.clear_custom_fields {
        profile.custom.clear();
    }
    let judged = creating || input.clear_custom_fields;
    apply_custom(profile, &input.custom_fields, ctx.fields, judged, errors);
}

/// Applies `given` to `profile`'s custom values. A required field without
/// a value is an error when it is mentioned, or when `every_required`
/// (a creation, or every value cleared).
fn apply_custom(
    profile: &mut Profile,
    given: &[(String, CustomInput)],
    fields: &[CustomField],
    every_required: bool,
    errors: &mut FieldErrors,
) {
    const KEY: &str = "custom_fields";
    // Each definition's name and each given name folded once (a given name
    // too long to be a definition's, never), and found by its key.
    let keys: Vec<String> = fields
        .iter()
        .map(|f| custom_field::name_key(&f.name))
        .collect();
    let mut by_key = std::collections::HashMap::with_capacity(fields.len());
    for (key, field) in keys.iter().zip(fields) {
        by_key.entry(key.as_str()).or_insert(field);
    }
    let given_keys: Vec<Option<String>> = given
        .iter()
        .map(|(name, _)| crate::text::fold_lookup(name.trim(), NAME_MAX))
        .collect();
    for ((name, input), key) in given.iter().zip(&given_keys) {
        let Some(field) = key.as_deref().and_then(|k| by_key.get(k).copied()) else {
            errors.add_nested(KEY, name, "There is no custom field of this name.");
            continue;
        };
        match custom_field::check(field, input) {
            Ok(Some(value)) => match profile.custom.iter_mut().find(|(id, _)| *id == field.id) {
                Some(slot) => slot.1 = value,
                None => {
                    profile.custom.push((field.id, value));
                    profile.custom.sort_by_key(|(id, _)| *id);
                }
            },
            Ok(None) => profile.custom.retain(|(id, _)| *id != field.id),
            Err(m) => errors.add_nested(KEY, &field.name, m),
        }
    }
    let mentioned: std::collections::HashSet<&str> =
        given_keys.iter().flatten().map(String::as_str).collect();
    for (field, key) in fields.iter().zip(&keys).filter(|(f, _)| f.required) {
        let missing = !profile.custom.iter().any(|(id, _)| *id == field.id);
        if missing && (every_required || mentioned.contains(key.as_str())) {
            errors.add_nested(KEY, &field.name, REQUIRED);
        }
    }
}

/// Checks a username, adding the problem to `errors`.
pub fn check_username(
    value: Option<&str>,
    creating: bool,
    errors: &mut FieldErrors,
) -> Option<String> {
    match value {
        Some(v) => match rules::username(v) {
            Ok(v) => Some(v),
            Err(m) => {
                errors.add("username", m);
                None
            }
        },
        None => {
            if creating {
                errors.add("username", REQUIRED);
            }
            None
        }
    }
}

/// Checks a password against the policy, adding the problems to `errors`.
pub fn check_password(
    value: &str,
    username: &str,
    policy: &PasswordPolicy,
    errors: &mut FieldErrors,
) {
    if let Err(problems) = rules::password(value, username, policy) {
        for p in problems {
            errors.add("password", p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::custom_field::FieldKind;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2023, 1, 12).unwrap()
    }

    fn fields() -> Vec<CustomField> {
        let f = |id, name: &str, kind, required| CustomField {
            id,
            uuid: 0,
            name: name.into(),
            kind,
            choices: vec![],
            required,
            created: 0,
            modified: 0,
        };
        vec![
            f(1, "Graduation University", FieldKind::Text, false),
            f(2, "Graduation Year", FieldKind::Number, false),
            f(3, "Roll Number", FieldKind::Text, true),
        ]
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let fields = fields();
        let input = ProfileInput {
            email: Some("not-an-email".into()),
            phone: Some("123".into()),
            birth_date: Some("31/02/2016".into()),
            zip: Some("012345".into()),
            state: Some("IN-XX".into()),
            gender_code: Some("other".into()),
            first_name: Some("x".repeat(151)),
            custom_fields: vec![("Nope".into(), CustomInput::Text("x".into()))],
            ..Default::default()
        };
        let mut errors = FieldErrors::new();
        apply_profile(
            &mut Profile::default(),
            &input,
            Context {
                today: today(),
                fields: &fields,
            },
            true,
            &mut errors,
        );
        for field in [
            "email",
            "phone",
            "birth_date",
            "zip",
            "state",
            "gender_code",
            "first_name",
            "custom_fields",
        ] {
            assert!(errors.has(field), "{field} should have an error");
        }
        let custom = errors.messages("custom_fields");
        assert!(custom.iter().any(|m| m.starts_with("Nope:")), "{custom:?}");
        assert!(
            custom
                .iter()
                .any(|m| m.starts_with("Roll Number:") && m.contains("required")),
            "{custom:?}"
        );
    }

    #[test]
    fn custom_names_match_ignoring_case_and_take_the_defined_spelling() {
        let fields = fields();
        let input = ProfileInput {
            custom_fields: vec![
                (
                    "  graduation YEAR ".into(),
                    CustomInput::Number("2020".into()),
                ),
                ("roll number".into(), CustomInput::Text("R-1".into())),
            ],
            ..Default::default()
        };
        let mut profile = Profile::default();
        let mut errors = FieldErrors::new();
        apply_profile(
            &mut profile,
            &input,
            Context {
                today: today(),
                fields: &fields,
            },
            true,
            &mut errors,
        );
        assert!(errors.is_empty(), "{errors:?}");
        let user = User {
            profile,
            ..User::blank(1, "u")
        };
        let view = UserView::new(user, &fields);
        assert_eq!(
            view.custom_fields[0],
            (
                "Graduation Year".to_string(),
                CustomValue::Number("2020".into())
            )
        );
    }

    #[test]
    fn null_clears_the_named_value_and_keeps_the_others() {
        let fields = fields();
        let mut profile = Profile {
            custom: vec![
                (1, CustomValue::Text("IIT".into())),
                (2, CustomValue::Number("2020".into())),
                (3, CustomValue::Text("R-1".into())),
            ],
            ..Default::default()
        };
        let input = ProfileInput {
            custom_fields: vec![("Graduation Year".into(), CustomInput::Null)],
            ..Default::default()
        };
        let mut errors = FieldErrors::new();
        let context = Context {
            today: today(),
            fields: &fields,
        };
        apply_profile(&mut profile, &input, context, false, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            profile.custom,
            [
                (1, CustomValue::Text("IIT".into())),
                (3, CustomValue::Text("R-1".into())),
            ]
        );
    }

    #[test]
    fn blank_clears_and_states_are_stored_as_current_codes() {
        let mut profile = Profile {
            city: "Chennai".into(),
            ..Default::default()
        };
        let input = ProfileInput {
            city: Some("".into()),
            state: Some("in-or".into()),
            ..Default::default()
        };
        let mut errors = FieldErrors::new();
        apply_profile(
            &mut profile,
            &input,
            Context {
                today: today(),
                fields: &[],
            },
            false,
            &mut errors,
        );
        assert!(errors.is_empty());
        assert_eq!(profile.city, "");
        assert_eq!(profile.state, "IN-OD");
    }

    #[test]
    fn display_name_falls_back_to_full_name_then_username() {
        let mut user = User::blank(1, "goodboy");
        assert_eq!(user.display_name(), "goodboy");
        user.profile.first_name = "John".into();
        assert_eq!(user.display_name(), "John");
        user.profile.last_name = "Appleseed".into();
        assert_eq!(user.display_name(), "John Appleseed");
        user.profile.display_name = "JA".into();
        assert_eq!(user.display_name(), "JA");
    }

    #[test]
    fn genders() {
        assert_eq!(Gender::parse("MALE"), Some(Gender::Male));
        assert_eq!(
            Gender::parse("trans").map(Gender::label),
            Some("Transgender")
        );
        assert_eq!(Gender::parse("other"), None);
    }
}
