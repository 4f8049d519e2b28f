//! A whole institute on PostgreSQL: the REST surfaces and the typed API on
//! the same core as on redb, a second institute on the same database seeing
//! the first's commits, and a race for one username between two institutes
//! that exactly one wins, the other getting the documented answer.
//!
//! Needs a server, as `conformance.rs` says.

mod common;

use common::{fresh_schema, on, server};
use roster::domain::sunbird::{CreateRoute, Filter, Filters, SearchRequest, SunbirdInput};
use roster::rest::{Request, handle};
use roster::{ErrorCode, Institute, NewUser};
use serde_json::{Value, json};
use std::sync::{Arc, Barrier};

/// One JSON request with a token: (status, body).
fn send(i: &Institute, token: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = Request::new(method, path)
        .with_header("Authorization", &format!("JWT {token}"))
        .with_header("Content-Type", "application/json");
    if let Some(body) = body {
        request = request.with_body(body.to_string());
    }
    let r = handle(i, request);
    let body = r.body.as_deref().map_or(Value::Null, |b| {
        serde_json::from_str(b).unwrap_or(Value::Null)
    });
    (r.status, body)
}

#[test]
fn an_institute_runs_on_postgres() {
    let Some(url) = server() else { return };
    let schema = fresh_schema(&url);
    let i = on(&schema);
    i.create_superuser("root", "a-long-passphrase").unwrap();
    let token = i.login("root", "a-long-passphrase").unwrap().token;

    // Testpress: create, a taken username refused with DRF's answer, search.
    let user = json!({"username": "asha", "password": "asha-pass-1", "email": "asha@example.com",
                      "first_name": "Asha", "last_name": "Nair"});
    let (status, _) = send(
        &i,
        &token,
        "POST",
        "/api/v2.5/admin/users/",
        Some(user.clone()),
    );
    assert_eq!(status, 201);
    let (status, body) = send(&i, &token, "POST", "/api/v2.5/admin/users/", Some(user));
    assert_eq!(status, 400, "{body}");
    assert!(body["username"].is_array(), "{body}");
    let (status, page) = send(
        &i,
        &token,
        "GET",
        "/api/v2.5/admin/users/?q=SHA@EXAMPLE",
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(page["count"], 1, "{page}");

    // Sunbird: a user through the typed API, found by its email.
    let admin = i.operator();
    let input = SunbirdInput {
        first_name: Some("Ravi".into()),
        email: Some("ravi@example.com".into()),
        ..Default::default()
    };
    let ravi = admin.sunbird_create(input, CreateRoute::Create).unwrap();
    let found = admin
        .sunbird_search(&SearchRequest {
            filters: Filters {
                all: vec![Filter::any_of("email", &["RAVI@example.com"])],
                ..Default::default()
            },
            ..Default::default()
        })
        .unwrap();
    assert_eq!(found.count, 1);
    assert_eq!(found.content[0].user_id, ravi);
    assert_eq!(i.check_integrity().unwrap(), Vec::<String>::new());

    // Another institute on the same database sees every commit, and the
    // session made by the first.
    let other = on(&schema);
    assert_eq!(other.operator().find_user("asha@example.com").unwrap(), 2);
    let (status, me) = send(&other, &token, "GET", "/api/v2.5/me/", None);
    assert_eq!((status, &me["username"]), (200, &json!("root")));
}

#[test]
fn two_institutes_race_for_one_username_and_one_wins() {
    let Some(url) = server() else { return };
    let schema = fresh_schema(&url);
    let institutes = [on(&schema), on(&schema)];
    let racers = 8;
    let barrier = Arc::new(Barrier::new(racers));
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..racers)
            .map(|k| {
                let (i, barrier) = (&institutes[k % 2], barrier.clone());
                scope.spawn(move || {
                    barrier.wait();
                    i.operator().create_user(
                        NewUser {
                            username: Some("same".into()),
                            password: Some("same-pass-1".into()),
                            ..Default::default()
                        },
                        Default::default(),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{results:?}");
    for r in results.iter().filter_map(|r| r.as_ref().err()) {
        // The losers get what a second create gets: a validation error on
        // the username, not a conflict of the storage.
        assert_eq!(r.code(), ErrorCode::Validation, "{r:?}");
        assert!(r.fields().has("username"), "{r:?}");
    }
    assert_eq!(
        institutes[1].check_integrity().unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn ids_stay_consecutive_alone_and_unique_under_contention() {
    let Some(url) = server() else { return };
    let schema = fresh_schema(&url);
    let (a, b) = (on(&schema), on(&schema));
    let create = |i: &Institute, name: &str| {
        i.operator()
            .create_user(
                NewUser {
                    username: Some(name.into()),
                    password: Some("pass-word-1".into()),
                    ..Default::default()
                },
                Default::default(),
            )
            .map(|c| c.user.id)
    };
    // Taking turns, two institutes never race: ids go 1, 2, 3, 4.
    let ids: Vec<u64> = ["a1", "b1", "a2", "b2"]
        .iter()
        .enumerate()
        .map(|(k, name)| create([&a, &b][k % 2], name).unwrap())
        .collect();
    assert_eq!(ids, [1, 2, 3, 4]);
    // At once, they do: a loser takes a block of its own (store::ids), and
    // every id is still unique.
    let racers = 12;
    let barrier = Arc::new(Barrier::new(racers));
    let mut ids: Vec<u64> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..racers)
            .map(|k| {
                let (i, barrier) = ([&a, &b][k % 2], barrier.clone());
                scope.spawn(move || {
                    barrier.wait();
                    create(i, &format!("racer{k}")).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), racers);
    assert_eq!(
        a.operator().list_users(&Default::default()).unwrap().count,
        16
    );
    assert_eq!(b.check_integrity().unwrap(), Vec::<String>::new());
}

/// Creates user `name` (with a password) through `i`; its id.
fn new_user(i: &Institute, name: &str) -> u64 {
    let input = NewUser {
        username: Some(name.into()),
        password: Some("a-long-passphrase".into()),
        ..Default::default()
    };
    i.operator()
        .create_user(input, Default::default())
        .unwrap()
        .user
        .id
}

/// Custom field definitions are fetched with each read's snapshot (in the
/// message that begins it): a definition another institute adds, changes
/// or removes is seen by the next read, never an older copy.
#[test]
fn custom_field_definitions_are_read_with_each_snapshot() {
    let Some(url) = server() else { return };
    let schema = fresh_schema(&url);
    let (a, b) = (on(&schema), on(&schema));
    let id = new_user(&a, "ravi");
    assert!(a.operator().get_user(id).unwrap().custom_fields.is_empty());
    let field = b
        .operator()
        .create_custom_field(roster::CustomFieldInput {
            name: Some("Stream".into()),
            kind: Some("text".into()),
            choices: None,
            required: Some(false),
        })
        .unwrap();
    b.operator()
        .update_user(
            id,
            roster::UserPatch {
                profile: roster::ProfileInput {
                    custom_fields: vec![(
                        "Stream".into(),
                        roster::CustomInput::Text("Science".into()),
                    )],
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .unwrap();
    let shown = |i: &Institute| i.operator().get_user(id).unwrap().custom_fields;
    assert_eq!(shown(&a).len(), 1, "{:?}", shown(&a));
    assert_eq!(shown(&a)[0].0, "Stream");
    b.operator()
        .update_custom_field(
            field.id,
            roster::CustomFieldInput {
                name: Some("Track".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(shown(&a)[0].0, "Track");
    let page = a.operator().list_custom_fields(Default::default()).unwrap();
    assert_eq!(page.count, 1);
    b.operator().delete_custom_field(field.id).unwrap();
    assert!(shown(&a).is_empty(), "{:?}", shown(&a));
    assert_eq!(a.check_integrity().unwrap(), Vec::<String>::new());
}

/// A read whose first message fails after its `START TRANSACTION` (the
/// prefetch's `EXECUTE` meets `lock_timeout` while another session holds
/// roster's table) is refused as a storage failure, and its connection
/// goes back to the pool usable: the next read on it succeeds. Before, the
/// connection kept its aborted transaction and refused every later read.
#[test]
fn a_read_that_fails_as_it_begins_leaves_its_connection_usable() {
    let Some(url) = server() else { return };
    let schema = fresh_schema(&url);
    let mut impatient = schema.clone();
    let options = format!(
        "{} -c lock_timeout=200",
        schema.get_options().unwrap_or_default()
    );
    impatient.options(&options);
    let backend = roster_postgres::PgBackend::with_config(impatient, Default::default()).unwrap();
    let institute = Institute::open_with(Arc::new(backend), common::config()).unwrap();
    let id = new_user(&institute, "meera");
    // One read first: it prepares the prefetch on the connection, so the
    // read under the lock fails at its `EXECUTE`, inside the transaction.
    institute.operator().get_user(id).unwrap();
    let mut holder = schema.connect(postgres::NoTls).unwrap();
    holder
        .batch_execute("BEGIN; LOCK TABLE roster_rows IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let refused = institute.operator().get_user(id).unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Storage, "{refused}");
    holder.batch_execute("COMMIT").unwrap();
    for _ in 0..3 {
        let user = institute.operator().get_user(id).unwrap();
        assert_eq!(user.username, "meera");
    }
}

/// A store made before roster had the writers' lock (`roster_writers`)
/// gets it when opened, by a handle that may create roster's table or by
/// one that may not, and its writes work.
#[test]
fn a_store_without_the_writers_lock_gets_it_when_opened() {
    let Some(url) = server() else { return };
    let schema = fresh_schema(&url);
    let institute = on(&schema);
    new_user(&institute, "before");
    drop(institute);
    let mut admin = schema.connect(postgres::NoTls).unwrap();
    let writers_lock = |admin: &mut postgres::Client| -> bool {
        admin
            .query_one("SELECT to_regclass('roster_writers') IS NOT NULL", &[])
            .unwrap()
            .try_get(0)
            .unwrap()
    };
    for create in [false, true] {
        admin.batch_execute("DROP TABLE roster_writers").unwrap();
        let options = roster_postgres::Options {
            create,
            ..Default::default()
        };
        let backend = roster_postgres::PgBackend::with_config(schema.clone(), options).unwrap();
        let institute = Institute::open_with(Arc::new(backend), common::config()).unwrap();
        assert!(writers_lock(&mut admin), "create: {create}");
        new_user(&institute, &format!("after{create}"));
    }
}

/// Functions an attacker with `CREATE` on a schema of roster's search path
/// could plant (CVE-2018-1058's pattern): each takes argument types that
/// match roster's calls better than the built-in does (`name` for
/// `current_schema()`, `text` for a sequence's name given as a literal, an
/// array type for `unnest`'s `anyarray`), so an unqualified call would run
/// it, with roster's privileges. roster names every built-in with its
/// schema: none of them runs.
#[test]
fn functions_planted_in_the_search_path_are_never_called() {
    let Some(url) = server() else { return };
    let schema = fresh_schema(&url);
    let name = schema
        .get_options()
        .and_then(|o| o.strip_prefix("-c search_path="))
        .expect("the schema's name")
        .to_string();
    let planted = [
        ("hashtext", "name", "int"),
        ("nextval", "text", "bigint"),
        ("setval", "text, bigint", "bigint"),
        ("unnest", "text[]", "SETOF text"),
        ("unnest", "bytea[]", "SETOF bytea"),
        ("to_regclass", "name", "regclass"),
        ("encode", "bytea, name", "text"),
        ("length", "bytea", "int"),
    ];
    for (function, args, returns) in planted {
        roster_postgres::testing::execute(
            &url,
            &format!(
                "CREATE FUNCTION {name}.{function}({args}) RETURNS {returns} LANGUAGE plpgsql \
                 AS $$ BEGIN RAISE EXCEPTION 'planted {function} ran'; END $$"
            ),
        );
    }
    // Every kind of statement roster sends: the store made, users created
    // (rows, index entries, the feed's numbers asked for and predicted),
    // read back one and many at a time, searched, changed, deleted.
    let i = on(&schema);
    i.create_superuser("root", "a-long-passphrase").unwrap();
    let token = i.login("root", "a-long-passphrase").unwrap().token;
    let admin = i.operator();
    let batch = admin
        .create_batch(roster::BatchInput {
            name: Some("Planted".into()),
        })
        .unwrap();
    let mut ids = Vec::new();
    for k in 0..40 {
        let user = admin
            .create_user(
                NewUser {
                    username: Some(format!("user{k}")),
                    password: Some("a-long-passphrase".into()),
                    batches: vec!["Planted".into()],
                    ..Default::default()
                },
                Default::default(),
            )
            .unwrap();
        ids.push(user.user.id);
    }
    for path in [
        "/api/v2.5/admin/users/?q=user1",
        "/api/v2.5/admin/users/?page=2",
        &format!("/api/v2.5/admin/batches/{}/", batch.id),
    ] {
        let (status, body) = send(&i, &token, "GET", path, None);
        assert_eq!(status, 200, "{path}: {body}");
    }
    admin.delete_user(ids[0]).unwrap();
    assert_eq!(admin.list_users(&Default::default()).unwrap().count, 40);
    assert!(admin.changes_since(0, 1000).unwrap().changes.len() > 80);
    assert!(i.check_integrity().unwrap().is_empty());
    // Opened again on the store it made.
    drop(i);
    let again = on(&schema);
    assert_eq!(again.operator().get_user(ids[1]).unwrap().username, "user1");
}

/// A schema created ahead of roster's in the connection string's
/// `search_path` after the institute opened (a `"$user"` schema, say), with
/// tables of roster's names in it: the connections made after it (here,
/// every connection the server ended) still read and write roster's own
/// tables, because the path was resolved once, at open, and pinned.
#[test]
fn tables_planted_ahead_in_the_search_path_are_never_used() {
    let Some(url) = server() else { return };
    let own = roster_postgres::testing::unique_name("t");
    let ahead = roster_postgres::testing::unique_name("ahead");
    let app = roster_postgres::testing::unique_name("pinned");
    roster_postgres::testing::execute(&url, &format!("CREATE SCHEMA {own}"));
    let mut config: postgres::Config = url.parse().unwrap();
    config.options(&format!("-c search_path={ahead},{own}"));
    config.application_name(&app);
    let i = on(&config);
    let admin = i.operator();
    let user = |name: &str| NewUser {
        username: Some(name.into()),
        password: Some("a-long-passphrase".into()),
        ..Default::default()
    };
    let first = admin
        .create_user(user("before"), Default::default())
        .unwrap();
    let rows = |schema: &str| {
        roster_postgres::testing::number(
            &url,
            &format!("SELECT count(*) FROM {schema}.roster_rows"),
        )
    };
    let before = rows(&own);

    roster_postgres::testing::execute(
        &url,
        &format!(
            "CREATE SCHEMA {ahead}; \
             CREATE TABLE {ahead}.roster_rows (LIKE {own}.roster_rows INCLUDING ALL); \
             CREATE TABLE {ahead}.roster_writers (); \
             CREATE SEQUENCE {ahead}.roster_change_seq"
        ),
    );
    // Every connection of the institute ended: the next calls connect anew.
    let sessions = format!("FROM pg_stat_activity WHERE application_name = '{app}'");
    roster_postgres::testing::execute(
        &url,
        &format!("SELECT pg_terminate_backend(pid) {sessions}"),
    );
    for _ in 0..500 {
        if roster_postgres::testing::number(&url, &format!("SELECT count(*) {sessions}")) == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }

    assert_eq!(admin.get_user(first.user.id).unwrap().username, "before");
    let second = admin
        .create_user(user("after"), Default::default())
        .unwrap();
    assert_eq!(admin.list_users(&Default::default()).unwrap().count, 2);
    assert_eq!(admin.get_user(second.user.id).unwrap().username, "after");
    assert_eq!(rows(&ahead), 0, "a row went to the planted table");
    assert!(
        rows(&own) > before,
        "the new user's rows are not in roster's table"
    );
    assert!(i.check_integrity().unwrap().is_empty());
}

/// A `search_path` none of whose schemas exists leaves roster nowhere to
/// keep its tables: refused at open, saying so and what to do.
#[test]
fn a_search_path_without_a_schema_is_refused_at_open() {
    let Some(url) = server() else { return };
    let mut config: postgres::Config = url.parse().unwrap();
    let missing = roster_postgres::testing::unique_name("missing");
    config.options(&format!("-c search_path={missing}"));
    let e = roster_postgres::PgBackend::with_config(config, Default::default()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound, "{e:?}");
    assert!(e.message().contains("search_path"), "{}", e.message());
    let found = roster_postgres::testing::number(
        &url,
        &format!("SELECT count(*) FROM pg_namespace WHERE nspname = '{missing}'"),
    );
    assert_eq!(found, 0, "a schema was created");
}

/// `PREPARE` is not undone by a rollback: a connection whose message of
/// `PREPARE`s failed part-way (here the feed's sequence is gone when the
/// third of four is prepared) is closed, not kept, and the next write,
/// once the sequence is back, prepares on a new connection and commits.
#[test]
fn a_connection_whose_prepares_failed_part_way_is_not_kept() {
    let Some(url) = server() else { return };
    let schema = fresh_schema(&url);
    // Made, with its tables and the feed's sequence, through one backend.
    on(&schema)
        .create_superuser("root", "a-long-passphrase")
        .unwrap();
    // A second one whose connection has prepared nothing yet.
    let options = roster_postgres::Options {
        pool_size: 1,
        ..Default::default()
    };
    let backend = roster_postgres::PgBackend::with_config(schema.clone(), options).unwrap();
    let i = Institute::open_with(Arc::new(backend), common::config()).unwrap();
    let admin = i.operator();
    let mut sql = schema.connect(postgres::NoTls).unwrap();
    sql.batch_execute("ALTER SEQUENCE roster_change_seq RENAME TO roster_change_seq_away")
        .unwrap();
    let batch = |name: &str| roster::BatchInput {
        name: Some(name.into()),
    };
    let e = admin.create_batch(batch("First")).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Storage, "{e:?}");
    sql.batch_execute("ALTER SEQUENCE roster_change_seq_away RENAME TO roster_change_seq")
        .unwrap();
    for name in ["Second", "Third"] {
        admin.create_batch(batch(name)).unwrap();
    }
    let names: Vec<String> = admin
        .list_batches(None, Default::default())
        .unwrap()
        .items
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(names, ["Second", "Third"]);
    assert_eq!(i.check_integrity().unwrap(), Vec::<String>::new());
}

/// The feed's sequence must hand out numbers one at a time, in order: one
/// altered to cache numbers per session (or count by 2, or cycle) is
/// refused at open with the statement that mends it, and opens once mended.
#[test]
fn a_feed_sequence_that_caches_or_skips_is_refused_at_open() {
    let Some(url) = server() else { return };
    let schema = fresh_schema(&url);
    on(&schema)
        .create_superuser("root", "a-long-passphrase")
        .unwrap();
    let mut sql = schema.connect(postgres::NoTls).unwrap();
    for change in ["CACHE 20", "INCREMENT 2", "CYCLE"] {
        sql.batch_execute(&format!("ALTER SEQUENCE roster_change_seq {change}"))
            .unwrap();
        for create in [true, false] {
            let options = roster_postgres::Options {
                create,
                ..Default::default()
            };
            let e = roster_postgres::PgBackend::with_config(schema.clone(), options).unwrap_err();
            assert_eq!(e.code(), ErrorCode::Corrupt, "{change}: {e:?}");
            assert!(e.message().contains("INCREMENT 1 CACHE 1 NO CYCLE"), "{e}");
        }
        sql.batch_execute("ALTER SEQUENCE roster_change_seq INCREMENT 1 CACHE 1 NO CYCLE")
            .unwrap();
        let i = on(&schema);
        assert_eq!(i.check_integrity().unwrap(), Vec::<String>::new());
    }
}
