//! How a response body is delimited (RFC 9112 §6.3), from the parsed head.
//!
//! The rules, for a response to GET (HEAD is never sent by socklab):
//! 1. 1xx, 204 and 304 have no body, whatever their headers say.
//! 2. `Transfer-Encoding` wins over `Content-Length`: if `chunked` is its final coding
//!    the body is chunked, otherwise it runs to the end of the connection.
//! 3. A valid `Content-Length` gives the length. Several of them (or a list) must agree,
//!    since a disagreement is the classic response-splitting signal.
//! 4. Otherwise the body runs to the end of the connection.

use super::head::{Header, Response};

/// How to find the end of the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BodyKind {
    /// Exactly this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`: use [`ChunkedDecoder`](super::ChunkedDecoder).
    Chunked,
    /// Everything until the server closes the connection.
    ToClose,
    /// No body at all (1xx, 204, 304).
    None,
}

/// Why the body framing cannot be decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BodyError {
    /// A `Content-Length` that is not a decimal number fitting 64 bits.
    BadContentLength,
    /// `Content-Length` values that disagree.
    ConflictingContentLength,
}

impl core::fmt::Display for BodyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            BodyError::BadContentLength => "malformed Content-Length",
            BodyError::ConflictingContentLength => "conflicting Content-Length values",
        })
    }
}

impl core::error::Error for BodyError {}

/// Optional whitespace (RFC 9110 §5.6.3) trimmed from both ends.
fn trim_ows(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

/// `1*DIGIT` as a u64, refusing signs, spaces inside and overflow.
fn decimal(v: &[u8]) -> Option<u64> {
    if v.is_empty() {
        return None;
    }
    v.iter().try_fold(0u64, |n, &d| {
        if d.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        } else {
            None
        }
    })
}

impl<'b> Response<'_, 'b> {
    /// The value of the first header called `name` (ASCII case ignored).
    pub fn header(&self, name: &str) -> Option<&'b [u8]> {
        self.headers.iter().find(|h| h.is(name)).map(|h| h.value)
    }

    /// The values of every header called `name`, in order.
    pub fn headers_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'b [u8]> + 's {
        self.headers
            .iter()
            .filter(move |h: &&Header<'b>| h.is(name))
            .map(|h| h.value)
    }

    /// The reason phrase as text, if it is UTF-8.
    pub fn reason_str(&self) -> Option<&'b str> {
        core::str::from_utf8(self.reason).ok()
    }

    /// `Content-Length`, if present. Repeated headers and comma lists (`5, 5`) are
    /// accepted when every value is the same number (RFC 9110 §8.6).
    pub fn content_length(&self) -> Result<Option<u64>, BodyError> {
        let mut found = None;
        for value in self.headers_named("content-length") {
            for item in value.split(|&b| b == b',') {
                let n = decimal(trim_ows(item)).ok_or(BodyError::BadContentLength)?;
                match found {
                    Some(m) if m != n => return Err(BodyError::ConflictingContentLength),
                    _ => found = Some(n),
                }
            }
        }
        Ok(found)
    }

    /// Whether `chunked` is the final transfer coding. Several `Transfer-Encoding`
    /// headers form one list; parameters after `;` are ignored.
    pub fn is_chunked(&self) -> bool {
        let mut last: &[u8] = b"";
        for value in self.headers_named("transfer-encoding") {
            for item in value.split(|&b| b == b',') {
                let coding = item.split(|&b| b == b';').next().unwrap_or_default();
                let coding = trim_ows(coding);
                if !coding.is_empty() {
                    last = coding;
                }
            }
        }
        last.eq_ignore_ascii_case(b"chunked")
    }

    /// How the body of this response (to a GET) is delimited; see the module doc.
    pub fn body_kind(&self) -> Result<BodyKind, BodyError> {
        if matches!(self.code, 100..=199 | 204 | 304) {
            return Ok(BodyKind::None);
        }
        if self.headers.iter().any(|h| h.is("transfer-encoding")) {
            return Ok(if self.is_chunked() {
                BodyKind::Chunked
            } else {
                BodyKind::ToClose
            });
        }
        Ok(match self.content_length()? {
            Some(n) => BodyKind::Length(n),
            None => BodyKind::ToClose,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{EMPTY_HEADER, parse_response};
    use super::*;

    fn with_head<R>(head: &str, f: impl FnOnce(&Response<'_, '_>) -> R) -> R {
        let mut slots = [EMPTY_HEADER; 16];
        let r = parse_response(head.as_bytes(), &mut slots)
            .unwrap()
            .complete()
            .unwrap();
        f(&r)
    }

    fn kind(head: &str) -> Result<BodyKind, BodyError> {
        with_head(head, |r| r.body_kind())
    }

    #[test]
    fn framing_decisions() {
        use BodyKind::*;
        let cases: &[(&str, Result<BodyKind, BodyError>)] = &[
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n",
                Ok(Length(12)),
            ),
            (
                "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
                Ok(Length(0)),
            ),
            ("HTTP/1.1 200 OK\r\n\r\n", Ok(ToClose)),
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                Ok(Chunked),
            ),
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, CHUNKED\r\n\r\n",
                Ok(Chunked),
            ),
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
                Ok(Chunked),
            ),
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                Ok(ToClose),
            ),
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
                Ok(Chunked),
            ),
            (
                "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
                Ok(None),
            ),
            (
                "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
                Ok(None),
            ),
            ("HTTP/1.1 101 Switching\r\n\r\n", Ok(None)),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
                Ok(Length(5)),
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n",
                Ok(Length(5)),
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
                Err(BodyError::ConflictingContentLength),
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n",
                Err(BodyError::BadContentLength),
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 5 5\r\n\r\n",
                Err(BodyError::BadContentLength),
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
                Err(BodyError::BadContentLength),
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 5,\r\n\r\n",
                Err(BodyError::BadContentLength),
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n",
                Err(BodyError::BadContentLength),
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n",
                Ok(Length(u64::MAX)),
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n",
                Err(BodyError::BadContentLength),
            ),
        ];
        for (head, want) in cases {
            assert_eq!(kind(head), *want, "{head:?}");
        }
    }

    #[test]
    fn lookup_ignores_case_and_keeps_order() {
        with_head(
            "HTTP/1.1 200 OK\r\nSet-Cookie: a\r\nX: 1\r\nset-cookie: b\r\n\r\n",
            |r| {
                assert_eq!(r.header("SET-COOKIE"), Some(&b"a"[..]));
                assert_eq!(r.header("missing"), Option::None);
                let all: [&[u8]; 2] = [b"a", b"b"];
                assert!(r.headers_named("set-cookie").eq(all));
                assert_eq!(r.reason_str(), Some("OK"));
            },
        );
    }
}
