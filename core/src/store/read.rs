//! Reads, generic over [`Source`] so writes use the same code for their checks.

use super::tables::*;
use super::{Source, decode};
use crate::domain::Batch;
use crate::domain::Subscription;
use crate::domain::course::Course;
use crate::domain::custom_field::CustomField;
use crate::domain::user::User;
use crate::error::Result;
use redb::ReadableTable;
use serde::de::DeserializeOwned;

/// The record `id` of table `def`.
pub(crate) fn record<T: DeserializeOwned>(
    s: &impl Source,
    def: Records,
    id: u64,
) -> Result<Option<T>> {
    match s.table(def)?.get(id)? {
        Some(bytes) => Ok(Some(decode(bytes.value())?)),
        None => Ok(None),
    }
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

/// The id under `key` in unique index `def`.
pub(crate) fn lookup(s: &impl Source, def: Unique, key: &str) -> Result<Option<u64>> {
    Ok(s.table(def)?.get(key)?.map(|v| v.value()))
}

/// Every custom field definition, by id.
pub(crate) fn custom_fields(s: &impl Source) -> Result<Vec<CustomField>> {
    let table = s.table(CUSTOM_FIELDS)?;
    let mut out = Vec::new();
    for row in table.iter()? {
        out.push(decode(row?.1.value())?);
    }
    Ok(out)
}

/// The membership of `user` in `batch`, expired or not.
pub(crate) fn membership(s: &impl Source, user: u64, batch: u64) -> Result<Option<Subscription>> {
    match s.table(MEMBERSHIPS)?.get((user, batch))? {
        Some(bytes) => Ok(Some(decode(bytes.value())?)),
        None => Ok(None),
    }
}

/// Every membership of `user` as (batch id, subscription), ascending batch id,
/// expired ones included.
pub(crate) fn memberships_of(s: &impl Source, user: u64) -> Result<Vec<(u64, Subscription)>> {
    let table = s.table(MEMBERSHIPS)?;
    let mut out = Vec::new();
    for row in table.range((user, 0)..=(user, u64::MAX))? {
        let (key, value) = row?;
        out.push((key.value().1, decode(value.value())?));
    }
    Ok(out)
}

/// The second members of the pairs whose first member is `first`, ascending.
pub(crate) fn related(s: &impl Source, def: Pairs, first: u64) -> Result<Vec<u64>> {
    let table = s.table(def)?;
    let mut out = Vec::new();
    for row in table.range((first, 0)..=(first, u64::MAX))? {
        out.push(row?.0.value().1);
    }
    Ok(out)
}

/// Every key of unique index `def` that contains `needle`, with its id.
pub(crate) fn ids_with_key_containing(
    s: &impl Source,
    def: Unique,
    needle: &str,
) -> Result<Vec<u64>> {
    let table = s.table(def)?;
    let mut out = Vec::new();
    for row in table.iter()? {
        let (key, id) = row?;
        if key.value().contains(needle) {
            out.push(id.value());
        }
    }
    Ok(out)
}

/// Group `id`.
pub(crate) fn group(s: &impl Source, id: u64) -> Result<Option<crate::domain::group::Group>> {
    record(s, GROUPS, id)
}
