//! §3 names: what may be stored, checked before any storage call.
//!
//! The check is the first of two fences. It keeps every name a single, visible path
//! component (no `/`, no `\`, not `.`/`..`, no leading dot), so a frontend never has to
//! interpret a name as a path; the frontend's own confinement (host: `openat` with
//! no-follow on a directory handle) is the second fence, against links and races that no
//! string check can see.

/// Longest valid name in bytes (§3).
pub const MAX_NAME: usize = 255;

/// Why a name is refused; every variant is answered `ERR bad-name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum NameError {
    /// No bytes at all.
    Empty,
    /// More than [`MAX_NAME`] bytes.
    TooLong,
    /// Contains `/` or `\`.
    Separator,
    /// Contains NUL or another control character (C0, DEL, C1).
    Control,
    /// `.`, `..` or any other name starting with a dot (hidden, and our temporaries).
    Dot,
    /// Ends with a space (invisible in a listing, and mangled by some file systems).
    TrailingSpace,
}

impl core::fmt::Display for NameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            NameError::Empty => "a name must not be empty",
            NameError::TooLong => "a name is at most 255 bytes",
            NameError::Separator => "a name must not contain / or \\",
            NameError::Control => "a name must not contain control characters",
            NameError::Dot => "a name must not start with a dot",
            NameError::TrailingSpace => "a name must not end with a space",
        })
    }
}

impl core::error::Error for NameError {}

/// Check a name against §3. The input is already UTF-8 (a line that is not is refused
/// as `bad-command` before names are looked at).
pub fn validate_name(name: &str) -> Result<&str, NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > MAX_NAME {
        return Err(NameError::TooLong);
    }
    if name.starts_with('.') {
        return Err(NameError::Dot);
    }
    if name.ends_with(' ') {
        return Err(NameError::TrailingSpace);
    }
    for c in name.chars() {
        match c {
            '/' | '\\' => return Err(NameError::Separator),
            c if c.is_control() => return Err(NameError::Control),
            _ => {}
        }
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(validate_name("notes.txt"), Ok("notes.txt"));
        assert_eq!(validate_name("my file"), Ok("my file"));
        assert_eq!(validate_name("файл"), Ok("файл"));
        assert_eq!(validate_name(""), Err(NameError::Empty));
        assert_eq!(validate_name("."), Err(NameError::Dot));
        assert_eq!(validate_name(".."), Err(NameError::Dot));
        assert_eq!(validate_name("../x"), Err(NameError::Dot));
        assert_eq!(validate_name("a/b"), Err(NameError::Separator));
        assert_eq!(validate_name("a\\b"), Err(NameError::Separator));
        assert_eq!(validate_name("a\0b"), Err(NameError::Control));
        assert_eq!(validate_name("a\u{85}"), Err(NameError::Control));
        assert_eq!(validate_name("a "), Err(NameError::TrailingSpace));
        let long = [b'a'; 256];
        let long = core::str::from_utf8(&long).unwrap();
        assert_eq!(validate_name(long), Err(NameError::TooLong));
        assert!(validate_name(&long[..255]).is_ok());
    }
}
