//! The Sunbird user lifecycle (SPEC 6, seed 004) on the shared user record:
//! create (S1-S3), read (S6), update (S5), exists/get (S7), block and
//! unblock (S8), organisations and their list (S13). Every failure is a
//! [`crate::domain::sunbird::fault`] carrying the reference's
//! message number; permissions are checked before the target is looked up,
//! so a refused caller learns nothing about it.

mod lifecycle;
mod orgs;
mod search;

pub use lifecycle::ManagedEntry;
pub use orgs::{ORG_SEARCH_KEYS, OrgSearch, OrgSearchResult};
pub use search::{
    DEFAULT_LIMIT, MAX_FILTER_VALUES, MAX_ID_FILTER_VALUES, MAX_OR_GROUPS, MAX_RANGE_BOUND,
    NEEDLE_GROWTH, SearchResult,
};

use super::{Admin, Caller};
use crate::auth::password;
use crate::auth::permissions::{Action, Model, Permission};
use crate::domain::rules::{self, fold};
use crate::domain::sunbird::{
    CreateRoute, ExternalId, OrgView, Organisation, ReadParts, SunbirdInput, SunbirdUser,
    SunbirdView, fault, mask_email, mask_phone, role_id, username_stem,
};
use crate::domain::user::{self, Context, Gender, Profile, ProfileInput, User};
use crate::domain::{Micros, iso_date, parse_uuid, uuid_string};
use crate::error::{Error, ErrorCode, FieldErrors, Result};
use crate::store::tables::{
    EXTERNAL_IDS, Kind, MANAGED_USERS, META, ORG_BY_CHANNEL, USER_BY_EMAIL, USER_BY_PHONE,
    USER_BY_USERNAME, UUIDS,
};
use crate::store::{Snapshot, Txn, read, write};
use chrono::{Datelike, NaiveDate};

use crate::store::write::DEFAULT_ORG;
/// The channel of the default root organisation.
pub const DEFAULT_CHANNEL: &str = crate::domain::sunbird::DEFAULT_CHANNEL;
/// Characters of a generated user name's suffix.
const SUFFIX: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
/// Attempts at a free generated user name before giving up.
pub(super) const NAME_TRIES: usize = 64;

/// What `exists`/`get` look a user up by (S7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub enum IdType {
    /// `email`.
    Email,
    /// `phone`.
    Phone,
    /// `userName`.
    UserName,
    /// `loginId`: a user name, email or phone.
    LoginId,
}

impl IdType {
    /// The idType of a path (`email`, `phone`, `userName`, `loginId`; any
    /// case), or `None`.
    pub fn parse(text: &str) -> Option<IdType> {
        match text.to_ascii_lowercase().as_str() {
            "email" => Some(IdType::Email),
            "phone" => Some(IdType::Phone),
            "username" => Some(IdType::UserName),
            "loginid" => Some(IdType::LoginId),
            _ => None,
        }
    }
}

/// An organisation to create (S13).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct OrgInput {
    /// `orgName`, required.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub name: Option<String>,
    /// `organisationType`, required.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub org_type: Option<String>,
    /// `channel`: required and unique for a tenant.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub channel: Option<String>,
    /// `isTenant`, required.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub is_tenant: Option<bool>,
    /// `email`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub email: Option<String>,
    /// `externalId`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub external_id: Option<String>,
}

/// A user found by `exists` (S7 v2): its id and name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Found {
    /// `userId`.
    pub user_id: String,
    /// First and last name.
    pub name: String,
}

/// What every Sunbird answer of one store generation shares, read once
/// and kept with the custom field definitions ([`Snapshot::derived`]): the
/// merged-away users, the latest terms, the organisations shown.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Users merged away, ascending (search leaves them out).
    pub(crate) deleted: Vec<u64>,
    /// The latest terms and conditions, if set.
    terms: Option<crate::domain::sunbird::Terms>,
    /// Organisations read so far.
    orgs: std::sync::Mutex<std::collections::HashMap<u64, Option<OrgView>>>,
}

/// What the views of one answer share: [`Shared`], and users' ids.
#[derive(Default)]
struct Views {
    shared: Option<std::sync::Arc<Shared>>,
    uuids: std::collections::HashMap<u64, Option<String>>,
    /// Side records an index check already read, by user id.
    sides: std::collections::HashMap<u64, crate::domain::sunbird::SunbirdUser>,
}

impl Views {
    /// The generation's [`Shared`] values.
    fn shared(&mut self, admin: &Admin, s: &Snapshot<'_>) -> Result<std::sync::Arc<Shared>> {
        if let Some(shared) = &self.shared {
            return Ok(shared.clone());
        }
        let shared = s.derived("sunbird", || {
            Ok(Shared {
                deleted: crate::store::terms::users_with(
                    s,
                    crate::store::terms::Term::Deleted,
                    "1",
                )?,
                terms: admin.terms(s, crate::domain::sunbird::TERMS_AND_CONDITIONS)?,
                orgs: Default::default(),
            })
        })?;
        self.shared = Some(shared.clone());
        Ok(shared)
    }

    fn organisation(
        &mut self,
        admin: &Admin,
        s: &Snapshot<'_>,
        id: u64,
    ) -> Result<Option<OrgView>> {
        let shared = self.shared(admin, s)?;
        if let Ok(orgs) = shared.orgs.lock()
            && let Some(org) = orgs.get(&id)
        {
            return Ok(org.clone());
        }
        let org = read::organisation(s, id)?.as_ref().map(OrgView::from);
        if let Ok(mut orgs) = shared.orgs.lock() {
            orgs.insert(id, org.clone());
        }
        Ok(org)
    }

    fn uuid_of(&mut self, s: &Snapshot<'_>, id: Option<u64>) -> Result<Option<String>> {
        let Some(id) = id else {
            return Ok(None);
        };
        if let Some(uuid) = self.uuids.get(&id) {
            return Ok(uuid.clone());
        }
        let uuid = read::user_uuid(s, id)?.map(uuid_string);
        self.uuids.insert(id, uuid.clone());
        Ok(uuid)
    }
}

/// A user and its side record, as one transaction read them.
struct Pair {
    user: User,
    side: SunbirdUser,
}

impl Admin {
    /// The caller's own user id, or `None` for the operator; a signed-in
    /// caller's session must be live.
    fn caller_id(&self, s: &Snapshot<'_>) -> Result<Option<u64>> {
        match self.caller {
            Caller::Operator => Ok(None),
            Caller::User(_) => Ok(Some(self.live_user(s)?.id)),
        }
    }

    /// Creates a user through a Sunbird path (S1-S3): its `userId`.
    pub fn sunbird_create(&self, input: SunbirdInput, route: CreateRoute) -> Result<String> {
        // Who may: checked before anything about the input is looked at.
        let add_user = Permission::new(Action::Add, Model::User);
        let needs: &[Permission] = match route {
            CreateRoute::Signup if self.config().sunbird.self_signup => &[],
            CreateRoute::Managed => {
                // The manager itself, or an administrator; decided below
                // once `managedBy` is read, with the same answer for a
                // manager that does not exist.
                self.store().reading(|s| self.caller_id(s).map(|_| ()))?;
                &[]
            }
            _ => &[add_user],
        };
        let granted = self.allow_all(needs)?;
        // A self-signup chooses no organisation and claims no external id
        // (nor does a manager's create of its own managed user, below).
        if route == CreateRoute::Signup && self.config().sunbird.self_signup {
            no_sso_fields(&input)?;
        }
        let managed = route == CreateRoute::Managed;
        let first = input.first_name.as_deref().map(str::trim).unwrap_or("");
        if first.is_empty() {
            return Err(fault::missing("firstName"));
        }
        let email = input.email.as_deref().map(str::trim).unwrap_or("");
        let phone = input.phone.as_deref().map(str::trim).unwrap_or("");
        if managed {
            if !email.is_empty() || !phone.is_empty() {
                return Err(fault::only_one_contact());
            }
            if input.password.is_some() {
                return Err(fault::not_allowed("password"));
            }
            if input
                .managed_by
                .as_deref()
                .is_none_or(|m| m.trim().is_empty())
            {
                return Err(fault::missing("managedBy"));
            }
        } else if email.is_empty() && phone.is_empty() {
            return Err(fault::not_valid("email or phone"));
        }
        let user_name = match input.user_name.as_deref() {
            None => None,
            Some(n) => Some(check_user_name(n)?),
        };
        let hash = match input.password.as_deref() {
            None => String::new(),
            Some(p) => {
                self.password_ok(p, user_name.as_deref().unwrap_or(""))?;
                let turn = self.institute.hashing_turn()?;
                password::hash(p, self.config().argon2, &turn)?
            }
        };
        let now = self.now_micros();
        let today = self.today();
        // What the write checks and needs, read at once where reads cost
        // a round trip each: the sign-in keys, the id counters, the feed,
        // the default organisation, and the new user's rows (its searchable
        // texts).
        let hint = crate::domain::user::NewUser {
            username: user_name.clone(),
            profile: crate::domain::user::ProfileInput {
                email: input.email.clone(),
                phone: input.phone.clone(),
                first_name: input.first_name.clone(),
                last_name: input.last_name.clone(),
                ..Default::default()
            },
            ..Default::default()
        };
        granted.write(|txn| {
            let default_org = crate::store::Reads::default().of(META, DEFAULT_ORG);
            super::users::will_import_with(txn, std::iter::once(&hint), default_org)?;
            let caller = self.caller_id(txn)?;
            let mut side = SunbirdUser {
                origin: match route {
                    CreateRoute::Sso => crate::domain::sunbird::Origin::Sso,
                    _ => crate::domain::sunbird::Origin::Sunbird,
                },
                created_by: caller,
                ..SunbirdUser::default()
            };
            if managed {
                let manager = self.manager_for(txn, input.managed_by.as_deref().unwrap_or(""))?;
                if !self.may(txn, add_user)? {
                    no_sso_fields(&input)?;
                }
                // Merged-away users are read (to be left out) only when the
                // index alone reaches the limit.
                let limit = self.config().sunbird.managed_limit as usize;
                let managed = read::related(txn, MANAGED_USERS, manager.id)?;
                if managed.len() >= limit && counted(txn, &managed)? >= limit {
                    return Err(fault::managed_limit());
                }
                side.managed_by = Some(manager.id);
            }
            let mut profile = Profile::default();
            apply_shared(&mut profile, &input, today, true)?;
            let name = match &user_name {
                Some(n) => n.clone(),
                None => generated_name(txn, &profile)?,
            };
            check_taken(txn, None, Some(&name), &profile)?;
            apply_side(&mut side, &input, None)?;
            side.email_verified =
                input.email_verified.unwrap_or(false) && !profile.email.is_empty();
            side.phone_verified =
                input.phone_verified.unwrap_or(false) && !profile.phone.is_empty();
            let root = match input.channel.as_deref().map(str::trim) {
                Some(c) if !c.is_empty() => {
                    let unknown = || fault::invalid_value(c, "channel");
                    let id = org_by_channel(txn, c)?.ok_or_else(unknown)?;
                    read::organisation(txn, id)?.ok_or_else(unknown)?.root_org
                }
                _ if route == CreateRoute::Sso => return Err(fault::missing("channel")),
                _ => match side.managed_by {
                    // A managed user lives in its manager's organisation.
                    Some(m) => match read::sunbird(txn, m)?.and_then(|s| s.root_org) {
                        Some(root) => root,
                        None => self.default_org(txn, now)?,
                    },
                    None => self.default_org(txn, now)?,
                },
            };
            side.root_org = Some(root);
            side.organisations = vec![root];
            if let Some(ext) = input.org_external_id.as_deref().map(str::trim)
                && !ext.is_empty()
            {
                let org = read::org_by_external_id(txn, root, ext)?
                    .ok_or_else(|| fault::invalid_value(ext, "orgExternalId"))?;
                if !side.organisations.contains(&org) {
                    side.organisations.push(org);
                    side.organisations.sort_unstable();
                }
            }
            check_external_ids(txn, None, &side.external_ids)?;
            let id = write::next_id(txn, Kind::User)?;
            let user = User {
                uuid: txn.new_uuid()?,
                password_hash: hash.clone(),
                profile,
                created: now,
                modified: now,
                password_changed: now,
                ..User::blank(id, &name)
            };
            write::put_new_users(txn, std::slice::from_ref(&user))?;
            write::put_sunbird(txn, id, None, Some(&side))?;
            Ok(uuid_string(user.uuid))
        })
    }

    /// The user `managed_by` names as a manager for this caller: it exists,
    /// is not merged away, is not managed itself and has a first name; and
    /// the caller is it, or holds `add_user`. A caller who may not create
    /// for that user gets the same answer whether or not it exists.
    fn manager_for(&self, txn: &Txn<'_>, managed_by: &str) -> Result<User> {
        let admin = self.may(txn, Permission::new(Action::Add, Model::User))?;
        let found = self.user_by_uuid(txn, managed_by.trim())?;
        let me = self.caller_id(txn)?;
        let Some(Pair { user, side }) = found else {
            return Err(match admin {
                true => fault::not_found("user"),
                false => super::auth::forbidden(),
            });
        };
        if !admin && me != Some(user.id) {
            return Err(super::auth::forbidden());
        }
        if side.deleted || side.managed_by.is_some() || user.profile.first_name.is_empty() {
            return Err(fault::not_found("user"));
        }
        Ok(user)
    }

    /// [`Admin::user_by_uuid`] in a write that changes the user: what it
    /// reads first is hinted ([`write::will_change_user_by_uuid`]).
    fn user_to_change(&self, txn: &Txn<'_>, id: &str) -> Result<Option<Pair>> {
        if let Some(uuid) = parse_uuid(id) {
            write::will_change_user_by_uuid(txn, uuid)?;
        }
        self.user_by_uuid(txn, id)
    }

    /// The user with `userId` `id` and its side record, if any.
    fn user_by_uuid(&self, s: &Snapshot<'_>, id: &str) -> Result<Option<Pair>> {
        let Some(uuid) = parse_uuid(id) else {
            return Ok(None);
        };
        let Some((kind, id)) = s.get(UUIDS, &uuid)? else {
            return Ok(None);
        };
        if kind != Kind::User as u8 {
            return Ok(None);
        }
        let Some(user) = read::user(s, id)? else {
            return Ok(None);
        };
        let side = read::sunbird(s, id)?.unwrap_or_default();
        Ok(Some(Pair { user, side }))
    }

    /// The institute's default root organisation, created on first use.
    fn default_org(&self, txn: &Txn<'_>, now: Micros) -> Result<u64> {
        if let Some(id) = txn.get(META, DEFAULT_ORG)? {
            return Ok(id);
        }
        if org_by_channel(txn, DEFAULT_CHANNEL)?.is_some() {
            return Err(Error::new(
                ErrorCode::Conflict,
                format!(
                    "an organisation holds the channel {DEFAULT_CHANNEL:?}, which roster keeps for the institute's default organisation"
                ),
            ));
        }
        let id = write::next_id(txn, Kind::Organisation)?;
        let org = Organisation {
            id,
            uuid: crate::random::uuid()?,
            name: "Default organisation".into(),
            org_type: "institute".into(),
            channel: DEFAULT_CHANNEL.into(),
            is_tenant: true,
            is_default: true,
            root_org: id,
            email: String::new(),
            external_id: String::new(),
            created: now,
            modified: now,
        };
        write::put_organisation(txn, None, &org)?;
        txn.put(META, DEFAULT_ORG, &id)?;
        Ok(id)
    }

    /// The caller may see `pair`: it is the caller, the caller manages it,
    /// or the caller holds `permission`. A caller who may not gets
    /// `forbidden` whether or not the user exists (`pair` is `None`).
    fn may_see(&self, s: &Snapshot<'_>, pair: Option<&Pair>, permission: Permission) -> Result<()> {
        if self.may(s, permission)? {
            return Ok(());
        }
        let me = self.caller_id(s)?;
        match pair {
            Some(p) if me == Some(p.user.id) || (me.is_some() && p.side.managed_by == me) => Ok(()),
            _ => Err(super::auth::forbidden()),
        }
    }

    /// Reads user `user_id` as Sunbird shows it (S6): the caller, its
    /// manager, or a holder of `view_user`. A blocked or merged-away user
    /// is "User account has been blocked .".
    pub fn sunbird_read(&self, user_id: &str, parts: ReadParts) -> Result<SunbirdView> {
        let view = Permission::new(Action::View, Model::User);
        self.store().reading(|s| {
            let pair = self.user_by_uuid(s, user_id)?;
            self.may_see(s, pair.as_ref(), view)?;
            let pair = pair.ok_or_else(|| fault::not_found("user"))?;
            if pair.user.is_blocked || pair.side.deleted {
                return Err(fault::blocked());
            }
            self.sunbird_view(s, pair, parts)
        })
    }

    /// The user a `loginId` names (S9): by user name, email or phone.
    pub fn sunbird_read_login(&self, login_id: &str, parts: ReadParts) -> Result<SunbirdView> {
        let view = Permission::new(Action::View, Model::User);
        self.store().reading(|s| {
            let pair = self.find(s, IdType::LoginId, login_id)?;
            self.may_see(s, pair.as_ref(), view)?;
            let pair = pair.ok_or_else(|| fault::not_found("user"))?;
            if pair.user.is_blocked || pair.side.deleted {
                return Err(fault::blocked());
            }
            self.sunbird_view(s, pair, parts)
        })
    }

    /// The user `id` names as `id_type`, matching real values ignoring case.
    fn find(&self, s: &Snapshot<'_>, id_type: IdType, id: &str) -> Result<Option<Pair>> {
        let key = id.trim();
        // The record is read once and its own key checked against the
        // entry's.
        let by = |def, key: &str| -> Result<Option<User>> {
            if key.is_empty() {
                return Ok(None);
            }
            read::lookup_user(s, def, key)
        };
        let phone = rules::phone(key).unwrap_or_default();
        // Too long to be any username or email: no one's (empty finds none).
        let name = crate::text::fold_lookup(key, rules::EMAIL_MAX).unwrap_or_default();
        let user = match id_type {
            IdType::Email => by(USER_BY_EMAIL, &name)?,
            IdType::Phone => by(USER_BY_PHONE, &phone)?,
            IdType::UserName => by(USER_BY_USERNAME, &name)?,
            IdType::LoginId => match by(USER_BY_USERNAME, &name)? {
                Some(user) => Some(user),
                None => match by(USER_BY_EMAIL, &name)? {
                    Some(user) => Some(user),
                    None => by(USER_BY_PHONE, &phone)?,
                },
            },
        };
        let Some(user) = user else {
            return Ok(None);
        };
        let side = read::sunbird(s, user.id)?.unwrap_or_default();
        if side.deleted {
            return Ok(None);
        }
        Ok(Some(Pair { user, side }))
    }

    /// Whether a user has `id` as its `id_type` (S7): any signed-in caller.
    pub fn sunbird_exists(&self, id_type: IdType, id: &str) -> Result<Option<Found>> {
        self.store().reading(|s| {
            self.caller_id(s)?;
            Ok(self.find(s, id_type, id)?.map(|p| Found {
                user_id: uuid_string(p.user.uuid),
                name: format!("{} {}", p.user.profile.first_name, p.user.profile.last_name)
                    .trim()
                    .to_string(),
            }))
        })
    }

    /// The user with `id` as its `id_type` (S7 get), contact data masked:
    /// any signed-in caller.
    pub fn sunbird_get(&self, id_type: IdType, id: &str) -> Result<SunbirdView> {
        self.store().reading(|s| {
            self.caller_id(s)?;
            let pair = self
                .find(s, id_type, id)?
                .ok_or_else(|| fault::not_found("user"))?;
            self.sunbird_view(s, pair, ReadParts::default())
        })
    }

    /// `pair` as Sunbird shows it, with the parts asked for.
    fn sunbird_view(&self, s: &Snapshot<'_>, pair: Pair, parts: ReadParts) -> Result<SunbirdView> {
        self.sunbird_view_with(s, pair, parts, &mut Views::default())
    }

    /// [`Admin::sunbird_view`] with what several views share read once.
    fn sunbird_view_with(
        &self,
        s: &Snapshot<'_>,
        pair: Pair,
        parts: ReadParts,
        views: &mut Views,
    ) -> Result<SunbirdView> {
        let Pair { user, mut side } = pair;
        let root_org = match side.root_org {
            Some(id) => views.organisation(self, s, id)?,
            None => None,
        };
        let mut organisations = Vec::new();
        for id in &side.organisations {
            if let Some(org) = views.organisation(self, s, *id)? {
                organisations.push(org);
            }
        }
        let managed_by = views.uuid_of(s, side.managed_by)?;
        let created_by = views.uuid_of(s, side.created_by)?;
        side.recovery_email = mask_email(&side.recovery_email);
        side.recovery_phone = mask_phone(&side.recovery_phone);
        side.prev_used_email = mask_email(&side.prev_used_email);
        side.prev_used_phone = mask_phone(&side.prev_used_phone);
        let p = &user.profile;
        // Computed only when asked for (`fields=completeness,missingFields`).
        let (completeness, missing) = match parts.completeness || parts.missing_fields {
            true => {
                let (c, m) = completeness(&user, &side, &self.config().sunbird.completeness);
                (Some(c), Some(m))
            }
            false => (None, None),
        };
        let terms = views.shared(self, s)?.terms.clone();
        let prompt_tnc = lifecycle::prompts(terms.as_ref(), &side);
        // The record's own strings move into the view.
        let email = mask_email(&p.email);
        let phone = mask_phone(&p.phone);
        let dob = p.birth_date.map(iso_date);
        let gender = p.gender.map(|g| g.code().to_string());
        let status = u8::from(!user.is_blocked && !side.deleted);
        let p = user.profile;
        Ok(SunbirdView {
            user_id: uuid_string(user.uuid),
            user_name: user.username,
            first_name: p.first_name,
            last_name: p.last_name,
            email,
            phone,
            dob,
            gender,
            avatar: p.photo,
            status,
            created: user.created,
            modified: user.modified,
            last_login: user.last_login,
            managed_by,
            created_by,
            root_org,
            organisations,
            tnc_latest: terms,
            prompt_tnc,
            completeness: completeness.filter(|_| parts.completeness),
            missing_fields: missing.filter(|_| parts.missing_fields),
            side,
            parts,
        })
    }

    /// Updates user `user_id` through a Sunbird path (S5): the user itself,
    /// its manager, or a holder of `change_user` (who must also be able to
    /// control the user, SPEC A7, to change its email or phone).
    pub fn sunbird_update(&self, user_id: &str, patch: SunbirdInput) -> Result<()> {
        let change = Permission::new(Action::Change, Model::User);
        // Fields an update never takes (the reference's validator).
        if patch.managed_by.is_some() {
            return Err(fault::managed_by_fixed());
        }
        for (name, given) in [
            ("userName", patch.user_name.is_some()),
            ("channel", patch.channel.is_some()),
            ("orgExternalId", patch.org_external_id.is_some()),
        ] {
            if given {
                return Err(fault::not_allowed(name));
            }
        }
        let today = self.today();
        let now = self.now_micros();
        // Hashed before the write (argon2 must not hold the writer), once
        // the rules that need no username pass; the write checks them all.
        let hash = match patch.password.as_deref() {
            None => None,
            Some(p) => {
                self.password_ok(p, "")?;
                let turn = self.institute.hashing_turn()?;
                Some(password::hash(p, self.config().argon2, &turn)?)
            }
        };
        self.write(|txn| {
            let pair = self.user_to_change(txn, user_id.trim())?;
            self.may_see(txn, pair.as_ref(), change)?;
            if user_id.trim().is_empty() {
                return Err(fault::missing("userId"));
            }
            // External ids are an administrator's, as in a create (see
            // [`no_sso_fields`]): a user setting its own could claim
            // another's unique id and keep its holder's SSO create out, or
            // drop the ids its tenant gave it. The user itself and its
            // manager may change everything else.
            if patch.external_ids.is_some() && !self.may(txn, change)? {
                return Err(fault::not_allowed("externalIds"));
            }
            let Pair {
                user: old,
                side: old_side,
            } = pair.ok_or_else(|| fault::not_found("user"))?;
            // SPEC A7 on every Sunbird write to another user, before the
            // request is judged against the target: whether an email is
            // taken is not a weaker caller's to learn.
            let me = self.caller_id(txn)?;
            if me != Some(old.id) {
                self.may_control(txn, &old)?;
            }
            if old_side.deleted {
                return Err(fault::inactive());
            }
            for (name, value) in [("email", &patch.email), ("phone", &patch.phone)] {
                if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                    return Err(fault::invalid_value("", name));
                }
            }
            if patch
                .first_name
                .as_deref()
                .is_some_and(|v| v.trim().is_empty())
            {
                return Err(fault::missing("firstName"));
            }
            let mut user = old.clone();
            let mut side = old_side.clone();
            apply_shared(&mut user.profile, &patch, today, false)?;
            check_taken(txn, Some(&old), None, &user.profile)?;
            apply_side(&mut side, &patch, Some(&old_side))?;
            check_external_ids(txn, Some(old.id), &side.external_ids)?;
            contacts_changed(&old, &user, &mut side);
            if let Some(v) = patch.email_verified {
                side.email_verified = v && !user.profile.email.is_empty();
            }
            if let Some(v) = patch.phone_verified {
                side.phone_verified = v && !user.profile.phone.is_empty();
            }
            let was_managed = side.managed_by.is_some();
            stands_alone(&user, &mut side);
            if let Some(p) = patch.password.as_deref() {
                self.may_set_password(txn, me == Some(old.id), &side)?;
                self.password_ok(p, &old.username)?;
            }
            if let Some(hash) = &hash {
                user.password_hash = hash.clone();
                user.password_changed = now;
                user.credential_generation = old.credential_generation.wrapping_add(1);
            }
            if user != old || side != old_side {
                user.modified = now;
            }
            write::put_user(txn, Some(&old), &user)?;
            write::put_sunbird(txn, old.id, Some(&old_side), Some(&side))?;
            // A new password (never the caller's own, refused above) or a
            // manager gone ends every session of the user.
            if hash.is_some() || (was_managed && side.managed_by.is_none()) {
                write::end_sessions(txn, old.id, None)?;
            }
            Ok(())
        })
    }

    /// Fails unless the institute's policy takes password `p` for a user
    /// named `username`.
    fn password_ok(&self, p: &str, username: &str) -> Result<()> {
        let mut errors = FieldErrors::new();
        user::check_password(p, username, &self.config().password_policy, &mut errors);
        match errors.is_empty() {
            true => Ok(()),
            false => Err(fault::weak_password(&errors.messages("password").join(" "))),
        }
    }

    /// Fails unless this update may set a password (S1: a user created
    /// without one cannot sign in until it is set): an administrator's
    /// (`change_user`, SPEC A7 already checked) or the operator's, for a
    /// user that is not managed once the update is applied (S3: a managed
    /// user has none). A user changing its own password gives the old one
    /// (`/me/password`, D4), which counts wrong guesses (A2); a manager
    /// holds no credential of its managed users.
    fn may_set_password(&self, txn: &Txn<'_>, own: bool, side: &SunbirdUser) -> Result<()> {
        let change = Permission::new(Action::Change, Model::User);
        if own || side.managed_by.is_some() || !self.may(txn, change)? {
            return Err(fault::not_allowed("password"));
        }
        Ok(())
    }

    /// Blocks user `user_id` (S8): its sessions end and it cannot sign in.
    pub fn sunbird_block(&self, user_id: &str) -> Result<()> {
        self.set_blocked(user_id, true)
    }

    /// Unblocks user `user_id` (S8).
    pub fn sunbird_unblock(&self, user_id: &str) -> Result<()> {
        self.set_blocked(user_id, false)
    }

    fn set_blocked(&self, user_id: &str, blocked: bool) -> Result<()> {
        let granted = self.allow(Permission::new(Action::Change, Model::User))?;
        if user_id.trim().is_empty() {
            return Err(fault::missing("userId"));
        }
        let now = self.now_micros();
        granted.write(|txn| {
            let Pair { user: old, side } = self
                .user_by_uuid(txn, user_id.trim())?
                .ok_or_else(fault::no_such_user)?;
            self.may_control(txn, &old)?;
            if side.deleted {
                return Err(fault::blocked());
            }
            if old.is_blocked == blocked {
                return Err(fault::already(if blocked { "inactive" } else { "active" }));
            }
            let mut user = old.clone();
            user.is_blocked = blocked;
            user.modified = now;
            if blocked {
                user.credential_generation = old.credential_generation.wrapping_add(1);
            }
            write::put_user(txn, Some(&old), &user)?;
            if blocked {
                write::end_sessions(txn, old.id, None)?;
            }
            Ok(())
        })
    }

    /// Creates an organisation (S13): its id. Needs `add_organisation`.
    pub fn create_organisation(&self, input: OrgInput) -> Result<u64> {
        let granted = self.allow(Permission::new(Action::Add, Model::Organisation))?;
        let text = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or("").to_string();
        let name = text(&input.name);
        if name.is_empty() {
            return Err(fault::missing("orgName"));
        }
        let name = rules::text(&name, rules::NAME_MAX).map_err(|_| fault::invalid("orgName"))?;
        let org_type = text(&input.org_type);
        if org_type.is_empty() {
            return Err(fault::missing("organisationType"));
        }
        let org_type = rules::text(&org_type, rules::NAME_MAX)
            .map_err(|_| fault::invalid("organisationType"))?;
        let Some(is_tenant) = input.is_tenant else {
            return Err(fault::missing("isTenant"));
        };
        let channel = text(&input.channel).to_lowercase();
        match (is_tenant, channel.is_empty()) {
            (true, true) => return Err(fault::dependent("channel", "isTenant")),
            (false, true) => return Err(fault::missing("channel")),
            _ => {}
        }
        if channel.chars().any(char::is_control) || channel.chars().count() > rules::NAME_MAX {
            return Err(fault::invalid("channel"));
        }
        // The default organisation's channel is kept for it, made on first
        // use: a tenant holding it would make every create without a
        // channel fail.
        if is_tenant && crate::text::fold(&channel) == DEFAULT_CHANNEL {
            return Err(fault::in_use(&channel, "channel"));
        }
        let email = text(&input.email);
        let email = match email.is_empty() {
            true => email,
            false => rules::email(&email).map_err(|_| fault::invalid("email"))?,
        };
        let external_id = text(&input.external_id).to_lowercase();
        if !crate::domain::sunbird::org_external_id_ok(&external_id) {
            return Err(fault::invalid("externalId"));
        }
        let now = self.now_micros();
        granted.write(|txn| {
            let id = write::next_id(txn, Kind::Organisation)?;
            let root_org = match is_tenant {
                true => {
                    if org_by_channel(txn, &channel)?.is_some() {
                        return Err(fault::in_use(&channel, "channel"));
                    }
                    id
                }
                // A sub-organisation names its tenant by channel.
                false => {
                    org_by_channel(txn, &channel)?.ok_or_else(|| fault::not_valid("channel"))?
                }
            };
            // An external id names one organisation of its tenant (an SSO
            // create joins the organisation its `orgExternalId` names).
            if !external_id.is_empty()
                && read::org_by_external_id(txn, root_org, &external_id)?.is_some()
            {
                return Err(fault::in_use(&external_id, "externalId"));
            }
            let org = Organisation {
                id,
                uuid: crate::random::uuid()?,
                name: name.clone(),
                org_type: org_type.clone(),
                channel: if is_tenant {
                    channel.clone()
                } else {
                    String::new()
                },
                is_tenant,
                is_default: false,
                root_org,
                email: email.clone(),
                external_id: external_id.clone(),
                created: now,
                modified: now,
            };
            write::put_organisation(txn, None, &org)?;
            Ok(id)
        })
    }

    /// Organisation `id` (S13). Needs `view_organisation`.
    pub fn organisation(&self, id: u64) -> Result<OrgView> {
        self.allow(Permission::new(Action::View, Model::Organisation))?;
        self.store()
            .reading(|s| read::organisation(s, id))?
            .as_ref()
            .map(OrgView::from)
            .ok_or_else(|| fault::not_found("organisation"))
    }
}

/// The problems of the stored side record of user `id` (a restore's
/// check): its input fields must be what the rules make of them, its roles
/// in the catalogue with a scope, its declarations few; and every field the
/// other paths write by the rule of that path
/// ([`crate::domain::sunbird::stored_side_problems`], which the integrity
/// check applies too).
pub(crate) fn side_problems(id: u64, side: &SunbirdUser) -> Vec<String> {
    let mut problems = crate::domain::sunbird::stored_side_problems(id, side);
    let text = |t: &str| Some(t.to_string());
    let input = SunbirdInput {
        language: Some(side.language.clone()),
        grade: Some(side.grade.clone()),
        subject: Some(side.subject.clone()),
        profile_summary: text(&side.profile_summary),
        framework: text(&side.framework),
        address: text(&side.address),
        education: text(&side.education),
        job_profile: text(&side.job_profile),
        recovery_email: text(&side.recovery_email),
        recovery_phone: text(&side.recovery_phone),
        locations: Some(side.locations.clone()),
        user_types: Some(side.user_types.clone()),
        external_ids: Some(side.external_ids.clone()),
        ..SunbirdInput::default()
    };
    let mut copy = side.clone();
    match apply_side(&mut copy, &input, None) {
        Err(e) => problems.push(e.message().to_string()),
        Ok(()) if copy != *side => problems.push("not in the form roster stores (edited?)".into()),
        Ok(()) => {}
    }
    for g in &side.roles {
        if role_id(&g.role) != Some(g.role.as_str())
            || g.role == crate::domain::sunbird::PUBLIC_ROLE
        {
            problems.push(format!(
                "role {:?} is not in the catalogue",
                crate::text::clip(&g.role)
            ));
        }
        let mut scope = g.scope.clone();
        scope.sort_unstable();
        scope.dedup();
        if g.scope.is_empty() || scope != g.scope {
            problems.push(format!(
                "role {}: its scope is not in the form roster stores",
                g.role
            ));
        }
    }
    let mut orgs = side.organisations.clone();
    orgs.sort_unstable();
    orgs.dedup();
    if orgs != side.organisations {
        problems.push("organisations: not in the form roster stores".into());
    }
    problems
}

/// A Sunbird `userName`: trimmed, lower-cased, 1-150 characters, no
/// control characters (spaces allowed, unlike a Testpress username).
pub fn check_user_name(value: &str) -> Result<String> {
    // Measured before NFKC, which makes some text 11 times longer.
    if !crate::text::may_fold_to(value.trim(), rules::USERNAME_MAX) {
        return Err(fault::invalid("userName"));
    }
    // Trimmed again after NFKC, which turns a spacing accent (`´`) into a
    // space and its combining form: a stored name has no space at either
    // end, so that it reads back as itself.
    let name = crate::text::try_nfkc(value.trim())
        .map_err(|_| fault::invalid("userName"))?
        .trim()
        .to_lowercase();
    let n = name.chars().count();
    if n == 0 {
        return Err(fault::missing("userName"));
    }
    if n > rules::USERNAME_MAX || name.chars().any(char::is_control) {
        return Err(fault::invalid("userName"));
    }
    Ok(name)
}

/// Applies the shared fields of `input` to `profile` with the shared rules,
/// each refusal as the Sunbird fault of its parameter. `creating`: the
/// first name is required.
fn apply_shared(
    profile: &mut Profile,
    input: &SunbirdInput,
    today: NaiveDate,
    creating: bool,
) -> Result<()> {
    let gender = match input.gender.as_deref().map(str::trim) {
        Some(g) if g.eq_ignore_ascii_case("transgender") => Some(Gender::Trans.code().into()),
        other => other.map(str::to_string),
    };
    let shared = ProfileInput {
        // A blank email or phone is none (an update refused one before).
        email: input.email.as_deref().map(|e| e.trim().to_lowercase()),
        phone: input.phone.clone(),
        first_name: input.first_name.clone(),
        last_name: input.last_name.clone(),
        photo: input.avatar.clone(),
        gender_code: gender,
        ..ProfileInput::default()
    };
    let mut errors = FieldErrors::new();
    // Custom fields are not a Sunbird notion: required ones are required
    // on the Testpress paths only.
    let ctx = Context { today, fields: &[] };
    user::apply_profile(profile, &shared, ctx, false, &mut errors);
    fn sunbird_name(field: &str) -> &str {
        match field {
            "first_name" => "firstName",
            "last_name" => "lastName",
            "photo" => "avatar",
            "gender_code" => "gender",
            other => other,
        }
    }
    if let Some((field, _)) = errors.iter().next() {
        return Err(fault::invalid(sunbird_name(field)));
    }
    if creating && profile.first_name.is_empty() {
        return Err(fault::missing("firstName"));
    }
    if let Some(dob) = input.dob.as_deref() {
        profile.birth_date = match dob.trim() {
            "" => None,
            text => Some(parse_dob(text, today).ok_or_else(|| fault::invalid("dob"))?),
        };
    }
    Ok(())
}

/// A `dob` from 1900 on: `YYYY-MM-DD` not after today, or a year alone
/// not after this one (stored as its last day).
fn parse_dob(text: &str, today: NaiveDate) -> Option<NaiveDate> {
    let (date, latest) = if text.len() == 4 && text.bytes().all(|b| b.is_ascii_digit()) {
        let date = NaiveDate::from_ymd_opt(text.parse().ok()?, 12, 31)?;
        (date, NaiveDate::from_ymd_opt(today.year(), 12, 31)?)
    } else {
        (rules::parse_ymd(text)?, today)
    };
    (date.year() >= 1900 && date <= latest).then_some(date)
}

/// Applies the Sunbird-only fields of `input` to `side`, checked.
/// `old`: the stored record on an update.
fn apply_side(
    side: &mut SunbirdUser,
    input: &SunbirdInput,
    old: Option<&SunbirdUser>,
) -> Result<()> {
    let _ = old;
    // Every list is refused as soon as it passes LIST_MAX entries, and
    // duplicates are found by hashing: a hostile body costs time in
    // proportion to its length, not to its square.
    let list = |name: &str, v: &Option<Vec<String>>, target: &mut Vec<String>| -> Result<()> {
        if let Some(items) = v {
            let mut out = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for item in items {
                let item = item.trim();
                if item.chars().any(char::is_control) || item.chars().count() > rules::NAME_MAX {
                    return Err(fault::invalid(name));
                }
                if !item.is_empty() && seen.insert(item) {
                    out.push(item.to_string());
                    if out.len() > LIST_MAX {
                        return Err(fault::invalid(name));
                    }
                }
            }
            *target = out;
        }
        Ok(())
    };
    let bounded = |name: &str, len: usize| match len > LIST_MAX {
        true => Err(fault::invalid(name)),
        false => Ok(()),
    };
    list("language", &input.language, &mut side.language)?;
    list("grade", &input.grade, &mut side.grade)?;
    list("subject", &input.subject, &mut side.subject)?;
    if let Some(summary) = &input.profile_summary {
        side.profile_summary = rules::multiline_text(summary.trim(), rules::TEXT_MAX)
            .map_err(|_| fault::invalid("profileSummary"))?;
    }
    let json = |name: &str, v: &Option<String>, object: bool, target: &mut String| -> Result<()> {
        if let Some(text) = v {
            *target = crate::domain::sunbird::json_text(text, object)
                .ok_or_else(|| fault::invalid(name))?;
        }
        Ok(())
    };
    json("framework", &input.framework, true, &mut side.framework)?;
    json("address", &input.address, false, &mut side.address)?;
    json("education", &input.education, false, &mut side.education)?;
    json(
        "jobProfile",
        &input.job_profile,
        false,
        &mut side.job_profile,
    )?;
    if let Some(e) = &input.recovery_email {
        side.recovery_email = match e.trim() {
            "" => String::new(),
            e => rules::email(e)
                .map_err(|_| fault::invalid("recoveryEmail"))?
                .to_lowercase(),
        };
    }
    if let Some(p) = &input.recovery_phone {
        side.recovery_phone = match p.trim() {
            "" => String::new(),
            p => rules::phone(p).map_err(|_| fault::invalid("recoveryPhone"))?,
        };
    }
    if let Some(locations) = &input.locations {
        bounded("profileLocation", locations.len())?;
        let mut out = Vec::new();
        for l in locations {
            let (code, kind) = (l.code.trim(), l.kind.trim().to_lowercase());
            if code.is_empty() || kind.is_empty() || code.len() > 100 || kind.len() > 100 {
                return Err(fault::invalid("profileLocation"));
            }
            out.push(crate::domain::sunbird::Location {
                code: code.to_string(),
                kind,
            });
        }
        side.locations = out;
    }
    if let Some(types) = &input.user_types {
        bounded("profileUserType", types.len())?;
        let mut out = Vec::new();
        for t in types {
            let (kind, sub) = (
                t.kind.trim().to_lowercase(),
                t.sub_kind.trim().to_lowercase(),
            );
            if kind.is_empty() || kind.len() > 100 || sub.len() > 100 {
                return Err(fault::invalid("profileUserType"));
            }
            out.push(crate::domain::sunbird::UserType {
                kind,
                sub_kind: sub,
            });
        }
        side.user_types = out;
    }
    if let Some(ids) = &input.external_ids {
        // One id per (provider, idType): a later one replaces, so the cap
        // counts pairs, as they are met.
        let mut out: std::collections::BTreeMap<(String, String), ExternalId> = Default::default();
        for e in ids {
            let e = ExternalId {
                provider: e.provider.trim().to_lowercase(),
                id_type: e.id_type.trim().to_lowercase(),
                id: e.id.trim().to_lowercase(),
            };
            let parts = [&e.provider, &e.id_type, &e.id];
            if parts
                .iter()
                .any(|p| p.is_empty() || !crate::domain::sunbird::external_id_part_ok(p))
            {
                return Err(fault::invalid("externalIds"));
            }
            out.insert((e.provider.clone(), e.id_type.clone()), e);
            bounded("externalIds", out.len())?;
        }
        // In (provider, idType) order, one each: sorted.
        side.external_ids = out.into_values().collect();
    }
    Ok(())
}

/// S3 on every surface: a managed user that now has an email or phone
/// (`user`, as an update leaves it) stands on its own; `side` loses its
/// manager. Whoever applies it ends the user's sessions (the tokens its
/// manager was given) when it did.
fn stands_alone(user: &User, side: &mut SunbirdUser) {
    if user.has_contact() {
        side.managed_by = None;
    }
}

/// S5: an email or phone that `user` changed from `old`'s loses its
/// verified flag (nobody verified the new one), and the old value becomes
/// the previous one. (A Sunbird update then sets the flags it is sent.)
fn contacts_changed(old: &User, user: &User, side: &mut SunbirdUser) {
    if fold(&user.profile.email) != fold(&old.profile.email) {
        side.prev_used_email = old.profile.email.clone();
        side.email_verified = false;
    }
    if user.profile.phone != old.profile.phone {
        side.prev_used_phone = old.profile.phone.clone();
        side.phone_verified = false;
    }
}

/// User `old` updated to `user` through a Testpress or Django path (an
/// admin's update or `/me/`): a changed email or phone is unverified and
/// the old one kept as the previous (S5, as a Sunbird update does); where
/// it was managed and now has an email or phone, it stands on its own
/// (S3) and the sessions its manager was given end.
pub(crate) fn after_update(txn: &Txn<'_>, old: &User, user: &User) -> Result<()> {
    let Some(stored) = read::sunbird(txn, user.id)? else {
        return Ok(());
    };
    let mut side = stored.clone();
    contacts_changed(old, user, &mut side);
    stands_alone(user, &mut side);
    if side == stored {
        return Ok(());
    }
    write::put_sunbird(txn, user.id, Some(&stored), Some(&side))?;
    if side.managed_by != stored.managed_by {
        write::end_sessions(txn, user.id, None)?;
    }
    Ok(())
}

/// The tenant whose channel is `channel`, in any case or Unicode form: the
/// channel index is keyed by the folded channel (a channel too long to be
/// any tenant's is no one's, found without folding).
pub(super) fn org_by_channel(s: &Snapshot<'_>, channel: &str) -> Result<Option<u64>> {
    match crate::text::fold_lookup(channel.trim(), rules::NAME_MAX) {
        Some(key) => read::lookup(s, ORG_BY_CHANNEL, &key),
        None => Ok(None),
    }
}

/// Refuses `channel`, `orgExternalId` and `externalIds` in a create whose
/// caller needs no permission (a self-signup; a manager creating its own
/// managed user): those are SSO create's fields, an administrator's. An
/// external id is unique, so one claimed so would keep its real holder's
/// SSO create out, and a managed user lives in its manager's organisation.
fn no_sso_fields(input: &SunbirdInput) -> Result<()> {
    let given = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.trim().is_empty());
    for (name, sent) in [
        ("channel", given(&input.channel)),
        ("orgExternalId", given(&input.org_external_id)),
        (
            "externalIds",
            input.external_ids.as_ref().is_some_and(|e| !e.is_empty()),
        ),
    ] {
        if sent {
            return Err(fault::not_allowed(name));
        }
    }
    Ok(())
}

/// How many of `managed` (the managed-users index's entries of one
/// manager) count toward its limit: those not merged away
/// ([`crate::domain::sunbird::counted_manager`]; an entry's side record is
/// read to know).
pub(super) fn counted(s: &Snapshot<'_>, managed: &[u64]) -> Result<usize> {
    let mut n = 0;
    for id in managed {
        let side = read::sunbird(s, *id)?;
        if side
            .as_ref()
            .and_then(crate::domain::sunbird::counted_manager)
            .is_some()
        {
            n += 1;
        }
    }
    Ok(n)
}

/// The most entries a user's Sunbird list may hold (`language`, `grade`,
/// `subject`, `profileLocation`, `profileUserType`, `externalIds`).
const LIST_MAX: usize = 100;

/// Fails with the Sunbird fault when `name`, the email or the phone of
/// `profile` is another user's (not `me`'s, the stored record of the user
/// being changed), the shared namespace of user names and emails included.
fn check_taken(
    txn: &Txn<'_>,
    me: Option<&User>,
    name: Option<&str>,
    profile: &Profile,
) -> Result<()> {
    // A user name that reads as a phone number is written as the number:
    // taken when the number is someone's (a `loginId` reads it as that
    // number), else malformed, not taken.
    if let Some(number) = name.and_then(|n| super::users::phone_form(&fold(n))) {
        let mine = me.map(|u| u.id);
        for def in [USER_BY_PHONE, USER_BY_USERNAME] {
            if read::lookup(txn, def, &number)?.is_some_and(|other| Some(other) != mine) {
                return Err(fault::exists("userName"));
            }
        }
        return Err(fault::invalid_value(
            &format!(
                "{} (a phone number is written as {number})",
                name.unwrap_or("")
            ),
            "userName",
        ));
    }
    let mut errors = FieldErrors::new();
    super::users::check_unique(txn, me, name, profile, &Default::default(), &mut errors)?;
    // The reference's order: userName, phone, email.
    for (field, param) in [
        ("username", "userName"),
        ("phone", "phone"),
        ("email", "email"),
    ] {
        if errors.has(field) {
            return Err(fault::exists(param));
        }
    }
    Ok(())
}

/// Fails when one of `ids` is held by a user other than `me`.
fn check_external_ids(txn: &Txn<'_>, me: Option<u64>, ids: &[ExternalId]) -> Result<()> {
    for e in ids {
        if read::lookup(txn, EXTERNAL_IDS, &e.key())?.is_some_and(|other| Some(other) != me) {
            return Err(fault::exists(&format!(
                "externalId (id: {}, idType: {}, provider: {})",
                e.id, e.id_type, e.provider
            )));
        }
    }
    Ok(())
}

/// A generated user name (S1): the stem of the names, `_`, four random
/// lower-case letters or digits, retried until free.
fn generated_name(txn: &Txn<'_>, profile: &Profile) -> Result<String> {
    let mut stem = username_stem(&profile.first_name, &profile.last_name);
    if stem.is_empty() {
        stem = "user".into();
    }
    // Room for the suffix within the length limit.
    stem.truncate(rules::USERNAME_MAX - 5);
    for _ in 0..NAME_TRIES {
        let name = format!("{stem}_{}", random_suffix(4)?);
        let key = fold(&name);
        if read::lookup(txn, USER_BY_USERNAME, &key)?.is_none()
            && read::lookup(txn, USER_BY_EMAIL, &key)?.is_none()
        {
            return Ok(name);
        }
    }
    Err(Error::new(
        ErrorCode::Conflict,
        "no free user name could be generated from these names; give a userName",
    ))
}

/// `n` random lower-case letters or digits.
pub(super) fn random_suffix(n: usize) -> Result<String> {
    let mut out = String::with_capacity(n);
    for _ in 0..n {
        let i = crate::random::below(SUFFIX.len() as u32)? as usize;
        out.push(SUFFIX[i] as char);
    }
    Ok(out)
}

/// Profile completeness in percent (the ceiling of the filled attributes'
/// share of the whole weight, [`crate::CompletenessWeights`]) and the empty
/// attributes that weigh something.
fn completeness(
    user: &User,
    side: &SunbirdUser,
    weights: &crate::CompletenessWeights,
) -> (u32, Vec<String>) {
    let p = &user.profile;
    let json_filled = |t: &str| !t.is_empty() && t != "[]" && t != "{}";
    // In the order of `weights.named()`.
    let filled = [
        !p.first_name.trim().is_empty(),
        !p.last_name.trim().is_empty(),
        p.birth_date.is_some(),
        !p.photo.trim().is_empty(),
        p.gender.is_some(),
        !side.grade.is_empty(),
        !side.language.is_empty(),
        !side.locations.is_empty(),
        !side.profile_summary.trim().is_empty(),
        !side.subject.is_empty(),
        !user.username.trim().is_empty(),
        json_filled(&side.address),
        json_filled(&side.education),
        json_filled(&side.job_profile),
    ];
    let named = weights.named();
    let total: u64 = named.iter().map(|(_, w)| u64::from(*w)).sum();
    let have: u64 = named
        .iter()
        .zip(filled)
        .filter(|(_, f)| *f)
        .map(|((_, w), _)| u64::from(*w))
        .sum();
    let percent = match total {
        0 => 100,
        total => u32::try_from((have * 100).div_ceil(total)).unwrap_or(100),
    };
    let missing = named
        .iter()
        .zip(filled)
        .filter(|((_, w), f)| !f && *w > 0)
        .map(|((name, _), _)| name.to_string())
        .collect();
    (percent, missing)
}
