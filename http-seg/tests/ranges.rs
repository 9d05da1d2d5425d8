//! `check_range_response`: every answer and every `RangeError`.

use swarmget_http_seg::{
    ByteRange, HeadError, HeadLimits, RangeAnswer, RangeError, ResponseHead, check_range_response,
    parse_response_head,
};

fn head(text: &str) -> ResponseHead {
    let text = format!("{text}\r\n");
    parse_response_head(text.as_bytes(), &HeadLimits::default())
        .unwrap()
        .unwrap()
        .0
}

#[test]
fn partial_answers() {
    let h = head(
        "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 100-199/1000\r\nContent-Length: 100\r\n",
    );
    let want = RangeAnswer::Partial {
        start: 100,
        end: 199,
        total: Some(1000),
    };
    assert_eq!(
        check_range_response(&h, ByteRange::new(100, 199), Some(1000)),
        Ok(want)
    );
    assert_eq!(
        check_range_response(&h, ByteRange::new(100, 199), None),
        Ok(want)
    );
    assert_eq!(
        check_range_response(&h, ByteRange::from_start(100), Some(1000)),
        Ok(want)
    );
    // The server may send less than asked; the caller asks again for the rest.
    assert_eq!(
        check_range_response(&h, ByteRange::new(100, 499), Some(1000)),
        Ok(want)
    );

    let unknown_total = head("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/*\r\n");
    assert_eq!(
        check_range_response(&unknown_total, ByteRange::new(0, 9), Some(50)),
        Ok(RangeAnswer::Partial {
            start: 0,
            end: 9,
            total: None
        })
    );
    let chunked = head(
        "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/10\r\nTransfer-Encoding: chunked\r\n",
    );
    assert!(check_range_response(&chunked, ByteRange::from_start(0), Some(10)).is_ok());

    let widest =
        head("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-18446744073709551615/*\r\n");
    assert_eq!(
        check_range_response(&widest, ByteRange::from_start(0), None),
        Ok(RangeAnswer::Partial {
            start: 0,
            end: u64::MAX,
            total: None
        })
    );
}

#[test]
fn whole_answers() {
    let h = head("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n");
    assert_eq!(
        check_range_response(&h, ByteRange::from_start(500), Some(1000)),
        Ok(RangeAnswer::Whole { length: Some(1000) })
    );
    let no_length = head("HTTP/1.1 200 OK\r\n");
    assert_eq!(
        check_range_response(&no_length, ByteRange::from_start(0), Some(1000)),
        Ok(RangeAnswer::Whole { length: None })
    );
    assert_eq!(
        check_range_response(&h, ByteRange::from_start(0), Some(999)),
        Err(RangeError::TotalMismatch {
            expected: 999,
            got: 1000
        })
    );
}

#[test]
fn already_complete_only_when_everything_agrees() {
    let h = head("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */1000\r\n");
    assert_eq!(
        check_range_response(&h, ByteRange::from_start(1000), Some(1000)),
        Ok(RangeAnswer::AlreadyComplete)
    );
    for (asked, expected) in [(1000, None), (1000, Some(1001)), (900, Some(1000))] {
        assert_eq!(
            check_range_response(&h, ByteRange::from_start(asked), expected),
            Err(RangeError::NotSatisfiable {
                asked_start: asked,
                total: Some(1000)
            }),
            "asked {asked}, expected {expected:?}"
        );
    }
    let bare = head("HTTP/1.1 416 Range Not Satisfiable\r\n");
    assert_eq!(
        check_range_response(&bare, ByteRange::from_start(5), Some(5)),
        Err(RangeError::NotSatisfiable {
            asked_start: 5,
            total: None
        })
    );
}

#[test]
fn every_range_error() {
    let cases: Vec<(&str, ByteRange, Option<u64>, RangeError)> = vec![
        (
            "HTTP/1.1 404 Not Found\r\n",
            ByteRange::from_start(0),
            None,
            RangeError::UnexpectedStatus(404),
        ),
        (
            "HTTP/1.1 204 No Content\r\n",
            ByteRange::from_start(0),
            None,
            RangeError::UnexpectedStatus(204),
        ),
        (
            "HTTP/1.1 302 Found\r\nLocation: /x\r\n",
            ByteRange::from_start(0),
            None,
            RangeError::UnexpectedStatus(302),
        ),
        (
            "HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\n",
            ByteRange::new(0, 9),
            None,
            RangeError::MissingContentRange,
        ),
        (
            "HTTP/1.1 206 Partial Content\r\nContent-Type: multipart/byteranges; boundary=X\r\n",
            ByteRange::new(0, 9),
            None,
            RangeError::Multipart,
        ),
        (
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes */100\r\n",
            ByteRange::new(0, 9),
            None,
            RangeError::UnsatisfiedPartial,
        ),
        (
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-99/1000\r\n",
            ByteRange::new(100, 199),
            Some(1000),
            RangeError::StartMismatch { asked: 100, got: 0 },
        ),
        (
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 100-299/1000\r\n",
            ByteRange::new(100, 199),
            Some(1000),
            RangeError::EndBeyondAsked {
                asked: 199,
                got: 299,
            },
        ),
        (
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 100-199/2000\r\n",
            ByteRange::new(100, 199),
            Some(1000),
            RangeError::TotalMismatch {
                expected: 1000,
                got: 2000,
            },
        ),
        (
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 100-199/1000\r\nContent-Length: 50\r\n",
            ByteRange::new(100, 199),
            Some(1000),
            RangeError::LengthMismatch {
                content_length: 50,
                range_length: 100,
            },
        ),
    ];
    for (text, asked, expected, want) in cases {
        let h = head(text);
        assert_eq!(
            check_range_response(&h, asked, expected),
            Err(want.clone()),
            "{text}"
        );
        assert!(!want.to_string().is_empty());
    }

    let invalid = head("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 9-1/100\r\n");
    assert!(matches!(
        check_range_response(&invalid, ByteRange::new(9, 9), None),
        Err(RangeError::InvalidField(
            HeadError::InvalidContentRange { .. }
        ))
    ));
    let mut hand_made = head("HTTP/1.1 200 OK\r\n");
    hand_made.headers.append("Content-Length", "ten");
    assert!(matches!(
        check_range_response(&hand_made, ByteRange::from_start(0), None),
        Err(RangeError::InvalidField(
            HeadError::InvalidContentLength { .. }
        ))
    ));
}
