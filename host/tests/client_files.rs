//! `socklab files` against the real server and against scripted servers that misbehave
//! (wrong crc32, a connection cut in the middle of a transfer).

mod client_common;
mod serve_support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

use client_common::{
    listener, random_bytes, read_line, run_with_input, script_available, scripted, socklab,
};
use serve_support::{Server, serve};

fn files_server(dir: &Path) -> Server {
    serve(&["files", "--port", "0", "--dir", dir.to_str().unwrap()], 1)
}

/// `socklab files <args> --host H --port P` (flags after the subcommand), run in `cwd`.
fn files(addr: std::net::SocketAddr, cwd: &Path, args: &[&str]) -> Command {
    let mut cmd = socklab();
    cmd.current_dir(cwd).arg("files").args(args).args([
        "--host",
        &addr.ip().to_string(),
        "--port",
        &addr.port().to_string(),
    ]);
    cmd
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn crc(b: &[u8]) -> String {
    format!("{:08x}", crc32fast::hash(b))
}

#[test]
fn put_list_get_round_trip() {
    let store = tempfile::tempdir().unwrap();
    let here = tempfile::tempdir().unwrap();
    let server = files_server(store.path());
    let data = random_bytes(1_500_000, 7);
    std::fs::write(here.path().join("blob.bin"), &data).unwrap();

    let out = run_with_input(
        files(server.addr(), here.path(), &["put", "blob.bin"]),
        vec![],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The result on stdout, for scripts; nothing else said (no terminal, no progress).
    assert_eq!(
        stdout(&out),
        format!("stored blob.bin (1.4 MiB, crc32 {} verified)\n", crc(&data))
    );
    assert_eq!(stderr(&out), "");
    assert_eq!(std::fs::read(store.path().join("blob.bin")).unwrap(), data);

    // --host/--port before the subcommand work as well.
    let mut cmd = socklab();
    cmd.current_dir(here.path()).args([
        "files",
        "--port",
        &server.addr().port().to_string(),
        "list",
    ]);
    let out = run_with_input(cmd, vec![]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "1500000 blob.bin\n");

    let args = ["get", "blob.bin", "-o", "copy.bin"];
    let out = run_with_input(files(server.addr(), here.path(), &args), vec![]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read(here.path().join("copy.bin")).unwrap(), data);

    let out = run_with_input(
        files(server.addr(), here.path(), &["get", "blob.bin", "-o", "-"]),
        vec![],
    );
    assert_eq!(out.stdout, data);

    // No -o: saved under its own name, but never over an existing file.
    let out = run_with_input(
        files(server.addr(), here.path(), &["get", "blob.bin"]),
        vec![],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("blob.bin already exists here"),
        "{}",
        stderr(&out)
    );
    let out = run_with_input(
        files(server.addr(), here.path(), &["get", "missing"]),
        vec![],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "socklab: the server refused: no such file (not-found)\n"
    );
}

#[test]
fn existing_name_without_a_terminal_fails_clearly_and_flags_decide() {
    let store = tempfile::tempdir().unwrap();
    let here = tempfile::tempdir().unwrap();
    let server = files_server(store.path());
    std::fs::write(store.path().join("t.txt"), b"old").unwrap();
    std::fs::write(here.path().join("local.txt"), b"new").unwrap();
    let put = |extra: &[&str]| {
        let mut args = vec!["put", "local.txt", "--as", "t.txt"];
        args.extend_from_slice(extra);
        run_with_input(files(server.addr(), here.path(), &args), vec![])
    };
    let out = put(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "socklab: t.txt already exists on the server (3 bytes); use --overwrite or \
         --append to say what to do (nothing was sent)\n"
    );
    assert_eq!(std::fs::read(store.path().join("t.txt")).unwrap(), b"old");
    let out = put(&["--append"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(store.path().join("t.txt")).unwrap(),
        b"oldnew"
    );
    let out = put(&["--overwrite"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read(store.path().join("t.txt")).unwrap(), b"new");
    let out = put(&["--overwrite", "--append"]);
    assert_eq!(out.status.code(), Some(2), "clap refuses both");
}

#[test]
fn interactive_flow_reads_answers_from_stdin() {
    let store = tempfile::tempdir().unwrap();
    let here = tempfile::tempdir().unwrap();
    let server = files_server(store.path());
    std::fs::write(here.path().join("lab.txt"), b"homework 3").unwrap();
    std::fs::write(store.path().join("other"), b"x").unwrap();
    // Path, then the default name.
    let out = run_with_input(
        files(server.addr(), here.path(), &[]),
        b"lab.txt\n\n".to_vec(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("Files on the server:\n  other (1 bytes)\n"),
        "{err}"
    );
    assert!(err.contains("Name on the server [lab.txt]: "), "{err}");
    assert_eq!(
        std::fs::read(store.path().join("lab.txt")).unwrap(),
        b"homework 3"
    );
    // Same again: it exists now; a wrong answer is asked again, then append.
    let out = run_with_input(
        files(server.addr(), here.path(), &[]),
        b"nope.txt\nlab.txt\nlab.txt\nmaybe\na\n".to_vec(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("cannot use nope.txt"), "{err}");
    assert!(err.contains("please answer o, a or c"), "{err}");
    assert_eq!(
        std::fs::read(store.path().join("lab.txt")).unwrap(),
        b"homework 3homework 3"
    );
    // Cancel leaves it alone.
    let out = run_with_input(
        files(server.addr(), here.path(), &[]),
        b"lab.txt\n\nc\n".to_vec(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "cancelled: lab.txt left as it was\n");
}

/// Issue 10: `files put` printed its success line on stderr, and `files list` on an
/// empty server printed nothing at all. Results go to stdout (scripts read them),
/// errors and notes to stderr; an empty listing leaves stdout empty so that
/// `files list | wc -l` counts 0, and says so on stderr.
#[test]
fn results_go_to_stdout_and_an_empty_listing_says_so_on_stderr() {
    let store = tempfile::tempdir().unwrap();
    let here = tempfile::tempdir().unwrap();
    let server = files_server(store.path());
    let out = run_with_input(files(server.addr(), here.path(), &["list"]), vec![]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "no files on the server\n");

    std::fs::write(here.path().join("notes.txt"), b"hello world").unwrap();
    let out = run_with_input(
        files(server.addr(), here.path(), &["put", "notes.txt"]),
        vec![],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "stored notes.txt (11 bytes, crc32 0d4a1185 verified)\n"
    );
    assert_eq!(stderr(&out), "");

    let out = run_with_input(files(server.addr(), here.path(), &["list"]), vec![]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "11 notes.txt\n");
    assert_eq!(stderr(&out), "");

    // A refusal is an error: stderr, exit 1, nothing on stdout.
    let out = run_with_input(
        files(server.addr(), here.path(), &["put", "notes.txt"]),
        vec![],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("already exists on the server"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_wrong_crc_fails_loudly() {
    let (l, addr) = listener();
    let server = scripted(l, |mut s| {
        s.write_all(b"OK socklab-files 1\n").unwrap();
        assert_eq!(read_line(&mut s), b"PUT 4 f\n");
        s.write_all(b"READY\n").unwrap();
        let mut buf = [0u8; 4];
        std::io::Read::read_exact(&mut s, &mut buf).unwrap();
        s.write_all(b"OK 4 00000000\n").unwrap();
        read_line(&mut s)
    });
    let here = tempfile::tempdir().unwrap();
    std::fs::write(here.path().join("f"), b"data").unwrap();
    let out = run_with_input(files(addr, here.path(), &["put", "f"]), vec![]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "socklab: crc32 MISMATCH: the server stored 00000000 but we sent {}; the file on \
             the server is damaged\n",
            crc(b"data")
        )
    );
    drop(server);
}

#[test]
fn a_connection_lost_mid_upload_says_how_far_it_got() {
    let (l, addr) = listener();
    let server = scripted(l, |mut s| {
        s.write_all(b"OK socklab-files 1\n").unwrap();
        read_line(&mut s);
        s.write_all(b"READY\n").unwrap();
        let mut buf = vec![0u8; 1 << 20];
        std::io::Read::read_exact(&mut s, &mut buf).unwrap();
        // Unread data makes this close a reset.
    });
    let here = tempfile::tempdir().unwrap();
    std::fs::write(here.path().join("big"), vec![5u8; 10 << 20]).unwrap();
    let out = run_with_input(files(addr, here.path(), &["put", "big"]), vec![]);
    server.join().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("socklab: connection lost after ") && err.contains(" of 10 MiB ("),
        "{err}"
    );
    assert!(err.ends_with("; the server kept nothing\n"), "{err}");
}

#[test]
fn a_connection_lost_mid_download_saves_nothing() {
    let (l, addr) = listener();
    let server = scripted(l, |mut s| {
        s.write_all(b"OK socklab-files 1\n").unwrap();
        read_line(&mut s);
        s.write_all(b"DATA 1000000\n").unwrap();
        s.write_all(&[1u8; 1000]).unwrap();
    });
    let here = tempfile::tempdir().unwrap();
    let out = run_with_input(files(addr, here.path(), &["get", "f"]), vec![]);
    server.join().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "socklab: connection lost after 1000 bytes of 976.6 KiB (the server closed it); \
         nothing was saved\n"
    );
    assert_eq!(std::fs::read_dir(here.path()).unwrap().count(), 0);
}

#[test]
fn bad_names_are_refused_before_connecting() {
    let here = tempfile::tempdir().unwrap();
    std::fs::write(here.path().join("f"), b"x").unwrap();
    let (l, addr) = listener();
    drop(l);
    // Nothing listens: every answer below comes before any connection is tried.
    let out = run_with_input(files(addr, here.path(), &["put", "."]), vec![]);
    assert_eq!(out.status.code(), Some(1));
    let out = run_with_input(
        files(addr, here.path(), &["put", "/", "--as", "root"]),
        vec![],
    );
    assert_eq!(stderr(&out), "socklab: / is not a file\n");
    let out = run_with_input(files(addr, here.path(), &["put", "missing"]), vec![]);
    assert_eq!(
        stderr(&out),
        "socklab: cannot open missing: no such file or directory\n"
    );
    let out = run_with_input(
        files(addr, here.path(), &["put", "f", "--as", "a/b"]),
        vec![],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "socklab: \"a/b\" cannot be a name on the server: a name must not contain / or \\\n"
    );
}

#[test]
fn on_a_terminal_the_client_asks_before_replacing() {
    if !script_available() {
        eprintln!("skipped: `script` is not available to provide a terminal");
        return;
    }
    let store = tempfile::tempdir().unwrap();
    let here = tempfile::tempdir().unwrap();
    let server = files_server(store.path());
    std::fs::write(store.path().join("t.txt"), b"old").unwrap();
    std::fs::write(here.path().join("t.txt"), b"brand new").unwrap();
    let line = format!(
        "{} files put t.txt --port {}",
        env!("CARGO_BIN_EXE_socklab"),
        server.addr().port()
    );
    let mut cmd = Command::new("script");
    cmd.current_dir(here.path())
        .args(["-qec", &line, "/dev/null"]);
    let out = run_with_input(cmd, b"o\n".to_vec());
    let shown = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    assert!(out.status.success(), "{shown}");
    assert!(
        shown.contains(
            "t.txt already exists on the server (3 bytes). [o]verwrite, [a]ppend or [c]ancel? "
        ),
        "{shown}"
    );
    assert!(shown.contains("stored t.txt (9 bytes, crc32 "), "{shown}");
    assert_eq!(
        std::fs::read(store.path().join("t.txt")).unwrap(),
        b"brand new"
    );
}

#[test]
fn a_full_server_and_the_verbose_trace_are_reported() {
    let (l, addr) = listener();
    let server = scripted(l, |mut s| {
        s.write_all(b"ERR busy server full\n").unwrap();
    });
    let here = tempfile::tempdir().unwrap();
    let out = run_with_input(files(addr, here.path(), &["list"]), vec![]);
    server.join().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "socklab: the server refused: server full (busy)\n"
    );

    let store = tempfile::tempdir().unwrap();
    let real = files_server(store.path());
    let out = run_with_input(files(real.addr(), here.path(), &["list", "-v"]), vec![]);
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    let peer = real.addr().to_string();
    for want in [
        format!("socklab: {peer}: connected (address {peer})"),
        format!("socklab: {peer}: received 19 bytes"),
        format!("socklab: {peer}: sent 5 bytes"),
        format!("socklab: {peer}: received 5 bytes"),
        format!("socklab: {peer}: disconnected (quit)"),
    ] {
        assert!(err.contains(&want), "{want:?} not in {err}");
    }
}
