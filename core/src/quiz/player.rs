//! The quiz client as a session: reads problem lines, answers them, reports the outcome.

use super::problem::{ServerLine, parse_server_line};
use crate::line::{LineReader, MAX_LINE_BUF};
use crate::outbuf::OutBuf;
use crate::session::{CloseReason, Session};
use crate::time::Instant;
use core::fmt::Write;

/// How a game ended, from the player's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Outcome {
    /// `> You won! ...`
    Won,
    /// `> It's wrong!`
    Wrong,
    /// `> Time is up!`
    TimeUp,
    /// The server closed without a verdict, or sent a line over the limit.
    Disconnected,
}

/// A quiz player that solves every problem itself.
#[derive(Debug, Default)]
pub struct Player {
    lines: LineReader<MAX_LINE_BUF>,
    out: OutBuf<64>,
    outcome: Option<Outcome>,
    answered: u32,
    count: Option<u32>,
}

impl Player {
    /// A player waiting for the greeting.
    pub fn new() -> Self {
        Self::default()
    }

    /// How the game ended, once it has.
    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }

    /// Answers sent so far.
    pub fn answered(&self) -> u32 {
        self.answered
    }

    /// The number of problems the greeting announced.
    pub fn count(&self) -> Option<u32> {
        self.count
    }

    fn on_line(&mut self, line: ServerLine) {
        match line {
            ServerLine::Greeting(n) => self.count = Some(n),
            ServerLine::Problem(_, p) => {
                // A server outside §2 could send operands whose result overflows; answer
                // 0 (and lose) rather than panic.
                let _ = writeln!(self.out, "{}", p.answer().unwrap_or(0));
                self.answered += 1;
            }
            ServerLine::Won(_) => self.outcome = Some(Outcome::Won),
            ServerLine::Wrong => self.outcome = Some(Outcome::Wrong),
            ServerLine::TimeUp => self.outcome = Some(Outcome::TimeUp),
            ServerLine::Unknown => {}
        }
    }
}

impl Session for Player {
    fn handle_input(&mut self, _now: Instant, input: &[u8]) -> usize {
        let mut used = 0;
        while self.outcome.is_none() && used < input.len() && self.out.free() >= 32 {
            let step = self.lines.next_line(&input[used..]);
            used += step.consumed;
            let line = match step.line {
                None => break,
                Some(Ok(line)) => parse_server_line(line),
                Some(Err(_)) => {
                    self.outcome = Some(Outcome::Disconnected);
                    break;
                }
            };
            self.on_line(line);
        }
        if self.outcome.is_some() {
            return input.len();
        }
        used
    }

    fn handle_eof(&mut self, _now: Instant) {
        self.outcome.get_or_insert(Outcome::Disconnected);
    }

    fn poll_output(&mut self, buf: &mut [u8]) -> usize {
        self.out.pop_into(buf)
    }

    fn close_reason(&self) -> Option<CloseReason> {
        self.outcome.map(|o| match o {
            Outcome::Disconnected => CloseReason::PeerClosed,
            _ => CloseReason::Finished,
        })
    }

    fn wants_output(&self) -> bool {
        !self.out.is_empty()
    }
}
