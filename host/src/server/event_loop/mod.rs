//! The loop: accept, dispatch readiness to connections, fire deadlines, stop gracefully.
//!
//! Everything runs on one thread and nothing blocks, so a slow or silent client only
//! ever costs its own bounded buffers. Fairness: a connection reads a bounded number of
//! chunks per turn and a listener accepts a bounded number of connections per turn;
//! whoever still has work goes on a list served on the next turn, after everyone else's
//! events.
//!
//! * [`accept`] — the accept path: admitting, opening the session, handing over;
//! * [`stop`] — the graceful stop: drain, deadline, cut;
//! * [`slots`] — the connections, by token.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use anyhow::Context as _;
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};
use socklab_core::Instant;
use socklab_core::session::CloseReason;

use super::conn::{Conn, Ctx, Step};
use super::handoff::Shared;
use super::service::Service;
use super::signal::StopSignals;
use super::timers::Timers;
use crate::log::Logger;
use slots::Slots;

mod accept;
mod slots;
mod stop;

const SIGNALS: Token = Token(0);
/// Another loop handed over a connection or asked to stop.
const WAKE: Token = Token(CONN_BASE - 1);
/// Listener `i` has token `LISTENER_BASE + i`.
const LISTENER_BASE: usize = 1;
/// Connection slot `s` has token `CONN_BASE + s`.
const CONN_BASE: usize = 1024;

/// Size of the buffer gathering session output for one `write`: 16 reads of the
/// default chunk. It also bounds what a connection keeps when its socket is full.
const WRITE_BUF: usize = 16 * 1024;

struct Listening {
    listener: TcpListener,
    service: Box<dyn Service>,
    addr: SocketAddr,
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

    /// Drive one connection and act on the outcome: close, linger, remove, re-arm.
    fn drive(&mut self, slot: usize, now: Instant) {
        let Some(conn) = self.conns.get_mut(slot) else {
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
                        crate::os_error::describe(&e)
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
