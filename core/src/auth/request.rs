//! What an [`Auth`](super::Auth) session asks of its backend, and the answers.
//!
//! The backend is per connection: it remembers which login (token) this connection is
//! logged in with, so [`Request::Whoami`], [`Request::CheckPassword`],
//! [`Request::SetPassword`] and [`Request::Logout`] carry no token.

use super::wire::ErrorCode;
use crate::time::Duration;

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
