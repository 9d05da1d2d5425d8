//! Reply parsing: every split of sample inputs, every error with its offset,
//! the limits, and several replies in one read.

use swarmget_ftp_client::{Reply, ReplyClass, ReplyError, ReplyLimits, ReplyParser, parse_reply};

/// What feeding an input produced: the replies, with the bytes each used,
/// then the error if any.
type Fed = (Vec<(u16, Vec<Vec<u8>>)>, Option<ReplyError>);

/// Feeds `input` to one parser in pieces cut at `cuts`, collecting replies.
fn feed(input: &[u8], cuts: &[usize], limits: ReplyLimits) -> Fed {
    let mut parser = ReplyParser::new(limits);
    let mut replies = Vec::new();
    let mut bounds = cuts.to_vec();
    bounds.push(input.len());
    let mut start = 0;
    for end in bounds {
        let mut piece = &input[start..end];
        start = end;
        while !piece.is_empty() {
            match parser.parse(piece) {
                Ok((used, reply)) => {
                    assert!(used <= piece.len());
                    if let Some(reply) = reply {
                        replies.push((reply.code(), reply.lines().map(<[u8]>::to_vec).collect()));
                    } else {
                        assert_eq!(used, piece.len(), "without a reply every byte is used");
                    }
                    piece = &piece[used..];
                }
                Err(error) => return (replies, Some(error)),
            }
        }
    }
    (replies, None)
}

/// Feeds `input` whole, at every single split point and byte by byte, and
/// checks all agree; returns the whole-input result.
fn feed_every_split(input: &[u8], limits: ReplyLimits) -> Fed {
    let whole = feed(input, &[], limits);
    for cut in 0..=input.len() {
        assert_eq!(
            feed(input, &[cut], limits),
            whole,
            "split at {cut} of {input:?}"
        );
    }
    let every: Vec<usize> = (1..input.len()).collect();
    assert_eq!(
        feed(input, &every, limits),
        whole,
        "byte by byte: {input:?}"
    );
    whole
}

fn lines(texts: &[&str]) -> Vec<Vec<u8>> {
    texts.iter().map(|t| t.as_bytes().to_vec()).collect()
}

#[test]
fn sample_replies_parse_identically_at_every_split() {
    /// An input and the replies (code, lines) it holds.
    type Case = (&'static [u8], &'static [(u16, &'static [&'static str])]);
    let cases: &[Case] = &[
        (b"220 Service ready\r\n", &[(220, &["Service ready"])]),
        (b"200 \r\n", &[(200, &[""])]),
        (b"200\r\n", &[(200, &[""])]),
        (b"200\n", &[(200, &[""])]),
        (b"331 Password required\n", &[(331, &["Password required"])]),
        (
            b"220-Welcome\r\n220 ready\r\n",
            &[(220, &["Welcome", "ready"])],
        ),
        // RFC 959 §4.2's own example: continuation lines starting with
        // digits, even another code followed by a space, do not end it.
        (
            b"123-First line\r\nSecond line\r\n  234 A line beginning with numbers\r\n\
              234 not the end either\r\n123 The last line\r\n",
            &[(
                123,
                &[
                    "First line",
                    "Second line",
                    "  234 A line beginning with numbers",
                    "234 not the end either",
                    "The last line",
                ],
            )],
        ),
        // "123-" inside a multi-line reply is just text; "123" alone too.
        (
            b"211-Features:\r\n211-still going\r\n123\r\n MDTM\r\n SIZE\r\n211 End\r\n",
            &[(
                211,
                &[
                    "Features:",
                    "211-still going",
                    "123",
                    " MDTM",
                    " SIZE",
                    "End",
                ],
            )],
        ),
        (
            b"150 Opening\r\n226 Done\r\n",
            &[(150, &["Opening"]), (226, &["Done"])],
        ),
        (b"230-\r\n\r\n230 \r\n", &[(230, &["", "", ""])]),
    ];
    for (input, expected) in cases {
        let (replies, error) = feed_every_split(input, ReplyLimits::default());
        assert_eq!(error, None, "{input:?}");
        assert_eq!(replies.len(), expected.len(), "{input:?}");
        for ((code, got), (want_code, want_lines)) in replies.iter().zip(expected.iter()) {
            assert_eq!(code, want_code, "{input:?}");
            assert_eq!(got, &lines(want_lines), "{input:?}");
        }
    }
    // Bytes that are not UTF-8 are kept as they are.
    let (replies, error) = feed_every_split(b"257 \"/caf\xe9\"\r\n", ReplyLimits::default());
    assert_eq!(error, None);
    assert_eq!(replies, vec![(257, vec![b"\"/caf\xe9\"".to_vec()])]);
}

#[test]
fn an_unfinished_reply_is_never_returned() {
    for input in [
        &b"220 no line end"[..],
        b"220-first\r\n",
        b"220-first\r\n220-second\r\n221 other code\r\n",
        b"220-first\r\n220",
        b"220-first\r\n220\r\n",
        b"220-a\r\n22",
    ] {
        let (replies, error) = feed_every_split(input, ReplyLimits::default());
        assert_eq!((replies.len(), error), (0, None), "{input:?}");
    }
}

#[test]
fn every_syntax_error_with_its_offset() {
    let cases: &[(&[u8], ReplyError)] = &[
        (b"\r\n", ReplyError::InvalidCode { offset: 0 }),
        (
            b"HTTP/1.1 200 OK\r\n",
            ReplyError::InvalidCode { offset: 0 },
        ),
        (b"022 zero\r\n", ReplyError::InvalidCode { offset: 0 }),
        (b"620 six\r\n", ReplyError::InvalidCode { offset: 0 }),
        (b"2x0 letter\r\n", ReplyError::InvalidCode { offset: 1 }),
        (b"22\r\n", ReplyError::InvalidCode { offset: 2 }),
        (b"22\n", ReplyError::InvalidCode { offset: 2 }),
        (
            b"2200 four digits\r\n",
            ReplyError::InvalidSeparator { offset: 3 },
        ),
        (b"220:colon\r\n", ReplyError::InvalidSeparator { offset: 3 }),
        (b"220\tTab\r\n", ReplyError::InvalidSeparator { offset: 3 }),
        (b"220\rX\r\n", ReplyError::InvalidSeparator { offset: 3 }),
        // The second reply's error counts from its own start.
        (b"200 ok\r\nxyz\r\n", ReplyError::InvalidCode { offset: 0 }),
        (
            b"200 ok\r\n  200 indented\r\n",
            ReplyError::InvalidCode { offset: 0 },
        ),
    ];
    for (input, expected) in cases {
        let (_, error) = feed_every_split(input, ReplyLimits::default());
        assert_eq!(error.as_ref(), Some(expected), "{input:?}");
    }
}

#[test]
fn errors_come_as_soon_as_the_bytes_show_them() {
    let limits = ReplyLimits::default();
    assert_eq!(
        parse_reply(b"X", &limits),
        Err(ReplyError::InvalidCode { offset: 0 })
    );
    assert_eq!(parse_reply(b"21", &limits), Ok(None));
    assert_eq!(
        parse_reply(b"21a", &limits),
        Err(ReplyError::InvalidCode { offset: 2 })
    );
    assert_eq!(parse_reply(b"220", &limits), Ok(None));
    assert_eq!(parse_reply(b"220\r", &limits), Ok(None));
    assert_eq!(
        parse_reply(b"220x", &limits),
        Err(ReplyError::InvalidSeparator { offset: 3 })
    );
}

#[test]
fn line_and_reply_limits() {
    let limits = ReplyLimits {
        max_line_bytes: 16,
        max_reply_bytes: 40,
    };
    // 17 bytes before the LF (the CR counts): one too many.
    let over_line_limit = b"200 012345678901\r\n";
    let (replies, error) = feed_every_split(over_line_limit, limits);
    assert_eq!(
        error,
        Some(ReplyError::LineTooLong {
            offset: 0,
            limit: 16
        })
    );
    assert!(replies.is_empty());
    // Exactly 16: fine.
    let fits = b"200 01234567890\r\n";
    let (replies, error) = feed_every_split(fits, limits);
    assert_eq!((replies.len(), error), (1, None));

    // The second line of a reply is too long: offset is where it starts.
    let (_, error) = feed_every_split(b"200-ok\r\n0123456789abcdefX", limits);
    assert_eq!(
        error,
        Some(ReplyError::LineTooLong {
            offset: 8,
            limit: 16
        })
    );

    // Many short lines: the reply limit, counted per reply.
    let many = b"200-a\r\nb\r\nc\r\nd\r\ne\r\nf\r\ng\r\nh\r\ni\r\nj\r\nk\r\n200 end\r\n";
    let (_, error) = feed_every_split(many, limits);
    assert_eq!(error, Some(ReplyError::TooLong { limit: 40 }));
    let (replies, error) = feed_every_split(
        b"200-a\r\nb\r\n200 end\r\n200-a\r\nb\r\n200 end\r\n",
        limits,
    );
    assert_eq!((replies.len(), error), (2, None));

    // A server that never sends a line feed is stopped at the limit, not
    // buffered forever.
    let endless = vec![b'9'; 100_000];
    let mut input = b"200 ".to_vec();
    input.extend_from_slice(&endless);
    let mut parser = ReplyParser::new(ReplyLimits::default());
    let mut error = None;
    for chunk in input.chunks(1000) {
        if let Err(e) = parser.parse(chunk) {
            error = Some(e);
            break;
        }
    }
    assert_eq!(
        error,
        Some(ReplyError::LineTooLong {
            offset: 0,
            limit: 8192
        })
    );
}

#[test]
fn tiny_limits_are_raised_so_codes_always_fit() {
    let limits = ReplyLimits {
        max_line_bytes: 0,
        max_reply_bytes: 0,
    };
    let (replies, error) = feed_every_split(b"200 ok\r\n", limits);
    assert_eq!((replies.len(), error), (1, None));
    let (_, error) = feed_every_split(b"200 okay!\r\n", limits);
    assert_eq!(
        error,
        Some(ReplyError::LineTooLong {
            offset: 0,
            limit: 8
        })
    );
}

#[test]
fn parser_reports_a_reply_in_progress() {
    let mut parser = ReplyParser::new(ReplyLimits::default());
    assert!(!parser.is_mid_reply());
    parser.parse(b"220-a\r\n").unwrap();
    assert!(parser.is_mid_reply());
    parser.parse(b"220 b\r\n").unwrap();
    assert!(!parser.is_mid_reply());
}

#[test]
fn reply_accessors_and_display() {
    let reply = Reply::new(550, "No such file\nor directory");
    assert_eq!(reply.class(), ReplyClass::PermanentNegative);
    assert!(reply.is_negative());
    assert_eq!(reply.text(), "No such file\nor directory");
    assert_eq!(reply.to_string(), "550 No such file | or directory");
    assert_eq!(Reply::new(226, "ok\u{7}").to_string(), "226 ok?");
    let classes = [
        (150, ReplyClass::Preliminary),
        (226, ReplyClass::Completion),
        (331, ReplyClass::Intermediate),
        (421, ReplyClass::TransientNegative),
        (502, ReplyClass::PermanentNegative),
    ];
    for (code, class) in classes {
        assert_eq!(Reply::new(code, "").class(), class);
        assert_eq!(Reply::new(code, "").is_negative(), code >= 400);
    }
}
