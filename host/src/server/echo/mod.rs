//! `serve echo` (§1): the core [`Echo`] session, all its work done on the loop.
//!
//! * [`flags`] — `serve echo`'s flags and the service they build.

pub mod flags;

use std::net::SocketAddr;

use socklab_core::echo::{Echo, EchoConfig};
use socklab_core::service::{self, ServiceInfo};
use socklab_core::session::{Idle, Session};
use socklab_core::{Duration, Instant};

use super::service::Service;
use super::wake::Wake;

/// Output queue of one echo session, in bytes.
///
/// Each connection owns its session inline, so this is most of an idle connection's
/// memory. 1 KiB equals the default `--chunk`, so one read is answered by one pass
/// through the session, and the loop gathers several passes into one `write`, so a
/// bigger queue buys no speed and costs every idle connection what it adds
/// (BENCHMARKS.md, "Figures behind constants in the code").
pub const ECHO_QUEUE: usize = 1024;

/// `serve echo` (§1).
#[derive(Debug, Clone)]
pub struct EchoService {
    /// Protocol flags.
    pub config: EchoConfig,
    /// `--chunk`.
    pub chunk: usize,
    /// `--idle-timeout`.
    pub idle: Duration,
}

impl Service for EchoService {
    fn info(&self) -> ServiceInfo {
        service::ECHO
    }

    fn chunk(&self) -> usize {
        self.chunk
    }

    fn open(&mut self, now: Instant, _peer: SocketAddr, _wake: Wake) -> Box<dyn Session + Send> {
        Box::new(Idle::new(
            Echo::<ECHO_QUEUE>::new(self.config),
            now,
            self.idle,
        ))
    }
}
