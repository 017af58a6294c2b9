//! The parts of the MPS2 firmware that are plain logic, built and unit-tested on the PC
//! too: the LAN9118 driver over a register [`Bus`](lan9118::Bus). The firmware binary
//! (`src/main.rs`) adds the board: registers, the NIC's interrupt, the console and how
//! it sleeps; clock, start-up and main loop are `socklab-firmware`'s.
#![cfg_attr(not(test), no_std)]
#![warn(missing_docs)]

pub mod lan9118;

/// Where each board's LAN9118 sits in the memory map (the boards' application notes
/// AN385, AN386 and AN500).
pub const NIC_BASE: usize = if cfg!(feature = "an500") {
    0xA000_0000
} else {
    0x4020_0000
};

/// The LAN9118's interrupt line on every MPS2 board.
pub const NIC_IRQ: u16 = 13;

/// Core clock of the MPS2 FPGA images (and QEMU's model of them).
pub const CORE_HZ: u32 = 25_000_000;
