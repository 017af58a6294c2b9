//! `serve files` (§3): the core session, a confined storage folder, and a worker pool
//! that keeps disk work off the event loop.
//!
//! * [`dir`] — the folder: `*at` calls on a directory handle, what is served;
//! * [`temp`] — upload temporaries: unnamed (`O_TMPFILE`) or random dot-names;
//! * [`dir_storage`] — one session's view of the folder (core's `Storage`), durability;
//! * [`disk`] — what runs a session's storage requests on the pool, for [`Pooled`].
//! * [`flags`] — `serve files`'s flags and the service they build.

pub mod dir;
pub mod dir_storage;
pub mod disk;
pub mod flags;
pub mod temp;

use std::net::SocketAddr;
use std::sync::Arc;

use socklab_core::Instant;
use socklab_core::files::{Files, FilesConfig, SERVER_FULL};
use socklab_core::service::{self, ServiceInfo};
use socklab_core::session::Session;

use super::pooled::{OnPool, Pooled};
use super::service::Service;
use super::wake::Wake;
use crate::pool::Pool;
use dir::Dir;
use dir_storage::DirStorage;
use disk::{CHUNK, Disk};

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
        let disk = Disk::new(DirStorage::new(self.dir.clone()), self.io_delay);
        let files = Files::<CHUNK>::new(now, self.config);
        Box::new(Pooled::new(
            now,
            files,
            OnPool::new(disk, self.pool.clone(), wake),
        ))
    }

    fn refusal(&self) -> &'static [u8] {
        SERVER_FULL
    }
}
