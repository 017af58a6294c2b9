//! Proves the hot parsing paths allocate nothing: a counting global allocator wraps the
//! system one, and each check asserts that this thread allocated nothing meanwhile.
//!
//! The core is `no_std` without `alloc`, so it *cannot* allocate today; this test keeps
//! it that way if a dependency (nom, heapless) or a future change ever tries.

use socklab_core::echo::{Echo, EchoConfig};
use socklab_core::frame;
use socklab_core::http::{
    BodyKind, Chunk, ChunkedDecoder, EMPTY_HEADER, HeadError, MAX_HEADERS, parse_response,
};
use socklab_core::line::{LineReader, MAX_LINE, MAX_LINE_BUF, split_line};
use socklab_core::quiz::{Player, Quiz, QuizConfig, parse_answer, parse_problem_line};
use socklab_core::rng::SplitMix64;
use socklab_core::side::SideWork;
use socklab_core::{Instant, Session, Status};

/// Allocations this thread made while running `f` (the `allocation-counter` crate
/// installs a counting global allocator for this test binary).
fn allocations<R>(f: impl FnOnce() -> R) -> (u64, R) {
    let mut r = None;
    let info = allocation_counter::measure(|| r = Some(std::hint::black_box(f())));
    (info.count_total, r.expect("closure ran"))
}

fn lines_input() -> Vec<u8> {
    let mut v = Vec::new();
    for i in 0..500 {
        v.extend_from_slice(format!("{i} some line of text\r\n").as_bytes());
    }
    v.extend_from_slice(&vec![b'x'; MAX_LINE + 10]);
    v
}

#[test]
fn counter_sees_allocations() {
    let (n, v) = allocations(|| vec![1u8; 10]);
    assert!(n >= 1, "the counting allocator must notice a Vec");
    drop(v);
}

#[test]
fn line_splitter_allocates_nothing() {
    let input = lines_input();
    let (n, lines) = allocations(|| {
        let mut rest = &input[..];
        let mut count = 0;
        while let Ok(Status::Complete(line)) = split_line(rest, MAX_LINE) {
            rest = &rest[line.consumed..];
            count += 1;
        }
        count
    });
    assert_eq!((n, lines), (0, 500));

    let mut reader: Box<LineReader<MAX_LINE_BUF>> = Box::default();
    let (n, (lines, too_long)) = allocations(|| {
        let (mut count, mut err) = (0, false);
        for piece in input.chunks(7) {
            let mut rest = piece;
            while !rest.is_empty() {
                let step = reader.next_line(rest);
                rest = &rest[step.consumed..];
                match step.line {
                    Some(Ok(_)) => count += 1,
                    Some(Err(_)) => err = true,
                    None => {}
                }
            }
        }
        (count, err)
    });
    assert_eq!((n, lines, too_long), (0, 500, true));
}

#[test]
fn frame_decoder_allocates_nothing() {
    let mut input = Vec::new();
    for len in [0usize, 1, 100, 65536] {
        let mut buf = vec![7u8; len + 4];
        let w = frame::encode(&vec![9u8; len], &mut buf).unwrap();
        input.extend_from_slice(&buf[..w]);
    }
    input.extend_from_slice(&u32::MAX.to_be_bytes());
    let (n, (frames, err)) = allocations(|| {
        let mut rest = &input[..];
        let mut count = 0;
        loop {
            match frame::decode(rest, frame::DEFAULT_MAX_FRAME) {
                Ok(Status::Complete(f)) => {
                    rest = &rest[f.discard..];
                    count += 1;
                }
                Ok(Status::Partial) => break (count, false),
                Err(_) => break (count, true),
            }
        }
    });
    assert_eq!((n, frames, err), (0, 4, true));
}

#[test]
fn quiz_answer_and_problem_parsers_allocate_nothing() {
    let answers: [&[u8]; 6] = [b"68", b"  -12  ", b"+7", b"x", b"", b"99999999999999999999"];
    let (n, ok) = allocations(|| answers.iter().filter(|a| parse_answer(a).is_ok()).count());
    assert_eq!((n, ok), (0, 3));
    let (n, p) = allocations(|| parse_problem_line(b"3. 669 * 364"));
    assert_eq!(n, 0);
    assert!(p.is_some());
}

#[test]
fn whole_sessions_allocate_nothing() {
    let now = Instant::ZERO;
    let mut echo: Box<Echo<1024>> = Box::new(Echo::new(EchoConfig::default()));
    let mut quiz = Box::new(Quiz::new(now, QuizConfig::default(), SplitMix64::new(5)));
    let mut player = Box::new(Player::new());
    let data = lines_input();
    let mut buf = vec![0u8; 4096];
    let (n, ()) = allocations(|| {
        let mut rest = &data[..];
        while !rest.is_empty() {
            let k = echo.handle_input(now, rest);
            rest = &rest[k..];
            while echo.poll_output(&mut buf) > 0 {}
        }
        // Play a whole game, bytes bouncing between player and server.
        for _ in 0..100 {
            let k = quiz.poll_output(&mut buf);
            let _ = player.handle_input(now, &buf[..k]);
            let k = player.poll_output(&mut buf);
            let _ = quiz.handle_input(now, &buf[..k]);
        }
    });
    assert_eq!(n, 0);
    assert!(player.outcome().is_some());
}

#[test]
fn files_parsers_allocate_nothing() {
    use socklab_core::files::{parse_command, parse_entry, parse_reply};
    let commands: [&[u8]; 7] = [
        b"LIST",
        b"PUT 123 some name.txt",
        b"GET a file",
        b"OVERWRITE",
        b"PUT x y",
        b"GET ../etc/passwd",
        b"QUIT",
    ];
    let replies: [&[u8]; 5] = [
        b"OK socklab-files 1",
        b"OK 10 0badf00d",
        b"EXISTS 5",
        b"ERR busy server full",
        b"DATA 7",
    ];
    let (n, ok) = allocations(|| {
        let mut ok = 0;
        for _ in 0..100 {
            ok += commands.iter().filter(|c| parse_command(c).is_ok()).count();
            ok += replies.iter().filter(|r| parse_reply(r).is_ok()).count();
            ok += usize::from(parse_entry(b"12 a b").is_ok());
        }
        ok
    });
    assert_eq!((n, ok), (0, 100 * (5 + 5 + 1)));
}

#[test]
fn a_whole_files_session_on_a_ram_store_allocates_nothing() {
    use core::cell::RefCell;
    use socklab_core::files::{Files, FilesConfig, RamDisk, RamStore, Scratch, perform};

    fn run(
        s: &mut Files<512>,
        store: &mut RamStore<'_, 4, 4096>,
        scratch: &mut Scratch<512>,
        input: &[u8],
        out: &mut [u8],
    ) -> usize {
        let mut rest = input;
        let mut n = 0;
        loop {
            while let Some(req) = s.poll_request() {
                let reply = perform(store, req, scratch);
                s.handle_reply(Instant::ZERO, reply);
            }
            let used = s.handle_input(Instant::ZERO, rest);
            rest = &rest[used..];
            while let Some(req) = s.poll_request() {
                let reply = perform(store, req, scratch);
                s.handle_reply(Instant::ZERO, reply);
            }
            let got = s.poll_output(&mut out[n..]);
            n += got;
            if rest.is_empty() && got == 0 && !s.wants_output() && !s.request_in_flight() {
                let pending = s.poll_request().is_some();
                assert!(!pending);
                return n;
            }
        }
    }

    let disk = Box::new(RefCell::new(RamDisk::<4, 4096>::new()));
    let mut session: Box<Files<512>> = Box::new(Files::new(Instant::ZERO, FilesConfig::default()));
    let mut scratch: Box<Scratch<512>> = Box::default();
    let mut out = vec![0u8; 16 * 1024];
    let mut input = b"LIST\nPUT 3000 notes\n".to_vec();
    input.extend((0..3000u32).map(|i| i as u8));
    input.extend_from_slice(b"PUT 2 notes\nAPPEND\n!!LIST\nGET notes\nGET nope\nQUIT\n");
    let mut store = RamStore::new(&disk);
    let (n, len) = allocations(|| run(&mut session, &mut store, &mut scratch, &input, &mut out));
    assert_eq!(n, 0);
    let text = String::from_utf8_lossy(&out[..len]);
    assert!(
        text.starts_with("OK socklab-files 1\nOK 0\nREADY\nOK 3000 "),
        "{text}"
    );
    assert!(text.contains("EXISTS 3000\nREADY\nOK 3002 "), "{text}");
    assert!(text.contains("OK 1\n3002 notes\nDATA 3002\n"), "{text}");
    assert!(
        text.ends_with("!!ERR not-found no such file\nBYE\n"),
        "{text}"
    );
    assert_eq!(
        session.close_reason(),
        Some(socklab_core::CloseReason::Quit)
    );
}

#[test]
fn http_head_parser_and_chunked_decoder_allocate_nothing() {
    let mut head = b"HTTP/1.1 200 OK\r\nServer: nginx\r\nTransfer-Encoding: chunked\r\n".to_vec();
    for i in 0..50 {
        head.extend_from_slice(format!("Set-Cookie: c{i}=value; Path=/; HttpOnly\r\n").as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    let too_many = [
        &b"HTTP/1.1 200 OK\r\n"[..],
        &b"A: b\r\n".repeat(MAX_HEADERS + 1),
        b"\r\n",
    ]
    .concat();
    let mut body = Vec::new();
    for size in [1usize, 10, 4000, 70000] {
        body.extend_from_slice(format!("{size:x};ext=1\r\n").as_bytes());
        body.extend(std::iter::repeat_n(b'z', size));
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\nTrailer: x\r\n\r\n");
    let mut slots = Box::new([EMPTY_HEADER; MAX_HEADERS]);

    let (n, (kind, cookies, err)) = allocations(|| {
        let mut partial = 0;
        for cut in 0..head.len() {
            partial += usize::from(
                parse_response(&head[..cut], &mut slots[..]).is_ok_and(|s| s.is_partial()),
            );
        }
        assert_eq!(partial, head.len());
        let r = parse_response(&head, &mut slots[..])
            .unwrap()
            .complete()
            .unwrap();
        let kind = r.body_kind();
        let cookies = r.headers_named("set-cookie").count();
        let err = parse_response(&too_many, &mut slots[..]).err();
        (kind, cookies, err)
    });
    assert_eq!(
        (n, kind, cookies, err),
        (
            0,
            Ok(BodyKind::Chunked),
            50,
            Some(HeadError::TooManyHeaders)
        )
    );

    let (n, (payload, done)) = allocations(|| {
        let mut dec = ChunkedDecoder::new();
        let mut payload = 0;
        for piece in body.chunks(7) {
            let mut rest = piece;
            loop {
                let (used, status) = dec.decode(rest).unwrap();
                rest = &rest[used..];
                match status {
                    Status::Complete(Chunk::Data(p)) => payload += p.len(),
                    Status::Complete(Chunk::Done) | Status::Partial => break,
                }
            }
        }
        (payload, dec.is_done())
    });
    assert_eq!((n, payload, done), (0, 74011, true));
}

#[test]
fn chat_parser_server_and_ident_name_check_allocate_nothing() {
    use socklab_core::chat::{ChatServer, MAX_RELAY, parse, valid_nick};
    use socklab_core::ident::{Ident, valid_name};
    let mut server: Box<ChatServer<u32, 16>> =
        Box::new(ChatServer::new(socklab_core::Duration::from_secs(60), 16));
    server.set_host_limit(2, |a, b| a / 2 == b / 2);
    let datagrams: [&[u8]; 8] = [
        b"JOIN ann",
        b"MSG hello",
        "MSG x\u{202e}y".as_bytes(),
        b"JOIN ann",
        b"WHO",
        b"PING",
        b"\xff",
        b"LEAVE",
    ];
    let (n, sent) = allocations(|| {
        let mut buf = [0u8; MAX_RELAY];
        let mut sent = 0;
        let mut ok = 0;
        for d in datagrams {
            ok += usize::from(parse(d).is_ok());
        }
        ok += usize::from(valid_nick("ann"));
        for from in 0..4u32 {
            for d in datagrams {
                server.handle_datagram(Instant::ZERO, from, d);
                while server.poll_transmit(&mut buf).is_some() {
                    sent += 1;
                }
                while server.poll_event().is_some() {}
            }
        }
        server.handle_timeout(Instant::from_millis(120_000));
        ok += usize::from(valid_name(b"  Ann Lee ").is_some());
        let mut ident = Ident::unknown();
        ident.handle_input(Instant::ZERO, b"Bob\n");
        ok += usize::from(ident.poll_request().is_some());
        ident.handle_reply(Instant::ZERO, true);
        sent + usize::from(ident.poll_output(&mut buf) > 0) + ok
    });
    assert_eq!(n, 0);
    assert!(sent > 10);
}

#[test]
fn auth_parser_and_session_allocate_nothing() {
    use socklab_core::auth::{Auth, Reply, parse_command, parse_reply};
    let lines: [&[u8]; 6] = [
        b"REGISTER bob a long password",
        b"LOGIN bob a long password",
        b"TOKEN 0123456789abcdef0123456789abcdef",
        b"PASSWD old password",
        b"WHOAMI",
        b"nonsense",
    ];
    let (n, ok) = allocations(|| {
        let parsed = lines.iter().filter(|l| parse_command(l).is_ok()).count();
        let reply = parse_reply("ERR throttled too many failed logins").is_some();
        parsed == 5 && reply
    });
    assert_eq!(n, 0);
    assert!(ok);
    let (n, out) = allocations(|| {
        let mut a = Auth::new(Instant::ZERO);
        let input = b"LOGIN bob a long password\nWHOAMI\nQUIT\n";
        let mut fed = 0;
        let mut buf = [0u8; 256];
        let mut total = 0;
        while fed < input.len() {
            fed += a.handle_input(Instant::ZERO, &input[fed..]);
            if a.poll_request().is_some() {
                a.handle_reply(
                    Instant::ZERO,
                    Reply::User {
                        user: "bob",
                        ttl: socklab_core::Duration::from_secs(5),
                    },
                );
            }
            total += a.poll_output(&mut buf[total..]);
        }
        total
    });
    assert_eq!(n, 0);
    assert!(out > 0);
}
