//! The flags every server shares (§0), as `serve <service>` and `serve all` take them,
//! and what they build before any service: the [`Options`] of the loops and the
//! [`Logger`] every service is handed.
//!
//! Each service's own flags live next to it (`server/<service>/flags.rs`), with the
//! builder that turns them into the service.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use clap::Args;
use socklab_core::Duration;

use super::Options;
use crate::log::{Level, Logger};

/// Flags every server shares, TCP or UDP (§0).
#[derive(Debug, Clone, Args)]
pub struct CommonFlags {
    /// Address to listen on: 127.0.0.1 for this machine only, 0.0.0.0 or :: for the
    /// network. IPv4 or IPv6.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub host: IpAddr,
    /// When the port is taken, try the next ones (up to 100).
    #[arg(long)]
    pub port_auto: bool,
    /// Log more: -v one line per chunk, -vv also a hex dump of each chunk.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Log only errors.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Append the log to FILE instead of standard error.
    #[arg(long, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
}

impl CommonFlags {
    /// The event log at `-q`/`-v`, on stderr or `--log-file`; the message names the
    /// file that cannot be opened.
    pub fn logger(&self) -> Result<Logger, String> {
        let level = Level::from_flags(self.quiet, self.verbose);
        match &self.log_file {
            None => Ok(Logger::stderr(level)),
            Some(path) => Logger::file(level, path).map_err(|e| {
                let why = crate::os_error::describe(&e);
                format!("cannot open log file {}: {why}", path.display())
            }),
        }
    }
}

/// Flags of the TCP servers (§0): every server's [`CommonFlags`] and the connection
/// flags.
#[derive(Debug, Clone, Args)]
pub struct ServerFlags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// Close a connection that sent nothing for this many seconds.
    #[arg(long, value_name = "S", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout: u64,
    /// Most connections open at once; more are closed as soon as accepted.
    #[arg(long, value_name = "N", default_value_t = 10_000,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_conns: u32,
    /// Event-loop threads; connections are spread over them round-robin. Defaults to
    /// the number of CPU cores; 1 gives the lab's classic single-threaded server.
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
    /// On SIGINT/SIGTERM, let a file transfer or a command under way go on for up to
    /// this many seconds before cutting it (idle connections close at once).
    #[arg(long, value_name = "S", default_value_t = 5)]
    pub drain_timeout: u64,
}

impl ServerFlags {
    /// `--idle-timeout`, which every TCP service's sessions are wrapped in.
    pub fn idle(&self) -> Duration {
        Duration::from_secs(self.idle_timeout)
    }

    /// What the loops need to know.
    pub fn options(&self) -> Options {
        Options {
            host: self.common.host,
            port_auto: self.common.port_auto,
            max_conns: self.max_conns as usize,
            threads: self.threads.map_or_else(
                || std::thread::available_parallelism().map_or(1, |n| n.get()),
                usize::from,
            ),
            drain: Duration::from_secs(self.drain_timeout),
        }
    }

    /// Chat serves no TCP connection: the connection flags keep their defaults, which
    /// only size an event loop with no listener.
    pub fn udp_only(common: CommonFlags) -> ServerFlags {
        ServerFlags {
            common,
            idle_timeout: 300,
            max_conns: 10_000,
            threads: Some(1),
            drain_timeout: 0,
        }
    }
}

/// `--port`, for the commands that serve a single service.
#[derive(Debug, Clone, Args)]
pub struct PortFlag {
    /// Port to listen on (default: the service's own port); 0 lets the OS choose.
    #[arg(long)]
    pub port: Option<u16>,
}
