//! `--interactive`: a person answers; the client only relays and watches for the verdict.
//!
//! Typed lines go to the server from a thread of their own, so the server's `> Time is
//! up!` is shown the moment it arrives even while nobody is typing.

use crate::client::conn::{Trace, recv};
use crate::client::stdio::read_line;
use crate::os_error::describe;
use socklab_core::line::{LineReader, MAX_LINE, MAX_LINE_BUF};
use socklab_core::quiz::{Outcome, ServerLine, parse_server_line};
use std::io::{self, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;

/// Play until the server gives its verdict or closes.
pub(super) fn play(stream: TcpStream, trace: &Trace) -> io::Result<Outcome> {
    let sock = stream.try_clone()?;
    let up_trace = trace.clone();
    thread::spawn(move || relay_answers(sock, &up_trace));

    let mut lines = LineReader::<MAX_LINE_BUF>::new();
    let mut out = io::stdout().lock();
    let sock = &stream;
    let mut buf = [0u8; 4096];
    let mut line_open = false;
    loop {
        let n = recv(sock, &mut buf)?;
        if n == 0 {
            if line_open {
                out.write_all(b"\n")?;
            }
            out.flush()?;
            return Ok(Outcome::Disconnected);
        }
        trace.received(n);
        out.write_all(&buf[..n])?;
        out.flush()?;
        line_open = buf[n - 1] != b'\n';
        if let Some(outcome) = verdict(&mut lines, &buf[..n]) {
            return Ok(outcome);
        }
    }
}

/// The verdict among the server lines completed by `input`, if any.
fn verdict(lines: &mut LineReader<MAX_LINE_BUF>, mut input: &[u8]) -> Option<Outcome> {
    while !input.is_empty() {
        let step = lines.next_line(input);
        input = &input[step.consumed..];
        match step.line {
            None => break,
            Some(Ok(line)) => match parse_server_line(line) {
                ServerLine::Won(_) => return Some(Outcome::Won),
                ServerLine::Wrong => return Some(Outcome::Wrong),
                ServerLine::TimeUp => return Some(Outcome::TimeUp),
                _ => {}
            },
            // A server line over the §0 limit: not a quiz server we can follow.
            Some(Err(_)) => return Some(Outcome::Disconnected),
        }
    }
    None
}

/// stdin → socket, one answer per line; half-close at end of input so the server knows
/// no more answers are coming.
fn relay_answers(mut sock: TcpStream, trace: &Trace) {
    let mut stdin = io::stdin().lock();
    let mut line = Vec::new();
    loop {
        // §0 bounds an answer line; a longer one could only lose, so stop relaying.
        match read_line(&mut stdin, &mut line, MAX_LINE as u32) {
            Ok(true) => {
                line.push(b'\n');
                if let Err(e) = sock.write_all(&line) {
                    trace.log(format_args!("send failed: {}", describe(&e)));
                    return;
                }
                trace.sent(line.len());
            }
            Ok(false) => break,
            Err(e) => {
                eprintln!("socklab: {e}");
                break;
            }
        }
    }
    trace.log(format_args!("end of input: half-closing"));
    let _ = sock.shutdown(Shutdown::Write);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_found_across_reads() {
        let mut lines = LineReader::new();
        assert_eq!(
            verdict(
                &mut lines,
                b"> Hi! You need to solve 1 arithmetic problems:\n1. 1 + 1\n> It's wr"
            ),
            None
        );
        assert_eq!(verdict(&mut lines, b"ong!\n"), Some(Outcome::Wrong));
        let mut lines = LineReader::new();
        assert_eq!(
            verdict(&mut lines, b"> You won! All 3 answers are correct.\n"),
            Some(Outcome::Won)
        );
        let mut lines = LineReader::new();
        assert_eq!(
            verdict(&mut lines, b"> Time is up!\r\n"),
            Some(Outcome::TimeUp)
        );
    }
}
