//! Raw mode's hold-back: a line that could still be exactly `quit` or `stop` waits
//! for its LF (at most `stop\r`, [`HOLD`] bytes); every other byte streams through.

use super::{Echo, HOLD, Mode};

impl<const N: usize> Echo<N> {
    fn is_command_prefix(&self, line: &[u8]) -> bool {
        let word = line.strip_suffix(b"\r").unwrap_or(line);
        let ends_ok = line.len() == word.len() || word.len() == 4;
        ends_ok
            && (b"quit".starts_with(word) || (self.config.allow_stop && b"stop".starts_with(word)))
    }

    pub(super) fn raw_input(&mut self, input: &[u8]) -> usize {
        let upper = self.config.upper;
        let mut used = 0;
        while used < input.len() && self.close.is_none() {
            let (held, held_len, sent, candidate) = raw(&mut self.mode);
            let rest = &input[used..];
            if !*candidate {
                // Bulk path: copy through the next LF (or as much as fits).
                let upto = memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
                let n = upto.min(self.out.free());
                if n == 0 {
                    break;
                }
                Self::emit(&mut self.out, upper, &rest[..n]);
                if n == upto && rest[n - 1] == b'\n' {
                    *candidate = true;
                }
                used += n;
                continue;
            }
            // Line start or a held command prefix: decide byte by byte.
            let b = rest[0];
            let hl = *held_len as usize;
            let hs = *sent as usize;
            if self.out.free() < hl - hs + 1 {
                break;
            }
            used += 1;
            if b == b'\n' {
                let word = &held[..hl];
                let word = word.strip_suffix(b"\r").unwrap_or(word);
                let mut w = [0u8; HOLD];
                w[..word.len()].copy_from_slice(word);
                let wlen = word.len();
                if self.command(&w[..wlen]) {
                    // Everything after the command is not echoed (a prefix already sent
                    // after a pause stays sent).
                    return input.len();
                }
                let (held, held_len, sent, _) = raw(&mut self.mode);
                Self::emit(&mut self.out, upper, &held[hs..hl]);
                Self::emit(&mut self.out, upper, b"\n");
                *held_len = 0;
                *sent = 0;
                continue;
            }
            let mut line = [0u8; HOLD + 1];
            line[..hl].copy_from_slice(&held[..hl]);
            line[hl] = b;
            if hl < HOLD && self.is_command_prefix(&line[..=hl]) {
                let (held, held_len, _, _) = raw(&mut self.mode);
                held[hl] = b;
                *held_len += 1;
            } else {
                Self::emit(&mut self.out, upper, &line[hs..=hl]);
                let (_, held_len, sent, candidate) = raw(&mut self.mode);
                *held_len = 0;
                *sent = 0;
                *candidate = false;
            }
        }
        if self.close.is_some() {
            return input.len();
        }
        used
    }
}

/// Raw mode's state as `(held, held_len, sent, candidate)`; called in raw mode only.
fn raw(mode: &mut Mode) -> (&mut [u8; HOLD], &mut u8, &mut u8, &mut bool) {
    let Mode::Raw {
        held,
        held_len,
        sent,
        candidate,
    } = mode
    else {
        unreachable!()
    };
    (held, held_len, sent, candidate)
}
