//! `Transfer-Encoding: chunked` (RFC 9112 §7.1) as a sans-IO state machine.
//!
//! ```text
//! 1a;ext=1\r\n          size in hex, optional extensions (ignored)
//! <26 bytes of data>\r\n
//! 0\r\n                 the last chunk
//! Trailer: x\r\n        optional trailers (skipped)
//! \r\n
//! ```
//!
//! The decoder keeps its place between calls, so it never needs a byte twice: the caller
//! feeds whatever arrived, drops `consumed` bytes, and feeds the rest plus the next read.
//! Payload comes out as slices of the input (no copy). The framing around it is read a
//! byte at a time — it is a few bytes per chunk — with bounds on the size line and the
//! trailer section, so a peer cannot make anyone wait on an endless line.

use crate::Status;

/// Most bytes a chunk-size line may hold (size and extensions, without its CRLF).
pub const MAX_CHUNK_LINE: usize = 4096;

/// Most bytes the trailer section may hold, line ends included (the §8 head limit).
pub const MAX_TRAILERS: usize = super::limits::MAX_HEAD;

/// What one [`ChunkedDecoder::decode`] call produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Chunk<'a> {
    /// Payload bytes, borrowed from the input; never empty.
    Data(&'a [u8]),
    /// The last chunk and the trailers are consumed: the body is complete. Bytes after
    /// it are not part of the body and are not consumed.
    Done,
}

/// Why a chunked body is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ChunkedError {
    /// A chunk-size line that does not start with a hex digit, or has junk after it.
    Size,
    /// A chunk size that does not fit in 64 bits.
    SizeOverflow,
    /// A chunk-size line over [`MAX_CHUNK_LINE`] bytes.
    LineTooLong,
    /// Chunk data not followed by a line end (the chunk is longer than its size said),
    /// or a CR not followed by LF.
    NewLine,
    /// Trailers over [`MAX_TRAILERS`] bytes.
    TrailersTooLarge,
}

impl core::fmt::Display for ChunkedError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ChunkedError::Size => f.write_str("malformed chunk size"),
            ChunkedError::SizeOverflow => f.write_str("chunk size does not fit in 64 bits"),
            ChunkedError::LineTooLong => {
                write!(f, "chunk size line longer than {MAX_CHUNK_LINE} bytes")
            }
            ChunkedError::NewLine => f.write_str("missing line end after chunk data"),
            ChunkedError::TrailersTooLarge => {
                write!(f, "chunked trailers longer than {MAX_TRAILERS} bytes")
            }
        }
    }
}

impl core::error::Error for ChunkedError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a chunk-size line: a hex digit must come.
    SizeStart,
    /// In the hex digits.
    Size(u64),
    /// After the digits, in whitespace before `;` or the line end.
    SizeWs(u64),
    /// In the extensions, which are skipped.
    Ext(u64),
    /// The size line's CR was seen; its LF must come.
    SizeLf(u64),
    /// In the chunk data, this many bytes left.
    Data(u64),
    /// After the data: CRLF or LF must come.
    DataEnd,
    /// After the data and a CR: LF must come.
    DataLf,
    /// At the start of a trailer line, or of the final blank line.
    TrailerStart,
    /// Inside a trailer line.
    Trailer,
    /// The final blank line's CR was seen.
    EndLf,
    /// Finished.
    Done,
}

/// Decodes one chunked body. Create one per response.
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    /// Bytes of the current size line, or of the trailers so far.
    count: usize,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkedDecoder {
    /// A decoder at the start of a body.
    pub const fn new() -> Self {
        ChunkedDecoder {
            state: State::SizeStart,
            count: 0,
        }
    }

    /// True once the last chunk and the trailers have been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decode from `input`. Returns the bytes used up (drop them before the next call)
    /// and either a piece of the body or `Partial`, which means all of `input` was
    /// consumed and more is needed. Call in a loop until `Partial` or `Done`.
    #[must_use = "the consumed count says how much input to drop"]
    pub fn decode<'a>(
        &mut self,
        input: &'a [u8],
    ) -> Result<(usize, Status<Chunk<'a>>), ChunkedError> {
        let mut i = 0;
        loop {
            match self.state {
                State::Done => return Ok((i, Status::Complete(Chunk::Done))),
                State::Data(left) => {
                    let rest = input.get(i..).unwrap_or_default();
                    if rest.is_empty() {
                        return Ok((i, Status::Partial));
                    }
                    let n = rest.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    let left = left - n as u64;
                    self.state = if left == 0 {
                        State::DataEnd
                    } else {
                        State::Data(left)
                    };
                    return Ok((i + n, Status::Complete(Chunk::Data(&rest[..n]))));
                }
                _ => {}
            }
            let Some(&b) = input.get(i) else {
                return Ok((i, Status::Partial));
            };
            i += 1;
            self.state = self.step(b)?;
        }
    }

    /// One framing byte.
    fn step(&mut self, b: u8) -> Result<State, ChunkedError> {
        use State::*;
        Ok(match (self.state, b) {
            (SizeStart, _) => {
                let d = hex(b).ok_or(ChunkedError::Size)?;
                self.count = 0;
                self.bump_line()?;
                Size(d)
            }
            (Size(n), _) if hex(b).is_some() => {
                self.bump_line()?;
                if n > u64::MAX >> 4 {
                    return Err(ChunkedError::SizeOverflow);
                }
                Size((n << 4) | hex(b).unwrap_or(0))
            }
            (Size(n) | SizeWs(n), b' ' | b'\t') => {
                self.bump_line()?;
                SizeWs(n)
            }
            (Size(n) | SizeWs(n) | Ext(n), b';') => {
                self.bump_line()?;
                Ext(n)
            }
            (Size(n) | SizeWs(n) | Ext(n), b'\r') => SizeLf(n),
            (Size(n) | SizeWs(n) | Ext(n) | SizeLf(n), b'\n') => self.size_line_done(n),
            (Ext(n), _) => {
                self.bump_line()?;
                Ext(n)
            }
            (Size(_) | SizeWs(_), _) => return Err(ChunkedError::Size),
            (DataEnd, b'\r') => DataLf,
            (DataEnd | DataLf, b'\n') => SizeStart,
            (DataEnd, _) => return Err(ChunkedError::NewLine),
            (TrailerStart, b'\r') => EndLf,
            (TrailerStart | EndLf, b'\n') => Done,
            (TrailerStart | Trailer, _) => {
                self.count += 1;
                if self.count > MAX_TRAILERS {
                    return Err(ChunkedError::TrailersTooLarge);
                }
                if b == b'\n' { TrailerStart } else { Trailer }
            }
            (SizeLf(_) | DataLf | EndLf, _) => return Err(ChunkedError::NewLine),
            // Handled by `decode` without reading a byte.
            (Data(_) | Done, _) => self.state,
        })
    }

    fn bump_line(&mut self) -> Result<(), ChunkedError> {
        self.count += 1;
        if self.count > MAX_CHUNK_LINE {
            Err(ChunkedError::LineTooLong)
        } else {
            Ok(())
        }
    }

    fn size_line_done(&mut self, size: u64) -> State {
        self.count = 0;
        if size == 0 {
            State::TrailerStart
        } else {
            State::Data(size)
        }
    }
}

fn hex(b: u8) -> Option<u64> {
    (b as char).to_digit(16).map(u64::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decode `input` fed in pieces of `step` bytes, the caller keeping unconsumed bytes
    /// as a real one would. Returns the payload and whether `Done` was reached, or the
    /// error.
    fn decode_in_pieces(
        input: &[u8],
        step: usize,
    ) -> Result<([u8; 256], usize, bool), ChunkedError> {
        let mut d = ChunkedDecoder::new();
        let mut out = [0u8; 256];
        let mut len = 0;
        let mut pending: &[u8] = &[];
        let mut fed = 0;
        loop {
            // The decoder consumes everything on Partial, so pending is always a suffix
            // of input and "append the next read" is just widening the slice.
            if pending.is_empty() {
                if fed >= input.len() {
                    return Ok((out, len, false));
                }
                let end = (fed + step).min(input.len());
                pending = &input[fed..end];
                fed = end;
            }
            let (used, status) = d.decode(pending)?;
            pending = &pending[used..];
            match status {
                Status::Complete(Chunk::Data(p)) => {
                    assert!(!p.is_empty());
                    out[len..len + p.len()].copy_from_slice(p);
                    len += p.len();
                }
                Status::Complete(Chunk::Done) => {
                    assert!(d.is_done());
                    let rest = pending.len() + (input.len() - fed);
                    assert_eq!(rest, 3, "exactly the trailing marker is left");
                    return Ok((out, len, true));
                }
                Status::Partial => assert!(pending.is_empty()),
            }
        }
    }

    /// Every body below is followed by `XYZ`, which the decoder must not consume.
    macro_rules! chunked {
        ($name:ident, $input:expr, Ok($want:expr)) => {
            #[test]
            fn $name() {
                let input: &[u8] = $input;
                let want: &[u8] = $want;
                for step in 1..=input.len() {
                    let (out, len, done) = decode_in_pieces(input, step).unwrap();
                    assert!(done, "step {step}");
                    assert_eq!(&out[..len], want, "step {step}");
                }
            }
        };
        ($name:ident, $input:expr, Err($err:ident)) => {
            #[test]
            fn $name() {
                let input: &[u8] = $input;
                for step in 1..=input.len() {
                    assert_eq!(
                        decode_in_pieces(input, step).map(|r| r.2),
                        Err(ChunkedError::$err),
                        "step {step}"
                    );
                }
            }
        };
    }

    chunked!(
        simple,
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nXYZ",
        Ok(b"hello world")
    );
    chunked!(bare_lf, b"5\nhello\n0\n\nXYZ", Ok(b"hello"));
    chunked!(
        hex_cases,
        b"A\r\n0123456789\r\n0000b\r\nabcdefghijk\r\n0\r\n\r\nXYZ",
        Ok(b"0123456789abcdefghijk")
    );
    chunked!(
        extensions,
        b"3;name=val;x=\"q;s\"\r\nabc\r\n3 ; e\r\ndef\r\n0;last\r\n\r\nXYZ",
        Ok(b"abcdef")
    );
    chunked!(
        trailers,
        b"2\r\nhi\r\n0\r\nExpires: never\r\nX: y\n\r\nXYZ",
        Ok(b"hi")
    );
    chunked!(empty_body, b"0\r\n\r\nXYZ", Ok(b""));
    chunked!(
        binary_data,
        b"4\r\n\r\n\0\n\r\n0\r\n\r\nXYZ",
        Ok(b"\r\n\0\n")
    );

    chunked!(err_no_digits, b"\r\nabc\r\n0\r\n\r\nXYZ", Err(Size));
    chunked!(
        err_junk_after_size,
        b"5x\r\nhello\r\n0\r\n\r\nXYZ",
        Err(Size)
    );
    chunked!(err_sign, b"-5\r\nhello\r\n0\r\n\r\nXYZ", Err(Size));
    chunked!(
        err_ws_then_digit,
        b"5 5\r\nhello\r\n0\r\n\r\nXYZ",
        Err(Size)
    );
    chunked!(err_overflow, b"10000000000000000\r\nXYZ", Err(SizeOverflow));
    chunked!(err_data_too_long, b"2\r\nabc\r\n0\r\n\r\nXYZ", Err(NewLine));
    chunked!(err_cr_without_lf, b"2\rab\r\n0\r\n\r\nXYZ", Err(NewLine));
    chunked!(err_end_cr_without_lf, b"0\r\n\rXYZ", Err(NewLine));

    #[test]
    fn largest_size_fits() {
        let mut d = ChunkedDecoder::new();
        let (n, s) = d.decode(b"ffffffffffffffff\r\nab").unwrap();
        assert_eq!((n, s), (20, Status::Complete(Chunk::Data(b"ab"))));
        assert_eq!(d.state, State::Data(u64::MAX - 2));
    }

    #[test]
    fn size_line_and_trailers_are_bounded() {
        let mut d = ChunkedDecoder::new();
        let mut line = [b'0'; MAX_CHUNK_LINE + 1];
        assert_eq!(
            d.decode(&line[..MAX_CHUNK_LINE]),
            Ok((MAX_CHUNK_LINE, Status::Partial))
        );
        assert_eq!(
            d.decode(&line[MAX_CHUNK_LINE..]),
            Err(ChunkedError::LineTooLong)
        );
        line[0] = b'1';
        line[1] = b';';
        let mut d = ChunkedDecoder::new();
        assert_eq!(d.decode(&line), Err(ChunkedError::LineTooLong));

        let mut d = ChunkedDecoder::new();
        assert_eq!(d.decode(b"0\r\n"), Ok((3, Status::Partial)));
        let trailer = [b'x'; 1024];
        let mut total = 0;
        let err = loop {
            match d.decode(&trailer) {
                Ok((n, Status::Partial)) => total += n,
                Ok(other) => panic!("{other:?}"),
                Err(e) => break e,
            }
        };
        assert_eq!((err, total), (ChunkedError::TrailersTooLarge, MAX_TRAILERS));
    }

    #[test]
    fn done_is_sticky() {
        let mut d = ChunkedDecoder::new();
        assert_eq!(
            d.decode(b"0\n\nmore"),
            Ok((3, Status::Complete(Chunk::Done)))
        );
        assert_eq!(d.decode(b"more"), Ok((0, Status::Complete(Chunk::Done))));
    }
}
