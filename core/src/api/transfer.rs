//! Bulk import (X1) and the whole-store dump and restore behind export
//! (X2). The file formats live in [`crate::transfer`]; here rows are checked
//! and written, a chunk per transaction.

use super::Admin;
use super::users::{self, Creating, Joining};
use crate::auth::legacy;
use crate::auth::password;
use crate::auth::permissions::{Action, Model, Permission};
use crate::domain::course::Course;
use crate::domain::custom_field::CustomField;
use crate::domain::group::Group;
use crate::domain::rules::REQUIRED;
use crate::domain::sunbird::{Organisation, SunbirdUser};
use crate::domain::user::{self, CreateOptions, NewUser, User};
use crate::domain::{Batch, Subscription};
use crate::error::{Error, ErrorCode, FieldErrors, Result};
use crate::store::tables::*;
use crate::store::{ids, integrity, read, write};
use crate::text::clip;
use std::panic::{AssertUnwindSafe, catch_unwind};

mod restore_check;

/// One user to import (its Debug hides the password hash; the user's
/// own hides its password).
#[derive(Clone, Default, PartialEq)]
pub struct ImportRow {
    /// Line of the file the row starts on (for the report).
    pub line: u64,
    /// The user, as a create would take it.
    pub user: NewUser,
    /// A stored hash instead of a password: roster's argon2id PHC string, a
    /// Django hash (`pbkdf2_sha256$...`, `pbkdf2_sha1$...`, `argon2$...`)
    /// within the cost caps of SPEC A4, or `!` (no usable password).
    pub password_hash: Option<String>,
    /// Problems found while reading the row (wrong types, bad cells).
    pub errors: FieldErrors,
}

crate::text::debug_without_secrets!(ImportRow {
    line,
    user,
    password_hash secret,
    errors,
});

/// A row that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct Rejected {
    /// Line of the file.
    pub line: u64,
    /// The row's username, as given.
    pub username: String,
    /// Every problem of the row, `field: message; ...`.
    pub reason: String,
}

/// What an import did (the one shape of both bindings' report: the
/// WebAssembly binding serialises it as it is).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct ImportReport {
    /// Users created.
    pub created: u64,
    /// Rows refused, in file order. An import from a file lists the first
    /// [`REJECTED_LISTED`] (its caller may hear every one as it goes: see
    /// [`crate::transfer::import_hearing`]); `rejected_count` counts them
    /// all.
    pub rejected: Vec<Rejected>,
    /// How many rows were refused, those past the list included.
    pub rejected_count: u64,
    /// Whether the file was a full export, restored as a whole (then
    /// `created` counts the users restored).
    pub restored: bool,
    /// What the caller should know although nothing failed (a legacy export
    /// restored without the trailer's checks).
    pub warnings: Vec<String>,
}

/// At most this many refused rows are listed in an import's report: a file
/// of millions of bad rows would otherwise cost a hundred times its size in
/// memory (each two-byte row a line, a username and a reason).
pub const REJECTED_LISTED: usize = 1_000;

impl ImportReport {
    /// Adds another chunk's report.
    pub fn absorb(&mut self, other: ImportReport) {
        self.created += other.created;
        self.restored |= other.restored;
        self.warnings.extend(other.warnings);
        // The other's rows past its own list are counted, not listed.
        let unlisted = other
            .rejected_count
            .saturating_sub(other.rejected.len() as u64);
        for row in other.rejected {
            self.refuse(row);
        }
        self.rejected_count += unlisted;
    }

    /// Counts a refused row, and lists it while the list has room.
    pub(crate) fn refuse(&mut self, row: Rejected) {
        self.rejected_count += 1;
        if self.rejected.len() < REJECTED_LISTED {
            self.rejected.push(row);
        }
    }
}

/// Everything a store holds but sessions and the outbox: what export writes
/// and restore reads back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dump {
    /// Id counters, by entity.
    pub counters: Vec<(String, u64)>,
    /// System settings (Sunbird's `tncConfig`, ...), by id.
    pub settings: Vec<(String, String)>,
    /// Custom field definitions.
    pub custom_fields: Vec<CustomField>,
    /// Groups.
    pub groups: Vec<Group>,
    /// Batches, hidden course batches included.
    pub batches: Vec<Batch>,
    /// Courses.
    pub courses: Vec<Course>,
    /// (course, batch) links.
    pub course_batches: Vec<(u64, u64)>,
    /// Organisations (Sunbird).
    pub organisations: Vec<Organisation>,
    /// Users, with their password hashes.
    pub users: Vec<User>,
    /// Users' Sunbird-only fields, by user id.
    pub sunbird_users: Vec<(u64, SunbirdUser)>,
    /// (user, batch, subscription).
    pub memberships: Vec<(u64, u64, Subscription)>,
}

/// One record of a [`Dump`], as [`Admin::dump_each`] hands it over.
#[derive(Debug)]
pub(crate) enum Dumped {
    /// The id counters, by entity (always first).
    Counters(Vec<(String, u64)>),
    /// A system setting: id, value.
    Setting(String, String),
    /// A custom field definition.
    CustomField(CustomField),
    /// A group.
    Group(Group),
    /// An organisation (Sunbird).
    Organisation(Organisation),
    /// A batch, hidden course batches included.
    Batch(Batch),
    /// A course.
    Course(Course),
    /// A (course, batch) link.
    CourseBatch(u64, u64),
    /// A user, with its password hash.
    User(User),
    /// A user's Sunbird-only fields: user id, fields.
    SunbirdUser(u64, SunbirdUser),
    /// A membership: user, batch, subscription.
    Membership(u64, u64, Subscription),
}

impl Dump {
    /// Keeps `record` in its list.
    fn take(&mut self, record: Dumped) {
        match record {
            Dumped::Counters(counters) => self.counters = counters,
            Dumped::Setting(id, value) => self.settings.push((id, value)),
            Dumped::CustomField(f) => self.custom_fields.push(f),
            Dumped::Group(g) => self.groups.push(g),
            Dumped::Organisation(o) => self.organisations.push(o),
            Dumped::Batch(b) => self.batches.push(b),
            Dumped::Course(c) => self.courses.push(c),
            Dumped::CourseBatch(course, batch) => self.course_batches.push((course, batch)),
            Dumped::User(u) => self.users.push(u),
            Dumped::SunbirdUser(id, side) => self.sunbird_users.push((id, side)),
            Dumped::Membership(user, batch, sub) => self.memberships.push((user, batch, sub)),
        }
    }
}

/// Every problem of a row, each message cut to [`clip`]'s length (messages
/// may quote the rejected value).
fn flatten(errors: &FieldErrors) -> String {
    errors
        .iter()
        .map(|(field, _)| {
            let messages: Vec<String> = errors.messages(field).iter().map(|m| clip(m)).collect();
            format!("{field}: {}", messages.join(" "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Hashes `passwords` (index, plaintext) on as many threads as the password
/// gate lets run at once (where threads exist). Each hash waits for its turn
/// on the gate, however long its queue: an import is never refused `busy`
/// half-way, and its workers (no more than the gate's concurrency) bound
/// what it adds to the queue.
///
/// `hashed` runs on the calling thread once per password hashed, as each
/// is done (an import's progress moves row by row, not chunk by chunk).
fn hash_all(
    passwords: Vec<(usize, String)>,
    params: crate::config::Argon2Params,
    gate: &crate::auth::gate::Gate,
    hashed: &mut dyn FnMut(),
) -> Result<Vec<(usize, String)>> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        let workers = gate.concurrency().min(passwords.len().max(1));
        let per = passwords.len().div_ceil(workers.max(1)).max(1);
        std::thread::scope(|scope| {
            let (done, heard) = std::sync::mpsc::channel::<()>();
            let handles: Vec<_> = passwords
                .chunks(per)
                .map(|chunk| {
                    let done = done.clone();
                    scope.spawn(move || {
                        chunk
                            .iter()
                            .map(|(i, p)| {
                                let hash = password::hash(p, params, &gate.wait())?;
                                let _ = done.send(());
                                Ok((*i, hash))
                            })
                            .collect::<Result<Vec<_>>>()
                    })
                })
                .collect();
            // The channel closes when the last worker ends (its sender
            // dropped), a failed or panicked one included.
            drop(done);
            for () in heard {
                hashed();
            }
            let mut out = Vec::with_capacity(passwords.len());
            for handle in handles {
                let hashed = handle
                    .join()
                    .map_err(|_| Error::new(ErrorCode::Internal, "a hashing thread panicked"))?;
                out.extend(hashed?);
            }
            Ok(out)
        })
    }
    #[cfg(target_arch = "wasm32")]
    {
        passwords
            .into_iter()
            .map(|(i, p)| {
                let hash = password::hash(&p, params, &gate.wait())?;
                hashed();
                Ok((i, hash))
            })
            .collect()
    }
}

impl Admin {
    /// Imports one chunk of rows in one transaction: each row is created
    /// whole or refused whole (reported with its line and reasons, every
    /// refused row listed: the rows are in memory already); good rows are
    /// kept. Plaintext passwords are hashed on every core first.
    /// Needs `add_user`.
    pub fn import_rows(&self, rows: Vec<ImportRow>) -> Result<ImportReport> {
        self.import_rows_hearing(rows, &Joining::default(), &mut || {})
    }

    /// [`Admin::import_rows`], every row also joining `joining`'s batches,
    /// calling `hashed` on this thread as each plaintext password of the
    /// chunk is hashed (the slow part).
    pub(crate) fn import_rows_hearing(
        &self,
        rows: Vec<ImportRow>,
        joining: &Joining,
        hashed: &mut dyn FnMut(),
    ) -> Result<ImportReport> {
        let granted = self.allow(Permission::new(Action::Add, Model::User))?;
        let policy = self.config().password_policy.clone();
        let mut pre: Vec<FieldErrors> = Vec::with_capacity(rows.len());
        let mut plaintext = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let mut errors = row.errors.clone();
            match (&row.user.password, &row.password_hash) {
                (Some(_), Some(_)) => errors.add(
                    "password_hash",
                    "Give a password or a password hash, not both.",
                ),
                (None, None) => errors.add("password", REQUIRED),
                (None, Some(hash)) => {
                    if let Err(reason) = legacy::check_stored(hash) {
                        errors.add("password_hash", reason);
                    }
                }
                (Some(p), None) => {
                    let username = row.user.username.as_deref().unwrap_or("");
                    user::check_password(p, username, &policy, &mut errors);
                    if errors.is_empty() {
                        plaintext.push((i, p.clone()));
                    }
                }
            }
            pre.push(errors);
        }
        let mut hashes: Vec<Option<String>> =
            rows.iter().map(|r| r.password_hash.clone()).collect();
        for (i, hash) in hash_all(
            plaintext,
            self.config().argon2,
            self.institute.gate(),
            hashed,
        )? {
            hashes[i] = Some(hash);
        }
        granted.write(|txn| {
            txn.defer_search_index();
            let mut report = ImportReport::default();
            // Every row is checked against the store and the rows before it;
            // those that pass are stored together, table by table.
            let mut creating = Creating::joining(joining);
            let mut accepted = Vec::new();
            let hints = joining.hinted(crate::store::Reads::default());
            users::will_import_with(txn, rows.iter().map(|r| &r.user), hints)?;
            for ((row, errors), hash) in rows.iter().zip(pre.clone()).zip(hashes.clone()) {
                let options = CreateOptions::default();
                let outcome = self.prepare_user(
                    txn,
                    &row.user,
                    options,
                    hash.unwrap_or_default(),
                    &mut creating,
                    errors,
                );
                match outcome {
                    Ok(new) => {
                        accepted.push(new);
                        report.created += 1;
                    }
                    Err(e) if e.code() == ErrorCode::Validation => {
                        report.rejected_count += 1;
                        report.rejected.push(Rejected {
                            line: row.line,
                            username: clip(row.user.username.as_deref().unwrap_or_default()),
                            reason: flatten(e.fields()),
                        });
                    }
                    Err(e) => return Err(e),
                }
            }
            self.store_users(txn, accepted)?;
            Ok(report)
        })
    }

    /// Everything the store holds but sessions and the outbox, password
    /// hashes included: a host-level operation (SPEC A6), the operator only.
    pub fn dump(&self) -> Result<Dump> {
        let mut dump = Dump::default();
        self.dump_each(&mut |record| {
            dump.take(record);
            Ok(())
        })?;
        Ok(dump)
    }

    /// [`Admin::dump`], one record at a time, each handed to `each` as it
    /// is read and then dropped, in the order an export writes them: all
    /// from one snapshot, of which no more than one record is held here.
    /// The operator only.
    ///
    /// `each` runs inside the read: on PostgreSQL it keeps a transaction
    /// open, which the server ends once it has waited longer than
    /// `idle_transaction_timeout` between two of roster's statements.
    ///
    /// A panic of `each` (an export's writer is the caller's) is the
    /// caller's, not the store's: a panic inside a read is taken for a
    /// storage engine's and poisons the store, so this one is caught, the
    /// read ended, and the panic raised again once the read is over.
    pub(crate) fn dump_each(&self, each: &mut dyn FnMut(Dumped) -> Result<()>) -> Result<()> {
        self.allow_operator()?;
        let mut panicked = None;
        let mut hand_over = |record: Dumped| match catch_unwind(AssertUnwindSafe(|| each(record))) {
            Ok(done) => done,
            Err(payload) => {
                panicked = Some(payload);
                Err(Error::new(ErrorCode::Internal, "the caller panicked"))
            }
        };
        let each = &mut hand_over;
        let read = self.store().reading(|txn| {
            // A backup of a store whose pages hide rows would look whole:
            // the walk against the storage's own count refuses it first.
            txn.verify_rows()?;
            each(Dumped::Counters(read::id_counters(txn)?))?;
            for (id, value) in read::settings(txn)? {
                each(Dumped::Setting(id, value))?;
            }
            read::each_record(txn, CUSTOM_FIELDS, &mut |f| each(Dumped::CustomField(f)))?;
            read::each_record(txn, GROUPS, &mut |g| each(Dumped::Group(g)))?;
            read::each_record(txn, ORGANISATIONS, &mut |o| each(Dumped::Organisation(o)))?;
            read::each_record(txn, BATCHES, &mut |b| each(Dumped::Batch(b)))?;
            read::each_record(txn, COURSES, &mut |c| each(Dumped::Course(c)))?;
            for (course, batch) in read::course_links(txn)? {
                each(Dumped::CourseBatch(course, batch))?;
            }
            read::each_record(txn, USERS, &mut |u| each(Dumped::User(u)))?;
            read::each_sunbird_user(txn, &mut |id, side| each(Dumped::SunbirdUser(id, side)))?;
            read::each_membership(txn, &mut |user, batch, sub| {
                each(Dumped::Membership(user, batch, sub))
            })
        });
        if let Some(payload) = panicked {
            std::panic::resume_unwind(payload);
        }
        read
    }

    /// Restores a [`Dump`] into this store, which must be empty: the same
    /// records, ids, UUIDs, timestamps and password hashes. All or nothing:
    /// a dump whose records disagree with each other, or any of whose
    /// records breaks a rule the path that creates it applies (the password
    /// hash caps included), is refused whole. The operator only.
    pub fn restore(&self, dump: Dump) -> Result<()> {
        self.allow_operator()?;
        let dump = nfkc_dump(dump)?;
        let problems = restore_check::check(&dump, self.today(), self.config());
        if problems.total > 0 {
            let shown: Vec<&str> = problems.shown.iter().take(5).map(String::as_str).collect();
            let more = match problems.total {
                n if n > shown.len() => format!(" (and {} more)", n - shown.len()),
                _ => String::new(),
            };
            return Err(Error::new(
                ErrorCode::Corrupt,
                format!(
                    "the export breaks roster's rules, so nothing was restored: {}{more}",
                    shown.join("; ")
                ),
            ));
        }
        self.write(|txn| {
            if !read::holds_no_records(txn)? {
                return Err(Error::new(
                    ErrorCode::Conflict,
                    "restore needs an empty store",
                ));
            }
            for f in &dump.custom_fields {
                write::put_custom_field(txn, None, f)?;
            }
            for g in &dump.groups {
                write::put_group(txn, None, g)?;
            }
            for (id, value) in &dump.settings {
                write::put_setting(txn, id, value)?;
            }
            for o in &dump.organisations {
                write::put_organisation(txn, None, o)?;
            }
            // The default organisation's row is no record (an export does
            // not carry it): set again from the organisation marked default.
            write::point_default_org(txn)?;
            for b in &dump.batches {
                write::put_batch(txn, None, b)?;
            }
            for c in &dump.courses {
                write::put_course(txn, None, c)?;
            }
            write::link_course_pairs(txn, &dump.course_batches)?;
            // Users and memberships by the bulk create's path, a slice at a
            // time: keys written in order, the search index once at the end.
            txn.defer_search_index();
            for users in dump.users.chunks(RESTORE_SLICE) {
                write::put_new_users(txn, users)?;
            }
            for (id, side) in &dump.sunbird_users {
                write::put_sunbird(txn, *id, None, Some(side))?;
            }
            for memberships in dump.memberships.chunks(RESTORE_SLICE) {
                write::put_new_memberships(txn, memberships)?;
            }
            for (name, next) in &dump.counters {
                // Never below what this store has given already (its users
                // may all have been deleted): ids are never reused, and no
                // later user may meet an old one's id.
                let kind = ids::kind_named(name).ok_or_else(|| {
                    Error::new(ErrorCode::Corrupt, format!("unknown id counter {name:?}"))
                })?;
                ids::raise(txn, kind, *next)?;
            }
            txn.write_deferred_search_index()?;
            let limit = self.config().sunbird.managed_limit;
            let problems = integrity::check_restored(txn, limit, &dump.users)?;
            if !problems.is_empty() {
                let first: Vec<&str> = problems.iter().take(3).map(String::as_str).collect();
                return Err(Error::new(
                    ErrorCode::Corrupt,
                    format!("the export is inconsistent: {}", first.join("; ")),
                ));
            }
            Ok(())
        })
    }
}

/// Users (or memberships) a restore writes by one call of the bulk path:
/// each call sorts and reads its keys at once.
const RESTORE_SLICE: usize = 10_000;

/// An export's usernames and emails in NFKC form (format 3's rule, for an
/// export written before it); users whose names are now one name are
/// refused, naming them.
fn nfkc_dump(mut dump: Dump) -> Result<Dump> {
    // A name too long to be one is refused by the restore's check whole:
    // it is not normalised first (NFKC makes some text 11 times longer).
    let overlong = |u: &User| {
        !crate::text::may_fold_to(&u.username, crate::domain::rules::USERNAME_MAX)
            || !crate::text::may_fold_to(&u.profile.email, crate::domain::rules::EMAIL_MAX)
    };
    if dump.users.iter().any(overlong) {
        return Ok(dump);
    }
    for user in &mut dump.users {
        user.username = crate::text::nfkc(&user.username);
        user.profile.email = crate::text::nfkc(&user.profile.email);
    }
    if let Some(clash) = crate::store::migrate_nfkc::collisions(&dump.users)
        .into_iter()
        .next()
    {
        return Err(Error::new(
            ErrorCode::Conflict,
            format!(
                "the export holds users whose names are now one name ({clash}); rename one \
                 of them in the file, or open the store it came from"
            ),
        ));
    }
    Ok(dump)
}
