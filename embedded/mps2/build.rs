//! Linker set-up for the firmware: memory.x and cortex-m-rt's link.x, only when
//! building for bare metal, so the PC build of this package (a stub) links normally.

use std::env;
use std::fs;
use std::path::PathBuf;

/// The MPS2 FPGA images have 4 MiB of SSRAM1 at 0 (code) and 4 MiB of SSRAM2/3 at
/// 0x2000_0000 (data), and QEMU models both; 256K + 128K are plenty and keep the stack
/// well clear of `.bss` (cortex-m-rt has no guard): with files the firmware needs
/// 89 KiB flash, 46 KiB static RAM and a 19 KiB peak stack (BENCHMARKS.md), just
/// over the 64 KiB first planned.
const MEMORY_X: &str = "\
MEMORY
{
  FLASH : ORIGIN = 0x00000000, LENGTH = 256K
  RAM   : ORIGIN = 0x20000000, LENGTH = 128K
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
    if env::var_os("CARGO_FEATURE_DEFMT").is_some() {
        println!("cargo:rustc-link-arg-bins=-Tdefmt.x");
    }
}
