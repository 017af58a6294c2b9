//! The TAP build end to end: `socklab-tap` on a TAP device inside a network namespace
//! this test makes (and deletes), played by the real `socklab` clients in the same
//! namespace. Nothing leaves the namespace.
//!
//! Shows as `ignored (<reason>)` where namespaces are not permitted, unless
//! `SOCKLAB_REQUIRE_NETNS=1` (set by `.ci/run`, which runs as root) makes that a failure.

use socklab_tests::checks::Target;
use socklab_tests::harness::{self, Skip, Test};
use socklab_tests::netns::Netns;
use socklab_tests::process::Server;
use socklab_tests::workspace_bin;
use std::time::Duration;

const REQUIRE: &str = "SOCKLAB_REQUIRE_NETNS";
const TAP: &str = "tap0";
const HOST_CIDR: &str = "192.168.69.100/24";
const STACK_IP: &str = "192.168.69.1";

/// A namespace with `tap0` (host side 192.168.69.100) and `socklab-tap` serving on it.
fn tap_server(extra: &[&str]) -> Result<(Netns, Server), Skip> {
    let ns = Netns::new().map_err(|reason| {
        Skip::unless_required(REQUIRE, &format!("no network namespace: {reason}"))
    })?;
    if let Err(reason) = ns.add_tap(TAP, HOST_CIDR) {
        let reason = format!("no TAP device in {}: {reason}", ns.name());
        return Err(Skip::unless_required(REQUIRE, &reason));
    }
    let mut cmd = ns.command(&workspace_bin("socklab-tap"));
    cmd.args(["--tap", TAP, "--ip", &format!("{STACK_IP}/24")])
        .args(["--gateway", "192.168.69.100", "-q"])
        .args(extra);
    let server = Server::start(
        cmd,
        5,
        |l| l.starts_with("listening on "),
        Duration::from_secs(10),
    );
    Ok((ns, server))
}

fn client_in(ns: &Netns) -> impl Fn(&[&str]) -> std::process::Command + '_ {
    let socklab = workspace_bin("socklab");
    move |args| {
        let mut cmd = ns.command(&socklab);
        cmd.args(args);
        cmd
    }
}

fn target(client: &dyn Fn(&[&str]) -> std::process::Command) -> Target<'_> {
    Target {
        host: STACK_IP.to_string(),
        quiz: 31337,
        echo: 9090,
        status: 80,
        files: 8020,
        chat: 9093,
        client,
        limit: Duration::from_secs(30),
    }
}

fn main() {
    harness::main(&[
        (
            "clients_play_every_service_over_tap",
            clients_play_every_service_over_tap,
        ),
        (
            "quiz_and_echo_survive_loss_and_corruption",
            quiz_and_echo_survive_loss_and_corruption,
        ),
    ]);
}

fn clients_play_every_service_over_tap() -> Test {
    let (ns, mut server) = tap_server(&[])?;
    let client = client_in(&ns);
    let t = target(&client);
    t.quiz_win();
    t.quiz_loss();
    t.echo_identical(64 * 1024, 1);
    t.files_roundtrip("notes", 1500, 1);
    t.chat_two_members();
    t.status_page("192.168.69.1/24");
    server.assert_running();
    Ok(())
}

/// The loss test: 5 % of frames dropped and 1 % corrupted both ways by
/// smoltcp's fault injector; TCP must still deliver every byte intact.
fn quiz_and_echo_survive_loss_and_corruption() -> Test {
    let (ns, mut server) = tap_server(&["--drop-pct", "5", "--corrupt-pct", "1"])?;
    let client = client_in(&ns);
    let mut t = target(&client);
    t.limit = Duration::from_secs(90);
    t.quiz_win();
    t.quiz_loss();
    t.echo_identical(64 * 1024, 2);
    t.files_roundtrip("lossy", 2000, 2);
    server.assert_running();
    Ok(())
}
