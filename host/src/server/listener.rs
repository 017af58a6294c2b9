//! Binding a service's port, with §0's `--port-auto` and its error messages.

use std::io;
use std::net::{IpAddr, SocketAddr};

use mio::net::TcpListener;

use crate::os_error::describe;

/// How many ports `--port-auto` tries, the requested one included.
pub const PORT_AUTO_TRIES: u16 = 100;

/// Why no port could be bound; its `Display` is the one-line message the user sees,
/// naming the service when the server has several (`cannot listen on 127.0.0.1:9090
/// (echo): address already in use`).
#[derive(Debug)]
pub struct BindError {
    host: IpAddr,
    first: u16,
    last: u16,
    error: io::Error,
    service: Option<&'static str>,
}

impl BindError {
    /// Name the service whose socket this was.
    pub fn service(mut self, name: &'static str) -> Self {
        self.service = Some(name);
        self
    }

    /// The port was taken (by another server), as opposed to not permitted or no such
    /// address.
    pub fn in_use(&self) -> bool {
        self.error.kind() == io::ErrorKind::AddrInUse
    }

    /// `--port-auto` tried every port up to [`PORT_AUTO_TRIES`] and all were taken.
    pub fn exhausted(&self) -> bool {
        self.first != self.last
    }
}

impl std::fmt::Display for BindError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let first = SocketAddr::new(self.host, self.first);
        write!(f, "cannot listen on {first}")?;
        if self.first != self.last {
            write!(f, " nor on any port up to {}", self.last)?;
        }
        if let Some(name) = self.service {
            write!(f, " ({name})")?;
        }
        write!(f, ": {}", bind_reason(&self.error))
    }
}

impl std::error::Error for BindError {}

/// Why a bind failed, in the words of a person. `EADDRNOTAVAIL` gets its meaning for a
/// listener spelled out (the OS says "cannot assign requested address"); everything
/// else reads as anywhere else.
fn bind_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::AddrNotAvailable => {
            "address not available (it is not an address of this machine)".into()
        }
        _ => describe(e),
    }
}

/// Bind `host:port`. With `auto`, a port already in use moves on to the next one, up to
/// [`PORT_AUTO_TRIES`] ports; any other error stops at once since the next port would
/// fail the same way. Port 0 lets the OS choose and never needs retrying.
pub fn bind(host: IpAddr, port: u16, auto: bool) -> Result<TcpListener, BindError> {
    bind_with(host, port, auto, TcpListener::bind)
}

/// [`bind`] for a UDP socket (chat, §6), with the same `--port-auto` rule and messages.
pub fn bind_udp(host: IpAddr, port: u16, auto: bool) -> Result<mio::net::UdpSocket, BindError> {
    bind_with(host, port, auto, mio::net::UdpSocket::bind)
}

fn bind_with<T>(
    host: IpAddr,
    port: u16,
    auto: bool,
    open: impl Fn(SocketAddr) -> io::Result<T>,
) -> Result<T, BindError> {
    let tries = if auto && port != 0 {
        PORT_AUTO_TRIES
    } else {
        1
    };
    let mut last = port;
    let mut error = None;
    for i in 0..tries {
        let Some(p) = port.checked_add(i) else { break };
        last = p;
        match open(SocketAddr::new(host, p)) {
            Ok(l) => return Ok(l),
            Err(e) => {
                let retry = e.kind() == io::ErrorKind::AddrInUse;
                error = Some(e);
                if !retry {
                    break;
                }
            }
        }
    }
    Err(BindError {
        host,
        first: port,
        last,
        error: error.unwrap_or_else(|| io::Error::other("no port left to try")),
        service: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn busy_port_is_named() {
        let held = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let port = held.local_addr().unwrap().port();
        let err = bind(IpAddr::V4(Ipv4Addr::LOCALHOST), port, false).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("cannot listen on 127.0.0.1:{port}: address already in use")
        );
    }

    #[test]
    fn port_auto_moves_on() {
        let held = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let port = held.local_addr().unwrap().port();
        if port == u16::MAX {
            return;
        }
        let l = bind(IpAddr::V4(Ipv4Addr::LOCALHOST), port, true).unwrap();
        assert!(l.local_addr().unwrap().port() > port);
    }
}
