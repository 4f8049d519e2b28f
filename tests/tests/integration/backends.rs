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
