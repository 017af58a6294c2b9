//! The "done means", end to end: the real `socklab` clients against the real
//! `socklab` servers, both as built binaries, over loopback.

mod client_common;
mod serve_support;

use client_common::{addr_args, random_bytes, run_with_input, socklab};
use serve_support::serve;
use socklab::framing::FramedExt;
use std::time::Duration;

fn quiz_client(addr: std::net::SocketAddr, extra: &[&str]) -> std::process::Command {
    let mut cmd = socklab();
    cmd.arg("quiz").args(addr_args(addr)).args(extra);
    cmd
}

#[test]
fn quiz_client_wins_against_the_server() {
    let server = serve(&["quiz", "--port", "0", "--seed", "3"], 1);
    let out = run_with_input(quiz_client(server.addr(), &[]), Vec::new());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "stdout: {stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "> Hi! You need to solve 10 arithmetic problems:");
    // Problem, answer, problem, answer ... then the verdict.
    assert_eq!(lines.len(), 1 + 2 * 10 + 1, "{stdout}");
    for pair in lines[1..21].chunks(2) {
        let (_, p) = socklab_core::quiz::parse_problem_line(pair[0].as_bytes())
            .unwrap_or_else(|| panic!("not a problem line: {:?}", pair[0]));
        assert_eq!(pair[1], p.answer().unwrap().to_string());
    }
    assert_eq!(lines[21], "> You won! All 10 answers are correct.");
}

#[test]
fn quiz_client_exits_1_on_a_wrong_typed_answer() {
    let server = serve(&["quiz", "--port", "0", "--seed", "3", "--count", "2"], 1);
    let out = run_with_input(
        quiz_client(server.addr(), &["--interactive"]),
        b"not a number\n".to_vec(),
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "stdout: {stdout}");
    assert!(stdout.ends_with("> It's wrong!\n"), "{stdout}");
}

#[test]
fn a_binary_file_piped_through_echo_comes_back_identical() {
    for chunk in ["1024", "65536"] {
        let server = serve(&["echo", "--port", "0", "--chunk", chunk], 1);
        let blob = random_bytes(4 << 20, 11);
        let mut cmd = socklab();
        cmd.arg("echo").args(addr_args(server.addr()));
        let out = run_with_input(cmd, blob.clone());
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stdout == blob,
            "echo with --chunk {chunk} changed the bytes"
        );
    }
}

#[test]
fn framed_client_against_framed_upper_server() {
    let server = serve(&["echo", "--port", "0", "--framed", "--upper"], 1);
    let mut cmd = socklab();
    cmd.args(["echo", "--framed"])
        .args(addr_args(server.addr()));
    let out = run_with_input(cmd, b"hello\nframed world\n".to_vec());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"HELLO\nFRAMED WORLD\n");
}

#[test]
fn framing_extension_talks_to_the_framed_server() {
    let server = serve(&["echo", "--port", "0", "--framed"], 1);
    let mut s = server.connect();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.send_msg("привет, socklab").unwrap();
    assert_eq!(s.recv_msg().unwrap(), "привет, socklab");
    let big = random_bytes(65536, 5);
    s.send_frame(&big).unwrap();
    assert_eq!(s.recv_frame().unwrap(), big);
    s.send_msg("quit").unwrap();
    let end = s.recv_frame().unwrap_err();
    assert!(socklab::framing::is_clean_eof(&end), "{end}");
}

#[test]
fn both_clients_play_against_serve_all() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let server = serve(&["all", "--port-auto", "--seed", "3", "--dir", d], 3);
    let (echo, quiz) = (server.addrs[0], server.addrs[1]);
    let out = run_with_input(quiz_client(quiz, &[]), Vec::new());
    assert_eq!(out.status.code(), Some(0));
    let mut cmd = socklab();
    cmd.arg("echo").args(addr_args(echo));
    let out = run_with_input(cmd, b"hi\nquit\nnot sent\n".to_vec());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"hi\n");
}

#[test]
fn files_client_against_serve_all() {
    let dir = tempfile::tempdir().unwrap();
    let here = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let server = serve(&["all", "--port-auto", "--dir", d], 3);
    let files = server.addrs[2];
    let data = random_bytes(3 << 20, 11);
    std::fs::write(here.path().join("big.iso"), &data).unwrap();
    let run = |args: &[&str]| {
        let mut cmd = socklab();
        cmd.current_dir(here.path())
            .arg("files")
            .args(args)
            .args(addr_args(files));
        run_with_input(cmd, Vec::new())
    };
    let out = run(&["put", "big.iso"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["list"]);
    assert_eq!(out.stdout, format!("{} big.iso\n", data.len()).into_bytes());
    let out = run(&["get", "big.iso", "-o", "back.iso"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(here.path().join("back.iso")).unwrap(), data);
}

#[test]
fn clients_log_their_traffic_with_v() {
    let server = serve(&["echo", "--port", "0"], 1);
    let mut cmd = socklab();
    cmd.args(["echo", "-v"]).args(addr_args(server.addr()));
    let out = run_with_input(cmd, b"hi\n".to_vec());
    assert_eq!(out.stdout, b"hi\n");
    let err = String::from_utf8(out.stderr).unwrap();
    let at = server.addr().to_string();
    for needle in [
        format!("socklab: {at}: connected"),
        format!("socklab: {at}: sent 3 bytes"),
        format!("socklab: {at}: received 3 bytes"),
        format!("socklab: {at}: disconnected (closed by server)"),
    ] {
        assert!(err.contains(&needle), "{needle:?} missing from:\n{err}");
    }
}
