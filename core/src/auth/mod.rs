//! §5 auth: users with passwords and session tokens ("like cookies").
//!
//! * [`command`] — the command parser (server) and the reply parser (clients);
//! * [`request`] — the [`Request`]s the session hands its backend and the [`Reply`]s;
//! * [`rules`] — §5's limits on user names, passwords and tokens, and their checks;
//! * [`wire`] — the greeting, the server-full line and the [`ErrorCode`]s with their
//!   texts;
//! * [`server`] — the [`Auth`] session, which never hashes, stores or draws randomness
//!   itself: as a [`SideWork`](crate::side::SideWork) it emits a [`Request`] for the
//!   frontend's backend (Argon2 on a worker pool on the PC) and resumes when the
//!   [`Reply`] comes back.
//!
//! Everything secret (hashing, token generation, the user and session stores,
//! throttling by peer address) belongs to the backend, so this module stays `no_std`
//! and allocation-free and a board could put a different backend behind it.

pub mod command;
pub mod request;
pub mod rules;
pub mod server;
pub mod wire;

pub use command::{Command, CommandError, ServerReply, parse_command, parse_reply};
pub use request::{Reply, Request};
pub use rules::{
    DEFAULT_TOKEN_TTL, MAX_PASSWORD, MAX_USER, MIN_PASSWORD, TOKEN_HEX, valid_password,
    valid_token, valid_user,
};
pub use server::Auth;
pub use wire::{ErrorCode, GREETING, REGISTER_THROTTLED, SERVER_FULL};
