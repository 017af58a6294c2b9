//! The std server frontend: one single-threaded mio event loop driving one core
//! [`Session`](socklab_core::Session) per TCP connection, for one service or for all of
//! them at once (`serve all` shares the loop, the log and the connection limit).
//!
//! * [`service`] — what a service tells the loop (name, port, chunk, session factory);
//! * [`listener`] — binding, `--port-auto`, bind error messages;
//! * [`conn`] — one connection: nonblocking reads and writes, backpressure, closing;
//! * [`timers`] — all deadlines in one ordered set;
//! * [`signal`] — SIGINT/SIGTERM as loop events;
//! * [`event_loop`] — accepting, dispatching events, timers and the graceful stop.

pub mod conn;
pub mod event_loop;
pub mod listener;
pub mod service;
pub mod signal;
pub mod timers;

use std::io::Write;
use std::net::IpAddr;

use crate::log::Logger;
pub use service::{EchoService, QuizService, Service};

/// Flags shared by every service.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--host`.
    pub host: IpAddr,
    /// `--port-auto`.
    pub port_auto: bool,
    /// `--max-conns`: open connections over all services of this process.
    pub max_conns: usize,
}

/// A service with the port it was asked to listen on.
pub struct Listen {
    /// The service.
    pub service: Box<dyn Service>,
    /// The port requested (the service's default unless `--port` said otherwise).
    pub port: u16,
}

/// Bind every service, print `listening on ...` for each, and serve until a stop.
///
/// Binding happens before anything is printed, so a failure leaves no half-started
/// server behind and scripts never see a `listening on` line for a port that is not.
pub fn run(listens: Vec<Listen>, opts: &Options, log: Logger) -> anyhow::Result<()> {
    let names: Vec<&str> = listens.iter().map(|l| l.service.name()).collect();
    log.event(
        "socklab",
        Pid,
        format_args!(
            "server start (version {}, serving {})",
            env!("CARGO_PKG_VERSION"),
            names.join(", ")
        ),
    );
    raise_fd_limit(&log, opts.max_conns);
    let mut bound = Vec::with_capacity(listens.len());
    for l in listens {
        let listener = listener::bind(opts.host, l.port, opts.port_auto)?;
        bound.push((l.service, listener));
    }
    let mut server = event_loop::Server::new(bound, opts, log)?;
    let mut out = std::io::stdout().lock();
    for addr in server.local_addrs() {
        // Scripts wait for this exact line, whatever the log settings (§0). A closed
        // stdout (a daemonised server) is no reason not to serve.
        let _ = writeln!(out, "listening on {addr}");
    }
    let _ = out.flush();
    drop(out);
    server.run()
}

/// Each connection is a file descriptor; lift the soft limit to the hard one so that
/// `--max-conns` (10,000 by default) is reachable without the user knowing about
/// `ulimit -n`. Failing to do so is not fatal, only worth saying.
fn raise_fd_limit(log: &Logger, max_conns: usize) {
    let wanted = max_conns as u64 + 64;
    match rlimit::increase_nofile_limit(wanted) {
        Ok(got) if got < wanted => log.event(
            "socklab",
            Pid,
            format_args!("note: open-file limit is {got}, fewer than --max-conns needs"),
        ),
        Ok(_) => {}
        Err(e) => log.error(
            "socklab",
            Pid,
            format_args!("cannot raise the open-file limit: {e}"),
        ),
    }
}

/// Process-wide events are about the process: the log shows `pid 4242` where a
/// connection event shows the peer address.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pid;

impl std::fmt::Display for Pid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {}", std::process::id())
    }
}
