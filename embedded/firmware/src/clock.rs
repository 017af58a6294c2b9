//! Time on the board: SysTick interrupts at 1 kHz and counts milliseconds.

use core::cell::Cell;
use core::sync::atomic::{AtomicU32, Ordering};
use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::exception;
use socklab_embedded::Instant;

/// Milliseconds since boot, counted by the SysTick handler.
static TICKS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    TICKS.fetch_add(1, Ordering::Relaxed);
}

/// Milliseconds since boot as SysTick counts them (wraps after 49 days): for log lines.
pub fn millis() -> u32 {
    TICKS.load(Ordering::Relaxed)
}

/// SysTick's milliseconds widened to 64 bits, so the stack's clock never wraps.
pub struct Clock {
    last: Cell<u32>,
    high: Cell<u64>,
}

impl Clock {
    /// Start SysTick: one interrupt per millisecond of a core running at `core_hz`.
    pub fn start(syst: &mut SYST, core_hz: u32) -> Clock {
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(core_hz / 1000 - 1);
        syst.clear_current();
        syst.enable_interrupt();
        syst.enable_counter();
        Clock {
            last: Cell::new(0),
            high: Cell::new(0),
        }
    }

    /// Time since boot. Must be called at least once every 49 days to notice the wrap,
    /// which the main loop does (SysTick wakes it every millisecond).
    pub fn now(&self) -> Instant {
        let t = millis();
        if t < self.last.get() {
            self.high.set(self.high.get() + (1 << 32));
        }
        self.last.set(t);
        Instant::from_millis(self.high.get() + u64::from(t))
    }
}
