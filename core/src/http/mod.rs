//! §8 HTTP/1.x, client side: the response head, the body framing rules and the chunked
//! transfer coding, all over the caller's bytes.
//!
//! Three layers, each usable alone:
//!
//! * [`parse_response`] — a zero-copy parser of the status line and headers in the
//!   `httparse` shape: the caller lends the header slots (`[EMPTY_HEADER; N]`), the
//!   result borrows from the input, incomplete input is [`Status::Partial`](crate::Status),
//!   and running out of slots is [`HeadError::TooManyHeaders`]. §8 bounds the head to
//!   [`MAX_HEADERS`] headers and [`MAX_HEAD`] bytes; the byte limit is enforced by never
//!   looking past it, so a server that never ends its head costs at most that much.
//! * [`Response::body_kind`] and friends — how the body is delimited (RFC 9112 §6.3):
//!   no body for 1xx/204/304, chunked, `Content-Length`, or until the connection closes.
//! * [`ChunkedDecoder`] — a sans-IO state machine for `Transfer-Encoding: chunked` that
//!   hands out payload pieces borrowed from its input and never buffers.
//!
//! Nothing here allocates, and no input makes it panic: every length comes from the
//! input's own size, and every number is parsed with overflow checks.

mod body;
mod chunked;
mod head;
mod limits;

pub use body::{BodyError, BodyKind};
pub use chunked::{Chunk, ChunkedDecoder, ChunkedError, MAX_CHUNK_LINE, MAX_TRAILERS};
pub use head::{EMPTY_HEADER, HeadError, Header, Response, parse_response, parse_response_limited};
pub use limits::{MAX_HEAD, MAX_HEADERS};

#[cfg(test)]
mod robustness {
    //! No input makes the parsers panic: valid messages mutated at random with the bytes
    //! that matter to the grammar, parsed whole and at every cut.

    use super::*;
    use crate::Status;

    /// xorshift64: deterministic, no dependency.
    fn next(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    const INTERESTING: &[u8] = b"\r\n\0\t :;=\"0aAfF9-/HTTP\x7f\xff";

    fn mutate(base: &[u8], seed: u64, out: &mut [u8; 256]) -> usize {
        let mut st = seed | 1;
        let len = base.len().min(out.len());
        out[..len].copy_from_slice(&base[..len]);
        for _ in 0..(next(&mut st) % 6) {
            let at = (next(&mut st) as usize) % len;
            out[at] = INTERESTING[(next(&mut st) as usize) % INTERESTING.len()];
        }
        len
    }

    #[test]
    fn head_parser_never_panics() {
        let base = b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nTransfer-Encoding: gzip, chunked\r\nX:  y \r\n\r\nbody";
        let mut buf = [0u8; 256];
        for seed in 0..3000u64 {
            let len = mutate(base, seed, &mut buf);
            for cut in 0..=len {
                let mut slots = [EMPTY_HEADER; 4];
                if let Ok(Status::Complete(r)) = parse_response_limited(&buf[..cut], &mut slots, 60)
                {
                    assert!(r.head_len <= cut);
                    let _ = (r.body_kind(), r.content_length(), r.is_chunked());
                }
            }
        }
    }

    #[test]
    fn chunked_decoder_never_panics() {
        let base = b"1a;x=\"y\"\r\nabcdefghijklmnopqrstuvwxyz\r\n3\nabc\n0\r\nT: v\r\n\r\n";
        let mut buf = [0u8; 256];
        for seed in 0..3000u64 {
            let len = mutate(base, seed, &mut buf);
            let step = 1 + (seed as usize % 7);
            let mut d = ChunkedDecoder::new();
            let mut fed = 0;
            'feed: while fed < len {
                let mut rest = &buf[fed..(fed + step).min(len)];
                fed = (fed + step).min(len);
                loop {
                    match d.decode(rest) {
                        Ok((used, Status::Complete(Chunk::Data(p)))) => {
                            assert!(!p.is_empty() && used <= rest.len());
                            rest = &rest[used..];
                        }
                        Ok((_, Status::Complete(Chunk::Done))) | Err(_) => break 'feed,
                        Ok((used, Status::Partial)) => {
                            assert_eq!(used, rest.len());
                            break;
                        }
                    }
                }
            }
        }
    }
}
