//! Arbitrary bytes as server replies, fed to an FTP session in every state
//! a scripted download passes through (greeting, each login step, each
//! command of an operation, a running transfer, an abort, QUIT).
//!
//! Invariants checked besides "never panics":
//! - the reply parser reads the same replies (or fails the same way) from
//!   the input whole, byte by byte and in odd pieces;
//! - so does the session: same commands sent, same events, same final state;
//! - every command line ends in CRLF and holds no other CR, LF or NUL;
//! - nothing is reported after `Event::Closed`, a closed session has no
//!   deadline, and `ConnectData` always names the control connection's peer
//!   (the default policy refuses foreign `227` addresses);
//! - the deadline, once passed, closes the session.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use swarmget_ftp_client::{
    Config, Event, RemotePath, ReplyLimits, ReplyParser, Session, UsageError,
};

/// Inputs up to this size get the piece-by-piece comparisons.
const SPLIT_CHECK_MAX: usize = 4096;

const PEER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7));

/// One step of the script that walks a session through its states.
enum Step {
    Server(&'static [u8]),
    Caller(fn(&mut Session, Instant) -> Result<(), UsageError>),
}

fn path(text: &str) -> RemotePath {
    RemotePath::parse(text).expect("static path")
}

/// The state each step leaves the session in is noted beside it: the
/// greeting is awaited before the first.
const SCRIPT: &[Step] = &[
    Step::Server(b"220 hi\r\n"),                      // USER in flight
    Step::Server(b"331 pw\r\n"),                      // PASS
    Step::Server(b"230 ok\r\n"),                      // TYPE
    Step::Server(b"200 ok\r\n"),                      // PWD
    Step::Server(b"257 \"/home\"\r\n"),               // idle
    Step::Caller(|s, now| s.size(&path("d/f"), now)), // CWD
    Step::Server(b"250 ok\r\n"),                      // SIZE
    Step::Server(b"213 5\r\n"),                       // idle
    Step::Caller(|s, now| s.modification_time(&path("d/f"), now)), // MDTM
    Step::Server(b"213 20240102030405\r\n"),          // idle
    Step::Caller(|s, now| s.retrieve(&path("d/f"), 100, now)), // EPSV
    Step::Server(b"502 no\r\n"),                      // PASV
    Step::Server(b"227 (192,0,2,7,4,1)\r\n"),         // REST, data pending
    Step::Caller(|s, now| s.data_connected(now)),     // REST
    Step::Server(b"350 ok\r\n"),                      // RETR
    Step::Server(b"150 go\r\n"),                      // transferring
    Step::Caller(|s, now| s.data_finished(now)),      // 226 due
    Step::Server(b"226 done\r\n"),                    // idle
    Step::Caller(|s, now| s.retrieve(&path("d/f"), 0, now)), // PASV
    Step::Server(b"227 (192,0,2,7,4,2)\r\n"),         // data pending
    Step::Caller(|s, now| s.data_connected(now)),     // RETR
    Step::Server(b"150 go\r\n"),                      // transferring
    Step::Caller(|s, now| s.abort(now)),              // both replies due
    Step::Server(b"426 aborted\r\n"),                 // ABOR's reply due
    Step::Server(b"226 abor ok\r\n"),                 // idle
    Step::Caller(|s, now| {
        let listen = SocketAddr::new(Ipv4Addr::new(192, 0, 2, 1).into(), 4000);
        s.retrieve_active(&path("e/g"), 0, listen, now)
    }), // CWD home
    Step::Server(b"250 ok\r\n"),                      // CWD e
    Step::Server(b"250 ok\r\n"),                      // PORT
    Step::Server(b"200 ok\r\n"),                      // RETR
    Step::Server(b"226 done\r\n"),                    // data end awaited
    Step::Caller(|s, now| s.data_finished(now)),      // idle
    Step::Caller(|s, now| s.quit(now)),               // QUIT
];

/// Everything a session produced.
#[derive(Debug, Default, PartialEq, Eq)]
struct Output {
    sent: Vec<Vec<u8>>,
    events: Vec<Event>,
}

impl Output {
    fn drain(&mut self, session: &mut Session) {
        while let Some(line) = session.poll_transmit() {
            check_line(&line);
            self.sent.push(line);
        }
        while let Some(event) = session.poll_event() {
            assert!(
                self.events.last() != Some(&Event::Closed),
                "{event:?} after Closed"
            );
            match &event {
                Event::ConnectData(addr) => assert_eq!(addr.ip(), PEER),
                Event::Error(error) => assert!(!error.to_string().is_empty()),
                _ => {}
            }
            self.events.push(event);
        }
        if session.is_closed() {
            assert_eq!(session.poll_timeout(), None);
        }
    }
}

fn check_line(line: &[u8]) {
    let body = line
        .strip_suffix(b"\r\n")
        .expect("command lines end in CRLF");
    assert!(
        !body.iter().any(|b| matches!(b, b'\r' | b'\n' | 0)),
        "{line:?}"
    );
}

/// A session walked through the first `steps` steps of the script.
fn session_after(steps: usize, now: Instant) -> Session {
    let mut session = Session::new(Config::default(), PEER, now);
    let mut output = Output::default();
    for step in &SCRIPT[..steps] {
        match step {
            Step::Server(bytes) => session.handle_input(bytes, now),
            Step::Caller(call) => call(&mut session, now).expect("the script is valid"),
        }
        output.drain(&mut session);
    }
    assert!(
        !session.is_closed(),
        "the script closed the session: {:?}",
        output.events
    );
    session
}

/// Fuzz body: must never panic on any input.
pub fn run(data: &[u8]) {
    check_parser(data);
    let now = Instant::now();
    for steps in 0..=SCRIPT.len() {
        let whole = feed(steps, data, data.len().max(1), now);
        if data.len() <= SPLIT_CHECK_MAX {
            for piece in [1, 7] {
                assert_eq!(
                    feed(steps, data, piece, now),
                    whole,
                    "state {steps}, fed {piece} bytes at a time"
                );
            }
        }
        react(steps, data, now);
    }
}

/// Feeds `data` in pieces to a session in state `steps`; returns what it
/// produced and whether it closed.
fn feed(steps: usize, data: &[u8], piece: usize, now: Instant) -> (Output, bool) {
    let mut session = session_after(steps, now);
    let mut output = Output::default();
    for chunk in data.chunks(piece) {
        session.handle_input(chunk, now);
        output.drain(&mut session);
    }
    expire(&mut session, &mut output);
    (output, session.is_closed())
}

/// Passing the deadline closes the session; without one nothing happens.
fn expire(session: &mut Session, output: &mut Output) {
    match session.poll_timeout() {
        Some(deadline) => {
            session.handle_timeout(deadline - Duration::from_nanos(1));
            assert!(!session.is_closed(), "timed out before the deadline");
            session.handle_timeout(deadline);
            output.drain(session);
            assert!(session.is_closed(), "the deadline passed without effect");
        }
        None if !session.is_closed() => {
            let closed_before = session.is_closed();
            if let Some(later) = Instant::now().checked_add(Duration::from_secs(86_400)) {
                session.handle_timeout(later);
            }
            assert_eq!(session.is_closed(), closed_before);
        }
        None => {}
    }
}

/// Feeds `data` line by line to a caller that reacts to events the way a
/// downloader would, starting the next operation whenever one ends.
fn react(steps: usize, data: &[u8], now: Instant) {
    let mut session = session_after(steps, now);
    let mut output = Output::default();
    let mut next_op = 0usize;
    for line in data.split_inclusive(|&b| b == b'\n') {
        session.handle_input(line, now);
        // Bounded: an operation may end without input (an abort with
        // nothing in flight), and reacting must not loop forever.
        for _ in 0..8 {
            let seen = output.events.len();
            output.drain(&mut session);
            let new_events: Vec<Event> = output.events[seen..].to_vec();
            if new_events.is_empty() {
                break;
            }
            for event in new_events {
                match event {
                    Event::ConnectData(_) => {
                        let _ = session.data_connected(now);
                    }
                    Event::TransferStarted { .. } => {
                        let _ = if next_op.is_multiple_of(2) {
                            session.data_finished(now)
                        } else {
                            session.abort(now)
                        };
                    }
                    _ => {}
                }
            }
            if session.is_idle() {
                let result = match next_op % 5 {
                    0 => session.retrieve(&path("d/f"), 0, now),
                    1 => session.size(&path("a/b/c"), now),
                    2 => session.retrieve(&path("f"), 7, now),
                    3 => session.modification_time(&path("d/f"), now),
                    _ => {
                        let listen = SocketAddr::new(Ipv4Addr::new(192, 0, 2, 1).into(), 4000);
                        session.retrieve_active(&path("x/f"), 1, listen, now)
                    }
                };
                assert_eq!(result, Ok(()), "an idle session takes operations");
                next_op += 1;
            }
        }
    }
    output.drain(&mut session);
    expire(&mut session, &mut output);
}

/// The parser reads the same replies from any split of the input.
fn check_parser(data: &[u8]) {
    let small = ReplyLimits {
        max_line_bytes: 64,
        max_reply_bytes: 256,
    };
    for limits in [ReplyLimits::default(), small] {
        let whole = parse_all(data, data.len().max(1), limits);
        if data.len() <= SPLIT_CHECK_MAX {
            for piece in [1, 2, 7] {
                assert_eq!(parse_all(data, piece, limits), whole, "{piece}-byte pieces");
            }
        }
    }
}

type Parsed = (
    Vec<(u16, Vec<Vec<u8>>)>,
    Option<swarmget_ftp_client::ReplyError>,
);

fn parse_all(data: &[u8], piece: usize, limits: ReplyLimits) -> Parsed {
    let mut parser = ReplyParser::new(limits);
    let mut replies = Vec::new();
    for chunk in data.chunks(piece) {
        let mut rest = chunk;
        while !rest.is_empty() {
            match parser.parse(rest) {
                Ok((used, reply)) => {
                    assert!(used <= rest.len() && (used > 0 || reply.is_some()));
                    if let Some(reply) = reply {
                        assert!((100..600).contains(&reply.code()));
                        let text: usize = reply.lines().map(<[u8]>::len).sum();
                        assert!(
                            text <= limits.max_reply_bytes.max(8),
                            "reply over the limit"
                        );
                        replies.push((reply.code(), reply.lines().map(<[u8]>::to_vec).collect()));
                    }
                    rest = &rest[used..];
                }
                Err(error) => return (replies, Some(error)),
            }
        }
    }
    (replies, None)
}
