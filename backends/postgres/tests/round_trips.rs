//! How many messages the backend sends the server for one operation, read
//! from the server's own log of every statement: the round trips the
//! README promises. A read's `START` goes with its first statement and its
//! `COMMIT` ahead of the connection's next message, so a lookup by id or
//! by email takes one (a hand-written one three), a list's first page
//! three, a page of a `q` search four (the users waiting to be merged into
//! the index read whole in one, however many), and a needle longer than a
//! gram has its candidates checked in one. A write ends with its feed
//! numbers, its rows and the `COMMIT` in one message (the numbers
//! predicted and claimed there, once the handle's last write has shown
//! which come next): adding a subscription takes two (its reads with the
//! `START TRANSACTION`, its rows), creating a user two (the new user's
//! rows read with its checks, at the ids the handle expects to give
//! next; in a batch or in none), through Sunbird too, changing one's
//! name three, deleting one three (every row it holds under its id read
//! whole with the first). A write that asks for its numbers (another
//! process writes too) takes one more: its rows go with the question,
//! its entries with the `COMMIT`. A lookup by email reads the index entry
//! and the user it names in one message, the read's beginning. A sign-in
//! takes three: its read of the username's entry and the user, then a
//! write begun with the user and its sessions, then its rows.
//!
//! On a private server that logs every statement; it needs the server
//! binaries, as `fault.rs` does.

mod common;

use roster_postgres::testing::PrivateServer;
use std::path::Path;
use std::time::Duration;

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

/// A private server that logs every statement, and backend options under
/// which a read's `COMMIT` goes with the connection's next message
/// (lingering long, it never goes on its own in the middle of a count).
fn logging_server() -> Option<(PrivateServer, roster_postgres::Options)> {
    let server = PrivateServer::start_with(&[], &[("log_statement", "all")])?;
    let options = roster_postgres::Options {
        read_linger: Duration::from_secs(600),
        ..Default::default()
    };
    Some((server, options))
}

#[test]
fn reads_and_subscriptions_take_as_many_round_trips_as_hand_written_sql() {
    let Some((server, options)) = logging_server() else {
        return;
    };
    let (institute, batches) = common::with_batches_and(&server.url(), 3, options);
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
    // Every statement prepared on the connection, the handle's id block
    // and its next feed number known.
    for user in 1..=3 {
        subscribe(user, batches[0]);
        admin.get_user(user).expect("user");
    }
    // And the statements reads begin with (a lookup, a search's and a
    // list's first page).
    for query in [
        roster::UserQuery {
            q: Some("zzz".into()),
            ..Default::default()
        },
        roster::UserQuery::default(),
        roster::UserQuery {
            page: roster::PageRequest {
                page: 2,
                per_page: Some(5),
            },
            ..Default::default()
        },
        roster::UserQuery {
            email: Some("nobody@example.com".into()),
            ..Default::default()
        },
    ] {
        admin.list_users(&query).expect("a list");
    }
    let log = server.dir().join("log");

    let new = messages(&log, || subscribe(4, batches[1]));
    assert_eq!(new.len(), 2, "a new subscription: {new:#?}");
    assert!(
        new[0].contains("START TRANSACTION") && new[0].contains("roster_fetch"),
        "its reads begin it: {new:#?}"
    );
    assert!(
        new[1].contains("statement: EXECUTE roster_claim (") && new[1].ends_with("; COMMIT"),
        "its feed numbers and rows commit it: {new:#?}"
    );
    let changed = messages(&log, || {
        admin
            .add_user_subscriptions(4, &[batches[1]], Some("2098-12-31"))
            .expect("change the expiry");
    });
    assert_eq!(changed.len(), 2, "a changed expiry: {changed:#?}");

    // A user created by a one-row import: its checks, batches, counters,
    // the custom field definitions, and its new rows' checks, counts and
    // search postings (at the id the handle expects) with the `START`; the
    // feed's numbers and the rows with the `COMMIT`.
    let created = messages(&log, || {
        let row = common::learner(100, vec!["Batch 2".into()]);
        let report = admin.import_rows(vec![row]).expect("create");
        assert_eq!(report.created, 1);
    });
    assert_eq!(created.len(), 2, "a new user: {created:#?}");
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
    assert_eq!(created.len(), 2, "a user created one by one: {created:#?}");

    // A change of a name: the user, its side record and the feed's
    // origin, with the definitions, begin it; its own email is not
    // checked again; the postings; the feed's numbers and the rows.
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
    assert_eq!(changed.len(), 3, "a user's name changed: {changed:#?}");

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
    assert_eq!(created.len(), 2, "a Sunbird create: {created:#?}");
    // A Sunbird update: the UUID's entry and the feed's origin; the user
    // and its side record; the postings; the feed's numbers and the rows.
    let uuid = admin.get_user(8).expect("user").uuid;
    let changed = messages(&log, || {
        let patch = roster::domain::sunbird::SunbirdInput {
            last_name: Some("Updated".into()),
            ..Default::default()
        };
        admin.sunbird_update(&uuid, patch).expect("Sunbird update");
    });
    assert_eq!(changed.len(), 4, "a Sunbird update: {changed:#?}");

    // A deletion: its record, side record and feed origin begin it, with
    // every row it holds under its id (managed users, memberships,
    // sessions, messages) read whole; its index entries, postings and
    // count, and its memberships' index entries, in one; the feed's
    // numbers and the rows.
    let deleted = messages(&log, || admin.delete_user(7).expect("delete"));
    assert_eq!(deleted.len(), 3, "a user deleted: {deleted:#?}");
    assert!(
        deleted[0].contains("UNION ALL"),
        "its rows under its id with the first message: {deleted:#?}"
    );

    // A list's page and the messages it took.
    let list = |query: roster::UserQuery| {
        let mut page = None;
        let sent = messages(&log, || {
            page = Some(admin.list_users(&query).expect("list"))
        });
        (page.expect("a page"), sent)
    };
    let q = |text: &str| roster::UserQuery {
        q: Some(text.into()),
        ..Default::default()
    };
    // A search by `q`: its snapshot, the postings, the users whose grams
    // are not merged yet (format 13), the page's records (its `COMMIT`
    // goes with the next message). A scan does not go with the snapshot's
    // beginning: as text, postings cost more than the message saved.
    let (page, searched) = list(q("arn"));
    assert_eq!(page.items.len(), 20, "a full page");
    assert_eq!(searched.len(), 4, "a search by q: {searched:#?}");
    // A needle longer than a gram: its snapshot, a scan of each of its
    // five grams' postings, the unmerged users, every candidate's texts in
    // one message (not one each), the page's records.
    let (page, searched) = list(q("learner1"));
    assert_eq!(page.count, 13, "learner1, learner10-19, learner100-101");
    assert_eq!(searched.len(), 9, "a search by a long q: {searched:#?}");

    // A list's first page: its snapshot, the count, the page's records
    // (no position looked up for the first).
    let seen = std::fs::metadata(&log).expect("the server's log").len() as usize;
    let (page, listed) = list(roster::UserQuery::default());
    assert_eq!(page.items.len(), 20, "a full page");
    assert_eq!(listed.len(), 3, "a list's first page: {listed:#?}");
    // Its records: the 20 it shows (and one more), not a chunk of 256.
    let text = std::fs::read_to_string(&log).expect("the server's log");
    let limits: Vec<&str> = text[seen..]
        .lines()
        .filter_map(|l| l.split("parameters: ").nth(1))
        .collect();
    assert!(
        limits.len() == 2 && limits[1].ends_with("$3 = '21'"),
        "the page's scan (after the count's) asks for its rows: {limits:?}"
    );
    // A later page: its snapshot, the top-level counts (for the count and
    // the page's start alike), the counts of each level below, the page's
    // records.
    let first: Vec<u64> = page.items.iter().map(|u| u.id).collect();
    let (page, listed) = list(roster::UserQuery {
        page: roster::PageRequest {
            page: 3,
            per_page: Some(5),
        },
        ..Default::default()
    });
    let third: Vec<u64> = page.items.iter().map(|u| u.id).collect();
    assert_eq!(third, first[10..15], "the third page of five");
    assert_eq!(listed.len(), 6, "a list's third page: {listed:#?}");

    // A sign-in: the username's entry and the user it names, with the
    // snapshot's beginning, read before the password is checked (the
    // snapshot's `COMMIT` goes with the next message); the user and its
    // sessions, read whole, begin the write; the rows.
    let patch = roster::UserPatch {
        password: Some("a-good-password-6".into()),
        ..Default::default()
    };
    admin
        .update_user(6, patch)
        .expect("a password for learner5");
    let signed_in = messages(&log, || {
        institute
            .login("learner5", "a-good-password-6")
            .expect("sign in");
    });
    assert_eq!(signed_in.len(), 3, "a sign-in: {signed_in:#?}");
    assert!(
        signed_in[0].contains("START TRANSACTION") && signed_in[0].contains("roster_follow"),
        "the lookup with the snapshot: {signed_in:#?}"
    );

    // A lookup by email (Testpress's `?email=`): the entry and the user
    // it names, with the snapshot's beginning.
    let (page, by_email) = list(roster::UserQuery {
        email: Some("learner3@example.com".into()),
        ..Default::default()
    });
    assert_eq!(page.items.len(), 1, "the user of that email");
    assert_eq!(by_email.len(), 1, "a lookup by email: {by_email:#?}");

    // A lookup right after another read.
    admin.get_user(4).expect("user");
    let read = messages(&log, || {
        admin.get_user(5).expect("user");
    });
    assert_eq!(read.len(), 1, "a lookup by id: {read:#?}");
    assert!(
        read[0].contains("statement: COMMIT; START TRANSACTION")
            && read[0].contains("roster_fetch"),
        "the last read's COMMIT leads the next read, the user with its start: {read:#?}"
    );

    // And one in no batch, by a handle that has given no membership ids:
    // none to take, no counter of theirs to look for. (Its first create
    // prepares the statements.)
    let (other, _) = common::with_batches_and(&server.url(), 0, options);
    let in_no_batch = |i: u64| {
        let mut input = common::learner(i, Vec::new()).user;
        input.password = Some(format!("a-good-password-{i}"));
        other
            .operator()
            .create_user(input, roster::CreateOptions::default())
            .expect("create");
    };
    in_no_batch(102);
    let created = messages(&log, || in_no_batch(103));
    assert_eq!(created.len(), 2, "a user created in no batch: {created:#?}");
}

/// A handle that asks for its feed numbers (another process writes too:
/// its prediction was refused) sends its rows with the question, ahead of
/// the feed's lock, and only its entries with the `COMMIT`: the lock, which
/// every writer that appends waits for, is held for the entries alone.
/// (With the rows sent after the lock, two processes writing at once took
/// turns: no more users than one.)
#[test]
fn a_write_that_asks_for_its_feed_numbers_sends_its_rows_before_the_lock() {
    let Some((server, options)) = logging_server() else {
        return;
    };
    let (a, batches) = common::with_batches_and(&server.url(), 1, options);
    let (b, _) = common::with_batches_and(&server.url(), 0, options);
    let create = |institute: &roster::Institute, i: u64| {
        let row = common::learner(i, vec!["Batch 0".into()]);
        let report = institute.operator().import_rows(vec![row]).expect("create");
        assert_eq!(report.created, 1, "{:?}", report.rejected);
    };
    assert_eq!(batches.len(), 1);
    create(&a, 1);
    create(&b, 2);
    // `b` took the numbers `a` predicts: refused, `a` asks from now on.
    create(&a, 3);
    let log = server.dir().join("log");
    let created = messages(&log, || create(&a, 4));
    assert_eq!(
        created.len(),
        3,
        "reads, rows and numbers, entries: {created:#?}"
    );
    assert!(
        created[1].contains("EXECUTE roster_put (")
            && created[1].contains("\"users\"")
            && created[1].ends_with("; EXECUTE roster_seqs (2)"),
        "the user's rows, then its two entries' numbers: {created:#?}"
    );
    assert!(
        created[2].contains("EXECUTE roster_put ('{\"changes\",\"changes\"}'")
            && created[2].ends_with("; COMMIT"),
        "its entries alone with the COMMIT: {created:#?}"
    );
    let feed = a.operator().changes_since(0, 100).expect("feed");
    let seqs: Vec<u64> = feed.changes.iter().map(|c| c.seq).collect();
    assert!(seqs.windows(2).all(|p| p[0] < p[1]), "in order: {seqs:?}");
    assert_eq!(a.check_integrity().expect("check"), Vec::<String>::new());
}

/// A search reads the users waiting to be merged into the index in one
/// message, however many wait (on PostgreSQL, up to a group of 1,024 per
/// process), not a page of 256 at a time.
#[test]
fn a_search_reads_every_waiting_user_in_one_message() {
    let Some((server, options)) = logging_server() else {
        return;
    };
    let (institute, _) = common::with_batches_and(&server.url(), 0, options);
    let admin = institute.operator();
    for i in 0..600 {
        let report = admin
            .import_rows(vec![common::learner(i, Vec::new())])
            .expect("create");
        assert_eq!(report.created, 1);
    }
    let q = roster::UserQuery {
        q: Some("arn".into()),
        ..Default::default()
    };
    admin.list_users(&q).expect("search");
    let log = server.dir().join("log");
    let mut page = None;
    let searched = messages(&log, || page = Some(admin.list_users(&q).expect("search")));
    assert_eq!(page.expect("a page").count, 600, "every learner");
    // Its snapshot, the postings, the waiting users, the page's records.
    assert_eq!(searched.len(), 4, "a search: {searched:#?}");
}

/// Sessions of roster's backends on `server` whose transaction is open
/// while they wait.
fn open_and_idle(server: &PrivateServer) -> i64 {
    let mut client = postgres::Client::connect(&server.url(), postgres::NoTls).expect("client");
    client
        .query_one(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE application_name = 'roster' AND state = 'idle in transaction'",
            &[],
        )
        .expect("pg_stat_activity")
        .try_get(0)
        .expect("a count")
}

/// Polls `f` until it is true or `within` has passed.
fn eventually(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + within;
    while std::time::Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}

#[test]
fn a_read_left_open_ends_once_its_connection_has_idled() {
    let Some(server) = PrivateServer::start_with(&[], &[]) else {
        return;
    };
    let linger = Duration::from_secs(2);
    let options = roster_postgres::Options {
        read_linger: linger,
        ..Default::default()
    };
    let (institute, batches) = common::with_batches_and(&server.url(), 1, options);
    let admin = institute.operator();
    let started = std::time::Instant::now();
    admin.get_batch(batches[0]).expect("batch");
    let open = open_and_idle(&server);
    if started.elapsed() < linger {
        assert_eq!(open, 1, "the read's COMMIT waits for the next message");
    }
    assert!(
        eventually(Duration::from_secs(10), || open_and_idle(&server) == 0),
        "the backend's thread ends a read left open on an idle connection"
    );
    // Another read leaves it open again; dropping the backend closes it.
    admin.get_batch(batches[0]).expect("batch");
    drop(admin);
    drop(institute);
    assert!(
        eventually(Duration::from_secs(1), || open_and_idle(&server) == 0),
        "a dropped backend leaves none open"
    );

    // Without lingering, a read commits before it answers.
    let options = roster_postgres::Options {
        read_linger: Duration::ZERO,
        ..Default::default()
    };
    let backend = roster_postgres::PgBackend::connect(&server.url(), options).expect("backend");
    let institute =
        roster::Institute::open_with(std::sync::Arc::new(backend), common::config()).expect("open");
    institute.operator().get_batch(batches[0]).expect("batch");
    assert_eq!(
        open_and_idle(&server),
        0,
        "read_linger zero: no read left open"
    );
}

/// A session of roster's that sits idle inside a transaction (a process
/// that hung or was stopped mid-write would hold its lock on the table
/// and its rows there) is ended by the server after
/// `idle_transaction_timeout`: shown with a read left open longer than
/// that. The handle replaces the connection the server closed.
#[test]
fn a_transaction_left_idle_is_ended_by_the_server() {
    let Some(server) = PrivateServer::start_with(&[], &[]) else {
        return;
    };
    let options = |idle: Duration| roster_postgres::Options {
        read_linger: Duration::from_secs(600),
        idle_transaction_timeout: idle,
        ..Default::default()
    };
    let (institute, batches) =
        common::with_batches_and(&server.url(), 1, options(Duration::from_millis(300)));
    let admin = institute.operator();
    admin.get_batch(batches[0]).expect("batch");
    assert!(
        eventually(Duration::from_secs(10), || open_and_idle(&server) == 0),
        "the server ends a transaction idle past the timeout"
    );
    // The next calls find the connection closed and take another.
    assert_eq!(admin.get_batch(batches[0]).expect("batch").id, batches[0]);
    let report = admin
        .import_rows(vec![common::learner(0, Vec::new())])
        .expect("import");
    assert_eq!(report.created, 1);
    drop((admin, institute));
    assert!(eventually(Duration::from_secs(5), || open_and_idle(
        &server
    ) == 0));

    // Zero leaves the server's setting (none here): the read stays open.
    let backend = roster_postgres::PgBackend::connect(&server.url(), options(Duration::ZERO))
        .expect("backend");
    let institute =
        roster::Institute::open_with(std::sync::Arc::new(backend), common::config()).expect("open");
    institute.operator().get_batch(batches[0]).expect("batch");
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(open_and_idle(&server), 1, "left to the read's linger");
}

/// Past the first 4,096 users a new user's search postings are another
/// block's (a posting's key holds `id / 4096`): an import of more users
/// than are kept unmerged still reads the postings it writes with its
/// checks (its snapshot and checks, the new rows' entries and counts, the
/// unmerged users (none), the rows with the `COMMIT`), and a user created
/// alone still takes two messages.
#[test]
fn users_created_past_the_first_postings_block_take_as_many_messages() {
    let Some((server, options)) = logging_server() else {
        return;
    };
    let (institute, _) = common::with_batches_and(&server.url(), 0, options);
    let admin = institute.operator();
    let import = |from: u64, n: u64| {
        let rows = (from..from + n)
            .map(|i| common::learner(i, Vec::new()))
            .collect();
        let report = admin.import_rows(rows).expect("import");
        assert_eq!(report.created, n);
    };
    import(0, 4_200);
    let log = server.dir().join("log");
    let imported = messages(&log, || import(6_000, 17));
    assert_eq!(imported.len(), 4, "seventeen imported: {imported:#?}");
    assert!(
        imported[2].contains("ORDER BY key ASC"),
        "the unmerged users: {imported:#?}"
    );

    let create = |i: u64| {
        let mut input = common::learner(i, Vec::new()).user;
        input.password = Some(format!("a-good-password-{i}"));
        admin
            .create_user(input, roster::CreateOptions::default())
            .expect("create")
            .user
            .id
    };
    let mut id = 0;
    let created = messages(&log, || id = create(7_000));
    assert_eq!(id, 4_218, "past the first block");
    assert_eq!(created.len(), 2, "a user created alone: {created:#?}");
}
