//! The quiz server session: the greeting, one problem at a time, the verdict.

use super::answer::parse_answer;
use super::problem::{MAX_OPERAND, Problem, text};
use crate::line::{LineError, LineReader, MAX_LINE_BUF};
use crate::outbuf::OutBuf;
use crate::rng::Rng;
use crate::session::{CloseDetail, CloseReason, Session};
use crate::time::{Duration, Instant};
use core::fmt::Write;

/// Room for the longest line the server sends, with margin: a problem line with two
/// [`MAX_OPERAND`]-sized negatives and a u32 number is 41 bytes.
const LINE_ROOM: usize = 64;

/// Output queue size: a greeting plus a problem, or a problem plus a closing line.
const QUEUE: usize = 2 * LINE_ROOM;

/// Quiz server settings (its command-line flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct QuizConfig {
    count: u32,
    min: i64,
    max: i64,
    answer_timeout: Duration,
}

/// A [`QuizConfig`] that cannot work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ConfigError {
    /// `--count` must be at least 1.
    NoProblems,
    /// `--min` is above `--max`.
    EmptyRange,
    /// An operand bound is beyond ±[`MAX_OPERAND`], so a result might not fit an i64.
    OperandTooLarge,
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ConfigError::NoProblems => f.write_str("--count must be at least 1"),
            ConfigError::EmptyRange => f.write_str("--min must not be greater than --max"),
            ConfigError::OperandTooLarge => write!(
                f,
                "operands must lie within -{MAX_OPERAND}..={MAX_OPERAND} so that every result fits a 64-bit integer"
            ),
        }
    }
}

impl core::error::Error for ConfigError {}

impl QuizConfig {
    /// Default `--count`.
    pub const DEFAULT_COUNT: u32 = 10;
    /// Default `--answer-timeout`.
    pub const DEFAULT_ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

    /// Checked settings: `count` problems with operands in `min..=max`.
    pub fn new(
        count: u32,
        min: i64,
        max: i64,
        answer_timeout: Duration,
    ) -> Result<Self, ConfigError> {
        if count == 0 {
            return Err(ConfigError::NoProblems);
        }
        if min > max {
            return Err(ConfigError::EmptyRange);
        }
        if min < -MAX_OPERAND || max > MAX_OPERAND {
            return Err(ConfigError::OperandTooLarge);
        }
        Ok(QuizConfig {
            count,
            min,
            max,
            answer_timeout,
        })
    }

    /// Number of problems.
    pub fn count(&self) -> u32 {
        self.count
    }
}

impl Default for QuizConfig {
    /// The lab's quiz: 10 problems, operands 0..=999, 60 s per answer.
    fn default() -> Self {
        QuizConfig {
            count: Self::DEFAULT_COUNT,
            min: 0,
            max: 999,
            answer_timeout: Self::DEFAULT_ANSWER_TIMEOUT,
        }
    }
}

/// One player's quiz, server side.
#[derive(Debug)]
pub struct Quiz<R> {
    config: QuizConfig,
    rng: R,
    /// Number of the problem being answered (1-based).
    k: u32,
    expected: i64,
    deadline: Instant,
    lines: LineReader<MAX_LINE_BUF>,
    out: OutBuf<QUEUE>,
    close: Option<CloseReason>,
    /// How the quiz ended, for the teacher reading the log.
    detail: Option<CloseDetail>,
}

impl<R: Rng> Quiz<R> {
    /// Start a session at `now`: the greeting and problem 1 are queued at once, and the
    /// answer clock starts.
    pub fn new(now: Instant, config: QuizConfig, rng: R) -> Self {
        let mut q = Quiz {
            config,
            rng,
            k: 0,
            expected: 0,
            deadline: now,
            lines: LineReader::new(),
            out: OutBuf::new(),
            close: None,
            detail: None,
        };
        let _ = writeln!(
            q.out,
            "{}{}{}",
            text::GREETING_HEAD,
            config.count,
            text::GREETING_TAIL
        );
        q.next_problem(now);
        q
    }

    /// Number of problems answered right so far.
    pub fn solved(&self) -> u32 {
        self.k.saturating_sub(1)
    }

    fn next_problem(&mut self, now: Instant) {
        self.k += 1;
        let p = Problem::generate(&mut self.rng, self.config.min, self.config.max);
        // QuizConfig::new bounds the operands so this cannot overflow.
        self.expected = p.answer().unwrap_or(0);
        let _ = p.render(self.k, &mut self.out);
        let _ = self.out.push(b"\n");
        self.deadline = now + self.config.answer_timeout;
    }

    fn finish(&mut self, line: &str, reason: CloseReason, detail: CloseDetail) {
        let _ = self.out.push(line.as_bytes());
        let _ = self.out.push(b"\n");
        self.close = Some(reason);
        self.detail = Some(detail);
    }

    fn judge(&mut self, now: Instant, verdict: Verdict) {
        match verdict {
            Verdict::Right if self.k == self.config.count => {
                let n = self.config.count;
                let _ = writeln!(self.out, "{}{n}{}", text::WON_HEAD, text::WON_TAIL);
                self.close = Some(CloseReason::Finished);
                self.detail = Some(CloseDetail::QuizWon { count: n });
            }
            Verdict::Right => self.next_problem(now),
            Verdict::Wrong => {
                let at = self.k;
                self.finish(
                    text::WRONG,
                    CloseReason::Finished,
                    CloseDetail::QuizWrong { at },
                );
            }
            Verdict::TooLong => {
                let detail = CloseDetail::QuizLineTooLong { at: self.k };
                self.finish(text::WRONG, CloseReason::ProtocolError, detail);
            }
        }
    }
}

/// What one answer line amounts to. Invalid UTF-8 cannot match the ASCII answer shape,
/// so it is simply wrong (§0).
enum Verdict {
    Right,
    Wrong,
    TooLong,
}

impl<R: Rng> Session for Quiz<R> {
    fn handle_input(&mut self, now: Instant, input: &[u8]) -> usize {
        let mut used = 0;
        // Answer only while the reply is sure to fit; the rest waits for poll_output.
        while self.close.is_none() && used < input.len() && self.out.free() >= LINE_ROOM {
            let step = self.lines.next_line(&input[used..]);
            used += step.consumed;
            let verdict = match step.line {
                None => break,
                Some(Ok(line)) if parse_answer(line) == Ok(self.expected) => Verdict::Right,
                Some(Err(LineError::TooLong)) => Verdict::TooLong,
                Some(_) => Verdict::Wrong,
            };
            self.judge(now, verdict);
        }
        if self.close.is_some() {
            return input.len();
        }
        used
    }

    fn handle_eof(&mut self, _now: Instant) {
        if self.close.is_none() {
            self.close = Some(CloseReason::PeerClosed);
            self.detail = Some(CloseDetail::QuizLeft { at: self.k });
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.close.is_none() && now >= self.deadline {
            let detail = CloseDetail::QuizTimedOut { at: self.k };
            self.finish(text::TIME_UP, CloseReason::Timeout, detail);
        }
    }

    fn poll_output(&mut self, buf: &mut [u8]) -> usize {
        self.out.pop_into(buf)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.close.is_none().then_some(self.deadline)
    }

    fn close_reason(&self) -> Option<CloseReason> {
        self.close
    }

    fn wants_output(&self) -> bool {
        !self.out.is_empty()
    }

    fn close_detail(&self) -> Option<CloseDetail> {
        self.detail
    }
}
