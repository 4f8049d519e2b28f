//! roster's integration tests: one binary, one module per topic.

mod integration {
    mod bad_input;
    mod behaviour;
    mod conformance;
    mod properties;
    mod schema;
    mod transfer;
}
