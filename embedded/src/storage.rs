//! Every byte the stack needs, in one value the frontend places: a `static` on a board
//! (so the linker counts it as static RAM and nothing grows at run time), a local on a PC.
//!
//! smoltcp sockets borrow their buffers, so the buffers cannot live inside the stack
//! that owns the sockets; [`Stack::new`](crate::Stack::new) borrows a `Storage` for as
//! long as the stack lives.

use smoltcp::iface::SocketStorage;

/// Concurrent echo sessions. Echo moves the most data, so it gets the bigger buffers.
pub const ECHO_SESSIONS: usize = 2;
/// Concurrent quiz players.
pub const QUIZ_SESSIONS: usize = 4;
/// Concurrent status-page requests.
pub const STATUS_SESSIONS: usize = 1;

/// Echo socket buffers: 2 KiB each way keeps a TCP window of more than one segment.
pub const ECHO_RX: usize = 2048;
/// See [`ECHO_RX`].
pub const ECHO_TX: usize = 2048;
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

/// Sockets in the set: one per session slot.
pub const SOCKETS: usize = ECHO_SESSIONS + QUIZ_SESSIONS + STATUS_SESSIONS;

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

/// Socket slots and buffers for every service.
pub struct Storage<'a> {
    pub(crate) sockets: [SocketStorage<'a>; SOCKETS],
    pub(crate) echo: [TcpBuffers<ECHO_RX, ECHO_TX>; ECHO_SESSIONS],
    pub(crate) quiz: [TcpBuffers<QUIZ_RX, QUIZ_TX>; QUIZ_SESSIONS],
    pub(crate) status: [TcpBuffers<STATUS_RX, STATUS_TX>; STATUS_SESSIONS],
}

impl Storage<'_> {
    /// Zeroed storage. `const`, so a firmware can put it in a `static` (in `.bss`)
    /// without building it on its small stack first.
    pub const fn new() -> Self {
        Storage {
            sockets: [SocketStorage::EMPTY; SOCKETS],
            echo: [TcpBuffers::EMPTY; ECHO_SESSIONS],
            quiz: [TcpBuffers::EMPTY; QUIZ_SESSIONS],
            status: [TcpBuffers::EMPTY; STATUS_SESSIONS],
        }
    }
}

impl Default for Storage<'_> {
    fn default() -> Self {
        Self::new()
    }
}
