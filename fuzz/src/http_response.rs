//! HTTP/1.1 responses: head parser, typed field accessors, body framing,
//! chunked decoding and content decoding.
//!
//! Invariants checked besides "never panics":
//! - every prefix of the input parses to "need more" or to exactly what the
//!   whole input parses to (the parser decides only on bytes it has seen);
//! - a body decoded in one piece and byte by byte gives the same bytes, the
//!   same end and the same error;
//! - `Length` framing delivers exactly `min(length, available)` bytes;
//! - suggested file names are single safe path components.

use swarmget_http_seg::{
    BodyDecoder, BodyError, ByteRange, ContentDecoder, ContentEncoding, Framing, HeadLimits,
    Method, Redirects, ResponseHead, Url, check_range_response, parse_final_response_head,
    parse_response_head,
};

/// Inputs up to this size get the quadratic every-prefix check.
const SPLIT_CHECK_MAX: usize = 4096;

/// Fuzz body: must never panic on any input.
pub fn run(data: &[u8]) {
    // Small limits as well as the defaults, so the limit paths get reached.
    let small = HeadLimits {
        max_head_bytes: 200,
        max_headers: 4,
    };
    for limits in [HeadLimits::default(), small] {
        check_prefixes(data, &limits);
    }

    match parse_final_response_head(data, &HeadLimits::default()) {
        Ok(Some((head, used))) => {
            let rest = &data[used..];
            exercise_fields(&head);
            for is_head_request in [false, true] {
                let framing = head.framing(is_head_request);
                let body = decode_split_equivalence(framing, rest);
                if let Framing::Length(n) = framing {
                    let expected = n.min(rest.len() as u64) as usize;
                    assert_eq!(
                        body.len(),
                        expected,
                        "Length framing delivers what is there"
                    );
                }
                if framing == Framing::Empty {
                    assert!(body.is_empty());
                }
                if !is_head_request {
                    decode_content(&head.content_encoding(), &body);
                }
            }
            decode_split_equivalence(Framing::Chunked, rest);
        }
        // Not a response: still a good input for the chunked decoder.
        _ => {
            decode_split_equivalence(Framing::Chunked, data);
        }
    }
}

fn check_prefixes(data: &[u8], limits: &HeadLimits) {
    let whole = parse_response_head(data, limits);
    if let Ok(Some((_, used))) = &whole {
        assert!(*used <= data.len() && *used <= limits.max_head_bytes);
    }
    if data.len() > SPLIT_CHECK_MAX {
        return;
    }
    for cut in 0..data.len() {
        let part = parse_response_head(&data[..cut], limits);
        assert!(
            part == Ok(None) || part == whole,
            "prefix of {cut} bytes: {part:?}, whole: {whole:?}"
        );
    }
}

/// What feeding a body produced.
#[derive(Debug, PartialEq, Eq)]
struct Fed {
    body: Vec<u8>,
    done: bool,
    error: Option<BodyError>,
    /// Input consumed; only comparable when there was no error.
    consumed: Option<usize>,
}

fn feed(framing: Framing, input: &[u8], piece: usize) -> Fed {
    let mut decoder = BodyDecoder::new(framing);
    let mut body = Vec::new();
    let mut consumed = 0;
    for chunk in input.chunks(piece.max(1)) {
        match decoder.decode(chunk, &mut |d| body.extend_from_slice(d)) {
            Ok(step) => {
                assert!(step.consumed <= chunk.len());
                consumed += step.consumed;
                if step.done {
                    assert!(decoder.is_done());
                    return Fed {
                        body,
                        done: true,
                        error: None,
                        consumed: Some(consumed),
                    };
                }
                assert_eq!(
                    step.consumed,
                    chunk.len(),
                    "unfinished bodies take all input"
                );
            }
            Err(error) => {
                return Fed {
                    body,
                    done: false,
                    error: Some(error),
                    consumed: None,
                };
            }
        }
    }
    let error = decoder.finish_eof().err();
    assert!(decoder.body_bytes() as usize == body.len());
    Fed {
        done: decoder.is_done(),
        body,
        consumed: error.is_none().then_some(consumed),
        error,
    }
}

fn decode_split_equivalence(framing: Framing, input: &[u8]) -> Vec<u8> {
    let whole = feed(framing, input, input.len());
    if input.len() <= SPLIT_CHECK_MAX {
        for piece in [1, 2, 7] {
            let split = feed(framing, input, piece);
            assert_eq!(split, whole, "{framing:?} fed {piece} bytes at a time");
        }
    }
    whole.body
}

fn decode_content(encoding: &ContentEncoding, body: &[u8]) {
    let Ok(mut decoder) = ContentDecoder::new(encoding) else {
        return;
    };
    // Bounded: a decompression bomb must not make the fuzzer run out of memory.
    let mut output = [0u8; 512];
    let mut rest = body;
    let mut produced_total = 0usize;
    loop {
        match decoder.decode(rest, &mut output) {
            Ok(step) => {
                assert!(step.consumed <= rest.len() && step.produced <= output.len());
                rest = &rest[step.consumed..];
                produced_total += step.produced;
                let stalled = step.consumed == 0 && step.produced == 0;
                if (rest.is_empty() && step.produced < output.len()) || stalled {
                    break;
                }
                if produced_total > 1 << 22 {
                    return;
                }
            }
            Err(_) => return,
        }
    }
    let _ = decoder.finish();
}

/// The typed accessors agree with the raw header fields and with each other.
fn exercise_fields(head: &ResponseHead) {
    // The parser refuses a bad Content-Length, so the accessor cannot fail on a parsed
    // head, except beside Transfer-Encoding, which overrides the length (RFC 9112 §6.3)
    // and so lets the parser leave it unchecked.
    let length = head.content_length();
    if !head.has_transfer_encoding() {
        assert!(length.is_ok(), "parsed head with {length:?}");
    }
    let framing = head.framing(false);
    assert_eq!(
        head.framing(true),
        Framing::Empty,
        "a HEAD response has no body"
    );
    match framing {
        Framing::Length(n) => {
            assert_eq!(length, Ok(Some(n)));
            assert!(
                !head.has_transfer_encoding(),
                "Transfer-Encoding overrides the length"
            );
        }
        Framing::Chunked => assert!(head.is_chunked()),
        Framing::Empty => assert!(head.is_informational() || matches!(head.status, 204 | 304)),
        Framing::UntilClose => assert!(
            !head.is_chunked() && (head.has_transfer_encoding() || length == Ok(None)),
            "a body without a known end needs a reason"
        ),
    }
    // A body that ends with the connection leaves nothing to reuse; a HEAD response has
    // no body, so only the server's intent counts.
    if head.can_reuse_connection(false) {
        assert!(head.keep_alive() && framing != Framing::UntilClose);
    }
    assert_eq!(head.can_reuse_connection(true), head.keep_alive());

    // Retry-After counts down as time passes: never longer later, absent either way alike.
    match (head.retry_after(0), head.retry_after(u64::MAX)) {
        (None, None) => {}
        (Some(early), Some(late)) => assert!(late <= early, "{early} then {late}"),
        other => panic!("Retry-After readable at one time only: {other:?}"),
    }
    if head.retry_after(0).is_some() {
        assert!(head.header("retry-after").is_some());
    }
    if head.last_modified_unix().is_some() {
        assert_eq!(head.last_modified(), head.header("last-modified"));
        assert!(head.last_modified().is_some());
    }
    if head.accepts_ranges() {
        assert!(head.header("accept-ranges").is_some());
    }
    assert_eq!(head.etag(), head.header("etag"));
    assert_eq!(head.content_type(), head.header("content-type"));
    assert_eq!(head.location(), head.header("location").map(str::trim));
    match head.content_range() {
        Ok(Some(range)) => {
            if let Some(n) = range.length() {
                assert!(n >= 1, "a byte range holds at least one byte");
                if let Some(total) = range.complete_length() {
                    assert!(n <= total, "{range:?}");
                }
            }
        }
        Ok(None) => assert!(head.header("content-range").is_none()),
        Err(_) => assert!(head.header("content-range").is_some()),
    }

    let base = Url::parse("http://example.com/dir/file.bin?q").expect("static URL");
    for default_utf8 in [false, true] {
        let from_header = head.content_disposition_filename(default_utf8);
        if from_header.is_some() {
            assert!(head.header("content-disposition").is_some());
        }
        if let Some(name) = head.suggested_file_name(&base, default_utf8) {
            assert!(!name.is_empty() && name.len() <= 255);
            assert!(!name.contains(['/', '\\', '\0']));
            assert!(name != "." && name != "..");
        }
    }

    for (asked, total) in [
        (ByteRange::from_start(0), None),
        (ByteRange::new(100, 199), Some(1000)),
    ] {
        if let Ok(swarmget_http_seg::RangeAnswer::Partial { start, end, .. }) =
            check_range_response(head, asked, total)
        {
            assert_eq!(start, asked.start);
            assert!(end >= start);
            assert!(asked.end.is_none_or(|e| end <= e));
        }
    }

    let mut redirects = Redirects::new(20);
    if let Ok(Some((target, _))) = redirects.follow(head, &base, Method::Get) {
        assert!(matches!(target.scheme(), "http" | "https"));
    }
}
