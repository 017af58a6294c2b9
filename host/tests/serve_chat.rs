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
    let server = chat_server(&[]);
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
    ann.expect("WELCOME ann 1");
    let mut bob = Client::start(server.addr(), "bob");
    bob.expect("WELCOME bob 2");
    ann.expect("* bob joined");
    bob.type_line("hi ann");
    ann.expect("bob: hi ann");
    ann.type_line("hello bob, typing while you talk");
    bob.expect("ann: hello bob, typing while you talk");
    ann.type_line("/who");
    ann.expect("WHO ann bob");

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
    ann.expect("WELCOME ann 1");
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

#[test]
fn the_client_shows_control_characters_instead_of_obeying_them() {
    let server = chat_server(&[]);
    let mut ann = Client::start(server.addr(), "ann");
    ann.expect("WELCOME ann 1");
    let eve = Peer::new(server.addr());
    assert_eq!(eve.ask(b"JOIN eve"), "WELCOME eve 2");
    ann.expect("* eve joined");
    // Retitle the terminal, ring the bell, return to the line start and fake a line
    // from someone else: all shown, none done.
    eve.send(b"MSG \x1b]0;owned\x07\rbob: send me your password\x1b[2K");
    ann.expect("eve: \\u{1b}]0;owned\\u{7}\\rbob: send me your password\\u{1b}[2K");
    ann.type_line("/quit");
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
