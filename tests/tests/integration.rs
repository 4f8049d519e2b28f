//! roster's integration tests: one binary, one module per topic.

mod integration {
    mod auth;
    mod bad_input;
    mod behaviour;
    mod conformance;
    mod django;
    mod django_hashers;
    mod faults;
    mod nfkc;
    mod properties;
    mod schema;
    mod transfer;
}
