//! §6 chat on UDP 9093: one smoltcp UDP socket feeding core's [`ChatServer`], in the
//! driving order `core/src/chat/server.rs` asks for (drain `poll_transmit` into the
//! socket, then the events, then timeouts, and only then the next datagram).
//!
//! No protocol logic lives here: this file only moves datagrams between the socket and
//! the core server. A member is its smoltcp [`IpEndpoint`], so the table costs about 50
//! bytes per member and the board's [`CHAT_MEMBERS`] (8) fit in well under 1 KiB.
//!
//! Backpressure is the core's: while the server owes datagrams, nothing is read, so a
//! flood waits in (and overflows from) smoltcp's receive buffer, never in a queue of
//! ours. When the transmit buffer is full mid-relay the datagram in hand is kept, and
//! [`ChatUdp::poll_at`] asks the frontend to poll again at once: smoltcp's egress, which
//! runs at the end of every [`crate::Stack::poll`], empties the buffer meanwhile.

use crate::fmt::{debug, info};
use crate::storage::{CHAT_MEMBERS, ChatBuffers, ChatMeta};
use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::udp;
use smoltcp::wire::IpEndpoint;
use socklab_core::chat::{
    ChatEvent, ChatServer, DEFAULT_MAX_MEMBERS_PER_HOST, MAX_RELAY, Transmit,
};
use socklab_core::{Duration, Instant};

/// The core server as the board holds it.
pub type Chat = ChatServer<IpEndpoint, CHAT_MEMBERS>;

/// The chat socket and the server behind it.
pub struct ChatUdp<'s> {
    handle: SocketHandle,
    server: &'s mut Chat,
    /// Where `poll_transmit` writes; borrowed from [`crate::Buffers`] so the stack stays
    /// small.
    out: &'s mut [u8; MAX_RELAY],
    /// A datagram the full transmit buffer did not take yet.
    unsent: Option<Transmit<IpEndpoint>>,
}

impl<'s> ChatUdp<'s> {
    /// Bind a UDP socket on `port` over `buffers` and `meta`, serving `server` (placed by
    /// the caller, e.g. in `.bss`, and reset here to an empty room).
    pub fn new<'a: 's>(
        port: u16,
        member_timeout: Duration,
        server: &'s mut Option<Chat>,
        buffers: &'a mut ChatBuffers,
        meta: &'a mut ChatMeta,
        sockets: &mut SocketSet<'a>,
    ) -> Self {
        let mut socket = udp::Socket::new(
            udp::PacketBuffer::new(&mut meta.rx[..], &mut buffers.rx[..]),
            udp::PacketBuffer::new(&mut meta.tx[..], &mut buffers.tx[..]),
        );
        // Fails only for port 0 or a socket already bound; ours is new and the port fixed.
        if socket.bind(port).is_err() {
            debug!("chat cannot bind port {}", port);
        }
        let handle = sockets.add(socket);
        let server = server.insert(ChatServer::new(member_timeout, CHAT_MEMBERS));
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

    /// Members online.
    pub fn members(&self) -> usize {
        self.server.len()
    }

    /// Move datagrams until the socket has nothing more to give or take.
    pub fn poll(&mut self, now: Instant, sockets: &mut SocketSet<'_>) {
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

    /// When to poll again: now while a datagram waits for room in the transmit buffer,
    /// else the next member timeout.
    pub fn poll_at(&self, now: Instant) -> Option<Instant> {
        if self.unsent.is_some() || self.server.wants_output() {
            return Some(now);
        }
        self.server.poll_timeout()
    }
}
