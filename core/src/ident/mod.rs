//! §4 ident: the server greets a client it knows by IP address, and otherwise asks its
//! name and remembers it.
//!
//! * [`name`] — the name rule (1..=64 characters after trimming spaces, printable, no
//!   TAB), shared by the server and the client;
//! * [`server`] — the [`Ident`] session. It never touches the name file: like the files
//!   session it is a [`SideWork`](crate::side::SideWork) that *asks* the frontend to
//!   store the pair and greets only once the frontend reports the outcome, so the
//!   greeting promises that the name is durably stored;
//! * [`wire`] — the question and the two refusals the server says to a stranger.

pub mod name;
pub mod server;
pub mod wire;

pub use name::{MAX_NAME_BYTES, MAX_NAME_CHARS, valid_name};
pub use server::Ident;
pub use wire::{FULL, INVALID, QUESTION};
