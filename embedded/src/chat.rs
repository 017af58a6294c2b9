//! §6 chat on UDP 9093: one smoltcp UDP socket feeding core's [`ChatServer`], in the
//! driving order `core/src/chat/server.rs` asks for (drain `poll_transmit` into the
//! socket, then the events, then timeouts, and only then the next datagram).
//!
//! No protocol logic lives here: this file only moves datagrams between the socket and
//! the core server. A member is its smoltcp [`IpEndpoint`], so the table costs about 50
//! bytes per member and the board's [`MEMBERS`] (8) fit in well under 1 KiB.
//!
//! Backpressure is the core's: while the server owes datagrams, nothing is read, so a
//! flood waits in (and overflows from) smoltcp's receive buffer, never in a queue of
//! ours. When the transmit buffer is full mid-relay the datagram in hand is kept, and
//! `poll_at` asks the frontend to poll again at once: smoltcp's egress, which
//! runs at the end of every [`crate::Stack::poll`], empties the buffer meanwhile.

use crate::fmt::{debug, info};
use crate::service::{Load, Parts, Round, Running, Service, Snapshot, report_one};
use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::udp::{self, PacketMetadata};
use smoltcp::wire::IpEndpoint;
use socklab_core::chat::{
    ChatEvent, ChatServer, DEFAULT_MAX_MEMBERS_PER_HOST, MAX_RELAY, Transmit,
};
use socklab_core::service::CHAT;
use socklab_core::{Duration, Instant};

/// Members at once (§6's `--max-members` on a board); a `JOIN` over it gets `ERR busy`.
pub const MEMBERS: usize = 8;
/// Receive payload: 2 KiB holds every datagram an unfragmented Ethernet frame can carry
/// (1472 bytes), so an oversized one still reaches the core and a member gets its
/// `ERR bad-message` instead of silence.
pub const RX: usize = 2048;
/// Datagrams waiting in [`RX`].
pub const RX_PACKETS: usize = 4;
/// Transmit payload: three full relays (526 bytes); a relay to more members waits for
/// smoltcp's egress, which runs in the same [`crate::Stack::poll`].
pub const TX: usize = 1600;
/// Datagrams waiting in [`TX`]: short ones (`* ann joined`) to every member.
pub const TX_PACKETS: usize = MEMBERS;

/// The core server as the board holds it.
pub type Room = ChatServer<IpEndpoint, MEMBERS>;

/// §6 chat on the service list: one UDP socket for every member.
pub struct Chat;

/// Payload storage of the chat socket, and the core server's output buffer.
#[derive(Debug)]
pub struct ChatBuffers {
    rx: [u8; RX],
    tx: [u8; TX],
    /// Where `ChatServer::poll_transmit` writes the next datagram.
    out: [u8; MAX_RELAY],
}

/// The chat socket's packet metadata (sizes and endpoints of queued datagrams).
#[derive(Debug)]
pub struct ChatMeta {
    rx: [PacketMetadata; RX_PACKETS],
    tx: [PacketMetadata; TX_PACKETS],
}

impl<'a> Service<'a> for Chat {
    const COUNT: usize = 1;
    const SOCKETS: usize = 1;
    type Buffers = ChatBuffers;
    const BUFFERS: Self::Buffers = ChatBuffers {
        rx: [0; RX],
        tx: [0; TX],
        out: [0; MAX_RELAY],
    };
    type Meta = ChatMeta;
    const META: Self::Meta = ChatMeta {
        rx: [PacketMetadata::EMPTY; RX_PACKETS],
        tx: [PacketMetadata::EMPTY; TX_PACKETS],
    };
    /// The room (members, the relay in progress); `None` until the stack starts, so an
    /// empty room costs nothing to place.
    type Sessions = Option<Room>;

    fn sessions() -> Self::Sessions {
        None
    }

    type Running<'s>
        = ChatUdp<'s>
    where
        'a: 's;

    fn start<'s>(parts: Parts<'a, 's, Self>, sockets: &mut SocketSet<'a>) -> ChatUdp<'s> {
        let timeout = parts.setup.config.member_timeout;
        ChatUdp::new(timeout, parts.sessions, parts.buffers, parts.meta, sockets)
    }
}

impl Running for ChatUdp<'_> {
    fn poll(&mut self, now: Instant, sockets: &mut SocketSet<'_>, round: Round, _: &Snapshot) {
        if round == Round::Serve {
            self.poll_socket(now, sockets);
        }
    }

    /// Now while a datagram waits for room in the transmit buffer, else the next member
    /// timeout.
    fn poll_at(&self, now: Instant) -> Option<Instant> {
        if self.unsent.is_some() || self.server.wants_output() {
            return Some(now);
        }
        self.server.poll_timeout()
    }

    fn report<'o>(&self, out: &'o mut [Load]) -> &'o mut [Load] {
        let load = Load {
            info: &CHAT,
            limit: MEMBERS,
            open: self.server.len(),
        };
        report_one(load, out)
    }
}

/// The chat socket and the server behind it.
pub struct ChatUdp<'s> {
    handle: SocketHandle,
    server: &'s mut Room,
    /// Where `poll_transmit` writes; borrowed from [`ChatBuffers`] so the stack stays
    /// small.
    out: &'s mut [u8; MAX_RELAY],
    /// A datagram the full transmit buffer did not take yet.
    unsent: Option<Transmit<IpEndpoint>>,
}

impl<'s> ChatUdp<'s> {
    /// Bind a UDP socket on §0's port over `buffers` and `meta`, serving `server` (placed by
    /// the caller, e.g. in `.bss`, and reset here to an empty room).
    fn new<'a: 's>(
        member_timeout: Duration,
        server: &'s mut Option<Room>,
        buffers: &'a mut ChatBuffers,
        meta: &'a mut ChatMeta,
        sockets: &mut SocketSet<'a>,
    ) -> Self {
        let mut socket = udp::Socket::new(
            udp::PacketBuffer::new(&mut meta.rx[..], &mut buffers.rx[..]),
            udp::PacketBuffer::new(&mut meta.tx[..], &mut buffers.tx[..]),
        );
        // Fails only for port 0 or a socket already bound; ours is new and the port fixed.
        if socket.bind(CHAT.port).is_err() {
            debug!("chat cannot bind port {}", CHAT.port);
        }
        let handle = sockets.add(socket);
        let server = server.insert(ChatServer::new(member_timeout, MEMBERS));
        // §6's per-address limit, as on the PC. With the board's 8 members and the default
        // 64 it never bites, but a board built with a bigger room keeps the rule.
        server.set_host_limit(DEFAULT_MAX_MEMBERS_PER_HOST, |a, b| a.addr == b.addr);
        ChatUdp {
            handle,
            server,
            out: &mut buffers.out,
            unsent: None,
        }
    }

    /// Move datagrams until the socket has nothing more to give or take.
    fn poll_socket(&mut self, now: Instant, sockets: &mut SocketSet<'_>) {
        let socket = sockets.get_mut::<udp::Socket>(self.handle);
        loop {
            if !self.flush(socket) {
                return;
            }
            self.log_events();
            if self.server.poll_timeout().is_some_and(|t| t <= now) {
                self.server.handle_timeout(now);
                continue;
            }
            // Only with nothing owed: the core ignores input given while it owes output.
            let Ok((datagram, meta)) = socket.recv() else {
                return;
            };
            self.server.handle_datagram(now, meta.endpoint, datagram);
        }
    }

    /// Send what the server owes. False when the transmit buffer is full.
    fn flush(&mut self, socket: &mut udp::Socket<'_>) -> bool {
        loop {
            let t = match self.unsent.take() {
                Some(t) => t,
                None => match self.server.poll_transmit(self.out) {
                    Some(t) => t,
                    None => return true,
                },
            };
            match socket.send_slice(&self.out[..t.len], t.to) {
                Ok(()) => {}
                Err(udp::SendError::BufferFull) => {
                    self.unsent = Some(t);
                    return false;
                }
                // Port 0 or an unspecified address as a source: nobody to answer, and
                // the rest of a relay must still go out.
                Err(udp::SendError::Unaddressable) => {
                    debug!("chat {} unaddressable; datagram dropped", t.to);
                }
            }
        }
    }

    fn log_events(&mut self) {
        while let Some(e) = self.server.poll_event() {
            let online = self.server.len();
            match e {
                ChatEvent::Joined(a, nick) => {
                    info!(
                        "chat {} member joined ({}, {} online)",
                        a,
                        nick.as_str(),
                        online
                    );
                }
                ChatEvent::Left(a, nick) => {
                    info!(
                        "chat {} member left ({}, {} online)",
                        a,
                        nick.as_str(),
                        online
                    );
                }
                ChatEvent::TimedOut(a, nick) => {
                    info!(
                        "chat {} member timed out ({}, {} online)",
                        a,
                        nick.as_str(),
                        online
                    );
                }
            }
        }
    }
}
