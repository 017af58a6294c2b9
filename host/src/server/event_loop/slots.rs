//! The loop's connections, by slot: a slot's number is its connection's mio token
//! (less `CONN_BASE`), and freed slots are reused so tokens stay small.

use crate::server::conn::Conn;

/// Connection slots; a freed slot is reused so tokens stay small.
#[derive(Default)]
pub(super) struct Slots {
    slots: Vec<Option<Conn>>,
    free: Vec<usize>,
}

impl Slots {
    /// A free slot, taken until [`fill`](Self::fill)ed or [`cancel`](Self::cancel)led.
    pub(super) fn vacant(&mut self) -> usize {
        self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.slots.len() - 1
        })
    }

    /// Put `conn` in the slot [`vacant`](Self::vacant) gave.
    pub(super) fn fill(&mut self, slot: usize, conn: Conn) {
        self.slots[slot] = Some(conn);
    }

    /// Give back a slot [`vacant`](Self::vacant) gave that stays empty.
    pub(super) fn cancel(&mut self, slot: usize) {
        self.free.push(slot);
    }

    pub(super) fn get_mut(&mut self, slot: usize) -> Option<&mut Conn> {
        self.slots.get_mut(slot).and_then(Option::as_mut)
    }

    pub(super) fn remove(&mut self, slot: usize) -> Option<Conn> {
        let c = self.slots.get_mut(slot)?.take();
        if c.is_some() {
            self.free.push(slot);
        }
        c
    }

    pub(super) fn occupied(&self) -> impl Iterator<Item = usize> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.as_ref().map(|_| i))
    }

    pub(super) fn is_empty(&self) -> bool {
        self.free.len() == self.slots.len()
    }
}
