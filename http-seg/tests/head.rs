//! Response-head parsing: every split of sample responses, every error, limits,
//! interim responses and the typed field accessors.

use swarmget_http_seg::{
    ContentEncoding, ContentRange, Framing, HeadError, HeadLimits, ResponseHead, Version,
    parse_final_response_head, parse_response_head,
};

type Parsed = Result<Option<(ResponseHead, usize)>, HeadError>;

fn parse(buf: &[u8]) -> Parsed {
    parse_response_head(buf, &HeadLimits::default())
}

/// Parses `input` whole, then checks that every proper prefix gives either
/// "need more" or exactly the same answer (errors as soon as they are certain).
fn parse_every_split(input: &[u8], limits: &HeadLimits) -> Parsed {
    let whole = parse_response_head(input, limits);
    for cut in 0..input.len() {
        let part = parse_response_head(&input[..cut], limits);
        assert!(
            part == Ok(None) || part == whole,
            "prefix of {cut} bytes gave {part:?}, whole input gave {whole:?}"
        );
    }
    whole
}

fn head_of(input: &[u8]) -> ResponseHead {
    match parse_every_split(input, &HeadLimits::default()) {
        Ok(Some((head, used))) => {
            assert_eq!(used, input.len(), "sample should be exactly one head");
            head
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn sample_heads_parse_identically_at_every_split() {
    struct Case {
        input: &'static [u8],
        version: Version,
        status: u16,
        reason: &'static str,
        headers: &'static [(&'static str, &'static str)],
    }
    let cases = [
        Case {
            input: b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\n",
            version: Version::Http11,
            status: 200,
            reason: "OK",
            headers: &[("Content-Length", "5"), ("Content-Type", "text/plain")],
        },
        Case {
            input: b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-99/1000\r\n\
                     Content-Length: 100\r\nAccept-Ranges: bytes\r\nETag: \"abc\"\r\n\r\n",
            version: Version::Http11,
            status: 206,
            reason: "Partial Content",
            headers: &[
                ("Content-Range", "bytes 0-99/1000"),
                ("Content-Length", "100"),
                ("Accept-Ranges", "bytes"),
                ("ETag", "\"abc\""),
            ],
        },
        Case {
            input: b"HTTP/1.0 200 OK\nServer: old\n\n",
            version: Version::Http10,
            status: 200,
            reason: "OK",
            headers: &[("Server", "old")],
        },
        Case {
            input: b"HTTP/1.1 204\r\n\r\n",
            version: Version::Http11,
            status: 204,
            reason: "",
            headers: &[],
        },
        Case {
            input: b"HTTP/1.1 404 \r\nX-Empty:\r\nX-Spaces:   padded value \t\r\n\r\n",
            version: Version::Http11,
            status: 404,
            reason: "",
            headers: &[("X-Empty", ""), ("X-Spaces", "padded value")],
        },
        Case {
            input: b"\r\n\nHTTP/1.1 301 Moved Permanently\r\nLocation: /new\r\n\r\n",
            version: Version::Http11,
            status: 301,
            reason: "Moved Permanently",
            headers: &[("Location", "/new")],
        },
        Case {
            input:
                b"HTTP/1.1 200 OK\r\nX-Folded: first\r\n  second\r\n\tthird\r\nX-After: 1\r\n\r\n",
            version: Version::Http11,
            status: 200,
            reason: "OK",
            headers: &[("X-Folded", "first second third"), ("X-After", "1")],
        },
        Case {
            input: b"HTTP/1.1 200 \xc3\xa7a va\r\nX-Latin: caf\xe9\r\n\r\n",
            version: Version::Http11,
            status: 200,
            reason: "\u{e7}a va",
            headers: &[("X-Latin", "caf\u{e9}")],
        },
    ];
    for case in cases {
        let head = head_of(case.input);
        assert_eq!(head.version, case.version);
        assert_eq!(head.status, case.status);
        assert_eq!(head.reason, case.reason);
        let got: Vec<(&str, &str)> = head.headers.iter().map(|h| (h.name(), h.value())).collect();
        assert_eq!(got, case.headers);
    }
}

#[test]
fn body_bytes_after_the_head_are_not_consumed() {
    let input = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1";
    let (head, used) = parse_every_split(input, &HeadLimits::default())
        .unwrap()
        .unwrap();
    assert_eq!(&input[used..], b"abcHTTP/1.1");
    assert_eq!(head.framing(false), Framing::Length(3));
}

#[test]
fn every_syntax_error_with_its_offset() {
    let cases: &[(&[u8], HeadError)] = &[
        (b"HTTX/1.1 200 OK\r\n\r\n", HeadError::NotHttp { offset: 3 }),
        (b"<html>", HeadError::NotHttp { offset: 0 }),
        (
            b"\r\nhttp/1.1 200 OK\r\n\r\n",
            HeadError::NotHttp { offset: 2 },
        ),
        (
            b"HTTP/x.1 200 OK\r\n\r\n",
            HeadError::InvalidVersion { offset: 5 },
        ),
        (b"HTTP/\r\n\r\n", HeadError::InvalidVersion { offset: 5 }),
        (
            b"HTTP/2.0 200 OK\r\n\r\n",
            HeadError::UnsupportedVersion { major: 2, minor: 0 },
        ),
        (
            b"HTTP/0.9 200 OK\r\n\r\n",
            HeadError::UnsupportedVersion { major: 0, minor: 9 },
        ),
        (
            b"HTTP/1.1  200 OK\r\n\r\n",
            HeadError::InvalidStatusCode { offset: 9 },
        ),
        (
            b"HTTP/1.1\t200 OK\r\n\r\n",
            HeadError::InvalidStatusLine { offset: 8 },
        ),
        (
            b"HTTP/1.1\r\n\r\n",
            HeadError::InvalidStatusLine { offset: 8 },
        ),
        (
            b"HTTP/1.1 20 OK\r\n\r\n",
            HeadError::InvalidStatusCode { offset: 9 },
        ),
        (
            b"HTTP/1.1 099 OK\r\n\r\n",
            HeadError::InvalidStatusCode { offset: 9 },
        ),
        (
            b"HTTP/1.1 2000 OK\r\n\r\n",
            HeadError::InvalidStatusLine { offset: 12 },
        ),
        (
            b"HTTP/1.1 200 O\x01K\r\n\r\n",
            HeadError::InvalidReason { offset: 14 },
        ),
        (
            b"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
            HeadError::MissingColon { offset: 17 },
        ),
        (
            b"HTTP/1.1 200 OK\r\nNo colon\r\n\r\n",
            HeadError::MissingColon { offset: 17 },
        ),
        (
            b"HTTP/1.1 200 OK\r\n: v\r\n\r\n",
            HeadError::InvalidHeaderName { offset: 17 },
        ),
        (
            b"HTTP/1.1 200 OK\r\nBad(Name): v\r\n\r\n",
            HeadError::InvalidHeaderName { offset: 20 },
        ),
        (
            b"HTTP/1.1 200 OK\r\nA b: v\r\n\r\n",
            HeadError::InvalidHeaderName { offset: 18 },
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n",
            HeadError::WhitespaceBeforeColon { offset: 31 },
        ),
        (
            b"HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n",
            HeadError::InvalidHeaderValue { offset: 21 },
        ),
        (
            b"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
            HeadError::InvalidHeaderValue { offset: 21 },
        ),
        (
            b"HTTP/1.1 200 OK\r\nX: a\r\r\n\r\n",
            HeadError::InvalidHeaderValue { offset: 21 },
        ),
        (
            b"HTTP/1.1 200 OK\r\nX: a\x7f\r\n\r\n",
            HeadError::InvalidHeaderValue { offset: 21 },
        ),
        (
            b"HTTP/1.1 200 OK\r\nX: a\r\n \x01\r\n\r\n",
            HeadError::InvalidHeaderValue { offset: 24 },
        ),
        (
            b"HTTP/1.1 200 OK\r\n folded: x\r\n\r\n",
            HeadError::LeadingContinuation { offset: 17 },
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
            HeadError::InvalidContentLength {
                value: "abc".into(),
            },
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n",
            HeadError::InvalidContentLength { value: "+5".into() },
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
            HeadError::InvalidContentLength {
                value: "99999999999999999999".into(),
            },
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            HeadError::ConflictingContentLength {
                first: 5,
                second: 6,
            },
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 5, 7\r\n\r\n",
            HeadError::ConflictingContentLength {
                first: 5,
                second: 7,
            },
        ),
    ];
    for (input, want) in cases {
        let got = parse_every_split(input, &HeadLimits::default());
        assert_eq!(
            got.as_ref(),
            Err(want),
            "{:?}",
            String::from_utf8_lossy(input)
        );
        // The error text names the place.
        assert!(!want.to_string().is_empty());
    }
}

#[test]
fn garbage_fails_on_the_first_byte() {
    assert_eq!(
        parse(b"\x16\x03\x01"),
        Err(HeadError::NotHttp { offset: 0 })
    );
    assert_eq!(parse(b"HTTP/1.1 200 OK"), Ok(None));
    assert_eq!(parse(b"H"), Ok(None));
    assert_eq!(parse(b""), Ok(None));
    assert_eq!(parse(b"\r"), Ok(None));
}

#[test]
fn a_megabyte_of_headers_fails_once_the_limit_is_reached() {
    let limits = HeadLimits::default();
    let mut input = b"HTTP/1.1 200 OK\r\n".to_vec();
    while input.len() < 1 << 20 {
        input.extend_from_slice(
            b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
        );
    }
    let limit = limits.max_head_bytes;
    let error = HeadError::TooLarge { limit };
    // Need more just below the limit, rejected exactly at it.
    let few = HeadLimits {
        max_headers: usize::MAX,
        ..limits
    };
    assert_eq!(parse_response_head(&input[..limit - 1], &few), Ok(None));
    assert_eq!(
        parse_response_head(&input[..limit], &few),
        Err(error.clone())
    );
    assert_eq!(parse_response_head(&input, &few), Err(error));
    // With the default field count the count limit comes first.
    assert_eq!(
        parse_response_head(&input, &limits),
        Err(HeadError::TooManyHeaders { limit: 256 })
    );
}

#[test]
fn a_single_endless_line_hits_the_byte_limit() {
    let limits = HeadLimits {
        max_head_bytes: 100,
        max_headers: 10,
    };
    let mut input = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
    input.resize(500, b'a');
    assert_eq!(
        parse_every_split(&input, &limits),
        Err(HeadError::TooLarge { limit: 100 })
    );
}

#[test]
fn head_exactly_at_the_limit_is_accepted() {
    let input = b"HTTP/1.1 200 OK\r\nA: b\r\n\r\n";
    let exact = HeadLimits {
        max_head_bytes: input.len(),
        max_headers: 1,
    };
    assert!(matches!(parse_every_split(input, &exact), Ok(Some((_, n))) if n == input.len()));
    let short = HeadLimits {
        max_head_bytes: input.len() - 1,
        max_headers: 1,
    };
    assert_eq!(
        parse_every_split(input, &short),
        Err(HeadError::TooLarge {
            limit: input.len() - 1
        })
    );
    let no_fields = HeadLimits {
        max_head_bytes: 1000,
        max_headers: 0,
    };
    assert_eq!(
        parse_every_split(input, &no_fields),
        Err(HeadError::TooManyHeaders { limit: 0 })
    );
}

#[test]
fn interim_responses_are_returned_and_can_be_skipped() {
    let input: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n\
        HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n\
        HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
    let (first, used) = parse(input).unwrap().unwrap();
    assert!(first.is_informational());
    assert_eq!(first.status, 100);
    assert_eq!(first.framing(false), Framing::Empty);
    let (second, _) = parse(&input[used..]).unwrap().unwrap();
    assert_eq!(second.status, 103);

    let limits = HeadLimits::default();
    for cut in 0..input.len() - 2 {
        let part = parse_final_response_head(&input[..cut], &limits).unwrap();
        assert!(part.is_none(), "cut {cut}");
    }
    let (last, used) = parse_final_response_head(input, &limits).unwrap().unwrap();
    assert_eq!(last.status, 200);
    assert_eq!(&input[used..], b"hi");

    let upgrade = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n";
    let (head, _) = parse_final_response_head(upgrade, &limits)
        .unwrap()
        .unwrap();
    assert_eq!(head.status, 101);
}

#[test]
fn errors_in_a_later_head_count_offsets_from_the_buffer_start() {
    let input = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n";
    assert_eq!(
        parse_final_response_head(input, &HeadLimits::default()),
        Err(HeadError::InvalidHeaderName {
            offset: 25 + 17 + 3
        })
    );
}

#[test]
fn content_length_forms() {
    let cl = |fields: &str| {
        let text = format!("HTTP/1.1 200 OK\r\n{fields}\r\n");
        parse(text.as_bytes()).map(|p| p.unwrap().0.content_length().unwrap())
    };
    assert_eq!(cl(""), Ok(None));
    assert_eq!(cl("Content-Length: 0\r\n"), Ok(Some(0)));
    assert_eq!(cl("content-length: 42\r\n"), Ok(Some(42)));
    assert_eq!(cl("Content-Length: 42, 42\r\n"), Ok(Some(42)));
    assert_eq!(
        cl("Content-Length: 42\r\nContent-Length: 42\r\n"),
        Ok(Some(42))
    );
    assert_eq!(
        cl("Content-Length: 18446744073709551615\r\n"),
        Ok(Some(u64::MAX))
    );
    assert_eq!(
        cl("Content-Length: \r\n"),
        Err(HeadError::InvalidContentLength { value: "".into() })
    );
    // With Transfer-Encoding, Content-Length is ignored rather than rejected.
    let (head, _) =
        parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: x\r\n\r\n")
            .unwrap()
            .unwrap();
    assert_eq!(head.framing(false), Framing::Chunked);
    assert!(head.content_length().is_err());
}

#[test]
fn framing_rules() {
    let framing = |text: &str, is_head: bool| {
        let (head, _) = parse(text.as_bytes()).unwrap().unwrap();
        head.framing(is_head)
    };
    let with_length = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
    assert_eq!(framing(with_length, false), Framing::Length(10));
    assert_eq!(framing(with_length, true), Framing::Empty);
    assert_eq!(
        framing(
            "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n",
            false
        ),
        Framing::Empty
    );
    assert_eq!(
        framing(
            "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
            false
        ),
        Framing::Empty
    );
    assert_eq!(
        framing(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 10\r\n\r\n",
            false
        ),
        Framing::Chunked
    );
    assert_eq!(
        framing(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n",
            false
        ),
        Framing::Chunked
    );
    assert_eq!(
        framing(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
            false
        ),
        Framing::UntilClose
    );
    assert_eq!(
        framing("HTTP/1.1 200 OK\r\n\r\n", false),
        Framing::UntilClose
    );
    assert_eq!(
        framing("HTTP/1.0 200 OK\r\n\r\n", false),
        Framing::UntilClose
    );
    assert_eq!(
        framing("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false),
        Framing::Length(0)
    );
}

#[test]
fn keep_alive_rules() {
    let keep = |text: &str| parse(text.as_bytes()).unwrap().unwrap().0.keep_alive();
    assert!(keep("HTTP/1.1 200 OK\r\n\r\n"));
    assert!(!keep("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"));
    assert!(!keep(
        "HTTP/1.1 200 OK\r\nConnection: Upgrade, CLOSE\r\n\r\n"
    ));
    assert!(!keep(
        "HTTP/1.1 200 OK\r\nConnection: x\r\nConnection: close\r\n\r\n"
    ));
    assert!(!keep("HTTP/1.0 200 OK\r\n\r\n"));
    assert!(keep("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n"));
    assert!(!keep(
        "HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\n\r\n"
    ));
    assert!(!keep(
        "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
    ));

    let (head, _) = parse(b"HTTP/1.1 200 OK\r\n\r\n").unwrap().unwrap();
    assert!(!head.can_reuse_connection(false), "body runs until close");
    assert!(head.can_reuse_connection(true));
}

#[test]
fn retry_after_forms() {
    let now = 784_111_777; // Sun, 06 Nov 1994 08:49:37 GMT
    let retry = |value: &str| {
        let text = format!("HTTP/1.1 503 Busy\r\nRetry-After: {value}\r\n\r\n");
        parse(text.as_bytes()).unwrap().unwrap().0.retry_after(now)
    };
    assert_eq!(retry("120"), Some(120));
    assert_eq!(retry("0"), Some(0));
    assert_eq!(retry("99999999999999999999999"), Some(u64::MAX));
    assert_eq!(retry("Sun, 06 Nov 1994 08:51:37 GMT"), Some(120));
    assert_eq!(retry("Sunday, 06-Nov-94 08:50:37 GMT"), Some(60));
    assert_eq!(retry("Sun Nov  6 08:49:47 1994"), Some(10));
    assert_eq!(
        retry("Sat, 05 Nov 1994 08:49:37 GMT"),
        Some(0),
        "past dates wait 0"
    );
    assert_eq!(retry("-5"), None);
    assert_eq!(retry("soon"), None);
    assert_eq!(retry("1.5"), None);
    let (head, _) = parse(b"HTTP/1.1 503 Busy\r\n\r\n").unwrap().unwrap();
    assert_eq!(head.retry_after(now), None);
}

#[test]
fn simple_accessors() {
    let head = head_of(
        b"HTTP/1.1 206 Partial Content\r\n\
          Content-Type: application/octet-stream\r\n\
          ETag: W/\"v1\"\r\n\
          Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
          Accept-Ranges: none, Bytes\r\n\
          Content-Range: bytes 0-9/20\r\n\
          Content-Range: bytes 0-9/20\r\n\
          Content-Encoding: identity, x-gzip\r\n\
          Location:  /elsewhere \r\n\
          Content-Disposition: attachment; filename=\"../a.bin\"\r\n\
          Content-Length: 10\r\n\r\n",
    );
    assert_eq!(head.content_type(), Some("application/octet-stream"));
    assert_eq!(head.etag(), Some("W/\"v1\""));
    assert_eq!(head.last_modified(), Some("Sun, 06 Nov 1994 08:49:37 GMT"));
    assert_eq!(head.last_modified_unix(), Some(784_111_777));
    assert!(head.accepts_ranges());
    assert_eq!(
        head.content_range(),
        Ok(Some(ContentRange::Bytes {
            first: 0,
            last: 9,
            complete_length: Some(20)
        }))
    );
    assert_eq!(head.content_encoding(), ContentEncoding::Gzip);
    assert_eq!(head.location(), Some("/elsewhere"));
    assert_eq!(
        head.content_disposition_filename(false),
        Some("../a.bin".into())
    );
    let url = swarmget_http_seg::Url::parse("http://h/dir/from-url.iso").unwrap();
    assert_eq!(head.suggested_file_name(&url, false), Some("a.bin".into()));
    assert_eq!(head.header("CONTENT-LENGTH"), Some("10"));
    assert_eq!(head.headers_all("content-range").count(), 2);
    assert!(head.is_success());

    let bare = head_of(b"HTTP/1.1 200 OK\r\nAccept-Ranges: none\r\n\r\n");
    assert!(!bare.accepts_ranges());
    assert_eq!(bare.content_range(), Ok(None));
    assert_eq!(bare.content_encoding(), ContentEncoding::Identity);
    assert_eq!(
        bare.suggested_file_name(&url, false),
        Some("from-url.iso".into())
    );
    assert_eq!(
        head_of(b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\n\r\n").content_encoding(),
        ContentEncoding::Unsupported("br".into())
    );
    assert_eq!(
        head_of(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Encoding: gzip\r\n\r\n")
            .content_encoding(),
        ContentEncoding::Unsupported("gzip, gzip".into())
    );
}

#[test]
fn content_range_field_errors() {
    let conflicting = head_of(
        b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/20\r\nContent-Range: bytes 0-8/20\r\n\r\n",
    );
    assert!(matches!(
        conflicting.content_range(),
        Err(HeadError::ConflictingContentRange { .. })
    ));
    let invalid = head_of(b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 9-0/20\r\n\r\n");
    assert!(matches!(
        invalid.content_range(),
        Err(HeadError::InvalidContentRange { .. })
    ));
}
