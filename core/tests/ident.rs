//! The §4 session in memory: any split of the input gives the same bytes out.

use proptest::prelude::*;
use socklab_core::ident::Ident;
use socklab_core::session::{CloseReason, Idle};
use socklab_core::side::SideWork;
use socklab_core::{Duration, Instant, Session};

/// Feed `input` in pieces of the given sizes, storing successfully; return all output.
fn run(input: &[u8], cuts: &[usize]) -> (Vec<u8>, Option<CloseReason>) {
    let mut s = Ident::unknown();
    let mut out = Vec::new();
    let mut buf = [0u8; 512];
    let mut rest = input;
    let mut i = 0;
    while !rest.is_empty() {
        let n = cuts
            .get(i)
            .copied()
            .unwrap_or(rest.len())
            .clamp(1, rest.len());
        i += 1;
        let took = s.handle_input(Instant::ZERO, &rest[..n]);
        assert_eq!(took, n, "ident always takes its input");
        rest = &rest[n..];
        if s.poll_request().is_some() {
            s.handle_reply(Instant::ZERO, true);
        }
    }
    loop {
        let n = s.poll_output(&mut buf);
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    (out, s.close_reason())
}

proptest! {
    #[test]
    fn split_invariant(
        name in "[ a-zA-Z\\t\u{e9}]{0,70}",
        cuts in proptest::collection::vec(1usize..8, 0..40),
    ) {
        let input = format!("{name}\n");
        let whole = run(input.as_bytes(), &[]);
        let split = run(input.as_bytes(), &cuts);
        prop_assert_eq!(whole, split);
    }
}

#[test]
fn transcript_bytes() {
    let (out, reason) = run(b"Ann\r\n", &[2, 1]);
    assert_eq!(out, b"What is your name?\nNice to meet you, Ann!\n");
    assert_eq!(reason, Some(CloseReason::Finished));
}

#[test]
fn a_silent_client_times_out() {
    let mut s = Idle::new(Ident::unknown(), Instant::ZERO, Duration::from_secs(300));
    let mut buf = [0u8; 64];
    let _ = s.poll_output(&mut buf);
    assert_eq!(s.poll_timeout(), Some(Instant::from_millis(300_000)));
    s.handle_timeout(Instant::from_millis(300_000));
    assert_eq!(s.close_reason(), Some(CloseReason::Timeout));
}
