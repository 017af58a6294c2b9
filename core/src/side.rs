//! Side work: what a session needs done outside itself, asked for the way it asks for
//! bytes to be sent.
//!
//! Some services need work a session must not do itself: files reads and writes a disk,
//! auth hashes passwords with Argon2 and saves its tables, ident stores a name. That
//! work may take seconds, and a session never blocks. So such a session is a
//! [`SideWork`] as well as a [`Session`]: it hands out one request at a time from
//! [`poll_request`](SideWork::poll_request), the way it hands out bytes from
//! [`poll_output`](Session::poll_output), and resumes when the frontend brings the reply
//! to [`handle_reply`](SideWork::handle_reply). While a request is out the session takes
//! no input that would need another, so backpressure reaches the peer as with a full
//! output queue.
//!
//! One [`Adapter`] turns any such session back into a plain [`Session`] that a driver
//! runs like any other: around every call the driver makes, its [`Runner`] delivers the
//! replies that are done and starts the requests the session hands out, in that order,
//! for every service. Who runs a request is the runner's business, one per kind of
//! frontend:
//!
//! * [`Inline`] answers each request at once, through an [`Answer`] (a RAM store on a
//!   board, a fake in a test);
//! * the PC server's `OnPool` runs it on a worker thread and delivers the reply when a
//!   waker says it is done (`Pooled` is the adapter with that runner).
//!
//! [`Pending`] is the bookkeeping every such session needs: which request is waiting to
//! be handed out, or is out and waiting for its reply.

use crate::session::{CloseDetail, CloseReason, Event, Session, Work};
use crate::time::Instant;

/// A session that hands out requests for work done outside it and takes the replies.
///
/// Contract: [`poll_request`](Self::poll_request) returns each request once and then
/// `None` until that request's reply went to [`handle_reply`](Self::handle_reply); the
/// frontend must answer every request it took, in that order. A session that closed may
/// still hand out a clean-up request (the files session's `Abort`); a frontend that
/// drops the session instead must clean up itself.
pub trait SideWork: Session {
    /// One piece of work, borrowed from the session: a frontend that runs it elsewhere
    /// copies it first.
    type Request<'a>
    where
        Self: 'a;

    /// The outcome of a request, borrowed from wherever the frontend keeps it.
    type Reply<'a>;

    /// The request to run now, if any; each is returned once.
    #[must_use]
    fn poll_request(&mut self) -> Option<Self::Request<'_>>;

    /// The reply to the request last taken from [`poll_request`](Self::poll_request),
    /// at `now` (a frontend that learns of it without a clock passes the latest time it
    /// was given, which can only make a deadline come early, never late).
    fn handle_reply(&mut self, now: Instant, reply: Self::Reply<'_>);

    /// True while a request was taken and its reply has not come back.
    fn request_in_flight(&self) -> bool;
}

/// The one request a [`SideWork`] session has asked for: none, waiting to be handed out,
/// or out. `Op` is the session's own small record of what was asked (the arguments stay
/// in the session, so a request can borrow them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending<Op> {
    state: State<Op>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State<Op> {
    None,
    Ready(Op),
    Out(Op),
}

impl<Op: Copy> Pending<Op> {
    /// Nothing asked.
    pub const fn new() -> Self {
        Pending { state: State::None }
    }

    /// Ask for `op`: [`hand_out`](Self::hand_out) returns it next. Replaces a request
    /// not yet handed out; one that is out must get its reply first.
    pub fn ask(&mut self, op: Op) {
        debug_assert!(!self.is_out(), "a second request while one is out");
        self.state = State::Ready(op);
    }

    /// The request waiting to be handed out, now counted as out; for `poll_request`.
    pub fn hand_out(&mut self) -> Option<Op> {
        let State::Ready(op) = self.state else {
            return None;
        };
        self.state = State::Out(op);
        Some(op)
    }

    /// The request whose reply just came, now forgotten; for `handle_reply`. `None`
    /// (a reply nobody asked for) is the frontend's bug.
    pub fn finish(&mut self) -> Option<Op> {
        let State::Out(op) = self.state else {
            return None;
        };
        self.state = State::None;
        Some(op)
    }

    /// What was asked, whether handed out yet or not.
    pub fn op(&self) -> Option<Op> {
        match self.state {
            State::None => None,
            State::Ready(op) | State::Out(op) => Some(op),
        }
    }

    /// True when nothing is asked.
    pub fn is_none(&self) -> bool {
        matches!(self.state, State::None)
    }

    /// True while a request is out: handed out, reply not yet back.
    pub fn is_out(&self) -> bool {
        matches!(self.state, State::Out(_))
    }
}

impl<Op: Copy> Default for Pending<Op> {
    fn default() -> Self {
        Self::new()
    }
}

/// What runs a session's requests for an [`Adapter`]: called around every call the
/// driver makes, it delivers finished replies and starts what the session asks for.
pub trait Runner<S: SideWork> {
    /// After a call (and once at the start): deliver what is done, start the requests
    /// the session hands out, as far as this runner can go now.
    fn after(&mut self, session: &mut S, now: Instant);

    /// Before a call: deliver replies that finished since the last one. A runner whose
    /// replies never finish between calls ([`Inline`]) has nothing to do.
    fn before(&mut self, session: &mut S, now: Instant) {
        self.after(session, now);
    }
}

/// A [`SideWork`] session with what runs its requests, as the plain [`Session`] a driver
/// runs like any other: the one adapter between the two shapes, whoever runs the work.
#[derive(Debug)]
pub struct Adapter<S, R> {
    session: S,
    runner: R,
    /// The time of the last call that brought one, for replies delivered where no time
    /// comes in ([`poll_output`](Session::poll_output)): it can only make a deadline
    /// come early.
    now: Instant,
}

impl<S: SideWork, R: Runner<S>> Adapter<S, R> {
    /// `session`, opened at `now`, with `runner` running its requests from the start.
    pub fn new(now: Instant, session: S, runner: R) -> Self {
        let mut s = Adapter {
            session,
            runner,
            now,
        };
        s.runner.after(&mut s.session, now);
        s
    }

    /// The wrapped session.
    pub fn session(&self) -> &S {
        &self.session
    }

    /// What runs its requests.
    pub fn runner(&self) -> &R {
        &self.runner
    }

    /// Run `call` on the session at `now`, with the runner before and after it.
    fn around<T>(&mut self, now: Instant, call: impl FnOnce(&mut S) -> T) -> T {
        self.now = now;
        self.runner.before(&mut self.session, self.now);
        let out = call(&mut self.session);
        self.runner.after(&mut self.session, self.now);
        out
    }
}

impl<S: SideWork, R: Runner<S>> Session for Adapter<S, R> {
    fn handle_input(&mut self, now: Instant, input: &[u8]) -> usize {
        self.around(now, |s| s.handle_input(now, input))
    }

    fn handle_eof(&mut self, now: Instant) {
        self.around(now, |s| s.handle_eof(now));
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.around(now, |s| s.handle_timeout(now));
    }

    /// Draining output can ask for more work (a download's next chunk).
    fn poll_output(&mut self, buf: &mut [u8]) -> usize {
        self.around(self.now, |s| s.poll_output(buf))
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.session.poll_timeout()
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.session.poll_event()
    }

    fn close_reason(&self) -> Option<CloseReason> {
        self.session.close_reason()
    }

    fn wants_output(&self) -> bool {
        self.session.wants_output()
    }

    fn close_detail(&self) -> Option<CloseDetail> {
        self.session.close_detail()
    }

    fn handle_stop(&mut self, now: Instant) {
        self.around(now, |s| s.handle_stop(now));
    }

    fn in_flight(&self) -> Option<Work<'_>> {
        self.session.in_flight()
    }
}

/// What answers a session's requests on the spot, for [`Inline`]: the reply may borrow
/// from the answerer (a scratch buffer) until the session took it.
pub trait Answer<S: SideWork> {
    /// Run `request` now.
    fn answer<'w>(&'w mut self, request: S::Request<'_>) -> S::Reply<'w>;
}

/// The [`Runner`] that answers every request at once through `A`: for work as fast as a
/// copy (a RAM store on a board) and for tests with a fake. Answers come within the call
/// that asked, so nothing is ever waiting before a call.
#[derive(Debug)]
pub struct Inline<A>(pub A);

impl<S: SideWork, A: Answer<S>> Runner<S> for Inline<A> {
    fn after(&mut self, session: &mut S, now: Instant) {
        loop {
            let Some(request) = session.poll_request() else {
                return;
            };
            let reply = self.0.answer(request);
            session.handle_reply(now, reply);
        }
    }

    fn before(&mut self, _: &mut S, _: Instant) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ident::Ident;

    #[test]
    fn pending_hands_out_once_and_finishes_once() {
        let mut p = Pending::<u8>::new();
        assert!(p.is_none() && p.hand_out().is_none() && p.finish().is_none());
        p.ask(7);
        assert_eq!((p.op(), p.is_out()), (Some(7), false));
        assert_eq!(p.finish(), None, "not handed out yet");
        assert_eq!(p.hand_out(), Some(7));
        assert_eq!((p.op(), p.is_out()), (Some(7), true));
        assert_eq!(p.hand_out(), None, "handed out once");
        assert_eq!(p.finish(), Some(7));
        assert!(p.is_none() && p.op().is_none());
    }

    /// Stores every name it is asked to, and says so.
    struct Remember(heapless::String<64>);

    impl Answer<Ident> for Remember {
        fn answer(&mut self, name: &str) -> bool {
            self.0.clear();
            self.0.push_str(name).is_ok()
        }
    }

    #[test]
    fn inline_answers_within_the_call_that_asked() {
        let t = Instant::ZERO;
        let remember = Inline(Remember(heapless::String::new()));
        let mut s = Adapter::new(t, Ident::unknown(), remember);
        let mut buf = [0u8; 128];
        let n = s.poll_output(&mut buf);
        assert_eq!(&buf[..n], b"What is your name?\n");
        assert_eq!(s.handle_input(t, b"Ann\n"), 4);
        assert_eq!(s.runner().0.0, "Ann");
        assert!(!s.session().request_in_flight());
        let n = s.poll_output(&mut buf);
        assert_eq!(&buf[..n], b"Nice to meet you, Ann!\n");
        assert_eq!(s.close_reason(), Some(CloseReason::Finished));
    }

    /// A session that asks about the digit it reads, says the answer, and asks the
    /// server to stop when the answer is 1.
    #[derive(Default)]
    struct Asker {
        want: Pending<u8>,
        said: Option<u8>,
        stop: bool,
        stopping: bool,
        replies_at: Option<Instant>,
    }

    impl Session for Asker {
        fn handle_input(&mut self, _: Instant, input: &[u8]) -> usize {
            if !self.want.is_none() {
                return 0;
            }
            self.want.ask(input[0] - b'0');
            1
        }
        fn handle_eof(&mut self, _: Instant) {}
        fn handle_timeout(&mut self, _: Instant) {}
        fn poll_output(&mut self, buf: &mut [u8]) -> usize {
            let Some(n) = self.said.take() else { return 0 };
            buf[0] = b'0' + n;
            1
        }
        fn poll_timeout(&self) -> Option<Instant> {
            None
        }
        fn poll_event(&mut self) -> Option<Event> {
            core::mem::take(&mut self.stop).then_some(Event::StopServer)
        }
        fn close_reason(&self) -> Option<CloseReason> {
            self.stopping.then_some(CloseReason::ServerStopping)
        }
        fn wants_output(&self) -> bool {
            self.said.is_some()
        }
        fn close_detail(&self) -> Option<CloseDetail> {
            Some(CloseDetail::QuizWon { count: 3 })
        }
        fn handle_stop(&mut self, _: Instant) {
            self.stopping = true;
        }
        fn in_flight(&self) -> Option<Work<'_>> {
            self.want.op().map(|_| Work::Command("ASK"))
        }
    }

    impl SideWork for Asker {
        type Request<'a> = u8;
        type Reply<'a> = u8;
        fn poll_request(&mut self) -> Option<u8> {
            self.want.hand_out()
        }
        fn handle_reply(&mut self, now: Instant, reply: u8) {
            self.want.finish();
            self.replies_at = Some(now);
            self.stop = reply == 1;
            self.said = Some(reply);
        }
        fn request_in_flight(&self) -> bool {
            self.want.is_out()
        }
    }

    struct PlusOne;

    impl Answer<Asker> for PlusOne {
        fn answer(&mut self, n: u8) -> u8 {
            n + 1
        }
    }

    #[test]
    fn the_adapter_passes_the_whole_session_through() {
        let mut s = Adapter::new(Instant::ZERO, Asker::default(), Inline(PlusOne));
        let t = Instant::from_millis(5);
        assert_eq!(s.handle_input(t, b"0"), 1);
        assert_eq!(
            s.session().replies_at,
            Some(t),
            "answered at the time of the call"
        );
        assert!(s.wants_output());
        let mut buf = [0u8; 4];
        assert_eq!(s.poll_output(&mut buf), 1);
        assert_eq!(buf[0], b'1');
        assert_eq!(
            s.poll_event(),
            Some(Event::StopServer),
            "events pass through"
        );
        assert_eq!(s.poll_event(), None);
        assert_eq!(s.in_flight(), None);
        assert_eq!(s.close_detail(), Some(CloseDetail::QuizWon { count: 3 }));
        s.handle_stop(t);
        assert_eq!(s.close_reason(), Some(CloseReason::ServerStopping));
    }
}
