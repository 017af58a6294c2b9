//! The event log on stderr, in the PC server's format (`<RFC 3339 UTC, ms> <message>`,
//! where the library's messages start with the service and the peer), so the two builds
//! read alike in a terminal.

use log::{Level, LevelFilter, Log, Metadata, Record};
use std::io::Write;
use std::time::SystemTime;

struct Stderr;

impl Log for Stderr {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        // smoltcp's own messages only at -vv: at -v they would drown the events.
        metadata.level() <= log::max_level()
            && (!metadata.target().starts_with("smoltcp") || log::max_level() == LevelFilter::Trace)
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let time = humantime::format_rfc3339_millis(SystemTime::now());
        let target = record.target();
        // smoltcp's own messages are debugging aids: mark them so they are not
        // mistaken for events.
        let origin = if target.starts_with("smoltcp") {
            "smoltcp: "
        } else {
            ""
        };
        let level = match record.level() {
            Level::Error => "error: ",
            Level::Warn => "warning: ",
            _ => "",
        };
        // A closed stderr must not stop the server.
        let _ = writeln!(
            std::io::stderr().lock(),
            "{time} {origin}{level}{}",
            record.args()
        );
    }

    fn flush(&self) {}
}

/// Install the logger: `-q` errors only, default events, `-v` debug, `-vv` smoltcp too.
pub fn init(quiet: bool, verbose: u8) {
    static LOGGER: Stderr = Stderr;
    let level = match (quiet, verbose) {
        (true, _) => LevelFilter::Error,
        (false, 0) => LevelFilter::Info,
        (false, 1) => LevelFilter::Debug,
        (false, _) => LevelFilter::Trace,
    };
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
}
