//! [`NameWriter`]: what runs an ident session's one request, storing a new name, on the
//! writer thread, for [`Pooled`](crate::server::pooled::Pooled). The session greets (or
//! closes) only once the writer says whether the name is on disk.

use std::net::IpAddr;
use std::sync::Arc;

use socklab_core::ident::Ident;

use super::db::IdentDb;
use crate::os_error::describe;
use crate::server::pooled::Worker;

/// One connection's way to the name table.
#[derive(Debug)]
pub struct NameWriter {
    /// The table.
    db: Arc<IdentDb>,
    /// The peer's address, normalised; `None` when the opener did not know it (then
    /// nothing can be stored).
    ip: Option<IpAddr>,
    /// Extra time each store takes (`--store-delay`, for tests of a slow disk).
    delay: std::time::Duration,
}

impl NameWriter {
    /// Store names for a peer at `ip` in `db`, each store taking `delay` longer.
    pub fn new(db: Arc<IdentDb>, ip: Option<IpAddr>, delay: std::time::Duration) -> Self {
        NameWriter { db, ip, delay }
    }
}

impl Worker<Ident> for NameWriter {
    /// The name to store.
    type Job = String;
    /// Whether it was stored.
    type Outcome = bool;

    fn job(&mut self, name: &str) -> String {
        name.to_owned()
    }

    /// Without an address there is nothing to store, so no reason to queue.
    fn is_cheap(&self, _: &String) -> bool {
        self.ip.is_none()
    }

    fn run(&mut self, name: String) -> bool {
        let Some(ip) = self.ip else {
            return false;
        };
        std::thread::sleep(self.delay);
        let db = &self.db;
        let result = db.store(ip, &name);
        let log = db.logger();
        let path = db.path().display();
        match &result {
            Ok(()) => log.event("ident", ip, format_args!("name stored in {path}")),
            Err(e) => log.error(
                "ident",
                ip,
                format_args!("cannot store the name in {path}: {}", describe(e)),
            ),
        }
        result.is_ok()
    }

    fn reply(&self, stored: bool) -> bool {
        stored
    }
}
