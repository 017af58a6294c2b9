//! [`Pooled`]: any core [`SideWork`] session with its requests run on the worker
//! [`Pool`], as the plain [`Session`](socklab_core::Session) the event loop drives: core's
//! one [`Adapter`] with the [`OnPool`] runner.
//!
//! Around every call the loop makes, the adapter has the runner move side work along, in
//! one order for every service: before and after the call, deliver a finished reply to
//! the session, then start the next request it hands out. A request is turned into an
//! owned job by the service's [`Worker`] (the only part a service writes), and the worker
//! itself travels to a pool thread with the job: it holds this connection's view of the
//! backend (a storage folder handle, a login, a name table) and its buffers, so no lock
//! guards them. The job leaves the worker and its outcome in a shared slot and wakes the
//! loop, which drives the connection; the next call hands the reply to the session. At
//! most one job per connection is out, as [`SideWork`] promises.
//!
//! A request the worker calls cheap (a table lookup) is answered on the loop at once, so
//! it never waits in the pool's queue behind other people's slow jobs.
//!
//! If the connection goes away while a job runs, the slot is marked abandoned and the job
//! drops the worker itself; a worker at home is dropped on the pool too. Either way the
//! loop never waits for a disk (dropping a files worker with an upload open removes its
//! temporary).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use socklab_core::Instant;
use socklab_core::side::{Adapter, Runner, SideWork};

use super::wake::Wake;
use crate::pool::Pool;

/// What a service supplies to run its session's requests on the pool: how to copy a
/// request into a job, run the job, and turn its outcome into the session's reply.
pub trait Worker<S: SideWork>: Send + 'static {
    /// A request in owned form, to travel to a pool thread.
    type Job: Send + 'static;
    /// A job's result, its bytes (if any) kept in the worker.
    type Outcome: Send + 'static;

    /// Copy `request` into a job. Runs on the loop, with the worker at home (bulk bytes
    /// can go into the worker's own buffers instead of the job).
    fn job(&mut self, request: S::Request<'_>) -> Self::Job;

    /// Whether `job` is cheap enough to run on the loop at once.
    fn is_cheap(&self, job: &Self::Job) -> bool {
        let _ = job;
        false
    }

    /// Run `job`, on a pool thread unless it is cheap.
    fn run(&mut self, job: Self::Job) -> Self::Outcome;

    /// The session's reply for `outcome`, borrowing its bytes from the worker.
    fn reply(&self, outcome: Self::Outcome) -> S::Reply<'_>;

    /// The session has taken the reply: forget what it borrowed (auth wipes a token).
    fn delivered(&mut self) {}
}

/// The slot a job fills.
struct Slot<W, O> {
    done: Option<(Box<W>, O)>,
    /// The session was dropped while the job ran: the job drops the worker itself.
    abandoned: bool,
}

/// The [`Runner`] that puts a session's requests on the pool through its [`Worker`].
pub struct OnPool<S: SideWork, W: Worker<S>> {
    /// `None` while a job has it.
    worker: Option<Box<W>>,
    slot: Arc<Mutex<Slot<W, W::Outcome>>>,
    pool: Arc<Pool>,
    wake: Wake,
    /// The latest time the loop told us: a reply that arrives through a wake-up is dated
    /// by it, so a connection moved to another loop never sees time go back.
    now: Instant,
}

/// A [`SideWork`] session whose requests run on the pool, as a service's `open` returns
/// it for the loop: `Pooled::new(now, session, OnPool::new(worker, pool, wake))`.
pub type Pooled<S, W> = Adapter<S, OnPool<S, W>>;

impl<S: SideWork, W: Worker<S>> std::fmt::Debug for OnPool<S, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnPool")
            .field("job_out", &self.worker.is_none())
            .field("wake", &self.wake)
            .finish()
    }
}

impl<S: SideWork, W: Worker<S>> OnPool<S, W> {
    /// Run requests through `worker` on `pool`; `wake` drives the connection again when
    /// a job is done.
    pub fn new(worker: W, pool: Arc<Pool>, wake: Wake) -> Self {
        OnPool {
            worker: Some(Box::new(worker)),
            slot: Arc::new(Mutex::new(Slot {
                done: None,
                abandoned: false,
            })),
            pool,
            wake,
            now: Instant::ZERO,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Slot<W, W::Outcome>> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn deliver(&mut self, session: &mut S, now: Instant, mut worker: Box<W>, outcome: W::Outcome) {
        session.handle_reply(now, worker.reply(outcome));
        worker.delivered();
        self.worker = Some(worker);
    }
}

impl<S: SideWork, W: Worker<S>> Runner<S> for OnPool<S, W> {
    /// Deliver finished work to the session and start the next job, if any.
    fn after(&mut self, session: &mut S, now: Instant) {
        self.now = self.now.max(now);
        let now = self.now;
        loop {
            if self.worker.is_none() {
                let Some((worker, outcome)) = self.lock().done.take() else {
                    return; // still running
                };
                self.deliver(session, now, worker, outcome);
            }
            let Some(request) = session.poll_request() else {
                return;
            };
            let mut worker = self.worker.take().expect("the worker is home");
            let job = worker.job(request);
            if worker.is_cheap(&job) {
                let outcome = worker.run(job);
                self.deliver(session, now, worker, outcome);
                continue;
            }
            let (slot, wake) = (self.slot.clone(), self.wake.clone());
            self.pool.spawn(move || {
                let outcome = worker.run(job);
                let mut s = slot.lock().unwrap_or_else(PoisonError::into_inner);
                if s.abandoned {
                    drop(s);
                    drop(worker); // removes a temporary still open
                } else {
                    s.done = Some((worker, outcome));
                    drop(s);
                    wake.wake();
                }
            });
        }
    }
}

impl<S: SideWork, W: Worker<S>> Drop for OnPool<S, W> {
    fn drop(&mut self) {
        // A worker at home is dropped on the pool (unlinking a temporary is disk work);
        // one out on a job is dropped by that job.
        let worker = self.worker.take().or_else(|| {
            let mut s = self.lock();
            s.abandoned = true;
            s.done.take().map(|(w, _)| w)
        });
        if let Some(w) = worker {
            self.pool.spawn(move || drop(w));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use socklab_core::ident::Ident;
    use socklab_core::session::{CloseReason, Session};
    use std::sync::mpsc::{Receiver, Sender, channel};
    use std::time::Duration;

    const WAIT: Duration = Duration::from_secs(20);

    /// Stores a name once `gate` lets it, and reports on `dropped` which thread dropped
    /// it.
    struct Gated {
        gate: Receiver<()>,
        dropped: Sender<Option<String>>,
    }

    impl Worker<Ident> for Gated {
        type Job = String;
        type Outcome = bool;
        fn job(&mut self, name: &str) -> String {
            name.to_owned()
        }
        fn run(&mut self, name: String) -> bool {
            self.gate.recv_timeout(WAIT).is_ok() && name == "Ann"
        }
        fn reply(&self, stored: bool) -> bool {
            stored
        }
    }

    impl Drop for Gated {
        fn drop(&mut self) {
            let _ = self
                .dropped
                .send(std::thread::current().name().map(str::to_owned));
        }
    }

    fn open(pool: &Arc<Pool>) -> (Pooled<Ident, Gated>, Sender<()>, Receiver<Option<String>>) {
        let (open_gate, gate) = channel();
        let (dropped, drops) = channel();
        let worker = Gated { gate, dropped };
        let runner = OnPool::new(worker, pool.clone(), Wake::unbound());
        let mut s = Pooled::new(Instant::ZERO, Ident::unknown(), runner);
        let mut buf = [0u8; 64];
        let n = s.poll_output(&mut buf);
        assert_eq!(&buf[..n], b"What is your name?\n");
        (s, open_gate, drops)
    }

    #[test]
    fn a_reply_from_the_pool_is_delivered_on_the_next_call() {
        let pool = Arc::new(Pool::new("pooled-test", 1).unwrap());
        let (mut s, open_gate, _drops) = open(&pool);
        s.handle_input(Instant::ZERO, b"Ann\n");
        assert!(s.session().request_in_flight(), "the job is on the pool");
        assert!(s.in_flight().is_some(), "a stopping server waits for it");
        let mut buf = [0u8; 64];
        assert_eq!(s.poll_output(&mut buf), 0, "no greeting before the store");
        open_gate.send(()).unwrap();
        let deadline = std::time::Instant::now() + WAIT;
        let n = loop {
            let n = s.poll_output(&mut buf);
            if n > 0 {
                break n;
            }
            assert!(std::time::Instant::now() < deadline, "no reply within 20 s");
            std::thread::sleep(Duration::from_millis(1));
        };
        assert_eq!(&buf[..n], b"Nice to meet you, Ann!\n");
        assert_eq!(s.close_reason(), Some(CloseReason::Finished));
    }

    #[test]
    fn a_worker_is_dropped_on_the_pool_whether_out_or_home() {
        let pool = Arc::new(Pool::new("pooled-test", 1).unwrap());
        // Out on a job when the session goes: the job drops it when it is done.
        let (mut s, open_gate, drops) = open(&pool);
        s.handle_input(Instant::ZERO, b"Ann\n");
        drop(s);
        assert!(drops.try_recv().is_err(), "still running");
        open_gate.send(()).unwrap();
        let by = drops.recv_timeout(WAIT).unwrap();
        assert_eq!(by.as_deref(), Some("pooled-test-0"));
        // At home: handed to the pool.
        let (s, _open_gate, drops) = open(&pool);
        drop(s);
        let by = drops.recv_timeout(WAIT).unwrap();
        assert_eq!(by.as_deref(), Some("pooled-test-0"));
    }
}
