//! How many messages the backend sends the server for one operation, read
//! from the server's own log of every statement: the round trips the
//! README promises (a lookup by id in three, as a hand-written one; adding
//! a subscription in three: its reads with the `START TRANSACTION`, its
//! feed numbers, its rows with the `COMMIT`; creating a user in four,
//! through Sunbird too, changing one's name in four, a page of a `q`
//! search in four, a list's first page in four, and a needle longer than
//! a gram with its candidates checked in one message).
//!
//! On a private server that logs every statement; it needs the server
//! binaries, as `fault.rs` does.

mod common;

use roster_postgres::testing::PrivateServer;
use std::path::Path;

/// The messages the server logged while `f` ran: one line each (a message
/// of the simple protocol, or the execution of a prepared statement).
fn messages(log: &Path, f: impl FnOnce()) -> Vec<String> {
    let seen = std::fs::metadata(log).expect("the server's log").len() as usize;
    f();
    let text = std::fs::read_to_string(log).expect("the server's log");
    text.get(seen..)
        .expect("the log only grew")
        .lines()
        .filter(|l| l.contains("LOG:  statement: ") || l.contains("LOG:  execute "))
        .map(str::to_string)
        .collect()
}

#[test]
fn reads_and_subscriptions_take_as_many_round_trips_as_hand_written_sql() {
    let Some(server) = PrivateServer::start_with(&[], &[("log_statement", "all")]) else {
        return;
    };
    let (institute, batches) = common::with_batches(&server.url(), 3);
    let admin = institute.operator();
    let report = admin
        .import_rows((0..20).map(|i| common::learner(i, Vec::new())).collect())
        .expect("import");
    assert_eq!(report.created, 20);
    let subscribe = |user: u64, batch: u64| {
        admin
            .add_user_subscriptions(user, &[batch], Some("2099-12-31"))
            .expect("subscribe");
    };
    // Every statement prepared on the connection, and the handle's id
    // block known.
    for user in 1..=3 {
        subscribe(user, batches[0]);
        admin.get_user(user).expect("user");
    }
    let log = server.dir().join("log");

    let new = messages(&log, || subscribe(4, batches[1]));
    assert_eq!(new.len(), 3, "a new subscription: {new:#?}");
    assert!(
        new[0].contains("START TRANSACTION") && new[0].contains("roster_fetch"),
        "its reads begin it: {new:#?}"
    );
    assert!(new[2].ends_with("; COMMIT"), "its rows commit it: {new:#?}");
    let changed = messages(&log, || {
        admin
            .add_user_subscriptions(4, &[batches[1]], Some("2098-12-31"))
            .expect("change the expiry");
    });
    assert_eq!(changed.len(), 3, "a changed expiry: {changed:#?}");

    // A user created by a one-row import: its checks, batches, counters
    // and the custom field definitions with the `START`; its new rows'
    // checks, counts and search postings; the feed's numbers; the rows
    // with the `COMMIT`.
    let created = messages(&log, || {
        let row = common::learner(100, vec!["Batch 2".into()]);
        let report = admin.import_rows(vec![row]).expect("create");
        assert_eq!(report.created, 1);
    });
    assert_eq!(created.len(), 4, "a new user: {created:#?}");
    assert!(
        created[0].contains("START TRANSACTION") && created[0].contains("'custom_fields'"),
        "its first reads take the custom field definitions whole: {created:#?}"
    );

    // The same through the create operation.
    let created = messages(&log, || {
        let mut input = common::learner(101, vec!["Batch 2".into()]).user;
        input.password = Some("a-good-password-101".into());
        admin
            .create_user(input, roster::CreateOptions::default())
            .expect("create");
    });
    assert_eq!(created.len(), 4, "a user created one by one: {created:#?}");

    // A change of a name: the user, its side record and the feed's
    // origin, with the definitions, begin it; its own email is not
    // checked again; the postings; the feed's numbers; the rows.
    let changed = messages(&log, || {
        let patch = roster::UserPatch {
            profile: roster::ProfileInput {
                last_name: Some("Changed".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        admin.update_user(4, patch).expect("update");
    });
    assert_eq!(changed.len(), 4, "a user's name changed: {changed:#?}");

    // A Sunbird create (after the first, which makes the default
    // organisation): its checks, counters, feed origin and the default
    // organisation begin it.
    let sunbird = |n: u32| {
        let input = roster::domain::sunbird::SunbirdInput {
            first_name: Some("Sun".into()),
            user_name: Some(format!("sunny{n}")),
            email: Some(format!("sunny{n}@example.com")),
            ..Default::default()
        };
        admin
            .sunbird_create(input, roster::domain::sunbird::CreateRoute::Create)
            .expect("Sunbird create");
    };
    sunbird(1);
    let created = messages(&log, || sunbird(2));
    assert_eq!(created.len(), 4, "a Sunbird create: {created:#?}");
    // A Sunbird update: the UUID's entry and the feed's origin; the user
    // and its side record; the postings; the feed's numbers; the rows.
    let uuid = admin.get_user(8).expect("user").uuid;
    let changed = messages(&log, || {
        let patch = roster::domain::sunbird::SunbirdInput {
            last_name: Some("Updated".into()),
            ..Default::default()
        };
        admin.sunbird_update(&uuid, patch).expect("Sunbird update");
    });
    assert_eq!(changed.len(), 5, "a Sunbird update: {changed:#?}");

    // A deletion: its record, side record and feed origin begin it; its
    // index entries, postings and count in one; then a scan of each kind
    // of thing a user has (managed users, memberships, sessions, outbox),
    // the feed's numbers, the rows.
    let deleted = messages(&log, || admin.delete_user(7).expect("delete"));
    assert_eq!(deleted.len(), 9, "a user deleted: {deleted:#?}");

    // A search by `q`: its snapshot, the postings, the page's records at
    // once, `COMMIT`.
    let searched = messages(&log, || {
        let query = roster::UserQuery {
            q: Some("arn".into()),
            ..Default::default()
        };
        let page = admin.list_users(&query).expect("search");
        assert_eq!(page.items.len(), 20, "a full page");
    });
    assert_eq!(searched.len(), 4, "a search by q: {searched:#?}");
    // A needle longer than a gram: its snapshot, a scan of each of its
    // five grams' postings, every candidate's texts in one message (not
    // one each), the page's records, `COMMIT`.
    let searched = messages(&log, || {
        let query = roster::UserQuery {
            q: Some("learner1".into()),
            ..Default::default()
        };
        let page = admin.list_users(&query).expect("search");
        assert_eq!(page.count, 13, "learner1, learner10-19, learner100-101");
    });
    assert_eq!(searched.len(), 9, "a search by a long q: {searched:#?}");

    // A list's first page: its snapshot, the count, the page's records
    // (no position looked up for the first), `COMMIT`.
    let listed = messages(&log, || {
        let page = admin
            .list_users(&roster::UserQuery::default())
            .expect("list");
        assert_eq!(page.items.len(), 20, "a full page");
    });
    assert_eq!(listed.len(), 4, "a list's first page: {listed:#?}");

    let read = messages(&log, || {
        admin.get_user(5).expect("user");
    });
    assert_eq!(read.len(), 3, "a lookup by id: {read:#?}");
}
