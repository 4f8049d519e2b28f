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
//! - `bcrypt_sha256$<bcrypt hash>`: Django's `BCryptSHA256PasswordHasher`,
//!   e.g. `bcrypt_sha256$$2b$12$<22 salt characters><31 hash characters>`:
//!   bcrypt (variants `2a`, `2b`, `2y`) over the **lower-case hex** SHA-256
//!   digest of the password's UTF-8 bytes (64 ASCII bytes, so bcrypt's
//!   72-byte truncation never applies).
//! - `scrypt$<n>$<salt>$<r>$<p>$<key>`: Django's `ScryptPasswordHasher`
//!   (`hashlib.scrypt` with the salt text's UTF-8 bytes and a 64-byte key in
//!   standard base64 with padding), e.g. `scrypt$16384$<salt>$8$1$<key>`.
//! - `!` followed by anything: Django's unusable password. It parses, and no
//!   password ever matches it.
//!
//! Everything else (`md5$`, `sha1$`, `crypt$`, bare hex, …) is refused with
//! a reason naming the algorithm. Costs are capped at parse time so that an
//! import cannot make sign-in arbitrarily expensive: PBKDF2 at most
//! [`PBKDF2_MAX_ITERATIONS`], argon2 at most [`ARGON2_MAX_M_KIB`] KiB of memory
//! and [`ARGON2_MAX_T`] passes, bcrypt at most cost [`BCRYPT_MAX_COST`],
//! scrypt at most [`SCRYPT_MAX_BYTES`] for both its memory (128·n·r) and its
//! work (128·n·r·p). [`verify`] checks the caps again. The bcrypt and
//! scrypt caps keep one guess under about a second of one core (see the
//! README's timing table and `examples/legacy_timing.rs`).
//!
//! `bcrypt_sha256` and `scrypt` need the cargo feature `extra-hashers` (on
//! by default; the WebAssembly build leaves it off to stay small). Without
//! it such a hash is still recognised ([`is_legacy`]) but [`parse`] refuses
//! it with a reason saying the hasher is not in this build, so an import
//! rejects the row and a sign-in with it fails; nothing panics.
#![allow(
    dead_code,
    reason = "sign-in and import call these from Step 2's core, landing next"
)]

use argon2::password_hash::PasswordVerifier;
use argon2::{Algorithm, Argon2, Params, PasswordHash, Version};
use base64ct::{Base64, Encoding};
#[cfg(feature = "extra-hashers")]
use sha2::Digest;
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
    /// Django's `bcrypt_sha256`: the bcrypt string after the prefix.
    #[cfg(feature = "extra-hashers")]
    BcryptSha256 {
        /// `$2b$<cost>$<salt><hash>`, 60 ASCII characters, cost within the
        /// cap.
        bcrypt: String,
    },
    /// Django's `scrypt`.
    #[cfg(feature = "extra-hashers")]
    Scrypt {
        /// log2 of the CPU/memory cost n.
        log_n: u8,
        /// Block size r.
        r: u32,
        /// Parallelism p.
        p: u32,
        /// The salt text (its UTF-8 bytes are the salt).
        salt: String,
        /// The derived key.
        key: [u8; 64],
    },
    /// Django's unusable password (`!…`): never matches.
    Unusable,
}

/// Cost caps (SPEC A4): an import cannot make sign-in arbitrarily expensive.
pub(crate) const PBKDF2_MAX_ITERATIONS: u32 = 2_000_000;
// The argon2 caps are the configuration's own (config, below auth/).
pub(crate) use crate::config::{ARGON2_MAX_M_KIB, ARGON2_MAX_T};

/// The largest bcrypt cost (log2 of the rounds) accepted: Django's default
/// is 12 (0.25 s per check on the project's machine); 14 is four times that
/// work, about 1 s, still below the argon2 cap's 2.4 s (measured with
/// `cargo run --release -p roster --example legacy_timing`).
pub(crate) const BCRYPT_MAX_COST: u32 = 14;
/// The largest scrypt cost accepted, in bytes, for both the memory one
/// verification holds (128·n·r) and the work it does (128·n·r·p): 256 MiB,
/// the argon2 memory cap. Django 5.2's default (n = 2^14, r = 8, p = 5) is
/// 16 MiB of memory and 80 MiB of work (0.12 s); at the cap a check takes
/// 0.4-0.7 s.
pub(crate) const SCRYPT_MAX_BYTES: u64 = 256 * 1024 * 1024;

const PBKDF2_SHA256: &str = "pbkdf2_sha256";
const PBKDF2_SHA1: &str = "pbkdf2_sha1";
const ARGON2: &str = "argon2";
const BCRYPT_SHA256: &str = "bcrypt_sha256";
const SCRYPT: &str = "scrypt";

/// Whether `encoded` looks like a Django hash this module handles (prefix check
/// only), so callers can tell legacy hashes from roster's own `$argon2id$` PHC
/// strings.
pub(crate) fn is_legacy(encoded: &str) -> bool {
    encoded.starts_with('!')
        || [PBKDF2_SHA256, PBKDF2_SHA1, ARGON2, BCRYPT_SHA256, SCRYPT]
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
        #[cfg(feature = "extra-hashers")]
        BCRYPT_SHA256 => parse_bcrypt(rest),
        #[cfg(feature = "extra-hashers")]
        SCRYPT => parse_scrypt(rest),
        #[cfg(not(feature = "extra-hashers"))]
        BCRYPT_SHA256 | SCRYPT => Err(not_in_this_build(algorithm)),
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
        #[cfg(feature = "extra-hashers")]
        LegacyHash::BcryptSha256 { bcrypt } => {
            // Django hashes the password first: the hex of its SHA-256.
            let digest = sha2::Sha256::digest(password.as_bytes());
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            // The crate compares with `subtle` (constant time); the cost was
            // capped at parse time and is checked again here.
            bcrypt_cost(bcrypt).is_ok() && bcrypt::verify(hex.as_bytes(), bcrypt).unwrap_or(false)
        }
        #[cfg(feature = "extra-hashers")]
        LegacyHash::Scrypt {
            log_n,
            r,
            p,
            salt,
            key,
        } => {
            let Ok(params) = scrypt_params(*log_n, *r, *p) else {
                return false;
            };
            let mut derived = [0u8; 64];
            scrypt::scrypt(password.as_bytes(), salt.as_bytes(), &params, &mut derived).is_ok()
                && bool::from(derived.ct_eq(key))
        }
        LegacyHash::Unusable => false,
    }
}

/// The reason for a Django hasher this build leaves out (`bcrypt_sha256`,
/// `scrypt` without the cargo feature `extra-hashers`).
#[cfg(not(feature = "extra-hashers"))]
fn not_in_this_build(algorithm: &str) -> String {
    format!(
        "unsupported: {algorithm} hashes cannot be checked by this build of roster \
         (built without the cargo feature extra-hashers)"
    )
}

/// `$2b$<cost>$<53 characters>` after Django's `bcrypt_sha256$` prefix.
#[cfg(feature = "extra-hashers")]
fn parse_bcrypt(rest: &str) -> Result<LegacyHash, String> {
    bcrypt_cost(rest)?;
    Ok(LegacyHash::BcryptSha256 {
        bcrypt: rest.to_owned(),
    })
}

/// The cost of a bcrypt string, checked: the format, the variant and the cap.
#[cfg(feature = "extra-hashers")]
fn bcrypt_cost(text: &str) -> Result<u32, String> {
    const MALFORMED: &str = "the bcrypt_sha256 hash is not $2b$<cost>$<salt and hash>";
    let parts: Option<bcrypt::HashParts> = (text.len() == 60 && text.is_ascii())
        .then(|| text.parse().ok())
        .flatten();
    let Some(parts) = parts else {
        return Err(MALFORMED.to_owned());
    };
    if !matches!(&text[..4], "$2a$" | "$2b$" | "$2y$") {
        return Err("the bcrypt variant is not supported (2a, 2b and 2y are)".to_owned());
    }
    let cost = parts.get_cost();
    if !(4..=BCRYPT_MAX_COST).contains(&cost) {
        return Err(format!(
            "bcrypt cost {cost} is outside 4 ..= {BCRYPT_MAX_COST} (the cap)"
        ));
    }
    Ok(cost)
}

/// `<n>$<salt>$<r>$<p>$<base64 key>` after Django's `scrypt$` prefix.
#[cfg(feature = "extra-hashers")]
fn parse_scrypt(rest: &str) -> Result<LegacyHash, String> {
    let parts: Vec<&str> = rest.split('$').collect();
    let [n, salt, r, p, key] = parts[..] else {
        return Err(format!(
            "a scrypt hash has 6 $-separated parts, this one has {}",
            parts.len() + 1
        ));
    };
    let number = |name: &str, text: &str| -> Result<u64, String> {
        if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "the scrypt {name} is not a whole number within range"
            ));
        }
        text.parse::<u64>()
            .map_err(|_| format!("the scrypt {name} is not a whole number within range"))
    };
    let (n, r, p) = (number("n", n)?, number("r", r)?, number("p", p)?);
    if n < 2 || !n.is_power_of_two() {
        return Err("the scrypt n is not a power of two above 1".to_owned());
    }
    if r == 0 || p == 0 {
        return Err("the scrypt r and p must be at least 1".to_owned());
    }
    let memory = 128u64.checked_mul(n).and_then(|m| m.checked_mul(r));
    let work = memory.and_then(|m| m.checked_mul(p));
    if work.is_none_or(|w| w > SCRYPT_MAX_BYTES) {
        return Err(format!(
            "scrypt cost 128·n·r·p (n={n}, r={r}, p={p}) exceeds the cap of {} MiB",
            SCRYPT_MAX_BYTES >> 20
        ));
    }
    if salt.is_empty() {
        return Err("the scrypt salt is empty".to_owned());
    }
    let key = decode_key::<64>(SCRYPT, key)?;
    // Within the cap, n < 2^21 and r, p < 2^21: the conversions hold.
    let (log_n, r, p) = (n.trailing_zeros() as u8, r as u32, p as u32);
    scrypt_params(log_n, r, p)?;
    Ok(LegacyHash::Scrypt {
        log_n,
        r,
        p,
        salt: salt.to_owned(),
        key,
    })
}

/// scrypt parameters within the cap.
#[cfg(feature = "extra-hashers")]
fn scrypt_params(log_n: u8, r: u32, p: u32) -> Result<scrypt::Params, String> {
    let work = (128u64 << log_n.min(63))
        .checked_mul(u64::from(r))
        .and_then(|m| m.checked_mul(u64::from(p)));
    if log_n == 0 || log_n > 40 || work.is_none_or(|w| w > SCRYPT_MAX_BYTES) {
        return Err("the scrypt parameters exceed the cap".to_owned());
    }
    scrypt::Params::new(log_n, r, p).map_err(|_| "the scrypt parameters are invalid".to_owned())
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

/// Checks a password hash arriving from outside (an import row, a restored
/// export): the one gate every such hash passes before it is stored.
/// roster's own argon2 PHC strings and Django's hashes are parsed and held
/// to the cost caps of SPEC A4 (argon2 memory and passes, PBKDF2
/// iterations); `!...` is
/// an unusable password; anything else is refused. `Err` says why.
pub(crate) fn check_stored(hash: &str) -> std::result::Result<(), String> {
    if hash.starts_with("$argon2") {
        // roster's own PHC strings get the same checks and cost caps as
        // Django's argon2 hashes, which are the same string after `argon2`.
        parse(&format!("argon2{hash}")).map(|_| ())
    } else {
        // Django's formats, or a reason naming the unsupported algorithm.
        parse(hash).map(|_| ())
    }
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

    /// `verify` checks the iteration cap again, for a hash `parse` did not
    /// make: zero iterations would derive what one does (the crate runs
    /// `1..rounds` further rounds), so the one-round key must not match.
    #[test]
    fn verify_refuses_iterations_outside_the_cap_without_deriving() {
        let LegacyHash::Pbkdf2Sha1 { salt, key, .. } =
            parse("pbkdf2_sha1$1$salt$DGDID5YfDnHzqbUkr2ASBi/gN6Y=").unwrap()
        else {
            panic!("not pbkdf2_sha1");
        };
        let zero = LegacyHash::Pbkdf2Sha1 {
            iterations: 0,
            salt,
            key,
        };
        assert!(!verify("password", &zero));
    }

    /// `scrypt_params`, which `verify` also calls on what it is given, holds
    /// the cap by itself: 128·2^log_n·r·p bytes of work at most, and a
    /// log_n whose shift would wrap to nothing refused.
    #[test]
    #[cfg(feature = "extra-hashers")]
    fn scrypt_params_hold_the_cap_by_themselves() {
        assert!(scrypt_params(17, 8, 2).is_ok(), "256 MiB: at the cap");
        for (log_n, r, p) in [(18, 8, 2), (10, 8, 300), (57, 8, 1), (63, 1, 1)] {
            assert!(
                scrypt_params(log_n, r, p).is_err(),
                "{log_n} {r} {p} passed"
            );
        }
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
        // A salt without its hash.
        let salt_only = "argon2$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdA";
        let reason = refused(salt_only);
        assert!(reason.contains("lacks its salt or its hash"), "{reason}");
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
            // As long as the base64 of 32 bytes, but of 31 (two `=`).
            (
                "pbkdf2_sha256$1$salt$Eg+2z/z4syxD5yJSVsT4N6hlSMkszDVICAWYfLcL4Q==".to_owned(),
                "32 bytes",
            ),
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
            ("bcrypt$$2b$12$LZSJchsWG/DrBy1erNs4ee", "\"bcrypt\""),
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
            "bcrypt_sha256$$2b$",
            "scrypt$16384$",
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
            "bcrypt_sha256",
            "scrypt",
        ] {
            assert!(!is_legacy(no), "{no:?}");
        }
    }

    /// Made by Django 5.2.19 (`make_password(password, hasher=...)`, and
    /// `encode` with a lower cost for the fast ones), with `bcrypt` 5.0.0.
    const DJANGO_SCRYPT_WELCOME: &str = "scrypt$16384$rsMN3rhf5wW2ac0nE7ccSP$8$5$hc7gyqKsTndIbfUr0dAmUU8XY16W8jjiDAyYonvE3q4SPeo/avNkLWLBGq1xl2pD5Lz59N98DIQ+rqN7d+ZTjA==";
    const DJANGO_SCRYPT_LETMEIN: &str = "scrypt$16384$sOjV8yTiktXlcKLTajIXW5$8$5$cIrnxDX7UzytmKXBxi+het7EhBk8mLrrZJwhHYnKyIt3DieUt9qGj9k9wnTGMJR+Z2JknbJHdwyEtpQB3FSNrA==";
    const DJANGO_SCRYPT_N1024: &str = "scrypt$1024$eV75SsdPRoV7OtovKaarNe$8$1$jMooVbCTntzhq2pppmdQB8zg0eSWz54j5GPEndkkZx9is6tLp3IGC0m7EUWcHU+Y/4VX7gFdGlqqPPtP2cBeIQ==";
    const DJANGO_BCRYPT_SHA256_WELCOME: &str =
        "bcrypt_sha256$$2b$12$hmi0KbWD4Ka08O9U1E0P6e2X/jS4CENQFnfJtn9G/czpREtcvjxru";
    const DJANGO_BCRYPT_SHA256_LETMEIN: &str =
        "bcrypt_sha256$$2b$12$aqMMjABLaiiqzXitiKW4qOp3ce6Inww0v9KE7Xdx.HCGYL/Y7f2Ue";
    /// 100 `a`s: longer than bcrypt's 72 bytes, which the SHA-256 step hides.
    const DJANGO_BCRYPT_SHA256_LONG: &str =
        "bcrypt_sha256$$2b$12$RduZwVOHq4RLjh8bi0T6F.XfVMZVOOQxgBPu6t31gtD.JGrvvUnVa";
    const DJANGO_BCRYPT_SHA256_COST4: &str =
        "bcrypt_sha256$$2b$04$/A/7wjiiUj5ePK7SqJDzxuMdTzn81tjYnpX6QWKMbyjyXPiQIyGrW";

    #[test]
    #[cfg(feature = "extra-hashers")]
    fn django_scrypt_hashes_verify() {
        check(DJANGO_SCRYPT_WELCOME, "welcome", "Welcome");
        check(DJANGO_SCRYPT_LETMEIN, "lètmein", "letmein");
        check(DJANGO_SCRYPT_N1024, "welcome", "welcome ");
        let LegacyHash::Scrypt { log_n, r, p, .. } = parse(DJANGO_SCRYPT_WELCOME).unwrap() else {
            panic!("not scrypt");
        };
        assert_eq!((log_n, r, p), (14, 8, 5));
    }

    #[test]
    #[cfg(feature = "extra-hashers")]
    fn django_bcrypt_sha256_hashes_verify() {
        check(DJANGO_BCRYPT_SHA256_WELCOME, "welcome", "Welcome");
        check(DJANGO_BCRYPT_SHA256_LETMEIN, "lètmein", "letmein");
        check(DJANGO_BCRYPT_SHA256_COST4, "welcome", "");
        let long = "a".repeat(100);
        // The 72-byte truncation of plain bcrypt does not apply: a password
        // sharing the first 72 bytes does not match.
        check(DJANGO_BCRYPT_SHA256_LONG, &long, &"a".repeat(99));
        check(DJANGO_BCRYPT_SHA256_LONG, &long, &"a".repeat(72));
    }

    #[test]
    #[cfg(feature = "extra-hashers")]
    fn bcrypt_and_scrypt_costs_are_capped_with_a_reason() {
        let tail = &DJANGO_BCRYPT_SHA256_COST4["bcrypt_sha256$$2b$04$".len()..];
        assert!(parse(&format!("bcrypt_sha256$$2b${BCRYPT_MAX_COST}${tail}")).is_ok());
        for cost in [BCRYPT_MAX_COST + 1, 31] {
            let reason = refused(&format!("bcrypt_sha256$$2b${cost}${tail}"));
            assert!(reason.contains("cap"), "{reason}");
        }
        let salt = "eV75SsdPRoV7OtovKaarNe";
        let key = &DJANGO_SCRYPT_N1024[DJANGO_SCRYPT_N1024.rfind('$').unwrap() + 1..];
        // 128 * 2^17 * 8 * 2 and 128 * 2^18 * 8 * 1 = 256 MiB: at the cap.
        assert!(parse(&format!("scrypt$131072${salt}$8$2${key}")).is_ok());
        assert!(parse(&format!("scrypt$262144${salt}$8$1${key}")).is_ok());
        for (n, r, p) in [
            ("524288", "8", "1"),               // 512 MiB of memory
            ("16384", "8", "17"),               // 16 MiB, 17 times: 272 MiB of work
            ("2", "1", "4294967295"),           // tiny memory, huge work
            ("1048576", "4294967295", "1"),     // overflows u32 math
            ("18446744073709551616", "8", "1"), // above u64
        ] {
            let encoded = format!("scrypt${n}${salt}${r}${p}${key}");
            let reason = refused(&encoded);
            assert!(
                reason.contains("cap") || reason.contains("range"),
                "{encoded}: {reason}"
            );
        }
        for (n, r, p) in [
            ("1000", "8", "1"),
            ("1", "8", "1"),
            ("0", "8", "1"),
            ("1024", "0", "1"),
            ("1024", "8", "0"),
            ("-1024", "8", "1"),
        ] {
            refused(&format!("scrypt${n}${salt}${r}${p}${key}"));
        }
        // Malformed: wrong part count, empty salt, a short key, not base64.
        for bad in [
            format!("scrypt$1024${salt}$8${key}"),
            format!("scrypt$1024$$8$1${key}"),
            format!("scrypt$1024${salt}$8$1$c2FsdA=="),
            format!("scrypt$1024${salt}$8$1${}", "*".repeat(key.len())),
            "bcrypt_sha256$$2x$04$/A/7wjiiUj5ePK7SqJDzxuMdTzn81tjYnpX6QWKMbyjyXPiQIyGrW".to_owned(),
            "bcrypt_sha256$$2b$04$/A/7wjiiUj5ePK7SqJDzxuMdTzn81tjYnpX6QWKMbyjyXPiQIyGr".to_owned(),
            "bcrypt_sha256$$2b$04$/A/7wjiiUj5ePK7SqJDzxuMdTzn81tjYnpX6QWKMbyjyXPiQIyGrWé"
                .to_owned(),
            "bcrypt_sha256$2b$04$/A/7wjiiUj5ePK7SqJDzxuMdTzn81tjYnpX6QWKMbyjyXPiQIyGrW".to_owned(),
        ] {
            refused(&bad);
        }
    }

    /// scrypt's n, r and p are plain decimal digits, at most 19 of them
    /// (any u64 fits), checked before Rust's parser, which would also take
    /// a sign or any number of leading zeros; r and p of 0 are refused for
    /// what they are, not later as invalid parameters.
    #[test]
    #[cfg(feature = "extra-hashers")]
    fn scrypt_numbers_are_plain_digits_and_r_and_p_at_least_one() {
        let salt = "eV75SsdPRoV7OtovKaarNe";
        let key = &DJANGO_SCRYPT_N1024[DJANGO_SCRYPT_N1024.rfind('$').unwrap() + 1..];
        let hash = |n: &str, r: &str, p: &str| format!("scrypt${n}${salt}${r}${p}${key}");
        // Nineteen digits are read; twenty are refused, whatever their value.
        let n19 = format!("{:0>19}", 1024);
        assert_eq!(n19.len(), 19);
        let LegacyHash::Scrypt { log_n, .. } = parse(&hash(&n19, "8", "1")).unwrap() else {
            panic!("not scrypt");
        };
        assert_eq!(log_n, 10);
        let n20 = format!("{:0>20}", 1024);
        for (n, r, p) in [
            (n20.as_str(), "8", "1"),
            ("+1024", "8", "1"),
            ("1024", "+8", "1"),
            ("1024", "8", "+1"),
            ("", "8", "1"),
            ("1024", "", "1"),
        ] {
            let reason = refused(&hash(n, r, p));
            assert!(
                reason.contains("is not a whole number within range"),
                "{n} {r} {p}: {reason}"
            );
        }
        for (r, p) in [("0", "1"), ("8", "0"), ("0", "0")] {
            let reason = refused(&hash("1024", r, p));
            assert!(reason.contains("must be at least 1"), "{r} {p}: {reason}");
        }
    }

    #[test]
    #[cfg(not(feature = "extra-hashers"))]
    fn without_extra_hashers_bcrypt_and_scrypt_are_refused_as_not_in_this_build() {
        for (encoded, algorithm) in [
            (DJANGO_BCRYPT_SHA256_WELCOME, "bcrypt_sha256"),
            (DJANGO_SCRYPT_WELCOME, "scrypt"),
            ("scrypt$", "scrypt"),
        ] {
            assert!(is_legacy(encoded), "still recognised: {encoded}");
            let reason = refused(encoded);
            assert!(
                reason.starts_with("unsupported: ")
                    && reason.contains(algorithm)
                    && reason.contains("not")
                    && reason.contains("extra-hashers"),
                "{reason}"
            );
        }
        // The hashers this build keeps still work.
        check(
            "pbkdf2_sha1$1$salt$DGDID5YfDnHzqbUkr2ASBi/gN6Y=",
            "password",
            "wrong",
        );
    }
}
