//! Interactive mode: a person types lines, the server's answers are printed as they come.
//!
//! Two reader threads (stdin and socket) feed one channel, and the calling thread acts
//! on whichever event comes first. That way the session notices the server closing
//! while the person is still thinking, without any platform-specific polling of the
//! terminal.

use crate::client::conn::Trace;
use crate::client::stdio::{context, read_line};
use crate::framing::FramedExt;
use crate::os_error::describe;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// How long to wait, after `exit`, for what the server still owes us.
pub const DRAIN: Duration = Duration::from_secs(2);

/// Longest line a person may type in raw mode (the frame limit applies with --framed).
const MAX_TYPED_LINE: u32 = 1 << 20;

/// What to do with one typed line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineAction<'a> {
    /// Send this content (without LF).
    Send(&'a [u8]),
    /// `exit` or `STOP`: end the session, sending nothing.
    Quit,
}

/// Decide what a typed line (with or without its LF) means. Only a line that is
/// exactly `exit` or `STOP` (a terminal's CR before the LF ignored) ends the session;
/// `Exit`, ` exit` or `stop` are sent like any other text, as the server would treat
/// its own command words.
pub fn classify_line(line: &[u8]) -> LineAction<'_> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let word = line.strip_suffix(b"\r").unwrap_or(line);
    match word {
        b"exit" | b"STOP" => LineAction::Quit,
        _ => LineAction::Send(line),
    }
}

enum Event {
    Typed(Vec<u8>),
    InputEnded(io::Result<()>),
    Received(Vec<u8>),
    ServerClosed(io::Result<()>),
}

/// Run the interactive session. `framing` is `Some(max_frame)` with `--framed`.
pub(super) fn run(stream: TcpStream, framing: Option<u32>, trace: &Trace) -> io::Result<()> {
    // A person waits for each line's echo: send it at once rather than let Nagle hold it.
    let _ = stream.set_nodelay(true);
    let (tx, rx) = mpsc::channel();
    spawn_stdin(tx.clone(), framing.unwrap_or(MAX_TYPED_LINE));
    spawn_socket(&stream, framing, tx)?;
    let mut sock = &stream;
    let mut out = io::stdout().lock();
    let mut draining: Option<Instant> = None;
    loop {
        let event = match draining {
            None => rx.recv().ok(),
            Some(deadline) => rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .ok(),
        };
        let Some(event) = event else {
            // Drain time is over (or every sender is gone).
            trace.disconnected("closed by us");
            return Ok(());
        };
        match event {
            Event::Typed(_) | Event::InputEnded(_) if draining.is_some() => {}
            Event::Typed(line) => match classify_line(&line) {
                LineAction::Quit => draining = Some(begin_drain(&stream, trace)),
                LineAction::Send(content) => {
                    let sent = match framing {
                        Some(_) => sock.send_frame(content).map(|()| content.len() + 4),
                        None => {
                            let mut msg = content.to_vec();
                            msg.push(b'\n');
                            sock.write_all(&msg).map(|()| msg.len())
                        }
                    };
                    match sent {
                        Ok(n) => trace.sent(n),
                        // The server is gone; its reader reports how.
                        Err(e) => trace.log(format_args!("send failed: {}", describe(&e))),
                    }
                }
            },
            Event::InputEnded(result) => {
                result?;
                draining = Some(begin_drain(&stream, trace));
            }
            Event::Received(bytes) => {
                out.write_all(&bytes)
                    .and_then(|()| out.flush())
                    .map_err(|e| context("cannot write standard output", &e))?;
            }
            Event::ServerClosed(result) => {
                result?;
                if draining.is_none() {
                    eprintln!("socklab: the server closed the connection");
                }
                trace.disconnected("closed by server");
                return Ok(());
            }
        }
    }
}

/// Half-close and give the server [`DRAIN`] to send the rest and close.
fn begin_drain(stream: &TcpStream, trace: &Trace) -> Instant {
    trace.log(format_args!("session ended by the user: half-closing"));
    let _ = stream.shutdown(Shutdown::Write);
    Instant::now() + DRAIN
}

fn spawn_stdin(tx: mpsc::Sender<Event>, max: u32) {
    thread::spawn(move || {
        let mut stdin = io::stdin().lock();
        let mut line = Vec::new();
        let end = loop {
            match read_line(&mut stdin, &mut line, max) {
                Ok(true) => {
                    if tx.send(Event::Typed(line.clone())).is_err() {
                        return;
                    }
                }
                Ok(false) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        let _ = tx.send(Event::InputEnded(end));
    });
}

fn spawn_socket(
    stream: &TcpStream,
    framing: Option<u32>,
    tx: mpsc::Sender<Event>,
) -> io::Result<()> {
    let mut sock = stream
        .try_clone()
        .map_err(|e| context("cannot clone the socket", &e))?;
    thread::spawn(move || {
        let end = loop {
            let got = match framing {
                None => {
                    let mut buf = vec![0; 16 * 1024];
                    match sock.read(&mut buf) {
                        Ok(0) => Ok(None),
                        Ok(n) => {
                            buf.truncate(n);
                            Ok(Some(buf))
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => Err(e),
                    }
                }
                Some(max) => sock.try_recv_frame(max).map(|frame| {
                    frame.map(|mut f| {
                        f.push(b'\n');
                        f
                    })
                }),
            };
            match got {
                Ok(Some(bytes)) => {
                    if tx.send(Event::Received(bytes)).is_err() {
                        return;
                    }
                }
                Ok(None) => break Ok(()),
                Err(e) => break Err(context("cannot receive", &e)),
            }
        };
        let _ = tx.send(Event::ServerClosed(end));
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exact_exit_words_quit() {
        assert_eq!(classify_line(b"exit\n"), LineAction::Quit);
        assert_eq!(classify_line(b"exit\r\n"), LineAction::Quit);
        assert_eq!(classify_line(b"STOP"), LineAction::Quit);
        assert_eq!(classify_line(b"hello\n"), LineAction::Send(b"hello"));
        for sent in [&b"stop"[..], b"Exit", b" exit", b"exit ", b"STOP!", b""] {
            assert_eq!(classify_line(sent), LineAction::Send(sent), "{sent:?}");
        }
    }
}
