//! The side work of a [`Files`] session: which storage request each state calls for,
//! and what each reply does.
//!
//! The session is a [`SideWork`] whose requests are storage [`Request`]s. A frontend
//! answers them through any [`Storage`] ([`perform`] runs one; [`InlineStorage`] is the
//! [`Answer`] that does so on the spot): after every call, it drains
//! [`poll_request`](SideWork::poll_request), which yields at most one request until that
//! one was answered. A session that closed may still emit one clean-up request
//! ([`Request::Abort`] or [`Request::CloseRead`]); a frontend that drops the session
//! instead must release its storage itself.

use core::fmt::Write as _;

use super::{Files, LINE_ROOM, Op, State};
use crate::checksum::Crc32;
use crate::files::storage::{
    InlineStorage, Reply, Request, Storage, StorageError, WriteMode, perform,
};
use crate::files::wire::ErrorCode;
use crate::session::CloseReason;
use crate::side::{Answer, SideWork};
use crate::time::Instant;

impl<const C: usize> SideWork for Files<C> {
    type Request<'a> = Request<'a>;
    type Reply<'a> = Reply<'a>;

    fn poll_request(&mut self) -> Option<Request<'_>> {
        let op = self.req.hand_out()?;
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

    fn handle_reply(&mut self, _now: Instant, reply: Reply<'_>) {
        let Some(op) = self.req.finish() else {
            debug_assert!(false, "storage reply without a request");
            return;
        };
        match (op, reply) {
            (Op::Begin(mode), Reply::Size(base)) => {
                self.upload_open = true;
                let total = base.checked_add(self.put_size);
                if mode == WriteMode::Append && total.is_none_or(|t| t > self.config.max_file_size)
                {
                    self.after_abort = Some(ErrorCode::TooLarge);
                    self.req.ask(Op::Abort);
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

    fn request_in_flight(&self) -> bool {
        self.req.is_out()
    }
}

impl<S: Storage, const N: usize, const C: usize> Answer<Files<C>> for InlineStorage<S, N> {
    fn answer<'w>(&'w mut self, request: Request<'_>) -> Reply<'w> {
        perform(&mut self.store, request, &mut self.scratch)
    }
}

impl<const C: usize> Files<C> {
    fn storage_error(&mut self, e: StorageError) {
        self.err(code_of(e));
        self.state = State::Command;
    }

    /// Queue the next request the state calls for, if none is pending.
    pub(super) fn advance(&mut self) {
        if !self.req.is_none() {
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
                self.req.ask(Op::Abort);
            } else if self.read_open {
                self.read_open = false;
                self.req.ask(Op::CloseRead);
            }
            return;
        }
        match self.state {
            State::Upload { remaining } => {
                if self.data_end == C || (remaining == 0 && self.data_end > 0) {
                    self.req.ask(Op::Write);
                } else if remaining == 0 {
                    self.req.ask(Op::Commit);
                    self.state = State::Waiting;
                }
            }
            State::Listing { remaining } => {
                if remaining == 0 {
                    self.state = State::Command;
                } else if self.out.free() >= LINE_ROOM {
                    self.req.ask(Op::ListNext);
                }
            }
            State::Download { remaining } => {
                if self.data_start < self.data_end {
                    return;
                }
                if remaining > 0 {
                    self.req.ask(Op::Read);
                } else {
                    self.read_open = false;
                    self.req.ask(Op::CloseRead);
                    self.state = State::Command;
                }
            }
            State::Command | State::Waiting | State::Choice(_) => {}
        }
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
