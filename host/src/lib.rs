//! The `socklab` command as a library: the std frontend of `socklab-core`.
//!
//! * [`framing`] — §7 frames as an extension of std streams (`send_msg` / `recv_msg`).
//! * [`server`] — the mio event loop that drives core sessions over TCP.
//! * [`client`] — the `echo`, `quiz` and `get` clients.
//! * [`cli`] — argument parsing and dispatch.

pub mod cli;
pub mod client;
pub mod framing;
pub mod log;
pub mod server;
