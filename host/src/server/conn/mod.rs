//! One accepted connection: its socket, its core session, and the little state needed
//! to move bytes between them without blocking and without unbounded buffering.
//!
//! Memory per connection stays small and bounded:
//!
//! * the session's own bounded queue (inline in its box);
//! * `input`: the part of one read the session could not take yet — at most one
//!   `--chunk`, allocated only while it exists, and no new read happens until it is
//!   gone (that is how backpressure reaches the peer through TCP flow control);
//! * `output`: bytes taken from the session that the socket did not accept — at most one
//!   write buffer, allocated only while the socket is full.
//!
//! mio is edge-triggered, so the connection remembers whether the socket may still be
//! readable; when it stops reading to let output drain, it resumes by itself once the
//! output is gone, without waiting for an edge that would never come.
//!
//! * [`pump`] — the read/write pump of an open (or stopping) connection;
//! * [`close`] — our FIN, and lingering until the peer's EOF.

use std::io::{self, Read};
use std::net::SocketAddr;

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use socklab_core::session::{CloseDetail, CloseReason, Session, Work};
use socklab_core::time::earliest;
use socklab_core::{Duration, Instant};

use crate::log::Logger;
use crate::server::handoff::Handoff;

mod close;
mod pump;

/// Reads one connection may do per turn before the others get theirs.
const READS_PER_TURN: usize = 16;

/// How long a finished session may take to hand over what it still owes before the
/// connection is dropped anyway (a peer that stopped reading must not pin memory).
const DRAIN_GRACE: Duration = Duration::from_secs(5);

/// How long a stopping server gives a connection with no work in flight to hand over
/// what it owes (§1: an echo server exits within 2 s of `stop`).
pub const STOP_GRACE: Duration = Duration::from_millis(1500);

/// How long a closed connection keeps reading and discarding the peer's late bytes
/// while waiting for its EOF. Dropping a socket with unread input makes the kernel send
/// a reset, which can destroy the last answer (`> It's wrong!`) before the peer read it.
const LINGER: Duration = Duration::from_secs(2);

/// What the caller must do after [`Conn::drive`].
#[derive(Debug)]
pub enum Step {
    /// Nothing until the next readiness event or deadline.
    Wait,
    /// The read budget ran out while data may remain: drive again on the next turn.
    Again,
    /// The session is over and owes nothing: log it, then [`Conn::close`].
    Closed(CloseReason, Option<io::Error>),
    /// Forget the connection (lingering ended).
    Remove,
}

/// Where a connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Open,
    /// The server is stopping: finish the work in flight (taking input only for it),
    /// hand over what is owed, close.
    Stopping,
    /// Our side is shut down; discarding input until EOF or the deadline.
    Lingering(Instant),
}

/// Shared scratch space and context for driving connections, owned by the loop so no
/// connection carries buffers it is not using.
pub struct Ctx<'a> {
    /// The time of this turn.
    pub now: Instant,
    /// To change a socket's interest.
    pub registry: &'a Registry,
    /// The event log.
    pub log: &'a Logger,
    /// Receives reads; at least as long as the largest `--chunk`.
    pub read_buf: &'a mut [u8],
    /// Gathers session output for one `write`.
    pub write_buf: &'a mut [u8],
    /// Set when a session asked for the whole server to stop.
    pub stop_requested: bool,
}

/// One connection.
pub struct Conn {
    stream: TcpStream,
    token: Token,
    peer: SocketAddr,
    service: &'static str,
    chunk: usize,
    dump: bool,
    session: Box<dyn Session + Send>,
    input: Vec<u8>,
    output: Vec<u8>,
    output_sent: usize,
    readable: bool,
    eof: bool,
    write_interest: bool,
    drain_until: Option<Instant>,
    /// When a stopping server gives up on this connection: [`STOP_GRACE`], or
    /// `--drain-timeout` if work was in flight when the stop came.
    stop_until: Option<Instant>,
    phase: Phase,
    /// The deadline currently filed in the loop's timers.
    pub(super) timer: Option<Instant>,
}

impl Conn {
    /// Register the handed-off connection's socket under `token` and serve it. (Its
    /// [`Wake`](crate::server::wake::Wake) was bound by the loop; the session holds
    /// its own copy.)
    pub fn new(mut from: Handoff, token: Token, registry: &Registry) -> io::Result<Conn> {
        registry.register(&mut from.stream, token, Interest::READABLE)?;
        Ok(Conn {
            stream: from.stream,
            token,
            peer: from.peer,
            service: from.service,
            chunk: from.chunk,
            dump: from.dump,
            session: from.session,
            input: Vec::new(),
            output: Vec::new(),
            output_sent: 0,
            // Data may have arrived before registration; the first read finds out.
            readable: true,
            eof: false,
            write_interest: false,
            drain_until: None,
            stop_until: None,
            phase: Phase::Open,
            timer: None,
        })
    }

    /// The peer's address, for the log.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The service name, for the log.
    pub fn service(&self) -> &'static str {
        self.service
    }

    /// True once our side is closed and only late input is being discarded.
    pub fn is_lingering(&self) -> bool {
        matches!(self.phase, Phase::Lingering(_))
    }

    /// Why the connection is ending, when a deadline cuts it short.
    pub fn close_reason(&self) -> CloseReason {
        self.session
            .close_reason()
            .unwrap_or(CloseReason::ServerStopping)
    }

    /// Bytes taken from the session that never reached the socket.
    pub fn undelivered(&self) -> usize {
        self.output.len() - self.output_sent
    }

    /// More about the close than its reason (a quiz's outcome), for the log.
    pub fn close_detail(&self) -> Option<CloseDetail> {
        self.session.close_detail()
    }

    /// What a stopping server cut by dropping this connection now, in the log's words:
    /// the work in flight (a download counts what reached the socket), else the bytes
    /// that could not be delivered.
    pub fn cut(&self) -> String {
        let undelivered = self.undelivered();
        match self.session.in_flight() {
            Some(Work::Download { name, done, total }) => Work::Download {
                name,
                done: done.saturating_sub(undelivered as u64),
                total,
            }
            .to_string(),
            Some(work) => work.to_string(),
            None => format!("gave up delivering {undelivered} bytes"),
        }
    }

    /// True while the server is stopping and this connection is finishing up.
    pub fn is_stopping(&self) -> bool {
        self.phase == Phase::Stopping
    }

    /// Note what a readiness event says; the next [`drive`](Self::drive) acts on it.
    pub fn on_event(&mut self, event: &mio::event::Event) {
        if event.is_readable() || event.is_read_closed() || event.is_error() {
            self.readable = true;
        }
    }

    /// The server is stopping (§0): the session finishes the work it has in flight,
    /// for up to `drain`, and starts none; without work in flight it only hands over
    /// what it owes, for up to [`STOP_GRACE`].
    pub fn begin_stop(&mut self, now: Instant, drain: Duration) {
        if self.phase == Phase::Open {
            self.phase = Phase::Stopping;
            self.session.handle_stop(now);
            let grace = if self.session.in_flight().is_some() {
                drain
            } else {
                STOP_GRACE
            };
            self.stop_until = Some(now + grace);
        }
    }

    /// The earliest moment this connection needs attention without any I/O.
    pub fn deadline(&self) -> Option<Instant> {
        match self.phase {
            Phase::Open => earliest(self.session.poll_timeout(), self.drain_until),
            Phase::Stopping => earliest(
                earliest(self.session.poll_timeout(), self.drain_until),
                self.stop_until,
            ),
            Phase::Lingering(until) => Some(until),
        }
    }

    /// A deadline passed: true when the connection must be given up now (a drain or
    /// linger that ran out); otherwise the session was told and the caller drives it.
    pub fn on_timeout(&mut self, now: Instant) -> bool {
        let due = |t: Option<Instant>| t.is_some_and(|t| now >= t);
        match self.phase {
            Phase::Lingering(until) => now >= until,
            _ if due(self.drain_until) || due(self.stop_until) => true,
            Phase::Open | Phase::Stopping => {
                if due(self.session.poll_timeout()) {
                    self.session.handle_timeout(now);
                }
                false
            }
        }
    }

    /// Whether the session may be given input: always while open; while stopping only
    /// for the work in flight (an upload's payload), never for a new command.
    fn takes_input(&self) -> bool {
        self.phase == Phase::Open || self.session.in_flight().is_some()
    }

    /// Move bytes as far as they go right now; see the module docs of `socklab_core`'s
    /// `session` for the order of calls this follows.
    pub fn drive(&mut self, ctx: &mut Ctx<'_>) -> Step {
        let step = match self.phase {
            Phase::Lingering(_) => self.linger(ctx),
            _ => self.pump(ctx),
        };
        match (self.update_interest(ctx.registry), step) {
            (Ok(()), step) => step,
            // Already ending: keep that outcome rather than report it twice.
            (Err(_), step @ (Step::Closed(..) | Step::Remove)) => step,
            (Err(_), _) if self.is_lingering() => Step::Remove,
            (Err(e), _) => Step::Closed(CloseReason::Reset, Some(e)),
        }
    }

    /// Ask for WRITABLE only while output waits for room, so idle sockets do not wake
    /// the loop.
    fn update_interest(&mut self, registry: &Registry) -> io::Result<()> {
        let want = self.undelivered() > 0 && !self.is_lingering();
        if want != self.write_interest {
            let interest = if want {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            registry.reregister(&mut self.stream, self.token, interest)?;
            self.write_interest = want;
        }
        Ok(())
    }

    /// Deregister before the socket is dropped.
    pub fn deregister(&mut self, registry: &Registry) {
        let _ = registry.deregister(&mut self.stream);
    }
}

/// One `read`; `None` when nothing is there.
fn read_some(stream: &mut TcpStream, buf: &mut [u8]) -> io::Result<Option<usize>> {
    loop {
        match stream.read(buf) {
            Ok(n) => return Ok(Some(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
