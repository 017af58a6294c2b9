//! One TCP service: a fixed pool of listening sockets, each carrying at most one core
//! session, driven in the calling order of `docs/DESIGN.md` ("The session shape").
//!
//! smoltcp has no accept queue: a socket in `Listen` becomes the connection. A pool of
//! `N` sockets on the same port therefore *is* the connection limit: when all `N` are
//! busy a new SYN finds no listener and gets a reset, the embedded form of §0's
//! "closed at once".

use crate::fmt::{debug, info};
use crate::storage::TcpBuffers;
use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::tcp;
use smoltcp::wire::IpEndpoint;
use socklab_core::time::earliest;
use socklab_core::{CloseReason, Duration, Instant, Session};

/// What the status page reports at the moment a request arrives.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    /// Time since the stack started.
    pub uptime: Duration,
    /// Open sessions per service, in [`crate::Stack::services`] order.
    pub open: [usize; crate::SERVICES],
}

/// A service as the pool sees it: a name, a port, and a way to start a session.
pub trait TcpService {
    /// The core session of one connection.
    type Session: Session;
    /// Name in the event log and on the status page.
    const NAME: &'static str;
    /// Port it listens on.
    const PORT: u16;
    /// A new connection from `peer` was established at `now`.
    fn open(&mut self, now: Instant, peer: IpEndpoint, snapshot: &Snapshot) -> Self::Session;
}

/// A live connection: the session on socket `slot` of its pool.
pub struct Conn<S> {
    slot: usize,
    session: S,
    peer: IpEndpoint,
    eof_fed: bool,
    /// When we sent our FIN; the slot is aborted if the peer's FIN has not come after
    /// the linger time.
    closed_at: Option<Instant>,
}

/// Where a pool keeps its live sessions: caller-placed (a `static` in `.bss` on a
/// board, since an empty `heapless::Vec` is all zeros), so the [`crate::Stack`] stays
/// small and is cheap to build on a small stack.
pub type Conns<S, const N: usize> = heapless::Vec<Conn<S>, N>;

/// `N` sockets serving `T` on `T::PORT`.
pub struct TcpPool<'a, T: TcpService, const N: usize> {
    service: T,
    handles: [SocketHandle; N],
    conns: &'a mut Conns<T::Session, N>,
    linger: Duration,
}

impl<'a, T: TcpService, const N: usize> TcpPool<'a, T, N> {
    /// Add one socket per slot to `sockets`, on the given buffers.
    pub fn new<'s, const RX: usize, const TX: usize>(
        service: T,
        linger: Duration,
        buffers: &'s mut [TcpBuffers<RX, TX>; N],
        conns: &'a mut Conns<T::Session, N>,
        sockets: &mut SocketSet<'s>,
    ) -> Self {
        let handles = buffers.each_mut().map(|b| {
            sockets.add(tcp::Socket::new(
                tcp::SocketBuffer::new(&mut b.rx[..]),
                tcp::SocketBuffer::new(&mut b.tx[..]),
            ))
        });
        conns.clear();
        TcpPool {
            service,
            handles,
            conns,
            linger,
        }
    }

    /// The service, for settings and counters.
    pub fn service(&self) -> &T {
        &self.service
    }

    /// Connections with a session right now.
    pub fn open_sessions(&self) -> usize {
        self.conns.len()
    }

    /// Run every slot once: accept, feed, drain, close, re-listen.
    pub fn poll(&mut self, now: Instant, sockets: &mut SocketSet<'_>, snapshot: &Snapshot) {
        for (slot, &handle) in self.handles.iter().enumerate() {
            let socket = sockets.get_mut::<tcp::Socket>(handle);
            let live = self.conns.iter().position(|c| c.slot == slot);
            if let Some(i) = live {
                if poll_conn::<T>(self.linger, now, &mut self.conns[i], socket) {
                    continue;
                }
                self.conns.swap_remove(i);
            }
            // Idle, or its connection just ended: listen again at once, since the next
            // client's SYN may be the very next frame.
            if let Some(conn) = accept(&mut self.service, now, slot, socket, snapshot) {
                // One session per slot, N slots: never full.
                let _ = self.conns.push(conn);
            }
        }
    }

    /// The earliest session timer or linger deadline.
    pub fn poll_at(&self) -> Option<Instant> {
        self.conns.iter().fold(None, |at, c| {
            let linger = c.closed_at.map(|t| t + self.linger);
            earliest(at, earliest(c.session.poll_timeout(), linger))
        })
    }
}

/// Drive one live connection; false once it is over (the slot is free again).
fn poll_conn<T: TcpService>(
    linger: Duration,
    now: Instant,
    conn: &mut Conn<T::Session>,
    socket: &mut tcp::Socket<'_>,
) -> bool {
    if !socket.is_active() {
        // Closed (our FIN acknowledged after theirs, a reset, or smoltcp's own timeout)
        // or TIME-WAIT. TIME-WAIT would hold the slot for 10 s; both sides have closed,
        // so the slot is freed now (abort in `accept` forgets the connection).
        let reason = conn.session.close_reason().unwrap_or(CloseReason::Reset);
        info!(
            "{} {} client disconnected ({})",
            T::NAME,
            conn.peer,
            reason.as_str()
        );
        return false;
    }
    drive(now, conn, socket);
    if conn.session.close_reason().is_some() && !conn.session.wants_output() {
        match conn.closed_at {
            None => {
                socket.close();
                conn.closed_at = Some(now);
            }
            Some(at) if now >= at + linger => {
                debug!("{} {} peer never closed; aborting", T::NAME, conn.peer);
                socket.abort();
            }
            Some(_) => {}
        }
    }
    true
}

/// Turn an established connection on socket `slot` into a session, or keep the socket
/// listening.
fn accept<T: TcpService>(
    service: &mut T,
    now: Instant,
    slot: usize,
    socket: &mut tcp::Socket<'_>,
    snapshot: &Snapshot,
) -> Option<Conn<T::Session>> {
    if !socket.is_open() {
        // TIME-WAIT after both sides closed: forget it (no reset goes out, since
        // `listen` clears the remote end), so the slot serves the next client now.
        socket.abort();
        if socket.listen(T::PORT).is_err() {
            debug!("{} cannot listen on port {}", T::NAME, T::PORT);
        }
        return None;
    }
    // Wait for the handshake to finish: a quiz greets as soon as its session exists.
    if !socket.may_send() {
        return None;
    }
    let peer = socket.remote_endpoint()?;
    info!("{} {} client connected", T::NAME, peer);
    let mut conn = Conn {
        slot,
        session: service.open(now, peer, snapshot),
        peer,
        eof_fed: false,
        closed_at: None,
    };
    drive(now, &mut conn, socket);
    Some(conn)
}

/// Steps 1–3 of the calling order, repeated while something moves: input a session
/// refused (its queue was full) is offered again once output has drained.
fn drive<S: Session>(now: Instant, conn: &mut Conn<S>, socket: &mut tcp::Socket<'_>) {
    let session = &mut conn.session;
    if session.poll_timeout().is_some_and(|t| t <= now) {
        session.handle_timeout(now);
    }
    loop {
        let mut moved = false;
        if socket.can_recv() {
            // Bytes the session does not take stay in the socket's buffer, so the
            // window shrinks and the peer slows down: backpressure without a copy.
            let taken = socket
                .recv(|buf| {
                    let n = session.handle_input(now, buf);
                    (n, n)
                })
                .unwrap_or(0);
            moved |= taken > 0;
        } else if !socket.may_recv() && !conn.eof_fed {
            session.handle_eof(now);
            conn.eof_fed = true;
            moved = true;
        }
        while session.wants_output() && socket.can_send() {
            let sent = socket
                .send(|buf| {
                    let n = session.poll_output(buf);
                    (n, n)
                })
                .unwrap_or(0);
            if sent == 0 {
                break;
            }
            moved = true;
        }
        // Echo's `stop` is the only event, and only under --allow-stop, which the
        // embedded build does not offer: drain and ignore.
        while session.poll_event().is_some() {}
        if !moved {
            break;
        }
    }
}
