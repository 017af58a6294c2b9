//! The std server frontend: mio event loops (one per `--threads`, one per core by
//! default) driving one core [`Session`](socklab_core::Session) per TCP connection, for
//! one service or for all of them at once (`serve all` shares the loops, the log and
//! the connection limit).
//!
//! * [`service`] — what a service tells the loop (§0 row, chunk, session factory);
//! * [`flags`] — the flags every server shares, and the options and log they build;
//! * [`listener`] — binding, `--port-auto`, bind error messages;
//! * [`conn`] — one connection: nonblocking reads and writes, backpressure, closing;
//! * [`timers`] — all deadlines in one ordered set;
//! * [`signal`] — SIGINT/SIGTERM as loop events;
//! * [`event_loop`] — accepting, dispatching events, timers and the graceful stop;
//! * [`handoff`] — what the loops share: connection count, stop, an inbox per loop;
//! * [`wake`] — waking a connection's loop when work done on another thread is ready;
//! * [`peer_key`] — which peers count as one for per-address limits (IPv6 by /64);
//! * [`pooled`] — any core session with side work (disk, hashing, a name store) run on
//!   the worker pool, as a plain session for the loop;
//! * [`echo`], [`quiz`] — the §1 and §2 services, all their work done on the loop;
//! * [`files`] — the §3 service: confined storage folder, disk work on a worker pool;
//! * [`ident`] — the §4 service: the name table, stored off the loop;
//! * [`auth`] — the §5 service: Argon2id users, hashed session tokens, throttling;
//! * [`chat`] — the §6 service: one UDP socket on its own loop thread.
//!
//! Each service's folder holds its `flags.rs`: its clap flags and the builder that
//! makes the service from them and the [`Logger`], which exists before any service.

pub mod auth;
pub mod chat;
pub mod conn;
pub mod echo;
pub mod event_loop;
pub mod files;
pub mod flags;
pub mod handoff;
pub mod ident;
pub mod listener;
pub mod peer_key;
pub mod pooled;
pub mod quiz;
pub mod service;
pub mod signal;
pub mod timers;
pub mod wake;

use std::io::Write;
use std::sync::Arc;

use anyhow::Context as _;
use std::net::IpAddr;

use socklab_core::service::{CHAT, ServiceInfo, Transport};

use crate::log::{Logger, Pid};
pub use auth::AuthService;
pub use echo::EchoService;
pub use files::FilesService;
pub use quiz::QuizService;
pub use service::Service;

/// Flags shared by every service.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--host`.
    pub host: IpAddr,
    /// `--port-auto`.
    pub port_auto: bool,
    /// `--max-conns`: open connections over all services of this process.
    pub max_conns: usize,
    /// `--threads`: event loops sharing the connections.
    pub threads: usize,
    /// `--drain-timeout`: how long a stopping server lets transfers and other work in
    /// flight go on (§0).
    pub drain: socklab_core::Duration,
}

/// A service with the port it was asked to listen on.
pub struct Listen {
    /// The service.
    pub service: Box<dyn Service>,
    /// The port requested (the service's default unless `--port` said otherwise).
    pub port: u16,
}

/// A socket a server is to listen on, known before its service is set up.
#[derive(Debug, Clone, Copy)]
pub struct Socket {
    /// The service: its name for messages, TCP or UDP.
    pub service: ServiceInfo,
    /// The port asked for (`--port`, or the service's default).
    pub port: u16,
}

/// Every socket of a server, bound and not yet served: what [`bind`] hands to [`serve`].
pub struct Bound {
    /// Service, port asked for, listener.
    tcp: Vec<(&'static str, u16, mio::net::TcpListener)>,
    udp: Vec<(&'static str, u16, mio::net::UdpSocket)>,
}

/// Bind every socket before the server sets anything up or says anything: a second
/// `serve all` must fail on its first taken port without having touched the stores of
/// the server that has it (the files folder's clean-up of unfinished uploads would
/// delete that server's uploads in progress), logged a `server start` or printed a
/// `listening on` line for a server that never runs.
pub fn bind(sockets: &[Socket], opts: &Options) -> Result<Bound, listener::BindError> {
    let mut bound = Bound {
        tcp: Vec::new(),
        udp: Vec::new(),
    };
    for s in sockets {
        let name = s.service.name;
        match s.service.transport {
            Transport::Udp => {
                let socket = listener::bind_udp(opts.host, s.port, opts.port_auto)
                    .map_err(|e| e.service(name))?;
                bound.udp.push((name, s.port, socket));
            }
            Transport::Tcp => {
                let listener = listener::bind(opts.host, s.port, opts.port_auto)
                    .map_err(|e| e.service(name))?;
                bound.tcp.push((name, s.port, listener));
            }
        }
    }
    Ok(bound)
}

/// Serve on what [`bind`] bound (TCP sockets in the order of `listens`, UDP ones in that
/// of `datagrams`, chat) until a stop: print `listening on ...` for each socket (TCP
/// first, then UDP) and run the loops; each UDP socket is served by a loop thread of
/// its own that stops with the others.
pub fn serve(
    sockets: Bound,
    listens: Vec<Listen>,
    datagrams: Vec<chat::ChatListen>,
    opts: &Options,
    log: Logger,
) -> anyhow::Result<()> {
    // What was bound must be what the services ask for: the same services, the same
    // ports, in the same order.
    let wanted: Vec<(&str, u16)> = listens
        .iter()
        .map(|l| (l.service.info().name, l.port))
        .chain(datagrams.iter().map(|d| (CHAT.name, d.port)))
        .collect();
    let got: Vec<(&str, u16)> = sockets
        .tcp
        .iter()
        .map(|&(name, port, _)| (name, port))
        .chain(sockets.udp.iter().map(|&(name, port, _)| (name, port)))
        .collect();
    anyhow::ensure!(wanted == got, "bug: bound {got:?} for {wanted:?}");
    let bound: Vec<_> = listens
        .into_iter()
        .zip(sockets.tcp)
        .map(|(l, (_, _, listener))| (l.service, listener))
        .collect();
    let udp: Vec<_> = datagrams
        .into_iter()
        .zip(sockets.udp)
        .map(|(d, (_, _, socket))| (d.service, socket))
        .collect();
    let mut names: Vec<&str> = bound.iter().map(|(s, _)| s.info().name).collect();
    names.extend(udp.iter().map(|_| CHAT.name));
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
    let read_chunk = bound.iter().map(|(s, _)| s.chunk()).max().unwrap_or(1);
    let epoch = std::time::Instant::now();
    let mut polls = Vec::with_capacity(opts.threads);
    let mut wakers = Vec::with_capacity(opts.threads);
    for _ in 0..opts.threads.max(1) {
        let (poll, waker) = event_loop::Server::poll()?;
        polls.push(poll);
        wakers.push(waker);
    }
    let shared = Arc::new(handoff::Shared::new(opts.max_conns, opts.drain, wakers));
    let mut servers = Vec::with_capacity(polls.len());
    let mut bound = Some(bound);
    for (me, poll) in polls.into_iter().enumerate() {
        let listeners = bound.take().unwrap_or_default();
        let s = event_loop::Server::new(
            (poll, me, shared.clone()),
            listeners,
            read_chunk,
            log.clone(),
            epoch,
        )?;
        servers.push(s);
    }
    let mut server = servers.remove(0);
    let chats = udp
        .into_iter()
        .map(|(svc, socket)| {
            chat::udp_loop::ChatLoop::new(svc, socket, shared.clone(), log.clone(), epoch)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut out = std::io::stdout().lock();
    let tcp_addrs = server.local_addrs().into_iter().map(|a| (a, ""));
    // The chat is the one UDP service: say so, or `nc 127.0.0.1 9093` (TCP) is what a
    // newcomer tries. The suffix comes after `<addr>:<port>`, so scripts that read the
    // address as the first word after `listening on ` are not disturbed.
    let udp_addrs = chats.iter().map(|c| (c.local_addr(), " (UDP)"));
    for (addr, transport) in tcp_addrs.chain(udp_addrs) {
        // Scripts wait for this line, whatever the log settings (§0). A closed stdout
        // (a daemonised server) is no reason not to serve.
        let _ = writeln!(out, "listening on {addr}{transport}");
    }
    let _ = out.flush();
    drop(out);
    let workers: Vec<_> = servers
        .into_iter()
        .enumerate()
        .map(|(i, mut s)| {
            std::thread::Builder::new()
                .name(format!("socklab-loop-{}", i + 1))
                .spawn(move || s.run())
        })
        .collect::<Result<_, _>>()
        .context("cannot start the event-loop threads")?;
    let chat_threads: Vec<_> = chats
        .into_iter()
        .map(|mut c| {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("socklab-chat".into())
                .spawn(move || {
                    let r = c.run();
                    // A broken chat loop takes the process down rather than leaving
                    // it half-serving.
                    if r.is_err() {
                        shared.request_stop(|| {});
                    }
                    r
                })
        })
        .collect::<Result<_, _>>()
        .context("cannot start the chat thread")?;
    let first = server.run();
    // Whatever ended the first loop, the others must not outlive it.
    if first.is_err() {
        shared.request_stop(|| {});
    }
    for w in workers.into_iter().chain(chat_threads) {
        match w.join() {
            Ok(r) => r?,
            Err(_) => anyhow::bail!("an event-loop thread panicked"),
        }
    }
    log.event("socklab", Pid, "server stopped");
    first
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
