//! TLS for the connections to the server: rustls (with the `ring`
//! provider) under tokio-postgres through `tokio-postgres-rustls`, and the
//! parameters of the connection string that roster reads itself.
//!
//! The driver parses `sslmode` (`disable`, `prefer`, the default, or
//! `require`; roster makes `prefer` `require` towards another machine,
//! [`effective_mode`]) and asks the server for TLS unless it is `disable`; when TLS
//! is used, the server's certificate must chain to a trusted root and name
//! the host connected to: the public roots (webpki-roots, Mozilla's list)
//! and the certificates of the PEM file `sslrootcert=PATH`, a parameter the
//! driver does not know and roster takes out of the string first.

use postgres::config::{Host, SslMode};
use roster::{Error, ErrorCode, Result};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The parameter naming the file of extra trusted roots.
const ROOT_CERT: &str = "sslrootcert";

/// `text` (a URL or the key-value form) without roster's own parameters,
/// and the value of `sslrootcert` if it was given.
pub(crate) fn take_root_cert(text: &str) -> (String, Option<PathBuf>) {
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        from_url(text)
    } else {
        from_key_values(text)
    }
}

/// `postgres://…?a=1&sslrootcert=/x.pem&b=2`: the query without the pair.
fn from_url(url: &str) -> (String, Option<PathBuf>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None);
    };
    let mut root = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.split_once('=') {
            Some((ROOT_CERT, value)) => {
                root = Some(PathBuf::from(roster::rest::query_decoded(value)));
                false
            }
            _ => true,
        })
        .collect();
    if kept.is_empty() {
        (base.to_string(), root)
    } else {
        (format!("{base}?{}", kept.join("&")), root)
    }
}

/// `host=db sslrootcert='/x.pem' user=roster`: the string without the
/// pair. Values are as libpq writes them: bare, or in single quotes, with
/// `\` escaping the next character. A string that does not parse is given
/// back whole, for the driver to refuse.
fn from_key_values(text: &str) -> (String, Option<PathBuf>) {
    let chars: Vec<char> = text.chars().collect();
    let mut kept = String::new();
    let mut root = None;
    let mut i = 0;
    let skip_space = |i: &mut usize| {
        while chars.get(*i).is_some_and(|c| c.is_whitespace()) {
            *i += 1;
        }
    };
    loop {
        skip_space(&mut i);
        if i >= chars.len() {
            break;
        }
        let start = i;
        while chars
            .get(i)
            .is_some_and(|c| *c != '=' && !c.is_whitespace())
        {
            i += 1;
        }
        let key: String = chars[start..i].iter().collect();
        skip_space(&mut i);
        if chars.get(i) != Some(&'=') {
            return (text.to_string(), None);
        }
        i += 1;
        skip_space(&mut i);
        let mut value = String::new();
        let quoted = chars.get(i) == Some(&'\'');
        if quoted {
            i += 1;
        }
        loop {
            match chars.get(i) {
                None if quoted => return (text.to_string(), None),
                None => break,
                Some('\'') if quoted => {
                    i += 1;
                    break;
                }
                Some(c) if c.is_whitespace() && !quoted => break,
                Some('\\') => {
                    let Some(next) = chars.get(i + 1) else {
                        return (text.to_string(), None);
                    };
                    value.push(*next);
                    i += 2;
                }
                Some(c) => {
                    value.push(*c);
                    i += 1;
                }
            }
        }
        if key == ROOT_CERT {
            root = Some(PathBuf::from(value));
        } else {
            if !kept.is_empty() {
                kept.push(' ');
            }
            kept.extend(&chars[start..i]);
        }
    }
    (kept, root)
}

/// The TLS connector: rustls with the `ring` provider, trusting the public
/// roots and the certificates of `root_cert`.
pub(crate) fn connector(root_cert: Option<&Path>) -> Result<MakeRustlsConnect> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = root_cert {
        let refused = |why: String| {
            Error::new(
                ErrorCode::Validation,
                format!("sslrootcert '{}': {why}", path.display()),
            )
        };
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|_| refused("cannot be read (missing, unreadable or not a file)".into()))?
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| refused("is not a PEM certificate file".into()))?;
        if certs.is_empty() {
            return Err(refused("holds no PEM certificate".into()));
        }
        for cert in certs {
            roots.add(cert).map_err(|_| {
                refused("holds a certificate that is not a usable CA certificate".into())
            })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::storage("setting up TLS", e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// The rustls error under a driver error, when TLS is what failed.
pub(crate) fn tls_failure(e: &postgres::Error) -> Option<&rustls::Error> {
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && let Some(tls) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>())
        {
            return Some(tls);
        }
        source = err.source();
    }
    None
}

/// What a TLS handshake refused, in words that name nothing of the
/// server's (the certificate's names stay out of a public message).
pub(crate) fn refusal(e: &rustls::Error) -> &'static str {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(kind) => match kind {
            C::UnknownIssuer => {
                "its certificate was refused: not signed by a trusted authority \
                 (a public root or sslrootcert's)"
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "its certificate was refused: it does not name the host connected to"
            }
            C::Expired | C::ExpiredContext { .. } => "its certificate was refused: it has expired",
            _ => "its certificate was refused",
        },
        _ => "the handshake was refused",
    }
}

/// The TLS mode a connection uses: the connection string's, except that
/// `prefer` (the driver's default) towards a host other than this machine
/// is `require`. `prefer` goes on in plain TCP when the server declines
/// TLS, and whoever answers in the server's place may decline it and then
/// ask for the password in clear text. Plain TCP to another machine is
/// what `sslmode=disable` asks for, on purpose.
pub(crate) fn effective_mode(config: &postgres::Config) -> SslMode {
    match config.get_ssl_mode() {
        SslMode::Prefer if !only_this_machine(config) => SslMode::Require,
        mode => mode,
    }
}

/// Whether every host of `config` is this machine: `localhost`, a loopback
/// address or a Unix socket (as is every `hostaddr`).
fn only_this_machine(config: &postgres::Config) -> bool {
    let hosts = config.get_hosts().iter().all(|host| match host {
        Host::Tcp(name) => {
            name.eq_ignore_ascii_case("localhost")
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        #[cfg(unix)]
        Host::Unix(_) => true,
    });
    hosts && config.get_hostaddrs().iter().all(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefer_is_require_towards_another_machine() {
        let mode = |text: &str| effective_mode(&text.parse().unwrap());
        // The driver's default, and `prefer` said, towards another host.
        for text in [
            "postgres://roster@db.example.com/roster",
            "postgres://roster@db.example.com/roster?sslmode=prefer",
            "postgres://roster@10.0.0.5:5432/roster",
            "postgres://roster@[2001:db8::1]/roster",
            "host=db.example.com user=roster",
            // One host of several elsewhere is enough.
            "host=localhost,db.example.com user=roster",
            // A loopback name given an address elsewhere.
            "host=localhost hostaddr=10.0.0.5 user=roster",
        ] {
            assert_eq!(mode(text), SslMode::Require, "{text}");
        }
        // This machine: as asked.
        for text in [
            "postgres://roster@localhost/roster",
            "postgres://roster@127.0.0.1:5433/roster",
            "postgres://roster@[::1]/roster",
            "host=/var/run/postgresql user=roster",
            "host=LocalHost hostaddr=127.0.0.1 user=roster",
        ] {
            assert_eq!(mode(text), SslMode::Prefer, "{text}");
        }
        // Said explicitly: kept.
        for (text, want) in [
            (
                "postgres://roster@db.example.com/roster?sslmode=disable",
                SslMode::Disable,
            ),
            (
                "postgres://roster@db.example.com/roster?sslmode=require",
                SslMode::Require,
            ),
            (
                "postgres://roster@127.0.0.1/roster?sslmode=require",
                SslMode::Require,
            ),
        ] {
            assert_eq!(mode(text), want, "{text}");
        }
    }

    #[test]
    fn sslrootcert_is_taken_out_of_a_url() {
        let t = |s: &str| take_root_cert(s);
        assert_eq!(
            t("postgres://u:p@h/db?sslmode=require&sslrootcert=%2Ftmp%2Fca.pem&connect_timeout=2"),
            (
                "postgres://u:p@h/db?sslmode=require&connect_timeout=2".into(),
                Some("/tmp/ca.pem".into())
            )
        );
        assert_eq!(
            t("postgresql://h/db?sslrootcert=/a b.pem"),
            ("postgresql://h/db".into(), Some("/a b.pem".into()))
        );
        assert_eq!(
            t("postgres://h/db?sslmode=disable"),
            ("postgres://h/db?sslmode=disable".into(), None)
        );
        assert_eq!(t("postgres://h/db"), ("postgres://h/db".into(), None));
    }

    #[test]
    fn sslrootcert_is_taken_out_of_key_values() {
        let t = |s: &str| take_root_cert(s);
        assert_eq!(
            t("host=h sslrootcert = '/x y/ca.pem' password='a b\\'c' sslmode=require"),
            (
                "host=h password='a b\\'c' sslmode=require".into(),
                Some("/x y/ca.pem".into())
            )
        );
        assert_eq!(
            t("host=h sslrootcert=/ca.pem"),
            ("host=h".into(), Some("/ca.pem".into()))
        );
        // Not the key-value form: given back whole, for the driver to refuse.
        assert_eq!(t("host=h oops"), ("host=h oops".into(), None));
    }

    #[test]
    fn a_missing_root_file_is_a_clear_error() {
        let Err(e) = connector(Some(Path::new("/nonexistent/ca.pem"))) else {
            panic!("a missing file is refused")
        };
        assert_eq!(e.code(), ErrorCode::Validation);
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
        // Said in roster's words, not the operating system's or a library's.
        assert!(!e.to_string().contains("No such file"), "{e}");
        assert!(e.to_string().contains("cannot be read"), "{e}");
    }
}
