//! Inputs the cargo-fuzz targets (`core/fuzz`, see FUZZING.md) found to break an
//! invariant, kept in the normal test suite so the bugs stay fixed without nightly.
//!
//! Each test keeps the reproducer byte for byte (also committed as a `seed-regress-*`
//! corpus file, so every fuzz run replays it) and replays what it decodes to —
//! `cargo +nightly fuzz fmt <target> <file>` prints that — through the public API.

use core::cell::RefCell;
use socklab_core::echo::{Echo, EchoConfig};
use socklab_core::files::{
    Files, FilesConfig, RamDisk, RamStore, Scratch, Storage, WriteMode, perform,
};
use socklab_core::session::Idle;
use socklab_core::side::SideWork;
use socklab_core::{CloseReason, Duration, Instant, Session};

/// `echo_session` reproducer, byte for byte. It decodes to: upper, allow-stop, raw mode,
/// idle timeout 3444 ms; `Advance(10061)`, `Timeout`; then the harness sends EOF.
const IDLE_THEN_EOF: &[u8] = &[
    0xf9, 0xf9, 0x26, 0x26, 0x73, 0x0d, 0xf9, 0x26, 0xd8, 0xda, 0xc8, 0x4d, 0x27, 0x4d, 0xcd, 0x4d,
    0x4d, 0xd8, 0xd8,
];

/// The idle wrapper closed the session as `Timeout`, then an EOF reached the inner echo
/// session, which closed as `PeerClosed` — and `close_reason()` changed, though a
/// reason is set once and kept (the log would have said "closed by peer" for a timeout).
#[test]
fn idle_timeout_stays_the_close_reason_after_eof() {
    assert_eq!(IDLE_THEN_EOF.len(), 19);
    let config = EchoConfig {
        upper: true,
        allow_stop: true,
        ..EchoConfig::default()
    };
    let idle = Duration::from_millis(3444);
    let mut s = Idle::new(Echo::<16>::new(config), Instant::ZERO, idle);
    let now = Instant::from_millis(10061);
    s.handle_timeout(now);
    assert_eq!(s.close_reason(), Some(CloseReason::Timeout));
    s.handle_eof(now);
    assert_eq!(s.close_reason(), Some(CloseReason::Timeout));
    assert_eq!(s.handle_input(now, b"late"), 4);
    assert!(!s.wants_output());
}

/// `files_session` reproducer (`corpus/files_session/seed-regress-get-then-put`), byte for
/// byte. Among other steps it decodes to: file `a` of 109 bytes on the disk, `GET a`
/// downloaded, then `PUT 270 a`, `EXISTS`, `APPEND` and the payload.
const GET_THEN_PUT: &[u8] = &[
    0x0a, 0x55, 0x55, 0x55, 0x55, 0xfd, 0xf5, 0x30, 0x6d, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b,
    0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b,
    0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b,
    0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x05, 0x00, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b,
    0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b,
    0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b,
    0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b,
    0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b,
    0x1b, 0x1b, 0xde, 0xe4, 0x1b, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93,
    0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93,
    0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93,
    0x93, 0x93, 0x93, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0x12, 0xff, 0x79, 0x20, 0x6d, 0x60, 0xff, 0x0d, 0x7e, 0x00, 0x00, 0x00, 0x92,
    0xfe, 0x0a, 0xfd, 0x32, 0x8d, 0x01, 0x0a, 0x01, 0x00, 0xfd, 0x00, 0xff, 0x39, 0x39, 0x39, 0x0f,
    0x00, 0x39, 0x39, 0x39, 0x0e, 0x21, 0xa8, 0x5d, 0x29, 0xff, 0x00, 0x00, 0x5d, 0x39, 0xf5, 0x2b,
    0xa8, 0x09, 0x46, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x39, 0x39, 0x39,
    0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93,
    0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x93, 0x0e, 0x21, 0x39, 0x2b, 0x46, 0x01, 0x00, 0x68,
    0xb8, 0x39, 0x31, 0x31, 0x31, 0xff, 0x55, 0x55, 0x86, 0x0a, 0x55, 0x55, 0x55, 0x01, 0x40, 0xf6,
    0x09, 0xa8, 0xf5, 0x5d, 0xfd, 0xf5, 0x00, 0x12, 0x00, 0x55, 0xaf, 0x30, 0x6d, 0x79, 0x20, 0x55,
];

/// Answer every storage request at once, drain the output; returns what was sent.
fn run_files(s: &mut Files<512>, store: &mut RamStore<'_, 4, 1024>, input: &[u8]) -> Vec<u8> {
    let mut scratch = Scratch::<512>::new();
    let mut out = Vec::new();
    let mut rest = input;
    for _ in 0..10_000 {
        let n = s.handle_input(Instant::ZERO, rest);
        rest = &rest[n..];
        while let Some(req) = s.poll_request() {
            let reply = perform(store, req, &mut scratch);
            s.handle_reply(Instant::ZERO, reply);
        }
        let mut buf = [0u8; 4096];
        let n = s.poll_output(&mut buf);
        out.extend_from_slice(&buf[..n]);
        if rest.is_empty() && n == 0 && !s.request_in_flight() {
            break;
        }
    }
    out
}

/// A `GET` left the last downloaded chunk's bounds in the session's shared chunk buffer;
/// the next upload on the same connection appended its payload after them, so the file
/// stored began with stale bytes of the downloaded file (and `OK` reported the bigger
/// size). Replayed here: download `a`, then upload `b` on the same connection.
#[test]
fn upload_after_download_stores_only_the_payload() {
    assert_eq!(GET_THEN_PUT.len(), 400);
    let disk = RefCell::new(RamDisk::<4, 1024>::new());
    {
        let mut pre = RamStore::new(&disk);
        pre.begin_write("a", WriteMode::Create).unwrap();
        pre.write_chunk(&[b'p'; 109]).unwrap();
        pre.commit().unwrap();
    }
    let mut store = RamStore::new(&disk);
    let mut s = Files::<512>::new(Instant::ZERO, FilesConfig::default());
    let out = run_files(&mut s, &mut store, b"GET a\nPUT 3 b\nxyz");
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("DATA 109\n"), "{text}");
    assert!(text.contains("READY\nOK 3 "), "{text}");
    drop(store);
    assert_eq!(disk.borrow().get("b"), Some(&b"xyz"[..]));
}

/// `files_pair` reproducer (`corpus/files_pair/seed-regress-list-while-replaced`), byte for
/// byte. It decodes to: three sessions on one `RamDisk<4, 1024>` holding `a` (8 bytes);
/// session 0 sends `PUT 1 a`, `OVERWRITE` (answered: `EXISTS 8`, `READY`); session 1
/// sends `LIST`; session 0 sends `LIST`, whose first byte is the 1-byte payload; then
/// everything is answered, session 0's commit before session 1's first listing entry.
const LIST_WHILE_REPLACED: &[u8] = &[
    0xa0, 0x0f, 0x3c, 0x01, 0x01, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00,
    0x00, 0x00, 0x25, 0x49, 0x92, 0x24, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0xa0, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x6e, 0xdb, 0xb6,
    0x6d, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x24, 0x01, 0x00, 0x01, 0x01, 0x00,
];

/// Feed `input` to `s`, answer its storage requests, and return its output.
fn step_files(s: &mut Files<512>, store: &mut RamStore<'_, 4, 1024>, input: &[u8]) -> String {
    let mut scratch = Scratch::<512>::new();
    assert_eq!(s.handle_input(Instant::ZERO, input), input.len());
    while let Some(req) = s.poll_request() {
        let reply = perform(store, req, &mut scratch);
        s.handle_reply(Instant::ZERO, reply);
    }
    let mut buf = [0u8; 4096];
    let n = s.poll_output(&mut buf);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// `RamStore`'s listing snapshot kept bare slot numbers. When another session committed
/// a new version of a listed file before the listing reached it, the old slot was freed
/// (nobody was reading it), and `list_next` then read whatever the slot held now: a free
/// slot gave the entry `0 ` with an empty name (not a §3 line), and a slot already
/// reused gave another upload's temporary — a name and a partial size that LIST must
/// never show — or another file, out of order. The snapshot now remembers each slot's
/// generation and skips slots freed since; the session then ends the listing as it ends
/// any listing the store cut short (the count it sent cannot be kept).
#[test]
fn listing_never_reads_a_slot_freed_since_it_began() {
    assert_eq!(LIST_WHILE_REPLACED.len(), 75);
    let disk = RefCell::new(RamDisk::<4, 1024>::new());
    {
        let mut pre = RamStore::new(&disk);
        pre.begin_write("a", WriteMode::Create).unwrap();
        pre.write_chunk(&[b'p'; 8]).unwrap();
        pre.commit().unwrap();
    }
    let (mut store_a, mut store_b, mut store_c) = (
        RamStore::new(&disk),
        RamStore::new(&disk),
        RamStore::new(&disk),
    );
    let new = || Files::<512>::new(Instant::ZERO, FilesConfig::default());
    let (mut a, mut b, mut c) = (new(), new(), new());
    for (s, store) in [
        (&mut a, &mut store_a),
        (&mut b, &mut store_b),
        (&mut c, &mut store_c),
    ] {
        assert_eq!(step_files(s, store, b""), "OK socklab-files 1\n");
    }
    assert_eq!(step_files(&mut a, &mut store_a, b"PUT 1 a\n"), "EXISTS 8\n");
    assert_eq!(step_files(&mut a, &mut store_a, b"OVERWRITE\n"), "READY\n");
    // B's listing starts: a snapshot of one file, `a` in slot 0.
    let mut scratch = Scratch::<512>::new();
    assert_eq!(b.handle_input(Instant::ZERO, b"LIST\n"), 5);
    let req = b.poll_request().unwrap();
    let reply = perform(&mut store_b, req, &mut scratch);
    b.handle_reply(Instant::ZERO, reply);
    let listing_next = b.poll_request().is_some();
    assert!(listing_next, "the first entry is asked for");
    // A commits the new `a` (slot 1); the old slot 0 is freed. C's upload takes it.
    assert!(step_files(&mut a, &mut store_a, b"L").starts_with("OK 1 "));
    assert_eq!(step_files(&mut c, &mut store_c, b"PUT 2 b\n"), "READY\n");
    assert_eq!(step_files(&mut c, &mut store_c, b"x"), "");
    // B's first entry is read now: slot 0 holds C's temporary `b` (1 byte so far).
    let reply = perform(
        &mut store_b,
        socklab_core::files::Request::ListNext,
        &mut scratch,
    );
    b.handle_reply(Instant::ZERO, reply);
    let mut buf = [0u8; 4096];
    let n = b.poll_output(&mut buf);
    let out = String::from_utf8_lossy(&buf[..n]);
    assert_eq!(out, "OK 1\n", "no entry from a slot that changed hands");
    assert_eq!(b.close_reason(), Some(CloseReason::Finished));
    assert_eq!(disk.borrow().get("a"), Some(&b"L"[..]));
    assert_eq!(disk.borrow().get("b"), None);
}
