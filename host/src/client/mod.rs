//! Clients: each is a small blocking socket loop around a core session or plain copying.
//!
//! Exit codes shared by every client: 0 success, 1 the conversation failed (a lost quiz,
//! an I/O error midway), 2 the server could not be reached ([`EXIT_CONNECT`]). `get` adds
//! its own codes from 3 on (see [`get`]).

pub mod conn;
pub mod echo;
pub mod files;
pub mod get;
pub mod quiz;
pub mod stdio;

/// Exit code when the connection cannot be made (name lookup or connect failed).
pub const EXIT_CONNECT: u8 = 2;

/// Exit code when the conversation failed after connecting.
pub const EXIT_FAILURE: u8 = 1;
