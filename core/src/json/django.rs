//! The Django-style admin API's representations (seed 003), one type each:
//! what the `/api/admin/` paths answer.

use super::views::timestamp;
use crate::api::PermissionView;
use crate::domain::group::GroupView;
use crate::domain::user::UserView;
use serde::Serialize;

/// A user as seed 003 shows one (the password is write-only: never
/// output).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct DjangoUser {
    /// Id.
    pub id: u64,
    /// Last successful sign-in, or null.
    pub last_login: Option<String>,
    /// Whether the user holds every permission.
    pub is_superuser: bool,
    /// Username.
    pub username: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email.
    pub email: String,
    /// Whether the user may use the admin API.
    pub is_staff: bool,
    /// Whether the user may sign in.
    pub is_active: bool,
    /// Creation instant.
    pub date_joined: String,
    /// Group ids.
    pub groups: Vec<u64>,
    /// Own permission ids.
    pub user_permissions: Vec<u32>,
}

impl DjangoUser {
    /// The representation of `u`.
    pub(crate) fn new(u: &UserView) -> DjangoUser {
        DjangoUser {
            id: u.id,
            last_login: u.last_login.map(timestamp),
            is_superuser: u.is_superuser,
            username: u.username.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            email: u.email.clone(),
            is_staff: u.is_staff,
            is_active: u.is_active,
            date_joined: timestamp(u.created),
            groups: u.groups.clone(),
            user_permissions: u.user_permissions.clone(),
        }
    }
}

/// A group: `{id, name, permissions}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Group {
    /// Id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Permission ids.
    pub permissions: Vec<u32>,
}

impl Group {
    /// The representation of `g`.
    pub(crate) fn new(g: &GroupView) -> Group {
        Group {
            id: g.id,
            name: g.name.clone(),
            permissions: g.permissions.clone(),
        }
    }
}

/// A permission of the catalogue: `{id, codename, name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Permission {
    /// Id.
    pub id: u32,
    /// Code name (`view_user`).
    pub codename: String,
    /// Name.
    pub name: String,
}

impl Permission {
    /// The representation of `p`.
    pub(crate) fn new(p: &PermissionView) -> Permission {
        Permission {
            id: p.id,
            codename: p.codename.clone(),
            name: p.name.clone(),
        }
    }
}
