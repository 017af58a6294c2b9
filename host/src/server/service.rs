//! What the event loop needs to know about a service: which row of §0's table it is,
//! how large a chunk to read, and how to open a core session for a new connection.
//!
//! The loop itself knows nothing about echo or quiz. A new service slots in by
//! implementing [`Service`] in a module of its own (its flags and their builder next to
//! it, in its `flags.rs`) and adding itself to the list that `serve all` builds; the
//! loop, the log and the CLI's shared flags stay as they are.

use std::net::SocketAddr;

use socklab_core::Instant;
use socklab_core::service::ServiceInfo;
use socklab_core::session::Session;

use super::wake::Wake;

/// A service the event loop can serve on a listener.
pub trait Service: Send {
    /// The service's row of §0's table (`socklab_core::service`): its name in the log
    /// and in `serve <name>`, and the port it listens on unless `--port` says otherwise.
    fn info(&self) -> ServiceInfo;

    /// How many bytes to read from a socket at a time.
    fn chunk(&self) -> usize;

    /// Whether `-vv` may dump this service's payloads. False for services whose bytes
    /// carry secrets (auth), so the shared log never records a password or token.
    fn dump_payloads(&self) -> bool {
        true
    }

    /// A fresh session for a connection from `peer` accepted at `now`, already wrapped
    /// in the idle timeout of §0. Services whose protocol depends on who is calling use
    /// `peer` (ident greets by IP address, auth throttles per address); the others
    /// ignore it. `wake` is for sessions that hand work to other threads (the worker
    /// [`Pool`](crate::pool::Pool)): it makes the loop that ends up serving the
    /// connection drive it again when that work is done.
    fn open(&mut self, now: Instant, peer: SocketAddr, wake: Wake) -> Box<dyn Session + Send>;

    /// Bytes sent to a connection refused over `--max-conns` before it is closed
    /// (§0: files and auth send `ERR busy server full`, the others nothing).
    fn refusal(&self) -> &'static [u8] {
        b""
    }
}
