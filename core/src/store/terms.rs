//! The exact-value index of users' Sunbird fields (S4's filters): one row
//! per (field, folded value, user), so `filters: {"roles.role": "X"}` reads
//! the users holding X and nothing else.
//!
//! The key is the field's byte, the value's folded text, a NUL (no stored
//! value holds a control character), and the user id big-endian; rows of
//! one (field, value) are therefore contiguous and ascend by id. Kept by
//! [`super::write::put_sunbird`] in the side record's transaction.

use super::keys::Def;
use super::{Snapshot, Txn};
use crate::domain::sunbird::SunbirdUser;
use crate::error::Result;
use crate::text::fold;
use std::collections::BTreeSet;

/// (field, value, NUL, user id) -> ().
pub(crate) const TERMS: Def<[u8], ()> = Def::new("sunbird_terms");

/// A Sunbird field indexed by exact value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub(crate) enum Term {
    /// `externalIds.id`.
    ExternalId = 1,
    /// `organisations.organisationId` (the root one included).
    Organisation = 2,
    /// `rootOrgId` (and `channel`, through its organisation).
    RootOrg = 3,
    /// `roles.role`.
    Role = 4,
    /// `profileUserType.type`.
    UserType = 5,
    /// `profileLocation.code`.
    Location = 6,
    /// `language`.
    Language = 7,
    /// `grade`.
    Grade = 8,
    /// `subject`.
    Subject = 9,
    /// Merged away (value `1`): search leaves these out.
    Deleted = 10,
}

/// Every (term, value) of `side`, ascending, without repeats.
fn terms_of(side: &SunbirdUser) -> BTreeSet<(Term, String)> {
    let mut out = BTreeSet::new();
    for e in &side.external_ids {
        out.insert((Term::ExternalId, fold(&e.id)));
    }
    for o in side.organisations.iter().chain(&side.root_org) {
        out.insert((Term::Organisation, o.to_string()));
    }
    if let Some(root) = side.root_org {
        out.insert((Term::RootOrg, root.to_string()));
    }
    for g in &side.roles {
        out.insert((Term::Role, fold(&g.role)));
    }
    for t in &side.user_types {
        out.insert((Term::UserType, fold(&t.kind)));
    }
    for l in &side.locations {
        out.insert((Term::Location, fold(&l.code)));
    }
    if side.deleted {
        out.insert((Term::Deleted, "1".into()));
    }
    for (term, list) in [
        (Term::Language, &side.language),
        (Term::Grade, &side.grade),
        (Term::Subject, &side.subject),
    ] {
        for v in list {
            out.insert((term, fold(v)));
        }
    }
    out
}

/// The prefix of the rows of `value` in `term`.
fn prefix(term: Term, value: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(2 + value.len() + 8);
    k.push(term as u8);
    k.extend_from_slice(value.as_bytes());
    k.push(0);
    k
}

fn key(term: Term, value: &str, id: u64) -> Vec<u8> {
    let mut k = prefix(term, value);
    k.extend_from_slice(&id.to_be_bytes());
    k
}

/// Keeps user `id`'s rows in step with its side record (`None`: none).
pub(crate) fn reindex(
    txn: &Txn<'_>,
    id: u64,
    old: Option<&SunbirdUser>,
    new: Option<&SunbirdUser>,
) -> Result<()> {
    let before = old.map(terms_of).unwrap_or_default();
    let after = new.map(terms_of).unwrap_or_default();
    for (term, value) in before.difference(&after) {
        txn.remove(TERMS, key(*term, value, id).as_slice())?;
    }
    for (term, value) in after.difference(&before) {
        txn.put(TERMS, key(*term, value, id).as_slice(), &())?;
    }
    Ok(())
}

/// The users holding `value` (folded by the caller) in `term`, ascending.
pub(crate) fn users_with(s: &Snapshot<'_>, term: Term, value: &str) -> Result<Vec<u64>> {
    // A value holding the separator is no stored value: its prefix would
    // reach into the ids of a value it begins with.
    if value.contains('\0') {
        return Ok(Vec::new());
    }
    let p = prefix(term, value);
    let mut out = Vec::new();
    s.scan_prefix(TERMS, p.as_slice(), false, |k, ()| {
        // The prefix and eight bytes of id, nothing else: a shorter or
        // longer key is damage.
        let id = k
            .strip_prefix(p.as_slice())
            .and_then(|id| <[u8; 8]>::try_from(id).ok())
            .ok_or_else(|| super::keys::malformed(TERMS.name))?;
        out.push(u64::from_be_bytes(id));
        Ok(true)
    })?;
    Ok(out)
}

/// Every row the side records should give, for the integrity check.
pub(crate) fn expected<'a>(
    sides: impl Iterator<Item = (&'a u64, &'a SunbirdUser)>,
) -> BTreeSet<Vec<u8>> {
    let mut out = BTreeSet::new();
    for (id, side) in sides {
        for (term, value) in terms_of(side) {
            out.insert(key(term, &value, *id));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::store::Store;

    /// A row of the value asked for whose key is not the value and an id
    /// (a damaged file's) is a clear error, not a panic or a made-up id.
    #[test]
    fn a_malformed_row_is_damage() {
        let value = "x";
        for tail in [vec![], vec![0, 1], vec![0, 0, 0, 0, 0, 0, 0, 0, 7]] {
            let store = Store::in_memory().unwrap();
            store
                .write(|txn| {
                    txn.put(TERMS, key(Term::Role, value, 3).as_slice(), &())?;
                    let mut damaged = prefix(Term::Role, value);
                    damaged.extend_from_slice(&tail);
                    txn.put(TERMS, damaged.as_slice(), &())
                })
                .unwrap();
            let e = store
                .reading(|s| users_with(s, Term::Role, value))
                .expect_err("damage");
            assert_eq!(e.code(), ErrorCode::Corrupt, "{tail:?}: {e:?}");
            assert!(e.message().contains("sunbird_terms"), "{e:?}");
        }
        let store = Store::in_memory().unwrap();
        store
            .write(|txn| {
                for id in [9, 3] {
                    txn.put(TERMS, key(Term::Role, value, id).as_slice(), &())?;
                }
                txn.put(TERMS, key(Term::Role, "xy", 5).as_slice(), &())
            })
            .unwrap();
        let ids = store.reading(|s| users_with(s, Term::Role, value)).unwrap();
        assert_eq!(ids, [3, 9]);
    }
}
