//! §3 files on a fixed-size RAM disk: core's [`Files`] session with core's [`RamStore`],
//! whose storage requests are answered inline — a RAM store is as fast as the copy —
//! by core's one adapter with its [`Inline`] runner.

use core::cell::RefCell;
use smoltcp::wire::IpEndpoint;
use socklab_core::Instant;
use socklab_core::files::{Files, FilesConfig, InlineStorage, RamDisk, RamStore};
use socklab_core::side::{Adapter, Inline};

use crate::service::Snapshot;
use crate::tcp::TcpService;
use socklab_core::service::{FILES, ServiceInfo};

/// Slots on the RAM disk: files and upload temporaries together (§3 commits an upload
/// by renaming its temporary, so a full disk still needs one free slot to upload).
pub const DISK_FILES: usize = 4;
/// Largest file: 4 KiB.
pub const DISK_FILE_BYTES: usize = 4096;
/// Payload chunk a session streams through (core's minimum).
pub const CHUNK: usize = 512;

/// The board's file system.
pub type Disk = RamDisk<DISK_FILES, DISK_FILE_BYTES>;

/// One files connection with its handle on the shared disk, as the TCP pool drives it.
pub type FilesConn<'d> = Adapter<Files<CHUNK>, Inline<RamStorage<'d>>>;

/// The disk as one connection uses it, answering its storage requests at once.
pub type RamStorage<'d> = InlineStorage<RamStore<'d, DISK_FILES, DISK_FILE_BYTES>, CHUNK>;

/// §3 files on TCP 8020. The session keeps its own idle timeout (progress either way
/// counts), so it is not wrapped in `Idle`.
pub struct FilesService<'d> {
    pub(crate) disk: &'d RefCell<Disk>,
    pub(crate) config: FilesConfig,
}

impl<'d> TcpService for FilesService<'d> {
    type Session = FilesConn<'d>;
    const INFO: ServiceInfo = FILES;

    fn open(&mut self, now: Instant, _peer: IpEndpoint, _: &Snapshot) -> Self::Session {
        let store = InlineStorage::new(RamStore::new(self.disk));
        Adapter::new(now, Files::new(now, self.config), Inline(store))
    }
}
