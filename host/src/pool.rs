//! A small pool of worker threads for work that may block: the files service's disk
//! I/O, auth's password hashing (Argon2) and saves, ident's name store.
//!
//! The event loop must never block, so such work goes to the pool as a closure and the
//! loop goes on serving everyone else. The pool knows nothing about results or
//! connections: a job delivers its own result (into a slot the submitter shares with it)
//! and then calls [`Wake::wake`](crate::server::wake::Wake::wake), which makes the loop
//! drive that connection again. Keeping those two concerns apart is what lets every
//! service reuse the pool, through the one adapter
//! [`Pooled`](crate::server::pooled::Pooled).
//!
//! Jobs are taken in submission order from one shared queue. Dropping the pool lets the
//! queued jobs finish and joins the threads, so clean-up jobs (removing a temporary)
//! still run when the server stops.

use std::io;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A fixed set of worker threads.
pub struct Pool {
    queue: Option<Sender<Job>>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("threads", &self.threads.len())
            .finish()
    }
}

impl Pool {
    /// Start `threads` workers (at least one), named `<name>-<i>` for debuggers and `top`.
    pub fn new(name: &str, threads: usize) -> io::Result<Pool> {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let threads = (0..threads.max(1))
            .map(|i| {
                let rx = rx.clone();
                thread::Builder::new()
                    .name(format!("{name}-{i}"))
                    .spawn(move || worker(&rx))
            })
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Pool {
            queue: Some(tx),
            threads,
        })
    }

    /// Run `job` on some worker, soon.
    pub fn spawn(&self, job: impl FnOnce() + Send + 'static) {
        if let Some(q) = &self.queue {
            // Workers only stop once the sender is gone, so this cannot fail while
            // `self` exists; a job that panicked took only its own thread down.
            let _ = q.send(Box::new(job));
        }
    }
}

fn worker(rx: &Mutex<Receiver<Job>>) {
    loop {
        // Hold the lock only to take a job, never while running one.
        let job = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.queue = None;
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn runs_every_job_and_joins() {
        let count = Arc::new(AtomicUsize::new(0));
        let pool = Pool::new("test", 3).unwrap();
        for _ in 0..100 {
            let c = count.clone();
            pool.spawn(move || {
                c.fetch_add(1, Ordering::SeqCst);
            });
        }
        drop(pool);
        assert_eq!(count.load(Ordering::SeqCst), 100);
    }
}
