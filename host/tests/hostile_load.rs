//! Hostile load over real loopback sockets (issue 6, item 4): a slow-loris crowd next
//! to quiz players, a flood past `--max-conns` (three rounds, memory must return), and a
//! two-minute mixed soak of every service with flat peak memory.
//!
//! Every loop is bounded in count and in time; times only ever fail a test as generous
//! bounds for a hang, never decide it. Only 127.0.0.1 is used. The three tests start
//! their own servers, so they may run side by side (as `cargo test` does). A test that
//! cannot have the file descriptors it needs shows as ignored, with the reason
//! (socklab-tests' harness); their measurements are printed as they run.

fn main() {
    harness::main(&[
        (
            "slow_loris_does_not_starve_quiz_players",
            slow_loris_does_not_starve_quiz_players,
        ),
        (
            "flood_past_max_conns_is_refused_and_memory_returns",
            flood_past_max_conns_is_refused_and_memory_returns,
        ),
        (
            "two_minute_mixed_soak_has_no_errors_and_flat_memory",
            two_minute_mixed_soak_has_no_errors_and_flat_memory,
        ),
    ]);
}

mod serve_support;

use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use serve_support::*;
use socklab_core::quiz::{ServerLine, parse_server_line};
use socklab_core::rng::{Rng, SplitMix64};
use socklab_tests::harness::{self, Test};

/// Listener indexes of `serve all` (see [`ALL_SERVICES`]).
const ECHO: usize = 0;
const QUIZ: usize = 1;
const FILES: usize = 2;
const IDENT: usize = 3;
const AUTH: usize = 4;
const CHAT: usize = 5;

const FILES_GREETING: &str = "OK socklab-files 1\n";
const AUTH_GREETING: &str = "OK socklab-auth 1\n";
const IDENT_QUESTION: &str = "What is your name?\n";
const IDENT_INVALID: &str = "Sorry, that is not a valid name.\n";
const QUIZ_GREETING: &str = "> Hi! You need to solve 10 arithmetic problems:\n";
const QUIZ_WON: &str = "> You won! All 10 answers are correct.\n";
const SERVER_FULL: &[u8] = b"ERR busy server full\n";

/// One field of /proc/PID/status in KiB (`VmRSS`, `VmHWM`).
fn proc_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn rss_kib(pid: u32) -> u64 {
    proc_kib(pid, "VmRSS:")
}

fn seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    t.as_nanos() as u64 ^ u64::from(std::process::id()).rotate_left(32)
}

/// A text-protocol client whose every step returns an error message instead of
/// panicking, so worker threads can report what went wrong and where.
struct Client {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Client {
    fn connect(addr: SocketAddr) -> Result<Client, String> {
        let s = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
        s.set_read_timeout(Some(WAIT)).unwrap();
        s.set_write_timeout(Some(WAIT)).unwrap();
        let w = s.try_clone().map_err(|e| e.to_string())?;
        Ok(Client {
            r: BufReader::new(s),
            w,
        })
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.w
            .write_all(bytes)
            .map_err(|e| format!("sending {} bytes: {e}", bytes.len()))
    }

    /// One line, LF included; EOF before the LF is an error.
    fn line(&mut self) -> Result<String, String> {
        let mut buf = Vec::new();
        self.r
            .read_until(b'\n', &mut buf)
            .map_err(|e| format!("reading a line: {e}; got {:?}", lossy(&buf)))?;
        if buf.last() != Some(&b'\n') {
            return Err(format!("EOF inside a line: {:?}", lossy(&buf)));
        }
        String::from_utf8(buf).map_err(|e| format!("not UTF-8: {e}"))
    }

    fn expect_line(&mut self, want: &str) -> Result<(), String> {
        let got = self.line()?;
        if got == want {
            Ok(())
        } else {
            Err(format!("expected {want:?}, got {got:?}"))
        }
    }

    /// Send a line and return the reply line.
    fn say(&mut self, line: &str) -> Result<String, String> {
        self.send(format!("{line}\n").as_bytes())?;
        self.line()
    }

    fn exact(&mut self, n: usize) -> Result<Vec<u8>, String> {
        let mut buf = vec![0; n];
        self.r
            .read_exact(&mut buf)
            .map_err(|e| format!("reading {n} bytes: {e}"))?;
        Ok(buf)
    }

    /// The server closes with nothing more to say.
    fn expect_eof(&mut self) -> Result<(), String> {
        let mut rest = Vec::new();
        self.r
            .read_to_end(&mut rest)
            .map_err(|e| format!("waiting for EOF: {e}; got {:?}", lossy(&rest)))?;
        if rest.is_empty() {
            Ok(())
        } else {
            Err(format!("bytes before EOF: {:?}", lossy(&rest)))
        }
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[..b.len().min(200)]).into_owned()
}

/// One complete quiz game, answered correctly; returns the verdict line.
fn play_quiz(addr: SocketAddr) -> Result<String, String> {
    let mut c = Client::connect(addr)?;
    c.expect_line(QUIZ_GREETING)?;
    for k in 1..=10 {
        let line = c.line()?;
        let ServerLine::Problem(n, p) = parse_server_line(line.trim_end().as_bytes()) else {
            return Err(format!("expected problem {k}, got {line:?}"));
        };
        if n != k {
            return Err(format!("expected problem {k}, got {line:?}"));
        }
        let answer = p.answer().ok_or("problem without an exact answer")?;
        c.send(format!("{answer}\n").as_bytes())?;
    }
    let verdict = c.line()?;
    c.expect_eof()?;
    Ok(verdict)
}

/// Count of `needle` in the server's log.
fn log_count(server: &Server, needle: &str) -> usize {
    server.log().matches(needle).count()
}

/// Wait (bounded by [`WAIT`]) until the log holds at least `n` lines with `needle`.
fn wait_log_count(server: &Server, needle: &str, n: usize) {
    let start = Instant::now();
    loop {
        let got = log_count(server, needle);
        if got >= n {
            return;
        }
        assert!(
            start.elapsed() < WAIT,
            "the log has {got} of {n} {needle:?} lines after {WAIT:?}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------------
// 1. Slow loris
// ---------------------------------------------------------------------------------

const TRICKLERS: usize = 1000;
const PLAYERS: usize = 50;
/// Ticks (one per second) the trickle may last before the test gives up.
const LORIS_CAP_TICKS: usize = 60;
/// Ticks before the players start, and after they are done.
const LORIS_LEAD_TICKS: usize = 2;
/// `--idle-timeout` of the slow-loris server: ten ticks, so a trickler whose byte is
/// late by seconds (a loaded machine) still lives.
const LORIS_IDLE: &str = "10";
/// The trickle lasts at least this many ticks: more than twice the idle timeout.
const LORIS_MIN_TICKS: usize = 22;

/// A connection that sends one byte a second and never ends a line.
struct Trickler {
    s: TcpStream,
    service: usize,
    sent: usize,
    /// What came back after the greeting (echo's copy of the bytes).
    got: Vec<u8>,
}

impl Trickler {
    /// Read whatever is there without waiting; an EOF or an error is a failure.
    fn drain(&mut self, i: usize) {
        let mut buf = [0u8; 256];
        loop {
            match self.s.read(&mut buf) {
                Ok(0) => panic!(
                    "trickler {i} ({}) was closed by the server after {} bytes",
                    ALL_SERVICES[self.service], self.sent
                ),
                Ok(n) => self.got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => panic!("trickler {i} ({}): {e}", ALL_SERVICES[self.service]),
            }
        }
    }

    /// Echo tricklers must get their bytes back, the others nothing beyond the greeting.
    fn check_got(&self, i: usize) -> bool {
        if self.service == ECHO {
            self.got.len() == self.sent && self.got.iter().all(|&b| b == b'a')
        } else {
            assert!(
                self.got.is_empty(),
                "trickler {i} ({}) got {:?} for an unfinished line",
                ALL_SERVICES[self.service],
                lossy(&self.got)
            );
            true
        }
    }
}

/// 1,000 connections trickling a byte a second (so none ever completes a line, and
/// each byte resets §0's idle timeout) while 50 quiz players each win a whole game.
///
/// The tricklers sit on echo, files, ident and auth: none of them has a timeout other
/// than the idle one. Quiz is left out on purpose: its answer timeout (§2) would end a
/// trickler, which is correct behaviour and not what this test is about. The idle
/// timeout is cut to [`LORIS_IDLE`] and the trickle lasts at least [`LORIS_MIN_TICKS`]
/// seconds, so a trickler survives only because each byte resets it.
fn slow_loris_does_not_starve_quiz_players() -> Test {
    enough_fds((TRICKLERS + PLAYERS) as u64 * 2 + 1000)?;
    let started = Instant::now();
    let (server, _dir) = serve_all(&["--idle-timeout", LORIS_IDLE]);
    let services = [ECHO, FILES, IDENT, AUTH];
    let mut tricklers: Vec<Trickler> = (0..TRICKLERS)
        .map(|i| {
            let service = services[i % services.len()];
            let mut s = server.connect_to(service);
            let greeting = match service {
                FILES => FILES_GREETING,
                IDENT => IDENT_QUESTION,
                AUTH => AUTH_GREETING,
                _ => "",
            };
            if !greeting.is_empty() {
                assert_eq!(read_line(&mut s), greeting, "trickler {i}");
            }
            s.set_nonblocking(true).unwrap();
            Trickler {
                s,
                service,
                sent: 0,
                got: Vec::new(),
            }
        })
        .collect();
    eprintln!(
        "slow loris: {TRICKLERS} tricklers connected in {:.1?}",
        started.elapsed()
    );

    let quiz = server.addrs[QUIZ];
    type Played = Result<(String, Duration), String>;
    let mut players: Vec<thread::JoinHandle<Played>> = Vec::new();
    let mut players_started = None;
    let mut done_at_tick = None;
    let trickle_start = Instant::now();
    let mut tick = 0;
    loop {
        // Tick k is due k seconds after the start; a late one runs at once.
        let due = trickle_start + Duration::from_secs(tick as u64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            thread::sleep(wait);
        }
        for (i, t) in tricklers.iter_mut().enumerate() {
            t.drain(i);
            match t.s.write(b"a") {
                Ok(1) => t.sent += 1,
                other => panic!(
                    "trickler {i} ({}): writing its byte: {other:?}",
                    ALL_SERVICES[t.service]
                ),
            }
        }
        tick += 1;
        if tick == LORIS_LEAD_TICKS {
            players_started = Some(Instant::now());
            players = (0..PLAYERS)
                .map(|_| {
                    thread::spawn(move || {
                        let t = Instant::now();
                        play_quiz(quiz).map(|v| (v, t.elapsed()))
                    })
                })
                .collect();
        }
        if done_at_tick.is_none()
            && !players.is_empty()
            && players.iter().all(thread::JoinHandle::is_finished)
        {
            done_at_tick = Some(tick);
        }
        if done_at_tick.is_some_and(|d| tick >= d + LORIS_LEAD_TICKS) && tick >= LORIS_MIN_TICKS {
            break;
        }
        assert!(
            tick < LORIS_CAP_TICKS,
            "after {LORIS_CAP_TICKS} s of trickling, {} of {PLAYERS} quiz players are \
             still playing",
            players.iter().filter(|p| !p.is_finished()).count()
        );
    }
    let players_took = players_started.unwrap().elapsed();

    let mut won = 0;
    let mut longest = Duration::ZERO;
    for (i, p) in players.into_iter().enumerate() {
        let (verdict, took) = p
            .join()
            .expect("player thread")
            .unwrap_or_else(|e| panic!("quiz player {i}: {e}"));
        assert_eq!(verdict, QUIZ_WON, "quiz player {i}");
        longest = longest.max(took);
        won += 1;
    }

    // Every trickler is still open: echo's have their bytes back (they may still be on
    // their way: wait, bounded), the others nothing beyond their greeting.
    let check_start = Instant::now();
    for (i, t) in tricklers.iter_mut().enumerate() {
        loop {
            t.drain(i);
            if t.check_got(i) {
                break;
            }
            assert!(
                check_start.elapsed() < WAIT,
                "echo trickler {i} sent {} bytes and got back {:?}",
                t.sent,
                lossy(&t.got)
            );
            thread::sleep(Duration::from_millis(10));
        }
    }
    // And the server still serves each of them: ending the line gets the service's
    // answer to it (files and auth: an unknown command; ident: a TAB is not allowed in
    // a name; echo: the line back).
    for (i, t) in tricklers.iter_mut().enumerate() {
        let (end, want): (&[u8], String) = match t.service {
            ECHO => (b"\n", "\n".to_owned()),
            FILES | AUTH => (b"\n", "ERR bad-command ".to_owned()),
            _ => (b"\t\n", IDENT_INVALID.to_owned()),
        };
        t.s.set_nonblocking(false).unwrap();
        t.s.set_read_timeout(Some(WAIT)).unwrap();
        t.s.write_all(end).unwrap();
        let line = read_line(&mut t.s);
        assert!(
            line.starts_with(&want) && line.ends_with('\n'),
            "trickler {i} ({}) after {} bytes: {line:?}, expected {want:?}",
            ALL_SERVICES[t.service],
            t.sent
        );
    }
    let sent: usize = tricklers.iter().map(|t| t.sent).sum();
    let log = server.log();
    for needle in ["timeout", "error", "panick", "reset"] {
        assert!(!log.contains(needle), "the log mentions {needle:?}:\n{log}");
    }
    eprintln!(
        "slow loris: {won}/{PLAYERS} quiz players won (longest game {longest:.1?}; the \
         trickle went on {players_took:.1?} after they started) next to {TRICKLERS} \
         tricklers ({sent} bytes trickled over {tick} ticks, idle timeout {LORIS_IDLE} \
         s); server VmHWM {} KiB; test took {:.1?}",
        proc_kib(server.pid(), "VmHWM:"),
        started.elapsed()
    );
    drop(tricklers);
    Ok(())
}

// ---------------------------------------------------------------------------------
// 2. Flood past --max-conns
// ---------------------------------------------------------------------------------

const MAX_CONNS: usize = 100;
const FLOOD_SERVICES: [usize; 5] = [ECHO, QUIZ, FILES, IDENT, AUTH];
/// Connections opened beyond the limit in each round.
const EXCESS: usize = 500;
const FLOOD_ROUNDS: usize = 3;

/// A connection admitted under the limit, past its greeting.
struct Held {
    c: Client,
    service: usize,
    /// Quiz: the answer to the problem on screen.
    answer: i64,
}

fn hold(server: &Server, service: usize, i: usize) -> Held {
    let mut c = Client::connect(server.addrs[service]).unwrap();
    let mut answer = 0;
    let step = match service {
        ECHO => c
            .send(format!("held {i}\n").as_bytes())
            .and_then(|()| c.expect_line(&format!("held {i}\n"))),
        QUIZ => c.expect_line(QUIZ_GREETING).and_then(|()| {
            let line = c.line()?;
            match parse_server_line(line.trim_end().as_bytes()) {
                ServerLine::Problem(1, p) => {
                    answer = p.answer().unwrap();
                    Ok(())
                }
                _ => Err(format!("expected problem 1, got {line:?}")),
            }
        }),
        FILES => c.expect_line(FILES_GREETING),
        IDENT => c.expect_line(IDENT_QUESTION),
        _ => c.expect_line(AUTH_GREETING),
    };
    step.unwrap_or_else(|e| panic!("held connection {i} ({}): {e}", ALL_SERVICES[service]));
    Held { c, service, answer }
}

impl Held {
    /// The connection still works after the flood.
    fn check(&mut self, i: usize) {
        let step = match self.service {
            ECHO => self
                .c
                .say(&format!("still {i}"))
                .and_then(|l| expect_eq(&l, &format!("still {i}\n"))),
            QUIZ => self.c.say(&self.answer.to_string()).and_then(|l| {
                match parse_server_line(l.trim_end().as_bytes()) {
                    ServerLine::Problem(2, _) => Ok(()),
                    _ => Err(format!("expected problem 2, got {l:?}")),
                }
            }),
            FILES => self.c.say("LIST").and_then(|l| expect_eq(&l, "OK 0\n")),
            IDENT => self
                .c
                .say("\t")
                .and_then(|l| expect_eq(&l, IDENT_INVALID))
                .and_then(|()| self.c.expect_eof()),
            _ => self
                .c
                .say("WHOAMI")
                .and_then(|l| expect_eq(&l, "ERR not-logged-in log in first (LOGIN or TOKEN)\n")),
        };
        step.unwrap_or_else(|e| {
            panic!(
                "held connection {i} ({}) after the flood: {e}",
                ALL_SERVICES[self.service]
            )
        });
    }
}

fn expect_eq(got: &str, want: &str) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("expected {want:?}, got {got:?}"))
    }
}

/// A fresh connection per service (and a chat member) is served normally.
fn fresh_round(server: &Server, tag: &str) {
    let step = |service: usize| -> Result<(), String> {
        let mut c = Client::connect(server.addrs[service])?;
        match service {
            ECHO => {
                let l = c.say(&format!("fresh {tag}"))?;
                expect_eq(&l, &format!("fresh {tag}\n"))?;
                c.send(b"quit\n")?;
                c.expect_eof()
            }
            QUIZ => {
                // Both lines are read, so closing sends a FIN, not a reset.
                c.expect_line(QUIZ_GREETING)?;
                let line = c.line()?;
                match parse_server_line(line.trim_end().as_bytes()) {
                    ServerLine::Problem(1, _) => Ok(()),
                    _ => Err(format!("expected problem 1, got {line:?}")),
                }
            }
            FILES => {
                c.expect_line(FILES_GREETING)?;
                expect_eq(&c.say("LIST")?, "OK 0\n")?;
                expect_eq(&c.say("QUIT")?, "BYE\n")?;
                c.expect_eof()
            }
            IDENT => c.expect_line(IDENT_QUESTION),
            _ => {
                c.expect_line(AUTH_GREETING)?;
                expect_eq(&c.say("QUIT")?, "BYE\n")?;
                c.expect_eof()
            }
        }
    };
    for service in FLOOD_SERVICES {
        step(service)
            .unwrap_or_else(|e| panic!("fresh {} connection ({tag}): {e}", ALL_SERVICES[service]));
    }
    let chat = ChatPeer::new(server.addrs[CHAT]);
    let nick = format!("fresh{tag}");
    chat.expect(&format!("JOIN {nick}"), &format!("WELCOME {nick} 1"));
    chat.expect("PING", "PONG");
    chat.sock.send(b"LEAVE").unwrap();
}

/// Bytes a connection over the limit gets before its EOF (§0).
fn refusal(service: usize) -> &'static [u8] {
    match service {
        FILES | AUTH => SERVER_FULL,
        _ => b"",
    }
}

/// The server's open file descriptors.
fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

/// What one flood round measured (VmRSS in KiB).
struct Round {
    peak: u64,
    after: u64,
    fds_after: usize,
}

/// Counters of what the server has logged so far, to wait for it to catch up.
#[derive(Default)]
struct Logged {
    /// Admitted connections: each logs one `client disconnected` line when it ends.
    admitted: usize,
    rejected: usize,
}

/// One flood: MAX_CONNS held, EXCESS refused, the held ones checked and closed, a fresh
/// connection per service, then the memory reading once the server has logged every
/// close.
fn flood_round(server: &Server, round: usize, logged: &mut Logged, fds_before: usize) -> Round {
    let pid = server.pid();
    // The first MAX_CONNS are held; each has had its first answer, so it is admitted and
    // counted before the flood starts.
    let mut held: Vec<Held> = (0..MAX_CONNS)
        .map(|i| hold(server, FLOOD_SERVICES[i % FLOOD_SERVICES.len()], i))
        .collect();
    logged.admitted += MAX_CONNS;
    // The excess, all opened before any is read.
    let mut excess: Vec<(usize, TcpStream)> = (0..EXCESS)
        .map(|i| {
            let service = FLOOD_SERVICES[i % FLOOD_SERVICES.len()];
            (service, server.connect_to(service))
        })
        .collect();
    let mut peak = rss_kib(pid);
    // Exact bytes, then EOF (read_to_eof fails after WAIT without one).
    for (i, (service, s)) in excess.iter_mut().enumerate() {
        let got = read_to_eof(s);
        assert_eq!(
            got,
            refusal(*service),
            "round {round}: excess connection {i} ({}): {:?}",
            ALL_SERVICES[*service],
            lossy(&got)
        );
    }
    logged.rejected += EXCESS;
    wait_log_count(server, "client rejected (server full: ", logged.rejected);
    let at_limit =
        format!("client rejected (server full: {MAX_CONNS} connections, --max-conns {MAX_CONNS})");
    assert_eq!(
        log_count(server, &at_limit),
        logged.rejected,
        "every refusal happens at exactly the limit"
    );
    drop(excess);
    for (i, h) in held.iter_mut().enumerate() {
        h.check(i);
    }
    peak = peak.max(rss_kib(pid));
    drop(held);
    wait_log_count(server, "client disconnected", logged.admitted);
    fresh_round(server, &format!("r{round}"));
    logged.admitted += FLOOD_SERVICES.len();
    wait_log_count(server, "client disconnected", logged.admitted);
    // Every socket is closed again (the server drops a closed connection's socket at
    // once, or after its bounded linger).
    let start = Instant::now();
    let mut fds_after = fd_count(pid);
    while fds_after > fds_before {
        assert!(
            start.elapsed() < WAIT,
            "round {round}: the server holds {fds_after} fds, {fds_before} before the flood"
        );
        thread::sleep(Duration::from_millis(20));
        fds_after = fd_count(pid);
    }
    // The closes are logged just before the memory is given back: a short bounded
    // settle, keeping the lowest reading.
    let mut after = rss_kib(pid);
    for _ in 0..10 {
        thread::sleep(Duration::from_millis(50));
        after = after.min(rss_kib(pid));
    }
    Round {
        peak,
        after,
        fds_after,
    }
}

/// Past `--max-conns`, connections are closed at once (files and auth after `ERR busy
/// server full`), the held ones keep working, and memory returns once all is closed.
fn flood_past_max_conns_is_refused_and_memory_returns() -> Test {
    enough_fds((MAX_CONNS + EXCESS) as u64 * 2 + 1000)?;
    let started = Instant::now();
    let max = MAX_CONNS.to_string();
    // A long answer timeout: the held quiz players wait through the whole round.
    let (server, _dir) = serve_all(&["--max-conns", &max, "--answer-timeout", "600"]);
    let pid = server.pid();
    let mut logged = Logged::default();

    // Warm-up: a few connections per service, so the baseline has what every loop
    // and worker allocates once.
    for round in 0..3 {
        fresh_round(&server, &format!("w{round}"));
        logged.admitted += FLOOD_SERVICES.len();
    }
    wait_log_count(&server, "client disconnected", logged.admitted);
    let fds_before = fd_count(pid);
    let baseline = rss_kib(pid);
    eprintln!("flood: baseline VmRSS {baseline} KiB, {fds_before} fds");

    let mut rounds = Vec::new();
    for round in 1..=FLOOD_ROUNDS {
        let r = flood_round(&server, round, &mut logged, fds_before);
        eprintln!(
            "flood round {round}: VmRSS baseline {baseline} KiB, peak {} KiB, after {} KiB; \
             server fds {} (before the flood {fds_before})",
            r.peak, r.after, r.fds_after
        );
        rounds.push(r);
    }
    let afters: Vec<u64> = rounds.iter().map(|r| r.after).collect();
    let log = server.log();
    assert!(
        !log.contains("error") && !log.contains("panick"),
        "the log reports an error:\n{log}"
    );

    // Memory returns: within 10 % plus 1 MiB of the baseline after every round. The
    // first round's 100 connections cost about 1.3 MiB at the peak (debug build), and
    // glibc keeps most of it once freed: it gives memory back only from the free top
    // of a heap above its trim threshold, which the Argon2 dummy hash made at start
    // (19 MiB, mmapped, then freed) raised to 38 MiB. Later rounds reuse that memory.
    let bound = baseline + baseline / 10 + 1024;
    for (round, after) in afters.iter().enumerate() {
        assert!(
            *after <= bound,
            "round {}: VmRSS {after} KiB after the flood vs baseline {baseline} KiB \
             (bound {bound} KiB); all rounds: {afters:?}",
            round + 1
        );
    }
    // And no growth between rounds, the stronger check: the last round ends within
    // 256 KiB of the first. Were the held connections' memory kept, two rounds would add
    // over 2 MiB; the measured growth is 0 to 80 KiB. (Before the files service freed
    // its 64 KiB download buffer and its upload buffer at the end of each transfer,
    // twenty LISTs a round left them scattered over the I/O workers' arenas and rounds
    // grew by up to 660 KiB.)
    let (first, last) = (afters[0], afters[afters.len() - 1]);
    assert!(
        last <= first + 256,
        "VmRSS grew from {first} KiB after round 1 to {last} KiB after round {}: {afters:?}",
        afters.len()
    );
    eprintln!(
        "flood: {FLOOD_ROUNDS} rounds of {MAX_CONNS} held + {EXCESS} refused; baseline \
         {baseline} KiB, after each round {afters:?} KiB, VmHWM {} KiB; test took {:.1?}",
        proc_kib(pid, "VmHWM:"),
        started.elapsed()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------
// 3. Mixed soak
// ---------------------------------------------------------------------------------

/// The soak's length; `SOCKLAB_SOAK_SECS` may shorten it for local iteration.
const SOAK_SECS: u64 = 120;
/// The RSS windows compared: the first and the last this many seconds.
const SOAK_WINDOW: Duration = Duration::from_secs(30);
const RSS_EVERY: Duration = Duration::from_millis(500);

fn soak_secs() -> u64 {
    std::env::var("SOCKLAB_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SOAK_SECS)
}

/// A UDP chat member (or would-be member).
struct ChatPeer {
    sock: UdpSocket,
}

impl ChatPeer {
    fn new(server: SocketAddr) -> ChatPeer {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.connect(server).unwrap();
        sock.set_read_timeout(Some(WAIT)).unwrap();
        ChatPeer { sock }
    }

    fn recv(&self) -> Result<String, String> {
        let mut buf = [0u8; 2048];
        let n = self
            .sock
            .recv(&mut buf)
            .map_err(|e| format!("no datagram: {e}"))?;
        String::from_utf8(buf[..n].to_vec()).map_err(|e| e.to_string())
    }

    fn send(&self, d: &str) -> Result<(), String> {
        self.sock
            .send(d.as_bytes())
            .map(drop)
            .map_err(|e| format!("sending {d:?}: {e}"))
    }

    fn expect_recv(&self, want: &str) -> Result<(), String> {
        let got = self.recv()?;
        expect_eq(&got, want)
    }

    fn expect(&self, send: &str, want: &str) {
        self.send(send)
            .and_then(|()| self.expect_recv(want))
            .unwrap_or_else(|e| panic!("chat {send:?}: {e}"));
    }
}

/// Random bytes; echo's command lines (`quit`, `stop`) are never spelled out.
fn payload(rng: &mut SplitMix64, len: usize) -> Vec<u8> {
    let mut v: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
    for i in 0..v.len().saturating_sub(3) {
        if &v[i..i + 4] == b"quit" || &v[i..i + 4] == b"stop" {
            v[i] = b'Q';
        }
    }
    v
}

fn soak_echo(addr: SocketAddr, rng: &mut SplitMix64, _n: u64) -> Result<u64, String> {
    let mut c = Client::connect(addr)?;
    let mut bytes = 0;
    // A few round trips on one connection, then a clean end by half-close.
    for _ in 0..1 + rng.below(3) {
        let len = 1 + rng.below(32 * 1024) as usize;
        let data = payload(rng, len);
        c.send(&data)?;
        let back = c.exact(data.len())?;
        if back != data {
            let at = back.iter().zip(&data).position(|(a, b)| a != b);
            return Err(format!(
                "echo of {} bytes came back different (first difference at {at:?})",
                data.len()
            ));
        }
        bytes += data.len() as u64 * 2;
    }
    c.w.shutdown(std::net::Shutdown::Write)
        .map_err(|e| e.to_string())?;
    c.expect_eof()?;
    Ok(bytes)
}

fn soak_quiz(addr: SocketAddr, _rng: &mut SplitMix64, _n: u64) -> Result<u64, String> {
    let verdict = play_quiz(addr)?;
    expect_eq(&verdict, QUIZ_WON)?;
    Ok(0)
}

fn soak_files(addr: SocketAddr, rng: &mut SplitMix64, n: u64) -> Result<u64, String> {
    let mut c = Client::connect(addr)?;
    c.expect_line(FILES_GREETING)?;
    let name = format!("soak file {n}.bin");
    let len = rng.below(64 * 1024) as usize;
    let data = payload(rng, len);
    let crc = format!("{:08x}", crc32fast::hash(&data));
    expect_eq(&c.say(&format!("PUT {} {name}", data.len()))?, "READY\n")?;
    c.send(&data)?;
    expect_eq(&c.line()?, &format!("OK {} {crc}\n", data.len()))?;
    expect_eq(
        &c.say(&format!("GET {name}"))?,
        &format!("DATA {}\n", data.len()),
    )?;
    if c.exact(data.len())? != data {
        return Err(format!("GET {name:?} returned other bytes than were PUT"));
    }
    // Every file of the soak so far is listed, this one with its size.
    let head = c.say("LIST")?;
    let count: usize = head
        .strip_prefix("OK ")
        .and_then(|n| n.trim_end().parse().ok())
        .ok_or_else(|| format!("LIST answered {head:?}"))?;
    if count != n as usize + 1 {
        return Err(format!("LIST counts {count} files after {} PUTs", n + 1));
    }
    let want = format!("{} {name}\n", data.len());
    let mut seen = false;
    for _ in 0..count {
        seen |= c.line()? == want;
    }
    if !seen {
        return Err(format!("LIST has no line {want:?}"));
    }
    expect_eq(&c.say("QUIT")?, "BYE\n")?;
    c.expect_eof()?;
    Ok(data.len() as u64 * 2)
}

fn soak_auth(addr: SocketAddr, rng: &mut SplitMix64, n: u64) -> Result<u64, String> {
    let mut c = Client::connect(addr)?;
    c.expect_line(AUTH_GREETING)?;
    let user = format!("soak{n}");
    let password = format!("pw {:016x}", rng.next_u64());
    expect_eq(
        &c.say(&format!("REGISTER {user} {password}"))?,
        "OK registered\n",
    )?;
    let reply = c.say(&format!("LOGIN {user} {password}"))?;
    let token = reply
        .strip_prefix("OK ")
        .map(str::trim_end)
        .filter(|t| t.len() == 32)
        .ok_or_else(|| format!("LOGIN answered {reply:?}"))?;
    let _ = token;
    expect_eq(&c.say("WHOAMI")?, &format!("OK {user}\n"))?;
    expect_eq(&c.say("LOGOUT")?, "OK bye-token\n")?;
    expect_eq(
        &c.say("WHOAMI")?,
        "ERR not-logged-in log in first (LOGIN or TOKEN)\n",
    )?;
    expect_eq(&c.say("QUIT")?, "BYE\n")?;
    c.expect_eof()?;
    Ok(0)
}

fn soak_chat(addr: SocketAddr, rng: &mut SplitMix64, n: u64) -> Result<u64, String> {
    let a = ChatPeer::new(addr);
    let b = ChatPeer::new(addr);
    let (na, nb) = (format!("a{n}"), format!("b{n}"));
    a.send(&format!("JOIN {na}"))?;
    a.expect_recv(&format!("WELCOME {na} 1"))?;
    b.send(&format!("JOIN {nb}"))?;
    b.expect_recv(&format!("WELCOME {nb} 2"))?;
    a.expect_recv(&format!("* {nb} joined"))?;
    // Printable text of random length, up to the 508 bytes a MSG can carry.
    let text = |rng: &mut SplitMix64| -> String {
        let len = 1 + rng.below(508) as usize;
        (0..len)
            .map(|_| char::from(b'!' + rng.below(94) as u8))
            .collect()
    };
    let (ta, tb) = (text(rng), text(rng));
    a.send(&format!("MSG {ta}"))?;
    b.expect_recv(&format!("{na}: {ta}"))?;
    b.send(&format!("MSG {tb}"))?;
    a.expect_recv(&format!("{nb}: {tb}"))?;
    a.send("PING")?;
    a.expect_recv("PONG")?;
    b.send("PING")?;
    b.expect_recv("PONG")?;
    a.send("LEAVE")?;
    b.expect_recv(&format!("* {na} left"))?;
    // b is alone now, so its LEAVE tells no one; a fresh member welcomed as the only
    // one proves the server took it (and the next round's `WELCOME a.. 1` this probe's).
    b.send("LEAVE")?;
    let probe = ChatPeer::new(addr);
    probe.send(&format!("JOIN p{n}"))?;
    probe.expect_recv(&format!("WELCOME p{n} 1"))?;
    probe.send("LEAVE")?;
    Ok((ta.len() + tb.len()) as u64)
}

type SoakOp = fn(SocketAddr, &mut SplitMix64, u64) -> Result<u64, String>;

/// One worker: `op` every `period`, on a fixed schedule, until `end`.
struct Worker {
    name: &'static str,
    addr: SocketAddr,
    period: Duration,
    op: SoakOp,
}

#[derive(Debug)]
struct WorkerReport {
    name: &'static str,
    ops: u64,
    /// Payload bytes sent and compared with what came back.
    bytes: u64,
    /// Ops started later than their slot by more than one period (load, not failure).
    late: u64,
}

/// Echo, quiz, files, auth and chat at fixed rates for [`SOAK_SECS`]: not one error,
/// not one byte lost or changed, the server's peak RSS as high at the end as at the
/// start (within 10 %), and never over what its Argon2 threads may hold plus a margin.
fn two_minute_mixed_soak_has_no_errors_and_flat_memory() -> Test {
    let secs = soak_secs();
    let started = Instant::now();
    // One new user a second from one address: far over the default `--register-limit`.
    let (server, _dir) = serve_all(&["--register-limit", "100000"]);
    let pid = server.pid();
    let start_rss = rss_kib(pid);
    let workers = [
        Worker {
            name: "echo",
            addr: server.addrs[ECHO],
            period: Duration::from_millis(100),
            op: soak_echo,
        },
        Worker {
            name: "quiz",
            addr: server.addrs[QUIZ],
            period: Duration::from_millis(250),
            op: soak_quiz,
        },
        Worker {
            name: "files",
            addr: server.addrs[FILES],
            period: Duration::from_millis(500),
            op: soak_files,
        },
        Worker {
            name: "auth",
            addr: server.addrs[AUTH],
            period: Duration::from_millis(1000),
            op: soak_auth,
        },
        Worker {
            name: "chat",
            addr: server.addrs[CHAT],
            period: Duration::from_millis(500),
            op: soak_chat,
        },
    ];
    // Warm-up, before the clock starts: one operation per worker, two auth cycles at
    // once, so both Argon2 threads of a two-core machine have hashed (each keeps its
    // 19 MiB; on more cores the schedule spreads hashes over the rest within seconds).
    // Files is left out: its LIST check counts the soak's own files.
    let warm: Vec<_> = [(AUTH, 0), (AUTH, 1), (ECHO, 2), (QUIZ, 3), (CHAT, 4)]
        .into_iter()
        .map(|(service, k)| {
            let addr = server.addrs[service];
            thread::spawn(move || {
                let mut rng = SplitMix64::new(seed() ^ k);
                let n = 1_000_000 + k;
                match service {
                    AUTH => soak_auth(addr, &mut rng, n),
                    ECHO => soak_echo(addr, &mut rng, n),
                    QUIZ => soak_quiz(addr, &mut rng, n),
                    _ => soak_chat(addr, &mut rng, n),
                }
            })
        })
        .collect();
    for w in warm {
        if let Err(e) = w.join().expect("warm-up thread") {
            panic!("soak warm-up: {e}");
        }
    }

    let t0 = Instant::now();
    let end = t0 + Duration::from_secs(secs);
    let failed = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = workers
        .into_iter()
        .enumerate()
        .map(|(w, worker)| {
            let failed = failed.clone();
            thread::spawn(move || -> Result<WorkerReport, String> {
                let mut rng = SplitMix64::new(seed() ^ w as u64);
                let mut report = WorkerReport {
                    name: worker.name,
                    ops: 0,
                    bytes: 0,
                    late: 0,
                };
                loop {
                    let due = t0 + worker.period * report.ops as u32;
                    if due >= end || failed.load(Ordering::Relaxed) {
                        return Ok(report);
                    }
                    let now = Instant::now();
                    match due.checked_duration_since(now) {
                        Some(wait) => thread::sleep(wait),
                        None if now - due > worker.period => report.late += 1,
                        None => {}
                    }
                    match (worker.op)(worker.addr, &mut rng, report.ops) {
                        Ok(bytes) => report.bytes += bytes,
                        Err(e) => {
                            failed.store(true, Ordering::Relaxed);
                            return Err(format!(
                                "{} op {} at {:.1?}: {e}",
                                worker.name,
                                report.ops,
                                t0.elapsed()
                            ));
                        }
                    }
                    report.ops += 1;
                }
            })
        })
        .collect();

    // Sample the server's RSS until every worker is done (bounded: the soak plus a
    // generous allowance for the last operations to finish).
    let cap = Duration::from_secs(secs) + Duration::from_secs(30);
    let mut samples: Vec<(Duration, u64)> = Vec::new();
    while !handles.iter().all(thread::JoinHandle::is_finished) {
        assert!(
            t0.elapsed() < cap,
            "the soak's workers are still running {cap:?} after it began"
        );
        samples.push((t0.elapsed(), rss_kib(pid)));
        thread::sleep(RSS_EVERY);
    }
    let took = t0.elapsed();
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    for h in handles {
        match h.join().expect("soak worker") {
            Ok(r) => reports.push(r),
            Err(e) => errors.push(e),
        }
    }
    let log = server.log();
    assert!(errors.is_empty(), "soak errors: {errors:#?}");
    for needle in ["error", "panick", "reset", "protocol error", "timeout"] {
        assert!(!log.contains(needle), "the log mentions {needle:?}:\n{log}");
    }

    let soak = Duration::from_secs(secs);
    let window = SOAK_WINDOW.min(soak);
    let first = samples
        .iter()
        .filter(|(t, _)| *t <= window)
        .map(|s| s.1)
        .max()
        .unwrap();
    let last = samples
        .iter()
        .filter(|(t, _)| *t + window >= soak && *t <= soak)
        .map(|s| s.1)
        .max()
        .unwrap();
    let overall = samples.iter().map(|s| s.1).max().unwrap();
    let work: Vec<String> = reports
        .iter()
        .map(|r| match r.bytes {
            0 => format!("{} {} ops ({} late)", r.name, r.ops, r.late),
            b => format!(
                "{} {} ops ({b} payload bytes compared, {} late)",
                r.name, r.ops, r.late
            ),
        })
        .collect();
    eprintln!(
        "soak: {secs} s, {} RSS samples; VmRSS at start {start_rss} KiB; peak VmRSS \
         first {}s {first} KiB, last {}s \
         {last} KiB, overall {overall} KiB, VmHWM {} KiB; {}; took \
         {took:.1?} (test {:.1?})",
        samples.len(),
        window.as_secs(),
        window.as_secs(),
        proc_kib(pid, "VmHWM:"),
        work.join(", "),
        started.elapsed()
    );
    assert!(
        last * 10 <= first * 11,
        "peak VmRSS over the last {}s ({last} KiB) is more than 10 % over that of the \
         first {}s ({first} KiB)",
        window.as_secs(),
        window.as_secs()
    );
    // Flat is not enough: the memory must also stay within what the design promises.
    // Each Argon2 thread keeps one 19 MiB buffer (19,456 KiB); 16 MiB more covers the
    // connections, files and chat of this schedule many times over (about 2 MiB are
    // used). The argon2 crate's own per-hash buffers once made this 330 MiB, flat.
    let hash_threads = thread::available_parallelism().map_or(2, |n| n.get()) as u64;
    let budget = start_rss + hash_threads * 19_456 + 16 * 1024;
    assert!(
        overall <= budget,
        "peak VmRSS {overall} KiB over the budget of {budget} KiB ({start_rss} KiB at \
         start, {hash_threads} Argon2 threads)"
    );
    // Every worker kept its schedule well enough to have done real work.
    for r in &reports {
        assert!(r.ops > 0, "{r:?}");
    }
    let _ = io::stderr().flush();
    Ok(())
}
