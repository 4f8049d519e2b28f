//! The model-based property test (`roster::model`): random sequences of
//! user, batch, course and group operations applied to a plain model of the rules and to roster on
//! three backends in lockstep must give the same answers. The fuzz target
//! `model` runs the same checker on libFuzzer's inputs.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use roster::model::{
    BATCH_NAMES, BATCH_SEARCHES, EMAILS, GROUP_NAMES, Op, QUERIES, USERNAMES, check,
};

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
        2 => (0..BATCH_NAMES.len()).prop_map(|name| Op::CreateBatch { name }),
        1 => (0..64usize).prop_map(|batch| Op::DeleteBatch { batch }),
        1 => Just(Op::CreateCourse),
        1 => (0..64usize).prop_map(|course| Op::DeleteCourse { course }),
        1 => (0..GROUP_NAMES.len()).prop_map(|name| Op::CreateGroup { name }),
        1 => (0..64usize).prop_map(|group| Op::DeleteGroup { group }),
        2 => (proptest::option::of(0..BATCH_SEARCHES.len()), 1..4u64, 1..4u32)
            .prop_map(|(search, page, per_page)| Op::ListBatches { search, page, per_page }),
        1 => (1..4u64, 1..4u32).prop_map(|(page, per_page)| Op::ListCourses { page, per_page }),
        1 => (1..4u64, 1..4u32).prop_map(|(page, per_page)| Op::ListGroups { page, per_page }),
    ]
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
        let (config, _) = roster_tests::config(roster_tests::SEED_NOW);
        if let Err(why) = check(&ops, &config) {
            return Err(TestCaseError::fail(why));
        }
    }
}

/// The fuzz target's decoding gives valid sequences the checker accepts.
#[test]
fn bytes_decode_to_operations_the_model_and_roster_agree_on() {
    let bytes: Vec<u8> = (0u16..600).map(|n| (n * 37 % 251) as u8).collect();
    let ops = roster::model::ops_from(&bytes);
    assert_eq!(ops.len(), 200);
    let (config, _) = roster_tests::config(roster_tests::SEED_NOW);
    check(&ops, &config).expect("agree");
}
