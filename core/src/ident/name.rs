//! The §4 name rule.

/// Most characters a name may have.
pub const MAX_NAME_CHARS: usize = 64;
/// Most bytes a valid name can take in UTF-8 (4 bytes per character at most).
pub const MAX_NAME_BYTES: usize = MAX_NAME_CHARS * 4;

/// The name a client sent, trimmed of spaces (only U+0020, as §4 says), if it is valid:
/// 1..=64 characters, none of them a control character (which rules out TAB, CR, LF)
/// or one that prints as nothing or turns the text around ([`crate::text::is_unsafe`]:
/// a U+2028 would also split the server's TSV file). U+00A0 and the like are printable
/// and allowed.
///
/// Returns `None` for bytes that are not UTF-8 (§0: an invalid name).
pub fn valid_name(line: &[u8]) -> Option<&str> {
    let text = core::str::from_utf8(line).ok()?;
    let name = text.trim_matches(' ');
    let mut count = 0;
    for c in name.chars() {
        if crate::text::is_unsafe(c) {
            return None;
        }
        count += 1;
        if count > MAX_NAME_CHARS {
            return None;
        }
    }
    (count > 0).then_some(name)
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
        assert_eq!(valid_name("a\u{2028}b".as_bytes()), None);
        assert_eq!(valid_name("\u{200B}\u{200B}".as_bytes()), None);
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
