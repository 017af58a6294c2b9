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

pub use body::{BodyError, BodyKind};
pub use chunked::{Chunk, ChunkedDecoder, ChunkedError, MAX_CHUNK_LINE, MAX_TRAILERS};
pub use head::{EMPTY_HEADER, HeadError, Header, Response, parse_response, parse_response_limited};

/// Most headers a response may have (§8); give [`parse_response`] this many slots.
pub const MAX_HEADERS: usize = 100;

/// Most bytes a response head may take, status line and final blank line included (§8).
pub const MAX_HEAD: usize = 64 * 1024;
