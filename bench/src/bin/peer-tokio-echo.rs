//! Peer echo server on tokio's multi-thread runtime: the idiomatic async baseline that
//! socklab's mio frontend is compared with. Each connection is one task doing
//! `tokio::io::copy` from its read half to its write half.

use clap::Parser;
use tokio::net::{TcpListener, TcpStream};

/// Flags: the subset of `socklab serve echo` that the benchmark uses.
#[derive(Parser)]
#[command(about = "tokio echo server (benchmark peer)")]
struct Args {
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port; 0 lets the OS choose.
    #[arg(long, default_value_t = 9090)]
    port: u16,
}

async fn serve(mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let (mut r, mut w) = stream.split();
    // Errors (reset by the load generator) just end the connection.
    let _ = tokio::io::copy(&mut r, &mut w).await;
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    socklab_bench::raise_nofile();
    let listener = TcpListener::bind((args.host.as_str(), args.port)).await?;
    socklab_bench::announce(listener.local_addr()?);
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(serve(stream));
            }
            // EMFILE and friends: keep serving the connections we have.
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    }
}
