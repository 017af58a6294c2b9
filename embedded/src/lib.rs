//! socklab's services on smoltcp, for any [`smoltcp::phy::Device`]: a TAP device on a PC
//! (`socklab-tap`) or an Ethernet controller on a board (`socklab-mps2`).
//!
//! No heap and no protocol logic of its own: [`Sockets`], [`Buffers`] and [`Sessions`]
//! hold every socket, buffer and session in values the frontend places (`static`s on a
//! board, borrowed together as a [`Storage`]), and each connection is a
//! `socklab-core` session driven in the calling order of `docs/DESIGN.md`. A frontend
//! does three things in a loop:
//!
//! ```text
//! let mut stack = Stack::new(net, services, &mut device, storage, now());
//! loop {
//!     stack.poll(now(), &mut device);
//!     sleep_until_frame_or(stack.poll_delay(now()));   // never spin
//! }
//! ```
//!
//! Time is core's [`Instant`]: milliseconds since the frontend's epoch (boot).
#![no_std]
#![warn(missing_docs)]

mod fmt;

pub mod chat;
pub mod config;
pub mod files;
pub mod services;
pub mod status;
pub mod storage;
pub mod tcp;

pub use config::{NetConfig, ServiceConfig};
pub use smoltcp;
pub use socklab_core;
pub use socklab_core::{Duration, Instant};
pub use storage::{Buffers, Sessions, Sockets, Storage, new_disk};

use chat::ChatUdp;
use files::FilesService;
use services::{EchoService, QuizService, SERVICE_TABLE, StatusService};
use smoltcp::iface::{Config, Interface, SocketSet};
use smoltcp::phy::Device;
use smoltcp::wire::{HardwareAddress, IpCidr};
use socklab_core::rng::SplitMix64;
use socklab_core::time::earliest;
use storage::{ECHO_SESSIONS, FILES_SESSIONS, QUIZ_SESSIONS, STATUS_SESSIONS};
use tcp::{Snapshot, TcpPool};

/// Number of services the stack runs.
pub const SERVICES: usize = 5;

/// The interface, the socket set and one session pool per service.
pub struct Stack<'a: 's, 's> {
    iface: Interface,
    sockets: SocketSet<'a>,
    net: NetConfig,
    started: Instant,
    echo: TcpPool<'s, EchoService, ECHO_SESSIONS>,
    quiz: TcpPool<'s, QuizService, QUIZ_SESSIONS>,
    status: TcpPool<'s, StatusService, STATUS_SESSIONS>,
    files: TcpPool<'s, FilesService<'a>, FILES_SESSIONS>,
    chat: ChatUdp<'s>,
}

fn to_smol(t: Instant) -> smoltcp::time::Instant {
    smoltcp::time::Instant::from_millis(t.total_millis() as i64)
}

impl<'a: 's, 's> Stack<'a, 's> {
    /// Bring the interface up on `device` with `net`'s addresses and open every
    /// service's listening sockets, all on `storage`.
    pub fn new<D: Device + ?Sized>(
        net: NetConfig,
        services: ServiceConfig,
        device: &mut D,
        storage: Storage<'a, 's>,
        now: Instant,
    ) -> Self {
        let mut config = Config::new(HardwareAddress::Ethernet(net.mac));
        config.random_seed = services.entropy;
        let mut iface = Interface::new(config, device, to_smol(now));
        iface.update_ip_addrs(|addrs| {
            // Capacity is at least 1 address; ours is the only one.
            let _ = addrs.push(IpCidr::Ipv4(net.ip));
        });
        if let Some(gw) = net.gateway {
            // Fails only when the route table is full, and it starts empty.
            let _ = iface.routes_mut().add_default_ipv4_route(gw);
        }
        let Storage {
            sockets,
            buffers,
            sessions,
            disk,
        } = storage;
        let Sockets {
            slots,
            chat: chat_meta,
        } = sockets;
        let mut sockets = SocketSet::new(&mut slots[..]);
        let idle = services.idle_timeout;
        let linger = services.linger;
        let echo_service = EchoService { idle };
        let echo = TcpPool::new(
            echo_service,
            linger,
            &mut buffers.echo,
            &mut sessions.echo,
            &mut sockets,
        );
        let quiz_service = QuizService {
            idle,
            seed: services.quiz_seed,
            entropy: SplitMix64::new(services.entropy),
        };
        let quiz = TcpPool::new(
            quiz_service,
            linger,
            &mut buffers.quiz,
            &mut sessions.quiz,
            &mut sockets,
        );
        let status = TcpPool::new(
            StatusService { net, idle },
            linger,
            &mut buffers.status,
            &mut sessions.status,
            &mut sockets,
        );
        let files_service = FilesService {
            disk,
            config: socklab_core::files::FilesConfig {
                max_file_size: files::DISK_FILE_BYTES as u64,
                idle,
                // §3's 1,024 bytes/s over 60 s: a trickle holds no slot of the small disk.
                ..socklab_core::files::FilesConfig::default()
            },
        };
        let files = TcpPool::new(
            files_service,
            linger,
            &mut buffers.files,
            &mut sessions.files,
            &mut sockets,
        );
        let chat = ChatUdp::new(
            config::port::CHAT,
            services.member_timeout,
            &mut sessions.chat,
            &mut buffers.chat,
            chat_meta,
            &mut sockets,
        );
        let mut stack = Stack {
            iface,
            sockets,
            net,
            started: now,
            echo,
            quiz,
            status,
            files,
            chat,
        };
        // Listen at once, so the first SYN already finds its socket.
        stack.poll_services(now);
        stack
    }

    /// Name, port and session limit of every service, for a frontend's ready lines.
    pub fn services(&self) -> &'static [(&'static str, u16, usize)] {
        &SERVICE_TABLE
    }

    /// The interface's addresses.
    pub fn net(&self) -> &NetConfig {
        &self.net
    }

    /// Open sessions per service, in [`services`](Self::services) order; for chat,
    /// the members online.
    pub fn open_sessions(&self) -> [usize; SERVICES] {
        [
            self.echo.open_sessions(),
            self.quiz.open_sessions(),
            self.files.open_sessions(),
            self.status.open_sessions(),
            self.chat.members(),
        ]
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

    fn poll_services(&mut self, now: Instant) {
        let snapshot = |stack: &Self| Snapshot {
            uptime: now.saturating_since(stack.started),
            open: stack.open_sessions(),
        };
        let s = snapshot(self);
        self.echo.poll(now, &mut self.sockets, &s);
        self.quiz.poll(now, &mut self.sockets, &s);
        self.files.poll(now, &mut self.sockets, &s);
        self.chat.poll(now, &mut self.sockets);
        let s = snapshot(self);
        self.status.poll(now, &mut self.sockets, &s);
    }

    /// How long the frontend may sleep before the next [`poll`](Self::poll) if no frame
    /// arrives: the earlier of smoltcp's timers (retransmission, delayed ACK, ARP) and
    /// the sessions' (answer and idle timeouts, linger) and chat's (member timeouts; zero
    /// while a relay waits for room to send). `None`: until a frame arrives.
    pub fn poll_delay(&mut self, now: Instant) -> Option<Duration> {
        let smol = self
            .iface
            .poll_delay(to_smol(now), &self.sockets)
            .map(|d| now + Duration::from_millis(d.total_millis()));
        let sessions = [
            self.quiz.poll_at(),
            self.files.poll_at(),
            self.status.poll_at(),
            self.chat.poll_at(now),
        ]
        .into_iter()
        .fold(self.echo.poll_at(), earliest);
        earliest(smol, sessions).map(|at| at.saturating_since(now))
    }
}
