//! The §3 server session.
//!
//! Storage work is requested, never performed: the session is a [`SideWork`] whose
//! requests are storage [`Request`](super::Request)s, at most one at a time (see
//! `server/requests.rs`). While it waits, it takes no input that would need storage
//! (payload beyond its one chunk buffer, the next command), so backpressure reaches the
//! peer exactly as with a full output queue.
//!
//! The payload streams through one buffer of `C` bytes: an upload fills it and hands it
//! to storage as a [`Request::Write`](super::Request::Write) (the frontend copies it, so
//! the session fills the next chunk while the last one is written); a download is read
//! into it chunk by chunk and drained by [`poll_output`](Session::poll_output). A file
//! is never held whole.
//!
//! Time: the peer is idle when it sends nothing *and* no transfer makes progress for
//! `idle` (§0; a long download to a client that sends nothing is not cut off), and an
//! upload must keep up `min_upload_rate` (see `server/pace.rs`).
//!
//! [`SideWork`]: crate::side::SideWork

use crate::checksum::Crc32;
use core::fmt::Write as _;

use super::command::{Command, CommandError, parse_command};
use super::config::FilesConfig;
use super::name::MAX_NAME;
use super::storage::WriteMode;
use super::wire::{ErrorCode, GREETING};
use crate::line::{LineError, LineReader, MAX_LINE, MAX_LINE_BUF};
use crate::outbuf::OutBuf;
use crate::session::{CloseReason, Session, Work};
use crate::side::{Pending, SideWork};
use crate::time::Instant;

mod pace;
mod requests;

/// Room for the longest line the server writes: a listing entry is a u64 (20 digits),
/// a space, a 255-byte name and the LF.
const LINE_ROOM: usize = 20 + 1 + MAX_NAME + 1 + 3;

/// Line output queue: one line being sent plus one being written.
const OUT: usize = 2 * LINE_ROOM;

/// Kinds of request, remembered while one is pending or in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Begin(WriteMode),
    Write,
    Commit,
    Abort,
    ListBegin,
    ListNext,
    Open,
    Read,
    CloseRead,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading command lines.
    Command,
    /// A command's storage request is pending; no input is taken.
    Waiting,
    /// `EXISTS` was sent; reading the answer. Holds the size it reported.
    Choice(u64),
    /// Payload bytes still to come.
    Upload { remaining: u64 },
    /// Listing entries still to send.
    Listing { remaining: u64 },
    /// Download bytes still to read from storage.
    Download { remaining: u64 },
}

/// One files connection, server side, with a payload buffer of `C` bytes.
#[derive(Debug)]
pub struct Files<const C: usize> {
    config: FilesConfig,
    state: State,
    req: Pending<Op>,
    lines: LineReader<MAX_LINE_BUF>,
    out: OutBuf<OUT>,
    name: heapless::String<MAX_NAME>,
    put_size: u64,
    crc: Crc32,
    upload_open: bool,
    read_open: bool,
    /// Error to report once the pending abort is done.
    after_abort: Option<ErrorCode>,
    data: [u8; C],
    data_start: usize,
    data_end: usize,
    close: Option<CloseReason>,
    /// The peer sent EOF: finish the command under way (a complete upload is still
    /// committed and answered, a listing or download still sent), then close.
    peer_eof: bool,
    /// The server is stopping (§0): like EOF, finish the command under way and start no
    /// other, but an upload still takes the rest of its payload.
    stopping: bool,
    /// Size of the download under way, for [`Session::in_flight`].
    get_size: u64,
    last_activity: Instant,
    /// A transfer moved since the last `handle_timeout`, which stamps it.
    progressed: bool,
    /// The time of the last `handle_timeout` (or the session's start).
    last_check: Instant,
    /// The upload's current rate window: its start (`None` until the first payload byte
    /// or timer after `READY`) and the bytes taken in it.
    rate_start: Option<Instant>,
    rate_bytes: u64,
}

impl<const C: usize> Files<C> {
    /// A session that started at `now`; the greeting is queued.
    pub fn new(now: Instant, config: FilesConfig) -> Self {
        const { assert!(C >= 512, "files payload buffer too small") };
        let mut f = Files {
            config,
            state: State::Command,
            req: Pending::new(),
            lines: LineReader::new(),
            out: OutBuf::new(),
            name: heapless::String::new(),
            put_size: 0,
            crc: Crc32::new(),
            upload_open: false,
            read_open: false,
            after_abort: None,
            data: [0; C],
            data_start: 0,
            data_end: 0,
            close: None,
            peer_eof: false,
            stopping: false,
            get_size: 0,
            last_activity: now,
            progressed: false,
            last_check: now,
            rate_start: None,
            rate_bytes: 0,
        };
        let _ = writeln!(f.out, "{GREETING}");
        f
    }

    fn err(&mut self, code: ErrorCode) {
        let _ = write!(self.out, "ERR {code} ");
        let _ = match code {
            ErrorCode::NotFound => self.out.write_str("no such file"),
            ErrorCode::Busy => self.out.write_str("another client is uploading this file"),
            ErrorCode::NoSpace => self
                .out
                .write_str("no space left on the server; nothing was kept"),
            ErrorCode::Io => self.out.write_str("the server could not use its storage"),
            ErrorCode::TooLarge => write!(
                self.out,
                "the file would be over the limit of {} bytes",
                self.config.max_file_size
            ),
            ErrorCode::LineTooLong => write!(self.out, "line longer than {MAX_LINE} bytes"),
            // Names are checked by the parser (which says why); a storage `bad-name` is
            // an entry the server does not serve.
            ErrorCode::BadName => self
                .out
                .write_str("that name is a link, folder or special file"),
            ErrorCode::BadCommand => Ok(()),
        };
        let _ = self.out.push(b"\n");
    }

    fn command_error(&mut self, e: CommandError) {
        let code = match e {
            CommandError::BadName(_) => ErrorCode::BadName,
            _ => ErrorCode::BadCommand,
        };
        let _ = writeln!(self.out, "ERR {code} {e}");
    }

    fn on_line(&mut self, line: Result<&[u8], LineError>) {
        let line = match line {
            Ok(l) => l,
            Err(LineError::TooLong) => {
                self.err(ErrorCode::LineTooLong);
                self.close = Some(CloseReason::ProtocolError);
                return;
            }
            Err(LineError::InvalidUtf8) => {
                self.command_error(CommandError::NotUtf8);
                return;
            }
        };
        let command = match parse_command(line) {
            Ok(c) => c,
            Err(e) => return self.command_error(e),
        };
        let choice = match self.state {
            State::Choice(current) => Some(current),
            _ => None,
        };
        match (command, choice) {
            (Command::Quit, _) => {
                let _ = writeln!(self.out, "BYE");
                self.close = Some(CloseReason::Quit);
            }
            (Command::Overwrite, Some(_)) => self.request(Op::Begin(WriteMode::Overwrite)),
            (Command::Append, Some(current)) => {
                let total = current.checked_add(self.put_size);
                if total.is_none_or(|t| t > self.config.max_file_size) {
                    self.err(ErrorCode::TooLarge);
                    self.state = State::Command;
                } else {
                    self.request(Op::Begin(WriteMode::Append));
                }
            }
            (Command::Cancel, Some(_)) => {
                let _ = writeln!(self.out, "OK cancelled");
                self.state = State::Command;
            }
            (_, Some(_)) => {
                let _ = writeln!(
                    self.out,
                    "ERR bad-command answer EXISTS with OVERWRITE, APPEND or CANCEL"
                );
            }
            (Command::List, None) => self.request(Op::ListBegin),
            (Command::Put { size, name }, None) => {
                if size > self.config.max_file_size {
                    self.err(ErrorCode::TooLarge);
                    return;
                }
                self.set_name(name);
                self.put_size = size;
                self.request(Op::Begin(WriteMode::Create));
            }
            (Command::Get { name }, None) => {
                self.set_name(name);
                self.request(Op::Open);
            }
            (Command::Overwrite | Command::Append | Command::Cancel, None) => {
                let _ = writeln!(
                    self.out,
                    "ERR bad-command {command} only answers EXISTS, after a PUT"
                );
            }
        }
    }

    fn set_name(&mut self, name: &str) {
        self.name.clear();
        // Valid names are at most MAX_NAME bytes, so this always fits.
        let _ = self.name.push_str(name);
    }

    fn request(&mut self, op: Op) {
        self.req.ask(op);
        self.state = State::Waiting;
    }

    /// Take payload bytes into the chunk buffer.
    fn take_payload(&mut self, input: &[u8]) -> usize {
        let State::Upload { remaining } = &mut self.state else {
            return 0;
        };
        let room = C - self.data_end;
        let n = (input.len() as u64).min(*remaining).min(room as u64) as usize;
        self.data[self.data_end..self.data_end + n].copy_from_slice(&input[..n]);
        self.crc.update(&input[..n]);
        self.data_end += n;
        *remaining -= n as u64;
        self.rate_bytes = self.rate_bytes.saturating_add(n as u64);
        n
    }
}

impl<const C: usize> Session for Files<C> {
    fn handle_input(&mut self, now: Instant, input: &[u8]) -> usize {
        if self.close.is_some() {
            return input.len();
        }
        if !input.is_empty() {
            self.last_activity = now;
            self.start_rate_window(now);
        }
        let mut used = 0;
        while used < input.len() && self.close.is_none() {
            self.advance();
            match self.state {
                State::Upload { .. } => {
                    let n = self.take_payload(&input[used..]);
                    used += n;
                    if n == 0 {
                        break;
                    }
                }
                State::Command | State::Choice(_)
                    if self.req.is_none() && self.out.free() >= LINE_ROOM =>
                {
                    let mut copy = [0u8; MAX_LINE];
                    let step = self.lines.next_line(&input[used..]);
                    used += step.consumed;
                    let Some(line) = step.copied(&mut copy) else {
                        break;
                    };
                    self.on_line(line);
                }
                _ => break,
            }
        }
        self.advance();
        if self.close.is_some() {
            return input.len();
        }
        used
    }

    fn handle_eof(&mut self, _now: Instant) {
        self.peer_eof = true;
        self.advance();
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.close.is_some() {
            return;
        }
        if self.progressed || self.request_in_flight() {
            // Storage being slow is not the peer's fault; a transfer moving is activity.
            self.progressed = false;
            self.last_activity = self.last_activity.max(now);
        }
        self.last_check = now;
        self.start_rate_window(now);
        let too_slow = self
            .rate_deadline()
            .is_some_and(|end| now >= end && !self.rate_window_ends(now));
        if too_slow || now >= self.last_activity + self.config.idle {
            self.close = Some(CloseReason::Timeout);
            self.advance();
        }
    }

    fn poll_output(&mut self, buf: &mut [u8]) -> usize {
        let mut n = self.out.pop_into(buf);
        if n < buf.len() && self.out.is_empty() && self.data_start < self.data_end {
            if let State::Download { .. } = self.state {
                let m = (buf.len() - n).min(self.data_end - self.data_start);
                buf[n..n + m].copy_from_slice(&self.data[self.data_start..self.data_start + m]);
                self.data_start += m;
                n += m;
            }
        }
        if n > 0 {
            if matches!(self.state, State::Listing { .. } | State::Download { .. }) {
                self.progressed = true;
            }
            self.advance();
        }
        n
    }

    fn poll_timeout(&self) -> Option<Instant> {
        if self.close.is_some() {
            return None;
        }
        let mut due = self.last_activity + self.config.idle;
        if self.progressed {
            due = due.min(self.last_check + self.stamp_every());
        }
        if let Some(end) = self.rate_deadline() {
            due = due.min(end);
        }
        Some(due)
    }

    fn close_reason(&self) -> Option<CloseReason> {
        self.close
    }

    fn wants_output(&self) -> bool {
        !self.out.is_empty()
            || (matches!(self.state, State::Download { .. }) && self.data_start < self.data_end)
    }

    fn handle_stop(&mut self, _now: Instant) {
        self.stopping = true;
        self.advance();
    }

    /// A transfer or a command waiting for storage; `EXISTS` waiting for its answer is
    /// idle (the client has not committed to anything yet).
    fn in_flight(&self) -> Option<Work<'_>> {
        if self.close.is_some() {
            return None;
        }
        let upload = |remaining: u64| Work::Upload {
            name: &self.name,
            done: self.put_size - remaining,
            total: self.put_size,
        };
        match self.state {
            State::Command | State::Choice(_) => None,
            State::Upload { remaining } => Some(upload(remaining)),
            State::Download { remaining } => Some(Work::Download {
                name: &self.name,
                done: self.get_size - remaining - (self.data_end - self.data_start) as u64,
                total: self.get_size,
            }),
            State::Listing { .. } => Some(Work::Command("LIST")),
            State::Waiting => self.req.op().map(|op| match op {
                Op::Commit => upload(0),
                Op::Open | Op::Read | Op::CloseRead => Work::Command("GET"),
                Op::ListBegin | Op::ListNext => Work::Command("LIST"),
                Op::Begin(_) | Op::Write | Op::Abort => Work::Command("PUT"),
            }),
        }
    }
}
