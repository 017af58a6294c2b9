//! §7 length-prefixed frames: a 4-byte big-endian length L, then L bytes of payload.
//!
//! The decoder follows the rustls "discard" contract: it borrows the caller's buffer,
//! and a complete [`Frame`] says how many bytes to drop before the next call. The length
//! limit is checked as soon as the 4 header bytes are in, before anyone buffers a byte
//! of payload, so a hostile `0xFFFF_FFFF` costs nothing.

use crate::Status;

/// Bytes in a frame header.
pub const HEADER_LEN: usize = 4;

/// Default `--max-frame` (§7).
pub const DEFAULT_MAX_FRAME: u32 = 65536;

/// Why a frame could not be encoded or decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FrameError {
    /// The header announces more than the limit.
    TooLarge {
        /// Announced payload length.
        len: u32,
        /// The limit in force.
        max: u32,
    },
    /// The caller's output buffer cannot hold the encoded frame.
    BufferTooSmall {
        /// Bytes the frame needs.
        needed: usize,
    },
}

impl core::fmt::Display for FrameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            FrameError::TooLarge { len, max } => {
                write!(f, "frame of {len} bytes is over the {max}-byte limit")
            }
            FrameError::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: the frame needs {needed} bytes")
            }
        }
    }
}

impl core::error::Error for FrameError {}

/// A complete frame borrowed from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The payload.
    pub payload: &'a [u8],
    /// Header plus payload: drop this many bytes before decoding the next frame.
    pub discard: usize,
}

/// The header for a payload of `len` bytes.
pub const fn header(len: u32) -> [u8; HEADER_LEN] {
    len.to_be_bytes()
}

/// Encode `payload` as one frame at the start of `out`; returns the bytes written.
pub fn encode(payload: &[u8], out: &mut [u8]) -> Result<usize, FrameError> {
    let needed = HEADER_LEN + payload.len();
    let len = u32::try_from(payload.len()).map_err(|_| FrameError::TooLarge {
        len: u32::MAX,
        max: u32::MAX,
    })?;
    let out = out
        .get_mut(..needed)
        .ok_or(FrameError::BufferTooSmall { needed })?;
    out[..HEADER_LEN].copy_from_slice(&header(len));
    out[HEADER_LEN..].copy_from_slice(payload);
    Ok(needed)
}

/// Read the length from a frame header, checking it against `max`.
///
/// A fixed 4-byte field needs no parser combinator: `first_chunk` is one bounds check,
/// and measured half the per-frame cost of nom's `be_u32` (BENCHMARKS.md).
pub fn decode_header(buf: &[u8], max: u32) -> Result<Status<u32>, FrameError> {
    match buf.first_chunk::<HEADER_LEN>() {
        Some(h) => match u32::from_be_bytes(*h) {
            len if len > max => Err(FrameError::TooLarge { len, max }),
            len => Ok(Status::Complete(len)),
        },
        None => Ok(Status::Partial),
    }
}

/// Decode the first frame in `buf`.
pub fn decode(buf: &[u8], max: u32) -> Result<Status<Frame<'_>>, FrameError> {
    let len = match decode_header(buf, max)? {
        Status::Complete(len) => len as usize,
        Status::Partial => return Ok(Status::Partial),
    };
    // Slice the rest first: `HEADER_LEN + len` could overflow a 32-bit usize.
    Ok(match buf[HEADER_LEN..].get(..len) {
        Some(payload) => Status::Complete(Frame {
            payload,
            discard: HEADER_LEN + len,
        }),
        None => Status::Partial,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_partial() {
        let mut out = [0u8; 16];
        let n = encode(b"hello", &mut out).unwrap();
        assert_eq!(&out[..n], b"\0\0\0\x05hello");
        for cut in 0..n {
            assert_eq!(decode(&out[..cut], 64), Ok(Status::Partial));
        }
        let f = decode(&out[..n], 64).unwrap().complete().unwrap();
        assert_eq!((f.payload, f.discard), (&b"hello"[..], 9));
    }

    #[test]
    fn limit_checked_on_header_alone() {
        assert_eq!(
            decode(&[0xff, 0xff, 0xff, 0xff], 65536),
            Err(FrameError::TooLarge {
                len: u32::MAX,
                max: 65536
            })
        );
        assert_eq!(
            decode(b"\0\0\0\0", 0).unwrap().complete().unwrap().payload,
            b""
        );
        assert_eq!(
            encode(b"abc", &mut [0u8; 6]),
            Err(FrameError::BufferTooSmall { needed: 7 })
        );
    }
}
