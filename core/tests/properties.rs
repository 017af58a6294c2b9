//! Property tests: every encode/parse pair round-trips, and the streaming readers give
//! the same answer however the input is split.

use proptest::prelude::*;
use socklab_core::echo::{Echo, EchoConfig};
use socklab_core::frame;
use socklab_core::line::{LineError, LineReader, split_line};
use socklab_core::quiz::{MAX_OPERAND, Op, Problem, parse_answer, parse_problem_line};
use socklab_core::{Instant, Session, Status};

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![Just(Op::Add), Just(Op::Sub), Just(Op::Mul)]
}

/// Cut `data` at the given fractions, to replay it as a series of reads.
fn pieces(data: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    at.sort_unstable();
    let mut out = Vec::new();
    let mut last = 0;
    for a in at.into_iter().chain([data.len()]) {
        out.push(data[last..a].to_vec());
        last = a;
    }
    out
}

proptest! {
    #[test]
    fn frame_round_trip(payload in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let mut buf = vec![0u8; payload.len() + frame::HEADER_LEN];
        let n = frame::encode(&payload, &mut buf).unwrap();
        prop_assert_eq!(n, buf.len());
        let f = frame::decode(&buf, 4096).unwrap().complete().unwrap();
        prop_assert_eq!(f.payload, &payload[..]);
        prop_assert_eq!(f.discard, n);
        for cut in 0..n {
            prop_assert_eq!(frame::decode(&buf[..cut], 4096), Ok(Status::Partial));
        }
    }

    #[test]
    fn problem_line_round_trip(
        k in 1u32..,
        a in -MAX_OPERAND..=MAX_OPERAND,
        b in -MAX_OPERAND..=MAX_OPERAND,
        op in op(),
    ) {
        let p = Problem { a, op, b };
        let mut s = String::new();
        p.render(k, &mut s).unwrap();
        prop_assert_eq!(parse_problem_line(s.as_bytes()), Some((k, p)));
        prop_assert!(p.answer().is_some(), "operands within MAX_OPERAND always fit");
    }

    #[test]
    fn answer_round_trip(v in any::<i64>(), lead in 0usize..4, trail in 0usize..4, plus in any::<bool>()) {
        let sign = if plus && v >= 0 { "+" } else { "" };
        let line = format!("{}{sign}{v}{}", " ".repeat(lead), " ".repeat(trail));
        prop_assert_eq!(parse_answer(line.as_bytes()), Ok(v));
    }

    #[test]
    fn answer_parser_never_panics(line in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = parse_answer(&line);
    }

    #[test]
    fn line_reader_agrees_with_split_line_for_any_split(
        data in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'\r'), Just(b'a')], 0..60),
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        const MAX: usize = 8;
        // Reference: split_line over the whole input at once.
        let mut expected = Vec::new();
        let mut rest = &data[..];
        loop {
            match split_line(rest, MAX) {
                Ok(Status::Complete(l)) => { expected.push(Ok(l.bytes.to_vec())); rest = &rest[l.consumed..]; }
                Ok(Status::Partial) => break,
                Err(e) => { expected.push(Err(e)); break; }
            }
        }
        let mut reader = LineReader::<{ MAX + 1 }>::new();
        let mut got: Vec<Result<Vec<u8>, LineError>> = Vec::new();
        'outer: for piece in pieces(&data, &cuts) {
            let mut rest = &piece[..];
            while !rest.is_empty() {
                let step = reader.next_line(rest);
                rest = &rest[step.consumed..];
                match step.line {
                    Some(Ok(l)) => got.push(Ok(l.to_vec())),
                    Some(Err(e)) => { got.push(Err(e)); break 'outer; }
                    None => {}
                }
            }
        }
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn echo_output_does_not_depend_on_read_sizes(
        data in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'\r'), Just(b'q'), Just(b'u'), Just(b'i'), Just(b't'), any::<u8>()], 0..200),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let run = |parts: Vec<Vec<u8>>| {
            let mut e: Echo<16> = Echo::new(EchoConfig::default());
            let mut out = Vec::new();
            let mut buf = [0u8; 5];
            for p in parts {
                let mut rest = &p[..];
                while !rest.is_empty() && e.close_reason().is_none() {
                    let n = e.handle_input(Instant::ZERO, rest);
                    rest = &rest[n..];
                    loop { let k = e.poll_output(&mut buf); if k == 0 { break; } out.extend_from_slice(&buf[..k]); }
                }
            }
            e.handle_eof(Instant::ZERO);
            loop { let k = e.poll_output(&mut buf); if k == 0 { break; } out.extend_from_slice(&buf[..k]); }
            out
        };
        let whole = run(vec![data.clone()]);
        prop_assert_eq!(run(pieces(&data, &cuts)), whole.clone());
        // And the output is the input up to the first `quit` line, minus that line.
        let mut model = Vec::new();
        for line in data.split_inclusive(|&b| b == b'\n') {
            if line == b"quit\n" || line == b"quit\r\n" { break; }
            model.extend_from_slice(line);
        }
        prop_assert_eq!(whole, model);
    }
}
