//! Deadlines of all connections in one ordered set, so the loop finds the next one in
//! O(log n) and never scans every connection to learn how long it may sleep.

use std::collections::BTreeSet;

use socklab_core::Instant;

/// A set of `(deadline, key)` pairs; each key has at most one deadline at a time.
#[derive(Debug, Default)]
pub struct Timers {
    set: BTreeSet<(Instant, usize)>,
}

impl Timers {
    /// Move `key`'s deadline from `old` to `new` (either may be `None`); returns `new`
    /// for the caller to remember as the key's current deadline.
    pub fn update(
        &mut self,
        key: usize,
        old: Option<Instant>,
        new: Option<Instant>,
    ) -> Option<Instant> {
        if old != new {
            if let Some(t) = old {
                self.set.remove(&(t, key));
            }
            if let Some(t) = new {
                self.set.insert((t, key));
            }
        }
        new
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<Instant> {
        self.set.first().map(|&(t, _)| t)
    }

    /// Remove and return a key whose deadline is at or before `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<usize> {
        match self.set.first() {
            Some(&(t, _)) if t <= now => self.set.pop_first().map(|(_, k)| k),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_in_order_and_moved() {
        let mut t = Timers::default();
        let a = t.update(1, None, Some(Instant::from_millis(50)));
        t.update(2, None, Some(Instant::from_millis(10)));
        t.update(1, a, Some(Instant::from_millis(5)));
        assert_eq!(t.next(), Some(Instant::from_millis(5)));
        assert_eq!(t.pop_due(Instant::from_millis(20)), Some(1));
        assert_eq!(t.pop_due(Instant::from_millis(20)), Some(2));
        assert_eq!(t.pop_due(Instant::from_millis(20)), None);
        assert_eq!(t.next(), None);
    }
}
