//! socklab's services on smoltcp, for any [`smoltcp::phy::Device`]: a TAP device on a PC
//! (`socklab-tap`) or an Ethernet controller on a board (`socklab-mps2`,
//! `socklab-nucleo`).
//!
//! No heap and no protocol logic of its own: the frontend places every socket, buffer
//! and session ([`StackResources`]: `static`s on a board), and each connection is a
//! `socklab-core` session driven in the calling order of `docs/DESIGN.md`. What runs is
//! one list, [`services::Services`], each service with its sizes; the stack derives
//! everything else from it. A frontend's main loop is [`Stack::run`]:
//!
//! ```text
//! let mut stack = Stack::new(net, config, &mut device, resources, now());
//! stack.run(&mut device, now, |device, wake_at| sleep_until_frame_or(wake_at))
//! ```
//!
//! Time is core's [`Instant`]: milliseconds since the frontend's epoch (boot).
//!
//! Modules, lowest first (each imports only those before it): `config` and `fmt`; the
//! seam `service`; the drivers `tcp` (TCP pools) and `chat` (UDP); the services `files`
//! and `status`; the list `services`; the `resources` it sizes; and the [`Stack`] here.
#![no_std]
#![warn(missing_docs)]

mod fmt;

pub mod chat;
pub mod config;
pub mod files;
pub mod resources;
pub mod service;
pub mod services;
pub mod status;
pub mod tcp;

pub use config::{NetConfig, ServiceConfig};
pub use resources::{Buffers, Sessions, Sockets, StackResources};
pub use service::Load;
pub use services::SERVICES;
pub use smoltcp;
pub use socklab_core;
pub use socklab_core::{Duration, Instant};

use core::marker::PhantomData;
use service::{Parts, Round, Running, Service, Setup, Snapshot};
use services::Services;
use smoltcp::iface::{Config, Interface, SocketSet};
use smoltcp::phy::Device;
use smoltcp::wire::{HardwareAddress, IpCidr};
use socklab_core::time::earliest;

/// The interface, the socket set and every service of the list, started.
pub struct Stack<'a: 's, 's> {
    iface: Interface,
    sockets: SocketSet<'a>,
    net: NetConfig,
    started: Instant,
    services: <Services<'a> as Service<'a>>::Running<'s>,
}

fn to_smol(t: Instant) -> smoltcp::time::Instant {
    smoltcp::time::Instant::from_millis(t.total_millis() as i64)
}

impl<'a: 's, 's> Stack<'a, 's> {
    /// Bring the interface up on `device` with `net`'s addresses and open every
    /// service's listening sockets, all on `resources`.
    pub fn new<D: Device + ?Sized>(
        net: NetConfig,
        config: ServiceConfig,
        device: &mut D,
        resources: StackResources<'a, 's>,
        now: Instant,
    ) -> Self {
        let mut iface_config = Config::new(HardwareAddress::Ethernet(net.mac));
        iface_config.random_seed = config.entropy;
        let mut iface = Interface::new(iface_config, device, to_smol(now));
        iface.update_ip_addrs(|addrs| {
            // Capacity is at least 1 address; ours is the only one.
            let _ = addrs.push(IpCidr::Ipv4(net.ip));
        });
        if let Some(gw) = net.gateway {
            // Fails only when the route table is full, and it starts empty.
            let _ = iface.routes_mut().add_default_ipv4_route(gw);
        }
        let StackResources {
            sockets: Sockets { slots, meta },
            buffers: Buffers(buffers),
            sessions: Sessions(sessions),
        } = resources;
        let mut sockets = SocketSet::new(&mut slots[..]);
        let setup = Setup { net, config };
        let parts = Parts {
            setup,
            buffers,
            meta,
            sessions,
            outlives: PhantomData,
        };
        let services = Services::start(parts, &mut sockets);
        let mut stack = Stack {
            iface,
            sockets,
            net,
            started: now,
            services,
        };
        // Listen at once, so the first SYN already finds its socket.
        stack.poll_services(now);
        stack
    }

    /// Every service's row (name, port, limit, open now), in the list's order: for a
    /// frontend's ready lines.
    pub fn services(&self) -> [Load; SERVICES] {
        let mut rows = [Load::BLANK; SERVICES];
        self.services.report(&mut rows);
        rows
    }

    /// The interface's addresses.
    pub fn net(&self) -> &NetConfig {
        &self.net
    }

    /// Open sessions per service, in [`services`](Self::services) order; for chat,
    /// the members online.
    pub fn open_sessions(&self) -> [usize; SERVICES] {
        self.services().map(|s| s.open)
    }

    /// Move packets and run every session once. Returns true when something may have
    /// changed, which a frontend can use to poll again before it sleeps.
    pub fn poll<D: Device + ?Sized>(&mut self, now: Instant, device: &mut D) -> bool {
        use smoltcp::iface::{PollIngressSingleResult, PollResult};
        let smol_now = to_smol(now);
        let mut changed = false;
        // Sessions run after every frame that changed a socket, not after a whole
        // batch: a slot whose connection just closed listens again before the next
        // frame, which may be the next client's SYN (a batch would answer it with RST).
        loop {
            match self
                .iface
                .poll_ingress_single(smol_now, device, &mut self.sockets)
            {
                PollIngressSingleResult::None => break,
                PollIngressSingleResult::PacketProcessed => {}
                PollIngressSingleResult::SocketStateChanged => {
                    changed = true;
                    self.poll_services(now);
                }
            }
        }
        self.poll_services(now);
        // Send what the sessions just queued without waiting for the next wake-up.
        changed |= self.iface.poll_egress(smol_now, device, &mut self.sockets)
            == PollResult::SocketStateChanged;
        changed
    }

    /// Every service once, the status page last so its counts are this round's.
    fn poll_services(&mut self, now: Instant) {
        for round in [Round::Serve, Round::Report] {
            let services = self.services();
            let snapshot = Snapshot {
                uptime: now.saturating_since(self.started),
                services: &services,
            };
            self.services.poll(now, &mut self.sockets, round, &snapshot);
        }
    }

    /// How long the frontend may sleep before the next [`poll`](Self::poll) if no frame
    /// arrives: the earlier of smoltcp's timers (retransmission, delayed ACK, ARP) and
    /// the services' (answer and idle timeouts, linger, chat's member timeouts; zero
    /// while a relay waits for room to send). `None`: until a frame arrives.
    pub fn poll_delay(&mut self, now: Instant) -> Option<Duration> {
        let smol = self
            .iface
            .poll_delay(to_smol(now), &self.sockets)
            .map(|d| now + Duration::from_millis(d.total_millis()));
        earliest(smol, self.services.poll_at(now)).map(|at| at.saturating_since(now))
    }

    /// A frontend's main loop: [`poll`](Self::poll), then `sleep` until a frame arrives
    /// or `wake_at` has passed (`None`: until a frame), so nothing spins. Returns only
    /// with `sleep`'s error; a firmware's `sleep` has none (`Infallible`).
    pub fn run<D: Device + ?Sized, E>(
        &mut self,
        device: &mut D,
        mut now: impl FnMut() -> Instant,
        mut sleep: impl FnMut(&mut D, Option<Instant>) -> Result<(), E>,
    ) -> E {
        loop {
            let t = now();
            self.poll(t, device);
            // One clock reading for both, so the deadline is exact however long the
            // poll took.
            let wake_at = self.poll_delay(t).map(|d| t + d);
            if let Err(e) = sleep(device, wake_at) {
                return e;
            }
        }
    }
}
