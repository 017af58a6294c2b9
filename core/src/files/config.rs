//! The settings of a §3 server session, with §3's defaults.

use crate::time::Duration;

/// Files server settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FilesConfig {
    /// `--max-file-size`: the largest file as stored.
    pub max_file_size: u64,
    /// `--idle-timeout`. Progress in either direction counts as activity, so a long
    /// download to a client that sends nothing is not cut off.
    pub idle: Duration,
    /// `--min-upload-rate` in bytes per second; 0 turns the rule off.
    pub min_upload_rate: u64,
    /// The window the upload rate is measured over: §3 says 60 s; tests shorten it.
    pub rate_window: Duration,
}

/// Default `--max-file-size`: 1 GiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 1 << 30;
/// Default `--min-upload-rate` (§3): 1024 bytes/s.
pub const DEFAULT_MIN_UPLOAD_RATE: u64 = 1024;

/// The window of §3's upload rate rule.
pub const RATE_WINDOW: Duration = Duration::from_secs(60);

impl Default for FilesConfig {
    fn default() -> Self {
        FilesConfig {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            idle: Duration::from_secs(300),
            min_upload_rate: DEFAULT_MIN_UPLOAD_RATE,
            rate_window: RATE_WINDOW,
        }
    }
}
