//! §3's fixed lines and error words: the greeting, the server-full line and the codes
//! of `ERR <code> <text>`.

/// The greeting, sent on connect (§3).
pub const GREETING: &str = "OK socklab-files 1";

/// Protocol version in the greeting.
pub const VERSION: u32 = 1;

/// What a server over `--max-conns` sends before closing (§0), byte for byte.
pub const SERVER_FULL: &[u8] = b"ERR busy server full\n";

/// The error codes of §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ErrorCode {
    /// Not a command, or not one that fits now.
    BadCommand,
    /// The name breaks §3's rules.
    BadName,
    /// No such file.
    NotFound,
    /// Over `--max-file-size`.
    TooLarge,
    /// Another upload to the same name is in progress (also: server full).
    Busy,
    /// The disk is full.
    NoSpace,
    /// Any other storage failure.
    Io,
    /// A line over the §0 limit.
    LineTooLong,
}

impl ErrorCode {
    /// The word on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadCommand => "bad-command",
            ErrorCode::BadName => "bad-name",
            ErrorCode::NotFound => "not-found",
            ErrorCode::TooLarge => "too-large",
            ErrorCode::Busy => "busy",
            ErrorCode::NoSpace => "no-space",
            ErrorCode::Io => "io",
            ErrorCode::LineTooLong => "line-too-long",
        }
    }

    /// The code for a wire word.
    pub fn from_wire(s: &str) -> Option<Self> {
        Some(match s {
            "bad-command" => ErrorCode::BadCommand,
            "bad-name" => ErrorCode::BadName,
            "not-found" => ErrorCode::NotFound,
            "too-large" => ErrorCode::TooLarge,
            "busy" => ErrorCode::Busy,
            "no-space" => ErrorCode::NoSpace,
            "io" => ErrorCode::Io,
            "line-too-long" => ErrorCode::LineTooLong,
            _ => return None,
        })
    }
}

impl core::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}
