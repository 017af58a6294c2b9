//! The cryptography of auth, in one place: Argon2id password hashes, random tokens and
//! the hashes tokens are stored as.
//!
//! * Passwords: Argon2id (RFC 9106) PHC strings with a 16-byte salt from the OS RNG, at
//!   OWASP's recommended minimum of m = 19 MiB, t = 2, p = 1 by default. The PHC string
//!   carries its own parameters, so a server started with other costs still verifies
//!   old hashes. Verification compares in constant time (`password-hash`'s `Output`).
//! * Tokens: 128 bits from the OS RNG (`getrandom`), never from the quiz's seeded
//!   generator, sent once as 32 lowercase hex digits and never stored.
//! * Token storage: SHA-256 of the token text. A fast hash is enough here because the
//!   token has 128 bits of entropy (nothing to brute-force, unlike a password). The
//!   digest is split as "selector / verifier": the first half indexes the table, the
//!   second half is compared with `subtle`'s constant-time equality, so the lookup's
//!   timing says nothing about the half that has to match.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Argon2id cost. The default is OWASP's recommendation (Password Storage Cheat Sheet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub passes: u32,
}

impl Default for Cost {
    fn default() -> Self {
        Cost {
            memory_kib: 19 * 1024,
            passes: 2,
        }
    }
}

/// Hashes and verifies passwords at one cost.
#[derive(Debug, Clone)]
pub struct Hasher {
    argon: Argon2<'static>,
    /// A hash of a random password: an unknown user's LOGIN is verified against it,
    /// so it costs what a known user's does and its timing gives no user away.
    dummy: String,
}

/// The OS RNG failed: nothing secret can be made, so the request fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoRandomness;

fn random<const N: usize>() -> Result<[u8; N], NoRandomness> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|_| NoRandomness)?;
    Ok(b)
}

impl Hasher {
    /// A hasher at `cost` (parallelism 1), or why the cost is not acceptable.
    pub fn new(cost: Cost) -> Result<Hasher, String> {
        let params = Params::new(cost.memory_kib, cost.passes, 1, None)
            .map_err(|e| format!("bad Argon2 cost: {e}"))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut h = Hasher {
            argon,
            dummy: String::new(),
        };
        let pw = hex(&random::<16>().map_err(|_| "the OS random source failed".to_owned())?);
        h.dummy = h
            .hash(&pw)
            .map_err(|_| "cannot hash the dummy password".to_owned())?;
        Ok(h)
    }

    /// An Argon2id PHC string for `password`, with a fresh salt.
    pub fn hash(&self, password: &str) -> Result<String, NoRandomness> {
        let salt = SaltString::encode_b64(&random::<16>()?).map_err(|_| NoRandomness)?;
        self.argon
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|_| NoRandomness)
    }

    /// Whether `password` matches `phc`; `None` verifies against the dummy hash and
    /// always fails, at the same cost.
    pub fn verify(&self, password: &str, phc: Option<&str>) -> bool {
        let (target, real) = match phc {
            Some(p) => (p, true),
            None => (self.dummy.as_str(), false),
        };
        let Ok(parsed) = PasswordHash::new(target) else {
            return false;
        };
        let ok = self
            .argon
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        ok && real
    }
}

/// The stored form of a token: SHA-256 of its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    /// Hash a token as the client sends it.
    pub fn of(token: &str) -> TokenHash {
        TokenHash(Sha256::digest(token.as_bytes()).into())
    }

    /// The half that indexes the session table.
    pub fn selector(&self) -> [u8; 16] {
        let mut s = [0u8; 16];
        s.copy_from_slice(&self.0[..16]);
        s
    }

    /// Constant-time equality of the whole digest.
    pub fn matches(&self, other: &TokenHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }

    /// Lowercase hex, as in the session file.
    pub fn to_hex(self) -> String {
        hex(&self.0)
    }

    /// Parse the session file's hex form.
    pub fn from_hex(s: &str) -> Option<TokenHash> {
        let b = s.as_bytes();
        if b.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, pair) in b.chunks(2).enumerate() {
            let text = std::str::from_utf8(pair).ok()?;
            out[i] = u8::from_str_radix(text, 16).ok()?;
        }
        Some(TokenHash(out))
    }
}

/// A new token: 128 random bits as 32 lowercase hex digits.
pub fn new_token() -> Result<String, NoRandomness> {
    Ok(hex(&random::<16>()?))
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Hasher {
        Hasher::new(Cost {
            memory_kib: 64,
            passes: 1,
        })
        .unwrap()
    }

    #[test]
    fn hashes_verify_and_carry_their_parameters() {
        let h = cheap();
        let phc = h.hash("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{phc}");
        assert!(h.verify("correct horse", Some(&phc)));
        assert!(!h.verify("wrong horse", Some(&phc)));
        assert!(!h.verify("correct horse", None));
        assert_ne!(phc, h.hash("correct horse").unwrap(), "salted");
        // An unknown user is verified against a hash of the very same cost, so a LOGIN
        // for a name that does not exist does the same Argon2 work as a wrong password.
        let cost_of = |phc: &str| phc.rsplitn(3, '$').nth(2).unwrap().to_owned();
        assert_eq!(cost_of(&h.dummy), cost_of(&phc));
    }

    #[test]
    fn default_cost_is_owasps() {
        assert_eq!(
            Cost::default(),
            Cost {
                memory_kib: 19456,
                passes: 2
            }
        );
    }

    #[test]
    fn tokens_are_128_bit_hex_and_hash_round_trips() {
        let t = new_token().unwrap();
        assert_eq!(t.len(), 32);
        assert!(socklab_core::auth::valid_token(&t));
        assert_ne!(t, new_token().unwrap());
        let h = TokenHash::of(&t);
        assert_eq!(TokenHash::from_hex(&h.to_hex()), Some(h));
        assert!(h.matches(&TokenHash::of(&t)));
        assert!(!h.matches(&TokenHash::of("x")));
    }
}
