//! §0 rules every server follows (binding, limits, idle timeout, signals, logging, one
//! event loop for `serve all`), over real loopback sockets against the built binary.

mod serve_support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

use serve_support::*;

#[test]
fn idle_connection_is_closed() {
    let server = serve(&["echo", "--port", "0", "--idle-timeout", "1"], 1);
    let mut c = server.connect();
    assert_eq!(read_to_eof(&mut c), b"");
    server.wait_log("client disconnected (timeout)");
}

#[test]
fn input_keeps_a_connection_alive_until_it_goes_idle() {
    let server = serve(&["echo", "--port", "0", "--idle-timeout", "1"], 1);
    let mut c = server.connect();
    assert_eq!(round_trip(&mut c, b"ping\n"), b"ping\n");
    assert_eq!(read_to_eof(&mut c), b"");
}

#[test]
fn over_max_conns_is_closed_at_once() {
    let server = serve(
        &["quiz", "--port", "0", "--max-conns", "1", "--seed", "1"],
        1,
    );
    let mut first = server.connect();
    assert_eq!(
        read_line(&mut first),
        "> Hi! You need to solve 10 arithmetic problems:\n"
    );
    let mut second = server.connect();
    // Nothing at all is sent to the rejected client, not even the greeting.
    assert_eq!(read_to_eof(&mut second), b"");
    server.wait_log("client rejected (server full: 1 connections, --max-conns 1)");
    // The first one is unaffected.
    read_line(&mut first);
    first.write_all(b"x\n").unwrap();
    assert_eq!(read_to_eof(&mut first), b"> It's wrong!\n");
}

#[test]
fn bind_failure_names_the_port() {
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port().to_string();
    let (status, out, err) = run(&["serve", "echo", "--port", &port]);
    assert_eq!(status.code(), Some(1));
    assert_eq!(out, "");
    // Nothing before it: no `server start` for a server that never ran.
    assert_eq!(
        err,
        format!(
            "socklab: cannot listen on 127.0.0.1:{port} (echo): address already in use \
             (another server has this port: stop it, choose another with --port, or add \
             --port-auto to move on to the next free one)\n"
        )
    );
}

/// A second `serve all` (the first one still running) says which port is taken and
/// what to do, and nothing else: every socket is bound before anything is logged. The
/// last socket it binds, chat's UDP port, is the taken one, so every other bind has
/// succeeded by then. A loopback address of its own keeps the default ports of other
/// servers on this machine out of the way.
#[test]
fn second_serve_all_names_the_taken_port_and_nothing_else() {
    let host = format!("127.{}.{}.9", std::process::id() % 250 + 1, 77);
    let _held = std::net::UdpSocket::bind((host.as_str(), 9093)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let (files, ident, auth) = (path("files"), path("ident.tsv"), path("auth"));
    let (status, out, err) = run(&[
        "serve",
        "all",
        "--host",
        &host,
        "--dir",
        &files,
        "--ident-db",
        &ident,
        "--auth-dir",
        &auth,
    ]);
    assert_eq!(status.code(), Some(1));
    assert_eq!(out, "");
    assert_eq!(
        err,
        format!(
            "socklab: cannot listen on {host}:9093 (chat): address already in use \
             (another server has this port: stop it, or add --port-auto to move on to the \
             next free one)\n"
        )
    );
}

#[test]
fn port_auto_takes_the_next_free_port() {
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let server = serve(&["echo", "--port", &port.to_string(), "--port-auto"], 1);
    let got = server.addr().port();
    assert!(
        got > port && got < port.saturating_add(100),
        "{got} vs {port}"
    );
    let mut c = server.connect();
    assert_eq!(round_trip(&mut c, b"ok\n"), b"ok\n");
}

#[test]
fn sigint_stops_gracefully() {
    let mut server = serve(&["echo", "--port", "0"], 1);
    let mut c = server.connect();
    assert_eq!(round_trip(&mut c, b"hi\n"), b"hi\n");
    server.interrupt();
    assert_eq!(read_to_eof(&mut c), b"");
    let status = server.wait_exit();
    assert!(status.success(), "{status:?}");
    let log = server.log();
    assert!(log.contains("server stopping (SIGINT received)"), "{log}");
    assert!(
        log.contains("client disconnected (server stopping)"),
        "{log}"
    );
    assert!(log.trim_end().ends_with("server stopped"), "{log}");
}

#[test]
fn slow_and_silent_clients_do_not_delay_others() {
    let server = serve(&["echo", "--port", "0"], 1);
    // A silent client, and one that floods the server without ever reading.
    let _silent = server.connect();
    let flooder = server.connect();
    let mut w = flooder.try_clone().unwrap();
    w.set_write_timeout(None).unwrap();
    let flood = thread::spawn(move || {
        let block = vec![b'x'; 64 * 1024];
        // Ends when the test drops the connection (or, if the server misbehaved, never
        // matters: the thread is detached).
        while w.write_all(&block).is_ok() {}
    });
    // Wait until the flooder has filled every buffer on the way.
    server.wait_log("client connected");
    thread::sleep(std::time::Duration::from_millis(200));
    for i in 0..20 {
        let mut c = server.connect();
        let msg = format!("client {i}\n");
        assert_eq!(round_trip(&mut c, msg.as_bytes()), msg.as_bytes());
    }
    flooder.shutdown(std::net::Shutdown::Both).unwrap();
    drop(flood);
}

#[test]
fn serve_all_runs_every_service_in_one_process() {
    let (mut server, _dir) = serve_all(&["--seed", "4", "--upper"]);
    assert!(server.addrs[2].port() >= 8020, "{:?}", server.addrs);
    assert!(server.addrs[0].port() >= 9090, "{:?}", server.addrs);
    assert!(server.addrs[1].port() >= 31337, "{:?}", server.addrs);
    let mut e = server.connect_to(0);
    assert_eq!(round_trip(&mut e, b"shout\n"), b"SHOUT\n");
    let mut q = server.connect_to(1);
    assert_eq!(
        read_line(&mut q),
        "> Hi! You need to solve 10 arithmetic problems:\n"
    );
    assert!(server.addrs[4].port() >= 9092, "{:?}", server.addrs);
    let mut au = server.connect_to(4);
    assert_eq!(read_line(&mut au), "OK socklab-auth 1\n");
    server.interrupt();
    assert!(server.wait_exit().success());
    let log = server.log();
    assert!(log.contains("serving echo, quiz, files"), "{log}");
    assert!(log.contains(" echo 127.0.0.1:"), "{log}");
    assert!(log.contains(" quiz 127.0.0.1:"), "{log}");
}

#[test]
fn ipv6_listening_line_uses_brackets() {
    if TcpListener::bind("[::1]:0").is_err() {
        eprintln!("no IPv6 loopback here; skipped");
        return;
    }
    let server = serve(&["echo", "--host", "::1", "--port", "0"], 1);
    assert!(server.addr().is_ipv6());
    let mut c = TcpStream::connect(server.addr()).unwrap();
    c.set_read_timeout(Some(WAIT)).unwrap();
    assert_eq!(round_trip(&mut c, b"six\n"), b"six\n");
    server.wait_log("echo [::1]:");
}

#[test]
fn listening_line_is_printed_even_when_quiet() {
    let server = serve(&["echo", "--port", "0", "-q"], 1);
    let mut c = server.connect();
    assert_eq!(round_trip(&mut c, b"q\n"), b"q\n");
    drop(c);
    // No connection events with -q (wait for the server to see the close first).
    let mut probe = server.connect();
    assert_eq!(round_trip(&mut probe, b"probe\n"), b"probe\n");
    assert_eq!(server.log(), "");
}

#[test]
fn log_file_is_appended() {
    let path = std::env::temp_dir().join(format!("socklab-serve-test-{}.log", std::process::id()));
    std::fs::write(&path, "earlier line\n").unwrap();
    let p = path.to_str().unwrap();
    {
        let mut server = serve(&["echo", "--port", "0", "--log-file", p], 1);
        let mut c = server.connect();
        c.write_all(b"bye\nquit\n").unwrap();
        let mut got = Vec::new();
        c.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"bye\n");
        server.interrupt();
        assert!(server.wait_exit().success());
        assert_eq!(server.log(), "", "nothing on stderr with --log-file");
    }
    let log = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(log.starts_with("earlier line\n"), "{log}");
    assert!(log.contains("client disconnected (quit)"), "{log}");
    assert!(log.contains("server stopping"), "{log}");
}

#[test]
fn help_shows_examples() {
    let (status, out, _) = run(&["serve", "echo", "--help"]);
    assert!(status.success());
    assert!(out.contains("Examples:"), "{out}");
    assert!(out.contains("--allow-stop"), "{out}");
    let (status, out, _) = run(&["--help"]);
    assert!(status.success());
    assert!(out.contains("socklab serve all"), "{out}");
}

#[test]
fn bad_common_flags_are_refused() {
    for flags in [
        &["echo", "--chunk", "0"][..],
        &["echo", "--idle-timeout", "0"],
        &["echo", "--max-conns", "0"],
        &["echo", "--host", "localhost"],
        &["echo", "-q", "-v"],
        &["all", "--port", "1"],
    ] {
        let mut args = vec!["serve"];
        args.extend_from_slice(flags);
        let (status, out, err) = run(&args);
        assert!(!status.success(), "{flags:?}");
        assert_eq!(out, "", "{flags:?}");
        assert!(err.contains("error:"), "{flags:?}: {err}");
    }
}

#[test]
fn sigterm_stops_gracefully_and_flushes_a_quiz_greeting() {
    let mut server = serve(&["quiz", "--port", "0", "--seed", "2"], 1);
    let mut c = server.connect();
    assert_eq!(
        read_line(&mut c),
        "> Hi! You need to solve 10 arithmetic problems:\n"
    );
    let pid = rustix::process::Pid::from_raw(server.pid() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let rest = read_to_eof(&mut c);
    assert!(rest.starts_with(b"1. "), "{rest:?}");
    assert!(server.wait_exit().success());
    server.wait_log("server stopping (SIGTERM received)");
}

#[test]
fn reset_by_peer_is_logged_as_reset() {
    let server = serve(&["echo", "--port", "0"], 1);
    let mut c = server.connect();
    assert_eq!(round_trip(&mut c, b"a\n"), b"a\n");
    // SO_LINGER 0: closing sends RST instead of FIN.
    rustix::net::sockopt::set_socket_linger(&c, Some(std::time::Duration::ZERO)).unwrap();
    drop(c);
    server.wait_log("client disconnected (reset)");
    // The server goes on serving.
    let mut d = server.connect();
    assert_eq!(round_trip(&mut d, b"b\n"), b"b\n");
}

#[test]
fn stop_gives_up_on_a_client_that_never_reads() {
    let mut server = serve(&["echo", "--port", "0"], 1);
    let flooder = server.connect();
    let mut w = flooder.try_clone().unwrap();
    w.set_write_timeout(Some(std::time::Duration::from_millis(300)))
        .unwrap();
    // Fill every buffer between us and the server until our writes time out: from
    // then on the server owes output it cannot deliver. One timeout may only mean the
    // server was not scheduled for 300 ms on a busy machine, so the buffers count as
    // full only after three timeouts in a row with pauses between them (the server
    // would have read during a pause if it could). Bounded: 2,000 blocks is 128 MiB.
    let block = vec![b'y'; 64 * 1024];
    let mut timeouts = 0;
    for _ in 0..2_000 {
        if w.write(&block).is_ok() {
            timeouts = 0;
            continue;
        }
        timeouts += 1;
        if timeouts == 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert_eq!(
        timeouts, 3,
        "the server kept reading 128 MiB it could not echo"
    );
    server.interrupt();
    let status = server.wait_exit();
    assert!(status.success(), "{status:?}");
    let log = server.log();
    assert!(
        log.contains("client disconnected (server stopping: gave up delivering"),
        "{log}"
    );
    drop(flooder);
}

#[test]
fn loops_share_the_connection_limit_and_the_stop() {
    // Three loops, connections handed round-robin: each of the first three lands on a
    // different loop, so the limit and the stop must cross threads to be right.
    let mut server = serve(
        &[
            "echo",
            "--port",
            "0",
            "--threads",
            "3",
            "--max-conns",
            "3",
            "--allow-stop",
        ],
        1,
    );
    let mut conns: Vec<TcpStream> = (0..3).map(|_| server.connect()).collect();
    for (i, c) in conns.iter_mut().enumerate() {
        let line = format!("loop {i}\n");
        assert_eq!(round_trip(c, line.as_bytes()), line.as_bytes());
    }
    let mut fourth = server.connect();
    assert_eq!(read_to_eof(&mut fourth), b"");
    server.wait_log("client rejected (server full: 3 connections, --max-conns 3)");
    // One connection frees its place on its loop; the accepting loop sees it.
    conns[1].write_all(b"quit\n").unwrap();
    assert_eq!(read_to_eof(&mut conns[1]), b"");
    server.wait_log("client disconnected (quit)");
    let mut again = server.connect();
    assert_eq!(round_trip(&mut again, b"room\n"), b"room\n");
    // `stop` on one loop stops them all; the others are flushed and closed.
    conns[2].write_all(b"unanswered?\n").unwrap();
    conns[0].write_all(b"stop\n").unwrap();
    assert!(server.wait_exit().success());
    assert_eq!(read_to_eof(&mut conns[2]), b"unanswered?\n");
    assert_eq!(read_to_eof(&mut again), b"");
    let log = server.log();
    let process_lines = |what: &str| {
        log.lines()
            .filter(|l| l.contains(" socklab pid ") && l.contains(what))
            .count()
    };
    assert_eq!(
        process_lines("server stopping (stop requested by"),
        1,
        "{log}"
    );
    assert_eq!(process_lines("server stopped"), 1, "{log}");
}

/// A second server started by mistake on the same port and folder must fail before it
/// touches the folder: its start-up clean-up of unfinished uploads would delete the
/// upload the first server is receiving (the client then got `ERR not-found`).
#[test]
fn a_second_server_on_a_taken_port_leaves_the_first_ones_upload_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let store = store.to_str().unwrap();
    // Each chunk write sleeps, so the upload is surely in progress meanwhile.
    let server = serve(
        &["files", "--port", "0", "--dir", store, "--io-delay", "200"],
        1,
    );
    let port = server.addr().port().to_string();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    let mut c = server.connect();
    assert_eq!(read_line(&mut c), "OK socklab-files 1\n");
    c.write_all(b"PUT 200000 upload.bin\n").unwrap();
    assert_eq!(read_line(&mut c), "READY\n");
    c.write_all(&data[..100_000]).unwrap();
    server.wait_log("client connected");

    let (status, out, err) = run(&["serve", "files", "--port", &port, "--dir", store]);
    assert_eq!(status.code(), Some(1));
    assert_eq!(out, "");
    assert!(
        err.starts_with(&format!(
            "socklab: cannot listen on 127.0.0.1:{port} (files): address already in use"
        )),
        "{err}"
    );

    c.write_all(&data[100_000..]).unwrap();
    c.set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    let crc = format!("{:08x}", crc32fast::hash(&data));
    assert_eq!(read_line(&mut c), format!("OK 200000 {crc}\n"));
    assert!(std::fs::read(dir.path().join("store/upload.bin")).unwrap() == data);
}
