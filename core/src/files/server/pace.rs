//! How a [`Files`] session keeps time: idleness measured against transfer progress,
//! and §3's minimum upload rate.
//!
//! The peer is idle when it sends nothing *and* no transfer makes progress for `idle`
//! (§0; a long download to a client that sends nothing is not cut off). Input comes with
//! its time, but [`poll_output`](crate::Session::poll_output) does not, so transfer
//! progress is only flagged there and stamped with the time of the next
//! [`handle_timeout`](crate::Session::handle_timeout), which the session asks for at most
//! `idle / 8` after the last one. A stalled transfer is therefore closed between `idle`
//! and `idle * 9/8` after its last progress. Replies to commands are not progress: they
//! go out at the time of the command that asked for them, which already counts (counting
//! them made an idle connection last twice `--idle-timeout`, the greeting being one).
//!
//! An upload must also keep up `min_upload_rate` bytes/s, measured over consecutive
//! windows of `rate_window` (§3: 60 s) from its first payload byte, or it is ended like
//! an idle timeout: one byte a second would otherwise hold a name (`ERR busy` for
//! everyone else) for as long as the peer likes. A window that ends while the session is
//! waiting for storage or holding a full chunk (the server is slow, not the peer) starts
//! over instead of counting.

use super::{Files, State};
use crate::time::{Duration, Instant};

impl<const C: usize> Files<C> {
    /// When the upload's rate window ends, while one is running.
    pub(super) fn rate_deadline(&self) -> Option<Instant> {
        match (self.state, self.rate_start) {
            (State::Upload { .. }, Some(start)) if self.config.min_upload_rate > 0 => {
                Some(start + self.config.rate_window)
            }
            _ => None,
        }
    }

    /// How often pending transfer progress is stamped with a time.
    pub(super) fn stamp_every(&self) -> Duration {
        Duration::from_millis((self.config.idle.total_millis() / 8).max(1))
    }

    /// Start the upload's first rate window at `now` if it has none yet.
    pub(super) fn start_rate_window(&mut self, now: Instant) {
        if matches!(self.state, State::Upload { .. }) && self.rate_start.is_none() {
            self.rate_start = Some(now);
            self.rate_bytes = 0;
        }
    }

    /// A rate window ended at `now`: false when the upload was too slow.
    pub(super) fn rate_window_ends(&mut self, now: Instant) -> bool {
        let window = self.config.rate_window.total_millis();
        let needed = self.config.min_upload_rate.saturating_mul(window) / 1000;
        // The server held the peer back (storage busy, chunk not yet handed over): the
        // window says nothing about the peer.
        let held_back = !self.req.is_none() || self.data_end == C;
        let ok = held_back || self.rate_bytes >= needed;
        self.rate_start = Some(now);
        self.rate_bytes = 0;
        ok
    }
}
