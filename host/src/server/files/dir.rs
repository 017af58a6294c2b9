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
//! (§3): LIST and GET skip it, a PUT to its name gets `ERR bad-name`. Uploads go to a
//! temporary that is renamed over the name, so writes never land in an existing inode,
//! linked or not.
//!
//! Temporaries have no name while they are written: `O_TMPFILE` creates an unnamed
//! file in the folder, so nothing can be planted where it will be, or swapped for a
//! symlink under it. Where the filesystem lacks `O_TMPFILE` (checked once at start), a
//! temporary gets a random dot-name (128 bits from the OS RNG) created
//! `O_EXCL | O_NOFOLLOW`, retried on a collision. The commit gives an unnamed temporary
//! a random name (`linkat` of `/proc/self/fd/N`, or `AT_EMPTY_PATH`), checks that the
//! name still holds the file written (same inode) and that the target is absent or a
//! file the server serves, and renames it over the target.
//!
//! Durability (§3): the temporary is written, `fsync`ed, renamed into place, and the
//! folder is `fsync`ed so the rename itself survives a crash; only then does the session
//! send `OK`. Named temporaries are dot-files (`.socklab-upload-*`), which no valid name
//! can be, so they are never listed or served; stale ones (regular files only) are
//! removed at start, and anything else of that name is left alone and logged.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::os::fd::{AsFd, AsRawFd};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;
use socklab_core::files::{MAX_NAME, Storage, StorageError, WriteMode, validate_name};

use crate::log::Logger;

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
enum Entry {
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
        format!("{what}: {}", crate::server::listener::describe(&e)),
    )
}

/// A fresh unguessable temporary name.
fn random_temp_name() -> io::Result<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| io::Error::other(format!("no OS randomness: {e}")))?;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!("{TEMP_PREFIX}{hex}"))
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
    fn fail(&self, what: std::fmt::Arguments<'_>, e: io::Error) -> StorageError {
        let err = storage_error(&e);
        if matches!(err, StorageError::Io | StorageError::NoSpace) {
            let why = crate::server::listener::describe(&e);
            let what = format_args!("{what}: {why}");
            self.log.error("files", crate::log::Pid, what);
        }
        err
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
                        Err(e) => format!(
                            "cannot remove it: {}",
                            crate::server::listener::describe(&e.into())
                        ),
                    }
                }
                Ok(st) => format!("{}, not an upload temporary", kind_of(&st)),
                Err(Errno::NOENT) => continue,
                Err(e) => format!(
                    "cannot look at it: {}",
                    crate::server::listener::describe(&e.into())
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
    fn entry(&self, name: &str) -> Result<Entry, StorageError> {
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

    fn uploading(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.uploading
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Open `name` for reading if it is a regular file with a single link: `NotFound`
    /// if there is nothing, `NotServed` for anything else. Other entries are not even
    /// opened (opening a device can have effects); the type is checked again on the
    /// open descriptor, so an entry swapped in between is refused too.
    fn open_regular(&self, name: &str) -> Result<(File, u64), StorageError> {
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

    /// Create a named temporary: a random dot-name, `O_EXCL | O_NOFOLLOW`, so nothing
    /// planted under any name is opened; a taken name is retried with another.
    fn create_named(&self) -> io::Result<(String, File)> {
        for _ in 0..TEMP_NAME_TRIES {
            let temp = random_temp_name()?;
            match rustix::fs::openat(
                &self.fd,
                temp.as_str(),
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o644),
            ) {
                Ok(fd) => return Ok((temp, File::from(fd))),
                Err(Errno::EXIST) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(io::Error::other(format!(
            "{TEMP_NAME_TRIES} random temporary names were all taken"
        )))
    }

    /// Give an unnamed temporary a random name in the folder (the first step of its
    /// commit); a taken name is retried with another.
    fn link_unnamed(&self, file: &File) -> io::Result<String> {
        for _ in 0..TEMP_NAME_TRIES {
            let temp = random_temp_name()?;
            match link_fd(file, &self.fd, &temp) {
                Ok(()) => return Ok(temp),
                Err(Errno::EXIST) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(io::Error::other(format!(
            "{TEMP_NAME_TRIES} random temporary names were all taken"
        )))
    }
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
fn unnamed_temporaries_work(dir: &OwnedFd) -> bool {
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
    /// The temporary's name in the folder: `None` while an unnamed one is written.
    temp: Option<String>,
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

    fn create_temp(&self) -> io::Result<(Option<String>, File)> {
        if self.dir.temporaries == Temporaries::Unnamed {
            let fd = rustix::fs::openat(
                &self.dir.fd,
                ".",
                OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o644),
            )?;
            return Ok((None, File::from(fd)));
        }
        let (temp, file) = self.dir.create_named()?;
        Ok((Some(temp), file))
    }

    fn start(&mut self, name: &str, mode: WriteMode) -> Result<Upload, StorageError> {
        let source = match (mode, self.dir.entry(name)?) {
            // Links, folders, FIFOs, devices are not ours to read or replace (§3).
            (_, Entry::NotServed) => return Err(StorageError::NotServed),
            (WriteMode::Create, Entry::File(size)) => return Err(StorageError::Exists(size)),
            (WriteMode::Create | WriteMode::Overwrite, _) => None,
            // A file that vanished since EXISTS is appended to as an empty one.
            (WriteMode::Append, _) => match self.dir.open_regular(name) {
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
                    if let Some(temp) = &temp {
                        let _ = rustix::fs::unlinkat(&self.dir.fd, temp.as_str(), AtFlags::empty());
                    }
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
            if let Some(temp) = &up.temp {
                let _ = rustix::fs::unlinkat(&self.dir.fd, temp.as_str(), AtFlags::empty());
            }
            self.dir.uploading().remove(&up.name);
        }
    }

    /// Make the open upload durable under its name. On failure the caller removes the
    /// temporary (and its name, if it got one).
    fn finish(&mut self) -> Result<u64, StorageError> {
        let dir = self.dir.clone();
        let Some(up) = &mut self.upload else {
            return Err(StorageError::Io);
        };
        let name = up.name.clone();
        let fail = |what: &str, e: io::Error| dir.fail(format_args!("{what} {name}"), e);
        up.file.flush().map_err(|e| fail("cannot store", e))?;
        up.file.sync_all().map_err(|e| fail("cannot store", e))?;
        let temp = match &up.temp {
            Some(t) => t.clone(),
            None => {
                let t = dir
                    .link_unnamed(&up.file)
                    .map_err(|e| fail("cannot name the upload of", e))?;
                up.temp = Some(t.clone());
                t
            }
        };
        // The temporary's name is in the folder, where anyone who can write there could
        // swap it for something else; only the file written may be renamed over the
        // target. (A named temporary's name is random, so finding it takes reading the
        // folder at the right moment.)
        let ours =
            rustix::fs::fstat(&up.file).map_err(|e| fail("cannot stat the upload of", e.into()))?;
        match rustix::fs::statat(&dir.fd, temp.as_str(), AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) if st.st_dev == ours.st_dev && st.st_ino == ours.st_ino => {}
            _ => {
                // Not ours any more: leave that entry alone.
                up.temp = None;
                let e = io::Error::other(format!("its temporary {temp} was replaced"));
                return Err(fail("refused to store", e));
            }
        }
        if dir.entry(&name)? == Entry::NotServed {
            return Err(StorageError::NotServed);
        }
        rustix::fs::renameat(&dir.fd, temp.as_str(), &dir.fd, name.as_str())
            .map_err(|e| fail("cannot store", e.into()))?;
        let size = up.size;
        self.upload = None;
        dir.uploading().remove(&name);
        // The rename is durable only once the folder itself is synced.
        rustix::fs::fsync(&dir.fd)
            .map_err(|e| fail("cannot sync the folder after storing", e.into()))?;
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
        self.finish().inspect_err(|_| self.remove_temp())
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
        // An entry the server does not serve is, to a client, no file at all.
        let (file, size) = self.dir.open_regular(name).map_err(|e| match e {
            StorageError::NotServed => StorageError::NotFound,
            e => e,
        })?;
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
