//! "Connection refused" is what a student sees who forgot to start the server: every
//! client says so in words and names the command that starts it (exit 2, nothing on
//! stdout).

mod client_common;

use client_common::{listener, run_with_input, socklab};

/// A port on 127.0.0.1 where nothing listens: one we just had and closed.
fn closed_port() -> u16 {
    let (l, addr) = listener();
    drop(l);
    addr.port()
}

#[test]
fn every_client_says_how_to_start_its_server() {
    let config = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str, &[u8]); 7] = [
        (&["echo"], "echo", b""),
        (&["quiz"], "quiz", b""),
        (&["files", "list"], "files", b""),
        (&["ident", "--name", "Ann"], "ident", b""),
        (&["login", "--user", "ann"], "auth", b"ann-password\n"),
        (&["register", "--user", "ann"], "auth", b"ann-password\n"),
        (&["chat", "--nick", "ann"], "chat", b""),
    ];
    for (args, service, stdin) in cases {
        let port = closed_port().to_string();
        let mut cmd = socklab();
        cmd.args(args)
            .args(["--host", "127.0.0.1", "--port", &port])
            .env("XDG_CONFIG_HOME", config.path());
        let out = run_with_input(cmd, stdin.to_vec());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let what = if service == "chat" {
            format!("cannot reach the chat at 127.0.0.1:{port}")
        } else {
            format!("cannot connect to 127.0.0.1:{port}")
        };
        assert_eq!(
            err,
            format!(
                "socklab: {what}: connection refused (is the server running? \
                 start it with: socklab serve {service} --port {port})\n"
            ),
            "{args:?}"
        );
    }
}

/// `::1` is not the servers' default address (127.0.0.1): the command must say it.
#[test]
fn the_hint_names_a_local_address_that_is_not_the_default() {
    let Ok(l) = std::net::TcpListener::bind("[::1]:0") else {
        eprintln!("no IPv6 loopback here: not checked");
        return;
    };
    let port = l.local_addr().unwrap().port();
    drop(l);
    let mut cmd = socklab();
    cmd.args(["echo", "--host", "::1", "--port", &port.to_string()]);
    let out = run_with_input(cmd, Vec::new());
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "socklab: cannot connect to [::1]:{port}: connection refused (is the server \
             running? start it with: socklab serve echo --host ::1 --port {port})\n"
        )
    );
}
