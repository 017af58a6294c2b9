//! SIGINT and SIGTERM as events of the mio loop.
//!
//! A signal handler may do almost nothing safely, so signal-hook's handler only writes a
//! byte to a self-pipe and the loop learns of the signal like of any other readable
//! socket. That keeps the graceful stop (flush, close, log) on the loop's own thread,
//! with no flags polled and no `unsafe` in this crate.

use std::io;

use mio::{Interest, Registry, Token};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook_mio::v1_0::Signals;

/// The stop signals, registered with the loop's poll.
pub struct StopSignals {
    signals: Signals,
}

impl StopSignals {
    /// Install the handlers and register the pipe under `token`.
    pub fn register(registry: &Registry, token: Token) -> io::Result<StopSignals> {
        let mut signals = Signals::new([SIGINT, SIGTERM])?;
        registry.register(&mut signals, token, Interest::READABLE)?;
        Ok(StopSignals { signals })
    }

    /// The name of the first signal received since the last call, if any.
    pub fn received(&mut self) -> Option<&'static str> {
        let mut first = None;
        for sig in self.signals.pending() {
            let name = match sig {
                SIGINT => "SIGINT",
                SIGTERM => "SIGTERM",
                _ => "signal",
            };
            first.get_or_insert(name);
        }
        first
    }
}
