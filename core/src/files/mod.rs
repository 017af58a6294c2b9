//! §3 files: list, upload (create / overwrite / append), download, in lines with counted
//! binary payloads.
//!
//! * [`command`] — client commands: the server's nom parser and the client's renderer;
//! * [`name`] — which names may be stored;
//! * [`reply`] — server lines: what the server renders and what the client parses;
//! * [`storage`] — the [`Storage`] trait and the request/reply pairs through which a
//!   session asks for storage work without ever blocking on it;
//! * [`config`] — the session's settings and §3's defaults;
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

pub use command::{Command, CommandError, parse_command};
pub use config::{DEFAULT_MIN_UPLOAD_RATE, FilesConfig, RATE_WINDOW};
pub use name::{MAX_NAME, NameError, validate_name};
pub use ram::{RamDisk, RamStore};
pub use reply::{ReplyError, ServerLine, parse_entry, parse_reply};
pub use server::Files;
pub use storage::{
    InlineStorage, Reply, Request, Scratch, Storage, StorageError, WriteMode, perform,
};

/// The greeting, sent on connect (§3).
pub const GREETING: &str = "OK socklab-files 1";

/// Protocol version in the greeting.
pub const VERSION: u32 = 1;

/// What a server over `--max-conns` sends before closing (§0), byte for byte.
pub const SERVER_FULL: &[u8] = b"ERR busy server full\n";

/// Default `--max-file-size`: 1 GiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 1 << 30;

/// The error codes of §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ErrorCode {
    /// Not a command, or not one that fits now.
    BadCommand,
    /// The name breaks §3's rules.
    BadName,
    /// No such file.
    NotFound,
    /// Over `--max-file-size`.
    TooLarge,
    /// Another upload to the same name is in progress (also: server full).
    Busy,
    /// The disk is full.
    NoSpace,
    /// Any other storage failure.
    Io,
    /// A line over the §0 limit.
    LineTooLong,
}

impl ErrorCode {
    /// The word on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadCommand => "bad-command",
            ErrorCode::BadName => "bad-name",
            ErrorCode::NotFound => "not-found",
            ErrorCode::TooLarge => "too-large",
            ErrorCode::Busy => "busy",
            ErrorCode::NoSpace => "no-space",
            ErrorCode::Io => "io",
            ErrorCode::LineTooLong => "line-too-long",
        }
    }

    /// The code for a wire word.
    pub fn from_wire(s: &str) -> Option<Self> {
        Some(match s {
            "bad-command" => ErrorCode::BadCommand,
            "bad-name" => ErrorCode::BadName,
            "not-found" => ErrorCode::NotFound,
            "too-large" => ErrorCode::TooLarge,
            "busy" => ErrorCode::Busy,
            "no-space" => ErrorCode::NoSpace,
            "io" => ErrorCode::Io,
            "line-too-long" => ErrorCode::LineTooLong,
            _ => return None,
        })
    }
}

impl core::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}
