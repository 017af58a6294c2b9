//! `serve files`'s flags and the [`FilesService`] they build: the folder opened (what
//! an earlier run left there reported) and the worker pool started.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use socklab_core::Duration;
use socklab_core::files::{DEFAULT_MAX_FILE_SIZE, DEFAULT_MIN_UPLOAD_RATE, FilesConfig};
use socklab_core::service::FILES;

use super::dir::{Dir, Startup};
use super::temp::Temporaries;
use super::{FilesService, WORKERS};
use crate::log::{Logger, Pid};
use crate::pool::Pool;

/// `serve files --help`'s examples.
pub const EXAMPLES: &str = "\
Examples:
  socklab serve files                         store files in ./socklab-files
  socklab serve files --dir /srv/lab --max-file-size 10485760
  printf 'LIST\\nQUIT\\n' | nc 127.0.0.1 8020";

/// Flags of the files service (§3).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Files options")]
pub struct FilesFlags {
    /// Folder the files are kept in; created if missing.
    #[arg(long, value_name = "DIR", default_value = "socklab-files")]
    pub dir: PathBuf,
    /// Largest file stored, in bytes (an APPEND counts the whole file).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_FILE_SIZE)]
    pub max_file_size: u64,
    /// Slowest upload kept going, in bytes per second over a minute: a slower one is
    /// ended like an idle connection, so nobody holds a name by trickling (0: no limit).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MIN_UPLOAD_RATE)]
    pub min_upload_rate: u64,
    /// Seconds the upload rate is measured over (60); shorter for tests.
    #[arg(long, value_name = "S", default_value_t = 60, hide = true,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub upload_rate_window: u64,
    /// Milliseconds each chunk write sleeps: a slow disk, for tests.
    #[arg(long, value_name = "MS", default_value_t = 0, hide = true)]
    pub io_delay: u64,
    /// Give upload temporaries random names even where O_TMPFILE works: the fallback
    /// for filesystems without it, for tests.
    #[arg(long, hide = true)]
    pub named_temporaries: bool,
}

impl FilesFlags {
    /// Open the folder (removing stale temporaries, which `log` is told about) and
    /// start the worker pool. The message says what went wrong with which folder.
    pub fn service(&self, idle: Duration, log: &Logger) -> Result<FilesService, String> {
        let temporaries = if self.named_temporaries {
            Temporaries::Named
        } else {
            Temporaries::Unnamed
        };
        let (dir, startup) = Dir::open_with(&self.dir, temporaries, log.clone()).map_err(|e| {
            format!(
                "cannot use {} as the files folder: {}",
                self.dir.display(),
                crate::os_error::describe(&e)
            )
        })?;
        log_startup(log, &dir, &startup);
        let pool = Pool::new("socklab-io", WORKERS)
            .map_err(|e| format!("cannot start the file I/O threads: {e}"))?;
        let config = FilesConfig {
            max_file_size: self.max_file_size,
            idle,
            min_upload_rate: self.min_upload_rate,
            rate_window: Duration::from_secs(self.upload_rate_window),
        };
        Ok(FilesService {
            config,
            dir,
            pool: Arc::new(pool),
            io_delay: std::time::Duration::from_millis(self.io_delay),
        })
    }
}

/// Entries named like upload temporaries shown one by one at start; more are counted.
const SKIPPED_SHOWN: usize = 10;

/// What opening the files folder found, for the person running the server.
fn log_startup(log: &Logger, dir: &Dir, startup: &Startup) {
    let path = dir.path().display();
    if startup.removed > 0 {
        let what = format_args!(
            "removed {} unfinished upload(s) left in {path} by an earlier run",
            startup.removed
        );
        log.event(FILES.name, Pid, what);
    }
    for (name, why) in startup.skipped.iter().take(SKIPPED_SHOWN) {
        let what = format_args!("skipped {name:?} in {path} at start: {why}; left as it is");
        log.event(FILES.name, Pid, what);
    }
    if startup.skipped.len() > SKIPPED_SHOWN {
        let more = startup.skipped.len() - SKIPPED_SHOWN;
        let what = format_args!("skipped {more} more entries named like upload temporaries");
        log.event(FILES.name, Pid, what);
    }
    if dir.temporaries() == Temporaries::Named {
        let what = format_args!(
            "upload temporaries in {path} get random names (no O_TMPFILE here, or \
             --named-temporaries)"
        );
        log.event(FILES.name, Pid, what);
    }
}
