//! Linker set-up for the NUCLEO-F429ZI firmware (`socklab_firmware::link`), which
//! always logs with defmt; only when building for bare metal.

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
    socklab_firmware::link::link(MEMORY_X, true);
}
