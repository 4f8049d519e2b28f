//! Password hashing: argon2id, a random 16-byte salt per hash, parameters in
//! the PHC string so they can be raised later (SPEC A3).

use super::gate::Permit;
use crate::config::{Argon2Params, PasswordPolicy};
use crate::error::Internal;
use crate::{random, text};
use argon2::{Algorithm, Argon2, Params, Version};
use base64ct::{Base64Unpadded, Encoding};
use subtle::ConstantTimeEq;

/// Salt length in bytes (RFC 9106 recommends 16).
const SALT_LEN: usize = 16;

/// Output length of new hashes, in bytes (argon2's default).
const OUTPUT_LEN: usize = 32;

#[cfg(test)]
thread_local! {
    /// Every argon2 run on this thread: algorithm and m, t, p (for tests
    /// that compare the work of sign-ins without timing them).
    pub(crate) static RUNS: std::cell::RefCell<Vec<(Algorithm, u32, u32, u32)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs argon2 in the turn's working memory (no allocation of its own).
fn run(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    input: (&[u8], &[u8]),
    out: &mut [u8],
    turn: &Permit<'_>,
) -> Result<(), Internal> {
    #[cfg(test)]
    RUNS.with_borrow_mut(|runs| {
        runs.push((algorithm, params.m_cost(), params.t_cost(), params.p_cost()));
    });
    let argon2 = Argon2::new(algorithm, version, params);
    let mut memory = turn.memory(argon2.params().block_count());
    argon2
        .hash_password_into_with_memory(input.0, input.1, out, &mut memory[..])
        .map_err(|e| Internal::Hashing(e.to_string()))
}

/// The argon2id PHC string of `password`, made during a turn of the
/// password gate.
pub(crate) fn hash(
    password: &str,
    params: Argon2Params,
    turn: &Permit<'_>,
) -> Result<String, Internal> {
    let salt: [u8; SALT_LEN] = random::bytes()?;
    let costs = Params::new(params.m_kib, params.t, params.p, Some(OUTPUT_LEN))
        .map_err(|e| Internal::Hashing(format!("bad argon2 parameters: {e}")))?;
    let mut out = [0u8; OUTPUT_LEN];
    run(
        Algorithm::Argon2id,
        Version::V0x13,
        costs,
        (password.as_bytes(), &salt),
        &mut out,
        turn,
    )?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_kib,
        params.t,
        params.p,
        Base64Unpadded::encode_string(&salt),
        Base64Unpadded::encode_string(&out)
    ))
}

/// The PHC string checked in place of an unknown user's hash: argon2id with
/// exactly the costs of `params`, so the check does the work of a known
/// user's, but made without running argon2 (a one-off hash at first need
/// made the first unknown sign-in alone slower). Its salt and hash are
/// zeros: no password yields an all-zero argon2 output but with
/// probability 2^-256, and the caller ignores the answer anyway.
pub(crate) fn decoy(params: Argon2Params) -> String {
    format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_kib,
        params.t,
        params.p,
        Base64Unpadded::encode_string(&[0u8; SALT_LEN]),
        Base64Unpadded::encode_string(&[0u8; OUTPUT_LEN])
    )
}

/// A parsed argon2 PHC string: algorithm, version, costs, salt, hash.
struct Phc {
    algorithm: Algorithm,
    version: Version,
    params: Params,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

/// Parses `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>` (and argon2i,
/// argon2d, and the version-less form of argon2 1.0). Anything else,
/// including key ids and associated data, is `None`.
fn parse(phc: &str) -> Option<Phc> {
    let mut parts = phc.split('$');
    if !parts.next()?.is_empty() {
        return None;
    }
    let algorithm = match parts.next()? {
        "argon2id" => Algorithm::Argon2id,
        "argon2i" => Algorithm::Argon2i,
        "argon2d" => Algorithm::Argon2d,
        _ => return None,
    };
    let mut field = parts.next()?;
    let version = match field.strip_prefix("v=") {
        Some(v) => {
            let version = Version::try_from(v.parse::<u32>().ok()?).ok()?;
            field = parts.next()?;
            version
        }
        None => Version::V0x10,
    };
    let mut costs = field.split(',');
    let mut cost = |key: &str| -> Option<u32> {
        costs
            .next()?
            .strip_prefix(key)?
            .strip_prefix('=')?
            .parse()
            .ok()
    };
    let (m, t, p) = (cost("m")?, cost("t")?, cost("p")?);
    if costs.next().is_some() {
        return None;
    }
    let salt = Base64Unpadded::decode_vec(parts.next()?).ok()?;
    let hash = Base64Unpadded::decode_vec(parts.next()?).ok()?;
    if parts.next().is_some() {
        return None;
    }
    let params = Params::new(m, t, p, Some(hash.len())).ok()?;
    Some(Phc {
        algorithm,
        version,
        params,
        salt,
        hash,
    })
}

/// Whether `password` matches the PHC string `phc` (false for an empty or
/// unusable hash), checked during a turn of the password gate.
pub(crate) fn verify(password: &str, phc: &str, turn: &Permit<'_>) -> bool {
    let Some(phc) = parse(phc) else {
        return false;
    };
    let mut out = vec![0u8; phc.hash.len()];
    run(
        phc.algorithm,
        phc.version,
        phc.params,
        (password.as_bytes(), &phc.salt),
        &mut out,
        turn,
    )
    .is_ok()
        && bool::from(out.ct_eq(&phc.hash))
}

/// The password policy; every failed rule gives a message. (Also
/// `roster::domain::rules::password`, the name the field rules use.)
pub fn check_policy(
    value: &str,
    username: &str,
    policy: &PasswordPolicy,
) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    let length = value.chars().count();
    if length < policy.min_length {
        problems.push(format!(
            "This password is too short. It must contain at least {} characters.",
            policy.min_length
        ));
    }
    if length > policy.max_length {
        problems.push(format!(
            "This password is too long. It must contain at most {} characters.",
            policy.max_length
        ));
    }
    // Numerals of any script (Devanagari १२३, Arabic-Indic ١٢٣, full-width
    // １２３), which Django's `str.isdigit()` refuses too; Unicode's
    // numeric characters are a little wider (fractions, Roman numerals),
    // and a password of those alone is refused as well.
    if policy.forbid_all_digits && !value.is_empty() && value.chars().all(char::is_numeric) {
        problems.push("This password is entirely numeric.".into());
    }
    // Measured before they are folded (folding a megabyte costs): a
    // password refused as too long is not compared, nor two texts of which
    // one is far longer than the other, which cannot fold to one key.
    if policy.forbid_username
        && !username.is_empty()
        && length <= policy.max_length
        && text::may_fold_to(username, length)
        && text::may_fold_to(value, username.chars().count())
        && text::fold(value) == text::fold(username)
    {
        problems.push("The password is too similar to the username.".into());
    }
    if value.chars().any(|c| c == '\0') {
        problems.push("Null characters are not allowed.".into());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// A random password that meets `policy`: 16 characters (or the policy's
/// minimum, if larger) from letters and digits without look-alikes, always
/// with at least one letter and one digit.
pub(crate) fn generate(policy: &PasswordPolicy) -> Result<String, Internal> {
    const LETTERS: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGITS: &[u8] = b"23456789";
    let length = policy.min_length.max(16).min(policy.max_length.max(2));
    loop {
        let mut out = String::with_capacity(length);
        for i in 0..length {
            let alphabet = if i % 4 == 3 { DIGITS } else { LETTERS };
            out.push(alphabet[random::below(alphabet.len() as u32)? as usize] as char);
        }
        if check_policy(&out, "", policy).is_ok() {
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::gate::Gate;

    #[test]
    fn hashes_are_argon2id_phc_strings_that_verify() {
        let gate = Gate::new(1, 0);
        let t = &gate.enter().unwrap();
        let params = Argon2Params::insecure_fast();
        let phc = hash("ipsum1$", params, t).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{phc}");
        assert!(verify("ipsum1$", &phc, t));
        assert!(!verify("ipsum1", &phc, t));
        assert_ne!(phc, hash("ipsum1$", params, t).unwrap(), "salts differ");
    }

    #[test]
    fn hashes_made_by_the_argon2_crate_verify_and_match_ours() {
        use argon2::password_hash::PasswordHasher;
        let gate = Gate::new(1, 0);
        let t = &gate.enter().unwrap();
        let salt = [7u8; SALT_LEN];
        for (algorithm, version, name) in [
            (Algorithm::Argon2id, Version::V0x13, "argon2id"),
            (Algorithm::Argon2i, Version::V0x13, "argon2i"),
            (Algorithm::Argon2d, Version::V0x10, "argon2d"),
        ] {
            let theirs = Argon2::new(algorithm, version, Params::new(64, 1, 2, None).unwrap())
                .hash_password_with_salt(b"ipsum1$", &salt)
                .unwrap()
                .to_string();
            assert!(theirs.starts_with(&format!("${name}$")), "{theirs}");
            assert!(verify("ipsum1$", &theirs, t), "{theirs}");
            assert!(!verify("ipsum1", &theirs, t), "{theirs}");
        }
        // Our own format is the crate's, byte for byte, for the same salt.
        let theirs = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(64, 1, 1, None).unwrap(),
        )
        .hash_password_with_salt(b"x", &salt)
        .unwrap()
        .to_string();
        let ours = parse(&theirs).unwrap();
        let mut out = [0u8; OUTPUT_LEN];
        run(
            ours.algorithm,
            ours.version,
            ours.params,
            (b"x", &salt),
            &mut out,
            t,
        )
        .unwrap();
        assert_eq!(out.to_vec(), ours.hash);
        assert_eq!(
            theirs,
            format!(
                "$argon2id$v=19$m=64,t=1,p=1${}${}",
                Base64Unpadded::encode_string(&salt),
                Base64Unpadded::encode_string(&out)
            )
        );
    }

    #[test]
    fn default_parameters_are_owasps() {
        let gate = Gate::new(1, 0);
        let phc = hash("x", Argon2Params::default(), &gate.enter().unwrap()).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    }

    #[test]
    fn unusable_hashes_never_verify() {
        let gate = Gate::new(1, 0);
        let t = &gate.enter().unwrap();
        for phc in [
            "",
            "!",
            "pbkdf2_sha256$12000$zaz1v370q51a$ipNrjQCWNOAmdFsHWPHHZ1i1+5hxF5LxHZ+VfFZ9mrM=",
            "$argon2id$garbage",
            "$argon2id$v=19$m=64,t=1,p=1,keyid=AAAA$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo$extra",
            "$argon2id$v=7$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
            "$argon2id$v=19$m=1,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
        ] {
            assert!(!verify("welcome", phc, t), "{phc}");
        }
    }

    #[test]
    fn generated_passwords_meet_the_policy() {
        let policy = PasswordPolicy::default();
        for _ in 0..20 {
            let p = generate(&policy).unwrap();
            assert_eq!(p.len(), 16);
            assert!(check_policy(&p, "", &policy).is_ok());
        }
    }

    #[test]
    fn password_policy() {
        let policy = PasswordPolicy::default();
        assert!(check_policy("ipsum1$", "lorem", &policy).is_ok());
        assert!(check_policy("welcome", "goodboy", &policy).is_ok());
        assert_eq!(check_policy("abc", "u", &policy).unwrap_err().len(), 1);
        assert!(check_policy("12345678", "u", &policy).unwrap_err()[0].contains("numeric"));
        for digits in ["१२३४५६७८", "١٢٣٤٥٦٧٨", "１２３４５６７８"] {
            let refused = check_policy(digits, "u", &policy).unwrap_err();
            assert!(refused[0].contains("numeric"), "{digits}: {refused:?}");
        }
        assert!(check_policy("१२३४५६७x", "u", &policy).is_ok());
        assert!(
            check_policy("LoremLorem", "loremlorem", &policy).unwrap_err()[0].contains("username")
        );
        assert!(check_policy(&"x".repeat(1025), "u", &policy).unwrap_err()[0].contains("1024"));
        assert!(check_policy(&"x".repeat(1024), "u", &policy).is_ok());
        assert_eq!(
            check_policy("12345", "u", &policy).unwrap_err().len(),
            2,
            "short and numeric"
        );
        let lax = PasswordPolicy {
            min_length: 1,
            forbid_all_digits: false,
            forbid_username: false,
            ..policy
        };
        assert!(check_policy("1", "1", &lax).is_ok());
    }
}
