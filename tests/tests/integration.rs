//! roster's integration tests: one binary, one module per topic.

mod integration {
    mod auth;
    mod backends;
    mod bad_input;
    mod behaviour;
    mod bitflip;
    mod changes;
    mod conformance;
    mod corruption;
    mod damaged_rows;
    mod django;
    mod django_hashers;
    mod escalation;
    mod faults;
    mod fixtures;
    mod hostile;
    mod journal;
    mod model;
    mod nfkc;
    mod properties;
    mod schema;
    mod sunbird;
    mod sunbird_access;
    mod sunbird_rules;
    mod transfer;
}
