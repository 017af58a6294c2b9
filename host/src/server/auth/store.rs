//! The user file and the session file, in memory and on disk.
//!
//! Both live in `--dir` (created `0700`; files `0600`) as small text files, read once
//! at start and rewritten whole on every change, atomically: a temporary in the same
//! folder, `fsync`, `rename` over the old file, `fsync` of the folder. A crash leaves
//! the old file or the new one, never half of either. Writes happen on worker threads
//! (never on an event loop), one file at a time per file: a writer snapshots the table
//! after taking the file's lock, so the last write always holds every change made
//! before it started.
//!
//! ```text
//! users:     # socklab-auth users 1
//!            alice<TAB>$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//! sessions:  # socklab-auth sessions 1
//!            <sha256 of the token, 64 hex><TAB>alice<TAB><expiry, Unix ms>
//! ```
//!
//! Neither file holds a password or a token: an attacker who reads them gets Argon2id
//! hashes (slow to attack) and SHA-256 digests of 128-bit random tokens (not
//! invertible), which is what §5 asks.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use super::secret::TokenHash;

const USERS: &str = "users";
const SESSIONS: &str = "sessions";
const USERS_HEADER: &str = "# socklab-auth users 1";
const SESSIONS_HEADER: &str = "# socklab-auth sessions 1";

/// Milliseconds since the Unix epoch: session expiries must survive a restart, so
/// they are wall-clock times, not the loop's monotonic clock.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// One live login: what a token stands for (a "session" in §5's words, a line of the
/// session file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// The whole digest (the table is indexed by its first half).
    pub hash: TokenHash,
    /// Whose session it is.
    pub user: String,
    /// Expiry, Unix ms.
    pub expires: u64,
    /// Creation order (set by [`Tables::add_session`]; sessions loaded at start are
    /// numbered by expiry), so "a user's oldest session" is well defined even for
    /// logins within one millisecond. Not stored.
    pub issued: u64,
}

/// The tables.
#[derive(Debug, Default)]
pub struct Tables {
    /// User name → Argon2id PHC string.
    pub users: HashMap<String, String>,
    /// Token-hash selector → session.
    pub sessions: HashMap<[u8; 16], Login>,
    /// The next [`Login::issued`].
    next_issued: u64,
}

impl Tables {
    /// The live session for `hash` at `now_ms`, compared in constant time.
    pub fn session(&self, hash: &TokenHash, now_ms: u64) -> Option<&Login> {
        self.sessions
            .get(&hash.selector())
            .filter(|s| s.hash.matches(hash) && now_ms < s.expires)
    }

    /// Add a new session, numbered after every earlier one.
    pub fn add_session(&mut self, mut s: Login) {
        s.issued = self.next_issued;
        self.next_issued += 1;
        self.sessions.insert(s.hash.selector(), s);
    }

    /// If `user` has more than `limit` sessions, end the oldest and return it.
    pub fn evict_over_limit(&mut self, user: &str, limit: usize) -> Option<Login> {
        let mine = self.sessions.values().filter(|s| s.user == user);
        if mine.clone().count() <= limit {
            return None;
        }
        let oldest = mine.min_by_key(|s| s.issued)?.hash.selector();
        self.sessions.remove(&oldest)
    }

    fn drop_expired(&mut self, now_ms: u64) {
        self.sessions.retain(|_, s| now_ms < s.expires);
    }
}

/// The folder with its two files.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    tables: Mutex<Tables>,
    users_file: Mutex<()>,
    sessions_file: Mutex<()>,
}

impl Store {
    /// Open (creating) `dir` and read both files; expired sessions are dropped.
    pub fn open(dir: &Path) -> io::Result<Store> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let mut tables = Tables::default();
        for (name, fields) in read_lines(&dir.join(USERS), USERS_HEADER, 2)? {
            if !socklab_core::auth::valid_user(&fields[0]) || !fields[1].starts_with('$') {
                return Err(bad_line(USERS, name));
            }
            tables.users.insert(fields[0].clone(), fields[1].clone());
        }
        let mut loaded = Vec::new();
        for (line, fields) in read_lines(&dir.join(SESSIONS), SESSIONS_HEADER, 3)? {
            let hash = TokenHash::from_hex(&fields[0]).ok_or_else(|| bad_line(SESSIONS, line))?;
            let expires = fields[2].parse().map_err(|_| bad_line(SESSIONS, line))?;
            loaded.push(Login {
                hash,
                user: fields[1].clone(),
                expires,
                issued: 0,
            });
        }
        // The file is sorted by hash; the order of creation is best told by expiry.
        loaded.sort_by_key(|s| (s.expires, s.hash.0));
        for s in loaded {
            tables.add_session(s);
        }
        tables.drop_expired(unix_ms());
        // Temporaries of a run that died mid-write are garbage.
        for e in fs::read_dir(dir)?.flatten() {
            if e.file_name().to_string_lossy().starts_with(".tmp-") {
                let _ = fs::remove_file(e.path());
            }
        }
        Ok(Store {
            dir: dir.to_owned(),
            tables: Mutex::new(tables),
            users_file: Mutex::new(()),
            sessions_file: Mutex::new(()),
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The tables, locked. Hold the guard briefly: never across a hash or a write.
    pub fn lock(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Rewrite the user file from the current table; returns when it is durable.
    pub fn save_users(&self) -> io::Result<()> {
        let _file = self
            .users_file
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut text = format!("{USERS_HEADER}\n");
        {
            let t = self.lock();
            let mut users: Vec<_> = t.users.iter().collect();
            users.sort();
            for (u, phc) in users {
                text.push_str(&format!("{u}\t{phc}\n"));
            }
        }
        self.write_atomic(USERS, text.as_bytes())
    }

    /// Rewrite the session file from the current table (dropping expired sessions);
    /// returns when it is durable.
    pub fn save_sessions(&self) -> io::Result<()> {
        let _file = self
            .sessions_file
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut text = format!("{SESSIONS_HEADER}\n");
        {
            let mut t = self.lock();
            t.drop_expired(unix_ms());
            let mut sessions: Vec<_> = t.sessions.values().collect();
            sessions.sort_by_key(|s| s.hash.0);
            for s in sessions {
                text.push_str(&format!("{}\t{}\t{}\n", s.hash.to_hex(), s.user, s.expires));
            }
        }
        self.write_atomic(SESSIONS, text.as_bytes())
    }

    /// Replace `name` durably, as a `0600` file; its temporary starts with `.tmp-`,
    /// which [`Store::open`] clears.
    fn write_atomic(&self, name: &str, bytes: &[u8]) -> io::Result<()> {
        let prefix = format!(".tmp-{name}-");
        crate::atomic_file::write(&self.dir.join(name), bytes, 0o600, prefix.as_ref())
    }
}

fn bad_line(file: &str, line: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{file}, line {line}: not a line this server writes"),
    )
}

/// The tab-separated records of a file (none if it does not exist), with line numbers.
fn read_lines(path: &Path, header: &str, fields: usize) -> io::Result<Vec<(usize, Vec<String>)>> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if i == 0 && line != header {
            return Err(bad_line(&name, 1));
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let f: Vec<String> = line.split('\t').map(str::to_owned).collect();
        if f.len() != fields {
            return Err(bad_line(&name, i + 1));
        }
        out.push((i + 1, f));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_survive_a_reopen_and_expired_sessions_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let live = TokenHash::of("live");
        let dead = TokenHash::of("dead");
        {
            let mut t = store.lock();
            t.users.insert("bob".into(), "$argon2id$x".into());
            for (h, exp) in [(live, unix_ms() + 60_000), (dead, 1)] {
                let s = Login {
                    hash: h,
                    user: "bob".into(),
                    expires: exp,
                    issued: 0,
                };
                t.add_session(s);
            }
        }
        store.save_users().unwrap();
        store.save_sessions().unwrap();
        let again = Store::open(dir.path()).unwrap();
        let t = again.lock();
        assert_eq!(t.users.get("bob").map(String::as_str), Some("$argon2id$x"));
        assert!(t.session(&live, unix_ms()).is_some());
        assert!(t.session(&dead, unix_ms()).is_none());
        assert_eq!(t.sessions.len(), 1);
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dir.path().join("users"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_foreign_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("users"), "hello\n").unwrap();
        assert!(Store::open(dir.path()).is_err());
    }
}
