//! The §6 server: members, replies, relays and timeouts for one UDP socket.
//!
//! Driving it (the frontend's loop):
//!
//! 1. drain [`poll_transmit`](ChatServer::poll_transmit) into the socket, one datagram per
//!    call, until it returns `None` (a full socket: keep the datagram, wait for writable);
//! 2. drain [`poll_event`](ChatServer::poll_event) into the log;
//! 3. only then read the next datagram and give it to
//!    [`handle_datagram`](ChatServer::handle_datagram), or call
//!    [`handle_timeout`](ChatServer::handle_timeout) once
//!    [`poll_timeout`](ChatServer::poll_timeout) has passed.
//!
//! Every input produces at most one reply and one relay, and a relay is not a queue of
//! copies: it is one message and a cursor into the members table, turned into one
//! datagram per `poll_transmit` call. So the memory used is fixed whatever the number of
//! members, and a relay to a thousand members costs the frontend a thousand sends, no
//! allocation. Input that arrives while output is owed waits in the socket's receive
//! buffer (the kernel drops what does not fit, which is UDP's contract anyway).
//!
//! Lookups are linear scans of the table: with the PC's 1000 members that is a few
//! microseconds per datagram, and it keeps the table a plain fixed array that a board
//! with 8 members can hold too.

use core::fmt::Write as _;

use heapless::{Deque, String, Vec};

use super::message::{Command, MAX_DATAGRAM, MAX_NICK, MAX_RELAY, ParseError, parse, valid_nick};
use super::reply::Reply;
use crate::text::is_unsafe;
use crate::time::{Duration, Instant};

/// A nick as stored.
pub type Nick = String<MAX_NICK>;

/// Where the datagram [`poll_transmit`](ChatServer::poll_transmit) wrote goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit<A> {
    /// Destination.
    pub to: A,
    /// Bytes written at the start of the caller's buffer.
    pub len: usize,
}

/// Membership changes, for the server's event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatEvent<A> {
    /// `JOIN` accepted.
    Joined(A, Nick),
    /// `LEAVE`.
    Left(A, Nick),
    /// Silent for longer than the member timeout.
    TimedOut(A, Nick),
}

#[derive(Debug)]
struct Member<A> {
    addr: A,
    nick: Nick,
    last_heard: Instant,
}

/// A relay in progress: one message, sent to every member but `except`, from index
/// `next` of the table on.
#[derive(Debug)]
struct Relay<A> {
    msg: Vec<u8, MAX_RELAY>,
    except: Option<A>,
    next: usize,
}

/// The longest direct reply: `WELCOME <16-byte nick> <count>`.
const DIRECT: usize = 48;

/// Default `--max-members-per-ip` (§6): a lab behind one NAT address still fits, one
/// peer cannot take a 1000-member room alone.
pub const DEFAULT_MAX_MEMBERS_PER_HOST: usize = 64;

/// Whether two member addresses are the same host, for the per-host limit.
pub type SameHost<A> = fn(&A, &A) -> bool;

/// The chat server for one socket: at most `N` members (and at most the `limit` given
/// to [`new`](Self::new)), addresses of type `A` (`SocketAddr` on the PC, a small
/// endpoint type on a board).
#[derive(Debug)]
pub struct ChatServer<A, const N: usize> {
    members: Vec<Member<A>, N>,
    limit: usize,
    /// At most this many members from one host, as `same_host` tells hosts apart.
    per_host: Option<(usize, SameHost<A>)>,
    timeout: Duration,
    direct: Option<(A, Vec<u8, DIRECT>)>,
    /// A `WHO` answer in progress: destination and the next member to list.
    who: Option<(A, usize)>,
    relay: Option<Relay<A>>,
    events: Deque<ChatEvent<A>, 4>,
}

impl<A: Copy + Eq, const N: usize> ChatServer<A, N> {
    /// An empty room. Members silent for `timeout` are dropped; at most
    /// `min(limit, N)` members at once (a `JOIN` over that gets `ERR busy`). No limit
    /// per host until [`set_host_limit`](Self::set_host_limit).
    pub fn new(timeout: Duration, limit: usize) -> Self {
        ChatServer {
            members: Vec::new(),
            limit: limit.min(N),
            per_host: None,
            timeout,
            direct: None,
            who: None,
            relay: None,
            events: Deque::new(),
        }
    }

    /// At most `max` members whose addresses `same_host` says are one host (§6
    /// `--max-members-per-ip`); a `JOIN` over it gets `ERR busy`. The frontend says what
    /// a host is because only it knows its address type (an IP and a port on the PC, a
    /// smoltcp endpoint on a board) and whether, say, an IPv6 /64 is one host.
    pub fn set_host_limit(&mut self, max: usize, same_host: SameHost<A>) {
        self.per_host = Some((max, same_host));
    }

    /// Members online.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// True when nobody is online.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The nick of the member at `addr`, if it is one.
    pub fn nick_of(&self, addr: &A) -> Option<&str> {
        self.find(addr).map(|i| self.members[i].nick.as_str())
    }

    /// True while datagrams are owed; no input is taken meanwhile.
    pub fn wants_output(&self) -> bool {
        self.direct.is_some() || self.who.is_some() || self.relay.is_some()
    }

    fn find(&self, addr: &A) -> Option<usize> {
        self.members.iter().position(|m| m.addr == *addr)
    }

    /// A datagram from `from` at `now`. Call only when [`wants_output`](Self::wants_output)
    /// is false; a datagram given earlier is dropped (as a full socket would drop it).
    pub fn handle_datagram(&mut self, now: Instant, from: A, datagram: &[u8]) {
        if self.wants_output() {
            return;
        }
        let member = self.find(&from);
        if let Some(i) = member {
            // Anything at all from a member proves it is still there.
            self.members[i].last_heard = now;
        }
        let cmd = match (parse(datagram), member) {
            (Ok(cmd), _) => cmd,
            (Err(ParseError::BadMessage), Some(_)) => {
                return self.reply(from, Reply::Error("bad-message"));
            }
            (Err(ParseError::BadCommand), Some(_)) => {
                return self.reply(from, Reply::Error("bad-command"));
            }
            // §6: a non-member's bad datagram gets nothing.
            (Err(_), None) => return,
        };
        match (cmd, member) {
            // §6: a member's second JOIN, whatever its nick. A client whose WELCOME was
            // lost and that asked again learns from this that it is in.
            (Command::Join(_), Some(_)) => self.reply(from, Reply::Error("already-joined")),
            (Command::Join(nick), None) if !valid_nick(nick) => {
                self.reply_bounded(from, Reply::Error("bad-nick"), datagram.len())
            }
            (Command::Join(nick), None) => self.join(now, from, nick, datagram.len()),
            // §6: no member's terminal may be driven by another's bytes (ESC, CR, BEL...)
            // nor a line be hidden or reordered (zero-width, bidi overrides).
            (Command::Msg(text), Some(_)) if text.chars().any(|c| c != '\t' && is_unsafe(c)) => {
                self.reply(from, Reply::Error("bad-message"))
            }
            (Command::Msg(text), Some(i)) => {
                let mut msg = Vec::new();
                let nick = self.members[i].nick.as_str();
                // Cannot overflow: nick + ": " + at most 508 bytes of text.
                let _ = write!(VecWriter(&mut msg), "{}", Reply::Message { nick, text });
                self.relay = Some(Relay {
                    msg,
                    except: Some(from),
                    next: 0,
                });
            }
            (Command::Who, Some(_)) => self.who = Some((from, 0)),
            (Command::Ping, Some(_)) => self.reply(from, Reply::Pong),
            (Command::Leave, Some(i)) => {
                let m = self.members.swap_remove(i);
                self.announce(Reply::Left(&m.nick), None);
                self.event(ChatEvent::Left(from, m.nick));
            }
            (Command::Msg(_) | Command::Who, None) => {
                self.reply_bounded(from, Reply::Error("join-first"), datagram.len())
            }
            // A PING from a stranger gets nothing (§6); leaving without having joined
            // is already done.
            (Command::Ping | Command::Leave, None) => {}
        }
    }

    fn join(&mut self, now: Instant, from: A, nick: &str, asked: usize) {
        if self.members.iter().any(|m| m.nick == nick) {
            return self.reply_bounded(from, Reply::Error("nick-taken"), asked);
        }
        if self.members.len() >= self.limit || self.host_is_full(&from) {
            return self.reply_bounded(from, Reply::Error("busy"), asked);
        }
        let mut stored = Nick::new();
        let _ = stored.push_str(nick); // valid_nick: at most MAX_NICK bytes
        let member = Member {
            addr: from,
            nick: stored.clone(),
            last_heard: now,
        };
        if self.members.push(member).is_err() {
            return; // unreachable: limit <= N
        }
        let count = self.members.len();
        self.reply_bounded(from, Reply::Welcome { nick, count }, asked);
        self.announce(Reply::Joined(nick), Some(from));
        self.event(ChatEvent::Joined(from, stored));
    }

    fn host_is_full(&self, from: &A) -> bool {
        self.per_host.is_some_and(|(max, same_host)| {
            self.members
                .iter()
                .filter(|m| same_host(&m.addr, from))
                .count()
                >= max
        })
    }

    /// `* <nick> joined|left|timed out` to every member but `except`.
    fn announce(&mut self, news: Reply<'_>, except: Option<A>) {
        let mut msg = Vec::new();
        let _ = write!(VecWriter(&mut msg), "{news}"); // at most 29 bytes
        self.relay = Some(Relay {
            msg,
            except,
            next: 0,
        });
    }

    /// A reply to a member: no bound.
    fn reply(&mut self, to: A, reply: Reply<'_>) {
        let mut v = Vec::new();
        if write!(VecWriter(&mut v), "{reply}").is_ok() {
            self.direct = Some((to, v));
        }
    }

    /// A reply to an address that was not a member when its datagram arrived: never
    /// more than three times the `asked` bytes it answers (§6 anti-amplification), else
    /// nothing is sent.
    fn reply_bounded(&mut self, to: A, reply: Reply<'_>, asked: usize) {
        let mut v: Vec<u8, DIRECT> = Vec::new();
        if write!(VecWriter(&mut v), "{reply}").is_err() || v.len() > asked.saturating_mul(3) {
            return;
        }
        self.direct = Some((to, v));
    }

    fn event(&mut self, e: ChatEvent<A>) {
        if self.events.is_full() {
            self.events.pop_front();
        }
        let _ = self.events.push_back(e);
    }

    /// The next datagram to send, written to `buf`. One datagram per call; a relay to
    /// many members takes as many calls.
    pub fn poll_transmit(&mut self, buf: &mut [u8; MAX_RELAY]) -> Option<Transmit<A>> {
        if let Some((to, bytes)) = self.direct.take() {
            buf[..bytes.len()].copy_from_slice(&bytes);
            return Some(Transmit {
                to,
                len: bytes.len(),
            });
        }
        if let Some((to, next)) = self.who.take() {
            return Some(self.who_chunk(to, next, buf));
        }
        let relay = self.relay.as_mut()?;
        while let Some(m) = self.members.get(relay.next) {
            relay.next += 1;
            if Some(m.addr) != relay.except {
                let len = relay.msg.len();
                buf[..len].copy_from_slice(&relay.msg);
                return Some(Transmit { to: m.addr, len });
            }
        }
        self.relay = None;
        None
    }

    /// `WHO <nick> ...` listing members from `next` on, at most [`MAX_DATAGRAM`] bytes;
    /// a long list takes several datagrams, each starting with `WHO`, so every one fits
    /// what clients accept.
    fn who_chunk(&mut self, to: A, mut next: usize, buf: &mut [u8; MAX_RELAY]) -> Transmit<A> {
        buf[..3].copy_from_slice(b"WHO");
        let mut len = 3;
        while let Some(m) = self.members.get(next) {
            let n = m.nick.len();
            if len + 1 + n > MAX_DATAGRAM {
                self.who = Some((to, next));
                break;
            }
            buf[len] = b' ';
            buf[len + 1..len + 1 + n].copy_from_slice(m.nick.as_bytes());
            len += 1 + n;
            next += 1;
        }
        Transmit { to, len }
    }

    /// Membership changes since the last call, oldest first.
    pub fn poll_event(&mut self) -> Option<ChatEvent<A>> {
        self.events.pop_front()
    }

    /// When the next member times out.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.members
            .iter()
            .map(|m| m.last_heard + self.timeout)
            .min()
    }

    /// Drop one member silent since `now - timeout`, telling the others. One per call,
    /// so the relay stays one message; call again (after draining) while
    /// [`poll_timeout`](Self::poll_timeout) is not after `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.wants_output() {
            return;
        }
        let Some(i) = self
            .members
            .iter()
            .position(|m| now >= m.last_heard + self.timeout)
        else {
            return;
        };
        let m = self.members.swap_remove(i);
        self.announce(Reply::TimedOut(&m.nick), None);
        self.event(ChatEvent::TimedOut(m.addr, m.nick));
    }
}

struct VecWriter<'a, const N: usize>(&'a mut Vec<u8, N>);

impl<const N: usize> core::fmt::Write for VecWriter<'_, N> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0
            .extend_from_slice(s.as_bytes())
            .map_err(|_| core::fmt::Error)
    }
}
