//! Routing: normalise the path, find the surface and its route, check the
//! method, authenticate, and hand the call to the surface's module, which
//! reads the body, calls the typed API and shapes the answer.

use super::django::DjangoRoute;
use super::testpress::Route;
use super::{Request, Response};
use crate::api::NO_CREDENTIALS;
use crate::domain::PageRequest;
use crate::error::{Error, ErrorCode, FieldErrors};
use crate::json::body::{self, BodyError, MAX_BODY};
use crate::json::request::{self, Shape};
use crate::json::views::{Detail, Errors, Urls};
use crate::{Admin, Institute};
use serde::Serialize;

/// The API versions served, with the same behaviour.
pub(super) const VERSIONS: [&str; 2] = ["v2.5", "v2.2"];

/// Whether a path segment names an API version: `v`, a digit, then digits
/// and dots (`v2.5`, `v9`, `v10.1`).
pub(super) fn version_like(segment: &str) -> bool {
    segment.strip_prefix('v').is_some_and(|n| {
        n.starts_with(|c: char| c.is_ascii_digit())
            && n.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    })
}

/// Every API version roster serves, for the 404 of a version it does not:
/// the Testpress versions ([`VERSIONS`]) and the Sunbird ones.
pub(super) fn served_versions() -> String {
    let testpress: Vec<String> = VERSIONS.iter().map(|v| format!("/api/{v}/")).collect();
    format!(
        "the Testpress API is served under {}, the Sunbird API under {}",
        testpress.join(" and "),
        super::sunbird::SERVED
    )
}

/// The 404 of `/api/<version>/...` for a version roster does not serve,
/// shaped as the other 404s of the Testpress surface.
fn unserved_version(version: &str) -> Response {
    detail(
        404,
        &format!(
            "Not found. roster serves no API version \"{}\": {}.",
            crate::text::clip(version),
            served_versions()
        ),
    )
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

/// Percent-decodes a URL query component, `+` as space (invalid escapes
/// and UTF-8 kept as written or replaced): the one decoder of query text,
/// which the PostgreSQL backend and the CLI use for connection strings too.
pub fn query_decoded(s: &str) -> String {
    decode_with(s, true)
}

/// A path segment percent-decoded, whole: `&`, `=` and `+` are themselves
/// there (only a query gives them meaning).
pub(super) fn decode_segment(s: &str) -> String {
    decode_with(s, false)
}

/// `s` percent-decoded (invalid UTF-8 replaced); `+` a space when
/// `plus_is_space` (a query).
fn decode_with(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_is_space => out.push(b' '),
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

pub(super) fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (query_decoded(k), query_decoded(v)),
            None => (query_decoded(p), String::new()),
        })
        .collect()
}

/// One request being served.
pub(super) struct Call<'a> {
    pub(super) admin: &'a Admin,
    pub(super) request: &'a Request,
    pub(super) query: &'a [(String, String)],
    pub(super) urls: Urls<'a>,
}

pub(super) type Reply = Result<Response, Response>;

impl From<Error> for Response {
    fn from(e: Error) -> Response {
        let status = match e.code() {
            ErrorCode::Validation => return json_response(400, Errors(e.fields())),
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

/// A JSON answer.
pub(super) fn json_response(status: u16, body: impl Serialize) -> Response {
    Response {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        // Every representation is plain data: writing it cannot fail.
        body: Some(serde_json::to_string(&body).unwrap_or_default()),
    }
}

/// `{"detail": message}`.
pub(super) fn detail(status: u16, message: &str) -> Response {
    json_response(status, Detail { detail: message })
}

/// 204, no body.
pub(super) fn no_content() -> Response {
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
    pub(super) fn institute(&self) -> &Institute {
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
    #[cfg(feature = "openapi")]
    if segments == ["api", "openapi.json"] {
        return openapi(request);
    }
    if super::sunbird::is_sunbird(&segments) {
        return super::sunbird::serve(entry, request, &segments);
    }
    let Some(target) = Target::parse(&segments) else {
        return match segments.as_slice() {
            ["api", v, ..] if version_like(v) && !VERSIONS.contains(v) => unserved_version(v),
            _ => detail(404, "Not found."),
        };
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
    // As Django REST Framework too: permission before the method and the
    // request's parameters and body. Every admin operation needs active
    // staff (each checks its own permission again).
    if let (Target::Testpress(..) | Target::Django(_), Some(admin)) = (target, &admin)
        && let Err(refused) = admin.allow_staff()
    {
        return refused.into();
    }
    if !target.methods().contains(&method.as_str()) {
        let method = crate::text::clip(&method);
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

/// `GET /api/openapi.json`: the OpenAPI document, to anyone (it holds no
/// data, only what the documents publish).
#[cfg(feature = "openapi")]
fn openapi(request: &Request) -> Response {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if request.method != "GET" {
        let mut response = detail(
            405,
            &format!(
                "Method \"{}\" not allowed.",
                crate::text::clip(&request.method)
            ),
        );
        response.headers.push(("Allow".into(), "GET".into()));
        return response;
    }
    Response {
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: Some(DOCUMENT.get_or_init(super::openapi::document).clone()),
    }
}

impl Call<'_> {
    pub(super) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn flag(&self, name: &str) -> bool {
        matches!(self.param(name), Some("true" | "True" | "1"))
    }

    /// `page` and `per_page`: a page that is not a positive integer is 404;
    /// a bad `per_page` falls back to the default. Both are read as Django
    /// REST Framework reads them ([`python_int`]).
    pub(super) fn page(&self) -> Result<PageRequest, Response> {
        let page = match self.param("page").map(python_int) {
            None => 1,
            Some(Some((false, n))) if n > 0 => n,
            Some(_) => return Err(detail(404, "Invalid page.")),
        };
        // Any positive whole number is a size (capped by the API); one too
        // large for u32 is certainly above the cap.
        let per_page = match self.param("per_page").and_then(python_int) {
            Some((false, n)) => Some(u32::try_from(n).unwrap_or(u32::MAX)),
            _ => None,
        };
        Ok(PageRequest { page, per_page })
    }

    /// The body read as `T`, with the type errors of its fields.
    pub(super) fn body<T: Shape>(&self) -> Result<(T, FieldErrors), Response> {
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
                    &format!(
                        "Unsupported media type \"{}\" in request.",
                        crate::text::clip(ct)
                    ),
                ));
            }
        }
        let map = body::parse(bytes).map_err(|e| match e {
            BodyError::Parse(m) => detail(400, &format!("JSON parse error - {m}")),
            BodyError::NotObject(t) => json_response(
                400,
                Errors(&FieldErrors::one(
                    crate::error::NON_FIELD_ERRORS,
                    format!("Invalid data. Expected a dictionary, but got {t}."),
                )),
            ),
        })?;
        Ok(request::read(map))
    }

    /// Fails with the body's type errors merged with the rule errors `check`
    /// finds in the rest of the input, so every problem is reported at once.
    pub(super) fn type_errors(
        &self,
        errors: &FieldErrors,
        check: impl FnOnce() -> crate::Result<FieldErrors>,
    ) -> Result<(), Response> {
        if errors.is_empty() {
            return Ok(());
        }
        let mut errors = errors.clone();
        errors.merge_missing(check()?);
        Err(Error::validation(errors).into())
    }

    /// Fails with the body's type errors, if any.
    pub(super) fn only_type_errors(&self, errors: &FieldErrors) -> Result<(), Response> {
        self.type_errors(errors, || Ok(FieldErrors::new()))
    }
}

/// `text` read as Python's `int()` reads a string, which is how Django REST
/// Framework reads `page` and `per_page`: whitespace around it, one sign,
/// and single `_` between digits are allowed (`" 1"`, `"+1"`, `"1_0"`);
/// anything else is `None`. The answer is (negative, magnitude), the
/// magnitude stopping at `u64::MAX` (larger is past every page and above
/// every size cap alike). Python also takes digits of other scripts; these
/// are refused.
pub(crate) fn python_int(text: &str) -> Option<(bool, u64)> {
    let text = text.trim();
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (mut value, mut last) = (0u64, None);
    for b in digits.bytes() {
        match b {
            b'0'..=b'9' => {
                value = value.saturating_mul(10).saturating_add(u64::from(b - b'0'));
            }
            b'_' if last.is_some_and(|l: u8| l.is_ascii_digit()) => {}
            _ => return None,
        }
        last = Some(b);
    }
    match last {
        Some(l) if l.is_ascii_digit() => Some((negative, value)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::testpress::Route;

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
    fn page_numbers_are_read_as_python_reads_them() {
        for (text, want) in [
            ("1", Some((false, 1))),
            (" 1", Some((false, 1))),
            ("2\t", Some((false, 2))),
            ("+3", Some((false, 3))),
            ("-4", Some((true, 4))),
            ("-0", Some((true, 0))),
            ("007", Some((false, 7))),
            ("1_000", Some((false, 1000))),
            ("99999999999999999999", Some((false, u64::MAX))),
        ] {
            assert_eq!(python_int(text), want, "{text:?}");
        }
        for text in [
            "", " ", "+", "-", "_1", "1_", "1__0", "1.5", "1e1", "0x1", "++1", "+-1", "1 2",
            "\u{661}", "\0",
        ] {
            assert_eq!(python_int(text), None, "{text:?}");
        }
    }

    #[test]
    fn versions_look_like_v_and_digits() {
        for v in ["v2.5", "v9", "v10.1", "v1"] {
            assert!(version_like(v), "{v}");
        }
        for v in ["v", "vx", "v.1", "admin", "2.5", "v2-5", "V2"] {
            assert!(!version_like(v), "{v}");
        }
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
        assert_eq!(query_decoded("%E0%AE%B0"), "ர");
    }
}
