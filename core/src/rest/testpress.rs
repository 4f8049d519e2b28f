//! The Testpress admin API (seeds 000-002) and the caller's own paths
//! (sign-in, `me`): its routes, and for each, read the body, call the typed
//! API, shape the answer ([`crate::json::testpress`]).

use super::router::{Call, Reply, json_response, no_content};
use crate::Institute;
use crate::api::LOGIN_FAILED;
use crate::api::users::UserQuery;
use crate::domain::user::CreateOptions;
use crate::error::{ErrorCode, FieldErrors};
use crate::json::request::{
    self, BatchIds, CourseIds, CourseInput, CustomFieldInput, PasswordChange, SignIn,
    TestpressNewUser, TestpressUserPatch, Text, required_ids,
};
use crate::json::testpress::{
    Batch, BatchName, ChangeFeed, Course, CustomField, LinkedPage, Purged, Subscription,
    TestpressUser, Token,
};
use crate::json::views::{Detail, Errors, timestamp};

/// The resources of the Testpress admin API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Route {
    Users,
    User(u64),
    UserBatches(u64),
    UserCourses(u64),
    UserSubscriptions(u64),
    UserUnlock(u64),
    Batches,
    Batch(u64),
    Courses,
    CourseCreate,
    Course(u64),
    CourseBatches(u64),
    CustomFields,
    CustomField(u64),
    PurgeExpired,
    Changes,
}

impl Route {
    /// A path segment that is an id: ASCII digits that fit in u64.
    pub(super) fn id(s: &str) -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    }

    pub(super) fn parse(segments: &[&str]) -> Option<Route> {
        let id = Route::id;
        Some(match segments {
            ["users"] => Route::Users,
            ["users", i] => Route::User(id(i)?),
            ["users", i, "batches"] => Route::UserBatches(id(i)?),
            ["users", i, "courses"] => Route::UserCourses(id(i)?),
            ["users", i, "subscriptions"] => Route::UserSubscriptions(id(i)?),
            ["users", i, "unlock"] => Route::UserUnlock(id(i)?),
            ["batches"] => Route::Batches,
            ["batches", i] => Route::Batch(id(i)?),
            ["courses"] => Route::Courses,
            ["courses", "create"] => Route::CourseCreate,
            ["courses", i] => Route::Course(id(i)?),
            ["courses", i, "batches"] => Route::CourseBatches(id(i)?),
            ["custom-fields"] => Route::CustomFields,
            ["custom-fields", i] => Route::CustomField(id(i)?),
            ["subscriptions", "purge-expired"] => Route::PurgeExpired,
            ["changes"] => Route::Changes,
            _ => return None,
        })
    }

    pub(super) fn methods(self) -> &'static [&'static str] {
        const LIST: &[&str] = &["GET", "POST"];
        const ITEM: &[&str] = &["GET", "PUT", "PATCH", "DELETE"];
        const RELATION: &[&str] = &["GET", "POST", "DELETE"];
        match self {
            Route::Users | Route::Batches | Route::Courses | Route::CustomFields => LIST,
            Route::User(_) | Route::Batch(_) | Route::Course(_) | Route::CustomField(_) => ITEM,
            Route::UserBatches(_) | Route::UserCourses(_) | Route::CourseBatches(_) => RELATION,
            Route::UserSubscriptions(_) => LIST,
            Route::CourseCreate | Route::PurgeExpired | Route::UserUnlock(_) => &["POST"],
            Route::Changes => &["GET"],
        }
    }
}

impl Call<'_> {
    /// Serves `route` of the admin API.
    pub(super) fn serve(&self, route: Route, method: &str) -> Reply {
        let a = self.admin;
        let u = &self.urls;
        match (route, method) {
            (Route::Users, "GET") => {
                // An empty filter filters nothing, as Django's filters do.
                let email = self
                    .param("email")
                    .filter(|e| !e.is_empty())
                    .map(str::to_string);
                let query = UserQuery {
                    q: self.param("q").map(str::to_string),
                    with_batches: email.is_some(),
                    email,
                    page: self.page()?,
                };
                let page = a.list_users(&query)?;
                Ok(json_response(
                    200,
                    LinkedPage::new(&page, u, |x| TestpressUser::new(x, u)),
                ))
            }
            (Route::Users, _) => {
                let (body, errors) = self.body::<TestpressNewUser>()?;
                let input = body.into_input();
                let options = CreateOptions {
                    auto_generate_password: self.flag("auto_generate_password"),
                    notify_credential: self.flag("notify_credential"),
                    last_name_required: false,
                };
                self.type_errors(&errors, || a.check_new_user(&input, options))?;
                let created = a.create_user(input, options)?;
                Ok(json_response(201, TestpressUser::new(&created.user, u)))
            }
            (Route::User(id), "GET") => {
                Ok(json_response(200, TestpressUser::new(&a.get_user(id)?, u)))
            }
            (Route::User(id), "DELETE") => {
                a.delete_user(id)?;
                Ok(no_content())
            }
            (Route::User(id), _) => {
                let (body, errors) = self.body::<TestpressUserPatch>()?;
                let patch = body.into_input();
                self.type_errors(&errors, || a.check_user_patch(id, &patch))?;
                Ok(json_response(
                    200,
                    TestpressUser::new(&a.update_user(id, patch)?, u),
                ))
            }
            (Route::UserBatches(id), "GET") => {
                let page = a.user_batches(id, self.page()?)?;
                Ok(json_response(
                    200,
                    LinkedPage::new(&page, u, BatchName::new),
                ))
            }
            (Route::UserBatches(id), _) => {
                let (body, mut errors) = self.body::<BatchIds>()?;
                let ids = required_ids(body.batches, "batches", &mut errors);
                self.only_type_errors(&errors)?;
                if method == "POST" {
                    let all = a.add_user_batches(id, &ids)?;
                    Ok(json_response(
                        201,
                        all.iter().map(BatchName::new).collect::<Vec<_>>(),
                    ))
                } else {
                    a.remove_user_batches(id, &ids)?;
                    Ok(no_content())
                }
            }
            (Route::UserCourses(id), "GET") => {
                let page = a.user_courses(id, self.page()?)?;
                Ok(json_response(
                    200,
                    LinkedPage::new(&page, u, |c| Course::new(c, u)),
                ))
            }
            (Route::UserCourses(id), _) => {
                let (body, mut errors) = self.body::<CourseIds>()?;
                let ids = required_ids(body.courses, "courses", &mut errors);
                self.only_type_errors(&errors)?;
                if method == "POST" {
                    let page = a.add_user_courses(id, &ids)?;
                    Ok(json_response(
                        201,
                        LinkedPage::new(&page, u, |c| Course::new(c, u)),
                    ))
                } else {
                    a.remove_user_courses(id, &ids)?;
                    Ok(no_content())
                }
            }
            (Route::UserSubscriptions(id), "GET") => {
                let page = a.user_subscriptions(id, self.page()?)?;
                Ok(json_response(
                    200,
                    LinkedPage::new(&page, u, |s| Subscription::new(s, u)),
                ))
            }
            (Route::UserSubscriptions(id), _) => {
                let (body, mut errors) = self.body::<BatchIds>()?;
                let ids = required_ids(body.batches, "batches", &mut errors);
                let expires = body.expires.into_value().filter(|e| !e.is_empty());
                self.only_type_errors(&errors)?;
                let subs = a.add_user_subscriptions(id, &ids, expires.as_deref())?;
                Ok(json_response(
                    201,
                    subs.iter()
                        .map(|s| Subscription::new(s, u))
                        .collect::<Vec<_>>(),
                ))
            }
            (Route::UserUnlock(id), _) => {
                // 204: an unlock answers with no user.
                a.unlock_user(id)?;
                Ok(no_content())
            }
            (Route::Batches, "GET") => {
                let page = a.list_batches(self.param("search"), self.page()?)?;
                Ok(json_response(
                    200,
                    LinkedPage::new(&page, u, |b| Batch::new(b, u)),
                ))
            }
            (Route::Batches, _) => {
                let (body, errors) = self.body::<request::BatchInput>()?;
                let input = body.into_input();
                self.only_type_errors(&errors)?;
                Ok(json_response(201, Batch::new(&a.create_batch(input)?, u)))
            }
            (Route::Batch(id), "GET") => Ok(json_response(200, Batch::new(&a.get_batch(id)?, u))),
            (Route::Batch(id), "DELETE") => {
                a.delete_batch(id)?;
                Ok(no_content())
            }
            (Route::Batch(id), _) => {
                let (body, errors) = self.body::<request::BatchInput>()?;
                let input = body.into_input();
                self.only_type_errors(&errors)?;
                Ok(json_response(
                    200,
                    Batch::new(&a.update_batch(id, input)?, u),
                ))
            }
            (Route::Courses, "GET") => {
                let page = a.list_courses(self.param("q"), self.page()?)?;
                Ok(json_response(
                    200,
                    LinkedPage::new(&page, u, |c| Course::new(c, u)),
                ))
            }
            (Route::Courses | Route::CourseCreate, _) => {
                let (body, errors) = self.body::<CourseInput>()?;
                let input = body.into_input();
                self.only_type_errors(&errors)?;
                Ok(json_response(201, Course::new(&a.create_course(input)?, u)))
            }
            (Route::Course(id), "GET") => {
                Ok(json_response(200, Course::new(&a.get_course(id)?, u)))
            }
            (Route::Course(id), "DELETE") => {
                a.delete_course(id)?;
                Ok(no_content())
            }
            (Route::Course(id), _) => {
                let (body, errors) = self.body::<CourseInput>()?;
                let input = body.into_input();
                self.only_type_errors(&errors)?;
                Ok(json_response(
                    200,
                    Course::new(&a.update_course(id, input)?, u),
                ))
            }
            (Route::CourseBatches(id), "GET") => {
                let page = a.course_batches(id, self.page()?)?;
                Ok(json_response(
                    200,
                    LinkedPage::new(&page, u, |b| Batch::new(b, u)),
                ))
            }
            (Route::CourseBatches(id), _) => {
                let (body, mut errors) = self.body::<BatchIds>()?;
                let ids = required_ids(body.batches, "batches", &mut errors);
                self.only_type_errors(&errors)?;
                if method == "POST" {
                    let page = a.add_course_batches(id, &ids)?;
                    Ok(json_response(
                        201,
                        LinkedPage::new(&page, u, |b| Batch::new(b, u)),
                    ))
                } else {
                    a.remove_course_batches(id, &ids)?;
                    Ok(no_content())
                }
            }
            (Route::CustomFields, "GET") => {
                let page = a.list_custom_fields(self.page()?)?;
                Ok(json_response(
                    200,
                    LinkedPage::new(&page, u, |f| CustomField::new(f, u)),
                ))
            }
            (Route::CustomFields, _) => {
                let (body, errors) = self.body::<CustomFieldInput>()?;
                let input = body.into_input();
                self.only_type_errors(&errors)?;
                Ok(json_response(
                    201,
                    CustomField::new(&a.create_custom_field(input)?, u),
                ))
            }
            (Route::CustomField(id), "GET") => Ok(json_response(
                200,
                CustomField::new(&a.get_custom_field(id)?, u),
            )),
            (Route::CustomField(id), "DELETE") => {
                a.delete_custom_field(id)?;
                Ok(no_content())
            }
            (Route::CustomField(id), _) => {
                let (body, errors) = self.body::<CustomFieldInput>()?;
                let input = body.into_input();
                self.only_type_errors(&errors)?;
                Ok(json_response(
                    200,
                    CustomField::new(&a.update_custom_field(id, input)?, u),
                ))
            }
            (Route::Changes, _) => {
                let number = |name: &str| -> Result<u64, FieldErrors> {
                    match self.param(name) {
                        None | Some("") => Ok(0),
                        Some(text) => text.parse::<u64>().map_err(|_| {
                            let mut errors = FieldErrors::new();
                            errors.add(name, "A valid integer is required.");
                            errors
                        }),
                    }
                };
                let since = number("since").map_err(|e| json_response(400, Errors(&e)))?;
                let limit = number("limit").map_err(|e| json_response(400, Errors(&e)))?;
                let limit = u32::try_from(limit).unwrap_or(u32::MAX);
                Ok(json_response(
                    200,
                    ChangeFeed::new(a.changes_since(since, limit)?),
                ))
            }
            (Route::PurgeExpired, _) => Ok(json_response(
                200,
                Purged {
                    removed: a.purge_expired()?,
                },
            )),
        }
    }
}
impl Call<'_> {
    /// `POST /api/v2.5/auth-token/` `{username, password}` -> `{token, expires}`.
    pub(super) fn sign_in(&self, institute: &Institute) -> Reply {
        let (body, type_errors) = self.body::<SignIn>()?;
        let mut errors = FieldErrors::new();
        let mut field = |field: Text, key: &str| {
            let sent = field.is_sent();
            match field.into_value() {
                Some(v) if !v.is_empty() => Some(v),
                Some(_) => {
                    errors.add(key, crate::domain::rules::BLANK);
                    None
                }
                // Absent; a value of the wrong type has its own message.
                None => {
                    if !sent {
                        errors.add(key, crate::domain::rules::REQUIRED);
                    }
                    None
                }
            }
        };
        let username = field(body.username, "username");
        let password = field(body.password, "password");
        self.type_errors(&type_errors, || Ok(errors.clone()))?;
        errors.into_result()?;
        match institute.login(&username.unwrap_or_default(), &password.unwrap_or_default()) {
            Ok(login) => Ok(json_response(
                200,
                Token {
                    token: login.token,
                    expires: timestamp(login.expires),
                },
            )),
            Err(e) if e.code() == ErrorCode::Unauthenticated => Err(json_response(
                400,
                Errors(&FieldErrors::one(
                    crate::error::NON_FIELD_ERRORS,
                    LOGIN_FAILED,
                )),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// `DELETE /api/v2.5/auth-token/`: ends the session of the token in
    /// `Authorization`; 204.
    pub(super) fn sign_out(&self) -> Reply {
        self.admin.sign_out()?;
        Ok(no_content())
    }

    /// `GET|PUT|PATCH /api/v2.5/me/`.
    pub(super) fn me(&self, method: &str) -> Reply {
        let u = &self.urls;
        if method == "GET" {
            return Ok(json_response(200, TestpressUser::new(&self.admin.me()?, u)));
        }
        // The profile alone: the username, password and flags are
        // read-only here, ignored whatever their type, as Django REST
        // Framework ignores read-only fields.
        let (body, errors) = self.body::<crate::json::request::ProfileFields>()?;
        let patch = crate::UserPatch {
            profile: body.into_input(),
            ..Default::default()
        };
        self.only_type_errors(&errors)?;
        Ok(json_response(
            200,
            TestpressUser::new(&self.admin.update_me(patch)?, u),
        ))
    }

    /// `POST /api/v2.5/me/password/` `{old_password, new_password}`.
    pub(super) fn my_password(&self) -> Reply {
        let (body, mut errors) = self.body::<PasswordChange>()?;
        let mut required = |field: Text, key: &str| {
            if !field.is_sent() {
                errors.add(key, crate::domain::rules::REQUIRED);
            }
            field.into_value()
        };
        let old = required(body.old_password, "old_password");
        let new = required(body.new_password, "new_password");
        errors.into_result()?;
        self.admin
            .change_my_password(&old.unwrap_or_default(), &new.unwrap_or_default())?;
        Ok(json_response(
            200,
            Detail {
                detail: "Password changed.",
            },
        ))
    }
}
