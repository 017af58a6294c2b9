//! The graceful stop (§0): a stop request reaches every loop, the listeners close,
//! connections drain their work in flight up to `--drain-timeout`, and whoever is left
//! at the deadline is cut and logged.

use mio::Token;
use socklab_core::Instant;

use super::{CONN_BASE, Server, log_cut};
use crate::server::conn::STOP_GRACE;

impl Server {
    /// Stop every loop of the process (a signal, or echo's `stop`). The first request
    /// is logged, before any loop acts on it; a second one (another Ctrl-C) cuts the
    /// grace period short.
    pub(super) fn request_stop(&mut self, now: Instant, why: std::fmt::Arguments<'_>) {
        let log = &self.log;
        self.shared.request_stop(|| {
            log.event(
                "socklab",
                crate::log::Pid,
                format_args!("server stopping ({why})"),
            );
        });
        self.apply_stops(now);
    }

    /// Act on stop requests this loop has not seen yet.
    pub(super) fn apply_stops(&mut self, now: Instant) {
        let stops = self.shared.stops();
        if stops == self.stops_seen {
            return;
        }
        if self.stops_seen == 0 {
            self.begin_stop(now);
        }
        if stops >= 2 {
            self.stop_deadline = Some(now);
        }
        self.stops_seen = stops;
    }

    /// Close the listeners and let every connection finish its work in flight (up to
    /// `--drain-timeout`) and hand over what it owes; idle ones close on their next
    /// drive, which is this turn.
    pub(super) fn begin_stop(&mut self, now: Instant) {
        for l in self.listeners.iter_mut() {
            if let Some(mut l) = l.take() {
                let _ = self.poll.registry().deregister(&mut l.listener);
            }
        }
        self.accept_retry = None;
        let drain = self.shared.drain();
        // Each connection has its own deadline; this one only bounds the loop.
        self.stop_deadline = Some(now + drain.max(STOP_GRACE));
        let slots: Vec<usize> = self.conns.occupied().collect();
        for slot in slots {
            let Some(conn) = self.conns.get_mut(slot) else {
                continue;
            };
            if conn.is_lingering() {
                self.remove(slot);
            } else {
                conn.begin_stop(now, drain);
                let timer = conn.timer;
                conn.timer = self.timers.update(slot, timer, conn.deadline());
                self.again.push(Token(CONN_BASE + slot));
            }
        }
    }

    /// The grace period is over (or a second Ctrl-C came): drop whoever is left.
    pub(super) fn abandon_all(&mut self) {
        let slots: Vec<usize> = self.conns.occupied().collect();
        for slot in slots {
            if let Some(conn) = self.conns.get_mut(slot) {
                if !conn.is_lingering() {
                    log_cut(&self.log, conn);
                }
            }
            self.remove(slot);
        }
    }
}
