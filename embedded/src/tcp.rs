//! One TCP service: a fixed pool of listening sockets, each carrying at most one core
//! session, driven in the calling order of `docs/DESIGN.md` ("The session shape"), and
//! [`Tcp`], the entry that puts such a pool on the service list.
//!
//! smoltcp has no accept queue: a socket in `Listen` becomes the connection. A pool of
//! `N` sockets on the same port therefore *is* the connection limit: when all `N` are
//! busy a new SYN finds no listener and gets a reset, the embedded form of §0's
//! "closed at once".

use crate::fmt::{debug, info};
use crate::service::{Load, Parts, Round, Running, Service, Setup, Snapshot, report_one};
use core::marker::PhantomData;
use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::tcp;
use smoltcp::wire::IpEndpoint;
use socklab_core::service::ServiceInfo;
use socklab_core::time::earliest;
use socklab_core::{CloseReason, Duration, Instant, Session};

/// A service as the pool sees it: its §0 row, its session, and a way to start one.
pub trait TcpService {
    /// The core session of one connection.
    type Session: Session;
    /// Name (event log, status page) and port, from core's §0 table.
    const INFO: ServiceInfo;
    /// True for a service that reports on the others (the status page): it is polled
    /// after them, in [`Round::Report`].
    const REPORTS: bool = false;
    /// A new connection from `peer` was established at `now`.
    fn open(&mut self, now: Instant, peer: IpEndpoint, snapshot: &Snapshot) -> Self::Session;
}

/// How the stack makes a TCP service when it starts.
pub trait Start<'a>: Sized {
    /// What all of its sessions share, placed with its socket buffers (all zero bytes,
    /// in `.bss`): the RAM disk for files, `()` for the rest.
    type Shared: 'a;
    /// The empty [`Shared`](Self::Shared).
    const SHARED: Self::Shared;
    /// The service with the frontend's settings, on what its sessions share.
    fn start(setup: &Setup, shared: &'a Self::Shared) -> Self;
}

/// Service `T` on the list: at most `N` sessions at once, each socket with `RX` bytes
/// of receive and `TX` bytes of transmit buffer.
pub struct Tcp<T, const N: usize, const RX: usize, const TX: usize>(PhantomData<T>);

impl<T, const N: usize, const RX: usize, const TX: usize> Tcp<T, N, RX, TX> {
    /// Sessions at once: a SYN over this many is reset.
    pub const SESSIONS: usize = N;
}

/// Receive and transmit buffer of one TCP socket.
#[derive(Debug)]
pub struct SocketBuffers<const RX: usize, const TX: usize> {
    rx: [u8; RX],
    tx: [u8; TX],
}

impl<const RX: usize, const TX: usize> SocketBuffers<RX, TX> {
    const EMPTY: Self = SocketBuffers {
        rx: [0; RX],
        tx: [0; TX],
    };
}

/// What a [`Tcp`] entry places: one socket's buffers per slot, and what its sessions share.
pub struct TcpBuffers<S, const N: usize, const RX: usize, const TX: usize> {
    sockets: [SocketBuffers<RX, TX>; N],
    shared: S,
}

impl<'a, T, const N: usize, const RX: usize, const TX: usize> Service<'a> for Tcp<T, N, RX, TX>
where
    T: TcpService + Start<'a> + 'a,
    T::Session: 'a,
{
    const COUNT: usize = 1;
    const SOCKETS: usize = N;
    type Buffers = TcpBuffers<T::Shared, N, RX, TX>;
    const BUFFERS: Self::Buffers = TcpBuffers {
        sockets: [SocketBuffers::EMPTY; N],
        shared: T::SHARED,
    };
    type Meta = ();
    const META: Self::Meta = ();
    type Sessions = Conns<T::Session, N>;

    fn sessions() -> Self::Sessions {
        Conns::new()
    }

    type Running<'s>
        = TcpPool<'s, T, N>
    where
        'a: 's;

    fn start<'s>(parts: Parts<'a, 's, Self>, sockets: &mut SocketSet<'a>) -> Self::Running<'s> {
        let TcpBuffers {
            sockets: slots,
            shared,
        } = parts.buffers;
        let service = T::start(&parts.setup, shared);
        let linger = parts.setup.config.linger;
        TcpPool::new(service, linger, slots, parts.sessions, sockets)
    }
}

impl<T: TcpService, const N: usize> Running for TcpPool<'_, T, N> {
    fn poll(&mut self, now: Instant, sockets: &mut SocketSet<'_>, round: Round, snap: &Snapshot) {
        if T::REPORTS == (round == Round::Report) {
            self.poll_slots(now, sockets, snap);
        }
    }

    fn poll_at(&self, _now: Instant) -> Option<Instant> {
        self.conns.iter().fold(None, |at, c| {
            let linger = c.closed_at.map(|t| t + self.linger);
            earliest(at, earliest(c.session.poll_timeout(), linger))
        })
    }

    fn report<'o>(&self, out: &'o mut [Load]) -> &'o mut [Load] {
        let load = Load {
            info: &T::INFO,
            limit: N,
            open: self.conns.len(),
        };
        report_one(load, out)
    }
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

/// `N` sockets serving `T` on `T::INFO.port`.
pub struct TcpPool<'a, T: TcpService, const N: usize> {
    service: T,
    handles: [SocketHandle; N],
    conns: &'a mut Conns<T::Session, N>,
    linger: Duration,
}

impl<'a, T: TcpService, const N: usize> TcpPool<'a, T, N> {
    /// Add one socket per slot to `sockets`, on the given buffers.
    fn new<'s, const RX: usize, const TX: usize>(
        service: T,
        linger: Duration,
        buffers: &'s mut [SocketBuffers<RX, TX>; N],
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

    /// Run every slot once: accept, feed, drain, close, re-listen.
    fn poll_slots(&mut self, now: Instant, sockets: &mut SocketSet<'_>, snapshot: &Snapshot) {
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
            T::INFO.name,
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
                debug!("{} {} peer never closed; aborting", T::INFO.name, conn.peer);
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
        if socket.listen(T::INFO.port).is_err() {
            debug!("{} cannot listen on port {}", T::INFO.name, T::INFO.port);
        }
        return None;
    }
    // Wait for the handshake to finish: a quiz greets as soon as its session exists.
    if !socket.may_send() {
        return None;
    }
    let peer = socket.remote_endpoint()?;
    info!("{} {} client connected", T::INFO.name, peer);
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
