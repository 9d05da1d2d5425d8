//! Writing a planned response onto a connection: head, framing, pacing and
//! deliberate cuts.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::plan::{Cut, Framing, Response};
use crate::test_file::SplitMix64;

/// What the connection does after a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum After {
    /// Read the next request.
    KeepAlive,
    /// Close cleanly.
    Close,
    /// The body was cut short: close abruptly.
    Drop,
    /// The body was cut short: go silent.
    Stall,
}

/// How the request being answered shapes the response.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Exchange {
    /// A HEAD request: head only.
    pub(crate) head_only: bool,
    /// The client asked to close after this response.
    pub(crate) client_closes: bool,
    /// An HTTP/1.0 client, which needs keep-alive spelt out.
    pub(crate) http10: bool,
}

/// The largest piece of body written at once.
const PIECE: usize = 16 * 1024;

/// The largest chunk of a chunked body.
const MAX_CHUNK: u64 = 8192;

/// How often a trickled body is topped up.
const TRICKLE_TICK: Duration = Duration::from_millis(50);

/// Writes `response` to `stream`; `stopping` cuts pacing sleeps short when
/// the server shuts down.
///
/// `finishing` is called once, just before the write that completes the
/// response, and not at all for a response cut short: whatever it records
/// happens before the client can have read the whole response. `body_sent`
/// counts the body bytes written (framing not included).
pub(crate) fn send(
    stream: &mut impl Write,
    response: &Response,
    exchange: Exchange,
    stopping: &AtomicBool,
    finishing: &mut dyn FnMut(),
    body_sent: &AtomicU64,
) -> io::Result<After> {
    let body = response.body.get(response.span.clone()).unwrap_or_default();
    let close = response.close || exchange.client_closes || response.framing == Framing::UntilClose;
    let done = if close {
        After::Close
    } else {
        After::KeepAlive
    };
    let (limit, cut_after) = match response.cut {
        _ if exchange.head_only => (0, done),
        Some(Cut::Drop(n)) if n < body.len() as u64 => (n as usize, After::Drop),
        Some(Cut::Stall(n)) if n < body.len() as u64 => (n as usize, After::Stall),
        _ => (body.len(), done),
    };
    let complete = cut_after == done;
    let chunked = response.framing == Framing::Chunked;
    if complete && (exchange.head_only || (limit == 0 && !chunked)) {
        finishing();
    }
    stream.write_all(&head(response, body.len(), close, exchange.http10))?;
    stream.flush()?;
    if exchange.head_only {
        return Ok(done);
    }

    let mut chunk_sizes = SplitMix64::new(response.chunk_seed);
    let started = Instant::now();
    let mut sent = 0;
    while sent < limit {
        let mut piece = match response.framing {
            Framing::Chunked => 1 + (chunk_sizes.next_u64() % MAX_CHUNK) as usize,
            Framing::ContentLength | Framing::UntilClose => PIECE,
        };
        if let Some(rate) = response.trickle {
            let per_tick = rate.saturating_mul(TRICKLE_TICK.as_millis() as u64) / 1000;
            piece = piece.min(per_tick.max(1) as usize);
        }
        let piece = &body[sent..limit.min(sent + piece)];
        if complete && !chunked && sent + piece.len() == limit {
            finishing();
        }
        match response.framing {
            Framing::Chunked => {
                let mut chunk = format!("{:x}\r\n", piece.len()).into_bytes();
                chunk.extend_from_slice(piece);
                chunk.extend_from_slice(b"\r\n");
                stream.write_all(&chunk)?;
            }
            Framing::ContentLength | Framing::UntilClose => stream.write_all(piece)?,
        }
        sent += piece.len();
        body_sent.fetch_add(piece.len() as u64, Ordering::SeqCst);
        if let Some(rate) = response.trickle {
            stream.flush()?;
            let due = started + Duration::from_secs_f64(sent as f64 / rate as f64);
            if !sleep_until(due, stopping) {
                return Ok(After::Drop);
            }
        }
    }
    if cut_after == After::Drop || cut_after == After::Stall {
        stream.flush()?;
        return Ok(cut_after);
    }
    if chunked {
        finishing();
        stream.write_all(b"0\r\n\r\n")?;
    }
    stream.flush()?;
    Ok(done)
}

/// Sends an error response that ends the connection, for requests the
/// server cannot even parse.
pub(crate) fn send_error(stream: &mut impl Write, status: u16, why: &str) -> io::Result<()> {
    let body = format!("{status} {}: {why}\n", reason(status));
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reason(status),
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()
}

fn head(response: &Response, body_len: usize, close: bool, http10: bool) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    match response.framing {
        // RFC 9110 §8.6: no Content-Length on 204.
        Framing::ContentLength if response.status == 204 => {}
        Framing::ContentLength => head.push_str(&format!("Content-Length: {body_len}\r\n")),
        Framing::Chunked => head.push_str("Transfer-Encoding: chunked\r\n"),
        Framing::UntilClose => {}
    }
    if close {
        head.push_str("Connection: close\r\n");
    } else if http10 {
        head.push_str("Connection: keep-alive\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// Sleeps until `due` in short slices; false if the server began stopping.
fn sleep_until(due: Instant, stopping: &AtomicBool) -> bool {
    loop {
        if stopping.load(Ordering::SeqCst) {
            return false;
        }
        let now = Instant::now();
        if now >= due {
            return true;
        }
        thread::sleep((due - now).min(Duration::from_millis(20)));
    }
}

/// The reason phrase for `status` (RFC 9110 §15), or a neutral one.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        410 => "Gone",
        413 => "Content Too Large",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}
