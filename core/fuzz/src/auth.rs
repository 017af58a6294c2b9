//! §5 auth: the session against an honest model backend that knows every password.
//!
//! Checked: each request carries exactly the fields of the line the session just read;
//! **`OK <token>` is sent only for a token the backend issued to a LOGIN with the right
//! password**; commands that need a session are sent to the backend only while the
//! connection is logged in and its token has not expired; every line is one of §5's and
//! fits the line room; a closed session stays closed.

use crate::drive::Driver;
use arbitrary::Arbitrary;
use socklab_core::auth::{
    Auth, Command, ErrorCode, Reply, Request, ServerReply, parse_command, parse_reply,
};
use socklab_core::side::SideWork;
use socklab_core::{Duration, Instant};
use std::collections::{BTreeMap, BTreeSet};

const USERS: [&str; 3] = ["alice", "bob", "bad user"];
const PASSWORDS: [&str; 4] = ["correct horse", "wrong horse", "short", "new password 1"];

/// A command line, built so the fuzzer reaches deep states quickly.
#[derive(Arbitrary, Debug)]
pub enum Line {
    /// `REGISTER <user> <password>`
    Register(u8, u8),
    /// `LOGIN <user> <password>`
    Login(u8, u8),
    /// `TOKEN <a token issued earlier, or not>`
    Token(u8),
    /// `WHOAMI`
    Whoami,
    /// `PASSWD <old>`
    Passwd(u8),
    /// A bare line (the new password after `PASSWD`).
    Bare(u8),
    /// `LOGOUT`
    Logout,
    /// `QUIT`
    Quit,
}

/// How the backend answers the request in flight.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Answer {
    /// Honestly.
    Honest,
    /// `ERR io` (a failed write: nothing changed).
    Io,
    /// `ERR throttled` for a LOGIN, a PASSWD check or a REGISTER (honest otherwise).
    Throttled,
    /// `ERR busy` for a REGISTER: no room for another user (honest otherwise).
    Full,
}

/// One step.
#[derive(Arbitrary, Debug)]
pub enum Op {
    /// A command line.
    Line(Line),
    /// Any bytes.
    Raw(Vec<u8>),
    /// The frontend drains up to this many bytes.
    Drain(u16),
    /// The backend answers.
    Reply(Answer),
    /// The peer half-closes.
    Eof,
    /// Time passes.
    Advance(u16),
}

/// Token lifetime and steps.
#[derive(Arbitrary, Debug)]
pub struct Input {
    ttl_ms: u16,
    ops: Vec<Op>,
}

#[derive(Debug, Clone)]
enum Owned {
    Register(String, String),
    Login(String, String),
    Token(String),
    Whoami,
    Check(String),
    Set(String),
    Logout,
}

#[derive(Default)]
struct Backend {
    passwords: BTreeMap<String, String>,
    /// token → (user, expiry ms)
    tokens: BTreeMap<String, (String, u64)>,
    /// This connection's token.
    current: Option<String>,
    issued: u64,
    /// Tokens issued to a LOGIN with the right password, owed as `OK <token>`.
    owed_tokens: Vec<String>,
    all_tokens: BTreeSet<String>,
}

impl Backend {
    fn live(&self, now: u64) -> Option<(String, u64)> {
        let t = self.current.as_ref()?;
        self.tokens.get(t).filter(|(_, exp)| now < *exp).cloned()
    }
}

/// Run the steps and check.
pub fn session(input: Input) {
    let ttl = u64::from(input.ttl_ms) + 1;
    let mut d = Driver::new(Auth::new(Instant::ZERO), 0);
    let mut b = Backend::default();
    b.passwords.insert("alice".into(), "correct horse".into());
    let mut inflight: Option<Owned> = None;
    // Logged in until (ms), as the session was told by replies.
    let mut told_until: Option<u64> = None;
    // The last request was a PASSWD check the backend said yes to.
    let mut check_done = false;
    for op in input.ops {
        match op {
            Op::Line(l) => {
                let u = |i: u8| USERS[i as usize % USERS.len()];
                let p = |i: u8| PASSWORDS[i as usize % PASSWORDS.len()];
                let s = match l {
                    Line::Register(i, j) => format!("REGISTER {} {}\n", u(i), p(j)),
                    Line::Login(i, j) => format!("login {} {}\r\n", u(i), p(j)),
                    Line::Token(i) => {
                        let t = b.all_tokens.iter().nth(i as usize % 4).cloned();
                        format!("TOKEN {}\n", t.unwrap_or_else(|| format!("{:032x}", i)))
                    }
                    Line::Whoami => "WHOAMI\n".into(),
                    Line::Passwd(j) => format!("PASSWD {}\n", p(j)),
                    Line::Bare(j) => format!("{}\n", p(j)),
                    Line::Logout => "LOGOUT\n".into(),
                    Line::Quit => "QUIT\n".into(),
                };
                d.input(s.as_bytes());
            }
            Op::Raw(bytes) => d.input(&bytes),
            Op::Drain(n) => {
                d.drain(n as usize);
                d.offer();
            }
            Op::Eof => d.eof(),
            Op::Advance(ms) => d.advance(u64::from(ms)),
            Op::Reply(a) => {
                if let Some(req) = inflight.take() {
                    let now = d.now;
                    let mut token = String::new();
                    let mut user = String::new();
                    let reply = match (&req, a) {
                        (_, Answer::Io)
                            if !matches!(
                                req,
                                Owned::Login(..)
                                    | Owned::Token(_)
                                    | Owned::Whoami
                                    | Owned::Check(_)
                            ) =>
                        {
                            Reply::Failed(ErrorCode::Io)
                        }
                        // §5: LOGIN and PASSWD's check when locked out, REGISTER over
                        // `--register-limit`.
                        (
                            Owned::Login(..) | Owned::Check(_) | Owned::Register(..),
                            Answer::Throttled,
                        ) => Reply::Failed(ErrorCode::Throttled),
                        (Owned::Register(..), Answer::Full) => Reply::Failed(ErrorCode::Busy),
                        (Owned::Register(u, p), _) => {
                            if b.passwords.contains_key(u) {
                                Reply::Failed(ErrorCode::UserExists)
                            } else {
                                b.passwords.insert(u.clone(), p.clone());
                                Reply::Done
                            }
                        }
                        (Owned::Login(u, p), _) => {
                            if b.passwords.get(u) == Some(p) {
                                b.issued += 1;
                                token.push_str(&format!("{:032x}", b.issued * 0x9e37_79b9));
                                b.tokens.insert(token.clone(), (u.clone(), now + ttl));
                                b.current = Some(token.clone());
                                b.owed_tokens.push(token.clone());
                                b.all_tokens.insert(token.clone());
                                Reply::Token {
                                    token: &token,
                                    ttl: Duration::from_millis(ttl),
                                }
                            } else {
                                Reply::Failed(ErrorCode::BadCredentials)
                            }
                        }
                        (Owned::Token(t), _) => {
                            match b.tokens.get(t).filter(|(_, e)| now < *e).cloned() {
                                Some((u, exp)) => {
                                    b.current = Some(t.clone());
                                    user.push_str(&u);
                                    Reply::User {
                                        user: &user,
                                        ttl: Duration::from_millis(exp - now),
                                    }
                                }
                                None => Reply::Failed(ErrorCode::BadToken),
                            }
                        }
                        (Owned::Whoami, _) => match b.live(now) {
                            Some((u, exp)) => {
                                user.push_str(&u);
                                Reply::User {
                                    user: &user,
                                    ttl: Duration::from_millis(exp - now),
                                }
                            }
                            None => Reply::Failed(ErrorCode::NotLoggedIn),
                        },
                        (Owned::Check(p), _) => match b.live(now) {
                            Some((u, _)) if b.passwords.get(&u) == Some(p) => Reply::Done,
                            Some(_) => Reply::Failed(ErrorCode::BadCredentials),
                            None => Reply::Failed(ErrorCode::NotLoggedIn),
                        },
                        (Owned::Set(p), _) => match b.live(now) {
                            Some((u, _)) => {
                                b.passwords.insert(u, p.clone());
                                Reply::Done
                            }
                            None => Reply::Failed(ErrorCode::NotLoggedIn),
                        },
                        (Owned::Logout, _) => {
                            if let Some(t) = b.current.take() {
                                b.tokens.remove(&t);
                            }
                            Reply::Done
                        }
                    };
                    match reply {
                        Reply::Token { ttl, .. } | Reply::User { ttl, .. } => {
                            told_until = Some(now + ttl.total_millis());
                        }
                        Reply::Failed(ErrorCode::NotLoggedIn) => told_until = None,
                        Reply::Done if matches!(req, Owned::Logout) => told_until = None,
                        _ => {}
                    }
                    check_done = matches!((&req, reply), (Owned::Check(_), Reply::Done));
                    d.s.handle_reply(Instant::from_millis(now), reply);
                    d.sync();
                    if reply == Reply::Failed(ErrorCode::Busy) {
                        // §5: `busy` does not leave the connection usable.
                        assert!(d.closed().is_some(), "still open after ERR busy");
                    }
                    d.offer();
                }
            }
        }
        // Take the next request and check it against the line just read.
        if let Some(r) = d.s.poll_request() {
            assert!(inflight.is_none(), "a second request in flight");
            let owned = match r {
                Request::Register { user, password } => {
                    Owned::Register(user.into(), password.into())
                }
                Request::Login { user, password } => Owned::Login(user.into(), password.into()),
                Request::Token(t) => Owned::Token(t.into()),
                Request::Whoami => Owned::Whoami,
                Request::CheckPassword(p) => Owned::Check(p.into()),
                Request::SetPassword(p) => Owned::Set(p.into()),
                Request::Logout => Owned::Logout,
            };
            assert!(d.closed().is_none(), "a request after the close");
            let line = crate::last_line(&d.consumed);
            let logged_in = told_until.is_some_and(|t| d.now < t);
            match &owned {
                Owned::Set(p) => {
                    assert!(check_done, "SetPassword without a PASSWD check");
                    assert_eq!(line, p.as_bytes());
                    assert!(logged_in);
                }
                other => {
                    let cmd = parse_command(line).expect("a request follows a command");
                    match (other, cmd) {
                        (Owned::Register(u, p), Command::Register { user, password })
                        | (Owned::Login(u, p), Command::Login { user, password }) => {
                            assert_eq!((u.as_str(), p.as_str()), (user, password));
                        }
                        (Owned::Token(t), Command::Token(t2)) => assert_eq!(t, t2),
                        (Owned::Whoami, Command::Whoami) | (Owned::Logout, Command::Logout) => {
                            assert!(logged_in, "asked the backend for a session it lost")
                        }
                        (Owned::Check(p), Command::Passwd(p2)) => {
                            assert_eq!(p, p2);
                            assert!(logged_in);
                        }
                        (o, c) => panic!("request {o:?} after line {c:?}"),
                    }
                }
            }
            inflight = Some(owned);
            check_done = false;
        }
    }
    d.drain_all();
    let (lines, rest) = crate::lines(&d.out);
    assert!(rest.is_empty());
    let mut owed = b.owed_tokens.iter();
    for l in lines {
        assert!(l.len() < 128, "line over the room");
        let text = std::str::from_utf8(l).expect("UTF-8");
        match parse_reply(text).expect("a §5 line") {
            ServerReply::Ok(t) if t.len() == 32 && t.bytes().all(|c| c.is_ascii_hexdigit()) => {
                assert_eq!(
                    Some(&t.to_string()),
                    owed.next(),
                    "OK <token> not issued for the right password"
                );
            }
            _ => {}
        }
    }
    assert_eq!(owed.next(), None, "an issued token was never sent");
}
