//! `serve files` (§3): the core session, a confined storage folder, and a worker pool
//! that keeps disk work off the event loop.
//!
//! * [`dir`] — the folder: `*at` calls on a directory handle, temporaries, durability;
//! * [`session`] — the core session with its storage requests run on the pool;
//! * [`flags`] — `serve files`'s flags and the service they build.

pub mod dir;
pub mod flags;
pub mod session;

use std::net::SocketAddr;
use std::sync::Arc;

use socklab_core::Instant;
use socklab_core::files::{FilesConfig, SERVER_FULL};
use socklab_core::service::{self, ServiceInfo};
use socklab_core::session::Session;

use super::service::Service;
use super::wake::Wake;
use crate::pool::Pool;
use dir::{Dir, DirStorage};
use session::{CHUNK, PooledFiles};

/// Worker threads for file I/O: they mostly wait for the disk, so a few more than the
/// two cores of a lab machine keep a slow `fsync` from holding up everyone's listing.
pub const WORKERS: usize = 4;

/// `serve files` (§3).
#[derive(Debug, Clone)]
pub struct FilesService {
    /// Protocol settings.
    pub config: FilesConfig,
    /// The storage folder.
    pub dir: Arc<Dir>,
    /// Where storage jobs run.
    pub pool: Arc<Pool>,
    /// `--io-delay` (hidden): each chunk write sleeps this long on its worker, so tests
    /// can show that a slow disk does not hold up other connections.
    pub io_delay: std::time::Duration,
}

impl Service for FilesService {
    fn info(&self) -> ServiceInfo {
        service::FILES
    }

    fn chunk(&self) -> usize {
        CHUNK
    }

    fn open(&mut self, now: Instant, _peer: SocketAddr, wake: Wake) -> Box<dyn Session + Send> {
        Box::new(PooledFiles::new(
            now,
            self.config,
            DirStorage::new(self.dir.clone()),
            self.pool.clone(),
            wake,
            self.io_delay,
        ))
    }

    fn refusal(&self) -> &'static [u8] {
        SERVER_FULL
    }
}
