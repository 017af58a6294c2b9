//! `serve auth`'s flags (and `serve all`'s names for them) and the [`AuthService`] they
//! build: the folder's users and sessions loaded and the hashing threads started.

use std::path::{Path, PathBuf};

use clap::Args;
use socklab_core::Duration;

use super::AuthService;
use super::secret::Cost;
use crate::log::Logger;

/// The help heading of the auth service's flags (see the ident service's flags: every
/// flag outside this module's flattened [`AuthFlags`] names it itself).
const HEADING: &str = "Auth options";

/// Default `--dir`.
const DEFAULT_DIR: &str = "socklab-auth";

/// `serve auth --help`'s examples.
pub const EXAMPLES: &str = "\
Examples:
  socklab serve auth                      users and sessions in ./socklab-auth
  socklab serve auth --token-ttl 3600     tokens live one hour
  socklab register --user alice           then login, whoami, passwd, logout";

/// `serve auth`'s flags.
#[derive(Debug, Clone, Args)]
pub struct ServeAuthFlags {
    /// Folder holding the user file and the session file; created if missing.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_DIR, help_heading = HEADING)]
    pub dir: PathBuf,
    #[command(flatten)]
    pub auth: AuthFlags,
}

/// The auth service's flags as `serve all` names them.
#[derive(Debug, Clone, Args)]
pub struct AllAuthFlags {
    /// Folder of the auth service's user and session files (`serve auth --dir`).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_DIR, help_heading = HEADING)]
    pub auth_dir: PathBuf,
    #[command(flatten)]
    pub auth: AuthFlags,
}

/// Flags of the auth service (§5) that `serve auth` and `serve all` name alike.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = HEADING)]
pub struct AuthFlags {
    /// Seconds a login token stays valid.
    #[arg(long, value_name = "S", default_value_t = socklab_core::auth::DEFAULT_TOKEN_TTL,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub token_ttl: u64,
    /// Accept at most N users; REGISTER beyond that answers `ERR busy`.
    #[arg(long, value_name = "N", default_value_t = super::backend::MAX_USERS)]
    pub max_users: usize,
    /// Accept at most N new users per IP address (an IPv6 client by its /64) within any
    /// hour; REGISTER beyond that answers `ERR throttled`.
    #[arg(long, value_name = "N",
          default_value_t = super::register_limit::DEFAULT_PER_HOUR,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub register_limit: u32,
    /// Argon2id memory in KiB (tests only; the default is OWASP's 19456).
    #[arg(long, value_name = "KIB", default_value_t = 19 * 1024, hide = true)]
    pub argon2_memory: u32,
    /// Argon2id passes (tests only; the default is OWASP's 2).
    #[arg(long, value_name = "N", default_value_t = 2, hide = true)]
    pub argon2_passes: u32,
}

impl ServeAuthFlags {
    /// See [`AuthFlags::service`].
    pub fn service(&self, idle: Duration, log: &Logger) -> Result<AuthService, String> {
        self.auth.service(&self.dir, idle, log)
    }
}

impl AllAuthFlags {
    /// See [`AuthFlags::service`].
    pub fn service(&self, idle: Duration, log: &Logger) -> Result<AuthService, String> {
        self.auth.service(&self.auth_dir, idle, log)
    }
}

impl AuthFlags {
    /// Open `dir` (telling `log` what it holds) and start the hashing threads; the
    /// message says what went wrong with which folder.
    fn service(&self, dir: &Path, idle: Duration, log: &Logger) -> Result<AuthService, String> {
        let cost = Cost {
            memory_kib: self.argon2_memory,
            passes: self.argon2_passes,
        };
        let ttl = std::time::Duration::from_secs(self.token_ttl);
        Ok(AuthService::new(dir, ttl, cost, idle, log.clone())?
            .with_max_users(self.max_users)
            .with_register_limit(self.register_limit))
    }
}
