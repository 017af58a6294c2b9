//! `serve auth` (§5): users with Argon2id password hashes and session tokens.
//!
//! * [`secret`] — Argon2id, random tokens, token hashes, constant-time comparison;
//! * [`store`] — the user and session files (atomic rewrites, restart-safe);
//! * [`throttle`] — wrong-password counting (LOGIN, PASSWD) per user and per address,
//!   bounded;
//! * [`register_limit`] — new users per address per hour (`--register-limit`), bounded;
//! * [`backend`] — what runs the session's requests: the shared tables and Argon2, and
//!   each connection's view of them, the [`Worker`](super::pooled::Worker) that puts
//!   slow work on the pool.
//! * [`flags`] — `serve auth`'s flags and the service they build.
//!
//! The service refuses payload dumps (`-vv`), so the shared log never sees a password
//! or a token; nothing in this module logs a secret either.

pub mod backend;
pub mod flags;
pub mod register_limit;
pub mod secret;
pub mod store;
pub mod throttle;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use socklab_core::Instant;
use socklab_core::auth::{Auth, SERVER_FULL};
use socklab_core::service::{self, ServiceInfo};
use socklab_core::session::{Idle, Session};

use super::pooled::{OnPool, Pooled};
use super::service::Service;
use super::wake::Wake;
use crate::log::Logger;
use crate::pool::Pool;
use backend::{Backend, ConnBackend};
use register_limit::RegisterLimit;
use secret::{Cost, Hasher};
use store::Store;
use throttle::Throttle;

/// `serve auth` (§5).
#[derive(Debug, Clone)]
pub struct AuthService {
    backend: Arc<Backend>,
    /// Where Argon2 runs: one thread per core, so at most that many hashes (19 MiB
    /// each by default) are in memory at once however many clients log in.
    pool: Arc<Pool>,
    idle: socklab_core::Duration,
}

impl AuthService {
    /// Open `dir` (creating it), load users and sessions, start the hashing threads;
    /// what was loaded, and later failed saves and lockouts, are reported to `log`.
    pub fn new(
        dir: &Path,
        ttl: std::time::Duration,
        cost: Cost,
        idle: socklab_core::Duration,
        log: Logger,
    ) -> Result<AuthService, String> {
        let store = Store::open(dir).map_err(|e| {
            format!(
                "cannot use {} as the auth folder: {}",
                dir.display(),
                crate::os_error::describe(&e)
            )
        })?;
        let hasher = Hasher::new(cost)?;
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let pool = Pool::new("socklab-hash", threads)
            .map_err(|e| format!("cannot start the hashing threads: {e}"))?;
        let (users, sessions) = {
            let t = store.lock();
            (t.users.len(), t.sessions.len())
        };
        let what = format_args!(
            "{users} user(s) and {sessions} live session(s) in {}",
            store.dir().display()
        );
        log.event(service::AUTH.name, crate::log::Pid, what);
        Ok(AuthService {
            backend: Arc::new(Backend {
                store,
                hasher,
                throttle: Mutex::new(Throttle::default()),
                register_limit: Mutex::new(RegisterLimit::new(register_limit::DEFAULT_PER_HOUR)),
                ttl,
                max_users: backend::MAX_USERS,
                log,
            }),
            pool: Arc::new(pool),
            idle,
        })
    }

    /// Refuse REGISTER once `max` users exist (`--max-users`). Call before the service
    /// is cloned into the loops.
    pub fn with_max_users(mut self, max: usize) -> Self {
        if let Some(b) = Arc::get_mut(&mut self.backend) {
            b.max_users = max;
        }
        self
    }

    /// Accept at most `per_hour` new users per address within any hour
    /// (`--register-limit`). Call before the service is cloned into the loops.
    pub fn with_register_limit(mut self, per_hour: u32) -> Self {
        if let Some(b) = Arc::get_mut(&mut self.backend) {
            b.register_limit = Mutex::new(RegisterLimit::new(per_hour));
        }
        self
    }
}

impl Service for AuthService {
    fn info(&self) -> ServiceInfo {
        service::AUTH
    }

    fn chunk(&self) -> usize {
        1024
    }

    fn dump_payloads(&self) -> bool {
        false
    }

    fn open(&mut self, now: Instant, peer: SocketAddr, wake: Wake) -> Box<dyn Session + Send> {
        let conn = ConnBackend::new(self.backend.clone(), peer);
        let s = Pooled::new(
            now,
            Auth::new(now),
            OnPool::new(conn, self.pool.clone(), wake),
        );
        Box::new(Idle::new(s, now, self.idle))
    }

    fn refusal(&self) -> &'static [u8] {
        SERVER_FULL
    }
}
