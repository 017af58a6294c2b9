//! Model-based property tests of the files storage folder (`server::files::dir`) and
//! of the pool frontend around it (`server::pooled` with `server::files::disk`): the
//! host code that turns the core's §3 storage requests into disk operations (issue 6).
//!
//! `dir_storage_matches_the_model`: three sessions' [`DirStorage`] views share one
//! [`Dir`], as three connections of `serve files` do, and are driven with arbitrary
//! sequences of the storage calls peers can cause: PUT (create, overwrite, append) with
//! the payload split into arbitrary chunks, commit, abort, a disconnect mid-upload (the
//! storage dropped), LIST, GET read in arbitrary chunk sizes (also while the file is
//! replaced), interleaved uploads of the same and of different names, a graceful
//! restart and a crash (SIGKILL: temporaries left behind) followed by a restart. Names
//! are drawn from hostile-but-valid ones (the core's rule, `files::validate_name`:
//! spaces, leading dashes, unicode in NFC, 255 bytes) plus
//! two arbitrary valid names per case. After every step: the files on disk and the files
//! read back through a fresh storage equal the model byte for byte, LIST equals the
//! model's names and sizes, the only other entries in the folder are the temporaries of
//! the uploads still open (none after a commit, an abort, a disconnect or a restart), a
//! restart removes exactly the temporaries a crash left, and nothing appeared next to
//! the folder. Cases: 64 by default (`PROPTEST_CASES` overrides), at most 40 steps
//! (a PUT counts once), files at most 64 KiB.
//!
//! `pooled_sessions_match_the_model`: three connections of a real `FilesService`
//! (storage jobs on a one-worker pool, each chunk write slowed by 1 ms) speak §3 lines:
//! PUT with the answer to EXISTS (overwrite, append, cancel) and the payload in
//! arbitrary pieces, uploads left open while other connections PUT, GET and LIST, peers
//! that vanish mid-upload or right after `PUT` (while its storage job runs), EOF
//! mid-upload, QUIT and server restarts, with `--max-file-size` 48 KiB. Every reply must
//! be the model's, byte for byte (`READY`, `EXISTS <size>`, `OK <size> <crc32>`, `ERR
//! busy`, `ERR too-large`, `DATA` and the bytes, the listing); after every step, once the
//! pool has run the clean-up of dropped connections, the folder holds exactly the
//! committed files plus one temporary per upload still open, and nothing appeared next
//! to it. Cases: 64, at most 30 steps.

mod prop_support;

use prop_support::cases;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::TestCaseResult;
use socklab::server::files::dir::Dir;
use socklab::server::files::dir_storage::DirStorage;
use socklab::server::files::temp::{TEMP_PREFIX, Temporaries};
use socklab_core::files::{MAX_NAME, Storage, StorageError, WriteMode, validate_name};

/// Sessions sharing the folder.
const SESSIONS: usize = 3;
/// Largest file the test builds (uploads are cut at this size).
const MAX_FILE: usize = 64 * 1024;

/// Valid names a hostile peer may well choose; all pass the core's rule.
fn fixed_names() -> Vec<String> {
    let names = [
        "notes.txt",
        "a",
        "A",
        "my file",
        " leading space",
        "a  b",
        "-rf",
        "--help",
        "-",
        "файл",
        "名前.txt",
        "😀",
        "\u{e9}",          // é, NFC (NFD, zero-width and bidi characters are refused, §3)
        "\u{1e9b}\u{323}", // NFC, though its NFC quick check says "maybe"
        "*",
        "~",
        "$(id)",
        "a'b\"c",
        "CON",
        "x..",
        "a:b|c",
    ];
    let mut v: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
    v.push("x".repeat(MAX_NAME));
    v.push("€".repeat(MAX_NAME / 3)); // 255 bytes of 3-byte characters
    for n in &v {
        assert!(validate_name(n).is_ok(), "{n:?}");
    }
    v
}

/// An arbitrary name the core accepts.
fn any_valid_name() -> impl Strategy<Value = String> {
    "[^/\\\\\\p{Cc}]{1,40}".prop_filter("a valid §3 name", |n| validate_name(n).is_ok())
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    Create,
    Overwrite,
    Append,
}

impl Mode {
    fn core(self) -> WriteMode {
        match self {
            Mode::Create => WriteMode::Create,
            Mode::Overwrite => WriteMode::Overwrite,
            Mode::Append => WriteMode::Append,
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    /// A whole PUT on one session: `Begin`, the payload in pieces cut at `cuts`, and
    /// `Commit` (each checked like the single steps).
    Put {
        s: usize,
        name: usize,
        mode: Mode,
        data: Vec<u8>,
        cuts: Vec<usize>,
    },
    /// PUT: `begin_write` (create, or overwrite/append after EXISTS).
    Begin {
        s: usize,
        name: usize,
        mode: Mode,
    },
    /// One chunk of the payload.
    Write {
        s: usize,
        data: Vec<u8>,
    },
    Commit {
        s: usize,
    },
    Abort {
        s: usize,
    },
    /// The connection is gone: its storage is dropped with whatever it has open.
    Disconnect {
        s: usize,
    },
    List {
        s: usize,
    },
    /// GET: open, then `Read`s.
    OpenRead {
        s: usize,
        name: usize,
    },
    Read {
        s: usize,
        max: usize,
    },
    CloseRead {
        s: usize,
    },
    /// A whole GET read in chunks of `chunk` bytes.
    Get {
        s: usize,
        name: usize,
        chunk: usize,
    },
    /// Graceful stop (every session dropped), then the folder opened again.
    Restart,
    /// SIGKILL (open temporaries stay on disk), then the folder opened again.
    CrashRestart,
}

fn data() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => proptest::collection::vec(any::<u8>(), 0..64),
        3 => proptest::collection::vec(any::<u8>(), 0..4096),
        1 => proptest::collection::vec(any::<u8>(), 0..24 * 1024),
        // Large payloads, cheap to generate: a byte pattern that shifts every 256 bytes.
        1 => (any::<u8>(), 0..MAX_FILE).prop_map(|(k, n)| {
            (0..n).map(|i| (i as u8).wrapping_mul(k | 1) ^ (i >> 8) as u8).collect()
        }),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let s = 0..SESSIONS;
    let name = 0..usize::MAX;
    let mode = prop_oneof![
        Just(Mode::Create),
        Just(Mode::Overwrite),
        Just(Mode::Append)
    ];
    let put = (
        s.clone(),
        name.clone(),
        mode.clone(),
        data(),
        proptest::collection::vec(any::<usize>(), 0..6),
    );
    prop_oneof![
        8 => put.prop_map(|(s, name, mode, data, cuts)| Op::Put { s, name, mode, data, cuts }),
        6 => (s.clone(), name.clone(), mode).prop_map(|(s, name, mode)| Op::Begin { s, name, mode }),
        10 => (s.clone(), data()).prop_map(|(s, data)| Op::Write { s, data }),
        5 => s.clone().prop_map(|s| Op::Commit { s }),
        1 => s.clone().prop_map(|s| Op::Abort { s }),
        1 => s.clone().prop_map(|s| Op::Disconnect { s }),
        2 => s.clone().prop_map(|s| Op::List { s }),
        2 => (s.clone(), name.clone()).prop_map(|(s, name)| Op::OpenRead { s, name }),
        3 => (s.clone(), 1..70_000usize).prop_map(|(s, max)| Op::Read { s, max }),
        1 => s.clone().prop_map(|s| Op::CloseRead { s }),
        2 => (s, name, 1..70_000usize).prop_map(|(s, name, chunk)| Op::Get { s, name, chunk }),
        1 => Just(Op::Restart),
        1 => Just(Op::CrashRestart),
    ]
}

/// What one session has open, in the model.
#[derive(Debug, Default, Clone)]
struct SessionModel {
    /// Target name and the bytes the file will hold on commit.
    upload: Option<(String, Vec<u8>)>,
    /// The version being downloaded and how far it was read.
    reading: Option<(Vec<u8>, usize)>,
}

#[derive(Debug, Default)]
struct Model {
    /// Committed files (str order is byte order, as LIST sorts).
    files: BTreeMap<String, Vec<u8>>,
    sessions: [SessionModel; SESSIONS],
}

impl Model {
    fn uploads(&self) -> usize {
        self.sessions.iter().filter(|s| s.upload.is_some()).count()
    }
}

/// The scratch folder: `root/store` is the storage folder, `root/outside` a file that
/// must never change.
struct Place {
    root: tempfile::TempDir,
}

impl Place {
    fn new() -> Place {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("outside"), b"untouched").unwrap();
        Place { root }
    }

    fn store(&self) -> PathBuf {
        self.root.path().join("store")
    }
}

struct Real {
    dir: Arc<Dir>,
    sessions: Vec<DirStorage>,
}

impl Real {
    fn open(path: &Path, stale: usize) -> Result<Real, TestCaseError> {
        // Named temporaries (the fallback where O_TMPFILE is missing): the model counts
        // them on disk, and a crash leaves them for the next start to remove.
        let (dir, startup) = Dir::open_with(path, Temporaries::Named, quiet())
            .map_err(|e| fail(format!("open: {e}")))?;
        prop_assert_eq!(startup.removed, stale, "stale temporaries removed at start");
        let sessions = (0..SESSIONS)
            .map(|_| DirStorage::new(dir.clone()))
            .collect();
        Ok(Real { dir, sessions })
    }
}

/// Storage failures go to stderr (errors only), where a failing case shows them.
fn quiet() -> socklab::log::Logger {
    socklab::log::Logger::stderr(socklab::log::Level::Quiet)
}

fn fail(msg: String) -> TestCaseError {
    TestCaseError::fail(msg)
}

/// Read the open download to its end in chunks of `chunk` bytes.
fn read_to_end(st: &mut DirStorage, chunk: usize) -> Result<Vec<u8>, StorageError> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; chunk];
    loop {
        let n = st.read_chunk(&mut buf)?;
        if n == 0 {
            return Ok(out);
        }
        assert!(n <= chunk);
        out.extend_from_slice(&buf[..n]);
        assert!(out.len() <= MAX_FILE, "a download longer than any file");
    }
}

/// LIST through `st`.
fn list(st: &mut DirStorage) -> Result<Vec<(String, u64)>, StorageError> {
    let n = st.list_begin()?;
    let mut out = Vec::new();
    let mut name = [0u8; MAX_NAME];
    while let Some((size, len)) = st.list_next(&mut name) {
        out.push((String::from_utf8(name[..len].to_vec()).unwrap(), size));
    }
    assert_eq!(out.len() as u64, n, "LIST announced {n} entries");
    Ok(out)
}

/// The invariants that hold between any two steps.
fn check(place: &Place, real: &Real, model: &Model) -> Result<(), TestCaseError> {
    // On disk: exactly the committed files, plus one temporary per open upload.
    let mut names = Vec::new();
    let mut temps = 0;
    for e in std::fs::read_dir(place.store()).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().into_string().expect("UTF-8 names only");
        prop_assert!(e.file_type().unwrap().is_file(), "{:?} is not a file", name);
        if name.starts_with(TEMP_PREFIX) {
            temps += 1;
        } else {
            names.push(name);
        }
    }
    names.sort();
    let expected: Vec<&String> = model.files.keys().collect();
    prop_assert_eq!(names.iter().collect::<Vec<_>>(), expected, "names on disk");
    prop_assert_eq!(temps, model.uploads(), "temporaries on disk");
    for (name, content) in &model.files {
        let on_disk = std::fs::read(place.store().join(name)).unwrap();
        prop_assert!(
            on_disk == *content,
            "{:?} on disk differs from the model",
            name
        );
    }
    // Through a fresh storage, as a new connection would see it.
    let mut fresh = DirStorage::new(real.dir.clone());
    let listed = list(&mut fresh).map_err(|e| fail(format!("LIST: {e:?}")))?;
    let expected: Vec<(String, u64)> = model
        .files
        .iter()
        .map(|(n, c)| (n.clone(), c.len() as u64))
        .collect();
    prop_assert_eq!(listed, expected, "LIST");
    for (name, content) in &model.files {
        let size = fresh.open_read(name);
        prop_assert_eq!(size, Ok(content.len() as u64));
        let got = read_to_end(&mut fresh, 64 * 1024);
        prop_assert!(got.as_ref() == Ok(content), "GET {:?} differs", name);
        fresh.close_read();
    }
    // Nothing next to the folder.
    let mut outside: Vec<String> = std::fs::read_dir(place.root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    outside.sort();
    prop_assert_eq!(outside, ["outside", "store"]);
    prop_assert_eq!(
        std::fs::read(place.root.path().join("outside")).unwrap(),
        b"untouched"
    );
    Ok(())
}

/// `Put` as the steps it stands for.
fn expand(op: &Op) -> Vec<Op> {
    let Op::Put {
        s,
        name,
        mode,
        data,
        cuts,
    } = op
    else {
        return vec![op.clone()];
    };
    let (s, name, mode) = (*s, *name, *mode);
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    at.push(0);
    at.push(data.len());
    at.sort_unstable();
    at.dedup();
    let mut steps = vec![Op::Begin { s, name, mode }];
    for w in at.windows(2) {
        let data = data[w[0]..w[1]].to_vec();
        steps.push(Op::Write { s, data });
    }
    steps.push(Op::Commit { s });
    steps
}

fn run(names: &[String], ops: &[Op]) -> Result<(), TestCaseError> {
    let ops: Vec<Op> = ops.iter().flat_map(expand).collect();
    let place = Place::new();
    let mut real = Real::open(&place.store(), 0)?;
    let mut model = Model::default();
    let pick = |i: usize| names[i % names.len()].clone();
    for op in &ops {
        match op {
            Op::Put { .. } => unreachable!("expanded"),
            Op::Begin { s, name, mode } => {
                let name = pick(*name);
                let m = &mut model;
                m.sessions[*s].upload = None;
                let busy = m
                    .sessions
                    .iter()
                    .any(|o| o.upload.as_ref().is_some_and(|(n, _)| *n == name));
                let current = m.files.get(&name);
                let expected = if busy {
                    Err(StorageError::Busy)
                } else {
                    match (mode, current) {
                        (Mode::Create, Some(c)) => Err(StorageError::Exists(c.len() as u64)),
                        (Mode::Append, Some(c)) => Ok(c.clone()),
                        _ => Ok(Vec::new()),
                    }
                };
                let got = real.sessions[*s].begin_write(&name, mode.core());
                prop_assert_eq!(
                    got,
                    expected.as_ref().map(|c| c.len() as u64).map_err(|e| *e),
                    "begin_write {:?} {:?}",
                    name,
                    mode
                );
                if let Ok(start) = expected {
                    m.sessions[*s].upload = Some((name, start));
                }
            }
            Op::Write { s, data } => {
                let up = &mut model.sessions[*s].upload;
                let data = match up {
                    Some((_, c)) => &data[..data.len().min(MAX_FILE - c.len())],
                    None => &data[..],
                };
                let got = real.sessions[*s].write_chunk(data);
                match up {
                    Some((_, c)) => {
                        prop_assert_eq!(got, Ok(()));
                        c.extend_from_slice(data);
                    }
                    None => prop_assert_eq!(got, Err(StorageError::Io), "write with no upload"),
                }
            }
            Op::Commit { s } => {
                let got = real.sessions[*s].commit();
                match model.sessions[*s].upload.take() {
                    Some((name, content)) => {
                        prop_assert_eq!(got, Ok(content.len() as u64), "commit {:?}", name);
                        model.files.insert(name, content);
                    }
                    None => prop_assert_eq!(got, Err(StorageError::Io), "commit with no upload"),
                }
            }
            Op::Abort { s } => {
                real.sessions[*s].abort();
                model.sessions[*s].upload = None;
            }
            Op::Disconnect { s } => {
                real.sessions[*s] = DirStorage::new(real.dir.clone());
                model.sessions[*s] = SessionModel::default();
            }
            Op::List { s } => {
                let got = list(&mut real.sessions[*s]);
                let expected: Vec<(String, u64)> = model
                    .files
                    .iter()
                    .map(|(n, c)| (n.clone(), c.len() as u64))
                    .collect();
                prop_assert_eq!(got, Ok(expected), "LIST");
            }
            Op::OpenRead { s, name } => {
                let name = pick(*name);
                let got = real.sessions[*s].open_read(&name);
                match model.files.get(&name) {
                    Some(c) => {
                        prop_assert_eq!(got, Ok(c.len() as u64), "open {:?}", name);
                        model.sessions[*s].reading = Some((c.clone(), 0));
                    }
                    // A failed open leaves an open download as it was.
                    None => prop_assert_eq!(got, Err(StorageError::NotFound), "open {:?}", name),
                }
            }
            Op::Read { s, max } => {
                let mut buf = vec![0u8; *max];
                let got = real.sessions[*s].read_chunk(&mut buf);
                match &mut model.sessions[*s].reading {
                    Some((c, pos)) => {
                        let n = got.map_err(|e| fail(format!("read: {e:?}")))?;
                        let left = c.len() - *pos;
                        prop_assert!(n <= *max && n <= left, "read {} of {}", n, left);
                        prop_assert!(n > 0 || left == 0, "0 bytes before the end");
                        prop_assert!(buf[..n] == c[*pos..*pos + n], "downloaded bytes differ");
                        *pos += n;
                    }
                    None => prop_assert_eq!(got, Err(StorageError::Io), "read with nothing open"),
                }
            }
            Op::CloseRead { s } => {
                real.sessions[*s].close_read();
                model.sessions[*s].reading = None;
            }
            Op::Get { s, name, chunk } => {
                let name = pick(*name);
                let st = &mut real.sessions[*s];
                let got = st.open_read(&name);
                match model.files.get(&name) {
                    Some(c) => {
                        prop_assert_eq!(got, Ok(c.len() as u64), "GET {:?}", name);
                        let body = read_to_end(st, *chunk);
                        prop_assert!(body.as_ref() == Ok(c), "GET {:?} differs", name);
                        st.close_read();
                        model.sessions[*s].reading = None;
                    }
                    None => prop_assert_eq!(got, Err(StorageError::NotFound), "GET {:?}", name),
                }
            }
            Op::Restart => {
                drop(real);
                real = Real::open(&place.store(), 0)?;
                model.sessions = Default::default();
            }
            Op::CrashRestart => {
                // A killed server runs no destructor: keep hard links of its temporaries
                // outside, let the storages clean up, then put the temporaries back.
                let kept = place.root.path().join("kept");
                std::fs::create_dir(&kept).unwrap();
                let mut temps = Vec::new();
                for e in std::fs::read_dir(place.store()).unwrap() {
                    let name = e.unwrap().file_name();
                    if name.to_string_lossy().starts_with(TEMP_PREFIX) {
                        std::fs::hard_link(place.store().join(&name), kept.join(&name)).unwrap();
                        temps.push(name);
                    }
                }
                prop_assert_eq!(temps.len(), model.uploads());
                drop(real);
                for name in &temps {
                    std::fs::rename(kept.join(name), place.store().join(name)).unwrap();
                }
                std::fs::remove_dir(&kept).unwrap();
                real = Real::open(&place.store(), temps.len())?;
                model.sessions = Default::default();
            }
        }
        check(&place, &real, &model)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(64),
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn dir_storage_matches_the_model(
        extra in proptest::collection::vec(any_valid_name(), 2),
        picks in proptest::collection::vec(0..usize::MAX, 6),
        ops in proptest::collection::vec(op(), 1..=40),
    ) {
        // A small set of names per case, so that operations meet on the same names.
        let all = fixed_names();
        let mut names: Vec<String> = picks.iter().map(|i| all[i % all.len()].clone()).collect();
        names.extend(extra);
        run(&names, &ops)?;
    }
}

// ---------------------------------------------------------------------------------
// The same folder behind whole §3 sessions: `FilesService` connections whose storage
// requests run on the worker pool (`server::pooled::Pooled` with `server::files::disk`).
// ---------------------------------------------------------------------------------

/// `--max-file-size` for the session test: under `MAX_FILE`, so both `too-large`
/// checks (at PUT, and at APPEND against the current size) are reached.
const MAX_STORED: usize = 48 * 1024;

const WAIT: std::time::Duration = std::time::Duration::from_secs(20);

#[derive(Debug, Clone, Copy)]
enum Answer {
    Overwrite,
    Append,
    Cancel,
}

#[derive(Debug, Clone)]
enum Wire {
    /// `PUT <len> <name>`, the answer to `EXISTS` if asked, then the payload in pieces
    /// cut at `cuts`; with `stop`, only the first `stop % len` bytes are sent and the
    /// upload stays open.
    Put {
        c: usize,
        name: usize,
        data: Vec<u8>,
        answer: Answer,
        cuts: Vec<usize>,
        stop: Option<usize>,
    },
    /// Up to `n` more bytes of an open upload.
    More {
        c: usize,
        n: usize,
    },
    Get {
        c: usize,
        name: usize,
    },
    List {
        c: usize,
    },
    Quit {
        c: usize,
    },
    /// The peer vanishes: the session is dropped with whatever it has open.
    Drop {
        c: usize,
    },
    /// `PUT <len> <name>` and the peer vanishes at once, while the storage job for it
    /// (creating the temporary) is probably still running on the pool.
    Vanish {
        c: usize,
        name: usize,
        len: usize,
    },
    /// The peer half-closes (EOF).
    Eof {
        c: usize,
    },
    /// Stop the server (sessions dropped, the pool joined) and start it again.
    Restart,
}

fn wire() -> impl Strategy<Value = Wire> {
    let c = 0..SESSIONS;
    let i = 0..usize::MAX;
    let answer = prop_oneof![
        Just(Answer::Overwrite),
        Just(Answer::Append),
        Just(Answer::Cancel)
    ];
    let cuts = proptest::collection::vec(any::<usize>(), 0..4);
    let stop = proptest::option::weighted(0.4, any::<usize>());
    prop_oneof![
        8 => (c.clone(), i.clone(), data(), answer, cuts, stop).prop_map(
            |(c, name, data, answer, cuts, stop)| Wire::Put { c, name, data, answer, cuts, stop }
        ),
        3 => (c.clone(), 1..MAX_FILE).prop_map(|(c, n)| Wire::More { c, n }),
        3 => (c.clone(), i.clone()).prop_map(|(c, name)| Wire::Get { c, name }),
        2 => c.clone().prop_map(|c| Wire::List { c }),
        1 => c.clone().prop_map(|c| Wire::Quit { c }),
        2 => c.clone().prop_map(|c| Wire::Drop { c }),
        2 => (c.clone(), i, 1..MAX_STORED).prop_map(|(c, name, len)| Wire::Vanish { c, name, len }),
        1 => c.prop_map(|c| Wire::Eof { c }),
        1 => Just(Wire::Restart),
    ]
}

/// An upload a peer has open (after `READY`).
#[derive(Debug)]
struct OpenUpload {
    name: String,
    /// What the file starts from (the current file for APPEND).
    base: Vec<u8>,
    payload: Vec<u8>,
    sent: usize,
}

/// One connection, driven as the event loop drives it.
struct Peer {
    s: Box<dyn socklab_core::session::Session + Send>,
    out: Vec<u8>,
    upload: Option<OpenUpload>,
}

impl Peer {
    fn open(service: &mut socklab::server::FilesService) -> Result<Peer, TestCaseError> {
        use socklab::server::Service;
        let now = socklab_core::Instant::from_millis(0);
        let peer = std::net::SocketAddr::from(([127, 0, 0, 1], 40000));
        let s = service.open(now, peer, socklab::server::wake::Wake::unbound());
        let mut p = Peer {
            s,
            out: Vec::new(),
            upload: None,
        };
        prop_assert_eq!(p.line()?, "OK socklab-files 1\n");
        Ok(p)
    }

    fn drain(&mut self) -> usize {
        let mut buf = [0u8; 4096];
        let n = self.s.poll_output(&mut buf);
        self.out.extend_from_slice(&buf[..n]);
        n
    }

    /// Offer `bytes` until the session took them all (it takes nothing while a storage
    /// job runs, as with a slow disk).
    fn send(&mut self, mut bytes: &[u8]) -> TestCaseResult {
        let deadline = std::time::Instant::now() + WAIT;
        while !bytes.is_empty() {
            let now = socklab_core::Instant::from_millis(1);
            let n = self.s.handle_input(now, bytes);
            bytes = &bytes[n..];
            if self.drain() == 0 && n == 0 {
                prop_assert!(self.s.close_reason().is_none(), "closed while sending");
                prop_assert!(std::time::Instant::now() < deadline, "input not taken");
                std::thread::sleep(std::time::Duration::from_micros(100));
            }
        }
        Ok(())
    }

    /// The next `n` bytes of output.
    fn bytes(&mut self, n: usize) -> Result<Vec<u8>, TestCaseError> {
        let deadline = std::time::Instant::now() + WAIT;
        while self.out.len() < n {
            if self.drain() == 0 {
                prop_assert!(std::time::Instant::now() < deadline, "no reply within 20 s");
                std::thread::sleep(std::time::Duration::from_micros(100));
            }
        }
        Ok(self.out.drain(..n).collect())
    }

    fn line(&mut self) -> Result<String, TestCaseError> {
        prop_support::next_line(self.s.as_mut(), &mut self.out, WAIT, false)
    }

    /// Send up to `n` more bytes of the open upload; once all are sent, check
    /// `OK <size> <crc32 of the payload>` and record the file.
    fn more(&mut self, n: usize, files: &mut BTreeMap<String, Vec<u8>>) -> TestCaseResult {
        let Some(mut up) = self.upload.take() else {
            return Ok(());
        };
        let end = up.sent.saturating_add(n).min(up.payload.len());
        let piece = up.payload[up.sent..end].to_vec();
        self.send(&piece)?;
        up.sent = end;
        if up.sent < up.payload.len() {
            self.upload = Some(up);
            return Ok(());
        }
        let mut content = up.base;
        content.extend_from_slice(&up.payload);
        let ok = format!(
            "OK {} {:08x}\n",
            content.len(),
            crc32fast::hash(&up.payload)
        );
        prop_assert_eq!(self.line()?, ok, "upload of {:?}", up.name);
        files.insert(up.name, content);
        Ok(())
    }

    /// The session has said everything and closed.
    fn closed(&mut self) -> TestCaseResult {
        let deadline = std::time::Instant::now() + WAIT;
        while self.s.close_reason().is_none() || self.s.wants_output() {
            if self.drain() == 0 {
                prop_assert!(
                    std::time::Instant::now() < deadline,
                    "not closed within 20 s"
                );
                std::thread::sleep(std::time::Duration::from_micros(100));
            }
        }
        prop_assert!(self.out.is_empty(), "unexpected output {:?}", self.out);
        Ok(())
    }
}

/// The server: the folder, a one-worker pool (so that a job queued after a dropped
/// connection's clean-up runs after it) and the sessions.
struct Server {
    service: socklab::server::FilesService,
    peers: Vec<Peer>,
}

impl Server {
    fn start(path: &Path) -> Result<Server, TestCaseError> {
        let (dir, startup) = Dir::open_with(path, Temporaries::Named, quiet())
            .map_err(|e| fail(format!("open: {e}")))?;
        prop_assert_eq!(startup.removed, 0, "temporaries left by the last run");
        let pool = socklab::pool::Pool::new("prop-files", 1).unwrap();
        let mut service = socklab::server::FilesService {
            config: socklab_core::files::FilesConfig {
                max_file_size: MAX_STORED as u64,
                idle: socklab_core::Duration::from_secs(300),
                ..Default::default()
            },
            dir,
            pool: Arc::new(pool),
            // Chunk writes take a moment, so that dropped connections often have one
            // running (the "abandoned" path of `Pooled`).
            io_delay: std::time::Duration::from_millis(1),
        };
        let peers = (0..SESSIONS)
            .map(|_| Peer::open(&mut service))
            .collect::<Result<_, _>>()?;
        Ok(Server { service, peers })
    }

    /// Wait until every job queued so far (clean-ups of dropped sessions included) ran.
    fn settle(&self) -> TestCaseResult {
        let (tx, rx) = std::sync::mpsc::channel();
        self.service.pool.spawn(move || {
            let _ = tx.send(());
        });
        prop_assert!(rx.recv_timeout(WAIT).is_ok(), "the pool is stuck");
        Ok(())
    }

    /// The `c`-th connection with an open upload, if any, else connection `c`.
    fn aim(&self, c: usize) -> usize {
        let open: Vec<usize> = (0..SESSIONS)
            .filter(|&i| self.peers[i].upload.is_some())
            .collect();
        if open.is_empty() {
            c
        } else {
            open[c % open.len()]
        }
    }

    fn uploading(&self, name: &str) -> bool {
        self.peers
            .iter()
            .any(|p| p.upload.as_ref().is_some_and(|u| u.name == name))
    }
}

/// One PUT exchange up to `READY` (or the refusal), then the payload.
#[allow(clippy::too_many_arguments)]
fn put(
    srv: &mut Server,
    files: &mut BTreeMap<String, Vec<u8>>,
    c: usize,
    name: &str,
    data: &[u8],
    answer: Answer,
    cuts: &[usize],
    stop: Option<usize>,
) -> TestCaseResult {
    let busy = srv.uploading(name);
    let p = &mut srv.peers[c];
    p.send(format!("PUT {} {name}\n", data.len()).as_bytes())?;
    let got = p.line()?;
    if data.len() > MAX_STORED {
        prop_assert_eq!(got, too_large_line(), "PUT {:?}", name);
        return Ok(());
    }
    if busy {
        prop_assert_eq!(got, busy_line(), "PUT {:?}", name);
        return Ok(());
    }
    let base = match files.get(name) {
        None => {
            prop_assert_eq!(got, "READY\n", "PUT {:?}", name);
            Vec::new()
        }
        Some(current) => {
            prop_assert_eq!(got, format!("EXISTS {}\n", current.len()), "PUT {:?}", name);
            let (word, base) = match answer {
                Answer::Overwrite => ("OVERWRITE", Vec::new()),
                Answer::Append => ("APPEND", current.clone()),
                Answer::Cancel => ("CANCEL", Vec::new()),
            };
            p.send(format!("{word}\n").as_bytes())?;
            let got = p.line()?;
            match answer {
                Answer::Cancel => {
                    prop_assert_eq!(got, "OK cancelled\n");
                    return Ok(());
                }
                Answer::Append if current.len() + data.len() > MAX_STORED => {
                    prop_assert_eq!(got, too_large_line(), "APPEND {:?}", name);
                    return Ok(());
                }
                _ => prop_assert_eq!(got, "READY\n", "{} {:?}", word, name),
            }
            base
        }
    };
    p.upload = Some(OpenUpload {
        name: name.to_owned(),
        base,
        payload: data.to_vec(),
        sent: 0,
    });
    let total = match stop {
        Some(s) if !data.is_empty() => s % data.len(),
        _ => data.len(),
    };
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (total + 1)).collect();
    at.extend([0, total]);
    at.sort_unstable();
    at.dedup();
    if data.is_empty() {
        return p.more(0, files);
    }
    for w in at.windows(2) {
        p.more(w[1] - w[0], files)?;
    }
    Ok(())
}

fn busy_line() -> String {
    "ERR busy another client is uploading this file\n".to_owned()
}

fn too_large_line() -> String {
    format!("ERR too-large the file would be over the limit of {MAX_STORED} bytes\n")
}

fn run_sessions(names: &[String], ops: &[Wire]) -> TestCaseResult {
    let place = Place::new();
    let mut srv = Server::start(&place.store())?;
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let pick = |i: usize| names[i % names.len()].clone();
    for op in ops {
        // `More`, `Drop` and `Eof` go to a connection with an open upload when there
        // is one: that is where they matter.
        let op = &match *op {
            Wire::More { c, n } => Wire::More { c: srv.aim(c), n },
            Wire::Drop { c } => Wire::Drop { c: srv.aim(c) },
            Wire::Eof { c } => Wire::Eof { c: srv.aim(c) },
            ref op => op.clone(),
        };
        // A command on a connection in the middle of a payload would be payload: such
        // a peer first sends the rest.
        if let Wire::Put { c, .. }
        | Wire::Get { c, .. }
        | Wire::List { c }
        | Wire::Quit { c }
        | Wire::Vanish { c, .. } = op
        {
            srv.peers[*c].more(usize::MAX, &mut files)?;
        }
        match op {
            Wire::Put {
                c,
                name,
                data,
                answer,
                cuts,
                stop,
            } => {
                let data = &data[..data.len().min(MAX_STORED + 16)];
                put(
                    &mut srv,
                    &mut files,
                    *c,
                    &pick(*name),
                    data,
                    *answer,
                    cuts,
                    *stop,
                )?;
            }
            Wire::More { c, n } => srv.peers[*c].more(*n, &mut files)?,
            Wire::Get { c, name } => {
                let name = pick(*name);
                let p = &mut srv.peers[*c];
                p.send(format!("GET {name}\n").as_bytes())?;
                let got = p.line()?;
                match files.get(&name) {
                    Some(content) => {
                        prop_assert_eq!(got, format!("DATA {}\n", content.len()));
                        let body = p.bytes(content.len())?;
                        prop_assert!(body == *content, "GET {:?} differs", name);
                    }
                    None => prop_assert_eq!(got, "ERR not-found no such file\n"),
                }
            }
            Wire::List { c } => {
                let p = &mut srv.peers[*c];
                p.send(b"LIST\n")?;
                prop_assert_eq!(p.line()?, format!("OK {}\n", files.len()));
                for (name, content) in &files {
                    let entry = p.bytes(format!("{} {name}\n", content.len()).len())?;
                    prop_assert_eq!(
                        String::from_utf8_lossy(&entry),
                        format!("{} {name}\n", content.len())
                    );
                }
            }
            Wire::Quit { c } => {
                let p = &mut srv.peers[*c];
                p.send(b"QUIT\n")?;
                prop_assert_eq!(p.line()?, "BYE\n");
                p.closed()?;
                srv.peers[*c] = Peer::open(&mut srv.service)?;
            }
            Wire::Drop { c } => {
                srv.peers[*c] = Peer::open(&mut srv.service)?;
            }
            Wire::Vanish { c, name, len } => {
                let line = format!("PUT {len} {}\n", pick(*name));
                let now = socklab_core::Instant::from_millis(1);
                let _ = srv.peers[*c].s.handle_input(now, line.as_bytes());
                srv.peers[*c] = Peer::open(&mut srv.service)?;
            }
            Wire::Eof { c } => {
                let p = &mut srv.peers[*c];
                p.s.handle_eof(socklab_core::Instant::from_millis(2));
                p.closed()?;
                srv.peers[*c] = Peer::open(&mut srv.service)?;
            }
            Wire::Restart => {
                drop(srv);
                srv = Server::start(&place.store())?;
            }
        }
        // Dropped sessions clean up on the pool; wait for it, then the folder must
        // hold the committed files and one temporary per open upload, no more.
        srv.settle()?;
        let open = srv.peers.iter().filter(|p| p.upload.is_some()).count();
        let mut names_on_disk = Vec::new();
        let mut temps = 0;
        for e in std::fs::read_dir(place.store()).unwrap() {
            let name = e.unwrap().file_name().into_string().unwrap();
            if name.starts_with(TEMP_PREFIX) {
                temps += 1;
            } else {
                names_on_disk.push(name);
            }
        }
        names_on_disk.sort();
        prop_assert_eq!(temps, open, "temporaries after {:?}", op);
        let expected: Vec<&String> = files.keys().collect();
        prop_assert_eq!(names_on_disk.iter().collect::<Vec<_>>(), expected);
        for (name, content) in &files {
            let on_disk = std::fs::read(place.store().join(name)).unwrap();
            prop_assert!(on_disk == *content, "{:?} on disk differs", name);
        }
        let mut outside: Vec<String> = std::fs::read_dir(place.root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        outside.sort();
        prop_assert_eq!(outside, ["outside", "store"], "next to the folder");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(64),
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn pooled_sessions_match_the_model(
        extra in proptest::collection::vec(any_valid_name(), 1),
        picks in proptest::collection::vec(0..usize::MAX, 4),
        ops in proptest::collection::vec(wire(), 1..=30),
    ) {
        let all = fixed_names();
        let mut names: Vec<String> = picks.iter().map(|i| all[i % all.len()].clone()).collect();
        names.extend(extra);
        run_sessions(&names, &ops)?;
    }
}
