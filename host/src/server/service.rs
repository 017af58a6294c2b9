//! What the event loop needs to know about a service: its name, its default port, how
//! large a chunk to read, and how to open a core session for a new connection.
//!
//! The loop itself knows nothing about echo or quiz. A new service (files, ident, auth)
//! slots in by implementing [`Service`] and adding itself to the list that `serve all`
//! builds; the loop, the log and the CLI's shared flags stay as they are.

use socklab_core::echo::{Echo, EchoConfig};
use socklab_core::quiz::{Quiz, QuizConfig};
use socklab_core::rng::SplitMix64;
use socklab_core::session::{Idle, Session};
use socklab_core::{Duration, Instant};

use super::wake::Wake;

/// Output queue of one echo session, in bytes.
///
/// Each connection owns its session inline, so this is most of an idle connection's
/// memory. 1 KiB equals the default `--chunk`, so one read is answered by one pass
/// through the session, and the loop gathers several passes into one `write`, so a
/// bigger queue buys no speed and costs every idle connection what it adds
/// (BENCHMARKS.md, "Figures behind constants in the code").
pub const ECHO_QUEUE: usize = 1024;

/// A service the event loop can serve on a listener.
pub trait Service: Send {
    /// The name used in the log and in `serve <name>`.
    fn name(&self) -> &'static str;

    /// The port of §0's table.
    fn default_port(&self) -> u16;

    /// How many bytes to read from a socket at a time.
    fn chunk(&self) -> usize;

    /// Whether `-vv` may dump this service's payloads. False for services whose bytes
    /// carry secrets (auth), so the shared log never records a password or token.
    fn dump_payloads(&self) -> bool {
        true
    }

    /// A fresh session for a connection accepted at `now`, already wrapped in the idle
    /// timeout of §0. `wake` is for sessions that hand work to other threads (the
    /// worker [`Pool`](crate::pool::Pool)): it makes the loop that ends up serving the
    /// connection drive it again when that work is done. Services that do all their
    /// work on the loop ignore it.
    fn open(&mut self, now: Instant, wake: Wake) -> Box<dyn Session + Send>;

    /// [`open`](Self::open) for a connection from `peer`; this is what the loop calls.
    /// Services whose protocol depends on who is calling override it (ident greets by
    /// IP address, auth throttles failed logins per address); the others need not know
    /// the address.
    fn open_from(
        &mut self,
        now: Instant,
        peer: std::net::SocketAddr,
        wake: Wake,
    ) -> Box<dyn Session + Send> {
        let _ = peer;
        self.open(now, wake)
    }

    /// Bytes sent to a connection refused over `--max-conns` before it is closed
    /// (§0: files and auth send `ERR busy server full`, the others nothing).
    fn refusal(&self) -> &'static [u8] {
        b""
    }
}

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
    fn name(&self) -> &'static str {
        "echo"
    }

    fn default_port(&self) -> u16 {
        9090
    }

    fn chunk(&self) -> usize {
        self.chunk
    }

    fn open(&mut self, now: Instant, _wake: Wake) -> Box<dyn Session + Send> {
        Box::new(Idle::new(
            Echo::<ECHO_QUEUE>::new(self.config),
            now,
            self.idle,
        ))
    }
}

/// `serve quiz` (§2).
#[derive(Debug, Clone)]
pub struct QuizService {
    /// Protocol flags, already validated by [`QuizConfig::new`].
    pub config: QuizConfig,
    /// `--seed`: every session replays the same problems; `None` draws a fresh seed per
    /// session from the OS-seeded thread RNG.
    pub seed: Option<u64>,
    /// `--idle-timeout`.
    pub idle: Duration,
}

impl QuizService {
    /// Answers are short lines: the §0 line limit is all a read ever needs.
    const CHUNK: usize = 1024;
}

impl Service for QuizService {
    fn name(&self) -> &'static str {
        "quiz"
    }

    fn default_port(&self) -> u16 {
        31337
    }

    fn chunk(&self) -> usize {
        Self::CHUNK
    }

    fn open(&mut self, now: Instant, _wake: Wake) -> Box<dyn Session + Send> {
        let seed = self.seed.unwrap_or_else(rand::random);
        let quiz = Quiz::new(now, self.config, SplitMix64::new(seed));
        Box::new(Idle::new(quiz, now, self.idle))
    }
}
