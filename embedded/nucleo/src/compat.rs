//! smoltcp 0.12's `phy::Device` (what stm32-eth 0.8 implements) seen as smoltcp 0.14's.
//!
//! The two traits differ only in their crate: a device hands out tokens that lend a frame
//! to a closure, so the adapter forwards each call and converts the timestamp and the
//! capabilities. It costs nothing at run time and lets the stack use 0.14, whose TCP
//! resends segments that 0.12 forgets (see docs/DESIGN.md).

use smoltcp::phy::{self as new, Checksum, ChecksumCapabilities, DeviceCapabilities, Medium};
use smoltcp012::phy as old;

/// A 0.12 device used as a 0.14 device.
pub struct Compat<D>(pub D);

/// A 0.12 receive token.
pub struct Rx<T>(T);

/// A 0.12 transmit token.
pub struct Tx<T>(T);

impl<T: old::RxToken> new::RxToken for Rx<T> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        self.0.consume(f)
    }
}

impl<T: old::TxToken> new::TxToken for Tx<T> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        self.0.consume(len, f)
    }
}

fn old_time(t: smoltcp::time::Instant) -> smoltcp012::time::Instant {
    smoltcp012::time::Instant::from_micros(t.total_micros())
}

fn checksum(c: old::Checksum) -> Checksum {
    match c {
        old::Checksum::Both => Checksum::Both,
        old::Checksum::Rx => Checksum::Rx,
        old::Checksum::Tx => Checksum::Tx,
        old::Checksum::None => Checksum::None,
    }
}

impl<D: old::Device> new::Device for Compat<D> {
    type RxToken<'a>
        = Rx<D::RxToken<'a>>
    where
        Self: 'a;
    type TxToken<'a>
        = Tx<D::TxToken<'a>>
    where
        Self: 'a;

    fn receive(
        &mut self,
        t: smoltcp::time::Instant,
    ) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        self.0.receive(old_time(t)).map(|(rx, tx)| (Rx(rx), Tx(tx)))
    }

    fn transmit(&mut self, t: smoltcp::time::Instant) -> Option<Self::TxToken<'_>> {
        self.0.transmit(old_time(t)).map(Tx)
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let c = self.0.capabilities();
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = c.max_transmission_unit;
        caps.max_burst_size = c.max_burst_size;
        let mut sums = ChecksumCapabilities::default();
        sums.ipv4 = checksum(c.checksum.ipv4);
        sums.udp = checksum(c.checksum.udp);
        sums.tcp = checksum(c.checksum.tcp);
        sums.icmpv4 = checksum(c.checksum.icmpv4);
        caps.checksum = sums;
        caps
    }
}
