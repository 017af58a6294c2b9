//! Criterion micro-benchmarks of the core's borrowing parsers, each against a plain std
//! or `memchr` peer doing the same job, so a regression shows up as a ratio rather than
//! as an absolute number that depends on the machine.
//!
//! Run: `cargo bench -p socklab-bench --bench parsers`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use socklab_core::Status;
use socklab_core::frame::{self, DEFAULT_MAX_FRAME};
use socklab_core::line::{LineReader, MAX_LINE, MAX_LINE_BUF, split_line};
use socklab_core::quiz::parse_answer;
use std::hint::black_box;
use std::time::Duration;

/// Size of the line-splitting input: about what one busy read loop sees between two
/// polls, and large enough that per-call overhead, not cache misses, dominates.
const LINES_BYTES: usize = 64 * 1024;

/// Bytes of frames per frame-decoding input, whatever the frame size.
const FRAMES_BYTES: usize = 1024 * 1024;

/// A deterministic 64 KiB mix of what the text services really receive: short quiz
/// answers and ~80-byte command/chat lines, terminated by LF or (as `nc -C` and telnet
/// send them) CRLF. A fixed LCG keeps the input the same on every run.
fn line_input() -> Vec<u8> {
    const ANSWERS: [&[u8]; 4] = [b"68", b"  -12  ", b"2435", b"729"];
    let mut seed: u32 = 0x2545_f491;
    let mut next = || {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        seed >> 8
    };
    let mut buf = Vec::with_capacity(LINES_BYTES + 128);
    while buf.len() < LINES_BYTES {
        let r = next();
        if r % 2 == 0 {
            buf.extend_from_slice(ANSWERS[(r as usize / 2) % ANSWERS.len()]);
        } else {
            let len = 70 + (r as usize % 21);
            buf.extend((0..len).map(|i| b'a' + ((i + r as usize) % 26) as u8));
        }
        if next() % 3 == 0 {
            buf.push(b'\r');
        }
        buf.push(b'\n');
    }
    buf
}

/// Split every line with the core's `split_line`: returns (lines, content bytes) so the
/// work cannot be optimised away and the peers can be checked to agree.
fn split_all(buf: &[u8]) -> (usize, usize) {
    let (mut n, mut sum, mut pos) = (0, 0, 0);
    while let Ok(Status::Complete(line)) = split_line(&buf[pos..], MAX_LINE) {
        n += 1;
        sum += line.bytes.len();
        pos += line.consumed;
    }
    (n, sum)
}

/// The same split through a `LineReader` fed in 1500-byte pieces (one Ethernet MTU of
/// payload per read), so lines cut across reads take the buffered path.
fn reader_all(buf: &[u8]) -> (usize, usize) {
    let mut reader = LineReader::<MAX_LINE_BUF>::new();
    let (mut n, mut sum) = (0, 0);
    for piece in buf.chunks(1500) {
        let mut rest = piece;
        loop {
            let step = reader.next_line(rest);
            let consumed = step.consumed;
            match step.line {
                Some(Ok(line)) => {
                    n += 1;
                    sum += line.len();
                }
                None => break,
                Some(Err(e)) => panic!("bench input is valid: {e}"),
            }
            rest = &rest[consumed..];
        }
    }
    (n, sum)
}

/// The speed limit: one `memchr_iter` pass with the same CR stripping, and no length
/// limit or partial-line handling at all.
fn memchr_all(buf: &[u8]) -> (usize, usize) {
    let (mut n, mut sum, mut start) = (0, 0, 0);
    for lf in memchr::memchr_iter(b'\n', buf) {
        let line = &buf[start..lf];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        n += 1;
        sum += line.len();
        start = lf + 1;
    }
    (n, sum)
}

fn bench_lines(c: &mut Criterion) {
    let buf = line_input();
    assert_eq!(split_all(&buf), memchr_all(&buf));
    assert_eq!(reader_all(&buf), memchr_all(&buf));
    let mut g = c.benchmark_group("lines_64KiB");
    g.throughput(Throughput::Bytes(buf.len() as u64));
    g.bench_function("split_line", |b| b.iter(|| split_all(black_box(&buf))));
    g.bench_function("LineReader_1500B_reads", |b| {
        b.iter(|| reader_all(black_box(&buf)))
    });
    g.bench_function("memchr_iter_peer", |b| {
        b.iter(|| memchr_all(black_box(&buf)))
    });
    g.finish();
}

/// About 1 MiB of back-to-back frames of `size` payload bytes each.
fn frame_input(size: usize) -> Vec<u8> {
    let count = (FRAMES_BYTES / (size + frame::HEADER_LEN)).max(1);
    let payload = vec![0x5a_u8; size];
    let mut buf = vec![0u8; count * (size + frame::HEADER_LEN)];
    let mut pos = 0;
    for _ in 0..count {
        pos += frame::encode(&payload, &mut buf[pos..]).expect("buffer sized for it");
    }
    buf
}

/// Decode every frame with the discard contract: drop `discard` bytes after each one.
fn decode_all(buf: &[u8]) -> (usize, usize) {
    let (mut n, mut sum, mut pos) = (0, 0, 0);
    while let Ok(Status::Complete(f)) = frame::decode(&buf[pos..], DEFAULT_MAX_FRAME) {
        n += 1;
        sum += f.payload.len();
        pos += f.discard;
    }
    (n, sum)
}

/// The peer: a hand-written decoder (`u32::from_be_bytes` and slice bounds), what the
/// core would be without nom; the core must match it, as both only hop from header to
/// header and never touch the payload.
fn manual_all(buf: &[u8]) -> (usize, usize) {
    let (mut n, mut sum, mut pos) = (0, 0, 0);
    while let Some(head) = buf.get(pos..pos + frame::HEADER_LEN) {
        let len = u32::from_be_bytes(head.try_into().expect("4 bytes"));
        if len > DEFAULT_MAX_FRAME {
            break;
        }
        let end = pos + frame::HEADER_LEN + len as usize;
        let Some(payload) = buf.get(pos + frame::HEADER_LEN..end) else {
            break;
        };
        n += 1;
        sum += payload.len();
        pos = end;
    }
    (n, sum)
}

fn bench_frames(c: &mut Criterion) {
    let mut g = c.benchmark_group("frame_decode_1MiB");
    for size in [16usize, 1024, 65536] {
        let buf = frame_input(size);
        assert_eq!(decode_all(&buf).1, buf.len() / (size + 4) * size);
        assert_eq!(decode_all(&buf), manual_all(&buf));
        g.throughput(Throughput::Bytes(buf.len() as u64));
        g.bench_with_input(BenchmarkId::new("decode", size), &buf, |b, buf| {
            b.iter(|| decode_all(black_box(buf)))
        });
        g.bench_with_input(BenchmarkId::new("manual_peer", size), &buf, |b, buf| {
            b.iter(|| manual_all(black_box(buf)))
        });
    }
    g.finish();
}

/// The peer: what a hand-written server would do — UTF-8 check, trim, `str::parse`.
/// (It trims all whitespace, so it is slightly more lenient than §2; that only makes it
/// a harder peer to beat.)
fn std_answer(line: &[u8]) -> Option<i64> {
    std::str::from_utf8(line).ok()?.trim().parse::<i64>().ok()
}

fn bench_answers(c: &mut Criterion) {
    let cases: [(&str, &[u8]); 4] = [
        ("68", b"68"),
        ("spaced_-12", b"  -12  "),
        ("2435", b"2435"),
        (
            "long_invalid",
            b"I think it is 2435, or maybe 2436, but certainly not anything above 3000 at all",
        ),
    ];
    let mut g = c.benchmark_group("quiz_answer");
    for (name, line) in cases {
        assert_eq!(parse_answer(line).ok(), std_answer(line), "{name}");
        g.throughput(Throughput::Bytes(line.len() as u64));
        g.bench_with_input(BenchmarkId::new("parse_answer", name), line, |b, l| {
            b.iter(|| parse_answer(black_box(l)))
        });
        g.bench_with_input(
            BenchmarkId::new("std_trim_parse_peer", name),
            line,
            |b, l| b.iter(|| std_answer(black_box(l))),
        );
    }
    g.finish();
}

/// Short runs: the machine is 2 shared cores, and these loops are tight enough that
/// 2 s per bench already gives stable medians.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_lines, bench_frames, bench_answers
}
criterion_main!(benches);
