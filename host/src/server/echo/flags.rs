//! `serve echo`'s flags and the [`EchoService`] they build.

use clap::Args;
use socklab_core::Duration;
use socklab_core::echo::{DEFAULT_CHUNK, EchoConfig};
use socklab_core::frame::DEFAULT_MAX_FRAME;

use super::EchoService;

/// `serve echo --help`'s examples.
pub const EXAMPLES: &str = "\
Examples:
  socklab serve echo                       listen on 127.0.0.1:9090
  socklab serve echo --upper --allow-stop  capitals; the line `stop` stops it
  socklab serve echo --port 0 -vv          any free port, hex dump of each chunk
  printf 'hello\\nquit\\n' | nc 127.0.0.1 9090";

/// Flags of the echo service (§1).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Echo options")]
pub struct EchoFlags {
    /// Read at most this many bytes at a time.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_CHUNK,
          value_parser = parse_chunk)]
    pub chunk: usize,
    /// Upper-case ASCII letters on the way back.
    #[arg(long)]
    pub upper: bool,
    /// Let a client stop the whole server with the line `stop`.
    #[arg(long)]
    pub allow_stop: bool,
    /// Echo length-prefixed frames (4-byte big-endian length, then payload).
    #[arg(long)]
    pub framed: bool,
    /// Largest frame payload accepted with --framed; a longer one closes the connection.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_FRAME)]
    pub max_frame: u32,
}

impl EchoFlags {
    /// The service, its sessions closed after `idle` of silence.
    pub fn service(&self, idle: Duration) -> EchoService {
        EchoService {
            config: EchoConfig {
                upper: self.upper,
                allow_stop: self.allow_stop,
                framed: self.framed,
                max_frame: self.max_frame,
            },
            chunk: self.chunk,
            idle,
        }
    }
}

/// The largest `--chunk`: reads land in one shared buffer of this size at most.
const MAX_CHUNK: usize = 1 << 20;

fn parse_chunk(s: &str) -> Result<usize, String> {
    let n: usize = s.parse().map_err(|e| format!("{e}"))?;
    if (1..=MAX_CHUNK).contains(&n) {
        Ok(n)
    } else {
        Err(format!("must be between 1 and {MAX_CHUNK} bytes"))
    }
}
