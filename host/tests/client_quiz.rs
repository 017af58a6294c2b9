//! `socklab quiz` against in-test servers (§2): a real core `Quiz` session for wins,
//! scripted servers for each way of losing; transcripts asserted byte for byte.

mod client_common;

use client_common::*;
use socklab_core::Duration;
use socklab_core::quiz::{Problem, Quiz, QuizConfig};
use socklab_core::rng::SplitMix64;
use std::io::Write;
use std::net::SocketAddr;
use std::process::{Command, Output};
use std::thread;

const GREETING: &str = "> Hi! You need to solve 3 arithmetic problems:\n";

fn quiz_cmd(addr: SocketAddr, extra: &[&str]) -> Command {
    let mut cmd = socklab();
    cmd.arg("quiz").args(addr_args(addr)).args(extra);
    cmd
}

fn config(count: u32) -> QuizConfig {
    QuizConfig::new(count, -50, 999, Duration::from_secs(20)).unwrap()
}

/// The problem lines and answers a seeded server asks, as §2 renders them.
fn problems(count: u32, seed: u64) -> Vec<(String, String)> {
    let mut rng = SplitMix64::new(seed);
    (1..=count)
        .map(|k| {
            let p = Problem::generate(&mut rng, -50, 999);
            let mut line = String::new();
            p.render(k, &mut line).unwrap();
            (format!("{line}\n"), format!("{}\n", p.answer().unwrap()))
        })
        .collect()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8(out.stdout.clone()).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn solves_every_problem_and_exits_0() {
    let (l, addr) = listener();
    let seed = 42;
    let server = serve_session(l, move |now| {
        Quiz::new(now, config(3), SplitMix64::new(seed))
    });
    let out = run_with_input(quiz_cmd(addr, &[]), Vec::new());
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let mut want = GREETING.to_owned();
    let mut sent = String::new();
    for (line, answer) in problems(3, seed) {
        want += &line;
        want += &answer;
        sent += &answer;
    }
    want += "> You won! All 3 answers are correct.\n";
    assert_eq!(stdout, want);
    assert_eq!(String::from_utf8(server.join().unwrap()).unwrap(), sent);
}

#[test]
fn transcript_is_exact_however_the_server_bytes_are_cut() {
    let (l, addr) = listener();
    // Byte by byte with pauses, so lines arrive in pieces and several reads make a line.
    let server = scripted(l, |mut s| {
        s.set_nodelay(true).unwrap();
        for chunk in [
            &b"> Hi! You need to solve 2 arith"[..],
            b"metic problems:\n1. 2",
            b" * -3\n",
        ] {
            s.write_all(chunk).unwrap();
            thread::sleep(std::time::Duration::from_millis(50));
        }
        let a1 = read_line(&mut s);
        s.write_all(b"2. 10 - 20\n> You won! All 2 answers are correct.\n")
            .unwrap();
        let a2 = read_line(&mut s);
        [a1, a2].concat()
    });
    let out = run_with_input(quiz_cmd(addr, &[]), Vec::new());
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert_eq!(
        stdout,
        "> Hi! You need to solve 2 arithmetic problems:\n1. 2 * -3\n-6\n2. 10 - 20\n-10\n> You won! All 2 answers are correct.\n"
    );
    assert_eq!(server.join().unwrap(), b"-6\n-10\n");
}

/// A server that asks `1. 2 + 2`, reads the answer, then ends with `last` and closes.
fn one_problem_then(last: &'static [u8]) -> (SocketAddr, thread::JoinHandle<Vec<u8>>) {
    let (l, addr) = listener();
    let server = scripted(l, move |mut s| {
        s.write_all(GREETING.as_bytes()).unwrap();
        s.write_all(b"1. 2 + 2\n").unwrap();
        let answer = read_line(&mut s);
        s.write_all(last).unwrap();
        answer
    });
    (addr, server)
}

#[test]
fn wrong_verdict_exits_1() {
    let (addr, server) = one_problem_then(b"> It's wrong!\n");
    let out = run_with_input(quiz_cmd(addr, &[]), Vec::new());
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(stdout, format!("{GREETING}1. 2 + 2\n4\n> It's wrong!\n"));
    assert_eq!(server.join().unwrap(), b"4\n");
}

#[test]
fn time_up_exits_1() {
    let (addr, server) = one_problem_then(b"> Time is up!\n");
    let out = run_with_input(quiz_cmd(addr, &[]), Vec::new());
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(stdout, format!("{GREETING}1. 2 + 2\n4\n> Time is up!\n"));
    server.join().unwrap();
}

#[test]
fn server_closing_without_a_verdict_exits_1() {
    let (addr, server) = one_problem_then(b"2. 1 +");
    let out = run_with_input(quiz_cmd(addr, &[]), Vec::new());
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    // The cut-off line is shown, and ended so the shell prompt is not glued to it.
    assert_eq!(stdout, format!("{GREETING}1. 2 + 2\n4\n2. 1 +\n"));
    assert_eq!(
        stderr,
        "socklab: the server closed the connection before the game was over\n"
    );
    server.join().unwrap();
}

#[test]
fn overlong_server_line_is_an_error() {
    let (l, addr) = listener();
    let server = scripted(l, |mut s| {
        s.write_all(&[b'x'; 2000]).unwrap();
        // The client may leave unread bytes behind, so its close can be a reset.
        let mut got = Vec::new();
        let _ = std::io::Read::read_to_end(&mut s, &mut got);
        got
    });
    let out = run_with_input(quiz_cmd(addr, &[]), Vec::new());
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains("a line longer than 1024 bytes"), "{stderr}");
    assert!(stdout.starts_with("xxx") && stdout.ends_with("x\n"));
    assert_eq!(server.join().unwrap(), b"");
}

#[test]
fn interactive_relays_typed_answers_and_follows_the_verdict() {
    let (l, addr) = listener();
    let seed = 7;
    let server = serve_session(l, move |now| {
        Quiz::new(now, config(3), SplitMix64::new(seed))
    });
    let answers: String = problems(3, seed).into_iter().map(|(_, a)| a).collect();
    let out = run_with_input(
        quiz_cmd(addr, &["--interactive"]),
        answers.clone().into_bytes(),
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    // Only the server's side is printed: a person's answers are already on the screen.
    let mut want = GREETING.to_owned();
    for (line, _) in problems(3, seed) {
        want += &line;
    }
    want += "> You won! All 3 answers are correct.\n";
    assert_eq!(stdout, want);
    assert_eq!(String::from_utf8(server.join().unwrap()).unwrap(), answers);
}

#[test]
fn interactive_wrong_answer_exits_1() {
    let (addr, server) = one_problem_then(b"> It's wrong!\n");
    let out = run_with_input(quiz_cmd(addr, &["--interactive"]), b"five\n".to_vec());
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(stdout, format!("{GREETING}1. 2 + 2\n> It's wrong!\n"));
    assert_eq!(server.join().unwrap(), b"five\n");
}

#[test]
fn interactive_end_of_input_half_closes() {
    let (l, addr) = listener();
    let server = serve_session(l, |now| Quiz::new(now, config(3), SplitMix64::new(1)));
    // No answers at all: the client half-closes, the server ends the game.
    let out = run_with_input(quiz_cmd(addr, &["--interactive"]), Vec::new());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).0.starts_with(GREETING));
    assert_eq!(server.join().unwrap(), b"");
}

#[test]
fn connection_refused_exits_2() {
    let (l, addr) = listener();
    drop(l);
    let out = run_with_input(quiz_cmd(addr, &[]), Vec::new());
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out).1,
        format!(
            "socklab: cannot connect to {addr}: connection refused (is the server running? \
             start it with: socklab serve quiz --port {})\n",
            addr.port()
        )
    );
}
