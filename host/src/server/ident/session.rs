//! The core [`Ident`] session with its store request run on the pool.
//!
//! Same shape as the files service's `PooledFiles`, much smaller: the core emits at
//! most one request in its life (the name to store). The job writes the file on the
//! worker, leaves `true`/`false` in a shared slot and wakes the loop; the next call on
//! the session hands the outcome to the core, which greets (or closes) only then.

use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use socklab_core::Instant;
use socklab_core::ident::Ident;
use socklab_core::session::{CloseReason, Session, Work};

use super::db::IdentDb;
use crate::client::conn::describe;
use crate::pool::Pool;
use crate::server::wake::Wake;

/// Where and how names are stored.
#[derive(Debug, Clone)]
pub struct Store {
    /// The table.
    pub db: Arc<IdentDb>,
    /// The writer thread.
    pub pool: Arc<Pool>,
    /// Extra time each store takes (`--store-delay`, for tests of a slow disk).
    pub delay: std::time::Duration,
}

/// An ident session whose name store runs on the pool.
#[derive(Debug)]
pub struct PooledIdent {
    core: Ident,
    /// The peer's address, normalised; `None` when the opener did not know it.
    ip: Option<IpAddr>,
    store: Store,
    wake: Wake,
    /// Filled by the job: was the name stored?
    done: Arc<Mutex<Option<bool>>>,
}

impl PooledIdent {
    /// Wrap `core` for a peer at `ip`.
    pub fn new(core: Ident, ip: Option<IpAddr>, store: Store, wake: Wake) -> Self {
        PooledIdent {
            core,
            ip,
            store,
            wake,
            done: Arc::default(),
        }
    }

    /// Hand a finished store to the core; start the store the core asks for.
    fn step(&mut self) {
        if let Some(stored) = self
            .done
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            self.core.handle_stored(stored);
        }
        let Some(name) = self.core.poll_store() else {
            return;
        };
        let Some(ip) = self.ip else {
            self.core.handle_stored(false);
            return;
        };
        let (name, db, done, wake) = (
            name.to_owned(),
            self.store.db.clone(),
            self.done.clone(),
            self.wake.clone(),
        );
        let delay = self.store.delay;
        self.store.pool.spawn(move || {
            std::thread::sleep(delay);
            let result = db.store(ip, &name);
            let log = db.logger();
            match &result {
                Ok(()) => log.event(
                    "ident",
                    ip,
                    format_args!("name stored in {}", db.path().display()),
                ),
                Err(e) => log.error(
                    "ident",
                    ip,
                    format_args!(
                        "cannot store the name in {}: {}",
                        db.path().display(),
                        describe(e)
                    ),
                ),
            }
            *done.lock().unwrap_or_else(PoisonError::into_inner) = Some(result.is_ok());
            wake.wake();
        });
    }
}

impl Session for PooledIdent {
    fn handle_input(&mut self, now: Instant, input: &[u8]) -> usize {
        let n = self.core.handle_input(now, input);
        self.step();
        n
    }

    fn handle_eof(&mut self, now: Instant) {
        self.core.handle_eof(now);
        self.step();
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.step();
        self.core.handle_timeout(now);
    }

    fn poll_output(&mut self, buf: &mut [u8]) -> usize {
        self.step();
        self.core.poll_output(buf)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.core.poll_timeout()
    }

    fn close_reason(&self) -> Option<CloseReason> {
        self.core.close_reason()
    }

    fn wants_output(&self) -> bool {
        self.core.wants_output()
    }

    fn in_flight(&self) -> Option<Work<'_>> {
        self.core.in_flight()
    }
}
