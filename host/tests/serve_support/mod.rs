//! Starting the real `socklab` binary as a server and talking to it over loopback.
//!
//! Every wait is bounded (`WAIT`), so a broken server fails a test instead of hanging
//! it; no test passes or fails on how fast something happened.

#![allow(dead_code)] // each test file uses a different part of this

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The longest any step may take before the test gives up.
pub const WAIT: Duration = Duration::from_secs(10);

/// A running `socklab serve ...`, killed when dropped.
pub struct Server {
    child: Child,
    /// The addresses from its `listening on` lines, in order.
    pub addrs: Vec<SocketAddr>,
    /// Everything it wrote to stdout, line by line (after the listening lines).
    stdout: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    /// The thread copying stderr; joined after exit so the log is complete.
    stderr_reader: Option<thread::JoinHandle<()>>,
}

/// `socklab serve <args>`; `listeners` is how many `listening on` lines to wait for.
pub fn serve(args: &[&str], listeners: usize) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_socklab"));
    cmd.arg("serve").args(args);
    serve_cmd(cmd, listeners)
}

/// Start a server with a command of the caller's making (e.g. wrapped in `unshare`),
/// which must print `listening on` lines as `socklab serve` does.
pub fn serve_cmd(mut cmd: Command, listeners: usize) -> Server {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start socklab");
    let (tx, stdout) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let stderr = Arc::new(Mutex::new(String::new()));
    let err = child.stderr.take().unwrap();
    let sink = stderr.clone();
    let stderr_reader = thread::spawn(move || {
        let mut r = BufReader::new(err);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match r.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => sink
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf)),
            }
        }
    });
    let mut server = Server {
        child,
        addrs: Vec::new(),
        stdout,
        stderr,
        stderr_reader: Some(stderr_reader),
    };
    for _ in 0..listeners {
        let line = server
            .stdout
            .recv_timeout(WAIT)
            .unwrap_or_else(|_| panic!("no `listening on` line; log:\n{}", server.log()));
        // `listening on <addr>:<port>`, and ` (UDP)` after it for the chat (§0).
        let addr = line
            .strip_prefix("listening on ")
            .and_then(|rest| rest.split(' ').next())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        server.addrs.push(addr.parse().expect("listening address"));
    }
    server
}

impl Server {
    /// The first listener's address.
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// A client connection with bounded reads and writes.
    pub fn connect(&self) -> TcpStream {
        self.connect_to(0)
    }

    /// A client of listener `i`.
    pub fn connect_to(&self, i: usize) -> TcpStream {
        let s = TcpStream::connect(self.addrs[i]).expect("connect");
        s.set_read_timeout(Some(WAIT)).unwrap();
        s.set_write_timeout(Some(WAIT)).unwrap();
        s
    }

    /// Everything logged to stderr so far.
    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Wait until the log contains `needle`; panics with the log after [`WAIT`].
    pub fn wait_log(&self, needle: &str) -> String {
        let start = Instant::now();
        loop {
            let log = self.log();
            if log.contains(needle) {
                return log;
            }
            assert!(
                start.elapsed() < WAIT,
                "log never said {needle:?}; log:\n{log}"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Send SIGKILL: no clean-up of any kind.
    pub fn kill_hard(&mut self) {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::KILL).unwrap();
        self.wait_exit();
    }

    /// Send SIGINT, as Ctrl-C in a terminal would.
    pub fn interrupt(&self) {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    }

    /// Send SIGTERM, as `kill` or a service manager would.
    pub fn terminate(&self) {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    }

    /// Wait for the process to exit by itself; the log is complete afterwards.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // The pipe is closed now, so the reader finishes promptly.
                if let Some(reader) = self.stderr_reader.take() {
                    reader.join().unwrap();
                }
                return status;
            }
            assert!(
                start.elapsed() < WAIT,
                "server did not exit; log:\n{}",
                self.log()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run `socklab <args>` to completion (bounded), returning status, stdout, stderr.
pub fn run(args: &[&str]) -> (ExitStatus, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_socklab"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start socklab");
    let status = exit_within_wait(&mut child, &format!("socklab {args:?}"));
    let mut out = String::new();
    let mut err = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status, out, err)
}

/// Read until the server closes; panics if it does not within [`WAIT`].
pub fn read_to_eof(s: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap_or_else(|e| {
        panic!(
            "no EOF ({e}); got so far {:?}",
            String::from_utf8_lossy(&got)
        )
    });
    got
}

/// Read exactly `n` bytes.
pub fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut got = vec![0; n];
    s.read_exact(&mut got).expect("read the expected bytes");
    got
}

/// Read one line, LF included.
pub fn read_line(s: &mut TcpStream) -> String {
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    loop {
        match s.read(&mut b) {
            Ok(0) => break,
            Ok(_) => {
                line.push(b[0]);
                if b[0] == b'\n' {
                    break;
                }
            }
            Err(e) => panic!(
                "reading a line: {e}; got {:?}",
                String::from_utf8_lossy(&line)
            ),
        }
    }
    String::from_utf8(line).expect("UTF-8 line")
}

/// Send `bytes` and read back exactly as many.
pub fn round_trip(s: &mut TcpStream, bytes: &[u8]) -> Vec<u8> {
    s.write_all(bytes).unwrap();
    read_n(s, bytes.len())
}

/// Half-close: the server sees EOF.
pub fn half_close(s: &TcpStream) {
    s.shutdown(Shutdown::Write).unwrap();
}

/// The listeners `serve all` opens, in the order of its `listening on` lines.
pub const ALL_SERVICES: [&str; 6] = ["echo", "quiz", "files", "ident", "auth", "chat"];

/// `socklab serve all --port-auto` with every stateful service kept in a fresh temporary
/// folder (so no test writes into the repository), waiting for all its listeners.
/// `addrs[i]` belongs to `ALL_SERVICES[i]`; keep the `TempDir` alive while serving.
pub fn serve_all(extra: &[&str]) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let (files, ident, auth) = (path("files"), path("ident.tsv"), path("auth"));
    let mut args = vec![
        "all",
        "--port-auto",
        "--dir",
        &files,
        "--ident-db",
        &ident,
        "--auth-dir",
        &auth,
    ];
    args.extend_from_slice(extra);
    let server = serve(&args, ALL_SERVICES.len());
    (server, dir)
}

/// Raise this process's open-file limit to `need` (a test holding thousands of
/// connections), or say why the test cannot run here: the hard limit is lower, or there
/// is no /proc to measure the server with. Not a failure anywhere, CI included: the
/// limit is the machine's, not something the test can be given.
pub fn enough_fds(need: u64) -> socklab_tests::harness::Test {
    let got = rlimit::increase_nofile_limit(need).unwrap_or(0);
    if got < need {
        return Err(socklab_tests::harness::Skip::because(format!(
            "needs {need} open files; the hard limit here (ulimit -Hn) is {got}"
        )));
    }
    if !std::path::Path::new("/proc/self/status").exists() {
        return Err(socklab_tests::harness::Skip::because(
            "no /proc to measure the server's memory with",
        ));
    }
    Ok(())
}

/// Wait for `child` to exit by itself; kill it and fail the test after [`WAIT`].
pub fn exit_within_wait(child: &mut Child, what: &str) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > WAIT {
            let _ = child.kill();
            panic!("{what} did not exit within {WAIT:?}");
        }
        thread::sleep(Duration::from_millis(20));
    }
}
