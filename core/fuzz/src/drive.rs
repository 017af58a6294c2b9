//! A generic driver for [`Session`]s that checks the contract of `core/src/session.rs`
//! on every call, whatever the service:
//!
//! * `handle_input` takes at most what it was offered, and everything once closed;
//! * `poll_output` writes at most the buffer, and returns bytes exactly when
//!   `wants_output()` said so;
//! * `close_reason()` turns `Some` once and never changes again;
//! * input after the close does not make the session owe more output;
//! * `handle_timeout` called before `poll_timeout()` does not close the session.

use socklab_core::{CloseReason, Instant, Session};

/// Most input kept waiting when the session applies backpressure; beyond it the
/// driver drops new input, as a full socket buffer would.
const MAX_PENDING: usize = 1 << 16;

/// A session, the simulated clock, and every byte that went in and came out.
#[derive(Debug)]
pub struct Driver<S> {
    /// The session under test.
    pub s: S,
    /// Milliseconds on the simulated clock.
    pub now: u64,
    /// Offered but not yet taken (backpressure).
    pub pending: Vec<u8>,
    /// Every byte the session took while it was open, in order.
    pub consumed: Vec<u8>,
    /// Every byte the session sent.
    pub out: Vec<u8>,
    /// EOF was delivered.
    pub eof: bool,
    /// The peer half-closed; EOF is delivered once the pending input was taken.
    eof_read: bool,
    closed: Option<CloseReason>,
}

impl<S: Session> Driver<S> {
    /// Drive `s`, starting at `now` milliseconds.
    pub fn new(s: S, now: u64) -> Self {
        let mut d = Driver {
            s,
            now,
            pending: Vec::new(),
            consumed: Vec::new(),
            out: Vec::new(),
            eof: false,
            eof_read: false,
            closed: None,
        };
        d.check_close();
        d
    }

    /// The simulated time.
    pub fn instant(&self) -> Instant {
        Instant::from_millis(self.now)
    }

    /// The close reason seen so far (checked to be stable).
    pub fn closed(&self) -> Option<CloseReason> {
        self.closed
    }

    /// Re-check the close state after calling the session directly (storage replies).
    pub fn sync(&mut self) {
        self.check_close();
    }

    fn check_close(&mut self) {
        let now = self.s.close_reason();
        if let Some(before) = self.closed {
            assert_eq!(now, Some(before), "a closed session must stay closed");
        }
        self.closed = now;
    }

    /// New bytes from the peer (ignored after EOF: a peer cannot send after its FIN).
    pub fn input(&mut self, bytes: &[u8]) {
        if self.eof_read || self.pending.len() + bytes.len() > MAX_PENDING {
            return;
        }
        self.pending.extend_from_slice(bytes);
        self.offer();
    }

    /// Offer the pending bytes again (after output was drained).
    pub fn offer(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let was_closed = self.closed.is_some();
        let owed_before = self.s.wants_output();
        let n = self.s.handle_input(self.instant(), &self.pending);
        assert!(n <= self.pending.len(), "took more than offered");
        if was_closed {
            assert_eq!(n, self.pending.len(), "a closed session takes everything");
            assert!(
                owed_before || !self.s.wants_output(),
                "input after the close made the session owe output"
            );
        } else {
            self.consumed.extend_from_slice(&self.pending[..n]);
        }
        self.pending.drain(..n);
        self.check_close();
        self.deliver_eof();
    }

    /// One `poll_output` into a buffer of `size` bytes; returns the bytes.
    pub fn drain(&mut self, size: usize) -> usize {
        let wanted = self.s.wants_output();
        let mut buf = vec![0u8; size];
        let n = self.s.poll_output(&mut buf);
        assert!(n <= size);
        if size > 0 {
            assert_eq!(wanted, n > 0, "wants_output() disagrees with poll_output");
        }
        self.out.extend_from_slice(&buf[..n]);
        self.check_close();
        n
    }

    /// Drain until nothing is owed (bounded, so a session that always owes is caught).
    pub fn drain_all(&mut self) {
        for _ in 0..100_000 {
            if self.drain(4096) == 0 {
                return;
            }
        }
        panic!("output never ends");
    }

    /// The peer half-closed. Like the host's connection loop (`host/src/server/conn/`),
    /// the driver reads the socket, and so sees the EOF, only once the session has taken
    /// every byte that came before it.
    pub fn eof(&mut self) {
        self.eof_read = true;
        self.deliver_eof();
    }

    fn deliver_eof(&mut self) {
        if self.eof_read && !self.eof && self.pending.is_empty() {
            self.eof = true;
            self.s.handle_eof(self.instant());
            self.check_close();
        }
    }

    /// Let `ms` milliseconds pass.
    pub fn advance(&mut self, ms: u64) {
        self.now = self.now.saturating_add(ms);
    }

    /// A timer fired now (possibly early, as a coarse timer wheel may).
    pub fn timeout(&mut self) {
        self.check_close();
        let due = self.s.poll_timeout();
        let before = self.closed;
        self.s.handle_timeout(self.instant());
        self.check_close();
        if due.is_none_or(|t| self.instant() < t) {
            assert_eq!(before, self.closed, "an early timeout closed the session");
        }
    }

    /// Jump the clock to the session's deadline and fire it.
    pub fn to_deadline(&mut self) {
        if let Some(t) = self.s.poll_timeout() {
            self.now = self.now.max(t.total_millis());
            self.timeout();
        }
    }
}
