//! The §5 server session.
//!
//! The session never hashes a password, draws a token or touches a file: it is a
//! [`SideWork`] whose every such step is a [`Request`] (one at a time, like the files
//! session's storage requests), finished by the backend's [`Reply`]. A backend may
//! answer at once (a table lookup) or after seconds (Argon2 on a worker thread plus an
//! `fsync`); while a request is out the session takes no input, so backpressure reaches
//! the peer as with a full output queue.
//!
//! The backend is per connection and remembers which login (token) this connection is
//! logged in with. The session itself keeps only whether it is logged in and until
//! when, which is how an expired token logs the connection out even before the backend
//! is asked.
//!
//! A password is held only while its request is pending, in the session's argument
//! buffer, which is wiped as soon as the reply arrives.

use core::fmt::Write as _;

use super::command::{Command, CommandError, parse_command};
use super::request::{Reply, Request};
use super::rules::{valid_password, valid_token, valid_user};
use super::wire::{ErrorCode, GREETING, REGISTER_THROTTLED};
use crate::line::{LineError, LineReader, MAX_LINE, MAX_LINE_BUF};
use crate::outbuf::OutBuf;
use crate::session::{CloseReason, Session, Work};
use crate::side::{Pending, SideWork};
use crate::time::Instant;

/// Room for the longest line the server writes (a `bad-command` usage line).
const LINE_ROOM: usize = 128;

/// Output queue: a line being sent and one more.
const OUT: usize = 2 * LINE_ROOM;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Register,
    Login,
    Token,
    Whoami,
    CheckPassword,
    SetPassword,
    Logout,
}

/// One auth connection, server side.
#[derive(Debug)]
pub struct Auth {
    lines: LineReader<MAX_LINE_BUF>,
    out: OutBuf<OUT>,
    req: Pending<Op>,
    /// The pending request's arguments: `user` bytes then the password or token.
    arg: heapless::Vec<u8, MAX_LINE>,
    /// Where the second argument starts in `arg`.
    split: usize,
    /// `PASSWD` was accepted: the next line is the new password.
    want_new_password: bool,
    /// Logged in until this instant (the token's expiry on our clock).
    logged_in_until: Option<Instant>,
    close: Option<CloseReason>,
    peer_eof: bool,
    /// The server is stopping (§0): answer the command under way, then close.
    stopping: bool,
}

impl Auth {
    /// A session that started at `now`; the greeting is queued.
    pub fn new(_now: Instant) -> Self {
        let mut a = Auth {
            lines: LineReader::new(),
            out: OutBuf::new(),
            req: Pending::new(),
            arg: heapless::Vec::new(),
            split: 0,
            want_new_password: false,
            logged_in_until: None,
            close: None,
            peer_eof: false,
            stopping: false,
        };
        let _ = writeln!(a.out, "{GREETING}");
        a
    }

    /// Whether this connection is logged in at `now`.
    pub fn logged_in(&self, now: Instant) -> bool {
        self.logged_in_until.is_some_and(|t| now < t)
    }

    fn wipe_arg(&mut self) {
        self.arg.iter_mut().for_each(|b| *b = 0);
        self.arg.clear();
        self.split = 0;
    }

    fn ok(&mut self, text: &str) {
        let _ = writeln!(self.out, "OK {text}");
    }

    fn err(&mut self, code: ErrorCode) {
        let _ = writeln!(self.out, "ERR {code} {}", code.text());
    }

    fn command_error(&mut self, e: CommandError) {
        let _ = writeln!(self.out, "ERR {} {e}", ErrorCode::BadCommand);
    }

    /// Queue `op` with `first` and `second` as its arguments.
    fn request(&mut self, op: Op, first: &str, second: &str) {
        self.wipe_arg();
        // Both come from one line of at most MAX_LINE bytes, so they fit.
        let _ = self.arg.extend_from_slice(first.as_bytes());
        self.split = self.arg.len();
        let _ = self.arg.extend_from_slice(second.as_bytes());
        self.req.ask(op);
    }

    /// Gate for commands that need a live session; expiry logs the connection out.
    fn require_login(&mut self, now: Instant) -> bool {
        if self.logged_in(now) {
            return true;
        }
        self.logged_in_until = None;
        self.err(ErrorCode::NotLoggedIn);
        false
    }

    fn on_line(&mut self, now: Instant, line: Result<&[u8], LineError>) {
        let line = match line {
            Ok(l) => l,
            Err(LineError::TooLong) => {
                self.want_new_password = false;
                let _ = writeln!(
                    self.out,
                    "ERR line-too-long line longer than {MAX_LINE} bytes"
                );
                self.close = Some(CloseReason::ProtocolError);
                return;
            }
            Err(LineError::InvalidUtf8) => {
                self.want_new_password = false;
                return self.command_error(CommandError::NotUtf8);
            }
        };
        if self.want_new_password {
            self.want_new_password = false;
            let Ok(new) = core::str::from_utf8(line) else {
                return self.command_error(CommandError::NotUtf8);
            };
            if !valid_password(new) {
                return self.err(ErrorCode::WeakPassword);
            }
            if self.require_login(now) {
                self.request(Op::SetPassword, "", new);
            }
            return;
        }
        let command = match parse_command(line) {
            Ok(c) => c,
            Err(e) => return self.command_error(e),
        };
        match command {
            Command::Register { user, password } => {
                if !valid_user(user) {
                    self.err(ErrorCode::BadUser);
                } else if !valid_password(password) {
                    self.err(ErrorCode::WeakPassword);
                } else {
                    self.request(Op::Register, user, password);
                }
            }
            Command::Login { user, password } => self.request(Op::Login, user, password),
            Command::Token(token) => {
                if valid_token(token) {
                    self.request(Op::Token, "", token);
                } else {
                    self.err(ErrorCode::BadToken);
                }
            }
            Command::Whoami => {
                if self.require_login(now) {
                    self.request(Op::Whoami, "", "");
                }
            }
            Command::Passwd(old) => {
                if self.require_login(now) {
                    self.request(Op::CheckPassword, "", old);
                }
            }
            Command::Logout => {
                if self.require_login(now) {
                    self.request(Op::Logout, "", "");
                }
            }
            Command::Quit => {
                let _ = writeln!(self.out, "BYE");
                self.close = Some(CloseReason::Quit);
            }
        }
    }

    /// After EOF, or when the server stops, the command under way is still answered
    /// (a LOGIN whose session was saved gets its `OK`); then the session ends.
    fn finish_if_eof(&mut self) {
        if self.req.is_none() && self.close.is_none() {
            if self.peer_eof {
                self.close = Some(CloseReason::PeerClosed);
            } else if self.stopping {
                self.close = Some(CloseReason::ServerStopping);
            }
        }
    }
}

impl Session for Auth {
    fn handle_input(&mut self, now: Instant, input: &[u8]) -> usize {
        if self.close.is_some() {
            return input.len();
        }
        let mut used = 0;
        while used < input.len()
            && self.close.is_none()
            && self.req.is_none()
            && self.out.free() >= LINE_ROOM
        {
            let mut copy = [0u8; MAX_LINE];
            let step = self.lines.next_line(&input[used..]);
            used += step.consumed;
            let Some(line) = step.copied(&mut copy) else {
                break;
            };
            self.on_line(now, line);
            copy.iter_mut().for_each(|b| *b = 0);
        }
        if self.close.is_some() {
            return input.len();
        }
        used
    }

    fn handle_eof(&mut self, _now: Instant) {
        self.peer_eof = true;
        self.finish_if_eof();
    }

    fn poll_output(&mut self, buf: &mut [u8]) -> usize {
        self.out.pop_into(buf)
    }

    fn close_reason(&self) -> Option<CloseReason> {
        self.close
    }

    fn wants_output(&self) -> bool {
        !self.out.is_empty()
    }

    fn handle_stop(&mut self, _now: Instant) {
        self.stopping = true;
        self.finish_if_eof();
    }

    fn in_flight(&self) -> Option<Work<'_>> {
        let op = self.req.op()?;
        if self.close.is_some() {
            return None;
        }
        Some(Work::Command(match op {
            Op::Register => "REGISTER",
            Op::Login => "LOGIN",
            Op::Token => "TOKEN",
            Op::Whoami => "WHOAMI",
            Op::CheckPassword | Op::SetPassword => "PASSWD",
            Op::Logout => "LOGOUT",
        }))
    }
}

impl SideWork for Auth {
    type Request<'a> = Request<'a>;
    type Reply<'a> = Reply<'a>;

    fn poll_request(&mut self) -> Option<Request<'_>> {
        let op = self.req.hand_out()?;
        // The argument buffer only ever holds bytes copied from a UTF-8 line, split at
        // an ASCII space, so both halves are UTF-8; an empty string is a safe fallback.
        let first = core::str::from_utf8(&self.arg[..self.split]).unwrap_or("");
        let second = core::str::from_utf8(&self.arg[self.split..]).unwrap_or("");
        Some(match op {
            Op::Register => Request::Register {
                user: first,
                password: second,
            },
            Op::Login => Request::Login {
                user: first,
                password: second,
            },
            Op::Token => Request::Token(second),
            Op::Whoami => Request::Whoami,
            Op::CheckPassword => Request::CheckPassword(second),
            Op::SetPassword => Request::SetPassword(second),
            Op::Logout => Request::Logout,
        })
    }

    fn handle_reply(&mut self, now: Instant, reply: Reply<'_>) {
        let Some(op) = self.req.finish() else {
            debug_assert!(false, "reply without a request");
            return;
        };
        self.wipe_arg();
        match (op, reply) {
            (Op::Register, Reply::Done) => self.ok("registered"),
            (Op::Login, Reply::Token { token, ttl }) => {
                self.logged_in_until = Some(now + ttl);
                self.ok(token);
            }
            (Op::Token | Op::Whoami, Reply::User { user, ttl }) => {
                self.logged_in_until = Some(now + ttl);
                self.ok(user);
            }
            (Op::CheckPassword, Reply::Done) => {
                self.want_new_password = true;
                self.ok("new-password");
            }
            (Op::SetPassword, Reply::Done) => self.ok("changed"),
            (Op::Logout, Reply::Done) => {
                self.logged_in_until = None;
                self.ok("bye-token");
            }
            (Op::Register, Reply::Failed(ErrorCode::Throttled)) => {
                let _ = writeln!(self.out, "ERR throttled {REGISTER_THROTTLED}");
            }
            (_, Reply::Failed(code)) => {
                if code == ErrorCode::NotLoggedIn {
                    self.logged_in_until = None;
                }
                self.err(code);
                // §5: after `busy` the connection does not stay usable (a backend
                // says it when it has no room, e.g. for another user).
                if code == ErrorCode::Busy {
                    self.close = Some(CloseReason::Finished);
                }
            }
            // A backend answering with the wrong kind of reply is a bug in it; say
            // `io` rather than guess.
            _ => self.err(ErrorCode::Io),
        }
        self.finish_if_eof();
    }

    fn request_in_flight(&self) -> bool {
        self.req.is_out()
    }
}
