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

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use socklab_core::session::{CloseDetail, CloseReason, Event, Session, Work};
use socklab_core::time::earliest;
use socklab_core::{Duration, Instant};

use crate::log::{Direction, Logger};

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
    /// Register `stream` under `token` and wrap it with `session`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        mut stream: TcpStream,
        token: Token,
        peer: SocketAddr,
        service: &'static str,
        chunk: usize,
        dump: bool,
        session: Box<dyn Session + Send>,
        registry: &Registry,
    ) -> io::Result<Conn> {
        registry.register(&mut stream, token, Interest::READABLE)?;
        Ok(Conn {
            stream,
            token,
            peer,
            service,
            chunk,
            dump,
            session,
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

    fn pump(&mut self, ctx: &mut Ctx<'_>) -> Step {
        let mut reads = 0;
        // `ctx.write_buf[..gathered]` holds output taken from the session during this
        // turn and not written yet: several reads are answered by one `write`.
        let mut gathered = 0;
        // The session took no input while owing nothing: only a timer can change that.
        let mut stalled = false;
        loop {
            // Output owed since an earlier turn goes first, in order.
            if self.undelivered() > 0 {
                match self.write_pending(ctx) {
                    Ok(true) => {}
                    Ok(false) => return self.blocked(ctx),
                    Err(e) => return Step::Closed(CloseReason::Reset, Some(e)),
                }
            }
            // Take what the session owes, as far as the gather buffer has room.
            while gathered < ctx.write_buf.len() {
                let n = self.session.poll_output(&mut ctx.write_buf[gathered..]);
                if n == 0 {
                    break;
                }
                gathered += n;
            }
            while let Some(ev) = self.session.poll_event() {
                match ev {
                    Event::StopServer => ctx.stop_requested = true,
                }
            }
            // A stopping connection ends once its work is done and nothing is owed.
            let reason = self.session.close_reason().or_else(|| {
                let done = self.phase == Phase::Stopping
                    && self.session.in_flight().is_none()
                    && !self.session.wants_output();
                done.then_some(CloseReason::ServerStopping)
            });
            let more_input =
                !self.input.is_empty() || (self.readable && !self.eof && reads < READS_PER_TURN);
            // Room for what one more read may bring back (a chunk larger than the buffer
            // is fed to the session piecewise, so a quarter of it is enough to go on).
            let step = self.chunk.min(ctx.write_buf.len() / 4);
            let room = gathered + step <= ctx.write_buf.len();
            let write_now = gathered > 0
                && (reason.is_some()
                    || stalled
                    || !more_input
                    || !room
                    || self.session.wants_output());
            if write_now {
                match self.write_gathered(ctx, gathered) {
                    Ok(true) => gathered = 0,
                    Ok(false) => return self.blocked(ctx),
                    Err(e) => return Step::Closed(CloseReason::Reset, Some(e)),
                }
                continue;
            }
            if let Some(reason) = reason {
                return Step::Closed(reason, None);
            }
            if stalled {
                return Step::Wait;
            }
            if !self.takes_input() {
                return Step::Wait;
            }
            // Input: first what the session left over, then the socket.
            if !self.input.is_empty() {
                let n = self.session.handle_input(ctx.now, &self.input);
                self.input.drain(..n);
                if self.input.is_empty() {
                    self.input = Vec::new();
                }
                stalled = n == 0 && !self.session.wants_output();
                continue;
            }
            if self.eof || !self.readable {
                return Step::Wait;
            }
            if reads == READS_PER_TURN {
                return Step::Again;
            }
            let buf = &mut ctx.read_buf[..self.chunk];
            match read_some(&mut self.stream, buf) {
                Ok(None) => self.readable = false,
                Ok(Some(0)) => {
                    self.eof = true;
                    self.session.handle_eof(ctx.now);
                }
                Ok(Some(n)) => {
                    reads += 1;
                    let got = &buf[..n];
                    ctx.log.chunk(
                        self.service,
                        self.peer,
                        Direction::Received,
                        n,
                        self.dump.then_some(got),
                    );
                    let taken = self.session.handle_input(ctx.now, got);
                    if taken < n {
                        self.input.extend_from_slice(&got[taken..]);
                    }
                }
                Err(e) => return Step::Closed(CloseReason::Reset, Some(e)),
            }
        }
    }

    /// The socket is full. Backpressure: read nothing more until the peer takes our
    /// output; a finished session gets [`DRAIN_GRACE`] to hand it over (a stopping
    /// one has its own deadline, which may be longer: `--drain-timeout`).
    fn blocked(&mut self, ctx: &Ctx<'_>) -> Step {
        if self.session.close_reason().is_some() && self.phase == Phase::Open {
            self.drain_until.get_or_insert(ctx.now + DRAIN_GRACE);
        }
        Step::Wait
    }

    /// Write output left over from an earlier turn. Ok(true) when it is all gone.
    fn write_pending(&mut self, ctx: &Ctx<'_>) -> io::Result<bool> {
        while self.output_sent < self.output.len() {
            let Some(n) = self.write(ctx, &self.output[self.output_sent..])? else {
                return Ok(false);
            };
            self.output_sent += n;
        }
        // Free the buffer: idle connections should cost no heap for output.
        self.output = Vec::new();
        self.output_sent = 0;
        Ok(true)
    }

    /// Write `ctx.write_buf[..len]`; what the socket does not take is kept in `output`
    /// (at most one write buffer). Ok(true) when all of it went out.
    fn write_gathered(&mut self, ctx: &Ctx<'_>, len: usize) -> io::Result<bool> {
        let mut sent = 0;
        while sent < len {
            match self.write(ctx, &ctx.write_buf[sent..len])? {
                Some(n) => sent += n,
                None => {
                    self.output = ctx.write_buf[sent..len].to_vec();
                    self.output_sent = 0;
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// One `write`, logged; `None` when the socket is full.
    fn write(&self, ctx: &Ctx<'_>, buf: &[u8]) -> io::Result<Option<usize>> {
        loop {
            match (&self.stream).write(buf) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    ctx.log.chunk(
                        self.service,
                        self.peer,
                        Direction::Sent,
                        n,
                        self.dump.then_some(&buf[..n]),
                    );
                    return Ok(Some(n));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
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

    /// The session ended: send our FIN. True when the connection must linger to read
    /// the peer's late bytes; false when it can be dropped now.
    pub fn close(&mut self, reason: CloseReason, now: Instant) -> bool {
        let _ = self.stream.shutdown(Shutdown::Write);
        self.input = Vec::new();
        let linger = !self.eof && reason != CloseReason::Reset && self.phase == Phase::Open;
        if linger {
            self.phase = Phase::Lingering(now + LINGER);
        } else if self.phase == Phase::Stopping && !self.eof {
            // A stopping server does not linger, but input left unread would turn the
            // close into a reset that can destroy the last answer (a LOGIN's `OK`) in
            // the peer's buffer: read what is there now and drop it.
            let mut scrap = [0u8; 4096];
            for _ in 0..READS_PER_TURN {
                if !matches!(read_some(&mut self.stream, &mut scrap), Ok(Some(n)) if n > 0) {
                    break;
                }
            }
        }
        linger
    }

    fn linger(&mut self, ctx: &mut Ctx<'_>) -> Step {
        for _ in 0..READS_PER_TURN {
            match read_some(&mut self.stream, ctx.read_buf) {
                Ok(None) => return Step::Wait,
                Ok(Some(0)) | Err(_) => return Step::Remove,
                Ok(Some(_)) => {}
            }
        }
        Step::Again
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
