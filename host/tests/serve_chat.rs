//! `socklab serve chat` (§6) over real UDP sockets, byte for byte, and the `socklab chat`
//! client with two members.

mod client_common;
mod serve_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::Duration;

use client_common::{socklab, wait_output};
use serve_support::{Server, WAIT, exit_within_wait, serve};

fn chat_server(extra: &[&str]) -> Server {
    let mut args = vec!["chat", "--port", "0"];
    args.extend_from_slice(extra);
    serve(&args, 1)
}

/// One UDP socket talking to the server.
struct Peer {
    sock: UdpSocket,
}

impl Peer {
    fn new(server: SocketAddr) -> Peer {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.connect(server).unwrap();
        sock.set_read_timeout(Some(WAIT)).unwrap();
        Peer { sock }
    }

    fn send(&self, d: &[u8]) {
        self.sock.send(d).unwrap();
    }

    fn recv(&self) -> String {
        let mut buf = [0u8; 2048];
        let n = self.sock.recv(&mut buf).expect("a datagram within WAIT");
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    /// Send `d` and return the reply, checking the §6 bound when `stranger`.
    fn ask(&self, d: &[u8]) -> String {
        self.send(d);
        self.recv()
    }

    /// Nothing arrives for a while (used after a datagram that must get no reply; a
    /// `PING` from a member then proves the server processed what came before).
    fn nothing_before_pong(&self, member: &Peer) {
        member.send(b"PING");
        assert_eq!(member.recv(), "PONG");
        self.sock
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut buf = [0u8; 2048];
        if let Ok(n) = self.sock.recv(&mut buf) {
            panic!("unexpected {:?}", String::from_utf8_lossy(&buf[..n]));
        }
        self.sock.set_read_timeout(Some(WAIT)).unwrap();
    }

    fn addr(&self) -> SocketAddr {
        self.sock.local_addr().unwrap()
    }
}

#[test]
fn transcript_join_relay_who_ping_leave() {
    let server = chat_server(&[]);
    let (a, b, c) = (
        Peer::new(server.addr()),
        Peer::new(server.addr()),
        Peer::new(server.addr()),
    );
    assert_eq!(a.ask(b"JOIN ann"), "WELCOME ann 1");
    assert_eq!(b.ask(b"JOIN bob"), "WELCOME bob 2");
    assert_eq!(a.recv(), "* bob joined");
    assert_eq!(c.ask(b"JOIN cy"), "WELCOME cy 3");
    assert_eq!(a.recv(), "* cy joined");
    assert_eq!(b.recv(), "* cy joined");
    b.send(b"MSG hello, all");
    assert_eq!(a.recv(), "bob: hello, all");
    assert_eq!(c.recv(), "bob: hello, all");
    assert_eq!(c.ask(b"WHO"), "WHO ann bob cy");
    assert_eq!(c.ask(b"PING"), "PONG");
    a.send(b"LEAVE");
    assert_eq!(b.recv(), "* ann left");
    assert_eq!(c.recv(), "* ann left");
    assert_eq!(a.ask(b"MSG still here?"), "ERR join-first");
    assert_eq!(b.ask(b"WHO"), "WHO cy bob");
    // Nobody got a copy of their own message or of a stranger's.
    a.nothing_before_pong(&b);
    let log = server.wait_log("member left (ann, 2 online)");
    assert!(
        log.contains(&format!("chat {} member joined (ann, 1 online)", a.addr())),
        "{log}"
    );
}

#[test]
fn errors() {
    let server = chat_server(&[]);
    let (a, b) = (Peer::new(server.addr()), Peer::new(server.addr()));
    assert_eq!(a.ask(b"JOIN ann"), "WELCOME ann 1");
    assert_eq!(b.ask(b"JOIN ann"), "ERR nick-taken");
    assert_eq!(b.ask(b"JOIN ann lee"), "ERR bad-nick");
    assert_eq!(b.ask(b"JOIN abcdefghijklmnopq"), "ERR bad-nick");
    assert_eq!(b.ask(b"MSG hi"), "ERR join-first");
    // §6: a member's second JOIN, with its own nick or another.
    assert_eq!(a.ask(b"JOIN ann"), "ERR already-joined");
    assert_eq!(a.ask(b"JOIN other"), "ERR already-joined");
    assert_eq!(a.ask(b"HELLO"), "ERR bad-command");
    assert_eq!(a.ask(b"WHO is there"), "ERR bad-command");
    let mut long = b"MSG ".to_vec();
    long.resize(513, b'x');
    assert_eq!(a.ask(&long), "ERR bad-message");
    assert_eq!(a.ask(b"MSG \xff\xfe"), "ERR bad-message");
    // The same from a stranger: nothing at all.
    b.send(&long);
    b.send(b"MSG \xff\xfe");
    b.send(b"HELLO");
    b.nothing_before_pong(&a);
    // 512 bytes is still a message: the relay is `ann: ` and the 508-byte text.
    assert_eq!(b.ask(b"JOIN bob"), "WELCOME bob 2");
    assert_eq!(a.recv(), "* bob joined");
    long.truncate(512);
    a.send(&long);
    let relayed = b.recv();
    assert_eq!(relayed.len(), 5 + 508);
    assert!(relayed.starts_with("ann: xxx"));
}

#[test]
fn replies_to_strangers_are_at_most_three_times_the_request() {
    let server = chat_server(&[]);
    let member = Peer::new(server.addr());
    assert_eq!(member.ask(b"JOIN m"), "WELCOME m 1");
    let requests: [&[u8]; 12] = [
        b"MSG hi",
        b"MSG",
        b"M",
        b"WHO",
        b"PING",
        b"LEAVE",
        b"JOIN",
        b"JOIN m",
        b"JOIN a b",
        b"JOIN x",
        b"X",
        b"\xff",
    ];
    for req in requests {
        let stranger = Peer::new(server.addr());
        stranger.send(req);
        member.send(b"PING");
        // `JOIN x` really joins, and the member hears of it.
        while member.recv() != "PONG" {}
        stranger
            .sock
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut buf = [0u8; 2048];
        while let Ok(n) = stranger.sock.recv(&mut buf) {
            assert!(
                n <= 3 * req.len(),
                "{:?} answered with {:?}",
                String::from_utf8_lossy(req),
                String::from_utf8_lossy(&buf[..n])
            );
        }
        if req.starts_with(b"JOIN x") {
            stranger.send(b"LEAVE");
            assert_eq!(member.recv(), "* x left");
        }
    }
    // §6's own examples.
    let s = Peer::new(server.addr());
    assert_eq!(s.ask(b"MSG hi"), "ERR join-first");
    s.send(b"PING");
    s.nothing_before_pong(&member);
}

#[test]
fn silent_members_time_out() {
    let server = chat_server(&["--member-timeout", "1"]);
    let (a, b) = (Peer::new(server.addr()), Peer::new(server.addr()));
    assert_eq!(a.ask(b"JOIN quiet"), "WELCOME quiet 1");
    assert_eq!(b.ask(b"JOIN talker"), "WELCOME talker 2");
    assert_eq!(a.recv(), "* talker joined");
    // b keeps itself alive; a says nothing and is dropped after about a second.
    let got = thread::scope(|s| {
        let pinger = s.spawn(|| {
            for _ in 0..6 {
                b.send(b"PING");
                thread::sleep(Duration::from_millis(300));
            }
        });
        let mut seen = Vec::new();
        loop {
            let d = b.recv();
            if d != "PONG" {
                seen.push(d);
                break;
            }
        }
        pinger.join().unwrap();
        seen
    });
    assert_eq!(got, ["* quiet timed out"]);
    assert_eq!(a.ask(b"MSG hello?"), "ERR join-first");
    server.wait_log("member timed out (quiet, 1 online)");
}

#[test]
fn a_hundred_members() {
    // All from 127.0.0.1: over the default 64 per address.
    let server = chat_server(&["--max-members-per-ip", "100"]);
    let peers: Vec<Peer> = (0..100).map(|_| Peer::new(server.addr())).collect();
    for (i, p) in peers.iter().enumerate() {
        assert_eq!(
            p.ask(format!("JOIN m{i}").as_bytes()),
            format!("WELCOME m{i} {}", i + 1)
        );
    }
    // Member i saw everyone after it join.
    for (i, p) in peers.iter().enumerate() {
        for j in i + 1..100 {
            assert_eq!(p.recv(), format!("* m{j} joined"));
        }
    }
    for round in 0..3 {
        let from = round * 7;
        peers[from].send(format!("MSG round {round}").as_bytes());
        for (i, p) in peers.iter().enumerate() {
            if i != from {
                assert_eq!(p.recv(), format!("m{from}: round {round}"));
            }
        }
    }
    peers[5].send(b"WHO");
    let mut nicks = Vec::new();
    while nicks.len() < 100 {
        let d = peers[5].recv();
        assert!(d.len() <= 512);
        nicks.extend(
            d.strip_prefix("WHO ")
                .unwrap()
                .split(' ')
                .map(str::to_owned),
        );
    }
    nicks.sort();
    let mut want: Vec<String> = (0..100).map(|i| format!("m{i}")).collect();
    want.sort();
    assert_eq!(nicks, want);
}

#[test]
fn verbose_log_has_datagrams() {
    let server = chat_server(&["-v"]);
    let a = Peer::new(server.addr());
    assert_eq!(a.ask(b"JOIN ann"), "WELCOME ann 1");
    server.wait_log(&format!("chat {} data received (8 bytes)", a.addr()));
    server.wait_log(&format!("chat {} data sent (13 bytes)", a.addr()));
}

/// A `socklab chat` process with its stdin held and its stdout read line by line.
struct Client {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl Client {
    fn start(server: SocketAddr, nick: &str) -> Client {
        Self::start_with(server, nick, &[])
    }

    fn start_with(server: SocketAddr, nick: &str, extra: &[&str]) -> Client {
        let mut cmd: Command = socklab();
        cmd.args(["chat", "--nick", nick, "--port", &server.port().to_string()])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let stdin = child.stdin.take();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Client {
            child: Some(child),
            stdin,
            lines,
        }
    }

    fn expect(&self, line: &str) {
        let got = self.lines.recv_timeout(WAIT).expect("a line within WAIT");
        assert_eq!(got, line);
    }

    fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// Close stdin and wait: (exit code, stderr).
    fn finish(mut self) -> (Option<i32>, String) {
        drop(self.stdin.take());
        let mut child = self.child.take().unwrap();
        let status = exit_within_wait(&mut child, "chat client");
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        (status.code(), err)
    }
}

#[test]
fn two_chat_clients() {
    let server = chat_server(&[]);
    let mut ann = Client::start(server.addr(), "ann");
    ann.expect("joined as ann (1 online)");
    let mut bob = Client::start(server.addr(), "bob");
    bob.expect("joined as bob (2 online)");
    ann.expect("* bob joined");
    bob.type_line("hi ann");
    ann.expect("bob: hi ann");
    ann.type_line("hello bob, typing while you talk");
    bob.expect("ann: hello bob, typing while you talk");
    ann.type_line("/who");
    ann.expect("online: ann, bob");

    // A third one with a taken nick is refused with a clear message.
    let taken = Client::start(server.addr(), "bob");
    let (code, err) = taken.finish();
    assert_eq!(code, Some(1));
    assert!(err.contains("the nick bob is taken"), "{err}");

    ann.type_line("/quit");
    bob.expect("* ann left");
    let (code, err) = ann.finish();
    assert_eq!(code, Some(0), "{err}");
    let (code, err) = bob.finish(); // end of input leaves too
    assert_eq!(code, Some(0), "{err}");
    server.wait_log("member left (bob, 0 online)");
}

#[test]
fn chat_client_without_a_server() {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    drop(sock);
    let out = wait_output(
        socklab()
            .args(["chat", "--nick", "ann", "--port", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach the chat at 127.0.0.1:"));
}

#[test]
fn ctrl_c_stops_the_chat_loop_too() {
    let mut server = chat_server(&[]);
    let a = Peer::new(server.addr());
    assert_eq!(a.ask(b"JOIN ann"), "WELCOME ann 1");
    server.interrupt();
    assert!(server.wait_exit().success());
    assert!(server.log().contains("server stopped"));
}

#[test]
fn the_client_pings_to_stay_a_member() {
    let server = chat_server(&["--member-timeout", "1"]);
    let mut ann = Client::start_with(server.addr(), "ann", &["--ping-every-ms", "250"]);
    ann.expect("joined as ann (1 online)");
    // Three member timeouts later ann is still there; a silent raw socket is not.
    let quiet = Peer::new(server.addr());
    assert_eq!(quiet.ask(b"JOIN quiet"), "WELCOME quiet 2");
    ann.expect("* quiet joined");
    ann.expect("* quiet timed out");
    thread::sleep(Duration::from_millis(2000));
    let probe = Peer::new(server.addr());
    assert_eq!(probe.ask(b"JOIN probe"), "WELCOME probe 2");
    assert_eq!(probe.ask(b"WHO"), "WHO ann probe");
    ann.expect("* probe joined");
    ann.type_line("/quit");
    assert_eq!(probe.recv(), "* ann left");
    let (code, err) = ann.finish();
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn ipv6_members() {
    if UdpSocket::bind("[::1]:0").is_err() {
        return; // no IPv6 loopback on this machine
    }
    let server = chat_server(&["--host", "::1"]);
    assert!(server.addr().is_ipv6());
    let peer = |nick: &str| {
        let sock = UdpSocket::bind("[::1]:0").unwrap();
        sock.connect(server.addr()).unwrap();
        sock.set_read_timeout(Some(WAIT)).unwrap();
        sock.send(format!("JOIN {nick}").as_bytes()).unwrap();
        Peer { sock }
    };
    let a = peer("six");
    assert_eq!(a.recv(), "WELCOME six 1");
    let b = peer("seven");
    assert_eq!(b.recv(), "WELCOME seven 2");
    assert_eq!(a.recv(), "* seven joined");
    b.send(b"MSG over v6");
    assert_eq!(a.recv(), "seven: over v6");
    server.wait_log(&format!("chat {} member joined (six, 1 online)", a.addr()));
}

/// §6: a MSG holding a control character (but TAB) or an invisible or direction-changing
/// one is answered `ERR bad-message` and relayed to nobody: ESC, BEL, CR, NUL and U+202E
/// each; a TAB passes.
#[test]
fn unsafe_messages_are_refused_and_not_relayed() {
    let server = chat_server(&[]);
    let (ann, eve) = (Peer::new(server.addr()), Peer::new(server.addr()));
    assert_eq!(ann.ask(b"JOIN ann"), "WELCOME ann 1");
    assert_eq!(eve.ask(b"JOIN eve"), "WELCOME eve 2");
    assert_eq!(ann.recv(), "* eve joined");
    let refused: [&[u8]; 6] = [
        b"MSG \x1b[2J\x1b[Hscreen cleared",
        b"MSG ding\x07",
        b"MSG hi\radmin: send me your password",
        b"MSG nul\0byte",
        "MSG x\u{202e}gnp.exe".as_bytes(),
        b"MSG \x1b]0;owned\x07",
    ];
    for msg in refused {
        assert_eq!(
            eve.ask(msg),
            "ERR bad-message",
            "{:?}",
            String::from_utf8_lossy(msg)
        );
    }
    eve.send(b"MSG tab\tseparated");
    // The first thing ann hears is the message with the TAB: nothing before it.
    assert_eq!(ann.recv(), "eve: tab\tseparated");
    ann.nothing_before_pong(&eve);
}

/// At most `--max-members-per-ip` members from one address; over it JOIN gets `ERR
/// busy`, other addresses still get in, and a member leaving frees a place.
#[test]
fn members_per_ip_are_limited() {
    let server = chat_server(&["--max-members-per-ip", "2"]);
    let peers: Vec<Peer> = (0..3).map(|_| Peer::new(server.addr())).collect();
    assert_eq!(peers[0].ask(b"JOIN a"), "WELCOME a 1");
    assert_eq!(peers[1].ask(b"JOIN b"), "WELCOME b 2");
    assert_eq!(peers[2].ask(b"JOIN c"), "ERR busy");
    // 127.0.0.2 is another address (all of 127/8 is loopback on Linux).
    if let Ok(sock) = UdpSocket::bind("127.0.0.2:0") {
        sock.connect(server.addr()).unwrap();
        sock.set_read_timeout(Some(WAIT)).unwrap();
        let other = Peer { sock };
        assert_eq!(other.ask(b"JOIN d"), "WELCOME d 3");
    }
    peers[1].send(b"LEAVE");
    assert!(peers[2].ask(b"JOIN c").starts_with("WELCOME c "));
}

/// Without the flag, 64 members share one address and the 65th is refused.
#[test]
fn members_per_ip_default_is_64() {
    let server = chat_server(&[]);
    let peers: Vec<Peer> = (0..65).map(|_| Peer::new(server.addr())).collect();
    for (i, p) in peers.iter().enumerate().take(64) {
        assert_eq!(
            p.ask(format!("JOIN m{i}").as_bytes()),
            format!("WELCOME m{i} {}", i + 1)
        );
    }
    assert_eq!(peers[64].ask(b"JOIN late"), "ERR busy");
}

/// The chat is the UDP service: its `listening on` line says so after the address
/// (§0's `listening on <addr>:<port>` prefix unchanged).
#[test]
fn the_listening_line_says_udp() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_socklab"))
        .args(["serve", "chat", "--port", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let port = first
        .strip_prefix("listening on 127.0.0.1:")
        .and_then(|rest| rest.strip_suffix(" (UDP)\n"))
        .unwrap_or_else(|| panic!("{first:?}"));
    assert!(port.parse::<u16>().is_ok_and(|p| p != 0), "{first:?}");
}

/// A line with a character §6 refuses is not sent: the client names it, and the other
/// member hears nothing.
#[test]
fn the_client_does_not_send_what_the_chat_refuses() {
    let server = chat_server(&[]);
    let mut ann = Client::start(server.addr(), "ann");
    ann.expect("joined as ann (1 online)");
    let bob = Peer::new(server.addr());
    assert_eq!(bob.ask(b"JOIN bob"), "WELCOME bob 2");
    ann.expect("* bob joined");
    ann.type_line("x\u{202e}gnp.exe");
    ann.type_line("after");
    assert_eq!(bob.recv(), "ann: after");
    ann.type_line("/quit");
    assert_eq!(bob.recv(), "* ann left");
    let (code, err) = ann.finish();
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains(
            "socklab: chat: message not sent: it holds U+202E (an invisible or \
             direction-changing character), which the chat does not relay"
        ),
        "{err}"
    );
}

/// Against a server of the test's own making, which loses the first WELCOME and relays
/// what §6 forbids: the client takes `ERR already-joined` for "you are in", and shows
/// control and bidi characters escaped instead of obeying them.
#[test]
fn the_client_shows_control_characters_instead_of_obeying_them() {
    let fake = UdpSocket::bind("127.0.0.1:0").unwrap();
    fake.set_read_timeout(Some(WAIT)).unwrap();
    let mut ann = Client::start(fake.local_addr().unwrap(), "ann");
    let mut buf = [0u8; 2048];
    let (n, client) = fake.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"JOIN ann");
    // No answer: the client asks again, and hears it is already in.
    let (n, again) = fake.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], again), (&b"JOIN ann"[..], client));
    fake.send_to(b"ERR already-joined", client).unwrap();
    ann.expect("joined as ann");
    // Retitle the terminal, ring the bell, return to the line start and fake a line
    // from someone else, reverse the rest: all shown, none done.
    let evil = "eve: \x1b]0;owned\x07\rbob: send me your password\x1b[2K x\u{202e}gnp.exe";
    fake.send_to(evil.as_bytes(), client).unwrap();
    ann.expect(
        "eve: \\u{1b}]0;owned\\u{7}\\rbob: send me your password\\u{1b}[2K x\\u{202e}gnp.exe",
    );
    fake.send_to(b"WHO ann eve", client).unwrap();
    ann.expect("online: ann, eve");
    ann.type_line("/quit");
    loop {
        let (n, _) = fake.recv_from(&mut buf).unwrap();
        if &buf[..n] == b"LEAVE" {
            break;
        }
    }
    let (code, err) = ann.finish();
    assert_eq!(code, Some(0), "{err}");
}

/// The TCP connection flags mean nothing to a UDP room: refused by name, with what to
/// use instead, rather than accepted and ignored.
#[test]
fn connection_flags_are_refused_with_a_reason() {
    for (flag, value, instead) in [
        ("--max-conns", "5", "--max-members"),
        ("--idle-timeout", "30", "--member-timeout"),
        ("--threads", "2", "one thread"),
        ("--drain-timeout", "1", "nothing to drain"),
    ] {
        let (status, out, err) = serve_support::run(&["serve", "chat", "--port", "0", flag, value]);
        assert_eq!(status.code(), Some(2), "{flag}: {err}");
        assert!(out.is_empty(), "{flag} started a server: {out}");
        assert!(
            err.contains(&format!("{flag} does not apply to chat")) && err.contains(instead),
            "{flag}: {err}"
        );
        assert!(err.contains("Usage: socklab serve chat"), "{err}");
    }
    // `serve all` shares them with its TCP services and still takes them.
    let flags = ["--max-conns", "5", "--idle-timeout", "30", "--threads", "2"];
    let (_server, _dir) =
        serve_support::serve_all(&[&flags[..], &["--drain-timeout", "1"]].concat());
}
