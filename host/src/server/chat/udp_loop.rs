//! The chat's own mio loop: one UDP socket, one core server, a waker for stop.
//!
//! Each turn: send what the core owes (one datagram per `poll_transmit`, stopping when
//! the socket is full and waiting for it to become writable), then fire member
//! timeouts, then read datagrams — at most `READS_PER_TURN` (64), and only while nothing
//! is owed, so a flood is held back by the kernel's receive buffer (which drops what
//! does not fit), never by a queue of ours.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use anyhow::Context as _;
use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token, Waker};
use socklab_core::Instant;
use socklab_core::chat::{ChatEvent, ChatServer, MAX_RELAY, Transmit};
use socklab_core::service::CHAT;

use super::{CAPACITY, ChatService};
use crate::log::{Direction, Logger};
use crate::server::handoff::Shared;

const SOCKET: Token = Token(0);
const STOP: Token = Token(1);

/// Datagrams read per turn before timers and stop are looked at again.
const READS_PER_TURN: usize = 64;
/// Read buffer: bigger than any valid datagram, so an oversized one is still seen as
/// oversized after the kernel truncates it to this.
const RECV_BUF: usize = 2048;

/// A bound chat socket, ready to [`run`](ChatLoop::run) on its own thread.
pub struct ChatLoop {
    poll: Poll,
    socket: UdpSocket,
    addr: SocketAddr,
    server: Box<ChatServer<SocketAddr, CAPACITY>>,
    shared: Arc<Shared>,
    log: Logger,
    epoch: std::time::Instant,
    /// A datagram the socket would not take yet.
    unsent: Option<Transmit<SocketAddr>>,
    out: [u8; MAX_RELAY],
    writable_wanted: bool,
    /// The socket may hold more datagrams than the last turn read.
    readable: bool,
}

impl ChatLoop {
    /// Register `socket` and a stop waker; the loop starts with [`run`](Self::run).
    pub fn new(
        service: ChatService,
        mut socket: UdpSocket,
        shared: Arc<Shared>,
        log: Logger,
        epoch: std::time::Instant,
    ) -> anyhow::Result<ChatLoop> {
        let poll = Poll::new().context("cannot create the chat event loop")?;
        poll.registry()
            .register(&mut socket, SOCKET, Interest::READABLE)
            .context("cannot register the chat socket")?;
        let waker = Waker::new(poll.registry(), STOP).context("cannot create a waker")?;
        shared.wake_on_stop(waker);
        let addr = socket
            .local_addr()
            .context("cannot read the bound address")?;
        let mut server = Box::new(ChatServer::new(service.member_timeout, service.max_members));
        server.set_host_limit(service.max_members_per_ip, super::same_host);
        Ok(ChatLoop {
            poll,
            socket,
            addr,
            server,
            shared,
            log,
            epoch,
            unsent: None,
            out: [0; MAX_RELAY],
            writable_wanted: false,
            readable: true,
        })
    }

    /// The address really bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    fn now(&self) -> Instant {
        Instant::from_millis(self.epoch.elapsed().as_millis() as u64)
    }

    /// Serve until a stop request.
    pub fn run(&mut self) -> anyhow::Result<()> {
        let name = CHAT.name;
        self.log.event(name, self.addr, "listening for datagrams");
        let mut events = Events::with_capacity(16);
        let mut buf = vec![0u8; RECV_BUF];
        while self.shared.stops() == 0 {
            let now = self.now();
            self.turn(now, &mut buf)?;
            let timeout = self.poll_timeout();
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e).context("waiting for chat events failed");
            }
            for event in events.iter() {
                if event.token() == SOCKET && event.is_readable() {
                    self.readable = true;
                }
            }
        }
        Ok(())
    }

    fn poll_timeout(&self) -> Option<StdDuration> {
        if self.unsent.is_some() {
            return None; // waiting for writable (or stop)
        }
        if self.readable || self.server.wants_output() {
            return Some(StdDuration::ZERO);
        }
        let next = self.server.poll_timeout()?;
        let ms = next.saturating_since(self.now()).total_millis();
        // +1: a timeout rounded down would wake a moment early, find nothing due, and
        // spin until the deadline.
        Some(StdDuration::from_millis(ms + 1))
    }

    fn turn(&mut self, now: Instant, buf: &mut [u8]) -> anyhow::Result<()> {
        if !self.flush()? {
            return Ok(());
        }
        while self.server.poll_timeout().is_some_and(|t| t <= now) {
            self.server.handle_timeout(now);
            self.log_events();
            if !self.flush()? {
                return Ok(());
            }
        }
        for _ in 0..READS_PER_TURN {
            if !self.readable {
                break;
            }
            let (n, from) = match self.socket.recv_from(buf) {
                Ok(r) => r,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.readable = false;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // ICMP errors reported for an earlier send (a member's port
                    // closed): the socket itself is fine.
                    self.log
                        .error(CHAT.name, self.addr, format_args!("receive: {e}"));
                    continue;
                }
            };
            self.log
                .chunk(CHAT.name, from, Direction::Received, n, Some(&buf[..n]));
            self.server.handle_datagram(now, from, &buf[..n]);
            self.log_events();
            if !self.flush()? {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Send everything owed. `Ok(false)`: the socket is full, a datagram waits for
    /// writable.
    fn flush(&mut self) -> anyhow::Result<bool> {
        loop {
            let t = match self.unsent.take() {
                Some(t) => t,
                None => match self.server.poll_transmit(&mut self.out) {
                    Some(t) => t,
                    None => break,
                },
            };
            match self.socket.send_to(&self.out[..t.len], t.to) {
                Ok(_) => {
                    let data = &self.out[..t.len];
                    self.log
                        .chunk(CHAT.name, t.to, Direction::Sent, t.len, Some(data));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.unsent = Some(t);
                    self.want_writable(true)?;
                    return Ok(false);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => self.unsent = Some(t),
                Err(e) => {
                    // One member unreachable must not stop the relay to the others.
                    let what = format_args!("cannot send {} bytes: {e}", t.len);
                    self.log.error(CHAT.name, t.to, what);
                }
            }
        }
        self.want_writable(false)?;
        Ok(true)
    }

    fn want_writable(&mut self, on: bool) -> anyhow::Result<()> {
        if on == self.writable_wanted {
            return Ok(());
        }
        let interest = if on {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        self.poll
            .registry()
            .reregister(&mut self.socket, SOCKET, interest)
            .context("cannot re-register the chat socket")?;
        self.writable_wanted = on;
        Ok(())
    }

    fn log_events(&mut self) {
        while let Some(e) = self.server.poll_event() {
            let online = self.server.len();
            let (who, what) = match &e {
                ChatEvent::Joined(a, nick) => {
                    (a, format!("member joined ({nick}, {online} online)"))
                }
                ChatEvent::Left(a, nick) => (a, format!("member left ({nick}, {online} online)")),
                ChatEvent::TimedOut(a, nick) => {
                    (a, format!("member timed out ({nick}, {online} online)"))
                }
            };
            self.log.event(CHAT.name, who, what);
        }
    }
}
