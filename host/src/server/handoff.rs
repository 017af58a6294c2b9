//! What the event loops of one process share: the connection count, the stop request,
//! and an inbox per loop for connections accepted elsewhere.
//!
//! One loop (the first) owns the listeners. It accepts, checks `--max-conns`, opens the
//! core session, and hands the connection round-robin to a loop — itself included —
//! through that loop's inbox and [`mio::Waker`]. After that a connection lives on one
//! thread for good, so nothing per connection is ever locked. This is chosen over
//! `SO_REUSEPORT` listeners per thread because those would also let a second socklab on
//! the same port share it silently, which defeats `--port-auto`'s "port in use" check.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use mio::Waker;
use socklab_core::{Duration, Session};

use super::wake::{Wake, Woken};

/// A connection on its way from the accepting loop to the loop that will serve it.
pub struct Handoff {
    /// The accepted socket.
    pub stream: mio::net::TcpStream,
    /// Its peer, for the log.
    pub peer: SocketAddr,
    /// The service's name, for the log.
    pub service: &'static str,
    /// Read size of the service.
    pub chunk: usize,
    /// Whether `-vv` may dump its payloads.
    pub dump: bool,
    /// The session, opened by the accepting loop at accept time.
    pub session: Box<dyn Session + Send>,
    /// Bound to the serving loop and slot when the connection is installed.
    pub wake: Wake,
}

struct Inbox {
    queue: Mutex<Vec<Handoff>>,
    /// Slots of connections whose work on another thread finished ([`Wake`]).
    woken: Arc<Woken>,
    waker: Arc<Waker>,
}

/// State shared by every loop of the process.
pub struct Shared {
    active: AtomicUsize,
    max_conns: usize,
    /// How many stop requests were made (the second cuts the grace period short).
    stops: AtomicUsize,
    /// Taken while a stop request is counted, so that the first one's `server
    /// stopping` line is in the log before any loop can act on the stop.
    stop_turn: Mutex<()>,
    /// `--drain-timeout`: how long work in flight may go on after a stop (§0).
    drain: Duration,
    inboxes: Vec<Inbox>,
    /// Wakers of loops that serve no TCP connection (the chat's UDP loop) but must
    /// stop with the others.
    stop_wakers: Mutex<Vec<Waker>>,
}

impl Shared {
    /// Shared state for loops woken by `wakers` (one per loop, in loop order).
    pub fn new(max_conns: usize, drain: Duration, wakers: Vec<Waker>) -> Shared {
        Shared {
            active: AtomicUsize::new(0),
            max_conns,
            stops: AtomicUsize::new(0),
            stop_turn: Mutex::new(()),
            drain,
            inboxes: wakers
                .into_iter()
                .enumerate()
                .map(|(i, waker)| {
                    let waker = Arc::new(waker);
                    Inbox {
                        queue: Mutex::new(Vec::new()),
                        woken: Arc::new(Woken::new(i, waker.clone())),
                        waker,
                    }
                })
                .collect(),
            stop_wakers: Mutex::new(Vec::new()),
        }
    }

    /// Number of loops.
    pub fn loops(&self) -> usize {
        self.inboxes.len()
    }

    /// Count a new connection against `--max-conns`; `Err(open)` if the server is full.
    pub fn try_admit(&self) -> Result<(), usize> {
        let before = self.active.fetch_add(1, Ordering::AcqRel);
        if before >= self.max_conns {
            self.active.fetch_sub(1, Ordering::AcqRel);
            return Err(before);
        }
        Ok(())
    }

    /// A counted connection ended.
    pub fn release(&self) {
        self.active.fetch_sub(1, Ordering::AcqRel);
    }

    /// `--max-conns`.
    pub fn max_conns(&self) -> usize {
        self.max_conns
    }

    /// Give `conn` to loop `to` and wake it.
    pub fn hand(&self, to: usize, conn: Handoff) {
        let inbox = &self.inboxes[to];
        inbox
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(conn);
        // A failed wake means the loop's poll is gone (it exited); the connection is
        // then dropped, i.e. closed, which only happens while the server stops.
        let _ = inbox.waker.wake();
    }

    /// Connections handed to loop `me` since it last looked.
    pub fn take_inbox(&self, me: usize) -> Vec<Handoff> {
        std::mem::take(
            &mut *self.inboxes[me]
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// Loop `me`'s list of woken connections, for binding a [`Wake`] to one of its
    /// slots.
    pub fn woken(&self, me: usize) -> Arc<Woken> {
        self.inboxes[me].woken.clone()
    }

    /// Slots woken on loop `me` since it last looked.
    pub fn take_woken(&self, me: usize) -> Vec<usize> {
        self.inboxes[me].woken.take()
    }

    /// `--drain-timeout`.
    pub fn drain(&self) -> Duration {
        self.drain
    }

    /// Ask every loop to stop; returns how many stop requests there now are. `announce`
    /// runs for the first request only, before any loop can see it: that is where the
    /// `server stopping` line is logged, so no loop logs a disconnect before it.
    pub fn request_stop(&self, announce: impl FnOnce()) -> usize {
        let n = {
            let _turn = self
                .stop_turn
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let n = self.stops.load(Ordering::Acquire) + 1;
            if n == 1 {
                announce();
            }
            self.stops.store(n, Ordering::Release);
            n
        };
        for inbox in &self.inboxes {
            let _ = inbox.waker.wake();
        }
        for w in self
            .stop_wakers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let _ = w.wake();
        }
        n
    }

    /// Stop requests made so far.
    pub fn stops(&self) -> usize {
        self.stops.load(Ordering::Acquire)
    }

    /// Wake `waker` at every stop request too (a loop outside the inboxes).
    pub fn wake_on_stop(&self, waker: Waker) {
        self.stop_wakers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(waker);
    }
}
