//! §2 quiz: the server session against a replay of the transcript, and the player
//! (client) session against hostile server bytes.

use crate::drive::Driver;
use arbitrary::Arbitrary;
use socklab_core::line::{self, LineError, MAX_LINE};
use socklab_core::quiz::{
    MAX_OPERAND, Player, Problem, Quiz, QuizConfig, ServerLine, parse_answer, parse_server_line,
};
use socklab_core::rng::SplitMix64;
use socklab_core::{CloseReason, Duration, Instant, Session, Status};

/// One step of the player or the clock.
#[derive(Arbitrary, Debug)]
pub enum Op {
    /// The right answer to the last problem seen, as one line.
    Right,
    /// A wrong answer (off by a non-zero amount).
    Wrong(i8),
    /// Any bytes.
    Raw(Vec<u8>),
    /// The frontend drains up to this many bytes.
    Drain(u8),
    /// The peer half-closes.
    Eof,
    /// Time passes.
    Advance(u16),
    /// The timer fires now.
    Timeout,
    /// The clock jumps to the answer deadline and the timer fires.
    Deadline,
}

/// Settings and steps.
#[derive(Arbitrary, Debug)]
pub struct Input {
    seed: u64,
    count: u8,
    min: i64,
    span: u64,
    timeout_ms: u16,
    ops: Vec<Op>,
}

/// Run the steps; then check the whole transcript: the server's lines are §2's, the
/// problems are numbered in order with operands in range, and the verdict agrees with
/// the answers the server actually read (replayed here with the reference line rules).
pub fn session(input: Input) {
    let count = u32::from(input.count % 12) + 1;
    let min = input.min.clamp(-MAX_OPERAND, MAX_OPERAND);
    let max = min
        .saturating_add_unsigned(input.span % 2_000_000)
        .min(MAX_OPERAND);
    let timeout = Duration::from_millis(u64::from(input.timeout_ms) + 1);
    let config = QuizConfig::new(count, min, max, timeout).expect("valid settings");
    let quiz = Quiz::new(Instant::ZERO, config, SplitMix64::new(input.seed));
    let mut d = Driver::new(quiz, 0);
    for op in input.ops {
        match op {
            Op::Right | Op::Wrong(_) => {
                let (lines, _) = crate::lines(&d.out);
                let last = lines.iter().rev().find_map(|l| match parse_server_line(l) {
                    ServerLine::Problem(_, p) => p.answer(),
                    _ => None,
                });
                let v = last.unwrap_or(0);
                let v = match op {
                    Op::Wrong(off) => v.wrapping_add(i64::from(off.max(1))),
                    _ => v,
                };
                d.input(format!("{v}\n").as_bytes());
            }
            Op::Raw(b) => d.input(&b),
            Op::Drain(n) => {
                d.drain(n as usize);
                d.offer();
            }
            Op::Eof => d.eof(),
            Op::Advance(ms) => d.advance(u64::from(ms)),
            Op::Timeout => d.timeout(),
            Op::Deadline => d.to_deadline(),
        }
        if d.closed().is_some() {
            assert_eq!(d.s.poll_timeout(), None, "a closed quiz has no deadline");
        }
    }
    d.drain_all();
    check_transcript(&d.out, &d.consumed, count, min, max, d.closed());
}

fn check_transcript(
    out: &[u8],
    consumed: &[u8],
    count: u32,
    min: i64,
    max: i64,
    closed: Option<CloseReason>,
) {
    let (lines, rest) = crate::lines(out);
    assert!(rest.is_empty(), "the server ends every line");
    let mut problems: Vec<Problem> = Vec::new();
    let mut verdict = None;
    for (i, l) in lines.iter().enumerate() {
        assert!(l.len() < 64, "line longer than the queue's room");
        assert!(verdict.is_none(), "a line after the verdict");
        match parse_server_line(l) {
            ServerLine::Greeting(n) => assert!(i == 0 && n == count),
            ServerLine::Problem(k, p) => {
                assert!(i > 0 && k as usize == problems.len() + 1 && k <= count);
                assert!((min..=max).contains(&p.a) && (min..=max).contains(&p.b));
                assert!(p.answer().is_some());
                problems.push(p);
            }
            v @ (ServerLine::Wrong | ServerLine::TimeUp) => verdict = Some(v),
            ServerLine::Won(n) => {
                assert!(n == count && problems.len() as u32 == count);
                verdict = Some(ServerLine::Won(n));
            }
            ServerLine::Unknown => panic!("not a §2 line: {l:?}"),
        }
    }
    // Replay what the server read: every answer before the last problem was right.
    let mut answers = Vec::new();
    let mut rest = consumed;
    let mut too_long = false;
    loop {
        match line::split_line(rest, MAX_LINE) {
            Ok(Status::Complete(l)) => {
                answers.push(parse_answer(l.bytes).ok());
                rest = &rest[l.consumed..];
            }
            Ok(Status::Partial) => break,
            Err(LineError::TooLong) | Err(LineError::InvalidUtf8) => {
                too_long = true;
                break;
            }
        }
    }
    for (i, p) in problems
        .iter()
        .enumerate()
        .take(problems.len().saturating_sub(1))
    {
        assert_eq!(
            answers.get(i).copied().flatten(),
            p.answer(),
            "problem {} moved on",
            i + 1
        );
    }
    match verdict {
        Some(ServerLine::Won(_)) => {
            assert_eq!(closed, Some(CloseReason::Finished));
            let last = problems.last().expect("won after problems");
            assert_eq!(
                answers.get(problems.len() - 1).copied().flatten(),
                last.answer()
            );
        }
        Some(ServerLine::Wrong) => {
            let k = problems.len() - 1;
            let wrong_line = answers.get(k).is_some_and(|a| *a != problems[k].answer());
            assert!(wrong_line || (too_long && answers.len() == k));
            assert!(matches!(
                closed,
                Some(CloseReason::Finished | CloseReason::ProtocolError)
            ));
        }
        Some(_) => assert_eq!(closed, Some(CloseReason::Timeout)),
        None => assert!(matches!(closed, None | Some(CloseReason::PeerClosed))),
    }
}

/// The player (`socklab quiz`) against any server bytes: it answers only problem
/// lines, one decimal line each, and stops at a verdict or a line over the limit.
pub fn player(ops: Vec<(bool, Vec<u8>, u8)>) {
    let mut d = Driver::new(Player::new(), 0);
    for (eof, bytes, drain) in ops {
        if eof {
            d.eof();
        } else {
            d.input(&bytes);
        }
        d.drain(drain as usize);
        d.offer();
    }
    d.drain_all();
    let (answers, rest) = crate::lines(&d.out);
    assert!(rest.is_empty());
    assert_eq!(answers.len() as u32, d.s.answered());
    for a in answers {
        assert!(a.len() <= 20 && parse_answer(a).is_ok(), "{a:?}");
    }
    assert_eq!(d.s.outcome().is_some(), d.closed().is_some());
}
