//! The board: SysTick clock, semihosting console, and the main loop that polls the
//! stack and sleeps in `wfi` until a frame arrives or the next timer is due.

use crate::regs::{self, Mmio, NicIrq};
use core::sync::atomic::{AtomicU32, Ordering};
use cortex_m::peripheral::NVIC;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::{entry, exception};
use panic_semihosting as _;
use socklab_embedded::{
    Buffers, Instant, NetConfig, ServiceConfig, Sessions, Sockets, Stack, StackResources,
};
use socklab_mps2::CORE_HZ;
use socklab_mps2::lan9118::{Bus, Lan9118};
use static_cell::{ConstStaticCell, StaticCell};

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

/// Milliseconds since boot, counted by the SysTick handler.
static TICKS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    TICKS.fetch_add(1, Ordering::Relaxed);
}

/// Every socket buffer, in `.bss`: counted by the linker as static RAM, zero-filled at
/// reset, and never built on the stack (`StaticCell::init_with` built it there first: 16
/// KB of peak stack).
static BUFFERS: ConstStaticCell<Buffers> = ConstStaticCell::new(Buffers::new());
/// Room for the live sessions, in `.bss`. A `StaticCell`, not a `ConstStaticCell`: the
/// files sessions hold handles on the disk's `RefCell`, so `Sessions` is not `Send`,
/// which only the latter requires. Initialising it writes four lengths (the rest is
/// `MaybeUninit`), so nothing big passes through the stack; as a local of `main` it
/// cost 12 KB of stack.
static SESSIONS: StaticCell<Sessions<'static>> = StaticCell::new();
/// The socket slots: not all zero bytes, so in `.data` (their image costs flash too).
static SOCKETS: ConstStaticCell<Sockets<'static>> = ConstStaticCell::new(Sockets::new());

/// SysTick milliseconds widened to 64 bits (the u32 counter wraps after 49 days).
struct Clock {
    last: u32,
    high: u64,
}

impl Clock {
    fn now(&mut self) -> Instant {
        let t = TICKS.load(Ordering::Relaxed);
        if t < self.last {
            self.high += 1 << 32;
        }
        self.last = t;
        Instant::from_millis(self.high + u64::from(t))
    }
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
                let ms = super::TICKS.load(core::sync::atomic::Ordering::Relaxed);
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
    cp.SYST.set_clock_source(SystClkSource::Core);
    cp.SYST.set_reload(CORE_HZ / 1000 - 1);
    cp.SYST.clear_current();
    cp.SYST.enable_interrupt();
    cp.SYST.enable_counter();

    let Some(bus) = Mmio::take() else {
        fail(&"LAN9118 registers already taken");
    };
    let net = NetConfig::QEMU_USER;
    let mut nic = Lan9118::new(bus, net.mac).unwrap_or_else(|e| fail(&e));
    let mut clock = Clock { last: 0, high: 0 };
    let services = ServiceConfig {
        // No RNG on these boards: unseeded quizzes differ by connection time instead.
        entropy: 0x50c4_1ab0_a385_0000 ^ u64::from(cortex_m::peripheral::SYST::get_current()),
        ..ServiceConfig::default()
    };
    let storage = StackResources {
        sockets: SOCKETS.take(),
        buffers: BUFFERS.take(),
        sessions: SESSIONS.init_with(Sessions::new),
    };
    let mut stack = Stack::new(net, services, &mut nic, storage, clock.now());
    for s in stack.services() {
        say!("listening on {}:{}", net.ip.address(), s.info.port);
    }
    loop {
        let now = clock.now();
        stack.poll(now, &mut nic);
        let wake_at = stack.poll_delay(now).map(|d| now + d);
        sleep(&nic, &mut clock, wake_at);
    }
}

/// Sleep until a frame is waiting or `wake_at` has passed.
///
/// The check and the `wfi` run with interrupts disabled, so a frame that arrives in
/// between still ends the sleep: `wfi` wakes on a pending, enabled interrupt even under
/// PRIMASK. The NIC's line is unmasked only for that window, so its handler never runs;
/// SysTick's does, once the critical section ends, and wakes us every millisecond to
/// look at the clock.
fn sleep<B: Bus>(nic: &Lan9118<B>, clock: &mut Clock, wake_at: Option<Instant>) {
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
