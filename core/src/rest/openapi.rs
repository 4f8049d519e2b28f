//! The OpenAPI 3.1 document of every path [`super::handle`] serves (feature
//! `openapi`): the Testpress admin API under each served version, the
//! Django-style API of seed 003 and the Sunbird API of seed 004, every
//! version and alias. Its schemas are derived from the wire types of
//! `crate::json` (schemars), so the document says what the code reads and
//! writes; the paths, parameters and statuses are listed here beside the
//! routing tables they describe (`router`, `testpress`, `django`,
//! `sunbird`), and a test walks the routers with every path of the
//! document.

use super::router::VERSIONS;
use super::sunbird::{ManagedUser, WrongExtId};
use crate::json::django::{DjangoUser, Group, Permission};
use crate::json::request::{
    BatchIds, BatchInput, CourseIds, CourseInput, CustomFieldInput, GroupInput, NewUser,
    PasswordChange, SignIn, TestpressNewUser, TestpressUserPatch, UserPatch,
};
use crate::json::sunbird::Envelope;
use crate::json::sunbird_request::{
    SunbirdAcceptTerms, SunbirdAssignRoles, SunbirdAssignRolesV2, SunbirdBlock,
    SunbirdDeclarations, SunbirdMerge, SunbirdMigrate, SunbirdOrgCreate, SunbirdOrgRead,
    SunbirdOrgSearch, SunbirdProfileRead, SunbirdSearch, SunbirdSystemSetting, SunbirdUserBody,
    SunbirdUserUpdate,
};
use crate::json::sunbird_views::{
    Exists, Listing, Org, OrgCreated, Success, UserCreated, UserRecord, Wrapped,
};
use crate::json::testpress::{
    Batch, BatchName, ChangeFeed, Course, CustomField, LinkedPage, Purged, Subscription,
    TestpressUser, Token,
};
use crate::json::views::{Detail, Errors};
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Map, Value, json};

/// The path of the document as `roster serve` serves it (no token needed).
pub const PATH: &str = "/api/openapi.json";

/// The OpenAPI 3.1 document of the REST facade, as JSON text.
pub fn document() -> String {
    // Plain data throughout: writing it cannot fail.
    serde_json::to_string_pretty(&build()).unwrap_or_default()
}

/// Which failures an operation can answer, beyond those of every
/// authenticated call (400, 401, 403, 404, 500, 503).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fails {
    /// Reads nothing but the path and the query.
    Read,
    /// Reads the query, whose values it checks (400).
    Query,
    /// Writes without a body (409).
    Write,
    /// Writes from a JSON body (400, 409, 413, 415).
    Body,
}

/// The document being built: its schemas' generator and its paths.
struct Doc {
    generator: SchemaGenerator,
    paths: Map<String, Value>,
}

impl Doc {
    /// A reference to the schema of `T` (defined under components).
    fn schema<T: JsonSchema>(&mut self) -> Value {
        self.generator.subschema_for::<T>().to_value()
    }

    /// Adds `operation` under `method` of `path`.
    fn add(&mut self, path: &str, method: &str, operation: Value) {
        let item = self
            .paths
            .entry(path.to_string())
            .or_insert_with(|| json!({}));
        if let Value::Object(item) = item {
            item.insert(method.to_ascii_lowercase(), operation);
        }
    }
}

/// A JSON response of `schema`.
fn json_body(description: &str, schema: Value) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": schema } }
    })
}

/// A required JSON request body of `schema`.
fn request_body(schema: Value) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": schema } } })
}

/// A path parameter.
fn path_param(name: &str, schema: Value, description: &str) -> Value {
    json!({
        "name": name, "in": "path", "required": true,
        "description": description, "schema": schema
    })
}

/// An optional query parameter.
fn query_param(name: &str, schema: Value, description: &str) -> Value {
    json!({ "name": name, "in": "query", "description": description, "schema": schema })
}

/// `page` and `per_page`.
fn paging() -> Vec<Value> {
    vec![
        query_param(
            "page",
            json!({ "type": "integer", "minimum": 1 }),
            "The page, from 1; one that is not a positive whole number, or past the last, is 404.",
        ),
        query_param(
            "per_page",
            json!({ "type": "integer", "minimum": 1 }),
            "Items per page (capped; the default when not a whole number).",
        ),
    ]
}

/// A record's id in the path.
fn id_param() -> Value {
    path_param(
        "id",
        json!({ "type": "integer", "minimum": 0 }),
        "The record's id.",
    )
}

/// A text query parameter.
fn text(name: &str, description: &str) -> Value {
    query_param(name, json!({ "type": "string" }), description)
}

/// One operation of the Testpress or Django-style surfaces, whose failures
/// are Django REST Framework's bodies.
struct Drf {
    path: String,
    method: &'static str,
    name: String,
    summary: String,
    params: Vec<Value>,
    body: Option<Value>,
    /// The success: status, and the body's schema (`None`: no body).
    ok: (u16, Option<Value>),
    fails: Fails,
    /// Whether a session is needed (all but sign-in).
    secured: bool,
}

impl Drf {
    fn new(
        path: &str,
        method: &'static str,
        name: &str,
        summary: &str,
        fails: Fails,
        ok: (u16, Option<Value>),
    ) -> Drf {
        Drf {
            path: path.to_string(),
            method,
            name: name.to_string(),
            summary: summary.to_string(),
            params: Vec::new(),
            body: None,
            ok,
            fails,
            secured: true,
        }
    }

    fn params(mut self, params: Vec<Value>) -> Drf {
        self.params = params;
        self
    }

    fn body(mut self, schema: &Value) -> Drf {
        self.body = Some(schema.clone());
        self
    }

    /// Adds this operation to `doc`, its path under `prefix`, its id ending
    /// in `suffix`, tagged `tag`.
    fn add(self, doc: &mut Doc, prefix: &str, suffix: &str, tag: &str) {
        let detail = doc.schema::<Detail<'static>>();
        let field_errors = doc.schema::<Errors<'static>>();
        let mut responses = Map::new();
        let (status, ok) = self.ok;
        let done = match ok {
            Some(schema) => json_body("Done.", schema),
            None => json!({ "description": "Done; no body." }),
        };
        responses.insert(status.to_string(), done);
        let mut fail = |status: u16, description: &str, schema: &Value| {
            responses.insert(status.to_string(), json_body(description, schema.clone()));
        };
        // Every operation may break a rule (a batch that still has
        // members cannot be deleted): 400, DRF's field errors.
        let bad = json!({ "anyOf": [field_errors, detail] });
        let invalid = match self.fails {
            Fails::Read | Fails::Write => "A rule refuses it: each field's messages.",
            Fails::Query | Fails::Body => {
                "Invalid input or a rule refuses it: each field's messages, or the body's JSON error."
            }
        };
        fail(400, invalid, &bad);
        fail(
            401,
            "No session: the token is missing, unknown or expired.",
            &detail,
        );
        fail(
            403,
            "The caller may not do this (a permission, or a stronger account).",
            &detail,
        );
        if self.secured {
            fail(404, "No such record or page.", &detail);
        }
        if matches!(self.fails, Fails::Write | Fails::Body) {
            fail(409, "In conflict with the stored records.", &detail);
        }
        if self.fails == Fails::Body {
            fail(413, "The body is larger than the server reads.", &detail);
            fail(415, "The body is not JSON.", &detail);
        }
        fail(500, "The store failed or is damaged.", &detail);
        let mut busy = json_body("Too many password checks are waiting.", detail);
        busy["headers"] = json!({
            "Retry-After": { "description": "Seconds to wait.", "schema": { "type": "string" } }
        });
        responses.insert("503".into(), busy);
        let mut operation = json!({
            "operationId": format!("{}{suffix}", self.name),
            "summary": self.summary,
            "tags": [tag],
            "responses": responses,
        });
        if !self.params.is_empty() {
            operation["parameters"] = Value::Array(self.params);
        }
        if let Some(schema) = self.body {
            operation["requestBody"] = request_body(schema);
        }
        if !self.secured {
            operation["security"] = json!([]);
        }
        doc.add(&format!("{prefix}{}", self.path), self.method, operation);
    }
}

/// GET (a page, narrowed by the query parameters `filters`) and POST (a
/// new record) of the records at `path`; `names`: the plural and the
/// singular, as the operations' ids and their summaries have them
/// (`("Batches", "Batch")`: `listBatches`, "List batches.").
fn collection(
    path: &str,
    names: (&str, &str),
    page: Value,
    schema: &Value,
    input: &Value,
    filters: Vec<Value>,
) -> [Drf; 2] {
    let (plural, noun) = names;
    // `CustomFields` -> "custom fields".
    let words = |name: &str| {
        let mut out = String::new();
        for c in name.chars() {
            if c.is_ascii_uppercase() && !out.is_empty() {
                out.push(' ');
            }
            out.push(c.to_ascii_lowercase());
        }
        out.trim_start_matches("django ").to_string()
    };
    [
        Drf::new(
            path,
            "GET",
            &format!("list{plural}"),
            &format!("List {}.", words(plural)),
            Fails::Read,
            (200, Some(page)),
        )
        .params(paged(filters)),
        Drf::new(
            path,
            "POST",
            &format!("create{noun}"),
            &format!("Create a {}.", words(noun)),
            Fails::Body,
            (201, Some(schema.clone())),
        )
        .body(input),
    ]
}

/// GET (a page), POST (add: `answers.1`) and DELETE (remove) of the
/// records related to the one at `path` (`{id}`), named by id in `body`;
/// `name` ends the operations' ids (`listUserBatches`, `addUserBatches`,
/// `removeUserBatches`).
fn relation(
    path: &str,
    name: &str,
    summaries: (&'static str, &'static str, &'static str),
    answers: (Value, Value),
    body: &Value,
) -> [Drf; 3] {
    let id = || vec![id_param()];
    let (list, add, remove) = summaries;
    [
        Drf::new(
            path,
            "GET",
            &format!("list{name}"),
            list,
            Fails::Read,
            (200, Some(answers.0)),
        )
        .params(paged(id())),
        Drf::new(
            path,
            "POST",
            &format!("add{name}"),
            add,
            Fails::Body,
            (201, Some(answers.1)),
        )
        .params(id())
        .body(body),
        Drf::new(
            path,
            "DELETE",
            &format!("remove{name}"),
            remove,
            Fails::Body,
            (204, None),
        )
        .params(id())
        .body(body),
    ]
}

/// GET, PUT, PATCH and DELETE of the record at `path` (`{id}`).
fn item(path: &str, noun: &str, schema: &Value, input: &Value) -> [Drf; 4] {
    let ok = || (200, Some(schema.clone()));
    let id = || vec![id_param()];
    [
        Drf::new(
            path,
            "GET",
            &format!("get{noun}"),
            "Read one.",
            Fails::Read,
            ok(),
        )
        .params(id()),
        Drf::new(
            path,
            "PUT",
            &format!("replace{noun}"),
            "Change one.",
            Fails::Body,
            ok(),
        )
        .params(id())
        .body(input),
        Drf::new(
            path,
            "PATCH",
            &format!("update{noun}"),
            "Change some fields of one.",
            Fails::Body,
            ok(),
        )
        .params(id())
        .body(input),
        Drf::new(
            path,
            "DELETE",
            &format!("delete{noun}"),
            "Delete one.",
            Fails::Write,
            (204, None),
        )
        .params(id()),
    ]
}

/// `params` followed by `page` and `per_page`.
fn paged(mut params: Vec<Value>) -> Vec<Value> {
    params.extend(paging());
    params
}

/// The Testpress admin API, sign-in and the caller's own paths under
/// `/api/<version>/`.
fn testpress(doc: &mut Doc, version: &str) -> Vec<Drf> {
    let user = doc.schema::<TestpressUser>();
    let users = doc.schema::<LinkedPage<TestpressUser>>();
    let new_user = doc.schema::<TestpressNewUser>();
    let patch = doc.schema::<TestpressUserPatch>();
    let batch = doc.schema::<Batch>();
    let batches = doc.schema::<LinkedPage<Batch>>();
    let batch_input = doc.schema::<BatchInput>();
    let course = doc.schema::<Course>();
    let courses = doc.schema::<LinkedPage<Course>>();
    let course_input = doc.schema::<CourseInput>();
    let field = doc.schema::<CustomField>();
    let fields = doc.schema::<LinkedPage<CustomField>>();
    let field_input = doc.schema::<CustomFieldInput>();
    let batch_ids = doc.schema::<BatchIds>();
    let course_ids = doc.schema::<CourseIds>();
    let names = doc.schema::<LinkedPage<BatchName>>();
    let name_list = doc.schema::<Vec<BatchName>>();
    let subscriptions = doc.schema::<LinkedPage<Subscription>>();
    let subscription_list = doc.schema::<Vec<Subscription>>();
    let purged = doc.schema::<Purged>();
    let feed = doc.schema::<ChangeFeed>();
    let token = doc.schema::<Token>();
    let sign_in = doc.schema::<SignIn>();
    let password = doc.schema::<PasswordChange>();
    let detail = doc.schema::<Detail<'static>>();
    let flag = json!({ "type": "boolean" });
    let number = json!({ "type": "integer", "minimum": 0 });
    let id = || vec![id_param()];
    let _ = version;
    use Fails::{Body, Query, Read, Write};
    let mut ops = vec![
        Drf::new(
            "/admin/users/",
            "GET",
            "listUsers",
            "List users.",
            Read,
            (200, Some(users)),
        )
        .params(paged(vec![
            text("q", "Username or email contains this, ignoring case."),
            text(
                "email",
                "Email is this, ignoring case; each user then carries its batches.",
            ),
        ])),
        Drf::new(
            "/admin/users/",
            "POST",
            "createUser",
            "Create a user.",
            Body,
            (201, Some(user.clone())),
        )
        .params(vec![
            query_param(
                "auto_generate_password",
                flag.clone(),
                "Make a password when none is sent.",
            ),
            query_param(
                "notify_credential",
                flag,
                "Send the user their credentials.",
            ),
        ])
        .body(&new_user),
        Drf::new(
            "/admin/users/{id}/",
            "GET",
            "getUser",
            "Read a user.",
            Read,
            (200, Some(user.clone())),
        )
        .params(id()),
        Drf::new(
            "/admin/users/{id}/",
            "PUT",
            "replaceUser",
            "Change a user.",
            Body,
            (200, Some(user.clone())),
        )
        .params(id())
        .body(&patch),
        Drf::new(
            "/admin/users/{id}/",
            "PATCH",
            "updateUser",
            "Change some fields of a user.",
            Body,
            (200, Some(user.clone())),
        )
        .params(id())
        .body(&patch),
        Drf::new(
            "/admin/users/{id}/",
            "DELETE",
            "deleteUser",
            "Delete a user.",
            Write,
            (204, None),
        )
        .params(id()),
        Drf::new(
            "/admin/users/{id}/subscriptions/",
            "GET",
            "listUserSubscriptions",
            "A user's subscriptions.",
            Read,
            (200, Some(subscriptions)),
        )
        .params(paged(id())),
        Drf::new(
            "/admin/users/{id}/subscriptions/",
            "POST",
            "addUserSubscriptions",
            "Subscribe a user to batches, until a date or for good.",
            Body,
            (201, Some(subscription_list)),
        )
        .params(id())
        .body(&batch_ids),
        Drf::new(
            "/admin/users/{id}/unlock/",
            "POST",
            "unlockUser",
            "End a user's lock-out.",
            Write,
            (204, None),
        )
        .params(id()),
        Drf::new(
            "/admin/courses/create/",
            "POST",
            "createCourseAtCreate",
            "Create a course (the documents' other path).",
            Body,
            (201, Some(course.clone())),
        )
        .body(&course_input),
        Drf::new(
            "/admin/subscriptions/purge-expired/",
            "POST",
            "purgeExpired",
            "Remove every expired subscription.",
            Write,
            (200, Some(purged)),
        ),
        Drf::new(
            "/admin/changes/",
            "GET",
            "listChanges",
            "The change feed after an entry.",
            Query,
            (200, Some(feed)),
        )
        .params(vec![
            query_param(
                "since",
                number.clone(),
                "Entries after this one (0: from the start).",
            ),
            query_param("limit", number, "At most this many."),
        ]),
        Drf {
            secured: false,
            ..Drf::new(
                "/auth-token/",
                "POST",
                "signIn",
                "Sign in: a session token.",
                Query,
                (200, Some(token)),
            )
            .body(&sign_in)
        },
        Drf::new(
            "/auth-token/",
            "DELETE",
            "signOut",
            "End the caller's session.",
            Write,
            (204, None),
        ),
        Drf::new(
            "/me/",
            "GET",
            "getMe",
            "The caller's own profile.",
            Read,
            (200, Some(user.clone())),
        ),
        Drf::new(
            "/me/",
            "PUT",
            "replaceMe",
            "Change the caller's own profile.",
            Body,
            (200, Some(user.clone())),
        )
        .body(&patch),
        Drf::new(
            "/me/",
            "PATCH",
            "updateMe",
            "Change some fields of the caller's own profile.",
            Body,
            (200, Some(user)),
        )
        .body(&patch),
        Drf::new(
            "/me/password/",
            "POST",
            "changeMyPassword",
            "Change the caller's own password.",
            Body,
            (200, Some(detail)),
        )
        .body(&password),
    ];
    ops.extend(relation(
        "/admin/users/{id}/batches/",
        "UserBatches",
        (
            "A user's batches.",
            "Add a user to batches.",
            "Take a user out of batches.",
        ),
        (names, name_list),
        &batch_ids,
    ));
    ops.extend(relation(
        "/admin/users/{id}/courses/",
        "UserCourses",
        (
            "A user's courses.",
            "Give a user courses.",
            "Take courses from a user.",
        ),
        (courses.clone(), courses.clone()),
        &course_ids,
    ));
    ops.extend(relation(
        "/admin/courses/{id}/batches/",
        "CourseBatches",
        (
            "A course's batches.",
            "Give a course batches.",
            "Take batches from a course.",
        ),
        (batches.clone(), batches.clone()),
        &batch_ids,
    ));
    ops.extend(collection(
        "/admin/batches/",
        ("Batches", "Batch"),
        batches.clone(),
        &batch,
        &batch_input,
        vec![text("search", "Name contains this, ignoring case.")],
    ));
    ops.extend(collection(
        "/admin/courses/",
        ("Courses", "Course"),
        courses.clone(),
        &course,
        &course_input,
        vec![text("q", "Title contains this, ignoring case.")],
    ));
    ops.extend(collection(
        "/admin/custom-fields/",
        ("CustomFields", "CustomField"),
        fields,
        &field,
        &field_input,
        Vec::new(),
    ));
    ops.extend(item("/admin/batches/{id}/", "Batch", &batch, &batch_input));
    ops.extend(item(
        "/admin/courses/{id}/",
        "Course",
        &course,
        &course_input,
    ));
    ops.extend(item(
        "/admin/custom-fields/{id}/",
        "CustomField",
        &field,
        &field_input,
    ));
    ops
}

/// The Django-style admin API of seed 003, under `/api/admin/`.
fn django(doc: &mut Doc) -> Vec<Drf> {
    let user = doc.schema::<DjangoUser>();
    let users = doc.schema::<LinkedPage<DjangoUser>>();
    let new_user = doc.schema::<NewUser>();
    let patch = doc.schema::<UserPatch>();
    let group = doc.schema::<Group>();
    let groups = doc.schema::<LinkedPage<Group>>();
    let group_input = doc.schema::<GroupInput>();
    let permissions = doc.schema::<Vec<Permission>>();
    use Fails::Read;
    let mut ops = vec![Drf::new(
        "/permissions",
        "GET",
        "listPermissions",
        "The permission catalogue.",
        Read,
        (200, Some(permissions)),
    )];
    ops.extend(collection(
        "/users",
        ("DjangoUsers", "DjangoUser"),
        users,
        &user,
        &new_user,
        vec![text("email", "Email is this, ignoring case.")],
    ));
    ops.extend(collection(
        "/groups",
        ("Groups", "Group"),
        groups,
        &group,
        &group_input,
        vec![text("name", "Name contains this, ignoring case.")],
    ));
    ops.extend(item("/users/{id}", "DjangoUser", &user, &patch));
    ops.extend(item("/groups/{id}", "Group", &group, &group_input));
    ops
}

/// One Sunbird operation: every answer in the envelope.
struct Sunbird {
    path: String,
    method: &'static str,
    name: String,
    summary: String,
    params: Vec<Value>,
    /// The schema of the body's `request` object.
    request: Option<Value>,
    /// The schema of the success's envelope.
    ok: Value,
}

impl Sunbird {
    fn new(path: &str, method: &'static str, name: &str, summary: &str, ok: Value) -> Sunbird {
        Sunbird {
            path: path.to_string(),
            method,
            name: name.to_string(),
            summary: summary.to_string(),
            params: Vec::new(),
            request: None,
            ok,
        }
    }

    fn params(mut self, params: Vec<Value>) -> Sunbird {
        self.params = params;
        self
    }

    fn request(mut self, schema: &Value) -> Sunbird {
        self.request = Some(schema.clone());
        self
    }

    fn add(self, doc: &mut Doc) {
        let failed = doc.schema::<Envelope<Map<String, Value>>>();
        let mut responses = Map::new();
        responses.insert("200".into(), json_body("Done: `responseCode` OK.", self.ok));
        for (status, description) in [
            (
                400,
                "`CLIENT_ERROR`: the input, with a `UOS_` code in `params.err`.",
            ),
            (401, "`UNAUTHORIZED`: no session."),
            (403, "`FORBIDDEN`: the caller may not do this."),
            (404, "`RESOURCE_NOT_FOUND`: no such user or organisation."),
            (500, "`SERVER_ERROR`: the store failed."),
            (
                503,
                "`SERVICE_UNAVAILABLE`: too many password checks are waiting.",
            ),
        ] {
            responses.insert(status.to_string(), json_body(description, failed.clone()));
        }
        let mut params = self.params;
        params.push(json!({
            "name": "X-msgid", "in": "header",
            "description": "The request's id, echoed as `params.msgid`.",
            "schema": { "type": "string" }
        }));
        params.push(json!({
            "name": "x-authenticated-for", "in": "header",
            "description": "The token of a managed user of the caller, to act as that user.",
            "schema": { "type": "string" }
        }));
        let mut operation = json!({
            "operationId": self.name,
            "summary": self.summary,
            "tags": ["Sunbird"],
            "parameters": params,
            "responses": responses,
            "security": [{ "bearer": [] }, { "userToken": [] }],
        });
        if let Some(request) = self.request {
            operation["requestBody"] = request_body(json!({
                "type": "object",
                "required": ["request"],
                "properties": { "request": request }
            }));
        }
        doc.add(&self.path, self.method, operation);
    }
}

/// A user as a Sunbird search answers it: a [`UserRecord`] of the
/// search's flavour, reduced to the keys of the request's `fields` when it
/// names some, so no key is certain to be there.
struct Searched;

impl JsonSchema for Searched {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SearchedUser".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> schemars::Schema {
        let mut schema = UserRecord::json_schema(generator);
        if let Some(object) = schema.as_object_mut() {
            object.remove("required");
            object.insert(
                "description".into(),
                json!("A user as the search shows it, with only the keys of `fields` when the request names some."),
            );
        }
        schema
    }
}

/// The Sunbird API of seed 004: every version and alias `sunbird::route`
/// serves.
fn sunbird(doc: &mut Doc) -> Vec<Sunbird> {
    let created = doc.schema::<Envelope<UserCreated>>();
    let success = doc.schema::<Envelope<Success>>();
    let read = doc.schema::<Envelope<Wrapped<ManagedUser>>>();
    let record = doc.schema::<Envelope<Wrapped<UserRecord>>>();
    let exists = doc.schema::<Envelope<Exists>>();
    let found = doc.schema::<Envelope<Wrapped<Listing<Searched>>>>();
    let managed = doc.schema::<Envelope<Wrapped<Listing<ManagedUser>>>>();
    let org_created = doc.schema::<Envelope<OrgCreated>>();
    let org = doc.schema::<Envelope<Wrapped<Org>>>();
    let orgs = doc.schema::<Envelope<Wrapped<Listing<Org>>>>();
    let setting = doc.schema::<Envelope<Wrapped<String>>>();
    let wrong_id = doc.schema::<Envelope<WrongExtId>>();
    let user_body = doc.schema::<SunbirdUserBody>();
    let update = doc.schema::<SunbirdUserUpdate>();
    let search = doc.schema::<SunbirdSearch>();
    let block = doc.schema::<SunbirdBlock>();
    let fields = text(
        "fields",
        "Comma-separated parts to add: organisations, roles, locations, declarations, externalIds, topic.",
    );
    let with_tokens = query_param(
        "withTokens",
        json!({ "type": "boolean" }),
        "With a token for each managed user.",
    );
    let user_id = || {
        path_param(
            "userId",
            json!({ "type": "string" }),
            "The user's id (a UUID).",
        )
    };
    let id_type = |types: &[&str]| {
        path_param(
            "idType",
            json!({ "enum": types }),
            "Which identifier `id` is.",
        )
    };
    let id = || {
        path_param(
            "id",
            json!({ "type": "string" }),
            "The identifier, as stored (percent-encoded).",
        )
    };
    let mut ops = Vec::new();
    for v in ["v1", "v2", "v3"] {
        ops.push(
            Sunbird::new(
                &format!("/api/user/{v}/create"),
                "POST",
                &format!("createUser{v}"),
                "Create a user.",
                created.clone(),
            )
            .request(&user_body),
        );
        ops.push(
            Sunbird::new(
                &format!("/api/user/{v}/search"),
                "POST",
                &format!("searchUsers{v}"),
                "Search users.",
                found.clone(),
            )
            .request(&search),
        );
        ops.push(
            Sunbird::new(
                &format!("/api/user/{v}/update"),
                "PATCH",
                &format!("updateUser{v}"),
                "Change a user.",
                success.clone(),
            )
            .request(&update),
        );
    }
    for (path, name, summary) in [
        (
            "/api/user/v4/create",
            "createManagedUserV4",
            "Create a user managed by the caller.",
        ),
        (
            "/api/user/v1/managed/create",
            "createManagedUser",
            "Create a user managed by the caller.",
        ),
        (
            "/api/user/v1/sso/create",
            "createSsoUser",
            "Create a user signed in elsewhere.",
        ),
        ("/api/user/v1/signup", "signUp", "Sign up."),
        ("/api/user/v2/signup", "signUpV2", "Sign up."),
    ] {
        ops.push(Sunbird::new(path, "POST", name, summary, created.clone()).request(&user_body));
    }
    for v in ["v1", "v2", "v3", "v4", "v5"] {
        ops.push(
            Sunbird::new(
                &format!("/api/user/{v}/read/{{userId}}"),
                "GET",
                &format!("readUser{v}"),
                "Read a user.",
                read.clone(),
            )
            .params(vec![user_id(), fields.clone(), with_tokens.clone()]),
        );
    }
    let profile = doc.schema::<SunbirdProfileRead>();
    ops.push(
        Sunbird::new(
            "/api/user/v1/profile/read",
            "POST",
            "readProfile",
            "Read a user by a login id.",
            record.clone(),
        )
        .params(vec![fields.clone()])
        .request(&profile),
    );
    ops.push(
        Sunbird::new(
            "/api/user/v1/get/{idType}/{id}",
            "GET",
            "getUser",
            "Read a user by an identifier.",
            record,
        )
        .params(vec![
            id_type(&["email", "phone", "loginId", "userName"]),
            id(),
            fields,
        ]),
    );
    for v in ["v1", "v2"] {
        ops.push(
            Sunbird::new(
                &format!("/api/user/{v}/exists/{{idType}}/{{id}}"),
                "GET",
                &format!("userExists{v}"),
                "Whether a user has an identifier.",
                exists.clone(),
            )
            .params(vec![id_type(&["email", "phone", "userName"]), id()]),
        );
    }
    ops.push(
        Sunbird::new(
            "/api/user/v1/block",
            "POST",
            "blockUser",
            "Block a user.",
            success.clone(),
        )
        .request(&block),
    );
    ops.push(
        Sunbird::new(
            "/api/user/v1/unblock",
            "POST",
            "unblockUser",
            "Unblock a user.",
            success.clone(),
        )
        .request(&block),
    );
    let org_create = doc.schema::<SunbirdOrgCreate>();
    let org_read = doc.schema::<SunbirdOrgRead>();
    let org_search = doc.schema::<SunbirdOrgSearch>();
    ops.push(
        Sunbird::new(
            "/api/org/v1/create",
            "POST",
            "createOrganisation",
            "Create an organisation.",
            org_created,
        )
        .request(&org_create),
    );
    ops.push(
        Sunbird::new(
            "/api/org/v1/read",
            "POST",
            "readOrganisation",
            "Read an organisation.",
            org,
        )
        .request(&org_read),
    );
    ops.push(
        Sunbird::new(
            "/api/org/v1/search",
            "POST",
            "searchOrganisations",
            "List organisations by ascending id, filtered on id, orgName, channel, \
             organisationType, isTenant, isDefault, rootOrgId, externalId or email.",
            orgs,
        )
        .request(&org_search),
    );
    ops.push(
        Sunbird::new(
            "/api/user/v1/managed/{userId}",
            "GET",
            "listManagedUsers",
            "The users a user manages.",
            managed,
        )
        .params(vec![user_id(), with_tokens]),
    );
    let assign = doc.schema::<SunbirdAssignRoles>();
    let assign_v2 = doc.schema::<SunbirdAssignRolesV2>();
    ops.push(
        Sunbird::new(
            "/api/user/v1/role/assign",
            "POST",
            "assignRoles",
            "Set a user's roles in an organisation.",
            success.clone(),
        )
        .request(&assign),
    );
    ops.push(
        Sunbird::new(
            "/api/user/v2/role/assign",
            "POST",
            "assignRolesV2",
            "Add, change or remove a user's scoped roles.",
            success.clone(),
        )
        .request(&assign_v2),
    );
    let terms = doc.schema::<SunbirdAcceptTerms>();
    ops.push(
        Sunbird::new(
            "/api/user/v1/tnc/accept",
            "POST",
            "acceptTerms",
            "Accept the terms and conditions.",
            success.clone(),
        )
        .request(&terms),
    );
    let declarations = doc.schema::<SunbirdDeclarations>();
    ops.push(
        Sunbird::new(
            "/api/user/v1/declarations",
            "PATCH",
            "updateDeclarations",
            "Add, change or remove declarations.",
            success.clone(),
        )
        .request(&declarations),
    );
    let merge = doc.schema::<SunbirdMerge>();
    ops.push(
        Sunbird::new(
            "/api/user/v1/account/merge",
            "PATCH",
            "mergeAccounts",
            "Merge one account into another.",
            success.clone(),
        )
        .request(&merge),
    );
    let migrate = doc.schema::<SunbirdMigrate>();
    let migrated = json!({ "anyOf": [success, wrong_id] });
    for (path, name) in [
        ("/api/user/v1/migrate", "migrateUser"),
        ("/api/user/v1/migration", "migrateUserAlias"),
    ] {
        ops.push(Sunbird::new(path, "POST", name, "Accept or reject a shadow account's claim (a wrong external id answers `err: true`).", migrated.clone()).request(&migrate));
    }
    let set = doc.schema::<SunbirdSystemSetting>();
    ops.push(
        Sunbird::new(
            "/api/data/v1/system/settings/set",
            "POST",
            "setSystemSetting",
            "Set a system setting.",
            setting,
        )
        .request(&set),
    );
    ops
}

/// The whole document.
fn build() -> Value {
    let settings = SchemaSettings::draft2020_12().with(|s| {
        s.definitions_path = "#/components/schemas/".into();
        s.meta_schema = None;
    });
    let mut doc = Doc {
        generator: settings.into_generator(),
        paths: Map::new(),
    };
    for version in VERSIONS {
        let suffix = format!("_v{}", version.trim_start_matches('v').replace('.', "_"));
        let tag = format!("Testpress {version}");
        for op in testpress(&mut doc, version) {
            op.add(&mut doc, &format!("/api/{version}"), &suffix, &tag);
        }
    }
    for op in django(&mut doc) {
        op.add(&mut doc, "/api/admin", "", "Django-style admin");
    }
    for op in sunbird(&mut doc) {
        op.add(&mut doc);
    }
    let schemas = doc.generator.take_definitions(true);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "roster",
            "version": env!("CARGO_PKG_VERSION"),
            "summary": "User administration for education institutes: the Testpress admin API, a Django-style admin API and the Sunbird user API, served in process.",
            "license": { "name": "MIT OR Apache-2.0", "identifier": "MIT OR Apache-2.0" }
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "servers": [{ "url": "/" }],
        "security": [{ "bearer": [] }],
        "tags": [
            { "name": "Testpress v2.5", "description": "The Testpress admin API (seeds 001-002)." },
            { "name": "Testpress v2.2", "description": "The same, under the older version." },
            { "name": "Django-style admin", "description": "Users, groups and permissions (seed 003)." },
            { "name": "Sunbird", "description": "The Sunbird user API (seed 004); every answer in its envelope." }
        ],
        "paths": doc.paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A session token from `POST /api/v2.5/auth-token/`, as `Bearer <token>` (or `JWT <token>`)."
                },
                "userToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "x-authenticated-user-token",
                    "description": "The Sunbird paths also read the token from this header (it wins over `Authorization`)."
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::{Request, handle_as};

    fn document_value() -> Value {
        serde_json::from_str(&document()).unwrap()
    }

    /// Every `$ref` of `value`.
    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("$ref", Value::String(r)) => out.push(r),
                        _ => refs(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_resolves_and_every_operation_has_a_unique_id() {
        let doc = document_value();
        assert_eq!(doc["openapi"], "3.1.0");
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(found.len() > 100);
        for r in found {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("{r}"));
            assert!(schemas.contains_key(name), "{r}");
        }
        let mut ids = std::collections::BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap();
                assert!(ids.insert(id.to_string()), "{method} {path}: {id} twice");
                let params: Vec<&str> = op["parameters"]
                    .as_array()
                    .map(|p| {
                        p.iter()
                            .filter(|p| p["in"] == "path")
                            .map(|p| p["name"].as_str().unwrap())
                            .collect()
                    })
                    .unwrap_or_default();
                let holes = path.matches('{').count();
                assert_eq!(params.len(), holes, "{method} {path}");
                for p in params {
                    assert!(path.contains(&format!("{{{p}}}")), "{method} {path}: {p}");
                }
            }
        }
    }

    /// Every operation of the document reaches its route (not the 404 of
    /// an unknown path, nor a 405), and answers a status the document
    /// lists for it, with JSON when it has a body. Walked as the operator,
    /// with an empty body, then with ids that exist.
    #[test]
    fn every_documented_operation_is_routed_and_answers_a_documented_status() {
        let (institute, ada) = crate::api::with_ada(crate::Config {
            argon2: crate::Argon2Params::insecure_fast(),
            ..Default::default()
        });
        let operator = institute.operator();
        let doc = document_value();
        let mut count = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let method = method.to_ascii_uppercase();
                let concrete = path
                    .replace("{id}", &ada.to_string())
                    .replace("{userId}", "no-such-user")
                    .replace("{idType}", "email");
                let sunbird = op["tags"][0] == "Sunbird";
                let mut request = Request::new(&method, &concrete);
                if op.get("requestBody").is_some() {
                    let body = if sunbird { r#"{"request": {}}"# } else { "{}" };
                    request = request
                        .with_header("Content-Type", "application/json")
                        .with_body(body);
                }
                let response = handle_as(&operator, request);
                let status = response.status.to_string();
                assert!(
                    op["responses"].get(&status).is_some(),
                    "{method} {path}: {status} is not documented: {:?}",
                    response.body
                );
                assert_ne!(response.status, 405, "{method} {path}");
                // A path that routes answers an unknown method 405; one
                // that does not, 404.
                let other = handle_as(&operator, Request::new("PROPFIND", &concrete));
                assert_eq!(other.status, 405, "{method} {path}: not routed");
                if response.body.is_some() {
                    assert_eq!(
                        response.header("content-type"),
                        Some("application/json"),
                        "{method} {path}"
                    );
                }
                count += 1;
            }
        }
        assert!(count > 130, "{count} operations");
    }

    #[test]
    fn the_document_is_served_without_a_token_and_only_to_get() {
        let institute = crate::Institute::in_memory(crate::Config::default()).unwrap();
        let response = crate::rest::handle(&institute, Request::new("GET", "/api/openapi.json"));
        assert_eq!(response.status, 200);
        assert_eq!(response.header("content-type"), Some("application/json"));
        assert_eq!(response.json()["openapi"], "3.1.0");
        let response = crate::rest::handle(&institute, Request::new("POST", "/api/openapi.json"));
        assert_eq!(response.status, 405);
        assert_eq!(response.header("allow"), Some("GET"));
    }
}
