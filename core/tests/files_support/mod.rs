//! A storage fake for the §3 session: files in a shared map, a byte budget to play a full
//! disk, and a driver that answers the session's storage requests inline.

#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use socklab_core::files::{Files, FilesConfig, Scratch, Storage, StorageError, WriteMode, perform};
use socklab_core::side::SideWork;
use socklab_core::{Instant, Session};

/// What every handle of one store shares.
#[derive(Debug, Default)]
pub struct Disk {
    pub files: BTreeMap<String, Vec<u8>>,
    pub uploading: BTreeSet<String>,
    /// Bytes of temporaries in existence.
    pub temp_bytes: usize,
    /// Total bytes the disk holds (files + temporaries); `None`: unlimited.
    pub capacity: Option<usize>,
}

impl Disk {
    fn used(&self) -> usize {
        self.files.values().map(Vec::len).sum::<usize>() + self.temp_bytes
    }
}

/// One session's view of the shared disk.
pub struct MemStore {
    pub disk: Rc<RefCell<Disk>>,
    upload: Option<(String, Vec<u8>)>,
    listing: Vec<(String, u64)>,
    reading: Option<(Vec<u8>, usize)>,
}

impl MemStore {
    pub fn new(disk: Rc<RefCell<Disk>>) -> Self {
        MemStore {
            disk,
            upload: None,
            listing: Vec::new(),
            reading: None,
        }
    }
}

impl Storage for MemStore {
    fn begin_write(&mut self, name: &str, mode: WriteMode) -> Result<u64, StorageError> {
        let mut d = self.disk.borrow_mut();
        if d.uploading.contains(name) {
            return Err(StorageError::Busy);
        }
        let current = d.files.get(name).cloned();
        let start = match (mode, current) {
            (WriteMode::Create, Some(c)) => return Err(StorageError::Exists(c.len() as u64)),
            (WriteMode::Append, Some(c)) => c,
            (WriteMode::Append, None) => return Err(StorageError::NotFound),
            _ => Vec::new(),
        };
        if d.capacity.is_some_and(|cap| d.used() + start.len() > cap) {
            return Err(StorageError::NoSpace);
        }
        d.temp_bytes += start.len();
        d.uploading.insert(name.to_owned());
        let base = start.len() as u64;
        self.upload = Some((name.to_owned(), start));
        Ok(base)
    }

    fn write_chunk(&mut self, data: &[u8]) -> Result<(), StorageError> {
        let (_, buf) = self.upload.as_mut().ok_or(StorageError::Io)?;
        let full = {
            let d = self.disk.borrow();
            d.capacity.is_some_and(|cap| d.used() + data.len() > cap)
        };
        if full {
            self.abort();
            return Err(StorageError::NoSpace);
        }
        buf.extend_from_slice(data);
        self.disk.borrow_mut().temp_bytes += data.len();
        Ok(())
    }

    fn commit(&mut self) -> Result<u64, StorageError> {
        let (name, buf) = self.upload.take().ok_or(StorageError::Io)?;
        let mut d = self.disk.borrow_mut();
        d.temp_bytes -= buf.len();
        d.uploading.remove(&name);
        let size = buf.len() as u64;
        d.files.insert(name, buf);
        Ok(size)
    }

    fn abort(&mut self) {
        if let Some((name, buf)) = self.upload.take() {
            let mut d = self.disk.borrow_mut();
            d.temp_bytes -= buf.len();
            d.uploading.remove(&name);
        }
    }

    fn list_begin(&mut self) -> Result<u64, StorageError> {
        let d = self.disk.borrow();
        // Reversed so that pop() yields names in order.
        self.listing = d
            .files
            .iter()
            .rev()
            .map(|(n, v)| (n.clone(), v.len() as u64))
            .collect();
        Ok(self.listing.len() as u64)
    }

    fn list_next(&mut self, name: &mut [u8; 255]) -> Option<(u64, usize)> {
        let (n, size) = self.listing.pop()?;
        name[..n.len()].copy_from_slice(n.as_bytes());
        Some((size, n.len()))
    }

    fn open_read(&mut self, name: &str) -> Result<u64, StorageError> {
        let d = self.disk.borrow();
        let f = d.files.get(name).ok_or(StorageError::NotFound)?;
        self.reading = Some((f.clone(), 0));
        Ok(f.len() as u64)
    }

    fn read_chunk(&mut self, buf: &mut [u8]) -> Result<usize, StorageError> {
        let (data, pos) = self.reading.as_mut().ok_or(StorageError::Io)?;
        let n = buf.len().min(data.len() - *pos);
        buf[..n].copy_from_slice(&data[*pos..*pos + n]);
        *pos += n;
        Ok(n)
    }

    fn close_read(&mut self) {
        self.reading = None;
    }
}

pub type Server = Files<512>;

/// A session with its store, answering storage requests inline.
pub struct Conn {
    pub session: Server,
    /// The time every call is made at; tests of timeouts move it.
    pub now: Instant,
    pub store: MemStore,
    scratch: Box<Scratch<512>>,
}

impl Conn {
    pub fn new(disk: &Rc<RefCell<Disk>>, config: FilesConfig) -> Self {
        Conn {
            session: Files::new(Instant::ZERO, config),
            now: Instant::ZERO,
            store: MemStore::new(disk.clone()),
            scratch: Box::default(),
        }
    }

    /// Answer every storage request the session has.
    pub fn run_storage(&mut self) {
        while let Some(req) = self.session.poll_request() {
            let reply = perform(&mut self.store, req, &mut self.scratch);
            self.session.handle_reply(self.now, reply);
        }
    }

    /// Feed `input` (offering leftovers again) and return all output.
    pub fn exchange(&mut self, input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = input;
        loop {
            self.run_storage();
            let n = self.session.handle_input(self.now, rest);
            rest = &rest[n..];
            self.run_storage();
            let drained = self.drain(&mut out);
            if rest.is_empty() && drained == 0 && !self.session.wants_output() {
                break;
            }
            if n == 0 && drained == 0 {
                break;
            }
        }
        assert!(rest.is_empty(), "stalled with {} bytes left", rest.len());
        out
    }

    fn drain(&mut self, out: &mut Vec<u8>) -> usize {
        let mut buf = [0u8; 97];
        let mut total = 0;
        loop {
            self.run_storage();
            let n = self.session.poll_output(&mut buf);
            if n == 0 {
                break;
            }
            total += n;
            out.extend_from_slice(&buf[..n]);
        }
        total
    }

    /// The greeting and anything else owed.
    pub fn output(&mut self) -> Vec<u8> {
        self.exchange(b"")
    }

    pub fn eof(&mut self) {
        self.session.handle_eof(self.now);
        self.run_storage();
    }

    /// Move the clock to `ms` (never backwards), firing every timer due on the way as a
    /// frontend would, at the time it asked for. Returns the time the session closed, if
    /// it did.
    pub fn run_to(&mut self, ms: u64) -> Option<Instant> {
        let end = Instant::from_millis(ms);
        for _ in 0..10_000 {
            if self.session.close_reason().is_some() {
                return Some(self.now);
            }
            match self.session.poll_timeout() {
                Some(due) if due <= end => {
                    self.now = self.now.max(due);
                    self.session.handle_timeout(self.now);
                    self.run_storage();
                }
                _ => {
                    self.now = self.now.max(end);
                    return self.session.close_reason().map(|_| self.now);
                }
            }
        }
        panic!("more than 10,000 timers before {ms} ms");
    }

    /// Take at most `n` bytes of output, as a slow reader would.
    pub fn read_some(&mut self, n: usize) -> Vec<u8> {
        let mut buf = vec![0u8; n];
        self.run_storage();
        let got = self.session.poll_output(&mut buf);
        self.run_storage();
        buf.truncate(got);
        buf
    }
}
