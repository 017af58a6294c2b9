//! The client side of §3 on a blocking socket: send command lines, read server lines
//! (bounded), with the `-v` trace. Parsing is the core's, so client and server share
//! one definition of every line.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use socklab_core::files::{Command, ServerLine, parse_entry, parse_reply};

use crate::client::conn::Trace;
use crate::client::stdio::context;

/// Longest server line we accept: a listing entry is at most 277 bytes; an `ERR` text
/// is short. Anything longer is not a files server.
const MAX_REPLY: u64 = 2048;

/// A connection to a files server.
pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    trace: Trace,
    line: Vec<u8>,
}

/// A server line that makes no sense here, or a lost connection.
pub fn protocol(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

impl Conn {
    /// Wrap a connected stream and read the greeting.
    pub fn open(stream: TcpStream, trace: Trace) -> io::Result<Conn> {
        let writer = stream.try_clone()?;
        let mut c = Conn {
            reader: BufReader::with_capacity(64 * 1024, stream),
            writer,
            trace,
            line: Vec::new(),
        };
        match c.reply()? {
            ServerLine::Greeting(_) => Ok(c),
            ServerLine::Err { code, text } => Err(refused(code, text)),
            other => Err(protocol(format!(
                "this does not look like a files server (it said {other:?})"
            ))),
        }
    }

    /// Send one command line.
    pub fn send(&mut self, cmd: Command<'_>) -> io::Result<()> {
        let line = format!("{cmd}\n");
        self.writer
            .write_all(line.as_bytes())
            .map_err(|e| context("cannot send", &e))?;
        self.trace.sent(line.len());
        Ok(())
    }

    /// Send payload bytes.
    pub fn send_bytes(&mut self, data: &[u8]) -> io::Result<()> {
        self.writer.write_all(data)
    }

    /// The reader, for payloads.
    pub fn reader(&mut self) -> &mut BufReader<TcpStream> {
        &mut self.reader
    }

    /// The trace.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Read one raw line (without LF); `UnexpectedEof` if the server closed first.
    fn read_line(&mut self) -> io::Result<&[u8]> {
        self.line.clear();
        let n = (&mut self.reader)
            .take(MAX_REPLY)
            .read_until(b'\n', &mut self.line)
            .map_err(|e| context("cannot receive", &e))?;
        if n == 0 || self.line.last() != Some(&b'\n') {
            if n as u64 == MAX_REPLY {
                return Err(protocol("the server sent an over-long line"));
            }
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            ));
        }
        self.trace.received(n);
        self.line.pop();
        if self.line.last() == Some(&b'\r') {
            self.line.pop();
        }
        Ok(&self.line)
    }

    /// Read one reply line.
    pub fn reply(&mut self) -> io::Result<ServerLine<'_>> {
        let line = self.read_line()?;
        parse_reply(line).map_err(|_| {
            protocol(format!(
                "unexpected line from the server: {:?}",
                String::from_utf8_lossy(line)
            ))
        })
    }

    /// Read one listing entry.
    pub fn entry(&mut self) -> io::Result<(u64, String)> {
        let line = self.read_line()?;
        let (size, name) = parse_entry(line).map_err(|_| {
            protocol(format!(
                "unexpected listing line: {:?}",
                String::from_utf8_lossy(line)
            ))
        })?;
        Ok((size, name.to_owned()))
    }

    /// `QUIT`, then `BYE`, best effort: the work is done whatever happens here.
    pub fn quit(mut self) {
        if self.send(Command::Quit).is_ok() {
            let _ = self.reply();
        }
        let _ = self.writer.shutdown(std::net::Shutdown::Both);
        self.trace.disconnected("quit");
    }
}

/// The server said no: its own words, and the code for scripts.
pub fn refused(code: &str, text: &str) -> io::Error {
    let msg = if text.is_empty() {
        format!("the server refused ({code})")
    } else {
        format!("the server refused: {text} ({code})")
    };
    io::Error::other(msg)
}

/// `3.2 MiB`, `10 MiB`, `512 bytes`: sizes as a person reads them.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    let s = format!("{v:.1}");
    let s = s.strip_suffix(".0").unwrap_or(&s);
    format!("{s} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::human;

    #[test]
    fn sizes_read_well() {
        assert_eq!(human(5), "5 bytes");
        assert_eq!(human(10 * 1024 * 1024), "10 MiB");
        assert_eq!(human(3_355_443), "3.2 MiB");
        assert_eq!(human(1 << 30), "1 GiB");
    }
}
