//! Waking a connection's loop from other threads: a job on the worker
//! [`Pool`](crate::pool) finished, and the connection that asked for it must be driven
//! again.
//!
//! The session is opened by the accepting loop before it is known which loop and slot
//! will serve it, so a [`Wake`] starts unbound and the serving loop binds it when it
//! installs the connection, before driving it for the first time (nothing can be
//! waiting for a wake-up before that). Wake-ups travel through the loop's inbox in
//! [`Shared`](super::handoff::Shared), sharing its one `mio::Waker`. A slot that outlived
//! its connection (reused since) only gets one extra drive, which is harmless: driving a
//! connection is always safe.

use std::sync::{Arc, OnceLock};

use super::handoff::Shared;

#[derive(Clone)]
struct Target {
    shared: Arc<Shared>,
    loop_index: usize,
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
            Some(t) => write!(f, "Wake(loop {}, slot {})", t.loop_index, t.slot),
            None => f.write_str("Wake(unbound)"),
        }
    }
}

impl Wake {
    /// A handle not yet tied to a loop.
    pub fn unbound() -> Wake {
        Wake::default()
    }

    /// Tie this handle (and its clones) to `slot` of loop `loop_index`.
    pub fn bind(&self, shared: Arc<Shared>, loop_index: usize, slot: usize) {
        let _ = self.target.set(Target {
            shared,
            loop_index,
            slot,
        });
    }

    /// Ask the serving loop to drive this connection again. Safe from any thread; does
    /// nothing before [`bind`](Self::bind).
    pub fn wake(&self) {
        if let Some(t) = self.target.get() {
            t.shared.wake_conn(t.loop_index, t.slot);
        }
    }
}
