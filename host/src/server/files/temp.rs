//! Upload temporaries in the storage folder: where an upload keeps its bytes until its
//! commit renames it over the name.
//!
//! Temporaries have no name while they are written: `O_TMPFILE` creates an unnamed
//! file in the folder, so nothing can be planted where it will be, or swapped for a
//! symlink under it. Where the filesystem lacks `O_TMPFILE` (checked once at start), a
//! temporary gets a random dot-name (128 bits from the OS RNG) created
//! `O_EXCL | O_NOFOLLOW`, retried on a collision. The commit gives an unnamed temporary
//! a random name (`linkat` of `/proc/self/fd/N`, or `AT_EMPTY_PATH`) before it checks
//! and renames it (see [`DirStorage`](super::dir_storage::DirStorage)).
//!
//! Named temporaries are dot-files (`.socklab-upload-*`), which no valid name can be, so
//! they are never listed or served; the folder removes stale ones at start.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use rustix::fs::{AtFlags, Mode, OFlags};
use rustix::io::Errno;

/// Prefix of upload temporaries; starts with a dot, so it can never be a valid name.
pub const TEMP_PREFIX: &str = ".socklab-upload-";

/// Tries for a free random temporary name: with 128 random bits a collision means
/// someone is planting names, not bad luck.
const TEMP_NAME_TRIES: usize = 8;

/// How uploads keep their bytes until the commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Temporaries {
    /// `O_TMPFILE`: the temporary has no name in the folder until its commit.
    Unnamed,
    /// A random dot-name, created `O_EXCL | O_NOFOLLOW` (filesystems without
    /// `O_TMPFILE`, or when asked for).
    Named,
}

/// A fresh unguessable temporary name.
fn random_temp_name() -> io::Result<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| io::Error::other(format!("no OS randomness: {e}")))?;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!("{TEMP_PREFIX}{hex}"))
}

/// Call `make` with fresh random temporary names until one is not taken.
fn with_fresh_name<T>(mut make: impl FnMut(&str) -> Result<T, Errno>) -> io::Result<(String, T)> {
    for _ in 0..TEMP_NAME_TRIES {
        let temp = random_temp_name()?;
        match make(&temp) {
            Ok(t) => return Ok((temp, t)),
            Err(Errno::EXIST) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(io::Error::other(format!(
        "{TEMP_NAME_TRIES} random temporary names were all taken"
    )))
}

/// A new temporary in the folder `dir`, with its name if it has one.
///
/// A named one is a random dot-name, `O_EXCL | O_NOFOLLOW`, so nothing planted under any
/// name is opened; a taken name is retried with another.
pub fn create(dir: &OwnedFd, temporaries: Temporaries) -> io::Result<(Option<String>, File)> {
    if temporaries == Temporaries::Unnamed {
        let fd = rustix::fs::openat(
            dir,
            ".",
            OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )?;
        return Ok((None, File::from(fd)));
    }
    let (temp, fd) = with_fresh_name(|temp| {
        rustix::fs::openat(
            dir,
            temp,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )
    })?;
    Ok((Some(temp), File::from(fd)))
}

/// Give an unnamed temporary a random name in the folder `dir` (the first step of its
/// commit); a taken name is retried with another.
pub fn name_unnamed(dir: &OwnedFd, file: &File) -> io::Result<String> {
    with_fresh_name(|temp| link_fd(file, dir, temp)).map(|(temp, ())| temp)
}

/// Link the open file `file` (an `O_TMPFILE`) as `name` in `dir`: through
/// `/proc/self/fd` (any user), else with `AT_EMPTY_PATH` (needs `CAP_DAC_READ_SEARCH`).
fn link_fd(file: &impl AsFd, dir: &impl AsFd, name: &str) -> Result<(), Errno> {
    let proc_path = format!("/proc/self/fd/{}", file.as_fd().as_raw_fd());
    match rustix::fs::linkat(
        rustix::fs::CWD,
        proc_path.as_str(),
        dir,
        name,
        AtFlags::SYMLINK_FOLLOW,
    ) {
        Err(Errno::NOENT | Errno::PERM | Errno::ACCESS) => {
            rustix::fs::linkat(file, "", dir, name, AtFlags::EMPTY_PATH)
        }
        r => r,
    }
}

/// True when this folder takes `O_TMPFILE` files and they can be given a name later:
/// tried once at start with a file that is linked and removed at once.
pub fn unnamed_temporaries_work(dir: &OwnedFd) -> bool {
    let Ok(fd) = rustix::fs::openat(
        dir,
        ".",
        OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    ) else {
        return false;
    };
    let Ok(name) = random_temp_name() else {
        return false;
    };
    if link_fd(&fd, dir, &name).is_err() {
        return false;
    }
    rustix::fs::unlinkat(dir, name.as_str(), AtFlags::empty()).is_ok()
}
