//! §3 against the core session in memory, with a storage fake: every transcript byte
//! for byte, the error codes, interrupted uploads, a full disk, and payloads far larger
//! than the session's buffer.

mod files_support;

use std::cell::RefCell;
use std::rc::Rc;

use files_support::{Conn, Disk};
use socklab_core::files::{FilesConfig, Storage};
use socklab_core::{CloseReason, Duration, Instant, Session};

fn disk() -> Rc<RefCell<Disk>> {
    Rc::default()
}

fn conn(d: &Rc<RefCell<Disk>>) -> Conn {
    let mut c = Conn::new(d, FilesConfig::default());
    assert_eq!(c.output(), b"OK socklab-files 1\n");
    c
}

fn crc(b: &[u8]) -> String {
    format!("{:08x}", crc32fast::hash(b))
}

fn text(v: Vec<u8>) -> String {
    String::from_utf8(v).unwrap()
}

#[test]
fn list_empty_then_put_then_list() {
    let d = disk();
    let mut c = conn(&d);
    assert_eq!(text(c.exchange(b"LIST\n")), "OK 0\n");
    assert_eq!(text(c.exchange(b"PUT 5 b.txt\n")), "READY\n");
    assert_eq!(
        text(c.exchange(b"hello")),
        format!("OK 5 {}\n", crc(b"hello"))
    );
    assert_eq!(text(c.exchange(b"PUT 2 a b\r\n")), "READY\n");
    c.exchange(b"hi");
    assert_eq!(text(c.exchange(b"LIST\n")), "OK 2\n2 a b\n5 b.txt\n");
    assert_eq!(text(c.exchange(b"QUIT\n")), "BYE\n");
    assert_eq!(c.session.close_reason(), Some(CloseReason::Quit));
}

#[test]
fn exists_overwrite_append_cancel() {
    let d = disk();
    let mut c = conn(&d);
    c.exchange(b"PUT 3 f\nabc");
    assert_eq!(text(c.exchange(b"PUT 2 f\n")), "EXISTS 3\n");
    assert_eq!(text(c.exchange(b"CANCEL\n")), "OK cancelled\n");
    assert_eq!(d.borrow().files["f"], b"abc");
    assert_eq!(text(c.exchange(b"PUT 2 f\n")), "EXISTS 3\n");
    assert_eq!(text(c.exchange(b"APPEND\n")), "READY\n");
    assert_eq!(text(c.exchange(b"de")), format!("OK 5 {}\n", crc(b"de")));
    assert_eq!(d.borrow().files["f"], b"abcde");
    assert_eq!(text(c.exchange(b"PUT 1 f\n")), "EXISTS 5\n");
    assert_eq!(text(c.exchange(b"OVERWRITE\n")), "READY\n");
    assert_eq!(text(c.exchange(b"z")), format!("OK 1 {}\n", crc(b"z")));
    assert_eq!(text(c.exchange(b"GET f\n")), "DATA 1\nz");
}

#[test]
fn get_streams_large_files_through_a_small_buffer() {
    let d = disk();
    let mut c = conn(&d);
    let big: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut put = b"PUT 100000 big\n".to_vec();
    put.extend_from_slice(&big);
    let out = text(c.exchange(&put));
    assert_eq!(out, format!("READY\nOK 100000 {}\n", crc(&big)));
    assert_eq!(d.borrow().files["big"], big);
    let got = c.exchange(b"GET big\n");
    assert_eq!(&got[..12], b"DATA 100000\n");
    assert_eq!(&got[12..], &big[..]);
    // The connection goes on after a download.
    assert_eq!(text(c.exchange(b"LIST\n")), "OK 1\n100000 big\n");
}

#[test]
fn errors_keep_the_connection() {
    let d = disk();
    let mut c = conn(&d);
    let cases: &[(&[u8], &str)] = &[
        (b"HELLO\n", "ERR bad-command "),
        (b"GET nope\n", "ERR not-found no such file\n"),
        (b"GET ../x\n", "ERR bad-name "),
        (b"PUT 1 a/b\n", "ERR bad-name "),
        (b"PUT x a\n", "ERR bad-command "),
        (b"GET \xff\n", "ERR bad-command "),
        (b"OVERWRITE\n", "ERR bad-command "),
        (
            b"PUT 1073741825 big\n",
            "ERR too-large the file would be over the limit of 1073741824 bytes\n",
        ),
    ];
    for (input, want) in cases {
        let got = text(c.exchange(input));
        assert!(got.starts_with(want), "{input:?} -> {got:?}");
        assert!(
            got.ends_with('\n') && got.matches('\n').count() == 1,
            "{got:?}"
        );
        assert_eq!(c.session.close_reason(), None);
    }
}

#[test]
fn line_too_long_closes() {
    let d = disk();
    let mut c = conn(&d);
    let mut line = vec![b'x'; 1025];
    line.push(b'\n');
    assert_eq!(
        text(c.exchange(&line)),
        "ERR line-too-long line longer than 1024 bytes\n"
    );
    assert_eq!(c.session.close_reason(), Some(CloseReason::ProtocolError));
}

#[test]
fn append_over_the_limit_is_refused_before_data() {
    let d = disk();
    let config = FilesConfig {
        max_file_size: 10,
        ..FilesConfig::default()
    };
    let mut c = Conn::new(&d, config);
    c.output();
    c.exchange(b"PUT 8 f\n12345678");
    assert_eq!(text(c.exchange(b"PUT 3 f\n")), "EXISTS 8\n");
    assert_eq!(
        text(c.exchange(b"APPEND\n")),
        "ERR too-large the file would be over the limit of 10 bytes\n"
    );
    assert_eq!(text(c.exchange(b"PUT 2 f\nAPPEND\n")), "EXISTS 8\nREADY\n");
    assert_eq!(d.borrow().uploading.len(), 1);
}

#[test]
fn second_writer_is_busy_and_get_sees_last_version() {
    let d = disk();
    let mut a = conn(&d);
    let mut b = conn(&d);
    a.exchange(b"PUT 3 f\nold");
    assert_eq!(
        text(a.exchange(b"PUT 6 f\nOVERWRITE\nne")),
        "EXISTS 3\nREADY\n"
    );
    assert_eq!(
        text(b.exchange(b"PUT 1 f\n")),
        "ERR busy another client is uploading this file\n"
    );
    assert_eq!(text(b.exchange(b"GET f\n")), "DATA 3\nold");
    a.exchange(b"w!!!");
    assert_eq!(text(b.exchange(b"GET f\n")), "DATA 6\nnew!!!");
}

#[test]
fn disconnect_at_every_step_leaves_nothing() {
    // Cut the client off after each prefix of a PUT conversation, for a new file and for
    // overwrite and append of an existing one: the target never changes, no temporary
    // stays, and the name is free again.
    let payload = b"0123456789".repeat(120);
    for mode in ["", "OVERWRITE\n", "APPEND\n"] {
        let mut script = format!("PUT {} f\n{mode}", payload.len()).into_bytes();
        script.extend_from_slice(&payload);
        for cut in 0..script.len() {
            let d = disk();
            if !mode.is_empty() {
                d.borrow_mut().files.insert("f".into(), b"before".to_vec());
            }
            let mut c = conn(&d);
            c.exchange(&script[..cut]);
            c.eof();
            let disk = d.borrow();
            assert_eq!(disk.temp_bytes, 0, "mode {mode:?} cut {cut}");
            assert!(disk.uploading.is_empty());
            assert_eq!(
                disk.files.get("f").map(Vec::as_slice),
                (!mode.is_empty()).then_some(&b"before"[..]),
                "mode {mode:?} cut {cut}"
            );
        }
    }
}

#[test]
fn full_disk_answers_no_space_and_keeps_nothing() {
    let d = disk();
    d.borrow_mut().capacity = Some(1000);
    let mut c = conn(&d);
    c.exchange(b"PUT 600 a\n");
    c.exchange(&[1; 600]);
    assert_eq!(text(c.exchange(b"PUT 600 b\n")), "READY\n");
    let out = text(c.exchange(&[2; 600]));
    assert_eq!(
        out,
        "ERR no-space no space left on the server; nothing was kept\n"
    );
    assert_eq!(c.session.close_reason(), Some(CloseReason::Finished));
    let disk = d.borrow();
    assert_eq!(disk.temp_bytes, 0);
    assert!(!disk.files.contains_key("b"));
    assert_eq!(disk.files["a"].len(), 600);
}

fn idle(secs: u64) -> FilesConfig {
    FilesConfig {
        idle: Duration::from_secs(secs),
        ..FilesConfig::default()
    }
}

/// Issue 10: `--idle-timeout 2` closed a files connection after 4 s, because the
/// greeting (and `READY`) counted as progress and pushed the deadline back once.
#[test]
fn idle_timeout_is_exact_after_the_greeting_and_mid_upload() {
    let d = disk();
    let mut c = Conn::new(&d, idle(2));
    assert_eq!(c.output(), b"OK socklab-files 1\n");
    assert_eq!(c.run_to(1_999), None);
    assert_eq!(c.run_to(10_000), Some(Instant::from_millis(2_000)));
    assert_eq!(c.session.close_reason(), Some(CloseReason::Timeout));

    // Mid-upload: the last payload bytes at 1.0 s, closed at 3.0 s, nothing kept.
    let mut c = Conn::new(&d, idle(2));
    c.output();
    c.now = Instant::from_millis(500);
    assert_eq!(text(c.exchange(b"PUT 100 f\n")), "READY\n");
    c.now = Instant::from_millis(1_000);
    assert_eq!(c.exchange(&[7; 50]), b"");
    assert_eq!(c.run_to(2_999), None);
    assert_eq!(c.run_to(10_000), Some(Instant::from_millis(3_000)));
    assert_eq!(c.session.close_reason(), Some(CloseReason::Timeout));
    assert_eq!(d.borrow().temp_bytes, 0);
    assert!(d.borrow().files.is_empty());

    // A command answered at 1.5 s counts from 1.5 s, its reply adds nothing.
    let mut c = Conn::new(&d, idle(2));
    c.output();
    c.now = Instant::from_millis(1_500);
    assert_eq!(text(c.exchange(b"LIST\n")), "OK 0\n");
    assert_eq!(c.run_to(10_000), Some(Instant::from_millis(3_500)));
}

/// A download to a client that sends nothing but keeps reading is not idle; once it
/// stops reading, the session closes within `idle * 9/8` of the last progress.
#[test]
fn idle_timeout_counts_download_progress_as_activity() {
    let d = disk();
    d.borrow_mut().files.insert("big".into(), vec![5; 20_000]);
    let mut c = Conn::new(&d, idle(1));
    c.output();
    // Sent, but its answer left for the slow reader below.
    assert_eq!(c.session.handle_input(c.now, b"GET big\n"), 8);
    c.run_storage();
    let mut got = Vec::new();
    // 100 bytes every 300 ms: 6 s of reading, far past the 1 s timeout.
    for step in 1..=20u64 {
        assert_eq!(c.run_to(step * 300), None, "closed while reading");
        got.extend(c.read_some(100));
    }
    assert!(got.len() > 1_000, "{}", got.len());
    let last = c.now;
    let closed = c.run_to(60_000).expect("closed once reading stopped");
    let after = closed.saturating_since(last).total_millis();
    assert!(
        (1_000..=1_125).contains(&after),
        "closed {after} ms after the last read"
    );
}

fn slow_upload_config() -> FilesConfig {
    // 100 bytes/s over 10 s windows: 1,000 bytes per window.
    FilesConfig {
        idle: Duration::from_secs(5),
        min_upload_rate: 100,
        rate_window: Duration::from_secs(10),
        ..FilesConfig::default()
    }
}

/// §3 `--min-upload-rate`: an upload that stays under the rate for a whole window is
/// ended like a timeout, and nothing of it is kept; the window starts at the first byte.
#[test]
fn an_upload_under_the_minimum_rate_is_ended_like_a_timeout() {
    let d = disk();
    d.borrow_mut().files.insert("f".into(), b"kept".to_vec());
    let mut c = Conn::new(&d, slow_upload_config());
    c.output();
    c.now = Instant::from_millis(1_000);
    assert_eq!(
        text(c.exchange(b"PUT 5000 f\nOVERWRITE\n")),
        "EXISTS 4\nREADY\n"
    );
    // First byte at 3 s, then 50 bytes every 4 s: never idle, 150 bytes a window.
    for t in [3_000, 7_000, 11_000] {
        assert_eq!(c.run_to(t), None);
        assert_eq!(c.exchange(&[1; 50]), b"");
    }
    assert_eq!(c.run_to(12_999), None);
    assert_eq!(c.run_to(60_000), Some(Instant::from_millis(13_000)));
    assert_eq!(c.session.close_reason(), Some(CloseReason::Timeout));
    assert_eq!(c.output(), b"", "ended like a timeout: no line");
    assert_eq!(d.borrow().files["f"], b"kept");
    assert_eq!(d.borrow().temp_bytes, 0);
    assert!(d.borrow().uploading.is_empty(), "the name is free again");
}

/// The rate is judged window by window: an upload at the rate, even in bursts, goes on
/// for as many windows as it needs.
#[test]
fn an_upload_at_the_minimum_rate_completes() {
    let d = disk();
    let mut c = Conn::new(&d, slow_upload_config());
    c.output();
    assert_eq!(text(c.exchange(b"PUT 3000 f\n")), "READY\n");
    // 1,000 bytes in each window (250 every 2.5 s), three windows.
    let mut t = 0;
    for _ in 0..11 {
        assert_eq!(c.run_to(t), None, "closed at {t} ms");
        assert_eq!(c.exchange(&[2; 250]), b"");
        t += 2_500;
    }
    assert_eq!(c.run_to(t), None);
    assert_eq!(
        text(c.exchange(&[2; 250])),
        format!("OK 3000 {}\n", crc(&[2; 3000]))
    );
    assert_eq!(c.session.close_reason(), None);
}

/// The defaults are §3's: 1,024 bytes/s over 60 s. A one-byte-a-second trickle (never
/// idle under the 300 s timeout) is cut exactly 60 s after its first byte.
#[test]
fn default_rate_rule_cuts_a_trickle_after_60_s() {
    let d = disk();
    let config = FilesConfig::default();
    assert_eq!(config.min_upload_rate, 1024);
    assert_eq!(config.rate_window, Duration::from_secs(60));
    let mut c = Conn::new(&d, config);
    c.output();
    assert_eq!(text(c.exchange(b"PUT 1000000 f\n")), "READY\n");
    for s in 0..60 {
        assert_eq!(c.run_to(s * 1000), None);
        c.exchange(b"x");
    }
    assert_eq!(c.run_to(120_000), Some(Instant::from_millis(60_000)));
    assert_eq!(c.session.close_reason(), Some(CloseReason::Timeout));
    assert!(d.borrow().files.is_empty());
}

#[test]
fn quit_while_exists_and_cancel_leave_nothing() {
    let d = disk();
    let mut c = conn(&d);
    c.exchange(b"PUT 1 f\nx");
    assert_eq!(
        text(c.exchange(b"PUT 1 f\nLIST\n")),
        "EXISTS 1\nERR bad-command answer EXISTS with OVERWRITE, APPEND or CANCEL\n"
    );
    assert_eq!(text(c.exchange(b"QUIT\n")), "BYE\n");
    let mut s = files_support::MemStore::new(d.clone());
    assert_eq!(s.list_begin(), Ok(1));
}

#[test]
fn eof_after_a_whole_command_still_answers_it() {
    let d = disk();
    let mut c = conn(&d);
    // The last payload byte and EOF together: the upload is complete, so it is kept and
    // answered before the session closes.
    c.exchange(b"PUT 2 f\nhi");
    c.eof();
    assert_eq!(text(c.output()), "");
    assert_eq!(d.borrow().files["f"], b"hi");
    assert_eq!(c.session.close_reason(), Some(CloseReason::PeerClosed));
}

/// §0's stop: a download under way is finished whole, an upload takes the rest of its
/// payload and is committed, and no new command starts; between commands a stop closes
/// at once.
#[test]
fn a_stop_finishes_the_transfer_under_way_and_starts_nothing() {
    use socklab_core::Work;
    let d = disk();
    let big: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
    d.borrow_mut().files.insert("big".into(), big.clone());

    let mut c = conn(&d);
    c.session.handle_input(Instant::ZERO, b"GET big\n");
    c.run_storage();
    let mut buf = [0u8; 100];
    let n = c.session.poll_output(&mut buf);
    assert_eq!(&buf[..10], b"DATA 5000\n");
    c.session.handle_stop(Instant::ZERO);
    let done = (n - 10) as u64;
    let work = Work::Download {
        name: "big",
        done,
        total: 5000,
    };
    assert_eq!(c.session.in_flight(), Some(work));
    assert_eq!(
        work.to_string(),
        format!("GET big cut after {done} of 5000 bytes")
    );
    let mut got = buf[10..n].to_vec();
    got.extend(c.exchange(b"LIST\n"));
    assert_eq!(got, big, "the download is finished, the LIST not started");
    assert_eq!(c.session.close_reason(), Some(CloseReason::ServerStopping));
    assert_eq!(c.session.in_flight(), None);

    let mut c = conn(&d);
    assert_eq!(text(c.exchange(b"PUT 1000 up\n")), "READY\n");
    c.exchange(&big[..300]);
    c.session.handle_stop(Instant::ZERO);
    assert_eq!(
        c.session.in_flight(),
        Some(Work::Upload {
            name: "up",
            done: 300,
            total: 1000
        })
    );
    let mut rest = big[300..1000].to_vec();
    rest.extend_from_slice(b"LIST\n");
    assert_eq!(
        text(c.exchange(&rest)),
        format!("OK 1000 {}\n", crc(&big[..1000]))
    );
    assert_eq!(d.borrow().files["up"], &big[..1000]);
    assert_eq!(c.session.close_reason(), Some(CloseReason::ServerStopping));

    let mut c = conn(&d);
    c.session.handle_stop(Instant::ZERO);
    assert_eq!(c.session.in_flight(), None);
    assert_eq!(c.session.close_reason(), Some(CloseReason::ServerStopping));
}
