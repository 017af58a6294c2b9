//! The one list of services the stack runs, each with its sizes: [`Services`]. The
//! socket count, the buffers and session room of [`crate::resources`], start-up,
//! polling, `poll_delay` and the status page all follow from it.
//!
//! Adding a TCP service is a [`TcpService`] and [`Start`] impl (its session type and
//! how one opens), one `Tcp<...>` line with its sizes below, and its name in the list.
//! The sizes decide the firmware's static RAM, so each is written next to its service.

use crate::chat::Chat;
use crate::files::{DISK_FILE_BYTES, Disk, FilesService};
use crate::service::{Service, Setup, Snapshot};
use crate::status::StatusService;
use crate::tcp::{Start, Tcp, TcpService};
use core::cell::RefCell;
use smoltcp::wire::IpEndpoint;
use socklab_core::echo::{self, EchoConfig};
use socklab_core::files::FilesConfig;
use socklab_core::quiz::{self, QuizConfig};
use socklab_core::rng::{Rng, SplitMix64};
use socklab_core::service::{ECHO, QUIZ, ServiceInfo};
use socklab_core::session::Idle;
use socklab_core::{Duration, Instant};

/// Every service, in the order of the status page, the ready lines and
/// [`crate::Stack::open_sessions`].
pub type Services<'a> = (Echo, (Quiz, (Files<'a>, (Status, (Chat, ())))));

/// §1 echo: 2 sessions; it moves the most data, so 1 KiB socket buffers each way.
pub type Echo = Tcp<EchoService, 2, 1024, 1024>;
/// §2 quiz: 3 players; its lines are short, so 512 bytes each way fit many.
pub type Quiz = Tcp<QuizService, 3, 512, 512>;
/// §3 files: 2 sessions, 1 KiB each way (a 4 KiB file moves in a few windows), on a
/// RAM disk of [`crate::files::DISK_FILES`] slots of [`DISK_FILE_BYTES`].
pub type Files<'a> = Tcp<FilesService<'a>, 2, 1024, 1024>;
/// The §8 status page: 1 request at a time; a request head rarely exceeds 512 bytes (a
/// longer one waits in the window), and the whole response fits in 1 KiB.
pub type Status = Tcp<StatusService, 1, 512, 1024>;
// §6 chat's sizes (8 members, its datagram buffers) are in `crate::chat`.

/// Echo's own output queue (`Echo<N>`): bytes taken from the socket but not yet sent.
pub const ECHO_QUEUE: usize = 512;

/// Services in the list.
pub const SERVICES: usize = <Services<'static> as Service<'static>>::COUNT;
/// smoltcp sockets: one per TCP session slot, and the chat's UDP socket.
pub const SOCKETS: usize = <Services<'static> as Service<'static>>::SOCKETS;

/// §1 echo with the lab's defaults; no `--allow-stop` (a board has no one to restart it).
#[derive(Debug)]
pub struct EchoService {
    idle: Duration,
}

impl TcpService for EchoService {
    type Session = Idle<echo::Echo<ECHO_QUEUE>>;
    const INFO: ServiceInfo = ECHO;

    fn open(&mut self, now: Instant, _peer: IpEndpoint, _: &Snapshot) -> Self::Session {
        Idle::new(echo::Echo::new(EchoConfig::default()), now, self.idle)
    }
}

impl Start<'_> for EchoService {
    type Shared = ();
    const SHARED: () = ();

    fn start(setup: &Setup, _: &()) -> Self {
        EchoService {
            idle: setup.config.idle_timeout,
        }
    }
}

/// §2 quiz with the lab's defaults (10 problems, 0..=999, 60 s per answer).
#[derive(Debug)]
pub struct QuizService {
    idle: Duration,
    seed: Option<u64>,
    /// Advances once per session, so unseeded players get different problems even
    /// when they connect in the same millisecond.
    entropy: SplitMix64,
}

impl TcpService for QuizService {
    type Session = Idle<quiz::Quiz<SplitMix64>>;
    const INFO: ServiceInfo = QUIZ;

    fn open(&mut self, now: Instant, _peer: IpEndpoint, _: &Snapshot) -> Self::Session {
        let seed = self
            .seed
            .unwrap_or_else(|| self.entropy.next_u64() ^ now.total_millis());
        let quiz = quiz::Quiz::new(now, QuizConfig::default(), SplitMix64::new(seed));
        Idle::new(quiz, now, self.idle)
    }
}

impl Start<'_> for QuizService {
    type Shared = ();
    const SHARED: () = ();

    fn start(setup: &Setup, _: &()) -> Self {
        QuizService {
            idle: setup.config.idle_timeout,
            seed: setup.config.quiz_seed,
            entropy: SplitMix64::new(setup.config.entropy),
        }
    }
}

/// Files on the board's RAM disk, which every files session shares.
impl<'a> Start<'a> for FilesService<'a> {
    type Shared = RefCell<Disk>;
    // Copied once, into the `Buffers` a frontend places; never borrowed as a const.
    #[allow(clippy::declare_interior_mutable_const)]
    const SHARED: RefCell<Disk> = RefCell::new(Disk::new());

    fn start(setup: &Setup, disk: &'a RefCell<Disk>) -> Self {
        FilesService {
            disk,
            config: FilesConfig {
                max_file_size: DISK_FILE_BYTES as u64,
                idle: setup.config.idle_timeout,
                // §3's 1,024 bytes/s over 60 s: a trickle holds no slot of the small disk.
                ..FilesConfig::default()
            },
        }
    }
}
