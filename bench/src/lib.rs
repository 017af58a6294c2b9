//! Shared bits of the socklab load benchmark: the peer servers and `loadgen` all raise
//! the descriptor limit and announce their port the way `socklab serve` does, so
//! `loadgen` can drive every server with the same code.

use std::io::Write;
use std::net::SocketAddr;

/// Descriptors wanted for the 10,000-connection workload: one per connection in the
/// server, one per connection in `loadgen`, with room to spare.
pub const NOFILE_WANTED: u64 = 65536;

/// Raise `RLIMIT_NOFILE` (soft and, as root, hard) to [`NOFILE_WANTED`]. Children inherit
/// it, which is how the servers `loadgen` spawns get it too. Returns the soft limit now
/// in force; failing to raise is not fatal (the 10k workload then reports its errors).
pub fn raise_nofile() -> u64 {
    let target = NOFILE_WANTED;
    if rlimit::setrlimit(rlimit::Resource::NOFILE, target, target).is_err() {
        // Not allowed to raise the hard limit: take as much as the hard limit allows.
        let _ = rlimit::increase_nofile_limit(target);
    }
    rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(0, |(soft, _)| soft)
}

/// Print `listening on ADDR` and flush, exactly as PROTOCOLS.md §0 asks of socklab,
/// so scripts and `loadgen` wait for the same line from every server.
pub fn announce(addr: SocketAddr) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on {addr}");
    let _ = out.flush();
}
