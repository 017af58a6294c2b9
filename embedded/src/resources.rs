//! Every byte the stack needs, in three values the frontend places: `static`s on a board
//! (so the linker counts them as static RAM and nothing grows at run time), leaked boxes
//! on a PC. embassy-net calls the same thing `StackResources`.
//!
//! smoltcp sockets borrow their buffers, so the buffers cannot live inside the stack
//! that owns the sockets; [`Stack::new`](crate::Stack::new) borrows them for as long as
//! the stack lives. Their contents follow from the service list
//! ([`crate::services::Services`]); nothing here names a service.

use crate::service::Service;
use crate::services::{SOCKETS, Services};
use smoltcp::iface::SocketStorage;

/// One smoltcp socket slot per session, and the chat socket's packet metadata.
///
/// Kept apart from [`Buffers`] because neither an empty slot nor empty metadata is all
/// zero bytes: a `static` of it lands in `.data` (its image costs flash), while the
/// all-zero buffers stay in `.bss`.
pub struct Sockets<'a> {
    pub(crate) slots: [SocketStorage<'a>; SOCKETS],
    pub(crate) meta: <Services<'a> as Service<'a>>::Meta,
}

impl<'a> Sockets<'a> {
    /// Empty slots; `const` for a `static`.
    pub const fn new() -> Self {
        Sockets {
            slots: [SocketStorage::EMPTY; SOCKETS],
            meta: <Services<'a> as Service<'a>>::META,
        }
    }
}

impl Default for Sockets<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// Every socket buffer of every service, and the RAM disk the files sessions share: all
/// zeros, so a `static` of it is in `.bss`.
pub struct Buffers(pub(crate) <Services<'static> as Service<'static>>::Buffers);

impl Buffers {
    /// Zeroed buffers. `const`, so a firmware can put them in a `static` without
    /// building them on its small stack first.
    pub const fn new() -> Self {
        Buffers(<Services<'static> as Service<'static>>::BUFFERS)
    }
}

impl Default for Buffers {
    fn default() -> Self {
        Self::new()
    }
}

/// Room for every live session, all empty `heapless::Vec`s (and chat's room, `None`
/// until the stack starts): a `static` of it is in `.bss`, and the [`crate::Stack`]
/// that uses it stays small (sessions are most of the memory: a quiz keeps a 1 KiB line
/// buffer).
pub struct Sessions<'a>(pub(crate) <Services<'a> as Service<'a>>::Sessions);

impl Sessions<'_> {
    /// No sessions. Writing it touches only the lengths, so a firmware can build it in
    /// place in a `static` (`StaticCell::init_with`).
    pub fn new() -> Self {
        Sessions(Services::sessions())
    }
}

impl Default for Sessions<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// Everything [`crate::Stack::new`] borrows for the stack's lifetime.
///
/// Two lifetimes, because the sessions need not live as long as the rest: they hold
/// handles on the RAM disk in [`Buffers`] (a `RefCell`, not `Sync`), so a firmware
/// keeps them in a `StaticCell` (no `Send` bound) or a local of its never-returning
/// `main` rather than in a `ConstStaticCell`.
pub struct StackResources<'a: 's, 's> {
    /// Socket slots.
    pub sockets: &'a mut Sockets<'a>,
    /// Socket buffers and the RAM disk.
    pub buffers: &'a mut Buffers,
    /// Live sessions.
    pub sessions: &'s mut Sessions<'a>,
}
