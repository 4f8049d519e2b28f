//! Routing: normalise the path, find the route, check the method, read the
//! body, call the typed API, shape the answer.

use super::{Request, Response};
use crate::api::users::UserQuery;
use crate::api::{LOGIN_FAILED, NO_CREDENTIALS};
use crate::domain::user::CreateOptions;
use crate::domain::{BatchInput, PageRequest};
use crate::error::{Error, ErrorCode, FieldErrors};
use crate::json::body::{Body, BodyError, MAX_BODY};
use crate::json::inputs::{
    access, course_input, custom_field_input, group_input, new_user, user_patch,
};
use crate::json::views::{self, Urls};
use crate::{Admin, Institute};
use serde_json::{Value, json};

/// The API versions served, with the same behaviour.
const VERSIONS: [&str; 2] = ["v2.5", "v2.2"];

/// The resources of the Testpress admin API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
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
}

impl Route {
    /// A path segment that is an id: ASCII digits that fit in u64.
    fn id(s: &str) -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    }

    fn parse(segments: &[&str]) -> Option<Route> {
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
            _ => return None,
        })
    }

    fn methods(self) -> &'static [&'static str] {
        const LIST: &[&str] = &["GET", "POST"];
        const ITEM: &[&str] = &["GET", "PUT", "PATCH", "DELETE"];
        const RELATION: &[&str] = &["GET", "POST", "DELETE"];
        match self {
            Route::Users | Route::Batches | Route::Courses | Route::CustomFields => LIST,
            Route::User(_) | Route::Batch(_) | Route::Course(_) | Route::CustomField(_) => ITEM,
            Route::UserBatches(_) | Route::UserCourses(_) | Route::CourseBatches(_) => RELATION,
            Route::UserSubscriptions(_) => LIST,
            Route::CourseCreate | Route::PurgeExpired | Route::UserUnlock(_) => &["POST"],
        }
    }
}

/// Collapses repeated slashes (`//api/...` in a seed sample).
fn normalise(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 1);
    if !path.starts_with('/') {
        out.push('/');
    }
    for c in path.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    out
}

/// Percent-decodes a query component, `+` as space.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match bytes.get(i + 1..i + 3).and_then(hex_byte) {
                Some(b) => {
                    out.push(b);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_byte(pair: &[u8]) -> Option<u8> {
    let digit = |c: u8| (c as char).to_digit(16);
    Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8)
}

fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

/// One request being served.
struct Call<'a> {
    admin: &'a Admin,
    request: &'a Request,
    query: &'a [(String, String)],
    urls: Urls<'a>,
}

type Reply = Result<Response, Response>;

impl From<Error> for Response {
    fn from(e: Error) -> Response {
        let status = match e.code() {
            ErrorCode::Validation => return json_response(400, views::field_errors(e.fields())),
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::SchemaTooNew
            | ErrorCode::Corrupt
            | ErrorCode::Storage
            | ErrorCode::Internal => 500,
            ErrorCode::Busy => 503,
        };
        let mut response = detail(status, e.message());
        if status == 503 {
            response.headers.push(("Retry-After".into(), "1".into()));
        }
        if status == 401 {
            response
                .headers
                .push(("WWW-Authenticate".into(), "JWT realm=\"api\"".into()));
        }
        response
    }
}

fn json_response(status: u16, body: Value) -> Response {
    Response {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: Some(body.to_string()),
    }
}

fn detail(status: u16, message: &str) -> Response {
    json_response(status, json!({ "detail": message }))
}

fn no_content() -> Response {
    Response {
        status: 204,
        headers: Vec::new(),
        body: None,
    }
}

/// Who serves a request: an institute that authenticates the caller from
/// the `Authorization` header, or a handle already bound to a caller.
#[derive(Debug, Clone, Copy)]
pub(super) enum Entry<'a> {
    /// Authenticate every request ([`super::handle`]).
    Authenticate(&'a Institute),
    /// Run as this caller ([`super::handle_as`]).
    As(&'a Admin),
}

impl Entry<'_> {
    fn institute(&self) -> &Institute {
        match self {
            Entry::Authenticate(i) => i,
            Entry::As(a) => a.institute(),
        }
    }

    /// The caller's handle: from the token of `Authorization: JWT <token>`
    /// (or `Bearer`), or the bound one.
    fn admin(&self, request: &Request) -> Result<Admin, Response> {
        let institute = match self {
            Entry::As(admin) => return Ok((*admin).clone()),
            Entry::Authenticate(i) => i,
        };
        let token = request.header("authorization").and_then(|value| {
            let (scheme, token) = value.trim().split_once(' ')?;
            let known = scheme.eq_ignore_ascii_case("jwt") || scheme.eq_ignore_ascii_case("bearer");
            known.then(|| token.trim())
        });
        match token {
            None => Err(Error::new(ErrorCode::Unauthenticated, NO_CREDENTIALS).into()),
            Some(token) => Ok(institute.session(token)?),
        }
    }
}

/// What a path addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// `/api/<version>/admin/...`: the Testpress admin API.
    Testpress(&'static str, Route),
    /// `/api/<version>/auth-token/`: sign-in (POST), sign-out (DELETE).
    Token,
    /// `/api/<version>/me/`: the caller's own profile.
    Me,
    /// `/api/<version>/me/password/`: the caller's own password.
    MyPassword,
    /// `/api/admin/...`: the Django-style admin API of seed 003.
    Django(DjangoRoute),
}

/// The resources of seed 003.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DjangoRoute {
    Users,
    User(u64),
    Groups,
    Group(u64),
    Permissions,
}

impl Target {
    fn parse(segments: &[&str]) -> Option<Target> {
        let version = |v: &str| VERSIONS.iter().copied().find(|x| *x == v);
        Some(match segments {
            ["api", v, "admin", rest @ ..] => Target::Testpress(version(v)?, Route::parse(rest)?),
            ["api", v, "auth-token"] => {
                version(v)?;
                Target::Token
            }
            ["api", v, "me"] => {
                version(v)?;
                Target::Me
            }
            ["api", v, "me", "password"] => {
                version(v)?;
                Target::MyPassword
            }
            ["api", "admin", "users"] => Target::Django(DjangoRoute::Users),
            ["api", "admin", "users", i] => Target::Django(DjangoRoute::User(Route::id(i)?)),
            ["api", "admin", "groups"] => Target::Django(DjangoRoute::Groups),
            ["api", "admin", "groups", i] => Target::Django(DjangoRoute::Group(Route::id(i)?)),
            ["api", "admin", "permissions"] => Target::Django(DjangoRoute::Permissions),
            _ => return None,
        })
    }

    fn methods(self) -> &'static [&'static str] {
        match self {
            Target::Testpress(_, route) => route.methods(),
            Target::Token => &["POST", "DELETE"],
            Target::MyPassword => &["POST"],
            Target::Me => &["GET", "PUT", "PATCH"],
            Target::Django(DjangoRoute::Users | DjangoRoute::Groups) => &["GET", "POST"],
            Target::Django(DjangoRoute::User(_) | DjangoRoute::Group(_)) => {
                &["GET", "PUT", "PATCH", "DELETE"]
            }
            Target::Django(DjangoRoute::Permissions) => &["GET"],
        }
    }
}

/// Serves one request.
pub(super) fn dispatch(entry: Entry<'_>, request: &Request) -> Response {
    let path = normalise(&request.path);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let Some(target) = Target::parse(&segments) else {
        return detail(404, "Not found.");
    };
    // Method names are case-sensitive (RFC 9110 9.1): `get` is no GET.
    let method = request.method.clone();
    // As Django REST Framework: authentication before the method check.
    // Sign-in needs no session; sign-out is of the caller's own.
    let admin = match target {
        Target::Token if method != "DELETE" => None,
        _ => match entry.admin(request) {
            Ok(admin) => Some(admin),
            Err(response) => return response,
        },
    };
    if !target.methods().contains(&method.as_str()) {
        let mut response = detail(405, &format!("Method \"{method}\" not allowed."));
        response
            .headers
            .push(("Allow".into(), target.methods().join(", ")));
        return response;
    }
    let query = parse_query(&request.query);
    let institute = entry.institute();
    let prefix = match target {
        Target::Testpress(version, _) => format!("/api/{version}/admin"),
        Target::Me | Target::MyPassword | Target::Token => format!("/api/{}/admin", segments[1]),
        Target::Django(_) => "/api/admin".to_string(),
    };
    let operator = institute.operator();
    let call = Call {
        admin: admin.as_ref().unwrap_or(&operator),
        request,
        query: &query,
        urls: Urls {
            base: request
                .base_url
                .as_deref()
                .map(|b| b.trim_end_matches('/'))
                .unwrap_or(&institute.config().base_url),
            prefix,
            path: &path,
            query: &query,
        },
    };
    let reply = match target {
        Target::Testpress(_, route) => call.serve(route, &method),
        Target::Token if method == "DELETE" => call.sign_out(),
        Target::Token => call.sign_in(institute),
        Target::Me => call.me(&method),
        Target::MyPassword => call.my_password(),
        Target::Django(route) => call.django(route, &method),
    };
    match reply {
        Ok(r) | Err(r) => r,
    }
}

impl Call<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn flag(&self, name: &str) -> bool {
        matches!(self.param(name), Some("true" | "True" | "1"))
    }

    /// `page` and `per_page`: a page that is not a positive integer is 404;
    /// a bad `per_page` falls back to the default.
    fn page(&self) -> Result<PageRequest, Response> {
        let page = match self.param("page") {
            None => 1,
            Some(p) => match p.parse::<u64>() {
                Ok(n) if n > 0 => n,
                _ => return Err(detail(404, "Invalid page.")),
            },
        };
        // Any positive whole number is a size (capped by the API); a number
        // too large for u32 is certainly above the cap.
        let per_page = self.param("per_page").and_then(|p| match p.parse::<u64>() {
            Ok(n) => Some(u32::try_from(n).unwrap_or(u32::MAX)),
            Err(_) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => Some(u32::MAX),
            Err(_) => None,
        });
        Ok(PageRequest { page, per_page })
    }

    /// The JSON object body.
    fn body(&self) -> Result<Body, Response> {
        let bytes = self.request.body.as_deref().unwrap_or_default();
        if bytes.len() > MAX_BODY {
            return Err(detail(413, "Request body is too large."));
        }
        if !bytes.iter().all(u8::is_ascii_whitespace)
            && let Some(ct) = self.request.header("content-type")
        {
            let media = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if media != "application/json" && !media.ends_with("+json") {
                return Err(detail(
                    415,
                    &format!("Unsupported media type \"{ct}\" in request."),
                ));
            }
        }
        Body::parse(bytes).map_err(|e| match e {
            BodyError::Parse(m) => detail(400, &format!("JSON parse error - {m}")),
            BodyError::NotObject(t) => json_response(
                400,
                json!({ "non_field_errors": [format!("Invalid data. Expected a dictionary, but got {t}.")] }),
            ),
        })
    }

    /// Fails with the body's type errors merged with the rule errors `check`
    /// finds in the rest of the input, so every problem is reported at once.
    fn type_errors(
        &self,
        body: &Body,
        check: impl FnOnce() -> crate::Result<FieldErrors>,
    ) -> Result<(), Response> {
        if body.errors().is_empty() {
            return Ok(());
        }
        let mut errors = body.errors().clone();
        errors.merge_missing(check()?);
        Err(Error::validation(errors).into())
    }

    fn only_type_errors(&self, body: &Body) -> Result<(), Response> {
        self.type_errors(body, || Ok(FieldErrors::new()))
    }

    fn serve(&self, route: Route, method: &str) -> Reply {
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
                    views::page(&page, u, |x| views::user(x, u)),
                ))
            }
            (Route::Users, _) => {
                let mut body = self.body()?;
                let input = new_user(&mut body);
                let options = CreateOptions {
                    auto_generate_password: self.flag("auto_generate_password"),
                    notify_credential: self.flag("notify_credential"),
                    last_name_required: false,
                };
                self.type_errors(&body, || a.check_new_user(&input, options))?;
                let created = a.create_user(input, options)?;
                Ok(json_response(201, views::user(&created.user, u)))
            }
            (Route::User(id), "GET") => Ok(json_response(200, views::user(&a.get_user(id)?, u))),
            (Route::User(id), "DELETE") => {
                a.delete_user(id)?;
                Ok(no_content())
            }
            (Route::User(id), _) => {
                let mut body = self.body()?;
                let patch = user_patch(&mut body);
                self.type_errors(&body, || a.check_user_patch(id, &patch))?;
                Ok(json_response(
                    200,
                    views::user(&a.update_user(id, patch)?, u),
                ))
            }
            (Route::UserBatches(id), "GET") => {
                let page = a.user_batches(id, self.page()?)?;
                Ok(json_response(200, views::page(&page, u, views::batch_ref)))
            }
            (Route::UserBatches(id), _) => {
                let mut body = self.body()?;
                let ids = body.ids("batches");
                self.only_type_errors(&body)?;
                let ids = ids.unwrap_or_default();
                if method == "POST" {
                    let all = a.add_user_batches(id, &ids)?;
                    Ok(json_response(
                        201,
                        all.iter().map(views::batch_ref).collect(),
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
                    views::page(&page, u, |c| views::course(c, u)),
                ))
            }
            (Route::UserCourses(id), _) => {
                let mut body = self.body()?;
                let ids = body.ids("courses");
                self.only_type_errors(&body)?;
                let ids = ids.unwrap_or_default();
                if method == "POST" {
                    let page = a.add_user_courses(id, &ids)?;
                    Ok(json_response(
                        201,
                        views::page(&page, u, |c| views::course(c, u)),
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
                    views::page(&page, u, |s| views::subscription(s, u)),
                ))
            }
            (Route::UserSubscriptions(id), _) => {
                let mut body = self.body()?;
                let ids = body.ids("batches");
                let expires = body.string("expires").filter(|e| !e.is_empty());
                self.only_type_errors(&body)?;
                let subs =
                    a.add_user_subscriptions(id, &ids.unwrap_or_default(), expires.as_deref())?;
                Ok(json_response(
                    201,
                    subs.iter().map(|s| views::subscription(s, u)).collect(),
                ))
            }
            (Route::UserUnlock(id), _) => {
                // 204: the answer carries no user, so `change_user` alone
                // (without `view_user`) shows nothing it may not see.
                a.unlock_user(id)?;
                Ok(no_content())
            }
            (Route::Batches, "GET") => {
                let page = a.list_batches(self.param("search"), self.page()?)?;
                Ok(json_response(
                    200,
                    views::page(&page, u, |b| views::batch(b, u)),
                ))
            }
            (Route::Batches, _) => {
                let mut body = self.body()?;
                let input = BatchInput {
                    name: body.string("name"),
                };
                self.only_type_errors(&body)?;
                Ok(json_response(201, views::batch(&a.create_batch(input)?, u)))
            }
            (Route::Batch(id), "GET") => Ok(json_response(200, views::batch(&a.get_batch(id)?, u))),
            (Route::Batch(id), "DELETE") => {
                a.delete_batch(id)?;
                Ok(no_content())
            }
            (Route::Batch(id), _) => {
                let mut body = self.body()?;
                let input = BatchInput {
                    name: body.string("name"),
                };
                self.only_type_errors(&body)?;
                Ok(json_response(
                    200,
                    views::batch(&a.update_batch(id, input)?, u),
                ))
            }
            (Route::Courses, "GET") => {
                let page = a.list_courses(self.param("q"), self.page()?)?;
                Ok(json_response(
                    200,
                    views::page(&page, u, |c| views::course(c, u)),
                ))
            }
            (Route::Courses | Route::CourseCreate, _) => {
                let mut body = self.body()?;
                let input = course_input(&mut body);
                self.only_type_errors(&body)?;
                Ok(json_response(
                    201,
                    views::course(&a.create_course(input)?, u),
                ))
            }
            (Route::Course(id), "GET") => {
                Ok(json_response(200, views::course(&a.get_course(id)?, u)))
            }
            (Route::Course(id), "DELETE") => {
                a.delete_course(id)?;
                Ok(no_content())
            }
            (Route::Course(id), _) => {
                let mut body = self.body()?;
                let input = course_input(&mut body);
                self.only_type_errors(&body)?;
                Ok(json_response(
                    200,
                    views::course(&a.update_course(id, input)?, u),
                ))
            }
            (Route::CourseBatches(id), "GET") => {
                let page = a.course_batches(id, self.page()?)?;
                Ok(json_response(
                    200,
                    views::page(&page, u, |b| views::batch(b, u)),
                ))
            }
            (Route::CourseBatches(id), _) => {
                let mut body = self.body()?;
                let ids = body.ids("batches");
                self.only_type_errors(&body)?;
                let ids = ids.unwrap_or_default();
                if method == "POST" {
                    let page = a.add_course_batches(id, &ids)?;
                    Ok(json_response(
                        201,
                        views::page(&page, u, |b| views::batch(b, u)),
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
                    views::page(&page, u, |f| views::custom_field(f, u)),
                ))
            }
            (Route::CustomFields, _) => {
                let mut body = self.body()?;
                let input = custom_field_input(&mut body);
                self.only_type_errors(&body)?;
                Ok(json_response(
                    201,
                    views::custom_field(&a.create_custom_field(input)?, u),
                ))
            }
            (Route::CustomField(id), "GET") => Ok(json_response(
                200,
                views::custom_field(&a.get_custom_field(id)?, u),
            )),
            (Route::CustomField(id), "DELETE") => {
                a.delete_custom_field(id)?;
                Ok(no_content())
            }
            (Route::CustomField(id), _) => {
                let mut body = self.body()?;
                let input = custom_field_input(&mut body);
                self.only_type_errors(&body)?;
                Ok(json_response(
                    200,
                    views::custom_field(&a.update_custom_field(id, input)?, u),
                ))
            }
            (Route::PurgeExpired, _) => {
                Ok(json_response(200, json!({ "removed": a.purge_expired()? })))
            }
        }
    }
}

impl Call<'_> {
    /// `POST /api/v2.5/auth-token/` `{username, password}` -> `{token, expires}`.
    fn sign_in(&self, institute: &Institute) -> Reply {
        let mut body = self.body()?;
        let mut errors = FieldErrors::new();
        let mut field = |body: &mut Body, key: &str| match body.string(key) {
            Some(v) if !v.is_empty() => Some(v),
            Some(_) => {
                errors.add(key, crate::domain::rules::BLANK);
                None
            }
            None => {
                if !body.errors().has(key) {
                    errors.add(key, crate::domain::rules::REQUIRED);
                }
                None
            }
        };
        let username = field(&mut body, "username");
        let password = field(&mut body, "password");
        self.type_errors(&body, || Ok(errors.clone()))?;
        errors.into_result()?;
        match institute.login(&username.unwrap_or_default(), &password.unwrap_or_default()) {
            Ok(login) => Ok(json_response(
                200,
                json!({"token": login.token, "expires": views::timestamp(login.expires)}),
            )),
            Err(e) if e.code() == ErrorCode::Unauthenticated => Err(json_response(
                400,
                json!({ "non_field_errors": [LOGIN_FAILED] }),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// `DELETE /api/v2.5/auth-token/`: ends the session of the token in
    /// `Authorization`; 204.
    fn sign_out(&self) -> Reply {
        self.admin.sign_out()?;
        Ok(no_content())
    }

    /// `GET|PUT|PATCH /api/v2.5/me/`.
    fn me(&self, method: &str) -> Reply {
        let u = &self.urls;
        if method == "GET" {
            return Ok(json_response(200, views::user(&self.admin.me()?, u)));
        }
        let mut body = self.body()?;
        let patch = user_patch(&mut body);
        self.only_type_errors(&body)?;
        Ok(json_response(
            200,
            views::user(&self.admin.update_me(patch)?, u),
        ))
    }

    /// `POST /api/v2.5/me/password/` `{old_password, new_password}`.
    fn my_password(&self) -> Reply {
        let mut body = self.body()?;
        let old = body.string("old_password");
        let new = body.string("new_password");
        let mut errors = body.errors().clone();
        for (key, value) in [("old_password", &old), ("new_password", &new)] {
            if value.is_none() && !errors.has(key) {
                errors.add(key, crate::domain::rules::REQUIRED);
            }
        }
        errors.into_result()?;
        self.admin
            .change_my_password(&old.unwrap_or_default(), &new.unwrap_or_default())?;
        Ok(json_response(200, json!({ "detail": "Password changed." })))
    }

    /// Seed 003: `/api/admin/users/`, `/api/admin/groups/`,
    /// `/api/admin/permissions/`.
    fn django(&self, route: DjangoRoute, method: &str) -> Reply {
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
                    views::page(&page, u, views::django_user),
                ))
            }
            (DjangoRoute::Users, _) => {
                let mut body = self.body()?;
                let mut input = new_user(&mut body);
                input.access = access(&mut body);
                // Seed 003's defaults: inactive until activated.
                input.is_active = input.is_active.or(Some(false));
                let options = CreateOptions {
                    last_name_required: true,
                    ..Default::default()
                };
                self.type_errors(&body, || a.check_new_user(&input, options))?;
                let created = a.create_user(input, options)?;
                Ok(json_response(201, views::django_user(&created.user)))
            }
            (DjangoRoute::User(id), "GET") => {
                Ok(json_response(200, views::django_user(&a.get_user(id)?)))
            }
            (DjangoRoute::User(id), "DELETE") => {
                a.delete_user(id)?;
                Ok(no_content())
            }
            (DjangoRoute::User(id), _) => {
                let mut body = self.body()?;
                let mut patch = user_patch(&mut body);
                patch.access = access(&mut body);
                self.type_errors(&body, || a.check_user_patch(id, &patch))?;
                Ok(json_response(
                    200,
                    views::django_user(&a.update_user(id, patch)?),
                ))
            }
            (DjangoRoute::Groups, "GET") => {
                let page = a.list_groups(self.param("name"), self.page()?)?;
                Ok(json_response(200, views::page(&page, u, views::group)))
            }
            (DjangoRoute::Groups, _) => {
                let mut body = self.body()?;
                let input = group_input(&mut body);
                self.only_type_errors(&body)?;
                Ok(json_response(201, views::group(&a.create_group(input)?)))
            }
            (DjangoRoute::Group(id), "GET") => {
                Ok(json_response(200, views::group(&a.get_group(id)?)))
            }
            (DjangoRoute::Group(id), "DELETE") => {
                a.delete_group(id)?;
                Ok(no_content())
            }
            (DjangoRoute::Group(id), _) => {
                let mut body = self.body()?;
                let input = group_input(&mut body);
                self.only_type_errors(&body)?;
                Ok(json_response(
                    200,
                    views::group(&a.update_group(id, input)?),
                ))
            }
            (DjangoRoute::Permissions, _) => {
                let list: Vec<Value> = a
                    .permissions()?
                    .iter()
                    .map(|p| json!({"id": p.id, "codename": p.codename, "name": p.name}))
                    .collect();
                Ok(json_response(200, Value::Array(list)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised_and_routed() {
        assert_eq!(
            normalise("//api//v2.5/admin/users/"),
            "/api/v2.5/admin/users/"
        );
        assert_eq!(
            Route::parse(&["users", "7", "batches"]),
            Some(Route::UserBatches(7))
        );
        assert_eq!(Route::parse(&["users", "-7"]), None);
        assert_eq!(Route::parse(&["users", "99999999999999999999999"]), None);
        assert_eq!(Route::parse(&["users", "+7"]), None);
    }

    #[test]
    fn queries_are_percent_decoded_with_plus_as_space() {
        assert_eq!(
            parse_query("q=john+doe&email=a%40b.com&x&bad=%zz%4"),
            vec![
                ("q".into(), "john doe".into()),
                ("email".into(), "a@b.com".into()),
                ("x".into(), String::new()),
                ("bad".into(), "%zz%4".into()),
            ]
        );
        assert_eq!(decode("%E0%AE%B0"), "ர");
    }
}
