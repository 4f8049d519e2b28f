//! Format 2 -> 3 sub-step of the sessions (SPEC A8): a session row now
//! carries its user's credential generation.

use super::tables::{SESSIONS, USER_SESSIONS};
use crate::error::Result;
use redb::WriteTransaction;

/// Deletes the session tables of format 2, whose rows (user, created,
/// expires) cannot be read as format 3's (user, generation, created,
/// expires); they are recreated empty with the other tables. Every session
/// ends: everyone signs in again after the upgrade.
pub(crate) fn sessions_v2_to_v3(txn: &WriteTransaction) -> Result<()> {
    // redb deletes a table by name, whatever its stored types.
    txn.delete_table(SESSIONS)?;
    txn.delete_table(USER_SESSIONS)?;
    Ok(())
}
