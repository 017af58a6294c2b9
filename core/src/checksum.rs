//! The crc32 (IEEE 802.3, as zlib and `crc32fast` compute it) that §3 reports for every
//! upload.
//!
//! Two well-kept crates compute the same function at different costs: `crc32fast`
//! runs at GB/s on a PC (SIMD, or slice-by-16 with 16 KiB of tables), and `crc` with a
//! one-table (1 KiB) layout is a few hundred MB/s but fits a microcontroller's flash.
//! The `fast-crc` feature picks `crc32fast`; the host enables it, firmware does not.

/// A running crc32.
#[derive(Clone)]
pub struct Crc32(Inner);

#[cfg(feature = "fast-crc")]
type Inner = crc32fast::Hasher;

#[cfg(not(feature = "fast-crc"))]
type Inner = crc::Digest<'static, u32, crc::Table<1>>;

#[cfg(not(feature = "fast-crc"))]
static CRC32: crc::Crc<u32, crc::Table<1>> =
    crc::Crc::<u32, crc::Table<1>>::new(&crc::CRC_32_ISO_HDLC);

impl Crc32 {
    /// The crc of no bytes yet.
    pub fn new() -> Self {
        #[cfg(feature = "fast-crc")]
        return Crc32(crc32fast::Hasher::new());
        #[cfg(not(feature = "fast-crc"))]
        return Crc32(CRC32.digest());
    }

    /// Add `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The crc of everything added.
    pub fn finalize(self) -> u32 {
        self.0.finalize()
    }
}

impl Default for Crc32 {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for Crc32 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Crc32 { .. }")
    }
}

#[cfg(test)]
mod tests {
    use super::Crc32;

    #[test]
    fn check_value_and_streaming() {
        // The catalogue check value of CRC-32/ISO-HDLC.
        let mut c = Crc32::new();
        c.update(b"123456789");
        assert_eq!(c.finalize(), 0xCBF4_3926);
        let data: [u8; 1000] = core::array::from_fn(|i| (i * 7 + 3) as u8);
        let mut c = Crc32::new();
        for piece in data.chunks(77) {
            c.update(piece);
        }
        assert_eq!(c.finalize(), crc32fast::hash(&data));
    }
}
