//! The storage folder of `serve files`, confined by a directory handle.
//!
//! Every operation is an `*at` call on the file descriptor of `--dir`, opened once at
//! start, with a single path component: the core already refused names with `/`, `\`,
//! a leading dot or control bytes, and here nothing ever joins strings into paths.
//! Opens use `O_NOFOLLOW` (a symlink planted in the folder is refused, not followed) and
//! `O_NONBLOCK` (a planted FIFO cannot hang a worker); the type and link count are then
//! checked on the open descriptor itself (`fstat`), so swapping an entry between a check
//! and a use changes nothing. Only regular files with one link are served: a hard link
//! could make a file outside the folder readable through a name inside it. Any other
//! entry (hard link, symlink, folder, FIFO, device) is never read, written or replaced
//! (§3): LIST and GET skip it, a PUT to its name gets `ERR bad-name`.
//!
//! Uploads go through temporaries ([`temp`](super::temp)); stale ones a killed server
//! left (regular files only) are removed at start, and anything else of that name is
//! left alone and logged.

use std::collections::HashSet;
use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;
use socklab_core::files::StorageError;

use super::temp::{TEMP_PREFIX, Temporaries, unnamed_temporaries_work};
use crate::log::Logger;

/// What opening the folder found.
#[derive(Debug, Default)]
pub struct Startup {
    /// Stale temporaries (regular files) removed.
    pub removed: usize,
    /// Entries named like temporaries that are not ours, left alone: name and why.
    pub skipped: Vec<(String, String)>,
}

/// What a name in the folder is to the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Entry {
    Absent,
    /// A regular file with one link, and its size.
    File(u64),
    /// Anything else: never read, written or replaced.
    NotServed,
}

/// What kind of entry a stat describes, for messages.
fn kind_of(st: &rustix::fs::Stat) -> &'static str {
    match FileType::from_raw_mode(st.st_mode) {
        FileType::RegularFile if st.st_nlink != 1 => "a file with more than one link",
        FileType::RegularFile => "a file",
        FileType::Directory => "a folder",
        FileType::Symlink => "a symbolic link",
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::CharacterDevice | FileType::BlockDevice => "a device",
        FileType::Unknown => "an entry of unknown type",
    }
}

/// An error with what was being done, for the person starting the server.
fn context(what: std::fmt::Arguments<'_>, e: impl Into<io::Error>) -> io::Error {
    let e = e.into();
    io::Error::new(
        e.kind(),
        format!("{what}: {}", crate::os_error::describe(&e)),
    )
}

/// The folder, shared by every connection.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    path: PathBuf,
    /// Names with an upload in progress (`ERR busy` for a second writer).
    uploading: Mutex<HashSet<String>>,
    temporaries: Temporaries,
    /// Where storage failures are reported: the client only sees `ERR io`, the person
    /// running the server needs the OS's reason.
    log: Logger,
}

impl Dir {
    /// Open (creating it if missing) the folder at `path`, with unnamed temporaries
    /// where the filesystem has them, and remove stale temporaries. Storage failures
    /// are reported to `log`.
    pub fn open(path: &Path, log: Logger) -> io::Result<(Arc<Dir>, Startup)> {
        Self::open_with(path, Temporaries::Unnamed, log)
    }

    /// [`open`](Self::open), preferring `temporaries` (`Named` forces the fallback,
    /// for tests of it and for filesystems whose `O_TMPFILE` misbehaves). An error says
    /// what failed, on which entry.
    pub fn open_with(
        path: &Path,
        temporaries: Temporaries,
        log: Logger,
    ) -> io::Result<(Arc<Dir>, Startup)> {
        if std::fs::metadata(path).is_ok_and(|m| !m.is_dir()) {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                "it is not a folder",
            ));
        }
        std::fs::create_dir_all(path).map_err(|e| context(format_args!("cannot create it"), e))?;
        let fd = rustix::fs::open(
            path,
            OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| context(format_args!("cannot open it as a folder"), e))?;
        let temporaries = match temporaries {
            Temporaries::Unnamed if unnamed_temporaries_work(&fd) => Temporaries::Unnamed,
            _ => Temporaries::Named,
        };
        let dir = Dir {
            fd,
            path: path.to_owned(),
            uploading: Mutex::new(HashSet::new()),
            temporaries,
            log,
        };
        let startup = dir.remove_stale()?;
        Ok((Arc::new(dir), startup))
    }

    /// How this folder's uploads keep their bytes.
    pub fn temporaries(&self) -> Temporaries {
        self.temporaries
    }

    /// An OS error as §3 sees it, logged when it is the server's problem.
    pub(super) fn fail(&self, what: std::fmt::Arguments<'_>, e: io::Error) -> StorageError {
        let err = storage_error(&e);
        if matches!(err, StorageError::Io | StorageError::NoSpace) {
            let why = crate::os_error::describe(&e);
            let what = format_args!("{what}: {why}");
            self.log.error("files", crate::log::Pid, what);
        }
        err
    }

    /// The folder's descriptor, which every operation in it starts from.
    pub(super) fn fd(&self) -> &OwnedFd {
        &self.fd
    }

    /// The folder as given on the command line, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Remove the temporaries a killed server left: regular files with one link named
    /// like one. Nothing else of that name is touched, and no single entry can stop the
    /// start: what cannot be removed is reported in [`Startup::skipped`].
    fn remove_stale(&self) -> io::Result<Startup> {
        let mut startup = Startup::default();
        let read = |e| context(format_args!("cannot read its entries"), e);
        for entry in rustix::fs::Dir::read_from(&self.fd).map_err(read)? {
            let entry = entry.map_err(read)?;
            let name = entry.file_name();
            if !name.to_bytes().starts_with(TEMP_PREFIX.as_bytes()) {
                continue;
            }
            let shown = String::from_utf8_lossy(name.to_bytes()).into_owned();
            let why = match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st)
                    if FileType::from_raw_mode(st.st_mode) == FileType::RegularFile
                        && st.st_nlink == 1 =>
                {
                    match rustix::fs::unlinkat(&self.fd, name, AtFlags::empty()) {
                        Ok(()) => {
                            startup.removed += 1;
                            continue;
                        }
                        Err(e) => {
                            format!("cannot remove it: {}", crate::os_error::describe(&e.into()))
                        }
                    }
                }
                Ok(st) => format!("{}, not an upload temporary", kind_of(&st)),
                Err(Errno::NOENT) => continue,
                Err(e) => format!(
                    "cannot look at it: {}",
                    crate::os_error::describe(&e.into())
                ),
            };
            startup.skipped.push((shown, why));
        }
        if startup.removed > 0 {
            rustix::fs::fsync(&self.fd).map_err(|e| {
                context(
                    format_args!("cannot sync it after removing stale temporaries"),
                    e,
                )
            })?;
        }
        Ok(startup)
    }

    /// What `name` is to the service (no-follow: a symlink is a symlink).
    pub(super) fn entry(&self, name: &str) -> Result<Entry, StorageError> {
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st)
                if FileType::from_raw_mode(st.st_mode) == FileType::RegularFile
                    && st.st_nlink == 1 =>
            {
                Ok(Entry::File(st.st_size as u64))
            }
            Ok(_) => Ok(Entry::NotServed),
            Err(Errno::NOENT) => Ok(Entry::Absent),
            Err(e) => Err(self.fail(format_args!("cannot stat {name}"), e.into())),
        }
    }

    pub(super) fn uploading(&self) -> MutexGuard<'_, HashSet<String>> {
        self.uploading
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Open `name` for reading if it is a regular file with a single link: `NotFound`
    /// if there is nothing, `NotServed` for anything else. Other entries are not even
    /// opened (opening a device can have effects); the type is checked again on the
    /// open descriptor, so an entry swapped in between is refused too.
    pub(super) fn open_regular(&self, name: &str) -> Result<(File, u64), StorageError> {
        match self.entry(name)? {
            Entry::Absent => return Err(StorageError::NotFound),
            Entry::NotServed => return Err(StorageError::NotServed),
            Entry::File(_) => {}
        }
        let fd = rustix::fs::openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| match e {
            Errno::NOENT => StorageError::NotFound,
            Errno::LOOP | Errno::NXIO => StorageError::NotServed,
            e => self.fail(format_args!("cannot open {name}"), e.into()),
        })?;
        let st = rustix::fs::fstat(&fd)
            .map_err(|e| self.fail(format_args!("cannot stat {name}"), e.into()))?;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile || st.st_nlink != 1 {
            return Err(StorageError::NotServed);
        }
        Ok((File::from(fd), st.st_size as u64))
    }
}

/// An OS error as §3 sees it.
fn storage_error(e: &io::Error) -> StorageError {
    match Errno::from_io_error(e) {
        Some(Errno::NOSPC | Errno::DQUOT) => StorageError::NoSpace,
        Some(Errno::NOENT) => StorageError::NotFound,
        _ => StorageError::Io,
    }
}
