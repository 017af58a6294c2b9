//! §0 line rules shared by every text protocol.
//!
//! A line ends with LF; a CR right before the LF is dropped (so `nc -C` and Windows
//! telnet work); at most [`MAX_LINE`] bytes not counting that CR/LF; UTF-8 is checked
//! only by services that need text ([`text`]), because echo is binary-safe.
//!
//! Two layers, as `httparse` splits them: [`split_line`] is a pure function over the
//! caller's bytes that borrows and never copies, and [`LineReader`] adds the one bounded
//! buffer a session needs for a line that arrives in pieces. Whole lines inside one read
//! are handed out straight from the input, so the common case copies nothing.

use crate::Status;
use heapless::Vec;

/// Maximum line length in bytes, not counting the LF or a CR right before it (§0).
pub const MAX_LINE: usize = 1024;

/// Buffer capacity a [`LineReader`] needs for [`MAX_LINE`]: the content plus a CR that
/// may arrive before the LF does.
pub const MAX_LINE_BUF: usize = MAX_LINE + 1;

/// A line that can never be valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LineError {
    /// More than the limit without an LF. Terminal: §0 says the server answers and
    /// closes, so the reader does not try to resynchronise.
    TooLong,
    /// The line is complete but not UTF-8. Not terminal: the line was consumed.
    InvalidUtf8,
}

impl core::fmt::Display for LineError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LineError::TooLong => write!(f, "line longer than {MAX_LINE} bytes"),
            LineError::InvalidUtf8 => f.write_str("line is not valid UTF-8"),
        }
    }
}

impl core::error::Error for LineError {}

/// One complete line borrowed from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// The line without its LF and without a CR right before it.
    pub bytes: &'a [u8],
    /// Bytes of input the line took, terminator included: drop these before the next call.
    pub consumed: usize,
}

/// Split the first line off `input`.
///
/// `Ok(Partial)` means no LF yet and nothing wrong so far. `Err(TooLong)` comes as soon
/// as the bytes seen prove the line is over `max` — it never waits for the LF, so a
/// peer cannot make anyone buffer more than `max + 1` bytes. At most `max + 2` bytes
/// are scanned, however long `input` is.
pub fn split_line(input: &[u8], max: usize) -> Result<Status<Line<'_>>, LineError> {
    let window = &input[..input.len().min(max.saturating_add(2))];
    match memchr::memchr(b'\n', window) {
        Some(lf) => {
            let bytes = strip_cr(&input[..lf]);
            if bytes.len() > max {
                Err(LineError::TooLong)
            } else {
                Ok(Status::Complete(Line {
                    bytes,
                    consumed: lf + 1,
                }))
            }
        }
        None if partial_too_long(input.len(), input.last().copied(), max) => {
            Err(LineError::TooLong)
        }
        None => Ok(Status::Partial),
    }
}

/// The line as text, or [`LineError::InvalidUtf8`].
pub fn text(line: &[u8]) -> Result<&str, LineError> {
    core::str::from_utf8(line).map_err(|_| LineError::InvalidUtf8)
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Whether `len` bytes with no LF yet (the last one being `last`) already exceed `max`.
/// One byte over is allowed only if it is a CR, which the LF may still follow.
fn partial_too_long(len: usize, last: Option<u8>, max: usize) -> bool {
    len > max + 1 || (len == max + 1 && last != Some(b'\r'))
}

/// What one [`LineReader::next_line`] call produced.
#[derive(Debug, PartialEq, Eq)]
pub struct Step<'a> {
    /// Bytes of the input this call used up; drop them before the next call.
    pub consumed: usize,
    /// A complete line, an error, or `None` when all of the input was buffered.
    pub line: Option<Result<&'a [u8], LineError>>,
}

impl Step<'_> {
    /// The line copied into `copy`, so that it no longer borrows the reader and a handler
    /// that needs the whole session can take it; errors pass through. `copy` holds the
    /// longest line a §0 reader ([`MAX_LINE_BUF`]) gives.
    pub fn copied<'b>(&self, copy: &'b mut [u8; MAX_LINE]) -> Option<Result<&'b [u8], LineError>> {
        let line = self.line.as_ref()?;
        Some(line.map(|l| {
            let n = l.len().min(MAX_LINE);
            copy[..n].copy_from_slice(&l[..n]);
            &copy[..n]
        }))
    }
}

/// Reassembles lines that arrive split across reads, in a fixed buffer of `CAP` bytes
/// (lines of up to `CAP - 1` bytes; use [`MAX_LINE_BUF`] for §0).
///
/// Call [`next_line`](Self::next_line) in a loop, dropping `consumed` bytes each time,
/// until it returns `line: None` (all input taken) or an error.
#[derive(Debug, Default)]
pub struct LineReader<const CAP: usize> {
    buf: Vec<u8, CAP>,
    /// The buffer still holds the line handed out last time; clear it on the next call.
    /// (It cannot be cleared before returning, since the returned line borrows it.)
    stale: bool,
}

impl<const CAP: usize> LineReader<CAP> {
    const MAX: usize = CAP - 1;

    /// An empty reader.
    pub const fn new() -> Self {
        LineReader {
            buf: Vec::new(),
            stale: false,
        }
    }

    /// True if part of a line is waiting for its LF.
    pub fn has_partial(&self) -> bool {
        !self.stale && !self.buf.is_empty()
    }

    /// Take the next line from what is buffered plus `input`.
    pub fn next_line<'a>(&'a mut self, input: &'a [u8]) -> Step<'a> {
        if self.stale {
            self.buf.clear();
            self.stale = false;
        }
        if input.is_empty() {
            return Step {
                consumed: 0,
                line: None,
            };
        }
        if self.buf.is_empty() {
            return match split_line(input, Self::MAX) {
                Ok(Status::Complete(line)) => Step {
                    consumed: line.consumed,
                    line: Some(Ok(line.bytes)),
                },
                Ok(Status::Partial) => {
                    // Fits: split_line checked len <= MAX + 1 == CAP.
                    let _ = self.buf.extend_from_slice(input);
                    Step {
                        consumed: input.len(),
                        line: None,
                    }
                }
                Err(e) => Step {
                    consumed: input.len(),
                    line: Some(Err(e)),
                },
            };
        }
        let have = self.buf.len();
        let window = &input[..input.len().min(CAP + 1 - have)];
        match memchr::memchr(b'\n', window) {
            Some(lf) => {
                if self.buf.extend_from_slice(&input[..lf]).is_err()
                    || strip_cr(&self.buf).len() > Self::MAX
                {
                    return Step {
                        consumed: input.len(),
                        line: Some(Err(LineError::TooLong)),
                    };
                }
                self.stale = true;
                Step {
                    consumed: lf + 1,
                    line: Some(Ok(strip_cr(&self.buf))),
                }
            }
            None => {
                let total = have + input.len();
                if partial_too_long(total, input.last().copied(), Self::MAX)
                    || self.buf.extend_from_slice(input).is_err()
                {
                    return Step {
                        consumed: input.len(),
                        line: Some(Err(LineError::TooLong)),
                    };
                }
                Step {
                    consumed: input.len(),
                    line: None,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lf_and_drops_cr() {
        assert_eq!(
            split_line(b"ab\r\ncd", 8),
            Ok(Status::Complete(Line {
                bytes: b"ab",
                consumed: 4
            }))
        );
        assert_eq!(
            split_line(b"a\rb\n", 8).unwrap().complete().unwrap().bytes,
            b"a\rb"
        );
        assert_eq!(split_line(b"abc", 8), Ok(Status::Partial));
    }

    #[test]
    fn limit_is_exact() {
        let max = [b'x'; 4];
        assert!(split_line(b"xxxx\n", 4).unwrap().complete().is_some());
        assert!(split_line(b"xxxx\r\n", 4).unwrap().complete().is_some());
        assert_eq!(split_line(b"xxxxx\n", 4), Err(LineError::TooLong));
        assert_eq!(split_line(&max, 4), Ok(Status::Partial));
        assert_eq!(split_line(b"xxxx\r", 4), Ok(Status::Partial));
        assert_eq!(split_line(b"xxxxx", 4), Err(LineError::TooLong));
        assert_eq!(split_line(b"xxxx\rx", 4), Err(LineError::TooLong));
    }

    #[test]
    fn reader_joins_pieces_and_keeps_limit() {
        let mut r = LineReader::<5>::new();
        assert_eq!(r.next_line(b"ab").line, None);
        assert_eq!(r.next_line(b"c").line, None);
        let s = r.next_line(b"d\r\nrest");
        assert_eq!((s.consumed, s.line), (3, Some(Ok(&b"abcd"[..]))));
        let s = r.next_line(b"rest\n");
        assert_eq!(s.line, Some(Ok(&b"rest"[..])));
        assert_eq!(r.next_line(b"abc").line, None);
        assert_eq!(r.next_line(b"de").line, Some(Err(LineError::TooLong)));
    }

    #[test]
    fn reader_accepts_cr_split_from_lf() {
        let mut r = LineReader::<5>::new();
        assert_eq!(r.next_line(b"abcd\r").line, None);
        assert_eq!(r.next_line(b"\n").line, Some(Ok(&b"abcd"[..])));
        let mut r = LineReader::<5>::new();
        assert_eq!(r.next_line(b"abcd").line, None);
        assert_eq!(r.next_line(b"\r").line, None);
        assert_eq!(r.next_line(b"x").line, Some(Err(LineError::TooLong)));
    }
}
