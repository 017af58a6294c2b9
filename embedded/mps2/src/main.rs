//! socklab firmware for the ARM MPS2 boards: the `socklab-embedded` services on the
//! board's LAN9118, at QEMU's user-network address 10.0.2.15/24 via 10.0.2.2.
//!
//! ```text
//! cargo build --release -p socklab-mps2 --target thumbv7m-none-eabi
//! qemu-system-arm -machine mps2-an385 -nographic -monitor none \
//!   -semihosting-config enable=on,target=native \
//!   -kernel target/thumbv7m-none-eabi/release/socklab-mps2 \
//!   -nic user,hostfwd=tcp:127.0.0.1:31337-:31337
//! ```
//!
//! On the PC this binary is only a stub that says how to build the real one.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod firmware;
#[cfg(target_os = "none")]
mod regs;

#[cfg(not(target_os = "none"))]
fn main() {
    socklab_firmware::stub("socklab-mps2", "thumbv7m-none-eabi");
}
