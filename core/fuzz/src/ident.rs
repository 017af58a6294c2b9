//! §4 ident: the store request carries exactly the valid name the peer sent, and the
//! greeting promises only what the frontend stored.

use crate::drive::Driver;
use arbitrary::Arbitrary;
use socklab_core::CloseReason;
use socklab_core::ident::{FULL, INVALID, Ident, QUESTION, valid_name};
use socklab_core::side::SideWork;

/// One step.
#[derive(Arbitrary, Debug)]
pub enum Op {
    /// Bytes arrive.
    Input(Vec<u8>),
    /// The frontend drains up to this many bytes.
    Drain(u16),
    /// The peer half-closes.
    Eof,
    /// The frontend takes the store request, if any.
    PollStore,
    /// The store finished, durably or not.
    Stored(bool),
}

/// A known client (with the name from the table) or an unknown one, and the steps.
#[derive(Arbitrary, Debug)]
pub struct Input {
    known: Option<String>,
    ops: Vec<Op>,
}

/// Run the steps and check the conversation.
pub fn session(input: Input) {
    if let Some(name) = &input.known {
        // A table name of any length (a hand-edited file): bounded, never a panic.
        let mut d = Driver::new(Ident::known(name), 0);
        d.drain_all();
        assert!(d.out.len() <= 256 + 32);
        assert!(d.out.starts_with(b"Hello again, "));
        assert_eq!(d.closed(), Some(CloseReason::Finished));
        return;
    }
    full(&input.ops);
    let mut d = Driver::new(Ident::unknown(), 0);
    let mut taken: Option<String> = None;
    let mut stored = None;
    for op in input.ops {
        match op {
            Op::Input(b) => d.input(&b),
            Op::Drain(n) => {
                d.drain(n as usize);
            }
            Op::Eof => d.eof(),
            Op::PollStore => {
                if let Some(name) = d.s.poll_request() {
                    assert!(taken.is_none(), "asked to store twice");
                    // Exactly the first line the peer sent, as the name rule reads it.
                    let (lines, _) = crate::lines(&d.consumed);
                    assert_eq!(valid_name(lines[0]), Some(name));
                    taken = Some(name.to_string());
                }
            }
            Op::Stored(ok) => {
                if taken.is_some() && stored.is_none() && d.s.request_in_flight() {
                    stored = Some(ok);
                }
                d.s.handle_reply(d.instant(), ok);
                d.sync();
            }
        }
        if d.closed().is_some() {
            assert!(!d.s.request_in_flight());
        }
    }
    d.drain_all();
    let (lines, rest) = crate::lines(&d.out);
    assert!(rest.is_empty() && lines[0] == QUESTION.as_bytes());
    assert!(lines.len() <= 2 && d.out.len() <= 256 + 32 + QUESTION.len() + 1);
    if let Some(&second) = lines.get(1) {
        if second == INVALID.as_bytes() {
            assert!(taken.is_none());
        } else {
            assert_eq!(stored, Some(true), "greeted without a durable store");
            let want = format!("Nice to meet you, {}!", taken.as_deref().unwrap_or(""));
            assert_eq!(second, want.as_bytes());
        }
    } else {
        assert!(stored != Some(true) || d.closed().is_none());
    }
}

/// The same steps against a table with no room: the session says so, asks nothing,
/// stores nothing, and nothing the peer sends changes that.
fn full(ops: &[Op]) {
    let mut d = Driver::new(Ident::full(), 0);
    for op in ops {
        match op {
            Op::Input(b) => d.input(b),
            Op::Drain(n) => {
                d.drain(*n as usize);
            }
            Op::Eof => d.eof(),
            Op::PollStore => assert_eq!(d.s.poll_request(), None),
            Op::Stored(ok) => d.s.handle_reply(d.instant(), *ok),
        }
    }
    d.drain_all();
    assert_eq!(d.out, format!("{FULL}\n").as_bytes());
    assert_eq!(d.closed(), Some(CloseReason::Finished));
}
