//! The bounded output queue every session keeps for bytes it owes the peer.
//!
//! A fixed array, not a ring: sessions push small lines or stream chunks and the
//! frontend drains from the front, so a rare `copy_within` to the front is cheaper and
//! simpler than wrap-around bookkeeping in every reader.

/// A FIFO of at most `N` bytes.
#[derive(Debug)]
pub struct OutBuf<const N: usize> {
    buf: [u8; N],
    start: usize,
    end: usize,
}

impl<const N: usize> Default for OutBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> OutBuf<N> {
    /// An empty queue.
    pub const fn new() -> Self {
        OutBuf {
            buf: [0; N],
            start: 0,
            end: 0,
        }
    }

    /// Bytes waiting to be sent.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// True when nothing is owed.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Room left.
    pub fn free(&self) -> usize {
        N - self.len()
    }

    /// Append all of `bytes`, or nothing if they do not fit.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), Full> {
        if bytes.len() > self.free() {
            return Err(Full);
        }
        self.tail(bytes.len()).copy_from_slice(bytes);
        Ok(())
    }

    /// Append as much of `bytes` as fits; returns how many were taken.
    pub fn push_partial(&mut self, bytes: &[u8]) -> usize {
        let n = bytes.len().min(self.free());
        self.tail(n).copy_from_slice(&bytes[..n]);
        n
    }

    /// Reserve `n` bytes at the end (n <= free()) and return them for the caller to fill.
    pub fn tail(&mut self, n: usize) -> &mut [u8] {
        debug_assert!(n <= self.free());
        if self.end + n > N {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let at = self.end;
        self.end += n;
        &mut self.buf[at..at + n]
    }

    /// Move up to `out.len()` bytes from the front into `out`.
    pub fn pop_into(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.len());
        out[..n].copy_from_slice(&self.buf[self.start..self.start + n]);
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        n
    }
}

/// The queue had no room for an all-or-nothing push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

impl<const N: usize> core::fmt::Write for OutBuf<N> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.push(s.as_bytes()).map_err(|_| core::fmt::Error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_with_compaction() {
        let mut q = OutBuf::<8>::new();
        q.push(b"abcdef").unwrap();
        let mut out = [0u8; 4];
        assert_eq!(q.pop_into(&mut out), 4);
        assert_eq!(&out, b"abcd");
        assert_eq!(q.push(b"1234567"), Err(Full));
        q.push(b"123456").unwrap();
        let mut out = [0u8; 16];
        assert_eq!(q.pop_into(&mut out), 8);
        assert_eq!(&out[..8], b"ef123456");
        assert!(q.is_empty());
    }
}
