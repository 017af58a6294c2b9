//! §3 files: list, upload (create / overwrite / append), download, in lines with counted
//! binary payloads.
//!
//! * [`command`] — client commands: the server's nom parser and the client's renderer;
//! * [`name`] — which names may be stored;
//! * [`reply`] — server lines: what the server renders and what the client parses;
//! * [`storage`] — the [`Storage`] trait and the request/reply pairs through which a
//!   session asks for storage work without ever blocking on it;
//! * [`config`] — the session's settings and §3's defaults;
//! * [`wire`] — the greeting, the server-full line and the [`ErrorCode`]s;
//! * [`server`] — the [`Files`] session, a [`SideWork`](crate::side::SideWork) whose
//!   requests are storage requests;
//! * [`ram`] — a fixed-size RAM store (boards, allocation-free tests).

pub mod command;
pub mod config;
pub mod name;
pub mod ram;
pub mod reply;
pub mod server;
pub mod storage;
pub mod wire;

pub use command::{Command, CommandError, parse_command};
pub use config::{DEFAULT_MAX_FILE_SIZE, DEFAULT_MIN_UPLOAD_RATE, FilesConfig, RATE_WINDOW};
pub use name::{MAX_NAME, NameError, validate_name};
pub use ram::{RamDisk, RamStore};
pub use reply::{ReplyError, ServerLine, parse_entry, parse_reply};
pub use server::Files;
pub use storage::{
    InlineStorage, Reply, Request, Scratch, Storage, StorageError, WriteMode, perform,
};
pub use wire::{ErrorCode, GREETING, SERVER_FULL, VERSION};
