//! The `socklab` command as a library: the std frontend of `socklab-core`.
//!
//! * [`framing`] — §7 frames as an extension of std streams (`send_msg` / `recv_msg`):
//!   public API for the lab's own programs, which the echo client uses too.
//! * [`server`] — the mio event loops that drive core sessions over TCP, and chat's UDP
//!   loop.
//! * [`client`] — one client per service: `echo`, `quiz`, `files`, `ident`, `chat`,
//!   auth's `register`/`login`/`whoami`/`passwd`/`logout`, and the HTTP `get`.
//! * [`pool`] — worker threads for blocking work (disk writes, Argon2), woken back into
//!   the loop.
//! * [`log`] — §0's event log, shared by every server.
//! * [`atomic_file`], [`os_error`] — replacing a file durably; OS errors in words, for
//!   clients and servers alike.
//! * [`cli`] — argument parsing and dispatch.

pub mod atomic_file;
pub mod cli;
pub mod client;
pub mod framing;
pub mod log;
pub mod os_error;
pub mod pool;
pub mod server;
