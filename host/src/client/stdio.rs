//! Small I/O helpers shared by the clients.

use crate::os_error::describe;
use std::io::{self, BufRead, Read};

/// An I/O error with what we were doing when it happened, e.g.
/// `cannot send: connection reset by peer`.
pub fn context(what: &str, e: &io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {}", describe(e)))
}

/// Read one line of at most `max` bytes (plus its LF) into `line`, without its LF.
/// Returns false at end of input. The read is bounded, so a huge line without LF is
/// refused after `max + 1` bytes instead of being buffered whole.
pub fn read_line(input: &mut impl BufRead, line: &mut Vec<u8>, max: u32) -> io::Result<bool> {
    line.clear();
    let limit = u64::from(max) + 1;
    let n = input
        .take(limit)
        .read_until(b'\n', line)
        .map_err(|e| context("cannot read standard input", &e))?;
    if n == 0 {
        return Ok(false);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
    } else if line.len() as u64 == limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("a line of standard input is over the {max}-byte limit"),
        ));
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_bounded_and_lose_only_their_lf() {
        let mut input = io::Cursor::new(b"ab\r\n\nlast".to_vec());
        let mut line = Vec::new();
        let mut got = Vec::new();
        while read_line(&mut input, &mut line, 8).unwrap() {
            got.push(line.clone());
        }
        assert_eq!(got, [b"ab\r".to_vec(), vec![], b"last".to_vec()]);

        let mut input = io::Cursor::new(b"12345678\n123456789\n".to_vec());
        assert!(read_line(&mut input, &mut line, 8).unwrap());
        assert_eq!(line, b"12345678");
        let err = read_line(&mut input, &mut line, 8).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
