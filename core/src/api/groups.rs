//! Groups and the permission catalogue (D2, D3).

use super::Admin;
use crate::auth::permissions::{Action, Model, Permission};
use crate::domain::group::{self, Group, GroupInput, GroupView};
use crate::domain::rules::{NAME_MAX, fold};
use crate::domain::{Page, PageRequest};
use crate::error::{Error, FieldErrors, Result};
use crate::store::tables::{GROUP_BY_NAME, GROUP_USERS, GROUPS, Kind};
use crate::store::{Txn, read, write};
use crate::text::fold_lookup;

/// One permission of the catalogue, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PermissionView {
    /// Stable id.
    pub id: u32,
    /// `view_user`.
    pub codename: String,
    /// `Can view user`.
    pub name: String,
}

impl Admin {
    /// Creates a group; the name is required and unique ignoring case.
    pub fn create_group(&self, input: GroupInput) -> Result<GroupView> {
        let granted = self.allow(Permission::new(Action::Add, Model::Group))?;
        let now = self.now_micros();
        granted.write(|txn| {
            let mut g = Group {
                id: 0,
                uuid: 0,
                name: String::new(),
                permissions: Vec::new(),
                created: now,
                modified: now,
            };
            check(txn, &mut g, &input, None)?;
            self.may_grant_group(txn, &[], &g.permissions)?;
            g.id = write::next_id(txn, Kind::Group)?;
            g.uuid = crate::random::uuid()?;
            write::put_group(txn, None, &g)?;
            Ok(GroupView::from(&g))
        })
    }

    /// Groups by id, filtered by exact name ignoring case.
    pub fn list_groups(&self, name: Option<&str>, page: PageRequest) -> Result<Page<GroupView>> {
        self.allow(Permission::new(Action::View, Model::Group))?;
        self.store().reading(|txn| {
            let all = match name.map(str::trim).filter(|n| !n.is_empty()) {
                Some(n) => match fold_lookup(n, NAME_MAX)
                    .map(|key| read::lookup(txn, GROUP_BY_NAME, &key))
                    .transpose()?
                    .flatten()
                {
                    Some(id) => read::group(txn, id)?.iter().map(GroupView::from).collect(),
                    None => Vec::new(),
                },
                None => {
                    let every = |_: &Group| true;
                    return self.listed_page_of(txn, page, GROUPS, every, |g| GroupView::from(g));
                }
            };
            self.page_of(page, all)
        })
    }

    /// Group `id`.
    pub fn get_group(&self, id: u64) -> Result<GroupView> {
        self.allow(Permission::new(Action::View, Model::Group))?;
        self.store().reading(|txn| {
            read::group(txn, id)?
                .map(|g| GroupView::from(&g))
                .ok_or_else(Error::not_found)
        })
    }

    /// Changes group `id`: absent fields stay as they are.
    pub fn update_group(&self, id: u64, input: GroupInput) -> Result<GroupView> {
        let granted = self.allow(Permission::new(Action::Change, Model::Group))?;
        let now = self.now_micros();
        granted.write(|txn| {
            let old = read::group(txn, id)?.ok_or_else(Error::not_found)?;
            let mut g = old.clone();
            check(txn, &mut g, &input, Some(id))?;
            self.may_grant_group(txn, &old.permissions, &g.permissions)?;
            if g != old {
                g.modified = now;
            }
            write::put_group(txn, Some(&old), &g)?;
            Ok(GroupView::from(&g))
        })
    }

    /// Deletes group `id`; its members lose its permissions at once. A
    /// caller other than a superuser may delete only a group whose every
    /// permission it holds (taking permissions away from a stronger member
    /// could make it weak enough to take over), and whose every member it
    /// controls: the delete changes each member's groups, which SPEC A7
    /// lets only a caller holding all of that user's permissions change.
    pub fn delete_group(&self, id: u64) -> Result<()> {
        let granted = self.allow(Permission::new(Action::Delete, Model::Group))?;
        granted.write(|txn| {
            let g = read::group(txn, id)?.ok_or_else(Error::not_found)?;
            self.may_grant_group(txn, &g.permissions, &[])?;
            self.may_control_all(txn, &read::related(txn, GROUP_USERS, g.id)?)?;
            write::delete_group(txn, &g)
        })
    }

    /// The permission catalogue, by id (D3). Needs `view_group`.
    pub fn permissions(&self) -> Result<Vec<PermissionView>> {
        self.allow(Permission::new(Action::View, Model::Group))?;
        Ok(Permission::all()
            .map(|p| PermissionView {
                id: p.id(),
                codename: p.codename(),
                name: p.name(),
            })
            .collect())
    }
}

impl Admin {
    /// Fails unless the caller holds every permission a group gains or
    /// loses. Gains: with `change_group` alone one could otherwise build a
    /// group holding all. Losses (SPEC A7): taking from a group, or deleting
    /// it, takes from every member; a caller that could take away what it
    /// does not hold could strip a stronger member down to what it holds,
    /// then take that account over with `change_user`. Taking away only
    /// what it holds, it never makes anyone controllable who was not.
    fn may_grant_group(&self, txn: &Txn<'_>, before: &[u32], after: &[u32]) -> Result<()> {
        let Some(held) = self.caller_permissions(txn)? else {
            return Ok(());
        };
        let gained = after.iter().filter(|p| !before.contains(p));
        let lost = before.iter().filter(|p| !after.contains(p));
        match gained.chain(lost).all(|p| held.contains(p)) {
            true => Ok(()),
            false => Err(super::auth::forbidden()),
        }
    }
}

fn check(txn: &Txn<'_>, g: &mut Group, input: &GroupInput, me: Option<u64>) -> Result<()> {
    let mut errors = FieldErrors::new();
    group::apply(g, input, me.is_none(), &mut errors);
    if !errors.has("name")
        && read::lookup(txn, GROUP_BY_NAME, &fold(&g.name))?.is_some_and(|o| Some(o) != me)
    {
        errors.add("name", "A group with this name already exists.");
    }
    errors.into_result()
}
