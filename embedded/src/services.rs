//! The TCP services the stack runs, each a [`TcpService`] that only picks the core
//! session and its settings (files is in [`crate::files`], chat, on UDP, in
//! [`crate::chat`]). Adding one is a new impl here, its buffers in [`crate::storage`]
//! and one pool in [`crate::Stack`].

use crate::config::{NetConfig, port};
use crate::status::{Body, StatusPage};
use crate::storage::ECHO_QUEUE;
use crate::tcp::{Snapshot, TcpService};
use core::fmt::Write;
use smoltcp::wire::IpEndpoint;
use socklab_core::echo::{Echo, EchoConfig};
use socklab_core::quiz::{Quiz, QuizConfig};
use socklab_core::rng::{Rng, SplitMix64};
use socklab_core::session::Idle;
use socklab_core::{Duration, Instant};

/// §1 echo with the lab's defaults; no `--allow-stop` (a board has no one to restart it).
#[derive(Debug)]
pub struct EchoService {
    pub(crate) idle: Duration,
}

impl TcpService for EchoService {
    type Session = Idle<Echo<ECHO_QUEUE>>;
    const NAME: &'static str = "echo";
    const PORT: u16 = port::ECHO;

    fn open(&mut self, now: Instant, _peer: IpEndpoint, _: &Snapshot) -> Self::Session {
        Idle::new(Echo::new(EchoConfig::default()), now, self.idle)
    }
}

/// §2 quiz with the lab's defaults (10 problems, 0..=999, 60 s per answer).
#[derive(Debug)]
pub struct QuizService {
    pub(crate) idle: Duration,
    pub(crate) seed: Option<u64>,
    /// Advances once per session, so unseeded players get different problems even
    /// when they connect in the same millisecond.
    pub(crate) entropy: SplitMix64,
}

impl TcpService for QuizService {
    type Session = Idle<Quiz<SplitMix64>>;
    const NAME: &'static str = "quiz";
    const PORT: u16 = port::QUIZ;

    fn open(&mut self, now: Instant, _peer: IpEndpoint, _: &Snapshot) -> Self::Session {
        let seed = self
            .seed
            .unwrap_or_else(|| self.entropy.next_u64() ^ now.total_millis());
        let quiz = Quiz::new(now, QuizConfig::default(), SplitMix64::new(seed));
        Idle::new(quiz, now, self.idle)
    }
}

/// The §8 status page.
#[derive(Debug)]
pub struct StatusService {
    pub(crate) net: NetConfig,
    pub(crate) idle: Duration,
}

impl TcpService for StatusService {
    type Session = Idle<StatusPage>;
    const NAME: &'static str = "status";
    const PORT: u16 = port::STATUS;

    fn open(&mut self, now: Instant, _peer: IpEndpoint, snapshot: &Snapshot) -> Self::Session {
        Idle::new(StatusPage::new(render(&self.net, snapshot)), now, self.idle)
    }
}

/// Index of chat in [`SERVICE_TABLE`]: its count is members online, on UDP.
pub const CHAT: usize = 4;

/// Name, port and session limit of every service, in the order of [`Snapshot::open`]
/// (for chat: members, see [`CHAT`]).
pub const SERVICE_TABLE: [(&str, u16, usize); crate::SERVICES] = [
    (
        EchoService::NAME,
        EchoService::PORT,
        crate::storage::ECHO_SESSIONS,
    ),
    (
        QuizService::NAME,
        QuizService::PORT,
        crate::storage::QUIZ_SESSIONS,
    ),
    (
        crate::files::FilesService::NAME,
        crate::files::FilesService::PORT,
        crate::storage::FILES_SESSIONS,
    ),
    (
        StatusService::NAME,
        StatusService::PORT,
        crate::storage::STATUS_SESSIONS,
    ),
    (
        "chat",
        crate::config::port::CHAT,
        crate::storage::CHAT_MEMBERS,
    ),
];

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
    for (i, ((name, port, max), open)) in SERVICE_TABLE.iter().zip(snapshot.open).enumerate() {
        let (proto, what) = if i == CHAT {
            ("udp", "members online")
        } else {
            ("tcp", "open")
        };
        let _ = writeln!(body, "service: {name} {proto} {port} {what} {open}/{max}");
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_lists_address_and_every_service() {
        let snapshot = Snapshot {
            uptime: Duration::from_millis(61_005),
            open: [1, 0, 0, 1, 2],
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
}
