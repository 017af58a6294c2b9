//! The board: clocks, RMII pins, the Ethernet DMA, and sleeping between SysTick's
//! interrupts. Start-up and the main loop are `socklab_firmware::serve`.

use crate::compat::Compat;
use cortex_m_rt::entry;
use defmt_rtt as _;
use panic_probe as _;
use smoltcp::wire::{EthernetAddress, Ipv4Address, Ipv4Cidr};
use socklab_embedded::{NetConfig, ServiceConfig};
use socklab_firmware::clock::Clock;
use static_cell::ConstStaticCell;
use stm32_eth::dma::{RxRingEntry, TxRingEntry};
use stm32_eth::hal::prelude::*;
use stm32_eth::hal::signature::Uid;
use stm32_eth::{EthPins, Parts, PartsIn};

/// The board's address: 192.168.69.1/24, a PC on the same cable or switch at
/// 192.168.69.100 (the TAP build's defaults, so the same commands work).
const IP: Ipv4Cidr = Ipv4Cidr::new(Ipv4Address::new(192, 168, 69, 1), 24);
const GATEWAY: Ipv4Address = Ipv4Address::new(192, 168, 69, 100);

static RX_RING: ConstStaticCell<[RxRingEntry; 4]> =
    ConstStaticCell::new([const { RxRingEntry::new() }; 4]);
static TX_RING: ConstStaticCell<[TxRingEntry; 4]> =
    ConstStaticCell::new([const { TxRingEntry::new() }; 4]);
/// A locally administered MAC made from the chip's unique ID, so two boards on one
/// network differ.
fn mac() -> EthernetAddress {
    let uid = Uid::get();
    let lot = uid.lot_num().as_bytes();
    let [x0, _] = uid.x().to_le_bytes();
    let [y0, _] = uid.y().to_le_bytes();
    EthernetAddress([
        0x02,
        0x53,
        x0,
        y0,
        uid.waf_num(),
        lot.last().copied().unwrap_or(0),
    ])
}

#[entry]
fn main() -> ! {
    let (Some(p), Some(mut cp)) = (
        stm32_eth::stm32::Peripherals::take(),
        cortex_m::Peripherals::take(),
    ) else {
        panic!("peripherals already taken");
    };
    // The ST-LINK feeds an 8 MHz clock (HSE bypass); the MAC needs HCLK >= 25 MHz.
    let clocks = p
        .RCC
        .constrain()
        .cfgr
        .use_hse(8.MHz())
        .bypass_hse_oscillator()
        .sysclk(96.MHz())
        .hclk(96.MHz())
        .freeze();
    let clock = Clock::start(&mut cp.SYST, clocks.hclk().raw());

    let (gpioa, gpiob, gpioc, gpiog) = (
        p.GPIOA.split(),
        p.GPIOB.split(),
        p.GPIOC.split(),
        p.GPIOG.split(),
    );
    // NUCLEO-144 RMII wiring (UM1974): TX_EN and TXD0 on PG11/PG13.
    let pins = EthPins {
        ref_clk: gpioa.pa1.into_floating_input(),
        crs: gpioa.pa7.into_floating_input(),
        tx_en: gpiog.pg11.into_floating_input(),
        tx_d0: gpiog.pg13.into_floating_input(),
        tx_d1: gpiob.pb13.into_floating_input(),
        rx_d0: gpioc.pc4.into_floating_input(),
        rx_d1: gpioc.pc5.into_floating_input(),
    };
    let parts = PartsIn {
        mac: p.ETHERNET_MAC,
        mmc: p.ETHERNET_MMC,
        dma: p.ETHERNET_DMA,
    };
    let Ok(Parts { mut dma, .. }) =
        stm32_eth::new(parts, RX_RING.take(), TX_RING.take(), clocks, pins)
    else {
        panic!("Ethernet needs HCLK >= 25 MHz");
    };
    let mut device = Compat(&mut dma);

    let net = NetConfig {
        mac: mac(),
        ip: IP,
        gateway: Some(GATEWAY),
    };
    let services = ServiceConfig {
        entropy: u64::from(cortex_m::peripheral::SYST::get_current()) ^ 0x4e55_c1e0,
        ..ServiceConfig::default()
    };
    socklab_firmware::serve(
        net,
        services,
        &mut device,
        &clock,
        |ip, port| defmt::println!("listening on {}:{}", ip, port),
        // Without the ETH interrupt wired, SysTick's 1 kHz wakes the loop: frames wait
        // at most a millisecond, and an idle board still sleeps between ticks.
        |_, wake_at| {
            if wake_at.is_none_or(|t| t > clock.now()) {
                cortex_m::asm::wfi();
            }
        },
    )
}
