//! §6 chat over UDP: one server state machine for all members, datagrams in and out.
//!
//! * [`message`] — the client datagram parser and the nick rule;
//! * [`reply`] — the server's datagrams ([`Reply`]): rendered by the server, parsed by
//!   clients;
//! * [`server`] — [`ChatServer`]: the members table (fixed capacity, generic over the
//!   address type so the core needs neither std nor a socket type), timeouts, replies
//!   and relay fan-out handed out one datagram at a time.
//!
//! UDP has no connection, so this is not a [`Session`](crate::Session): the server is
//! one value per socket, fed `(from, datagram)` and drained as `(to, datagram)`.

pub mod message;
pub mod reply;
pub mod server;

pub use message::{Command, MAX_DATAGRAM, MAX_NICK, MAX_RELAY, ParseError, parse, valid_nick};
pub use reply::{Nicks, Reply, ReplyError, parse_reply};
pub use server::{ChatEvent, ChatServer, DEFAULT_MAX_MEMBERS_PER_HOST, SameHost, Transmit};
