//! Format 2 -> 3 sub-step of the sessions (SPEC A8): a session row now
//! carries its user's credential generation.

use super::Txn;
use super::tables::{SESSIONS, USER_SESSIONS};
use crate::error::Result;

/// Deletes the session tables of format 2, whose rows (user, created,
/// expires) cannot be read as format 3's (user, generation, created,
/// expires); they are recreated empty with the other tables. Every session
/// ends: everyone signs in again after the upgrade.
pub(crate) fn sessions_v2_to_v3(txn: &Txn<'_>) -> Result<()> {
    // A format-2 sessions table of another row type was dropped when the
    // redb backend re-encoded the store; whatever is left goes too.
    txn.clear(SESSIONS)?;
    txn.clear(USER_SESSIONS)
}
