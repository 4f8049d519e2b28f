//! Groups (D2): named sets of permissions that users belong to.

use super::rules::{self, BLANK, NAME_MAX, REQUIRED};
use super::{Micros, instant, uuid_string};
use crate::auth::permissions::Permission;
use crate::error::FieldErrors;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A stored group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// Id, never reused.
    pub id: u64,
    /// Random UUID.
    #[serde(with = "crate::domain::uuid_serde")]
    pub uuid: u128,
    /// Name, unique ignoring case.
    pub name: String,
    /// Permission ids, ascending.
    pub permissions: Vec<u32>,
    /// Creation instant.
    pub created: Micros,
    /// Last change.
    pub modified: Micros,
}

/// Input to create or change a group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct GroupInput {
    /// Name: required on create.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub name: Option<String>,
    /// Permission ids (replacing the old list).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub permissions: Option<Vec<u64>>,
}

/// A group as returned.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct GroupView {
    /// Id.
    pub id: u64,
    /// UUID, hyphenated.
    pub uuid: String,
    /// Name.
    pub name: String,
    /// Permission ids.
    pub permissions: Vec<u32>,
    /// Creation instant.
    pub created: DateTime<Utc>,
    /// Last change.
    pub modified: DateTime<Utc>,
}

impl From<&Group> for GroupView {
    fn from(g: &Group) -> Self {
        GroupView {
            id: g.id,
            uuid: uuid_string(g.uuid),
            name: g.name.clone(),
            permissions: g.permissions.clone(),
            created: instant(g.created),
            modified: instant(g.modified),
        }
    }
}

/// Checks a list of permission ids against the catalogue: sorted, without
/// repeats, or a message per unknown id.
pub fn permission_ids(field: &str, ids: &[u64], errors: &mut FieldErrors) -> Vec<u32> {
    let mut out = Vec::with_capacity(ids.len());
    for &id in ids {
        match u32::try_from(id).ok().and_then(Permission::by_id) {
            Some(p) => out.push(p.id()),
            None => {
                // The first only, as DRF's `ManyRelatedField` answers.
                errors.add(
                    field,
                    format!("Invalid pk \"{id}\" - object does not exist."),
                );
                break;
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Applies `input` to `group` (a default one when creating). Name
/// uniqueness is the caller's.
pub fn apply(group: &mut Group, input: &GroupInput, creating: bool, errors: &mut FieldErrors) {
    match &input.name {
        Some(n) => match rules::text(n, NAME_MAX) {
            Ok(n) if n.is_empty() => errors.add("name", BLANK),
            Ok(n) => group.name = n,
            Err(m) => errors.add("name", m),
        },
        None if creating => errors.add("name", REQUIRED),
        None => {}
    }
    if let Some(ids) = &input.permissions {
        group.permissions = permission_ids("permissions", ids, errors);
    }
}

/// Whether `id` names a permission of the catalogue (a stored record may
/// hold only those).
pub(crate) fn is_known_permission(id: u32) -> bool {
    Permission::by_id(id).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group() -> Group {
        Group {
            id: 1,
            uuid: 1,
            name: "Staff".into(),
            permissions: vec![1],
            created: 0,
            modified: 0,
        }
    }

    /// A create needs a name; a change may leave it out; a blank one is
    /// refused either way, and nothing is changed by a refused name.
    #[test]
    fn a_name_is_required_on_create_and_never_blank() {
        for (name, creating, error) in [
            (None, true, Some(REQUIRED)),
            (None, false, None),
            (Some("   "), true, Some(BLANK)),
            (Some(""), false, Some(BLANK)),
            (Some(" Tutors "), false, None),
        ] {
            let mut g = group();
            let mut errors = FieldErrors::new();
            let input = GroupInput {
                name: name.map(String::from),
                permissions: None,
            };
            apply(&mut g, &input, creating, &mut errors);
            assert_eq!(
                errors.messages("name"),
                error.map(String::from).into_iter().collect::<Vec<_>>(),
                "{name:?}, creating {creating}"
            );
            let kept = match (name, error) {
                (Some(n), None) => n.trim(),
                _ => "Staff",
            };
            assert_eq!(g.name, kept, "{name:?}");
        }
    }

    /// Only the catalogue's ids are known permissions.
    #[test]
    fn known_permissions_are_the_catalogues() {
        assert!(is_known_permission(1));
        let last = Permission::all()
            .map(|p| p.id())
            .max()
            .expect("a catalogue");
        assert!(is_known_permission(last));
        assert!(!is_known_permission(0));
        assert!(!is_known_permission(last + 1));
    }
}
