//! The linker set-up of a firmware's `build.rs`: its board's memory map as `memory.x`,
//! cortex-m-rt's `link.x`, and defmt's `defmt.x` when the firmware logs with defmt.

use std::env;
use std::fs;
use std::path::PathBuf;

/// Link the package's binaries for a board whose memory map is `memory_x` (a `MEMORY`
/// block with `FLASH` and `RAM`), adding `defmt.x` if `defmt`. Does nothing unless the
/// target is bare metal, so the same package's PC build (a stub) links normally.
pub fn link(memory_x: &str, defmt: bool) {
    println!("cargo:rerun-if-changed=build.rs");
    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("none") {
        return;
    }
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out.join("memory.x"), memory_x).expect("write memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    if defmt {
        println!("cargo:rustc-link-arg-bins=-Tdefmt.x");
    }
}
