//! §3 server lines, parsed on the client side. Like the command parser, it borrows and
//! allocates nothing.

use nom::Parser;
use nom::bytes::complete::{tag, take_while_m_n, take_while1};
use nom::combinator::{all_consuming, map_res, rest};
use nom::sequence::{preceded, separated_pair};

/// One line from a files server (without its LF), in the shapes §3 defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerLine<'a> {
    /// `OK socklab-files <version>`.
    Greeting(u32),
    /// `OK <count>` (answers `LIST`).
    Count(u64),
    /// `OK cancelled`.
    Cancelled,
    /// `OK <final size> <crc32>`.
    Stored {
        /// Size of the whole file after the upload.
        size: u64,
        /// crc32 of the bytes of this upload.
        crc: u32,
    },
    /// `READY`.
    Ready,
    /// `EXISTS <current size>`.
    Exists(u64),
    /// `DATA <size>`.
    Data(u64),
    /// `BYE`.
    Bye,
    /// `ERR <code> <text>`; the code is kept as a word so an unknown one still shows.
    Err {
        /// The code word.
        code: &'a str,
        /// The human text (may be empty).
        text: &'a str,
    },
}

/// A line that is none of §3's shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyError;

impl core::fmt::Display for ReplyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("the server sent a line that is not part of the files protocol")
    }
}

impl core::error::Error for ReplyError {}

fn decimal(d: &[u8]) -> Result<u64, ReplyError> {
    d.iter()
        .try_fold(0u64, |acc, &b| {
            acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        })
        .ok_or(ReplyError)
}

fn number(input: &[u8]) -> nom::IResult<&[u8], u64> {
    map_res(take_while1(|b: u8| b.is_ascii_digit()), decimal).parse(input)
}

fn crc(input: &[u8]) -> nom::IResult<&[u8], u32> {
    map_res(
        take_while_m_n(8, 8, |b: u8| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        |h: &[u8]| {
            h.iter().try_fold(0u32, |acc, &b| {
                let d = (b as char).to_digit(16).ok_or(ReplyError)?;
                Ok::<u32, ReplyError>(acc << 4 | d)
            })
        },
    )
    .parse(input)
}

fn whole<'a, O>(
    p: impl Parser<&'a [u8], Output = O, Error = nom::error::Error<&'a [u8]>>,
    input: &'a [u8],
) -> Option<O> {
    all_consuming(p).parse(input).ok().map(|(_, o)| o)
}

/// Parse one server line other than a listing entry.
pub fn parse_reply(line: &[u8]) -> Result<ServerLine<'_>, ReplyError> {
    match line {
        b"READY" => return Ok(ServerLine::Ready),
        b"BYE" => return Ok(ServerLine::Bye),
        b"OK cancelled" => return Ok(ServerLine::Cancelled),
        _ => {}
    }
    if let Some(v) = whole(preceded(tag(&b"OK socklab-files "[..]), number), line) {
        return u32::try_from(v)
            .map(ServerLine::Greeting)
            .map_err(|_| ReplyError);
    }
    if let Some((size, crc)) = whole(
        preceded(
            tag(&b"OK "[..]),
            separated_pair(number, tag(&b" "[..]), crc),
        ),
        line,
    ) {
        return Ok(ServerLine::Stored { size, crc });
    }
    if let Some(n) = whole(preceded(tag(&b"OK "[..]), number), line) {
        return Ok(ServerLine::Count(n));
    }
    if let Some(n) = whole(preceded(tag(&b"EXISTS "[..]), number), line) {
        return Ok(ServerLine::Exists(n));
    }
    if let Some(n) = whole(preceded(tag(&b"DATA "[..]), number), line) {
        return Ok(ServerLine::Data(n));
    }
    if let Some(args) = whole(preceded(tag(&b"ERR "[..]), rest), line) {
        let args = core::str::from_utf8(args).map_err(|_| ReplyError)?;
        let (code, text) = args.split_once(' ').unwrap_or((args, ""));
        return Ok(ServerLine::Err { code, text });
    }
    Err(ReplyError)
}

/// Parse one listing line, `<size> <name>`.
pub fn parse_entry(line: &[u8]) -> Result<(u64, &str), ReplyError> {
    let (size, name) =
        whole(separated_pair(number, tag(&b" "[..]), rest), line).ok_or(ReplyError)?;
    let name = core::str::from_utf8(name).map_err(|_| ReplyError)?;
    if name.is_empty() {
        return Err(ReplyError);
    }
    Ok((size, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies() {
        assert_eq!(
            parse_reply(b"OK socklab-files 1"),
            Ok(ServerLine::Greeting(1))
        );
        assert_eq!(parse_reply(b"OK 3"), Ok(ServerLine::Count(3)));
        assert_eq!(
            parse_reply(b"OK 10 0000abcd"),
            Ok(ServerLine::Stored {
                size: 10,
                crc: 0xabcd
            })
        );
        assert_eq!(parse_reply(b"OK 10 0000ABCD"), Err(ReplyError));
        assert_eq!(parse_reply(b"OK cancelled"), Ok(ServerLine::Cancelled));
        assert_eq!(parse_reply(b"EXISTS 5"), Ok(ServerLine::Exists(5)));
        assert_eq!(parse_reply(b"DATA 0"), Ok(ServerLine::Data(0)));
        assert_eq!(
            parse_reply(b"ERR busy server full"),
            Ok(ServerLine::Err {
                code: "busy",
                text: "server full"
            })
        );
        assert_eq!(parse_reply(b"READY!"), Err(ReplyError));
        assert_eq!(parse_entry(b"12 a b"), Ok((12, "a b")));
        assert_eq!(parse_entry(b"12"), Err(ReplyError));
    }
}
