//! §5 throttling: after 5 wrong passwords (failed LOGINs and failed PASSWD old-password
//! checks alike) for one user or from one address within 60 s, LOGIN and PASSWD answer
//! `throttled` for 60 s, even with the right password. PASSWD counts because whoever
//! holds a stolen token could otherwise guess the password through it unthrottled.
//!
//! Each key (a user name, or a peer address — an IPv6 peer by its /64, since one host
//! usually holds a whole /64) keeps the times of its last 5 attempts. An attempt is
//! counted when it *starts* and taken back if the password was right, so a burst of
//! parallel LOGINs cannot slip more than 5 guesses past the check while their hashes
//! run. The fifth failure within the window blocks the key for the lockout period;
//! attempts during a lockout are refused without verifying and are not counted.
//!
//! Memory is bounded: at most [`MAX_KEYS`] keys. When the table is full, keys with
//! nothing left to remember are dropped; if it is still full the new key is refused
//! (`throttled`) — failing closed, so flooding the table cannot unblock anyone.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Failures that trigger a lockout.
pub const LIMIT: usize = 5;

/// The window failures are counted in, and the lockout's length.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Most keys remembered at once (a user key's name is at most 32 bytes, so each
/// costs a couple of hundred bytes: ~20 MiB at worst).
pub const MAX_KEYS: usize = 100_000;

/// What is being throttled.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// A user name as sent in LOGIN, or PASSWD's logged-in user (all names that break
    /// §5's rules share `""`).
    User(String),
    /// A peer address (IPv6 truncated to its /64).
    Ip(IpAddr),
}

impl Key {
    /// The address key for `ip`.
    pub fn ip(ip: IpAddr) -> Key {
        Key::Ip(crate::server::peer_key::peer_key(ip))
    }
}

#[derive(Debug, Default)]
struct Entry {
    /// Start times of recent counted attempts, oldest first, at most LIMIT.
    attempts: Vec<Instant>,
    blocked_until: Option<Instant>,
}

impl Entry {
    fn blocked(&self, now: Instant) -> bool {
        self.blocked_until.is_some_and(|t| now < t)
    }

    fn forget_old(&mut self, now: Instant) {
        self.attempts.retain(|&t| now.duration_since(t) < WINDOW);
        if !self.blocked(now) {
            self.blocked_until = None;
        }
    }

    fn is_empty(&self) -> bool {
        self.attempts.is_empty() && self.blocked_until.is_none()
    }
}

/// The throttle table.
#[derive(Debug, Default)]
pub struct Throttle {
    keys: HashMap<Key, Entry>,
}

/// A password check (LOGIN, PASSWD) the table let through; report its outcome with
/// [`Throttle::succeeded`] or [`Throttle::failed`].
#[derive(Debug)]
pub struct Attempt {
    keys: [Key; 2],
    at: Instant,
}

impl Throttle {
    /// Start a password check for these keys at `now`: `None` if any of them is locked out (or
    /// the table is full), else the attempt, already counted.
    pub fn begin(&mut self, keys: [Key; 2], now: Instant) -> Option<Attempt> {
        for k in &keys {
            if let Some(e) = self.keys.get_mut(k) {
                e.forget_old(now);
                if e.blocked(now) || e.attempts.len() >= LIMIT {
                    return None;
                }
            }
        }
        let new = keys.iter().filter(|k| !self.keys.contains_key(*k)).count();
        if self.keys.len() + new > MAX_KEYS {
            self.keys.retain(|_, e| {
                e.forget_old(now);
                !e.is_empty()
            });
            if self.keys.len() + new > MAX_KEYS {
                return None;
            }
        }
        for k in &keys {
            self.keys.entry(k.clone()).or_default().attempts.push(now);
        }
        Some(Attempt { keys, at: now })
    }

    /// The password was right: the attempt does not count.
    pub fn succeeded(&mut self, attempt: Attempt) {
        for k in &attempt.keys {
            if let Some(e) = self.keys.get_mut(k) {
                if let Some(i) = e.attempts.iter().position(|&t| t == attempt.at) {
                    e.attempts.remove(i);
                }
                if e.is_empty() {
                    self.keys.remove(k);
                }
            }
        }
    }

    /// The attempt failed; a key with [`LIMIT`] failures within [`WINDOW`] is locked
    /// out for [`WINDOW`] from `now`. Returns the keys this failure locked out (for the
    /// log), usually none.
    pub fn failed(&mut self, attempt: Attempt, now: Instant) -> Vec<Key> {
        let mut locked = Vec::new();
        for k in attempt.keys {
            if let Some(e) = self.keys.get_mut(&k) {
                e.forget_old(now);
                if e.attempts.len() >= LIMIT {
                    e.attempts.clear();
                    e.blocked_until = Some(now + WINDOW);
                    locked.push(k);
                }
            }
        }
        locked
    }

    /// Keys remembered (for tests of the bound).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(user: &str, ip: [u8; 4]) -> [Key; 2] {
        [Key::User(user.into()), Key::ip(IpAddr::from(ip))]
    }

    #[test]
    fn five_failures_lock_out_for_a_minute() {
        let mut t = Throttle::default();
        let t0 = Instant::now();
        for i in 0..5 {
            let a = t.begin(keys("bob", [1, 1, 1, 1]), t0).expect("allowed");
            let locked = t.failed(a, t0 + Duration::from_millis(i));
            if i < 4 {
                assert!(locked.is_empty(), "{locked:?}");
            } else {
                assert_eq!(locked, keys("bob", [1, 1, 1, 1]).to_vec());
            }
        }
        assert!(
            t.begin(keys("bob", [2, 2, 2, 2]), t0).is_none(),
            "user locked"
        );
        assert!(
            t.begin(keys("amy", [1, 1, 1, 1]), t0).is_none(),
            "ip locked"
        );
        assert!(t.begin(keys("amy", [2, 2, 2, 2]), t0).is_some());
        let later = t0 + WINDOW + Duration::from_millis(10);
        assert!(t.begin(keys("bob", [3, 3, 3, 3]), later).is_some());
    }

    #[test]
    fn successes_do_not_count_and_in_flight_attempts_do() {
        let mut t = Throttle::default();
        let t0 = Instant::now();
        for _ in 0..10 {
            let a = t.begin(keys("bob", [1, 1, 1, 1]), t0).unwrap();
            t.succeeded(a);
        }
        assert!(t.is_empty());
        let pending: Vec<_> = (0..5)
            .map(|_| t.begin(keys("bob", [1, 1, 1, 1]), t0).unwrap())
            .collect();
        assert!(t.begin(keys("bob", [1, 1, 1, 1]), t0).is_none());
        drop(pending);
    }

    #[test]
    fn the_table_is_bounded_and_fails_closed_when_full() {
        let mut t = Throttle::default();
        let t0 = Instant::now();
        for i in 0..MAX_KEYS / 2 {
            let ip = IpAddr::from((i as u32).to_be_bytes());
            let a = t
                .begin([Key::User(format!("u{i}")), Key::ip(ip)], t0)
                .unwrap();
            t.failed(a, t0);
        }
        assert_eq!(t.len(), MAX_KEYS);
        assert!(
            t.begin(keys("new", [255, 1, 1, 1]), t0).is_none(),
            "full: refused"
        );
        assert_eq!(t.len(), MAX_KEYS);
        let later = t0 + WINDOW;
        assert!(
            t.begin(keys("new", [255, 1, 1, 1]), later).is_some(),
            "old ones pruned"
        );
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn ipv6_peers_share_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        assert_eq!(Key::ip(a), Key::ip(b));
        let m: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(Key::ip(m), Key::ip(IpAddr::from([10, 0, 0, 1])));
    }
}
