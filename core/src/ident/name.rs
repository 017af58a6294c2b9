//! The §4 name rule.

/// Most characters a name may have.
pub const MAX_NAME_CHARS: usize = 64;
/// Most bytes a valid name can take in UTF-8 (4 bytes per character at most).
pub const MAX_NAME_BYTES: usize = MAX_NAME_CHARS * 4;

/// The name a client sent, trimmed of spaces (only U+0020, as §4 says), if it is valid:
/// 1..=64 characters, none of them a control character (which rules out TAB, CR, LF)
/// and none another kind of whitespace that would not show (U+00A0 and the like are
/// printable and allowed; controls are not).
///
/// Returns `None` for bytes that are not UTF-8 (§0: an invalid name).
pub fn valid_name(line: &[u8]) -> Option<&str> {
    let text = core::str::from_utf8(line).ok()?;
    let name = text.trim_matches(' ');
    let mut count = 0;
    for c in name.chars() {
        if c.is_control() || is_invisible_format(c) {
            return None;
        }
        count += 1;
        if count > MAX_NAME_CHARS {
            return None;
        }
    }
    (count > 0).then_some(name)
}

/// Format characters that print as nothing and would let two names look alike or
/// reorder the greeting (bidi overrides, zero-width joiners, BOM).
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(valid_name(b"ann"), Some("ann"));
        assert_eq!(valid_name(b"  Ann Lee  "), Some("Ann Lee"));
        assert_eq!(valid_name("Анна".as_bytes()), Some("Анна"));
        assert_eq!(valid_name(b""), None);
        assert_eq!(valid_name(b"   "), None);
        assert_eq!(valid_name(b"a\tb"), None);
        assert_eq!(valid_name(b"a\x07"), None);
        assert_eq!(valid_name(b"\xff\xfe"), None);
        assert_eq!(valid_name("a\u{202E}b".as_bytes()), None);
        let long = [b'x'; 64];
        assert!(valid_name(&long).is_some());
        assert_eq!(valid_name(&[b'x'; 65]), None);
        // 64 four-byte characters are still 64 characters.
        let mut emoji = [0u8; 65 * 4];
        for c in emoji.chunks_mut(4) {
            '😀'.encode_utf8(c);
        }
        assert!(valid_name(&emoji[..64 * 4]).is_some());
        assert_eq!(valid_name(&emoji), None);
    }
}
