//! §5's limits on user names, passwords and tokens, and the checks that apply them.

/// Longest user name (§5).
pub const MAX_USER: usize = 32;

/// Shortest password in bytes (§5).
pub const MIN_PASSWORD: usize = 8;

/// Longest password in bytes (§5).
pub const MAX_PASSWORD: usize = 128;

/// A token on the wire: 128 bits as lowercase hex.
pub const TOKEN_HEX: usize = 32;

/// Default `--token-ttl`: 24 hours, in seconds.
pub const DEFAULT_TOKEN_TTL: u64 = 24 * 60 * 60;

/// Whether `user` is 1..=32 of `A-Z a-z 0-9 _ . -` (§5).
pub fn valid_user(user: &str) -> bool {
    (1..=MAX_USER).contains(&user.len())
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Whether `password` has an acceptable length (8..=128 bytes, §5).
pub fn valid_password(password: &str) -> bool {
    (MIN_PASSWORD..=MAX_PASSWORD).contains(&password.len())
}

/// Whether `token` looks like one the server issues (32 lowercase hex digits), so a
/// malformed one is refused without asking the backend.
pub fn valid_token(token: &str) -> bool {
    token.len() == TOKEN_HEX
        && token
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names() {
        assert!(valid_user("a"));
        assert!(valid_user("Bob_1.x-y"));
        assert!(valid_user(&"a".repeat(32)));
        assert!(!valid_user(&"a".repeat(33)));
        assert!(!valid_user(""));
        assert!(!valid_user("bob smith"));
        assert!(!valid_user("böb"));
        assert!(!valid_user("a/b"));
    }

    #[test]
    fn tokens_and_passwords() {
        assert!(valid_token("0123456789abcdef0123456789abcdef"));
        assert!(!valid_token("0123456789ABCDEF0123456789abcdef"));
        assert!(!valid_token("0123456789abcdef0123456789abcde"));
        assert!(valid_password("12345678"));
        assert!(!valid_password("1234567"));
        assert!(valid_password(&"p".repeat(128)));
        assert!(!valid_password(&"p".repeat(129)));
    }
}
