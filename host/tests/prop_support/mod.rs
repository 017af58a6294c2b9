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

/// The next whole line `s` writes, polled as the event loop polls after a wake-up
/// (slow requests run on the service's pool), with what came after it left in `out`.
/// Fails after `wait`, or at once if `stay_open` and the session closes with no line
/// to give.
pub fn next_line(
    s: &mut (dyn socklab_core::session::Session + Send),
    out: &mut Vec<u8>,
    wait: std::time::Duration,
    stay_open: bool,
) -> Result<String, proptest::test_runner::TestCaseError> {
    use proptest::prop_assert;
    let deadline = std::time::Instant::now() + wait;
    loop {
        if let Some(i) = out.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = out.drain(..=i).collect();
            return String::from_utf8(line).map_err(|e| {
                proptest::test_runner::TestCaseError::fail(format!("not UTF-8: {e}"))
            });
        }
        let mut buf = [0u8; 4096];
        let n = s.poll_output(&mut buf);
        out.extend_from_slice(&buf[..n]);
        if n == 0 {
            prop_assert!(!stay_open || s.close_reason().is_none(), "closed");
            prop_assert!(
                std::time::Instant::now() < deadline,
                "no reply within {:?}",
                wait
            );
            std::thread::sleep(std::time::Duration::from_micros(100));
        }
    }
}
