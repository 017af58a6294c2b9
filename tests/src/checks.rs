//! The client checks every frontend must pass, run with the real `socklab` clients:
//! a quiz won, a quiz lost, 64 KiB echoed byte for byte, files, chat with two members,
//! the status page and a 404.
//!
//! A [`Target`] says how to reach the server: the address and ports as the client sees
//! them, and how to start a client (inside a namespace for TAP, on loopback for QEMU).

use crate::process::{Finished, run};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

/// Where the services are, as seen by the clients.
pub struct Target<'a> {
    /// Address for `--host`.
    pub host: String,
    /// Port that reaches the quiz (31337 on TAP; a forwarded port for QEMU).
    pub quiz: u16,
    /// Port that reaches echo.
    pub echo: u16,
    /// Port that reaches the status page.
    pub status: u16,
    /// Port that reaches the files service.
    pub files: u16,
    /// UDP port that reaches the chat.
    pub chat: u16,
    /// `socklab` with the given arguments, started where it can reach `host`.
    pub client: &'a dyn Fn(&[&str]) -> Command,
    /// Limit for each client run.
    pub limit: Duration,
}

impl Target<'_> {
    fn run(&self, args: &[&str], port: u16, input: Vec<u8>) -> Finished {
        let port = port.to_string();
        let mut full: Vec<&str> = args.to_vec();
        full.extend(["--host", &self.host, "--port", &port]);
        run((self.client)(&full), input, self.limit)
    }

    /// `socklab quiz` solves every problem and exits 0 with the lab's transcript.
    pub fn quiz_win(&self) {
        let out = self.run(&["quiz"], self.quiz, Vec::new());
        let text = out.text();
        assert!(out.status.success(), "quiz not won: {text}\n{}", out.stderr);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "> Hi! You need to solve 10 arithmetic problems:");
        assert_eq!(lines.len(), 1 + 2 * 10 + 1, "{text}");
        for pair in lines[1..21].chunks(2) {
            let (_, p) = socklab_core::quiz::parse_problem_line(pair[0].as_bytes())
                .unwrap_or_else(|| panic!("not a problem line: {:?}", pair[0]));
            assert_eq!(pair[1], p.answer().expect("fits").to_string());
        }
        assert_eq!(lines[21], "> You won! All 10 answers are correct.");
    }

    /// A wrong typed answer ends the quiz with `> It's wrong!` and exit status 1.
    pub fn quiz_loss(&self) {
        let out = self.run(
            &["quiz", "--interactive"],
            self.quiz,
            b"not a number\n".to_vec(),
        );
        let text = out.text();
        assert_eq!(out.status.code(), Some(1), "{text}\n{}", out.stderr);
        assert!(text.ends_with("> It's wrong!\n"), "{text}\n{}", out.stderr);
    }

    /// `len` random bytes piped through `socklab echo` come back identical.
    pub fn echo_identical(&self, len: usize, seed: u64) {
        let blob = crate::random_bytes(len, seed);
        let out = self.run(&["echo"], self.echo, blob.clone());
        assert!(
            out.status.success(),
            "echo client failed ({}, {} of {len} bytes back): {}",
            out.status,
            out.stdout.len(),
            out.stderr
        );
        assert_eq!(
            out.stdout.len(),
            blob.len(),
            "echo returned a different length"
        );
        assert!(out.stdout == blob, "echo changed the bytes");
    }

    /// `socklab files put`, `put --append`, `list` and `get` round-trip `len` random
    /// bytes (plus as many appended) through the server's store.
    pub fn files_roundtrip(&self, name: &str, len: usize, seed: u64) {
        let dir = std::env::temp_dir().join(format!("socklab-files-{}-{seed}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let local = dir.join(name);
        let part = crate::random_bytes(len, seed);
        std::fs::write(&local, &part).expect("write local file");
        let local_arg = local.to_str().expect("utf-8 temp path");
        let files = |args: &[&str]| {
            let mut full = vec!["files", "--no-progress"];
            full.extend_from_slice(args);
            self.run(&full, self.files, Vec::new())
        };
        let put = files(&["put", local_arg, "--as", name]);
        assert!(put.status.success(), "put: {}{}", put.text(), put.stderr);
        let append = files(&["put", local_arg, "--as", name, "--append"]);
        assert!(
            append.status.success(),
            "append: {}{}",
            append.text(),
            append.stderr
        );
        let list = files(&["list"]);
        assert!(
            list.text().contains(&format!("{} {name}", 2 * len)),
            "list: {}{}",
            list.text(),
            list.stderr
        );
        let get = files(&["get", name, "-o", "-"]);
        assert!(get.status.success(), "get: {}", get.stderr);
        let mut whole = part.clone();
        whole.extend_from_slice(&part);
        assert!(get.stdout == whole, "get returned other bytes");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// `socklab get http://host:port<path>`: (exit code, body).
    pub fn get(&self, path: &str) -> (Option<i32>, String) {
        let url = format!("http://{}:{}{path}", self.host, self.status);
        let out = run((self.client)(&["get", &url]), Vec::new(), self.limit);
        (out.status.code(), out.text() + &out.stderr)
    }

    /// Two `socklab chat` members: each sees the other join, a typed line is relayed,
    /// `/who` lists both, `/quit` is announced, and both exit 0. The clients PING every
    /// 300 ms, so keep-alives cross the link throughout.
    pub fn chat_two_members(&self) {
        let mut ann = ChatMember::start(self, "ann");
        ann.expect("joined as ann (1 online)");
        let mut bob = ChatMember::start(self, "bob");
        bob.expect("joined as bob (2 online)");
        ann.expect("* bob joined");
        bob.type_line("hi ann");
        ann.expect("bob: hi ann");
        ann.type_line("hello bob");
        bob.expect("ann: hello bob");
        ann.type_line("/who");
        ann.expect("online: ann, bob");
        ann.type_line("/quit");
        bob.expect("* ann left");
        let (code, err) = ann.finish();
        assert_eq!(code, Some(0), "ann: {err}");
        let (code, err) = bob.finish(); // end of input leaves too
        assert_eq!(code, Some(0), "bob: {err}");
    }

    /// `GET /` is the plain-text page naming every service; anything else is 404.
    pub fn status_page(&self, address: &str) {
        let (code, page) = self.get("/");
        assert_eq!(code, Some(0), "{page}");
        assert!(page.contains(&format!("address: {address}")), "{page}");
        assert!(page.contains("uptime: "), "{page}");
        for line in [
            "service: echo tcp 9090",
            "service: quiz tcp 31337",
            "service: files tcp 8020",
            "service: status tcp 80",
            "service: chat udp 9093 members online ",
        ] {
            assert!(page.contains(line), "{line:?} missing: {page}");
        }
        let (code, missing) = self.get("/nope");
        assert_eq!(code, Some(3), "{missing}");
        assert!(missing.contains("404 Not Found"), "{missing}");
    }
}

/// A `socklab chat` process with its stdin held and its stdout read line by line;
/// killed if the test fails first.
struct ChatMember {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    limit: Duration,
}

impl ChatMember {
    fn start(target: &Target<'_>, nick: &str) -> ChatMember {
        let port = target.chat.to_string();
        let args = [
            "chat",
            "--nick",
            nick,
            "--host",
            &target.host,
            "--port",
            &port,
        ];
        let mut cmd = (target.client)(&args);
        cmd.args(["--ping-every-ms", "300"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let stdin = child.stdin.take();
        let out = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        ChatMember {
            child,
            stdin,
            lines,
            limit: target.limit,
        }
    }

    fn expect(&mut self, line: &str) {
        match self.lines.recv_timeout(self.limit) {
            Ok(got) => assert_eq!(got, line),
            Err(_) => {
                let _ = self.child.kill();
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!(
                    "no {line:?} from the chat client within {:?}: {err}",
                    self.limit
                );
            }
        }
    }

    fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("write to the chat client");
        stdin.flush().expect("flush the chat client's stdin");
    }

    /// Close stdin and wait: (exit code, stderr).
    fn finish(mut self) -> (Option<i32>, String) {
        drop(self.stdin.take());
        let deadline = Instant::now() + self.limit;
        let status = loop {
            if let Some(st) = self.child.try_wait().expect("wait for the chat client") {
                break st;
            }
            assert!(Instant::now() < deadline, "chat client did not exit");
            thread::sleep(Duration::from_millis(20));
        };
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        (status.code(), err)
    }
}

impl Drop for ChatMember {
    fn drop(&mut self) {
        // Ends a client a failed assertion left behind (after `finish` it has exited).
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
