//! §8 HTTP client parsers: the response head and the chunked decoder.

use socklab_core::Status;
use socklab_core::http::{
    Chunk, ChunkedDecoder, EMPTY_HEADER, MAX_HEAD, MAX_HEADERS, parse_response,
    parse_response_limited,
};

/// Response head: a complete head parses the same from exactly its own bytes, every
/// shorter prefix of it is `Partial` (incomplete input is not an error), it never
/// claims more bytes or headers than it has, and the body framing questions never
/// panic. A small head limit behaves like the real one.
pub fn head(data: &[u8]) {
    let Some((&pick, buf)) = data.split_first() else {
        return;
    };
    let slots_n = [0, 1, 2, 4, MAX_HEADERS][pick as usize % 5];
    let mut slots = vec![EMPTY_HEADER; slots_n];
    let r = parse_response(buf, &mut slots);
    match r {
        Ok(Status::Complete(resp)) => {
            assert!(resp.head_len <= buf.len() && resp.head_len <= MAX_HEAD);
            assert!(resp.headers.len() <= slots_n);
            assert!(resp.version <= 1 && resp.code <= 999);
            for h in resp.headers {
                assert!(!h.name.is_empty());
                assert_eq!(h.name_str().as_bytes(), h.name);
            }
            let _ = (resp.body_kind(), resp.content_length(), resp.is_chunked());
            let _ = resp.reason_str();
            let resp = (
                resp.version,
                resp.code,
                resp.reason,
                resp.headers.to_vec(),
                resp.head_len,
            );
            let mut again = vec![EMPTY_HEADER; slots_n];
            match parse_response(&buf[..resp.4], &mut again) {
                Ok(Status::Complete(r2)) => {
                    assert_eq!(
                        (
                            r2.version,
                            r2.code,
                            r2.reason,
                            r2.headers.to_vec(),
                            r2.head_len
                        ),
                        resp
                    );
                }
                other => panic!("the head alone parsed as {other:?}"),
            }
            let cut = (pick as usize).min(resp.4 - 1);
            for cut in [resp.4 - 1, cut] {
                let mut s = vec![EMPTY_HEADER; slots_n];
                assert_eq!(
                    parse_response(&buf[..cut], &mut s),
                    Ok(Status::Partial),
                    "prefix of {cut} bytes"
                );
            }
        }
        Ok(Status::Partial) => assert!(buf.len() < MAX_HEAD),
        Err(_) => {}
    }
    let limit = pick as usize;
    let mut slots = vec![EMPTY_HEADER; MAX_HEADERS];
    match parse_response_limited(buf, &mut slots, limit) {
        Ok(Status::Complete(resp)) => assert!(resp.head_len <= limit),
        Ok(Status::Partial) => assert!(buf.len() < limit),
        Err(_) => {}
    }
}

/// Everything a decoder gives for `parts` fed one after another (keeping unconsumed
/// bytes, as a caller must): the payload, whether `Done` came (and where), or the error.
fn decode_parts(
    parts: &[&[u8]],
) -> (
    Vec<u8>,
    Result<Option<usize>, socklab_core::http::ChunkedError>,
) {
    let mut d = ChunkedDecoder::new();
    let mut payload = Vec::new();
    let mut fed = 0usize;
    let mut keep: Vec<u8> = Vec::new();
    for part in parts {
        keep.extend_from_slice(part);
        let mut at = 0;
        loop {
            match d.decode(&keep[at..]) {
                Ok((used, Status::Complete(Chunk::Data(p)))) => {
                    assert!(!p.is_empty() && used <= keep.len() - at);
                    payload.extend_from_slice(p);
                    at += used;
                }
                Ok((used, Status::Complete(Chunk::Done))) => {
                    assert!(d.is_done());
                    return (payload, Ok(Some(fed + at + used)));
                }
                Ok((used, Status::Partial)) => {
                    assert_eq!(used, keep.len() - at, "Partial consumes all");
                    at += used;
                    break;
                }
                Err(e) => return (payload, Err(e)),
            }
        }
        fed += at;
        keep.drain(..at);
    }
    (payload, Ok(None))
}

/// Chunked decoder: the same payload, end and error however the body is split; and
/// any payload encoded as chunks (sizes chosen by the input, extensions and trailers
/// included) decodes back to itself.
pub fn chunked(data: &[u8]) {
    let Some((&step, body)) = data.split_first() else {
        return;
    };
    let whole = decode_parts(&[body]);
    let step = step as usize % 17 + 1;
    let split: Vec<&[u8]> = body.chunks(step).collect();
    assert_eq!(decode_parts(&split), whole);
    // Encode `body` as a chunked body of pieces sized by its own bytes.
    let mut enc = Vec::new();
    let mut rest = body;
    let mut i = 0;
    while !rest.is_empty() {
        let n = (rest[0] as usize % 40 + 1).min(rest.len());
        if i % 3 == 1 {
            enc.extend_from_slice(format!("{n:X};ext=\"v\"\r\n").as_bytes());
        } else {
            enc.extend_from_slice(format!("{n:x}\r\n").as_bytes());
        }
        enc.extend_from_slice(&rest[..n]);
        enc.extend_from_slice(b"\r\n");
        rest = &rest[n..];
        i += 1;
    }
    enc.extend_from_slice(b"0\r\nTrailer: x\r\n\r\nnext");
    let (payload, end) = decode_parts(&enc.chunks(step).collect::<Vec<_>>());
    assert_eq!(payload, body);
    assert_eq!(end, Ok(Some(enc.len() - 4)));
}
