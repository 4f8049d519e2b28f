//! The typed API's records as the bindings hand them to JSON hosts
//! (WebAssembly, and the uniffi bindings' JSON forms): the Testpress
//! representations with URLs as paths, a user with seed 003's access
//! fields, pages with page numbers instead of links.

use super::testpress;
use super::views::{Errors, timestamp};
use crate::domain::outbox;
use crate::domain::user::UserView;
use crate::error::Error;
use serde::Serialize;

/// Seed 003's access fields of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Access {
    /// Whether the user holds every permission.
    pub is_superuser: bool,
    /// Whether the user may use the admin API.
    pub is_staff: bool,
    /// Group ids.
    pub groups: Vec<u64>,
    /// Own permission ids.
    pub user_permissions: Vec<u32>,
    /// Last successful sign-in, or null.
    pub last_login: Option<String>,
    /// Creation instant.
    pub date_joined: String,
}

/// A user: the Testpress representation and the access fields. Never a
/// password or a hash.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct User {
    /// The Testpress representation.
    #[serde(flatten)]
    pub user: testpress::TestpressUser,
    /// Seed 003's access fields.
    #[serde(flatten)]
    pub access: Access,
}

impl User {
    /// The record of `u`, URLs under `urls`.
    pub(crate) fn new(u: &UserView, urls: &super::views::Urls<'_>) -> User {
        User {
            user: testpress::TestpressUser::new(u, urls),
            access: Access {
                is_superuser: u.is_superuser,
                is_staff: u.is_staff,
                groups: u.groups.clone(),
                user_permissions: u.user_permissions.clone(),
                last_login: u.last_login.map(timestamp),
                date_joined: timestamp(u.created),
            },
        }
    }
}

/// A sign-in: `{token, expires, user}` (its Debug hides the token).
#[derive(Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Login {
    /// Session token.
    pub token: String,
    /// Expiry instant, RFC 3339.
    pub expires: String,
    /// The user's id.
    pub user: u64,
}

crate::text::debug_without_secrets!(Login {
    token secret,
    expires,
    user,
});

crate::text::debug_without_secrets!(OutboxMessage {
    id,
    user,
    channel,
    to,
    subject,
    body secret,
    created,
});

impl Login {
    /// The record of `l`.
    pub(crate) fn new(l: &crate::api::Login) -> Login {
        Login {
            token: l.token.clone(),
            expires: timestamp(l.expires),
            user: l.user,
        }
    }
}

/// A page: `{count, page, per_page, next, previous, results}`, `next` and
/// `previous` as page numbers (or null).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(rename = "Page_{T}"))]
pub struct Page<T> {
    /// Items in all pages.
    pub count: u64,
    /// This page's number, from 1.
    pub page: u64,
    /// Page size.
    pub per_page: u32,
    /// The next page, or null.
    pub next: Option<u64>,
    /// The previous page, or null.
    pub previous: Option<u64>,
    /// This page's items.
    pub results: Vec<T>,
}

impl<T> Page<T> {
    /// `page`'s items shaped by `item`.
    pub(crate) fn new<V>(page: &crate::domain::Page<V>, item: impl Fn(&V) -> T) -> Page<T> {
        Page {
            count: page.count,
            page: page.page,
            per_page: page.per_page,
            next: page.has_next().then_some(page.page + 1),
            previous: page.has_previous().then_some(page.page - 1),
            results: page.items.iter().map(item).collect(),
        }
    }
}

/// An outbox message: `{id, user, channel, to, subject, body, created}`
/// (its Debug hides the body, which may carry credentials).
#[derive(Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct OutboxMessage {
    /// Id.
    pub id: u64,
    /// The user's id.
    pub user: u64,
    /// `email` or `sms`.
    #[cfg_attr(feature = "tsify", tsify(type = "\"email\" | \"sms\""))]
    pub channel: &'static str,
    /// Address or number; empty when the user has none.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Text.
    pub body: String,
    /// Creation instant, RFC 3339 with microseconds.
    pub created: String,
}

impl OutboxMessage {
    /// The record of `m`.
    pub(crate) fn new(m: &outbox::OutboxMessage) -> OutboxMessage {
        OutboxMessage {
            id: m.id,
            user: m.user,
            channel: m.channel.as_str(),
            to: m.to.clone(),
            subject: m.subject.clone(),
            body: m.body.clone(),
            created: timestamp(m.created),
        }
    }
}

/// An error: `{code, message, fields}`, `fields` in Django REST
/// Framework's shape.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorBody<'a> {
    /// Stable error code (`validation_failed`).
    pub code: &'static str,
    /// Human message.
    pub message: &'a str,
    /// Field errors.
    pub fields: Errors<'a>,
}

impl ErrorBody<'_> {
    /// The record of `e`.
    pub(crate) fn new(e: &Error) -> ErrorBody<'_> {
        ErrorBody {
            code: e.code().as_str(),
            message: e.message(),
            fields: Errors(e.fields()),
        }
    }
}
