//! Shared helpers of roster's integration tests: an institute on a fixed
//! clock with cheap argon2 parameters, and one-line REST calls.

use chrono::{DateTime, Utc};
use roster::rest::{Request, Response};
use roster::{Argon2Params, Config, FixedClock, ImportRow, Institute, NewUser};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The seeds' dates: the batch of the subscription example was created at
/// 2023-01-12T11:06:19+05:30, and the create example expires 2023-01-13.
pub const SEED_NOW: &str = "2023-01-12T11:06:19.298526+05:30";

/// `rfc3339` as an instant.
pub fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .expect("valid RFC 3339")
        .with_timezone(&Utc)
}

/// The step a test's clock takes when a stamp must move.
pub const HOUR: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// [`SEED_NOW`] and `n` [`HOUR`]s later: the stamp a test whose clock
/// steps an hour at a time expects.
pub fn seed_plus_hours(n: i32) -> DateTime<Utc> {
    at(SEED_NOW) + HOUR * n
}

/// An import row of line `line` for `user`, with no usable password (`!`):
/// the cheapest row an import takes, for tests that need many users.
pub fn passwordless_row(line: u64, user: NewUser) -> ImportRow {
    ImportRow {
        line,
        user,
        password_hash: Some("!".into()),
        errors: Default::default(),
    }
}

/// SplitMix64: the next 64 bits of the seedable sequence at `state`, for
/// tests and harnesses that must pick the same "random" cases every run.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The test configuration: a fixed clock at `now`, cheap argon2.
pub fn config(now: &str) -> (Config, Arc<FixedClock>) {
    let clock = Arc::new(FixedClock::new(at(now)));
    let mut config = Config::default().with_clock(clock.clone());
    config.argon2 = Argon2Params::insecure_fast();
    (config, clock)
}

/// A test's institute on a fixed clock at `now` (see [`store`]).
pub fn institute(now: &str) -> (Institute, Arc<FixedClock>) {
    let (config, clock) = config(now);
    (store(config), clock)
}

/// A new, empty institute for one test: in memory, or, when
/// `ROSTER_TEST_BACKEND=postgres`, on the PostgreSQL server of
/// `ROSTER_TEST_DB` in a schema of its own, so the same suites run on both
/// backends (`tests/run` runs them on both); with
/// `ROSTER_TEST_BACKEND=interrupting`, on the model backend that stops
/// every write's first run mid-way and runs it again.
pub fn store(config: Config) -> Institute {
    match std::env::var("ROSTER_TEST_BACKEND").as_deref() {
        Ok("postgres") => {}
        // Every write's first run stopped at one of its operations and run
        // again, as a serialization failure does on a server: what a
        // closure keeps from its first run shows.
        Ok("interrupting") => {
            let backend = Arc::new(roster::store::ModelBackend::interrupting());
            return Institute::open_with(backend, config).expect("model store");
        }
        _ => return Institute::in_memory(config).expect("in-memory store"),
    }
    let url = std::env::var("ROSTER_TEST_DB").expect("ROSTER_TEST_DB with ROSTER_TEST_BACKEND");
    let pg = roster_postgres::testing::fresh_schema(&url);
    let options = roster_postgres::Options {
        pool_size: 4,
        ..Default::default()
    };
    let backend = roster_postgres::PgBackend::with_config(pg, options).expect("backend");
    Institute::open_with(Arc::new(backend), config).expect("institute on PostgreSQL")
}

/// One REST request with an optional JSON body, as the local operator (the
/// way `roster api` sends it without `--token`).
pub fn call(institute: &Institute, method: &str, path: &str, body: Option<Value>) -> Response {
    roster::rest::handle_as(&institute.operator(), json_request(method, path, body))
}

/// One REST request with a JSON body and `Authorization: JWT <token>`,
/// authenticated as a server would.
pub fn call_as(
    institute: &Institute,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Response {
    let request =
        json_request(method, path, body).with_header("Authorization", &format!("JWT {token}"));
    roster::rest::handle(institute, request)
}

fn json_request(method: &str, path: &str, body: Option<Value>) -> Request {
    let mut request = Request::new(method, path).with_header("Content-Type", "application/json");
    if let Some(body) = body {
        request = request.with_body(body.to_string());
    }
    request
}

/// The password of [`superuser`]'s account.
pub const ADMIN_PASSWORD: &str = "admin-pass-1";

/// Creates (or resets) the superuser `admin` and signs in; returns the token.
pub fn superuser(institute: &Institute) -> String {
    institute
        .create_superuser("admin", ADMIN_PASSWORD)
        .expect("superuser");
    institute
        .login("admin", ADMIN_PASSWORD)
        .expect("sign-in")
        .token
}

/// One REST request that must answer `status`; returns the parsed body.
#[track_caller]
pub fn expect(
    institute: &Institute,
    method: &str,
    path: &str,
    body: Option<Value>,
    status: u16,
) -> Value {
    let response = call(institute, method, path, body);
    assert_eq!(
        response.status, status,
        "{method} {path} answered {}: {:?}",
        response.status, response.body
    );
    response.json()
}

/// The record of user `id` in the full export of `institute`: the one
/// output that shows what the API leaves out (`password_changed`, ...).
pub fn exported_user(institute: &Institute, id: u64) -> Value {
    let mut out = Vec::new();
    roster::transfer::export(&institute.operator(), &mut out).expect("export");
    String::from_utf8(out)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("an export line"))
        .find(|l| l["type"] == "user" && l["record"]["id"] == id)
        .expect("the user's record")["record"]
        .clone()
}

/// Everything the store holds, as the REST API shows it, for "nothing
/// changed" assertions: users (with batches, subscriptions, courses),
/// batches, courses and custom fields.
pub fn snapshot(institute: &Institute) -> Value {
    let admin = institute.operator();
    let mut users = Vec::new();
    let mut page = 1;
    loop {
        let body = expect(
            institute,
            "GET",
            &format!("/api/v2.5/admin/users/?per_page=100&page={page}"),
            None,
            200,
        );
        for u in body["results"].as_array().expect("results") {
            let id = u["id"].as_u64().expect("id");
            let subs = admin
                .user_subscriptions(
                    id,
                    roster::PageRequest {
                        page: 1,
                        per_page: Some(100),
                    },
                )
                .expect("subscriptions");
            let subs: Vec<_> = subs
                .items
                .iter()
                .map(|s| (s.id, s.batch.id, s.expires))
                .collect();
            users.push(serde_json::json!({"user": u, "subscriptions": format!("{subs:?}")}));
        }
        if body["next"].is_null() {
            break;
        }
        page += 1;
    }
    serde_json::json!({
        "users": users,
        "batches": expect(institute, "GET", "/api/v2.5/admin/batches/?per_page=100", None, 200),
        "courses": expect(institute, "GET", "/api/v2.5/admin/courses/?per_page=100", None, 200),
        "custom_fields": expect(institute, "GET", "/api/v2.5/admin/custom-fields/?per_page=100", None, 200),
        "integrity": institute.check_integrity().expect("integrity check"),
    })
}

/// The API documents' examples as JSON (`tests/fixtures/documents/`, see
/// the README there).
pub fn document_fixtures() -> PathBuf {
    own_fixtures().join("documents")
}

/// This crate's own fixtures folder.
pub fn own_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Every page of `list`, `per_page` at a time: the ids, and the count
/// each page gave.
pub fn ids_of_every_page<T>(
    per_page: u32,
    list: impl Fn(roster::PageRequest) -> roster::Result<roster::Page<T>>,
    id: impl Fn(&T) -> u64,
) -> (Vec<u64>, std::collections::BTreeSet<u64>) {
    let (mut ids, mut counts) = (Vec::new(), std::collections::BTreeSet::new());
    for n in 1.. {
        let page = list(roster::PageRequest {
            page: n,
            per_page: Some(per_page),
        })
        .expect("a page");
        counts.insert(page.count);
        ids.extend(page.items.iter().map(&id));
        if !page.has_next() {
            break;
        }
    }
    (ids, counts)
}

/// An export's lines (its trailer, if among them, left out) with a new
/// trailer that matches them: what a careful tamperer writes, so only the
/// record checks can catch an edit. A line counts as a record of the kind
/// its object's `type` names; a line that is not an object counts as none.
/// No line is parsed into a `Value` tree, so a test can measure what a
/// restore of a long line costs without this cost in front of it.
pub fn reseal(lines: &[String]) -> String {
    use sha2::Digest;
    use std::collections::BTreeMap;
    let kind_of = |line: &str| -> Option<String> {
        let map: BTreeMap<String, &serde_json::value::RawValue> =
            serde_json::from_str(line).ok()?;
        serde_json::from_str(map.get("type")?.get()).ok()
    };
    let body: Vec<&String> = lines
        .iter()
        .filter(|l| !l.contains("\"roster-export-end\""))
        .collect();
    let kinds: Vec<Option<String>> = body.iter().skip(1).map(|l| kind_of(l)).collect();
    let mut counts = serde_json::Map::new();
    for kind in [
        "counters",
        "setting",
        "custom_field",
        "group",
        "organisation",
        "batch",
        "course",
        "course_batch",
        "user",
        "sunbird_user",
        "membership",
    ] {
        let n = kinds.iter().filter(|k| k.as_deref() == Some(kind)).count();
        counts.insert(kind.into(), n.into());
    }
    let mut sha = sha2::Sha256::new();
    for l in &body {
        sha.update(l.as_bytes());
        sha.update(b"\n");
    }
    let hex: String = sha.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let trailer = serde_json::json!({
        "type": "roster-export-end", "lines": body.len(), "counts": counts, "sha256": hex,
    });
    let mut out: String = body.iter().map(|l| format!("{l}\n")).collect();
    out.push_str(&format!("{trailer}\n"));
    out
}

/// A backend that runs another handle's change, once armed, just before
/// the next write transaction begins: a change that lands between a check
/// made on a snapshot and the write it guards ([`with_meanwhile`]).
pub struct Meanwhile {
    inner: Arc<roster::store::ModelBackend>,
    then: std::sync::Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl Meanwhile {
    /// Runs `then` before the next write begins.
    pub fn arm(&self, then: impl FnOnce() + Send + 'static) {
        *self.then.lock().expect("the hook") = Some(Box::new(then));
    }

    /// Whether the armed change has run.
    pub fn ran(&self) -> bool {
        self.then.lock().expect("the hook").is_none()
    }
}

impl std::fmt::Debug for Meanwhile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Meanwhile")
    }
}

impl roster::store::Backend for Meanwhile {
    fn read(
        &self,
        f: &mut dyn FnMut(&dyn roster::store::Reader) -> roster::Result<()>,
    ) -> roster::Result<()> {
        self.inner.read(f)
    }
    fn write(
        &self,
        f: &mut dyn FnMut(&dyn roster::store::Writer) -> roster::Result<()>,
    ) -> roster::Result<()> {
        let then = self.then.lock().expect("the hook").take();
        if let Some(then) = then {
            then();
        }
        self.inner.write(f)
    }
    fn engine(&self) -> &'static str {
        "meanwhile"
    }
}

/// An institute at `now` over a [`Meanwhile`] backend, and a second
/// handle on the same store (another administrator's, or another
/// process's) that the armed change uses.
pub fn with_meanwhile(now: &str) -> (Institute, Institute, Arc<Meanwhile>) {
    let inner = Arc::new(roster::store::ModelBackend::new());
    let backend = Arc::new(Meanwhile {
        inner: inner.clone(),
        then: std::sync::Mutex::new(None),
    });
    let (config, _) = config(now);
    let i = Institute::open_with(backend.clone(), config.clone()).expect("institute");
    let other = Institute::open_with(inner, config).expect("the other handle");
    (i, other, backend)
}
