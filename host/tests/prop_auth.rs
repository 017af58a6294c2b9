//! Model-based property test of the auth backend (`server::auth`: the user and session
//! files, Argon2id, token hashes, the throttle), driven through the real `AuthService`
//! exactly as the event loop drives it (issue 6).
//!
//! Three connections (`Service::open` with a peer address, as the loop opens
//! them) send arbitrary sequences of REGISTER, LOGIN with right and wrong passwords
//! (also bursts of guesses), TOKEN with tokens issued earlier (live, revoked, or from
//! before a restart), WHOAMI, PASSWD (both lines), LOGOUT and lines that are not UTF-8;
//! connections are dropped and reopened from other peers (IPv4, the same IPv4 mapped
//! into IPv6, two IPv6 addresses of one /64 and one of another), and the service is
//! restarted on the same folder, also after a crash in the middle of rewriting both
//! files (their temporaries left half written). User names come from the §5 alphabet (including `-`,
//! `.`, `..`, 32 characters) and from outside it (unicode, TAB, NUL, `;`, 33
//! characters); passwords are arbitrary UTF-8 of 8..=128 bytes (spaces, TABs, CRs and
//! other controls, multi-byte characters) with some just outside the limits.
//!
//! Every reply must be the one the model predicts, byte for byte. The model keeps the
//! users and their current passwords, the live sessions, each connection's session and
//! the throttle (per user name — all invalid names share one key — and per address,
//! an IPv6 peer by its /64; wrong LOGIN passwords and wrong PASSWD old passwords count
//! alike; five failures block a key, which the model keeps blocked
//! until a restart since a case lasts far less than the 60 s window; REGISTER makes at
//! most `--register-limit` users per address key, 2 here so that cases reach it, then
//! answers `throttled`, until a restart). After every step:
//! the user file holds exactly the model's users, each hash verifying the model's
//! password; the session file holds exactly the SHA-256 of the live tokens with their
//! users; no password (of 8 bytes or more) or token, as sent, appears in any file of
//! the folder or in the server log (at `-vv`); no temporary is left; and the log has
//! one lockout line per lockout the model predicts. After a restart every live token
//! works on a new connection and every revoked one does not.
//!
//! Argon2id runs at its cheapest cost (8 KiB, 1 pass) through the existing test hook
//! (the `Cost` given to `AuthService::new`, which is what the hidden
//! `--argon2-memory`/`--argon2-passes` flags set): the property is about the backend's
//! logic and files, not the hash's cost, which `secret.rs` and `serve_auth.rs` test.
//! Cases: 64 by default (`PROPTEST_CASES` overrides), at most 40 steps.

mod prop_support;

use prop_support::cases;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::TestCaseResult;
use socklab::log::{Level, Logger};
use socklab::server::auth::AuthService;
use socklab::server::auth::secret::{Cost, Hasher, TokenHash};
use socklab::server::service::Service;
use socklab::server::wake::Wake;
use socklab_core::Instant;
use socklab_core::auth::{ErrorCode, MIN_PASSWORD, valid_password, valid_user};
use socklab_core::session::Session;

const CONNS: usize = 3;
/// Argon2id's minimum: m = 8 KiB, t = 1.
const CHEAPEST: Cost = Cost {
    memory_kib: 8,
    passes: 1,
};
const TTL: Duration = Duration::from_secs(3600);
/// `--register-limit`, small so that cases reach it.
const REGISTER_LIMIT: u32 = 2;
const WAIT: Duration = Duration::from_secs(20);

fn peers() -> Vec<SocketAddr> {
    [
        "127.0.0.1:40000",
        "[::ffff:127.0.0.1]:40001",
        "10.0.0.7:5",
        "[2001:db8::1]:6",
        "[2001:db8::2:3]:7",
        "[2001:db8:0:1::1]:8",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect()
}

/// User names that break §5's rules; none contains a space (it would split the line
/// differently) or an LF.
fn invalid_users() -> Vec<String> {
    ["böb", "a\tb", "x;y", "root\0", "Ω", "a:b", "$", "a\u{200b}"]
        .iter()
        .map(|s| (*s).to_owned())
        .chain(std::iter::once("a".repeat(33)))
        .collect()
}

fn user() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Za-z0-9_.-]{1,32}",
        2 => prop_oneof![
            Just("alice".to_owned()),
            Just("-".to_owned()),
            Just(".".to_owned()),
            Just("..".to_owned()),
            Just("a".repeat(32)),
        ],
        1 => (0..usize::MAX).prop_map(|i| {
            let v = invalid_users();
            v[i % v.len()].clone()
        }),
    ]
}

/// A password as sent: UTF-8 without LF, not ending in CR (the line reader would drop
/// that one), and not empty (the parser would say `bad-command`).
fn password() -> impl Strategy<Value = String> {
    let fix = |mut s: String| {
        s.retain(|c| c != '\n');
        if s.is_empty() || s.ends_with('\r') {
            s.push('x');
        }
        s
    };
    prop_oneof![
        4 => "[ -~]{8,40}".prop_map(fix),
        2 => ".{8,40}".prop_map(fix),
        1 => proptest::collection::vec(any::<char>(), 2..40)
            .prop_map(move |v| fix(v.into_iter().collect())),
        1 => prop_oneof![
            Just("x".repeat(7)),
            Just("x".repeat(8)),
            Just("é".repeat(64)),
            Just("y".repeat(128)),
            Just("z".repeat(129)),
            Just(" spaces at both ends ".to_owned()),
            Just("tab\there\tand\rcr".to_owned()),
        ],
    ]
}

#[derive(Debug, Clone)]
enum Op {
    Register {
        c: usize,
        user: usize,
        pw: usize,
    },
    Login {
        c: usize,
        user: usize,
        pw: usize,
    },
    /// `n` LOGINs in a row for one user with passwords from the pool (a guesser).
    Guesses {
        c: usize,
        user: usize,
        n: usize,
    },
    /// LOGIN as a registered user (if any) with the current password.
    LoginRight {
        c: usize,
        user: usize,
    },
    /// TOKEN with the `t`-th token issued so far, or an unknown one.
    Token {
        c: usize,
        t: usize,
    },
    Whoami {
        c: usize,
    },
    /// PASSWD with the right old password or `old`, then the new password `new`.
    Passwd {
        c: usize,
        right: bool,
        old: usize,
        new: usize,
    },
    Logout {
        c: usize,
    },
    /// A line that is not UTF-8.
    NotUtf8 {
        c: usize,
        bytes: Vec<u8>,
    },
    /// The connection is dropped; a new one comes from `peer`.
    Reconnect {
        c: usize,
        peer: usize,
    },
    Restart,
    /// The server is killed while it rewrites both files: their temporaries (another
    /// pid's) are left half written, then it starts again.
    CrashRestart {
        cut: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let c = 0..CONNS;
    let i = 0..usize::MAX;
    prop_oneof![
        4 => (c.clone(), i.clone(), i.clone()).prop_map(|(c, user, pw)| Op::Register { c, user, pw }),
        2 => (c.clone(), i.clone(), i.clone()).prop_map(|(c, user, pw)| Op::Login { c, user, pw }),
        6 => (c.clone(), i.clone()).prop_map(|(c, user)| Op::LoginRight { c, user }),
        1 => (c.clone(), i.clone(), 1..8usize).prop_map(|(c, user, n)| Op::Guesses { c, user, n }),
        3 => (c.clone(), i.clone()).prop_map(|(c, t)| Op::Token { c, t }),
        3 => c.clone().prop_map(|c| Op::Whoami { c }),
        4 => (c.clone(), prop::bool::weighted(0.8), i.clone(), i.clone())
            .prop_map(|(c, right, old, new)| Op::Passwd { c, right, old, new }),
        2 => c.clone().prop_map(|c| Op::Logout { c }),
        1 => (c.clone(), proptest::collection::vec(any::<u8>(), 1..20)).prop_map(|(c, mut bytes)| {
            bytes.retain(|&b| b != b'\n');
            bytes.push(0xff); // never UTF-8
            Op::NotUtf8 { c, bytes }
        }),
        2 => (c, i).prop_map(|(c, peer)| Op::Reconnect { c, peer }),
        1 => Just(Op::Restart),
        1 => any::<usize>().prop_map(|cut| Op::CrashRestart { cut }),
    ]
}

/// A throttle key as §5 and DESIGN describe them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    User(String),
    Ip(IpAddr),
}

fn keys(user: &str, peer: SocketAddr) -> [Key; 2] {
    let user = if valid_user(user) { user } else { "" };
    let ip = match peer.ip().to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        v4 => v4,
    };
    [Key::User(user.to_owned()), Key::Ip(ip)]
}

#[derive(Debug, Default)]
struct Model {
    /// User → current password.
    users: BTreeMap<String, String>,
    /// Live token → user.
    live: HashMap<String, String>,
    /// Every token issued, in order.
    issued: Vec<String>,
    /// Each connection's peer and session token.
    conns: Vec<(SocketAddr, Option<String>)>,
    failures: HashMap<Key, usize>,
    blocked: HashSet<Key>,
    /// Users made per address key since the start (a case lasts far less than the
    /// hour `--register-limit` counts in).
    registered: HashMap<Key, usize>,
    /// Lockouts so far (one log line each).
    lockouts: usize,
    /// Every password and token sent or received.
    secrets: HashSet<String>,
}

fn err(code: ErrorCode) -> String {
    format!("ERR {code} {}\n", code.text())
}

fn ok(text: &str) -> String {
    format!("OK {text}\n")
}

struct Conn {
    s: Box<dyn Session + Send>,
    out: Vec<u8>,
}

impl Conn {
    fn open(service: &mut AuthService, peer: SocketAddr) -> Result<Conn, TestCaseError> {
        let s = service.open(Instant::from_millis(0), peer, Wake::unbound());
        let mut c = Conn { s, out: Vec::new() };
        prop_assert_eq!(c.line()?, "OK socklab-auth 1\n");
        Ok(c)
    }

    /// The next reply line; slow requests run on the service's pool, so this polls
    /// as the event loop would after a wake-up.
    fn line(&mut self) -> Result<String, TestCaseError> {
        prop_support::next_line(self.s.as_mut(), &mut self.out, WAIT, true)
    }

    /// Send one line, return the reply.
    fn say(&mut self, line: &[u8]) -> Result<String, TestCaseError> {
        let mut bytes = line.to_vec();
        bytes.push(b'\n');
        let n = self.s.handle_input(Instant::from_millis(1), &bytes);
        prop_assert_eq!(n, bytes.len(), "the whole line taken");
        self.line()
    }
}

struct World {
    dir: PathBuf,
    log: PathBuf,
    service: AuthService,
    conns: Vec<Conn>,
}

impl World {
    fn start(dir: &Path, log: &Path, model: &mut Model) -> Result<World, TestCaseError> {
        let logger = Logger::file(Level::Dump, log).unwrap();
        let idle = socklab_core::Duration::from_secs(300);
        let mut service = AuthService::new(dir, TTL, CHEAPEST, idle, logger)
            .map_err(TestCaseError::fail)?
            .with_register_limit(REGISTER_LIMIT);
        let mut conns = Vec::new();
        for (peer, token) in &mut model.conns {
            *token = None;
            conns.push(Conn::open(&mut service, *peer)?);
        }
        Ok(World {
            dir: dir.to_owned(),
            log: log.to_owned(),
            service,
            conns,
        })
    }
}

/// LOGIN `user` `pw` on connection `c`: the model's answer, applied to the model.
fn expect_login(m: &mut Model, c: usize, user: &str, pw: &str) -> Option<String> {
    let ks = keys(user, m.conns[c].0);
    if ks.iter().any(|k| m.blocked.contains(k)) {
        return Some(err(ErrorCode::Throttled));
    }
    if m.users.get(user).is_some_and(|p| p == pw) {
        return None; // OK <new token>
    }
    count_failure(m, ks);
    Some(err(ErrorCode::BadCredentials))
}

/// A wrong password (LOGIN or PASSWD's old one) for these keys, as §5 counts it.
fn count_failure(m: &mut Model, ks: [Key; 2]) {
    let mut locked = false;
    for k in ks {
        let n = m.failures.entry(k.clone()).or_insert(0);
        *n += 1;
        if *n >= 5 {
            m.failures.remove(&k);
            m.blocked.insert(k);
            locked = true;
        }
    }
    m.lockouts += usize::from(locked);
}

fn login(w: &mut World, m: &mut Model, c: usize, user: &str, pw: &str) -> TestCaseResult {
    m.secrets.insert(pw.to_owned());
    let expected = expect_login(m, c, user, pw);
    let reply = w.conns[c].say(format!("LOGIN {user} {pw}").as_bytes())?;
    match expected {
        Some(e) => prop_assert_eq!(reply, e, "LOGIN {:?} {:?}", user, pw),
        None => {
            let token = reply
                .strip_prefix("OK ")
                .and_then(|t| t.strip_suffix('\n'))
                .filter(|t| socklab_core::auth::valid_token(t))
                .ok_or_else(|| TestCaseError::fail(format!("LOGIN {user:?}: {reply:?}")))?;
            prop_assert!(!m.issued.iter().any(|t| t == token), "token issued twice");
            m.live.insert(token.to_owned(), user.to_owned());
            m.issued.push(token.to_owned());
            // A user keeps at most 16 sessions: the 17th login ends the oldest. (After
            // a restart the server tells "oldest" by expiry, which ties only for more
            // than 16 logins of one user within a millisecond.)
            let mine: Vec<&String> = m
                .issued
                .iter()
                .filter(|t| m.live.get(*t).is_some_and(|u| u == user))
                .collect();
            if mine.len() > socklab::server::auth::backend::MAX_SESSIONS_PER_USER {
                let oldest = mine[0].clone();
                m.live.remove(&oldest);
            }
            m.secrets.insert(token.to_owned());
            m.conns[c].1 = Some(token.to_owned());
        }
    }
    Ok(())
}

/// The connection's session as the backend sees it: logged out if the token died.
fn current_user(m: &mut Model, c: usize) -> Option<String> {
    let t = m.conns[c].1.clone()?;
    match m.live.get(&t) {
        Some(u) => Some(u.clone()),
        None => {
            m.conns[c].1 = None;
            None
        }
    }
}

/// What the files and the log must (and must not) hold.
fn check(w: &World, m: &Model, hasher: &Hasher) -> TestCaseResult {
    let mut names = Vec::new();
    let mut contents = Vec::new();
    for e in std::fs::read_dir(&w.dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().into_string().unwrap();
        contents.push((name.clone(), std::fs::read(e.path()).unwrap()));
        names.push(name);
    }
    names.sort();
    // The user file exists from the first REGISTER on, the session file from the
    // first LOGIN, PASSWD or LOGOUT; nothing else (no temporary) is ever left.
    let has_sessions = names.iter().any(|n| n == "sessions");
    let mut expected_names = Vec::new();
    if has_sessions {
        expected_names.push("sessions");
    }
    if !m.users.is_empty() {
        expected_names.push("users");
    }
    prop_assert_eq!(&names, &expected_names, "files in the folder");
    prop_assert!(
        has_sessions || m.live.is_empty(),
        "live sessions but no session file"
    );

    // Users: header, then `user<TAB>PHC` sorted; each PHC verifies the model's password.
    if m.users.is_empty() {
        prop_assert!(names.is_empty());
        return check_secrets(w, m, &contents);
    }
    let text = std::fs::read_to_string(w.dir.join("users")).unwrap();
    let mut lines = text.lines();
    prop_assert_eq!(lines.next(), Some("# socklab-auth users 1"));
    let mut seen = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        prop_assert_eq!(f.len(), 2, "user line {:?}", line);
        prop_assert!(
            f[1].starts_with("$argon2id$v=19$m=8,t=1,p=1$"),
            "{:?}",
            line
        );
        let pw = m.users.get(f[0]);
        prop_assert!(pw.is_some(), "user {:?} not in the model", f[0]);
        prop_assert!(hasher.verify(pw.unwrap(), Some(f[1])), "hash of {:?}", f[0]);
        seen.push(f[0].to_owned());
    }
    prop_assert!(text.ends_with('\n'));
    let expected: Vec<String> = m.users.keys().cloned().collect();
    prop_assert_eq!(seen, expected, "users in the file");

    // Sessions: header, then `sha256<TAB>user<TAB>expiry`, exactly the live tokens.
    if has_sessions {
        let text = std::fs::read_to_string(w.dir.join("sessions")).unwrap();
        let mut lines = text.lines();
        prop_assert_eq!(lines.next(), Some("# socklab-auth sessions 1"));
        let mut got = BTreeMap::new();
        for line in lines {
            let f: Vec<&str> = line.split('\t').collect();
            prop_assert_eq!(f.len(), 3, "session line {:?}", line);
            prop_assert!(f[2].parse::<u64>().is_ok(), "{:?}", line);
            got.insert(f[0].to_owned(), f[1].to_owned());
        }
        let expected: BTreeMap<String, String> = m
            .live
            .iter()
            .map(|(t, u)| (TokenHash::of(t).to_hex(), u.clone()))
            .collect();
        prop_assert_eq!(got, expected, "sessions in the file");
    }
    check_secrets(w, m, &contents)
}

fn check_secrets(w: &World, m: &Model, files: &[(String, Vec<u8>)]) -> TestCaseResult {
    let log = std::fs::read(&w.log).unwrap();
    let lockouts = String::from_utf8_lossy(&log)
        .matches("LOGIN and PASSWD throttled for 60 s")
        .count();
    prop_assert_eq!(lockouts, m.lockouts, "lockout lines in the log");
    let log = ("the log".to_owned(), log);
    // Strings shorter than the shortest password §5 accepts are not checked: `-<TAB>`
    // is in every user file that holds a user `-`.
    for secret in m.secrets.iter().filter(|s| s.len() >= MIN_PASSWORD) {
        let s = secret.as_bytes();
        for (name, bytes) in files.iter().chain(std::iter::once(&log)) {
            let found = bytes.windows(s.len()).any(|w| w == s);
            prop_assert!(!found, "secret {:?} in {}", secret, name);
        }
    }
    Ok(())
}

fn run(users: &[String], pws: &[String], ops: &[Op]) -> TestCaseResult {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("auth");
    let log = tmp.path().join("log");
    let peers = peers();
    let hasher = Hasher::new(CHEAPEST).unwrap();
    let mut m = Model {
        conns: (0..CONNS).map(|i| (peers[i], None)).collect(),
        ..Model::default()
    };
    let mut w = World::start(&dir, &log, &mut m)?;
    for op in ops {
        match op {
            Op::Register { c, user, pw } => {
                let (user, pw) = (&users[user % users.len()], &pws[pw % pws.len()]);
                m.secrets.insert(pw.clone());
                let expected = if !valid_user(user) {
                    err(ErrorCode::BadUser)
                } else if !valid_password(pw) {
                    err(ErrorCode::WeakPassword)
                } else if m.users.contains_key(user) {
                    err(ErrorCode::UserExists)
                } else if m
                    .registered
                    .get(&keys(user, m.conns[*c].0)[1])
                    .copied()
                    .unwrap_or(0)
                    >= REGISTER_LIMIT as usize
                {
                    format!("ERR throttled {}\n", socklab_core::auth::REGISTER_THROTTLED)
                } else {
                    *m.registered
                        .entry(keys(user, m.conns[*c].0)[1].clone())
                        .or_default() += 1;
                    m.users.insert(user.clone(), pw.clone());
                    ok("registered")
                };
                let reply = w.conns[*c].say(format!("REGISTER {user} {pw}").as_bytes())?;
                prop_assert_eq!(reply, expected, "REGISTER {:?} {:?}", user, pw);
            }
            Op::Login { c, user, pw } => {
                let (user, pw) = (&users[user % users.len()], &pws[pw % pws.len()]);
                login(&mut w, &mut m, *c, user, pw)?;
            }
            Op::Guesses { c, user, n } => {
                let user = &users[user % users.len()];
                for k in 0..*n {
                    login(&mut w, &mut m, *c, user, &pws[k % pws.len()])?;
                }
            }
            Op::LoginRight { c, user } => {
                let registered: Vec<&String> = m.users.keys().collect();
                let user = match registered.len() {
                    0 => users[user % users.len()].clone(),
                    n => registered[user % n].clone(),
                };
                let user = &user;
                let pw = m.users.get(user).cloned().unwrap_or_else(|| pws[0].clone());
                login(&mut w, &mut m, *c, user, &pw)?;
            }
            Op::Token { c, t } => {
                let token = if m.issued.is_empty() || t % 5 == 0 {
                    format!("{:032x}", t)
                } else {
                    m.issued[t % m.issued.len()].clone()
                };
                let expected = match m.live.get(&token) {
                    Some(u) => {
                        m.conns[*c].1 = Some(token.clone());
                        ok(u)
                    }
                    None => err(ErrorCode::BadToken),
                };
                let reply = w.conns[*c].say(format!("TOKEN {token}").as_bytes())?;
                prop_assert_eq!(reply, expected, "TOKEN");
            }
            Op::Whoami { c } => {
                let expected = match current_user(&mut m, *c) {
                    Some(u) => ok(&u),
                    None => err(ErrorCode::NotLoggedIn),
                };
                prop_assert_eq!(w.conns[*c].say(b"WHOAMI")?, expected, "WHOAMI");
            }
            Op::Passwd { c, right, old, new } => {
                let user = current_user(&mut m, *c);
                let old = match (&user, right) {
                    (Some(u), true) => m.users[u].clone(),
                    _ => pws[old % pws.len()].clone(),
                };
                let new = pws[new % pws.len()].clone();
                m.secrets.insert(old.clone());
                m.secrets.insert(new.clone());
                let reply = w.conns[*c].say(format!("PASSWD {old}").as_bytes())?;
                let Some(user) = user else {
                    prop_assert_eq!(reply, err(ErrorCode::NotLoggedIn), "PASSWD");
                    continue;
                };
                // §5: a wrong old password counts as a failed LOGIN does, and a locked
                // out user or address is refused even the right one.
                let ks = keys(&user, m.conns[*c].0);
                if ks.iter().any(|k| m.blocked.contains(k)) {
                    prop_assert_eq!(reply, err(ErrorCode::Throttled), "PASSWD");
                    continue;
                }
                if m.users[&user] != old {
                    count_failure(&mut m, ks);
                    prop_assert_eq!(reply, err(ErrorCode::BadCredentials), "PASSWD");
                    continue;
                }
                prop_assert_eq!(reply, ok("new-password"), "PASSWD");
                let reply = w.conns[*c].say(new.as_bytes())?;
                if !valid_password(&new) {
                    prop_assert_eq!(reply, err(ErrorCode::WeakPassword), "new password");
                    continue;
                }
                prop_assert_eq!(reply, ok("changed"), "new password");
                m.users.insert(user.clone(), new);
                // The user's other sessions end; this connection's stays.
                let keep = m.conns[*c].1.clone();
                m.live.retain(|t, u| *u != user || Some(t) == keep.as_ref());
            }
            Op::Logout { c } => {
                let expected = match m.conns[*c].1.take() {
                    Some(t) => {
                        m.live.remove(&t);
                        ok("bye-token")
                    }
                    None => err(ErrorCode::NotLoggedIn),
                };
                prop_assert_eq!(w.conns[*c].say(b"LOGOUT")?, expected, "LOGOUT");
            }
            Op::NotUtf8 { c, bytes } => {
                let reply = w.conns[*c].say(bytes)?;
                prop_assert_eq!(reply, "ERR bad-command the line is not valid UTF-8\n");
            }
            Op::Reconnect { c, peer } => {
                let peer = peers[peer % peers.len()];
                m.conns[*c] = (peer, None);
                w.conns[*c] = Conn::open(&mut w.service, peer)?;
            }
            Op::Restart | Op::CrashRestart { .. } => {
                drop(w);
                if let Op::CrashRestart { cut } = op {
                    for name in ["users", "sessions"] {
                        let mut text = std::fs::read(dir.join(name)).unwrap_or_default();
                        text.extend_from_slice(b"new-user\t$argon2id$v=19$m=8,t=1,p=1$x$y\n");
                        text.truncate(cut % (text.len() + 1));
                        std::fs::write(dir.join(format!(".tmp-{name}-999999-7")), text).unwrap();
                    }
                }
                m.failures.clear();
                m.blocked.clear();
                m.registered.clear();
                w = World::start(&dir, &log, &mut m)?;
                // Sessions are durable; revoked tokens stay revoked.
                let mut probe = Conn::open(&mut w.service, peers[0])?;
                for t in &m.issued {
                    let expected = match m.live.get(t) {
                        Some(u) => ok(u),
                        None => err(ErrorCode::BadToken),
                    };
                    let reply = probe.say(format!("TOKEN {t}").as_bytes())?;
                    prop_assert_eq!(reply, expected, "TOKEN after a restart");
                }
            }
        }
        check(&w, &m, &hasher)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(64),
        max_shrink_iters: 1000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn auth_backend_matches_the_model(
        users in proptest::collection::vec(user(), 4),
        pws in proptest::collection::vec(password(), 5),
        ops in proptest::collection::vec(op(), 1..=40),
    ) {
        run(&users, &pws, &ops)?;
    }
}
