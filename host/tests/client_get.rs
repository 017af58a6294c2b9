//! `socklab get` (§8) against real servers on loopback: python3's `http.server` serving a
//! temporary directory, and scripted servers (a std listener thread) for what a stock
//! server will not do on demand — chunks split at awkward points, redirect chains and
//! loops, stalls, lying `Content-Length`s, oversized heads. Every wait is bounded.

mod client_common;

use client_common::{DEADLINE, accept, listener, random_bytes, run_with_input, socklab};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Run `socklab get ARGS...`.
fn get(args: &[&str]) -> Output {
    let mut cmd = socklab();
    cmd.arg("get").args(args);
    run_with_input(cmd, Vec::new())
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit code, stdout and stderr, for one-line assertions.
fn outcome(out: &Output) -> (Option<i32>, &[u8], String) {
    (out.status.code(), &out.stdout[..], stderr(out))
}

fn url(addr: SocketAddr, path: &str) -> String {
    format!("http://{addr}{path}")
}

/// A directory under the system temp dir, removed with everything in it on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("socklab-get-{}-{n}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_owned()
    }

    /// Every entry, hidden ones (a leftover temporary file) included, sorted.
    fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Read a request head (up to the blank line), byte by byte, bounded.
fn read_request(s: &mut TcpStream) -> String {
    let mut req = Vec::new();
    let mut b = [0u8];
    while !req.ends_with(b"\r\n\r\n") && req.len() < 8192 && s.read(&mut b).unwrap_or(0) == 1 {
        req.push(b[0]);
    }
    String::from_utf8(req).unwrap()
}

/// The request target of a request head.
fn target(req: &str) -> &str {
    req.split(' ').nth(1).unwrap_or("")
}

/// Serve `n` connections in turn: read the request, let `respond` answer (it gets the
/// connection's index and the request). Returns the requests.
fn serve(
    l: TcpListener,
    n: usize,
    respond: impl Fn(usize, &str, &mut TcpStream) + Send + 'static,
) -> JoinHandle<Vec<String>> {
    thread::spawn(move || {
        (0..n)
            .map(|i| {
                let mut s = accept(&l);
                let req = read_request(&mut s);
                respond(i, &req, &mut s);
                req
            })
            .collect()
    })
}

/// Serve one connection with a fixed response, then close.
fn serve_bytes(response: Vec<u8>) -> (SocketAddr, JoinHandle<Vec<String>>) {
    let (l, addr) = listener();
    let h = serve(l, 1, move |_, _, s| {
        let _ = s.write_all(&response);
    });
    (addr, h)
}

/// Send `pieces` one write at a time with a pause between, so they arrive as separate
/// reads on the client side.
fn trickle(s: &mut TcpStream, pieces: &[&[u8]]) {
    s.set_nodelay(true).unwrap();
    for p in pieces {
        if s.write_all(p).is_err() {
            return;
        }
        thread::sleep(Duration::from_millis(3));
    }
}

/// Wait until the client closes its end (it exited), bounded by the stream's timeout.
fn wait_for_close(s: &mut TcpStream) {
    let mut buf = [0u8; 1024];
    while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
}

// ---------------------------------------------------------------------------------
// python3 -m http.server

struct PyServer {
    child: Child,
    port: u16,
}

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `python3 -m http.server` on 127.0.0.1 and a port of its choosing, serving `dir`;
/// None (the test is skipped) if python3 is missing.
fn python_server(dir: &Path) -> Option<PyServer> {
    let mut child = Command::new("python3")
        .args(["-u", "-m", "http.server", "--bind", "127.0.0.1", "0"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let mut server = PyServer { child, port: 0 };
    // "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
    let line = rx
        .recv_timeout(DEADLINE)
        .expect("http.server did not start");
    let port = line.split(" port ").nth(1)?.split(' ').next()?;
    server.port = port.parse().ok()?;
    Some(server)
}

#[test]
fn python_http_server_files_404_and_directory_redirect() {
    let dir = TempDir::new("www");
    let page = random_bytes(100_000, 7);
    std::fs::write(dir.0.join("page.bin"), &page).unwrap();
    std::fs::create_dir(dir.0.join("sub")).unwrap();
    std::fs::write(dir.0.join("sub").join("index.html"), b"<h1>sub</h1>\n").unwrap();
    let Some(py) = python_server(&dir.0) else {
        eprintln!("python3 not available: skipped");
        return;
    };
    let base = format!("http://127.0.0.1:{}", py.port);

    let out = get(&[&format!("{base}/page.bin")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout == page, "stdout is the file, byte for byte");

    let out_dir = TempDir::new("out");
    let file = out_dir.path("copy.bin");
    let out = get(&["-o", &file, &format!("{base}/page.bin")]);
    assert_eq!(outcome(&out), (Some(0), &b""[..], String::new()));
    assert!(std::fs::read(&file).unwrap() == page);
    assert_eq!(out_dir.entries(), ["copy.bin"]);

    let out = get(&["-i", &format!("{base}/sub/index.html")]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.starts_with(b"HTTP/1.0 200 OK\r\n"));
    assert!(out.stdout.ends_with(b"\r\n\r\n<h1>sub</h1>\n"));

    let out = get(&[&format!("{base}/missing.txt")]);
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "socklab: 404 File not found from {base}/missing.txt (its "
        )),
        "{err}"
    );
    assert!(
        err.ends_with("-byte body is not shown; -i shows it)\n"),
        "{err}"
    );
    // The README's tour: -i shows http.server's error page after the head.
    let out = get(&["-i", &format!("{base}/missing.txt")]);
    assert_eq!(out.status.code(), Some(3));
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(
        page.starts_with("HTTP/1.0 404 File not found\r\n"),
        "{page}"
    );
    assert!(page.contains("<p>Message: File not found.</p>"), "{page}");
    assert_eq!(
        stderr(&out),
        format!("socklab: 404 File not found from {base}/missing.txt\n")
    );

    // http.server answers a directory without its slash with a 301 to the slashed path.
    let out = get(&[&format!("{base}/sub")]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        stderr(&out),
        format!(
            "socklab: 301 Moved Permanently from {base}/sub (redirect to /sub/; -L follows it)\n"
        )
    );
    let out = get(&["-L", &format!("{base}/sub")]);
    assert_eq!(
        outcome(&out),
        (Some(0), &b"<h1>sub</h1>\n"[..], String::new())
    );
}

// ---------------------------------------------------------------------------------
// Scripted servers

#[test]
fn sends_the_section_8_request() {
    let (l, addr) = listener();
    let h = serve(l, 1, |_, _, s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
    });
    let out = get(&[&url(addr, "/p/a%20b?q=1&r#frag")]);
    assert_eq!(outcome(&out), (Some(0), &b"abc"[..], String::new()));
    assert_eq!(
        h.join().unwrap(),
        [format!(
            "GET /p/a%20b?q=1&r HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: socklab/{}\r\nConnection: close\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        )]
    );
}

#[test]
fn body_to_the_close_and_include_head() {
    let head = b"HTTP/1.0 200 OK\nServer: test\n\n";
    let mut resp = head.to_vec();
    resp.extend_from_slice(b"no length\r\nuntil close\n");
    let (addr, h) = serve_bytes(resp);
    let out = get(&["-i", &url(addr, "/")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        out.stdout,
        [&head[..], b"no length\r\nuntil close\n"].concat()
    );
    h.join().unwrap();
}

const CHUNKED_HEAD: &[u8] =
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 999\r\n\r\n";

#[test]
fn chunked_body_split_at_awkward_points() {
    let (l, addr) = listener();
    let h = serve(l, 2, |_, _, s| {
        let pieces: [&[u8]; 17] = [
            &CHUNKED_HEAD[..20],
            &CHUNKED_HEAD[20..],
            b"1",               // inside the hex size "1a"
            b"a;name=\"va",     // inside an extension
            b"l\"\r",           // between CR and LF
            b"\nabcdefghijklm", // data, partly
            b"nopqrstuvwxyz",   // the rest of the 0x1a bytes
            b"\r",
            b"\n5\r\n\r\n\r\n", // a chunk of CRLFs
            b"\r\n",
            b"3\n",   // bare LF size line
            b"xyz\n", // and bare LF after data
            b"0",
            b"\r\nTrailer-One: 1\r",
            b"\nTrailer-Two: 2\r\n",
            b"\r",
            b"\nJUNK AFTER THE BODY",
        ];
        trickle(s, &pieces);
    });
    let body = b"abcdefghijklmnopqrstuvwxyz\r\n\r\n\rxyz";
    let out = get(&[&url(addr, "/chunked")]);
    assert_eq!(outcome(&out), (Some(0), &body[..], String::new()));
    let out = get(&["-i", &url(addr, "/chunked")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(out.stdout, [CHUNKED_HEAD, body].concat());
    h.join().unwrap();
}

#[test]
fn chunked_errors_are_reported() {
    let (addr, h) = serve_bytes([CHUNKED_HEAD, b"5\r\nhello\r\nzz\r\n"].concat());
    let out = get(&[&url(addr, "/bad")]);
    assert_eq!(
        outcome(&out),
        (
            Some(1),
            &b"hello"[..],
            format!(
                "socklab: bad response from {}: malformed chunk size after 5 bytes of the body\n",
                url(addr, "/bad")
            )
        )
    );
    h.join().unwrap();

    let (addr, h) = serve_bytes([CHUNKED_HEAD, b"5\r\nhello\r\n10\r\nshort"].concat());
    let out = get(&[&url(addr, "/cut")]);
    assert_eq!(
        outcome(&out),
        (
            Some(1),
            &b"helloshort"[..],
            format!(
                "socklab: connection closed after 10 bytes, in the middle of the chunked body from {}\n",
                url(addr, "/cut")
            )
        )
    );
    h.join().unwrap();
}

#[test]
fn follows_relative_and_absolute_redirects() {
    let (l, addr) = listener();
    let h = serve(l, 3, move |_, req, s| {
        let resp = match target(req) {
            "/dir/start" => {
                "HTTP/1.1 302 Found\r\nLocation: next/../b?x=1\r\nContent-Length: 0\r\n\r\n"
                    .to_owned()
            }
            "/dir/b?x=1" => format!(
                "HTTP/1.1 308 Permanent Redirect\r\nLocation: http://{addr}/final\r\nContent-Length: 5\r\n\r\nmoved"
            ),
            "/final" => "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone".to_owned(),
            other => panic!("unexpected request for {other}"),
        };
        let _ = s.write_all(resp.as_bytes());
    });
    let out = get(&["-L", &url(addr, "/dir/start")]);
    assert_eq!(outcome(&out), (Some(0), &b"done"[..], String::new()));
    let targets: Vec<String> = h
        .join()
        .unwrap()
        .iter()
        .map(|r| target(r).to_owned())
        .collect();
    assert_eq!(targets, ["/dir/start", "/dir/b?x=1", "/final"]);

    // Without -L the redirect is the answer: not 2xx.
    let (addr, h) = serve_bytes(b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\n\r\n".to_vec());
    let out = get(&[&url(addr, "/start")]);
    assert_eq!(
        outcome(&out),
        (
            Some(3),
            &b""[..],
            format!(
                "socklab: 302 Found from {} (redirect to /elsewhere; -L follows it)\n",
                url(addr, "/start")
            )
        )
    );
    h.join().unwrap();
}

#[test]
fn include_prints_every_head_of_a_redirect_chain() {
    let (l, addr) = listener();
    let h = serve(l, 2, |i, _, s| {
        let resp: &[u8] = if i == 0 {
            b"HTTP/1.1 301 Moved\r\nLocation: /b\r\nContent-Length: 3\r\n\r\nxyz"
        } else {
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        };
        let _ = s.write_all(resp);
    });
    let out = get(&["-L", "-i", &url(addr, "/a")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "HTTP/1.1 301 Moved\r\nLocation: /b\r\nContent-Length: 3\r\n\r\n\
         HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    );
    h.join().unwrap();
}

#[test]
fn redirect_loop_stops_after_five() {
    let (l, addr) = listener();
    let h = serve(l, 6, |_, _, s| {
        let _ = s.write_all(b"HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n");
    });
    let out = get(&["-L", &url(addr, "/loop")]);
    assert_eq!(
        outcome(&out),
        (
            Some(5),
            &b""[..],
            format!(
                "socklab: too many redirects (more than 5): 302 Found from {} to /loop\n",
                url(addr, "/loop")
            )
        )
    );
    assert_eq!(
        h.join().unwrap().len(),
        6,
        "the original request and 5 redirects"
    );
}

/// Without `-i` an error page is not printed (a script must not take it for the page)
/// but the message says there was one; `-o FILE` never receives it.
#[test]
fn not_found_body_is_mentioned_and_no_file_is_written() {
    let resp = b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found".to_vec();
    let (addr, h) = serve_bytes(resp.clone());
    let out = get(&[&url(addr, "/x")]);
    let msg = format!(
        "socklab: 404 Not Found from {} (its 9-byte body is not shown; -i shows it)\n",
        url(addr, "/x")
    );
    assert_eq!(outcome(&out), (Some(3), &b""[..], msg.clone()));
    h.join().unwrap();

    let dir = TempDir::new("404");
    let (addr, h) = serve_bytes(resp);
    let out = get(&["-o", &dir.path("page"), &url(addr, "/x")]);
    assert_eq!(out.status.code(), Some(3));
    assert!(dir.entries().is_empty(), "{:?}", dir.entries());
    h.join().unwrap();

    // Chunked: the length is not known without reading it.
    let (addr, h) = serve_bytes(
        b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nbad\r\n0\r\n\r\n".to_vec(),
    );
    let out = get(&[&url(addr, "/x")]);
    let msg = format!(
        "socklab: 500 Oops from {} (-i shows its body, if any)\n",
        url(addr, "/x")
    );
    assert_eq!(outcome(&out), (Some(3), &b""[..], msg));
    h.join().unwrap();

    // No body, nothing to mention.
    let (addr, h) = serve_bytes(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec());
    let out = get(&[&url(addr, "/x")]);
    let msg = format!("socklab: 404 Not Found from {}\n", url(addr, "/x"));
    assert_eq!(outcome(&out), (Some(3), &b""[..], msg));
    h.join().unwrap();
}

/// `-i` shows the whole answer, as `curl -i` does, and still exits 3; `-o FILE` gets
/// none of it.
#[test]
fn include_shows_an_error_page_whole() {
    let resp = b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found".to_vec();
    let (addr, h) = serve_bytes(resp.clone());
    let out = get(&["-i", &url(addr, "/x")]);
    let msg = format!("socklab: 404 Not Found from {}\n", url(addr, "/x"));
    assert_eq!(outcome(&out), (Some(3), &resp[..], msg));
    h.join().unwrap();

    let dir = TempDir::new("404i");
    let (addr, h) = serve_bytes(resp.clone());
    let out = get(&["-i", "-o", &dir.path("page"), &url(addr, "/x")]);
    let msg = format!("socklab: 404 Not Found from {}\n", url(addr, "/x"));
    assert_eq!(outcome(&out), (Some(3), &resp[..], msg));
    assert!(dir.entries().is_empty(), "{:?}", dir.entries());
    h.join().unwrap();

    let chunked = b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nbad\r\n0\r\n\r\n";
    let (addr, h) = serve_bytes(chunked.to_vec());
    let out = get(&["-i", &url(addr, "/x")]);
    let head = b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n";
    let mut want = head.to_vec();
    want.extend_from_slice(b"bad");
    let msg = format!("socklab: 500 Oops from {}\n", url(addr, "/x"));
    assert_eq!(outcome(&out), (Some(3), &want[..], msg));
    h.join().unwrap();
}

#[test]
fn timeout_bounds_every_read() {
    for (name, sent) in [
        ("before the head", &b"HTTP/1.1 200"[..]),
        (
            "in the body",
            &b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"[..],
        ),
    ] {
        let (l, addr) = listener();
        let h = serve(l, 1, move |_, _, s| {
            s.write_all(sent).unwrap();
            wait_for_close(s);
        });
        let start = Instant::now();
        let out = get(&["--timeout", "1", &url(addr, "/stall")]);
        let took = start.elapsed();
        assert_eq!(
            (out.status.code(), stderr(&out)),
            (
                Some(4),
                format!("socklab: timed out: no data from {addr} for 1 s\n")
            ),
            "{name}"
        );
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_secs(10),
            "{name}: {took:?}"
        );
        h.join().unwrap();
    }
}

#[test]
fn ten_mebibytes_to_a_file_byte_for_byte() {
    const LEN: usize = 10 * 1024 * 1024;
    let body = random_bytes(LEN, 42);
    let expected = body.clone();
    let (l, addr) = listener();
    let h = serve(l, 1, move |_, _, s| {
        let _ = s.write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {LEN}\r\n\r\n").as_bytes());
        // Odd-sized writes, so reads do not line up with anything.
        for piece in body.chunks(65_521) {
            if s.write_all(piece).is_err() {
                return;
            }
        }
    });
    let dir = TempDir::new("big");
    let file = dir.path("big.bin");
    let out = get(&["-o", &file, &url(addr, "/big")]);
    assert_eq!(outcome(&out), (Some(0), &b""[..], String::new()));
    let on_disk = std::fs::read(&file).unwrap();
    assert_eq!(on_disk.len(), LEN);
    assert!(on_disk == expected, "file differs from the body");
    assert_eq!(dir.entries(), ["big.bin"], "no temporary file left");
    h.join().unwrap();
}

#[test]
fn short_body_is_an_error_and_leaves_no_file() {
    let resp = [
        &b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"[..],
        &[b'x'; 40],
    ]
    .concat();
    let (addr, h) = serve_bytes(resp.clone());
    let out = get(&[&url(addr, "/short")]);
    let msg = format!(
        "socklab: connection closed after 40 of 100 bytes of the body from {}\n",
        url(addr, "/short")
    );
    assert_eq!(outcome(&out), (Some(1), &[b'x'; 40][..], msg.clone()));
    h.join().unwrap();

    let dir = TempDir::new("short");
    std::fs::write(dir.0.join("keep"), b"old contents").unwrap();
    let (addr, h) = serve_bytes(resp);
    let out = get(&["-o", &dir.path("keep"), &url(addr, "/short")]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(dir.entries(), ["keep"], "no temporary file left");
    assert_eq!(
        std::fs::read(dir.0.join("keep")).unwrap(),
        b"old contents",
        "FILE untouched"
    );
    h.join().unwrap();
}

#[test]
fn head_over_64_kib_is_refused_without_waiting() {
    let (l, addr) = listener();
    let h = serve(l, 1, |_, _, s| {
        let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
        while head.len() <= 70 * 1024 {
            head.extend_from_slice(
                format!("X-Pad-{}: {}\r\n", head.len(), "a".repeat(1000)).as_bytes(),
            );
        }
        let _ = s.write_all(&head);
        // Keep the connection open: the client must stop at the limit, not at the close.
        wait_for_close(s);
    });
    let out = get(&[&url(addr, "/huge")]);
    assert_eq!(
        outcome(&out),
        (
            Some(1),
            &b""[..],
            format!(
                "socklab: bad response from {}: response head over 65536 bytes\n",
                url(addr, "/huge")
            )
        )
    );
    h.join().unwrap();
}

fn with_headers(n: usize) -> Vec<u8> {
    let mut r = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n".to_vec();
    for i in 1..n {
        r.extend_from_slice(format!("X-H{i}: {i}\r\n").as_bytes());
    }
    r.extend_from_slice(b"\r\nok");
    r
}

#[test]
fn at_most_100_headers() {
    let (addr, h) = serve_bytes(with_headers(100));
    let out = get(&[&url(addr, "/100")]);
    assert_eq!(outcome(&out), (Some(0), &b"ok"[..], String::new()));
    h.join().unwrap();

    let (addr, h) = serve_bytes(with_headers(101));
    let out = get(&[&url(addr, "/101")]);
    assert_eq!(
        outcome(&out),
        (
            Some(1),
            &b""[..],
            format!(
                "socklab: bad response from {}: more than 100 headers\n",
                url(addr, "/101")
            )
        )
    );
    h.join().unwrap();
}

#[test]
fn malformed_heads_and_framing() {
    for (resp, why) in [
        (
            &b"SSH-2.0-OpenSSH_9.6\r\n"[..],
            "not an HTTP/1.0 or HTTP/1.1 response",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
            "conflicting Content-Length values",
        ),
        (
            b"HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n",
            "folded header line (obsolete line folding)",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-",
            "the connection closed before the end of the head",
        ),
    ] {
        let (addr, h) = serve_bytes(resp.to_vec());
        let out = get(&[&url(addr, "/m")]);
        assert_eq!(
            outcome(&out),
            (
                Some(1),
                &b""[..],
                format!("socklab: bad response from {}: {why}\n", url(addr, "/m"))
            )
        );
        h.join().unwrap();
    }
    let (addr, h) = serve_bytes(Vec::new());
    let out = get(&[&url(addr, "/")]);
    assert_eq!(
        stderr(&out),
        format!("socklab: {addr} closed the connection without answering\n")
    );
    h.join().unwrap();
}

#[test]
fn interim_responses_are_skipped() {
    let interim =
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n";
    let last = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    let (l, addr) = listener();
    let h = serve(l, 2, move |i, _, s| {
        if i == 0 {
            // All in one write: the heads must be taken apart from one buffer.
            let _ = s.write_all(&[&interim[..], last].concat());
        } else {
            trickle(s, &[&interim[..30], &interim[30..], last]);
        }
    });
    let out = get(&[&url(addr, "/")]);
    assert_eq!(outcome(&out), (Some(0), &b"ok"[..], String::new()));
    let out = get(&["-i", &url(addr, "/")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(out.stdout, [&interim[..], last].concat());
    h.join().unwrap();

    // An endless stream of them is cut off.
    let (addr, h) = serve_bytes(b"HTTP/1.1 100 Continue\r\n\r\n".repeat(11));
    let out = get(&[&url(addr, "/")]);
    assert_eq!(
        outcome(&out),
        (
            Some(1),
            &b""[..],
            format!(
                "socklab: bad response from {}: more than 10 interim (1xx) responses\n",
                url(addr, "/")
            )
        )
    );
    h.join().unwrap();
}

#[test]
fn no_content_has_no_body() {
    let (addr, h) = serve_bytes(b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n".to_vec());
    let out = get(&[&url(addr, "/")]);
    assert_eq!(outcome(&out), (Some(0), &b""[..], String::new()));
    h.join().unwrap();
}

#[test]
fn ipv6_literal() {
    let Ok(l) = TcpListener::bind("[::1]:0") else {
        eprintln!("no IPv6 loopback: skipped");
        return;
    };
    let port = l.local_addr().unwrap().port();
    let h = serve(l, 1, |_, _, s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nv6");
    });
    let out = get(&[&format!("http://[::1]:{port}/six")]);
    assert_eq!(outcome(&out), (Some(0), &b"v6"[..], String::new()));
    let req = h.join().unwrap();
    assert!(
        req[0].contains(&format!("\r\nHost: [::1]:{port}\r\n")),
        "{req:?}"
    );
}

#[test]
fn urls_that_cannot_be_fetched() {
    let out = get(&["https://example.com/"]);
    assert_eq!(
        outcome(&out),
        (
            Some(6),
            &b""[..],
            "socklab: https is not supported (no TLS in socklab; try the http:// URL): https://example.com/\n".to_owned()
        )
    );
    let out = get(&["http://host:99999/"]);
    assert_eq!(out.status.code(), Some(6));
    assert_eq!(
        stderr(&out),
        "socklab: bad URL \"http://host:99999/\": the port must be a number from 1 to 65535\n"
    );
    // Nothing listens on a port we just had and closed.
    let (l, addr) = listener();
    drop(l);
    let out = get(&[&url(addr, "/")]);
    assert_eq!(
        outcome(&out),
        (
            Some(2),
            &b""[..],
            format!(
                "socklab: cannot connect to {addr}: connection refused (is the server running?)\n"
            )
        )
    );
}

#[test]
fn unwritable_output_file() {
    let (l, addr) = listener();
    let h = serve(l, 1, |_, _, s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
    let dir = TempDir::new("nodir");
    let out = get(&["-o", &dir.path("missing/dir/file"), &url(addr, "/")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("socklab: cannot create "),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).ends_with(": no such file or directory\n"),
        "{}",
        stderr(&out)
    );
    h.join().unwrap();
}

#[test]
fn help_documents_exit_codes() {
    let out = get(&["--help"]);
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "Exit status:",
        "3  the final answer was not 2xx",
        "6  the URL cannot be fetched",
        "Examples:",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
}
