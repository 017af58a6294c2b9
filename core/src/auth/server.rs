//! The §5 server session.
//!
//! The session never hashes a password, draws a token or touches a file: every such
//! step is a [`Request`] handed out by [`Auth::poll_storage`] (one at a time, like the
//! files session's storage requests) and finished by [`Auth::handle_reply`]. A backend
//! may answer at once (a table lookup) or after seconds (Argon2 on a worker thread plus
//! an `fsync`); while a request is out the session takes no input, so backpressure
//! reaches the peer as with a full output queue.
//!
//! The backend is per connection: it remembers which session (token) this connection
//! is logged in with, so [`Request::Whoami`], [`Request::CheckPassword`],
//! [`Request::SetPassword`] and [`Request::Logout`] carry no token. The session itself
//! keeps only whether it is logged in and until when, which is how an expired token
//! logs the connection out even before the backend is asked.
//!
//! A password is held only while its request is pending, in the session's argument
//! buffer, which is wiped as soon as the reply arrives.

use core::fmt::Write as _;

use super::command::{Command, CommandError, parse_command};
use super::{ErrorCode, GREETING, REGISTER_THROTTLED, valid_password, valid_token, valid_user};
use crate::line::{LineError, LineReader, MAX_LINE, MAX_LINE_BUF};
use crate::outbuf::OutBuf;
use crate::session::{CloseReason, Session, Work};
use crate::time::{Duration, Instant};

/// Room for the longest line the server writes (a `bad-command` usage line).
const LINE_ROOM: usize = 128;

/// Output queue: a line being sent and one more.
const OUT: usize = 2 * LINE_ROOM;

/// Work for the backend. Borrowed fields point into the session's argument buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request<'a> {
    /// Create `user` with an Argon2id hash of `password` and save the user file.
    /// Replies: [`Reply::Done`], or `Failed(UserExists | Throttled | Busy | Io)`
    /// (`Throttled`: this address made too many users lately, `--register-limit`).
    Register {
        /// A valid user name.
        user: &'a str,
        /// 8..=128 bytes.
        password: &'a str,
    },
    /// Check throttling, verify `password` (against a dummy hash for an unknown user,
    /// so the cost is the same), then issue a token, save the session durably and make
    /// it this connection's. Replies: [`Reply::Token`], or `Failed(BadCredentials |
    /// Throttled | Io)`. Fields are as sent: the backend treats a malformed user or
    /// password like any wrong one.
    Login {
        /// The user name as sent.
        user: &'a str,
        /// The password as sent.
        password: &'a str,
    },
    /// Look up a well-formed token; if live, it becomes this connection's session.
    /// Replies: [`Reply::User`] or `Failed(BadToken)`.
    Token(&'a str),
    /// Is this connection's session still live (not revoked, not expired)?
    /// Replies: [`Reply::User`] or `Failed(NotLoggedIn)`.
    Whoami,
    /// Verify the old password of this connection's user (`PASSWD`). A wrong one counts
    /// towards throttling as a failed LOGIN does (§5), else a stolen token would be an
    /// unthrottled password oracle. Replies: [`Reply::Done`], or
    /// `Failed(BadCredentials | Throttled | NotLoggedIn)`.
    CheckPassword(&'a str),
    /// Store a hash of the new password for this connection's user and save.
    /// Replies: [`Reply::Done`], or `Failed(NotLoggedIn | Io)`.
    SetPassword(&'a str),
    /// Revoke this connection's session and save. Replies: [`Reply::Done`] (also when
    /// the session was already gone) or `Failed(Io)`.
    Logout,
}

/// The backend's answer to the last [`Request`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply<'a> {
    /// Done as asked.
    Done,
    /// A new session: the token to hand to the client (32 lowercase hex digits) and how
    /// long it lives.
    Token {
        /// The token, sent once and never stored by the server.
        token: &'a str,
        /// Time left before it expires.
        ttl: Duration,
    },
    /// The session's user and the time its token has left.
    User {
        /// The user name.
        user: &'a str,
        /// Time left before the token expires.
        ttl: Duration,
    },
    /// The request failed with this §5 code.
    Failed(ErrorCode),
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Req {
    None,
    Ready(Op),
    InFlight(Op),
}

/// One auth connection, server side.
#[derive(Debug)]
pub struct Auth {
    lines: LineReader<MAX_LINE_BUF>,
    out: OutBuf<OUT>,
    req: Req,
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
            req: Req::None,
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

    /// The request to run now, if any; each is returned once, and its reply goes to
    /// [`handle_reply`](Self::handle_reply) before another is emitted.
    pub fn poll_storage(&mut self) -> Option<Request<'_>> {
        let Req::Ready(op) = self.req else {
            return None;
        };
        self.req = Req::InFlight(op);
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

    /// True while a request was taken and its reply has not come back.
    pub fn request_in_flight(&self) -> bool {
        matches!(self.req, Req::InFlight(_))
    }

    /// Whether this connection is logged in at `now`.
    pub fn logged_in(&self, now: Instant) -> bool {
        self.logged_in_until.is_some_and(|t| now < t)
    }

    /// The reply to the request last taken from [`poll_storage`](Self::poll_storage).
    pub fn handle_reply(&mut self, now: Instant, reply: Reply<'_>) {
        let Req::InFlight(op) = self.req else {
            debug_assert!(false, "reply without a request");
            return;
        };
        self.req = Req::None;
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
        self.req = Req::Ready(op);
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
        if self.req == Req::None && self.close.is_none() {
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
            && self.req == Req::None
            && self.out.free() >= LINE_ROOM
        {
            let step = self.lines.next_line(&input[used..]);
            used += step.consumed;
            let Some(line) = step.line else { break };
            // The line borrows the reader; copy it so the handler may borrow `self`.
            let mut copy = [0u8; MAX_LINE];
            let line = line.map(|l| {
                copy[..l.len()].copy_from_slice(l);
                &copy[..l.len()]
            });
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

    fn handle_timeout(&mut self, _now: Instant) {}

    fn poll_output(&mut self, buf: &mut [u8]) -> usize {
        self.out.pop_into(buf)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
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
        let (Req::Ready(op) | Req::InFlight(op)) = self.req else {
            return None;
        };
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
