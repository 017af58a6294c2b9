//! §3 files: two or three [`Files`] sessions sharing one [`RamDisk`] of 4 slots, as the
//! firmware runs them (2 sessions over one 4-slot RAM store), each with its own
//! [`RamStore`] handle answering through [`perform`](socklab_core::files::perform) like a
//! frontend, with injected failures on top.
//!
//! Each session gets every check of [`files`](crate::files) (one request at a time and
//! matching the line just read, a commit only of exactly the payload sent, `OK <size>
//! <crc>` as committed, downloads byte-identical to the version opened). Across the
//! sessions, also checked:
//!
//! * **never two writers of one name**: a `BeginWrite` the store really runs fails with
//!   `busy` exactly when another session has an upload of that name open (§3 `ERR busy`);
//!   otherwise `EXISTS` for a PUT of a stored name, `no-space` exactly when every slot is
//!   in use, and else the start size of the committed file;
//! * **a GET reads one version**: the bytes after `DATA <n>` are the file as committed
//!   when it was opened, even if another session replaces it mid-download (a torn mix of
//!   old and new bytes fails);
//! * after every step, every committed file is on the disk byte for byte (an aborted
//!   upload — EOF, QUIT, a fault, `no-space` mid-payload — changes nothing), and the disk
//!   uses exactly one slot per file, per open upload and per replaced version still being
//!   read: nothing leaks, nothing is freed early;
//! * a listing has at most the announced entries, strictly sorted, each a name and size
//!   that were stored together at some point (no upload temporary, no freed slot);
//! * at the end, once every session closed and its clean-up requests ran, the disk holds
//!   exactly the committed files and no other slot.

use crate::drive::Driver;
use crate::files::{Answer, Harness, Line, Model, NAMES, Owned, check_output};
use arbitrary::Arbitrary;
use socklab_core::files::{
    Files, FilesConfig, RamDisk, RamStore, Scratch, Storage, StorageError, WriteMode,
};
use socklab_core::side::SideWork;
use socklab_core::{Duration, Instant, Session};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

/// The firmware's slot count; 1 KiB files so `no-space` mid-payload is reached quickly.
const SLOTS: usize = 4;
const BYTES: usize = 1024;
type Disk = RamDisk<SLOTS, BYTES>;

/// What one session's peer or frontend does.
#[derive(Arbitrary, Debug)]
pub enum Step {
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
    /// The frontend answers every request until none is left, as the firmware does.
    Pump,
    /// The peer half-closes.
    Eof,
    /// The session's timer fires now.
    Timeout,
}

/// One step of the interleaving.
#[derive(Arbitrary, Debug)]
pub enum Op {
    /// A step of session `n % sessions`.
    To(u8, Step),
    /// Time passes (seconds), for every session.
    Advance(u8),
}

/// Settings and steps.
#[derive(Arbitrary, Debug)]
pub struct Input {
    max_file_size: u16,
    idle_s: u8,
    /// Three sessions instead of two.
    three: bool,
    /// Files on the disk before the sessions start: (name index, size).
    preload: Vec<(u8, u8)>,
    ops: Vec<Op>,
}

struct Pair<'d> {
    conns: Vec<Harness<'d, SLOTS, BYTES>>,
    disk: &'d RefCell<Disk>,
    /// The committed files; swapped into a session's model while it is answered.
    files: BTreeMap<String, Vec<u8>>,
    /// Commits so far, per name: which version a download reads.
    version: BTreeMap<String, u64>,
    /// Every `(name, size)` ever stored.
    versions: BTreeSet<(String, u64)>,
    /// The version each session has open for reading, from its open to its close.
    reading: Vec<Option<(String, u64)>>,
}

impl Pair<'_> {
    /// What a `BeginWrite` the store runs must answer (§3 and `RamStore`'s contract).
    fn expect_begin(&self, i: usize, name: &str, mode: WriteMode) -> Result<u64, StorageError> {
        let other_writer = self
            .conns
            .iter()
            .enumerate()
            .any(|(j, c)| j != i && c.model.upload.as_ref().is_some_and(|u| u.name == name));
        let current = self.files.get(name).map(|f| f.len() as u64);
        if other_writer {
            Err(StorageError::Busy)
        } else if let (WriteMode::Create, Some(size)) = (mode, current) {
            Err(StorageError::Exists(size))
        } else if self.disk.borrow().used_slots() == SLOTS {
            Err(StorageError::NoSpace)
        } else if mode == WriteMode::Append {
            Ok(current.unwrap_or(0))
        } else {
            Ok(0)
        }
    }

    /// Session `i`'s storage answers its request in flight.
    fn answer(&mut self, i: usize, a: Answer) {
        let Some(req) = self.conns[i].inflight.clone() else {
            return;
        };
        let expect = match (&req, a) {
            (Owned::Begin(name, mode), Answer::Ok(_)) => Some(self.expect_begin(i, name, *mode)),
            _ => None,
        };
        let c = &mut self.conns[i];
        let (stored, opened) = (c.model.stored.len(), c.model.downloads.len());
        let uploading = c.model.upload.as_ref().map(|u| u.name.clone());
        std::mem::swap(&mut self.files, &mut c.model.files);
        let got = c.answer(a);
        std::mem::swap(&mut self.files, &mut c.model.files);
        if let Some(want) = expect {
            assert_eq!(got, Some(want), "session {i}: BeginWrite answered wrongly");
        }
        let c = &self.conns[i];
        match req {
            Owned::Commit if c.model.stored.len() > stored => {
                let (size, _) = *c.model.stored.back().expect("just stored");
                let name = uploading.expect("a commit of an open upload");
                *self.version.entry(name.clone()).or_default() += 1;
                self.versions.insert((name, size));
            }
            Owned::Open(name) if c.model.downloads.len() > opened => {
                let v = self.version.get(&name).copied().unwrap_or(0);
                self.reading[i] = Some((name, v));
            }
            Owned::CloseRead => self.reading[i] = None,
            _ => {}
        }
    }

    /// Every committed file is on the disk as committed, and every slot in use is a
    /// file, an open upload or a replaced version still being read.
    fn check_disk(&self) {
        let disk = self.disk.borrow();
        for (name, content) in &self.files {
            assert_eq!(disk.get(name), Some(&content[..]), "file {name:?} changed");
        }
        let uploads = self
            .conns
            .iter()
            .filter(|c| c.model.upload.is_some())
            .count();
        let replaced: BTreeSet<&(String, u64)> = self
            .reading
            .iter()
            .flatten()
            .filter(|(name, v)| self.version.get(name) != Some(v))
            .collect();
        assert_eq!(
            disk.used_slots(),
            self.files.len() + uploads + replaced.len(),
            "slots: {} files, {uploads} uploads, {} replaced versions being read",
            self.files.len(),
            replaced.len()
        );
    }

    fn poll_all(&mut self) {
        for c in &mut self.conns {
            c.poll();
        }
    }

    fn step(&mut self, i: usize, step: &Step) {
        match step {
            Step::Line(l) => self.conns[i].line(l),
            Step::Raw(b) => self.conns[i].d.input(b),
            Step::Fill(n) => self.conns[i].d.input(&vec![b'x'; *n as usize % 2048]),
            Step::Drain(n) => {
                self.conns[i].d.drain(*n as usize);
                self.conns[i].d.offer();
            }
            Step::Storage(a) => {
                self.answer(i, *a);
                self.conns[i].d.offer();
            }
            Step::Pump => {
                for _ in 0..10_000 {
                    self.conns[i].poll();
                    if self.conns[i].inflight.is_none() {
                        break;
                    }
                    self.answer(i, Answer::Ok(255));
                    self.check_disk();
                }
                self.conns[i].d.offer();
            }
            Step::Eof => self.conns[i].d.eof(),
            Step::Timeout => self.conns[i].d.timeout(),
        }
    }
}

/// Run the interleaving, finish every conversation (EOF, answer every request, read
/// everything), then check each session's output and the disk.
pub fn pair(input: Input) {
    let disk = RefCell::new(Disk::new());
    let mut files = BTreeMap::new();
    let mut version = BTreeMap::new();
    let mut versions = BTreeSet::new();
    {
        let mut pre = RamStore::new(&disk);
        for (n, size) in input.preload.iter().take(SLOTS - 1) {
            let name = NAMES[*n as usize % 3];
            if files.contains_key(name) {
                continue;
            }
            let content = vec![b'p'; *size as usize];
            pre.begin_write(name, WriteMode::Create).unwrap();
            pre.write_chunk(&content).unwrap();
            pre.commit().unwrap();
            files.insert(name.to_string(), content);
            version.insert(name.to_string(), 1);
            versions.insert((name.to_string(), u64::from(*size)));
        }
    }
    let config = FilesConfig {
        max_file_size: u64::from(input.max_file_size % 4096),
        idle: Duration::from_secs(u64::from(input.idle_s) + 1),
        ..FilesConfig::default()
    };
    let n = if input.three { 3 } else { 2 };
    let mut p = Pair {
        conns: (0..n)
            .map(|_| Harness {
                d: Driver::new(Files::<512>::new(Instant::ZERO, config), 0),
                store: RamStore::new(&disk),
                disk: &disk,
                model: Model::default(),
                inflight: None,
                scratch: Box::new(Scratch::new()),
            })
            .collect(),
        disk: &disk,
        files,
        version,
        versions,
        reading: vec![None; n],
    };
    for op in &input.ops {
        match op {
            Op::To(s, step) => p.step(*s as usize % n, step),
            Op::Advance(secs) => {
                for c in &mut p.conns {
                    c.d.advance(u64::from(*secs) * 1000);
                }
            }
        }
        p.poll_all();
        p.check_disk();
    }
    // Finish: every peer half-closes; storage answers everything, peers read all.
    for c in &mut p.conns {
        c.d.eof();
    }
    for _ in 0..100_000 {
        p.poll_all();
        let idle = p.conns.iter().all(|c| {
            c.inflight.is_none()
                && !c.d.s.wants_output()
                && (c.d.pending.is_empty() || c.d.closed().is_some())
        });
        if idle {
            break;
        }
        for i in 0..n {
            p.answer(i, Answer::Ok(255));
            p.conns[i].d.drain(4096);
            p.conns[i].d.offer();
        }
        p.check_disk();
    }
    for (i, c) in p.conns.iter_mut().enumerate() {
        assert!(c.d.closed().is_some(), "session {i}: EOF ends the session");
        assert!(c.inflight.is_none() && !c.d.s.request_in_flight());
        check_output(&c.d.out, &mut c.model, Some(&p.versions));
        assert!(c.model.stored.is_empty(), "a commit was never answered OK");
    }
    // Every session closed and ran its clean-up: exactly the committed files remain,
    // before any handle is dropped.
    p.check_disk();
    assert_eq!(
        disk.borrow().used_slots(),
        p.files.len(),
        "a temporary or a replaced version was left behind"
    );
    // Dropping the handles releases nothing more.
    let committed = p.files.len();
    drop(p);
    assert_eq!(disk.borrow().used_slots(), committed);
}
