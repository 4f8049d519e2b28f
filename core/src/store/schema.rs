//! The on-disk format's version and its migrations, in one place
//! (ARCHITECTURE convention 5).
//!
//! Version 1 is the first format (Step 1). A store written by a newer roster
//! is refused; an older one is migrated in place, inside the same write
//! transaction that opens it, so a crash mid-migration leaves the old format.
//! Every version has a store file under `tests/fixtures/` that the tests open.

use super::tables::*;
use crate::error::{Error, ErrorCode, Result};
use redb::{ReadableTable, TableHandle, WriteTransaction};

/// The format this build writes.
pub const CURRENT_VERSION: u64 = 1;
const VERSION_KEY: &str = "schema_version";

/// Brings the store in `txn` to [`CURRENT_VERSION`], creating every table.
pub(crate) fn prepare(txn: &WriteTransaction) -> Result<()> {
    let found = txn.open_table(META)?.get(VERSION_KEY)?.map(|v| v.value());
    match found {
        None => {
            let foreign: Vec<String> = txn
                .list_tables()?
                .map(|t| t.name().to_string())
                .filter(|n| n != META.name())
                .collect();
            if !foreign.is_empty() {
                return Err(Error::new(
                    ErrorCode::Corrupt,
                    "this file is a redb database but not a roster store",
                ));
            }
        }
        Some(v) if v > CURRENT_VERSION => {
            return Err(Error::new(
                ErrorCode::SchemaTooNew,
                format!(
                    "the store has format version {v}; this roster reads versions up to {CURRENT_VERSION}: upgrade roster"
                ),
            ));
        }
        Some(v) => migrate(txn, v)?,
    }
    create_tables(txn)?;
    txn.open_table(META)?.insert(VERSION_KEY, CURRENT_VERSION)?;
    Ok(())
}

/// Runs the migrations from `from` up to the current version.
fn migrate(_txn: &WriteTransaction, from: u64) -> Result<()> {
    // Each later format adds an arm `n => migrate_n_to_n_plus_1(txn)?` here.
    match from {
        CURRENT_VERSION => Ok(()),
        other => Err(Error::new(
            ErrorCode::Corrupt,
            format!("unknown store format version {other}"),
        )),
    }
}

fn create_tables(txn: &WriteTransaction) -> Result<()> {
    txn.open_table(COUNTERS)?;
    for def in [USERS, BATCHES, COURSES, CUSTOM_FIELDS] {
        txn.open_table(def)?;
    }
    for def in [
        USER_BY_USERNAME,
        USER_BY_EMAIL,
        USER_BY_PHONE,
        BATCH_BY_NAME,
        COURSE_BY_SLUG,
        CUSTOM_FIELD_BY_NAME,
    ] {
        txn.open_table(def)?;
    }
    for def in [COURSE_BATCHES, BATCH_COURSES, BATCH_MEMBERS, FIELD_USERS] {
        txn.open_table(def)?;
    }
    txn.open_table(UUIDS)?;
    txn.open_table(MEMBERSHIPS)?;
    txn.open_table(SUBSCRIPTIONS)?;
    txn.open_table(EXPIRIES)?;
    Ok(())
}
