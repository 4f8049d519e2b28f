//! Django password hashes (SPEC A4): users imported from a Django system keep
//! their password until they next sign in, when roster replaces the hash with
//! its own argon2id one.
//!
//! Accepted formats, exactly as Django writes them:
//!
//! - `pbkdf2_sha256$<iterations>$<salt>$<key>`: PBKDF2-HMAC-SHA256 over the
//!   password's UTF-8 bytes with the salt text's UTF-8 bytes as salt; `<key>`
//!   is the 32-byte derived key in standard base64 with padding.
//! - `pbkdf2_sha1$<iterations>$<salt>$<key>`: the same with HMAC-SHA1 and a
//!   20-byte key.
//! - `argon2$<PHC string without its leading $>`: Django's argon2 hasher, e.g.
//!   `argon2$argon2id$v=19$m=102400,t=2,p=8$<salt>$<hash>`. The variants
//!   `argon2id` and `argon2i` (older Django) are accepted, with version 19
//!   (`v=19`) or 16 (`v=16`); a string without `v=` is version 16, as in the
//!   argon2 reference implementation and argon2-cffi, which Django uses. Only
//!   the `m`, `t` and `p` parameters are accepted (Django writes no others).
//! - `!` followed by anything: Django's unusable password. It parses, and no
//!   password ever matches it.
//!
//! Everything else (`md5$`, `sha1$`, `bcrypt_sha256$`, `scrypt$`, bare hex, …)
//! is refused with a reason. Costs are capped at parse time so that an import
//! cannot make sign-in arbitrarily expensive: PBKDF2 at most
//! [`PBKDF2_MAX_ITERATIONS`], argon2 at most [`ARGON2_MAX_M_KIB`] KiB of memory
//! and [`ARGON2_MAX_T`] passes. [`verify`] checks the caps again.
#![allow(
    dead_code,
    reason = "sign-in and import call these from Step 2's core, landing next"
)]

use argon2::password_hash::PasswordVerifier;
use argon2::{Algorithm, Argon2, Params, PasswordHash, Version};
use base64ct::{Base64, Encoding};
use subtle::ConstantTimeEq;

/// A stored password hash of another system, checked within the cost caps.
///
/// Built by [`parse`]; the fields of a parsed value are within the caps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LegacyHash {
    /// Django's `pbkdf2_sha256`.
    Pbkdf2Sha256 {
        /// PBKDF2 iteration count, 1 ..= [`PBKDF2_MAX_ITERATIONS`].
        iterations: u32,
        /// The salt text (its UTF-8 bytes are the PBKDF2 salt).
        salt: String,
        /// The derived key.
        key: [u8; 32],
    },
    /// Django's `pbkdf2_sha1`.
    Pbkdf2Sha1 {
        /// PBKDF2 iteration count, 1 ..= [`PBKDF2_MAX_ITERATIONS`].
        iterations: u32,
        /// The salt text (its UTF-8 bytes are the PBKDF2 salt).
        salt: String,
        /// The derived key.
        key: [u8; 20],
    },
    /// Django's `argon2`: the PHC string after Django's `argon2` prefix,
    /// normalised so that the version is always explicit (`v=16` when the
    /// original had none).
    Argon2 {
        /// A PHC string such as `$argon2id$v=19$m=65536,t=2,p=1$…$…`.
        phc: String,
    },
    /// Django's unusable password (`!…`): never matches.
    Unusable,
}

/// Cost caps (SPEC A4): an import cannot make sign-in arbitrarily expensive.
pub(crate) const PBKDF2_MAX_ITERATIONS: u32 = 2_000_000;
/// The largest argon2 memory cost accepted, in KiB (256 MiB).
pub(crate) const ARGON2_MAX_M_KIB: u32 = 256 * 1024;
/// The largest argon2 time cost (passes) accepted.
pub(crate) const ARGON2_MAX_T: u32 = 10;

const PBKDF2_SHA256: &str = "pbkdf2_sha256";
const PBKDF2_SHA1: &str = "pbkdf2_sha1";
const ARGON2: &str = "argon2";

/// Whether `encoded` looks like a Django hash this module handles (prefix check
/// only), so callers can tell legacy hashes from roster's own `$argon2id$` PHC
/// strings.
pub(crate) fn is_legacy(encoded: &str) -> bool {
    encoded.starts_with('!')
        || [PBKDF2_SHA256, PBKDF2_SHA1, ARGON2]
            .iter()
            .any(|algorithm| {
                encoded
                    .strip_prefix(algorithm)
                    .is_some_and(|rest| rest.starts_with('$'))
            })
}

/// Parses a Django-encoded hash; Err(reason) for a malformed hash, an unknown
/// algorithm, or a cost above the caps (the reason is a short human sentence
/// for an import report, e.g. "pbkdf2 iterations 5000000 exceed the cap of
/// 2000000"). The reason never quotes the salt or the key.
pub(crate) fn parse(encoded: &str) -> Result<LegacyHash, String> {
    if encoded.starts_with('!') {
        return Ok(LegacyHash::Unusable);
    }
    if encoded.is_empty() {
        return Err("the password hash is empty".to_owned());
    }
    let Some((algorithm, rest)) = encoded.split_once('$') else {
        return Err("the password hash is not in Django's algorithm$… format".to_owned());
    };
    match algorithm {
        PBKDF2_SHA256 => {
            let (iterations, salt, key) = parse_pbkdf2(PBKDF2_SHA256, rest)?;
            Ok(LegacyHash::Pbkdf2Sha256 {
                iterations,
                salt,
                key,
            })
        }
        PBKDF2_SHA1 => {
            let (iterations, salt, key) = parse_pbkdf2(PBKDF2_SHA1, rest)?;
            Ok(LegacyHash::Pbkdf2Sha1 {
                iterations,
                salt,
                key,
            })
        }
        ARGON2 => {
            let phc = format!("${rest}");
            let hash = parse_argon2(&phc)?;
            Ok(LegacyHash::Argon2 {
                phc: hash.to_string(),
            })
        }
        "" => Err("the password hash has no algorithm name".to_owned()),
        other => Err(format!(
            "unsupported password hash algorithm {}",
            describe_algorithm(other)
        )),
    }
}

/// Whether the key `derive` writes equals `key`, compared in constant time;
/// false without deriving when `iterations` is over the cap.
fn pbkdf2_matches(iterations: u32, key: &[u8], derive: impl FnOnce(&mut [u8])) -> bool {
    if !iterations_within_cap(iterations) {
        return false;
    }
    let mut derived = vec![0u8; key.len()];
    derive(&mut derived);
    derived.ct_eq(key).into()
}

/// Whether `password` matches. Constant-time comparison of the derived key
/// (PBKDF2: `subtle::ConstantTimeEq`; argon2: the `password-hash` crate's
/// constant-time `Output` comparison). Unusable hashes never match, nor do
/// hashes over the caps (which [`parse`] never produces).
pub(crate) fn verify(password: &str, hash: &LegacyHash) -> bool {
    match hash {
        LegacyHash::Pbkdf2Sha256 {
            iterations,
            salt,
            key,
        } => pbkdf2_matches(*iterations, key, |out| {
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
                password.as_bytes(),
                salt.as_bytes(),
                *iterations,
                out,
            )
        }),
        LegacyHash::Pbkdf2Sha1 {
            iterations,
            salt,
            key,
        } => pbkdf2_matches(*iterations, key, |out| {
            pbkdf2::pbkdf2_hmac::<sha1::Sha1>(
                password.as_bytes(),
                salt.as_bytes(),
                *iterations,
                out,
            )
        }),
        LegacyHash::Argon2 { phc } => match parse_argon2(phc) {
            // The verifier takes algorithm, version and parameters from the
            // hash itself, now known to be within the caps.
            Ok(parsed) => Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        },
        LegacyHash::Unusable => false,
    }
}

fn iterations_within_cap(iterations: u32) -> bool {
    (1..=PBKDF2_MAX_ITERATIONS).contains(&iterations)
}

/// The algorithm name for a reason: quoted when it is a short plain word,
/// otherwise not repeated (it could be anything, of any length).
fn describe_algorithm(name: &str) -> String {
    let plain = name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if plain {
        format!("\"{name}\"")
    } else {
        "(unrecognised name)".to_owned()
    }
}

/// `<iterations>$<salt>$<base64 key>` of a Django PBKDF2 hash.
fn parse_pbkdf2<const N: usize>(
    algorithm: &str,
    rest: &str,
) -> Result<(u32, String, [u8; N]), String> {
    let parts: Vec<&str> = rest.split('$').collect();
    let [iterations, salt, key] = parts[..] else {
        return Err(format!(
            "a {algorithm} hash has 4 $-separated parts, this one has {}",
            parts.len() + 1
        ));
    };
    let iterations = parse_iterations(algorithm, iterations)?;
    if salt.is_empty() {
        return Err(format!("the {algorithm} salt is empty"));
    }
    let key = decode_key::<N>(algorithm, key)?;
    Ok((iterations, salt.to_owned(), key))
}

fn parse_iterations(algorithm: &str, text: &str) -> Result<u32, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "the {algorithm} iteration count is not a whole number"
        ));
    }
    let digits = text.trim_start_matches('0');
    if digits.is_empty() {
        return Err(format!("the {algorithm} iteration count is zero"));
    }
    let too_many = || {
        let shown = if digits.len() <= 20 {
            digits.to_owned()
        } else {
            format!("with {} digits", digits.len())
        };
        format!("pbkdf2 iterations {shown} exceed the cap of {PBKDF2_MAX_ITERATIONS}")
    };
    // More than 10 digits cannot fit a u32, and is far above the cap anyway.
    let iterations: u32 = digits.parse().map_err(|_| too_many())?;
    if iterations > PBKDF2_MAX_ITERATIONS {
        return Err(too_many());
    }
    Ok(iterations)
}

/// The derived key: standard base64 with padding, exactly `N` bytes.
fn decode_key<const N: usize>(algorithm: &str, text: &str) -> Result<[u8; N], String> {
    if text.len() != Base64::encoded_len(&[0u8; N]) {
        return Err(format!(
            "the {algorithm} derived key is not the base64 of {N} bytes"
        ));
    }
    let mut key = [0u8; N];
    match Base64::decode(text, &mut key) {
        Ok(decoded) if decoded.len() == N => Ok(key),
        Ok(_) => Err(format!(
            "the {algorithm} derived key is not the base64 of {N} bytes"
        )),
        Err(_) => Err(format!("the {algorithm} derived key is not valid base64")),
    }
}

/// Parses and checks a PHC argon2 string: variant, version, parameters and
/// caps. The result always carries an explicit version.
fn parse_argon2(phc: &str) -> Result<PasswordHash, String> {
    let mut hash =
        PasswordHash::new(phc).map_err(|e| format!("the argon2 hash is malformed ({e})"))?;
    let variant = hash.algorithm.as_str();
    match variant.parse::<Algorithm>() {
        Ok(Algorithm::Argon2id | Algorithm::Argon2i) => {}
        _ => {
            return Err(format!(
                "the argon2 variant {} is not supported (argon2id and argon2i are)",
                describe_algorithm(variant)
            ));
        }
    }
    let version = match hash.version {
        // No `v=`: the argon2 reference implementation (and so argon2-cffi,
        // which wrote Django's oldest argon2 hashes) reads version 0x10.
        None => Version::V0x10,
        Some(v) => Version::try_from(v)
            .map_err(|_| format!("the argon2 version {v} is not supported (16 and 19 are)"))?,
    };
    hash.version = Some(version.into());
    for (name, _) in hash.params.iter() {
        if !matches!(name.as_str(), "m" | "t" | "p") {
            return Err(format!(
                "the argon2 parameter {} is not supported (m, t and p are)",
                describe_algorithm(name.as_str())
            ));
        }
    }
    let params =
        Params::try_from(&hash).map_err(|e| format!("the argon2 parameters are invalid ({e})"))?;
    if params.m_cost() > ARGON2_MAX_M_KIB {
        return Err(format!(
            "argon2 memory {} KiB exceeds the cap of {ARGON2_MAX_M_KIB} KiB",
            params.m_cost()
        ));
    }
    if params.t_cost() > ARGON2_MAX_T {
        return Err(format!(
            "argon2 time cost {} exceeds the cap of {ARGON2_MAX_T}",
            params.t_cost()
        ));
    }
    if hash.salt.is_none() || hash.hash.is_none() {
        return Err("the argon2 hash lacks its salt or its hash".to_owned());
    }
    Ok(hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::CustomizedPasswordHasher;

    fn django_pbkdf2_sha256(password: &str, salt: &str, iterations: u32) -> String {
        let mut key = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
            password.as_bytes(),
            salt.as_bytes(),
            iterations,
            &mut key,
        );
        format!(
            "pbkdf2_sha256${iterations}${salt}${}",
            Base64::encode_string(&key)
        )
    }

    fn check(encoded: &str, right: &str, wrong: &str) {
        let hash = parse(encoded).unwrap_or_else(|e| panic!("{encoded}: {e}"));
        assert!(verify(right, &hash), "{encoded} should match {right:?}");
        assert!(
            !verify(wrong, &hash),
            "{encoded} should not match {wrong:?}"
        );
    }

    fn refused(encoded: &str) -> String {
        match parse(encoded) {
            Ok(hash) => panic!("{encoded:?} parsed as {hash:?}"),
            Err(reason) => reason,
        }
    }

    #[test]
    fn pbkdf2_sha256_in_the_documented_format_verifies() {
        let encoded = django_pbkdf2_sha256("welcome", "zaz1v370q51a", 12000);
        assert!(encoded.starts_with("pbkdf2_sha256$12000$zaz1v370q51a$"));
        assert!(encoded.ends_with('='), "standard base64 with padding");
        check(&encoded, "welcome", "Welcome");
        let parsed = parse(&encoded).unwrap();
        let LegacyHash::Pbkdf2Sha256 {
            iterations, salt, ..
        } = &parsed
        else {
            panic!("{parsed:?}");
        };
        assert_eq!((*iterations, salt.as_str()), (12000, "zaz1v370q51a"));
    }

    #[test]
    fn pbkdf2_sha256_published_vectors() {
        // RFC 7914 §11, first 32 bytes of the 64-byte outputs.
        check(
            "pbkdf2_sha256$1$salt$VawEblbjCJ/sFpHCJUS2BflBhSFt3gRl5oudV8INrLw=",
            "passwd",
            "passwe",
        );
        check(
            "pbkdf2_sha256$80000$NaCl$TdzY9guYviGDDO5e8icB+WQaRBjQTAQUrv8Ih2s0q1Y=",
            "Password",
            "password",
        );
        // The widely published PBKDF2-HMAC-SHA256 vectors ("password", "salt").
        check(
            "pbkdf2_sha256$1$salt$Eg+2z/z4syxD5yJSVsT4N6hlSMkszDVICAWYfLcL4Xs=",
            "password",
            "passwort",
        );
        check(
            "pbkdf2_sha256$4096$salt$xeR41ZKIyEGqUw22hFxMjZYok6ABzk4RpJY4c6qYE0o=",
            "password",
            "",
        );
        // Django's own test suite (1.4 and 1.5+), the latter with a non-ASCII
        // password.
        check(
            "pbkdf2_sha256$10000$seasalt$FQCNpiZpTb0zub+HBsH6TOwyRxJ19FwvjbweatNmK/Y=",
            "letmein",
            "letmeinz",
        );
        check(
            "pbkdf2_sha256$10000$seasalt$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY=",
            "lètmein",
            "letmein",
        );
    }

    #[test]
    fn real_world_examples_parse() {
        for encoded in [
            "pbkdf2_sha256$12000$zaz1v370q51a$ipNrjQCWNOAmdFsHWPHHZ1i1+5hxF5LxHZ+VfFZ9mrM=",
            "pbkdf2_sha256$120000$vkzUnKJwwaNl$95nqgBjqZ3/8Plk5soe2SjUPEF5fFNjBDfIapOXCy/Y=",
        ] {
            assert!(is_legacy(encoded));
            let hash = parse(encoded).unwrap();
            assert!(matches!(hash, LegacyHash::Pbkdf2Sha256 { .. }), "{hash:?}");
            assert!(!verify("", &hash));
        }
    }

    #[test]
    fn pbkdf2_sha1_rfc6070_vectors() {
        check(
            "pbkdf2_sha1$1$salt$DGDID5YfDnHzqbUkr2ASBi/gN6Y=",
            "password",
            "Password",
        );
        check(
            "pbkdf2_sha1$2$salt$6mwBTcctb4zNHtkqzh1B8NjeiVc=",
            "password",
            "password ",
        );
        check(
            "pbkdf2_sha1$4096$salt$SwB5AbdlSJq+rUnZJvch0GWkKcE=",
            "password",
            "passwor",
        );
        // Same key, different iteration count: no match.
        let hash = parse("pbkdf2_sha1$3$salt$DGDID5YfDnHzqbUkr2ASBi/gN6Y=").unwrap();
        assert!(!verify("password", &hash));
    }

    #[test]
    fn argon2_hashed_here_with_the_django_prefix_verifies() {
        let params = Params::new(64, 1, 1, None).unwrap();
        let phc = Argon2::default()
            .hash_password_customized(
                b"welcome",
                b"somesaltsomesalt",
                Some("argon2id"),
                Some(0x13),
                params,
            )
            .unwrap()
            .to_string();
        let encoded = format!("argon2{phc}");
        assert!(
            encoded.starts_with("argon2$argon2id$v=19$m=64,t=1,p=1$"),
            "{encoded}"
        );
        assert!(is_legacy(&encoded));
        assert!(!is_legacy(&phc), "roster's own PHC string is not legacy");
        check(&encoded, "welcome", "welcome!");
        assert_eq!(parse(&encoded).unwrap(), LegacyHash::Argon2 { phc });
    }

    #[test]
    fn argon2i_from_djangos_test_suite_verifies() {
        // With a version, and an older one without (version 16 implied).
        check(
            "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q",
            "secret",
            "wrong",
        );
        let old = "argon2$argon2i$m=8,t=1,p=1$c29tZXNhbHQ$gwQOXSNhxiOxPOA0+PY10P9QFO\
                   4NAYysnqRt1GSQLE55m+2GYDt9FEjPMHhP2Cuf0nOEXXMocVrsJAtNSsKyfg";
        check(old, "secret", "wrong");
        let LegacyHash::Argon2 { phc } = parse(old).unwrap() else {
            panic!("not argon2");
        };
        assert!(phc.starts_with("$argon2i$v=16$m=8,t=1,p=1$"), "{phc}");
    }

    #[test]
    fn argon2_costs_above_the_caps_are_refused() {
        let tail = "c29tZXNhbHRzb21lc2FsdA$YC9+jJCrQhs5R6db7LlN8Q";
        let at_caps = format!("argon2$argon2id$v=19$m={ARGON2_MAX_M_KIB},t=10,p=1${tail}");
        assert!(parse(&at_caps).is_ok(), "{:?}", parse(&at_caps));

        let m = ARGON2_MAX_M_KIB + 1;
        let reason = refused(&format!("argon2$argon2id$v=19$m={m},t=2,p=1${tail}"));
        assert!(reason.contains(&m.to_string()), "{reason}");
        assert!(reason.contains("262144"), "{reason}");
        let reason = refused(&format!("argon2$argon2id$v=19$m=1048576,t=1,p=4${tail}"));
        assert!(reason.contains("cap"), "{reason}");

        let reason = refused(&format!("argon2$argon2id$v=19$m=64,t=11,p=1${tail}"));
        assert!(
            reason.contains("11") && reason.contains("cap of 10"),
            "{reason}"
        );

        // verify re-checks: a hand-built value over the cap never matches.
        let over = LegacyHash::Argon2 {
            phc: format!("$argon2id$v=19$m=64,t=11,p=1${tail}"),
        };
        assert!(!verify("secret", &over));
    }

    #[test]
    fn malformed_argon2_is_refused() {
        let tail = "c29tZXNhbHRzb21lc2FsdA$YC9+jJCrQhs5R6db7LlN8Q";
        for encoded in [
            "argon2$".to_owned(),
            "argon2$argon2id".to_owned(),
            "argon2$argon2id$v=19$m=64,t=1,p=1".to_owned(),
            format!("argon2$argon2d$v=19$m=64,t=1,p=1${tail}"),
            format!("argon2$scrypt$v=19$m=64,t=1,p=1${tail}"),
            format!("argon2$argon2id$v=20$m=64,t=1,p=1${tail}"),
            format!("argon2$argon2id$v=19$m=64,t=1,p=1,data=YWJj${tail}"),
            format!("argon2$argon2id$v=19$m=x,t=1,p=1${tail}"),
            format!("argon2$argon2id$v=19$m=64,t=0,p=1${tail}"),
            format!("argon2argon2id$v=19$m=64,t=1,p=1${tail}"),
            "argon2$argon2id$v=19$m=64,t=1,p=1$!!!$YC9+jJCrQhs5R6db7LlN8Q".to_owned(),
        ] {
            refused(&encoded);
        }
    }

    #[test]
    fn pbkdf2_iteration_cap() {
        let key = "Eg+2z/z4syxD5yJSVsT4N6hlSMkszDVICAWYfLcL4Xs=";
        let at_cap = parse(&format!("pbkdf2_sha256$2000000$salt${key}")).unwrap();
        assert!(matches!(
            at_cap,
            LegacyHash::Pbkdf2Sha256 {
                iterations: 2_000_000,
                ..
            }
        ));
        let reason = refused(&format!("pbkdf2_sha256$2000001$salt${key}"));
        assert_eq!(
            reason,
            "pbkdf2 iterations 2000001 exceed the cap of 2000000"
        );
        let reason = refused(&format!("pbkdf2_sha256$5000000$salt${key}"));
        assert_eq!(
            reason,
            "pbkdf2 iterations 5000000 exceed the cap of 2000000"
        );
        let reason =
            refused("pbkdf2_sha1$99999999999999999999999$salt$DGDID5YfDnHzqbUkr2ASBi/gN6Y=");
        assert!(reason.contains("cap of 2000000"), "{reason}");
        let reason = refused(&format!("pbkdf2_sha256$1{}$salt${key}", "0".repeat(100)));
        assert!(
            reason.contains("101 digits") && reason.contains("cap"),
            "{reason}"
        );

        // verify re-checks the cap on hand-built values without running them.
        let over = LegacyHash::Pbkdf2Sha256 {
            iterations: u32::MAX,
            salt: "salt".to_owned(),
            key: [0; 32],
        };
        assert!(!verify("password", &over));
        let zero = LegacyHash::Pbkdf2Sha1 {
            iterations: 0,
            salt: "salt".to_owned(),
            key: [0; 20],
        };
        assert!(!verify("password", &zero));
    }

    #[test]
    fn unusable_passwords_parse_and_never_verify() {
        for encoded in ["!", "!abc", "!zyA5BsWm2ygfC3izkKUtse0N0Y3KwYqeN7A7FcrC"] {
            assert!(is_legacy(encoded));
            let hash = parse(encoded).unwrap();
            assert_eq!(hash, LegacyHash::Unusable);
            for password in ["", "!", "abc", encoded] {
                assert!(!verify(password, &hash));
            }
        }
    }

    #[test]
    fn malformed_pbkdf2_is_refused() {
        let key32 = "Eg+2z/z4syxD5yJSVsT4N6hlSMkszDVICAWYfLcL4Xs=";
        let key20 = "DGDID5YfDnHzqbUkr2ASBi/gN6Y=";
        let cases = [
            (format!("pbkdf2_sha256$0$salt${key32}"), "zero"),
            (format!("pbkdf2_sha256$000$salt${key32}"), "zero"),
            (format!("pbkdf2_sha256$abc$salt${key32}"), "whole number"),
            (format!("pbkdf2_sha256$-5$salt${key32}"), "whole number"),
            (format!("pbkdf2_sha256$+5$salt${key32}"), "whole number"),
            (format!("pbkdf2_sha256$ 5$salt${key32}"), "whole number"),
            (format!("pbkdf2_sha256$$salt${key32}"), "whole number"),
            (format!("pbkdf2_sha256$1$${key32}"), "salt is empty"),
            ("pbkdf2_sha256$1$salt".to_owned(), "4 $-separated parts"),
            (
                format!("pbkdf2_sha256$1$sa$lt${key32}"),
                "4 $-separated parts",
            ),
            (
                format!("pbkdf2_sha256$1$salt${key32}$"),
                "4 $-separated parts",
            ),
            // Wrong key lengths: a SHA-1 key under sha256 and vice versa.
            (format!("pbkdf2_sha256$1$salt${key20}"), "32 bytes"),
            (format!("pbkdf2_sha1$1$salt${key32}"), "20 bytes"),
            ("pbkdf2_sha256$1$salt$".to_owned(), "32 bytes"),
            // Bad base64: wrong alphabet, no padding, misplaced padding.
            (
                "pbkdf2_sha256$1$salt$Eg-2z_z4syxD5yJSVsT4N6hlSMkszDVICAWYfLcL4Xs=".to_owned(),
                "base64",
            ),
            (
                "pbkdf2_sha256$1$salt$Eg+2z/z4syxD5yJSVsT4N6hlSMkszDVICAWYfLcL4Xs".to_owned(),
                "32 bytes",
            ),
            (
                "pbkdf2_sha256$1$salt$Eg+2z/z4syxD5yJSVsT4N6hlSMkszDVICAWYfLcL4X=s".to_owned(),
                "base64",
            ),
            (
                "pbkdf2_sha256$1$salt$Eg+2z/z4syxD5yJSVsT4N6hlSMkszDVICAWYfLc!4Xs=".to_owned(),
                "base64",
            ),
        ];
        for (encoded, expected) in cases {
            let reason = refused(&encoded);
            assert!(reason.contains(expected), "{encoded}: {reason}");
            assert!(
                !reason.contains("salt$"),
                "no hash text in the reason: {reason}"
            );
        }
    }

    #[test]
    fn other_algorithms_are_refused_with_a_reason() {
        let cases = [
            ("", "empty"),
            ("md5$seasalt$3b2a6b2c5e1f4a4c0c0d6f2e9b7c1a11", "\"md5\""),
            (
                "sha1$seasalt$cff36ea83f5706ce9aa7454e63e431fc726b2dc8",
                "\"sha1\"",
            ),
            (
                "bcrypt_sha256$$2b$12$LZSJchsWG/DrBy1erNs4eeYo6tZNlLFQmONdxN9HPesa1EyXVcTXK",
                "\"bcrypt_sha256\"",
            ),
            ("bcrypt$$2b$12$LZSJchsWG/DrBy1erNs4ee", "\"bcrypt\""),
            ("scrypt$16384$salt$8$1$c2FsdA==", "\"scrypt\""),
            ("crypt$$ab1Hv2Lg7ltQo", "\"crypt\""),
            (
                "unsalted_md5$$5f4dcc3b5aa765d61d8327deb882cf99",
                "\"unsalted_md5\"",
            ),
            ("5f4dcc3b5aa765d61d8327deb882cf99", "format"),
            (
                "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$YC9+jJCrQhs5R6db7LlN8Q",
                "no algorithm",
            ),
            (
                "PBKDF2_SHA256$1$salt$Eg+2z/z4syxD5yJSVsT4N6hlSMkszDVICAWYfLcL4Xs=",
                "\"PBKDF2_SHA256\"",
            ),
            ("weird name\u{7}$x", "unrecognised"),
        ];
        for (encoded, expected) in cases {
            let reason = refused(encoded);
            assert!(reason.contains(expected), "{encoded:?}: {reason}");
            assert!(!is_legacy(encoded), "{encoded:?}");
        }
        let long = format!("{}$x", "a".repeat(10_000));
        assert!(refused(&long).len() < 100);
    }

    #[test]
    fn is_legacy_is_a_prefix_check() {
        for yes in [
            "pbkdf2_sha256$",
            "pbkdf2_sha256$garbage",
            "pbkdf2_sha1$1$salt$x",
            "argon2$argon2id$v=19$",
            "!",
            "!x",
        ] {
            assert!(is_legacy(yes), "{yes:?}");
        }
        for no in [
            "",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            "argon2",
            "argon2id$v=19",
            "pbkdf2_sha256",
            "pbkdf2_sha512$1$salt$x",
            "md5$salt$x",
            "bcrypt_sha256$$2b$",
        ] {
            assert!(!is_legacy(no), "{no:?}");
        }
    }
}
