//! Child processes bounded in time and killed when the test ends, pass or fail.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// What a finished client printed.
#[derive(Debug)]
pub struct Finished {
    /// Exit status (killed after its deadline: not success).
    pub status: ExitStatus,
    /// Everything on stdout.
    pub stdout: Vec<u8>,
    /// Everything on stderr, lossily decoded.
    pub stderr: String,
}

impl Finished {
    /// Stdout as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// Run `cmd` with `input` on stdin; kill it if it has not exited after `limit`.
pub fn run(mut cmd: Command, input: Vec<u8>, limit: Duration) -> Finished {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let mut stdin = child.stdin.take().expect("piped stdin");
    let writer = thread::spawn(move || {
        // The client may exit before reading everything (a lost quiz): not an error.
        let _ = stdin.write_all(&input);
    });
    let stdout = reader(child.stdout.take().expect("piped stdout"));
    let stderr = reader(child.stderr.take().expect("piped stderr"));
    let status = wait_until(&mut child, limit);
    let _ = writer.join();
    Finished {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: String::from_utf8_lossy(&stderr.join().unwrap_or_default()).into_owned(),
    }
}

fn reader<R: Read + Send + 'static>(mut r: R) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        buf
    })
}

fn wait_until(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait for child") {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            return child.wait().expect("wait for killed child");
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// A long-running server: killed (by its PID) and reaped on drop.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// Lines of stdout after the ready lines, as they come.
    lines: mpsc::Receiver<String>,
}

impl Server {
    /// Start `cmd` and wait until `ready` lines of its stdout satisfied `is_ready`,
    /// or fail after `limit` with what it printed.
    pub fn start(
        mut cmd: Command,
        ready: usize,
        is_ready: fn(&str) -> bool,
        limit: Duration,
    ) -> Server {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let lines = line_channel(child.stdout.take().expect("piped stdout"));
        let mut server = Server { child, lines };
        let deadline = Instant::now() + limit;
        let mut seen = Vec::new();
        while seen.iter().filter(|l: &&String| is_ready(l)).count() < ready {
            let left = deadline.saturating_duration_since(Instant::now());
            match server.lines.recv_timeout(left) {
                Ok(line) => seen.push(line),
                Err(_) => {
                    let status = server.child.try_wait().ok().flatten();
                    panic!(
                        "{cmd:?} not ready after {limit:?} (exit: {status:?}); stdout: {seen:#?}"
                    );
                }
            }
        }
        server
    }

    /// Fail if the server has exited (a crash, a firmware panic).
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            let rest: Vec<String> = self.lines.try_iter().collect();
            panic!("server exited with {status}; stdout: {rest:#?}");
        }
    }

    /// Stdout lines printed since the ready lines.
    pub fn new_lines(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }

    /// The server's PID.
    pub fn id(&self) -> u32 {
        self.child.id()
    }
}

fn line_channel(stdout: ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Server {
    /// Stop by PID: SIGTERM (which `timeout` passes on to the program it runs), then
    /// SIGKILL if it is still there after two seconds. Returns the exit status.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Some(status);
        }
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32);
        if let Some(pid) = pid {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        self.child.wait().ok()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}
