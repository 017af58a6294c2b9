//! The parts of the MPS2 firmware that are plain logic, built and unit-tested on the PC
//! too: the LAN9118 driver over a register [`Bus`](lan9118::Bus). The firmware binary
//! (`src/main.rs`) adds the board: registers, clock, interrupt and main loop.
#![cfg_attr(not(test), no_std)]
#![warn(missing_docs)]

pub mod lan9118;

/// Where each board's LAN9118 sits in the memory map (`EMBEDDED-NOTES.md`).
pub const NIC_BASE: usize = if cfg!(feature = "an500") {
    0xA000_0000
} else {
    0x4020_0000
};

/// The LAN9118's interrupt line on every MPS2 board.
pub const NIC_IRQ: u16 = 13;

/// Core clock of the MPS2 FPGA images (and QEMU's model of them).
pub const CORE_HZ: u32 = 25_000_000;
