//! Framed mode (§7): each frame is echoed as one frame, streamed. A 4-byte frame is
//! collected whole first, since its payload might be the command `quit` or `stop`.

use super::{Echo, Mode};
use crate::frame::{self, HEADER_LEN};
use crate::session::{CloseDetail, CloseReason};

impl<const N: usize> Echo<N> {
    pub(super) fn framed_input(&mut self, input: &[u8]) -> usize {
        let upper = self.config.upper;
        let max = self.config.max_frame;
        let mut used = 0;
        while used < input.len() && self.close.is_none() {
            let rest = &input[used..];
            match &mut self.mode {
                Mode::Header { bytes, have } => {
                    let h = *have as usize;
                    // Collect the header, and a 4-byte payload that might be a command.
                    let want = if h < HEADER_LEN {
                        HEADER_LEN
                    } else {
                        HEADER_LEN + 4
                    };
                    let n = (want - h).min(rest.len());
                    bytes[h..h + n].copy_from_slice(&rest[..n]);
                    *have += n as u8;
                    used += n;
                    let h = *have as usize;
                    if h < want {
                        continue;
                    }
                    let len = match frame::decode_header(&bytes[..HEADER_LEN], max) {
                        Ok(s) => s.complete().unwrap_or(0),
                        Err(e) => {
                            if let frame::FrameError::TooLarge { len, max } = e {
                                self.detail = Some(CloseDetail::FrameTooLarge { len, limit: max });
                            }
                            self.close = Some(CloseReason::ProtocolError);
                            break;
                        }
                    };
                    if len == 4 && h < HEADER_LEN + 4 {
                        continue; // collect the payload too
                    }
                    if self.out.free() < h {
                        // Undo this step's bytes so they are offered again.
                        *have -= n as u8;
                        used -= n;
                        break;
                    }
                    let frame_bytes = *bytes;
                    if len == 4 && self.command(&frame_bytes[HEADER_LEN..]) {
                        return input.len();
                    }
                    Self::emit(&mut self.out, false, &frame_bytes[..HEADER_LEN]);
                    Self::emit(&mut self.out, upper, &frame_bytes[HEADER_LEN..h]);
                    self.mode = if len as usize > h - HEADER_LEN {
                        Mode::Payload {
                            remaining: len - (h - HEADER_LEN) as u32,
                        }
                    } else {
                        Mode::Header {
                            bytes: [0; HEADER_LEN + 4],
                            have: 0,
                        }
                    };
                }
                Mode::Payload { remaining } => {
                    let n = rest.len().min(*remaining as usize).min(self.out.free());
                    if n == 0 {
                        break;
                    }
                    *remaining -= n as u32;
                    if *remaining == 0 {
                        self.mode = Mode::Header {
                            bytes: [0; HEADER_LEN + 4],
                            have: 0,
                        };
                    }
                    Self::emit(&mut self.out, upper, &rest[..n]);
                    used += n;
                }
                Mode::Raw { .. } => unreachable!(),
            }
        }
        if self.close.is_some() {
            return input.len();
        }
        used
    }
}
