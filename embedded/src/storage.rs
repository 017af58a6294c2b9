//! Every buffer the stack needs, in two values the frontend places: `static`s on a board
//! (so the linker counts them as static RAM and nothing grows at run time), locals on a
//! PC.
//!
//! smoltcp sockets borrow their buffers, so the buffers cannot live inside the stack
//! that owns the sockets; [`Stack::new`](crate::Stack::new) borrows [`Sockets`] and
//! [`Buffers`] for as long as the stack lives.

use crate::chat::Chat;
use crate::files::{Disk, FilesConn};
use crate::services::{EchoService, QuizService, StatusService};
use crate::tcp::Conns;
use core::cell::RefCell;
use smoltcp::iface::SocketStorage;
use smoltcp::socket::udp::PacketMetadata;
use socklab_core::chat::MAX_RELAY;

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

/// Chat members at once (§6's `--max-members` on a board); a `JOIN` over it gets
/// `ERR busy`.
pub const CHAT_MEMBERS: usize = 8;
/// Chat receive payload: 2 KiB holds every datagram an unfragmented Ethernet frame can
/// carry (1472 bytes), so an oversized one still reaches the core and a member gets its
/// `ERR bad-message` instead of silence.
pub const CHAT_RX: usize = 2048;
/// Datagrams waiting in [`CHAT_RX`].
pub const CHAT_RX_PACKETS: usize = 4;
/// Chat transmit payload: three full relays (526 bytes); a relay to more members waits
/// for smoltcp's egress, which runs in the same [`crate::Stack::poll`].
pub const CHAT_TX: usize = 1600;
/// Datagrams waiting in [`CHAT_TX`]: short ones (`* ann joined`) to every member.
pub const CHAT_TX_PACKETS: usize = CHAT_MEMBERS;

/// Sockets in the set: one per session slot, and the chat's UDP socket.
pub const SOCKETS: usize = ECHO_SESSIONS + QUIZ_SESSIONS + STATUS_SESSIONS + FILES_SESSIONS + 1;

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

/// Payload storage of the chat socket, and the core server's output buffer.
#[derive(Debug)]
pub struct ChatBuffers {
    pub(crate) rx: [u8; CHAT_RX],
    pub(crate) tx: [u8; CHAT_TX],
    /// Where `ChatServer::poll_transmit` writes the next datagram.
    pub(crate) out: [u8; MAX_RELAY],
}

/// The chat socket's packet metadata (sizes and endpoints of queued datagrams).
#[derive(Debug)]
pub struct ChatMeta {
    pub(crate) rx: [PacketMetadata; CHAT_RX_PACKETS],
    pub(crate) tx: [PacketMetadata; CHAT_TX_PACKETS],
}

/// One smoltcp socket slot per session, and the chat socket's packet metadata.
///
/// Kept apart from [`Buffers`] because neither an empty slot nor empty metadata is all
/// zero bytes: a `static` of it lands in `.data` (about 2 KB of flash for its image),
/// while the all-zero buffers stay in `.bss`.
pub struct Sockets<'a> {
    pub(crate) slots: [SocketStorage<'a>; SOCKETS],
    pub(crate) chat: ChatMeta,
}

impl Sockets<'_> {
    /// Empty slots; `const` for a `static`.
    pub const fn new() -> Self {
        Sockets {
            slots: [SocketStorage::EMPTY; SOCKETS],
            chat: ChatMeta {
                rx: [PacketMetadata::EMPTY; CHAT_RX_PACKETS],
                tx: [PacketMetadata::EMPTY; CHAT_TX_PACKETS],
            },
        }
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
    pub(crate) chat: ChatBuffers,
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
            chat: ChatBuffers {
                rx: [0; CHAT_RX],
                tx: [0; CHAT_TX],
                out: [0; MAX_RELAY],
            },
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
    /// The chat room (members, the relay in progress); `None` until the stack starts,
    /// so an empty `Sessions` stays a `const` and is all but free to initialise.
    pub(crate) chat: Option<Chat>,
}

impl Sessions<'_> {
    /// No sessions. `const`, for a `static`.
    pub const fn new() -> Self {
        Sessions {
            echo: Conns::new(),
            quiz: Conns::new(),
            status: Conns::new(),
            files: Conns::new(),
            chat: None,
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
