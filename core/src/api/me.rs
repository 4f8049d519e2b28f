//! Self-service (D4): a signed-in user reads and edits their own profile
//! and changes their own password. Only a live session is needed.

use super::{Admin, Caller};
use crate::auth::password;
use crate::domain::user::{self, Context, UserPatch, UserView};
use crate::error::{Error, ErrorCode, FieldErrors, Result};
use crate::store::{read, write};

impl Admin {
    /// The caller's own user.
    pub fn me(&self) -> Result<UserView> {
        self.store().reading(|txn| {
            let user = self.live_user(txn)?;
            Ok(UserView::new(user, &read::custom_fields(txn)?))
        })
    }

    /// Changes the caller's own profile. Username, password, flags, groups
    /// and permissions in `patch` are ignored, like other read-only fields.
    pub fn update_me(&self, patch: UserPatch) -> Result<UserView> {
        let profile_only = UserPatch {
            profile: patch.profile,
            ..Default::default()
        };
        let (today, now) = (self.today(), self.now_micros());
        self.write(|txn| {
            let old = self.live_user(txn)?;
            let fields = read::custom_fields(txn)?;
            let mut errors = FieldErrors::new();
            let mut me = old.clone();
            let ctx = Context {
                today,
                fields: &fields,
            };
            user::apply_profile(
                &mut me.profile,
                &profile_only.profile,
                ctx,
                false,
                &mut errors,
            );
            super::users::check_unique(
                txn,
                Some(&old),
                None,
                &me.profile,
                &Default::default(),
                &mut errors,
            )?;
            errors.into_result()?;
            if me != old {
                me.modified = now;
            }
            write::put_user(txn, Some(&old), &me)?;
            super::sunbird::after_update(txn, &old, &me)?;
            Ok(UserView::new(me, &fields))
        })
    }

    /// Changes the caller's own password: the old one must match, the new
    /// one meet the policy. This session goes on; the others end.
    pub fn change_my_password(&self, old_password: &str, new_password: &str) -> Result<()> {
        let (Caller::User(_), Some(session)) = (self.caller, self.session) else {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "Only a signed-in user has a password to change here.",
            ));
        };
        let current = self.store().reading(|txn| self.live_user(txn))?;
        let now = self.now_micros();
        // Guesses of the old password count toward the lock-out like failed
        // sign-ins, so a stolen session cannot try passwords without end.
        let locked = |user: &crate::domain::user::User| -> Result<()> {
            let mut refusal = FieldErrors::new();
            if user.locked_until.is_some_and(|t| t > now) {
                refusal.add("old_password", "Too many failed attempts: try again later.");
            }
            refusal.into_result()
        };
        locked(&current)?;
        let mut errors = FieldErrors::new();
        let turn = self.institute.hashing_turn()?;
        let stored = &current.password_hash;
        if !password::verify(old_password, stored, &turn)
            && !super::auth::verify_legacy(old_password, stored, &turn)
        {
            self.count_failed_sign_in(current.id)?;
            errors.add("old_password", "Your old password was entered incorrectly.");
        }
        let policy = &self.config().password_policy;
        if let Err(problems) =
            crate::domain::rules::password(new_password, &current.username, policy)
        {
            for p in problems {
                errors.add("new_password", p);
            }
        }
        errors.into_result()?;
        let hash = password::hash(new_password, self.config().argon2, &turn)?;
        drop(turn);
        self.write(|txn| {
            let old = self.live_user(txn)?;
            // Decided again here, as a sign-in is: a guess that raced
            // others past the lock-out's first test changes nothing once
            // they have locked the account. (A password changed meanwhile
            // ended this session: `live_user` refuses it.)
            locked(&old)?;
            let user = crate::domain::user::User {
                password_hash: hash.clone(),
                password_changed: now,
                modified: now,
                credential_generation: old.credential_generation.wrapping_add(1),
                // The old password was proved, as a sign-in proves it:
                // the run of failures before it ends.
                failed_logins: 0,
                ..old.clone()
            };
            write::put_user(txn, Some(&old), &user)?;
            write::end_sessions(txn, user.id, Some(session))?;
            write::restamp_session(txn, session, user.credential_generation)
        })
    }
}
