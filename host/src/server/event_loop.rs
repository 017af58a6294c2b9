//! The loop: accept, dispatch readiness to connections, fire deadlines, stop gracefully.
//!
//! Everything runs on one thread and nothing blocks, so a slow or silent client only
//! ever costs its own bounded buffers. Fairness: a connection reads a bounded number of
//! chunks per turn and a listener accepts a bounded number of connections per turn;
//! whoever still has work goes on a list served on the next turn, after everyone else's
//! events.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use anyhow::Context as _;
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};
use socklab_core::session::CloseReason;
use socklab_core::{Duration, Instant};

use super::conn::{Conn, Ctx, STOP_GRACE, Step};
use super::handoff::{Handoff, Shared};
use super::service::Service;
use super::signal::StopSignals;
use super::timers::Timers;
use super::wake::Wake;
use crate::log::Logger;

const SIGNALS: Token = Token(0);
/// Another loop handed over a connection or asked to stop.
const WAKE: Token = Token(CONN_BASE - 1);
/// Listener `i` has token `LISTENER_BASE + i`.
const LISTENER_BASE: usize = 1;
/// Connection slot `s` has token `CONN_BASE + s`.
const CONN_BASE: usize = 1024;

/// Connections one listener accepts per turn.
const ACCEPTS_PER_TURN: usize = 64;
/// Pause before accepting again after `accept` failed (e.g. out of file descriptors):
/// the listener stays readable, and an edge-triggered poll would not say so again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// Size of the buffer gathering session output for one `write`: 16 reads of the
/// default chunk. It also bounds what a connection keeps when its socket is full.
const WRITE_BUF: usize = 16 * 1024;

struct Listening {
    listener: TcpListener,
    service: Box<dyn Service>,
    addr: SocketAddr,
}

/// Connection slots; a freed slot is reused so tokens stay small.
#[derive(Default)]
struct Slots {
    slots: Vec<Option<Conn>>,
    free: Vec<usize>,
}

impl Slots {
    fn vacant(&mut self) -> usize {
        self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.slots.len() - 1
        })
    }

    fn get_mut(&mut self, slot: usize) -> Option<&mut Conn> {
        self.slots.get_mut(slot).and_then(Option::as_mut)
    }

    fn remove(&mut self, slot: usize) -> Option<Conn> {
        let c = self.slots.get_mut(slot)?.take();
        if c.is_some() {
            self.free.push(slot);
        }
        c
    }

    fn occupied(&self) -> impl Iterator<Item = usize> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.as_ref().map(|_| i))
    }

    fn is_empty(&self) -> bool {
        self.free.len() == self.slots.len()
    }
}

/// A bound server, ready to [`run`](Server::run).
pub struct Server {
    poll: Poll,
    listeners: Vec<Option<Listening>>,
    conns: Slots,
    /// Connection count, stop requests and inboxes shared with the other loops.
    /// Connections are counted against `--max-conns` while their session is open
    /// (lingering ones are not: their session is over).
    shared: Arc<Shared>,
    /// This loop's index in `shared`.
    me: usize,
    /// Next loop to hand a connection to.
    next_loop: usize,
    /// Stop requests this loop has acted on.
    stops_seen: usize,
    timers: Timers,
    /// Connections and listeners with work left over from their last turn.
    again: Vec<Token>,
    accept_retry: Option<Instant>,
    /// `accept` is failing (e.g. out of file descriptors): said once, when it starts,
    /// and once more when it works again, not at every retry.
    accept_failing: bool,
    /// Only the first loop takes signals.
    signals: Option<StopSignals>,
    log: Logger,
    epoch: std::time::Instant,
    read_buf: Vec<u8>,
    write_buf: Vec<u8>,
    stop_deadline: Option<Instant>,
}

impl Server {
    /// A poll for a new loop and the waker other loops reach it with.
    pub fn poll() -> anyhow::Result<(Poll, mio::Waker)> {
        let poll = Poll::new().context("cannot create the event loop")?;
        let waker = mio::Waker::new(poll.registry(), WAKE).context("cannot create a waker")?;
        Ok((poll, waker))
    }

    /// Loop `me` of `shared`. The first loop gets the bound listeners and the stop
    /// signals; the others serve what it hands them. All share one clock `epoch`;
    /// `read_chunk` is the largest `--chunk` of any service, since any loop may serve
    /// any service.
    pub fn new(
        (poll, me, shared): (Poll, usize, Arc<Shared>),
        bound: Vec<(Box<dyn Service>, TcpListener)>,
        read_chunk: usize,
        log: Logger,
        epoch: std::time::Instant,
    ) -> anyhow::Result<Server> {
        let signals = if me == 0 {
            Some(
                StopSignals::register(poll.registry(), SIGNALS)
                    .context("cannot install the SIGINT/SIGTERM handlers")?,
            )
        } else {
            None
        };
        let mut listeners = Vec::new();
        for (i, (service, mut listener)) in bound.into_iter().enumerate() {
            poll.registry()
                .register(&mut listener, Token(LISTENER_BASE + i), Interest::READABLE)
                .context("cannot register the listener")?;
            let addr = listener
                .local_addr()
                .context("cannot read the bound address")?;
            listeners.push(Some(Listening {
                listener,
                service,
                addr,
            }));
        }
        Ok(Server {
            poll,
            listeners,
            conns: Slots::default(),
            shared,
            me,
            next_loop: me,
            stops_seen: 0,
            timers: Timers::default(),
            again: Vec::new(),
            accept_retry: None,
            accept_failing: false,
            signals,
            log,
            epoch,
            read_buf: vec![0; read_chunk],
            write_buf: vec![0; WRITE_BUF],
            stop_deadline: None,
        })
    }

    /// The addresses really bound (port 0 and `--port-auto` resolved).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners.iter().flatten().map(|l| l.addr).collect()
    }

    fn now(&self) -> Instant {
        Instant::from_millis(self.epoch.elapsed().as_millis() as u64)
    }

    /// Serve until stopped by a signal or by a session (echo's `stop`).
    pub fn run(&mut self) -> anyhow::Result<()> {
        for l in self.listeners.iter().flatten() {
            self.log
                .event(l.service.info().name, l.addr, "listening for clients");
        }
        let mut events = Events::with_capacity(1024);
        loop {
            let timeout = self.poll_timeout();
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e).context("waiting for events failed");
            }
            let now = self.now();
            for event in events.iter() {
                match event.token() {
                    SIGNALS => {
                        if let Some(sig) = self.signals.as_mut().and_then(|s| s.received()) {
                            self.request_stop(now, format_args!("{sig} received"));
                        }
                    }
                    WAKE => self.on_wake(now),
                    Token(t) if t >= CONN_BASE => {
                        let slot = t - CONN_BASE;
                        if let Some(c) = self.conns.get_mut(slot) {
                            c.on_event(event);
                            self.drive(slot, now);
                        }
                    }
                    Token(t) => self.accept(t - LISTENER_BASE, now),
                }
            }
            self.fire_timers(now);
            for token in std::mem::take(&mut self.again) {
                match token.0 {
                    t if t >= CONN_BASE => self.drive(t - CONN_BASE, now),
                    t => self.accept(t - LISTENER_BASE, now),
                }
            }
            if let Some(deadline) = self.stop_deadline {
                if self.conns.is_empty() {
                    break;
                }
                if now >= deadline {
                    self.abandon_all();
                    break;
                }
            }
        }
        Ok(())
    }

    /// How long poll may sleep: not at all if work is left over, else until the next
    /// deadline.
    fn poll_timeout(&self) -> Option<StdDuration> {
        if !self.again.is_empty() {
            return Some(StdDuration::ZERO);
        }
        let next = [self.timers.next(), self.accept_retry, self.stop_deadline]
            .into_iter()
            .flatten()
            .min()?;
        let ms = next.saturating_since(self.now()).total_millis();
        Some(StdDuration::from_millis(ms))
    }

    fn fire_timers(&mut self, now: Instant) {
        if self.accept_retry.is_some_and(|t| now >= t) {
            self.accept_retry = None;
            for i in 0..self.listeners.len() {
                self.accept(i, now);
            }
        }
        while let Some(slot) = self.timers.pop_due(now) {
            let Some(conn) = self.conns.get_mut(slot) else {
                continue;
            };
            conn.timer = None;
            if conn.on_timeout(now) {
                if conn.is_stopping() {
                    log_cut(&self.log, conn);
                    self.shared.release();
                } else if !conn.is_lingering() {
                    let what = format_args!(
                        "client disconnected ({}; gave up delivering {} bytes)",
                        conn.close_reason(),
                        conn.undelivered()
                    );
                    self.log.event(conn.service(), conn.peer(), what);
                    self.shared.release();
                }
                self.remove(slot);
            } else {
                self.drive(slot, now);
            }
        }
    }

    fn accept(&mut self, index: usize, now: Instant) {
        for _ in 0..ACCEPTS_PER_TURN {
            let Some(Some(l)) = self.listeners.get_mut(index) else {
                return;
            };
            let (name, addr) = (l.service.info().name, l.addr);
            let accepted = l.listener.accept();
            let works = match &accepted {
                Ok(_) => true,
                Err(e) => e.kind() == std::io::ErrorKind::WouldBlock,
            };
            if self.accept_failing && works {
                self.accept_failing = false;
                self.log.event(name, addr, "accepting connections again");
            }
            match accepted {
                Ok((stream, peer)) => self.admit(index, stream, peer, now),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::Interrupted | std::io::ErrorKind::ConnectionAborted
                    ) => {}
                Err(e) => {
                    // The connection waits in the backlog; open ones are still served.
                    // Retried every ACCEPT_BACKOFF, logged once per episode.
                    if !self.accept_failing {
                        self.accept_failing = true;
                        let what = format_args!(
                            "accept failed: {} (open connections are still served; \
                             retrying quietly until it works)",
                            super::listener::describe(&e)
                        );
                        self.log.error(name, addr, what);
                    }
                    self.accept_retry = Some(now + ACCEPT_BACKOFF);
                    return;
                }
            }
        }
        self.again.push(Token(LISTENER_BASE + index));
    }

    fn admit(&mut self, index: usize, stream: mio::net::TcpStream, peer: SocketAddr, now: Instant) {
        let Some(Some(l)) = self.listeners.get_mut(index) else {
            return;
        };
        let name = l.service.info().name;
        if let Err(open) = self.shared.try_admit() {
            // §0: closed at once; echo and quiz send nothing.
            let what = format_args!(
                "client rejected (server full: {open} connections, --max-conns {})",
                self.shared.max_conns()
            );
            self.log.event(name, peer, what);
            // Best effort: a fresh socket's buffer takes a short line at once.
            let _ = (&stream).write(l.service.refusal());
            return;
        }
        // Nagle stays on: every answer goes out in one write per read anyway, and with
        // TCP_NODELAY a stream echoed in 1 KiB reads became 1 KiB segments, which cut
        // loopback throughput to a quarter of a tokio echo's.
        let wake = Wake::unbound();
        let conn = Handoff {
            stream,
            peer,
            service: name,
            chunk: l.service.chunk(),
            dump: l.service.dump_payloads(),
            session: l.service.open(now, peer, wake.clone()),
            wake,
        };
        let to = self.next_loop;
        self.next_loop = (to + 1) % self.shared.loops();
        if to == self.me {
            self.install(conn, now);
        } else {
            self.shared.hand(to, conn);
        }
    }

    /// Connections handed over by the accepting loop, and stop requests.
    fn on_wake(&mut self, now: Instant) {
        for conn in self.shared.take_inbox(self.me) {
            self.install(conn, now);
        }
        for slot in self.shared.take_woken(self.me) {
            self.drive(slot, now);
        }
        self.apply_stops(now);
    }

    /// Register an admitted connection with this loop and serve it.
    fn install(&mut self, conn: Handoff, now: Instant) {
        let Handoff {
            stream,
            peer,
            service: name,
            chunk,
            dump,
            session,
            wake,
        } = conn;
        let slot = self.conns.vacant();
        // Before the first drive, which is what may start work on another thread.
        wake.bind(self.shared.clone(), self.me, slot);
        let token = Token(CONN_BASE + slot);
        match Conn::new(
            stream,
            token,
            peer,
            name,
            chunk,
            dump,
            session,
            self.poll.registry(),
        ) {
            Ok(mut conn) => {
                if self.stop_deadline.is_some() {
                    conn.begin_stop(now, self.shared.drain());
                }
                self.conns.slots[slot] = Some(conn);
                self.log.event(name, peer, "client connected");
                self.drive(slot, now);
            }
            Err(e) => {
                self.shared.release();
                self.conns.free.push(slot);
                let what = format_args!("cannot register a connection: {e}");
                self.log.error(name, peer, what);
            }
        }
    }

    /// Drive one connection and act on the outcome: close, linger, remove, re-arm.
    fn drive(&mut self, slot: usize, now: Instant) {
        let Some(conn) = self.conns.slots.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let mut ctx = Ctx {
            now,
            registry: self.poll.registry(),
            log: &self.log,
            read_buf: &mut self.read_buf,
            write_buf: &mut self.write_buf,
            stop_requested: false,
        };
        let step = conn.drive(&mut ctx);
        let stop = ctx.stop_requested;
        let peer = conn.peer();
        let remove = match step {
            Step::Wait => false,
            Step::Again => {
                self.again.push(Token(CONN_BASE + slot));
                false
            }
            Step::Closed(reason, err) => {
                let what = match (reason, err, conn.close_detail()) {
                    (CloseReason::Reset, Some(e), _) if !is_reset(&e) => format!(
                        "client disconnected (reset: {})",
                        super::listener::describe(&e)
                    ),
                    (_, _, Some(detail)) => format!("client disconnected ({reason}: {detail})"),
                    _ => format!("client disconnected ({reason})"),
                };
                self.log.event(conn.service(), peer, what);
                self.shared.release();
                let linger = conn.close(reason, now);
                if linger {
                    // Whatever arrived already is discarded at once.
                    self.again.push(Token(CONN_BASE + slot));
                }
                !linger
            }
            Step::Remove => true,
        };
        if remove {
            self.remove(slot);
        } else if let Some(conn) = self.conns.get_mut(slot) {
            // Filed lazily: an entry earlier than the real deadline only fires early and
            // is filed again, which spares two tree operations on every read (each read
            // pushes the idle deadline back).
            let next = conn.deadline();
            if next.is_some() && (conn.timer.is_none() || next < conn.timer) {
                conn.timer = self.timers.update(slot, conn.timer, next);
            }
        }
        if stop {
            self.request_stop(now, format_args!("stop requested by {peer}"));
        }
    }

    fn remove(&mut self, slot: usize) {
        if let Some(mut conn) = self.conns.remove(slot) {
            self.timers.update(slot, conn.timer, None);
            conn.deregister(self.poll.registry());
        }
    }

    /// Stop every loop of the process (a signal, or echo's `stop`). The first request
    /// is logged, before any loop acts on it; a second one (another Ctrl-C) cuts the
    /// grace period short.
    fn request_stop(&mut self, now: Instant, why: std::fmt::Arguments<'_>) {
        let log = &self.log;
        self.shared.request_stop(|| {
            log.event(
                "socklab",
                super::Pid,
                format_args!("server stopping ({why})"),
            );
        });
        self.apply_stops(now);
    }

    /// Act on stop requests this loop has not seen yet.
    fn apply_stops(&mut self, now: Instant) {
        let stops = self.shared.stops();
        if stops == self.stops_seen {
            return;
        }
        if self.stops_seen == 0 {
            self.begin_stop(now);
        }
        if stops >= 2 {
            self.stop_deadline = Some(now);
        }
        self.stops_seen = stops;
    }

    /// Close the listeners and let every connection finish its work in flight (up to
    /// `--drain-timeout`) and hand over what it owes; idle ones close on their next
    /// drive, which is this turn.
    fn begin_stop(&mut self, now: Instant) {
        for l in self.listeners.iter_mut() {
            if let Some(mut l) = l.take() {
                let _ = self.poll.registry().deregister(&mut l.listener);
            }
        }
        self.accept_retry = None;
        let drain = self.shared.drain();
        // Each connection has its own deadline; this one only bounds the loop.
        self.stop_deadline = Some(now + drain.max(STOP_GRACE));
        let slots: Vec<usize> = self.conns.occupied().collect();
        for slot in slots {
            let Some(conn) = self.conns.get_mut(slot) else {
                continue;
            };
            if conn.is_lingering() {
                self.remove(slot);
            } else {
                conn.begin_stop(now, drain);
                let timer = conn.timer;
                conn.timer = self.timers.update(slot, timer, conn.deadline());
                self.again.push(Token(CONN_BASE + slot));
            }
        }
    }

    /// The grace period is over (or a second Ctrl-C came): drop whoever is left.
    fn abandon_all(&mut self) {
        let slots: Vec<usize> = self.conns.occupied().collect();
        for slot in slots {
            if let Some(conn) = self.conns.get_mut(slot) {
                if !conn.is_lingering() {
                    log_cut(&self.log, conn);
                }
            }
            self.remove(slot);
        }
    }
}

/// A stopping server drops `conn` before its work or output was done (§0: log what was
/// cut).
fn log_cut(log: &Logger, conn: &Conn) {
    let what = format_args!("client disconnected (server stopping: {})", conn.cut());
    log.event(conn.service(), conn.peer(), what);
}

/// Errors that mean the peer reset the connection, logged simply as "reset".
fn is_reset(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(e.kind(), ConnectionReset | ConnectionAborted | BrokenPipe)
}
