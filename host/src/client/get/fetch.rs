//! One request and its response on one connection: send the GET, read the head into a
//! bounded buffer, then stream the body as the core's framing rules say.

use super::error::GetError;
use super::output::Sink;
use super::url::Url;
use crate::client::conn::{Trace, connect_within};
use crate::os_error::describe;
use socklab_core::Status;
use socklab_core::http::{
    BodyKind, Chunk, ChunkedDecoder, EMPTY_HEADER, HeadError, MAX_HEAD, MAX_HEADERS, parse_response,
};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Most interim (1xx) responses accepted before the final one.
const MAX_INTERIM: usize = 10;

/// What the caller needs from a response head, owned so the buffer can be reused.
#[derive(Debug)]
pub struct Head {
    /// Status code.
    pub code: u16,
    /// Reason phrase (lossy UTF-8).
    pub reason: String,
    /// `Location`, if any.
    pub location: Option<String>,
    /// How the body is delimited.
    pub body: BodyKind,
}

/// A connection with a request sent on it.
pub struct Exchange {
    stream: TcpStream,
    /// [`MAX_HEAD`] bytes: the whole head must fit; reused for the body.
    buf: Vec<u8>,
    /// `buf[start..end]` is received and not yet used.
    start: usize,
    end: usize,
    url: Url,
    timeout: Duration,
    trace: Trace,
}

impl Exchange {
    /// Connect to the URL's server and send the request.
    pub fn open(url: &Url, timeout: Duration, trace: Trace) -> Result<Exchange, GetError> {
        let stream = connect_within(&url.host, url.port, timeout, &trace)
            .map_err(|e| GetError::Connect(e.running_hint()))?;
        let _ = stream.set_read_timeout(Some(timeout));
        let _ = stream.set_write_timeout(Some(timeout));
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: socklab/{}\r\nConnection: close\r\n\r\n",
            url.target,
            url.host_header(),
            env!("CARGO_PKG_VERSION"),
        );
        let mut ex = Exchange {
            stream,
            buf: vec![0; MAX_HEAD],
            start: 0,
            end: 0,
            url: url.clone(),
            timeout,
            trace,
        };
        ex.stream
            .write_all(request.as_bytes())
            .map_err(|e| ex.io_error("cannot send the request to", &e))?;
        ex.trace.sent(request.len());
        Ok(ex)
    }

    fn io_error(&self, what: &str, e: &io::Error) -> GetError {
        if matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ) {
            GetError::Timeout(format!(
                "timed out: no data from {} for {} s",
                self.url.addr(),
                self.timeout.as_secs()
            ))
        } else {
            GetError::Failed(format!("{what} {}: {}", self.url.addr(), describe(e)))
        }
    }

    /// Read more into `buf[end..]`; 0 means the server closed.
    fn fill(&mut self) -> Result<usize, GetError> {
        loop {
            match self.stream.read(&mut self.buf[self.end..]) {
                Ok(n) => {
                    if n > 0 {
                        self.trace.received(n);
                    }
                    self.end += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_error("cannot receive from", &e)),
            }
        }
    }

    fn bad(&self, why: impl std::fmt::Display) -> GetError {
        GetError::Failed(format!("bad response from {}: {why}", self.url))
    }

    /// Read and parse the response head. With `print`, its bytes go to stdout as received.
    ///
    /// Interim 1xx responses (`100 Continue`, `103 Early Hints`) are skipped — printed
    /// with `-i`, like curl — and the final response after them is returned. `101` is
    /// final: it would switch protocols, which a GET client never asked for.
    pub fn read_head(&mut self, print: bool) -> Result<Head, GetError> {
        let mut eof = false;
        let mut read_first = true;
        let mut interim = 0;
        loop {
            // Parse only once a blank line may have arrived (or the buffer is full, or the
            // server closed): a head trickled in tiny reads is then scanned once, not once
            // per read.
            if read_first && !eof && self.end < self.buf.len() {
                let before = self.end;
                eof = self.fill()? == 0;
                if !eof && !blank_line(&self.buf[..self.end], before) {
                    continue;
                }
            }
            read_first = true;
            let mut slots = [EMPTY_HEADER; MAX_HEADERS];
            match parse_response(&self.buf[..self.end], &mut slots) {
                Ok(Status::Complete(r)) => {
                    if print {
                        let mut out = io::stdout().lock();
                        out.write_all(&self.buf[..r.head_len])
                            .and_then(|()| out.flush())
                            .map_err(|e| {
                                GetError::Failed(format!(
                                    "cannot write standard output: {}",
                                    describe(&e)
                                ))
                            })?;
                    }
                    if (100..200).contains(&r.code) && r.code != 101 {
                        // Bounded, or a server could keep us reading 1xx heads forever.
                        interim += 1;
                        if interim > MAX_INTERIM {
                            return Err(self.bad(format_args!(
                                "more than {MAX_INTERIM} interim (1xx) responses"
                            )));
                        }
                        self.trace.log(format_args!("interim response {}", r.code));
                        let len = r.head_len;
                        self.buf.copy_within(len..self.end, 0);
                        self.end -= len;
                        read_first = false;
                        continue;
                    }
                    let head = Head {
                        code: r.code,
                        reason: String::from_utf8_lossy(r.reason).into_owned(),
                        location: r
                            .header("location")
                            .map(|l| String::from_utf8_lossy(l).into_owned()),
                        body: r.body_kind().map_err(|e| self.bad(e))?,
                    };
                    self.trace.log(format_args!(
                        "HTTP/1.{} {} {}, body {}",
                        r.version,
                        head.code,
                        head.reason,
                        match head.body {
                            BodyKind::Length(n) => format!("of {n} bytes (Content-Length)"),
                            BodyKind::Chunked => "chunked".to_owned(),
                            BodyKind::ToClose => "up to the close".to_owned(),
                            BodyKind::None => "none".to_owned(),
                        }
                    ));
                    self.start = r.head_len;
                    return Ok(head);
                }
                Ok(Status::Partial) if eof => {
                    return Err(if self.end == 0 {
                        GetError::Failed(format!(
                            "{} closed the connection without answering",
                            self.url.addr()
                        ))
                    } else {
                        self.bad("the connection closed before the end of the head")
                    });
                }
                Ok(Status::Partial) => {}
                Err(HeadError::TooManyHeaders) => {
                    return Err(self.bad(format_args!("more than {MAX_HEADERS} headers")));
                }
                Err(HeadError::TooLarge) => {
                    return Err(self.bad(format_args!("response head over {MAX_HEAD} bytes")));
                }
                Err(e) => return Err(self.bad(e)),
            }
        }
    }

    /// Stream the body to `sink`; returns its length.
    pub fn copy_body(&mut self, kind: BodyKind, sink: &mut Sink) -> Result<u64, GetError> {
        let failed = GetError::Failed;
        let mut got: u64 = 0;
        match kind {
            BodyKind::None => {}
            BodyKind::Length(want) => loop {
                let avail = &self.buf[self.start..self.end];
                let take = avail
                    .len()
                    .min(usize::try_from(want - got).unwrap_or(usize::MAX));
                sink.write(&avail[..take]).map_err(failed)?;
                got += take as u64;
                if got == want {
                    break;
                }
                self.start = 0;
                self.end = 0;
                if self.fill()? == 0 {
                    return Err(GetError::Failed(format!(
                        "connection closed after {got} of {want} bytes of the body from {}",
                        self.url
                    )));
                }
            },
            BodyKind::Chunked => {
                let mut dec = ChunkedDecoder::new();
                loop {
                    let (used, status) = dec
                        .decode(&self.buf[self.start..self.end])
                        .map_err(|e| self.bad(format_args!("{e} after {got} bytes of the body")))?;
                    match status {
                        Status::Complete(Chunk::Data(piece)) => {
                            sink.write(piece).map_err(failed)?;
                            got += piece.len() as u64;
                            self.start += used;
                        }
                        Status::Complete(Chunk::Done) => break,
                        Status::Partial => {
                            self.start = 0;
                            self.end = 0;
                            if self.fill()? == 0 {
                                return Err(GetError::Failed(format!(
                                    "connection closed after {got} bytes, in the middle of the chunked body from {}",
                                    self.url
                                )));
                            }
                        }
                    }
                }
            }
            BodyKind::ToClose => loop {
                sink.write(&self.buf[self.start..self.end])
                    .map_err(failed)?;
                got += (self.end - self.start) as u64;
                self.start = 0;
                self.end = 0;
                if self.fill()? == 0 {
                    break;
                }
            },
        }
        self.trace.disconnected("response complete");
        Ok(got)
    }
}

/// Whether `buf` holds a blank line (`\n\n` or `\n\r\n`) ending after `from`.
fn blank_line(buf: &[u8], from: usize) -> bool {
    let from = from.saturating_sub(2);
    buf[from..].iter().enumerate().any(|(i, &b)| {
        b == b'\n' && matches!(&buf[from + i + 1..], [b'\n', ..] | [b'\r', b'\n', ..])
    })
}
