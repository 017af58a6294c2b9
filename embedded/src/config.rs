//! What a frontend chooses: addresses and service settings. Names and ports are core's
//! (`socklab_core::service`); sizes are in [`crate::services`], next to each service,
//! because they decide the firmware's static RAM.

use smoltcp::wire::{EthernetAddress, Ipv4Address, Ipv4Cidr};
use socklab_core::Duration;

/// The interface's addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NetConfig {
    /// Our MAC address; must be unicast (smoltcp panics on a multicast MAC).
    pub mac: EthernetAddress,
    /// Our address and prefix.
    pub ip: Ipv4Cidr,
    /// Default route, if any (the host's address on a TAP device; 10.0.2.2 in QEMU).
    pub gateway: Option<Ipv4Address>,
}

impl NetConfig {
    /// QEMU's user-mode network as the guest sees it: 10.0.2.15/24 via 10.0.2.2, with
    /// QEMU's default NIC MAC 52:54:00:12:34:56.
    pub const QEMU_USER: NetConfig = NetConfig {
        mac: EthernetAddress([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]),
        ip: Ipv4Cidr::new(Ipv4Address::new(10, 0, 2, 15), 24),
        gateway: Some(Ipv4Address::new(10, 0, 2, 2)),
    };
}

/// Service settings, the embedded counterpart of the PC build's flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ServiceConfig {
    /// §0 idle timeout (`--idle-timeout`, default 300 s).
    pub idle_timeout: Duration,
    /// Quiz `--seed`: every session gets the same problems. `None`: each session is
    /// seeded from [`entropy`](Self::entropy), a session counter and the clock.
    pub quiz_seed: Option<u64>,
    /// Start value for unseeded quizzes (a hardware RNG word, the boot time, ...).
    pub entropy: u64,
    /// How long a closed connection may wait for the peer's FIN before it is aborted,
    /// so a peer that never closes cannot hold a session slot.
    pub linger: Duration,
    /// §6 `--member-timeout` (default 60 s): a chat member silent this long is dropped.
    pub member_timeout: Duration,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            idle_timeout: Duration::from_secs(300),
            quiz_seed: None,
            entropy: 0x5eed_50c4_1ab0_0001,
            linger: Duration::from_secs(5),
            member_timeout: Duration::from_secs(60),
        }
    }
}
