//! §1 echo and §7 framed echo over real loopback sockets, against the built binary.

mod serve_support;

use std::io::Write;
use std::thread;

use serve_support::*;

fn echo(extra: &[&str]) -> Server {
    let mut args = vec!["echo", "--port", "0"];
    args.extend_from_slice(extra);
    serve(&args, 1)
}

#[test]
fn echoes_every_byte_value_unchanged() {
    let server = echo(&[]);
    let mut c = server.connect();
    let all: Vec<u8> = (0..=255u8).chain(*b"hello\n").collect();
    assert_eq!(round_trip(&mut c, &all), all);
    assert_eq!(round_trip(&mut c, b"no newline yet"), b"no newline yet");
    half_close(&c);
    assert_eq!(read_to_eof(&mut c), b"");
    server.wait_log("client disconnected (closed by peer)");
}

#[test]
fn quit_is_not_echoed_and_closes() {
    let server = echo(&[]);
    let mut c = server.connect();
    c.write_all(b"one\nquit\n").unwrap();
    assert_eq!(read_to_eof(&mut c), b"one\n");
    let log = server.wait_log("client disconnected (quit)");
    assert!(log.contains("client connected"), "{log}");
}

#[test]
fn typed_like_nc_with_and_without_cr() {
    // What `nc` sends when a person types three lines, and `nc -C` after that.
    let server = echo(&[]);
    let mut c = server.connect();
    assert_eq!(round_trip(&mut c, b"hello\n"), b"hello\n");
    assert_eq!(round_trip(&mut c, b"quitting soon\n"), b"quitting soon\n");
    assert_eq!(round_trip(&mut c, b"world\r\n"), b"world\r\n");
    assert_eq!(round_trip(&mut c, b"quit now\r\n"), b"quit now\r\n");
    c.write_all(b"quit\r\n").unwrap();
    assert_eq!(read_to_eof(&mut c), b"");
    server.wait_log("client disconnected (quit)");
}

#[test]
fn quit_split_across_writes_still_counts() {
    let server = echo(&[]);
    let mut c = server.connect();
    assert_eq!(round_trip(&mut c, b"a\n"), b"a\n");
    c.write_all(b"qu").unwrap();
    c.flush().unwrap();
    thread::sleep(std::time::Duration::from_millis(50));
    c.write_all(b"it\n").unwrap();
    assert_eq!(read_to_eof(&mut c), b"");
}

#[test]
fn stop_is_data_without_allow_stop() {
    let server = echo(&[]);
    let mut c = server.connect();
    assert_eq!(round_trip(&mut c, b"stop\n"), b"stop\n");
    assert_eq!(round_trip(&mut c, b"still here\n"), b"still here\n");
    assert!(!server.log().contains("server stopping"));
}

#[test]
fn stop_with_allow_stop_stops_the_whole_server() {
    let mut server = echo(&["--allow-stop"]);
    let mut other = server.connect();
    assert_eq!(round_trip(&mut other, b"bystander\n"), b"bystander\n");
    let mut c = server.connect();
    c.write_all(b"before\nstop\nafter\n").unwrap();
    assert_eq!(read_to_eof(&mut c), b"before\n");
    // The other connection is closed too, and the process exits 0.
    assert_eq!(read_to_eof(&mut other), b"");
    let status = server.wait_exit();
    assert!(status.success(), "{status:?}");
    let log = server.log();
    assert!(
        log.contains("server stopping (stop requested by 127.0.0.1:"),
        "{log}"
    );
    assert!(
        log.contains("client disconnected (server stopping)"),
        "{log}"
    );
    assert!(log.contains("client disconnected (quit)"), "{log}");
}

/// §1: a held-back `qu` is owed like any other byte; a stop must not drop it.
#[test]
fn stop_first_delivers_what_every_other_connection_is_owed() {
    let mut server = echo(&["--allow-stop"]);
    let mut other = server.connect();
    // `qu` could still become `quit`: the server holds it back (for up to 200 ms).
    other.write_all(b"hello\nqu").unwrap();
    assert_eq!(read_n(&mut other, 6), b"hello\n");
    let mut c = server.connect();
    c.write_all(b"stop\n").unwrap();
    assert_eq!(read_to_eof(&mut c), b"");
    assert_eq!(
        read_to_eof(&mut other),
        b"qu",
        "the held-back bytes were dropped"
    );
    assert!(server.wait_exit().success());
    let log = server.log();
    let stopping = log.find("server stopping (stop requested by").expect(&log);
    let cut = log
        .find("client disconnected (server stopping)")
        .expect(&log);
    assert!(stopping < cut, "the stop is logged first:\n{log}");
}

/// §1: a client that sends `q` and waits gets its `q` back; `uit` then still quits.
#[test]
fn a_held_back_prefix_comes_back_after_a_pause() {
    let server = echo(&["--allow-stop"]);
    let mut c = server.connect();
    c.write_all(b"q").unwrap();
    assert_eq!(read_n(&mut c, 1), b"q", "held until the idle timeout");
    c.write_all(b"uit\n").unwrap();
    assert_eq!(read_to_eof(&mut c), b"");
    server.wait_log("client disconnected (quit)");
    // Also for `st` (of `stop`), which does not stop the server when sent whole later
    // as data of another line.
    let mut d = server.connect();
    d.write_all(b"st").unwrap();
    assert_eq!(read_n(&mut d, 2), b"st");
    assert_eq!(round_trip(&mut d, b"ep\n"), b"ep\n");
    assert!(!server.log().contains("server stopping"));
}

#[test]
fn upper_changes_ascii_letters_only() {
    let server = echo(&["--upper"]);
    let mut c = server.connect();
    let sent = "Hello, wörld 42!\n".as_bytes();
    let want = "HELLO, WöRLD 42!\n".as_bytes();
    assert_eq!(round_trip(&mut c, sent), want);
    assert_eq!(round_trip(&mut c, b"\x00\xffabc\n"), b"\x00\xffABC\n");
}

#[test]
fn quit_cut_off_by_eof_is_data() {
    let server = echo(&[]);
    let mut c = server.connect();
    c.write_all(b"x\nquit").unwrap();
    half_close(&c);
    assert_eq!(read_to_eof(&mut c), b"x\nquit");
    server.wait_log("client disconnected (closed by peer)");
}

#[test]
fn half_close_returns_everything_left() {
    // 4 MiB sent without reading: the server must hold back (backpressure) rather than
    // buffer it, and still return every byte in order after the EOF.
    let server = echo(&["--chunk", "4096"]);
    let mut c = server.connect();
    let data: Vec<u8> = (0..4 << 20).map(|i: u32| (i * 7 + i / 251) as u8).collect();
    let mut w = c.try_clone().unwrap();
    let sent = data.clone();
    let writer = thread::spawn(move || {
        w.write_all(&sent).unwrap();
        half_close(&w);
    });
    let got = read_to_eof(&mut c);
    writer.join().unwrap();
    assert_eq!(got.len(), data.len());
    assert!(got == data, "echo differs from what was sent");
}

#[test]
fn chunk_bounds_each_read() {
    let server = echo(&["--chunk", "3", "-v"]);
    let mut c = server.connect();
    assert_eq!(round_trip(&mut c, b"abcdefgh\n"), b"abcdefgh\n");
    let log = server.wait_log("data sent");
    assert!(log.contains("data received (3 bytes)"), "{log}");
    assert!(!log.contains("data received (9 bytes)"), "{log}");
}

#[test]
fn vv_dumps_every_chunk_in_hex() {
    let server = echo(&["-vv"]);
    let mut c = server.connect();
    assert_eq!(round_trip(&mut c, b"hi\n"), b"hi\n");
    let dump = "    00000000  68 69 0a                                          |hi.|\n";
    server.wait_log(&format!("data received (3 bytes)\n{dump}"));
    let log = server.wait_log(&format!("data sent (3 bytes)\n{dump}"));
    assert_eq!(log.matches(dump).count(), 2, "{log}");
}

#[test]
fn default_log_has_connection_events_only() {
    let server = echo(&[]);
    let mut c = server.connect();
    assert_eq!(round_trip(&mut c, b"hi\n"), b"hi\n");
    drop(c);
    let log = server.wait_log("client disconnected (closed by peer)");
    assert!(!log.contains("data received"), "{log}");
    assert!(!log.contains("00000000"), "{log}");
    // The learner-facing format: timestamp, service, peer, event.
    let line = log
        .lines()
        .find(|l| l.contains("client connected"))
        .unwrap();
    let mut words = line.split(' ');
    let ts = words.next().unwrap();
    assert!(
        ts.len() == 24 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T',
        "{line}"
    );
    assert_eq!(words.next(), Some("echo"));
    assert!(words.next().unwrap().starts_with("127.0.0.1:"), "{line}");
    assert_eq!(words.collect::<Vec<_>>(), ["client", "connected"]);
}

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes().to_vec();
    f.extend_from_slice(payload);
    f
}

#[test]
fn framed_echo_returns_each_frame() {
    let server = echo(&["--framed"]);
    let mut c = server.connect();
    for payload in [&b"hello"[..], b"", b"quit\n", &[0u8, 1, 2, 255]] {
        let f = frame(payload);
        assert_eq!(round_trip(&mut c, &f), f);
    }
    let big: Vec<u8> = (0..65536u32).map(|i| i as u8).collect();
    let f = frame(&big);
    let mut w = c.try_clone().unwrap();
    let sent = f.clone();
    let writer = thread::spawn(move || w.write_all(&sent).unwrap());
    assert_eq!(read_n(&mut c, f.len()), f);
    writer.join().unwrap();
}

#[test]
fn framed_upper() {
    let server = echo(&["--framed", "--upper"]);
    let mut c = server.connect();
    assert_eq!(round_trip(&mut c, &frame(b"abc")), frame(b"ABC"));
}

#[test]
fn frame_over_max_frame_closes_the_connection() {
    let server = echo(&["--framed", "--max-frame", "16"]);
    let mut c = server.connect();
    let ok = frame(b"sixteen bytes ok");
    assert_eq!(round_trip(&mut c, &ok), ok);
    c.write_all(&frame(b"seventeen bytes!!")).unwrap();
    assert_eq!(read_to_eof(&mut c), b"");
    // The log says what was wrong, with the figures.
    server.wait_log("client disconnected (protocol error: frame header says 17 bytes, limit 16)");
}

/// What §1 says the server sends back for `input` followed by EOF: every line echoed
/// until a line that is exactly `quit` (CR dropped); a cut-off last line is data.
fn reference_echo(input: &[u8], upper: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = input;
    loop {
        let Some(i) = rest.iter().position(|&b| b == b'\n') else {
            out.extend_from_slice(rest);
            break;
        };
        let line = &rest[..i];
        if line.strip_suffix(b"\r").unwrap_or(line) == b"quit" {
            break;
        }
        out.extend_from_slice(&rest[..=i]);
        rest = &rest[i + 1..];
    }
    if upper {
        out.make_ascii_uppercase();
    }
    out
}

#[test]
fn random_streams_with_command_lookalikes_match_the_reference() {
    use socklab_core::rng::{Rng, SplitMix64};
    for upper in [false, true] {
        let server = if upper { echo(&["--upper"]) } else { echo(&[]) };
        let mut rng = SplitMix64::new(2026);
        for case in 0..150 {
            let alphabet = b"quitsopQ\r\nx";
            let len = rng.below(40) as usize;
            let input: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.below(alphabet.len() as u64) as usize])
                .collect();
            let want = reference_echo(&input, upper);
            let mut c = server.connect();
            c.set_nodelay(true).unwrap();
            // Random split points, so command prefixes straddle reads.
            let mut at = 0;
            while at < input.len() {
                let n = 1 + rng.below((input.len() - at) as u64) as usize;
                if c.write_all(&input[at..at + n]).is_err() {
                    break; // the server already closed after a quit
                }
                at += n;
            }
            let _ = c.shutdown(std::net::Shutdown::Write);
            let got = read_to_eof(&mut c);
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want),
                "case {case}, input {:?}",
                String::from_utf8_lossy(&input)
            );
        }
    }
}

#[test]
fn framed_stream_split_at_random_points() {
    use socklab_core::rng::{Rng, SplitMix64};
    let server = echo(&["--framed", "--max-frame", "3000"]);
    let mut rng = SplitMix64::new(77);
    let mut c = server.connect();
    c.set_nodelay(true).unwrap();
    let mut stream = Vec::new();
    for _ in 0..200 {
        let len = rng.below(3001) as usize;
        let payload: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        if payload.len() == 4 {
            continue; // a 4-byte frame might spell a command
        }
        stream.extend_from_slice(&frame(&payload));
    }
    let mut w = c.try_clone().unwrap();
    let sent = stream.clone();
    let writer = thread::spawn(move || {
        let mut rng = SplitMix64::new(78);
        let mut at = 0;
        while at < sent.len() {
            let n = (1 + rng.below(5000) as usize).min(sent.len() - at);
            w.write_all(&sent[at..at + n]).unwrap();
            at += n;
        }
        half_close(&w);
    });
    let got = read_to_eof(&mut c);
    writer.join().unwrap();
    assert!(
        got == stream,
        "framed echo differs ({} vs {} bytes)",
        got.len(),
        stream.len()
    );
}
