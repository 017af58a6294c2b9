//! The client checks every frontend must pass, run with the real `socklab` clients:
//! a quiz won, a quiz lost, 64 KiB echoed byte for byte, the status page and a 404.
//!
//! A [`Target`] says how to reach the server: the address and ports as the client sees
//! them, and how to start a client (inside a namespace for TAP, on loopback for QEMU).

use crate::process::{Finished, run};
use std::process::Command;
use std::time::Duration;

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

    /// A raw `GET` (sent through `socklab echo`, which is a plain TCP pipe when stdin
    /// is not a terminal); returns the whole response.
    pub fn get(&self, path: &str) -> String {
        let request = format!("GET {path} HTTP/1.0\r\nHost: {}\r\n\r\n", self.host);
        let out = self.run(&["echo"], self.status, request.into_bytes());
        assert!(out.status.success(), "GET {path} failed: {}", out.stderr);
        out.text()
    }

    /// `GET /` is the plain-text page naming every service; anything else is 404.
    pub fn status_page(&self, address: &str) {
        let page = self.get("/");
        assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
        assert!(page.contains("Content-Type: text/plain"), "{page}");
        assert!(page.contains(&format!("address: {address}")), "{page}");
        assert!(page.contains("uptime: "), "{page}");
        for line in [
            "service: echo tcp 9090",
            "service: quiz tcp 31337",
            "service: files tcp 8020",
            "service: status tcp 80",
        ] {
            assert!(page.contains(line), "{line:?} missing: {page}");
        }
        let missing = self.get("/nope");
        assert!(
            missing.starts_with("HTTP/1.1 404 Not Found\r\n"),
            "{missing}"
        );
    }
}
