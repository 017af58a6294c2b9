//! OS errors in a person's words, for after a colon in a message or a log line:
//! `cannot connect to 127.0.0.1:9090: connection refused`, not
//! `Connection refused (os error 111)`.
//!
//! One function for clients and servers alike, so the same failure reads the same
//! wherever it is reported. Words that only make sense in one place (what a failed bind
//! means) belong to that place, around this.

use std::io;

/// The error's own text, without the `(os error N)` suffix and with its first letter
/// lower-cased; the rest is kept as the OS wrote it (`remote I/O error`).
pub fn describe(err: &io::Error) -> String {
    let text = err.to_string();
    let text = match text.rfind(" (os error ") {
        Some(i) => &text[..i],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_errors_read_as_phrases() {
        let e = io::Error::from_raw_os_error(111);
        if cfg!(target_os = "linux") {
            assert_eq!(describe(&e), "connection refused");
        }
        assert_eq!(describe(&io::Error::other("Boom")), "boom");
    }
}
