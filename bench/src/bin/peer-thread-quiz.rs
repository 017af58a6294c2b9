//! Peer quiz server, one OS thread per player, driving the core's own `Quiz` session
//! over a blocking socket. The protocol logic is socklab's; only the I/O frontend
//! differs, so the quiz row of the load table isolates the cost of socklab's event loop.
//! It also lets `loadgen`'s quiz workload be checked before `socklab serve quiz` exists.

use clap::Parser;
use socklab_core::quiz::{Quiz, QuizConfig};
use socklab_core::rng::SplitMix64;
use socklab_core::{Instant, Session};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// Stack per player thread: two small buffers and the session (a few hundred bytes).
const STACK: usize = 64 * 1024;

/// Flags: the subset of `socklab serve quiz` that the benchmark uses.
#[derive(Parser)]
#[command(about = "thread-per-connection quiz server on the socklab core (benchmark peer)")]
struct Args {
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port; 0 lets the OS choose.
    #[arg(long, default_value_t = 31337)]
    port: u16,
    /// Same problems for every session, as `socklab serve quiz --seed`.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Milliseconds since `epoch` on the core's clock.
fn now(epoch: std::time::Instant) -> Instant {
    Instant::from_millis(epoch.elapsed().as_millis() as u64)
}

fn serve(mut stream: TcpStream, seed: u64) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let epoch = std::time::Instant::now();
    let mut quiz = Quiz::new(now(epoch), QuizConfig::default(), SplitMix64::new(seed));
    let (mut inbuf, mut outbuf) = ([0u8; 2048], [0u8; 512]);
    loop {
        loop {
            let n = quiz.poll_output(&mut outbuf);
            if n == 0 {
                break;
            }
            stream.write_all(&outbuf[..n])?;
        }
        if quiz.close_reason().is_some() {
            return Ok(());
        }
        let wait = quiz.poll_timeout().map_or(Duration::from_secs(60), |t| {
            Duration::from_millis(t.saturating_since(now(epoch)).total_millis().max(1))
        });
        stream.set_read_timeout(Some(wait))?;
        let n = match stream.read(&mut inbuf) {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                quiz.handle_timeout(now(epoch));
                continue;
            }
            Err(e) => return Err(e),
        };
        if n == 0 {
            quiz.handle_eof(now(epoch));
            continue;
        }
        let mut data = &inbuf[..n];
        // The session takes only what its output queue can answer: drain and re-offer.
        while !data.is_empty() {
            let used = quiz.handle_input(now(epoch), data);
            data = &data[used..];
            let mut wrote = false;
            loop {
                let k = quiz.poll_output(&mut outbuf);
                if k == 0 {
                    break;
                }
                stream.write_all(&outbuf[..k])?;
                wrote = true;
            }
            if used == 0 && !wrote {
                // Cannot happen with the core's Quiz (a drained queue always has room for
                // an answer), but a bounded loop must not rely on that.
                return Err(io::Error::other("session took no input"));
            }
        }
    }
}

fn main() -> io::Result<()> {
    let args = Args::parse();
    socklab_bench::raise_nofile();
    let listener = TcpListener::bind((args.host.as_str(), args.port))?;
    socklab_bench::announce(listener.local_addr()?);
    for stream in listener.incoming() {
        let Ok(stream) = stream else {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        let seed = args.seed;
        // A failed spawn drops (closes) the connection; the server keeps going, and
        // says so, since the load table would otherwise show it only as a failed count.
        if let Err(e) = std::thread::Builder::new()
            .stack_size(STACK)
            .spawn(move || serve(stream, seed))
        {
            eprintln!("peer-thread-quiz: cannot spawn a connection thread: {e}");
        }
    }
    Ok(())
}
