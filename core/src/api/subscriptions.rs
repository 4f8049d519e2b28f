//! A user's batches, courses and subscriptions (T7-T10): all of them are
//! memberships, and a membership is a subscription that may expire.

use super::{Admin, invalid_pk};
use crate::auth::permissions::{Action, Model, Permission};
use crate::domain::course::CourseView;
use crate::domain::rules::{self, NAME_MAX};
use crate::domain::user::BatchRef;
use crate::domain::{BatchView, Page, PageRequest, Subscription, SubscriptionView};
use crate::error::{Error, FieldErrors, Result};
use crate::store::tables::{BATCH_BY_NAME, BATCH_COURSES, Kind};
use crate::store::{Snapshot, Txn, read, write};
use crate::text::fold_lookup;
use chrono::NaiveDate;
use std::collections::BTreeSet;

/// How a grant treats the expiry of a membership.
#[derive(Debug, Clone, Copy)]
pub(super) enum Grant {
    /// Adding batches or courses: an existing membership keeps its expiry; an
    /// expired one is revived without expiry; a new one never expires.
    Keep,
    /// Creating a user or adding subscriptions: the membership expires at
    /// this date (`None`: never), whether new or not.
    Until(Option<NaiveDate>),
}

impl Admin {
    /// The user's ordinary batches, newest first (T7).
    pub fn user_batches(&self, user: u64, page: PageRequest) -> Result<Page<BatchRef>> {
        self.allow(Permission::new(Action::Change, Model::User))?;
        self.store().reading(|txn| {
            self.require_user(txn, user)?;
            let refs = batch_refs(self.active_batches(txn, user)?);
            self.page_of(page, refs)
        })
    }

    /// Adds the user to batches by id (T7); returns all the user's batches.
    /// An unknown id changes nothing.
    pub fn add_user_batches(&self, user: u64, batches: &[u64]) -> Result<Vec<BatchRef>> {
        let granted = self.allow(Permission::new(Action::Change, Model::User))?;
        granted.write(|txn| {
            self.require_user(txn, user)?;
            self.ordinary_batches(txn, "batches", batches)?;
            for batch in dedup(batches) {
                self.grant(txn, user, batch, Grant::Keep)?;
            }
            Ok(batch_refs(self.active_batches(txn, user)?))
        })
    }

    /// Removes the user from batches by id (T7). An unknown id changes nothing.
    pub fn remove_user_batches(&self, user: u64, batches: &[u64]) -> Result<()> {
        let granted = self.allow(Permission::new(Action::Change, Model::User))?;
        granted.write(|txn| {
            self.require_user(txn, user)?;
            self.ordinary_batches(txn, "batches", batches)?;
            for batch in dedup(batches) {
                if let Some(sub) = read::membership(txn, user, batch)? {
                    write::delete_membership(txn, user, batch, &sub)?;
                }
            }
            Ok(())
        })
    }

    /// The user's courses: those of all their active batches, by id (T8).
    pub fn user_courses(&self, user: u64, page: PageRequest) -> Result<Page<CourseView>> {
        self.allow(Permission::new(Action::Change, Model::User))?;
        self.store().reading(|txn| {
            self.require_user(txn, user)?;
            let courses = self.courses_of(txn, user)?;
            self.page_of(page, courses)
        })
    }

    /// Grants courses directly (T8): memberships of their hidden batches.
    /// Returns the first page of the user's courses.
    pub fn add_user_courses(&self, user: u64, courses: &[u64]) -> Result<Page<CourseView>> {
        let granted = self.allow(Permission::new(Action::Change, Model::User))?;
        let all = granted.write(|txn| {
            self.require_user(txn, user)?;
            for course in self.courses_by_id(txn, courses)? {
                self.grant(txn, user, course.local_batch, Grant::Keep)?;
            }
            self.courses_of(txn, user)
        })?;
        self.page_of(PageRequest::default(), all)
    }

    /// Ends direct grants of courses (T8). A course the user reaches through
    /// an ordinary batch stays visible through it.
    pub fn remove_user_courses(&self, user: u64, courses: &[u64]) -> Result<()> {
        let granted = self.allow(Permission::new(Action::Change, Model::User))?;
        granted.write(|txn| {
            self.require_user(txn, user)?;
            for course in self.courses_by_id(txn, courses)? {
                if let Some(sub) = read::membership(txn, user, course.local_batch)? {
                    write::delete_membership(txn, user, course.local_batch, &sub)?;
                }
            }
            Ok(())
        })
    }

    /// The user's subscriptions that have not expired, hidden course batches
    /// included, newest first (T9).
    pub fn user_subscriptions(
        &self,
        user: u64,
        page: PageRequest,
    ) -> Result<Page<SubscriptionView>> {
        self.allow(Permission::new(Action::Change, Model::User))?;
        self.store().reading(|txn| {
            self.require_user(txn, user)?;
            let today = self.today();
            let mut subs = Vec::new();
            for (batch, sub) in read::memberships_of(txn, user)? {
                if !sub.is_expired(today) {
                    subs.push(self.subscription_view(txn, batch, &sub)?);
                }
            }
            subs.sort_by_key(|s| std::cmp::Reverse(s.id));
            self.page_of(page, subs)
        })
    }

    /// Subscribes the user to batches by id until `expires` (`yyyy-mm-dd`,
    /// today or later; `None`: no expiry), creating or updating each
    /// subscription (T9). Returns the affected subscriptions in request order.
    pub fn add_user_subscriptions(
        &self,
        user: u64,
        batches: &[u64],
        expires: Option<&str>,
    ) -> Result<Vec<SubscriptionView>> {
        let granted = self.allow(Permission::new(Action::Change, Model::User))?;
        let today = self.today();
        let expires = match expires {
            None => None,
            Some(e) => Some(rules::expires(e, today).map_err(|m| Error::field("expires", m))?),
        };
        granted.write(|txn| {
            write::will_grant(txn, user, batches)?;
            self.require_user(txn, user)?;
            for &id in batches {
                if read::batch(txn, id)?.is_none() {
                    return Err(invalid_pk("batches", id));
                }
            }
            let mut out = Vec::new();
            for batch in dedup(batches) {
                let sub = self.grant(txn, user, batch, Grant::Until(expires))?;
                out.push(self.subscription_view(txn, batch, &sub)?);
            }
            Ok(out)
        })
    }

    /// Deletes every subscription that has expired (T10); returns how many.
    pub fn purge_expired(&self) -> Result<u64> {
        let granted = self.allow(Permission::new(Action::Delete, Model::Subscription))?;
        let (today, now) = (self.today(), self.now_micros());
        // Expired sessions go too, silently: the answer's documented shape
        // counts memberships only.
        granted.write(|txn| {
            write::end_all_expired_sessions(txn, now)?;
            write::purge_expired(txn, today)
        })
    }

    /// Creates or updates the membership of `user` in `batch`.
    pub(super) fn grant(
        &self,
        txn: &Txn<'_>,
        user: u64,
        batch: u64,
        how: Grant,
    ) -> Result<Subscription> {
        let now = self.now_micros();
        let old = read::membership(txn, user, batch)?;
        let expires = match (&old, how) {
            (_, Grant::Until(date)) => date,
            (Some(sub), Grant::Keep) if !sub.is_expired(self.today()) => return Ok(sub.clone()),
            (_, Grant::Keep) => None,
        };
        let sub = match &old {
            Some(sub) if sub.expires == expires => return Ok(sub.clone()),
            Some(sub) => Subscription {
                expires,
                modified: now,
                ..sub.clone()
            },
            None => {
                let mut new = self.grant_new(txn, &[(user, batch, expires)])?;
                return new.pop().ok_or_else(Error::not_found);
            }
        };
        write::put_membership(txn, user, batch, old.as_ref(), &sub)?;
        Ok(sub)
    }

    /// Creates memberships (user, batch, expiry) that do not exist yet.
    pub(super) fn grant_new(
        &self,
        txn: &Txn<'_>,
        new: &[(u64, u64, Option<NaiveDate>)],
    ) -> Result<Vec<Subscription>> {
        let now = self.now_micros();
        let ids = write::next_ids(txn, Kind::Subscription, new.len())?;
        let mut rows = Vec::with_capacity(new.len());
        for ((user, batch, expires), id) in new.iter().zip(ids) {
            let sub = Subscription {
                id,
                uuid: crate::random::uuid()?,
                expires: *expires,
                created: now,
                modified: now,
            };
            rows.push((*user, *batch, sub));
        }
        write::put_new_memberships(txn, &rows)?;
        Ok(rows.into_iter().map(|(_, _, sub)| sub).collect())
    }

    /// Resolves batch names (ignoring case) to ids, reporting every unknown
    /// name (SPEC T1: the error names them), each once however often it is
    /// given.
    pub(super) fn batches_named(
        &self,
        s: &Snapshot<'_>,
        names: &[String],
        known: &mut std::collections::HashMap<String, Option<u64>>,
        errors: &mut FieldErrors,
    ) -> Result<Vec<u64>> {
        let mut ids = Vec::new();
        let mut reported = std::collections::HashSet::new();
        for name in names {
            // A name too long to be any batch's names none, unfolded.
            let key = fold_lookup(name.trim(), NAME_MAX);
            let found = match &key {
                None => None,
                Some(key) => match known.get(key) {
                    Some(found) => *found,
                    None => {
                        let found = read::lookup(s, BATCH_BY_NAME, key)?;
                        known.insert(key.clone(), found);
                        found
                    }
                },
            };
            match found {
                Some(id) if !ids.contains(&id) => ids.push(id),
                Some(_) => {}
                None if reported.insert(key.unwrap_or_else(|| name.clone())) => {
                    errors.add("batches", format!("Batch \"{name}\" does not exist."));
                }
                None => {}
            }
        }
        Ok(ids)
    }

    pub(super) fn require_user(&self, s: &Snapshot<'_>, user: u64) -> Result<()> {
        match read::user(s, user)? {
            Some(_) => Ok(()),
            None => Err(Error::not_found()),
        }
    }

    /// Fails unless every id names an ordinary batch.
    pub(super) fn ordinary_batches(
        &self,
        s: &Snapshot<'_>,
        field: &str,
        ids: &[u64],
    ) -> Result<()> {
        for &id in ids {
            if read::batch(s, id)?.is_none_or(|b| b.is_local()) {
                return Err(invalid_pk(field, id));
            }
        }
        Ok(())
    }

    fn courses_by_id(
        &self,
        s: &Snapshot<'_>,
        ids: &[u64],
    ) -> Result<Vec<crate::domain::course::Course>> {
        let mut found = Vec::new();
        for id in dedup(ids) {
            match read::course(s, id)? {
                Some(c) => found.push(c),
                None => return Err(invalid_pk("courses", id)),
            }
        }
        Ok(found)
    }

    /// The courses of all the user's active batches, by id.
    fn courses_of(&self, s: &Snapshot<'_>, user: u64) -> Result<Vec<CourseView>> {
        let today = self.today();
        let mut ids = BTreeSet::new();
        for (batch, sub) in read::memberships_of(s, user)? {
            if !sub.is_expired(today) {
                ids.extend(read::related(s, BATCH_COURSES, batch)?);
            }
        }
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(course) = read::course(s, id)? {
                out.push(CourseView::from(&course));
            }
        }
        Ok(out)
    }

    fn subscription_view(
        &self,
        s: &Snapshot<'_>,
        batch: u64,
        sub: &Subscription,
    ) -> Result<SubscriptionView> {
        let batch = read::batch(s, batch)?.ok_or_else(|| {
            Error::new(crate::ErrorCode::Internal, "membership of a missing batch")
        })?;
        Ok(SubscriptionView {
            id: sub.id,
            uuid: crate::domain::uuid_string(sub.uuid),
            batch: BatchView::from(&batch),
            expires: sub.expires,
        })
    }
}

fn batch_refs(batches: Vec<BatchView>) -> Vec<BatchRef> {
    batches
        .into_iter()
        .map(|b| BatchRef {
            id: b.id,
            name: b.name,
        })
        .collect()
}

/// `ids` without repeats, in first-seen order.
fn dedup(ids: &[u64]) -> Vec<u64> {
    let mut seen = BTreeSet::new();
    ids.iter().copied().filter(|id| seen.insert(*id)).collect()
}
