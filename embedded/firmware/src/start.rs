//! Start-up and the main loop: the stack's resources in `static`s, the ready lines, then
//! poll and sleep for ever.

use crate::clock::Clock;
use core::convert::Infallible;
use socklab_embedded::smoltcp::phy::Device;
use socklab_embedded::smoltcp::wire::Ipv4Address;
use socklab_embedded::{
    Buffers, Instant, NetConfig, ServiceConfig, Sessions, Sockets, Stack, StackResources,
};
use static_cell::{ConstStaticCell, StaticCell};

/// Every socket buffer and the RAM disk, in `.bss`: counted by the linker as static RAM,
/// zero-filled at reset, and never built on the stack (BENCHMARKS.md has what building it
/// there cost).
static BUFFERS: ConstStaticCell<Buffers> = ConstStaticCell::new(Buffers::new());
/// Room for the live sessions, in `.bss`. A `StaticCell`, not a `ConstStaticCell`: the
/// files sessions hold handles on the disk's `RefCell`, so `Sessions` is not `Send`,
/// which only the latter requires. Initialising it writes only the lengths (the rest is
/// `MaybeUninit`), so nothing big passes through the stack.
static SESSIONS: StaticCell<Sessions<'static>> = StaticCell::new();
/// The socket slots: not all zero bytes, so in `.data` (their image costs flash too).
static SOCKETS: ConstStaticCell<Sockets<'static>> = ConstStaticCell::new(Sockets::new());

/// Serve on `device` for ever: build the stack on the `static`s, `announce` each
/// service's address and port (the ready lines), then poll and `sleep` until a frame
/// arrives or the deadline passes (`None`: until a frame). Call it once.
// Inlined into the board's `main`, where this code was before it moved here: a frame of
// its own holds a second copy of the stack's locals (BENCHMARKS.md has the figures).
#[inline(always)]
pub fn serve<D: Device>(
    net: NetConfig,
    config: ServiceConfig,
    device: &mut D,
    clock: &Clock,
    mut announce: impl FnMut(Ipv4Address, u16),
    mut sleep: impl FnMut(&mut D, Option<Instant>),
) -> ! {
    let resources = StackResources {
        sockets: SOCKETS.take(),
        buffers: BUFFERS.take(),
        sessions: SESSIONS.init_with(Sessions::new),
    };
    let mut stack = Stack::new(net, config, device, resources, clock.now());
    for s in stack.services() {
        announce(net.ip.address(), s.info.port);
    }
    let sleep = |device: &mut D, wake_at| {
        sleep(device, wake_at);
        Ok::<(), Infallible>(())
    };
    match stack.run(device, || clock.now(), sleep) {}
}
