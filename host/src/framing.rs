//! §7 frames on std streams: the lab's "inherited extension of the socket class".
//!
//! [`FramedExt`] adds `send_msg` / `recv_msg` (strings) and `send_frame` / `recv_frame`
//! (bytes) to every `Read + Write` value — `TcpStream`, `UnixStream`, `&TcpStream`, a
//! `Cursor` in a test — the way the lab subclasses its socket. The wire work is done by
//! the core codec ([`socklab_core::frame`]), so the std frontend and the embedded targets
//! cannot disagree on the bytes.
//!
//! # End of stream
//!
//! A peer may close between frames (the normal way a conversation ends) or in the
//! middle of one (a truncated frame). The two are told apart:
//!
//! * [`try_recv_frame`](FramedExt::try_recv_frame) / [`try_recv_msg`](FramedExt::try_recv_msg)
//!   return `Ok(None)` on a clean close, for `while let Some(m) = s.try_recv_msg(max)?`
//!   loops;
//! * [`recv_frame`](FramedExt::recv_frame) / [`recv_msg`](FramedExt::recv_msg) expect a
//!   frame, so a clean close is an [`io::ErrorKind::UnexpectedEof`] error for which
//!   [`is_clean_eof`] is true;
//! * a close after part of a header or payload is always `UnexpectedEof` with
//!   [`is_clean_eof`] false, and a message saying how much of the frame arrived.
//!
//! # Limits
//!
//! A header announcing more than the limit (default [`DEFAULT_MAX_FRAME`], §7's
//! `--max-frame`) is [`io::ErrorKind::InvalidData`]; it is detected on the 4 header bytes
//! alone, before anything is allocated. Even under the limit the payload buffer grows with
//! the bytes that really arrive, so a peer that announces 60 KiB and sends nothing costs
//! nothing. After an error the stream position is unknown: close the connection.
//!
//! # Example
//!
//! ```
//! use socklab::framing::FramedExt;
//! use std::net::{TcpListener, TcpStream};
//!
//! let listener = TcpListener::bind("127.0.0.1:0")?;
//! let addr = listener.local_addr()?;
//! let server = std::thread::spawn(move || -> std::io::Result<()> {
//!     let (mut conn, _) = listener.accept()?;
//!     // A framed echo server: one frame in, the same text upper-cased out.
//!     while let Some(msg) = conn.try_recv_msg(socklab::framing::DEFAULT_MAX_FRAME)? {
//!         conn.send_msg(&msg.to_uppercase())?;
//!     }
//!     Ok(())
//! });
//!
//! let mut client = TcpStream::connect(addr)?;
//! client.send_msg("hello, frames")?;
//! assert_eq!(client.recv_msg()?, "HELLO, FRAMES");
//! client.send_frame(b"")?; // an empty frame is valid
//! assert_eq!(client.recv_frame()?, b"");
//! client.shutdown(std::net::Shutdown::Write)?;
//! server.join().unwrap()?;
//! # Ok::<(), std::io::Error>(())
//! ```

use socklab_core::Status;
use socklab_core::frame::{self, HEADER_LEN};
use std::fmt;
use std::io::{self, Read, Write};

pub use socklab_core::frame::DEFAULT_MAX_FRAME;

/// Payload bytes reserved up front; the rest grows as it arrives (see the module docs).
const INITIAL_RESERVE: usize = 8 * 1024;

/// The error payload of a clean close reported by [`FramedExt::recv_frame`]; see
/// [`is_clean_eof`].
#[derive(Debug)]
struct CleanEof;

impl fmt::Display for CleanEof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the peer closed the connection before the next frame")
    }
}

impl std::error::Error for CleanEof {}

/// True if `err` is the clean close (between frames) reported by
/// [`recv_frame`](FramedExt::recv_frame) or [`recv_msg`](FramedExt::recv_msg), false for
/// a close in the middle of a frame or any other error.
pub fn is_clean_eof(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::UnexpectedEof && err.get_ref().is_some_and(|e| e.is::<CleanEof>())
}

fn clean_eof() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, CleanEof)
}

fn truncated(what: &str, got: usize, want: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("connection closed in the middle of a frame {what} ({got} of {want} bytes)"),
    )
}

/// §7 frames as methods of any byte stream. Implemented for every `Read + Write`; see
/// the module docs for the end-of-stream and limit rules.
pub trait FramedExt: Read + Write {
    /// Send `payload` as one frame: header and payload go out in a single write, so a
    /// frame is never split into two small TCP segments by Nagle's algorithm.
    fn send_frame(&mut self, payload: &[u8]) -> io::Result<()> {
        let mut buf = vec![0; HEADER_LEN + payload.len()];
        let n = frame::encode(payload, &mut buf)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        self.write_all(&buf[..n])?;
        self.flush()
    }

    /// Send a text message (its UTF-8 bytes) as one frame.
    fn send_msg(&mut self, msg: &str) -> io::Result<()> {
        self.send_frame(msg.as_bytes())
    }

    /// Receive one frame of at most `max` bytes; `Ok(None)` if the peer closed cleanly
    /// before it started.
    fn try_recv_frame(&mut self, max: u32) -> io::Result<Option<Vec<u8>>> {
        let mut header = [0u8; HEADER_LEN];
        let mut have = 0;
        let len = loop {
            match frame::decode_header(&header[..have], max) {
                Ok(Status::Complete(len)) => break len,
                Ok(Status::Partial) => {}
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            }
            match self.read(&mut header[have..]) {
                Ok(0) if have == 0 => return Ok(None),
                Ok(0) => return Err(truncated("header", have, HEADER_LEN)),
                Ok(n) => have += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        let want = len as usize;
        let mut payload = Vec::with_capacity(want.min(INITIAL_RESERVE));
        let got = self.take(u64::from(len)).read_to_end(&mut payload)?;
        if got < want {
            return Err(truncated("payload", got, want));
        }
        Ok(Some(payload))
    }

    /// Receive one frame of at most `max` bytes; a clean close is an error (see
    /// [`is_clean_eof`]).
    fn recv_frame_max(&mut self, max: u32) -> io::Result<Vec<u8>> {
        self.try_recv_frame(max)?.ok_or_else(clean_eof)
    }

    /// Receive one frame of at most [`DEFAULT_MAX_FRAME`] bytes.
    fn recv_frame(&mut self) -> io::Result<Vec<u8>> {
        self.recv_frame_max(DEFAULT_MAX_FRAME)
    }

    /// Receive one text message of at most `max` bytes; `Ok(None)` on a clean close.
    /// A payload that is not UTF-8 is [`io::ErrorKind::InvalidData`].
    fn try_recv_msg(&mut self, max: u32) -> io::Result<Option<String>> {
        match self.try_recv_frame(max)? {
            None => Ok(None),
            Some(bytes) => String::from_utf8(bytes)
                .map(Some)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.utf8_error())),
        }
    }

    /// Receive one text message of at most `max` bytes; a clean close is an error.
    fn recv_msg_max(&mut self, max: u32) -> io::Result<String> {
        self.try_recv_msg(max)?.ok_or_else(clean_eof)
    }

    /// Receive one text message of at most [`DEFAULT_MAX_FRAME`] bytes.
    fn recv_msg(&mut self) -> io::Result<String> {
        self.recv_msg_max(DEFAULT_MAX_FRAME)
    }
}

impl<T: Read + Write + ?Sized> FramedExt for T {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A stream that reads from a script and collects what is written, counting writes.
    #[derive(Default)]
    struct Pipe {
        input: Cursor<Vec<u8>>,
        output: Vec<u8>,
        writes: usize,
    }

    impl Pipe {
        fn with_input(bytes: &[u8]) -> Self {
            Pipe {
                input: Cursor::new(bytes.to_vec()),
                ..Pipe::default()
            }
        }
    }

    impl Read for Pipe {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            // One byte at a time, to exercise reassembly of the header and payload.
            let n = buf.len().min(1);
            self.input.read(&mut buf[..n])
        }
    }

    impl Write for Pipe {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.writes += 1;
            self.output.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn send_is_one_write_with_header() {
        let mut p = Pipe::default();
        p.send_msg("héllo").unwrap();
        assert_eq!(p.output, b"\0\0\0\x06h\xc3\xa9llo");
        assert_eq!(p.writes, 1);
        p.send_frame(b"").unwrap();
        assert_eq!(&p.output[10..], b"\0\0\0\0");
    }

    #[test]
    fn round_trip_including_empty_frame() {
        let mut w = Pipe::default();
        w.send_msg("one").unwrap();
        w.send_frame(b"").unwrap();
        w.send_frame(&[0xff, 0, 1]).unwrap();
        let mut r = Pipe::with_input(&w.output);
        assert_eq!(r.recv_msg().unwrap(), "one");
        assert_eq!(r.recv_frame().unwrap(), b"");
        assert_eq!(r.recv_frame().unwrap(), [0xff, 0, 1]);
        assert_eq!(r.try_recv_frame(10).unwrap(), None);
        let err = r.recv_frame().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert!(is_clean_eof(&err), "{err}");
    }

    #[test]
    fn over_limit_header_rejected_before_payload() {
        // The announced 4 GiB would abort the test if it were allocated; the payload
        // bytes behind the header must not even be read.
        let mut r = Pipe::with_input(b"\xff\xff\xff\xffpayload");
        let err = r.recv_frame().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(
            err.to_string().contains("over the 65536-byte limit"),
            "{err}"
        );
        assert_eq!(r.input.position(), 4);

        let mut r = Pipe::with_input(b"\0\0\0\x05hello");
        let err = r.recv_frame_max(4).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let mut r = Pipe::with_input(b"\0\0\0\x05hello");
        assert_eq!(r.recv_frame_max(5).unwrap(), b"hello");
    }

    #[test]
    fn eof_mid_frame_is_not_clean() {
        for cut in [b"\0\0".as_slice(), b"\0\0\0\x05hel"] {
            let err = Pipe::with_input(cut).recv_frame().unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
            assert!(!is_clean_eof(&err), "{err}");
            assert!(err.to_string().contains("middle of a frame"), "{err}");
        }
        let err = Pipe::with_input(b"\0\0\0\x05hel").recv_frame().unwrap_err();
        assert!(err.to_string().contains("payload (3 of 5 bytes)"), "{err}");
        let err = Pipe::with_input(b"\0\0").try_recv_frame(9).unwrap_err();
        assert!(err.to_string().contains("header (2 of 4 bytes)"), "{err}");
    }

    #[test]
    fn invalid_utf8_message() {
        let mut r = Pipe::with_input(b"\0\0\0\x02\xc3\x28");
        let err = r.recv_msg().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        // The same bytes are a fine binary frame.
        let mut r = Pipe::with_input(b"\0\0\0\x02\xc3\x28");
        assert_eq!(r.recv_frame().unwrap(), [0xc3, 0x28]);
    }

    #[test]
    fn other_errors_are_not_clean_eof() {
        assert!(!is_clean_eof(&io::Error::from(
            io::ErrorKind::UnexpectedEof
        )));
        assert!(!is_clean_eof(&io::Error::other("x")));
    }
}
