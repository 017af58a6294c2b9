//! The one shape every TCP service has.
//!
//! A [`Session`] is one conversation: one TCP connection, from its first byte to its
//! close. It is the quinn-proto `Connection` shape cut down to what these protocols need:
//!
//! * input: [`handle_input`](Session::handle_input), [`handle_eof`](Session::handle_eof),
//!   [`handle_timeout`](Session::handle_timeout) — what happened, with the time it
//!   happened;
//! * output: [`poll_output`](Session::poll_output), [`poll_timeout`](Session::poll_timeout),
//!   [`poll_event`](Session::poll_event) — what the frontend must do now;
//! * state: [`close_reason`](Session::close_reason).
//!
//! A driver calls them in this order, each time something happens:
//!
//! 1. feed input (or EOF, or the timeout that fired), offering unconsumed bytes again
//!    later: `handle_input` takes only what its bounded output queue can answer, which is
//!    how backpressure reaches the peer — the frontend stops reading from the socket;
//! 2. drain `poll_output` into the socket until it returns 0 or the socket is full;
//! 3. drain `poll_event`;
//! 4. if `close_reason()` is `Some` and no output is left, close the connection;
//! 5. re-arm the timer from `poll_timeout`.
//!
//! Sessions never block, allocate, or read a clock, so the same value runs under mio on
//! a PC, under smoltcp on a board, and in a test that steps simulated time.
//!
//! UDP chat (§6) is deliberately not a `Session`: it has no connection, no byte stream
//! and no EOF, but one table of members fed datagrams from many addresses. It is a
//! datagram endpoint beside the sessions, as quinn's `Endpoint` sits beside its
//! `Connection`s: [`ChatServer`](crate::chat::ChatServer) keeps the same sans-IO rules
//! (time passed in, bounded output drained by polling) with datagram-shaped calls
//! (`handle_datagram(now, from, bytes)`, `poll_transmit`).

use crate::time::{Duration, Instant, earliest};

/// Why a session ended, as the server's event log reports it (§0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CloseReason {
    /// The peer closed its side (EOF).
    PeerClosed,
    /// The peer asked to end the session (`quit`, `QUIT`, `stop`).
    Quit,
    /// Idle timeout, or a protocol deadline such as the quiz answer timeout.
    Timeout,
    /// The peer broke the protocol (overlong line, frame over the limit).
    ProtocolError,
    /// The conversation reached its natural end (quiz won or lost, ident answered).
    Finished,
    /// The connection failed underneath (reset); only frontends report this.
    Reset,
    /// The server is shutting down.
    ServerStopping,
}

impl CloseReason {
    /// The words the event log uses.
    pub const fn as_str(self) -> &'static str {
        match self {
            CloseReason::PeerClosed => "closed by peer",
            CloseReason::Quit => "quit",
            CloseReason::Timeout => "timeout",
            CloseReason::ProtocolError => "protocol error",
            CloseReason::Finished => "session finished",
            CloseReason::Reset => "reset",
            CloseReason::ServerStopping => "server stopping",
        }
    }
}

impl core::fmt::Display for CloseReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What ended a session, in more words than its [`CloseReason`]: the figures a teacher
/// or an operator wants in the log (§0's reasons stay the short list). Copy and
/// allocation-free; the host appends it to the reason: `session finished: won 10/10`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CloseDetail {
    /// Quiz (§2): all `count` answers were right.
    QuizWon {
        /// Problems in the quiz.
        count: u32,
    },
    /// Quiz: the answer to problem `at` was wrong.
    QuizWrong {
        /// The problem answered wrong (1-based).
        at: u32,
    },
    /// Quiz: no answer to problem `at` within `--answer-timeout`.
    QuizTimedOut {
        /// The problem left unanswered (1-based).
        at: u32,
    },
    /// Quiz: the answer to problem `at` was a line over §0's limit.
    QuizLineTooLong {
        /// The problem being answered (1-based).
        at: u32,
    },
    /// Quiz: the player left while problem `at` was open.
    QuizLeft {
        /// The problem being answered (1-based).
        at: u32,
    },
    /// A §7 frame header announced more than `--max-frame`.
    FrameTooLarge {
        /// The length in the header.
        len: u32,
        /// The limit in force.
        limit: u32,
    },
}

impl core::fmt::Display for CloseDetail {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            CloseDetail::QuizWon { count } => write!(f, "won {count}/{count}"),
            CloseDetail::QuizWrong { at } => write!(f, "wrong at {at}"),
            CloseDetail::QuizTimedOut { at } => write!(f, "timed out at {at}"),
            CloseDetail::QuizLineTooLong { at } => write!(f, "line too long at {at}"),
            CloseDetail::QuizLeft { at } => write!(f, "left at {at}"),
            CloseDetail::FrameTooLarge { len, limit } => {
                write!(f, "frame header says {len} bytes, limit {limit}")
            }
        }
    }
}

/// Work a session is in the middle of: what a stopping server waits for (§0) and, if
/// its `--drain-timeout` runs out, names in the log as cut. Borrowed from the session,
/// so nothing is allocated to describe it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Work<'a> {
    /// A file going to the peer (files `GET`): `done` of `total` bytes handed out.
    Download {
        /// The file's name.
        name: &'a str,
        /// Bytes of it handed to the frontend so far.
        done: u64,
        /// Its size.
        total: u64,
    },
    /// A file coming from the peer (files `PUT`): `done` of `total` bytes taken.
    Upload {
        /// The file's name.
        name: &'a str,
        /// Bytes of it received so far.
        done: u64,
        /// The size announced.
        total: u64,
    },
    /// A command whose answer is being worked out (an auth `LOGIN` being hashed and
    /// saved, a files `LIST`).
    Command(&'static str),
}

impl core::fmt::Display for Work<'_> {
    /// The log's words for this work when the drain cuts it.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Work::Download { name, done, total } => {
                write!(f, "GET {name} cut after {done} of {total} bytes")
            }
            Work::Upload { name, done, total } => {
                write!(f, "PUT {name} cut after {done} of {total} bytes")
            }
            Work::Command(word) => write!(f, "{word} cut before its answer"),
        }
    }
}

/// Something a session asks of the frontend beyond sending bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Event {
    /// Stop the whole server gracefully (echo's `stop` under `--allow-stop`).
    StopServer,
}

/// A sans-IO protocol session. See the module docs for the calling order.
pub trait Session {
    /// Bytes arrived from the peer at `now`. Returns how many were taken; the rest must
    /// be offered again after [`poll_output`](Self::poll_output) has made room. After
    /// the session closed it takes (and ignores) everything.
    fn handle_input(&mut self, now: Instant, input: &[u8]) -> usize;

    /// The peer will send nothing more.
    fn handle_eof(&mut self, now: Instant);

    /// Time passed; called at or after [`poll_timeout`](Self::poll_timeout).
    ///
    /// The default does nothing, which is right only for a session without deadlines: a
    /// session with one overrides both this and [`poll_timeout`](Self::poll_timeout),
    /// or its deadline never fires. (§0's idle timeout is [`Idle`]'s, not the
    /// session's.)
    fn handle_timeout(&mut self, now: Instant) {
        let _ = now;
    }

    /// Copy bytes owed to the peer into `buf`; returns how many. 0 means nothing owed.
    #[must_use]
    fn poll_output(&mut self, buf: &mut [u8]) -> usize;

    /// When [`handle_timeout`](Self::handle_timeout) should next be called. The default,
    /// never, goes with the default `handle_timeout`: override both or neither.
    #[must_use]
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    /// Requests for the frontend, each returned once.
    #[must_use]
    fn poll_event(&mut self) -> Option<Event> {
        None
    }

    /// `Some` once the session is over: it takes no more input, and the frontend closes
    /// the connection after draining [`poll_output`](Self::poll_output).
    fn close_reason(&self) -> Option<CloseReason>;

    /// True while bytes are owed to the peer ([`poll_output`](Self::poll_output) would
    /// return more than 0).
    fn wants_output(&self) -> bool;

    /// More about why the session closed, once it has (for the log). Most reasons say
    /// it all; the quiz's outcome and a refused frame's length do not.
    fn close_detail(&self) -> Option<CloseDetail> {
        None
    }

    /// The server is stopping (§0): start no new work, finish what is under way.
    ///
    /// From then on the frontend offers only input it already holds, and reads more
    /// from the peer only while [`in_flight`](Self::in_flight) is `Some` (an upload
    /// needs its payload); it closes the connection as
    /// [`ServerStopping`](CloseReason::ServerStopping) once the session has no work in
    /// flight and owes nothing, unless the session closed first. A session with nothing
    /// to finish keeps the default, which does nothing.
    fn handle_stop(&mut self, now: Instant) {
        let _ = now;
    }

    /// The work under way that a stopping server should let finish, if any; `None`
    /// means the session is idle between commands and may be closed at once.
    fn in_flight(&self) -> Option<Work<'_>> {
        None
    }
}

/// Adds §0's idle timeout to any session: closes it when the peer sent nothing for
/// `timeout`. Kept outside the services so each one states only its own protocol.
#[derive(Debug)]
pub struct Idle<S> {
    inner: S,
    timeout: Duration,
    last_input: Instant,
    expired: bool,
}

impl<S: Session> Idle<S> {
    /// Wrap `inner`, counting idleness from `now`.
    pub fn new(inner: S, now: Instant, timeout: Duration) -> Self {
        Idle {
            inner,
            timeout,
            last_input: now,
            expired: false,
        }
    }

    /// The wrapped session.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The wrapped session, mutably.
    pub fn inner_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    fn deadline(&self) -> Instant {
        self.last_input + self.timeout
    }
}

impl<S: Session> Session for Idle<S> {
    fn handle_input(&mut self, now: Instant, input: &[u8]) -> usize {
        if self.expired {
            return input.len();
        }
        if !input.is_empty() {
            self.last_input = now;
        }
        self.inner.handle_input(now, input)
    }

    fn handle_eof(&mut self, now: Instant) {
        self.inner.handle_eof(now);
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.inner.close_reason().is_none() && !self.expired && now >= self.deadline() {
            self.expired = true;
            return;
        }
        self.inner.handle_timeout(now);
    }

    fn poll_output(&mut self, buf: &mut [u8]) -> usize {
        self.inner.poll_output(buf)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        if self.expired || self.inner.close_reason().is_some() {
            return self.inner.poll_timeout();
        }
        earliest(self.inner.poll_timeout(), Some(self.deadline()))
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.inner.poll_event()
    }

    /// `Timeout` wins once the idle timer expired: the inner session never learns of
    /// the expiry, so a later EOF could otherwise close it as `PeerClosed` and change a
    /// reason that must never change (FUZZING.md, bug 1). Expiry only happens while the
    /// inner session is open, so no earlier reason is hidden.
    fn close_reason(&self) -> Option<CloseReason> {
        if self.expired {
            Some(CloseReason::Timeout)
        } else {
            self.inner.close_reason()
        }
    }

    fn wants_output(&self) -> bool {
        self.inner.wants_output()
    }

    fn close_detail(&self) -> Option<CloseDetail> {
        if self.expired {
            None
        } else {
            self.inner.close_detail()
        }
    }

    fn handle_stop(&mut self, now: Instant) {
        self.inner.handle_stop(now);
    }

    fn in_flight(&self) -> Option<Work<'_>> {
        if self.expired {
            None
        } else {
            self.inner.in_flight()
        }
    }
}
