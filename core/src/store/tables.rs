//! Every table of a roster store (format 14).
//!
//! Every table is bytes to bytes in the backend; the types below say how
//! [`super::keys`] encodes each key and value. Records are postcard-encoded
//! domain structs keyed by integer id, each stored as a verified frame
//! ([`super::frame`]). Every other table is an index kept by the functions of [`super::write`] in the
//! same transaction as the record it points to, so the two cannot drift.
//! A unique index's value (an id, marked "sealed") carries a CRC-32 of its
//! table, key and id ([`super::keys::seal`], format 12), so a damaged
//! entry is told from a sound one without reading its record:
//!
//! | table | key -> value | invariant |
//! | --- | --- | --- |
//! | `meta` | name -> u64 | `schema_version` |
//! | `id_blocks` | (entity kind, block) -> next id | per block of ids, above every id given from it; ids are never reused ([`super::ids`]) |
//! | `users` | id -> User | |
//! | `user_by_username` | lower-case username -> id (sealed) | one per user |
//! | `user_by_email` | lower-case email -> id (sealed) | one per user with an email |
//! | `user_by_phone` | normalised phone -> id (sealed) | one per user with a phone |
//! | `uuids` | uuid -> (kind, id) | one per record of every entity |
//! | `batches` | id -> Batch | |
//! | `batch_by_name` | lower-case name -> id (sealed) | ordinary batches only |
//! | `courses` | id -> Course | each course owns one hidden batch |
//! | `course_by_slug` | slug -> id (sealed) | one per course |
//! | `course_batches` / `batch_courses` | (course, batch) / (batch, course) -> () | mirror images |
//! | `memberships` | (user, batch) -> Subscription | |
//! | `batch_members` | (batch, user) -> () | mirror of `memberships` |
//! | `expiries` | (expires day, user, batch) -> () | one per membership with an expiry; a purge reads only the expired |
//! | `custom_fields` | id -> CustomField | |
//! | `custom_field_by_name` | lower-case trimmed name -> id (sealed) | one per definition |
//! | `field_users` | (field, user) -> () | one per custom value a user holds |
//! | `groups` | id -> Group | |
//! | `group_by_name` | lower-case name -> id (sealed) | one per group |
//! | `group_users` | (group, user) -> () | mirror of users' `groups` |
//! | `sessions` | SHA-256 of token -> (user, credential generation, created, expires) | tokens themselves are never stored |
//! | `user_sessions` | (user, token hash) -> () | mirror of `sessions` |
//! | `outbox` | id -> Message | |
//! | `user_outbox` | (user, message) -> () | mirror of `outbox` |
//! | `sunbird_users` | user id -> SunbirdUser | at most one per user: its Sunbird-only fields (format 5) |
//! | `external_ids` | (provider, id type, id) key -> user (sealed) | one per external id a side record holds |
//! | `managed_users` | (manager, user) -> () | one per side record with `managed_by` |
//! | `organisations` | id -> Organisation | (format 5) |
//! | `org_by_channel` | lower-case channel -> id (sealed) | one per organisation with a channel |
//! | `org_by_external_id` | (tenant, external id, NUL, id) -> () | one per organisation with an external id (format 9): a user's `orgExternalId` is one prefix read |
//! | `sunbird_terms` | (field, folded value, user) -> () | one per value of a side record's filterable fields ([`super::terms`]) |
//! | `settings` | setting id -> its value's text | the system settings (Sunbird's `tncConfig`, ...) |
//! | `grams` | (field, gram, block of 4,096 ids) -> the ids' low bits | the n-gram search index ([`super::search`]) of every user not in `grams_unmerged` |
//! | `grams_unmerged` | user id -> its folded texts | users whose grams wait for their group of ids to be merged into `grams` (format 13) |
//! | `counts` | (table, level, block of ids) -> records | the position counts of users, listed batches, courses, groups and organisations ([`super::positions`]; batches, courses and groups from format 9, organisations from format 14) |
//! | `changes` | sequence number -> change entry | the change feed, in commit order ([`super::feed`]); `meta` keeps its floor (format 7); on redb the last table id in a new store (format 8) |

use super::keys::Def;

/// Record table: id -> encoded record.
pub(crate) type Records = Def<u64, [u8]>;
/// Unique index: key -> id, each entry sealed (format 12: a read trusts
/// an entry whose seal matches without reading the record it names).
pub(crate) type Unique = Def<str, u64>;
/// Relation: (a, b) -> ().
pub(crate) type Pairs = Def<(u64, u64), ()>;

pub(crate) const META: Def<str, u64> = Def::new("meta");
pub(crate) const ID_BLOCKS: Def<(u8, u64), u64> = Def::new("id_blocks");

pub(crate) const USERS: Records = Def::new("users");
pub(crate) const USER_BY_USERNAME: Unique = Def::sealed("user_by_username");
pub(crate) const USER_BY_EMAIL: Unique = Def::sealed("user_by_email");
pub(crate) const USER_BY_PHONE: Unique = Def::sealed("user_by_phone");
pub(crate) const UUIDS: Def<u128, (u8, u64)> = Def::new("uuids");

pub(crate) const BATCHES: Records = Def::new("batches");
pub(crate) const BATCH_BY_NAME: Unique = Def::sealed("batch_by_name");

pub(crate) const COURSES: Records = Def::new("courses");
pub(crate) const COURSE_BY_SLUG: Unique = Def::sealed("course_by_slug");
pub(crate) const COURSE_BATCHES: Pairs = Def::new("course_batches");
pub(crate) const BATCH_COURSES: Pairs = Def::new("batch_courses");

pub(crate) const MEMBERSHIPS: Def<(u64, u64), [u8]> = Def::new("memberships");
pub(crate) const BATCH_MEMBERS: Pairs = Def::new("batch_members");
pub(crate) const EXPIRIES: Def<(i32, u64, u64), ()> = Def::new("expiries");

pub(crate) const CUSTOM_FIELDS: Records = Def::new("custom_fields");
pub(crate) const CUSTOM_FIELD_BY_NAME: Unique = Def::sealed("custom_field_by_name");
pub(crate) const FIELD_USERS: Pairs = Def::new("field_users");

pub(crate) const GROUPS: Records = Def::new("groups");
pub(crate) const GROUP_BY_NAME: Unique = Def::sealed("group_by_name");
pub(crate) const GROUP_USERS: Pairs = Def::new("group_users");

/// A session: its user, the user's credential generation when it began
/// (valid only while the user still has it, SPEC A8), when it began and
/// when it ends (microseconds).
pub(crate) type SessionRow = (u64, u64, i64, i64);
pub(crate) const SESSIONS: Def<[u8; 32], SessionRow> = Def::new("sessions");
pub(crate) const USER_SESSIONS: Def<(u64, [u8; 32]), ()> = Def::new("user_sessions");

pub(crate) const OUTBOX: Records = Def::new("outbox");
pub(crate) const USER_OUTBOX: Pairs = Def::new("user_outbox");

pub(crate) const SUNBIRD_USERS: Records = Def::new("sunbird_users");
pub(crate) const EXTERNAL_IDS: Unique = Def::sealed("external_ids");
pub(crate) const MANAGED_USERS: Pairs = Def::new("managed_users");

pub(crate) const ORGANISATIONS: Records = Def::new("organisations");
pub(crate) const ORG_BY_CHANNEL: Unique = Def::sealed("org_by_channel");
/// (tenant, external id, NUL, organisation) -> () ([`super::read::org_external_key`]).
pub(crate) const ORG_BY_EXTERNAL_ID: Def<[u8], ()> = Def::new("org_by_external_id");
/// Every unique index.
pub(crate) const UNIQUE_INDEXES: [Unique; 9] = [
    USER_BY_USERNAME,
    USER_BY_EMAIL,
    USER_BY_PHONE,
    BATCH_BY_NAME,
    COURSE_BY_SLUG,
    CUSTOM_FIELD_BY_NAME,
    GROUP_BY_NAME,
    EXTERNAL_IDS,
    ORG_BY_CHANNEL,
];
pub(crate) const SETTINGS: Def<str, [u8]> = Def::new("settings");
pub(crate) const CHANGES: Def<u64, [u8]> = Def::new("changes");

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
    Organisation = 8,
    /// A user's Sunbird side record (framed under the user's id; gives no
    /// ids of its own).
    SunbirdUser = 9,
    /// An entry of the change feed (framed under its number; not an entity,
    /// so not in [`Kind::ALL`]).
    Change = 10,
}

impl Kind {
    /// Every kind.
    pub(crate) const ALL: [Kind; 9] = [
        Kind::User,
        Kind::Batch,
        Kind::Course,
        Kind::Subscription,
        Kind::CustomField,
        Kind::Group,
        Kind::Message,
        Kind::Organisation,
        Kind::SunbirdUser,
    ];

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
            Kind::Organisation => "organisation",
            Kind::SunbirdUser => "sunbird_user",
            Kind::Change => "change",
        }
    }
}
