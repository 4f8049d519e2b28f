//! What every surface's representations share: the URLs of one request,
//! timestamps, field errors.

use crate::error::{FieldErrors, FieldMessages};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::ser::SerializeMap;

/// Builds the absolute URLs of one request: the configured base URL, the API
/// version of the request's path, and the request's own path and query for
/// the pagination links.
#[derive(Debug, Clone)]
pub(crate) struct Urls<'a> {
    /// `https://demo.testpress.in` or empty.
    pub base: &'a str,
    /// `/api/v2.5/admin`.
    pub prefix: String,
    /// The request's normalised path.
    pub path: &'a str,
    /// The request's decoded query parameters, in order.
    pub query: &'a [(String, String)],
}

impl Urls<'_> {
    /// The URL of `rest` under the API prefix: `users/7/`.
    pub fn at(&self, rest: &str) -> String {
        format!("{}{}/{}", self.base, self.prefix, rest)
    }

    /// The request's URL with `page` set (`None`: removed), its parameters
    /// sorted by name as Django REST Framework writes them.
    pub(crate) fn with_page(&self, page: Option<u64>) -> String {
        let mut params: Vec<(String, String)> = self
            .query
            .iter()
            .filter(|(k, _)| k != "page")
            .cloned()
            .collect();
        if let Some(page) = page {
            params.push(("page".into(), page.to_string()));
        }
        params.sort_by(|a, b| a.0.cmp(&b.0));
        let mut url = format!("{}{}", self.base, self.path);
        for (i, (k, v)) in params.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(&encode(k));
            url.push('=');
            url.push_str(&encode(v));
        }
        url
    }
}

/// `application/x-www-form-urlencoded` encoding of one component.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// RFC 3339 in UTC with microseconds: `2017-08-03T18:25:45.949568Z`.
pub(crate) fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Field errors in Django REST Framework's shape: `{"field": ["message"]}`,
/// nested by name for a map-valued field (`custom_fields`).
#[derive(Debug, Clone, Copy)]
pub struct Errors<'a>(pub &'a FieldErrors);

impl Serialize for Errors<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for (field, messages) in self.0.iter() {
            match messages {
                FieldMessages::List(list) => map.serialize_entry(field, list)?,
                FieldMessages::Nested(nested) => map.serialize_entry(field, nested)?,
            }
        }
        map.end()
    }
}

/// `{"detail": message}`: Django REST Framework's answer for a failure that
/// belongs to no field (and for a few successes).
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Detail<'a> {
    /// The message.
    pub detail: &'a str,
}
