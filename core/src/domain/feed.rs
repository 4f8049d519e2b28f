//! The change feed (SPEC X4): one entry per entity an administrative write
//! changed, numbered in commit order, with every secret left out.
//!
//! What an entry holds is the entity's stored record after the change, less
//! its secrets and its sign-in bookkeeping: a user's password hash, failure
//! count, lockout, last sign-in and credential generation never appear, and
//! a write that changed nothing else (a sign-in, a lockout) makes no entry.
//! Sessions and the outbox (which carries credentials) are not entities of
//! the feed.

use super::course::Course;
use super::custom_field::CustomField;
use super::group::Group;
use super::sunbird::{Organisation, SunbirdUser};
use super::user::User;
use super::{Batch, Micros, Subscription};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What kind of entity an entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    /// A user.
    User,
    /// A user's Sunbird profile (the fields only Sunbird has), under the
    /// user's UUID.
    SunbirdUser,
    /// A batch (a course's hidden batch included).
    Batch,
    /// A course.
    Course,
    /// A subscription: a user's membership of a batch.
    Subscription,
    /// A custom field definition.
    CustomField,
    /// A group.
    Group,
    /// A Sunbird organisation.
    Organisation,
    /// A system setting (Sunbird's `tncConfig`, ...), named by its id.
    Setting,
}

impl Entity {
    /// The name in the feed: `user`, `sunbird_user`, `custom_field`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::User => "user",
            Entity::SunbirdUser => "sunbird_user",
            Entity::Batch => "batch",
            Entity::Course => "course",
            Entity::Subscription => "subscription",
            Entity::CustomField => "custom_field",
            Entity::Group => "group",
            Entity::Organisation => "organisation",
            Entity::Setting => "setting",
        }
    }
}

/// What happened to the entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum ChangeOp {
    /// It was created.
    Create,
    /// It changed.
    Update,
    /// It was deleted: the entry is a tombstone, with no record.
    Delete,
}

impl ChangeOp {
    /// `create`, `update` or `delete`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeOp::Create => "create",
            ChangeOp::Update => "update",
            ChangeOp::Delete => "delete",
        }
    }
}

/// One entry of the feed.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Change {
    /// Its place in the feed: larger for every later commit. Numbers may be
    /// skipped (a transaction that took some and then failed), never reused.
    pub seq: u64,
    /// When the write ran.
    pub at: DateTime<Utc>,
    /// The UUID of the signed-in user who made it; `None` for host code
    /// (the operator: the CLI without a token, an app's own logic).
    pub actor: Option<String>,
    /// The kind of entity.
    pub entity: Entity,
    /// The entity's UUID, hyphenated (a setting, which has none: its id).
    pub uuid: String,
    /// Created, changed or deleted.
    pub op: ChangeOp,
    /// The record as it is after the change, as JSON (instants in
    /// microseconds since the Unix epoch, ids as numbers, UUIDs as text);
    /// `None` for a deletion.
    pub record: Option<String>,
}

/// A slice of the feed ([`crate::Admin::changes_since`]).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ChangePage {
    /// The entries after the `since` asked for, oldest first.
    pub changes: Vec<Change>,
    /// The `since` of the next call: the last entry's `seq` (or the `since`
    /// asked for, when there was none).
    pub next: u64,
    /// Whether more entries were there than `limit` allowed.
    pub more: bool,
}

/// An entity's record as the feed keeps it: stored, with its secrets and
/// sign-in bookkeeping taken out ([`Record::user`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Record {
    User(User),
    SunbirdUser(SunbirdUser),
    Batch(Batch),
    Course(Course),
    Subscription(MembershipRecord),
    CustomField(CustomField),
    Group(Group),
    Organisation(Organisation),
    Setting(SettingRecord),
    /// A course with the batches linked to it (format 12 on: a course's
    /// entries before it are [`Record::Course`], without its links).
    LinkedCourse(LinkedCourse),
}

/// A course and the ordinary batches linked to it (not its hidden batch,
/// which `local_batch` names), ascending.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct LinkedCourse {
    /// The course.
    pub course: Course,
    /// The ids of the batches that give it.
    pub batches: Vec<u64>,
}

/// A subscription with the user and batch it joins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct MembershipRecord {
    /// The user's id.
    pub user: u64,
    /// The batch's id.
    pub batch: u64,
    /// The subscription.
    pub subscription: Subscription,
}

/// A system setting's value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SettingRecord {
    /// The setting's id.
    pub id: String,
    /// Its value, as stored.
    pub value: String,
}

/// The fields of a user the feed leaves out: secrets and sign-in
/// bookkeeping. [`Record::user`] blanks them, and the feed's JSON drops
/// them.
pub(crate) const USER_WITHHELD: [&str; 5] = [
    "password_hash",
    "last_login",
    "failed_logins",
    "locked_until",
    "credential_generation",
];

impl Record {
    /// `user` as the feed keeps it: no password hash, and none of the
    /// sign-in bookkeeping (last sign-in, failures, lockout, credential
    /// generation), so that a sign-in changes nothing the feed sees.
    pub(crate) fn user(user: &User) -> Record {
        let mut kept = user.clone();
        kept.password_hash = String::new();
        kept.last_login = None;
        kept.failed_logins = 0;
        kept.locked_until = None;
        kept.credential_generation = 0;
        Record::User(kept)
    }

    /// `side` as the feed keeps it: a migration claim's failed attempts
    /// are bookkeeping, as a user's failed sign-ins are (a claim that
    /// failed only is no claim here; a rejected one is kept, its count
    /// cleared).
    pub(crate) fn sunbird(side: &SunbirdUser) -> Record {
        let mut kept = side.clone();
        kept.claim = kept
            .claim
            .filter(|c| c.rejected)
            .map(|c| crate::domain::sunbird::Claim { failed: 0, ..c });
        Record::SunbirdUser(kept)
    }

    /// The record as JSON text, without the fields the feed withholds.
    pub(crate) fn to_json(&self) -> String {
        let value = match self {
            Record::User(r) => serde_json::to_value(r),
            Record::SunbirdUser(r) => serde_json::to_value(r),
            Record::Batch(r) => serde_json::to_value(r),
            Record::Course(r) => serde_json::to_value(r),
            Record::Subscription(r) => serde_json::to_value(r),
            Record::CustomField(r) => serde_json::to_value(r),
            Record::Group(r) => serde_json::to_value(r),
            Record::Organisation(r) => serde_json::to_value(r),
            Record::Setting(r) => serde_json::to_value(r),
            Record::LinkedCourse(r) => serde_json::to_value(&r.course).map(|mut v| {
                if let Some(fields) = v.as_object_mut() {
                    fields.insert("batches".into(), r.batches.clone().into());
                }
                v
            }),
        };
        let mut value = value.unwrap_or(serde_json::Value::Null);
        if let (Record::User(_), Some(fields)) = (self, value.as_object_mut()) {
            for name in USER_WITHHELD {
                fields.remove(name);
            }
        }
        value.to_string()
    }
}

/// An entry as stored, keyed by its `seq`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Entry {
    /// First, so that trimming reads it alone (`store::change_instant`).
    pub at: Micros,
    pub actor: Option<u128>,
    pub entity: Entity,
    /// The entity's UUID (0 for a setting).
    pub uuid: u128,
    /// A setting's id (empty for every other entity).
    pub name: String,
    pub op: ChangeOp,
    /// The record after the change, postcard-encoded ([`Record`]); `None`
    /// for a deletion.
    pub record: Option<Vec<u8>>,
}
