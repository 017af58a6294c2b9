//! The cryptography of auth, in one place: Argon2id password hashes, random tokens and
//! the hashes tokens are stored as.
//!
//! * Passwords: Argon2id (RFC 9106) PHC strings with a 16-byte salt from the OS RNG, at
//!   OWASP's recommended minimum of m = 19 MiB, t = 2, p = 1 by default. The PHC string
//!   carries its own parameters, so a server started with other costs still verifies
//!   old hashes. Verification compares in constant time (`password-hash`'s `Output`).
//! * Argon2's memory (19 MiB at the default cost) is one buffer per hashing thread,
//!   allocated at its first hash, reused by every later one and zeroed after each, so
//!   the hashing threads hold at most threads × cost however many hashes run. Letting
//!   the argon2 crate allocate and free it per hash made glibc keep the freed buffers
//!   in its arenas, so memory grew with the number of hashes (FUZZING.md, bug 5).
//! * Tokens: 128 bits from the OS RNG (`getrandom`), never from the quiz's seeded
//!   generator, sent once as 32 lowercase hex digits and never stored.
//! * Token storage: SHA-256 of the token text. A fast hash is enough here because the
//!   token has 128 bits of entropy (nothing to brute-force, unlike a password). The
//!   digest is split as "selector / verifier": the first half indexes the table, the
//!   second half is compared with `subtle`'s constant-time equality, so the lookup's
//!   timing says nothing about the half that has to match.

use std::cell::RefCell;

use argon2::password_hash::{self, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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

thread_local! {
    /// Argon2's memory on this thread, kept from one hash to the next.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Run `f` on `n` blocks of this thread's Argon2 memory (grown on first use, never
/// shrunk), and zero them afterwards: what is left of a password's hash state must not
/// linger until the next hash overwrites it. With `keep` false, on a buffer of its own
/// that is freed at once: for the dummy hash at start, on a thread that never hashes
/// again and should not hold 19 MiB for nothing.
fn with_blocks<R>(n: usize, keep: bool, f: impl FnOnce(&mut [Block]) -> R) -> R {
    let wipe = |blocks: &mut [Block]| blocks.iter_mut().for_each(|b| *b = Block::default());
    if !keep {
        let mut blocks = vec![Block::default(); n];
        let r = f(&mut blocks);
        wipe(&mut blocks);
        return r;
    }
    BLOCKS.with(|cell| {
        let mut blocks = cell.borrow_mut();
        if blocks.len() < n {
            blocks.resize(n, Block::default());
        }
        let r = f(&mut blocks[..n]);
        wipe(&mut blocks[..n]);
        r
    })
}

/// Argon2 of `password` with `salt` into an output of `len` bytes, on this thread's
/// memory if `keep`.
fn argon2_output(
    argon: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    len: usize,
    keep: bool,
) -> password_hash::Result<Output> {
    Output::init_with(len, |out| {
        with_blocks(params.block_count(), keep, |blocks| {
            argon.hash_password_into_with_memory(password, salt, out, blocks)
        })
        .map_err(password_hash::Error::from)
    })
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
            .hash_with(&pw, false)
            .map_err(|_| "cannot hash the dummy password".to_owned())?;
        Ok(h)
    }

    /// An Argon2id PHC string for `password`, with a fresh salt.
    pub fn hash(&self, password: &str) -> Result<String, NoRandomness> {
        self.hash_with(password, true)
    }

    /// [`hash`](Self::hash), on this thread's kept memory or (`keep` false) not.
    fn hash_with(&self, password: &str, keep: bool) -> Result<String, NoRandomness> {
        let salt_bytes = random::<16>()?;
        let salt = SaltString::encode_b64(&salt_bytes).map_err(|_| NoRandomness)?;
        let params = self.argon.params();
        let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let output = argon2_output(
            &self.argon,
            params,
            password.as_bytes(),
            &salt_bytes,
            len,
            keep,
        )
        .map_err(|_| NoRandomness)?;
        // The PHC string `PasswordHasher::hash_password` would make, field by field.
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(params).map_err(|_| NoRandomness)?,
            salt: Some(salt.as_salt()),
            hash: Some(output),
        };
        Ok(phc.to_string())
    }

    /// Whether `password` matches `phc`; `None` verifies against the dummy hash and
    /// always fails, at the same cost.
    pub fn verify(&self, password: &str, phc: Option<&str>) -> bool {
        let (target, real) = match phc {
            Some(p) => (p, true),
            None => (self.dummy.as_str(), false),
        };
        let ok = verify_phc(password.as_bytes(), target).unwrap_or(false);
        ok && real
    }
}

/// Recompute `phc` with its own algorithm, version, cost and salt (as
/// `PasswordVerifier::verify_password` does) and compare in constant time.
fn verify_phc(password: &[u8], phc: &str) -> password_hash::Result<bool> {
    let parsed = PasswordHash::new(phc)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Ok(false);
    };
    let algorithm = Algorithm::try_from(parsed.algorithm)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()?
        .unwrap_or_default();
    let params = Params::try_from(&parsed)?;
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut salt_buf = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_buf)?;
    let computed = argon2_output(&argon, &params, password, salt, expected.len(), true)?;
    // `Output`'s equality is constant-time.
    Ok(computed == expected)
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
    fn phc_strings_are_the_argon2_crates_both_ways() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let h = cheap();
        // Ours verify with the crate's verifier...
        let ours = h.hash("pw one two").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(h.argon.verify_password(b"pw one two", &parsed).is_ok());
        assert!(h.argon.verify_password(b"pw one tw0", &parsed).is_err());
        // ...and the crate's (as in users files written before) with ours, at another
        // cost than this thread's buffer was first sized for, larger and smaller.
        for cost in [(128, 2), (32, 1)] {
            let argon = Argon2::new(
                Algorithm::Argon2id,
                Version::V0x13,
                Params::new(cost.0, cost.1, 1, None).unwrap(),
            );
            let salt = SaltString::encode_b64(&[7; 16]).unwrap();
            let theirs = argon.hash_password(b"pw three", &salt).unwrap().to_string();
            assert!(h.verify("pw three", Some(&theirs)), "{theirs}");
            assert!(!h.verify("pw four", Some(&theirs)), "{theirs}");
        }
        // The buffer is wiped after use.
        BLOCKS.with(|b| {
            let b = b.borrow();
            assert!(!b.is_empty());
            assert!(b.iter().all(|block| block.as_ref().iter().all(|&w| w == 0)));
        });
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
