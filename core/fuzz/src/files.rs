//! §3 files: the session against a RAM store with injected failures, and a model of
//! what the disk must hold.
//!
//! Checked: one storage request at a time; each request matches the command line the
//! session just read; **a commit happens only after exactly the announced number of
//! payload bytes, and those are the bytes the peer sent** (no partial or corrupted
//! upload is ever made visible); the disk holds exactly the committed uploads and no
//! temporary once the session is done; downloads send the file as it was; every line
//! is one of §3's and fits the session's line room.

use crate::drive::Driver;
use arbitrary::Arbitrary;
use socklab_core::files::{
    Command, Files, FilesConfig, RamDisk, RamStore, Reply, Request, Scratch, ServerLine, Storage,
    StorageError, WriteMode, parse_command, parse_entry, parse_reply, perform, validate_name,
};
use socklab_core::side::SideWork;
use socklab_core::{Duration, Instant, Session};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

pub(crate) const NAMES: [&str; 4] = ["a", "notes.txt", "my file", "../x"];

/// A command line, built so the fuzzer reaches deep states quickly.
#[derive(Arbitrary, Debug)]
pub enum Line {
    /// `LIST`
    List,
    /// `PUT <size> <name>`
    Put(u16, u8),
    /// `GET <name>`
    Get(u8),
    /// `OVERWRITE`
    Overwrite,
    /// `APPEND`
    Append,
    /// `CANCEL`
    Cancel,
    /// `QUIT`
    Quit,
}

/// How the storage answers the request in flight.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Answer {
    /// Do it (reads of at most this many bytes + 1).
    Ok(u8),
    /// Fail with this error (where the request can fail).
    Fail(Fault),
}

/// An injected storage failure.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Fault {
    /// `no-space`
    NoSpace,
    /// `io`
    Io,
    /// `busy`
    Busy,
    /// `not-found`
    NotFound,
}

/// One step.
#[derive(Arbitrary, Debug)]
pub enum Op {
    /// A command line.
    Line(Line),
    /// Payload bytes (or anything).
    Raw(Vec<u8>),
    /// Payload of this many `x` bytes.
    Fill(u16),
    /// The frontend drains up to this many bytes.
    Drain(u16),
    /// The storage answers the request in flight (if any).
    Storage(Answer),
    /// The peer half-closes.
    Eof,
    /// Time passes (seconds).
    Advance(u8),
    /// The timer fires now.
    Timeout,
}

/// Settings and steps.
#[derive(Arbitrary, Debug)]
pub struct Input {
    max_file_size: u16,
    idle_s: u8,
    /// Files on the disk before the session starts: (name index, size).
    preload: Vec<(u8, u8)>,
    ops: Vec<Op>,
}

type Disk = RamDisk<6, 1024>;

/// A request copied out of the session, as the PC frontend copies it to a worker.
#[derive(Debug, Clone)]
pub(crate) enum Owned {
    Begin(String, WriteMode),
    Write(Vec<u8>),
    Commit,
    Abort,
    ListBegin,
    ListNext,
    Open(String),
    Read(usize),
    CloseRead,
}

impl Owned {
    fn of(r: Request<'_>) -> Self {
        match r {
            Request::BeginWrite { name, mode } => Owned::Begin(name.into(), mode),
            Request::Write(b) => Owned::Write(b.to_vec()),
            Request::Commit => Owned::Commit,
            Request::Abort => Owned::Abort,
            Request::ListBegin => Owned::ListBegin,
            Request::ListNext => Owned::ListNext,
            Request::OpenRead(n) => Owned::Open(n.into()),
            Request::Read(n) => Owned::Read(n),
            Request::CloseRead => Owned::CloseRead,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Upload {
    pub(crate) name: String,
    mode: WriteMode,
    size: u64,
    /// Where the payload starts in the consumed stream (set at READY).
    start: Option<usize>,
    written: Vec<u8>,
}

/// The model: what the disk must hold, and the upload and PUT under way.
#[derive(Debug, Default)]
pub(crate) struct Model {
    pub(crate) files: BTreeMap<String, Vec<u8>>,
    /// The last `PUT` read: size and name.
    put: Option<(u64, String)>,
    pub(crate) upload: Option<Upload>,
    /// `OK <size> <crc>` lines owed, in order.
    pub(crate) stored: VecDeque<(u64, u32)>,
    /// Contents of downloads opened, in order, for the `DATA` lines.
    pub(crate) downloads: VecDeque<Vec<u8>>,
    /// Where the last complete payload ended in the consumed stream: command lines
    /// start after it (a payload need not end with LF).
    floor: usize,
}

fn fault(f: Fault) -> StorageError {
    match f {
        Fault::NoSpace => StorageError::NoSpace,
        Fault::Io => StorageError::Io,
        Fault::Busy => StorageError::Busy,
        Fault::NotFound => StorageError::NotFound,
    }
}

/// One session, its handle on the (possibly shared) disk, and its model.
pub(crate) struct Harness<'d, const F: usize, const B: usize> {
    pub(crate) d: Driver<Files<512>>,
    pub(crate) store: RamStore<'d, F, B>,
    pub(crate) disk: &'d RefCell<RamDisk<F, B>>,
    pub(crate) model: Model,
    pub(crate) inflight: Option<Owned>,
    pub(crate) scratch: Box<Scratch<512>>,
}

impl<const F: usize, const B: usize> Harness<'_, F, B> {
    /// Take the next request, checking it against the line just read.
    pub(crate) fn poll(&mut self) {
        let Some(req) = self.d.s.poll_request().map(Owned::of) else {
            return;
        };
        assert!(
            self.inflight.is_none(),
            "a second request while one is in flight"
        );
        assert!(
            self.d.s.poll_request().is_none(),
            "a request is returned once"
        );
        if self.d.closed().is_some() {
            assert!(
                matches!(req, Owned::Abort | Owned::CloseRead),
                "only clean-up after the close, not {req:?}"
            );
        }
        let floor = self.model.floor;
        let last = || parse_command(crate::last_line(&self.d.consumed[floor..]));
        match &req {
            Owned::Begin(name, WriteMode::Create) => match last() {
                Ok(Command::Put { size, name: n }) => {
                    assert_eq!(n, name);
                    self.model.put = Some((size, name.clone()));
                }
                other => panic!("BeginWrite after {other:?}"),
            },
            Owned::Begin(name, mode) => {
                let want = if *mode == WriteMode::Append {
                    Command::Append
                } else {
                    Command::Overwrite
                };
                assert_eq!(last(), Ok(want));
                assert_eq!(self.model.put.as_ref().map(|p| &p.1), Some(name));
            }
            Owned::Open(name) => assert_eq!(last(), Ok(Command::Get { name })),
            Owned::ListBegin => assert_eq!(last(), Ok(Command::List)),
            Owned::Write(bytes) => {
                let up = self
                    .model
                    .upload
                    .as_mut()
                    .expect("a write without an upload");
                assert!(up.start.is_some(), "payload before READY");
                up.written.extend_from_slice(bytes);
                assert!(
                    up.written.len() as u64 <= up.size,
                    "more payload than announced"
                );
            }
            Owned::Commit => {
                let up = self
                    .model
                    .upload
                    .as_ref()
                    .expect("a commit without an upload");
                assert_eq!(
                    up.written.len() as u64,
                    up.size,
                    "commit of a partial payload"
                );
                let start = up.start.expect("commit before READY");
                self.model.floor = start + up.written.len();
                assert_eq!(
                    &self.d.consumed[start..start + up.written.len()],
                    &up.written[..],
                    "the stored bytes are not the bytes sent"
                );
            }
            _ => {}
        }
        self.inflight = Some(req);
    }

    /// Answer the request in flight (if any); returns what the storage said to a
    /// `BeginWrite` (a size or the error), for the checks of `files_pair`.
    pub(crate) fn answer(&mut self, a: Answer) -> Option<Result<u64, StorageError>> {
        let req = self.inflight.take()?;
        let failing = match a {
            Answer::Fail(f) => match req {
                Owned::Begin(..)
                | Owned::Write(_)
                | Owned::Commit
                | Owned::ListBegin
                | Owned::Open(_)
                | Owned::Read(_) => Some(fault(f)),
                _ => None,
            },
            Answer::Ok(_) => None,
        };
        let reply = if let Some(e) = failing {
            // A failed write or commit loses the temporary (the Storage contract).
            if matches!(req, Owned::Write(_) | Owned::Commit) {
                self.store.abort();
            }
            Reply::Failed(e)
        } else {
            let r = match &req {
                Owned::Begin(n, m) => Request::BeginWrite { name: n, mode: *m },
                Owned::Write(b) => Request::Write(b),
                Owned::Commit => Request::Commit,
                Owned::Abort => Request::Abort,
                Owned::ListBegin => Request::ListBegin,
                Owned::ListNext => Request::ListNext,
                Owned::Open(n) => Request::OpenRead(n),
                Owned::Read(max) => match a {
                    Answer::Ok(k) => Request::Read((*max).min(k as usize + 1)),
                    Answer::Fail(_) => Request::Read(*max),
                },
                Owned::CloseRead => Request::CloseRead,
            };
            perform(&mut self.store, r, &mut self.scratch)
        };
        model_reply(&mut self.model, self.d.consumed.len(), &req, &reply);
        let begun = match (&req, reply) {
            (Owned::Begin(..), Reply::Size(n)) => Some(Ok(n)),
            (Owned::Begin(..), Reply::Failed(e)) => Some(Err(e)),
            _ => None,
        };
        self.d.s.handle_reply(self.d.instant(), reply);
        self.d.sync();
        self.poll();
        begun
    }
}

/// Update the model with a reply about to be handed to the session; `consumed` is
/// where the session's input stands (where a payload starts after `READY`).
fn model_reply(model: &mut Model, consumed: usize, req: &Owned, reply: &Reply<'_>) {
    match (req, reply) {
        (Owned::Begin(name, mode), Reply::Size(base)) => {
            let (size, _) = model.put.clone().expect("a PUT was read");
            let current = model.files.get(name).map_or(0, |f| f.len() as u64);
            let want = if *mode == WriteMode::Append {
                current
            } else {
                0
            };
            assert_eq!(*base, want, "RamStore's start size");
            model.upload = Some(Upload {
                name: name.clone(),
                mode: *mode,
                size,
                // The session took no input while waiting, so the payload starts here.
                start: Some(consumed),
                written: Vec::new(),
            });
        }
        (Owned::Commit, Reply::Size(total)) => {
            let up = model.upload.take().expect("upload");
            let mut content = match up.mode {
                WriteMode::Append => model.files.get(&up.name).cloned().unwrap_or_default(),
                _ => Vec::new(),
            };
            content.extend_from_slice(&up.written);
            assert_eq!(*total, content.len() as u64);
            model
                .stored
                .push_back((*total, crc32fast::hash(&up.written)));
            model.files.insert(up.name, content);
        }
        (Owned::Commit | Owned::Write(_), Reply::Failed(_)) | (Owned::Abort, _) => {
            model.upload = None;
        }
        (Owned::Open(name), Reply::Size(n)) => {
            let content = model
                .files
                .get(name)
                .cloned()
                .expect("opened a file the model has");
            assert_eq!(*n, content.len() as u64);
            model.downloads.push_back(content);
        }
        _ => {}
    }
}

impl<const F: usize, const B: usize> Harness<'_, F, B> {
    pub(crate) fn line(&mut self, l: &Line) {
        let name = |i: &u8| NAMES[*i as usize % NAMES.len()];
        let s = match l {
            Line::List => "LIST\n".to_string(),
            Line::Put(size, n) => format!("PUT {} {}\n", size % 2048, name(n)),
            Line::Get(n) => format!("GET {}\n", name(n)),
            Line::Overwrite => "OVERWRITE\n".into(),
            Line::Append => "append\r\n".into(),
            Line::Cancel => "CANCEL\n".into(),
            Line::Quit => "QUIT\n".into(),
        };
        self.d.input(s.as_bytes());
    }
}

/// Check the server's output: §3 lines that fit, `OK <size> <crc>` as committed, every
/// `DATA` followed by the file's bytes as they were when it was opened, and after
/// `OK <count>` at most that many listing entries (fewer only if the output ends there),
/// valid names, strictly sorted; with `versions`, each entry is a `(name, size)` that
/// was stored at some point.
pub(crate) fn check_output(
    out: &[u8],
    model: &mut Model,
    versions: Option<&BTreeSet<(String, u64)>>,
) {
    let mut rest = out;
    // Entries still owed by the last `OK <count>`, and the last name listed.
    let mut listing: Option<(u64, Vec<u8>)> = None;
    while !rest.is_empty() {
        let Some(lf) = rest.iter().position(|&b| b == b'\n') else {
            panic!("an unfinished line at the end: {rest:?}");
        };
        let line = &rest[..lf];
        rest = &rest[lf + 1..];
        assert!(
            line.len() <= 20 + 1 + 255 + 3,
            "line over the room: {line:?}"
        );
        if let Some((left, last)) = &mut listing {
            let Ok((size, name)) = parse_entry(line) else {
                panic!("not a listing entry: {:?}", String::from_utf8_lossy(line));
            };
            assert!(
                validate_name(name).is_ok(),
                "listed an invalid name {name:?}"
            );
            assert!(
                name.as_bytes() > &last[..],
                "listing not sorted or not unique at {name:?}"
            );
            if let Some(v) = versions {
                assert!(
                    v.contains(&(name.to_string(), size)),
                    "listed {size} {name:?}, never stored with that size"
                );
            }
            *last = name.as_bytes().to_vec();
            *left -= 1;
            if *left == 0 {
                listing = None;
            }
            continue;
        }
        match parse_reply(line) {
            Ok(ServerLine::Count(n)) if n > 0 => listing = Some((n, Vec::new())),
            Ok(ServerLine::Stored { size, crc }) => {
                assert_eq!(
                    model.stored.pop_front(),
                    Some((size, crc)),
                    "OK line not as committed"
                );
            }
            Ok(ServerLine::Data(n)) => {
                let content = model.downloads.pop_front().expect("DATA for an open file");
                assert_eq!(n, content.len() as u64);
                let got = &rest[..rest.len().min(content.len())];
                assert_eq!(got, &content[..got.len()], "download corrupted");
                rest = &rest[got.len()..];
            }
            Ok(_) => {}
            Err(_) => panic!("not a §3 line: {:?}", String::from_utf8_lossy(line)),
        }
    }
}

/// Run the steps, finish the conversation (EOF, answer every request), then check.
pub fn session(input: Input) {
    let disk = RefCell::new(Disk::new());
    let mut model = Model::default();
    {
        let mut pre = RamStore::new(&disk);
        for (n, size) in &input.preload {
            let name = NAMES[*n as usize % 3];
            if model.files.contains_key(name) {
                continue;
            }
            let content = vec![b'p'; *size as usize];
            pre.begin_write(name, WriteMode::Create).unwrap();
            pre.write_chunk(&content).unwrap();
            pre.commit().unwrap();
            model.files.insert(name.to_string(), content);
        }
    }
    let config = FilesConfig {
        max_file_size: u64::from(input.max_file_size % 4096),
        idle: Duration::from_secs(u64::from(input.idle_s) + 1),
        ..FilesConfig::default()
    };
    let mut h = Harness {
        d: Driver::new(Files::<512>::new(Instant::ZERO, config), 0),
        store: RamStore::new(&disk),
        disk: &disk,
        model,
        inflight: None,
        scratch: Box::new(Scratch::new()),
    };
    for op in &input.ops {
        match op {
            Op::Line(l) => h.line(l),
            Op::Raw(b) => h.d.input(b),
            Op::Fill(n) => h.d.input(&vec![b'x'; *n as usize % 2048]),
            Op::Drain(n) => {
                h.d.drain(*n as usize);
                h.d.offer();
            }
            Op::Storage(a) => {
                h.answer(*a);
                h.d.offer();
            }
            Op::Eof => h.d.eof(),
            Op::Advance(s) => h.d.advance(u64::from(*s) * 1000),
            Op::Timeout => h.d.timeout(),
        }
        h.poll();
    }
    // Finish: EOF, then a storage that answers everything and a peer that reads all.
    h.d.eof();
    for _ in 0..100_000 {
        h.poll();
        let idle = h.inflight.is_none() && !h.d.s.wants_output();
        if idle && (h.d.pending.is_empty() || h.d.closed().is_some()) {
            break;
        }
        h.answer(Answer::Ok(255));
        h.d.drain(4096);
        h.d.offer();
    }
    assert!(
        h.d.closed().is_some(),
        "EOF with nothing under way ends the session"
    );
    assert!(h.inflight.is_none() && !h.d.s.request_in_flight());
    check_output(&h.d.out, &mut h.model, None);
    assert!(h.model.stored.is_empty(), "a commit was never answered OK");
    // The disk holds exactly the committed files, and no temporary.
    drop(h.store);
    let disk = h.disk.borrow();
    for (name, content) in &h.model.files {
        assert_eq!(disk.get(name), Some(&content[..]), "{name}");
    }
    assert_eq!(
        disk.used_slots(),
        h.model.files.len(),
        "a temporary was left behind"
    );
}
