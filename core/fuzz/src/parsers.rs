//! The borrowing parsers of the core: each checked against a reference model or by a
//! render → parse round trip, besides not panicking.

use arbitrary::{Arbitrary, Unstructured};
use socklab_core::Status;
use socklab_core::line::{self, LineError, LineReader, MAX_LINE, MAX_LINE_BUF};
use std::fmt::Write as _;

/// Cut `data` into pieces whose sizes cycle through `cuts` (each at least 1).
fn pieces<'a>(cuts: &[u8], data: &'a [u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() {
        let n = cuts
            .get(i % cuts.len().max(1))
            .map_or(rest.len(), |&c| c as usize + 1);
        let n = n.min(rest.len());
        out.push(&rest[..n]);
        rest = &rest[n..];
        i += 1;
    }
    out
}

/// First byte: how many cut sizes follow; then the cut sizes; then the stream.
fn split_input(data: &[u8]) -> (&[u8], &[u8]) {
    let Some((&n, rest)) = data.split_first() else {
        return (&[], &[]);
    };
    let n = (n as usize % 8).min(rest.len());
    rest.split_at(n)
}

/// What `split_line` applied repeatedly to the whole stream gives: the lines, then the
/// error that ended it or the partial line left.
fn reference_lines(stream: &[u8], max: usize) -> (Vec<Vec<u8>>, Option<LineError>, usize) {
    let mut lines = Vec::new();
    let mut rest = stream;
    loop {
        match line::split_line(rest, max) {
            Ok(Status::Complete(l)) => {
                assert!(l.bytes.len() <= max);
                assert!(l.consumed <= rest.len() && rest[l.consumed - 1] == b'\n');
                lines.push(l.bytes.to_vec());
                rest = &rest[l.consumed..];
            }
            Ok(Status::Partial) => {
                assert!(rest.len() <= max + 1, "partial line over the limit");
                return (lines, None, rest.len());
            }
            Err(e) => {
                assert_eq!(e, LineError::TooLong);
                return (lines, Some(e), rest.len());
            }
        }
    }
}

fn reader_lines<const CAP: usize>(parts: &[&[u8]]) -> (Vec<Vec<u8>>, Option<LineError>, bool) {
    let mut r = LineReader::<CAP>::new();
    let mut lines = Vec::new();
    for part in parts {
        let mut rest = *part;
        loop {
            let step = r.next_line(rest);
            assert!(step.consumed <= rest.len());
            match step.line {
                None => {
                    assert_eq!(step.consumed, rest.len(), "None means all was taken");
                    break;
                }
                Some(Ok(l)) => {
                    assert!(l.len() < CAP);
                    lines.push(l.to_vec());
                }
                Some(Err(e)) => return (lines, Some(e), false),
            }
            rest = &rest[step.consumed..];
        }
    }
    (lines, None, r.has_partial())
}

/// §0 line splitter: `LineReader` fed any split of a stream gives the same lines (and
/// the same terminal error) as `split_line` over the whole stream, for the real limit
/// and for a small one that the fuzzer reaches easily.
pub fn line(data: &[u8]) {
    let (cuts, stream) = split_input(data);
    let parts = pieces(cuts, stream);
    let (lines, err, left) = reference_lines(stream, MAX_LINE);
    let (rlines, rerr, rpartial) = reader_lines::<MAX_LINE_BUF>(&parts);
    assert_eq!((&lines, err), (&rlines, rerr));
    if err.is_none() {
        assert_eq!(rpartial, left > 0);
    }
    let (lines, err, left) = reference_lines(stream, 8);
    let (rlines, rerr, rpartial) = reader_lines::<9>(&parts);
    assert_eq!((&lines, err), (&rlines, rerr));
    if err.is_none() {
        assert_eq!(rpartial, left > 0);
    }
    if let Ok(s) = line::text(stream) {
        assert_eq!(s.as_bytes(), stream);
    }
}

/// §7 frame decoder: every frame decoded from a stream re-encodes to the bytes it came
/// from; `Partial` only when the frame is really incomplete; `TooLarge` exactly when
/// the header says more than the limit.
pub fn frame(data: &[u8]) {
    use socklab_core::frame::{self, FrameError, HEADER_LEN};
    let Some((&pick, mut buf)) = data.split_first() else {
        return;
    };
    let max = [0, 1, 4, 5, 16, 255, 65536, u32::MAX][pick as usize % 8];
    let mut enc = vec![0u8; buf.len() + HEADER_LEN];
    loop {
        let announced = buf
            .first_chunk::<HEADER_LEN>()
            .map(|h| u32::from_be_bytes(*h));
        assert_eq!(
            frame::decode_header(buf, max).map(Status::complete),
            match announced {
                Some(len) if len > max => Err(FrameError::TooLarge { len, max }),
                other => Ok(other),
            }
        );
        match frame::decode(buf, max) {
            Ok(Status::Complete(f)) => {
                let len = announced.expect("a complete frame has a header") as usize;
                assert_eq!(f.discard, HEADER_LEN + len);
                assert_eq!(f.payload, &buf[HEADER_LEN..f.discard]);
                let n = frame::encode(f.payload, &mut enc).expect("room for the frame");
                assert_eq!(&enc[..n], &buf[..f.discard]);
                assert_eq!(
                    frame::encode(f.payload, &mut enc[..n - 1]),
                    Err(FrameError::BufferTooSmall { needed: n })
                );
                buf = &buf[f.discard..];
            }
            Ok(Status::Partial) => {
                assert!(announced.is_none_or(|len| buf.len() < HEADER_LEN + len as usize));
                return;
            }
            Err(FrameError::TooLarge { len, max: m }) => {
                assert_eq!((Some(len), m), (announced, max));
                assert!(len > max);
                return;
            }
            Err(e) => panic!("decode cannot fail with {e:?}"),
        }
    }
}

/// §2 answer parser against a reference written with `str::parse`: spaces, an
/// optional sign, digits, spaces; digits beyond an i64 are an overflow.
pub fn quiz_answer(data: &[u8]) {
    use socklab_core::quiz::{AnswerError, parse_answer};
    let reference = (|| {
        let s = std::str::from_utf8(data).map_err(|_| AnswerError::Malformed)?;
        let s = s.trim_matches(' ');
        let (neg, digits) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AnswerError::Malformed);
        }
        let signed = if neg {
            format!("-{digits}")
        } else {
            digits.to_owned()
        };
        signed.parse::<i64>().map_err(|_| AnswerError::Overflow)
    })();
    assert_eq!(parse_answer(data), reference, "{data:?}");
}

/// §2 problem lines: whatever parses renders back to a line that parses the same, any
/// problem renders to a line that parses back to it, and the server-line classifier
/// agrees with the problem parser.
pub fn quiz_problem(data: &[u8]) {
    use socklab_core::quiz::{
        Op, Problem, ServerLine, parse_problem_line, parse_server_line, text,
    };
    let parsed = parse_problem_line(data);
    if let Some((k, p)) = parsed {
        let mut s = String::new();
        p.render(k, &mut s).unwrap();
        assert_eq!(parse_problem_line(s.as_bytes()), Some((k, p)), "{s}");
    }
    match parse_server_line(data) {
        ServerLine::Problem(k, p) => assert_eq!(parsed, Some((k, p))),
        ServerLine::Greeting(n) => {
            let line = format!("{}{n}{}", text::GREETING_HEAD, text::GREETING_TAIL);
            assert_eq!(parse_server_line(line.as_bytes()), ServerLine::Greeting(n));
        }
        ServerLine::Won(n) => {
            let line = format!("{}{n}{}", text::WON_HEAD, text::WON_TAIL);
            assert_eq!(parse_server_line(line.as_bytes()), ServerLine::Won(n));
        }
        _ => {}
    }
    let mut u = Unstructured::new(data);
    if let (Ok(k), Ok(a), Ok(op), Ok(b)) = (
        u32::arbitrary(&mut u),
        i64::arbitrary(&mut u),
        u8::arbitrary(&mut u),
        i64::arbitrary(&mut u),
    ) {
        let op = [Op::Add, Op::Sub, Op::Mul][op as usize % 3];
        let p = Problem { a, op, b };
        let mut s = String::new();
        p.render(k, &mut s).unwrap();
        assert_eq!(parse_problem_line(s.as_bytes()), Some((k, p)), "{s}");
        assert_eq!(parse_server_line(s.as_bytes()), ServerLine::Problem(k, p));
    }
}

/// §3's name rule, written out independently of `files::name`: what `validate_name`
/// accepts must pass every clause (NFC by `unicode-normalization`, the reference), and
/// what passes every clause and is made of characters the build can check (this crate
/// builds core without its `nfc` feature: `surely_nfc`) must be accepted.
fn name_model(name: &str) {
    use socklab_core::files::{MAX_NAME, name::surely_nfc, validate_name};
    let clauses = !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with('.')
        && !name.ends_with(' ')
        && !name
            .chars()
            .any(|c| c == '/' || c == '\\' || socklab_core::text::is_unsafe(c))
        && unicode_normalization::is_nfc(name);
    let valid = validate_name(name).is_ok();
    if valid {
        assert!(clauses, "accepted {name:?}");
    }
    if clauses && name.chars().all(surely_nfc) {
        assert!(valid, "refused {name:?}");
    }
}

/// §3 command parser: a parsed command renders (`Display`) to a line that parses to
/// the same command, names are always valid (by the model above), and any command
/// built from valid parts round-trips too.
pub fn files_command(data: &[u8]) {
    use socklab_core::files::{Command, parse_command, validate_name};
    if let Ok(c) = parse_command(data) {
        if let Command::Put { name, .. } | Command::Get { name } = c {
            assert_eq!(validate_name(name), Ok(name));
            name_model(name);
        }
        let s = c.to_string();
        assert_eq!(parse_command(s.as_bytes()), Ok(c), "{s}");
    }
    let mut u = Unstructured::new(data);
    if let (Ok(kind), Ok(size), Ok(name)) = (
        u8::arbitrary(&mut u),
        u64::arbitrary(&mut u),
        <&str>::arbitrary(&mut u),
    ) {
        let c = match kind % 7 {
            0 => Command::List,
            1 => Command::Put { size, name },
            2 => Command::Overwrite,
            3 => Command::Append,
            4 => Command::Cancel,
            5 => Command::Get { name },
            _ => Command::Quit,
        };
        name_model(name);
        let valid = validate_name(name).is_ok();
        let s = c.to_string();
        match c {
            Command::Put { .. } | Command::Get { .. } if !valid => {
                assert!(parse_command(s.as_bytes()).is_err(), "{s}")
            }
            _ => assert_eq!(parse_command(s.as_bytes()), Ok(c), "{s}"),
        }
    }
}

/// §3 server lines as a client parses them: what parses renders back the same way.
pub fn files_reply(data: &[u8]) {
    use socklab_core::files::{ServerLine, parse_entry, parse_reply};
    if let Ok(r) = parse_reply(data) {
        let s = match r {
            ServerLine::Greeting(v) => format!("OK socklab-files {v}"),
            ServerLine::Count(n) => format!("OK {n}"),
            ServerLine::Cancelled => "OK cancelled".into(),
            ServerLine::Stored { size, crc } => format!("OK {size} {crc:08x}"),
            ServerLine::Ready => "READY".into(),
            ServerLine::Exists(n) => format!("EXISTS {n}"),
            ServerLine::Data(n) => format!("DATA {n}"),
            ServerLine::Bye => "BYE".into(),
            ServerLine::Err { code, text: "" } => format!("ERR {code}"),
            ServerLine::Err { code, text } => format!("ERR {code} {text}"),
        };
        assert_eq!(parse_reply(s.as_bytes()), Ok(r), "{s}");
    }
    if let Ok((size, name)) = parse_entry(data) {
        let s = format!("{size} {name}");
        assert_eq!(parse_entry(s.as_bytes()), Ok((size, name)));
    }
}

/// §5 command parser (and the clients' reply parser): a parsed command, written back in
/// upper case, parses to the same command; fields are never empty.
pub fn auth_command(data: &[u8]) {
    use socklab_core::auth::{Command, ServerReply, parse_command, parse_reply};
    if let Ok(c) = parse_command(data) {
        let s = match c {
            Command::Register { user, password } => format!("REGISTER {user} {password}"),
            Command::Login { user, password } => {
                assert!(!user.is_empty() && !password.is_empty() && !user.contains(' '));
                format!("LOGIN {user} {password}")
            }
            Command::Token(t) => format!("TOKEN {t}"),
            Command::Whoami => "WHOAMI".into(),
            Command::Passwd(p) => format!("PASSWD {p}"),
            Command::Logout => "LOGOUT".into(),
            Command::Quit => "QUIT".into(),
        };
        assert_eq!(parse_command(s.as_bytes()), Ok(c), "{s}");
    }
    if let Some(r) = std::str::from_utf8(data).ok().and_then(parse_reply) {
        let back = match r {
            ServerReply::Ok(t) => format!("OK {t}"),
            ServerReply::Bye => "BYE".into(),
            ServerReply::Err { word, text: "", .. } => format!("ERR {word}"),
            ServerReply::Err { word, text, .. } => format!("ERR {word} {text}"),
        };
        // One CR more: the parser drops exactly one, so a text ending in CR survives.
        assert_eq!(parse_reply(&format!("{back}\r")), Some(r), "{back}");
    }
}

/// §6 datagram parser: a parsed command written back parses the same; the 512-byte
/// limit holds whatever the datagram says.
pub fn chat_datagram(data: &[u8]) {
    use socklab_core::chat::{
        Command, MAX_DATAGRAM, MAX_NICK, ParseError, Reply, parse, parse_reply, valid_nick,
    };
    let r = parse(data);
    if data.len() > MAX_DATAGRAM {
        assert_eq!(r, Err(ParseError::BadMessage));
    }
    if let Ok(c) = r {
        // CR LF: the parser drops one trailing LF and then one CR, so an argument that
        // itself ends in CR or LF survives the round trip.
        // (The two bytes may push a datagram of 511 or 512 bytes over the limit: then
        // the limit must win.)
        let s = format!("{c}\r\n");
        assert!(s.len() <= data.len() + 2);
        let want = if s.len() > MAX_DATAGRAM {
            Err(ParseError::BadMessage)
        } else {
            Ok(c)
        };
        assert_eq!(parse(s.as_bytes()), want, "{s:?}");
        if let Command::Join(n) = c
            && valid_nick(n)
        {
            assert!(n.len() <= MAX_NICK && !n.contains(' '));
        }
    }
    // The same bytes as a server datagram (the client side): a parsed reply renders to
    // exactly the bytes it came from, so the reading is unambiguous, and its parts obey §6.
    if let Ok(reply) = parse_reply(data) {
        assert_eq!(reply.to_string().as_bytes(), data);
        match reply {
            Reply::Welcome { nick, count } => assert!(valid_nick(nick) && count > 0),
            Reply::Who(nicks) => assert!(nicks.iter().all(valid_nick)),
            Reply::Message { nick, .. }
            | Reply::Joined(nick)
            | Reply::Left(nick)
            | Reply::TimedOut(nick) => assert!(valid_nick(nick)),
            Reply::Error(code) => assert!(!code.is_empty() && !code.contains(' ')),
            Reply::Pong => {}
        }
    }
}

/// §4 name rule: a valid name is trimmed, 1..=64 characters, free of controls, and
/// valid again as it is (so storing and reading it back cannot change it).
pub fn ident_name(data: &[u8]) {
    use socklab_core::ident::{MAX_NAME_BYTES, MAX_NAME_CHARS, valid_name};
    if let Some(n) = valid_name(data) {
        let chars = n.chars().count();
        assert!((1..=MAX_NAME_CHARS).contains(&chars) && n.len() <= MAX_NAME_BYTES);
        assert!(!n.starts_with(' ') && !n.ends_with(' '));
        assert!(!n.chars().any(|c| c.is_control()));
        assert_eq!(valid_name(n.as_bytes()), Some(n));
        let mut line = String::new();
        write!(line, "Nice to meet you, {n}!").unwrap();
        assert!(line.len() < MAX_NAME_BYTES + 32);
    }
}
