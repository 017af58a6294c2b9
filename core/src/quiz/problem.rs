//! Quiz problems: generated from an [`Rng`], rendered as `<k>. <a> <op> <b>`, and parsed
//! back by clients (§2).

use crate::rng::Rng;
use nom::IResult;
use nom::Parser;
use nom::bytes::complete::tag;
use nom::character::complete::{digit1, one_of};
use nom::combinator::{all_consuming, map_res, opt, recognize};

/// The largest operand magnitude for which every product fits in an i64:
/// floor(sqrt(i64::MAX)).
pub const MAX_OPERAND: i64 = 3_037_000_499;

/// An arithmetic operator of §2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Op {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
}

impl Op {
    /// The operator's character on the wire.
    pub const fn symbol(self) -> char {
        match self {
            Op::Add => '+',
            Op::Sub => '-',
            Op::Mul => '*',
        }
    }
}

/// One problem: `a op b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Problem {
    /// Left operand.
    pub a: i64,
    /// Operator.
    pub op: Op,
    /// Right operand.
    pub b: i64,
}

impl Problem {
    /// Draw a problem with both operands in `min..=max`.
    pub fn generate<R: Rng>(rng: &mut R, min: i64, max: i64) -> Problem {
        let op = match rng.below(3) {
            0 => Op::Add,
            1 => Op::Sub,
            _ => Op::Mul,
        };
        let a = rng.in_range(min, max);
        let b = rng.in_range(min, max);
        Problem { a, op, b }
    }

    /// The exact result, or `None` if it does not fit an i64 (never, for operands
    /// within [`MAX_OPERAND`]).
    pub fn answer(&self) -> Option<i64> {
        match self.op {
            Op::Add => self.a.checked_add(self.b),
            Op::Sub => self.a.checked_sub(self.b),
            Op::Mul => self.a.checked_mul(self.b),
        }
    }

    /// Write the problem line `<k>. <a> <op> <b>` (without LF).
    pub fn render<W: core::fmt::Write>(&self, k: u32, w: &mut W) -> core::fmt::Result {
        write!(w, "{k}. {} {} {}", self.a, self.op.symbol(), self.b)
    }
}

fn signed(input: &[u8]) -> IResult<&[u8], i64> {
    map_res(recognize((opt(tag(&b"-"[..])), digit1)), |s: &[u8]| {
        // recognize() gave ASCII sign and digits only.
        core::str::from_utf8(s)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .ok_or(())
    })
    .parse(input)
}

fn problem_line(input: &[u8]) -> IResult<&[u8], (u32, Problem)> {
    let (rest, (k, _, a, _, op, _, b)) = all_consuming((
        map_res(digit1, |s: &[u8]| {
            core::str::from_utf8(s)
                .ok()
                .and_then(|s| s.parse::<u32>().ok())
                .ok_or(())
        }),
        tag(&b". "[..]),
        signed,
        tag(&b" "[..]),
        one_of("+-*"),
        tag(&b" "[..]),
        signed,
    ))
    .parse(input)?;
    let op = match op {
        '+' => Op::Add,
        '-' => Op::Sub,
        _ => Op::Mul,
    };
    Ok((rest, (k, Problem { a, op, b })))
}

/// Parse a problem line (without its LF) into its number and problem.
pub fn parse_problem_line(line: &[u8]) -> Option<(u32, Problem)> {
    problem_line(line).ok().map(|(_, p)| p)
}

/// What a server line of the quiz means to a player.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ServerLine {
    /// `> Hi! You need to solve N arithmetic problems:`
    Greeting(u32),
    /// `<k>. <a> <op> <b>`
    Problem(u32, Problem),
    /// `> It's wrong!`
    Wrong,
    /// `> Time is up!`
    TimeUp,
    /// `> You won! All N answers are correct.`
    Won(u32),
    /// Anything else.
    Unknown,
}

/// The fixed lines of §2.
pub mod text {
    /// Wrong-answer line.
    pub const WRONG: &str = "> It's wrong!";
    /// Answer-timeout line.
    pub const TIME_UP: &str = "> Time is up!";
    /// Greeting, before the count.
    pub const GREETING_HEAD: &str = "> Hi! You need to solve ";
    /// Greeting, after the count.
    pub const GREETING_TAIL: &str = " arithmetic problems:";
    /// Win line, before the count.
    pub const WON_HEAD: &str = "> You won! All ";
    /// Win line, after the count.
    pub const WON_TAIL: &str = " answers are correct.";
}

fn count_between(line: &[u8], head: &str, tail: &str) -> Option<u32> {
    let n = line
        .strip_prefix(head.as_bytes())?
        .strip_suffix(tail.as_bytes())?;
    if n.is_empty() || !n.iter().all(u8::is_ascii_digit) {
        return None;
    }
    core::str::from_utf8(n).ok()?.parse().ok()
}

/// Classify one line the server sent (without its LF).
pub fn parse_server_line(line: &[u8]) -> ServerLine {
    if line == text::WRONG.as_bytes() {
        ServerLine::Wrong
    } else if line == text::TIME_UP.as_bytes() {
        ServerLine::TimeUp
    } else if let Some(n) = count_between(line, text::GREETING_HEAD, text::GREETING_TAIL) {
        ServerLine::Greeting(n)
    } else if let Some(n) = count_between(line, text::WON_HEAD, text::WON_TAIL) {
        ServerLine::Won(n)
    } else if let Some((k, p)) = parse_problem_line(line) {
        ServerLine::Problem(k, p)
    } else {
        ServerLine::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heapless::String;

    #[test]
    fn render_and_parse_round_trip() {
        let p = Problem {
            a: -5,
            op: Op::Mul,
            b: 17,
        };
        let mut s: String<64> = String::new();
        p.render(4, &mut s).unwrap();
        assert_eq!(s.as_str(), "4. -5 * 17");
        assert_eq!(parse_problem_line(s.as_bytes()), Some((4, p)));
        assert_eq!(p.answer(), Some(-85));
    }

    #[test]
    fn rejects_malformed_problem_lines() {
        for bad in [
            &b"1.  23 + 45"[..],
            b"1. 23 + 45 ",
            b"1. 23 / 45",
            b"x. 1 + 2",
            b"1. +1 + 2",
            b"1. 1 + ",
            b"1. 99999999999999999999 + 1",
        ] {
            assert_eq!(parse_problem_line(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn classifies_server_lines() {
        assert_eq!(
            parse_server_line(b"> Hi! You need to solve 10 arithmetic problems:"),
            ServerLine::Greeting(10)
        );
        assert_eq!(
            parse_server_line(b"> You won! All 3 answers are correct."),
            ServerLine::Won(3)
        );
        assert_eq!(parse_server_line(b"> It's wrong!"), ServerLine::Wrong);
        assert_eq!(parse_server_line(b"> Time is up!"), ServerLine::TimeUp);
        assert_eq!(parse_server_line(b"hello"), ServerLine::Unknown);
    }
}
