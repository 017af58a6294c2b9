//! Loopback load generator: runs the same echo and quiz workloads against several
//! servers in one run and prints a markdown table of absolute numbers and ratios.
//!
//! Servers are given as `NAME=COMMAND ARGS...` (loadgen spawns the command, waits for
//! its `listening on ADDR` line, and kills that PID when done) or as
//! `NAME=HOST:PORT[,pid=PID]` (already running; the PID is only read for RSS).
//! Cells are interleaved server by server, so slow drift in background load (the
//! machine is shared) hits every column alike rather than one.
//!
//! Every loop is bounded in count and in time, every socket has timeouts, and only
//! loopback addresses are accepted.

use clap::Parser;
use socklab_core::Session;
use socklab_core::quiz::{Outcome, Player};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::{Duration, Instant};

/// Timeout on every blocking socket call: a stalled server fails its cell instead of
/// hanging the run.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Parser)]
#[command(about = "loopback load generator for socklab and its peer servers")]
struct Args {
    /// Echo server: NAME=COMMAND... (spawned) or NAME=HOST:PORT[,pid=PID]. Repeatable.
    #[arg(long = "echo", value_name = "NAME=SPEC")]
    echo: Vec<String>,
    /// Quiz server, same forms. Repeatable.
    #[arg(long = "quiz", value_name = "NAME=SPEC")]
    quiz: Vec<String>,
    /// The server under test (NAME, or NAME-variant for extra configurations of it); the
    /// others are peers, and every ratio is against the best peer of its row.
    #[arg(long, default_value = "socklab")]
    subject: String,
    /// Workloads to run (comma-separated): throughput, latency, conns, quiz.
    #[arg(
        long,
        default_value = "throughput,latency,conns,quiz",
        value_delimiter = ','
    )]
    only: Vec<String>,
    /// Seconds per throughput cell.
    #[arg(long, default_value_t = 3.0)]
    secs: f64,
    /// Runs of each throughput and latency cell; the median is reported.
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// Round trips per connection in the latency workload (32 connections).
    #[arg(long, default_value_t = 1000)]
    pings: usize,
    /// Connections held open at once in the conns workload.
    #[arg(long, default_value_t = 10_000)]
    conns: usize,
    /// Seconds the conns workload holds its connections.
    #[arg(long, default_value_t = 10.0)]
    hold_secs: f64,
    /// Most quiz games per server (32 players share them).
    #[arg(long, default_value_t = 50_000)]
    games: u64,
    /// Most seconds of quiz games per server.
    #[arg(long, default_value_t = 8.0)]
    quiz_secs: f64,
}

/// How to reach one server.
#[derive(Clone)]
enum Target {
    /// Already running at this address.
    External { addr: SocketAddr, pid: Option<u32> },
    /// Spawn this program with these arguments.
    Spawn(Vec<String>),
}

#[derive(Clone)]
struct ServerSpec {
    name: String,
    target: Target,
}

fn parse_spec(s: &str) -> Result<ServerSpec, String> {
    let (name, rest) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected NAME=COMMAND or NAME=HOST:PORT"))?;
    let (addr, opts) = rest.split_once(',').unwrap_or((rest, ""));
    let target = match addr.parse::<SocketAddr>() {
        Ok(addr) => {
            if !addr.ip().is_loopback() {
                return Err(format!("{addr}: only loopback servers are benchmarked"));
            }
            let pid = match opts.strip_prefix("pid=") {
                Some(p) => Some(p.parse().map_err(|_| format!("bad pid in {s:?}"))?),
                None if opts.is_empty() => None,
                None => return Err(format!("{s:?}: unknown option {opts:?}")),
            };
            Target::External { addr, pid }
        }
        Err(_) => Target::Spawn(rest.split_whitespace().map(String::from).collect()),
    };
    Ok(ServerSpec {
        name: name.to_string(),
        target,
    })
}

/// A server in use; a spawned one is killed (by its own PID, nothing else) on drop.
struct Running {
    addr: SocketAddr,
    pid: Option<u32>,
    child: Option<Child>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn start(spec: &ServerSpec) -> Result<Running, String> {
    let argv = match &spec.target {
        Target::External { addr, pid } => {
            return Ok(Running {
                addr: *addr,
                pid: *pid,
                child: None,
            });
        }
        Target::Spawn(argv) => argv,
    };
    let (prog, args) = argv
        .split_first()
        .ok_or_else(|| format!("{}: empty command", spec.name))?;
    let mut child = Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("{}: cannot start {prog}: {e}", spec.name))?;
    let pid = child.id();
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    // Reads the `listening on` line, then keeps draining so the server never blocks on
    // a full pipe; ends when the server exits.
    thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if sent {
                continue;
            }
            if let Some(a) = line.trim().strip_prefix("listening on ") {
                sent = tx.send(a.to_string()).is_ok();
            }
        }
    });
    let mut running = Running {
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        pid: Some(pid),
        child: Some(child),
    };
    let line = rx
        .recv_timeout(Duration::from_secs(10))
        .map_err(|e| match e {
            mpsc::RecvTimeoutError::Timeout => "no `listening on` line within 10 s",
            mpsc::RecvTimeoutError::Disconnected => "exited before `listening on`",
        })
        .map_err(|why| format!("{}: {why} ({})", spec.name, argv.join(" ")))?;
    running.addr = line
        .parse()
        .map_err(|_| format!("{}: bad address in `listening on {line}`", spec.name))?;
    if !running.addr.ip().is_loopback() {
        return Err(format!("{}: listens on {line}, not loopback", spec.name));
    }
    Ok(running)
}

/// `VmHWM` and `VmRSS` of a process in KiB, from /proc/PID/status.
fn rss_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    };
    Some((field("VmHWM:")?, field("VmRSS:")?))
}

fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let s = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    s.set_write_timeout(Some(IO_TIMEOUT))?;
    Ok(s)
}

/// A chunk of text lines, as an echo server really gets: 63 printable bytes and an LF,
/// repeated (never a `quit`/`stop` line).
fn text_chunk(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            if i % 64 == 63 {
                b'\n'
            } else {
                b'a' + (i % 26) as u8
            }
        })
        .collect()
}

/// Echo throughput: `conns` connections, each with a writer thread sending `chunk`-byte
/// writes until `secs` pass (then half-closing) and a reader thread counting what comes
/// back until EOF. MB/s counts each echoed byte once.
fn throughput(addr: SocketAddr, conns: usize, chunk: usize, secs: f64) -> io::Result<f64> {
    let dur = Duration::from_secs_f64(secs);
    let echoed = Arc::new(AtomicU64::new(0));
    let streams: Vec<TcpStream> = (0..conns)
        .map(|_| connect(addr))
        .collect::<Result<_, _>>()?;
    let start = Instant::now();
    let deadline = start + dur;
    let mut handles = Vec::new();
    for s in streams {
        let mut w = s.try_clone()?;
        let mut r = s;
        let data = text_chunk(chunk);
        handles.push(thread::spawn(move || -> io::Result<()> {
            while Instant::now() < deadline {
                w.write_all(&data)?;
            }
            w.shutdown(Shutdown::Write)
        }));
        let echoed = echoed.clone();
        handles.push(thread::spawn(move || -> io::Result<()> {
            let mut buf = vec![0u8; 64 * 1024];
            // Bounded: EOF comes once the server has echoed the tail; the read timeout
            // and this cap end it if it never does.
            let hard_stop = deadline + IO_TIMEOUT;
            while Instant::now() < hard_stop {
                match r.read(&mut buf)? {
                    0 => return Ok(()),
                    n => echoed.fetch_add(n as u64, Ordering::Relaxed),
                };
            }
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no EOF after the run",
            ))
        }));
    }
    for h in handles {
        h.join()
            .map_err(|_| io::Error::other("worker panicked"))??;
    }
    let elapsed = start.elapsed().as_secs_f64();
    Ok(echoed.load(Ordering::Relaxed) as f64 / elapsed / 1e6)
}

/// Round-trip latency: `conns` connections released together by a barrier, each doing
/// `pings` 32-byte ping-pongs after a short warm-up. Returns (p50, p99) in µs.
fn latency(addr: SocketAddr, conns: usize, pings: usize) -> io::Result<(f64, f64)> {
    const WARMUP: usize = 50;
    let barrier = Arc::new(Barrier::new(conns));
    let mut handles = Vec::new();
    for _ in 0..conns {
        let mut s = connect(addr)?;
        let barrier = barrier.clone();
        handles.push(thread::spawn(move || -> io::Result<Vec<u32>> {
            let ping = *b"0123456789abcdefghijklmnopqrst\r\n";
            let mut pong = [0u8; 32];
            let mut samples = Vec::with_capacity(pings);
            let stop = Instant::now() + Duration::from_secs(60);
            barrier.wait();
            for i in 0..WARMUP + pings {
                if Instant::now() > stop {
                    break;
                }
                let t = Instant::now();
                s.write_all(&ping)?;
                s.read_exact(&mut pong)?;
                let ns = t.elapsed().as_nanos() as u32;
                if pong != ping {
                    return Err(io::Error::other("echo differs"));
                }
                if i >= WARMUP {
                    samples.push(ns);
                }
            }
            Ok(samples)
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(
            h.join()
                .map_err(|_| io::Error::other("worker panicked"))??,
        );
    }
    if all.is_empty() {
        return Err(io::Error::other("no samples"));
    }
    all.sort_unstable();
    let pct = |p: f64| all[((all.len() - 1) as f64 * p).round() as usize] as f64 / 1000.0;
    Ok((pct(0.50), pct(0.99)))
}

/// Connections being opened at once by the held-connections workload: below std's
/// listen backlog of 128, so a slow `accept` loop shows up as time, not as SYN drops.
const CONNECTING: usize = 100;

/// The held-connections workload stops opening new connections after this long, so a
/// server that accepts slowly costs a bounded time (its row then shows the shortfall).
const OPEN_LIMIT: Duration = Duration::from_secs(60);

/// What the held-connections workload saw.
struct Held {
    ok: usize,
    failed: usize,
    open_secs: f64,
    /// Server VmHWM in KiB, if its PID is known.
    hwm_kib: Option<u64>,
}

/// Open `n` connections (at most [`CONNECTING`] at once, so the listen backlog never
/// overflows into SYN retries), prove each live with one echoed message, hold them all
/// for `hold`, read the server's peak RSS, then close them.
fn hold_conns(addr: SocketAddr, pid: Option<u32>, n: usize, hold: Duration) -> io::Result<Held> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let sem = Arc::new(tokio::sync::Semaphore::new(CONNECTING));
        let mut set = tokio::task::JoinSet::new();
        let start = Instant::now();
        let mut failed = 0;
        for _ in 0..n {
            if start.elapsed() > OPEN_LIMIT {
                failed += 1;
                continue;
            }
            let permit = sem.clone().acquire_owned().await.expect("never closed");
            set.spawn(async move {
                let open = async {
                    let mut s = tokio::net::TcpStream::connect(addr).await?;
                    s.write_all(b"live?\n").await?;
                    let mut back = [0u8; 6];
                    s.read_exact(&mut back).await?;
                    if &back != b"live?\n" {
                        return Err(io::Error::other("echo differs"));
                    }
                    io::Result::Ok(s)
                };
                let r = tokio::time::timeout(IO_TIMEOUT, open).await;
                drop(permit);
                r.map_err(|_| io::Error::from(io::ErrorKind::TimedOut))?
            });
        }
        let mut held = Vec::with_capacity(n);
        while let Some(r) = set.join_next().await {
            match r {
                Ok(Ok(s)) => held.push(s),
                Ok(Err(e)) => {
                    if failed == 0 {
                        eprintln!("loadgen:   first failed connection: {e}");
                    }
                    failed += 1;
                }
                Err(_) => failed += 1,
            }
        }
        let open_secs = start.elapsed().as_secs_f64();
        tokio::time::sleep(hold).await;
        let hwm_kib = pid.and_then(rss_kib).map(|(hwm, _)| hwm);
        let ok = held.len();
        drop(held);
        Ok(Held {
            ok,
            failed,
            open_secs,
            hwm_kib,
        })
    })
}

/// Play one full quiz game with the core's `Player` over a blocking socket.
fn play(addr: SocketAddr) -> io::Result<Outcome> {
    let mut s = connect(addr)?;
    let mut player = Player::new();
    let now = socklab_core::Instant::ZERO;
    let (mut inbuf, mut outbuf) = ([0u8; 2048], [0u8; 128]);
    // A game is 12 server lines; 100 reads is far more than any honest server needs.
    for _ in 0..100 {
        let n = s.read(&mut inbuf)?;
        if n == 0 {
            player.handle_eof(now);
            break;
        }
        let mut data = &inbuf[..n];
        while !data.is_empty() && player.outcome().is_none() {
            let used = player.handle_input(now, data);
            data = &data[used..];
            let mut wrote = false;
            loop {
                let k = player.poll_output(&mut outbuf);
                if k == 0 {
                    break;
                }
                s.write_all(&outbuf[..k])?;
                wrote = true;
            }
            if used == 0 && !wrote {
                return Err(io::Error::other("player stuck"));
            }
        }
        if player.outcome().is_some() {
            break;
        }
    }
    Ok(player.outcome().unwrap_or(Outcome::Disconnected))
}

/// Quiz: 32 players each playing games back to back until `games` games were started
/// or `secs` passed. Returns (won games per second, games not won).
fn quiz(addr: SocketAddr, players: usize, games: u64, secs: f64) -> io::Result<(f64, u64)> {
    let started = Arc::new(AtomicU64::new(0));
    let won = Arc::new(AtomicU64::new(0));
    let lost = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let handles: Vec<_> = (0..players)
        .map(|_| {
            let (started, won, lost) = (started.clone(), won.clone(), lost.clone());
            thread::spawn(move || {
                while Instant::now() < deadline && started.fetch_add(1, Ordering::Relaxed) < games {
                    match play(addr) {
                        Ok(Outcome::Won) => won.fetch_add(1, Ordering::Relaxed),
                        _ => lost.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();
    for h in handles {
        h.join().map_err(|_| io::Error::other("player panicked"))?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    Ok((
        won.load(Ordering::Relaxed) as f64 / elapsed,
        lost.load(Ordering::Relaxed),
    ))
}

/// One row of the result table: a value (or an error) per server.
struct Row {
    label: String,
    higher_is_better: bool,
    decimals: usize,
    cells: Vec<Result<f64, String>>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Run `f` `runs` times and keep the median of each of its outputs.
fn repeat<const N: usize>(
    runs: usize,
    mut f: impl FnMut() -> io::Result<[f64; N]>,
) -> Result<[f64; N], String> {
    let mut got: Vec<[f64; N]> = Vec::new();
    for _ in 0..runs.max(1) {
        got.push(f().map_err(|e| format!("error: {e}"))?);
    }
    Ok(std::array::from_fn(|i| {
        median(got.iter().map(|g| g[i]).collect())
    }))
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn print_table(title: &str, names: &[String], subject: &str, rows: &[Row]) {
    println!("\n### {title}\n");
    print!("| workload |");
    for n in names {
        print!(" {n} |");
    }
    println!();
    print!("|---|");
    for _ in names {
        print!("---:|");
    }
    println!();
    // `socklab-chunk64k` and the like are variants of the subject, not peers.
    let variant = format!("{subject}-");
    let peers: Vec<usize> = (0..names.len())
        .filter(|&i| names[i] != subject && !names[i].starts_with(&variant))
        .collect();
    for row in rows {
        let better = |a: f64, b: f64| if row.higher_is_better { a > b } else { a < b };
        // Best peer; with no peer (or no working one), the best of all.
        let pool: Vec<usize> = if peers.iter().any(|&i| row.cells[i].is_ok()) {
            peers.clone()
        } else {
            (0..names.len()).collect()
        };
        let best = pool
            .iter()
            .filter_map(|&i| row.cells[i].as_ref().ok().copied())
            .reduce(|a, b| if better(a, b) { a } else { b });
        print!("| {} |", row.label);
        for cell in &row.cells {
            match (cell, best) {
                (Ok(v), Some(b)) if b > 0.0 => {
                    print!(" {v:.prec$} ({:.2}×) |", v / b, prec = row.decimals)
                }
                (Ok(v), _) => print!(" {v:.prec$} |", prec = row.decimals),
                (Err(e), _) => print!(" {e} |"),
            }
        }
        println!();
    }
}

/// Start every server of a group, keeping the ones that came up.
fn start_all(specs: &[ServerSpec]) -> Vec<Result<Running, String>> {
    specs
        .iter()
        .map(|s| {
            let r = start(s);
            match &r {
                Ok(run) => eprintln!("loadgen: {} listening on {}", s.name, run.addr),
                Err(e) => eprintln!("loadgen: {e}"),
            }
            r
        })
        .collect()
}

/// Run `cell` against every server that started; the others get their start error.
fn row(
    label: String,
    higher_is_better: bool,
    decimals: usize,
    servers: &[Result<Running, String>],
    mut cell: impl FnMut(&Running) -> Result<f64, String>,
) -> Row {
    let cells = servers
        .iter()
        .map(|s| match s {
            Ok(run) => cell(run),
            Err(_) => Err("did not start".to_string()),
        })
        .collect();
    Row {
        label,
        higher_is_better,
        decimals,
        cells,
    }
}

fn main() {
    let args = Args::parse();
    let parse_all = |v: &[String]| {
        v.iter()
            .map(|s| parse_spec(s))
            .collect::<Result<Vec<_>, _>>()
    };
    let (echo, quizzes) = match (parse_all(&args.echo), parse_all(&args.quiz)) {
        (Ok(e), Ok(q)) => (e, q),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("loadgen: {e}");
            std::process::exit(2);
        }
    };
    let nofile = socklab_bench::raise_nofile();
    eprintln!("loadgen: RLIMIT_NOFILE {nofile} (inherited by spawned servers)");
    let want = |w: &str| args.only.iter().any(|o| o == w);
    let echo_names: Vec<String> = echo.iter().map(|s| s.name.clone()).collect();
    let load_before = loadavg();
    let mut rows = Vec::new();

    if !echo.is_empty() && (want("throughput") || want("latency")) {
        // One instance of each server for both workloads, cells interleaved.
        let servers = start_all(&echo);
        if want("throughput") {
            for (conns, chunk) in [(1, 1024), (1, 65536), (8, 1024), (8, 65536)] {
                let label = format!(
                    "echo MB/s, {conns} conn × {} KiB writes (higher is better)",
                    chunk / 1024
                );
                eprintln!("loadgen: {label}");
                rows.push(row(label, true, 1, &servers, |s| {
                    repeat(args.runs, || {
                        Ok([throughput(s.addr, conns, chunk, args.secs)?])
                    })
                    .map(|[v]| v)
                }));
            }
        }
        if want("latency") {
            eprintln!("loadgen: latency, 32 connections");
            let lat: Vec<Result<[f64; 2], String>> = servers
                .iter()
                .map(|s| match s {
                    Ok(run) => repeat(args.runs, || {
                        let (p50, p99) = latency(run.addr, 32, args.pings)?;
                        Ok([p50, p99])
                    }),
                    Err(_) => Err("did not start".to_string()),
                })
                .collect();
            for (i, p) in ["p50", "p99"].iter().enumerate() {
                rows.push(Row {
                    label: format!(
                        "round trip {p} µs, 32 conns × {} × 32 B (lower is better)",
                        args.pings
                    ),
                    higher_is_better: false,
                    decimals: 1,
                    cells: lat.iter().map(|r| r.clone().map(|v| v[i])).collect(),
                });
            }
        }
    }

    if !echo.is_empty() && want("conns") {
        // A fresh server per run, so its VmHWM is this workload's peak alone.
        let mut alive = Vec::new();
        let mut hwm = Vec::new();
        for spec in &echo {
            eprintln!("loadgen: {} connections held on {}", args.conns, spec.name);
            let r = start(spec).map_err(|e| {
                eprintln!("loadgen:   {e}");
                "did not start".to_string()
            });
            let r = r.and_then(|run| {
                hold_conns(
                    run.addr,
                    run.pid,
                    args.conns,
                    Duration::from_secs_f64(args.hold_secs),
                )
                .map_err(|e| format!("error: {e}"))
            });
            match r {
                Ok(h) => {
                    eprintln!(
                        "loadgen:   {} live, {} failed, opened in {:.1} s",
                        h.ok, h.failed, h.open_secs
                    );
                    alive.push(Ok(h.ok as f64));
                    hwm.push(
                        h.hwm_kib
                            .map(|k| k as f64 / 1024.0)
                            .ok_or_else(|| "no pid".to_string()),
                    );
                }
                Err(e) => {
                    eprintln!("loadgen:   {e}");
                    alive.push(Err(e.clone()));
                    hwm.push(Err(e));
                }
            }
        }
        rows.push(Row {
            label: format!("live connections of {} (higher is better)", args.conns),
            higher_is_better: true,
            decimals: 0,
            cells: alive,
        });
        rows.push(Row {
            label: format!(
                "server peak RSS MiB, {} conns held {} s (lower is better)",
                args.conns, args.hold_secs
            ),
            higher_is_better: false,
            decimals: 1,
            cells: hwm,
        });
    }

    if !echo.is_empty() {
        print_table("Echo (loopback)", &echo_names, &args.subject, &rows);
    }

    if !quizzes.is_empty() && want("quiz") {
        let servers = start_all(&quizzes);
        let mut lost_note = Vec::new();
        let r = row(
            "quiz games won/s, 32 players × 10 problems (higher is better)".to_string(),
            true,
            0,
            &servers,
            |s| {
                let (rate, lost) = quiz(s.addr, 32, args.games, args.quiz_secs)
                    .map_err(|e| format!("error: {e}"))?;
                lost_note.push(lost);
                if lost > 0 {
                    eprintln!("loadgen:   {lost} games not won");
                }
                Ok(rate)
            },
        );
        let names: Vec<String> = quizzes.iter().map(|s| s.name.clone()).collect();
        print_table("Quiz (loopback)", &names, &args.subject, &[r]);
        if lost_note.iter().any(|&l| l > 0) {
            println!("\nGames not won, per server in order: {lost_note:?}");
        }
    }
    println!(
        "\nSettings: {} s per throughput cell, median of {} run(s) per throughput and \
         latency cell, {} pings per latency connection, {} connections held {} s, \
         at most {} quiz games or {} s; RLIMIT_NOFILE {nofile}.",
        args.secs, args.runs, args.pings, args.conns, args.hold_secs, args.games, args.quiz_secs
    );
    println!(
        "Load average (1/5/15 min) before: {load_before}; after: {}. \
         loadgen runs on the same cores as the servers.",
        loadavg()
    );
}
