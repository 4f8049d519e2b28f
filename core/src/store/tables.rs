//! Every redb table of a roster store.
//!
//! Records are postcard-encoded domain structs keyed by integer id, each
//! stored as a verified frame (format 3, [`super::frame`]). Every
//! other table is an index kept by the functions of [`super::write`] in the
//! same transaction as the record it points to, so the two cannot drift:
//!
//! | table | key -> value | invariant |
//! | --- | --- | --- |
//! | `meta` | name -> u64 | `schema_version` |
//! | `counters` | entity -> next id | above every id ever given; ids are never reused |
//! | `users` | id -> User | |
//! | `user_by_username` | lower-case username -> id | one per user |
//! | `user_by_email` | lower-case email -> id | one per user with an email |
//! | `user_by_phone` | normalised phone -> id | one per user with a phone |
//! | `uuids` | uuid -> (kind, id) | one per record of every entity |
//! | `batches` | id -> Batch | |
//! | `batch_by_name` | lower-case name -> id | ordinary batches only |
//! | `courses` | id -> Course | each course owns one hidden batch |
//! | `course_by_slug` | slug -> id | one per course |
//! | `course_batches` / `batch_courses` | (course, batch) / (batch, course) -> () | mirror images |
//! | `memberships` | (user, batch) -> Subscription | |
//! | `batch_members` | (batch, user) -> () | mirror of `memberships` |
//! | `subscriptions` | subscription id -> (user, batch) | one per membership |
//! | `expiries` | (expires day, subscription id) -> () | one per membership with an expiry |
//! | `custom_fields` | id -> CustomField | |
//! | `custom_field_by_name` | lower-case trimmed name -> id | one per definition |
//! | `field_users` | (field, user) -> () | one per custom value a user holds |
//! | `groups` | id -> Group | |
//! | `group_by_name` | lower-case name -> id | one per group |
//! | `group_users` | (group, user) -> () | mirror of users' `groups` |
//! | `sessions` | SHA-256 of token -> (user, credential generation, created, expires) | tokens themselves are never stored |
//! | `user_sessions` | (user, token hash) -> () | mirror of `sessions` |
//! | `outbox` | id -> Message | |
//! | `user_outbox` | (user, message) -> () | mirror of `outbox` |

use redb::TableDefinition;

/// Record table: id -> encoded record.
pub(crate) type Records = TableDefinition<'static, u64, &'static [u8]>;
/// Unique index: key -> id.
pub(crate) type Unique = TableDefinition<'static, &'static str, u64>;
/// Relation: (a, b) -> ().
pub(crate) type Pairs = TableDefinition<'static, (u64, u64), ()>;

pub(crate) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
pub(crate) const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");

pub(crate) const USERS: Records = TableDefinition::new("users");
pub(crate) const USER_BY_USERNAME: Unique = TableDefinition::new("user_by_username");
pub(crate) const USER_BY_EMAIL: Unique = TableDefinition::new("user_by_email");
pub(crate) const USER_BY_PHONE: Unique = TableDefinition::new("user_by_phone");
pub(crate) const UUIDS: TableDefinition<u128, (u8, u64)> = TableDefinition::new("uuids");

pub(crate) const BATCHES: Records = TableDefinition::new("batches");
pub(crate) const BATCH_BY_NAME: Unique = TableDefinition::new("batch_by_name");

pub(crate) const COURSES: Records = TableDefinition::new("courses");
pub(crate) const COURSE_BY_SLUG: Unique = TableDefinition::new("course_by_slug");
pub(crate) const COURSE_BATCHES: Pairs = TableDefinition::new("course_batches");
pub(crate) const BATCH_COURSES: Pairs = TableDefinition::new("batch_courses");

pub(crate) const MEMBERSHIPS: TableDefinition<(u64, u64), &[u8]> =
    TableDefinition::new("memberships");
pub(crate) const BATCH_MEMBERS: Pairs = TableDefinition::new("batch_members");
pub(crate) const SUBSCRIPTIONS: TableDefinition<u64, (u64, u64)> =
    TableDefinition::new("subscriptions");
pub(crate) const EXPIRIES: TableDefinition<(i32, u64), ()> = TableDefinition::new("expiries");

pub(crate) const CUSTOM_FIELDS: Records = TableDefinition::new("custom_fields");
pub(crate) const CUSTOM_FIELD_BY_NAME: Unique = TableDefinition::new("custom_field_by_name");
pub(crate) const FIELD_USERS: Pairs = TableDefinition::new("field_users");

pub(crate) const GROUPS: Records = TableDefinition::new("groups");
pub(crate) const GROUP_BY_NAME: Unique = TableDefinition::new("group_by_name");
pub(crate) const GROUP_USERS: Pairs = TableDefinition::new("group_users");

/// A session: its user, the user's credential generation when it began
/// (valid only while the user still has it, SPEC A8), when it began and
/// when it ends (microseconds).
pub(crate) type SessionRow = (u64, u64, i64, i64);
pub(crate) const SESSIONS: TableDefinition<[u8; 32], SessionRow> = TableDefinition::new("sessions");
pub(crate) const USER_SESSIONS: TableDefinition<(u64, [u8; 32]), ()> =
    TableDefinition::new("user_sessions");

pub(crate) const OUTBOX: Records = TableDefinition::new("outbox");
pub(crate) const USER_OUTBOX: Pairs = TableDefinition::new("user_outbox");

/// The entity kinds of the `uuids` table and of the id counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    User = 1,
    Batch = 2,
    Course = 3,
    Subscription = 4,
    CustomField = 5,
    Group = 6,
    Message = 7,
}

impl Kind {
    /// The counter name of this kind.
    pub(crate) fn counter(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Batch => "batch",
            Kind::Course => "course",
            Kind::Subscription => "subscription",
            Kind::CustomField => "custom_field",
            Kind::Group => "group",
            Kind::Message => "message",
        }
    }
}
