//! §3 files on a fixed-size RAM disk: core's [`Files`] session with core's [`RamStore`],
//! whose storage requests are answered inline — a RAM store is as fast as the copy.
//!
//! A [`FilesConn`] is the session the TCP pool drives: it forwards every [`Session`]
//! call to [`Files`] and then runs the storage requests that call produced, in the order
//! `core/src/files/server.rs` asks for ("after every call, drain `poll_storage`").

use core::cell::RefCell;
use smoltcp::wire::IpEndpoint;
use socklab_core::files::{Files, FilesConfig, RamDisk, RamStore, Scratch, perform};
use socklab_core::{CloseReason, Event, Instant, Session};

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

/// One files connection with its handle on the shared disk.
pub struct FilesConn<'d> {
    files: Files<CHUNK>,
    store: RamStore<'d, DISK_FILES, DISK_FILE_BYTES>,
    scratch: Scratch<CHUNK>,
}

impl FilesConn<'_> {
    /// Answer every storage request the last call produced.
    fn pump(&mut self) {
        while let Some(request) = self.files.poll_storage() {
            let reply = perform(&mut self.store, request, &mut self.scratch);
            self.files.handle_storage(reply);
        }
    }
}

impl Session for FilesConn<'_> {
    fn handle_input(&mut self, now: Instant, input: &[u8]) -> usize {
        let n = self.files.handle_input(now, input);
        self.pump();
        n
    }

    fn handle_eof(&mut self, now: Instant) {
        self.files.handle_eof(now);
        self.pump();
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.files.handle_timeout(now);
        self.pump();
    }

    fn poll_output(&mut self, buf: &mut [u8]) -> usize {
        let n = self.files.poll_output(buf);
        // Draining a download chunk asks for the next one.
        self.pump();
        n
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.files.poll_timeout()
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.files.poll_event()
    }

    fn close_reason(&self) -> Option<CloseReason> {
        self.files.close_reason()
    }

    fn wants_output(&self) -> bool {
        self.files.wants_output()
    }
}

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
        let mut conn = FilesConn {
            files: Files::new(now, self.config),
            store: RamStore::new(self.disk),
            scratch: Scratch::new(),
        };
        conn.pump();
        conn
    }
}
