//! The solving player: a blocking socket loop around [`socklab_core::quiz::Player`].
//!
//! Server bytes are fed to the player one line at a time (split at each LF), and each
//! line is printed before the answer it provokes, so the transcript interleaves exactly
//! as the conversation did, however the server's bytes were cut into reads.

use crate::client::conn::{Trace, recv};
use crate::os_error::describe;
use socklab_core::Session;
use socklab_core::line::MAX_LINE;
use socklab_core::quiz::{Outcome, Player};
use std::io::{self, Write};
use std::net::TcpStream;
use std::time::Instant as StdInstant;

/// Play until the game is decided.
pub(super) fn play(stream: TcpStream, trace: &Trace) -> io::Result<Outcome> {
    let mut game = Game {
        player: Player::new(),
        sock: &stream,
        out: io::stdout().lock(),
        trace,
        start: StdInstant::now(),
        line_open: false,
    };
    let mut buf = [0u8; 4096];
    let sock = &stream;
    let mut eof = false;
    loop {
        match game.player.outcome() {
            // Without EOF, the player gave up on a line over the §0 limit.
            Some(Outcome::Disconnected) if !eof => {
                game.end_open_line()?;
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "the server sent a line longer than {MAX_LINE} bytes; is it a quiz server?"
                    ),
                ));
            }
            Some(outcome) => return Ok(outcome),
            None => {}
        }
        let n = recv(sock, &mut buf)?;
        if n == 0 {
            eof = true;
            game.end_open_line()?;
            let now = game.now();
            game.player.handle_eof(now);
            continue;
        }
        trace.received(n);
        game.feed(&buf[..n])?;
    }
}

struct Game<'a> {
    player: Player,
    sock: &'a TcpStream,
    out: io::StdoutLock<'static>,
    trace: &'a Trace,
    start: StdInstant,
    /// The last thing printed was part of a server line still waiting for its LF.
    line_open: bool,
}

impl Game<'_> {
    fn now(&self) -> socklab_core::Instant {
        socklab_core::Instant::from_millis(self.start.elapsed().as_millis() as u64)
    }

    /// Print and feed one read's worth of server bytes, line by line.
    fn feed(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() && self.player.outcome().is_none() {
            let len = bytes
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |i| i + 1);
            let (segment, rest) = bytes.split_at(len);
            bytes = rest;
            self.print(segment)?;
            self.line_open = segment.last() != Some(&b'\n');
            let mut fed = 0;
            while fed < segment.len() {
                let now = self.now();
                let took = self.player.handle_input(now, &segment[fed..]);
                fed += took;
                let answered = self.send_answers()?;
                if took == 0 && !answered {
                    // Cannot happen with the core Player (it only pauses for its own
                    // output queue, which send_answers empties); guard against a spin.
                    break;
                }
            }
        }
        self.out.flush()
    }

    /// Send and print whatever the player has to say; true if it said anything.
    fn send_answers(&mut self) -> io::Result<bool> {
        let mut buf = [0u8; 64];
        let mut any = false;
        loop {
            let n = self.player.poll_output(&mut buf);
            if n == 0 {
                return Ok(any);
            }
            any = true;
            self.print(&buf[..n])?;
            match self.sock.write_all(&buf[..n]) {
                Ok(()) => self.trace.sent(n),
                // The server may have closed in the meantime (time up): its verdict or
                // its EOF is still to be read, and decides the game.
                Err(e) => self
                    .trace
                    .log(format_args!("send failed: {}", describe(&e))),
            }
        }
    }

    fn print(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot write standard output: {}", describe(&e)),
            )
        })
    }

    /// End a server line cut off by EOF, so the shell prompt starts on its own line.
    fn end_open_line(&mut self) -> io::Result<()> {
        if self.line_open {
            self.line_open = false;
            self.print(b"\n")?;
        }
        self.out.flush()
    }
}
