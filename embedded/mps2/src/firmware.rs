//! The board: the LAN9118, the semihosting console, and sleeping in `wfi` until a frame
//! arrives or the next timer is due. Start-up and the main loop are
//! `socklab_firmware::serve`.

use crate::regs::{self, Mmio, NicIrq};
use cortex_m::peripheral::NVIC;
use cortex_m_rt::entry;
use panic_semihosting as _;
use socklab_embedded::{Instant, NetConfig, ServiceConfig};
use socklab_firmware::clock::Clock;
use socklab_mps2::CORE_HZ;
use socklab_mps2::lan9118::{Bus, Lan9118};

#[cfg(feature = "defmt")]
use defmt_semihosting as _;

/// Console line: text over semihosting, or a defmt frame with the `defmt` feature
/// (then stdout carries only defmt frames, as `defmt-print` requires).
macro_rules! say {
    ($($arg:tt)*) => {{
        #[cfg(feature = "defmt")]
        defmt::println!($($arg)*);
        #[cfg(not(feature = "defmt"))]
        cortex_m_semihosting::hprintln!($($arg)*);
    }};
}

#[cfg(all(feature = "text-log", not(feature = "defmt")))]
mod console {
    //! The library's event log (`log` crate) as text lines over semihosting.
    use log::{LevelFilter, Log, Metadata, Record};

    struct Semihosting;

    impl Log for Semihosting {
        fn enabled(&self, metadata: &Metadata<'_>) -> bool {
            metadata.level() <= log::max_level() && !metadata.target().starts_with("smoltcp")
        }

        fn log(&self, record: &Record<'_>) {
            if self.enabled(record.metadata()) {
                let ms = socklab_firmware::clock::millis();
                cortex_m_semihosting::hprintln!("{}.{:03} {}", ms / 1000, ms % 1000, record.args());
            }
        }

        fn flush(&self) {}
    }

    pub fn init() {
        static LOGGER: Semihosting = Semihosting;
        if log::set_logger(&LOGGER).is_ok() {
            log::set_max_level(LevelFilter::Info);
        }
    }
}

/// Print why the board cannot serve and leave QEMU with a failure status.
fn fail(what: &dyn core::fmt::Display) -> ! {
    panic!("socklab-mps2: {what}");
}

#[entry]
fn main() -> ! {
    #[cfg(all(feature = "text-log", not(feature = "defmt")))]
    console::init();
    let Some(mut cp) = cortex_m::Peripherals::take() else {
        fail(&"core peripherals already taken");
    };
    let clock = Clock::start(&mut cp.SYST, CORE_HZ);
    let Some(bus) = Mmio::take() else {
        fail(&"LAN9118 registers already taken");
    };
    let net = NetConfig::QEMU_USER;
    let mut nic = Lan9118::new(bus, net.mac).unwrap_or_else(|e| fail(&e));
    let services = ServiceConfig {
        // No RNG on these boards: unseeded quizzes differ by connection time instead.
        entropy: 0x50c4_1ab0_a385_0000 ^ u64::from(cortex_m::peripheral::SYST::get_current()),
        ..ServiceConfig::default()
    };
    socklab_firmware::serve(
        net,
        services,
        &mut nic,
        &clock,
        |ip, port| say!("listening on {}:{}", ip, port),
        |nic, wake_at| sleep(nic, &clock, wake_at),
    )
}

/// Sleep until a frame is waiting or `wake_at` has passed.
///
/// The check and the `wfi` run with interrupts disabled, so a frame that arrives in
/// between still ends the sleep: `wfi` wakes on a pending, enabled interrupt even under
/// PRIMASK. The NIC's line is unmasked only for that window, so its handler never runs;
/// SysTick's does, once the critical section ends, and wakes us every millisecond to
/// look at the clock.
fn sleep<B: Bus>(nic: &Lan9118<B>, clock: &Clock, wake_at: Option<Instant>) {
    loop {
        let woke = cortex_m::interrupt::free(|_| {
            nic.ack_interrupt();
            if nic.frames_waiting() > 0 || wake_at.is_some_and(|t| clock.now() >= t) {
                return true;
            }
            NVIC::unpend(NicIrq);
            regs::unmask_nic_irq();
            cortex_m::asm::wfi();
            NVIC::mask(NicIrq);
            NVIC::unpend(NicIrq);
            false
        });
        if woke {
            return;
        }
    }
}
