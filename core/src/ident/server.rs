//! The §4 session.
//!
//! ```text
//! known IP:    S: Hello again, <name>!          then close
//! unknown IP:  S: What is your name?
//!              C: <name>
//!              S: Nice to meet you, <name>!     then close; the pair is stored
//! ```
//!
//! The frontend looks the peer's address up before opening the session (it owns the
//! table) and chooses [`Ident::known`] or [`Ident::unknown`] (or [`Ident::full`] when
//! the table has no room for another address). For an unknown client the
//! session reads one line; a valid name becomes its one [`SideWork`] request (the name
//! to store, with the peer's address) and the greeting waits for the reply (was it
//! stored?), so a client that was told `Nice to meet you` is known after a crash too.

use core::fmt::Write as _;

use heapless::String;

use super::name::{MAX_NAME_BYTES, valid_name};
use super::wire::{FULL, INVALID, QUESTION};
use crate::line::{LineReader, MAX_LINE_BUF};
use crate::outbuf::OutBuf;
use crate::session::{CloseReason, Session, Work};
use crate::side::SideWork;
use crate::time::Instant;

/// Output queue: the longest line is `Nice to meet you, <256 bytes>!\n`.
const OUT: usize = MAX_NAME_BYTES + 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for the name line.
    Asking,
    /// A valid name was read; the store request has not been taken yet.
    StoreWanted,
    /// The frontend is storing the name.
    Storing,
    /// Over; the reason stays.
    Closed(CloseReason),
}

/// One ident conversation.
#[derive(Debug)]
pub struct Ident {
    lines: LineReader<MAX_LINE_BUF>,
    out: OutBuf<OUT>,
    state: State,
    name: String<MAX_NAME_BYTES>,
    /// The peer half-closed while its name was being stored: still greet, then close.
    eof: bool,
}

impl Ident {
    /// A client whose address is stored under `name`: greet and close.
    pub fn known(name: &str) -> Self {
        let mut s = Self::with_state(State::Closed(CloseReason::Finished));
        // A name from the table longer than the rule allows (a hand-edited file) is
        // cut by the queue, never a panic.
        let _ = writeln!(Wr(&mut s.out), "Hello again, {name}!");
        s
    }

    /// A client not in the table: ask its name.
    pub fn unknown() -> Self {
        let mut s = Self::with_state(State::Asking);
        let _ = writeln!(Wr(&mut s.out), "{QUESTION}");
        s
    }

    /// A client not in the table, when the table has no room for it: say so and close
    /// without asking (nothing it could answer would be remembered).
    pub fn full() -> Self {
        let mut s = Self::with_state(State::Closed(CloseReason::Finished));
        let _ = writeln!(Wr(&mut s.out), "{FULL}");
        s
    }

    fn with_state(state: State) -> Self {
        Ident {
            lines: LineReader::new(),
            out: OutBuf::new(),
            state,
            name: String::new(),
            eof: false,
        }
    }

    fn reject(&mut self, reason: CloseReason) {
        let _ = writeln!(Wr(&mut self.out), "{INVALID}");
        self.state = State::Closed(reason);
    }
}

/// `core::fmt::Write` into an [`OutBuf`], dropping what does not fit.
struct Wr<'a, const N: usize>(&'a mut OutBuf<N>);

impl<const N: usize> core::fmt::Write for Wr<'_, N> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.push_partial(s.as_bytes());
        Ok(())
    }
}

impl Session for Ident {
    fn handle_input(&mut self, _now: Instant, input: &[u8]) -> usize {
        if self.state != State::Asking {
            // The conversation needs nothing more from the peer.
            return input.len();
        }
        let step = self.lines.next_line(input);
        match step.line {
            None => {}
            Some(Ok(line)) => match valid_name(line) {
                Some(name) => {
                    self.name.clear();
                    // Cannot fail: a valid name is at most MAX_NAME_BYTES.
                    let _ = self.name.push_str(name);
                    self.state = State::StoreWanted;
                }
                None => self.reject(CloseReason::Finished),
            },
            Some(Err(_)) => self.reject(CloseReason::ProtocolError),
        }
        // Whatever follows the name line is not part of §4.
        input.len()
    }

    fn handle_eof(&mut self, _now: Instant) {
        match self.state {
            State::Asking => self.state = State::Closed(CloseReason::PeerClosed),
            State::StoreWanted | State::Storing => self.eof = true,
            State::Closed(_) => {}
        }
    }

    fn poll_output(&mut self, buf: &mut [u8]) -> usize {
        self.out.pop_into(buf)
    }

    fn close_reason(&self) -> Option<CloseReason> {
        match self.state {
            State::Closed(r) => Some(r),
            _ => None,
        }
    }

    fn wants_output(&self) -> bool {
        !self.out.is_empty()
    }

    /// A name being stored is answered even when the server stops: the client is told
    /// `Nice to meet you` only once its name is on disk.
    fn in_flight(&self) -> Option<Work<'_>> {
        matches!(self.state, State::StoreWanted | State::Storing)
            .then_some(Work::Command("name store"))
    }
}

/// The request is the name to store; the reply says whether it was stored.
impl SideWork for Ident {
    type Request<'a> = &'a str;
    type Reply<'a> = bool;

    /// The name to store, once, after a valid answer. The frontend stores it with the
    /// peer's address.
    fn poll_request(&mut self) -> Option<&str> {
        if self.state != State::StoreWanted {
            return None;
        }
        self.state = State::Storing;
        Some(&self.name)
    }

    /// `true`: the pair is durable, greet. `false`: it could not be stored; the session
    /// closes without a greeting, because `Nice to meet you` would promise a memory the
    /// server does not have (the frontend logs why).
    fn handle_reply(&mut self, _now: Instant, stored: bool) {
        if self.state != State::Storing {
            return;
        }
        if stored {
            let _ = writeln!(Wr(&mut self.out), "Nice to meet you, {}!", self.name);
        }
        self.state = State::Closed(CloseReason::Finished);
    }

    fn request_in_flight(&self) -> bool {
        self.state == State::Storing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(s: &mut Ident) -> heapless::Vec<u8, 512> {
        let mut buf = [0u8; 512];
        let n = s.poll_output(&mut buf);
        heapless::Vec::from_slice(&buf[..n]).unwrap()
    }

    const T: Instant = Instant::ZERO;

    #[test]
    fn known() {
        let mut s = Ident::known("Ann");
        assert_eq!(&drain(&mut s)[..], b"Hello again, Ann!\n");
        assert_eq!(s.close_reason(), Some(CloseReason::Finished));
    }

    #[test]
    fn full_says_so_and_asks_nothing() {
        let mut s = Ident::full();
        assert_eq!(
            &drain(&mut s)[..],
            b"Sorry, I cannot remember any more names.\n"
        );
        assert_eq!(s.close_reason(), Some(CloseReason::Finished));
        s.handle_input(T, b"Ann\n");
        assert_eq!(s.poll_request(), None);
        assert!(drain(&mut s).is_empty());
    }

    #[test]
    fn unknown_then_stored() {
        let mut s = Ident::unknown();
        assert_eq!(&drain(&mut s)[..], b"What is your name?\n");
        assert_eq!(s.handle_input(T, b"  Bo"), 4);
        assert_eq!(s.poll_request(), None);
        s.handle_input(T, b"b \r\nextra");
        assert!(s.in_flight().is_some());
        assert_eq!(s.poll_request(), Some("Bob"));
        assert_eq!(s.poll_request(), None);
        s.handle_eof(T);
        assert_eq!(s.close_reason(), None, "waits for the store");
        assert!(!s.wants_output());
        s.handle_reply(T, true);
        assert_eq!(&drain(&mut s)[..], b"Nice to meet you, Bob!\n");
        assert_eq!(s.close_reason(), Some(CloseReason::Finished));
    }

    #[test]
    fn store_failure_closes_silently() {
        let mut s = Ident::unknown();
        drain(&mut s);
        s.handle_input(T, b"Bob\n");
        assert_eq!(s.poll_request(), Some("Bob"));
        s.handle_reply(T, false);
        assert!(!s.wants_output());
        assert_eq!(s.close_reason(), Some(CloseReason::Finished));
    }

    #[test]
    fn invalid_and_overlong() {
        for bad in [&b"a\tb\n"[..], b"\n", b"   \n", b"\xff\n"] {
            let mut s = Ident::unknown();
            drain(&mut s);
            s.handle_input(T, bad);
            assert_eq!(&drain(&mut s)[..], b"Sorry, that is not a valid name.\n");
            assert_eq!(s.poll_request(), None);
            assert_eq!(s.close_reason(), Some(CloseReason::Finished));
        }
        let mut s = Ident::unknown();
        drain(&mut s);
        let long = [b'x'; 1100];
        assert_eq!(s.handle_input(T, &long), 1100);
        assert_eq!(&drain(&mut s)[..], b"Sorry, that is not a valid name.\n");
        assert_eq!(s.close_reason(), Some(CloseReason::ProtocolError));
    }

    #[test]
    fn eof_before_a_name() {
        let mut s = Ident::unknown();
        drain(&mut s);
        s.handle_eof(T);
        assert_eq!(s.close_reason(), Some(CloseReason::PeerClosed));
    }
}
