//! §1 echo, raw and framed, behind the §0 idle-timeout wrapper, against a model of §1:
//! the output is the input up to the first command line (`quit`, or `stop` with
//! `--allow-stop`) — or, framed, up to the first command frame or oversized header —
//! upper-cased where configured; `stop` raises exactly one `StopServer` event. In raw
//! mode a command line's first bytes may have gone out before its LF (held bytes are
//! sent after 200 ms without input), so the output may end with a prefix of it.

use crate::drive::Driver;
use arbitrary::Arbitrary;
use socklab_core::echo::{Echo, EchoConfig};
use socklab_core::session::Idle;
use socklab_core::{CloseReason, Duration, Event, Instant, Session};

/// One step of the peer or the clock.
#[derive(Arbitrary, Debug)]
pub enum Op {
    /// Bytes arrive.
    Input(Vec<u8>),
    /// A whole command line or frame arrives (so the fuzzer need not guess one).
    Command(u8),
    /// The frontend drains up to this many bytes.
    Drain(u8),
    /// The peer half-closes.
    Eof,
    /// Time passes.
    Advance(u16),
    /// The timer fires now.
    Timeout,
}

/// A configuration and a sequence of steps.
#[derive(Arbitrary, Debug)]
pub struct Input {
    upper: bool,
    allow_stop: bool,
    framed: bool,
    max_frame: u8,
    idle_ms: u16,
    ops: Vec<Op>,
}

/// What §1 says comes back for `s`, whether a command ended it (`Some(is_stop)`), and
/// the command line as sent (LF excluded; empty in framed mode), of which a prefix may
/// have been sent after a pause.
fn model(s: &[u8], c: &EchoConfig) -> (Vec<u8>, Option<bool>, Vec<u8>) {
    let command = |w: &[u8]| w == b"quit" || (c.allow_stop && w == b"stop");
    let mut out = Vec::new();
    let mut pos = 0;
    let mut ended = None;
    if c.framed {
        while pos < s.len() {
            let Some(h) = s[pos..].first_chunk::<4>() else {
                out.extend_from_slice(&s[pos..]);
                break;
            };
            let len = u32::from_be_bytes(*h);
            if len > c.max_frame {
                break;
            }
            let end = pos + 4 + len as usize;
            if len == 4 && end <= s.len() && command(&s[pos + 4..end]) {
                ended = Some(&s[pos + 4..end] == b"stop");
                break;
            }
            out.extend_from_slice(h);
            let mut payload = s[pos + 4..end.min(s.len())].to_vec();
            if c.upper {
                payload.make_ascii_uppercase();
            }
            out.extend_from_slice(&payload);
            pos = end;
        }
        return (out, ended, Vec::new());
    }
    let mut command_line = Vec::new();
    while pos < s.len() {
        let Some(lf) = s[pos..].iter().position(|&b| b == b'\n') else {
            out.extend_from_slice(&s[pos..]);
            break;
        };
        let line = &s[pos..pos + lf];
        let word = line.strip_suffix(b"\r").unwrap_or(line);
        if command(word) {
            ended = Some(word == b"stop");
            command_line = line.to_vec();
            break;
        }
        out.extend_from_slice(&s[pos..=pos + lf]);
        pos += lf + 1;
    }
    if c.upper {
        out.make_ascii_uppercase();
        command_line.make_ascii_uppercase();
    }
    (out, ended, command_line)
}

/// Run the steps, then finish the conversation (offer what waits, EOF, drain) and
/// compare with the model.
pub fn session(input: Input) {
    let config = EchoConfig {
        upper: input.upper,
        allow_stop: input.allow_stop,
        framed: input.framed,
        max_frame: [0, 1, 3, 4, 5, 16, 65536][input.max_frame as usize % 7],
    };
    let idle = Duration::from_millis(u64::from(input.idle_ms) + 1);
    let echo = Idle::new(Echo::<16>::new(config), Instant::ZERO, idle);
    let mut d = Driver::new(echo, 0);
    let mut stops = 0;
    for op in input.ops {
        match op {
            Op::Input(b) => d.input(&b),
            Op::Command(i) => {
                let words: [&[u8]; 4] = [b"quit", b"stop", b"qui", b"quit\r"];
                let word = words[i as usize % 4];
                if config.framed {
                    let mut f = (word.len() as u32).to_be_bytes().to_vec();
                    f.extend_from_slice(word);
                    d.input(&f);
                } else {
                    d.input(&[word, b"\n"].concat());
                }
            }
            Op::Drain(n) => {
                d.drain(n as usize);
                d.offer();
            }
            Op::Eof => d.eof(),
            Op::Advance(ms) => d.advance(u64::from(ms)),
            Op::Timeout => d.timeout(),
        }
        while let Some(e) = d.s.poll_event() {
            assert_eq!(e, Event::StopServer);
            stops += 1;
        }
        // Echo never sends more than it was sent.
        assert!(d.out.len() <= d.consumed.len());
    }
    // Let everything offered through, then end the conversation.
    for _ in 0..100_000 {
        if d.pending.is_empty() || d.closed().is_some() {
            break;
        }
        d.drain(4096);
        d.offer();
    }
    d.eof();
    d.drain_all();
    while let Some(e) = d.s.poll_event() {
        assert_eq!(e, Event::StopServer);
        stops += 1;
    }
    let (want, ended, command_line) = model(&d.consumed, &config);
    match d.closed() {
        // The idle timeout cut the conversation short: what came back is a prefix.
        Some(CloseReason::Timeout) => assert!(want.starts_with(&d.out)),
        _ => {
            assert!(d.out.starts_with(&want), "echo differs from the §1 model");
            let flushed = &d.out[want.len()..];
            assert!(
                command_line.starts_with(flushed),
                "after the model's output only a prefix of the command line may follow"
            );
        }
    }
    let stopped = ended == Some(true) && d.closed() != Some(CloseReason::Timeout);
    if d.closed() != Some(CloseReason::Timeout) {
        assert_eq!(stops, usize::from(stopped));
    }
    assert!(d.closed().is_some());
}
