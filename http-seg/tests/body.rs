//! Body framing: Content-Length, chunked (every split), close-delimited, the
//! raw fast path, and every chunked error.

use proptest::prelude::*;
use swarmget_http_seg::{BodyDecoder, BodyError, BodyLimits, Framing, HeadError};

/// The result of feeding a body in pieces.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    body: Vec<u8>,
    consumed: usize,
    done: bool,
    error: Option<BodyError>,
}

/// Feeds `input` cut at `cuts` (ascending), stopping at the end of the body or
/// the first error; then, when `eof`, reports the connection closing.
fn feed(framing: Framing, limits: BodyLimits, input: &[u8], cuts: &[usize], eof: bool) -> Outcome {
    let mut decoder = BodyDecoder::with_limits(framing, limits);
    let mut body = Vec::new();
    let mut consumed = 0;
    let mut bounds: Vec<usize> = cuts.to_vec();
    bounds.push(input.len());
    let mut start = 0;
    for end in bounds {
        if end < start {
            continue;
        }
        match decoder.decode(&input[start..end], &mut |d| body.extend_from_slice(d)) {
            Ok(step) => {
                consumed += step.consumed;
                if step.done {
                    return Outcome {
                        body,
                        consumed,
                        done: true,
                        error: None,
                    };
                }
                assert_eq!(
                    step.consumed,
                    end - start,
                    "an unfinished body takes all input"
                );
            }
            Err(e) => {
                // Errors stick.
                assert_eq!(decoder.decode(b"more", &mut |_| {}), Err(e.clone()));
                return Outcome {
                    body,
                    consumed,
                    done: false,
                    error: Some(e),
                };
            }
        }
        start = end;
    }
    let error = if eof {
        decoder.finish_eof().err()
    } else {
        None
    };
    Outcome {
        done: decoder.is_done(),
        body,
        consumed,
        error,
    }
}

/// Decodes `input` whole, then checks every two-piece split and
/// byte-at-a-time feeding give the same outcome.
fn decode_every_split(framing: Framing, limits: BodyLimits, input: &[u8], eof: bool) -> Outcome {
    let whole = feed(framing, limits, input, &[], eof);
    for cut in 0..=input.len() {
        assert_eq!(
            feed(framing, limits, input, &[cut], eof),
            whole,
            "cut at {cut}"
        );
    }
    let every: Vec<usize> = (1..input.len()).collect();
    assert_eq!(
        feed(framing, limits, input, &every, eof),
        whole,
        "byte at a time"
    );
    whole
}

fn chunked(input: &[u8]) -> Outcome {
    decode_every_split(Framing::Chunked, BodyLimits::default(), input, true)
}

fn ok(body: &[u8], consumed: usize) -> Outcome {
    Outcome {
        body: body.to_vec(),
        consumed,
        done: true,
        error: None,
    }
}

#[test]
fn chunked_bodies_decode_at_every_split() {
    let cases: &[(&[u8], &[u8])] = &[
        (b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", b"hello world"),
        (b"0\r\n\r\n", b""),
        (
            b"5;name=value;flag\r\nhello\r\n0;last=\"yes\"\r\n\r\n",
            b"hello",
        ),
        (
            b"A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n",
            b"0123456789abcdefghij",
        ),
        (b"0005\r\nhello\r\n0000\r\n\r\n", b"hello"),
        (
            b"5  \r\nhello\r\n5\t;x\r\nworld\r\n0 \r\n\r\n",
            b"helloworld",
        ),
        (b"5\nhello\n0\n\n", b"hello"),
        (b"4\r\n\r\n\r\n\r\n0\r\n\r\n", b"\r\n\r\n"),
        (b"1\r\n\x00\r\n0\r\n\r\n", b"\x00"),
        (b"3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n", b"abc"),
    ];
    for (input, body) in cases {
        assert_eq!(
            chunked(input),
            ok(body, input.len()),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn bytes_after_a_chunked_body_are_left_alone() {
    let input = b"3\r\nabc\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n";
    assert_eq!(chunked(input), ok(b"abc", 13));
}

#[test]
fn trailers_are_parsed() {
    let input = b"3\r\nabc\r\n0\r\nX-Checksum: sha-256=abc\r\nX-Folded: a\r\n b\r\n\r\n";
    let mut decoder = BodyDecoder::new(Framing::Chunked);
    let step = decoder.decode(input, &mut |_| {}).unwrap();
    assert!(step.done);
    let trailers = decoder.trailers().unwrap();
    assert_eq!(trailers.get("x-checksum"), Some("sha-256=abc"));
    assert_eq!(trailers.get("X-Folded"), Some("a b"));
    assert_eq!(trailers.len(), 2);

    let mut none = BodyDecoder::new(Framing::Chunked);
    none.decode(b"0\r\n\r\n", &mut |_| {}).unwrap();
    assert!(none.trailers().unwrap().is_empty());
}

fn failed(body: &[u8], consumed: usize, error: BodyError) -> Outcome {
    Outcome {
        body: body.to_vec(),
        consumed,
        done: false,
        error: Some(error),
    }
}

#[test]
fn every_chunked_error_with_its_offset() {
    let limits = BodyLimits::default();
    let long_extension = {
        let mut v = b"1;".to_vec();
        v.resize(5000, b'a');
        v
    };
    let big_trailer = {
        let mut v = b"0\r\nX: ".to_vec();
        v.resize(20_000, b'a');
        v
    };
    let cases: Vec<(Vec<u8>, Outcome)> = vec![
        (
            b"g\r\n".to_vec(),
            failed(b"", 0, BodyError::InvalidChunkSize { offset: 0 }),
        ),
        (
            b"\r\n".to_vec(),
            failed(b"", 0, BodyError::InvalidChunkSize { offset: 0 }),
        ),
        (
            b";ext\r\n".to_vec(),
            failed(b"", 0, BodyError::InvalidChunkSize { offset: 0 }),
        ),
        (
            b"-5\r\n".to_vec(),
            failed(b"", 0, BodyError::InvalidChunkSize { offset: 0 }),
        ),
        (
            b"5x\r\nhello".to_vec(),
            failed(b"", 0, BodyError::InvalidChunkSize { offset: 1 }),
        ),
        (
            b"5 x\r\n".to_vec(),
            failed(b"", 0, BodyError::InvalidChunkSize { offset: 2 }),
        ),
        (
            b"3\r\nabc\r\nz\r\n".to_vec(),
            failed(b"abc", 0, BodyError::InvalidChunkSize { offset: 8 }),
        ),
        (
            b"10000000000000000\r\n".to_vec(),
            failed(b"", 0, BodyError::ChunkSizeOverflow { offset: 16 }),
        ),
        (
            long_extension,
            failed(
                b"",
                0,
                BodyError::ChunkLineTooLong {
                    offset: 4096,
                    limit: 4096,
                },
            ),
        ),
        (
            b"5\rX".to_vec(),
            failed(b"", 0, BodyError::BareCr { offset: 1 }),
        ),
        (
            b"5;a\rX".to_vec(),
            failed(b"", 0, BodyError::BareCr { offset: 3 }),
        ),
        (
            b"5;a\x00\r\n".to_vec(),
            failed(b"", 0, BodyError::InvalidChunkExtension { offset: 3 }),
        ),
        (
            b"5\r\nhelloX\r\n".to_vec(),
            failed(b"hello", 0, BodyError::MissingChunkTerminator { offset: 8 }),
        ),
        (
            b"5\r\nhello\rX".to_vec(),
            failed(b"hello", 0, BodyError::MissingChunkTerminator { offset: 9 }),
        ),
        (
            big_trailer,
            failed(b"", 0, BodyError::TrailersTooLarge { limit: 16 * 1024 }),
        ),
        (
            b"0\r\nBad Name: x\r\n\r\n".to_vec(),
            failed(
                b"",
                0,
                BodyError::InvalidTrailer {
                    section_offset: 3,
                    source: HeadError::InvalidHeaderName { offset: 3 },
                },
            ),
        ),
        (
            b"0\r\n continued\r\n\r\n".to_vec(),
            failed(
                b"",
                0,
                BodyError::InvalidTrailer {
                    section_offset: 3,
                    source: HeadError::LeadingContinuation { offset: 0 },
                },
            ),
        ),
        (
            b"5\r\nhel".to_vec(),
            Outcome {
                body: b"hel".to_vec(),
                consumed: 6,
                done: false,
                error: Some(BodyError::TruncatedChunked { offset: 6 }),
            },
        ),
        (
            b"5\r\nhello\r\n0\r\nX: 1\r\n".to_vec(),
            Outcome {
                body: b"hello".to_vec(),
                consumed: 19,
                done: false,
                error: Some(BodyError::TruncatedChunked { offset: 19 }),
            },
        ),
    ];
    for (input, want) in cases {
        let got = feed(Framing::Chunked, limits, &input, &[], true);
        // Errors found while decoding carry how much was consumed before the
        // failing call; compare the parts that do not depend on the split.
        assert_eq!(
            got.error,
            want.error,
            "{:?}",
            String::from_utf8_lossy(&input)
        );
        assert_eq!(got.body, want.body);
        if want.consumed > 0 {
            assert_eq!(got.consumed, want.consumed);
        }
        if input.len() < 100 {
            let whole = decode_every_split_errors(&input);
            assert_eq!(whole, want.error);
        }
        assert!(!want.error.unwrap().to_string().is_empty());
    }
}

/// The error from every split of `input` (each must agree).
fn decode_every_split_errors(input: &[u8]) -> Option<BodyError> {
    let limits = BodyLimits::default();
    let whole = feed(Framing::Chunked, limits, input, &[], true).error;
    for cut in 0..=input.len() {
        let split = feed(Framing::Chunked, limits, input, &[cut], true);
        assert_eq!(split.error, whole, "cut at {cut}");
    }
    whole
}

#[test]
fn chunk_size_limits_and_trailer_count() {
    let max = b"ffffffffffffffff\r\nabc";
    let out = feed(Framing::Chunked, BodyLimits::default(), max, &[], true);
    assert_eq!(out.body, b"abc");
    assert_eq!(out.error, Some(BodyError::TruncatedChunked { offset: 21 }));

    let tight = BodyLimits {
        max_chunk_line: 4,
        max_trailer_bytes: 64,
        max_trailers: 1,
    };
    assert_eq!(
        decode_every_split(
            Framing::Chunked,
            tight,
            b"3\r\nabc\r\n0\r\nA: 1\r\n\r\n",
            true
        ),
        ok(b"abc", 19)
    );
    assert_eq!(
        feed(
            Framing::Chunked,
            tight,
            b"3\r\nabc\r\n0\r\nA: 1\r\nB: 2\r\n\r\n",
            &[],
            true
        )
        .error,
        Some(BodyError::InvalidTrailer {
            section_offset: 11,
            source: HeadError::TooManyHeaders { limit: 1 },
        })
    );
    assert_eq!(
        feed(Framing::Chunked, tight, b"003\r\nabc", &[], true).error,
        Some(BodyError::ChunkLineTooLong {
            offset: 4,
            limit: 4
        })
    );
}

#[test]
fn length_framing_is_zero_copy_and_stops_at_the_end() {
    let input = b"hello world";
    let mut decoder = BodyDecoder::new(Framing::Length(5));
    assert_eq!(decoder.remaining(), Some(5));
    let mut pieces: Vec<(*const u8, usize)> = Vec::new();
    let step = decoder
        .decode(input, &mut |d| pieces.push((d.as_ptr(), d.len())))
        .unwrap();
    assert_eq!((step.consumed, step.done), (5, true));
    assert_eq!(
        pieces,
        [(input.as_ptr(), 5)],
        "a sub-slice of the input, not a copy"
    );
    assert_eq!(decoder.remaining(), Some(0));
    assert_eq!(decoder.finish_eof(), Ok(()));

    assert_eq!(
        decode_every_split(Framing::Length(11), BodyLimits::default(), input, true),
        ok(input, 11)
    );
}

#[test]
fn chunked_data_is_passed_through_without_copies() {
    let input = b"5\r\nhello\r\n0\r\n\r\n";
    let mut decoder = BodyDecoder::new(Framing::Chunked);
    let mut pieces: Vec<*const u8> = Vec::new();
    decoder
        .decode(input, &mut |d| pieces.push(d.as_ptr()))
        .unwrap();
    assert_eq!(pieces, [input[3..].as_ptr()]);
}

#[test]
fn short_length_body_is_truncated_at_eof() {
    let got = decode_every_split(Framing::Length(10), BodyLimits::default(), b"hello", true);
    assert_eq!(
        got,
        Outcome {
            body: b"hello".to_vec(),
            consumed: 5,
            done: false,
            error: Some(BodyError::TruncatedLength {
                expected: 10,
                received: 5
            }),
        }
    );
}

#[test]
fn empty_and_until_close() {
    for framing in [Framing::Empty, Framing::Length(0)] {
        let mut decoder = BodyDecoder::new(framing);
        assert!(decoder.is_done());
        let step = decoder
            .decode(b"next response", &mut |_| panic!("no body"))
            .unwrap();
        assert_eq!((step.consumed, step.done), (0, true));
        assert_eq!(decoder.finish_eof(), Ok(()));
    }

    let got = decode_every_split(
        Framing::UntilClose,
        BodyLimits::default(),
        b"all of it",
        true,
    );
    assert_eq!(
        got,
        Outcome {
            body: b"all of it".to_vec(),
            consumed: 9,
            done: true,
            error: None
        }
    );
    let mut decoder = BodyDecoder::new(Framing::UntilClose);
    assert_eq!(decoder.remaining(), None);
    assert_eq!(decoder.raw_bytes_ahead(), u64::MAX);
    decoder.decode(b"abc", &mut |_| {}).unwrap();
    assert!(!decoder.is_done());
    decoder.finish_eof().unwrap();
    assert!(decoder.is_done());
    assert_eq!(decoder.body_bytes(), 3);
}

#[test]
fn raw_fast_path_for_length_and_chunks() {
    let mut decoder = BodyDecoder::new(Framing::Length(10));
    assert_eq!(decoder.raw_bytes_ahead(), 10);
    decoder.advance(4).unwrap();
    assert_eq!(decoder.remaining(), Some(6));
    assert_eq!(
        decoder.advance(7),
        Err(BodyError::AdvanceTooFar {
            requested: 7,
            available: 6
        })
    );
    let mut body = Vec::new();
    let step = decoder
        .decode(b"456789tail", &mut |d| body.extend_from_slice(d))
        .unwrap();
    assert_eq!((step.consumed, step.done), (6, true));
    assert_eq!(body, b"456789");
    assert_eq!(decoder.body_bytes(), 10);

    let mut decoder = BodyDecoder::new(Framing::Chunked);
    assert_eq!(decoder.raw_bytes_ahead(), 0);
    decoder.decode(b"5\r\n", &mut |_| {}).unwrap();
    assert_eq!(decoder.raw_bytes_ahead(), 5);
    assert_eq!(decoder.remaining(), None);
    decoder.advance(2).unwrap();
    assert_eq!(decoder.raw_bytes_ahead(), 3);
    decoder.advance(3).unwrap();
    assert_eq!(decoder.raw_bytes_ahead(), 0);
    let step = decoder
        .decode(b"\r\n0\r\n\r\n", &mut |_| panic!("no data left"))
        .unwrap();
    assert!(step.done);
    assert_eq!(decoder.body_bytes(), 5);
    assert_eq!(decoder.wire_bytes(), 15);
}

/// Chunk-encodes `data` with the given chunk sizes (cycled) and optional extensions.
fn encode_chunked(data: &[u8], sizes: &[usize], extensions: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()].clamp(1, rest.len());
        i += 1;
        out.extend_from_slice(format!("{n:x}").as_bytes());
        if extensions {
            out.extend_from_slice(b";i=\"x\"");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&rest[..n]);
        out.extend_from_slice(b"\r\n");
        rest = &rest[n..];
    }
    out.extend_from_slice(b"0\r\nTrailer: t\r\n\r\n");
    out
}

proptest! {
    #[test]
    fn chunked_round_trips_under_any_split(
        data in proptest::collection::vec(any::<u8>(), 0..600),
        sizes in proptest::collection::vec(1usize..200, 1..8),
        extensions in any::<bool>(),
        mut cuts in proptest::collection::vec(0usize..2000, 0..6),
    ) {
        let wire = encode_chunked(&data, &sizes, extensions);
        cuts.retain(|&c| c <= wire.len());
        cuts.sort_unstable();
        let got = feed(Framing::Chunked, BodyLimits::default(), &wire, &cuts, false);
        prop_assert_eq!(got, ok(&data, wire.len()));
    }
}
