//! What the socklab firmware crates (`socklab-mps2`, `socklab-nucleo`) share, so each
//! board crate holds only what differs: its Ethernet driver, clocks, console and how it
//! sleeps.
//!
//! On the board ([`clock`], [`serve`]): the SysTick millisecond clock, the stack's
//! resources in `static`s, the ready lines and the main loop. On the build machine
//! ([`link`], [`stub`]): the linker set-up every firmware's `build.rs` runs, and the
//! message its PC build prints instead of running.
#![cfg_attr(target_os = "none", no_std)]
#![warn(missing_docs)]

#[cfg(target_os = "none")]
pub mod clock;
#[cfg(target_os = "none")]
mod start;
#[cfg(target_os = "none")]
pub use start::serve;

#[cfg(not(target_os = "none"))]
pub mod link;

/// The `main` of a firmware package built for the PC, where it cannot run: say how to
/// build the real one, and exit with status 2.
#[cfg(not(target_os = "none"))]
pub fn stub(package: &str, target: &str) -> ! {
    eprintln!(
        "{package} is firmware; build it with\n  \
         cargo build --release -p {package} --target {target}"
    );
    std::process::exit(2);
}
