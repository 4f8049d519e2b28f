//! The Testpress admin API's representations (seeds 000-002), one type
//! each: what the `/api/v2.x/` paths answer. Fields are declared in the
//! documents' order, which is the order they are written in.

use super::views::{Urls, timestamp};
use crate::domain::course::CourseView;
use crate::domain::custom_field::{CustomFieldView, CustomValue};
use crate::domain::rules::format_dmy;
use crate::domain::user::{BatchRef, UserView};
use crate::domain::{BatchView, SubscriptionView};
use serde::Serialize;
use serde::ser::SerializeMap;

/// A user's custom values by field name, in definition order: text and
/// dates as strings, numbers as JSON numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomValues(Vec<(String, serde_json::Value)>);

impl CustomValues {
    fn of(values: &[(String, CustomValue)]) -> CustomValues {
        CustomValues(
            values
                .iter()
                .map(|(name, v)| (name.clone(), custom_value(v)))
                .collect(),
        )
    }
}

impl Serialize for CustomValues {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// A custom value as the documents write it.
fn custom_value(v: &CustomValue) -> serde_json::Value {
    use serde_json::Value;
    match v {
        CustomValue::Text(t) => Value::String(t.clone()),
        CustomValue::Number(n) => serde_json::from_str::<serde_json::Number>(n)
            .map(Value::Number)
            .unwrap_or_else(|_| Value::String(n.clone())),
        CustomValue::Date(d) => Value::String(crate::domain::iso_date(*d)),
    }
}

/// The one user representation of every Testpress endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct TestpressUser {
    /// Id.
    pub id: u64,
    /// Absolute URL (a path in typed results).
    pub url: String,
    /// Username.
    pub username: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Display name (derived from the names when not given).
    pub display_name: String,
    /// Email.
    pub email: String,
    /// Photo URL, or null.
    pub photo: Option<String>,
    /// Image renditions are not generated: empty, as the documents show
    /// them (both spellings of the 32x32 one appear in the documents).
    pub large_image: &'static str,
    /// Image rendition: always empty.
    pub medium_image: &'static str,
    /// Image rendition: always empty.
    pub medium_small_image: &'static str,
    /// Image rendition: always empty.
    pub small_image: &'static str,
    /// Image rendition: always empty.
    pub xsmall_image: &'static str,
    /// Image rendition: always empty.
    pub x_small_image: &'static str,
    /// Image rendition: always empty.
    pub mini_image: &'static str,
    /// `DD/MM/YYYY`.
    pub birth_date: Option<String>,
    /// `male`, `female`, `trans` or empty.
    pub gender_code: &'static str,
    /// `Male`, `Female`, `Transgender` or empty.
    pub gender: &'static str,
    /// Address line 1.
    pub address1: String,
    /// Address line 2.
    pub address2: String,
    /// City.
    pub city: String,
    /// PIN code.
    pub zip: String,
    /// State name (ISO 3166-2:IN), or empty.
    pub state: &'static str,
    /// State code (`IN-MH`), or empty.
    pub state_code: &'static str,
    /// Phone.
    pub phone: String,
    /// Only when asked for (`with_batches`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batches: Option<Vec<BatchLink>>,
    /// URL of the user's batches.
    pub batches_url: String,
    /// Custom values by field name, in definition order.
    #[cfg_attr(feature = "tsify", tsify(type = "Record<string, string | number>"))]
    pub custom_fields: CustomValues,
    /// Whether the user may sign in.
    pub is_active: bool,
    /// Whether the user is blocked.
    pub is_blocked: bool,
    /// Creation instant, RFC 3339 with microseconds.
    pub created: String,
    /// Last change, RFC 3339 with microseconds.
    pub modified: String,
}

impl TestpressUser {
    /// The representation of `u`.
    pub(crate) fn new(u: &UserView, urls: &Urls<'_>) -> TestpressUser {
        TestpressUser {
            id: u.id,
            url: urls.at(&format!("users/{}/", u.id)),
            username: u.username.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            display_name: u.display_name.clone(),
            email: u.email.clone(),
            photo: u.photo.clone(),
            large_image: "",
            medium_image: "",
            medium_small_image: "",
            small_image: "",
            xsmall_image: "",
            x_small_image: "",
            mini_image: "",
            birth_date: u.birth_date.map(format_dmy),
            gender_code: u.gender.map_or("", |g| g.code()),
            gender: u.gender.map_or("", |g| g.label()),
            address1: u.address1.clone(),
            address2: u.address2.clone(),
            city: u.city.clone(),
            zip: u.zip.clone(),
            state: u.state.map_or("", |s| s.name),
            state_code: u.state.map_or("", |s| s.code),
            phone: u.phone.clone(),
            batches: u
                .batches
                .as_ref()
                .map(|all| all.iter().map(|b| BatchLink::new(b, urls)).collect()),
            batches_url: urls.at(&format!("users/{}/batches/", u.id)),
            custom_fields: CustomValues::of(&u.custom_fields),
            is_active: u.is_active,
            is_blocked: u.is_blocked,
            created: timestamp(u.created),
            modified: timestamp(u.modified),
        }
    }
}

/// `{id, name}`: a batch among a user's batches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct BatchName {
    /// Id.
    pub id: u64,
    /// Name.
    pub name: String,
}

impl BatchName {
    /// The representation of `b`.
    pub(crate) fn new(b: &BatchRef) -> BatchName {
        BatchName {
            id: b.id,
            name: b.name.clone(),
        }
    }
}

/// `{id, name, url}`: a batch embedded in a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct BatchLink {
    /// Id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Absolute URL (a path in typed results).
    pub url: String,
}

impl BatchLink {
    fn new(b: &BatchView, urls: &Urls<'_>) -> BatchLink {
        BatchLink {
            id: b.id,
            name: b.name.clone(),
            url: urls.at(&format!("batches/{}/", b.id)),
        }
    }
}

/// A batch: `{id, name, url, created, modified, is_local}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Batch {
    /// Id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Absolute URL (a path in typed results).
    pub url: String,
    /// Creation instant, RFC 3339 with microseconds.
    pub created: String,
    /// Last change, RFC 3339 with microseconds.
    pub modified: String,
    /// Whether the batch is local to this institute.
    pub is_local: bool,
}

impl Batch {
    /// The representation of `b`.
    pub(crate) fn new(b: &BatchView, urls: &Urls<'_>) -> Batch {
        Batch {
            id: b.id,
            name: b.name.clone(),
            url: urls.at(&format!("batches/{}/", b.id)),
            created: timestamp(b.created),
            modified: timestamp(b.modified),
            is_local: b.is_local,
        }
    }
}

/// A subscription: `{id, batch, expires}`, `expires` as `yyyy-mm-dd`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Subscription {
    /// Id.
    pub id: u64,
    /// The batch.
    pub batch: Batch,
    /// Expiry date `yyyy-mm-dd`, or null: never.
    pub expires: Option<String>,
}

impl Subscription {
    /// The representation of `s`.
    pub(crate) fn new(s: &SubscriptionView, urls: &Urls<'_>) -> Subscription {
        Subscription {
            id: s.id,
            batch: Batch::new(&s.batch, urls),
            expires: s.expires.map(crate::domain::iso_date),
        }
    }
}

/// A course, with exactly the seed's fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Course {
    /// Id.
    pub id: u64,
    /// Title.
    pub title: String,
    /// Slug, unique.
    pub slug: String,
    /// Description.
    pub description: String,
    /// Image URL.
    pub image: String,
    /// Whether the course is public.
    pub is_public: bool,
    /// Creation instant, RFC 3339 with microseconds.
    pub created: String,
    /// Last change, RFC 3339 with microseconds.
    pub modified: String,
    /// Whether chapters unlock in order.
    pub enable_progressive_lock: bool,
    /// Position among courses.
    pub order: i64,
    /// Absolute URL (a path in typed results).
    pub url: String,
    /// URL of the user's batches.
    pub batches_url: String,
    /// URL of the chapters.
    pub chapters_url: String,
    /// URL of the contents.
    pub contents_url: String,
}

impl Course {
    /// The representation of `c`.
    pub(crate) fn new(c: &CourseView, urls: &Urls<'_>) -> Course {
        let at = |tail: &str| urls.at(&format!("courses/{}/{tail}", c.id));
        Course {
            id: c.id,
            title: c.title.clone(),
            slug: c.slug.clone(),
            description: c.description.clone(),
            image: c.image.clone(),
            is_public: c.is_public,
            created: timestamp(c.created),
            modified: timestamp(c.modified),
            enable_progressive_lock: c.enable_progressive_lock,
            order: c.order,
            url: at(""),
            batches_url: at("batches/"),
            chapters_url: at("chapters/"),
            contents_url: at("contents/"),
        }
    }
}

/// A custom field definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CustomField {
    /// Id.
    pub id: u64,
    /// Absolute URL (a path in typed results).
    pub url: String,
    /// Name.
    pub name: String,
    /// `text`, `number`, `date` or `choice`.
    #[serde(rename = "type")]
    #[cfg_attr(
        feature = "tsify",
        tsify(type = "\"text\" | \"number\" | \"date\" | \"choice\"")
    )]
    pub kind: &'static str,
    /// The choices of a `choice` field.
    pub choices: Vec<String>,
    /// Whether every user must have a value.
    pub required: bool,
    /// Creation instant, RFC 3339 with microseconds.
    pub created: String,
    /// Last change, RFC 3339 with microseconds.
    pub modified: String,
}

impl CustomField {
    /// The representation of `f`.
    pub(crate) fn new(f: &CustomFieldView, urls: &Urls<'_>) -> CustomField {
        CustomField {
            id: f.id,
            url: urls.at(&format!("custom-fields/{}/", f.id)),
            name: f.name.clone(),
            kind: f.kind.as_str(),
            choices: f.choices.clone(),
            required: f.required,
            created: timestamp(f.created),
            modified: timestamp(f.modified),
        }
    }
}

/// A page of a list, as Django REST Framework paginates:
/// `{count, next, previous, per_page, results}`, `next` and `previous` as
/// URLs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(rename = "LinkedPage_{T}"))]
pub struct LinkedPage<T> {
    /// Items in all pages.
    pub count: u64,
    /// The next page, or null.
    pub next: Option<String>,
    /// The previous page, or null.
    pub previous: Option<String>,
    /// Page size.
    pub per_page: u32,
    /// This page's items.
    pub results: Vec<T>,
}

impl<T> LinkedPage<T> {
    /// `page`'s items shaped by `item`, with the links of `urls`.
    pub(crate) fn new<V>(
        page: &crate::domain::Page<V>,
        urls: &Urls<'_>,
        item: impl Fn(&V) -> T,
    ) -> LinkedPage<T> {
        LinkedPage {
            count: page.count,
            next: page.has_next().then(|| urls.with_page(Some(page.page + 1))),
            previous: page.has_previous().then(|| match page.page {
                2 => urls.with_page(None),
                n => urls.with_page(Some(n - 1)),
            }),
            per_page: page.per_page,
            results: page.items.iter().map(item).collect(),
        }
    }
}

/// A sign-in's answer: `{token, expires}` (its Debug hides the token).
#[derive(Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Token {
    /// Session token.
    pub token: String,
    /// Expiry instant, RFC 3339.
    pub expires: String,
}

crate::text::debug_without_secrets!(Token { token secret, expires });

/// `{results, next, more}`: a slice of the change feed (SPEC X4).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ChangeFeed {
    /// The entries, oldest first.
    pub results: Vec<ChangeEntry>,
    /// The `since` of the next request.
    pub next: u64,
    /// Whether more entries follow already.
    pub more: bool,
}

/// One entry of the change feed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ChangeEntry {
    /// Its number: larger for every later commit.
    pub seq: u64,
    /// When the write ran (ISO 8601).
    pub at: String,
    /// The UUID of the signed-in user who wrote; `null` for host code.
    pub actor: Option<String>,
    /// `user`, `sunbird_user`, `batch`, `course`, `subscription`,
    /// `custom_field`, `group`, `organisation` or `setting`.
    pub entity: &'static str,
    /// The entity's UUID (a setting's id).
    pub uuid: String,
    /// `create`, `update` or `delete`.
    pub op: &'static str,
    /// The record after the change, secrets left out; `null` for a delete.
    #[cfg_attr(feature = "tsify", tsify(type = "Record<string, unknown> | null"))]
    pub record: Option<serde_json::Value>,
}

impl ChangeFeed {
    /// The JSON of `page`.
    pub fn new(page: crate::domain::feed::ChangePage) -> ChangeFeed {
        ChangeFeed {
            results: page
                .changes
                .into_iter()
                .map(|c| ChangeEntry {
                    seq: c.seq,
                    at: timestamp(c.at),
                    actor: c.actor,
                    entity: c.entity.as_str(),
                    uuid: c.uuid,
                    op: c.op.as_str(),
                    record: c.record.and_then(|r| serde_json::from_str(&r).ok()),
                })
                .collect(),
            next: page.next,
            more: page.more,
        }
    }
}

/// `{removed}`: what a purge removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Purged {
    /// How many memberships were removed.
    pub removed: u64,
}
