//! socklab firmware for the STM32 NUCLEO-F429ZI: the `socklab-embedded` services on the
//! board's Ethernet (LAN8742A PHY over RMII, driven by `stm32-eth`), logging with defmt
//! over RTT.
//!
//! ```text
//! cargo run --release -p socklab-nucleo --target thumbv7em-none-eabihf   # probe-rs
//! ```
//!
//! On the PC this binary is only a stub that says how to build the real one.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod compat;
#[cfg(target_os = "none")]
mod firmware;

#[cfg(not(target_os = "none"))]
fn main() {
    socklab_firmware::stub("socklab-nucleo", "thumbv7em-none-eabihf");
}
