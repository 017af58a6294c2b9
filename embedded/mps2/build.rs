//! Linker set-up for the firmware (`socklab_firmware::link`), only when building for
//! bare metal, so the PC build of this package (a stub) links normally.

/// The MPS2 FPGA images have 4 MiB of SSRAM1 at 0 (code) and 4 MiB of SSRAM2/3 at
/// 0x2000_0000 (data), and QEMU models both. 256K + 128K hold the firmware with room to
/// spare and keep the stack well clear of `.bss` (cortex-m-rt has no guard); the sizes
/// it needs are in BENCHMARKS.md.
const MEMORY_X: &str = "\
MEMORY
{
  FLASH : ORIGIN = 0x00000000, LENGTH = 256K
  RAM   : ORIGIN = 0x20000000, LENGTH = 128K
}
";

fn main() {
    let defmt = std::env::var_os("CARGO_FEATURE_DEFMT").is_some();
    socklab_firmware::link::link(MEMORY_X, defmt);
}
