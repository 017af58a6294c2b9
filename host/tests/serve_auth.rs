//! `socklab serve auth` over real sockets: every §5 reply byte for byte, what the files
//! hold (and do not), throttling, revocation, expiry, restarts (even SIGKILL right after
//! `OK <token>`), the connection limit, a `-vv` log without secrets, and a loop that
//! stays responsive while Argon2 runs.

mod serve_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::thread;
use std::time::Duration;

use serve_support::{Server, read_line, read_to_eof, serve};
use socklab::server::auth::secret::TokenHash;

/// Cheap Argon2 for tests that are not about its cost (the default is OWASP's).
const CHEAP: [&str; 4] = ["--argon2-memory", "64", "--argon2-passes", "1"];

fn start(dir: &Path, extra: &[&str]) -> Server {
    let mut args = vec!["auth", "--port", "0", "--dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    serve(&args, 1)
}

fn cheap(dir: &Path, extra: &[&str]) -> Server {
    let mut args = CHEAP.to_vec();
    args.extend_from_slice(extra);
    start(dir, &args)
}

/// A connection past the greeting.
fn client(server: &Server) -> TcpStream {
    let mut s = server.connect();
    assert_eq!(read_line(&mut s), "OK socklab-auth 1\n");
    s
}

/// Send one line, return the reply line.
fn say(s: &mut TcpStream, line: &str) -> String {
    s.write_all(format!("{line}\n").as_bytes()).unwrap();
    read_line(s)
}

fn login(s: &mut TcpStream, user: &str, pw: &str) -> String {
    let reply = say(s, &format!("LOGIN {user} {pw}"));
    let token = reply
        .strip_prefix("OK ")
        .unwrap_or_else(|| panic!("login failed: {reply}"))
        .trim_end()
        .to_owned();
    assert_eq!(token.len(), 32);
    assert!(
        token
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    );
    token
}

const NOT_LOGGED_IN: &str = "ERR not-logged-in log in first (LOGIN or TOKEN)\n";
const BAD_CREDENTIALS: &str = "ERR bad-credentials wrong user name or password\n";
const BAD_TOKEN: &str = "ERR bad-token unknown, revoked or expired token\n";
const WEAK: &str = "ERR weak-password a password is 8 to 128 bytes\n";
const THROTTLED: &str = "ERR throttled too many wrong passwords; try again in a minute\n";

#[test]
fn every_reply_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let server = cheap(dir.path(), &[]);
    let mut a = client(&server);
    assert_eq!(say(&mut a, "REGISTER alice pass word 1"), "OK registered\n");
    assert_eq!(
        say(&mut a, "REGISTER alice another-1"),
        "ERR user-exists that user name is taken\n"
    );
    assert_eq!(
        say(&mut a, "REGISTER al/ice another-1"),
        "ERR bad-user a user name is 1 to 32 of A-Z a-z 0-9 _ . -\n"
    );
    assert_eq!(say(&mut a, "REGISTER bob short"), WEAK);
    assert_eq!(
        say(&mut a, &format!("REGISTER bob {}", "p".repeat(129))),
        WEAK
    );
    assert_eq!(
        say(&mut a, "REGISTER bob"),
        "ERR bad-command usage: REGISTER <user> <password>\n"
    );
    assert_eq!(
        say(&mut a, "LOGIN alice"),
        "ERR bad-command usage: LOGIN <user> <password>\n"
    );
    assert_eq!(
        say(&mut a, "TOKEN"),
        "ERR bad-command usage: TOKEN <token>\n"
    );
    assert_eq!(
        say(&mut a, "PASSWD"),
        "ERR bad-command usage: PASSWD <old password>\n"
    );
    assert_eq!(
        say(&mut a, "HELLO"),
        "ERR bad-command expected REGISTER, LOGIN, TOKEN, WHOAMI, PASSWD, LOGOUT or QUIT\n"
    );
    a.write_all(b"LOGIN \xff\xfe x\n").unwrap();
    assert_eq!(
        read_line(&mut a),
        "ERR bad-command the line is not valid UTF-8\n"
    );
    assert_eq!(say(&mut a, "WHOAMI"), NOT_LOGGED_IN);
    assert_eq!(say(&mut a, "PASSWD pass word 1"), NOT_LOGGED_IN);
    assert_eq!(say(&mut a, "LOGOUT"), NOT_LOGGED_IN);
    assert_eq!(say(&mut a, "LOGIN alice wrong-password"), BAD_CREDENTIALS);
    assert_eq!(say(&mut a, "LOGIN nobody pass word 1"), BAD_CREDENTIALS);
    let token = login(&mut a, "alice", "pass word 1");
    assert_eq!(say(&mut a, "whoami"), "OK alice\n");

    // Another connection presents the token like a cookie.
    let mut b = client(&server);
    assert_eq!(say(&mut b, "TOKEN 0123"), BAD_TOKEN);
    assert_eq!(say(&mut b, &format!("TOKEN {}", "0".repeat(32))), BAD_TOKEN);
    assert_eq!(say(&mut b, &format!("TOKEN {token}")), "OK alice\n");
    assert_eq!(say(&mut b, "WHOAMI"), "OK alice\n");

    // PASSWD: old password on its line, the new one on the next.
    assert_eq!(say(&mut a, "PASSWD wrong-password"), BAD_CREDENTIALS);
    assert_eq!(say(&mut a, "PASSWD pass word 1"), "OK new-password\n");
    assert_eq!(say(&mut a, "short"), WEAK);
    assert_eq!(say(&mut a, "PASSWD pass word 1"), "OK new-password\n");
    assert_eq!(say(&mut a, "new pass word 2"), "OK changed\n");
    assert_eq!(say(&mut a, "LOGIN alice pass word 1"), BAD_CREDENTIALS);
    let token2 = login(&mut a, "alice", "new pass word 2");
    assert_ne!(token, token2);

    // LOGOUT ends that session only; its token stops working everywhere.
    assert_eq!(say(&mut b, "LOGOUT"), "OK bye-token\n");
    assert_eq!(say(&mut b, "WHOAMI"), NOT_LOGGED_IN);
    assert_eq!(say(&mut b, &format!("TOKEN {token}")), BAD_TOKEN);
    assert_eq!(say(&mut a, "WHOAMI"), "OK alice\n");
    let mut c = client(&server);
    assert_eq!(say(&mut c, &format!("TOKEN {token2}")), "OK alice\n");
    assert_eq!(say(&mut c, "LOGOUT"), "OK bye-token\n");
    assert_eq!(say(&mut a, "WHOAMI"), NOT_LOGGED_IN, "revoked elsewhere");
    assert_eq!(say(&mut a, "QUIT"), "BYE\n");
    assert_eq!(read_to_eof(&mut a), b"");
}

#[test]
fn an_overlong_line_is_answered_and_closes() {
    let dir = tempfile::tempdir().unwrap();
    let server = cheap(dir.path(), &[]);
    let mut a = client(&server);
    a.write_all(&vec![b'x'; 2000]).unwrap();
    assert_eq!(
        read_to_eof(&mut a),
        b"ERR line-too-long line longer than 1024 bytes\n"
    );
    server.wait_log("client disconnected (protocol error)");
}

#[test]
fn passwd_ends_the_users_other_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let server = cheap(dir.path(), &[]);
    let mut a = client(&server);
    assert_eq!(say(&mut a, "REGISTER carol first-pass"), "OK registered\n");
    let other = login(&mut a, "carol", "first-pass");
    let _mine = login(&mut a, "carol", "first-pass");
    assert_eq!(say(&mut a, "PASSWD first-pass"), "OK new-password\n");
    assert_eq!(say(&mut a, "second-pass"), "OK changed\n");
    assert_eq!(say(&mut a, "WHOAMI"), "OK carol\n");
    let mut b = client(&server);
    assert_eq!(say(&mut b, &format!("TOKEN {other}")), BAD_TOKEN);
}

#[test]
fn the_files_hold_hashes_only() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]); // the default (OWASP) cost
    let mut a = client(&server);
    let pw = "correct horse battery";
    assert_eq!(
        say(&mut a, &format!("REGISTER dave {pw}")),
        "OK registered\n"
    );
    let token = login(&mut a, "dave", pw);
    let users = std::fs::read_to_string(dir.path().join("users")).unwrap();
    let sessions = std::fs::read_to_string(dir.path().join("sessions")).unwrap();
    assert!(
        users.contains("dave\t$argon2id$v=19$m=19456,t=2,p=1$"),
        "{users}"
    );
    for text in [&users, &sessions] {
        assert!(!text.contains(pw), "password stored: {text}");
        assert!(!text.contains(&token), "token stored: {text}");
    }
    let hash = TokenHash::of(&token).to_hex();
    assert!(sessions.contains(&format!("{hash}\tdave\t")), "{sessions}");
    use std::os::unix::fs::PermissionsExt;
    for f in ["users", "sessions"] {
        let mode = std::fs::metadata(dir.path().join(f))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{f}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != "users" && n != "sessions")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn five_failures_throttle_even_the_right_password() {
    let dir = tempfile::tempdir().unwrap();
    let server = cheap(dir.path(), &[]);
    let mut a = client(&server);
    assert_eq!(say(&mut a, "REGISTER erin right-pass"), "OK registered\n");
    assert_eq!(say(&mut a, "REGISTER frank right-pass"), "OK registered\n");
    // A success does not count.
    login(&mut a, "erin", "right-pass");
    for _ in 0..5 {
        assert_eq!(say(&mut a, "LOGIN erin wrong-pass"), BAD_CREDENTIALS);
    }
    assert_eq!(say(&mut a, "LOGIN erin right-pass"), THROTTLED);
    // Same address: every user is throttled from here too; a new connection is no way
    // around it.
    let mut b = client(&server);
    assert_eq!(say(&mut b, "LOGIN frank right-pass"), THROTTLED);
    // Only password checks are throttled; the session from before still works.
    assert_eq!(say(&mut a, "WHOAMI"), "OK erin\n");
    let log = server.wait_log("LOGIN and PASSWD throttled for 60 s");
    assert!(
        !log.contains("wrong-pass") && !log.contains("right-pass"),
        "{log}"
    );
}

/// PASSWD's old-password check was an unthrottled password oracle for anyone holding a
/// stolen token (200 guesses in 4.5 s). Now its failures count with LOGIN's, and a
/// locked-out user or address gets `throttled` from both, even with the right password.
#[test]
fn passwd_guesses_are_throttled_like_logins() {
    let dir = tempfile::tempdir().unwrap();
    let server = cheap(dir.path(), &[]);
    let mut a = client(&server);
    assert_eq!(say(&mut a, "REGISTER gus right-pass"), "OK registered\n");
    assert_eq!(say(&mut a, "REGISTER hal right-pass"), "OK registered\n");
    let token = login(&mut a, "gus", "right-pass");
    // A right old password does not count.
    assert_eq!(say(&mut a, "PASSWD right-pass"), "OK new-password\n");
    assert_eq!(say(&mut a, "short"), WEAK);
    for _ in 0..5 {
        assert_eq!(say(&mut a, "PASSWD guess-pass"), BAD_CREDENTIALS);
    }
    assert_eq!(say(&mut a, "PASSWD right-pass"), THROTTLED);
    // No new password is expected after `throttled`: the next line is a command.
    assert_eq!(say(&mut a, "WHOAMI"), "OK gus\n");
    assert_eq!(say(&mut a, "LOGIN gus right-pass"), THROTTLED);
    // Another connection with the stolen token, from the same address: locked too.
    let mut b = client(&server);
    assert_eq!(say(&mut b, &format!("TOKEN {token}")), "OK gus\n");
    assert_eq!(say(&mut b, "PASSWD right-pass"), THROTTLED);
    assert_eq!(say(&mut b, "LOGIN hal right-pass"), THROTTLED);
    server.wait_log(
        "LOGIN and PASSWD throttled for 60 s for user gus and this address \
         (5 wrong passwords within 60 s)",
    );
}

/// LOGIN and PASSWD failures add up: three wrong LOGINs and two wrong old passwords
/// make five.
#[test]
fn login_and_passwd_failures_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let server = cheap(dir.path(), &[]);
    let mut a = client(&server);
    assert_eq!(say(&mut a, "REGISTER ida right-pass"), "OK registered\n");
    login(&mut a, "ida", "right-pass");
    for _ in 0..3 {
        assert_eq!(say(&mut a, "LOGIN ida guess-pass"), BAD_CREDENTIALS);
    }
    assert_eq!(say(&mut a, "PASSWD guess-pass"), BAD_CREDENTIALS);
    assert_eq!(say(&mut a, "PASSWD guess-pass"), BAD_CREDENTIALS);
    assert_eq!(say(&mut a, "PASSWD right-pass"), THROTTLED);
    assert_eq!(say(&mut a, "LOGIN ida right-pass"), THROTTLED);
}

const REGISTER_THROTTLED: &str =
    "ERR throttled too many new users from this address; try again later\n";

/// One address registered 3,234 users in 45 s: `--register-limit` new users per address
/// per hour. A REGISTER that made no user (taken, bad name) does not count; users made
/// still log in; another connection from the same address is no way around it.
#[test]
fn register_limit_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let server = cheap(dir.path(), &["--register-limit", "3"]);
    let mut a = client(&server);
    assert_eq!(say(&mut a, "REGISTER u1 pass-word"), "OK registered\n");
    assert_eq!(
        say(&mut a, "REGISTER u1 pass-word"),
        "ERR user-exists that user name is taken\n"
    );
    assert_eq!(say(&mut a, "REGISTER u2 pass-word"), "OK registered\n");
    assert_eq!(say(&mut a, "REGISTER u3 pass-word"), "OK registered\n");
    assert_eq!(say(&mut a, "REGISTER u4 pass-word"), REGISTER_THROTTLED);
    let mut b = client(&server);
    assert_eq!(say(&mut b, "REGISTER u5 pass-word"), REGISTER_THROTTLED);
    login(&mut b, "u3", "pass-word");
    let users = std::fs::read_to_string(dir.path().join("users")).unwrap();
    assert_eq!(users.lines().count(), 1 + 3, "{users}");
    server.wait_log(
        "REGISTER limit reached: 3 new users from this address within an hour \
         (--register-limit 3); more answer ERR throttled",
    );
}

/// Without the flag, the 21st new user from one address within an hour is refused.
#[test]
fn register_limit_default_is_twenty() {
    let dir = tempfile::tempdir().unwrap();
    let server = cheap(dir.path(), &[]);
    let mut a = client(&server);
    for i in 1..=20 {
        assert_eq!(
            say(&mut a, &format!("REGISTER user{i} pass-word")),
            "OK registered\n",
            "user {i}"
        );
    }
    assert_eq!(say(&mut a, "REGISTER user21 pass-word"), REGISTER_THROTTLED);
}

#[test]
fn a_failed_save_says_io_keeps_nothing_and_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    let server = cheap(dir.path(), &[]);
    // A folder where the user file goes: the rename over it fails.
    std::fs::create_dir_all(dir.path().join("users").join("x")).unwrap();
    let mut a = client(&server);
    assert_eq!(
        say(&mut a, "REGISTER olga olga-pass"),
        "ERR io the server could not save its data\n"
    );
    server.wait_log("cannot save in");
    std::fs::remove_dir_all(dir.path().join("users")).unwrap();
    assert_eq!(say(&mut a, "REGISTER olga olga-pass"), "OK registered\n");
    let leftovers = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with('.')
        })
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn tokens_expire_and_log_the_connection_out() {
    let dir = tempfile::tempdir().unwrap();
    let server = cheap(dir.path(), &["--token-ttl", "1"]);
    let mut a = client(&server);
    assert_eq!(say(&mut a, "REGISTER gina gina-pass"), "OK registered\n");
    let token = login(&mut a, "gina", "gina-pass");
    assert_eq!(say(&mut a, "WHOAMI"), "OK gina\n");
    thread::sleep(Duration::from_millis(1100));
    assert_eq!(say(&mut a, "WHOAMI"), NOT_LOGGED_IN);
    let mut b = client(&server);
    assert_eq!(say(&mut b, &format!("TOKEN {token}")), BAD_TOKEN);
}

#[test]
fn sessions_survive_a_restart_even_a_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = cheap(dir.path(), &[]);
    let mut a = client(&server);
    assert_eq!(say(&mut a, "REGISTER hank hank-pass"), "OK registered\n");
    let token = login(&mut a, "hank", "hank-pass");
    // Killed right after `OK <token>`: the session was durable before it was sent.
    server.kill_hard();
    let server = cheap(dir.path(), &[]);
    let mut b = client(&server);
    assert_eq!(say(&mut b, &format!("TOKEN {token}")), "OK hank\n");
    assert_eq!(say(&mut b, "WHOAMI"), "OK hank\n");
    assert_eq!(
        say(&mut b, "REGISTER hank x-pass-xx"),
        "ERR user-exists that user name is taken\n"
    );
    login(&mut b, "hank", "hank-pass");
}

#[test]
fn over_max_conns_says_busy_server_full() {
    let dir = tempfile::tempdir().unwrap();
    let server = cheap(dir.path(), &["--max-conns", "1"]);
    let _first = client(&server);
    let mut second = server.connect();
    assert_eq!(read_to_eof(&mut second), b"ERR busy server full\n");
}

#[test]
fn the_log_holds_no_secret_even_with_vv() {
    let dir = tempfile::tempdir().unwrap();
    let server = cheap(dir.path(), &["-vv"]);
    let pw = "hunter2-is-secret";
    let new = "brand-new-secret";
    let mut a = client(&server);
    assert_eq!(
        say(&mut a, &format!("REGISTER ivy {pw}")),
        "OK registered\n"
    );
    let token = login(&mut a, "ivy", pw);
    assert_eq!(say(&mut a, &format!("TOKEN {token}")), "OK ivy\n");
    assert_eq!(say(&mut a, &format!("PASSWD {pw}")), "OK new-password\n");
    assert_eq!(say(&mut a, new), "OK changed\n");
    assert_eq!(say(&mut a, "QUIT"), "BYE\n");
    let log = server.wait_log("client disconnected (quit)");
    assert!(log.contains("data received"), "-v lines are there: {log}");
    let users = std::fs::read_to_string(dir.path().join("users")).unwrap();
    let phc = users.lines().nth(1).unwrap().split('\t').nth(1).unwrap();
    for secret in [
        pw,
        new,
        &token,
        &TokenHash::of(&token).to_hex(),
        phc,
        "argon2",
    ] {
        assert!(!log.contains(secret), "{secret:?} in the log:\n{log}");
    }
    // No hex dump of any payload at all.
    assert!(!log.contains("00000000"), "{log}");
}

/// With one event loop and Argon2 made slow, other clients are answered while logins
/// hash: all ten probe round trips complete while at least one of four concurrent
/// logins is still unanswered. (An ordering, not a timing: were hashing done on the
/// loop, every login would be answered before the probes behind them.) That an unknown
/// user costs a verification is checked structurally in `server::auth::secret`.
/// Argon2's memory is one buffer per hashing thread, reused: however many hashes run,
/// the server holds at most its hashing threads × the cost. When the argon2 crate
/// allocated 19 MiB per hash, glibc kept the freed buffers and a two-core server grew
/// to 330 MiB after a dozen REGISTER/LOGIN pairs.
#[test]
fn argon2_memory_is_one_buffer_per_hashing_thread() {
    if !Path::new("/proc/self/status").exists() {
        return; // no /proc: nothing to measure
    }
    let rss = |pid: u32| -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    // The default (OWASP) cost: 19 MiB per hash.
    let server = start(dir.path(), &[]);
    let before = rss(server.pid());
    // Two clients at once, so every hashing thread of a two-core machine gets work.
    let clients: Vec<_> = (0..2)
        .map(|c| {
            let server_addr = server.addr();
            thread::spawn(move || {
                for i in 0..6 {
                    let mut s = TcpStream::connect(server_addr).unwrap();
                    s.set_read_timeout(Some(serve_support::WAIT)).unwrap();
                    assert_eq!(read_line(&mut s), "OK socklab-auth 1\n");
                    let (user, pw) = (format!("u{c}x{i}"), format!("password {c} {i}"));
                    assert_eq!(
                        say(&mut s, &format!("REGISTER {user} {pw}")),
                        "OK registered\n"
                    );
                    login(&mut s, &user, &pw);
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    let after = rss(server.pid());
    let threads = thread::available_parallelism().map_or(2, |n| n.get()) as u64;
    // Each hashing thread's buffer (19,456 KiB) and 8 MiB for everything else.
    let bound = before + threads * 19_456 + 8 * 1024;
    eprintln!(
        "auth RSS: {before} KiB at start, {after} KiB after 24 hashes ({threads} hashing threads)"
    );
    assert!(
        after <= bound,
        "{after} KiB after 24 Argon2 hashes, {before} KiB before: over {bound} KiB"
    );
}

#[test]
fn slow_hashes_never_stall_the_loop() {
    let dir = tempfile::tempdir().unwrap();
    let slow = [
        "--argon2-memory",
        "65536",
        "--argon2-passes",
        "4",
        "--threads",
        "1",
    ];
    let server = start(dir.path(), &slow);
    let mut a = client(&server);
    assert_eq!(say(&mut a, "REGISTER judy judy-pass"), "OK registered\n");
    assert_eq!(say(&mut a, "LOGIN nobody judy-pass"), BAD_CREDENTIALS);

    let logins: Vec<_> = (0..4)
        .map(|_| {
            let mut c = client(&server);
            c.write_all(b"LOGIN judy judy-pass\n").unwrap();
            c
        })
        .collect();
    let mut probe = client(&server);
    for i in 0..10 {
        let line = if i % 2 == 0 { "WHOAMI" } else { "NOPE" };
        let reply = say(&mut probe, line);
        assert!(reply.starts_with("ERR "), "{reply}");
    }
    let pending = logins
        .iter()
        .filter(|c| {
            c.set_nonblocking(true).unwrap();
            let waiting = matches!(c.peek(&mut [0u8; 1]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
            c.set_nonblocking(false).unwrap();
            waiting
        })
        .count();
    assert!(
        pending >= 1,
        "every login was answered before the probes: the loop waited for the hashes"
    );
    for mut c in logins {
        let mut line = String::new();
        let mut b = [0u8; 1];
        while c.read(&mut b).unwrap() == 1 && b[0] != b'\n' {
            line.push(b[0] as char);
        }
        assert!(line.starts_with("OK "), "{line}");
    }
}

#[test]
fn a_full_user_table_says_busy_and_closes() {
    let dir = tempfile::tempdir().unwrap();
    let server = cheap(dir.path(), &["--max-users", "1"]);
    let mut a = client(&server);
    assert_eq!(say(&mut a, "REGISTER alice password1"), "OK registered\n");
    let mut b = client(&server);
    assert_eq!(
        say(&mut b, "REGISTER bob password2"),
        "ERR busy server full\n"
    );
    // §5: after `busy` the connection does not stay usable.
    assert_eq!(read_to_eof(&mut b), b"");
    server.wait_log("REGISTER refused: the user table is full (--max-users 1)");
    let users = std::fs::read_to_string(dir.path().join("users")).unwrap();
    assert!(
        users.contains("alice\t") && !users.contains("bob"),
        "{users}"
    );
    // Those who exist still log in.
    let mut c = client(&server);
    login(&mut c, "alice", "password1");
}

#[test]
fn one_user_keeps_at_most_16_sessions_and_loses_the_oldest() {
    let dir = tempfile::tempdir().unwrap();
    let server = cheap(dir.path(), &[]);
    let mut a = client(&server);
    assert_eq!(say(&mut a, "REGISTER alice password1"), "OK registered\n");
    let tokens: Vec<String> = (0..17)
        .map(|_| login(&mut a, "alice", "password1"))
        .collect();
    let sessions = std::fs::read_to_string(dir.path().join("sessions")).unwrap();
    assert_eq!(sessions.lines().filter(|l| !l.starts_with('#')).count(), 16);
    let mut b = client(&server);
    assert_eq!(say(&mut b, &format!("TOKEN {}", tokens[0])), BAD_TOKEN);
    for t in &tokens[1..] {
        assert_eq!(say(&mut b, &format!("TOKEN {t}")), "OK alice\n");
    }
}
