//! The services of PROTOCOLS.md §0 by name: one table that every frontend reads.
//!
//! The PC servers, the PC clients' flag defaults and the firmware's configuration all
//! take a service's name and default port from here, so a port changed in one place
//! cannot leave a client knocking at the wrong door; the tests compare this table with
//! §0's.

/// How a service is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Transport {
    /// A TCP listener; one [`Session`](crate::Session) per connection.
    Tcp,
    /// One UDP socket for everybody (the chat, §6).
    Udp,
}

/// A service as §0's table lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ServiceInfo {
    /// The name in commands (`socklab serve echo`), logs and status pages.
    pub name: &'static str,
    /// The default port.
    pub port: u16,
    /// TCP or UDP.
    pub transport: Transport,
}

impl ServiceInfo {
    /// A TCP service (one [`Session`](crate::Session) per connection).
    const fn tcp(name: &'static str, port: u16) -> Self {
        ServiceInfo {
            name,
            port,
            transport: Transport::Tcp,
        }
    }

    /// A UDP service (one socket for everybody).
    const fn udp(name: &'static str, port: u16) -> Self {
        ServiceInfo {
            name,
            port,
            transport: Transport::Udp,
        }
    }
}

/// §1 echo, TCP 9090.
pub const ECHO: ServiceInfo = ServiceInfo::tcp("echo", 9090);
/// §2 quiz, TCP 31337.
pub const QUIZ: ServiceInfo = ServiceInfo::tcp("quiz", 31337);
/// §3 files, TCP 8020.
pub const FILES: ServiceInfo = ServiceInfo::tcp("files", 8020);
/// §4 ident, TCP 9091.
pub const IDENT: ServiceInfo = ServiceInfo::tcp("ident", 9091);
/// §5 auth, TCP 9092.
pub const AUTH: ServiceInfo = ServiceInfo::tcp("auth", 9092);
/// §6 chat, UDP 9093.
pub const CHAT: ServiceInfo = ServiceInfo::udp("chat", 9093);
/// The status page the boards serve (`GET /`, §8's format), TCP 80. Not a PC service.
pub const STATUS: ServiceInfo = ServiceInfo::tcp("status", 80);

/// Every service of §0's table that `socklab serve all` runs, in the table's order.
pub const ALL: [ServiceInfo; 6] = [ECHO, QUIZ, FILES, IDENT, AUTH, CHAT];

/// The service called `name`, among [`ALL`] and [`STATUS`].
pub fn by_name(name: &str) -> Option<ServiceInfo> {
    ALL.into_iter().chain([STATUS]).find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ports_are_unique() {
        for (i, a) in ALL.iter().enumerate() {
            for b in &ALL[i + 1..] {
                assert_ne!(a.name, b.name);
                assert_ne!(a.port, b.port);
            }
        }
        assert_eq!(by_name("quiz"), Some(QUIZ));
        assert_eq!(by_name("status").map(|s| s.port), Some(80));
        assert_eq!(by_name("gopher"), None);
    }

    /// Every row of the table is the row of §0 (docs/PROTOCOLS.md, the spec's copy).
    #[test]
    fn the_table_is_section_0s() {
        let spec = include_str!("../../docs/PROTOCOLS.md");
        for s in ALL {
            let transport = match s.transport {
                Transport::Tcp => "TCP",
                Transport::Udp => "UDP",
            };
            let row = spec
                .lines()
                .find(|l| l.split('|').nth(1).map(str::trim) == Some(s.name));
            let row = row.unwrap_or_else(|| panic!("no §0 row for {}", s.name));
            let cells: [&str; 3] =
                core::array::from_fn(|i| row.split('|').nth(i + 1).unwrap().trim());
            assert_eq!(cells, [s.name, transport, &*itoa(s.port)], "{row}");
        }
        assert!(spec.contains("| http status page (embedded targets only) | TCP | 80 |"));
    }

    fn itoa(n: u16) -> heapless::String<5> {
        use core::fmt::Write;
        let mut s = heapless::String::new();
        let _ = write!(s, "{n}");
        s
    }
}
