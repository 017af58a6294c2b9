//! §4 ident: the server greets a client it knows by IP address, and otherwise asks its
//! name and remembers it.
//!
//! * [`name`] — the name rule (1..=64 characters after trimming spaces, printable, no
//!   TAB), shared by the server and the client;
//! * [`server`] — the [`Ident`] session. It never touches the name file: like the files
//!   session it is a [`SideWork`](crate::side::SideWork) that *asks* the frontend to
//!   store the pair and greets only once the frontend reports the outcome, so the
//!   greeting promises that the name is durably stored.

pub mod name;
pub mod server;

pub use name::{MAX_NAME_BYTES, MAX_NAME_CHARS, valid_name};
pub use server::Ident;

/// The question asked of an unknown client (§4).
pub const QUESTION: &str = "What is your name?";
/// The answer to an invalid name or an overlong line (§4, §0).
pub const INVALID: &str = "Sorry, that is not a valid name.";
/// The answer to an unknown client when the table has no room for another name (a
/// socklab addition to §4, so that a peer with many addresses cannot grow the table
/// without bound): said instead of the question, then close.
pub const FULL: &str = "Sorry, I cannot remember any more names.";
