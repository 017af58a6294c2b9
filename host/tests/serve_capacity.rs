//! Memory budget: 10,000 idle echo connections must fit well under 40 MiB of server RSS.
//!
//! This is the measurement behind `ECHO_QUEUE` (host/src/server/echo/mod.rs), kept as a
//! test so that a bigger queue or a fatter connection struct shows up at once. It reads
//! the server's peak RSS (`VmHWM` in /proc/PID/status) after every connection has done
//! one round trip, so each one is accepted, registered and has a live session.

mod serve_support;

use std::io::Write;
use std::net::TcpStream;

use serve_support::*;
use socklab_tests::harness::{self, Test};

fn main() {
    harness::main(&[(
        "ten_thousand_idle_echo_connections_fit_the_budget",
        ten_thousand_idle_echo_connections_fit_the_budget,
    )]);
}

const CONNS: usize = 10_000;
const BUDGET_KIB: u64 = 30 * 1024;

fn vm_hwm_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn ten_thousand_idle_echo_connections_fit_the_budget() -> Test {
    // This process holds one end of every connection, the server the other.
    enough_fds((CONNS + 200) as u64)?;
    let max = (CONNS + 10).to_string();
    let server = serve(&["echo", "--port", "0", "-q", "--max-conns", &max], 1);
    let mut conns: Vec<TcpStream> = Vec::with_capacity(CONNS);
    for i in 0..CONNS {
        let mut c = server.connect();
        c.write_all(b"x\n")
            .unwrap_or_else(|e| panic!("connection {i}: {e}"));
        assert_eq!(read_n(&mut c, 2), b"x\n", "connection {i}");
        conns.push(c);
    }
    let hwm = vm_hwm_kib(server.pid());
    eprintln!("server VmHWM with {CONNS} idle connections: {hwm} KiB");
    assert!(
        hwm < BUDGET_KIB,
        "{hwm} KiB over the {BUDGET_KIB} KiB budget"
    );
    // Still serving after all that.
    let mut last = server.connect();
    assert_eq!(round_trip(&mut last, b"ok\n"), b"ok\n");
    Ok(())
}
