//! `rest_handle`: arbitrary requests against one in-memory institute.
//!
//! Input layout (every field optional, missing bytes read as 0 / empty):
//!
//! ```text
//! byte 0   caller: 0 anonymous `handle`, 1 `handle` with the superuser's
//!          token, 2 `handle_as(operator)`; bit 2 adds
//!          `Content-Type: application/json`
//! byte 1   method: an index into METHODS, or (past its end) the next chunk
//! byte 2   path: an index into PATHS (modulo 64), or (past its end) the
//!          next chunk
//! byte 3   the id put in the path's `{id}`
//! chunk    query string
//! chunk    headers, one `name: value` a line
//! rest     body (raw bytes; absent when empty)
//! ```
//!
//! Chunks end at a NUL byte. The institute lives for [`RESET_EVERY`] inputs
//! so that state built by one input (users, batches, sessions) is seen by the
//! next; its integrity is checked every [`CHECK_EVERY`] inputs and before
//! each reset.

use crate::Bytes;
use roster::rest::{Request, Response, handle, handle_as};
use roster::{Argon2Params, Config, Institute};
use std::cell::RefCell;

/// Inputs between two `check_integrity` calls.
pub const CHECK_EVERY: u64 = 64;
/// Inputs served by one institute before a fresh one replaces it.
pub const RESET_EVERY: u64 = 1024;

const SUPERUSER: &str = "fuzzadmin";
const PASSWORD: &str = "fuzz-pass-phrase";

const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "get", "post",
];

/// Every documented path, `{id}` replaced by byte 3 and `{uid}` by a UUID
/// made of it (users created by earlier inputs have random ones: the
/// Sunbird bodies name them, the paths exercise the not-found and
/// forbidden answers).
pub const PATHS: &[&str] = &[
    "/api/v2.5/admin/users/",
    "/api/v2.5/admin/users/{id}/",
    "/api/v2.5/admin/users/{id}/batches/",
    "/api/v2.5/admin/users/{id}/courses/",
    "/api/v2.5/admin/users/{id}/subscriptions/",
    "/api/v2.5/admin/batches/",
    "/api/v2.5/admin/batches/{id}/",
    "/api/v2.5/admin/courses/",
    "/api/v2.5/admin/courses/create/",
    "/api/v2.5/admin/courses/{id}/",
    "/api/v2.5/admin/courses/{id}/batches/",
    "/api/v2.5/admin/custom-fields/",
    "/api/v2.5/admin/custom-fields/{id}/",
    "/api/v2.5/admin/subscriptions/purge-expired/",
    "/api/v2.5/auth-token/",
    "/api/v2.5/me/",
    "/api/v2.5/me/password/",
    "/api/v2.2/admin/users/",
    "/api/v2.2/admin/users/{id}/",
    "/api/admin/users/",
    "/api/admin/users/{id}/",
    "/api/admin/groups/",
    "/api/admin/groups/{id}/",
    "/api/admin/permissions/",
    "/api/user/v1/create",
    "/api/user/v3/create",
    "/api/user/v1/sso/create",
    "/api/user/v2/signup",
    "/api/user/v4/create",
    "/api/user/v1/managed/{uid}",
    "/api/user/v3/search",
    "/api/user/v2/update",
    "/api/user/v5/read/{uid}",
    "/api/user/v1/profile/read",
    "/api/user/v1/get/email/{id}@example.com",
    "/api/user/v2/exists/userName/{id}",
    "/api/user/v1/block",
    "/api/user/v1/unblock",
    "/api/user/v1/declarations",
    "/api/user/v1/migrate",
    "/api/user/v1/account/merge",
    "/api/user/v2/role/assign",
    "/api/user/v1/tnc/accept",
    "/api/org/v1/create",
    "/api/org/v1/read",
    "/api/data/v1/system/settings/set",
];

struct State {
    institute: Institute,
    token: String,
    served: u64,
}

impl State {
    fn new() -> State {
        let config = Config {
            argon2: Argon2Params::insecure_fast(),
            ..Config::default()
        };
        let institute = Institute::in_memory(config).expect("in-memory institute");
        institute
            .create_superuser(SUPERUSER, PASSWORD)
            .expect("superuser");
        let token = institute.login(SUPERUSER, PASSWORD).expect("login").token;
        State {
            institute,
            token,
            served: 0,
        }
    }

    fn check(&self) {
        let problems = self.institute.check_integrity().expect("check_integrity");
        assert!(
            problems.is_empty(),
            "integrity problems after {} inputs: {problems:#?}",
            self.served
        );
    }
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

/// Decodes one request from `data`.
pub fn request(data: &[u8], token: &str) -> (u8, Request) {
    let mut input = Bytes::new(data);
    let flags = input.byte();
    let caller = flags % 3;
    let method_index = usize::from(input.byte());
    let path_index = usize::from(input.byte());
    let id = input.byte();
    let method = match METHODS.get(method_index % 16) {
        Some(m) => (*m).to_string(),
        None => input.text(),
    };
    let path = match PATHS.get(path_index % 64) {
        Some(p) => p
            .replace("{uid}", &format!("00000000-0000-4000-8000-{:012}", id % 12))
            .replace("{id}", &(id % 12).to_string()),
        None => input.text(),
    };
    let query = input.text();
    let headers = input.text();
    let body = input.rest();

    let mut request = Request::new(&method, &path);
    if !query.is_empty() {
        request.query = query;
    }
    if caller == 1 {
        request = request.with_header("Authorization", &format!("JWT {token}"));
    }
    if flags & 4 != 0 {
        request = request.with_header("Content-Type", "application/json");
    }
    for line in headers.lines() {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        request = request.with_header(name.trim(), value.trim());
    }
    if !body.is_empty() {
        request = request.with_body(body.to_vec());
    }
    (caller, request)
}

/// Asserts what every response must be: a real status, never 500 (an
/// in-memory store has no I/O to fail), a body that is JSON or empty.
pub fn check_response(request: &Request, response: &Response) {
    assert!(
        (100..600).contains(&response.status),
        "status {} for {request:?}",
        response.status
    );
    assert_ne!(
        response.status, 500,
        "internal error for {request:?}: {response:?}"
    );
    if let Some(body) = &response.body
        && !body.is_empty()
        && let Err(e) = serde_json::from_str::<serde_json::Value>(body)
    {
        panic!("body is not JSON ({e}) for {request:?}: {body:?}");
    }
}

/// The fuzz target: one request, checked; the store checked every
/// [`CHECK_EVERY`] inputs.
pub fn rest_handle(data: &[u8]) {
    STATE.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_some_and(|s| s.served >= RESET_EVERY) {
            slot.take().expect("state").check();
        }
        let state = slot.get_or_insert_with(State::new);
        let (caller, request) = request(data, &state.token);
        let response = match caller {
            2 => handle_as(&state.institute.operator(), request.clone()),
            _ => handle(&state.institute, request.clone()),
        };
        check_response(&request, &response);
        state.served += 1;
        if state.served % CHECK_EVERY == 0 {
            state.check();
        }
    });
}
