//! Sign-in, sessions and authorization (SPEC 5, D1-D4).
//!
//! A session token is 256 random bits shown once as 64 hex digits; the store
//! keeps only its SHA-256. Every sign-in failure (unknown user, wrong
//! password, locked, inactive, blocked) gives the same error after the same
//! argon2 work and one write transaction, so neither the answer nor its cost
//! tells which it was.

use super::{Admin, Caller, Institute};
use crate::auth::password;
use crate::auth::permissions::{Holder, Permission, has_perm};
use crate::config::{SESSIONS_PER_USER, TOKEN_BYTES};
use crate::domain::rules::{EMAIL_MAX, fold};
use crate::domain::user::User;
use crate::error::{Error, ErrorCode, Result};
use crate::store::tables::{Kind, USER_BY_EMAIL, USER_BY_USERNAME};
use crate::store::{Snapshot, Txn, read, write};
use crate::text::fold_lookup;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// The one answer to every failed sign-in (Django REST Framework's words).
pub const LOGIN_FAILED: &str = "Unable to log in with provided credentials.";
/// DRF's answer to a request without credentials.
pub const NO_CREDENTIALS: &str = "Authentication credentials were not provided.";
/// DRF's answer to a token it does not accept.
pub const INVALID_TOKEN: &str = "Invalid token.";
/// DRF's answer to a caller without the permission.
pub const NO_PERMISSION: &str = "You do not have permission to perform this action.";

/// A new session: the token (shown this once) and when it ends.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "uniffi", uniffi::export(Debug, Display))]
pub struct Login {
    /// The token, 64 hex digits. Only its hash is stored.
    pub token: String,
    /// When the session ends.
    pub expires: DateTime<Utc>,
    /// The signed-in user.
    pub user: u64,
}

crate::text::debug_without_secrets!(Login {
    token secret,
    expires,
    user,
});

fn login_failed() -> Error {
    Error::new(ErrorCode::Unauthenticated, LOGIN_FAILED)
}

fn invalid_token() -> Error {
    Error::new(ErrorCode::Unauthenticated, INVALID_TOKEN)
}

/// Stores a session of `user` for token `random` (its expired ones go).
pub(super) fn put_session(
    txn: &crate::store::Txn<'_>,
    user: &User,
    random: [u8; TOKEN_BYTES],
    now_us: i64,
    expires_us: i64,
) -> Result<()> {
    // Room for this one: the expired end, then the oldest beyond the bound.
    write::end_sessions_beyond(txn, user.id, now_us, SESSIONS_PER_USER - 1)?;
    let hash: [u8; 32] = Sha256::digest(random).into();
    let row = (user.id, user.credential_generation, now_us, expires_us);
    write::put_session(txn, hash, row)
}

/// A new session token's text.
pub(super) fn token_text(random: &[u8; TOKEN_BYTES]) -> String {
    hex(random)
}

pub(crate) fn forbidden() -> Error {
    Error::new(ErrorCode::Forbidden, NO_PERMISSION)
}

/// Every permission `user` holds, directly or through groups; `None` for a
/// superuser, who holds all.
fn permissions_of(s: &Snapshot<'_>, user: &User) -> Result<Option<BTreeSet<u32>>> {
    if user.is_superuser {
        return Ok(None);
    }
    let mut held: BTreeSet<u32> = user.permissions.iter().copied().collect();
    for g in &user.groups {
        if let Some(group) = read::group(s, *g)? {
            held.extend(group.permissions);
        }
    }
    Ok(Some(held))
}

/// SPEC A7's test: whether one holding `held` (`None`: every permission)
/// holds every permission `target` holds. Only a holder of all controls a
/// superuser.
fn covers(s: &Snapshot<'_>, held: Option<&BTreeSet<u32>>, target: &User) -> Result<bool> {
    let Some(held) = held else {
        return Ok(true);
    };
    if target.is_superuser {
        return Ok(false);
    }
    let needed = permissions_of(s, target)?.unwrap_or_default();
    Ok(crate::auth::permissions::covers(held, &needed))
}

/// The stored form of a token: SHA-256 of its 32 bytes. `None` for text
/// that is not a token.
fn token_hash(token: &str) -> Option<[u8; 32]> {
    let token = token.trim().as_bytes();
    if token.len() != TOKEN_BYTES * 2 {
        return None;
    }
    let mut raw = [0u8; TOKEN_BYTES];
    for (i, pair) in token.chunks(2).enumerate() {
        let digit = |c: u8| (c as char).to_digit(16);
        raw[i] = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
    }
    Some(Sha256::digest(raw).into())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `phc` should be replaced by a hash with `params`: not argon2id,
/// or any cost below the configured one.
fn needs_rehash(phc: &str, params: crate::config::Argon2Params) -> bool {
    let Some(rest) = phc.strip_prefix("$argon2id$v=19$") else {
        return true;
    };
    let costs = rest.split('$').next().unwrap_or("");
    let cost = |key: &str| -> u32 {
        costs
            .split(',')
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
            .unwrap_or(0)
    };
    cost("m") < params.m_kib || cost("t") < params.t || cost("p") < params.p
}

/// Whether `password` matches a Django hash (false for anything else),
/// checked during a turn of the password gate.
pub(super) fn verify_legacy(
    password: &str,
    stored: &str,
    _turn: &crate::auth::gate::Permit<'_>,
) -> bool {
    crate::auth::legacy::is_legacy(stored)
        && crate::auth::legacy::parse(stored)
            .is_ok_and(|h| crate::auth::legacy::verify(password, &h))
}

/// Whether `password` matches a stored hash of any supported kind.
fn verify_any(password: &str, stored: &str, turn: &crate::auth::gate::Permit<'_>) -> bool {
    password::verify(password, stored, turn) || verify_legacy(password, stored, turn)
}

impl Institute {
    /// Signs in by username (ignoring case) or email. Every failure is the
    /// same `unauthenticated` error. After too many failures in a row the
    /// account is locked for the configured time (A2). On success a hash
    /// with weaker than configured parameters (or of another system) is
    /// replaced by a current argon2id one.
    ///
    /// When too many password checks run and wait already, the answer is
    /// `busy` at once, before the user is looked up: the same for every
    /// account, nothing written, no failure counted.
    pub fn login(&self, username_or_email: &str, password: &str) -> Result<Login> {
        let config = self.config();
        let turn = self.hashing_turn()?;
        let now = config.now();
        let now_us = now.timestamp_micros();
        let found = self.store().reading(|txn| {
            // Text too long to be any username or email is no one's,
            // found without folding it (the same decoy work follows).
            let Some(key) = fold_lookup(username_or_email.trim(), EMAIL_MAX) else {
                return Ok(None);
            };
            // The record's own name is checked against the entry: a sound
            // entry that names another user (a bug, an edited file) signs
            // no one in.
            match read::lookup_user(txn, USER_BY_USERNAME, &key)? {
                Some(user) => Ok(Some(user)),
                None => read::lookup_user(txn, USER_BY_EMAIL, &key),
            }
        })?;
        // The same argon2 work whether or not the user exists.
        let stored = found
            .as_ref()
            .map(|u| u.password_hash.clone())
            .filter(|h| !h.is_empty() && !h.starts_with('!'));
        // One code path for both: the decoy has the configured costs and
        // costs nothing to make, so no sign-in pays for it.
        let target = stored.as_deref().unwrap_or(&self.inner.decoy);
        let verified = verify_any(password, target, &turn) && stored.is_some();
        // A hash cheaper than the configured argon2id (an imported Django
        // hash, older parameters) costs the decoy's work as well, so that
        // no account answers sooner than a name no one has (A2). A sign-in
        // that succeeds replaces it below.
        if stored
            .as_deref()
            .is_some_and(|h| needs_rehash(h, config.argon2))
        {
            std::hint::black_box(password::verify(password, &self.inner.decoy, &turn));
        }
        let usable =
            |u: &User| u.is_active && !u.is_blocked && u.locked_until.is_none_or(|t| t <= now_us);
        let ok = verified && found.as_ref().is_some_and(usable);
        let rehash = match (&stored, ok) {
            (Some(hash), true) if needs_rehash(hash, config.argon2) => {
                Some(password::hash(password, config.argon2, &turn)?)
            }
            _ => None,
        };
        drop(turn);
        let random: [u8; TOKEN_BYTES] = crate::random::bytes()?;
        let expires = now + config.session_lifetime;
        let lockout = config.lockout;
        let outcome = self.store().write(|txn| {
            if let Some(user) = &found {
                write::will_sign_in(txn, user.id)?;
            }
            let Some(old) = found
                .as_ref()
                .and_then(|u| read::user(txn, u.id).transpose())
                .transpose()?
            else {
                failure_written(txn)?;
                return Ok(None);
            };
            let mut user = old.clone();
            // Decided again on the record as it is now: a block, a
            // deactivation, a lock or a new password committed while the
            // password was verified refuses this sign-in, so no session is
            // ever made for an unusable account (it would come back with the
            // unblock, carrying the generation the block raised).
            if ok
                && usable(&old)
                && old.password_hash
                    == found
                        .as_ref()
                        .map_or(String::new(), |u| u.password_hash.clone())
            {
                user.failed_logins = 0;
                user.locked_until = None;
                user.last_login = Some(now_us);
                if let Some(hash) = &rehash {
                    user.password_hash = hash.clone();
                }
                write::put_user(txn, Some(&old), &user)?;
                put_session(txn, &user, random, now_us, expires.timestamp_micros())?;
                return Ok(Some(user.id));
            }
            failure_written(txn)?;
            count_failure(txn, &old, now, lockout)?;
            Ok(None)
        })?;
        match outcome {
            Some(user) => Ok(Login {
                token: hex(&random),
                expires,
                user,
            }),
            None => Err(login_failed()),
        }
    }

    /// The handle of the signed-in user of `token`. Refused (as
    /// `unauthenticated`, "Invalid token.") when the token is unknown or
    /// expired, or its user is deleted, inactive, blocked, or changed password
    /// (or was blocked or deactivated) after the session began (A8). A
    /// session found expired or ended is removed on the way: the one read
    /// path that writes, and only then.
    pub fn session(&self, token: &str) -> Result<Admin> {
        let hash = token_hash(token).ok_or_else(invalid_token)?;
        let admin = Admin {
            institute: self.clone(),
            caller: Caller::Operator,
            session: Some(hash),
            actor: None,
        };
        let (user, stale) = self.store().reading(|txn| {
            let user = admin.live_user(txn);
            // A live session is never stale: look only after a refusal.
            let stale = user.is_err() && admin.stale_session(txn)?;
            Ok((user, stale))
        })?;
        if stale {
            self.store().write(|txn| match admin.stale_session(txn)? {
                true => write::end_session(txn, hash).map(|_| ()),
                false => Ok(()),
            })?;
        }
        let user = user?;
        Ok(Admin {
            caller: Caller::User(user.id),
            actor: Some(user.uuid),
            ..admin
        })
    }

    /// Ends the session of `token` (no error if it had ended).
    pub fn logout(&self, token: &str) -> Result<()> {
        let Some(hash) = token_hash(token) else {
            return Ok(());
        };
        self.store()
            .write(|txn| write::end_session(txn, hash).map(|_| ()))
    }

    /// Creates an active staff superuser, or makes an existing user (by
    /// username, ignoring case) one with this password, unlocked. A host-level
    /// operation (SPEC A6): whoever can open the store can do it.
    pub fn create_superuser(&self, username: &str, password: &str) -> Result<u64> {
        let admin = self.operator();
        let existing = self.store().reading(|txn| {
            // The record checked against the entry: never the wrong
            // user made a superuser.
            let user = read::lookup_user(txn, USER_BY_USERNAME, &fold(username))?;
            Ok(user.map(|u| u.id))
        })?;
        let access = crate::domain::user::AccessInput {
            is_superuser: Some(true),
            is_staff: Some(true),
            ..Default::default()
        };
        let id = match existing {
            Some(id) => {
                let patch = crate::domain::user::UserPatch {
                    password: Some(password.to_string()),
                    is_active: Some(true),
                    is_blocked: Some(false),
                    access,
                    ..Default::default()
                };
                admin.update_user(id, patch)?;
                admin.unlock_user(id)?;
                id
            }
            None => {
                let input = crate::domain::user::NewUser {
                    username: Some(username.to_string()),
                    password: Some(password.to_string()),
                    access,
                    ..Default::default()
                };
                admin.create_user(input, Default::default())?.user.id
            }
        };
        Ok(id)
    }
}

/// What every failed sign-in writes, whoever it names: without it a name no
/// one has, a locked account or lock-out switched off would commit nothing
/// (no durable write, no sync) where a counted failure commits, and answer
/// measurably sooner, telling which accounts exist (A2). One id of the
/// outbox's counter is used up, a change of the same size every time.
fn failure_written(txn: &Txn<'_>) -> Result<()> {
    write::next_id(txn, Kind::Message).map(|_| ())
}

/// Counts one failed sign-in of `old` in `txn`: the threshold locks the
/// account for the configured time (failures while locked do not count).
fn count_failure(
    txn: &Txn<'_>,
    old: &User,
    now: DateTime<Utc>,
    lockout: crate::config::LockoutPolicy,
) -> Result<()> {
    let locked = old.locked_until.is_some_and(|t| t > now.timestamp_micros());
    if locked || lockout.max_failures == 0 {
        return Ok(());
    }
    let mut user = old.clone();
    // Saturating: a count restored or edited to the end of its type must
    // not overflow (a panic in debug builds, a wrap to 0 in release).
    user.failed_logins = user.failed_logins.saturating_add(1);
    if user.failed_logins >= lockout.max_failures {
        user.failed_logins = 0;
        user.locked_until = Some((now + lockout.duration).timestamp_micros());
    }
    write::put_user(txn, Some(old), &user)
}

impl Admin {
    /// Counts a failed password check of user `id` toward its lock-out.
    pub(super) fn count_failed_sign_in(&self, id: u64) -> Result<()> {
        let (now, lockout) = (self.now(), self.config().lockout);
        self.write(|txn| match read::user(txn, id)? {
            Some(old) => count_failure(txn, &old, now, lockout),
            None => Ok(()),
        })
    }

    /// The caller's user, checked against its session now: the session
    /// exists and has not expired, the user exists, is active and not
    /// blocked, and still has the credential generation the session carries
    /// (A8: no comparison of instants but the expiry, so a clock that moves
    /// back does not end sessions, nor one that moves forward revive them).
    pub(super) fn live_user(&self, s: &Snapshot<'_>) -> Result<User> {
        let Some(hash) = self.session else {
            return Err(invalid_token());
        };
        let row = read::session(s, hash)?;
        let Some((user_id, generation, _, ends)) = row else {
            return Err(invalid_token());
        };
        let now = self.now_micros();
        let user = read::user(s, user_id)?.ok_or_else(invalid_token)?;
        if ends <= now
            || !user.is_active
            || user.is_blocked
            || generation != user.credential_generation
        {
            return Err(invalid_token());
        }
        // A managed user's sessions are its manager's tokens (S3): they
        // hold while the manager could still sign in, so blocking,
        // deactivating, deleting or merging away the manager ends them.
        // and while the manager could be given one now: the user holds no
        // permission the manager lacks (A7; an administrator may have made
        // the user stronger since the token was issued).
        if let Some(manager) = read::sunbird(s, user.id)?.and_then(|side| side.managed_by) {
            let manager = read::user(s, manager)?.filter(|m| m.is_active && !m.is_blocked);
            let Some(manager) = manager else {
                return Err(invalid_token());
            };
            let merged = read::sunbird(s, manager.id)?.is_some_and(|side| side.deleted);
            if merged || !covers(s, permissions_of(s, &manager)?.as_ref(), &user)? {
                return Err(invalid_token());
            }
        }
        Ok(user)
    }

    /// Whether this handle's session row exists but can never be valid
    /// again: expired, of a user that is gone, or of an older credential
    /// generation. (An inactive or blocked user's sessions were ended when
    /// that happened.)
    fn stale_session(&self, s: &Snapshot<'_>) -> Result<bool> {
        let Some(hash) = self.session else {
            return Ok(false);
        };
        let Some((user_id, generation, _, ends)) = read::session(s, hash)? else {
            return Ok(false);
        };
        if ends <= self.now_micros() {
            return Ok(true);
        }
        Ok(read::user(s, user_id)?.is_none_or(|u| u.credential_generation != generation))
    }

    /// Signs this handle's session out (`DELETE /api/v2.5/auth-token/`): the
    /// token stops working at once. `unauthenticated` when the handle has
    /// no live session (the operator has none).
    pub fn sign_out(&self) -> Result<()> {
        let Some(hash) = self.session else {
            return Err(Error::new(ErrorCode::Unauthenticated, NO_CREDENTIALS));
        };
        self.write(|txn| {
            self.live_user(txn)?;
            write::end_session(txn, hash).map(|_| ())
        })
    }

    /// Fails (`forbidden`) unless the caller is the operator or active
    /// staff: every permission [`Admin::allow`] checks needs one of them
    /// (D4). The admin surfaces ask it before they read a request's method,
    /// parameters and body, as Django REST Framework checks permissions
    /// first, so that a caller who may use none of them learns nothing of
    /// how a request would be judged (400 or 405 before 403).
    pub(crate) fn allow_staff(&self) -> Result<()> {
        if self.caller == Caller::Operator {
            return Ok(());
        }
        self.store()
            .reading(|s| self.live_staff(s)?.map(drop).ok_or_else(forbidden))
    }

    /// The signed-in caller's record when it is active staff, the one kind
    /// of user a permission can grant anything to (D4); `None` for any
    /// other live user.
    fn live_staff(&self, s: &Snapshot<'_>) -> Result<Option<User>> {
        let user = self.live_user(s)?;
        Ok(user.is_staff.then_some(user))
    }

    /// Fails unless the caller may do `permission`: the operator may do
    /// everything; a signed-in user must be active staff holding it (D4).
    /// A read may drop the answer; a write goes through it
    /// ([`Granted::write`]), which checks again inside its transaction.
    pub(super) fn allow(&self, permission: Permission) -> Result<Granted<'_>> {
        self.allow_all(&[permission])
    }

    /// [`Admin::allow`] for every one of `needs` (none: no check).
    pub(super) fn allow_all(&self, needs: &[Permission]) -> Result<Granted<'_>> {
        if self.caller != Caller::Operator && !needs.is_empty() {
            self.store().reading(|txn| self.allow_in(txn, needs))?;
        }
        Ok(Granted {
            admin: self,
            needs: needs.to_vec(),
        })
    }

    /// [`Admin::allow`] for each of `permissions`, on snapshot `s`.
    pub(super) fn allow_in(&self, s: &Snapshot<'_>, permissions: &[Permission]) -> Result<()> {
        for &permission in permissions {
            if !self.may(s, permission)? {
                return Err(forbidden());
            }
        }
        Ok(())
    }

    /// Whether the caller may do `permission` (D4), on snapshot `s`: the
    /// operator may do everything; a signed-in user must be active staff
    /// holding it. Viewing is also granted by changing the same model, as
    /// in Django's admin: a change answers with the changed record, so
    /// `change_x` without `view_x` would otherwise read records through
    /// updates that change nothing. (`has_perm` stays literal, D3.)
    pub(super) fn may(&self, s: &Snapshot<'_>, permission: Permission) -> Result<bool> {
        if self.caller == Caller::Operator {
            return Ok(true);
        }
        let Some(user) = self.live_staff(s)? else {
            return Ok(false);
        };
        let change = Permission::new(crate::auth::permissions::Action::Change, permission.model);
        Ok(self.holds(s, &user, permission)?
            || (permission.action == crate::auth::permissions::Action::View
                && self.holds(s, &user, change)?))
    }

    /// Fails unless the caller is the operator (host-level operations).
    pub(crate) fn allow_operator(&self) -> Result<()> {
        match self.caller {
            Caller::Operator => Ok(()),
            Caller::User(_) => Err(forbidden()),
        }
    }

    /// Every permission the caller holds; `None` for all (the operator and
    /// superusers). A caller may grant only what it holds, so that
    /// `change_user` or `change_group` cannot raise anyone above the granter.
    pub(super) fn caller_permissions(
        &self,
        s: &Snapshot<'_>,
    ) -> Result<Option<std::collections::BTreeSet<u32>>> {
        if self.caller == Caller::Operator {
            return Ok(None);
        }
        let user = self.live_user(s)?;
        permissions_of(s, &user)
    }

    /// SPEC A7, the one rule every write path that can hand an account to
    /// someone else goes through: fails (`forbidden`) unless the caller may
    /// take control of `target` as it is now, before the change. Controlling
    /// an account means changing its password or anything that sets its
    /// hash, its sign-in identifiers (username, email, phone), its
    /// `is_active`/`is_staff`/`is_blocked`/`is_superuser` flags, its groups or
    /// own permissions, unlocking it, ending its sessions, or deleting it.
    /// The caller must hold every permission `target` holds, directly or
    /// through groups, whether or not `target` is active or staff, since a
    /// later change of those flags would bring the permissions back. The
    /// operator and superusers are not limited; only they may control a
    /// superuser.
    pub(super) fn may_control(&self, s: &Snapshot<'_>, target: &User) -> Result<()> {
        match self.controls(s, target)? {
            true => Ok(()),
            false => Err(forbidden()),
        }
    }

    /// [`Admin::may_control`] of every user in `targets`, the caller's
    /// permissions read once.
    pub(super) fn may_control_all(&self, s: &Snapshot<'_>, targets: &[u64]) -> Result<()> {
        let held = self.caller_permissions(s)?;
        let Some(held) = held.as_ref() else {
            return Ok(());
        };
        for id in targets {
            if let Some(target) = read::user(s, *id)?
                && !covers(s, Some(held), &target)?
            {
                return Err(forbidden());
            }
        }
        Ok(())
    }

    /// [`Admin::may_control`] as an answer instead of an error.
    pub(super) fn controls(&self, s: &Snapshot<'_>, target: &User) -> Result<bool> {
        covers(s, self.caller_permissions(s)?.as_ref(), target)
    }

    /// Django's `has_perm` for `user`.
    pub(super) fn holds(
        &self,
        s: &Snapshot<'_>,
        user: &User,
        permission: Permission,
    ) -> Result<bool> {
        let mut groups = Vec::with_capacity(user.groups.len());
        for g in &user.groups {
            if let Some(group) = read::group(s, *g)? {
                groups.push(group.permissions);
            }
        }
        let group_refs: Vec<&[u32]> = groups.iter().map(Vec::as_slice).collect();
        Ok(has_perm(
            Holder {
                is_active: user.is_active,
                is_superuser: user.is_superuser,
                own: &user.permissions,
                groups: &group_refs,
            },
            permission,
        ))
    }

    /// Whether user `id` has permission `name` (`roster.view_user`), with
    /// Django's semantics. Needs `view_user`.
    pub fn has_perm(&self, id: u64, name: &str) -> Result<bool> {
        self.allow(Permission::new(
            crate::auth::permissions::Action::View,
            crate::auth::permissions::Model::User,
        ))?;
        let Some(permission) = Permission::parse(name) else {
            return Ok(false);
        };
        self.store().reading(|txn| {
            let user = read::user(txn, id)?.ok_or_else(Error::not_found)?;
            self.holds(txn, &user, permission)
        })
    }

    /// Ends every session of user `id` (T5, A1). The caller needs
    /// `change_user` and, under A7, every permission the user holds, unless
    /// it is that user.
    pub fn logout_everywhere(&self, id: u64) -> Result<u64> {
        let change_user = Permission::new(
            crate::auth::permissions::Action::Change,
            crate::auth::permissions::Model::User,
        );
        let needs: &[Permission] = match self.caller == Caller::User(id) {
            true => &[],
            false => &[change_user],
        };
        self.allow_all(needs)?.write(|txn| {
            // Its own sessions: by a session still live in this
            // transaction (one ended meanwhile ends no later one).
            if needs.is_empty() {
                self.live_user(txn)?;
            }
            let target = read::user(txn, id)?.ok_or_else(Error::not_found)?;
            if self.caller != Caller::User(id) {
                self.may_control(txn, &target)?;
            }
            write::end_sessions(txn, id, None)
        })
    }

    /// Ends the lock-out of user `id` at once (A2). Needs `change_user`, and
    /// a caller holding every permission the user holds (A7): unlocking
    /// reopens an account to password guesses.
    pub fn unlock_user(&self, id: u64) -> Result<()> {
        let change_user = Permission::new(
            crate::auth::permissions::Action::Change,
            crate::auth::permissions::Model::User,
        );
        let granted = self.allow(change_user)?;
        granted.write(|txn| {
            let old = read::user(txn, id)?.ok_or_else(Error::not_found)?;
            self.may_control(txn, &old)?;
            let user = User {
                failed_logins: 0,
                locked_until: None,
                ..old.clone()
            };
            write::put_user(txn, Some(&old), &user)
        })
    }
}

/// Permissions the caller was found to hold (D4) on an earlier snapshot:
/// what [`Admin::allow`] answers. The early check spares a refused caller
/// the work before its write (a password's hashing, say); the write itself
/// checks again, so an administrator whose staff status or permission was
/// taken away in between does not finish it. One value names the
/// permissions for both checks.
pub(super) struct Granted<'a> {
    admin: &'a Admin,
    needs: Vec<Permission>,
}

impl Granted<'_> {
    /// Runs `f` as one write transaction, after checking the permissions
    /// again inside it.
    pub(super) fn write<T>(
        &self,
        mut f: impl FnMut(&crate::store::Txn<'_>) -> Result<T>,
    ) -> Result<T> {
        self.admin.write(|txn| {
            self.admin.allow_in(txn, &self.needs)?;
            f(txn)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Argon2Params;

    #[test]
    fn tokens_are_64_hex_digits() {
        assert!(token_hash(&"ab".repeat(32)).is_some());
        assert!(token_hash(&"AB".repeat(32)).is_some());
        for bad in [
            "",
            "ab",
            &"zz".repeat(32),
            &"ab".repeat(33),
            &"é".repeat(32),
        ] {
            assert!(token_hash(bad).is_none(), "{bad}");
        }
        assert_eq!(hex(&[0, 15, 255]), "000fff");
    }

    #[test]
    fn weaker_hashes_are_rehashed() {
        let owasp = Argon2Params::default();
        assert!(!needs_rehash(
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            owasp
        ));
        assert!(!needs_rehash(
            "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
            owasp
        ));
        assert!(needs_rehash(
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA",
            owasp
        ));
        assert!(needs_rehash(
            "$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            owasp
        ));
        assert!(needs_rehash("pbkdf2_sha256$12000$salt$hash", owasp));
        // Each cost is compared alone: one below the configured is enough,
        // whatever the others are.
        let wide = Argon2Params {
            m_kib: 19456,
            t: 2,
            p: 2,
        };
        assert!(!needs_rehash(
            "$argon2id$v=19$m=19456,t=2,p=2$c2FsdA$aGFzaA",
            wide
        ));
        for weaker in [
            "$argon2id$v=19$m=19455,t=2,p=2$c2FsdA$aGFzaA",
            "$argon2id$v=19$m=19456,t=1,p=2$c2FsdA$aGFzaA",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            "$argon2id$v=19$m=65536,t=9,p=1$c2FsdA$aGFzaA",
            "$argon2id$v=19$m=64,t=9,p=9$c2FsdA$aGFzaA",
        ] {
            assert!(needs_rehash(weaker, wide), "{weaker}");
        }
    }

    /// A failure count at the end of its type (an edited store) does not
    /// overflow on the next failure: it saturates and locks the account,
    /// where `+= 1` panicked in a debug build and wrapped to 0 in release.
    #[test]
    fn a_failure_count_at_its_end_saturates_and_locks() {
        let store = crate::store::Store::in_memory().unwrap();
        let mut user = User::blank(1, "ravi");
        user.uuid = 7;
        user.failed_logins = u32::MAX;
        store
            .write(|txn| {
                crate::store::ids::raise(txn, Kind::User, 2)?;
                write::put_user(txn, None, &user)
            })
            .unwrap();
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let lockout = crate::LockoutPolicy {
            max_failures: 5,
            duration: chrono::Duration::minutes(15),
        };
        store
            .write(|txn| count_failure(txn, &user, now, lockout))
            .expect("no overflow");
        let after = store.reading(|s| read::user(s, 1)).unwrap().unwrap();
        assert_eq!(after.failed_logins, 0, "the threshold was passed");
        assert!(
            after
                .locked_until
                .is_some_and(|t| t > now.timestamp_micros())
        );
    }

    /// A session is checked against its user's flags as well as its
    /// credential generation: a user stored inactive or blocked with its
    /// generation unchanged and its sessions kept (a store written by a
    /// build that forgot to end them, an edited file) signs no one in.
    #[test]
    fn an_inactive_or_blocked_user_keeps_no_session_whatever_its_generation() {
        let cheap = Argon2Params {
            m_kib: 8,
            t: 1,
            p: 1,
        };
        let config = crate::Config {
            argon2: cheap,
            ..Default::default()
        };
        let institute = Institute::in_memory(config).unwrap();
        let input = |name: &str| crate::NewUser {
            username: Some(name.into()),
            password: Some("right-pass-1".into()),
            ..Default::default()
        };
        let admin = institute.operator();
        type Edit = fn(&mut User);
        let edits: [(&str, Edit); 3] = [
            ("kept", |_| {}),
            ("inactive", |u| u.is_active = false),
            ("blocked", |u| u.is_blocked = true),
        ];
        // The record rewritten below every rule: generation and sessions kept.
        let edit_stored = |id: u64, edit: Edit| {
            let edited = |txn: &Txn<'_>| {
                let old = read::user(txn, id)?.unwrap();
                let mut user = old.clone();
                edit(&mut user);
                write::put_user(txn, Some(&old), &user)
            };
            institute.store().write(edited).unwrap();
        };
        for (name, edit) in edits {
            let id = admin
                .create_user(input(name), Default::default())
                .unwrap()
                .user
                .id;
            let token = institute.login(name, "right-pass-1").unwrap().token;
            edit_stored(id, edit);
            let session = institute.session(&token);
            match name {
                "kept" => assert!(session.is_ok(), "an unchanged user's session holds"),
                _ => assert_eq!(
                    session.err().map(|e| e.message().to_string()),
                    Some(INVALID_TOKEN.to_string()),
                    "{name}"
                ),
            }
        }
        // A managed user's token holds while its manager's record could
        // sign in: the manager stored inactive or blocked ends it, though
        // the managed user's own record is unchanged.
        for (name, edit) in edits {
            let email = format!("{name}-manager@example.org");
            let manager = crate::domain::sunbird::SunbirdInput {
                first_name: Some(format!("{name} manager")),
                email: Some(email.clone()),
                password: Some("right-pass-1".into()),
                ..Default::default()
            };
            let manager_uuid = admin
                .sunbird_create(manager, crate::domain::sunbird::CreateRoute::Create)
                .unwrap();
            let manager_id = admin.find_user(&email).unwrap();
            let kid = crate::domain::sunbird::SunbirdInput {
                first_name: Some(format!("{name} kid")),
                managed_by: Some(manager_uuid.clone()),
                ..Default::default()
            };
            admin
                .sunbird_create(kid, crate::domain::sunbird::CreateRoute::Managed)
                .unwrap();
            let token = institute.login(&email, "right-pass-1").unwrap().token;
            let kids = institute
                .session(&token)
                .unwrap()
                .managed_users(&manager_uuid, true)
                .unwrap();
            let kid_token = kids[0].token.clone().expect("a token for the kid");
            edit_stored(manager_id, edit);
            let session = institute.session(&kid_token);
            assert_eq!(
                session.is_ok(),
                name == "kept",
                "the kid of the {name} manager"
            );
        }
    }

    /// Every sign-in outcome runs argon2 exactly once, argon2id with the
    /// configured costs, whether or not the user exists, from the very first
    /// sign-in on (SPEC A2). Counts the work instead of timing it.
    #[test]
    fn every_sign_in_does_the_same_argon2_work() {
        let params = Argon2Params {
            m_kib: 72,
            t: 2,
            p: 1,
        };
        let config = crate::Config {
            argon2: params,
            lockout: crate::LockoutPolicy {
                max_failures: 2,
                ..Default::default()
            },
            ..Default::default()
        };
        let institute = Institute::in_memory(config).unwrap();
        let decoy = &institute.inner.decoy;
        assert!(
            decoy.starts_with("$argon2id$v=19$m=72,t=2,p=1$"),
            "the decoy has the configured costs: {decoy}"
        );
        let expected = vec![(argon2::Algorithm::Argon2id, 72, 2, 1)];
        let runs = |f: &dyn Fn()| {
            password::RUNS.with_borrow_mut(Vec::clear);
            f();
            password::RUNS.with_borrow_mut(std::mem::take)
        };
        // The very first sign-in, of an unknown user: nothing made lazily.
        let first = runs(&|| {
            institute.login("nobody", "wrong-pass").unwrap_err();
        });
        assert_eq!(first, expected, "first unknown sign-in");
        let admin = institute.operator();
        let make = |name: &str| {
            let input = crate::NewUser {
                username: Some(name.into()),
                password: Some("right-pass-1".into()),
                ..Default::default()
            };
            admin
                .create_user(input, Default::default())
                .unwrap()
                .user
                .id
        };
        make("ada");
        make("locked");
        let inactive = make("inactive");
        let blocked = make("blocked");
        let patch = |is_active, is_blocked| crate::UserPatch {
            is_active: Some(is_active),
            is_blocked: Some(is_blocked),
            ..Default::default()
        };
        admin.update_user(inactive, patch(false, false)).unwrap();
        admin.update_user(blocked, patch(true, true)).unwrap();
        for _ in 0..2 {
            institute.login("locked", "wrong-pass").unwrap_err();
        }
        for (user, password) in [
            ("nobody", "wrong-pass"),
            ("nobody@example.org", "wrong-pass"),
            ("ada", "wrong-pass"),
            ("locked", "right-pass-1"),
            ("inactive", "right-pass-1"),
            ("blocked", "right-pass-1"),
        ] {
            let work = runs(&|| {
                let err = institute.login(user, password).unwrap_err();
                assert_eq!(err.message(), LOGIN_FAILED);
            });
            assert_eq!(work, expected, "{user}");
        }
        let work = runs(&|| {
            institute.login("ada", "right-pass-1").unwrap();
        });
        assert_eq!(work, expected, "a success at current costs: no rehash");
        // Accounts whose hashes are cheaper than the configured argon2id
        // (a Django import, older costs) pay the configured work too.
        let cheap = {
            let turn = institute.hashing_turn().unwrap();
            let weak = Argon2Params {
                m_kib: 8,
                t: 1,
                p: 1,
            };
            password::hash("right-pass-1", weak, &turn).unwrap()
        };
        let django = "pbkdf2_sha256$1$salt$".to_string() + &"A".repeat(43) + "=";
        let rows = [("django", django), ("cheap", cheap)]
            .into_iter()
            .map(|(name, hash)| crate::ImportRow {
                line: 1,
                user: crate::NewUser {
                    username: Some(name.into()),
                    ..Default::default()
                },
                password_hash: Some(hash),
                errors: Default::default(),
            })
            .collect();
        assert_eq!(admin.import_rows(rows).unwrap().created, 2);
        for user in ["django", "cheap"] {
            let work = runs(&|| {
                institute.login(user, "wrong-pass").unwrap_err();
            });
            assert!(work.contains(&expected[0]), "{user}: {work:?}");
        }
    }
}
