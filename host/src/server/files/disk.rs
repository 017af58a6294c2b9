//! [`Disk`]: what runs a files session's storage requests on the worker pool, for
//! [`Pooled`](crate::server::pooled::Pooled).
//!
//! One per connection: its view of the folder ([`DirStorage`]) and the buffers a
//! request's bytes travel in. A request is copied into an owned [`Job`] on the loop (a
//! chunk to write goes into the disk's own buffer), run on a pool thread, and its reply
//! keeps its bytes (a read chunk, a listing name) in the disk until the session took
//! them.

use socklab_core::files::{Files, Reply, Request, Scratch, StorageError, WriteMode, perform};

use super::dir_storage::DirStorage;
use crate::server::pooled::Worker;

/// Payload chunk: one socket read, one disk write, one disk read.
pub const CHUNK: usize = 64 * 1024;

/// One connection's storage, travelling to a worker with each request and back.
#[derive(Debug)]
pub struct Disk {
    store: DirStorage,
    /// Read data: allocated by a download's first chunk, freed when it ends.
    scratch: Option<Box<Scratch<CHUNK>>>,
    /// Listing entries' names (a scratch space without data room).
    names: Scratch<0>,
    /// The chunk of a write request, copied out of the core session; freed when the
    /// upload is committed or aborted.
    write_buf: Vec<u8>,
    /// Extra time each chunk write takes (`--io-delay`, for tests of a slow disk).
    delay: std::time::Duration,
}

impl Disk {
    /// Run requests on `store`, each chunk write taking `delay` longer.
    pub fn new(store: DirStorage, delay: std::time::Duration) -> Self {
        Disk {
            store,
            scratch: None,
            names: Scratch::new(),
            write_buf: Vec::new(),
            delay,
        }
    }
}

/// A storage request in owned form.
#[derive(Debug)]
pub enum Job {
    Begin(String, WriteMode),
    Write,
    Commit,
    Abort,
    ListBegin,
    ListNext,
    Open(String),
    Read(usize),
    CloseRead,
}

/// A reply whose bytes stay in the disk's scratch space.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    Done,
    Size(u64),
    Entry(u64, usize),
    End,
    Data(usize),
    Failed(StorageError),
}

impl Worker<Files<CHUNK>> for Disk {
    type Job = Job;
    type Outcome = Outcome;

    fn job(&mut self, request: Request<'_>) -> Job {
        match request {
            Request::BeginWrite { name, mode } => Job::Begin(name.to_owned(), mode),
            Request::Write(data) => {
                self.write_buf.clear();
                self.write_buf.extend_from_slice(data);
                Job::Write
            }
            Request::Commit => Job::Commit,
            Request::Abort => Job::Abort,
            Request::ListBegin => Job::ListBegin,
            Request::ListNext => Job::ListNext,
            Request::OpenRead(name) => Job::Open(name.to_owned()),
            Request::Read(n) => Job::Read(n),
            Request::CloseRead => Job::CloseRead,
        }
    }

    fn run(&mut self, job: Job) -> Outcome {
        if matches!(job, Job::Write) && !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
        let req = match &job {
            Job::Begin(name, mode) => Request::BeginWrite { name, mode: *mode },
            Job::Write => Request::Write(&self.write_buf),
            Job::Commit => Request::Commit,
            Job::Abort => Request::Abort,
            Job::ListBegin => Request::ListBegin,
            Job::ListNext => Request::ListNext,
            Job::Open(name) => Request::OpenRead(name),
            Job::Read(n) => Request::Read(*n),
            Job::CloseRead => Request::CloseRead,
        };
        // Only a download's data needs the 64 KiB scratch space; names fit the small one
        // and the other requests leave scratch space alone.
        let outcome = match job {
            Job::Read(_) => {
                let scratch = self.scratch.get_or_insert_with(Box::default);
                outcome(perform(&mut self.store, req, scratch))
            }
            _ => outcome(perform(&mut self.store, req, &mut self.names)),
        };
        // A download is over, an upload stored or given up: its buffer goes, so an idle
        // connection holds none (docs/DESIGN.md, "Files", says what keeping them cost).
        match job {
            Job::CloseRead => self.scratch = None,
            Job::Commit | Job::Abort => self.write_buf = Vec::new(),
            _ => {}
        }
        outcome
    }

    fn reply(&self, outcome: Outcome) -> Reply<'_> {
        let scratch = self.scratch.as_deref();
        match outcome {
            Outcome::Done => Reply::Done,
            Outcome::Size(n) => Reply::Size(n),
            Outcome::Entry(size, len) => Reply::Entry {
                size,
                name: &self.names.name[..len],
            },
            Outcome::End => Reply::End,
            Outcome::Data(len) => Reply::Data(scratch.map_or(&[][..], |s| &s.data[..len])),
            Outcome::Failed(e) => Reply::Failed(e),
        }
    }
}

/// A reply without the bytes it borrows from scratch space.
fn outcome(reply: Reply<'_>) -> Outcome {
    match reply {
        Reply::Done => Outcome::Done,
        Reply::Size(n) => Outcome::Size(n),
        Reply::Entry { size, name } => Outcome::Entry(size, name.len()),
        Reply::End => Outcome::End,
        Reply::Data(d) => Outcome::Data(d.len()),
        Reply::Failed(e) => Outcome::Failed(e),
    }
}
