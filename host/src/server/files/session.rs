//! The core [`Files`] session with its storage requests run on the worker pool.
//!
//! [`PooledFiles`] is what the event loop sees: an ordinary [`Session`]. Around every
//! call it moves storage work along: a request the core emits is copied into an owned
//! [`Job`], sent to the pool together with this connection's [`Handle`] (the storage
//! view and its buffers travel with the job, so no lock guards them), and the loop goes
//! on. The worker leaves the handle and the outcome in a shared slot and wakes the loop,
//! which drives the connection; the next call on this session finds the slot full and
//! hands the reply to the core. At most one job per connection is in flight, as the
//! core asks.
//!
//! If the connection goes away while a job runs, the slot is marked abandoned and the
//! worker drops the handle itself — dropping a [`DirStorage`] with an upload open
//! removes the temporary — so the loop never waits for a disk.

use std::sync::{Arc, Mutex, PoisonError};

use socklab_core::Instant;
use socklab_core::files::{
    Files, FilesConfig, Reply, Request, Scratch, StorageError, WriteMode, perform,
};
use socklab_core::session::{CloseReason, Event, Session, Work};

use super::dir::DirStorage;
use crate::pool::Pool;
use crate::server::wake::Wake;

/// Payload chunk: one socket read, one disk write, one disk read.
pub const CHUNK: usize = 64 * 1024;

/// What travels to a worker and back.
#[derive(Debug)]
pub struct Handle {
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

/// A storage request in owned form.
#[derive(Debug)]
enum Job {
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

/// A reply whose bytes stay in the handle's scratch space.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    Done,
    Size(u64),
    Entry(u64, usize),
    End,
    Data(usize),
    Failed(StorageError),
}

impl Handle {
    fn run(&mut self, job: &Job) -> Outcome {
        if matches!(job, Job::Write) && !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
        let req = match job {
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
        // connection holds none (FUZZING.md, bug 6).
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

/// The slot a worker fills.
#[derive(Debug, Default)]
struct Slot {
    done: Option<(Box<Handle>, Outcome)>,
    abandoned: bool,
}

/// A files session whose storage runs on the pool.
#[derive(Debug)]
pub struct PooledFiles {
    core: Box<Files<CHUNK>>,
    /// `None` while a job has it.
    handle: Option<Box<Handle>>,
    slot: Arc<Mutex<Slot>>,
    pool: Arc<Pool>,
    wake: Wake,
}

impl PooledFiles {
    /// A session at `now` on `store`, running storage jobs on `pool`.
    pub fn new(
        now: Instant,
        config: FilesConfig,
        store: DirStorage,
        pool: Arc<Pool>,
        wake: Wake,
        delay: std::time::Duration,
    ) -> Self {
        PooledFiles {
            core: Box::new(Files::new(now, config)),
            handle: Some(Box::new(Handle {
                store,
                scratch: None,
                names: Scratch::new(),
                write_buf: Vec::new(),
                delay,
            })),
            slot: Arc::default(),
            pool,
            wake,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Deliver finished work to the core and start the next job, if any.
    fn step(&mut self) {
        loop {
            if self.handle.is_none() {
                let Some((handle, outcome)) = self.lock().done.take() else {
                    return; // still running
                };
                self.core.handle_storage(handle.reply(outcome));
                self.handle = Some(handle);
            }
            let handle = self.handle.as_mut().expect("handle is home");
            let Some(req) = self.core.poll_storage() else {
                return;
            };
            let job = match req {
                Request::BeginWrite { name, mode } => Job::Begin(name.to_owned(), mode),
                Request::Write(data) => {
                    handle.write_buf.clear();
                    handle.write_buf.extend_from_slice(data);
                    Job::Write
                }
                Request::Commit => Job::Commit,
                Request::Abort => Job::Abort,
                Request::ListBegin => Job::ListBegin,
                Request::ListNext => Job::ListNext,
                Request::OpenRead(name) => Job::Open(name.to_owned()),
                Request::Read(n) => Job::Read(n),
                Request::CloseRead => Job::CloseRead,
            };
            let mut handle = self.handle.take().expect("handle is home");
            let slot = self.slot.clone();
            let wake = self.wake.clone();
            self.pool.spawn(move || {
                let outcome = handle.run(&job);
                let mut s = slot.lock().unwrap_or_else(PoisonError::into_inner);
                if s.abandoned {
                    drop(s);
                    drop(handle); // removes a temporary still open
                } else {
                    s.done = Some((handle, outcome));
                    drop(s);
                    wake.wake();
                }
            });
        }
    }
}

impl Session for PooledFiles {
    fn handle_input(&mut self, now: Instant, input: &[u8]) -> usize {
        self.step();
        let n = self.core.handle_input(now, input);
        self.step();
        n
    }

    fn handle_eof(&mut self, now: Instant) {
        self.step();
        self.core.handle_eof(now);
        self.step();
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.step();
        self.core.handle_timeout(now);
        self.step();
    }

    fn poll_output(&mut self, buf: &mut [u8]) -> usize {
        self.step();
        let n = self.core.poll_output(buf);
        self.step();
        n
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.core.poll_timeout()
    }

    fn poll_event(&mut self) -> Option<Event> {
        None
    }

    fn close_reason(&self) -> Option<CloseReason> {
        self.core.close_reason()
    }

    fn wants_output(&self) -> bool {
        self.core.wants_output()
    }

    fn in_flight(&self) -> Option<Work<'_>> {
        self.core.in_flight()
    }

    fn handle_stop(&mut self, now: Instant) {
        self.step();
        self.core.handle_stop(now);
        self.step();
    }
}

impl Drop for PooledFiles {
    fn drop(&mut self) {
        // A handle at home is dropped on a worker (unlinking a temporary is disk work);
        // one out on a job is dropped by that job.
        let handle = self.handle.take().or_else(|| {
            let mut s = self.lock();
            s.abandoned = true;
            s.done.take().map(|(h, _)| h)
        });
        if let Some(h) = handle {
            self.pool.spawn(move || drop(h));
        }
    }
}
