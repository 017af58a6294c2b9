//! The seam between the stack and its services: what one entry of the service list
//! ([`crate::services::Services`]) needs placed, and how it starts and runs.
//!
//! [`crate::Stack`] and [`crate::resources`] never name a service: the socket count,
//! the buffers, the session room, start-up, polling, `poll_delay` and the status page's
//! table are all derived from the list through these two traits. A list is nested pairs
//! `(first, (second, (..., ())))`, so plain generics walk it: [`Service`] and [`Running`]
//! are implemented for a pair (first, then the rest) and for `()` (the end).
//!
//! Nothing here imports a service; the services import this.

use crate::config::{NetConfig, ServiceConfig};
use core::marker::PhantomData;
use smoltcp::iface::SocketSet;
use socklab_core::service::{ServiceInfo, Transport};
use socklab_core::time::earliest;
use socklab_core::{Duration, Instant};

/// What every service is built from when the stack starts.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    /// The interface's addresses (the status page shows them).
    pub net: NetConfig,
    /// The frontend's service settings.
    pub config: ServiceConfig,
}

/// One service's row: on the status page, and in a frontend's ready lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    /// Name, port and transport, from core's §0 table.
    pub info: &'static ServiceInfo,
    /// Sessions it can hold at once; for chat, members.
    pub limit: usize,
    /// Sessions open now; for chat, members online.
    pub open: usize,
}

impl Load {
    /// A blank row, for an array the list then fills.
    pub(crate) const BLANK: Load = Load {
        info: &ServiceInfo {
            name: "",
            port: 0,
            transport: Transport::Tcp,
        },
        limit: 0,
        open: 0,
    };
}

/// What the status page reports at the moment a request arrives.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot<'x> {
    /// Time since the stack started.
    pub uptime: Duration,
    /// Every service, in the list's order.
    pub services: &'x [Load],
}

/// Which services a pass of [`Running::poll`] drives. The status page reports on the
/// others, so it runs in a second pass and counts what the first pass opened and closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    /// Every service that only serves its clients.
    Serve,
    /// The services that report on the others (the status page).
    Report,
}

/// One entry of the service list, or a whole list: what the frontend places for it and
/// how it starts. `'a` is the lifetime of what the frontend lends (buffers, socket
/// slots), which the files sessions' disk handles share.
pub trait Service<'a> {
    /// Services in this list (1 for one service).
    const COUNT: usize;
    /// smoltcp sockets it adds to the set.
    const SOCKETS: usize;
    /// Socket buffers and whatever else its sessions share (files: the RAM disk). All
    /// zero bytes, so a `static` of them is in `.bss`.
    type Buffers: 'a;
    /// Empty buffers, for [`crate::Buffers::new`].
    const BUFFERS: Self::Buffers;
    /// Per-socket bookkeeping that is not all zero bytes (chat's packet metadata); kept
    /// apart from the buffers so only it costs a `.data` image in flash.
    type Meta: 'a;
    /// Empty metadata, for [`crate::Sockets::new`].
    const META: Self::Meta;
    /// Room for its live sessions.
    type Sessions: 'a;
    /// No sessions. A function, not a `const`: it then writes only the lengths, and a
    /// firmware builds it in place in its `static`.
    fn sessions() -> Self::Sessions;
    /// The started service, borrowing its sessions for `'s`.
    type Running<'s>: Running
    where
        'a: 's;
    /// Add its sockets to `sockets` on its `parts`, and start serving.
    fn start<'s>(parts: Parts<'a, 's, Self>, sockets: &mut SocketSet<'a>) -> Self::Running<'s>;
}

/// What one service (or list) starts from: the settings, and its share of the frontend's
/// resources: buffers and metadata for `'a` (the sockets borrow them), the session
/// room for `'s`.
pub struct Parts<'a, 's, S: Service<'a> + ?Sized> {
    /// The settings.
    pub setup: Setup,
    /// Socket buffers and what the sessions share.
    pub buffers: &'a mut S::Buffers,
    /// Socket metadata.
    pub meta: &'a mut S::Meta,
    /// Session room.
    pub sessions: &'s mut S::Sessions,
    /// The sessions borrow no longer than the rest (`'a: 's`).
    pub outlives: PhantomData<&'s &'a ()>,
}

impl<'a, 's, A: Service<'a>, B: Service<'a>> Parts<'a, 's, (A, B)> {
    /// The first service's parts and the rest's.
    fn split(self) -> (Parts<'a, 's, A>, Parts<'a, 's, B>) {
        let Parts {
            setup,
            buffers: (b0, b1),
            meta: (m0, m1),
            sessions: (s0, s1),
            outlives,
        } = self;
        let first = Parts {
            setup,
            buffers: b0,
            meta: m0,
            sessions: s0,
            outlives,
        };
        let rest = Parts {
            setup,
            buffers: b1,
            meta: m1,
            sessions: s1,
            outlives,
        };
        (first, rest)
    }
}

/// A started service, or a list of them.
pub trait Running {
    /// Move its sockets' data and run its sessions once, if it belongs to `round`.
    fn poll(&mut self, now: Instant, sockets: &mut SocketSet<'_>, round: Round, snap: &Snapshot);
    /// Its earliest timer: session timeouts, linger, chat's member timeouts (`now` while
    /// a datagram waits for room).
    fn poll_at(&self, now: Instant) -> Option<Instant>;
    /// Write its row(s) at the start of `out` and return the rest.
    fn report<'o>(&self, out: &'o mut [Load]) -> &'o mut [Load];
}

/// Write `load` as the first row of `out`, for a single service's [`Running::report`].
pub(crate) fn report_one(load: Load, out: &mut [Load]) -> &mut [Load] {
    let Some((first, rest)) = out.split_first_mut() else {
        return &mut [];
    };
    *first = load;
    rest
}

impl<'a, A: Service<'a>, B: Service<'a>> Service<'a> for (A, B) {
    const COUNT: usize = A::COUNT + B::COUNT;
    const SOCKETS: usize = A::SOCKETS + B::SOCKETS;
    type Buffers = (A::Buffers, B::Buffers);
    const BUFFERS: Self::Buffers = (A::BUFFERS, B::BUFFERS);
    type Meta = (A::Meta, B::Meta);
    const META: Self::Meta = (A::META, B::META);
    type Sessions = (A::Sessions, B::Sessions);

    fn sessions() -> Self::Sessions {
        (A::sessions(), B::sessions())
    }

    type Running<'s>
        = (A::Running<'s>, B::Running<'s>)
    where
        'a: 's;

    fn start<'s>(parts: Parts<'a, 's, Self>, sockets: &mut SocketSet<'a>) -> Self::Running<'s> {
        let (first, rest) = parts.split();
        (A::start(first, sockets), B::start(rest, sockets))
    }
}

impl<'a> Service<'a> for () {
    const COUNT: usize = 0;
    const SOCKETS: usize = 0;
    type Buffers = ();
    const BUFFERS: Self::Buffers = ();
    type Meta = ();
    const META: Self::Meta = ();
    type Sessions = ();

    fn sessions() -> Self::Sessions {}

    type Running<'s>
        = ()
    where
        'a: 's;

    fn start<'s>(_: Parts<'a, 's, Self>, _: &mut SocketSet<'a>) -> Self::Running<'s> {}
}

impl<A: Running, B: Running> Running for (A, B) {
    fn poll(&mut self, now: Instant, sockets: &mut SocketSet<'_>, round: Round, snap: &Snapshot) {
        self.0.poll(now, sockets, round, snap);
        self.1.poll(now, sockets, round, snap);
    }

    fn poll_at(&self, now: Instant) -> Option<Instant> {
        earliest(self.0.poll_at(now), self.1.poll_at(now))
    }

    fn report<'o>(&self, out: &'o mut [Load]) -> &'o mut [Load] {
        let rest = self.0.report(out);
        self.1.report(rest)
    }
}

impl Running for () {
    fn poll(&mut self, _: Instant, _: &mut SocketSet<'_>, _: Round, _: &Snapshot) {}

    fn poll_at(&self, _: Instant) -> Option<Instant> {
        None
    }

    fn report<'o>(&self, out: &'o mut [Load]) -> &'o mut [Load] {
        out
    }
}
