//! §6 chat: the server state machine with eight peers on four hosts (peer `p` is on host
//! `p / 2`), checked for anti-amplification (a reply to an address that was not a member
//! is at most 3× its datagram), bounded datagrams, relays only to members, `WHO` listing
//! exactly the members, early timeouts changing nothing, at most the per-host limit of
//! members on one host, a member's JOIN answered `ERR already-joined` and changing
//! nothing, and no relayed text holding a control (but TAB), invisible or
//! direction-changing character: a member's MSG with one is answered `ERR bad-message`
//! and nothing else is sent.

use arbitrary::Arbitrary;
use socklab_core::chat::{
    ChatEvent, ChatServer, Command, MAX_DATAGRAM, MAX_RELAY, Reply, parse, valid_nick,
};
use socklab_core::text::is_unsafe;
use socklab_core::{Duration, Instant};
use std::collections::BTreeSet;

const NICKS: [&str; 5] = ["ann", "bob", "ann", "x-y_Z", "bad nick"];

/// What a peer sends.
#[derive(Arbitrary, Debug)]
pub enum Datagram {
    /// `JOIN <nick>`
    Join(u8),
    /// `MSG <text>`
    Msg(String),
    /// `WHO`
    Who,
    /// `PING`
    Ping,
    /// `LEAVE`
    Leave,
    /// Any bytes.
    Raw(Vec<u8>),
    /// `MSG <text>` with a character of [`SPICE`] (mostly ones §6 refuses) inserted.
    MsgSpiced(String, u8, u8),
}

/// One step.
#[derive(Arbitrary, Debug)]
pub enum Op {
    /// Peer `from % 8` sends.
    Send(u8, Datagram),
    /// The frontend sends up to this many datagrams.
    Transmit(u8),
    /// Time passes.
    Advance(u16),
    /// The timer fires now.
    Timeout,
}

/// Settings and steps.
#[derive(Arbitrary, Debug)]
pub struct Input {
    limit: u8,
    host_limit: u8,
    timeout_ms: u16,
    ops: Vec<Op>,
}

type Server = ChatServer<u8, 4>;

fn members(s: &Server) -> BTreeSet<(u8, String)> {
    (0..8u8)
        .filter_map(|a| s.nick_of(&a).map(|n| (a, n.to_string())))
        .collect()
}

/// The datagrams owed since the last input, and what they must respect.
struct Round {
    /// The sender and its datagram's size, if it was not a member.
    stranger: Option<(u8, usize)>,
    who: Vec<String>,
    /// The one datagram this round may send, and where (a member's second JOIN, a
    /// member's MSG with a refused character).
    only: Option<(u8, &'static str)>,
    sent: usize,
}

/// Characters §6 refuses in a MSG, and some it keeps.
const SPICE: [char; 12] = [
    '\x1b', '\x07', '\r', '\n', '\0', '\x7f', '\u{9b}', '\u{202e}', '\u{200b}', '\u{2028}', '\t',
    'ё',
];

fn host(peer: u8) -> u8 {
    peer / 2
}

/// Run the steps and check every datagram sent.
pub fn server(input: Input) {
    let timeout = Duration::from_millis(u64::from(input.timeout_ms) + 1);
    let mut s = Server::new(timeout, input.limit as usize % 6);
    let host_limit = input.host_limit as usize % 4;
    s.set_host_limit(host_limit, |a, b| host(*a) == host(*b));
    let mut now = 0u64;
    let mut round = Round {
        stranger: None,
        who: Vec::new(),
        only: None,
        sent: 0,
    };
    let mut buf = [0u8; MAX_RELAY];
    for op in input.ops {
        match op {
            Op::Send(from, dg) => {
                let from = from % 8;
                let bytes = match dg {
                    Datagram::Join(i) => {
                        format!("JOIN {}", NICKS[i as usize % NICKS.len()]).into_bytes()
                    }
                    Datagram::Msg(t) => format!("MSG {t}").into_bytes(),
                    Datagram::MsgSpiced(t, at, which) => {
                        let mut t: Vec<char> = t.chars().collect();
                        let at = at as usize % (t.len() + 1);
                        t.insert(at, SPICE[which as usize % SPICE.len()]);
                        format!("MSG {}", t.into_iter().collect::<String>()).into_bytes()
                    }
                    Datagram::Who => b"WHO".to_vec(),
                    Datagram::Ping => b"PING\n".to_vec(),
                    Datagram::Leave => b"LEAVE".to_vec(),
                    Datagram::Raw(b) => b,
                };
                let before = members(&s);
                let busy = s.wants_output();
                s.handle_datagram(Instant::from_millis(now), from, &bytes);
                if busy {
                    assert_eq!(
                        members(&s),
                        before,
                        "a datagram taken while output was owed"
                    );
                    continue;
                }
                let was_member = before.iter().any(|(a, _)| *a == from);
                let only = match parse(&bytes) {
                    Ok(Command::Join(_)) if was_member => Some((from, "ERR already-joined")),
                    Ok(Command::Msg(t))
                        if was_member && t.chars().any(|c| c != '\t' && is_unsafe(c)) =>
                    {
                        Some((from, "ERR bad-message"))
                    }
                    _ => None,
                };
                if only.is_some() {
                    assert_eq!(members(&s), before, "a refused datagram changed the room");
                }
                round = Round {
                    stranger: (!was_member).then_some((from, bytes.len())),
                    who: Vec::new(),
                    only,
                    sent: 0,
                };
            }
            Op::Transmit(n) => {
                for _ in 0..n {
                    let Some(t) = s.poll_transmit(&mut buf) else {
                        break;
                    };
                    let dg = &buf[..t.len];
                    assert!(t.len <= MAX_RELAY && std::str::from_utf8(dg).is_ok());
                    // Every datagram is a §6 reply a client can read, rendered exactly.
                    let reply = socklab_core::chat::parse_reply(dg)
                        .unwrap_or_else(|e| panic!("{e:?}: {:?}", String::from_utf8_lossy(dg)));
                    assert_eq!(reply.to_string().as_bytes(), dg);
                    if let Reply::Message { text, .. } = reply {
                        assert!(
                            !text.chars().any(|c| c != '\t' && is_unsafe(c)),
                            "relayed unsafe text {text:?}"
                        );
                    }
                    round.sent += 1;
                    if let Some((to, text)) = round.only {
                        assert_eq!((t.to, dg, round.sent), (to, text.as_bytes(), 1));
                    }
                    let now_members = members(&s);
                    match round.stranger {
                        Some((who, asked)) if who == t.to => {
                            assert!(
                                t.len <= 3 * asked,
                                "amplification: {} bytes for {asked}",
                                t.len
                            );
                        }
                        _ => assert!(
                            now_members.iter().any(|(a, _)| *a == t.to),
                            "a datagram to a non-member"
                        ),
                    }
                    if let Some(list) = dg.strip_prefix(b"WHO") {
                        assert!(t.len <= MAX_DATAGRAM);
                        let list = std::str::from_utf8(list).unwrap();
                        round
                            .who
                            .extend(list.split(' ').filter(|n| !n.is_empty()).map(String::from));
                        if !s.wants_output() || round.who.len() == now_members.len() {
                            let mut got = round.who.clone();
                            got.sort();
                            let mut want: Vec<String> =
                                now_members.iter().map(|(_, n)| n.clone()).collect();
                            want.sort();
                            assert_eq!(got, want, "WHO lists exactly the members");
                        }
                    }
                }
            }
            Op::Advance(ms) => now += u64::from(ms),
            Op::Timeout => {
                let due = s.poll_timeout();
                let before = members(&s);
                s.handle_timeout(Instant::from_millis(now));
                if due.is_none_or(|t| now < t.total_millis()) {
                    assert_eq!(members(&s), before, "an early timeout dropped a member");
                }
                if members(&s) != before {
                    round = Round {
                        stranger: None,
                        who: Vec::new(),
                        only: None,
                        sent: 0,
                    };
                }
            }
        }
        let m = members(&s);
        assert!(m.len() <= (input.limit as usize % 6).min(4) && m.len() == s.len());
        let nicks: BTreeSet<&String> = m.iter().map(|(_, n)| n).collect();
        assert_eq!(nicks.len(), m.len(), "two members with one nick");
        for h in 0..4 {
            let on_host = m.iter().filter(|(a, _)| host(*a) == h).count();
            assert!(on_host <= host_limit, "{on_host} members on host {h}");
        }
        assert!(nicks.iter().all(|n| valid_nick(n)));
        while let Some(e) = s.poll_event() {
            match e {
                ChatEvent::Joined(_, n) | ChatEvent::Left(_, n) | ChatEvent::TimedOut(_, n) => {
                    assert!(valid_nick(&n))
                }
            }
        }
    }
}
