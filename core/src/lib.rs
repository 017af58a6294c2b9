//! The protocol core of socklab: every service as a sans-IO state machine, every wire
//! format as a borrowing parser.
//!
//! Nothing in this crate touches a socket, a clock, a file or the heap. A frontend (std
//! sockets in `socklab`, smoltcp in `socklab-embedded`) feeds a [`Session`] what arrived
//! and the current [`Instant`], and copies out what the session wants sent. That is what
//! lets the same code answer `nc` on a PC and run on a Cortex-M board with no heap.
//!
//! The wire formats are fixed by `PROTOCOLS.md`; each module names the section it
//! implements.
//!
//! * [`line`](mod@line) — §0 line rules: LF-terminated, CR dropped, 1024-byte limit, UTF-8.
//! * [`frame`] — §7 length-prefixed frames.
//! * [`http`] — §8 HTTP/1.x response heads, body framing and chunked decoding.
//! * [`session`] — the one shape every TCP service has, plus the idle-timeout wrapper.
//! * [`side`] — side work: a session that hands out requests (disk, hashing, a name
//!   store) and takes the replies, and the adapter that answers them inline.
//! * [`echo`] — §1, [`quiz`] — §2, [`files`] — §3, [`ident`] — §4, [`auth`] — §5: each a
//!   [`Session`].
//! * [`chat`] — §6, deliberately not a [`Session`]: UDP has no connection, so chat is
//!   one state machine for the whole server, datagrams in and out (a datagram endpoint,
//!   as quinn's `Endpoint` sits beside its `Connection`s).
//! * [`service`] — §0's table: every service's name, default port and transport.
//! * [`text`] — the characters §3, §4 and §6 keep out of names and chat text.
//! * [`rng`] — the random source services draw from, and a portable seeded generator.
//! * [`checksum`] — §3's crc32, with a small-flash and a fast backend.
//! * [`outbuf`] — the bounded queue of bytes a session owes its peer.
//! * [`time`] — milliseconds on the frontend's clock, passed into every call.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
pub mod chat;
pub mod checksum;
pub mod echo;
pub mod files;
pub mod frame;
pub mod http;
pub mod ident;
pub mod line;
pub mod outbuf;
pub mod quiz;
pub mod rng;
pub mod service;
pub mod session;
pub mod side;
pub mod text;
pub mod time;

pub use session::{CloseDetail, CloseReason, Event, Session, Work};
pub use time::{Duration, Instant};

/// The result of parsing input that may still be incomplete, as `httparse` reports it.
///
/// `Partial` is not an error: the caller keeps the bytes and calls again when more have
/// arrived. Errors (input that can never become valid) are the `Err` side of the
/// `Result` around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Status<T> {
    /// A whole item was parsed.
    Complete(T),
    /// More bytes are needed before anything can be said.
    Partial,
}

impl<T> Status<T> {
    /// The parsed value, if complete.
    pub fn complete(self) -> Option<T> {
        match self {
            Status::Complete(t) => Some(t),
            Status::Partial => None,
        }
    }

    /// True when more input is needed.
    pub fn is_partial(&self) -> bool {
        matches!(self, Status::Partial)
    }
}
