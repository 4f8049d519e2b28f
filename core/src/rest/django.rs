//! The Django-style admin API of seed 003: users with their access fields,
//! groups, the permission catalogue.

use super::router::{Call, Reply, json_response, no_content};
use crate::api::users::UserQuery;
use crate::domain::user::CreateOptions;
use crate::json::django::{DjangoUser, Group, Permission};
use crate::json::request::{GroupInput, NewUser, UserPatch};
use crate::json::testpress::LinkedPage;

/// The resources of seed 003.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DjangoRoute {
    Users,
    User(u64),
    Groups,
    Group(u64),
    Permissions,
}

impl Call<'_> {
    /// Seed 003: `/api/admin/users/`, `/api/admin/groups/`,
    /// `/api/admin/permissions/`.
    pub(super) fn django(&self, route: DjangoRoute, method: &str) -> Reply {
        let a = self.admin;
        let u = &self.urls;
        match (route, method) {
            (DjangoRoute::Users, "GET") => {
                let query = UserQuery {
                    email: self
                        .param("email")
                        .filter(|e| !e.is_empty())
                        .map(str::to_string),
                    page: self.page()?,
                    ..Default::default()
                };
                let page = a.list_users(&query)?;
                Ok(json_response(
                    200,
                    LinkedPage::new(&page, u, DjangoUser::new),
                ))
            }
            (DjangoRoute::Users, _) => {
                let (body, errors) = self.body::<NewUser>()?;
                let mut input = body.into_input();
                // Seed 003's defaults: inactive until activated.
                input.is_active = input.is_active.or(Some(false));
                let options = CreateOptions {
                    last_name_required: true,
                    ..Default::default()
                };
                self.type_errors(&errors, || a.check_new_user(&input, options))?;
                let created = a.create_user(input, options)?;
                Ok(json_response(201, DjangoUser::new(&created.user)))
            }
            (DjangoRoute::User(id), "GET") => {
                Ok(json_response(200, DjangoUser::new(&a.get_user(id)?)))
            }
            (DjangoRoute::User(id), "DELETE") => {
                a.delete_user(id)?;
                Ok(no_content())
            }
            (DjangoRoute::User(id), _) => {
                let (body, errors) = self.body::<UserPatch>()?;
                let patch = body.into_input();
                self.type_errors(&errors, || a.check_user_patch(id, &patch))?;
                Ok(json_response(
                    200,
                    DjangoUser::new(&a.update_user(id, patch)?),
                ))
            }
            (DjangoRoute::Groups, "GET") => {
                let page = a.list_groups(self.param("name"), self.page()?)?;
                Ok(json_response(200, LinkedPage::new(&page, u, Group::new)))
            }
            (DjangoRoute::Groups, _) => {
                let (body, errors) = self.body::<GroupInput>()?;
                let input = body.into_input();
                self.only_type_errors(&errors)?;
                Ok(json_response(201, Group::new(&a.create_group(input)?)))
            }
            (DjangoRoute::Group(id), "GET") => {
                Ok(json_response(200, Group::new(&a.get_group(id)?)))
            }
            (DjangoRoute::Group(id), "DELETE") => {
                a.delete_group(id)?;
                Ok(no_content())
            }
            (DjangoRoute::Group(id), _) => {
                let (body, errors) = self.body::<GroupInput>()?;
                let input = body.into_input();
                self.only_type_errors(&errors)?;
                Ok(json_response(200, Group::new(&a.update_group(id, input)?)))
            }
            (DjangoRoute::Permissions, _) => {
                let list: Vec<Permission> = a.permissions()?.iter().map(Permission::new).collect();
                Ok(json_response(200, list))
            }
        }
    }
}
