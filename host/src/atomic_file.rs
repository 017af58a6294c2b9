//! Replacing a small file whole, so that a crash or a power cut leaves the old file or
//! the new one, never half of either: the auth tables, the ident table and a client's
//! saved token are all written this way.
//!
//! The bytes go to a temporary in the same folder (a `rename` is atomic only within one
//! file system), which is `fsync`ed, renamed over the file, and then the folder is
//! `fsync`ed so that the rename itself survives. Once [`write`] returns `Ok` the new
//! content is durable.
//!
//! The temporary's name is the caller's prefix and 32 random hex digits, created with
//! `O_EXCL`: nothing another process planted at a guessable name is ever written
//! through, two writers never share a temporary, and the file has the caller's
//! permissions from its first byte. The prefix is the caller's so that it can find and
//! remove what a writer killed before its rename left behind.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// How many random names are tried before giving up (a collision of 128 random bits is
/// a planted file, not bad luck).
const TRIES: usize = 8;

/// Replace `path` with `bytes`, durably. The file gets `mode` (less the umask, as any
/// `open` does); its temporary is named `temp_prefix` and random hex digits, in the
/// same folder, and is removed if anything fails.
pub fn write(path: &Path, bytes: &[u8], mode: u32, temp_prefix: &OsStr) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let (tmp, mut f) = create_temporary(dir, mode, temp_prefix)?;
    let result = (|| {
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn create_temporary(
    dir: &Path,
    mode: u32,
    prefix: &OsStr,
) -> io::Result<(std::path::PathBuf, File)> {
    for _ in 0..TRIES {
        let mut name = OsString::from(prefix);
        name.push(random_hex()?);
        let tmp = dir.join(name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)
        {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!(
        "{TRIES} random temporary names were all taken"
    )))
}

/// 128 bits from the OS RNG as 32 lowercase hex digits.
fn random_hex() -> io::Result<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| io::Error::other(format!("no OS randomness: {e}")))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("table");
        fs::write(&path, "old\n").unwrap();
        write(&path, b"new\n", 0o600, OsStr::new(".table.tmp-")).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new\n");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(names(dir.path()), ["table"]);
    }

    #[test]
    fn a_failed_write_keeps_the_old_file_and_removes_the_temporary() {
        let dir = tempfile::tempdir().unwrap();
        // The rename cannot replace a folder with a file.
        let path = dir.path().join("table");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("inside"), "x").unwrap();
        assert!(write(&path, b"new\n", 0o600, OsStr::new(".table.tmp-")).is_err());
        assert!(path.is_dir());
        assert_eq!(names(dir.path()), ["table"]);
    }

    #[test]
    fn temporaries_have_random_names_with_the_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let a = create_temporary(dir.path(), 0o600, OsStr::new(".t-"))
            .unwrap()
            .0;
        let b = create_temporary(dir.path(), 0o600, OsStr::new(".t-"))
            .unwrap()
            .0;
        for p in [&a, &b] {
            let name = p.file_name().unwrap().to_str().unwrap();
            let hex = name.strip_prefix(".t-").unwrap();
            assert_eq!(hex.len(), 32);
            assert!(hex.bytes().all(|c| c.is_ascii_hexdigit()));
        }
        assert_ne!(a, b);
    }
}
