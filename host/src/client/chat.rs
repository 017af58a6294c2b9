//! `socklab chat --nick N`: a §6 chat member in a terminal.
//!
//! Joins, then two things run at once: a reader thread prints every datagram from the
//! server as it arrives (and sends the `PING` every 20 s that keeps the membership
//! alive), while the main thread sends each typed line as `MSG`. `/who` asks who is
//! online, `/quit` (or end of input) sends `LEAVE` and exits.
//!
//! What the server sends is shown as a person reads it, not as the protocol spells it:
//!
//! | datagram           | shown                                    |
//! |--------------------|------------------------------------------|
//! | `WELCOME ann 2`    | `joined as ann (2 online)`               |
//! | `bob: hi`          | `bob: hi`                                |
//! | `* bob joined`     | `* bob joined` (also `left`, `timed out`)|
//! | `WHO ann bob`      | `online: ann, bob`                       |
//! | `PONG`             | nothing (a keep-alive)                   |
//! | `ERR <code>`       | a sentence on stderr (`socklab: chat: ...`) |
//!
//! A datagram that is not §6 is shown as it came, so nothing the server says is hidden.
//! Other members' text is untrusted: control, invisible and direction-changing
//! characters are shown escaped (`\u{1b}`), whatever the server let through.
//!
//! A typed line with a character §6 refuses (a control character other than TAB, an
//! invisible or direction-changing one) is not sent: the client says which character
//! and why, rather than letting the server answer `ERR bad-message`.
//!
//! Exit status: 0 after `/quit` or end of input; 1 when the server refuses the nick
//! (`ERR nick-taken`, `ERR bad-nick`, `ERR busy`); 2 when the server cannot be reached
//! (no `WELCOME` after three tries).

use std::io::{self, BufRead, Write};
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use socklab_core::chat::{Command, MAX_DATAGRAM, Reply, parse_reply, valid_nick};
use socklab_core::service;
use socklab_core::text::{is_invisible, is_unsafe};

use super::conn::{Trace, display_addr};
use crate::os_error::describe;

/// Flags of `socklab chat`.
#[derive(Debug, Clone, clap::Args)]
pub struct ChatClientArgs {
    /// Log send and receive to stderr (-v).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Server address (IPv4, IPv6 or a name).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Server port (UDP).
    #[arg(long, default_value_t = service::CHAT.port)]
    pub port: u16,
    /// Your name in the chat: 1 to 16 of A-Z a-z 0-9 _ -.
    #[arg(long)]
    pub nick: String,
    /// Milliseconds between keep-alive PINGs (default 20000), for tests with a short
    /// `--member-timeout`.
    #[arg(long, value_name = "MS", hide = true)]
    pub ping_every_ms: Option<u64>,
}

/// Keep-alive interval (§6: clients PING every 20 s).
pub const PING_EVERY: Duration = Duration::from_secs(20);
/// Datagrams up to this size are received whole (§6).
const RECV_BUF: usize = 1024;
/// How long to wait for `WELCOME` before asking again, and how many times to ask: a
/// lost datagram is normal on UDP.
const JOIN_WAIT: Duration = Duration::from_secs(1);
const JOIN_TRIES: usize = 3;

/// Run the client.
pub fn run(args: &ChatClientArgs) -> ExitCode {
    if !valid_nick(&args.nick) {
        eprintln!(
            "socklab: chat: {:?} is not a valid nick: 1 to 16 of A-Z a-z 0-9 _ -",
            args.nick
        );
        return ExitCode::from(super::EXIT_CONNECT);
    }
    let trace = Trace::new(args.verbose, &display_addr(&args.host, args.port));
    let socket = match open(&args.host, args.port) {
        Ok(s) => s,
        Err(e) => {
            let addr = display_addr(&args.host, args.port);
            eprintln!("socklab: cannot reach {addr}: {}", describe(&e));
            return ExitCode::from(super::EXIT_CONNECT);
        }
    };
    match join(&socket, &args.nick, &trace) {
        Ok(Ok(welcome)) => println!("{welcome}"),
        Ok(Err(code)) => return code,
        Err(e) => {
            let addr = display_addr(&args.host, args.port);
            let hint = super::conn::start_hint(service::CHAT, &args.host, args.port);
            eprintln!("socklab: cannot reach the chat at {addr}: {e} ({hint})");
            return ExitCode::from(super::EXIT_CONNECT);
        }
    }
    let ping_every = args.ping_every_ms.map_or(PING_EVERY, Duration::from_millis);
    match chat(socket, trace, ping_every, &args.nick) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("socklab: chat: {}", describe(&e));
            ExitCode::from(super::EXIT_FAILURE)
        }
    }
}

/// A UDP socket connected to the server, so only its datagrams are received.
fn open(host: &str, port: u16) -> io::Result<UdpSocket> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the name has no address");
    for addr in (bare, port).to_socket_addrs()? {
        let local: SocketAddr = if addr.is_ipv4() {
            "0.0.0.0:0".parse().expect("literal")
        } else {
            "[::]:0".parse().expect("literal")
        };
        match UdpSocket::bind(local).and_then(|s| s.connect(addr).map(|()| s)) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Send `JOIN` until the server answers. `Ok(Ok(line to show))`, `Ok(Err(exit code))`
/// for a refusal (explained on stderr), `Err(why)` when nobody answers.
fn join(socket: &UdpSocket, nick: &str, trace: &Trace) -> Result<Result<String, ExitCode>, String> {
    let request = Command::Join(nick).to_string();
    let mut buf = [0u8; RECV_BUF];
    for _ in 0..JOIN_TRIES {
        socket.send(request.as_bytes()).map_err(|e| describe(&e))?;
        trace.sent(request.len());
        let deadline = Instant::now() + JOIN_WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            socket
                .set_read_timeout(Some(left))
                .map_err(|e| describe(&e))?;
            let n = match socket.recv(&mut buf) {
                Ok(n) => n,
                Err(e) if is_timeout(&e) => break,
                // ICMP "port unreachable": nothing listens there.
                Err(e) => return Err(describe(&e)),
            };
            trace.received(n);
            match parse_reply(&buf[..n]) {
                Ok(Reply::Welcome { nick, count }) => {
                    return Ok(Ok(format!("joined as {nick} ({count} online)")));
                }
                // Our JOIN was asked again because its WELCOME was lost: we are in.
                Ok(Reply::Error("already-joined")) => return Ok(Ok(format!("joined as {nick}"))),
                Ok(Reply::Error(code)) => {
                    eprintln!("socklab: chat: {}", explain(code, nick));
                    return Ok(Err(ExitCode::from(super::EXIT_FAILURE)));
                }
                // Anything else (a relay from an earlier life of this port): keep waiting.
                _ => {}
            }
        }
    }
    Err(format!("no answer to JOIN after {JOIN_TRIES} tries"))
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// What other members wrote, safe for a terminal: control characters (ESC, BEL, CR,
/// newlines...) and invisible or direction-changing ones (U+200B, U+202E...) are shown
/// escaped (`\u{1b}`, `\u{202e}`), so a message cannot move the cursor, retitle the
/// window, fake a line from someone else or hide and reorder what it says, even through
/// a server that relays what §6 forbids. Tabs stay.
fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let shown_raw = |c: char| c == '\t' || !is_unsafe(c);
    if text.chars().all(shown_raw) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if shown_raw(c) {
            out.push(c);
        } else {
            out.extend(c.escape_default());
        }
    }
    out.into()
}

/// Why a typed line cannot be sent (§6 refuses it), in words; `None` when it can.
fn refused(text: &str) -> Option<String> {
    let c = text.chars().find(|&c| c != '\t' && is_unsafe(c))?;
    let what = if is_invisible(c) {
        "an invisible or direction-changing character"
    } else {
        "a control character"
    };
    Some(format!(
        "message not sent: it holds U+{:04X} ({what}), which the chat does not relay",
        u32::from(c)
    ))
}

/// A datagram from the server, as shown to the person chatting.
#[derive(Debug, PartialEq, Eq)]
enum Shown {
    /// A line for stdout.
    Line(String),
    /// An explanation for stderr.
    Problem(String),
    /// Nothing to show (`PONG`).
    Nothing,
}

/// How the terminal shows `datagram` (see the module's table).
fn show(datagram: &[u8], nick: &str) -> Shown {
    match parse_reply(datagram) {
        Ok(Reply::Pong) => Shown::Nothing,
        Ok(Reply::Error(code)) => Shown::Problem(explain(code, nick)),
        Ok(Reply::Welcome { nick, count }) => {
            Shown::Line(format!("joined as {nick} ({count} online)"))
        }
        Ok(Reply::Who(nicks)) => {
            let list: Vec<&str> = nicks.iter().collect();
            if list.is_empty() {
                Shown::Line("online: nobody".into())
            } else {
                Shown::Line(format!("online: {}", list.join(", ")))
            }
        }
        Ok(Reply::Message { nick, text }) => Shown::Line(format!("{nick}: {}", printable(text))),
        // `* bob joined` / `left` / `timed out` read well as they are; so does
        // anything that is not §6, shown as it came (escaped).
        _ => Shown::Line(printable(&String::from_utf8_lossy(datagram)).into_owned()),
    }
}

/// An `ERR` code in words.
fn explain(code: &str, nick: &str) -> String {
    match code {
        "nick-taken" => format!("the nick {nick} is taken; choose another with --nick"),
        "bad-nick" => format!("the server does not accept the nick {nick}"),
        "busy" => "the chat is full, or has as many members from your address as it allows; \
                   try again later"
            .into(),
        "already-joined" => "you are already in the chat".into(),
        "join-first" => "you are no longer in the chat (timed out?); restart to join again".into(),
        "bad-message" => "the server refused a message: too long, not UTF-8, or holding a \
                          control or invisible character"
            .into(),
        "bad-command" => "the server did not understand a command".into(),
        other => format!("the server says ERR {}", printable(other)),
    }
}

/// The conversation after `WELCOME`.
fn chat(socket: UdpSocket, trace: Trace, ping_every: Duration, nick: &str) -> io::Result<()> {
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let socket = socket.try_clone()?;
        let (done, trace, nick) = (done.clone(), trace.clone(), nick.to_owned());
        thread::Builder::new()
            .name("socklab-chat-reader".into())
            .spawn(move || read_loop(&socket, &done, &trace, ping_every, &nick))?
    };
    let send = |text: &str| -> io::Result<()> {
        socket.send(text.as_bytes())?;
        trace.sent(text.len());
        Ok(())
    };
    let stdin = io::stdin();
    let mut line = String::new();
    loop {
        line.clear();
        if stdin.lock().read_line(&mut line)? == 0 {
            break;
        }
        let text = line.trim_end_matches(['\n', '\r']);
        match text {
            "" => {}
            "/quit" => break,
            "/who" => send(&Command::Who.to_string())?,
            _ if text.len() + 4 > MAX_DATAGRAM => eprintln!(
                "socklab: chat: message not sent: {} bytes, at most {} fit in one datagram",
                text.len(),
                MAX_DATAGRAM - 4
            ),
            _ if refused(text).is_some() => {
                eprintln!("socklab: chat: {}", refused(text).unwrap_or_default());
            }
            _ => send(&Command::Msg(text).to_string())?,
        }
    }
    send(&Command::Leave.to_string())?;
    done.store(true, Ordering::Release);
    let _ = reader.join();
    Ok(())
}

/// Print what arrives; PING every `ping_every`; stop once `done` is set.
fn read_loop(
    socket: &UdpSocket,
    done: &AtomicBool,
    trace: &Trace,
    ping_every: Duration,
    nick: &str,
) {
    let mut buf = [0u8; RECV_BUF];
    let mut last_ping = Instant::now();
    // Short read timeouts so `/quit` is not held up and the PING is on time.
    let tick = Duration::from_millis(200).min(ping_every.max(Duration::from_millis(10)));
    let _ = socket.set_read_timeout(Some(tick));
    while !done.load(Ordering::Acquire) {
        if last_ping.elapsed() >= ping_every {
            if socket.send(b"PING").is_ok() {
                trace.sent(4);
            }
            last_ping = Instant::now();
        }
        let n = match socket.recv(&mut buf) {
            Ok(n) => n,
            Err(e) if is_timeout(&e) => continue,
            Err(e) => {
                // The server went away (ICMP unreachable); keep trying, it may return.
                trace.log(format_args!("receive failed: {}", describe(&e)));
                thread::sleep(Duration::from_millis(200));
                continue;
            }
        };
        trace.received(n);
        match show(&buf[..n], nick) {
            Shown::Nothing => {}
            Shown::Problem(why) => eprintln!("socklab: chat: {why}"),
            Shown::Line(line) => {
                let mut out = io::stdout().lock();
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Shown, printable, refused, show};

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(printable("bob: hi\tthere"), "bob: hi\tthere");
        assert_eq!(
            printable("eve: \u{1b}]0;owned\u{7}\r\nann: fake\u{9b}2J"),
            "eve: \\u{1b}]0;owned\\u{7}\\r\\nann: fake\\u{9b}2J"
        );
        assert_eq!(printable("x\u{202e}gnp.exe"), "x\\u{202e}gnp.exe");
    }

    #[test]
    fn datagrams_become_human_lines() {
        let line = |s: &str| Shown::Line(s.into());
        assert_eq!(
            show(b"WELCOME ann 3", "ann"),
            line("joined as ann (3 online)")
        );
        assert_eq!(show(b"WHO ann bob cy", "ann"), line("online: ann, bob, cy"));
        assert_eq!(show(b"WHO", "ann"), line("online: nobody"));
        assert_eq!(show(b"bob: hi\tall", "ann"), line("bob: hi\tall"));
        assert_eq!(show(b"* bob joined", "ann"), line("* bob joined"));
        assert_eq!(show(b"* bob timed out", "ann"), line("* bob timed out"));
        assert_eq!(show(b"PONG", "ann"), Shown::Nothing);
        assert_eq!(
            show(b"ERR already-joined", "ann"),
            Shown::Problem("you are already in the chat".into())
        );
        assert_eq!(
            show(b"ERR \x1b[2J", "ann"),
            Shown::Problem("the server says ERR \\u{1b}[2J".into())
        );
        assert_eq!(
            show(b"hello \x1b[2J", "ann"),
            line("hello \\u{1b}[2J"),
            "not §6: shown as it came, escaped"
        );
        assert_eq!(
            show(b"ERR new-code", "ann"),
            Shown::Problem("the server says ERR new-code".into())
        );
    }

    #[test]
    fn refused_characters_are_named() {
        assert_eq!(refused("hi\tthere, ünïcödé 😀"), None);
        assert_eq!(
            refused("a\u{1b}[2J").as_deref(),
            Some(
                "message not sent: it holds U+001B (a control character), which the chat \
                 does not relay"
            )
        );
        assert_eq!(
            refused("x\u{202e}gnp.exe").as_deref(),
            Some(
                "message not sent: it holds U+202E (an invisible or direction-changing \
                 character), which the chat does not relay"
            )
        );
    }
}
