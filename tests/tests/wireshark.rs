//! The Wireshark dissector (`contrib/wireshark/socklab.lua`) against real traffic:
//! `socklab serve all` on its default ports inside a private network namespace this test
//! makes (so the ports are free and nothing leaves it), `tshark` capturing that
//! namespace's `lo` while the real clients play, then `tshark -X lua_script:... -T fields`
//! reading the capture back. Every assertion compares a decoded field with what the
//! clients really sent or got, so a field decoded wrongly fails the test.
//!
//! Shows as `ignored (<reason>)` without tshark or namespaces, unless
//! `SOCKLAB_REQUIRE_TSHARK=1` (set by `.ci/run`, which installs tshark) makes that a
//! failure.

use socklab_tests::harness::{self, Skip, Test};
use socklab_tests::netns::Netns;
use socklab_tests::process::{Finished, Server, run};
use socklab_tests::{random_bytes, workspace_bin};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const REQUIRE: &str = "SOCKLAB_REQUIRE_TSHARK";
/// Set in the environment of this test binary when it is run again inside the namespace
/// as the byte-at-a-time client (`main` checks it first).
const SPLIT_CLIENT: &str = "SOCKLAB_WIRESHARK_SPLIT_CLIENT";
const LIMIT: Duration = Duration::from_secs(30);

fn main() {
    if std::env::var_os(SPLIT_CLIENT).is_some() {
        split_client();
        return;
    }
    harness::main(&[
        ("decodes_every_service", decodes_every_service),
        (
            "reassembles_lines_split_across_segments",
            reassembles_lines_split_across_segments,
        ),
        (
            "framed_echo_by_preference_and_decode_as",
            framed_echo_by_preference_and_decode_as,
        ),
    ]);
}

fn dissector() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../contrib/wireshark/socklab.lua")
}

/// A namespace with `socklab serve all` (quiz seeded) and tshark writing `lo` to a file.
struct Lab {
    ns: Netns,
    dir: PathBuf,
    serve: Server,
    capture: Option<Server>,
}

impl Lab {
    fn start(tag: &str) -> Result<Lab, Skip> {
        Lab::serving(tag, &["all", "--seed", "7"], 6)
    }

    /// `socklab serve ARGS` (which prints `ready` listening lines) with the capture.
    fn serving(tag: &str, args: &[&str], ready: usize) -> Result<Lab, Skip> {
        match Command::new("tshark").arg("--version").output() {
            Ok(out) if out.status.success() => {}
            _ => return Err(Skip::unless_required(REQUIRE, "no tshark on PATH")),
        }
        let ns = Netns::new().map_err(|reason| {
            Skip::unless_required(REQUIRE, &format!("no network namespace: {reason}"))
        })?;
        let dir = std::env::temp_dir().join(format!("socklab-ws-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut cmd = ns.command(Path::new("sh"));
        // `exec` keeps tshark's PID (ip netns exec execs too), so stopping it by PID
        // lets it finish the file. Its messages go to stderr, hence 2>&1; "Capture
        // started" comes once dumpcap has the interface open (packets sent after it are
        // kept; "Capturing on" comes earlier and lost a short session's packets).
        cmd.args(["-c", "exec tshark -i lo -w \"$0\" 2>&1"])
            .arg(dir.join("lab.pcapng"));
        let capture = Server::start(cmd, 1, |l| l.contains("Capture started"), LIMIT);
        let mut cmd = ns.command(&workspace_bin("socklab"));
        cmd.arg("serve").args(args).arg("-q");
        if args[0] == "all" {
            cmd.arg("--dir")
                .arg(dir.join("files"))
                .arg("--auth-dir")
                .arg(dir.join("auth"))
                .arg("--ident-db")
                .arg(dir.join("ident.tsv"));
        }
        cmd.current_dir(&dir);
        let serve = Server::start(cmd, ready, |l| l.starts_with("listening on "), LIMIT);
        Ok(Lab {
            ns,
            dir,
            serve,
            capture: Some(capture),
        })
    }

    /// `socklab ARGS` inside the namespace, with `input` on stdin; must exit 0.
    fn client(&self, args: &[&str], input: &[u8]) -> Finished {
        let mut cmd = self.ns.command(&workspace_bin("socklab"));
        cmd.args(args)
            .env("XDG_CONFIG_HOME", self.dir.join("config"))
            .current_dir(&self.dir);
        let out = run(cmd, input.to_vec(), LIMIT);
        assert!(
            out.status.success(),
            "socklab {args:?}: {}\n{}",
            out.text(),
            out.stderr
        );
        out
    }

    /// Stop the capture (after a moment for the last packets to reach it) and return
    /// the file.
    fn finish(&mut self) -> PathBuf {
        self.serve.assert_running();
        std::thread::sleep(Duration::from_millis(500));
        let mut capture = self.capture.take().expect("capture running");
        capture.stop();
        self.dir.join("lab.pcapng")
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Every value of `field` in the capture, in order, in the frames matching `filter`
/// (several values in one frame, from several lines, come out in line order).
fn values(pcap: &Path, filter: &str, field: &str) -> Vec<String> {
    values_with(pcap, &[], filter, field)
}

/// [`values`] with extra tshark options (`-o` preferences, `-d` Decode As).
fn values_with(pcap: &Path, options: &[&str], filter: &str, field: &str) -> Vec<String> {
    let out = Command::new("tshark")
        .arg("-X")
        .arg(format!("lua_script:{}", dissector().display()))
        .args(options)
        .arg("-r")
        .arg(pcap)
        .args(["-Y", filter, "-T", "fields", "-e", field])
        .args(["-E", "occurrence=a", "-E", "aggregator=\u{1f}"])
        .output()
        .expect("run tshark -r");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tshark -r failed: {stderr}");
    assert!(
        !stderr.contains("Lua: Error") && !stderr.contains("lua_script"),
        "the dissector did not load cleanly: {stderr}"
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .flat_map(|l| l.split('\u{1f}').map(str::to_string).collect::<Vec<_>>())
        .collect()
}

fn field(pcap: &Path, name: &str) -> Vec<String> {
    values(pcap, name, name)
}

/// The offsets and lengths of one direction's file data: contiguous from 0, covering
/// `total` bytes, and the bytes themselves equal to `expected`.
fn assert_transfer(pcap: &Path, kind: &str, expected: &[u8]) {
    let filter = format!("socklab_files.transfer == \"{kind}\"");
    let offsets = values(pcap, &filter, "socklab_files.data_offset");
    let lens = values(pcap, &filter, "socklab_files.data_len");
    let totals = values(pcap, &filter, "socklab_files.data_total");
    assert_eq!(offsets.len(), lens.len(), "{kind}: {offsets:?} {lens:?}");
    assert!(
        offsets.len() > 1,
        "{kind} of {} bytes should span several segments: {lens:?}",
        expected.len()
    );
    let mut next = 0u64;
    for (off, len) in offsets.iter().zip(&lens) {
        assert_eq!(
            off.parse::<u64>().unwrap(),
            next,
            "{kind} offsets {offsets:?}"
        );
        next += len.parse::<u64>().unwrap();
    }
    assert_eq!(next, expected.len() as u64, "{kind} lengths {lens:?}");
    let total = expected.len().to_string();
    assert!(
        totals.iter().all(|t| *t == total),
        "{kind} totals {totals:?}"
    );
    let hex: String = values(pcap, &filter, "socklab_files.data")
        .concat()
        .replace(':', "");
    let want: String = expected.iter().map(|b| format!("{b:02x}")).collect();
    assert!(hex == want, "{kind} data differs from the file's bytes");
}

fn decodes_every_service() -> Test {
    let mut lab = Lab::start("all")?;

    let quiz = lab.client(&["quiz"], b"");
    let answers: Vec<String> = quiz
        .text()
        .lines()
        .filter(|l| !l.starts_with('>') && !l.contains(". "))
        .map(str::to_string)
        .collect();
    assert_eq!(answers.len(), 10, "{}", quiz.text());

    let blob = random_bytes(200_000, 15);
    std::fs::write(lab.dir.join("up.bin"), &blob).expect("write upload");
    lab.client(
        &["files", "--no-progress", "put", "up.bin", "--as", "up.bin"],
        b"",
    );
    let get = lab.client(&["files", "--no-progress", "get", "up.bin", "-o", "-"], b"");
    assert!(get.stdout == blob, "download differs");

    lab.client(&["register", "--user", "alice"], b"open sesame 1\n");
    lab.client(&["login", "--user", "alice"], b"open sesame 1\n");
    let token = std::fs::read_to_string(lab.dir.join("config/socklab/token")).expect("token");

    lab.client(&["ident", "--name", "Ann Lee"], b"");
    lab.client(&["echo"], b"hello\n");
    lab.client(&["chat", "--nick", "ann"], b"hello all\n/quit\n");

    let pcap = lab.finish();

    let numbers: Vec<String> = (1..=10).map(|k| k.to_string()).collect();
    assert_eq!(field(&pcap, "socklab_quiz.number"), numbers);
    assert_eq!(field(&pcap, "socklab_quiz.answer"), answers);
    assert_eq!(field(&pcap, "socklab_quiz.count"), ["10"]);
    assert_eq!(
        field(&pcap, "socklab_quiz.message"),
        [
            "Hi! You need to solve 10 arithmetic problems:",
            "You won! All 10 answers are correct."
        ]
    );
    // The seeded first problem, decoded into its parts (seed 7: `1. 804 + 346`).
    let first = |f: &str| values(&pcap, "socklab_quiz.number == 1", f);
    assert_eq!(first("socklab_quiz.a"), ["804"]);
    assert_eq!(first("socklab_quiz.op"), ["+"]);
    assert_eq!(first("socklab_quiz.b"), ["346"]);

    assert_eq!(
        field(&pcap, "socklab_files.command"),
        ["PUT", "QUIT", "GET", "QUIT"]
    );
    assert_eq!(
        field(&pcap, "socklab_files.reply"),
        ["OK", "READY", "OK", "BYE", "OK", "DATA", "BYE"]
    );
    assert_eq!(
        values(
            &pcap,
            "socklab_files.command == \"PUT\"",
            "socklab_files.size"
        ),
        ["200000"]
    );
    assert_transfer(&pcap, "upload", &blob);
    assert_transfer(&pcap, "download", &blob);

    assert_eq!(
        field(&pcap, "socklab_auth.command"),
        ["REGISTER", "QUIT", "LOGIN", "QUIT"]
    );
    assert_eq!(field(&pcap, "socklab_auth.user"), ["alice", "alice"]);
    assert_eq!(
        field(&pcap, "socklab_auth.password"),
        ["open sesame 1", "open sesame 1"]
    );
    assert_eq!(field(&pcap, "socklab_auth.token"), [token.trim()]);

    assert_eq!(field(&pcap, "socklab_ident.name"), ["Ann Lee", "Ann Lee"]);

    assert_eq!(
        values(
            &pcap,
            "socklab_echo.direction == \"client->server\"",
            "socklab_echo.data"
        ),
        ["68656c6c6f0a"]
    );

    assert_eq!(
        field(&pcap, "socklab_chat.command"),
        ["JOIN", "MSG", "LEAVE"]
    );
    assert_eq!(field(&pcap, "socklab_chat.text"), ["hello all"]);
    assert_eq!(field(&pcap, "socklab_chat.members"), ["1"]);
    Ok(())
}

fn reassembles_lines_split_across_segments() -> Test {
    let mut lab = Lab::start("split")?;
    let mut cmd = lab
        .ns
        .command(&std::env::current_exe().expect("test binary"));
    cmd.env(SPLIT_CLIENT, "1");
    let out = run(cmd, Vec::new(), LIMIT);
    assert!(out.status.success(), "split client: {}", out.stderr);
    let answers: Vec<String> = out.text().lines().map(str::to_string).collect();
    assert_eq!(answers.len(), 10, "{}", out.text());
    let pcap = lab.finish();

    // The client really sent 1-byte segments...
    for port in [31337, 8020] {
        let filter = format!("tcp.dstport == {port} && tcp.len == 1");
        assert!(
            !values(&pcap, &filter, "frame.number").is_empty(),
            "no 1-byte segments to port {port}"
        );
    }
    // ...and the dissector shows each line once, whole.
    assert_eq!(field(&pcap, "socklab_quiz.answer"), answers);
    let numbers: Vec<String> = (1..=10).map(|k| k.to_string()).collect();
    assert_eq!(field(&pcap, "socklab_quiz.number"), numbers);
    assert_eq!(field(&pcap, "socklab_files.command"), ["LIST", "QUIT"]);
    assert_eq!(field(&pcap, "socklab_files.reply"), ["OK", "OK", "BYE"]);
    Ok(())
}

/// Framed echo shares the echo port, so frames are decoded only when asked: by the
/// `socklab_frame.port` preference or by Decode As.
fn framed_echo_by_preference_and_decode_as() -> Test {
    let mut lab = Lab::serving("framed", &["echo", "--framed"], 1)?;
    let out = lab.client(&["echo", "--framed"], b"hi there\nsecond line\n");
    assert_eq!(out.text(), "hi there\nsecond line\n");
    let pcap = lab.finish();
    let sent = "tcp.dstport == 9090";
    for options in [
        ["-o", "socklab_frame.port:9090"],
        ["-d", "tcp.port==9090,socklab_frame"],
    ] {
        let text = values_with(&pcap, &options, sent, "socklab_frame.text");
        assert_eq!(text, ["hi there", "second line"], "{options:?}");
        let lens = values_with(&pcap, &options, sent, "socklab_frame.length");
        assert_eq!(lens, ["8", "11"], "{options:?}");
        let back = values_with(&pcap, &options, "tcp.srcport == 9090", "socklab_frame.text");
        assert_eq!(back, ["hi there", "second line"], "{options:?}");
    }
    // Without either, the echo port is plain echo: the length prefix is data.
    assert!(values(&pcap, "socklab_frame", "frame.number").is_empty());
    assert_eq!(values(&pcap, sent, "socklab_echo.length"), ["12", "15"]);
    Ok(())
}

/// Run inside the namespace: plays the quiz and a files LIST/QUIT, writing every line
/// one byte per segment (TCP_NODELAY), and prints the quiz answers it sent.
fn split_client() {
    fn send_bytewise(stream: &mut TcpStream, line: &str) {
        for b in line.bytes() {
            stream.write_all(&[b]).expect("send");
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    let connect = |port: u16| {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        stream.set_read_timeout(Some(LIMIT)).expect("timeout");
        stream
    };

    let mut quiz = connect(31337);
    let mut reader = BufReader::new(quiz.try_clone().expect("clone"));
    for _ in 0..12 {
        let mut line = String::new();
        if reader.read_line(&mut line).expect("read quiz") == 0 {
            break;
        }
        let line = line.trim_end();
        if let Some((_, p)) = socklab_core::quiz::parse_problem_line(line.as_bytes()) {
            let answer = p.answer().expect("fits").to_string();
            send_bytewise(&mut quiz, &format!("{answer}\n"));
            println!("{answer}");
        } else if line.starts_with("> You won") {
            break;
        }
    }

    let mut files = connect(8020);
    let mut reader = BufReader::new(files.try_clone().expect("clone"));
    let mut line = String::new();
    reader.read_line(&mut line).expect("greeting");
    send_bytewise(&mut files, "LIST\n");
    line.clear();
    reader.read_line(&mut line).expect("list reply");
    assert_eq!(line, "OK 0\n");
    send_bytewise(&mut files, "QUIT\n");
    line.clear();
    reader.read_line(&mut line).expect("bye");
    assert_eq!(line, "BYE\n");
}
