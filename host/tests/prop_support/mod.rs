//! What the host's property tests (`prop_*.rs`) share.

use proptest::test_runner::Config as ProptestConfig;

/// `PROPTEST_CASES` if set, else `default`: a test's own `cases` would otherwise win
/// over the variable, and `PROPTEST_CASES=500 cargo test` should mean what it says.
pub fn cases(default: u32) -> u32 {
    match std::env::var("PROPTEST_CASES") {
        Ok(_) => ProptestConfig::default().cases,
        Err(_) => default,
    }
}
