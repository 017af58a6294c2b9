//! Closing: our FIN, then lingering to discard the peer's late bytes until its EOF, so
//! the kernel never answers them with a reset that destroys our last answer.

use std::net::Shutdown;

use socklab_core::Instant;
use socklab_core::session::CloseReason;

use super::{Conn, Ctx, LINGER, Phase, READS_PER_TURN, Step, read_some};

impl Conn {
    /// The session ended: send our FIN. True when the connection must linger to read
    /// the peer's late bytes; false when it can be dropped now.
    pub fn close(&mut self, reason: CloseReason, now: Instant) -> bool {
        let _ = self.stream.shutdown(Shutdown::Write);
        self.input = Vec::new();
        let linger = !self.eof && reason != CloseReason::Reset && self.phase == Phase::Open;
        if linger {
            self.phase = Phase::Lingering(now + LINGER);
        } else if self.phase == Phase::Stopping && !self.eof {
            // A stopping server does not linger, but input left unread would turn the
            // close into a reset that can destroy the last answer (a LOGIN's `OK`) in
            // the peer's buffer: read what is there now and drop it.
            let mut scrap = [0u8; 4096];
            for _ in 0..READS_PER_TURN {
                if !matches!(read_some(&mut self.stream, &mut scrap), Ok(Some(n)) if n > 0) {
                    break;
                }
            }
        }
        linger
    }

    pub(super) fn linger(&mut self, ctx: &mut Ctx<'_>) -> Step {
        for _ in 0..READS_PER_TURN {
            match read_some(&mut self.stream, ctx.read_buf) {
                Ok(None) => return Step::Wait,
                Ok(Some(0)) | Err(_) => return Step::Remove,
                Ok(Some(_)) => {}
            }
        }
        Step::Again
    }
}
