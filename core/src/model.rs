//! A plain model of the user directory the documents describe, and a
//! checker that applies the same operations to it and to roster (feature
//! `testing`): usernames and emails unique ignoring case, ids never reused,
//! `q` matching a substring of username or email ignoring case, pages of a
//! list ordered by id with the exact count; batch and group names unique
//! ignoring case, a course's hidden batch never listed and deleted only
//! with its course, the batch, course and group lists paged by id. The
//! property test
//! (`tests/tests/integration/model.rs`) draws operations with proptest; the
//! fuzz target `model` decodes them from libFuzzer's bytes ([`ops_from`]).
//! Both run roster on three backends in lockstep: redb in memory, the model
//! backend, and the model backend running every write twice.

use crate::{
    BatchInput, Config, CourseInput, CreateOptions, ErrorCode, GroupInput, Institute, ModelBackend,
    NewUser, Page, PageRequest, ProfileInput, UserPatch, UserQuery,
};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Usernames: case variants clash.
pub const USERNAMES: &[&str] = &[
    "asha", "Asha", "ravi", "kiran", "meena", "anil", "sunil", "ANIL", "ra", "a",
];
/// Emails: case variants clash; `""` is none.
pub const EMAILS: &[&str] = &["asha@x.in", "ASHA@X.IN", "ravi@y.in", "k@z.org", ""];
/// Search fragments: one and two characters keep substring semantics;
/// longer ones are checked against the texts.
pub const QUERIES: &[&str] = &[
    "a", "an", "il", "sha", "ASH", "@x", "in", "zz", "i@y", "nil", "sha@x", "kiran", "avi@y.",
    "nilx",
];

/// Batch names: case variants clash.
pub const BATCH_NAMES: &[&str] = &["Morning", "morning", "Evening", "Weekend", "A"];
/// Batch searches: `""` lists every batch, as no search does.
pub const BATCH_SEARCHES: &[&str] = &["", "or", "E", "zz"];
/// Group names: case variants clash.
pub const GROUP_NAMES: &[&str] = &["Staff", "staff", "Tutors", "Office"];

/// One operation.
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub enum Op {
    Create {
        username: usize,
        email: usize,
    },
    Rename {
        user: usize,
        username: usize,
    },
    SetEmail {
        user: usize,
        email: usize,
    },
    Delete {
        user: usize,
    },
    List {
        q: Option<usize>,
        page: u64,
        per_page: u32,
    },
    ByEmail {
        email: usize,
    },
    CreateBatch {
        name: usize,
    },
    DeleteBatch {
        batch: usize,
    },
    /// A course titled by its number: its slug never clashes.
    CreateCourse,
    DeleteCourse {
        course: usize,
    },
    CreateGroup {
        name: usize,
    },
    DeleteGroup {
        group: usize,
    },
    ListBatches {
        search: Option<usize>,
        page: u64,
        per_page: u32,
    },
    ListCourses {
        page: u64,
        per_page: u32,
    },
    ListGroups {
        page: u64,
        per_page: u32,
    },
}

/// Operations decoded from arbitrary bytes, three bytes each (a fuzzer's
/// input): every byte string is a valid sequence.
pub fn ops_from(bytes: &[u8]) -> Vec<Op> {
    bytes
        .chunks_exact(3)
        .take(200)
        .map(|b| {
            let (a, c) = (b[1] as usize, b[2] as usize);
            let page = 1 + (c % 3) as u64;
            let per_page = 1 + (c / 3 % 3) as u32;
            match b[0] % 22 {
                0..=3 => Op::Create {
                    username: a % USERNAMES.len(),
                    email: c % EMAILS.len(),
                },
                4 => Op::Rename {
                    user: a,
                    username: c % USERNAMES.len(),
                },
                5 => Op::SetEmail {
                    user: a,
                    email: c % EMAILS.len(),
                },
                6 => Op::Delete { user: a },
                7..=9 => Op::List {
                    q: (a % (QUERIES.len() + 1)).checked_sub(1),
                    page: 1 + (c % 3) as u64,
                    per_page: 1 + (c / 3 % 3) as u32,
                },
                10 | 11 => Op::ByEmail {
                    email: a % (EMAILS.len() - 1),
                },
                12 | 13 => Op::CreateBatch {
                    name: a % BATCH_NAMES.len(),
                },
                14 => Op::DeleteBatch { batch: a },
                15 => Op::CreateCourse,
                16 => Op::DeleteCourse { course: a },
                17 => Op::CreateGroup {
                    name: a % GROUP_NAMES.len(),
                },
                18 => Op::DeleteGroup { group: a },
                19 => Op::ListBatches {
                    search: (a % (BATCH_SEARCHES.len() + 1)).checked_sub(1),
                    page,
                    per_page,
                },
                20 => Op::ListCourses { page, per_page },
                _ => Op::ListGroups { page, per_page },
            }
        })
        .collect()
}

/// What the documents say a user directory does.
#[derive(Default, Clone)]
struct Model {
    users: BTreeMap<u64, (String, String)>,
    ever: Vec<u64>,
    next: u64,
    /// Ordinary batches: id -> name.
    batches: BTreeMap<u64, String>,
    /// Courses: id -> the id of their hidden batch.
    courses: BTreeMap<u64, u64>,
    /// Groups: id -> name.
    groups: BTreeMap<u64, String>,
    /// Every batch id given (hidden ones too), every course and group id.
    batches_ever: Vec<u64>,
    courses_ever: Vec<u64>,
    groups_ever: Vec<u64>,
    next_batch: u64,
    next_course: u64,
    next_group: u64,
}

/// Known ids most of the time, a never-used one sometimes.
fn pick_from(ever: &[u64], sel: usize) -> u64 {
    if ever.is_empty() || sel % 7 == 6 {
        return 10_000 + sel as u64;
    }
    ever[sel % ever.len()]
}

/// Page `page` of `per_page` of `ids` with their count, as the lists give
/// it: a page past the last (but the first) does not exist.
fn page_of(ids: Vec<u64>, page: u64, per_page: u32) -> Answer {
    let count = ids.len() as u64;
    let start = (page - 1) * per_page as u64;
    if page > 1 && start >= count {
        return Answer::Refused(ErrorCode::NotFound);
    }
    let ids = ids
        .into_iter()
        .skip(start as usize)
        .take(per_page as usize)
        .collect();
    Answer::Page { count, ids }
}

/// Whether `name` is one of `names`, ignoring case.
fn holds_name<'a>(mut names: impl Iterator<Item = &'a String>, name: &str) -> bool {
    names.any(|n| n.to_lowercase() == name.to_lowercase())
}

/// One answer, comparable between roster and the model.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    Id(u64),
    Done,
    Refused(ErrorCode),
    Page { count: u64, ids: Vec<u64> },
}

impl Model {
    fn taken(&self, me: Option<u64>, username: &str, email: &str) -> bool {
        self.users.iter().any(|(id, (u, e))| {
            Some(*id) != me
                && (u.to_lowercase() == username.to_lowercase()
                    || (!email.is_empty() && e.to_lowercase() == email.to_lowercase()))
        })
    }

    fn pick(&self, sel: usize) -> u64 {
        pick_from(&self.ever, sel)
    }

    fn apply(&mut self, op: &Op) -> Answer {
        match *op {
            Op::Create { username, email } => {
                let (u, e) = (USERNAMES[username], EMAILS[email]);
                if self.taken(None, u, e) {
                    return Answer::Refused(ErrorCode::Validation);
                }
                self.next += 1;
                self.users.insert(self.next, (u.into(), e.into()));
                self.ever.push(self.next);
                Answer::Id(self.next)
            }
            Op::Rename { user, username } => {
                let id = self.pick(user);
                let Some((_, e)) = self.users.get(&id).cloned() else {
                    return Answer::Refused(ErrorCode::NotFound);
                };
                let u = USERNAMES[username];
                if self.taken(Some(id), u, &e) {
                    return Answer::Refused(ErrorCode::Validation);
                }
                self.users.insert(id, (u.into(), e));
                Answer::Done
            }
            Op::SetEmail { user, email } => {
                let id = self.pick(user);
                let Some((u, _)) = self.users.get(&id).cloned() else {
                    return Answer::Refused(ErrorCode::NotFound);
                };
                let e = EMAILS[email];
                if self.taken(Some(id), &u, e) {
                    return Answer::Refused(ErrorCode::Validation);
                }
                self.users.insert(id, (u, e.into()));
                Answer::Done
            }
            Op::Delete { user } => match self.users.remove(&self.pick(user)) {
                Some(_) => Answer::Done,
                None => Answer::Refused(ErrorCode::NotFound),
            },
            Op::List { q, page, per_page } => {
                let q = q.map(|q| QUERIES[q].to_lowercase());
                let hits: Vec<u64> = self
                    .users
                    .iter()
                    .filter(|(_, (u, e))| {
                        q.as_deref().is_none_or(|q| {
                            u.to_lowercase().contains(q) || e.to_lowercase().contains(q)
                        })
                    })
                    .map(|(id, _)| *id)
                    .collect();
                page_of(hits, page, per_page)
            }
            Op::ByEmail { email } => {
                let e = EMAILS[email].to_lowercase();
                let ids: Vec<u64> = self
                    .users
                    .iter()
                    .filter(|(_, (_, mine))| mine.to_lowercase() == e)
                    .map(|(id, _)| *id)
                    .collect();
                Answer::Page {
                    count: ids.len() as u64,
                    ids,
                }
            }
            Op::CreateBatch { name } => {
                let name = BATCH_NAMES[name];
                if holds_name(self.batches.values(), name) {
                    return Answer::Refused(ErrorCode::Validation);
                }
                self.next_batch += 1;
                self.batches.insert(self.next_batch, name.into());
                self.batches_ever.push(self.next_batch);
                Answer::Id(self.next_batch)
            }
            Op::DeleteBatch { batch } => {
                let id = pick_from(&self.batches_ever, batch);
                if self.batches.remove(&id).is_some() {
                    Answer::Done
                } else if self.courses.values().any(|hidden| *hidden == id) {
                    Answer::Refused(ErrorCode::Validation)
                } else {
                    Answer::Refused(ErrorCode::NotFound)
                }
            }
            Op::CreateCourse => {
                self.next_course += 1;
                self.next_batch += 1;
                self.courses.insert(self.next_course, self.next_batch);
                self.courses_ever.push(self.next_course);
                self.batches_ever.push(self.next_batch);
                Answer::Id(self.next_course)
            }
            Op::DeleteCourse { course } => {
                match self.courses.remove(&pick_from(&self.courses_ever, course)) {
                    Some(_) => Answer::Done,
                    None => Answer::Refused(ErrorCode::NotFound),
                }
            }
            Op::CreateGroup { name } => {
                let name = GROUP_NAMES[name];
                if holds_name(self.groups.values(), name) {
                    return Answer::Refused(ErrorCode::Validation);
                }
                self.next_group += 1;
                self.groups.insert(self.next_group, name.into());
                self.groups_ever.push(self.next_group);
                Answer::Id(self.next_group)
            }
            Op::DeleteGroup { group } => {
                match self.groups.remove(&pick_from(&self.groups_ever, group)) {
                    Some(_) => Answer::Done,
                    None => Answer::Refused(ErrorCode::NotFound),
                }
            }
            Op::ListBatches {
                search,
                page,
                per_page,
            } => {
                let needle = search.map_or("", |s| BATCH_SEARCHES[s]).to_lowercase();
                let hits = self.batches.iter();
                let hits = hits.filter(|(_, name)| name.to_lowercase().contains(&needle));
                page_of(hits.map(|(id, _)| *id).collect(), page, per_page)
            }
            Op::ListCourses { page, per_page } => {
                page_of(self.courses.keys().copied().collect(), page, per_page)
            }
            Op::ListGroups { page, per_page } => {
                page_of(self.groups.keys().copied().collect(), page, per_page)
            }
        }
    }
}

fn answer<T>(r: crate::Result<T>, f: impl FnOnce(T) -> Answer) -> Answer {
    match r {
        Ok(v) => f(v),
        Err(e) => Answer::Refused(e.code()),
    }
}

fn run(i: &Institute, model: &Model, op: &Op) -> Answer {
    let admin = i.operator();
    match *op {
        Op::Create { username, email } => {
            let input = NewUser {
                username: Some(USERNAMES[username].into()),
                password: Some("a-long-secret-1".into()),
                profile: ProfileInput {
                    email: Some(EMAILS[email].into()),
                    ..ProfileInput::default()
                },
                ..NewUser::default()
            };
            answer(admin.create_user(input, CreateOptions::default()), |c| {
                Answer::Id(c.user.id)
            })
        }
        Op::Rename { user, username } => {
            let patch = UserPatch {
                username: Some(USERNAMES[username].into()),
                ..UserPatch::default()
            };
            answer(admin.update_user(model.pick(user), patch), |_| Answer::Done)
        }
        Op::SetEmail { user, email } => {
            let patch = UserPatch {
                profile: ProfileInput {
                    email: Some(EMAILS[email].into()),
                    ..ProfileInput::default()
                },
                ..UserPatch::default()
            };
            answer(admin.update_user(model.pick(user), patch), |_| Answer::Done)
        }
        Op::Delete { user } => answer(admin.delete_user(model.pick(user)), |_| Answer::Done),
        Op::List { q, page, per_page } => {
            let query = UserQuery {
                q: q.map(|q| QUERIES[q].into()),
                page: PageRequest {
                    page,
                    per_page: Some(per_page),
                },
                ..UserQuery::default()
            };
            answer(admin.list_users(&query), |p| page_answer(p, |u| u.id))
        }
        Op::ByEmail { email } => {
            let query = UserQuery {
                email: Some(EMAILS[email].into()),
                ..UserQuery::default()
            };
            answer(admin.list_users(&query), |p| page_answer(p, |u| u.id))
        }
        Op::CreateBatch { name } => {
            let input = BatchInput {
                name: Some(BATCH_NAMES[name].into()),
            };
            answer(admin.create_batch(input), |b| Answer::Id(b.id))
        }
        Op::DeleteBatch { batch } => {
            let id = pick_from(&model.batches_ever, batch);
            answer(admin.delete_batch(id), |_| Answer::Done)
        }
        Op::CreateCourse => {
            let input = CourseInput {
                title: Some(format!("Course {}", model.next_course + 1)),
                ..CourseInput::default()
            };
            answer(admin.create_course(input), |c| Answer::Id(c.id))
        }
        Op::DeleteCourse { course } => {
            let id = pick_from(&model.courses_ever, course);
            answer(admin.delete_course(id), |_| Answer::Done)
        }
        Op::CreateGroup { name } => {
            let input = GroupInput {
                name: Some(GROUP_NAMES[name].into()),
                ..GroupInput::default()
            };
            answer(admin.create_group(input), |g| Answer::Id(g.id))
        }
        Op::DeleteGroup { group } => {
            let id = pick_from(&model.groups_ever, group);
            answer(admin.delete_group(id), |_| Answer::Done)
        }
        Op::ListBatches {
            search,
            page,
            per_page,
        } => {
            let request = PageRequest {
                page,
                per_page: Some(per_page),
            };
            let search = search.map(|s| BATCH_SEARCHES[s]);
            answer(admin.list_batches(search, request), |p| {
                page_answer(p, |b| b.id)
            })
        }
        Op::ListCourses { page, per_page } => {
            let request = PageRequest {
                page,
                per_page: Some(per_page),
            };
            answer(admin.list_courses(None, request), |p| {
                page_answer(p, |c| c.id)
            })
        }
        Op::ListGroups { page, per_page } => {
            let request = PageRequest {
                page,
                per_page: Some(per_page),
            };
            answer(admin.list_groups(None, request), |p| {
                page_answer(p, |g| g.id)
            })
        }
    }
}

/// A page of a list as an answer: its count and the ids of its items.
fn page_answer<T>(page: Page<T>, id: impl Fn(&T) -> u64) -> Answer {
    Answer::Page {
        count: page.count,
        ids: page.items.iter().map(id).collect(),
    }
}

/// Applies `ops` to the model and to roster on three backends, each with
/// `config`; `Err` names the first answer that differs, or a store that
/// fails its integrity check at the end.
pub fn check(ops: &[Op], config: &Config) -> Result<(), String> {
    let open = |what: &str, r: crate::Result<Institute>| r.map_err(|e| format!("{what}: {e}"));
    let backends = [
        (
            "redb in memory",
            open("redb", Institute::in_memory(config.clone()))?,
        ),
        (
            "model backend",
            open(
                "model",
                Institute::open_with(Arc::new(ModelBackend::new()), config.clone()),
            )?,
        ),
        (
            "model backend, every write twice",
            open(
                "retrying",
                Institute::open_with(Arc::new(ModelBackend::retrying()), config.clone()),
            )?,
        ),
        (
            "model backend, every write's first run stopped mid-way",
            open(
                "interrupting",
                Institute::open_with(Arc::new(ModelBackend::interrupting()), config.clone()),
            )?,
        ),
    ];
    let mut model = Model::default();
    for op in ops {
        let before = model.clone();
        let expected = model.apply(op);
        for (name, i) in &backends {
            let got = run(i, &before, op);
            if got != expected {
                return Err(format!(
                    "{name}: {op:?} answered {got:?}, the model {expected:?}"
                ));
            }
        }
    }
    for (name, i) in &backends {
        let problems = i.check_integrity().map_err(|e| format!("{name}: {e}"))?;
        if !problems.is_empty() {
            return Err(format!("{name}: {problems:?}"));
        }
    }
    Ok(())
}
