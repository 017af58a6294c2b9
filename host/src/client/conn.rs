//! What every client does around its protocol: connect with a message a person can act
//! on, and the `-v` trace of §0 (connect, send, receive, disconnect) on stderr.

use std::fmt;
use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use crate::os_error::describe;
use socklab_core::service::ServiceInfo;

/// Per-address connect timeout. Without one, a name whose first address silently drops
/// packets (a dead IPv6 route, a firewalled host) would hang for the OS default of
/// minutes before the next address is tried.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// `host:port`, with IPv6 literals in brackets (`[::1]:9090`), as people write it.
pub fn display_addr(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Why [`connect`] failed: the message names the address, as in
/// `cannot connect to 127.0.0.1:9090: connection refused`, and when nothing listens
/// there it says what to do about it (see [`ConnectError::serve_hint`]).
#[derive(Debug)]
pub struct ConnectError {
    addr: String,
    reason: String,
    /// Every address refused the connection: the host is up, nothing listens there.
    refused: bool,
    hint: Option<String>,
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot connect to {}: {}", self.addr, self.reason)?;
        match &self.hint {
            Some(hint) => write!(f, " ({hint})"),
            None => Ok(()),
        }
    }
}

impl ConnectError {
    /// "Connection refused" is what a student sees who forgot to start the server; say
    /// so, and which command starts the server this client talks to (`service`).
    pub fn serve_hint(mut self, service: ServiceInfo, host: &str, port: u16) -> Self {
        if self.refused {
            self.hint = Some(start_hint(service, host, port));
        }
        self
    }

    /// For a server socklab does not run (`get`'s web servers): the question only.
    pub fn running_hint(mut self) -> Self {
        if self.refused {
            self.hint = Some("is the server running?".to_owned());
        }
        self
    }
}

/// `is the server running? start it with: socklab serve echo`, with the `--host` and
/// `--port` that would make that server reachable at `host`:`port`: none for the
/// default 127.0.0.1 (or `localhost`, which reaches it), the address itself for another
/// local one (`::1`), and all addresses for another machine, where it must run.
pub fn start_hint(service: ServiceInfo, host: &str, port: u16) -> String {
    let mut cmd = format!("socklab serve {}", service.name);
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let ip = bare.parse::<std::net::IpAddr>().ok();
    let default_host =
        bare.eq_ignore_ascii_case("localhost") || ip == Some(std::net::Ipv4Addr::LOCALHOST.into());
    let local = default_host || ip.is_some_and(|ip| ip.is_loopback());
    if !default_host {
        let listen = match ip {
            Some(ip) if local => ip.to_string(),
            Some(std::net::IpAddr::V6(_)) => "::".to_owned(),
            _ => "0.0.0.0".to_owned(),
        };
        cmd.push_str(&format!(" --host {listen}"));
    }
    if port != service.port {
        cmd.push_str(&format!(" --port {port}"));
    }
    if local {
        format!("is the server running? start it with: {cmd}")
    } else {
        format!("is the server running there? start it there with: {cmd}")
    }
}

impl std::error::Error for ConnectError {}

/// One `read`, retried when a signal interrupts it, with an error that says what failed
/// in the words the clients print (`cannot receive: connection reset by peer`).
pub fn recv(mut sock: impl std::io::Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match sock.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot receive: {}", describe(&e)),
                ));
            }
            ok => return ok,
        }
    }
}

/// The start of every line-protocol client: a [`Trace`] for `-v` and a connection to
/// the server of `service`, or the exit code after the reason was printed (`socklab:
/// cannot connect to ...`).
pub fn open_or_exit(
    service: ServiceInfo,
    host: &str,
    port: u16,
    verbose: u8,
) -> Result<(TcpStream, Trace), std::process::ExitCode> {
    let trace = Trace::new(verbose, &display_addr(host, port));
    match connect(host, port, &trace) {
        Ok(s) => Ok((s, trace)),
        Err(e) => {
            let e = e.serve_hint(service, host, port);
            eprintln!("socklab: {e}");
            Err(std::process::ExitCode::from(super::EXIT_CONNECT))
        }
    }
}

/// Resolve `host` (a name, an IPv4 or an IPv6 address) and connect to the first address
/// that answers, as `nc` does.
pub fn connect(host: &str, port: u16, trace: &Trace) -> Result<TcpStream, ConnectError> {
    connect_within(host, port, CONNECT_TIMEOUT, trace)
}

/// [`connect`] with a per-address timeout of the caller's choosing (`get --timeout`).
pub fn connect_within(
    host: &str,
    port: u16,
    timeout: Duration,
    trace: &Trace,
) -> Result<TcpStream, ConnectError> {
    let addr = display_addr(host, port);
    // A bracketed IPv6 literal is accepted too, since that is how it is printed.
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let fail = |reason: String, refused: bool| ConnectError {
        addr: addr.clone(),
        reason,
        refused,
        hint: None,
    };
    let candidates = (bare, port)
        .to_socket_addrs()
        .map_err(|e| fail(describe(&e), false))?;
    let mut last = None;
    for sock in candidates {
        match TcpStream::connect_timeout(&sock, timeout) {
            Ok(stream) => {
                trace.log(format_args!("connected (address {sock})"));
                return Ok(stream);
            }
            Err(e) => {
                // A name may have several addresses; say why each one was passed over.
                trace.log(format_args!("cannot connect to {sock}: {}", describe(&e)));
                last = Some(e);
            }
        }
    }
    Err(match last {
        Some(e) => fail(describe(&e), e.kind() == io::ErrorKind::ConnectionRefused),
        None => fail("the name has no address".to_owned(), false),
    })
}

/// The client side of §0's event log: with `-v`, one stderr line per connect, chunk
/// sent, chunk received and disconnect, each naming the server. Cheap to clone into the
/// thread that owns the other direction of the socket.
#[derive(Debug, Clone)]
pub struct Trace {
    verbose: bool,
    peer: Arc<str>,
}

impl Trace {
    /// A trace for the conversation with `peer` (`host:port`); silent unless
    /// `verbose > 0`.
    pub fn new(verbose: u8, peer: &str) -> Self {
        Trace {
            verbose: verbose > 0,
            peer: peer.into(),
        }
    }

    /// Log one event, if verbose.
    pub fn log(&self, event: fmt::Arguments<'_>) {
        if self.verbose {
            eprintln!("socklab: {}: {event}", self.peer);
        }
    }

    /// `sent N bytes`.
    pub fn sent(&self, n: usize) {
        self.log(format_args!("sent {n} bytes"));
    }

    /// `received N bytes`.
    pub fn received(&self, n: usize) {
        self.log(format_args!("received {n} bytes"));
    }

    /// `disconnected (why)`.
    pub fn disconnected(&self, why: &str) {
        self.log(format_args!("disconnected ({why})"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use socklab_core::service;

    #[test]
    fn addresses_print_like_people_write_them() {
        assert_eq!(display_addr("127.0.0.1", 9090), "127.0.0.1:9090");
        assert_eq!(display_addr("::1", 9090), "[::1]:9090");
        assert_eq!(display_addr("localhost", 1), "localhost:1");
    }

    /// Each (service, host, port) gets the hint `prefix` followed by `flags`.
    fn hints(prefix: &str, cases: &[(ServiceInfo, &str, u16, &str)]) {
        for &(service, host, port, flags) in cases {
            assert_eq!(start_hint(service, host, port), format!("{prefix} {flags}"));
        }
    }

    #[test]
    fn hint_adds_only_the_flags_that_differ_from_the_defaults() {
        hints(
            "is the server running? start it with: socklab serve",
            &[
                (service::ECHO, "127.0.0.1", 9090, "echo"),
                (service::QUIZ, "localhost", 31337, "quiz"),
                (service::FILES, "LOCALHOST", 9090, "files --port 9090"),
                (service::AUTH, "[::1]", 9092, "auth --host ::1"),
                (service::IDENT, "127.0.0.2", 9091, "ident --host 127.0.0.2"),
            ],
        );
    }

    #[test]
    fn another_machine_must_listen_on_the_network() {
        hints(
            "is the server running there? start it there with: socklab serve",
            &[
                (service::ECHO, "192.168.69.1", 9090, "echo --host 0.0.0.0"),
                (service::CHAT, "lab.example", 9093, "chat --host 0.0.0.0"),
                (
                    service::QUIZ,
                    "2001:db8::1",
                    4000,
                    "quiz --host :: --port 4000",
                ),
            ],
        );
    }
}
