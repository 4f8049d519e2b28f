//! The backend-conformance suite (`roster::store::conformance`), one line
//! per backend: redb on a file, redb in memory, the model backend, and the
//! model backend running every write twice (as a retrying backend may).

use roster::store::{ModelBackend, conformance, redb_file, redb_in_memory};
use std::sync::Arc;

#[test]
fn redb_on_a_file() {
    let dir = tempfile::tempdir().expect("dir");
    let n = std::sync::atomic::AtomicU32::new(0);
    conformance::run(&|| {
        let k = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        redb_file(&dir.path().join(format!("{k}.redb"))).expect("open")
    });
}

#[test]
fn redb_in_memory_only() {
    conformance::run(&|| redb_in_memory().expect("open"));
}

#[test]
fn the_model() {
    conformance::run(&|| Arc::new(ModelBackend::new()));
}

#[test]
fn the_model_retrying_every_write() {
    conformance::run(&|| Arc::new(ModelBackend::retrying()));
}

/// The custom field definitions are kept decoded between transactions
/// (every user view reads them): a change, a failed change, and a change
/// through another institute on the same backend are seen at once, on each
/// backend that keeps them.
#[test]
fn kept_custom_field_definitions_follow_every_change() {
    use roster::{
        Config, CreateOptions, CustomFieldInput, CustomInput, Institute, NewUser, ProfileInput,
    };
    let dir = tempfile::tempdir().expect("dir");
    let backends: Vec<Arc<dyn roster::Backend>> = vec![
        Arc::new(ModelBackend::new()),
        redb_file(&dir.path().join("kept.redb")).expect("open"),
        redb_in_memory().expect("open"),
    ];
    for backend in backends {
        let one = Institute::open_with(backend.clone(), Config::default()).expect("one");
        let two = Institute::open_with(backend, Config::default()).expect("two");
        let (a, b) = (one.operator(), two.operator());
        let field = |name: &str| CustomFieldInput {
            name: Some(name.into()),
            kind: Some("text".into()),
            choices: None,
            required: Some(false),
        };
        let id = a.create_custom_field(field("Stream")).expect("field").id;
        let user = a
            .create_user(
                NewUser {
                    username: Some("ravi".into()),
                    password: Some("a long pass phrase 42".into()),
                    profile: ProfileInput {
                        email: Some("ravi@example.com".into()),
                        custom_fields: vec![("Stream".into(), CustomInput::Text("Arts".into()))],
                        ..Default::default()
                    },
                    ..Default::default()
                },
                CreateOptions::default(),
            )
            .expect("user")
            .user
            .id;
        let names = |admin: &roster::Admin| -> Vec<String> {
            let view = admin.get_user(user).expect("view");
            view.custom_fields.into_iter().map(|(n, _)| n).collect()
        };
        // Read twice: the second read may come from what the first kept.
        assert_eq!(names(&a), ["Stream"]);
        assert_eq!(names(&a), ["Stream"]);
        a.update_custom_field(id, field("Branch")).expect("rename");
        assert_eq!(names(&a), ["Branch"]);
        assert_eq!(names(&b), ["Branch"]);
        // A refused change (the name is taken) changes nothing kept.
        let other = a.create_custom_field(field("Other")).expect("other").id;
        assert!(a.update_custom_field(other, field("branch")).is_err());
        assert_eq!(names(&a), ["Branch"]);
        // A change through the other institute is seen by the first.
        assert_eq!(names(&a), ["Branch"]);
        b.update_custom_field(id, field("Track")).expect("rename");
        assert_eq!(names(&a), ["Track"]);
    }
}

/// A write stopped at any of its operations and run again (what a
/// serialization failure does on a server) answers as one run does: an
/// update refused for a taken email names it once, whichever operation
/// stopped the first run, and one accepted changes the user once.
#[test]
fn a_write_stopped_anywhere_and_run_again_answers_as_one_run() {
    use roster::store::INTERRUPT_CYCLE;
    use serde_json::json;
    let (config, _) = roster_tests::config(roster_tests::SEED_NOW);
    let i = roster::Institute::open_with(Arc::new(ModelBackend::interrupting()), config)
        .expect("model store");
    let users = "/api/v2.5/admin/users/";
    let mut ids = Vec::new();
    for name in ["asha", "bala"] {
        let body = json!({"username": name, "password": "Pass@1word", "email": format!("{name}@example.com")});
        let r = roster_tests::call(&i, "POST", users, Some(body));
        assert_eq!(r.status, 201, "{:?}", r.body);
        ids.push(r.json()["id"].as_u64().expect("an id"));
    }
    let bala = format!("{users}{}/", ids[1]);
    // A signed-in administrator: the update reads its permissions after
    // the rules that need the store.
    i.create_superuser("root", "R00t-Pass!word")
        .expect("superuser");
    let token = i.login("root", "R00t-Pass!word").expect("sign-in").token;
    // Every stop point in turn: each write stops at the next operation.
    for n in 0..INTERRUPT_CYCLE {
        let taken = json!({"email": "ASHA@example.com", "first_name": format!("B{n}")});
        let r = roster_tests::call_as(&i, &token, "PATCH", &bala, Some(taken));
        assert_eq!(r.status, 400, "{:?}", r.body);
        assert_eq!(
            r.json()["email"].as_array().map(Vec::len),
            Some(1),
            "{:?}",
            r.body
        );
    }
    for _ in 0..INTERRUPT_CYCLE {
        let both = json!({"email": "ASHA@example.com", "password": "x"});
        let r = roster_tests::call_as(&i, &token, "PATCH", &bala, Some(both));
        assert_eq!(r.status, 400, "{:?}", r.body);
        let v = r.json();
        assert_eq!(v["email"].as_array().map(Vec::len), Some(1), "{v}");
        assert!(
            v["password"].as_array().is_some_and(|m| !m.is_empty()),
            "{v}"
        );
    }
    for n in 0..INTERRUPT_CYCLE {
        let fine = json!({"first_name": format!("Bala {n}")});
        let r = roster_tests::call_as(&i, &token, "PATCH", &bala, Some(fine));
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.json()["first_name"], format!("Bala {n}"));
    }
    assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
}

/// A write stopped mid-way, while another process frees the email it
/// found taken, runs again on what is committed then: it answers from the
/// second run alone. (The user update kept the first run's field errors,
/// and its second run, finding the email's error there, did not look
/// again: a spurious 400.) Every stop point of the update in turn.
#[test]
fn a_write_run_again_judges_the_store_as_it_is_then() {
    use roster::{ProfileInput, UserPatch};
    let (config, _) = roster_tests::config(roster_tests::SEED_NOW);
    let model = Arc::new(ModelBackend::new());
    let one = roster::Institute::open_with(model.clone(), config.clone()).expect("one");
    let other = roster::Institute::open_with(model.clone(), config).expect("other");
    let email = |e: &str| UserPatch {
        profile: ProfileInput {
            email: Some(e.into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut ids = Vec::new();
    for name in ["asha", "bala"] {
        let user = roster::NewUser {
            username: Some(name.into()),
            password: Some("Pass@1word".into()),
            profile: ProfileInput {
                email: Some(format!("{name}@example.com")),
                ..Default::default()
            },
            ..Default::default()
        };
        ids.push(
            one.operator()
                .create_user(user, Default::default())
                .unwrap()
                .user
                .id,
        );
    }
    let (asha, bala) = (ids[0], ids[1]);
    // A signed-in administrator: the update reads its permissions after
    // the rules that need the store (the operator's need no read).
    one.create_superuser("root", "R00t-Pass!word").unwrap();
    let token = one.login("root", "R00t-Pass!word").unwrap().token;
    let root = one.session(&token).unwrap();
    let mut freed = 0;
    for at in 0..40 {
        other
            .operator()
            .update_user(bala, email("bala@example.com"))
            .unwrap();
        other
            .operator()
            .update_user(asha, email("asha@example.com"))
            .unwrap();
        let frees = other.clone();
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let between = ran.clone();
        model.stop_next_write(at, move || {
            frees
                .operator()
                .update_user(asha, email("asha2@example.com"))
                .unwrap();
            between.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        let took = root.update_user(bala, email("asha@example.com"));
        if ran.load(std::sync::atomic::Ordering::SeqCst) {
            // Run again after the email was freed: taken by bala now.
            freed += 1;
            assert!(took.is_ok(), "stopped at operation {at}: {took:?}");
            assert_eq!(
                one.operator().get_user(bala).unwrap().email,
                "asha@example.com"
            );
        } else {
            // A first run that answered of itself (the stop fell on an
            // operation whose failure it did not need): the answer of a
            // snapshot in which asha held the email.
            let e = took.unwrap_err();
            assert_eq!(
                e.fields().messages("email"),
                ["A user with that email already exists."]
            );
            other
                .operator()
                .update_user(asha, email("asha2@example.com"))
                .unwrap();
        }
    }
    assert!(freed >= 5, "{freed} of 40 runs were stopped and run again");
    assert_eq!(one.check_integrity().unwrap(), Vec::<String>::new());
}

/// The same, for the other writes that judge names against the store: a
/// create whose username, a batch rename whose name, and a Sunbird create
/// whose email another process frees while the first run is stopped, at
/// every stop point in turn, answers from the store as it is then.
#[test]
fn creates_and_renames_run_again_judge_the_store_as_it_is_then() {
    use roster::{BatchInput, NewUser, UserPatch};
    let (config, _) = roster_tests::config(roster_tests::SEED_NOW);
    let model = Arc::new(ModelBackend::new());
    let one = roster::Institute::open_with(model.clone(), config.clone()).expect("one");
    let other = roster::Institute::open_with(model.clone(), config).expect("other");
    one.create_superuser("root", "R00t-Pass!word").unwrap();
    let token = one.login("root", "R00t-Pass!word").unwrap().token;
    let root = one.session(&token).unwrap();
    let holder = other
        .operator()
        .create_user(
            NewUser {
                username: Some("holder".into()),
                password: Some("Pass@1word".into()),
                ..Default::default()
            },
            Default::default(),
        )
        .unwrap()
        .user
        .id;
    let rename = |name: &str| UserPatch {
        username: Some(name.into()),
        ..Default::default()
    };
    let batch = |name: &str| BatchInput {
        name: Some(name.into()),
    };
    let held = other.operator().create_batch(batch("Held")).unwrap().id;
    let mine = root.create_batch(batch("Mine")).unwrap().id;
    let sunbird_holder = other
        .operator()
        .sunbird_create(
            roster::domain::sunbird::SunbirdInput {
                first_name: Some("Holder".into()),
                email: Some("held@example.com".into()),
                ..Default::default()
            },
            roster::domain::sunbird::CreateRoute::Create,
        )
        .unwrap();
    // Arms the next write's stop at `at` with `between`; tells afterwards
    // whether the write was stopped and run again.
    let arm = |at: u64, between: Box<dyn FnOnce() + Send>| {
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = ran.clone();
        model.stop_next_write(at, move || {
            between();
            seen.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        move || ran.load(std::sync::atomic::Ordering::SeqCst)
    };
    let mut stopped = [0; 3];
    for at in 0..40 {
        // A new user named as a user another process renames meanwhile.
        other
            .operator()
            .update_user(holder, rename("wanted"))
            .unwrap();
        let frees = other.clone();
        let ran = arm(
            at,
            Box::new(move || {
                frees
                    .operator()
                    .update_user(holder, rename("holder"))
                    .unwrap();
            }),
        );
        let user = NewUser {
            username: Some("wanted".into()),
            password: Some("Pass@1word".into()),
            ..Default::default()
        };
        match root.create_user(user, Default::default()) {
            Ok(created) => {
                stopped[0] += 1;
                root.delete_user(created.user.id).unwrap();
            }
            Err(e) => {
                assert!(!ran(), "run again after the name was freed, at {at}: {e:?}");
                assert_eq!(e.fields().messages("username").len(), 1, "{at}: {e:?}");
            }
        }
        other
            .operator()
            .update_user(holder, rename("holder"))
            .unwrap();
        // A batch renamed to a name another process gives up meanwhile.
        other
            .operator()
            .update_batch(held, batch("Wanted"))
            .unwrap();
        let frees = other.clone();
        let ran = arm(
            at,
            Box::new(move || {
                frees.operator().update_batch(held, batch("Held")).unwrap();
            }),
        );
        match root.update_batch(mine, batch("Wanted")) {
            Ok(_) => {
                stopped[1] += 1;
                root.update_batch(mine, batch("Mine")).unwrap();
            }
            Err(e) => {
                assert!(!ran(), "run again after the name was freed, at {at}: {e:?}");
                assert_eq!(e.fields().messages("name").len(), 1, "{at}: {e:?}");
            }
        }
        other.operator().update_batch(held, batch("Held")).unwrap();
        // A Sunbird user whose email another process changes meanwhile.
        let frees = other.clone();
        let holder_id = sunbird_holder.clone();
        let ran = arm(
            at,
            Box::new(move || {
                let email = roster::domain::sunbird::SunbirdInput {
                    email: Some("moved@example.com".into()),
                    ..Default::default()
                };
                frees.operator().sunbird_update(&holder_id, email).unwrap();
            }),
        );
        let input = roster::domain::sunbird::SunbirdInput {
            first_name: Some("Taker".into()),
            email: Some("held@example.com".into()),
            ..Default::default()
        };
        match root.sunbird_create(input, roster::domain::sunbird::CreateRoute::Create) {
            Ok(id) => {
                stopped[2] += 1;
                let found = root
                    .sunbird_exists(roster::api::sunbird::IdType::Email, "held@example.com")
                    .unwrap()
                    .map(|f| f.user_id);
                assert_eq!(found.as_deref(), Some(id.as_str()));
                let back = roster::domain::sunbird::SunbirdInput {
                    email: Some(format!("taker{at}@example.com")),
                    ..Default::default()
                };
                root.sunbird_update(&id, back).unwrap();
            }
            Err(e) => {
                assert!(
                    !ran(),
                    "run again after the email was freed, at {at}: {e:?}"
                );
                assert!(e.message().contains("already exists"), "{at}: {e:?}");
            }
        }
        let back = roster::domain::sunbird::SunbirdInput {
            email: Some("held@example.com".into()),
            ..Default::default()
        };
        other
            .operator()
            .sunbird_update(&sunbird_holder, back)
            .unwrap();
    }
    assert!(
        stopped.iter().all(|n| *n >= 5),
        "runs that went through: {stopped:?}"
    );
    assert_eq!(one.check_integrity().unwrap(), Vec::<String>::new());
}
