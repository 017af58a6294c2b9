//! Client datagrams (§6) and the nick rule.

/// Largest datagram the server accepts (§6): a longer one is `bad-message`.
pub const MAX_DATAGRAM: usize = 512;
/// Longest nick.
pub const MAX_NICK: usize = 16;
/// Longest datagram the server sends: a relayed `<nick>: <text>` (16 + 2 + 508).
/// Clients accept up to 1024 (§6), so there is room to spare.
pub const MAX_RELAY: usize = MAX_NICK + 2 + MAX_DATAGRAM - 4;

/// A parsed client datagram, borrowing from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command<'a> {
    /// `JOIN <nick>`; the nick is checked by [`valid_nick`] separately, because a bad
    /// nick has its own error code.
    Join(&'a str),
    /// `MSG <text>`.
    Msg(&'a str),
    /// `WHO`.
    Who,
    /// `PING`.
    Ping,
    /// `LEAVE`.
    Leave,
}

/// Why a datagram is not a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ParseError {
    /// Over [`MAX_DATAGRAM`] bytes or not UTF-8: `ERR bad-message`.
    BadMessage,
    /// Unknown or malformed command: `ERR bad-command`.
    BadCommand,
}

/// Parse one datagram.
///
/// Command words are exact upper case as in §6. One trailing LF (or CR LF) is dropped,
/// so `nc -u` (which sends the line with its LF) can chat too; the limit is checked on
/// the datagram as it arrived.
pub fn parse(datagram: &[u8]) -> Result<Command<'_>, ParseError> {
    if datagram.len() > MAX_DATAGRAM {
        return Err(ParseError::BadMessage);
    }
    let text = core::str::from_utf8(datagram).map_err(|_| ParseError::BadMessage)?;
    let text = text.strip_suffix('\n').unwrap_or(text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    let (word, arg) = match text.split_once(' ') {
        Some((w, a)) => (w, Some(a)),
        None => (text, None),
    };
    match (word, arg) {
        ("JOIN", Some(nick)) => Ok(Command::Join(nick)),
        ("MSG", Some(t)) if !t.is_empty() => Ok(Command::Msg(t)),
        ("WHO", None) => Ok(Command::Who),
        ("PING", None) => Ok(Command::Ping),
        ("LEAVE", None) => Ok(Command::Leave),
        _ => Err(ParseError::BadCommand),
    }
}

/// The datagram a client sends, without a line terminator (§6). `parse` of it gives the
/// same command back whenever the datagram fits [`MAX_DATAGRAM`] and the argument does
/// not itself end in LF or CR (which `parse` would take for `nc`'s line end).
impl core::fmt::Display for Command<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Command::Join(nick) => write!(f, "JOIN {nick}"),
            Command::Msg(text) => write!(f, "MSG {text}"),
            Command::Who => f.write_str("WHO"),
            Command::Ping => f.write_str("PING"),
            Command::Leave => f.write_str("LEAVE"),
        }
    }
}

/// A nick is 1..=16 of `A-Z a-z 0-9 _ -` (§6).
pub fn valid_nick(nick: &str) -> bool {
    (1..=MAX_NICK).contains(&nick.len())
        && nick
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands() {
        assert_eq!(parse(b"JOIN ann"), Ok(Command::Join("ann")));
        assert_eq!(parse(b"JOIN ann\n"), Ok(Command::Join("ann")));
        assert_eq!(parse(b"JOIN ann\r\n"), Ok(Command::Join("ann")));
        assert_eq!(parse(b"MSG hi there"), Ok(Command::Msg("hi there")));
        assert_eq!(parse(b"WHO"), Ok(Command::Who));
        assert_eq!(parse(b"PING"), Ok(Command::Ping));
        assert_eq!(parse(b"LEAVE"), Ok(Command::Leave));
        for bad in ["MSG", "MSG ", "who", "WHO x", "JOIN", "", "HELLO"] {
            assert_eq!(
                parse(bad.as_bytes()),
                Err(ParseError::BadCommand),
                "{bad:?}"
            );
        }
        assert_eq!(parse(b"MSG \xff"), Err(ParseError::BadMessage));
        let mut long = [b'x'; 513];
        long[..4].copy_from_slice(b"MSG ");
        assert_eq!(parse(&long), Err(ParseError::BadMessage));
        assert!(parse(&long[..512]).is_ok());
    }

    #[test]
    fn nicks() {
        assert!(valid_nick("ann_B-9"));
        assert!(valid_nick("abcdefghijklmnop"));
        assert!(!valid_nick("abcdefghijklmnopq"));
        assert!(!valid_nick(""));
        assert!(!valid_nick("a b"));
        assert!(!valid_nick("анна"));
    }
}
