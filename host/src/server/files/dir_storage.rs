//! [`DirStorage`]: one files session's view of the storage folder, core's [`Storage`]
//! on a [`Dir`].
//!
//! Uploads go to a temporary (see [`temp`]) that is renamed over the name,
//! so writes never land in an existing inode, linked or not. Durability (§3): the
//! temporary is written, `fsync`ed, renamed into place, and the folder is `fsync`ed so
//! the rename itself survives a crash; only then does the session send `OK`. Before the
//! rename the commit checks that the temporary's name still holds the file written (same
//! inode) and that the target is absent or a file the server serves.

use std::fs::File;
use std::io::{self, Read, Write};
use std::sync::Arc;

use rustix::fs::{AtFlags, FileType};
use rustix::io::Errno;
use socklab_core::files::{MAX_NAME, Storage, StorageError, WriteMode, validate_name};

use super::dir::{Dir, Entry};
use super::temp;

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
        let (temp, mut file) =
            temp::create(self.dir.fd(), self.dir.temporaries()).map_err(|e| {
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
                        let _ =
                            rustix::fs::unlinkat(self.dir.fd(), temp.as_str(), AtFlags::empty());
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
                let _ = rustix::fs::unlinkat(self.dir.fd(), temp.as_str(), AtFlags::empty());
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
                let t = temp::name_unnamed(dir.fd(), &up.file)
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
        match rustix::fs::statat(dir.fd(), temp.as_str(), AtFlags::SYMLINK_NOFOLLOW) {
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
        rustix::fs::renameat(dir.fd(), temp.as_str(), dir.fd(), name.as_str())
            .map_err(|e| fail("cannot store", e.into()))?;
        let size = up.size;
        self.upload = None;
        dir.uploading().remove(&name);
        // The rename is durable only once the folder itself is synced.
        rustix::fs::fsync(dir.fd())
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
        let dir = rustix::fs::Dir::read_from(self.dir.fd()).map_err(fail)?;
        for entry in dir {
            let entry = entry.map_err(fail)?;
            let Ok(name) = entry.file_name().to_str() else {
                continue;
            };
            if validate_name(name).is_err() {
                continue;
            }
            let Ok(st) = rustix::fs::statat(self.dir.fd(), name, AtFlags::SYMLINK_NOFOLLOW) else {
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
