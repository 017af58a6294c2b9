//! Every buffer the stack needs, in two values the frontend places: `static`s on a board
//! (so the linker counts them as static RAM and nothing grows at run time), locals on a
//! PC.
//!
//! smoltcp sockets borrow their buffers, so the buffers cannot live inside the stack
//! that owns the sockets; [`Stack::new`](crate::Stack::new) borrows [`Sockets`] and
//! [`Buffers`] for as long as the stack lives.

use crate::files::{Disk, FilesConn};
use crate::services::{EchoService, QuizService, StatusService};
use crate::tcp::Conns;
use core::cell::RefCell;
use smoltcp::iface::SocketStorage;

/// Concurrent echo sessions. Echo moves the most data, so it gets the bigger buffers.
pub const ECHO_SESSIONS: usize = 2;
/// Concurrent quiz players.
pub const QUIZ_SESSIONS: usize = 3;
/// Concurrent status-page requests.
pub const STATUS_SESSIONS: usize = 1;
/// Concurrent files sessions.
pub const FILES_SESSIONS: usize = 2;

/// Echo socket buffers: 1 KiB each way (RAM is what limits: 64 KiB for everything).
pub const ECHO_RX: usize = 1024;
/// See [`ECHO_RX`].
pub const ECHO_TX: usize = 1024;
/// Echo's own output queue (`Echo<N>`), bytes taken from the socket but not yet sent.
pub const ECHO_QUEUE: usize = 512;
/// Quiz lines are short; an answer and a problem line fit many times over.
pub const QUIZ_RX: usize = 512;
/// See [`QUIZ_RX`].
pub const QUIZ_TX: usize = 512;
/// A request head rarely exceeds this; a longer one waits in the window, it is not lost.
pub const STATUS_RX: usize = 512;
/// The whole status response fits, so it is queued in one go.
pub const STATUS_TX: usize = 1024;

/// Files socket buffers: a 4 KiB file moves in a few windows; RAM is what limits.
pub const FILES_RX: usize = 1024;
/// See [`FILES_RX`].
pub const FILES_TX: usize = 1024;

/// Sockets in the set: one per session slot.
pub const SOCKETS: usize = ECHO_SESSIONS + QUIZ_SESSIONS + STATUS_SESSIONS + FILES_SESSIONS;

/// Receive and transmit buffer of one TCP socket.
#[derive(Debug)]
pub struct TcpBuffers<const RX: usize, const TX: usize> {
    pub(crate) rx: [u8; RX],
    pub(crate) tx: [u8; TX],
}

impl<const RX: usize, const TX: usize> TcpBuffers<RX, TX> {
    const EMPTY: Self = TcpBuffers {
        rx: [0; RX],
        tx: [0; TX],
    };
}

/// One smoltcp socket slot per session.
///
/// Kept apart from [`Buffers`] because an empty slot is not all zero bytes: a `static`
/// of it lands in `.data` (about 2 KB of flash for its image), while the all-zero
/// buffers stay in `.bss`.
pub struct Sockets<'a>(pub(crate) [SocketStorage<'a>; SOCKETS]);

impl Sockets<'_> {
    /// Empty slots; `const` for a `static`.
    pub const fn new() -> Self {
        Sockets([SocketStorage::EMPTY; SOCKETS])
    }
}

impl Default for Sockets<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// Every TCP buffer of every service: all zeros, so a `static` of it is in `.bss`.
pub struct Buffers {
    pub(crate) echo: [TcpBuffers<ECHO_RX, ECHO_TX>; ECHO_SESSIONS],
    pub(crate) quiz: [TcpBuffers<QUIZ_RX, QUIZ_TX>; QUIZ_SESSIONS],
    pub(crate) status: [TcpBuffers<STATUS_RX, STATUS_TX>; STATUS_SESSIONS],
    pub(crate) files: [TcpBuffers<FILES_RX, FILES_TX>; FILES_SESSIONS],
}

impl Buffers {
    /// Zeroed buffers. `const`, so a firmware can put them in a `static` without
    /// building them on its small stack first.
    pub const fn new() -> Self {
        Buffers {
            echo: [TcpBuffers::EMPTY; ECHO_SESSIONS],
            quiz: [TcpBuffers::EMPTY; QUIZ_SESSIONS],
            status: [TcpBuffers::EMPTY; STATUS_SESSIONS],
            files: [TcpBuffers::EMPTY; FILES_SESSIONS],
        }
    }
}

impl Default for Buffers {
    fn default() -> Self {
        Self::new()
    }
}

type SessionOf<T> = <T as crate::tcp::TcpService>::Session;

/// Room for every live session, all empty `heapless::Vec`s: a `static` of it is in
/// `.bss`, and the [`crate::Stack`] that uses it stays small (sessions are most of the
/// memory: a quiz keeps a 1 KiB line buffer).
pub struct Sessions<'a> {
    pub(crate) echo: Conns<SessionOf<EchoService>, ECHO_SESSIONS>,
    pub(crate) quiz: Conns<SessionOf<QuizService>, QUIZ_SESSIONS>,
    pub(crate) status: Conns<SessionOf<StatusService>, STATUS_SESSIONS>,
    pub(crate) files: Conns<FilesConn<'a>, FILES_SESSIONS>,
}

impl Sessions<'_> {
    /// No sessions. `const`, for a `static`.
    pub const fn new() -> Self {
        Sessions {
            echo: Conns::new(),
            quiz: Conns::new(),
            status: Conns::new(),
            files: Conns::new(),
        }
    }
}

impl Default for Sessions<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// Everything [`crate::Stack::new`] borrows for the stack's lifetime.
///
/// Two lifetimes, because the sessions cannot always live as long as the rest: they
/// hold handles on the RAM disk (a `RefCell`, not `Sync`), so a firmware keeps them in a
/// local of its never-returning `main` rather than in a `static`.
pub struct Storage<'a: 's, 's> {
    /// Socket slots.
    pub sockets: &'a mut Sockets<'a>,
    /// Socket buffers.
    pub buffers: &'a mut Buffers,
    /// Live sessions.
    pub sessions: &'s mut Sessions<'a>,
    /// The files service's RAM disk (`RefCell`: every files session holds a handle).
    pub disk: &'a RefCell<Disk>,
}

/// An empty RAM disk for [`Storage::disk`]; `const`, for a `static`.
pub const fn new_disk() -> RefCell<Disk> {
    RefCell::new(Disk::new())
}
