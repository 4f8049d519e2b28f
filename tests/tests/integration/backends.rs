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
