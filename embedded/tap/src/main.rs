//! `socklab-tap`: the embedded build of socklab on a Linux TAP device.
//!
//! The same `socklab-embedded` stack that runs on a board, with its own MAC and IP
//! address, talks Ethernet through a TAP device, so a PC reaches it exactly as it would
//! reach a board on the wire: `socklab quiz --host 192.168.69.1`.

mod logger;

use clap::Parser;
use smoltcp::phy::{self, Device, FaultInjector, Medium, PcapMode, PcapWriter, TunTapInterface};
use smoltcp::wire::{EthernetAddress, Ipv4Address, Ipv4Cidr};
use socklab_embedded::{
    Buffers, Instant, NetConfig, ServiceConfig, Sessions, Sockets, Stack, StackResources,
};
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const AFTER_HELP: &str = "\
The TAP device must exist and be up; the host's address on it is the gateway:
  sudo ip tuntap add name tap0 mode tap user $USER
  sudo ip link set tap0 up
  sudo ip addr add 192.168.69.100/24 dev tap0

Examples:
  socklab-tap                                  # 192.168.69.1 on tap0
  socklab-tap --tap tap1 --ip 10.9.0.2/24 --gateway 10.9.0.1 --pcap run.pcap
  socklab quiz --host 192.168.69.1             # from the host
  socklab chat --nick ann --host 192.168.69.1
  socklab get http://192.168.69.1/             # the status page";

/// socklab's services on smoltcp over a Linux TAP device: echo (9090), quiz (31337),
/// files on a 16 KiB RAM disk (8020), chat (UDP 9093) and a status page (80).
#[derive(Debug, Parser)]
#[command(version, after_help = AFTER_HELP)]
struct Args {
    /// TAP device to use (create it first, see below).
    #[arg(long, default_value = "tap0")]
    tap: String,
    /// Our address and prefix on the TAP network.
    #[arg(long, default_value = "192.168.69.1/24", value_parser = parse_cidr)]
    ip: Ipv4Cidr,
    /// Default route: the host's address on the TAP device.
    #[arg(long, default_value = "192.168.69.100", value_parser = parse_ipv4)]
    gateway: Ipv4Address,
    /// Our MAC address (unicast; the default is locally administered).
    #[arg(long, default_value = "02:00:00:00:00:01", value_parser = parse_mac)]
    mac: EthernetAddress,
    /// Write every frame, both ways, to FILE (pcap, for Wireshark or tcpdump -r).
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
    /// Quiz: the same problems in every session (as `socklab serve quiz --seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// Close connections silent for this many seconds.
    #[arg(long, default_value_t = 300)]
    idle_timeout: u64,
    /// Testing: drop this percentage of frames, both ways (smoltcp's fault injector).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
    drop_pct: u8,
    /// Testing: corrupt this percentage of frames, both ways.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
    corrupt_pct: u8,
    /// Only errors on stderr.
    #[arg(short, long)]
    quiet: bool,
    /// More log: -v debug events, -vv smoltcp's own trace too.
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
}

fn parse_cidr(s: &str) -> Result<Ipv4Cidr, String> {
    s.parse()
        .map_err(|()| format!("expected an IPv4 address with prefix, like 192.168.69.1/24: {s:?}"))
}

fn parse_ipv4(s: &str) -> Result<Ipv4Address, String> {
    s.parse()
        .map_err(|_| format!("expected an IPv4 address, like 192.168.69.100: {s:?}"))
}

fn parse_mac(s: &str) -> Result<EthernetAddress, String> {
    let mac: EthernetAddress = s
        .parse()
        .map_err(|()| format!("expected a MAC address, like 02:00:00:00:00:01: {s:?}"))?;
    // smoltcp panics on a multicast source address; refuse it here instead.
    if !mac.is_unicast() {
        return Err(format!("{s} is not a unicast MAC address"));
    }
    Ok(mac)
}

fn main() -> ExitCode {
    let args = Args::parse();
    logger::init(args.quiet, args.verbose);
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("socklab-tap: {message}");
            ExitCode::from(2)
        }
    }
}

/// The commands that make `tap` usable, for error messages.
fn setup_hint(tap: &str, gateway: Ipv4Address, ip: Ipv4Cidr) -> String {
    format!(
        "create it with:\n  sudo ip tuntap add name {tap} mode tap user $USER\n  \
         sudo ip link set {tap} up\n  sudo ip addr add {gateway}/{} dev {tap}",
        ip.prefix_len()
    )
}

fn open_tap(args: &Args) -> Result<TunTapInterface, String> {
    let hint = || setup_hint(&args.tap, args.gateway, args.ip);
    // Opening a missing TAP device as root would quietly create a new one, down and
    // without an address, where no one could reach us: insist that it exists.
    if !Path::new("/sys/class/net").join(&args.tap).exists() {
        return Err(format!("no network device {:?}; {}", args.tap, hint()));
    }
    TunTapInterface::new(&args.tap, Medium::Ethernet).map_err(|e| match e.kind() {
        io::ErrorKind::PermissionDenied => format!(
            "not permitted to open TAP device {:?} ({e}); it must belong to this user: {}",
            args.tap,
            hint()
        ),
        _ => format!("cannot open TAP device {:?}: {e}; {}", args.tap, hint()),
    })
}

fn run(args: &Args) -> Result<(), String> {
    let tap = open_tap(args)?;
    let fd = tap.as_raw_fd();
    let sink: Box<dyn Write> = match &args.pcap {
        Some(path) => Box::new(io::BufWriter::new(
            File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?,
        )),
        None => Box::new(io::sink()),
    };
    let pcap = PcapWriter::new(tap, sink, PcapMode::Both);
    let mut device = FaultInjector::new(pcap, std::process::id());
    device.set_drop_chance(args.drop_pct);
    device.set_corrupt_chance(args.corrupt_pct);
    serve(args, fd, &mut device)
}

fn serve<D: Device>(args: &Args, fd: i32, device: &mut D) -> Result<(), String> {
    let net = NetConfig {
        mac: args.mac,
        ip: args.ip,
        gateway: Some(args.gateway),
    };
    let epoch = std::time::Instant::now();
    let now = || Instant::from_millis(epoch.elapsed().as_millis() as u64);
    let services = ServiceConfig {
        idle_timeout: socklab_embedded::Duration::from_secs(args.idle_timeout),
        quiz_seed: args.seed,
        // Not a secret: only makes unseeded quizzes differ between runs.
        entropy: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
        ..ServiceConfig::default()
    };
    // Leaked: they live as long as the process, and 'static keeps the borrows simple
    // (the files sessions borrow the disk, which must outlive them).
    let resources = StackResources {
        sockets: Box::leak(Box::new(Sockets::new())),
        buffers: Box::leak(Box::new(Buffers::new())),
        sessions: Box::leak(Box::new(Sessions::new())),
    };
    let mut stack = Stack::new(net, services, device, resources, now());
    // §0: every server announces each listening address on stdout, flushed.
    let mut out = io::stdout().lock();
    for s in stack.services() {
        let (name, port, max) = (s.info.name, s.info.port, s.limit);
        log::info!(
            "{name} listening on {}:{port} ({max} sessions)",
            args.ip.address()
        );
        let _ = writeln!(out, "listening on {}:{port}", args.ip.address());
    }
    let _ = out.flush();
    drop(out);
    // Sleeps in select(2) until a frame arrives or the next timer is due.
    let failed = stack.run(device, now, |_, wake_at| {
        let delay = wake_at.map(|t| {
            smoltcp::time::Duration::from_millis(t.saturating_since(now()).total_millis())
        });
        phy::wait(fd, delay)
    });
    Err(format!("waiting on {}: {failed}", args.tap))
}
