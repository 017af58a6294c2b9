//! The §5 clients against a real `socklab serve auth`, each step a new process with a
//! temporary `XDG_CONFIG_HOME`: register, login, `whoami` from a new process (the
//! token file as a cookie, mode 0600), passwd, logout, expiry, and the exit codes.

mod client_common;
mod serve_support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use client_common::{addr_args, run_with_input, script_available, socklab};
use serve_support::{Server, serve};

struct Lab {
    server: Server,
    config: tempfile::TempDir,
    store: tempfile::TempDir,
}

impl Lab {
    fn new(extra: &[&str]) -> Lab {
        let store = tempfile::tempdir().unwrap();
        Lab {
            server: Self::start(store.path(), extra, "0"),
            config: tempfile::tempdir().unwrap(),
            store,
        }
    }

    /// Stop the server (SIGINT) and start a new one on the same folder and port.
    fn restart(&mut self) {
        let port = self.server.addr().port().to_string();
        self.server.interrupt();
        assert!(self.server.wait_exit().success());
        self.server = Self::start(self.store.path(), &[], &port);
    }

    fn start(store: &Path, extra: &[&str], port: &str) -> Server {
        let mut args = vec![
            "auth",
            "--port",
            port,
            "--argon2-memory",
            "64",
            "--argon2-passes",
            "1",
            "--dir",
            store.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        serve(&args, 1)
    }

    /// `socklab <args> --host .. --port ..` with `stdin` as its standard input.
    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut cmd: Command = socklab();
        cmd.args(args)
            .args(addr_args(self.server.addr()))
            .env("XDG_CONFIG_HOME", self.config.path())
            .env_remove("HOME");
        run_with_input(cmd, stdin.as_bytes().to_vec())
    }

    fn token_file(&self) -> PathBuf {
        self.config.path().join("socklab").join("token")
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn check(out: &Output, code: i32, stdout: &str, stderr: &str) {
    assert_eq!(
        (
            out.status.code(),
            text(&out.stdout).as_str(),
            text(&out.stderr).as_str()
        ),
        (Some(code), stdout, stderr)
    );
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn register_login_whoami_passwd_logout() {
    let lab = Lab::new(&[]);
    check(
        &lab.run(&["register", "--user", "kate"], "kate-pass-1\n"),
        0,
        "registered kate\n",
        "",
    );
    check(
        &lab.run(&["register", "--user", "kate"], "kate-pass-1\n"),
        1,
        "",
        "socklab: that user name is taken\n",
    );
    check(
        &lab.run(&["whoami"], ""),
        1,
        "",
        "socklab: not logged in; run `socklab login --user NAME` first\n",
    );
    check(
        &lab.run(&["login", "--user", "kate"], "wrong-pass\n"),
        1,
        "",
        "socklab: wrong user name or password\n",
    );
    assert!(!lab.token_file().exists());

    let out = lab.run(&["login", "--user", "kate"], "kate-pass-1\n");
    let shown = format!(
        "logged in as kate (token saved in {})\n",
        lab.token_file().display()
    );
    check(&out, 0, &shown, "");
    let token = std::fs::read_to_string(lab.token_file()).unwrap();
    assert_eq!(token.len(), 33, "{token:?}");
    assert_eq!(mode(&lab.token_file()), 0o600);
    assert_eq!(mode(lab.token_file().parent().unwrap()), 0o700);

    // A new process knows who we are from the saved token alone.
    check(&lab.run(&["whoami"], ""), 0, "kate\n", "");
    let verbose = lab.run(&["whoami", "-v"], "");
    assert!(
        !text(&verbose.stderr).contains(token.trim()),
        "token in -v trace"
    );

    check(
        &lab.run(&["passwd"], "wrong-pass\nkate-pass-2\n"),
        1,
        "",
        "socklab: wrong user name or password\n",
    );
    check(
        &lab.run(&["passwd"], "kate-pass-1\nshort\n"),
        1,
        "",
        "socklab: a password is 8 to 128 bytes\n",
    );
    check(
        &lab.run(&["passwd"], "kate-pass-1\nkate-pass-2\n"),
        0,
        "password changed; your other sessions were ended\n",
        "",
    );
    check(&lab.run(&["whoami"], ""), 0, "kate\n", "");
    check(&lab.run(&["logout"], ""), 0, "logged out\n", "");
    assert!(!lab.token_file().exists());
    check(
        &lab.run(&["whoami"], ""),
        1,
        "",
        "socklab: not logged in; run `socklab login --user NAME` first\n",
    );
    check(
        &lab.run(&["login", "--user", "kate"], "kate-pass-1\n"),
        1,
        "",
        "socklab: wrong user name or password\n",
    );
    let out = lab.run(&["login", "--user", "kate"], "kate-pass-2\n");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn whoami_still_knows_you_after_a_server_restart() {
    let mut lab = Lab::new(&[]);
    lab.run(&["register", "--user", "noah"], "noah-pass-1\n");
    let out = lab.run(&["login", "--user", "noah"], "noah-pass-1\n");
    assert_eq!(out.status.code(), Some(0));
    lab.restart();
    check(&lab.run(&["whoami"], ""), 0, "noah\n", "");
    check(&lab.run(&["logout"], ""), 0, "logged out\n", "");
}

#[test]
fn an_expired_token_says_so() {
    let lab = Lab::new(&["--token-ttl", "1"]);
    lab.run(&["register", "--user", "liam"], "liam-pass-1\n");
    let out = lab.run(&["login", "--user", "liam"], "liam-pass-1\n");
    assert_eq!(out.status.code(), Some(0));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    check(
        &lab.run(&["whoami"], ""),
        1,
        "",
        "socklab: your session has expired or was ended; log in again\n",
    );
    check(
        &lab.run(&["logout"], ""),
        0,
        "the session had already ended; the saved token is removed\n",
        "",
    );
    assert!(!lab.token_file().exists());
}

#[test]
fn usage_and_connection_errors_exit_2() {
    let lab = Lab::new(&[]);
    let out = lab.run(&["register", "--user", "no spaces"], "whatever-pass\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("a user name is 1 to 32"),
        "{out:?}"
    );
    let mut cmd = socklab();
    cmd.args([
        "login",
        "--user",
        "mia",
        "--host",
        "127.0.0.1",
        "--port",
        "1",
    ])
    .env("XDG_CONFIG_HOME", lab.config.path());
    let out = run_with_input(cmd, b"mia-pass-1\n".to_vec());
    check(
        &out,
        2,
        "",
        "socklab: cannot connect to 127.0.0.1:1: connection refused \
         (is the server running? start it with: socklab serve auth --port 1)\n",
    );
    check(
        &lab.run(&["register", "--user", "mia"], "short\n"),
        1,
        "",
        "socklab: a password is 8 to 128 bytes\n",
    );
    check(
        &lab.run(&["login", "--user", "mia"], ""),
        1,
        "",
        "socklab: no password on standard input\n",
    );
}

#[test]
fn on_a_terminal_the_password_is_asked_twice_and_not_echoed() {
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};
    if !script_available() {
        eprintln!("skipped: `script` is not available to provide a terminal");
        return;
    }
    let lab = Lab::new(&[]);
    let line = format!(
        "{} register --user nina --port {}",
        env!("CARGO_BIN_EXE_socklab"),
        lab.server.addr().port()
    );
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .env("XDG_CONFIG_HOME", lab.config.path());
    let mut child = client_common::spawn(&mut cmd);
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let shown = Arc::new(Mutex::new(String::new()));
    let sink = shown.clone();
    let reader = std::thread::spawn(move || {
        let mut b = [0u8; 256];
        while let Ok(n @ 1..) = stdout.read(&mut b) {
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&b[..n]));
        }
    });
    let wait_for = |needle: &str| {
        let start = std::time::Instant::now();
        while !shown.lock().unwrap().contains(needle) {
            assert!(
                start.elapsed() < client_common::DEADLINE,
                "no {needle:?}: {}",
                shown.lock().unwrap()
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    };
    wait_for("Password: ");
    // Echo is turned off once the prompt is shown; give the tty a moment to see that.
    std::thread::sleep(std::time::Duration::from_millis(100));
    stdin.write_all(b"nina-pass-1\n").unwrap();
    wait_for("Repeat it: ");
    std::thread::sleep(std::time::Duration::from_millis(100));
    stdin.write_all(b"nina-pass-1\n").unwrap();
    wait_for("registered nina");
    drop(stdin);
    let status = child.wait().unwrap();
    reader.join().unwrap();
    let shown = shown.lock().unwrap().clone();
    assert!(status.success(), "{shown}");
    assert!(!shown.contains("nina-pass-1"), "echoed: {shown}");
    let out = lab.run(&["login", "--user", "nina"], "nina-pass-1\n");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}
