//! The MPS2 firmware end to end: QEMU boots `socklab-mps2` as `mps2-an385`, user-mode
//! networking forwards free 127.0.0.1 ports to the guest's services, and the real
//! `socklab` clients play them. A firmware panic exits QEMU with a failure status,
//! which fails the test.
//!
//! Shows as `ignored (<reason>)` when `qemu-system-arm` or the release firmware is
//! missing (a laptop without them), unless `SOCKLAB_REQUIRE_QEMU=1`: `.ci/run` installs
//! QEMU, builds the firmware and sets it, so CI always runs this.

use socklab_tests::checks::Target;
use socklab_tests::harness::{self, Skip, Test};
use socklab_tests::process::Server;
use socklab_tests::{target_dir, workspace_bin};
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const REQUIRE: &str = "SOCKLAB_REQUIRE_QEMU";

/// `target/thumbv7m-none-eabi/release/socklab-mps2`, or `$SOCKLAB_FIRMWARE`.
fn firmware() -> PathBuf {
    std::env::var_os("SOCKLAB_FIRMWARE").map_or_else(
        || {
            target_dir()
                .parent()
                .expect("target/")
                .join("thumbv7m-none-eabi/release/socklab-mps2")
        },
        PathBuf::from,
    )
}

fn qemu_present() -> bool {
    Command::new("qemu-system-arm")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A port that was free a moment ago, so parallel runs do not collide.
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local address").port()
}

/// A UDP port that was free a moment ago, for the chat's forward.
fn free_udp_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind an ephemeral UDP port");
    s.local_addr().expect("local address").port()
}

fn main() {
    harness::main(&[(
        "clients_play_the_firmware_in_qemu",
        clients_play_the_firmware_in_qemu,
    )]);
}

fn clients_play_the_firmware_in_qemu() -> Test {
    let fw = firmware();
    if !qemu_present() {
        return Err(Skip::unless_required(
            REQUIRE,
            "qemu-system-arm is not installed",
        ));
    }
    if !fw.exists() {
        return Err(Skip::unless_required(
            REQUIRE,
            &format!(
                "no firmware at {} (cargo build --release -p socklab-mps2 --target thumbv7m-none-eabi)",
                fw.display()
            ),
        ));
    }
    let (quiz, echo, status, files) = (free_port(), free_port(), free_port(), free_port());
    let chat = free_udp_port();
    let nic = format!(
        "user,hostfwd=tcp:127.0.0.1:{quiz}-:31337,hostfwd=tcp:127.0.0.1:{echo}-:9090,\
         hostfwd=tcp:127.0.0.1:{status}-:80,hostfwd=tcp:127.0.0.1:{files}-:8020,\
         hostfwd=udp:127.0.0.1:{chat}-:9093"
    );
    let mut cmd = Command::new("timeout");
    // A hung test cannot leave QEMU behind for long.
    cmd.args(["-s", "TERM", "-k", "5", "300", "qemu-system-arm"])
        .args(["-machine", "mps2-an385", "-nographic", "-monitor", "none"])
        .args(["-semihosting-config", "enable=on,target=native"])
        .arg("-kernel")
        .arg(&fw)
        .args(["-nic", &nic]);
    let started = Instant::now();
    // slirp accepts a connection before the guest listens: wait for the ready lines.
    let mut server = Server::start(
        cmd,
        5,
        |l| l.starts_with("listening on 10.0.2.15:"),
        Duration::from_secs(30),
    );
    let ready = started.elapsed();
    let mut greeting = String::new();
    let stream = TcpStream::connect(("127.0.0.1", quiz)).expect("connect to forwarded quiz");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    BufReader::new(stream)
        .read_line(&mut greeting)
        .expect("quiz greeting");
    let first_reply = started.elapsed();
    assert!(
        greeting.starts_with("> Hi! You need to solve"),
        "{greeting:?}"
    );
    eprintln!("QEMU start to ready line: {ready:?}; to first quiz reply: {first_reply:?}");

    let socklab = workspace_bin("socklab");
    let client = |args: &[&str]| {
        let mut cmd = Command::new(&socklab);
        cmd.args(args);
        cmd
    };
    let t = Target {
        host: "127.0.0.1".into(),
        quiz,
        echo,
        status,
        files,
        chat,
        client: &client,
        limit: Duration::from_secs(60),
    };
    // The greeting's connection is still closing; a pause keeps the quiz pool clear.
    std::thread::sleep(Duration::from_millis(100));
    t.quiz_win();
    t.quiz_loss();
    t.echo_identical(64 * 1024, 3);
    t.files_roundtrip("board", 1800, 3);
    t.chat_two_members();
    t.status_page("10.0.2.15/24");
    server.assert_running();
    let log = server.new_lines();
    assert!(
        log.iter().any(|l| l.contains("quiz 10.0.2.2:")),
        "no connection events in the firmware's log: {log:#?}"
    );
    assert!(
        log.iter()
            .any(|l| l.contains("chat 10.0.2.2:") && l.contains("member joined (bob, 2 online)")),
        "no chat events in the firmware's log: {log:#?}"
    );
    let status = server.stop();
    eprintln!("QEMU stopped: {status:?}");
    Ok(())
}
