//! The status page (PROTOCOLS.md §8, embedded targets only): `GET /` on TCP 80 answers a
//! short plain-text page; any other path gets 404.
//!
//! This is the one piece of protocol the embedded crate states itself, because only
//! embedded targets serve it; it is written as a core [`Session`] so the same TCP pool
//! drives it, and it reuses core's §0 line reader for the request head. Core's HTTP
//! module is the client's (it parses responses); the request line is parsed here because
//! the boards are the only HTTP servers, and a `GET /` needs no more than a split on
//! spaces.

use crate::config::NetConfig;
use crate::service::{Setup, Snapshot};
use crate::tcp::{Start, TcpService};
use core::fmt::Write;
use heapless::String;
use smoltcp::wire::IpEndpoint;
use socklab_core::line::{LineReader, MAX_LINE_BUF};
use socklab_core::outbuf::OutBuf;
use socklab_core::service::{STATUS, ServiceInfo, Transport};
use socklab_core::session::Idle;
use socklab_core::{CloseReason, Duration, Instant, Session};

/// Room for the page body.
pub const BODY_CAP: usize = 512;
/// Room for the whole response: head plus body.
const RESPONSE_CAP: usize = BODY_CAP + 160;

/// The page text, rendered when the connection opens.
pub type Body = String<BODY_CAP>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reply {
    Page,
    NotFound,
    BadMethod,
    BadRequest,
}

#[derive(Debug)]
enum State {
    RequestLine,
    /// Skipping header lines until the empty line that ends the head.
    Headers(Reply),
    Done,
}

/// One status-page request.
#[derive(Debug)]
pub struct StatusPage {
    body: Body,
    lines: LineReader<MAX_LINE_BUF>,
    state: State,
    out: OutBuf<RESPONSE_CAP>,
    close: Option<CloseReason>,
}

impl StatusPage {
    /// A request whose `GET /` will be answered with `body`.
    pub fn new(body: Body) -> Self {
        StatusPage {
            body,
            lines: LineReader::new(),
            state: State::RequestLine,
            out: OutBuf::new(),
            close: None,
        }
    }

    fn respond(&mut self, reply: Reply, reason: CloseReason) {
        let (status, body): (&str, &str) = match reply {
            Reply::Page => ("200 OK", &self.body),
            Reply::NotFound => ("404 Not Found", "not found\n"),
            Reply::BadMethod => ("405 Method Not Allowed", "only GET is served\n"),
            Reply::BadRequest => ("400 Bad Request", "bad request\n"),
        };
        let allow = if reply == Reply::BadMethod {
            "Allow: GET\r\n"
        } else {
            ""
        };
        // RESPONSE_CAP leaves room for the longest head, so this cannot be cut short.
        let _ = write!(
            self.out,
            "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Length: {}\r\n{allow}Connection: close\r\n\r\n{body}",
            body.len()
        );
        self.state = State::Done;
        self.close = Some(reason);
    }
}

/// `GET / HTTP/1.1` → what to answer, and whether a head follows (HTTP/1.x) or not
/// (a bare `GET /`, as HTTP/0.9 and `printf 'GET /\n' | nc` send it).
fn request_line(line: &[u8]) -> (Reply, bool) {
    let mut parts = line.split(|&b| b == b' ').filter(|p| !p.is_empty());
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return (Reply::BadRequest, false);
    };
    let has_head = parts.next().is_some_and(|v| v.starts_with(b"HTTP/1."));
    let reply = match (method, target) {
        (b"GET", b"/") => Reply::Page,
        (b"GET", _) => Reply::NotFound,
        _ => Reply::BadMethod,
    };
    (reply, has_head)
}

impl Session for StatusPage {
    fn handle_input(&mut self, _now: Instant, input: &[u8]) -> usize {
        let mut used = 0;
        while self.close.is_none() && used < input.len() {
            let step = self.lines.next_line(&input[used..]);
            used += step.consumed;
            let line = match step.line {
                None => break,
                Some(Ok(line)) => line,
                Some(Err(socklab_core::line::LineError::InvalidUtf8)) => b"?",
                Some(Err(_)) => {
                    self.respond(Reply::BadRequest, CloseReason::ProtocolError);
                    break;
                }
            };
            match self.state {
                State::RequestLine => match request_line(line) {
                    (reply, true) => self.state = State::Headers(reply),
                    (reply, false) => self.respond(reply, CloseReason::Finished),
                },
                State::Headers(reply) if line.is_empty() => {
                    self.respond(reply, CloseReason::Finished);
                }
                State::Headers(_) | State::Done => {}
            }
        }
        if self.close.is_some() {
            return input.len();
        }
        used
    }

    fn handle_eof(&mut self, _now: Instant) {
        match self.state {
            // A head cut off after a valid request line: answer it anyway, as servers
            // commonly do for `printf 'GET / HTTP/1.0\n' | nc` (no empty line).
            State::Headers(reply) => self.respond(reply, CloseReason::PeerClosed),
            State::RequestLine if self.close.is_none() => {
                self.close = Some(CloseReason::PeerClosed);
            }
            _ => {}
        }
    }

    fn poll_output(&mut self, buf: &mut [u8]) -> usize {
        self.out.pop_into(buf)
    }

    fn close_reason(&self) -> Option<CloseReason> {
        self.close
    }

    fn wants_output(&self) -> bool {
        !self.out.is_empty()
    }
}

/// The §8 status page as a TCP service: the page is rendered when the connection opens.
#[derive(Debug)]
pub struct StatusService {
    net: NetConfig,
    idle: Duration,
}

impl TcpService for StatusService {
    type Session = Idle<StatusPage>;
    const INFO: ServiceInfo = STATUS;
    const REPORTS: bool = true;

    fn open(&mut self, now: Instant, _peer: IpEndpoint, snapshot: &Snapshot) -> Self::Session {
        Idle::new(StatusPage::new(render(&self.net, snapshot)), now, self.idle)
    }
}

impl Start<'_> for StatusService {
    type Shared = ();
    const SHARED: () = ();

    fn start(setup: &Setup, _: &()) -> Self {
        StatusService {
            net: setup.net,
            idle: setup.config.idle_timeout,
        }
    }
}

/// The page text. Every line is `key: value`, so a script can grep it.
fn render(net: &NetConfig, snapshot: &Snapshot) -> Body {
    let mut body = Body::new();
    let ms = snapshot.uptime.total_millis();
    // BODY_CAP holds this with room to spare; a cut-off page would still be valid text.
    let _ = writeln!(body, "socklab-embedded {}", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(body, "uptime: {}.{:03} s", ms / 1000, ms % 1000);
    let _ = writeln!(body, "address: {}", net.ip);
    if let Some(gw) = net.gateway {
        let _ = writeln!(body, "gateway: {gw}");
    }
    let _ = writeln!(body, "mac: {}", net.mac);
    for s in snapshot.services {
        let (name, port, max, open) = (s.info.name, s.info.port, s.limit, s.open);
        let (proto, what) = match s.info.transport {
            Transport::Tcp => ("tcp", "open"),
            Transport::Udp => ("udp", "members online"),
        };
        let _ = writeln!(body, "service: {name} {proto} {port} {what} {open}/{max}");
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::Load;
    use socklab_core::service::{CHAT, ECHO, FILES, QUIZ};

    #[test]
    fn page_lists_address_and_every_service() {
        let load = |info, limit, open| Load { info, limit, open };
        let snapshot = Snapshot {
            uptime: Duration::from_millis(61_005),
            services: &[
                load(&ECHO, 2, 1),
                load(&QUIZ, 3, 0),
                load(&FILES, 2, 0),
                load(&STATUS, 1, 1),
                load(&CHAT, 8, 2),
            ],
        };
        let body = render(&NetConfig::QEMU_USER, &snapshot);
        assert!(body.contains("uptime: 61.005 s\n"), "{body}");
        assert!(
            body.contains("address: 10.0.2.15/24\ngateway: 10.0.2.2\n"),
            "{body}"
        );
        assert!(body.contains("service: echo tcp 9090 open 1/2\n"), "{body}");
        assert!(
            body.contains("service: quiz tcp 31337 open 0/3\n"),
            "{body}"
        );
        assert!(
            body.contains("service: files tcp 8020 open 0/2\n"),
            "{body}"
        );
        assert!(body.contains("service: status tcp 80 open 1/1\n"), "{body}");
        assert!(
            body.contains("service: chat udp 9093 members online 2/8\n"),
            "{body}"
        );
    }

    fn exchange(request: &[u8]) -> heapless::Vec<u8, RESPONSE_CAP> {
        let mut body = Body::new();
        body.push_str("hello\n").unwrap();
        let mut page = StatusPage::new(body);
        // Byte by byte, as a slow client sends it.
        for b in request.chunks(1) {
            assert_eq!(page.handle_input(Instant::ZERO, b), 1);
        }
        page.handle_eof(Instant::ZERO);
        let mut out = heapless::Vec::new();
        let mut buf = [0u8; 64];
        loop {
            let n = page.poll_output(&mut buf);
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]).unwrap();
        }
        out
    }

    fn status_line(response: &[u8]) -> &[u8] {
        response.split(|&b| b == b'\r').next().unwrap()
    }

    #[test]
    fn get_root_is_the_page() {
        let r = exchange(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(status_line(&r), b"HTTP/1.1 200 OK");
        assert!(r.ends_with(b"\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n"));
    }

    #[test]
    fn other_paths_and_methods() {
        let not_found = exchange(b"GET /x HTTP/1.0\n\n");
        assert_eq!(status_line(&not_found), b"HTTP/1.1 404 Not Found");
        let post = exchange(b"POST / HTTP/1.1\r\n\r\n");
        assert_eq!(status_line(&post), b"HTTP/1.1 405 Method Not Allowed");
        assert_eq!(status_line(&exchange(b"\n")), b"HTTP/1.1 400 Bad Request");
    }

    #[test]
    fn bare_and_cut_off_requests_are_answered() {
        assert_eq!(status_line(&exchange(b"GET /\n")), b"HTTP/1.1 200 OK");
        assert_eq!(
            status_line(&exchange(b"GET / HTTP/1.0\n")),
            b"HTTP/1.1 200 OK"
        );
        assert!(exchange(b"GET / HT").is_empty());
    }
}
