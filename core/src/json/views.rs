//! The JSON shapes of the documents, built from the typed views.

use crate::domain::course::CourseView;
use crate::domain::custom_field::{CustomFieldView, CustomValue};
use crate::domain::group::GroupView;
use crate::domain::rules::format_dmy;
use crate::domain::user::{BatchRef, UserView};
use crate::domain::{BatchView, Page, SubscriptionView};
use crate::error::{FieldErrors, FieldMessages};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

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
    fn with_page(&self, page: Option<u64>) -> String {
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

/// The pagination envelope `{count, next, previous, per_page, results}`.
pub(crate) fn page<T>(page: &Page<T>, urls: &Urls<'_>, item: impl Fn(&T) -> Value) -> Value {
    let next = page.has_next().then(|| urls.with_page(Some(page.page + 1)));
    let previous = page.has_previous().then(|| match page.page {
        2 => urls.with_page(None),
        n => urls.with_page(Some(n - 1)),
    });
    json!({
        "count": page.count,
        "next": next,
        "previous": previous,
        "per_page": page.per_page,
        "results": page.items.iter().map(item).collect::<Vec<_>>(),
    })
}

fn custom_value(v: &CustomValue) -> Value {
    match v {
        CustomValue::Text(t) => Value::String(t.clone()),
        CustomValue::Number(n) => serde_json::from_str::<serde_json::Number>(n)
            .map(Value::Number)
            .unwrap_or_else(|_| Value::String(n.clone())),
        CustomValue::Date(d) => Value::String(d.format("%Y-%m-%d").to_string()),
    }
}

/// The one user representation of every Testpress endpoint.
pub(crate) fn user(u: &UserView, urls: &Urls<'_>) -> Value {
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put("id", json!(u.id));
    put("url", json!(urls.at(&format!("users/{}/", u.id))));
    put("username", json!(u.username));
    put("first_name", json!(u.first_name));
    put("last_name", json!(u.last_name));
    put("display_name", json!(u.display_name));
    put("email", json!(u.email));
    put("photo", json!(u.photo));
    // Image renditions are not generated: empty, as the documents show them.
    // Both spellings of the 32x32 one appear in the documents.
    for key in [
        "large_image",
        "medium_image",
        "medium_small_image",
        "small_image",
        "xsmall_image",
        "x_small_image",
        "mini_image",
    ] {
        put(key, json!(""));
    }
    put("birth_date", json!(u.birth_date.map(format_dmy)));
    put("gender_code", json!(u.gender.map_or("", |g| g.code())));
    put("gender", json!(u.gender.map_or("", |g| g.label())));
    put("address1", json!(u.address1));
    put("address2", json!(u.address2));
    put("city", json!(u.city));
    put("zip", json!(u.zip));
    put("state", json!(u.state.map_or("", |s| s.name)));
    put("state_code", json!(u.state.map_or("", |s| s.code)));
    put("phone", json!(u.phone));
    if let Some(batches) = &u.batches {
        put(
            "batches",
            batches.iter().map(|b| batch_link(b, urls)).collect(),
        );
    }
    put(
        "batches_url",
        json!(urls.at(&format!("users/{}/batches/", u.id))),
    );
    let custom: Map<String, Value> = u
        .custom_fields
        .iter()
        .map(|(name, v)| (name.clone(), custom_value(v)))
        .collect();
    put("custom_fields", Value::Object(custom));
    put("is_active", json!(u.is_active));
    put("is_blocked", json!(u.is_blocked));
    put("created", json!(timestamp(u.created)));
    put("modified", json!(timestamp(u.modified)));
    Value::Object(m)
}

/// `{id, name}`: a batch among a user's batches.
pub(crate) fn batch_ref(b: &BatchRef) -> Value {
    json!({"id": b.id, "name": b.name})
}

/// `{id, name, url}`: a batch embedded in a user.
pub(crate) fn batch_link(b: &BatchView, urls: &Urls<'_>) -> Value {
    json!({"id": b.id, "name": b.name, "url": urls.at(&format!("batches/{}/", b.id))})
}

/// A batch: `{id, name, url, created, modified, is_local}`.
pub(crate) fn batch(b: &BatchView, urls: &Urls<'_>) -> Value {
    json!({
        "id": b.id,
        "name": b.name,
        "url": urls.at(&format!("batches/{}/", b.id)),
        "created": timestamp(b.created),
        "modified": timestamp(b.modified),
        "is_local": b.is_local,
    })
}

/// A subscription: `{id, batch, expires}`.
pub(crate) fn subscription(s: &SubscriptionView, urls: &Urls<'_>) -> Value {
    json!({
        "id": s.id,
        "batch": batch(&s.batch, urls),
        "expires": s.expires.map(|d| d.format("%Y-%m-%d").to_string()),
    })
}

/// A course, with exactly the seed's fields.
pub(crate) fn course(c: &CourseView, urls: &Urls<'_>) -> Value {
    let at = |tail: &str| urls.at(&format!("courses/{}/{tail}", c.id));
    json!({
        "id": c.id,
        "title": c.title,
        "slug": c.slug,
        "description": c.description,
        "image": c.image,
        "is_public": c.is_public,
        "created": timestamp(c.created),
        "modified": timestamp(c.modified),
        "enable_progressive_lock": c.enable_progressive_lock,
        "order": c.order,
        "url": at(""),
        "batches_url": at("batches/"),
        "chapters_url": at("chapters/"),
        "contents_url": at("contents/"),
    })
}

/// A custom field definition.
pub(crate) fn custom_field(f: &CustomFieldView, urls: &Urls<'_>) -> Value {
    json!({
        "id": f.id,
        "url": urls.at(&format!("custom-fields/{}/", f.id)),
        "name": f.name,
        "type": f.kind.as_str(),
        "choices": f.choices,
        "required": f.required,
        "created": timestamp(f.created),
        "modified": timestamp(f.modified),
    })
}

/// Field errors in DRF's shape: `{"field": ["message"]}`, nested for maps.
pub(crate) fn field_errors(errors: &FieldErrors) -> Value {
    let mut m = Map::new();
    for (field, messages) in errors.iter() {
        let v = match messages {
            FieldMessages::List(list) => json!(list),
            FieldMessages::Nested(map) => json!(map),
        };
        m.insert(field.to_string(), v);
    }
    Value::Object(m)
}

/// A user as seed 003 shows one (the password is write-only: never output).
pub(crate) fn django_user(u: &UserView) -> Value {
    json!({
        "id": u.id,
        "last_login": u.last_login.map(timestamp),
        "is_superuser": u.is_superuser,
        "username": u.username,
        "first_name": u.first_name,
        "last_name": u.last_name,
        "email": u.email,
        "is_staff": u.is_staff,
        "is_active": u.is_active,
        "date_joined": timestamp(u.created),
        "groups": u.groups,
        "user_permissions": u.user_permissions,
    })
}

/// A group as seed 003 shows one.
pub(crate) fn group(g: &GroupView) -> Value {
    json!({"id": g.id, "name": g.name, "permissions": g.permissions})
}
