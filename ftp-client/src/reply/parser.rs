//! The incremental reply parser.
//!
//! RFC 959 §4.2: a reply is one line `123 text`, or several lines from
//! `123-text` up to the first line that starts with the same code followed by
//! a space. Lines between may hold anything, including other codes. The
//! parser keeps the unfinished line between calls, so each byte is looked at
//! once however the server's bytes are split, and every verdict depends only
//! on bytes already seen: feeding a reply in pieces gives "need more" until
//! the same reply (or error) the whole input gives.

use super::{Reply, ReplyError};

/// Bounds on a reply, so a server that never ends one cannot make the
/// client buffer without limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplyLimits {
    /// Longest line, without its line feed (8 KiB).
    pub max_line_bytes: usize,
    /// Longest reply, all lines and line endings (64 KiB).
    pub max_reply_bytes: usize,
}

impl Default for ReplyLimits {
    fn default() -> ReplyLimits {
        ReplyLimits {
            max_line_bytes: 8 * 1024,
            max_reply_bytes: 64 * 1024,
        }
    }
}

/// Limits below this are raised to it: a reply's code and separator (five
/// bytes with a CR) must fit, which also keeps syntax errors, found within
/// the first five bytes, ahead of limit errors.
const MIN_LIMIT: usize = 8;

/// Reads replies from a stream of control-connection bytes.
///
/// ```
/// use swarmget_ftp_client::{ReplyLimits, ReplyParser};
///
/// let mut parser = ReplyParser::new(ReplyLimits::default());
/// assert_eq!(parser.parse(b"220-Welcome\r\n220 rea").unwrap(), (20, None));
/// let (used, reply) = parser.parse(b"dy\r\n331 next").unwrap();
/// assert_eq!(used, 4); // the next reply's bytes are left for the next call
/// let reply = reply.unwrap();
/// assert_eq!((reply.code(), reply.text()), (220, "Welcome\nready".to_owned()));
/// ```
#[derive(Clone, Debug)]
pub struct ReplyParser {
    limits: ReplyLimits,
    /// The current line so far, without its line feed.
    line: Vec<u8>,
    /// Bytes of the current reply's finished lines, line feeds included.
    reply_len: usize,
    /// A multi-line reply whose end line has not come yet.
    open: Option<OpenReply>,
}

#[derive(Clone, Debug)]
struct OpenReply {
    digits: [u8; 3],
    lines: Vec<Vec<u8>>,
}

impl ReplyParser {
    /// A parser at the start of a reply.
    pub fn new(limits: ReplyLimits) -> ReplyParser {
        ReplyParser {
            limits,
            line: Vec::new(),
            reply_len: 0,
            open: None,
        }
    }

    /// Reads `input` up to the end of one reply.
    ///
    /// Returns how many bytes were used and the reply if one ended. Bytes
    /// after a reply's end are not used: call again with `&input[used..]`.
    /// Without a reply every byte is used (and kept) and the next call
    /// continues where this one stopped.
    ///
    /// Line ends may be CRLF or a bare LF. Leniency: a first line holding
    /// only the code (`"200\r\n"`) is a complete reply with empty text. A
    /// multi-line reply ends only at its code followed by a space, as RFC 959
    /// says.
    ///
    /// After an error the parser's state is unspecified; a client should drop
    /// the connection, since it can no longer tell where replies start.
    pub fn parse(&mut self, input: &[u8]) -> Result<(usize, Option<Reply>), ReplyError> {
        let max_line = self.limits.max_line_bytes.max(MIN_LIMIT);
        let max_reply = self.limits.max_reply_bytes.max(MIN_LIMIT);
        let mut pos = 0;
        while pos < input.len() {
            let rest = &input[pos..];
            let lf = rest.iter().position(|&b| b == b'\n');
            let content = &rest[..lf.unwrap_or(rest.len())];
            let line_start = self.reply_len;
            if self.open.is_none() {
                check_code(&self.line, content, lf.is_some())?;
            }
            let line_len = self.line.len() + content.len();
            let reply_len = line_start + line_len + usize::from(lf.is_some());
            // Report whichever limit the earliest byte broke, so the verdict
            // does not depend on how the input was split.
            let line_over = (line_len > max_line).then_some(line_start + max_line);
            let reply_over = (reply_len > max_reply).then_some(max_reply);
            match (line_over, reply_over) {
                (Some(line_at), Some(reply_at)) if reply_at < line_at => {
                    return Err(ReplyError::TooLong { limit: max_reply });
                }
                (Some(_), _) => {
                    return Err(ReplyError::LineTooLong {
                        offset: line_start,
                        limit: max_line,
                    });
                }
                (None, Some(_)) => return Err(ReplyError::TooLong { limit: max_reply }),
                (None, None) => {}
            }
            self.line.extend_from_slice(content);
            let Some(lf) = lf else {
                return Ok((input.len(), None));
            };
            pos += lf + 1;
            self.reply_len = reply_len;
            let mut line = std::mem::take(&mut self.line);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if let Some(reply) = self.finish_line(line) {
                self.reply_len = 0;
                return Ok((pos, Some(reply)));
            }
        }
        Ok((pos, None))
    }

    /// Whether part of a reply has been read and its end has not.
    pub fn is_mid_reply(&self) -> bool {
        self.reply_len > 0 || !self.line.is_empty()
    }

    /// Takes one whole line (line ending removed); returns the reply it ends.
    fn finish_line(&mut self, line: Vec<u8>) -> Option<Reply> {
        match &mut self.open {
            None => {
                // `check_code` has vouched for the code and separator, so the
                // pattern always matches.
                let [a, b, c, rest @ ..] = line.as_slice() else {
                    return None;
                };
                let digits = [*a, *b, *c];
                let text = rest.get(1..).unwrap_or_default().to_vec();
                if rest.first() == Some(&b'-') {
                    self.open = Some(OpenReply {
                        digits,
                        lines: vec![text],
                    });
                    None
                } else {
                    Some(Reply::from_parts(code_of(digits), vec![text]))
                }
            }
            Some(open) => {
                let end_text = match line.as_slice() {
                    [a, b, c, b' ', text @ ..] if [*a, *b, *c] == open.digits => text.to_vec(),
                    _ => {
                        open.lines.push(line);
                        return None;
                    }
                };
                open.lines.push(end_text);
                let open = self.open.take()?;
                Some(Reply::from_parts(code_of(open.digits), open.lines))
            }
        }
    }
}

/// Parses one reply from the start of `buf`: `Ok(None)` if it has not ended
/// yet, else the reply and how many bytes it took.
///
/// ```
/// use swarmget_ftp_client::{ReplyLimits, parse_reply};
///
/// let buf = b"150 Opening data connection\r\n226 Done\r\n";
/// let (reply, used) = parse_reply(buf, &ReplyLimits::default()).unwrap().unwrap();
/// assert_eq!((reply.code(), used), (150, 29));
/// assert_eq!(parse_reply(&buf[..10], &ReplyLimits::default()), Ok(None));
/// ```
pub fn parse_reply(buf: &[u8], limits: &ReplyLimits) -> Result<Option<(Reply, usize)>, ReplyError> {
    let (used, reply) = ReplyParser::new(*limits).parse(buf)?;
    Ok(reply.map(|reply| (reply, used)))
}

/// Checks the start of a reply's first line: `before` is what earlier calls
/// kept, `more` what this call adds, `ended` whether a line feed follows.
fn check_code(before: &[u8], more: &[u8], ended: bool) -> Result<(), ReplyError> {
    let byte = |i: usize| match before.get(i) {
        Some(&b) => Some(b),
        None => more.get(i - before.len()).copied(),
    };
    for offset in 0..3 {
        let valid = match byte(offset) {
            // Nothing yet: wait for more, unless the line already ended.
            None if ended => false,
            None => return Ok(()),
            Some(b) if offset == 0 => (b'1'..=b'5').contains(&b),
            Some(b) => b.is_ascii_digit(),
        };
        if !valid {
            return Err(ReplyError::InvalidCode { offset });
        }
    }
    match byte(3) {
        // A bare code ("200\r\n"), or not enough bytes yet.
        None | Some(b' ' | b'-') => Ok(()),
        // Only as the CR of "200\r\n".
        Some(b'\r') if byte(4).is_none() => Ok(()),
        Some(_) => Err(ReplyError::InvalidSeparator { offset: 3 }),
    }
}

fn code_of(digits: [u8; 3]) -> u16 {
    digits
        .iter()
        .fold(0, |code, d| code * 10 + u16::from(d - b'0'))
}
