//! A driver for the SMSC LAN9118 / LAN9220 Ethernet controller of the ARM MPS2 boards,
//! implementing smoltcp's [`Device`](smoltcp::phy::Device).
//!
//! The logic here is safe code over a [`Bus`] of 32-bit register reads and writes; the
//! board's memory-mapped bus (the only `unsafe`) is in `regs.rs`, and the unit tests
//! drive the same logic with a fake chip. Register facts: `EMBEDDED-NOTES.md` and
//! the LAN9118 datasheet (section 5). Frames move through the chip's FIFOs by PIO, one
//! 32-bit word at a time: no DMA, so no buffer is shared with hardware.

use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;
use smoltcp::wire::EthernetAddress;

/// 32-bit register access at byte offsets from the chip's base address.
pub trait Bus {
    /// Read the register at `offset`.
    fn read(&self, offset: usize) -> u32;
    /// Write `value` to the register at `offset`.
    fn write(&self, offset: usize, value: u32);
}

/// Register offsets (datasheet table 5-1).
pub mod reg {
    /// Receive data FIFO port.
    pub const RX_DATA_FIFO: usize = 0x00;
    /// Transmit data FIFO port (command A, command B, then data words).
    pub const TX_DATA_FIFO: usize = 0x20;
    /// Receive status FIFO port: one word per frame.
    pub const RX_STATUS_FIFO: usize = 0x40;
    /// Transmit status FIFO port.
    pub const TX_STATUS_FIFO: usize = 0x48;
    /// Chip ID and revision.
    pub const ID_REV: usize = 0x50;
    /// Interrupt pin configuration.
    pub const IRQ_CFG: usize = 0x54;
    /// Interrupt status (write 1s to acknowledge).
    pub const INT_STS: usize = 0x58;
    /// Interrupt enable.
    pub const INT_EN: usize = 0x5C;
    /// Endianness test word.
    pub const BYTE_TEST: usize = 0x64;
    /// Transmit configuration.
    pub const TX_CFG: usize = 0x70;
    /// Hardware configuration (soft reset in bit 0).
    pub const HW_CFG: usize = 0x74;
    /// Receive FIFO information: frames waiting in bits 23:16.
    pub const RX_FIFO_INF: usize = 0x7C;
    /// Transmit FIFO information: free data space in bits 15:0, statuses in 23:16.
    pub const TX_FIFO_INF: usize = 0x80;
    /// Power management control (READY in bit 0).
    pub const PMT_CTRL: usize = 0x84;
    /// Indirect MAC register command.
    pub const MAC_CSR_CMD: usize = 0xA4;
    /// Indirect MAC register data.
    pub const MAC_CSR_DATA: usize = 0xA8;
}

/// Indirect MAC registers (datasheet table 5-38).
mod mac {
    pub const MAC_CR: u32 = 1;
    pub const ADDRH: u32 = 2;
    pub const ADDRL: u32 = 3;
    pub const RXEN: u32 = 1 << 2;
    pub const TXEN: u32 = 1 << 3;
}

const BYTE_TEST_VALUE: u32 = 0x8765_4321;
const CHIP_ID: u32 = 0x0118;
const CSR_BUSY: u32 = 1 << 31;
const CSR_READ: u32 = 1 << 30;
const HW_CFG_SRST: u32 = 1;
const PMT_READY: u32 = 1;
/// Enable, active-high, push-pull. Anything else and QEMU drives the line active-low,
/// asserted while idle.
const IRQ_CFG_VALUE: u32 = 0x111;
/// RX status FIFO level interrupt: at least one frame waiting.
pub const INT_RSFL: u32 = 1 << 3;
const TX_ON_SAO: u32 = 0x6;
const TX_FIRST: u32 = 1 << 13;
const TX_LAST: u32 = 1 << 12;
const RX_ERROR: u32 = 1 << 15;
const FCS_LEN: usize = 4;

/// The largest frame handled: a full Ethernet frame without FCS.
pub const MTU: usize = 1514;
/// Frame buffers round up to whole FIFO words.
const BUF: usize = MTU.div_ceil(4) * 4 + FCS_LEN;

/// Why the chip could not be brought up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum InitError {
    /// BYTE_TEST did not read 0x8765_4321: no chip there, or a bus problem.
    NoChip(u32),
    /// ID_REV names another chip.
    WrongChip(u32),
    /// The chip did not come out of reset.
    ResetTimeout,
}

impl core::fmt::Display for InitError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            InitError::NoChip(v) => write!(f, "no LAN9118: BYTE_TEST reads {v:#010x}"),
            InitError::WrongChip(v) => write!(f, "not a LAN9118: ID_REV reads {v:#010x}"),
            InitError::ResetTimeout => f.write_str("LAN9118 did not leave reset"),
        }
    }
}

/// The controller with one receive and one transmit frame buffer.
pub struct Lan9118<B: Bus> {
    bus: B,
    rx: [u8; BUF],
    tx: [u8; BUF],
    /// Frames dropped for errors or size, for the log.
    pub rx_errors: u32,
}

impl<B: Bus> Lan9118<B> {
    /// Reset the chip, set `mac`, turn the receiver and transmitter on and enable the
    /// receive interrupt (the caller decides whether the CPU listens to it).
    pub fn new(bus: B, mac: EthernetAddress) -> Result<Self, InitError> {
        let test = bus.read(reg::BYTE_TEST);
        if test != BYTE_TEST_VALUE {
            return Err(InitError::NoChip(test));
        }
        let id = bus.read(reg::ID_REV);
        if id >> 16 != CHIP_ID {
            return Err(InitError::WrongChip(id));
        }
        bus.write(reg::HW_CFG, HW_CFG_SRST);
        if !(0..100_000).any(|_| bus.read(reg::PMT_CTRL) & PMT_READY != 0) {
            return Err(InitError::ResetTimeout);
        }
        let nic = Lan9118 {
            bus,
            rx: [0; BUF],
            tx: [0; BUF],
            rx_errors: 0,
        };
        let m = mac.0;
        nic.mac_write(mac::ADDRL, u32::from_le_bytes([m[0], m[1], m[2], m[3]]));
        nic.mac_write(mac::ADDRH, u32::from_le_bytes([m[4], m[5], 0, 0]));
        let cr = nic.mac_read(mac::MAC_CR);
        nic.mac_write(mac::MAC_CR, cr | mac::RXEN | mac::TXEN);
        nic.bus.write(reg::TX_CFG, TX_ON_SAO);
        nic.bus.write(reg::IRQ_CFG, IRQ_CFG_VALUE);
        nic.bus.write(reg::INT_STS, u32::MAX);
        nic.bus.write(reg::INT_EN, INT_RSFL);
        Ok(nic)
    }

    fn csr_wait(&self) {
        // Bounded: a wedged chip costs a lost register write, not a hung firmware.
        for _ in 0..10_000 {
            if self.bus.read(reg::MAC_CSR_CMD) & CSR_BUSY == 0 {
                return;
            }
        }
    }

    fn mac_write(&self, index: u32, value: u32) {
        self.csr_wait();
        self.bus.write(reg::MAC_CSR_DATA, value);
        self.bus.write(reg::MAC_CSR_CMD, CSR_BUSY | index);
        self.csr_wait();
    }

    fn mac_read(&self, index: u32) -> u32 {
        self.csr_wait();
        self.bus
            .write(reg::MAC_CSR_CMD, CSR_BUSY | CSR_READ | index);
        self.csr_wait();
        self.bus.read(reg::MAC_CSR_DATA)
    }

    /// Frames waiting in the receive FIFO.
    pub fn frames_waiting(&self) -> u32 {
        (self.bus.read(reg::RX_FIFO_INF) >> 16) & 0xFF
    }

    /// Acknowledge the receive interrupt; it fires again while frames are waiting.
    pub fn ack_interrupt(&self) {
        self.bus.write(reg::INT_STS, INT_RSFL);
    }

    /// Pop one frame into `self.rx`; its length without FCS, or `None` if it was bad
    /// (its words are drained either way, so the FIFO stays in step).
    fn pop_frame(&mut self) -> Option<usize> {
        let status = self.bus.read(reg::RX_STATUS_FIFO);
        let len = ((status >> 16) & 0x3FFF) as usize;
        let words = len.div_ceil(4);
        let fits = words * 4 <= self.rx.len();
        for i in 0..words {
            let word = self.bus.read(reg::RX_DATA_FIFO);
            if fits {
                self.rx[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
            }
        }
        if status & RX_ERROR != 0 || !fits || len < FCS_LEN + 14 {
            self.rx_errors = self.rx_errors.wrapping_add(1);
            return None;
        }
        Some(len - FCS_LEN)
    }

    fn tx_room(&self) -> bool {
        // Free data space in bytes; a frame needs its words plus two command words.
        (self.bus.read(reg::TX_FIFO_INF) & 0xFFFF) as usize >= BUF + 8
    }

    fn send(bus: &B, frame: &[u8]) {
        let len = frame.len() as u32;
        bus.write(reg::TX_DATA_FIFO, TX_FIRST | TX_LAST | len);
        bus.write(reg::TX_DATA_FIFO, (len << 16) | len);
        for chunk in frame.chunks(4) {
            let mut word = [0u8; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            bus.write(reg::TX_DATA_FIFO, u32::from_le_bytes(word));
        }
        // Statuses are allowed to overrun (TXSAO); drain them so they never pile up.
        while (bus.read(reg::TX_FIFO_INF) >> 16) & 0xFF != 0 {
            let _ = bus.read(reg::TX_STATUS_FIFO);
        }
    }
}

/// A received frame, borrowed from the driver's buffer.
pub struct RxToken<'a>(&'a [u8]);

/// Room to build one frame, sent on consume.
pub struct TxToken<'a, B: Bus> {
    bus: &'a B,
    buf: &'a mut [u8; BUF],
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
}

impl<B: Bus> phy::TxToken for TxToken<'_, B> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        // smoltcp never asks for more than the MTU it was given.
        let len = len.min(MTU);
        let r = f(&mut self.buf[..len]);
        Lan9118::send(self.bus, &self.buf[..len]);
        r
    }
}

impl<B: Bus> phy::Device for Lan9118<B> {
    type RxToken<'a>
        = RxToken<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = TxToken<'a, B>
    where
        Self: 'a;

    fn receive(&mut self, _: Instant) -> Option<(RxToken<'_>, TxToken<'_, B>)> {
        // Skip bad frames without returning to smoltcp, which would stop polling.
        let len = loop {
            if self.frames_waiting() == 0 {
                return None;
            }
            if let Some(len) = self.pop_frame() {
                break len;
            }
        };
        if !self.tx_room() {
            // Without room to answer, the frame is dropped like on a busy wire.
            return None;
        }
        Some((
            RxToken(&self.rx[..len]),
            TxToken {
                bus: &self.bus,
                buf: &mut self.tx,
            },
        ))
    }

    fn transmit(&mut self, _: Instant) -> Option<TxToken<'_, B>> {
        if !self.tx_room() {
            return None;
        }
        Some(TxToken {
            bus: &self.bus,
            buf: &mut self.tx,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = MTU;
        caps.max_burst_size = Some(1);
        caps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cell::RefCell;
    use smoltcp::phy::{Device, RxToken as _, TxToken as _};
    use std::collections::VecDeque;
    use std::vec::Vec;

    /// A LAN9118 as the driver sees it through the FIFO ports: enough of the chip to
    /// check the register protocol (ID checks, indirect MAC registers, frame framing).
    #[derive(Default)]
    struct Chip {
        byte_test: u32,
        mac_regs: [u32; 16],
        csr_data: u32,
        regs: std::collections::HashMap<usize, u32>,
        rx_frames: VecDeque<(Vec<u8>, bool)>,
        rx_words: VecDeque<u32>,
        tx_words: Vec<u32>,
        sent: Vec<Vec<u8>>,
    }

    struct FakeBus(RefCell<Chip>);

    impl FakeBus {
        fn new() -> Self {
            FakeBus(RefCell::new(Chip {
                byte_test: BYTE_TEST_VALUE,
                ..Chip::default()
            }))
        }
    }

    impl Bus for FakeBus {
        fn read(&self, offset: usize) -> u32 {
            let mut c = self.0.borrow_mut();
            match offset {
                reg::BYTE_TEST => c.byte_test,
                reg::ID_REV => 0x0118_0001,
                reg::PMT_CTRL => PMT_READY,
                reg::MAC_CSR_CMD => 0,
                reg::MAC_CSR_DATA => c.csr_data,
                reg::RX_FIFO_INF => (c.rx_frames.len() as u32) << 16,
                reg::TX_FIFO_INF => 4608,
                reg::RX_STATUS_FIFO => {
                    let (frame, error) = c.rx_frames.pop_front().expect("status of a frame");
                    let mut bytes = frame.clone();
                    bytes.extend_from_slice(&[0xFC; FCS_LEN]);
                    for w in bytes.chunks(4) {
                        let mut word = [0u8; 4];
                        word[..w.len()].copy_from_slice(w);
                        c.rx_words.push_back(u32::from_le_bytes(word));
                    }
                    ((bytes.len() as u32) << 16) | if error { RX_ERROR } else { 0 }
                }
                reg::RX_DATA_FIFO => c.rx_words.pop_front().expect("data word of a frame"),
                other => c.regs.get(&other).copied().unwrap_or(0),
            }
        }

        fn write(&self, offset: usize, value: u32) {
            let mut c = self.0.borrow_mut();
            match offset {
                reg::MAC_CSR_DATA => c.csr_data = value,
                reg::MAC_CSR_CMD => {
                    let index = (value & 0xFF) as usize;
                    if value & CSR_READ != 0 {
                        c.csr_data = c.mac_regs[index];
                    } else {
                        c.mac_regs[index] = c.csr_data;
                    }
                }
                reg::TX_DATA_FIFO => {
                    c.tx_words.push(value);
                    let len = (c.tx_words[0] & 0x7FF) as usize;
                    if c.tx_words.len() == 2 + len.div_ceil(4) {
                        let bytes: Vec<u8> = c.tx_words[2..]
                            .iter()
                            .flat_map(|w| w.to_le_bytes())
                            .collect();
                        c.sent.push(bytes[..len].to_vec());
                        c.tx_words.clear();
                    }
                }
                other => {
                    c.regs.insert(other, value);
                }
            }
        }
    }

    const MAC: EthernetAddress = EthernetAddress([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);

    fn frame(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed))
            .collect()
    }

    #[test]
    fn init_programs_mac_receiver_transmitter_and_interrupt() {
        let nic = Lan9118::new(FakeBus::new(), MAC).unwrap();
        let c = nic.bus.0.borrow();
        assert_eq!(c.mac_regs[mac::ADDRL as usize], 0x1200_5452);
        assert_eq!(c.mac_regs[mac::ADDRH as usize], 0x5634);
        assert_eq!(c.mac_regs[mac::MAC_CR as usize], mac::RXEN | mac::TXEN);
        assert_eq!(c.regs[&reg::HW_CFG], HW_CFG_SRST);
        assert_eq!(c.regs[&reg::IRQ_CFG], 0x111);
        assert_eq!(c.regs[&reg::INT_EN], INT_RSFL);
        assert_eq!(c.regs[&reg::TX_CFG], TX_ON_SAO);
    }

    #[test]
    fn a_missing_chip_is_an_error() {
        let bus = FakeBus::new();
        bus.0.borrow_mut().byte_test = 0xFFFF_FFFF;
        assert_eq!(
            Lan9118::new(bus, MAC).err(),
            Some(InitError::NoChip(0xFFFF_FFFF))
        );
    }

    #[test]
    fn received_frames_lose_their_fcs_and_bad_ones_are_skipped() {
        let mut nic = Lan9118::new(FakeBus::new(), MAC).unwrap();
        let (good_a, bad, good_b) = (frame(60, 1), frame(61, 2), frame(1514, 3));
        for (f, error) in [(&good_a, false), (&bad, true), (&good_b, false)] {
            nic.bus
                .0
                .borrow_mut()
                .rx_frames
                .push_back((f.clone(), error));
        }
        let now = Instant::ZERO;
        let (rx, _) = nic.receive(now).unwrap();
        assert_eq!(rx.consume(|b| b.to_vec()), good_a);
        let (rx, _) = nic.receive(now).unwrap();
        assert_eq!(rx.consume(|b| b.to_vec()), good_b, "bad frame not skipped");
        assert!(nic.receive(now).is_none());
        assert_eq!(nic.rx_errors, 1);
        assert!(nic.bus.0.borrow().rx_words.is_empty(), "FIFO out of step");
    }

    #[test]
    fn transmitted_frames_are_framed_by_commands_a_and_b() {
        let mut nic = Lan9118::new(FakeBus::new(), MAC).unwrap();
        for len in [60, 61, 62, 63, 1514] {
            let f = frame(len, 9);
            let tx = nic.transmit(Instant::ZERO).unwrap();
            tx.consume(len, |buf| buf.copy_from_slice(&f));
            assert_eq!(nic.bus.0.borrow().sent.last(), Some(&f), "length {len}");
        }
    }
}
