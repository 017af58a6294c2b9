//! The server event log of §0, written for a learner watching a server work.
//!
//! One line per event: an RFC 3339 UTC timestamp with milliseconds, the service, who it
//! is about (a peer address, or the listening address), and what happened:
//!
//! ```text
//! 2026-11-21T08:30:00.123Z echo 127.0.0.1:50312 client connected
//! 2026-11-21T08:30:00.125Z echo 127.0.0.1:50312 data received (6 bytes)
//!     00000000  68 65 6c 6c 6f 0a                                 |hello.|
//! 2026-11-21T08:30:01.002Z echo 127.0.0.1:50312 client disconnected (quit)
//! ```
//!
//! How much is written is a [`Level`]: `-q` errors only, the default adds connection
//! events, `-v` adds one line per chunk, `-vv` adds a `hexdump -C` style dump of every
//! chunk. The per-chunk lines are opt-in so that a busy server is not slowed down by its
//! own log.
//!
//! Secrets: the logger writes what it is given. Payload dumps are only ever requested by
//! callers for services whose payloads are not secret (see
//! [`Logger::chunk`]'s `payload` argument); a service carrying passwords or tokens must
//! pass `None` there, and must never put a secret into an event message.

use std::fmt::{Display, Write as _};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

/// How much the log says; each level includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// `-q`: only errors.
    Quiet,
    /// Default: server and connection events.
    Normal,
    /// `-v`: also one line per chunk received or sent.
    Chunks,
    /// `-vv`: also a hex and ASCII dump of every chunk.
    Dump,
}

impl Level {
    /// The level for `-q` and a count of `-v` flags.
    pub fn from_flags(quiet: bool, verbose: u8) -> Level {
        match (quiet, verbose) {
            (true, _) => Level::Quiet,
            (false, 0) => Level::Normal,
            (false, 1) => Level::Chunks,
            (false, _) => Level::Dump,
        }
    }
}

/// Where lines go.
#[derive(Debug)]
enum Sink {
    Stderr,
    File(File),
}

/// A shared, cheaply cloned handle on the event log.
///
/// Every line is formatted first and written with a single `write_all`, so lines from
/// different threads (later services may use helpers) never interleave mid-line.
#[derive(Debug, Clone)]
pub struct Logger {
    level: Level,
    sink: Arc<Mutex<Sink>>,
}

/// Who a process-wide event is about: the process. The log shows `pid 4242` where a
/// connection event shows the peer address.
#[derive(Debug, Clone, Copy)]
pub struct Pid;

impl Display for Pid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {}", std::process::id())
    }
}

/// Which way a chunk went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the peer to us.
    Received,
    /// From us to the peer.
    Sent,
}

impl Logger {
    /// A logger writing to standard error.
    pub fn stderr(level: Level) -> Logger {
        Logger {
            level,
            sink: Arc::new(Mutex::new(Sink::Stderr)),
        }
    }

    /// A logger appending to `path` (created if missing).
    pub fn file(level: Level, path: &Path) -> io::Result<Logger> {
        let f = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Logger {
            level,
            sink: Arc::new(Mutex::new(Sink::File(f))),
        })
    }

    /// The configured level.
    pub fn level(&self) -> Level {
        self.level
    }

    /// True when per-chunk lines are written; lets hot paths skip building them.
    pub fn chunks_enabled(&self) -> bool {
        self.level >= Level::Chunks
    }

    /// A server or connection event (shown unless `-q`). `who` is the peer address for
    /// connection events, the listening address for server events.
    pub fn event(&self, service: &str, who: impl Display, what: impl Display) {
        if self.level >= Level::Normal {
            self.write_line(service, who, what, None);
        }
    }

    /// An error: always shown, `-q` included.
    pub fn error(&self, service: &str, who: impl Display, what: impl Display) {
        self.write_line(service, who, format_args!("error: {what}"), None);
    }

    /// A chunk received or sent (from `-v`). `payload` is dumped at `-vv`; callers pass
    /// `None` for services whose bytes may hold secrets.
    pub fn chunk(
        &self,
        service: &str,
        who: impl Display,
        dir: Direction,
        len: usize,
        payload: Option<&[u8]>,
    ) {
        if self.level < Level::Chunks {
            return;
        }
        let what = match dir {
            Direction::Received => "data received",
            Direction::Sent => "data sent",
        };
        let unit = if len == 1 { "byte" } else { "bytes" };
        let dump = payload.filter(|_| self.level >= Level::Dump);
        self.write_line(service, who, format_args!("{what} ({len} {unit})"), dump);
    }

    fn write_line(
        &self,
        service: &str,
        who: impl Display,
        what: impl Display,
        dump: Option<&[u8]>,
    ) {
        let ts = humantime::format_rfc3339_millis(SystemTime::now());
        let mut line = format!("{ts} {service} {who} {what}\n");
        if let Some(bytes) = dump {
            hexdump(bytes, "    ", &mut line);
        }
        let mut sink = self.sink.lock().unwrap_or_else(PoisonError::into_inner);
        // A log that cannot be written must not take the server down with it.
        let _ = match &mut *sink {
            Sink::Stderr => io::stderr().lock().write_all(line.as_bytes()),
            Sink::File(f) => f.write_all(line.as_bytes()),
        };
    }
}

/// Append `bytes` to `out` in the layout of `hexdump -C` (without its `*` squeezing and
/// its final offset line), each line starting with `indent`:
///
/// ```text
/// 00000000  68 65 6c 6c 6f 2c 20 77  6f 72 6c 64 0a           |hello, world.|
/// ```
pub fn hexdump(bytes: &[u8], indent: &str, out: &mut String) {
    for (i, row) in bytes.chunks(16).enumerate() {
        let _ = write!(out, "{indent}{:08x}  ", i * 16);
        for col in 0..16 {
            match row.get(col) {
                Some(b) => {
                    let _ = write!(out, "{b:02x} ");
                }
                None => out.push_str("   "),
            }
            if col == 7 {
                out.push(' ');
            }
        }
        out.push_str(" |");
        out.extend(row.iter().map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            }
        }));
        out.push_str("|\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hexdump_matches_hexdump_c() {
        let mut s = String::new();
        hexdump(b"hello, world.\n\x00\xffABC", "", &mut s);
        assert_eq!(
            s,
            "00000000  68 65 6c 6c 6f 2c 20 77  6f 72 6c 64 2e 0a 00 ff  |hello, world....|\n\
             00000010  41 42 43                                          |ABC|\n"
        );
    }

    #[test]
    fn hexdump_short_line_pads_both_halves() {
        let mut s = String::new();
        hexdump(b"hi\n", "  ", &mut s);
        assert_eq!(
            s,
            "  00000000  68 69 0a                                          |hi.|\n"
        );
    }

    #[test]
    fn levels_from_flags() {
        assert_eq!(Level::from_flags(true, 2), Level::Quiet);
        assert_eq!(Level::from_flags(false, 0), Level::Normal);
        assert_eq!(Level::from_flags(false, 1), Level::Chunks);
        assert_eq!(Level::from_flags(false, 5), Level::Dump);
    }
}
