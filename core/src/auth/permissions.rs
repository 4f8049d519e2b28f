//! The fixed permission catalogue (SPEC D3) and Django's `has_perm`.
//!
//! Ids are stable and documented: models in the order user, batch, course,
//! subscription, group, customfield, organisation; within a model the actions
//! view, add, change, delete. So `view_user` is 1, `delete_user` 4,
//! `view_batch` 5, ... `delete_organisation` 28. Then, appended (Step 9),
//! `view_change` 29: reading the change feed, which has no other action.
//! Seed 003's example ids are those of one Django instance and are not
//! reproduced.

/// What a permission allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read.
    View,
    /// Create.
    Add,
    /// Change.
    Change,
    /// Delete.
    Delete,
}

/// What a permission is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Model {
    /// Users.
    User,
    /// Batches.
    Batch,
    /// Courses.
    Course,
    /// Subscriptions (memberships).
    Subscription,
    /// Groups.
    Group,
    /// Custom field definitions.
    CustomField,
    /// Organisations.
    Organisation,
    /// The change feed (SPEC X4): only viewed.
    Change,
}

const ACTIONS: [(Action, &str); 4] = [
    (Action::View, "view"),
    (Action::Add, "add"),
    (Action::Change, "change"),
    (Action::Delete, "delete"),
];

const MODELS: [(Model, &str, &str); 8] = [
    (Model::User, "user", "user"),
    (Model::Batch, "batch", "batch"),
    (Model::Course, "course", "course"),
    (Model::Subscription, "subscription", "subscription"),
    (Model::Group, "group", "group"),
    (Model::CustomField, "customfield", "custom field"),
    (Model::Organisation, "organisation", "organisation"),
    (Model::Change, "change", "change"),
];

/// The app label of full permission names: `roster.view_user`.
pub const APP_LABEL: &str = "roster";

/// One permission of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Permission {
    /// The action.
    pub action: Action,
    /// The model.
    pub model: Model,
}

impl Permission {
    /// The permission to do `action` on `model`.
    pub const fn new(action: Action, model: Model) -> Self {
        Permission { action, model }
    }

    /// Every permission, by id.
    pub fn all() -> impl Iterator<Item = Permission> {
        MODELS
            .iter()
            .flat_map(|(m, _, _)| ACTIONS.iter().map(move |(a, _)| Permission::new(*a, *m)))
            .filter(|p| p.model != Model::Change || p.action == Action::View)
    }

    /// The stable id (1-29). (Only `view_change` exists of the feed's:
    /// [`Permission::all`] and [`Permission::by_id`] know no other.)
    pub fn id(self) -> u32 {
        let m = MODELS
            .iter()
            .position(|(m, _, _)| *m == self.model)
            .unwrap_or(0) as u32;
        let a = ACTIONS
            .iter()
            .position(|(a, _)| *a == self.action)
            .unwrap_or(0) as u32;
        m * 4 + a + 1
    }

    /// The permission with id `id`.
    pub fn by_id(id: u32) -> Option<Permission> {
        Permission::all().find(|p| p.id() == id)
    }

    /// `view_user`.
    pub fn codename(self) -> String {
        format!(
            "{}_{}",
            action_word(self.action),
            MODELS[self.model_index()].1
        )
    }

    /// `roster.view_user`.
    pub fn full_name(self) -> String {
        format!("{APP_LABEL}.{}", self.codename())
    }

    /// Django's human name: `Can view user`.
    pub fn name(self) -> String {
        format!(
            "Can {} {}",
            action_word(self.action),
            MODELS[self.model_index()].2
        )
    }

    /// Parses `roster.view_user` (or the bare codename).
    pub fn parse(name: &str) -> Option<Permission> {
        let code = name.strip_prefix("roster.").unwrap_or(name);
        Permission::all().find(|p| p.codename() == code)
    }

    fn model_index(self) -> usize {
        MODELS
            .iter()
            .position(|(m, _, _)| *m == self.model)
            .unwrap_or(0)
    }
}

fn action_word(action: Action) -> &'static str {
    ACTIONS
        .iter()
        .find(|(a, _)| *a == action)
        .map_or("", |(_, w)| w)
}

/// What `has_perm` needs to know of a user.
#[derive(Debug, Clone, Copy)]
pub struct Holder<'a> {
    /// Whether the user is active.
    pub is_active: bool,
    /// Whether the user is a superuser.
    pub is_superuser: bool,
    /// The user's own permission ids.
    pub own: &'a [u32],
    /// The permission ids of each of the user's groups.
    pub groups: &'a [&'a [u32]],
}

/// Django's semantics: an inactive user has no permission, an active
/// superuser has all, anyone else the union of their own and their groups'.
pub fn has_perm(holder: Holder<'_>, permission: Permission) -> bool {
    if !holder.is_active {
        return false;
    }
    if holder.is_superuser {
        return true;
    }
    let id = permission.id();
    holder.own.contains(&id) || holder.groups.iter().any(|g| g.contains(&id))
}

/// Whether a caller holding `held` holds everything in `needed` (SPEC A7:
/// who may take control of an account holding `needed`).
pub(crate) fn covers(
    held: &std::collections::BTreeSet<u32>,
    needed: &std::collections::BTreeSet<u32>,
) -> bool {
    needed.is_subset(held)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_documented() {
        let all: Vec<Permission> = Permission::all().collect();
        assert_eq!(all.len(), 29);
        for (i, p) in all.iter().enumerate() {
            assert_eq!(p.id(), i as u32 + 1);
            assert_eq!(Permission::by_id(p.id()), Some(*p));
        }
        assert_eq!(Permission::new(Action::View, Model::User).id(), 1);
        assert_eq!(Permission::new(Action::Delete, Model::User).id(), 4);
        assert_eq!(Permission::new(Action::View, Model::Batch).id(), 5);
        assert_eq!(
            Permission::new(Action::Delete, Model::Organisation).id(),
            28
        );
        let feed = Permission::new(Action::View, Model::Change);
        assert_eq!(feed.id(), 29);
        assert_eq!(feed.codename(), "view_change");
        assert_eq!(Permission::parse("roster.view_change"), Some(feed));
        assert_eq!(Permission::parse("roster.delete_change"), None);
        assert_eq!(Permission::by_id(0), None);
        assert_eq!(Permission::by_id(30), None);
    }

    #[test]
    fn names() {
        let p = Permission::new(Action::Change, Model::CustomField);
        assert_eq!(p.codename(), "change_customfield");
        assert_eq!(p.full_name(), "roster.change_customfield");
        assert_eq!(p.name(), "Can change custom field");
        assert_eq!(Permission::parse("roster.change_customfield"), Some(p));
        assert_eq!(Permission::parse("view_user").map(Permission::id), Some(1));
        assert_eq!(Permission::parse("roster.fly"), None);
    }

    #[test]
    fn django_semantics() {
        let view_user = Permission::new(Action::View, Model::User);
        let holder =
            |active, superuser, own: &'static [u32], groups: &'static [&'static [u32]]| Holder {
                is_active: active,
                is_superuser: superuser,
                own,
                groups,
            };
        assert!(
            has_perm(holder(true, true, &[], &[]), view_user),
            "superusers have all"
        );
        assert!(
            !has_perm(holder(false, true, &[1], &[]), view_user),
            "inactive users have none"
        );
        assert!(
            has_perm(holder(true, false, &[1], &[]), view_user),
            "their own"
        );
        assert!(
            has_perm(holder(true, false, &[], &[&[2], &[1]]), view_user),
            "a group's"
        );
        assert!(!has_perm(holder(true, false, &[2], &[&[3]]), view_user));
    }
}
