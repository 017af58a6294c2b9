//! `socklab echo`: interactive on a terminal, a binary-safe pipe otherwise (§1).
//!
//! # Interactive (stdin is a terminal)
//!
//! Each typed line is sent with its LF and whatever comes back is printed as it
//! arrives. A line that is exactly `exit` or `STOP` (the words of the labs) ends the
//! session without being sent, as does end of input (Ctrl-D): the client then half-closes,
//! prints what the server still owes (for up to 2 seconds) and exits 0.
//! The server closing the connection ends the session too (exit 0).
//!
//! # Pipe (stdin is not a terminal)
//!
//! stdin is streamed to the socket and the socket to stdout by two threads, so neither
//! direction waits for the other and a server that echoes faster than we read cannot
//! deadlock us. At stdin EOF the socket is half-closed (`shutdown(Write)`); the client
//! exits 0 once the server has closed. `cat f | socklab echo > g` makes `g`
//! byte-identical to `f`.
//!
//! # Framed (`--framed`, §7)
//!
//! Frames carry lines: each stdin line becomes one frame holding the line without its
//! LF (a CR before it is kept, so CRLF text survives the round trip), and each frame
//! that comes back is printed followed by an LF. This is the same rule in both modes, so
//! a file of lines piped through `socklab echo --framed` comes back identical — except
//! that a last line without an LF comes back with one. A line longer than `--max-frame`
//! is refused locally (exit 1) rather than sent; a reply frame over the limit ends the
//! session with an error.

mod interactive;
mod pipe;

use super::conn::open_or_exit;
use socklab_core::service;
use std::io::IsTerminal;
use std::process::ExitCode;

pub use interactive::{LineAction, classify_line};

/// Flags of `socklab echo`.
#[derive(Debug, Clone, clap::Args)]
pub struct EchoClientArgs {
    /// Log connect, send, receive and disconnect to stderr (-v).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Server address (IPv4, IPv6 or a name).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Server port.
    #[arg(long, default_value_t = service::ECHO.port)]
    pub port: u16,
    /// Send and receive length-prefixed frames (4-byte big-endian length, then the
    /// payload) instead of raw bytes: one frame per line.
    #[arg(long)]
    pub framed: bool,
    /// Largest frame payload sent or accepted with --framed, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = socklab_core::frame::DEFAULT_MAX_FRAME)]
    pub max_frame: u32,
}

/// Run the client; returns the process exit code.
pub fn run(args: &EchoClientArgs, verbose: u8) -> ExitCode {
    let (stream, trace) = match open_or_exit(service::ECHO, &args.host, args.port, verbose) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let framing = args.framed.then_some(args.max_frame);
    let result = if std::io::stdin().is_terminal() {
        interactive::run(stream, framing, &trace)
    } else {
        pipe::run(stream, framing, &trace)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("socklab: {e}");
            ExitCode::from(super::EXIT_FAILURE)
        }
    }
}
