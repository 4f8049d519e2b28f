//! The outbox (X3): messages roster wants delivered, kept until the host
//! takes them.

use super::{Micros, instant};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Channel {
    /// To the user's email address.
    Email,
    /// To the user's phone.
    Sms,
}

impl Channel {
    /// `email` or `sms`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }
}

/// A stored message.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Id, never reused.
    pub id: u64,
    /// The user it is about.
    pub user: u64,
    /// Email or SMS.
    pub channel: Channel,
    /// The address or number (empty when the user has none: the host decides).
    pub to: String,
    /// Subject line (email).
    pub subject: String,
    /// Text.
    pub body: String,
    /// When it was queued.
    pub created: Micros,
}

/// A message as handed to the host. Its body carries credentials: `Debug`
/// and `Display` (and so the bindings' `toString`, `str`, `description`)
/// leave it out.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "uniffi", uniffi::export(Debug, Display))]
pub struct OutboxMessage {
    /// Id.
    pub id: u64,
    /// The user it is about.
    pub user: u64,
    /// Email or SMS.
    pub channel: Channel,
    /// Address or number; empty when the user has none.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Text (contains the credentials).
    pub body: String,
    /// When it was queued.
    pub created: DateTime<Utc>,
}

crate::text::debug_without_secrets!(OutboxMessage {
    id,
    user,
    channel,
    to,
    subject,
    body secret,
    created,
});

impl From<Message> for OutboxMessage {
    fn from(m: Message) -> Self {
        OutboxMessage {
            id: m.id,
            user: m.user,
            channel: m.channel,
            to: m.to,
            subject: m.subject,
            body: m.body,
            created: instant(m.created),
        }
    }
}

/// The credentials messages of a new account, as (channel, to, subject,
/// body): one email, one SMS, whether or not the user has the address.
pub fn credentials(
    username: &str,
    password: &str,
    email: &str,
    phone: &str,
) -> Vec<(Channel, String, String, String)> {
    let subject = "Your login credentials".to_string();
    let text = format!("Username: {username}\nPassword: {password}");
    vec![
        (
            Channel::Email,
            email.to_string(),
            subject.clone(),
            text.clone(),
        ),
        (Channel::Sms, phone.to_string(), subject, text),
    ]
}
