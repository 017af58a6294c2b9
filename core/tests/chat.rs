//! The §6 chat server in memory: addresses are small integers, time is stepped.

use socklab_core::chat::{ChatEvent, ChatServer, MAX_RELAY, Transmit};
use socklab_core::{Duration, Instant};

type Server = ChatServer<u32, 8>;

fn server() -> Server {
    ChatServer::new(Duration::from_secs(60), 8)
}

fn at(s: u64) -> Instant {
    Instant::from_millis(s * 1000)
}

/// Everything owed, as (to, text) pairs, checking the §6 amplification bound for
/// replies to addresses that are not members.
fn drain(s: &mut Server) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let mut buf = [0u8; MAX_RELAY];
    while let Some(Transmit { to, len }) = s.poll_transmit(&mut buf) {
        out.push((to, String::from_utf8(buf[..len].to_vec()).unwrap()));
    }
    out
}

fn send(s: &mut Server, now: Instant, from: u32, d: &[u8]) -> Vec<(u32, String)> {
    let was_member = s.nick_of(&from).is_some();
    s.handle_datagram(now, from, d);
    let out = drain(s);
    if !was_member {
        for (to, text) in &out {
            if *to == from {
                assert!(
                    text.len() <= 3 * d.len(),
                    "amplification: {text:?} for {d:?}"
                );
            }
        }
    }
    out
}

fn o(v: &[(u32, &str)]) -> Vec<(u32, String)> {
    v.iter().map(|(a, t)| (*a, t.to_string())).collect()
}

#[test]
fn join_relay_who_leave() {
    let mut s = server();
    assert_eq!(
        send(&mut s, at(0), 1, b"JOIN ann"),
        o(&[(1, "WELCOME ann 1")])
    );
    assert_eq!(
        s.poll_event(),
        Some(ChatEvent::Joined(1, "ann".try_into().unwrap()))
    );
    assert_eq!(
        send(&mut s, at(0), 2, b"JOIN bob"),
        o(&[(2, "WELCOME bob 2"), (1, "* bob joined")])
    );
    assert_eq!(
        send(&mut s, at(0), 3, b"JOIN cy"),
        o(&[(3, "WELCOME cy 3"), (1, "* cy joined"), (2, "* cy joined")])
    );
    assert_eq!(
        send(&mut s, at(1), 2, b"MSG hello all"),
        o(&[(1, "bob: hello all"), (3, "bob: hello all")])
    );
    assert_eq!(send(&mut s, at(1), 1, b"WHO"), o(&[(1, "WHO ann bob cy")]));
    assert_eq!(send(&mut s, at(1), 1, b"PING"), o(&[(1, "PONG")]));
    assert_eq!(
        send(&mut s, at(2), 1, b"LEAVE"),
        o(&[(3, "* ann left"), (2, "* ann left")])
    );
    while s.poll_event().is_some() {}
    assert_eq!(
        send(&mut s, at(2), 1, b"MSG back?"),
        o(&[(1, "ERR join-first")])
    );
    assert_eq!(s.len(), 2);
}

#[test]
fn errors() {
    let mut s = server();
    send(&mut s, at(0), 1, b"JOIN ann");
    assert_eq!(
        send(&mut s, at(0), 2, b"JOIN ann"),
        o(&[(2, "ERR nick-taken")])
    );
    assert_eq!(
        send(&mut s, at(0), 2, b"JOIN a b"),
        o(&[(2, "ERR bad-nick")])
    );
    assert_eq!(
        send(&mut s, at(0), 2, b"JOIN toolongnick_12345"),
        o(&[(2, "ERR bad-nick")])
    );
    // §6: a member's second JOIN, with its own nick or another, valid or not.
    for again in [&b"JOIN ann"[..], b"JOIN other", b"JOIN a b"] {
        assert_eq!(
            send(&mut s, at(0), 1, again),
            o(&[(1, "ERR already-joined")]),
            "{again:?}"
        );
    }
    assert_eq!(s.nick_of(&1), Some("ann"));
    assert_eq!(s.len(), 1);
    assert_eq!(
        send(&mut s, at(0), 1, b"DANCE"),
        o(&[(1, "ERR bad-command")])
    );
    assert_eq!(
        send(&mut s, at(0), 1, b"MSG \xff"),
        o(&[(1, "ERR bad-message")])
    );
    let mut long = vec![b'x'; 513];
    long[..4].copy_from_slice(b"MSG ");
    assert_eq!(send(&mut s, at(0), 1, &long), o(&[(1, "ERR bad-message")]));
    // Strangers: bad datagrams, PING, LEAVE get nothing; short ones get nothing either.
    assert_eq!(send(&mut s, at(0), 9, &long), o(&[]));
    assert_eq!(send(&mut s, at(0), 9, b"\xff\xfe"), o(&[]));
    assert_eq!(send(&mut s, at(0), 9, b"PING"), o(&[]));
    assert_eq!(send(&mut s, at(0), 9, b"LEAVE"), o(&[]));
    assert_eq!(send(&mut s, at(0), 9, b"DANCE"), o(&[]));
    assert_eq!(send(&mut s, at(0), 9, b"WHO"), o(&[]), "14 > 3 * 3");
    assert_eq!(
        send(&mut s, at(0), 9, b"MSG hi"),
        o(&[(9, "ERR join-first")])
    );
    assert_eq!(
        send(&mut s, at(0), 9, b"JOIN"),
        o(&[]),
        "bad-command to a stranger"
    );
}

#[test]
fn full_room_is_busy() {
    let mut s: ChatServer<u32, 8> = ChatServer::new(Duration::from_secs(60), 2);
    send(&mut s, at(0), 1, b"JOIN a");
    send(&mut s, at(0), 2, b"JOIN b");
    assert_eq!(send(&mut s, at(0), 3, b"JOIN c"), o(&[(3, "ERR busy")]));
}

/// Addresses 100..=199 are one host, 200..=299 another (a host is `addr / 100`).
fn same_host(a: &u32, b: &u32) -> bool {
    a / 100 == b / 100
}

#[test]
fn one_host_has_at_most_its_share_of_the_room() {
    let mut s = server();
    s.set_host_limit(2, same_host);
    assert_eq!(
        send(&mut s, at(0), 100, b"JOIN a"),
        o(&[(100, "WELCOME a 1")])
    );
    assert_eq!(
        send(&mut s, at(0), 101, b"JOIN b"),
        o(&[(101, "WELCOME b 2"), (100, "* b joined")])
    );
    assert_eq!(send(&mut s, at(0), 102, b"JOIN c"), o(&[(102, "ERR busy")]));
    assert_eq!(s.len(), 2);
    // Another host still gets in.
    assert_eq!(
        send(&mut s, at(0), 200, b"JOIN d"),
        o(&[
            (200, "WELCOME d 3"),
            (100, "* d joined"),
            (101, "* d joined")
        ])
    );
    // A member of the full host leaving frees its place.
    send(&mut s, at(0), 101, b"LEAVE");
    assert_eq!(
        send(&mut s, at(0), 102, b"JOIN c"),
        o(&[
            (102, "WELCOME c 3"),
            (100, "* c joined"),
            (200, "* c joined")
        ])
    );
}

/// §6: a MSG holding a control character (C0 but TAB, DEL, C1) or an invisible or
/// direction-changing one is refused and relayed to nobody; TAB and ordinary Unicode
/// pass.
#[test]
fn unsafe_text_is_refused_and_not_relayed() {
    let mut s = server();
    send(&mut s, at(0), 1, b"JOIN ann");
    send(&mut s, at(0), 2, b"JOIN bob");
    for bad in [
        "MSG \x1b[2J cleared",
        "MSG ding\x07",
        "MSG a\rb",
        "MSG a\nadmin: hi",
        "MSG nul\0",
        "MSG del\x7f",
        "MSG c1\u{9b}2J",
        "MSG x\u{202e}gnp.exe",
        "MSG zero\u{200b}width",
        "MSG line\u{2028}sep",
        "MSG \u{feff}bom",
    ] {
        assert_eq!(
            send(&mut s, at(0), 1, bad.as_bytes()),
            o(&[(1, "ERR bad-message")]),
            "{bad:?}"
        );
    }
    assert_eq!(
        send(&mut s, at(0), 1, "MSG tab\there, ünïcödé 😀".as_bytes()),
        o(&[(2, "ann: tab\there, ünïcödé 😀")])
    );
    // `nc -u` ends its datagram with LF (or CR LF): that is not part of the text.
    assert_eq!(send(&mut s, at(0), 1, b"MSG hi\r\n"), o(&[(2, "ann: hi")]));
}

#[test]
fn timeouts_one_at_a_time() {
    let mut s = server();
    send(&mut s, at(0), 1, b"JOIN a");
    send(&mut s, at(0), 2, b"JOIN b");
    send(&mut s, at(10), 3, b"JOIN c");
    assert_eq!(s.poll_timeout(), Some(at(60)));
    send(&mut s, at(30), 2, b"PING");
    while s.poll_event().is_some() {}
    s.handle_timeout(at(60));
    assert_eq!(
        drain(&mut s),
        o(&[(3, "* a timed out"), (2, "* a timed out")])
    );
    assert_eq!(
        s.poll_event(),
        Some(ChatEvent::TimedOut(1, "a".try_into().unwrap()))
    );
    assert_eq!(s.poll_timeout(), Some(at(70)));
    s.handle_timeout(at(90));
    assert_eq!(drain(&mut s), o(&[(2, "* c timed out")]));
    s.handle_timeout(at(90));
    assert_eq!(drain(&mut s), o(&[]));
    s.handle_timeout(at(91));
    assert_eq!(drain(&mut s), o(&[]));
    assert!(s.is_empty());
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn who_is_split_into_datagrams_that_fit() {
    let mut s: ChatServer<u32, 100> = ChatServer::new(Duration::from_secs(60), 100);
    let mut buf = [0u8; MAX_RELAY];
    for i in 0..100u32 {
        s.handle_datagram(at(0), i, format!("JOIN nick_{i:011}").as_bytes());
        while s.poll_transmit(&mut buf).is_some() {}
    }
    s.handle_datagram(at(0), 0, b"WHO");
    let mut nicks = Vec::new();
    while let Some(t) = s.poll_transmit(&mut buf) {
        assert!(t.len <= 512);
        let text = std::str::from_utf8(&buf[..t.len]).unwrap();
        let rest = text.strip_prefix("WHO ").unwrap();
        nicks.extend(rest.split(' ').map(str::to_owned));
    }
    assert_eq!(nicks.len(), 100);
}

#[test]
fn output_owed_drops_new_input() {
    let mut s = server();
    send(&mut s, at(0), 1, b"JOIN a");
    send(&mut s, at(0), 2, b"JOIN b");
    s.handle_datagram(at(0), 1, b"MSG one");
    s.handle_datagram(at(0), 1, b"MSG two");
    assert_eq!(drain(&mut s), o(&[(2, "a: one")]));
}

#[test]
fn relay_of_the_longest_message() {
    let mut s = server();
    send(&mut s, at(0), 1, b"JOIN abcdefghijklmnop");
    send(&mut s, at(0), 2, b"JOIN b");
    let mut d = b"MSG ".to_vec();
    d.extend(std::iter::repeat_n(b'z', 508));
    let out = send(&mut s, at(0), 1, &d);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].1.len(), 526);
}

mod properties {
    use super::*;
    use proptest::prelude::*;
    use socklab_core::chat::{
        Command, MAX_DATAGRAM, Nicks, Reply, ReplyError, parse, parse_reply, valid_nick,
    };

    fn nick() -> impl Strategy<Value = String> {
        "[A-Za-z0-9_-]{1,16}"
    }

    /// Any text a member can send: arbitrary Unicode, spaces, CR and LF inside.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![".{0,40}", "[ -~\\r\\n]{0,508}", "\\PC{0,100}"]
    }

    proptest! {
        /// Client datagrams: render, parse, same command — for every command whose
        /// rendering fits a datagram and whose argument does not end in LF or CR (which
        /// the parser takes for the line end `nc -u` sends; see `parse`).
        #[test]
        fn command_render_parse_round_trip(
            which in 0..5u8, nick in ".{0,20}", text in text(), lf in any::<bool>()
        ) {
            let cmd = match which {
                0 => Command::Join(&nick),
                1 => Command::Msg(&text),
                2 => Command::Who,
                3 => Command::Ping,
                _ => Command::Leave,
            };
            let arg = match cmd { Command::Join(a) | Command::Msg(a) => a, _ => "x" };
            let mut wire = cmd.to_string();
            let fits = wire.len() <= MAX_DATAGRAM;
            if lf && fits {
                wire.push('\n'); // as nc -u sends it
            }
            let got = parse(wire.as_bytes());
            if fits && !arg.is_empty() && !arg.ends_with(['\n', '\r']) {
                prop_assert_eq!(got, Ok(cmd));
            } else if !fits {
                prop_assert!(got.is_err());
            }
        }

        /// Server datagrams: every `Reply` renders to bytes that parse to the same
        /// `Reply`, and the rendering never grows past what clients accept.
        #[test]
        fn reply_render_parse_round_trip(
            which in 0..8u8,
            n in nick(),
            who in proptest::collection::vec(nick(), 0..30),
            count in 1usize..100_000,
            code in "[a-z-]{1,12}",
            text in text(),
        ) {
            let list = who.join(" ");
            let reply = match which {
                0 => Reply::Welcome { nick: &n, count },
                1 => Reply::Error(&code),
                2 => Reply::Pong,
                3 => Reply::Who(Nicks::new(&list).unwrap()),
                4 => Reply::Message { nick: &n, text: &text },
                5 => Reply::Joined(&n),
                6 => Reply::Left(&n),
                _ => Reply::TimedOut(&n),
            };
            let wire = reply.to_string();
            prop_assert_eq!(parse_reply(wire.as_bytes()), Ok(reply), "{:?}", wire);
            if let Reply::Who(nicks) = reply {
                prop_assert_eq!(nicks.iter().collect::<Vec<_>>(), who.iter().map(String::as_str).collect::<Vec<_>>());
            }
        }

        /// Whatever the bytes, a parsed reply renders back to exactly those bytes: the
        /// reading is unambiguous (a member called WHO is still a member).
        #[test]
        fn parsed_replies_render_to_their_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(r) = parse_reply(&bytes) {
                prop_assert_eq!(r.to_string().into_bytes(), bytes);
            }
        }
    }

    #[test]
    fn replies_that_are_not_section_6() {
        for bad in [
            &b""[..],
            b"WELCOME",
            b"WELCOME ann",
            b"WELCOME ann 0",
            b"WELCOME ann 07",
            b"WELCOME ann +7",
            b"WELCOME a b 1",
            b"ERR",
            b"ERR ",
            b"ERR a b",
            b"WHO  ann",
            b"WHO ann ",
            b"WHO a:b",
            b"* ann",
            b"* ann danced",
            b"* a b joined",
            b"PONG ",
            b"hello",
            b"a b: hi",
        ] {
            assert_eq!(
                parse_reply(bad),
                Err(ReplyError::Unknown),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(parse_reply(b"ann: \xff"), Err(ReplyError::NotUtf8));
        assert_eq!(
            parse_reply(b"WHO: hi"),
            Ok(Reply::Message {
                nick: "WHO",
                text: "hi"
            })
        );
        assert_eq!(parse_reply(b"WHO"), Ok(Reply::Who(Nicks::default())));
        assert_eq!(
            parse_reply(b"ann: "),
            Ok(Reply::Message {
                nick: "ann",
                text: ""
            })
        );
        assert!(valid_nick("WHO"));
    }

    /// Datagrams that look like commands often, and garbage sometimes.
    fn datagram() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            prop::sample::select(vec![
                &b"JOIN a"[..],
                b"JOIN b",
                b"JOIN a b",
                b"MSG hi",
                b"MSG",
                b"WHO",
                b"PING",
                b"LEAVE",
                b"X",
                b"JOIN abcdefghijklmnop",
            ])
            .prop_map(|d| d.to_vec()),
            proptest::collection::vec(any::<u8>(), 0..600),
        ]
    }

    proptest! {
        /// Whatever arrives, from whoever, in any order, with time passing: no panic,
        /// every datagram out fits what clients accept, and a reply to an address that
        /// was not a member is at most 3x the datagram it answers.
        #[test]
        fn any_traffic_keeps_the_rules(
            steps in proptest::collection::vec((0u32..6, datagram(), 0u64..30_000), 1..80)
        ) {
            let mut s: ChatServer<u32, 4> = ChatServer::new(Duration::from_secs(20), 4);
            let mut now = 0;
            let mut buf = [0u8; MAX_RELAY];
            for (from, d, dt) in steps {
                now += dt;
                let t = Instant::from_millis(now);
                if s.poll_timeout().is_some_and(|x| x <= t) {
                    s.handle_timeout(t);
                    while s.poll_transmit(&mut buf).is_some() {}
                }
                let member = s.nick_of(&from).is_some();
                s.handle_datagram(t, from, &d);
                while let Some(tx) = s.poll_transmit(&mut buf) {
                    prop_assert!(tx.len <= 1024);
                    // Every datagram the server sends is one a client can read, and it
                    // renders back to itself.
                    let out = &buf[..tx.len];
                    let reply = parse_reply(out);
                    prop_assert!(reply.is_ok(), "{:?}", String::from_utf8_lossy(out));
                    prop_assert_eq!(reply.unwrap().to_string().into_bytes(), out.to_vec());
                    if tx.to == from && !member {
                        prop_assert!(tx.len <= 3 * d.len());
                    }
                }
                while s.poll_event().is_some() {}
                prop_assert!(s.len() <= 4);
            }
        }
    }
}
