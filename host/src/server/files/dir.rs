//! The storage folder of `serve files`, confined by a directory handle.
//!
//! Every operation is an `*at` call on the file descriptor of `--dir`, opened once at
//! start, with a single path component: the core already refused names with `/`, `\`,
//! a leading dot or control bytes, and here nothing ever joins strings into paths.
//! Opens use `O_NOFOLLOW` (a symlink planted in the folder is refused, not followed) and
//! `O_NONBLOCK` (a planted FIFO cannot hang a worker); the type and link count are then
//! checked on the open descriptor itself (`fstat`), so swapping an entry between a check
//! and a use changes nothing. Only regular files with one link are served: a hard link
//! could make a file outside the folder readable through a name inside it. Uploads go to
//! a temporary that is renamed over the name, so writes never land in an existing inode,
//! linked or not.
//!
//! Durability (§3): the temporary is written, `fsync`ed, renamed into place, and the
//! folder is `fsync`ed so the rename itself survives a crash; only then does the session
//! send `OK`. Temporaries are dot-files (`.socklab-upload-*`), which no valid name can
//! be, so they are never listed or served; stale ones are removed at start.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;
use socklab_core::files::{MAX_NAME, Storage, StorageError, WriteMode, validate_name};

use crate::log::Logger;

/// Prefix of upload temporaries; starts with a dot, so it can never be a valid name.
pub const TEMP_PREFIX: &str = ".socklab-upload-";

/// The folder, shared by every connection.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    path: PathBuf,
    /// Names with an upload in progress (`ERR busy` for a second writer).
    uploading: Mutex<HashSet<String>>,
    next_temp: AtomicU64,
    /// Where storage failures are reported: the client only sees `ERR io`, the person
    /// running the server needs the OS's reason.
    log: OnceLock<Logger>,
}

impl Dir {
    /// Open (creating it if missing) the folder at `path` and remove stale temporaries;
    /// returns the folder and how many temporaries were removed.
    pub fn open(path: &Path) -> io::Result<(Arc<Dir>, usize)> {
        std::fs::create_dir_all(path)?;
        let fd = rustix::fs::open(
            path,
            OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let dir = Dir {
            fd,
            path: path.to_owned(),
            uploading: Mutex::new(HashSet::new()),
            next_temp: AtomicU64::new(0),
            log: OnceLock::new(),
        };
        let removed = dir.remove_stale()?;
        Ok((Arc::new(dir), removed))
    }

    /// Report storage failures (`ERR io`, `ERR no-space`) to `log` from now on.
    pub fn set_logger(&self, log: Logger) {
        let _ = self.log.set(log);
    }

    /// An OS error as §3 sees it, logged when it is the server's problem.
    fn fail(&self, what: std::fmt::Arguments<'_>, e: io::Error) -> StorageError {
        let err = storage_error(&e);
        if matches!(err, StorageError::Io | StorageError::NoSpace) {
            if let Some(log) = self.log.get() {
                let why = crate::server::listener::describe(&e);
                log.error("files", crate::server::Pid, format_args!("{what}: {why}"));
            }
        }
        err
    }

    /// The folder as given on the command line, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn remove_stale(&self) -> io::Result<usize> {
        let mut removed = 0;
        for entry in rustix::fs::Dir::read_from(&self.fd)? {
            let entry = entry?;
            let name = entry.file_name().to_bytes();
            if name.starts_with(TEMP_PREFIX.as_bytes()) {
                rustix::fs::unlinkat(&self.fd, entry.file_name(), AtFlags::empty())?;
                removed += 1;
            }
        }
        if removed > 0 {
            rustix::fs::fsync(&self.fd)?;
        }
        Ok(removed)
    }

    fn uploading(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.uploading
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Open `name` for reading if it is a regular file with a single link.
    fn open_regular(&self, name: &str) -> Result<(File, u64), StorageError> {
        let fd = rustix::fs::openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| match e {
            Errno::NOENT | Errno::LOOP | Errno::NXIO => StorageError::NotFound,
            e => self.fail(format_args!("cannot open {name}"), e.into()),
        })?;
        let st = rustix::fs::fstat(&fd)
            .map_err(|e| self.fail(format_args!("cannot stat {name}"), e.into()))?;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile || st.st_nlink != 1 {
            return Err(StorageError::NotFound);
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

#[derive(Debug)]
struct Upload {
    name: String,
    temp: String,
    file: File,
    size: u64,
}

/// One session's view of the folder: its open upload, download and listing snapshot.
/// Dropping it with an upload open removes the temporary and frees the name.
#[derive(Debug)]
pub struct DirStorage {
    dir: Arc<Dir>,
    upload: Option<Upload>,
    reading: Option<File>,
    listing: std::vec::IntoIter<(String, u64)>,
}

impl DirStorage {
    /// A fresh view of `dir`.
    pub fn new(dir: Arc<Dir>) -> Self {
        DirStorage {
            dir,
            upload: None,
            reading: None,
            listing: Vec::new().into_iter(),
        }
    }

    fn create_temp(&self) -> io::Result<(String, File)> {
        let n = self.dir.next_temp.fetch_add(1, Ordering::Relaxed);
        let temp = format!("{TEMP_PREFIX}{}-{n}", std::process::id());
        let fd = rustix::fs::openat(
            &self.dir.fd,
            temp.as_str(),
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )?;
        Ok((temp, File::from(fd)))
    }

    fn start(&mut self, name: &str, mode: WriteMode) -> Result<Upload, StorageError> {
        let source = match mode {
            WriteMode::Create => {
                match rustix::fs::statat(&self.dir.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
                    Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::RegularFile => {
                        return Err(StorageError::Exists(st.st_size as u64));
                    }
                    // A symlink, folder or device under that name is not ours to replace.
                    Ok(_) => return Err(StorageError::Io),
                    Err(Errno::NOENT) => None,
                    Err(e) => {
                        return Err(self.dir.fail(format_args!("cannot stat {name}"), e.into()));
                    }
                }
            }
            WriteMode::Overwrite => None,
            // A file that vanished since EXISTS is appended to as an empty one.
            WriteMode::Append => match self.dir.open_regular(name) {
                Ok((file, _)) => Some(file),
                Err(StorageError::NotFound) => None,
                Err(e) => return Err(e),
            },
        };
        let (temp, mut file) = self.create_temp().map_err(|e| {
            self.dir
                .fail(format_args!("cannot create a temporary for {name}"), e)
        })?;
        let mut size = 0;
        if let Some(mut src) = source {
            // copy_file_range where the kernel has it: no trip through user space.
            match io::copy(&mut src, &mut file) {
                Ok(n) => size = n,
                Err(e) => {
                    let _ = rustix::fs::unlinkat(&self.dir.fd, temp.as_str(), AtFlags::empty());
                    return Err(self
                        .dir
                        .fail(format_args!("cannot copy {name} to append to it"), e));
                }
            }
        }
        let upload = Upload {
            name: name.to_owned(),
            temp,
            file,
            size,
        };
        Ok(upload)
    }

    fn remove_temp(&mut self) {
        if let Some(up) = self.upload.take() {
            let _ = rustix::fs::unlinkat(&self.dir.fd, up.temp.as_str(), AtFlags::empty());
            self.dir.uploading().remove(&up.name);
        }
    }

    fn finish(&mut self) -> io::Result<u64> {
        let Some(up) = &mut self.upload else {
            return Err(io::Error::other("no upload open"));
        };
        up.file.flush()?;
        up.file.sync_all()?;
        rustix::fs::renameat(
            &self.dir.fd,
            up.temp.as_str(),
            &self.dir.fd,
            up.name.as_str(),
        )?;
        let size = up.size;
        let name = std::mem::take(&mut up.name);
        self.upload = None;
        self.dir.uploading().remove(&name);
        // The rename is durable only once the folder itself is synced.
        rustix::fs::fsync(&self.dir.fd)?;
        Ok(size)
    }
}

impl Storage for DirStorage {
    fn begin_write(&mut self, name: &str, mode: WriteMode) -> Result<u64, StorageError> {
        // The session only asks for valid names; checking again costs nothing.
        validate_name(name).map_err(|_| StorageError::Io)?;
        self.remove_temp();
        if !self.dir.uploading().insert(name.to_owned()) {
            return Err(StorageError::Busy);
        }
        match self.start(name, mode) {
            Ok(up) => {
                let size = up.size;
                self.upload = Some(up);
                Ok(size)
            }
            Err(e) => {
                self.dir.uploading().remove(name);
                Err(e)
            }
        }
    }

    fn write_chunk(&mut self, data: &[u8]) -> Result<(), StorageError> {
        let up = self.upload.as_mut().ok_or(StorageError::Io)?;
        match up.file.write_all(data) {
            Ok(()) => {
                up.size += data.len() as u64;
                Ok(())
            }
            Err(e) => {
                let what = format_args!("cannot write the upload of {}", up.name);
                let err = self.dir.fail(what, e);
                self.remove_temp();
                Err(err)
            }
        }
    }

    fn commit(&mut self) -> Result<u64, StorageError> {
        self.finish().map_err(|e| {
            let name = self.upload.as_ref().map_or("", |u| u.name.as_str());
            let err = self.dir.fail(format_args!("cannot store {name}"), e);
            self.remove_temp();
            err
        })
    }

    fn abort(&mut self) {
        self.remove_temp();
    }

    fn list_begin(&mut self) -> Result<u64, StorageError> {
        let mut entries = Vec::new();
        let fail = |e: Errno| {
            self.dir
                .fail(format_args!("cannot list the folder"), e.into())
        };
        let dir = rustix::fs::Dir::read_from(&self.dir.fd).map_err(fail)?;
        for entry in dir {
            let entry = entry.map_err(fail)?;
            let Ok(name) = entry.file_name().to_str() else {
                continue;
            };
            if validate_name(name).is_err() {
                continue;
            }
            let Ok(st) = rustix::fs::statat(&self.dir.fd, name, AtFlags::SYMLINK_NOFOLLOW) else {
                continue;
            };
            if FileType::from_raw_mode(st.st_mode) == FileType::RegularFile && st.st_nlink == 1 {
                entries.push((name.to_owned(), st.st_size as u64));
            }
        }
        entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let n = entries.len() as u64;
        self.listing = entries.into_iter();
        Ok(n)
    }

    fn list_next(&mut self, name: &mut [u8; MAX_NAME]) -> Option<(u64, usize)> {
        let (n, size) = self.listing.next()?;
        if self.listing.len() == 0 {
            // The last entry: the listing's buffer (32 bytes an entry) goes now, not
            // with the connection or its next LIST.
            self.listing = Vec::new().into_iter();
        }
        name[..n.len()].copy_from_slice(n.as_bytes());
        Some((size, n.len()))
    }

    fn open_read(&mut self, name: &str) -> Result<u64, StorageError> {
        validate_name(name).map_err(|_| StorageError::NotFound)?;
        let (file, size) = self.dir.open_regular(name)?;
        self.reading = Some(file);
        Ok(size)
    }

    fn read_chunk(&mut self, buf: &mut [u8]) -> Result<usize, StorageError> {
        let file = self.reading.as_mut().ok_or(StorageError::Io)?;
        loop {
            match file.read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.dir.fail(format_args!("cannot read a download"), e)),
            }
        }
    }

    fn close_read(&mut self) {
        self.reading = None;
    }
}

impl Drop for DirStorage {
    fn drop(&mut self) {
        self.remove_temp();
    }
}
