//! §5 command lines (server side) and reply lines (client side).
//!
//! A command word is matched without regard to case (as in files, for people typing
//! into `nc`); its arguments are taken as they are and borrowed from the line, so
//! parsing allocates and copies nothing. Passwords are "the rest of the line" and may
//! hold spaces, so the parser splits at the first space only where §5 has a field.
//! The parser judges only the shape of a line; what the fields must look like (user
//! names, password lengths) is the session's business, because the error it answers
//! depends on the command (`bad-user` for REGISTER, `bad-credentials` for LOGIN).

/// One command line from a client, without its LF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command<'a> {
    /// `REGISTER <user> <password>`.
    Register {
        /// The user name, not yet checked.
        user: &'a str,
        /// The rest of the line.
        password: &'a str,
    },
    /// `LOGIN <user> <password>`.
    Login {
        /// The user name, not yet checked.
        user: &'a str,
        /// The rest of the line.
        password: &'a str,
    },
    /// `TOKEN <token>`.
    Token(&'a str),
    /// `WHOAMI`.
    Whoami,
    /// `PASSWD <old password>`; the next line is the new one.
    Passwd(&'a str),
    /// `LOGOUT`.
    Logout,
    /// `QUIT`.
    Quit,
}

/// Why a line is not a command; every case is answered `ERR bad-command <text>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandError {
    /// The line is not UTF-8 (§0).
    NotUtf8,
    /// Not one of the command words, or arguments after a word that takes none.
    Unknown,
    /// A known word without the arguments it needs; holds the usage to show.
    Missing(&'static str),
}

impl core::fmt::Display for CommandError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CommandError::NotUtf8 => f.write_str("the line is not valid UTF-8"),
            CommandError::Unknown => f.write_str(super::wire::ErrorCode::BadCommand.text()),
            CommandError::Missing(usage) => write!(f, "usage: {usage}"),
        }
    }
}

impl core::error::Error for CommandError {}

/// Split at the first space: the word and, if there was a space, what follows it.
fn split_word(s: &str) -> (&str, Option<&str>) {
    match s.split_once(' ') {
        Some((w, rest)) => (w, Some(rest)),
        None => (s, None),
    }
}

/// `<user> <password>`, both present and non-empty.
fn user_and_password(args: Option<&str>) -> Option<(&str, &str)> {
    let (user, password) = args?.split_once(' ')?;
    (!user.is_empty() && !password.is_empty()).then_some((user, password))
}

/// Parse one command line (LF and CR already removed by the line reader).
pub fn parse_command(line: &[u8]) -> Result<Command<'_>, CommandError> {
    let line = core::str::from_utf8(line).map_err(|_| CommandError::NotUtf8)?;
    let (word, args) = split_word(line);
    let is = |name: &str| word.eq_ignore_ascii_case(name);
    let nonempty = args.filter(|a| !a.is_empty());
    if is("REGISTER") || is("LOGIN") {
        let register = is("REGISTER");
        let Some((user, password)) = user_and_password(args) else {
            return Err(CommandError::Missing(if register {
                "REGISTER <user> <password>"
            } else {
                "LOGIN <user> <password>"
            }));
        };
        return Ok(if register {
            Command::Register { user, password }
        } else {
            Command::Login { user, password }
        });
    }
    if is("TOKEN") {
        return nonempty
            .map(Command::Token)
            .ok_or(CommandError::Missing("TOKEN <token>"));
    }
    if is("PASSWD") {
        return nonempty
            .map(Command::Passwd)
            .ok_or(CommandError::Missing("PASSWD <old password>"));
    }
    let bare = if is("WHOAMI") {
        Command::Whoami
    } else if is("LOGOUT") {
        Command::Logout
    } else if is("QUIT") {
        Command::Quit
    } else {
        return Err(CommandError::Unknown);
    };
    match args {
        None => Ok(bare),
        Some(_) => Err(CommandError::Unknown),
    }
}

/// One line from the server, as a client sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerReply<'a> {
    /// `OK <text>` (the greeting, a token, a user name, `registered`, ...).
    Ok(&'a str),
    /// `ERR <code> <human text>`; the code is `None` when it is not one of §5's.
    Err {
        /// The error code.
        code: Option<super::wire::ErrorCode>,
        /// The code word as sent.
        word: &'a str,
        /// What a person should read.
        text: &'a str,
    },
    /// `BYE`.
    Bye,
}

/// Parse a server line (without LF); `None` for a line that is none of §5's.
pub fn parse_reply(line: &str) -> Option<ServerReply<'_>> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line == "BYE" {
        return Some(ServerReply::Bye);
    }
    if let Some(rest) = line.strip_prefix("OK ") {
        return Some(ServerReply::Ok(rest));
    }
    let rest = line.strip_prefix("ERR ")?;
    let (word, text) = split_word(rest);
    Some(ServerReply::Err {
        code: super::wire::ErrorCode::from_wire(word),
        word,
        text: text.unwrap_or(""),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse() {
        assert_eq!(
            parse_command(b"REGISTER bob pass word  "),
            Ok(Command::Register {
                user: "bob",
                password: "pass word  "
            })
        );
        assert_eq!(
            parse_command(b"login bob secret12"),
            Ok(Command::Login {
                user: "bob",
                password: "secret12"
            })
        );
        assert_eq!(parse_command(b"TOKEN abc"), Ok(Command::Token("abc")));
        assert_eq!(parse_command(b"WHOAMI"), Ok(Command::Whoami));
        assert_eq!(parse_command(b"whoami"), Ok(Command::Whoami));
        assert_eq!(
            parse_command(b"PASSWD old one"),
            Ok(Command::Passwd("old one"))
        );
        assert_eq!(parse_command(b"LOGOUT"), Ok(Command::Logout));
        assert_eq!(parse_command(b"QUIT"), Ok(Command::Quit));
    }

    #[test]
    fn missing_arguments_are_bad_commands() {
        for line in [
            &b"REGISTER"[..],
            b"REGISTER bob",
            b"REGISTER bob ",
            b"REGISTER  pw",
            b"LOGIN",
            b"LOGIN bob",
            b"TOKEN",
            b"TOKEN ",
            b"PASSWD",
        ] {
            assert!(
                matches!(parse_command(line), Err(CommandError::Missing(_))),
                "{line:?}"
            );
        }
        assert_eq!(parse_command(b"WHOAMI x"), Err(CommandError::Unknown));
        assert_eq!(parse_command(b""), Err(CommandError::Unknown));
        assert_eq!(parse_command(b"HELLO"), Err(CommandError::Unknown));
        assert_eq!(parse_command(b"LOGIN \xff x"), Err(CommandError::NotUtf8));
    }

    #[test]
    fn replies_parse() {
        assert_eq!(parse_reply("OK bob"), Some(ServerReply::Ok("bob")));
        assert_eq!(parse_reply("BYE"), Some(ServerReply::Bye));
        assert_eq!(
            parse_reply("ERR throttled too many"),
            Some(ServerReply::Err {
                code: Some(super::super::ErrorCode::Throttled),
                word: "throttled",
                text: "too many"
            })
        );
        assert_eq!(parse_reply("what"), None);
    }
}
