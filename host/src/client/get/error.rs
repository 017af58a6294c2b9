//! Why `socklab get` fails, and the exit status each kind of failure gives.

use super::url::UrlError;
use crate::client::conn::ConnectError;
use crate::client::{EXIT_CONNECT, EXIT_FAILURE};
use std::fmt;

/// Exit code: the server answered with a final status other than 2xx.
pub const EXIT_STATUS: u8 = 3;
/// Exit code: connecting, or waiting for data, took longer than `--timeout`.
pub const EXIT_TIMEOUT: u8 = 4;
/// Exit code: more than [`MAX_REDIRECTS`](super::MAX_REDIRECTS) redirects with `-L`.
pub const EXIT_REDIRECTS: u8 = 5;
/// Exit code: the URL cannot be fetched (malformed, https, another scheme).
pub const EXIT_URL: u8 = 6;

/// Why `get` failed; each kind has its exit code.
#[derive(Debug)]
pub enum GetError {
    /// Malformed or unsupported URL.
    Url(UrlError),
    /// The server cannot be reached.
    Connect(ConnectError),
    /// No data for `--timeout` seconds.
    Timeout(String),
    /// A final status that is not 2xx.
    Status(String),
    /// Redirect loop or chain too long.
    Redirects(String),
    /// Anything else after connecting: the message says what.
    Failed(String),
}

impl GetError {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            GetError::Url(_) => EXIT_URL,
            GetError::Connect(_) => EXIT_CONNECT,
            GetError::Timeout(_) => EXIT_TIMEOUT,
            GetError::Status(_) => EXIT_STATUS,
            GetError::Redirects(_) => EXIT_REDIRECTS,
            GetError::Failed(_) => EXIT_FAILURE,
        }
    }
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetError::Url(e) => e.fmt(f),
            GetError::Connect(e) => e.fmt(f),
            GetError::Timeout(m)
            | GetError::Status(m)
            | GetError::Redirects(m)
            | GetError::Failed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for GetError {}
