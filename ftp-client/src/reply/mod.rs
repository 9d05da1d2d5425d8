//! Server replies (RFC 959 §4.2): the [`Reply`] type, its incremental parser
//! and the values some replies carry.

mod error;
mod parser;
pub(crate) mod values;

pub use error::ReplyError;
pub use parser::{ReplyLimits, ReplyParser, parse_reply};

use std::fmt;

/// One complete server reply: a three-digit code and its text lines.
///
/// The text is kept as bytes: FTP predates UTF-8, and a path in a `257` reply
/// must be sent back byte for byte. [`text`](Reply::text) gives a lossy
/// string for people.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Reply {
    code: u16,
    lines: Vec<Vec<u8>>,
}

/// What the first digit of a reply code says (RFC 959 §4.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReplyClass {
    /// `1yz`: the command started; another reply follows.
    Preliminary,
    /// `2yz`: the command succeeded.
    Completion,
    /// `3yz`: accepted, the server waits for another command (e.g. `PASS` after `USER`).
    Intermediate,
    /// `4yz`: failed this time; the same command may work later.
    TransientNegative,
    /// `5yz`: failed; repeating it will not help.
    PermanentNegative,
}

impl Reply {
    /// A reply with `code` and `text`, one line per `\n`. For tests and
    /// canned replies; the parser builds the real ones.
    ///
    /// # Panics
    ///
    /// If `code` is not between 100 and 599, which the parser never produces.
    pub fn new(code: u16, text: &str) -> Reply {
        assert!((100..600).contains(&code), "reply code {code} out of range");
        Reply {
            code,
            lines: text.split('\n').map(|l| l.as_bytes().to_vec()).collect(),
        }
    }

    pub(crate) fn from_parts(code: u16, lines: Vec<Vec<u8>>) -> Reply {
        Reply { code, lines }
    }

    /// The three-digit code, 100 to 599.
    pub fn code(&self) -> u16 {
        self.code
    }

    /// What the code's first digit means.
    pub fn class(&self) -> ReplyClass {
        match self.code / 100 {
            1 => ReplyClass::Preliminary,
            2 => ReplyClass::Completion,
            3 => ReplyClass::Intermediate,
            4 => ReplyClass::TransientNegative,
            _ => ReplyClass::PermanentNegative,
        }
    }

    /// Whether the code is `4yz` or `5yz`.
    pub fn is_negative(&self) -> bool {
        self.code >= 400
    }

    /// The text lines without line endings. The first is what followed
    /// `"123 "` or `"123-"`; in a multi-line reply the last is what followed
    /// the closing `"123 "`, and those between are as the server sent them.
    pub fn lines(&self) -> impl ExactSizeIterator<Item = &[u8]> {
        self.lines.iter().map(Vec::as_slice)
    }

    /// The text lines joined with `\n`, as bytes.
    pub fn text_bytes(&self) -> Vec<u8> {
        self.lines.join(&b'\n')
    }

    /// The text lines joined with `\n`; bytes that are not UTF-8 become U+FFFD.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.text_bytes()).into_owned()
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reply")
            .field("code", &self.code)
            .field("text", &self.text())
            .finish()
    }
}

/// `550 No such file`; lines of a multi-line reply are joined with `" | "`
/// and control characters are shown as `?`, so the result is one line that
/// is safe to log.
impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        for (i, line) in self.lines.iter().enumerate() {
            let line = String::from_utf8_lossy(line);
            let line = line.trim();
            if i == 0 {
                f.write_str(" ")?;
            } else if !line.is_empty() {
                f.write_str(" | ")?;
            }
            for c in line.chars() {
                let shown = if c.is_control() { '?' } else { c };
                write!(f, "{shown}")?;
            }
        }
        Ok(())
    }
}
