//! Password hashing: argon2id, a random 16-byte salt per hash, parameters in
//! the PHC string so they can be raised later (SPEC A3).

use super::gate::Permit;
use crate::config::{Argon2Params, PasswordPolicy};
use crate::error::Internal;
use crate::random;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

/// Salt length in bytes (RFC 9106 recommends 16).
const SALT_LEN: usize = 16;

fn hasher(params: Argon2Params) -> Result<Argon2<'static>, Internal> {
    let params = Params::new(params.m_kib, params.t, params.p, None)
        .map_err(|e| Internal::Hashing(format!("bad argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The argon2id PHC string of `password`, made during a turn of the
/// password gate.
pub(crate) fn hash(
    password: &str,
    params: Argon2Params,
    _turn: &Permit<'_>,
) -> Result<String, Internal> {
    let salt: [u8; SALT_LEN] = random::bytes()?;
    let hash = hasher(params)?
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|e| Internal::Hashing(e.to_string()))?;
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC string `phc` (false for an empty or
/// unusable hash), checked during a turn of the password gate.
pub(crate) fn verify(password: &str, phc: &str, _turn: &Permit<'_>) -> bool {
    if !phc.starts_with("$argon2") {
        return false;
    }
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
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
        if crate::domain::rules::password(&out, "", policy).is_ok() {
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
            assert!(crate::domain::rules::password(&p, "", &policy).is_ok());
        }
    }
}
