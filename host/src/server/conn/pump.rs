//! The read/write pump of an open connection: output owed first, then what the session
//! has to say gathered into one `write`, then input — what the session left over
//! before the socket — within a per-turn read budget; a full socket stops reading
//! (backpressure).

use std::io::{self, Write};

use socklab_core::session::{CloseReason, Event};

use super::{Conn, Ctx, DRAIN_GRACE, Phase, READS_PER_TURN, Step, read_some};
use crate::log::Direction;

impl Conn {
    /// Move bytes between the socket and the session until neither can go on.
    pub(super) fn pump(&mut self, ctx: &mut Ctx<'_>) -> Step {
        let mut reads = 0;
        // `ctx.write_buf[..gathered]` holds output taken from the session during this
        // turn and not written yet: several reads are answered by one `write`.
        let mut gathered = 0;
        // The session took no input while owing nothing: only a timer can change that.
        let mut stalled = false;
        loop {
            // Output owed since an earlier turn goes first, in order.
            if self.undelivered() > 0 {
                match self.write_pending(ctx) {
                    Ok(true) => {}
                    Ok(false) => return self.blocked(ctx),
                    Err(e) => return Step::Closed(CloseReason::Reset, Some(e)),
                }
            }
            // Take what the session owes, as far as the gather buffer has room.
            while gathered < ctx.write_buf.len() {
                let n = self.session.poll_output(&mut ctx.write_buf[gathered..]);
                if n == 0 {
                    break;
                }
                gathered += n;
            }
            while let Some(ev) = self.session.poll_event() {
                match ev {
                    Event::StopServer => ctx.stop_requested = true,
                }
            }
            // A stopping connection ends once its work is done and nothing is owed.
            let reason = self.session.close_reason().or_else(|| {
                let done = self.phase == Phase::Stopping
                    && self.session.in_flight().is_none()
                    && !self.session.wants_output();
                done.then_some(CloseReason::ServerStopping)
            });
            let more_input =
                !self.input.is_empty() || (self.readable && !self.eof && reads < READS_PER_TURN);
            // Room for what one more read may bring back (a chunk larger than the buffer
            // is fed to the session piecewise, so a quarter of it is enough to go on).
            let step = self.chunk.min(ctx.write_buf.len() / 4);
            let room = gathered + step <= ctx.write_buf.len();
            let write_now = gathered > 0
                && (reason.is_some()
                    || stalled
                    || !more_input
                    || !room
                    || self.session.wants_output());
            if write_now {
                match self.write_gathered(ctx, gathered) {
                    Ok(true) => gathered = 0,
                    Ok(false) => return self.blocked(ctx),
                    Err(e) => return Step::Closed(CloseReason::Reset, Some(e)),
                }
                continue;
            }
            if let Some(reason) = reason {
                return Step::Closed(reason, None);
            }
            if stalled {
                return Step::Wait;
            }
            if !self.takes_input() {
                return Step::Wait;
            }
            // Input: first what the session left over, then the socket.
            if !self.input.is_empty() {
                let n = self.session.handle_input(ctx.now, &self.input);
                self.input.drain(..n);
                if self.input.is_empty() {
                    self.input = Vec::new();
                }
                stalled = n == 0 && !self.session.wants_output();
                continue;
            }
            if self.eof || !self.readable {
                return Step::Wait;
            }
            if reads == READS_PER_TURN {
                return Step::Again;
            }
            let buf = &mut ctx.read_buf[..self.chunk];
            match read_some(&mut self.stream, buf) {
                Ok(None) => self.readable = false,
                Ok(Some(0)) => {
                    self.eof = true;
                    self.session.handle_eof(ctx.now);
                }
                Ok(Some(n)) => {
                    reads += 1;
                    let got = &buf[..n];
                    ctx.log.chunk(
                        self.service,
                        self.peer,
                        Direction::Received,
                        n,
                        self.dump.then_some(got),
                    );
                    let taken = self.session.handle_input(ctx.now, got);
                    if taken < n {
                        self.input.extend_from_slice(&got[taken..]);
                    }
                }
                Err(e) => return Step::Closed(CloseReason::Reset, Some(e)),
            }
        }
    }

    /// The socket is full. Backpressure: read nothing more until the peer takes our
    /// output; a finished session gets [`DRAIN_GRACE`] to hand it over (a stopping
    /// one has its own deadline, which may be longer: `--drain-timeout`).
    pub(super) fn blocked(&mut self, ctx: &Ctx<'_>) -> Step {
        if self.session.close_reason().is_some() && self.phase == Phase::Open {
            self.drain_until.get_or_insert(ctx.now + DRAIN_GRACE);
        }
        Step::Wait
    }

    /// Write output left over from an earlier turn. Ok(true) when it is all gone.
    pub(super) fn write_pending(&mut self, ctx: &Ctx<'_>) -> io::Result<bool> {
        while self.output_sent < self.output.len() {
            let Some(n) = self.write(ctx, &self.output[self.output_sent..])? else {
                return Ok(false);
            };
            self.output_sent += n;
        }
        // Free the buffer: idle connections should cost no heap for output.
        self.output = Vec::new();
        self.output_sent = 0;
        Ok(true)
    }

    /// Write `ctx.write_buf[..len]`; what the socket does not take is kept in `output`
    /// (at most one write buffer). Ok(true) when all of it went out.
    pub(super) fn write_gathered(&mut self, ctx: &Ctx<'_>, len: usize) -> io::Result<bool> {
        let mut sent = 0;
        while sent < len {
            match self.write(ctx, &ctx.write_buf[sent..len])? {
                Some(n) => sent += n,
                None => {
                    self.output = ctx.write_buf[sent..len].to_vec();
                    self.output_sent = 0;
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// One `write`, logged; `None` when the socket is full.
    pub(super) fn write(&self, ctx: &Ctx<'_>, buf: &[u8]) -> io::Result<Option<usize>> {
        loop {
            match (&self.stream).write(buf) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    ctx.log.chunk(
                        self.service,
                        self.peer,
                        Direction::Sent,
                        n,
                        self.dump.then_some(&buf[..n]),
                    );
                    return Ok(Some(n));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}
