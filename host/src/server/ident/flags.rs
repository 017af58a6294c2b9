//! `serve ident`'s flags (and `serve all`'s names for them) and the [`IdentService`]
//! they build: the name table loaded and its writer thread started.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use socklab_core::Duration;
use socklab_core::service::IDENT;

use super::IdentService;
use super::db::{self, IdentDb};
use crate::log::{Logger, Pid};

/// The help heading of the ident service's flags: `serve ident` and `serve all` both
/// flatten flags of several services, so each flag names its heading itself rather
/// than inheriting whichever flattened struct came before it.
const HEADING: &str = "Ident options";

/// Default `--db` of the ident service (§4).
const DEFAULT_DB: &str = "socklab-ident.tsv";

/// `serve ident --help`'s examples.
pub const EXAMPLES: &str = "\
Examples:
  socklab serve ident                        names kept in ./socklab-ident.tsv
  socklab serve ident --host :: --db /srv/lab/ident.tsv
  socklab ident --name Ann                   introduce yourself
  nc 127.0.0.1 9091";

/// Flags of the ident service (§4).
#[derive(Debug, Clone, Args)]
pub struct IdentFlags {
    /// The name table (`ip<TAB>name` lines); created with the first name.
    #[arg(long, value_name = "FILE", default_value = DEFAULT_DB, help_heading = HEADING)]
    pub db: PathBuf,
    /// Remember at most N addresses (and at most 256 in one IPv6 /64); a new client
    /// beyond that hears "Sorry, I cannot remember any more names."
    #[arg(long, value_name = "N", default_value_t = db::MAX_NAMES, help_heading = HEADING)]
    pub max_names: usize,
    /// Milliseconds each name store sleeps first: a slow disk, for tests.
    #[arg(long, value_name = "MS", default_value_t = 0, hide = true)]
    pub store_delay: u64,
}

/// The ident service's flags as `serve all` names them.
#[derive(Debug, Clone, Args)]
pub struct AllIdentFlags {
    /// The ident service's name table (`serve ident --db`).
    #[arg(long, value_name = "FILE", default_value = DEFAULT_DB, help_heading = HEADING)]
    pub ident_db: PathBuf,
    /// The ident service's address limit (`serve ident --max-names`).
    #[arg(long, value_name = "N", default_value_t = db::MAX_NAMES, help_heading = HEADING)]
    pub ident_max_names: usize,
}

impl AllIdentFlags {
    /// `serve ident`'s flags saying the same.
    pub fn flags(&self) -> IdentFlags {
        IdentFlags {
            db: self.ident_db.clone(),
            max_names: self.ident_max_names,
            store_delay: 0,
        }
    }
}

impl IdentFlags {
    /// Load the name table (telling `log` how many names it holds) and start its writer
    /// thread; the message names the file.
    pub fn service(&self, idle: Duration, log: &Logger) -> Result<IdentService, String> {
        let path = &self.db;
        let (db, loaded) = IdentDb::open(path, log.clone()).map_err(|e| {
            format!(
                "cannot read the ident table {}: {}",
                path.display(),
                crate::os_error::describe(&e)
            )
        })?;
        let what = format_args!(
            "{} name(s) loaded from {}{}",
            loaded.names,
            db.path().display(),
            if loaded.skipped > 0 {
                format!(" ({} malformed line(s) ignored)", loaded.skipped)
            } else {
                String::new()
            }
        );
        log.event(IDENT.name, Pid, what);
        let mut svc = IdentService::new(Arc::new(db.with_max_names(self.max_names)), idle)
            .map_err(|e| format!("cannot start the ident writer thread: {e}"))?;
        svc.store_delay = std::time::Duration::from_millis(self.store_delay);
        Ok(svc)
    }
}
