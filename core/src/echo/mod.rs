//! §1 echo: every byte back, unchanged and in order; `quit` and `stop` lines; `--upper`;
//! framed mode.
//!
//! Echo is binary-safe, so it does not split lines into a buffer: bytes stream straight
//! into the output queue, and only a line that could still turn out to be exactly
//! `quit` or `stop` (at most `stop\r`, five bytes) is held back until its LF decides.
//! The session therefore needs no line buffer at all, which is what lets a server hold
//! thousands of echo connections in a few MiB.
//!
//! Held bytes are not kept hostage: after [`FLUSH_AFTER`] without new input they are
//! sent anyway (§1), and the line is still watched, so `q`, a pause, then `uit\n` has
//! echoed `q` and quits. EOF and a stopping server send them too.
//!
//! The two modes are two files: `hold` (raw bytes, the hold-back of a possible command
//! line) and `framed` (§7 frames, streamed). This one has the session itself and what
//! both modes share: the commands, and giving back held bytes after a pause, at EOF or
//! when the server stops.

mod framed;
mod hold;

use crate::frame::{self, HEADER_LEN};
use crate::outbuf::OutBuf;
use crate::session::{CloseDetail, CloseReason, Event, Session};
use crate::time::{Duration, Instant};

/// Default `--chunk`: the lab's `recv(1024)`.
pub const DEFAULT_CHUNK: usize = 1024;

/// How an echo server behaves (its command-line flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EchoConfig {
    /// `--upper`: ASCII letters are upper-cased on the way back.
    pub upper: bool,
    /// `--allow-stop`: the line `stop` stops the whole server.
    pub allow_stop: bool,
    /// `--framed`: the stream is §7 frames, each echoed as one frame.
    pub framed: bool,
    /// `--max-frame`: the largest payload accepted in framed mode.
    pub max_frame: u32,
}

impl Default for EchoConfig {
    fn default() -> Self {
        EchoConfig {
            upper: false,
            allow_stop: false,
            framed: false,
            max_frame: frame::DEFAULT_MAX_FRAME,
        }
    }
}

/// The longest command line held back: `stop\r`.
const HOLD: usize = 5;

/// §1: held bytes go out anyway once this long passed without new input, so a client
/// that sends `q` and waits sees its `q`.
pub const FLUSH_AFTER: Duration = Duration::from_millis(200);

#[derive(Debug)]
enum Mode {
    /// Raw bytes. `held` is the current line so far while it is still a prefix of a
    /// command, of which the first `sent` bytes were already sent (flushed after a
    /// pause); `candidate` is false once the line cannot be a command.
    Raw {
        held: [u8; HOLD],
        held_len: u8,
        sent: u8,
        candidate: bool,
    },
    /// Waiting for a frame header. A 4-byte payload is collected too before anything is
    /// sent, since the frame might be the command `quit` or `stop`.
    Header {
        bytes: [u8; HEADER_LEN + 4],
        have: u8,
    },
    /// Streaming the payload of a frame whose header was already echoed.
    Payload { remaining: u32 },
}

/// One echo connection, with an output queue of `N` bytes.
///
/// `N` bounds both memory and how far the peer may run ahead of its own reading: when
/// the queue is full the session stops taking input, and TCP flow control does the rest.
#[derive(Debug)]
pub struct Echo<const N: usize = DEFAULT_CHUNK> {
    config: EchoConfig,
    mode: Mode,
    out: OutBuf<N>,
    close: Option<CloseReason>,
    detail: Option<CloseDetail>,
    stop_pending: bool,
    /// When input was last taken: held bytes go out [`FLUSH_AFTER`] later.
    last_input: Instant,
    /// Held bytes are to be sent as soon as the queue has room (the pause passed, the
    /// peer sent EOF, or the server is stopping). New input clears it.
    release: bool,
}

impl<const N: usize> Echo<N> {
    /// A new session. Echo says nothing until spoken to.
    pub fn new(config: EchoConfig) -> Self {
        const { assert!(N >= 2 * (HEADER_LEN + 4), "echo queue too small") };
        let mode = if config.framed {
            Mode::Header {
                bytes: [0; HEADER_LEN + 4],
                have: 0,
            }
        } else {
            Mode::Raw {
                held: [0; HOLD],
                held_len: 0,
                sent: 0,
                candidate: true,
            }
        };
        Echo {
            config,
            mode,
            out: OutBuf::new(),
            close: None,
            detail: None,
            stop_pending: false,
            last_input: Instant::ZERO,
            release: false,
        }
    }

    /// Queue `bytes`, upper-cased if configured. The caller checked the room.
    fn emit(out: &mut OutBuf<N>, upper: bool, bytes: &[u8]) {
        let dst = out.tail(bytes.len());
        dst.copy_from_slice(bytes);
        if upper {
            dst.make_ascii_uppercase();
        }
    }

    fn command(&mut self, word: &[u8]) -> bool {
        match word {
            b"quit" => {
                self.close = Some(CloseReason::Quit);
                true
            }
            b"stop" if self.config.allow_stop => {
                self.close = Some(CloseReason::Quit);
                self.stop_pending = true;
                true
            }
            _ => false,
        }
    }

    /// Send the held bytes not sent yet, if they fit; true when none are left.
    ///
    /// In raw mode the line stays watched (only `sent` moves), so a pause does not stop
    /// `quit` from being a command. On EOF held bytes are data after all: a held prefix
    /// is not a command ("a `quit` cut off by EOF is data"), and a frame cut off while
    /// its header (and a possible 4-byte command) was being collected goes back as far
    /// as it got, like a cut-off frame of any other length. Framed mode releases only
    /// when no more input will come (EOF, stop): a frame's header cannot be taken back.
    fn release_held(&mut self) -> bool {
        let upper = self.config.upper;
        match &mut self.mode {
            Mode::Raw {
                held,
                held_len,
                sent,
                ..
            } => {
                let (hl, hs) = (*held_len as usize, *sent as usize);
                if hl > hs {
                    if self.out.free() < hl - hs {
                        return false;
                    }
                    let h = *held;
                    *sent = *held_len;
                    Self::emit(&mut self.out, upper, &h[hs..hl]);
                }
            }
            Mode::Header { bytes, have } => {
                let h = *have as usize;
                if h > 0 {
                    if self.out.free() < h {
                        return false;
                    }
                    let b = *bytes;
                    *have = 0;
                    let header = h.min(HEADER_LEN);
                    Self::emit(&mut self.out, false, &b[..header]);
                    Self::emit(&mut self.out, upper, &b[header..h]);
                }
            }
            Mode::Payload { .. } => {}
        }
        true
    }

    /// True while [`release_held`](Self::release_held) still has bytes to give back.
    fn holds_bytes(&self) -> bool {
        match self.mode {
            Mode::Raw { held_len, sent, .. } => held_len > sent,
            Mode::Header { have, .. } => have > 0,
            Mode::Payload { .. } => false,
        }
    }
}

impl<const N: usize> Session for Echo<N> {
    fn handle_input(&mut self, now: Instant, input: &[u8]) -> usize {
        if self.close.is_some() {
            return input.len();
        }
        let used = if self.config.framed {
            self.framed_input(input)
        } else {
            self.raw_input(input)
        };
        if used > 0 {
            // A new pause starts; bytes held from now on wait for it.
            self.last_input = now;
            self.release = false;
        }
        used
    }

    fn handle_eof(&mut self, _now: Instant) {
        if self.close.is_none() {
            self.close = Some(CloseReason::PeerClosed);
            // Held bytes that do not fit now go out from poll_output.
            self.release = true;
            let _ = self.release_held();
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.poll_timeout().is_some_and(|t| now >= t) {
            self.release = true;
            let _ = self.release_held();
        }
    }

    fn poll_output(&mut self, buf: &mut [u8]) -> usize {
        let n = self.out.pop_into(buf);
        if self.release && n < buf.len() && self.holds_bytes() && self.release_held() {
            return n + self.out.pop_into(&mut buf[n..]);
        }
        n
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let waiting = matches!(self.mode, Mode::Raw { held_len, sent, .. } if held_len > sent);
        (waiting && !self.release && self.close.is_none()).then(|| self.last_input + FLUSH_AFTER)
    }

    fn poll_event(&mut self) -> Option<Event> {
        core::mem::take(&mut self.stop_pending).then_some(Event::StopServer)
    }

    fn close_reason(&self) -> Option<CloseReason> {
        self.close
    }

    fn wants_output(&self) -> bool {
        !self.out.is_empty() || (self.release && self.holds_bytes())
    }

    fn close_detail(&self) -> Option<CloseDetail> {
        self.detail
    }

    /// What was taken is owed: held bytes go back (the frontend feeds nothing more and
    /// closes the connection once they are out).
    fn handle_stop(&mut self, _now: Instant) {
        if self.close.is_none() {
            self.release = true;
            let _ = self.release_held();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(config: EchoConfig, input: &[u8]) -> heapless::Vec<u8, 64> {
        let mut e = Echo::<16>::new(config);
        assert_eq!(e.handle_input(Instant::ZERO, input), input.len());
        e.handle_eof(Instant::ZERO);
        let mut out = heapless::Vec::new();
        let mut buf = [0u8; 3];
        while e.wants_output() {
            let n = e.poll_output(&mut buf);
            out.extend_from_slice(&buf[..n]).unwrap();
        }
        assert_eq!(e.poll_output(&mut buf), 0);
        out
    }

    #[test]
    fn frame_cut_off_by_eof_goes_back_as_far_as_it_got() {
        let framed = EchoConfig {
            framed: true,
            ..EchoConfig::default()
        };
        // A 4-byte frame is held while it might be `quit`; EOF makes it data.
        for input in [
            &b"\0\0\0\x03qui\0\0\0\x04"[..],
            b"\0\0\0\x04qu",
            b"\0\0",
            b"\0\0\0\x05qu",
        ] {
            assert_eq!(run(framed, input), input, "{input:?}");
        }
        let upper = EchoConfig {
            upper: true,
            ..framed
        };
        assert_eq!(run(upper, b"\0\0\0\x04ab"), b"\0\0\0\x04AB");
        // A whole `quit` frame is still the command.
        assert_eq!(run(framed, b"\0\0\0\x01a\0\0\0\x04quit"), b"\0\0\0\x01a");
    }

    #[test]
    fn held_prefix_is_data_at_eof() {
        assert_eq!(run(EchoConfig::default(), b"ab\nqui"), b"ab\nqui");
        assert_eq!(run(EchoConfig::default(), b"ab\nquit"), b"ab\nquit");
        assert_eq!(run(EchoConfig::default(), b"ab\nquit\nc"), b"ab\n");
    }
}
