//! The §8 response-head parser against httparse, on the same heads with the same number
//! of header slots (100, the §8 limit). Run: `cargo bench -p socklab-bench --bench http`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use socklab_core::Status;
use socklab_core::http::{Chunk, ChunkedDecoder, EMPTY_HEADER, MAX_HEADERS, parse_response};
use std::hint::black_box;

const SMALL_404: &[u8] = b"HTTP/1.1 404 Not Found\r\n\
Content-Type: text/plain\r\n\
Content-Length: 9\r\n\
\r\n";

const NGINX_200: &[u8] = b"HTTP/1.1 200 OK\r\n\
Server: nginx/1.24.0 (Ubuntu)\r\n\
Date: Sat, 21 Nov 2026 08:30:00 GMT\r\n\
Content-Type: text/html; charset=utf-8\r\n\
Content-Length: 61534\r\n\
Last-Modified: Thu, 19 Nov 2026 17:02:11 GMT\r\n\
Connection: close\r\n\
Vary: Accept-Encoding\r\n\
ETag: \"673cc4a3-f05e\"\r\n\
Cache-Control: max-age=3600, public\r\n\
Accept-Ranges: bytes\r\n\
\r\n";

fn big_head() -> Vec<u8> {
    let mut h = b"HTTP/1.1 200 OK\r\n\
Server: nginx\r\n\
Date: Sat, 21 Nov 2026 08:30:00 GMT\r\n\
Content-Type: text/html; charset=UTF-8\r\n\
Transfer-Encoding: chunked\r\n\
Connection: close\r\n\
Vary: Accept-Encoding, Cookie, User-Agent\r\n\
Cache-Control: no-store, no-cache, must-revalidate, max-age=0\r\n\
Pragma: no-cache\r\n\
Expires: Thu, 01 Jan 1970 00:00:01 GMT\r\n\
Strict-Transport-Security: max-age=31536000; includeSubDomains; preload\r\n\
X-Frame-Options: SAMEORIGIN\r\n\
X-Content-Type-Options: nosniff\r\n\
Referrer-Policy: strict-origin-when-cross-origin\r\n\
Content-Security-Policy: default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.example.com; img-src * data:\r\n\
Permissions-Policy: geolocation=(), microphone=(), camera=()\r\n\
Link: <https://cdn.example.com>; rel=preconnect, </static/app.css>; rel=preload; as=style\r\n\
X-Request-Id: 7d3f0f3c-2b7e-4f0e-9d55-0a3f6c1d2e4b\r\n\
X-Runtime: 0.042117\r\n\
Alt-Svc: h3=\":443\"; ma=86400\r\n"
        .to_vec();
    for i in 0..20 {
        h.extend_from_slice(
            format!(
                "Set-Cookie: session_{i}=a8f5f167f44f4964e6c998dee827110c{i:04}; \
                 Path=/; Domain=.example.com; Expires=Sun, 21 Nov 2027 08:30:00 GMT; \
                 Secure; HttpOnly; SameSite=Lax\r\n"
            )
            .as_bytes(),
        );
    }
    h.extend_from_slice(b"\r\n");
    h
}

fn heads(c: &mut Criterion) {
    let big = big_head();
    let cases: [(&str, &[u8]); 3] = [
        ("small_404", SMALL_404),
        ("nginx_200", NGINX_200),
        ("big_40", &big),
    ];
    let mut group = c.benchmark_group("response_head");
    for (name, head) in cases {
        group.throughput(Throughput::Bytes(head.len() as u64));
        group.bench_with_input(BenchmarkId::new("socklab", name), head, |b, head| {
            let mut slots = [EMPTY_HEADER; MAX_HEADERS];
            b.iter(|| {
                let r = parse_response(black_box(head), &mut slots).unwrap();
                black_box(r.complete().map(|r| r.head_len))
            });
        });
        group.bench_with_input(BenchmarkId::new("httparse", name), head, |b, head| {
            let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
            b.iter(|| {
                let mut r = httparse::Response::new(&mut slots);
                black_box(r.parse(black_box(head)).unwrap().is_complete())
            });
        });
    }
    group.finish();
}

fn chunked(c: &mut Criterion) {
    // 1 MiB of payload in 4 KiB chunks, fed in 16 KiB reads as a socket would give it.
    let mut body = Vec::new();
    for _ in 0..256 {
        body.extend_from_slice(b"1000\r\n");
        body.extend(std::iter::repeat_n(b'x', 4096));
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    let mut group = c.benchmark_group("chunked");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("socklab_1MiB", |b| {
        b.iter(|| {
            let mut d = ChunkedDecoder::new();
            let mut total = 0;
            for read in body.chunks(16 * 1024) {
                let mut rest = black_box(read);
                while !rest.is_empty() {
                    let (used, s) = d.decode(rest).unwrap();
                    rest = &rest[used..];
                    match s {
                        Status::Complete(Chunk::Data(p)) => total += p.len(),
                        Status::Complete(Chunk::Done) => break,
                        Status::Partial => {}
                    }
                }
            }
            black_box(total)
        });
    });
    group.finish();
}

criterion_group!(benches, heads, chunked);
criterion_main!(benches);
