//! What runs an auth session's requests: the [`Backend`] every connection shares (users,
//! logins, Argon2, throttling) and each connection's [`ConnBackend`], the
//! [`Worker`] through which [`Pooled`](crate::server::pooled::Pooled) answers cheap
//! requests (a token lookup) at once on the loop and slow ones (Argon2, `fsync`) on the
//! worker pool. A WHOAMI never waits in the pool's queue behind other people's hashes,
//! which is what keeps the server responsive while logins are being verified.
//!
//! Passwords travel in [`Zeroizing`] strings and tokens are wiped from the connection's
//! backend as soon as the reply line is queued.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use socklab_core::auth::{Auth, ErrorCode, Reply, Request};
use zeroize::{Zeroize, Zeroizing};

use super::register_limit::RegisterLimit;
use super::secret::{Hasher, TokenHash, new_token};
use super::store::{Login, Store, unix_ms};
use super::throttle::{Key, Throttle};
use crate::log::Logger;
use crate::server::pooled::Worker;

/// Live logins (sessions, in §5's words) one user may have at once (phones, laptops, lab
/// machines...). A LOGIN past it ends that user's oldest login.
pub const MAX_SESSIONS_PER_USER: usize = 16;

/// Default `--max-users`: far more than a lab has students, and it keeps the user file
/// (rewritten whole on every change) around a megabyte.
pub const MAX_USERS: usize = 10_000;

/// What every connection's backend shares.
#[derive(Debug)]
pub struct Backend {
    /// Users and sessions, and their files.
    pub store: Store,
    /// Argon2id at the configured cost.
    pub hasher: Hasher,
    /// Wrong-password counts (LOGIN and PASSWD).
    pub throttle: Mutex<Throttle>,
    /// New users per address (`--register-limit`).
    pub register_limit: Mutex<RegisterLimit>,
    /// `--token-ttl`.
    pub ttl: std::time::Duration,
    /// `--max-users`: REGISTER beyond it is refused with `ERR busy`.
    pub max_users: usize,
    /// The server log: failed saves and lockouts are reported there, never a password,
    /// a token or a hash.
    pub log: Logger,
}

impl Backend {
    fn error(&self, peer: SocketAddr, what: std::fmt::Arguments<'_>, e: &std::io::Error) {
        let log = &self.log;
        let why = crate::os_error::describe(e);
        log.error("auth", peer, format_args!("{what}: {why}"));
    }
}

/// A request in owned form.
#[derive(Debug)]
pub enum Job {
    Register(String, Zeroizing<String>),
    Login(String, Zeroizing<String>),
    Token(Zeroizing<String>),
    Whoami,
    CheckPassword(Zeroizing<String>),
    SetPassword(Zeroizing<String>),
    Logout,
}

impl Job {
    fn from_request(req: Request<'_>) -> Job {
        let secret = |s: &str| Zeroizing::new(s.to_owned());
        match req {
            Request::Register { user, password } => Job::Register(user.into(), secret(password)),
            Request::Login { user, password } => Job::Login(user.into(), secret(password)),
            Request::Token(t) => Job::Token(secret(t)),
            Request::Whoami => Job::Whoami,
            Request::CheckPassword(p) => Job::CheckPassword(secret(p)),
            Request::SetPassword(p) => Job::SetPassword(secret(p)),
            Request::Logout => Job::Logout,
        }
    }
}

/// A reply whose text (token or user) stays in the connection's backend.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    Done,
    Token(u64),
    User(u64),
    Failed(ErrorCode),
}

/// One connection's view of the backend, travelling to a worker with each slow request.
#[derive(Debug)]
pub struct ConnBackend {
    backend: Arc<Backend>,
    peer: SocketAddr,
    /// The login this connection is logged in with.
    current: Option<TokenHash>,
    /// The token or user name of the last outcome.
    text: Zeroizing<String>,
}

impl Worker<Auth> for ConnBackend {
    type Job = Job;
    type Outcome = Outcome;

    fn job(&mut self, request: Request<'_>) -> Job {
        Job::from_request(request)
    }

    /// Table lookups only: answered on the loop.
    fn is_cheap(&self, job: &Job) -> bool {
        matches!(job, Job::Token(_) | Job::Whoami)
    }

    fn run(&mut self, job: Job) -> Outcome {
        match self.try_run(&job) {
            Ok(o) => o,
            Err(code) => Outcome::Failed(code),
        }
    }

    fn reply(&self, outcome: Outcome) -> Reply<'_> {
        let ttl = socklab_core::Duration::from_millis;
        match outcome {
            Outcome::Done => Reply::Done,
            Outcome::Token(ms) => Reply::Token {
                token: &self.text,
                ttl: ttl(ms),
            },
            Outcome::User(ms) => Reply::User {
                user: &self.text,
                ttl: ttl(ms),
            },
            Outcome::Failed(c) => Reply::Failed(c),
        }
    }

    fn delivered(&mut self) {
        self.text.zeroize();
    }
}

impl ConnBackend {
    /// The backend as seen by a connection from `peer`, not logged in.
    pub fn new(backend: Arc<Backend>, peer: SocketAddr) -> Self {
        ConnBackend {
            backend,
            peer,
            current: None,
            text: Zeroizing::new(String::new()),
        }
    }

    /// The live login of this connection: (user, ms left).
    fn current_login(&mut self) -> Result<(String, u64), ErrorCode> {
        let now = unix_ms();
        let found = self.current.and_then(|h| {
            let t = self.backend.store.lock();
            t.session(&h, now)
                .map(|s| (s.user.clone(), s.expires - now))
        });
        if found.is_none() {
            self.current = None;
        }
        found.ok_or(ErrorCode::NotLoggedIn)
    }

    fn try_run(&mut self, job: &Job) -> Result<Outcome, ErrorCode> {
        let b = self.backend.clone();
        let peer = self.peer;
        let io = |e: std::io::Error| {
            b.error(
                peer,
                format_args!("cannot save in {}", b.store.dir().display()),
                &e,
            );
            ErrorCode::Io
        };
        match job {
            Job::Register(user, password) => {
                {
                    let t = b.store.lock();
                    if t.users.contains_key(user) {
                        return Err(ErrorCode::UserExists);
                    }
                    if t.users.len() >= b.max_users {
                        drop(t);
                        return Err(self.table_full());
                    }
                }
                // Counted before the hash, so parallel REGISTERs cannot pass the
                // limit while they hash; given back if no user is made.
                let limit = || {
                    b.register_limit
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                };
                let slot = limit()
                    .begin(peer.ip(), std::time::Instant::now())
                    .ok_or(ErrorCode::Throttled)?;
                let last = slot.last;
                if let Err(code) = self.make_user(user, password) {
                    limit().cancel(slot);
                    return Err(code);
                }
                if last {
                    let log = &b.log;
                    let n = limit().per_hour();
                    let what = format_args!(
                        "REGISTER limit reached: {n} new users from this address within \
                         an hour (--register-limit {n}); more answer ERR throttled"
                    );
                    log.event("auth", peer, what);
                }
                Ok(Outcome::Done)
            }
            Job::Login(user, password) => {
                // Names that cannot exist share one key, so a flood of long junk names
                // costs the table one entry, not one each.
                let name = if socklab_core::auth::valid_user(user) {
                    user.clone()
                } else {
                    String::new()
                };
                self.check_password(name, user, password)?;
                let token = Zeroizing::new(new_token().map_err(|_| ErrorCode::Io)?);
                let hash = TokenHash::of(&token);
                let ttl = b.ttl.as_millis() as u64;
                let login = Login {
                    hash,
                    user: user.clone(),
                    expires: unix_ms().saturating_add(ttl),
                    issued: 0, // numbered by add_session
                };
                let evicted = {
                    let mut t = b.store.lock();
                    t.add_session(login);
                    // One user's sessions are bounded, so no peer with a password can
                    // grow the table by logging in again and again: past the limit the
                    // oldest ends.
                    t.evict_over_limit(user, MAX_SESSIONS_PER_USER)
                };
                // §5: the session is durable before the client sees its token.
                b.store.save_sessions().map_err(|e| {
                    let mut t = b.store.lock();
                    t.sessions.remove(&hash.selector());
                    if let Some(old) = evicted.clone() {
                        t.sessions.insert(old.hash.selector(), old);
                    }
                    io(e)
                })?;
                self.current = Some(hash);
                self.set_text(&token);
                Ok(Outcome::Token(ttl))
            }
            Job::Token(token) => {
                let hash = TokenHash::of(token);
                let now = unix_ms();
                let found = b
                    .store
                    .lock()
                    .session(&hash, now)
                    .map(|s| (s.user.clone(), s.expires - now));
                let (user, left) = found.ok_or(ErrorCode::BadToken)?;
                self.current = Some(hash);
                self.set_text(&user);
                Ok(Outcome::User(left))
            }
            Job::Whoami => {
                let (user, left) = self.current_login()?;
                self.set_text(&user);
                Ok(Outcome::User(left))
            }
            Job::CheckPassword(old) => {
                let (user, _) = self.current_login()?;
                self.check_password(user.clone(), &user, old)?;
                Ok(Outcome::Done)
            }
            Job::SetPassword(new) => {
                let (user, _) = self.current_login()?;
                let phc = b.hasher.hash(new).map_err(|_| ErrorCode::Io)?;
                let old = b.store.lock().users.insert(user.clone(), phc);
                b.store.save_users().map_err(|e| {
                    if let Some(old) = old {
                        b.store.lock().users.insert(user.clone(), old);
                    }
                    io(e)
                })?;
                // A changed password ends the user's other sessions: whoever knew the
                // old one may have logged in with it.
                let keep = self.current;
                b.store
                    .lock()
                    .sessions
                    .retain(|_, s| s.user != user || keep.is_some_and(|k| k.matches(&s.hash)));
                b.store.save_sessions().map_err(io)?;
                Ok(Outcome::Done)
            }
            Job::Logout => {
                if let Some(h) = self.current.take() {
                    let mut t = b.store.lock();
                    if t.sessions
                        .get(&h.selector())
                        .is_some_and(|s| s.hash.matches(&h))
                    {
                        t.sessions.remove(&h.selector());
                    }
                }
                b.store.save_sessions().map_err(io)?;
                Ok(Outcome::Done)
            }
        }
    }

    /// Hash `password` and add `user`, unless it was taken or the table filled up
    /// meanwhile; then save the user file (rolled back if that fails).
    fn make_user(&self, user: &str, password: &str) -> Result<(), ErrorCode> {
        let b = &self.backend;
        let phc = b.hasher.hash(password).map_err(|_| ErrorCode::Io)?;
        {
            let mut t = b.store.lock();
            if t.users.contains_key(user) {
                return Err(ErrorCode::UserExists);
            }
            // Checked again: others may have registered during the hash.
            if t.users.len() >= b.max_users {
                drop(t);
                return Err(self.table_full());
            }
            t.users.insert(user.to_owned(), phc);
        }
        b.store.save_users().map_err(|e| {
            b.store.lock().users.remove(user);
            b.error(
                self.peer,
                format_args!("cannot save in {}", b.store.dir().display()),
                &e,
            );
            ErrorCode::Io
        })
    }

    /// `--max-users` reached: say so in the log, answer `busy`.
    fn table_full(&self) -> ErrorCode {
        let log = &self.backend.log;
        let what = format_args!(
            "REGISTER refused: the user table is full (--max-users {})",
            self.backend.max_users
        );
        log.event("auth", self.peer, what);
        ErrorCode::Busy
    }

    /// Verify `password` for `user` under the throttle (§5): refused without verifying
    /// while `key` (the user) or this peer's address is locked out; a wrong password
    /// counts towards the lockout, a right one does not. An unknown user verifies
    /// against the dummy hash, so it costs what a wrong password costs.
    fn check_password(&self, key: String, user: &str, password: &str) -> Result<(), ErrorCode> {
        let b = &self.backend;
        let lock = || b.throttle.lock().unwrap_or_else(PoisonError::into_inner);
        let keys = [Key::User(key), Key::ip(self.peer.ip())];
        let attempt = lock()
            .begin(keys, std::time::Instant::now())
            .ok_or(ErrorCode::Throttled)?;
        let phc = b.store.lock().users.get(user).cloned();
        if b.hasher.verify(password, phc.as_deref()) && phc.is_some() {
            lock().succeeded(attempt);
            return Ok(());
        }
        let locked = lock().failed(attempt, std::time::Instant::now());
        if !locked.is_empty() {
            let log = &b.log;
            let whom: Vec<String> = locked
                .iter()
                .map(|k| match k {
                    Key::User(u) if u.is_empty() => "malformed user names".to_owned(),
                    Key::User(u) => format!("user {u}"),
                    Key::Ip(_) => "this address".to_owned(),
                })
                .collect();
            let what = format_args!(
                "LOGIN and PASSWD throttled for 60 s for {} ({} wrong passwords within 60 s)",
                whom.join(" and "),
                super::throttle::LIMIT
            );
            log.event("auth", self.peer, what);
        }
        Err(ErrorCode::BadCredentials)
    }

    fn set_text(&mut self, s: &str) {
        self.text.zeroize();
        self.text.push_str(s);
    }
}
