//! The ident name table: `ip<TAB>name` lines in one file (§4).
//!
//! The whole table lives in memory (a lab server knows a few hundred clients); the file
//! is read once at start and rewritten whole for every new name: a temporary next to
//! it, `fsync`, `rename` over the file, `fsync` of the folder. A crash at any moment
//! leaves either the old file or the new one, never half of one (a temporary it leaves
//! is removed by the next [`IdentDb::open`]), and once
//! [`IdentDb::store`] returns `Ok` the pair survives a power cut.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::log::Logger;

use socklab_core::ident::valid_name;

/// An address as the table keys it: IPv4-mapped IPv6 (`::ffff:1.2.3.4`, what a `::`
/// listener sees for IPv4 clients) becomes the IPv4 address, so one client is one entry
/// whichever socket it came through.
pub fn normalise(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// Default `--max-names`: far more than a lab has clients, small enough that the file
/// (rewritten whole for every new name) stays under a megabyte.
pub const MAX_NAMES: usize = 10_000;

/// At most this many names for addresses in one IPv6 /64. One host can use every
/// address of its /64, so without this a single peer could take the whole table; a
/// lab network is one /64 with fewer machines than this.
pub const MAX_NAMES_PER_64: usize = 256;

/// The table and its file.
#[derive(Debug)]
pub struct IdentDb {
    path: PathBuf,
    /// New addresses are refused once the table holds this many (`--max-names`).
    max_names: usize,
    names: Mutex<BTreeMap<IpAddr, String>>,
    /// Held for a whole rewrite, so writes never interleave and each one starts from
    /// the table as the previous one left it. Separate from `names` so that the event
    /// loop's lookups never wait for a disk.
    writer: Mutex<()>,
    /// Where stores and failures are reported.
    log: Logger,
}

/// What [`IdentDb::open`] found in the file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    /// Entries read.
    pub names: usize,
    /// Lines that were not `ip<TAB>valid name` and were ignored (and will be dropped at
    /// the next rewrite).
    pub skipped: usize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl IdentDb {
    /// Read the table at `path`; a missing file is an empty table (it is created with
    /// the first name). Stores and failures are reported to `log`.
    pub fn open(path: &Path, log: Logger) -> io::Result<(IdentDb, Loaded)> {
        let mut names = BTreeMap::new();
        let mut loaded = Loaded::default();
        match fs::read(path) {
            Ok(bytes) => {
                for line in bytes.split(|&b| b == b'\n') {
                    if line.is_empty() {
                        continue;
                    }
                    match parse_line(line) {
                        Some((ip, name)) => {
                            names.insert(ip, name.to_owned());
                        }
                        None => loaded.skipped += 1,
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        loaded.names = names.len();
        remove_stale_temporaries(path);
        let db = IdentDb {
            path: path.to_owned(),
            max_names: MAX_NAMES,
            names: Mutex::new(names),
            writer: Mutex::new(()),
            log,
        };
        Ok((db, loaded))
    }

    /// Refuse new addresses once the table holds `max` names (a table loaded from a
    /// bigger file keeps every entry; it just learns no more).
    pub fn with_max_names(mut self, max: usize) -> Self {
        self.max_names = max;
        self
    }

    /// Whether a name for `ip` (already [`normalise`]d) could be stored now: it is
    /// already in the table, or there is room for it — under `--max-names` overall and
    /// under [`MAX_NAMES_PER_64`] in its IPv6 /64.
    pub fn has_room(&self, ip: IpAddr) -> bool {
        room(&lock(&self.names), ip, self.max_names)
    }

    /// Where stores and failures are reported.
    pub fn logger(&self) -> &Logger {
        &self.log
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The name stored for `ip` (already [`normalise`]d).
    pub fn lookup(&self, ip: IpAddr) -> Option<String> {
        lock(&self.names).get(&ip).cloned()
    }

    /// Remember `name` for `ip`, durably, then return. Blocks on the disk: call it on a
    /// worker thread. On error the table is unchanged, in memory and on disk.
    pub fn store(&self, ip: IpAddr, name: &str) -> io::Result<()> {
        let _writing = lock(&self.writer);
        let mut table = lock(&self.names).clone();
        // Checked again here: other connections may have filled the table since this
        // one was asked its name.
        if !room(&table, ip, self.max_names) {
            return Err(io::Error::other(format!(
                "the name table is full ({} names, --max-names {}, at most {MAX_NAMES_PER_64} per IPv6 /64)",
                table.len(),
                self.max_names
            )));
        }
        table.insert(ip, name.to_owned());
        let mut text = String::new();
        for (ip, name) in &table {
            text.push_str(&ip.to_string());
            text.push('\t');
            text.push_str(name);
            text.push('\n');
        }
        write_atomically(&self.path, text.as_bytes())?;
        lock(&self.names).insert(ip, name.to_owned());
        Ok(())
    }
}

fn room(table: &BTreeMap<IpAddr, String>, ip: IpAddr, max: usize) -> bool {
    if table.contains_key(&ip) {
        return true;
    }
    if table.len() >= max {
        return false;
    }
    match ip {
        IpAddr::V4(_) => true,
        IpAddr::V6(v6) => {
            // Addresses sort by their bytes, so a /64 is one contiguous range of keys.
            const HOST: u128 = u64::MAX as u128;
            let first = IpAddr::V6((u128::from(v6) & !HOST).into());
            let last = IpAddr::V6((u128::from(v6) | HOST).into());
            table.range(first..=last).count() < MAX_NAMES_PER_64
        }
    }
}

fn parse_line(line: &[u8]) -> Option<(IpAddr, &str)> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let tab = line.iter().position(|&b| b == b'\t')?;
    let ip: IpAddr = std::str::from_utf8(&line[..tab]).ok()?.parse().ok()?;
    let name = valid_name(&line[tab + 1..])?;
    Some((normalise(ip), name))
}

/// The folder `path` is in.
fn folder(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// How the temporaries of `path` start: `.<file name>.socklab-tmp-` (then random hex).
fn temp_prefix(path: &Path) -> Option<std::ffi::OsString> {
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(path.file_name()?);
    prefix.push(".socklab-tmp-");
    Some(prefix)
}

/// Remove what a writer killed between creating its temporary and renaming it left
/// behind, whatever its pid: two servers sharing one file are not supported (each
/// rewrites the whole file from its own table, so they would undo each other's names
/// anyway). Best effort: the table was read, and a folder that cannot be listed will
/// fail the first store anyway.
fn remove_stale_temporaries(path: &Path) {
    let (Some(prefix), Ok(entries)) = (temp_prefix(path), fs::read_dir(folder(path))) else {
        return;
    };
    let prefix = prefix.as_encoded_bytes();
    for e in entries.flatten() {
        if e.file_name().as_encoded_bytes().starts_with(prefix) {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Replace `path` with `bytes`, durably ([`atomic_file`](crate::atomic_file)), with the
/// permissions a new file gets (0666 less the umask). Its temporary is removed if
/// anything fails, and by the next [`IdentDb::open`] if the process dies first.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let prefix = temp_prefix(path)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    crate::atomic_file::write(path, bytes, 0o666, &prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quiet() -> Logger {
        Logger::stderr(crate::log::Level::Quiet)
    }

    #[test]
    fn mapped_addresses_become_ipv4() {
        let mapped: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        assert_eq!(normalise(mapped), "10.1.2.3".parse::<IpAddr>().unwrap());
        let v6: IpAddr = "::1".parse().unwrap();
        assert_eq!(normalise(v6), v6);
    }

    #[test]
    fn round_trip_and_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.tsv");
        fs::write(
            &path,
            "1.2.3.4\tAnn\nnot an ip\tX\n::1\t\n\n::ffff:5.6.7.8\tBo\r\n",
        )
        .unwrap();
        let (db, loaded) = IdentDb::open(&path, quiet()).unwrap();
        assert_eq!(
            loaded,
            Loaded {
                names: 2,
                skipped: 2
            }
        );
        assert_eq!(db.lookup("5.6.7.8".parse().unwrap()).as_deref(), Some("Bo"));
        db.store("::1".parse().unwrap(), "Cy").unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text, "1.2.3.4\tAnn\n5.6.7.8\tBo\n::1\tCy\n");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["db.tsv"]);
    }

    /// Found by `tests/prop_ident.rs` (a crash while the file is rewritten): the
    /// temporary of a killed writer stayed in the folder forever, since the next
    /// server has another pid and never reuses the name.
    #[test]
    fn a_killed_writers_temporary_is_removed_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.tsv");
        fs::write(&path, "1.2.3.4\tAnn\n").unwrap();
        let stale = dir.path().join(".db.tsv.socklab-tmp-999999");
        fs::write(&stale, "1.2.3.4\tAnn\n5.6.7.8\tB").unwrap();
        // Not ours: another file's temporary, and a name that only looks alike.
        fs::write(dir.path().join(".other.tsv.socklab-tmp-1"), "x").unwrap();
        fs::write(dir.path().join("db.tsv.socklab-tmp-1"), "x").unwrap();
        let (db, loaded) = IdentDb::open(&path, quiet()).unwrap();
        assert_eq!(
            loaded,
            Loaded {
                names: 1,
                skipped: 0
            }
        );
        assert_eq!(db.lookup("5.6.7.8".parse().unwrap()), None);
        let mut names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [".other.tsv.socklab-tmp-1", "db.tsv", "db.tsv.socklab-tmp-1"]
        );
    }

    #[test]
    fn a_full_table_learns_no_more_and_keeps_what_it_has() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.tsv");
        let (db, _) = IdentDb::open(&path, quiet()).unwrap();
        let db = db.with_max_names(2);
        let a = |s: &str| s.parse::<IpAddr>().unwrap();
        db.store(a("10.0.0.1"), "Ann").unwrap();
        db.store(a("10.0.0.2"), "Bo").unwrap();
        assert!(!db.has_room(a("10.0.0.3")));
        assert!(
            db.has_room(a("10.0.0.1")),
            "a known address always has its place"
        );
        let err = db.store(a("10.0.0.3"), "Cy").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the name table is full (2 names, --max-names 2, at most 256 per IPv6 /64)"
        );
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "10.0.0.1\tAnn\n10.0.0.2\tBo\n"
        );
        assert_eq!(db.lookup(a("10.0.0.3")), None);
    }

    #[test]
    fn one_ipv6_slash_64_cannot_take_the_table() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = IdentDb::open(&dir.path().join("db.tsv"), quiet()).unwrap();
        let mut text = String::new();
        for i in 0..MAX_NAMES_PER_64 {
            text.push_str(&format!("2001:db8:0:1::{i:x}\tN{i}\n"));
        }
        let path = dir.path().join("full64.tsv");
        fs::write(&path, text).unwrap();
        let (db2, loaded) = IdentDb::open(&path, quiet()).unwrap();
        assert_eq!(loaded.names, MAX_NAMES_PER_64);
        let a = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(!db2.has_room(a("2001:db8:0:1::ffff")));
        assert!(db2.has_room(a("2001:db8:0:2::1")), "another /64");
        assert!(db2.has_room(a("10.0.0.1")));
        db2.store(a("2001:db8:0:2::1"), "Other").unwrap();
        assert!(db2.store(a("2001:db8:0:1::ffff"), "More").is_err());
        drop(db);
    }

    #[test]
    fn failed_write_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-folder").join("db.tsv");
        let (db, _) = IdentDb::open(&path, quiet()).unwrap();
        assert!(db.store("1.2.3.4".parse().unwrap(), "Ann").is_err());
        assert_eq!(db.lookup("1.2.3.4".parse().unwrap()), None);
    }
}
