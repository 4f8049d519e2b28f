//! TLS to the server: a private server with `ssl=on` and a certificate
//! signed by a certificate authority made for the test (rcgen). With
//! `sslmode=require&sslrootcert=<that CA>` the session is encrypted (the
//! server says so in `pg_stat_ssl`); with another CA the connection fails
//! with an error that says the certificate was refused and holds no
//! password; `sslmode=disable` talks in plain text, and `require` against a
//! server without TLS fails.
//!
//! Needs PostgreSQL's server binaries, as `private_server.rs` says.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use roster::ErrorCode;
use roster_postgres::testing::{PrivateServer, uses_tls};
use roster_postgres::{Options, PgBackend};
use std::path::{Path, PathBuf};

const SECRET: &str = "n0t-Shown-Anywhere";

/// A certificate authority: its PEM certificate and its issuer.
fn authority(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// A server certificate for 127.0.0.1 signed by `ca`: (certificate PEM,
/// key PEM).
fn server_certificate(ca: &CertifiedIssuer<'static, KeyPair>) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "roster test server");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, ca).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// `pem` in a file of the test's own.
fn pem_file(dir: &Path, name: &str, pem: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, pem).unwrap();
    path
}

fn url(server: &PrivateServer, query: &str) -> String {
    format!(
        "postgres://roster:{SECRET}@127.0.0.1:{}/postgres?{query}",
        server.port()
    )
}

#[test]
fn the_session_is_encrypted_and_a_wrong_authority_is_refused() {
    let ca = authority("roster test CA");
    let (cert, key) = server_certificate(&ca);
    let Some(server) = PrivateServer::start_with(
        &[
            ("server.crt", cert.as_bytes()),
            ("server.key", key.as_bytes()),
        ],
        &[
            ("ssl", "on"),
            ("ssl_cert_file", "server.crt"),
            ("ssl_key_file", "server.key"),
        ],
    ) else {
        return;
    };
    let files = std::env::temp_dir().join(roster_postgres::testing::unique_name("roster-tls-"));
    std::fs::create_dir(&files).unwrap();
    let right = pem_file(&files, "ca.pem", &ca.pem());
    let wrong = pem_file(&files, "other-ca.pem", &authority("another CA").pem());

    // sslmode=require, the CA in sslrootcert (percent-encoded as a URL
    // value may be): an encrypted session, an institute that works.
    let encoded = right.display().to_string().replace('/', "%2F");
    let backend = PgBackend::connect(
        &url(&server, &format!("sslmode=require&sslrootcert={encoded}")),
        Options::default(),
    )
    .expect("a TLS connection with the right CA");
    assert!(uses_tls(&backend), "the session is encrypted");
    let institute = roster::Institute::open_with(std::sync::Arc::new(backend), Default::default())
        .expect("an institute over TLS");
    institute
        .create_superuser("root", "a-long-passphrase")
        .unwrap();
    assert_eq!(institute.check_integrity().unwrap(), Vec::<String>::new());

    // The default mode (prefer) uses TLS when the server offers it.
    let backend = PgBackend::connect(
        &url(&server, &format!("sslrootcert={}", right.display())),
        Options::default(),
    )
    .unwrap();
    assert!(uses_tls(&backend), "prefer: TLS when offered");

    // sslmode=disable: plain text, on the same server.
    let backend = PgBackend::connect(&url(&server, "sslmode=disable"), Options::default()).unwrap();
    assert!(!uses_tls(&backend), "disable: no TLS");

    // Another CA, or none but the public roots: refused, in words that say
    // why, without the password.
    for query in [
        format!("sslmode=require&sslrootcert={}", wrong.display()),
        "sslmode=require".to_string(),
        "sslmode=prefer".to_string(),
    ] {
        let err = PgBackend::connect(&url(&server, &query), Options::default()).unwrap_err();
        let text = format!("{err} {err:?}");
        assert_eq!(err.code(), ErrorCode::Storage, "{query}: {text}");
        assert!(
            err.to_string().contains("TLS handshake") && err.to_string().contains("certificate"),
            "{query}: {err}"
        );
        assert!(!text.contains(SECRET), "{query}: {text}");
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            assert!(!s.to_string().contains(SECRET), "{query}: {s}");
            source = s.source();
        }
    }

    // A root file that is not there: said, before any connection.
    let err = PgBackend::connect(
        &url(&server, "sslmode=require&sslrootcert=/nonexistent/ca.pem"),
        Options::default(),
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Validation, "{err}");
    assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    assert!(!format!("{err:?}").contains(SECRET));
    std::fs::remove_dir_all(&files).unwrap();
}

#[test]
fn require_fails_on_a_server_without_tls() {
    let Some(server) = PrivateServer::start() else {
        return;
    };
    let err = PgBackend::connect(&url(&server, "sslmode=require"), Options::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Storage, "{err}");
    assert!(err.to_string().contains("does not offer TLS"), "{err}");
    assert!(err.to_string().contains("sslmode=disable"), "{err}");
    assert!(!format!("{err} {err:?}").contains(SECRET), "{err:?}");
    // prefer (the default) falls back to plain text there.
    let backend = PgBackend::connect(&url(&server, "sslmode=prefer"), Options::default()).unwrap();
    assert!(!uses_tls(&backend));
}
