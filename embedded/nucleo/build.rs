//! Linker set-up for the NUCLEO-F429ZI firmware, only when building for bare metal.

use std::env;
use std::fs;
use std::path::PathBuf;

/// STM32F429ZI: 2 MiB flash; SRAM1+2+3 are 192 KiB contiguous and reachable by the
/// Ethernet DMA (the 64 KiB CCM is not, so it is left out).
const MEMORY_X: &str = "\
MEMORY
{
  FLASH : ORIGIN = 0x08000000, LENGTH = 2048K
  RAM   : ORIGIN = 0x20000000, LENGTH = 192K
}
";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("none") {
        return;
    }
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out.join("memory.x"), MEMORY_X).expect("write memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    println!("cargo:rustc-link-arg-bins=-Tdefmt.x");
}
