//! The firmware's only `unsafe` code: volatile access to the LAN9118's registers and
//! the NVIC line of its interrupt. Everything above this module is safe.
#![allow(unsafe_code)]

use core::sync::atomic::{AtomicBool, Ordering};
use cortex_m::interrupt::InterruptNumber;
use cortex_m::peripheral::NVIC;
use socklab_mps2::lan9118::Bus;
use socklab_mps2::{NIC_BASE, NIC_IRQ};

/// The LAN9118's register block at [`NIC_BASE`], handed out once.
pub struct Mmio(());

impl Mmio {
    /// The register block, the first time only: a single owner means no two drivers
    /// interleave FIFO accesses.
    pub fn take() -> Option<Mmio> {
        static TAKEN: AtomicBool = AtomicBool::new(false);
        (!TAKEN.swap(true, Ordering::AcqRel)).then_some(Mmio(()))
    }
}

impl Bus for Mmio {
    fn read(&self, offset: usize) -> u32 {
        debug_assert!(offset < 0x100 && offset.is_multiple_of(4));
        // SAFETY: NIC_BASE is the LAN9118's register block on the selected MPS2 board
        // (device memory, never cached or aliased by Rust objects), offsets are the
        // aligned 32-bit registers of its 256-byte block, and volatile keeps every FIFO
        // read (each pops a word) exactly as written.
        unsafe { core::ptr::read_volatile((NIC_BASE + offset) as *const u32) }
    }

    fn write(&self, offset: usize, value: u32) {
        debug_assert!(offset < 0x100 && offset.is_multiple_of(4));
        // SAFETY: as in `read`; writes go to the chip's registers only.
        unsafe { core::ptr::write_volatile((NIC_BASE + offset) as *mut u32, value) }
    }
}

/// The NIC's interrupt, as the NVIC numbers it.
#[derive(Clone, Copy)]
pub struct NicIrq;

// SAFETY: `number` returns the same valid external interrupt number (13, within the
// board's vector table) every time, which is all InterruptNumber requires.
unsafe impl InterruptNumber for NicIrq {
    fn number(self) -> u16 {
        NIC_IRQ
    }
}

/// Let the NIC's interrupt wake a `wfi`. Called only with interrupts disabled
/// (PRIMASK), and masked again before they are re-enabled, so its handler never runs:
/// the interrupt only ends the sleep.
pub fn unmask_nic_irq() {
    // SAFETY: unmasking can break a critical section that relies on this interrupt
    // staying masked; none does, and PRIMASK is set around the wfi that needs it, so
    // no handler runs (the default handler would otherwise see a level interrupt).
    unsafe { NVIC::unmask(NicIrq) }
}
