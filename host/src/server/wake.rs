//! Waking the event loop from other threads: a job on the worker [`Pool`](crate::pool)
//! finished, and the connection that asked for it must be driven again.
//!
//! One `mio::Waker` serves the whole loop; the keys of the connections to drive queue up
//! in a short list behind a mutex. A key that outlived its connection (the slot was
//! reused) only causes one extra drive, which does nothing harmful: driving a
//! connection is always safe.

use std::sync::{Arc, Mutex, PoisonError};

/// The loop's side: the waker and the keys woken since the last turn.
#[derive(Debug)]
pub struct Wakeups {
    waker: mio::Waker,
    ready: Mutex<Vec<usize>>,
}

impl Wakeups {
    /// Wrap the loop's waker.
    pub fn new(waker: mio::Waker) -> Arc<Wakeups> {
        Arc::new(Wakeups {
            waker,
            ready: Mutex::new(Vec::new()),
        })
    }

    /// A handle that wakes the loop for `key`.
    pub fn handle(self: &Arc<Self>, key: usize) -> Wake {
        Wake {
            shared: self.clone(),
            key,
        }
    }

    /// The keys woken since the last call.
    pub fn take(&self) -> Vec<usize> {
        std::mem::take(&mut *self.ready.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Given to a session that runs work elsewhere; cheap to clone into a job.
#[derive(Debug, Clone)]
pub struct Wake {
    shared: Arc<Wakeups>,
    key: usize,
}

impl Wake {
    /// Ask the loop to drive this connection again. Safe from any thread.
    pub fn wake(&self) {
        let first = {
            let mut ready = self
                .shared
                .ready
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            ready.push(self.key);
            ready.len() == 1
        };
        // One wake-up per batch: the loop takes the whole list at once.
        if first {
            let _ = self.shared.waker.wake();
        }
    }
}
