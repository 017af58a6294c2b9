//! The §3 server session.
//!
//! Storage work is requested, never performed: the session emits at most one
//! [`Request`] at a time through [`Files::poll_storage`] and waits for its [`Reply`] in
//! [`Files::handle_storage`]. While it waits, it takes no input that would need storage
//! (payload beyond its one chunk buffer, the next command), so backpressure reaches the
//! peer exactly as with a full output queue.
//!
//! The payload streams through one buffer of `C` bytes: an upload fills it and hands it
//! to storage as a [`Request::Write`] (the frontend copies it, so the session fills the
//! next chunk while the last one is written); a download is read into it chunk by chunk
//! and drained by [`poll_output`](Session::poll_output). A file is never held whole.
//!
//! Call order, in addition to the shared [`Session`] order: after every call, drain
//! [`poll_storage`](Files::poll_storage) (it yields at most one request until that one
//! was answered). A session that closed may still emit one clean-up request
//! ([`Request::Abort`] or [`Request::CloseRead`]); a frontend that drops the session
//! instead must release its storage itself.
//!
//! Time: the peer is idle when it sends nothing *and* no transfer makes progress for
//! `idle` (§0; a long download to a client that sends nothing is not cut off). Input
//! comes with its time, but [`poll_output`](Session::poll_output) does not, so transfer
//! progress is only flagged there and stamped with the time of the next
//! [`handle_timeout`](Session::handle_timeout), which the session asks for at most
//! `idle / 8` after the last one. A stalled transfer is therefore closed between `idle`
//! and `idle * 9/8` after its last progress. Replies to commands are not progress: they
//! go out at the time of the command that asked for them, which already counts (counting
//! them made an idle connection last twice `--idle-timeout`, the greeting being one).
//!
//! An upload must also keep up `min_upload_rate` bytes/s, measured over consecutive
//! windows of `rate_window` (§3: 60 s) from its first payload byte, or it is ended like
//! an idle timeout: one byte a second would otherwise hold a name (`ERR busy` for
//! everyone else) for as long as the peer likes. A window that ends while the session is
//! waiting for storage or holding a full chunk (the server is slow, not the peer) starts
//! over instead of counting.

use crate::checksum::Crc32;
use core::fmt::Write as _;

use super::command::{Command, CommandError, parse_command};
use super::name::MAX_NAME;
use super::storage::{Reply, Request, StorageError, WriteMode};
use super::{ErrorCode, GREETING};
use crate::line::{LineError, LineReader, MAX_LINE, MAX_LINE_BUF};
use crate::outbuf::OutBuf;
use crate::session::{CloseReason, Session, Work};
use crate::time::{Duration, Instant};

/// Room for the longest line the server writes: a listing entry is a u64 (20 digits),
/// a space, a 255-byte name and the LF.
const LINE_ROOM: usize = 20 + 1 + MAX_NAME + 1 + 3;

/// Line output queue: one line being sent plus one being written.
const OUT: usize = 2 * LINE_ROOM;

/// Files server settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FilesConfig {
    /// `--max-file-size`: the largest file as stored.
    pub max_file_size: u64,
    /// `--idle-timeout`. Progress in either direction counts as activity, so a long
    /// download to a client that sends nothing is not cut off.
    pub idle: Duration,
    /// `--min-upload-rate` in bytes per second; 0 turns the rule off.
    pub min_upload_rate: u64,
    /// The window the upload rate is measured over: §3 says 60 s; tests shorten it.
    pub rate_window: Duration,
}

/// Default `--min-upload-rate` (§3): 1024 bytes/s.
pub const DEFAULT_MIN_UPLOAD_RATE: u64 = 1024;

/// The window of §3's upload rate rule.
pub const RATE_WINDOW: Duration = Duration::from_secs(60);

impl Default for FilesConfig {
    fn default() -> Self {
        FilesConfig {
            max_file_size: super::DEFAULT_MAX_FILE_SIZE,
            idle: Duration::from_secs(300),
            min_upload_rate: DEFAULT_MIN_UPLOAD_RATE,
            rate_window: RATE_WINDOW,
        }
    }
}

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
enum Req {
    None,
    Ready(Op),
    InFlight(Op),
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
    req: Req,
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
            req: Req::None,
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

    /// The storage request to run now, if any; each is returned once. Its reply goes to
    /// [`handle_storage`](Self::handle_storage) before another is emitted.
    pub fn poll_storage(&mut self) -> Option<Request<'_>> {
        let Req::Ready(op) = self.req else {
            return None;
        };
        self.req = Req::InFlight(op);
        Some(match op {
            Op::Begin(mode) => Request::BeginWrite {
                name: &self.name,
                mode,
            },
            Op::Write => {
                let len = self.data_end;
                self.data_end = 0;
                Request::Write(&self.data[..len])
            }
            Op::Commit => Request::Commit,
            Op::Abort => Request::Abort,
            Op::ListBegin => Request::ListBegin,
            Op::ListNext => Request::ListNext,
            Op::Open => Request::OpenRead(&self.name),
            Op::Read => Request::Read(C),
            Op::CloseRead => Request::CloseRead,
        })
    }

    /// True while a request was taken and its reply has not come back.
    pub fn storage_in_flight(&self) -> bool {
        matches!(self.req, Req::InFlight(_))
    }

    /// The reply to the request last taken from [`poll_storage`](Self::poll_storage).
    pub fn handle_storage(&mut self, reply: Reply<'_>) {
        let Req::InFlight(op) = self.req else {
            debug_assert!(false, "storage reply without a request");
            return;
        };
        self.req = Req::None;
        match (op, reply) {
            (Op::Begin(mode), Reply::Size(base)) => {
                self.upload_open = true;
                let total = base.checked_add(self.put_size);
                if mode == WriteMode::Append && total.is_none_or(|t| t > self.config.max_file_size)
                {
                    self.after_abort = Some(ErrorCode::TooLarge);
                    self.req = Req::Ready(Op::Abort);
                    self.state = State::Waiting;
                } else {
                    let _ = writeln!(self.out, "READY");
                    self.crc = Crc32::new();
                    // The chunk buffer is shared with downloads, and a finished GET
                    // leaves its last chunk's bounds behind: start the payload in an
                    // empty buffer, or those stale bytes would be written first (found
                    // by the `files_session` fuzz target: GET then PUT on a connection).
                    self.data_start = 0;
                    self.data_end = 0;
                    self.rate_start = None;
                    self.rate_bytes = 0;
                    self.state = State::Upload {
                        remaining: self.put_size,
                    };
                }
            }
            (Op::Begin(WriteMode::Create), Reply::Failed(StorageError::Exists(size))) => {
                let _ = writeln!(self.out, "EXISTS {size}");
                self.state = State::Choice(size);
            }
            (Op::Begin(_), Reply::Failed(e)) => self.storage_error(e),
            (Op::Write, Reply::Done) => {}
            (Op::Write, Reply::Failed(e)) => {
                // Mid-payload: report, drop the temporary, close (§3).
                self.upload_open = true;
                self.err(code_of(e));
                self.close = Some(CloseReason::Finished);
            }
            (Op::Commit, Reply::Size(size)) => {
                self.upload_open = false;
                let crc = self.crc.clone().finalize();
                let _ = writeln!(self.out, "OK {size} {crc:08x}");
                self.state = State::Command;
            }
            (Op::Commit, Reply::Failed(e)) => {
                self.upload_open = false;
                self.storage_error(e);
            }
            (Op::Abort, _) => {
                self.upload_open = false;
                if let Some(code) = self.after_abort.take() {
                    self.err(code);
                    self.state = State::Command;
                }
            }
            (Op::ListBegin, Reply::Size(n)) => {
                let _ = writeln!(self.out, "OK {n}");
                self.state = State::Listing { remaining: n };
            }
            (Op::ListBegin, Reply::Failed(e)) => self.storage_error(e),
            (Op::ListNext, Reply::Entry { size, name }) => {
                if let State::Listing { remaining } = &mut self.state {
                    *remaining -= 1;
                }
                let _ = write!(self.out, "{size} ");
                let _ = self.out.push(name);
                let _ = self.out.push(b"\n");
            }
            (Op::Open, Reply::Size(n)) => {
                self.read_open = true;
                self.get_size = n;
                let _ = writeln!(self.out, "DATA {n}");
                self.state = State::Download { remaining: n };
            }
            (Op::Open, Reply::Failed(e)) => self.storage_error(e),
            (Op::Read, Reply::Data(bytes)) => {
                let State::Download { remaining } = &mut self.state else {
                    return;
                };
                if bytes.is_empty() || bytes.len() as u64 > *remaining || bytes.len() > C {
                    // The file changed under us; the count already sent cannot be kept.
                    self.close = Some(CloseReason::Finished);
                } else {
                    *remaining -= bytes.len() as u64;
                    self.data[..bytes.len()].copy_from_slice(bytes);
                    self.data_start = 0;
                    self.data_end = bytes.len();
                }
            }
            (Op::CloseRead, _) => self.read_open = false,
            // A listing that ends early, a failed read: the counted reply already
            // promised bytes that cannot come, so the connection must end.
            _ => self.close = Some(CloseReason::Finished),
        }
        self.advance();
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

    fn storage_error(&mut self, e: StorageError) {
        self.err(code_of(e));
        self.state = State::Command;
    }

    fn command_error(&mut self, e: CommandError) {
        let code = match e {
            CommandError::BadName(_) => ErrorCode::BadName,
            _ => ErrorCode::BadCommand,
        };
        let _ = writeln!(self.out, "ERR {code} {e}");
    }

    /// Queue the next request the state calls for, if none is pending.
    fn advance(&mut self) {
        if self.req != Req::None {
            return;
        }
        if (self.peer_eof || self.stopping) && self.close.is_none() {
            let done = match self.state {
                State::Command | State::Choice(_) => true,
                // An upload cut off by EOF is interrupted: nothing of it is kept.
                State::Upload { remaining } => self.peer_eof && remaining > 0,
                _ => false,
            };
            if done {
                self.close = Some(if self.peer_eof {
                    CloseReason::PeerClosed
                } else {
                    CloseReason::ServerStopping
                });
            }
        }
        if self.close.is_some() {
            if self.upload_open {
                self.upload_open = false;
                self.req = Req::Ready(Op::Abort);
            } else if self.read_open {
                self.read_open = false;
                self.req = Req::Ready(Op::CloseRead);
            }
            return;
        }
        match self.state {
            State::Upload { remaining } => {
                if self.data_end == C || (remaining == 0 && self.data_end > 0) {
                    self.req = Req::Ready(Op::Write);
                } else if remaining == 0 {
                    self.req = Req::Ready(Op::Commit);
                    self.state = State::Waiting;
                }
            }
            State::Listing { remaining } => {
                if remaining == 0 {
                    self.state = State::Command;
                } else if self.out.free() >= LINE_ROOM {
                    self.req = Req::Ready(Op::ListNext);
                }
            }
            State::Download { remaining } => {
                if self.data_start < self.data_end {
                    return;
                }
                if remaining > 0 {
                    self.req = Req::Ready(Op::Read);
                } else {
                    self.read_open = false;
                    self.req = Req::Ready(Op::CloseRead);
                    self.state = State::Command;
                }
            }
            State::Command | State::Waiting | State::Choice(_) => {}
        }
    }

    /// One command line (in `Command` or `Choice` state).
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
        self.req = Req::Ready(op);
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

    /// When the upload's rate window ends, while one is running.
    fn rate_deadline(&self) -> Option<Instant> {
        match (self.state, self.rate_start) {
            (State::Upload { .. }, Some(start)) if self.config.min_upload_rate > 0 => {
                Some(start + self.config.rate_window)
            }
            _ => None,
        }
    }

    /// How often pending transfer progress is stamped with a time.
    fn stamp_every(&self) -> Duration {
        Duration::from_millis((self.config.idle.total_millis() / 8).max(1))
    }

    /// Start the upload's first rate window at `now` if it has none yet.
    fn start_rate_window(&mut self, now: Instant) {
        if matches!(self.state, State::Upload { .. }) && self.rate_start.is_none() {
            self.rate_start = Some(now);
            self.rate_bytes = 0;
        }
    }

    /// A rate window ended at `now`: false when the upload was too slow.
    fn rate_window_ends(&mut self, now: Instant) -> bool {
        let window = self.config.rate_window.total_millis();
        let needed = self.config.min_upload_rate.saturating_mul(window) / 1000;
        // The server held the peer back (storage busy, chunk not yet handed over): the
        // window says nothing about the peer.
        let held_back = self.req != Req::None || self.data_end == C;
        let ok = held_back || self.rate_bytes >= needed;
        self.rate_start = Some(now);
        self.rate_bytes = 0;
        ok
    }
}

/// The §3 error code for a storage failure.
fn code_of(e: StorageError) -> ErrorCode {
    match e {
        StorageError::NotFound => ErrorCode::NotFound,
        StorageError::Busy => ErrorCode::Busy,
        StorageError::NoSpace => ErrorCode::NoSpace,
        StorageError::NotServed => ErrorCode::BadName,
        StorageError::Exists(_) | StorageError::Io => ErrorCode::Io,
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
                    if self.req == Req::None && self.out.free() >= LINE_ROOM =>
                {
                    let step = self.lines.next_line(&input[used..]);
                    used += step.consumed;
                    let Some(line) = step.line else { break };
                    // The line borrows the reader; copy what the handler needs first.
                    let mut copy = [0u8; MAX_LINE];
                    let line = line.map(|l| {
                        copy[..l.len()].copy_from_slice(l);
                        &copy[..l.len()]
                    });
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
        if self.progressed || self.storage_in_flight() {
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
            State::Waiting => match self.req {
                Req::Ready(op) | Req::InFlight(op) => Some(match op {
                    Op::Commit => upload(0),
                    Op::Open | Op::Read | Op::CloseRead => Work::Command("GET"),
                    Op::ListBegin | Op::ListNext => Work::Command("LIST"),
                    Op::Begin(_) | Op::Write | Op::Abort => Work::Command("PUT"),
                }),
                Req::None => None,
            },
        }
    }
}
