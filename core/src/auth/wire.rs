//! §5's fixed lines and error words: the greeting, the server-full line and the codes
//! and texts of `ERR <code> <text>`.

/// The greeting, sent on connect (§5).
pub const GREETING: &str = "OK socklab-auth 1";

/// What a server over `--max-conns` sends before closing (§0), byte for byte.
pub const SERVER_FULL: &[u8] = b"ERR busy server full\n";

/// The text of a REGISTER's `ERR throttled` (`--register-limit`, §5): it is not about
/// wrong passwords, and the wait is up to an hour, not a minute.
pub const REGISTER_THROTTLED: &str = "too many new users from this address; try again later";

/// The error codes of §5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ErrorCode {
    /// Not a command, or arguments missing.
    BadCommand,
    /// A line over the §0 limit (the connection is closed).
    LineTooLong,
    /// Server full (the connection is closed).
    Busy,
    /// `REGISTER` of a name that is taken.
    UserExists,
    /// A user name that breaks §5's rules.
    BadUser,
    /// A password outside 8..=128 bytes.
    WeakPassword,
    /// Wrong user or password.
    BadCredentials,
    /// Too many wrong passwords (LOGIN, PASSWD) for this user or from this address, or
    /// too many new users from this address (REGISTER).
    Throttled,
    /// Unknown, revoked or expired token.
    BadToken,
    /// The command needs a logged-in connection.
    NotLoggedIn,
    /// The server could not save its files.
    Io,
}

impl ErrorCode {
    /// The word on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadCommand => "bad-command",
            ErrorCode::LineTooLong => "line-too-long",
            ErrorCode::Busy => "busy",
            ErrorCode::UserExists => "user-exists",
            ErrorCode::BadUser => "bad-user",
            ErrorCode::WeakPassword => "weak-password",
            ErrorCode::BadCredentials => "bad-credentials",
            ErrorCode::Throttled => "throttled",
            ErrorCode::BadToken => "bad-token",
            ErrorCode::NotLoggedIn => "not-logged-in",
            ErrorCode::Io => "io",
        }
    }

    /// The human text the server puts after the code (except for `bad-command`,
    /// whose text says what was wrong with the line, and a REGISTER's `throttled`,
    /// which says [`REGISTER_THROTTLED`]).
    pub const fn text(self) -> &'static str {
        match self {
            ErrorCode::BadCommand => {
                "expected REGISTER, LOGIN, TOKEN, WHOAMI, PASSWD, LOGOUT or QUIT"
            }
            ErrorCode::LineTooLong => "line longer than 1024 bytes",
            ErrorCode::Busy => "server full",
            ErrorCode::UserExists => "that user name is taken",
            ErrorCode::BadUser => "a user name is 1 to 32 of A-Z a-z 0-9 _ . -",
            ErrorCode::WeakPassword => "a password is 8 to 128 bytes",
            ErrorCode::BadCredentials => "wrong user name or password",
            ErrorCode::Throttled => "too many wrong passwords; try again in a minute",
            ErrorCode::BadToken => "unknown, revoked or expired token",
            ErrorCode::NotLoggedIn => "log in first (LOGIN or TOKEN)",
            ErrorCode::Io => "the server could not save its data",
        }
    }

    /// The code for a wire word.
    pub fn from_wire(s: &str) -> Option<Self> {
        Some(match s {
            "bad-command" => ErrorCode::BadCommand,
            "line-too-long" => ErrorCode::LineTooLong,
            "busy" => ErrorCode::Busy,
            "user-exists" => ErrorCode::UserExists,
            "bad-user" => ErrorCode::BadUser,
            "weak-password" => ErrorCode::WeakPassword,
            "bad-credentials" => ErrorCode::BadCredentials,
            "throttled" => ErrorCode::Throttled,
            "bad-token" => ErrorCode::BadToken,
            "not-logged-in" => ErrorCode::NotLoggedIn,
            "io" => ErrorCode::Io,
            _ => return None,
        })
    }
}

impl core::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}
