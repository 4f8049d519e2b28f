//! `roster demo`: the documented Testpress scenario, request by request, on a
//! new temporary store.
//!
//! Every request goes through the REST facade as the local operator, and
//! every response is checked against the status the documents promise, so the
//! demo doubles as a smoke test: an unexpected status is reported and the
//! command exits 1. Ids are always taken from earlier responses.

use std::fmt;
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Utc};
use roster::rest::{Request, Response};
use roster::{Argon2Params, Clock, Config, FixedClock, Institute};
use serde_json::{Value, json};

use crate::EXIT_FAILURE;

/// Where the clock starts without `--now`: the dates of the seed's examples.
const DEFAULT_START: &str = "2023-01-12T11:06:19+05:30";

/// The Testpress admin prefix most of the scenario uses.
const V25: &str = "/api/v2.5/admin";

/// Why the demo stopped early.
#[derive(Debug)]
enum DemoError {
    /// A request got another status than the scenario expects.
    UnexpectedStatus {
        method: String,
        path: String,
        expected: u16,
        got: u16,
    },
    /// A response lacked something the scenario needs (e.g. an `id`).
    BadResponse(String),
    /// The temporary store could not be set up.
    Setup(String),
}

impl fmt::Display for DemoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DemoError::UnexpectedStatus {
                method,
                path,
                expected,
                got,
            } => write!(
                f,
                "{method} {path} answered HTTP {got}, the scenario expects HTTP {expected}"
            ),
            DemoError::BadResponse(message) => write!(f, "unexpected response: {message}"),
            DemoError::Setup(message) => write!(f, "cannot set up the demo store: {message}"),
        }
    }
}

/// Result of a demo step.
type Step<T = ()> = Result<T, DemoError>;

/// The administrator the demo creates and signs in as.
const ADMIN: &str = "admin";
/// Its password (a demo store in a temporary folder: nothing to protect).
const ADMIN_PASSWORD: &str = "demo-admin-pass";

/// The running demo: the store, its clock and the signed-in session.
struct Demo {
    /// The institute every request is served by.
    institute: Institute,
    /// The session token sent as `Authorization: JWT <token>`.
    token: Option<String>,
    /// The clock the institute reads; the expiry step moves it.
    clock: Arc<FixedClock>,
    /// The institute's time zone: "today" for expiry is the date there.
    zone: FixedOffset,
    /// Number of the current section.
    section: u32,
}

impl Demo {
    /// Prints a section heading and a line or two about what it shows.
    fn section(&mut self, title: &str, about: &str) {
        self.section += 1;
        println!();
        println!("=== {}. {title} ===", self.section);
        for line in about.lines() {
            println!("{line}");
        }
    }

    /// Sends one request, prints it and its response, and checks the status.
    /// Returns the response body as JSON (`Null` when empty).
    fn call(
        &self,
        what: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
        expected: u16,
    ) -> Step<Value> {
        let credential = self
            .token
            .as_ref()
            .map(|t| ("Authorization", format!("JWT {t}"), "JWT <the token>"));
        Ok(self
            .send(what, method, path, body, credential, expected)?
            .json())
    }

    /// Sends one request with `credential` (header, value, what to print),
    /// prints it and its response, and checks the status.
    fn send(
        &self,
        what: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
        credential: Option<(&str, String, &str)>,
        expected: u16,
    ) -> Step<Response> {
        println!();
        println!("-- {what}");
        println!("> {method} {path}");
        let mut request = Request::new(method, path);
        if let Some((name, value, shown)) = credential {
            println!("> {name}: {shown}");
            request = request.with_header(name, &value);
        }
        if let Some(body) = &body {
            println!("{}", pretty(body));
            request = request
                .with_header("Content-Type", "application/json")
                .with_body(body.to_string());
        }
        let response = roster::rest::handle(&self.institute, request);
        print_response(&response);
        if response.status != expected {
            return Err(DemoError::UnexpectedStatus {
                method: method.to_string(),
                path: path.to_string(),
                expected,
                got: response.status,
            });
        }
        Ok(response)
    }

    /// Sends one Sunbird request with `token` as `x-authenticated-user-token`
    /// (the demo administrator's when `None`), prints it and its response,
    /// and checks the status. Returns the envelope's `result`.
    fn sunbird(
        &self,
        what: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
        expected: u16,
    ) -> Step<Value> {
        let credential = token
            .or(self.token.as_deref())
            .map(|t| ("x-authenticated-user-token", t.to_string(), "<a token>"));
        let response = self.send(what, method, path, body, credential, expected)?;
        Ok(response.json()["result"].clone())
    }

    /// The date "today" in the institute's time zone.
    fn today(&self) -> NaiveDate {
        self.clock.now().with_timezone(&self.zone).date_naive()
    }
}

/// Pretty JSON text of a value.
fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// Prints `< HTTP status` and the body, pretty when it is JSON.
fn print_response(response: &Response) {
    println!("< HTTP {}", response.status);
    if let Some(body) = response.body.as_deref().filter(|b| !b.is_empty()) {
        match serde_json::from_str::<Value>(body) {
            Ok(value) => println!("{}", pretty(&value)),
            Err(_) => println!("{body}"),
        }
    }
}

/// The integer `id` of a response object.
fn id_of(value: &Value, what: &str) -> Step<u64> {
    value
        .get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| DemoError::BadResponse(format!("the {what} has no integer \"id\"")))
}

/// The `count` of a paginated response.
fn count_of(value: &Value) -> Step<u64> {
    value
        .get("count")
        .and_then(Value::as_u64)
        .ok_or_else(|| DemoError::BadResponse("the page has no integer \"count\"".to_string()))
}

/// Ids of the batches the scenario creates.
struct Batches {
    /// "Test Batch".
    test: u64,
    /// "NEET Morning Batch".
    neet: u64,
    /// "IBPS Morning Batch".
    ibps: u64,
}

/// Runs the demo; `now` is the `--now` of the command line.
pub fn run(now: Option<DateTime<Utc>>) -> ExitCode {
    match scenario(now) {
        Ok(()) => {
            println!();
            println!("Demo finished: every request answered as documented.");
            ExitCode::SUCCESS
        }
        Err(err) => {
            println!();
            println!("DEMO FAILED: {err}");
            eprintln!("error: demo failed: {err}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// The whole scenario.
fn scenario(now: Option<DateTime<Utc>>) -> Step {
    let start = match now {
        Some(at) => at,
        None => DateTime::parse_from_rfc3339(DEFAULT_START)
            .map_err(|e| DemoError::Setup(e.to_string()))?
            .with_timezone(&Utc),
    };
    let clock = Arc::new(FixedClock::new(start));
    let mut config = Config::default().with_clock(clock.clone());
    config.argon2 = Argon2Params::default();
    let zone = config.time_zone;

    // A fresh store in a temporary folder: the --db file is never touched.
    let dir = tempfile::TempDir::new().map_err(|e| DemoError::Setup(e.to_string()))?;
    let institute = Institute::open(dir.path().join("demo.redb"), config)
        .map_err(|e| DemoError::Setup(format!("{e} ({})", e.code().as_str())))?;
    let mut demo = Demo {
        institute: institute.clone(),
        token: None,
        clock,
        zone,
        section: 0,
    };

    println!(
        "roster demo: the Testpress Admin Users API, then the Sunbird user API, run in process."
    );
    println!(
        "A new temporary store; the clock is fixed at {} ({}).",
        start.with_timezone(&zone).format("%Y-%m-%d %H:%M:%S"),
        zone
    );
    println!("Every request goes through the authenticating REST facade, as a server's would.");
    println!("'>' lines are requests, '<' lines are responses.");

    // The seed's subscriptions expire the day after its examples were made.
    let tomorrow = demo.today() + Duration::days(1);
    let expires = tomorrow.format("%Y-%m-%d").to_string();

    sign_in(&mut demo)?;
    let batches = create_batches(&mut demo)?;
    create_custom_fields(&mut demo)?;
    let user = create_user(&mut demo, &expires)?;
    failed_create(&mut demo)?;
    list_users(&mut demo)?;
    view_and_update(&mut demo, user)?;
    user_batches(&mut demo, user, &batches)?;
    courses(&mut demo, user, &batches)?;
    subscriptions(&mut demo, user, &batches, &expires)?;
    expiry(&mut demo, user)?;
    delete_user(&mut demo, user)?;
    sunbird(&mut demo)?;

    // The store goes before its folder.
    drop(demo);
    drop(institute);
    drop(dir);
    Ok(())
}

/// Step 1: batches.
fn create_batches(demo: &mut Demo) -> Step<Batches> {
    demo.section(
        "Batches",
        "Batches are the cohorts users join. Create the two the seed's user joins, and two more.",
    );
    let mut ids = Vec::new();
    for name in [
        "Test Batch",
        "UPSC Morning Batch",
        "NEET Morning Batch",
        "IBPS Morning Batch",
    ] {
        let batch = demo.call(
            &format!("Create the batch \"{name}\""),
            "POST",
            &format!("{V25}/batches/"),
            Some(json!({ "name": name })),
            201,
        )?;
        ids.push(id_of(&batch, "batch")?);
    }
    Ok(Batches {
        test: ids[0],
        neet: ids[2],
        ibps: ids[3],
    })
}

/// Step 2: custom field definitions.
fn create_custom_fields(demo: &mut Demo) -> Step {
    demo.section(
        "Custom fields",
        "The institute defines its own profile fields; user values are checked against their type.",
    );
    for (name, kind) in [
        ("Graduation University", "text"),
        ("Graduation Year", "number"),
    ] {
        demo.call(
            &format!("Define the {kind} field \"{name}\""),
            "POST",
            &format!("{V25}/custom-fields/"),
            Some(json!({ "name": name, "type": kind })),
            201,
        )?;
    }
    Ok(())
}

/// Step 3: the seed's Create User request. Returns the new user's id.
fn create_user(demo: &mut Demo, expires: &str) -> Step<u64> {
    demo.section(
        "Create a user",
        "The Create User example of the document: batches by name, an expiry for those\n\
         batches, and custom fields. The password is hashed (argon2id); the response\n\
         carries neither the password nor its hash.",
    );
    let user = demo.call(
        "Create the user \"lorem\"",
        "POST",
        &format!("{V25}/users/"),
        Some(json!({
            "username": "lorem",
            "password": "ipsum1$",
            "first_name": "John",
            "last_name": "Appleseed",
            "email": "test@example.com",
            "birth_date": "03/07/2016",
            "state": "IN-TN",
            "batches": ["Test Batch", "UPSC Morning Batch"],
            "expires": expires,
            "custom_fields": {
                "Graduation University": "Delhi University",
                "Graduation Year": 2020
            }
        })),
        201,
    )?;
    for secret in ["password", "password_hash"] {
        if user.get(secret).is_some() {
            return Err(DemoError::BadResponse(format!(
                "the created user shows \"{secret}\""
            )));
        }
    }
    id_of(&user, "user")
}

/// Step 4: a create that fails validation, and nothing is created.
fn failed_create(demo: &mut Demo) -> Step {
    demo.section(
        "Validation",
        "A create with several mistakes gets every field error at once (HTTP 400),\n\
         and nothing is written: not the user, not a batch membership.",
    );
    demo.call(
        "Create a user with an impossible date, a bad PIN code, an unknown state and an unknown batch",
        "POST",
        &format!("{V25}/users/"),
        Some(json!({
            "username": "dolor",
            "password": "sit-amet",
            "email": "dolor@example.com",
            "birth_date": "31/02/2016",
            "zip": "012345",
            "state": "IN-XX",
            "batches": ["Test Batch", "Evening Batch"]
        })),
        400,
    )?;
    let page = demo.call(
        "Look for that user: there is none",
        "GET",
        &format!("{V25}/users/?q=dolor"),
        None,
        200,
    )?;
    if count_of(&page)? != 0 {
        return Err(DemoError::BadResponse(
            "the failed create left a user behind".to_string(),
        ));
    }
    Ok(())
}

/// Step 5: a second user, the list, `q` and view by email.
fn list_users(demo: &mut Demo) -> Step {
    demo.section(
        "List and search",
        "Lists are pages of 20, ordered by id. `q` matches username or email (any case);\n\
         `email` matches one address exactly, ignoring case, and embeds the user's batches.",
    );
    demo.call(
        "Create a second user, \"lorem2\"",
        "POST",
        &format!("{V25}/users/"),
        Some(json!({
            "username": "lorem2",
            "password": "ipsum2$",
            "first_name": "John2",
            "last_name": "Appleseed",
            "email": "test3@example.com",
            "birth_date": "23/07/2000",
            "state": "IN-TN"
        })),
        201,
    )?;
    demo.call("List all users", "GET", &format!("{V25}/users/"), None, 200)?;
    demo.call(
        "Search with q",
        "GET",
        &format!("{V25}/users/?q=lorem2"),
        None,
        200,
    )?;
    demo.call(
        "View a user by email (the address in another case)",
        "GET",
        &format!("{V25}/users/?email=TEST@example.com"),
        None,
        200,
    )?;
    Ok(())
}

/// Step 6: view and update.
fn view_and_update(demo: &mut Demo, user: u64) -> Step {
    demo.section(
        "View and update",
        "PUT changes only the fields it sends; the others stay as they are.",
    );
    let path = format!("{V25}/users/{user}/");
    demo.call("View the user", "GET", &path, None, 200)?;
    demo.call(
        "Set a new password (the document's Update User example)",
        "PUT",
        &path,
        Some(json!({ "password": "welcome" })),
        200,
    )?;
    demo.call(
        "Change the city, PIN code and gender",
        "PUT",
        &path,
        Some(json!({ "city": "Chennai", "zip": "600001", "gender_code": "male" })),
        200,
    )?;
    Ok(())
}

/// Step 7: a user's batches.
fn user_batches(demo: &mut Demo, user: u64, batches: &Batches) -> Step {
    demo.section(
        "A user's batches",
        "Batches by id: view (newest batch first), add (answers with all the user's\n\
         batches), remove (204 No Content).",
    );
    let path = format!("{V25}/users/{user}/batches/");
    demo.call("The user's batches", "GET", &path, None, 200)?;
    demo.call(
        "Add NEET Morning Batch and IBPS Morning Batch",
        "POST",
        &path,
        Some(json!({ "batches": [batches.neet, batches.ibps] })),
        201,
    )?;
    demo.call(
        "Remove IBPS Morning Batch",
        "DELETE",
        &path,
        Some(json!({ "batches": [batches.ibps] })),
        204,
    )?;
    Ok(())
}

/// Step 8: courses, reached through batches or granted directly.
fn courses(demo: &mut Demo, user: u64, batches: &Batches) -> Step {
    demo.section(
        "Courses",
        "A user reaches a course through a batch linked to it, or by a direct grant.\n\
         Removing a direct grant leaves the courses the user's batches give.",
    );
    let mba = demo.call(
        "Create the course \"Master of Business Administration\"",
        "POST",
        &format!("{V25}/courses/"),
        Some(json!({ "title": "Master of Business Administration" })),
        201,
    )?;
    let mba = id_of(&mba, "course")?;
    let language = demo.call(
        "Create the course \"Language training\"",
        "POST",
        &format!("{V25}/courses/"),
        Some(json!({ "title": "Language training" })),
        201,
    )?;
    let language = id_of(&language, "course")?;
    demo.call(
        "Link the MBA course to Test Batch (the user is in that batch)",
        "POST",
        &format!("{V25}/courses/{mba}/batches/"),
        Some(json!({ "batches": [batches.test] })),
        201,
    )?;
    let path = format!("{V25}/users/{user}/courses/");
    demo.call(
        "Grant the user Language training directly",
        "POST",
        &path,
        Some(json!({ "courses": [language] })),
        201,
    )?;
    demo.call("The user's courses", "GET", &path, None, 200)?;
    demo.call(
        "Remove the Language training grant",
        "DELETE",
        &path,
        Some(json!({ "courses": [language] })),
        204,
    )?;
    demo.call(
        "The user's courses: MBA stays, through Test Batch",
        "GET",
        &path,
        None,
        200,
    )?;
    Ok(())
}

/// Step 9: subscriptions, i.e. batch memberships with their expiry.
fn subscriptions(demo: &mut Demo, user: u64, batches: &Batches, expires: &str) -> Step {
    demo.section(
        "Subscriptions",
        "A subscription is a batch membership with its expiry date (null: none).",
    );
    let path = format!("{V25}/users/{user}/subscriptions/");
    demo.call("The user's subscriptions", "GET", &path, None, 200)?;
    demo.call(
        &format!("Let NEET Morning Batch expire on {expires} too"),
        "POST",
        &path,
        Some(json!({ "batches": [batches.neet], "expires": expires })),
        201,
    )?;
    let later = (demo.today() + Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();
    demo.call(
        &format!("Subscribe to IBPS Morning Batch again, until {later}"),
        "POST",
        &path,
        Some(json!({ "batches": [batches.ibps], "expires": later })),
        201,
    )?;
    Ok(())
}

/// Step 10: time passes and subscriptions expire.
/// Creates the administrator (a host-level step) and signs in over REST.
fn sign_in(demo: &mut Demo) -> Step {
    demo.section(
        "Sign in",
        "Admin APIs need a token of a user with admin privileges. The host creates\n\
         the first administrator (roster superuser does the same), then signs in.",
    );
    demo.institute
        .create_superuser(ADMIN, ADMIN_PASSWORD)
        .map_err(|e| DemoError::Setup(e.to_string()))?;
    println!();
    println!("Created the superuser \"{ADMIN}\" with institute.create_superuser().");
    demo.call(
        "Without a token, an admin path answers 401",
        "GET",
        &format!("{V25}/users/"),
        None,
        401,
    )?;
    renew_session(demo)
}

/// Signs in again (sessions last 24 hours).
fn renew_session(demo: &mut Demo) -> Step {
    demo.token = None;
    let reply = demo.call(
        "Sign in: the token is shown once; it is stored only as a hash",
        "POST",
        "/api/v2.5/auth-token/",
        Some(json!({"username": ADMIN, "password": ADMIN_PASSWORD})),
        200,
    )?;
    let token = reply["token"]
        .as_str()
        .ok_or_else(|| DemoError::BadResponse("no token in the sign-in answer".to_string()))?;
    demo.token = Some(token.to_string());
    Ok(())
}

fn expiry(demo: &mut Demo, user: u64) -> Step {
    demo.section(
        "Expiry",
        "A subscription whose date has passed no longer counts, wherever it is read;\n\
         purge-expired deletes such records and says how many.",
    );
    demo.clock.advance(Duration::days(2));
    println!();
    println!(
        "Two days pass: the date is now {} in the institute's time zone ({}).",
        demo.today().format("%Y-%m-%d"),
        demo.zone
    );
    println!("Sessions last 24 hours, so the administrator signs in again.");
    renew_session(demo)?;
    let page = demo.call(
        "The user's batches: only IBPS Morning Batch is left",
        "GET",
        &format!("{V25}/users/{user}/batches/"),
        None,
        200,
    )?;
    if count_of(&page)? != 1 {
        return Err(DemoError::BadResponse(
            "expired batches are still listed".to_string(),
        ));
    }
    demo.call(
        "Delete the expired subscriptions",
        "POST",
        &format!("{V25}/subscriptions/purge-expired/"),
        None,
        200,
    )?;
    demo.call(
        "The user's subscriptions after the purge",
        "GET",
        &format!("{V25}/users/{user}/subscriptions/"),
        None,
        200,
    )?;
    Ok(())
}

/// Step 11: delete the user.
fn delete_user(demo: &mut Demo, user: u64) -> Step {
    demo.section(
        "Delete",
        "Deleting a user is irreversible and removes everything related to it\n\
         (the document gives this endpoint under /api/v2.2/).",
    );
    demo.call(
        "Delete the user",
        "DELETE",
        &format!("/api/v2.2/admin/users/{user}/"),
        None,
        204,
    )?;
    demo.call(
        "The user is gone",
        "GET",
        &format!("{V25}/users/{user}/"),
        None,
        404,
    )?;
    Ok(())
}

/// A string field of a Sunbird result.
fn text_of(value: &Value, key: &str) -> Step<String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| DemoError::BadResponse(format!("the answer has no \"{key}\"")))
}

/// The Sunbird part: an organisation and its terms, a user created with
/// masking on every read, terms accepted, a managed user acted for, a role
/// with scope, search, and a block that ends the user's session.
fn sunbird(demo: &mut Demo) -> Step {
    demo.section(
        "Sunbird: organisations and terms",
        "The same users, through the Sunbird user API (seed 004): every answer is\n\
         in Sunbird's envelope. A tenant organisation, and the terms users accept.",
    );
    let org = demo.sunbird(
        "Create a tenant organisation",
        "POST",
        "/api/org/v1/create",
        Some(
            json!({"request": {"orgName": "Springfield Schools", "organisationType": "board",
            "channel": "springfield", "isTenant": true}}),
        ),
        None,
        200,
    )?;
    let org = org
        .get("organisationId")
        .and_then(Value::as_u64)
        .ok_or_else(|| DemoError::BadResponse("no organisationId".into()))?;
    demo.sunbird(
        "Publish terms version v1",
        "POST",
        "/api/data/v1/system/settings/set",
        Some(json!({"request": {"id": "tncConfig", "field": "tncConfig",
            "value": "{\"latestVersion\":\"v1\",\"v1\":{\"url\":\"https://example.com/terms-v1.html\"}}"}})),
        None,
        200,
    )?;

    demo.section(
        "Sunbird: a user, masked",
        "Contact data is masked wherever Sunbird shows it; filters match the real values.",
    );
    let created = demo.sunbird(
        "Create a user in the organisation's channel",
        "POST",
        "/api/user/v1/create",
        Some(json!({"request": {"firstName": "Asha", "lastName": "Nair", "email": "asha.nair@example.com",
            "phone": 9876543210u64, "password": "asha-pass-123", "channel": "springfield"}})),
        None,
        200,
    )?;
    let asha = text_of(&created, "userId")?;
    demo.sunbird(
        "Read it (v1): masked, and asked to accept the terms",
        "GET",
        &format!("/api/user/v1/read/{asha}"),
        None,
        None,
        200,
    )?;
    let login = demo
        .institute
        .login("asha.nair@example.com", "asha-pass-123")
        .map_err(|e| DemoError::BadResponse(e.to_string()))?;
    let token = login.token;
    println!();
    println!("(Asha signs in: POST /api/v2.5/auth-token/ gives her a session token.)");
    demo.sunbird(
        "Asha accepts the terms",
        "POST",
        "/api/user/v1/tnc/accept",
        Some(json!({"request": {"version": "v1"}})),
        Some(&token),
        200,
    )?;

    demo.section(
        "Sunbird: managed users",
        "Asha creates an account for her child, which has no email, phone or\n\
         password; she lists it with a token that acts for it.",
    );
    demo.sunbird(
        "Create a managed user",
        "POST",
        "/api/user/v4/create",
        Some(json!({"request": {"firstName": "Kiran", "lastName": "Nair", "managedBy": asha}})),
        Some(&token),
        200,
    )?;
    demo.sunbird(
        "List the users Asha manages, with tokens",
        "GET",
        &format!("/api/user/v1/managed/{asha}?withTokens=true"),
        None,
        Some(&token),
        200,
    )?;

    demo.section(
        "Sunbird: roles and search",
        "Roles are Sunbird data with a scope of organisations; search filters\n\
         on indexes and answers v3 with roles as scope objects.",
    );
    demo.sunbird(
        "Make Asha an organisation admin of Springfield",
        "POST",
        "/api/user/v2/role/assign",
        Some(json!({"request": {"userId": asha, "roles": [
            {"role": "ORG_ADMIN", "operation": "add", "scope": [{"organisationId": org}]}]}})),
        None,
        200,
    )?;
    demo.sunbird(
        "Search the channel for \"nair\"",
        "POST",
        "/api/user/v3/search",
        Some(
            json!({"request": {"filters": {"channel": "springfield"}, "query": "nair",
            "fields": ["id", "firstName", "userName", "email", "roles", "managedBy"]}}),
        ),
        None,
        200,
    )?;

    demo.section(
        "Sunbird: block",
        "Blocking ends the user's sessions at once; unblocking lets it sign in again.",
    );
    demo.sunbird(
        "Block Asha",
        "POST",
        "/api/user/v1/block",
        Some(json!({"request": {"userId": asha}})),
        None,
        200,
    )?;
    demo.sunbird(
        "Her token no longer works",
        "GET",
        &format!("/api/user/v1/read/{asha}"),
        None,
        Some(&token),
        401,
    )?;
    demo.sunbird(
        "Unblock Asha",
        "POST",
        "/api/user/v1/unblock",
        Some(json!({"request": {"userId": asha}})),
        None,
        200,
    )?;
    Ok(())
}
