//! The accept path: accepting on a listener, admitting (or refusing over
//! `--max-conns`), opening the session, and installing the connection on this loop or
//! handing it to another one.

use std::io::Write as _;
use std::net::SocketAddr;

use mio::Token;
use socklab_core::{Duration, Instant};

use super::{CONN_BASE, LISTENER_BASE, Server};
use crate::server::conn::Conn;
use crate::server::handoff::Handoff;
use crate::server::wake::Wake;

/// Connections one listener accepts per turn.
const ACCEPTS_PER_TURN: usize = 64;
/// Pause before accepting again after `accept` failed (e.g. out of file descriptors):
/// the listener stays readable, and an edge-triggered poll would not say so again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

impl Server {
    pub(super) fn accept(&mut self, index: usize, now: Instant) {
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
                            crate::os_error::describe(&e)
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

    pub(super) fn admit(
        &mut self,
        index: usize,
        stream: mio::net::TcpStream,
        peer: SocketAddr,
        now: Instant,
    ) {
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
    pub(super) fn on_wake(&mut self, now: Instant) {
        for conn in self.shared.take_inbox(self.me) {
            self.install(conn, now);
        }
        for slot in self.shared.take_woken(self.me) {
            self.drive(slot, now);
        }
        self.apply_stops(now);
    }

    /// Register an admitted connection with this loop and serve it.
    pub(super) fn install(&mut self, conn: Handoff, now: Instant) {
        let (name, peer) = (conn.service, conn.peer);
        let slot = self.conns.vacant();
        // Before the first drive, which is what may start work on another thread.
        conn.wake.bind(self.shared.woken(self.me), slot);
        let token = Token(CONN_BASE + slot);
        match Conn::new(conn, token, self.poll.registry()) {
            Ok(mut conn) => {
                if self.stop_deadline.is_some() {
                    conn.begin_stop(now, self.shared.drain());
                }
                self.conns.fill(slot, conn);
                self.log.event(name, peer, "client connected");
                self.drive(slot, now);
            }
            Err(e) => {
                self.shared.release();
                self.conns.cancel(slot);
                let what = format_args!("cannot register a connection: {e}");
                self.log.error(name, peer, what);
            }
        }
    }
}
