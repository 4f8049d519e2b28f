//! The Sunbird answers' `result` shapes (seed 004): a user as read,
//! searched, got or listed as managed, an organisation, and the small
//! results of the writes. One user type serves every flavour; the keys a
//! flavour leaves out are absent (not null), as the seed's examples show.
//!
//! Keys the seed shows that roster has no data for (`webPages`, `tcStatus`,
//! `thumbnail`, `registryId`, ...) are present with the null or empty value
//! the seed's own examples give them, so a client reading them finds them.

use crate::domain::Micros;
use crate::domain::sunbird::{
    OrgView, PUBLIC_ROLE, ROLES, RoleGrant, SunbirdView, TERMS_AND_CONDITIONS,
};
use serde::Serialize;
use serde_json::Value;

/// Which answer a user is shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// Read v1-v3, get, profile read: every key, roles as strings.
    Full,
    /// Read v4: the deprecated keys left out, roles as strings.
    V4,
    /// Read v5: as v4, roles as scope objects.
    V5,
    /// Search v1: as `Full` without the terms keys and `rootOrg`.
    SearchV1,
    /// Search v2: as v4.
    SearchV2,
    /// Search v3: as v4, roles as scope objects.
    SearchV3,
    /// The managed-user list.
    Managed,
}

impl Flavour {
    fn lean(self) -> bool {
        matches!(
            self,
            Flavour::V4 | Flavour::V5 | Flavour::SearchV2 | Flavour::SearchV3
        )
    }

    fn full(self) -> bool {
        matches!(self, Flavour::Full | Flavour::SearchV1)
    }

    fn scoped_roles(self) -> bool {
        matches!(self, Flavour::V5 | Flavour::SearchV3)
    }
}

/// `{userId, response: "SUCCESS", errors: []}` (create).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct UserCreated {
    /// The new user's id.
    pub user_id: String,
    /// `SUCCESS`.
    pub response: &'static str,
    /// Always empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<String>>,
}

/// `{response: "SUCCESS"}`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Success {
    /// `SUCCESS`.
    pub response: &'static str,
}

/// The success of a write.
pub const SUCCESS: Success = Success {
    response: "SUCCESS",
};

/// `{response: <T>}`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(rename = "Wrapped_{T}"))]
pub struct Wrapped<T> {
    /// The answer.
    pub response: T,
}

/// `{count, content}`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(rename = "Listing_{T}"))]
pub struct Listing<T> {
    /// Every match.
    pub count: u64,
    /// This page of them.
    pub content: Vec<T>,
}

/// `{exists}` (v1) or `{exists, id, name}` (v2, when found).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Exists {
    /// Whether a user has it.
    pub exists: bool,
    /// The user's id (v2, found).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The user's name (v2, found).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `{organisationId, response: "SUCCESS"}`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct OrgCreated {
    /// The new organisation's id.
    pub organisation_id: u64,
    /// `SUCCESS`.
    pub response: &'static str,
}

/// An instant as Sunbird writes it, in UTC (`2020-11-23 07:02:36:155+0000`).
pub fn ts(micros: Micros) -> String {
    crate::domain::sunbird::timestamp(micros)
}

/// An organisation as `rootOrg`, and as `/api/org/v1/read` answers.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Org {
    /// Its id.
    pub id: u64,
    /// The same (Sunbird's hash tag id).
    pub hash_tag_id: u64,
    /// Its UUID (roster's; for matching across stores).
    pub identifier: String,
    /// `orgName`.
    pub org_name: String,
    /// The same (Sunbird's description).
    pub description: String,
    /// `organisationType`.
    pub organisation_type: String,
    /// Its channel; null for a sub-organisation.
    pub channel: Option<String>,
    /// The same as `channel` (Sunbird's slug).
    pub slug: Option<String>,
    /// Whether it is a tenant.
    pub is_tenant: bool,
    /// The same (`isRootOrg` of older readers).
    pub is_root_org: bool,
    /// Whether it is the institute's default organisation.
    pub is_default: bool,
    /// Its tenant.
    pub root_org_id: u64,
    /// Contact email.
    pub email: Option<String>,
    /// `externalId`.
    pub external_id: Option<String>,
    /// 1: active.
    pub status: u8,
    /// When created.
    pub created_date: String,
    /// Last change.
    pub updated_date: Option<String>,
}

impl Org {
    /// The representation of `o`.
    pub fn new(o: &OrgView) -> Org {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        Org {
            id: o.id,
            hash_tag_id: o.id,
            identifier: o.uuid.clone(),
            org_name: o.name.clone(),
            description: o.name.clone(),
            organisation_type: o.org_type.clone(),
            channel: some(&o.channel),
            slug: some(&o.channel),
            is_tenant: o.is_tenant,
            is_root_org: o.is_tenant,
            is_default: o.is_default,
            root_org_id: o.root_org,
            email: some(&o.email),
            external_id: some(&o.external_id),
            status: 1,
            created_date: ts(o.created),
            updated_date: (o.modified != o.created).then(|| ts(o.modified)),
        }
    }
}

/// A user's membership of an organisation, as `organisations` lists it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Membership {
    /// The organisation.
    pub organisation_id: u64,
    /// The same.
    pub hash_tag_id: u64,
    /// The organisation's name.
    pub org_name: String,
    /// Its channel, if a tenant.
    pub channel: Option<String>,
    /// The user.
    pub user_id: String,
    /// The roles the user holds there (v1-v3; absent in v4 and later).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// Never (merged-away users are not shown).
    pub is_deleted: bool,
    /// When the user joined (created or was added).
    #[serde(rename = "orgjoindate")]
    pub org_join_date: String,
}

/// A role as v5 and search v3 show it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ScopedRole {
    /// The role id.
    pub role: String,
    /// The user.
    pub user_id: String,
    /// The organisations it applies in.
    pub scope: Vec<Scope>,
    /// When granted.
    pub created_date: String,
    /// Last change of its scope.
    pub updated_date: Option<String>,
}

/// One organisation of a role's scope.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Scope {
    /// The organisation.
    pub organisation_id: u64,
}

/// Roles: ids (v1-v4) or scope objects (v5).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum Roles {
    /// `["PUBLIC", ...]`.
    Ids(Vec<String>),
    /// `[{role, scope, ...}]`.
    Scoped(Vec<ScopedRole>),
}

/// A catalogue role as `roleList` shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CatalogueRole {
    /// Its name.
    pub name: &'static str,
    /// Its id.
    pub id: &'static str,
}

/// A location as `profileLocation` and `userLocations` show it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct LocationView {
    /// Its code.
    pub code: String,
    /// Its kind (`state`, `district`, ...).
    #[serde(rename = "type")]
    pub kind: String,
}

/// A user type.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct UserTypeView {
    /// `type`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `subType` (null for none).
    pub sub_type: Option<String>,
}

/// An external id.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ExternalIdView {
    /// The id.
    pub id: String,
    /// Its type.
    pub id_type: String,
    /// Who issued it.
    pub provider: String,
}

/// A declaration as reads show it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeclarationView {
    /// `SUBMITTED`, ...
    pub status: String,
    /// Why refused, if so.
    pub error_type: Option<String>,
    /// The organisation.
    pub org_id: String,
    /// The persona.
    pub persona: String,
    /// The declared values.
    #[cfg_attr(feature = "tsify", tsify(type = "Record<string, unknown>"))]
    pub info: Value,
}

/// A user as the Sunbird paths show it. `Option<Option<T>>` keys are
/// absent when the outer is `None` and null when the inner is.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[allow(clippy::option_option)]
pub struct UserRecord {
    /// The user's id.
    pub id: String,
    /// The same.
    pub identifier: String,
    /// The same (v4 and later).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// `userName`.
    pub user_name: String,
    /// `firstName`.
    pub first_name: String,
    /// The v3 spelling of `firstName` (not in the managed list).
    #[serde(rename = "firstname", skip_serializing_if = "Option::is_none")]
    pub firstname: Option<String>,
    /// `lastName` (not in the managed list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<Option<String>>,
    /// The v3 spelling of `lastName` (v1-v3).
    #[serde(rename = "lastname", skip_serializing_if = "Option::is_none")]
    pub lastname: Option<Option<String>>,
    /// Masked email, `""` for none (as the managed list shows it).
    pub email: Option<String>,
    /// Masked phone.
    pub phone: Option<String>,
    /// Masked email again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub masked_email: Option<Option<String>>,
    /// Masked phone again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub masked_phone: Option<Option<String>>,
    /// Whether the email is verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// Whether the phone is verified.
    pub phone_verified: bool,
    /// Sunbird's flags: 1 phone verified, 2 email verified, 4 state
    /// validated.
    pub flags_value: u8,
    /// Never (roster has no state validation).
    pub state_validated: bool,
    /// 1 active, 0 blocked.
    pub status: u8,
    /// Merged away.
    pub is_deleted: bool,
    /// `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dob: Option<Option<String>>,
    /// Gender (v1-v3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<Option<String>>,
    /// Image URL (v1-v3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar: Option<Option<String>>,
    /// When created.
    pub created_date: String,
    /// Last change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_date: Option<Option<String>>,
    /// Who created it.
    pub created_by: Option<String>,
    /// Who changed it last (not kept: null).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<Option<String>>,
    /// The manager.
    pub managed_by: Option<String>,
    /// The root organisation's channel.
    pub channel: Option<String>,
    /// The root organisation.
    pub root_org_id: Option<u64>,
    /// Its name (v1-v3, managed list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_org_name: Option<Option<String>>,
    /// The root organisation (not in search v1 or the managed list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_org: Option<Option<Org>>,
    /// Memberships.
    pub organisations: Vec<Membership>,
    /// Roles.
    pub roles: Roles,
    /// The role catalogue, when `fields` has `roles`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_list: Option<Vec<CatalogueRole>>,
    /// `framework`: a map of lists.
    #[cfg_attr(feature = "tsify", tsify(type = "Record<string, string[]>"))]
    pub framework: Value,
    /// `language` (v1-v3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<Vec<String>>,
    /// `grade` (v1-v3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grade: Option<Vec<String>>,
    /// `subject` (v1-v3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Vec<String>>,
    /// `profileSummary` (v1-v3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_summary: Option<Option<String>>,
    /// The first user type's type.
    pub user_type: Option<String>,
    /// The first user type's sub-type.
    pub user_sub_type: Option<String>,
    /// The first user type (v4 and later).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_user_type: Option<Option<UserTypeView>>,
    /// Every user type (v4 and later).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_user_types: Option<Vec<UserTypeView>>,
    /// The location codes (v1-v3, managed list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_ids: Option<Vec<String>>,
    /// The locations, when `fields` has `locations` (and always in v4 and
    /// later).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_locations: Option<Vec<LocationView>>,
    /// External ids (v4 and later, or when asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_ids: Option<Vec<ExternalIdView>>,
    /// Declarations, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declarations: Option<Vec<DeclarationView>>,
    /// Announcement topics, when `fields` has `topic`: always empty, as the
    /// reference answers (roster keeps no announcement topics).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topics: Option<Vec<String>>,
    /// Email before the last change, masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev_used_email: Option<Option<String>>,
    /// Phone before the last change, masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev_used_phone: Option<Option<String>>,
    /// Recovery email, masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_email: Option<Option<String>>,
    /// Recovery phone, masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_phone: Option<Option<String>>,
    /// The terms version accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tnc_accepted_version: Option<Option<String>>,
    /// When, in epoch milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tnc_accepted_on: Option<Option<i64>>,
    /// The other terms types accepted: type -> {version, tncAcceptedOn}.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "tsify", tsify(type = "Record<string, unknown>"))]
    pub all_tnc_accepted: Option<Value>,
    /// The latest terms version (not in search v1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tnc_latest_version: Option<Option<String>>,
    /// Its URL (not in search v1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tnc_latest_version_url: Option<Option<String>>,
    /// Whether the user must accept the latest terms (not in search v1).
    #[serde(rename = "promptTnC", skip_serializing_if = "Option::is_none")]
    pub prompt_tnc: Option<bool>,
    /// Last sign-in (v1-v3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_login_time: Option<Option<i64>>,
    /// Profile completeness in percent, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completeness: Option<u32>,
    /// The empty profile attributes, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_fields: Option<Vec<String>>,
    /// Keys the seed shows with no roster data, null or empty.
    #[serde(flatten)]
    #[cfg_attr(feature = "tsify", tsify(type = "Record<string, unknown>"))]
    pub unkept: serde_json::Map<String, Value>,
}

/// The keys of the seed's full read that roster keeps no data for, with
/// the values the seed shows; `lean`: v4 and later leave out the first
/// group.
fn unkept(flavour: Flavour) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    if flavour.full() {
        for key in [
            "thumbnail",
            "accesscode",
            "registryId",
            "currentLoginTime",
            "tempPassword",
            "location",
        ] {
            out.insert(key.into(), Value::Null);
        }
        out.insert("webPages".into(), Value::Array(Vec::new()));
    }
    if flavour != Flavour::Managed {
        for key in ["tcStatus", "tcUpdatedDate", "provider"] {
            out.insert(key.into(), Value::Null);
        }
    }
    out.insert("countryCode".into(), Value::Null);
    out
}

/// `value` when `yes`.
fn keep<T>(yes: bool, value: T) -> Option<T> {
    yes.then_some(value)
}

/// A JSON text kept by the side record as a value (`empty` when none).
fn json_value(text: &str, empty: Value) -> Value {
    serde_json::from_str(text).unwrap_or(empty)
}

/// Role ids of `grants`, `PUBLIC` first.
fn role_ids(grants: &[RoleGrant]) -> Vec<String> {
    let mut ids = vec![PUBLIC_ROLE.to_string()];
    ids.extend(
        grants
            .iter()
            .filter(|g| g.role != PUBLIC_ROLE)
            .map(|g| g.role.clone()),
    );
    ids
}

impl UserRecord {
    /// `v` as `flavour` shows it.
    pub fn new(v: &SunbirdView, flavour: Flavour) -> UserRecord {
        let full = flavour.full();
        let lean = flavour.lean();
        let managed = flavour == Flavour::Managed;
        let side = &v.side;
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let roles = if flavour.scoped_roles() {
            Roles::Scoped(
                side.roles
                    .iter()
                    .map(|g| ScopedRole {
                        role: g.role.clone(),
                        user_id: v.user_id.clone(),
                        scope: g
                            .scope
                            .iter()
                            .map(|o| Scope {
                                organisation_id: *o,
                            })
                            .collect(),
                        created_date: ts(g.created),
                        updated_date: (g.modified != g.created).then(|| ts(g.modified)),
                    })
                    .collect(),
            )
        } else {
            Roles::Ids(role_ids(&side.roles))
        };
        let organisations = v
            .organisations
            .iter()
            .map(|o| Membership {
                organisation_id: o.id,
                hash_tag_id: o.id,
                org_name: o.name.clone(),
                channel: opt(&o.channel),
                user_id: v.user_id.clone(),
                roles: (!lean).then(|| {
                    let mut ids = vec![PUBLIC_ROLE.to_string()];
                    ids.extend(
                        side.roles
                            .iter()
                            .filter(|g| g.scope.contains(&o.id))
                            .map(|g| g.role.clone()),
                    );
                    ids
                }),
                is_deleted: false,
                org_join_date: ts(v.created),
            })
            .collect();
        let types: Vec<UserTypeView> = side
            .user_types
            .iter()
            .map(|t| UserTypeView {
                kind: t.kind.clone(),
                sub_type: opt(&t.sub_kind),
            })
            .collect();
        let locations: Vec<LocationView> = side
            .locations
            .iter()
            .map(|l| LocationView {
                code: l.code.clone(),
                kind: l.kind.clone(),
            })
            .collect();
        let terms = side
            .accepted
            .iter()
            .find(|a| a.kind == TERMS_AND_CONDITIONS);
        let others: serde_json::Map<String, Value> = side
            .accepted
            .iter()
            .filter(|a| a.kind != TERMS_AND_CONDITIONS)
            .map(|a| {
                (
                    a.kind.clone(),
                    serde_json::json!({"version": a.version, "tncAcceptedOn": ts(a.on)}),
                )
            })
            .collect();
        let root = v.root_org.as_ref();
        let terms_keys = !managed && flavour != Flavour::SearchV1;
        UserRecord {
            id: v.user_id.clone(),
            identifier: v.user_id.clone(),
            user_id: lean.then(|| v.user_id.clone()),
            user_name: v.user_name.clone(),
            first_name: v.first_name.clone(),
            firstname: keep(!managed, v.first_name.clone()),
            last_name: keep(!managed, opt(&v.last_name)),
            lastname: full.then(|| opt(&v.last_name)),
            email: Some(v.email.clone()).filter(|e| managed || !e.is_empty()),
            phone: Some(v.phone.clone()).filter(|p| managed || !p.is_empty()),
            masked_email: keep(!managed, opt(&v.email)),
            masked_phone: keep(!managed, opt(&v.phone)),
            email_verified: Some(side.email_verified),
            phone_verified: side.phone_verified,
            flags_value: u8::from(side.phone_verified) | (u8::from(side.email_verified) << 1),
            state_validated: false,
            status: v.status,
            is_deleted: side.deleted,
            dob: keep(!managed, v.dob.clone()),
            gender: full.then(|| v.gender.clone()),
            avatar: full.then(|| opt(&v.avatar)),
            created_date: ts(v.created),
            updated_date: keep(!managed, (v.modified != v.created).then(|| ts(v.modified))),
            created_by: v.created_by.clone(),
            updated_by: keep(!managed, None),
            managed_by: v.managed_by.clone(),
            channel: root.and_then(|o| opt(&o.channel)),
            root_org_id: root.map(|o| o.id),
            root_org_name: keep(full || managed, root.map(|o| o.name.clone())),
            root_org: terms_keys.then(|| root.map(Org::new)),
            organisations,
            roles,
            role_list: v.parts.roles.then(|| {
                ROLES
                    .iter()
                    .map(|(id, name)| CatalogueRole { name, id })
                    .collect()
            }),
            framework: json_value(&side.framework, Value::Object(Default::default())),
            language: full.then(|| side.language.clone()),
            grade: full.then(|| side.grade.clone()),
            subject: full.then(|| side.subject.clone()),
            profile_summary: full.then(|| opt(&side.profile_summary)),
            user_type: types.first().map(|t| t.kind.clone()),
            user_sub_type: types.first().and_then(|t| t.sub_type.clone()),
            profile_user_type: lean.then(|| types.first().cloned()),
            profile_user_types: lean.then(|| types.clone()),
            location_ids: (full || managed)
                .then(|| side.locations.iter().map(|l| l.code.clone()).collect()),
            user_locations: (lean || v.parts.locations).then(|| locations.clone()),
            external_ids: (lean || v.parts.external_ids).then(|| {
                side.external_ids
                    .iter()
                    .map(|e| ExternalIdView {
                        id: e.id.clone(),
                        id_type: e.id_type.clone(),
                        provider: e.provider.clone(),
                    })
                    .collect()
            }),
            topics: v.parts.topic.then(Vec::new),
            declarations: v.parts.declarations.then(|| {
                side.declarations
                    .iter()
                    .map(|d| DeclarationView {
                        status: d.status.clone(),
                        error_type: opt(&d.error_type),
                        org_id: d.org_id.clone(),
                        persona: d.persona.clone(),
                        info: json_value(&d.info, Value::Object(Default::default())),
                    })
                    .collect()
            }),
            prev_used_email: keep(!managed, opt(&side.prev_used_email)),
            prev_used_phone: keep(!managed, opt(&side.prev_used_phone)),
            recovery_email: keep(!managed, opt(&side.recovery_email)),
            recovery_phone: keep(!managed, opt(&side.recovery_phone)),
            tnc_accepted_version: keep(!managed, terms.map(|t| t.version.clone())),
            tnc_accepted_on: keep(!managed, terms.map(|t| t.on.div_euclid(1000))),
            all_tnc_accepted: keep(!managed, Value::Object(others)),
            tnc_latest_version: terms_keys.then(|| v.tnc_latest.as_ref().map(|t| t.latest.clone())),
            tnc_latest_version_url: terms_keys
                .then(|| v.tnc_latest.as_ref().map(|t| t.url.clone())),
            prompt_tnc: terms_keys.then_some(v.prompt_tnc),
            last_login_time: full.then(|| v.last_login.map(|m| m.div_euclid(1000))),
            completeness: v.completeness,
            missing_fields: v.missing_fields.clone(),
            unkept: unkept(flavour),
        }
    }
}
