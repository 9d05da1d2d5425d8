//! Log records: what `-l/--log` and the console show beyond a download's start and end.
//!
//! The engine sends [`crate::Event::Log`] records to its subscribers; the
//! CLI writes them to the log file and the console, each with its own threshold. Detail
//! records (`info`: every connection, request and response head, FTP commands and
//! replies; no record is below `info` yet, so `debug` shows what `info` does) cost a
//! formatted string each, so the engine makes them only when some threshold asks for
//! them ([`Options::log_threshold`](crate::Options)).
//! Secrets never reach a record: `Authorization`, `Proxy-Authorization` and `Cookie`
//! values and FTP passwords are replaced by `********`, as aria2 does.

use std::fmt;

use crate::engine::Engine;
use crate::gid::Gid;
use crate::handle::Event;

/// aria2's log levels, least severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Everything (no record is below `Info` yet, so the same as `Info` today).
    Debug,
    /// Requests and responses.
    Info,
    /// A download started, completed, stopped.
    Notice,
    /// Retries, mirrors dropped, notices from trackers.
    Warn,
    /// A download failed.
    Error,
}

impl LogLevel {
    /// Parses aria2's level names (`debug`, `info`, `notice`, `warn`, `error`).
    pub fn parse(name: &str, value: &str) -> Result<LogLevel, String> {
        Ok(match value {
            "debug" => LogLevel::Debug,
            "info" => LogLevel::Info,
            "notice" => LogLevel::Notice,
            "warn" => LogLevel::Warn,
            "error" => LogLevel::Error,
            _ => {
                return Err(format!(
                    "{name} must be one of debug, info, notice, warn, error; got '{value}'"
                ));
            }
        })
    }

    /// The option value naming it (`warn`).
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Notice => "notice",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

impl fmt::Display for LogLevel {
    /// The tag a log line carries (`WARN`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogLevel::Debug => "DEBUG",
            LogLevel::Info => "INFO",
            LogLevel::Notice => "NOTICE",
            LogLevel::Warn => "WARN",
            LogLevel::Error => "ERROR",
        })
    }
}

/// Header fields whose values stay out of logs.
const SECRET_FIELDS: [&str; 3] = ["authorization", "proxy-authorization", "cookie"];

/// A request or response head as a log shows it: lines without their CRs, the trailing
/// blank line dropped, secret values masked (the auth scheme stays: `Basic ********`).
pub fn masked_head(head: &[u8]) -> String {
    let text = String::from_utf8_lossy(head);
    let mut out = String::with_capacity(text.len());
    for line in text.split("\r\n").filter(|l| !l.is_empty()) {
        if !out.is_empty() {
            out.push('\n');
        }
        match line.split_once(':') {
            Some((name, value))
                if SECRET_FIELDS.contains(&name.trim().to_ascii_lowercase().as_str()) =>
            {
                out.push_str(name);
                out.push_str(": ");
                let value = value.trim();
                let scheme = if name.trim().eq_ignore_ascii_case("cookie") {
                    None
                } else {
                    value.split_once(' ').map(|(s, _)| s)
                };
                if let Some(scheme) = scheme {
                    out.push_str(scheme);
                    out.push(' ');
                }
                out.push_str("********");
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// FTP commands as a log shows them: `PASS` arguments masked.
pub fn masked_ftp_commands(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len());
    for line in text.split("\r\n").filter(|l| !l.is_empty()) {
        if !out.is_empty() {
            out.push('\n');
        }
        if line.len() >= 4 && line[..4].eq_ignore_ascii_case("PASS") {
            out.push_str("PASS ********");
        } else {
            out.push_str(line);
        }
    }
    out
}

impl Engine {
    /// Whether a record at `level` has anyone to read it.
    pub(crate) fn logs(&self, level: LogLevel) -> bool {
        self.global.log_threshold().is_some_and(|t| level >= t)
    }

    /// Sends a record at `level` about `gid` (none: the engine as a whole), built only
    /// when some threshold wants it.
    pub(crate) fn log(
        &mut self,
        level: LogLevel,
        gid: Option<Gid>,
        message: impl FnOnce() -> String,
    ) {
        if self.logs(level) {
            self.emit(Event::Log(level, gid, message()));
        }
    }

    /// A record about connection `key` (aria2's `CUID#n - ` prefix).
    pub(crate) fn log_conn(
        &mut self,
        level: LogLevel,
        gid: Gid,
        key: usize,
        message: impl FnOnce() -> String,
    ) {
        self.log(level, Some(gid), || format!("CUID#{key} - {}", message()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_lose_their_secrets_but_keep_the_scheme() {
        let head = b"GET /f HTTP/1.1\r\nHost: a\r\nAuthorization: Basic dXNlcjpwdw==\r\n\
                     Proxy-Authorization: Basic eDp5\r\nCookie: id=42; s=1\r\n\r\n";
        assert_eq!(
            masked_head(head),
            "GET /f HTTP/1.1\nHost: a\nAuthorization: Basic ********\n\
             Proxy-Authorization: Basic ********\nCookie: ********"
        );
    }

    #[test]
    fn ftp_passwords_are_masked() {
        assert_eq!(
            masked_ftp_commands(b"USER bob\r\nPASS hunter2\r\nTYPE I\r\n"),
            "USER bob\nPASS ********\nTYPE I"
        );
    }

    #[test]
    fn levels_parse_and_order_as_aria2_names_them() {
        assert_eq!(LogLevel::parse("log-level", "warn"), Ok(LogLevel::Warn));
        assert!(LogLevel::Debug < LogLevel::Info && LogLevel::Warn < LogLevel::Error);
        assert_eq!(
            LogLevel::parse("log-level", "loud").unwrap_err(),
            "log-level must be one of debug, info, notice, warn, error; got 'loud'"
        );
    }
}
