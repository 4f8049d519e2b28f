//! Format 2 -> 3 sub-steps of the sessions (SPEC A8): a session row now
//! carries its user's credential generation, and a user record ends with
//! that generation.

use super::tables::{SESSIONS, USER_SESSIONS, USERS};
use super::{decode, encode};
use crate::domain::user::User;
use crate::error::Result;
use redb::{ReadableTable, WriteTransaction};

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

/// Gives every format-2 user record the credential generation 0. A record
/// is postcard: the fields in order, so a format-2 record followed by the
/// encoding of 0 (one zero byte) is the format-3 record. A record that
/// already decodes whole (written by the v1 -> v2 step of this build) is
/// kept. Needed only where the v2 -> v3 migration does not decode format-2
/// users itself.
pub(crate) fn users_v2_to_v3(txn: &WriteTransaction) -> Result<()> {
    let mut users = txn.open_table(USERS)?;
    let mut upgraded = Vec::new();
    for row in users.iter()? {
        let (_, bytes) = row?;
        if decode::<User>(bytes.value()).is_ok() {
            continue;
        }
        let mut v3 = bytes.value().to_vec();
        v3.push(0);
        upgraded.push(decode::<User>(&v3)?);
    }
    for user in upgraded {
        users.insert(user.id, encode(&user)?.as_slice())?;
    }
    Ok(())
}
