//! §3 client commands: the server's parser and the client's renderer, one type for both
//! so the two can never disagree about the wire.
//!
//! The parser is nom over the line's bytes and borrows the name from them: parsing a
//! command allocates and copies nothing (`core/tests/no_alloc.rs`).

use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_while1};
use nom::combinator::{all_consuming, map, map_res, rest, value};
use nom::sequence::preceded;
use nom::{IResult, Parser};

use super::name::{NameError, validate_name};

/// One command line from a client, without its LF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Command<'a> {
    /// `LIST`.
    List,
    /// `PUT <size> <name>`.
    Put {
        /// Bytes that will follow `READY`.
        size: u64,
        /// The target name (already valid).
        name: &'a str,
    },
    /// `OVERWRITE` (answers `EXISTS`).
    Overwrite,
    /// `APPEND` (answers `EXISTS`).
    Append,
    /// `CANCEL` (answers `EXISTS`).
    Cancel,
    /// `GET <name>`.
    Get {
        /// The file to send (already valid).
        name: &'a str,
    },
    /// `QUIT`.
    Quit,
}

impl core::fmt::Display for Command<'_> {
    /// The wire form, without the LF.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Command::List => f.write_str("LIST"),
            Command::Put { size, name } => write!(f, "PUT {size} {name}"),
            Command::Overwrite => f.write_str("OVERWRITE"),
            Command::Append => f.write_str("APPEND"),
            Command::Cancel => f.write_str("CANCEL"),
            Command::Get { name } => write!(f, "GET {name}"),
            Command::Quit => f.write_str("QUIT"),
        }
    }
}

/// Why a line is not a command. [`CommandError::BadName`] is answered `ERR bad-name`,
/// everything else `ERR bad-command`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CommandError {
    /// The line is not UTF-8 (§0).
    NotUtf8,
    /// The first word is none of the commands, or arguments are missing or extra.
    Unknown,
    /// `PUT` with a size that is not a decimal u64.
    BadSize,
    /// The name is not valid (§3).
    BadName(NameError),
}

impl core::fmt::Display for CommandError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CommandError::NotUtf8 => f.write_str("the line is not valid UTF-8"),
            CommandError::Unknown => f.write_str(
                "expected LIST, PUT <size> <name>, GET <name>, OVERWRITE, APPEND, CANCEL or QUIT",
            ),
            CommandError::BadSize => f.write_str("the size must be a decimal number of bytes"),
            CommandError::BadName(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for CommandError {}

/// Words without arguments. Command words are matched without regard to case, as a
/// person typing into `nc` would expect; arguments are taken as they are.
fn bare(input: &[u8]) -> IResult<&[u8], Command<'_>> {
    all_consuming(alt((
        value(Command::List, tag_no_case("LIST")),
        value(Command::Overwrite, tag_no_case("OVERWRITE")),
        value(Command::Append, tag_no_case("APPEND")),
        value(Command::Cancel, tag_no_case("CANCEL")),
        value(Command::Quit, tag_no_case("QUIT")),
    )))
    .parse(input)
}

/// A decimal u64; digits that overflow fail like any other bad size.
fn size(input: &[u8]) -> IResult<&[u8], u64> {
    map_res(take_while1(|b: u8| b.is_ascii_digit()), |d: &[u8]| {
        d.iter()
            .try_fold(0u64, |acc, &b| {
                acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
            })
            .ok_or(())
    })
    .parse(input)
}

/// Which command a line with arguments is, before its arguments are judged, so that
/// `PUT x y` says "bad size" rather than "unknown command".
enum WithArgs<'a> {
    Put(&'a [u8]),
    Get(&'a [u8]),
}

fn with_args(input: &[u8]) -> IResult<&[u8], WithArgs<'_>> {
    alt((
        map(preceded(tag_no_case("PUT "), rest), WithArgs::Put),
        map(preceded(tag_no_case("GET "), rest), WithArgs::Get),
    ))
    .parse(input)
}

fn name(bytes: &[u8]) -> Result<&str, CommandError> {
    // The whole line was checked to be UTF-8, so a suffix starting after an ASCII
    // space is too; check again rather than trust it (no unsafe here).
    let s = core::str::from_utf8(bytes).map_err(|_| CommandError::NotUtf8)?;
    validate_name(s).map_err(CommandError::BadName)
}

/// Parse one command line (LF and CR already removed by the line reader).
pub fn parse_command(line: &[u8]) -> Result<Command<'_>, CommandError> {
    if core::str::from_utf8(line).is_err() {
        return Err(CommandError::NotUtf8);
    }
    if let Ok((_, c)) = bare(line) {
        return Ok(c);
    }
    match with_args(line) {
        Ok((_, WithArgs::Get(n))) => Ok(Command::Get { name: name(n)? }),
        Ok((_, WithArgs::Put(args))) => {
            let (after, size) = size(args).map_err(|_| CommandError::BadSize)?;
            let n: IResult<&[u8], &[u8]> = preceded(tag(&b" "[..]), rest).parse(after);
            match n {
                Ok((_, n)) => Ok(Command::Put {
                    size,
                    name: name(n)?,
                }),
                Err(_) if after.is_empty() => Err(CommandError::BadName(NameError::Empty)),
                Err(_) => Err(CommandError::BadSize),
            }
        }
        Err(_) => Err(CommandError::Unknown),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse() {
        assert_eq!(parse_command(b"LIST"), Ok(Command::List));
        assert_eq!(parse_command(b"list"), Ok(Command::List));
        assert_eq!(parse_command(b"QUIT"), Ok(Command::Quit));
        assert_eq!(
            parse_command(b"PUT 12 my notes.txt"),
            Ok(Command::Put {
                size: 12,
                name: "my notes.txt"
            })
        );
        assert_eq!(
            parse_command(b"GET a  b"),
            Ok(Command::Get { name: "a  b" })
        );
        assert_eq!(parse_command(b"LIST x"), Err(CommandError::Unknown));
        assert_eq!(parse_command(b"LISTING"), Err(CommandError::Unknown));
        assert_eq!(parse_command(b"PUT x a"), Err(CommandError::BadSize));
        assert_eq!(parse_command(b"PUT -1 a"), Err(CommandError::BadSize));
        assert_eq!(
            parse_command(b"PUT 18446744073709551616 a"),
            Err(CommandError::BadSize)
        );
        assert_eq!(
            parse_command(b"PUT 18446744073709551615 a").map(|_| ()),
            Ok(())
        );
        assert_eq!(parse_command(b"PUT 5x a"), Err(CommandError::BadSize));
        assert_eq!(
            parse_command(b"PUT 5"),
            Err(CommandError::BadName(NameError::Empty))
        );
        assert_eq!(
            parse_command(b"PUT 5 "),
            Err(CommandError::BadName(NameError::Empty))
        );
        assert_eq!(
            parse_command(b"GET ../etc/passwd"),
            Err(CommandError::BadName(NameError::Dot))
        );
        assert_eq!(parse_command(b"GET \xff"), Err(CommandError::NotUtf8));
        assert_eq!(parse_command(b""), Err(CommandError::Unknown));
    }

    #[test]
    fn render_round_trips() {
        use core::fmt::Write;
        let mut s: heapless::String<64> = heapless::String::new();
        let c = Command::Put {
            size: 7,
            name: "a b",
        };
        write!(s, "{c}").unwrap();
        assert_eq!(s, "PUT 7 a b");
        assert_eq!(parse_command(s.as_bytes()), Ok(c));
    }
}
