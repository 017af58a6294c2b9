//! The §5 clients: `register`, `login`, `whoami`, `logout`, `passwd`.
//!
//! Passwords are read without echo when standard input is a terminal (`rpassword`, with
//! a second "repeat" prompt for a new one), and as lines of standard input otherwise,
//! so scripts and tests can feed them. `login` saves the token ([`token`]); the other
//! commands send it first (`TOKEN <token>`), like a browser sends a cookie. Nothing
//! secret is ever printed, and `-v` logs byte counts only.
//!
//! Exit status: 0 done, 1 the server said no (or no saved login, or a password of the
//! wrong length, checked before connecting), 2 the server could not be reached or the
//! command line is wrong.

mod conn;
pub mod token;

use std::io::{self, BufRead, IsTerminal, Read};
use std::process::ExitCode;

use socklab_core::auth::{ErrorCode, MAX_PASSWORD, MIN_PASSWORD, valid_password, valid_user};
use socklab_core::service;
use zeroize::Zeroizing;

use super::conn::{Trace, connect, display_addr};
use super::{EXIT_CONNECT, EXIT_FAILURE};
use conn::{Answer, Conn};

/// Where the auth server is. `--host`/`--port` may also come after the subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct AuthClientArgs {
    /// Server address (IPv4, IPv6 or a name).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Server port.
    #[arg(long, default_value_t = service::AUTH.port)]
    pub port: u16,
    /// Log connect, send, receive and disconnect (byte counts only) on stderr.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// `register` and `login`: the server plus a user name.
#[derive(Debug, Clone, clap::Args)]
pub struct UserArgs {
    /// The user name: 1 to 32 of A-Z a-z 0-9 _ . -
    #[arg(long, value_parser = parse_user)]
    pub user: String,
    #[command(flatten)]
    pub server: AuthClientArgs,
}

fn parse_user(s: &str) -> Result<String, String> {
    if valid_user(s) {
        Ok(s.to_owned())
    } else {
        Err("a user name is 1 to 32 of A-Z a-z 0-9 _ . -".into())
    }
}

/// Which client.
#[derive(Debug, Clone, Copy)]
pub enum Action {
    /// `register --user U`.
    Register,
    /// `login --user U`.
    Login,
    /// `whoami`.
    Whoami,
    /// `logout`.
    Logout,
    /// `passwd`.
    Passwd,
}

/// A failure with the exit code it deserves.
struct Fail(u8, String);

impl From<io::Error> for Fail {
    fn from(e: io::Error) -> Fail {
        Fail(EXIT_FAILURE, e.to_string())
    }
}

fn no(text: impl Into<String>) -> Fail {
    Fail(EXIT_FAILURE, text.into())
}

/// Run one client.
pub fn run(action: Action, server: &AuthClientArgs, user: Option<&str>) -> ExitCode {
    match run_inner(action, server, user) {
        Ok(msg) => {
            println!("{msg}");
            ExitCode::SUCCESS
        }
        Err(Fail(code, msg)) => {
            eprintln!("socklab: {msg}");
            ExitCode::from(code)
        }
    }
}

/// Reads passwords: hidden prompts on a terminal, lines of stdin otherwise.
struct Passwords {
    terminal: bool,
}

impl Passwords {
    fn new() -> Self {
        Passwords {
            terminal: io::stdin().is_terminal(),
        }
    }

    fn read(&self, prompt: &str) -> Result<Zeroizing<String>, Fail> {
        if self.terminal {
            let p = rpassword::prompt_password(prompt)
                .map_err(|e| no(format!("cannot read the password: {e}")))?;
            return Ok(Zeroizing::new(p));
        }
        let mut line = Zeroizing::new(String::new());
        let n = io::stdin()
            .lock()
            .take(4096)
            .read_line(&mut line)
            .map_err(|e| no(format!("cannot read the password: {e}")))?;
        if n == 0 {
            return Err(no("no password on standard input"));
        }
        let len = line.trim_end_matches(['\n', '\r']).len();
        line.truncate(len);
        Ok(line)
    }

    /// A new password: length checked here, asked twice on a terminal.
    fn read_new(&self, prompt: &str) -> Result<Zeroizing<String>, Fail> {
        let p = self.read(prompt)?;
        if !valid_password(&p) {
            return Err(no(format!(
                "a password is {MIN_PASSWORD} to {MAX_PASSWORD} bytes"
            )));
        }
        if self.terminal && *self.read("Repeat it: ")? != *p {
            return Err(no("the two passwords differ"));
        }
        Ok(p)
    }
}

fn open(server: &AuthClientArgs) -> Result<Conn, Fail> {
    let trace = Trace::new(server.verbose, &display_addr(&server.host, server.port));
    let stream = connect(&server.host, server.port, &trace).map_err(|e| {
        let e = e.serve_hint(service::AUTH, &server.host, server.port);
        Fail(EXIT_CONNECT, e.to_string())
    })?;
    Ok(Conn::open(stream, trace)?)
}

/// `OK <text>` or the server's human text as the failure.
fn expect_ok(answer: Answer) -> Result<String, Fail> {
    match answer {
        Answer::Ok(t) => Ok(t),
        Answer::Err(_, text) => Err(no(text)),
    }
}

const NOT_LOGGED_IN: &str = "not logged in; run `socklab login --user NAME` first";

/// Send the saved token; `Ok(None)` when the server no longer knows it.
fn present_token(conn: &mut Conn) -> Result<Option<String>, Fail> {
    let Some(token) = token::load()? else {
        return Err(no(NOT_LOGGED_IN));
    };
    let line = Zeroizing::new(format!("TOKEN {}", token.as_str()));
    match conn.call(&line)? {
        Answer::Ok(user) => Ok(Some(user)),
        Answer::Err(Some(ErrorCode::BadToken), _) => Ok(None),
        Answer::Err(_, text) => Err(no(text)),
    }
}

const EXPIRED: &str = "your session has expired or was ended; log in again";

fn run_inner(action: Action, server: &AuthClientArgs, user: Option<&str>) -> Result<String, Fail> {
    let pw = Passwords::new();
    let user = user.unwrap_or("");
    // Passwords are read before connecting, so the server never waits on a person.
    match action {
        Action::Register => {
            let p = pw.read_new("Password: ")?;
            let mut c = open(server)?;
            let line = Zeroizing::new(format!("REGISTER {user} {}", p.as_str()));
            expect_ok(c.call(&line)?)?;
            c.quit();
            Ok(format!("registered {user}"))
        }
        Action::Login => {
            let p = pw.read("Password: ")?;
            let mut c = open(server)?;
            let line = Zeroizing::new(format!("LOGIN {user} {}", p.as_str()));
            let token = Zeroizing::new(expect_ok(c.call(&line)?)?);
            c.quit();
            if !socklab_core::auth::valid_token(&token) {
                return Err(no("the server sent something that is not a token"));
            }
            let path = token::save(&token)
                .map_err(|e| no(format!("logged in, but cannot save the token: {e}")))?;
            Ok(format!(
                "logged in as {user} (token saved in {})",
                path.display()
            ))
        }
        Action::Whoami => {
            if token::load()?.is_none() {
                return Err(no(NOT_LOGGED_IN));
            }
            let mut c = open(server)?;
            if present_token(&mut c)?.is_none() {
                c.quit();
                return Err(no(EXPIRED));
            }
            let me = expect_ok(c.call("WHOAMI")?)?;
            c.quit();
            Ok(me)
        }
        Action::Logout => {
            if token::load()?.is_none() {
                return Err(no(NOT_LOGGED_IN));
            }
            let mut c = open(server)?;
            let known = present_token(&mut c)?.is_some();
            if known {
                expect_ok(c.call("LOGOUT")?)?;
            }
            c.quit();
            token::remove()?;
            Ok(if known {
                "logged out".into()
            } else {
                "the session had already ended; the saved token is removed".into()
            })
        }
        Action::Passwd => {
            if token::load()?.is_none() {
                return Err(no(NOT_LOGGED_IN));
            }
            let old = pw.read("Current password: ")?;
            let new = pw.read_new("New password: ")?;
            let mut c = open(server)?;
            if present_token(&mut c)?.is_none() {
                c.quit();
                return Err(no(EXPIRED));
            }
            let line = Zeroizing::new(format!("PASSWD {}", old.as_str()));
            expect_ok(c.call(&line)?)?;
            expect_ok(c.call(&new)?)?;
            c.quit();
            Ok("password changed; your other sessions were ended".into())
        }
    }
}
