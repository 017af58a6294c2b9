//! Where the body goes: standard output, or a file that appears only when complete.
//!
//! `-o FILE` writes to a hidden temporary file beside FILE (same directory, so the final
//! rename cannot cross file systems) and renames it over FILE once the whole body has
//! arrived. A download that fails — short body, timeout, bad chunk, Ctrl-C aside —
//! removes the temporary file, so FILE is either the complete new body or whatever it
//! was before: never half a file that looks like a success.

use crate::os_error::describe;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The body's destination.
pub enum Sink {
    /// Standard output, written as the body arrives.
    Stdout(io::StdoutLock<'static>),
    /// A temporary file renamed to its destination by [`Sink::finish`].
    File(TempFile),
}

/// A file being written under a temporary name; removed on drop unless persisted.
pub struct TempFile {
    file: BufWriter<File>,
    tmp: PathBuf,
    dest: PathBuf,
    done: bool,
}

impl Sink {
    /// Standard output for `None` or `-`, else a temporary file beside `path`.
    pub fn open(path: Option<&Path>) -> Result<Sink, String> {
        match path {
            None => Ok(Sink::Stdout(io::stdout().lock())),
            Some(p) if p.as_os_str() == "-" => Ok(Sink::Stdout(io::stdout().lock())),
            Some(dest) => TempFile::create(dest).map(Sink::File),
        }
    }

    /// Append body bytes.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
        match self {
            Sink::Stdout(out) => out
                .write_all(bytes)
                .map_err(|e| format!("cannot write standard output: {}", describe(&e))),
            Sink::File(f) => f
                .file
                .write_all(bytes)
                .map_err(|e| format!("cannot write {}: {}", f.tmp.display(), describe(&e))),
        }
    }

    /// The body is complete: flush, and put the file in place.
    pub fn finish(self) -> Result<(), String> {
        match self {
            Sink::Stdout(mut out) => out
                .flush()
                .map_err(|e| format!("cannot write standard output: {}", describe(&e))),
            Sink::File(f) => f.persist(),
        }
    }
}

impl TempFile {
    fn create(dest: &Path) -> Result<TempFile, String> {
        let name = dest
            .file_name()
            .ok_or_else(|| format!("cannot write {}: not a file name", dest.display()))?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".socklab-{}.part", std::process::id()));
        let tmp = dest.with_file_name(tmp_name);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| format!("cannot create {}: {}", dest.display(), describe(&e)))?;
        Ok(TempFile {
            file: BufWriter::with_capacity(64 * 1024, file),
            tmp,
            dest: dest.to_owned(),
            done: false,
        })
    }

    fn persist(mut self) -> Result<(), String> {
        self.file
            .flush()
            .map_err(|e| format!("cannot write {}: {}", self.tmp.display(), describe(&e)))?;
        fs::rename(&self.tmp, &self.dest)
            .map_err(|e| format!("cannot write {}: {}", self.dest.display(), describe(&e)))?;
        self.done = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}
