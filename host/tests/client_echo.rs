//! `socklab echo` against small in-test servers (§1): pipe mode, half-close, framing,
//! connection errors, and interactive mode through a pseudo-terminal when `script` is
//! available.

mod client_common;

use client_common::*;
use socklab_core::echo::{Echo, EchoConfig};
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::process::Command;

fn echo_cmd(addr: SocketAddr, extra: &[&str]) -> Command {
    let mut cmd = socklab();
    cmd.arg("echo").args(addr_args(addr)).args(extra);
    cmd
}

fn echo_server(listener: TcpListener, config: EchoConfig) -> std::thread::JoinHandle<Vec<u8>> {
    serve_session(listener, move |_| Echo::<1024>::new(config))
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn pipe_mode_is_byte_identical_for_5_mib_of_binary() {
    let (l, addr) = listener();
    let server = echo_server(l, EchoConfig::default());
    let data = random_bytes(5 * 1024 * 1024 + 17, 0x5eed);
    // Both directions must flow at once: the server's 1 KiB queue stops it reading long
    // before 5 MiB are written, so a client that reads only after writing would hang.
    let out = run_with_input(echo_cmd(addr, &[]), data.clone());
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert_eq!(out.stdout.len(), data.len());
    assert!(out.stdout == data, "echoed bytes differ");
    assert!(server.join().unwrap() == data);
}

#[test]
fn half_closes_at_stdin_eof_and_still_reads_the_reply() {
    let (l, addr) = listener();
    // Answers only once the client has half-closed: proves shutdown(Write) at EOF and
    // that the client keeps reading after it.
    let server = scripted(l, |mut s| {
        let got = read_all(&mut s);
        writeln!(s, "got {} bytes", got.len()).unwrap();
        got
    });
    let out = run_with_input(echo_cmd(addr, &[]), b"hello\nworld".to_vec());
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert_eq!(out.stdout, b"got 11 bytes\n");
    assert_eq!(server.join().unwrap(), b"hello\nworld");
}

#[test]
fn exits_when_the_server_closes_even_if_stdin_stays_open() {
    let (l, addr) = listener();
    let server = scripted(l, |mut s| s.write_all(b"bye\n").unwrap());
    let mut cmd = echo_cmd(addr, &[]);
    let mut child = spawn(&mut cmd);
    let stdin = child.stdin.take(); // kept open until the client has exited
    let out = wait_output(child);
    drop(stdin);
    server.join().unwrap();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert_eq!(out.stdout, b"bye\n");
}

#[test]
fn upper_case_server_and_quit_line_pass_through() {
    let (l, addr) = listener();
    let server = echo_server(
        l,
        EchoConfig {
            upper: true,
            ..EchoConfig::default()
        },
    );
    // `quit` is the server's business: the client sends it like any data, and the
    // server echoes what came before it and closes. (Nothing follows `quit`: bytes the
    // server never reads would turn its close into a reset.)
    let out = run_with_input(echo_cmd(addr, &[]), b"abc\r\nquit\n".to_vec());
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert_eq!(out.stdout, b"ABC\r\n");
    assert_eq!(server.join().unwrap(), b"abc\r\nquit\n");
}

#[test]
fn framed_pipe_sends_a_frame_per_line_and_prints_a_line_per_frame() {
    let (l, addr) = listener();
    let server = echo_server(
        l,
        EchoConfig {
            framed: true,
            ..EchoConfig::default()
        },
    );
    let out = run_with_input(
        echo_cmd(addr, &["--framed"]),
        b"one\n\ntwo\r\nlast".to_vec(),
    );
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert_eq!(out.stdout, b"one\n\ntwo\r\nlast\n");
    assert_eq!(
        server.join().unwrap(),
        b"\0\0\0\x03one\0\0\0\0\0\0\0\x04two\r\0\0\0\x04last"
    );
}

#[test]
fn framed_pipe_refuses_a_line_over_the_frame_limit() {
    let (l, addr) = listener();
    let server = scripted(l, |mut s| read_all(&mut s));
    let out = run_with_input(
        echo_cmd(addr, &["--framed", "--max-frame", "4"]),
        b"1234\n12345\n".to_vec(),
    );
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    assert!(
        stderr(&out).contains("over the 4-byte limit"),
        "{}",
        stderr(&out)
    );
    // The good line went out; the long one never did.
    assert_eq!(server.join().unwrap(), b"\0\0\0\x041234");
}

#[test]
fn framed_reply_over_the_limit_is_an_error() {
    let (l, addr) = listener();
    let server = scripted(l, |mut s| {
        s.write_all(b"\xff\xff\xff\xff").unwrap();
        read_all(&mut s)
    });
    let out = run_with_input(echo_cmd(addr, &["--framed"]), b"x\n".to_vec());
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    assert!(
        stderr(&out).contains("over the 65536-byte limit"),
        "{}",
        stderr(&out)
    );
    server.join().unwrap();
}

#[test]
fn connection_refused_names_the_address_and_exits_2() {
    let (l, addr) = listener();
    drop(l); // nothing listens there any more
    let out = run_with_input(echo_cmd(addr, &[]), Vec::new());
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "socklab: cannot connect to {addr}: connection refused (is the server running? \
             start it with: socklab serve echo --port {})\n",
            addr.port()
        )
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn ipv6_literal_host() {
    let Ok(l) = TcpListener::bind("[::1]:0") else {
        eprintln!("no IPv6 loopback here; skipped");
        return;
    };
    let addr = l.local_addr().unwrap();
    let server = echo_server(l, EchoConfig::default());
    let out = run_with_input(echo_cmd(addr, &[]), b"over six\n".to_vec());
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert_eq!(out.stdout, b"over six\n");
    server.join().unwrap();
}

#[test]
fn host_name_is_resolved() {
    let (l, addr) = listener();
    let server = echo_server(l, EchoConfig::default());
    let mut cmd = socklab();
    cmd.args(["echo", "--host", "localhost", "--port"])
        .arg(addr.port().to_string());
    let out = run_with_input(cmd, b"by name\n".to_vec());
    // localhost may resolve to ::1 first; the client must fall through to 127.0.0.1.
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert_eq!(out.stdout, b"by name\n");
    server.join().unwrap();
}

/// Type `hello` then `exit` into the client on a pseudo-terminal; returns what the
/// terminal showed and what the server received.
fn type_on_a_terminal(framed: bool) -> Option<(String, Vec<u8>)> {
    if !script_available() {
        eprintln!("`script` not available; interactive mode is covered by unit tests only");
        return None;
    }
    let (l, addr) = listener();
    let server = echo_server(
        l,
        EchoConfig {
            framed,
            ..EchoConfig::default()
        },
    );
    let line = format!(
        "{} echo --host 127.0.0.1 --port {}{}",
        env!("CARGO_BIN_EXE_socklab"),
        addr.port(),
        if framed { " --framed" } else { "" }
    );
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"]);
    let mut child = spawn(&mut cmd);
    let mut stdin = child.stdin.take().unwrap();
    // Typed one line at a time, like a person.
    stdin.write_all(b"hello\n").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    stdin.write_all(b"exit\n").unwrap();
    let out = wait_output(child);
    drop(stdin);
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let shown = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    Some((shown, server.join().unwrap()))
}

#[test]
fn interactive_on_a_terminal_stops_at_exit_without_sending_it() {
    let Some((shown, received)) = type_on_a_terminal(false) else {
        return;
    };
    assert_eq!(received, b"hello\n");
    // The terminal shows the typed line and then the server's echo of it.
    assert_eq!(shown.matches("hello\n").count(), 2, "{shown:?}");
}

#[test]
fn interactive_framed_sends_a_frame_per_typed_line() {
    let Some((shown, received)) = type_on_a_terminal(true) else {
        return;
    };
    assert_eq!(received, b"\0\0\0\x05hello");
    assert_eq!(shown.matches("hello\n").count(), 2, "{shown:?}");
}

/// `-v` in pipe mode logs every send, also the last one, when the server echoes and
/// closes at once (as a ten-line Python server does). The upload thread logged after
/// its write, and the download side could see the close and end the process first: the
/// last `sent` line went missing (or was cut mid-line) in about a quarter of the runs.
/// A race, so many runs.
#[test]
fn verbose_pipe_logs_the_last_send_even_when_the_server_closes_at_once() {
    const RUNS: usize = 40;
    for run in 0..RUNS {
        let (l, addr) = listener();
        let (accepted, is_accepted) = std::sync::mpsc::channel();
        let server = scripted(l, move |mut s| {
            accepted.send(()).unwrap();
            let mut got = [0u8; 6];
            std::io::Read::read_exact(&mut s, &mut got).unwrap();
            s.write_all(&got).unwrap();
            // Dropped here: closed right after echoing.
        });
        let mut child = spawn(&mut echo_cmd(addr, &["-v"]));
        // Input only once the server waits for it, so that the echo and the close
        // follow the client's write at once.
        is_accepted.recv_timeout(DEADLINE).unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"hello\n").unwrap();
        drop(stdin);
        let out = wait_output(child);
        server.join().unwrap();
        let err = stderr(&out);
        assert!(out.status.success(), "run {run}: {err}");
        assert_eq!(out.stdout, b"hello\n");
        let sent = err.find("sent 6 bytes\n");
        let bye = err.find("disconnected (");
        assert!(
            sent.is_some() && sent < bye,
            "run {run}: no `sent 6 bytes` line before the disconnect:\n{err}"
        );
    }
}
