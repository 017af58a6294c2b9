//! The character classes PROTOCOLS.md keeps out of names and chat text (§3, §4, §6).
//!
//! One definition, because a name that §3 refuses must also be refused by §4 and a
//! character that would hide or reorder a file name would hide or reorder a chat line
//! just as well. The reason for each class is what it lets a peer do to a person who
//! reads the text: a control character drives their terminal (ESC clears the screen, CR
//! overwrites a line), an invisible character makes two different names look the same,
//! a direction override shows `x\u{202E}gnp.exe` as "xexe.png".

/// True for characters that print as nothing or change the direction of what follows:
/// zero-width characters (U+200B–U+200D, U+2060–U+2064, U+180E, U+00AD soft hyphen),
/// the direction marks U+200E/U+200F and U+061C, the line and paragraph separators
/// U+2028/U+2029, the bidi embeddings and overrides U+202A–U+202E, the bidi isolates
/// U+2066–U+2069, and U+FEFF (zero-width no-break space / BOM).
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// True for a character a peer must not put in text that another person reads: a
/// control character (C0, DEL, C1; `char::is_control`) or an [`is_invisible`] one.
/// TAB is a control character too; callers that allow it (chat text, §6) test it first.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || is_invisible(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        for c in [
            '\u{200B}', '\u{200C}', '\u{200D}', '\u{200E}', '\u{200F}', '\u{2028}',
        ]
        .into_iter()
        .chain([
            '\u{2029}', '\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}', '\u{FEFF}',
        ])
        .chain(['\u{2060}', '\u{00AD}', '\u{061C}'])
        {
            assert!(is_invisible(c), "{:?}", c);
            assert!(is_unsafe(c), "{:?}", c);
        }
        for c in [
            '\0', '\x07', '\x1b', '\r', '\n', '\t', '\x7f', '\u{85}', '\u{9b}',
        ] {
            assert!(is_unsafe(c), "{:?}", c);
            assert!(!is_invisible(c), "{:?}", c);
        }
        for c in [
            'a', ' ', '\u{A0}', 'ё', '😀', '\u{2065}', '\u{202F}', '\u{2070}',
        ] {
            assert!(!is_unsafe(c), "{:?}", c);
        }
    }
}
