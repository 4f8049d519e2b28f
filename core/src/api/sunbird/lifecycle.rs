//! The Sunbird lifecycle beyond create, read and update: managed users'
//! list and tokens (S3), roles (S13), terms (S14) and the system settings
//! that hold them, declarations (S10), merge (S12) and migration (S11).

use super::{Pair, fault};
use crate::api::Admin;
use crate::api::auth::{Granted, forbidden, put_session, token_text};
use crate::auth::permissions::{Action, Model, Permission};
use crate::domain::sunbird::{
    Acceptance, Claim, DECLARATION_TEXT_MAX, Declaration, DeclarationChange, DeclarationOperation,
    MIGRATION_ATTEMPTS, Migrated, Origin, PUBLIC_ROLE, ReadParts, RoleChange, RoleGrant,
    RoleOperation, SunbirdUser, SunbirdView, TERMS_AND_CONDITIONS, Terms, is_terms_setting,
    role_id,
};
use crate::domain::user::User;
use crate::domain::{Micros, uuid_string};
use crate::error::{Error, ErrorCode, Result};
use crate::store::tables::{EXTERNAL_IDS, MANAGED_USERS, SETTINGS};
use crate::store::{Snapshot, Txn, read, write};

/// The longest system setting value.
const SETTING_MAX: usize = 10_000;

/// A managed user as the manager's list shows it, with its session token
/// when asked for (left out of `Debug` and `Display`, and so of the
/// bindings' `toString`, `str` and `description`).
#[derive(Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "uniffi", uniffi::export(Debug, Display))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct ManagedEntry {
    /// The user.
    pub view: SunbirdView,
    /// A session token acting as it (`withTokens`, the manager only).
    pub token: Option<String>,
}

crate::text::debug_without_secrets!(ManagedEntry { view, token secret });

impl Admin {
    /// The system setting `id`'s value, if set.
    pub(super) fn setting(&self, s: &Snapshot<'_>, id: &str) -> Result<Option<String>> {
        Ok(s.get(SETTINGS, id)?
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// The latest version of terms type `kind`, if set.
    pub(super) fn terms(&self, s: &Snapshot<'_>, kind: &str) -> Result<Option<Terms>> {
        Ok(self.setting(s, kind)?.as_deref().and_then(Terms::parse))
    }

    /// Sets system setting `id` (`field` names it again, as Sunbird's body
    /// does) to `value` (SPEC 7): superusers only. A terms setting
    /// (`tncConfig`, `...Tnc`) must hold `{"latestVersion": ...}`.
    pub fn set_system_setting(&self, id: &str, field: &str, value: &str) -> Result<()> {
        let superuser = |s: &Snapshot<'_>| match self.caller_is_superuser(s)? {
            true => Ok(()),
            false => Err(forbidden()),
        };
        self.store().reading(superuser)?;
        for (name, given) in [("id", id), ("field", field), ("value", value)] {
            if given.trim().is_empty() {
                return Err(fault::missing(name));
            }
        }
        let id = id.trim();
        if id.chars().count() > 100 || id.chars().any(char::is_control) {
            return Err(fault::invalid("id"));
        }
        if value.len() > SETTING_MAX {
            return Err(fault::invalid("value"));
        }
        if is_terms_setting(id) && Terms::parse(value).is_none() {
            return Err(fault::invalid_value(value, "value"));
        }
        self.write(|txn| {
            superuser(txn)?;
            write::put_setting(txn, id, value)
        })
    }

    /// The value of system setting `id`: any signed-in caller.
    pub fn system_setting(&self, id: &str) -> Result<Option<String>> {
        self.store().reading(|s| {
            self.caller_id(s)?;
            self.setting(s, id.trim())
        })
    }

    /// Accepts the latest terms (S14): `version` must be the latest of
    /// `kind` (default `tncConfig`), ignoring case; `user_id`, when given
    /// and not the caller's own, must be one of the caller's managed users.
    /// Accepting again is a no-op.
    pub fn accept_terms(
        &self,
        version: &str,
        user_id: Option<&str>,
        kind: Option<&str>,
    ) -> Result<()> {
        if version.trim().is_empty() {
            return Err(fault::missing("version"));
        }
        let kind = kind
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .unwrap_or(TERMS_AND_CONDITIONS)
            .to_string();
        let now = self.now_micros();
        self.write(|txn| {
            let me = self.caller_id(txn)?.ok_or_else(forbidden)?;
            let latest = self
                .terms(txn, &kind)?
                .filter(|t| t.latest.eq_ignore_ascii_case(version.trim()))
                .ok_or_else(|| fault::invalid_value(version, "version"))?;
            let target = match user_id.map(str::trim).filter(|u| !u.is_empty()) {
                None => me,
                // Someone else's id answers as an unknown one does: the
                // answer does not tell whether that user exists.
                Some(id) => match self.user_by_uuid(txn, id)? {
                    Some(p) if p.user.id == me || p.side.managed_by == Some(me) => p.user.id,
                    _ => return Err(fault::invalid_value(id, "userId")),
                },
            };
            let old = read::sunbird(txn, target)?;
            let mut side = old.clone().unwrap_or_default();
            if side.deleted {
                return Err(fault::blocked());
            }
            let accepted = Acceptance {
                kind: kind.clone(),
                version: latest.latest.clone(),
                on: now,
            };
            // Kept within the store's bound on a user's lists (any setting
            // with a `latestVersion` is a terms type).
            let full = side.accepted.len() >= crate::domain::sunbird::SIDE_LIST_MAX;
            match side.accepted.iter_mut().find(|a| a.kind == kind) {
                Some(a) if a.version.eq_ignore_ascii_case(&latest.latest) => return Ok(()),
                Some(a) => *a = accepted,
                None if full => return Err(fault::invalid("tncType")),
                None => side.accepted.push(accepted),
            }
            write::put_sunbird(txn, target, old.as_ref(), Some(&side))
        })
    }

    /// The users `manager_id` manages (S3), oldest first: the manager
    /// itself or a holder of `view_user`; tokens only for the manager.
    pub fn managed_users(&self, manager_id: &str, with_tokens: bool) -> Result<Vec<ManagedEntry>> {
        let view = Permission::new(Action::View, Model::User);
        let now = self.now();
        let lifetime = self.config().session_lifetime;
        self.write(|txn| {
            let pair = self.user_by_uuid(txn, manager_id.trim())?;
            let me = self.caller_id(txn)?;
            let is_manager = pair.as_ref().is_some_and(|p| Some(p.user.id) == me);
            if !is_manager && !self.may(txn, view)? {
                return Err(forbidden());
            }
            let manager = pair.ok_or_else(|| fault::not_found("user"))?;
            if with_tokens && !is_manager {
                return Err(forbidden());
            }
            let mut out = Vec::new();
            let mut views = super::Views::default();
            for id in read::related(txn, MANAGED_USERS, manager.user.id)? {
                let Some(user) = read::user(txn, id)? else {
                    continue;
                };
                let side = read::sunbird(txn, id)?.unwrap_or_default();
                if side.deleted {
                    continue;
                }
                let issue = with_tokens && self.may_act_as(txn, &user)?;
                let token = match issue {
                    true => {
                        let random = crate::random::bytes()?;
                        let ends = (now + lifetime).timestamp_micros();
                        put_session(txn, &user, random, now.timestamp_micros(), ends)?;
                        Some(token_text(&random))
                    }
                    false => None,
                };
                let pair = Pair { user, side };
                let view = self.sunbird_view_with(txn, pair, ReadParts::default(), &mut views)?;
                out.push(ManagedEntry { view, token });
            }
            Ok(out)
        })
    }

    /// A session token for managed user `user_id` (S6's `withTokens` on a
    /// read): issued only when the caller is the user's manager and the
    /// user may sign in; `None` for anyone else (the read itself answers
    /// as it would without `withTokens`).
    pub fn sunbird_managed_token(&self, user_id: &str) -> Result<Option<String>> {
        let now = self.now();
        let lifetime = self.config().session_lifetime;
        self.write(|txn| {
            let me = self.caller_id(txn)?;
            let Some(pair) = self.user_by_uuid(txn, user_id.trim())? else {
                return Ok(None);
            };
            let Pair { user, side } = pair;
            let mine = me.is_some() && side.managed_by == me;
            if !mine || side.deleted || !self.may_act_as(txn, &user)? {
                return Ok(None);
            }
            let random = crate::random::bytes()?;
            let ends = (now + lifetime).timestamp_micros();
            put_session(txn, &user, random, now.timestamp_micros(), ends)?;
            Ok(Some(token_text(&random)))
        })
    }

    /// Whether the caller (its manager) may be given a session of managed
    /// user `user`: the user may sign in, and holds no permission the
    /// caller lacks (SPEC A7: a session is more than a password reset).
    fn may_act_as(&self, txn: &Txn<'_>, user: &User) -> Result<bool> {
        if user.is_blocked || !user.is_active {
            return Ok(false);
        }
        self.controls(txn, user)
    }

    /// The caller as managed user `token`'s session acts (S3,
    /// `x-authenticated-for`): that session's handle, when its user is
    /// managed by the caller.
    pub fn acting_for(&self, token: &str) -> Result<Admin> {
        let managed = self.institute().session(token)?;
        self.store().reading(|s| {
            let me = self.caller_id(s)?;
            let them = managed.caller_id(s)?;
            let side = match them {
                Some(id) => read::sunbird(s, id)?.unwrap_or_default(),
                None => SunbirdUser::default(),
            };
            match me.is_some() && side.managed_by == me {
                true => Ok(()),
                false => Err(Error::new(ErrorCode::Unauthenticated, "Invalid token.")),
            }
        })?;
        Ok(managed)
    }

    /// Fails unless the caller may change Sunbird data of `pair`: holds
    /// `change_user` (and may control the user, SPEC A7), or is the user or
    /// its manager.
    fn may_change(&self, txn: &Txn<'_>, pair: Option<&Pair>) -> Result<()> {
        let change = Permission::new(Action::Change, Model::User);
        self.may_see(txn, pair, change)?;
        let me = self.caller_id(txn)?;
        if let Some(p) = pair
            && me != Some(p.user.id)
        {
            self.may_control(txn, &p.user)?;
        }
        Ok(())
    }

    /// Replaces `user_id`'s roles in organisation `org` by `roles` (S13
    /// v1; an empty list removes them). Needs `change_user`.
    pub fn assign_roles(&self, user_id: &str, org: Option<u64>, roles: &[String]) -> Result<()> {
        let granted = self.allow(Permission::new(Action::Change, Model::User))?;
        if user_id.trim().is_empty() {
            return Err(fault::missing("userId"));
        }
        let org = org.ok_or_else(|| fault::missing("organisationId"))?;
        let ids = role_ids(roles)?;
        let now = self.now_micros();
        self.roles_of(&granted, user_id, |txn, grants| {
            known_org(txn, org)?;
            for g in grants.iter_mut() {
                g.scope.retain(|o| *o != org);
            }
            for id in &ids {
                grant(grants, id, &[org], now);
            }
            Ok(())
        })
    }

    /// Applies v2 role changes (S13): add unites scopes, remove subtracts
    /// them, edit replaces them. Needs `change_user`.
    pub fn change_roles(&self, user_id: &str, changes: &[RoleChange]) -> Result<()> {
        let granted = self.allow(Permission::new(Action::Change, Model::User))?;
        if user_id.trim().is_empty() {
            return Err(fault::missing("userId"));
        }
        if changes.is_empty() {
            return Err(fault::empty("roles"));
        }
        let mut checked = Vec::with_capacity(changes.len());
        for c in changes {
            let id = match (role_id(&c.role), c.operation) {
                (Some(id), _) => id.to_string(),
                // A role no longer in the catalogue can still be removed.
                (None, RoleOperation::Remove) => c.role.trim().to_string(),
                (None, _) => return Err(fault::not_valid("role")),
            };
            if c.scope.is_empty() && c.operation != RoleOperation::Remove {
                return Err(fault::missing("scope"));
            }
            checked.push((id, c.operation, c.scope.clone()));
        }
        let now = self.now_micros();
        self.roles_of(&granted, user_id, |txn, grants| {
            for (id, op, scope) in &checked {
                for org in scope {
                    known_org(txn, *org)?;
                }
                match op {
                    RoleOperation::Add => grant(grants, id, scope, now),
                    // Subtracts the scope sent (S13): an empty one takes
                    // nothing away, as the reference's `removeAll` does.
                    RoleOperation::Remove if scope.is_empty() => {}
                    RoleOperation::Remove => {
                        for g in grants.iter_mut().filter(|g| &g.role == id) {
                            g.scope.retain(|o| !scope.contains(o));
                            g.modified = now;
                        }
                    }
                    RoleOperation::Edit => {
                        grants.retain(|g| &g.role != id);
                        grant(grants, id, scope, now);
                    }
                }
            }
            Ok(())
        })
    }

    /// Runs `change` on the role grants of `user_id` in one transaction,
    /// which checks `granted` again; roles left without scope go.
    fn roles_of(
        &self,
        granted: &Granted<'_>,
        user_id: &str,
        change: impl Fn(&Txn<'_>, &mut Vec<RoleGrant>) -> Result<()>,
    ) -> Result<()> {
        granted.write(|txn| {
            let pair = self.user_to_change(txn, user_id.trim())?;
            self.may_change(txn, pair.as_ref())?;
            let Pair { user, side: old } = pair.ok_or_else(|| fault::not_found("user"))?;
            if old.deleted {
                return Err(fault::inactive());
            }
            let mut side = old.clone();
            change(txn, &mut side.roles)?;
            side.roles.retain(|g| !g.scope.is_empty());
            if side
                .roles
                .iter()
                .any(|g| g.scope.len() > crate::domain::sunbird::ROLE_SCOPE_MAX)
            {
                return Err(fault::invalid("scope"));
            }
            side.roles.sort_by(|a, b| a.role.cmp(&b.role));
            let stored = read::sunbird(txn, user.id)?;
            write::put_sunbird(txn, user.id, stored.as_ref(), Some(&side))
        })
    }

    /// Applies declaration changes (S10), all or none: each to the user it
    /// names, by that user, its manager or a holder of `change_user`.
    pub fn update_declarations(&self, changes: &[DeclarationChange]) -> Result<()> {
        if changes.is_empty() {
            return Err(fault::missing("declarations"));
        }
        // Each change's info as roster stores it: compact JSON of an
        // object, or empty (restore holds stored declarations to this).
        let mut infos = Vec::with_capacity(changes.len());
        for c in changes {
            if c.user_id.trim().is_empty() {
                return Err(fault::missing("userId"));
            }
            if c.org_id.trim().is_empty() {
                return Err(fault::missing("orgId"));
            }
            if c.persona.trim().is_empty() {
                return Err(fault::missing("persona"));
            }
            // Names, kept as short lines: restore and the integrity check
            // hold stored declarations to the same caps.
            for (name, value) in [("orgId", &c.org_id), ("persona", &c.persona)] {
                if crate::domain::rules::text(value, DECLARATION_TEXT_MAX).is_err() {
                    return Err(fault::invalid(name));
                }
            }
            infos.push(
                crate::domain::sunbird::json_text(&c.info, true)
                    .ok_or_else(|| fault::invalid("info"))?,
            );
        }
        self.write(|txn| {
            let mut touched: Vec<(u64, Option<SunbirdUser>, SunbirdUser)> = Vec::new();
            // Each user named is read and judged once, however many changes
            // name it.
            let mut named: std::collections::HashMap<&str, usize> = Default::default();
            for (c, info) in changes.iter().zip(&infos) {
                let uuid = c.user_id.trim();
                let at = match named.get(uuid) {
                    Some(&at) => at,
                    None => {
                        let pair = self.user_by_uuid(txn, uuid)?;
                        self.may_change(txn, pair.as_ref())?;
                        let pair = pair.ok_or_else(|| fault::not_found("user"))?;
                        if pair.side.deleted {
                            return Err(fault::inactive());
                        }
                        let at = match touched.iter().position(|(id, _, _)| *id == pair.user.id) {
                            Some(at) => at,
                            None => {
                                let stored = read::sunbird(txn, pair.user.id)?;
                                touched.push((pair.user.id, stored, pair.side));
                                touched.len() - 1
                            }
                        };
                        named.insert(uuid, at);
                        at
                    }
                };
                let side = &mut touched[at].2;
                let (org, persona) = (c.org_id.trim(), c.persona.trim().to_lowercase());
                side.declarations
                    .retain(|d| !(d.org_id == org && d.persona == persona));
                if c.operation != DeclarationOperation::Remove {
                    side.declarations.push(Declaration {
                        org_id: org.to_string(),
                        persona,
                        info: info.clone(),
                        status: "SUBMITTED".into(),
                        error_type: String::new(),
                    });
                }
                if side.declarations.len() > crate::domain::sunbird::SIDE_LIST_MAX {
                    return Err(fault::invalid("declarations"));
                }
            }
            for (id, stored, side) in &touched {
                write::put_sunbird(txn, *id, stored.as_ref(), Some(side))?;
            }
            Ok(())
        })
    }

    /// Merges account `from` into `to` (S12): memberships move (the later
    /// expiry wins; none beats any), organisations, roles and declarations
    /// unite; `from` is deactivated, marked deleted, its sessions ended and
    /// its user name, email and phone freed. Needs `change_user` and
    /// `delete_user`, and control of both accounts (SPEC A7).
    pub fn merge_accounts(&self, from: &str, to: &str) -> Result<()> {
        let granted = self.allow_all(&[
            Permission::new(Action::Change, Model::User),
            Permission::new(Action::Delete, Model::User),
        ])?;
        if from.trim().is_empty() {
            return Err(fault::missing("fromAccountId"));
        }
        if to.trim().is_empty() {
            return Err(fault::missing("toAccountId"));
        }
        let now = self.now_micros();
        granted.write(|txn| {
            let source = self
                .user_by_uuid(txn, from.trim())?
                .ok_or_else(fault::no_such_user)?;
            let target = self
                .user_by_uuid(txn, to.trim())?
                .ok_or_else(fault::no_such_user)?;
            if source.user.id == target.user.id {
                return Err(fault::mismatch("fromAccountId, toAccountId"));
            }
            self.may_control(txn, &source.user)?;
            self.may_control(txn, &target.user)?;
            if source.side.deleted {
                return Err(fault::invalid_value(from, "fromAccountId"));
            }
            if target.side.deleted {
                return Err(fault::invalid_value(to, "toAccountId"));
            }
            absorb(txn, source, target, now, false)
        })
    }

    /// A claim of a shadow account (S11): the caller (who must be
    /// `user_id`) accepts or rejects the shadow of `channel` whose external
    /// id is `user_ext_id`.
    pub fn migrate(
        &self,
        user_id: &str,
        channel: &str,
        accept: bool,
        user_ext_id: &str,
    ) -> Result<Migrated> {
        for (name, value) in [
            ("userId", user_id),
            ("channel", channel),
            ("userExtId", user_ext_id),
        ] {
            if value.trim().is_empty() {
                return Err(fault::missing(name));
            }
        }
        let now = self.now_micros();
        let channel = channel.trim().to_lowercase();
        let ext = user_ext_id.trim().to_lowercase();
        // `None`: this attempt closed the claim. Its failure is committed,
        // so the refusal is made after the write, not by failing it.
        let migrated = self.write(|txn| {
            let me = self.caller_id(txn)?.ok_or_else(forbidden)?;
            let caller = self
                .user_by_uuid(txn, user_id.trim())?
                .filter(|p| p.user.id == me)
                .ok_or_else(forbidden)?;
            if super::org_by_channel(txn, &channel)?.is_none() {
                return Err(fault::invalid_value(&channel, "channel"));
            }
            let claim = caller.side.claim.clone().unwrap_or_default();
            if claim.failed >= MIGRATION_ATTEMPTS {
                return Err(fault::migration_failed());
            }
            let shadow = self.shadow(txn, &channel, &ext)?;
            let Some(shadow) = shadow.filter(|s| s.user.id != me) else {
                // A wrong id: counted on the claimant.
                let stored = read::sunbird(txn, me)?;
                let mut side = caller.side.clone();
                let failed = claim.failed + 1;
                side.claim = Some(Claim { failed, ..claim });
                write::put_sunbird(txn, me, stored.as_ref(), Some(&side))?;
                if failed >= MIGRATION_ATTEMPTS {
                    return Ok(None);
                }
                return Ok(Some(Migrated::WrongId {
                    remaining: MIGRATION_ATTEMPTS - failed,
                    given: user_ext_id.trim().to_string(),
                }));
            };
            self.may_control(txn, &shadow.user)?;
            if !accept {
                let stored = read::sunbird(txn, shadow.user.id)?;
                let mut side = shadow.side.clone();
                side.claim = Some(Claim {
                    rejected: true,
                    ..side.claim.unwrap_or_default()
                });
                write::put_sunbird(txn, shadow.user.id, stored.as_ref(), Some(&side))?;
                return Ok(Some(Migrated::Rejected));
            }
            let shadow_id = shadow.user.id;
            let moved_ids = shadow.side.external_ids.clone();
            absorb(txn, shadow, caller, now, true)?;
            // The caller takes the shadow's external ids.
            let stored = read::sunbird(txn, me)?;
            let mut side = stored.clone().unwrap_or_default();
            for e in moved_ids {
                side.external_ids
                    .retain(|o| (&o.provider, &o.id_type) != (&e.provider, &e.id_type));
                side.external_ids.push(e);
            }
            side.external_ids.sort();
            if let Some(list) = crate::domain::sunbird::overfull_list(&side) {
                return Err(fault::invalid(list));
            }
            side.claim = None;
            write::put_sunbird(txn, me, stored.as_ref(), Some(&side))?;
            debug_assert!(read::user(txn, shadow_id)?.is_none());
            Ok(Some(Migrated::Accepted))
        })?;
        migrated.ok_or_else(fault::migration_failed)
    }

    /// The shadow account of `channel` with external id `ext`: created by
    /// an SSO create (roster's imports carry no external ids), not managed,
    /// never signed in, not rejected, not merged away. Any other account
    /// that holds the id (a managed user, one an administrator created and
    /// that has not signed in yet) is its owner's, not a claimant's.
    fn shadow(&self, s: &Snapshot<'_>, channel: &str, ext: &str) -> Result<Option<Pair>> {
        // The users holding that id (the terms index, any provider), each
        // checked on its record: a claim reads a few records, not every
        // user's, while it holds the writer.
        // An id too long to be anyone's is no one's, found without folding.
        let max = crate::domain::sunbird::EXTERNAL_ID_PART_MAX;
        let Some(key) = crate::text::fold_lookup(ext, max) else {
            return Ok(None);
        };
        let holders =
            crate::store::terms::users_with(s, crate::store::terms::Term::ExternalId, &key)?;
        for id in holders {
            let Some(side) = read::sunbird(s, id)? else {
                return Err(read::index_mismatch(
                    "Sunbird terms",
                    id,
                    "which has no side record",
                ));
            };
            // Any id type of that provider: the claimant names the id only.
            let holds = side
                .external_ids
                .iter()
                .any(|e| e.provider == channel && e.id == ext);
            let eligible = side.origin == Origin::Sso
                && side.managed_by.is_none()
                && !side.deleted
                && !side.claim.as_ref().is_some_and(|c| c.rejected);
            if !holds || !eligible {
                continue;
            }
            let Some(user) = read::user(s, id)? else {
                continue;
            };
            if user.last_login.is_some() {
                continue;
            }
            // Checked against the index, as every lookup is.
            for e in side.external_ids.iter().filter(|e| e.provider == channel) {
                read::lookup(s, EXTERNAL_IDS, &e.key())?;
            }
            return Ok(Some(Pair { user, side }));
        }
        Ok(None)
    }
}

/// Whether `side` must accept the `latest` terms (S14): they exist, and the
/// accepted version is missing or another.
pub(super) fn prompts(latest: Option<&Terms>, side: &SunbirdUser) -> bool {
    latest.is_some_and(|t| {
        side.accepted
            .iter()
            .find(|a| a.kind == TERMS_AND_CONDITIONS)
            .is_none_or(|a| a.version.is_empty() || !a.version.eq_ignore_ascii_case(&t.latest))
    })
}

/// The catalogue ids of `roles` (PUBLIC, which everyone has, dropped).
fn role_ids(roles: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for r in roles {
        let id = role_id(r).ok_or_else(|| fault::not_valid("role"))?;
        if id != PUBLIC_ROLE && !out.iter().any(|o| o == id) {
            out.push(id.to_string());
        }
    }
    Ok(out)
}

/// Fails unless organisation `id` exists.
fn known_org(s: &Snapshot<'_>, id: u64) -> Result<()> {
    match read::organisation(s, id)? {
        Some(_) => Ok(()),
        None => Err(fault::invalid_value(&id.to_string(), "organisationId")),
    }
}

/// Grants `role` in `scope` (united with what it has).
fn grant(grants: &mut Vec<RoleGrant>, role: &str, scope: &[u64], now: Micros) {
    if role == PUBLIC_ROLE {
        return;
    }
    match grants.iter_mut().find(|g| g.role == role) {
        Some(g) => {
            for o in scope {
                if !g.scope.contains(o) {
                    g.scope.push(*o);
                    g.modified = now;
                }
            }
            g.scope.sort_unstable();
        }
        None => {
            let mut scope = scope.to_vec();
            scope.sort_unstable();
            scope.dedup();
            grants.push(RoleGrant {
                role: role.to_string(),
                scope,
                created: now,
                modified: now,
            });
        }
    }
}

/// The user name a merged-away account takes, freeing its own:
/// `merged-<its userId>`, or, when another user holds that (a user may be
/// given any name), the same with a random suffix until one is free, so
/// that no one can keep an account from being merged by taking the name.
fn merged_name(txn: &Txn<'_>, user: &User) -> Result<String> {
    let base = format!("merged-{}", uuid_string(user.uuid));
    let mut name = base.clone();
    for _ in 0..super::NAME_TRIES {
        let holder = read::lookup(txn, crate::store::tables::USER_BY_USERNAME, &name)?;
        if holder.is_none_or(|id| id == user.id) {
            return Ok(name);
        }
        name = format!("{base}-{}", super::random_suffix(8)?);
    }
    Err(Error::new(
        ErrorCode::Conflict,
        "no free user name for the merged account; try again",
    ))
}

/// Moves everything of `source` to `target` (S12); `source` is then
/// deleted (`remove`: a migrated shadow) or kept deactivated and marked
/// deleted, its identifiers freed (a merge).
fn absorb(txn: &Txn<'_>, source: Pair, target: Pair, now: Micros, remove: bool) -> Result<()> {
    let (from, to) = (source.user.id, target.user.id);
    // Memberships: the later expiry wins; none beats any.
    for (batch, sub) in read::memberships_of(txn, from)? {
        write::delete_membership(txn, from, batch, &sub)?;
        match read::membership(txn, to, batch)? {
            Some(mine) => {
                let later = match (mine.expires, sub.expires) {
                    (None, _) | (_, None) => None,
                    (Some(a), Some(b)) => Some(a.max(b)),
                };
                if later != mine.expires {
                    let mut kept = mine.clone();
                    kept.expires = later;
                    kept.modified = now;
                    write::put_membership(txn, to, batch, Some(&mine), &kept)?;
                }
            }
            None => write::put_membership(txn, to, batch, None, &sub)?,
        }
    }
    let stored = read::sunbird(txn, to)?;
    let mut side = target.side.clone();
    for o in &source.side.organisations {
        if !side.organisations.contains(o) {
            side.organisations.push(*o);
        }
    }
    side.organisations.sort_unstable();
    for g in &source.side.roles {
        grant(&mut side.roles, &g.role, &g.scope, now);
    }
    side.roles.sort_by(|a, b| a.role.cmp(&b.role));
    for d in &source.side.declarations {
        if !side
            .declarations
            .iter()
            .any(|m| m.org_id == d.org_id && m.persona == d.persona)
        {
            side.declarations.push(d.clone());
        }
    }
    // Each list of the target stays within what its own write paths take.
    if let Some(list) = crate::domain::sunbird::overfull_list(&side) {
        return Err(fault::invalid(list));
    }
    // A source that manages users would leave them without a manager: a
    // managed user signs in through its manager alone. A merged source
    // stays (merged away), so a user merged away from it still names a
    // user; a migrated shadow is deleted, so no user may name it, merged
    // away or not, as a Testpress delete refuses.
    let managed = read::related(txn, MANAGED_USERS, from)?;
    let blocking = match remove {
        true => managed.len(),
        false => super::counted(txn, &managed)?,
    };
    if blocking > 0 {
        return Err(match remove {
            true => fault::migration_failed(),
            false => fault::invalid_value(&uuid_string(source.user.uuid), "fromAccountId"),
        });
    }
    let old_from = read::sunbird(txn, from)?;
    if remove {
        write::delete_user(txn, &source.user)?;
        write::put_sunbird(txn, to, stored.as_ref(), Some(&side))?;
        return Ok(());
    }
    write::put_sunbird(txn, to, stored.as_ref(), Some(&side))?;
    let mut user: User = source.user.clone();
    let mut gone = source.side.clone();
    if !user.profile.email.is_empty() {
        gone.prev_used_email = std::mem::take(&mut user.profile.email);
    }
    if !user.profile.phone.is_empty() {
        gone.prev_used_phone = std::mem::take(&mut user.profile.phone);
    }
    user.username = merged_name(txn, &user)?;
    user.is_active = false;
    // Merged away for good (S12): nothing left to sign in with or to act
    // with, should an administrator make the record active again.
    user.password_hash.clear();
    user.is_staff = false;
    user.is_superuser = false;
    user.groups.clear();
    user.permissions.clear();
    user.credential_generation = user.credential_generation.wrapping_add(1);
    user.modified = now;
    gone.deleted = true;
    gone.external_ids.clear();
    write::put_user(txn, Some(&source.user), &user)?;
    write::put_sunbird(txn, from, old_from.as_ref(), Some(&gone))?;
    write::end_sessions(txn, from, None)?;
    Ok(())
}
