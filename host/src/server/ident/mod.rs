//! `serve ident` (§4): the core [`Ident`] session, the name table in a TSV file, and a
//! worker that stores names off the event loop.
//!
//! * [`db`] — the table: loaded at start, rewritten atomically on every new name;
//! * [`writer`] — what stores a new name on the writer thread, for [`Pooled`].
//! * [`flags`] — `serve ident`'s flags and the service they build.
//!
//! The loop looks the peer's IP up when the connection is accepted
//! ([`Service::open`]), so a known client is greeted without any disk work.

pub mod db;
pub mod flags;
pub mod writer;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use socklab_core::Instant;
use socklab_core::ident::Ident;
use socklab_core::service::{self, ServiceInfo};
use socklab_core::session::{Idle, Session};

use super::pooled::{OnPool, Pooled};
use super::service::Service;
use super::wake::Wake;
use crate::pool::Pool;
use db::IdentDb;
use writer::NameWriter;

/// `serve ident` (§4).
#[derive(Debug, Clone)]
pub struct IdentService {
    /// The name table.
    pub db: Arc<IdentDb>,
    /// Where name files are written: one worker, since every write rewrites the whole
    /// file and they must not interleave anyway.
    pub pool: Arc<Pool>,
    /// `--idle-timeout`.
    pub idle: socklab_core::Duration,
    /// `--store-delay` (hidden): each store sleeps this long on the writer first, so a
    /// test can show the loop serving others meanwhile.
    pub store_delay: std::time::Duration,
}

impl IdentService {
    /// The service on `db`, with its own writer thread.
    pub fn new(db: Arc<IdentDb>, idle: socklab_core::Duration) -> std::io::Result<Self> {
        Ok(IdentService {
            db,
            pool: Arc::new(Pool::new("socklab-ident", 1)?),
            idle,
            store_delay: std::time::Duration::ZERO,
        })
    }
}

impl IdentService {
    /// `core` for a peer at `ip`, its name stored by the writer thread.
    fn pooled(
        &self,
        now: Instant,
        core: Ident,
        ip: Option<IpAddr>,
        wake: Wake,
    ) -> Idle<Pooled<Ident, NameWriter>> {
        let writer = NameWriter::new(self.db.clone(), ip, self.store_delay);
        let s = Pooled::new(now, core, OnPool::new(writer, self.pool.clone(), wake));
        Idle::new(s, now, self.idle)
    }
}

impl Service for IdentService {
    fn info(&self) -> ServiceInfo {
        service::IDENT
    }

    fn chunk(&self) -> usize {
        // One name line; §0's limit is all a read needs.
        1024
    }

    fn open(&mut self, now: Instant, peer: SocketAddr, wake: Wake) -> Box<dyn Session + Send> {
        let ip = db::normalise(peer.ip());
        let core = match self.db.lookup(ip) {
            Some(name) => Ident::known(&name),
            None if self.db.has_room(ip) => Ident::unknown(),
            None => {
                let log = self.db.logger();
                log.event(
                    "ident",
                    peer,
                    format_args!("no room in the name table for a new address (--max-names)"),
                );
                Ident::full()
            }
        };
        Box::new(self.pooled(now, core, Some(ip), wake))
    }
}
