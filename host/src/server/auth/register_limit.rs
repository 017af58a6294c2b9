//! `--register-limit` (§5): at most N new users per address per hour (default 20), so
//! one peer cannot fill the user table (FUZZING.md, bug 10) or keep the hashing
//! threads busy with REGISTERs.
//!
//! Each address (by [`peer_key`], so an IPv6 peer by its /64) keeps the times of its
//! registrations within the last hour: a sliding window, so "N per hour" holds for
//! every hour, not only for clock hours. A REGISTER is counted when it *starts* (before
//! its hash) and taken back if no user was made, so parallel REGISTERs from many
//! connections cannot slip past the limit while their hashes run.
//!
//! Memory is bounded: each address keeps at most N times, and only while they are
//! younger than an hour, and there are at most [`MAX_KEYS`] addresses (a full table
//! first forgets addresses with nothing left to remember, then refuses — failing
//! closed). The table is in memory only: a restart forgets it.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::server::peer_key::peer_key;

/// Default `--register-limit`: a lab machine registers a handful of users, a script
/// thousands.
pub const DEFAULT_PER_HOUR: u32 = 20;

/// The window the limit counts in.
pub const WINDOW: Duration = Duration::from_secs(60 * 60);

/// Most addresses remembered at once.
pub const MAX_KEYS: usize = 100_000;

/// The per-address table.
#[derive(Debug)]
pub struct RegisterLimit {
    per_hour: usize,
    keys: HashMap<IpAddr, VecDeque<Instant>>,
}

/// A REGISTER the table let through: either a user is made (then forget the slot: it
/// stays counted) or [`RegisterLimit::cancel`] it.
#[derive(Debug)]
pub struct Slot {
    key: IpAddr,
    at: Instant,
    /// This REGISTER used the address's last slot for now.
    pub last: bool,
}

impl RegisterLimit {
    /// At most `per_hour` new users per address within any hour.
    pub fn new(per_hour: u32) -> RegisterLimit {
        RegisterLimit {
            per_hour: per_hour as usize,
            keys: HashMap::new(),
        }
    }

    /// The limit, for the log.
    pub fn per_hour(&self) -> usize {
        self.per_hour
    }

    /// Start a REGISTER from `ip` at `now`: `None` when the address made its limit of
    /// users within the last hour (or the table is full), else its slot, already
    /// counted.
    pub fn begin(&mut self, ip: IpAddr, now: Instant) -> Option<Slot> {
        let key = peer_key(ip);
        if !self.keys.contains_key(&key) && self.keys.len() >= MAX_KEYS {
            self.keys.retain(|_, times| {
                forget_old(times, now);
                !times.is_empty()
            });
            if self.keys.len() >= MAX_KEYS {
                return None;
            }
        }
        let times = self.keys.entry(key).or_default();
        forget_old(times, now);
        if times.len() >= self.per_hour {
            if times.is_empty() {
                self.keys.remove(&key);
            }
            return None;
        }
        times.push_back(now);
        Some(Slot {
            key,
            at: now,
            last: times.len() == self.per_hour,
        })
    }

    /// No user was made: the slot is free again.
    pub fn cancel(&mut self, slot: Slot) {
        if let Some(times) = self.keys.get_mut(&slot.key) {
            if let Some(i) = times.iter().rposition(|&t| t == slot.at) {
                times.remove(i);
            }
            if times.is_empty() {
                self.keys.remove(&slot.key);
            }
        }
    }

    /// Addresses remembered (for tests of the bound).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

fn forget_old(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|&t| now.saturating_duration_since(t) >= WINDOW)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn n_per_address_per_sliding_hour() {
        let mut r = RegisterLimit::new(3);
        let t0 = Instant::now();
        let mins = |m: u64| t0 + Duration::from_secs(60 * m);
        let a = r.begin(ip("10.0.0.1"), mins(0)).unwrap();
        assert!(!a.last);
        r.begin(ip("10.0.0.1"), mins(10)).unwrap();
        let third = r.begin(ip("10.0.0.1"), mins(20)).unwrap();
        assert!(third.last, "the third of three is the last");
        assert!(r.begin(ip("10.0.0.1"), mins(30)).is_none());
        assert!(r.begin(ip("::ffff:10.0.0.1"), mins(30)).is_none(), "mapped");
        assert!(
            r.begin(ip("10.0.0.2"), mins(30)).is_some(),
            "others are not"
        );
        // Sliding: the first slot frees an hour after it was used, not at a clock hour.
        assert!(r.begin(ip("10.0.0.1"), mins(59)).is_none());
        assert!(r.begin(ip("10.0.0.1"), mins(60)).is_some());
        assert!(r.begin(ip("10.0.0.1"), mins(61)).is_none());
    }

    #[test]
    fn a_failed_register_gives_its_slot_back() {
        let mut r = RegisterLimit::new(1);
        let t0 = Instant::now();
        let s = r.begin(ip("2001:db8::1"), t0).unwrap();
        assert!(
            r.begin(ip("2001:db8::2"), t0).is_none(),
            "same /64, in flight"
        );
        r.cancel(s);
        assert!(r.is_empty());
        assert!(r.begin(ip("2001:db8::2"), t0).is_some());
    }

    #[test]
    fn the_table_is_bounded_and_fails_closed_when_full() {
        let mut r = RegisterLimit::new(5);
        let t0 = Instant::now();
        for i in 0..MAX_KEYS as u32 {
            r.begin(IpAddr::from(i.to_be_bytes()), t0).unwrap();
        }
        assert_eq!(r.len(), MAX_KEYS);
        let new = ip("255.1.1.1");
        assert!(r.begin(new, t0).is_none(), "full: refused");
        assert!(r.begin(ip("0.0.0.1"), t0).is_some(), "known: counted");
        assert_eq!(r.len(), MAX_KEYS);
        assert!(r.begin(new, t0 + WINDOW).is_some(), "old ones forgotten");
        assert_eq!(r.len(), 1);
    }
}
