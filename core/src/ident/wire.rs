//! §4's fixed lines: what the server says to a client it does not know yet.

/// The question asked of an unknown client (§4).
pub const QUESTION: &str = "What is your name?";
/// The answer to an invalid name or an overlong line (§4, §0).
pub const INVALID: &str = "Sorry, that is not a valid name.";
/// The answer to an unknown client when the table has no room for another name (a
/// socklab addition to §4, so that a peer with many addresses cannot grow the table
/// without bound): said instead of the question, then close.
pub const FULL: &str = "Sorry, I cannot remember any more names.";
