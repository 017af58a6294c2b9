//! A tiny simulated network for driving sessions in memory, as quinn-proto's `Pair` does:
//! no sockets, no clock, deterministic.

#![allow(dead_code)]

use socklab_core::{Event, Instant, Session};

/// Feed `input` to `s` at `now` the way a frontend would (offering unconsumed bytes
/// again after draining output) and return everything it sends back.
pub fn exchange<S: Session>(s: &mut S, now: Instant, input: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = input;
    loop {
        let n = s.handle_input(now, rest);
        rest = &rest[n..];
        let drained = drain(s, &mut out);
        if rest.is_empty() || (n == 0 && drained == 0) {
            break;
        }
    }
    assert!(
        rest.is_empty(),
        "session stalled with {} bytes left",
        rest.len()
    );
    out
}

/// Drain all pending output, in small pieces to exercise partial reads.
pub fn drain<S: Session>(s: &mut S, out: &mut Vec<u8>) -> usize {
    let mut buf = [0u8; 7];
    let mut total = 0;
    loop {
        let n = s.poll_output(&mut buf);
        if n == 0 {
            break;
        }
        total += n;
        out.extend_from_slice(&buf[..n]);
    }
    assert!(!s.wants_output());
    total
}

/// Drain output and collect events.
pub fn events<S: Session>(s: &mut S) -> Vec<Event> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

/// Two sessions wired back to back, stepped until neither has anything to say.
pub struct Pair<C, S> {
    pub client: C,
    pub server: S,
    pub now: Instant,
    /// Everything the server sent, in order.
    pub server_sent: Vec<u8>,
    /// Everything the client sent, in order.
    pub client_sent: Vec<u8>,
    to_client: Vec<u8>,
    to_server: Vec<u8>,
}

impl<C: Session, S: Session> Pair<C, S> {
    pub fn new(client: C, server: S) -> Self {
        Pair {
            client,
            server,
            now: Instant::ZERO,
            server_sent: Vec::new(),
            client_sent: Vec::new(),
            to_client: Vec::new(),
            to_server: Vec::new(),
        }
    }

    /// Move bytes both ways once; returns false if nothing moved.
    pub fn step(&mut self) -> bool {
        let before = (self.server_sent.len(), self.client_sent.len());
        let mut fresh = Vec::new();
        drain(&mut self.server, &mut fresh);
        self.server_sent.extend_from_slice(&fresh);
        self.to_client.extend_from_slice(&fresh);
        fresh.clear();
        drain(&mut self.client, &mut fresh);
        self.client_sent.extend_from_slice(&fresh);
        self.to_server.extend_from_slice(&fresh);

        let n = self.client.handle_input(self.now, &self.to_client);
        self.to_client.drain(..n);
        let m = self.server.handle_input(self.now, &self.to_server);
        self.to_server.drain(..m);
        n + m > 0 || before != (self.server_sent.len(), self.client_sent.len())
    }

    /// Run until quiet, advancing simulated time to the next timer when nothing moves,
    /// until the server closed or no timer is left; panics after `limit` steps.
    pub fn run(&mut self, limit: usize) {
        for _ in 0..limit {
            if self.step() {
                continue;
            }
            if self.server.close_reason().is_some() && !self.server.wants_output() {
                self.client.handle_eof(self.now);
                self.step();
                return;
            }
            match socklab_core::time::earliest(
                self.server.poll_timeout(),
                self.client.poll_timeout(),
            ) {
                Some(t) => {
                    self.now = self.now.max(t);
                    self.server.handle_timeout(self.now);
                    self.client.handle_timeout(self.now);
                }
                None => return,
            }
        }
        panic!("pair did not settle in {limit} steps");
    }
}
