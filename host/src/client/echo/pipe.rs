//! Pipe mode: stdin → socket and socket → stdout at the same time (see the parent docs).
//!
//! The upload runs on its own thread with a clone of the socket; the download runs on
//! the calling thread. Two blocking threads are the simplest way to keep both
//! directions flowing: the echo server stops reading when its output queue is full, so
//! a client that wrote everything before reading anything would deadlock on large
//! input.

use crate::client::conn::Trace;
use crate::client::stdio::{context, read_line};
use crate::framing::FramedExt;
use std::io::{self, BufRead, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Condvar, Mutex, PoisonError, mpsc};
use std::thread;
use std::time::Duration;

/// Bytes moved per read in raw mode.
const CHUNK: usize = 64 * 1024;

/// How long the end of the session waits for a send under way to be logged: a send
/// blocked on a peer that closed without reading must not hold the exit up for good.
const SEND_LOG_WAIT: Duration = Duration::from_secs(2);

/// Marks the upload thread's send-and-log steps. The download side may see the server
/// close between a write and its `sent N bytes` line (an echo server that answers and
/// closes at once), and ending the process there lost that line, or cut it in half.
#[derive(Default)]
struct Sending {
    busy: Mutex<bool>,
    done: Condvar,
}

impl Sending {
    /// Run `send` (a write and its trace line) as one step the end waits for.
    fn step<T>(&self, send: impl FnOnce() -> T) -> T {
        *self.busy.lock().unwrap_or_else(PoisonError::into_inner) = true;
        let result = send();
        *self.busy.lock().unwrap_or_else(PoisonError::into_inner) = false;
        self.done.notify_all();
        result
    }

    /// Wait (at most [`SEND_LOG_WAIT`]) for a step under way to finish.
    fn wait_idle(&self) {
        let busy = self.busy.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = self
            .done
            .wait_timeout_while(busy, SEND_LOG_WAIT, |busy| *busy)
            .unwrap_or_else(PoisonError::into_inner);
    }
}

/// Run pipe mode until the server closes. `framing` is `Some(max_frame)` with `--framed`.
pub(super) fn run(stream: TcpStream, framing: Option<u32>, trace: &Trace) -> io::Result<()> {
    let sending = Arc::new(Sending::default());
    let upload = spawn_upload(&stream, framing, trace, sending.clone())?;
    let down = download(&stream, framing, trace);
    // A send whose write went out before the server closed still gets its log line.
    sending.wait_idle();
    // The upload outcome matters only if it failed for a reason of its own (a bad stdin,
    // a line over the frame limit); if the server went away first, that is the download's
    // story. An upload still blocked on stdin is simply abandoned when we exit.
    let up = upload.try_recv().unwrap_or(Ok(()));
    match (down, up) {
        (Err(e), _) | (Ok(()), Err(e)) => {
            trace.disconnected("error");
            Err(e)
        }
        (Ok(()), Ok(())) => {
            trace.disconnected("closed by server");
            Ok(())
        }
    }
}

/// Start the stdin → socket thread. Its result arrives on the returned channel; a
/// failure also shuts the socket down so that the download ends.
fn spawn_upload(
    stream: &TcpStream,
    framing: Option<u32>,
    trace: &Trace,
    sending: Arc<Sending>,
) -> io::Result<mpsc::Receiver<io::Result<()>>> {
    let mut sock = stream
        .try_clone()
        .map_err(|e| context("cannot clone the socket", &e))?;
    let trace = trace.clone();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let stdin = io::stdin().lock();
        let result = match framing {
            None => upload_raw(stdin, &mut sock, &trace, &sending),
            Some(max) => upload_framed(stdin, &mut sock, max, &trace, &sending),
        };
        let failed = result.is_err();
        // Report before shutting down, so the download sees the reason once it ends.
        let _ = tx.send(result);
        if failed {
            let _ = sock.shutdown(Shutdown::Both);
        } else {
            sending.step(|| {
                trace.log(format_args!("end of input: half-closing"));
                let _ = sock.shutdown(Shutdown::Write);
            });
        }
    });
    Ok(rx)
}

fn upload_raw(
    mut input: impl Read,
    sock: &mut TcpStream,
    trace: &Trace,
    sending: &Sending,
) -> io::Result<()> {
    let mut buf = vec![0; CHUNK];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(context("cannot read standard input", &e)),
        };
        sending.step(|| {
            sock.write_all(&buf[..n])
                .map_err(|e| context("cannot send", &e))?;
            trace.sent(n);
            Ok::<(), io::Error>(())
        })?;
    }
}

fn upload_framed(
    mut input: impl BufRead,
    sock: &mut TcpStream,
    max: u32,
    trace: &Trace,
    sending: &Sending,
) -> io::Result<()> {
    let mut line = Vec::new();
    while read_line(&mut input, &mut line, max)? {
        sending.step(|| {
            sock.send_frame(&line)
                .map_err(|e| context("cannot send", &e))?;
            trace.sent(line.len() + 4);
            Ok::<(), io::Error>(())
        })?;
    }
    Ok(())
}

/// Socket → stdout until the server closes.
fn download(stream: &TcpStream, framing: Option<u32>, trace: &Trace) -> io::Result<()> {
    let mut sock = stream;
    let mut out = io::stdout().lock();
    let write_err = |e: io::Error| context("cannot write standard output", &e);
    match framing {
        None => {
            let mut buf = vec![0; CHUNK];
            loop {
                let n = match sock.read(&mut buf) {
                    Ok(0) => return Ok(()),
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(context("cannot receive", &e)),
                };
                trace.received(n);
                out.write_all(&buf[..n]).map_err(write_err)?;
                out.flush().map_err(write_err)?;
            }
        }
        Some(max) => {
            while let Some(payload) = sock
                .try_recv_frame(max)
                .map_err(|e| context("cannot receive a frame", &e))?
            {
                trace.received(payload.len() + 4);
                out.write_all(&payload).map_err(write_err)?;
                out.write_all(b"\n").map_err(write_err)?;
                out.flush().map_err(write_err)?;
            }
            Ok(())
        }
    }
}
