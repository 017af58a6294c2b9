//! §2 quiz over real loopback sockets, against the built binary.

mod serve_support;

use std::io::Write;

use serve_support::*;
use socklab_core::quiz::Problem;
use socklab_core::rng::SplitMix64;

fn quiz(extra: &[&str]) -> Server {
    let mut args = vec!["quiz", "--port", "0"];
    args.extend_from_slice(extra);
    serve(&args, 1)
}

/// The problems `--seed seed` gives, from the same portable generator the server uses.
fn problems(seed: u64, min: i64, max: i64, n: usize) -> Vec<Problem> {
    let mut rng = SplitMix64::new(seed);
    (0..n)
        .map(|_| Problem::generate(&mut rng, min, max))
        .collect()
}

fn line(k: usize, p: &Problem) -> String {
    format!("{k}. {} {} {}\n", p.a, p.op.symbol(), p.b)
}

#[test]
fn seeded_transcript_is_fixed() {
    // The bytes of a whole session with --seed 7, written out: a change to the
    // generator or the wording shows up here first.
    let server = quiz(&["--seed", "7"]);
    let mut c = server.connect();
    assert_eq!(
        read_line(&mut c),
        "> Hi! You need to solve 10 arithmetic problems:\n"
    );
    let p = problems(7, 0, 999, 2);
    assert_eq!(read_line(&mut c), "1. 804 + 346\n");
    assert_eq!(line(1, &p[0]), "1. 804 + 346\n");
    c.write_all(b"1150\n").unwrap();
    assert_eq!(read_line(&mut c), line(2, &p[1]));
    let wrong = p[1].answer().unwrap() + 1;
    c.write_all(format!("{wrong}\n").as_bytes()).unwrap();
    assert_eq!(read_to_eof(&mut c), b"> It's wrong!\n");
    // A teacher reading the log sees how it ended.
    server.wait_log("client disconnected (session finished: wrong at 2)");
}

#[test]
fn winning_three_problems_with_nc_style_answers() {
    let server = quiz(&["--count", "3", "--seed", "99"]);
    let mut c = server.connect();
    assert_eq!(
        read_line(&mut c),
        "> Hi! You need to solve 3 arithmetic problems:\n"
    );
    let answers = ["{}\n", "  +{}  \r\n", "{}\r\n"];
    for (k, p) in problems(99, 0, 999, 3).iter().enumerate() {
        assert_eq!(read_line(&mut c), line(k + 1, p));
        let a = answers[k].replace("{}", &p.answer().unwrap().to_string());
        c.write_all(a.as_bytes()).unwrap();
    }
    assert_eq!(
        read_to_eof(&mut c),
        b"> You won! All 3 answers are correct.\n"
    );
    server.wait_log("client disconnected (session finished: won 3/3)");
}

#[test]
fn same_seed_same_problems_for_every_session() {
    let server = quiz(&["--seed", "5"]);
    let mut a = server.connect();
    let mut b = server.connect();
    let la = [read_line(&mut a), read_line(&mut a)];
    let lb = [read_line(&mut b), read_line(&mut b)];
    assert_eq!(la, lb);
}

#[test]
fn no_answer_in_time() {
    let server = quiz(&["--answer-timeout", "1", "--seed", "1"]);
    let mut c = server.connect();
    read_line(&mut c);
    read_line(&mut c);
    assert_eq!(read_to_eof(&mut c), b"> Time is up!\n");
    server.wait_log("client disconnected (timeout: timed out at 1)");
}

#[test]
fn overlong_line_is_wrong_and_closes() {
    let server = quiz(&["--seed", "1"]);
    let mut c = server.connect();
    read_line(&mut c);
    read_line(&mut c);
    c.write_all(&[b'1'; 1025]).unwrap();
    assert_eq!(read_to_eof(&mut c), b"> It's wrong!\n");
    server.wait_log("client disconnected (protocol error: line too long at 1)");
}

#[test]
fn invalid_utf8_answer_is_wrong() {
    let server = quiz(&["--seed", "1"]);
    let mut c = server.connect();
    read_line(&mut c);
    read_line(&mut c);
    c.write_all(b"4\xff2\n").unwrap();
    assert_eq!(read_to_eof(&mut c), b"> It's wrong!\n");
}

#[test]
fn letters_and_empty_lines_are_wrong() {
    for answer in [&b"\n"[..], b"forty-two\n", b"99999999999999999999999\n"] {
        let server = quiz(&["--seed", "1"]);
        let mut c = server.connect();
        read_line(&mut c);
        read_line(&mut c);
        c.write_all(answer).unwrap();
        assert_eq!(read_to_eof(&mut c), b"> It's wrong!\n", "{answer:?}");
    }
}

#[test]
fn negative_operands_are_written_with_a_minus() {
    let server = quiz(&["--seed", "3", "--min=-9", "--max", "-1", "--count", "1"]);
    let mut c = server.connect();
    read_line(&mut c);
    let p = &problems(3, -9, -1, 1)[0];
    let l = read_line(&mut c);
    assert_eq!(l, line(1, p));
    assert!(l.starts_with("1. -"), "{l}");
    c.write_all(format!("{}\n", p.answer().unwrap()).as_bytes())
        .unwrap();
    assert_eq!(
        read_to_eof(&mut c),
        b"> You won! All 1 answers are correct.\n"
    );
}

#[test]
fn bad_quiz_flags_are_refused() {
    let cases: [(&[&str], &str); 4] = [
        (
            &["--min", "5", "--max", "1"],
            "--min must not be greater than --max",
        ),
        (&["--count", "0"], "--count must be at least 1"),
        (&["--max", "99999999999"], "operands must lie within"),
        (&["--answer-timeout", "0"], "--answer-timeout"),
    ];
    for (flags, msg) in cases {
        let mut args = vec!["serve", "quiz", "--port", "0"];
        args.extend_from_slice(flags);
        let (status, out, err) = run(&args);
        assert!(!status.success(), "{flags:?}");
        assert_eq!(out, "", "{flags:?}");
        assert!(err.contains(msg), "{flags:?}: {err}");
    }
}

#[test]
fn all_answers_pasted_at_once_are_taken_in_turn() {
    // A player pasting every answer in one go: the session takes them one at a time as
    // its output drains, and the transcript comes out whole and in order.
    let server = quiz(&["--seed", "11"]);
    let mut c = server.connect();
    let ps = problems(11, 0, 999, 10);
    let answers: String = ps
        .iter()
        .map(|p| format!("{}\r\n", p.answer().unwrap()))
        .collect();
    c.write_all(answers.as_bytes()).unwrap();
    let mut want = String::from("> Hi! You need to solve 10 arithmetic problems:\n");
    for (k, p) in ps.iter().enumerate() {
        want += &line(k + 1, p);
    }
    want += "> You won! All 10 answers are correct.\n";
    assert_eq!(String::from_utf8(read_to_eof(&mut c)).unwrap(), want);
}
