//! The stack in simulated time, no OS network at all: a `Stack` and a plain smoltcp
//! client joined by an in-memory Ethernet link, stepped 1 ms at a time. Deterministic,
//! needs no privileges, and reaches what real time cannot (a 60 s answer timeout).

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet, SocketStorage};
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::socket::{tcp, udp};
use smoltcp::wire::{EthernetAddress, IpCidr, Ipv4Address, Ipv4Cidr};
use socklab_embedded::{
    Buffers, Duration, Instant, NetConfig, ServiceConfig, Sessions, Sockets, Stack, StackResources,
};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

type Queue = Rc<RefCell<VecDeque<Vec<u8>>>>;

/// One end of a cable: frames sent here arrive in the other end's receive queue.
struct End {
    rx: Queue,
    tx: Queue,
}

fn cable() -> (End, End) {
    let (a, b) = (Queue::default(), Queue::default());
    (
        End {
            rx: a.clone(),
            tx: b.clone(),
        },
        End { rx: b, tx: a },
    )
}

struct Rx(Vec<u8>);
struct Tx(Queue);

impl phy::RxToken for Rx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for Tx {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = vec![0; len];
        let r = f(&mut frame);
        self.0.borrow_mut().push_back(frame);
        r
    }
}

impl Device for End {
    type RxToken<'a> = Rx;
    type TxToken<'a> = Tx;

    fn receive(&mut self, _: smoltcp::time::Instant) -> Option<(Rx, Tx)> {
        let frame = self.rx.borrow_mut().pop_front()?;
        Some((Rx(frame), Tx(self.tx.clone())))
    }

    fn transmit(&mut self, _: smoltcp::time::Instant) -> Option<Tx> {
        Some(Tx(self.tx.clone()))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = 1514;
        caps
    }
}

const SERVER: Ipv4Address = Ipv4Address::new(10, 9, 0, 1);
const CLIENT: Ipv4Address = Ipv4Address::new(10, 9, 0, 2);

/// A client host with up to 16 TCP and UDP sockets.
struct Client {
    iface: Interface,
    sockets: SocketSet<'static>,
    dev: End,
    next_port: u16,
}

impl Client {
    fn new(dev: End) -> Self {
        let mut dev = dev;
        let config = Config::new(EthernetAddress([2, 0, 0, 0, 0, 2]).into());
        let mut iface = Interface::new(config, &mut dev, smoltcp::time::Instant::ZERO);
        iface.update_ip_addrs(|a| a.push(IpCidr::Ipv4(Ipv4Cidr::new(CLIENT, 24))).unwrap());
        let storage: &'static mut [SocketStorage<'static>] =
            Box::leak(Box::new([SocketStorage::EMPTY; 16]));
        Client {
            iface,
            sockets: SocketSet::new(storage),
            dev,
            next_port: 40000,
        }
    }

    fn connect(&mut self, port: u16) -> SocketHandle {
        let buf = || tcp::SocketBuffer::new(&mut Box::leak(Box::new([0u8; 4096]))[..]);
        let mut socket = tcp::Socket::new(buf(), buf());
        self.next_port += 1;
        socket
            .connect(self.iface.context(), (SERVER, port), self.next_port)
            .unwrap();
        self.sockets.add(socket)
    }

    /// A UDP socket on `port` of the client host: one chat member.
    fn member(&mut self, port: u16) -> SocketHandle {
        let meta = || &mut Box::leak(Box::new([udp::PacketMetadata::EMPTY; 8]))[..];
        let buf = || &mut Box::leak(Box::new([0u8; 4096]))[..];
        let mut socket = udp::Socket::new(
            udp::PacketBuffer::new(meta(), buf()),
            udp::PacketBuffer::new(meta(), buf()),
        );
        socket.bind(port).unwrap();
        self.sockets.add(socket)
    }

    fn socket(&mut self, h: SocketHandle) -> &mut tcp::Socket<'static> {
        self.sockets.get_mut::<tcp::Socket>(h)
    }
}

/// Server and client on one cable, and the simulated clock.
struct Net {
    stack: Stack<'static, 'static>,
    server_dev: End,
    client: Client,
    now: Instant,
}

impl Net {
    fn new() -> Net {
        let (mut server_dev, client_dev) = cable();
        let net = NetConfig {
            mac: EthernetAddress([2, 0, 0, 0, 0, 1]),
            ip: Ipv4Cidr::new(SERVER, 24),
            gateway: None,
        };
        let services = ServiceConfig {
            quiz_seed: Some(3),
            ..ServiceConfig::default()
        };
        let storage = StackResources {
            sockets: Box::leak(Box::new(Sockets::new())),
            buffers: Box::leak(Box::new(Buffers::new())),
            sessions: Box::leak(Box::new(Sessions::new())),
        };
        let stack = Stack::new(net, services, &mut server_dev, storage, Instant::ZERO);
        Net {
            stack,
            server_dev,
            client: Client::new(client_dev),
            now: Instant::ZERO,
        }
    }

    /// Advance `ms` milliseconds, polling both hosts each millisecond.
    fn run(&mut self, ms: u64) {
        for _ in 0..ms {
            self.now = self.now + Duration::from_millis(1);
            let t = smoltcp::time::Instant::from_millis(self.now.total_millis() as i64);
            let c = &mut self.client;
            c.iface.poll(t, &mut c.dev, &mut c.sockets);
            self.stack.poll(self.now, &mut self.server_dev);
        }
    }

    /// Everything the client socket has received so far, as text.
    fn read(&mut self, h: SocketHandle) -> String {
        String::from_utf8(self.read_bytes(h)).unwrap()
    }

    /// Everything the client socket has received so far.
    fn read_bytes(&mut self, h: SocketHandle) -> Vec<u8> {
        let mut out = Vec::new();
        let s = self.client.socket(h);
        while s.can_recv() {
            s.recv(|b| {
                out.extend_from_slice(b);
                (b.len(), ())
            })
            .unwrap();
        }
        out
    }

    /// Send one chat datagram from member `h`.
    fn say(&mut self, h: SocketHandle, data: &str) {
        let s = self.client.sockets.get_mut::<udp::Socket>(h);
        s.send_slice(data.as_bytes(), (SERVER, 9093)).unwrap();
    }

    /// Every datagram member `h` has received so far.
    fn heard(&mut self, h: SocketHandle) -> Vec<String> {
        let s = self.client.sockets.get_mut::<udp::Socket>(h);
        let mut out = Vec::new();
        while let Ok((d, meta)) = s.recv() {
            assert_eq!(meta.endpoint, (SERVER, 9093).into());
            out.push(String::from_utf8(d.to_vec()).unwrap());
        }
        out
    }

    fn send(&mut self, h: SocketHandle, data: &[u8]) {
        assert_eq!(self.client.socket(h).send_slice(data).unwrap(), data.len());
    }
}

#[test]
fn quiz_greets_and_a_wrong_answer_ends_it() {
    let mut net = Net::new();
    let h = net.client.connect(31337);
    net.run(100);
    let got = net.read(h);
    assert!(
        got.starts_with("> Hi! You need to solve 10 arithmetic problems:\n1. "),
        "{got:?}"
    );
    net.send(h, b"not a number\n");
    net.run(100);
    assert_eq!(net.read(h), "> It's wrong!\n");
    assert!(!net.client.socket(h).may_recv(), "server did not close");
    // The session lasts until the peer's FIN too (late input is read, not reset).
    assert_eq!(net.stack.open_sessions(), [0, 1, 0, 0, 0]);
    net.client.socket(h).close();
    net.run(100);
    assert_eq!(net.stack.open_sessions(), [0, 0, 0, 0, 0]);
}

#[test]
fn an_unanswered_problem_times_out_after_60_seconds() {
    let mut net = Net::new();
    let h = net.client.connect(31337);
    net.run(100);
    net.read(h);
    net.run(59_000);
    assert_eq!(net.read(h), "", "answer timeout fired early");
    net.run(2_000);
    assert_eq!(net.read(h), "> Time is up!\n");
}

#[test]
fn a_quiz_player_over_the_limit_is_refused_and_a_freed_slot_serves_again() {
    let mut net = Net::new();
    let limit = socklab_embedded::services::Quiz::SESSIONS;
    let players: Vec<_> = (0..=limit).map(|_| net.client.connect(31337)).collect();
    net.run(200);
    let greeted = players
        .iter()
        .filter(|&&h| net.read(h).starts_with("> Hi!"))
        .count();
    assert_eq!(greeted, limit, "the pool holds {limit} quiz sessions");
    let refused = players
        .iter()
        .filter(|&&h| net.client.socket(h).state() == tcp::State::Closed)
        .count();
    assert_eq!(refused, 1, "the SYN over the limit is reset");
    assert_eq!(net.stack.open_sessions()[1], limit);
    // One player quits; a new one is served at once (no TIME-WAIT on the slot).
    net.send(players[0], b"x\n");
    net.run(200);
    net.client.socket(players[0]).close();
    net.run(200);
    let again = net.client.connect(31337);
    net.run(200);
    assert!(net.read(again).starts_with("> Hi!"));
}

#[test]
fn echo_backpressure_delivers_every_byte() {
    let mut net = Net::new();
    let h = net.client.connect(9090);
    net.run(50);
    let data: Vec<u8> = (0..64 * 1024).map(|i| (i * 7 % 251) as u8).collect();
    let mut sent = 0;
    let mut back = Vec::new();
    for _ in 0..20_000 {
        if sent < data.len() {
            sent += net.client.socket(h).send_slice(&data[sent..]).unwrap();
        }
        net.run(1);
        back.extend_from_slice(&net.read_bytes(h));
        if back.len() == data.len() {
            break;
        }
    }
    assert_eq!(back.len(), data.len());
    assert!(back == data);
}

#[test]
fn status_page_counts_open_sessions() {
    let mut net = Net::new();
    let quiz = net.client.connect(31337);
    net.run(100);
    let page = net.client.connect(80);
    net.run(100);
    net.send(page, b"GET / HTTP/1.0\r\n\r\n");
    net.run(100);
    let text = net.read(page);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(
        text.contains("service: quiz tcp 31337 open 1/3\n"),
        "{text}"
    );
    assert!(text.contains("address: 10.9.0.1/24\n"), "{text}");
    let _ = quiz;
}

#[test]
fn the_stack_sleeps_when_nothing_is_due() {
    let mut net = Net::new();
    net.run(10);
    // Nothing open: no timer at all, so the frontend sleeps until a frame arrives.
    assert_eq!(net.stack.poll_delay(net.now), None);
    let h = net.client.connect(31337);
    net.run(100);
    // A quiz waits for its answer: the next deadline is the 60 s answer timeout.
    let delay = net.stack.poll_delay(net.now).expect("answer timeout");
    assert!(delay.total_millis() > 59_000, "{delay:?}");
    let _ = h;
}

#[test]
fn a_peer_that_never_closes_is_let_go_after_the_linger_time() {
    let mut net = Net::new();
    let h = net.client.connect(31337);
    net.run(100);
    net.send(h, b"x\n");
    net.run(100);
    assert!(net.read(h).ends_with("> It's wrong!\n"));
    // The client never sends its FIN: the slot is aborted 5 s after ours.
    assert_eq!(net.stack.open_sessions()[1], 1);
    net.run(5_000);
    assert_eq!(net.stack.open_sessions()[1], 0);
}

#[test]
fn files_put_list_get_on_the_ram_disk() {
    let mut net = Net::new();
    let h = net.client.connect(8020);
    net.run(100);
    assert_eq!(net.read(h), "OK socklab-files 1\n");
    net.send(h, b"PUT 5 notes\n");
    net.run(50);
    net.send(h, b"hello");
    net.run(100);
    let put = net.read(h);
    assert!(put.starts_with("READY\nOK 5 "), "{put:?}");
    net.send(h, b"LIST\nGET notes\nQUIT\n");
    net.run(200);
    let got = net.read(h);
    assert!(got.starts_with("OK 1\n5 notes\nDATA 5\nhello"), "{got:?}");
    assert!(got.ends_with("BYE\n"), "{got:?}");
}

#[test]
fn chat_join_relay_who_leave_and_time_out() {
    let mut net = Net::new();
    let ann = net.client.member(5001);
    let bob = net.client.member(5002);
    net.say(ann, "JOIN ann");
    net.run(50);
    assert_eq!(net.heard(ann), ["WELCOME ann 1"]);
    net.say(bob, "JOIN bob");
    net.run(50);
    assert_eq!(net.heard(bob), ["WELCOME bob 2"]);
    assert_eq!(net.heard(ann), ["* bob joined"]);
    assert_eq!(net.stack.open_sessions()[4], 2);

    net.say(bob, "MSG hello, ann");
    net.run(50);
    assert_eq!(net.heard(ann), ["bob: hello, ann"]);
    assert!(net.heard(bob).is_empty(), "no copy of one's own message");
    net.say(ann, "WHO");
    net.run(50);
    assert_eq!(net.heard(ann), ["WHO ann bob"]);
    // §6 on the board too: ESC and a direction override are refused and reach nobody; a
    // second JOIN is refused.
    for refused in ["MSG \x1b[2J", "MSG x\u{202e}gnp.exe"] {
        net.say(bob, refused);
        net.run(50);
        assert_eq!(net.heard(bob), ["ERR bad-message"], "{refused:?}");
        assert!(net.heard(ann).is_empty(), "{refused:?} relayed");
    }
    net.say(bob, "JOIN bob");
    net.run(50);
    assert_eq!(net.heard(bob), ["ERR already-joined"]);

    // The status page counts members.
    let page = net.client.connect(80);
    net.run(50);
    net.send(page, b"GET /\n");
    net.run(100);
    let text = net.read(page);
    assert!(
        text.contains("service: chat udp 9093 members online 2/8\n"),
        "{text}"
    );
    net.client.socket(page).close();
    net.run(100);

    net.say(ann, "LEAVE");
    net.run(50);
    assert_eq!(net.heard(bob), ["* ann left"]);
    assert_eq!(net.stack.open_sessions()[4], 1);

    // bob goes silent: the stack's poll delay is the member timeout, and bob is
    // dropped when it passes (ann, no longer a member, hears nothing).
    net.say(ann, "JOIN ann");
    net.run(50);
    assert_eq!(net.heard(ann), ["WELCOME ann 2"]);
    assert_eq!(net.heard(bob), ["* ann joined"]);
    let delay = net.stack.poll_delay(net.now).expect("member timeout");
    // bob spoke last with the MSG, under a second ago.
    assert!(
        (59_000..=60_000).contains(&delay.total_millis()),
        "{delay:?}"
    );
    // ann keeps pinging, every 20 s as the client does.
    for _ in 0..2 {
        net.run(19_000);
        net.say(ann, "PING");
        net.run(1_000);
        assert_eq!(net.heard(ann), ["PONG"]);
    }
    net.run(19_000);
    assert!(net.heard(ann).is_empty(), "bob timed out early");
    assert_eq!(net.stack.open_sessions()[4], 2);
    net.run(1_000);
    assert_eq!(net.heard(ann), ["* bob timed out"]);
    assert_eq!(net.stack.open_sessions()[4], 1);
    net.say(ann, "WHO");
    net.run(50);
    assert_eq!(net.heard(ann), ["WHO ann"]);
}

#[test]
fn chat_relay_to_every_member_through_a_small_transmit_buffer() {
    let mut net = Net::new();
    let members: Vec<_> = (0..8).map(|i| net.client.member(5100 + i)).collect();
    for (i, &m) in members.iter().enumerate() {
        net.say(m, &format!("JOIN m{i}"));
        net.run(50);
    }
    for &m in &members {
        net.heard(m);
    }
    // A 512-byte MSG relays 514 bytes to 7 members: more than the transmit buffer holds.
    let text = "x".repeat(508);
    net.say(members[0], &format!("MSG {text}"));
    net.run(100);
    for &m in &members[1..] {
        assert_eq!(net.heard(m), [format!("m0: {text}")]);
    }
    // A ninth is refused; an oversized datagram from a member gets ERR bad-message.
    let ninth = net.client.member(5200);
    net.say(ninth, "JOIN late");
    net.say(members[1], &format!("MSG {}", "y".repeat(600)));
    net.run(100);
    assert_eq!(net.heard(ninth), ["ERR busy"]);
    assert_eq!(net.heard(members[1]), ["ERR bad-message"]);
}

/// Hostile traffic (issue 6): whatever a peer sends — garbage on every TCP service,
/// resets and half-open connections, any datagram on the chat port, raw Ethernet frames
/// that are not even IP — the stack does not panic, every session ends once its peer is
/// gone, and every service still serves a newcomer afterwards.
mod hostile {
    use super::*;
    use proptest::prelude::*;

    /// The TCP ports of the stack, and one nobody listens on.
    const PORTS: [u16; 5] = [9090, 31337, 8020, 80, 4444];

    #[derive(Debug, Clone)]
    enum Op {
        Connect(usize),
        Send(usize, Vec<u8>),
        Close(usize),
        Reset(usize),
        Datagram(usize, Vec<u8>),
        RawFrame(Vec<u8>),
        Wait(u64),
    }

    /// Bytes that look like protocol lines often (so sessions reach deep states), and
    /// are arbitrary the rest of the time.
    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            prop::sample::select(vec![
                &b"PUT 5 a\nhello"[..],
                b"PUT 99999 b\n",
                b"APPEND 3 a\nxyz",
                b"GET a\n",
                b"LIST\n",
                b"QUIT\n",
                b"12\n",
                b"quit\n",
                b"stop\n",
                b"GET / HTTP/1.0\r\n\r\n",
                b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n",
                b"JOIN ann",
                b"JOIN bob",
                b"MSG hi",
                b"WHO",
                b"PING",
                b"LEAVE",
            ])
            .prop_map(<[u8]>::to_vec),
            proptest::collection::vec(any::<u8>(), 0..1500),
            // Long lines without an end, over every line limit.
            (1usize..3000, any::<u8>()).prop_map(|(n, b)| vec![b; n]),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0..PORTS.len()).prop_map(Op::Connect),
            5 => (0..8usize, bytes()).prop_map(|(i, b)| Op::Send(i, b)),
            1 => (0..8usize).prop_map(Op::Close),
            1 => (0..8usize).prop_map(Op::Reset),
            3 => (0..3usize, bytes()).prop_map(|(i, b)| Op::Datagram(i, b)),
            1 => proptest::collection::vec(any::<u8>(), 0..200).prop_map(Op::RawFrame),
            3 => (1u64..3000).prop_map(Op::Wait),
        ]
    }

    /// A fresh connection to `port` gets `expect` as the first bytes of its answer
    /// after sending `ask`.
    fn serves(net: &mut Net, port: u16, ask: &[u8], expect: &str) {
        let h = net.client.connect(port);
        net.run(100);
        net.send(h, ask);
        net.run(300);
        let got = String::from_utf8_lossy(&net.read_bytes(h)).into_owned();
        assert!(got.starts_with(expect), "port {port}: {got:?}");
        net.client.socket(h).abort();
        net.run(50);
        net.client.sockets.remove(h);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn hostile_traffic_never_breaks_the_stack(ops in proptest::collection::vec(op(), 1..40)) {
            let mut net = Net::new();
            let members: Vec<_> = (0..3).map(|i| net.client.member(6000 + i)).collect();
            let mut conns: Vec<SocketHandle> = Vec::new();
            for op in ops {
                match op {
                    // The client host has 16 socket slots: 3 members, up to 10 TCP.
                    Op::Connect(p) if conns.len() < 10 => conns.push(net.client.connect(PORTS[p])),
                    Op::Connect(_) => {}
                    Op::Send(i, b) => {
                        if let Some(&h) = conns.get(i % conns.len().max(1)) {
                            let s = net.client.socket(h);
                            if s.can_send() {
                                let _ = s.send_slice(&b);
                            }
                        }
                    }
                    Op::Close(i) => {
                        if let Some(&h) = conns.get(i % conns.len().max(1)) {
                            net.client.socket(h).close();
                        }
                    }
                    Op::Reset(i) => {
                        if !conns.is_empty() {
                            let h = conns.remove(i % conns.len());
                            net.client.socket(h).abort();
                            net.run(1);
                            net.client.sockets.remove(h);
                        }
                    }
                    Op::Datagram(i, b) => {
                        let s = net.client.sockets.get_mut::<udp::Socket>(members[i]);
                        let _ = s.send_slice(&b, (SERVER, 9093));
                    }
                    Op::RawFrame(f) => net.client.dev.tx.borrow_mut().push_back(f),
                    Op::Wait(ms) => net.run(ms),
                }
                net.run(5);
                // Drain what the server sent, as a reading client would.
                for &h in &conns {
                    net.read_bytes(h);
                }
                for &m in &members {
                    let s = net.client.sockets.get_mut::<udp::Socket>(m);
                    while s.recv().is_ok() {}
                }
            }
            // Every peer goes away: each session must end (FIN, or the linger time for
            // a peer that stops answering), leaving no slot taken.
            for &h in &conns {
                net.client.socket(h).close();
            }
            for _ in 0..100 {
                net.run(100);
                for &h in &conns {
                    net.read_bytes(h);
                }
            }
            let open = net.stack.open_sessions();
            prop_assert_eq!(&open[..4], &[0, 0, 0, 0], "sessions left open: {:?}", open);
            prop_assert!(open[4] <= 3, "{:?}", open);
            for h in conns {
                net.client.socket(h).abort();
                net.client.sockets.remove(h);
            }
            net.run(100);
            // And a newcomer is served by every service.
            serves(&mut net, 9090, b"ping\n", "ping\n");
            serves(&mut net, 31337, b"", "> Hi! You need to solve");
            serves(&mut net, 8020, b"LIST\n", "OK socklab-files 1\nOK ");
            serves(&mut net, 80, b"GET / HTTP/1.0\r\n\r\n", "HTTP/1.1 200 OK\r\n");
            let late = net.client.member(7000);
            let s = net.client.sockets.get_mut::<udp::Socket>(late);
            s.send_slice(b"JOIN newcomer", (SERVER, 9093)).unwrap();
            net.run(50);
            let heard = net.heard(late);
            prop_assert!(
                heard.len() == 1
                    && (heard[0].starts_with("WELCOME newcomer ") || heard[0] == "ERR busy"),
                "{:?}", heard
            );
        }
    }
}
