//! Which peers count as one for per-address limits (auth throttling and
//! `--register-limit`, chat's `--max-members-per-ip`).
//!
//! An IPv4 peer is its address. An IPv6 peer is its /64: one host usually holds a whole
//! /64 and can pick a new address in it for every connection, so a limit per IPv6
//! address would limit nobody. An IPv4-mapped IPv6 address (what a dual-stack socket
//! bound to `::` reports for an IPv4 peer) is the IPv4 address it maps, so one peer
//! cannot count twice.

use std::net::IpAddr;

/// The address `ip` is counted under.
pub fn peer_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_by_its_64_mapped_ipv4_as_ipv4() {
        let key = |s: &str| peer_key(s.parse().unwrap());
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::2"));
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2::"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:10.0.0.1"), key("10.0.0.1"));
        assert_ne!(key("10.0.0.1"), key("10.0.0.2"));
    }
}
