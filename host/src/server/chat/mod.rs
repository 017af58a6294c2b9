//! `serve chat` (§6): the core [`ChatServer`](socklab_core::chat::ChatServer) on one UDP
//! socket.
//!
//! UDP has no connections to spread over the `--threads` loops, and every datagram may
//! touch the whole members table (a relay goes to everyone), so the socket has one owner:
//! a loop thread of its own ([`udp_loop`]), separate from the TCP loops. It shares only
//! the stop request with them (a Ctrl-C stops it too) and the log. One thread copes
//! easily: a relay to 1000 members is 1000 `sendto` calls, a few milliseconds.

pub mod flags;
pub mod udp_loop;

use std::net::SocketAddr;

use socklab_core::Duration;

use crate::server::peer_key::peer_key;

/// Members the PC build can hold at most (`--max-members` may ask for fewer). The table
/// is allocated once, boxed: about 64 bytes a member, 256 KiB.
pub const CAPACITY: usize = 4096;

/// Default `--max-members`.
pub const DEFAULT_MAX_MEMBERS: u32 = 1000;

/// Default `--member-timeout`, seconds (§6).
pub const DEFAULT_MEMBER_TIMEOUT: u64 = 60;

/// Default `--max-members-per-ip` (§6).
pub const DEFAULT_MAX_MEMBERS_PER_IP: u32 = socklab_core::chat::DEFAULT_MAX_MEMBERS_PER_HOST as u32;

/// Whether two members are one host for `--max-members-per-ip`: the same IPv4 address,
/// or the same IPv6 /64 ([`peer_key`]), whatever their ports.
pub fn same_host(a: &SocketAddr, b: &SocketAddr) -> bool {
    peer_key(a.ip()) == peer_key(b.ip())
}

/// `serve chat` (§6).
#[derive(Debug, Clone, Copy)]
pub struct ChatService {
    /// `--member-timeout`.
    pub member_timeout: Duration,
    /// `--max-members` (at most [`CAPACITY`]).
    pub max_members: usize,
    /// `--max-members-per-ip`: members sharing one address (an IPv6 /64).
    pub max_members_per_ip: usize,
}

/// The chat service with the port it was asked to use.
#[derive(Debug, Clone, Copy)]
pub struct ChatListen {
    /// The service.
    pub service: ChatService,
    /// Requested port (the default unless `--port` said otherwise).
    pub port: u16,
}
