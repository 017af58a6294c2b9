//! One conversation with an auth server: the greeting, then command/reply pairs. The
//! `-v` trace logs byte counts only — lines carry passwords and tokens.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use socklab_core::auth::{ErrorCode, GREETING, ServerReply, parse_reply};

use crate::client::conn::Trace;
use crate::client::stdio::context;

/// What the server answered.
#[derive(Debug)]
pub enum Answer {
    /// `OK <text>`.
    Ok(String),
    /// `ERR <code> <text>`.
    Err(Option<ErrorCode>, String),
}

/// A connection past the greeting.
pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    trace: Trace,
}

fn protocol(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

impl Conn {
    /// Read the greeting; a full server or another service is an error a person reads.
    pub fn open(stream: TcpStream, trace: Trace) -> io::Result<Conn> {
        let writer = stream.try_clone()?;
        let mut c = Conn {
            reader: BufReader::new(stream),
            writer,
            trace,
        };
        match c.read_answer()? {
            Answer::Ok(g) if format!("OK {g}") == GREETING => Ok(c),
            Answer::Err(_, text) => Err(protocol(format!("the server refused: {text}"))),
            Answer::Ok(_) => Err(protocol("this is not a socklab auth server".into())),
        }
    }

    fn read_answer(&mut self) -> io::Result<Answer> {
        let mut line = String::new();
        let n = (&mut self.reader)
            .take(2048)
            .read_line(&mut line)
            .map_err(|e| context("cannot receive", &e))?;
        if n == 0 {
            self.trace.disconnected("closed by server");
            return Err(protocol("the server closed the connection".into()));
        }
        self.trace.received(n);
        let text = line.trim_end_matches('\n');
        match parse_reply(text) {
            Some(ServerReply::Ok(t)) => Ok(Answer::Ok(t.to_owned())),
            Some(ServerReply::Err { code, text, .. }) => Ok(Answer::Err(code, text.to_owned())),
            _ => Err(protocol("the server sent a line that is not §5's".into())),
        }
    }

    /// Send one line (which may hold a secret) and read the answer.
    pub fn call(&mut self, line: &str) -> io::Result<Answer> {
        let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(line.len() + 1));
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        self.writer
            .write_all(&bytes)
            .map_err(|e| context("cannot send", &e))?;
        self.trace.sent(bytes.len());
        self.read_answer()
    }

    /// Say goodbye politely; errors no longer matter.
    pub fn quit(mut self) {
        if self.writer.write_all(b"QUIT\n").is_ok() {
            self.trace.sent(5);
            let mut line = String::new();
            let _ = (&mut self.reader).take(64).read_line(&mut line);
            self.trace.disconnected("quit");
        }
    }
}
