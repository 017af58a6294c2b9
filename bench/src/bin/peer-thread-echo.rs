//! Peer echo server with one OS thread per connection: the classic lab design, the
//! baseline for memory per connection. Threads get small stacks (`io::copy` needs one
//! 8 KiB buffer), so 10,000 connections cost address space, not RSS.

use clap::Parser;
use std::io;
use std::net::{TcpListener, TcpStream};

/// Stack per connection thread: `io::copy`'s 8 KiB buffer plus generous headroom.
const STACK: usize = 64 * 1024;

/// Flags: the subset of `socklab serve echo` that the benchmark uses.
#[derive(Parser)]
#[command(about = "thread-per-connection echo server (benchmark peer)")]
struct Args {
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port; 0 lets the OS choose.
    #[arg(long, default_value_t = 9090)]
    port: u16,
}

/// `io::copy` from the socket to itself. `Read` and `Write` are implemented for
/// `&TcpStream`, so both ends borrow the one socket instead of a `try_clone`: a clone
/// costs a second descriptor per connection, and with this machine's hard limit of
/// 20,000 descriptors the 10,000-connection workload then fails its last few accepts
/// for a reason that has nothing to do with the design being measured.
fn serve(stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    io::copy(&mut &stream, &mut &stream)?;
    stream.shutdown(std::net::Shutdown::Write)
}

fn main() -> io::Result<()> {
    let args = Args::parse();
    socklab_bench::raise_nofile();
    let listener = TcpListener::bind((args.host.as_str(), args.port))?;
    socklab_bench::announce(listener.local_addr()?);
    for stream in listener.incoming() {
        let Ok(stream) = stream else {
            // EMFILE and friends: keep serving the connections we have.
            std::thread::sleep(std::time::Duration::from_millis(10));
            continue;
        };
        // A failed spawn drops (closes) the connection; the server keeps going, and
        // says so, since the load table would otherwise show it only as a failed count.
        if let Err(e) = std::thread::Builder::new()
            .stack_size(STACK)
            .spawn(move || serve(stream))
        {
            eprintln!("peer-thread-echo: cannot spawn a connection thread: {e}");
        }
    }
    Ok(())
}
