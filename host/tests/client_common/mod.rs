//! Test support for the client tests: run the built `socklab` binary with a deadline,
//! and tiny one-connection servers (a core session, or a scripted closure) on
//! 127.0.0.1:0, so the client tests need none of the real servers.

#![allow(dead_code)] // Each test file uses a different part.

use socklab_core::{Instant, Session};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant as StdInstant};

/// Nothing in these tests should take this long; a hang fails instead of blocking CI.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The client command, built by cargo for this test run.
pub fn socklab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_socklab"))
}

/// `--host 127.0.0.1 --port P` (or the address's host) after the subcommand.
pub fn addr_args(addr: SocketAddr) -> Vec<String> {
    vec![
        "--host".into(),
        addr.ip().to_string(),
        "--port".into(),
        addr.port().to_string(),
    ]
}

/// Spawn `cmd` with stdout and stderr captured and stdin piped.
pub fn spawn(cmd: &mut Command) -> Child {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn socklab")
}

/// Feed `input` to the child's stdin (then close it) and collect its output, killing it
/// and failing if it runs past [`DEADLINE`].
pub fn run_with_input(mut cmd: Command, input: Vec<u8>) -> Output {
    let mut child = spawn(&mut cmd);
    let mut stdin = child.stdin.take().unwrap();
    let writer = thread::spawn(move || {
        // The client may legitimately exit before reading everything.
        let _ = stdin.write_all(&input);
    });
    let out = wait_output(child);
    writer.join().unwrap();
    out
}

/// Collect a child's stdout/stderr and exit status, concurrently, with a deadline.
pub fn wait_output(mut child: Child) -> Output {
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let out_t = thread::spawn(move || {
        let mut v = Vec::new();
        so.read_to_end(&mut v).unwrap();
        v
    });
    let err_t = thread::spawn(move || {
        let mut v = Vec::new();
        se.read_to_end(&mut v).unwrap();
        v
    });
    let start = StdInstant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > DEADLINE {
            child.kill().unwrap();
            let _ = child.wait();
            panic!(
                "socklab did not exit within {DEADLINE:?}; stderr: {}",
                String::from_utf8_lossy(&err_t.join().unwrap())
            );
        }
        thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
    }
}

/// A listener on 127.0.0.1:0.
pub fn listener() -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = l.local_addr().unwrap();
    (l, a)
}

/// Accept one connection, giving up after [`DEADLINE`].
pub fn accept(listener: &TcpListener) -> TcpStream {
    listener.set_nonblocking(true).unwrap();
    let start = StdInstant::now();
    loop {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).unwrap();
                s.set_read_timeout(Some(DEADLINE)).unwrap();
                s.set_write_timeout(Some(DEADLINE)).unwrap();
                return s;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                assert!(start.elapsed() < DEADLINE, "the client never connected");
                thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

/// Serve one connection with a script; the thread returns what the script returns.
pub fn scripted<T: Send + 'static>(
    listener: TcpListener,
    script: impl FnOnce(TcpStream) -> T + Send + 'static,
) -> JoinHandle<T> {
    thread::spawn(move || script(accept(&listener)))
}

/// Read until EOF (or the deadline), returning everything received.
pub fn read_all(s: &mut TcpStream) -> Vec<u8> {
    let mut v = Vec::new();
    s.read_to_end(&mut v).unwrap();
    v
}

/// Read one LF-terminated line, byte by byte (so nothing after it is consumed).
pub fn read_line(s: &mut TcpStream) -> Vec<u8> {
    let mut line = Vec::new();
    let mut b = [0u8];
    while s.read(&mut b).unwrap() == 1 {
        line.push(b[0]);
        if b[0] == b'\n' {
            break;
        }
    }
    line
}

/// Serve one connection with a core session, following the calling order of
/// `socklab_core::session`. The thread returns every byte the client sent.
pub fn serve_session<S: Session + Send + 'static>(
    listener: TcpListener,
    make: impl FnOnce(Instant) -> S + Send + 'static,
) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut sock = accept(&listener);
        let start = StdInstant::now();
        let now = || Instant::from_millis(start.elapsed().as_millis() as u64);
        let mut session = make(now());
        let mut received = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut out = vec![0u8; 64 * 1024];
        let mut eof = false;
        loop {
            assert!(start.elapsed() < DEADLINE, "test server ran too long");
            drain(&mut session, &mut sock, &mut out);
            if session.close_reason().is_some() && !session.wants_output() {
                let _ = sock.shutdown(Shutdown::Both);
                return received;
            }
            let t = now();
            if session.poll_timeout().is_some_and(|due| due <= t) {
                session.handle_timeout(t);
                continue;
            }
            // Wake up for the session's timer, and now and then anyway.
            let wait = session
                .poll_timeout()
                .map_or(Duration::from_millis(50), |due| {
                    Duration::from_millis(due.total_millis() - t.total_millis())
                })
                .clamp(Duration::from_millis(1), Duration::from_millis(50));
            if eof {
                thread::sleep(wait);
                continue;
            }
            sock.set_read_timeout(Some(wait)).unwrap();
            match sock.read(&mut buf) {
                Ok(0) => {
                    eof = true;
                    session.handle_eof(now());
                }
                Ok(n) => {
                    received.extend_from_slice(&buf[..n]);
                    let mut fed = 0;
                    while fed < n {
                        fed += session.handle_input(now(), &buf[fed..n]);
                        drain(&mut session, &mut sock, &mut out);
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return received,
                Err(e) => panic!("test server read: {e}"),
            }
        }
    })
}

fn drain<S: Session>(session: &mut S, sock: &mut TcpStream, out: &mut [u8]) {
    loop {
        let n = session.poll_output(out);
        if n == 0 {
            return;
        }
        if sock.write_all(&out[..n]).is_err() {
            // The client went away; the session's output has nowhere to go.
            return;
        }
    }
}

/// Deterministic pseudo-random bytes (SplitMix64), for binary payloads.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    use socklab_core::rng::{Rng, SplitMix64};
    let mut rng = SplitMix64::new(seed);
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        v.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    v.truncate(len);
    v
}

/// Whether `script` (util-linux) is here to run a client on a pseudo-terminal, so that
/// its stdin is a terminal.
pub fn script_available() -> bool {
    Command::new("script")
        .args(["-qec", "true", "/dev/null"])
        .output()
        .is_ok_and(|o| o.status.success())
}
