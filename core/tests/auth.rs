//! The §5 session against a fake backend: every reply line byte for byte, the
//! request each command emits, expiry on the session's clock, PASSWD's two lines,
//! backpressure while a request is out.

use socklab_core::auth::{Auth, ErrorCode, Reply, Request};
use socklab_core::side::SideWork;
use socklab_core::{Duration, Instant, Session};

const TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// Feed `input` at `now`, answer each request with `answer`, return the output.
fn run(
    auth: &mut Auth,
    now: Instant,
    input: &[u8],
    answer: &mut dyn FnMut(Request<'_>) -> Reply<'static>,
) -> String {
    let mut fed = 0;
    let mut out = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        fed += auth.handle_input(now, &input[fed..]);
        if let Some(req) = auth.poll_request() {
            let reply = answer(req);
            auth.handle_reply(now, reply);
        }
        loop {
            let n = auth.poll_output(&mut buf);
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        if fed == input.len() && !auth.request_in_flight() {
            break;
        }
    }
    String::from_utf8(out).unwrap()
}

fn backend(req: Request<'_>) -> Reply<'static> {
    match req {
        Request::Register { user: "taken", .. } => Reply::Failed(ErrorCode::UserExists),
        Request::Register { .. } => Reply::Done,
        Request::Login {
            password: "right-password",
            ..
        } => Reply::Token {
            token: TOKEN,
            ttl: Duration::from_secs(10),
        },
        Request::Login { .. } => Reply::Failed(ErrorCode::BadCredentials),
        Request::Token(t) if t == TOKEN => Reply::User {
            user: "bob",
            ttl: Duration::from_secs(10),
        },
        Request::Token(_) => Reply::Failed(ErrorCode::BadToken),
        Request::Whoami => Reply::User {
            user: "bob",
            ttl: Duration::from_secs(10),
        },
        Request::CheckPassword("right-password") => Reply::Done,
        Request::CheckPassword(_) => Reply::Failed(ErrorCode::BadCredentials),
        Request::SetPassword(_) | Request::Logout => Reply::Done,
    }
}

#[test]
fn transcript() {
    let t0 = Instant::ZERO;
    let mut a = Auth::new(t0);
    let input = b"REGISTER bob right-password\r\nREGISTER taken xxxxxxxx\nREGISTER b/b xxxxxxxx\n\
REGISTER bob short\nWHOAMI\nLOGIN bob wrong-password\nLOGIN bob right-password\nWHOAMI\n\
PASSWD nope-nope\nPASSWD right-password\nnew password 1\nPASSWD right-password\nshort\n\
TOKEN xyz\nTOKEN 0123456789abcdef0123456789abcdef\nLOGOUT\nWHOAMI\nLOGIN\nHELLO\nQUIT\nWHOAMI\n";
    let out = run(&mut a, t0, input, &mut backend);
    assert_eq!(
        out,
        "OK socklab-auth 1\n\
OK registered\n\
ERR user-exists that user name is taken\n\
ERR bad-user a user name is 1 to 32 of A-Z a-z 0-9 _ . -\n\
ERR weak-password a password is 8 to 128 bytes\n\
ERR not-logged-in log in first (LOGIN or TOKEN)\n\
ERR bad-credentials wrong user name or password\n\
OK 0123456789abcdef0123456789abcdef\n\
OK bob\n\
ERR bad-credentials wrong user name or password\n\
OK new-password\n\
OK changed\n\
OK new-password\n\
ERR weak-password a password is 8 to 128 bytes\n\
ERR bad-token unknown, revoked or expired token\n\
OK bob\n\
OK bye-token\n\
ERR not-logged-in log in first (LOGIN or TOKEN)\n\
ERR bad-command usage: LOGIN <user> <password>\n\
ERR bad-command expected REGISTER, LOGIN, TOKEN, WHOAMI, PASSWD, LOGOUT or QUIT\n\
BYE\n"
    );
    assert!(a.close_reason().is_some());
}

#[test]
fn expiry_logs_the_connection_out_without_asking() {
    let mut a = Auth::new(Instant::ZERO);
    run(
        &mut a,
        Instant::ZERO,
        b"LOGIN bob right-password\n",
        &mut backend,
    );
    let later = Instant::from_millis(10_000);
    let mut asked = false;
    let out = run(&mut a, later, b"WHOAMI\n", &mut |r| {
        asked = true;
        backend(r)
    });
    assert_eq!(out, "ERR not-logged-in log in first (LOGIN or TOKEN)\n");
    assert!(!asked);
}

#[test]
fn nothing_is_taken_while_a_request_is_out() {
    let mut a = Auth::new(Instant::ZERO);
    let input = b"LOGIN bob right-password\nWHOAMI\n";
    let n = a.handle_input(Instant::ZERO, input);
    assert_eq!(n, 25);
    let req = a.poll_request().unwrap();
    assert_eq!(
        req,
        Request::Login {
            user: "bob",
            password: "right-password"
        }
    );
    assert_eq!(a.handle_input(Instant::ZERO, &input[n..]), 0);
    a.handle_reply(Instant::ZERO, Reply::Failed(ErrorCode::Throttled));
    assert_eq!(a.handle_input(Instant::ZERO, &input[n..]), 7);
}

/// A backend that has locked the user out (§5: 5 wrong passwords within 60 s), and
/// that has seen too many new users from this address.
fn locked_out(req: Request<'_>) -> Reply<'static> {
    match req {
        Request::Login { .. } | Request::CheckPassword(_) | Request::Register { .. } => {
            Reply::Failed(ErrorCode::Throttled)
        }
        other => backend(other),
    }
}

#[test]
fn throttled_passwd_and_register_say_why_and_expect_no_new_password() {
    let mut a = Auth::new(Instant::ZERO);
    run(
        &mut a,
        Instant::ZERO,
        b"TOKEN 0123456789abcdef0123456789abcdef\n",
        &mut backend,
    );
    let mut asked = Vec::new();
    let out = run(
        &mut a,
        Instant::ZERO,
        b"PASSWD right-password\nnew password 1\nLOGIN bob right-password\nREGISTER amy right-password\n",
        &mut |r| {
            asked.push(format!("{r:?}"));
            locked_out(r)
        },
    );
    // After `throttled` the next line is a command again, never taken for a new password.
    assert_eq!(
        out,
        "ERR throttled too many wrong passwords; try again in a minute\n\
ERR bad-command expected REGISTER, LOGIN, TOKEN, WHOAMI, PASSWD, LOGOUT or QUIT\n\
ERR throttled too many wrong passwords; try again in a minute\n\
ERR throttled too many new users from this address; try again later\n"
    );
    assert_eq!(asked.len(), 3, "{asked:?}");
    assert!(
        !asked.iter().any(|r| r.contains("SetPassword")),
        "{asked:?}"
    );
}

#[test]
fn overlong_line_closes_and_bad_utf8_does_not() {
    let mut a = Auth::new(Instant::ZERO);
    let out = run(&mut a, Instant::ZERO, b"LOGIN \xff\xfe x\n", &mut backend);
    assert!(
        out.ends_with("ERR bad-command the line is not valid UTF-8\n"),
        "{out}"
    );
    assert!(a.close_reason().is_none());
    let long = vec![b'a'; 2000];
    let out = run(&mut a, Instant::ZERO, &long, &mut backend);
    assert_eq!(out, "ERR line-too-long line longer than 1024 bytes\n");
    assert!(a.close_reason().is_some());
}

#[test]
fn eof_still_answers_the_command_under_way() {
    let mut a = Auth::new(Instant::ZERO);
    a.handle_input(Instant::ZERO, b"REGISTER bob right-password\n");
    a.handle_eof(Instant::ZERO);
    assert!(a.close_reason().is_none());
    let _ = a.poll_request().unwrap();
    a.handle_reply(Instant::ZERO, Reply::Done);
    assert!(a.close_reason().is_some());
    let mut buf = [0u8; 256];
    let n = a.poll_output(&mut buf);
    assert_eq!(&buf[..n], b"OK socklab-auth 1\nOK registered\n");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// The output for `input` fed in the given chunk sizes.
    fn chunked(input: &[u8], cuts: &[usize]) -> String {
        let mut a = Auth::new(Instant::ZERO);
        let mut out = String::new();
        let mut rest = input;
        let mut cuts = cuts.iter().cycle();
        while !rest.is_empty() {
            let n = (*cuts.next().unwrap()).clamp(1, rest.len());
            out += &run(&mut a, Instant::ZERO, &rest[..n], &mut backend);
            rest = &rest[n..];
        }
        out
    }

    proptest! {
        #[test]
        fn the_parser_never_panics(line in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = socklab_core::auth::parse_command(&line);
        }

        #[test]
        fn how_input_is_split_does_not_matter(
            lines in proptest::collection::vec(
                prop_oneof![
                    Just("LOGIN bob right-password".to_owned()),
                    Just("WHOAMI".to_owned()),
                    Just("PASSWD right-password".to_owned()),
                    Just("LOGOUT".to_owned()),
                    "[ -~]{0,40}",
                ],
                0..12,
            ),
            cuts in proptest::collection::vec(1usize..20, 1..8),
        ) {
            let input: Vec<u8> = lines.iter().flat_map(|l| format!("{l}\n").into_bytes()).collect();
            let whole = chunked(&input, &[usize::MAX]);
            prop_assert_eq!(chunked(&input, &cuts), whole);
        }
    }
}

#[test]
fn a_backend_with_no_room_says_busy_and_the_connection_ends() {
    let mut a = Auth::new(Instant::ZERO);
    let out = run(
        &mut a,
        Instant::ZERO,
        b"REGISTER bob password1\nWHOAMI\n",
        &mut |_| Reply::Failed(ErrorCode::Busy),
    );
    // The greeting, the refusal, and nothing for the line after it.
    assert_eq!(out, "OK socklab-auth 1\nERR busy server full\n");
    assert_eq!(a.close_reason(), Some(socklab_core::CloseReason::Finished));
}

/// §0's stop: a LOGIN whose request is out is still answered (its session is being
/// saved, so its `OK` is owed), and nothing after it is started.
#[test]
fn a_stop_answers_the_login_under_way_then_closes() {
    use socklab_core::{CloseReason, Work};
    let t0 = Instant::ZERO;
    let mut a = Auth::new(t0);
    run(&mut a, t0, b"", &mut backend);
    let input = b"LOGIN bob right-password\nWHOAMI\n";
    let n = a.handle_input(t0, input);
    let Some(Request::Login { .. }) = a.poll_request() else {
        panic!("no LOGIN request");
    };
    assert_eq!(a.in_flight(), Some(Work::Command("LOGIN")));
    a.handle_stop(t0);
    assert_eq!(a.close_reason(), None, "the LOGIN is still owed its answer");
    a.handle_reply(
        t0,
        Reply::Token {
            token: TOKEN,
            ttl: Duration::from_secs(10),
        },
    );
    assert_eq!(a.close_reason(), Some(CloseReason::ServerStopping));
    assert_eq!(a.in_flight(), None);
    // The pipelined WHOAMI is not started.
    assert_eq!(a.handle_input(t0, &input[n..]), input.len() - n);
    assert_eq!(a.poll_request(), None);
    assert_eq!(run(&mut a, t0, b"", &mut backend), format!("OK {TOKEN}\n"));

    // Between commands, a stop closes at once.
    let mut idle = Auth::new(t0);
    idle.handle_stop(t0);
    assert_eq!(idle.close_reason(), Some(CloseReason::ServerStopping));
}
