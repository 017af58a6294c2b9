//! Inputs the cargo-fuzz targets (`core/fuzz`, see FUZZING.md) found to break an
//! invariant, kept in the normal test suite so the bugs stay fixed without nightly.
//!
//! Each test keeps the reproducer byte for byte (also committed as a `seed-regress-*`
//! corpus file, so every fuzz run replays it) and replays what it decodes to —
//! `cargo +nightly fuzz fmt <target> <file>` prints that — through the public API.

use socklab_core::echo::{Echo, EchoConfig};
use socklab_core::session::Idle;
use socklab_core::{CloseReason, Duration, Instant, Session};

/// `echo_session` reproducer, byte for byte. It decodes to: upper, allow-stop, raw mode,
/// idle timeout 3444 ms; `Advance(10061)`, `Timeout`; then the harness sends EOF.
const IDLE_THEN_EOF: &[u8] = &[
    0xf9, 0xf9, 0x26, 0x26, 0x73, 0x0d, 0xf9, 0x26, 0xd8, 0xda, 0xc8, 0x4d, 0x27, 0x4d, 0xcd, 0x4d,
    0x4d, 0xd8, 0xd8,
];

/// The idle wrapper closed the session as `Timeout`, then an EOF reached the inner echo
/// session, which closed as `PeerClosed` — and `close_reason()` changed, though a
/// reason is set once and kept (the log would have said "closed by peer" for a timeout).
#[test]
fn idle_timeout_stays_the_close_reason_after_eof() {
    assert_eq!(IDLE_THEN_EOF.len(), 19);
    let config = EchoConfig {
        upper: true,
        allow_stop: true,
        ..EchoConfig::default()
    };
    let idle = Duration::from_millis(3444);
    let mut s = Idle::new(Echo::<16>::new(config), Instant::ZERO, idle);
    let now = Instant::from_millis(10061);
    s.handle_timeout(now);
    assert_eq!(s.close_reason(), Some(CloseReason::Timeout));
    s.handle_eof(now);
    assert_eq!(s.close_reason(), Some(CloseReason::Timeout));
    assert_eq!(s.handle_input(now, b"late"), 4);
    assert!(!s.wants_output());
}
