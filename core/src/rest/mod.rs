//! The documented HTTP surface, in process (SPEC 7).
//!
//! [`handle`] takes a [`Request`] as an HTTP server would receive it and
//! returns the [`Response`] the documented API gives, without a network:
//! parse -> call the typed [`crate::Admin`] API -> shape the JSON. No
//! rule lives here and no table is touched here; this layer only translates.

mod django;
#[cfg(feature = "openapi")]
pub mod openapi;
mod router;
mod sunbird;
mod testpress;

pub use router::query_decoded;

use crate::{Admin, Institute};

/// One HTTP request. Its Debug leaves out what may be secret: the body
/// (passwords) and the values of the headers that carry credentials.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST`, `PUT`, `PATCH`, `DELETE`: case-sensitive, as RFC 9110
    /// says (`get` is answered 405).
    pub method: String,
    /// The path, without the query string: `/api/v2.5/admin/users/`.
    pub path: String,
    /// The raw query string without `?`: `q=john&page=2`.
    pub query: String,
    /// Header names and values; names match ignoring case.
    pub headers: Vec<(String, String)>,
    /// The body bytes, if any.
    pub body: Option<Vec<u8>>,
    /// The scheme and host the client addressed (`http://127.0.0.1:8000`),
    /// for the `url` fields; `None` uses the configured base URL. An HTTP
    /// server sets it from the `Host` header.
    pub base_url: Option<String>,
}

impl Request {
    /// A request for `path_with_query` (`/api/v2.5/admin/users/?q=john`).
    pub fn new(method: &str, path_with_query: &str) -> Self {
        let (path, query) = match path_with_query.split_once('?') {
            Some((p, q)) => (p, q),
            None => (path_with_query, ""),
        };
        Request {
            method: method.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            headers: Vec::new(),
            body: None,
            base_url: None,
        }
    }

    /// This request with one more header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// This request with a body (sent as JSON unless a `Content-Type` header says otherwise).
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// The value of header `name`, matched ignoring case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP response. Its Debug gives the body's length alone: a body may
/// carry a session token or a generated password.
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Response headers (`Content-Type`, `Allow`, `WWW-Authenticate`).
    pub headers: Vec<(String, String)>,
    /// The JSON body; `None` for 204.
    pub body: Option<String>,
}

/// Header names whose values are credentials (matched ignoring case).
const CREDENTIAL_HEADERS: [&str; 5] = [
    "authorization",
    "cookie",
    "x-authenticated-user-token",
    "x-authenticated-for",
    "proxy-authorization",
];

/// Headers as Debug shows them: credentials' values redacted.
fn shown_headers(headers: &[(String, String)]) -> Vec<(&str, &str)> {
    headers
        .iter()
        .map(|(name, value)| {
            let secret = CREDENTIAL_HEADERS
                .iter()
                .any(|c| name.trim().eq_ignore_ascii_case(c));
            (
                name.as_str(),
                if secret { "<redacted>" } else { value.as_str() },
            )
        })
        .collect()
}

/// A body as Debug shows it: its length.
fn shown_body(len: Option<usize>) -> Option<String> {
    len.map(|n| format!("<{n} bytes>"))
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &shown_headers(&self.headers))
            .field("body", &shown_body(self.body.as_ref().map(Vec::len)))
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &shown_headers(&self.headers))
            .field("body", &shown_body(self.body.as_ref().map(String::len)))
            .finish()
    }
}

impl Response {
    /// The body parsed as JSON (`Null` when there is none).
    pub fn json(&self) -> serde_json::Value {
        self.body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or(serde_json::Value::Null)
    }

    /// The value of header `name`, matched ignoring case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Serves `request` against `institute`, authenticating the caller: every
/// path but sign-in (`POST /api/v2.5/auth-token/`) needs
/// `Authorization: JWT <token>` (or `Bearer <token>`) of a live session, and
/// every operation checks the caller's permissions (SPEC 7, D4).
pub fn handle(institute: &Institute, request: Request) -> Response {
    router::dispatch(router::Entry::Authenticate(institute), &request)
}

/// Serves `request` as the caller bound to `admin`, ignoring any
/// `Authorization` header: with [`Institute::operator`] this is the trusted
/// host's full access (the `roster api` command without `--token`).
pub fn handle_as(admin: &Admin, request: Request) -> Response {
    router::dispatch(router::Entry::As(admin), &request)
}
