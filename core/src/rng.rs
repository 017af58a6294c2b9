//! Randomness as services consume it.
//!
//! Core owns the trait so it stays free of any RNG crate: the host plugs `rand` in, a
//! board plugs its hardware RNG in. [`SplitMix64`] is the portable seeded generator
//! behind `--seed`: its output is fixed by its definition, so `--seed 7` gives the same
//! quiz on every run, every build and every target.

/// A source of random 64-bit words.
pub trait Rng {
    /// The next uniformly distributed word.
    fn next_u64(&mut self) -> u64;

    /// A uniform value in `0..n` (`n > 0`), without modulo bias (rejection sampling).
    fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        // Reject the top partial bucket so every residue is equally likely.
        let zone = u64::MAX - (u64::MAX - n + 1) % n;
        loop {
            let x = self.next_u64();
            if x <= zone {
                return x % n;
            }
        }
    }

    /// A uniform value in `lo..=hi` (`lo <= hi`).
    fn in_range(&mut self, lo: i64, hi: i64) -> i64 {
        debug_assert!(lo <= hi);
        let span = hi.abs_diff(lo);
        let off = if span == u64::MAX {
            self.next_u64()
        } else {
            self.below(span + 1)
        };
        lo.wrapping_add_unsigned(off)
    }
}

impl<R: Rng + ?Sized> Rng for &mut R {
    fn next_u64(&mut self) -> u64 {
        (**self).next_u64()
    }
}

/// Steele, Lea and Flood's SplitMix64: tiny state, full period, good enough for quiz
/// problems (not for secrets — tokens use the OS RNG).
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose whole output is fixed by `seed`.
    pub const fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }
}

impl Rng for SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_reference_values() {
        // First outputs for seed 0 from the reference implementation.
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn ranges_stay_in_bounds() {
        let mut r = SplitMix64::new(42);
        for _ in 0..10_000 {
            let v = r.in_range(-5, 17);
            assert!((-5..=17).contains(&v));
        }
        assert_eq!(r.in_range(3, 3), 3);
        let _ = r.in_range(i64::MIN, i64::MAX);
    }
}
