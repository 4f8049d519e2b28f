//! A model-based property test: random sequences of user operations are
//! applied to roster and to a plain in-memory model of what the documents
//! say (usernames and emails unique ignoring case, ids never reused, `q`
//! matching a substring of username or email ignoring case, pages of a
//! list ordered by id with the exact count), and every answer must agree.
//! roster runs on three backends in lockstep — redb in memory, the model
//! backend, and the model backend running every write twice — so the test
//! also holds the backends to each other.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use roster::{
    Config, CreateOptions, ErrorCode, Institute, ModelBackend, NewUser, PageRequest, ProfileInput,
    UserPatch, UserQuery,
};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Usernames: case variants clash.
const USERNAMES: &[&str] = &[
    "asha", "Asha", "ravi", "kiran", "meena", "anil", "sunil", "ANIL", "ra", "a",
];
/// Emails: case variants clash; `""` is none.
const EMAILS: &[&str] = &["asha@x.in", "ASHA@X.IN", "ravi@y.in", "k@z.org", ""];
/// Search fragments: one and two characters keep substring semantics;
/// longer ones are checked against the texts.
const QUERIES: &[&str] = &[
    "a", "an", "il", "sha", "ASH", "@x", "in", "zz", "i@y", "nil", "sha@x", "kiran", "avi@y.",
    "nilx",
];

#[derive(Debug, Clone)]
enum Op {
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

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..USERNAMES.len(), 0..EMAILS.len())
            .prop_map(|(username, email)| Op::Create { username, email }),
        1 => (0..64usize, 0..USERNAMES.len()).prop_map(|(user, username)| Op::Rename { user, username }),
        1 => (0..64usize, 0..EMAILS.len()).prop_map(|(user, email)| Op::SetEmail { user, email }),
        1 => (0..64usize).prop_map(|user| Op::Delete { user }),
        3 => (proptest::option::of(0..QUERIES.len()), 1..4u64, 1..4u32)
            .prop_map(|(q, page, per_page)| Op::List { q, page, per_page }),
        1 => (0..EMAILS.len() - 1).prop_map(|email| Op::ByEmail { email }),
    ]
}

/// What the documents say a user directory does.
#[derive(Default)]
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

fn answer<T>(r: roster::Result<T>, f: impl FnOnce(T) -> Answer) -> Answer {
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

fn config() -> Config {
    let (config, _) = roster_tests::config(roster_tests::SEED_NOW);
    config
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// roster on every backend answers every operation as the model does.
    #[test]
    fn roster_answers_as_the_model_does(ops in vec(op(), 1..=60)) {
        let backends = [
            ("redb in memory", Institute::in_memory(config()).expect("redb")),
            (
                "model backend",
                Institute::open_with(Arc::new(ModelBackend::new()), config()).expect("model"),
            ),
            (
                "model backend, every write twice",
                Institute::open_with(Arc::new(ModelBackend::retrying()), config())
                    .expect("retrying"),
            ),
        ];
        let mut model = Model::default();
        for op in &ops {
            let before = Model {
                users: model.users.clone(),
                ever: model.ever.clone(),
                next: model.next,
            };
            let expected = model.apply(op);
            for (name, i) in &backends {
                let got = run(i, &before, op);
                if got != expected {
                    return Err(TestCaseError::fail(format!(
                        "{name}: {op:?} answered {got:?}, the model {expected:?}"
                    )));
                }
            }
        }
        for (name, i) in &backends {
            let problems = i.check_integrity().expect("check");
            prop_assert!(problems.is_empty(), "{}: {:?}", name, problems);
        }
    }
}
