//! Server datagrams (§6): what the server renders and what a client parses back.
//!
//! One type for both directions, so the server's bytes and the client's reading of them
//! cannot drift apart; the property tests and the `chat_datagram` fuzz target check that
//! every [`Reply`] renders to bytes [`parse_reply`] turns back into the same value.

use core::fmt;

use super::message::valid_nick;

/// A datagram from the server, borrowing from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply<'a> {
    /// `WELCOME <nick> <count>`: joined; `count` members online, this one included (so
    /// at least 1: `WELCOME ann 0` is not a §6 datagram).
    Welcome {
        /// The nick the server accepted.
        nick: &'a str,
        /// Members online after the join.
        count: usize,
    },
    /// `ERR <code>`: §6 codes carry no text (`bad-nick`, `nick-taken`, `busy`,
    /// `join-first`, `already-joined`, `bad-message`, `bad-command`); any other single
    /// word is kept, so a client can show a code a newer server sends.
    Error(&'a str),
    /// `PONG`.
    Pong,
    /// `WHO <nick> <nick> ...`: one datagram of a listing (a long one takes several).
    Who(Nicks<'a>),
    /// `<nick>: <text>`: a member's message, relayed.
    Message {
        /// Who sent it.
        nick: &'a str,
        /// What they said (may be empty only if the server relays an empty text, which
        /// §6 never does).
        text: &'a str,
    },
    /// `* <nick> joined`.
    Joined(&'a str),
    /// `* <nick> left`.
    Left(&'a str),
    /// `* <nick> timed out`.
    TimedOut(&'a str),
}

/// The nicks of a `WHO` datagram: valid nicks separated by single spaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Nicks<'a>(&'a str);

impl<'a> Nicks<'a> {
    /// The list as it appears after `WHO ` (empty for a bare `WHO`). `None` unless it
    /// is valid nicks separated by single spaces.
    pub fn new(list: &'a str) -> Option<Self> {
        if list.is_empty() || list.split(' ').all(valid_nick) {
            Some(Nicks(list))
        } else {
            None
        }
    }

    /// The list as sent.
    pub fn as_str(&self) -> &'a str {
        self.0
    }

    /// Each nick in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        self.0.split(' ').filter(|n| !n.is_empty())
    }
}

/// Why a datagram is not a §6 server datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ReplyError {
    /// Not UTF-8.
    NotUtf8,
    /// Not one of the shapes of §6.
    Unknown,
}

/// Parse one server datagram.
///
/// A relay is recognised first: `<nick>: ` can only start with a valid nick followed by
/// a colon, which none of the reply words has, so a member called `WHO` or `PONG` is
/// still read as a member (`WHO: hi`), never as a reply.
pub fn parse_reply(datagram: &[u8]) -> Result<Reply<'_>, ReplyError> {
    let text = core::str::from_utf8(datagram).map_err(|_| ReplyError::NotUtf8)?;
    // (No let chains: the core builds with Rust 1.85.)
    if let Some((nick, said)) = text.split_once(": ") {
        if valid_nick(nick) {
            return Ok(Reply::Message { nick, text: said });
        }
    }
    if let Some(rest) = text.strip_prefix("* ") {
        let (nick, what) = rest.split_once(' ').ok_or(ReplyError::Unknown)?;
        if !valid_nick(nick) {
            return Err(ReplyError::Unknown);
        }
        return match what {
            "joined" => Ok(Reply::Joined(nick)),
            "left" => Ok(Reply::Left(nick)),
            "timed out" => Ok(Reply::TimedOut(nick)),
            _ => Err(ReplyError::Unknown),
        };
    }
    if text == "PONG" {
        return Ok(Reply::Pong);
    }
    if text == "WHO" {
        return Ok(Reply::Who(Nicks::default()));
    }
    if let Some(list) = text.strip_prefix("WHO ") {
        return Nicks::new(list)
            .filter(|n| !n.as_str().is_empty())
            .map(Reply::Who)
            .ok_or(ReplyError::Unknown);
    }
    if let Some(code) = text.strip_prefix("ERR ") {
        return if !code.is_empty() && !code.contains([' ', '\n', '\r']) {
            Ok(Reply::Error(code))
        } else {
            Err(ReplyError::Unknown)
        };
    }
    if let Some(rest) = text.strip_prefix("WELCOME ") {
        let (nick, count) = rest.split_once(' ').ok_or(ReplyError::Unknown)?;
        // Digits only, no leading zero: `usize::from_str` would also take `+7` or `07`,
        // which no server sends and which would not render back the same.
        let canonical = count.bytes().all(|b| b.is_ascii_digit()) && !count.starts_with('0');
        return match count.parse() {
            Ok(count) if canonical && valid_nick(nick) => Ok(Reply::Welcome { nick, count }),
            _ => Err(ReplyError::Unknown),
        };
    }
    Err(ReplyError::Unknown)
}

impl fmt::Display for Reply<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Welcome { nick, count } => write!(f, "WELCOME {nick} {count}"),
            Reply::Error(code) => write!(f, "ERR {code}"),
            Reply::Pong => f.write_str("PONG"),
            Reply::Who(nicks) if nicks.as_str().is_empty() => f.write_str("WHO"),
            Reply::Who(nicks) => write!(f, "WHO {}", nicks.as_str()),
            Reply::Message { nick, text } => write!(f, "{nick}: {text}"),
            Reply::Joined(nick) => write!(f, "* {nick} joined"),
            Reply::Left(nick) => write!(f, "* {nick} left"),
            Reply::TimedOut(nick) => write!(f, "* {nick} timed out"),
        }
    }
}
