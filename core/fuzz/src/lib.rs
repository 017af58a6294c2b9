//! The checks behind socklab-core's cargo-fuzz targets.
//!
//! Every target in `fuzz_targets/` is a three-line body calling one function here, so
//! the harness code is ordinary Rust that `cargo check` and clippy see, and two targets
//! never disagree about how a session is driven. Each function panics when an invariant
//! breaks; libFuzzer turns the panic into a crash with a reproducer file.
//!
//! * [`parsers`] — the borrowing parsers: agreement with a reference model or a
//!   render → parse round trip, besides not panicking;
//! * [`drive`] — a generic [`Session`](socklab_core::Session) driver with the checks
//!   every session must pass (bounded output, a closed session stays closed);
//! * one module per service state machine, each driven by a `#[derive(Arbitrary)]`
//!   sequence of operations and checked against a small model of its protocol section.
#![forbid(unsafe_code)]

pub mod auth;
pub mod chat;
pub mod drive;
pub mod echo;
pub mod files;
pub mod files_pair;
pub mod http;
pub mod ident;
pub mod parsers;
pub mod quiz;

/// Lines of `bytes` split at LF (the LF dropped, a CR before it too), and what follows
/// the last LF. The harnesses' own reading of a stream, kept separate from the core's
/// line reader on purpose.
pub fn lines(bytes: &[u8]) -> (Vec<&[u8]>, &[u8]) {
    let mut out = Vec::new();
    let mut rest = bytes;
    while let Some(i) = rest.iter().position(|&b| b == b'\n') {
        let line = &rest[..i];
        out.push(line.strip_suffix(b"\r").unwrap_or(line));
        rest = &rest[i + 1..];
    }
    (out, rest)
}

/// The last complete line of `stream` (which must end with LF), CR stripped.
pub fn last_line(stream: &[u8]) -> &[u8] {
    let body = stream
        .strip_suffix(b"\n")
        .expect("stream ends at a line end");
    let start = body.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let line = &body[start..];
    line.strip_suffix(b"\r").unwrap_or(line)
}
