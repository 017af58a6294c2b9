//! `socklab serve ident` (§4) over real sockets, byte for byte, and the name file it
//! keeps; plus the `socklab ident` client against it.

mod client_common;
mod serve_support;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};

use client_common::{addr_args, run_with_input, socklab};
use serve_support::{Server, WAIT, read_to_eof, serve};

fn ident_server(db: &Path, host: &str) -> Server {
    serve(
        &[
            "ident",
            "--port",
            "0",
            "--host",
            host,
            "--db",
            db.to_str().unwrap(),
        ],
        1,
    )
}

fn db_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("ident.tsv")
}

/// Everything the server says after we send `input` (then half-close), to its close.
fn talk(addr: SocketAddr, input: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.write_all(input).unwrap();
    String::from_utf8(read_to_eof(&mut s)).unwrap()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn unknown_then_known_and_the_file_after() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let server = ident_server(&db, "127.0.0.1");
    assert_eq!(
        talk(server.addr(), b"  Ann Lee  \r\n"),
        "What is your name?\nNice to meet you, Ann Lee!\n"
    );
    assert_eq!(
        std::fs::read_to_string(&db).unwrap(),
        "127.0.0.1\tAnn Lee\n"
    );
    // Renamed into place: no temporary is left next to it.
    assert_eq!(files_in(dir.path()), ["ident.tsv"]);
    assert_eq!(talk(server.addr(), b""), "Hello again, Ann Lee!\n");
    server.wait_log("name stored in");
}

#[test]
fn the_greeting_waits_for_the_name_only() {
    // A client that keeps its side open still gets the answer and the close.
    let dir = tempfile::tempdir().unwrap();
    let server = ident_server(&db_in(&dir), "127.0.0.1");
    let mut s = server.connect();
    assert_eq!(serve_support::read_line(&mut s), "What is your name?\n");
    s.write_all("Анна\n".as_bytes()).unwrap();
    assert_eq!(read_to_eof(&mut s), "Nice to meet you, Анна!\n".as_bytes());
}

#[test]
fn invalid_names_are_refused_and_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let server = ident_server(&db, "127.0.0.1");
    let long = format!("{}\n", "x".repeat(65));
    for bad in [
        &b"a\tb\n"[..],
        b"\n",
        b"    \n",
        b"\xff\xfe\n",
        long.as_bytes(),
    ] {
        assert_eq!(
            talk(server.addr(), bad),
            "What is your name?\nSorry, that is not a valid name.\n",
            "{bad:?}"
        );
    }
    // A line over §0's 1024 bytes, with no LF at all.
    assert_eq!(
        talk(server.addr(), &[b'y'; 2000]),
        "What is your name?\nSorry, that is not a valid name.\n"
    );
    assert!(!db.exists(), "nothing stored");
    server.wait_log("client disconnected (protocol error)");
    // 64 characters is still a name.
    let ok = "z".repeat(64);
    assert_eq!(
        talk(server.addr(), format!("{ok}\n").as_bytes()),
        format!("What is your name?\nNice to meet you, {ok}!\n")
    );
}

/// §4: a name with U+2028 (LINE SEPARATOR) used to be stored, and split the TSV file's
/// entry for any reader that takes U+2028 as a line end. Such a name, and the other
/// invisible or direction-changing characters §3 bans, get the invalid-name reply, and
/// the file stays one `ip<TAB>name` line per entry.
#[test]
fn invisible_and_line_separator_names_are_refused_and_the_file_stays_one_line_each() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let server = ident_server(&db, "127.0.0.1");
    let addr = server.addr();
    assert_eq!(
        talk_from("127.0.0.2", addr, b"Ann\n"),
        "What is your name?\nNice to meet you, Ann!\n"
    );
    for bad in [
        "Eve\u{2028}127.0.0.9\tAdmin",
        "Eve\u{2028}",
        "Eve\u{2029}Lee",
        "x\u{202e}gnp.exe",
        "\u{200b}\u{200b}",
        "Ev\u{200d}e",
    ] {
        assert_eq!(
            talk_from("127.0.0.3", addr, format!("{bad}\n").as_bytes()),
            "What is your name?\nSorry, that is not a valid name.\n",
            "{bad:?}"
        );
    }
    assert_eq!(
        talk_from("127.0.0.4", addr, b"Bob\n"),
        "What is your name?\nNice to meet you, Bob!\n"
    );
    let text = std::fs::read_to_string(&db).unwrap();
    assert_eq!(text, "127.0.0.2\tAnn\n127.0.0.4\tBob\n");
    assert!(!text.contains(['\u{2028}', '\u{2029}']), "{text:?}");
    // 127.0.0.3 is still unknown: asked again, not greeted.
    assert_eq!(
        talk_from("127.0.0.3", addr, b"Eve\n"),
        "What is your name?\nNice to meet you, Eve!\n"
    );
}

#[test]
fn restart_keeps_names() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let mut server = ident_server(&db, "127.0.0.1");
    talk(server.addr(), b"Bo\n");
    server.interrupt();
    assert!(server.wait_exit().success());
    let server = ident_server(&db, "127.0.0.1");
    server.wait_log("1 name(s) loaded from");
    assert_eq!(talk(server.addr(), b""), "Hello again, Bo!\n");
}

#[test]
fn a_hand_written_table_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    std::fs::write(&db, "127.0.0.1\tCy\n10.0.0.1\tDee\ngarbage\n").unwrap();
    let server = ident_server(&db, "127.0.0.1");
    server.wait_log("2 name(s) loaded from");
    server.wait_log("(1 malformed line(s) ignored)");
    assert_eq!(talk(server.addr(), b""), "Hello again, Cy!\n");
}

#[test]
fn ipv6_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let server = ident_server(&db, "::1");
    assert_eq!(server.addr().to_string().split(']').next(), Some("[::1"));
    assert_eq!(
        talk(server.addr(), b"Six\n"),
        "What is your name?\nNice to meet you, Six!\n"
    );
    assert_eq!(std::fs::read_to_string(&db).unwrap(), "::1\tSix\n");
    assert_eq!(talk(server.addr(), b""), "Hello again, Six!\n");
}

#[test]
fn ipv4_through_a_dual_stack_listener_is_stored_as_ipv4() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let server = ident_server(&db, "::");
    let v4 = SocketAddr::from(([127, 0, 0, 1], server.addr().port()));
    assert_eq!(
        talk(v4, b"Four\n"),
        "What is your name?\nNice to meet you, Four!\n"
    );
    assert_eq!(std::fs::read_to_string(&db).unwrap(), "127.0.0.1\tFour\n");
}

#[test]
fn a_failed_store_sends_no_greeting() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("no-such-folder").join("ident.tsv");
    let server = ident_server(&db, "127.0.0.1");
    assert_eq!(talk(server.addr(), b"Ann\n"), "What is your name?\n");
    server.wait_log("error: cannot store the name in");
    // Not remembered in memory either.
    assert_eq!(
        talk(server.addr(), b"\n"),
        "What is your name?\nSorry, that is not a valid name.\n"
    );
}

#[test]
fn client_introduces_itself_then_is_known() {
    let dir = tempfile::tempdir().unwrap();
    let server = ident_server(&db_in(&dir), "127.0.0.1");
    let mut cmd = socklab();
    cmd.arg("ident").args(addr_args(server.addr()));
    let out = run_with_input(cmd, b"Ann\n".to_vec());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "What is your name?\nNice to meet you, Ann!\n"
    );
    assert!(out.status.success());

    let mut cmd = socklab();
    cmd.arg("ident")
        .args(addr_args(server.addr()))
        .args(["--name", "Other"]);
    let out = run_with_input(cmd, Vec::new());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Hello again, Ann!\n");
    assert!(out.status.success());
}

#[test]
fn client_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let server = ident_server(&db_in(&dir), "127.0.0.1");
    let mut cmd = socklab();
    cmd.arg("ident")
        .args(addr_args(server.addr()))
        .args(["--name", "a\tb"]);
    let out = run_with_input(cmd, Vec::new());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "What is your name?\nSorry, that is not a valid name.\n"
    );
    assert_eq!(out.status.code(), Some(1));

    let mut cmd = socklab();
    cmd.arg("ident").args(addr_args(server.addr()));
    let out = run_with_input(cmd, Vec::new());
    assert_eq!(out.status.code(), Some(1), "no name on stdin");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no name given"));

    drop(server);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let free = listener.local_addr().unwrap();
    drop(listener);
    let mut cmd = socklab();
    cmd.arg("ident").args(addr_args(free));
    let out = run_with_input(cmd, Vec::new());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot connect to 127.0.0.1:"));
}

#[test]
fn a_slow_store_does_not_hold_up_other_clients() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let server = serve(
        &[
            "ident",
            "--port",
            "0",
            "--threads",
            "1",
            "--store-delay",
            "3000",
            "--db",
            db.to_str().unwrap(),
        ],
        1,
    );
    let mut slow = server.connect();
    assert_eq!(serve_support::read_line(&mut slow), "What is your name?\n");
    slow.write_all(b"Slow\n").unwrap();
    // While that name is being written (3 s), the one loop still serves someone else:
    // the question arrives before the file exists.
    let mut other = server.connect();
    assert_eq!(serve_support::read_line(&mut other), "What is your name?\n");
    assert!(!db.exists(), "the other client waited for the disk");
    drop(other);
    // The greeting comes only once the name is stored.
    assert_eq!(read_to_eof(&mut slow), b"Nice to meet you, Slow!\n");
    assert_eq!(std::fs::read_to_string(&db).unwrap(), "127.0.0.1\tSlow\n");
}

/// Like [`talk`], from the local address `src` (any 127.x.y.z reaches a loopback
/// listener), so one test can be several clients to the server.
fn talk_from(src: &str, addr: SocketAddr, input: &[u8]) -> String {
    use rustix::net::{AddressFamily, SocketType, bind, connect, socket};
    let fd = socket(AddressFamily::INET, SocketType::STREAM, None).unwrap();
    bind(&fd, &SocketAddr::new(src.parse().unwrap(), 0)).unwrap();
    connect(&fd, &addr).unwrap();
    let mut s = TcpStream::from(fd);
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.write_all(input).unwrap();
    String::from_utf8(read_to_eof(&mut s)).unwrap()
}

#[test]
fn a_full_table_says_so_and_stores_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let path = db.to_str().unwrap();
    let server = serve(
        &[
            "ident",
            "--port",
            "0",
            "--host",
            "127.0.0.1",
            "--db",
            path,
            "--max-names",
            "2",
        ],
        1,
    );
    let addr = server.addr();
    assert_eq!(
        talk_from("127.0.0.1", addr, b"Ann\n"),
        "What is your name?\nNice to meet you, Ann!\n"
    );
    assert_eq!(
        talk_from("127.0.0.2", addr, b"Bo\n"),
        "What is your name?\nNice to meet you, Bo!\n"
    );
    // A third address is told at once; nothing it sends is stored.
    assert_eq!(
        talk_from("127.0.0.3", addr, b"Cy\n"),
        "Sorry, I cannot remember any more names.\n"
    );
    server.wait_log("no room in the name table for a new address (--max-names)");
    assert_eq!(
        std::fs::read_to_string(&db).unwrap(),
        "127.0.0.1\tAnn\n127.0.0.2\tBo\n"
    );
    // Those it knows are still greeted.
    assert_eq!(talk_from("127.0.0.2", addr, b""), "Hello again, Bo!\n");
}
