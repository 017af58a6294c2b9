//! §8's bounds on a response head, shared by the head parser and the trailer limit of
//! the chunked decoder.

/// Most headers a response may have (§8); give [`parse_response`](super::parse_response)
/// this many slots.
pub const MAX_HEADERS: usize = 100;

/// Most bytes a response head may take, status line and final blank line included (§8).
pub const MAX_HEAD: usize = 64 * 1024;
