//! §3 names: what may be stored, checked before any storage call.
//!
//! The check is the first of two fences. It keeps every name a single, visible path
//! component (no `/`, no `\`, not `.`/`..`, no leading dot), so a frontend never has to
//! interpret a name as a path; the frontend's own confinement (host: `openat` with
//! no-follow on a directory handle) is the second fence, against links and races that no
//! string check can see.
//!
//! It also keeps every name a single *look*: two names that print the same must be the
//! same bytes, or a listing could offer `e\u{301}.txt` next to `é.txt`, or show
//! `x\u{202E}gnp.exe` as "xexe.png". So a name is in Unicode NFC and holds no character
//! of [`crate::text::is_invisible`].
//!
//! NFC needs Unicode's tables and, for some strings, a full normalization.
//! `unicode-normalization` does that but links `alloc` (firmware has no allocator), and
//! its tables cost more flash than the firmware has left; ICU4X's normalizer needs
//! `alloc` too. So the exact check is behind the `nfc` feature, which the host turns on
//! (it also checks names in its client). Without it (firmware) the rule is conservative:
//! a name may only hold characters from [`surely_nfc`], a short list of ranges in which
//! every character is NFC on its own and combines with nothing (quick check "Yes",
//! combining class 0), so any string of them is NFC. Everything else is refused as
//! [`NameError::NfcUnknown`]: the board never stores a name the PC would refuse.

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
    /// Holds a character that prints as nothing or reorders the text around it
    /// ([`crate::text::is_invisible`]).
    Invisible,
    /// Not in Unicode NFC (e.g. `e` followed by U+0301 instead of `é`).
    NotNfc,
    /// Holds a character whose NFC form this build cannot check (firmware without the
    /// `nfc` feature; see the module docs).
    NfcUnknown,
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
            NameError::Invisible => {
                "a name must not contain invisible or direction-changing characters"
            }
            NameError::NotNfc => "a name must be in Unicode NFC (\u{e9}, not e + U+0301)",
            NameError::NfcUnknown => {
                "a name must use characters this server can check for Unicode NFC"
            }
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
            c if crate::text::is_invisible(c) => return Err(NameError::Invisible),
            _ => {}
        }
    }
    check_nfc(name)?;
    Ok(name)
}

#[cfg(feature = "nfc")]
fn check_nfc(name: &str) -> Result<(), NameError> {
    // The quick check decides almost every name; `is_nfc` normalizes only on "Maybe".
    if unicode_normalization::is_nfc(name) {
        Ok(())
    } else {
        Err(NameError::NotNfc)
    }
}

#[cfg(not(feature = "nfc"))]
fn check_nfc(name: &str) -> Result<(), NameError> {
    if name.chars().all(surely_nfc) {
        Ok(())
    } else {
        Err(NameError::NfcUnknown)
    }
}

/// True for characters that are NFC by themselves and never combine with a neighbour
/// (Unicode's NFC quick check says "Yes" and the canonical combining class is 0), so a
/// string made only of them is NFC. The rule of builds without the `nfc` feature; a
/// test checks every one of them against `unicode-normalization`.
pub fn surely_nfc(c: char) -> bool {
    matches!(
        c,
        // ASCII, Latin-1, Latin Extended-A and -B.
        ' '..='~'
            | '\u{A0}'..='\u{24F}'
            // Greek and Coptic, without the three singletons NFC replaces.
            | '\u{370}'..='\u{373}'
            | '\u{375}'..='\u{37D}'
            | '\u{37F}'..='\u{386}'
            | '\u{388}'..='\u{3FF}'
            // Cyrillic and its supplement, without the combining marks U+0483-U+0489.
            | '\u{400}'..='\u{482}'
            | '\u{48A}'..='\u{52F}'
            // Latin Extended Additional (Vietnamese).
            | '\u{1E00}'..='\u{1EFF}'
            // Dashes, quotes, bullets and the rest of General Punctuation in use.
            | '\u{2010}'..='\u{2027}'
            | '\u{2030}'..='\u{205E}'
            // Currency signs.
            | '\u{20A0}'..='\u{20C0}'
            // Hiragana and Katakana, without the combining (semi-)voiced marks.
            | '\u{3041}'..='\u{3096}'
            | '\u{309B}'..='\u{30FF}'
            // CJK Unified Ideographs, Hangul syllables.
            | '\u{4E00}'..='\u{9FFF}'
            | '\u{AC00}'..='\u{D7A3}'
            // Emoji and pictographs.
            | '\u{1F300}'..='\u{1FAFF}'
    )
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

    #[test]
    fn invisible_and_direction_changing_characters() {
        assert_eq!(validate_name("x\u{202e}gnp.exe"), Err(NameError::Invisible));
        assert_eq!(validate_name("a\u{2028}b"), Err(NameError::Invisible));
        assert_eq!(validate_name("\u{200b}"), Err(NameError::Invisible));
        assert_eq!(
            validate_name("\u{200b}\u{200b}\u{200b}"),
            Err(NameError::Invisible)
        );
        assert_eq!(validate_name("\u{feff}bom"), Err(NameError::Invisible));
        assert_eq!(validate_name("a\u{2066}b"), Err(NameError::Invisible));
        assert_eq!(validate_name("soft\u{ad}hyphen"), Err(NameError::Invisible));
    }

    #[test]
    fn names_are_nfc() {
        assert_eq!(validate_name("\u{e9}.txt"), Ok("\u{e9}.txt"));
        assert_eq!(validate_name("файл.txt"), Ok("файл.txt"));
        assert_eq!(validate_name("名前.txt"), Ok("名前.txt"));
        assert_eq!(validate_name("한글"), Ok("한글"));
        assert_eq!(validate_name("€ 😀 – “q”"), Ok("€ 😀 – “q”"));
        // NFD é: refused either way (the feature knows it is not NFC; without it, the
        // combining accent is a character the build cannot check).
        let nfd = validate_name("e\u{301}.txt");
        assert!(
            matches!(nfd, Err(NameError::NotNfc | NameError::NfcUnknown)),
            "{nfd:?}"
        );
        // Hangul jamo that compose to a syllable; the Kelvin sign (NFC: K).
        for n in ["\u{1100}\u{1161}", "\u{212a}", "\u{f900}", "\u{1f71}"] {
            assert!(validate_name(n).is_err(), "{n:?}");
        }
    }

    /// Exactly what the feature decides, for the characters the rule without it lets
    /// through and for a few it keeps out.
    #[cfg(feature = "nfc")]
    #[test]
    fn nfc_feature_errors() {
        assert_eq!(validate_name("e\u{301}.txt"), Err(NameError::NotNfc));
        assert_eq!(validate_name("\u{212a}"), Err(NameError::NotNfc));
        // NFC but outside the short list: the full check accepts it.
        assert_eq!(validate_name("שלום"), Ok("שלום"));
        assert_eq!(validate_name("e\u{301}\u{302}x"), Err(NameError::NotNfc));
    }

    #[cfg(not(feature = "nfc"))]
    #[test]
    fn without_the_feature_unknown_characters_are_refused() {
        assert_eq!(validate_name("e\u{301}.txt"), Err(NameError::NfcUnknown));
        assert_eq!(validate_name("שלום"), Err(NameError::NfcUnknown));
    }

    /// The short list is sound: every character in it is NFC on its own and has
    /// combining class 0, according to `unicode-normalization` (a dev-dependency, so
    /// this runs with and without the feature).
    #[test]
    fn the_conservative_list_only_holds_safe_characters() {
        use unicode_normalization::{IsNormalized, char::canonical_combining_class, is_nfc_quick};
        let mut count = 0;
        for c in (0..=0x10FFFFu32)
            .filter_map(char::from_u32)
            .filter(|&c| surely_nfc(c))
        {
            assert_eq!(canonical_combining_class(c), 0, "{c:?}");
            assert_eq!(
                is_nfc_quick(core::iter::once(c)),
                IsNormalized::Yes,
                "{c:?}"
            );
            count += 1;
        }
        assert!(count > 35_000, "{count}");
    }
}
