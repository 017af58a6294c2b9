//! What every client does around its protocol: connect with a message a person can act
//! on, and the `-v` trace of §0 (connect, send, receive, disconnect) on stderr.

use std::fmt;
use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use crate::os_error::describe;

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
/// `cannot connect to 127.0.0.1:9090: connection refused`.
#[derive(Debug)]
pub struct ConnectError {
    addr: String,
    reason: String,
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot connect to {}: {}", self.addr, self.reason)
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

/// The start of every line-protocol client: a [`Trace`] for `-v` and a connection, or
/// the exit code after the reason was printed (`socklab: cannot connect to ...`).
pub fn open_or_exit(
    host: &str,
    port: u16,
    verbose: u8,
) -> Result<(TcpStream, Trace), std::process::ExitCode> {
    let trace = Trace::new(verbose, &display_addr(host, port));
    match connect(host, port, &trace) {
        Ok(s) => Ok((s, trace)),
        Err(e) => {
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
    let fail = |reason: String| ConnectError {
        addr: addr.clone(),
        reason,
    };
    let candidates = (bare, port)
        .to_socket_addrs()
        .map_err(|e| fail(describe(&e)))?;
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
    Err(fail(match last {
        Some(e) => describe(&e),
        None => "the name has no address".to_owned(),
    }))
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

    #[test]
    fn addresses_print_like_people_write_them() {
        assert_eq!(display_addr("127.0.0.1", 9090), "127.0.0.1:9090");
        assert_eq!(display_addr("::1", 9090), "[::1]:9090");
        assert_eq!(display_addr("localhost", 1), "localhost:1");
    }
}
