//! The response head: `HTTP/1.x SSS reason`, then `name: value` lines, then a blank line.
//!
//! The status line is small and fixed, so its fixed parts are nom parsers; the header
//! lines are where the bytes are, so they are scanned by hand: a table lookup per name
//! byte (names are short and must be checked byte by byte anyway), then one search per
//! value that finds the line end and rejects a NUL or a bare CR in the same pass.
//!
//! That search is the hot spot. The crate forbids `unsafe`, so no intrinsics: on x86_64
//! it uses memchr's safe SSE2 searcher (`arch::x86_64::sse2::memchr::Three`), built
//! inline — the generic `memchr3` spent ~10 ns per call on typical 10–40-byte values in
//! its runtime dispatch. Elsewhere (the Cortex-M build) it is a word-at-a-time (SWAR)
//! loop for the first [`SWAR_SPAN`] bytes and `memchr3` beyond.
//!
//! Line ends may be CRLF or a bare LF (RFC 9112 §2.2 lets a recipient accept LF alone).
//! Other control bytes inside a value are passed through untouched: unlike CR, LF and
//! NUL they cannot change where a line ends, and a client has no business rewriting
//! what a server sent.

use super::limits::MAX_HEAD;
use crate::Status;
use nom::Parser;
use nom::bytes::streaming::{tag, take};

/// One header line, borrowed from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Header<'b> {
    /// The name, as sent (a token: ASCII only, so [`name_str`](Self::name_str) never
    /// fails). Compare with [`is`](Self::is), names are case-insensitive.
    pub name: &'b [u8],
    /// The value without the spaces and tabs around it. Not necessarily UTF-8.
    pub value: &'b [u8],
}

impl<'b> Header<'b> {
    /// The name as text. Kept out of the parse loop: a UTF-8 check per header would cost
    /// more than the rest of the name scan, and most names are only ever compared.
    pub fn name_str(&self) -> &'b str {
        core::str::from_utf8(self.name).unwrap_or_default()
    }

    /// Whether this header is called `name`, ignoring ASCII case.
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name.as_bytes())
    }
}

/// An unused header slot, to fill an array of slots: `[EMPTY_HEADER; MAX_HEADERS]`.
pub const EMPTY_HEADER: Header<'static> = Header {
    name: b"",
    value: b"",
};

/// A parsed response head. The headers are the filled prefix of the caller's slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Response<'h, 'b> {
    /// The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version: u8,
    /// The three-digit status code.
    pub code: u16,
    /// The reason phrase (possibly empty), as sent; obs-text may make it non-UTF-8.
    pub reason: &'b [u8],
    /// The headers, in order.
    pub headers: &'h [Header<'b>],
    /// Bytes of input the head took, blank line included: the body starts here.
    pub head_len: usize,
}

/// Why a response head can never be valid. Every variant is final: more input cannot fix it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum HeadError {
    /// The response does not start with `HTTP/1.0 ` or `HTTP/1.1 `.
    Version,
    /// The status code is not three digits.
    Status,
    /// The reason phrase holds a control byte.
    Reason,
    /// A header name is empty, holds a byte that is not a token byte, or is followed by
    /// space before its colon.
    HeaderName,
    /// A header value holds a NUL or a CR that is not part of a line end.
    HeaderValue,
    /// A CR is not followed by LF where a line should end.
    NewLine,
    /// A header line starts with a space or tab: the obsolete line folding that RFC 9112
    /// §5.2 lets a recipient reject, and which a zero-copy parser cannot unfold.
    ObsFold,
    /// More headers than the caller gave slots for.
    TooManyHeaders,
    /// The head does not end within the byte limit.
    TooLarge,
}

impl core::fmt::Display for HeadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            HeadError::Version => "not an HTTP/1.0 or HTTP/1.1 response",
            HeadError::Status => "the status code is not three digits",
            HeadError::Reason => "control byte in the reason phrase",
            HeadError::HeaderName => "malformed header name",
            HeadError::HeaderValue => "NUL or stray CR in a header value",
            HeadError::NewLine => "CR without LF at the end of a line",
            HeadError::ObsFold => "folded header line (obsolete line folding)",
            HeadError::TooManyHeaders => "too many headers",
            HeadError::TooLarge => "response head too large",
        })
    }
}

impl core::error::Error for HeadError {}

/// Parse a response head of at most [`MAX_HEAD`] bytes into `headers`.
///
/// `Ok(Partial)`: no error so far, call again with more bytes (from the start: the
/// parser keeps no state). The number of slots is the header limit; pass
/// [`MAX_HEADERS`](super::MAX_HEADERS) of them for §8.
pub fn parse_response<'h, 'b>(
    buf: &'b [u8],
    headers: &'h mut [Header<'b>],
) -> Result<Status<Response<'h, 'b>>, HeadError> {
    parse_response_limited(buf, headers, MAX_HEAD)
}

/// [`parse_response`] with a head limit of `max_head` bytes instead of [`MAX_HEAD`].
///
/// Only the first `max_head` bytes of `buf` are ever read, so however much a caller has
/// buffered, a head that does not end by then is [`HeadError::TooLarge`] at once, and a
/// shorter `buf` that has not ended yet is `Partial`.
pub fn parse_response_limited<'h, 'b>(
    buf: &'b [u8],
    headers: &'h mut [Header<'b>],
    max_head: usize,
) -> Result<Status<Response<'h, 'b>>, HeadError> {
    let window = &buf[..buf.len().min(max_head)];
    match parse_window(window, headers) {
        Ok(r) => Ok(Status::Complete(r)),
        Err(Fail::Bad(e)) => Err(e),
        Err(Fail::Partial) if buf.len() >= max_head => Err(HeadError::TooLarge),
        Err(Fail::Partial) => Ok(Status::Partial),
    }
}

/// Internal outcome of a failed step: the caller decides whether "need more" means
/// `Partial` or `TooLarge`, since only it knows whether the window was cut.
enum Fail {
    Partial,
    Bad(HeadError),
}

type NomErr<'a> = nom::Err<nom::error::Error<&'a [u8]>>;

/// nom's `Incomplete` is our `Partial`; any other failure of a step is `err`.
fn nom_fail(err: HeadError) -> impl Fn(NomErr<'_>) -> Fail {
    move |e| match e {
        nom::Err::Incomplete(_) => Fail::Partial,
        nom::Err::Error(_) | nom::Err::Failure(_) => Fail::Bad(err),
    }
}

fn parse_window<'h, 'b>(
    w: &'b [u8],
    slots: &'h mut [Header<'b>],
) -> Result<Response<'h, 'b>, Fail> {
    let (version, code, reason, rest) = status_line(w)?;
    let start = w.len() - rest.len();
    let (n, head_len) = header_lines(w, start, slots)?;
    let headers: &'h [Header<'b>] = slots;
    Ok(Response {
        version,
        code,
        reason,
        headers: headers.get(..n).unwrap_or_default(),
        head_len,
    })
}

/// What the status line says: minor version, code, reason, and the input after it.
type StatusLine<'b> = (u8, u16, &'b [u8], &'b [u8]);

/// `HTTP/1.x SSS reason` and its line end. The space and reason may be missing
/// (`HTTP/1.1 200\r\n`), as some servers send it and httparse accepts it.
fn status_line(w: &[u8]) -> Result<StatusLine<'_>, Fail> {
    // Fast path: the 13 fixed bytes of a usual status line checked at once (worth ~10 ns
    // a head in the benchmark). nom below handles the rest — short input, a missing
    // reason, errors — and gives the same answers.
    if let (true, Some(&[v @ (b'0' | b'1'), b' ', a, b, c, b' '])) =
        (w.starts_with(b"HTTP/1."), w.get(7..13))
    {
        if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() {
            let code = u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0');
            return reason_phrase(v - b'0', code, &w[13..]);
        }
    }
    let (i, _) = tag(&b"HTTP/1."[..])
        .parse(w)
        .map_err(nom_fail(HeadError::Version))?;
    let (i, v) = take(2usize)
        .parse(i)
        .map_err(nom_fail(HeadError::Version))?;
    let version = match v {
        b"0 " => 0,
        b"1 " => 1,
        _ => return Err(Fail::Bad(HeadError::Version)),
    };
    let (i, digits) = take(3usize).parse(i).map_err(nom_fail(HeadError::Status))?;
    let mut code = 0u16;
    for &d in digits {
        if !d.is_ascii_digit() {
            return Err(Fail::Bad(HeadError::Status));
        }
        code = code * 10 + u16::from(d - b'0');
    }
    let i = match i.first() {
        None => return Err(Fail::Partial),
        Some(b' ') => &i[1..],
        Some(b'\r' | b'\n') => i,
        Some(_) => return Err(Fail::Bad(HeadError::Status)),
    };
    reason_phrase(version, code, i)
}

/// The reason phrase and the status line's end, after `HTTP/1.x SSS `.
fn reason_phrase(version: u8, code: u16, i: &[u8]) -> Result<StatusLine<'_>, Fail> {
    // HTAB, SP, VCHAR and obs-text (RFC 9112 §4); whatever stops the scan must be the
    // line end, so a control byte shows up there as a reason error.
    // (A plain scan rather than nom's `take_while`, which did not inline and cost as
    // much as the rest of a small head.)
    let Some(len) = i
        .iter()
        .position(|&b| !(b == b'\t' || (b >= b' ' && b != 0x7f)))
    else {
        return Err(Fail::Partial);
    };
    let (reason, i) = i.split_at(len);
    let i = match i.first() {
        Some(b'\r' | b'\n') => line_end(i)?,
        _ => return Err(Fail::Bad(HeadError::Reason)),
    };
    Ok((version, code, reason, i))
}

/// Skip a CRLF or a bare LF at the start of `i`.
fn line_end(i: &[u8]) -> Result<&[u8], Fail> {
    match i {
        [b'\n', rest @ ..] | [b'\r', b'\n', rest @ ..] => Ok(rest),
        [] | [b'\r'] => Err(Fail::Partial),
        _ => Err(Fail::Bad(HeadError::NewLine)),
    }
}

/// How far [`find_line_end`] scans a word at a time before handing over to `memchr3`.
const SWAR_SPAN: usize = 64;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `x` that is zero, and perhaps of some bytes above a zero
/// one (Bit Twiddling Hacks' `haszero`): exact for the lowest zero byte, which is all
/// [`swar_find`] looks at.
#[inline(always)]
fn zero_bytes(x: u64) -> u64 {
    x.wrapping_sub(ONES) & !x & HIGH
}

/// The first byte of `s` that `hit` accepts, eight bytes at a time for the first
/// [`SWAR_SPAN`] bytes: `maybe(word)` is a cheap test that may say yes for a word without
/// a hit (never no for one with a hit); then `exact(word)` marks, through [`zero_bytes`],
/// the bytes that are hits, and the lowest mark is the answer — no byte loop, so no
/// branch to mispredict inside a word. Past the span, `far` (a `memchr`) takes over; the
/// last few bytes of `s` are checked one by one.
#[inline(always)]
fn swar_find(
    s: &[u8],
    maybe: impl Fn(u64) -> bool,
    exact: impl Fn(u64) -> u64,
    hit: impl Fn(&u8) -> bool,
    far: impl FnOnce(&[u8]) -> Option<usize>,
) -> Option<usize> {
    let mut i = 0;
    while i < SWAR_SPAN {
        let Some(chunk) = s.get(i..i + 8) else {
            return s.get(i..)?.iter().position(hit).map(|p| i + p);
        };
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        if maybe(x) {
            let m = exact(x);
            if m != 0 {
                return Some(i + (m.trailing_zeros() / 8) as usize);
            }
        }
        i += 8;
    }
    far(s.get(i..)?).map(|p| i + p)
}

/// Offset of the first CR, LF or NUL in `s`.
fn find_line_end(s: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(f) = memchr::arch::x86_64::sse2::memchr::Three::new(b'\n', b'\r', 0) {
        return f.find(s);
    }
    find_line_end_swar(s)
}

/// [`find_line_end`] without vector instructions.
fn find_line_end_swar(s: &[u8]) -> Option<usize> {
    swar_find(
        s,
        // Any byte below 0x0E: NUL, LF and CR are, and so are TAB and a few more, which
        // the exact test then rules out (Bit Twiddling Hacks' `haslessthan`).
        |x| x.wrapping_sub(ONES * 0x0E) & !x & HIGH != 0,
        |x| {
            zero_bytes(x ^ (ONES * u64::from(b'\r')))
                | zero_bytes(x ^ (ONES * u64::from(b'\n')))
                | zero_bytes(x)
        },
        |b| matches!(b, b'\r' | b'\n' | 0),
        |rest| memchr::memchr3(b'\n', b'\r', 0, rest),
    )
}

/// tchar of RFC 9110 §5.6.2: the bytes a header name may hold.
static TCHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        b += 1;
    }
    t
};

/// The header lines from `pos` to the blank line; returns how many slots were filled
/// and the offset just past the blank line.
fn header_lines<'b>(
    w: &'b [u8],
    mut pos: usize,
    slots: &mut [Header<'b>],
) -> Result<(usize, usize), Fail> {
    let mut n = 0;
    loop {
        match w.get(pos) {
            None => return Err(Fail::Partial),
            Some(b'\n') => return Ok((n, pos + 1)),
            Some(b'\r') => {
                return match w.get(pos + 1) {
                    None => Err(Fail::Partial),
                    Some(b'\n') => Ok((n, pos + 2)),
                    Some(_) => Err(Fail::Bad(HeadError::NewLine)),
                };
            }
            Some(b' ' | b'\t') => return Err(Fail::Bad(HeadError::ObsFold)),
            Some(_) => {}
        }
        let Some(slot) = slots.get_mut(n) else {
            return Err(Fail::Bad(HeadError::TooManyHeaders));
        };

        let name_start = pos;
        let rest = w.get(pos..).unwrap_or_default();
        match rest.iter().position(|&c| !TCHAR[usize::from(c)]) {
            None => return Err(Fail::Partial),
            Some(len) if len > 0 && rest[len] == b':' => pos += len,
            Some(_) => return Err(Fail::Bad(HeadError::HeaderName)),
        }
        let name = &w[name_start..pos];
        pos += 1;

        while let Some(b' ' | b'\t') = w.get(pos) {
            pos += 1;
        }
        let value_start = pos;
        let rest = w.get(pos..).unwrap_or_default();
        let Some(off) = find_line_end(rest) else {
            return Err(Fail::Partial);
        };
        let value_end = pos + off;
        pos = match (rest[off], rest.get(off + 1)) {
            (b'\n', _) => value_end + 1,
            (b'\r', Some(b'\n')) => value_end + 2,
            (b'\r', None) => return Err(Fail::Partial),
            _ => return Err(Fail::Bad(HeadError::HeaderValue)),
        };
        let mut value = &w[value_start..value_end];
        while let [v @ .., b' ' | b'\t'] = value {
            value = v;
        }
        *slot = Header { name, value };
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::super::MAX_HEADERS;
    use super::*;

    /// httparse-style table: name, bytes, expected result, then assertions on `res`.
    macro_rules! res {
        ($name:ident, $buf:expr, |$res:ident| $body:expr) => {
            #[test]
            fn $name() {
                let buf: &[u8] = $buf;
                let mut slots = [EMPTY_HEADER; MAX_HEADERS];
                let $res = parse_response(buf, &mut slots)
                    .expect("parses")
                    .complete()
                    .expect("complete");
                assert_eq!($res.head_len, buf.len(), "head is the whole input");
                $body
            }
        };
        ($name:ident, $buf:expr, Partial) => {
            #[test]
            fn $name() {
                let mut slots = [EMPTY_HEADER; MAX_HEADERS];
                assert_eq!(parse_response($buf, &mut slots), Ok(Status::Partial));
            }
        };
        ($name:ident, $buf:expr, Err($err:ident)) => {
            #[test]
            fn $name() {
                let mut slots = [EMPTY_HEADER; MAX_HEADERS];
                assert_eq!(parse_response($buf, &mut slots), Err(HeadError::$err));
            }
        };
    }

    res!(simple_200, b"HTTP/1.1 200 OK\r\n\r\n", |r| {
        assert_eq!((r.version, r.code, r.reason), (1, 200, &b"OK"[..]));
        assert!(r.headers.is_empty());
    });
    res!(
        http10_and_long_reason,
        b"HTTP/1.0 404 Not Found Here\r\n\r\n",
        |r| {
            assert_eq!((r.version, r.code), (0, 404));
            assert_eq!(r.reason, b"Not Found Here");
        }
    );
    res!(
        headers_trimmed,
        b"HTTP/1.1 200 OK\r\nContent-Length:  5 \t\r\nX-E:\r\nA: b c\r\n\r\n",
        |r| {
            assert_eq!(r.headers.len(), 3);
            assert_eq!(
                (r.headers[0].name, r.headers[0].value),
                (&b"Content-Length"[..], &b"5"[..])
            );
            assert_eq!(
                (r.headers[1].name, r.headers[1].value),
                (&b"X-E"[..], &b""[..])
            );
            assert_eq!(r.headers[2].value, b"b c");
            assert_eq!(r.headers[0].name_str(), "Content-Length");
            assert!(r.headers[0].is("content-length"));
        }
    );
    res!(bare_lf, b"HTTP/1.1 301 Moved\nLocation: /x\n\n", |r| {
        assert_eq!(r.code, 301);
        assert_eq!(r.headers[0].value, b"/x");
    });
    res!(no_reason, b"HTTP/1.1 200\r\n\r\n", |r| assert_eq!(
        r.reason,
        b""
    ));
    res!(empty_reason, b"HTTP/1.1 200 \r\n\r\n", |r| assert_eq!(
        r.reason,
        b""
    ));
    res!(
        obs_text_value,
        b"HTTP/1.1 200 \xc3\xa9\r\nX: \xff\x01\r\n\r\n",
        |r| {
            assert_eq!(r.reason, "é".as_bytes());
            assert_eq!(r.headers[0].value, b"\xff\x01");
        }
    );
    res!(
        token_chars_in_name,
        b"HTTP/1.1 200 OK\r\n!#$%&'*+-.^_`|~09az: v\r\n\r\n",
        |r| {
            assert_eq!(r.headers[0].name, b"!#$%&'*+-.^_`|~09az");
        }
    );

    res!(partial_empty, b"", Partial);
    res!(partial_version, b"HTTP/1.", Partial);
    res!(partial_code, b"HTTP/1.1 20", Partial);
    res!(partial_reason, b"HTTP/1.1 200 O", Partial);
    res!(partial_cr, b"HTTP/1.1 200 OK\r", Partial);
    res!(partial_name, b"HTTP/1.1 200 OK\r\nConte", Partial);
    res!(partial_value, b"HTTP/1.1 200 OK\r\nA: b", Partial);
    res!(partial_value_cr, b"HTTP/1.1 200 OK\r\nA: b\r", Partial);
    res!(partial_end_cr, b"HTTP/1.1 200 OK\r\nA: b\r\n\r", Partial);

    res!(err_version, b"HTTP/2 200 OK\r\n\r\n", Err(Version));
    res!(err_version_early, b"HTTX", Err(Version));
    res!(err_minor, b"HTTP/1.2 200 OK\r\n\r\n", Err(Version));
    res!(err_request, b"GET / HTTP/1.1\r\n\r\n", Err(Version));
    res!(err_code_letters, b"HTTP/1.1 2x0 OK\r\n\r\n", Err(Status));
    res!(err_code_long, b"HTTP/1.1 2000 OK\r\n\r\n", Err(Status));
    res!(err_reason_ctl, b"HTTP/1.1 200 O\x01K\r\n\r\n", Err(Reason));
    res!(err_status_cr, b"HTTP/1.1 200 OK\rX", Err(NewLine));
    res!(
        err_space_before_colon,
        b"HTTP/1.1 200 OK\r\nA : b\r\n\r\n",
        Err(HeaderName)
    );
    res!(
        err_empty_name,
        b"HTTP/1.1 200 OK\r\n: b\r\n\r\n",
        Err(HeaderName)
    );
    res!(
        err_name_byte,
        b"HTTP/1.1 200 OK\r\nA\"B: b\r\n\r\n",
        Err(HeaderName)
    );
    res!(
        err_value_nul,
        b"HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n",
        Err(HeaderValue)
    );
    res!(
        err_value_bare_cr,
        b"HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n",
        Err(HeaderValue)
    );
    res!(
        err_obs_fold,
        b"HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n",
        Err(ObsFold)
    );
    res!(err_end_cr, b"HTTP/1.1 200 OK\r\n\rX", Err(NewLine));

    #[test]
    fn line_end_search_agrees_with_a_plain_scan() {
        let mut buf = [b'a'; 200];
        buf[3] = b'\t';
        buf[150] = b'\x0b';
        let plain = |s: &[u8]| s.iter().position(|&b| matches!(b, b'\r' | b'\n' | 0));
        assert_eq!(find_line_end(&buf), None);
        assert_eq!(find_line_end_swar(&buf), None);
        for at in 0..buf.len() {
            for end in [b'\r', b'\n', 0] {
                let mut b = buf;
                b[at] = end;
                for len in [at, at + 1, buf.len()] {
                    let want = plain(&b[..len]);
                    assert_eq!(find_line_end(&b[..len]), want, "{at} {len}");
                    assert_eq!(find_line_end_swar(&b[..len]), want, "swar {at} {len}");
                }
            }
        }
    }

    #[test]
    fn slots_are_the_header_limit() {
        let buf = b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n";
        let mut two = [EMPTY_HEADER; 2];
        assert_eq!(
            parse_response(buf, &mut two)
                .unwrap()
                .complete()
                .unwrap()
                .headers
                .len(),
            2
        );
        let mut one = [EMPTY_HEADER; 1];
        assert_eq!(
            parse_response(buf, &mut one),
            Err(HeadError::TooManyHeaders)
        );
        let mut none: [Header<'_>; 0] = [];
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\n\r\n", &mut none).map(|s| s.is_partial()),
            Ok(false)
        );
    }

    #[test]
    fn body_bytes_are_left_alone() {
        let buf = b"HTTP/1.1 200 OK\r\nA: 1\r\n\r\nbody\r\n\r\n";
        let mut slots = [EMPTY_HEADER; 4];
        let r = parse_response(buf, &mut slots).unwrap().complete().unwrap();
        assert_eq!(&buf[r.head_len..], b"body\r\n\r\n");
    }

    #[test]
    fn every_prefix_is_partial() {
        let buf = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\nX: y \r\n\r\n";
        for cut in 0..buf.len() {
            let mut slots = [EMPTY_HEADER; 4];
            assert_eq!(
                parse_response(&buf[..cut], &mut slots),
                Ok(Status::Partial),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn limit_is_exact_and_not_scanned_past() {
        let head = b"HTTP/1.1 200 OK\r\nA: 1\r\n\r\n";
        let mut slots = [EMPTY_HEADER; 4];
        let n = head.len();
        assert!(
            parse_response_limited(head, &mut slots, n)
                .unwrap()
                .complete()
                .is_some()
        );
        assert_eq!(
            parse_response_limited(head, &mut slots, n - 1),
            Err(HeadError::TooLarge)
        );
        assert_eq!(
            parse_response_limited(&head[..n - 1], &mut slots, n),
            Ok(Status::Partial)
        );
        // An error beyond the limit is not seen: the head is too large first.
        let mut long = [b'a'; 100];
        long[..17].copy_from_slice(b"HTTP/1.1 200 OK\r\n");
        long[17] = b'A';
        long[18] = b':';
        long[99] = 0;
        assert_eq!(
            parse_response_limited(&long, &mut slots, 99),
            Err(HeadError::TooLarge)
        );
        assert_eq!(
            parse_response_limited(&long, &mut slots, 100),
            Err(HeadError::HeaderValue)
        );
    }
}
