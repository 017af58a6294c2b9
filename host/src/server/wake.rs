//! Waking a connection's loop from other threads: a job on the worker
//! [`Pool`](crate::pool) finished, and the connection that asked for it must be driven
//! again.
//!
//! The session is opened by the accepting loop before it is known which loop and slot
//! will serve it, so a [`Wake`] starts unbound and the serving loop binds it when it
//! installs the connection, before driving it for the first time (nothing can be
//! waiting for a wake-up before that). Wake-ups go to the serving loop's [`Woken`]
//! list, which shares that loop's one `mio::Waker` with its inbox of handed-off
//! connections. A slot that outlived its connection (reused since) only gets one extra
//! drive, which is harmless: driving a connection is always safe.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use mio::Waker;

/// One loop's connections whose work on another thread finished since the loop last
/// looked, by slot.
pub struct Woken {
    slots: Mutex<Vec<usize>>,
    waker: Arc<Waker>,
    loop_index: usize,
}

impl Woken {
    /// An empty list for loop `loop_index`, woken through `waker`.
    pub fn new(loop_index: usize, waker: Arc<Waker>) -> Woken {
        Woken {
            slots: Mutex::new(Vec::new()),
            waker,
            loop_index,
        }
    }

    /// Ask the loop to drive connection `slot` again.
    pub fn push(&self, slot: usize) {
        let first = {
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            slots.push(slot);
            slots.len() == 1
        };
        // One wake-up per batch: the loop takes the whole list at once. A failed wake
        // means the loop's poll is gone (it exited), and then nobody is left to drive.
        if first {
            let _ = self.waker.wake();
        }
    }

    /// The slots woken since the last call.
    pub fn take(&self) -> Vec<usize> {
        std::mem::take(&mut *self.slots.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

#[derive(Clone)]
struct Target {
    woken: Arc<Woken>,
    slot: usize,
}

/// Given to a session that runs work elsewhere; cheap to clone into a job.
#[derive(Clone, Default)]
pub struct Wake {
    target: Arc<OnceLock<Target>>,
}

impl std::fmt::Debug for Wake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.target.get() {
            Some(t) => write!(f, "Wake(loop {}, slot {})", t.woken.loop_index, t.slot),
            None => f.write_str("Wake(unbound)"),
        }
    }
}

impl Wake {
    /// A handle not yet tied to a loop.
    pub fn unbound() -> Wake {
        Wake::default()
    }

    /// Tie this handle (and its clones) to `slot` of the loop that owns `woken`.
    pub fn bind(&self, woken: Arc<Woken>, slot: usize) {
        let _ = self.target.set(Target { woken, slot });
    }

    /// Ask the serving loop to drive this connection again. Safe from any thread; does
    /// nothing before [`bind`](Self::bind).
    pub fn wake(&self) {
        if let Some(t) = self.target.get() {
            t.woken.push(t.slot);
        }
    }
}
