//! A plain model of the user directory the documents describe, and a
//! checker that applies the same operations to it and to roster (feature
//! `testing`): usernames and emails unique ignoring case, ids never reused,
//! `q` matching a substring of username or email ignoring case, pages of a
//! list ordered by id with the exact count. The property test
//! (`tests/tests/integration/model.rs`) draws operations with proptest; the
//! fuzz target `model` decodes them from libFuzzer's bytes ([`ops_from`]).
//! Both run roster on three backends in lockstep: redb in memory, the model
//! backend, and the model backend running every write twice.

use crate::{
    Config, CreateOptions, ErrorCode, Institute, ModelBackend, NewUser, PageRequest, ProfileInput,
    UserPatch, UserQuery,
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
}

/// Operations decoded from arbitrary bytes, three bytes each (a fuzzer's
/// input): every byte string is a valid sequence.
pub fn ops_from(bytes: &[u8]) -> Vec<Op> {
    bytes
        .chunks_exact(3)
        .take(200)
        .map(|b| {
            let (a, c) = (b[1] as usize, b[2] as usize);
            match b[0] % 12 {
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
                _ => Op::ByEmail {
                    email: a % (EMAILS.len() - 1),
                },
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
        // Known ids most of the time, a never-used one sometimes.
        if self.ever.is_empty() || sel % 7 == 6 {
            return 10_000 + sel as u64;
        }
        self.ever[sel % self.ever.len()]
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
                let count = hits.len() as u64;
                let start = (page - 1) * per_page as u64;
                if page > 1 && start >= count {
                    return Answer::Refused(ErrorCode::NotFound);
                }
                let ids = hits
                    .into_iter()
                    .skip(start as usize)
                    .take(per_page as usize)
                    .collect();
                Answer::Page { count, ids }
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
            answer(admin.list_users(&query), |p| Answer::Page {
                count: p.count,
                ids: p.items.iter().map(|u| u.id).collect(),
            })
        }
        Op::ByEmail { email } => {
            let query = UserQuery {
                email: Some(EMAILS[email].into()),
                ..UserQuery::default()
            };
            answer(admin.list_users(&query), |p| Answer::Page {
                count: p.count,
                ids: p.items.iter().map(|u| u.id).collect(),
            })
        }
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
