//! §0's shutdown over real sockets, against the built binary: on SIGTERM a server stops
//! accepting, lets work in flight finish (a files GET within `--drain-timeout`, a LOGIN
//! whose session is saved), closes idle connections at once, logs what it cuts after
//! its `server stopping` line, and exits 0.

mod serve_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::thread;
use std::time::Duration;

use serve_support::{Server, read_line, read_n, read_to_eof, serve};

/// 32 MiB: far more than loopback's socket buffers hold, so the transfer is still
/// running on the server when the signal comes.
const BIG: usize = 32 << 20;

fn big_file(dir: &Path) -> Vec<u8> {
    let data: Vec<u8> = (0..BIG as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(dir.join("big.bin"), &data).unwrap();
    data
}

fn files(dir: &Path, extra: &[&str]) -> Server {
    let mut args = vec!["files", "--port", "0", "--dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    serve(&args, 1)
}

/// A files connection past the greeting, with a GET of big.bin sent and answered.
fn start_get(server: &Server) -> TcpStream {
    let mut s = server.connect();
    assert_eq!(read_line(&mut s), "OK socklab-files 1\n");
    s.write_all(b"GET big.bin\n").unwrap();
    assert_eq!(read_line(&mut s), format!("DATA {BIG}\n"));
    s
}

/// The log lines about `peer`, as the test's client sees its own address.
fn lines_about<'a>(log: &'a str, s: &TcpStream) -> Vec<&'a str> {
    let me = format!(" {} ", s.local_addr().unwrap());
    log.lines().filter(|l| l.contains(&me)).collect()
}

/// Where `needle` is in `log`, or a failure showing the log.
fn at(log: &str, needle: &str) -> usize {
    log.find(needle)
        .unwrap_or_else(|| panic!("log never said {needle:?}; log:\n{log}"))
}

#[test]
fn a_download_in_flight_at_sigterm_completes_whole() {
    let dir = tempfile::tempdir().unwrap();
    let data = big_file(dir.path());
    let mut server = files(dir.path(), &[]);
    let mut s = start_get(&server);
    let mut got = read_n(&mut s, 1 << 20);
    server.terminate();
    server.wait_log("server stopping (SIGTERM received)");
    s.read_to_end(&mut got).expect("the rest of the file");
    assert_eq!(got.len(), BIG, "the download was cut");
    assert_eq!(crc32fast::hash(&got), crc32fast::hash(&data));
    let status = server.wait_exit();
    assert!(status.success(), "{status:?}");
    let log = server.log();
    let stop = at(&log, "server stopping (SIGTERM received)");
    let mine = lines_about(&log, &s);
    let bye = mine.last().expect("lines about the client");
    assert!(
        bye.ends_with("client disconnected (server stopping)"),
        "{log}"
    );
    assert!(stop < at(&log, bye), "stopping is logged first:\n{log}");
}

#[test]
fn a_slow_download_is_cut_at_the_drain_timeout_and_named_while_idle_ones_close_at_once() {
    let dir = tempfile::tempdir().unwrap();
    big_file(dir.path());
    let mut server = files(dir.path(), &["--drain-timeout", "1"]);
    let mut slow = start_get(&server);
    let mut idle = server.connect();
    assert_eq!(read_line(&mut idle), "OK socklab-files 1\n");
    let mut got = read_n(&mut slow, 64 << 10);
    let reader = thread::spawn(move || {
        // 64 KiB every 20 ms: the 32 MiB would take ten seconds.
        let mut buf = vec![0u8; 64 << 10];
        loop {
            match slow.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
            thread::sleep(Duration::from_millis(20));
        }
        (slow, got.len())
    });
    server.terminate();
    // The idle connection is closed without waiting for the transfer.
    assert_eq!(read_to_eof(&mut idle), b"");
    let (slow, received) = reader.join().unwrap();
    assert!(received < BIG, "the slow download was not cut");
    let status = server.wait_exit();
    assert!(status.success(), "{status:?}");
    let log = server.log();
    let stop = at(&log, "server stopping (SIGTERM received)");
    // The log names the transfer and how far it got: exactly what the client has.
    let cut = format!(
        "client disconnected (server stopping: GET big.bin cut after {received} of {BIG} bytes)"
    );
    let idle_bye = lines_about(&log, &idle)
        .last()
        .map(|l| at(&log, l))
        .unwrap();
    assert!(
        lines_about(&log, &slow).last().unwrap().ends_with(&cut),
        "{log}"
    );
    assert!(stop < idle_bye && idle_bye < at(&log, &cut), "{log}");
}

/// Argon2 at the default cost, so that forty LOGINs take a while on two cores; a drain
/// long enough for all of them even on a busy machine (this test is about who gets an
/// answer, not how fast).
fn auth(dir: &Path) -> Server {
    let dir = dir.to_str().unwrap();
    serve(
        &[
            "auth",
            "--port",
            "0",
            "--dir",
            dir,
            "-v",
            "--drain-timeout",
            "60",
        ],
        1,
    )
}

fn say(s: &mut TcpStream, line: &str) -> String {
    s.write_all(format!("{line}\n").as_bytes()).unwrap();
    read_line(s)
}

#[test]
fn every_login_whose_session_was_saved_gets_its_ok() {
    const USERS: usize = 4;
    const LOGINS: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    let mut server = auth(dir.path());
    let mut admin = server.connect();
    assert_eq!(read_line(&mut admin), "OK socklab-auth 1\n");
    for u in 0..USERS {
        assert_eq!(
            say(&mut admin, &format!("REGISTER user{u} pass-{u}-word")),
            "OK registered\n"
        );
    }
    let mut clients: Vec<TcpStream> = (0..LOGINS)
        .map(|i| {
            let mut c = server.connect();
            assert_eq!(read_line(&mut c), "OK socklab-auth 1\n");
            let u = i % USERS;
            c.write_all(format!("LOGIN user{u} pass-{u}-word\n").as_bytes())
                .unwrap();
            c
        })
        .collect();
    // Every LOGIN line has reached the server; most are still being hashed.
    for c in &clients {
        let me = c.local_addr().unwrap();
        server.wait_log(&format!(" {me} data received"));
    }
    server.terminate();
    // `admin` is between commands: closed at once.
    assert_eq!(read_to_eof(&mut admin), b"");
    let tokens: Vec<(usize, String)> = clients
        .iter_mut()
        .enumerate()
        .filter_map(|(i, c)| {
            let reply = String::from_utf8(read_to_eof(c)).unwrap();
            reply
                .strip_prefix("OK ")
                .map(|t| (i % USERS, t.trim_end().to_owned()))
        })
        .collect();
    let status = server.wait_exit();
    assert!(status.success(), "{status:?}");
    let saved = std::fs::read_to_string(dir.path().join("sessions")).unwrap();
    let saved = saved.lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(
        tokens.len(),
        saved,
        "{saved} sessions were saved but only {} clients got their OK; log:\n{}",
        tokens.len(),
        server.log()
    );
    assert_eq!(saved, LOGINS, "a LOGIN read before the stop is answered");
    let log = server.log();
    let stop = at(&log, "server stopping (SIGTERM received)");
    let first_bye = at(&log, "client disconnected");
    assert!(
        stop < first_bye,
        "disconnects logged before the stop:\n{log}"
    );
    // The tokens work after a restart.
    let server = auth(dir.path());
    let mut c = server.connect();
    assert_eq!(read_line(&mut c), "OK socklab-auth 1\n");
    for (u, token) in tokens {
        assert_eq!(
            say(&mut c, &format!("TOKEN {token}")),
            format!("OK user{u}\n")
        );
    }
}

#[test]
fn an_upload_in_flight_at_sigterm_is_received_and_committed() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = files(dir.path(), &[]);
    let mut s = server.connect();
    assert_eq!(read_line(&mut s), "OK socklab-files 1\n");
    let data: Vec<u8> = (0..BIG as u32).map(|i| (i % 251) as u8).collect();
    s.write_all(format!("PUT {BIG} up.bin\n").as_bytes())
        .unwrap();
    assert_eq!(read_line(&mut s), "READY\n");
    s.write_all(&data[..1 << 20]).unwrap();
    server.terminate();
    server.wait_log("server stopping (SIGTERM received)");
    // The server still reads the payload it was promised, then answers and closes.
    s.write_all(&data[1 << 20..]).unwrap();
    let crc = format!("{:08x}", crc32fast::hash(&data));
    assert_eq!(read_line(&mut s), format!("OK {BIG} {crc}\n"));
    assert_eq!(read_to_eof(&mut s), b"");
    assert!(server.wait_exit().success());
    assert!(std::fs::read(dir.path().join("up.bin")).unwrap() == data);
}

#[test]
fn a_second_signal_cuts_the_drain_short() {
    let dir = tempfile::tempdir().unwrap();
    big_file(dir.path());
    // A drain far longer than the test waits for an exit (serve_support::WAIT).
    let mut server = files(dir.path(), &["--drain-timeout", "600"]);
    let mut s = start_get(&server);
    let got = read_n(&mut s, 64 << 10);
    server.terminate();
    server.wait_log("server stopping (SIGTERM received)");
    server.interrupt();
    let status = server.wait_exit();
    assert!(status.success(), "{status:?}");
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    assert!(got.len() + rest.len() < BIG, "the download was not cut");
    let log = server.log();
    assert!(
        log.contains("(server stopping: GET big.bin cut after "),
        "{log}"
    );
}
