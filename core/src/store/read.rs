//! Reads, generic over [`Source`] so writes use the same code for their checks.
//!
//! Every function here runs inside [`contain`] (a panic of the storage
//! engine on a damaged page becomes `corrupt_store`), decodes records through
//! their verified frames, and checks every index hit against the record it
//! points to: an index entry whose record is missing or carries another key
//! is `corrupt_store`, never someone else's record.

use super::tables::*;
use super::{Source, contain, decode, decode_membership, decode_row};
use crate::domain::Batch;
use crate::domain::Subscription;
use crate::domain::course::Course;
use crate::domain::custom_field::{self, CustomField};
use crate::domain::group::Group;
use crate::domain::rules::fold;
use crate::domain::user::User;
use crate::error::{Error, ErrorCode, Result};
use redb::{ReadableTable, ReadableTableMetadata, TableHandle};
use serde::de::DeserializeOwned;

/// The record `id` of table `def`.
pub(crate) fn record<T: DeserializeOwned>(
    s: &impl Source,
    def: Records,
    id: u64,
) -> Result<Option<T>> {
    contain(s, || match s.table(def)?.get(id)? {
        Some(bytes) => Ok(Some(decode(def, id, bytes.value())?)),
        None => Ok(None),
    })
}

/// Every record of table `def`, ascending id.
pub(crate) fn records<T: DeserializeOwned>(s: &impl Source, def: Records) -> Result<Vec<T>> {
    contain(s, || {
        let mut out = Vec::new();
        for row in s.table(def)?.iter()? {
            out.push(decode_row(def, row?)?);
        }
        Ok(out)
    })
}

/// How many records table `def` holds.
pub(crate) fn count(s: &impl Source, def: Records) -> Result<u64> {
    contain(s, || Ok(s.table(def)?.len()?))
}

/// The ids of at most `limit` records of table `def` from position
/// `offset`, ascending.
pub(crate) fn ids_page(
    s: &impl Source,
    def: Records,
    offset: u64,
    limit: usize,
) -> Result<Vec<u64>> {
    contain(s, || {
        let mut out = Vec::with_capacity(limit);
        let table = s.table(def)?;
        for row in table.iter()?.skip(offset as usize).take(limit) {
            out.push(row?.0.value());
        }
        Ok(out)
    })
}

/// User `id`.
pub(crate) fn user(s: &impl Source, id: u64) -> Result<Option<User>> {
    record(s, USERS, id)
}

/// Batch `id`.
pub(crate) fn batch(s: &impl Source, id: u64) -> Result<Option<Batch>> {
    record(s, BATCHES, id)
}

/// Course `id`.
pub(crate) fn course(s: &impl Source, id: u64) -> Result<Option<Course>> {
    record(s, COURSES, id)
}

/// Custom field definition `id`.
pub(crate) fn custom_field(s: &impl Source, id: u64) -> Result<Option<CustomField>> {
    record(s, CUSTOM_FIELDS, id)
}

/// The error for an index entry that does not match its record.
pub(crate) fn index_mismatch(index: &str, id: u64, why: &str) -> Error {
    Error::new(
        ErrorCode::Corrupt,
        format!(
            "the store is damaged: the {index} index names record {id}, {why}; run `roster check`"
        ),
    )
}

/// The key record `id` should have in unique index `def` (empty: none), or
/// `None` when the record does not exist.
pub(crate) fn index_key(s: &impl Source, def: Unique, id: u64) -> Result<Option<String>> {
    Ok(match def.name() {
        "user_by_username" => user(s, id)?.map(|u| fold(&u.username)),
        "user_by_email" => user(s, id)?.map(|u| fold(&u.profile.email)),
        "user_by_phone" => user(s, id)?.map(|u| u.profile.phone),
        "batch_by_name" => batch(s, id)?.map(|b| {
            if b.is_local() {
                String::new()
            } else {
                fold(&b.name)
            }
        }),
        "course_by_slug" => course(s, id)?.map(|c| c.slug),
        "custom_field_by_name" => custom_field(s, id)?.map(|f| custom_field::name_key(&f.name)),
        "group_by_name" => group(s, id)?.map(|g| fold(&g.name)),
        other => {
            return Err(Error::new(
                ErrorCode::Internal,
                format!("{other} is not a unique index"),
            ));
        }
    })
}

/// Checks that the entry `key -> id` of unique index `def` matches the
/// record it points to.
fn verify_hit(s: &impl Source, def: Unique, key: &str, id: u64) -> Result<()> {
    match index_key(s, def, id)? {
        None => Err(index_mismatch(def.name(), id, "which does not exist")),
        Some(own) if own != key => Err(index_mismatch(
            def.name(),
            id,
            "whose own key differs from the entry",
        )),
        Some(_) => Ok(()),
    }
}

/// The id under `key` in unique index `def`, checked against its record.
pub(crate) fn lookup(s: &impl Source, def: Unique, key: &str) -> Result<Option<u64>> {
    let id = contain(s, || Ok(s.table(def)?.get(key)?.map(|v| v.value())))?;
    if let Some(id) = id {
        verify_hit(s, def, key, id)?;
    }
    Ok(id)
}

/// Every custom field definition, by id.
pub(crate) fn custom_fields(s: &impl Source) -> Result<Vec<CustomField>> {
    records(s, CUSTOM_FIELDS)
}

/// The membership of `user` in `batch`, expired or not.
pub(crate) fn membership(s: &impl Source, user: u64, batch: u64) -> Result<Option<Subscription>> {
    contain(s, || match s.table(MEMBERSHIPS)?.get((user, batch))? {
        Some(bytes) => Ok(Some(decode_membership((user, batch), bytes.value())?)),
        None => Ok(None),
    })
}

/// Every membership of `user` as (batch id, subscription), ascending batch id,
/// expired ones included.
pub(crate) fn memberships_of(s: &impl Source, user: u64) -> Result<Vec<(u64, Subscription)>> {
    contain(s, || {
        let table = s.table(MEMBERSHIPS)?;
        let mut out = Vec::new();
        for row in table.range((user, 0)..=(user, u64::MAX))? {
            let (key, value) = row?;
            out.push((
                key.value().1,
                decode_membership(key.value(), value.value())?,
            ));
        }
        Ok(out)
    })
}

/// The record table the second members of relation `def` name.
fn target_of(def: Pairs) -> Records {
    match def.name() {
        "course_batches" => BATCHES,
        "batch_courses" => COURSES,
        "user_outbox" => OUTBOX,
        // batch_members, field_users, group_users
        _ => USERS,
    }
}

/// The second members of the pairs whose first member is `first`,
/// ascending; each must name an existing record (else `corrupt_store`).
pub(crate) fn related(s: &impl Source, def: Pairs, first: u64) -> Result<Vec<u64>> {
    contain(s, || {
        let table = s.table(def)?;
        let target = s.table(target_of(def))?;
        let mut out = Vec::new();
        for row in table.range((first, 0)..=(first, u64::MAX))? {
            let id = row?.0.value().1;
            if target.get(id)?.is_none() {
                return Err(Error::new(
                    ErrorCode::Corrupt,
                    format!(
                        "the store is damaged: {} links {first} to missing record {id}; run `roster check`",
                        def.name()
                    ),
                ));
            }
            out.push(id);
        }
        Ok(out)
    })
}

/// The ids of every key of unique index `def` that contains `needle`.
/// Not checked against their records here (that would load every hit of a
/// short search): a caller checks each record it returns, see
/// `Admin::list_users`.
pub(crate) fn ids_with_key_containing(
    s: &impl Source,
    def: Unique,
    needle: &str,
) -> Result<Vec<u64>> {
    contain(s, || {
        let table = s.table(def)?;
        let mut out = Vec::new();
        for row in table.iter()? {
            let (key, id) = row?;
            if key.value().contains(needle) {
                out.push(id.value());
            }
        }
        Ok(out)
    })
}

/// Group `id`.
pub(crate) fn group(s: &impl Source, id: u64) -> Result<Option<Group>> {
    record(s, GROUPS, id)
}
