//! User operations (T1-T6).

use super::Admin;
use crate::auth::password;
use crate::auth::permissions::{Action, Model, Permission};
use crate::domain::custom_field::CustomField;
use crate::domain::outbox::{Message, credentials};
use crate::domain::rules::{self, EMAIL_MAX, NAME_MAX, REQUIRED, fold};
use crate::domain::user::{
    self, AccessInput, Context, CreateOptions, NewUser, Profile, User, UserPatch, UserView,
};
use crate::domain::{BatchView, Page, PageRequest};
use crate::error::{Error, FieldErrors, Result};
use crate::store::search::{self, Field};
use crate::store::tables::{
    BATCH_BY_NAME, Kind, USER_BY_EMAIL, USER_BY_PHONE, USER_BY_USERNAME, USERS,
};
use crate::store::{Reads, Snapshot, Txn, read, write};
use crate::text::fold_lookup;
use chrono::NaiveDate;
use std::sync::Arc;

/// What a create's checks produce.
struct Checked {
    username: Option<String>,
    profile: Profile,
    fields: Arc<[CustomField]>,
    grants: Vec<(u64, Option<NaiveDate>)>,
}

/// Batches an import adds to each of its rows (the ones a row does not
/// name itself), and their expiry (`yyyy-mm-dd`). A row's own `expires` is
/// the expiry of the batches it names (the import's when it gives none);
/// a row that names no batch gives its expiry to the import's batches.
#[derive(Debug, Clone, Default)]
pub(crate) struct Joining {
    pub(crate) batches: Vec<String>,
    pub(crate) expires: Option<String>,
}

impl Joining {
    /// `reads` and the batch-name rows of these batches: what checking a
    /// row reads of them ([`will_import_with`]).
    pub(super) fn hinted(&self, reads: Reads) -> Reads {
        self.batches
            .iter()
            .filter_map(|b| fold_lookup(b.trim(), NAME_MAX))
            .fold(reads, |r, name| r.of(BATCH_BY_NAME, name.as_str()))
    }
}

/// What the creates of one transaction share (one create, or an import of
/// many): the custom field definitions and batch names, read once, and the
/// keys the users checked before claim (a row is checked against the store
/// and the rows before it without reading back what they wrote).
#[derive(Debug, Default)]
pub(super) struct Creating {
    fields: Option<Arc<[CustomField]>>,
    batches: std::collections::HashMap<String, Option<u64>>,
    claimed: Claimed,
    joining: Joining,
}

impl Creating {
    /// The creates of an import whose every row also joins `joining`.
    pub(super) fn joining(joining: &Joining) -> Creating {
        Creating {
            joining: joining.clone(),
            ..Creating::default()
        }
    }
}

/// The sign-in keys (folded username and email, phone) of users checked but
/// not yet stored.
#[derive(Debug, Default)]
pub(super) struct Claimed {
    usernames: std::collections::HashSet<String>,
    emails: std::collections::HashSet<String>,
    phones: std::collections::HashSet<String>,
}

impl Claimed {
    /// Whether `key` is claimed in unique index `def`.
    fn has(&self, def: crate::store::tables::Unique, key: &str) -> bool {
        match def.name {
            "user_by_username" => self.usernames.contains(key),
            "user_by_email" => self.emails.contains(key),
            _ => self.phones.contains(key),
        }
    }

    fn claim(&mut self, user: &User) {
        self.usernames.insert(fold(&user.username));
        self.emails.insert(fold(&user.profile.email));
        self.phones.insert(user.profile.phone.clone());
    }
}

/// A new user that passed every check, its memberships still to grant.
pub(super) struct Prepared {
    user: User,
    fields: Arc<[CustomField]>,
    /// Each batch to join, with the membership's expiry.
    grants: Vec<(u64, Option<NaiveDate>)>,
}

/// A created user, and the generated password when one was asked for (shown
/// this once; it is stored only as a hash).
#[derive(Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "uniffi", uniffi::export(Debug, Display))]
pub struct Created {
    /// The new user.
    pub user: UserView,
    /// The generated password, when `auto_generate_password` was set.
    pub generated_password: Option<String>,
}

crate::text::debug_without_secrets!(Created {
    user,
    generated_password secret,
});

/// What to list (T3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct UserQuery {
    /// Case-insensitive substring of the username or the email.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub q: Option<String>,
    /// Exact email, ignoring case.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub email: Option<String>,
    /// Which page.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub page: PageRequest,
    /// Embed each user's batches (the documents' view by email), where the
    /// caller may change users (D4: a user's batches need `change_user`);
    /// left out for a caller with `view_user` alone.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub with_batches: bool,
}

impl Admin {
    /// Creates a user (T1, T2): all field errors at once; with `batches`
    /// (names) the user joins them, optionally until `expires`. Nothing is
    /// written when anything is wrong.
    pub fn create_user(&self, input: NewUser, options: CreateOptions) -> Result<Created> {
        let granted = self.allow(Permission::new(Action::Add, Model::User))?;
        let policy = &self.config().password_policy;
        let generated = match options.auto_generate_password {
            true => Some(password::generate(policy)?),
            false => None,
        };
        let mut errors = FieldErrors::new();
        let username_given = input.username.as_deref().unwrap_or("");
        let hash = match generated.as_deref().or(input.password.as_deref()) {
            None => {
                errors.add("password", REQUIRED);
                None
            }
            Some(p) => {
                user::check_password(p, username_given, policy, &mut errors);
                // Hash before taking the write lock; wasted only when the
                // input turns out to be invalid.
                match errors.is_empty() {
                    true => {
                        let turn = self.institute.hashing_turn()?;
                        Some(password::hash(p, self.config().argon2, &turn)?)
                    }
                    false => None,
                }
            }
        };
        let notify = generated.as_deref().or(input
            .password
            .as_deref()
            .filter(|_| options.notify_credential));
        let user = granted.write(|txn| {
            will_import(txn, std::iter::once(&input))?;
            let hash = hash.clone().unwrap_or_default();
            let mut creating = Creating::default();
            let new =
                self.prepare_user(txn, &input, options, hash, &mut creating, errors.clone())?;
            let fields = new.fields.clone();
            let stored = self
                .store_users(txn, vec![new])?
                .pop()
                .ok_or_else(Error::not_found)?;
            if let Some(password) = notify {
                self.queue_credentials(txn, &stored, password)?;
            }
            Ok(UserView::new(stored, &fields))
        })?;
        Ok(Created {
            user,
            generated_password: generated,
        })
    }

    /// Checks `input` against every rule on `txn` and the users `creating`
    /// checked before it (which it joins): the user to store, or the
    /// problems. Nothing is written, so a refused row leaves `txn` as it was
    /// (import relies on this to apply many rows in one transaction).
    pub(super) fn prepare_user(
        &self,
        txn: &Txn<'_>,
        input: &NewUser,
        options: CreateOptions,
        password_hash: String,
        creating: &mut Creating,
        mut errors: FieldErrors,
    ) -> Result<Prepared> {
        let (today, now) = (self.today(), self.now_micros());
        let Checked {
            username,
            profile,
            fields,
            grants,
        } = self.check_new(txn, input, options, today, creating, &mut errors)?;
        let mut user = User {
            password_hash,
            profile,
            is_active: input.is_active.unwrap_or(true),
            is_blocked: input.is_blocked.unwrap_or(false),
            created: now,
            modified: now,
            password_changed: now,
            ..User::blank(0, &username.unwrap_or_default())
        };
        self.apply_access(txn, &mut user, &input.access, &mut errors)?;
        errors.into_result()?;
        creating.claimed.claim(&user);
        Ok(Prepared {
            user,
            fields,
            grants,
        })
    }

    /// Stores users checked by [`Admin::prepare_user`] with their
    /// memberships, table by table in key order: the users as stored.
    pub(super) fn store_users(&self, txn: &Txn<'_>, new: Vec<Prepared>) -> Result<Vec<User>> {
        let ids = write::next_ids(txn, Kind::User, new.len())?;
        let mut users = Vec::with_capacity(new.len());
        let mut grants = Vec::new();
        for (p, id) in new.into_iter().zip(ids) {
            let mut user = p.user;
            user.id = id;
            user.uuid = txn.new_uuid()?;
            grants.extend(p.grants.into_iter().map(|(b, expires)| (id, b, expires)));
            users.push(user);
        }
        write::put_new_users(txn, &users)?;
        self.grant_new(txn, &grants)?;
        Ok(users)
    }

    /// Every problem a [`create_user`](Admin::create_user) of `input` would
    /// report, without writing anything (for forms that check as they go).
    pub fn check_new_user(&self, input: &NewUser, options: CreateOptions) -> Result<FieldErrors> {
        self.allow(Permission::new(Action::Add, Model::User))?;
        let mut errors = FieldErrors::new();
        if !options.auto_generate_password {
            match input.password.as_deref() {
                None => errors.add("password", REQUIRED),
                Some(p) => {
                    let username = input.username.as_deref().unwrap_or("");
                    user::check_password(p, username, &self.config().password_policy, &mut errors)
                }
            }
        }
        self.store().reading(|txn| {
            let mut creating = Creating::default();
            self.check_new(
                txn,
                input,
                options,
                self.today(),
                &mut creating,
                &mut errors,
            )?;
            Ok(errors)
        })
    }

    /// Every problem an [`update_user`](Admin::update_user) of `patch` would
    /// report, without writing anything.
    pub fn check_user_patch(&self, id: u64, patch: &UserPatch) -> Result<FieldErrors> {
        self.allow(Permission::new(Action::Change, Model::User))?;
        self.store().reading(|txn| {
            let old = read::user(txn, id)?.ok_or_else(Error::not_found)?;
            let mut errors = FieldErrors::new();
            // Who may comes first, as in the update: a refused caller learns
            // nothing about the account (which names are taken, whether a
            // guess is its username) from the errors.
            self.patched(txn, &old, patch, self.today(), &mut errors)?;
            if let Some(p) = patch.password.as_deref() {
                let username = patch.username.as_deref().unwrap_or(&old.username);
                user::check_password(p, username, &self.config().password_policy, &mut errors);
            }
            Ok(errors)
        })
    }

    /// `old` with `patch` applied and every check of an update made, the
    /// caller's right to make it first (a superuser's account; A7 when the
    /// password or a control field changes); the field errors go to
    /// `errors`.
    fn patched(
        &self,
        s: &Snapshot<'_>,
        old: &User,
        patch: &UserPatch,
        today: NaiveDate,
        errors: &mut FieldErrors,
    ) -> Result<(User, Arc<[CustomField]>)> {
        self.may_manage(s, old)?;
        let (mut user, fields) = self.check_patch(s, old, patch, today, errors)?;
        self.apply_access(s, &mut user, &patch.access, errors)?;
        if patch.password.is_some() || changes_control(old, &user) {
            self.may_control(s, old)?;
        }
        Ok((user, fields))
    }

    /// The rules of a create that need the store, on snapshot `s`.
    fn check_new(
        &self,
        s: &Snapshot<'_>,
        input: &NewUser,
        options: CreateOptions,
        today: NaiveDate,
        creating: &mut Creating,
        errors: &mut FieldErrors,
    ) -> Result<Checked> {
        let last_name = input.profile.last_name.as_deref().unwrap_or("");
        if options.last_name_required && last_name.trim().is_empty() {
            errors.add("last_name", REQUIRED);
        }
        let fields = match &creating.fields {
            Some(fields) => fields.clone(),
            None => {
                let fields = read::custom_fields(s)?;
                creating.fields = Some(fields.clone());
                fields
            }
        };
        let username = user::check_username(input.username.as_deref(), true, errors);
        let mut profile = Profile::default();
        let ctx = Context {
            today,
            fields: &fields,
        };
        user::apply_profile(&mut profile, &input.profile, ctx, true, errors);
        check_unique(
            s,
            None,
            username.as_deref(),
            &profile,
            &creating.claimed,
            errors,
        )?;
        let joining = &creating.joining;
        let own = self.batches_named(s, &input.batches, &mut creating.batches, errors)?;
        let mut also = self.batches_named(s, &joining.batches, &mut creating.batches, errors)?;
        also.retain(|b| !own.contains(b));
        let given = input.expires.as_deref();
        let names_none = input.batches.is_empty();
        let dates_nothing = names_none && joining.batches.is_empty();
        if given.is_some() && dates_nothing {
            errors.add("expires", "An expiry date needs batches to apply to.");
        }
        let mut expiry = |text: Option<&str>| {
            let e = text?;
            rules::expires(e, today)
                .map_err(|m| errors.add("expires", m))
                .ok()
        };
        let row = if dates_nothing { None } else { expiry(given) };
        // The row's date is of the batches it names (of the import's when
        // it names none); the import's date is of the others, and of the
        // row's when the row gives none.
        let (mine, theirs) = match names_none {
            true => (also, Vec::new()),
            false => (own, also),
        };
        let import = match given.is_none() || !theirs.is_empty() {
            true => expiry(joining.expires.as_deref()),
            false => None,
        };
        let grants = mine
            .into_iter()
            .map(|b| (b, row.or(import)))
            .chain(theirs.into_iter().map(|b| (b, import)))
            .collect();
        Ok(Checked {
            username,
            profile,
            fields,
            grants,
        })
    }

    /// Applies `patch` to a copy of `old`, checking every rule on snapshot `s`.
    fn check_patch(
        &self,
        s: &Snapshot<'_>,
        old: &User,
        patch: &UserPatch,
        today: NaiveDate,
        errors: &mut FieldErrors,
    ) -> Result<(User, Arc<[CustomField]>)> {
        let fields = read::custom_fields(s)?;
        let mut user = old.clone();
        if let Some(name) = user::check_username(patch.username.as_deref(), false, errors) {
            user.username = name;
        }
        let ctx = Context {
            today,
            fields: &fields,
        };
        user::apply_profile(&mut user.profile, &patch.profile, ctx, false, errors);
        check_unique(
            s,
            Some(old),
            patch.username.as_deref(),
            &user.profile,
            &Claimed::default(),
            errors,
        )?;
        if let Some(active) = patch.is_active {
            user.is_active = active;
        }
        if let Some(blocked) = patch.is_blocked {
            user.is_blocked = blocked;
        }
        Ok((user, fields))
    }

    /// Lists users by id (T3), filtered by `q` and `email`.
    pub fn list_users(&self, query: &UserQuery) -> Result<Page<UserView>> {
        self.allow(Permission::new(Action::View, Model::User))?;
        self.store().reading(|txn| {
            // Read with the first view, after the users are found: on a
            // server the lookup then goes with the snapshot's beginning.
            let fields = std::cell::OnceCell::new();
            // A `q` longer than any username or email could fold to is in
            // none: an empty page, found without folding it.
            if query
                .q
                .as_deref()
                .is_some_and(|q| !crate::text::may_fold_to(q, EMAIL_MAX))
            {
                return self.page_of(query.page, Vec::<UserView>::new());
            }
            let q = query.q.as_deref().map(fold).filter(|q| !q.is_empty());
            // A user's batches are read with `change_user` (D4), as the
            // batches route reads them: a caller with `view_user` alone
            // gets the users without them.
            let with_batches = query.with_batches
                && self.may(txn, Permission::new(Action::Change, Model::User))?;
            let view = |user: User| -> Result<UserView> {
                let fields = match fields.get() {
                    Some(fields) => fields,
                    None => {
                        let loaded = read::custom_fields(txn)?;
                        fields.get_or_init(|| loaded)
                    }
                };
                let mut view = UserView::new(user, fields);
                if with_batches {
                    view.batches = Some(self.active_batches(txn, view.id)?);
                }
                Ok(view)
            };
            let matches_q = |user: &User| {
                q.as_deref()
                    .is_none_or(|q| search::q_holds(&user.username, &user.profile.email, q))
            };
            if let Some(email) = query.email.as_deref() {
                // The record the index names, read once.
                let found = match fold_lookup(email.trim(), EMAIL_MAX) {
                    Some(key) => read::lookup_user(txn, USER_BY_EMAIL, &key)?,
                    // Too long to be anyone's address.
                    None => None,
                }
                .filter(|u| matches_q(u));
                let users: Vec<User> = found.into_iter().collect();
                return self.page_of(query.page, users)?.try_map(view);
            }
            if let Some(q) = q.as_deref() {
                // Candidates from the n-gram index; a needle longer than a
                // gram is checked against each candidate's texts.
                let mut ids = search::candidates(txn, Field::Q, q)?;
                if !search::exact(q) {
                    let holds = read::users_keys_hold(txn, &ids, |[username, email, _]| {
                        search::q_holds(username, email, q)
                    })?;
                    let mut kept = Vec::with_capacity(ids.len());
                    for (id, holds) in ids.into_iter().zip(holds) {
                        match holds {
                            Some(true) => kept.push(id),
                            Some(false) => {}
                            None => {
                                return Err(read::index_mismatch(
                                    "user search",
                                    id,
                                    "which does not exist",
                                ));
                            }
                        }
                    }
                    ids = kept;
                }
                // Each hit returned is checked against its record; the
                // page's records are read at once.
                let page = self.page_of(query.page, ids)?;
                let mut records = read::records_of::<User>(txn, USERS, &page.items)?.into_iter();
                return page.try_map(|id| {
                    let user = records.next().flatten().ok_or_else(|| {
                        read::index_mismatch("user search", id, "which does not exist")
                    })?;
                    let view = view(user)?;
                    if search::q_holds(&view.username, &view.email, q) {
                        Ok(view)
                    } else {
                        Err(read::index_mismatch(
                            "user search",
                            id,
                            "which does not match",
                        ))
                    }
                });
            }
            let counted = read::counted(txn, USERS)?;
            let page = self.paginate(query.page, counted.total(), |offset, limit| {
                read::records_page::<User>(txn, &counted, offset, limit)
            })?;
            page.try_map(view)
        })
    }

    /// The id of the user with this username (ignoring case) or, failing
    /// that, this email (ignoring case). One index read: a damaged index
    /// entry (its seal does not match) is `corrupt_store`, never another
    /// user's id.
    pub fn find_user(&self, username_or_email: &str) -> Result<u64> {
        self.allow(Permission::new(Action::View, Model::User))?;
        self.store().reading(|txn| {
            let key =
                fold_lookup(username_or_email.trim(), EMAIL_MAX).ok_or_else(Error::not_found)?;
            match read::lookup(txn, USER_BY_USERNAME, &key)? {
                Some(id) => Ok(id),
                None => read::lookup(txn, USER_BY_EMAIL, &key)?.ok_or_else(Error::not_found),
            }
        })
    }

    /// User `id` (T4).
    pub fn get_user(&self, id: u64) -> Result<UserView> {
        self.allow(Permission::new(Action::View, Model::User))?;
        self.store().reading(|txn| {
            let user = read::user(txn, id)?.ok_or_else(Error::not_found)?;
            Ok(UserView::new(user, &read::custom_fields(txn)?))
        })
    }

    /// Changes user `id` (T5): present fields change, absent ones stay.
    pub fn update_user(&self, id: u64, patch: UserPatch) -> Result<UserView> {
        let granted = self.allow(Permission::new(Action::Change, Model::User))?;
        // Hash a new password before taking the write lock. The policy's
        // username rule needs the username, read from a snapshot here and
        // checked again below.
        let mut errors = FieldErrors::new();
        let mut username_after = String::new();
        let hash = match patch.password.as_deref() {
            None => None,
            Some(p) => {
                let current = self
                    .store()
                    .reading(|txn| read::user(txn, id)?.ok_or_else(Error::not_found))?;
                username_after = patch.username.clone().unwrap_or(current.username);
                let policy = &self.config().password_policy;
                user::check_password(p, &username_after, policy, &mut errors);
                match errors.is_empty() {
                    true => {
                        let turn = self.institute.hashing_turn()?;
                        Some(password::hash(p, self.config().argon2, &turn)?)
                    }
                    false => None,
                }
            }
        };
        let (today, now) = (self.today(), self.now_micros());
        // The password's problems, found once; each run of the write (a
        // server may run it again after a serialization failure) starts
        // from them, never from what an earlier run found on its snapshot.
        let found_first = errors;
        granted.write(|txn| {
            let mut errors = found_first.clone();
            write::will_change_user(txn, id)?;
            let old = read::user(txn, id)?.ok_or_else(Error::not_found)?;
            let (mut user, fields) = self.patched(txn, &old, &patch, today, &mut errors)?;
            if patch.password.is_some() && fold(&user.username) != fold(&username_after) {
                errors.add(
                    "username",
                    "The username changed while this update ran; try again.",
                );
            }
            // A managed user has no password (S3), as the Sunbird update
            // refuses one; one given an email or phone here stands alone.
            if patch.password.is_some()
                && !user.has_contact()
                && read::sunbird(txn, id)?.is_some_and(|side| side.managed_by.is_some())
            {
                errors.add(
                    "password",
                    "A managed user has no password: it signs in through its manager.",
                );
            }
            errors.into_result()?;
            if let Some(hash) = &hash {
                user.password_hash = hash.clone();
                user.password_changed = now;
            }
            // A new password, a deactivation or a block raises the credential
            // generation, which ends the sessions (A8); a user changing their
            // own password keeps the session doing it, re-stamped with the
            // new generation in this transaction.
            let ended = patch.password.is_some()
                || (old.is_active && !user.is_active)
                || (!old.is_blocked && user.is_blocked);
            if ended {
                user.credential_generation = old.credential_generation.wrapping_add(1);
            }
            if user != old {
                user.modified = now;
            }
            write::put_user(txn, Some(&old), &user)?;
            super::sunbird::after_update(txn, &old, &user)?;
            if ended {
                let own =
                    (self.caller == super::Caller::User(id) && user.is_active && !user.is_blocked)
                        .then_some(self.session)
                        .flatten();
                write::end_sessions(txn, id, own)?;
                if let Some(session) = own {
                    write::restamp_session(txn, session, user.credential_generation)?;
                }
            }
            Ok(UserView::new(user, &fields))
        })
    }

    /// Deletes user `id` and everything related to it (T6). Irreversible; the
    /// id is never given again, the username and email become free.
    pub fn delete_user(&self, id: u64) -> Result<()> {
        let granted = self.allow(Permission::new(Action::Delete, Model::User))?;
        granted.write(|txn| {
            write::will_delete_user(txn, id)?;
            let user = read::user(txn, id)?.ok_or_else(Error::not_found)?;
            self.may_control(txn, &user)?;
            let managed = read::related(txn, crate::store::tables::MANAGED_USERS, id)?;
            if !managed.is_empty() {
                return Err(Error::new(
                    crate::error::ErrorCode::Conflict,
                    format!(
                        "This user manages {} users (Sunbird managed accounts); delete them first.",
                        managed.len()
                    ),
                ));
            }
            write::delete_user(txn, &user)
        })
    }

    /// Applies the access fields (seed 003). Only a superuser (or the
    /// operator) may make or unmake superusers: anyone else with
    /// `change_user` could otherwise raise themselves to every permission.
    fn apply_access(
        &self,
        txn: &Snapshot<'_>,
        user: &mut User,
        access: &AccessInput,
        errors: &mut FieldErrors,
    ) -> Result<()> {
        if let Some(value) = access.is_superuser {
            if value != user.is_superuser && !self.caller_is_superuser(txn)? {
                return Err(super::auth::forbidden());
            }
            user.is_superuser = value;
        }
        if let Some(value) = access.is_staff {
            user.is_staff = value;
        }
        let held = self.caller_permissions(txn)?;
        let may_grant = |perms: &[u32]| {
            held.as_ref()
                .is_none_or(|h| perms.iter().all(|p| h.contains(p)))
        };
        if let Some(ids) = &access.groups {
            let mut groups = Vec::with_capacity(ids.len());
            let mut missing = None;
            for &g in ids {
                match read::group(txn, g)? {
                    Some(group) if !user.groups.contains(&g) && !may_grant(&group.permissions) => {
                        return Err(super::auth::forbidden());
                    }
                    Some(_) => groups.push(g),
                    None => {
                        missing.get_or_insert(g);
                    }
                }
            }
            if let Some(g) = missing {
                // The first only, as DRF's `ManyRelatedField` answers.
                errors.add(
                    "groups",
                    format!("Invalid pk \"{g}\" - object does not exist."),
                );
            }
            groups.sort_unstable();
            groups.dedup();
            user.groups = groups;
        }
        if let Some(ids) = &access.user_permissions {
            let wanted = crate::domain::group::permission_ids("user_permissions", ids, errors);
            let added: Vec<u32> = wanted
                .iter()
                .copied()
                .filter(|p| !user.permissions.contains(p))
                .collect();
            if !may_grant(&added) {
                return Err(super::auth::forbidden());
            }
            user.permissions = wanted;
        }
        Ok(())
    }

    /// Fails unless the caller may change or delete `target`: only a
    /// superuser (or the operator) may touch a superuser's account, or a
    /// holder of `change_user` could take it over by setting its password.
    fn may_manage(&self, s: &Snapshot<'_>, target: &User) -> Result<()> {
        if target.is_superuser && !self.caller_is_superuser(s)? {
            return Err(super::auth::forbidden());
        }
        Ok(())
    }

    /// Whether the caller is the operator or an active superuser.
    pub(super) fn caller_is_superuser(&self, s: &Snapshot<'_>) -> Result<bool> {
        match self.caller {
            super::Caller::Operator => Ok(true),
            super::Caller::User(_) => Ok(self.live_user(s)?.is_superuser),
        }
    }

    /// Queues the credentials messages of `user` (T2, X3).
    fn queue_credentials(&self, txn: &Txn<'_>, user: &User, password: &str) -> Result<()> {
        let p = &user.profile;
        for (channel, to, subject, body) in
            credentials(&user.username, password, &p.email, &p.phone)
        {
            let message = Message {
                id: write::next_id(txn, Kind::Message)?,
                user: user.id,
                channel,
                to,
                subject,
                body,
                created: self.now_micros(),
            };
            write::put_message(txn, &message)?;
        }
        Ok(())
    }

    /// The user's ordinary batches that have not expired, newest batch first.
    pub(super) fn active_batches(&self, s: &Snapshot<'_>, user: u64) -> Result<Vec<BatchView>> {
        let today = self.today();
        let mut out = Vec::new();
        for (batch, sub) in read::memberships_of(s, user)?.into_iter().rev() {
            if sub.is_expired(today) {
                continue;
            }
            match read::batch(s, batch)? {
                Some(b) if !b.is_local() => out.push(BatchView::from(&b)),
                _ => {}
            }
        }
        Ok(out)
    }
}

/// Whether `new` differs from `old` in anything that controls the account
/// (SPEC A7): everything but the profile fields that grant nothing (names,
/// address, photo, birth date, gender, custom fields) and the modification
/// time. Written by exclusion, so that a field added to [`User`] later is
/// guarded until someone decides it grants nothing.
fn changes_control(old: &User, new: &User) -> bool {
    let mut guarded = new.clone();
    guarded.profile = Profile {
        email: new.profile.email.clone(),
        phone: new.profile.phone.clone(),
        ..old.profile.clone()
    };
    guarded.modified = old.modified;
    guarded != *old
}

/// Tells the backend the keys a create or an import of `users` will read
/// before it stores them: what [`check_unique`] reads (their folded
/// usernames and emails in both sign-in indexes, their phones), their
/// batches by name, what storing users reads besides their own rows (id
/// counters, the feed's origin), and the custom field definitions, whole.
/// An import's thousands of reads then go in one where each read costs a
/// round trip. A key the import ends up not reading (a row refused
/// earlier) is only fetched for nothing.
pub(super) fn will_import<'u>(
    txn: &Txn<'_>,
    users: impl Iterator<Item = &'u NewUser>,
) -> Result<()> {
    will_import_with(txn, users, Reads::default())
}

/// [`will_import`], with the caller's own `reads` in the same message.
pub(super) fn will_import_with<'u>(
    txn: &Txn<'_>,
    users: impl Iterator<Item = &'u NewUser>,
    reads: Reads,
) -> Result<()> {
    let mut names = Vec::new();
    let mut phones = Vec::new();
    let mut batches = Vec::new();
    let mut count = 0;
    for user in users {
        count += 1;
        names.extend(user.username.as_deref().map(fold));
        names.extend(user.profile.email.as_deref().map(fold));
        phones.extend(user.profile.phone.clone());
        let named = user.batches.iter();
        batches.extend(named.filter_map(|b| fold_lookup(b.trim(), NAME_MAX)));
    }
    for keys in [&mut names, &mut phones, &mut batches] {
        keys.retain(|k| !k.is_empty());
        keys.sort_unstable();
        keys.dedup();
    }
    let reads = names.iter().fold(reads, |r, name| {
        r.of(USER_BY_USERNAME, name.as_str())
            .of(USER_BY_EMAIL, name.as_str())
            .of(USER_BY_PHONE, name.as_str())
    });
    let reads = phones.iter().fold(reads, |r, phone| {
        r.of(USER_BY_PHONE, phone.as_str())
            .of(USER_BY_USERNAME, fold(phone).as_str())
    });
    let reads = batches
        .iter()
        .fold(reads, |r, name| r.of(BATCH_BY_NAME, name.as_str()));
    // The custom field definitions, which every row is checked against,
    // come with those reads.
    txn.will_scan(&[crate::store::tables::CUSTOM_FIELDS.name])?;
    // The rows of the first few new users are predicted; a bulk import
    // reads those by chunk.
    let new = if count <= PREDICTED { count } else { 0 };
    txn.will_read(&write::will_create_users(txn, reads, new)?)
}

/// Users created at once whose new rows an import hints with its checks
/// ([`will_import_with`]): a create, or a small import. No more than the
/// store keeps unmerged, which read no search postings.
const PREDICTED: usize = 8;
const _: () = assert!(PREDICTED <= crate::store::search::FEW);

/// The phone number a username (folded) reads as, when it is not written
/// as that number: such a username is refused (a `loginId` is looked up as
/// a phone in its phone form, so `+91 98765 43210` would shadow
/// `9876543210`).
pub(super) fn phone_form(name: &str) -> Option<String> {
    rules::phone(name).ok().filter(|p| p != name)
}

/// Adds an error for each of `username`, the email and the phone that another
/// user (not `me`, the stored record of the user being changed) already
/// has. A key `me` keeps unchanged is not read again: it passed these
/// checks when it was set, and every later key of another user was checked
/// against it.
pub(super) fn check_unique(
    s: &Snapshot<'_>,
    me: Option<&User>,
    username: Option<&str>,
    profile: &Profile,
    claimed: &Claimed,
    errors: &mut FieldErrors,
) -> Result<()> {
    let id = me.map(|u| u.id);
    let kept = |def, key: &str| me.is_some_and(|u| read::holds_key(u, def, key));
    let taken = |def, key: &str| -> Result<bool> {
        Ok(!key.is_empty()
            && (claimed.has(def, key)
                || read::lookup(s, def, key)?.is_some_and(|other| Some(other) != id)))
    };
    // Sign-in takes a username or an email, so the two share one namespace:
    // a username may not be another user's email, nor an email another
    // user's username, or one user could capture the other's sign-ins.
    // Sunbird's `loginId` takes a phone too (after the username and the
    // email): a username may not be another user's phone either, nor a
    // phone another user's username, or a lookup of the one would find
    // the other.
    // A `loginId` is looked up as a phone in its phone form (`+91 98765
    // 43210` is `9876543210`), so a username that reads as a phone number
    // is written in that form, or the exact comparison of the two
    // namespaces would miss `+919876543210` shadowing `9876543210`.
    if let Some(name) = username.map(fold)
        && !errors.has("username")
        && !kept(USER_BY_USERNAME, &name)
    {
        let phone_form = phone_form(&name);
        if taken(USER_BY_USERNAME, &name)? {
            errors.add("username", "A user with that username already exists.");
        } else if taken(USER_BY_EMAIL, &name)? {
            errors.add("username", "This username is another user's email address.");
        } else if let Some(number) = phone_form {
            errors.add(
                "username",
                format!("A username that is a phone number is written as the number: {number}."),
            );
        } else if taken(USER_BY_PHONE, &name)? {
            errors.add("username", "This username is another user's phone number.");
        }
    }
    let email = fold(&profile.email);
    if !errors.has("email") && !kept(USER_BY_EMAIL, &email) {
        if taken(USER_BY_EMAIL, &email)? {
            errors.add("email", "A user with that email already exists.");
        } else if taken(USER_BY_USERNAME, &email)? {
            errors.add("email", "This email address is another user's username.");
        }
    }
    let phone = &profile.phone;
    if !errors.has("phone") && !kept(USER_BY_PHONE, phone) {
        if taken(USER_BY_PHONE, phone)? {
            errors.add("phone", "A user with that phone number already exists.");
        } else if taken(USER_BY_USERNAME, &fold(phone))? {
            errors.add("phone", "This phone number is another user's username.");
        }
    }
    Ok(())
}

impl<T> Page<T> {
    /// The same page with its items mapped by a fallible function.
    pub fn try_map<U>(self, f: impl FnMut(T) -> Result<U>) -> Result<Page<U>> {
        let items = self.items.into_iter().map(f).collect::<Result<Vec<U>>>()?;
        Ok(Page {
            count: self.count,
            page: self.page,
            per_page: self.per_page,
            items,
        })
    }
}
