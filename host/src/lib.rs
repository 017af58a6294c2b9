//! The `socklab` command as a library: the std frontend of `socklab-core`.
//!
//! * [`framing`] — §7 frames as an extension of std streams (`send_msg` / `recv_msg`).
//! * [`server`] — the mio event loop that drives core sessions over TCP.
//! * [`client`] — the `echo`, `quiz`, `files` and `get` clients.
//! * [`pool`] — worker threads for blocking work (file I/O), woken back into the loop.
//! * [`cli`] — argument parsing and dispatch.

pub mod cli;
pub mod client;
pub mod framing;
pub mod log;
pub mod pool;
pub mod server;
