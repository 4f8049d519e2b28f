//! The `Admin` class: the administration API as seen by one caller. This
//! file: users and their batches, courses and subscriptions.

use crate::convert::{
    JsResult, error, from_js, id, ids, number, opt_text, options, out, text, to_js,
};
use roster::json;
use serde::{Deserialize, Serialize};
use tsify::Tsify;
use wasm_bindgen::prelude::*;

/// The administration API as seen by one caller (`institute.operator()` or
/// `institute.session(token)`): every operation checks the caller.
#[wasm_bindgen]
pub struct Admin(pub(crate) roster::Admin);

impl From<roster::Admin> for Admin {
    fn from(admin: roster::Admin) -> Self {
        Admin(admin)
    }
}

/// Which page of a list: `{page?, perPage?}`.
#[derive(Debug, Default, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PageArg {
    /// Page number from 1 (default 1).
    #[tsify(optional)]
    page: Option<u64>,
    /// Page size (default the configured one, capped at its maximum).
    #[tsify(optional)]
    per_page: Option<u32>,
}

/// Which page a JS argument asks for (the first by default).
pub(crate) fn page(value: JsValue) -> JsResult<roster::PageRequest> {
    let arg: PageArg = options(value, "page")?;
    Ok(roster::PageRequest {
        page: arg.page.unwrap_or(1),
        per_page: arg.per_page,
    })
}

/// The core's options of a create from `{autoGeneratePassword?, notifyCredential?}`.
fn create_options(value: JsValue) -> JsResult<roster::CreateOptions> {
    let o: CreateOptions = options(value, "options")?;
    Ok(roster::CreateOptions {
        auto_generate_password: o.auto_generate_password.unwrap_or(false),
        notify_credential: o.notify_credential.unwrap_or(false),
        ..Default::default()
    })
}

/// A filtered list of users: `{q?, email?, page?, perPage?, withBatches?}`.
#[derive(Debug, Default, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserQuery {
    /// Username or email contains this, ignoring case.
    #[tsify(optional)]
    q: Option<String>,
    /// Email equals this, ignoring case.
    #[tsify(optional)]
    email: Option<String>,
    /// Page number from 1.
    #[tsify(optional)]
    page: Option<u64>,
    /// Page size.
    #[tsify(optional)]
    per_page: Option<u32>,
    /// Each user with its batches.
    #[tsify(optional)]
    with_batches: Option<bool>,
}

/// How a user is created: `{autoGeneratePassword?, notifyCredential?}`.
#[derive(Debug, Default, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateOptions {
    /// Generate a password (returned once as `generatedPassword`).
    #[tsify(optional)]
    auto_generate_password: Option<bool>,
    /// Queue the credentials in the outbox.
    #[tsify(optional)]
    notify_credential: Option<bool>,
}

/// A created user: `{user, generatedPassword}` (no Debug: it would print
/// the password).
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    /// The user.
    user: json::records::User,
    /// The password generated when asked for (shown this once), or null.
    generated_password: Option<String>,
}

#[wasm_bindgen]
impl Admin {
    /// Creates a user (T1, T2): `{user, generatedPassword}`.
    #[wasm_bindgen(js_name = createUser, unchecked_return_type = "Created")]
    pub fn create_user(
        &self,
        #[wasm_bindgen(unchecked_param_type = "NewUser")] input: JsValue,
        #[wasm_bindgen(js_name = options, unchecked_optional_param_type = "CreateOptions")]
        options_arg: JsValue,
    ) -> JsResult<JsValue> {
        let input = json::new_user(from_js(input)?).map_err(error)?;
        let options = create_options(options_arg)?;
        out(self.0.create_user(input, options), |c| Created {
            user: json::user(&c.user),
            generated_password: c.generated_password,
        })
    }

    /// Every problem `createUser` of `input` would report, as messages by
    /// field, without writing anything (`{}`: it would pass). For forms that
    /// check as they go.
    #[wasm_bindgen(js_name = checkNewUser, unchecked_return_type = "FieldMessages")]
    pub fn check_new_user(
        &self,
        #[wasm_bindgen(unchecked_param_type = "NewUser")] input: JsValue,
        #[wasm_bindgen(js_name = options, unchecked_optional_param_type = "CreateOptions")]
        options_arg: JsValue,
    ) -> JsResult<JsValue> {
        let input = json::new_user(from_js(input)?).map_err(error)?;
        let options = create_options(options_arg)?;
        let found = self.0.check_new_user(&input, options).map_err(error)?;
        Ok(to_js(&json::views::Errors(&found)))
    }

    /// Users by id, filtered (T3): a page of users.
    #[wasm_bindgen(js_name = listUsers, unchecked_return_type = "Page<User>")]
    pub fn list_users(
        &self,
        #[wasm_bindgen(js_name = query, unchecked_optional_param_type = "UserQuery")]
        query: JsValue,
    ) -> JsResult<JsValue> {
        let q: UserQuery = options(query, "query")?;
        let query = roster::UserQuery {
            q: q.q,
            email: q.email,
            page: roster::PageRequest {
                page: q.page.unwrap_or(1),
                per_page: q.per_page,
            },
            with_batches: q.with_batches.unwrap_or(false),
        };
        out(self.0.list_users(&query), |p| json::page(&p, json::user))
    }

    /// User `id` (T4).
    #[wasm_bindgen(js_name = getUser, unchecked_return_type = "User")]
    pub fn get_user(
        &self,
        #[wasm_bindgen(js_name = id, unchecked_param_type = "number")] user: JsValue,
    ) -> JsResult<JsValue> {
        out(self.0.get_user(id(&user, "id")?), |u| json::user(&u))
    }

    /// The id of the user with this username or email.
    #[wasm_bindgen(js_name = findUser)]
    pub fn find_user(
        &self,
        #[wasm_bindgen(js_name = usernameOrEmail, unchecked_param_type = "string")]
        username_or_email: JsValue,
    ) -> JsResult<f64> {
        self.0
            .find_user(&text(&username_or_email, "usernameOrEmail")?)
            .map(|id| id as f64)
            .map_err(error)
    }

    /// Changes user `id` (T5): present fields change, absent ones stay.
    #[wasm_bindgen(js_name = updateUser, unchecked_return_type = "User")]
    pub fn update_user(
        &self,
        #[wasm_bindgen(js_name = id, unchecked_param_type = "number")] user: JsValue,
        #[wasm_bindgen(unchecked_param_type = "UserPatch")] patch: JsValue,
    ) -> JsResult<JsValue> {
        let user = id(&user, "id")?;
        let patch = json::user_patch(from_js(patch)?).map_err(error)?;
        out(self.0.update_user(user, patch), |u| json::user(&u))
    }

    /// Every problem `updateUser` of `patch` would report, as messages by
    /// field, without writing anything (`{}`: it would pass).
    #[wasm_bindgen(js_name = checkUserPatch, unchecked_return_type = "FieldMessages")]
    pub fn check_user_patch(
        &self,
        #[wasm_bindgen(js_name = id, unchecked_param_type = "number")] user: JsValue,
        #[wasm_bindgen(unchecked_param_type = "UserPatch")] patch: JsValue,
    ) -> JsResult<JsValue> {
        let user = id(&user, "id")?;
        let patch = json::user_patch(from_js(patch)?).map_err(error)?;
        let found = self.0.check_user_patch(user, &patch).map_err(error)?;
        Ok(to_js(&json::views::Errors(&found)))
    }

    /// Deletes user `id` and everything related (T6).
    #[wasm_bindgen(js_name = deleteUser)]
    pub fn delete_user(
        &self,
        #[wasm_bindgen(js_name = id, unchecked_param_type = "number")] user: JsValue,
    ) -> JsResult<()> {
        self.0.delete_user(id(&user, "id")?).map_err(error)
    }

    /// The user's batches, newest first (T7).
    #[wasm_bindgen(js_name = userBatches, unchecked_return_type = "Page<BatchName>")]
    pub fn user_batches(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] user: JsValue,
        #[wasm_bindgen(js_name = which, unchecked_optional_param_type = "PageArg")] which: JsValue,
    ) -> JsResult<JsValue> {
        out(self.0.user_batches(id(&user, "user")?, page(which)?), |p| {
            json::page(&p, json::batch_ref)
        })
    }

    /// Adds the user to batches by id (T7): all the user's batches.
    #[wasm_bindgen(js_name = addUserBatches, unchecked_return_type = "BatchName[]")]
    pub fn add_user_batches(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] user: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number[]")] batches: JsValue,
    ) -> JsResult<JsValue> {
        let user = id(&user, "user")?;
        out(
            self.0.add_user_batches(user, &ids(&batches, "batches")?),
            |v| v.iter().map(json::batch_ref).collect::<Vec<_>>(),
        )
    }

    /// Removes the user from batches by id (T7).
    #[wasm_bindgen(js_name = removeUserBatches)]
    pub fn remove_user_batches(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] user: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number[]")] batches: JsValue,
    ) -> JsResult<()> {
        self.0
            .remove_user_batches(id(&user, "user")?, &ids(&batches, "batches")?)
            .map_err(error)
    }

    /// The user's courses (T8).
    #[wasm_bindgen(js_name = userCourses, unchecked_return_type = "Page<Course>")]
    pub fn user_courses(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] user: JsValue,
        #[wasm_bindgen(js_name = which, unchecked_optional_param_type = "PageArg")] which: JsValue,
    ) -> JsResult<JsValue> {
        out(self.0.user_courses(id(&user, "user")?, page(which)?), |p| {
            json::page(&p, json::course)
        })
    }

    /// Grants courses directly (T8): the first page of the user's courses.
    #[wasm_bindgen(js_name = addUserCourses, unchecked_return_type = "Page<Course>")]
    pub fn add_user_courses(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] user: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number[]")] courses: JsValue,
    ) -> JsResult<JsValue> {
        let user = id(&user, "user")?;
        out(
            self.0.add_user_courses(user, &ids(&courses, "courses")?),
            |p| json::page(&p, json::course),
        )
    }

    /// Ends direct grants of courses (T8).
    #[wasm_bindgen(js_name = removeUserCourses)]
    pub fn remove_user_courses(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] user: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number[]")] courses: JsValue,
    ) -> JsResult<()> {
        self.0
            .remove_user_courses(id(&user, "user")?, &ids(&courses, "courses")?)
            .map_err(error)
    }

    /// The user's subscriptions, newest first (T9).
    #[wasm_bindgen(js_name = userSubscriptions, unchecked_return_type = "Page<Subscription>")]
    pub fn user_subscriptions(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] user: JsValue,
        #[wasm_bindgen(js_name = which, unchecked_optional_param_type = "PageArg")] which: JsValue,
    ) -> JsResult<JsValue> {
        out(
            self.0.user_subscriptions(id(&user, "user")?, page(which)?),
            |p| json::page(&p, json::subscription),
        )
    }

    /// Subscribes the user to batches until `expires` (`yyyy-mm-dd`) (T9).
    #[wasm_bindgen(js_name = addUserSubscriptions, unchecked_return_type = "Subscription[]")]
    pub fn add_user_subscriptions(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] user: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number[]")] batches: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "string | null")] expires: JsValue,
    ) -> JsResult<JsValue> {
        let user = id(&user, "user")?;
        let batches = ids(&batches, "batches")?;
        let expires = opt_text(&expires, "expires")?;
        let result = self
            .0
            .add_user_subscriptions(user, &batches, expires.as_deref());
        out(result, |v| {
            v.iter().map(json::subscription).collect::<Vec<_>>()
        })
    }

    /// Deletes every expired subscription (T10); returns how many.
    #[wasm_bindgen(js_name = purgeExpired)]
    pub fn purge_expired(&self) -> JsResult<f64> {
        self.0.purge_expired().map(|n| n as f64).map_err(error)
    }

    /// Up to `limit` (1-1000; 0 or none: 100) entries of the change feed after entry
    /// `since` (X4), as `GET /api/v2.5/admin/changes/` gives them. Needs
    /// `view_change`.
    #[wasm_bindgen(js_name = changesSince, unchecked_return_type = "ChangeFeed")]
    pub fn changes_since(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] since: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "number | null")] limit: JsValue,
    ) -> JsResult<JsValue> {
        let since = id(&since, "since")?;
        // Above 1000 is 1000 to the core: so is above u32's range.
        let limit = if limit.is_undefined() || limit.is_null() {
            0
        } else {
            u32::try_from(number(&limit, "limit", "a limit")?).unwrap_or(u32::MAX)
        };
        out(
            self.0.changes_since(since, limit),
            json::testpress::ChangeFeed::new,
        )
    }

    /// Removes the change feed's entries older than the retention window;
    /// how many went (the operator only).
    #[wasm_bindgen(js_name = purgeChanges)]
    pub fn purge_changes(&self) -> JsResult<f64> {
        self.0.purge_changes().map(|n| n as f64).map_err(error)
    }
}
